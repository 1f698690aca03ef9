/*
 * The schedule engine against the lending reference's figures, to the paisa: the EMI table, a
 * Fineract test, grace, flat, equal principal, the product roundings, broken periods, the APR of
 * a KFS, foreclosure and prepayment, the calendar; then properties over a deterministic sweep of
 * random terms (Σ principal == P, the fast EMI equal to the exact one) and the JSON shape.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "schedule.h"
#include "schedule_json.h"

#define LAKH 10000000 /* 100000.00 in paise */

static struct sched_item items[SCHED_MAX_INSTALLMENTS];

static sched_day day(int y, int m, int d)
{
    sched_day v = sched_date(y, m, d);
    assert_int_not_equal(v, INT32_MIN);
    return v;
}

/* Terms with a regular first month (disbursed 5 Jan 2024, first due 5 Feb 2024). */
static struct sched_terms terms(int64_t principal, int rate_bps, int months)
{
    return (struct sched_terms){
        .principal = principal,
        .minor_exp = 2,
        .rate_bps = rate_bps,
        .months = months,
        .disbursed = day(2024, 1, 5),
        .first_due = day(2024, 2, 5),
    };
}

static struct schedule build(const struct sched_terms *t)
{
    struct schedule s;
    memset(&s, 0, sizeof(s));
    assert_int_equal(sched_build(t, items, SCHED_MAX_INSTALLMENTS, &s), SCHED_OK);
    assert_int_equal(s.count, t->months);
    return s;
}

/* The invariants every schedule keeps. */
static void check_sums(const struct sched_terms *t, const struct schedule *s)
{
    int64_t p = 0, i = 0, balance = t->principal;
    for (int k = 0; k < s->count; k++) {
        const struct sched_item *it = &items[k];
        assert_int_equal(it->number, k + 1);
        assert_int_equal(it->installment, it->principal + it->interest);
        assert_true(it->principal >= 0 && it->interest >= 0);
        balance -= it->principal;
        assert_int_equal(it->balance, balance);
        if (k + 1 < s->count)
            assert_true(balance > 0);
        assert_int_equal(it->due, sched_add_months(t->first_due, k));
        p += it->principal;
        i += it->interest;
    }
    assert_int_equal(balance, 0);
    assert_int_equal(p, t->principal);
    assert_int_equal(s->total_principal, t->principal);
    assert_int_equal(s->total_interest, i);
    assert_int_equal(s->total_payment, p + i);
}

static void test_emi_table(void **state)
{
    (void)state;
    static const struct {
        int64_t p;
        int rate, n;
        int64_t emi, interest1, principal1, last, total_interest;
    } rows[] = {
        {LAKH, 1200, 12, 888488, 100000, 788488, 888485, 661853},
        {50000000, 1050, 60, 1074695, 437500, 637195, 1074694, 14481699},
        {25000000, 900, 36, 794993, 187500, 607493, 795003, 3619758},
        {LAKH, 0, 12, 833333, 0, 833333, 833337, 0},
    };
    for (size_t r = 0; r < sizeof(rows) / sizeof(rows[0]); r++) {
        struct sched_terms t = terms(rows[r].p, rows[r].rate, rows[r].n);
        struct schedule s = build(&t);
        check_sums(&t, &s);
        assert_int_equal(s.emi, rows[r].emi);
        assert_int_equal(sched_emi(rows[r].p, rows[r].rate, rows[r].n), rows[r].emi);
        assert_int_equal(sched_emi_exact(rows[r].p, rows[r].rate, rows[r].n), rows[r].emi);
        assert_int_equal(items[0].installment, rows[r].emi);
        assert_int_equal(items[0].interest, rows[r].interest1);
        assert_int_equal(items[0].principal, rows[r].principal1);
        assert_int_equal(items[rows[r].n - 1].installment, rows[r].last);
        assert_int_equal(s.total_interest, rows[r].total_interest);
        for (int k = 1; k + 1 < rows[r].n; k++)
            assert_int_equal(items[k].installment, rows[r].emi);
    }
}

/* Fineract: 12,000 at 2 % a month (24 % a year) for 4 months. */
static void test_fineract_four_months(void **state)
{
    (void)state;
    static const int64_t principal[4] = {291149, 296972, 302911, 308968};
    static const int64_t interest[4] = {24000, 18177, 12238, 6179};
    struct sched_terms t = terms(1200000, 2400, 4);
    struct schedule s = build(&t);
    check_sums(&t, &s);
    assert_int_equal(s.emi, 315149);
    for (int k = 0; k < 4; k++) {
        assert_int_equal(items[k].principal, principal[k]);
        assert_int_equal(items[k].interest, interest[k]);
    }
    assert_int_equal(items[0].installment, 315149);
    assert_int_equal(items[2].installment, 315149);
    assert_int_equal(items[3].installment, 315147);
}

