/*
 * Worker-side PostgreSQL access. The worker serves one request at a time, so one connection per
 * process is all it can use; it is opened lazily so that a worker starts (and answers health
 * checks with 503) while PostgreSQL is still down.
 */
#include "db.h"

#include <string.h>
#include <time.h>

#include "log.h"

static PGconn *conn;
static const char *db_conninfo = "";
static const struct db_stmts *const *db_tables;
static struct timespec last_attempt;
static struct timespec last_health;
static int health_state = -1;
static int in_tx;
/* The connection died inside a transaction: until the caller ends it (commit or rollback),
 * nothing may run, or the rest of the transaction would commit statement by statement on a
 * fresh connection. */
static int tx_broken;

static double since(const struct timespec *t)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - t->tv_sec) + (double)(now.tv_nsec - t->tv_nsec) / 1e9;
}

int db_init(const char *conninfo, const struct db_stmts *const *tables)
{
    db_conninfo = conninfo ? conninfo : "";
    db_tables = tables;
    for (const struct db_stmts *const *t = tables; t && *t; t++) {
        for (int i = 0; i < (*t)->count; i++) {
            const struct db_stmt *s = &(*t)->stmt[i];
            if (s->name == NULL || s->sql == NULL) {
                log_msg(LOG_ERROR, "statement %d of module %s has no %s", i, (*t)->module,
                        s->name == NULL ? "name" : "text");
                return -1;
            }
            for (const struct db_stmts *const *u = tables; u <= t; u++)
                for (int j = 0; j < (u == t ? i : (*u)->count); j++)
                    if (!strcmp((*u)->stmt[j].name, s->name)) {
                        log_msg(LOG_ERROR, "statement name %s is used twice (%s, %s)", s->name,
                                (*u)->module, (*t)->module);
                        return -1;
                    }
        }
    }
    return 0;
}

void db_close(void)
{
    if (conn != NULL)
        PQfinish(conn);
    conn = NULL;
    in_tx = 0;
}

static int prepare_all(PGconn *c)
{
    for (const struct db_stmts *const *t = db_tables; t && *t; t++) {
        for (const struct db_stmt *s = (*t)->stmt; s < (*t)->stmt + (*t)->count; s++) {
            PGresult *res = PQprepare(c, s->name, s->sql, 0, NULL);
            int ok = PQresultStatus(res) == PGRES_COMMAND_OK;
            if (!ok)
                log_msg(LOG_ERROR, "prepare %s failed: %s", s->name, PQresultErrorMessage(res));
            PQclear(res);
            if (!ok)
                return -1;
        }
    }
    return 0;
}

static void notice_quiet(void *arg, const char *message)
{
    (void)arg;
    (void)message;
}

PGconn *db_conn(void)
{
    if (conn != NULL && PQstatus(conn) == CONNECTION_OK)
        return conn;
    if (conn != NULL) {
        PQfinish(conn);
        conn = NULL;
        in_tx = 0;
    }
    if (last_attempt.tv_sec != 0 && since(&last_attempt) < 0.25)
        return NULL;
    clock_gettime(CLOCK_MONOTONIC, &last_attempt);
    PGconn *c = PQconnectdb(db_conninfo);
    if (PQstatus(c) != CONNECTION_OK) {
        log_msg(LOG_WARN, "database connection failed: %s", PQerrorMessage(c));
        PQfinish(c);
        return NULL;
    }
    PQsetNoticeProcessor(c, notice_quiet, NULL);
    if (prepare_all(c) != 0) {
        PQfinish(c);
        return NULL;
    }
    conn = c;
    last_attempt.tv_sec = 0;
    return conn;
}

int db_healthy(void)
{
    if (health_state >= 0 && since(&last_health) < 1.0)
        return health_state;
    clock_gettime(CLOCK_MONOTONIC, &last_health);
    PGconn *c = db_conn();
    int ok = 0;
    if (c != NULL) {
        PGresult *res = PQexec(c, "SELECT 1");
        ok = PQresultStatus(res) == PGRES_TUPLES_OK;
        PQclear(res);
        if (!ok && PQstatus(c) != CONNECTION_OK) {
            /* The server went away under us: one fresh attempt now. */
            db_close();
            last_attempt.tv_sec = 0;
            c = db_conn();
            if (c != NULL) {
                res = PQexec(c, "SELECT 1");
                ok = PQresultStatus(res) == PGRES_TUPLES_OK;
                PQclear(res);
            }
        }
    }
    health_state = ok;
    return ok;
}

static void clear_result(void *p)
{
    PQclear(p);
}

