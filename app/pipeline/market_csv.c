/*
 * Market data files. The CSV reader is a small RFC 4180 state machine over the whole file
 * (market files are a few hundred rows): it reports every problem with its line and field, so
 * an operator fixes a file in one pass. Decimals stay text end to end; the only arithmetic
 * (basis points for pricing) is on integer micro units.
 */
#include "market_csv.h"

#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "validate.h"

/* ---- values ---------------------------------------------------------------------------------- */

#define DECIMAL_MSG                                                                                \
    "must be a plain decimal number: an optional minus sign, digits, and at most 6 decimal "       \
    "places after a point (e.g. 6.5 or -0.25)"

const char *market_check_decimal(const char *s, int64_t *micro)
{
    const char *p = s;
    int neg = 0;
    if (*p == '-') {
        neg = 1;
        p++;
    }
    int64_t whole = 0, frac = 0;
    int id = 0, fd = 0;
    for (; *p >= '0' && *p <= '9'; p++, id++) {
        if (id == 12)
            return "has more than 12 digits before the decimal point";
        whole = whole * 10 + (*p - '0');
    }
    if (id == 0)
        return DECIMAL_MSG;
    if (*p == '.') {
        p++;
        for (; *p >= '0' && *p <= '9'; p++, fd++) {
            if (fd == 6)
                return "has more than 6 decimal places";
            frac = frac * 10 + (*p - '0');
        }
        if (fd == 0)
            return DECIMAL_MSG;
    }
    if (*p != '\0')
        return DECIMAL_MSG;
    for (; fd < 6; fd++)
        frac *= 10;
    if (micro != NULL)
        *micro = (whole * 1000000 + frac) * (neg ? -1 : 1);
    return NULL;
}

const char *market_check_date(const char *s)
{
    static const char *msg = "must be a date YYYY-MM-DD";
    if (strlen(s) != 10 || s[4] != '-' || s[7] != '-')
        return msg;
    for (int i = 0; i < 10; i++)
        if (i != 4 && i != 7 && !(s[i] >= '0' && s[i] <= '9'))
            return msg;
    int y = atoi(s), m = atoi(s + 5), d = atoi(s + 8);
    if (y < 1900)
        return "must be a date from 1900-01-01 on";
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m < 1 || m > 12)
        return "is not a calendar date (month 01 to 12)";
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    int dim = days[m - 1] + (m == 2 && leap);
    if (d < 1 || d > dim)
        return "is not a calendar date (no such day in that month)";
    return NULL;
}

const char *market_check_symbol(const char *s)
{
    size_t n = strlen(s);
    if (n == 0)
        return "must not be empty";
    if (n > MARKET_SYMBOL_MAX)
        return "must be at most 24 characters";
    for (const char *p = s; *p; p++)
        if (!((*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || strchr("_.^-", *p)))
            return "may contain only A-Z, 0-9, _ . ^ and - (upper case)";
    return NULL;
}

int market_category_valid(const char *s)
{
    return s != NULL && (!strcmp(s, "index") || !strcmp(s, "rate") || !strcmp(s, "fx") ||
                         !strcmp(s, "commodity"));
}

int market_bps(int64_t micro, int *bps)
{
    int64_t q = micro / 10000, r = micro % 10000;
    if (r >= 5000)
        q++;
    else if (r <= -5000)
        q--;
    if (q > INT_MAX || q < INT_MIN)
        return -1;
    *bps = (int)q;
    return 0;
}

void market_trim_decimal(const char *in, char *out, size_t len)
{
    if (len == 0)
        return;
    snprintf(out, len, "%s", in);
    char *dot = strchr(out, '.');
    if (dot == NULL)
        return;
    char *end = out + strlen(out);
    while (end > dot + 1 && end[-1] == '0')
        *--end = '\0';
    if (end == dot + 1)
        *dot = '\0';
    if (!strcmp(out, "-0"))
        snprintf(out, len, "0");
}

/* A name or source: valid UTF-8 without control characters, at most MARKET_TEXT_MAX bytes. */
static const char *check_text(const char *s, int may_be_empty)
{
    size_t n = strlen(s);
    if (n == 0)
        return may_be_empty ? NULL : "must not be empty";
    if (n > MARKET_TEXT_MAX)
        return "must be at most 200 bytes";
    if (val_utf8_chars(s) < 0)
        return "must be valid UTF-8";
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p < 0x20 || *p == 0x7f)
            return "must not contain control characters (tabs, line breaks)";
    return NULL;
}

