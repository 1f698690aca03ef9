/*
 * One PostgreSQL connection per worker process. Statements are prepared once per connection from
 * the tables the store modules export; a connection found broken is re-opened on the next use, and
 * a read that fails because the connection died is retried once on a fresh one (never inside a
 * transaction, where the caller must see the failure).
 */
#ifndef LOANFLOW_DB_H
#define LOANFLOW_DB_H

#include <libpq-fe.h>

#include "arena.h"

/*
 * A prepared statement. A module keeps its statements in an array indexed by an enum of its own
 * and runs them by address (&sql[APPS_LOCK]), so a statement that does not exist is a compile
 * error, never a misspelt string found at run time.
 */
struct db_stmt {
    const char *name;
    const char *sql;
};

/* One module's statements, as registered with db_init. */
struct db_stmts {
    const char *module;
    const struct db_stmt *stmt;
    int count;
};
#define DB_STMTS(module, array)                                                                    \
    {                                                                                              \
        (module), (array), (int)(sizeof(array) / sizeof((array)[0]))                               \
    }

/*
 * Remembers the conninfo and the NULL-terminated list of statement tables (both borrowed for the
 * life of the process), and checks the tables: every slot has a name and a text, and no name is
 * used twice. Returns 0, or -1 after logging the module and slot of the first bad entry (the
 * process then refuses to start). Does not connect.
 */
int db_init(const char *conninfo, const struct db_stmts *const *tables)
    __attribute__((warn_unused_result));
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
PGresult *db_exec(arena *a, const struct db_stmt *stmt, int n, const char *const *values);
/* Runs a prepared statement whose parameters include binary values (lengths/formats as libpq). */
PGresult *db_exec_bin(arena *a, const struct db_stmt *stmt, int n, const char *const *values,
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
/* What may be logged of a failed result: "SQLSTATE 23514, constraint users_name_check, table
 * users, column …" (the parts the server gave). Never the message or its DETAIL, which quote
 * values and whole rows. An arena string; "database unavailable" for NULL. */
const char *db_error_brief(arena *a, const PGresult *res);

#endif
