/*
 * Accounts in PostgreSQL: the statements on users and their sign-in state, and the use cases
 * that change them. Every state change is written with its audit event in one transaction on
 * the worker's connection; a failure rolls the whole change back.
 *
 * A login costs one Argon2id verify (about 75 ms) whether or not the email exists, so response
 * time does not tell an attacker which addresses have accounts. Instead of locking accounts
 * (which let anyone lock out anyone, and told which emails exist), failures are throttled in
 * login_throttle under a keyed hash of the email and under the client address, with delays that
 * double; an unknown email is counted and answered exactly like a known one, and the owner
 * signing in from the address they last used is not slowed by failures from elsewhere.
 * Revocations (logout) are rows of revoked_tokens, read by the token check in auth.c.
 */
#include "users.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
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
     "INSERT INTO users (name, email, password_hash, role, password_staff_ok) "
     "VALUES ($1, $2, $3, $4, $5::boolean) RETURNING " USER_COLS},
    [AUTH_USER_BY_EMAIL] = {"auth_user_by_email",
     "SELECT id, name, email, role, disabled, password_hash, "
     "token_version, coalesce(last_login_addr, '') "
     "FROM users WHERE lower(email) = lower($1)"},
    [AUTH_LOGIN_OK] = {"auth_login_ok",
     "UPDATE users SET last_login_at = now(), last_login_addr = $3, "
     "password_hash = coalesce($2, password_hash) WHERE id = $1::bigint RETURNING " USER_COLS},
    [AUTH_USERS_LIST] = {"auth_users_list",
     "SELECT " USER_COLS ", coalesce(t.failures, 0), coalesce(t.blocked_until > now(), false) "
     "FROM users LEFT JOIN LATERAL (SELECT max(failures) AS failures, max(blocked_until) AS "
     "blocked_until FROM login_throttle WHERE user_id = users.id) t ON true "
     "ORDER BY created_at DESC, id DESC LIMIT $1::int OFFSET $2::int"},
    [AUTH_USER_LOCK_ROW] = {"auth_user_lock_row",
     "SELECT " USER_COLS ", password_staff_ok IS NOT FALSE FROM users WHERE id = $1::bigint "
     "FOR UPDATE"},
    [AUTH_USER_UPDATE] = {"auth_user_update",
     "UPDATE users SET role = $2, disabled = $3::boolean, updated_at = now(), "
     "token_version = token_version + CASE WHEN $4::boolean THEN 1 ELSE 0 END "
     "WHERE id = $1::bigint RETURNING " USER_COLS ", token_version"},
    /* The longest block left among the keys given (0 when none is blocked). */
    [AUTH_THROTTLE_BLOCKED] = {"auth_throttle_blocked",
     "SELECT key, ceil(extract(epoch FROM blocked_until - now()))::bigint FROM login_throttle "
     "WHERE key IN ($1, $2) AND blocked_until > now()"},
    /* One more failure under key ($2 the user when known; $3 free failures, $4 the longest
     * block, $5 the window): the count and the block's seconds (0 when not blocked). */
    [AUTH_THROTTLE_FAIL] = {"auth_throttle_fail",
     "INSERT INTO login_throttle AS t (key, user_id, failures, last_failure_at, blocked_until) "
     "VALUES ($1, $2::bigint, 1, now(), login_throttle_block(1, $3::int, $4::int)) "
     "ON CONFLICT (key) DO UPDATE SET "
     "failures = CASE WHEN t.last_failure_at < now() - make_interval(secs => $5::int) THEN 1 "
     "ELSE t.failures + 1 END, "
     "blocked_until = login_throttle_block(CASE WHEN t.last_failure_at < now() - "
     "make_interval(secs => $5::int) THEN 1 ELSE t.failures + 1 END, $3::int, $4::int), "
     "user_id = coalesce(EXCLUDED.user_id, t.user_id), last_failure_at = now() "
     "RETURNING failures, coalesce(ceil(extract(epoch FROM blocked_until - now())), 0)::bigint"},
    [AUTH_THROTTLE_CLEAR] = {"auth_throttle_clear",
     "DELETE FROM login_throttle WHERE key = $1"},
    [AUTH_USER_FOR_PASSWORD] = {"auth_user_for_password",
     "SELECT " USER_COLS ", password_hash FROM users WHERE "
     "CASE WHEN $1::bigint IS NULL THEN lower(email) = lower($2) ELSE id = $1::bigint END"},
    [AUTH_USER_SET_PASSWORD] = {"auth_user_set_password",
     "UPDATE users SET password_hash = $2, token_version = token_version + 1, updated_at = now(), "
     "password_staff_ok = $4::boolean WHERE id = $1::bigint AND password_hash = $3 "
     "RETURNING token_version"},
    [AUTH_TOKEN_REVOKE] = {"auth_token_revoke",
     "INSERT INTO revoked_tokens (jti, user_id, expires_at) "
     "VALUES ($1, $2::bigint, to_timestamp($3::bigint)) ON CONFLICT (jti) DO NOTHING"},
    [AUTH_TOKENS_PRUNE] = {"auth_tokens_prune",
     "DELETE FROM revoked_tokens WHERE expires_at < now() - interval '1 minute'"},
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

