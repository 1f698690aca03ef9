/*
 * The input side of the verification pipeline: the names of statuses, flags and provider
 * answers, money and region formatting, dates and ages, and the parser of a submission body
 * into struct loan_input, which reports every missing or malformed field by name. Pure: no I/O.
 */
#include "loan.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "js.h"
#include "validate.h"

static const char *const status_names[] = {"PENDING", "APPROVED", "REJECTED"};
static const char *const flag_names[LOAN_FLAG_COUNT] = {
    "documents_outstanding", "sanctions_review",      "pep",
    "senior_relative",       "country_monitoring",    "high_value",
    "manual_review",         "screening_unavailable", "ekyc_review",
    "ekyc_unavailable",      "no_credit_history",     "bureau_unavailable",
    "risk_review",           "pricing_unavailable",   "identity_attempts",
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
    /* The tenure: a whole number of months; which ones the product offers is the product's
     * (checked by the submit use case against the country's active product). */
    int64_t tenure = 0;
    if (js_int(body, "tenure_months", 1, LOAN_MAX_TENURE, &tenure, fields) > 0)
        in->tenure_months = (int)tenure;

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
