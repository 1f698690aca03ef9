/*
 * Loan applications in PostgreSQL: evaluation with the reference data, the INSERT of a new
 * application, decision updates, the approval log and the notification outbox. Used by the
 * HTTP handlers and by `loanctl seed`, so sample data goes through the same pipeline. Every
 * function runs on the process's db_* connection and joins the caller's transaction.
 */
#ifndef LOANFLOW_LOANS_H
#define LOANFLOW_LOANS_H

#include <json-c/json.h>

#include "arena.h"
#include "db.h"
#include "loan.h"
#include "refdata.h"

enum loans_sql {
    LOANS_INSERT,
    LOANS_UPDATE,
    LOANS_IDENTITY,
    PII_ROTATE_PICK,
    PII_ROTATE_WRITE,
    PII_ROTATE_LEFT,
    PII_ROTATE_BOUNDS,
    PII_STATUS,
    LOANS_OPEN_IDENTITY,
    LOANS_LOG,
    NOTIFY_CLAIM,
    NOTIFY_MARK,
    LOANS_NOTIFY,
    LOANS_SQL_COUNT
};
extern const struct db_stmt loans_sql[];
#define LOANS_SQL(id) (&loans_sql[id])
extern const struct db_stmts loans_statements;

/* The columns every query that returns an application selects, in loans_row_json's order. */
#define LOANS_COLS                                                                                 \
    "application_id, name, email, phone, city, region, country, country_code, income::text, "      \
    "debt::text, credit_score, loan_amount::text, loan_purpose, dti_ratio::text, "                 \
    "documents_uploaded, array_to_json(documents)::text, kyc_status, " LOANS_TS(kyc_verified_at)   \
    ", kyc_remarks, compliance_status, " LOANS_TS(compliance_verified_at)                          \
    ", compliance_remarks, political_connection, senior_relative, eligibility_status, "            \
    LOANS_TS(eligibility_verified_at) ", eligibility_remarks, final_status, "                      \
    LOANS_TS(final_decision_at) ", final_remarks, alert_sent, email_sent, "                        \
    "array_to_json(review_flags)::text, reviewed_by, " LOANS_TS(reviewed_at) ", review_reason, "   \
    "screening_list, screening_list_version, screening_entry_id, screening_matched_name, "         \
    "screening_score::text, " LOANS_TS(created_at) ", " LOANS_TS(updated_at) ", user_id, "         \
    "declared_political_connection, declared_senior_relative, doc"
#define LOANS_TS(c) "to_char(" #c " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"

enum loans_col {
    LC_APP_ID, LC_NAME, LC_EMAIL, LC_PHONE, LC_CITY, LC_REGION, LC_COUNTRY, LC_COUNTRY_CODE,
    LC_INCOME, LC_DEBT, LC_SCORE, LC_LOAN, LC_PURPOSE, LC_DTI, LC_DOCS_UPLOADED, LC_DOCS,
    LC_KYC, LC_KYC_AT, LC_KYC_REM, LC_COMP, LC_COMP_AT, LC_COMP_REM, LC_PEP, LC_SENIOR, LC_ELIG,
    LC_ELIG_AT, LC_ELIG_REM, LC_FINAL, LC_FINAL_AT, LC_FINAL_REM, LC_ALERT, LC_EMAIL_SENT,
    LC_FLAGS, LC_REVIEWED_BY, LC_REVIEWED_AT, LC_REVIEW_REASON, LC_SCR_LIST, LC_SCR_VERSION,
    LC_SCR_ENTRY, LC_SCR_NAME, LC_SCR_SCORE, LC_CREATED, LC_UPDATED, LC_USER_ID,
    LC_DECL_PEP, LC_DECL_SENIOR, LC_DOC,
};

/* Rebuilds the input of a stored application (strings borrowed from res; documents parsed into
 * the arena). Returns 0, or -1 when the row is not readable. */
int loans_row_input(arena *a, const PGresult *res, int row, struct loan_input *in);

/*
 * Looks up the country, the compliance facts and the credit policy, and runs the pipeline. The
 * identity facts are the stored ones when stored is non-NULL (an officer's approval judges what
 * the providers said then), else the providers are asked now (submission, reprocess). Returns 0;
 * 1 when the country is unknown (nothing evaluated); -1 when the database is unreachable.
 */
