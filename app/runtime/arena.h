/*
 * Per-request arena: a chain of blocks handed out by bumping a pointer, reset in one step after
 * the response is sent. Library objects that own memory of their own (PGresult, json_object,
 * redisReply) are tied to the arena by a cleanup registered with arena_defer(), which runs in
 * reverse order of registration at reset, so a handler never frees anything itself.
 */
#ifndef LOANFLOW_ARENA_H
#define LOANFLOW_ARENA_H

#include <stddef.h>

typedef struct arena arena;

/* Caller owns the returned arena; NULL on ENOMEM. */
arena *arena_new(size_t block_size);
/* Runs the cleanups, keeps the first block, frees the rest. Accepts NULL. */
void arena_reset(arena *a);
/* Resets and frees everything. Accepts NULL. */
void arena_free(arena *a);

/* Memory owned by the arena, aligned for any type; NULL on ENOMEM. */
void *arena_alloc(arena *a, size_t n) __attribute__((malloc, alloc_size(2)));
void *arena_calloc(arena *a, size_t n);
char *arena_strdup(arena *a, const char *s);
char *arena_strndup(arena *a, const char *s, size_t n);
char *arena_printf(arena *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Registers fn(ptr) to run at the next reset; if registration fails, fn runs at once and -1 is
 * returned, so the object is never leaked. */
int arena_defer(arena *a, void (*fn)(void *), void *ptr);

#endif
