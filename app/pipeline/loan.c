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

#define CENTS(units) ((int64_t)(units)*100)
#define MIN_INCOME   CENTS(30000)
#define MAX_LOAN     CENTS(1000000)
#define HIGH_VALUE   CENTS(500000)
#define MIN_SCORE    650
/* eKYC name scores (screen_name_score of the record's name against the application's): at or
 * above NAME_MATCH the names agree; from NAME_REVIEW an officer looks; below, they differ. */
#define NAME_MATCH  0.90
#define NAME_REVIEW 0.80
#define MIN_AGE     18

static const char *const status_names[] = {"PENDING", "APPROVED", "REJECTED"};
static const char *const flag_names[LOAN_FLAG_COUNT] = {
    "documents_outstanding", "sanctions_review",      "pep",
    "senior_relative",       "country_monitoring",    "high_value",
    "manual_review",         "screening_unavailable", "ekyc_review",
    "ekyc_unavailable",      "no_credit_history",     "bureau_unavailable",
    "risk_review",           "pricing_unavailable",
};
static const char *const ekyc_names[] = {"NOT_CHECKED", "VERIFIED", "NOT_FOUND",
                                         "TIMEOUT",     "ERROR",    "DISABLED"};
static const char *const bureau_names[] = {"NOT_CHECKED", "OK",    "NO_HISTORY",
                                           "TIMEOUT",     "ERROR", "DISABLED"};

const char *ekyc_status_name(enum ekyc_status s)
{
    return (unsigned)s < sizeof(ekyc_names) / sizeof(ekyc_names[0]) ? ekyc_names[s] : "ERROR";
}

const char *bureau_status_name(enum bureau_status s)
{
    return (unsigned)s < sizeof(bureau_names) / sizeof(bureau_names[0]) ? bureau_names[s] : "ERROR";
}
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

/*
 * The initials the PAN's 5th letter may be: those of the name's words that start with a Latin
 * letter, upper case, last word first (the surname is usually written last, but in much of
 * South India the family name or its initial comes first: "K. Ramesh"). "" when a word of the
 * name is not written in Latin letters (it may be the surname), and the rule is then not
 * checked.
 */
static void name_initials(const char *name, char out[16])
{
    size_t n = 0;
    out[0] = '\0';
    if (name == NULL)
        return;
    for (const char *p = name + strlen(name); p > name && n < 15; p--) {
        const char *w = p - 1;
        if (*w == ' ' || *w == '.' || !(w == name || w[-1] == ' ' || w[-1] == '.'))
            continue;
        if ((*w >= 'A' && *w <= 'Z') || (*w >= 'a' && *w <= 'z')) {
            char c = (char)(*w & ~0x20);
            if (strchr(out, c) == NULL) {
                out[n++] = c;
                out[n] = '\0';
            }
        } else if ((unsigned char)*w >= 0x80) {
            out[0] = '\0';
            return;
        }
    }
}

/* A string member of a nested object, reported under "parent.key". 1 present, 0 absent, -1 bad. */
static int sub_string(json_object *obj, const char *parent, const char *key, size_t max,
                      const char **out, json_object *fields)
{
    json_object *tmp = json_object_new_object();
    int rc = js_string(obj, key, max, out, tmp);
    char path[64];
    snprintf(path, sizeof(path), "%s.%s", parent, key);
    json_object_object_foreach(tmp, k, v)
    {
        (void)k;
        js_field_error(fields, path, json_object_get_string(v));
    }
    json_object_put(tmp);
    if (rc == 0)
        js_field_error(fields, path, "is required");
    return rc;
}

