/*
 * The officers' portfolio (issue 14): loans by state, outstanding principal and this month's
 * collections per currency, and the delinquency buckets of the last day-end (current, SMA-0,
 * SMA-1, SMA-2, NPA: count and outstanding principal), each document built by one statement.
 * The route caches the overview like the dashboard (cache_read under PORTFOLIO_VERSION_KEY);
 * every use case that moves money or a classification bumps the version after its commit
 * (lending_portfolio_changed).
 */
#include "lending.h"

#include <stdlib.h>
#include <string.h>

#include "cache.h"
#include "epoch.h"

enum { PF_OVERVIEW, PF_DELINQUENCY, PF_HISTORY, PF_LOAN_OF_APP, PF_SQL_COUNT };

/* clang-format off */
static const struct db_stmt sql[PF_SQL_COUNT] = {
    [PF_OVERVIEW] = {"portfolio_overview",
     "WITH b AS (SELECT business_date() AS today) "
     "SELECT json_build_object("
     "'as_of', (SELECT max(business_date) FROM cob_runs), "
     "'business_date', (SELECT today FROM b), "
     "'loans_by_state', (SELECT coalesce(json_object_agg(state, n ORDER BY state), '{}') "
     "  FROM (SELECT state, count(*) AS n FROM loans GROUP BY state) s), "
     "'by_currency', (SELECT coalesce(json_agg(json_build_object('currency', c.currency, "
     "  'outstanding_principal', round(c.outstanding / 100.0, 2), "
     "  'collected_this_month', round(coalesce(m.collected, 0) / 100.0, 2)) ORDER BY c.currency), '[]') "
     "  FROM (SELECT currency, sum(outstanding_principal) AS outstanding FROM loans "
     "        WHERE state = 'ACTIVE' GROUP BY currency) c "
     "  LEFT JOIN (SELECT currency, sum(amount) AS collected FROM loan_repayments "
     "        WHERE reversed_at IS NULL AND value_date >= date_trunc('month', (SELECT today FROM b))::date "
     "        AND value_date <= (SELECT today FROM b) GROUP BY currency) m USING (currency)), "
     "'delinquency', (SELECT json_agg(json_build_object('bucket', k.bucket, 'count', coalesce(d.n, 0), "
     "  'outstanding_principal', round(coalesce(d.outstanding, 0) / 100.0, 2)) ORDER BY k.ord) "
     "  FROM (VALUES (1, 'current'), (2, 'SMA-0'), (3, 'SMA-1'), (4, 'SMA-2'), (5, 'NPA')) k(ord, bucket) "
     "  LEFT JOIN (SELECT CASE classification WHEN 'STANDARD' THEN 'current' ELSE classification END AS bucket, "
     "        count(*) AS n, sum(outstanding_principal) AS outstanding FROM loans "
     "        WHERE state = 'ACTIVE' GROUP BY 1) d USING (bucket)))::text"},
    [PF_DELINQUENCY] = {"portfolio_delinquency",
     "WITH sel AS (SELECT l.loan_id, l.application_id, l.days_past_due, l.classification, "
     "      l.own_classification, l.outstanding_principal, l.currency FROM loans l "
     "      WHERE l.state = 'ACTIVE' AND CASE $1 WHEN 'delinquent' THEN "
     "      l.classification <> 'STANDARD' WHEN 'current' THEN l.classification = 'STANDARD' "
     "      ELSE l.classification = $1 END), "
     "page AS (SELECT * FROM sel ORDER BY days_past_due DESC, loan_id LIMIT $2::int OFFSET $3::int) "
     "SELECT json_build_object('bucket', $1::text, 'as_of', (SELECT max(business_date) FROM cob_runs), "
     "'loans', coalesce((SELECT json_agg(json_build_object('loan_id', x.loan_id, 'application_id', "
     "x.application_id, 'days_past_due', x.days_past_due, 'classification', x.classification, "
     "'own_classification', x.own_classification, "
     "'outstanding_principal', round(x.outstanding_principal / 100.0, 2), "
     "'overdue_amount', round((SELECT coalesce(sum(i.installment - i.paid_interest - i.paid_principal), 0) "
     "  FROM loan_installments i WHERE i.loan_id = x.loan_id AND i.settled_on IS NULL "
     "  AND i.due_date < business_date()) / 100.0, 2), 'currency', x.currency) "
     "ORDER BY x.days_past_due DESC, x.loan_id) FROM page x), '[]'), "
     "'total', (SELECT count(*) FROM sel), 'limit', $2::int, 'offset', $3::int)::text"},
    [PF_HISTORY] = {"portfolio_history",
     "SELECT as_of::text, days_past_due, classification FROM loan_dpd_history "
     "WHERE loan_id = $1 ORDER BY as_of"},
    [PF_LOAN_OF_APP] = {"portfolio_loan_of_app",
     "SELECT loan_id, state FROM loans WHERE application_id = $1"},
};
/* clang-format on */
const struct db_stmts portfolio_statements = DB_STMTS("portfolio", sql);
#define SQL(id) (&sql[id])

