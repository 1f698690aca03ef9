/*
 * Rules of the verification pipeline. Every comparison of money is done in integer cents
 * (DTI < 0.40 is debt * 100 < income * 40), so the boundaries the product defines are exact:
 * 0.3999 passes, 0.4000 fails, 3 x income passes and one cent more fails.
 *
 * Findings are of two kinds: hard failures (a format rejection, a sanctions hit, a FATF
 * call-for-action country, any eligibility rule), which no officer can override, and review
 * flags (documents outstanding, possible sanctions match, PEP, senior-employee relative,
 * monitored country, high value), which send the application to the queue until an officer
 * clears them by approving.
 */
#include "loan.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "js.h"
#include "validate.h"

#define CENTS(units) ((int64_t)(units) * 100)
#define MIN_INCOME CENTS(30000)
#define MAX_LOAN CENTS(1000000)
#define HIGH_VALUE CENTS(500000)
#define MIN_SCORE 650

static const char *const status_names[] = {"PENDING", "APPROVED", "REJECTED"};
static const char *const flag_names[LOAN_FLAG_COUNT] = {
    "documents_outstanding", "sanctions_review",   "pep",           "senior_relative",
    "country_monitoring",    "high_value",         "manual_review", "screening_unavailable",
};
static const char *const required_docs[] = {"ID_Proof", "Income_Statement", "Address_Proof"};
static const char *const regions[] = {"APAC", "EMEA", "AMERICAS", "MEA", "NA", "SA", "EU", "ASIA"};

const char *loan_status_name(enum loan_status s)
{
    return (unsigned)s < 3 ? status_names[s] : "PENDING";
}

const char *loan_flag_name(unsigned flag_bit)
{
    for (unsigned i = 0; i < LOAN_FLAG_COUNT; i++)
        if (flag_bit == 1u << i)
            return flag_names[i];
    return "unknown";
}

const char *loan_money(int64_t cents, char *buf, size_t len)
{
    char digits[32];
    int64_t a = cents < 0 ? -cents : cents;
    int n = snprintf(digits, sizeof(digits), "%" PRId64, a / 100);
    size_t o = 0;
    if (cents < 0 && o + 1 < len)
        buf[o++] = '-';
    for (int i = 0; i < n && o + 2 < len; i++) {
        if (i > 0 && (n - i) % 3 == 0)
            buf[o++] = ',';
        buf[o++] = digits[i];
    }
    snprintf(buf + o, len - o, ".%02" PRId64, a % 100);
    return buf;
}

int loan_region_valid(const char *region, char out[16])
{
    for (size_t i = 0; i < sizeof(regions) / sizeof(regions[0]); i++) {
        if (!strcasecmp(region, regions[i])) {
            snprintf(out, 16, "%s", regions[i]);
            return 1;
        }
    }
    return 0;
}

static void required(int rc, json_object *fields, const char *key)
{
    if (rc == 0)
        js_field_error(fields, key, "is required");
}

