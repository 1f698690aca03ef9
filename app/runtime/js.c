/*
 * Money never travels through a double: js_money reads the number's own text (json-c keeps the
 * original digits of a parsed number, and json_object_get_string() returns them), parses it as a
 * decimal into cents and rejects more than two decimals, exponents, NaN and infinities. Amounts
 * must be JSON numbers; a string is a wrong type, not a number to guess at.
 */
#include "js.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

int js_parse(const char *buf, size_t len, json_object **out, const char **why)
{
    *out = NULL;
    if (len == 0) {
        *why = "the body is empty";
        return -1;
    }
    if (memchr(buf, '\0', len) != NULL) {
        *why = "the body contains a NUL byte";
        return -1;
    }
    /* json-c accepts 'single-quoted' strings even in strict mode; JSON does not. */
    int in_str = 0;
    for (size_t i = 0; i < len; i++) {
        char c = buf[i];
        if (in_str) {
            if (c == '\\')
                i++;
            else if (c == '"')
                in_str = 0;
        } else if (c == '"') {
            in_str = 1;
        } else if (c == '\'') {
            *why = "the body is not valid JSON";
            return -1;
        }
    }
    json_tokener *tok = json_tokener_new_ex(64);
    if (tok == NULL) {
        *why = "out of memory";
        return -1;
    }
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
    json_object *o = json_tokener_parse_ex(tok, buf, (int)len);
    enum json_tokener_error e = json_tokener_get_error(tok);
    size_t used = json_tokener_get_parse_end(tok);
    if (o == NULL && e == json_tokener_continue) {
        /* A bare number ("42") is only complete once the tokener sees the end of input. */
        o = json_tokener_parse_ex(tok, "", 1);
        e = json_tokener_get_error(tok);
        used = len;
    }
    json_tokener_free(tok);
    if (o == NULL && e == json_tokener_success) {
        /* The body was the JSON literal null: valid JSON, no value. */
        for (size_t i = used; i < len; i++)
            if (buf[i] != ' ' && buf[i] != '\n' && buf[i] != '\r' && buf[i] != '\t') {
                *why = "unexpected data after the JSON value";
                return -1;
            }
        return 0;
    }
    if (o == NULL || e != json_tokener_success) {
        json_object_put(o);
        if (e == json_tokener_error_parse_utf8_string)
            *why = "the body is not valid UTF-8";
        else if (e == json_tokener_continue)
            *why = "the JSON ends too early";
        else if (e == json_tokener_error_depth)
            *why = "the JSON is nested too deeply";
        else
            *why = "the body is not valid JSON";
        return -1;
    }
    /* Only whitespace may follow the value. */
    for (size_t i = used; i < len; i++) {
        if (buf[i] != ' ' && buf[i] != '\n' && buf[i] != '\r' && buf[i] != '\t') {
            json_object_put(o);
            *why = "unexpected data after the JSON value";
            return -1;
        }
    }
    *out = o;
    return 0;
}

void js_field_error(json_object *fields, const char *key, const char *message)
{
    if (fields != NULL && !json_object_object_get_ex(fields, key, NULL))
        json_object_object_add(fields, key, json_object_new_string(message));
}

static json_object *field(json_object *obj, const char *key)
{
    json_object *v = NULL;
    if (obj == NULL || !json_object_is_type(obj, json_type_object))
        return NULL;
    if (!json_object_object_get_ex(obj, key, &v))
        return NULL;
    return v; /* NULL for JSON null too */
}

int js_string(json_object *obj, const char *key, size_t max_len, const char **out,
              json_object *fields)
{
    json_object *v = field(obj, key);
    if (v == NULL)
        return 0;
    if (!json_object_is_type(v, json_type_string)) {
        js_field_error(fields, key, "must be a string");
        return -1;
    }
    const char *s = json_object_get_string(v);
    size_t len = (size_t)json_object_get_string_len(v);
    if (strlen(s) != len) {
        js_field_error(fields, key, "must not contain NUL characters");
        return -1;
    }
    if (len > max_len) {
        char msg[80];
        snprintf(msg, sizeof(msg), "must be at most %zu bytes long", max_len);
        js_field_error(fields, key, msg);
        return -1;
    }
    *out = s;
    return 1;
}

