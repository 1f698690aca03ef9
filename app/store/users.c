/*
 * Accounts in PostgreSQL: the statements on users and their sign-in state, and the use cases
 * that change them. Every state change is written with its audit event in one transaction on
 * the worker's connection; a failure rolls the whole change back.
 *
 * A login costs one Argon2id verify (about 75 ms) whether or not the email exists, so response
 * time does not tell an attacker which addresses have accounts.
 */
#include "users.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "cache.h"
#include "config.h"
#include "log.h"

/* clang-format off */
/* The public view, in the order user_from_row reads. */
#define USER_COLS                                                                                  \
    "id, name, email, role, disabled, "                                                            \
    "to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), "                   \
    "to_char(last_login_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"

const struct db_stmt users_sql[AUTH_SQL_COUNT] = {
    [AUTH_USER_INSERT] = {"auth_user_insert",
     "INSERT INTO users (name, email, password_hash, role) VALUES ($1, $2, $3, $4) "
     "RETURNING " USER_COLS},
    [AUTH_USER_BY_EMAIL] = {"auth_user_by_email",
     "SELECT id, name, email, role, disabled, password_hash, "
     "coalesce(ceil(extract(epoch FROM locked_until - now())), 0)::bigint AS lock_left, "
     "token_version FROM users WHERE lower(email) = lower($1)"},
    [AUTH_LOGIN_FAILED] = {"auth_login_failed",
     "UPDATE users SET failed_logins = CASE WHEN locked_until IS NOT NULL AND locked_until <= now() "
     "THEN 1 ELSE failed_logins + 1 END, "
     "locked_until = CASE WHEN (CASE WHEN locked_until IS NOT NULL AND locked_until <= now() THEN 1 "
     "ELSE failed_logins + 1 END) >= $2::int THEN now() + make_interval(mins => $3::int) "
     "WHEN locked_until <= now() THEN NULL ELSE locked_until END "
     "WHERE id = $1::bigint RETURNING failed_logins, locked_until > now()"},
    [AUTH_LOGIN_OK] = {"auth_login_ok",
     "UPDATE users SET failed_logins = 0, locked_until = NULL, last_login_at = now(), "
     "password_hash = coalesce($2, password_hash) WHERE id = $1::bigint RETURNING " USER_COLS},
    [AUTH_USERS_LIST] = {"auth_users_list",
     "SELECT " USER_COLS ", failed_logins, locked_until > now() FROM users "
     "ORDER BY created_at DESC, id DESC LIMIT $1::int OFFSET $2::int"},
    [AUTH_USER_LOCK_ROW] = {"auth_user_lock_row",
     "SELECT " USER_COLS " FROM users WHERE id = $1::bigint FOR UPDATE"},
    [AUTH_USER_UPDATE] = {"auth_user_update",
     "UPDATE users SET role = $2, disabled = $3::boolean, updated_at = now(), "
     "token_version = token_version + CASE WHEN $4::boolean THEN 1 ELSE 0 END "
     "WHERE id = $1::bigint RETURNING " USER_COLS ", token_version"},
};
/* clang-format on */
const struct db_stmts users_statements = DB_STMTS("users", users_sql);

/* Reads a row in USER_COLS order starting at column c. */
static void user_from_row(const PGresult *res, int row, int c, struct users_user *u)
{
    memset(u, 0, sizeof(*u));
    u->id_text = PQgetvalue(res, row, c);
    u->id = atoll(u->id_text);
    u->name = PQgetvalue(res, row, c + 1);
    u->email = PQgetvalue(res, row, c + 2);
    u->role = PQgetvalue(res, row, c + 3);
    u->disabled = PQgetvalue(res, row, c + 4)[0] == 't';
    u->created_at = PQgetvalue(res, row, c + 5);
    u->last_login_at = PQgetisnull(res, row, c + 6) ? NULL : PQgetvalue(res, row, c + 6);
}

/* ---- create ------------------------------------------------------------------------------- */

enum users_outcome users_create(arena *a, const struct audit_client *client, long long actor_id,
                                const char *actor_email, const char *name, const char *email,
                                const char *password, const char *role, const char *action,
                                struct users_user *out, const PGresult **db_res)
{
    *db_res = NULL;
    char hash[AUTH_HASH_MAX];
    if (auth_hash_password(password, hash) != 0)
        return USERS_NO_MEMORY;
    if (db_begin() != 0)
        return USERS_DB_ERROR;
    const char *p[4] = {name, email, hash, role};
    PGresult *res = db_exec(a, USERS_SQL(AUTH_USER_INSERT), 4, p);
    if (!db_ok(res)) {
        db_rollback();
        if (!strcmp(db_sqlstate(res), "23505"))
            return USERS_EMAIL_TAKEN;
        *db_res = res;
        return USERS_DB_ERROR;
    }
    user_from_row(res, 0, 0, out);
    json_object *details = json_object_new_object();
    json_object_object_add(details, "role", json_object_new_string(role));
    int arc =
        audit_event(a, client, actor_id > 0 ? actor_id : out->id,
                    actor_id > 0 ? actor_email : email, action, "user", out->id_text, details);
    json_object_put(details);
    if (arc != 0 || db_commit() != 0) {
        db_rollback();
        return USERS_DB_ERROR;
    }
    return USERS_OK;
}

