/*
 * Accounts: registration, login (JSON and the browser's form), logout, and the administrators'
 * user management. The handlers validate input, call one use case of app/store/users.c (which
 * writes every state change with its audit event in one transaction), issue tokens and cookies,
 * and map the outcome to the response.
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

#include "auth.h"
#include "cache.h"
#include "config.h"
#include "js.h"
#include "log.h"
#include "template.h"
#include "validate.h"

/* The public view of a user. */
static json_object *user_json(const struct users_user *s)
{
    json_object *u = json_object_new_object();
    json_object_object_add(u, "id", json_object_new_int64(s->id));
    json_object_object_add(u, "name", json_object_new_string(s->name));
    json_object_object_add(u, "email", json_object_new_string(s->email));
    json_object_object_add(u, "role", json_object_new_string(s->role));
    json_object_object_add(u, "disabled", json_object_new_boolean(s->disabled));
    json_object_object_add(u, "created_at", json_object_new_string(s->created_at));
    json_object_object_add(u, "last_login_at",
                           s->last_login_at ? json_object_new_string(s->last_login_at) : NULL);
    return u;
}

/* Who the audit trail records as the client of this request. */
static struct audit_client client_of(const http_req *r)
{
    struct audit_client c = {r->remote_addr, r->user_agent};
    return c;
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

/* Creates a user (and its audit event) through the store. 201 with the user, 409, 400, 503. */
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

    struct audit_client client = client_of(r);
    struct users_user user;
    const PGresult *db_res;
    switch (users_create(r->pool, &client, r->user.id, r->user.email, name, email, password, role,
                         action, &user, &db_res)) {
    case USERS_OK:
        break;
    case USERS_NO_MEMORY:
        return http_fault(r, "password hashing failed (out of memory)");
    case USERS_EMAIL_TAKEN:
        fields = json_object_new_object();
        js_field_error(fields, "email", "is already registered");
        return http_error_fields(r, 409, "conflict", "An account with this email exists", fields);
    default:
        return routes_db_error(r, db_res);
    }
    json_object *o = json_object_new_object();
    json_object_object_add(o, "message", json_object_new_string("User registered successfully"));
    json_object_object_add(o, "user", user_json(&user));
    return http_send_json(r, 201, o);
}

int handle_auth_register(http_req *r)
{
    /* A "role" in the body is ignored on purpose: self-registration makes applicants only. */
    return create_user(r, "applicant", "register");
}

struct login_result {
    enum users_outcome outcome;
    struct users_login login;
    const char *token, *jti; /* USERS_OK */
};

/* The login procedure shared by the JSON API and the browser form: the store's bookkeeping,
 * then the token. A token that cannot be issued is USERS_DB_ERROR, like a database failure. */
static void do_login(http_req *r, const char *email, const char *password, struct login_result *out)
{
    memset(out, 0, sizeof(*out));
    struct audit_client client = client_of(r);
    out->outcome = users_login(r->pool, &client, email, password, &out->login);
    if (out->outcome != USERS_OK)
        return;
    const struct users_user *u = &out->login.user;
    if (auth_issue_token(r, u->id, u->email, out->login.role, out->login.token_version, &out->token,
                         &out->jti) != 0)
        out->outcome = USERS_DB_ERROR;
}

static int send_locked(http_req *r, long long retry_after)
{
    char ra[24];
    snprintf(ra, sizeof(ra), "%lld", retry_after > 0 ? retry_after : 1);
    http_add_header(r, "Retry-After", ra);
    return http_error(r, 429, "account_locked",
                      "Too many failed logins: the account is locked for 15 minutes");
}

int handle_auth_login(http_req *r)
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
    case USERS_OK:
        break;
    case USERS_BAD_LOGIN:
        http_add_header(r, "WWW-Authenticate", "Bearer realm=\"loanflow\"");
        return http_error(r, 401, "invalid_credentials", "Invalid email or password");
    case USERS_LOCKED:
        return send_locked(r, lr.login.retry_after);
    case USERS_DISABLED:
        return http_error(r, 403, "account_disabled", "This account is disabled");
    default:
        return routes_db_error(r, NULL);
    }
    r->user.id = lr.login.user.id;
    json_object *o = json_object_new_object();
    json_object_object_add(o, "token", json_object_new_string(lr.token));
    json_object_object_add(o, "token_type", json_object_new_string("Bearer"));
    json_object_object_add(o, "expires_in", json_object_new_int64(config_get()->jwt_ttl));
    json_object_object_add(o, "user", user_json(&lr.login.user));
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

