/*
 * schedule.h - the repayment schedule engine: installments of a term loan by declining-balance
 * EMI, flat interest or equal principal, with principal grace, the product's rounding and the
 * day count of a broken first period; the APR of the resulting cash flows; and the calendar
 * arithmetic of due dates. Pure: no I/O, no allocation, no global state.
 *
 * Amounts are integer minor units of the loan's currency (paise, cents); no amount is ever a
 * double. Rates are basis points of an annual percentage (1200 = 12 % a year), so the monthly
 * rate is r = rate_bps / 120,000 and a month's interest on B is B x rate_bps / 120,000 rounded
 * half-even (100000.00 at 12 % -> 1000.00).
 */
#ifndef LOANFLOW_SCHEDULE_H
#define LOANFLOW_SCHEDULE_H

#include <stddef.h>
#include <stdint.h>

/* A calendar date as days since 1970-01-01 (proleptic Gregorian; may be negative). */
typedef int32_t sched_day;

/* The days of y-m-d (years 1 to 9999, 1 <= m <= 12, 1 <= d <= days in that month); INT32_MIN
 * when invalid. */
sched_day sched_date(int y, int m, int d);
/* Splits a day into *y, *m, *d. */
void sched_ymd(sched_day day, int *y, int *m, int *d);
/* Parses "YYYY-MM-DD" exactly (len bytes, no more, no less); 0 with *out, -1 when invalid. */
int sched_parse_date(const char *s, size_t len, sched_day *out);
/* Formats as "YYYY-MM-DD" into buf (at least 11 bytes); returns buf. A day outside years 1 to
 * 9999 is written "0000-00-00". */
char *sched_format_date(sched_day day, char *buf);
/* The anchor's day of the month, k months after anchor; a day that does not exist in that month
 * falls on its last day (31 Jan + 1 -> 28/29 Feb, + 2 -> 31 Mar: always from the anchor). */
sched_day sched_add_months(sched_day anchor, int k);

enum sched_method {
    SCHED_EMI,             /* declining balance, equal installments (the default) */
    SCHED_FLAT,            /* flat interest on the original principal */
    SCHED_EQUAL_PRINCIPAL, /* declining balance, equal principal parts */
};

enum sched_rounding {
    SCHED_ROUND_HALF_EVEN, /* the installment half-even to the minor unit (the default) */
    SCHED_ROUND_CEIL_UNIT, /* the installment rounded up to the whole currency unit */
    SCHED_ROUND_MULTIPLE,  /* the installment to the nearest multiple of `multiple` whole units */
};

enum sched_daycount {
    SCHED_30_360,  /* every month is 30/360 of a year; a broken period counts 30/360 days */
    SCHED_ACT_365, /* a broken first period counts its actual days over 365 */
};

#define SCHED_MAX_INSTALLMENTS 600
#define SCHED_MAX_PRINCIPAL    99999999999999LL /* minor units: NUMERIC(14,2) for paise */
#define SCHED_MAX_RATE_BPS     10000            /* 100 % a year */
#define SCHED_MAX_MINOR_EXP    4
#define SCHED_MAX_MULTIPLE     1000000 /* whole currency units */

struct sched_terms {
    int64_t principal;   /* minor units, > 0 */
    int minor_exp;       /* the currency's minor-unit exponent: 2 for INR, 0 for JPY */
    int rate_bps;        /* annual rate in basis points, 0..10000 */
    int months;          /* number of installments, 1..SCHED_MAX_INSTALLMENTS */
    sched_day disbursed; /* interest runs from this day */
    sched_day first_due; /* the first installment's date; later ones monthly on its day */
    enum sched_method method;
    enum sched_rounding rounding;
    int multiple;        /* SCHED_ROUND_MULTIPLE: the multiple in whole currency units */
    int grace_principal; /* installments of interest only before the principal starts; the EMI
                            is that of the months left */
    enum sched_daycount daycount;
};

struct sched_item {
    int number;          /* 1.. */
    sched_day due;       /* due date */
    int64_t installment; /* interest + principal */
    int64_t interest;
    int64_t principal;
    int64_t balance; /* principal outstanding after this installment */
};

struct schedule {
    int count;   /* installments in items */
    int64_t emi; /* the regular installment (0 for equal principal: it varies) */
    int64_t total_interest;
    int64_t total_principal; /* == principal, always */
    int64_t total_payment;   /* total_interest + total_principal */
};

