/*
 * Market reference data in PostgreSQL: the statements, the load, the GET /data document and the
 * base rates pricing uses. (The values and the CSV reader, which touch no database, are in
 * app/pipeline/market_csv.c.)
 *
 * The load replaces the table in one transaction: DELETE every row, INSERT the file's rows,
 * record the load. Readers keep seeing the previous rows until the COMMIT (MVCC), so GET /data
 * never shows half a file; an advisory lock serialises two loads instead of letting the second
 * fail on a duplicate key.
 *
 * Pricing reads base rates through market_base_rate(), which keeps every configured base rate
 * in the worker's memory and re-reads them at most once a second, like the sanctions version
 * check in refdata.c. It uses the same statement as the base_rates of GET /data, so the rate a
 * client is shown and the rate a decision uses come from the same rows.
 */
#include "market.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cache.h"
#include "epoch.h"
#include "log.h"

/* clang-format off */
const struct db_stmt market_sql[MARKET_SQL_COUNT] = {
    [MARKET_ROWS] = {"market_rows", "SELECT symbol, name, category, value::text, change::text, "
                    "round(change * 100 / nullif(value - change, 0), 2)::text, as_of::text, source "
                    "FROM market_data WHERE $1::text IS NULL OR category = $1 "
                    "ORDER BY category, symbol COLLATE \"C\""},
    [MARKET_BASE_RATES] = {"market_base_rates", "SELECT b.country_code, b.symbol, m.value::text, m.as_of::text "
                          "FROM base_rate_symbols b LEFT JOIN market_data m ON m.symbol = b.symbol "
                          "ORDER BY b.country_code COLLATE \"C\""},
    [MARKET_LOCK] = {"market_lock", "SELECT pg_advisory_xact_lock(774207)"},
    [MARKET_DELETE] = {"market_delete", "DELETE FROM market_data RETURNING symbol"},
    [MARKET_INSERT] = {"market_insert",
     "INSERT INTO market_data (symbol, name, category, value, change, as_of, source) "
     "VALUES ($1, $2, $3, $4::numeric, $5::numeric, $6::date, $7)"},
    [MARKET_RECORD_LOAD] = {"market_record_load", "INSERT INTO market_loads (file_name, rows, sha256, loaded_by) "
                           "VALUES ($1, $2::int, $3, $4) RETURNING id"},
    [MARKET_LAST_LOAD] = {"market_last_load", "SELECT id, file_name, rows, sha256, loaded_by, "
                         "to_char(loaded_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS') "
                         "FROM market_loads ORDER BY id DESC LIMIT 1"},
};
/* clang-format on */
const struct db_stmts market_statements = DB_STMTS("market", market_sql);
#define SQL(id) (&market_sql[id])

/* ---- the load -------------------------------------------------------------------------------- */

static int sym_cmp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int market_replace(arena *a, const struct market_set *set, const char *file_name,
                   const char *sha256, const char *loaded_by, char load_id[24], long *removed,
                   char *err, size_t errlen)
{
    PGresult *res = NULL;
    const char *what = "starting the transaction";
    const char **syms = NULL;
    arena *rows = NULL;
    *removed = 0;
    if (db_begin() != 0)
        goto fail;
    what = "taking the market data lock";
    if (!db_ok(res = db_exec(a, SQL(MARKET_LOCK), 0, NULL)))
        goto fail;
    what = "deleting the previous rows";
    if (!db_ok(res = db_exec(a, SQL(MARKET_DELETE), 0, NULL)))
        goto fail;
    syms = malloc((set->n ? set->n : 1) * sizeof(*syms));
    rows = arena_new(4096);
    if (syms == NULL || rows == NULL) {
        snprintf(err, errlen, "out of memory");
        db_rollback();
        free(syms);
        arena_free(rows);
        return -1;
    }
    for (size_t i = 0; i < set->n; i++)
        syms[i] = set->rows[i].symbol;
    qsort(syms, set->n, sizeof(*syms), sym_cmp);
    for (int i = 0; i < PQntuples(res); i++) {
        const char *old = PQgetvalue(res, i, 0);
        if (set->n == 0 || bsearch(&old, syms, set->n, sizeof(*syms), sym_cmp) == NULL)
            (*removed)++;
    }
    what = "inserting a row";
    for (size_t i = 0; i < set->n; i++) {
        const struct market_row *m = &set->rows[i];
        const char *p[7] = {m->symbol, m->name,  m->category, m->value,
                            m->change, m->as_of, m->source};
        arena_reset(rows); /* one result at a time, however long the file */
        if (!db_ok(res = db_exec(rows, SQL(MARKET_INSERT), 7, p))) {
            snprintf(err, errlen, "line %d (%s): %s", m->line, m->symbol,
                     res ? PQresultErrorMessage(res) : "the database did not answer");
            err[strcspn(err, "\n")] = '\0';
            db_rollback();
            free(syms);
            arena_free(rows);
            return -1;
        }
    }
    free(syms);
    arena_free(rows);
    char n[24];
    snprintf(n, sizeof(n), "%zu", set->n);
    const char *p[4] = {file_name, n, sha256, loaded_by};
    what = "recording the load";
    if (!db_ok(res = db_exec(a, SQL(MARKET_RECORD_LOAD), 4, p)))
        goto fail;
    snprintf(load_id, 24, "%s", PQgetvalue(res, 0, 0));
    res = NULL;
    what = "committing";
    if (db_commit() != 0)
        goto fail;
    return 0;
fail:
    snprintf(err, errlen, "%s failed: %s", what,
             res ? PQresultErrorMessage(res) : "the database did not answer");
    err[strcspn(err, "\n")] = '\0';
    db_rollback();
    return -1;
}