int loan_date_valid(const char *s, int *y, int *m, int *d)
{
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (s == NULL || strlen(s) != 10 || s[4] != '-' || s[7] != '-')
        return 0;
    for (int i = 0; i < 10; i++)
        if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
            return 0;
    *y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
    *m = (s[5] - '0') * 10 + (s[6] - '0');
    *d = (s[8] - '0') * 10 + (s[9] - '0');
    if (*y < 1900 || *y > 2999 || *m < 1 || *m > 12 || *d < 1)
        return 0;
    int leap = (*y % 4 == 0 && *y % 100 != 0) || *y % 400 == 0;
    return *d <= mdays[*m - 1] + (*m == 2 && leap);
}

int loan_age_years(const char *dob, int y, int m, int d)
{
    int by, bm, bd;
    if (!loan_date_valid(dob, &by, &bm, &bd))
        return -1;
    if (by > y || (by == y && (bm > m || (bm == m && bd > d))))
        return -2;
    int age = y - by;
    if (m < bm || (m == bm && d < bd))
        age--;
    return age;
}

/* Aadhaar, PAN, bank account and date of birth: formats here, the rest is KYC's. */
static void parse_identity(json_object *body, struct loan_input *in, json_object *fields)
{
    const char *s = NULL;
    if (js_string(body, "aadhaar", 32, &s, fields) > 0 && !val_aadhaar_canon(s, in->aadhaar))
        js_field_error(fields, "aadhaar",
                       "must be 12 digits (or 4-4-4 separated by single spaces), the first 2 to "
                       "9, ending in a valid Verhoeff check digit");
    if (js_string(body, "pan", 32, &s, fields) > 0) {
        char up[11] = "", initials[16];
        size_t n = strlen(s);
        if (n == 10)
            for (size_t i = 0; i <= n; i++)
                up[i] = (s[i] >= 'a' && s[i] <= 'z') ? (char)(s[i] - 32) : s[i];
        name_initials(in->name, initials);
        int rc = val_pan(n == 10 ? up : s, NULL);
        int initial_ok = !initials[0];
        for (size_t i = 0; initials[i] && !initial_ok; i++) {
            char one[2] = {initials[i], '\0'};
            initial_ok = val_pan(up, one) == VAL_PAN_OK;
        }
        if (rc == VAL_PAN_ERR_FORMAT) {
            js_field_error(fields, "pan",
                           "must be 5 letters, 4 digits and a letter, e.g. AAAPZ9999Z");
        } else if (up[3] != 'P') {
            js_field_error(fields, "pan", "4th character must be P: loans are made to individuals");
        } else if (!initial_ok) {
            char msg[96];
            snprintf(msg, sizeof(msg),
                     "5th character must be the initial of the surname (one of %s)", initials);
            js_field_error(fields, "pan", msg);
        } else {
            memcpy(in->pan, up, sizeof(in->pan));
        }
    }
    json_object *ba;
    if (json_object_object_get_ex(body, "bank_account", &ba) && ba != NULL) {
        if (!json_object_is_type(ba, json_type_object)) {
            js_field_error(fields, "bank_account",
                           "must be an object with account_number, ifsc and holder_name");
        } else {
            const char *acct = NULL, *ifsc = NULL, *holder = NULL;
            if (sub_string(ba, "bank_account", "account_number", 32, &acct, fields) > 0) {
                if (!val_account_number(acct))
                    js_field_error(fields, "bank_account.account_number", "must be 9 to 18 digits");
                else
                    snprintf(in->bank_account, sizeof(in->bank_account), "%s", acct);
            }
            if (sub_string(ba, "bank_account", "ifsc", 32, &ifsc, fields) > 0) {
                char up[12] = "";
                if (strlen(ifsc) == 11)
                    for (size_t i = 0; i <= 11; i++)
                        up[i] = (ifsc[i] >= 'a' && ifsc[i] <= 'z') ? (char)(ifsc[i] - 32) : ifsc[i];
                if (!val_ifsc(up))
                    js_field_error(fields, "bank_account.ifsc",
                                   "must be 4 letters, a zero and 6 letters or digits, e.g. "
                                   "HDFC0001234");
                else
                    memcpy(in->ifsc, up, sizeof(in->ifsc));
            }
            if (sub_string(ba, "bank_account", "holder_name", 200, &holder, fields) > 0) {
                if (!val_name(holder))
                    js_field_error(fields, "bank_account.holder_name",
                                   "must be 3 to 100 characters and contain a letter");
                else
                    in->holder_name = holder;
            }
        }
    }
    if (js_string(body, "date_of_birth", 32, &s, fields) > 0) {
        int y, m, d;
        if (!loan_date_valid(s, &y, &m, &d))
            js_field_error(fields, "date_of_birth", "must be a date YYYY-MM-DD from 1900 on");
        else
            memcpy(in->date_of_birth, s, 11);
    }
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
    parse_identity(body, in, fields);

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

/* One eKYC answer into the KYC stage. what: "Aadhaar", "PAN", "Bank account"; rule: the hard
 * rule's suffix. *rejected / *pending are raised as the answer calls for. */
static void ekyc_rule(const struct ekyc_check *c, const char *what, const char *rule,
                      unsigned cleared, struct loan_result *out, int *rejected, int *pending)
{
    struct stage *s = &out->kyc;
    char hr[48];
    switch (c->status) {
    case EKYC_NOT_CHECKED:
        return;
    case EKYC_DISABLED:
    case EKYC_TIMEOUT:
    case EKYC_ERROR:
        flag(out, FLAG_EKYC_UNAVAILABLE, cleared & ~LOAN_FLAGS_RETRY);
        remark(s, "%s not verified: %s; reprocess to retry", what,
               c->status == EKYC_DISABLED  ? "no eKYC provider is configured"
               : c->status == EKYC_TIMEOUT ? "the eKYC provider timed out"
                                           : "the eKYC provider failed");
        *pending = 1;
        return;
    case EKYC_NOT_FOUND:
        remark(s, "%s not found by the eKYC provider", what);
        snprintf(hr, sizeof(hr), "kyc_%s_not_found", rule);
        hard(out, hr);
        *rejected = 1;
        return;
    case EKYC_VERIFIED:
        break;
    }
    /* The name on record is never quoted: an applicant who typed someone else's number must not
     * learn whose it is. */
    if (c->name_score < 0) {
        if (flag(out, FLAG_EKYC_REVIEW, cleared)) {
            remark(s, "%s found, but the provider returned no name to compare; review", what);
            *pending = 1;
        } else {
            remark(s, "%s holder's name checked by the reviewing officer", what);
        }
    } else if (c->name_score < NAME_REVIEW) {
        remark(s, "%s is registered to another name (name score %.2f)", what, c->name_score);
        snprintf(hr, sizeof(hr), "kyc_%s_name", rule);
        hard(out, hr);
        *rejected = 1;
        return;
    } else if (c->name_score < NAME_MATCH) {
        if (flag(out, FLAG_EKYC_REVIEW, cleared)) {
            remark(s,
                   "%s name on record is close to the applicant's but not equal (score %.2f); "
                   "review",
                   what, c->name_score);
            *pending = 1;
        } else {
            remark(s, "%s name (score %.2f) accepted by the reviewing officer", what,
                   c->name_score);
        }
    } else {
        remark(s, "%s verified (name score %.2f)", what, c->name_score);
    }
    if (c->dob_match == 0) {
        if (flag(out, FLAG_EKYC_REVIEW, cleared)) {
            remark(s, "Date of birth differs from the %s record; review", what);
            *pending = 1;
        } else {
            remark(s,
                   "Date of birth difference on the %s record accepted by the reviewing "
                   "officer",
                   what);
        }
    }
}

void loan_kyc(const struct loan_input *in, const struct identity_facts *id, unsigned cleared,
              struct loan_result *out)
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
    if (id != NULL) {
        int india = id->country_code != NULL && !strcmp(id->country_code, "IN");
        if (india && (!in->aadhaar[0] || !in->pan[0] || !in->date_of_birth[0])) {
            char missing_id[64] = "";
            const char *names[3] = {"PAN", "Aadhaar", "date of birth"};
            int miss[3] = {!in->pan[0], !in->aadhaar[0], !in->date_of_birth[0]};
            for (int i = 0; i < 3; i++)
                if (miss[i]) {
                    size_t used = strlen(missing_id);
                    snprintf(missing_id + used, sizeof(missing_id) - used, "%s%s", used ? ", " : "",
                             names[i]);
                }
            remark(s,
                   "PAN, Aadhaar and date of birth are required for applicants in India "
                   "(missing: %s)",
                   missing_id);
            hard(out, "kyc_identity");
            rejected = 1;
        }
        if (id->has_age && id->age < MIN_AGE) {
            remark(s, "Applicant is %d; the minimum age is %d", id->age, MIN_AGE);
            hard(out, "kyc_age");
            rejected = 1;
        }
        ekyc_rule(&id->aadhaar, "Aadhaar", "aadhaar", cleared, out, &rejected, &pending);
        ekyc_rule(&id->pan, "PAN", "pan", cleared, out, &rejected, &pending);
        ekyc_rule(&id->bank, "Bank account", "bank_account", cleared, out, &rejected, &pending);
    }
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
               f->sanctions_name ? f->sanctions_name : "?", f->sanctions_list, f->sanctions_version,
               f->sanctions_entry, f->sanctions_score);
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
                remark(s,
                       "Politically exposed person: matches \"%s\" on the PEP list; enhanced "
                       "due diligence required",
                       f->pep_name);
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