enum sched_error {
    SCHED_OK = 0,
    SCHED_E_PRINCIPAL,    /* principal <= 0 or too large */
    SCHED_E_RATE,         /* rate out of range */
    SCHED_E_MONTHS,       /* months out of range, or grace >= months */
    SCHED_E_DATES,        /* first_due on or before disbursed, or more than two months after it,
                             or a date outside years 1 to 9999 */
    SCHED_E_ROUNDING,     /* a multiple that is not positive, or a rounding so coarse that an
                             installment would not cover its interest or would repay the loan
                             before the last one; a minor_exp outside 0..SCHED_MAX_MINOR_EXP */
    SCHED_E_CAPACITY,     /* cap < months */
    SCHED_E_METHOD,       /* not one of enum sched_method */
    SCHED_E_DAYCOUNT,     /* not one of enum sched_daycount */
    SCHED_E_AMORTIZATION, /* the installments cannot repay the principal in whole minor units:
                             a principal too small for that many installments, or a rate and
                             tenure so high that an installment repays less than a minor unit
                             of principal and the rounding of interest compounds past it */
};

/*
 * Fills items[0 .. months-1] (cap entries available) and *out. Σ principal == principal exactly;
 * the last installment pays the remaining balance plus its interest (it absorbs the rounding
 * residue). Returns SCHED_OK or what is wrong with the terms; then *out is not written, and items
 * is not either unless the terms only fail while the installments are laid out
 * (SCHED_E_AMORTIZATION, or SCHED_E_ROUNDING for a rounding too coarse: items hold scratch then).
 *
 * A first period that is not exactly one month (first_due != sched_add_months(disbursed, 1)) is
 * broken: its interest is counted by t->daycount and the difference from a regular month's
 * interest is added to the first installment, whose principal part stays that of a regular one
 * (Fineract's behaviour): the EMI, and so every other installment, does not change.
 */
enum sched_error sched_build(const struct sched_terms *t, struct sched_item *items, int cap,
                             struct schedule *out) __attribute__((warn_unused_result));

/* The field a sched_error is about, for a 400 ("principal", "annual_rate", "tenure_months",
 * "first_due_date", "rounding", "method", "day_count"; "" for SCHED_OK; "tenure_months" for
 * SCHED_E_AMORTIZATION and SCHED_E_CAPACITY). */
const char *sched_error_field(enum sched_error e);
/* What is wrong, in words a client can act on (a static string; "" for SCHED_OK). */
const char *sched_error_message(enum sched_error e);

/*
 * The regular installment of principal over months at rate_bps: P·r·(1+r)^n ÷ ((1+r)^n − 1),
 * r = rate_bps / 120,000, or P ÷ n at rate 0, rounded half-even to the minor unit exactly (as
 * exact rational arithmetic would; see schedule.c). -1 when a term is out of range.
 */
int64_t sched_emi(int64_t principal, int rate_bps, int months);
/* The same figure found with exact multi-precision integer comparisons alone (a binary search
 * on the rounding points): about a thousand times slower, the reference sched_emi is tested
 * against. */
int64_t sched_emi_exact(int64_t principal, int rate_bps, int months);
/* One regular month's interest: balance x rate_bps / 120,000, half-even. */
int64_t sched_interest_month(int64_t balance, int rate_bps);

/* The names of the API and the command line: "emi", "flat", "equal_principal"; "30/360",
 * "actual/365"; "half_even", "ceil_unit", "multiple:M" (M whole units, 1..SCHED_MAX_MULTIPLE,
 * in *multiple). Parsers return 0, or -1 when s (NUL-terminated) is none of them. */
int sched_parse_method(const char *s, enum sched_method *out);
int sched_parse_daycount(const char *s, enum sched_daycount *out);
int sched_parse_rounding(const char *s, enum sched_rounding *out, int *multiple);
const char *sched_method_name(enum sched_method m);
const char *sched_daycount_name(enum sched_daycount d);

/*
 * The Annual Percentage Rate: 12 x the monthly internal rate of return of the cash flows
 * -net_disbursed at month 0 and each installment at its month, in basis points rounded half-even
 * (15.85 % -> 1585). The IRR is a ratio, so it is found with long double arithmetic (the amounts
 * stay integers). Returns 0 with *apr_bps, -1 when net_disbursed <= 0 or no rate in [0, 1000 %]
 * solves it.
 */
int sched_apr(int64_t net_disbursed, const struct sched_item *items, int count, int *apr_bps)
    __attribute__((warn_unused_result));

/*
 * Interest on balance for `days` days at rate_bps, Actual/365, half-even to the minor unit
 * (100000.00 at 12 % for 31 days -> 1019.18). For broken periods, foreclosure and the
 * cooling-off exit.
 */
int64_t sched_interest_days(int64_t balance, int rate_bps, int days);

/* Rounds num/den (den > 0) half-even to an integer. */
int64_t sched_div_half_even(__int128 num, __int128 den);

#endif
