/*
 * loanctl schedule and loanctl apr: the pipeline's schedule engine from the command line, with no
 * database. Every option is parsed exactly (an amount by js_parse_cents, a rate as a decimal
 * percentage with at most two decimals, which is its basis points), an unknown option or a value
 * that is not valid is named in the message and exits 2, and terms the engine refuses exit 2 with
 * the engine's own message under the option at fault. `schedule --json` prints sched_json(), the
 * object the offer and loan endpoints answer, serialised as the server serialises it; the table
 * is for people. `apr` builds the same schedule and prints the APR of its flows against the net
 * disbursed amount (principal less the fee and the tax on it), as the KFS states it.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "js.h"
#include "loan.h"
#include "schedule.h"
#include "schedule_json.h"

struct schedule_opts {
    const char *principal, *rate, *months, *method, *rounding, *grace, *first_due, *disbursed,
        *daycount, *fee, *fee_tax;
    int json;
};

#define OPT_SCHEDULE 1
#define OPT_APR      2

static const struct {
    const char *name;
    size_t offset;
    int commands; /* OPT_* of the commands that take it */
} options[] = {
    {"--principal", offsetof(struct schedule_opts, principal), OPT_SCHEDULE | OPT_APR},
    {"--rate", offsetof(struct schedule_opts, rate), OPT_SCHEDULE | OPT_APR},
    {"--months", offsetof(struct schedule_opts, months), OPT_SCHEDULE | OPT_APR},
    {"--method", offsetof(struct schedule_opts, method), OPT_SCHEDULE | OPT_APR},
    {"--rounding", offsetof(struct schedule_opts, rounding), OPT_SCHEDULE | OPT_APR},
    {"--grace-principal", offsetof(struct schedule_opts, grace), OPT_SCHEDULE | OPT_APR},
    {"--first-due", offsetof(struct schedule_opts, first_due), OPT_SCHEDULE | OPT_APR},
    {"--disbursed", offsetof(struct schedule_opts, disbursed), OPT_SCHEDULE | OPT_APR},
    {"--daycount", offsetof(struct schedule_opts, daycount), OPT_SCHEDULE | OPT_APR},
    {"--fee", offsetof(struct schedule_opts, fee), OPT_APR},
    {"--fee-tax", offsetof(struct schedule_opts, fee_tax), OPT_APR},
};

/* Fills *o from argv; 0, or 2 after naming what is wrong. */
static int parse_opts(const char *cmd, int which, int argc, char **argv, struct schedule_opts *o)
{
    memset(o, 0, sizeof(*o));
    for (int i = 0; i < argc; i++) {
        if (which == OPT_SCHEDULE && !strcmp(argv[i], "--json")) {
            o->json = 1;
            continue;
        }
        size_t k = 0;
        while (k < sizeof(options) / sizeof(options[0]) &&
               (strcmp(argv[i], options[k].name) != 0 || !(options[k].commands & which)))
            k++;
        if (k == sizeof(options) / sizeof(options[0])) {
            fprintf(stderr, "loanctl: %s: unexpected %s (loanctl %s --help)\n", cmd, argv[i], cmd);
            return 2;
        }
        if (i + 1 >= argc) {
            fprintf(stderr, "loanctl: %s: %s needs a value\n", cmd, argv[i]);
            return 2;
        }
        *(const char **)((char *)o + options[k].offset) = argv[++i];
    }
    return 0;
}

/* A whole number lo..hi written in digits only. */
static int parse_whole(const char *s, int lo, int hi, int *out)
{
    long v = 0;
    if (s == NULL || *s == '\0')
        return -1;
    for (const char *p = s; *p; p++) {
        if (*p < '0' || *p > '9' || v > hi)
            return -1;
        v = v * 10 + (*p - '0');
    }
    if (v < lo || v > hi)
        return -1;
    *out = (int)v;
    return 0;
}

/* A percentage with at most two decimals, 0..100, as basis points (10.5 -> 1050). */
static int parse_percent(const char *s, int *bps)
{
    int64_t v;
    if (js_parse_cents(s, strlen(s), SCHED_MAX_RATE_BPS, &v) != 0)
        return -1;
    *bps = (int)v;
    return 0;
}

static int bad(const char *option, const char *what, const char *value)
{
    fprintf(stderr, "loanctl: %s must be %s, not \"%s\"\n", option, what, value);
    return 2;
}