/* The tier of a bureau score, or NULL when the table has none for it. */
static const struct bureau_tier *tier_of(const struct credit_policy *cp, int score)
{
    for (int i = 0; i < cp->ntiers; i++)
        if (score >= cp->tiers[i].min_score && score <= cp->tiers[i].max_score)
            return &cp->tiers[i];
    return NULL;
}

/* The bureau's part: which score counts, the flags of a missing report, the tier. Returns 1
 * when a tier decided the score rule (the fixed 650 cut-off then does not apply). */
static int bureau_rules(const struct loan_input *in, const struct compliance_facts *f,
                        unsigned cleared, int check_loan, struct loan_result *out, int *pending)
{
    struct stage *s = &out->eligibility;
    const struct bureau_report *b = &f->id.bureau;
    char a[32], c[32];
    switch (b->status) {
    case BUREAU_NOT_CHECKED:
        return 0;
    case BUREAU_DISABLED:
    case BUREAU_TIMEOUT:
    case BUREAU_ERROR:
        flag(out, FLAG_BUREAU_UNAVAILABLE, cleared & ~LOAN_FLAGS_RETRY);
        remark(s, "Credit bureau report not obtained: %s; reprocess to retry",
               b->status == BUREAU_DISABLED  ? "no bureau provider is configured"
               : b->status == BUREAU_TIMEOUT ? "the bureau timed out"
                                             : "the bureau failed");
        *pending = 1;
        return 0;
    case BUREAU_NO_HISTORY: {
        if (flag(out, FLAG_NO_CREDIT_HISTORY, cleared)) {
            remark(s,
                   "%s has no credit history for this PAN; the declared score %d needs an "
                   "officer's review",
                   b->bureau, in->credit_score);
            *pending = 1;
        } else {
            remark(s, "No %s credit history; declared score %d accepted by the reviewing officer",
                   b->bureau, in->credit_score);
        }
        /* A thin file borrows no more than the lowest lending tier: no history is not a better
         * record than a proven near-prime one. */
        const struct bureau_tier *low = NULL;
        for (int i = 0; i < f->credit.ntiers; i++)
            if (f->credit.tiers[i].max_loan > 0 &&
                (low == NULL || f->credit.tiers[i].max_loan < low->max_loan))
                low = &f->credit.tiers[i];
        if (f->credit.tier_version > 0 && low != NULL) {
            out->tier_applied = 1;
            out->tier_limit = low->max_loan;
            if (check_loan && in->loan_amount > low->max_loan) {
                remark(s,
                       "Loan amount %s exceeds %s, the limit without credit history (lowest "
                       "tier, table version %d)",
                       loan_money(in->loan_amount, a, sizeof(a)),
                       loan_money(low->max_loan, c, sizeof(c)), f->credit.tier_version);
                out->reasons[out->nreasons++] =
                    "Loan amount exceeds the limit for applicants without credit history";
                hard(out, "bureau_limit");
            }
        }
        return 0;
    }
    case BUREAU_OK:
        break;
    }
    out->effective_score = b->score;
    remark(s, "%s score %d (declared %d); %d active loans, %d overdue, %d enquiries in 6 months",
           b->bureau, b->score, in->credit_score, b->active_loans, b->overdue_accounts,
           b->enquiries_6m);
    if (f->credit.tier_version <= 0)
        return 0;
    const struct bureau_tier *t = tier_of(&f->credit, b->score);
    out->tier_applied = 1;
    if (t == NULL || t->max_loan == 0) {
        remark(s, "%s score %d is below the cut-off (tier table version %d)", b->bureau, b->score,
               f->credit.tier_version);
        out->reasons[out->nreasons++] = "Credit bureau score is below the cut-off";
        hard(out, "bureau_tier");
        out->tier_limit = 0;
        return 1;
    }
    out->tier_limit = t->max_loan;
    if (check_loan && in->loan_amount > t->max_loan) {
        remark(s, "Loan amount %s exceeds the %s limit for %s scores %d-%d (tier table version %d)",
               loan_money(in->loan_amount, a, sizeof(a)), loan_money(t->max_loan, c, sizeof(c)),
               b->bureau, t->min_score, t->max_score, f->credit.tier_version);
        out->reasons[out->nreasons++] = "Loan amount exceeds the limit of the credit bureau tier";
        hard(out, "bureau_limit");
    }
    return 1;
}

