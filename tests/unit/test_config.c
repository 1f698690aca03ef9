/* Configuration parsing: defaults, strict numbers, and production's refusal of dev secrets. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "config.h"

struct kv {
    const char *k, *v;
};

static const char *lookup(const char *name, void *ud)
{
    for (const struct kv *p = ud; p->k; p++)
        if (!strcmp(p->k, name))
            return p->v;
    return NULL;
}

#define SECRET "0123456789abcdef0123456789abcdef"

static void test_defaults(void **state)
{
    (void)state;
    struct config c;
    char err[256];
    struct kv env[] = {{"JWT_SECRET", SECRET}, {NULL, NULL}};
    assert_int_equal(config_parse(&c, lookup, env, err, sizeof(err)), 0);
    assert_int_equal(c.env, ENV_DEVELOPMENT);
    assert_true(c.workers >= 2);
    assert_int_equal(c.max_body, 65536);
    assert_int_equal(c.jwt_ttl, 86400);
    assert_int_equal(c.session_idle_seconds, 1800);
    assert_string_equal(c.jwt_issuer, "loanflow");
    assert_int_equal(c.review_mode, REVIEW_AUTO);
    assert_true(c.sanctions_block > 0.919 && c.sanctions_block < 0.921);
    assert_int_equal(c.dashboard_ttl, 30);
    assert_int_equal(c.test_routes, 0);
    assert_string_equal(c.pii_key, CONFIG_DEV_PII_KEY);
    assert_string_equal(c.ekyc_provider, "sandbox");
    assert_int_equal(c.provider_timeout_ms, 3000);
}

static void expect_error(struct kv *env, const char *needle)
{
    struct config c;
    char err[256];
    assert_int_equal(config_parse(&c, lookup, env, err, sizeof(err)), -1);
    if (strstr(err, needle) == NULL)
        fail_msg("error \"%s\" does not name %s", err, needle);
}

static void test_invalid_values(void **state)
{
    (void)state;
    struct kv a[] = {{"JWT_SECRET", SECRET}, {"WORKERS", "zero"}, {NULL, NULL}};
    expect_error(a, "WORKERS");
    struct kv b[] = {{"JWT_SECRET", SECRET}, {"WORKERS", "0"}, {NULL, NULL}};
    expect_error(b, "WORKERS");
    struct kv c[] = {{"JWT_SECRET", SECRET}, {"WORKERS", "4x"}, {NULL, NULL}};
    expect_error(c, "WORKERS");
    struct kv d[] = {{"JWT_SECRET", "short"}, {NULL, NULL}};
    expect_error(d, "JWT_SECRET");
    struct kv e[] = {{NULL, NULL}};
    expect_error(e, "JWT_SECRET");
    struct kv f[] = {{"JWT_SECRET", SECRET}, {"APP_ENV", "prod"}, {NULL, NULL}};
    expect_error(f, "APP_ENV");
    struct kv g[] = {{"JWT_SECRET", SECRET}, {"REDIS_URL", "localhost:6379"}, {NULL, NULL}};
    expect_error(g, "REDIS_URL");
    struct kv h[] = {{"JWT_SECRET", SECRET}, {"LOG_STDERR", "maybe"}, {NULL, NULL}};
    expect_error(h, "LOG_STDERR");
    struct kv i[] = {{"JWT_SECRET", SECRET}, {"SANCTIONS_REVIEW", "0.95"}, {NULL, NULL}};
    expect_error(i, "SANCTIONS_REVIEW");
    struct kv j[] = {{"JWT_SECRET", SECRET}, {"REVIEW_MODE", "later"}, {NULL, NULL}};
    expect_error(j, "REVIEW_MODE");
    struct kv k[] = {{"JWT_SECRET", SECRET}, {"MAX_BODY_BYTES", "10"}, {NULL, NULL}};
    expect_error(k, "MAX_BODY_BYTES");
}

static void test_production(void **state)
{
    (void)state;
    struct kv a[] = {{"APP_ENV", "production"},
                     {"JWT_SECRET", "dev-only-change-me-0123456789abcdef"},
                     {"ADMIN_PASSWORD", "s3cret-admin-pass"},
                     {"DATABASE_URL", "postgresql://lf:Xk29sd@db/loanflow"},
                     {NULL, NULL}};
    expect_error(a, "JWT_SECRET");
    struct kv b[] = {{"APP_ENV", "production"},
                     {"JWT_SECRET", SECRET},
                     {"ADMIN_PASSWORD", "admin12345"},
                     {"DATABASE_URL", "postgresql://lf:Xk29sd@db/loanflow"},
                     {NULL, NULL}};
    expect_error(b, "ADMIN_PASSWORD");
    struct kv c[] = {{"APP_ENV", "production"},
                     {"JWT_SECRET", SECRET},
                     {"ADMIN_PASSWORD", "s3cret-admin-pass"},
                     {"DATABASE_URL", "postgresql://loanflow:loanflow@db/loanflow"},
                     {NULL, NULL}};
    expect_error(c, "DATABASE_URL");
    struct kv d[] = {{"APP_ENV", "production"},
                     {"JWT_SECRET", SECRET},
                     {"ADMIN_PASSWORD", "s3cret-admin-pass"},
                     {"DATABASE_URL", "postgresql://lf:Xk29sd@db/loanflow"},
                     {"TEST_ROUTES", "1"},
                     {NULL, NULL}};
    expect_error(d, "TEST_ROUTES");
    d[4].k = NULL;
    /* Protected identity data: a key of its own, and no sandbox providers. */
    expect_error(d, "PII_KEY");
    struct kv e[] = {
        {"APP_ENV", "production"},
        {"JWT_SECRET", SECRET},
        {"ADMIN_PASSWORD", "s3cret-admin-pass"},
        {"DATABASE_URL", "postgresql://lf:Xk29sd@db/loanflow"},
        {"PII_KEY", CONFIG_DEV_PII_KEY},
        {"EKYC_PROVIDER", "none"},
        {"BUREAU_PROVIDER", "none"},
        {"GATEWAY_PROVIDER", "none"},
        {"SIGNING_KEY", "1c0b84e8e3b1c2f7a2e9a6d4f5b7c8d9e0f1a2b3c4d5e6f708192a3b4c5d6e7f"},
        {"GATEWAY_WEBHOOK_SECRET", "whsec_a_production_secret_of_its_own"},
        {NULL, NULL}};
    expect_error(e, "PII_KEY");
    e[4].v = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
    e[5].v = "sandbox";
    expect_error(e, "EKYC_PROVIDER");
    e[5].v = "none";
    /* Lending: no sandbox gateway, a signing key and a webhook secret of its own. */
    e[7].v = "sandbox";
    expect_error(e, "GATEWAY_PROVIDER");
    e[7].v = "none";
    e[8].v = CONFIG_DEV_SIGNING_KEY;
    expect_error(e, "SIGNING_KEY");
    e[8].k = "SIGNING_KEY_UNSET";
    expect_error(e, "SIGNING_KEY");
    e[8].k = "SIGNING_KEY";
    e[8].v = "1c0b84e8e3b1c2f7a2e9a6d4f5b7c8d9e0f1a2b3c4d5e6f708192a3b4c5d6e7f";
    e[9].k = "GATEWAY_WEBHOOK_SECRET_UNSET";
    expect_error(e, "GATEWAY_WEBHOOK_SECRET");
    e[9].k = "GATEWAY_WEBHOOK_SECRET";
    struct config cfg;
    char err[256];
    assert_int_equal(config_parse(&cfg, lookup, e, err, sizeof(err)), 0);
    assert_int_equal(cfg.cookie_secure, 1);
    struct kv f[] = {{"JWT_SECRET", SECRET}, {"PII_KEY", "abc"}, {NULL, NULL}};
    expect_error(f, "PII_KEY");
    struct kv g[] = {{"JWT_SECRET", SECRET}, {"EKYC_PROVIDER", "karza"}, {NULL, NULL}};
    expect_error(g, "EKYC_PROVIDER");
}

