/*
 * The loan account and its disbursal. An officer's disbursal is two transactions around one
 * gateway call, so no row stays locked while the gateway answers: the first checks the loan
 * (its state, segregation of duties, four eyes above FOUR_EYES_AMOUNT, the applicant's own
 * eKYC-verified bank account, an application still APPROVED), opens a tranche with its idempotency
 * key (loan id + tranche) and moves the loan to DISBURSING; the second records what the gateway
 * said. A gateway that did not answer leaves the tranche open: asking again re-sends the same key,
 * which the gateway answers with the same payout, so a retry never pays twice.
 *
 * The gateway's webhooks move the payout and the loan forward only: an event id already seen
 * changes nothing (gateway_events is written first, so a concurrent duplicate waits on the key
 * and then finds it), and an event whose status ranks at or below the payout's is stale.
 * payout.processed activates the loan and fixes its schedule from the disbursal date; failed and
 * reversed return it to AWAITING_DISBURSAL with the reason (a reversal also removes the schedule
 * of a loan that had nothing repaid yet).
 */
#include "lending.h"

#include <json-c/json.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "gateway.h"
#include "identity.h"
#include "js.h"
#include "log.h"
#include "schedule_json.h"

enum {
    DS_GET,
    DS_MINE,
    DS_LIST,
    DS_INSTALLMENTS,
    DS_LOCK,
    DS_FIRST,
    DS_LAST_PAYOUT,
    DS_PAYOUT_INSERT,
    DS_DISBURSING,
    DS_PAYOUT_SENT,
    DS_PAYOUT_REFUSED,
    DS_BACK,
    DS_EVENT_INSERT,
    DS_EVENT_OUTCOME,
    DS_PAYOUT_FIND,
    DS_PAYOUT_UPDATE,
    DS_ACTIVATE,
    DS_INST_INSERT,
    DS_INST_DELETE,
    DS_OFFER_SCHEDULE,
    DS_APP_STATUS,
    DS_SQL_COUNT
};

/* clang-format off */
#define LOAN_COLS                                                                                 \
    "l.loan_id, l.application_id, l.user_id, l.state, l.currency, l.principal, l.rate_bps, "       \
    "l.apr_bps, l.tenure_months, l.emi, l.fee, l.fee_tax, l.net_disbursed, "                       \
    "iso_utc(l.disbursed_at), l.disbursal_date::text, l.first_due_date::text, "                    \
    "l.outstanding_principal, l.last_disbursal_error, l.tranche, iso_utc(l.created_at), "          \
    "l.product_code, l.product_version, l.agreement_id, l.offer_id, "                              \
    "(SELECT i.due_date::text FROM loan_installments i WHERE i.loan_id = l.loan_id "               \
    "AND i.settled_on IS NULL ORDER BY i.number LIMIT 1), "                                        \
    "(SELECT i.installment - i.paid_interest - i.paid_principal FROM loan_installments i "          \
    "WHERE i.loan_id = l.loan_id AND i.settled_on IS NULL ORDER BY i.number LIMIT 1), "            \
    "l.disbursal_first_by, l.method, l.rounding, l.credit_balance, l.days_past_due, "              \
    "l.classification, l.own_classification, (SELECT max(business_date)::text FROM cob_runs), "    \
    "l.closed_on::text, l.close_reason, "                                                          \
    "(SELECT coalesce(sum(i.installment - i.paid_interest - i.paid_principal), 0) "                \
    "FROM loan_installments i WHERE i.loan_id = l.loan_id AND i.settled_on IS NULL "               \
    "AND i.due_date < business_date()), "                                                          \
    "(SELECT coalesce(sum(i.penal - i.paid_penal), 0) FROM loan_installments i "                   \
    "WHERE i.loan_id = l.loan_id), l.allocation"
