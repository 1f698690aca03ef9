/*
 * Servicing a loan (issue 14): money in through three doors (an officer's entry, the gateway's
 * captured payments, a payment link the borrower pays), reversals, part-prepayments, the
 * foreclosure payoff and the cooling-off exit.
 *
 * Repayments are kept as entered and never deleted (a reversal marks the row). Everything the
 * account shows - what each installment has been paid, its penal charge, the day it was settled,
 * the outstanding principal, the credit balance, whether and why the loan closed - is derived:
 * the schedule as disbursed is rebuilt from the loan's terms (the engine is deterministic, so
 * it is the schedule activation stored) and every repayment not reversed is replayed over it in
 * value-date order (svc_replay), with the penal charges of the day-ends already run. Each use
 * case locks the loan, changes one row of loan_repayments, replays and writes the account back
 * in the same transaction; a payment valued before the last day-end then re-classifies the loan
 * from its value date (cob_reclassify), so a backdated payment corrects the history too.
 */
#include "lending.h"

#include <inttypes.h>
#include <json-c/json.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "gateway.h"
#include "js.h"
#include "log.h"

enum {
    RP_GATE,
    RP_LOCK_BORROWER,
    RP_FIND_ACTIVE,
    RP_REFUND_SEEN,
    RP_PAYMENT_LOAN,
    RP_LOCK,
    RP_READ,
    RP_EVENTS,
    RP_INSERT,
    RP_SPLITS,
    RP_INST_DELETE,
    RP_INST_INSERT,
    RP_LOAN_UPDATE,
    RP_RECLASSIFY,
    RP_FIND,
    RP_FIND_REFERENCE,
    RP_REVERSE,
    RP_LIST,
    RP_ONE,
    RP_INSTALLMENTS,
    RP_LINK_INSERT,
    RP_LINK_FIND,
    RP_LINK_STATUS,
    RP_EVENT_SEEN,
    RP_EVENT_INSERT,
    RP_SQL_COUNT
};

/* clang-format off */
#define ACCOUNT_COLS                                                                              \
    "l.loan_id, l.application_id, l.state, l.currency, l.principal, l.rate_bps, l.apr_bps, "       \
    "l.tenure_months, l.method, l.rounding, l.disbursal_date::text, l.first_due_date::text, "      \
    "l.allocation, l.penal_charge, p.cooling_off_days, "                                           \
    "CASE WHEN p.rate_type = 'floating' THEN 0 ELSE p.foreclosure_bps END, "                       \
    "(SELECT max(business_date)::text FROM cob_runs), business_date()::text, a.user_id, "          \
    "a.name, a.email, a.phone, l.credit_balance, l.outstanding_principal"
enum {
    A_ID, A_APP, A_STATE, A_CURRENCY, A_PRINCIPAL, A_RATE, A_APR, A_TENURE, A_METHOD, A_ROUNDING,
    A_DISBURSED, A_FIRST_DUE, A_ALLOCATION, A_PENAL, A_COOLING, A_CHARGE, A_LAST_COB, A_TODAY,
    A_OWNER, A_NAME, A_EMAIL, A_PHONE, A_CREDIT, A_OUTSTANDING,
};
#define ACCOUNT_FROM                                                                              \
    " FROM loans l JOIN loan_products p ON p.code = l.product_code AND "                          \
    "p.version = l.product_version JOIN loan_applications a ON a.application_id = l.application_id"
#define REPAYMENT_COLS                                                                            \
    "repayment_id, kind, channel, mode, amount, currency, value_date::text, reference, "          \
    "to_penal, to_fee, to_interest, to_principal, to_credit, iso_utc(reversed_at), "               \
    "reversal_reason, iso_utc(created_at), payment_link_id"
static const struct db_stmt sql[RP_SQL_COUNT] = {
    [RP_GATE] = {"repayments_gate",
     "SELECT pg_try_advisory_xact_lock_shared(hashtext('loanflow day-end'))"},
    [RP_LOCK_BORROWER] = {"repayments_lock_borrower",
     "SELECT loan_id FROM loans WHERE loan_id = $1 OR user_id = (SELECT user_id FROM loans "
     "WHERE loan_id = $1) ORDER BY loan_id FOR UPDATE"},
    [RP_FIND_ACTIVE] = {"repayments_find_active",
     "SELECT id, repayment_id, amount, value_date::text, loan_id FROM loan_repayments "
     "WHERE (reference = $1 OR reference LIKE $1 || '-net-%') AND reversed_at IS NULL "
     "ORDER BY id DESC LIMIT 1 FOR UPDATE"},
    [RP_REFUND_SEEN] = {"repayments_refund_seen",
     "SELECT 1 FROM loan_repayments WHERE (reference = $1 OR reference LIKE $1 || '-net-%') "
     "AND reversal_reason LIKE '%' || $2 || ' %' LIMIT 1"},
    [RP_PAYMENT_LOAN] = {"repayments_payment_loan",
     "SELECT loan_id FROM loan_repayments WHERE reference = $1"},
    [RP_LOCK] = {"repayments_lock",
     "SELECT " ACCOUNT_COLS ACCOUNT_FROM " WHERE l.loan_id = $1 FOR UPDATE OF l"},
    [RP_READ] = {"repayments_read",
     "SELECT " ACCOUNT_COLS ACCOUNT_FROM " WHERE l.loan_id = $1"},
    [RP_EVENTS] = {"repayments_events",
     "SELECT id, kind, value_date::text, amount, coalesce(mode, '') FROM loan_repayments "
     "WHERE loan_id = $1 AND reversed_at IS NULL ORDER BY value_date, id"},
    [RP_INSERT] = {"repayments_insert",
     "INSERT INTO loan_repayments (repayment_id, loan_id, kind, channel, mode, amount, currency, "
     "value_date, reference, payment_link_id, recorded_by, to_credit) "
     "VALUES ($1, $2, $3, $4, nullif($5, ''), $6::bigint, $7, $8::date, $9, $10, $11::bigint, "
     "$6::bigint) ON CONFLICT (reference) DO NOTHING RETURNING id"},
    [RP_SPLITS] = {"repayments_splits",
     "UPDATE loan_repayments r SET to_penal = u.pe, to_fee = u.fe, to_interest = u.it, "
     "to_principal = u.pr, to_credit = u.cr, kind = CASE WHEN u.fc THEN 'foreclosure' "
     "WHEN r.kind = 'foreclosure' THEN 'prepayment' ELSE r.kind END "
     "FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::bigint[], $5::bigint[], "
     "$6::bigint[], $7::boolean[]) AS u(id, pe, fe, it, pr, cr, fc) WHERE r.id = u.id"},
    [RP_INST_DELETE] = {"repayments_inst_delete",
     "DELETE FROM loan_installments WHERE loan_id = $1"},
    [RP_INST_INSERT] = {"repayments_inst_insert",
     "INSERT INTO loan_installments (loan_id, number, due_date, installment, interest, principal, "
     "balance, penal, paid_penal, paid_interest, paid_principal, settled_on) "
     "SELECT $1, u.n, u.d, u.it + u.pr, u.it, u.pr, u.b, u.pe, u.ppe, u.pit, u.ppr, u.s "
     "FROM unnest($2::int[], $3::date[], $4::bigint[], $5::bigint[], $6::bigint[], $7::bigint[], "
     "$8::bigint[], $9::bigint[], $10::bigint[], $11::date[]) "
     "AS u(n, d, it, pr, b, pe, ppe, pit, ppr, s)"},
    [RP_LOAN_UPDATE] = {"repayments_loan_update",
     "UPDATE loans SET outstanding_principal = $2::bigint, credit_balance = $3::bigint, "
     "state = $4, closed_on = $5::date, close_reason = nullif($6, ''), "
     "next_unsettled_due = $7::date, "
     "days_past_due = CASE WHEN $4 = 'CLOSED' THEN 0 ELSE days_past_due END, "
     "own_classification = CASE WHEN $4 = 'CLOSED' THEN 'STANDARD' ELSE own_classification END, "
     "classification = CASE WHEN $4 = 'CLOSED' THEN 'STANDARD' ELSE classification END, "
     "updated_at = now() WHERE loan_id = $1"},
    [RP_RECLASSIFY] = {"repayments_reclassify",
     "SELECT cob_reclassify(ARRAY[$1::text], $2::date)"},
    [RP_FIND] = {"repayments_find",
     "SELECT id, reversed_at IS NOT NULL, value_date::text, amount, reference, kind, channel "
     "FROM loan_repayments WHERE loan_id = $1 AND repayment_id = $2 FOR UPDATE"},
    [RP_FIND_REFERENCE] = {"repayments_find_reference",
     "SELECT loan_id, repayment_id, reversed_at IS NOT NULL, amount, value_date::text "
     "FROM loan_repayments WHERE reference = $1"},
    [RP_REVERSE] = {"repayments_reverse",
     "UPDATE loan_repayments SET reversed_at = now(), reversed_by = $2::bigint, "
     "reversal_reason = $3 WHERE id = $1::bigint"},
    [RP_LIST] = {"repayments_list",
     "SELECT " REPAYMENT_COLS " FROM loan_repayments WHERE loan_id = $1 ORDER BY value_date, id"},
    [RP_ONE] = {"repayments_one",
     "SELECT " REPAYMENT_COLS " FROM loan_repayments WHERE repayment_id = $1"},
    [RP_INSTALLMENTS] = {"repayments_installments",
     "SELECT number, due_date::text, interest, principal, balance, penal, paid_penal, "
     "paid_interest, paid_principal, coalesce(settled_on::text, '') FROM loan_installments "
     "WHERE loan_id = $1 ORDER BY number"},
    [RP_LINK_INSERT] = {"repayments_link_insert",
     "INSERT INTO loan_payment_links (link_id, loan_id, purpose, amount, currency, reference, "
     "short_url, status, expires_at, created_by) VALUES ($1, $2, $3, $4::bigint, $5, $6, $7, $8, "
     "CASE WHEN $9::bigint > 0 THEN to_timestamp($9::bigint) END, $10::bigint) "
     "RETURNING iso_utc(expires_at)"},
    [RP_LINK_FIND] = {"repayments_link_find",
     "SELECT loan_id, purpose, link_id FROM loan_payment_links WHERE link_id = $1 OR reference = $2 "
     "LIMIT 1"},
    [RP_LINK_STATUS] = {"repayments_link_status",
     "UPDATE loan_payment_links SET status = $2 WHERE link_id = $1 AND status <> $2 AND "
     "(status = 'created' OR (status = 'partially_paid' AND $2 <> 'created'))"},
    [RP_EVENT_SEEN] = {"repayments_event_seen",
     "SELECT 1 FROM gateway_events WHERE event_id = $1"},
    [RP_EVENT_INSERT] = {"repayments_event_insert",
     "INSERT INTO gateway_events (event_id, event, payout_id, status, outcome) "
     "VALUES ($1, $2, $3, $4, $5) ON CONFLICT (event_id) DO NOTHING"},
};
/* clang-format on */
const struct db_stmts repayments_statements = DB_STMTS("repayments", sql);
#define SQL(id) (&sql[id])

