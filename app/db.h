/*
 * One PostgreSQL connection per worker process. Statements are prepared once per connection from
 * the tables the route modules export; a connection found broken is re-opened on the next use, and
 * a read that fails because the connection died is retried once on a fresh one (never inside a
 * transaction, where the caller must see the failure).
 */
#ifndef LOANFLOW_DB_H
#define LOANFLOW_DB_H

#include <libpq-fe.h>

#include "arena.h"

struct db_stmt {
    const char *name;
    const char *sql;
};

/* Remembers the conninfo and the NULL-terminated list of NULL-name-terminated statement tables
 * (both borrowed for the life of the process). Does not connect. */
void db_init(const char *conninfo, const struct db_stmt *const *tables);
/* Closes the connection. */
void db_close(void);

/* The connection, (re)connecting and preparing when needed; NULL while PostgreSQL is down
 * (connection attempts are then spaced by at least 250 ms). Borrowed. */
PGconn *db_conn(void);

/* Health for GET /: re-checked with a round trip at most once a second. 1 up, 0 down. */
int db_healthy(void);

/*
 * Runs a prepared statement. Returns a result owned by the arena (cleared at reset), or NULL when
 * the database is unreachable. The caller checks PQresultStatus. values may contain NULLs.
 */
PGresult *db_exec(arena *a, const char *stmt, int n, const char *const *values);
/* Runs a prepared statement whose parameters include binary values (lengths/formats as libpq). */
PGresult *db_exec_bin(arena *a, const char *stmt, int n, const char *const *values,
                      const int *lengths, const int *formats);

/* Transactions on the worker's connection: 0 on success, -1 when the database is unreachable or
 * the command failed. db_rollback is safe to call in any state. */
int db_begin(void) __attribute__((warn_unused_result));
int db_commit(void) __attribute__((warn_unused_result));
void db_rollback(void);

/* Runs a parameterless command such as SAVEPOINT on the worker's connection: 0 or -1. */
int db_simple(const char *sql) __attribute__((warn_unused_result));

/* 1 when the result is a command or tuples result. */
int db_ok(const PGresult *res);
/* The SQLSTATE of a failed result ("23505" …), or "" */
const char *db_sqlstate(const PGresult *res);

#endif
