/*
 * The servicing rules (app/pipeline/servicing.c) against SERVICING's vectors: the regulator's
 * days past due and classes (due 31 Mar: day 31 on 30 Apr, SMA-2 on 30 May, NPA on 29 Jun, each
 * one day before Fineract's count would say so), the two allocation strategies, the foreclosure
 * payoff, both part-prepayment modes, the cooling-off exit, and a penal charge that never
 * becomes interest.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "schedule.h"
#include "servicing.h"

static sched_day day(int y, int m, int d)
{
    sched_day x = sched_date(y, m, d);
    assert_true(x != INT32_MIN);
    return x;
}

static void test_days_past_due(void **state)
{
    (void)state;
    sched_day due = day(2027, 3, 31);
    struct {
        int m, d, dpd;
        const char *cls;
    } v[] = {
        {3, 30, 0, "STANDARD"}, {3, 31, 1, "SMA-0"},  {4, 29, 30, "SMA-0"}, {4, 30, 31, "SMA-1"},
        {5, 29, 60, "SMA-1"},   {5, 30, 61, "SMA-2"}, {6, 28, 90, "SMA-2"}, {6, 29, 91, "NPA"},
    };
    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        int dpd = svc_days_past_due(due, day(2027, v[i].m, v[i].d));
        assert_int_equal(dpd, v[i].dpd);
        assert_string_equal(svc_class_name(svc_classify(dpd)), v[i].cls);
    }
    /* Fineract's and Frappe's count (business date - due date) would still say SMA-2 on 29 Jun. */
    assert_int_equal(svc_classify((int)(day(2027, 6, 29) - due)), SVC_SMA2);
}

static void test_allocation(void **state)
{
    (void)state;
    /* Two due installments of 200 principal + 20 interest; 40 paid. */
    struct svc_due dues[2] = {{0, 0, 2000, 20000}, {0, 0, 2000, 20000}};
    struct svc_due paid[2];
    assert_int_equal(svc_allocate(SVC_RBI_INDIA, dues, 2, 4000, paid), 0);
    assert_int_equal(paid[0].interest, 2000);
    assert_int_equal(paid[1].interest, 2000);
    assert_int_equal(paid[0].principal + paid[1].principal, 0);
    assert_int_equal(svc_allocate(SVC_STANDARD_ORDER, dues, 2, 4000, paid), 0);
    assert_int_equal(paid[0].interest, 2000);
    assert_int_equal(paid[0].principal, 2000);
    assert_int_equal(paid[1].interest + paid[1].principal, 0);
    /* Penal charges: first for standard, last for rbi_india; an overpayment is left over. */
    struct svc_due pen[2] = {{50000, 0, 2000, 20000}, {0, 0, 2000, 20000}};
    assert_int_equal(svc_allocate(SVC_STANDARD_ORDER, pen, 2, 50000, paid), 0);
    assert_int_equal(paid[0].penal, 50000);
    assert_int_equal(paid[0].interest, 0);
    assert_int_equal(svc_allocate(SVC_RBI_INDIA, pen, 2, 50000, paid), 0);
    assert_int_equal(paid[0].interest + paid[1].interest, 4000);
    assert_int_equal(paid[0].principal + paid[1].principal, 40000);
    assert_int_equal(paid[0].penal, 6000);
    assert_int_equal(svc_allocate(SVC_RBI_INDIA, pen, 2, 100000, paid), 100000 - 94000);
    assert_int_equal(svc_allocate(SVC_STANDARD_ORDER, pen, 2, -5, paid), 0);
    enum svc_strategy s;
    assert_int_equal(svc_parse_strategy("rbi_india", &s), 0);
    assert_int_equal(s, SVC_RBI_INDIA);
    assert_int_equal(svc_parse_strategy("standard", &s), 0);
    assert_int_equal(s, SVC_STANDARD_ORDER);
    assert_int_equal(svc_parse_strategy("fifo", &s), -1);
}

/* Loan A: 100,000.00 at 12 % for 12 months, first due 2027-01-15. */
static void loan_a(struct sched_item items[12], struct schedule *s)
{
    struct sched_terms t = {
        .principal = 10000000,
        .minor_exp = 2,
        .rate_bps = 1200,
        .months = 12,
        .disbursed = day(2026, 12, 15),
        .first_due = day(2027, 1, 15),
        .method = SCHED_EMI,
        .rounding = SCHED_ROUND_HALF_EVEN,
        .daycount = SCHED_30_360,
    };
    assert_int_equal(sched_build(&t, items, 12, s), SCHED_OK);
}

