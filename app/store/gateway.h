/*
 * gateway.h - the payment gateway: payouts (disbursal) now, collections later, spoken over real
 * HTTP with libcurl in the shape of RazorpayX (contact -> fund account -> payout, with the
 * mandatory X-Payout-Idempotency header), and the signed webhooks it sends back
 * (X-Razorpay-Signature: hex HMAC-SHA256 of the raw body under GATEWAY_WEBHOOK_SECRET;
 * X-Razorpay-Event-Id: the event's id, the key to deduplicate on).
 *
 * GATEWAY_PROVIDER chooses the gateway: `sandbox` (the `loanctl gateway-sandbox` process on
 * loopback, GATEWAY_URL) or `none` (every call answers GATEWAY_UNAVAILABLE). No call holds a
 * transaction open: the caller asks the gateway between its transactions.
 */
#ifndef LOANFLOW_GATEWAY_H
#define LOANFLOW_GATEWAY_H

#include <stddef.h>
#include <stdint.h>

enum gateway_code {
    GATEWAY_OK,          /* accepted: res filled */
    GATEWAY_UNAVAILABLE, /* GATEWAY_PROVIDER=none, or the gateway did not answer in time */
    GATEWAY_REFUSED,     /* the gateway answered 4xx: res->error says why (idempotency conflict,
                            invalid account ...) */
    GATEWAY_FAULT,       /* 5xx or an answer that is not the protocol */
};

/* A payout to the borrower's own bank account. All strings borrowed. */
struct gateway_payout_req {
    const char *idempotency_key; /* loan id + tranche, e.g. "LN-...:1" */
    const char *reference;       /* reference_id: the loan id (comes back in the webhooks) */
    const char *contact_name;    /* the borrower */
    const char *contact_email;
    const char *contact_phone;
    const char *holder_name;    /* the bank account's holder as eKYC verified it */
    const char *account_number; /* in clear, only for the duration of the call */
    const char *ifsc;
    int64_t amount;        /* minor units (paise) */
    const char *currency;  /* "INR" */
    const char *mode;      /* "IMPS" | "NEFT" | "RTGS" */
    const char *narration; /* at most 30 characters on the borrower's statement */
};

struct gateway_payout_res {
    char payout_id[64];       /* "pout_..." */
    char fund_account_id[64]; /* "fa_..." */
    char status[24];          /* queued | pending | processing | processed | reversed | failed */
    int http_status;          /* the gateway's HTTP status (0: none) */
    char error[200];          /* REFUSED/FAULT/UNAVAILABLE: the gateway's description */
    char utr[64];             /* the bank's reference once processed, "" before */
};

/* Creates the contact and fund account, then requests the payout (each idempotent). Each HTTP
 * request is bounded by GATEWAY_TIMEOUT_MS. No answer, 408 or 429 is GATEWAY_UNAVAILABLE; after
 * UNAVAILABLE or FAULT the payout may exist all the same: ask again with the same
 * idempotency_key (the gateway answers the same payout) or read it with gateway_payout_get. */
enum gateway_code gateway_payout(const struct gateway_payout_req *req,
                                 struct gateway_payout_res *res)
    __attribute__((warn_unused_result));

/* Reads a payout back (GET /v1/payouts/{id}): payout_id, fund_account_id, status, utr. The
 * same outcomes as gateway_payout; REFUSED also for an id that is not one. */
enum gateway_code gateway_payout_get(const char *payout_id, struct gateway_payout_res *res)
    __attribute__((warn_unused_result));

/* Frees the process's libcurl handle (at exit; the next call makes a new one). */
void gateway_cleanup(void);

/* 1 when sig_hex (the X-Razorpay-Signature header; NULL: absent) is the hex HMAC-SHA256 of the
 * raw body under GATEWAY_WEBHOOK_SECRET, compared in constant time; 0 otherwise. */
int gateway_signature_ok(const void *body, size_t len, const char *sig_hex);
/* The same with an explicit secret (unit tests, the sandbox). */
int gateway_signature_ok_with(const char *secret, const void *body, size_t len,
                              const char *sig_hex);
