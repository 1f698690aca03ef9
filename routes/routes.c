/*
 * The route table: method, path, handler, the least role allowed, and the body the shared checks
 * expect. Roles are cumulative (applicant < officer < admin). This table is the access policy;
 * tests/api walks it for every kind of caller.
 */
#include "routes.h"

#include <stdio.h>
#include <stdlib.h>

#include "audit.h"
#include "credit.h"
#include "market.h"
#include "providers.h"
#include "refdata.h"
#include "store.h"
#include "js.h"

/* clang-format off */
static const struct route table[] = {
    /* method  path                                handler                        role            flags */
    {"GET",   "/",                                handle_health_get,             ROLE_PUBLIC,    0},

    {"POST",  "/register",                        handle_auth_register,          ROLE_PUBLIC,    ROUTE_JSON},
    {"POST",  "/login",                           handle_auth_login,             ROLE_PUBLIC,    ROUTE_JSON},
    {"POST",  "/logout",                          handle_auth_logout,            ROLE_APPLICANT, ROUTE_JSON},
    {"GET",   "/login",                           handle_auth_login_page,        ROLE_PUBLIC,    0},
    {"POST",  "/session",                         handle_auth_session_create,    ROLE_PUBLIC,    ROUTE_FORM},
    {"POST",  "/session/end",                     handle_auth_session_end,       ROLE_APPLICANT, ROUTE_FORM},

    {"GET",   "/data",                            handle_market_get,             ROLE_PUBLIC,    0},

    {"POST",  "/loan",                            handle_loan_check,             ROLE_PUBLIC,    ROUTE_JSON},
    {"POST",  "/loan-application/submit",         handle_loan_submit,            ROLE_APPLICANT, ROUTE_JSON},
    {"GET",   "/loan-application/status/{id}",    handle_loan_status,            ROLE_APPLICANT, 0},
    {"GET",   "/me/applications",                 handle_loan_mine,              ROLE_APPLICANT, 0},
    {"POST",  "/me/password",                     handle_me_password_update,     ROLE_APPLICANT, ROUTE_JSON},
    {"GET",   "/loan-application/list",           handle_loan_list,              ROLE_OFFICER,   0},
    {"GET",   "/loan-application/pending",        handle_loan_pending,           ROLE_OFFICER,   0},
    {"POST",  "/loan-application/{id}/approve",   handle_loan_approve,           ROLE_OFFICER,   ROUTE_JSON},
    {"POST",  "/loan-application/{id}/reject",    handle_loan_reject,            ROLE_OFFICER,   ROUTE_JSON},
    {"POST",  "/loan-application/reprocess/{id}", handle_loan_reprocess,         ROLE_OFFICER,   ROUTE_JSON},
    {"GET",   "/approval-logs",                   handle_approval_logs,          ROLE_OFFICER,   0},

    {"GET",   "/loan-application/{id}/offer",     handle_offer_get,              ROLE_APPLICANT, 0},
    {"POST",  "/loan-application/{id}/offer/accept", handle_offer_accept,        ROLE_APPLICANT, ROUTE_JSON},
    {"GET",   "/loan-application/{id}/kfs",       handle_kfs_get,                ROLE_APPLICANT, 0},
    {"GET",   "/applications/{id}/kfs",           handle_kfs_page,               ROLE_APPLICANT, ROUTE_PAGE},
    {"GET",   "/agreements/{id}",                 handle_agreement_get,          ROLE_APPLICANT, 0},
    {"POST",  "/agreements/{id}/sign",            handle_agreement_sign,         ROLE_APPLICANT, ROUTE_JSON},
    {"GET",   "/.well-known/loanflow-signing-keys.json", handle_signing_keys,    ROLE_PUBLIC,    0},
    {"GET",   "/me/loans",                        handle_me_loans,               ROLE_APPLICANT, 0},
    {"GET",   "/loans",                           handle_loans_list,             ROLE_OFFICER,   0},
    {"GET",   "/loans/{id}",                      handle_loan_account_get,       ROLE_APPLICANT, 0},
    {"GET",   "/loans/{id}/schedule",             handle_loan_account_schedule,  ROLE_APPLICANT, 0},
    {"POST",  "/loans/{id}/disburse",             handle_loan_disburse,          ROLE_OFFICER,   ROUTE_JSON},
    {"GET",   "/loans/{id}/repayments",           handle_loan_repayments_list,   ROLE_APPLICANT, 0},
    {"POST",  "/loans/{id}/repayments",           handle_loan_repayment_create,  ROLE_OFFICER,   ROUTE_JSON},
    {"POST",  "/loans/{id}/repayments/{rid}/reverse", handle_loan_repayment_reverse, ROLE_OFFICER, ROUTE_JSON},
    {"POST",  "/loans/{id}/prepayments",          handle_loan_prepayment,        ROLE_OFFICER,   ROUTE_JSON},
    {"POST",  "/loans/{id}/payment-link",         handle_loan_payment_link,      ROLE_APPLICANT, ROUTE_JSON},
    {"GET",   "/loans/{id}/foreclosure-quote",    handle_loan_foreclosure_quote, ROLE_APPLICANT, 0},
    {"POST",  "/loans/{id}/cooling-off-exit",     handle_loan_cooling_off_exit,  ROLE_APPLICANT, ROUTE_JSON},
    {"GET",   "/portfolio/overview",              handle_portfolio_overview,     ROLE_OFFICER,   0},
    {"GET",   "/portfolio/delinquency",           handle_portfolio_delinquency,  ROLE_OFFICER,   0},
    {"GET",   "/screening/alerts",                handle_screening_alerts_list,  ROLE_OFFICER,   0},
    {"POST",  "/screening/alerts/{alert_id}/resolve", handle_screening_alert_resolve, ROLE_OFFICER, ROUTE_JSON},
    {"POST",  "/webhooks/gateway",                handle_gateway_webhook,        ROLE_PUBLIC,    0},
    {"GET",   "/screening/search",                handle_screening_search,       ROLE_OFFICER,   0},

    {"GET",   "/dashboard/overview",              handle_dashboard_overview,     ROLE_OFFICER,   0},
    {"GET",   "/dashboard/by-region",             handle_dashboard_by_region,    ROLE_OFFICER,   0},
    {"GET",   "/dashboard/by-country",            handle_dashboard_by_country,   ROLE_OFFICER,   0},
    {"GET",   "/dashboard/verification-stats",    handle_dashboard_verification, ROLE_OFFICER,   0},
    {"GET",   "/dashboard/financial-metrics",     handle_dashboard_financial,    ROLE_OFFICER,   0},
    {"GET",   "/dashboard/timeline",              handle_dashboard_timeline,     ROLE_OFFICER,   0},

    {"GET",   "/dashboard",                       handle_dashboard_page,         ROLE_OFFICER,   ROUTE_PAGE},
    {"GET",   "/reviews",                         handle_page_reviews,           ROLE_OFFICER,   ROUTE_PAGE},
    {"POST",  "/reviews/{id}/approve",            handle_review_approve_form,    ROLE_OFFICER,   ROUTE_FORM},
    {"POST",  "/reviews/{id}/reject",             handle_review_reject_form,     ROLE_OFFICER,   ROUTE_FORM},
    {"GET",   "/applications/{id}",               handle_page_application,       ROLE_OFFICER,   ROUTE_PAGE},
    {"GET",   "/loan-accounts/{id}",              handle_page_loan_account,      ROLE_OFFICER,   ROUTE_PAGE},
    {"GET",   "/delinquency/{bucket}",            handle_page_delinquency,       ROLE_OFFICER,   ROUTE_PAGE},

    {"GET",   "/admin/users",                     handle_admin_users_list,       ROLE_ADMIN,     0},
    {"POST",  "/admin/users",                     handle_admin_users_create,     ROLE_ADMIN,     ROUTE_JSON},
    {"PATCH", "/admin/users/{id}",                handle_admin_users_update,     ROLE_ADMIN,     ROUTE_JSON},

    {"POST",  "/__test/echo",                     handle_test_echo,              ROLE_PUBLIC,    ROUTE_JSON | ROUTE_TEST},
    {"GET",   "/__test/sleep",                    handle_test_sleep,             ROLE_PUBLIC,    ROUTE_TEST},
    {"GET",   "/__test/db",                       handle_test_db,                ROLE_PUBLIC,    ROUTE_TEST},
    {"GET",   "/__test/tx",                       handle_test_tx,                ROLE_PUBLIC,    ROUTE_TEST},
    {"GET",   "/__test/base-rate",                handle_market_test_base_rate,  ROLE_PUBLIC,    ROUTE_TEST},
    {NULL, NULL, NULL, ROLE_PUBLIC, 0},
};
/* clang-format on */

