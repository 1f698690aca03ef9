/*
 * The pure rules of servicing a loan (see servicing.h). Each function takes the state it needs
 * as plain values, so the day-end and the repayment use cases can call them on rows, and the
 * unit tests on SERVICING's vectors.
 *
 * Days past due follow the regulator's example rather than Fineract's and Frappe's
 * (business date - due date, a day later): the due date's own day-end is day 1. The allocation
 * strategies are Fineract's two: rbi-india takes every due interest before any principal, and
 * mifos-standard pays each installment in full (penalties, fees, interest, principal) before the
 * next. All interest is rounded half-even once, where it is computed.
 */
#include "servicing.h"

#include <string.h>

int svc_days_past_due(sched_day due, sched_day day)
{
    return day < due ? 0 : (int)(day - due) + 1;
}

enum svc_class svc_classify(int dpd)
{
    if (dpd <= 0)
        return SVC_STANDARD;
    if (dpd <= 30)
        return SVC_SMA0;
    if (dpd <= 60)
        return SVC_SMA1;
    if (dpd <= 90)
        return SVC_SMA2;
    return SVC_NPA;
}

const char *svc_class_name(enum svc_class c)
{
    switch (c) {
    case SVC_STANDARD:
        return "STANDARD";
    case SVC_SMA0:
        return "SMA-0";
    case SVC_SMA1:
        return "SMA-1";
    case SVC_SMA2:
        return "SMA-2";
    case SVC_NPA:
        return "NPA";
    }
    return "STANDARD";
}

int svc_parse_strategy(const char *s, enum svc_strategy *out)
{
    if (!strcmp(s, "rbi_india"))
        *out = SVC_RBI_INDIA;
    else if (!strcmp(s, "standard"))
        *out = SVC_STANDARD_ORDER;
    else
        return -1;
    return 0;
}

/* Pays up to *left of one bucket: min(due - paid so far, *left). */
static void take(int64_t due, int64_t *paid, int64_t *left)
{
    int64_t open = due - *paid;
    int64_t x = open < *left ? open : *left;
    if (x > 0) {
        *paid += x;
        *left -= x;
    }
}

int64_t svc_allocate(enum svc_strategy strategy, const struct svc_due *dues, int n, int64_t amount,
                     struct svc_due *paid)
{
    int64_t left = amount > 0 ? amount : 0;
    memset(paid, 0, sizeof(*paid) * (size_t)(n > 0 ? n : 0));
    if (strategy == SVC_STANDARD_ORDER) {
        for (int i = 0; i < n && left > 0; i++) {
            take(dues[i].penal, &paid[i].penal, &left);
            take(dues[i].fee, &paid[i].fee, &left);
            take(dues[i].interest, &paid[i].interest, &left);
            take(dues[i].principal, &paid[i].principal, &left);
        }
        return left;
    }
    /* rbi_india: bucket by bucket across installments, oldest first. */
    for (int i = 0; i < n && left > 0; i++)
        take(dues[i].interest, &paid[i].interest, &left);
    for (int i = 0; i < n && left > 0; i++)
        take(dues[i].principal, &paid[i].principal, &left);
    for (int i = 0; i < n && left > 0; i++)
        take(dues[i].fee, &paid[i].fee, &left);
    for (int i = 0; i < n && left > 0; i++)
        take(dues[i].penal, &paid[i].penal, &left);
    return left;
}

void svc_foreclosure(int64_t principal, int rate_bps, sched_day last_due, sched_day day,
                     int64_t dues, int64_t penal, int64_t credit, int charge_bps,
                     struct svc_payoff *out)
{
    int days = day > last_due ? (int)(day - last_due) : 0;
    out->principal = principal;
    out->interest = sched_interest_days(principal, rate_bps, days);
    out->dues = dues;
    out->penal = penal;
    out->charge = sched_div_half_even((__int128)principal * charge_bps, 10000);
    out->credit = credit;
    out->total = principal + out->interest + dues + penal + out->charge - credit;
}

