/*
 * Accounts: registration, login (JSON and the browser's form), logout, password change, and the
 * administrators' user management. The handlers validate input, call one use case of
 * app/store/users.c (which writes every state change with its audit event in one transaction),
 * issue tokens and cookies, and map the outcome to the response.
 *
 * Login costs one Argon2id verify (about 75 ms) whether or not the email exists, so response time
 * does not tell an attacker which addresses have accounts; too many failures are answered 429
 * login_throttled with Retry-After, the same for any email, known or not. /login and /register
 * are routed by nginx to the low-priority login pool, so hashing never starves the rest of the
 * API. Validation agrees with the table's CHECKs: a name is trimmed and counted in characters, as
 * PostgreSQL's char_length counts, before it is stored.
 */
#include "routes.h"
#include "users.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include <time.h>

#include "auth.h"
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

/* Who the audit trail (and the login throttle) records as the client of this request. Under
 * TEST_ROUTES only, X-Test-Client-Addr stands in for the address, so the tests can act as clients
 * on other hosts. */
static struct audit_client client_of(http_req *r)
{
    struct audit_client c = {r->remote_addr, r->user_agent};
    const char *fake = config_get()->test_routes ? http_param(r, "HTTP_X_TEST_CLIENT_ADDR") : NULL;
    if (fake != NULL && fake[0] != '\0' && strlen(fake) <= 64)
        c.addr = fake;
    return c;
}

/* Validates a password for role into fields; 1 when it fits. */
static int check_password(json_object *fields, const char *field, enum role role,
                          const char *password)
{
    if (auth_password_check(role, password))
        return 1;
    char msg[64];
    snprintf(msg, sizeof(msg), "must be %d to %d bytes long", auth_password_min(role),
             AUTH_PASSWORD_MAX);
    js_field_error(fields, field, msg);
    return 0;
}

/* Validates name, email and password of a new account of role into fields; *name becomes the
 * trimmed name that is stored. */
static void check_account(http_req *r, enum role role, const char **name, const char **email,
                          const char **password, json_object *fields)
{
    json_object *body = r->json;
    int rc = js_string(body, "name", 400, name, fields);
    if (rc > 0) {
        /* Stored trimmed, and counted in characters as the table's CHECK counts them. */
        const char *start;
        size_t n = val_trim(*name, &start);
        *name = arena_strndup(r->pool, start, n);
    }
    long chars = rc > 0 && *name != NULL ? val_utf8_chars(*name) : -1;
    if (rc == 0)
        js_field_error(fields, "name", "is required");
    else if (rc > 0 && (*name == NULL || !val_name(*name) || chars < 3 || chars > 100))
        js_field_error(fields, "name", "must be 3 to 100 characters and contain a letter");
    rc = js_string(body, "email", 254, email, fields);
    if (rc == 0)
        js_field_error(fields, "email", "is required");
    else if (rc > 0 && !val_email(*email))
        js_field_error(fields, "email", "must be a valid email address");
    rc = js_string(body, "password", 1024, password, fields);
    if (rc == 0)
        js_field_error(fields, "password", "is required");
    else if (rc > 0)
        check_password(fields, "password", role, *password);
}

/* The answer to a throttled attempt: 429 login_throttled with Retry-After, the same for every
 * email. */
static void retry_after(http_req *r, long long seconds)
{
    char ra[24];
    snprintf(ra, sizeof(ra), "%lld", seconds > 0 ? seconds : 1);
    http_add_header(r, "Retry-After", ra);
}

