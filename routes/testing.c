/*
 * Routes that exist only when TEST_ROUTES=1 (refused in production by the configuration): the
 * test suite uses them to exercise the shared checks on a JSON body before any resource takes
 * one, and to hold a request open while the master drains.
 */
#include "routes.h"

#include <stdlib.h>
#include <time.h>

#include "probe.h"

int handle_test_echo(http_req *r)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "received", r->json ? json_object_get(r->json) : NULL);
    return http_send_json(r, 200, o);
}

int handle_test_sleep(http_req *r)
{
    const char *ms_s = http_query(r, "ms");
    long ms = ms_s ? strtol(ms_s, NULL, 10) : 100;
    if (ms < 0 || ms > 10000)
        return http_error(r, 400, "validation_failed", "ms must be from 0 to 10000");
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0) {
    }
    json_object *o = json_object_new_object();
    json_object_object_add(o, "slept_ms", json_object_new_int64(ms));
    return http_send_json(r, 200, o);
}

/* The database's clock, read through a transaction whose first statement is BEGIN (as every
 * write's is) or without one: the fault tests check both survive a PostgreSQL restart the
 * worker slept through. */
static int send_now(http_req *r, int in_tx)
{
    const PGresult *failed;
    const char *now = probe_now(r->pool, in_tx, &failed);
    if (now == NULL)
        return routes_db_error(r, failed);
    json_object *o = json_object_new_object();
    json_object_object_add(o, "now", json_object_new_string(now));
    return http_send_json(r, 200, o);
}

int handle_test_tx(http_req *r)
{
    return send_now(r, 1);
}

int handle_test_db(http_req *r)
{
    return send_now(r, 0);
}
