/*
 * Authentication and authorisation: Argon2id password hashes (libsodium), HS256 JWTs (libjwt),
 * the role check the route table asks for (with the user's current role, version and revocation
 * read from PostgreSQL, cached per worker for a few seconds), the session cookie for pages with
 * its idle timeout for staff, the CSRF token of forms, the password length rule and the keyed
 * hash of emails the login throttle counts under. Everything secret comes from the
 * configuration; nothing here logs a token or password.
 */
#ifndef LOANFLOW_AUTH_H
#define LOANFLOW_AUTH_H

#include <stddef.h>

#include "db.h"
#include "http.h"

#define AUTH_COOKIE      "lf_session"
#define AUTH_CSRF_COOKIE "lf_csrf"
#define AUTH_SEEN_COOKIE "lf_seen" /* staff sessions: "<last request time>.<hmac>" */
#define AUTH_HASH_MAX    128       /* crypto_pwhash_STRBYTES */

#define AUTH_PASSWORD_MIN       8   /* applicants, bytes */
#define AUTH_STAFF_PASSWORD_MIN 12  /* officers and admins, bytes */
#define AUTH_PASSWORD_MAX       128 /* bytes */
#define AUTH_EMAIL_KEY_LEN      32  /* hex digits of auth_email_key */

/* Called by the master before it forks: maps the revocation epoch shared by every worker. */
int auth_shared_init(void) __attribute__((warn_unused_result));
/* Per-worker set-up: empties the verified-token cache. */
void auth_worker_init(void);
/* Tells every worker on this host to re-check cached tokens (after a logout, a role change or a
 * disable has been recorded). */
void auth_bump_epoch(void);

/*
 * Runs the route's access rule before its handler: public routes pass; others need a valid token
 * (Bearer header, or the session cookie for GET pages and CSRF-checked forms) whose role reaches
 * the route's. Returns 0 to go on, or the status of the response it sent (401, 403, 303, 503).
 */
int auth_authorize(http_req *r);

/* Checks the CSRF token of a form against the session; 0 ok, or the status sent (403). */
int auth_check_csrf(http_req *r);
/* The CSRF token of the current session, for embedding in forms (arena string). */
const char *auth_csrf_token(http_req *r);

/* Issues a token carrying the user's token version. *token and *jti are arena strings.
 * Returns 0 or -1. */
int auth_issue_token(http_req *r, long long user_id, const char *email, enum role role, int version,
                     const char **token, const char **jti) __attribute__((warn_unused_result));

/* The shortest password a role may have (bytes), and whether password fits role's rule (that
 * minimum to AUTH_PASSWORD_MAX bytes): 1 or 0. */
int auth_password_min(enum role role);
int auth_password_check(enum role role, const char *password);
/* The idle rule: 1 when a session last used at last_seen has been idle for more than
 * idle_seconds at now (never when idle_seconds is 0). Pure. */
int auth_idle_expired(long long last_seen, long long now, long idle_seconds);
/* A keyed hash (HMAC-SHA-256 under a key derived from secret, truncated) of the ASCII-lower-cased
 * email, as AUTH_EMAIL_KEY_LEN hex digits: the login throttle's key, the same for an unknown
 * email as for a known one, and no email in the table. 0, or -1 without memory. */
int auth_email_key(const char *secret, const char *email, char out[AUTH_EMAIL_KEY_LEN + 1]);

/* Argon2id at INTERACTIVE limits. out must hold AUTH_HASH_MAX bytes. 0 or -1 (ENOMEM). */
int auth_hash_password(const char *password, char out[AUTH_HASH_MAX])
    __attribute__((warn_unused_result));
/* 1 when password matches hash; 0 otherwise. With hash NULL, verifies against a dummy hash so
 * that an unknown account costs the same time as a wrong password, and returns 0. */
int auth_verify_password(const char *hash, const char *password);
int auth_needs_rehash(const char *hash);

enum role auth_role_from_name(const char *name); /* -1 cast when unknown */
int auth_role_valid(const char *name);

/* Decodes and verifies a token against secret and issuer (pure; used by the unit tests).
 * On success fills *u (strings in the arena) and returns 0; -1 otherwise with *why set. */
int auth_verify_token(arena *a, const char *token, const char *secret, const char *issuer,
                      long long now, struct auth_user *u, const char **why);

/* The token layer's statements, for db_init. */
extern const struct db_stmts auth_statements;

#endif
