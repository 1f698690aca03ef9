/*
 * The lending routes (issue 13): the offer and its KFS (JSON and a printable page), accepting
 * and signing the agreement, the signing keys, the loan account, its disbursal, and the payment
 * gateway's webhooks. Each handler parses its input, calls one use case of app/store/lending.h
 * and maps the outcome; an error names its field in "field" and "fields".
 */
#include "routes.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "gateway.h"
#include "js.h"
#include "lending.h"
#include "log.h"
#include "template.h"

struct lending_actor lending_actor_of(http_req *r)
{
    struct lending_actor a = {r->user.id, r->user.email, r->user.role >= ROLE_OFFICER};
    return a;
}

struct audit_client lending_client_of(http_req *r)
{
    struct audit_client c = {r->remote_addr, r->user_agent};
    return c;
}

/* The one error shape, with the field named (field may be NULL) and tries_left when >= 0. */
static int lending_error(http_req *r, int status, const char *code, const char *message,
                         const char *field, int tries_left);

int lending_field_error(http_req *r, int status, const char *code, const char *message,
                        const char *field)
{
    return lending_error(r, status, code, message, field, -1);
}

static int lending_error(http_req *r, int status, const char *code, const char *message,
                         const char *field, int tries_left)
{
    json_object *o = json_object_new_object();
    json_object *e = json_object_new_object();
    json_object_object_add(e, "status", json_object_new_int(status));
    json_object_object_add(e, "code", json_object_new_string(code));
    json_object_object_add(e, "message", json_object_new_string(message));
    if (field != NULL) {
        json_object_object_add(e, "field", json_object_new_string(field));
        json_object *f = json_object_new_object();
        json_object_object_add(f, field, json_object_new_string(message));
        json_object_object_add(e, "fields", f);
    }
    if (tries_left >= 0)
        json_object_object_add(e, "tries_left", json_object_new_int(tries_left));
    json_object_object_add(e, "request_id",
                           r->request_id ? json_object_new_string(r->request_id) : NULL);
    json_object_object_add(o, "error", e);
    return http_send_json(r, status, o);
}

static int send_text(http_req *r, int status, const char *json)
{
    http_add_header(r, "Cache-Control", "no-store");
    return http_send(r, status, "application/json", json, strlen(json));
}

int lending_reply(http_req *r, const struct lending_outcome *out, const char *what)
{
    switch (out->code) {
    case LENDING_OK:
        return send_text(r, 200, out->json);
    case LENDING_CREATED:
        return send_text(r, 201, out->json);
    case LENDING_FIRST_APPROVAL:
        return send_text(r, 202, out->json);
    case LENDING_DB_DOWN:
        return routes_db_error(r, NULL);
    case LENDING_FAULT:
        return http_fault(r, "%s: %s", what, out->detail ? out->detail : "fault");
    case LENDING_NOT_FOUND:
        return http_error(r, 404, "not_found", arena_printf(r->pool, "No such %s", what));
    case LENDING_NO_OFFER:
        return http_error(r, 404, "no_offer",
                          "This application has no offer: it is not approved, or no loan "
                          "product serves its country");
    case LENDING_OFFER_EXPIRED:
        return http_error(r, 409, "offer_expired",
                          "The offer's validity has ended; ask the lender for a new offer");
    case LENDING_ALREADY_SIGNED:
        return http_error(r, 409, "already_signed", "The agreement is already signed");
    case LENDING_OTP_MISSING:
        return lending_error(r, 400, "otp_required",
                             "No one-time code is waiting: accept the offer to receive one", "otp",
                             -1);
    case LENDING_OTP_INVALID:
        return lending_error(r, 400, "otp_invalid", "The one-time code is not the one sent", "otp",
                             out->tries_left);
    case LENDING_OTP_EXPIRED:
        return lending_error(r, 400, "otp_expired",
                             "The one-time code has expired: accept the offer again for a new one",
                             "otp", -1);
    case LENDING_OTP_EXHAUSTED:
        return lending_error(r, 400, "otp_exhausted",
                             "Too many wrong codes: accept the offer again for a new one", "otp",
                             0);
    case LENDING_OTP_RATE:
        return http_error(r, 429, "otp_rate_limited",
                          "Too many one-time codes were asked for this hour; try later");
    case LENDING_OWN:
        return http_error(r, 403, "segregation_of_duties",
                          "You submitted this application; another officer must disburse it");
    case LENDING_SAME_APPROVER:
        return http_error(r, 409, "same_approver",
                          "You gave this disbursal its first approval; a second, different "
                          "officer must confirm it");
    case LENDING_INVALID_STATE:
        return http_error(r, 409, "invalid_state",
                          arena_printf(r->pool, "The loan is %s, not AWAITING_DISBURSAL",
                                       out->state ? out->state : "?"));
    case LENDING_NO_BANK:
        return http_error(r, 409, "no_verified_bank_account",
                          "The applicant has no eKYC-verified bank account of their own; a loan "
                          "is paid only into one");
    case LENDING_GATEWAY_DOWN:
        return http_error(r, 503, "gateway_unavailable",
                          "The payment gateway did not confirm the payout; disburse again to "
                          "retry (the same payout is re-sent, never a second one)");
    case LENDING_GATEWAY_REFUSED:
        return http_error(r, 502, "gateway_refused",
                          arena_printf(r->pool, "The payment gateway refused the request: %s",
                                       out->detail ? out->detail : "no reason given"));
    case LENDING_INVALID:
        return lending_error(r, 400, "validation_failed", out->detail, out->state, -1);
    case LENDING_NOT_ACTIVE:
        return lending_error(
            r, 409, "loan_not_active",
            arena_printf(r->pool, "The loan is %s, not ACTIVE", out->state ? out->state : "?"),
            NULL, -1);
    case LENDING_DUPLICATE:
        return lending_error(r, 409, "duplicate_reference",
                             "A payment with this reference is already recorded", "reference", -1);
    case LENDING_ALREADY_REVERSED:
        return http_error(r, 409, "already_reversed", "The repayment is already reversed");
    case LENDING_COOLING_OFF_OVER:
        return http_error(r, 409, "cooling_off_over",
                          "The cooling-off period of this loan has ended; a prepayment closes it");
    case LENDING_BUSY:
        http_add_header(r, "Retry-After", "30");
        return http_error(r, 503, "day_end_running",
                          "The day-end is running; money moves again in a minute");
    case LENDING_SCREENING_HOLD:
        return http_error(r, 409, "screening_hold",
                          arena_printf(r->pool,
                                       "The application is under compliance review (%s): the "
                                       "loan is not disbursed until an officer approves it again",
                                       out->state ? out->state : "not APPROVED"));
    case LENDING_OWN_LOAN:
        return http_error(r, 403, "own_loan",
                          "You applied for this loan; another officer must record its payments");
    }
    return http_fault(r, "unknown lending outcome %d", (int)out->code);
}

