/*
 * The helpers every loanctl command shares, written once. Configuration comes from config_load
 * like the server's, after the local stack's stack.env has filled the environment (a variable
 * already set wins, so `DATABASE_URL=… loanctl …` aims at another database). Connecting goes
 * through the db_* layer with the store's statement tables and loanctl's own, so a command runs
 * the same prepared statements as the workers; the first connection attempt is made with plain
 * libpq to print libpq's own reason when PostgreSQL cannot be reached. Files are read through
 * zlib, which passes plain files through unchanged and decompresses gzip ones, so every command
 * that reads a file accepts FILE.gz as well.
 */
#include "cli.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "cache.h"
#include "config.h"
#include "epoch.h"
#include "log.h"
#include "store.h"

const char *cli_opt(int argc, char **argv, const char *name)
{
    for (int i = 0; i + 1 < argc; i++)
        if (!strcmp(argv[i], name))
            return argv[i + 1];
    return NULL;
}

int cli_flag(int argc, char **argv, const char *flag)
{
    for (int i = 0; i < argc; i++)
        if (!strcmp(argv[i], flag))
            return 1;
    return 0;
}

void cli_load_stack_env(void)
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

int cli_config(void)
{
    static int loaded;
    if (loaded)
        return 0;
    cli_load_stack_env();
    /* loanctl issues no tokens: any secret satisfies the configuration check. */
    setenv("JWT_SECRET", "loanctl-issues-no-tokens-0123456789abcdef", 0);
    setenv("LOG_FILE", "", 1);
    char err[256];
    if (config_load(err, sizeof(err)) != 0) {
        fprintf(stderr, "loanctl: configuration error: %s\n", err);
        return -1;
    }
    log_open("", 1, LOG_WARN);
    loaded = 1;
    return 0;
}

PGconn *cli_connect_raw(void)
{
    if (cli_config() != 0)
        return NULL;
    PGconn *c = PQconnectdb(config_get()->database_url);
    if (PQstatus(c) != CONNECTION_OK) {
        fprintf(stderr, "loanctl: cannot connect to PostgreSQL: %s", PQerrorMessage(c));
        fprintf(stderr, "loanctl: start the stack (make start) or set DATABASE_URL\n");
        PQfinish(c);
        return NULL;
    }
    return c;
}

int cli_raw_ok(PGconn *c, PGresult *res, const char *what)
{
    ExecStatusType s = PQresultStatus(res);
    if (s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK)
        return 1;
    if (res == NULL || PQresultErrorField(res, PG_DIAG_SQLSTATE) == NULL)
        fprintf(stderr, "loanctl: %s failed: %s", what, PQerrorMessage(c));
    else
        cli_db_error(res, what);
    return 0;
}

/* The store's tables, then loanctl's: filled once by cli_connect (db_init borrows it). */
static const struct db_stmts *tables[32];

int cli_connect(void)
{
    PGconn *probe = cli_connect_raw();
    if (probe == NULL)
        return -1;
    PQfinish(probe);
    const struct config *cfg = config_get();
    size_t n = 0;
    for (const struct db_stmts *const *t = store_statements; *t && n + 3 < 32; t++)
        tables[n++] = *t;
    tables[n++] = &user_cli_statements;
    tables[n++] = &sanctions_cli_statements;
    tables[n] = NULL;
    if (db_init(cfg->database_url, tables) != 0)
        return -1;
    cache_init(cfg->redis_url);
    /* Changes made here must reach the running workers' memory caches too. */
    if (cfg->epoch_file[0] != '\0')
        (void)epoch_open(cfg->epoch_file, 0);
    if (db_conn() == NULL) {
        fprintf(stderr, "loanctl: cannot connect to PostgreSQL (or prepare the statements: "
                        "run loanctl migrate)\n");
        return -1;
    }
    return 0;
}

void cli_disconnect(void)
{
    db_close();
}

void cli_db_error(const PGresult *res, const char *what)
{
    /* The primary message and where it failed, never the DETAIL: it quotes the failing row,
     * password hashes and personal data included. */
    if (res == NULL) {
        fprintf(stderr, "loanctl: %s failed: database unavailable\n", what);
        return;
    }
    const char *msg = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
    arena *a = arena_new(1024);
    fprintf(stderr, "loanctl: %s failed: %s (%s)\n", what, msg ? msg : "error",
            a ? db_error_brief(a, res) : db_sqlstate(res));
    arena_free(a);
}

char *cli_read_file(const char *path, size_t *len)
{
    gzFile f = gzopen(path, "rb");
    if (f == NULL) {
        fprintf(stderr, "loanctl: cannot read %s: %s\n", path,
                errno ? strerror(errno) : "out of memory");
        return NULL;
    }
    (void)gzbuffer(f, 1 << 17);
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    for (;;) {
        if (buf == NULL) {
            fprintf(stderr, "loanctl: out of memory reading %s\n", path);
            gzclose(f);
            return NULL;
        }
        int got = gzread(f, buf + n, (unsigned)(cap - n - 1));
        if (got < 0) {
            int zerr;
            const char *msg = gzerror(f, &zerr);
            fprintf(stderr, "loanctl: cannot read %s: %s\n", path,
                    zerr == Z_ERRNO ? strerror(errno) : msg);
            free(buf);
            gzclose(f);
            return NULL;
        }
        if (got == 0) {
            int zerr;
            const char *msg = gzerror(f, &zerr);
            if (zerr != Z_OK) { /* a truncated or corrupt .gz */
                fprintf(stderr, "loanctl: cannot read %s: %s\n", path, msg);
                free(buf);
                gzclose(f);
                return NULL;
            }
            break;
        }
        n += (size_t)got;
        if (n + 1 == cap) {
            char *nb = realloc(buf, cap *= 2);
            if (nb == NULL)
                free(buf);
            buf = nb;
        }
    }
    gzclose(f);
    buf[n] = '\0';
    *len = n;
    return buf;
}