static void test_grace(void **state)
{
    (void)state;
    struct sched_terms t = terms(LAKH, 1200, 12);
    t.grace_principal = 2;
    struct schedule s = build(&t);
    check_sums(&t, &s);
    for (int k = 0; k < 2; k++) {
        assert_int_equal(items[k].principal, 0);
        assert_int_equal(items[k].interest, 100000);
        assert_int_equal(items[k].balance, LAKH);
    }
    assert_int_equal(s.emi, 1055821);
    for (int k = 2; k < 12; k++)
        assert_int_equal(items[k].installment, 1055821);
    assert_int_equal(s.total_interest, 758210);
}

static void test_flat(void **state)
{
    (void)state;
    struct sched_terms t = terms(LAKH, 1200, 12);
    t.method = SCHED_FLAT;
    struct schedule s = build(&t);
    check_sums(&t, &s);
    assert_int_equal(s.emi, 933333);
    for (int k = 0; k < 11; k++) {
        assert_int_equal(items[k].installment, 933333);
        assert_int_equal(items[k].interest, 100000);
    }
    assert_int_equal(items[11].principal, 833337); /* the residue lands in the last */
    assert_int_equal(items[11].interest, 100000);
    assert_int_equal(s.total_interest, 1200000);

    /* A flat total that is not a multiple of the monthly figure: the last absorbs it. */
    t = terms(1000001, 1000, 7);
    t.method = SCHED_FLAT;
    s = build(&t);
    check_sums(&t, &s);
    assert_int_equal(s.total_interest, sched_div_half_even((__int128)1000001 * 1000 * 7, 120000));

    /* 8.6 paise a month for 600 months: 9 a month would overshoot the total of 5160, so each
     * month takes 8 (5160 / 600 rounded down) and the last 368. */
    t = terms(1032000, 1, 600);
    t.method = SCHED_FLAT;
    s = build(&t);
    check_sums(&t, &s);
    assert_int_equal(s.total_interest, 5160);
    assert_int_equal(items[0].interest, 8);
    assert_int_equal(items[599].interest, 5160 - 599 * 8);
}

static void test_equal_principal(void **state)
{
    (void)state;
    struct sched_terms t = terms(LAKH, 1200, 12);
    t.method = SCHED_EQUAL_PRINCIPAL;
    struct schedule s = build(&t);
    check_sums(&t, &s);
    assert_int_equal(s.emi, 0);
    for (int k = 0; k < 11; k++)
        assert_int_equal(items[k].principal, 833333);
    assert_int_equal(items[0].installment, 933333);
    assert_int_equal(items[11].installment, 841670);
    assert_int_equal(s.total_interest, 650000);
}

static void test_product_rounding(void **state)
{
    (void)state;
    struct sched_terms t = terms(LAKH, 1200, 12);
    t.rounding = SCHED_ROUND_CEIL_UNIT;
    struct schedule s = build(&t);
    check_sums(&t, &s);
    assert_int_equal(s.emi, 888500);
    assert_int_equal(items[0].installment, 888500);
    assert_int_equal(items[11].installment, 888346);

    t.rounding = SCHED_ROUND_MULTIPLE;
    t.multiple = 10;
    s = build(&t);
    check_sums(&t, &s);
    assert_int_equal(s.emi, 888000);
    t.multiple = 100;
    s = build(&t);
    check_sums(&t, &s);
    assert_int_equal(s.emi, 890000);

    /* An EMI that is a whole unit exactly is not rounded up: 100.00 at 12 % for one month is
     * 101.00 (the exact path decides). */
    t = terms(10000, 1200, 1);
    t.rounding = SCHED_ROUND_CEIL_UNIT;
    s = build(&t);
    assert_int_equal(s.emi, 10100);

    /* A currency without minor units: the unit is the yen itself. */
    t = terms(100000, 1200, 12);
    t.minor_exp = 0;
    t.rounding = SCHED_ROUND_CEIL_UNIT;
    s = build(&t);
    check_sums(&t, &s);
    assert_int_equal(s.emi, 8885);

    /* Equal principal with ceil_unit rounds the principal part. */
    t = terms(LAKH, 1200, 12);
    t.method = SCHED_EQUAL_PRINCIPAL;
    t.rounding = SCHED_ROUND_CEIL_UNIT;
    s = build(&t);
    check_sums(&t, &s);
    assert_int_equal(items[0].principal, 833400);
    assert_int_equal(items[11].principal, LAKH - 11 * 833400);
}

