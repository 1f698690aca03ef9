/*
 * Accounts: registration, login (JSON and the browser's form), logout, and the administrators'
 * user management. Every state change is written with its audit event in one transaction.
 *
 * Login costs one Argon2id verify (about 75 ms) whether or not the email exists, so response time
 * does not tell an attacker which addresses have accounts; /login and /register are routed by
 * nginx to the low-priority login pool, so hashing never starves the rest of the API.
 */
#include "routes.h"
#include "users.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include <time.h>

#include "audit.h"
#include "auth.h"
#include "cache.h"
#include "config.h"
#include "js.h"
#include "log.h"
#include "template.h"
#include "validate.h"

#define LOCK_AFTER_FAILURES 10
#define LOCK_MINUTES 15




/* Builds the public view of a user from a row in USER_COLS order starting at column c. */
static json_object *user_json(const PGresult *res, int row, int c)
{
    json_object *u = json_object_new_object();
    json_object_object_add(u, "id", json_object_new_int64(atoll(PQgetvalue(res, row, c))));
    json_object_object_add(u, "name", json_object_new_string(PQgetvalue(res, row, c + 1)));
    json_object_object_add(u, "email", json_object_new_string(PQgetvalue(res, row, c + 2)));
    json_object_object_add(u, "role", json_object_new_string(PQgetvalue(res, row, c + 3)));
    json_object_object_add(u, "disabled",
                           json_object_new_boolean(PQgetvalue(res, row, c + 4)[0] == 't'));
    json_object_object_add(u, "created_at", json_object_new_string(PQgetvalue(res, row, c + 5)));
    json_object_object_add(u, "last_login_at",
                           PQgetisnull(res, row, c + 6)
                               ? NULL
                               : json_object_new_string(PQgetvalue(res, row, c + 6)));
    return u;
}

/* Validates name, email and password of a new account into fields. */
static void check_account(json_object *body, const char **name, const char **email,
                          const char **password, json_object *fields)
{
    int rc = js_string(body, "name", 400, name, fields);
    if (rc == 0)
        js_field_error(fields, "name", "is required");
    else if (rc > 0 && !val_name(*name))
        js_field_error(fields, "name", "must be 3 to 100 characters and contain a letter");
    rc = js_string(body, "email", 254, email, fields);
    if (rc == 0)
        js_field_error(fields, "email", "is required");
    else if (rc > 0 && !val_email(*email))
        js_field_error(fields, "email", "must be a valid email address");
    rc = js_string(body, "password", 1024, password, fields);
    if (rc == 0)
        js_field_error(fields, "password", "is required");
    else if (rc > 0 && (strlen(*password) < 8 || strlen(*password) > 128))
        js_field_error(fields, "password", "must be 8 to 128 bytes long");
}

static int validation_failed(http_req *r, json_object *fields)
{
    return http_error_fields(r, 400, "validation_failed", "Some fields are missing or invalid",
                             fields);
}

static int body_required(http_req *r)
{
    if (r->json == NULL || !json_object_is_type(r->json, json_type_object))
        return http_error(r, 400, "validation_failed", "A JSON object body is required");
    return 0;
}

/* Inserts a user and its audit event in one transaction. 201 with the user, 409, 400, 503. */
static int create_user(http_req *r, const char *role, const char *action)
{
    if (body_required(r))
        return r->status;
    const char *name = NULL, *email = NULL, *password = NULL;
    json_object *fields = json_object_new_object();
    check_account(r->json, &name, &email, &password, fields);
    if (json_object_object_length(fields) > 0)
        return validation_failed(r, fields);
    json_object_put(fields);

    char hash[AUTH_HASH_MAX];
    if (auth_hash_password(password, hash) != 0)
        return http_fault(r, "password hashing failed (out of memory)");
    if (db_begin() != 0)
        return routes_db_error(r, NULL);
    const char *p[4] = {name, email, hash, role};
    PGresult *res = db_exec(r->pool, USERS_SQL(AUTH_USER_INSERT), 4, p);
    if (!db_ok(res)) {
        db_rollback();
        if (!strcmp(db_sqlstate(res), "23505")) {
            fields = json_object_new_object();
            js_field_error(fields, "email", "is already registered");
            return http_error_fields(r, 409, "conflict", "An account with this email exists",
                                     fields);
        }
        return routes_db_error(r, res);
    }
    json_object *user = user_json(res, 0, 0);
    json_object *details = json_object_new_object();
    json_object_object_add(details, "role", json_object_new_string(role));
    int arc = audit_event(r, r->user.id > 0 ? r->user.id : atoll(PQgetvalue(res, 0, 0)),
                          r->user.id > 0 ? r->user.email : email, action, "user",
                          PQgetvalue(res, 0, 0), details);
    json_object_put(details);
    if (arc != 0 || db_commit() != 0) {
        db_rollback();
        json_object_put(user);
        return routes_db_error(r, NULL);
    }
    json_object *o = json_object_new_object();
    json_object_object_add(o, "message", json_object_new_string("User registered successfully"));
    json_object_object_add(o, "user", user);
    return http_send_json(r, 201, o);
}

