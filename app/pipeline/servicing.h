/*
 * servicing.h - the pure rules of a loan after disbursal (issue 14's building blocks): days past
 * due and the regulator's asset classification, how a repayment is split over what is due, the
 * foreclosure payoff, a part-prepayment's new schedule, and the cooling-off exit. No I/O, no
 * allocation; amounts are integer minor units, rates basis points, dates sched_day.
 */
#ifndef LOANFLOW_SERVICING_H
#define LOANFLOW_SERVICING_H

#include <stdint.h>

#include "schedule.h"

/* RBI's classification by days past due. */
enum svc_class {
    SVC_STANDARD, /* nothing overdue */
    SVC_SMA0,     /* 1-30 days */
    SVC_SMA1,     /* 31-60 */
    SVC_SMA2,     /* 61-90 */
    SVC_NPA,      /* more than 90 */
};

/*
 * Days past due at the day-end of `day` for the oldest amount unpaid since its due date `due`
 * (the regulator's count: the due date's own day-end is day 1, so due 31 Mar unpaid is day 31 at
 * the end of 30 Apr). 0 when due is after day.
 */
int svc_days_past_due(sched_day due, sched_day day);
enum svc_class svc_classify(int days_past_due);
/* "STANDARD", "SMA-0", "SMA-1", "SMA-2", "NPA". */
const char *svc_class_name(enum svc_class c);

/* What one installment still owes, by bucket. */
struct svc_due {
    int64_t penal; /* penal charges: a bucket of their own, never capitalised */
    int64_t fee;
    int64_t interest;
    int64_t principal;
};

enum svc_strategy {
    SVC_RBI_INDIA,      /* every due interest first (oldest first), then principal, fees, penal */
    SVC_STANDARD_ORDER, /* per installment, oldest first: penal, fees, interest, principal */
};

/* Parses "rbi_india" | "standard"; 0, or -1 for another name. */
int svc_parse_strategy(const char *s, enum svc_strategy *out);

/*
 * Splits amount over dues[0..n) (oldest first) by strategy: paid[i] receives what goes to each
 * bucket of installment i (paid[i] <= dues[i] bucket by bucket). Returns what is left over
 * (paid in advance: it reduces principal or stays a credit, the caller's choice); amount < 0 is
 * treated as 0.
 */
int64_t svc_allocate(enum svc_strategy strategy, const struct svc_due *dues, int n, int64_t amount,
                     struct svc_due *paid);

/*
 * The foreclosure payoff on `day`: the outstanding principal, the interest accrued on it since
 * the last due date (Actual/365, half-even), what is due and unpaid (dues), penal charges, less a
 * credit balance; and the foreclosure charge (charge_bps of the principal, 0 for floating-rate
 * loans to individuals). Loan A after 3 EMIs (76,108.02), 15 days on: 375.33 -> 76,483.35.
 */
struct svc_payoff {
    int64_t principal, interest, dues, penal, charge, credit, total;
};
void svc_foreclosure(int64_t principal, int rate_bps, sched_day last_due, sched_day day,
                     int64_t dues, int64_t penal, int64_t credit, int charge_bps,
                     struct svc_payoff *out);

/*
 * After a part-prepayment, the remaining schedule of balance over months_left (first due a
 * month after the last): reduce_emi keeps the number of installments and recomputes the EMI
 * (56,108.02 over 9 at 12 % -> 6,550.07); reduce_tenure keeps the EMI and shortens the loan
 * (8,884.88 x 6, then 4,948.87). Fills items (cap entries) and *out; returns a sched_error.
 */
enum svc_prepay_mode { SVC_REDUCE_EMI, SVC_REDUCE_TENURE };
enum sched_error svc_reschedule(int64_t balance, int rate_bps, int months_left, int64_t emi,
                                enum svc_prepay_mode mode, sched_day first_due,
                                struct sched_item *items, int cap, struct schedule *out)
    __attribute__((warn_unused_result));

