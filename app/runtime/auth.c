/*
 * Tokens are HS256 only: after libjwt's decode we insist that the header said HS256, so a token
 * claiming "none" or any other algorithm is refused whatever libjwt would have accepted.
 *
 * A valid signature is not enough: PostgreSQL is the source of truth for who the caller is now.
 * One statement reads the user's current role, disabled flag and token version together with
 * whether the token's jti was revoked (logout); the request's role is the database's, never the
 * claim's, so a forged or stale "role": "admin" grants nothing. The answer is cached in each
 * worker, keyed by the token, for at most CACHE_SECONDS and only while both the host's data
 * epoch (mapped by loanctl too) and this master's revocation epoch are unchanged: a demotion,
 * disable, password change or logout made on this host takes effect at once, one made on
 * another host within CACHE_SECONDS, whether or not Redis is up (Redis holds no part of it, so a
 * flush or restart cannot bring a revoked token back).
 *
 * Signed-in staff (officers, admins) using the browser's session cookie also have an idle
 * timeout (SESSION_IDLE_SECONDS): the lf_seen cookie carries the time of the last request, with
 * an HMAC over the session's jti, and is renewed as requests come.
 */
#include "auth.h"

#include <errno.h>
#include <jwt.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <time.h>

/* The one statement of the token layer: the account's current role, disabled flag and token
 * version (a role change, disable or password change bumps it and so cuts older tokens), and
 * whether this token was logged out. */
/* clang-format off */
static const struct db_stmt state_sql = {"auth_user_state",
    "SELECT role, disabled, token_version, "
    "EXISTS (SELECT 1 FROM revoked_tokens WHERE jti = $2) FROM users WHERE id = $1::bigint"};
/* clang-format on */
const struct db_stmts auth_statements = {"auth", &state_sql, 1};

#include "config.h"
#include "db.h"
#include "epoch.h"
#include "log.h"

static char dummy_hash[AUTH_HASH_MAX];

/*
 * Verified-token cache. Checking a token costs an HMAC, a JSON parse and a PostgreSQL round trip;
 * an API client sends the same token again and again, so each worker remembers the tokens it has
 * accepted, with the role the database gave. A remembered token is trusted only while the
 * revocation epoch (memory shared by every worker of this master, bumped by each logout, role
 * change or disable) and the host epoch (EPOCH_FILE, which loanctl bumps too) are unchanged, and
 * for at most CACHE_SECONDS, which bounds how long a change made through another host may go
 * unseen.
 */
#define CACHE_SLOTS   256
#define CACHE_SECONDS 5

struct cached_token {
    unsigned char digest[16]; /* BLAKE2b of the whole token string */
    unsigned long epoch, host_epoch;
    time_t checked_at;
    long long id, exp, iat, version;
    enum role role;
    char email[256];
    char jti[40];
};

static struct cached_token token_cache[CACHE_SLOTS];
static volatile unsigned long *shared_epoch;

int auth_shared_init(void)
{
    void *p = mmap(NULL, sizeof(unsigned long), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
                   -1, 0);
    if (p == MAP_FAILED)
        return -1;
    shared_epoch = p;
    *shared_epoch = 1;
    return 0;
}

void auth_bump_epoch(void)
{
    if (shared_epoch != NULL)
        __atomic_add_fetch(shared_epoch, 1, __ATOMIC_SEQ_CST);
    epoch_bump(); /* the host's: reaches workers of other masters on this host, and loanctl's */
}

static unsigned long current_epoch(void)
{
    return shared_epoch ? __atomic_load_n(shared_epoch, __ATOMIC_ACQUIRE) : 0;
}

void auth_worker_init(void)
{
    memset(token_cache, 0, sizeof(token_cache));
}

static const char *role_names[] = {"public", "applicant", "officer", "admin"};

enum role auth_role_from_name(const char *name)
{
    for (int i = 1; i < 4; i++)
        if (name && !strcmp(name, role_names[i]))
            return (enum role)i;
    return (enum role) - 1;
}

int auth_role_valid(const char *name)
{
    return (int)auth_role_from_name(name) > 0;
}

