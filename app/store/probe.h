/*
 * A round trip to PostgreSQL and nothing else, for the test-only routes (TEST_ROUTES=1): the
 * fault tests use it to see a worker's connection survive a database restart, with and without
 * a transaction around the statement (every write's first statement is BEGIN).
 */
#ifndef LOANFLOW_PROBE_H
#define LOANFLOW_PROBE_H

#include "arena.h"
#include "db.h"

extern const struct db_stmts probe_statements;

/* The database's clock as text (arena), read inside a transaction of its own when in_tx is
 * set. NULL when the database is unreachable or the statement failed; *failed is then the
 * failed result, or NULL when unreachable. */
const char *probe_now(arena *a, int in_tx, const PGresult **failed);

#endif