enum {
    L_ID, L_APP, L_USER, L_STATE, L_CURRENCY, L_PRINCIPAL, L_RATE, L_APR, L_TENURE, L_EMI, L_FEE,
    L_FEE_TAX, L_NET, L_DISBURSED_AT, L_DISBURSAL_DATE, L_FIRST_DUE, L_OUTSTANDING, L_ERROR,
    L_TRANCHE, L_CREATED, L_PRODUCT, L_PRODUCT_VERSION, L_AGREEMENT, L_OFFER, L_NEXT_DATE,
    L_NEXT_AMOUNT, L_FIRST_BY, L_METHOD, L_ROUNDING, L_CREDIT, L_DPD, L_CLASS, L_OWN_CLASS,
    L_CLASSIFIED_ON, L_CLOSED_ON, L_CLOSE_REASON, L_OVERDUE, L_PENAL_DUE, L_ALLOCATION, L_COUNT_COL,
};
static const struct db_stmt sql[DS_SQL_COUNT] = {
    [DS_GET] = {"disbursal_get", "SELECT " LOAN_COLS " FROM loans l WHERE l.loan_id = $1"},
    [DS_MINE] = {"disbursal_mine",
     "SELECT " LOAN_COLS " FROM loans l WHERE l.user_id = $1::bigint "
     "ORDER BY l.created_at DESC, l.loan_id LIMIT 100"},
    [DS_LIST] = {"disbursal_list",
     "SELECT " LOAN_COLS ", count(*) OVER () FROM loans l WHERE ($1::text IS NULL OR l.state = $1) "
     "ORDER BY l.created_at DESC, l.loan_id LIMIT $2::int OFFSET $3::int"},
    [DS_INSTALLMENTS] = {"disbursal_installments",
     "SELECT number, due_date::text, installment, interest, principal, balance, penal, "
     "paid_penal, paid_interest, paid_principal, settled_on::text, "
     "CASE WHEN settled_on IS NOT NULL THEN 'paid' WHEN due_date < business_date() THEN 'overdue' "
     "WHEN due_date = business_date() THEN 'due' ELSE 'upcoming' END "
     "FROM loan_installments WHERE loan_id = $1 ORDER BY number"},
    [DS_LOCK] = {"disbursal_lock",
     "SELECT " LOAN_COLS ", a.user_id, a.name, a.email, a.phone FROM loans l "
     "JOIN loan_applications a USING (application_id) WHERE l.loan_id = $1 FOR UPDATE OF l"},
    [DS_FIRST] = {"disbursal_first",
     "UPDATE loans SET disbursal_first_by = $2::bigint, updated_at = now() WHERE loan_id = $1"},
    [DS_LAST_PAYOUT] = {"disbursal_last_payout",
     "SELECT tranche, idempotency_key, status, payout_id FROM loan_payouts WHERE loan_id = $1 "
     "ORDER BY tranche DESC LIMIT 1"},
    [DS_PAYOUT_INSERT] = {"disbursal_payout_insert",
     "INSERT INTO loan_payouts (loan_id, tranche, idempotency_key, amount, currency, "
     "requested_by, approved_by) VALUES ($1, $2::int, $3, $4::bigint, $5, $6::bigint, $7::bigint)"},
    [DS_DISBURSING] = {"disbursal_disbursing",
     "UPDATE loans SET state = 'DISBURSING', tranche = $2::int, last_disbursal_error = NULL, "
     "updated_at = now() WHERE loan_id = $1"},
    [DS_PAYOUT_SENT] = {"disbursal_payout_sent",
     "UPDATE loan_payouts SET payout_id = coalesce(payout_id, $2), "
     "status = CASE WHEN status = 'requested' THEN $3 ELSE status END, updated_at = now() "
     "WHERE idempotency_key = $1 RETURNING status"},
    [DS_PAYOUT_REFUSED] = {"disbursal_payout_refused",
     "UPDATE loan_payouts SET status = 'refused', failure_reason = $2, updated_at = now() "
     "WHERE idempotency_key = $1 AND status = 'requested' RETURNING id"},
    [DS_BACK] = {"disbursal_back",
     "UPDATE loans SET state = 'AWAITING_DISBURSAL', last_disbursal_error = $2, "
     "disbursal_first_by = NULL, disbursed_at = NULL, disbursal_date = NULL, "
     "first_due_date = NULL, next_unsettled_due = NULL, outstanding_principal = principal, "
     "updated_at = now() "
     "WHERE loan_id = $1"},
    [DS_EVENT_INSERT] = {"disbursal_event_insert",
     "INSERT INTO gateway_events (event_id, event, payout_id, status, outcome) "
     "VALUES ($1, $2, $3, $4, 'received') ON CONFLICT (event_id) DO NOTHING RETURNING 1"},
    [DS_EVENT_OUTCOME] = {"disbursal_event_outcome",
     "UPDATE gateway_events SET outcome = $2 WHERE event_id = $1"},
    [DS_PAYOUT_FIND] = {"disbursal_payout_find",
     "SELECT p.id, p.loan_id, p.status, p.tranche, l.tranche, l.state, l.application_id "
     "FROM loan_payouts p JOIN loans l USING (loan_id) "
     "WHERE p.payout_id = $1 OR p.idempotency_key = $2 "
     "ORDER BY (p.payout_id IS NOT DISTINCT FROM $1) DESC LIMIT 1 FOR UPDATE OF p, l"},
    [DS_PAYOUT_UPDATE] = {"disbursal_payout_update",
     "UPDATE loan_payouts SET status = $2, payout_id = coalesce(payout_id, $3), "
     "utr = coalesce(nullif($4, ''), utr), failure_reason = coalesce(nullif($5, ''), "
     "failure_reason), updated_at = now() WHERE id = $1::bigint"},
    [DS_ACTIVATE] = {"disbursal_activate",
     "UPDATE loans SET state = 'ACTIVE', disbursed_at = now(), disbursal_date = $2::date, "
     "first_due_date = $3::date, next_unsettled_due = $3::date, "
     "outstanding_principal = principal, last_disbursal_error = NULL, "
     "updated_at = now() WHERE loan_id = $1"},
    [DS_INST_INSERT] = {"disbursal_installments_insert",
     "INSERT INTO loan_installments (loan_id, number, due_date, installment, interest, principal, "
     "balance) SELECT $1, * FROM unnest($2::int[], $3::date[], $4::bigint[], $5::bigint[], "
     "$6::bigint[], $7::bigint[])"},
    [DS_INST_DELETE] = {"disbursal_installments_delete",
     "DELETE FROM loan_installments WHERE loan_id = $1"},
    [DS_OFFER_SCHEDULE] = {"disbursal_offer_schedule",
     "SELECT offer_json FROM loan_offers WHERE offer_id = $1"},
    /* Read after the loan's lock, in a statement of its own, and share-locked: a re-screening
     * that sends the application back to review locks the loan (when there is one) and the
     * application until it commits (monitoring.c), so the status read here is the one that
     * holds until this disbursal commits. */
    [DS_APP_STATUS] = {"disbursal_app_status",
     "SELECT final_status, compliance_status FROM loan_applications WHERE application_id = $1 "
     "FOR SHARE"},
};
/* clang-format on */
const struct db_stmts disbursal_statements = DB_STMTS("disbursal", sql);
#define SQL(id) (&sql[id])

