/*
 * loanctl sanctions: the lists applicants are screened against. `load FILE` reads an OFAC
 * SDN-format list (plain or gzip, optionally with its alternate-names file), parses it whole
 * without the database so a malformed file changes nothing, and then, in one transaction,
 * retires the active version of the same name, records the new one and COPYs its names (each
 * entry and the a.k.a.s of its remarks; vessels and aircraft are left out: applicants are
 * people) and one row per entry (sanctions_entries: a content hash over the entry's row and its
 * alt.csv names, the dates of birth and nationalities its remarks give, the nationalities then
 * resolved to ISO alpha-2 by one UPDATE against the country table and its aliases). Running
 * workers notice the new version within a second (refdata.c).
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
#include <strings.h>

#include "arena.h"
#include "cli.h"
#include "market.h"
#include "monitoring.h"
#include "screening.h"

enum {
    CLI_SANCTIONS_ACTIVE,
    CLI_SANCTIONS_RETIRE,
    CLI_SANCTIONS_INSERT,
    CLI_SANCTIONS_COUNTS,
    CLI_SANCTIONS_NATIONALITIES,
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
    /* Each nationality as written ("Russia", "Korea, North") resolved by the country's name,
     * alpha-2 or alpha-3, or an alias, case-insensitively; in the order written, once each. A
     * name nothing resolves stays only in nationality_names. Each row is resolved from its own
     * array (no join of the table with itself: its statistics still describe it before the COPY,
     * which the serving role cannot ANALYZE, and a plan made on them could be quadratic). */
    [CLI_SANCTIONS_NATIONALITIES] = {"cli_sanctions_nationalities",
     "UPDATE sanctions_entries e SET nationalities = coalesce(("
     "  SELECT array_agg(x.alpha2 ORDER BY x.pos) FROM ("
     "    SELECT c.alpha2, min(u.pos) AS pos "
     "    FROM unnest(e.nationality_names) WITH ORDINALITY AS u(name, pos) "
     "    JOIN LATERAL (SELECT k.alpha2::text AS alpha2 FROM countries k "
     "                  WHERE lower(k.name) = lower(btrim(u.name)) "
     "                     OR upper(btrim(u.name)) IN (k.alpha2::text, k.alpha3::text) "
     "                  UNION ALL "
     "                  SELECT a.alpha2::text FROM country_aliases a "
     "                  WHERE a.alias = lower(btrim(u.name)) LIMIT 1) c ON true "
     "    GROUP BY c.alpha2) x), '{}') "
     "WHERE e.list_id = $1::bigint AND e.nationality_names <> '{}'"},
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

/* The entry ids of a list, to refuse one that lists an id twice (an entry is one row of
 * sanctions_entries). */
struct id_set {
    long *v;
    size_t n, cap;
    int failed;
};

static int collect_id(const screen_entry *e, void *ud)
{
    struct id_set *s = ud;
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 4096;
        long *v = realloc(s->v, cap * sizeof(*v));
        if (v == NULL) {
            s->failed = 1;
            return 0;
        }
        s->v = v;
        s->cap = cap;
    }
    s->v[s->n++] = e->entry_id;
    return 0;
}

static int long_cmp(const void *x, const void *y)
{
    long a = *(const long *)x, b = *(const long *)y;
    return a < b ? -1 : a > b;
}

