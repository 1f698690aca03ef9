/*
 * The registry of the store's statement tables: one line per module, in no particular order
 * (db_init checks that no two statements share a name).
 */
#include "store.h"

#include "audit.h"
#include "auth.h"
#include "cob.h"
#include "credit.h"
#include "applications.h"
#include "identity.h"
#include "lending.h"
#include "outbox.h"
#include "probe.h"
#include "review.h"
#include "market.h"
#include "monitoring.h"
#include "providers.h"
#include "refdata.h"
#include "stats.h"
#include "users.h"

const struct db_stmts *const store_statements[] = {
    &auth_statements,      &audit_statements,        &users_statements,
    &refdata_statements,   &applications_statements, &identity_statements,
    &outbox_statements,    &review_statements,       &providers_statements,
    &credit_statements,    &stats_statements,        &market_statements,
    &probe_statements,     &offers_statements,       &agreements_statements,
    &disbursal_statements, &repayments_statements,   &portfolio_statements,
    &cob_statements,       &monitoring_statements,   NULL,
};
