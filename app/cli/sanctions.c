/*
 * loanctl sanctions: the lists applicants are screened against. `load FILE` reads an OFAC
 * SDN-format list (plain or gzip, optionally with its alternate-names file), parses it whole
 * without the database so a malformed file changes nothing, and then, in one transaction,
 * retires the active version of the same name, records the new one and COPYs its names (each
 * entry and the a.k.a.s of its remarks; vessels and aircraft are left out: applicants are
 * people). Running workers notice the new version within a second (refdata.c).
 *
 * A list is identified by its name (--name, default "OFAC SDN"), its version (the first 16 hex
 * digits of the SHA-256 of the decompressed text, so FILE and FILE.gz are the same version)
 * and, when known, its publication date: --date, else the YYYY-MM-DD in the file's name
 * (ofac_sdn_2024-05-03.csv.gz). `ensure FILE` is what a stack start runs with the default list:
 * it loads FILE only when no list is active, or when FILE is dated later than the active list
 * of its name; otherwise it keeps what an operator loaded (an undated list is never replaced)
 * and says so. Both end by naming what is active. Statements are loanctl's own table, run on the
 * db_* connection; the COPY goes through that connection's PGconn inside the same transaction.
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "cli.h"
#include "market.h"
#include "screening.h"

enum {
    CLI_SANCTIONS_ACTIVE,
    CLI_SANCTIONS_RETIRE,
    CLI_SANCTIONS_INSERT,
    CLI_SANCTIONS_COUNTS,
    CLI_SANCTIONS_LIST,
    CLI_SANCTIONS_SQL_COUNT
};

/* clang-format off */
static const struct db_stmt sql[CLI_SANCTIONS_SQL_COUNT] = {
    [CLI_SANCTIONS_ACTIVE] = {"cli_sanctions_active",
     "SELECT id, name, version, sha256, coalesce(published::text, ''), entries, names "
     "FROM sanctions_lists WHERE active ORDER BY id"},
    [CLI_SANCTIONS_RETIRE] = {"cli_sanctions_retire",
     "UPDATE sanctions_lists SET active = false WHERE name = $1 AND active"},
    [CLI_SANCTIONS_INSERT] = {"cli_sanctions_insert",
     "INSERT INTO sanctions_lists (name, version, sha256, source, entries, names, published) "
     "VALUES ($1, $2, $3, $4, 0, 0, $5::date) RETURNING id"},
    [CLI_SANCTIONS_COUNTS] = {"cli_sanctions_counts",
     "UPDATE sanctions_lists SET entries = $2::int, names = $3::int WHERE id = $1::bigint"},
    [CLI_SANCTIONS_LIST] = {"cli_sanctions_list",
     "SELECT name, version, entries, names, active, to_char(loaded_at, 'YYYY-MM-DD HH24:MI:SS'), "
     "coalesce(published::text, '-'), source FROM sanctions_lists ORDER BY id"},
};
/* clang-format on */
const struct db_stmts sanctions_cli_statements = DB_STMTS("cli_sanctions", sql);

/* A list file read and checked, before anything touches the database. */
struct list_file {
    const char *path, *alt, *name;
    char *buf, *alt_buf;
    size_t len, alt_len;
    long entries;
    char sha256[65], version[17];
    char published[11]; /* YYYY-MM-DD or "" */
};

static void list_file_free(struct list_file *lf)
{
    free(lf->buf);
    free(lf->alt_buf);
}

/* The first valid YYYY-MM-DD in the file's base name, or "". */
static void date_from_name(const char *path, char out[11])
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    out[0] = '\0';
    for (const char *p = base; strlen(p) >= 10; p++) {
        char d[11];
        memcpy(d, p, 10);
        d[10] = '\0';
        if (d[4] == '-' && d[7] == '-' && market_check_date(d) == NULL) {
            memcpy(out, d, 11);
            return;
        }
    }
}