/* ---- CSV ------------------------------------------------------------------------------------- */

#define CSV_MAX_FIELDS 16

struct csv {
    const char *p, *end;
    int line;       /* physical line of p */
    int start_line; /* line where the current record starts */
    char *buf;      /* the current record's field texts, each NUL-terminated */
    const char *field[CSV_MAX_FIELDS];
    int n;
};

enum { CSV_END = 0, CSV_RECORD = 1, CSV_BAD = -1, CSV_FATAL = -2 };

static void csv_skip_line(struct csv *c)
{
    while (c->p < c->end && *c->p != '\n')
        c->p++;
    if (c->p < c->end) {
        c->p++;
        c->line++;
    }
}

/* At a record's end: end of input, LF, or CRLF (CR alone at the very end too). */
static int csv_at_eol(const struct csv *c)
{
    if (c->p >= c->end || *c->p == '\n')
        return 1;
    return *c->p == '\r' && (c->p + 1 == c->end || c->p[1] == '\n');
}

/* Reads the next non-blank record into c->field[0..n). CSV_BAD skips the rest of the line;
 * CSV_FATAL (an unterminated quote) leaves nothing to read. */
static int csv_next(struct csv *c, const char **why)
{
    c->n = 0;
    while (c->p < c->end && csv_at_eol(c)) { /* blank lines */
        if (*c->p == '\r' && c->p + 1 < c->end && c->p[1] == '\n')
            c->p++;
        c->p++;
        c->line++;
    }
    if (c->p >= c->end)
        return CSV_END;
    c->start_line = c->line;
    char *out = c->buf;
    for (;;) {
        if (c->n == CSV_MAX_FIELDS) {
            *why = "more than 16 fields";
            csv_skip_line(c);
            return CSV_BAD;
        }
        c->field[c->n++] = out;
        if (c->p < c->end && *c->p == '"') {
            c->p++;
            for (;;) {
                if (c->p >= c->end) {
                    *why = "a quoted field is not closed";
                    return CSV_FATAL;
                }
                char ch = *c->p++;
                if (ch == '"') {
                    if (c->p < c->end && *c->p == '"') {
                        *out++ = '"';
                        c->p++;
                        continue;
                    }
                    break;
                }
                if (ch == '\0') {
                    *why = "a NUL byte";
                    c->p--;
                    csv_skip_line(c);
                    return CSV_BAD;
                }
                if (ch == '\n')
                    c->line++;
                *out++ = ch;
            }
            if (c->p < c->end && *c->p != ',' && !csv_at_eol(c)) {
                *why = "text after a closing quote (a quote inside a field is written \"\")";
                csv_skip_line(c);
                return CSV_BAD;
            }
        } else {
            while (c->p < c->end && *c->p != ',' && !csv_at_eol(c)) {
                char ch = *c->p;
                if (ch == '"' || ch == '\r' || ch == '\0') {
                    *why = ch == '"'    ? "a quote inside an unquoted field (quote the whole field)"
                           : ch == '\r' ? "a carriage return inside a field"
                                        : "a NUL byte";
                    csv_skip_line(c);
                    return CSV_BAD;
                }
                *out++ = ch;
                c->p++;
            }
        }
        *out++ = '\0';
        if (c->p < c->end && *c->p == ',') {
            c->p++;
            continue;
        }
        if (c->p < c->end && *c->p == '\r')
            c->p++;
        if (c->p < c->end && *c->p == '\n') {
            c->p++;
            c->line++;
        }
        return CSV_RECORD;
    }
}

