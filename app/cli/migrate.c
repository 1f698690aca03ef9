/*
 * loanctl migrate: applies the numbered sql/NNN_*.sql files (LOANFLOW_SQL_DIR) not applied yet,
 * in name order, each in a transaction of its own together with its row in schema_migrations
 * (version = file name, checksum = SHA-256 of the text). A file whose checksum differs from the
 * one recorded stops the run: an applied migration is never edited, a new one is added. An
 * advisory lock keeps two migrators from racing. This is the one command on a raw libpq
 * connection: it runs before the tables exist, so the statements of the db_* layer could not be
 * prepared yet.
 *
 * Roles (sql/011_roles.sql): migrations run as the schema's owner, MIGRATE_DATABASE_URL (else
 * DATABASE_URL: one role, as before); the server and every other command use DATABASE_URL, the
 * serving role, which owns nothing. After every run, migrate calls loanflow_grant_serving() with
 * the user DATABASE_URL names, so the serving role holds exactly its privileges (row access,
 * only SELECT and INSERT on the append-only tables) whatever the migrations added; the call is
 * idempotent. The serving role's password is never needed here: only its name.
 */
#include <dirent.h>
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "config.h"

/* The user a libpq conninfo or URI names (PGUSER when it names none), malloc'd; NULL if none. */
static char *conninfo_user(const char *conninfo)
{
    char *err = NULL;
    PQconninfoOption *opts = PQconninfoParse(conninfo, &err);
    if (opts == NULL) {
        fprintf(stderr, "loanctl: DATABASE_URL cannot be parsed: %s\n",
                err ? err : "out of memory");
        PQfreemem(err);
        return NULL;
    }
    char *user = NULL;
    for (PQconninfoOption *o = opts; o->keyword != NULL; o++)
        if (!strcmp(o->keyword, "user") && o->val != NULL && o->val[0] != '\0')
            user = strdup(o->val);
    PQconninfoFree(opts);
    if (user == NULL && getenv("PGUSER") != NULL && getenv("PGUSER")[0] != '\0')
        user = strdup(getenv("PGUSER"));
    return user;
}

/* Grants the serving role (DATABASE_URL's user) its privileges; 0, or -1 after printing why. */
static int grant_serving(PGconn *c)
{
    const struct config *cfg = config_get();
    if (cfg->migrate_database_url[0] == '\0')
        return 0; /* one role: the owner serves */
    char *user = conninfo_user(cfg->database_url);
    if (user == NULL) {
        fprintf(stderr, "loanctl: with MIGRATE_DATABASE_URL set, DATABASE_URL must name the "
                        "serving role (user=...)\n");
        return -1;
    }
    int rc = 0;
    PGresult *res = PQexec(c, "SELECT to_regprocedure('loanflow_grant_serving(text)') IS NOT NULL");
    if (!cli_raw_ok(c, res, "looking up loanflow_grant_serving")) {
        rc = -1;
    } else if (!strcmp(PQgetvalue(res, 0, 0), "t")) {
        const char *p[1] = {user};
        PGresult *g =
            PQexecParams(c, "SELECT loanflow_grant_serving($1)", 1, NULL, p, NULL, NULL, 0);
        if (!cli_raw_ok(c, g, "granting the serving role its privileges"))
            rc = -1;
        else
            printf("serving role %s: privileges granted\n", user);
        PQclear(g);
    }
    PQclear(res);
    free(user);
    return rc;
}

static int name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Applies one file unless recorded; 0 applied or current (*applied says which), -1 failed. */
static int apply_one(PGconn *c, const char *dir, const char *name, int *applied)
{
    *applied = 0;
    char path[1024];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    size_t len;
    char *sql = cli_read_file(path, &len);
    if (sql == NULL)
        return -1;
    unsigned char h[crypto_hash_sha256_BYTES];
    char hex[2 * sizeof(h) + 1];
    crypto_hash_sha256(h, (unsigned char *)sql, len);
    sodium_bin2hex(hex, sizeof(hex), h, sizeof(h));
    const char *p[2] = {name, hex};
    int rc = 0;
    PGresult *res = PQexecParams(c, "SELECT checksum FROM schema_migrations WHERE version = $1", 1,
                                 NULL, p, NULL, NULL, 0);
    if (!cli_raw_ok(c, res, "reading schema_migrations")) {
        rc = -1;
    } else if (PQntuples(res) == 1) {
        if (strcmp(PQgetvalue(res, 0, 0), hex) != 0) {
            fprintf(stderr,
                    "loanctl: %s changed after it was applied; add a new migration "
                    "instead of editing an applied one\n",
                    name);
            rc = -1;
        }
    } else {
        PQclear(PQexec(c, "BEGIN"));
        PGresult *m = PQexec(c, sql);
        if (!cli_raw_ok(c, m, name)) {
            rc = -1;
            PQclear(PQexec(c, "ROLLBACK"));
        } else {
            PGresult *ins =
                PQexecParams(c, "INSERT INTO schema_migrations (version, checksum) VALUES ($1, $2)",
                             2, NULL, p, NULL, NULL, 0);
            PGresult *cm = NULL;
            if (cli_raw_ok(c, ins, "recording migration"))
                cm = PQexec(c, "COMMIT");
            if (cm == NULL || !cli_raw_ok(c, cm, "COMMIT") ||
                strcmp(PQcmdStatus(cm), "COMMIT") != 0) {
                rc = -1;
                PQclear(PQexec(c, "ROLLBACK"));
            } else {
                printf("applied %s\n", name);
                *applied = 1;
            }
            PQclear(ins);
            PQclear(cm);
        }
        PQclear(m);
    }
    PQclear(res);
    free(sql);
    return rc;
}

int cmd_migrate(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    if (cli_config() != 0)
        return 1;
    const char *url = config_get()->migrate_database_url[0] != '\0'
                          ? config_get()->migrate_database_url
                          : config_get()->database_url;
    PGconn *c = PQconnectdb(url);
    if (PQstatus(c) != CONNECTION_OK) {
        fprintf(stderr, "loanctl: cannot connect to PostgreSQL as the schema's owner: %s",
                PQerrorMessage(c));
        fprintf(stderr, "loanctl: start the stack (make start) or set MIGRATE_DATABASE_URL "
                        "(or DATABASE_URL)\n");
        PQfinish(c);
        return 1;
    }
    const char *dir = config_get()->sql_dir;
    PQclear(PQexec(c, "SET client_min_messages = warning"));
    PGresult *res = PQexec(c, "CREATE TABLE IF NOT EXISTS schema_migrations ("
                              "version text PRIMARY KEY, checksum text NOT NULL, "
                              "applied_at timestamptz NOT NULL DEFAULT now())");
    if (!cli_raw_ok(c, res, "creating schema_migrations")) {
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
        int one = 0;
        if (apply_one(c, dir, names[i], &one) != 0)
            rc = 1;
        applied += one;
    }
    for (int i = 0; i < n; i++)
        free(names[i]);
    if (rc == 0)
        printf("migrations: %d applied, %d already current\n", applied, n - applied);
    if (rc == 0 && grant_serving(c) != 0)
        rc = 1;
    PQfinish(c);
    return rc;
}