/* The option a sched_error is about. */
static const char *error_option(enum sched_error e)
{
    switch (e) {
    case SCHED_E_PRINCIPAL:
        return "--principal";
    case SCHED_E_RATE:
        return "--rate";
    case SCHED_E_DATES:
        return "--first-due";
    case SCHED_E_ROUNDING:
        return "--rounding";
    case SCHED_E_METHOD:
        return "--method";
    case SCHED_E_DAYCOUNT:
        return "--daycount";
    default:
        return "--months";
    }
}

/* Terms from the options: 0, or 2 after naming the option at fault. */
static int read_terms(const struct schedule_opts *o, struct sched_terms *t)
{
    memset(t, 0, sizeof(*t));
    t->minor_exp = 2; /* INR and USD for now (issue 16 brings other currencies) */
    if (o->principal == NULL || o->rate == NULL || o->months == NULL) {
        fprintf(stderr, "loanctl: --principal, --rate and --months are required\n");
        return 2;
    }
    if (js_parse_cents(o->principal, strlen(o->principal), SCHED_MAX_PRINCIPAL, &t->principal) !=
            0 ||
        t->principal <= 0)
        return bad("--principal",
                   "an amount above 0 and up to 999999999999.99, with at most two decimals",
                   o->principal);
    if (parse_percent(o->rate, &t->rate_bps) != 0)
        return bad("--rate", "an annual percentage from 0 to 100 with at most two decimals (10.5)",
                   o->rate);
    if (parse_whole(o->months, 1, SCHED_MAX_INSTALLMENTS, &t->months) != 0)
        return bad("--months", "a whole number of months from 1 to 600", o->months);
    if (o->method && sched_parse_method(o->method, &t->method) != 0)
        return bad("--method", "emi, flat or equal_principal", o->method);
    if (o->rounding && sched_parse_rounding(o->rounding, &t->rounding, &t->multiple) != 0)
        return bad("--rounding", "half_even, ceil_unit or multiple:M (M whole units, 1 to 1000000)",
                   o->rounding);
    if (o->daycount && sched_parse_daycount(o->daycount, &t->daycount) != 0)
        return bad("--daycount", "30/360 or actual/365", o->daycount);
    if (o->grace && parse_whole(o->grace, 0, SCHED_MAX_INSTALLMENTS - 1, &t->grace_principal) != 0)
        return bad("--grace-principal", "a whole number of months, fewer than --months", o->grace);
    if (o->first_due && sched_parse_date(o->first_due, strlen(o->first_due), &t->first_due) != 0)
        return bad("--first-due", "a date YYYY-MM-DD", o->first_due);
    if (o->disbursed && sched_parse_date(o->disbursed, strlen(o->disbursed), &t->disbursed) != 0)
        return bad("--disbursed", "a date YYYY-MM-DD", o->disbursed);
    /* Defaults: disbursed today (UTC) and first due a month later; either given alone places
     * the other a month away. */
    if (o->first_due == NULL) {
        if (o->disbursed == NULL)
            t->disbursed = (sched_day)(time(NULL) / 86400);
        t->first_due = sched_add_months(t->disbursed, 1);
    } else if (o->disbursed == NULL) {
        t->disbursed = sched_add_months(t->first_due, -1);
    }
    return 0;
}

/* Builds the schedule into items: 0, or 2 after printing the engine's reason. */
static int build(const struct sched_terms *t, struct sched_item *items, struct schedule *s)
{
    enum sched_error e = sched_build(t, items, SCHED_MAX_INSTALLMENTS, s);
    if (e == SCHED_OK)
        return 0;
    fprintf(stderr, "loanctl: %s: %s\n",
            e == SCHED_E_MONTHS && t->grace_principal > 0 ? "--grace-principal" : error_option(e),
            sched_error_message(e));
    return 2;
}

static const char *money(int64_t minor, char *buf, size_t len)
{
    return loan_money(minor, buf, len);
}

