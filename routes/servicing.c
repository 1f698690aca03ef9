/*
 * The servicing routes (issue 14): repayments and their reversal, payment links, the
 * foreclosure quote, prepayments, the cooling-off exit, and the officers' portfolio. Each
 * handler reads its input (every field named in an error), calls one use case of
 * app/store/lending.h and answers through lending_reply (routes/lending.c).
 */
#include "routes.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cache.h"
#include "config.h"
#include "js.h"
#include "lending.h"

#define MAX_PAYMENT SCHED_MAX_PRINCIPAL

static int bad(http_req *r, const char *field, const char *message)
{
    return lending_field_error(r, 400, "validation_failed", message, field);
}

/* The body as an object (an absent body is {} for the routes whose every field is optional). */
static json_object *body_object(http_req *r, int optional)
{
    if (r->json == NULL && optional)
        return NULL;
    if (r->json == NULL || !json_object_is_type(r->json, json_type_object)) {
        http_error(r, 400, "validation_failed", "The body must be a JSON object");
        return (json_object *)-1;
    }
    return r->json;
}

/* Reads amount (required: > 0), value_date (optional) and reference (required, 1-64). 0, or
 * the status of the 400 sent. */
static int read_payment(http_req *r, json_object *b, int need_amount, struct lending_payment *p)
{
    json_object *fields = json_object_new_object();
    int64_t amount = 0;
    int ar = need_amount ? js_money(b, "amount", MAX_PAYMENT, &amount, fields) : 1;
    const char *value = NULL, *ref = NULL;
    int vr = js_string(b, "value_date", 10, &value, fields);
    int rr = js_string(b, "reference", 64, &ref, fields);
    json_object_put(fields);
    if (need_amount && ar == 0)
        return bad(r, "amount", "amount is required: a positive number with at most 2 decimals");
    if (ar < 0 || (need_amount && amount <= 0))
        return bad(r, "amount", "amount must be a positive number with at most 2 decimals");
    sched_day d;
    if (vr < 0 || (vr == 1 && sched_parse_date(value, strlen(value), &d) != 0))
        return bad(r, "value_date", "value_date must be a date YYYY-MM-DD");
    if (rr == 0 || (rr == 1 && ref[0] == '\0'))
        return bad(r, "reference",
                   "reference is required: the payment's own id (UTR, cheque number ...)");
    if (rr < 0)
        return bad(r, "reference", "reference must be a string of 1 to 64 characters");
    p->amount = amount;
    p->value_date = vr == 1 ? value : NULL;
    p->reference = ref;
    p->channel = "officer";
    p->link_id = NULL;
    return 0;
}

int handle_loan_repayments_list(http_req *r)
{
    struct lending_actor who = lending_actor_of(r);
    struct lending_outcome out;
    lending_repayments_list(r->pool, &who, http_route_param(r, 0), &out);
    return lending_reply(r, &out, "loan");
}

/* Records an officer's payment of kind (the prepayment's mode read from the body). */
static int record(http_req *r, enum svc_event_kind kind)
{
    json_object *b = body_object(r, 0);
    if (b == (json_object *)-1)
        return r->status;
    struct lending_payment p = {.kind = kind, .mode = SVC_REDUCE_TENURE};
    if (read_payment(r, b, 1, &p) != 0)
        return r->status;
    if (kind == SVC_EV_PREPAYMENT) {
        json_object *fields = json_object_new_object();
        const char *mode = NULL;
        int mr = js_string(b, "mode", 32, &mode, fields);
        json_object_put(fields);
        if (mr < 0 ||
            (mr == 1 && strcmp(mode, "reduce_emi") != 0 && strcmp(mode, "reduce_tenure") != 0))
            return bad(r, "mode", "mode must be reduce_emi or reduce_tenure");
        if (mr == 1 && !strcmp(mode, "reduce_emi"))
            p.mode = SVC_REDUCE_EMI;
    }
    struct lending_actor who = lending_actor_of(r);
    struct audit_client c = lending_client_of(r);
    struct lending_outcome out;
    lending_repay(r->pool, &who, http_route_param(r, 0), &p, &c, &out);
    return lending_reply(r, &out, "loan");
}

int handle_loan_repayment_create(http_req *r)
{
    return record(r, SVC_EV_REPAYMENT);
}

int handle_loan_prepayment(http_req *r)
{
    return record(r, SVC_EV_PREPAYMENT);
}