enum sched_error svc_reschedule(int64_t balance, int rate_bps, int months_left, int64_t emi,
                                enum svc_prepay_mode mode, sched_day first_due,
                                struct sched_item *items, int cap, struct schedule *out)
{
    if (mode == SVC_REDUCE_EMI) {
        struct sched_terms t = {
            .principal = balance,
            .minor_exp = 2,
            .rate_bps = rate_bps,
            .months = months_left,
            .disbursed = sched_add_months(first_due, -1),
            .first_due = first_due,
            .method = SCHED_EMI,
            .rounding = SCHED_ROUND_HALF_EVEN,
            .daycount = SCHED_30_360,
        };
        return sched_build(&t, items, cap, out);
    }
    /* reduce_tenure: the same installment until the balance and its interest fit in one. */
    if (balance <= 0)
        return SCHED_E_PRINCIPAL;
    if (rate_bps < 0 || rate_bps > SCHED_MAX_RATE_BPS)
        return SCHED_E_RATE;
    if (months_left < 1 || months_left > cap)
        return months_left > cap ? SCHED_E_CAPACITY : SCHED_E_MONTHS;
    if (emi <= sched_interest_month(balance, rate_bps))
        return SCHED_E_AMORTIZATION; /* the installment would never repay the balance */
    int64_t b = balance, total_interest = 0;
    int k = 0;
    while (b > 0) {
        if (k == months_left)
            return SCHED_E_AMORTIZATION; /* cannot be longer than before the prepayment */
        int64_t interest = sched_interest_month(b, rate_bps);
        int64_t inst = b + interest <= emi ? b + interest : emi;
        struct sched_item *it = &items[k];
        it->number = k + 1;
        it->due = sched_add_months(first_due, k);
        it->installment = inst;
        it->interest = interest;
        it->principal = inst - interest;
        b -= it->principal;
        it->balance = b;
        total_interest += interest;
        k++;
    }
    out->count = k;
    out->emi = emi;
    out->total_interest = total_interest;
    out->total_principal = balance;
    out->total_payment = balance + total_interest;
    return SCHED_OK;
}

int64_t svc_cooling_off_exit(int64_t principal, int apr_bps, int days_held)
{
    return principal + sched_interest_days(principal, apr_bps, days_held > 0 ? days_held : 0);
}

/* ---- the account ------------------------------------------------------------------------ */

/* Adds up to *left to one bucket of an installment (paid toward due) and to the event's split. */
static void fill(int64_t due, int64_t *paid, int64_t *split, int64_t *left)
{
    int64_t before = *paid;
    take(due, paid, left);
    *split += *paid - before;
}

static void settle_if_paid(struct svc_inst *it, sched_day v)
{
    if (it->settled_on == 0 && it->paid.interest == it->interest &&
        it->paid.principal == it->principal)
        it->settled_on = v;
}

/* The day-ends of the due dates before `before` (and not after the last day-end run) not yet
 * applied: each installment unsettled at its due date's day-end takes the penal charge. */
static void day_ends(const struct svc_account *a, struct svc_inst *inst, int n, sched_day before)
{
    for (int i = 0; i < n; i++) {
        struct svc_inst *it = &inst[i];
        if (it->seen || it->due >= before || it->due > a->last_day_end)
            continue;
        it->seen = 1;
        if (it->settled_on == 0)
            it->penal = a->penal_charge;
    }
}

/* The index of the first installment due after day (n when none). */
static int first_after(const struct svc_inst *inst, int n, sched_day day)
{
    int k = 0;
    while (k < n && inst[k].due <= day)
        k++;
    return k;
}

