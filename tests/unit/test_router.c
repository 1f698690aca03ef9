/* Router matching: literal paths, {param} capture, 404 versus 405 with Allow, HEAD as GET. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "router.h"

static int h(struct http_req *r)
{
    (void)r;
    return 200;
}

static const struct route table[] = {
    {"GET", "/", h, ROLE_PUBLIC, 0},
    {"GET", "/loan-application/status/{id}", h, ROLE_APPLICANT, 0},
    {"POST", "/loan-application/{id}/approve", h, ROLE_OFFICER, 0},
    {"POST", "/loan-application/reprocess/{id}", h, ROLE_OFFICER, 0},
    {"GET", "/admin/users", h, ROLE_ADMIN, 0},
    {"POST", "/admin/users", h, ROLE_ADMIN, ROUTE_JSON},
    {"PATCH", "/admin/users/{id}", h, ROLE_ADMIN, ROUTE_JSON},
    {"GET", "/__test/sleep", h, ROLE_PUBLIC, ROUTE_TEST},
    {NULL, NULL, NULL, ROLE_PUBLIC, 0},
};

static enum route_result match(const char *m, const char *p, const struct route **rt,
                               struct route_param *params, int *n, char *allow)
{
    return router_match(table, m, p, ROUTE_TEST, rt, params, n, allow, 64);
}

static void test_literal(void **state)
{
    (void)state;
    const struct route *rt = NULL;
    struct route_param ps[ROUTE_MAX_PARAMS];
    int n = -1;
    char allow[64];
    assert_int_equal(match("GET", "/", &rt, ps, &n, allow), ROUTE_FOUND);
    assert_ptr_equal(rt, &table[0]);
    assert_int_equal(n, 0);
    assert_int_equal(match("GET", "/admin/users", &rt, ps, &n, allow), ROUTE_FOUND);
    assert_ptr_equal(rt, &table[4]);
    assert_int_equal(match("POST", "/admin/users", &rt, ps, &n, allow), ROUTE_FOUND);
    assert_ptr_equal(rt, &table[5]);
}

static void test_params(void **state)
{
    (void)state;
    const struct route *rt = NULL;
    struct route_param ps[ROUTE_MAX_PARAMS];
    int n = 0;
    char allow[64];
    assert_int_equal(
        match("GET", "/loan-application/status/LOAN-20241108-ABC12345", &rt, ps, &n, allow),
        ROUTE_FOUND);
    assert_int_equal(n, 1);
    assert_int_equal(ps[0].len, strlen("LOAN-20241108-ABC12345"));
    assert_memory_equal(ps[0].p, "LOAN-20241108-ABC12345", ps[0].len);
    assert_int_equal(match("POST", "/loan-application/X1/approve", &rt, ps, &n, allow),
                     ROUTE_FOUND);
    assert_ptr_equal(rt, &table[2]);
    assert_memory_equal(ps[0].p, "X1", 2);
    /* A literal segment beats nothing: reprocess/{id} is its own route. */
    assert_int_equal(match("POST", "/loan-application/reprocess/X1", &rt, ps, &n, allow),
                     ROUTE_FOUND);
    assert_ptr_equal(rt, &table[3]);
}

static void test_not_found(void **state)
{
    (void)state;
    const struct route *rt = NULL;
    struct route_param ps[ROUTE_MAX_PARAMS];
    int n = 0;
    char allow[64];
    assert_int_equal(match("GET", "/nope", &rt, ps, &n, allow), ROUTE_NOT_FOUND);
    assert_int_equal(match("GET", "/admin/users/", &rt, ps, &n, allow), ROUTE_NOT_FOUND);
    /* Empty parameter segment never matches. */
    assert_int_equal(match("GET", "/loan-application/status/", &rt, ps, &n, allow),
                     ROUTE_NOT_FOUND);
    assert_int_equal(match("GET", "/loan-application/status/a/b", &rt, ps, &n, allow),
                     ROUTE_NOT_FOUND);
    /* Test-only routes are invisible when skipped. */
    assert_int_equal(match("GET", "/__test/sleep", &rt, ps, &n, allow), ROUTE_NOT_FOUND);
    assert_int_equal(router_match(table, "GET", "/__test/sleep", 0, &rt, ps, &n, allow, 64),
                     ROUTE_FOUND);
}

static void test_method_not_allowed(void **state)
{
    (void)state;
    const struct route *rt = NULL;
    struct route_param ps[ROUTE_MAX_PARAMS];
    int n = 0;
    char allow[64];
    assert_int_equal(match("DELETE", "/admin/users", &rt, ps, &n, allow), ROUTE_METHOD_NOT_ALLOWED);
    assert_string_equal(allow, "GET, HEAD, POST");
    assert_int_equal(match("POST", "/", &rt, ps, &n, allow), ROUTE_METHOD_NOT_ALLOWED);
    assert_string_equal(allow, "GET, HEAD");
    assert_int_equal(match("GET", "/admin/users/7", &rt, ps, &n, allow), ROUTE_METHOD_NOT_ALLOWED);
    assert_string_equal(allow, "PATCH");
}

static void test_head_is_get(void **state)
{
    (void)state;
    const struct route *rt = NULL;
    struct route_param ps[ROUTE_MAX_PARAMS];
    int n = 0;
    char allow[64];
    assert_int_equal(match("HEAD", "/", &rt, ps, &n, allow), ROUTE_FOUND);
    assert_ptr_equal(rt, &table[0]);
    assert_int_equal(match("HEAD", "/loan-application/X/approve", &rt, ps, &n, allow),
                     ROUTE_METHOD_NOT_ALLOWED);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_literal),     cmocka_unit_test(test_params),
        cmocka_unit_test(test_not_found),   cmocka_unit_test(test_method_not_allowed),
        cmocka_unit_test(test_head_is_get),
    };
    return cmocka_run_group_tests_name("router", tests, NULL, NULL);
}
