/* Token verification: HS256 only, signature, expiry, issuer, required claims. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <jwt.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"

#define SECRET "0123456789abcdef0123456789abcdef"
#define NOW    1800000000LL

static char *make(jwt_alg_t alg, const char *key, const char *iss, long exp, int with_jti)
{
    jwt_t *j;
    jwt_new(&j);
    jwt_add_grant(j, "sub", "7");
    jwt_add_grant(j, "email", "a@example.com");
    jwt_add_grant(j, "role", "officer");
    jwt_add_grant(j, "iss", iss);
    if (with_jti)
        jwt_add_grant(j, "jti", "abc");
    jwt_add_grant_int(j, "iat", NOW - 10);
    jwt_add_grant_int(j, "ver", 1);
    jwt_add_grant_int(j, "exp", exp);
    jwt_set_alg(j, alg, key ? (const unsigned char *)key : NULL, key ? (int)strlen(key) : 0);
    char *s = jwt_encode_str(j);
    jwt_free(j);
    return s;
}

static int verify(const char *tok)
{
    arena *a = arena_new(4096);
    struct auth_user u;
    const char *why;
    int rc = auth_verify_token(a, tok, SECRET, "loanflow", NOW, &u, &why);
    if (rc == 0) {
        assert_int_equal(u.id, 7);
        assert_int_equal(u.role, ROLE_OFFICER);
        assert_string_equal(u.jti, "abc");
    }
    arena_free(a);
    return rc;
}

static void test_valid(void **state)
{
    (void)state;
    char *t = make(JWT_ALG_HS256, SECRET, "loanflow", NOW + 60, 1);
    assert_int_equal(verify(t), 0);
    free(t);
}

static void test_refused(void **state)
{
    (void)state;
    char *t;
    t = make(JWT_ALG_HS256, "another-secret-another-secret-xx", "loanflow", NOW + 60, 1);
    assert_int_equal(verify(t), -1);
    free(t);
    t = make(JWT_ALG_HS512, SECRET, "loanflow", NOW + 60, 1);
    assert_int_equal(verify(t), -1);
    free(t);
    t = make(JWT_ALG_NONE, NULL, "loanflow", NOW + 60, 1);
    assert_int_equal(verify(t), -1);
    free(t);
    t = make(JWT_ALG_HS256, SECRET, "loanflow", NOW, 1); /* exp == now: expired */
    assert_int_equal(verify(t), -1);
    free(t);
    t = make(JWT_ALG_HS256, SECRET, "someone-else", NOW + 60, 1);
    assert_int_equal(verify(t), -1);
    free(t);
    t = make(JWT_ALG_HS256, SECRET, "loanflow", NOW + 60, 0);
    assert_int_equal(verify(t), -1);
    free(t);
    assert_int_equal(verify("garbage"), -1);
    assert_int_equal(verify(""), -1);
    assert_int_equal(verify("a.b.c"), -1);
}

static void test_passwords(void **state)
{
    (void)state;
    char h[AUTH_HASH_MAX];
    assert_int_equal(auth_hash_password("correct horse", h), 0);
    assert_true(auth_verify_password(h, "correct horse"));
    assert_false(auth_verify_password(h, "correct horsE"));
    assert_false(auth_verify_password(NULL, "anything"));
    assert_false(auth_needs_rehash(h));
    assert_int_equal(auth_role_from_name("admin"), ROLE_ADMIN);
    assert_false(auth_role_valid("root"));
    assert_false(auth_role_valid("public"));
}

/* Staff need 12 bytes, applicants 8; 128 at most for everyone. */
static void test_password_rule(void **state)
{
    (void)state;
    assert_int_equal(auth_password_min(ROLE_APPLICANT), 8);
    assert_int_equal(auth_password_min(ROLE_OFFICER), 12);
    assert_int_equal(auth_password_min(ROLE_ADMIN), 12);
    assert_true(auth_password_check(ROLE_APPLICANT, "eight ch"));
    assert_false(auth_password_check(ROLE_APPLICANT, "seven c"));
    assert_false(auth_password_check(ROLE_OFFICER, "elevenchars"));
    assert_true(auth_password_check(ROLE_OFFICER, "twelve chars"));
    assert_false(auth_password_check(ROLE_ADMIN, "admin12345"));
    char longpw[130];
    memset(longpw, 'x', 129);
    longpw[129] = '\0';
    assert_false(auth_password_check(ROLE_APPLICANT, longpw));
    longpw[128] = '\0';
    assert_true(auth_password_check(ROLE_ADMIN, longpw));
    assert_false(auth_password_check(ROLE_APPLICANT, NULL));
}

/* Idle means more than the limit since the last request; 0 turns the rule off. */
static void test_idle_rule(void **state)
{
    (void)state;
    assert_false(auth_idle_expired(NOW, NOW, 1800));
    assert_false(auth_idle_expired(NOW, NOW + 1800, 1800));
    assert_true(auth_idle_expired(NOW, NOW + 1801, 1800));
    assert_false(auth_idle_expired(NOW, NOW + 86400, 0));
}

/* The throttle's key: the same for any letter case, another under another secret, no email. */
static void test_email_key(void **state)
{
    (void)state;
    char a[AUTH_EMAIL_KEY_LEN + 1], b[AUTH_EMAIL_KEY_LEN + 1], c[AUTH_EMAIL_KEY_LEN + 1];
    assert_int_equal(auth_email_key(SECRET, "Alice@Example.com", a), 0);
    assert_int_equal(auth_email_key(SECRET, "alice@example.com", b), 0);
    assert_string_equal(a, b);
    assert_int_equal(strlen(a), AUTH_EMAIL_KEY_LEN);
    assert_null(strstr(a, "alice"));
    assert_int_equal(auth_email_key("another secret of 32 bytes or more!", "alice@example.com", c),
                     0);
    assert_string_not_equal(a, c);
    assert_int_equal(auth_email_key(SECRET, "bob@example.com", c), 0);
    assert_string_not_equal(a, c);
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid),     cmocka_unit_test(test_refused),
        cmocka_unit_test(test_passwords), cmocka_unit_test(test_password_rule),
        cmocka_unit_test(test_idle_rule), cmocka_unit_test(test_email_key),
    };
    return cmocka_run_group_tests_name("auth", tests, NULL, NULL);
}
