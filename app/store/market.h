/*
 * Market reference data: the strict CSV format `loanctl market load` reads, the replacement of
 * market_data in one transaction, and the base rate that loan pricing uses for a country.
 *
 * Decimals are handled as text and integer millionths (micro units), never as doubles, so the
 * value a file states is the value PostgreSQL stores, GET /data shows and pricing uses. The
 * parsing functions are pure (no database, no globals), live in market_csv.c and are
 * unit-tested in tests/unit; market.c has the database side, including the GET /data document.
 */
#ifndef LOANFLOW_MARKET_H
#define LOANFLOW_MARKET_H

#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "arena.h"
#include "db.h"

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

#define MARKET_SYMBOL_MAX 24  /* the symbol pattern's length limit */
#define MARKET_TEXT_MAX   200 /* bytes of a name or source */
#define MARKET_MAX_ROWS   100000

/* ---- pure parsing ---------------------------------------------------------------------------- */

/*
 * A decimal as NUMERIC(18,6) takes it: an optional '-', 1 to 12 digits, optionally '.' and 1 to
 * 6 digits; nothing else (no '+', exponent, spaces or thousands separators). Returns NULL and
 * sets *micro (the value times 10^6; micro may be NULL), or a static message saying what is
 * wrong.
 */
const char *market_check_decimal(const char *s, int64_t *micro);
/* A calendar date YYYY-MM-DD from 1900 on. NULL, or a static message. */
const char *market_check_date(const char *s);
/* 1 to 24 of A-Z 0-9 _ . ^ - (the table's CHECK). NULL, or a static message. */
const char *market_check_symbol(const char *s);
/* 1 when s is index, rate, fx or commodity. */
int market_category_valid(const char *s);

/* Basis points of a rate in percent given in micro units, rounded half away from zero
 * (6.5 % = 6500000 -> 650). 0, or -1 when the result does not fit an int. */
int market_bps(int64_t micro, int *bps);

/* Copies a decimal's text into out (size len) without trailing fraction zeros or a trailing
 * point ("6.500000" -> "6.5", "24000.000000" -> "24000"), the form GET /data emits. */
void market_trim_decimal(const char *in, char *out, size_t len);

struct market_row {
    int line; /* physical line of the file where the row starts */
    char symbol[MARKET_SYMBOL_MAX + 1];
    char category[16];
    char value[24];  /* as written in the file, validated */
    char change[24]; /* "0" when the file has no change column */
    char as_of[11];
    char *name;   /* owned by the set */
    char *source; /* owned by the set; "" when the file has no source column */
};

struct market_set {
    struct market_row *rows;
    size_t n, cap;
};

/* Called once per problem found: line in the file, the field (a column name, "header" or
 * "row") and a message. Strings are borrowed for the call. */
typedef void (*market_error_fn)(int line, const char *field, const char *message, void *ud);

/*
 * Parses a market data CSV (RFC 4180 quoting, LF or CRLF, an optional UTF-8 BOM, blank lines
 * ignored). The header names the columns, in any order: symbol, name, category, value and as_of
 * are required, change and source optional. Every row is validated; each problem is reported
 * through on_error (which may be NULL) and parsing goes on to find the others, except after a
 * bad header or an unterminated quote. Returns the number of problems (0 means *out holds every
 * row), or -1 when out of memory. *out must be zeroed first; free it with market_set_free even
 * after a failure.
 */
int market_parse_csv(const char *buf, size_t len, struct market_set *out, market_error_fn on_error,
                     void *ud) __attribute__((warn_unused_result));
void market_set_free(struct market_set *s);

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
