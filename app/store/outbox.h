/*
 * The notification outbox (see outbox.c): queued in the decision's transaction, delivered
 * exactly once by `loanctl notifier`.
 */
#ifndef LOANFLOW_OUTBOX_H
#define LOANFLOW_OUTBOX_H

#include "arena.h"
#include "db.h"
#include "loan.h"

extern const struct db_stmts outbox_statements;

/* Queues the messages a decision calls for, in the caller's transaction: the applicant's email
 * when the final status is new (before is the status it had, NULL for a new application), the
 * compliance alert when the result has review flags or compliance rejected. 0 or -1. */
int outbox_decision(arena *a, const char *app_id, const struct loan_input *in,
                    const struct loan_result *res, const char *before)
    __attribute__((warn_unused_result));

/* One match a re-screening found (monitoring.c), as the alert to compliance names it. */
struct outbox_match {
    long long alert_id;
    long entry_id;
    const char *matched_name;
    const char *level; /* "review" | "block" */
    double score;
};

/* What became of the subject of a re-screening match. */
enum outbox_rescreen {
    OUTBOX_REVIEW,   /* an open application, back in the review queue */
    OUTBOX_REPORTED, /* an active (or disbursing) loan, left as it is */
};

/* Queues the alert to compliance (COMPLIANCE_EMAIL) that re-screening against list version
 * found n new matches for application app_id of applicant name; loan_id names the borrower's
 * loan (NULL when there is none). Caller's transaction. 0 or -1. */
int outbox_screening_alert(arena *a, const char *app_id, const char *name, const char *loan_id,
                           enum outbox_rescreen what, const char *list, const char *version,
                           const struct outbox_match *m, int n) __attribute__((warn_unused_result));

/* Claims up to 50 unsent messages in the caller's transaction (columns: id, application_id,
 * kind, recipient, subject, body, sealed: the hex of the sealed code of an sms, or ""), locked so
 * that two notifiers never take the same one; NULL when the database fails. */
PGresult *outbox_claim(arena *a);

/* Marks a claimed message sent and flags its application (email_sent or alert_sent). 0 or -1. */
int outbox_mark_sent(arena *a, const char *id, const char *kind)
    __attribute__((warn_unused_result));

#endif