int loan_parse(json_object *body, struct loan_input *in, json_object *fields, int full)
{
    memset(in, 0, sizeof(*in));
    in->city = NULL;
    in->loan_purpose = "";
    required(js_string(body, "name", 200, &in->name, fields), fields, "name");
    required(js_string(body, "email", 254, &in->email, fields), fields, "email");
    required(js_money(body, "income", LOAN_MAX_CENTS, &in->income, fields), fields, "income");
    required(js_money(body, "debt", LOAN_MAX_CENTS, &in->debt, fields), fields, "debt");
    int64_t score = 0;
    required(js_int(body, "credit_score", 300, 900, &score, fields), fields, "credit_score");
    in->credit_score = (int)score;
    int rc = js_money(body, "loan_amount", LOAN_MAX_CENTS, &in->loan_amount, fields);
    if (!full)
        return json_object_object_length(fields) > 0 ? -1 : 0;
    required(rc, fields, "loan_amount");

    required(js_string(body, "phone", 40, &in->phone, fields), fields, "phone");
    const char *region = NULL;
    rc = js_string(body, "region", 32, &region, fields);
    required(rc, fields, "region");
    if (rc > 0 && !loan_region_valid(region, in->region))
        js_field_error(fields, "region",
                       "must be one of APAC, EMEA, AMERICAS, MEA, NA, SA, EU, ASIA");
    required(js_string(body, "country", 100, &in->country, fields), fields, "country");
    if (js_string(body, "city", 100, &in->city, fields) <= 0)
        in->city = NULL;
    (void)js_string(body, "loan_purpose", 500, &in->loan_purpose, fields);
    (void)js_bool(body, "documents_uploaded", &in->documents_uploaded, fields);
    (void)js_bool(body, "political_connection", &in->political_connection, fields);
    (void)js_bool(body, "senior_relative", &in->senior_relative, fields);

    json_object *docs;
    if (json_object_object_get_ex(body, "documents", &docs) && docs != NULL) {
        if (!json_object_is_type(docs, json_type_array)) {
            js_field_error(fields, "documents", "must be an array of document names");
        } else if (json_object_array_length(docs) > LOAN_MAX_DOCS) {
            js_field_error(fields, "documents", "must list at most 16 documents");
        } else {
            for (size_t i = 0; i < json_object_array_length(docs); i++) {
                json_object *d = json_object_array_get_idx(docs, i);
                if (!json_object_is_type(d, json_type_string) ||
                    json_object_get_string_len(d) == 0 || json_object_get_string_len(d) > 64 ||
                    strlen(json_object_get_string(d)) != (size_t)json_object_get_string_len(d)) {
                    js_field_error(fields, "documents",
                                   "must contain document names of 1 to 64 characters");
                    break;
                }
                in->documents[in->ndocs++] = json_object_get_string(d);
            }
        }
    }
    return json_object_object_length(fields) > 0 ? -1 : 0;
}

/* Appends "; "-separated text to a stage's remarks. */
static void remark(struct stage *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void remark(struct stage *s, const char *fmt, ...)
{
    size_t used = strlen(s->remarks);
    if (used + 3 >= sizeof(s->remarks))
        return;
    if (used) {
        memcpy(s->remarks + used, "; ", 3);
        used += 2;
    }
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->remarks + used, sizeof(s->remarks) - used, fmt, ap);
    va_end(ap);
}

static void hard(struct loan_result *out, const char *rule)
{
    out->hard_failures++;
    size_t used = strlen(out->hard_rules);
    snprintf(out->hard_rules + used, sizeof(out->hard_rules) - used, "%s%s", used ? ", " : "",
             rule);
}

/* Raises a review flag unless an officer cleared it; returns 1 when it still stands. */
static int flag(struct loan_result *out, unsigned bit, unsigned cleared)
{
    if (cleared & bit)
        return 0;
    out->flags |= bit;
    return 1;
}

void loan_kyc(const struct loan_input *in, unsigned cleared, struct loan_result *out)
{
    struct stage *s = &out->kyc;
    int rejected = 0;
    if (!val_name(in->name)) {
        remark(s, "Name must be 3 to 100 characters and contain a letter");
        hard(out, "kyc_name");
        rejected = 1;
    }
    if (!val_email(in->email)) {
        remark(s, "Email address is not valid");
        hard(out, "kyc_email");
        rejected = 1;
    }
    if (!val_phone(in->phone)) {
        remark(s, "Phone number must have 10 to 15 digits (+, spaces, dashes and parentheses "
                  "allowed)");
        hard(out, "kyc_phone");
        rejected = 1;
    }
    char missing[128] = "";
    for (size_t i = 0; i < sizeof(required_docs) / sizeof(required_docs[0]); i++) {
        int have = 0;
        for (int d = 0; d < in->ndocs && in->documents_uploaded; d++)
            if (!strcmp(in->documents[d], required_docs[i]))
                have = 1;
        if (!have) {
            size_t used = strlen(missing);
            snprintf(missing + used, sizeof(missing) - used, "%s%s", used ? ", " : "",
                     required_docs[i]);
        }
    }
    int pending = 0;
    if (missing[0]) {
        if (flag(out, FLAG_DOCUMENTS, cleared)) {
            remark(s, "Documents outstanding: %s", missing);
            pending = 1;
        } else {
            remark(s, "Documents outstanding (%s) cleared by the reviewing officer", missing);
        }
    }
    s->status = rejected ? LOAN_REJECTED : pending ? LOAN_PENDING : LOAN_APPROVED;
    if (s->status == LOAN_APPROVED && !s->remarks[0])
        remark(s, "Identity, contact details and documents verified");
}

