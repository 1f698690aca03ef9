/*
 * The repayment schedule engine (see schedule.h for the contract and SERVICING-style figures in
 * tests/unit/test_schedule.c).
 *
 * The one hard figure is the EMI, P·R·q^n ÷ (D·(q^n − D^n)) with D = 120,000 and q = D + R
 * (R the rate in basis points): exactly, q^n has up to 600 x 17 bits, so no fixed-width integer
 * holds it. The installment is therefore found in two steps:
 *
 *  - the fast path, in 128-bit fixed point. v = D/q is truncated to a 0.128 fraction and raised
 *    to the n-th power by left-to-right squaring, every product truncated too, so the computed
 *    ỹ never exceeds y = v^n and falls short by at most (2n − 1)·2^-128 (by induction: squaring
 *    doubles the error and adds one truncation, a multiplication by v adds two). w = 1 − v^n is
 *    at least 1 − v = R/q > 2^-17, so the relative error of w̃ = 1 − ỹ is below 2^-100.9. Then
 *    V = EMI·D·2^32 is approximated by s = floor(P·R·2^32 ÷ w̃) (one 160-bit shift-and-subtract
 *    division); EMI <= P·(1 + r) < 2^46.7 minor units, so V < 2^95.5 and V − s < 1 + 2^-5.4:
 *    the exact V lies in [s, s + 2). A rounding point (a half unit, or a whole unit for ceil)
 *    that is not within that window of s is decided by s alone, exactly.
 *  - the exact path, when a rounding point is inside the window (about one EMI in 2^47, and
 *    every exact tie, such as 1.00 at 1 % for one month being 1.005): the sign of EMI − N/2 is
 *    the sign of N·D^(n+1) − (N·D − 2·P·R)·q^n, both sides computed as multi-limb integers by
 *    multiplying by a few factors at a time, and compared. No rounding, no bignum library.
 *
 * So the installment is the one exact rational arithmetic gives, for every term in range, at
 * the cost of about 20 128-bit products and one long division. Everything else is a one-month
 * interest, B·R ÷ 120,000, in 64-bit integers (B·R < 10^18), rounded half-even.
 *
 * Choices the figures do not fix, written down: a rounding other than half-even applies to the
 * exact EMI (ceil_unit is the smallest whole unit at or above it, multiple:M the nearest multiple
 * of M units, a tie going to the even count of multiples, the house rule, where Fineract rounds
 * a tie up); for equal principal it applies to the constant principal part, for flat interest
 * to the installment P/n + P·r. A broken first period changes the first installment's interest
 * and so the installment, never its principal part (Fineract). The 30/360 count of a broken
 * period is the ISDA bond basis (a 31st counts as the 30th). The APR is a ratio, found in long
 * double by Newton's method inside a bisection bracket.
 */
#include "schedule.h"

#include <limits.h>
#include <math.h>
#include <string.h>

typedef unsigned __int128 u128;

#define MONTH_DEN  120000    /* 12 months x 10,000 basis points */
#define YEAR_DEN   3650000   /* 365 days x 10,000 basis points */
#define DAY360_DEN 3600000   /* 360 days x 10,000 basis points */
#define GUARD_BITS 32        /* fractional bits of the EMI in the fast path */
#define FIRST_DAY  (-719162) /* 0001-01-01 */
#define LAST_DAY   2932896   /* 9999-12-31 */

/* Integer sizes of the exact path: N < 2^50, D and q < 2^17, so N·D^(n+1) and a·q^n have at most
 * 67 + 17n bits. */
#define BIG_LIMBS ((SCHED_MAX_INSTALLMENTS * 17 + 67) / 64 + 2)

int64_t sched_div_half_even(__int128 num, __int128 den)
{
    __int128 q = num / den, rem = num % den; /* rem has num's sign */
    if (rem < 0) {
        rem = -rem;
        if (rem > den - rem || (rem == den - rem && (q & 1)))
            q--;
    } else if (rem > den - rem || (rem == den - rem && (q & 1))) {
        q++;
    }
    return (int64_t)q;
}

