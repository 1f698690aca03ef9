/*
 * Accounts in PostgreSQL: the statements on users and their sign-in state, and the use cases of
 * routes/auth.c and loanctl (create, login bookkeeping with its throttle, list, administrative
 * update, password change, logout's revocation). Each use case runs its own transaction, with
 * its audit events in it, and returns an outcome and data; the handler chooses the status and
 * body.
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
    AUTH_LOGIN_OK,
    AUTH_USERS_LIST,
    AUTH_USER_LOCK_ROW,
    AUTH_USER_UPDATE,
    AUTH_THROTTLE_BLOCKED,
    AUTH_THROTTLE_FAIL,
    AUTH_THROTTLE_CLEAR,
    AUTH_USER_FOR_PASSWORD,
    AUTH_USER_SET_PASSWORD,
    AUTH_TOKEN_REVOKE,
    AUTH_TOKENS_PRUNE,
    AUTH_SQL_COUNT
};

extern const struct db_stmt users_sql[];
extern const struct db_stmts users_statements;
#define USERS_SQL(id) (&users_sql[id])

/*
 * The login throttle: failures are counted per email (keyed hash, known or not) and per client
 * address within USERS_THROTTLE_WINDOW seconds of the last one; from the FREE-th failure on, each
 * failure blocks its key for 2^(failures - FREE + 1) seconds, at most USERS_THROTTLE_MAX_DELAY.
 * A blocked email does not block its owner from the address they last signed in from.
 */
#define USERS_THROTTLE_EMAIL_FREE 5
#define USERS_THROTTLE_ADDR_FREE  50
#define USERS_THROTTLE_WINDOW     900
#define USERS_THROTTLE_MAX_DELAY  900
/* Registrations of an email that exists (409) per client address, the same way. */
#define USERS_THROTTLE_REGISTER_FREE 20

enum users_outcome {
    USERS_OK,
    USERS_EMAIL_TAKEN,   /* create: the email is registered already */
    USERS_NOT_FOUND,     /* update: no such user */
    USERS_BAD_LOGIN,     /* login: unknown email or wrong password (recorded); password change: the
                          * current password is wrong */
    USERS_THROTTLED,     /* login, register: too many failures; retry_after seconds left */
    USERS_WEAK_PASSWORD, /* password change: too short or long for the user's role */
    USERS_DISABLED,      /* login: right password, disabled account */
    USERS_NO_MEMORY,     /* create: the password could not be hashed; list: no room for rows */
    USERS_DB_ERROR,      /* the database failed: db_res is the failed result, NULL when it was
                          * unreachable or a transaction command failed */
};

/* The public view of an account. Strings are borrowed from results in the caller's arena. */
struct users_user {
    long long id;
    const char *id_text, *name, *email, *role;
    int disabled;
    const char *created_at;
    const char *last_login_at; /* NULL: never */
    int failed_logins;         /* users_list only: failures counted under the email now */
    int locked;                /* users_list only: the email is throttled right now */
};

/*
 * Creates an account (password hashed here) and its audit event (action, e.g. "register" or
 * "user_create", with {"role"}) in one transaction. The actor is actor_id/actor_email, or, when
 * actor_id is 0 (self-registration), the new user. USERS_OK and *out, USERS_EMAIL_TAKEN,
 * USERS_NO_MEMORY or USERS_DB_ERROR (*db_res). Self-registration (actor_id 0) is throttled per
 * client address on known emails: past USERS_THROTTLE_REGISTER_FREE 409s, USERS_THROTTLED with the
 * seconds left in *retry_after.
 */
enum users_outcome users_create(arena *a, const struct audit_client *client, long long actor_id,
                                const char *actor_email, const char *name, const char *email,
                                const char *password, const char *role, const char *action,
                                struct users_user *out, long long *retry_after,
                                const PGresult **db_res);

struct users_login {
    long long retry_after;  /* USERS_THROTTLED: seconds */
    struct users_user user; /* USERS_OK: the account after the login */
    enum role role;         /* USERS_OK */
    int token_version;      /* USERS_OK: to put in the token */
};

/*
 * A sign-in attempt. A blocked client address, or a blocked email from another address than the
 * one its owner last signed in from, answers USERS_THROTTLED at once (the same for an unknown
 * email as for a known one). Otherwise it costs one Argon2id verify whether or not the email
 * exists; a failure (wrong password or unknown email) counts under the email's keyed hash and
 * the address with its audit event in one transaction; a success clears the email's count,
 * records the time and address (and a re-hash when the parameters changed) with its audit event
 * in one transaction. The caller issues the token. Outcomes: USERS_OK, USERS_BAD_LOGIN,
 * USERS_THROTTLED, USERS_DISABLED, USERS_DB_ERROR (the caller answers 503).
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
 * user's token version is bumped, and after the commit the token epoch bumped, so the user's
 * existing tokens stop working at once. A promotion to officer or admin of a user whose password
 * is shorter than 12 bytes is USERS_WEAK_PASSWORD (nothing changed). USERS_OK and *out,
 * USERS_NOT_FOUND, USERS_WEAK_PASSWORD, or USERS_DB_ERROR (*db_res).
 */
enum users_outcome users_update(arena *a, const struct audit_client *client, long long actor_id,
                                const char *actor_email, const char *user_id,
                                const struct users_update *change, struct users_user *out,
                                const PGresult **db_res);

/*
 * Logout: records jti as revoked until expires_at (unix seconds) in revoked_tokens with the
 * logout's audit event in one transaction, prunes revocations past their expiry, then tells the
 * workers (auth_bump_epoch). USERS_OK or USERS_DB_ERROR.
 */
enum users_outcome users_logout(arena *a, const struct audit_client *client, long long user_id,
                                const char *email, const char *jti, long long expires_at);

/*
 * Changes a password: the user is user_id (decimal text) or, when that is NULL, email. With
 * current non-NULL it must verify (else USERS_BAD_LOGIN); the new one must fit the user's role
 * (auth_password_check, else USERS_WEAK_PASSWORD). Hashes outside the transaction, then in one
 * transaction sets the hash (only if unchanged meanwhile), bumps token_version so every existing
 * token of the user stops working, and writes the password_change audit event by actor; then
 * auth_bump_epoch. USERS_OK with *new_version (and *out), USERS_NOT_FOUND, USERS_NO_MEMORY,
 * USERS_DB_ERROR (*db_res).
 */
enum users_outcome users_change_password(arena *a, const struct audit_client *client,
                                         long long actor_id, const char *actor_email,
                                         const char *user_id, const char *email,
                                         const char *current, const char *new_password,
                                         struct users_user *out, int *new_version,
                                         const PGresult **db_res);

#endif
