/*
 * GET /data: public market reference data (indices, rates, exchange rates, commodities) and the
 * base rate each country's loans are priced over, as loaded by `loanctl market load`.
 *
 * Cached like the dashboard: the JSON text lives in Redis as "<version>|<json>" and is used only
 * while market:version — bumped after every committed load (market_changed) — still has that
 * value, so one MGET answers; a worker also keeps the text in its own memory while the host's
 * epoch is unchanged (for a second at most), so most requests cost no round trip at all. Without
 * Redis the document is built from PostgreSQL. Responses carry an ETag and answer If-None-Match
 * with 304. Decimals are emitted as JSON numbers with the database's exact text (trailing zeros
 * trimmed), never through a double.
 */
#include "routes.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cache.h"
#include "epoch.h"
#include "js.h"
#include "market.h"

/* How long a worker may answer from its own memory: a load on this host invalidates at once
 * (the epoch); this bounds how long a load made through another host goes unseen. */
#define MARKET_LOCAL_SECONDS 1
/* Redis lifetime of a document. The version key makes a load visible at once; the TTL only
 * bounds how long a copy survives a version bump that failed (Redis unreachable at the load). */
#define MARKET_CACHE_TTL 60

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

/* The document for one category (NULL: every row). A new object, or NULL when the database
 * failed (*res_out says how). */
static json_object *build(http_req *r, const char *category, PGresult **res_out)
{
    const char *p[1] = {category};
    PGresult *res = db_exec(r->pool, MARKET_SQL(MARKET_ROWS), 1, p);
    *res_out = res;
    if (!db_ok(res))
        return NULL;
    PGresult *br = db_exec(r->pool, MARKET_SQL(MARKET_BASE_RATES), 0, NULL);
    *res_out = br;
    if (!db_ok(br))
        return NULL;
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

/* The JSON text for a category (arena or the epoch cache's copy, borrowed for the request), or
 * NULL after sending the error response when the database failed and nothing was cached. */
static const char *cached(http_req *r, const char *category)
{
    const char *key = arena_printf(r->pool, "market:data:%s", category ? category : "all");
    unsigned long epoch = epoch_get(); /* read first: a load meanwhile invalidates */
    const char *local = epoch_cache_get(key, MARKET_LOCAL_SECONDS);
    if (local != NULL)
        return local;
    const char *keys[2] = {MARKET_VERSION_KEY, key};
    char *vals[2] = {NULL, NULL};
    int redis = cache_mget(r->pool, 2, keys, vals) == 0;
    const char *version = redis && vals[0] ? vals[0] : "0";
    size_t vl = strlen(version);
    if (redis && vals[1] != NULL && !strncmp(vals[1], version, vl) && vals[1][vl] == '|' &&
        vals[1][vl + 1] == '{') {
        epoch_cache_put(key, epoch, vals[1] + vl + 1);
        return vals[1] + vl + 1;
    }
    PGresult *res = NULL;
    json_object *o = build(r, category, &res);
    if (o == NULL) {
        routes_db_error(r, res);
        return NULL;
    }
    const char *json = arena_strdup(
        r->pool,
        json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
    json_object_put(o);
    if (redis) {
        char *val = arena_printf(r->pool, "%s|%s", version, json);
        cache_set(key, val, strlen(val), MARKET_CACHE_TTL);
    }
    epoch_cache_put(key, epoch, json);
    return json;
}

int market_get(http_req *r)
{
    if (http_query_valid(r) != 0)
        return http_error(r, 400, "validation_failed", "The query string is not correctly encoded");
    const char *category = http_query(r, "category");
    if (category != NULL && !market_category_valid(category)) {
        json_object *f = json_object_new_object();
        js_field_error(f, "category", "must be one of index, rate, fx, commodity");
        return http_error_fields(r, 400, "validation_failed", "Invalid query parameter", f);
    }
    const char *json = cached(r, category);
    if (json == NULL)
        return r->status;
    return http_send_json_etag(r, json, "public, no-cache");
}

/* GET /__test/base-rate?country=XX (TEST_ROUTES only): what market_base_rate() answers in this
 * worker, so the tests can check that pricing and GET /data agree. */
int market_test_base_rate(http_req *r)
{
    const char *country = http_query(r, "country");
    struct base_rate br;
    int rc = market_base_rate(country, &br);
    if (rc < 0)
        return routes_db_error(r, NULL);
    json_object *o = json_object_new_object();
    json_object_object_add(o, "country", country ? json_object_new_string(country) : NULL);
    json_object_object_add(o, "available", json_object_new_boolean(rc == 0));
    if (rc == 0) {
        json_object_object_add(o, "symbol", json_object_new_string(br.symbol));
        json_object_object_add(o, "bps", json_object_new_int(br.bps));
        json_object_object_add(o, "as_of", json_object_new_string(br.as_of));
    }
    return http_send_json(r, 200, o);
}
