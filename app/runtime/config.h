/*
 * Configuration is read once, from the environment, into one struct that the rest of the program
 * treats as read-only (config_get()). Every value is validated at start: a bad value stops the
 * process with a message naming the variable, before any worker is forked.
 */
#ifndef LOANFLOW_CONFIG_H
#define LOANFLOW_CONFIG_H

#include <stddef.h>

enum app_env { ENV_DEVELOPMENT, ENV_TEST, ENV_PRODUCTION };
enum review_mode { REVIEW_AUTO, REVIEW_MANUAL };

struct config {
    enum app_env env;
    char fcgi_socket[256];        /* FCGI_SOCKET */
    int workers;                  /* WORKERS, default 2 x online cores */
    char database_url[512];       /* DATABASE_URL (libpq conninfo or URI) */
    char redis_url[256];          /* REDIS_URL: unix:/path, redis://host:port, or "" for no cache */
    char log_file[256];           /* LOG_FILE, "" for none */
    int log_stderr;               /* LOG_STDERR */
    int log_level;                /* LOG_LEVEL: debug|info|warn|error */
    size_t max_body;              /* MAX_BODY_BYTES */
    int test_routes;              /* TEST_ROUTES: expose the /__test routes (never in production) */
    char jwt_secret[256];         /* JWT_SECRET, at least 32 bytes */
    long jwt_ttl;                 /* JWT_TTL seconds */
    char jwt_issuer[64];          /* JWT_ISSUER */
    int cookie_secure;            /* COOKIE_SECURE */
    int hash_slots;               /* LOGIN_CONCURRENCY: workers allowed to run Argon2id at once */
    enum review_mode review_mode; /* REVIEW_MODE: auto|manual */
    double sanctions_block;       /* SANCTIONS_BLOCK */
    double sanctions_review;      /* SANCTIONS_REVIEW */
    int dashboard_ttl;            /* DASHBOARD_TTL seconds */
    long long four_eyes_cents; /* FOUR_EYES_AMOUNT (whole units) in cents: above it, two officers */
    long session_idle_seconds; /* SESSION_IDLE_SECONDS: staff cookie sessions, 0 = no limit */
    char admin_email[128];     /* ADMIN_EMAIL: the admin `loanctl user ensure-admin` creates */
    char admin_password[128];  /* ADMIN_PASSWORD: its password; production refuses the default */
    char template_dir[256];    /* TEMPLATE_DIR */
    char compliance_email[128]; /* COMPLIANCE_EMAIL: where review alerts go */
    char pii_key[65]; /* PII_KEY: 64 hex digits (32 bytes) protecting Aadhaar/PAN/account */
    char pii_key_previous[65]; /* PII_KEY_PREVIOUS: the key being rotated away from, or "" */
    char ekyc_provider[16];    /* EKYC_PROVIDER: sandbox | none */
    char bureau_provider[16];  /* BUREAU_PROVIDER: sandbox | none */
    int provider_timeout_ms;   /* PROVIDER_TIMEOUT_MS: a provider call slower than this times out */
    int login_workers;         /* LOGIN_WORKERS: workers of the login pool, default online cores */
    int login_nice;            /* LOGIN_NICE: the login pool's nice value (0-19) */
    char fcgi_auth_socket[256]; /* FCGI_AUTH_SOCKET: the login pool's socket, "" = no such pool */
    char epoch_file[256];       /* EPOCH_FILE: the host's change counter, "" = no memory caches */
    char sql_dir[256];          /* LOANFLOW_SQL_DIR: the migrations `loanctl migrate` applies */
    char notify_sink[256];      /* NOTIFY_SINK: the file the notifier appends messages to */
    int notifier_delay_ms;      /* NOTIFIER_DELAY_MS: pause after each delivery (tests), 0 = none */

    /* Lending (issue 13). */
    char gateway_provider[16];    /* GATEWAY_PROVIDER: sandbox | none */
    char gateway_url[256];        /* GATEWAY_URL: the gateway's API base, e.g. http://127.0.0.1:P */
    char gateway_key_id[128];     /* GATEWAY_KEY_ID: the API key id (HTTP basic user) */
    char gateway_key_secret[128]; /* GATEWAY_KEY_SECRET: the API key secret (basic password) */
    char gateway_webhook_secret[128]; /* GATEWAY_WEBHOOK_SECRET: HMAC-SHA256 key of the webhooks */
    char gateway_account[64];         /* GATEWAY_ACCOUNT: the lender's source account number */
    int gateway_timeout_ms;           /* GATEWAY_TIMEOUT_MS: one gateway call's time limit */
    char signing_key[65]; /* SIGNING_KEY: 64 hex digits, the Ed25519 seed countersigning agreements
                           */
    int otp_ttl_seconds;  /* OTP_TTL_SECONDS: a one-time code's lifetime (600) */
    int otp_max_tries;    /* OTP_MAX_TRIES: wrong codes before a new one must be asked for (3) */

    /* MIGRATE_DATABASE_URL: the schema owner's conninfo, for `loanctl migrate` only; "" = use
     * DATABASE_URL (one role). */
    char migrate_database_url[512];
};

/* Looks a variable up; NULL when unset. Lets tests feed a table instead of the environment. */
typedef const char *(*config_lookup_fn)(const char *name, void *ud);

/* Fills *c from lookup. Returns 0, or -1 with a message naming the variable in err. */
int config_parse(struct config *c, config_lookup_fn lookup, void *ud, char *err, size_t errlen)
    __attribute__((warn_unused_result));

/* Parses the process environment into the global configuration; 0 or -1 with err. */
int config_load(char *err, size_t errlen) __attribute__((warn_unused_result));
/* Borrowed pointer to the global configuration, valid for the life of the process. */
const struct config *config_get(void);

/* The development admin: the defaults of ADMIN_EMAIL and ADMIN_PASSWORD; production refuses the
 * password. */
#define CONFIG_DEV_ADMIN_EMAIL    "admin@example.com"
#define CONFIG_DEV_ADMIN_PASSWORD "admin12345"
/* The PII key a development setup uses when PII_KEY is unset; production refuses it. */
/* The agreement-signing seed a development setup uses when SIGNING_KEY is unset; production
 * refuses it. The gateway's development webhook secret likewise. */
#define CONFIG_DEV_SIGNING_KEY    "646576656c6f706d656e742d6f6e6c792d7369676e696e672d6b65792d212121"
#define CONFIG_DEV_WEBHOOK_SECRET "whsec_loanflow_development_only"
#define CONFIG_DEV_PII_KEY        "646576656c6f706d656e742d6f6e6c792d7069692d6b65792d6e6f742d736574"

#endif