static const char *const KINDS[] = {"repayment", "prepayment", "cooling_off_exit"};

static int64_t num(const PGresult *r, int row, int col)
{
    return atoll(PQgetvalue(r, row, col));
}

static sched_day date_col(const PGresult *r, int row, int col)
{
    sched_day d = 0;
    if (PQgetisnull(r, row, col))
        return 0;
    const char *s = PQgetvalue(r, row, col);
    if (s[0] == '\0' || sched_parse_date(s, strlen(s), &d) != 0)
        return 0;
    return d;
}

static const char *fmt_date(arena *a, sched_day d)
{
    char buf[16];
    sched_format_date(d, buf);
    return arena_strdup(a, buf);
}

static void invalid(struct lending_outcome *out, const char *field, const char *why)
{
    out->code = LENDING_INVALID;
    out->state = field;
    out->detail = why;
}

/* The account's terms from a row of ACCOUNT_COLS. */
static int account_of(const PGresult *r, struct svc_account *acct)
{
    memset(acct, 0, sizeof(*acct));
    acct->principal = num(r, 0, A_PRINCIPAL);
    acct->rate_bps = (int)num(r, 0, A_RATE);
    acct->apr_bps = (int)num(r, 0, A_APR);
    acct->disbursed = date_col(r, 0, A_DISBURSED);
    acct->penal_charge = num(r, 0, A_PENAL);
    acct->last_day_end = date_col(r, 0, A_LAST_COB);
    acct->charge_bps = (int)num(r, 0, A_CHARGE);
    acct->cooling_off_days = (int)num(r, 0, A_COOLING);
    return svc_parse_strategy(PQgetvalue(r, 0, A_ALLOCATION), &acct->strategy);
}

/* The schedule as disbursed, rebuilt from the loan's terms exactly as activation built it. */
static int base_schedule(const PGresult *r, struct svc_inst *inst, int *n)
{
    struct sched_terms t = {
        .principal = num(r, 0, A_PRINCIPAL),
        .minor_exp = 2,
        .rate_bps = (int)num(r, 0, A_RATE),
        .months = (int)num(r, 0, A_TENURE),
        .disbursed = date_col(r, 0, A_DISBURSED),
        .first_due = date_col(r, 0, A_FIRST_DUE),
        .daycount = SCHED_30_360,
    };
    if (t.disbursed == 0 || t.first_due == 0 || t.months < 1 || t.months > SVC_MAX_INSTALLMENTS ||
        sched_parse_method(PQgetvalue(r, 0, A_METHOD), &t.method) != 0 ||
        sched_parse_rounding(PQgetvalue(r, 0, A_ROUNDING), &t.rounding, &t.multiple) != 0)
        return -1;
    struct sched_item items[SVC_MAX_INSTALLMENTS];
    struct schedule s;
    if (sched_build(&t, items, SVC_MAX_INSTALLMENTS, &s) != SCHED_OK)
        return -1;
    memset(inst, 0, sizeof(*inst) * (size_t)s.count);
    for (int i = 0; i < s.count; i++) {
        inst[i].number = items[i].number;
        inst[i].due = items[i].due;
        inst[i].interest = items[i].interest;
        inst[i].principal = items[i].principal;
        inst[i].balance = items[i].balance;
    }
    *n = s.count;
    return 0;
}

/* A growing "{a,b,c}" array literal in the arena. */
struct arr {
    char *s;
    size_t len, cap;
};

static void arr_init(arena *a, struct arr *x, size_t cap)
{
    x->s = arena_alloc(a, cap);
    x->cap = cap;
    x->len = 0;
    if (x->s)
        x->s[x->len++] = '{';
}

static void arr_add(struct arr *x, const char *v)
{
    if (x->s == NULL)
        return;
    int w = snprintf(x->s + x->len, x->cap - x->len, "%s%s", x->len > 1 ? "," : "", v);
    if (w < 0 || (size_t)w >= x->cap - x->len) {
        x->s = NULL;
        return;
    }
    x->len += (size_t)w;
}