/* Exact ties of the EMI go half-even: 1.00 at 6 % for one month is 1.005. */
static void test_emi_ties(void **state)
{
    (void)state;
    static const struct {
        int64_t p;
        int rate, n;
        int64_t emi; /* exact EMI = emi ± 0.5 */
    } ties[] = {
        {100, 600, 1, 100},                     /* 100.5 */
        {300, 600, 1, 302},                     /* 301.5 */
        {14400060000, 1, 2, 7200120000},        /* 7200120000.5 */
        {2700045000, 4, 2, 1350090002},         /* 1350090001.5 */
        {96002400020000, 3, 3, 32002400060000}, /* 32002400060000.5 */
    };
    for (size_t i = 0; i < sizeof(ties) / sizeof(ties[0]); i++) {
        assert_int_equal(sched_emi(ties[i].p, ties[i].rate, ties[i].n), ties[i].emi);
        assert_int_equal(sched_emi_exact(ties[i].p, ties[i].rate, ties[i].n), ties[i].emi);
    }
    assert_int_equal(sched_emi(0, 1200, 12), -1);
    assert_int_equal(sched_emi(LAKH, 10001, 12), -1);
    assert_int_equal(sched_emi(LAKH, 1200, 601), -1);
}

/* A broken first period: only the first installment's interest (and so the installment) moves. */
static void test_day_count(void **state)
{
    (void)state;
    assert_int_equal(sched_interest_days(LAKH, 1200, 31), 101918);
    assert_int_equal(sched_interest_month(LAKH, 1200), 100000);

    struct sched_terms regular = terms(LAKH, 1200, 12);
    struct schedule rs = build(&regular);
    struct sched_item reg[12];
    memcpy(reg, items, sizeof(reg));
    /* 30/360, one exact month: a regular month (1000.00), even from 31 Jan to 29 Feb. */
    regular.disbursed = day(2024, 1, 31);
    regular.first_due = day(2024, 2, 29);
    build(&regular);
    assert_int_equal(items[0].interest, 100000);

    /* 4 Feb -> 6 Mar 2024 is 31 actual days and not one month. */
    struct sched_terms t = terms(LAKH, 1200, 12);
    t.disbursed = day(2024, 2, 4);
    t.first_due = day(2024, 3, 6);
    t.daycount = SCHED_ACT_365;
    struct schedule s = build(&t);
    check_sums(&t, &s);
    assert_int_equal(items[0].interest, 101918);
    assert_int_equal(items[0].principal, reg[0].principal);
    assert_int_equal(items[0].installment, 888488 + 1918);
    assert_int_equal(s.emi, rs.emi);
    for (int k = 1; k < 12; k++) {
        assert_int_equal(items[k].installment, reg[k].installment);
        assert_int_equal(items[k].interest, reg[k].interest);
    }
    assert_int_equal(s.total_interest, rs.total_interest + 1918);

    /* The same period by 30/360 is 32 days: 1000.00 x 32/30. */
    t.daycount = SCHED_30_360;
    s = build(&t);
    assert_int_equal(items[0].interest, 106667);
    assert_int_equal(items[0].installment, 888488 + 6667);

    /* A short period (20 Jan -> 5 Feb): 16 actual days, 15 by 30/360. */
    t.disbursed = day(2024, 1, 20);
    t.first_due = day(2024, 2, 5);
    t.daycount = SCHED_ACT_365;
    s = build(&t);
    check_sums(&t, &s);
    assert_int_equal(items[0].interest, 52603);
    assert_int_equal(items[0].installment, 888488 - (100000 - 52603));
    t.daycount = SCHED_30_360;
    s = build(&t);
    assert_int_equal(items[0].interest, 50000);

    /* A single installment with a broken period pays the principal and the broken interest. */
    t = terms(LAKH, 1200, 1);
    t.disbursed = day(2024, 2, 4);
    t.first_due = day(2024, 3, 6);
    t.daycount = SCHED_ACT_365;
    s = build(&t);
    assert_int_equal(items[0].installment, LAKH + 101918);

    /* Two months exactly is allowed, a day more is not. */
    t = terms(LAKH, 1200, 12);
    t.disbursed = day(2024, 1, 31);
    t.first_due = day(2024, 3, 31);
    s = build(&t);
    assert_int_equal(items[0].interest, 200000); /* 60 days of 30/360 */
    t.first_due = day(2024, 4, 1);
    assert_int_equal(sched_build(&t, items, SCHED_MAX_INSTALLMENTS, &s), SCHED_E_DATES);
}

