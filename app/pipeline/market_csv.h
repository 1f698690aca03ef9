/*
 * The strict CSV format of market reference data that `loanctl market load` reads, and the
 * checks of its values. Decimals are handled as text and integer millionths (micro units),
 * never as doubles, so the value a file states is the value PostgreSQL stores, GET /data shows
 * and pricing uses. Pure: no database, no globals; unit-tested in tests/unit/test_market.c.
 */
#ifndef LOANFLOW_MARKET_CSV_H
#define LOANFLOW_MARKET_CSV_H

#include <stddef.h>
#include <stdint.h>

#define MARKET_SYMBOL_MAX 24  /* the symbol pattern's length limit */
#define MARKET_TEXT_MAX   200 /* bytes of a name or source */
#define MARKET_MAX_ROWS   100000

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

#endif