int handle_offer_get(http_req *r)
{
    struct lending_actor who = lending_actor_of(r);
    struct lending_outcome out;
    lending_offer_get(r->pool, &who, http_route_param(r, 0), 0, &out);
    return lending_reply(r, &out, "application");
}

int handle_kfs_get(http_req *r)
{
    struct lending_actor who = lending_actor_of(r);
    struct lending_outcome out;
    lending_offer_get(r->pool, &who, http_route_param(r, 0), 1, &out);
    return lending_reply(r, &out, "application");
}

/* The printable KFS: the stored KFS document rendered by templates/kfs.html. */
int handle_kfs_page(http_req *r)
{
    struct lending_actor who = lending_actor_of(r);
    struct lending_outcome out;
    lending_kfs_doc(r->pool, &who, http_route_param(r, 0), &out);
    if (out.code != LENDING_OK)
        return lending_reply(r, &out, "application");
    json_object *kfs = json_tokener_parse(out.json);
    if (kfs == NULL)
        return http_fault(r, "stored KFS of %s is not JSON", http_route_param(r, 0));
    json_object *ctx = json_object_new_object();
    json_object_object_add(ctx, "title", json_object_new_string("Key Fact Statement"));
    json_object_object_add(ctx, "kfs", kfs);
    json_object_object_add(ctx, "kfs_sha256", json_object_new_string(out.detail));
    json_object_object_add(ctx, "state", json_object_new_string(out.state));
    size_t len;
    char *html = template_render(r->pool, "kfs", ctx, &len);
    json_object_put(ctx);
    if (html == NULL)
        return http_fault(r, "template kfs failed");
    http_add_header(r, "Cache-Control", "no-store");
    return http_send(r, 200, "text/html; charset=utf-8", html, len);
}

int handle_offer_accept(http_req *r)
{
    if (r->json != NULL && !json_object_is_type(r->json, json_type_object))
        return http_error(r, 400, "validation_failed", "The body must be a JSON object");
    struct lending_actor who = lending_actor_of(r);
    struct audit_client c = lending_client_of(r);
    struct lending_outcome out;
    lending_accept(r->pool, &who, http_route_param(r, 0), &c, &out);
    return lending_reply(r, &out, "application");
}

int handle_agreement_sign(http_req *r)
{
    json_object *v = NULL;
    if (r->json == NULL || !json_object_is_type(r->json, json_type_object) ||
        !json_object_object_get_ex(r->json, "otp", &v) || v == NULL)
        return lending_error(r, 400, "validation_failed", "otp is required: the 6-digit code sent",
                             "otp", -1);
    const char *otp = json_object_get_string(v);
    int ok = json_object_is_type(v, json_type_string) && strlen(otp) == 6;
    for (int i = 0; ok && i < 6; i++)
        ok = isdigit((unsigned char)otp[i]) != 0;
    if (!ok)
        return lending_error(r, 400, "validation_failed",
                             "otp must be a string of the 6 digits sent", "otp", -1);
    struct lending_actor who = lending_actor_of(r);
    struct audit_client c = lending_client_of(r);
    struct lending_outcome out;
    lending_sign(r->pool, &who, http_route_param(r, 0), otp, &c, &out);
    return lending_reply(r, &out, "agreement");
}