/* Splits left over what is due on e->value by the strategy; returns what is left. */
static int64_t pay_dues(const struct svc_account *a, struct svc_inst *inst, int n,
                        struct svc_event *e, int64_t left)
{
    struct svc_due dues[SVC_MAX_INSTALLMENTS], paid[SVC_MAX_INSTALLMENTS];
    int k = first_after(inst, n, e->value);
    if (k == 0)
        return left;
    for (int i = 0; i < k; i++) {
        dues[i].penal = inst[i].penal - inst[i].paid.penal;
        dues[i].fee = 0;
        dues[i].interest = inst[i].interest - inst[i].paid.interest;
        dues[i].principal = inst[i].principal - inst[i].paid.principal;
    }
    left = svc_allocate(a->strategy, dues, k, left, paid);
    for (int i = 0; i < k; i++) {
        inst[i].paid.penal += paid[i].penal;
        inst[i].paid.interest += paid[i].interest;
        inst[i].paid.principal += paid[i].principal;
        e->split.penal += paid[i].penal;
        e->split.interest += paid[i].interest;
        e->split.principal += paid[i].principal;
        settle_if_paid(&inst[i], e->value);
    }
    return left;
}

/* Money beyond what is due pays the coming installments, nearest first: rbi_india principal
 * before interest (money paid in advance reduces principal), standard interest first. */
static int64_t pay_advance(const struct svc_account *a, struct svc_inst *inst, int n,
                           struct svc_event *e, int64_t left)
{
    for (int i = first_after(inst, n, e->value); i < n && left > 0; i++) {
        struct svc_inst *it = &inst[i];
        if (a->strategy == SVC_RBI_INDIA) {
            fill(it->principal, &it->paid.principal, &e->split.principal, &left);
            fill(it->interest, &it->paid.interest, &e->split.interest, &left);
        } else {
            fill(it->interest, &it->paid.interest, &e->split.interest, &left);
            fill(it->principal, &it->paid.principal, &e->split.principal, &left);
        }
        settle_if_paid(it, e->value);
    }
    return left;
}

/* When all principal is paid and nothing due or charged is open, the loan is closed on v: the
 * interest of installments not yet due is not owed (it would accrue on a zero balance). */
static void close_if_met(struct svc_inst *inst, int n, sched_day v, struct svc_result *res)
{
    int64_t principal_open = 0, penal_open = 0;
    for (int i = 0; i < n; i++) {
        principal_open += inst[i].principal - inst[i].paid.principal;
        penal_open += inst[i].penal - inst[i].paid.penal;
        if (inst[i].due <= v && inst[i].settled_on == 0)
            return;
    }
    if (principal_open != 0 || penal_open != 0)
        return;
    for (int i = 0; i < n; i++)
        if (inst[i].settled_on == 0) {
            inst[i].interest = inst[i].paid.interest;
            inst[i].settled_on = v;
        }
    res->closed = SVC_CLOSED_PAID;
    res->closed_on = v;
}

/* Collapses the installments from k on into one paid on v (the closing installment of a
 * foreclosure or an exit): interest as given, the principal still scheduled. Returns the new
 * count. */
static int collapse(struct svc_inst *inst, int n, int k, sched_day v, int64_t interest)
{
    int64_t principal = 0;
    for (int i = k; i < n; i++)
        principal += inst[i].principal;
    struct svc_inst *f = &inst[k];
    f->number = k + 1;
    f->due = v;
    f->interest = interest;
    f->principal = principal;
    f->balance = 0;
    f->penal = 0;
    f->paid = (struct svc_due){0, 0, interest, principal};
    f->settled_on = v;
    f->seen = 1;
    return k + 1;
}

static int64_t unpaid_principal(const struct svc_inst *inst, int from, int n)
{
    int64_t p = 0;
    for (int i = from; i < n; i++)
        p += inst[i].principal - inst[i].paid.principal;
    return p;
}

static int64_t paid_interest(const struct svc_inst *inst, int from, int n)
{
    int64_t p = 0;
    for (int i = from; i < n; i++)
        p += inst[i].paid.interest;
    return p;
}

/* A bucket of an event's split. */
enum bucket { B_INTEREST, B_PRINCIPAL, B_FEE, B_CREDIT };

static int64_t *bucket_of(struct svc_event *e, enum bucket b)
{
    switch (b) {
    case B_INTEREST:
        return &e->split.interest;
    case B_PRINCIPAL:
        return &e->split.principal;
    case B_FEE:
        return &e->split.fee;
    case B_CREDIT:
        break;
    }
    return &e->to_credit;
}

