/*
 * Times Argon2id verifies at libsodium's INTERACTIVE limits, the cost /login pays by design:
 * first one process alone (the time of one verify), then one process per core at once (what the
 * machine can really hash: Argon2id is memory-bound, so cores do not scale perfectly). make bench
 * compares login throughput with both, measured in the same run.
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static int verify_n(const char *hash, const char *pw, int n)
{
    for (int i = 0; i < n; i++)
        if (crypto_pwhash_str_verify(hash, pw, strlen(pw)) != 0)
            return 1;
    return 0;
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    char hash[crypto_pwhash_STRBYTES];
    const char *pw = "bench-password-1";
    if (crypto_pwhash_str(hash, pw, strlen(pw), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                          crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0)
        return 1;
    const int n = 20;
    double a = now_ms();
    if (verify_n(hash, pw, n) != 0)
        return 1;
    double single = (now_ms() - a) / n;

    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    if (cores < 1)
        cores = 1;
    a = now_ms();
    for (long i = 0; i < cores; i++)
        if (fork() == 0)
            _exit(verify_n(hash, pw, n));
    while (wait(NULL) > 0) {
    }
    double parallel_per_s = (double)(cores * n) / ((now_ms() - a) / 1e3);
    printf("verify_ms=%.2f parallel_per_s=%.1f cores=%ld\n", single, parallel_per_s, cores);
    return 0;
}