void loan_compliance(const struct loan_input *in, const struct compliance_facts *f,
                     const struct loan_policy *p, unsigned cleared, struct loan_result *out)
{
    struct stage *s = &out->compliance;
    int rejected = 0, pending = 0;
    char m[32];

    if (f->country_risk == RISK_CALL_FOR_ACTION) {
        remark(s, "%s is a FATF high-risk jurisdiction subject to a call for action",
               f->country_name ? f->country_name : "The country");
        hard(out, "country_risk");
        rejected = 1;
    }
    if (!f->screened) {
        if (flag(out, FLAG_SCREENING_UNAVAILABLE, cleared)) {
            remark(s, "Sanctions screening unavailable: no list loaded");
            pending = 1;
        } else {
            remark(s, "Sanctions screening unavailable; screened manually by the reviewing "
                      "officer");
        }
    } else if (f->sanctions_score >= p->sanctions_block) {
        remark(s, "Sanctions match: \"%s\" (%s %s entry %lld, score %.4f)",
               f->sanctions_name ? f->sanctions_name : "?", f->sanctions_list,
               f->sanctions_version, f->sanctions_entry, f->sanctions_score);
        hard(out, "sanctions");
        rejected = 1;
    } else if (f->sanctions_score >= p->sanctions_review) {
        if (flag(out, FLAG_SANCTIONS_REVIEW, cleared)) {
            remark(s, "Possible sanctions match for review: \"%s\" (%s entry %lld, score %.4f)",
                   f->sanctions_name ? f->sanctions_name : "?", f->sanctions_list,
                   f->sanctions_entry, f->sanctions_score);
            pending = 1;
        } else {
            remark(s, "Possible sanctions match (score %.4f) cleared by the reviewing officer",
                   f->sanctions_score);
        }
    }
    if (in->political_connection || f->pep_name) {
        if (flag(out, FLAG_PEP, cleared)) {
            if (f->pep_name)
                remark(s, "Politically exposed person: matches \"%s\" on the PEP list; enhanced "
                          "due diligence required", f->pep_name);
            else
                remark(s, "Political connection declared; enhanced due diligence required");
            pending = 1;
        } else {
            remark(s, "Politically exposed person: enhanced due diligence done by the reviewing "
                      "officer");
        }
    }
    if (in->senior_relative || f->senior_name) {
        if (flag(out, FLAG_SENIOR_RELATIVE, cleared)) {
            if (f->senior_name)
                remark(s, "Possible relative of senior employee %s", f->senior_name);
            else
                remark(s, "Relative of a senior employee declared");
            pending = 1;
        } else {
            remark(s, "Senior-employee relationship reviewed by the reviewing officer");
        }
    }
    if (f->country_risk == RISK_MONITORING) {
        if (flag(out, FLAG_COUNTRY_MONITORING, cleared)) {
            remark(s, "%s is under FATF increased monitoring",
                   f->country_name ? f->country_name : "The country");
            pending = 1;
        } else {
            remark(s, "FATF increased-monitoring country reviewed by the reviewing officer");
        }
    }
    if (in->loan_amount > HIGH_VALUE) {
        if (flag(out, FLAG_HIGH_VALUE, cleared)) {
            remark(s, "High-value loan of %s (over 500,000.00) flagged for review",
                   loan_money(in->loan_amount, m, sizeof(m)));
            pending = 1;
        } else {
            remark(s, "High-value loan reviewed by the reviewing officer");
        }
    }
    s->status = rejected ? LOAN_REJECTED : pending ? LOAN_PENDING : LOAN_APPROVED;
    if (s->status == LOAN_APPROVED && !s->remarks[0])
        remark(s, "No sanctions, PEP, related-party or country-risk findings");
}

