/*
 * The epoch file is one page; the counter at its start is read and bumped with atomic builtins.
 * The per-process cache is a fixed table of 512 slots addressed by a hash of the key, replacing
 * whatever was there: no eviction policy is needed for a working set of a few hundred keys.
 */
#include "epoch.h"

#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

static volatile unsigned long *counter;

int epoch_open(const char *path, int create)
{
    if (path == NULL || path[0] == '\0')
        return -1;
    int fd = open(path, O_RDWR | O_CLOEXEC | (create ? O_CREAT : 0), 0600);
    if (fd < 0)
        return -1;
    if (create && ftruncate(fd, 4096) != 0) {
        close(fd);
        return -1;
    }
    void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    close(fd);
    if (p == MAP_FAILED)
        return -1;
    counter = p;
    if (__atomic_load_n(counter, __ATOMIC_ACQUIRE) == 0)
        __atomic_add_fetch(counter, 1, __ATOMIC_SEQ_CST);
    return 0;
}

unsigned long epoch_get(void)
{
    return counter ? __atomic_load_n(counter, __ATOMIC_ACQUIRE) : 0;
}

void epoch_bump(void)
{
    if (counter)
        __atomic_add_fetch(counter, 1, __ATOMIC_SEQ_CST);
}

#define SLOTS 512

struct slot {
    char *key;
    char *text;
    unsigned long epoch;
    time_t at;
};

static struct slot slots[SLOTS];

static struct slot *slot_for(const char *key)
{
    uint32_t h = 2166136261u;
    for (const unsigned char *p = (const unsigned char *)key; *p; p++)
        h = (h ^ *p) * 16777619u;
    return &slots[h % SLOTS];
}

const char *epoch_cache_get(const char *key, int max_age)
{
    unsigned long e = epoch_get();
    struct slot *s = slot_for(key);
    if (e == 0 || s->key == NULL || s->epoch != e || strcmp(s->key, key) != 0 ||
        time(NULL) - s->at >= max_age)
        return NULL;
    return s->text;
}

void epoch_cache_put(const char *key, unsigned long epoch, const char *text)
{
    if (epoch == 0)
        return;
    struct slot *s = slot_for(key);
    char *k = strdup(key), *t = strdup(text);
    if (k == NULL || t == NULL) {
        free(k);
        free(t);
        return;
    }
    free(s->key);
    free(s->text);
    s->key = k;
    s->text = t;
    s->epoch = epoch;
    s->at = time(NULL);
}