int auth_register(http_req *r)
{
    /* A "role" in the body is ignored on purpose: self-registration makes applicants only. */
    return create_user(r, "applicant", "register");
}

enum login_outcome { LOGIN_OK, LOGIN_BAD, LOGIN_LOCKED, LOGIN_DISABLED, LOGIN_DB };

struct login_result {
    enum login_outcome outcome;
    long long retry_after;
    json_object *user; /* caller owns, on LOGIN_OK */
    const char *token, *jti;
    long long user_id;
};

/* The login procedure shared by the JSON API and the browser form. */
static void do_login(http_req *r, const char *email, const char *password, struct login_result *out)
{
    memset(out, 0, sizeof(*out));
    const char *p[3] = {email};
    PGresult *res = db_exec(r->pool, USERS_SQL(AUTH_USER_BY_EMAIL), 1, p);
    if (!db_ok(res)) {
        out->outcome = LOGIN_DB;
        return;
    }
    if (PQntuples(res) == 0) {
        auth_verify_password(NULL, password); /* same cost as a wrong password */
        json_object *d = json_object_new_object();
        json_object_object_add(d, "reason", json_object_new_string("unknown_email"));
        if (audit_event(r, 0, email, "login_failure", "user", NULL, d) != 0)
            log_msg(LOG_WARN, "failed login for an unknown email not audited");
        json_object_put(d);
        out->outcome = LOGIN_BAD;
        return;
    }
    const char *id = PQgetvalue(res, 0, 0);
    out->user_id = atoll(id);
    long long lock_left = atoll(PQgetvalue(res, 0, 6));
    if (lock_left > 0) {
        out->outcome = LOGIN_LOCKED;
        out->retry_after = lock_left;
        return;
    }
    if (!auth_verify_password(PQgetvalue(res, 0, 5), password)) {
        char lim[16], mins[16];
        snprintf(lim, sizeof(lim), "%d", LOCK_AFTER_FAILURES);
        snprintf(mins, sizeof(mins), "%d", LOCK_MINUTES);
        const char *q[3] = {id, lim, mins};
        if (db_begin() != 0) {
            out->outcome = LOGIN_DB;
            return;
        }
        PGresult *u = db_exec(r->pool, USERS_SQL(AUTH_LOGIN_FAILED), 3, q);
        if (!db_ok(u) || PQntuples(u) != 1) {
            db_rollback();
            out->outcome = LOGIN_DB;
            return;
        }
        int locked = PQgetvalue(u, 0, 1)[0] == 't';
        json_object *d = json_object_new_object();
        json_object_object_add(d, "reason", json_object_new_string("wrong_password"));
        json_object_object_add(d, "failures", json_object_new_int(atoi(PQgetvalue(u, 0, 0))));
        int arc = audit_event(r, 0, email, "login_failure", "user", id, d);
        json_object_put(d);
        if (arc == 0 && locked) {
            d = json_object_new_object();
            json_object_object_add(d, "minutes", json_object_new_int(LOCK_MINUTES));
            arc = audit_event(r, 0, email, "lockout", "user", id, d);
            json_object_put(d);
        }
        if (arc != 0 || db_commit() != 0) {
            db_rollback();
            out->outcome = LOGIN_DB;
            return;
        }
        out->outcome = LOGIN_BAD;
        return;
    }
    if (PQgetvalue(res, 0, 4)[0] == 't') {
        out->outcome = LOGIN_DISABLED;
        return;
    }
    char newhash[AUTH_HASH_MAX];
    const char *rehash = NULL;
    if (auth_needs_rehash(PQgetvalue(res, 0, 5)) && auth_hash_password(password, newhash) == 0)
        rehash = newhash;
    enum role role = auth_role_from_name(PQgetvalue(res, 0, 3));
    const char *q[2] = {id, rehash};
    if (db_begin() != 0) {
        out->outcome = LOGIN_DB;
        return;
    }
    PGresult *u = db_exec(r->pool, USERS_SQL(AUTH_LOGIN_OK), 2, q);
    if (!db_ok(u) || PQntuples(u) != 1 ||
        audit_event(r, out->user_id, PQgetvalue(res, 0, 2), "login_success", "user", id, NULL) !=
            0 ||
        db_commit() != 0) {
        db_rollback();
        out->outcome = LOGIN_DB;
        return;
    }
    if (auth_issue_token(r, out->user_id, PQgetvalue(res, 0, 2), role, atoi(PQgetvalue(res, 0, 7)),
                         &out->token, &out->jti) != 0) {
        out->outcome = LOGIN_DB;
        return;
    }
    out->user = user_json(u, 0, 0);
    out->outcome = LOGIN_OK;
}