static void test_apr(void **state)
{
    (void)state;
    struct sched_terms t = terms(LAKH, 1200, 12);
    struct schedule s = build(&t);
    int apr = -1;
    assert_int_equal(sched_apr(LAKH - 200000, items, s.count, &apr), 0);
    assert_int_equal(apr, 1585);
    assert_int_equal(sched_apr(LAKH - 236000, items, s.count, &apr), 0);
    assert_int_equal(apr, 1656);
    assert_int_equal(sched_apr(LAKH, items, s.count, &apr), 0);
    assert_int_equal(apr, 1200);

    /* The KFS: 47,000 over 24 months at 21 %, fee 1,175 + 18 % tax = 1,386.50. The exact EMI is
     * 2415.1256, so 2415.13 half-even (the KFS prints 2415.14); the APR is 24.15 % either way. */
    t = terms(4700000, 2100, 24);
    s = build(&t);
    assert_int_equal(s.emi, 241513);
    assert_int_equal(sched_apr(4700000 - 138650, items, s.count, &apr), 0);
    assert_int_equal(apr, 2415);
    struct sched_item kfs[24];
    for (int k = 0; k < 24; k++)
        kfs[k] = (struct sched_item){.number = k + 1, .installment = 241514};
    assert_int_equal(sched_apr(4700000 - 138650, kfs, 24, &apr), 0);
    assert_int_equal(apr, 2415);

    /* No rate in range: payments below the amount, or above 1000 % a year. */
    assert_int_equal(sched_apr(0, items, s.count, &apr), -1);
    assert_int_equal(sched_apr(s.total_payment + 1, items, s.count, &apr), -1);
    kfs[0].installment = 100000000;
    assert_int_equal(sched_apr(1000000, kfs, 1, &apr), -1);
    /* Rate 0: the flows repay exactly the amount. */
    t = terms(LAKH, 0, 12);
    s = build(&t);
    assert_int_equal(sched_apr(LAKH, items, s.count, &apr), 0);
    assert_int_equal(apr, 0);
}

/* Reference §3: foreclosure, prepayment, penal charges, cooling-off, on loan A. */
static void test_servicing_figures(void **state)
{
    (void)state;
    struct sched_terms t = terms(LAKH, 1200, 12);
    build(&t);
    assert_int_equal(items[1].interest, 92115); /* period 2 stays 921.15 with a penalty aside */
    assert_int_equal(items[2].balance, 7610802);
    int64_t interest = sched_interest_days(items[2].balance, 1200, 15);
    assert_int_equal(interest, 37533);
    assert_int_equal(items[2].balance + interest, 7648335);
    /* 20,000 prepaid after 3 EMIs, the EMI reduced over the 9 months left. */
    assert_int_equal(sched_emi(7610802 - 2000000, 1200, 9), 655007);
    /* Cooling-off exit on day 2 at 12 %. */
    assert_int_equal(LAKH + sched_interest_days(LAKH, 1200, 2), 10006575);
}