static void arr_num(struct arr *x, int64_t v)
{
    char b[24];
    snprintf(b, sizeof(b), "%" PRId64, v);
    arr_add(x, b);
}

static const char *arr_end(struct arr *x)
{
    if (x->s == NULL || x->len + 2 > x->cap)
        return NULL;
    x->s[x->len++] = '}';
    x->s[x->len] = '\0';
    return x->s;
}

/* What the replay leaves for the caller's answer. */
struct replayed {
    struct svc_result res;
    enum svc_close closed_by_last; /* what the newest event did */
};

/*
 * Replays the locked loan (row: ACCOUNT_COLS) and writes the account back. reclassify_from: the
 * earliest value date touched (a reversal's or a new payment's); when on or before the last
 * day-end the loan is re-classified from it. 0, or -1 with *failed.
 */
static int replay(arena *a, const PGresult *row, sched_day reclassify_from, struct replayed *rp,
                  PGresult **failed)
{
    *failed = NULL;
    const char *loan_id = PQgetvalue(row, 0, A_ID);
    struct svc_account acct;
    struct svc_inst inst[SVC_MAX_INSTALLMENTS];
    int n = 0;
    if (account_of(row, &acct) != 0 || base_schedule(row, inst, &n) != 0) {
        log_msg(LOG_ERROR, "loan %s: its terms do not make a schedule", loan_id);
        return -1;
    }
    const char *p[1] = {loan_id};
    PGresult *evr = db_exec(a, SQL(RP_EVENTS), 1, p);
    if (!db_ok(evr))
        return *failed = evr, -1;
    int nev = PQntuples(evr);
    struct svc_event *ev = arena_alloc(a, sizeof(*ev) * (size_t)(nev > 0 ? nev : 1));
    if (ev == NULL)
        return -1;
    for (int j = 0; j < nev; j++) {
        memset(&ev[j], 0, sizeof(ev[j]));
        const char *kind = PQgetvalue(evr, j, 1);
        ev[j].kind = !strcmp(kind, "repayment")          ? SVC_EV_REPAYMENT
                     : !strcmp(kind, "cooling_off_exit") ? SVC_EV_COOLING_OFF
                                                         : SVC_EV_PREPAYMENT;
        ev[j].value = date_col(evr, j, 2);
        ev[j].amount = num(evr, j, 3);
        ev[j].mode =
            !strcmp(PQgetvalue(evr, j, 4), "reduce_emi") ? SVC_REDUCE_EMI : SVC_REDUCE_TENURE;
    }
    enum sched_error err = svc_replay(&acct, inst, n, SVC_MAX_INSTALLMENTS, ev, nev, &rp->res);
    if (err != SCHED_OK) {
        log_msg(LOG_ERROR, "loan %s: the replay failed (%s)", loan_id, sched_error_message(err));
        return -1;
    }
    rp->closed_by_last = nev > 0 ? ev[nev - 1].closed : SVC_OPEN;

    /* The repayments' splits. */
    size_t cap = (size_t)(nev + 1) * 24 + 8;
    struct arr ids, pe, fe, it, pr, cr, fc;
    arr_init(a, &ids, cap), arr_init(a, &pe, cap), arr_init(a, &fe, cap), arr_init(a, &it, cap);
    arr_init(a, &pr, cap), arr_init(a, &cr, cap), arr_init(a, &fc, cap);
    for (int j = 0; j < nev; j++) {
        arr_add(&ids, PQgetvalue(evr, j, 0));
        arr_num(&pe, ev[j].split.penal);
        arr_num(&fe, ev[j].split.fee);
        arr_num(&it, ev[j].split.interest);
        arr_num(&pr, ev[j].split.principal);
        arr_num(&cr, ev[j].to_credit);
        /* The payment that foreclosed is a foreclosure; one that no longer does is again a
         * prepayment. */
        arr_add(&fc, ev[j].kind == SVC_EV_PREPAYMENT && ev[j].closed == SVC_CLOSED_FORECLOSED &&
                             (j == 0 || ev[j - 1].closed == SVC_OPEN)
                         ? "t"
                         : "f");
    }
    const char *ps[7] = {arr_end(&ids), arr_end(&pe), arr_end(&fe), arr_end(&it),
                         arr_end(&pr),  arr_end(&cr), arr_end(&fc)};
    for (int k = 0; k < 7; k++)
        if (ps[k] == NULL)
            return -1;
    if (nev > 0) {
        PGresult *u = db_exec(a, SQL(RP_SPLITS), 7, ps);
        if (!db_ok(u))
            return *failed = u, -1;
    }

    /* The installments. */
    int m = rp->res.count;
    size_t icap = (size_t)(m + 1) * 24 + 8;
    struct arr cols[10];
    for (int k = 0; k < 10; k++)
        arr_init(a, &cols[k], icap);
    for (int i = 0; i < m; i++) {
        char d[16];
        arr_num(&cols[0], inst[i].number);
        arr_add(&cols[1], sched_format_date(inst[i].due, d));
        arr_num(&cols[2], inst[i].interest);
        arr_num(&cols[3], inst[i].principal);
        arr_num(&cols[4], inst[i].balance);
        arr_num(&cols[5], inst[i].penal);
        arr_num(&cols[6], inst[i].paid.penal);
        arr_num(&cols[7], inst[i].paid.interest);
        arr_num(&cols[8], inst[i].paid.principal);
        arr_add(&cols[9], inst[i].settled_on ? sched_format_date(inst[i].settled_on, d) : "NULL");
    }
    const char *pi[11] = {loan_id};
    for (int k = 0; k < 10; k++)
        if ((pi[k + 1] = arr_end(&cols[k])) == NULL)
            return -1;
    PGresult *del = db_exec(a, SQL(RP_INST_DELETE), 1, p);
    if (!db_ok(del))
        return *failed = del, -1;
    PGresult *ins = db_exec(a, SQL(RP_INST_INSERT), 11, pi);
    if (!db_ok(ins))
        return *failed = ins, -1;

    /* The loan. */
    static const char *const REASONS[] = {"", "obligations_met", "foreclosed", "cooling_off_exit"};
    int closed = rp->res.closed != SVC_OPEN;
    char outstanding[24], credit[24];
    snprintf(outstanding, sizeof(outstanding), "%" PRId64, rp->res.outstanding);
    snprintf(credit, sizeof(credit), "%" PRId64, rp->res.credit);
    sched_day next = 0; /* the oldest installment not settled */
    for (int i = 0; i < m && next == 0; i++)
        if (inst[i].settled_on == 0)
            next = inst[i].due;
    const char *pl[7] = {loan_id,
                         outstanding,
                         credit,
                         closed ? "CLOSED" : "ACTIVE",
                         closed ? fmt_date(a, rp->res.closed_on) : NULL,
                         REASONS[rp->res.closed],
                         next && !closed ? fmt_date(a, next) : NULL};
    PGresult *lu = db_exec(a, SQL(RP_LOAN_UPDATE), 7, pl);
    if (!db_ok(lu))
        return *failed = lu, -1;
    if (acct.last_day_end != 0 && reclassify_from != 0 && reclassify_from <= acct.last_day_end) {
        const char *pc[2] = {loan_id, fmt_date(a, reclassify_from)};
        PGresult *rc = db_exec(a, SQL(RP_RECLASSIFY), 2, pc);
        if (!db_ok(rc))
            return *failed = rc, -1;
    }
    return 0;
}