PGresult *db_exec_bin(arena *a, const struct db_stmt *stmt, int n, const char *const *values,
                      const int *lengths, const int *formats)
{
    if (tx_broken)
        return NULL;
    for (int attempt = 0; attempt < 2; attempt++) {
        PGconn *c = db_conn();
        if (c == NULL)
            return NULL;
        PGresult *res = PQexecPrepared(c, stmt->name, n, values, lengths, formats, 0);
        if (res != NULL && PQstatus(c) == CONNECTION_OK) {
            arena_defer(a, clear_result, res);
            return res;
        }
        PQclear(res);
        /* The connection died. Outside a transaction the statement had no effect we could lose
         * by retrying it on a new connection; inside one, the caller must see the failure. */
        int was_tx = in_tx;
        db_close();
        last_attempt.tv_sec = 0;
        health_state = -1;
        if (was_tx) {
            tx_broken = 1;
            return NULL;
        }
    }
    return NULL;
}

PGresult *db_exec(arena *a, const struct db_stmt *stmt, int n, const char *const *values)
{
    return db_exec_bin(a, stmt, n, values, NULL, NULL);
}

static int simple(const char *sql)
{
    if (tx_broken)
        return -1;
    PGconn *c = db_conn();
    if (c == NULL)
        return -1;
    PGresult *res = PQexec(c, sql);
    int ok = PQresultStatus(res) == PGRES_COMMAND_OK;
    if (!ok)
        log_msg(LOG_WARN, "%s failed: %s", sql, PQerrorMessage(c));
    PQclear(res);
    return ok ? 0 : -1;
}

int db_simple(const char *sql)
{
    return simple(sql);
}

int db_begin(void)
{
    /* A connection the server dropped while this worker was idle (a PostgreSQL restart) fails
     * its BEGIN without any effect, so one fresh connection is tried at once rather than
     * answering the first write after a restart with a 503. */
    tx_broken = 0;
    for (int attempt = 0; attempt < 2; attempt++) {
        if (simple("BEGIN") == 0) {
            in_tx = 1;
            return 0;
        }
        if (conn == NULL || PQstatus(conn) == CONNECTION_OK)
            return -1;
        db_close();
        last_attempt.tv_sec = 0;
        health_state = -1;
    }
    return -1;
}

int db_commit(void)
{
    PGconn *c = conn;
    int broken = tx_broken;
    in_tx = 0;
    tx_broken = 0;
    /* No transaction open any more (the connection was lost and replaced): nothing to commit,
     * and saying so is the only honest answer. */
    if (broken || c == NULL || PQstatus(c) != CONNECTION_OK ||
        PQtransactionStatus(c) == PQTRANS_IDLE)
        return -1;
    PGresult *res = PQexec(c, "COMMIT");
    /* COMMIT of a failed transaction "succeeds" with the tag ROLLBACK. */
    int ok = PQresultStatus(res) == PGRES_COMMAND_OK && !strcmp(PQcmdStatus(res), "COMMIT");
    if (!ok)
        log_msg(LOG_WARN, "COMMIT failed: %s", PQerrorMessage(c));
    PQclear(res);
    return ok ? 0 : -1;
}

void db_rollback(void)
{
    if (conn != NULL && PQstatus(conn) == CONNECTION_OK &&
        PQtransactionStatus(conn) != PQTRANS_IDLE) {
        PGresult *res = PQexec(conn, "ROLLBACK");
        PQclear(res);
    }
    in_tx = 0;
    tx_broken = 0;
}

int db_ok(const PGresult *res)
{
    if (res == NULL)
        return 0;
    ExecStatusType s = PQresultStatus(res);
    return s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK;
}

const char *db_sqlstate(const PGresult *res)
{
    const char *s = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    return s ? s : "";
}

const char *db_error_brief(arena *a, const PGresult *res)
{
    if (res == NULL)
        return "database unavailable";
    static const struct {
        int field;
        const char *label;
    } parts[] = {{PG_DIAG_CONSTRAINT_NAME, "constraint"},
                 {PG_DIAG_SCHEMA_NAME, "schema"},
                 {PG_DIAG_TABLE_NAME, "table"},
                 {PG_DIAG_COLUMN_NAME, "column"}};
    const char *out = arena_printf(a, "SQLSTATE %s", db_sqlstate(res)[0] ? db_sqlstate(res) : "?");
    for (size_t i = 0; out != NULL && i < sizeof(parts) / sizeof(parts[0]); i++) {
        const char *v = PQresultErrorField(res, parts[i].field);
        if (v != NULL && v[0] != '\0' && strlen(v) < 128)
            out = arena_printf(a, "%s, %s %s", out, parts[i].label, v);
    }
    return out ? out : "SQLSTATE ?";
}
