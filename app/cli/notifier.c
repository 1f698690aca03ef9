/*
 * loanctl notifier: delivers the outbox (the notifications table the deciding transactions fill)
 * and folds the dashboard's delta rows into loan_stats every couple of seconds.
 *
 * Delivery here is one JSON line per message appended to NOTIFY_SINK (the stack points it at
 * var/log/notifications.jsonl) and a log line; SMTP can take the sink's place later. Exactly
 * once: a batch is claimed with FOR UPDATE SKIP LOCKED, each message is written and fsync'ed
 * with its id before the transaction marks it sent, and on start the sink's ids are read back,
 * so a message written just before a crash is marked sent, not written again.
 */
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "arena.h"
#include "cli.h"
#include "config.h"
#include "applications.h"
#include "identity.h"
#include "outbox.h"
#include "pii.h"
#include "review.h"
#include "stats.h"

static volatile sig_atomic_t notifier_stop;

static void on_stop(int sig)
{
    (void)sig;
    notifier_stop = 1;
}

struct idset {
    long long *v;
    size_t n, cap;
};

static int idset_has(const struct idset *s, long long id)
{
    for (size_t i = s->n; i > 0; i--) /* recent ids are the likely ones */
        if (s->v[i - 1] == id)
            return 1;
    return 0;
}

static void idset_add(struct idset *s, long long id)
{
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 1024;
        long long *v = realloc(s->v, cap * sizeof(*v));
        if (v == NULL)
            return;
        s->v = v;
        s->cap = cap;
    }
    s->v[s->n++] = id;
}

static void load_sink_ids(const char *path, struct idset *ids)
{
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return;
    char line[8192];
    while (fgets(line, sizeof(line), f)) {
        const char *p = strstr(line, "\"id\":");
        if (p)
            idset_add(ids, atoll(p + 5));
    }
    fclose(f);
}

/* The text to deliver: an sms carries its one-time code sealed (PII key, bound to the
 * application and the field "otp"); it is opened here, put in place of {code}, and exists in
 * clear only in the delivered message. A code that cannot be opened is delivered without it. */
static const char *sms_body(arena *a, const PGresult *res, int i)
{
    const char *body = PQgetvalue(res, i, 5);
    const char *hex = PQgetvalue(res, i, 6);
    const char *slot = strstr(body, "{code}");
    if (strcmp(PQgetvalue(res, i, 2), "sms") != 0 || hex[0] == '\0' || slot == NULL)
        return body;
    unsigned char sealed[PII_SEALED_MAX];
    long n = pii_bytea_parse(arena_printf(a, "\\x%s", hex), sealed, sizeof(sealed));
    char code[PII_MAX_CLEAR + 1] = "";
    struct pii_key k;
    int ok = n > 0 && pii_key_from_hex(config_get()->pii_key, &k) == 0;
    if (ok) {
        ok = pii_open(&k, PQgetvalue(res, i, 1), "otp", sealed, (size_t)n, code, sizeof(code)) == 0;
        pii_key_wipe(&k);
    }
    if (!ok) {
        fprintf(stderr, "notifier: message %s: the sealed code cannot be opened\n",
                PQgetvalue(res, i, 0));
        return body;
    }
    const char *text = arena_printf(a, "%.*s%s%s", (int)(slot - body), body, code, slot + 6);
    sodium_memzero(code, sizeof(code));
    return text;
}

int cmd_notifier(int argc, char **argv)
{
    int once = argc > 0 && !strcmp(argv[0], "--once");
    if (cli_connect() != 0)
        return 1;
    const char *sink = config_get()->notify_sink;
    long delay_ms = config_get()->notifier_delay_ms;
    int fd = open(sink, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
    if (fd < 0) {
        fprintf(stderr, "loanctl: cannot open %s: %s\n", sink, strerror(errno));
        return 1;
    }
    struct idset delivered = {0};
    load_sink_ids(sink, &delivered);
    signal(SIGTERM, on_stop);
    signal(SIGINT, on_stop);
    arena *a = arena_new(1 << 16);
    fprintf(stderr, "notifier: delivering to %s (%zu delivered before)\n", sink, delivered.n);
    while (!notifier_stop) {
        arena_reset(a);
        if (db_begin() != 0) {
            sleep(1);
            continue;
        }
        PGresult *res = outbox_claim(a);
        if (!db_ok(res)) {
            db_rollback();
            sleep(1);
            continue;
        }
        int n = PQntuples(res);
        int failed = 0;
        for (int i = 0; i < n && !failed; i++) {
            long long id = atoll(PQgetvalue(res, i, 0));
            if (!idset_has(&delivered, id)) {
                json_object *m = json_object_new_object();
                time_t t = time(NULL);
                char ts[32];
                strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", gmtime(&t));
                json_object_object_add(m, "time", json_object_new_string(ts));
                json_object_object_add(m, "id", json_object_new_int64(id));
                json_object_object_add(m, "application_id",
                                       json_object_new_string(PQgetvalue(res, i, 1)));
                json_object_object_add(m, "kind", json_object_new_string(PQgetvalue(res, i, 2)));
                json_object_object_add(m, "to", json_object_new_string(PQgetvalue(res, i, 3)));
                json_object_object_add(m, "subject", json_object_new_string(PQgetvalue(res, i, 4)));
                json_object_object_add(m, "body", json_object_new_string(sms_body(a, res, i)));
                const char *line = json_object_to_json_string_ext(m, JSON_C_TO_STRING_PLAIN);
                char *out = arena_printf(a, "%s\n", line);
                json_object_put(m);
                if (write(fd, out, strlen(out)) != (ssize_t)strlen(out) || fdatasync(fd) != 0) {
                    failed = 1;
                    break;
                }
                idset_add(&delivered, id);
                if (delay_ms > 0) {
                    struct timespec ts2 = {delay_ms / 1000, (delay_ms % 1000) * 1000000L};
                    nanosleep(&ts2, NULL);
                }
            }
            const char *p[2] = {PQgetvalue(res, i, 0), PQgetvalue(res, i, 2)};
            if (outbox_mark_sent(a, p[0], p[1]) != 0)
                failed = 1;
        }
        if (failed || db_commit() != 0) {
            db_rollback();
            sleep(1);
            continue;
        }
        for (int i = 0; i < n; i++)
            applications_changed(PQgetvalue(res, i, 1));
        if (n > 0)
            printf("notifier: delivered %d message(s)\n", n);
        fflush(stdout);
        /* Fold the dashboard's delta rows into the summary (sql/004) every couple of seconds. */
        static time_t last_compact;
        if (time(NULL) - last_compact >= 2) {
            last_compact = time(NULL);
            arena_reset(a);
            if (!db_ok(db_exec(a, STATS_SQL(DASH_COMPACT), 0, NULL)))
                fprintf(stderr, "notifier: compacting dashboard stats failed\n");
        }
        if (once && n == 0)
            break;
        if (n == 0) {
            struct timespec ts = {0, 250 * 1000 * 1000};
            nanosleep(&ts, NULL);
        }
    }
    close(fd);
    free(delivered.v);
    arena_free(a);
    cli_disconnect();
    return 0;
}
