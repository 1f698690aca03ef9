/*
 * GET /: the seed's health check. It answers from the worker's cached view of PostgreSQL and
 * Redis (re-checked at most once a second each), so a load balancer polling it costs no query.
 */
#include "routes.h"

#include "cache.h"

int health_get(http_req *r)
{
    int db = db_healthy();
    json_object *o = json_object_new_object();
    json_object_object_add(o, "status", json_object_new_string(db ? "ok" : "degraded"));
    json_object_object_add(o, "service", json_object_new_string("loanflow"));
    json_object_object_add(o, "version", json_object_new_string(LOANFLOW_VERSION));
    json_object_object_add(o, "database", json_object_new_string(db ? "ok" : "down"));
    json_object_object_add(o, "cache", json_object_new_string(cache_health()));
    http_add_header(r, "Cache-Control", "no-store");
    return http_send_json(r, db ? 200 : 503, o);
}