#define IMPS_LIMIT 50000000 /* paise: 5,00,000.00 */

static const char *const STATES[] = {"AWAITING_DISBURSAL", "DISBURSING", "ACTIVE", "CLOSED"};

int lending_state_valid(const char *s)
{
    for (size_t i = 0; i < sizeof(STATES) / sizeof(STATES[0]); i++)
        if (!strcmp(s, STATES[i]))
            return 1;
    return 0;
}

static json_object *money_col(const PGresult *r, int row, int col)
{
    return PQgetisnull(r, row, col) ? NULL : js_new_money(atoll(PQgetvalue(r, row, col)));
}

static json_object *text_col(const PGresult *r, int row, int col)
{
    return PQgetisnull(r, row, col) ? NULL : json_object_new_string(PQgetvalue(r, row, col));
}

/* The loan as clients see it. */
static json_object *loan_json(const PGresult *r, int i)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "loan_id", text_col(r, i, L_ID));
    json_object_object_add(o, "application_id", text_col(r, i, L_APP));
    json_object_object_add(o, "agreement_id", text_col(r, i, L_AGREEMENT));
    json_object_object_add(o, "offer_id", text_col(r, i, L_OFFER));
    json_object_object_add(o, "state", text_col(r, i, L_STATE));
    json_object *p = json_object_new_object();
    json_object_object_add(p, "code", text_col(r, i, L_PRODUCT));
    json_object_object_add(p, "version",
                           json_object_new_int(atoi(PQgetvalue(r, i, L_PRODUCT_VERSION))));
    json_object_object_add(o, "product", p);
    json_object_object_add(o, "principal", money_col(r, i, L_PRINCIPAL));
    json_object_object_add(o, "currency", text_col(r, i, L_CURRENCY));
    json_object_object_add(o, "annual_rate", money_col(r, i, L_RATE));
    json_object_object_add(o, "apr", money_col(r, i, L_APR));
    json_object_object_add(o, "tenure_months",
                           json_object_new_int(atoi(PQgetvalue(r, i, L_TENURE))));
    json_object_object_add(o, "emi", money_col(r, i, L_EMI));
    json_object_object_add(o, "fee", money_col(r, i, L_FEE));
    json_object_object_add(o, "fee_tax", money_col(r, i, L_FEE_TAX));
    json_object_object_add(o, "net_disbursed", money_col(r, i, L_NET));
    json_object_object_add(o, "disbursed_at", text_col(r, i, L_DISBURSED_AT));
    json_object_object_add(o, "disbursal_date", text_col(r, i, L_DISBURSAL_DATE));
    json_object_object_add(o, "first_due_date", text_col(r, i, L_FIRST_DUE));
    json_object_object_add(o, "outstanding_principal", money_col(r, i, L_OUTSTANDING));
    json_object_object_add(o, "next_due_date", text_col(r, i, L_NEXT_DATE));
    json_object_object_add(o, "next_due_amount", money_col(r, i, L_NEXT_AMOUNT));
    json_object_object_add(o, "credit_balance", money_col(r, i, L_CREDIT));
    json_object_object_add(o, "overdue_amount", money_col(r, i, L_OVERDUE));
    json_object_object_add(o, "penal_due", money_col(r, i, L_PENAL_DUE));
    json_object_object_add(o, "days_past_due", json_object_new_int(atoi(PQgetvalue(r, i, L_DPD))));
    json_object_object_add(o, "classification", text_col(r, i, L_CLASS));
    json_object_object_add(o, "own_classification", text_col(r, i, L_OWN_CLASS));
    json_object_object_add(o, "classified_on", text_col(r, i, L_CLASSIFIED_ON));
    json_object_object_add(o, "allocation", text_col(r, i, L_ALLOCATION));
    json_object_object_add(o, "closed_on", text_col(r, i, L_CLOSED_ON));
    json_object_object_add(o, "close_reason", text_col(r, i, L_CLOSE_REASON));
    json_object_object_add(o, "last_disbursal_error", text_col(r, i, L_ERROR));
    json_object_object_add(o, "created_at", text_col(r, i, L_CREATED));
    return o;
}

json_object *lending_loan_read(arena *a, const char *loan_id, PGresult **failed)
{
    const char *p[1] = {loan_id};
    PGresult *r = db_exec(a, SQL(DS_GET), 1, p);
    if (!db_ok(r) || PQntuples(r) == 0) {
        *failed = r;
        return NULL;
    }
    return loan_json(r, 0);
}

