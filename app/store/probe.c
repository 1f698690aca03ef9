/*
 * The database probe of the test-only routes (see probe.h).
 */
#include "probe.h"

enum { PROBE_NOW, PROBE_SQL_COUNT };

/* clang-format off */
static const struct db_stmt sql[PROBE_SQL_COUNT] = {
    [PROBE_NOW] = {"probe_now", "SELECT now()::text"},
};
/* clang-format on */
const struct db_stmts probe_statements = DB_STMTS("probe", sql);

const char *probe_now(arena *a, int in_tx, const PGresult **failed)
{
    *failed = NULL;
    if (in_tx && db_begin() != 0)
        return NULL;
    PGresult *res = db_exec(a, &sql[PROBE_NOW], 0, NULL);
    if (!db_ok(res)) {
        if (in_tx)
            db_rollback();
        *failed = res;
        return NULL;
    }
    if (in_tx && db_commit() != 0)
        return NULL;
    return PQgetvalue(res, 0, 0);
}
