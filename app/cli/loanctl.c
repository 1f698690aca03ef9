/*
 * loanctl: the operator's command line. It talks to PostgreSQL directly (DATABASE_URL, or the
 * stack.env file that `make run`/`make start` writes under var/), so it works while the service
 * runs and needs no HTTP credentials. Secrets are read from standard input, never from argv.
 *
 *   loanctl migrate                      apply sql/NNN_*.sql not yet applied, in order
 *   loanctl user add --email E --name N --role officer|admin   (password on stdin)
 *   loanctl user list
 *   loanctl user ensure-admin            create ADMIN_EMAIL/ADMIN_PASSWORD if absent
 */
#include <dirent.h>
#include <errno.h>
#include <libpq-fe.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "loanctl.h"

static int usage(void)
{
    fprintf(stderr,
            "usage: loanctl <command>\n"
            "  migrate                                   apply pending migrations from sql/\n"
            "  user add --email E --name N --role R      create a user; password on stdin\n"
            "  user list                                 list users\n"
            "  user ensure-admin                         create ADMIN_EMAIL if absent\n"
            "%s"
            "Connection: DATABASE_URL, else the stack.env of a running local stack "
            "(var/stack.env or $LOANFLOW_STACK_ENV).\n",
            loanctl_extra_usage());
    return 2;
}

/* Reads KEY=VALUE lines of a stack.env into the environment without overriding what is set. */
static void load_stack_env(void)
{
    const char *path = getenv("LOANFLOW_STACK_ENV");
    FILE *f = fopen(path ? path : "var/stack.env", "r");
    if (f == NULL)
        return;
    char line[1024];
    while (fgets(line, sizeof(line), f)) {
        line[strcspn(line, "\r\n")] = '\0';
        char *eq = strchr(line, '=');
        if (line[0] == '#' || eq == NULL)
            continue;
        *eq = '\0';
        char *v = eq + 1;
        size_t vl = strlen(v);
        if (vl >= 2 && v[0] == '\'' && v[vl - 1] == '\'') {
            v[vl - 1] = '\0';
            v++;
        }
        setenv(line, v, 0);
    }
    fclose(f);
}

PGconn *loanctl_connect(void)
{
    load_stack_env();
    const char *url = getenv("DATABASE_URL");
    PGconn *c = PQconnectdb(url ? url : "");
    if (PQstatus(c) != CONNECTION_OK) {
        fprintf(stderr, "loanctl: cannot connect to PostgreSQL: %s", PQerrorMessage(c));
        fprintf(stderr, "loanctl: start the stack (make start) or set DATABASE_URL\n");
        PQfinish(c);
        return NULL;
    }
    return c;
}

int loanctl_ok(PGconn *c, PGresult *res, const char *what)
{
    ExecStatusType s = PQresultStatus(res);
    if (s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK)
        return 1;
    fprintf(stderr, "loanctl: %s failed: %s", what,
            res ? PQresultErrorMessage(res) : PQerrorMessage(c));
    return 0;
}

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    size_t cap = 65536, n = 0;
    char *buf = malloc(cap);
    size_t got;
    while (buf && (got = fread(buf + n, 1, cap - n - 1, f)) > 0) {
        n += got;
        if (n + 1 == cap) {
            char *nb = realloc(buf, cap *= 2);
            if (nb == NULL) {
                free(buf);
                buf = NULL;
            }
            buf = nb;
        }
    }
    fclose(f);
    if (buf) {
        buf[n] = '\0';
        *len = n;
    }
    return buf;
}

char *loanctl_read_file(const char *path, size_t *len)
{
    return read_file(path, len);
}