int handle_agreement_get(http_req *r)
{
    struct lending_actor who = lending_actor_of(r);
    struct lending_outcome out;
    lending_agreement_get(r->pool, &who, http_route_param(r, 0), &out);
    return lending_reply(r, &out, "agreement");
}

int handle_signing_keys(http_req *r)
{
    char kid[17], pub[65];
    if (lending_signing_key(kid, pub) != 0)
        return http_fault(r, "SIGNING_KEY unusable");
    json_object *o = json_object_new_object();
    json_object *keys = json_object_new_array();
    json_object *k = json_object_new_object();
    json_object_object_add(k, "key_id", json_object_new_string(kid));
    json_object_object_add(k, "alg", json_object_new_string("Ed25519"));
    json_object_object_add(k, "public_key", json_object_new_string(pub));
    json_object_object_add(k, "use", json_object_new_string("loan agreements"));
    json_object_array_add(keys, k);
    json_object_object_add(o, "keys", keys);
    http_add_header(r, "Cache-Control", "public, max-age=300");
    return http_send_json(r, 200, o);
}

int handle_loan_account_get(http_req *r)
{
    struct lending_actor who = lending_actor_of(r);
    struct lending_outcome out;
    lending_loan_get(r->pool, &who, http_route_param(r, 0), 0, &out);
    return lending_reply(r, &out, "loan");
}

int handle_loan_account_schedule(http_req *r)
{
    struct lending_actor who = lending_actor_of(r);
    struct lending_outcome out;
    lending_loan_get(r->pool, &who, http_route_param(r, 0), 1, &out);
    return lending_reply(r, &out, "loan");
}

int handle_me_loans(http_req *r)
{
    struct lending_actor who = lending_actor_of(r);
    struct lending_outcome out;
    lending_loans_mine(r->pool, &who, &out);
    return lending_reply(r, &out, "loan");
}

int handle_loans_list(http_req *r)
{
    if (routes_query_encoded(r) != 0)
        return r->status;
    const char *state = http_query(r, "state");
    if (state != NULL && state[0] == '\0')
        state = NULL;
    if (state != NULL && !lending_state_valid(state))
        return lending_error(r, 400, "validation_failed",
                             "state must be one of AWAITING_DISBURSAL, DISBURSING, ACTIVE, CLOSED",
                             "state", -1);
    char limit[16], offset[16];
    if (routes_paging(r, 50, 500, limit, offset) != 0)
        return r->status;
    struct lending_outcome out;
    lending_loans_list(r->pool, state, limit, offset, &out);
    return lending_reply(r, &out, "loan");
}

int handle_loan_disburse(http_req *r)
{
    if (r->json != NULL && !json_object_is_type(r->json, json_type_object))
        return http_error(r, 400, "validation_failed", "The body must be a JSON object");
    struct lending_actor who = lending_actor_of(r);
    struct audit_client c = lending_client_of(r);
    struct lending_outcome out;
    lending_disburse(r->pool, &who, http_route_param(r, 0), &c, &out);
    if (out.code == LENDING_OK)
        return send_text(r, 202, out.json);
    return lending_reply(r, &out, "loan");
}

/* The gateway's webhooks: the signature over the raw body first, then the event once. */
int handle_gateway_webhook(http_req *r)
{
    const char *sig = http_param(r, "HTTP_X_RAZORPAY_SIGNATURE");
    if (r->body == NULL || !gateway_signature_ok(r->body, r->body_len, sig))
        return http_error(r, 400, "invalid_signature",
                          "X-Razorpay-Signature is not the HMAC-SHA256 of the body under the "
                          "webhook secret");
    const char *event_id = http_param(r, "HTTP_X_RAZORPAY_EVENT_ID");
    if (event_id != NULL && (strlen(event_id) > 100 || event_id[0] == '\0'))
        return lending_error(r, 400, "validation_failed",
                             "X-Razorpay-Event-Id must be 1 to 100 characters",
                             "X-Razorpay-Event-Id", -1);
    struct lending_outcome out;
    /* Collections (payments, refunds, links) first; a payout event goes on to the payouts. */
    if (lending_collection_webhook(r->pool, r->body, r->body_len, event_id, &out) == 0) {
        if (out.code == LENDING_FAULT && out.state != NULL)
            return lending_error(r, 400, "invalid_event", "The body is not a gateway event",
                                 out.detail, -1);
        return lending_reply(r, &out, "payment");
    }
    lending_webhook(r->pool, r->body, r->body_len, event_id, &out);
    if (out.code == LENDING_FAULT && out.state != NULL)
        return lending_error(r, 400, "invalid_event", "The body is not a payout event", out.detail,
                             -1);
    return lending_reply(r, &out, "payout");
}
