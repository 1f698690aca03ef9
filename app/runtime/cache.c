/*
 * The worker's Redis connection. Commands carry a 200 ms timeout so that a stalled Redis costs a
 * request a bounded delay rather than the worker; after a failure the next attempt to reconnect
 * waits a second, so a Redis outage is paid for once a second, not on every request.
 *
 * cache_read is the one implementation of the versioned two-tier read (worker memory under the
 * host's epoch, then "<version>|<text>" in Redis, then the caller's builder) that every cached
 * read uses; its contract is in cache.h.
 */
#include "cache.h"

#include <hiredis/hiredis.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "epoch.h"
#include "log.h"

static redisContext *ctx;
static const char *cache_url = "";
static time_t next_attempt;
static time_t health_checked;
static int health_ok;

void cache_init(const char *url)
{
    cache_url = url ? url : "";
}

void cache_close(void)
{
    if (ctx != NULL)
        redisFree(ctx);
    ctx = NULL;
}

static redisContext *connect_now(void)
{
    struct timeval tv = {0, 200000};
    redisContext *c;
    if (!strncmp(cache_url, "unix:", 5)) {
        c = redisConnectUnixWithTimeout(cache_url + 5, tv);
    } else {
        char host[200];
        int port = 6379;
        const char *hp = cache_url + 8; /* after redis:// */
        const char *colon = strrchr(hp, ':');
        size_t hl = colon ? (size_t)(colon - hp) : strlen(hp);
        if (hl >= sizeof(host))
            return NULL;
        memcpy(host, hp, hl);
        host[hl] = '\0';
        if (colon)
            port = atoi(colon + 1);
        c = redisConnectWithTimeout(host, port, tv);
    }
    if (c == NULL)
        return NULL;
    if (c->err) {
        redisFree(c);
        return NULL;
    }
    redisSetTimeout(c, tv);
    return c;
}

static redisContext *get_ctx(void)
{
    if (cache_url[0] == '\0')
        return NULL;
    if (ctx != NULL && ctx->err == 0)
        return ctx;
    cache_close();
    time_t now = time(NULL);
    if (now < next_attempt)
        return NULL;
    ctx = connect_now();
    if (ctx == NULL)
        next_attempt = now + 1;
    return ctx;
}

/* Runs a command; on a transport error drops the context. Caller frees the reply. */
static redisReply *command(const char *fmt, ...)
{
    redisContext *c = get_ctx();
    if (c == NULL)
        return NULL;
    va_list ap;
    va_start(ap, fmt);
    redisReply *reply = redisvCommand(c, fmt, ap);
    va_end(ap);
    if (reply == NULL || c->err) {
        if (reply)
            freeReplyObject(reply);
        log_msg(LOG_WARN, "redis: %s", c->errstr[0] ? c->errstr : "no reply");
        cache_close();
        next_attempt = time(NULL) + 1;
        return NULL;
    }
    return reply;
}

const char *cache_health(void)
{
    if (cache_url[0] == '\0')
        return "disabled";
    time_t now = time(NULL);
    if (now != health_checked) {
        health_checked = now;
        redisReply *r = command("PING");
        health_ok = r != NULL && r->type == REDIS_REPLY_STATUS && !strcmp(r->str, "PONG");
        if (r)
            freeReplyObject(r);
    }
    return health_ok ? "ok" : "down";
}

char *cache_get(arena *a, const char *key, size_t *len)
{
    redisReply *r = command("GET %s", key);
    if (r == NULL)
        return NULL;
    char *out = NULL;
    if (r->type == REDIS_REPLY_STRING) {
        out = arena_strndup(a, r->str, r->len);
        if (len)
            *len = r->len;
    }
    freeReplyObject(r);
    return out;
}

int cache_set(const char *key, const char *value, size_t len, int ttl)
{
    redisReply *r = command("SET %s %b EX %d", key, value, len, ttl);
    if (r == NULL)
        return -1;
    int ok = r->type == REDIS_REPLY_STATUS;
    freeReplyObject(r);
    return ok ? 0 : -1;
}

long long cache_incr(const char *key)
{
    redisReply *r = command("INCR %s", key);
    if (r == NULL)
        return -1;
    long long v = r->type == REDIS_REPLY_INTEGER ? r->integer : -1;
    freeReplyObject(r);
    return v;
}

int cache_setnx_ex(const char *key, int ttl)
{
    redisReply *r = command("SET %s 1 EX %d NX", key, ttl);
    if (r == NULL)
        return -1;
    int rc = -1;
    if (r->type == REDIS_REPLY_STATUS)
        rc = 1;
    else if (r->type == REDIS_REPLY_NIL)
        rc = 0;
    freeReplyObject(r);
    return rc;
}

int cache_mget(arena *a, int n, const char *const *keys, char **values)
{
    redisContext *c = get_ctx();
    if (c == NULL || n <= 0 || n > 16)
        return -1;
    const char *argv[17];
    argv[0] = "MGET";
    for (int i = 0; i < n; i++)
        argv[i + 1] = keys[i];
    redisReply *r = redisCommandArgv(c, n + 1, argv, NULL);
    if (r == NULL || c->err) {
        if (r)
            freeReplyObject(r);
        cache_close();
        next_attempt = time(NULL) + 1;
        return -1;
    }
    int rc = 0;
    if (r->type != REDIS_REPLY_ARRAY || r->elements != (size_t)n) {
        rc = -1;
    } else {
        for (int i = 0; i < n; i++) {
            redisReply *e = r->element[i];
            values[i] = e->type == REDIS_REPLY_STRING ? arena_strndup(a, e->str, e->len) : NULL;
        }
    }
    freeReplyObject(r);
    return rc;
}

int cache_text_is_object(const char *text)
{
    return text[0] == '{';
}

const char *cache_read(arena *a, const struct cache_read *spec, cache_build_fn build,
                       void *build_ctx)
{
    unsigned long epoch = epoch_get(); /* read first: a change meanwhile invalidates */
    if (spec->local_seconds > 0) {
        const char *local = epoch_cache_get(spec->key, spec->local_seconds);
        if (local != NULL)
            return local;
    }
    const char *version = "0";
    int redis = 0;
    if (spec->version_key != NULL) {
        const char *keys[2] = {spec->version_key, spec->key};
        char *vals[2] = {NULL, NULL};
        redis = cache_mget(a, 2, keys, vals) == 0;
        if (redis && vals[0] != NULL)
            version = vals[0];
        size_t vl = strlen(version);
        if (redis && vals[1] != NULL && !strncmp(vals[1], version, vl) && vals[1][vl] == '|' &&
            (spec->valid == NULL || spec->valid(vals[1] + vl + 1))) {
            if (spec->local_seconds > 0)
                epoch_cache_put(spec->key, epoch, vals[1] + vl + 1);
            return vals[1] + vl + 1;
        }
    }
    const char *text = build(build_ctx);
    if (text == NULL)
        return NULL;
    if (redis) {
        char *val = arena_printf(a, "%s|%s", version, text);
        cache_set(spec->key, val, strlen(val), spec->ttl);
    }
    if (spec->local_seconds > 0)
        epoch_cache_put(spec->key, epoch, text);
    return text;
}