static int name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int cmd_migrate(void)
{
    const char *dir = getenv("LOANFLOW_SQL_DIR");
    if (dir == NULL)
        dir = "sql";
    PGconn *c = loanctl_connect();
    if (c == NULL)
        return 1;
    PQclear(PQexec(c, "SET client_min_messages = warning"));
    PGresult *res = PQexec(c, "CREATE TABLE IF NOT EXISTS schema_migrations ("
                              "version text PRIMARY KEY, checksum text NOT NULL, "
                              "applied_at timestamptz NOT NULL DEFAULT now())");
    if (!loanctl_ok(c, res, "creating schema_migrations")) {
        PQclear(res);
        PQfinish(c);
        return 1;
    }
    PQclear(res);
    /* One migrator at a time, even with two operators racing. */
    PQclear(PQexec(c, "SELECT pg_advisory_lock(774201)"));

    DIR *d = opendir(dir);
    if (d == NULL) {
        fprintf(stderr, "loanctl: cannot open %s: %s\n", dir, strerror(errno));
        PQfinish(c);
        return 1;
    }
    char *names[512];
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL && n < 512) {
        size_t l = strlen(e->d_name);
        if (l > 4 && !strcmp(e->d_name + l - 4, ".sql") && e->d_name[0] >= '0' &&
            e->d_name[0] <= '9')
            names[n++] = strdup(e->d_name);
    }
    closedir(d);
    qsort(names, (size_t)n, sizeof(names[0]), name_cmp);

    int rc = 0, applied = 0;
    for (int i = 0; i < n && rc == 0; i++) {
        char path[1024];
        snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
        size_t len;
        char *sql = read_file(path, &len);
        if (sql == NULL) {
            fprintf(stderr, "loanctl: cannot read %s\n", path);
            rc = 1;
            break;
        }
        unsigned char h[crypto_hash_sha256_BYTES];
        char hex[2 * sizeof(h) + 1];
        crypto_hash_sha256(h, (unsigned char *)sql, len);
        sodium_bin2hex(hex, sizeof(hex), h, sizeof(h));
        const char *p[2] = {names[i], hex};
        res = PQexecParams(c, "SELECT checksum FROM schema_migrations WHERE version = $1", 1, NULL,
                           p, NULL, NULL, 0);
        if (!loanctl_ok(c, res, "reading schema_migrations")) {
            rc = 1;
        } else if (PQntuples(res) == 1) {
            if (strcmp(PQgetvalue(res, 0, 0), hex) != 0) {
                fprintf(stderr, "loanctl: %s changed after it was applied; add a new migration "
                                "instead of editing an applied one\n", names[i]);
                rc = 1;
            }
        } else {
            PGresult *b = PQexec(c, "BEGIN");
            PQclear(b);
            PGresult *m = PQexec(c, sql);
            if (!loanctl_ok(c, m, names[i])) {
                rc = 1;
                PQclear(PQexec(c, "ROLLBACK"));
            } else {
                PGresult *ins = PQexecParams(
                    c, "INSERT INTO schema_migrations (version, checksum) VALUES ($1, $2)", 2,
                    NULL, p, NULL, NULL, 0);
                PGresult *cm = NULL;
                if (loanctl_ok(c, ins, "recording migration"))
                    cm = PQexec(c, "COMMIT");
                if (cm == NULL || !loanctl_ok(c, cm, "COMMIT") ||
                    strcmp(PQcmdStatus(cm), "COMMIT") != 0) {
                    rc = 1;
                    PQclear(PQexec(c, "ROLLBACK"));
                } else {
                    printf("applied %s\n", names[i]);
                    applied++;
                }
                PQclear(ins);
                PQclear(cm);
            }
            PQclear(m);
        }
        PQclear(res);
        free(sql);
    }
    for (int i = 0; i < n; i++)
        free(names[i]);
    if (rc == 0)
        printf("migrations: %d applied, %d already current\n", applied, n - applied);
    PQfinish(c);
    return rc;
}

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

static int insert_user(PGconn *c, const char *email, const char *name, const char *role,
                       const char *password, int if_absent)
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
    char hash[crypto_pwhash_STRBYTES];
    if (crypto_pwhash_str(hash, password, pl, crypto_pwhash_OPSLIMIT_INTERACTIVE,
                          crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0) {
        fprintf(stderr, "loanctl: out of memory hashing the password\n");
        return 1;
    }
    const char *p[4] = {name, email, hash, role};
    const char *sql =
        if_absent ? "WITH ins AS (INSERT INTO users (name, email, password_hash, role) "
                    "SELECT $1, $2, $3, $4 WHERE NOT EXISTS (SELECT 1 FROM users WHERE "
                    "lower(email) = lower($2)) RETURNING id) "
                    "INSERT INTO audit_events (actor_email, action, target_type, target_id, "
                    "client_addr, details) SELECT 'loanctl', 'user_create', 'user', id::text, "
                    "'local', jsonb_build_object('role', $4::text) FROM ins RETURNING target_id"
                  : "WITH ins AS (INSERT INTO users (name, email, password_hash, role) "
                    "VALUES ($1, $2, $3, $4) RETURNING id) "
                    "INSERT INTO audit_events (actor_email, action, target_type, target_id, "
                    "client_addr, details) SELECT 'loanctl', 'user_create', 'user', id::text, "
                    "'local', jsonb_build_object('role', $4::text) FROM ins RETURNING target_id";
    PGresult *res = PQexecParams(c, sql, 4, NULL, p, NULL, NULL, 0);
    int rc = 0;
    if (!loanctl_ok(c, res, "creating the user")) {
        rc = 1;
    } else if (PQntuples(res) == 1) {
        printf("created %s %s (id %s)\n", role, email, PQgetvalue(res, 0, 0));
    } else {
        printf("%s already exists\n", email);
    }
    PQclear(res);
    sodium_memzero(hash, sizeof(hash));
    return rc;
}