static void test_dates(void **state)
{
    (void)state;
    assert_int_equal(sched_date(1970, 1, 1), 0);
    assert_int_equal(sched_date(1969, 12, 31), -1);
    assert_int_equal(sched_date(2000, 3, 1) - sched_date(2000, 2, 28), 2);
    assert_int_equal(sched_date(2100, 3, 1) - sched_date(2100, 2, 28), 1);
    assert_int_equal(sched_date(2023, 2, 29), INT32_MIN);
    assert_int_equal(sched_date(2024, 13, 1), INT32_MIN);
    assert_int_equal(sched_date(2024, 4, 31), INT32_MIN);
    assert_int_equal(sched_date(0, 1, 1), INT32_MIN);
    assert_int_equal(sched_date(10000, 1, 1), INT32_MIN);

    /* 31 Jan through a leap year and a common year: always from the anchor. */
    sched_day a = day(2024, 1, 31);
    assert_int_equal(sched_add_months(a, 1), day(2024, 2, 29));
    assert_int_equal(sched_add_months(a, 2), day(2024, 3, 31));
    assert_int_equal(sched_add_months(a, 3), day(2024, 4, 30));
    assert_int_equal(sched_add_months(a, 4), day(2024, 5, 31));
    assert_int_equal(sched_add_months(a, 13), day(2025, 2, 28));
    assert_int_equal(sched_add_months(a, 14), day(2025, 3, 31));
    assert_int_equal(sched_add_months(a, -1), day(2023, 12, 31));
    a = day(2023, 1, 31);
    assert_int_equal(sched_add_months(a, 1), day(2023, 2, 28));
    assert_int_equal(sched_add_months(a, 2), day(2023, 3, 31));
    /* 29 Feb anchor. */
    a = day(2024, 2, 29);
    assert_int_equal(sched_add_months(a, 1), day(2024, 3, 29));
    assert_int_equal(sched_add_months(a, 12), day(2025, 2, 28));
    assert_int_equal(sched_add_months(a, 48), day(2028, 2, 29));
    /* 30th -> February. */
    a = day(2023, 1, 30);
    assert_int_equal(sched_add_months(a, 1), day(2023, 2, 28));
    assert_int_equal(sched_add_months(a, 2), day(2023, 3, 30));
    assert_int_equal(sched_add_months(day(2024, 1, 30), 1), day(2024, 2, 29));
    /* 2100 is not a leap year, 2000 is. */
    assert_int_equal(sched_add_months(day(2100, 1, 31), 1), day(2100, 2, 28));
    assert_int_equal(sched_add_months(day(2000, 1, 31), 1), day(2000, 2, 29));

    /* A schedule's due dates from a 31 Jan anchor. */
    struct sched_terms t = terms(LAKH, 1200, 14);
    t.disbursed = day(2023, 12, 31);
    t.first_due = day(2024, 1, 31);
    build(&t);
    char buf[11];
    static const char *const want[14] = {"2024-01-31", "2024-02-29", "2024-03-31", "2024-04-30",
                                         "2024-05-31", "2024-06-30", "2024-07-31", "2024-08-31",
                                         "2024-09-30", "2024-10-31", "2024-11-30", "2024-12-31",
                                         "2025-01-31", "2025-02-28"};
    for (int k = 0; k < 14; k++)
        assert_string_equal(sched_format_date(items[k].due, buf), want[k]);

    /* Parsing is exact. */
    sched_day d;
    assert_int_equal(sched_parse_date("2024-02-29", 10, &d), 0);
    assert_int_equal(d, day(2024, 2, 29));
    assert_int_equal(sched_parse_date("0001-01-01", 10, &d), 0);
    assert_int_equal(sched_parse_date("9999-12-31", 10, &d), 0);
    assert_string_equal(sched_format_date(d, buf), "9999-12-31");
    static const char *const bad[] = {"2023-02-29", "2024-2-29",  "2024-02-29 ", "2024/02/29",
                                      "0000-01-01", "2024-00-10", "2024-01-32",  "2024-01-0a",
                                      "",           "+024-01-01"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(sched_parse_date(bad[i], strlen(bad[i]), &d), -1);
    assert_int_equal(sched_parse_date("2024-02-29x", 10, &d), 0); /* len bytes, no more */
    assert_string_equal(sched_format_date(INT32_MAX, buf), "0000-00-00");

    /* Every day from 1900 to 2100 round-trips. */
    int y, m, dd;
    for (sched_day x = day(1900, 1, 1); x <= day(2100, 12, 31); x++) {
        sched_ymd(x, &y, &m, &dd);
        assert_int_equal(sched_date(y, m, dd), x);
    }
    sched_ymd(-1, &y, &m, &dd);
    assert_true(y == 1969 && m == 12 && dd == 31);
}

static enum sched_error try_build(const struct sched_terms *t, int cap)
{
    struct schedule s = {.count = -7};
    enum sched_error e = sched_build(t, items, cap, &s);
    if (e != SCHED_OK)
        assert_int_equal(s.count, -7); /* *out untouched */
    return e;
}

static void test_invalid(void **state)
{
    (void)state;
    struct sched_terms t = terms(LAKH, 1200, 12);
    assert_int_equal(try_build(&t, 12), SCHED_OK);
    assert_int_equal(try_build(&t, 11), SCHED_E_CAPACITY);
    t.principal = 0;
    assert_int_equal(try_build(&t, 12), SCHED_E_PRINCIPAL);
    t.principal = SCHED_MAX_PRINCIPAL + 1;
    assert_int_equal(try_build(&t, 12), SCHED_E_PRINCIPAL);
    t.principal = SCHED_MAX_PRINCIPAL;
    t.rate_bps = SCHED_MAX_RATE_BPS;
    assert_int_equal(try_build(&t, 12), SCHED_OK);
    t = terms(LAKH, -1, 12);
    assert_int_equal(try_build(&t, 12), SCHED_E_RATE);
    t.rate_bps = 10001;
    assert_int_equal(try_build(&t, 12), SCHED_E_RATE);
    t = terms(LAKH, 1200, 0);
    assert_int_equal(try_build(&t, 600), SCHED_E_MONTHS);
    t.months = 601;
    assert_int_equal(try_build(&t, 601), SCHED_E_MONTHS);
    t.months = 12;
    t.grace_principal = 12;
    assert_int_equal(try_build(&t, 12), SCHED_E_MONTHS);
    t.grace_principal = -1;
    assert_int_equal(try_build(&t, 12), SCHED_E_MONTHS);
    t = terms(LAKH, 1200, 12);
    t.first_due = t.disbursed;
    assert_int_equal(try_build(&t, 12), SCHED_E_DATES);
    t.first_due = t.disbursed - 1;
    assert_int_equal(try_build(&t, 12), SCHED_E_DATES);
    t.first_due = sched_add_months(t.disbursed, 2) + 1;
    assert_int_equal(try_build(&t, 12), SCHED_E_DATES);
    t.disbursed = 0;
    t.first_due = INT32_MIN;
    assert_int_equal(try_build(&t, 12), SCHED_E_DATES);
    t = terms(LAKH, 1200, 12);
    t.disbursed = day(9999, 1, 1);
    t.first_due = day(9999, 2, 1);
    assert_int_equal(try_build(&t, 12), SCHED_E_DATES); /* the last due date is past 9999 */
    t = terms(LAKH, 1200, 12);
    t.rounding = SCHED_ROUND_MULTIPLE;
    t.multiple = 0;
    assert_int_equal(try_build(&t, 12), SCHED_E_ROUNDING);
    t.multiple = SCHED_MAX_MULTIPLE + 1;
    assert_int_equal(try_build(&t, 12), SCHED_E_ROUNDING);
    /* The nearest multiple of 100,000 rupees to 8884.88 is 0: no principal would be repaid. */
    t.multiple = 100000;
    assert_int_equal(try_build(&t, 12), SCHED_E_ROUNDING);
    /* The nearest multiple of 15,000 is 15,000: the loan would be repaid by the seventh. */
    t.multiple = 15000;
    assert_int_equal(try_build(&t, 12), SCHED_E_ROUNDING);
    t = terms(LAKH, 1200, 12);
    t.minor_exp = SCHED_MAX_MINOR_EXP + 1;
    assert_int_equal(try_build(&t, 12), SCHED_E_ROUNDING);
    t.minor_exp = 2;
    t.rounding = (enum sched_rounding)9;
    assert_int_equal(try_build(&t, 12), SCHED_E_ROUNDING);
    t = terms(LAKH, 1200, 12);
    t.method = (enum sched_method)7;
    assert_int_equal(try_build(&t, 12), SCHED_E_METHOD);
    t = terms(LAKH, 1200, 12);
    t.daycount = (enum sched_daycount)5;
    assert_int_equal(try_build(&t, 12), SCHED_E_DAYCOUNT);
    /* 0.07 cannot be split into twelve installments of whole paise. */
    t = terms(7, 0, 12);
    assert_int_equal(try_build(&t, 12), SCHED_E_AMORTIZATION);
    t.method = SCHED_EQUAL_PRINCIPAL;
    assert_int_equal(try_build(&t, 12), SCHED_E_AMORTIZATION);
    /* At 63.51 % for 491 months an installment repays 2 paise of principal over the interest:
     * the rounding of each month's interest compounds past it. */
    t = terms(3143726479546, 6351, 491);
    t.disbursed = t.first_due - 19;
    assert_int_equal(try_build(&t, 491), SCHED_E_AMORTIZATION);
    t = terms(12, 0, 12); /* but 0.12 can */
    assert_int_equal(try_build(&t, 12), SCHED_OK);

    static const struct {
        enum sched_error e;
        const char *field;
    } fields[] = {
        {SCHED_OK, ""},
        {SCHED_E_PRINCIPAL, "principal"},
        {SCHED_E_RATE, "annual_rate"},
        {SCHED_E_MONTHS, "tenure_months"},
        {SCHED_E_DATES, "first_due_date"},
        {SCHED_E_ROUNDING, "rounding"},
        {SCHED_E_CAPACITY, "tenure_months"},
        {SCHED_E_METHOD, "method"},
        {SCHED_E_DAYCOUNT, "day_count"},
        {SCHED_E_AMORTIZATION, "tenure_months"},
    };
    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
        assert_string_equal(sched_error_field(fields[i].e), fields[i].field);
        assert_true((fields[i].e == SCHED_OK) == (sched_error_message(fields[i].e)[0] == '\0'));
    }
}