int handle_loan_repayment_reverse(http_req *r)
{
    json_object *b = body_object(r, 0);
    if (b == (json_object *)-1)
        return r->status;
    json_object *fields = json_object_new_object();
    const char *reason = NULL;
    int rr = js_string(b, "reason", 500, &reason, fields);
    json_object_put(fields);
    if (rr != 1 || reason[0] == '\0')
        return bad(r, "reason",
                   "reason is required: why the repayment is reversed (1 to 500 "
                   "characters)");
    struct lending_actor who = lending_actor_of(r);
    struct audit_client c = lending_client_of(r);
    struct lending_outcome out;
    lending_reverse(r->pool, &who, http_route_param(r, 0), http_route_param(r, 1), reason, &c,
                    &out);
    return lending_reply(r, &out, "repayment");
}

int handle_loan_payment_link(http_req *r)
{
    json_object *b = body_object(r, 1);
    if (b == (json_object *)-1)
        return r->status;
    int64_t amount = 0;
    if (b != NULL) {
        json_object *fields = json_object_new_object();
        int ar = js_money(b, "amount", MAX_PAYMENT, &amount, fields);
        json_object_put(fields);
        if (ar < 0 || (ar == 1 && amount <= 0))
            return bad(r, "amount", "amount must be a positive number with at most 2 decimals");
    }
    struct lending_actor who = lending_actor_of(r);
    struct lending_outcome out;
    lending_payment_link(r->pool, &who, http_route_param(r, 0), amount, "repayment", &out);
    return lending_reply(r, &out, "loan");
}

int handle_loan_foreclosure_quote(http_req *r)
{
    if (routes_query_encoded(r) != 0)
        return r->status;
    const char *date = http_query(r, "date");
    sched_day d;
    if (date != NULL && (date[0] == '\0' || sched_parse_date(date, strlen(date), &d) != 0))
        return bad(r, "date", "date must be a date YYYY-MM-DD");
    struct lending_actor who = lending_actor_of(r);
    struct lending_outcome out;
    lending_quote(r->pool, &who, http_route_param(r, 0), date, &out);
    return lending_reply(r, &out, "loan");
}

/* An officer records the exit payment (reference required); the borrower gets a payment link
 * for the exit amount, and paying it closes the loan. */
int handle_loan_cooling_off_exit(http_req *r)
{
    json_object *b = body_object(r, 1);
    if (b == (json_object *)-1)
        return r->status;
    struct lending_actor who = lending_actor_of(r);
    struct lending_outcome out;
    if (!who.officer) {
        lending_payment_link(r->pool, &who, http_route_param(r, 0), 0, "cooling_off_exit", &out);
        return lending_reply(r, &out, "loan");
    }
    struct lending_payment p = {.kind = SVC_EV_COOLING_OFF};
    if (read_payment(r, b ? b : r->json, 0, &p) != 0)
        return r->status;
    struct audit_client c = lending_client_of(r);
    lending_repay(r->pool, &who, http_route_param(r, 0), &p, &c, &out);
    return lending_reply(r, &out, "loan");
}

/* ---- the portfolio ------------------------------------------------------------------------ */

struct overview_build {
    http_req *r;
    struct lending_outcome out;
};

static const char *build_overview(void *ctx)
{
    struct overview_build *b = ctx;
    lending_portfolio_overview(b->r->pool, &b->out);
    return b->out.code == LENDING_OK ? b->out.json : NULL;
}

const char *portfolio_overview_text(http_req *r)
{
    struct cache_read spec = {
        .key = "portfolio:overview",
        .version_key = PORTFOLIO_VERSION_KEY,
        .ttl = config_get()->dashboard_ttl,
        .local_seconds = 1,
        .valid = cache_text_is_object,
    };
    struct overview_build b = {r, {0}};
    const char *json = cache_read(r->pool, &spec, build_overview, &b);
    if (json == NULL)
        lending_reply(r, &b.out, "portfolio");
    return json;
}

int handle_portfolio_overview(http_req *r)
{
    const char *json = portfolio_overview_text(r);
    if (json == NULL)
        return r->status;
    return http_send_json_etag(r, json, "private, no-cache");
}

int handle_portfolio_delinquency(http_req *r)
{
    if (routes_query_encoded(r) != 0)
        return r->status;
    const char *bucket = http_query(r, "bucket");
    if (bucket == NULL)
        bucket = "delinquent"; /* every bucket but current */
    if (!lending_bucket_valid(bucket))
        return bad(r, "bucket",
                   "bucket must be one of current, SMA-0, SMA-1, SMA-2, NPA, delinquent");
    char limit[16], offset[16];
    if (routes_paging(r, 50, 500, limit, offset) != 0)
        return r->status;
    struct lending_outcome out;
    lending_portfolio_delinquency(r->pool, bucket, limit, offset, &out);
    return lending_reply(r, &out, "portfolio");
}