static void test_foreclosure(void **state)
{
    (void)state;
    struct sched_item items[12];
    struct schedule s;
    loan_a(items, &s);
    assert_int_equal(items[2].balance, 7610802);
    struct svc_payoff p;
    svc_foreclosure(items[2].balance, 1200, items[2].due, items[2].due + 15, 0, 0, 0, 0, &p);
    assert_int_equal(p.interest, 37533);
    assert_int_equal(p.total, 7648335);
    /* Dues and penal charges are added, a credit taken off, a charge on the principal. */
    svc_foreclosure(items[2].balance, 1200, items[2].due, items[2].due + 15, 888488, 50000, 1000,
                    200, &p);
    assert_int_equal(p.charge, 152216);
    assert_int_equal(p.total, 7610802 + 37533 + 888488 + 50000 + 152216 - 1000);
    /* On the due date itself nothing has accrued. */
    svc_foreclosure(items[2].balance, 1200, items[2].due, items[2].due, 0, 0, 0, 0, &p);
    assert_int_equal(p.total, 7610802);
}

static void test_prepayment(void **state)
{
    (void)state;
    struct sched_item items[12], out[12];
    struct schedule s, r;
    loan_a(items, &s);
    int64_t balance = items[2].balance - 2000000; /* 56,108.02 after a 20,000 prepayment */
    assert_int_equal(balance, 5610802);
    sched_day next = items[3].due;
    assert_int_equal(svc_reschedule(balance, 1200, 9, s.emi, SVC_REDUCE_EMI, next, out, 12, &r),
                     SCHED_OK);
    assert_int_equal(r.count, 9);
    assert_int_equal(r.emi, 655007);
    assert_int_equal(r.total_principal, balance);
    assert_int_equal(svc_reschedule(balance, 1200, 9, s.emi, SVC_REDUCE_TENURE, next, out, 12, &r),
                     SCHED_OK);
    assert_int_equal(r.count, 7);
    for (int i = 0; i < 6; i++)
        assert_int_equal(out[i].installment, 888488);
    assert_int_equal(out[6].installment, 494887);
    assert_int_equal(out[6].balance, 0);
    assert_int_equal(out[0].due, next);
    int64_t sum = 0;
    for (int i = 0; i < r.count; i++)
        sum += out[i].principal;
    assert_int_equal(sum, balance);
    /* An installment that cannot even pay the interest, or a longer loan than before: refused. */
    assert_int_equal(svc_reschedule(balance, 1200, 9, 56108, SVC_REDUCE_TENURE, next, out, 12, &r),
                     SCHED_E_AMORTIZATION);
    assert_int_equal(svc_reschedule(balance, 1200, 3, s.emi, SVC_REDUCE_TENURE, next, out, 12, &r),
                     SCHED_E_AMORTIZATION);
    assert_int_equal(svc_reschedule(0, 1200, 9, s.emi, SVC_REDUCE_TENURE, next, out, 12, &r),
                     SCHED_E_PRINCIPAL);
}

static void test_cooling_off_and_penal(void **state)
{
    (void)state;
    assert_int_equal(svc_cooling_off_exit(10000000, 1200, 2), 10006575);
    assert_int_equal(svc_cooling_off_exit(10000000, 1200, 0), 10000000);
    /* The first EMI missed with a 500 penal charge: period 2's interest stays 921.15; had the
     * charge been capitalised it would be 926.15. */
    struct sched_item items[12];
    struct schedule s;
    loan_a(items, &s);
    assert_int_equal(items[1].interest, 92115);
    assert_int_equal(sched_interest_month(items[0].balance + 50000, 1200), 92615);
}

/* ---- the replayed account ---- */

static struct svc_account acct_a(void)
{
    struct svc_account a = {
        .principal = 10000000,
        .rate_bps = 1200,
        .apr_bps = 1200,
        .disbursed = day(2026, 12, 15),
        .strategy = SVC_RBI_INDIA,
        .penal_charge = 50000,
        .last_day_end = 0,
        .charge_bps = 0,
        .cooling_off_days = 3,
    };
    return a;
}

/* Loan A's schedule as the replay's installments. */
static int inst_a(struct svc_inst *inst)
{
    struct sched_item items[12];
    struct schedule s;
    loan_a(items, &s);
    memset(inst, 0, sizeof(*inst) * 12);
    for (int i = 0; i < 12; i++) {
        inst[i].number = items[i].number;
        inst[i].due = items[i].due;
        inst[i].interest = items[i].interest;
        inst[i].principal = items[i].principal;
        inst[i].balance = items[i].balance;
    }
    return 12;
}