void market_changed(void)
{
    cache_incr(MARKET_VERSION_KEY);
    epoch_bump();
}

/* ---- GET /data ------------------------------------------------------------------------------ */

/* A decimal column as a JSON number keeping its text, or NULL (JSON null). */
static json_object *decimal(const PGresult *res, int row, int col)
{
    if (PQgetisnull(res, row, col))
        return NULL;
    char t[48];
    market_trim_decimal(PQgetvalue(res, row, col), t, sizeof(t));
    return json_object_new_double_s(strtod(t, NULL), t);
}

static json_object *text(const PGresult *res, int row, int col)
{
    return PQgetisnull(res, row, col) ? NULL : json_object_new_string(PQgetvalue(res, row, col));
}

json_object *market_document(arena *a, const char *category, const PGresult **failed)
{
    const char *p[1] = {category};
    PGresult *res = db_exec(a, SQL(MARKET_ROWS), 1, p);
    *failed = res;
    if (!db_ok(res))
        return NULL;
    PGresult *br = db_exec(a, SQL(MARKET_BASE_RATES), 0, NULL);
    *failed = br;
    if (!db_ok(br))
        return NULL;
    *failed = NULL;
    static const char *keys[] = {"symbol", "name",           "category", "value",
                                 "change", "change_percent", "as_of",    "source"};
    json_object *data = json_object_new_array();
    const char *max_as_of = NULL;
    for (int i = 0; i < PQntuples(res); i++) {
        json_object *e = json_object_new_object();
        for (int k = 0; k < 8; k++)
            json_object_object_add(e, keys[k],
                                   k >= 3 && k <= 5 ? decimal(res, i, k) : text(res, i, k));
        json_object_array_add(data, e);
        /* YYYY-MM-DD compares as text. */
        if (max_as_of == NULL || strcmp(PQgetvalue(res, i, 6), max_as_of) > 0)
            max_as_of = PQgetvalue(res, i, 6);
    }
    json_object *rates = json_object_new_array();
    for (int i = 0; i < PQntuples(br); i++) {
        json_object *e = json_object_new_object();
        json_object_object_add(e, "country_code", text(br, i, 0));
        json_object_object_add(e, "symbol", text(br, i, 1));
        json_object_object_add(e, "value", decimal(br, i, 2));
        json_object_object_add(e, "as_of", text(br, i, 3));
        json_object_array_add(rates, e);
    }
    json_object *o = json_object_new_object();
    json_object_object_add(o, "data", data);
    json_object_object_add(o, "count", json_object_new_int(PQntuples(res)));
    json_object_object_add(o, "as_of", max_as_of ? json_object_new_string(max_as_of) : NULL);
    json_object_object_add(o, "base_rates", rates);
    return o;
}

/* ---- pricing --------------------------------------------------------------------------------- */

struct rate_entry {
    char country[3];
    char symbol[32];
    int loaded; /* the symbol has a market_data row */
    int bps;
    char as_of[11];
};

static struct {
    struct rate_entry *v;
    int n;
    int loaded;
    time_t checked;
} rates;

/* Re-reads the configured base rates at most once a second. 0, or -1 when the database failed
 * (the previous table is kept for the next attempt, never used meanwhile). */
static int refresh_rates(void)
{
    time_t now = time(NULL);
    if (rates.loaded && rates.checked == now)
        return 0;
    arena *a = arena_new(4096);
    if (a == NULL)
        return -1;
    PGresult *res = db_exec(a, SQL(MARKET_BASE_RATES), 0, NULL);
    if (!db_ok(res)) {
        arena_free(a);
        return -1;
    }
    int n = PQntuples(res);
    struct rate_entry *v = calloc((size_t)(n > 0 ? n : 1), sizeof(*v));
    if (v == NULL) {
        arena_free(a);
        return -1;
    }
    for (int i = 0; i < n; i++) {
        struct rate_entry *e = &v[i];
        snprintf(e->country, sizeof(e->country), "%s", PQgetvalue(res, i, 0));
        snprintf(e->symbol, sizeof(e->symbol), "%s", PQgetvalue(res, i, 1));
        if (PQgetisnull(res, i, 2))
            continue;
        int64_t micro;
        if (market_check_decimal(PQgetvalue(res, i, 2), &micro) != NULL ||
            market_bps(micro, &e->bps) != 0) {
            log_msg(LOG_WARN, "base rate %s = %s is not usable", e->symbol, PQgetvalue(res, i, 2));
            continue;
        }
        snprintf(e->as_of, sizeof(e->as_of), "%s", PQgetvalue(res, i, 3));
        e->loaded = 1;
    }
    free(rates.v);
    rates.v = v;
    rates.n = n;
    rates.loaded = 1;
    rates.checked = now;
    arena_free(a);
    return 0;
}

int market_base_rate(const char *country_code, struct base_rate *out)
{
    if (refresh_rates() != 0)
        return -1;
    char cc[3] = "*";
    if (country_code != NULL && strlen(country_code) == 2) {
        cc[0] = (char)toupper((unsigned char)country_code[0]);
        cc[1] = (char)toupper((unsigned char)country_code[1]);
        cc[2] = '\0';
    }
    const struct rate_entry *own = NULL, *def = NULL;
    for (int i = 0; i < rates.n; i++) {
        if (!strcmp(rates.v[i].country, cc))
            own = &rates.v[i];
        if (!strcmp(rates.v[i].country, "*"))
            def = &rates.v[i];
    }
    const struct rate_entry *e = own ? own : def;
    if (e == NULL || !e->loaded)
        return 1;
    snprintf(out->symbol, sizeof(out->symbol), "%s", e->symbol);
    out->bps = e->bps;
    snprintf(out->as_of, sizeof(out->as_of), "%s", e->as_of);
    return 0;
}