static int send_locked(http_req *r, long long retry_after)
{
    char ra[24];
    snprintf(ra, sizeof(ra), "%lld", retry_after > 0 ? retry_after : 1);
    http_add_header(r, "Retry-After", ra);
    return http_error(r, 429, "account_locked",
                      "Too many failed logins: the account is locked for 15 minutes");
}

int auth_login(http_req *r)
{
    if (body_required(r))
        return r->status;
    const char *email = NULL, *password = NULL;
    json_object *fields = json_object_new_object();
    if (js_string(r->json, "email", 254, &email, fields) == 0)
        js_field_error(fields, "email", "is required");
    if (js_string(r->json, "password", 1024, &password, fields) == 0)
        js_field_error(fields, "password", "is required");
    if (json_object_object_length(fields) > 0)
        return validation_failed(r, fields);
    json_object_put(fields);

    struct login_result lr;
    do_login(r, email, password, &lr);
    switch (lr.outcome) {
    case LOGIN_DB:
        return routes_db_error(r, NULL);
    case LOGIN_BAD:
        http_add_header(r, "WWW-Authenticate", "Bearer realm=\"loanflow\"");
        return http_error(r, 401, "invalid_credentials", "Invalid email or password");
    case LOGIN_LOCKED:
        return send_locked(r, lr.retry_after);
    case LOGIN_DISABLED:
        return http_error(r, 403, "account_disabled", "This account is disabled");
    case LOGIN_OK:
        break;
    }
    r->user.id = lr.user_id;
    json_object *o = json_object_new_object();
    json_object_object_add(o, "token", json_object_new_string(lr.token));
    json_object_object_add(o, "token_type", json_object_new_string("Bearer"));
    json_object_object_add(o, "expires_in", json_object_new_int64(config_get()->jwt_ttl));
    json_object_object_add(o, "user", lr.user);
    http_add_header(r, "Cache-Control", "no-store");
    return http_send_json(r, 200, o);
}

/* Revokes the current token until it expires. 0, or -1 when Redis cannot record it. */
static int revoke_current(http_req *r)
{
    char key[64];
    snprintf(key, sizeof(key), "revoked:%s", r->user.jti);
    long long ttl = r->user.exp - (long long)time(NULL);
    if (ttl < 1)
        ttl = 1;
    if (cache_setnx_ex(key, (int)ttl) < 0)
        return -1;
    auth_bump_epoch();
    return 0;
}

int auth_logout(http_req *r)
{
    if (revoke_current(r) != 0)
        return http_error(r, 503, "cache_unavailable",
                          "The session store is unavailable, so the token cannot be revoked; "
                          "try again shortly");
    if (audit_event(r, r->user.id, r->user.email, "logout", "user", NULL, NULL) != 0)
        log_msg(LOG_WARN, "logout of user %lld not audited", r->user.id);
    json_object *o = json_object_new_object();
    json_object_object_add(o, "message", json_object_new_string("Logged out"));
    return http_send_json(r, 200, o);
}

/* ---- browser session ---------------------------------------------------------------------- */

static const char *safe_next(const char *next)
{
    /* Only local paths: "/x" but not "//host". Browsers drop tabs and newlines and read a
     * backslash as a slash in URLs, so any control character, space, non-ASCII byte or
     * backslash refuses the value. */
    if (next == NULL || next[0] != '/' || next[1] == '/' || strlen(next) > 512)
        return "/dashboard";
    for (const unsigned char *p = (const unsigned char *)next; *p; p++)
        if (*p <= 0x20 || *p >= 0x7f || *p == '\\')
            return "/dashboard";
    return next;
}