void lending_portfolio_changed(void)
{
    cache_incr(PORTFOLIO_VERSION_KEY);
    epoch_bump();
}

static void one_text(arena *a, PGresult *r, struct lending_outcome *out)
{
    if (!db_ok(r)) {
        lending_read_failed(a, out, r);
        return;
    }
    out->json = arena_strdup(a, PQgetvalue(r, 0, 0));
    out->code = LENDING_OK;
}

void lending_portfolio_overview(arena *a, struct lending_outcome *out)
{
    memset(out, 0, sizeof(*out));
    one_text(a, db_exec(a, SQL(PF_OVERVIEW), 0, NULL), out);
}

int lending_bucket_valid(const char *b)
{
    static const char *const B[] = {"current", "SMA-0", "SMA-1", "SMA-2", "NPA", "delinquent"};
    for (size_t i = 0; i < sizeof(B) / sizeof(B[0]); i++)
        if (!strcmp(b, B[i]))
            return 1;
    return 0;
}

void lending_portfolio_delinquency(arena *a, const char *bucket, const char *limit,
                                   const char *offset, struct lending_outcome *out)
{
    memset(out, 0, sizeof(*out));
    const char *p[3] = {bucket, limit, offset};
    one_text(a, db_exec(a, SQL(PF_DELINQUENCY), 3, p), out);
}

/* ---- one loan's classification history, and the loan of an application (the pages) ------ */

json_object *lending_dpd_history(arena *a, const char *loan_id, PGresult **failed)
{
    const char *p[1] = {loan_id};
    PGresult *r = db_exec(a, SQL(PF_HISTORY), 1, p);
    if (!db_ok(r)) {
        *failed = r;
        return NULL;
    }
    json_object *arr = json_object_new_array();
    for (int i = 0; i < PQntuples(r); i++) {
        json_object *h = json_object_new_object();
        json_object_object_add(h, "as_of", json_object_new_string(PQgetvalue(r, i, 0)));
        json_object_object_add(h, "days_past_due", json_object_new_int(atoi(PQgetvalue(r, i, 1))));
        json_object_object_add(h, "classification", json_object_new_string(PQgetvalue(r, i, 2)));
        json_object_array_add(arr, h);
    }
    return arr;
}

int lending_loan_of_application(arena *a, const char *app_id, const char **loan_id,
                                const char **state)
{
    const char *p[1] = {app_id};
    PGresult *r = db_exec(a, SQL(PF_LOAN_OF_APP), 1, p);
    if (!db_ok(r))
        return -1;
    if (PQntuples(r) == 0)
        return 0;
    *loan_id = arena_strdup(a, PQgetvalue(r, 0, 0));
    *state = arena_strdup(a, PQgetvalue(r, 0, 1));
    return 1;
}
