/*
 * Accounts in PostgreSQL: the statements on users and their sign-in state.
 */
#ifndef LOANFLOW_USERS_H
#define LOANFLOW_USERS_H

#include "db.h"

enum users_sql {
    AUTH_USER_INSERT,
    AUTH_USER_BY_EMAIL,
    AUTH_LOGIN_FAILED,
    AUTH_LOGIN_OK,
    AUTH_USERS_LIST,
    AUTH_USER_LOCK_ROW,
    AUTH_USER_UPDATE,
    AUTH_SQL_COUNT
};

extern const struct db_stmt users_sql[];
extern const struct db_stmts users_statements;
#define USERS_SQL(id) (&users_sql[id])

#endif