static void test_names(void **state)
{
    (void)state;
    enum sched_method m;
    enum sched_daycount d;
    enum sched_rounding r;
    int multiple = 0;
    assert_int_equal(sched_parse_method("equal_principal", &m), 0);
    assert_int_equal(m, SCHED_EQUAL_PRINCIPAL);
    assert_string_equal(sched_method_name(SCHED_FLAT), "flat");
    assert_int_equal(sched_parse_method("EMI", &m), -1);
    assert_int_equal(sched_parse_daycount("actual/365", &d), 0);
    assert_int_equal(d, SCHED_ACT_365);
    assert_string_equal(sched_daycount_name(SCHED_30_360), "30/360");
    assert_int_equal(sched_parse_daycount("act/360", &d), -1);
    assert_int_equal(sched_parse_rounding("ceil_unit", &r, &multiple), 0);
    assert_int_equal(r, SCHED_ROUND_CEIL_UNIT);
    assert_int_equal(sched_parse_rounding("multiple:100", &r, &multiple), 0);
    assert_true(r == SCHED_ROUND_MULTIPLE && multiple == 100);
    static const char *const bad[] = {
        "multiple:", "multiple:0", "multiple:-5", "multiple:1x", "multiple:99999999999999999999",
        "ceil",      "",           NULL};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(sched_parse_rounding(bad[i], &r, &multiple), -1);

    assert_int_equal(sched_div_half_even(5, 2), 2);
    assert_int_equal(sched_div_half_even(7, 2), 4);
    assert_int_equal(sched_div_half_even(-5, 2), -2);
    assert_int_equal(sched_div_half_even(-7, 2), -4);
    assert_int_equal(sched_div_half_even(2, 3), 1);
    assert_int_equal(sched_div_half_even(-2, 3), -1);
    assert_int_equal(sched_div_half_even(1, 3), 0);
}

