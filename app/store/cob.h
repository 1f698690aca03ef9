/*
 * cob.h - the day-end (close of business): `loanctl cob` and the stack's daily run. The work of
 * a day is set-based SQL (cob_day in sql/014_servicing.sql); this module decides which days to
 * run, runs each in a transaction of its own under an advisory lock (two day-ends never
 * overlap), and re-classifies from a past day-end.
 */
#ifndef LOANFLOW_COB_H
#define LOANFLOW_COB_H

#include "arena.h"
#include "db.h"
#include "schedule.h"

extern const struct db_stmts cob_statements;

/* Called with each day-end's summary (a JSON object's text, borrowed). */
typedef void (*cob_report_fn)(const char *json, void *ud);

/*
 * Runs the day-ends after the last one up to and including `to` (the first ever: from the first
 * disbursal date of an active loan),
 * in date order, each in one transaction. A date already run changes nothing. allow_future: `to`
 * may be after today's date in India (development and test: simulated time). Returns the number
 * of day-ends run (0: nothing to do), or -1 with *why.
 */
int cob_run(arena *a, sched_day to, int allow_future, cob_report_fn each, void *ud,
            const char **why) __attribute__((warn_unused_result));

/* Re-runs the classification from the day-end of `from` to the last one (cob_reclassify):
 * the loans re-classified, or -1 with *why. */
long long cob_replay(arena *a, sched_day from, const char **why)
    __attribute__((warn_unused_result));

#endif