int64_t sched_interest_month(int64_t balance, int rate_bps)
{
    return sched_div_half_even((__int128)balance * rate_bps, MONTH_DEN);
}

/* The one-month interest of the schedule loop: 0 <= b <= SCHED_MAX_PRINCIPAL and 0 <= rate <=
 * 10,000, so b·rate < 10^18 fits 64 bits and the division by a constant stays cheap. */
static int64_t month_interest(int64_t b, int rate_bps)
{
    int64_t num = b * rate_bps, q = num / MONTH_DEN, rem = num % MONTH_DEN;
    if (rem > MONTH_DEN - rem || (rem == MONTH_DEN - rem && (q & 1)))
        q++;
    return q;
}

int64_t sched_interest_days(int64_t balance, int rate_bps, int days)
{
    return sched_div_half_even((__int128)balance * rate_bps * days, YEAR_DEN);
}

/* num/den rounded to a multiple of unit: up (ceil) or half-even on the count of units.
 * num >= 0, den > 0, unit > 0. */
static int64_t ratio_round(__int128 num, __int128 den, int64_t unit, int up)
{
    __int128 d = den * unit, k = num / d, rem = num % d;
    if (up ? rem > 0 : (rem > d - rem || (rem == d - rem && (k & 1))))
        k++;
    return (int64_t)(k * unit);
}

/* ---- calendar ---- */

static int is_leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int y, int m)
{
    static const unsigned char dim[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap(y) ? 29 : dim[m - 1];
}

/* Howard Hinnant's days_from_civil: proleptic Gregorian, any year. */
static sched_day days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return (sched_day)(era * 146097 + doe - 719468);
}

void sched_ymd(sched_day day, int *y, int *m, int *d)
{
    int64_t z = (int64_t)day + 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = (int)(yoe + era * 400 + (*m <= 2));
}

sched_day sched_date(int y, int m, int d)
{
    if (y < 1 || y > 9999 || m < 1 || m > 12 || d < 1 || d > days_in_month(y, m))
        return INT32_MIN;
    return days_from_civil(y, m, d);
}

int sched_parse_date(const char *s, size_t len, sched_day *out)
{
    if (s == NULL || len != 10 || s[4] != '-' || s[7] != '-')
        return -1;
    int v[3] = {0, 0, 0};
    static const int start[3] = {0, 5, 8}, width[3] = {4, 2, 2};
    for (int f = 0; f < 3; f++)
        for (int i = start[f]; i < start[f] + width[f]; i++) {
            if (s[i] < '0' || s[i] > '9')
                return -1;
            v[f] = v[f] * 10 + (s[i] - '0');
        }
    sched_day day = sched_date(v[0], v[1], v[2]);
    if (day == INT32_MIN)
        return -1;
    *out = day;
    return 0;
}

char *sched_format_date(sched_day day, char *buf)
{
    int y = 0, m = 0, d = 0;
    if (day >= FIRST_DAY && day <= LAST_DAY)
        sched_ymd(day, &y, &m, &d);
    const int v[3] = {y, m, d}, width[3] = {4, 2, 2};
    char *p = buf;
    for (int f = 0; f < 3; f++) {
        for (int i = width[f] - 1, x = v[f]; i >= 0; i--, x /= 10)
            p[i] = (char)('0' + x % 10);
        p += width[f];
        *p++ = f < 2 ? '-' : '\0';
    }
    return buf;
}

/* Day d of a month counted from January of year 0 (y·12 + m − 1), or that month's last day when
 * it is shorter. */
static sched_day month_day(int64_t month_index, int d)
{
    int64_t y = month_index >= 0 ? month_index / 12 : (month_index - 11) / 12;
    int m = (int)(month_index - y * 12) + 1;
    int last = days_in_month((int)y, m);
    return days_from_civil(y, m, d < last ? d : last);
}