/* Reads FILE [--alt ALT] [--name N] [--date D]: 0, or the exit status after printing why. */
static int list_file_read(int argc, char **argv, const char *cmd, struct list_file *lf)
{
    memset(lf, 0, sizeof(*lf));
    if (argc < 1 || argv[0][0] == '-') {
        fprintf(stderr,
                "usage: loanctl sanctions %s FILE[.gz] [--alt ALT] [--name N] "
                "[--date YYYY-MM-DD]\n",
                cmd);
        return 2;
    }
    lf->path = argv[0];
    lf->alt = cli_opt(argc, argv, "--alt");
    lf->name = cli_opt(argc, argv, "--name");
    if (lf->name == NULL)
        lf->name = "OFAC SDN";
    const char *date = cli_opt(argc, argv, "--date");
    if (date != NULL) {
        if (market_check_date(date) != NULL || strlen(date) != 10) {
            fprintf(stderr, "loanctl: --date must be a date YYYY-MM-DD, got \"%s\"\n", date);
            return 2;
        }
        memcpy(lf->published, date, 11);
    } else {
        date_from_name(lf->path, lf->published);
    }
    if ((lf->buf = cli_read_file(lf->path, &lf->len)) == NULL)
        return 1;
    if (lf->alt && (lf->alt_buf = cli_read_file(lf->alt, &lf->alt_len)) == NULL) {
        list_file_free(lf);
        return 1;
    }
    /* Parse once without the database so a malformed file changes nothing. */
    char err[256];
    lf->entries = screen_parse_sdn(lf->buf, lf->len, NULL, NULL, err, sizeof(err));
    if (lf->entries < 0 || (lf->alt_buf && screen_parse_alt(lf->alt_buf, lf->alt_len, NULL, NULL,
                                                            err, sizeof(err)) < 0)) {
        fprintf(stderr, "loanctl: %s is not a valid SDN-format list: %s\n", lf->path, err);
        list_file_free(lf);
        return 1;
    }
    crypto_hash_sha256_state st;
    unsigned char h[32];
    crypto_hash_sha256_init(&st);
    crypto_hash_sha256_update(&st, (unsigned char *)lf->buf, lf->len);
    if (lf->alt_buf)
        crypto_hash_sha256_update(&st, (unsigned char *)lf->alt_buf, lf->alt_len);
    crypto_hash_sha256_final(&st, h);
    sodium_bin2hex(lf->sha256, sizeof(lf->sha256), h, sizeof(h));
    memcpy(lf->version, lf->sha256, 16);
    lf->version[16] = '\0';
    return 0;
}

/* ---- COPY of the names ------------------------------------------------------------------- */

struct copy_ctx {
    PGconn *c;
    const char *list_id;
    long names;
    int failed;
};

static void copy_field(char *buf, size_t *n, size_t cap, const char *s)
{
    if (s == NULL) {
        if (*n + 2 < cap) {
            buf[(*n)++] = '\\';
            buf[(*n)++] = 'N';
        }
        return;
    }
    for (; *s && *n + 2 < cap; s++) {
        char c = *s;
        if (c == '\\' || c == '\t' || c == '\n' || c == '\r') {
            buf[(*n)++] = '\\';
            c = c == '\t' ? 't' : c == '\n' ? 'n' : c == '\r' ? 'r' : '\\';
        }
        buf[(*n)++] = c;
    }
}

static void copy_row(struct copy_ctx *cx, long id, const char *name, const char *type,
                     const char *programs)
{
    char line[4096];
    size_t n = (size_t)snprintf(line, sizeof(line), "%s\t%ld\t", cx->list_id, id);
    copy_field(line, &n, sizeof(line) - 8, name);
    line[n++] = '\t';
    copy_field(line, &n, sizeof(line) - 8, type);
    line[n++] = '\t';
    copy_field(line, &n, sizeof(line) - 8, programs);
    line[n++] = '\n';
    if (PQputCopyData(cx->c, line, (int)n) != 1)
        cx->failed = 1;
    cx->names++;
}

struct aka_ctx {
    struct copy_ctx *cx;
    const screen_entry *e;
};

static int on_aka(const char *name, void *ud)
{
    struct aka_ctx *ak = ud;
    copy_row(ak->cx, ak->e->entry_id, name, ak->e->type, ak->e->programs);
    return 0;
}

static int on_entry(const screen_entry *e, void *ud)
{
    struct copy_ctx *cx = ud;
    /* Applicants are people: vessels and aircraft are not screened against. */
    if (e->type && (!strcmp(e->type, "vessel") || !strcmp(e->type, "aircraft")))
        return 0;
    copy_row(cx, e->entry_id, e->name, e->type, e->programs);
    if (e->remarks) {
        struct aka_ctx ak = {cx, e};
        screen_remarks_akas(e->remarks, on_aka, &ak);
    }
    return 0;
}

static int on_alt(const screen_entry *e, void *ud)
{
    struct copy_ctx *cx = ud;
    copy_row(cx, e->entry_id, e->name, NULL, NULL);
    return 0;
}

