/*
 * Application rows in PostgreSQL (see applications.c): the row mapping, the INSERT of a new
 * application and the decision UPDATE with their approval-log entries and notifications, and
 * the reads the handlers and pages send. Every function runs on the process's db_* connection
 * and joins the caller's transaction; results are owned by the arena. A read returns NULL when
 * the database is unreachable, or a failed result (check db_ok).
 */
#ifndef LOANFLOW_APPLICATIONS_H
#define LOANFLOW_APPLICATIONS_H

#include "arena.h"
#include "db.h"
#include "loan.h"
#include "refdata.h"

extern const struct db_stmts applications_statements;

/* clang-format off */
/* The columns every query that returns an application selects, in the order of enum
 * applications_col. */
#define APPS_COLS                                                                                 \
    "application_id, name, email, phone, city, region, country, country_code, income::text, "      \
    "debt::text, credit_score, loan_amount::text, loan_purpose, dti_ratio::text, "                 \
    "documents_uploaded, array_to_json(documents)::text, kyc_status, " APPS_TS(kyc_verified_at)   \
    ", kyc_remarks, compliance_status, " APPS_TS(compliance_verified_at)                          \
    ", compliance_remarks, political_connection, senior_relative, eligibility_status, "            \
    APPS_TS(eligibility_verified_at) ", eligibility_remarks, final_status, "                      \
    APPS_TS(final_decision_at) ", final_remarks, alert_sent, email_sent, "                        \
    "array_to_json(review_flags)::text, reviewed_by, " APPS_TS(reviewed_at) ", review_reason, "   \
    "screening_list, screening_list_version, screening_entry_id, screening_matched_name, "         \
    "screening_score::text, " APPS_TS(created_at) ", " APPS_TS(updated_at) ", user_id, "         \
    "declared_political_connection, declared_senior_relative, doc, applicant_doc, "            \
    "first_approval_by, rate_bps, tenure_months, rate_base_symbol"
#define APPS_TS(c) "to_char(" #c " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"

enum applications_col {
    LC_APP_ID, LC_NAME, LC_EMAIL, LC_PHONE, LC_CITY, LC_REGION, LC_COUNTRY, LC_COUNTRY_CODE,
    LC_INCOME, LC_DEBT, LC_SCORE, LC_LOAN, LC_PURPOSE, LC_DTI, LC_DOCS_UPLOADED, LC_DOCS,
    LC_KYC, LC_KYC_AT, LC_KYC_REM, LC_COMP, LC_COMP_AT, LC_COMP_REM, LC_PEP, LC_SENIOR, LC_ELIG,
    LC_ELIG_AT, LC_ELIG_REM, LC_FINAL, LC_FINAL_AT, LC_FINAL_REM, LC_ALERT, LC_EMAIL_SENT,
    LC_FLAGS, LC_REVIEWED_BY, LC_REVIEWED_AT, LC_REVIEW_REASON, LC_SCR_LIST, LC_SCR_VERSION,
    LC_SCR_ENTRY, LC_SCR_NAME, LC_SCR_SCORE, LC_CREATED, LC_UPDATED, LC_USER_ID,
    LC_DECL_PEP, LC_DECL_SENIOR, LC_DOC, LC_APPLICANT_DOC, LC_FIRST_BY, LC_RATE_BPS, LC_TENURE,
    LC_RATE_BASE_SYMBOL,
};
/* clang-format on */

/* Rebuilds the input of a stored application (strings borrowed from res; documents parsed into
 * the arena). Returns 0, or -1 when the row is not readable. */
int applications_row_input(arena *a, const PGresult *res, int row, struct loan_input *in);

/* A new application id LOAN-YYYYMMDD-XXXXXXXX (CSPRNG) into buf[24]. */
void applications_new_id(char buf[24]);

/*
 * Inserts a new application with its 'submit' log entry and its notifications, in the
 * caller's transaction. created_at NULL means now (the seeder back-dates, and passes notify 0:
 * nobody is to be told about a sample decision of last month). Returns the row
 * (APPS_COLS) owned by the arena, or the failed result (check db_ok; SQLSTATE 23505 on the
 * one-pending-per-email index), or NULL when the database is unreachable.
 */
PGresult *applications_insert(arena *a, long long user_id, const char *actor_email,
                              const struct loan_input *in, const struct country_info *c,
                              const struct compliance_facts *f, const struct loan_result *res,
                              const char *created_at, int notify);

/* Writes a new decision (approve, reject, reprocess) with its log entry and notifications, in
 * the caller's transaction. reason may be NULL. Same return contract as applications_insert. */
PGresult *applications_update(arena *a, const char *app_id, const char *action, long long actor_id,
                              const char *actor_email, const char *reason,
                              const char *status_before, const struct loan_input *in,
                              const struct compliance_facts *f, const struct loan_result *res,
                              int reviewed);

/* Writes the approval log entry of a decision and queues its notifications (caller's
 * transaction). 0 or -1. */
int applications_log_decision(arena *a, const char *app_id, const char *action, long long actor_id,
                              const char *actor_email, const char *reason,
                              const char *status_before, const struct loan_input *in,
                              const struct loan_result *res) __attribute__((warn_unused_result));

/* Tells readers that an application (or, with NULL, some applications) changed: bumps the
 * application's cache version and the dashboard's. Call after the commit. */
void applications_changed(const char *app_id);

/* Doc rows (column 0) of applications filtered by status, region and country code (each NULL
 * for any), newest first. */
PGresult *applications_list(arena *a, const char *status, const char *region, const char *country,
                            const char *limit, const char *offset);
/* Doc rows of one user's applications, newest first: the officers' documents when officer is
 * set, else the applicant's (see sql/010). */
PGresult *applications_of_user(arena *a, long long user_id, int officer, const char *limit,
                               const char *offset);
/* The owner (column 0, NULL for seeded rows), the officers' doc (column 1) and the applicant's
 * doc (column 2) of an application; no row when there is none. */
PGresult *applications_doc(arena *a, const char *app_id);
/* The row (APPS_COLS) locked FOR UPDATE in the caller's transaction; no row when there is none. */
PGresult *applications_lock(arena *a, const char *app_id);
/* Records the first of the two approvals an application needs (maker-checker), with its
 * 'first_approval' log entry, in the caller's transaction; the application stays PENDING and
 * nobody is notified. Returns the row (APPS_COLS), or the failed result, or NULL. */
PGresult *applications_first_approval(arena *a, const char *app_id, long long actor_id,
                                      const char *actor_email, const char *reason);
/* Writes an officer's rejection (reason may be NULL); returns the row (APPS_COLS). */
PGresult *applications_reject(arena *a, const char *app_id, const char *remarks, long long actor_id,
                              const char *reason);
/* Approval-log entries (id, application_id, action, actor_id, actor_email, reason,
 * status_before, status_after, created_at), of one application or all (app_id NULL), newest
 * first. */
PGresult *applications_logs(arena *a, const char *app_id, const char *limit);
/* The review queue: the oldest 200 pending applications (application_id, name, country,
 * loan_amount, flags, the three stage remarks, final remarks, created_at, count of all
 * pending, the email of the officer who gave the first approval or ""). */
PGresult *applications_queue(arena *a);
/* The approval history of the given applications (application_id, action, actor, reason,
 * before, after, at), newest first. */
PGresult *applications_logs_for(arena *a, const char *const *ids, int n);

#define APPS_DOC_TTL 300 /* seconds a cached application document may live */

#endif