enum col {
    COL_SYMBOL,
    COL_NAME,
    COL_CATEGORY,
    COL_VALUE,
    COL_CHANGE,
    COL_AS_OF,
    COL_SOURCE,
    NCOLS
};
static const char *const col_names[NCOLS] = {"symbol", "name",  "category", "value",
                                             "change", "as_of", "source"};
static const int col_required[NCOLS] = {1, 1, 1, 1, 0, 1, 0};

struct report {
    market_error_fn fn;
    void *ud;
    int count;
};

static void report(struct report *rp, int line, const char *field, const char *msg)
{
    rp->count++;
    if (rp->fn != NULL)
        rp->fn(line, field, msg, rp->ud);
}

static int row_cmp(const void *a, const void *b)
{
    const struct market_row *x = *(const struct market_row *const *)a;
    const struct market_row *y = *(const struct market_row *const *)b;
    int c = strcmp(x->symbol, y->symbol);
    return c != 0 ? c : (x->line > y->line) - (x->line < y->line);
}

/* Reports every symbol that appears twice, at each later line. 0, or -1 out of memory. */
static int check_duplicates(const struct market_set *s, struct report *rp)
{
    if (s->n < 2)
        return 0;
    const struct market_row **v = malloc(s->n * sizeof(*v));
    if (v == NULL)
        return -1;
    for (size_t i = 0; i < s->n; i++)
        v[i] = &s->rows[i];
    qsort(v, s->n, sizeof(*v), row_cmp);
    for (size_t i = 1, first = 0; i < s->n; i++) {
        if (strcmp(v[i]->symbol, v[first]->symbol) != 0) {
            first = i;
            continue;
        }
        char msg[96];
        snprintf(msg, sizeof(msg), "%s is already on line %d", v[i]->symbol, v[first]->line);
        report(rp, v[i]->line, "symbol", msg);
    }
    free(v);
    return 0;
}

static int add_row(struct market_set *s, const struct market_row *row)
{
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 64;
        struct market_row *rows = realloc(s->rows, cap * sizeof(*rows));
        if (rows == NULL)
            return -1;
        s->rows = rows;
        s->cap = cap;
    }
    s->rows[s->n++] = *row;
    return 0;
}

/* Validates one record against the header's columns (idx) into a row. 0, or -1 out of memory;
 * problems go to rp. */
static int parse_row(const struct csv *c, const int idx[NCOLS], struct market_set *out,
                     struct report *rp)
{
    const char *f[NCOLS];
    for (int k = 0; k < NCOLS; k++)
        f[k] = idx[k] >= 0 ? c->field[idx[k]] : NULL;
    int before = rp->count, line = c->start_line;
    const char *why;
    struct market_row row;
    memset(&row, 0, sizeof(row));
    row.line = line;
    if ((why = market_check_symbol(f[COL_SYMBOL])) != NULL)
        report(rp, line, "symbol", why);
    if ((why = check_text(f[COL_NAME], 0)) != NULL)
        report(rp, line, "name", why);
    if (!market_category_valid(f[COL_CATEGORY]))
        report(rp, line, "category", "must be one of index, rate, fx, commodity");
    if ((why = market_check_decimal(f[COL_VALUE], NULL)) != NULL)
        report(rp, line, "value", why);
    if (f[COL_CHANGE] != NULL && (why = market_check_decimal(f[COL_CHANGE], NULL)) != NULL)
        report(rp, line, "change", why);
    if ((why = market_check_date(f[COL_AS_OF])) != NULL)
        report(rp, line, "as_of", why);
    if (f[COL_SOURCE] != NULL && (why = check_text(f[COL_SOURCE], 1)) != NULL)
        report(rp, line, "source", why);
    if (rp->count != before)
        return 0;
    snprintf(row.symbol, sizeof(row.symbol), "%s", f[COL_SYMBOL]);
    snprintf(row.category, sizeof(row.category), "%s", f[COL_CATEGORY]);
    snprintf(row.value, sizeof(row.value), "%s", f[COL_VALUE]);
    snprintf(row.change, sizeof(row.change), "%s", f[COL_CHANGE] ? f[COL_CHANGE] : "0");
    snprintf(row.as_of, sizeof(row.as_of), "%s", f[COL_AS_OF]);
    row.name = strdup(f[COL_NAME]);
    row.source = strdup(f[COL_SOURCE] ? f[COL_SOURCE] : "");
    if (row.name == NULL || row.source == NULL || add_row(out, &row) != 0) {
        free(row.name);
        free(row.source);
        return -1;
    }
    return 0;
}