static struct svc_event pay(sched_day v, int64_t amount)
{
    struct svc_event e = {.kind = SVC_EV_REPAYMENT, .value = v, .amount = amount};
    return e;
}

static void test_replay_on_time_and_missed(void **state)
{
    (void)state;
    struct svc_inst inst[SVC_MAX_INSTALLMENTS];
    struct svc_account a = acct_a();
    int n = inst_a(inst);
    struct svc_result r;
    /* Three EMIs on their due dates: balance 76,108.02, nothing charged. */
    struct svc_event ev[3] = {pay(inst[0].due, 888488), pay(inst[1].due, 888488),
                              pay(inst[2].due, 888488)};
    a.last_day_end = inst[3].due;
    assert_int_equal(svc_replay(&a, inst, n, SVC_MAX_INSTALLMENTS, ev, 3, &r), SCHED_OK);
    assert_int_equal(r.outstanding, 7610802);
    assert_int_equal(r.penal_due, 50000); /* the fourth, unpaid at its day-end */
    assert_int_equal(inst[2].settled_on, inst[2].due);
    assert_int_equal(inst[3].settled_on, 0);
    assert_int_equal(inst[0].penal + inst[1].penal + inst[2].penal, 0);
    assert_int_equal(ev[0].split.interest, 100000);
    assert_int_equal(ev[0].split.principal, 788488);

    /* The first EMI missed: the penal charge sits in its own bucket, period 2's interest stays
     * 921.15; paid a day late (rbi_india: interest, principal, then penal) it settles then. */
    n = inst_a(inst);
    a.last_day_end = inst[0].due;
    assert_int_equal(svc_replay(&a, inst, n, SVC_MAX_INSTALLMENTS, NULL, 0, &r), SCHED_OK);
    assert_int_equal(inst[0].penal, 50000);
    assert_int_equal(inst[1].interest, 92115);
    struct svc_event late[1] = {pay(inst[0].due + 1, 888488)};
    a.last_day_end = inst[0].due + 1;
    assert_int_equal(svc_replay(&a, inst, n, SVC_MAX_INSTALLMENTS, late, 1, &r), SCHED_OK);
    assert_int_equal(inst[0].settled_on, inst[0].due + 1);
    assert_int_equal(r.penal_due, 50000);
    assert_int_equal(late[0].split.penal, 0);
    /* Backdated to the due date itself: no charge at all. */
    late[0].value = inst[0].due;
    assert_int_equal(svc_replay(&a, inst, n, SVC_MAX_INSTALLMENTS, late, 1, &r), SCHED_OK);
    assert_int_equal(inst[0].penal, 0);
    assert_int_equal(r.penal_due, 0);
}

static void test_replay_allocation_and_credit(void **state)
{
    (void)state;
    /* The vector: two due installments of 200 + 20, 40 paid. */
    struct svc_inst inst[2] = {
        {.number = 1, .due = day(2027, 1, 1), .interest = 2000, .principal = 20000},
        {.number = 2, .due = day(2027, 2, 1), .interest = 2000, .principal = 20000},
    };
    struct svc_account a = acct_a();
    a.disbursed = day(2026, 12, 1);
    a.penal_charge = 0;
    struct svc_event ev[1] = {pay(day(2027, 2, 1), 4000)};
    struct svc_result r;
    assert_int_equal(svc_replay(&a, inst, 2, 2, ev, 1, &r), SCHED_OK);
    assert_int_equal(inst[0].paid.interest, 2000);
    assert_int_equal(inst[1].paid.interest, 2000);
    assert_int_equal(ev[0].split.principal, 0);
    a.strategy = SVC_STANDARD_ORDER;
    assert_int_equal(svc_replay(&a, inst, 2, 2, ev, 1, &r), SCHED_OK);
    assert_int_equal(inst[0].paid.interest, 2000);
    assert_int_equal(inst[0].paid.principal, 2000);
    assert_int_equal(inst[1].paid.interest, 0);
    /* Everything and 1.00 more: closed, the 1.00 a credit, never lost. */
    ev[0].amount = 44100;
    assert_int_equal(svc_replay(&a, inst, 2, 2, ev, 1, &r), SCHED_OK);
    assert_int_equal(r.closed, SVC_CLOSED_PAID);
    assert_int_equal(r.credit, 100);
    assert_int_equal(ev[0].to_credit, 100);
    /* Paid in advance (before the first due date), rbi_india: principal first. */
    a.strategy = SVC_RBI_INDIA;
    ev[0] = pay(day(2026, 12, 20), 21000);
    assert_int_equal(svc_replay(&a, inst, 2, 2, ev, 1, &r), SCHED_OK);
    assert_int_equal(inst[0].paid.principal, 20000);
    assert_int_equal(inst[0].paid.interest, 1000);
    assert_int_equal(r.outstanding, 20000);
    assert_int_equal(r.closed, SVC_OPEN);
}

