/*
 * loanctl user: accounts made from the command line. `add` creates a user of any role with a
 * password read from standard input (without echo on a terminal; never from argv); `list`
 * shows them; `passwd` sets a user's password from standard input through the store's use case
 * (every existing token of the user stops working, audited); `ensure-admin` is what every start
 * runs. In development and test it creates the configured admin (ADMIN_EMAIL / ADMIN_PASSWORD,
 * whose development defaults live in config.c) when no user has that email. In production it
 * never uses a password from the environment: it refuses to go on while any enabled admin's
 * password is the development default, and creates a missing first admin only from a password
 * given on standard input (at least 12 bytes, not the default); with none it fails. Passwords are
 * hashed by auth_hash_password, the server's own Argon2id, so a user made here logs in exactly
 * like one registered over HTTP; staff (officers, admins) need 12 bytes, applicants 8. Each
 * creation writes its audit_events row in the same statement as the insert.
 */
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "arena.h"
#include "auth.h"
#include "cli.h"
#include "config.h"
#include "users.h"

enum {
    CLI_USER_INSERT,
    CLI_USER_INSERT_IF_ABSENT,
    CLI_USER_LIST,
    CLI_USER_ADMINS,
    CLI_USER_EXISTS,
    CLI_USER_SQL_COUNT
};

/* clang-format off */
#define AUDITED_INSERT(rows)                                                                    \
    "WITH ins AS (INSERT INTO users (name, email, password_hash, role, password_staff_ok) "    \
    rows " RETURNING id) "                                                                      \
    "INSERT INTO audit_events (actor_email, action, target_type, target_id, client_addr, "      \
    "details) SELECT 'loanctl', 'user_create', 'user', id::text, 'local', "                     \
    "jsonb_build_object('role', $4::text) FROM ins RETURNING target_id"

static const struct db_stmt sql[CLI_USER_SQL_COUNT] = {
    [CLI_USER_INSERT] = {"cli_user_insert", AUDITED_INSERT("VALUES ($1, $2, $3, $4, $5::boolean)")},
    [CLI_USER_INSERT_IF_ABSENT] = {"cli_user_insert_if_absent",
     AUDITED_INSERT("SELECT $1, $2, $3, $4, $5::boolean WHERE NOT EXISTS (SELECT 1 FROM users WHERE "
                    "lower(email) = lower($2))")},
    [CLI_USER_LIST] = {"cli_user_list",
     "SELECT id, email, name, role, disabled, "
     "coalesce(to_char(last_login_at, 'YYYY-MM-DD HH24:MI'), '-') FROM users ORDER BY id"},
    [CLI_USER_ADMINS] = {"cli_user_admins",
     "SELECT email, password_hash FROM users WHERE role = 'admin' AND NOT disabled ORDER BY id"},
    [CLI_USER_EXISTS] = {"cli_user_exists",
     "SELECT 1 FROM users WHERE lower(email) = lower($1)"},
};
/* clang-format on */
const struct db_stmts user_cli_statements = DB_STMTS("cli_user", sql);

/* Reads one line from stdin without echo when it is a terminal. Returns 0 or -1. */
static int read_password(char *out, size_t len)
{
    struct termios old, quiet;
    int tty = isatty(STDIN_FILENO);
    if (tty) {
        fprintf(stderr, "Password: ");
        tcgetattr(STDIN_FILENO, &old);
        quiet = old;
        quiet.c_lflag &= ~(tcflag_t)ECHO;
        tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
    }
    char *got = fgets(out, (int)len, stdin);
    if (tty) {
        tcsetattr(STDIN_FILENO, TCSANOW, &old);
        fprintf(stderr, "\n");
    }
    if (got == NULL)
        return -1;
    out[strcspn(out, "\r\n")] = '\0';
    return 0;
}

/* Checks, hashes and inserts (if_absent: only when the email is unknown). min_len: the shortest
 * password accepted (the role's rule, or the development admin's exception). Exit status. */
