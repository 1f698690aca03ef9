/*
 * The dashboard's aggregates, read from the trigger-maintained loan_stats rows: the statements
 * and one read function per document the dashboard serves.
 */
#ifndef LOANFLOW_STATS_H
#define LOANFLOW_STATS_H

#include <json-c/json.h>

#include "arena.h"
#include "db.h"

/* The Redis version counter of every dashboard document, bumped after each committed write to
 * applications (applications_changed). */
#define STATS_VERSION_KEY "dashboard:version"

enum stats_sql {
    DASH_OVERVIEW,
    DASH_REGION,
    DASH_COUNTRY,
    DASH_VERIFICATION,
    DASH_FINANCIAL,
    DASH_TIMELINE,
    DASH_FUNNEL,
    DASH_LATEST,
    DASH_COMPACT,
    DASH_SQL_COUNT
};

extern const struct db_stmt stats_sql[];
extern const struct db_stmts stats_statements;
#define STATS_SQL(id) (&stats_sql[id])

/*
 * Each returns a new object, or NULL when the database failed: *failed is then the failed
 * result, or NULL when the database is unreachable. Results live in a.
 */
/* {"total_applications","approved","rejected","pending","approval_rate"} */
json_object *stats_overview(arena *a, const PGresult **failed);
/* {"regions":[{"region","total","approved","rejected","pending"}]} */
json_object *stats_by_region(arena *a, const PGresult **failed);
/* {"countries":[{"country","region","total","approved","rejected","pending"}]} */
json_object *stats_by_country(arena *a, const PGresult **failed);
/* {"kyc","compliance","eligibility"}: approved, rejected, pass_rate (compliance also
 * political_connections, senior_relatives) */
json_object *stats_verification(arena *a, const PGresult **failed);
/* Approved applications: average credit score, DTI, loan amount, income; total loan amount. */
json_object *stats_financial(arena *a, const PGresult **failed);
/* {"timeline":[{"date","total","approved","rejected"}]}: the last days days (UTC), every day. */
json_object *stats_timeline(arena *a, int days, const PGresult **failed);
/* Everything the HTML dashboard shows, in one object: overview, by_region, by_country,
 * verification, financial, timeline (of days), funnel ({"funnel":[{"stage","count"}]}) and
 * latest (the 10 newest applications). */
json_object *stats_page(arena *a, int days, const PGresult **failed);

/* Folds the delta rows into loan_stats (the notifier's periodic job). 0, or -1. */
int stats_compact(arena *a);

#endif
