/*
 * test_market.c - unit tests for app/pipeline/market_csv.c (cmocka): the decimal, date and
 * symbol rules, basis points, the trimming GET /data applies, and the strict CSV reader.
 *
 * Design: the value rules are tables of inputs on either side of each limit (12/13 integer
 * digits, 6/7 decimal places, 28/29 February), printed by name when a row fails. The CSV tests
 * feed whole files and compare the list of reported problems, as "line:field" strings, with
 * what an operator should see; the last test throws deterministic pseudo-random bytes at the
 * reader in an exactly-sized heap buffer, so a read past the end shows under
 * -fsanitize=address.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "market_csv.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* ---- decimals ------------------------------------------------------------------------------- */

static void test_decimal_valid(void **state)
{
    (void)state;
    static const struct {
        const char *in;
        int64_t micro;
    } ok[] = {
        {"0", 0},
        {"6.5", 6500000},
        {"6.500000", 6500000},
        {"-0.25", -250000},
        {"-0", 0},
        {"007", 7000000},
        {"0.000001", 1},
        {"-0.000001", -1},
        {"88.6125", 88612500},
        {"999999999999.999999", INT64_C(999999999999999999)},
        {"-999999999999.999999", -INT64_C(999999999999999999)},
        {"123456789012", INT64_C(123456789012000000)},
    };
    for (size_t i = 0; i < ARRAY_LEN(ok); i++) {
        int64_t m = -42;
        const char *why = market_check_decimal(ok[i].in, &m);
        if (why != NULL)
            fail_msg("market_check_decimal(\"%s\") refused: %s", ok[i].in, why);
        if (m != ok[i].micro)
            fail_msg("market_check_decimal(\"%s\") = %lld, want %lld", ok[i].in, (long long)m,
                     (long long)ok[i].micro);
    }
    assert_null(market_check_decimal("1.5", NULL)); /* micro may be NULL */
}

static void test_decimal_invalid(void **state)
{
    (void)state;
    /* clang-format off */
    static const char *bad[] = {
        "",        "-",        ".5",       "5.",         "1e5",           "1E5",
        "6.5.0",   "+1",       " 1",       "1 ",         "1,000",         "1_000",
        "NaN",     "inf",      "-inf",     "0x10",       "--1",           "1-",
        "1.2345678", "6.5000000", "1234567890123", "-1234567890123", "1.-5", "١",
        "1\t",     "\xEF\xBC\x91", "0.",     "-.5",
    };
    /* clang-format on */
    for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
        int64_t m = 7;
        if (market_check_decimal(bad[i], &m) == NULL)
            fail_msg("market_check_decimal(\"%s\") accepted", bad[i]);
        if (m != 7)
            fail_msg("market_check_decimal(\"%s\") wrote a value on failure", bad[i]);
    }
    /* The messages say which limit was crossed. */
    assert_non_null(strstr(market_check_decimal("1.1234567", NULL), "6 decimal places"));
    assert_non_null(strstr(market_check_decimal("1234567890123", NULL), "12 digits"));
}

/* ---- dates, symbols, categories -------------------------------------------------------------- */

static void test_dates(void **state)
{
    (void)state;
    static const char *ok[] = {"2026-11-20", "2024-02-29", "2000-02-29", "1900-01-01",
                               "2026-12-31", "2026-04-30", "9999-12-31"};
    static const char *bad[] = {"2026-02-29", "1900-02-29",          "2100-02-29",  "2026-13-01",
                                "2026-00-10", "2026-11-31",          "2026-11-00",  "2026-1-1",
                                "26-11-20",   "2026/11/20",          "2026-11-20x", "1899-12-31",
                                "",           "abcd-ef-gh",          " 2026-11-20", "2026-11-2 ",
                                "20261120",   "2026-11-20T00:00:00Z"};
    for (size_t i = 0; i < ARRAY_LEN(ok); i++)
        if (market_check_date(ok[i]) != NULL)
            fail_msg("market_check_date(\"%s\") refused: %s", ok[i], market_check_date(ok[i]));
    for (size_t i = 0; i < ARRAY_LEN(bad); i++)
        if (market_check_date(bad[i]) == NULL)
            fail_msg("market_check_date(\"%s\") accepted", bad[i]);
}

