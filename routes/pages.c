/*
 * The officers' HTML pages, rendered on the server from templates/ (escaped by default): the
 * dashboard, the review queue with approve and reject forms, and an application's page. The
 * forms post with the session's CSRF token and call the same use cases as the JSON API
 * (app/store/review.c), so a decision made in the browser is the same transaction, log entry
 * and notification; the outcome picks the notice the queue shows after the redirect.
 */
#include "refdata.h"
#include "routes.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "cache.h"
#include "js.h"
#include "applications.h"
#include "lending.h"
#include "loan.h"
#include "review.h"
#include "validate.h"
#include "template.h"

/* The context every page shares: title, signed-in user, CSRF token, version. */
static json_object *page_ctx(http_req *r, const char *title)
{
    json_object *ctx = json_object_new_object();
    json_object_object_add(ctx, "title", json_object_new_string(title));
    json_object *u = json_object_new_object();
    json_object_object_add(u, "email", json_object_new_string(r->user.email ? r->user.email : ""));
    json_object_object_add(u, "role", json_object_new_string(router_role_name(r->user.role)));
    json_object_object_add(ctx, "user", u);
    json_object_object_add(ctx, "csrf", json_object_new_string(auth_csrf_token(r)));
    json_object_object_add(ctx, "version", json_object_new_string(LOANFLOW_VERSION));
    return ctx;
}

static int render(http_req *r, int status, const char *name, json_object *ctx)
{
    size_t len;
    char *html = template_render(r->pool, name, ctx, &len);
    json_object_put(ctx);
    if (html == NULL)
        return http_fault(r, "template %s failed", name);
    http_add_header(r, "Cache-Control", "no-store");
    return http_send(r, status, "text/html; charset=utf-8", html, len);
}

static json_object *get(json_object *o, const char *k)
{
    json_object *v = NULL;
    json_object_object_get_ex(o, k, &v);
    return v;
}

static json_object *kpi(const char *key, const char *label, const char *text)
{
    json_object *k = json_object_new_object();
    json_object_object_add(k, "key", json_object_new_string(key));
    json_object_object_add(k, "label", json_object_new_string(label));
    json_object_object_add(k, "value", json_object_new_string(text));
    return k;
}

/* "1234567.8" -> "1,234,567.80"; integers without decimals. */
static const char *grouped(http_req *r, double v, int decimals)
{
    char raw[64];
    snprintf(raw, sizeof(raw), "%.*f", decimals, v);
    char *dot = strchr(raw, '.');
    size_t intlen = dot ? (size_t)(dot - raw) : strlen(raw);
    char *out = arena_alloc(r->pool, sizeof(raw) * 2);
    size_t o = 0, start = raw[0] == '-' ? 1 : 0;
    if (start)
        out[o++] = '-';
    for (size_t i = start; i < intlen; i++) {
        if (i > start && (intlen - i) % 3 == 0)
            out[o++] = ',';
        out[o++] = raw[i];
    }
    snprintf(out + o, sizeof(raw), "%s", dot ? dot : "");
    return out;
}

struct body_build {
    http_req *r;
    int days;
};

