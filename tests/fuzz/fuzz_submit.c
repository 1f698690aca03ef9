/*
 * libFuzzer target: the submit body parser and the validators. Any byte string is fed to the
 * strict JSON parser; whatever parses goes through loan_parse (submit and /loan shapes), and a
 * valid application through the whole pipeline; every string field also goes through the
 * validators, the name normaliser and the account name's trim-and-count. Crashes, sanitizer reports
 * and leaks are failures.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "js.h"
#include "loan.h"
#include "screening.h"
#include "validate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A credit policy like version 1's, so the bureau, tier and scorecard rules run too. */
static const struct bureau_tier tiers[] = {{750, 900, 50000000, "Prime"},
                                           {650, 749, 20000000, "Near prime"},
                                           {300, 649, 0, "Below cut-off"}};
static const struct risk_model model = {
    .version = 1,
    .intercept = -3.48,
    .pdo = 50,
    .base_points = 600,
    .base_odds_bad = 1.0 / 19,
    .f = {{1.6, 0.2, 0, 0.8, "R01", "dti"},
          {-0.011, 720, 300, 900, "R02", "score"},
          {0.16, 1, 0, 5, "R03", "lti"},
          {-0.4, 11, 9.5, 13.5, "R04", "income"},
          {0.65, 0, 0, 5, "R05", "overdue"},
          {0.12, 1, 0, 10, "R06", "enquiries"}},
    .grades = {{'A', 640, 200},
               {'B', 600, 350},
               {'C', 560, 550},
               {'D', 520, 800},
               {'E', -2147483647 - 1, 1200}},
    .ngrades = 5,
};

/* Identity and credit facts that vary with the input, so every eKYC and bureau branch is hit. */
static void vary(struct compliance_facts *f, const uint8_t *data, size_t size)
{
    unsigned v = size ? data[size / 2] ^ (unsigned)size : 0;
    f->id.country_code = (v & 1) ? "IN" : "US";
    f->id.has_age = (v >> 1) & 1;
    f->id.age = (int)(v % 90);
    struct ekyc_check *c[3] = {&f->id.aadhaar, &f->id.pan, &f->id.bank};
    for (int i = 0; i < 3; i++) {
        c[i]->status = (enum ekyc_status)((v >> (i + 1)) % 6);
        c[i]->name_score = ((v >> i) % 12) / 10.0 - 0.1;
        c[i]->dob_match = (int)((v >> (i + 2)) % 3) - 1;
    }
    f->id.bureau.status = (enum bureau_status)((v >> 3) % 6);
    f->id.bureau.score = 300 + (int)(v * 7 % 601);
    f->id.bureau.overdue_accounts = (int)(v % 7);
    f->id.bureau.enquiries_6m = (int)(v % 13);
    f->credit.tier_version = 1;
    f->credit.tiers = tiers;
    f->credit.ntiers = 3;
    f->credit.model = (v & 64) ? &model : NULL;
    f->credit.have_base_rate = (v >> 7) & 1;
    f->credit.base_bps = 650;
}

static void strings(const char *s)
{
    char out[512];
    char aad[13];
    (void)val_email(s);
    (void)val_phone(s);
    (void)val_name(s);
    (void)val_utf8_chars(s);
    (void)val_aadhaar(s);
    (void)val_aadhaar_canon(s, aad);
    (void)val_pan(s, "D");
    (void)val_ifsc(s);
    (void)val_account_number(s);
    val_mask_tail(s, out, sizeof(out));
    screen_normalize(s, out, sizeof(out));
    (void)screen_name_score(s, "DOE, John");
    /* The account name's path (POST /register, admin create): trimmed, then counted in
     * characters; the span kept lies inside s and starts and ends with no blank. */
    const char *start;
    size_t n = val_trim(s, &start);
    if (start < s || start + n > s + strlen(s) ||
        (n > 0 && (start[0] == ' ' || start[n - 1] == ' ' || start[n - 1] == '\n')))
        __builtin_trap();
    if (n < sizeof(out)) {
        memcpy(out, start, n);
        out[n] = '\0';
        (void)val_name(out);
        (void)val_utf8_chars(out);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_object *body = NULL;
    const char *why;
    if (js_parse((const char *)data, size, &body, &why) != 0)
        return 0;
    if (json_object_is_type(body, json_type_object)) {
        json_object_object_foreach(body, key, val)
        {
            (void)key;
            if (json_object_is_type(val, json_type_string))
                strings(json_object_get_string(val));
        }
        for (int full = 0; full < 2; full++) {
            struct loan_input in;
            json_object *fields = json_object_new_object();
            if (loan_parse(body, &in, fields, full) == 0 && full) {
                struct compliance_facts f = {.screened = 1,
                                             .sanctions_list = "L",
                                             .sanctions_version = "v",
                                             .country_name = "X"};
                struct loan_policy p = {0.92, 0.85, 0};
                struct loan_result r;
                loan_evaluate(&in, &f, &p, 0, &r);
                loan_evaluate(&in, &f, &p, 0xffffffffu, &r);
                vary(&f, data, size);
                loan_evaluate(&in, &f, &p, 0, &r);
                loan_evaluate(&in, &f, &p, 0xffffffffu, &r);
            }
            json_object_put(fields);
        }
    }
    json_object_put(body);
    return 0;
}
