/*
 * Environment parsing. Numbers are parsed strictly (the whole string, within range); booleans
 * accept 1/0/true/false/yes/no; anything else is an error naming the variable, never a silent
 * default. Production mode (APP_ENV=production) additionally refuses development secrets.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

static struct config global_config;

const struct config *config_get(void)
{
    return &global_config;
}

static int fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -1;
}

static int get_str(config_lookup_fn lookup, void *ud, const char *name, const char *def, char *out,
                   size_t outlen, char *err, size_t errlen)
{
    const char *v = lookup(name, ud);
    if (v == NULL)
        v = def;
    if (strlen(v) >= outlen)
        return fail(err, errlen, "%s is too long (at most %zu bytes)", name, outlen - 1);
    memcpy(out, v, strlen(v) + 1);
    return 0;
}

static int get_long(config_lookup_fn lookup, void *ud, const char *name, long def, long min,
                    long max, long *out, char *err, size_t errlen)
{
    const char *v = lookup(name, ud);
    if (v == NULL || v[0] == '\0') {
        *out = def;
        return 0;
    }
    char *end;
    errno = 0;
    long n = strtol(v, &end, 10);
    if (errno != 0 || end == v || *end != '\0' || n < min || n > max)
        return fail(err, errlen, "%s must be a whole number from %ld to %ld, got \"%s\"", name, min,
                    max, v);
    *out = n;
    return 0;
}

static int get_double(config_lookup_fn lookup, void *ud, const char *name, double def, double min,
                      double max, double *out, char *err, size_t errlen)
{
    const char *v = lookup(name, ud);
    if (v == NULL || v[0] == '\0') {
        *out = def;
        return 0;
    }
    char *end;
    errno = 0;
    double d = strtod(v, &end);
    if (errno != 0 || end == v || *end != '\0' || !(d >= min && d <= max))
        return fail(err, errlen, "%s must be a number from %g to %g, got \"%s\"", name, min, max,
                    v);
    *out = d;
    return 0;
}

static int get_bool(config_lookup_fn lookup, void *ud, const char *name, int def, int *out,
                    char *err, size_t errlen)
{
    const char *v = lookup(name, ud);
    if (v == NULL || v[0] == '\0') {
        *out = def;
        return 0;
    }
    if (!strcmp(v, "1") || !strcasecmp(v, "true") || !strcasecmp(v, "yes") || !strcasecmp(v, "on"))
        *out = 1;
    else if (!strcmp(v, "0") || !strcasecmp(v, "false") || !strcasecmp(v, "no") ||
             !strcasecmp(v, "off"))
        *out = 0;
    else
        return fail(err, errlen, "%s must be 1 or 0 (true/false), got \"%s\"", name, v);
    return 0;
}

static int hex_key_valid(const char *s)
{
    size_t i = 0;
    for (; s[i]; i++)
        if (!isxdigit((unsigned char)s[i]))
            return 0;
    return i == 64;
}

/* A password inside a libpq URI or conninfo that production must not accept. */
static int database_url_has_default_password(const char *url)
{
    static const char *defaults[] = {":loanflow@",        ":postgres@",        ":password@",
                                     "password=loanflow", "password=postgres", "password=password"};
    for (size_t i = 0; i < sizeof(defaults) / sizeof(defaults[0]); i++)
        if (strstr(url, defaults[i]) != NULL)
            return 1;
    return 0;
}