/* Basis points as a percentage with two decimals, sign included ("-0.50"). */
static const char *pct(int bps, char out[16])
{
    int a = bps < 0 ? -bps : bps;
    snprintf(out, 16, "%s%d.%02d", bps < 0 ? "-" : "", a / 100, a % 100);
    return out;
}

/* The risk model's grade and the price. */
static void risk_rules(const struct loan_input *in, const struct compliance_facts *f,
                       unsigned cleared, struct loan_result *out, int *pending)
{
    struct stage *s = &out->eligibility;
    const struct credit_policy *cp = &f->credit;
    const struct bureau_report *b = &f->id.bureau;
    struct risk_input ri = {
        .income_cents = in->income,
        .debt_cents = in->debt,
        .loan_cents = in->loan_amount,
        .credit_score = out->effective_score,
        .has_bureau = b->status == BUREAU_OK,
        .overdue_accounts = b->status == BUREAU_OK ? b->overdue_accounts : 0,
        .enquiries_6m = b->status == BUREAU_OK ? b->enquiries_6m : 0,
    };
    if (risk_score(cp->model, &ri, &out->risk) != 0)
        return;
    out->has_risk = 1;
    const struct risk_result *r = &out->risk;
    char why[384] = "";
    for (int i = 0; i < r->nreasons; i++) {
        size_t used = strlen(why);
        snprintf(why + used, sizeof(why) - used, "%s%s %s", i ? ", " : "", r->reason_codes[i],
                 r->reason_texts[i]);
    }
    if (r->grade == 'E') {
        remark(s, "Risk grade E (probability of default %.4f, %d points, model version %d): %s",
               r->pd, r->points, cp->model->version, why[0] ? why : "no single adverse factor");
        out->reasons[out->nreasons++] = "Risk grade E: probability of default too high";
        hard(out, "risk_grade");
        return;
    }
    if (r->grade == 'D') {
        if (flag(out, FLAG_RISK_REVIEW, cleared)) {
            remark(s,
                   "Risk grade D (probability of default %.4f, %d points, model version %d) "
                   "needs an officer's review: %s",
                   r->pd, r->points, cp->model->version, why[0] ? why : "no single adverse factor");
            *pending = 1;
        } else {
            remark(s,
                   "Risk grade D (probability of default %.4f) accepted by the reviewing "
                   "officer",
                   r->pd);
        }
    } else {
        remark(s, "Risk grade %c (probability of default %.4f, %d points, model version %d)",
               r->grade, r->pd, r->points, cp->model->version);
    }
    if (!cp->have_base_rate) {
        flag(out, FLAG_PRICING_UNAVAILABLE, cleared & ~LOAN_FLAGS_RETRY);
        remark(s, "No base rate in the market data: the loan cannot be priced; load market data "
                  "and reprocess");
        *pending = 1;
        return;
    }
    out->has_rate = 1;
    out->spread_bps = r->spread_bps;
    out->rate_bps = cp->base_bps + r->spread_bps; /* both bounded by their loaders */
    char rate[16], base[16], spread[16];
    remark(s, "Annual rate %s%% = %s %s%% (as of %s) + grade %c spread %s%%",
           pct(out->rate_bps, rate), cp->base_symbol, pct(cp->base_bps, base), cp->base_as_of,
           r->grade, pct(r->spread_bps, spread));
}

