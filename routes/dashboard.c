/*
 * Dashboard analytics. The six JSON endpoints of the seed are computed from loan_stats_all (the
 * summary the triggers of sql/004 maintain), so each is a small aggregate whatever the number of
 * applications. Each result is cached in Redis as "<version>|<json>" and used only while
 * dashboard:version — bumped after every committed write (loans_changed) — still has that
 * value, so a dashboard is never older than the last write; one MGET reads both. Without Redis,
 * or when it answers something unexpected, the endpoint computes from PostgreSQL. Responses
 * carry an ETag and answer If-None-Match with 304.
 */
#include "routes.h"
#include "stats.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cache.h"
#include "config.h"
#include "epoch.h"
#include "js.h"

/* How long a worker may answer from its own memory: changes made on this host invalidate at
 * once (the epoch); this bounds how long a change made through another host goes unseen. */
#define DASH_LOCAL_SECONDS 1




static json_object *num(const char *text)
{
    return json_object_new_double_s(strtod(text, NULL), text);
}

static json_object *count(const PGresult *res, int row, int col)
{
    return json_object_new_int64(atoll(PQgetvalue(res, row, col)));
}

static json_object *rate(long long part, long long whole)
{
    return js_new_fixed(whole > 0 ? 100.0 * (double)part / (double)whole : 0.0, 2);
}

/* Each builder returns a new object, or NULL when the database failed (*res_out says how). */
typedef json_object *(*builder_fn)(http_req *r, int param, PGresult **res_out);

static PGresult *run(http_req *r, const struct db_stmt *stmt, int n, const char *const *p, PGresult **out)
{
    PGresult *res = db_exec(r->pool, stmt, n, p);
    *out = res;
    return db_ok(res) ? res : NULL;
}

static json_object *build_overview(http_req *r, int param, PGresult **out)
{
    (void)param;
    PGresult *res = run(r, STATS_SQL(DASH_OVERVIEW), 0, NULL, out);
    if (res == NULL)
        return NULL;
    long long total = atoll(PQgetvalue(res, 0, 0)), approved = atoll(PQgetvalue(res, 0, 1));
    json_object *o = json_object_new_object();
    json_object_object_add(o, "total_applications", json_object_new_int64(total));
    json_object_object_add(o, "approved", json_object_new_int64(approved));
    json_object_object_add(o, "rejected", count(res, 0, 2));
    json_object_object_add(o, "pending", count(res, 0, 3));
    json_object_object_add(o, "approval_rate", rate(approved, total));
    return o;
}

static json_object *build_region(http_req *r, int param, PGresult **out)
{
    (void)param;
    PGresult *res = run(r, STATS_SQL(DASH_REGION), 0, NULL, out);
    if (res == NULL)
        return NULL;
    json_object *arr = json_object_new_array();
    for (int i = 0; i < PQntuples(res); i++) {
        json_object *e = json_object_new_object();
        json_object_object_add(e, "region", json_object_new_string(PQgetvalue(res, i, 0)));
        json_object_object_add(e, "total", count(res, i, 1));
        json_object_object_add(e, "approved", count(res, i, 2));
        json_object_object_add(e, "rejected", count(res, i, 3));
        json_object_object_add(e, "pending", count(res, i, 4));
        json_object_array_add(arr, e);
    }
    json_object *o = json_object_new_object();
    json_object_object_add(o, "regions", arr);
    return o;
}

static json_object *build_country(http_req *r, int param, PGresult **out)
{
    (void)param;
    PGresult *res = run(r, STATS_SQL(DASH_COUNTRY), 0, NULL, out);
    if (res == NULL)
        return NULL;
    json_object *arr = json_object_new_array();
    for (int i = 0; i < PQntuples(res); i++) {
        json_object *e = json_object_new_object();
        json_object_object_add(e, "country", json_object_new_string(PQgetvalue(res, i, 0)));
        json_object_object_add(e, "region", json_object_new_string(PQgetvalue(res, i, 1)));
        json_object_object_add(e, "total", count(res, i, 2));
        json_object_object_add(e, "approved", count(res, i, 3));
        json_object_object_add(e, "rejected", count(res, i, 4));
        json_object_object_add(e, "pending", count(res, i, 5));
        json_object_array_add(arr, e);
    }
    json_object *o = json_object_new_object();
    json_object_object_add(o, "countries", arr);
    return o;
}

static json_object *stage(long long approved, long long rejected)
{
    json_object *s = json_object_new_object();
    json_object_object_add(s, "approved", json_object_new_int64(approved));
    json_object_object_add(s, "rejected", json_object_new_int64(rejected));
    json_object_object_add(s, "pass_rate", rate(approved, approved + rejected));
    return s;
}