sched_day sched_add_months(sched_day anchor, int k)
{
    int y, m, d;
    sched_ymd(anchor, &y, &m, &d);
    return month_day((int64_t)y * 12 + (m - 1) + k, d);
}

/* The 30/360 days from a to b, ISDA bond basis: a 31st counts as the 30th, and so does the end's
 * 31st when the start is a 30th or 31st. */
static int days_360(sched_day a, sched_day b)
{
    int y1, m1, d1, y2, m2, d2;
    sched_ymd(a, &y1, &m1, &d1);
    sched_ymd(b, &y2, &m2, &d2);
    if (d1 == 31)
        d1 = 30;
    if (d2 == 31 && d1 == 30)
        d2 = 30;
    return 360 * (y2 - y1) + 30 * (m2 - m1) + (d2 - d1);
}

/* ---- the EMI, fast path ---- */

/* The high 128 bits of a·b: the product of two 0.128 fractions, truncated. */
static u128 mul_frac(u128 a, u128 b)
{
    uint64_t a0 = (uint64_t)a, a1 = (uint64_t)(a >> 64);
    uint64_t b0 = (uint64_t)b, b1 = (uint64_t)(b >> 64);
    u128 p00 = (u128)a0 * b0, p01 = (u128)a0 * b1, p10 = (u128)a1 * b0, p11 = (u128)a1 * b1;
    u128 mid = (p00 >> 64) + (uint64_t)p01 + (uint64_t)p10;
    return p11 + (p01 >> 64) + (p10 >> 64) + (mid >> 64);
}

/* D / (D + rate) as a 0.128 fraction, truncated (exact to the last bit). */
static u128 discount_frac(int rate_bps)
{
    uint64_t q = MONTH_DEN + (uint64_t)rate_bps;
    u128 top = (u128)MONTH_DEN << 64;
    u128 hi = top / q, rem = top % q;
    return (hi << 64) | ((rem << 64) / q);
}

/* v^n, n >= 1, left to right so that every intermediate is a power of v at most v's: the error
 * bound of the file's top comment. */
static u128 pow_frac(u128 v, int n)
{
    u128 t = v;
    for (int b = 30 - __builtin_clz((unsigned)n); b >= 0; b--) {
        t = mul_frac(t, t);
        if ((n >> b) & 1)
            t = mul_frac(t, v);
    }
    return t;
}

static int clz128(u128 x)
{
    uint64_t hi = (uint64_t)(x >> 64);
    return hi ? __builtin_clzll(hi) : 64 + __builtin_clzll((uint64_t)x);
}

/* floor(a·2^shift / w) for 0 < a < w, when the quotient is known to fit 128 bits. */
static u128 div_shifted(u128 a, int shift, u128 w)
{
    /* Leading steps that cannot produce a quotient bit are taken at once. */
    int skip = clz128(a) - clz128(w) - 1;
    if (skip > shift)
        skip = shift;
    u128 rem = skip > 0 ? a << skip : a, quo = 0;
    for (int i = skip > 0 ? skip : 0; i < shift; i++) {
        int carry = (int)(rem >> 127);
        rem <<= 1;
        quo <<= 1;
        if (carry || rem >= w) { /* wraps correctly: the true rem - w is below w */
            rem -= w;
            quo |= 1;
        }
    }
    return quo;
}

/* ---- the EMI, exact path ---- */

struct big {
    int n; /* limbs in use */
    uint64_t w[BIG_LIMBS];
};

static void big_set(struct big *b, u128 v)
{
    b->w[0] = (uint64_t)v;
    b->w[1] = (uint64_t)(v >> 64);
    b->n = b->w[1] ? 2 : 1;
}

static void big_mul(struct big *b, uint64_t m)
{
    u128 carry = 0;
    for (int i = 0; i < b->n; i++) {
        u128 t = (u128)b->w[i] * m + carry;
        b->w[i] = (uint64_t)t;
        carry = t >> 64;
    }
    if (carry)
        b->w[b->n++] = (uint64_t)carry;
}

