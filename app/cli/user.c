/*
 * loanctl user: accounts made from the command line. `add` creates a user of any role with a
 * password read from standard input (without echo on a terminal; never from argv); `list`
 * shows them; `ensure-admin` creates the configured admin (ADMIN_EMAIL / ADMIN_PASSWORD, whose
 * development defaults live in config.c) when no user has that email, which the stack runs at
 * every start. Passwords are hashed by auth_hash_password, the server's own Argon2id, so a user
 * made here logs in exactly like one registered over HTTP. Each creation writes its
 * audit_events row in the same statement as the insert.
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

enum { CLI_USER_INSERT, CLI_USER_INSERT_IF_ABSENT, CLI_USER_LIST, CLI_USER_SQL_COUNT };

/* clang-format off */
#define AUDITED_INSERT(rows)                                                                    \
    "WITH ins AS (INSERT INTO users (name, email, password_hash, role) " rows " RETURNING id) " \
    "INSERT INTO audit_events (actor_email, action, target_type, target_id, client_addr, "      \
    "details) SELECT 'loanctl', 'user_create', 'user', id::text, 'local', "                     \
    "jsonb_build_object('role', $4::text) FROM ins RETURNING target_id"

static const struct db_stmt sql[CLI_USER_SQL_COUNT] = {
    [CLI_USER_INSERT] = {"cli_user_insert", AUDITED_INSERT("VALUES ($1, $2, $3, $4)")},
    [CLI_USER_INSERT_IF_ABSENT] = {"cli_user_insert_if_absent",
     AUDITED_INSERT("SELECT $1, $2, $3, $4 WHERE NOT EXISTS (SELECT 1 FROM users WHERE "
                    "lower(email) = lower($2))")},
    [CLI_USER_LIST] = {"cli_user_list",
     "SELECT id, email, name, role, disabled, "
     "coalesce(to_char(last_login_at, 'YYYY-MM-DD HH24:MI'), '-') FROM users ORDER BY id"},
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

/* Checks, hashes and inserts (if_absent: only when the email is unknown). Exit status. */
static int insert_user(const char *email, const char *name, const char *role, const char *password,
                       int if_absent)
{
    size_t pl = strlen(password);
    if (pl < 8 || pl > 128) {
        fprintf(stderr, "loanctl: the password must be 8 to 128 bytes\n");
        return 1;
    }
    if (strcmp(role, "applicant") && strcmp(role, "officer") && strcmp(role, "admin")) {
        fprintf(stderr, "loanctl: --role must be applicant, officer or admin\n");
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
    const char *p[4] = {name, email, hash, role};
    PGresult *res = db_exec(a, &sql[if_absent ? CLI_USER_INSERT_IF_ABSENT : CLI_USER_INSERT], 4, p);
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
    int rc = insert_user(email, name, role, pw, 0);
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
    return insert_user(cfg->admin_email, "Development Admin", "admin", cfg->admin_password, 1);
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