/* The cooling-off exit: the principal plus interest at the APR for the days held (Actual/365,
 * half-even), no penalty. Loan A exited on day 2 at an APR of 12.00 % -> 100,065.75. */
int64_t svc_cooling_off_exit(int64_t principal, int apr_bps, int days_held);

/* ---- the account: a loan's schedule replayed with its repayments ------------------------ */

/* One installment. In: number, due, interest, principal, balance (the scheduled balance after
 * it). Out: the penal charge levied, what was paid into each bucket, the value date it was
 * settled (interest and principal paid in full; 0 when not). */
struct svc_inst {
    int number;
    sched_day due;
    int64_t interest, principal, balance;
    int64_t penal;
    struct svc_due paid; /* fee stays 0: installments carry no fee */
    sched_day settled_on;
    int seen; /* internal: its due date's day-end has been applied */
};

enum svc_event_kind {
    SVC_EV_REPAYMENT,   /* split over what is due, the rest paid in advance */
    SVC_EV_PREPAYMENT,  /* what is due, then the principal (re-scheduled by mode), or the payoff */
    SVC_EV_COOLING_OFF, /* the cooling-off exit: principal + interest at the APR for the days */
};

enum svc_close {
    SVC_OPEN,
    SVC_CLOSED_PAID,        /* obligations met */
    SVC_CLOSED_FORECLOSED,  /* a prepayment covered the payoff */
    SVC_CLOSED_COOLING_OFF, /* exited in the cooling-off period */
};

/* A repayment. In: kind, value, amount, mode. Out: where the money went (split.fee: the
 * foreclosure charge; to_credit: what no obligation took) and whether it closed the loan. */
struct svc_event {
    enum svc_event_kind kind;
    sched_day value;
    int64_t amount;
    enum svc_prepay_mode mode;
    struct svc_due split;
    int64_t to_credit;
    enum svc_close closed;
};

struct svc_account {
    int64_t principal; /* as disbursed */
    int rate_bps, apr_bps;
    sched_day disbursed;
    enum svc_strategy strategy;
    int64_t penal_charge;   /* levied on an installment unpaid at its due date's day-end */
    sched_day last_day_end; /* the last day-end run: penal charges up to it; 0 none */
    int charge_bps;         /* the foreclosure charge on the principal */
    int cooling_off_days;
};

struct svc_result {
    int count;           /* installments after the replay */
    int64_t outstanding; /* principal unpaid */
    int64_t penal_due;   /* penal levied and unpaid */
    int64_t credit;      /* money no obligation took */
    enum svc_close closed;
    sched_day closed_on;
};

#define SVC_MAX_INSTALLMENTS SCHED_MAX_INSTALLMENTS

/*
 * Replays the account: inst[0..n) is the schedule as disbursed (cap entries of room: a
 * re-schedule may change the count), ev[0..nev) the repayments not reversed in value-date order
 * (ties in the order they were recorded). Day-ends and repayments interleave by date: the
 * day-end of D comes after every repayment valued D. Fills the outputs of inst, ev and *res.
 * SCHED_OK, or the error of a re-schedule that cannot be built.
 */
enum sched_error svc_replay(const struct svc_account *acct, struct svc_inst *inst, int n, int cap,
                            struct svc_event *ev, int nev, struct svc_result *res)
    __attribute__((warn_unused_result));

/* The payoff on day of a replayed account (svc_foreclosure over its installments): the
 * principal not yet due, the interest on it since the last due date on or before day (or the
 * disbursal), what is due by day and unpaid, penal charges unpaid, less the credit. */
void svc_account_payoff(const struct svc_account *acct, const struct svc_inst *inst, int n,
                        const struct svc_result *res, sched_day day, struct svc_payoff *out);

/* What is due by day and unpaid (interest and principal of installments due on or before day),
 * and penal charges unpaid, of a replayed account. */
int64_t svc_account_due(const struct svc_inst *inst, int n, sched_day day);

#endif