static const char *to_text(arena *a, json_object *o)
{
    const char *s = arena_strdup(a, json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
    json_object_put(o);
    return s;
}

static int visible(const struct lending_actor *who, const PGresult *r)
{
    return who->officer ||
           (!PQgetisnull(r, 0, L_USER) && atoll(PQgetvalue(r, 0, L_USER)) == who->id);
}

void lending_loan_get(arena *a, const struct lending_actor *who, const char *loan_id, int schedule,
                      struct lending_outcome *out)
{
    memset(out, 0, sizeof(*out));
    const char *p[1] = {loan_id};
    PGresult *r = db_exec(a, SQL(DS_GET), 1, p);
    if (!db_ok(r)) {
        lending_read_failed(a, out, r);
        return;
    }
    if (PQntuples(r) == 0 || !visible(who, r)) {
        out->code = LENDING_NOT_FOUND;
        return;
    }
    if (!schedule) {
        json_object *o = json_object_new_object();
        json_object_object_add(o, "loan", loan_json(r, 0));
        out->json = to_text(a, o);
        out->code = LENDING_OK;
        return;
    }
    json_object *o = json_object_new_object();
    json_object_object_add(o, "loan_id", json_object_new_string(loan_id));
    json_object_object_add(o, "state", text_col(r, 0, L_STATE));
    PGresult *ins = db_exec(a, SQL(DS_INSTALLMENTS), 1, p);
    if (!db_ok(ins)) {
        json_object_put(o);
        lending_read_failed(a, out, ins);
        return;
    }
    int n = PQntuples(ins);
    if (n > 0) {
        /* Fixed at disbursal. */
        struct sched_item *items = arena_alloc(a, sizeof(*items) * (size_t)n);
        struct schedule s = {.count = n};
        for (int i = 0; i < n; i++) {
            items[i].number = atoi(PQgetvalue(ins, i, 0));
            const char *d = PQgetvalue(ins, i, 1);
            if (sched_parse_date(d, strlen(d), &items[i].due) != 0)
                items[i].due = 0;
            items[i].installment = atoll(PQgetvalue(ins, i, 2));
            items[i].interest = atoll(PQgetvalue(ins, i, 3));
            items[i].principal = atoll(PQgetvalue(ins, i, 4));
            items[i].balance = atoll(PQgetvalue(ins, i, 5));
            s.total_interest += items[i].interest;
            s.total_principal += items[i].principal;
        }
        s.total_payment = s.total_interest + s.total_principal;
        s.emi = atoll(PQgetvalue(r, 0, L_EMI));
        json_object_object_add(o, "fixed", json_object_new_boolean(1));
        json_object *arr = sched_json_items(items, n);
        /* What each installment has been paid, its penal charge, and where it stands. */
        for (int i = 0; i < n; i++) {
            json_object *it = json_object_array_get_idx(arr, (size_t)i);
            int64_t pp = atoll(PQgetvalue(ins, i, 7)), pi = atoll(PQgetvalue(ins, i, 8)),
                    pr = atoll(PQgetvalue(ins, i, 9));
            json_object_object_add(it, "penal", money_col(ins, i, 6));
            json_object *paid = json_object_new_object();
            json_object_object_add(paid, "penal", js_new_money(pp));
            json_object_object_add(paid, "interest", js_new_money(pi));
            json_object_object_add(paid, "principal", js_new_money(pr));
            json_object_object_add(paid, "total", js_new_money(pp + pi + pr));
            json_object_object_add(it, "paid", paid);
            json_object_object_add(it, "settled_on", text_col(ins, i, 10));
            json_object_object_add(it, "status", text_col(ins, i, 11));
        }
        json_object_object_add(o, "schedule", arr);
        json_object_object_add(o, "totals", sched_json_totals(&s));
    } else {
        /* Before disbursal: the offer's illustrative schedule (as if disbursed on the offer's
         * day); the real one is fixed from the disbursal date. */
        const char *po[1] = {PQgetvalue(r, 0, L_OFFER)};
        PGresult *of = db_exec(a, SQL(DS_OFFER_SCHEDULE), 1, po);
        json_object *offer =
            db_ok(of) && PQntuples(of) ? json_tokener_parse(PQgetvalue(of, 0, 0)) : NULL;
        json_object *sch = NULL, *tot = NULL;
        json_object_object_add(o, "fixed", json_object_new_boolean(0));
        if (offer && json_object_object_get_ex(offer, "schedule", &sch))
            json_object_object_add(o, "schedule", json_object_get(sch));
        if (offer && json_object_object_get_ex(offer, "totals", &tot))
            json_object_object_add(o, "totals", json_object_get(tot));
        json_object_put(offer);
    }
    out->json = to_text(a, o);
    out->code = LENDING_OK;
}

static void list_answer(arena *a, PGresult *r, int with_total, const char *limit,
                        const char *offset, struct lending_outcome *out)
{
    json_object *o = json_object_new_object();
    json_object *arr = json_object_new_array();
    int n = PQntuples(r);
    for (int i = 0; i < n; i++)
        json_object_array_add(arr, loan_json(r, i));
    json_object_object_add(o, "loans", arr);
    if (with_total) {
        json_object_object_add(o, "total",
                               json_object_new_int64(n ? atoll(PQgetvalue(r, 0, L_COUNT_COL)) : 0));
        json_object_object_add(o, "limit", json_object_new_int(atoi(limit)));
        json_object_object_add(o, "offset", json_object_new_int(atoi(offset)));
    }
    out->json = to_text(a, o);
    out->code = LENDING_OK;
}

void lending_loans_mine(arena *a, const struct lending_actor *who, struct lending_outcome *out)
{
    memset(out, 0, sizeof(*out));
    char id[24];
    snprintf(id, sizeof(id), "%lld", who->id);
    const char *p[1] = {id};
    PGresult *r = db_exec(a, SQL(DS_MINE), 1, p);
    if (!db_ok(r)) {
        lending_read_failed(a, out, r);
        return;
    }
    list_answer(a, r, 0, NULL, NULL, out);
}

void lending_loans_list(arena *a, const char *state, const char *limit, const char *offset,
                        struct lending_outcome *out)
{
    memset(out, 0, sizeof(*out));
    const char *p[3] = {state, limit, offset};
    PGresult *r = db_exec(a, SQL(DS_LIST), 3, p);
    if (!db_ok(r)) {
        lending_read_failed(a, out, r);
        return;
    }
    list_answer(a, r, 1, limit, offset, out);
}

/* ---- disbursal --------------------------------------------------------------------------- */

/* The first max characters of UTF-8 s (an arena copy when shorter than s). */
static const char *utf8_prefix(arena *a, const char *s, size_t max)
{
    size_t i = 0, n = 0;
    while (s[i] != '\0' && n < max) {
        i++;
        while ((s[i] & 0xC0) == 0x80)
            i++;
        n++;
    }
    return s[i] == '\0' ? s : arena_strndup(a, s, i);
}

static void wipe_input(struct loan_input *in)
{
    sodium_memzero(in, sizeof(*in));
}
#define WIPED __attribute__((cleanup(wipe_input)))

void lending_disburse(arena *a, const struct lending_actor *who, const char *loan_id,
                      const struct audit_client *client, struct lending_outcome *out)
{
    PGresult *r = lending_begin_lock(a, SQL(DS_LOCK), loan_id, out);
    if (r == NULL)
        return;
    const char *p[1] = {loan_id};
    const char *app_id = PQgetvalue(r, 0, L_APP);
    const char *state = PQgetvalue(r, 0, L_STATE);
    int submitter_col = L_COUNT_COL; /* a.user_id follows LOAN_COLS */
    if (!PQgetisnull(r, 0, submitter_col) && atoll(PQgetvalue(r, 0, submitter_col)) == who->id) {
        db_rollback();
        out->code = LENDING_OWN;
        return;
    }
    /* A tranche the gateway never answered for is sent again under the same key. */
    PGresult *last = db_exec(a, SQL(DS_LAST_PAYOUT), 1, p);
    if (!db_ok(last))
        return lending_fail(a, out, last);
    int resend = !strcmp(state, "DISBURSING") && PQntuples(last) > 0 &&
                 !strcmp(PQgetvalue(last, 0, 2), "requested");
    if (strcmp(state, "AWAITING_DISBURSAL") != 0 && !resend) {
        db_rollback();
        out->code = LENDING_INVALID_STATE;
        out->state = arena_strdup(a, state);
        return;
    }
    /* A loan is paid out only while its application is APPROVED: a re-screening match sends
     * it back to review (docs/screening.md), or holds it in compliance when another application
     * of the applicant is in the queue, and nothing is paid until an officer approves it again. */
    const char *pa[1] = {app_id};
    PGresult *st = db_exec(a, SQL(DS_APP_STATUS), 1, pa);
    if (!db_ok(st))
        return lending_fail(a, out, st);
    if (PQntuples(st) != 1 || strcmp(PQgetvalue(st, 0, 0), "APPROVED") != 0 ||
        strcmp(PQgetvalue(st, 0, 1), "APPROVED") != 0) {
        db_rollback();
        out->code = LENDING_SCREENING_HOLD;
        out->state = PQntuples(st) != 1 ? NULL
                     : strcmp(PQgetvalue(st, 0, 0), "APPROVED") != 0
                         ? arena_strdup(a, PQgetvalue(st, 0, 0))
                         : "APPROVED with compliance PENDING";
        return;
    }
    int64_t principal = atoll(PQgetvalue(r, 0, L_PRINCIPAL));
    int64_t net = atoll(PQgetvalue(r, 0, L_NET));
    char who_id[24];
    snprintf(who_id, sizeof(who_id), "%lld", who->id);
    const char *first_by = PQgetisnull(r, 0, L_FIRST_BY) ? NULL : PQgetvalue(r, 0, L_FIRST_BY);
    if (!resend && principal > config_get()->four_eyes_cents) {
        if (first_by == NULL) {
            const char *pf[2] = {loan_id, who_id};
            PGresult *f = db_exec(a, SQL(DS_FIRST), 2, pf);
            if (!db_ok(f))
                return lending_fail(a, out, f);
            json_object *d = json_object_new_object();
            json_object_object_add(d, "loan_id", json_object_new_string(loan_id));
            json_object_object_add(d, "approvals", json_object_new_int(1));
            int lr = lending_log(a, app_id, "disbursal_approved", who->id, who->email, NULL, d);
            if (lr == 0)
                lr = audit_event(a, client, who->id, who->email, "loan.disbursal_approved", "loan",
                                 loan_id, d);
            json_object_put(d);
            if (lr != 0 || db_commit() != 0) {
                db_rollback();
                out->code = LENDING_DB_DOWN;
                return;
            }
            json_object *o = json_object_new_object();
            json_object *loan = loan_json(r, 0);
            json_object *disb = json_object_new_object();
            json_object_object_add(disb, "approvals", json_object_new_int(1));
            json_object_object_add(disb, "required", json_object_new_int(2));
            json_object_object_add(o, "loan", loan);
            json_object_object_add(o, "disbursal", disb);
            out->json = to_text(a, o);
            out->code = LENDING_FIRST_APPROVAL;
            return;
        }
        if (atoll(first_by) == who->id) {
            db_rollback();
            out->code = LENDING_SAME_APPROVER;
            return;
        }
    }
    /* Only into the applicant's own bank account, as eKYC verified it. */
    WIPED struct loan_input in;
    memset(&in, 0, sizeof(in));
    struct identity_facts facts;
    memset(&facts, 0, sizeof(facts));
    int ir = identity_of_row(a, app_id, &in, &facts, 1);
    if (ir == -1) {
        db_rollback();
        out->code = LENDING_DB_DOWN;
        return;
    }
    if (ir != 0 || in.bank_account[0] == '\0' || facts.bank.status != EKYC_VERIFIED) {
        db_rollback();
        out->code = LENDING_NO_BANK;
        return;
    }
    int tranche = resend ? atoi(PQgetvalue(last, 0, 0)) : atoi(PQgetvalue(r, 0, L_TRANCHE)) + 1;
    char key[64], tr[16], amount[24];
    snprintf(key, sizeof(key), "%s:%d", loan_id, tranche);
    snprintf(tr, sizeof(tr), "%d", tranche);
    snprintf(amount, sizeof(amount), "%" PRId64, net);
    if (!resend) {
        const char *pi[7] = {
            loan_id, tr, key, amount, PQgetvalue(r, 0, L_CURRENCY), first_by ? first_by : who_id,
            who_id};
        PGresult *ins = db_exec(a, SQL(DS_PAYOUT_INSERT), 7, pi);
        if (!db_ok(ins))
            return lending_fail(a, out, ins);
        const char *pd[2] = {loan_id, tr};
        PGresult *up = db_exec(a, SQL(DS_DISBURSING), 2, pd);
        if (!db_ok(up))
            return lending_fail(a, out, up);
    }
    json_object *d = json_object_new_object();
    json_object_object_add(d, "loan_id", json_object_new_string(loan_id));
    json_object_object_add(d, "tranche", json_object_new_int(tranche));
    json_object_object_add(d, "amount", js_new_money(net));
    json_object_object_add(d, "idempotency_key", json_object_new_string(key));
    json_object_object_add(d, "retry", json_object_new_boolean(resend));
    int lr = lending_log(a, app_id, "disbursal_requested", who->id, who->email, NULL, d);
    if (lr == 0)
        lr = audit_event(a, client, who->id, who->email, "loan.disbursal_requested", "loan",
                         loan_id, d);
    json_object_put(d);
    if (lr != 0 || db_commit() != 0) {
        db_rollback();
        out->code = LENDING_DB_DOWN;
        return;
    }

    /* The gateway, with no transaction open. */
    int base = L_COUNT_COL + 1; /* a.name, a.email, a.phone */
    /* The contact within the gateway's limits (name 50 characters, email 100): the fund
     * account's holder name is what the bank matches. */
    const char *contact_name = utf8_prefix(a, PQgetvalue(r, 0, base), 50);
    const char *contact_email = PQgetvalue(r, 0, base + 1);
    if (strlen(contact_email) > 100)
        contact_email = NULL;
    struct gateway_payout_req req = {
        .idempotency_key = key,
        .reference = key,
        .contact_name = contact_name,
        .contact_email = contact_email,
        .contact_phone = PQgetvalue(r, 0, base + 2),
        .holder_name = in.holder_name ? in.holder_name : PQgetvalue(r, 0, base),
        .account_number = in.bank_account,
        .ifsc = in.ifsc,
        .amount = net,
        .currency = PQgetvalue(r, 0, L_CURRENCY),
        /* IMPS carries up to 5,00,000 a payout; NEFT has no upper limit. */
        .mode = net <= IMPS_LIMIT ? "IMPS" : "NEFT",
        .narration = "Loanflow loan disbursal",
    };
    struct gateway_payout_res res;
    memset(&res, 0, sizeof(res));
    enum gateway_code gc = gateway_payout(&req, &res);
    sodium_memzero(in.bank_account, sizeof(in.bank_account));

    if (db_begin() != 0) {
        out->code = LENDING_DB_DOWN;
        return;
    }
    if (gc == GATEWAY_OK) {
        const char *ps[3] = {key, res.payout_id, res.status};
        PGresult *s = db_exec(a, SQL(DS_PAYOUT_SENT), 3, ps);
        if (!db_ok(s))
            return lending_fail(a, out, s);
    } else if (gc == GATEWAY_REFUSED) {
        const char *why = arena_printf(a, "the gateway refused the payout: %s", res.error);
        const char *pr[2] = {key, why};
        PGresult *s = db_exec(a, SQL(DS_PAYOUT_REFUSED), 2, pr);
        if (!db_ok(s))
            return lending_fail(a, out, s);
        /* A first send refused is a payout that does not exist: the loan waits again. A resend
         * refused may be a payout that does exist (e.g. the key's first request got through and
         * the body differs now): the tranche stays open, for an operator to reconcile with
         * the gateway, and nothing is paid twice. */
        int back = !resend && PQntuples(s) > 0;
        if (back) {
            const char *pb[2] = {loan_id, why};
            PGresult *b = db_exec(a, SQL(DS_BACK), 2, pb);
            if (!db_ok(b))
                return lending_fail(a, out, b);
        }
        json_object *fd = json_object_new_object();
        json_object_object_add(fd, "loan_id", json_object_new_string(loan_id));
        json_object_object_add(fd, "reason", json_object_new_string(why));
        json_object_object_add(fd, "tranche_open", json_object_new_boolean(!back));
        int fr = lending_log(a, app_id, "disbursal_failed", who->id, who->email, NULL, fd);
        json_object_put(fd);
        if (fr != 0) {
            db_rollback();
            out->code = LENDING_DB_DOWN;
            return;
        }
    }
    PGresult *now = db_exec(a, SQL(DS_GET), 1, p);
    if (!db_ok(now))
        return lending_fail(a, out, now);
    if (db_commit() != 0) {
        out->code = LENDING_DB_DOWN;
        return;
    }
    if (gc == GATEWAY_UNAVAILABLE || gc == GATEWAY_FAULT) {
        log_msg(LOG_WARN,
                "loan %s: payout %s not confirmed by the gateway (%s); a retry resends it", loan_id,
                key, res.error);
        out->code = LENDING_GATEWAY_DOWN;
        return;
    }
    if (gc == GATEWAY_REFUSED) {
        out->code = LENDING_GATEWAY_REFUSED;
        out->detail = arena_strdup(a, res.error);
        return;
    }
    json_object *o = json_object_new_object();
    json_object_object_add(o, "loan", loan_json(now, 0));
    json_object *po = json_object_new_object();
    json_object_object_add(po, "payout_id", json_object_new_string(res.payout_id));
    json_object_object_add(po, "status", json_object_new_string(res.status));
    json_object_object_add(po, "amount", js_new_money(net));
    json_object_object_add(po, "tranche", json_object_new_int(tranche));
    json_object_object_add(o, "payout", po);
    out->json = to_text(a, o);
    out->code = LENDING_OK;
}

/* ---- webhooks ---------------------------------------------------------------------------- */

/* Fixes the schedule of loan from the disbursal date (today) and activates it. */
static int activate(arena *a, const char *loan_id, PGresult **failed)
{
    const char *p[1] = {loan_id};
    PGresult *r = db_exec(a, SQL(DS_GET), 1, p);
    if (!db_ok(r))
        return *failed = r, -1;
    /* The business date (business_date() in SQL): India's date, or the day after the last
     * day-end when that is later (a day-end moves the bank to the next day). */
    sched_day today = lending_today(), last = 0;
    const char *lc = PQgetvalue(r, 0, L_CLASSIFIED_ON);
    if (lc[0] != '\0' && sched_parse_date(lc, strlen(lc), &last) == 0 && last + 1 > today)
        today = last + 1;
    struct sched_terms t = {
        .principal = atoll(PQgetvalue(r, 0, L_PRINCIPAL)),
        .minor_exp = 2,
        .rate_bps = atoi(PQgetvalue(r, 0, L_RATE)),
        .months = atoi(PQgetvalue(r, 0, L_TENURE)),
        .disbursed = today,
        .first_due = sched_add_months(today, 1),
        .daycount = SCHED_30_360,
    };
    if (sched_parse_method(PQgetvalue(r, 0, L_METHOD), &t.method) != 0 ||
        sched_parse_rounding(PQgetvalue(r, 0, L_ROUNDING), &t.rounding, &t.multiple) != 0)
        return *failed = NULL, -1;
    struct sched_item *items = arena_alloc(a, sizeof(*items) * (size_t)t.months);
    struct schedule s;
    if (items == NULL || sched_build(&t, items, t.months, &s) != SCHED_OK)
        return *failed = NULL, -1;
    /* Arrays for one INSERT ... unnest. */
    size_t cap = (size_t)s.count * 24 + 8;
    char *arr[6];
    for (int k = 0; k < 6; k++) {
        arr[k] = arena_alloc(a, cap);
        if (arr[k] == NULL)
            return *failed = NULL, -1;
        arr[k][0] = '{';
        arr[k][1] = '\0';
    }
    size_t len[6] = {1, 1, 1, 1, 1, 1};
    for (int i = 0; i < s.count; i++) {
        char date[16];
        sched_format_date(items[i].due, date);
        const char *sep = i ? "," : "";
        len[0] += (size_t)snprintf(arr[0] + len[0], cap - len[0], "%s%d", sep, items[i].number);
        len[1] += (size_t)snprintf(arr[1] + len[1], cap - len[1], "%s%s", sep, date);
        len[2] += (size_t)snprintf(arr[2] + len[2], cap - len[2], "%s%" PRId64, sep,
                                   items[i].installment);
        len[3] +=
            (size_t)snprintf(arr[3] + len[3], cap - len[3], "%s%" PRId64, sep, items[i].interest);
        len[4] +=
            (size_t)snprintf(arr[4] + len[4], cap - len[4], "%s%" PRId64, sep, items[i].principal);
        len[5] +=
            (size_t)snprintf(arr[5] + len[5], cap - len[5], "%s%" PRId64, sep, items[i].balance);
    }
    for (int k = 0; k < 6; k++)
        snprintf(arr[k] + len[k], cap - len[k], "}");
    char d0[16], d1[16];
    sched_format_date(today, d0);
    sched_format_date(t.first_due, d1);
    const char *pa[3] = {loan_id, d0, d1};
    PGresult *u = db_exec(a, SQL(DS_ACTIVATE), 3, pa);
    if (!db_ok(u))
        return *failed = u, -1;
    PGresult *del = db_exec(a, SQL(DS_INST_DELETE), 1, p);
    if (!db_ok(del))
        return *failed = del, -1;
    const char *pi[7] = {loan_id, arr[0], arr[1], arr[2], arr[3], arr[4], arr[5]};
    PGresult *ins = db_exec(a, SQL(DS_INST_INSERT), 7, pi);
    if (!db_ok(ins))
        return *failed = ins, -1;
    return 0;
}

static void webhook_done(arena *a, const char *status, struct lending_outcome *out)
{
    out->json = arena_printf(a, "{\"status\":\"%s\"}", status);
    out->code = LENDING_OK;
}

void lending_webhook(arena *a, const char *body, size_t len, const char *event_id,
                     struct lending_outcome *out)
{
    memset(out, 0, sizeof(*out));
    struct gateway_event ev;
    const char *field = NULL;
    if (gateway_event_parse(body, len, &ev, &field) != 0) {
        out->code = LENDING_FAULT;
        out->detail = field ? field : "body";
        out->state = "invalid_event";
        return;
    }
    char derived[65];
    if (event_id == NULL || event_id[0] == '\0') {
        unsigned char h[32];
        crypto_hash_sha256(h, (const unsigned char *)body, len);
        sodium_bin2hex(derived, sizeof(derived), h, sizeof(h));
        event_id = derived;
    }
    if (db_begin() != 0) {
        out->code = LENDING_DB_DOWN;
        return;
    }
    const char *pe[4] = {event_id, ev.event, ev.payout_id, ev.status};
    PGresult *e = db_exec(a, SQL(DS_EVENT_INSERT), 4, pe);
    if (!db_ok(e))
        return lending_fail(a, out, e);
    if (PQntuples(e) == 0) {
        db_rollback();
        return webhook_done(a, "duplicate", out);
    }
    const char *outcome = "applied";
    const char *pf[2] = {ev.payout_id, ev.reference};
    PGresult *p = db_exec(a, SQL(DS_PAYOUT_FIND), 2, pf);
    if (!db_ok(p))
        return lending_fail(a, out, p);
    if (PQntuples(p) == 0) {
        outcome = "ignored";
        log_msg(LOG_WARN, "webhook %s: %s for unknown payout %s", event_id, ev.event, ev.payout_id);
    } else {
        const char *stored = PQgetvalue(p, 0, 2);
        int have = gateway_status_rank(stored), got = gateway_status_rank(ev.status);
        /* requested and refused are ours, not the gateway's: requested ranks below every status,
         * refused is an end. A processed payout may still be reversed, nothing else. */
        if (!strcmp(stored, "requested"))
            have = 0;
        if (!strcmp(stored, "refused"))
            have = 99;
        int forward = got > have && got > 0;
        if (!strcmp(stored, "processed") && strcmp(ev.status, "reversed") != 0)
            forward = 0;
        int current = !strcmp(PQgetvalue(p, 0, 3), PQgetvalue(p, 0, 4));
        if (!forward) {
            outcome = "stale";
        } else {
            const char *loan_id = PQgetvalue(p, 0, 1);
            const char *app_id = PQgetvalue(p, 0, 6);
            const char *loan_state = PQgetvalue(p, 0, 5);
            const char *pu[5] = {PQgetvalue(p, 0, 0), ev.status, ev.payout_id, ev.utr, ev.reason};
            PGresult *u = db_exec(a, SQL(DS_PAYOUT_UPDATE), 5, pu);
            if (!db_ok(u))
                return lending_fail(a, out, u);
            const char *action = "payout_update";
            PGresult *failed = NULL;
            if (current && !strcmp(ev.status, "processed") && !strcmp(loan_state, "DISBURSING")) {
                if (activate(a, loan_id, &failed) != 0)
                    return lending_fail(a, out, failed);
                action = "loan_activated";
            } else if (current &&
                       (!strcmp(ev.status, "failed") || !strcmp(ev.status, "reversed") ||
                        !strcmp(ev.status, "cancelled")) &&
                       (!strcmp(loan_state, "DISBURSING") || !strcmp(loan_state, "ACTIVE"))) {
                const char *why = arena_printf(a, "payout %s %s%s%s", ev.payout_id, ev.status,
                                               ev.reason[0] ? ": " : "", ev.reason);
                const char *pl[1] = {loan_id};
                PGresult *del = db_exec(a, SQL(DS_INST_DELETE), 1, pl);
                const char *pb[2] = {loan_id, why};
                PGresult *b = db_ok(del) ? db_exec(a, SQL(DS_BACK), 2, pb) : del;
                if (!db_ok(b))
                    return lending_fail(a, out, b);
                action = "disbursal_failed";
            }
            json_object *d = json_object_new_object();
            json_object_object_add(d, "loan_id", json_object_new_string(loan_id));
            json_object_object_add(d, "event_id", json_object_new_string(event_id));
            json_object_object_add(d, "event", json_object_new_string(ev.event));
            json_object_object_add(d, "payout_id", json_object_new_string(ev.payout_id));
            json_object_object_add(d, "status", json_object_new_string(ev.status));
            if (ev.utr[0])
                json_object_object_add(d, "utr", json_object_new_string(ev.utr));
            if (ev.reason[0])
                json_object_object_add(d, "reason", json_object_new_string(ev.reason));
            int lr = lending_log(a, app_id, action, 0, "gateway", NULL, d);
            json_object_put(d);
            if (lr != 0) {
                db_rollback();
                out->code = LENDING_DB_DOWN;
                return;
            }
        }
    }
    const char *po[2] = {event_id, outcome};
    PGresult *oc = db_exec(a, SQL(DS_EVENT_OUTCOME), 2, po);
    if (!db_ok(oc))
        return lending_fail(a, out, oc);
    if (db_commit() != 0) {
        out->code = LENDING_DB_DOWN;
        return;
    }
    if (!strcmp(outcome, "applied"))
        lending_portfolio_changed();
    webhook_done(a, outcome, out);
}