static json_object *build_verification(http_req *r, int param, PGresult **out)
{
    (void)param;
    PGresult *res = run(r, STATS_SQL(DASH_VERIFICATION), 0, NULL, out);
    if (res == NULL)
        return NULL;
    long long v[8];
    for (int i = 0; i < 8; i++)
        v[i] = atoll(PQgetvalue(res, 0, i));
    json_object *o = json_object_new_object();
    json_object_object_add(o, "kyc", stage(v[0], v[1]));
    json_object *c = stage(v[2], v[3]);
    json_object_object_add(c, "political_connections", json_object_new_int64(v[4]));
    json_object_object_add(c, "senior_relatives", json_object_new_int64(v[5]));
    json_object_object_add(o, "compliance", c);
    json_object_object_add(o, "eligibility", stage(v[6], v[7]));
    return o;
}

static json_object *build_financial(http_req *r, int param, PGresult **out)
{
    (void)param;
    PGresult *res = run(r, STATS_SQL(DASH_FINANCIAL), 0, NULL, out);
    if (res == NULL)
        return NULL;
    json_object *o = json_object_new_object();
    json_object_object_add(o, "average_credit_score", num(PQgetvalue(res, 0, 1)));
    json_object_object_add(o, "average_dti_ratio", num(PQgetvalue(res, 0, 2)));
    json_object_object_add(o, "average_loan_amount", num(PQgetvalue(res, 0, 3)));
    json_object_object_add(o, "total_loan_amount", num(PQgetvalue(res, 0, 4)));
    json_object_object_add(o, "average_income", num(PQgetvalue(res, 0, 5)));
    return o;
}

static json_object *build_timeline(http_req *r, int days, PGresult **out)
{
    char d[16];
    snprintf(d, sizeof(d), "%d", days);
    const char *p[1] = {d};
    PGresult *res = run(r, STATS_SQL(DASH_TIMELINE), 1, p, out);
    if (res == NULL)
        return NULL;
    json_object *arr = json_object_new_array();
    for (int i = 0; i < PQntuples(res); i++) {
        json_object *e = json_object_new_object();
        json_object_object_add(e, "date", json_object_new_string(PQgetvalue(res, i, 0)));
        json_object_object_add(e, "total", count(res, i, 1));
        json_object_object_add(e, "approved", count(res, i, 2));
        json_object_object_add(e, "rejected", count(res, i, 3));
        json_object_array_add(arr, e);
    }
    json_object *o = json_object_new_object();
    json_object_object_add(o, "timeline", arr);
    return o;
}

/* The funnel of the dashboard page: submitted → KYC passed → compliance passed → eligible →
 * approved. */
static json_object *build_funnel(http_req *r, int param, PGresult **out)
{
    (void)param;
    PGresult *res = run(r, STATS_SQL(DASH_FUNNEL), 0, NULL, out);
    if (res == NULL)
        return NULL;
    static const char *labels[] = {"Submitted", "KYC passed", "Compliance passed", "Eligible",
                                   "Approved"};
    json_object *arr = json_object_new_array();
    for (int i = 0; i < 5; i++) {
        json_object *e = json_object_new_object();
        json_object_object_add(e, "stage", json_object_new_string(labels[i]));
        json_object_object_add(e, "count", count(res, 0, i));
        json_object_array_add(arr, e);
    }
    json_object *o = json_object_new_object();
    json_object_object_add(o, "funnel", arr);
    return o;
}

const char *dashboard_cache_get(http_req *r, const char *key, const char **version, int *redis)
{
    const char *keys[2] = {"dashboard:version", key};
    char *vals[2] = {NULL, NULL};
    *redis = cache_mget(r->pool, 2, keys, vals) == 0;
    *version = *redis && vals[0] ? vals[0] : "0";
    size_t vl = strlen(*version);
    if (*redis && vals[1] != NULL && !strncmp(vals[1], *version, vl) && vals[1][vl] == '|')
        return vals[1] + vl + 1;
    return NULL;
}

void dashboard_cache_put(http_req *r, const char *key, const char *version, const char *text)
{
    char *val = arena_printf(r->pool, "%s|%s", version, text);
    cache_set(key, val, strlen(val), config_get()->dashboard_ttl);
}

/*
 * The cached JSON text of one aggregate (arena string), computed when the cache misses.
 * NULL after sending the error response when the database failed.
 */