/* COPYs the names of lf under list_id inside the open transaction: 1 ok, 0 failed. */
static int copy_names(const struct list_file *lf, const char *list_id, long *names)
{
    PGconn *c = db_conn();
    if (c == NULL)
        return 0;
    PGresult *res = PQexec(c, "COPY sanctions_names (list_id, entry_id, name, type, programs) "
                              "FROM STDIN");
    int ok = PQresultStatus(res) == PGRES_COPY_IN;
    if (!ok)
        cli_db_error(res, "starting the copy of names");
    PQclear(res);
    if (!ok)
        return 0;
    struct copy_ctx cx = {c, list_id, 0, 0};
    char err[256];
    screen_parse_sdn(lf->buf, lf->len, on_entry, &cx, err, sizeof(err));
    if (lf->alt_buf)
        screen_parse_alt(lf->alt_buf, lf->alt_len, on_alt, &cx, err, sizeof(err));
    ok = PQputCopyEnd(c, cx.failed ? "row failed" : NULL) == 1;
    res = PQgetResult(c);
    if (ok && PQresultStatus(res) != PGRES_COMMAND_OK) {
        cli_db_error(res, "copying names");
        ok = 0;
    }
    PQclear(res);
    while ((res = PQgetResult(c)) != NULL)
        PQclear(res);
    *names = cx.names;
    return ok;
}

/* ---- load, ensure, list ------------------------------------------------------------------ */

/* Replaces the active list of lf's name with lf in one transaction. Exit status. */
static int load_list(arena *a, const struct list_file *lf)
{
    if (db_begin() != 0) {
        fprintf(stderr, "loanctl: database unavailable\n");
        return 1;
    }
    const char *p[5] = {lf->name, lf->version, lf->sha256, lf->path,
                        lf->published[0] ? lf->published : NULL};
    PGresult *res = db_exec(a, &sql[CLI_SANCTIONS_RETIRE], 1, p);
    int ok = db_ok(res);
    if (!ok)
        cli_db_error(res, "retiring the previous version");
    char *list_id = NULL;
    if (ok) {
        res = db_exec(a, &sql[CLI_SANCTIONS_INSERT], 5, p);
        ok = db_ok(res);
        if (ok)
            list_id = arena_strdup(a, PQgetvalue(res, 0, 0));
        else
            cli_db_error(res, "recording the list");
    }
    long names = 0;
    ok = ok && copy_names(lf, list_id, &names);
    if (ok) {
        char ne[24], nn[24];
        snprintf(ne, sizeof(ne), "%ld", lf->entries);
        snprintf(nn, sizeof(nn), "%ld", names);
        const char *q[3] = {list_id, ne, nn};
        res = db_exec(a, &sql[CLI_SANCTIONS_COUNTS], 3, q);
        ok = db_ok(res);
        if (!ok)
            cli_db_error(res, "recording the counts");
    }
    if (!ok || db_commit() != 0) {
        db_rollback();
        return 1;
    }
    printf("loaded %s version %s (sha256 %s): %ld entries, %ld names\n", lf->name, lf->version,
           lf->sha256, lf->entries, names);
    return 0;
}

/* Prints one line per active list; 0, or 1 when they could not be read. */
static int print_active(arena *a)
{
    PGresult *res = db_exec(a, &sql[CLI_SANCTIONS_ACTIVE], 0, NULL);
    if (!db_ok(res)) {
        cli_db_error(res, "reading the active lists");
        return 1;
    }
    for (int i = 0; i < PQntuples(res); i++)
        printf("active sanctions list: %s version %s (%s%s), %s entries\n", PQgetvalue(res, i, 1),
               PQgetvalue(res, i, 2), PQgetvalue(res, i, 4)[0] ? "published " : "undated",
               PQgetvalue(res, i, 4), PQgetvalue(res, i, 5));
    if (PQntuples(res) == 0)
        printf("active sanctions list: none (applications are not screened)\n");
    return 0;
}

/* The start of load and ensure: the file read, the database connected, the active lists
 * looked up. 0 with *a and *res set (end_command releases them), else the exit status. */
static int begin_command(int argc, char **argv, const char *cmd, struct list_file *lf, arena **a,
                         PGresult **res)
{
    int rc = list_file_read(argc, argv, cmd, lf);
    if (rc != 0)
        return rc;
    if (cli_connect() != 0) {
        list_file_free(lf);
        return 1;
    }
    *a = arena_new(4096);
    *res = db_exec(*a, &sql[CLI_SANCTIONS_ACTIVE], 0, NULL);
    if (!db_ok(*res)) {
        cli_db_error(*res, "checking loaded lists");
        arena_free(*a);
        list_file_free(lf);
        cli_disconnect();
        return 1;
    }
    return 0;
}

