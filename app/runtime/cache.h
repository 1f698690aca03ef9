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

#endif
