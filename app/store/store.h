/*
 * The store layer as a whole: the statement tables of every store module (and of the token
 * layer below it), which a process hands to db_init so each connection prepares them once.
 * The server adds its test-only statements; loanctl uses this list as it is.
 */
#ifndef LOANFLOW_STORE_H
#define LOANFLOW_STORE_H

#include "db.h"

/* NULL-terminated. */
extern const struct db_stmts *const store_statements[];

#endif