const struct route *routes_table(void)
{
    return table;
}

const struct db_stmts *const *routes_statements(void)
{
    /* Handlers run no statements of their own: the store's are all there is. */
    return store_statements;
}

int routes_db_error(http_req *r, const PGresult *res)
{
    if (res == NULL)
        return http_error(r, 503, "database_unavailable",
                          "The database is unavailable; try again shortly");
    /* Never the error's DETAIL: it quotes the failing row (a password hash, personal data). */
    return http_fault(r, "database error %s", db_error_brief(r->pool, res));
}

int routes_query_encoded(http_req *r)
{
    if (http_query_valid(r) == 0)
        return 0;
    http_error(r, 400, "validation_failed", "The query string is not correctly encoded");
    return -1;
}

int routes_query_invalid(http_req *r, const char *field, const char *message)
{
    json_object *f = json_object_new_object();
    js_field_error(f, field, message);
    return http_error_fields(r, 400, "validation_failed", "Invalid query parameter", f);
}

/* Parses limit/offset query parameters; on error replies 400 and returns -1. */
int routes_paging(http_req *r, int def, int max, char *limit, char *offset)
{
    const char *l = http_query(r, "limit"), *o = http_query(r, "offset");
    char *end;
    long lv = def, ov = 0;
    if (l != NULL) {
        lv = strtol(l, &end, 10);
        if (!l[0] || *end || lv < 1 || lv > max) {
            char msg[64];
            snprintf(msg, sizeof(msg), "must be a whole number from 1 to %d", max);
            routes_query_invalid(r, "limit", msg);
            return -1;
        }
    }
    if (o != NULL) {
        ov = strtol(o, &end, 10);
        if (!o[0] || *end || ov < 0 || ov > 100000000) {
            routes_query_invalid(r, "offset", "must be a whole number of at least 0");
            return -1;
        }
    }
    snprintf(limit, 16, "%ld", lv);
    snprintf(offset, 16, "%ld", ov);
    return 0;
}
