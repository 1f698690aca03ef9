/*
 * The day-end's driver (see cob.h). Days run one transaction each, so a crash midway leaves the
 * days before it finished and nothing of the day it was in: the next run starts again at that
 * day, and no penal charge is levied twice (a day's charges and its cob_runs row commit
 * together). pg_advisory_xact_lock serialises day-ends across processes; the last day is read
 * again under the lock.
 */
#include "cob.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lending.h"

enum { COB_LOCK, COB_LAST, COB_FIRST, COB_DAY, COB_REPLAY, COB_SQL_COUNT };

/* clang-format off */
static const struct db_stmt sql[COB_SQL_COUNT] = {
    [COB_LOCK] = {"cob_lock", "SELECT pg_advisory_xact_lock(hashtext('loanflow day-end'))"},
    [COB_LAST] = {"cob_last", "SELECT coalesce(max(business_date)::text, '') FROM cob_runs"},
    [COB_FIRST] = {"cob_first",
     "SELECT coalesce(min(disbursal_date)::text, '') FROM loans WHERE state = 'ACTIVE'"},
    [COB_DAY] = {"cob_day",
     "SELECT json_build_object('business_date', business_date, 'loans_active', loans_active, "
     "'loans_overdue', loans_overdue, 'penal_levied', penal_levied, 'reminders', reminders, "
     "'notices', notices, 'seconds', round(extract(epoch FROM finished_at - started_at)::numeric, 3), "
     "'already_run', started_at < $2::timestamptz)::text FROM cob_day($1::date)"},
    [COB_REPLAY] = {"cob_replay", "SELECT cob_reclassify(NULL, $1::date)"},
};
/* clang-format on */
const struct db_stmts cob_statements = DB_STMTS("cob", sql);
#define SQL(id) (&sql[id])

static int last_day(arena *a, sched_day *out, const char **why);

/* BEGINs, takes the day-end lock and reads the last day-end run (0: none); -1 with *why and
 * nothing open. */
static int begin_locked(arena *a, sched_day *out, const char **why)
{
    if (db_begin() != 0) {
        *why = "the database is unreachable";
        return -1;
    }
    if (last_day(a, out, why) != 0) {
        db_rollback();
        return -1;
    }
    return 0;
}

/* The last day-end run (0: none), under the lock of the caller's transaction. */
static int last_day(arena *a, sched_day *out, const char **why)
{
    PGresult *r = db_exec(a, SQL(COB_LOCK), 0, NULL);
    if (db_ok(r))
        r = db_exec(a, SQL(COB_LAST), 0, NULL);
    if (!db_ok(r)) {
        *why = db_error_brief(a, r);
        return -1;
    }
    const char *s = PQgetvalue(r, 0, 0);
    *out = 0;
    if (s[0] != '\0' && sched_parse_date(s, strlen(s), out) != 0) {
        *why = "cob_runs holds a date that is not one";
        return -1;
    }
    return 0;
}

int cob_run(arena *a, sched_day to, int allow_future, cob_report_fn each, void *ud,
            const char **why)
{
    if (!allow_future && to > lending_today()) {
        *why = "the day-end of a future date runs only in development and test";
        return -1;
    }
    int done = 0;
    for (;;) {
        sched_day last;
        if (begin_locked(a, &last, why) != 0)
            return -1;
        sched_day day = last + 1;
        if (last == 0) {
            /* The first day-end starts at the first disbursal still active, so every due date
             * since has its day-end (the replay of an account assumes they all ran). */
            PGresult *f = db_exec(a, SQL(COB_FIRST), 0, NULL);
            if (!db_ok(f)) {
                *why = db_error_brief(a, f);
                db_rollback();
                return -1;
            }
            const char *fs = PQgetvalue(f, 0, 0);
            day = to;
            sched_day first;
            if (fs[0] != '\0' && sched_parse_date(fs, strlen(fs), &first) == 0 && first < to)
                day = first;
        }
        if (day > to) {
            db_rollback();
            return done;
        }
        char d[16];
        sched_format_date(day, d);
        const char *p[2] = {d, "now"};
        PGresult *r = db_exec(a, SQL(COB_DAY), 2, p);
        if (!db_ok(r)) {
            *why = db_error_brief(a, r);
            db_rollback();
            return -1;
        }
        if (db_commit() != 0) {
            *why = "the commit failed";
            db_rollback();
            return -1;
        }
        done++;
        lending_portfolio_changed();
        if (each)
            each(PQgetvalue(r, 0, 0), ud);
    }
}

long long cob_replay(arena *a, sched_day from, const char **why)
{
    sched_day last;
    if (begin_locked(a, &last, why) != 0)
        return -1;
    if (last == 0 || from > last) {
        db_rollback();
        *why = "no day-end has run on or after that date";
        return -1;
    }
    char d[16];
    sched_format_date(from, d);
    const char *p[1] = {d};
    PGresult *r = db_exec(a, SQL(COB_REPLAY), 1, p);
    if (!db_ok(r) || db_commit() != 0) {
        *why = db_error_brief(a, r);
        db_rollback();
        return -1;
    }
    return atoll(PQgetvalue(r, 0, 0));
}