static int render_login(http_req *r, int status, const char *error, const char *email,
                        const char *next)
{
    unsigned char rnd[16];
    char csrf[33];
    const char *have = http_cookie(r, AUTH_CSRF_COOKIE);
    if (have != NULL && strlen(have) == 32) {
        snprintf(csrf, sizeof(csrf), "%s", have);
    } else {
        randombytes_buf(rnd, sizeof(rnd));
        sodium_bin2hex(csrf, sizeof(csrf), rnd, sizeof(rnd));
        char *cookie = arena_printf(r->pool, "%s=%s; HttpOnly; SameSite=Strict; Path=/%s",
                                    AUTH_CSRF_COOKIE, csrf,
                                    config_get()->cookie_secure ? "; Secure" : "");
        http_add_header(r, "Set-Cookie", cookie);
    }
    json_object *ctx = json_object_new_object();
    json_object_object_add(ctx, "title", json_object_new_string("Sign in"));
    json_object_object_add(ctx, "csrf", json_object_new_string(csrf));
    json_object_object_add(ctx, "next", json_object_new_string(safe_next(next)));
    if (error)
        json_object_object_add(ctx, "error", json_object_new_string(error));
    if (email)
        json_object_object_add(ctx, "email", json_object_new_string(email));
    size_t len;
    char *html = template_render(r->pool, "login", ctx, &len);
    json_object_put(ctx);
    if (html == NULL)
        return http_fault(r, "login template failed");
    http_add_header(r, "Cache-Control", "no-store");
    return http_send(r, status, "text/html; charset=utf-8", html, len);
}

int auth_login_page(http_req *r)
{
    return render_login(r, 200, NULL, NULL, http_query(r, "next"));
}

int auth_session_form(http_req *r)
{
    const char *email = http_form(r, "email");
    const char *password = http_form(r, "password");
    const char *next = http_form(r, "next");
    if (email == NULL || password == NULL || !email[0] || !password[0])
        return render_login(r, 400, "Enter your email and password.", email, next);
    if (strlen(email) > 254 || strlen(password) > 1024)
        return render_login(r, 400, "Invalid email or password.", NULL, next);
    struct login_result lr;
    do_login(r, email, password, &lr);
    switch (lr.outcome) {
    case LOGIN_DB:
        return render_login(r, 503, "The service is unavailable; try again shortly.", email, next);
    case LOGIN_BAD:
        return render_login(r, 401, "Invalid email or password.", email, next);
    case LOGIN_LOCKED: {
        char ra[24];
        snprintf(ra, sizeof(ra), "%lld", lr.retry_after > 0 ? lr.retry_after : 1);
        http_add_header(r, "Retry-After", ra);
        return render_login(r, 429, "Too many failed logins: try again in 15 minutes.", email,
                            next);
    }
    case LOGIN_DISABLED:
        return render_login(r, 403, "This account is disabled.", email, next);
    case LOGIN_OK:
        break;
    }
    json_object_put(lr.user);
    r->user.id = lr.user_id;
    const struct config *cfg = config_get();
    char *cookie = arena_printf(r->pool, "%s=%s; HttpOnly; SameSite=Strict; Path=/; Max-Age=%ld%s",
                                AUTH_COOKIE, lr.token, cfg->jwt_ttl,
                                cfg->cookie_secure ? "; Secure" : "");
    http_add_header(r, "Set-Cookie", cookie);
    return http_redirect(r, safe_next(next));
}

int auth_session_end_form(http_req *r)
{
    if (revoke_current(r) != 0)
        return http_error(r, 503, "cache_unavailable",
                          "The session store is unavailable; try again shortly");
    if (audit_event(r, r->user.id, r->user.email, "logout", "user", NULL, NULL) != 0)
        log_msg(LOG_WARN, "logout of user %lld not audited", r->user.id);
    char *cookie = arena_printf(r->pool, "%s=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0%s",
                                AUTH_COOKIE, config_get()->cookie_secure ? "; Secure" : "");
    http_add_header(r, "Set-Cookie", cookie);
    return http_redirect(r, "/login");
}

/* ---- administration ----------------------------------------------------------------------- */

int admin_users_list(http_req *r)
{
    char limit[16], offset[16];
    if (routes_paging(r, 100, 1000, limit, offset) != 0)
        return r->status;
    const char *p[2] = {limit, offset};
    PGresult *res = db_exec(r->pool, USERS_SQL(AUTH_USERS_LIST), 2, p);
    if (!db_ok(res))
        return routes_db_error(r, res);
    json_object *list = json_object_new_array();
    for (int i = 0; i < PQntuples(res); i++) {
        json_object *u = user_json(res, i, 0);
        json_object_object_add(u, "failed_logins", json_object_new_int(atoi(PQgetvalue(res, i, 7))));
        json_object_object_add(u, "locked", json_object_new_boolean(PQgetvalue(res, i, 8)[0] == 't'));
        json_object_array_add(list, u);
    }
    json_object *o = json_object_new_object();
    json_object_object_add(o, "users", list);
    json_object_object_add(o, "count", json_object_new_int(PQntuples(res)));
    return http_send_json(r, 200, o);
}

