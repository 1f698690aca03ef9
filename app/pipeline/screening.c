/*
 * screening.c - sanctions name screening: OFAC CSV parsers, name normalisation, token
 * Jaro-Winkler scoring and a candidate index.
 *
 * Parsing. The parsers are a byte-level state machine over a borrowed buffer. Fields are
 * decoded into a fixed per-row scratch area (SCREEN_MAX_FIELD bytes per field), so a longer
 * field is reported as an error instead of being truncated. Quoted fields may contain ""
 * escapes but no line breaks or NUL bytes (OFAC never emits them; refusing them turns an
 * unbalanced quote into an error on the right line instead of swallowing the rest of the
 * file). An unquoted -0- (trailing blanks allowed) or empty field is a null and reaches the
 * callback as NULL. A 0x1A byte at the start of a line ends the data.
 *
 * Normalisation. UTF-8 is decoded (invalid bytes are read as Latin-1), Latin-1 Supplement and
 * Latin Extended-A letters are folded to ASCII, apostrophes and combining accents vanish,
 * other punctuation and non-Latin characters separate tokens. Commas split the name into
 * segments: trailing segments made only of legal forms or generational suffixes (", S.A.",
 * ", Jr.") are dropped, and a name left with exactly two segments is the OFAC person form
 * "SURNAME, Given" and becomes "given surname". Other names lose legal forms at both ends
 * ("LIMITED LIABILITY COMPANY X", "X CO., LTD."); legal words of 5+ letters are recognised
 * with one typo ("LIMITTED").
 *
 * Scoring (score_tokens). Names are compared as token sets because word order is unreliable
 * across sources. Tokens are "minor" (one letter, or particles such as al, bin, de, van) or
 * regular. A minor token pairs only with an equal minor token, so initials and "al" never
 * inflate a score. Two regular tokens pair through tok_sim():
 *   - equal: 1.0;
 *   - one edit apart (insert, delete, substitute, swap): Jaro-Winkler, floored at
 *     1 - 1/(2 * length) because JW underrates some single typos;
 *   - two edits apart and 8+ letters long (mohammed / muhammad): JW * 0.95;
 *   - anything else: no pair, even when JW is high. Plain JW gives different names that share
 *     a prefix 0.80-0.93 (maria / martin, khan / khansa, musa / mustafa, huang / zhang) and
 *     with it many ordinary names scored >= 0.85 against the real list;
 *   - short tokens (<= 4 letters) differing in the first letter (wang / fang, yong / dong,
 *     caro / karo) form a "weak" pair (0.80) that counts only when exactly-equal pairs supply
 *     at least 6 letters: "Rafael Karo Quintero" still finds CARO QUINTERO, Rafael, but
 *     "Fang Chen" no longer matches "WANG, Chen".
 * Pairs are chosen greedily, best similarity first, one-to-one. The score is M * P * F:
 *   M = mean similarity of the regular pairs weighted by mean token length (a typo in a long
 *       token costs less than one in a short token, as each carries that much information);
 *   P = coverage penalty for unpaired tokens, by count:
 *       - one regular pair only: x0.75 per unpaired regular token, x0.88 per unpaired minor
 *         token. A lone shared word ("Wei" vs "ZHANG, Wei", "John Smith" vs the alias "JOHN")
 *         is weak evidence and stays below 0.85;
 *       - two or more pairs, one side fully paired: x0.88 for the first unpaired token on the
 *         other side (a missing middle name is tolerated gently: review level, not a strong
 *         hit) and x0.85 for each further one; both sides with unpaired tokens: x0.85 each (a
 *         different surname is a different person); x0.98 per unpaired minor token;
 *   F = x0.92 for each inexact pair beyond the first (one typo is free, two cost).
 * Examples on the real list: reordered / accented exact names 1.0; one typo in a 2-3 token
 * name 0.93-0.99; "Sergey Ivanov" vs "IVANOV, Sergey Borisovich" 0.88; "Maria Garcia" vs
 * "GAXIOLA GARCIA, Maria Elena" 0.75. The constants were tuned on the 2024-05-03 SDN file
 * with the bench (tests/bench/screen_bench.c) and the unit tests: ordinary western names stay
 * below 0.85 except true subsets of a listed name plus one token (John Taylor vs TAYLOR, Mark
 * John = 0.88) and names that really are listed (ZHANG, Wei). Common Arabic, Russian and
 * Spanish two-word names are often a listed name minus one token (Sergey Ivanov, Carlos
 * Garcia) and then land at review level (0.85-0.88) by design.
 *
 * Index. screen_list keeps a vocabulary of distinct normalised tokens, a postings list
 * (token -> names) and a sorted array of 64-bit hashes of deletion keys (each token and each
 * one-character deletion of it, SymSpell style) -> tokens, so any two tokens within one edit
 * share a key. A query looks up the keys of its regular tokens, keeps the vocabulary tokens
 * that tok_sim() accepts, ORs a bit per query token into a per-name mask (per-call scratch),
 * bounds every touched name's score by P with the pairs the mask allows (plus at most one
 * two-edit variant of a long query token, which keys cannot see), and scores in full only the
 * names whose bound reaches min_score, in decreasing bound order, stopping once no bound can
 * beat the best score. Listed names that share no token within one edit with the query are
 * never considered. Nothing is shared mutably between calls.
 *
 * Ownership: see screening.h; all internal buffers belong to the screen_list or to the call.
 */
#include "screening.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CSV_MAX_FIELDS  12   /* SDN has 12 columns, alt.csv 5 */
#define NORM_MAX_BYTES  4096 /* folded bytes kept by the normaliser */
#define NORM_MAX_TOKENS 256  /* tokens kept by the normaliser */
#define TOK_MAX_LEN     63   /* bytes per token */
#define SCORE_MAX_TOK   32   /* tokens per name taken into account by the scorer */

#define TOK_MIN        0.80 /* Jaro-Winkler below this is "no pair" */
#define P_SINGLE       0.75 /* k == 1: per unpaired regular token */
#define P_SINGLE_MINOR 0.88 /* k == 1: per unpaired minor token */
#define P_GENTLE       0.88 /* k >= 2, one side fully paired: first unpaired token */
#define P_EXTRA        0.85 /* k >= 2: every other unpaired regular token */
#define P_MINOR        0.98 /* k >= 2: per unpaired minor token */
#define P_FUZZY        0.92 /* per inexact pair beyond the first */
#define D2_MIN_LEN     8    /* two edits count as a variant only in tokens this long */
#define D2_FACTOR      0.95 /* similarity factor for such a two-edit variant */
#define SHORT_TOK      4    /* tokens up to this long differing in the first letter ... */
#define WEAK_EVIDENCE  6    /* ... pair only beside this many letters of exact pairs */

/* ------------------------------------------------------------------------------------------ */
/* Small helpers                                                                               */
/* ------------------------------------------------------------------------------------------ */

static int is_digit(int c)
{
    return c >= '0' && c <= '9';
}

static int ascii_lower(int c)
{
    return (c >= 'A' && c <= 'Z') ? c - 'A' + 'a' : c;
}

/* Case-insensitive ASCII comparison of a NUL-terminated s with literal lit. */
static int ascii_ieq(const char *s, const char *lit)
{
    while (*s && *lit) {
        if (ascii_lower((unsigned char)*s) != ascii_lower((unsigned char)*lit))
            return 0;
        s++;
        lit++;
    }
    return *s == *lit;
}

/* Writes a formatted message into err (caller-owned, errlen bytes) if there is room. */
__attribute__((format(printf, 3, 4))) static void set_err(char *err, size_t errlen, const char *fmt,
                                                          ...)
{
    va_list ap;

    if (!err || errlen == 0)
        return;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

/* Ensures *p (element size elem, capacity *cap elements) can hold need elements. 0 or -1. */
static int grow(void **p, size_t *cap, size_t need, size_t elem)
{
    size_t ncap;
    void *np;

    if (need <= *cap)
        return 0;
    ncap = *cap ? *cap : 16;
    while (ncap < need) {
        if (ncap > SIZE_MAX / 2 / elem) {
            errno = ENOMEM;
            return -1;
        }
        ncap *= 2;
    }
    np = realloc(*p, ncap * elem);
    if (!np) {
        errno = ENOMEM;
        return -1;
    }
    *p = np;
    *cap = ncap;
    return 0;
}

/* 64-bit FNV-1a with a final avalanche step. */
static uint64_t hash_bytes(const char *s, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ULL;

    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 0x100000001b3ULL;
    }
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    return h;
}

/* Optimal-string-alignment edit distance of a and b (each <= TOK_MAX_LEN bytes), capped:
 * returns 3 for any distance above 2. */
static int osa_distance(const char *a, size_t la, const char *b, size_t lb)
{
    int rows[3][TOK_MAX_LEN + 1];
    int *pp = rows[0], *prev = rows[1], *cur = rows[2];

    if (la > lb + 2 || lb > la + 2)
        return 3;
    for (size_t j = 0; j <= lb; j++)
        prev[j] = (int)j;
    for (size_t i = 1; i <= la; i++) {
        int rowmin;
        int *tmp;

        cur[0] = (int)i;
        rowmin = cur[0];
        for (size_t j = 1; j <= lb; j++) {
            int cost = a[i - 1] != b[j - 1];
            int v = prev[j - 1] + cost;

            if (prev[j] + 1 < v)
                v = prev[j] + 1;
            if (cur[j - 1] + 1 < v)
                v = cur[j - 1] + 1;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] && pp[j - 2] + 1 < v)
                v = pp[j - 2] + 1;
            cur[j] = v;
            if (v < rowmin)
                rowmin = v;
        }
        if (rowmin > 2)
            return 3;
        tmp = pp;
        pp = prev;
        prev = cur;
        cur = tmp;
    }
    return prev[lb] > 2 ? 3 : prev[lb];
}

/* ------------------------------------------------------------------------------------------ */
/* CSV parsing                                                                                 */
/* ------------------------------------------------------------------------------------------ */

struct csv_ctx {
    const char *buf; /* borrowed input */
    size_t len;
    size_t pos;
    long line; /* 1-based line of the row being read */
    char *err; /* caller-owned message buffer, may be NULL */
    size_t errlen;
};

struct csv_row {
    int nf;
    int null[CSV_MAX_FIELDS];
    size_t flen[CSV_MAX_FIELDS];
    char f[CSV_MAX_FIELDS][SCREEN_MAX_FIELD + 1];
};

/* Reads one row into r (caller-owned scratch). Returns 1 for a row, 0 at end of data, -1 on
 * a malformed row (message in c->err). Blank lines are skipped. */
static int csv_read_row(struct csv_ctx *c, struct csv_row *r)
{
    const char *b = c->buf;
    size_t n = c->len;
    unsigned char ch;

    for (;;) {
        if (c->pos >= n)
            return 0;
        ch = (unsigned char)b[c->pos];
        if (ch == 0x1A) {
            for (size_t k = c->pos; k < n; k++) {
                if (b[k] != 0x1A && b[k] != '\r' && b[k] != '\n') {
                    set_err(c->err, c->errlen, "line %ld: data after end-of-file byte 0x1A",
                            c->line);
                    return -1;
                }
            }
            c->pos = n;
            return 0;
        }
        if (ch == '\n') {
            c->pos++;
            c->line++;
            continue;
        }
        if (ch == '\r' && c->pos + 1 < n && b[c->pos + 1] == '\n') {
            c->pos += 2;
            c->line++;
            continue;
        }
        break;
    }

    r->nf = 0;
    for (;;) {
        char *dst;
        size_t dl = 0;
        int quoted = 0;

        if (r->nf == CSV_MAX_FIELDS) {
            set_err(c->err, c->errlen, "line %ld: more than %d fields", c->line, CSV_MAX_FIELDS);
            return -1;
        }
        dst = r->f[r->nf];
        while (c->pos < n && (b[c->pos] == ' ' || b[c->pos] == '\t'))
            c->pos++;
        if (c->pos < n && b[c->pos] == '"') {
            quoted = 1;
            c->pos++;
            for (;;) {
                if (c->pos >= n) {
                    set_err(c->err, c->errlen, "line %ld: unterminated quoted field %d", c->line,
                            r->nf + 1);
                    return -1;
                }
                ch = (unsigned char)b[c->pos];
                if (ch == '"') {
                    if (c->pos + 1 < n && b[c->pos + 1] == '"') {
                        c->pos += 2;
                    } else {
                        c->pos++;
                        break;
                    }
                } else if (ch == '\r' || ch == '\n') {
                    set_err(c->err, c->errlen,
                            "line %ld: line break inside quoted field %d (unbalanced quote?)",
                            c->line, r->nf + 1);
                    return -1;
                } else if (ch == 0) {
                    set_err(c->err, c->errlen, "line %ld: NUL byte in field %d", c->line,
                            r->nf + 1);
                    return -1;
                } else {
                    c->pos++;
                }
                if (dl >= SCREEN_MAX_FIELD) {
                    set_err(c->err, c->errlen, "line %ld: field %d longer than %d bytes", c->line,
                            r->nf + 1, SCREEN_MAX_FIELD);
                    return -1;
                }
                dst[dl++] = (char)ch;
            }
            while (c->pos < n && (b[c->pos] == ' ' || b[c->pos] == '\t'))
                c->pos++;
        } else {
            while (c->pos < n) {
                ch = (unsigned char)b[c->pos];
                if (ch == ',' || ch == '\r' || ch == '\n')
                    break;
                if (ch == '"' || ch == 0) {
                    set_err(c->err, c->errlen, "line %ld: %s in unquoted field %d", c->line,
                            ch ? "quote" : "NUL byte", r->nf + 1);
                    return -1;
                }
                if (dl >= SCREEN_MAX_FIELD) {
                    set_err(c->err, c->errlen, "line %ld: field %d longer than %d bytes", c->line,
                            r->nf + 1, SCREEN_MAX_FIELD);
                    return -1;
                }
                dst[dl++] = (char)ch;
                c->pos++;
            }
            while (dl > 0 && (dst[dl - 1] == ' ' || dst[dl - 1] == '\t'))
                dl--;
        }
        dst[dl] = '\0';
        r->flen[r->nf] = dl;
        r->null[r->nf] = !quoted && (dl == 0 || (dl == 3 && memcmp(dst, "-0-", 3) == 0));
        r->nf++;

        if (c->pos >= n)
            break;
        ch = (unsigned char)b[c->pos];
        if (ch == ',') {
            c->pos++;
            continue;
        }
        if (ch == '\n') {
            c->pos++;
            break;
        }
        if (ch == '\r' && c->pos + 1 < n && b[c->pos + 1] == '\n') {
            c->pos += 2;
            break;
        }
        set_err(c->err, c->errlen, "line %ld: unexpected %s after field %d", c->line,
                ch == '\r' ? "bare CR" : "character", r->nf);
        return -1;
    }
    c->line++;
    return 1;
}