/* ---- login -------------------------------------------------------------------------------- */

/* A wrong password: counts the failure (locking at the limit) with its audit events. */
static enum users_outcome login_failed(arena *a, const struct audit_client *client,
                                       const char *email, const char *id)
{
    char lim[16], mins[16];
    snprintf(lim, sizeof(lim), "%d", USERS_LOCK_AFTER_FAILURES);
    snprintf(mins, sizeof(mins), "%d", USERS_LOCK_MINUTES);
    const char *q[3] = {id, lim, mins};
    if (db_begin() != 0)
        return USERS_DB_ERROR;
    PGresult *u = db_exec(a, USERS_SQL(AUTH_LOGIN_FAILED), 3, q);
    if (!db_ok(u) || PQntuples(u) != 1) {
        db_rollback();
        return USERS_DB_ERROR;
    }
    int locked = PQgetvalue(u, 0, 1)[0] == 't';
    json_object *d = json_object_new_object();
    json_object_object_add(d, "reason", json_object_new_string("wrong_password"));
    json_object_object_add(d, "failures", json_object_new_int(atoi(PQgetvalue(u, 0, 0))));
    int arc = audit_event(a, client, 0, email, "login_failure", "user", id, d);
    json_object_put(d);
    if (arc == 0 && locked) {
        d = json_object_new_object();
        json_object_object_add(d, "minutes", json_object_new_int(USERS_LOCK_MINUTES));
        arc = audit_event(a, client, 0, email, "lockout", "user", id, d);
        json_object_put(d);
    }
    if (arc != 0 || db_commit() != 0) {
        db_rollback();
        return USERS_DB_ERROR;
    }
    return USERS_BAD_LOGIN;
}

enum users_outcome users_login(arena *a, const struct audit_client *client, const char *email,
                               const char *password, struct users_login *out)
{
    memset(out, 0, sizeof(*out));
    const char *p[1] = {email};
    PGresult *res = db_exec(a, USERS_SQL(AUTH_USER_BY_EMAIL), 1, p);
    if (!db_ok(res))
        return USERS_DB_ERROR;
    if (PQntuples(res) == 0) {
        auth_verify_password(NULL, password); /* same cost as a wrong password */
        json_object *d = json_object_new_object();
        json_object_object_add(d, "reason", json_object_new_string("unknown_email"));
        if (audit_event(a, client, 0, email, "login_failure", "user", NULL, d) != 0)
            log_msg(LOG_WARN, "failed login for an unknown email not audited");
        json_object_put(d);
        return USERS_BAD_LOGIN;
    }
    const char *id = PQgetvalue(res, 0, 0);
    long long user_id = atoll(id);
    long long lock_left = atoll(PQgetvalue(res, 0, 6));
    if (lock_left > 0) {
        out->retry_after = lock_left;
        return USERS_LOCKED;
    }
    if (!auth_verify_password(PQgetvalue(res, 0, 5), password))
        return login_failed(a, client, email, id);
    if (PQgetvalue(res, 0, 4)[0] == 't')
        return USERS_DISABLED;
    char newhash[AUTH_HASH_MAX];
    const char *rehash = NULL;
    if (auth_needs_rehash(PQgetvalue(res, 0, 5)) && auth_hash_password(password, newhash) == 0)
        rehash = newhash;
    const char *q[2] = {id, rehash};
    if (db_begin() != 0)
        return USERS_DB_ERROR;
    PGresult *u = db_exec(a, USERS_SQL(AUTH_LOGIN_OK), 2, q);
    if (!db_ok(u) || PQntuples(u) != 1 ||
        audit_event(a, client, user_id, PQgetvalue(res, 0, 2), "login_success", "user", id, NULL) !=
            0 ||
        db_commit() != 0) {
        db_rollback();
        return USERS_DB_ERROR;
    }
    user_from_row(u, 0, 0, &out->user);
    out->role = auth_role_from_name(PQgetvalue(res, 0, 3));
    out->token_version = atoi(PQgetvalue(res, 0, 7));
    return USERS_OK;
}

