/*
 * The dashboard's aggregates, read from the trigger-maintained loan_stats rows.
 */
#ifndef LOANFLOW_STATS_H
#define LOANFLOW_STATS_H

#include "db.h"

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

#endif
