/*
 * The verification pipeline's rules as pure functions: parse and validate an application,
 * then KYC, compliance, eligibility and the decision, each from facts the caller looked up
 * (country, sanctions match, PEP and senior-employee matches, country risk). Amounts are integer
 * cents throughout; only ratios are doubles. No I/O here, so every rule is unit-tested at its
 * boundary without a server.
 */
#ifndef LOANFLOW_LOAN_H
#define LOANFLOW_LOAN_H

#include <json-c/json.h>
#include <stddef.h>
#include <stdint.h>

enum loan_status { LOAN_PENDING = 0, LOAN_APPROVED = 1, LOAN_REJECTED = 2 };
const char *loan_status_name(enum loan_status s);

#define LOAN_MAX_DOCS 16
#define LOAN_MAX_CENTS 99999999999999LL /* NUMERIC(14,2): 999,999,999,999.99 */

/* Review flags: why an application waits for an officer. An officer's approval clears them. */
enum loan_flag {
    FLAG_DOCUMENTS = 1u << 0,          /* documents_outstanding */
    FLAG_SANCTIONS_REVIEW = 1u << 1,   /* sanctions_review */
    FLAG_PEP = 1u << 2,                /* pep */
    FLAG_SENIOR_RELATIVE = 1u << 3,    /* senior_relative */
    FLAG_COUNTRY_MONITORING = 1u << 4, /* country_monitoring */
    FLAG_HIGH_VALUE = 1u << 5,         /* high_value */
    FLAG_MANUAL_REVIEW = 1u << 6,      /* manual_review (REVIEW_MODE=manual) */
    FLAG_SCREENING_UNAVAILABLE = 1u << 7, /* screening_unavailable: no list loaded */
};
#define LOAN_FLAG_COUNT 8
const char *loan_flag_name(unsigned flag_bit);

struct loan_input {
    const char *name, *email, *phone, *city, *country, *loan_purpose; /* borrowed */
    char region[16];  /* upper case */
    int64_t income, debt, loan_amount; /* cents */
    int credit_score;
    int documents_uploaded;
    const char *documents[LOAN_MAX_DOCS];
    int ndocs;
    int political_connection, senior_relative; /* declared by the applicant */
};

/*
 * Validates a submit body (full = 1) or a POST /loan body (full = 0: name, email, income, debt,
 * credit_score; loan_amount optional) into *in. Every problem is added to fields (the caller's
 * object) under the field's name. Strings in *in are borrowed from body. Returns 0 when valid.
 */
int loan_parse(json_object *body, struct loan_input *in, json_object *fields, int full);
/* 1 when region (any case) is one of APAC EMEA AMERICAS MEA NA SA EU ASIA; writes upper case. */
int loan_region_valid(const char *region, char out[16]);

enum country_risk { RISK_NONE = 0, RISK_MONITORING = 1, RISK_CALL_FOR_ACTION = 2 };

/* What the caller found out about the applicant before compliance. Strings borrowed. */
struct compliance_facts {
    int screened;             /* a sanctions list was available and searched */
    double sanctions_score;   /* best score, 0 when nothing came near */
    long long sanctions_entry;
    const char *sanctions_name, *sanctions_list, *sanctions_version;
    const char *pep_name;     /* non-NULL: the name is on the PEP list */
    const char *senior_name;  /* non-NULL: a senior employee's surname with same phone or city */
    enum country_risk country_risk;
    const char *country_name;
};

struct loan_policy {
    double sanctions_block, sanctions_review;
    int manual_review;        /* REVIEW_MODE=manual: every new submission waits first */
};

struct stage {
    enum loan_status status;
    char remarks[768];
};

struct loan_result {
    struct stage kyc, compliance, eligibility, final;
    unsigned flags;           /* review flags still standing (after clearance) */
    unsigned hard_failures;   /* count of rules no officer can clear */
    char hard_rules[512];     /* "credit_score, dti" … for a 409 */
    int has_dti;
    double dti;               /* debt / income, when income > 0 */
    int64_t max_loan_amount;  /* min(3 x income, 1,000,000) in cents, 0 when not eligible */
    int eligible;
    const char *reasons[8];   /* failed eligibility rules, static strings */
    int nreasons;
};

/* KYC from the input alone (country already validated by the caller). */
void loan_kyc(const struct loan_input *in, unsigned cleared, struct loan_result *out);
/* Compliance from the facts. */
void loan_compliance(const struct loan_input *in, const struct compliance_facts *f,
                     const struct loan_policy *p, unsigned cleared, struct loan_result *out);
/* Eligibility: DTI < 0.40, score >= 650, loan <= 3 x income, loan <= 1,000,000, income >= 30,000. */
void loan_eligibility(const struct loan_input *in, int check_loan, struct loan_result *out);
/* The decision from the three stages. */
void loan_decide(const struct loan_policy *p, unsigned cleared, struct loan_result *out);

/*
 * The whole pipeline. cleared: flags an officer has cleared (0 on submission). With
 * p->manual_review and cleared == 0 the result waits for review whatever the stages say.
 */
void loan_evaluate(const struct loan_input *in, const struct compliance_facts *f,
                   const struct loan_policy *p, unsigned cleared, struct loan_result *out);

/* Formats cents as "1,234,567.89" into buf. */
const char *loan_money(int64_t cents, char *buf, size_t len);

#endif