/* ---- administration ----------------------------------------------------------------------- */

enum users_outcome users_list(arena *a, const char *limit, const char *offset,
                              struct users_user **rows, int *n, const PGresult **db_res)
{
    *db_res = NULL;
    const char *p[2] = {limit, offset};
    PGresult *res = db_exec(a, USERS_SQL(AUTH_USERS_LIST), 2, p);
    if (!db_ok(res)) {
        *db_res = res;
        return USERS_DB_ERROR;
    }
    *n = PQntuples(res);
    *rows = arena_alloc(a, sizeof(**rows) * (size_t)(*n > 0 ? *n : 1));
    if (*rows == NULL)
        return USERS_NO_MEMORY;
    for (int i = 0; i < *n; i++) {
        user_from_row(res, i, 0, &(*rows)[i]);
        (*rows)[i].failed_logins = atoi(PQgetvalue(res, i, 7));
        (*rows)[i].locked = PQgetvalue(res, i, 8)[0] == 't';
    }
    return USERS_OK;
}

/* The audit events of an update; 0 or -1. */
static int audit_update(arena *a, const struct audit_client *client, long long actor_id,
                        const char *actor_email, const char *id, const char *old_role,
                        const char *new_role, int old_disabled, int new_disabled)
{
    int arc = 0;
    if (strcmp(new_role, old_role) != 0) {
        json_object *d = json_object_new_object();
        json_object_object_add(d, "from", json_object_new_string(old_role));
        json_object_object_add(d, "to", json_object_new_string(new_role));
        arc |= audit_event(a, client, actor_id, actor_email, "role_change", "user", id, d);
        json_object_put(d);
    }
    if (new_disabled != old_disabled) {
        json_object *d = json_object_new_object();
        json_object_object_add(d, "from", json_object_new_boolean(old_disabled));
        json_object_object_add(d, "to", json_object_new_boolean(new_disabled));
        arc |= audit_event(a, client, actor_id, actor_email, "disabled_change", "user", id, d);
        json_object_put(d);
    }
    return arc;
}

enum users_outcome users_update(arena *a, const struct audit_client *client, long long actor_id,
                                const char *actor_email, const char *user_id,
                                const struct users_update *change, struct users_user *out,
                                const PGresult **db_res)
{
    *db_res = NULL;
    if (db_begin() != 0)
        return USERS_DB_ERROR;
    const char *p[4] = {user_id};
    PGresult *cur = db_exec(a, USERS_SQL(AUTH_USER_LOCK_ROW), 1, p);
    if (!db_ok(cur)) {
        db_rollback();
        *db_res = cur;
        return USERS_DB_ERROR;
    }
    if (PQntuples(cur) == 0) {
        db_rollback();
        return USERS_NOT_FOUND;
    }
    const char *old_role = PQgetvalue(cur, 0, 3);
    int old_disabled = PQgetvalue(cur, 0, 4)[0] == 't';
    const char *new_role = change->role ? change->role : old_role;
    int new_disabled = change->disabled >= 0 ? change->disabled : old_disabled;
    int changed = strcmp(new_role, old_role) != 0 || new_disabled != old_disabled;
    p[1] = new_role;
    p[2] = new_disabled ? "true" : "false";
    p[3] = changed ? "true" : "false";
    PGresult *res = db_exec(a, USERS_SQL(AUTH_USER_UPDATE), 4, p);
    if (!db_ok(res)) {
        db_rollback();
        *db_res = res;
        return USERS_DB_ERROR;
    }
    if (audit_update(a, client, actor_id, actor_email, user_id, old_role, new_role, old_disabled,
                     new_disabled) != 0 ||
        db_commit() != 0) {
        db_rollback();
        return USERS_DB_ERROR;
    }
    if (changed) {
        /* Refuse the user's existing tokens at once; PostgreSQL has the same fact for when Redis
         * is down (token_version), so this is an accelerator, not the only record. */
        char key[48];
        long long uid = atoll(user_id);
        const char *val = PQgetvalue(res, 0, 7);
        snprintf(key, sizeof(key), "token_version:%lld", uid);
        if (cache_set(key, val, strlen(val), (int)config_get()->jwt_ttl) != 0)
            log_msg(LOG_WARN, "could not record token cut-off for user %lld in Redis", uid);
        auth_bump_epoch();
    }
    user_from_row(res, 0, 0, out);
    return USERS_OK;
}

int users_logout_audit(arena *a, const struct audit_client *client, long long user_id,
                       const char *email)
{
    return audit_event(a, client, user_id, email, "logout", "user", NULL, NULL);
}
