/*
 * Dashboard analytics: the six JSON endpoints of the seed and the data of the HTML page. The
 * aggregates are read by app/store/stats.c from loan_stats_all (the summary the triggers of
 * sql/004 maintain), so each is a small aggregate whatever the number of applications; this file
 * only picks the document, caches its text and sends it.
 *
 * Every text goes through cache_read (cache.h): the worker's memory while the host's epoch is
 * unchanged (a second at most), then Redis as "<version>|<json>", used only while
 * dashboard:version — bumped after every committed write (applications_changed) — still has that
 * value, so a dashboard is never older than the last write; one MGET reads both. Without Redis, or
 * when it answers something unexpected, the document is computed from PostgreSQL. Responses carry
 * an ETag and answer If-None-Match with 304.
 */
#include "routes.h"
#include "stats.h"

#include <stdlib.h>

#include "cache.h"
#include "config.h"

/* How long a worker may answer from its own memory: changes made on this host invalidate at
 * once (the epoch); this bounds how long a change made through another host goes unseen. */
#define DASH_LOCAL_SECONDS 1

enum dash_doc {
    DOC_OVERVIEW,
    DOC_REGION,
    DOC_COUNTRY,
    DOC_VERIFICATION,
    DOC_FINANCIAL,
    DOC_TIMELINE,
    DOC_PAGE
};

struct dash_build {
    http_req *r;
    enum dash_doc doc;
    int days;
    const PGresult *failed;
};

/* Reads one document from the store on a cache miss: its JSON text in the arena, or NULL
 * (b->failed says why). */
static const char *build(void *ctx)
{
    struct dash_build *b = ctx;
    arena *a = b->r->pool;
    json_object *o = NULL;
    switch (b->doc) {
    case DOC_OVERVIEW:
        o = stats_overview(a, &b->failed);
        break;
    case DOC_REGION:
        o = stats_by_region(a, &b->failed);
        break;
    case DOC_COUNTRY:
        o = stats_by_country(a, &b->failed);
        break;
    case DOC_VERIFICATION:
        o = stats_verification(a, &b->failed);
        break;
    case DOC_FINANCIAL:
        o = stats_financial(a, &b->failed);
        break;
    case DOC_TIMELINE:
        o = stats_timeline(a, b->days, &b->failed);
        break;
    case DOC_PAGE:
        o = stats_page(a, b->days, &b->failed);
        break;
    }
    if (o == NULL)
        return NULL;
    const char *json =
        arena_strdup(a, json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
                                                              JSON_C_TO_STRING_NOSLASHESCAPE));
    json_object_put(o);
    return json;
}

struct cache_read dashboard_cache_spec(const char *key)
{
    struct cache_read spec = {
        .key = key,
        .version_key = STATS_VERSION_KEY,
        .ttl = config_get()->dashboard_ttl,
        .local_seconds = DASH_LOCAL_SECONDS,
        .valid = NULL,
    };
    return spec;
}

/*
 * The cached JSON text of one document (borrowed for the request), computed when the cache
 * misses. NULL after sending the error response when the database failed.
 */
static const char *cached(http_req *r, const char *name, enum dash_doc doc, int days)
{
    struct cache_read spec = dashboard_cache_spec(arena_printf(r->pool, "dash:%s:%d", name, days));
    spec.valid = cache_text_is_object;
    struct dash_build b = {r, doc, days, NULL};
    const char *json = cache_read(r->pool, &spec, build, &b);
    if (json == NULL)
        routes_db_error(r, b.failed);
    return json;
}

static int send_cached(http_req *r, const char *name, enum dash_doc doc, int days)
{
    const char *json = cached(r, name, doc, days);
    if (json == NULL)
        return r->status;
    return http_send_json_etag(r, json, "private, no-cache");
}

int handle_dashboard_overview(http_req *r)
{
    return send_cached(r, "overview", DOC_OVERVIEW, 0);
}

int handle_dashboard_by_region(http_req *r)
{
    return send_cached(r, "by-region", DOC_REGION, 0);
}

int handle_dashboard_by_country(http_req *r)
{
    return send_cached(r, "by-country", DOC_COUNTRY, 0);
}

int handle_dashboard_verification(http_req *r)
{
    return send_cached(r, "verification-stats", DOC_VERIFICATION, 0);
}

int handle_dashboard_financial(http_req *r)
{
    return send_cached(r, "financial-metrics", DOC_FINANCIAL, 0);
}

int dashboard_days(http_req *r)
{
    const char *d = http_query(r, "days");
    if (d == NULL)
        return 30;
    char *end;
    long v = strtol(d, &end, 10);
    if (!d[0] || *end || v < 1 || v > 365) {
        routes_query_invalid(r, "days", "must be a whole number from 1 to 365");
        return 0;
    }
    return (int)v;
}

int handle_dashboard_timeline(http_req *r)
{
    int days = dashboard_days(r);
    if (days == 0)
        return r->status;
    return send_cached(r, "timeline", DOC_TIMELINE, days);
}

int dashboard_data(http_req *r, int days, json_object **out)
{
    const char *json = cached(r, "page", DOC_PAGE, days);
    if (json == NULL)
        return -1;
    *out = json_tokener_parse(json);
    if (*out == NULL) {
        http_fault(r, "cached dashboard page data unreadable");
        return -1;
    }
    return 0;
}