static uint64_t rng = 0x2545f4914f6cdd1dULL;

static uint64_t rnd(uint64_t n)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng % n;
}

/* Random terms of every kind: each schedule keeps its invariants, and the EMI method's regular
 * installment is the exact one. */
static void test_sweep(void **state)
{
    (void)state;
    int built = 0, refused = 0;
    for (int i = 0; i < 3000; i++) {
        struct sched_terms t = terms(0, 0, 1);
        t.principal = 1 + (int64_t)rnd(i % 3 == 0 ? 100000 : (uint64_t)SCHED_MAX_PRINCIPAL);
        t.rate_bps = (int)rnd(SCHED_MAX_RATE_BPS + 1);
        t.months = 1 + (int)rnd(SCHED_MAX_INSTALLMENTS);
        t.method = (enum sched_method)rnd(3);
        t.rounding = (enum sched_rounding)rnd(3);
        t.multiple = 1 + (int)rnd(100);
        t.minor_exp = (int)rnd(3);
        t.grace_principal = rnd(4) == 0 ? (int)rnd((uint64_t)t.months) : 0;
        t.daycount = (enum sched_daycount)rnd(2);
        t.disbursed = day(2020, 1, 1) + (int)rnd(3000);
        t.first_due = t.disbursed + 1 + (int)rnd(58);
        struct schedule s = {0};
        enum sched_error e = sched_build(&t, items, SCHED_MAX_INSTALLMENTS, &s);
        if (e != SCHED_OK) {
            /* Only terms that cannot amortize in whole paise (a tiny principal, or more than
             * 36 % a year over decades) or a rounding too coarse are refused. */
            assert_true(e == SCHED_E_AMORTIZATION || e == SCHED_E_ROUNDING);
            assert_true(t.principal < 100000 || t.rate_bps > 3600 ||
                        t.rounding != SCHED_ROUND_HALF_EVEN);
            refused++;
            continue;
        }
        built++;
        check_sums(&t, &s);
        if (t.method == SCHED_EMI && t.rounding == SCHED_ROUND_HALF_EVEN &&
            (i % 10 == 0 || t.months <= 24))
            assert_int_equal(
                s.emi, sched_emi_exact(t.principal, t.rate_bps, t.months - t.grace_principal));
    }
    assert_true(built > 2000);
    print_message("# sweep: %d schedules built, %d refused\n", built, refused);

    /* The fast EMI against the exact one over the whole range of terms. */
    for (int i = 0; i < 1000; i++) {
        int64_t p = 1 + (int64_t)rnd(i % 2 ? 1000000 : (uint64_t)SCHED_MAX_PRINCIPAL);
        int rate = 1 + (int)rnd(SCHED_MAX_RATE_BPS);
        int n = 1 + (int)rnd(i % 4 ? 60 : SCHED_MAX_INSTALLMENTS);
        assert_int_equal(sched_emi(p, rate, n), sched_emi_exact(p, rate, n));
    }
}

