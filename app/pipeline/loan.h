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

#include "screening.h"

#include "risk.h"

enum loan_status { LOAN_PENDING = 0, LOAN_APPROVED = 1, LOAN_REJECTED = 2 };
const char *loan_status_name(enum loan_status s);

#define LOAN_MAX_DOCS  16
#define LOAN_MAX_CENTS 99999999999999LL /* NUMERIC(14,2): 999,999,999,999.99 */

/* Review flags: why an application waits for an officer. An officer's approval clears them. */
enum loan_flag {
    FLAG_DOCUMENTS = 1u << 0,             /* documents_outstanding */
    FLAG_SANCTIONS_REVIEW = 1u << 1,      /* sanctions_review */
    FLAG_PEP = 1u << 2,                   /* pep */
    FLAG_SENIOR_RELATIVE = 1u << 3,       /* senior_relative */
    FLAG_COUNTRY_MONITORING = 1u << 4,    /* country_monitoring */
    FLAG_HIGH_VALUE = 1u << 5,            /* high_value */
    FLAG_MANUAL_REVIEW = 1u << 6,         /* manual_review (REVIEW_MODE=manual) */
    FLAG_SCREENING_UNAVAILABLE = 1u << 7, /* screening_unavailable: no list loaded */
    FLAG_EKYC_REVIEW = 1u << 8,           /* ekyc_review: name or birth date close, not equal */
    FLAG_EKYC_UNAVAILABLE = 1u << 9,    /* ekyc_unavailable: provider timed out, failed or absent */
    FLAG_NO_CREDIT_HISTORY = 1u << 10,  /* no_credit_history: the bureau has no file */
    FLAG_BUREAU_UNAVAILABLE = 1u << 11, /* bureau_unavailable: bureau timed out or failed */
    FLAG_RISK_REVIEW = 1u << 12,        /* risk_review: risk grade D */
    FLAG_PRICING_UNAVAILABLE = 1u << 13, /* pricing_unavailable: no base rate loaded */
    FLAG_IDENTITY_ATTEMPTS = 1u << 14,   /* identity_attempts: the account's identity checks
                                            failed too often today; an officer looks first */
};
#define LOAN_FLAG_COUNT 15
/* Flags an officer's approval cannot clear: they wait for a provider or for data, and a
 * reprocess retries them. */
#define LOAN_FLAGS_RETRY                                                                           \
    (FLAG_EKYC_UNAVAILABLE | FLAG_BUREAU_UNAVAILABLE | FLAG_PRICING_UNAVAILABLE)
const char *loan_flag_name(unsigned flag_bit);

struct loan_input {
    const char *name, *email, *phone, *city, *country, *loan_purpose; /* borrowed */
    char region[16];                                                  /* upper case */
    int64_t income, debt, loan_amount;                                /* cents */
    int credit_score;
    int documents_uploaded;
    const char *documents[LOAN_MAX_DOCS];
    int ndocs;
    int political_connection, senior_relative; /* declared by the applicant */
    /* Indian identity, all optional at parse time ("" when absent); PAN and Aadhaar are
     * required for KYC to pass when the country is India. Clear numbers live only here, for
     * the length of a request. */
    char aadhaar[13];        /* canonical 12 digits */
    char pan[11];            /* upper case */
    char bank_account[19];   /* 9 to 18 digits */
    char ifsc[12];           /* upper case */
    const char *holder_name; /* borrowed; NULL when no bank account */
    char date_of_birth[11];  /* YYYY-MM-DD */
    int tenure_months;       /* 0: the product's default; else 1..LOAN_MAX_TENURE (the product
                                says which are offered) */
};

#define LOAN_MAX_TENURE 600

/*
 * Validates a submit body (full = 1) or a POST /loan body (full = 0: name, email, income, debt,
 * credit_score; loan_amount optional) into *in. Every problem is added to fields (the caller's
 * object) under the field's name. Strings in *in are borrowed from body. Returns 0 when valid.
 */
int loan_parse(json_object *body, struct loan_input *in, json_object *fields, int full);
/* 1 when region (any case) is one of APAC EMEA AMERICAS MEA NA SA EU ASIA; writes upper case. */
int loan_region_valid(const char *region, char out[16]);
/* 1 when s is a calendar date YYYY-MM-DD from 1900 to 2999 (fills y, m, d). */
int loan_date_valid(const char *s, int *y, int *m, int *d);
/* Whole years from dob to the date y-m-d; -1 when dob is not a date, -2 when it is later. */
int loan_age_years(const char *dob, int y, int m, int d);

enum country_risk { RISK_NONE = 0, RISK_MONITORING = 1, RISK_CALL_FOR_ACTION = 2 };

/* What an eKYC provider answered for one check. */
enum ekyc_status {
    EKYC_NOT_CHECKED = 0, /* nothing to check */
    EKYC_VERIFIED,        /* the record exists; see name_score and dob_match */
    EKYC_NOT_FOUND,
    EKYC_TIMEOUT,
    EKYC_ERROR,
    EKYC_DISABLED, /* no provider configured */
};
const char *ekyc_status_name(enum ekyc_status s);
struct ekyc_check {
    enum ekyc_status status;
    double name_score;  /* screen_name_score(record's name, application's), -1 unknown */
    int dob_match;      /* 1 equal, 0 different, -1 not compared */
    char reference[40]; /* the provider's reference for the check */
};

