/*
 * Accounts in PostgreSQL: the statements on users and their sign-in state, and the use cases of
 * routes/auth.c (create, login bookkeeping with lock-out, list, administrative update, logout's
 * audit row). Each use case runs its own transaction, with its audit events in it, and returns
 * an outcome and data; the handler chooses the status and body.
 */
#ifndef LOANFLOW_USERS_H
#define LOANFLOW_USERS_H

#include "arena.h"
#include "audit.h"
#include "db.h"
#include "router.h"

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

#define USERS_LOCK_AFTER_FAILURES 10 /* wrong passwords in a row that lock an account */
#define USERS_LOCK_MINUTES        15

enum users_outcome {
    USERS_OK,
    USERS_EMAIL_TAKEN, /* create: the email is registered already */
    USERS_NOT_FOUND,   /* update: no such user */
    USERS_BAD_LOGIN,   /* login: unknown email or wrong password (recorded, maybe locked now) */
    USERS_LOCKED,      /* login: locked out; retry_after seconds left */
    USERS_DISABLED,    /* login: right password, disabled account */
    USERS_NO_MEMORY,   /* create: the password could not be hashed; list: no room for rows */
    USERS_DB_ERROR,    /* the database failed: db_res is the failed result, NULL when it was
                        * unreachable or a transaction command failed */
};

/* The public view of an account. Strings are borrowed from results in the caller's arena. */
struct users_user {
    long long id;
    const char *id_text, *name, *email, *role;
    int disabled;
    const char *created_at;
    const char *last_login_at; /* NULL: never */
    int failed_logins;         /* users_list only */
    int locked;                /* users_list only */
};

/*
 * Creates an account (password hashed here) and its audit event (action, e.g. "register" or
 * "user_create", with {"role"}) in one transaction. The actor is actor_id/actor_email, or, when
 * actor_id is 0 (self-registration), the new user. USERS_OK and *out, USERS_EMAIL_TAKEN,
 * USERS_NO_MEMORY or USERS_DB_ERROR (*db_res).
 */
enum users_outcome users_create(arena *a, const struct audit_client *client, long long actor_id,
                                const char *actor_email, const char *name, const char *email,
                                const char *password, const char *role, const char *action,
                                struct users_user *out, const PGresult **db_res);

struct users_login {
    long long retry_after;  /* USERS_LOCKED: seconds */
    struct users_user user; /* USERS_OK: the account after the login */
    enum role role;         /* USERS_OK */
    int token_version;      /* USERS_OK: to put in the token */
};

/*
 * A sign-in attempt. Costs one Argon2id verify whether or not the email exists. An unknown
 * email is audited (outside any transaction; a failure there is only logged); a wrong password
 * counts a failure, locks the account at USERS_LOCK_AFTER_FAILURES for USERS_LOCK_MINUTES, with
 * its audit events, in one transaction; a success resets the count, records the time (and a
 * re-hash when the parameters changed) with its audit event in one transaction. The caller
 * issues the token. Outcomes: USERS_OK, USERS_BAD_LOGIN, USERS_LOCKED, USERS_DISABLED,
 * USERS_DB_ERROR (db_res always NULL: the caller answers 503).
 */
enum users_outcome users_login(arena *a, const struct audit_client *client, const char *email,
                               const char *password, struct users_login *out);

/* Accounts newest first (limit and offset as decimal text), with failed_logins and locked.
 * USERS_OK with *rows (arena array) and *n, or USERS_DB_ERROR (*db_res). */
enum users_outcome users_list(arena *a, const char *limit, const char *offset,
                              struct users_user **rows, int *n, const PGresult **db_res);

struct users_update {
    const char *role; /* NULL: unchanged */
    int disabled;     /* -1: unchanged, else 0 or 1 */
};

/*
 * Changes the role and/or disabled flag of user_id (decimal text, checked by the caller: it is
 * also the audit target) under a row lock, with a role_change and/or
 * disabled_change audit event by actor in the same transaction. When something changed, the
 * user's token version is bumped, and after the commit recorded in Redis with the token epoch
 * bumped, so the user's existing tokens stop working at once. USERS_OK and *out,
 * USERS_NOT_FOUND, or USERS_DB_ERROR (*db_res).
 */
enum users_outcome users_update(arena *a, const struct audit_client *client, long long actor_id,
                                const char *actor_email, const char *user_id,
                                const struct users_update *change, struct users_user *out,
                                const PGresult **db_res);

/* The audit event of a logout (the token is revoked by the caller first). 0, or -1. */
int users_logout_audit(arena *a, const struct audit_client *client, long long user_id,
                       const char *email);

#endif
