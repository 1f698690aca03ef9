/*
 * The route table and the prepared statements of every resource. Each routes/<resource>.c file
 * exports its handlers and its statement table; routes.c lists them in one table, so the whole
 * access policy of the API reads in one screen.
 */
#ifndef LOANFLOW_ROUTES_H
#define LOANFLOW_ROUTES_H

#include "cache.h"
#include "db.h"
#include "http.h"
#include "router.h"

const struct route *routes_table(void);
const struct db_stmts *const *routes_statements(void);

/* routes/health.c */
int handle_health_get(http_req *r);

/* routes/testing.c: only with TEST_ROUTES=1 */
int handle_test_echo(http_req *r);
int handle_test_sleep(http_req *r);
int handle_test_db(http_req *r);
int handle_test_tx(http_req *r);

/* routes/auth.c */
int handle_auth_register(http_req *r);
int handle_auth_login(http_req *r);
int handle_auth_logout(http_req *r);
int handle_auth_login_page(http_req *r);
int handle_auth_session_create(http_req *r);
int handle_auth_session_end(http_req *r);
int handle_me_password_update(http_req *r);
int handle_admin_users_list(http_req *r);
int handle_admin_users_create(http_req *r);
int handle_admin_users_update(http_req *r);

/* routes/loans.c */
int handle_loan_check(http_req *r);
int handle_loan_submit(http_req *r);
int handle_loan_status(http_req *r);
int handle_loan_list(http_req *r);
int handle_loan_pending(http_req *r);
int handle_loan_approve(http_req *r);
int handle_loan_reject(http_req *r);
int handle_loan_reprocess(http_req *r);
int handle_approval_logs(http_req *r);
int handle_loan_mine(http_req *r);

/* routes/dashboard.c */
int handle_dashboard_overview(http_req *r);
int handle_dashboard_by_region(http_req *r);
int handle_dashboard_by_country(http_req *r);
int handle_dashboard_verification(http_req *r);
int handle_dashboard_financial(http_req *r);
int handle_dashboard_timeline(http_req *r);
/* All dashboard aggregates (cached like the endpoints) in one new object for the HTML page;
 * 0, or -1 after sending the error. */
int dashboard_data(http_req *r, int days, json_object **out);
/* How a dashboard text is cached (cache_read in cache.h): under key (borrowed), with the
 * dashboard's version key, TTL (DASHBOARD_TTL) and worker-memory age; valid is NULL. */
struct cache_read dashboard_cache_spec(const char *key);
/* The page's days parameter (1..365, default 30); 0 after sending a 400. */
int dashboard_days(http_req *r);

/* routes/pages.c */
int handle_dashboard_page(http_req *r);
int handle_page_reviews(http_req *r);
int handle_page_application(http_req *r);
int handle_page_loan_account(http_req *r);
int handle_page_delinquency(http_req *r);
int handle_review_approve_form(http_req *r);
int handle_review_reject_form(http_req *r);

/* routes/lending.c */
int handle_offer_get(http_req *r);
int handle_kfs_get(http_req *r);
int handle_kfs_page(http_req *r);
int handle_offer_accept(http_req *r);
int handle_agreement_sign(http_req *r);
int handle_agreement_get(http_req *r);
int handle_signing_keys(http_req *r);
int handle_loan_account_get(http_req *r);
int handle_loan_account_schedule(http_req *r);
int handle_me_loans(http_req *r);
int handle_loans_list(http_req *r);
int handle_loan_disburse(http_req *r);
/* servicing.c (issue 14) */
int handle_loan_repayments_list(http_req *r);
int handle_loan_repayment_create(http_req *r);
int handle_loan_repayment_reverse(http_req *r);
int handle_loan_prepayment(http_req *r);
int handle_loan_payment_link(http_req *r);
int handle_loan_foreclosure_quote(http_req *r);
int handle_loan_cooling_off_exit(http_req *r);
int handle_portfolio_overview(http_req *r);
int handle_portfolio_delinquency(http_req *r);
int handle_screening_search(http_req *r);
/* Runs an officer's search (docs/screening.md) into *out (the search document): 0, or the error
 * status already sent (an unknown country, no list). */
int screening_query(http_req *r, const char *name, const char *dob, const char *country, int limit,
                    json_object **out);
/* The overview's JSON text (cached under the portfolio's version, as GET /portfolio/overview
 * answers it), or NULL after sending the error: for the dashboard page too. */
const char *portfolio_overview_text(http_req *r);
/* lending.c: the lending outcome as a response, and the error shape with a field. */
struct lending_outcome;
int lending_reply(http_req *r, const struct lending_outcome *out, const char *what);
/* The signed-in caller as the lending use cases take it, and their address for the audit. */
struct lending_actor lending_actor_of(http_req *r);
struct audit_client lending_client_of(http_req *r);
int lending_field_error(http_req *r, int status, const char *code, const char *message,
                        const char *field);
int handle_gateway_webhook(http_req *r);

/* routes/monitoring.c: the officers' screening alerts */
int handle_screening_alerts_list(http_req *r);
int handle_screening_alert_resolve(http_req *r);

/* routes/market.c */
int handle_market_get(http_req *r);
int handle_market_test_base_rate(http_req *r); /* TEST_ROUTES only */

/* Shared helpers for handlers */
/* Reads limit and offset (limit 1..max, default def; offset >= 0) into 16-byte buffers; on a bad
 * value replies 400 naming it and returns -1. */
int routes_paging(http_req *r, int def, int max, char *limit, char *offset);
/* The one answer to a bad query parameter: 400 validation_failed "Invalid query parameter" with
 * fields {field: message}. Returns the status sent. */
int routes_query_invalid(http_req *r, const char *field, const char *message);
/* 0 when the whole query string decodes; else replies 400 validation_failed "The query string
 * is not correctly encoded" and returns -1. */
int routes_query_encoded(http_req *r);
/* Replies 503 when res is NULL (database unreachable), else a 500 fault. Returns the status. */
int routes_db_error(http_req *r, const PGresult *res);

#endif
