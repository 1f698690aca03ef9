/*
 * The host's data epoch: a counter in a small file that the master maps before forking its
 * workers and that loanctl maps too, bumped after every committed change to applications. A
 * worker may answer from its own memory while the epoch is unchanged, which costs no round trip
 * at all; Redis keeps the same fact for other hosts (see applications_changed).
 */
#ifndef LOANFLOW_EPOCH_H
#define LOANFLOW_EPOCH_H

/* Maps path (created when create is set). 0, or -1 with errno. Without a successful call,
 * epoch_get() returns 0 and callers must not use local caches. */
int epoch_open(const char *path, int create);
/* The current epoch, or 0 when no epoch file is mapped. */
unsigned long epoch_get(void);
/* Marks a committed change. */
void epoch_bump(void);

/*
 * A small per-process cache of texts valid for one epoch and at most max_age seconds (the bound
 * on how long a change made through another host may go unseen). Keys and texts are copied.
 */
const char *epoch_cache_get(const char *key, int max_age);
void epoch_cache_put(const char *key, unsigned long epoch, const char *text);

#endif