void loan_eligibility(const struct loan_input *in, const struct compliance_facts *f,
                      unsigned cleared, int check_loan, struct loan_result *out)
{
    struct stage *s = &out->eligibility;
    char a[32], b[32];
    int pending = 0, tiered = 0;
    out->nreasons = 0;
    out->effective_score = in->credit_score;
    out->has_dti = in->income > 0;
    out->dti = out->has_dti ? (double)in->debt / (double)in->income : 0.0;
    if (f != NULL)
        tiered = bureau_rules(in, f, cleared, check_loan, out, &pending);
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
    if (!tiered && out->effective_score < MIN_SCORE) {
        remark(s, "Credit score %d is below 650", out->effective_score);
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
    /* The model grades and prices what passed every rule so far (KYC and compliance included),
     * and only on the bureau's answer when there is one to wait for: a rejected application
     * gets no price, and no price is quoted on a score the bureau has not confirmed. */
    int bureau_waits = f != NULL && (f->id.bureau.status == BUREAU_TIMEOUT ||
                                     f->id.bureau.status == BUREAU_ERROR ||
                                     f->id.bureau.status == BUREAU_DISABLED);
    if (out->nreasons == 0 && out->hard_failures == 0 && !bureau_waits && f != NULL &&
        f->credit.model != NULL)
        risk_rules(in, f, cleared, out, &pending);
    out->eligible = out->nreasons == 0;
    int64_t cap = 3 * in->income < MAX_LOAN ? 3 * in->income : MAX_LOAN;
    if (out->tier_applied && out->tier_limit < cap)
        cap = out->tier_limit;
    out->max_loan_amount = out->eligible ? cap : 0;
    s->status = !out->eligible ? LOAN_REJECTED : pending ? LOAN_PENDING : LOAN_APPROVED;
    if (out->eligible)
        remark(s, "DTI %.4f, credit score %d, loan within 3 x income and the %s cap", out->dti,
               out->effective_score, loan_money(cap, a, sizeof(a)));
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
                snprintf(list + used, sizeof(list) - used, "%s%s", used ? ", " : "", flag_names[b]);
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
    loan_kyc(in, &f->id, cleared, out);
    loan_compliance(in, f, p, cleared, out);
    loan_eligibility(in, f, cleared, 1, out);
    loan_decide(p, cleared, out);
}
