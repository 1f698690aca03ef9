/*
 * The use cases of Lending I (see lending.c): the offer an approval makes, with its Key Fact
 * Statement; the applicant's acceptance, which writes the agreement and sends a one-time code;
 * the signature, which countersigns with the lender's Ed25519 key and opens the loan account;
 * the officer's disbursal through the payment gateway; and the gateway's webhooks, which move
 * the payout and the loan forward. Each use case owns its transaction(s) and returns an
 * outcome; nothing here knows HTTP.
 */
#ifndef LOANFLOW_LENDING_H
#define LOANFLOW_LENDING_H

#include <libpq-fe.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "arena.h"
#include "audit.h"
#include "db.h"
#include "schedule.h"
#include "servicing.h"

/* Who acts (as struct review_actor): the signed-in user, their email, and whether an officer. */
struct lending_actor {
    long long id;
    const char *email;
    int officer;
};

enum lending_code {
    LENDING_OK,
    LENDING_CREATED, /* accept: a new agreement; sign: the loan */
    LENDING_DB_DOWN,
    LENDING_FAULT,     /* detail says what (logged, never shown) */
    LENDING_NOT_FOUND, /* no such application/agreement/loan, or not the caller's */
    LENDING_NO_OFFER,  /* the application has no offer (not approved, or no product) */
    LENDING_OFFER_EXPIRED,
    LENDING_ALREADY_SIGNED,
    LENDING_OTP_MISSING, /* no code has been sent (accept first) */
    LENDING_OTP_INVALID, /* tries_left says how many remain */
    LENDING_OTP_EXPIRED,
    LENDING_OTP_EXHAUSTED,
    LENDING_OTP_RATE,        /* too many codes asked for in the last hour */
    LENDING_OWN,             /* disburse: the officer submitted the application */
    LENDING_SAME_APPROVER,   /* disburse: the first approver cannot give the second */
    LENDING_FIRST_APPROVAL,  /* disburse: recorded; a second officer must confirm */
    LENDING_INVALID_STATE,   /* disburse: state says what the loan is */
    LENDING_NO_BANK,         /* disburse: no eKYC-verified bank account of the applicant */
    LENDING_GATEWAY_DOWN,    /* disburse: the gateway did not answer (retry is safe) */
    LENDING_GATEWAY_REFUSED, /* disburse: the gateway refused (detail) */
    LENDING_INVALID,         /* input the loan refuses: state names the field, detail says why */
    LENDING_NOT_ACTIVE,      /* servicing: the loan is not ACTIVE (state says what it is) */
    LENDING_DUPLICATE,       /* a repayment reference seen before */
    LENDING_ALREADY_REVERSED,
    LENDING_COOLING_OFF_OVER, /* the cooling-off period has ended */
    LENDING_OWN_LOAN,         /* an officer recording money on a loan of their own */
    LENDING_BUSY,             /* a day-end is running: try again shortly */
    LENDING_SCREENING_HOLD,   /* disburse: the application is not APPROVED (state says what it
                                 is: a re-screening match sent it back to review) */
};

struct lending_outcome {
    enum lending_code code;
    const char *json;   /* OK/CREATED/FIRST_APPROVAL: the answer's JSON text (arena) */
    const char *state;  /* INVALID_STATE */
    const char *detail; /* FAULT (log only); GATEWAY_REFUSED: the gateway's reason */
    int tries_left;     /* OTP_INVALID */
};

/* Is tenure_months allowed by the active product of the country? 1 yes; 0 no (allowed gets
 * the list, "6, 12, 24", in the arena; "" when the country has no product); -1 the database. */
int lending_tenure_allowed(arena *a, const char *country_code, int tenure, const char **allowed);

/*
 * Makes the offer of an application that has just become APPROVED, in the caller's transaction.
 * row is the application (APPS_COLS of applications.h). An application of a country without an
 * active product, or without a price, gets no offer (0, logged). 0, or -1 when a statement failed.
 */
int lending_offer_on_approval(arena *a, const PGresult *row) __attribute__((warn_unused_result));

/* In the transaction of a re-evaluation that leaves the application not APPROVED: an offer
 * nobody accepted is withdrawn (logged). 0, or -1 when a statement failed. */
int lending_offer_withdraw(arena *a, const char *app_id) __attribute__((warn_unused_result));
/* 1 when the application's offer is accepted or signed (its terms are no longer the lender's to
 * re-evaluate), 0 when not, -1 when the database failed. */