static json_object *repayment_json(const PGresult *r, int i)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "repayment_id", json_object_new_string(PQgetvalue(r, i, 0)));
    json_object_object_add(o, "kind", json_object_new_string(PQgetvalue(r, i, 1)));
    json_object_object_add(o, "channel", json_object_new_string(PQgetvalue(r, i, 2)));
    json_object_object_add(
        o, "mode", PQgetisnull(r, i, 3) ? NULL : json_object_new_string(PQgetvalue(r, i, 3)));
    json_object_object_add(o, "amount", js_new_money(num(r, i, 4)));
    json_object_object_add(o, "currency", json_object_new_string(PQgetvalue(r, i, 5)));
    json_object_object_add(o, "value_date", json_object_new_string(PQgetvalue(r, i, 6)));
    json_object_object_add(o, "reference", json_object_new_string(PQgetvalue(r, i, 7)));
    json_object *sp = json_object_new_object();
    json_object_object_add(sp, "penal", js_new_money(num(r, i, 8)));
    json_object_object_add(sp, "fee", js_new_money(num(r, i, 9)));
    json_object_object_add(sp, "interest", js_new_money(num(r, i, 10)));
    json_object_object_add(sp, "principal", js_new_money(num(r, i, 11)));
    json_object_object_add(sp, "credit", js_new_money(num(r, i, 12)));
    json_object_object_add(o, "split", sp);
    int rev = !PQgetisnull(r, i, 13);
    json_object_object_add(o, "reversed", json_object_new_boolean(rev));
    json_object_object_add(o, "reversed_at",
                           rev ? json_object_new_string(PQgetvalue(r, i, 13)) : NULL);
    json_object_object_add(o, "reversal_reason",
                           rev ? json_object_new_string(PQgetvalue(r, i, 14)) : NULL);
    json_object_object_add(o, "created_at", json_object_new_string(PQgetvalue(r, i, 15)));
    json_object_object_add(o, "payment_link_id",
                           PQgetisnull(r, i, 16) ? NULL
                                                 : json_object_new_string(PQgetvalue(r, i, 16)));
    return o;
}