static int insert_user(const char *email, const char *name, const char *role, const char *password,
                       int if_absent, int min_len)
{
    if (!auth_role_valid(role)) {
        fprintf(stderr, "loanctl: --role must be applicant, officer or admin\n");
        return 1;
    }
    size_t pl = strlen(password);
    if (pl < (size_t)min_len || pl > AUTH_PASSWORD_MAX) {
        fprintf(stderr, "loanctl: the password of an %s must be %d to %d bytes\n", role, min_len,
                AUTH_PASSWORD_MAX);
        return 1;
    }
    char hash[AUTH_HASH_MAX];
    if (auth_hash_password(password, hash) != 0) {
        fprintf(stderr, "loanctl: out of memory hashing the password\n");
        return 1;
    }
    if (cli_connect() != 0) {
        sodium_memzero(hash, sizeof(hash));
        return 1;
    }
    arena *a = arena_new(4096);
    const char *p[5] = {name, email, hash, role,
                        auth_password_check(ROLE_OFFICER, password) ? "true" : "false"};
    PGresult *res = db_exec(a, &sql[if_absent ? CLI_USER_INSERT_IF_ABSENT : CLI_USER_INSERT], 5, p);
    int rc = 0;
    if (!db_ok(res)) {
        cli_db_error(res, "creating the user");
        rc = 1;
    } else if (PQntuples(res) == 1) {
        printf("created %s %s (id %s)\n", role, email, PQgetvalue(res, 0, 0));
    } else {
        printf("%s already exists\n", email);
    }
    sodium_memzero(hash, sizeof(hash));
    arena_free(a);
    cli_disconnect();
    return rc;
}

int cmd_user_add(int argc, char **argv)
{
    const char *email = cli_opt(argc, argv, "--email"), *name = cli_opt(argc, argv, "--name");
    const char *role = cli_opt(argc, argv, "--role");
    if (cli_opt(argc, argv, "--password") != NULL) {
        fprintf(stderr, "loanctl: passwords are read from standard input, never from the "
                        "command line\n");
        return 2;
    }
    if (email == NULL || name == NULL || role == NULL) {
        fprintf(stderr, "usage: loanctl user add --email E --name N --role R  (password on "
                        "stdin)\n");
        return 2;
    }
    if (cli_config() != 0)
        return 1;
    char pw[256];
    if (read_password(pw, sizeof(pw)) != 0) {
        fprintf(stderr, "loanctl: no password on standard input\n");
        return 1;
    }
    int rc = insert_user(email, name, role, pw, 0, auth_password_min(auth_role_from_name(role)));
    sodium_memzero(pw, sizeof(pw));
    return rc;
}

/* Production: 0 when no enabled admin has the development password, else 1 after naming them. */
static int refuse_default_admins(void)
{
    arena *a = arena_new(4096);
    PGresult *res = db_exec(a, &sql[CLI_USER_ADMINS], 0, NULL);
    int bad = 0;
    if (!db_ok(res)) {
        cli_db_error(res, "reading the admins");
        bad = 1;
    }
    for (int i = 0; !bad && i < PQntuples(res); i++)
        if (auth_verify_password(PQgetvalue(res, i, 1), CONFIG_DEV_ADMIN_PASSWORD)) {
            fprintf(stderr,
                    "loanctl: admin %s has the development password; production refuses it: "
                    "set another with `loanctl user passwd --email %s` (password on stdin)\n",
                    PQgetvalue(res, i, 0), PQgetvalue(res, i, 0));
            bad = 1;
        }
    arena_free(a);
    return bad;
}

/* 1 when a user has email, 0 when none, -1 on a database error. */
static int user_exists(const char *email)
{
    arena *a = arena_new(4096);
    const char *p[1] = {email};
    PGresult *res = db_exec(a, &sql[CLI_USER_EXISTS], 1, p);
    int rc = db_ok(res) ? PQntuples(res) > 0 : -1;
    if (rc < 0)
        cli_db_error(res, "looking the admin up");
    arena_free(a);
    return rc;
}