int loans_evaluate(arena *a, const struct loan_input *in, unsigned cleared,
                   const struct identity_facts *stored, const struct country_info **country,
                   struct compliance_facts *f, struct loan_result *out);

/*
 * Completes the input of a stored application with its identity (date of birth, bank details,
 * and the numbers: opened with the PII keys when open_numbers is set, else only marked as
 * present) and fills *stored with what the providers answered last. Returns 0; -1 when the
 * database is unreachable; -2 when a number cannot be opened (its key is neither PII_KEY nor
 * PII_KEY_PREVIOUS).
 */
int loans_row_identity(arena *a, const char *app_id, struct loan_input *in,
                       struct identity_facts *stored, int open_numbers);

/* Applicant's age in whole years today (UTC); -1 without a date of birth, -2 when it is later
 * than today. */
int loans_age(const struct loan_input *in);

/*
 * Finds an open application with the same PAN or Aadhaar, indexed under PII_KEY or
 * PII_KEY_PREVIOUS; *field is "pan" or "aadhaar" when one exists. 0, or -1 when the database
 * fails or the keys are unusable.
 */
int loans_open_identity(arena *a, const struct loan_input *in, const char **field);

/* Progress of a key rotation: rows up to max_id (0: found on the first call), after the last
 * id seen. */
struct loans_rotation {
    long long max_id, after;
    long rotated, unknown, conflicts; /* unknown, conflicts: of the last walk */
};
/*
 * Re-seals and re-indexes the next batch of rows sealed under another key than PII_KEY (taken
 * under PII_KEY_PREVIOUS) in one transaction, skipping rows locked by a review in progress
 * (a later pass takes them). Rows under a key that is neither are counted in unknown, rows whose
 * number is on another open application under the new key in conflicts (left as they are,
 * logged). Returns
 * the rows looked at (0 when the walk is done), or -1 when the database fails.
 */
int loans_pii_rotate(arena *a, int batch, struct loans_rotation *st);
/* Rows up to st->max_id still under another key than PII_KEY, or -1. */
long loans_pii_left(arena *a, const struct loans_rotation *st);

/* Microseconds the last loans_evaluate spent on the credit policy, the providers and the rules
 * (the bench's measure of what identity checking adds to a submission). */
extern long loans_identity_us;

/* A keyed BLAKE2b of a request body (hex), for Idempotency-Key records: bodies carry identity
 * numbers, which an unkeyed hash would give away to anyone trying them all. */
void loans_body_hash(const void *body, size_t len, char hex[65]);

/* The id of the current PII key ("" when unusable). */
const char *loans_pii_key_id(void);

/* A new application id LOAN-YYYYMMDD-XXXXXXXX (CSPRNG) into buf[24]. */
void loans_new_id(char buf[24]);

/*
 * Inserts a new application with its 'submit' log entry and its notifications, in the
 * caller's transaction. created_at NULL means now (the seeder back-dates, and passes notify 0:
 * nobody is to be told about a sample decision of last month). Returns the row
 * (LOANS_COLS) owned by the arena, or the failed result (check db_ok; SQLSTATE 23505 on the
 * one-pending-per-email index), or NULL when the database is unreachable.
 */
PGresult *loans_insert(arena *a, long long user_id, const char *actor_email,
                       const struct loan_input *in, const struct country_info *c,
                       const struct compliance_facts *f, const struct loan_result *res,
                       const char *created_at, int notify);

/* Writes a new decision (approve, reject, reprocess) with its log entry and notifications, in
 * the caller's transaction. reason may be NULL. Same return contract as loans_insert. */
PGresult *loans_update(arena *a, const char *app_id, const char *action, long long actor_id,
                       const char *actor_email, const char *reason, const char *status_before,
                       const struct loan_input *in, const struct compliance_facts *f,
                       const struct loan_result *res, int reviewed);

/* Writes the approval log entry of a decision and queues its notifications (caller's
 * transaction). 0 or -1. */
int loans_log_and_notify(arena *a, const char *app_id, const char *action, long long actor_id,
                         const char *actor_email, const char *reason, const char *status_before,
                         const struct loan_input *in, const struct loan_result *res)
    __attribute__((warn_unused_result));

/* Tells readers that an application (or, with NULL, some applications) changed: bumps the
 * application's cache version and the dashboard's. Call after the commit. */
void loans_changed(const char *app_id);

#define LOANS_DOC_TTL 300 /* seconds a cached application document may live */

#endif
