/*
 * JSON helpers over json-c: a strict body parser (one value, valid UTF-8, nothing trailing) and
 * typed field readers that report what is wrong with a field in words a client can act on.
 * json-c getters return borrowed references; every function here says who owns what.
 */
#ifndef LOANFLOW_JS_H
#define LOANFLOW_JS_H

#include <json-c/json.h>
#include <stddef.h>
#include <stdint.h>

/* Parses buf[0..len) strictly. On success *out is a new reference the caller owns (NULL for
 * the literal null) and 0 is returned; on failure -1 and *why a static message ("invalid UTF-8",
 * "unexpected end", …). */
int js_parse(const char *buf, size_t len, json_object **out, const char **why);

/*
 * Field readers. Each returns 1 when the field is present and valid, 0 when absent (or JSON
 * null), and -1 when present but invalid, in which case a message is added to fields (an object
 * the caller owns) under the field's name.
 */
int js_string(json_object *obj, const char *key, size_t max_len, const char **out,
              json_object *fields);
int js_bool(json_object *obj, const char *key, int *out, json_object *fields);
int js_int(json_object *obj, const char *key, int64_t min, int64_t max, int64_t *out,
           json_object *fields);
/* A monetary amount: a JSON number with at most two decimals, non-negative,
 * at most max_cents; *out in integer cents (never through a double). */
int js_money(json_object *obj, const char *key, int64_t max_cents, int64_t *out,
             json_object *fields);
void js_field_error(json_object *fields, const char *key, const char *message);

/* Parses a decimal string "123", "123.4", "123.45" into cents; -1 on anything else. */
int js_parse_cents(const char *s, size_t len, int64_t max_cents, int64_t *out);
/* Formats cents as a JSON number with two decimals into a new json_object (caller owns). */
json_object *js_new_money(int64_t cents);
/* A double rendered with a fixed number of decimals (for ratios and percentages). */
json_object *js_new_fixed(double v, int decimals);

#endif
