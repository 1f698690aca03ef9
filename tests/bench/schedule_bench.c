/*
 * schedule_bench.c - how long sched_build() takes for a 360-installment EMI schedule (5,000,000.00
 * at 9.5 % for 30 years, no grace: the exact EMI, 360 interest roundings and due dates).
 *
 * Design: BATCHES batches of PER_BATCH schedules, each batch timed with CLOCK_MONOTONIC after a
 * warm-up; the per-schedule time of the median batch is the figure (the machine's run-to-run
 * spread is large, and a median of batches ignores a batch that was preempted). The principal
 * varies by a paisa per schedule so that no call can be folded into the previous one, and a
 * checksum of the totals is printed so that none can be optimised away. stdout gets exactly one
 * line:
 *   schedule p50_us=... min_us=... installments=360 schedules=<total>
 * stderr gets the checksum.
 */
#include "schedule.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define BATCHES   41
#define PER_BATCH 2000

static struct sched_item items[SCHED_MAX_INSTALLMENTS];

static double now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Builds `count` schedules; adds their total interest to *sum. -1 when one fails. */
static int run(int count, int64_t *sum)
{
    struct sched_terms t = {
        .principal = 500000000,
        .minor_exp = 2,
        .rate_bps = 950,
        .months = 360,
        .disbursed = sched_date(2024, 1, 5),
        .first_due = sched_date(2024, 2, 5),
    };
    for (int i = 0; i < count; i++) {
        struct schedule s;
        t.principal = 500000000 + (i & 1023);
        if (sched_build(&t, items, SCHED_MAX_INSTALLMENTS, &s) != SCHED_OK)
            return -1;
        *sum += s.total_interest + items[359].installment;
    }
    return 0;
}

int main(void)
{
    double per[BATCHES];
    int64_t sum = 0;
    if (run(PER_BATCH, &sum) != 0) {
        fprintf(stderr, "schedule_bench: the schedule could not be built\n");
        return 1;
    }
    for (int b = 0; b < BATCHES; b++) {
        double t0 = now_us();
        if (run(PER_BATCH, &sum) != 0)
            return 1;
        per[b] = (now_us() - t0) / PER_BATCH;
    }
    qsort(per, BATCHES, sizeof(per[0]), cmp_double);
    printf("schedule p50_us=%.2f min_us=%.2f installments=360 schedules=%d\n", per[BATCHES / 2],
           per[0], BATCHES * PER_BATCH);
    fprintf(stderr, "schedule_bench: checksum %lld\n", (long long)sum);
    return 0;
}