int config_parse(struct config *c, config_lookup_fn lookup, void *ud, char *err, size_t errlen)
{
    char buf[64];
    long n;
    memset(c, 0, sizeof(*c));

    if (get_str(lookup, ud, "APP_ENV", "development", buf, sizeof(buf), err, errlen))
        return -1;
    if (!strcmp(buf, "development"))
        c->env = ENV_DEVELOPMENT;
    else if (!strcmp(buf, "test"))
        c->env = ENV_TEST;
    else if (!strcmp(buf, "production"))
        c->env = ENV_PRODUCTION;
    else
        return fail(err, errlen, "APP_ENV must be development, test or production, got \"%s\"",
                    buf);

    if (get_str(lookup, ud, "FCGI_SOCKET", "var/run/loanflow.sock", c->fcgi_socket,
                sizeof(c->fcgi_socket), err, errlen))
        return -1;
    if (c->fcgi_socket[0] == '\0')
        return fail(err, errlen, "FCGI_SOCKET must not be empty");

    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    if (cores < 1)
        cores = 1;
    if (get_long(lookup, ud, "WORKERS", 2 * cores, 1, 256, &n, err, errlen))
        return -1;
    c->workers = (int)n;

    if (get_str(lookup, ud, "DATABASE_URL", "", c->database_url, sizeof(c->database_url), err,
                errlen) ||
        get_str(lookup, ud, "MIGRATE_DATABASE_URL", "", c->migrate_database_url,
                sizeof(c->migrate_database_url), err, errlen) ||
        get_str(lookup, ud, "REDIS_URL", "", c->redis_url, sizeof(c->redis_url), err, errlen) ||
        get_str(lookup, ud, "LOG_FILE", "", c->log_file, sizeof(c->log_file), err, errlen))
        return -1;
    if (c->redis_url[0] != '\0' && strncmp(c->redis_url, "unix:", 5) != 0 &&
        strncmp(c->redis_url, "redis://", 8) != 0)
        return fail(err, errlen, "REDIS_URL must start with unix: or redis://, got \"%s\"",
                    c->redis_url);

    if (get_bool(lookup, ud, "LOG_STDERR", 1, &c->log_stderr, err, errlen))
        return -1;
    if (get_str(lookup, ud, "LOG_LEVEL", "info", buf, sizeof(buf), err, errlen))
        return -1;
    static const char *levels[] = {"debug", "info", "warn", "error"};
    c->log_level = -1;
    for (int i = 0; i < 4; i++)
        if (!strcmp(buf, levels[i]))
            c->log_level = i;
    if (c->log_level < 0)
        return fail(err, errlen, "LOG_LEVEL must be debug, info, warn or error, got \"%s\"", buf);

    if (get_long(lookup, ud, "MAX_BODY_BYTES", 65536, 1024, 16L * 1024 * 1024, &n, err, errlen))
        return -1;
    c->max_body = (size_t)n;

    if (get_bool(lookup, ud, "TEST_ROUTES", 0, &c->test_routes, err, errlen))
        return -1;

    if (get_str(lookup, ud, "JWT_SECRET", "", c->jwt_secret, sizeof(c->jwt_secret), err, errlen))
        return -1;
    if (strlen(c->jwt_secret) < 32)
        return fail(err, errlen, "JWT_SECRET must be set to at least 32 bytes (got %zu)",
                    strlen(c->jwt_secret));
    if (get_long(lookup, ud, "JWT_TTL", 86400, 60, 30L * 86400, &c->jwt_ttl, err, errlen))
        return -1;
    if (get_str(lookup, ud, "JWT_ISSUER", "loanflow", c->jwt_issuer, sizeof(c->jwt_issuer), err,
                errlen))
        return -1;
    if (get_bool(lookup, ud, "COOKIE_SECURE", c->env == ENV_PRODUCTION, &c->cookie_secure, err,
                 errlen))
        return -1;
    long hs = cores > 1 ? cores - 1 : 1;
    if (get_long(lookup, ud, "LOGIN_CONCURRENCY", hs, 1, 64, &n, err, errlen))
        return -1;
    c->hash_slots = (int)n;

    if (get_str(lookup, ud, "REVIEW_MODE", "auto", buf, sizeof(buf), err, errlen))
        return -1;
    if (!strcmp(buf, "auto"))
        c->review_mode = REVIEW_AUTO;
    else if (!strcmp(buf, "manual"))
        c->review_mode = REVIEW_MANUAL;
    else
        return fail(err, errlen, "REVIEW_MODE must be auto or manual, got \"%s\"", buf);

    if (get_double(lookup, ud, "SANCTIONS_BLOCK", 0.92, 0.5, 1.0, &c->sanctions_block, err,
                   errlen) ||
        get_double(lookup, ud, "SANCTIONS_REVIEW", 0.85, 0.5, 1.0, &c->sanctions_review, err,
                   errlen))
        return -1;
    if (c->sanctions_review > c->sanctions_block)
        return fail(err, errlen, "SANCTIONS_REVIEW (%g) must not exceed SANCTIONS_BLOCK (%g)",
                    c->sanctions_review, c->sanctions_block);
    if (get_long(lookup, ud, "DASHBOARD_TTL", 30, 1, 86400, &n, err, errlen))
        return -1;
    c->dashboard_ttl = (int)n;
    /* Loans above this amount need two different officers' approvals (maker-checker). */
    if (get_long(lookup, ud, "FOUR_EYES_AMOUNT", 500000, 0, 999999999999L, &n, err, errlen))
        return -1;
    c->four_eyes_cents = (long long)n * 100;
    if (get_long(lookup, ud, "SESSION_IDLE_SECONDS", 1800, 0, 86400, &c->session_idle_seconds, err,
                 errlen))
        return -1;

    /* The development admin; an empty value means the default, as an unset one does. */
    if (get_str(lookup, ud, "ADMIN_EMAIL", "", c->admin_email, sizeof(c->admin_email), err,
                errlen) ||
        get_str(lookup, ud, "ADMIN_PASSWORD", "", c->admin_password, sizeof(c->admin_password), err,
                errlen))
        return -1;
    if (c->admin_email[0] == '\0')
        memcpy(c->admin_email, CONFIG_DEV_ADMIN_EMAIL, sizeof(CONFIG_DEV_ADMIN_EMAIL));
    if (c->admin_password[0] == '\0')
        memcpy(c->admin_password, CONFIG_DEV_ADMIN_PASSWORD, sizeof(CONFIG_DEV_ADMIN_PASSWORD));
    if (strchr(c->admin_email, '@') == NULL)
        return fail(err, errlen, "ADMIN_EMAIL must be an email address, got \"%s\"",
                    c->admin_email);

    if (get_str(lookup, ud, "TEMPLATE_DIR", "templates", c->template_dir, sizeof(c->template_dir),
                err, errlen))
        return -1;

    if (get_str(lookup, ud, "COMPLIANCE_EMAIL", "compliance@loanflow.local", c->compliance_email,
                sizeof(c->compliance_email), err, errlen))
        return -1;

    /* Protected identity data. A key is 64 hex digits; development and test fall back to a
     * published default, which production refuses along with a missing key. */
    if (get_str(lookup, ud, "PII_KEY", "", c->pii_key, sizeof(c->pii_key), err, errlen) ||
        get_str(lookup, ud, "PII_KEY_PREVIOUS", "", c->pii_key_previous,
                sizeof(c->pii_key_previous), err, errlen))
        return -1;
    int pii_missing = c->pii_key[0] == '\0';
    if (pii_missing)
        memcpy(c->pii_key, CONFIG_DEV_PII_KEY, sizeof(CONFIG_DEV_PII_KEY));
    if (!hex_key_valid(c->pii_key))
        return fail(err, errlen, "PII_KEY must be exactly 64 hex digits (32 bytes)");
    if (c->pii_key_previous[0] != '\0' && !hex_key_valid(c->pii_key_previous))
        return fail(err, errlen, "PII_KEY_PREVIOUS must be exactly 64 hex digits (32 bytes)");
    if (c->pii_key_previous[0] != '\0' && !strcasecmp(c->pii_key, c->pii_key_previous))
        return fail(err, errlen, "PII_KEY_PREVIOUS must differ from PII_KEY");

    if (get_str(lookup, ud, "EKYC_PROVIDER", "sandbox", c->ekyc_provider, sizeof(c->ekyc_provider),
                err, errlen) ||
        get_str(lookup, ud, "BUREAU_PROVIDER", "sandbox", c->bureau_provider,
                sizeof(c->bureau_provider), err, errlen))
        return -1;
    if (strcmp(c->ekyc_provider, "sandbox") != 0 && strcmp(c->ekyc_provider, "none") != 0)
        return fail(err, errlen, "EKYC_PROVIDER must be sandbox or none, got \"%s\"",
                    c->ekyc_provider);
    if (strcmp(c->bureau_provider, "sandbox") != 0 && strcmp(c->bureau_provider, "none") != 0)
        return fail(err, errlen, "BUREAU_PROVIDER must be sandbox or none, got \"%s\"",
                    c->bureau_provider);
    /* A submission may wait on four provider calls; 4 x 7 s stays inside nginx's 30 s. */
    if (get_long(lookup, ud, "PROVIDER_TIMEOUT_MS", 3000, 50, 7000, &n, err, errlen))
        return -1;
    c->provider_timeout_ms = (int)n;

    /* The login pool: one worker per core (Argon2id is memory-bound, see main.c), at a lower
     * priority; no pool at all without its socket. */
    if (get_long(lookup, ud, "LOGIN_WORKERS", cores, 0, 64, &n, err, errlen))
        return -1;
    c->login_workers = (int)n;
    if (get_long(lookup, ud, "LOGIN_NICE", 10, 0, 19, &n, err, errlen))
        return -1;
    c->login_nice = (int)n;
    if (get_str(lookup, ud, "FCGI_AUTH_SOCKET", "", c->fcgi_auth_socket,
                sizeof(c->fcgi_auth_socket), err, errlen))
        return -1;
    if (c->fcgi_auth_socket[0] != '\0' && !strcmp(c->fcgi_auth_socket, c->fcgi_socket))
        return fail(err, errlen, "FCGI_AUTH_SOCKET must differ from FCGI_SOCKET (%s)",
                    c->fcgi_socket);

    if (get_str(lookup, ud, "EPOCH_FILE", "", c->epoch_file, sizeof(c->epoch_file), err, errlen) ||
        get_str(lookup, ud, "LOANFLOW_SQL_DIR", "sql", c->sql_dir, sizeof(c->sql_dir), err,
                errlen) ||
        get_str(lookup, ud, "NOTIFY_SINK", "var/log/notifications.jsonl", c->notify_sink,
                sizeof(c->notify_sink), err, errlen))
        return -1;
    if (c->sql_dir[0] == '\0')
        memcpy(c->sql_dir, "sql", 4);
    if (c->notify_sink[0] == '\0')
        memcpy(c->notify_sink, "var/log/notifications.jsonl",
               sizeof("var/log/notifications.jsonl"));
    if (get_long(lookup, ud, "NOTIFIER_DELAY_MS", 0, 0, 60000, &n, err, errlen))
        return -1;
    c->notifier_delay_ms = (int)n;

    /* Lending: the payment gateway and the agreement's signature. */
    if (get_str(lookup, ud, "GATEWAY_PROVIDER", "none", c->gateway_provider,
                sizeof(c->gateway_provider), err, errlen) ||
        get_str(lookup, ud, "GATEWAY_URL", "", c->gateway_url, sizeof(c->gateway_url), err,
                errlen) ||
        get_str(lookup, ud, "GATEWAY_KEY_ID", "rzp_test_loanflow", c->gateway_key_id,
                sizeof(c->gateway_key_id), err, errlen) ||
        get_str(lookup, ud, "GATEWAY_KEY_SECRET", "", c->gateway_key_secret,
                sizeof(c->gateway_key_secret), err, errlen) ||
        get_str(lookup, ud, "GATEWAY_WEBHOOK_SECRET", "", c->gateway_webhook_secret,
                sizeof(c->gateway_webhook_secret), err, errlen) ||
        get_str(lookup, ud, "GATEWAY_ACCOUNT", "7878780080316316", c->gateway_account,
                sizeof(c->gateway_account), err, errlen))
        return -1;
    if (strcmp(c->gateway_provider, "sandbox") != 0 && strcmp(c->gateway_provider, "none") != 0)
        return fail(err, errlen, "GATEWAY_PROVIDER must be sandbox or none, got \"%s\"",
                    c->gateway_provider);
    if (!strcmp(c->gateway_provider, "sandbox") && strncmp(c->gateway_url, "http://", 7) != 0 &&
        strncmp(c->gateway_url, "https://", 8) != 0)
        return fail(err, errlen,
                    "GATEWAY_URL must be an http:// or https:// URL with "
                    "GATEWAY_PROVIDER=sandbox");
    int webhook_missing = c->gateway_webhook_secret[0] == '\0';
    if (webhook_missing)
        memcpy(c->gateway_webhook_secret, CONFIG_DEV_WEBHOOK_SECRET,
               sizeof(CONFIG_DEV_WEBHOOK_SECRET));
    if (strlen(c->gateway_webhook_secret) < 16)
        return fail(err, errlen, "GATEWAY_WEBHOOK_SECRET must be at least 16 characters");
    /* A payout is three calls; 3 x 9 s stays inside nginx's 30 s. */
    if (get_long(lookup, ud, "GATEWAY_TIMEOUT_MS", 5000, 100, 9000, &n, err, errlen))
        return -1;
    c->gateway_timeout_ms = (int)n;
    if (get_str(lookup, ud, "SIGNING_KEY", "", c->signing_key, sizeof(c->signing_key), err, errlen))
        return -1;
    int signing_missing = c->signing_key[0] == '\0';
    if (signing_missing)
        memcpy(c->signing_key, CONFIG_DEV_SIGNING_KEY, sizeof(CONFIG_DEV_SIGNING_KEY));
    if (!hex_key_valid(c->signing_key))
        return fail(err, errlen,
                    "SIGNING_KEY must be exactly 64 hex digits (a 32-byte Ed25519 seed)");
    if (get_long(lookup, ud, "OTP_TTL_SECONDS", 600, 30, 3600, &n, err, errlen))
        return -1;
    c->otp_ttl_seconds = (int)n;
    if (get_long(lookup, ud, "OTP_MAX_TRIES", 3, 1, 10, &n, err, errlen))
        return -1;
    c->otp_max_tries = (int)n;

    if (c->env == ENV_PRODUCTION) {
        if (c->test_routes)
            return fail(err, errlen, "TEST_ROUTES must not be enabled with APP_ENV=production");
        if (strstr(c->jwt_secret, "change-me") != NULL || strstr(c->jwt_secret, "dev-only") != NULL)
            return fail(err, errlen,
                        "JWT_SECRET is a development default; production needs a "
                        "secret of its own (e.g. `openssl rand -hex 32`)");
        if (!strcmp(c->admin_password, CONFIG_DEV_ADMIN_PASSWORD))
            return fail(err, errlen, "ADMIN_PASSWORD is the development default; set another");
        if (c->database_url[0] == '\0' || database_url_has_default_password(c->database_url))
            return fail(err, errlen,
                        "DATABASE_URL must be set, with a password of its own, in "
                        "production");
        if (c->migrate_database_url[0] != '\0' &&
            database_url_has_default_password(c->migrate_database_url))
            return fail(err, errlen,
                        "MIGRATE_DATABASE_URL must have a password of its own in production");
        if (pii_missing)
            return fail(err, errlen,
                        "PII_KEY must be set in production (64 hex digits, e.g. "
                        "`openssl rand -hex 32`)");
        if (strcasecmp(c->pii_key, CONFIG_DEV_PII_KEY) == 0 ||
            strcasecmp(c->pii_key_previous, CONFIG_DEV_PII_KEY) == 0)
            return fail(err, errlen,
                        "PII_KEY is the development default; production needs a key "
                        "of its own (`openssl rand -hex 32`)");
        if (!strcmp(c->ekyc_provider, "sandbox") || !strcmp(c->bureau_provider, "sandbox"))
            return fail(err, errlen,
                        "EKYC_PROVIDER and BUREAU_PROVIDER must not be the sandbox "
                        "in production (use a real provider, or none)");
        if (!strcmp(c->gateway_provider, "sandbox"))
            return fail(err, errlen, "GATEWAY_PROVIDER must not be the sandbox in production");
        if (signing_missing || !strcasecmp(c->signing_key, CONFIG_DEV_SIGNING_KEY))
            return fail(err, errlen,
                        "SIGNING_KEY must be set in production to a key of its own (64 hex "
                        "digits, e.g. `openssl rand -hex 32`)");
        if (webhook_missing)
            return fail(err, errlen, "GATEWAY_WEBHOOK_SECRET must be set in production");
    }
    return 0;
}

static const char *env_lookup(const char *name, void *ud)
{
    (void)ud;
    return getenv(name);
}

int config_load(char *err, size_t errlen)
{
    return config_parse(&global_config, env_lookup, NULL, err, errlen);
}