static void test_replay_prepayment_and_foreclosure(void **state)
{
    (void)state;
    struct svc_inst inst[SVC_MAX_INSTALLMENTS];
    struct svc_account a = acct_a();
    struct svc_result r;
    int n = inst_a(inst);
    sched_day d3 = inst[2].due;
    struct svc_event ev[4] = {
        pay(inst[0].due, 888488),
        pay(inst[1].due, 888488),
        pay(inst[2].due, 888488),
        {.kind = SVC_EV_PREPAYMENT, .value = d3, .amount = 2000000, .mode = SVC_REDUCE_EMI}};
    assert_int_equal(svc_replay(&a, inst, n, SVC_MAX_INSTALLMENTS, ev, 4, &r), SCHED_OK);
    assert_int_equal(r.count, 12);
    assert_int_equal(r.outstanding, 5610802);
    for (int i = 3; i < 11; i++)
        assert_int_equal(inst[i].interest + inst[i].principal, 655007);
    assert_int_equal(ev[3].split.principal, 2000000);

    n = inst_a(inst);
    ev[3].mode = SVC_REDUCE_TENURE;
    assert_int_equal(svc_replay(&a, inst, n, SVC_MAX_INSTALLMENTS, ev, 4, &r), SCHED_OK);
    assert_int_equal(r.count, 10);
    for (int i = 3; i < 9; i++)
        assert_int_equal(inst[i].interest + inst[i].principal, 888488);
    assert_int_equal(inst[9].interest + inst[9].principal, 494887);

    /* The quote 15 days into period 4, and a prepayment of exactly it: foreclosed. */
    n = inst_a(inst);
    assert_int_equal(svc_replay(&a, inst, n, SVC_MAX_INSTALLMENTS, ev, 3, &r), SCHED_OK);
    struct svc_payoff p;
    svc_account_payoff(&a, inst, r.count, &r, d3 + 15, &p);
    assert_int_equal(p.principal, 7610802);
    assert_int_equal(p.interest, 37533);
    assert_int_equal(p.total, 7648335);
    ev[3] = (struct svc_event){.kind = SVC_EV_PREPAYMENT, .value = d3 + 15, .amount = 7648335 + 5};
    assert_int_equal(svc_replay(&a, inst, n, SVC_MAX_INSTALLMENTS, ev, 4, &r), SCHED_OK);
    assert_int_equal(r.closed, SVC_CLOSED_FORECLOSED);
    assert_int_equal(r.count, 4);
    assert_int_equal(r.outstanding, 0);
    assert_int_equal(ev[3].split.interest, 37533);
    assert_int_equal(ev[3].to_credit, 5);
    assert_int_equal(inst[3].settled_on, d3 + 15);
    /* A payment after the close is a credit. */
    struct svc_event after[5] = {ev[0], ev[1], ev[2], ev[3], pay(d3 + 20, 100)};
    n = inst_a(inst);
    assert_int_equal(svc_replay(&a, inst, n, SVC_MAX_INSTALLMENTS, after, 5, &r), SCHED_OK);
    assert_int_equal(r.credit, 105);
}

static void test_replay_cooling_off(void **state)
{
    (void)state;
    struct svc_inst inst[SVC_MAX_INSTALLMENTS];
    struct svc_account a = acct_a();
    struct svc_result r;
    int n = inst_a(inst);
    struct svc_event ev[1] = {
        {.kind = SVC_EV_COOLING_OFF, .value = a.disbursed + 2, .amount = 10006575}};
    assert_int_equal(svc_replay(&a, inst, n, SVC_MAX_INSTALLMENTS, ev, 1, &r), SCHED_OK);
    assert_int_equal(r.closed, SVC_CLOSED_COOLING_OFF);
    assert_int_equal(ev[0].split.interest, 6575);
    assert_int_equal(ev[0].split.principal, 10000000);
    assert_int_equal(r.count, 1);
    /* A day after the period: an ordinary (advance) repayment, the loan stays open. */
    n = inst_a(inst);
    ev[0].value = a.disbursed + 4;
    assert_int_equal(svc_replay(&a, inst, n, SVC_MAX_INSTALLMENTS, ev, 1, &r), SCHED_OK);
    assert_int_equal(r.closed, SVC_OPEN);
    /* Short of the amount: also a repayment. */
    n = inst_a(inst);
    ev[0].value = a.disbursed + 2;
    ev[0].amount = 10006574;
    assert_int_equal(svc_replay(&a, inst, n, SVC_MAX_INSTALLMENTS, ev, 1, &r), SCHED_OK);
    assert_int_equal(r.closed, SVC_OPEN);
}

