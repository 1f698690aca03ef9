/*
 * Routes that exist only when TEST_ROUTES=1 (refused in production by the configuration): the
 * test suite uses them to exercise the shared checks on a JSON body before any resource takes
 * one, and to hold a request open while the master drains.
 */
#include "routes.h"

#include <stdlib.h>
#include <time.h>

enum {
    TESTING_NOW,
    TESTING_SQL_COUNT
};

static const struct db_stmt sql[TESTING_SQL_COUNT] = {
    [TESTING_NOW] = {"testing_now", "SELECT now()::text"},
};
const struct db_stmts testing_statements = DB_STMTS("testing", sql);
#define SQL(id) (&sql[id])


int testing_echo(http_req *r)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "received", r->json ? json_object_get(r->json) : NULL);
    return http_send_json(r, 200, o);
}

int testing_sleep(http_req *r)
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

/* A transaction whose first statement is BEGIN, as every write's is: the fault tests check it
 * survives a PostgreSQL restart the worker slept through. */
int testing_tx(http_req *r)
{
    if (db_begin() != 0)
        return routes_db_error(r, NULL);
    PGresult *res = db_exec(r->pool, SQL(TESTING_NOW), 0, NULL);
    if (!db_ok(res)) {
        db_rollback();
        return routes_db_error(r, res);
    }
    if (db_commit() != 0)
        return routes_db_error(r, NULL);
    json_object *o = json_object_new_object();
    json_object_object_add(o, "now", json_object_new_string(PQgetvalue(res, 0, 0)));
    return http_send_json(r, 200, o);
}

int testing_db(http_req *r)
{
    PGresult *res = db_exec(r->pool, SQL(TESTING_NOW), 0, NULL);
    if (!db_ok(res))
        return routes_db_error(r, res);
    json_object *o = json_object_new_object();
    json_object_object_add(o, "now", json_object_new_string(PQgetvalue(res, 0, 0)));
    return http_send_json(r, 200, o);
}