/* Renders the dashboard's body on a cache miss: arena HTML, or NULL after sending an error. */
static const char *render_body(void *arg)
{
    http_req *r = ((struct body_build *)arg)->r;
    int days = ((struct body_build *)arg)->days;
    json_object *data;
    if (dashboard_data(r, days, &data) != 0)
        return NULL;
    json_object *ctx = json_object_new_object();
    json_object *ov = get(data, "overview"), *fin = get(data, "financial");
    json_object *kpis = json_object_new_array();
    json_object_array_add(
        kpis, kpi("total_applications", "Applications",
                  grouped(r, json_object_get_double(get(ov, "total_applications")), 0)));
    json_object_array_add(kpis, kpi("approved", "Approved",
                                    grouped(r, json_object_get_double(get(ov, "approved")), 0)));
    json_object_array_add(kpis, kpi("rejected", "Rejected",
                                    grouped(r, json_object_get_double(get(ov, "rejected")), 0)));
    json_object_array_add(kpis, kpi("pending", "Pending review",
                                    grouped(r, json_object_get_double(get(ov, "pending")), 0)));
    json_object_array_add(
        kpis, kpi("approval_rate", "Approval rate",
                  arena_printf(r->pool, "%s%%", json_object_get_string(get(ov, "approval_rate")))));
    json_object_array_add(kpis, kpi("average_credit_score", "Avg credit score (approved)",
                                    json_object_get_string(get(fin, "average_credit_score"))));
    json_object_array_add(kpis, kpi("average_dti_ratio", "Avg DTI (approved)",
                                    json_object_get_string(get(fin, "average_dti_ratio"))));
    json_object_array_add(
        kpis, kpi("total_loan_amount", "Approved amount",
                  grouped(r, json_object_get_double(get(fin, "total_loan_amount")), 2)));
    json_object_object_add(ctx, "kpis", kpis);
    json_object *sw = json_object_new_array();
    static const int choices[] = {7, 30, 90};
    for (int i = 0; i < 3; i++) {
        json_object *c = json_object_new_object();
        json_object_object_add(c, "days", json_object_new_int(choices[i]));
        json_object_object_add(c, "on", json_object_new_boolean(choices[i] == days));
        json_object_array_add(sw, c);
    }
    json_object_object_add(ctx, "switch", sw);
    json_object_object_add(ctx, "days", json_object_new_int(days));
    /* Amounts of the latest applications, formatted for people. */
    json_object *rows = get(data, "latest");
    for (size_t i = 0; rows && i < json_object_array_length(rows); i++) {
        json_object *a = json_object_array_get_idx(rows, i);
        const char *amt = json_object_get_string(get(a, "loan_amount"));
        int64_t cents = 0;
        char money[32];
        js_parse_cents(amt, strlen(amt), INT64_MAX, &cents);
        json_object_object_add(a, "loan_amount",
                               json_object_new_string(loan_money(cents, money, sizeof(money))));
    }
    json_object_object_add(ctx, "latest", json_object_get(rows));
    json_object_object_add(ctx, "data", data);
    size_t len;
    char *html = template_render(r->pool, "dashboard_body", ctx, &len);
    json_object_put(ctx);
    if (html == NULL) {
        http_fault(r, "template dashboard_body failed");
        return NULL;
    }
    return html;
}

/* The dashboard's body, the same for every officer: rendered once per data version and range
 * of days, cached beside the JSON aggregates (cache_read, under the dashboard's version); only
 * the header is rendered per request. NULL after sending an error. */
static const char *dashboard_body(http_req *r, int days)
{
    struct cache_read spec = dashboard_cache_spec(arena_printf(r->pool, "dash:html:%d", days));
    struct body_build b = {r, days};
    return cache_read(r->pool, &spec, render_body, &b);
}

/* The dashboard's portfolio section from the overview (borrowed): the states as a list, and
 * each bucket with the currency of the book when there is one currency. */
static json_object *portfolio_ctx(json_object *pf)
{
    json_object *c = json_object_new_object();
    json_object *states = json_object_new_array();
    json_object_object_foreach(get(pf, "loans_by_state"), state, n)
    {
        json_object *s = json_object_new_object();
        json_object_object_add(s, "state", json_object_new_string(state));
        json_object_object_add(s, "count", json_object_get(n));
        json_object_array_add(states, s);
    }
    json_object_object_add(c, "states", states);
    json_object *cur = get(pf, "by_currency");
    json_object_object_add(c, "by_currency", json_object_get(cur));
    /* The buckets' outstanding principal is summed over currencies: name it when there is one. */
    const char *one =
        cur && json_object_array_length(cur) == 1
            ? json_object_get_string(get(json_object_array_get_idx(cur, 0), "currency"))
            : "";
    json_object_object_add(c, "bucket_currency", json_object_new_string(one));
    json_object_object_add(c, "buckets", json_object_get(get(pf, "delinquency")));
    json_object_object_add(c, "as_of", json_object_get(get(pf, "as_of")));
    json_object_object_add(c, "business_date", json_object_get(get(pf, "business_date")));
    return c;
}

int handle_dashboard_page(http_req *r)
{
    int days = dashboard_days(r);
    if (days == 0)
        return r->status;
    const char *body = dashboard_body(r, days);
    if (body == NULL)
        return r->status;
    /* The portfolio moves with money, not with applications: its own cache and version (as
     * GET /portfolio/overview), so it is read apart from the cached body. */
    const char *pf_text = portfolio_overview_text(r);
    if (pf_text == NULL)
        return r->status;
    json_object *pf = json_tokener_parse(pf_text);
    if (pf == NULL)
        return http_fault(r, "cached portfolio overview unreadable");
    json_object *ctx = page_ctx(r, "Dashboard");
    json_object_object_add(ctx, "body", json_object_new_string(body));
    json_object_object_add(ctx, "portfolio", portfolio_ctx(pf));
    json_object_object_add(ctx, "portfolio_data", pf);
    return render(r, 200, "dashboard", ctx);
}

