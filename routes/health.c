/*
 * GET /: the seed's health check. It answers from the worker's cached view of PostgreSQL and
 * Redis (re-checked at most once a second each), so a load balancer polling it costs at most a
 * round trip a second.
 * It also names the sanctions list applications are screened against (the active list loaded
 * last: name, version, entries, and how many lists are active), from the worker's in-memory
 * reference data, whose version check runs at most once a second like the others; null when
 * no list is active or the database has never answered.
 */
#include "routes.h"

#include "cache.h"
#include "refdata.h"

static json_object *sanctions_json(void)
{
    struct refdata_list l;
    int nactive;
    if (refdata_sanctions_active(&l, &nactive) != 1)
        return NULL;
    json_object *s = json_object_new_object();
    json_object_object_add(s, "list", json_object_new_string(l.name));
    json_object_object_add(s, "version", json_object_new_string(l.version));
    json_object_object_add(s, "entries", json_object_new_int64(l.entries));
    json_object_object_add(s, "active_lists", json_object_new_int(nactive));
    return s;
}

int handle_health_get(http_req *r)
{
    int db = db_healthy();
    json_object *o = json_object_new_object();
    json_object_object_add(o, "status", json_object_new_string(db ? "ok" : "degraded"));
    json_object_object_add(o, "service", json_object_new_string("loanflow"));
    json_object_object_add(o, "version", json_object_new_string(LOANFLOW_VERSION));
    json_object_object_add(o, "database", json_object_new_string(db ? "ok" : "down"));
    json_object_object_add(o, "cache", json_object_new_string(cache_health()));
    json_object_object_add(o, "sanctions", sanctions_json());
    http_add_header(r, "Cache-Control", "no-store");
    return http_send_json(r, db ? 200 : 503, o);
}
