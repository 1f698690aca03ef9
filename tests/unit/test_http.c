/* Query-string and form decoding, response headers (no control byte ever reaches one), and the
 * strict JSON and money helpers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "arena.h"
#include "http.h"
#include "js.h"

static void test_url_decode(void **state)
{
    (void)state;
    char out[64];
    assert_int_equal(http_url_decode("a%20b+c", 7, out, 1), 5);
    assert_string_equal(out, "a b c");
    assert_int_equal(http_url_decode("a+b", 3, out, 0), 3);
    assert_string_equal(out, "a+b");
    assert_int_equal(http_url_decode("%C3%A9", 6, out, 1), 2);
    assert_string_equal(out, "\xc3\xa9");
    assert_int_equal(http_url_decode("%4", 2, out, 1), -1);
    assert_int_equal(http_url_decode("%", 1, out, 1), -1);
    assert_int_equal(http_url_decode("%zz", 3, out, 1), -1);
    assert_int_equal(http_url_decode("%00", 3, out, 1), -1);
    assert_int_equal(http_url_decode("", 0, out, 1), 0);
}

static void test_urlencoded(void **state)
{
    (void)state;
    arena *a = arena_new(4096);
    struct http_kv *kv;
    int n = http_parse_urlencoded(a, "status=APPROVED&region=apac&limit=10&empty=&flag", &kv);
    assert_int_equal(n, 5);
    assert_string_equal(kv[0].key, "status");
    assert_string_equal(kv[0].value, "APPROVED");
    assert_string_equal(kv[3].key, "empty");
    assert_string_equal(kv[3].value, "");
    assert_string_equal(kv[4].key, "flag");
    assert_string_equal(kv[4].value, "");
    n = http_parse_urlencoded(a, "next=%2Fdashboard%3Fdays%3D7&&x=1", &kv);
    assert_int_equal(n, 2);
    assert_string_equal(kv[0].value, "/dashboard?days=7");
    assert_int_equal(http_parse_urlencoded(a, "a=%G0", &kv), -1);
    arena_free(a);
}

/* Issue 11, item 5: GET /applications/x%0d%0aSet-Cookie:%20evil=1 must not split the response. */
static void test_header_injection_refused(void **state)
{
    (void)state;
    arena *a = arena_new(4096);
    http_req r = {.pool = a};
    assert_int_equal(http_add_header(&r, "Location", "/x\r\nSet-Cookie: evil=1"), -1);
    assert_int_equal(http_add_header(&r, "Location", "/x\nSet-Cookie: evil=1"), -1);
    assert_int_equal(http_add_header(&r, "X-A", "tab\there"), -1);
    assert_int_equal(http_add_header(&r, "X-A", "del\x7f"), -1);
    assert_int_equal(http_add_header(&r, "X-A\r\nSet-Cookie", "evil=1"), -1);
    assert_int_equal(http_add_header(&r, "X A", "v"), -1);
    assert_int_equal(http_add_header(&r, "", "v"), -1);
    assert_null(r.headers);
    assert_int_equal(http_add_header(&r, "Cache-Control", "no-store"), 0);
    assert_non_null(r.headers);
    assert_string_equal(r.headers->name, "Cache-Control");
    assert_string_equal(r.headers->value, "no-store");
    assert_int_equal(http_add_header(&r, "X-Utf8", "caf\xc3\xa9"), 0);
    assert_true(http_header_value_ok("Bearer realm=\"loanflow\""));
    assert_false(http_header_value_ok("a\rb"));

    /* A redirect to a location with a control byte goes to "/" instead, never split. */
    http_req r2 = {.pool = a, .method = "GET"};
    assert_int_equal(http_redirect(&r2, "/login?next=/x\r\nSet-Cookie: evil=1"), 303);
    assert_non_null(r2.headers);
    assert_string_equal(r2.headers->name, "Location");
    assert_string_equal(r2.headers->value, "/");
    assert_null(r2.headers->next);
    arena_free(a);
}

static void test_url_encode(void **state)
{
    (void)state;
    arena *a = arena_new(4096);
    assert_string_equal(http_url_encode(a, "/applications/LOAN-20260101-ABCDEF12"),
                        "/applications/LOAN-20260101-ABCDEF12");
    assert_string_equal(http_url_encode(a, "/applications/x\r\nSet-Cookie: evil=1"),
                        "/applications/x%0D%0ASet-Cookie%3A%20evil%3D1");
    assert_string_equal(http_url_encode(a, "/a?b=c&d#e%"), "/a%3Fb%3Dc%26d%23e%25");
    assert_string_equal(http_url_encode(a, "caf\xc3\xa9~._-"), "caf%C3%A9~._-");
    assert_string_equal(http_url_encode(a, ""), "");
    /* It round-trips through the decoder the login page reads next= with. */
    const char *in = "/applications/x\r\nSet-Cookie: evil=1+2";
    const char *enc = http_url_encode(a, in);
    char out[128];
    assert_int_equal(http_url_decode(enc, strlen(enc), out, 1), (long)strlen(in));
    assert_string_equal(out, in);
    arena_free(a);
}

