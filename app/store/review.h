/*
 * The use cases of an application's life: submit, and an officer's approve, reject and
 * reprocess. Each is one function that owns its transaction (BEGIN, the row lock, the
 * evaluation, the write, the log entry and the notifications, COMMIT, then the caches) and
 * returns an outcome; the caller (a JSON handler, a form handler, loanctl) maps the outcome to
 * what it answers. Nothing here knows HTTP.
 */
#ifndef LOANFLOW_REVIEW_H
#define LOANFLOW_REVIEW_H

#include <stddef.h>

#include "arena.h"
#include "db.h"
#include "loan.h"
#include "refdata.h"

/* Who acts: the signed-in user (id 0 for none), the email the log records, and whether the
 * user is an officer (an officer files for a customer and sees the officers' document; an
 * applicant sees the applicant's document, and repeated identity mismatches hold its
 * submissions for an officer). */
struct review_actor {
    long long id;
    const char *email;
    int officer;
};

enum review_code {
    REVIEW_OK,              /* done: doc is the application as it now is */
    REVIEW_DB_DOWN,         /* the database is unreachable (nothing written) */
    REVIEW_FAULT,           /* a server fault: detail says what, failed holds a failed result */
    REVIEW_NOT_FOUND,       /* no such application */
    REVIEW_DECIDED,         /* the application is no longer pending: status says what it is */
    REVIEW_OFFICER_DECIDED, /* reprocess: an officer has decided it */
    REVIEW_CHANGED,         /* reprocess: the row changed while the providers were asked */
    REVIEW_INCOMPLETE,      /* approve: flags (LOAN_FLAGS_RETRY bits) still wait for a provider */
    REVIEW_HARD_RULES,      /* approve: rules no officer can clear fail (rules, "a, b") */
    REVIEW_DUPLICATE,       /* another open application has the same field (email, pan, aadhaar;
                               NULL: one of them, on a re-evaluation) */
    REVIEW_IDEM_REUSED,     /* submit: the Idempotency-Key was used with another body */
    REVIEW_IDEM_BUSY,       /* submit: a request with this key is in progress */
    REVIEW_IDEM_REPLAY,     /* submit: answered before: replay_status and replay_body */
    REVIEW_OWN_APPLICATION, /* approve, reject, reprocess: the actor submitted it (segregation of
                               duties) */
    REVIEW_SAME_APPROVER,   /* approve: the actor gave the first approval; another officer must
                               give the second */
    REVIEW_OFFER_TAKEN,     /* reprocess: the applicant has accepted the offer */
    REVIEW_FIRST_APPROVAL,  /* approve: done, but it was the first of the two approvals the
                               application needs (doc: the application, still PENDING) */
};

struct review_outcome {
    enum review_code code;
    const char *app_id;      /* OK */
    const char *doc;         /* OK: the application's doc JSON (arena) */
    const char *reply;       /* submit OK: the reply stored for the Idempotency-Key */
    enum loan_status final;  /* submit OK: the decision */
    const char *status;      /* DECIDED: the status the application has */
    const char *field;       /* DUPLICATE */
    unsigned flags;          /* INCOMPLETE */
    const char *rules;       /* HARD_RULES */
    int replay_status;       /* IDEM_REPLAY */
    const char *replay_body; /* IDEM_REPLAY */
    const char *detail;      /* FAULT: for the log, never for the client */
    const PGresult *failed;  /* FAULT: the failed result, when a statement failed */
    long identity_us;        /* submit: µs the providers, the policy and the model took, or -1 */
};

/*
 * Looks up the country, the compliance facts and the credit policy, and runs the pipeline. The
 * identity facts are the stored ones when stored is non-NULL (an officer's approval judges what
 * the providers said then), else the providers are asked now (submission, reprocess). Returns 0;
 * 1 when the country is unknown (nothing evaluated); -1 when the database is unreachable.
 * *identity_us (may be NULL) gets the microseconds of the policy, providers and rules.
 */
int review_evaluate(arena *a, const struct loan_input *in, unsigned cleared,
                    const struct identity_facts *stored, const struct country_info **country,
                    struct compliance_facts *f, struct loan_result *out, long *identity_us);

/* Applicant's age in whole years today (UTC); -1 without a date of birth, -2 when it is later
 * than today. */
int review_age(const struct loan_input *in);

/* Builds the reply a submission answers with from the new application's doc (arena text); the
 * use case stores it with the Idempotency-Key so that a retry replays exactly it. */
typedef const char *(*review_reply_fn)(arena *a, const char *doc);

/*
 * Submits a validated application (country known) through the whole pipeline: a reused
 * Idempotency-Key is answered from its record before anything else (key NULL: none; the
 * record keeps a keyed hash of the request body), a PAN or Aadhaar already on an open application
 * is refused before any provider is asked, then the providers are asked with no transaction open,
 * and the row, its log entry, notifications and the key's record are written in one transaction.
 * An applicant's Indian submission waits for an officer when the account's identity checks
 * failed LOAN_IDENTITY_ATTEMPTS times in the last day. doc and reply are the officers' document
 * for an officer, the applicant's for an applicant.
 */
void review_submit(arena *a, const struct review_actor *who, const struct loan_input *in,
                   const char *key, const void *body, size_t body_len, review_reply_fn reply,
                   struct review_outcome *out);

/* An officer's approval (reason may be NULL): the stored answers are judged again with every
 * flag cleared; a hard rule, or a provider that has not answered, refuses it. Maker-checker:
 * nobody decides or reprocesses an application they submitted; one flagged sanctions_review or
 * pep, or of a loan above FOUR_EYES_AMOUNT, takes two approvals by different officers (the
 * first is recorded, the second decides). */
void review_approve(arena *a, const struct review_actor *who, const char *app_id,
                    const char *reason, struct review_outcome *out);

/* An officer's rejection of a pending application (reason may be NULL). */
void review_reject(arena *a, const struct review_actor *who, const char *app_id, const char *reason,
                   struct review_outcome *out);

/* Evaluates an application no officer has decided again, asking the providers anew (with no
 * row locked while they answer). */
void review_reprocess(arena *a, const struct review_actor *who, const char *app_id,
                      struct review_outcome *out);

extern const struct db_stmts review_statements;

#endif