void loan_eligibility(const struct loan_input *in, int check_loan, struct loan_result *out)
{
    struct stage *s = &out->eligibility;
    char a[32], b[32];
    out->nreasons = 0;
    out->has_dti = in->income > 0;
    out->dti = out->has_dti ? (double)in->debt / (double)in->income : 0.0;
    if (in->income < MIN_INCOME) {
        remark(s, "Income %s is below the 30,000.00 minimum", loan_money(in->income, a, sizeof(a)));
        out->reasons[out->nreasons++] = "Income is below the 30,000 minimum";
        hard(out, "income");
    }
    /* DTI < 0.40  <=>  debt * 100 < income * 40, exactly, in cents. */
    if (!out->has_dti || in->debt * 100 >= in->income * 40) {
        if (out->has_dti)
            remark(s, "Debt-to-income ratio %.4f is not below 0.40", out->dti);
        else
            remark(s, "Debt-to-income ratio cannot be computed without income");
        out->reasons[out->nreasons++] = "Debt-to-income ratio must be below 0.40";
        hard(out, "dti");
    }
    if (in->credit_score < MIN_SCORE) {
        remark(s, "Credit score %d is below 650", in->credit_score);
        out->reasons[out->nreasons++] = "Credit score must be at least 650";
        hard(out, "credit_score");
    }
    if (check_loan && in->loan_amount > 3 * in->income) {
        remark(s, "Loan amount %s exceeds 3 x income (%s)",
               loan_money(in->loan_amount, a, sizeof(a)), loan_money(3 * in->income, b, sizeof(b)));
        out->reasons[out->nreasons++] = "Loan amount must not exceed 3 x income";
        hard(out, "loan_to_income");
    }
    if (check_loan && in->loan_amount > MAX_LOAN) {
        remark(s, "Loan amount %s exceeds the 1,000,000.00 maximum",
               loan_money(in->loan_amount, a, sizeof(a)));
        out->reasons[out->nreasons++] = "Loan amount must not exceed 1,000,000";
        hard(out, "max_loan");
    }
    out->eligible = out->nreasons == 0;
    int64_t cap = 3 * in->income < MAX_LOAN ? 3 * in->income : MAX_LOAN;
    out->max_loan_amount = out->eligible ? cap : 0;
    s->status = out->eligible ? LOAN_APPROVED : LOAN_REJECTED;
    if (out->eligible)
        remark(s, "DTI %.4f, credit score %d, loan within 3 x income and the 1,000,000.00 cap",
               out->dti, in->credit_score);
}

void loan_decide(const struct loan_policy *p, unsigned cleared, struct loan_result *out)
{
    struct stage *s = &out->final;
    const struct stage *stages[3] = {&out->kyc, &out->compliance, &out->eligibility};
    const char *names[3] = {"KYC", "compliance", "eligibility"};
    int rejected = 0, pending = 0;
    for (int i = 0; i < 3; i++) {
        rejected |= stages[i]->status == LOAN_REJECTED;
        pending |= stages[i]->status == LOAN_PENDING;
    }
    if (p->manual_review && cleared == 0) {
        out->flags |= FLAG_MANUAL_REVIEW;
        s->status = LOAN_PENDING;
        remark(s, "Waiting for an officer's review (manual review mode)");
        return;
    }
    if (rejected) {
        s->status = LOAN_REJECTED;
        for (int i = 0; i < 3; i++)
            if (stages[i]->status == LOAN_REJECTED)
                remark(s, "Rejected at %s: %s", names[i], stages[i]->remarks);
    } else if (pending) {
        s->status = LOAN_PENDING;
        char list[256] = "";
        for (unsigned b = 0; b < LOAN_FLAG_COUNT; b++) {
            if (out->flags & (1u << b)) {
                size_t used = strlen(list);
                snprintf(list + used, sizeof(list) - used, "%s%s", used ? ", " : "",
                         flag_names[b]);
            }
        }
        remark(s, "Waiting for review: %s", list);
    } else {
        s->status = LOAN_APPROVED;
        remark(s, "All verification stages passed");
    }
}

void loan_evaluate(const struct loan_input *in, const struct compliance_facts *f,
                   const struct loan_policy *p, unsigned cleared, struct loan_result *out)
{
    memset(out, 0, sizeof(*out));
    loan_kyc(in, cleared, out);
    loan_compliance(in, f, p, cleared, out);
    loan_eligibility(in, 1, out);
    loan_decide(p, cleared, out);
}