static const char *notice_text(const char *code)
{
    static const struct {
        const char *code, *text;
    } t[] = {
        {"approved", "The application was approved."},
        {"first_approval", "First approval recorded; a second officer must approve the "
                           "application."},
        {"segregation_of_duties", "You submitted that application: another officer must decide "
                                  "it."},
        {"second_officer", "You gave that application its first approval: a second, different "
                           "officer must approve it."},
        {"rejected", "The application was rejected."},
        {"conflict", "That application has already been decided."},
        {"hard_rules_failed", "That application fails a rule no officer can clear (see its "
                              "remarks); reject it instead."},
        {"not_found", "No such application."},
        {"validation_failed", "The reason must be at most 500 characters."},
    };
    for (size_t i = 0; code && i < sizeof(t) / sizeof(t[0]); i++)
        if (!strcmp(code, t[i].code))
            return t[i].text;
    return NULL;
}

/* The approval history of one application, from applications_logs_for rows (newest first). */
static json_object *history(const PGresult *logs, const char *id)
{
    static const char *const keys[] = {"application_id", "action", "actor", "reason",
                                       "before",         "after",  "at"};
    json_object *hist = json_object_new_array();
    for (int l = 0; l < PQntuples(logs); l++) {
        if (strcmp(PQgetvalue(logs, l, 0), id) != 0)
            continue;
        json_object *e = json_object_new_object();
        for (int c = 1; c < 7; c++)
            json_object_object_add(e, keys[c], json_object_new_string(PQgetvalue(logs, l, c)));
        json_object_array_add(hist, e);
    }
    return hist;
}

int handle_page_reviews(http_req *r)
{
    PGresult *res = applications_queue(r->pool);
    if (!db_ok(res))
        return routes_db_error(r, res);
    /* The approval history of every listed application, in one query. */
    int n = PQntuples(res);
    const char **ids = arena_alloc(r->pool, sizeof(*ids) * (size_t)(n > 0 ? n : 1));
    if (ids == NULL)
        return http_fault(r, "out of memory for %d ids", n);
    for (int i = 0; i < n; i++)
        ids[i] = PQgetvalue(res, i, 0);
    PGresult *logs = applications_logs_for(r->pool, ids, n);
    if (!db_ok(logs))
        return routes_db_error(r, logs);
    json_object *ctx = page_ctx(r, "Review queue");
    json_object *list = json_object_new_array();
    for (int i = 0; i < PQntuples(res); i++) {
        json_object *a = json_object_new_object();
        const char *id = PQgetvalue(res, i, 0);
        json_object_object_add(a, "application_id", json_object_new_string(id));
        json_object_object_add(a, "name", json_object_new_string(PQgetvalue(res, i, 1)));
        json_object_object_add(a, "country", json_object_new_string(PQgetvalue(res, i, 2)));
        int64_t cents = 0;
        char money[32];
        js_parse_cents(PQgetvalue(res, i, 3), strlen(PQgetvalue(res, i, 3)), INT64_MAX, &cents);
        json_object_object_add(a, "loan_amount",
                               json_object_new_string(loan_money(cents, money, sizeof(money))));
        json_object *flags = json_tokener_parse(PQgetvalue(res, i, 4));
        json_object_object_add(a, "flags", flags ? flags : json_object_new_array());
        json_object *reasons = json_object_new_array();
        for (int c = 5; c <= 7; c++)
            if (PQgetvalue(res, i, c)[0])
                json_object_array_add(reasons, json_object_new_string(PQgetvalue(res, i, c)));
        json_object_object_add(a, "reasons", reasons);
        json_object_object_add(a, "created_at", json_object_new_string(PQgetvalue(res, i, 9)));
        if (PQgetvalue(res, i, 11)[0])
            json_object_object_add(a, "first_approval",
                                   json_object_new_string(PQgetvalue(res, i, 11)));
        json_object_object_add(a, "history", history(logs, id));
        json_object_array_add(list, a);
    }
    json_object_object_add(ctx, "pending", list);
    /* The heading counts every pending application; the page lists the oldest 200. */
    long long total = PQntuples(res) > 0 ? atoll(PQgetvalue(res, 0, 10)) : 0;
    json_object_object_add(ctx, "count", json_object_new_int64(total));
    json_object_object_add(ctx, "more", json_object_new_boolean(total > PQntuples(res)));
    const char *done = notice_text(http_query(r, "done"));
    const char *error = notice_text(http_query(r, "error"));
    if (done)
        json_object_object_add(ctx, "notice", json_object_new_string(done));
    if (error)
        json_object_object_add(ctx, "error", json_object_new_string(error));
    return render(r, 200, "reviews", ctx);
}