/* A small deterministic generator for the property test (xorshift64*). */
static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;
static uint64_t rnd(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545f4914f6cdd1dULL;
}
static int64_t rnd_in(int64_t lo, int64_t hi)
{
    return lo + (int64_t)(rnd() % (uint64_t)(hi - lo + 1));
}

/*
 * Random loans and random repayments (every kind, any order of value dates, amounts from a
 * paisa to more than the loan), replayed: whatever comes in is accounted for to the paisa.
 * Each payment's split adds up to its amount; the principal disbursed is the principal repaid
 * plus the principal outstanding; no bucket is paid beyond what it owes; an installment is
 * settled exactly when its interest and principal are paid; due dates stay in order.
 */
static void test_replay_properties(void **state)
{
    (void)state;
    static struct svc_inst inst[SVC_MAX_INSTALLMENTS];
    static struct sched_item items[SVC_MAX_INSTALLMENTS];
    int ran = 0, closed = 0, rescheduled = 0, quoted = 0;
    for (int round = 0; round < 3000; round++) {
        struct sched_terms t = {
            .principal = rnd_in(100000, 5000000000LL),
            .minor_exp = 2,
            .rate_bps = (int)rnd_in(0, 3600),
            .months = (int)rnd_in(1, 72),
            .disbursed = day(2026, 1, 1) + (sched_day)rnd_in(0, 700),
            .method = SCHED_EMI,
            .rounding = SCHED_ROUND_HALF_EVEN,
            .daycount = SCHED_30_360,
        };
        t.first_due = sched_add_months(t.disbursed, 1);
        struct schedule s;
        if (sched_build(&t, items, SVC_MAX_INSTALLMENTS, &s) != SCHED_OK)
            continue;
        struct svc_account a = {
            .principal = t.principal,
            .rate_bps = t.rate_bps,
            .apr_bps = t.rate_bps + (int)rnd_in(0, 500),
            .disbursed = t.disbursed,
            .strategy = rnd() % 2 ? SVC_RBI_INDIA : SVC_STANDARD_ORDER,
            .penal_charge = rnd() % 3 ? 50000 : 0,
            .last_day_end = t.disbursed + (sched_day)rnd_in(0, 31 * t.months + 60),
            .charge_bps = rnd() % 4 ? 0 : (int)rnd_in(1, 400),
            .cooling_off_days = 3,
        };
        int n = s.count;
        memset(inst, 0, sizeof(*inst) * (size_t)n);
        for (int i = 0; i < n; i++) {
            inst[i].number = items[i].number;
            inst[i].due = items[i].due;
            inst[i].interest = items[i].interest;
            inst[i].principal = items[i].principal;
            inst[i].balance = items[i].balance;
        }
        struct svc_event ev[13];
        int nev = (int)rnd_in(0, 12);
        sched_day v = t.disbursed;
        for (int j = 0; j < nev; j++) {
            v += (sched_day)rnd_in(0, 45);
            int k = (int)rnd_in(0, 9);
            ev[j] = (struct svc_event){
                .kind = k < 6   ? SVC_EV_REPAYMENT
                        : k < 9 ? SVC_EV_PREPAYMENT
                                : SVC_EV_COOLING_OFF,
                .value = v,
                .amount = rnd() % 5 ? rnd_in(1, s.emi * 2 + 1) : rnd_in(1, t.principal * 2),
                .mode = rnd() % 2 ? SVC_REDUCE_EMI : SVC_REDUCE_TENURE,
            };
        }
        struct svc_result r;
        enum sched_error err = svc_replay(&a, inst, n, SVC_MAX_INSTALLMENTS, ev, nev, &r);
        if (err != SCHED_OK)
            continue; /* a re-schedule the engine refuses is reported, never half-applied */
        int64_t repaid = 0, penal_split = 0, to_credit = 0;
        for (int j = 0; j < nev; j++) {
            const struct svc_event *e = &ev[j];
            assert_int_equal(e->split.penal + e->split.fee + e->split.interest +
                                 e->split.principal + e->to_credit,
                             e->amount);
            assert_true(e->split.penal >= 0 && e->split.interest >= 0 && e->split.principal >= 0 &&
                        e->to_credit >= 0);
            repaid += e->split.principal;
            penal_split += e->split.penal;
            to_credit += e->to_credit;
        }
        assert_int_equal(repaid + r.outstanding, t.principal);
        assert_true(r.credit >= to_credit);
        int64_t penal_paid = 0, outstanding = 0;
        for (int i = 0; i < r.count; i++) {
            const struct svc_inst *it = &inst[i];
            assert_true(it->paid.interest >= 0 && it->paid.interest <= it->interest);
            assert_true(it->paid.principal >= 0 && it->paid.principal <= it->principal);
            assert_true(it->paid.penal >= 0 && it->paid.penal <= it->penal);
            assert_int_equal(it->settled_on != 0, it->paid.interest == it->interest &&
                                                      it->paid.principal == it->principal);
            if (i > 0)
                assert_true(it->due >= inst[i - 1].due);
            penal_paid += it->paid.penal;
            outstanding += it->principal - it->paid.principal;
        }
        assert_int_equal(penal_split, penal_paid);
        assert_int_equal(outstanding, r.outstanding);
        assert_int_equal(to_credit, r.credit);
        if (r.closed != SVC_OPEN)
            assert_int_equal(r.outstanding, 0);
        int64_t interest_split = 0, interest_paid = 0;
        for (int j = 0; j < nev; j++)
            interest_split += ev[j].split.interest;
        for (int i = 0; i < r.count; i++)
            interest_paid += inst[i].paid.interest;
        assert_int_equal(interest_split, interest_paid);
        /* The quote is what closes it: a prepayment of exactly the payoff forecloses. */
        if (r.closed == SVC_OPEN && nev < 12) {
            sched_day q = v + (sched_day)rnd_in(0, 40);
            struct svc_payoff po;
            svc_account_payoff(&a, inst, r.count, &r, q, &po);
            int ahead = 0;
            for (int i = 0; i < r.count; i++)
                ahead += inst[i].due > q;
            if (ahead > 0 && po.total > 0 && (a.last_day_end < q || po.penal == 0)) {
                n = s.count;
                memset(inst, 0, sizeof(*inst) * (size_t)n);
                for (int i = 0; i < n; i++) {
                    inst[i].number = items[i].number;
                    inst[i].due = items[i].due;
                    inst[i].interest = items[i].interest;
                    inst[i].principal = items[i].principal;
                    inst[i].balance = items[i].balance;
                }
                ev[nev] = (struct svc_event){.kind = SVC_EV_PREPAYMENT,
                                             .value = q,
                                             .amount = po.total,
                                             .mode = SVC_REDUCE_TENURE};
                struct svc_account a2 = a;
                if (a2.last_day_end >= q)
                    a2.last_day_end = q - 1; /* the quote knows only the day-ends run */
                struct svc_result r2;
                if (svc_replay(&a2, inst, n, SVC_MAX_INSTALLMENTS, ev, nev + 1, &r2) == SCHED_OK) {
                    assert_int_not_equal(r2.closed, SVC_OPEN);
                    assert_int_equal(r2.outstanding, 0);
                    quoted++;
                }
            }
        }
        ran++;
        closed += r.closed != SVC_OPEN;
        rescheduled += r.count != n;
    }
    /* The cases must exercise what they claim to: most replay, some close, some re-schedule. */
    assert_true(ran > 2500);
    assert_true(closed > 100);
    assert_true(rescheduled > 100);
    assert_true(quoted > 300);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_days_past_due),
        cmocka_unit_test(test_allocation),
        cmocka_unit_test(test_foreclosure),
        cmocka_unit_test(test_prepayment),
        cmocka_unit_test(test_cooling_off_and_penal),
        cmocka_unit_test(test_replay_on_time_and_missed),
        cmocka_unit_test(test_replay_allocation_and_credit),
        cmocka_unit_test(test_replay_prepayment_and_foreclosure),
        cmocka_unit_test(test_replay_cooling_off),
        cmocka_unit_test(test_replay_properties),
    };
    return cmocka_run_group_tests_name("servicing", tests, NULL, NULL);
}
