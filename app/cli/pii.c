/*
 * loanctl pii: the key that seals Aadhaar, PAN and bank account numbers. `rotate-key` re-seals
 * every identity row still under PII_KEY_PREVIOUS with PII_KEY, in batches (identity_rotate),
 * while the service runs: rows locked by a review or the notifier at that moment are taken by a
 * later walk, for up to a minute, and the exit status is 1 while any row is left under an
 * unknown key, duplicates an open application or stays locked. `status` counts rows per key id.
 * The sealing itself is the store's (app/store/identity.h, app/store/pii.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "arena.h"
#include "cli.h"
#include "config.h"
#include "applications.h"
#include "identity.h"
#include "outbox.h"
#include "review.h"

int cmd_pii_rotate_key(int argc, char **argv)
{
    const char *batch_s = cli_opt(argc, argv, "--batch");
    long batch = batch_s ? strtol(batch_s, NULL, 10) : 500;
    if (batch < 1 || batch > 100000) {
        fprintf(stderr, "loanctl: --batch must be 1 to 100000\n");
        return 2;
    }
    if (cli_connect() != 0)
        return 1;
    if (config_get()->pii_key_previous[0] == '\0') {
        fprintf(stderr,
                "loanctl: set PII_KEY to the new key and PII_KEY_PREVIOUS to the old one\n");
        return 2;
    }
    arena *a = arena_new(1 << 16);
    struct identity_rotation st;
    memset(&st, 0, sizeof(st));
    /* Walk by id; rows skipped because a review or the notifier held their lock are taken by
     * another walk after a pause, until only rows under an unknown key are left (or a minute
     * has passed: then what is left is reported and the exit status says so). */
    long left = 0;
    for (int pass = 0; pass < 240; pass++) {
        st.after = 0;
        st.unknown = 0;
        st.conflicts = 0;
        int n;
        do {
            arena_reset(a);
            n = identity_rotate(a, (int)batch, &st);
        } while (n > 0);
        arena_reset(a);
        if (n < 0 || (left = identity_left(a, &st)) < 0) {
            fprintf(stderr, "loanctl: database unavailable during rotation (%ld rows done)\n",
                    st.rotated);
            arena_free(a);
            return 1;
        }
        if (left <= st.unknown + st.conflicts)
            break;
        struct timespec pause = {0, 250000000L};
        nanosleep(&pause, NULL);
    }
    arena_free(a);
    long locked = left > st.unknown + st.conflicts ? left - st.unknown - st.conflicts : 0;
    printf("rotated %ld rows to key %s (rows up to id %lld); %ld rows under an unknown key; %ld "
           "rows duplicating an open application; %ld rows still locked\n",
           st.rotated, identity_key_id(), st.max_id, st.unknown, st.conflicts, locked);
    cli_disconnect();
    return st.unknown > 0 || st.conflicts > 0 || locked > 0 ? 1 : 0;
}

int cmd_pii_status(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    if (cli_connect() != 0)
        return 1;
    arena *a = arena_new(4096);
    PGresult *res = identity_key_census(a);
    if (!db_ok(res)) {
        fprintf(stderr, "loanctl: database unavailable\n");
        arena_free(a);
        return 1;
    }
    const char *cur = identity_key_id();
    for (int i = 0; i < PQntuples(res); i++)
        printf("%s %s%s\n", PQgetvalue(res, i, 0), PQgetvalue(res, i, 1),
               !strcmp(PQgetvalue(res, i, 0), cur) ? " (current PII_KEY)" : "");
    if (PQntuples(res) == 0)
        printf("no protected identity numbers stored\n");
    arena_free(a);
    cli_disconnect();
    return 0;
}