/* Maps the header's names to columns. 0 when usable; problems go to rp. */
static int parse_header(const struct csv *c, int idx[NCOLS], struct report *rp)
{
    int before = rp->count;
    char msg[160];
    for (int k = 0; k < NCOLS; k++)
        idx[k] = -1;
    for (int i = 0; i < c->n; i++) {
        int k = 0;
        while (k < NCOLS && strcmp(c->field[i], col_names[k]) != 0)
            k++;
        if (k == NCOLS) {
            snprintf(msg, sizeof(msg),
                     "unknown column \"%.40s\" (the columns are symbol, name, category, value, "
                     "change, as_of, source)",
                     c->field[i]);
            report(rp, c->start_line, "header", msg);
        } else if (idx[k] >= 0) {
            snprintf(msg, sizeof(msg), "column \"%s\" appears twice", col_names[k]);
            report(rp, c->start_line, "header", msg);
        } else {
            idx[k] = i;
        }
    }
    for (int k = 0; k < NCOLS; k++) {
        if (col_required[k] && idx[k] < 0) {
            snprintf(msg, sizeof(msg), "missing column \"%s\"", col_names[k]);
            report(rp, c->start_line, "header", msg);
        }
    }
    return rp->count == before ? 0 : -1;
}

int market_parse_csv(const char *buf, size_t len, struct market_set *out, market_error_fn on_error,
                     void *ud)
{
    struct report rp = {on_error, ud, 0};
    struct csv c = {buf, buf + len, 1, 1, NULL, {NULL}, 0};
    if (len >= 3 && !memcmp(buf, "\xEF\xBB\xBF", 3))
        c.p += 3;
    c.buf = malloc(len + CSV_MAX_FIELDS + 1);
    if (c.buf == NULL)
        return -1;
    const char *why = NULL;
    int idx[NCOLS];
    int rc = csv_next(&c, &why);
    if (rc == CSV_END) {
        report(&rp, 1, "header", "the file is empty: the first line must name the columns");
        goto out;
    }
    if (rc != CSV_RECORD) {
        report(&rp, c.start_line, "header", why);
        goto out;
    }
    if (parse_header(&c, idx, &rp) != 0)
        goto out;
    int ncols = c.n;
    while ((rc = csv_next(&c, &why)) != CSV_END) {
        if (rc != CSV_RECORD) {
            report(&rp, c.start_line, "row", why);
            if (rc == CSV_FATAL)
                break;
            continue;
        }
        if (c.n != ncols) {
            char msg[96];
            snprintf(msg, sizeof(msg), "has %d fields where the header names %d", c.n, ncols);
            report(&rp, c.start_line, "row", msg);
            continue;
        }
        if (out->n >= MARKET_MAX_ROWS) {
            report(&rp, c.start_line, "row", "more than 100000 rows");
            break;
        }
        if (parse_row(&c, idx, out, &rp) != 0) {
            free(c.buf);
            return -1;
        }
    }
    if (check_duplicates(out, &rp) != 0) {
        free(c.buf);
        return -1;
    }
out:
    free(c.buf);
    return rp.count;
}

void market_set_free(struct market_set *s)
{
    if (s == NULL)
        return;
    for (size_t i = 0; i < s->n; i++) {
        free(s->rows[i].name);
        free(s->rows[i].source);
    }
    free(s->rows);
    memset(s, 0, sizeof(*s));
}