int lending_offer_taken(arena *a, const char *app_id);

/* GET .../offer and .../kfs: the offer's JSON, or the KFS's (with its kfs_sha256). The
 * applicant sees only their own; officers see every one. */
void lending_offer_get(arena *a, const struct lending_actor *who, const char *app_id, int kfs,
                       struct lending_outcome *out);

/* The offer and KFS documents parsed (for the KFS page): borrowed by the arena; NULL when not
 * found (out says why). */
void lending_kfs_doc(arena *a, const struct lending_actor *who, const char *app_id,
                     struct lending_outcome *out);

void lending_accept(arena *a, const struct lending_actor *who, const char *app_id,
                    const struct audit_client *client, struct lending_outcome *out);
void lending_sign(arena *a, const struct lending_actor *who, const char *agreement_id,
                  const char *otp, const struct audit_client *client, struct lending_outcome *out);
void lending_agreement_get(arena *a, const struct lending_actor *who, const char *agreement_id,
                           struct lending_outcome *out);

void lending_loan_get(arena *a, const struct lending_actor *who, const char *loan_id, int schedule,
                      struct lending_outcome *out);
/* The caller's loans (applicant), or every loan of a state (officer; state NULL: all). */
void lending_loans_mine(arena *a, const struct lending_actor *who, struct lending_outcome *out);
void lending_loans_list(arena *a, const char *state, const char *limit, const char *offset,
                        struct lending_outcome *out);
/* 1 when s is a loan state name. */
int lending_state_valid(const char *s);

void lending_disburse(arena *a, const struct lending_actor *who, const char *loan_id,
                      const struct audit_client *client, struct lending_outcome *out);

/* A webhook whose signature the caller verified. event_id: the X-Razorpay-Event-Id header (NULL:
 * derived from the body's hash). OK with json {"status": "applied"|"duplicate"|"stale"|
 * "ignored"}; FAULT when it is not a payout event (detail names the field). */
void lending_webhook(arena *a, const char *body, size_t len, const char *event_id,
                     struct lending_outcome *out);

/* The lender's signing key: key id (16 hex) and public key (64 hex). 0, or -1 when SIGNING_KEY
 * is unusable. */
int lending_signing_key(char key_id[17], char public_hex[65]);

/* Verifies an agreement document (the JSON of GET /agreements/{id}) against a public key (64
 * hex): 0 valid; 1 the terms' hash differs from sha256; 2 the signature does not verify; -1 the
 * document is not an agreement (why says what). */
int lending_verify_document(const char *json, const char *public_hex, const char **why);

/* The last one-time code sent to phone (development and test: loanctl otp last). 0 with
 * code[7]; 1 none; -1 the database or the key. */
int lending_last_otp(arena *a, const char *phone, char code[7]);

/* ---- shared by the lending modules (offers.c, agreements.c, disbursal.c) ---------------- */

extern const struct db_stmts offers_statements;
extern const struct db_stmts agreements_statements;
extern const struct db_stmts disbursal_statements;

/* Appends a row of the lending trail (approval_logs, append-only) in the caller's transaction:
 * action on the application by actor_id (0: the system), details borrowed (may be NULL). */
int lending_log(arena *a, const char *app_id, const char *action, long long actor_id,
                const char *actor_email, const char *reason, json_object *details)
    __attribute__((warn_unused_result));
/* Rolls back and sets out for a failed (or NULL: unreachable) result. */
void lending_fail(arena *a, struct lending_outcome *out, const PGresult *r);
/* The same outside a transaction (a read): sets out only. */
void lending_read_failed(arena *a, struct lending_outcome *out, const PGresult *r);
/* Resets out, BEGINs and runs stmt (one parameter: id), which locks a row. Returns the row, or
 * NULL with the transaction rolled back and out set (DB_DOWN, FAULT, NOT_FOUND for no row). */
PGresult *lending_begin_lock(arena *a, const struct db_stmt *stmt, const char *id,
                             struct lending_outcome *out);
/* The same in the caller's open transaction (no BEGIN, out not reset). */
PGresult *lending_lock_row(arena *a, const struct db_stmt *stmt, const char *id,
                           struct lending_outcome *out);
/* A new id PREFIX-YYYYMMDD-XXXXXXXX (8 of A-Z0-9 from the CSPRNG, as application ids: no id is
 * shaped like a PAN or an Aadhaar number, which log scanners look for) into out[32]. */