/* The production rule of ensure-admin (see the top of the file). Exit status. */
static int ensure_admin_production(const char *email)
{
    if (cli_connect() != 0)
        return 1;
    int exists = refuse_default_admins() ? -1 : user_exists(email);
    cli_disconnect();
    if (exists != 0) {
        if (exists > 0)
            printf("%s already exists\n", email);
        return exists > 0 ? 0 : 1;
    }
    char pw[256];
    if (read_password(pw, sizeof(pw)) != 0 || pw[0] == '\0') {
        fprintf(stderr,
                "loanctl: production creates the first admin (%s) only from a password "
                "on standard input: echo '…' | loanctl user ensure-admin\n",
                email);
        return 1;
    }
    if (!strcmp(pw, CONFIG_DEV_ADMIN_PASSWORD)) {
        sodium_memzero(pw, sizeof(pw));
        fprintf(stderr, "loanctl: the development password is refused in production\n");
        return 1;
    }
    int rc = insert_user(email, "Administrator", "admin", pw, 1, AUTH_STAFF_PASSWORD_MIN);
    sodium_memzero(pw, sizeof(pw));
    return rc;
}

int cmd_user_ensure_admin(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    if (cli_config() != 0)
        return 1;
    const struct config *cfg = config_get();
    if (cfg->env == ENV_PRODUCTION)
        return ensure_admin_production(cfg->admin_email);
    /* Development and test: the configured admin, the short development default allowed. */
    return insert_user(cfg->admin_email, "Development Admin", "admin", cfg->admin_password, 1,
                       AUTH_PASSWORD_MIN);
}

int cmd_user_passwd(int argc, char **argv)
{
    const char *email = cli_opt(argc, argv, "--email");
    if (cli_opt(argc, argv, "--password") != NULL) {
        fprintf(stderr, "loanctl: passwords are read from standard input, never from the "
                        "command line\n");
        return 2;
    }
    if (email == NULL) {
        fprintf(stderr, "usage: loanctl user passwd --email E  (new password on stdin)\n");
        return 2;
    }
    if (cli_config() != 0)
        return 1;
    char pw[256];
    if (read_password(pw, sizeof(pw)) != 0 || pw[0] == '\0') {
        fprintf(stderr, "loanctl: no password on standard input\n");
        return 1;
    }
    if (config_get()->env == ENV_PRODUCTION && !strcmp(pw, CONFIG_DEV_ADMIN_PASSWORD)) {
        sodium_memzero(pw, sizeof(pw));
        fprintf(stderr, "loanctl: the development password is refused in production\n");
        return 1;
    }
    if (cli_connect() != 0) {
        sodium_memzero(pw, sizeof(pw));
        return 1;
    }
    arena *a = arena_new(4096);
    struct audit_client client = {"local", "loanctl"};
    struct users_user user;
    int version = 0, rc = 1;
    const PGresult *db_res = NULL;
    switch (users_change_password(a, &client, 0, "loanctl", NULL, email, NULL, pw, &user, &version,
                                  &db_res)) {
    case USERS_OK:
        printf("password of %s %s changed; their existing tokens no longer work\n", user.role,
               user.email);
        rc = 0;
        break;
    case USERS_NOT_FOUND:
        fprintf(stderr, "loanctl: no user has the email %s\n", email);
        break;
    case USERS_WEAK_PASSWORD:
        fprintf(stderr, "loanctl: the password of an %s must be %d to %d bytes\n", user.role,
                auth_password_min(auth_role_from_name(user.role)), AUTH_PASSWORD_MAX);
        break;
    case USERS_NO_MEMORY:
        fprintf(stderr, "loanctl: out of memory hashing the password\n");
        break;
    default:
        cli_db_error(db_res, "changing the password");
    }
    sodium_memzero(pw, sizeof(pw));
    arena_free(a);
    cli_disconnect();
    return rc;
}

int cmd_user_list(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    if (cli_connect() != 0)
        return 1;
    arena *a = arena_new(4096);
    PGresult *res = db_exec(a, &sql[CLI_USER_LIST], 0, NULL);
    int rc = 0;
    if (!db_ok(res)) {
        cli_db_error(res, "listing users");
        rc = 1;
    } else {
        printf("%-6s %-32s %-24s %-10s %-8s %s\n", "id", "email", "name", "role", "disabled",
               "last login");
        for (int i = 0; i < PQntuples(res); i++)
            printf("%-6s %-32s %-24s %-10s %-8s %s\n", PQgetvalue(res, i, 0), PQgetvalue(res, i, 1),
                   PQgetvalue(res, i, 2), PQgetvalue(res, i, 3),
                   PQgetvalue(res, i, 4)[0] == 't' ? "yes" : "no", PQgetvalue(res, i, 5));
    }
    arena_free(a);
    cli_disconnect();
    return rc;
}