int auth_hash_password(const char *password, char out[AUTH_HASH_MAX])
{
    return crypto_pwhash_str(out, password, strlen(password), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                             crypto_pwhash_MEMLIMIT_INTERACTIVE);
}

int auth_verify_password(const char *hash, const char *password)
{
    if (hash == NULL) {
        if (dummy_hash[0] == '\0' && auth_hash_password("not-a-real-password", dummy_hash) != 0)
            return 0;
        if (crypto_pwhash_str_verify(dummy_hash, password, strlen(password)) == 0)
            return 0; /* cannot happen: nobody knows the dummy's password */
        return 0;
    }
    return crypto_pwhash_str_verify(hash, password, strlen(password)) == 0;
}

int auth_needs_rehash(const char *hash)
{
    return crypto_pwhash_str_needs_rehash(hash, crypto_pwhash_OPSLIMIT_INTERACTIVE,
                                          crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0;
}

int auth_verify_token(arena *a, const char *token, const char *secret, const char *issuer,
                      long long now, struct auth_user *u, const char **why)
{
    jwt_t *jwt = NULL;
    int rc = -1;
    memset(u, 0, sizeof(*u));
    if (strlen(token) > 4096) {
        *why = "token too long";
        return -1;
    }
    if (jwt_decode(&jwt, token, (const unsigned char *)secret, (int)strlen(secret)) != 0 ||
        jwt == NULL) {
        *why = "token signature or format invalid";
        goto out;
    }
    if (jwt_get_alg(jwt) != JWT_ALG_HS256) {
        *why = "token algorithm not HS256";
        goto out;
    }
    errno = 0;
    long exp = jwt_get_grant_int(jwt, "exp");
    if (errno != 0) {
        *why = "token has no expiry";
        goto out;
    }
    if (exp <= now) {
        *why = "token expired";
        goto out;
    }
    const char *iss = jwt_get_grant(jwt, "iss");
    if (iss == NULL || strcmp(iss, issuer) != 0) {
        *why = "token issuer not accepted";
        goto out;
    }
    const char *sub = jwt_get_grant(jwt, "sub");
    const char *role = jwt_get_grant(jwt, "role");
    const char *jti = jwt_get_grant(jwt, "jti");
    const char *email = jwt_get_grant(jwt, "email");
    char *end;
    long long id = sub ? strtoll(sub, &end, 10) : 0;
    if (sub == NULL || *end != '\0' || id <= 0 || jti == NULL || email == NULL ||
        !auth_role_valid(role)) {
        *why = "token claims incomplete";
        goto out;
    }
    errno = 0;
    long iat = jwt_get_grant_int(jwt, "iat");
    if (errno != 0) {
        *why = "token has no issue time";
        goto out;
    }
    errno = 0;
    long ver = jwt_get_grant_int(jwt, "ver");
    if (errno != 0 || ver < 1) {
        *why = "token has no version";
        goto out;
    }
    u->id = id;
    u->role = auth_role_from_name(role);
    u->jti = arena_strdup(a, jti);
    u->email = arena_strdup(a, email);
    u->exp = exp;
    u->iat = iat;
    u->version = ver;
    rc = 0;
out:
    jwt_free(jwt);
    return rc;
}

int auth_issue_token(http_req *r, long long user_id, const char *email, enum role role, int version,
                     const char **token, const char **jti)
{
    const struct config *cfg = config_get();
    unsigned char rnd[16];
    char jti_hex[33], sub[24];
    randombytes_buf(rnd, sizeof(rnd));
    sodium_bin2hex(jti_hex, sizeof(jti_hex), rnd, sizeof(rnd));
    snprintf(sub, sizeof(sub), "%lld", user_id);
    long now = (long)time(NULL);
    jwt_t *jwt = NULL;
    if (jwt_new(&jwt) != 0)
        return -1;
    int rc = jwt_add_grant(jwt, "sub", sub) || jwt_add_grant(jwt, "email", email) ||
             jwt_add_grant(jwt, "role", role_names[role]) ||
             jwt_add_grant(jwt, "iss", cfg->jwt_issuer) || jwt_add_grant(jwt, "jti", jti_hex) ||
             jwt_add_grant_int(jwt, "iat", now) || jwt_add_grant_int(jwt, "ver", version) ||
             jwt_add_grant_int(jwt, "exp", now + cfg->jwt_ttl) ||
             jwt_set_alg(jwt, JWT_ALG_HS256, (const unsigned char *)cfg->jwt_secret,
                         (int)strlen(cfg->jwt_secret));
    char *s = rc ? NULL : jwt_encode_str(jwt);
    jwt_free(jwt);
    if (s == NULL)
        return -1;
    *token = arena_strdup(r->pool, s);
    *jti = arena_strdup(r->pool, jti_hex);
    free(s);
    return 0;
}

static int deny(http_req *r, int status, const char *why)
{
    if (r->route->flags & ROUTE_PAGE && status == 401) {
        const char *next = http_url_encode(r->pool, r->path ? r->path : "/");
        char *loc = arena_printf(r->pool, "/login?next=%s", next[0] == '/' ? next : "/");
        return http_redirect(r, loc);
    }
    if (status == 401) {
        http_add_header(r, "WWW-Authenticate", "Bearer realm=\"loanflow\"");
        return http_error(r, 401, "unauthorized", why);
    }
    if (r->route->flags & ROUTE_PAGE) {
        static const char page[] =
            "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta "
            "name=\"viewport\" "
            "content=\"width=device-width, initial-scale=1\"><title>Not allowed · Loanflow</title>"
            "<link rel=\"stylesheet\" href=\"/static/css/app.css\"></head><body><main><section "
            "class=\"card narrow\"><h1>Not allowed</h1><p>Your role does not allow this page. "
            "Officers and administrators use the dashboard; applicants use the API.</p>"
            "<p><a href=\"/login\">Sign in as someone else</a></p></section></main></body></html>";
        return http_send(r, 403, "text/html; charset=utf-8", page, sizeof(page) - 1);
    }
    return http_error(r, 403, "forbidden", why);
}

static const char *bearer(http_req *r)
{
    const char *h = http_param(r, "HTTP_AUTHORIZATION");
    if (h == NULL)
        return NULL;
    if (strncasecmp(h, "Bearer ", 7) != 0)
        return "";
    h += 7;
    while (*h == ' ')
        h++;
    return h;
}

/*
 * Is the token still good, and who is its user now? Reads PostgreSQL (see the top of the file):
 * a revoked jti, a disabled account, an unknown user or a token issued under an older version
 * is refused; otherwise the request's role becomes the database's. 1 good, 0 not, -1 when the
 * database cannot tell.
 */
static int token_current(http_req *r)
{
    char id[24];
    snprintf(id, sizeof(id), "%lld", r->user.id);
    const char *p[2] = {id, r->user.jti};
    PGresult *res = db_exec(r->pool, &state_sql, 2, p);
    if (res == NULL || PQresultStatus(res) != PGRES_TUPLES_OK)
        return -1;
    if (PQntuples(res) != 1)
        return 0;
    enum role role = auth_role_from_name(PQgetvalue(res, 0, 0));
    if ((int)role <= 0 || PQgetvalue(res, 0, 1)[0] == 't' || PQgetvalue(res, 0, 3)[0] == 't')
        return 0;
    if (r->user.version < atoll(PQgetvalue(res, 0, 2)))
        return 0;
    r->user.role = role;
    return 1;
}

int auth_password_min(enum role role)
{
    return role >= ROLE_OFFICER ? AUTH_STAFF_PASSWORD_MIN : AUTH_PASSWORD_MIN;
}

int auth_password_check(enum role role, const char *password)
{
    size_t n = password ? strlen(password) : 0;
    return n >= (size_t)auth_password_min(role) && n <= AUTH_PASSWORD_MAX;
}

int auth_idle_expired(long long last_seen, long long now, long idle_seconds)
{
    return idle_seconds > 0 && now - last_seen > idle_seconds;
}

/* The key of the session MACs (lf_seen), derived from the JWT secret like the CSRF key. */
static void seen_mac(const char *jti, long long ts, char out[33])
{
    const struct config *cfg = config_get();
    unsigned char key[crypto_auth_hmacsha256_KEYBYTES], mac[crypto_auth_hmacsha256_BYTES];
    crypto_generichash(key, sizeof(key), (const unsigned char *)cfg->jwt_secret,
                       strlen(cfg->jwt_secret), (const unsigned char *)"loanflow-seen", 13);
    char msg[96];
    int n = snprintf(msg, sizeof(msg), "%s|%lld", jti, ts);
    crypto_auth_hmacsha256(mac, (const unsigned char *)msg, (unsigned long long)n, key);
    sodium_bin2hex(out, 33, mac, 16);
}

/* When the session was last used: lf_seen's time when its MAC is right, else the token's issue
 * time (a session that never sent one). */
static long long session_last_seen(http_req *r)
{
    const char *v = http_cookie(r, AUTH_SEEN_COOKIE);
    if (v != NULL) {
        char *end;
        long long ts = strtoll(v, &end, 10);
        char want[33];
        if (*end == '.' && ts > 0 && strlen(end + 1) == 32) {
            seen_mac(r->user.jti, ts, want);
            if (sodium_memcmp(want, end + 1, 32) == 0 && ts >= r->user.iat)
                return ts;
        }
    }
    return r->user.iat;
}

/* The clock of the idle rule: now, moved by X-Test-Clock-Skew (seconds) under TEST_ROUTES only,
 * so the tests can let a session age without waiting. */
static long long idle_clock(http_req *r, time_t now)
{
    if (!config_get()->test_routes)
        return (long long)now;
    const char *skew = http_param(r, "HTTP_X_TEST_CLOCK_SKEW");
    return (long long)now + (skew ? atoll(skew) : 0);
}

/* The idle rule of staff cookie sessions: 0 to go on (lf_seen renewed when a minute old), or 1
 * when the session has been idle too long. */
static int session_idle_check(http_req *r, time_t now)
{
    long idle = config_get()->session_idle_seconds;
    if (!r->user.from_cookie || r->user.role < ROLE_OFFICER || idle <= 0)
        return 0;
    long long clock = idle_clock(r, now);
    long long seen = session_last_seen(r);
    if (auth_idle_expired(seen, clock, idle))
        return 1;
    if (clock - seen >= 60) {
        char mac[33];
        seen_mac(r->user.jti, clock, mac);
        http_add_header(r, "Set-Cookie",
                        arena_printf(r->pool, "%s=%lld.%s; HttpOnly; SameSite=Strict; Path=/%s",
                                     AUTH_SEEN_COOKIE, clock, mac,
                                     config_get()->cookie_secure ? "; Secure" : ""));
    }
    return 0;
}

int auth_authorize(http_req *r)
{
    const struct config *cfg = config_get();
    enum role need = r->route->role;
    if (need == ROLE_PUBLIC)
        return 0;
    const char *tok = bearer(r);
    int from_cookie = 0;
    if (tok == NULL) {
        /* The cookie authenticates only reads and CSRF-checked forms, never JSON writes. */
        int safe = !strcmp(r->method, "GET") || !strcmp(r->method, "HEAD") ||
                   (r->route->flags & ROUTE_FORM);
        if (safe)
            tok = http_cookie(r, AUTH_COOKIE);
        from_cookie = 1;
    }
    if (tok == NULL || tok[0] == '\0')
        return deny(r, 401, "Authentication required: send Authorization: Bearer <token>");
    time_t now = time(NULL);
    unsigned char digest[16];
    crypto_generichash(digest, sizeof(digest), (const unsigned char *)tok, strlen(tok), NULL, 0);
    struct cached_token *ct = &token_cache[digest[0]];
    unsigned long epoch = current_epoch(), host_epoch = epoch_get();
    if (shared_epoch != NULL && !memcmp(ct->digest, digest, sizeof(digest)) && ct->epoch == epoch &&
        ct->host_epoch == host_epoch && now - ct->checked_at < CACHE_SECONDS && ct->exp > now) {
        r->user.id = ct->id;
        r->user.role = ct->role;
        r->user.email = ct->email;
        r->user.jti = ct->jti;
        r->user.exp = ct->exp;
        r->user.iat = ct->iat;
        r->user.version = ct->version;
        r->user.from_cookie = from_cookie;
        goto authorised;
    }
    const char *why = NULL;
    if (auth_verify_token(r->pool, tok, cfg->jwt_secret, cfg->jwt_issuer, (long long)now, &r->user,
                          &why) != 0) {
        memset(&r->user, 0, sizeof(r->user));
        return deny(r, 401, "The token is invalid or has expired");
    }
    r->user.from_cookie = from_cookie;
    int cur = token_current(r);
    if (cur < 0) {
        memset(&r->user, 0, sizeof(r->user));
        return http_error(r, 503, "service_unavailable",
                          "Sessions cannot be checked right now; try again shortly");
    }
    if (cur == 0) {
        memset(&r->user, 0, sizeof(r->user));
        return deny(r, 401, "The token has been revoked; log in again");
    }
    if (strlen(r->user.email) < sizeof(ct->email) && strlen(r->user.jti) < sizeof(ct->jti)) {
        memcpy(ct->digest, digest, sizeof(digest));
        ct->epoch = epoch; /* read before the check: a revocation during it invalidates */
        ct->host_epoch = host_epoch;
        ct->checked_at = now;
        ct->id = r->user.id;
        ct->role = r->user.role;
        ct->exp = r->user.exp;
        ct->iat = r->user.iat;
        ct->version = r->user.version;
        memcpy(ct->email, r->user.email, strlen(r->user.email) + 1);
        memcpy(ct->jti, r->user.jti, strlen(r->user.jti) + 1);
    }
authorised:
    if (session_idle_check(r, now)) {
        memset(&r->user, 0, sizeof(r->user));
        return deny(r, 401, "The session has been idle too long; sign in again");
    }
    if (r->user.role < need)
        return deny(r, 403, "Your role does not allow this action");
    return 0;
}

int auth_email_key(const char *secret, const char *email, char out[AUTH_EMAIL_KEY_LEN + 1])
{
    unsigned char key[crypto_auth_hmacsha256_KEYBYTES], mac[crypto_auth_hmacsha256_BYTES];
    crypto_generichash(key, sizeof(key), (const unsigned char *)secret, strlen(secret),
                       (const unsigned char *)"loanflow-email", 14);
    size_t n = strlen(email);
    char *lower = malloc(n + 1);
    if (lower == NULL)
        return -1;
    for (size_t i = 0; i <= n; i++)
        lower[i] = (email[i] >= 'A' && email[i] <= 'Z') ? (char)(email[i] + 32) : email[i];
    crypto_auth_hmacsha256(mac, (const unsigned char *)lower, n, key);
    free(lower);
    sodium_bin2hex(out, AUTH_EMAIL_KEY_LEN + 1, mac, AUTH_EMAIL_KEY_LEN / 2);
    return 0;
}

const char *auth_csrf_token(http_req *r)
{
    const struct config *cfg = config_get();
    if (r->user.jti == NULL)
        return "";
    unsigned char key[crypto_auth_hmacsha256_KEYBYTES];
    unsigned char mac[crypto_auth_hmacsha256_BYTES];
    /* A key of its own for CSRF, derived from the JWT secret. */
    crypto_generichash(key, sizeof(key), (const unsigned char *)cfg->jwt_secret,
                       strlen(cfg->jwt_secret), (const unsigned char *)"loanflow-csrf", 13);
    crypto_auth_hmacsha256(mac, (const unsigned char *)r->user.jti, strlen(r->user.jti), key);
    char *out = arena_alloc(r->pool, 2 * 16 + 1);
    if (out == NULL)
        return "";
    sodium_bin2hex(out, 33, mac, 16);
    return out;
}

int auth_check_csrf(http_req *r)
{
    const char *sent = http_form(r, "csrf");
    /* Signed-in forms: an HMAC of the session. Anonymous forms (login, register): the value of
     * the lf_csrf cookie set with the page, which another site can neither read nor set. */
    const char *want = r->user.jti ? auth_csrf_token(r) : http_cookie(r, AUTH_CSRF_COOKIE);
    if (want == NULL)
        want = "";
    if (sent == NULL || want[0] == '\0' || strlen(sent) != strlen(want) ||
        sodium_memcmp(sent, want, strlen(want)) != 0)
        return http_error(r, 403, "csrf_failed",
                          "The form's security token is missing or stale; reload the page");
    return 0;
}