int admin_users_create(http_req *r)
{
    if (body_required(r))
        return r->status;
    const char *role = "officer";
    json_object *fields = json_object_new_object();
    int rc = js_string(r->json, "role", 32, &role, fields);
    if (rc < 0 || (rc > 0 && !auth_role_valid(role))) {
        js_field_error(fields, "role", "must be applicant, officer or admin");
        return validation_failed(r, fields);
    }
    json_object_put(fields);
    return create_user(r, role, "user_create");
}

int admin_users_update(http_req *r)
{
    if (body_required(r))
        return r->status;
    const char *id = http_route_param(r, 0);
    char *end;
    long long uid = strtoll(id, &end, 10);
    if (*end || uid <= 0)
        return http_error(r, 404, "not_found", "No such user");
    const char *role = NULL;
    int disabled = -1;
    json_object *fields = json_object_new_object();
    int rc_role = js_string(r->json, "role", 32, &role, fields);
    if (rc_role > 0 && !auth_role_valid(role))
        js_field_error(fields, "role", "must be applicant, officer or admin");
    int rc_dis = js_bool(r->json, "disabled", &disabled, fields);
    if (json_object_object_length(fields) > 0)
        return validation_failed(r, fields);
    if (rc_role <= 0 && rc_dis <= 0) {
        js_field_error(fields, "role", "give role and/or disabled");
        return validation_failed(r, fields);
    }
    json_object_put(fields);
    if (uid == r->user.id)
        return http_error(r, 409, "conflict",
                          "Administrators cannot change their own role or disable themselves");

    if (db_begin() != 0)
        return routes_db_error(r, NULL);
    const char *p[4] = {id};
    PGresult *cur = db_exec(r->pool, USERS_SQL(AUTH_USER_LOCK_ROW), 1, p);
    if (!db_ok(cur)) {
        db_rollback();
        return routes_db_error(r, cur);
    }
    if (PQntuples(cur) == 0) {
        db_rollback();
        return http_error(r, 404, "not_found", "No such user");
    }
    const char *old_role = PQgetvalue(cur, 0, 3);
    int old_disabled = PQgetvalue(cur, 0, 4)[0] == 't';
    const char *new_role = rc_role > 0 ? role : old_role;
    int new_disabled = rc_dis > 0 ? disabled : old_disabled;
    int role_changed = strcmp(new_role, old_role) != 0;
    int dis_changed = new_disabled != old_disabled;
    p[1] = new_role;
    p[2] = new_disabled ? "true" : "false";
    p[3] = (role_changed || dis_changed) ? "true" : "false";
    PGresult *res = db_exec(r->pool, USERS_SQL(AUTH_USER_UPDATE), 4, p);
    if (!db_ok(res)) {
        db_rollback();
        return routes_db_error(r, res);
    }
    int arc = 0;
    if (role_changed) {
        json_object *d = json_object_new_object();
        json_object_object_add(d, "from", json_object_new_string(old_role));
        json_object_object_add(d, "to", json_object_new_string(new_role));
        arc |= audit_event(r, r->user.id, r->user.email, "role_change", "user", id, d);
        json_object_put(d);
    }
    if (dis_changed) {
        json_object *d = json_object_new_object();
        json_object_object_add(d, "from", json_object_new_boolean(old_disabled));
        json_object_object_add(d, "to", json_object_new_boolean(new_disabled));
        arc |= audit_event(r, r->user.id, r->user.email, "disabled_change", "user", id, d);
        json_object_put(d);
    }
    if (arc != 0 || db_commit() != 0) {
        db_rollback();
        return routes_db_error(r, NULL);
    }
    if (role_changed || dis_changed) {
        /* Refuse the user's existing tokens at once; PostgreSQL has the same fact for when Redis
         * is down (token_version), so this is an accelerator, not the only record. */
        char key[48];
        const char *val = PQgetvalue(res, 0, 7);
        snprintf(key, sizeof(key), "token_version:%lld", uid);
        if (cache_set(key, val, strlen(val), (int)config_get()->jwt_ttl) != 0)
            log_msg(LOG_WARN, "could not record token cut-off for user %lld in Redis", uid);
        auth_bump_epoch();
    }
    json_object *o = json_object_new_object();
    json_object_object_add(o, "user", user_json(res, 0, 0));
    return http_send_json(r, 200, o);
}