void lending_new_id(const char *prefix, char out[32]);
/* Today's business date: the date in India (the one product's country; UTC+05:30, which has no
 * daylight saving), the same as business_date() in SQL (sql/013_business_date.sql). */
#define LENDING_UTC_OFFSET (5 * 3600 + 30 * 60)
sched_day lending_today(void);

/* ---- servicing (issue 14; repayments.c, cob.c) -------------------------------------------- */

/* The loan as clients see it (GET /loans/{id}'s "loan"), caller puts; NULL with *failed (NULL
 * when there is no such loan). */
json_object *lending_loan_read(arena *a, const char *loan_id, PGresult **failed);

/* Money in. amount: minor units (ignored for a cooling-off exit, which is computed);
 * value_date: "YYYY-MM-DD" or NULL for the business date; reference: the payment's own id. */
struct lending_payment {
    enum svc_event_kind kind;
    int64_t amount;
    const char *value_date;
    const char *reference;
    enum svc_prepay_mode mode;
    const char *channel;  /* "officer" | "gateway" */
    const char *link_id;  /* the payment link it came through, or NULL */
    const char *currency; /* what the payer sent (gateway), or NULL: the loan's */
};

/* Records a repayment, prepayment or cooling-off exit and replays the account, in one
 * transaction: CREATED with {"repayment", "loan"} (and "exit" for an exit). */
void lending_repay(arena *a, const struct lending_actor *who, const char *loan_id,
                   const struct lending_payment *pay, const struct audit_client *client,
                   struct lending_outcome *out);
/* Reverses a repayment (reason required) and replays the account: OK with {"repayment",
 * "loan"}. who NULL: the gateway (a refund). */
void lending_reverse(arena *a, const struct lending_actor *who, const char *loan_id,
                     const char *repayment_id, const char *reason,
                     const struct audit_client *client, struct lending_outcome *out);
void lending_repayments_list(arena *a, const struct lending_actor *who, const char *loan_id,
                             struct lending_outcome *out);
/* The foreclosure quote on date ("YYYY-MM-DD", NULL: the business date). */
void lending_quote(arena *a, const struct lending_actor *who, const char *loan_id, const char *date,
                   struct lending_outcome *out);
/* A payment link from the gateway for amount (0: what is due now, else the next installment;
 * purpose "cooling_off_exit": the exit amount). CREATED with {"payment_link"} (and "exit"). */
void lending_payment_link(arena *a, const struct lending_actor *who, const char *loan_id,
                          int64_t amount, const char *purpose, struct lending_outcome *out);
/* A gateway refund of payment_id (refund_id, amount): the payment's repayment is reversed and,
 * for a partial refund, what the lender kept is recorded again on the same value date, all in
 * one transaction. OK; ALREADY_REVERSED when this refund was applied; NOT_FOUND when no
 * repayment of the payment is recorded (yet). */
void lending_refund(arena *a, const char *payment_id, const char *refund_id, int64_t amount,
                    struct lending_outcome *out);
/* A collection webhook (payment.captured, refund.processed, payment_link.*) whose signature
 * the caller verified: OK with {"status"}; 1 returned when the body is a payout event (the
 * caller hands it to lending_webhook), 0 otherwise. */
int lending_collection_webhook(arena *a, const char *body, size_t len, const char *event_id,
                               struct lending_outcome *out);

/* The portfolio (officers): GET /portfolio/overview and /portfolio/delinquency (bucket one of
 * current, SMA-0, SMA-1, SMA-2, NPA, or delinquent: all but current; lending_bucket_valid). */
#define PORTFOLIO_VERSION_KEY "portfolio:version"
int lending_bucket_valid(const char *bucket);
/* After a commit that moved money or a classification: the overview's caches are stale. */
void lending_portfolio_changed(void);
void lending_portfolio_overview(arena *a, struct lending_outcome *out);
void lending_portfolio_delinquency(arena *a, const char *bucket, const char *limit,
                                   const char *offset, struct lending_outcome *out);
/* A loan's classification history (loan_dpd_history: a row per day-end that changed its own
 * classification), oldest first: a new array [{as_of, days_past_due, classification}], caller
 * puts; NULL with *failed when the statement failed. */
json_object *lending_dpd_history(arena *a, const char *loan_id, PGresult **failed);
/* The loan of an application (at most one): 1 with its id and state (arena), 0 none, -1 the
 * database. */
int lending_loan_of_application(arena *a, const char *app_id, const char **loan_id,
                                const char **state);

extern const struct db_stmts repayments_statements;
extern const struct db_stmts portfolio_statements;

#endif