/* Reads up to amount of what the earlier payments ev[0..j) paid for as another bucket, the
 * newest first (interest paid in advance that did not accrue becomes credit; credit the
 * borrower had pays a payoff): each payment's total stays its amount. Returns what moved. */
static int64_t move(struct svc_event *ev, int j, enum bucket from, enum bucket to, int64_t amount)
{
    int64_t moved = 0;
    for (int k = j - 1; k >= 0 && moved < amount; k--) {
        int64_t *f = bucket_of(&ev[k], from);
        int64_t x = *f < amount - moved ? *f : amount - moved;
        *f -= x;
        *bucket_of(&ev[k], to) += x;
        moved += x;
    }
    return moved;
}

/* What closing the loan on v takes: the principal not yet due, the interest accrued on it
 * since the last due date (less what was paid in advance on the installments ahead; more paid
 * than accrued is the borrower's), and the foreclosure charge. k: the first installment ahead. */
struct payoff_parts {
    int k;
    int64_t principal, broken, adv, interest_owed, refund, charge;
};

static void payoff_parts(const struct svc_account *a, const struct svc_inst *inst, int n,
                         sched_day v, struct payoff_parts *p)
{
    p->k = first_after(inst, n, v);
    p->principal = unpaid_principal(inst, p->k, n);
    p->adv = paid_interest(inst, p->k, n);
    sched_day last_due = p->k > 0 ? inst[p->k - 1].due : a->disbursed;
    int days = v > last_due ? (int)(v - last_due) : 0;
    p->broken = sched_interest_days(p->principal, a->rate_bps, days);
    p->charge = sched_div_half_even((__int128)p->principal * a->charge_bps, 10000);
    p->interest_owed = p->broken > p->adv ? p->broken - p->adv : 0;
    p->refund = p->adv > p->broken ? p->adv - p->broken : 0;
}

/*
 * Closes the loan on e->value (ev[j]) when left, with the credit the borrower has, covers the
 * payoff; returns 1, or 0 when it does not (nothing changed). The credit pays first (the
 * earlier payments' credit is read as principal, interest, charge), then left; what left has
 * over is a credit to refund.
 */
static int foreclose(const struct svc_account *a, struct svc_inst *inst, int *n,
                     struct svc_event *ev, int j, int64_t *left, int partial_charge,
                     struct svc_result *res)
{
    struct svc_event *e = &ev[j];
    struct payoff_parts p;
    payoff_parts(a, inst, *n, e->value, &p);
    if (p.k == *n)
        return 0;
    int64_t avail = *left + res->credit + p.refund;
    if (avail < p.principal + p.interest_owed + (partial_charge ? 0 : p.charge))
        return 0;
    /* A prepayment that covers the principal and the interest closes the loan with what it
     * has of the charge (the lender's choice: the borrower asked to close it). */
    if (avail - p.principal - p.interest_owed < p.charge)
        p.charge = avail - p.principal - p.interest_owed;
    int64_t owed = p.principal + p.interest_owed + p.charge;
    res->credit += move(ev, j, B_INTEREST, B_CREDIT, p.refund);
    int64_t use = res->credit < owed ? res->credit : owed;
    int64_t cp = move(ev, j, B_CREDIT, B_PRINCIPAL, use < p.principal ? use : p.principal);
    int64_t ci =
        move(ev, j, B_CREDIT, B_INTEREST, use - cp < p.interest_owed ? use - cp : p.interest_owed);
    int64_t cf = move(ev, j, B_CREDIT, B_FEE, use - cp - ci);
    res->credit -= cp + ci + cf;
    e->split.principal += p.principal - cp;
    e->split.interest += p.interest_owed - ci;
    e->split.fee += p.charge - cf;
    *left -= owed - cp - ci - cf;
    *n = collapse(inst, *n, p.k, e->value, p.broken);
    e->to_credit += *left;
    res->credit += *left;
    *left = 0;
    e->closed = res->closed = SVC_CLOSED_FORECLOSED;
    res->closed_on = e->value;
    return 1;
}

