/*
 * GET /data: public market reference data (indices, rates, exchange rates, commodities) and the
 * base rate each country's loans are priced over, as loaded by `loanctl market load`.
 *
 * Cached through cache_read (cache.h), like the dashboard: the JSON text lives in Redis as
 * "<version>|<json>" and is used only while market:version — bumped after every committed load
 * (market_changed) — still has that value, so one MGET answers; a worker also keeps the text in
 * its own memory while the host's epoch is unchanged (for a second at most), so most requests
 * cost no round trip at all. On a miss the document comes from market_document() in the store
 * (decimals as JSON numbers with the database's exact text, never through a double). Responses
 * carry an ETag and answer If-None-Match with 304.
 */
#include "routes.h"

#include "cache.h"
#include "market.h"

/* How long a worker may answer from its own memory: a load on this host invalidates at once
 * (the epoch); this bounds how long a load made through another host goes unseen. */
#define MARKET_LOCAL_SECONDS 1
/* Redis lifetime of a document. The version key makes a load visible at once; the TTL only
 * bounds how long a copy survives a version bump that failed (Redis unreachable at the load). */
#define MARKET_CACHE_TTL 60

struct market_build {
    http_req *r;
    const char *category;
    const PGresult *failed;
};

/* Builds the document on a cache miss: its JSON text in the arena, or NULL (b->failed says
 * why). */
static const char *build(void *ctx)
{
    struct market_build *b = ctx;
    json_object *o = market_document(b->r->pool, b->category, &b->failed);
    if (o == NULL)
        return NULL;
    const char *json = arena_strdup(
        b->r->pool,
        json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
    json_object_put(o);
    return json;
}

int handle_market_get(http_req *r)
{
    if (routes_query_encoded(r) != 0)
        return r->status;
    const char *category = http_query(r, "category");
    if (category != NULL && !market_category_valid(category))
        return routes_query_invalid(r, "category", "must be one of index, rate, fx, commodity");
    const struct cache_read spec = {
        .key = arena_printf(r->pool, "market:data:%s", category ? category : "all"),
        .version_key = MARKET_VERSION_KEY,
        .ttl = MARKET_CACHE_TTL,
        .local_seconds = MARKET_LOCAL_SECONDS,
        .valid = cache_text_is_object,
    };
    struct market_build b = {r, category, NULL};
    const char *json = cache_read(r->pool, &spec, build, &b);
    if (json == NULL)
        return routes_db_error(r, b.failed);
    return http_send_json_etag(r, json, "public, no-cache");
}

/* GET /__test/base-rate?country=XX (TEST_ROUTES only): what market_base_rate() answers in this
 * worker, so the tests can check that pricing and GET /data agree. */
int handle_market_test_base_rate(http_req *r)
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