/* The audit row of a logout; a failure is only logged (the token is revoked already). */
static void audit_logout(http_req *r)
{
    struct audit_client client = client_of(r);
    if (users_logout_audit(r->pool, &client, r->user.id, r->user.email) != 0)
        log_msg(LOG_WARN, "logout of user %lld not audited", r->user.id);
}

int handle_auth_logout(http_req *r)
{
    if (revoke_current(r) != 0)
        return http_error(r, 503, "cache_unavailable",
                          "The session store is unavailable, so the token cannot be revoked; "
                          "try again shortly");
    audit_logout(r);
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
        char *cookie =
            arena_printf(r->pool, "%s=%s; HttpOnly; SameSite=Strict; Path=/%s", AUTH_CSRF_COOKIE,
                         csrf, config_get()->cookie_secure ? "; Secure" : "");
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

int handle_auth_login_page(http_req *r)
{
    return render_login(r, 200, NULL, NULL, http_query(r, "next"));
}

int handle_auth_session_create(http_req *r)
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
    case USERS_OK:
        break;
    case USERS_BAD_LOGIN:
        return render_login(r, 401, "Invalid email or password.", email, next);
    case USERS_LOCKED: {
        char ra[24];
        snprintf(ra, sizeof(ra), "%lld", lr.login.retry_after > 0 ? lr.login.retry_after : 1);
        http_add_header(r, "Retry-After", ra);
        return render_login(r, 429, "Too many failed logins: try again in 15 minutes.", email,
                            next);
    }
    case USERS_DISABLED:
        return render_login(r, 403, "This account is disabled.", email, next);
    default:
        return render_login(r, 503, "The service is unavailable; try again shortly.", email, next);
    }
    r->user.id = lr.login.user.id;
    const struct config *cfg = config_get();
    char *cookie =
        arena_printf(r->pool, "%s=%s; HttpOnly; SameSite=Strict; Path=/; Max-Age=%ld%s",
                     AUTH_COOKIE, lr.token, cfg->jwt_ttl, cfg->cookie_secure ? "; Secure" : "");
    http_add_header(r, "Set-Cookie", cookie);
    return http_redirect(r, safe_next(next));
}

int handle_auth_session_end(http_req *r)
{
    if (revoke_current(r) != 0)
        return http_error(r, 503, "cache_unavailable",
                          "The session store is unavailable; try again shortly");
    audit_logout(r);
    char *cookie = arena_printf(r->pool, "%s=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0%s",
                                AUTH_COOKIE, config_get()->cookie_secure ? "; Secure" : "");
    http_add_header(r, "Set-Cookie", cookie);
    return http_redirect(r, "/login");
}

/* ---- administration ----------------------------------------------------------------------- */

int handle_admin_users_list(http_req *r)
{
    char limit[16], offset[16];
    if (routes_paging(r, 100, 1000, limit, offset) != 0)
        return r->status;
    struct users_user *rows;
    int n;
    const PGresult *db_res;
    enum users_outcome rc = users_list(r->pool, limit, offset, &rows, &n, &db_res);
    if (rc == USERS_NO_MEMORY)
        return http_fault(r, "out of memory for a list of users");
    if (rc != USERS_OK)
        return routes_db_error(r, db_res);
    json_object *list = json_object_new_array();
    for (int i = 0; i < n; i++) {
        json_object *u = user_json(&rows[i]);
        json_object_object_add(u, "failed_logins", json_object_new_int(rows[i].failed_logins));
        json_object_object_add(u, "locked", json_object_new_boolean(rows[i].locked));
        json_object_array_add(list, u);
    }
    json_object *o = json_object_new_object();
    json_object_object_add(o, "users", list);
    json_object_object_add(o, "count", json_object_new_int(n));
    return http_send_json(r, 200, o);
}

int handle_admin_users_create(http_req *r)
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

int handle_admin_users_update(http_req *r)
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

    struct audit_client client = client_of(r);
    struct users_update change = {rc_role > 0 ? role : NULL, rc_dis > 0 ? disabled : -1};
    struct users_user user;
    const PGresult *db_res;
    switch (
        users_update(r->pool, &client, r->user.id, r->user.email, id, &change, &user, &db_res)) {
    case USERS_OK:
        break;
    case USERS_NOT_FOUND:
        return http_error(r, 404, "not_found", "No such user");
    default:
        return routes_db_error(r, db_res);
    }
    json_object *o = json_object_new_object();
    json_object_object_add(o, "user", user_json(&user));
    return http_send_json(r, 200, o);
}