/* ---- the throttle ------------------------------------------------------------------------ */

/* The throttle's key of an email ("e:" and its keyed hash) into out (AUTH_EMAIL_KEY_LEN + 3). */
static int email_key(const char *email, char *out)
{
    memcpy(out, "e:", 2);
    return auth_email_key(config_get()->jwt_secret, email, out + 2);
}

/* Seconds left of the blocks on k1 and k2 (NULL: not asked) into *s1 and *s2. 0 or -1. */
static int throttle_blocked(arena *a, const char *k1, const char *k2, long long *s1, long long *s2)
{
    *s1 = *s2 = 0;
    const char *p[2] = {k1 ? k1 : "", k2 ? k2 : ""};
    PGresult *res = db_exec(a, USERS_SQL(AUTH_THROTTLE_BLOCKED), 2, p);
    if (!db_ok(res))
        return -1;
    for (int i = 0; i < PQntuples(res); i++) {
        long long left = atoll(PQgetvalue(res, i, 1));
        if (k1 && !strcmp(PQgetvalue(res, i, 0), k1))
            *s1 = left > 0 ? left : 1;
        else if (k2 && !strcmp(PQgetvalue(res, i, 0), k2))
            *s2 = left > 0 ? left : 1;
    }
    return 0;
}

/* One more failure under key (inside the caller's transaction): its count into *failures and
 * the block it now has (seconds, 0 none) into *blocked. 0 or -1. */
static int throttle_fail(arena *a, const char *key, const char *user_id, int free_failures,
                         int *failures, long long *blocked)
{
    char fr[16], cap[16], win[16];
    snprintf(fr, sizeof(fr), "%d", free_failures);
    snprintf(cap, sizeof(cap), "%d", USERS_THROTTLE_MAX_DELAY);
    snprintf(win, sizeof(win), "%d", USERS_THROTTLE_WINDOW);
    const char *p[5] = {key, user_id, fr, cap, win};
    PGresult *res = db_exec(a, USERS_SQL(AUTH_THROTTLE_FAIL), 5, p);
    if (!db_ok(res) || PQntuples(res) != 1)
        return -1;
    if (failures)
        *failures = atoi(PQgetvalue(res, 0, 0));
    if (blocked)
        *blocked = atoll(PQgetvalue(res, 0, 1));
    return 0;
}

/* ---- create ------------------------------------------------------------------------------- */

/* A registration of a known email: counted under the client address, with its audit event, in
 * one transaction. */
static void register_conflict(arena *a, const struct audit_client *client, const char *key,
                              const char *email)
{
    int failures = 0;
    long long blocked = 0;
    if (db_begin() != 0)
        return;
    int rc = throttle_fail(a, key, NULL, USERS_THROTTLE_REGISTER_FREE, &failures, &blocked);
    json_object *d = json_object_new_object();
    json_object_object_add(d, "reason", json_object_new_string("email_taken"));
    json_object_object_add(d, "conflicts", json_object_new_int(failures));
    json_object_object_add(d, "blocked_seconds", json_object_new_int64(blocked));
    if (rc == 0)
        rc = audit_event(a, client, 0, email, "register_refused", "user", NULL, d);
    json_object_put(d);
    if (rc != 0 || db_commit() != 0) {
        db_rollback();
        log_msg(LOG_WARN, "a refused registration was not counted");
    }
}