static const char *opt(int argc, char **argv, const char *name)
{
    for (int i = 0; i + 1 < argc; i++)
        if (!strcmp(argv[i], name))
            return argv[i + 1];
    return NULL;
}

static int cmd_user(int argc, char **argv)
{
    if (argc < 1)
        return usage();
    PGconn *c;
    int rc = 0;
    if (!strcmp(argv[0], "add")) {
        const char *email = opt(argc, argv, "--email"), *name = opt(argc, argv, "--name");
        const char *role = opt(argc, argv, "--role");
        if (opt(argc, argv, "--password") != NULL) {
            fprintf(stderr, "loanctl: passwords are read from standard input, never from the "
                            "command line\n");
            return 2;
        }
        if (email == NULL || name == NULL || role == NULL)
            return usage();
        char pw[256];
        if (read_password(pw, sizeof(pw)) != 0) {
            fprintf(stderr, "loanctl: no password on standard input\n");
            return 1;
        }
        if ((c = loanctl_connect()) == NULL)
            return 1;
        rc = insert_user(c, email, name, role, pw, 0);
        sodium_memzero(pw, sizeof(pw));
    } else if (!strcmp(argv[0], "ensure-admin")) {
        const char *email = getenv("ADMIN_EMAIL"), *pw = getenv("ADMIN_PASSWORD");
        if (email == NULL || email[0] == '\0')
            email = "admin@example.com";
        if (pw == NULL || pw[0] == '\0')
            pw = "admin12345";
        if ((c = loanctl_connect()) == NULL)
            return 1;
        rc = insert_user(c, email, "Development Admin", "admin", pw, 1);
    } else if (!strcmp(argv[0], "list")) {
        if ((c = loanctl_connect()) == NULL)
            return 1;
        PGresult *res = PQexec(c, "SELECT id, email, name, role, disabled, "
                                  "coalesce(to_char(last_login_at, 'YYYY-MM-DD HH24:MI'), '-') "
                                  "FROM users ORDER BY id");
        if (!loanctl_ok(c, res, "listing users")) {
            rc = 1;
        } else {
            printf("%-6s %-32s %-24s %-10s %-8s %s\n", "id", "email", "name", "role", "disabled",
                   "last login");
            for (int i = 0; i < PQntuples(res); i++)
                printf("%-6s %-32s %-24s %-10s %-8s %s\n", PQgetvalue(res, i, 0),
                       PQgetvalue(res, i, 1), PQgetvalue(res, i, 2), PQgetvalue(res, i, 3),
                       PQgetvalue(res, i, 4)[0] == 't' ? "yes" : "no", PQgetvalue(res, i, 5));
        }
        PQclear(res);
    } else {
        return usage();
    }
    PQfinish(c);
    return rc;
}

int main(int argc, char **argv)
{
    /* A server that goes away (Redis restarted) must be an error to handle, not a SIGPIPE. */
    signal(SIGPIPE, SIG_IGN);
    if (sodium_init() < 0) {
        fprintf(stderr, "loanctl: libsodium could not be initialised\n");
        return 1;
    }
    if (argc < 2)
        return usage();
    if (!strcmp(argv[1], "migrate"))
        return cmd_migrate();
    if (!strcmp(argv[1], "user"))
        return cmd_user(argc - 2, argv + 2);
    int rc = loanctl_extra(argc - 1, argv + 1);
    if (rc >= 0)
        return rc;
    return usage();
}