/* b *= base^e, three factors at a time (base < 2^17, so base^3 < 2^51). */
static void big_mul_pow(struct big *b, uint64_t base, int e)
{
    for (; e >= 3; e -= 3)
        big_mul(b, base * base * base);
    if (e == 2)
        big_mul(b, base * base);
    else if (e == 1)
        big_mul(b, base);
}

static int big_cmp(const struct big *a, const struct big *b)
{
    if (a->n != b->n)
        return a->n < b->n ? -1 : 1;
    for (int i = a->n - 1; i >= 0; i--)
        if (a->w[i] != b->w[i])
            return a->w[i] < b->w[i] ? -1 : 1;
    return 0;
}

/* The sign of EMI − N/2, exactly (rate > 0, N < 2^50): that of N·D^(n+1) − (N·D − 2PR)·q^n,
 * the EMI's numerator and denominator cross-multiplied. */
static int emi_cmp_half(int64_t principal, int rate_bps, int n, u128 N)
{
    __int128 a = (__int128)(N * MONTH_DEN) - 2 * (__int128)principal * rate_bps;
    if (a <= 0)
        return 1;
    struct big lhs, rhs;
    big_set(&lhs, N * MONTH_DEN);
    big_mul_pow(&lhs, MONTH_DEN, n);
    big_set(&rhs, (u128)a);
    big_mul_pow(&rhs, MONTH_DEN + (uint64_t)rate_bps, n);
    return big_cmp(&lhs, &rhs);
}

/* The EMI rounded to a multiple of unit (up, or half-even on the count of units), exactly: the
 * fast path's window [s, s + 2) decides unless a rounding point falls inside it. */
static int64_t emi_round(int64_t principal, int rate_bps, int n, int64_t unit, int up)
{
    if (rate_bps == 0)
        return ratio_round(principal, n, unit, up);
    u128 w = -pow_frac(discount_frac(rate_bps), n); /* 1 − v^n as a 0.128 fraction */
    u128 s = div_shifted((u128)principal * (u128)rate_bps, 128 + GUARD_BITS, w);
    u128 cell = ((u128)MONTH_DEN << GUARD_BITS) * (u128)unit; /* one unit in s's scale */
    u128 k = s / cell, f = s % cell;
    if (up) {
        if (f != 0 && f + 2 <= cell)
            return (int64_t)(k + 1) * unit;
        u128 j = f == 0 ? k : k + 1; /* the whole unit inside the window */
        int c = emi_cmp_half(principal, rate_bps, n, 2 * j * (u128)unit);
        return (int64_t)(c <= 0 ? j : j + 1) * unit;
    }
    u128 half = cell / 2;
    if (f + 2 <= half)
        return (int64_t)k * unit;
    if (f > half)
        return (int64_t)(k + 1) * unit;
    int c = emi_cmp_half(principal, rate_bps, n, (2 * k + 1) * (u128)unit);
    return (int64_t)(c < 0 || (c == 0 && !(k & 1)) ? k : k + 1) * unit;
}

static int emi_terms_ok(int64_t principal, int rate_bps, int months)
{
    return principal > 0 && principal <= SCHED_MAX_PRINCIPAL && rate_bps >= 0 &&
           rate_bps <= SCHED_MAX_RATE_BPS && months >= 1 && months <= SCHED_MAX_INSTALLMENTS;
}

int64_t sched_emi(int64_t principal, int rate_bps, int months)
{
    if (!emi_terms_ok(principal, rate_bps, months))
        return -1;
    return emi_round(principal, rate_bps, months, 1, 0);
}