/* A prepayment on e->value (ev[j]): what is due first; then the payoff (the loan is closed),
 * or a part of the principal, the rest of the loan re-scheduled by e->mode from the next due
 * date. Interest paid in advance (standard) stays interest and pays the new installments. */
static enum sched_error prepay(const struct svc_account *a, struct svc_inst *inst, int *n, int cap,
                               struct svc_event *ev, int j, struct svc_result *res)
{
    struct svc_event *e = &ev[j];
    int64_t left = pay_dues(a, inst, *n, e, e->amount);
    if (left == 0)
        return SCHED_OK;
    if (first_after(inst, *n, e->value) == *n) { /* nothing ahead: what is left is a credit */
        e->to_credit += left;
        res->credit += left;
        close_if_met(inst, *n, e->value, res);
        return SCHED_OK;
    }
    if (foreclose(a, inst, n, ev, j, &left, 1, res))
        return SCHED_OK;
    struct payoff_parts p;
    payoff_parts(a, inst, *n, e->value, &p);
    int k = p.k;
    enum svc_prepay_mode mode = e->mode;
    if (left >= p.principal) {
        /* The principal and more, but short of the accrued interest: the interest first, the
         * rest (less than the principal) reduces it, and the little left is re-scheduled by
         * tenure. */
        int64_t x = left < p.interest_owed ? left : p.interest_owed;
        e->split.interest += x;
        left -= x;
        for (int i = k; i < *n && x > 0; i++) { /* the accrued interest is paid as interest */
            int64_t open = inst[i].interest - inst[i].paid.interest;
            int64_t y = open < x ? open : x;
            inst[i].paid.interest += y;
            x -= y;
        }
        p.adv = paid_interest(inst, k, *n);
        mode = SVC_REDUCE_TENURE;
    }
    struct sched_item items[SVC_MAX_INSTALLMENTS];
    struct schedule s;
    int64_t emi = inst[k].interest + inst[k].principal;
    enum sched_error err = svc_reschedule(p.principal - left, a->rate_bps, *n - k, emi, mode,
                                          inst[k].due, items, cap - k, &s);
    if (err != SCHED_OK)
        return err;
    for (int i = 0; i < s.count; i++) {
        struct svc_inst *it = &inst[k + i];
        memset(it, 0, sizeof(*it));
        it->number = k + i + 1;
        it->due = items[i].due;
        it->interest = items[i].interest;
        it->principal = items[i].principal;
        it->balance = items[i].balance;
    }
    *n = k + s.count;
    e->split.principal += left;
    int64_t adv = p.adv;
    for (int i = k; i < *n && adv > 0; i++) {
        int64_t x = inst[i].interest < adv ? inst[i].interest : adv;
        inst[i].paid.interest = x;
        adv -= x;
    }
    /* Interest paid in advance that the new installments do not owe is the borrower's. */
    res->credit += move(ev, j + 1, B_INTEREST, B_CREDIT, adv);
    return SCHED_OK;
}

/* The cooling-off exit on e->value (ev[j]): the principal unpaid plus interest at the APR for
 * the days held, no penalty. Outside the period, or short of the amount, it is a repayment. */
static int exit_cooling_off(const struct svc_account *a, struct svc_inst *inst, int *n,
                            struct svc_event *ev, int j, struct svc_result *res)
{
    struct svc_event *e = &ev[j];
    int held = e->value > a->disbursed ? (int)(e->value - a->disbursed) : 0;
    if (held > a->cooling_off_days || *n == 0)
        return -1;
    int64_t principal = unpaid_principal(inst, 0, *n);
    int64_t interest = svc_cooling_off_exit(principal, a->apr_bps, held) - principal;
    int64_t adv = paid_interest(inst, 0, *n);
    int64_t owed = interest > adv ? interest - adv : 0;
    if (e->amount < principal + owed)
        return -1;
    e->split.principal += principal;
    e->split.interest += owed;
    e->to_credit += e->amount - principal - owed;
    res->credit += e->to_credit;
    res->credit += move(ev, j, B_INTEREST, B_CREDIT, adv > interest ? adv - interest : 0);
    *n = collapse(inst, *n, 0, e->value, interest);
    e->closed = res->closed = SVC_CLOSED_COOLING_OFF;
    res->closed_on = e->value;
    return 0;
}