/* Parses a positive decimal ent_num (at most 18 digits). Returns it, or -1. */
static long parse_id(const char *s, size_t len)
{
    long v = 0;

    if (len == 0 || len > 18)
        return -1;
    for (size_t i = 0; i < len; i++) {
        if (!is_digit((unsigned char)s[i]))
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v > 0 ? v : -1;
}

/* Rewrites the OFAC program separator "] [" into ';' in place. */
static void fix_programs(char *s)
{
    char *w = s;

    for (const char *p = s; *p;) {
        if (p[0] == ']' && p[1] == ' ' && p[2] == '[') {
            *w++ = ';';
            p += 3;
        } else {
            *w++ = *p++;
        }
    }
    *w = '\0';
}

/* Shared driver: nf = expected field count; sdn selects the column mapping. */
static long parse_csv(const char *buf, size_t len, int sdn,
                      int (*cb)(const screen_entry *e, void *ud), void *ud, char *err,
                      size_t errlen)
{
    struct csv_ctx c = {buf, len, 0, 1, err, errlen};
    struct csv_row *r;
    long count = 0;
    int want = sdn ? 12 : 5;

    if (err && errlen)
        err[0] = '\0';
    if (!buf && len) {
        set_err(err, errlen, "NULL buffer");
        return -1;
    }
    r = malloc(sizeof(*r));
    if (!r) {
        set_err(err, errlen, "out of memory");
        return -1;
    }
    for (;;) {
        screen_entry e;
        int rc = csv_read_row(&c, r);
        long row_line = c.line - 1; /* csv_read_row moved past the row */

        if (rc == 0)
            break;
        if (rc < 0) {
            count = -1;
            break;
        }
        if (r->nf != want) {
            set_err(err, errlen, "line %ld: expected %d fields, got %d", row_line, want, r->nf);
            count = -1;
            break;
        }
        e.entry_id = parse_id(r->f[0], r->flen[0]);
        if (e.entry_id < 0) {
            set_err(err, errlen, "line %ld: bad ent_num", row_line);
            count = -1;
            break;
        }
        if (sdn) {
            if (r->null[1]) {
                set_err(err, errlen, "line %ld: empty SDN_Name", row_line);
                count = -1;
                break;
            }
            fix_programs(r->f[3]);
            e.name = r->f[1];
            e.type = r->null[2] ? NULL : r->f[2];
            e.programs = r->null[3] ? NULL : r->f[3];
            e.remarks = r->null[11] ? NULL : r->f[11];
        } else {
            if (parse_id(r->f[1], r->flen[1]) < 0 && !r->null[1]) {
                set_err(err, errlen, "line %ld: bad alt_num", row_line);
                count = -1;
                break;
            }
            if (r->null[3]) {
                set_err(err, errlen, "line %ld: empty alt_name", row_line);
                count = -1;
                break;
            }
            e.name = r->f[3];
            e.type = r->null[2] ? NULL : r->f[2];
            e.programs = NULL;
            e.remarks = r->null[4] ? NULL : r->f[4];
        }
        if (cb && cb(&e, ud) != 0) {
            set_err(err, errlen, "line %ld: stopped by callback", row_line);
            count = -1;
            break;
        }
        count++;
    }
    free(r);
    return count;
}

long screen_parse_sdn(const char *buf, size_t len, int (*cb)(const screen_entry *e, void *ud),
                      void *ud, char *err, size_t errlen)
{
    return parse_csv(buf, len, 1, cb, ud, err, errlen);
}

long screen_parse_alt(const char *buf, size_t len, int (*cb)(const screen_entry *e, void *ud),
                      void *ud, char *err, size_t errlen)
{
    return parse_csv(buf, len, 0, cb, ud, err, errlen);
}

int screen_remarks_akas(const char *remarks, int (*cb)(const char *name, void *ud), void *ud)
{
    char name[SCREEN_MAX_FIELD + 1];
    const char *p = remarks;
    int n = 0;

    if (!remarks)
        return 0;
    while ((p = strstr(p, ".k.a. '")) != NULL) {
        const char *s = p + 7, *end = NULL;
        size_t len;

        /* must be a whole word a.k.a. / f.k.a. / n.k.a. */
        if (p == remarks || (p[-1] != 'a' && p[-1] != 'f' && p[-1] != 'n') ||
            (p - 1 > remarks &&
             ((p[-2] >= 'a' && p[-2] <= 'z') || (p[-2] >= 'A' && p[-2] <= 'Z')))) {
            p++;
            continue;
        }
        /* the alias may itself contain apostrophes: it ends at a quote followed by ';',
         * the end, or a full stop that ends the sentence */
        for (const char *q = s; *q; q++) {
            if (*q != '\'')
                continue;
            if (q[1] == '\0' || q[1] == ';' ||
                (q[1] == '.' && (q[2] == '\0' || q[2] == ' ' || q[2] == ';'))) {
                end = q;
                break;
            }
        }
        if (!end)
            break; /* cut off by the Remarks length limit */
        len = (size_t)(end - s);
        if (len > 0 && len <= SCREEN_MAX_FIELD) {
            memcpy(name, s, len);
            name[len] = '\0';
            if (cb && cb(name, ud) != 0)
                return -1;
            n++;
        }
        p = end + 1;
    }
    return n;
}

/* ------------------------------------------------------------------------------------------ */
/* Normalisation                                                                               */
/* ------------------------------------------------------------------------------------------ */

/* Decodes one code point from the NUL-terminated s; invalid UTF-8 yields the first byte as
 * a Latin-1 code point. Returns bytes consumed (>= 1). Never reads past a NUL. */
static size_t utf8_next(const unsigned char *s, uint32_t *cp)
{
    unsigned c = s[0];

    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    if (c >= 0xC2 && c <= 0xDF) {
        if ((s[1] & 0xC0) == 0x80) {
            *cp = ((uint32_t)(c & 0x1F) << 6) | (s[1] & 0x3F);
            return 2;
        }
    } else if (c >= 0xE0 && c <= 0xEF) {
        if ((s[1] & 0xC0) == 0x80 && (s[2] & 0xC0) == 0x80) {
            uint32_t v =
                ((uint32_t)(c & 0x0F) << 12) | ((uint32_t)(s[1] & 0x3F) << 6) | (s[2] & 0x3F);
            if (v >= 0x800 && (v < 0xD800 || v > 0xDFFF)) {
                *cp = v;
                return 3;
            }
        }
    } else if (c >= 0xF0 && c <= 0xF4) {
        if ((s[1] & 0xC0) == 0x80 && (s[2] & 0xC0) == 0x80 && (s[3] & 0xC0) == 0x80) {
            uint32_t v = ((uint32_t)(c & 0x07) << 18) | ((uint32_t)(s[1] & 0x3F) << 12) |
                         ((uint32_t)(s[2] & 0x3F) << 6) | (s[3] & 0x3F);
            if (v >= 0x10000 && v <= 0x10FFFF) {
                *cp = v;
                return 4;
            }
        }
    }
    *cp = c;
    return 1;
}

struct fold_range {
    uint16_t lo, hi;
    char rep[3];
};

/* Latin-1 Supplement letters and Latin Extended-A, folded to ASCII. */
static const struct fold_range fold_table[] = {
    {0x00AA, 0x00AA, "a"},  {0x00BA, 0x00BA, "o"},  {0x00C0, 0x00C5, "a"},  {0x00C6, 0x00C6, "ae"},
    {0x00C7, 0x00C7, "c"},  {0x00C8, 0x00CB, "e"},  {0x00CC, 0x00CF, "i"},  {0x00D0, 0x00D0, "d"},
    {0x00D1, 0x00D1, "n"},  {0x00D2, 0x00D6, "o"},  {0x00D8, 0x00D8, "o"},  {0x00D9, 0x00DC, "u"},
    {0x00DD, 0x00DD, "y"},  {0x00DE, 0x00DE, "th"}, {0x00DF, 0x00DF, "ss"}, {0x00E0, 0x00E5, "a"},
    {0x00E6, 0x00E6, "ae"}, {0x00E7, 0x00E7, "c"},  {0x00E8, 0x00EB, "e"},  {0x00EC, 0x00EF, "i"},
    {0x00F0, 0x00F0, "d"},  {0x00F1, 0x00F1, "n"},  {0x00F2, 0x00F6, "o"},  {0x00F8, 0x00F8, "o"},
    {0x00F9, 0x00FC, "u"},  {0x00FD, 0x00FD, "y"},  {0x00FE, 0x00FE, "th"}, {0x00FF, 0x00FF, "y"},
    {0x0100, 0x0105, "a"},  {0x0106, 0x010D, "c"},  {0x010E, 0x0111, "d"},  {0x0112, 0x011B, "e"},
    {0x011C, 0x0123, "g"},  {0x0124, 0x0127, "h"},  {0x0128, 0x0131, "i"},  {0x0132, 0x0133, "ij"},
    {0x0134, 0x0135, "j"},  {0x0136, 0x0138, "k"},  {0x0139, 0x0142, "l"},  {0x0143, 0x014B, "n"},
    {0x014C, 0x0151, "o"},  {0x0152, 0x0153, "oe"}, {0x0154, 0x0159, "r"},  {0x015A, 0x0161, "s"},
    {0x0162, 0x0167, "t"},  {0x0168, 0x0173, "u"},  {0x0174, 0x0175, "w"},  {0x0176, 0x0178, "y"},
    {0x0179, 0x017E, "z"},  {0x017F, 0x017F, "s"},
};

enum { FOLD_SEP = -1, FOLD_COMMA = -2 };

/* Maps a code point: returns the number of ASCII chars written to rep (1-2), 0 for characters
 * that vanish (apostrophes, combining accents), FOLD_SEP or FOLD_COMMA. */
static int fold_cp(uint32_t cp, char rep[2])
{
    if (cp < 0x80) {
        if ((cp >= 'a' && cp <= 'z') || is_digit((int)cp)) {
            rep[0] = (char)cp;
            return 1;
        }
        if (cp >= 'A' && cp <= 'Z') {
            rep[0] = (char)(cp - 'A' + 'a');
            return 1;
        }
        if (cp == '\'' || cp == '`')
            return 0;
        return cp == ',' ? FOLD_COMMA : FOLD_SEP;
    }
    if (cp == 0x2018 || cp == 0x2019 || cp == 0x02BC || cp == 0x02BB || cp == 0x00B4 ||
        (cp >= 0x0300 && cp <= 0x036F))
        return 0;
    if (cp == 0xFF0C || cp == 0x060C)
        return FOLD_COMMA; /* fullwidth and Arabic comma */
    for (size_t i = 0; i < sizeof(fold_table) / sizeof(fold_table[0]); i++) {
        if (cp >= fold_table[i].lo && cp <= fold_table[i].hi) {
            rep[0] = fold_table[i].rep[0];
            if (fold_table[i].rep[1]) {
                rep[1] = fold_table[i].rep[1];
                return 2;
            }
            return 1;
        }
    }
    return FOLD_SEP;
}

struct ntok {
    uint16_t off; /* into norm.buf */
    uint8_t len;
    uint16_t seg; /* comma segment */
};

struct norm {
    int n;
    size_t used;
    struct ntok t[NORM_MAX_TOKENS];
    char buf[NORM_MAX_BYTES];
};

/* Legal forms stripped at the end of non-person names (and used to recognise ", S.A."-style
 * trailing segments). Multi-token forms are written with spaces; matching is token-wise. */
/* clang-format off */
static const char *const legal_tail[] = {
    "limited liability company", "limited liability partnership", "joint stock company",
    "llc", "l l c", "ltd", "limited", "inc", "incorporated", "corp", "corporation", "co",
    "company", "sa", "s a", "de c v", "c v", "s de r l", "s r l", "srl", "sarl", "s a r l",
    "gmbh", "kg", "plc", "bv", "b v", "nv", "n v", "ag", "jsc", "ojsc", "pjsc", "cjsc", "llp",
    "lp", "pvt", "pte", "pty", "fze", "fzco", "fzc", "fz", "dmcc", "ltda", "sirketi",
    "anonim", "as", "a s", "ooo", "oao", "zao", "pao", "ao", "eood", "ood", "sal", "s a l",
    "spa", "s p a", "sas", "s a s", "ca", "c a", "sae", "oy", "ab", "aps", "kft", "zrt", "doo",
    "d o o", "sdn bhd", "bhd", "tov", "pllc", "ulc", "l c"
};
/* clang-format on */

/* Legal forms stripped at the start of non-person names: only unambiguous ones. */
/* clang-format off */
static const char *const legal_head[] = {
    "limited liability company", "public joint stock company", "open joint stock company",
    "closed joint stock company", "private joint stock company", "joint stock company",
    "obshchestvo s ogranichennoi otvetstvennostyu",
    "obshchestvo s ogranichennoy otvetstvennostyu", "publichnoe aktsionernoe obshchestvo",
    "otkrytoe aktsionernoe obshchestvo", "zakrytoe aktsionernoe obshchestvo",
    "aktsionernoe obshchestvo", "ooo", "oao", "zao", "pao", "jsc", "ojsc", "pjsc", "cjsc", "llc"
};
/* clang-format on */

static const char *const generational[] = {"jr", "sr", "jnr", "snr", "ii", "iii", "iv"};

/* Does phrase (space-separated words) equal tokens ord[pos..pos+k) of nm? k = word count.
 * Words of 5+ letters also match with one typo ("limted liability company"). */
static int phrase_eq(const struct norm *nm, const int *ord, int pos, const char *phrase)
{
    const char *p = phrase;

    for (int i = pos;; i++) {
        const char *w = p;
        size_t wl;
        const struct ntok *t = &nm->t[ord[i]];

        while (*p && *p != ' ')
            p++;
        wl = (size_t)(p - w);
        if ((wl != t->len || memcmp(w, nm->buf + t->off, wl) != 0) &&
            (wl < 5 || osa_distance(w, wl, nm->buf + t->off, t->len) > 1))
            return 0;
        if (!*p)
            return 1;
        p++;
    }
}

static int phrase_words(const char *phrase)
{
    int k = 1;

    for (; *phrase; phrase++)
        k += *phrase == ' ';
    return k;
}

/* Strips trailing legal forms from ord[0..cnt), keeping at least keep tokens. New count. */
static int strip_tail(const struct norm *nm, const int *ord, int cnt, int keep)
{
    int again = 1;

    while (again) {
        again = 0;
        for (size_t i = 0; i < sizeof(legal_tail) / sizeof(legal_tail[0]); i++) {
            int k = phrase_words(legal_tail[i]);

            if (cnt - k >= keep && phrase_eq(nm, ord, cnt - k, legal_tail[i])) {
                cnt -= k;
                again = 1;
                break;
            }
        }
    }
    return cnt;
}

/* Number of leading tokens of ord[0..cnt) that are legal forms, leaving at least one. */
static int strip_head(const struct norm *nm, const int *ord, int cnt)
{
    int skip = 0, again = 1;

    while (again) {
        again = 0;
        for (size_t i = 0; i < sizeof(legal_head) / sizeof(legal_head[0]); i++) {
            int k = phrase_words(legal_head[i]);

            if (cnt - skip - k >= 1 && phrase_eq(nm, ord + skip, 0, legal_head[i])) {
                skip += k;
                again = 1;
                break;
            }
        }
    }
    return skip;
}

/* Is the segment ord[0..cnt) only a legal form or a generational suffix? */
static int segment_is_suffix(const struct norm *nm, const int *ord, int cnt)
{
    if (cnt == 1) {
        for (size_t i = 0; i < sizeof(generational) / sizeof(generational[0]); i++)
            if (phrase_eq(nm, ord, 0, generational[i]))
                return 1;
    }
    return strip_tail(nm, ord, cnt, 0) == 0;
}

/* Splits the NUL-terminated in into folded tokens with comma segment numbers. */
static void fold_tokens(const char *in, struct norm *nm)
{
    const unsigned char *p = (const unsigned char *)in;
    int open = 0;
    uint16_t seg = 0;

    nm->n = 0;
    nm->used = 0;
    while (*p) {
        uint32_t cp;
        char rep[2];
        int k;

        p += utf8_next(p, &cp);
        k = fold_cp(cp, rep);
        if (k == 0)
            continue;
        if (k < 0) {
            open = 0;
            if (k == FOLD_COMMA && seg < UINT16_MAX)
                seg++;
            continue;
        }
        if (!open) {
            if (nm->n == NORM_MAX_TOKENS || nm->used + 1 >= NORM_MAX_BYTES)
                break;
            nm->t[nm->n].off = (uint16_t)nm->used;
            nm->t[nm->n].len = 0;
            nm->t[nm->n].seg = seg;
            nm->n++;
            open = 1;
        }
        for (int i = 0; i < k; i++) {
            struct ntok *t = &nm->t[nm->n - 1];

            if (t->len < TOK_MAX_LEN && nm->used < NORM_MAX_BYTES) {
                nm->buf[nm->used++] = rep[i];
                t->len++;
            }
        }
    }
}

/* screen_normalize(), also reporting where the surname is: for the person form "SURNAME, Given"
 * the surname's tokens are the *sur_n tokens of out from token index *sur_at (the given names
 * come first); 0 for other names (surname unknown). */
static size_t normalize_ex(const char *in, char *out, size_t outlen, int *sur_at, int *sur_n)
{
    struct norm nmbuf, *nm = &nmbuf;
    int ord[NORM_MAX_TOKENS];
    int seg_start[NORM_MAX_TOKENS], seg_len[NORM_MAX_TOKENS];
    int nseg = 0, cnt = 0, first = 0;
    size_t w = 0;

    *sur_at = *sur_n = 0;
    if (!out || outlen == 0)
        return 0;
    out[0] = '\0';
    if (!in)
        return 0;
    fold_tokens(in, nm);

    /* group tokens into non-empty comma segments (tokens are in segment order) */
    for (int i = 0; i < nm->n; i++) {
        ord[i] = i;
        if (i == 0 || nm->t[i].seg != nm->t[i - 1].seg) {
            seg_start[nseg] = i;
            seg_len[nseg] = 0;
            nseg++;
        }
        seg_len[nseg - 1]++;
    }
    while (nseg > 1 && segment_is_suffix(nm, ord + seg_start[nseg - 1], seg_len[nseg - 1]))
        nseg--;
    if (nseg == 2) {
        /* "SURNAME, Given" -> "given surname" */
        for (int i = 0; i < seg_len[1]; i++)
            ord[cnt++] = seg_start[1] + i;
        for (int i = 0; i < seg_len[0]; i++)
            ord[cnt++] = seg_start[0] + i;
        *sur_at = seg_len[1];
        *sur_n = seg_len[0];
    } else if (nseg > 0) {
        cnt = seg_start[nseg - 1] + seg_len[nseg - 1];
        cnt = strip_tail(nm, ord, cnt, 1);
        first = strip_head(nm, ord, cnt);
    }

    for (int i = first; i < cnt; i++) {
        const struct ntok *t = &nm->t[ord[i]];
        size_t need = t->len + (w ? 1u : 0u);

        if (w + need + 1 > outlen)
            break;
        if (w)
            out[w++] = ' ';
        memcpy(out + w, nm->buf + t->off, t->len);
        w += t->len;
    }
    out[w] = '\0';
    return w;
}

size_t screen_normalize(const char *in, char *out, size_t outlen)
{
    int at, n;

    return normalize_ex(in, out, outlen, &at, &n);
}

/* ------------------------------------------------------------------------------------------ */
/* Jaro-Winkler                                                                                */
/* ------------------------------------------------------------------------------------------ */

double screen_jaro_winkler(const char *a, size_t alen, const char *b, size_t blen)
{
    unsigned char fa_stack[128], fb_stack[128];
    unsigned char *fa = fa_stack, *fb = fb_stack;
    size_t win, m = 0, t = 0, k = 0, pre = 0;
    double jaro;

    if (!a)
        alen = 0;
    if (!b)
        blen = 0;
    if (alen == 0 && blen == 0)
        return 1.0;
    if (alen == 0 || blen == 0)
        return 0.0;
    if (alen > sizeof(fa_stack) || blen > sizeof(fb_stack)) {
        fa = calloc(alen, 1);
        fb = calloc(blen, 1);
        if (!fa || !fb) {
            free(fa);
            free(fb);
            return 0.0;
        }
    } else {
        memset(fa, 0, alen);
        memset(fb, 0, blen);
    }
    win = (alen > blen ? alen : blen) / 2;
    win = win > 0 ? win - 1 : 0;
    for (size_t i = 0; i < alen; i++) {
        size_t lo = i > win ? i - win : 0;
        size_t hi = i + win + 1 < blen ? i + win + 1 : blen;

        for (size_t j = lo; j < hi; j++) {
            if (!fb[j] && a[i] == b[j]) {
                fa[i] = fb[j] = 1;
                m++;
                break;
            }
        }
    }
    if (m > 0) {
        for (size_t i = 0; i < alen; i++) {
            if (!fa[i])
                continue;
            while (!fb[k])
                k++;
            if (a[i] != b[k])
                t++;
            k++;
        }
    }
    if (fa != fa_stack) {
        free(fa);
        free(fb);
    }
    if (m == 0)
        return 0.0;
    jaro = ((double)m / (double)alen + (double)m / (double)blen +
            ((double)m - (double)t / 2.0) / (double)m) /
           3.0;
    while (pre < 4 && pre < alen && pre < blen && a[pre] == b[pre])
        pre++;
    return jaro + (double)pre * 0.1 * (1.0 - jaro);
}

/* ------------------------------------------------------------------------------------------ */
/* Token-set scoring                                                                           */
/* ------------------------------------------------------------------------------------------ */

/* Tokens of one normalised name; strings borrowed from the normalised buffer or the index. */
struct toks {
    int n;
    const char *s[SCORE_MAX_TOK];
    uint8_t len[SCORE_MAX_TOK];
    uint8_t minor[SCORE_MAX_TOK];
};

/* clang-format off */
static const char *const particles[] = {
    "al", "el", "ul", "bin", "ibn", "bint", "binti", "de", "del", "della", "der", "den", "da",
    "das", "do", "dos", "di", "du", "la", "le", "van", "von", "y", "the", "of", "and", "et"
};
/* clang-format on */

/* Minor tokens: single characters and name particles. */
static int is_minor(const char *s, size_t len)
{
    if (len <= 1)
        return 1;
    for (size_t i = 0; i < sizeof(particles) / sizeof(particles[0]); i++)
        if (strlen(particles[i]) == len && memcmp(particles[i], s, len) == 0)
            return 1;
    return 0;
}

/* Splits a normalised (space-separated) string into at most SCORE_MAX_TOK tokens. */
static void split_tokens(const char *s, struct toks *t)
{
    t->n = 0;
    while (*s && t->n < SCORE_MAX_TOK) {
        const char *e;

        while (*s == ' ')
            s++;
        if (!*s)
            break;
        e = s;
        while (*e && *e != ' ')
            e++;
        t->s[t->n] = s;
        t->len[t->n] = (uint8_t)(e - s > TOK_MAX_LEN ? TOK_MAX_LEN : e - s);
        t->minor[t->n] = (uint8_t)is_minor(s, (size_t)(e - s));
        t->n++;
        s = e;
    }
}

/* Similarity of two regular tokens: 1 if equal; Jaro-Winkler if they are one edit apart (a
 * typo); Jaro-Winkler * D2_FACTOR if two edits apart and long (a transliteration variant such
 * as mohammed / muhammad); otherwise, or below TOK_MIN, 0 = "cannot pair". Plain
 * Jaro-Winkler rates different names sharing a prefix (maria / martin, khan / khansa,
 * musa / mustafa) at 0.80-0.93, which on the real list flagged many ordinary names; the edit
 * distance gate removes that while keeping every single typo. *weak (out) is set for short
 * tokens that differ in their first letter (wang / fang, caro / karo): such a pair gets
 * TOK_MIN and counts only next to enough exact evidence (see score_tokens). */
static double tok_sim(const char *a, size_t la, const char *b, size_t lb, int *weak)
{
    size_t maxlen = la > lb ? la : lb;
    double jw;
    int d;

    *weak = 0;
    if (la == lb && memcmp(a, b, la) == 0)
        return 1.0;
    jw = screen_jaro_winkler(a, la, b, lb);
    if (jw < TOK_MIN)
        return 0.0;
    d = osa_distance(a, la, b, lb);
    if (d == 1 && a[0] != b[0] && maxlen <= SHORT_TOK) {
        *weak = 1;
        return TOK_MIN;
    }
    if (d == 1) {
        /* Jaro-Winkler underrates some single typos (sirhan / shrhan = 0.84 because the
         * substituted letter also matches elsewhere): floor one edit at 1 - 1/(2 * len) */
        double floor1 = 1.0 - 0.5 / (double)maxlen;

        return jw < floor1 ? floor1 : jw;
    }
    if (d == 2 && maxlen >= D2_MIN_LEN) {
        jw *= D2_FACTOR;
        return jw < TOK_MIN ? 0.0 : jw;
    }
    return 0.0;
}

static double powi(double b, int e)
{
    double r = 1.0;

    while (e-- > 0)
        r *= b;
    return r;
}

/* Coverage penalty P (see the file comment) for k regular pairs, uq / ul unpaired regular
 * tokens on the query / listed side and minor unpaired minor tokens. Monotone: fewer pairs and
 * more unpaired tokens never raise it, which makes it usable as a candidate bound. */
static double penalty(int k, int uq, int ul, int minor)
{
    int u = uq + ul;

    if (k <= 0)
        return 0.0;
    if (k == 1)
        return powi(P_SINGLE, u) * powi(P_SINGLE_MINOR, minor);
    if (u == 0)
        return powi(P_MINOR, minor);
    if (uq == 0 || ul == 0)
        return P_GENTLE * powi(P_EXTRA, u - 1) * powi(P_MINOR, minor);
    return powi(P_EXTRA, u) * powi(P_MINOR, minor);
}

/* "Regular" flags: minor tokens count as regular when a name has no regular token at all. */
static int regular_flags(const struct toks *t, uint8_t *reg)
{
    int nreg = 0;

    for (int i = 0; i < t->n; i++)
        nreg += !t->minor[i];
    for (int i = 0; i < t->n; i++)
        reg[i] = (uint8_t)(nreg ? !t->minor[i] : 1);
    return nreg ? nreg : t->n;
}

/* How score_tokens paired two names: bit i of q_paired / l_paired = token i took part in a pair
 * that counted (regular pairs after the weak-pair rule, and equal minor tokens). */
struct pairing {
    uint32_t q_paired, l_paired;
    uint32_t q_reg, l_reg; /* regular tokens (regular_flags) */
    int k, fuzzy;
};

/* Score of two tokenised names, 0..1 (see the file comment); *pr (may be NULL) gets the pairs. */
static double score_tokens(const struct toks *q, const struct toks *l, struct pairing *pr)
{
    double sim[SCORE_MAX_TOK][SCORE_MAX_TOK];
    uint8_t weak[SCORE_MAX_TOK][SCORE_MAX_TOK];
    uint8_t qreg[SCORE_MAX_TOK], lreg[SCORE_MAX_TOK];
    int pi[SCORE_MAX_TOK], pj[SCORE_MAX_TOK], np = 0, exact_len = 0;
    uint8_t qused[SCORE_MAX_TOK] = {0}, lused[SCORE_MAX_TOK] = {0};
    double sw = 0.0, wsum = 0.0;
    int k = 0, uq = 0, ul = 0, minor = 0, fuzzy = 0;

    if (pr)
        memset(pr, 0, sizeof(*pr));
    if (q->n == 0 || l->n == 0)
        return 0.0;
    regular_flags(q, qreg);
    regular_flags(l, lreg);
    for (int i = 0; i < q->n; i++) {
        for (int j = 0; j < l->n; j++) {
            double s = 0.0;
            int wk = 0;

            if (qreg[i] != lreg[j]) {
                s = 0.0;
            } else if (!qreg[i]) {
                s = (q->len[i] == l->len[j] && memcmp(q->s[i], l->s[j], q->len[i]) == 0);
            } else {
                s = tok_sim(q->s[i], q->len[i], l->s[j], l->len[j], &wk);
            }
            sim[i][j] = s;
            weak[i][j] = (uint8_t)wk;
        }
    }
    /* greedy one-to-one pairing, best similarity first, longer tokens first on ties */
    for (;;) {
        int bi = -1, bj = -1;
        double bs = 0.0;
        int bw = 0;

        for (int i = 0; i < q->n; i++) {
            if (qused[i])
                continue;
            for (int j = 0; j < l->n; j++) {
                int w = q->len[i] + l->len[j];

                if (lused[j] || sim[i][j] <= 0.0)
                    continue;
                if (sim[i][j] > bs || (sim[i][j] == bs && w > bw)) {
                    bs = sim[i][j];
                    bw = w;
                    bi = i;
                    bj = j;
                }
            }
        }
        if (bi < 0)
            break;
        qused[bi] = lused[bj] = 1;
        if (qreg[bi]) {
            pi[np] = bi;
            pj[np] = bj;
            np++;
            if (bs >= 1.0)
                exact_len += q->len[bi];
        }
    }
    for (int p = 0; p < np; p++) {
        int i = pi[p], j = pj[p];
        double w = (double)(q->len[i] + l->len[j]) / 2.0;

        if (weak[i][j] && exact_len < WEAK_EVIDENCE) {
            qused[i] = lused[j] = 0; /* too little else matches: a different name */
            continue;
        }
        fuzzy += sim[i][j] < 1.0;
        k++;
        sw += sim[i][j] * w;
        wsum += w;
    }
    if (pr) {
        for (int i = 0; i < q->n; i++) {
            pr->q_paired |= (uint32_t)qused[i] << i;
            pr->q_reg |= (uint32_t)qreg[i] << i;
        }
        for (int j = 0; j < l->n; j++) {
            pr->l_paired |= (uint32_t)lused[j] << j;
            pr->l_reg |= (uint32_t)lreg[j] << j;
        }
        pr->k = k;
        pr->fuzzy = fuzzy;
    }
    if (k == 0)
        return 0.0;
    for (int i = 0; i < q->n; i++) {
        if (!qused[i]) {
            if (qreg[i])
                uq++;
            else
                minor++;
        }
    }
    for (int j = 0; j < l->n; j++) {
        if (!lused[j]) {
            if (lreg[j])
                ul++;
            else
                minor++;
        }
    }
    return (sw / wsum) * penalty(k, uq, ul, minor) * powi(P_FUZZY, fuzzy - 1);
}

/* Normalises and tokenises a raw name into caller-owned buf (NORM_MAX_BYTES + 1) and t. */
static void name_tokens(const char *name, char *buf, struct toks *t)
{
    screen_normalize(name, buf, NORM_MAX_BYTES + 1);
    split_tokens(buf, t);
}

double screen_name_score(const char *a, const char *b)
{
    char bufa[NORM_MAX_BYTES + 1], bufb[NORM_MAX_BYTES + 1];
    struct toks ta, tb;

    name_tokens(a, bufa, &ta);
    name_tokens(b, bufb, &tb);
    return score_tokens(&ta, &tb, NULL);
}

/* ------------------------------------------------------------------------------------------ */
/* The list and its index                                                                     */
/* ------------------------------------------------------------------------------------------ */

struct sname {
    long entry_id;
    size_t raw_off; /* listed name as added, in raw[] */
    size_t tok_off; /* vocabulary ids, in tok[] */
    uint8_t ntok;
    uint8_t nreg;      /* regular tokens (all tokens if none is regular) */
    uint8_t person;    /* added with type "individual" */
    uint32_t sur_mask; /* bit j: token j is the surname ("SURNAME, Given"); 0 = not known */
};

struct vtok {
    uint32_t off; /* in vpool[] */
    uint8_t len;
    uint8_t minor;
    uint8_t common;   /* screen_common_token (set by screen_list_build) */
    uint32_t letters; /* bit c: the token has letter 'a' + c (or a digit: bit 26) */
};

/* An entry's secondary facts as the index keeps them. */
struct efacts {
    long entry_id;
    uint8_t ndob, nnat, dob_cut;
    screen_dob dob[SCREEN_MAX_DOB];
    char nat[SCREEN_MAX_NAT][4]; /* ISO alpha-2 or alpha-3 codes */
};

struct keypair {
    uint64_t h;
    uint32_t vid;
};

struct screen_list {
    struct sname *names;
    size_t nnames, cap_names;
    char *raw; /* NUL-terminated listed names */
    size_t raw_len, cap_raw;
    uint32_t *tok; /* per-name vocabulary ids */
    size_t ntok, cap_tok;

    struct vtok *vocab;
    size_t nvocab, cap_vocab;
    char *vpool; /* token bytes, not NUL-terminated */
    size_t vpool_len, cap_vpool;
    uint32_t *vhash; /* open addressing: vocabulary id + 1, 0 = empty */
    size_t vhash_cap;

    int built;
    uint32_t *post_off; /* nvocab + 1 offsets into post[] */
    uint32_t *post;     /* name ids */
    uint64_t *key_hash; /* sorted unique deletion-key hashes */
    uint32_t *key_off;  /* nkeys + 1 offsets into key_vid[] */
    uint32_t *key_vid;
    size_t nkeys;

    struct efacts *facts; /* sorted by entry_id once built */
    size_t nfacts, cap_facts;
};

screen_list *screen_list_new(void)
{
    screen_list *l = calloc(1, sizeof(*l));

    if (!l)
        errno = ENOMEM;
    return l;
}

void screen_list_free(screen_list *l)
{
    if (!l)
        return;
    free(l->names);
    free(l->raw);
    free(l->tok);
    free(l->vocab);
    free(l->vpool);
    free(l->vhash);
    free(l->post_off);
    free(l->post);
    free(l->key_hash);
    free(l->key_off);
    free(l->key_vid);
    free(l->facts);
    free(l);
}

size_t screen_list_count(const screen_list *l)
{
    return l ? l->nnames : 0;
}

static int vhash_insert(uint32_t *tab, size_t cap, const screen_list *l, uint32_t vid)
{
    const struct vtok *v = &l->vocab[vid];
    size_t i = (size_t)hash_bytes(l->vpool + v->off, v->len) & (cap - 1);

    while (tab[i])
        i = (i + 1) & (cap - 1);
    tab[i] = vid + 1;
    return 0;
}

/* Which letters a token has: two tokens within two edits differ in at most four of them. */
static uint32_t letter_mask(const char *s, size_t len)
{
    uint32_t m = 0;

    for (size_t i = 0; i < len; i++)
        m |= s[i] >= 'a' && s[i] <= 'z' ? 1u << (s[i] - 'a') : 1u << 26;
    return m;
}

/* Returns the vocabulary id of token s (interning it), or -1 on ENOMEM. */
static long intern(screen_list *l, const char *s, size_t len)
{
    size_t i;
    uint32_t vid;

    if (l->vhash_cap == 0 || (l->nvocab + 1) * 2 > l->vhash_cap) {
        size_t ncap = l->vhash_cap ? l->vhash_cap * 2 : 1024;
        uint32_t *nt = calloc(ncap, sizeof(*nt));

        if (!nt) {
            errno = ENOMEM;
            return -1;
        }
        for (size_t v = 0; v < l->nvocab; v++)
            vhash_insert(nt, ncap, l, (uint32_t)v);
        free(l->vhash);
        l->vhash = nt;
        l->vhash_cap = ncap;
    }
    i = (size_t)hash_bytes(s, len) & (l->vhash_cap - 1);
    while (l->vhash[i]) {
        const struct vtok *v = &l->vocab[l->vhash[i] - 1];

        if (v->len == len && memcmp(l->vpool + v->off, s, len) == 0)
            return (long)(l->vhash[i] - 1);
        i = (i + 1) & (l->vhash_cap - 1);
    }
    if (l->nvocab >= UINT32_MAX - 1 || l->vpool_len + len > UINT32_MAX ||
        grow((void **)&l->vocab, &l->cap_vocab, l->nvocab + 1, sizeof(*l->vocab)) ||
        grow((void **)&l->vpool, &l->cap_vpool, l->vpool_len + len, 1)) {
        errno = ENOMEM;
        return -1;
    }
    vid = (uint32_t)l->nvocab++;
    l->vocab[vid].letters = letter_mask(s, len);
    l->vocab[vid].common = 0;
    l->vocab[vid].off = (uint32_t)l->vpool_len;
    l->vocab[vid].len = (uint8_t)len;
    l->vocab[vid].minor = (uint8_t)is_minor(s, len);
    memcpy(l->vpool + l->vpool_len, s, len);
    l->vpool_len += len;
    l->vhash[i] = vid + 1;
    return (long)vid;
}

int screen_list_add(screen_list *l, long entry_id, const char *name, const char *type)
{
    char buf[NORM_MAX_BYTES + 1];
    struct toks t;
    struct sname *sn;
    size_t rl;
    int nreg = 0, sur_at, sur_n;

    if (!l || !name || l->built) {
        errno = EINVAL;
        return -1;
    }
    if (type && (ascii_ieq(type, "vessel") || ascii_ieq(type, "aircraft")))
        return 0;
    normalize_ex(name, buf, sizeof(buf), &sur_at, &sur_n);
    split_tokens(buf, &t);
    if (t.n == 0)
        return 0;
    rl = strlen(name) + 1;
    if (l->nnames >= UINT32_MAX - 1 ||
        grow((void **)&l->names, &l->cap_names, l->nnames + 1, sizeof(*l->names)) ||
        grow((void **)&l->raw, &l->cap_raw, l->raw_len + rl, 1) ||
        grow((void **)&l->tok, &l->cap_tok, l->ntok + (size_t)t.n, sizeof(*l->tok))) {
        errno = ENOMEM;
        return -1;
    }
    for (int i = 0; i < t.n; i++) {
        long vid = intern(l, t.s[i], t.len[i]);

        if (vid < 0)
            return -1;
        l->tok[l->ntok + (size_t)i] = (uint32_t)vid;
        nreg += !t.minor[i];
    }
    sn = &l->names[l->nnames++];
    sn->entry_id = entry_id;
    sn->raw_off = l->raw_len;
    sn->tok_off = l->ntok;
    sn->ntok = (uint8_t)t.n;
    sn->nreg = (uint8_t)(nreg ? nreg : t.n);
    sn->person = (uint8_t)(type && ascii_ieq(type, "individual"));
    sn->sur_mask = 0;
    for (int j = sur_at; j < sur_at + sur_n && j < t.n; j++)
        sn->sur_mask |= 1u << j;
    memcpy(l->raw + l->raw_len, name, rl);
    l->raw_len += rl;
    l->ntok += (size_t)t.n;
    return 0;
}

struct sdn_load {
    screen_list *l;
    long entry_id;
    const char *type; /* of the entry whose a.k.a.s are being added */
    int with_akas;
    long added;
    int failed;
};

static int load_aka_cb(const char *name, void *ud)
{
    struct sdn_load *s = ud;
    size_t before = s->l->nnames;

    if (screen_list_add(s->l, s->entry_id, name, s->type) != 0) {
        s->failed = 1;
        return 1;
    }
    s->added += (long)(s->l->nnames - before);
    return 0;
}

static int load_sdn_cb(const screen_entry *e, void *ud)
{
    struct sdn_load *s = ud;
    size_t before = s->l->nnames;

    if (e->type && (ascii_ieq(e->type, "vessel") || ascii_ieq(e->type, "aircraft")))
        return 0;
    if (screen_list_add(s->l, e->entry_id, e->name, e->type) != 0) {
        s->failed = 1;
        return 1;
    }
    s->added += (long)(s->l->nnames - before);
    if (s->with_akas) {
        s->entry_id = e->entry_id;
        s->type = e->type;
        if (screen_remarks_akas(e->remarks, load_aka_cb, s) < 0)
            return 1;
    }
    return 0;
}

long screen_list_add_sdn(screen_list *l, const char *buf, size_t len, int with_akas, char *err,
                         size_t errlen)
{
    struct sdn_load s = {l, 0, NULL, with_akas, 0, 0};
    long rc;

    if (!l || l->built) {
        set_err(err, errlen, "invalid list");
        errno = EINVAL;
        return -1;
    }
    rc = screen_parse_sdn(buf, len, load_sdn_cb, &s, err, errlen);
    if (s.failed)
        set_err(err, errlen, "out of memory");
    return rc < 0 ? -1 : s.added;
}

struct alt_load {
    screen_list *l;
    const long *ids; /* sorted entry ids already in the list */
    size_t nids;
    long added;
    int failed;
};

static int cmp_long(const void *a, const void *b)
{
    long x = *(const long *)a, y = *(const long *)b;

    return (x > y) - (x < y);
}

static int load_alt_cb(const screen_entry *e, void *ud)
{
    struct alt_load *s = ud;
    size_t before = s->l->nnames;

    if (!bsearch(&e->entry_id, s->ids, s->nids, sizeof(*s->ids), cmp_long))
        return 0;
    if (screen_list_add(s->l, e->entry_id, e->name, NULL) != 0) {
        s->failed = 1;
        return 1;
    }
    s->added += (long)(s->l->nnames - before);
    return 0;
}

long screen_list_add_alt(screen_list *l, const char *buf, size_t len, char *err, size_t errlen)
{
    struct alt_load s = {l, NULL, 0, 0, 0};
    long *ids;
    long rc;

    if (!l || l->built) {
        set_err(err, errlen, "invalid list");
        errno = EINVAL;
        return -1;
    }
    ids = malloc((l->nnames ? l->nnames : 1) * sizeof(*ids));
    if (!ids) {
        set_err(err, errlen, "out of memory");
        errno = ENOMEM;
        return -1;
    }
    for (size_t i = 0; i < l->nnames; i++)
        ids[i] = l->names[i].entry_id;
    qsort(ids, l->nnames, sizeof(*ids), cmp_long);
    s.ids = ids;
    s.nids = l->nnames;
    rc = screen_parse_alt(buf, len, load_alt_cb, &s, err, errlen);
    if (s.failed)
        set_err(err, errlen, "out of memory");
    free(ids);
    return rc < 0 ? -1 : s.added;
}

/* Writes the hashes of the deletion keys of token s (itself and each one-character deletion,
 * without repeats for doubled letters) into keys (room for TOK_MAX_LEN + 1). Returns count. */
static int deletion_keys(const char *s, size_t len, uint64_t *keys)
{
    char tmp[TOK_MAX_LEN + 1];
    int n = 0;

    keys[n++] = hash_bytes(s, len);
    if (len < 2)
        return n;
    for (size_t i = 0; i < len; i++) {
        if (i > 0 && s[i] == s[i - 1])
            continue;
        memcpy(tmp, s, i);
        memcpy(tmp + i, s + i + 1, len - i - 1);
        keys[n++] = hash_bytes(tmp, len - 1);
    }
    return n;
}

static int cmp_keypair(const void *a, const void *b)
{
    const struct keypair *x = a, *y = b;

    if (x->h != y->h)
        return x->h < y->h ? -1 : 1;
    return (x->vid > y->vid) - (x->vid < y->vid);
}

/* clang-format off */
/* Very common given names and surnames of many cultures, normalised (screen_normalize) and
 * sorted: a partial name made only of these is weak evidence on its own (docs/screening.md).
 * Written for Loanflow from general knowledge of name frequencies; not derived from any list
 * screened against or from the false-positive test names. */
static const char *const common_names[] = {
    "abbas", "abdel", "abdul", "abdullah", "abdullahi", "abubakar", "adams", "adeyemi", "aguilar",
    "agus", "ahmad", "ahmadi", "ahmed", "ahmet", "aisha", "akira", "alain", "aleksandr",
    "alekseev", "aleksey", "alessandro", "alexander", "alexey", "ali", "allen", "almeida",
    "alvarez", "alves", "amanda", "amina", "amit", "amy", "ana", "anderson", "andre", "andrea",
    "andreas", "andrei", "andres", "andrew", "andrey", "anh", "anil", "anita", "anna", "anne",
    "anthony", "antonio", "arslan", "arun", "ashley", "ashok", "aslan", "aydin", "ayse", "aziz",
    "baker", "barbara", "becker", "bello", "benjamin", "bernard", "betty", "bianchi", "boateng",
    "bondarenko", "brandon", "brian", "brown", "bruno", "budi", "bui", "campbell", "carlos",
    "carmen", "carol", "carter", "carvalho", "castillo", "celik", "chavez", "chen", "cho", "choi",
    "christopher", "clark", "colombo", "costa", "cruz", "dang", "daniel", "das", "david",
    "deborah", "deepak", "demir", "dewi", "diaz", "diego", "dmitri", "dmitry", "do", "dogan",
    "donald", "donna", "dorothy", "dubois", "duc", "duong", "durand", "eduardo", "edward",
    "egorov", "elena", "elizabeth", "emily", "emma", "emmanuel", "eric", "esposito", "fang",
    "fatima", "fatma", "fedorov", "felipe", "fernando", "ferrari", "ferreira", "fischer", "flores",
    "francesco", "francisco", "francois", "gabriel", "gabriela", "gao", "garcia", "gary", "george",
    "giovanni", "giulia", "giuseppe", "gomes", "gomez", "gonzalez", "grace", "green", "guo",
    "gupta", "gutierrez", "haddad", "hall", "hamed", "hamid", "hans", "harris", "hasan", "hassan",
    "he", "hernandez", "herrera", "hill", "hiroshi", "ho", "hoang", "hoffmann", "hong", "hosein",
    "hossein", "hosseini", "hu", "hua", "huang", "husain", "huseyin", "hussain", "hussein", "hyun",
    "ibrahim", "igor", "irina", "isabel", "isabelle", "ismail", "ito", "ivan", "ivanov", "ivanova",
    "iyer", "jackson", "jafari", "jain", "james", "jang", "jason", "javier", "jean", "jeffrey",
    "jennifer", "jessica", "jesus", "jian", "jimenez", "jin", "jing", "joao", "john", "johnson",
    "jones", "jorge", "jose", "joseph", "joshi", "joshua", "juan", "jun", "jung", "jurgen",
    "justin", "kamau", "kaminski", "kang", "karen", "karim", "karimi", "kaya", "kenji", "kenneth",
    "kevin", "khadija", "khalid", "khalil", "khan", "kilic", "kim", "kimberly", "king", "klaus",
    "kobayashi", "kovalenko", "kowalczyk", "kowalski", "kozlov", "krishna", "kumar", "kuznetsov",
    "lakshmi", "larry", "laura", "laurent", "layla", "le", "lebedev", "lee", "lefebvre", "lei",
    "leila", "leroy", "lewandowski", "lewis", "li", "lim", "lima", "lin", "linda", "linh", "lisa",
    "liu", "lopez", "louis", "lucas", "lucia", "luis", "luo", "ly", "ma", "mahmoud", "manoj",
    "manuel", "marco", "marcos", "margaret", "maria", "mariam", "marie", "mario", "mark", "martin",
    "martinez", "martins", "mary", "maryam", "matthew", "medina", "mehdi", "mehmet", "mehta",
    "melissa", "mendoza", "mensah", "meyer", "michael", "michel", "michelle", "miguel", "mikhail",
    "mikhailov", "miller", "min", "ming", "minh", "mishra", "mitchell", "mohamed", "mohammad",
    "mohammadi", "mohammed", "mohan", "mohsen", "moore", "moradi", "morales", "moreau", "moreno",
    "morozov", "mostafa", "mueller", "muhammad", "muller", "murat", "musa", "mustafa", "mwangi",
    "nair", "nakamura", "nancy", "nasser", "natalia", "nathalie", "neha", "nelson", "ngo",
    "nguyen", "nicolas", "nikolaev", "nikolai", "nikolay", "njoroge", "noor", "nour", "novikov",
    "nowak", "ochieng", "okafor", "okeke", "oleg", "olga", "oliveira", "olivia", "omar", "orlov",
    "ortiz", "osman", "otieno", "owusu", "ozdemir", "ozturk", "pablo", "park", "patel", "patricia",
    "paul", "paula", "paulo", "pavel", "pavlov", "pereira", "perez", "peter", "petrov", "petrova",
    "pham", "phan", "philippe", "pierre", "pillai", "ping", "pooja", "popov", "priya", "rafael",
    "rahimi", "rahman", "rahul", "raj", "rajesh", "ram", "ramesh", "ramirez", "ramos", "rao",
    "rashid", "raul", "ravi", "rebecca", "reddy", "reyes", "reza", "rezaei", "ribeiro", "ricardo",
    "ricci", "richard", "rivera", "robert", "roberto", "roberts", "robinson", "rodrigo",
    "rodrigues", "rodriguez", "romano", "romero", "rosa", "rossi", "ruiz", "russo", "ryan",
    "saeed", "sahin", "said", "saleh", "salem", "salim", "samuel", "sanchez", "sandra", "sanjay",
    "santos", "sara", "sarah", "sato", "schmidt", "schneider", "schulz", "scott", "semenov",
    "sergei", "sergey", "sergio", "shah", "sharma", "sharon", "shevchenko", "silva", "simon",
    "singh", "siti", "smirnov", "smirnova", "smith", "sofia", "sokolov", "sophia", "sophie",
    "souza", "sri", "stefan", "stepanov", "stephanie", "stephen", "steven", "sun", "sunil",
    "sunita", "suresh", "susan", "suzuki", "svetlana", "takahashi", "takashi", "tanaka", "tao",
    "tatiana", "taylor", "teresa", "thi", "thiago", "thomas", "thompson", "timothy", "torres",
    "tran", "umar", "van", "vargas", "vasiliev", "verma", "vijay", "viktor", "vladimir", "vo",
    "volkov", "vu", "wagner", "walker", "wang", "watanabe", "weber", "wei", "white", "william",
    "williams", "wilson", "wisniewski", "wojcik", "wolfgang", "wright", "wu", "xu", "yadav",
    "yamamoto", "yan", "yang", "yildirim", "yildiz", "yilmaz", "yoon", "young", "yousef",
    "youssef", "yuki", "yuri", "yusuf", "zahra", "zainab", "zhang", "zhao", "zhou", "zhu"
};
/* clang-format on */

static int cmp_cstr(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int common_builtin(const char *tok, size_t len)
{
    char key[TOK_MAX_LEN + 1];
    const char *kp = key;

    if (len > TOK_MAX_LEN)
        return 0;
    memcpy(key, tok, len);
    key[len] = '\0';
    return bsearch(&kp, common_names, sizeof(common_names) / sizeof(common_names[0]),
                   sizeof(common_names[0]), cmp_cstr) != NULL;
}

/* Sets vocab[].common: built-in common names, and tokens carried by at least
 * SCREEN_COMMON_SHARE of the list's person names. Postings must be built. */
static void mark_common(screen_list *l)
{
    size_t persons = 0;

    for (size_t i = 0; i < l->nnames; i++)
        persons += l->names[i].person;
    for (size_t v = 0; v < l->nvocab; v++) {
        const struct vtok *vt = &l->vocab[v];
        size_t df = 0;

        for (uint32_t p = l->post_off[v]; p < l->post_off[v + 1]; p++)
            df += l->names[l->post[p]].person;
        l->vocab[v].common =
            (uint8_t)(common_builtin(l->vpool + vt->off, vt->len) ||
                      (persons >= 1000 && (double)df >= SCREEN_COMMON_SHARE * (double)persons));
    }
}

static int cmp_efacts(const void *a, const void *b)
{
    const struct efacts *x = a, *y = b;

    return (x->entry_id > y->entry_id) - (x->entry_id < y->entry_id);
}

int screen_list_build(screen_list *l)
{
    struct keypair *kp = NULL;
    size_t nkp = 0, cap_kp = 0, nk = 0, *fill = NULL;
    uint64_t keys[TOK_MAX_LEN + 1];

    if (!l || l->built) {
        errno = EINVAL;
        return -1;
    }
    /* postings: token -> names (each name once per token) */
    l->post_off = calloc(l->nvocab + 1, sizeof(*l->post_off));
    fill = calloc(l->nvocab + 1, sizeof(*fill));
    if (!l->post_off || !fill)
        goto nomem;
    for (size_t i = 0; i < l->nnames; i++) {
        const uint32_t *tk = l->tok + l->names[i].tok_off;

        for (int j = 0; j < l->names[i].ntok; j++) {
            int dup = 0;

            for (int p = 0; p < j && !dup; p++)
                dup = tk[p] == tk[j];
            if (!dup)
                l->post_off[tk[j] + 1]++;
        }
    }
    for (size_t v = 0; v < l->nvocab; v++)
        l->post_off[v + 1] += l->post_off[v];
    l->post = malloc((l->post_off[l->nvocab] ? l->post_off[l->nvocab] : 1) * sizeof(*l->post));
    if (!l->post)
        goto nomem;
    for (size_t i = 0; i < l->nnames; i++) {
        const uint32_t *tk = l->tok + l->names[i].tok_off;

        for (int j = 0; j < l->names[i].ntok; j++) {
            int dup = 0;

            for (int p = 0; p < j && !dup; p++)
                dup = tk[p] == tk[j];
            if (!dup)
                l->post[l->post_off[tk[j]] + fill[tk[j]]++] = (uint32_t)i;
        }
    }

    /* deletion keys -> tokens */
    for (size_t v = 0; v < l->nvocab; v++) {
        int n = deletion_keys(l->vpool + l->vocab[v].off, l->vocab[v].len, keys);

        if (grow((void **)&kp, &cap_kp, nkp + (size_t)n, sizeof(*kp)))
            goto nomem;
        for (int i = 0; i < n; i++) {
            kp[nkp].h = keys[i];
            kp[nkp].vid = (uint32_t)v;
            nkp++;
        }
    }
    if (nkp > 1)
        qsort(kp, nkp, sizeof(*kp), cmp_keypair);
    l->key_hash = malloc((nkp ? nkp : 1) * sizeof(*l->key_hash));
    l->key_off = malloc((nkp + 1) * sizeof(*l->key_off));
    l->key_vid = malloc((nkp ? nkp : 1) * sizeof(*l->key_vid));
    if (!l->key_hash || !l->key_off || !l->key_vid)
        goto nomem;
    for (size_t i = 0, nv = 0; i < nkp; i++) {
        if (i > 0 && kp[i].h == kp[i - 1].h && kp[i].vid == kp[i - 1].vid)
            continue;
        if (i == 0 || kp[i].h != kp[i - 1].h) {
            l->key_hash[nk] = kp[i].h;
            l->key_off[nk] = (uint32_t)nv;
            nk++;
        }
        l->key_vid[nv++] = kp[i].vid;
        l->key_off[nk] = (uint32_t)nv;
    }
    if (nk == 0)
        l->key_off[0] = 0;
    l->nkeys = nk;
    free(kp);
    free(fill);
    mark_common(l);
    if (l->nfacts > 1)
        qsort(l->facts, l->nfacts, sizeof(*l->facts), cmp_efacts);
    l->built = 1;
    return 0;

nomem:
    free(kp);
    free(fill);
    free(l->post_off);
    free(l->post);
    free(l->key_hash);
    free(l->key_off);
    free(l->key_vid);
    l->post_off = l->post = l->key_off = l->key_vid = NULL;
    l->key_hash = NULL;
    errno = ENOMEM;
    return -1;
}

/* ------------------------------------------------------------------------------------------ */
/* Queries                                                                                     */
/* ------------------------------------------------------------------------------------------ */

struct cand {
    double bound;
    uint32_t name;
};

static int cmp_cand(const void *a, const void *b)
{
    const struct cand *x = a, *y = b;

    if (x->bound != y->bound)
        return x->bound > y->bound ? -1 : 1;
    return (x->name > y->name) - (x->name < y->name);
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

    return (x > y) - (x < y);
}

/* Index range [*lo, *hi) of key_vid for hash h; empty if absent. */
static void key_lookup(const screen_list *l, uint64_t h, size_t *lo, size_t *hi)
{
    size_t a = 0, b = l->nkeys;

    while (a < b) {
        size_t mid = a + (b - a) / 2;

        if (l->key_hash[mid] < h)
            a = mid + 1;
        else
            b = mid;
    }
    if (a < l->nkeys && l->key_hash[a] == h) {
        *lo = l->key_off[a];
        *hi = l->key_off[a + 1];
    } else {
        *lo = *hi = 0;
    }
}

/* Tokens of listed name i, borrowed from the index. */
static void list_tokens(const screen_list *l, size_t i, struct toks *t)
{
    const struct sname *sn = &l->names[i];

    t->n = sn->ntok;
    for (int j = 0; j < sn->ntok; j++) {
        const struct vtok *v = &l->vocab[l->tok[sn->tok_off + (size_t)j]];

        t->s[j] = l->vpool + v->off;
        t->len[j] = v->len;
        t->minor[j] = v->minor;
    }
}

/* Per-call scratch, owned by screen_best. */
struct query_scratch {
    uint32_t *mask; /* per name: bit i = query token i hit it */
    uint32_t *touched;
    size_t ntouched, cap_touched;
    uint32_t *vids;
    size_t nvids, cap_vids;
    struct cand *cands;
    char norm[NORM_MAX_BYTES + 1];
};

/* Marks in s->mask every name holding a vocabulary token within one edit of query token i.
 * Returns 0 or -1 (ENOMEM). */
static int collect_token(const screen_list *l, const struct toks *q, int i, int exact_minor,
                         struct query_scratch *s)
{
    uint64_t keys[TOK_MAX_LEN + 1];
    int nk = deletion_keys(q->s[i], q->len[i], keys);
    uint32_t bit = 1u << i;

    s->nvids = 0;
    for (int k = 0; k < nk; k++) {
        size_t lo, hi;

        key_lookup(l, keys[k], &lo, &hi);
        if (hi > lo) {
            if (grow((void **)&s->vids, &s->cap_vids, s->nvids + (hi - lo), sizeof(*s->vids)))
                return -1;
            memcpy(s->vids + s->nvids, l->key_vid + lo, (hi - lo) * sizeof(*s->vids));
            s->nvids += hi - lo;
        }
    }
    if (s->nvids > 1)
        qsort(s->vids, s->nvids, sizeof(*s->vids), cmp_u32);
    for (size_t k = 0; k < s->nvids; k++) {
        uint32_t v = s->vids[k];
        const struct vtok *vt = &l->vocab[v];

        if (k > 0 && v == s->vids[k - 1])
            continue;
        if (exact_minor) {
            if (vt->len != q->len[i] || memcmp(l->vpool + vt->off, q->s[i], vt->len) != 0)
                continue;
        } else {
            int wk;

            if (vt->minor || tok_sim(q->s[i], q->len[i], l->vpool + vt->off, vt->len, &wk) <= 0.0)
                continue;
        }
        for (uint32_t p = l->post_off[v]; p < l->post_off[v + 1]; p++) {
            uint32_t nm = l->post[p];

            if (!s->mask[nm]) {
                if (grow((void **)&s->touched, &s->cap_touched, s->ntouched + 1,
                         sizeof(*s->touched)))
                    return -1;
                s->touched[s->ntouched++] = nm;
            }
            s->mask[nm] |= bit;
        }
    }
    return 0;
}

static int popcount32(uint32_t x)
{
    return __builtin_popcount(x);
}

/* 1 when one of the query tokens in unhit (long ones the deletion keys did not find) may still
 * pair with a regular token of listed name nm as a two-edit variant (tok_sim: both within two
 * edits, the longer D2_MIN_LEN or more). Keeps the candidate bound honest without scoring every
 * name that shares only a frequent token with the query. */
static int d2_possible(const screen_list *l, uint32_t nm, const struct toks *q, uint32_t unhit)
{
    const struct sname *sn = &l->names[nm];

    for (int i = 0; unhit && i < q->n; i++) {
        uint32_t qm;

        if (!((unhit >> i) & 1))
            continue;
        unhit &= ~(1u << i);
        qm = letter_mask(q->s[i], q->len[i]);
        for (int j = 0; j < sn->ntok; j++) {
            const struct vtok *v = &l->vocab[l->tok[sn->tok_off + (size_t)j]];
            int dl = (int)v->len - (int)q->len[i];
            size_t maxlen = v->len > q->len[i] ? v->len : q->len[i];

            if (v->minor || dl > 2 || dl < -2 || maxlen < D2_MIN_LEN ||
                popcount32(v->letters ^ qm) > 4)
                continue;
            if (osa_distance(q->s[i], q->len[i], l->vpool + v->off, v->len) <= 2)
                return 1;
        }
    }
    return 0;
}

/* The part of a query screen_best and screen_search share: *q gets the tokens of the normalised
 * name (in s->norm), qreg their regular flags, s->mask / s->touched the listed names that share a
 * token within one edit with it; *m the number of regular tokens and *long_mask those long enough
 * for a two-edit variant. s is the caller's, zeroed. 0, or -1 (ENOMEM). A name with no token, or
 * an empty list, touches nothing. */
static int query_collect(const screen_list *l, const char *name, struct query_scratch *s,
                         struct toks *q, uint8_t *qreg, int *m, uint32_t *long_mask)
{
    int all_minor = 1;

    *m = 0;
    *long_mask = 0;
    name_tokens(name, s->norm, q);
    if (q->n == 0)
        return 0;
    *m = regular_flags(q, qreg);
    if (l->nnames == 0)
        return 0;
    for (int i = 0; i < q->n; i++)
        all_minor &= q->minor[i];
    s->mask = calloc(l->nnames, sizeof(*s->mask));
    if (!s->mask)
        return -1;
    for (int i = 0; i < q->n; i++) {
        if (!qreg[i])
            continue;
        if (collect_token(l, q, i, all_minor, s))
            return -1;
        if (q->len[i] + 2 >= D2_MIN_LEN)
            *long_mask |= 1u << i;
    }
    return 0;
}

int screen_best(const screen_list *l, const char *name, double min_score, screen_match *out)
{
    struct query_scratch *s;
    struct toks q;
    uint8_t qreg[SCORE_MAX_TOK];
    int m, rc = 0;
    uint32_t long_mask; /* query tokens long enough for a two-edit variant */
    size_t ncand = 0;
    double best = -1.0;
    size_t best_name = 0;

    if (!l || !name || !out || !l->built) {
        errno = EINVAL;
        return -1;
    }
    s = calloc(1, sizeof(*s));
    if (!s) {
        errno = ENOMEM;
        return -1;
    }
    if (query_collect(l, name, s, &q, qreg, &m, &long_mask) != 0)
        goto nomem;
    s->cands = malloc((s->ntouched ? s->ntouched : 1) * sizeof(*s->cands));
    if (!s->cands)
        goto nomem;
    for (size_t t = 0; t < s->ntouched; t++) {
        uint32_t nm = s->touched[t];
        int n = l->names[nm].nreg;
        /* pairs possible: tokens hit within one edit, plus (heuristically, at most) one
         * long query token that might still pair as a two-edit variant (see tok_sim) */
        int k = popcount32(s->mask[nm]) + d2_possible(l, nm, &q, long_mask & ~s->mask[nm]);
        double bound;

        if (k > m)
            k = m;
        if (k > n)
            k = n;
        bound = penalty(k, m - k, n - k, 0);
        if (bound >= min_score) {
            s->cands[ncand].bound = bound;
            s->cands[ncand].name = nm;
            ncand++;
        }
    }
    qsort(s->cands, ncand, sizeof(*s->cands), cmp_cand);
    for (size_t c = 0; c < ncand; c++) {
        struct toks lt;
        double sc;

        if (s->cands[c].bound <= best)
            break; /* sorted: no later candidate can beat best */
        list_tokens(l, s->cands[c].name, &lt);
        sc = score_tokens(&q, &lt, NULL);
        if (sc > best) {
            best = sc;
            best_name = s->cands[c].name;
        }
    }
    if (best > 0.0 && best >= min_score) {
        const char *raw = l->raw + l->names[best_name].raw_off;
        size_t rl = strlen(raw);

        if (rl >= sizeof(out->matched_name)) {
            rl = sizeof(out->matched_name) - 1;
            while (rl > 0 && ((unsigned char)raw[rl] & 0xC0) == 0x80)
                rl--; /* do not split a UTF-8 sequence */
        }
        out->score = best;
        out->entry_id = l->names[best_name].entry_id;
        memcpy(out->matched_name, raw, rl);
        out->matched_name[rl] = '\0';
        rc = 1;
    }
    goto done;

nomem:
    errno = ENOMEM;
    rc = -1;
done:
    if (s) {
        free(s->mask);
        free(s->touched);
        free(s->vids);
        free(s->cands);
        free(s);
    }
    return rc;
}

/* ------------------------------------------------------------------------------------------ */
/* Secondary facts: dates of birth and nationalities from the remarks                         */
/* ------------------------------------------------------------------------------------------ */

static const char *const month_abbr[12] = {"jan", "feb", "mar", "apr", "may", "jun",
                                           "jul", "aug", "sep", "oct", "nov", "dec"};

static int days_in_month(int y, int m)
{
    static const int dm[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

    if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
        return 29;
    return dm[m - 1];
}

/* Skips blanks. */
static const char *skip_sp(const char *p, const char *end)
{
    while (p < end && *p == ' ')
        p++;
    return p;
}

/* Reads n digits exactly (followed by a non-digit). -1 if not there. */
static int read_digits(const char **pp, const char *end, int n)
{
    const char *p = *pp;
    int v = 0;

    for (int i = 0; i < n; i++, p++) {
        if (p >= end || !is_digit((unsigned char)*p))
            return -1;
        v = v * 10 + (*p - '0');
    }
    if (p < end && is_digit((unsigned char)*p))
        return -1;
    *pp = p;
    return v;
}

/* One date of the remarks: [DD ]Mon YYYY | YYYY. Fills from/to and precision. 0 or -1. */
static int read_date(const char **pp, const char *end, screen_dob *d)
{
    const char *p = skip_sp(*pp, end);
    int day = 0, mon = 0, y;

    if (p + 2 <= end && is_digit((unsigned char)p[0]) &&
        (p + 2 == end || !is_digit((unsigned char)p[2])) && is_digit((unsigned char)p[1])) {
        day = (p[0] - '0') * 10 + (p[1] - '0');
        p = skip_sp(p + 2, end);
    }
    if (p + 3 <= end && !is_digit((unsigned char)*p)) {
        for (int m = 0; m < 12; m++)
            if (ascii_lower(p[0]) == month_abbr[m][0] && ascii_lower(p[1]) == month_abbr[m][1] &&
                ascii_lower(p[2]) == month_abbr[m][2])
                mon = m + 1;
        if (mon == 0)
            return -1;
        p += 3;
        while (p < end && ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')))
            p++; /* "March", "Sept" */
        p = skip_sp(p, end);
    }
    if (day && !mon)
        return -1;
    y = read_digits(&p, end, 4);
    if (y < 1800 || y > 2100)
        return -1;
    if (mon && day) {
        if (day < 1 || day > days_in_month(y, mon))
            return -1;
        d->from = d->to = y * 10000 + mon * 100 + day;
        d->precision = SCREEN_DOB_DAY;
    } else if (mon) {
        d->from = y * 10000 + mon * 100 + 1;
        d->to = y * 10000 + mon * 100 + days_in_month(y, mon);
        d->precision = SCREEN_DOB_MONTH;
    } else {
        d->from = y * 10000 + 101;
        d->to = y * 10000 + 1231;
        d->precision = SCREEN_DOB_YEAR;
    }
    *pp = p;
    return 0;
}

/* A DOB value: [circa ]DATE[ to DATE | -YYYY]. 0 or -1. */
static int read_dob(const char *p, const char *end, screen_dob *d)
{
    int circa = 0;
    screen_dob b;

    p = skip_sp(p, end);
    if (end - p > 6 && ascii_lower(p[0]) == 'c' && ascii_lower(p[1]) == 'i' &&
        ascii_lower(p[2]) == 'r' && ascii_lower(p[3]) == 'c' && ascii_lower(p[4]) == 'a' &&
        p[5] == ' ') {
        circa = 1;
        p += 6;
    }
    if (read_date(&p, end, d) != 0)
        return -1;
    p = skip_sp(p, end);
    if (p < end && *p == '-') {
        p++;
        if (read_date(&p, end, &b) != 0 || b.precision != SCREEN_DOB_YEAR)
            return -1;
        d->to = b.to;
        d->precision = SCREEN_DOB_RANGE;
    } else if (end - p >= 3 && ascii_lower(p[0]) == 't' && ascii_lower(p[1]) == 'o' &&
               p[2] == ' ') {
        p += 3;
        if (read_date(&p, end, &b) != 0)
            return -1;
        d->to = b.to;
        d->precision = SCREEN_DOB_RANGE;
    }
    p = skip_sp(p, end);
    if (p < end)
        return -1; /* something we do not understand: no guess */
    if (d->to < d->from)
        return -1;
    if (circa) {
        d->from -= SCREEN_CIRCA_YEARS * 10000;
        d->to += SCREEN_CIRCA_YEARS * 10000;
        d->from = d->from / 10000 * 10000 + 101;
        d->to = d->to / 10000 * 10000 + 1231;
        d->precision = SCREEN_DOB_RANGE;
    }
    return 0;
}

/* Case-insensitive: does [p, end) start with the literal lit? */
static int starts_with(const char *p, const char *end, const char *lit)
{
    size_t n = strlen(lit);

    if ((size_t)(end - p) < n)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (ascii_lower(p[i]) != ascii_lower(lit[i]))
            return 0;
    return 1;
}

int screen_parse_facts(const char *remarks, screen_facts *out)
{
    const char *p = remarks;

    memset(out, 0, sizeof(*out));
    if (!remarks)
        return 0;
    while (*p) {
        const char *e = strchr(p, ';'), *end;

        if (!e)
            e = p + strlen(p);
        p = skip_sp(p, e);
        end = e;
        while (end > p && (end[-1] == ' ' || end[-1] == '.'))
            end--;
        if (starts_with(p, end, "alt. "))
            p += 5;
        if (starts_with(p, end, "DOB ")) {
            screen_dob d;

            if (read_dob(p + 4, end, &d) == 0) {
                if (out->ndob < SCREEN_MAX_DOB)
                    out->dob[out->ndob++] = d;
                else
                    out->dob_cut = 1;
            }
        } else if (starts_with(p, end, "nationality ") || starts_with(p, end, "citizen ")) {
            const char *v = skip_sp(p + (ascii_lower(*p) == 'n' ? 12 : 8), end);
            size_t n = (size_t)(end - v);
            int dup = 0;

            if (n > 0 && n < sizeof(out->nat[0]) && out->nnat < SCREEN_MAX_NAT) {
                for (int i = 0; i < out->nnat && !dup; i++)
                    dup = strlen(out->nat[i]) == n && memcmp(out->nat[i], v, n) == 0;
                if (!dup) {
                    memcpy(out->nat[out->nnat], v, n);
                    out->nat[out->nnat][n] = '\0';
                    out->nnat++;
                }
            }
        }
        p = *e ? e + 1 : e;
    }
    return out->ndob + out->nnat;
}

const char *screen_dob_format(const screen_dob *d, char *buf, size_t len)
{
    int fy = d->from / 10000, fm = d->from / 100 % 100, fd = d->from % 100;
    int ty = d->to / 10000, tm = d->to / 100 % 100, td = d->to % 100;

    switch (d->precision) {
    case SCREEN_DOB_DAY:
        snprintf(buf, len, "%04d-%02d-%02d", fy, fm, fd);
        break;
    case SCREEN_DOB_MONTH:
        snprintf(buf, len, "%04d-%02d", fy, fm);
        break;
    case SCREEN_DOB_YEAR:
        snprintf(buf, len, "%04d", fy);
        break;
    default:
        if (fm == 1 && fd == 1 && tm == 12 && td == 31)
            snprintf(buf, len, "%04d..%04d", fy, ty);
        else
            snprintf(buf, len, "%04d-%02d-%02d..%04d-%02d-%02d", fy, fm, fd, ty, tm, td);
        break;
    }
    return buf;
}

/* Reads YYYY[-MM[-DD]] at *pp; returns the number of parts read (1..3) or 0. */
static int read_iso(const char **pp, int *y, int *m, int *d)
{
    const char *p = *pp, *end = p + strlen(p);
    int n = 1;

    *m = *d = 0;
    if ((*y = read_digits(&p, end, 4)) < 0)
        return 0;
    if (*p == '-' && is_digit((unsigned char)p[1])) {
        p++;
        if ((*m = read_digits(&p, end, 2)) < 1 || *m > 12)
            return 0;
        n = 2;
        if (*p == '-' && is_digit((unsigned char)p[1])) {
            p++;
            if ((*d = read_digits(&p, end, 2)) < 1 || *d > days_in_month(*y, *m))
                return 0;
            n = 3;
        }
    }
    *pp = p;
    return n;
}

int screen_dob_parse(const char *s, screen_dob *out)
{
    const char *p = s;
    int y, m, d, n, y2, m2, d2, n2;

    if (!s || (n = read_iso(&p, &y, &m, &d)) == 0)
        return -1;
    if (*p == '\0') {
        out->precision = n == 3 ? SCREEN_DOB_DAY : n == 2 ? SCREEN_DOB_MONTH : SCREEN_DOB_YEAR;
        out->from = y * 10000 + (n >= 2 ? m : 1) * 100 + (n == 3 ? d : 1);
        out->to = y * 10000 + (n >= 2 ? m : 12) * 100 +
                  (n == 3   ? d
                   : n == 2 ? days_in_month(y, m)
                            : 31);
        return 0;
    }
    if (p[0] != '.' || p[1] != '.')
        return -1;
    p += 2;
    if ((n2 = read_iso(&p, &y2, &m2, &d2)) != n || *p != '\0' || (n != 1 && n != 3))
        return -1;
    out->precision = SCREEN_DOB_RANGE;
    out->from = n == 1 ? y * 10000 + 101 : y * 10000 + m * 100 + d;
    out->to = n == 1 ? y2 * 10000 + 1231 : y2 * 10000 + m2 * 100 + d2;
    return out->to >= out->from ? 0 : -1;
}

int screen_list_facts(screen_list *l, long entry_id, const screen_facts *f)
{
    struct efacts *e;

    if (!l || !f || l->built) {
        errno = EINVAL;
        return -1;
    }
    if (f->ndob == 0 && f->nnat == 0)
        return 0;
    if (grow((void **)&l->facts, &l->cap_facts, l->nfacts + 1, sizeof(*l->facts))) {
        errno = ENOMEM;
        return -1;
    }
    e = &l->facts[l->nfacts++];
    memset(e, 0, sizeof(*e));
    e->entry_id = entry_id;
    e->dob_cut = (uint8_t)(f->dob_cut != 0);
    for (int i = 0; i < f->ndob && i < SCREEN_MAX_DOB; i++)
        e->dob[e->ndob++] = f->dob[i];
    for (int i = 0; i < f->nnat && i < SCREEN_MAX_NAT; i++) {
        size_t n = strlen(f->nat[i]);

        int letters = n == 2 || n == 3;

        for (size_t c = 0; c < n && letters; c++)
            letters = ascii_lower(f->nat[i][c]) >= 'a' && ascii_lower(f->nat[i][c]) <= 'z';
        if (letters) { /* ISO codes only: names are the caller's to resolve */
            for (size_t c = 0; c < n; c++)
                e->nat[e->nnat][c] = (char)(ascii_lower(f->nat[i][c]) - 'a' + 'A');
            e->nnat++;
        }
    }
    return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* Search with evidence                                                                       */
/* ------------------------------------------------------------------------------------------ */

/* Vocabulary id of token s in l, or -1. */
static long vocab_find(const screen_list *l, const char *s, size_t len)
{
    size_t i;

    if (!l || l->vhash_cap == 0)
        return -1;
    i = (size_t)hash_bytes(s, len) & (l->vhash_cap - 1);
    while (l->vhash[i]) {
        const struct vtok *v = &l->vocab[l->vhash[i] - 1];

        if (v->len == len && memcmp(l->vpool + v->off, s, len) == 0)
            return (long)(l->vhash[i] - 1);
        i = (i + 1) & (l->vhash_cap - 1);
    }
    return -1;
}

int screen_list_common_from(screen_list *l, const screen_list *ref)
{
    if (!l || !ref || !l->built || !ref->built) {
        errno = EINVAL;
        return -1;
    }
    for (size_t v = 0; v < l->nvocab; v++)
        l->vocab[v].common =
            (uint8_t)screen_common_token(ref, l->vpool + l->vocab[v].off, l->vocab[v].len);
    return 0;
}

int screen_common_token(const screen_list *l, const char *tok, size_t len)
{
    long v;

    if (!tok)
        return 0;
    if (common_builtin(tok, len))
        return 1;
    if (!l || !l->built || (v = vocab_find(l, tok, len)) < 0)
        return 0;
    return l->vocab[v].common;
}

static const struct efacts *facts_of(const screen_list *l, long entry_id)
{
    struct efacts key;

    if (l->nfacts == 0)
        return NULL;
    key.entry_id = entry_id;
    return bsearch(&key, l->facts, l->nfacts, sizeof(*l->facts), cmp_efacts);
}

/* YYYY-MM-DD as YYYYMMDD, or 0 when s is not such a date. */
static int dob_value(const char *s)
{
    screen_dob d;

    if (!s || strlen(s) != 10 || screen_dob_parse(s, &d) != 0 || d.precision != SCREEN_DOB_DAY)
        return 0;
    return d.from;
}

static int compare_dob(const struct efacts *f, int dob, int *day_agrees)
{
    int near = 0, agrees = 0;

    *day_agrees = 0;
    if (!f || f->ndob == 0 || dob == 0)
        return SCREEN_FACT_UNKNOWN;
    for (int i = 0; i < f->ndob; i++) {
        const screen_dob *d = &f->dob[i];

        if (dob >= d->from && dob <= d->to) {
            agrees = 1;
            *day_agrees |= d->precision == SCREEN_DOB_DAY;
        } else if (dob / 10000 >= d->from / 10000 && dob / 10000 <= d->to / 10000) {
            near = 1;
        }
    }
    if (agrees)
        return SCREEN_FACT_AGREES;
    if (near)
        return SCREEN_FACT_NEAR;
    /* more dates were listed than kept: one of the others might agree */
    return f->dob_cut ? SCREEN_FACT_UNKNOWN : SCREEN_FACT_DISAGREES;
}

static int compare_nat(const struct efacts *f, const char *country)
{
    if (!f || f->nnat == 0 || !country || !*country)
        return SCREEN_FACT_UNKNOWN;
    for (int i = 0; i < f->nnat; i++)
        if (ascii_ieq(country, f->nat[i]))
            return SCREEN_FACT_AGREES;
    return SCREEN_FACT_DISAGREES;
}

/* The level after the facts (docs/screening.md, "Secondary evidence"). */
static int fact_level(int kind, int name_level, double score, int dob, int dob_day, int nat)
{
    if (dob == SCREEN_FACT_AGREES) {
        if (kind == SCREEN_KIND_COMMON)
            return dob_day ? SCREEN_BLOCK : SCREEN_REVIEW;
        return name_level >= SCREEN_REVIEW ? SCREEN_BLOCK : name_level;
    }
    if (dob == SCREEN_FACT_DISAGREES)
        return name_level == SCREEN_BLOCK ? SCREEN_REVIEW : name_level;
    /* Nationality is weaker evidence: the country on the form is where the applicant lives,
     * and many people live outside the country of their passport. Its agreement lifts a common
     * name to review; its disagreement is recorded but lowers nothing. */
    (void)score;
    if (nat == SCREEN_FACT_AGREES && kind == SCREEN_KIND_COMMON)
        return SCREEN_REVIEW;
    return name_level;
}

/* Appends the token (len bytes) to the space-separated buf (cap bytes) if it fits. */
static void add_word(char *buf, size_t cap, const char *tok, size_t len)
{
    size_t n = strlen(buf);

    if (n + len + 2 > cap)
        return;
    if (n)
        buf[n++] = ' ';
    memcpy(buf + n, tok, len);
    buf[n + len] = '\0';
}

/*
 * Scores listed name nm against the query and classifies it into *c (score, kind, levels, facts);
 * with evidence, also the token lists and the listed facts (the costly part, done only for a
 * candidate that is kept).
 */
static void judge(const screen_list *l, uint32_t nm, const struct toks *q, const screen_query *sq,
                  int qdob, int evidence, screen_candidate *c)
{
    const struct sname *sn = &l->names[nm];
    const uint32_t *vid = l->tok + sn->tok_off;
    struct toks lt;
    struct pairing pr;
    uint32_t initials = 0, qinit = 0, all_common = 1;
    int subset, kind, name_level, dob_day;
    const struct efacts *f;

    list_tokens(l, nm, &lt);
    c->score = score_tokens(q, &lt, &pr);
    c->entry_id = sn->entry_id;

    /* every typed regular token in the listed name, at most one of them with a typo (a typo
     * still makes a subset of common names COMMON; a PARTIAL match has none: with a typo, the
     * name score decides) */
    subset = sn->person && popcount32(pr.q_reg) >= 2 && (pr.q_reg & ~pr.q_paired) == 0 &&
             pr.k >= 2 && pr.fuzzy <= 1;
    /* typed initials: a given name of the listed person with that first letter; any other
     * typed token left over (a particle such as "bin" of "Su-bin") is not in the listed name */
    for (int i = 0; subset && i < q->n; i++) {
        if ((pr.q_paired >> i) & 1 || !q->minor[i])
            continue;
        if (q->len[i] != 1) {
            subset = 0;
            break;
        }
        int found = 0;

        for (int j = 0; j < lt.n && !found; j++) {
            uint32_t bit = 1u << j;

            if ((pr.l_paired | initials) & bit || !(pr.l_reg & bit) || (sn->sur_mask & bit) ||
                lt.s[j][0] != q->s[i][0])
                continue;
            initials |= bit;
            qinit |= 1u << i;
            found = 1;
        }
        subset = found;
    }
    uint32_t taken = pr.l_paired | initials;
    uint32_t missing_reg = pr.l_reg & ~taken;

    for (int j = 0; j < lt.n; j++)
        if ((pr.l_paired >> j) & 1 && (pr.l_reg >> j) & 1)
            all_common &= l->vocab[vid[j]].common;
    if (subset && missing_reg != 0 && all_common) {
        kind = SCREEN_KIND_COMMON;
    } else if (subset && missing_reg != 0 && pr.fuzzy == 0 &&
               (sn->sur_mask == 0 || (pr.l_paired & sn->sur_mask & pr.l_reg) != 0) &&
               ((pr.l_reg & ~sn->sur_mask) == 0 || sn->sur_mask == 0 ||
                (taken & pr.l_reg & ~sn->sur_mask) != 0)) {
        kind = SCREEN_KIND_PARTIAL;
    } else {
        kind = SCREEN_KIND_NAME;
    }
    name_level = c->score >= sq->block    ? SCREEN_BLOCK
                 : c->score >= sq->review ? SCREEN_REVIEW
                                          : SCREEN_CLEAR;
    if (kind == SCREEN_KIND_PARTIAL && name_level < SCREEN_REVIEW)
        name_level = SCREEN_REVIEW;
    if (kind == SCREEN_KIND_COMMON)
        name_level = SCREEN_CLEAR;
    c->kind = kind;
    c->name_level = name_level;

    f = facts_of(l, sn->entry_id);
    c->dob = compare_dob(f, qdob, &dob_day);
    c->nationality = compare_nat(f, sq->country);
    c->level = fact_level(kind, name_level, c->score, c->dob, dob_day, c->nationality);
    if (!evidence)
        return;

    {
        const char *raw = l->raw + sn->raw_off;
        size_t rl = strlen(raw);

        if (rl >= sizeof(c->matched_name)) {
            rl = sizeof(c->matched_name) - 1;
            while (rl > 0 && ((unsigned char)raw[rl] & 0xC0) == 0x80)
                rl--; /* do not split a UTF-8 sequence */
        }
        memcpy(c->matched_name, raw, rl);
        c->matched_name[rl] = '\0';
    }
    c->matched[0] = c->missing[0] = c->unmatched[0] = '\0';
    for (int j = 0; j < lt.n; j++) {
        if ((taken >> j) & 1)
            add_word(c->matched, sizeof(c->matched), lt.s[j], lt.len[j]);
        else
            add_word(c->missing, sizeof(c->missing), lt.s[j], lt.len[j]);
    }
    for (int i = 0; i < q->n; i++)
        if (!((pr.q_paired | qinit) >> i & 1))
            add_word(c->unmatched, sizeof(c->unmatched), q->s[i], q->len[i]);
    c->listed_dob[0] = c->listed_nat[0] = '\0';
    for (int i = 0; f && i < f->ndob; i++) {
        char d[40];
        size_t n = strlen(c->listed_dob);

        screen_dob_format(&f->dob[i], d, sizeof(d));
        snprintf(c->listed_dob + n, sizeof(c->listed_dob) - n, "%s%s", n ? "; " : "", d);
    }
    for (int i = 0; f && i < f->nnat; i++) {
        size_t n = strlen(c->listed_nat);

        snprintf(c->listed_nat + n, sizeof(c->listed_nat) - n, "%s%.3s", n ? "; " : "", f->nat[i]);
    }
}

/* Rank order: level, then score, then entry id (stable across runs). */
static int better(int la, double sa, long ea, int lb, double sb, long eb)
{
    if (la != lb)
        return la > lb;
    if (sa != sb)
        return sa > sb;
    return ea < eb;
}

struct scand {
    int ub;       /* level the candidate can reach at most */
    double bound; /* score it can reach at most */
    uint32_t name;
};

static int cmp_scand(const void *a, const void *b)
{
    const struct scand *x = a, *y = b;

    if (x->ub != y->ub)
        return x->ub > y->ub ? -1 : 1;
    if (x->bound != y->bound)
        return x->bound > y->bound ? -1 : 1;
    return (x->name > y->name) - (x->name < y->name);
}

int screen_search(const screen_list *l, const char *name, const screen_query *sq,
                  screen_candidate *out, int max)
{
    struct query_scratch *s;
    struct scand *sc = NULL;
    screen_candidate cur;
    struct toks q;
    uint8_t qreg[SCORE_MAX_TOK];
    int m, nout = 0, qdob, query_common = 1;
    uint32_t long_mask;
    size_t nsc = 0;
    double min_score;

    if (!l || !name || !sq || !out || max <= 0 || !l->built) {
        errno = EINVAL;
        return -1;
    }
    min_score = sq->min_score > 0 ? sq->min_score : SCREEN_SHOW_MIN;
    qdob = dob_value(sq->date_of_birth);
    s = calloc(1, sizeof(*s));
    if (!s) {
        errno = ENOMEM;
        return -1;
    }
    if (query_collect(l, name, s, &q, qreg, &m, &long_mask) != 0)
        goto nomem;
    for (int i = 0; i < q.n; i++)
        if (qreg[i])
            query_common &= screen_common_token(l, q.s[i], q.len[i]);
    sc = malloc((s->ntouched ? s->ntouched : 1) * sizeof(*sc));
    if (!sc)
        goto nomem;
    for (size_t t = 0; t < s->ntouched; t++) {
        uint32_t nm = s->touched[t];
        const struct sname *sn = &l->names[nm];
        int n = sn->nreg, hits = popcount32(s->mask[nm]);
        int k = hits + d2_possible(l, nm, &q, long_mask & ~s->mask[nm]);
        double bound;
        int ub, whole;

        if (k > m)
            k = m;
        if (k > n)
            k = n;
        /* may be a partial name: a person's name with every typed token within reach */
        whole = sn->person && m >= 2 && k >= m;
        bound = penalty(k, m - k, n - k, 0);
        /* ub: the highest level judge() can give (docs/screening.md). A score below review
         * leaves a NAME clear whatever the facts say; a PARTIAL needs every typed token paired
         * exactly, and when all of them are common names it is COMMON (clear unless a fact
         * agrees). */
        if (bound >= sq->block) {
            ub = SCREEN_BLOCK;
        } else if (bound >= sq->review || whole) {
            const struct efacts *f = facts_of(l, sn->entry_id);
            int day, raise = compare_dob(f, qdob, &day) == SCREEN_FACT_AGREES ||
                             compare_nat(f, sq->country) == SCREEN_FACT_AGREES;

            if (raise)
                ub = SCREEN_BLOCK;
            else if (bound < sq->review && query_common)
                ub = SCREEN_CLEAR;
            else
                ub = SCREEN_REVIEW;
        } else {
            ub = SCREEN_CLEAR;
        }
        if (ub == SCREEN_CLEAR && bound < min_score)
            continue;
        sc[nsc].ub = ub;
        sc[nsc].bound = bound;
        sc[nsc].name = nm;
        nsc++;
    }
    if (nsc > 1)
        qsort(sc, nsc, sizeof(*sc), cmp_scand);
    for (size_t c = 0; c < nsc; c++) {
        int pos, dup = -1;

        if (nout == max && (sc[c].ub < out[max - 1].level ||
                            (sc[c].ub == out[max - 1].level && sc[c].bound < out[max - 1].score)))
            break; /* sorted by what they can reach: nothing later can enter */
        judge(l, sc[c].name, &q, sq, qdob, 0, &cur);
        if (cur.level == SCREEN_CLEAR && cur.score < min_score)
            continue;
        for (int i = 0; i < nout; i++)
            if (out[i].entry_id == cur.entry_id)
                dup = i;
        if (dup >= 0) {
            /* the same entry under another of its names: keep the better, the first on a tie */
            if (cur.level < out[dup].level ||
                (cur.level == out[dup].level && cur.score <= out[dup].score))
                continue;
            memmove(out + dup, out + dup + 1, (size_t)(nout - dup - 1) * sizeof(*out));
            nout--;
        }
        if (nout == max && !better(cur.level, cur.score, cur.entry_id, out[max - 1].level,
                                   out[max - 1].score, out[max - 1].entry_id))
            continue;
        judge(l, sc[c].name, &q, sq, qdob, 1, &cur); /* kept: with its evidence */
        pos = nout < max ? nout : max - 1;
        while (pos > 0 && better(cur.level, cur.score, cur.entry_id, out[pos - 1].level,
                                 out[pos - 1].score, out[pos - 1].entry_id)) {
            out[pos] = out[pos - 1];
            pos--;
        }
        out[pos] = cur;
        if (nout < max)
            nout++;
    }
    goto done;

nomem:
    errno = ENOMEM;
    nout = -1;
done:
    free(sc);
    free(s->mask);
    free(s->touched);
    free(s->vids);
    free(s->cands);
    free(s);
    return nout;
}

const char *screen_level_name(int level)
{
    return level == SCREEN_BLOCK ? "block" : level == SCREEN_REVIEW ? "review" : "clear";
}

const char *screen_kind_name(int kind)
{
    return kind == SCREEN_KIND_PARTIAL ? "partial" : kind == SCREEN_KIND_COMMON ? "common" : "name";
}

const char *screen_fact_name(int fact)
{
    switch (fact) {
    case SCREEN_FACT_AGREES:
        return "agrees";
    case SCREEN_FACT_NEAR:
        return "near";
    case SCREEN_FACT_DISAGREES:
        return "disagrees";
    default:
        return "unknown";
    }
}
