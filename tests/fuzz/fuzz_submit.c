/*
 * libFuzzer target: the submit body parser and the validators. Any byte string is fed to the
 * strict JSON parser; whatever parses goes through loan_parse (submit and /loan shapes), and a
 * valid application through the whole pipeline; every string field also goes through the
 * validators and the name normaliser. Crashes, sanitizer reports and leaks are failures.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "js.h"
#include "loan.h"
#include "screening.h"
#include "validate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

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
                struct compliance_facts f = {.screened = 1, .sanctions_list = "L",
                                             .sanctions_version = "v", .country_name = "X"};
                struct loan_policy p = {0.92, 0.85, 0};
                struct loan_result r;
                loan_evaluate(&in, &f, &p, 0, &r);
                loan_evaluate(&in, &f, &p, 0xffffffffu, &r);
            }
            json_object_put(fields);
        }
    }
    json_object_put(body);
    return 0;
}
