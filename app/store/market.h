/*
 * Market reference data: the replacement of market_data in one transaction, the GET /data
 * document, and the base rate that loan pricing uses for a country. The strict CSV format
 * `loanctl market load` reads is parsed by the pure app/pipeline/market_csv.c (included here).
 */
#ifndef LOANFLOW_MARKET_H
#define LOANFLOW_MARKET_H

#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "arena.h"
#include "db.h"
#include "market_csv.h"

enum market_sql {
    MARKET_ROWS,
    MARKET_BASE_RATES,
    MARKET_LOCK,
    MARKET_DELETE,
    MARKET_INSERT,
    MARKET_RECORD_LOAD,
    MARKET_LAST_LOAD,
    MARKET_SQL_COUNT
};
extern const struct db_stmt market_sql[];
#define MARKET_SQL(id) (&market_sql[id])
extern const struct db_stmts market_statements;

/* ---- database -------------------------------------------------------------------------------- */

/*
 * Replaces every market_data row with the set's rows and records the load in market_loads, in
 * one transaction on the process's db_* connection (concurrent loads are serialised by a
 * transaction-level advisory lock; readers are never blocked). base_rate_symbols is not
 * touched. On success returns 0, the market_loads id in load_id[24] and in *removed how many
 * symbols that were loaded before are gone now; -1 after a failure, with a message in err.
 * Call market_changed() after it succeeds.
 */
int market_replace(arena *a, const struct market_set *set, const char *file_name,
                   const char *sha256, const char *loaded_by, char load_id[24], long *removed,
                   char *err, size_t errlen) __attribute__((warn_unused_result));

/* Tells readers that market data changed: the Redis version key of GET /data first, then the
 * host's epoch (in that order, so a worker that sees the new epoch also finds the new version). */
void market_changed(void);

#define MARKET_VERSION_KEY "market:version"

/*
 * The document GET /data serves for one category (NULL: every row): {"data":[…],"count","as_of",
 * "base_rates":[…]}, rows by category then symbol, decimals as JSON numbers keeping the
 * database's text (trailing zeros trimmed). A new object, or NULL when the database failed:
 * *failed is then the failed result (NULL when the database is unreachable). Results live in a.
 */
json_object *market_document(arena *a, const char *category, const PGresult **failed);

/* ---- pricing --------------------------------------------------------------------------------- */

struct base_rate {
    char symbol[32];
    int bps; /* round(value * 100), e.g. 6.50 % -> 650 */
    char as_of[11];
};

/*
 * The base rate pricing uses for a country (ISO alpha-2, any case): the symbol of its
 * base_rate_symbols row, else of the '*' row, looked up in market_data. Returns 0 and fills
 * *out; 1 when no base rate is configured or the configured symbol is not loaded (pricing
 * unavailable; a country's own row is never replaced by the default because its symbol is
 * missing); -1 when the database is unreachable.
 *
 * The worker keeps every configured base rate in memory, read with the same statement GET /data
 * uses for its base_rates, and re-reads it at most once a second (one small query, like the
 * sanctions version check in refdata.c): a submit costs no extra round trip within that second,
 * and a new load reaches pricing within a second.
 */
int market_base_rate(const char *country_code, struct base_rate *out)
    __attribute__((warn_unused_result));

#endif