/* An id listed twice, or 0. */
static long duplicate_id(struct id_set *s)
{
    if (s->n > 1)
        qsort(s->v, s->n, sizeof(*s->v), long_cmp);
    for (size_t i = 1; i < s->n; i++)
        if (s->v[i] == s->v[i - 1])
            return s->v[i];
    return 0;
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
    struct id_set ids = {0};
    lf->entries = screen_parse_sdn(lf->buf, lf->len, collect_id, &ids, err, sizeof(err));
    if (lf->entries >= 0 && ids.failed) {
        snprintf(err, sizeof(err), "out of memory");
        lf->entries = -1;
    }
    long dup = lf->entries >= 0 ? duplicate_id(&ids) : 0;
    free(ids.v);
    if (dup > 0) {
        snprintf(err, sizeof(err), "entry %ld appears twice", dup);
        lf->entries = -1;
    }
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

/* Starts a COPY ... FROM STDIN on the db_* connection (inside its open transaction): the
 * connection, or NULL after printing what failed. */
static PGconn *copy_begin(const char *stmt, const char *what)
{
    PGconn *c = db_conn();
    if (c == NULL)
        return NULL;
    PGresult *res = PQexec(c, stmt);
    int ok = PQresultStatus(res) == PGRES_COPY_IN;
    if (!ok)
        cli_db_error(res, what);
    PQclear(res);
    return ok ? c : NULL;
}

/* Ends the COPY (aborted when a row failed): 1 ok, 0 failed (printed). */
static int copy_end(PGconn *c, int failed, const char *what)
{
    int ok = PQputCopyEnd(c, failed ? "row failed" : NULL) == 1;
    PGresult *res = PQgetResult(c);
    if (ok && PQresultStatus(res) != PGRES_COMMAND_OK) {
        cli_db_error(res, what);
        ok = 0;
    }
    PQclear(res);
    while ((res = PQgetResult(c)) != NULL)
        PQclear(res);
    return ok;
}

/* COPYs the names of lf under list_id inside the open transaction: 1 ok, 0 failed. */
static int copy_names(const struct list_file *lf, const char *list_id, long *names)
{
    PGconn *c = copy_begin("COPY sanctions_names (list_id, entry_id, name, type, programs) "
                           "FROM STDIN",
                           "starting the copy of names");
    if (c == NULL)
        return 0;
    struct copy_ctx cx = {c, list_id, 0, 0};
    char err[256];
    screen_parse_sdn(lf->buf, lf->len, on_entry, &cx, err, sizeof(err));
    if (lf->alt_buf)
        screen_parse_alt(lf->alt_buf, lf->alt_len, on_alt, &cx, err, sizeof(err));
    *names = cx.names;
    return copy_end(c, cx.failed, "copying names");
}

/* ---- COPY of the entries ----------------------------------------------------------------- */

/* The content hash of an entry is BLAKE2b over its SDN row's fields and the digests of its
 * alt.csv rows in sorted order (so the order of alt.csv does not matter), each field framed by
 * a null flag and its length so that no two different rows hash alike; the first 16 hex digits
 * are kept. A new version's diff is by entry id and this hash (monitoring.c). */
struct alt_digest {
    long entry_id;
    unsigned char d[16];
};

struct entries_ctx {
    PGconn *c;
    const char *list_id;
    struct alt_digest *alts;
    size_t nalts, cap;
    long rows;
    int failed;
};

static void hash_field(crypto_generichash_state *st, const char *s)
{
    unsigned char frame[5] = {s != NULL, 0, 0, 0, 0};
    size_t n = s ? strlen(s) : 0;
    for (int i = 0; i < 4; i++)
        frame[1 + i] = (unsigned char)(n >> (24 - 8 * i));
    crypto_generichash_update(st, frame, sizeof(frame));
    if (n > 0)
        crypto_generichash_update(st, (const unsigned char *)s, n);
}

static int on_alt_digest(const screen_entry *e, void *ud)
{
    struct entries_ctx *ex = ud;
    if (ex->nalts == ex->cap) {
        size_t cap = ex->cap ? ex->cap * 2 : 1024;
        struct alt_digest *n = realloc(ex->alts, cap * sizeof(*n));
        if (n == NULL)
            return ex->failed = 1;
        ex->alts = n;
        ex->cap = cap;
    }
    struct alt_digest *ad = &ex->alts[ex->nalts++];
    crypto_generichash_state st;
    crypto_generichash_init(&st, NULL, 0, sizeof(ad->d));
    hash_field(&st, e->name);
    hash_field(&st, e->type);
    hash_field(&st, e->remarks);
    crypto_generichash_final(&st, ad->d, sizeof(ad->d));
    ad->entry_id = e->entry_id;
    return 0;
}

static int alt_cmp(const void *x, const void *y)
{
    const struct alt_digest *a = x, *b = y;
    if (a->entry_id != b->entry_id)
        return a->entry_id < b->entry_id ? -1 : 1;
    return memcmp(a->d, b->d, sizeof(a->d));
}

/* A PostgreSQL array literal of n strings, each quoted ({"1971-03-12","1971"}), into out. */
static void array_literal(char *out, size_t cap, int n, const char *const *items)
{
    size_t k = 0;
    out[k++] = '{';
    for (int i = 0; i < n && k + 4 < cap; i++) {
        if (i > 0)
            out[k++] = ',';
        out[k++] = '"';
        for (const char *p = items[i]; *p && k + 4 < cap; p++) {
            if (*p == '"' || *p == '\\')
                out[k++] = '\\';
            out[k++] = *p;
        }
        out[k++] = '"';
    }
    out[k++] = '}';
    out[k] = '\0';
}

static int on_entry_row(const screen_entry *e, void *ud)
{
    struct entries_ctx *ex = ud;
    if (e->type && (!strcmp(e->type, "vessel") || !strcmp(e->type, "aircraft")))
        return 0;
    char id[24];
    snprintf(id, sizeof(id), "%ld", e->entry_id);
    crypto_generichash_state st;
    crypto_generichash_init(&st, NULL, 0, 16);
    hash_field(&st, id);
    hash_field(&st, e->name);
    hash_field(&st, e->type);
    hash_field(&st, e->programs);
    hash_field(&st, e->remarks);
    /* The entry's alt.csv rows: the first at or after entry_id in the sorted digests. */
    size_t lo = 0, hi = ex->nalts;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (ex->alts[mid].entry_id < e->entry_id)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (; lo < ex->nalts && ex->alts[lo].entry_id == e->entry_id; lo++)
        crypto_generichash_update(&st, ex->alts[lo].d, sizeof(ex->alts[lo].d));
    unsigned char h[16];
    crypto_generichash_final(&st, h, sizeof(h));
    char hash[17];
    sodium_bin2hex(hash, sizeof(hash), h, 8);

    screen_facts f;
    screen_parse_facts(e->remarks, &f);
    char dobs[SCREEN_MAX_DOB][32];
    const char *dob[SCREEN_MAX_DOB + 1], *nat[SCREEN_MAX_NAT];
    int ndob = f.ndob < SCREEN_MAX_DOB ? f.ndob : SCREEN_MAX_DOB;
    int nnat = f.nnat < SCREEN_MAX_NAT ? f.nnat : SCREEN_MAX_NAT;
    for (int i = 0; i < ndob; i++)
        dob[i] = screen_dob_format(&f.dob[i], dobs[i], sizeof(dobs[i]));
    if (f.dob_cut)
        dob[ndob++] = "more"; /* more dates than kept: refdata_facts_parse sets dob_cut */
    for (int i = 0; i < nnat; i++)
        nat[i] = f.nat[i];
    char dob_arr[(SCREEN_MAX_DOB + 1) * 40 + 4], nat_arr[SCREEN_MAX_NAT * 140 + 4];
    array_literal(dob_arr, sizeof(dob_arr), ndob, dob);
    array_literal(nat_arr, sizeof(nat_arr), nnat, nat);

    char line[2048];
    size_t n = (size_t)snprintf(line, sizeof(line), "%s\t%ld\t", ex->list_id, e->entry_id);
    copy_field(line, &n, sizeof(line) - 8, e->type);
    n += (size_t)snprintf(line + n, sizeof(line) - n, "\t%s\t", hash);
    copy_field(line, &n, sizeof(line) - 8, dob_arr);
    line[n++] = '\t';
    copy_field(line, &n, sizeof(line) - 8, nat_arr);
    line[n++] = '\n';
    if (PQputCopyData(ex->c, line, (int)n) != 1)
        ex->failed = 1;
    ex->rows++;
    return 0;
}

/* COPYs one sanctions_entries row per entry screened against (not vessels or aircraft), then
 * resolves their nationalities, inside the open transaction: 1 ok, 0 failed (printed). */
static int copy_entries(arena *a, const struct list_file *lf, const char *list_id)
{
    struct entries_ctx ex = {.list_id = list_id};
    char err[256];
    int ok = 1;
    if (lf->alt_buf &&
        screen_parse_alt(lf->alt_buf, lf->alt_len, on_alt_digest, &ex, err, sizeof(err)) < 0) {
        fprintf(stderr, "loanctl: out of memory hashing %s\n", lf->alt);
        ok = 0;
    }
    if (ok && ex.nalts > 0)
        qsort(ex.alts, ex.nalts, sizeof(*ex.alts), alt_cmp);
    if (ok && (ex.c = copy_begin("COPY sanctions_entries (list_id, entry_id, type, content_hash, "
                                 "dob, nationality_names) FROM STDIN",
                                 "starting the copy of entries")) == NULL)
        ok = 0;
    if (ok) {
        screen_parse_sdn(lf->buf, lf->len, on_entry_row, &ex, err, sizeof(err));
        ok = copy_end(ex.c, ex.failed, "copying entries");
    }
    free(ex.alts);
    if (ok) {
        const char *p[1] = {list_id};
        PGresult *res = db_exec(a, &sql[CLI_SANCTIONS_NATIONALITIES], 1, p);
        ok = db_ok(res);
        if (!ok)
            cli_db_error(res, "resolving the nationalities");
    }
    return ok;
}

/* ---- load, ensure, list ------------------------------------------------------------------ */

/* Re-screens the customers against what version list_id changed (monitoring.c), after the
 * version's own transaction committed: see monitoring.c for why it is not inside it, and why a
 * run cut short is finished by loading the same file again. Exit status. */
static int rescreen(arena *a, const struct list_file *lf, const char *list_id)
{
    struct monitoring_figures f;
    const char *why = NULL;
    if (monitoring_rescreen(a, list_id, &f, &why) != 0) {
        fprintf(stderr,
                "loanctl: re-screening against %s version %s failed: %s (the version is active; "
                "load the same file again to finish the re-screening)\n",
                lf->name, lf->version, why ? why : "error");
        return 1;
    }
    printf("rescreened %ld changed entries against %ld subjects: %ld new matches in %ld ms\n",
           f.entries, f.subjects, f.hits, f.ms);
    return 0;
}

/* The same version loaded again: nothing to do, unless the re-screening its load started did
 * not finish (rescreened_at is NULL). Exit status. */
static int already_active(arena *a, const struct list_file *lf, const char *list_id,
                          const char *prefix)
{
    printf("%s%s version %s is already the active list\n", prefix, lf->name, lf->version);
    int pending = monitoring_rescreen_pending(a, list_id);
    if (pending < 0) {
        fprintf(stderr, "loanctl: checking the re-screening of %s version %s failed\n", lf->name,
                lf->version);
        return 1;
    }
    if (pending == 0)
        return 0;
    printf("%sits re-screening did not finish; finishing it\n", prefix);
    fflush(stdout);
    return rescreen(a, lf, list_id);
}

/* Replaces the active list of lf's name with lf in one transaction, then re-screens. Exit
 * status. */
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
    ok = ok && copy_names(lf, list_id, &names) && copy_entries(a, lf, list_id);
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
    fflush(stdout);
    return rescreen(a, lf, list_id);
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
    int same = -1;
    for (int i = 0; i < PQntuples(res); i++)
        if (!strcmp(PQgetvalue(res, i, 1), lf.name) && !strcmp(PQgetvalue(res, i, 3), lf.sha256))
            same = i;
    if (same >= 0)
        rc = already_active(a, &lf, PQgetvalue(res, same, 0), "");
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
                rc = already_active(a, &lf, PQgetvalue(res, same_name, 0), "sanctions ensure: ");
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
                /* the kept version's re-screening may have been cut short: finish it */
                struct list_file kept = lf;
                snprintf(kept.version, sizeof(kept.version), "%s", ver);
                int pending = monitoring_rescreen_pending(a, PQgetvalue(res, same_name, 0));
                if (pending < 0) {
                    fprintf(stderr, "loanctl: checking the re-screening of %s version %s failed\n",
                            lf.name, ver);
                    rc = 1;
                } else if (pending == 1) {
                    printf("sanctions ensure: the re-screening of version %s did not finish; "
                           "finishing it\n",
                           ver);
                    fflush(stdout);
                    rc = rescreen(a, &kept, PQgetvalue(res, same_name, 0));
                }
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