int handle_page_application(http_req *r)
{
    const char *id = http_route_param(r, 0);
    PGresult *res = applications_doc(r->pool, id);
    if (!db_ok(res))
        return routes_db_error(r, res);
    if (PQntuples(res) == 0) {
        json_object *ctx = page_ctx(r, "Not found");
        json_object_object_add(ctx, "missing", json_object_new_string(id));
        return render(r, 404, "application", ctx);
    }
    PGresult *logs = applications_logs_for(r->pool, &id, 1);
    if (!db_ok(logs))
        return routes_db_error(r, logs);
    json_object *ctx = page_ctx(r, id);
    json_object *app = json_tokener_parse(PQgetvalue(res, 0, 1));
    json_object_object_add(ctx, "app", app ? app : json_object_new_object());
    json_object_object_add(ctx, "history", history(logs, id));
    json_object *pending = NULL;
    json_object_object_get_ex(app, "final_status", &pending);
    json_object_object_add(
        ctx, "is_pending",
        json_object_new_boolean(pending && !strcmp(json_object_get_string(pending), "PENDING")));
    const char *loan_id = NULL, *loan_state = NULL;
    int lr = lending_loan_of_application(r->pool, id, &loan_id, &loan_state);
    if (lr < 0) {
        json_object_put(ctx);
        return http_error(r, 503, "database_unavailable",
                          "The database is unavailable; try again shortly");
    }
    if (lr == 1) {
        json_object *l = json_object_new_object();
        json_object_object_add(l, "loan_id", json_object_new_string(loan_id));
        json_object_object_add(l, "state", json_object_new_string(loan_state));
        json_object_object_add(ctx, "loan", l);
    }
    /* "Screen again": the applicant's name, date of birth and country against the lists now,
     * with the rules of a decision; shown, not stored. */
    const char *again = http_query(r, "screen");
    if (again != NULL && !strcmp(again, "again")) {
        json_object *v, *screen = NULL;
        const char *name =
            json_object_object_get_ex(app, "name", &v) ? json_object_get_string(v) : "";
        const char *dob = json_object_object_get_ex(app, "date_of_birth", &v) && v
                              ? json_object_get_string(v)
                              : NULL;
        const char *cc = json_object_object_get_ex(app, "country_code", &v) && v
                             ? json_object_get_string(v)
                             : NULL;
        struct refdata_list active;
        int nactive = 0;
        if (refdata_sanctions_active(&active, &nactive) != 1) {
            /* no list (or none known): said inside the page, not as a JSON error */
            json_object_object_add(ctx, "screen_unavailable", json_object_new_boolean(1));
        } else if (screening_query(r, name, dob, cc, 10, &screen) != 0) {
            json_object_put(ctx);
            return r->status;
        } else {
            json_object_object_add(ctx, "screen", screen);
        }
    }
    return render(r, 200, "application", ctx);
}

/* The notice code of a decision that did not happen, for the queue's redirect. */
static const char *refusal(enum review_code code)
{
    switch (code) {
    case REVIEW_NOT_FOUND:
        return "not_found";
    case REVIEW_HARD_RULES:
        return "hard_rules_failed";
    case REVIEW_OWN_APPLICATION:
        return "segregation_of_duties";
    case REVIEW_SAME_APPROVER:
        return "second_officer";
    default:
        return "conflict";
    }
}