static const char *cached(http_req *r, const char *name, int param, builder_fn build)
{
    char *key = arena_printf(r->pool, "dash:%s:%d", name, param);
    unsigned long epoch = epoch_get(); /* read first: a change meanwhile invalidates */
    const char *local = epoch_cache_get(key, DASH_LOCAL_SECONDS);
    if (local != NULL)
        return local;
    const char *version;
    int redis;
    const char *hit = dashboard_cache_get(r, key, &version, &redis);
    if (hit != NULL && hit[0] == '{') {
        epoch_cache_put(key, epoch, hit);
        return hit;
    }
    PGresult *res = NULL;
    json_object *o = build(r, param, &res);
    if (o == NULL) {
        routes_db_error(r, res);
        return NULL;
    }
    const char *json = arena_strdup(r->pool, json_object_to_json_string_ext(
                                                 o, JSON_C_TO_STRING_PLAIN |
                                                        JSON_C_TO_STRING_NOSLASHESCAPE));
    json_object_put(o);
    if (redis)
        dashboard_cache_put(r, key, version, json);
    epoch_cache_put(key, epoch, json);
    return json;
}

static int send_cached(http_req *r, const char *name, int param, builder_fn build)
{
    const char *json = cached(r, name, param, build);
    if (json == NULL)
        return r->status;
    return http_send_json_etag(r, json, "private, no-cache");
}

int dashboard_overview(http_req *r)
{
    return send_cached(r, "overview", 0, build_overview);
}

int dashboard_by_region(http_req *r)
{
    return send_cached(r, "by-region", 0, build_region);
}

int dashboard_by_country(http_req *r)
{
    return send_cached(r, "by-country", 0, build_country);
}

int dashboard_verification(http_req *r)
{
    return send_cached(r, "verification-stats", 0, build_verification);
}

int dashboard_financial(http_req *r)
{
    return send_cached(r, "financial-metrics", 0, build_financial);
}

/* days: 1..365, default 30; 0 and a 400 sent otherwise. */
static int parse_days(http_req *r, int def)
{
    const char *d = http_query(r, "days");
    if (d == NULL)
        return def;
    char *end;
    long v = strtol(d, &end, 10);
    if (!d[0] || *end || v < 1 || v > 365) {
        json_object *f = json_object_new_object();
        js_field_error(f, "days", "must be a whole number from 1 to 365");
        http_error_fields(r, 400, "validation_failed", "Invalid query parameter", f);
        return 0;
    }
    return (int)v;
}

int dashboard_timeline(http_req *r)
{
    int days = parse_days(r, 30);
    if (days == 0)
        return r->status;
    return send_cached(r, "timeline", days, build_timeline);
}

static json_object *build_latest(http_req *r, int param, PGresult **out)
{
    (void)param;
    PGresult *res = run(r, STATS_SQL(DASH_LATEST), 0, NULL, out);
    if (res == NULL)
        return NULL;
    static const char *keys[] = {"application_id", "name", "country", "final_status",
                                 "loan_amount", "created_at"};
    json_object *arr = json_object_new_array();
    for (int i = 0; i < PQntuples(res); i++) {
        json_object *e = json_object_new_object();
        for (int k = 0; k < 6; k++)
            json_object_object_add(e, keys[k], json_object_new_string(PQgetvalue(res, i, k)));
        json_object_array_add(arr, e);
    }
    return arr;
}

/* Everything the HTML dashboard shows, built in one go: cached as one entry per range of days,
 * so a page view costs one MGET and one parse. */
static json_object *build_page(http_req *r, int days, PGresult **out)
{
    static const struct {
        const char *key;
        builder_fn build;
    } parts[] = {
        {"overview", build_overview},   {"by_region", build_region},
        {"by_country", build_country},  {"verification", build_verification},
        {"financial", build_financial}, {"timeline", build_timeline},
        {"funnel", build_funnel},       {"latest", build_latest},
    };
    json_object *o = json_object_new_object();
    for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
        json_object *v = parts[i].build(r, days, out);
        if (v == NULL) {
            json_object_put(o);
            return NULL;
        }
        json_object_object_add(o, parts[i].key, v);
    }
    return o;
}

int dashboard_data(http_req *r, int days, json_object **out)
{
    const char *json = cached(r, "page", days, build_page);
    if (json == NULL)
        return -1;
    *out = json_tokener_parse(json);
    if (*out == NULL) {
        http_fault(r, "cached dashboard page data unreadable");
        return -1;
    }
    return 0;
}

int dashboard_days(http_req *r)
{
    return parse_days(r, 30);
}