static void print_table(const struct sched_terms *t, const struct sched_item *items,
                        const struct schedule *s)
{
    char a[32], b[32], c[32], d[32], e[32], date[11], due[11];
    char rounding[24];
    if (t->rounding == SCHED_ROUND_MULTIPLE)
        snprintf(rounding, sizeof(rounding), "multiple:%d", t->multiple);
    else
        snprintf(rounding, sizeof(rounding), "%s",
                 t->rounding == SCHED_ROUND_CEIL_UNIT ? "ceil_unit" : "half_even");
    printf("%s at %d.%02d %% a year, %d monthly installments (%s, %s, %s",
           money(t->principal, a, 32), t->rate_bps / 100, t->rate_bps % 100, t->months,
           sched_method_name(t->method), rounding, sched_daycount_name(t->daycount));
    if (t->grace_principal > 0)
        printf(", %d months of principal grace", t->grace_principal);
    printf(")\n");
    sched_format_date(t->disbursed, date);
    sched_format_date(t->first_due, due);
    if (t->first_due == sched_add_months(t->disbursed, 1))
        printf("disbursed %s, first due %s: one month\n", date, due);
    else
        printf("disbursed %s, first due %s: a broken first period of %d days\n", date, due,
               t->first_due - t->disbursed);
    printf("%4s  %-10s  %16s  %16s  %16s  %16s\n", "no", "due date", "installment", "interest",
           "principal", "balance");
    for (int k = 0; k < s->count; k++)
        printf("%4d  %-10s  %16s  %16s  %16s  %16s\n", items[k].number,
               sched_format_date(items[k].due, date), money(items[k].installment, a, 32),
               money(items[k].interest, b, 32), money(items[k].principal, c, 32),
               money(items[k].balance, d, 32));
    printf("totals: EMI %s, interest %s, principal %s, payment %s, %d installments\n",
           s->emi > 0 ? money(s->emi, a, 32) : "varies", money(s->total_interest, b, 32),
           money(s->total_principal, c, 32), money(s->total_payment, e, 32), s->count);
}

int cmd_schedule(int argc, char **argv)
{
    struct schedule_opts o;
    struct sched_terms t;
    static struct sched_item items[SCHED_MAX_INSTALLMENTS];
    struct schedule s;
    int rc = parse_opts("schedule", OPT_SCHEDULE, argc, argv, &o);
    if (rc == 0)
        rc = read_terms(&o, &t);
    if (rc == 0)
        rc = build(&t, items, &s);
    if (rc != 0)
        return rc;
    if (!o.json) {
        print_table(&t, items, &s);
        return 0;
    }
    json_object *j = sched_json(items, &s);
    if (j == NULL) {
        fprintf(stderr, "loanctl: out of memory\n");
        return 1;
    }
    /* The server's serialisation (http_send_json). */
    printf("%s\n", json_object_to_json_string_ext(j, JSON_C_TO_STRING_PLAIN |
                                                         JSON_C_TO_STRING_NOSLASHESCAPE));
    json_object_put(j);
    return 0;
}

int cmd_apr(int argc, char **argv)
{
    struct schedule_opts o;
    struct sched_terms t;
    static struct sched_item items[SCHED_MAX_INSTALLMENTS];
    struct schedule s;
    int rc = parse_opts("apr", OPT_APR, argc, argv, &o);
    if (rc == 0)
        rc = read_terms(&o, &t);
    if (rc != 0)
        return rc;
    int64_t fee = 0;
    int tax_bps = 0;
    if (o.fee == NULL) {
        fprintf(stderr, "loanctl: apr: --fee is required (0 for none)\n");
        return 2;
    }
    if (js_parse_cents(o.fee, strlen(o.fee), SCHED_MAX_PRINCIPAL, &fee) != 0)
        return bad("--fee", "an amount with at most two decimals (2000.00)", o.fee);
    if (o.fee_tax && parse_percent(o.fee_tax, &tax_bps) != 0)
        return bad("--fee-tax", "a percentage from 0 to 100 with at most two decimals (18)",
                   o.fee_tax);
    int64_t tax = sched_div_half_even((__int128)fee * tax_bps, 10000);
    int64_t net = t.principal - fee - tax;
    char a[32], b[32], c[32], d[32];
    if (net <= 0) {
        fprintf(stderr, "loanctl: --fee: the fee and its tax (%s) leave nothing to disburse\n",
                money(fee + tax, a, 32));
        return 2;
    }
    if ((rc = build(&t, items, &s)) != 0)
        return rc;
    int apr;
    if (sched_apr(net, items, s.count, &apr) != 0) {
        fprintf(stderr,
                "loanctl: apr: no annual rate from 0 to 1000 %% repays %s with these "
                "installments\n",
                money(net, a, 32));
        return 1;
    }
    printf("APR %d.%02d %%\n", apr / 100, apr % 100);
    printf("net disbursed %s = principal %s - fee %s - tax on the fee %s\n", money(net, a, 32),
           money(t.principal, b, 32), money(fee, c, 32), money(tax, d, 32));
    return 0;
}