/* Runs a review form's use case and answers with a redirect to the queue. */
static int review_form(http_req *r, int approve)
{
    const char *reason = http_form(r, "reason");
    if (reason != NULL && reason[0] == '\0')
        reason = NULL;
    if (reason != NULL && (strlen(reason) > 4 * 500 || val_utf8_chars(reason) > 500))
        return http_redirect(r, "/reviews?error=validation_failed");
    struct review_actor who = {r->user.id, r->user.email, 1};
    struct review_outcome out;
    if (approve)
        review_approve(r->pool, &who, http_route_param(r, 0), reason, &out);
    else
        review_reject(r->pool, &who, http_route_param(r, 0), reason, &out);
    if (out.code == REVIEW_OK)
        return http_redirect(r, approve ? "/reviews?done=approved" : "/reviews?done=rejected");
    if (out.code == REVIEW_FIRST_APPROVAL)
        return http_redirect(r, "/reviews?done=first_approval");
    if (out.code == REVIEW_DB_DOWN || out.code == REVIEW_FAULT) {
        /* The SQLSTATE and the constraint only: a server's message can quote the row (DETAIL). */
        if (out.code == REVIEW_FAULT && out.failed != NULL) {
            const char *constraint = PQresultErrorField(out.failed, PG_DIAG_CONSTRAINT_NAME);
            r->error_detail = arena_printf(r->pool, "statement failed: SQLSTATE %s, constraint %s",
                                           db_sqlstate(out.failed), constraint ? constraint : "-");
        } else if (out.code == REVIEW_FAULT) {
            r->error_detail = out.detail;
        }
        return http_error(r, out.code == REVIEW_DB_DOWN ? 503 : 500, "review_failed",
                          "The decision could not be recorded; try again");
    }
    return http_redirect(r, arena_printf(r->pool, "/reviews?error=%s", refusal(out.code)));
}

int handle_review_approve_form(http_req *r)
{
    return review_form(r, 1);
}

int handle_review_reject_form(http_req *r)
{
    return review_form(r, 0);
}

/* ---- the servicing pages (issue 14 §4): a loan account, a delinquency bucket ------------- */

/* Parses a use case's JSON answer; NULL after sending the error (a 404 is the caller's). */
static json_object *outcome_doc(http_req *r, const struct lending_outcome *out, const char *what)
{
    if (out->code != LENDING_OK) {
        lending_reply(r, out, what);
        return NULL;
    }
    json_object *o = json_tokener_parse(out->json);
    if (o == NULL)
        http_fault(r, "the %s answer is not JSON", what);
    return o;
}

/* Minor units of an amount the API answers (a JSON number printed with two decimals). */
static int64_t cents_of(json_object *v)
{
    int64_t c = 0;
    const char *s = v ? json_object_get_string(v) : NULL;
    if (s == NULL)
        return 0;
    int neg = s[0] == '-';
    if (js_parse_cents(s + neg, strlen(s + neg), INT64_MAX, &c) != 0)
        return 0;
    return neg ? -c : c;
}

/* "2025-01-31T10:00:00Z" -> "2025-01-31" in place of key (the pages print dates only). */
static void date_only(json_object *o, const char *key)
{
    json_object *v = get(o, key);
    if (v == NULL || !json_object_is_type(v, json_type_string) ||
        json_object_get_string_len(v) < 10)
        return;
    char d[11];
    memcpy(d, json_object_get_string(v), 10);
    d[10] = '\0';
    json_object_object_add(o, key, json_object_new_string(d));
}

static int loan_missing(http_req *r, const char *id)
{
    json_object *ctx = page_ctx(r, "Not found");
    json_object_object_add(ctx, "missing", json_object_new_string(id));
    return render(r, 404, "loan_account", ctx);
}

/*
 * An officer's page of one loan account: where it stands as of the last day-end, the schedule
 * with each installment's status and what it has been paid, every repayment with its split, and
 * the classification history. The same use cases as GET /loans/{id}, .../schedule and
 * .../repayments, so the page and the API never disagree.
 */
