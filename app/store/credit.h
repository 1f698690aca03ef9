/*
 * The credit policy in force, as data: the active bureau tier table, the active risk model and
 * the base rate of the applicant's country from the market data. A worker keeps the tier table
 * and the model in memory and re-checks their active versions at most once a second, so a new
 * version an operator activates is used within a second and every decision records which
 * version it used.
 */
#ifndef LOANFLOW_CREDIT_H
#define LOANFLOW_CREDIT_H

#include "db.h"
#include "loan.h"

extern const struct db_stmts credit_statements;

/*
 * Fills *cp for an applicant of country_code (borrowed pointers valid until the next call).
 * Returns 0; -1 when the database is unreachable. Missing data is not an error: no active tier
 * table leaves tier_version 0, no model leaves model NULL, no base rate leaves have_base_rate 0.
 */
int credit_policy(const char *country_code, struct credit_policy *cp);

#endif
