/*
 * Redis, through hiredis, as an optional cache: every function degrades to "miss" or "not done"
 * when Redis is absent, down or answering nonsense, and the callers compute from PostgreSQL.
 * A context whose err is set is dropped and re-opened later, never reused.
 */
#ifndef LOANFLOW_CACHE_H
#define LOANFLOW_CACHE_H

#include <stddef.h>

#include "arena.h"

/* url: "unix:/path/to/sock", "redis://host:port", or "" for no cache. Borrowed. */
void cache_init(const char *url);
void cache_close(void);

/* "ok", "down" or "disabled"; re-checked with PING at most once a second. */
const char *cache_health(void);

/* Value of key copied into the arena, or NULL on a miss or any failure. */
char *cache_get(arena *a, const char *key, size_t *len);
/* SET key value EX ttl; 0 or -1. */
int cache_set(const char *key, const char *value, size_t len, int ttl);
/* INCR key; the new value, or -1 on failure. */
long long cache_incr(const char *key);
/* SET key "1" EX ttl only if absent; 1 set, 0 existed, -1 failure. */
int cache_setnx_ex(const char *key, int ttl);
/* MGET of n keys: values[i] is an arena copy or NULL for a missing key. 0, or -1 on failure. */
int cache_mget(arena *a, int n, const char *const *keys, char **values);

/*
 * A versioned read through two tiers: the worker's memory, then Redis, then build.
 *
 *   1. Worker memory (epoch_cache_get): the text stored under key is used while the host's
 *      epoch (epoch.h) is unchanged and for local_seconds at most. No round trip, no allocation.
 *   2. Redis: one MGET of {version_key, key}. The value under key is "<version>|<text>" and is
 *      used only when <version> equals the current value of version_key (a missing version key
 *      reads as "0") and, when valid is set, valid(text) is non-zero. The text found is kept
 *      in worker memory under the epoch read at the start.
 *   3. Miss: build(build_ctx) makes the text (an arena string, or any string that lives until the
 *      request ends). When Redis answered the MGET, "<version>|<text>" is SET under key with
 *      EX ttl; the text is kept in worker memory either way. When build returns NULL nothing
 *      is stored and cache_read returns NULL: the caller's build_ctx says why (a database error to
 *      send, a 404 ...), and the caller sends the response.
 *
 * Writers bump the version key after their commit (INCR), then the epoch (epoch_bump), so a
 * worker that sees the new epoch also finds the new version. The text may contain '|': only
 * the first one separates the version, so a caller may store "<owner>|<doc>" as its text and
 * split it itself (the application status read stores exactly that under appdoc:<id>).
 *
 * version_key NULL: Redis is skipped (worker memory and build only), e.g. for a key too long to
 * send. local_seconds 0: worker memory is skipped.
 *
 * The text returned is borrowed: the arena's, or worker memory's copy, which stays valid until
 * the next epoch_cache_put in this process (so use it, or copy it, before the next cache_read).
 * A hit in worker memory costs no allocation and no round trip; one in Redis, one MGET (arena
 * copies of its two values).
 *
 * The readers of routes/ (the dashboard, GET /data, an application's status) are the examples.
 */
struct cache_read {
    const char *key;                /* Redis key of the value and the worker-memory key */
    const char *version_key;        /* Redis key of the version counter; NULL: no Redis */
    int ttl;                        /* EX seconds of a value written to Redis */
    int local_seconds;              /* how long worker memory may answer (0: not at all) */
    int (*valid)(const char *text); /* optional check of a text read from Redis */
};

typedef const char *(*cache_build_fn)(void *ctx);

const char *cache_read(arena *a, const struct cache_read *spec, cache_build_fn build,
                       void *build_ctx);

/* A valid callback for JSON object texts: 1 when text starts with '{'. */
int cache_text_is_object(const char *text);

#endif