int handle_page_loan_account(http_req *r)
{
    const char *id = http_route_param(r, 0);
    struct lending_actor who = {r->user.id, r->user.email, 1};
    struct lending_outcome out;
    lending_loan_get(r->pool, &who, id, 0, &out);
    if (out.code == LENDING_NOT_FOUND)
        return loan_missing(r, id);
    json_object *loan_doc = outcome_doc(r, &out, "loan");
    if (loan_doc == NULL)
        return r->status;
    lending_loan_get(r->pool, &who, id, 1, &out);
    json_object *sched = out.code == LENDING_NOT_FOUND ? NULL : outcome_doc(r, &out, "loan");
    if (sched == NULL) {
        json_object_put(loan_doc);
        return out.code == LENDING_NOT_FOUND ? loan_missing(r, id) : r->status;
    }
    lending_repayments_list(r->pool, &who, id, &out);
    json_object *reps = out.code == LENDING_NOT_FOUND ? NULL : outcome_doc(r, &out, "loan");
    if (reps == NULL) {
        json_object_put(loan_doc);
        json_object_put(sched);
        return out.code == LENDING_NOT_FOUND ? loan_missing(r, id) : r->status;
    }
    json_object *ctx = page_ctx(r, arena_printf(r->pool, "Loan %s", id));
    json_object *loan = json_object_get(get(loan_doc, "loan"));
    json_object_put(loan_doc);
    json_object_object_add(ctx, "loan", loan);
    json_object_object_add(ctx, "currency", json_object_get(get(loan, "currency")));
    /* What each installment still owes (interest, principal and penal charge not yet paid). */
    json_object *items = get(sched, "schedule");
    int fixed = json_object_get_boolean(get(sched, "fixed"));
    for (size_t i = 0; fixed && items && i < json_object_array_length(items); i++) {
        json_object *it = json_object_array_get_idx(items, i);
        int64_t owed = cents_of(get(it, "installment")) + cents_of(get(it, "penal")) -
                       cents_of(get(get(it, "paid"), "total"));
        json_object_object_add(it, "unpaid", js_new_money(owed > 0 ? owed : 0));
    }
    json_object_object_add(ctx, "schedule", json_object_get(items));
    json_object_object_add(ctx, "fixed", json_object_get(get(sched, "fixed")));
    json_object_object_add(ctx, "totals", json_object_get(get(sched, "totals")));
    json_object_put(sched);
    json_object *list = get(reps, "repayments");
    for (size_t i = 0; list && i < json_object_array_length(list); i++) {
        json_object *p = json_object_array_get_idx(list, i);
        date_only(p, "reversed_at");
        date_only(p, "created_at");
    }
    json_object_object_add(ctx, "repayments", json_object_get(list));
    json_object_object_add(ctx, "history", json_object_get(get(reps, "history")));
    json_object_put(reps);
    return render(r, 200, "loan_account", ctx);
}

#define BUCKET_PAGE 50

/* The loans of one delinquency bucket (GET /portfolio/delinquency's use case), 50 a page, each
 * linking to its loan page; ?offset= pages. */
int handle_page_delinquency(http_req *r)
{
    const char *bucket = http_route_param(r, 0);
    if (!lending_bucket_valid(bucket)) {
        json_object *ctx = page_ctx(r, "Not found");
        json_object_object_add(ctx, "missing", json_object_new_string(bucket));
        return render(r, 404, "delinquency", ctx);
    }
    const char *o = http_query(r, "offset");
    long off = 0;
    if (o != NULL) {
        char *end;
        off = strtol(o, &end, 10);
        if (!o[0] || *end || off < 0 || off > 100000000) {
            json_object *ctx = page_ctx(r, bucket);
            json_object_object_add(ctx, "bucket", json_object_new_string(bucket));
            json_object_object_add(ctx, "bad_offset", json_object_new_boolean(1));
            return render(r, 400, "delinquency", ctx);
        }
    }
    char limit[16], offset[16];
    snprintf(limit, sizeof(limit), "%d", BUCKET_PAGE);
    snprintf(offset, sizeof(offset), "%ld", off);
    struct lending_outcome out;
    lending_portfolio_delinquency(r->pool, bucket, limit, offset, &out);
    json_object *doc = outcome_doc(r, &out, "portfolio");
    if (doc == NULL)
        return r->status;
    long long total = json_object_get_int64(get(doc, "total"));
    json_object *ctx = page_ctx(r, arena_printf(r->pool, "Bucket %s", bucket));
    json_object_object_add(ctx, "bucket", json_object_new_string(bucket));
    json_object_object_add(ctx, "as_of", json_object_get(get(doc, "as_of")));
    json_object_object_add(ctx, "loans", json_object_get(get(doc, "loans")));
    json_object_object_add(ctx, "total", json_object_new_int64(total));
    size_t shown = json_object_array_length(get(doc, "loans"));
    json_object_object_add(ctx, "first", json_object_new_int64(shown ? off + 1 : 0));
    json_object_object_add(ctx, "last", json_object_new_int64(off + (long)shown));
    /* Links as whole strings: an offset of 0 is a link too ({{#if}} finds 0 false). */
    if (off > 0)
        json_object_object_add(ctx, "prev",
                               json_object_new_string(arena_printf(
                                   r->pool, "%ld", off > BUCKET_PAGE ? off - BUCKET_PAGE : 0)));
    if (off + BUCKET_PAGE < total)
        json_object_object_add(
            ctx, "next",
            json_object_new_string(arena_printf(r->pool, "%ld", off + (long)BUCKET_PAGE)));
    json_object_put(doc);
    return render(r, 200, "delinquency", ctx);
}