static void test_symbols_and_categories(void **state)
{
    (void)state;
    static const char *ok[] = {
        "SPX", "^GSPC", "BRK.B", "EUR-USD", "MCLR_1Y", "A", "ABCDEFGHIJKLMNOPQRSTUVWX"};
    static const char *bad[] = {
        "", "ABCDEFGHIJKLMNOPQRSTUVWXY", "spx", "A B", "A,B", "\xC3\x89", "A/B", "A\n", "Sofr"};
    for (size_t i = 0; i < ARRAY_LEN(ok); i++)
        if (market_check_symbol(ok[i]) != NULL)
            fail_msg("market_check_symbol(\"%s\") refused", ok[i]);
    for (size_t i = 0; i < ARRAY_LEN(bad); i++)
        if (market_check_symbol(bad[i]) == NULL)
            fail_msg("market_check_symbol(\"%s\") accepted", bad[i]);
    assert_true(market_category_valid("index"));
    assert_true(market_category_valid("rate"));
    assert_true(market_category_valid("fx"));
    assert_true(market_category_valid("commodity"));
    assert_false(market_category_valid("Rate"));
    assert_false(market_category_valid("stock"));
    assert_false(market_category_valid(""));
    assert_false(market_category_valid(NULL));
}

/* ---- basis points and trimming --------------------------------------------------------------- */

static void test_bps(void **state)
{
    (void)state;
    static const struct {
        int64_t micro;
        int bps;
    } cases[] = {
        {6500000, 650}, {5250000, 525},     {6505000, 651}, {6504999, 650},
        {-250000, -25}, {-255000, -26},     {-254999, -25}, {0, 0},
        {1, 0},         {5000, 1},          {4999, 0},      {-5000, -1},
        {3870000, 387}, {100000000, 10000},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        int b = -12345;
        assert_int_equal(market_bps(cases[i].micro, &b), 0);
        if (b != cases[i].bps)
            fail_msg("market_bps(%lld) = %d, want %d", (long long)cases[i].micro, b, cases[i].bps);
    }
    int b;
    assert_int_equal(market_bps(INT64_C(999999999999999999), &b), -1);
    assert_int_equal(market_bps(-INT64_C(999999999999999999), &b), -1);
}

static void test_trim(void **state)
{
    (void)state;
    static const struct {
        const char *in, *out;
    } cases[] = {
        {"6.500000", "6.5"},
        {"24000.000000", "24000"},
        {"0.000000", "0"},
        {"-0.250000", "-0.25"},
        {"100", "100"},
        {"10.10", "10.1"},
        {"-0.000000", "0"},
        {"0.000001", "0.000001"},
        {"1000.000100", "1000.0001"},
        {"-4.55", "-4.55"},
        {"0.00", "0"},
        {"-1.20", "-1.2"},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        char out[32];
        market_trim_decimal(cases[i].in, out, sizeof(out));
        if (strcmp(out, cases[i].out) != 0)
            fail_msg("market_trim_decimal(\"%s\") = \"%s\", want \"%s\"", cases[i].in, out,
                     cases[i].out);
    }
}

/* ---- CSV ------------------------------------------------------------------------------------- */

struct problems {
    char text[4096]; /* "line:field;" for each problem */
    int n;
};

static void collect(int line, const char *field, const char *message, void *ud)
{
    struct problems *p = ud;
    size_t used = strlen(p->text);
    snprintf(p->text + used, sizeof(p->text) - used, "%d:%s;", line, field);
    assert_non_null(message);
    assert_true(message[0] != '\0');
    p->n++;
}

/* Parses text; returns the problems as "line:field;…" (static buffer) and the rows in *set. */
static const char *parse(const char *text, struct market_set *set)
{
    static struct problems p;
    memset(&p, 0, sizeof(p));
    memset(set, 0, sizeof(*set));
    /* An exactly-sized copy, not NUL-terminated where the reader could rely on it. */
    size_t len = strlen(text);
    char *buf = malloc(len ? len : 1);
    assert_non_null(buf);
    memcpy(buf, text, len);
    int rc = market_parse_csv(buf, len, set, collect, &p);
    free(buf);
    assert_int_equal(rc, p.n);
    return p.text;
}

static void test_csv_good(void **state)
{
    (void)state;
    struct market_set s;
    const char *text = "\xEF\xBB\xBF"
                       "symbol,name,category,value,change,as_of,source\r\n"
                       "NIFTY50,NIFTY 50,index,26145.35,118.40,2026-11-20,NSE\r\n"
                       "\r\n"
                       "XAU,\"Gold, spot \"\"LBMA\"\"\",commodity,4072.4,-18.9,2026-11-20,\r\n"
                       "RBI_REPO,Repo,rate,5.50,0,2026-11-20,\"Reserve Bank, India\"\r\n"
                       "\n"
                       "USDINR,Rupee,fx,88.6125,0.145,2026-11-20,FBIL"; /* no final newline */
    assert_string_equal(parse(text, &s), "");
    assert_int_equal(s.n, 4);
    assert_string_equal(s.rows[0].symbol, "NIFTY50");
    assert_string_equal(s.rows[0].name, "NIFTY 50");
    assert_string_equal(s.rows[0].value, "26145.35");
    assert_string_equal(s.rows[0].change, "118.40");
    assert_int_equal(s.rows[0].line, 2);
    assert_string_equal(s.rows[1].name, "Gold, spot \"LBMA\"");
    assert_string_equal(s.rows[1].source, "");
    assert_int_equal(s.rows[1].line, 4);
    assert_string_equal(s.rows[2].category, "rate");
    assert_string_equal(s.rows[2].source, "Reserve Bank, India");
    assert_int_equal(s.rows[3].line, 7);
    assert_string_equal(s.rows[3].source, "FBIL");
    assert_string_equal(s.rows[3].as_of, "2026-11-20");
    market_set_free(&s);
    assert_null(s.rows);
    market_set_free(NULL);
}