/* Writes the 64 hex digits (+ NUL) of HMAC-SHA256(secret, body) into out[65]. */
void gateway_sign(const char *secret, const void *body, size_t len, char out[65]);

/* A payout webhook, parsed. Strings point into the caller's buffer of struct gateway_event
 * (copied, NUL-terminated). */
struct gateway_event {
    char event[40];       /* "payout.processed", "payout.reversed", "payout.failed", ... */
    char payout_id[64];   /* payload.payout.entity.id */
    char status[24];      /* payload.payout.entity.status */
    char reference[64];   /* payload.payout.entity.reference_id */
    char utr[64];         /* payload.payout.entity.utr, "" when none */
    char reason[200];     /* payload.payout.entity.status_details.description or failure_reason */
    int64_t amount;       /* payload.payout.entity.amount, minor units */
    long long created_at; /* the event's created_at (unix seconds), 0 when absent */
};

/* Parses a webhook body. 0, or -1 when it is not a payout event of the protocol (field says
 * which field is missing or wrong). */
int gateway_event_parse(const char *body, size_t len, struct gateway_event *ev, const char **field);

/* Forward order of payout states: queued 1, pending 2, processing 3, processed 4, and the end
 * states reversed 5, failed 5, cancelled 5; 0 for an unknown status. An event whose rank is not
 * above the stored one changes nothing (reversed may follow processed). */
int gateway_status_rank(const char *status);

/* ---- collection (issue 14): payment links, captured payments, refunds ------------------ */

/* A payment link for a borrower (POST /v1/payment_links). All strings borrowed. */
struct gateway_link_req {
    const char *reference;      /* reference_id: ours, unique per link (the gateway refuses a
                                   reference it has seen) */
    int64_t amount;             /* minor units */
    const char *currency;       /* "INR" */
    const char *description;    /* shown on the gateway's page */
    const char *customer_name;  /* the borrower */
    const char *customer_email; /* may be NULL */
    const char *customer_phone; /* may be NULL */
    long long expire_by;        /* unix seconds, 0: the gateway's default */
    const char *loan_id;        /* notes.loan_id: comes back in the payment's notes */
    const char *purpose;        /* notes.purpose: "repayment" | "cooling_off_exit" */
};

struct gateway_link_res {
    char id[64];         /* "plink_..." */
    char short_url[256]; /* the page the borrower pays on */
    char status[24];     /* created | partially_paid | paid | expired | cancelled */
    long long expire_by; /* unix seconds, 0 when none */
    int http_status;
    char error[200];
};

/* Creates a payment link. The same outcomes as gateway_payout (REFUSED: 4xx with the
 * description in res->error). */
enum gateway_code gateway_payment_link(const struct gateway_link_req *req,
                                       struct gateway_link_res *res)
    __attribute__((warn_unused_result));

/* A collection webhook, parsed: payment.captured (payload.payment.entity), refund.processed
 * (payload.refund.entity, with payment_id), payment_link.paid / partially_paid / expired /
 * cancelled (payload.payment_link.entity, and payload.payment.entity when paid). */
struct gateway_payment_event {
    char event[40];
    char payment_id[64]; /* "pay_..." (refunds: the payment refunded) */
    char refund_id[64];  /* "rfnd_...", "" unless a refund event */
    char link_id[64];    /* "plink_..." when the event names one, else "" */
    char status[24];     /* the entity's status: captured, processed, paid ... */
    int64_t amount;      /* the payment's (refund's) amount, minor units */
    char currency[4];
    char loan_id[40];   /* notes.loan_id, "" when absent */
    char reference[64]; /* notes.reference or the link's reference_id, "" when absent */
    char purpose[24];   /* notes.purpose, "" when absent */
    long long created_at;
};

/* 0 parsed; 1 the body is a payout event (payout.*: use gateway_event_parse); 2 another event
 * of the protocol, one Loanflow does not act on (payment.authorized, order.paid ...; nothing
 * filled); -1 malformed (field says which field is missing or wrong). */
int gateway_payment_event_parse(const char *body, size_t len, struct gateway_payment_event *ev,
                                const char **field);

#endif
