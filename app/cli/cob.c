/*
 * loanctl cob: the day-end. `cob [--date D]` runs the day-ends after the last one up to D
 * (default: today's business date, the date in India), printing one JSON line a day;
 * `cob --from D` re-classifies from a past day-end to the last one (after a backdated payment
 * or a correction); `cob --daily HH:MM` is the stack's scheduler: it runs the day-end of each
 * date at HH:MM India time, for ever. A future --date is refused in production (simulated time
 * is for development and test).
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "cob.h"
#include "config.h"
#include "lending.h"

static void print_day(const char *json, void *ud)
{
    (void)ud;
    printf("%s\n", json);
    fflush(stdout);
}

static int parse_day(const char *opt, const char *s, sched_day *out)
{
    if (s == NULL || sched_parse_date(s, strlen(s), out) != 0) {
        fprintf(stderr, "loanctl: %s must be a date YYYY-MM-DD\n", opt);
        return -1;
    }
    return 0;
}

/* Seconds until the next hh:mm in India (UTC+05:30). */
static long seconds_until(int hh, int mm)
{
    time_t now = time(NULL);
    long local = (long)((now + LENDING_UTC_OFFSET) % 86400);
    long at = hh * 3600L + mm * 60L;
    long wait = at - local;
    return wait > 0 ? wait : wait + 86400;
}

static volatile sig_atomic_t stop;
static void on_term(int sig)
{
    (void)sig;
    stop = 1;
}

static int daily(const char *at)
{
    int hh, mm;
    char tail;
    if (sscanf(at, "%d:%d%c", &hh, &mm, &tail) != 2 || hh < 0 || hh > 23 || mm < 0 || mm > 59) {
        fprintf(stderr, "loanctl: --daily must be HH:MM (India time)\n");
        return 2;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_term;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    fprintf(stderr, "loanctl cob: the day-end runs daily at %02d:%02d India time\n", hh, mm);
    while (!stop) {
        for (long left = seconds_until(hh, mm); left > 0 && !stop; left--)
            sleep(1);
        if (stop)
            break;
        arena *a = arena_new(1 << 14);
        const char *why = NULL;
        int n = cob_run(a, lending_today(), 0, print_day, NULL, &why);
        if (n < 0)
            fprintf(stderr, "loanctl cob: the day-end failed: %s\n", why ? why : "?");
        arena_free(a);
        sleep(61); /* past the minute */
    }
    return 0;
}

int cmd_cob(int argc, char **argv)
{
    const char *date = cli_opt(argc, argv, "--date"), *from = cli_opt(argc, argv, "--from");
    const char *at = cli_opt(argc, argv, "--daily");
    if ((date && from) || (at && (date || from))) {
        fprintf(stderr,
                "usage: loanctl cob [--date YYYY-MM-DD | --from YYYY-MM-DD | --daily HH:MM]\n");
        return 2;
    }
    sched_day day = 0;
    if ((date && parse_day("--date", date, &day) != 0) ||
        (from && parse_day("--from", from, &day) != 0))
        return 2;
    if (cli_config() != 0 || cli_connect() != 0)
        return 1;
    int rc = 0;
    if (at) {
        rc = daily(at);
        cli_disconnect();
        return rc;
    }
    arena *a = arena_new(1 << 14);
    const char *why = NULL;
    if (from) {
        long long n = cob_replay(a, day, &why);
        if (n < 0) {
            fprintf(stderr, "loanctl: cob --from %s failed: %s\n", from, why ? why : "?");
            rc = 1;
        } else {
            printf("{\"from\":\"%s\",\"loans_reclassified\":%lld}\n", from, n);
        }
    } else {
        if (day == 0)
            day = lending_today();
        int n = cob_run(a, day, config_get()->env != ENV_PRODUCTION, print_day, NULL, &why);
        if (n < 0) {
            fprintf(stderr, "loanctl: cob failed: %s\n", why ? why : "?");
            rc = 1;
        } else if (n == 0) {
            char d[16];
            printf("{\"business_date\":\"%s\",\"already_run\":true}\n", sched_format_date(day, d));
        }
    }
    arena_free(a);
    cli_disconnect();
    return rc;
}
