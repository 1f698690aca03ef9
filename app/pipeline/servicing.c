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