static void test_js_parse(void **state)
{
    (void)state;
    json_object *o;
    const char *why;
    assert_int_equal(js_parse("{\"a\": 1}  \n", 11, &o, &why), 0);
    json_object_put(o);
    assert_int_equal(js_parse("{\"a\": 1} x", 10, &o, &why), -1);
    assert_int_equal(js_parse("{\"a\": ", 6, &o, &why), -1);
    assert_int_equal(js_parse("", 0, &o, &why), -1);
    assert_int_equal(js_parse("{'a': 1}", 8, &o, &why), -1);
    assert_int_equal(js_parse("{\"a\":\"\xff\xfe\"}", 10, &o, &why), -1);
    assert_string_equal(why, "the body is not valid UTF-8");
    assert_int_equal(js_parse("{\"a\":\"\0\"}", 8, &o, &why), -1);
    assert_int_equal(js_parse("[1,2]", 5, &o, &why), 0);
    json_object_put(o);
    assert_int_equal(js_parse("42", 2, &o, &why), 0);
    assert_int_equal(json_object_get_int(o), 42);
    json_object_put(o);
    assert_int_equal(js_parse("null", 4, &o, &why), 0);
    assert_null(o);
    assert_int_equal(js_parse("\"text\"", 6, &o, &why), 0);
    json_object_put(o);
    assert_int_equal(js_parse("4 2", 3, &o, &why), -1);
}

static void test_money(void **state)
{
    (void)state;
    int64_t c;
    assert_int_equal(js_parse_cents("85000", 5, INT64_MAX, &c), 0);
    assert_int_equal(c, 8500000);
    assert_int_equal(js_parse_cents("29999.99", 8, INT64_MAX, &c), 0);
    assert_int_equal(c, 2999999);
    assert_int_equal(js_parse_cents("0.5", 3, INT64_MAX, &c), 0);
    assert_int_equal(c, 50);
    assert_int_equal(js_parse_cents("1.230", 5, INT64_MAX, &c), 0);
    assert_int_equal(c, 123);
    assert_int_equal(js_parse_cents("1.234", 5, INT64_MAX, &c), -1);
    assert_int_equal(js_parse_cents("1e5", 3, INT64_MAX, &c), -1);
    assert_int_equal(js_parse_cents("-1", 2, INT64_MAX, &c), -1);
    assert_int_equal(js_parse_cents("1.", 2, INT64_MAX, &c), -1);
    assert_int_equal(js_parse_cents(".5", 2, INT64_MAX, &c), -1);
    assert_int_equal(js_parse_cents("100000000", 9, 10000000000, &c), 0);
    assert_int_equal(js_parse_cents("100000000.01", 12, 10000000000, &c), -1);

    json_object *body, *fields = json_object_new_object();
    const char *why;
    const char *src = "{\"income\": 85000.5, \"debt\": -1, \"x\": \"12.25\", \"b\": true}";
    assert_int_equal(js_parse(src, strlen(src), &body, &why), 0);
    assert_int_equal(js_money(body, "income", INT64_MAX, &c, fields), 1);
    assert_int_equal(c, 8500050);
    assert_int_equal(js_money(body, "x", INT64_MAX, &c, fields), -1); /* a string is not money */
    assert_int_equal(js_money(body, "debt", INT64_MAX, &c, fields), -1);
    assert_int_equal(js_money(body, "b", INT64_MAX, &c, fields), -1);
    assert_int_equal(js_money(body, "missing", INT64_MAX, &c, fields), 0);
    assert_true(json_object_object_get_ex(fields, "debt", NULL));
    assert_true(json_object_object_get_ex(fields, "b", NULL));
    json_object_put(body);
    json_object_put(fields);

    /* Out-of-range numbers never become amounts. */
    assert_int_equal(js_parse("{\"n\": 1e400}", 13, &body, &why), -1);
    src = "{\"n\": 1e5, \"big\": 123456789012345678901234567890}";
    if (js_parse(src, strlen(src), &body, &why) == 0) {
        fields = json_object_new_object();
        assert_int_equal(js_money(body, "n", INT64_MAX, &c, fields), -1);
        assert_int_equal(js_money(body, "big", 100000000000, &c, fields), -1);
        json_object_put(body);
        json_object_put(fields);
    }

    json_object *m = js_new_money(12345);
    assert_string_equal(json_object_to_json_string(m), "123.45");
    json_object_put(m);
}

static void test_js_fields(void **state)
{
    (void)state;
    json_object *body, *fields = json_object_new_object();
    const char *why, *s;
    int64_t n;
    int b;
    const char *src =
        "{\"name\": \"Ann\", \"score\": 720, \"f\": 720.0, \"bad\": 7.5, \"t\": \"x\"}";
    assert_int_equal(js_parse(src, strlen(src), &body, &why), 0);
    assert_int_equal(js_string(body, "name", 10, &s, fields), 1);
    assert_string_equal(s, "Ann");
    assert_int_equal(js_string(body, "name", 2, &s, fields), -1);
    assert_int_equal(js_int(body, "score", 300, 900, &n, fields), 1);
    assert_int_equal(n, 720);
    assert_int_equal(js_int(body, "f", 300, 900, &n, fields), 1);
    assert_int_equal(js_int(body, "bad", 300, 900, &n, fields), -1);
    assert_int_equal(js_int(body, "score", 800, 900, &n, fields), -1);
    assert_int_equal(js_bool(body, "t", &b, fields), -1);
    assert_int_equal(js_string(body, "score", 10, &s, fields), -1);
    json_object_put(body);
    json_object_put(fields);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_url_decode), cmocka_unit_test(test_urlencoded),
        cmocka_unit_test(test_js_parse),   cmocka_unit_test(test_money),
        cmocka_unit_test(test_js_fields),  cmocka_unit_test(test_header_injection_refused),
        cmocka_unit_test(test_url_encode),
    };
    return cmocka_run_group_tests_name("http", tests, NULL, NULL);
}