enum sched_error svc_replay(const struct svc_account *a, struct svc_inst *inst, int n, int cap,
                            struct svc_event *ev, int nev, struct svc_result *res)
{
    memset(res, 0, sizeof(*res));
    if (n < 0 || n > cap || cap > SVC_MAX_INSTALLMENTS)
        return SCHED_E_CAPACITY;
    for (int i = 0; i < n; i++) {
        inst[i].penal = 0;
        inst[i].paid = (struct svc_due){0, 0, 0, 0};
        inst[i].settled_on = 0;
        inst[i].seen = 0;
    }
    for (int j = 0; j < nev; j++) {
        struct svc_event *e = &ev[j];
        e->split = (struct svc_due){0, 0, 0, 0};
        e->to_credit = 0;
        e->closed = SVC_OPEN;
        int64_t amount = e->amount > 0 ? e->amount : 0;
        if (res->closed != SVC_OPEN) { /* money on a closed loan is the borrower's */
            e->to_credit = amount;
            res->credit += amount;
            continue;
        }
        day_ends(a, inst, n, e->value);
        if (e->kind == SVC_EV_PREPAYMENT) {
            enum sched_error err = prepay(a, inst, &n, cap, ev, j, res);
            if (err != SCHED_OK)
                return err;
        } else if (e->kind != SVC_EV_COOLING_OFF ||
                   exit_cooling_off(a, inst, &n, ev, j, res) != 0) {
            int64_t left = pay_dues(a, inst, n, e, amount);
            /* Enough to close the loan closes it (the payoff, not the installments ahead with
             * their interest); less pays the installments ahead. */
            if (left > 0 && !foreclose(a, inst, &n, ev, j, &left, 0, res)) {
                left = pay_advance(a, inst, n, e, left);
                e->to_credit += left;
                res->credit += left;
                close_if_met(inst, n, e->value, res);
            }
        }
        if (res->closed != SVC_OPEN)
            e->closed = res->closed;
    }
    if (res->closed == SVC_OPEN && a->last_day_end > 0)
        day_ends(a, inst, n, a->last_day_end + 1);
    res->count = n;
    for (int i = 0; i < n; i++) {
        res->outstanding += inst[i].principal - inst[i].paid.principal;
        res->penal_due += inst[i].penal - inst[i].paid.penal;
    }
    return SCHED_OK;
}

int64_t svc_account_due(const struct svc_inst *inst, int n, sched_day day)
{
    int64_t due = 0;
    for (int i = 0; i < n; i++) {
        due += inst[i].penal - inst[i].paid.penal;
        if (inst[i].due <= day)
            due += inst[i].interest - inst[i].paid.interest + inst[i].principal -
                   inst[i].paid.principal;
    }
    return due;
}

void svc_account_payoff(const struct svc_account *a, const struct svc_inst *inst, int n,
                        const struct svc_result *res, sched_day day, struct svc_payoff *out)
{
    int k = first_after(inst, n, day);
    int64_t dues = 0, penal = 0;
    for (int i = 0; i < n; i++) {
        penal += inst[i].penal - inst[i].paid.penal;
        if (i < k)
            dues += inst[i].interest - inst[i].paid.interest + inst[i].principal -
                    inst[i].paid.principal;
    }
    sched_day last_due = k > 0 ? inst[k - 1].due : a->disbursed;
    svc_foreclosure(unpaid_principal(inst, k, n), a->rate_bps, last_due, day, dues, penal,
                    res->credit + paid_interest(inst, k, n), a->charge_bps, out);
}