static int send_throttled(http_req *r, long long seconds)
{
    retry_after(r, seconds);
    return http_error(r, 429, "login_throttled",
                      "Too many failed attempts from here or for this account; wait and retry");
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
    check_account(r, auth_role_from_name(role), &name, &email, &password, fields);
    if (json_object_object_length(fields) > 0)
        return validation_failed(r, fields);
    json_object_put(fields);

    struct audit_client client = client_of(r);
    struct users_user user;
    const PGresult *db_res;
    long long wait = 0;
    switch (users_create(r->pool, &client, r->user.id, r->user.email, name, email, password, role,
                         action, &user, &wait, &db_res)) {
    case USERS_OK:
        break;
    case USERS_THROTTLED:
        retry_after(r, wait);
        return http_error(r, 429, "register_throttled",
                          "Too many registrations of existing emails from here; wait and retry");
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
    case USERS_THROTTLED:
        return send_throttled(r, lr.login.retry_after);
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

/* Revokes the current token until it expires (PostgreSQL, with the audit row). 0 or -1. */
static int revoke_current(http_req *r)
{
    struct audit_client client = client_of(r);
    return users_logout(r->pool, &client, r->user.id, r->user.email, r->user.jti, r->user.exp) ==
                   USERS_OK
               ? 0
               : -1;
}

int handle_auth_logout(http_req *r)
{
    if (revoke_current(r) != 0)
        return routes_db_error(r, NULL);
    json_object *o = json_object_new_object();
    json_object_object_add(o, "message", json_object_new_string("Logged out"));
    return http_send_json(r, 200, o);
}

/* POST /me/password {current_password, new_password}: any signed-in user. Every token of the
 * user stops working; the answer carries a fresh one. */
int handle_me_password_update(http_req *r)
{
    if (body_required(r))
        return r->status;
    const char *current = NULL, *next = NULL;
    json_object *fields = json_object_new_object();
    if (js_string(r->json, "current_password", 1024, &current, fields) == 0)
        js_field_error(fields, "current_password", "is required");
    int rc = js_string(r->json, "new_password", 1024, &next, fields);
    if (rc == 0)
        js_field_error(fields, "new_password", "is required");
    else if (rc > 0)
        check_password(fields, "new_password", r->user.role, next);
    if (json_object_object_length(fields) == 0 && current && next && !strcmp(current, next))
        js_field_error(fields, "new_password", "must differ from the current password");
    if (json_object_object_length(fields) > 0)
        return validation_failed(r, fields);
    json_object_put(fields);

    char id[24];
    snprintf(id, sizeof(id), "%lld", r->user.id);
    struct audit_client client = client_of(r);
    struct users_user user;
    int version = 0;
    const PGresult *db_res;
    switch (users_change_password(r->pool, &client, r->user.id, r->user.email, id, NULL, current,
                                  next, &user, &version, &db_res)) {
    case USERS_OK:
        break;
    case USERS_BAD_LOGIN:
        fields = json_object_new_object();
        js_field_error(fields, "current_password", "is not your current password");
        return http_error_fields(r, 403, "invalid_credentials", "The current password is wrong",
                                 fields);
    case USERS_WEAK_PASSWORD:
        fields = json_object_new_object();
        check_password(fields, "new_password", auth_role_from_name(user.role), next);
        return validation_failed(r, fields);
    case USERS_NOT_FOUND:
        return http_error(r, 401, "unauthorized", "The account no longer exists");
    case USERS_NO_MEMORY:
        return http_fault(r, "password hashing failed (out of memory)");
    default:
        return routes_db_error(r, db_res);
    }
    const char *token, *jti;
    json_object *o = json_object_new_object();
    json_object_object_add(o, "message", json_object_new_string("Password changed"));
    if (auth_issue_token(r, user.id, user.email, auth_role_from_name(user.role), version, &token,
                         &jti) == 0) {
        json_object_object_add(o, "token", json_object_new_string(token));
        json_object_object_add(o, "token_type", json_object_new_string("Bearer"));
        json_object_object_add(o, "expires_in", json_object_new_int64(config_get()->jwt_ttl));
    }
    http_add_header(r, "Cache-Control", "no-store");
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
    case USERS_THROTTLED:
        retry_after(r, lr.login.retry_after);
        return render_login(r, 429, "Too many failed attempts: wait a little and try again.", email,
                            next);
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
        return routes_db_error(r, NULL);
    const char *secure = config_get()->cookie_secure ? "; Secure" : "";
    http_add_header(r, "Set-Cookie",
                    arena_printf(r->pool, "%s=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0%s",
                                 AUTH_COOKIE, secure));
    http_add_header(r, "Set-Cookie",
                    arena_printf(r->pool, "%s=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0%s",
                                 AUTH_SEEN_COOKIE, secure));
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
    case USERS_WEAK_PASSWORD:
        fields = json_object_new_object();
        js_field_error(fields, "role",
                       "needs a password of at least 12 bytes: the user must change theirs first");
        return http_error_fields(r, 409, "conflict", "The user's password is too short for staff",
                                 fields);
    default:
        return routes_db_error(r, db_res);
    }
    json_object *o = json_object_new_object();
    json_object_object_add(o, "user", user_json(&user));
    return http_send_json(r, 200, o);
}
