/*
 * SIGTERM is blocked while a request is in hand and unblocked only around FCGX_Accept_r, so a
 * draining worker always finishes the request it has and never takes another: the signal either
 * interrupts the accept (FCGI_FAIL_ACCEPT_ON_INTR) or is seen before the next one. The handler
 * also calls FCGX_ShutdownPending so libfcgi itself stops before entering accept().
 */
#include "worker.h"

#include <errno.h>
#include <fcgiapp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "auth.h"
#include "cache.h"
#include "config.h"
#include "db.h"
#include "http.h"
#include "js.h"
#include "log.h"
#include "template.h"

static volatile sig_atomic_t stopping;

static void on_term(int sig)
{
    (void)sig;
    stopping = 1;
    FCGX_ShutdownPending();
}

static void json_put(void *o)
{
    json_object_put(o);
}

static int content_type_is(const char *ct, const char *want)
{
    if (ct == NULL)
        return 0;
    size_t n = strlen(want);
    return strncasecmp(ct, want, n) == 0 && (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ');
}

/* Reads the body announced by CONTENT_LENGTH. Returns 0, or the HTTP status that was sent. */
static int read_body(http_req *r)
{
    const struct config *cfg = config_get();
    const char *cl = http_param(r, "CONTENT_LENGTH");
    if (cl == NULL || cl[0] == '\0')
        return 0;
    char *end;
    errno = 0;
    unsigned long long len = strtoull(cl, &end, 10);
    if (errno || *end != '\0')
        return http_error(r, 400, "bad_request", "Content-Length is not a number");
    if (len == 0)
        return 0;
    if (len > cfg->max_body) {
        char discard[4096];
        while (FCGX_GetStr(discard, sizeof(discard), r->fcgi->in) > 0) {
        }
        char msg[96];
        snprintf(msg, sizeof(msg), "The request body is larger than the limit of %zu bytes",
                 cfg->max_body);
        return http_error(r, 413, "payload_too_large", msg);
    }
    r->body = arena_alloc(r->pool, (size_t)len + 1);
    if (r->body == NULL)
        return http_fault(r, "out of memory for a body of %llu bytes", len);
    int got = FCGX_GetStr(r->body, (int)len, r->fcgi->in);
    if (got < 0 || (unsigned long long)got != len)
        return http_error(r, 400, "bad_request", "The request body ended early");
    r->body[len] = '\0';
    r->body_len = (size_t)len;
    return 0;
}

static int parse_body(http_req *r)
{
    unsigned flags = r->route->flags;
    if (flags & ROUTE_FORM) {
        /* A form is checked for its CSRF token even when it arrives empty. */
        if (r->body_len > 0) {
            if (!content_type_is(r->content_type, "application/x-www-form-urlencoded"))
                return http_error(r, 415, "unsupported_media_type",
                                  "This form takes application/x-www-form-urlencoded");
            if (memchr(r->body, '\0', r->body_len) != NULL)
                return http_error(r, 400, "bad_request", "The form contains a NUL byte");
            r->nform = http_parse_urlencoded(r->pool, r->body, &r->form);
            if (r->nform < 0) {
                r->nform = 0;
                return http_error(r, 400, "bad_request", "The form is not correctly encoded");
            }
        }
        return auth_check_csrf(r);
    }
    if (r->body_len == 0)
        return 0;
    if (flags & ROUTE_JSON) {
        if (!content_type_is(r->content_type, "application/json"))
            return http_error(r, 415, "unsupported_media_type",
                              "Send the body as application/json");
        const char *why;
        json_object *o;
        if (js_parse(r->body, r->body_len, &o, &why) != 0)
            return http_error(r, 400, "invalid_json", why);
        arena_defer(r->pool, json_put, o);
        r->json = o;
    }
    return 0;
}

static void dispatch(http_req *r, const struct route *table)
{
    const struct config *cfg = config_get();
    char allow[64];
    enum route_result rr =
        router_match(table, r->method, r->path, cfg->test_routes ? 0 : ROUTE_TEST, &r->route,
                     r->params, &r->nparams, allow, sizeof(allow));
    if (rr == ROUTE_NOT_FOUND) {
        http_error(r, 404, "not_found", "No such resource");
        return;
    }
    if (rr == ROUTE_METHOD_NOT_ALLOWED) {
        http_add_header(r, "Allow", allow);
        http_error(r, 405, "method_not_allowed", "This resource does not support that method");
        return;
    }
    if (read_body(r) != 0)
        return;
    if (r->route->role != ROLE_PUBLIC) {
        struct timespec a0, a1;
        clock_gettime(CLOCK_MONOTONIC, &a0);
        int rc = auth_authorize(r);
        clock_gettime(CLOCK_MONOTONIC, &a1);
        r->auth_us = (a1.tv_sec - a0.tv_sec) * 1000000L + (a1.tv_nsec - a0.tv_nsec) / 1000;
        if (rc != 0)
            return;
    }
    if (parse_body(r) != 0)
        return;
    r->route->handler(r);
    if (!r->responded)
        http_fault(r, "handler for %s %s sent no response", r->method, r->route->pattern);
}

static void handle(FCGX_Request *fr, arena *pool, const struct route *table)
{
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    http_req r;
    memset(&r, 0, sizeof(r));
    r.fcgi = fr;
    r.pool = pool;
    r.auth_us = -1;
    r.identity_us = -1;
    r.method = http_param(&r, "REQUEST_METHOD");
    r.path = http_param(&r, "DOCUMENT_URI");
    if (r.path == NULL)
        r.path = http_param(&r, "SCRIPT_NAME");
    r.query = http_param(&r, "QUERY_STRING");
    r.content_type = http_param(&r, "CONTENT_TYPE");
    r.request_id = http_param(&r, "REQUEST_ID");
    r.remote_addr = http_param(&r, "REMOTE_ADDR");
    r.user_agent = http_param(&r, "HTTP_USER_AGENT");
    if (r.method == NULL || r.path == NULL)
        http_error(&r, 400, "bad_request", "The request has no method or path");
    else
        dispatch(&r, table);

    clock_gettime(CLOCK_MONOTONIC, &t1);
    struct log_request lr = {
        .request_id = r.request_id,
        .method = r.method,
        .path = r.path,
        .remote_addr = r.remote_addr,
        .status = r.status,
        .duration_us = (t1.tv_sec - t0.tv_sec) * 1000000L + (t1.tv_nsec - t0.tv_nsec) / 1000,
        .auth_us = r.auth_us,
        .identity_us = r.identity_us,
        .bytes = r.bytes,
        .user_id = r.user.id,
        .error_detail = r.error_detail,
    };
    log_request(&lr);
    /* A handler that left a transaction open must not leak it into the next request. */
    db_rollback();
}

int worker_run(int listen_fd, const struct route *table, const struct db_stmts *const *statements)
{
    const struct config *cfg = config_get();
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_term;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0; /* no SA_RESTART: the accept must be interrupted */
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGINT, SIG_IGN); /* Ctrl-C reaches the master, which drains us with SIGTERM */
    signal(SIGHUP, SIG_IGN);
    signal(SIGPIPE, SIG_IGN);

    sigset_t term;
    sigemptyset(&term);
    sigaddset(&term, SIGTERM);
    sigprocmask(SIG_BLOCK, &term, NULL);

    if (FCGX_Init() != 0) {
        log_msg(LOG_ERROR, "FCGX_Init failed");
        return 1;
    }
    if (db_init(cfg->database_url, statements) != 0)
        return 1;
    cache_init(cfg->redis_url);
    auth_worker_init();
    template_set_dir(cfg->template_dir);
    arena *pool = arena_new(64 * 1024);
    FCGX_Request req;
    if (pool == NULL || FCGX_InitRequest(&req, listen_fd, FCGI_FAIL_ACCEPT_ON_INTR) != 0) {
        log_msg(LOG_ERROR, "worker initialisation failed");
        return 1;
    }
    /* Connect early so the first request does not pay for it; failure is not fatal. */
    db_conn();

    while (!stopping) {
        sigprocmask(SIG_UNBLOCK, &term, NULL);
        if (stopping) {
            sigprocmask(SIG_BLOCK, &term, NULL);
            break;
        }
        int rc = FCGX_Accept_r(&req);
        sigprocmask(SIG_BLOCK, &term, NULL);
        if (rc < 0) {
            if (stopping)
                break;
            continue;
        }
        handle(&req, pool, table);
        FCGX_Finish_r(&req);
        arena_reset(pool);
    }
    FCGX_Free(&req, 1);
    arena_free(pool);
    db_close();
    cache_close();
    return 0;
}