static int end_command(arena *a, struct list_file *lf, int rc)
{
    arena_free(a);
    list_file_free(lf);
    cli_disconnect();
    return rc;
}

int cmd_sanctions_load(int argc, char **argv)
{
    struct list_file lf;
    arena *a;
    PGresult *res;
    int rc = begin_command(argc, argv, "load", &lf, &a, &res);
    if (rc != 0)
        return rc;
    int same = 0;
    for (int i = 0; i < PQntuples(res); i++)
        same |=
            !strcmp(PQgetvalue(res, i, 1), lf.name) && !strcmp(PQgetvalue(res, i, 3), lf.sha256);
    if (same)
        printf("%s version %s is already the active list\n", lf.name, lf.version);
    else
        rc = load_list(a, &lf);
    return end_command(a, &lf, rc);
}

int cmd_sanctions_ensure(int argc, char **argv)
{
    struct list_file lf;
    arena *a;
    PGresult *res;
    int rc = begin_command(argc, argv, "ensure", &lf, &a, &res);
    if (rc != 0)
        return rc;
    const char *file_date = lf.published[0] ? lf.published : "undated";
    if (PQntuples(res) == 0) {
        printf("sanctions ensure: no list is active; loading %s (%s)\n", lf.path, file_date);
        rc = load_list(a, &lf);
    } else {
        int same_name = -1;
        for (int i = 0; i < PQntuples(res); i++)
            if (!strcmp(PQgetvalue(res, i, 1), lf.name))
                same_name = i;
        if (same_name < 0 && cli_flag(argc, argv, "--beside")) {
            /* An operator named this list: screening against one more list never lowers what
             * is screened, so it joins the active ones. */
            printf("sanctions ensure: no %s list is active; loading %s (%s) beside the active "
                   "list(s)\n",
                   lf.name, lf.path, file_date);
            rc = load_list(a, &lf);
        } else if (same_name < 0) {
            printf("sanctions ensure: keeping the active list(s); no %s list is active and %s is "
                   "not loaded beside them (--beside would)\n",
                   lf.name, lf.path);
        } else {
            const char *ver = PQgetvalue(res, same_name, 2);
            const char *active_date = PQgetvalue(res, same_name, 4);
            if (!strcmp(PQgetvalue(res, same_name, 3), lf.sha256)) {
                printf("sanctions ensure: %s version %s is already the active list\n", lf.name,
                       lf.version);
            } else if (lf.published[0] && active_date[0] && strcmp(lf.published, active_date) > 0) {
                printf("sanctions ensure: %s (published %s) is newer than the active %s version "
                       "%s (published %s); loading it\n",
                       lf.path, lf.published, lf.name, ver, active_date);
                rc = load_list(a, &lf);
            } else {
                printf("sanctions ensure: keeping the active %s version %s (%s%s); %s (%s) is "
                       "not known to be newer\n",
                       lf.name, ver, active_date[0] ? "published " : "undated", active_date,
                       lf.path, file_date);
            }
        }
    }
    if (rc == 0)
        rc = print_active(a);
    return end_command(a, &lf, rc);
}

int cmd_sanctions_list(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    if (cli_connect() != 0)
        return 1;
    arena *a = arena_new(4096);
    PGresult *res = db_exec(a, &sql[CLI_SANCTIONS_LIST], 0, NULL);
    int rc = 0;
    if (!db_ok(res)) {
        cli_db_error(res, "listing");
        rc = 1;
    } else {
        printf("%-12s %-17s %8s %8s %-6s %-19s %-10s %s\n", "name", "version", "entries", "names",
               "active", "loaded", "published", "source");
        for (int i = 0; i < PQntuples(res); i++)
            printf("%-12s %-17s %8s %8s %-6s %-19s %-10s %s\n", PQgetvalue(res, i, 0),
                   PQgetvalue(res, i, 1), PQgetvalue(res, i, 2), PQgetvalue(res, i, 3),
                   PQgetvalue(res, i, 4)[0] == 't' ? "yes" : "no", PQgetvalue(res, i, 5),
                   PQgetvalue(res, i, 6), PQgetvalue(res, i, 7));
    }
    arena_free(a);
    cli_disconnect();
    return rc;
}