/* The bench's loan: 5,000,000 at 9.5 % for 30 years. */
static void test_360(void **state)
{
    (void)state;
    struct sched_terms t = terms(500000000, 950, 360);
    struct schedule s = build(&t);
    check_sums(&t, &s);
    assert_int_equal(s.emi, 4204271);
    assert_int_equal(sched_emi_exact(500000000, 950, 360), 4204271);
    assert_int_equal(items[0].interest, 3958333);
    assert_int_equal(items[0].principal, 245938);
    assert_int_equal(items[359].installment, 4204301);
    assert_int_equal(items[359].interest, 33023);
    assert_int_equal(s.total_interest, 1013537590);
    assert_int_equal(items[359].due, day(2054, 1, 5));
    /* 600 installments at the largest principal and rate still sum exactly. */
    t = terms(SCHED_MAX_PRINCIPAL, SCHED_MAX_RATE_BPS, SCHED_MAX_INSTALLMENTS);
    s = build(&t);
    check_sums(&t, &s);
    assert_int_equal(s.emi, sched_emi_exact(SCHED_MAX_PRINCIPAL, SCHED_MAX_RATE_BPS, 600));
}

static void test_json(void **state)
{
    (void)state;
    struct sched_terms t = terms(LAKH, 1200, 12);
    struct schedule s = build(&t);
    json_object *o = sched_json(items, &s);
    assert_non_null(o);
    json_object *list = json_object_object_get(o, "schedule");
    assert_int_equal(json_object_array_length(list), 12);
    assert_string_equal(
        json_object_to_json_string_ext(json_object_array_get_idx(list, 0), JSON_C_TO_STRING_PLAIN),
        "{\"number\":1,\"due_date\":\"2024-02-05\",\"installment\":8884.88,\"interest\":1000.00,"
        "\"principal\":7884.88,\"balance\":92115.12}");
    assert_string_equal(
        json_object_to_json_string_ext(json_object_object_get(o, "totals"), JSON_C_TO_STRING_PLAIN),
        "{\"emi\":8884.88,\"total_interest\":6618.53,\"total_principal\":100000.00,"
        "\"total_payment\":106618.53,\"installments\":12}");
    json_object_put(o);

    t.method = SCHED_EQUAL_PRINCIPAL;
    s = build(&t);
    o = sched_json_totals(&s);
    assert_string_equal(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN),
                        "{\"emi\":null,\"total_interest\":6500.00,\"total_principal\":100000.00,"
                        "\"total_payment\":106500.00,\"installments\":12}");
    json_object_put(o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_emi_table),
        cmocka_unit_test(test_fineract_four_months),
        cmocka_unit_test(test_grace),
        cmocka_unit_test(test_flat),
        cmocka_unit_test(test_equal_principal),
        cmocka_unit_test(test_product_rounding),
        cmocka_unit_test(test_emi_ties),
        cmocka_unit_test(test_day_count),
        cmocka_unit_test(test_apr),
        cmocka_unit_test(test_servicing_figures),
        cmocka_unit_test(test_dates),
        cmocka_unit_test(test_invalid),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_sweep),
        cmocka_unit_test(test_360),
        cmocka_unit_test(test_json),
    };
    return cmocka_run_group_tests_name("schedule", tests, NULL, NULL);
}