enum users_outcome users_create(arena *a, const struct audit_client *client, long long actor_id,
                                const char *actor_email, const char *name, const char *email,
                                const char *password, const char *role, const char *action,
                                struct users_user *out, long long *retry_after,
                                const PGresult **db_res)
{
    *db_res = NULL;
    *retry_after = 0;
    char key[320];
    if (actor_id == 0) {
        long long left, unused;
        snprintf(key, sizeof(key), "r:%s", client->addr ? client->addr : "");
        if (throttle_blocked(a, key, NULL, &left, &unused) != 0)
            return USERS_DB_ERROR;
        if (left > 0) {
            *retry_after = left;
            return USERS_THROTTLED;
        }
    }
    char hash[AUTH_HASH_MAX];
    if (auth_hash_password(password, hash) != 0)
        return USERS_NO_MEMORY;
    if (db_begin() != 0)
        return USERS_DB_ERROR;
    const char *p[5] = {name, email, hash, role,
                        auth_password_check(ROLE_OFFICER, password) ? "true" : "false"};
    PGresult *res = db_exec(a, USERS_SQL(AUTH_USER_INSERT), 5, p);
    if (!db_ok(res)) {
        db_rollback();
        if (!strcmp(db_sqlstate(res), "23505")) {
            if (actor_id == 0)
                register_conflict(a, client, key, email);
            return USERS_EMAIL_TAKEN;
        }
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

/* A failed sign-in (id NULL: unknown email): counted under the email and the address, with its
 * audit event, in one transaction. The same statements run for an unknown email as for a
 * known one. */
static enum users_outcome login_failed(arena *a, const struct audit_client *client,
                                       const char *email, const char *id, const char *ekey,
                                       const char *akey)
{
    int failures = 0, addr_failures = 0;
    long long blocked = 0, addr_blocked = 0;
    if (db_begin() != 0)
        return USERS_DB_ERROR;
    if (throttle_fail(a, ekey, id, USERS_THROTTLE_EMAIL_FREE, &failures, &blocked) != 0 ||
        throttle_fail(a, akey, NULL, USERS_THROTTLE_ADDR_FREE, &addr_failures, &addr_blocked) !=
            0) {
        db_rollback();
        return USERS_DB_ERROR;
    }
    json_object *d = json_object_new_object();
    json_object_object_add(d, "reason",
                           json_object_new_string(id ? "wrong_password" : "unknown_email"));
    json_object_object_add(d, "failures", json_object_new_int(failures));
    json_object_object_add(d, "address_failures", json_object_new_int(addr_failures));
    json_object_object_add(d, "blocked_seconds",
                           json_object_new_int64(blocked > addr_blocked ? blocked : addr_blocked));
    int arc = audit_event(a, client, 0, email, "login_failure", "user", id, d);
    json_object_put(d);
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
    char ekey[AUTH_EMAIL_KEY_LEN + 3], akey[300];
    if (email_key(email, ekey) != 0)
        return USERS_DB_ERROR;
    const char *addr = client->addr ? client->addr : "";
    snprintf(akey, sizeof(akey), "a:%s", addr);
    const char *p[1] = {email};
    PGresult *res = db_exec(a, USERS_SQL(AUTH_USER_BY_EMAIL), 1, p);
    long long email_left, addr_left;
    if (!db_ok(res) || throttle_blocked(a, ekey, akey, &email_left, &addr_left) != 0)
        return USERS_DB_ERROR;
    int known = PQntuples(res) == 1;
    /* The owner, from the address of their last sign-in, is not slowed by others' failures. */
    int owner = known && addr[0] && !strcmp(PQgetvalue(res, 0, 7), addr);
    if (addr_left > 0 || (email_left > 0 && !owner)) {
        out->retry_after = addr_left > email_left ? addr_left : email_left;
        return USERS_THROTTLED;
    }
    if (!known) {
        auth_verify_password(NULL, password); /* same cost as a wrong password */
        return login_failed(a, client, email, NULL, ekey, akey);
    }
    const char *id = PQgetvalue(res, 0, 0);
    long long user_id = atoll(id);
    if (!auth_verify_password(PQgetvalue(res, 0, 5), password))
        return login_failed(a, client, email, id, ekey, akey);
    if (PQgetvalue(res, 0, 4)[0] == 't')
        return USERS_DISABLED;
    char newhash[AUTH_HASH_MAX];
    const char *rehash = NULL;
    if (auth_needs_rehash(PQgetvalue(res, 0, 5)) && auth_hash_password(password, newhash) == 0)
        rehash = newhash;
    const char *q[3] = {id, rehash, addr[0] ? addr : NULL};
    const char *k[1] = {ekey};
    if (db_begin() != 0)
        return USERS_DB_ERROR;
    PGresult *u = db_exec(a, USERS_SQL(AUTH_LOGIN_OK), 3, q);
    if (!db_ok(u) || PQntuples(u) != 1 ||
        !db_ok(db_exec(a, USERS_SQL(AUTH_THROTTLE_CLEAR), 1, k)) ||
        audit_event(a, client, user_id, PQgetvalue(res, 0, 2), "login_success", "user", id, NULL) !=
            0 ||
        db_commit() != 0) {
        db_rollback();
        return USERS_DB_ERROR;
    }
    user_from_row(u, 0, 0, &out->user);
    out->role = auth_role_from_name(PQgetvalue(res, 0, 3));
    out->token_version = atoi(PQgetvalue(res, 0, 6));
    return USERS_OK;
}

/* ---- password and logout ------------------------------------------------------------------ */

enum users_outcome users_change_password(arena *a, const struct audit_client *client,
                                         long long actor_id, const char *actor_email,
                                         const char *user_id, const char *email,
                                         const char *current, const char *new_password,
                                         struct users_user *out, int *new_version,
                                         const PGresult **db_res)
{
    *db_res = NULL;
    const char *p[4] = {user_id, email};
    PGresult *res = db_exec(a, USERS_SQL(AUTH_USER_FOR_PASSWORD), 2, p);
    if (!db_ok(res)) {
        *db_res = res;
        return USERS_DB_ERROR;
    }
    if (PQntuples(res) != 1)
        return USERS_NOT_FOUND;
    user_from_row(res, 0, 0, out);
    const char *old_hash = PQgetvalue(res, 0, 7);
    if (current != NULL && !auth_verify_password(old_hash, current))
        return USERS_BAD_LOGIN;
    if (!auth_password_check(auth_role_from_name(out->role), new_password))
        return USERS_WEAK_PASSWORD;
    char hash[AUTH_HASH_MAX];
    if (auth_hash_password(new_password, hash) != 0)
        return USERS_NO_MEMORY;
    p[0] = out->id_text;
    p[1] = hash;
    p[2] = old_hash;
    p[3] = auth_password_check(ROLE_OFFICER, new_password) ? "true" : "false";
    if (db_begin() != 0)
        return USERS_DB_ERROR;
    PGresult *u = db_exec(a, USERS_SQL(AUTH_USER_SET_PASSWORD), 4, p);
    if (!db_ok(u)) {
        db_rollback();
        *db_res = u;
        return USERS_DB_ERROR;
    }
    if (PQntuples(u) != 1) { /* changed meanwhile: the current password is no longer it */
        db_rollback();
        return USERS_BAD_LOGIN;
    }
    *new_version = atoi(PQgetvalue(u, 0, 0));
    json_object *d = json_object_new_object();
    json_object_object_add(d, "by", json_object_new_string(current ? "self" : "operator"));
    int arc =
        audit_event(a, client, actor_id, actor_email, "password_change", "user", out->id_text, d);
    json_object_put(d);
    if (arc != 0 || db_commit() != 0) {
        db_rollback();
        return USERS_DB_ERROR;
    }
    auth_bump_epoch();
    return USERS_OK;
}

enum users_outcome users_logout(arena *a, const struct audit_client *client, long long user_id,
                                const char *email, const char *jti, long long expires_at)
{
    char uid[24], exp[24];
    snprintf(uid, sizeof(uid), "%lld", user_id);
    snprintf(exp, sizeof(exp), "%lld", expires_at);
    const char *p[3] = {jti, uid, exp};
    if (db_begin() != 0)
        return USERS_DB_ERROR;
    if (!db_ok(db_exec(a, USERS_SQL(AUTH_TOKEN_REVOKE), 3, p)) ||
        !db_ok(db_exec(a, USERS_SQL(AUTH_TOKENS_PRUNE), 0, NULL)) ||
        audit_event(a, client, user_id, email, "logout", "user", uid, NULL) != 0 ||
        db_commit() != 0) {
        db_rollback();
        return USERS_DB_ERROR;
    }
    auth_bump_epoch();
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
    /* Staff passwords are at least 12 bytes: a shorter one must be changed before a promotion
     * (accounts from before the rule was recorded are not known to be short). */
    if (auth_role_from_name(new_role) >= ROLE_OFFICER && strcmp(new_role, old_role) != 0 &&
        PQgetvalue(cur, 0, 7)[0] != 't') {
        db_rollback();
        return USERS_WEAK_PASSWORD;
    }
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
    if (changed)
        auth_bump_epoch(); /* every worker re-reads the user's version (auth.c) at once */
    user_from_row(res, 0, 0, out);
    return USERS_OK;
}