static const char *to_text(arena *a, json_object *o)
{
    const char *s = arena_strdup(a, json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
    json_object_put(o);
    return s;
}

/* {"repayment", "loan"} after the commit's statements (in the transaction). */
static json_object *answer(arena *a, const char *loan_id, const char *repayment_id,
                           PGresult **failed)
{
    const char *p[1] = {repayment_id};
    PGresult *r = db_exec(a, SQL(RP_ONE), 1, p);
    if (!db_ok(r) || PQntuples(r) == 0)
        return *failed = r, NULL;
    json_object *loan = lending_loan_read(a, loan_id, failed);
    if (loan == NULL)
        return NULL;
    json_object *o = json_object_new_object();
    json_object_object_add(o, "repayment", repayment_json(r, 0));
    json_object_object_add(o, "loan", loan);
    return o;
}

static int visible(const struct lending_actor *who, const PGresult *r)
{
    return who == NULL || who->officer ||
           (!PQgetisnull(r, 0, A_OWNER) && num(r, 0, A_OWNER) == who->id);
}

/* The exit's figures on day (the principal unpaid and interest at the APR for the days held). */
static json_object *exit_json(const PGresult *r, sched_day day, int64_t *total)
{
    sched_day disbursed = date_col(r, 0, A_DISBURSED);
    int held = day > disbursed ? (int)(day - disbursed) : 0;
    int64_t principal = num(r, 0, A_OUTSTANDING);
    *total = svc_cooling_off_exit(principal, (int)num(r, 0, A_APR), held);
    json_object *o = json_object_new_object();
    json_object_object_add(o, "principal", js_new_money(principal));
    json_object_object_add(o, "interest", js_new_money(*total - principal));
    json_object_object_add(o, "apr", js_new_money(num(r, 0, A_APR)));
    json_object_object_add(o, "days_held", json_object_new_int(held));
    json_object_object_add(o, "total", js_new_money(*total));
    return o;
}

/* 0 when the cooling-off period still runs on day, else sets out. */
static int cooling_off_open(const PGresult *r, sched_day day, struct lending_outcome *out)
{
    sched_day disbursed = date_col(r, 0, A_DISBURSED);
    if (day - disbursed > num(r, 0, A_COOLING)) {
        out->code = LENDING_COOLING_OFF_OVER;
        return -1;
    }
    return 0;
}

/*
 * BEGIN, the day-end's gate, then the borrower's loans locked in loan_id order, this one among
 * them. A day-end holds the gate exclusively for each day it runs (app/store/cob.c), so money
 * moves either before a day-end or after it, never half-way through one, and the two never wait
 * on each other's row locks in opposite orders. A re-classification after a backdated payment
 * changes the borrower's other loans too (an NPA borrower's loans are NPA): locking them all in
 * one order keeps two such payments on sibling loans from deadlocking. The gate is tried for
 * about three seconds, then BUSY (a day-end of a large book takes longer: the caller retries).
 * The loan's row (ACCOUNT_COLS), or NULL with out set.
 */
static PGresult *begin_account(arena *a, const char *loan_id, struct lending_outcome *out)
{
    memset(out, 0, sizeof(*out));
    if (db_begin() != 0) {
        out->code = LENDING_DB_DOWN;
        return NULL;
    }
    for (int tries = 0;; tries++) {
        PGresult *g = db_exec(a, SQL(RP_GATE), 0, NULL);
        if (!db_ok(g)) {
            lending_fail(a, out, g);
            return NULL;
        }
        if (!strcmp(PQgetvalue(g, 0, 0), "t"))
            break;
        if (tries == 30) {
            db_rollback();
            out->code = LENDING_BUSY;
            return NULL;
        }
        struct timespec ts = {0, 100 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    const char *p[1] = {loan_id};
    PGresult *b = db_exec(a, SQL(RP_LOCK_BORROWER), 1, p);
    if (!db_ok(b)) {
        lending_fail(a, out, b);
        return NULL;
    }
    return lending_lock_row(a, SQL(RP_LOCK), loan_id, out);
}

void lending_repay(arena *a, const struct lending_actor *who, const char *loan_id,
                   const struct lending_payment *pay, const struct audit_client *client,
                   struct lending_outcome *out)
{
    PGresult *r = begin_account(a, loan_id, out);
    if (r == NULL)
        return;
    if (!visible(who, r)) {
        db_rollback();
        out->code = LENDING_NOT_FOUND;
        return;
    }
    const char *state = PQgetvalue(r, 0, A_STATE);
    int officer = !strcmp(pay->channel, "officer");
    /* Money the gateway collected is kept even on a closed loan (a credit to refund). */
    if (strcmp(state, "ACTIVE") != 0 && (officer || strcmp(state, "CLOSED") != 0)) {
        db_rollback();
        out->code = LENDING_NOT_ACTIVE;
        out->state = arena_strdup(a, state);
        return;
    }
    if (officer && who != NULL && !PQgetisnull(r, 0, A_OWNER) && num(r, 0, A_OWNER) == who->id) {
        db_rollback();
        out->code = LENDING_OWN_LOAN;
        return;
    }
    if (pay->currency != NULL && strcmp(pay->currency, PQgetvalue(r, 0, A_CURRENCY)) != 0) {
        db_rollback();
        return invalid(out, "currency",
                       arena_printf(a, "the payment is in %s, the loan in %s", pay->currency,
                                    PQgetvalue(r, 0, A_CURRENCY)));
    }
    sched_day today = date_col(r, 0, A_TODAY), disbursed = date_col(r, 0, A_DISBURSED);
    sched_day value = today;
    if (pay->value_date != NULL &&
        sched_parse_date(pay->value_date, strlen(pay->value_date), &value) != 0) {
        db_rollback();
        return invalid(out, "value_date", "value_date must be a date YYYY-MM-DD");
    }
    /* The gateway's capture date is the value date when it is since the last day-end (a
     * delivery delayed across it); an older one (a delivery days late, or a gateway clock
     * behind the business date, as in simulated time) takes the business date. */
    sched_day last_cob = date_col(r, 0, A_LAST_COB);
    if (!officer && pay->value_date != NULL && (value < last_cob || value > today))
        value = today;
    if (value > today) {
        db_rollback();
        return invalid(out, "value_date",
                       arena_printf(a, "value_date cannot be after the business date, %s",
                                    fmt_date(a, today)));
    }
    if (value < disbursed) {
        db_rollback();
        return invalid(out, "value_date",
                       arena_printf(a, "value_date cannot be before the disbursal, %s",
                                    fmt_date(a, disbursed)));
    }
    int64_t amount = pay->amount;
    enum svc_event_kind kind = pay->kind;
    json_object *exit = NULL;
    if (kind == SVC_EV_COOLING_OFF) {
        if (cooling_off_open(r, value, out) != 0) {
            db_rollback();
            return;
        }
        int64_t need;
        exit = exit_json(r, value, &need);
        /* An officer records the exit at its amount; money the gateway collected is what was
         * paid, and when it is short of the exit (a link paid a day later) it is a repayment. */
        if (officer)
            amount = need;
        else if (amount < need) {
            json_object_put(exit);
            exit = NULL;
            kind = SVC_EV_REPAYMENT;
        }
    }
    char id[32], amt[24], actor[24];
    lending_new_id("RP", id);
    snprintf(amt, sizeof(amt), "%" PRId64, amount);
    snprintf(actor, sizeof(actor), "%lld", who ? who->id : 0LL);
    const char *pi[11] = {id,
                          loan_id,
                          KINDS[kind],
                          pay->channel,
                          kind == SVC_EV_PREPAYMENT
                              ? (pay->mode == SVC_REDUCE_EMI ? "reduce_emi" : "reduce_tenure")
                              : "",
                          amt,
                          PQgetvalue(r, 0, A_CURRENCY),
                          fmt_date(a, value),
                          pay->reference,
                          pay->link_id,
                          who && who->id > 0 ? actor : NULL};
    PGresult *ins = db_exec(a, SQL(RP_INSERT), 11, pi);
    if (!db_ok(ins)) {
        json_object_put(exit);
        return lending_fail(a, out, ins);
    }
    if (PQntuples(ins) == 0) {
        json_object_put(exit);
        db_rollback();
        out->code = LENDING_DUPLICATE;
        return;
    }
    const char *was_state = arena_strdup(a, state);
    struct replayed rp;
    PGresult *failed = NULL;
    if (replay(a, r, value, &rp, &failed) != 0) {
        json_object_put(exit);
        return lending_fail(a, out, failed);
    }
    json_object *o = answer(a, loan_id, id, &failed);
    if (o == NULL) {
        json_object_put(exit);
        return lending_fail(a, out, failed);
    }
    json_object *d = json_object_new_object();
    json_object_object_add(d, "loan_id", json_object_new_string(loan_id));
    json_object_object_add(d, "repayment_id", json_object_new_string(id));
    json_object_object_add(d, "kind", json_object_new_string(KINDS[kind]));
    json_object_object_add(d, "channel", json_object_new_string(pay->channel));
    json_object_object_add(d, "amount", js_new_money(amount));
    json_object_object_add(d, "value_date", json_object_new_string(fmt_date(a, value)));
    json_object_object_add(d, "reference", json_object_new_string(pay->reference));
    const char *action = kind == SVC_EV_REPAYMENT ? "repayment" : "prepayment";
    const char *app_id = PQgetvalue(r, 0, A_APP);
    const char *email = who ? who->email : "gateway";
    int lr = lending_log(a, app_id, action, who ? who->id : 0, email, NULL, d);
    if (lr == 0 && officer)
        lr = audit_event(a, client, who->id, who->email,
                         kind == SVC_EV_REPAYMENT ? "loan.repayment" : "loan.prepayment", "loan",
                         loan_id, d);
    if (lr == 0 && rp.res.closed != SVC_OPEN && strcmp(was_state, "CLOSED") != 0) {
        json_object *c = json_object_new_object();
        json_object_object_add(c, "loan_id", json_object_new_string(loan_id));
        json_object_object_add(c, "closed_on",
                               json_object_new_string(fmt_date(a, rp.res.closed_on)));
        json_object_object_add(c, "credit_balance", js_new_money(rp.res.credit));
        lr = lending_log(a, app_id, "loan_closed", who ? who->id : 0, email, NULL, c);
        json_object_put(c);
    }
    json_object_put(d);
    if (lr != 0 || db_commit() != 0) {
        json_object_put(o);
        json_object_put(exit);
        db_rollback();
        out->code = LENDING_DB_DOWN;
        return;
    }
    lending_portfolio_changed();
    if (exit != NULL)
        json_object_object_add(o, "exit", exit);
    out->json = to_text(a, o);
    out->code = LENDING_CREATED;
}

void lending_reverse(arena *a, const struct lending_actor *who, const char *loan_id,
                     const char *repayment_id, const char *reason,
                     const struct audit_client *client, struct lending_outcome *out)
{
    PGresult *r = begin_account(a, loan_id, out);
    if (r == NULL)
        return;
    if (who != NULL && !PQgetisnull(r, 0, A_OWNER) && num(r, 0, A_OWNER) == who->id) {
        db_rollback();
        out->code = LENDING_OWN_LOAN;
        return;
    }
    const char *pf[2] = {loan_id, repayment_id};
    PGresult *f = db_exec(a, SQL(RP_FIND), 2, pf);
    if (!db_ok(f))
        return lending_fail(a, out, f);
    if (PQntuples(f) == 0) {
        db_rollback();
        out->code = LENDING_NOT_FOUND;
        return;
    }
    if (!strcmp(PQgetvalue(f, 0, 1), "t")) {
        db_rollback();
        out->code = LENDING_ALREADY_REVERSED;
        return;
    }
    char actor[24];
    snprintf(actor, sizeof(actor), "%lld", who ? who->id : 0LL);
    const char *pr[3] = {PQgetvalue(f, 0, 0), who && who->id > 0 ? actor : NULL, reason};
    PGresult *u = db_exec(a, SQL(RP_REVERSE), 3, pr);
    if (!db_ok(u))
        return lending_fail(a, out, u);
    sched_day value = date_col(f, 0, 2);
    struct replayed rp;
    PGresult *failed = NULL;
    if (replay(a, r, value, &rp, &failed) != 0)
        return lending_fail(a, out, failed);
    json_object *o = answer(a, loan_id, repayment_id, &failed);
    if (o == NULL)
        return lending_fail(a, out, failed);
    json_object *d = json_object_new_object();
    json_object_object_add(d, "loan_id", json_object_new_string(loan_id));
    json_object_object_add(d, "repayment_id", json_object_new_string(repayment_id));
    json_object_object_add(d, "amount", js_new_money(num(f, 0, 3)));
    json_object_object_add(d, "value_date", json_object_new_string(PQgetvalue(f, 0, 2)));
    json_object_object_add(d, "reference", json_object_new_string(PQgetvalue(f, 0, 4)));
    const char *email = who ? who->email : "gateway";
    int lr = lending_log(a, PQgetvalue(r, 0, A_APP), "repayment_reversed", who ? who->id : 0, email,
                         reason, d);
    if (lr == 0 && who != NULL)
        lr = audit_event(a, client, who->id, who->email, "loan.repayment_reversed", "loan", loan_id,
                         d);
    json_object_put(d);
    if (lr != 0 || db_commit() != 0) {
        json_object_put(o);
        db_rollback();
        out->code = LENDING_DB_DOWN;
        return;
    }
    lending_portfolio_changed();
    out->json = to_text(a, o);
    out->code = LENDING_OK;
}

void lending_refund(arena *a, const char *payment_id, const char *refund_id, int64_t amount,
                    struct lending_outcome *out)
{
    memset(out, 0, sizeof(*out));
    const char *pp[1] = {payment_id};
    PGresult *pl = db_exec(a, SQL(RP_PAYMENT_LOAN), 1, pp);
    if (!db_ok(pl)) {
        lending_read_failed(a, out, pl);
        return;
    }
    if (PQntuples(pl) == 0) {
        out->code = LENDING_NOT_FOUND; /* not recorded (yet): the gateway retries */
        return;
    }
    const char *loan_id = arena_strdup(a, PQgetvalue(pl, 0, 0));
    PGresult *r = begin_account(a, loan_id, out);
    if (r == NULL)
        return;
    const char *ps[2] = {payment_id, refund_id};
    PGresult *seen = db_exec(a, SQL(RP_REFUND_SEEN), 2, ps);
    if (!db_ok(seen))
        return lending_fail(a, out, seen);
    PGresult *f = PQntuples(seen) ? NULL : db_exec(a, SQL(RP_FIND_ACTIVE), 1, pp);
    if (f != NULL && !db_ok(f))
        return lending_fail(a, out, f);
    if (f == NULL || PQntuples(f) == 0) {
        db_rollback();
        out->code = LENDING_ALREADY_REVERSED;
        return;
    }
    /* The row standing for the payment now (the payment, or what an earlier partial refund
     * left of it) is reversed; what the lender keeps is recorded again, same value date. */
    const char *why = arena_printf(a, "gateway refund %s of %s", refund_id, payment_id);
    const char *pr[3] = {PQgetvalue(f, 0, 0), NULL, why};
    PGresult *u = db_exec(a, SQL(RP_REVERSE), 3, pr);
    if (!db_ok(u))
        return lending_fail(a, out, u);
    int64_t kept = num(f, 0, 2) - amount;
    const char *value = arena_strdup(a, PQgetvalue(f, 0, 3));
    if (kept > 0) {
        char id[32], amt[24];
        lending_new_id("RP", id);
        snprintf(amt, sizeof(amt), "%" PRId64, kept);
        const char *pi[11] = {id,
                              loan_id,
                              "repayment",
                              "gateway",
                              "",
                              amt,
                              PQgetvalue(r, 0, A_CURRENCY),
                              value,
                              arena_printf(a, "%s-net-%s", payment_id, refund_id),
                              NULL,
                              NULL};
        PGresult *ins = db_exec(a, SQL(RP_INSERT), 11, pi);
        if (!db_ok(ins))
            return lending_fail(a, out, ins);
    }
    sched_day vd = 0;
    sched_parse_date(value, strlen(value), &vd);
    struct replayed rp;
    PGresult *failed = NULL;
    if (replay(a, r, vd, &rp, &failed) != 0)
        return lending_fail(a, out, failed);
    json_object *d = json_object_new_object();
    json_object_object_add(d, "loan_id", json_object_new_string(loan_id));
    json_object_object_add(d, "payment_id", json_object_new_string(payment_id));
    json_object_object_add(d, "refund_id", json_object_new_string(refund_id));
    json_object_object_add(d, "refunded", js_new_money(amount));
    json_object_object_add(d, "kept", js_new_money(kept > 0 ? kept : 0));
    json_object_object_add(d, "value_date", json_object_new_string(value));
    int lr = lending_log(a, PQgetvalue(r, 0, A_APP), "repayment_reversed", 0, "gateway", why, d);
    json_object_put(d);
    if (lr != 0 || db_commit() != 0) {
        db_rollback();
        out->code = LENDING_DB_DOWN;
        return;
    }
    lending_portfolio_changed();
    out->json = "{}";
    out->code = LENDING_OK;
}

/* The loan's row (ACCOUNT_COLS, no lock) when who may see it; NULL with out set. */
static PGresult *read_visible(arena *a, const struct lending_actor *who, const char *loan_id,
                              struct lending_outcome *out)
{
    memset(out, 0, sizeof(*out));
    const char *p[1] = {loan_id};
    PGresult *r = db_exec(a, SQL(RP_READ), 1, p);
    if (!db_ok(r)) {
        lending_read_failed(a, out, r);
        return NULL;
    }
    if (PQntuples(r) == 0 || !visible(who, r)) {
        out->code = LENDING_NOT_FOUND;
        return NULL;
    }
    return r;
}

void lending_repayments_list(arena *a, const struct lending_actor *who, const char *loan_id,
                             struct lending_outcome *out)
{
    PGresult *r = read_visible(a, who, loan_id, out);
    if (r == NULL)
        return;
    const char *p[1] = {loan_id};
    PGresult *l = db_exec(a, SQL(RP_LIST), 1, p);
    if (!db_ok(l)) {
        lending_read_failed(a, out, l);
        return;
    }
    json_object *o = json_object_new_object();
    json_object_object_add(o, "loan_id", json_object_new_string(loan_id));
    json_object_object_add(o, "currency", json_object_new_string(PQgetvalue(r, 0, A_CURRENCY)));
    json_object *arr = json_object_new_array();
    for (int i = 0; i < PQntuples(l); i++)
        json_object_array_add(arr, repayment_json(l, i));
    json_object_object_add(o, "repayments", arr);
    PGresult *failed = NULL;
    json_object *hist = lending_dpd_history(a, loan_id, &failed);
    if (hist == NULL) {
        json_object_put(o);
        lending_read_failed(a, out, failed);
        return;
    }
    json_object_object_add(o, "history", hist);
    out->json = to_text(a, o);
    out->code = LENDING_OK;
}

/* The stored account (no lock): the loan row and its installments as svc_inst. */
static PGresult *read_account(arena *a, const struct lending_actor *who, const char *loan_id,
                              struct svc_inst *inst, int *n, struct lending_outcome *out)
{
    PGresult *r = read_visible(a, who, loan_id, out);
    if (r == NULL)
        return NULL;
    const char *p[1] = {loan_id};
    if (strcmp(PQgetvalue(r, 0, A_STATE), "ACTIVE") != 0) {
        out->code = LENDING_NOT_ACTIVE;
        out->state = arena_strdup(a, PQgetvalue(r, 0, A_STATE));
        return NULL;
    }
    PGresult *ir = db_exec(a, SQL(RP_INSTALLMENTS), 1, p);
    if (!db_ok(ir)) {
        lending_read_failed(a, out, ir);
        return NULL;
    }
    *n = PQntuples(ir) < SVC_MAX_INSTALLMENTS ? PQntuples(ir) : SVC_MAX_INSTALLMENTS;
    for (int i = 0; i < *n; i++) {
        memset(&inst[i], 0, sizeof(inst[i]));
        inst[i].number = (int)num(ir, i, 0);
        inst[i].due = date_col(ir, i, 1);
        inst[i].interest = num(ir, i, 2);
        inst[i].principal = num(ir, i, 3);
        inst[i].balance = num(ir, i, 4);
        inst[i].penal = num(ir, i, 5);
        inst[i].paid.penal = num(ir, i, 6);
        inst[i].paid.interest = num(ir, i, 7);
        inst[i].paid.principal = num(ir, i, 8);
        inst[i].settled_on = date_col(ir, i, 9);
    }
    return r;
}

void lending_quote(arena *a, const struct lending_actor *who, const char *loan_id, const char *date,
                   struct lending_outcome *out)
{
    struct svc_inst inst[SVC_MAX_INSTALLMENTS];
    int n = 0;
    PGresult *r = read_account(a, who, loan_id, inst, &n, out);
    if (r == NULL)
        return;
    sched_day today = date_col(r, 0, A_TODAY), day = today;
    if (date != NULL && sched_parse_date(date, strlen(date), &day) != 0)
        return invalid(out, "date", "date must be a date YYYY-MM-DD");
    if (day < today)
        return invalid(
            out, "date",
            arena_printf(a, "date cannot be before the business date, %s", fmt_date(a, today)));
    struct svc_account acct;
    if (account_of(r, &acct) != 0) {
        out->code = LENDING_FAULT;
        out->detail = "the loan's allocation is unknown";
        return;
    }
    struct svc_result res = {.count = n, .credit = num(r, 0, A_CREDIT)};
    struct svc_payoff q;
    svc_account_payoff(&acct, inst, n, &res, day, &q);
    json_object *o = json_object_new_object();
    json_object_object_add(o, "loan_id", json_object_new_string(loan_id));
    json_object_object_add(o, "date", json_object_new_string(fmt_date(a, day)));
    json_object_object_add(o, "currency", json_object_new_string(PQgetvalue(r, 0, A_CURRENCY)));
    json_object_object_add(o, "payoff", js_new_money(q.total));
    json_object *b = json_object_new_object();
    json_object_object_add(b, "principal", js_new_money(q.principal));
    json_object_object_add(b, "interest", js_new_money(q.interest));
    json_object_object_add(b, "dues", js_new_money(q.dues));
    json_object_object_add(b, "penal", js_new_money(q.penal));
    json_object_object_add(b, "charge", js_new_money(q.charge));
    json_object_object_add(b, "credit", js_new_money(q.credit));
    json_object_object_add(o, "breakdown", b);
    json_object_object_add(o, "interest_basis",
                           json_object_new_string("actual/365 on the principal since the last "
                                                  "due date"));
    out->json = to_text(a, o);
    out->code = LENDING_OK;
}

void lending_payment_link(arena *a, const struct lending_actor *who, const char *loan_id,
                          int64_t amount, const char *purpose, struct lending_outcome *out)
{
    struct svc_inst inst[SVC_MAX_INSTALLMENTS];
    int n = 0;
    PGresult *r = read_account(a, who, loan_id, inst, &n, out);
    if (r == NULL)
        return;
    sched_day today = date_col(r, 0, A_TODAY);
    json_object *exit = NULL;
    if (!strcmp(purpose, "cooling_off_exit")) {
        if (cooling_off_open(r, today, out) != 0)
            return;
        exit = exit_json(r, today, &amount);
    } else if (amount <= 0) {
        /* What is due now, else the next installment. */
        amount = svc_account_due(inst, n, today);
        for (int i = 0; i < n && amount <= 0; i++)
            if (inst[i].settled_on == 0)
                amount = inst[i].interest - inst[i].paid.interest + inst[i].principal -
                         inst[i].paid.principal;
    }
    if (amount <= 0) {
        json_object_put(exit);
        return invalid(out, "amount", "Nothing is due on this loan");
    }
    char ref[32];
    lending_new_id("PL", ref);
    struct gateway_link_req req = {
        .reference = ref,
        .amount = amount,
        .currency = PQgetvalue(r, 0, A_CURRENCY),
        .description = arena_printf(a, "Loanflow loan %s", loan_id),
        .customer_name = PQgetvalue(r, 0, A_NAME),
        .customer_email = PQgetvalue(r, 0, A_EMAIL),
        .customer_phone = PQgetvalue(r, 0, A_PHONE),
        .expire_by = 0,
        .loan_id = loan_id,
        .purpose = purpose,
    };
    struct gateway_link_res res;
    memset(&res, 0, sizeof(res));
    enum gateway_code gc = gateway_payment_link(&req, &res);
    if (gc == GATEWAY_UNAVAILABLE || gc == GATEWAY_FAULT) {
        json_object_put(exit);
        log_msg(LOG_WARN, "loan %s: payment link not created (%s)", loan_id, res.error);
        out->code = LENDING_GATEWAY_DOWN;
        return;
    }
    if (gc == GATEWAY_REFUSED) {
        json_object_put(exit);
        out->code = LENDING_GATEWAY_REFUSED;
        out->detail = arena_strdup(a, res.error);
        return;
    }
    if (db_begin() != 0) {
        json_object_put(exit);
        out->code = LENDING_DB_DOWN;
        return;
    }
    char amt[24], exp[24], actor[24];
    snprintf(amt, sizeof(amt), "%" PRId64, amount);
    snprintf(exp, sizeof(exp), "%lld", res.expire_by);
    snprintf(actor, sizeof(actor), "%lld", who->id);
    const char *pl[10] = {res.id,
                          loan_id,
                          purpose,
                          amt,
                          PQgetvalue(r, 0, A_CURRENCY),
                          ref,
                          res.short_url,
                          res.status[0] ? res.status : "created",
                          exp,
                          who->id > 0 ? actor : NULL};
    PGresult *li = db_exec(a, SQL(RP_LINK_INSERT), 10, pl);
    if (!db_ok(li)) {
        json_object_put(exit);
        return lending_fail(a, out, li);
    }
    json_object *link = json_object_new_object();
    json_object_object_add(link, "link_id", json_object_new_string(res.id));
    json_object_object_add(link, "short_url", json_object_new_string(res.short_url));
    json_object_object_add(link, "amount", js_new_money(amount));
    json_object_object_add(link, "currency", json_object_new_string(PQgetvalue(r, 0, A_CURRENCY)));
    json_object_object_add(link, "purpose", json_object_new_string(purpose));
    json_object_object_add(link, "status",
                           json_object_new_string(res.status[0] ? res.status : "created"));
    json_object_object_add(link, "reference", json_object_new_string(ref));
    json_object_object_add(link, "expires_at",
                           PQgetisnull(li, 0, 0) ? NULL
                                                 : json_object_new_string(PQgetvalue(li, 0, 0)));
    int lr = lending_log(a, PQgetvalue(r, 0, A_APP), "payment_link_created", who->id, who->email,
                         NULL, link);
    if (lr != 0 || db_commit() != 0) {
        json_object_put(link);
        json_object_put(exit);
        db_rollback();
        out->code = LENDING_DB_DOWN;
        return;
    }
    json_object *o = json_object_new_object();
    json_object_object_add(o, "payment_link", link);
    lending_portfolio_changed();
    if (exit != NULL)
        json_object_object_add(o, "exit", exit);
    out->json = to_text(a, o);
    out->code = LENDING_CREATED;
}

/* ---- the gateway's collection webhooks -------------------------------------------------- */

static void webhook_status(arena *a, const char *status, struct lending_outcome *out)
{
    out->json = arena_printf(a, "{\"status\":\"%s\"}", status);
    out->code = LENDING_OK;
}

/* The event's row, with what it did (a duplicate delivery that raced this one finds the row
 * there and changes nothing). 0, or -1 when the database failed. */
static int event_record(arena *a, const char *event_id, const struct gateway_payment_event *ev,
                        const char *outcome)
{
    const char *pe[5] = {event_id, ev->event, ev->payment_id[0] ? ev->payment_id : ev->link_id,
                         ev->status, outcome};
    return db_ok(db_exec(a, SQL(RP_EVENT_INSERT), 5, pe)) ? 0 : -1;
}

/*
 * Each payment is recorded once by its reference (the gateway's payment id, UNIQUE), each
 * refund reverses once, so the event id is a fast path for a duplicate delivery, not the guard:
 * the payment's transaction commits first and the event's row after it, and a crash between
 * the two leaves a retry that finds the payment recorded.
 */
int lending_collection_webhook(arena *a, const char *body, size_t len, const char *event_id,
                               struct lending_outcome *out)
{
    memset(out, 0, sizeof(*out));
    struct gateway_payment_event ev;
    const char *field = NULL;
    int pr = gateway_payment_event_parse(body, len, &ev, &field);
    if (pr == 1)
        return 1;
    if (pr == 2) { /* acknowledged, so the gateway does not deliver it again for a day */
        webhook_status(a, "ignored", out);
        return 0;
    }
    if (pr != 0) {
        out->code = LENDING_FAULT;
        out->detail = field ? field : "body";
        out->state = "invalid_event";
        return 0;
    }
    char derived[65];
    if (event_id == NULL || event_id[0] == '\0') {
        /* No event id: the body's hash (as for payouts), so a re-delivery is still a
         * duplicate. */
        unsigned char h[32];
        crypto_hash_sha256(h, (const unsigned char *)body, len);
        sodium_bin2hex(derived, sizeof(derived), h, sizeof(h));
        event_id = derived;
    }
    const char *pseen[1] = {event_id};
    PGresult *seen = db_exec(a, SQL(RP_EVENT_SEEN), 1, pseen);
    if (!db_ok(seen)) {
        out->code = LENDING_DB_DOWN;
        return 0;
    }
    if (PQntuples(seen) > 0) {
        webhook_status(a, "duplicate", out);
        return 0;
    }
    /* The loan: the payment's notes, else the link it came through. */
    const char *loan_id = ev.loan_id[0] ? ev.loan_id : NULL;
    const char *purpose = ev.purpose[0] ? ev.purpose : "repayment";
    const char *link_id = ev.link_id[0] ? ev.link_id : NULL;
    if (ev.link_id[0] || ev.reference[0]) {
        /* Our link, by its id or our reference in the payment's notes: the link's loan and
         * purpose are ours, not what the notes say. */
        const char *pl[2] = {ev.link_id, ev.reference};
        PGresult *l = db_exec(a, SQL(RP_LINK_FIND), 2, pl);
        if (!db_ok(l)) {
            out->code = LENDING_DB_DOWN;
            return 0;
        }
        if (PQntuples(l) > 0) {
            loan_id = arena_strdup(a, PQgetvalue(l, 0, 0));
            purpose = arena_strdup(a, PQgetvalue(l, 0, 1));
            link_id = arena_strdup(a, PQgetvalue(l, 0, 2));
        }
    }
    const char *outcome = "ignored";
    if (!strncmp(ev.event, "payment_link.", 13)) {
        if (link_id != NULL) {
            const char *ps[2] = {link_id, ev.status};
            PGresult *s = db_exec(a, SQL(RP_LINK_STATUS), 2, ps);
            if (!db_ok(s)) {
                out->code = LENDING_DB_DOWN;
                return 0;
            }
            if (atoi(PQcmdTuples(s)) > 0)
                outcome = "applied";
        }
        if (event_record(a, event_id, &ev, outcome) != 0)
            out->code = LENDING_DB_DOWN;
        else
            webhook_status(a, outcome, out);
        return 0;
    }
    struct lending_outcome uc;
    memset(&uc, 0, sizeof(uc));
    if (!strcmp(ev.event, "payment.captured") && loan_id != NULL) {
        /* Valued on the day it was captured (India's date), not the day the event arrived: a
         * delivery retried across a day-end is not a late payment. */
        const char *value = NULL;
        if (ev.created_at > 0) {
            time_t t = (time_t)ev.created_at + LENDING_UTC_OFFSET;
            struct tm tm;
            gmtime_r(&t, &tm);
            value = arena_printf(a, "%04d-%02d-%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
        }
        struct lending_payment pay = {
            .kind = !strcmp(purpose, "cooling_off_exit") ? SVC_EV_COOLING_OFF : SVC_EV_REPAYMENT,
            .amount = ev.amount,
            .value_date = value,
            .reference = ev.payment_id,
            .channel = "gateway",
            .link_id = link_id,
            .currency = ev.currency,
        };
        lending_repay(a, NULL, loan_id, &pay, NULL, &uc);
        if (uc.code == LENDING_INVALID && !strcmp(uc.state, "value_date")) {
            pay.value_date = NULL; /* outside the loan's dates: the business date */
            lending_repay(a, NULL, loan_id, &pay, NULL, &uc);
        }
        if (uc.code == LENDING_COOLING_OFF_OVER) {
            /* Paid after the period ended: an ordinary repayment, never lost. */
            pay.kind = SVC_EV_REPAYMENT;
            lending_repay(a, NULL, loan_id, &pay, NULL, &uc);
        }
        outcome = uc.code == LENDING_CREATED     ? "applied"
                  : uc.code == LENDING_DUPLICATE ? "duplicate"
                  : uc.code == LENDING_INVALID   ? "refused"
                                                 : "ignored";
    } else if (!strcmp(ev.event, "refund.processed")) {
        lending_refund(a, ev.payment_id, ev.refund_id, ev.amount, &uc);
        if (uc.code == LENDING_NOT_FOUND) {
            /* A refund before its payment (no order is guaranteed): not final, so the gateway
             * delivers it again, by when the payment is recorded. */
            log_msg(LOG_WARN, "webhook %s: refund %s of %s, a payment not recorded yet", event_id,
                    ev.refund_id, ev.payment_id);
            out->code = LENDING_BUSY;
            return 0;
        }
        outcome = uc.code == LENDING_OK                 ? "applied"
                  : uc.code == LENDING_ALREADY_REVERSED ? "duplicate"
                                                        : "ignored";
    }
    /* A failure that may pass (the database, a deadlock, the day-end) is not an outcome: the
     * event is not recorded and the answer is 5xx, so the gateway delivers it again. */
    if (uc.code == LENDING_DB_DOWN || uc.code == LENDING_FAULT || uc.code == LENDING_BUSY) {
        if (uc.code == LENDING_FAULT)
            log_msg(LOG_ERROR, "webhook %s: %s of %s failed: %s", event_id, ev.event, ev.payment_id,
                    uc.detail ? uc.detail : "?");
        out->code = uc.code == LENDING_BUSY ? LENDING_BUSY : LENDING_DB_DOWN;
        return 0;
    }
    if (strcmp(outcome, "applied") != 0 && strcmp(outcome, "duplicate") != 0)
        log_msg(LOG_WARN, "webhook %s: %s of %s not applied (loan %s): %s", event_id, ev.event,
                ev.payment_id, loan_id ? loan_id : "unknown", uc.detail ? uc.detail : outcome);
    if (event_record(a, event_id, &ev, outcome) != 0) {
        out->code = LENDING_DB_DOWN;
        return 0;
    }
    webhook_status(a, outcome, out);
    return 0;
}
