/*
 * One request and its one response. The worker fills a struct http_req from the FastCGI
 * parameters, the shared checks run, the handler answers through exactly one of the http_send*
 * or http_error* functions, and everything allocated for the request lives in r->pool.
 */
#ifndef LOANFLOW_HTTP_H
#define LOANFLOW_HTTP_H

#include <json-c/json.h>
#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "router.h"

struct FCGX_Request;

struct http_header {
    struct http_header *next;
    const char *name;
    const char *value;
};

struct http_kv {
    const char *key;
    const char *value;
};

struct auth_user {
    long long id;
    enum role role;
    const char *email; /* arena */
    const char *jti;   /* arena */
    long long exp;
    long long iat;
    long long version; /* the user's token_version when the token was issued */
    int from_cookie;   /* authenticated by the session cookie (pages, forms) */
};

typedef struct http_req {
    struct FCGX_Request *fcgi; /* borrowed; NULL in unit tests */
    arena *pool;               /* borrowed; reset after the response */
    const char *method, *path, *query, *content_type, *request_id, *remote_addr, *user_agent;
    char *body; /* arena, NUL-terminated; NULL when there is none */
    size_t body_len;
    json_object *json; /* parsed JSON body, owned through the arena; NULL when none */
    const struct route *route;
    struct route_param params[ROUTE_MAX_PARAMS];
    int nparams;
    struct http_kv *qs; /* decoded query string, lazily */
    int nqs;
    struct http_kv *form; /* decoded urlencoded form body, for ROUTE_FORM */
    int nform;
    struct auth_user user; /* user.id == 0 when anonymous */
    /* response state */
    struct http_header *headers;
    int status;
    size_t bytes;
    int responded;
    const char *error_detail; /* logged, never sent */
    long auth_us;             /* token verification time, -1 when none ran */
    long identity_us;         /* submit: identity validators, providers and scorecard, or -1 */
} http_req;

/* A FastCGI parameter such as "HTTP_COOKIE", or NULL. Borrowed. */
const char *http_param(http_req *r, const char *name);
/* Route parameter i as a NUL-terminated arena string. */
const char *http_route_param(http_req *r, int i);

/* Decoded query parameter, or NULL when absent; "" for a key without value. Borrowed (arena).
 * Returns NULL and sets *bad when the query string is malformed, if bad is non-NULL. */
const char *http_query(http_req *r, const char *key);
/* 0 when the whole query string decodes, -1 on a malformed escape. */
int http_query_valid(http_req *r);
const char *http_form(http_req *r, const char *key);

/*
 * Percent-decodes in[0..len) into out (which must hold len + 1 bytes). With plus_space, '+'
 * becomes a space (query strings and forms). Returns the decoded length, or -1 on a malformed
 * escape or an encoded NUL byte.
 */
long http_url_decode(const char *in, size_t len, char *out, int plus_space);
/* Splits and decodes an application/x-www-form-urlencoded string into arena pairs. Returns the
 * number of pairs, or -1 on a malformed escape. */
int http_parse_urlencoded(arena *a, const char *s, struct http_kv **out);

/*
 * Adds a response header (both strings copied into the arena). The one place headers are added,
 * so the one place that keeps a response from being split: a name that is not an HTTP token, or
 * a value holding a control byte (CR, LF, NUL, any byte below 0x20 or 0x7f), is refused and
 * logged, and the header is not added. Returns 0, or -1 when refused (or out of memory).
 */
int http_add_header(http_req *r, const char *name, const char *value);
/* 1 when value may be sent as a header value (no control byte), else 0. */
int http_header_value_ok(const char *value);
/* Percent-encodes s for a query parameter or a path: every byte but A-Z a-z 0-9 - . _ ~ and /
 * becomes %XX. Arena string; "" when out of memory. */
const char *http_url_encode(arena *a, const char *s);
/* Sends status, headers and body. Returns status. */
int http_send(http_req *r, int status, const char *content_type, const char *body, size_t len);
/* Sends a JSON document; takes ownership of o. Returns status. */
int http_send_json(http_req *r, int status, json_object *o);
/* Sends a cacheable JSON text (borrowed) with an ETag of its content and the given
 * Cache-Control, or 304 when If-None-Match already holds it. Returns status. */
int http_send_json_etag(http_req *r, const char *json, const char *cache_control);
/* The one error shape: {"error":{"status","code","message","fields"?}}. Takes ownership of
 * fields (may be NULL). Returns status. */
int http_error_fields(http_req *r, int status, const char *code, const char *message,
                      json_object *fields);
int http_error(http_req *r, int status, const char *code, const char *message);
/* A genuine server fault: logs detail with the request id, sends a 500 without internals. */
int http_fault(http_req *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* 303 redirect for pages and forms. A location http_add_header refuses (a control byte) is
 * logged and replaced by "/": the response is never split. */
int http_redirect(http_req *r, const char *location);

const char *http_reason(int status);

/* Reads a cookie value from the Cookie header into the arena; NULL when absent. */
const char *http_cookie(http_req *r, const char *name);

#endif