int js_bool(json_object *obj, const char *key, int *out, json_object *fields)
{
    json_object *v = field(obj, key);
    if (v == NULL)
        return 0;
    if (!json_object_is_type(v, json_type_boolean)) {
        js_field_error(fields, key, "must be true or false");
        return -1;
    }
    *out = json_object_get_boolean(v) ? 1 : 0;
    return 1;
}

int js_int(json_object *obj, const char *key, int64_t min, int64_t max, int64_t *out,
           json_object *fields)
{
    json_object *v = field(obj, key);
    char msg[96];
    if (v == NULL)
        return 0;
    snprintf(msg, sizeof(msg), "must be a whole number from %" PRId64 " to %" PRId64, min, max);
    if (!json_object_is_type(v, json_type_int)) {
        /* 720.0 is still a whole number a client may send. */
        if (json_object_is_type(v, json_type_double)) {
            double d = json_object_get_double(v);
            if (isfinite(d) && d == floor(d) && d >= (double)min && d <= (double)max) {
                *out = (int64_t)d;
                return 1;
            }
        }
        js_field_error(fields, key, msg);
        return -1;
    }
    int64_t n = json_object_get_int64(v);
    if (n < min || n > max) {
        js_field_error(fields, key, msg);
        return -1;
    }
    *out = n;
    return 1;
}

int js_parse_cents(const char *s, size_t len, int64_t max_cents, int64_t *out)
{
    size_t i = 0;
    int64_t whole = 0;
    int digits = 0;
    if (len == 0)
        return -1;
    for (; i < len && s[i] >= '0' && s[i] <= '9'; i++, digits++) {
        if (whole > (INT64_MAX - 9) / 10)
            return -1;
        whole = whole * 10 + (s[i] - '0');
    }
    if (digits == 0 || digits > 15)
        return -1;
    int64_t frac = 0;
    if (i < len && s[i] == '.') {
        i++;
        int fd = 0;
        for (; i < len && s[i] >= '0' && s[i] <= '9'; i++, fd++) {
            if (fd < 2)
                frac = frac * 10 + (s[i] - '0');
            else if (s[i] != '0')
                return -1; /* more than two significant decimals */
        }
        if (fd == 0)
            return -1;
        if (fd == 1)
            frac *= 10;
    }
    if (i != len)
        return -1;
    int64_t cents = whole * 100 + frac;
    if (cents > max_cents)
        return -1;
    *out = cents;
    return 0;
}

int js_money(json_object *obj, const char *key, int64_t max_cents, int64_t *out,
             json_object *fields)
{
    json_object *v = field(obj, key);
    if (v == NULL)
        return 0;
    enum json_type t = json_object_get_type(v);
    if (t != json_type_int && t != json_type_double) {
        js_field_error(fields, key, "must be a number");
        return -1;
    }
    const char *s = json_object_get_string(v);
    if (t == json_type_double) {
        double d = json_object_get_double(v);
        if (!isfinite(d)) {
            js_field_error(fields, key, "must be a finite number");
            return -1;
        }
    }
    if (s[0] == '-') {
        js_field_error(fields, key, "must not be negative");
        return -1;
    }
    if (js_parse_cents(s, strlen(s), max_cents, out) != 0) {
        char msg[128];
        snprintf(msg, sizeof(msg),
                 "must be a plain decimal amount with at most two decimals, at most %" PRId64
                 ".%02" PRId64,
                 max_cents / 100, max_cents % 100);
        js_field_error(fields, key, msg);
        return -1;
    }
    return 1;
}

/* json-c prints a double through a format; a custom serializer keeps the exact text. */
json_object *js_new_money(int64_t cents)
{
    char buf[32];
    int64_t a = cents < 0 ? -cents : cents;
    snprintf(buf, sizeof(buf), "%s%" PRId64 ".%02" PRId64, cents < 0 ? "-" : "", a / 100, a % 100);
    return json_object_new_double_s((double)cents / 100.0, buf);
}

json_object *js_new_fixed(double v, int decimals)
{
    char buf[48];
    if (!isfinite(v))
        v = 0;
    snprintf(buf, sizeof(buf), "%.*f", decimals, v);
    /* Print "80.0" as 80.0 rather than 80.00 only when it is whole: keep it simple and fixed. */
    return json_object_new_double_s(v, buf);
}