/* The variables the master and loanctl used to read with getenv: defaults, values, errors. */
static void test_process_fields(void **state)
{
    (void)state;
    struct config c;
    char err[256];
    struct kv dflt[] = {{"JWT_SECRET", SECRET}, {"ADMIN_EMAIL", ""}, {NULL, NULL}};
    assert_int_equal(config_parse(&c, lookup, dflt, err, sizeof(err)), 0);
    assert_string_equal(c.admin_email, CONFIG_DEV_ADMIN_EMAIL);
    assert_string_equal(c.admin_password, CONFIG_DEV_ADMIN_PASSWORD);
    assert_true(c.login_workers >= 1);
    assert_int_equal(c.login_nice, 10);
    assert_string_equal(c.fcgi_auth_socket, "");
    assert_string_equal(c.epoch_file, "");
    assert_string_equal(c.sql_dir, "sql");
    assert_string_equal(c.notify_sink, "var/log/notifications.jsonl");
    assert_int_equal(c.notifier_delay_ms, 0);

    struct kv set[] = {{"JWT_SECRET", SECRET},
                       {"ADMIN_EMAIL", "root@bank.example"},
                       {"ADMIN_PASSWORD", "a-long-admin-password"},
                       {"LOGIN_WORKERS", "0"},
                       {"LOGIN_NICE", "19"},
                       {"FCGI_AUTH_SOCKET", "/run/lf-auth.sock"},
                       {"EPOCH_FILE", "/run/lf.epoch"},
                       {"LOANFLOW_SQL_DIR", "/opt/loanflow/sql"},
                       {"NOTIFY_SINK", "/tmp/n.jsonl"},
                       {"NOTIFIER_DELAY_MS", "100"},
                       {NULL, NULL}};
    assert_int_equal(config_parse(&c, lookup, set, err, sizeof(err)), 0);
    assert_string_equal(c.admin_email, "root@bank.example");
    assert_string_equal(c.admin_password, "a-long-admin-password");
    assert_int_equal(c.login_workers, 0);
    assert_int_equal(c.login_nice, 19);
    assert_string_equal(c.fcgi_auth_socket, "/run/lf-auth.sock");
    assert_string_equal(c.epoch_file, "/run/lf.epoch");
    assert_string_equal(c.sql_dir, "/opt/loanflow/sql");
    assert_string_equal(c.notify_sink, "/tmp/n.jsonl");
    assert_int_equal(c.notifier_delay_ms, 100);

    struct kv a[] = {{"JWT_SECRET", SECRET}, {"LOGIN_NICE", "20"}, {NULL, NULL}};
    expect_error(a, "LOGIN_NICE");
    struct kv b[] = {{"JWT_SECRET", SECRET}, {"LOGIN_WORKERS", "-1"}, {NULL, NULL}};
    expect_error(b, "LOGIN_WORKERS");
    struct kv d[] = {{"JWT_SECRET", SECRET}, {"NOTIFIER_DELAY_MS", "soon"}, {NULL, NULL}};
    expect_error(d, "NOTIFIER_DELAY_MS");
    struct kv e[] = {{"JWT_SECRET", SECRET}, {"ADMIN_EMAIL", "nobody"}, {NULL, NULL}};
    expect_error(e, "ADMIN_EMAIL");
    struct kv idle[] = {{"JWT_SECRET", SECRET}, {"SESSION_IDLE_SECONDS", "-1"}, {NULL, NULL}};
    expect_error(idle, "SESSION_IDLE_SECONDS");
    struct kv f[] = {{"JWT_SECRET", SECRET},
                     {"FCGI_SOCKET", "/run/lf.sock"},
                     {"FCGI_AUTH_SOCKET", "/run/lf.sock"},
                     {NULL, NULL}};
    expect_error(f, "FCGI_AUTH_SOCKET");
    /* Production refuses the development admin password when ADMIN_PASSWORD is unset too. */
    struct kv g[] = {{"APP_ENV", "production"},
                     {"JWT_SECRET", SECRET},
                     {"DATABASE_URL", "postgresql://lf:Xk29sd@db/loanflow"},
                     {NULL, NULL}};
    expect_error(g, "ADMIN_PASSWORD");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_invalid_values),
        cmocka_unit_test(test_production),
        cmocka_unit_test(test_process_fields),
    };
    return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}