static void test_csv_columns_any_order_and_optional(void **state)
{
    (void)state;
    struct market_set s;
    assert_string_equal(parse("as_of,value,category,name,symbol\n"
                              "2026-11-20,3.87,rate,SOFR,SOFR\n",
                              &s),
                        "");
    assert_int_equal(s.n, 1);
    assert_string_equal(s.rows[0].symbol, "SOFR");
    assert_string_equal(s.rows[0].value, "3.87");
    assert_string_equal(s.rows[0].change, "0");
    assert_string_equal(s.rows[0].source, "");
    market_set_free(&s);
}

static void test_csv_every_bad_row_is_reported(void **state)
{
    (void)state;
    struct market_set s;
    const char *text = "symbol,name,category,value,change,as_of,source\n"
                       "A,Alpha,index,1e5,0,2026-11-20,x\n"        /* 2: value */
                       "B,Beta,rate,6.5.0,0,2026-02-30,x\n"        /* 3: value, as_of */
                       "C,Gamma,stock,1,0,2026-11-20,x\n"          /* 4: category */
                       "D,Delta,index,1.1234567,+1,2026-11-20,x\n" /* 5: value, change */
                       "e,Eps,index,1,0,2026-11-20,x\n"            /* 6: symbol */
                       "F,,fx,1,0,2026-11-20,x\n"                  /* 7: name */
                       "G,Ga,fx,1,0,2026-11-20\n"                  /* 8: row (6 fields) */
                       "H,\"Multi\nline\",fx,1,0,2026-11-20,x\n"   /* 9: name (line break) */
                       "I,Iota,fx,1,0,20261120,x\n"                /* 11: as_of */
                       "J,Jay,fx,1,0,2026-11-20,x\n"               /* fine */
                       "J,Jay again,fx,2,0,2026-11-20,x\n"         /* 13: duplicate */
                       "K,K \"x\",fx,1,0,2026-11-20,x\n"           /* 14: row (stray quote) */
                       "L,\"L\"x,fx,1,0,2026-11-20,x\n"            /* 15: row (after quote) */
                       "M,Em,fx,1,0,2026-11-20,x\rN\n"             /* 16: row (lone CR) */
                       "O,Oh,fx,1,0,2026-11-20,x\n";               /* fine */
    assert_string_equal(parse(text, &s), "2:value;3:value;3:as_of;4:category;5:value;5:change;"
                                         "6:symbol;7:name;8:row;9:name;11:as_of;14:row;15:row;"
                                         "16:row;13:symbol;");
    market_set_free(&s);
}

static void test_csv_header_problems(void **state)
{
    (void)state;
    struct market_set s;
    assert_string_equal(parse("", &s), "1:header;");
    market_set_free(&s);
    assert_string_equal(parse("\n\n", &s), "1:header;");
    market_set_free(&s);
    assert_string_equal(parse("symbol,name,category,value,foo\nA,B,index,1,x\n", &s),
                        "1:header;1:header;"); /* unknown foo, missing as_of */
    market_set_free(&s);
    assert_string_equal(parse("symbol,name,category,value,as_of,symbol\n", &s), "1:header;");
    market_set_free(&s);
    assert_string_equal(parse("Symbol,name,category,value,as_of\n", &s), "1:header;1:header;");
    market_set_free(&s);
    /* A header only: no problem at this level (loanctl refuses it without --allow-empty). */
    assert_string_equal(parse("symbol,name,category,value,as_of\r\n", &s), "");
    assert_int_equal(s.n, 0);
    market_set_free(&s);
}

