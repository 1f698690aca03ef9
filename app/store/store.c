/*
 * The registry of the store's statement tables: one line per module, in no particular order
 * (db_init checks that no two statements share a name).
 */
#include "store.h"

#include "audit.h"
#include "auth.h"
#include "credit.h"
#include "loans.h"
#include "market.h"
#include "providers.h"
#include "refdata.h"
#include "stats.h"
#include "users.h"

const struct db_stmts *const store_statements[] = {
    &auth_statements,
    &audit_statements,
    &users_statements,
    &refdata_statements,
    &loans_statements,
    &providers_statements,
    &credit_statements,
    &stats_statements,
    &market_statements,
    NULL,
};