enum bureau_status {
    BUREAU_NOT_CHECKED = 0,
    BUREAU_OK,
    BUREAU_NO_HISTORY,
    BUREAU_TIMEOUT,
    BUREAU_ERROR,
    BUREAU_DISABLED,
};
const char *bureau_status_name(enum bureau_status s);
struct bureau_report {
    enum bureau_status status;
    char bureau[8]; /* CIBIL, CRIF */
    int score;      /* 300-900 when status is BUREAU_OK */
    int active_loans, overdue_accounts, enquiries_6m;
    char reference[40];
};

struct bureau_tier {
    int min_score, max_score;
    int64_t max_loan; /* cents; 0: scores in this tier are rejected */
    char label[32];
};

/* The identity and credit facts gathered from the providers, and the credit policy in force
 * (tier table, risk model, base rate), all borrowed. */
struct identity_facts {
    const char *country_code; /* alpha-2 */
    int has_age;              /* a date of birth was given */
    int age;                  /* whole years from date_of_birth */
    struct ekyc_check aadhaar, pan, bank;
    struct bureau_report bureau;
};
struct credit_policy {
    int tier_version; /* 0: no tier table */
    const struct bureau_tier *tiers;
    int ntiers;
    const struct risk_model *model; /* NULL: no risk scoring */
    int have_base_rate;
    char base_symbol[32];
    int base_bps;
    char base_as_of[11];
};

/* What the caller found out about the applicant before compliance. Strings borrowed. */
struct compliance_facts {
    int screened;           /* a sanctions list was available and searched */
    double sanctions_score; /* best score, 0 when nothing came near */
    long long sanctions_entry;
    const char *sanctions_name, *sanctions_list, *sanctions_version;
    /* screen_search's verdict on the best candidate (judged = 1); with judged = 0 the score
     * alone decides against the policy's thresholds */
    int sanctions_judged;
    int sanctions_level;             /* enum screen_level */
    screen_candidate sanctions_best; /* valid when sanctions_level > 0 or the score came near */
    int sanctions_has_best;
    int name_unscreenable;   /* the name has nothing a list could match (no Latin letters) */
    const char *pep_name;    /* non-NULL: the name is on the PEP list */
    const char *senior_name; /* non-NULL: a senior employee's surname with same phone or city */
    enum country_risk country_risk;
    const char *country_name;
    struct identity_facts id;
    struct credit_policy credit;
    int identity_hold; /* the submitting account failed identity checks LOAN_IDENTITY_ATTEMPTS
                          times today: the submission waits for an officer whatever the stages
                          say (unless cleared) */
};

struct loan_policy {
    double sanctions_block, sanctions_review;
    int manual_review; /* REVIEW_MODE=manual: every new submission waits first */
};

struct stage {
    enum loan_status status;
    char remarks[768];
};

struct loan_result {
    struct stage kyc, compliance, eligibility, final;
    unsigned flags;         /* review flags still standing (after clearance) */
    unsigned hard_failures; /* count of rules no officer can clear */
    char hard_rules[512];   /* "credit_score, dti" … for a 409 */
    int has_dti;
    double dti;              /* debt / income, when income > 0 */
    int64_t max_loan_amount; /* min(3 x income, 1,000,000) in cents, 0 when not eligible */
    int eligible;
    const char *reasons[8]; /* failed eligibility rules, static strings */
    int nreasons;
    int effective_score; /* the bureau's score when it has one, else the declared score */
    int tier_applied;    /* a bureau tier decided the limit */
    int64_t tier_limit;  /* cents, 0 when the tier rejects */
    int has_risk;
    struct risk_result risk;
    int has_rate;
    int rate_bps, spread_bps; /* annual rate offered = base rate + the grade's spread */
};

/* Failed identity attempts (eKYC mismatches and numbers not found) of one account in a day
 * after which its further Indian submissions wait for an officer. */
#define LOAN_IDENTITY_ATTEMPTS 3

/*
 * 1 when the eKYC answers make the PAN the applicant's own: the PAN's check verified it and the
 * name on record is not another person's (at least the review threshold, or no name to compare),
 * and the Aadhaar check, when one was made, did the same. Only then is the credit bureau asked
 * about the PAN: a stranger's PAN must not fetch that stranger's credit report.
 */
int loan_identity_confirmed(const struct identity_facts *id);

/* KYC from the input and the eKYC answers (country already validated by the caller). */
void loan_kyc(const struct loan_input *in, const struct identity_facts *id, unsigned cleared,
              struct loan_result *out);
/* Compliance from the facts. */
void loan_compliance(const struct loan_input *in, const struct compliance_facts *f,
                     const struct loan_policy *p, unsigned cleared, struct loan_result *out);
/*
 * Eligibility: DTI < 0.40, score >= 650, loan <= 3 x income, loan <= 1,000,000, income >= 30,000;
 * with a bureau report (f non-NULL), the bureau's score and its tier's limit, then the risk
 * model's grade and the price. f NULL: the declared figures alone (POST /loan).
 */
void loan_eligibility(const struct loan_input *in, const struct compliance_facts *f,
                      unsigned cleared, int check_loan, struct loan_result *out);
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