static void test_csv_structure(void **state)
{
    (void)state;
    struct market_set s;
    /* An unterminated quote ends the reading: nothing after it is reported. */
    assert_string_equal(parse("symbol,name,category,value,as_of\n"
                              "X,\"open,index,1,2026-01-01\n"
                              "Y,bad,nope,1,2026-01-01\n",
                              &s),
                        "2:row;");
    market_set_free(&s);
    /* More fields than the reader takes. */
    assert_string_equal(parse("symbol,name,category,value,as_of\n"
                              "A,b,c,d,e,f,g,h,i,j,k,l,m,n,o,p,q,r\n"
                              "B,Bee,fx,1,2026-01-01\n",
                              &s),
                        "2:row;");
    assert_int_equal(s.n, 1);
    market_set_free(&s);
    /* A NUL byte inside a field. */
    static const char nul[] = "symbol,name,category,value,as_of\nA,x\0y,fx,1,2026-01-01\n";
    struct problems p;
    memset(&p, 0, sizeof(p));
    memset(&s, 0, sizeof(s));
    assert_int_equal(market_parse_csv(nul, sizeof(nul) - 1, &s, collect, &p), 1);
    assert_string_equal(p.text, "2:row;");
    market_set_free(&s);
    /* A quoted empty line is a row, not a blank line. */
    assert_string_equal(parse("symbol,name,category,value,as_of\n\"\"\n", &s), "2:row;");
    market_set_free(&s);
    /* No callback: problems are still counted. */
    memset(&s, 0, sizeof(s));
    assert_int_equal(market_parse_csv("x", 1, &s, NULL, NULL), 6); /* unknown x, 5 missing */
    market_set_free(&s);
}

static void test_csv_limits(void **state)
{
    (void)state;
    struct market_set s;
    char name[MARKET_TEXT_MAX + 2];
    char text[1024];
    memset(name, 'n', sizeof(name) - 1);
    name[MARKET_TEXT_MAX] = '\0'; /* 200 bytes: fine */
    snprintf(text, sizeof(text), "symbol,name,category,value,as_of\nA,%s,fx,1,2026-01-01\n", name);
    assert_string_equal(parse(text, &s), "");
    market_set_free(&s);
    name[MARKET_TEXT_MAX] = 'n';
    name[MARKET_TEXT_MAX + 1] = '\0'; /* 201 */
    snprintf(text, sizeof(text), "symbol,name,category,value,as_of\nA,%s,fx,1,2026-01-01\n", name);
    assert_string_equal(parse(text, &s), "2:name;");
    market_set_free(&s);
    /* Invalid UTF-8 in a name, a tab in a source. */
    assert_string_equal(parse("symbol,name,category,value,as_of,source\n"
                              "A,caf\xE9,fx,1,2026-01-01,x\n"
                              "B,Caf\xC3\xA9,fx,1,2026-01-01,a\tb\n",
                              &s),
                        "2:name;3:source;");
    market_set_free(&s);
}

/* Pseudo-random bytes, mostly CSV-ish, must never crash or read out of bounds. */
static void test_csv_noise(void **state)
{
    (void)state;
    static const char alphabet[] = "AZ09,,,\"\"\r\n\n.-_^ e+\x00\xC3\xA9\xFF"
                                   "symbolnamecategoryvalueas_of";
    uint64_t x = 0x9e3779b97f4a7c15ULL;
    for (int round = 0; round < 3000; round++) {
        size_t len = (size_t)(round % 200);
        char *buf = malloc(len ? len : 1);
        assert_non_null(buf);
        size_t start = 0;
        if (round % 3 == 0 && len > 40) {
            memcpy(buf, "symbol,name,category,value,as_of\n", 33);
            start = 33;
        }
        for (size_t i = start; i < len; i++) {
            x ^= x >> 12;
            x ^= x << 25;
            x ^= x >> 27;
            buf[i] = alphabet[(x * 2685821657736338717ULL >> 33) % (sizeof(alphabet) - 1)];
        }
        struct market_set s;
        memset(&s, 0, sizeof(s));
        int rc = market_parse_csv(buf, len, &s, NULL, NULL);
        assert_true(rc >= 0);
        for (size_t i = 0; i < s.n; i++) {
            assert_null(market_check_symbol(s.rows[i].symbol));
            assert_null(market_check_decimal(s.rows[i].value, NULL));
            assert_null(market_check_date(s.rows[i].as_of));
        }
        market_set_free(&s);
        free(buf);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_decimal_valid),
        cmocka_unit_test(test_decimal_invalid),
        cmocka_unit_test(test_dates),
        cmocka_unit_test(test_symbols_and_categories),
        cmocka_unit_test(test_bps),
        cmocka_unit_test(test_trim),
        cmocka_unit_test(test_csv_good),
        cmocka_unit_test(test_csv_columns_any_order_and_optional),
        cmocka_unit_test(test_csv_every_bad_row_is_reported),
        cmocka_unit_test(test_csv_header_problems),
        cmocka_unit_test(test_csv_structure),
        cmocka_unit_test(test_csv_limits),
        cmocka_unit_test(test_csv_noise),
    };
    return cmocka_run_group_tests_name("market", tests, NULL, NULL);
}