int64_t sched_emi_exact(int64_t principal, int rate_bps, int months)
{
    if (!emi_terms_ok(principal, rate_bps, months))
        return -1;
    if (rate_bps == 0)
        return sched_div_half_even(principal, months);
    /* The least k whose upper rounding point k + 1/2 is above the EMI (or is it, k even). The
     * EMI is below P·(1 + r) < 2P. */
    int64_t lo = 0, hi = 2 * principal + 1;
    while (lo < hi) {
        int64_t mid = lo + (hi - lo) / 2;
        int c = emi_cmp_half(principal, rate_bps, months, 2 * (u128)mid + 1);
        if (c < 0 || (c == 0 && !(mid & 1)))
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo;
}

/* ---- the schedule ---- */

static enum sched_error check_terms(const struct sched_terms *t)
{
    if (t->principal <= 0 || t->principal > SCHED_MAX_PRINCIPAL)
        return SCHED_E_PRINCIPAL;
    if (t->rate_bps < 0 || t->rate_bps > SCHED_MAX_RATE_BPS)
        return SCHED_E_RATE;
    if (t->months < 1 || t->months > SCHED_MAX_INSTALLMENTS || t->grace_principal < 0 ||
        t->grace_principal >= t->months)
        return SCHED_E_MONTHS;
    if ((int)t->method < SCHED_EMI || (int)t->method > SCHED_EQUAL_PRINCIPAL)
        return SCHED_E_METHOD;
    if ((int)t->daycount < SCHED_30_360 || (int)t->daycount > SCHED_ACT_365)
        return SCHED_E_DAYCOUNT;
    if (t->disbursed < FIRST_DAY || t->disbursed > LAST_DAY || t->first_due < FIRST_DAY ||
        t->first_due > LAST_DAY || t->first_due <= t->disbursed ||
        t->first_due > sched_add_months(t->disbursed, 2) ||
        sched_add_months(t->first_due, t->months - 1) > LAST_DAY)
        return SCHED_E_DATES;
    if ((int)t->rounding < SCHED_ROUND_HALF_EVEN || (int)t->rounding > SCHED_ROUND_MULTIPLE ||
        t->minor_exp < 0 || t->minor_exp > SCHED_MAX_MINOR_EXP ||
        (t->rounding == SCHED_ROUND_MULTIPLE &&
         (t->multiple < 1 || t->multiple > SCHED_MAX_MULTIPLE)))
        return SCHED_E_ROUNDING;
    return SCHED_OK;
}

/* The first period's interest on the principal: a regular month's, or the broken period's by
 * the day count. */
static int64_t first_interest(const struct sched_terms *t, int64_t regular)
{
    if (t->first_due == sched_add_months(t->disbursed, 1))
        return regular;
    if (t->daycount == SCHED_ACT_365)
        return sched_interest_days(t->principal, t->rate_bps, t->first_due - t->disbursed);
    return sched_div_half_even(
        (__int128)t->principal * t->rate_bps * days_360(t->disbursed, t->first_due), DAY360_DEN);
}

enum sched_error sched_build(const struct sched_terms *t, struct sched_item *items, int cap,
                             struct schedule *out)
{
    enum sched_error e = check_terms(t);
    if (e != SCHED_OK)
        return e;
    if (items == NULL || cap < t->months)
        return SCHED_E_CAPACITY;

    const int64_t p = t->principal;
    const int rate = t->rate_bps, n = t->months, grace = t->grace_principal;
    const int amortizing = n - grace;
    int64_t whole = 1; /* one currency unit in minor units */
    for (int i = 0; i < t->minor_exp; i++)
        whole *= 10;
    const int64_t unit = t->rounding == SCHED_ROUND_CEIL_UNIT  ? whole
                         : t->rounding == SCHED_ROUND_MULTIPLE ? whole * t->multiple
                                                               : 1;
    const int up = t->rounding == SCHED_ROUND_CEIL_UNIT;

    const int64_t regular_first = month_interest(p, rate);
    const int64_t broken_extra = first_interest(t, regular_first) - regular_first;
    int64_t installment = 0, part = 0, flat_total = 0, flat_interest = 0, flat_last = 0;
    switch (t->method) {
    case SCHED_EMI:
        installment = emi_round(p, rate, amortizing, unit, up);
        break;
    case SCHED_FLAT:
        installment = ratio_round((__int128)p * (MONTH_DEN + (__int128)rate * amortizing),
                                  (__int128)amortizing * MONTH_DEN, unit, up);
        /* Each month P·r half-even, the residue of the total in the last; when a few paise a
         * month over hundreds of months would make that residue negative, the total's n-th part
         * rounded down instead. */
        flat_total = ratio_round((__int128)p * rate * n, MONTH_DEN, 1, 0);
        flat_interest = regular_first;
        if (flat_total - (int64_t)(n - 1) * flat_interest < 0)
            flat_interest = flat_total / n;
        flat_last = flat_total - (int64_t)(n - 1) * flat_interest;
        break;
    case SCHED_EQUAL_PRINCIPAL:
        part = ratio_round(p, amortizing, unit, up);
        break;
    }

    int y, m, d;
    sched_ymd(t->first_due, &y, &m, &d);
    const int64_t month0 = (int64_t)y * 12 + (m - 1);
    int64_t balance = p, total_interest = 0;
    for (int k = 1; k <= n; k++) {
        int64_t interest, principal;
        if (t->method == SCHED_FLAT)
            interest = k < n ? flat_interest : flat_last;
        else
            interest = month_interest(balance, rate);
        if (k <= grace)
            principal = 0;
        else if (k == n)
            principal = balance;
        else if (t->method == SCHED_EQUAL_PRINCIPAL)
            principal = part;
        else
            principal = installment - interest;
        if (k == 1)
            interest += broken_extra;
        /* Only terms that cannot amortize in whole minor units, or a rounding too coarse, get
         * here (see SCHED_E_AMORTIZATION). */
        if (principal < 0 || interest < 0 || (k < n && principal >= balance))
            return t->rounding == SCHED_ROUND_HALF_EVEN ? SCHED_E_AMORTIZATION : SCHED_E_ROUNDING;
        balance -= principal;
        total_interest += interest;
        items[k - 1] = (struct sched_item){
            .number = k,
            .due = month_day(month0 + (k - 1), d),
            .installment = principal + interest,
            .interest = interest,
            .principal = principal,
            .balance = balance,
        };
    }
    *out = (struct schedule){
        .count = n,
        .emi = t->method == SCHED_EQUAL_PRINCIPAL ? 0 : installment,
        .total_interest = total_interest,
        .total_principal = p,
        .total_payment = p + total_interest,
    };
    return SCHED_OK;
}

/* ---- APR ---- */

/* f(i) = Σ c_k·v^k − net with v = 1/(1+i), and f'(i) = −Σ k·c_k·v^(k+1). */
static long double npv(long double net, const struct sched_item *items, int count, long double i,
                       long double *deriv)
{
    long double v = 1.0L / (1.0L + i), vk = 1, s = 0, ds = 0;
    for (int k = 1; k <= count; k++) {
        vk *= v;
        long double c = (long double)items[k - 1].installment;
        s += c * vk;
        ds -= k * c * vk * v;
    }
    *deriv = ds;
    return s - net;
}

int sched_apr(int64_t net_disbursed, const struct sched_item *items, int count, int *apr_bps)
{
    if (net_disbursed <= 0 || items == NULL || count < 1)
        return -1;
    long double net = (long double)net_disbursed, lo = 0, hi = 10.0L / 12.0L, dv;
    long double f_lo = npv(net, items, count, lo, &dv);
    if (f_lo == 0) {
        *apr_bps = 0;
        return 0;
    }
    if (f_lo < 0 || npv(net, items, count, hi, &dv) > 0)
        return -1;
    long double i = 0.01L;
    for (int iter = 0; iter < 200 && hi - lo > 1e-18L; iter++) {
        long double f = npv(net, items, count, i, &dv);
        if (f == 0)
            break;
        if (f > 0)
            lo = i;
        else
            hi = i;
        long double next = dv != 0 ? i - f / dv : lo;
        if (!(next > lo && next < hi)) /* outside the bracket, or NaN: bisect */
            next = (lo + hi) / 2;
        if (fabsl(next - i) < 1e-20L) {
            i = next;
            break;
        }
        i = next;
    }
    *apr_bps = (int)rintl(i * 12.0L * 10000.0L);
    return 0;
}

/* ---- names and messages ---- */

const char *sched_error_field(enum sched_error e)
{
    switch (e) {
    case SCHED_OK:
        return "";
    case SCHED_E_PRINCIPAL:
        return "principal";
    case SCHED_E_RATE:
        return "annual_rate";
    case SCHED_E_MONTHS:
    case SCHED_E_CAPACITY:
    case SCHED_E_AMORTIZATION:
        return "tenure_months";
    case SCHED_E_DATES:
        return "first_due_date";
    case SCHED_E_ROUNDING:
        return "rounding";
    case SCHED_E_METHOD:
        return "method";
    case SCHED_E_DAYCOUNT:
        return "day_count";
    }
    return "terms";
}

const char *sched_error_message(enum sched_error e)
{
    switch (e) {
    case SCHED_OK:
        return "";
    case SCHED_E_PRINCIPAL:
        return "must be more than zero and below 10^14 minor units";
    case SCHED_E_RATE:
        return "must be from 0 to 100 percent a year, with at most two decimals";
    case SCHED_E_MONTHS:
        return "must be 1 to 600 installments, more than the months of principal grace";
    case SCHED_E_DATES:
        return "the first due date must be after the disbursal date and at most two months "
               "after it";
    case SCHED_E_ROUNDING:
        return "the rounding does not fit this loan: a multiple must be 1 to 1000000 units and "
               "leave every installment covering its interest and some principal until the "
               "last";
    case SCHED_E_CAPACITY:
        return "more installments than room for them";
    case SCHED_E_METHOD:
        return "must be emi, flat or equal_principal";
    case SCHED_E_DAYCOUNT:
        return "must be 30/360 or actual/365";
    case SCHED_E_AMORTIZATION:
        return "these installments cannot repay the principal in whole minor units: fewer "
               "installments, a lower rate or a larger principal would";
    }
    return "invalid terms";
}

static const char *const method_names[] = {"emi", "flat", "equal_principal"};
static const char *const daycount_names[] = {"30/360", "actual/365"};

const char *sched_method_name(enum sched_method m)
{
    return (unsigned)m < 3 ? method_names[m] : "unknown";
}

const char *sched_daycount_name(enum sched_daycount d)
{
    return (unsigned)d < 2 ? daycount_names[d] : "unknown";
}

int sched_parse_method(const char *s, enum sched_method *out)
{
    for (int i = 0; s != NULL && i < 3; i++)
        if (!strcmp(s, method_names[i])) {
            *out = (enum sched_method)i;
            return 0;
        }
    return -1;
}

int sched_parse_daycount(const char *s, enum sched_daycount *out)
{
    for (int i = 0; s != NULL && i < 2; i++)
        if (!strcmp(s, daycount_names[i])) {
            *out = (enum sched_daycount)i;
            return 0;
        }
    return -1;
}

int sched_parse_rounding(const char *s, enum sched_rounding *out, int *multiple)
{
    if (s == NULL)
        return -1;
    if (!strcmp(s, "half_even") || !strcmp(s, "ceil_unit")) {
        *out = s[0] == 'h' ? SCHED_ROUND_HALF_EVEN : SCHED_ROUND_CEIL_UNIT;
        return 0;
    }
    if (strncmp(s, "multiple:", 9) != 0 || s[9] == '\0')
        return -1;
    long v = 0;
    for (const char *p = s + 9; *p; p++) {
        if (*p < '0' || *p > '9' || v > SCHED_MAX_MULTIPLE)
            return -1;
        v = v * 10 + (*p - '0');
    }
    if (v < 1 || v > SCHED_MAX_MULTIPLE)
        return -1;
    *out = SCHED_ROUND_MULTIPLE;
    *multiple = (int)v;
    return 0;
}
