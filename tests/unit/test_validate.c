/*
 * test_validate.c - unit tests for app/pipeline/validate.c (cmocka).
 *
 * Design: the tests need nothing but validate.c and cmocka. Most are tables of inputs sitting
 * on either side of a boundary (9/10 and 15/16 phone digits, 2/3 and 100/101 name characters,
 * 64/65 local-part and 254/255 address bytes), so an off-by-one shows up as a named failing
 * input rather than a line number. Verhoeff is tested three ways: published vectors ("236" ->
 * 3), hand-computed 12-digit Aadhaar-shaped numbers, and the scheme's guarantees checked
 * exhaustively on those numbers (all 108 single-digit substitutions and every adjacent
 * transposition of distinct digits are rejected) and on many generated payloads. A last test
 * throws deterministic pseudo-random bytes, including invalid UTF-8, at every function in
 * exactly-sized heap buffers, so a read past a terminator shows up under
 * -fsanitize=address.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "validate.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

struct str_case {
    const char *in;
    long want;
};

/* Report the failing input, not just the line, when a table row is wrong. */
static void expect(const char *fn, const char *in, long got, long want)
{
    if (got != want)
        fail_msg("%s(\"%s\") = %ld, want %ld", fn, in != NULL ? in : "(NULL)", got, want);
}

#define CHECK_TABLE(fn, table)                                                                     \
    do {                                                                                           \
        for (size_t i_ = 0; i_ < ARRAY_LEN(table); i_++)                                           \
            expect(#fn, (table)[i_].in, (long)fn((table)[i_].in), (table)[i_].want);               \
    } while (0)

/* Fill buf with n copies of unit (a NUL-terminated UTF-8 sequence) and terminate it. */
static char *repeat(char *buf, const char *unit, size_t n)
{
    size_t len = strlen(unit);

    for (size_t i = 0; i < n; i++)
        memcpy(buf + i * len, unit, len);
    buf[n * len] = '\0';
    return buf;
}

/* ---- UTF-8 -------------------------------------------------------------------------------- */

static void test_utf8_chars_valid(void **state)
{
    static const struct str_case cases[] = {
        {"", 0},
        {"abc", 3},
        {"Zo\xC3\xAB", 3},                           /* Zoë: ë is two bytes */
        {"\xE6\x9D\x8E\xE5\xB0\x8F\xE9\xBE\x99", 3}, /* 李小龙 */
        {"\xF0\x9F\x98\x80", 1},                     /* U+1F600, four bytes */
        {"\xC2\x80", 1},                             /* U+0080, smallest two-byte */
        {"\xDF\xBF", 1},                             /* U+07FF */
        {"\xE0\xA0\x80", 1},                         /* U+0800, smallest three-byte */
        {"\xED\x9F\xBF", 1},                         /* U+D7FF, just below the surrogates */
        {"\xEE\x80\x80", 1},                         /* U+E000, just above them */
        {"\xEF\xBF\xBF", 1},                         /* U+FFFF */
        {"\xF0\x90\x80\x80", 1},                     /* U+10000, smallest four-byte */
        {"\xF4\x8F\xBF\xBF", 1},                     /* U+10FFFF, the last code point */
    };

    (void)state;
    CHECK_TABLE(val_utf8_chars, cases);
}

static void test_utf8_chars_invalid(void **state)
{
    static const struct str_case cases[] = {
        {NULL, -1},
        {"\x80", -1}, /* stray continuation byte */
        {"a\xBFz", -1},
        {"\xC3", -1}, /* truncated at the end */
        {"\xE2\x82", -1},
        {"\xE2\x82z", -1}, /* truncated in the middle */
        {"\xF0\x9F\x98", -1},
        {"\xC0\xAF", -1}, /* overlong '/' */
        {"\xC1\xBF", -1},
        {"\xE0\x80\xAF", -1}, /* overlong three-byte */
        {"\xE0\x9F\xBF", -1},
        {"\xF0\x80\x80\xAF", -1}, /* overlong four-byte */
        {"\xF0\x8F\xBF\xBF", -1},
        {"\xED\xA0\x80", -1},     /* U+D800, first surrogate */
        {"\xED\xBF\xBF", -1},     /* U+DFFF, last surrogate */
        {"\xF4\x90\x80\x80", -1}, /* U+110000 */
        {"\xF5\x80\x80\x80", -1},
        {"\xF8\x88\x80\x80\x80", -1}, /* old five-byte form */
        {"\xFE", -1},
        {"\xFF", -1},
        {"ok\xC3\xAB\xC3", -1}, /* valid prefix, bad end */
    };

    (void)state;
    CHECK_TABLE(val_utf8_chars, cases);
}

/* ---- names -------------------------------------------------------------------------------- */

static void test_name_length_boundaries(void **state)
{
    static const struct str_case cases[] = {
        {"Zo", 0},
        {"Zoe", 1},
        {"Zo\xC3\xAB", 1},                           /* Zoë: 3 code points in 4 bytes */
        {"\xE6\x9D\x8E\xE5\xB0\x8F", 0},             /* 李小: 2 code points in 6 bytes */
        {"\xE6\x9D\x8E\xE5\xB0\x8F\xE9\xBE\x99", 1}, /* 李小龙 */
        {"Ze\xCC\x88", 1},                           /* Z e + combining diaeresis: 3 code points */
        {"  Zo  ", 0},                               /* trimmed to 2 */
        {"  Zo\xC3\xAB  ", 1},
        {"\xC2\xA0Zo\xC2\xA0", 0},          /* NBSP is trimmed too */
        {"\xE3\x80\x80Zoe\xE3\x80\x80", 1}, /* ideographic spaces around */
        {"A B", 1},                         /* inner space counts */
        {"", 0},
        {"   ", 0},
        {NULL, 0},
    };
    char buf[512];

    (void)state;
    CHECK_TABLE(val_name, cases);
    assert_int_equal(val_name(repeat(buf, "a", 100)), 1);
    assert_int_equal(val_name(repeat(buf, "a", 101)), 0);
    assert_int_equal(val_name(repeat(buf, "\xC3\xA9", 100)), 1); /* 100 é, 200 bytes */
    assert_int_equal(val_name(repeat(buf, "\xC3\xA9", 101)), 0);
    assert_int_equal(val_name(repeat(buf, "\xE6\x9D\x8E", 100)), 1);
    assert_int_equal(val_name(repeat(buf, "\xE6\x9D\x8E", 101)), 0);
    /* Spaces around a 100-character name do not count against it. */
    repeat(buf, " ", 50);
    repeat(buf + 50, "b", 100);
    repeat(buf + 150, " ", 50);
    assert_int_equal(val_name(buf), 1);
}

static void test_name_content(void **state)
{
    static const struct str_case cases[] = {
        {"O'Brien", 1},
        {"Jean-Luc Picard", 1},
        {"Mary Ann St. John", 1},
        {"\xE0\xA4\xB0\xE0\xA4\xBE\xE0\xA4\xAE", 1}, /* राम, Devanagari */
        {"\xD0\x98\xD0\xB2\xD0\xB0\xD0\xBD", 1},     /* Иван */
        {"\xD8\xB9\xD9\x84\xD9\x8A", 1},             /* علي */
        {"X \xC3\x86 A-12", 1},                      /* odd but has letters */
        {"123", 0},                                  /* no letter */
        {"---", 0},
        {"1.2-3 (4)", 0},
        {"\xE0\xA5\xA7\xE0\xA5\xA8\xE0\xA5\xA9", 0},             /* १२३, Devanagari digits */
        {"\xF0\x9F\x98\x80\xF0\x9F\x98\x80\xF0\x9F\x98\x80", 0}, /* three emoji */
        {"\xE2\x98\x85\xE2\x98\x85\xE2\x98\x85", 0},             /* three stars */
        {"Ann\tLee", 0},                                         /* control characters anywhere */
        {"Ann Lee\n", 0},
        {"\rAnn Lee", 0},
        {"Ann\x7FLee", 0},
        {"Ann\xC2\x85Lee", 0},      /* C1 NEL */
        {"Ann\xE2\x80\xA8Lee", 0},  /* line separator */
        {"\xE2\x80\xAEnnA eeL", 0}, /* right-to-left override */
        {"Ann\xE2\x81\xA6Lee", 0},  /* left-to-right isolate */
        {"Zo\xC3", 0},              /* invalid UTF-8 */
        {"Zoe\xC0\xAF", 0},
        {"Zoe\xED\xA0\x80", 0},
    };

    (void)state;
    CHECK_TABLE(val_name, cases);
}

/* ---- e-mail ------------------------------------------------------------------------------- */

static void test_email_cases(void **state)
{
    static const struct str_case cases[] = {
        {"a@b.co", 1},
        {"first.last@example.com", 1},
        {"first.last+tag@mail.example.co.in", 1},
        {"o'reilly@example.ie", 1},
        {"user_name-1@sub-domain.example.org", 1},
        {"!#$%&'*+-/=?^_`{|}~@example.com", 1},
        {"A@EXAMPLE.COM", 1},
        {"x@xn--80ak6aa92e.com", 1}, /* punycode label */
        {"a@1.2.3.com", 1},          /* digit-only labels below the TLD */
        {NULL, 0},
        {"", 0},
        {"plain", 0},
        {"@example.com", 0}, /* empty local part */
        {"a@", 0},
        {"a@@example.com", 0},
        {"a@b@example.com", 0},
        {".a@example.com", 0}, /* dots in the local part */
        {"a.@example.com", 0},
        {"a..b@example.com", 0},
        {".@example.com", 0},
        {"a b@example.com", 0},
        {"\"a b\"@example.com", 0}, /* quoted local parts unsupported */
        {"a(b)@example.com", 0},
        {"a@example", 0},    /* no dot */
        {"a@example.c", 0},  /* one-letter TLD */
        {"a@example.c0", 0}, /* TLD with a digit */
        {"a@example.123", 0},
        {"a@-example.com", 0}, /* hyphen at label edges */
        {"a@example-.com", 0},
        {"a@example.-com", 0},
        {"a@example..com", 0}, /* empty labels */
        {"a@.example.com", 0},
        {"a@example.com.", 0},
        {"a@exam_ple.com", 0},
        {"a@[192.0.2.1]", 0},
        {"a@example.com ", 0}, /* no trimming */
        {" a@example.com", 0},
        {"\xC3\xBC@example.com", 0}, /* ü: non-ASCII */
        {"a@ex\xC3\xA4mple.com", 0},
        {"a@example.com\xFF", 0},
    };

    (void)state;
    CHECK_TABLE(val_email, cases);
}

static void test_email_length_limits(void **state)
{
    char buf[512];
    char *p;

    (void)state;
    /* Local part: 64 allowed, 65 not. */
    strcpy(repeat(buf, "a", 64) + 64, "@example.com");
    assert_int_equal(val_email(buf), 1);
    strcpy(repeat(buf, "a", 65) + 65, "@example.com");
    assert_int_equal(val_email(buf), 0);

    /* Whole address: 64 + 1 + 189 = 254 allowed; one more byte is not. */
    p = repeat(buf, "a", 64) + 64;
    *p++ = '@';
    p = repeat(p, "b", 63) + 63;
    *p++ = '.';
    p = repeat(p, "c", 63) + 63;
    *p++ = '.';
    p = repeat(p, "d", 57) + 57;
    strcpy(p, ".com");
    assert_int_equal(strlen(buf), 254);
    assert_int_equal(val_email(buf), 1);
    strcpy(p, "d.com");
    assert_int_equal(strlen(buf), 255);
    assert_int_equal(val_email(buf), 0);

    /* DNS label: 63 allowed, 64 not. */
    strcpy(buf, "x@");
    strcpy(repeat(buf + 2, "l", 63) + 63, ".com");
    assert_int_equal(val_email(buf), 1);
    strcpy(repeat(buf + 2, "l", 64) + 64, ".com");
    assert_int_equal(val_email(buf), 0);
}

/* ---- phone -------------------------------------------------------------------------------- */

static void test_phone(void **state)
{
    static const struct str_case cases[] = {
        {"987654321", 0},        /* 9 digits */
        {"9876543210", 1},       /* 10 */
        {"123456789012345", 1},  /* 15 */
        {"1234567890123456", 0}, /* 16 */
        {"+919876543210", 1},
        {"+91 98765 43210", 1},
        {"+91-98765-43210", 1},
        {"(022) 2345-6789", 1},
        {"+1 (415) 555-0100", 1},
        {"+12 345 678 901 234 5", 1},  /* 15 digits with spaces */
        {"+12 345 678 901 234 56", 0}, /* 16 */
        {"+ 98765 43210", 1},          /* '+' is first; spaces are allowed after it */
        {"98765 4321", 0},             /* 9 digits with a separator */
        {"91+9876543210", 0},          /* '+' in the middle */
        {"9876543210+", 0},
        {"++919876543210", 0},
        {" +919876543210", 0}, /* '+' must be the very first character */
        {"+", 0},
        {"", 0},
        {NULL, 0},
        {"98765.43210", 0},
        {"98765/43210", 0},
        {"9876543210 ext 12", 0},
        {"98765O3210", 0}, /* letter O */
        {"\xD9\xA9\xD9\xA8\xD9\xA7\xD9\xA6\xD9\xA5\xD9\xA4\xD9\xA3\xD9\xA2\xD9\xA1\xD9\xA0", 0},
        {"98765\t43210", 0},
    };

    (void)state;
    CHECK_TABLE(val_phone, cases);
}

/* ---- Verhoeff and Aadhaar ----------------------------------------------------------------- */

/* Computed by hand (and cross-checked with an independent table-driven implementation). */
static const char *const valid_aadhaar[] = {
    "234567890124", "987654321012", "509123456786", "271828182847", "314159265351", "864201357977",
};

static void test_verhoeff_known_vectors(void **state)
{
    static const struct str_case check[] = {
        {"2363", 1},
        {"2360", 0},
        {"2364", 0},
        {"123451", 1},
        {"758722", 1},
        {"1234567890120", 1},
        {"1234567890121", 0},
        {"04", 1},
        {"00", 0},
        {"0", 0}, /* payload needed */
        {"", 0},
        {NULL, 0},
        {"23 63", 0},
        {"236a", 0},
        {"-2363", 0},
        {"2363\n", 0},
    };
    static const struct str_case digit[] = {
        {"236", 3},         {"12345", 1}, {"75872", 2}, {"123456789012", 0}, {"0", 4},
        {"23456789012", 4}, {"", -1},     {NULL, -1},   {"23a", -1},         {" 236", -1},
    };

    (void)state;
    CHECK_TABLE(val_verhoeff, check);
    CHECK_TABLE(val_verhoeff_digit, digit);
    for (size_t i = 0; i < ARRAY_LEN(valid_aadhaar); i++) {
        char payload[12];

        memcpy(payload, valid_aadhaar[i], 11);
        payload[11] = '\0';
        expect("val_verhoeff", valid_aadhaar[i], val_verhoeff(valid_aadhaar[i]), 1);
        expect("val_aadhaar", valid_aadhaar[i], val_aadhaar(valid_aadhaar[i]), 1);
        expect("val_verhoeff_digit", payload, val_verhoeff_digit(payload),
               valid_aadhaar[i][11] - '0');
    }
}

/* Every one of the 12 x 9 = 108 single-digit substitutions of a valid number is rejected. */
static void test_verhoeff_all_substitutions_rejected(void **state)
{
    (void)state;
    for (size_t n = 0; n < ARRAY_LEN(valid_aadhaar); n++) {
        int rejected = 0;

        for (size_t pos = 0; pos < 12; pos++) {
            for (char d = '0'; d <= '9'; d++) {
                char buf[13];

                if (d == valid_aadhaar[n][pos])
                    continue;
                memcpy(buf, valid_aadhaar[n], sizeof(buf));
                buf[pos] = d;
                if (val_verhoeff(buf))
                    fail_msg("substitution %s accepted (from %s)", buf, valid_aadhaar[n]);
                assert_int_equal(val_aadhaar(buf), 0);
                rejected++;
            }
        }
        assert_int_equal(rejected, 108);
    }
}

/* Every adjacent transposition of two different digits of a valid number is rejected. */
static void test_verhoeff_all_transpositions_rejected(void **state)
{
    (void)state;
    for (size_t n = 0; n < ARRAY_LEN(valid_aadhaar); n++) {
        int tried = 0;

        for (size_t pos = 0; pos + 1 < 12; pos++) {
            char buf[13];

            if (valid_aadhaar[n][pos] == valid_aadhaar[n][pos + 1])
                continue;
            memcpy(buf, valid_aadhaar[n], sizeof(buf));
            buf[pos] = valid_aadhaar[n][pos + 1];
            buf[pos + 1] = valid_aadhaar[n][pos];
            if (val_verhoeff(buf))
                fail_msg("transposition %s accepted (from %s)", buf, valid_aadhaar[n]);
            tried++;
        }
        assert_true(tried > 0);
    }
    /* The first number has all 11 adjacent pairs distinct, so all 11 were exercised. */
    assert_string_equal(valid_aadhaar[0], "234567890124");
}

/* xorshift32: a fixed, dependency-free sequence so failures reproduce. */
static uint32_t next_rand(uint32_t *s)
{
    uint32_t x = *s;

    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    *s = x;
    return x;
}

/* The same guarantees on generated payloads of several lengths, not just our six numbers. */
static void test_verhoeff_generated_payloads(void **state)
{
    uint32_t seed = 0x9E3779B9u;

    (void)state;
    for (int iter = 0; iter < 2000; iter++) {
        char buf[40];
        size_t len = 1 + next_rand(&seed) % 30; /* payload length */
        int check;

        for (size_t i = 0; i < len; i++)
            buf[i] = (char)('0' + next_rand(&seed) % 10);
        buf[len] = '\0';
        check = val_verhoeff_digit(buf);
        assert_in_range(check, 0, 9);
        buf[len] = (char)('0' + check);
        buf[len + 1] = '\0';
        if (!val_verhoeff(buf))
            fail_msg("generated %s rejected", buf);
        for (size_t pos = 0; pos <= len; pos++) {
            char orig = buf[pos];

            for (char d = '0'; d <= '9'; d++) {
                if (d == orig)
                    continue;
                buf[pos] = d;
                if (val_verhoeff(buf))
                    fail_msg("substitution %s accepted", buf);
            }
            buf[pos] = orig;
            if (pos < len && buf[pos] != buf[pos + 1]) {
                buf[pos] = buf[pos + 1];
                buf[pos + 1] = orig;
                if (val_verhoeff(buf))
                    fail_msg("transposition %s accepted", buf);
                buf[pos + 1] = buf[pos];
                buf[pos] = orig;
            }
        }
    }
}

static void test_aadhaar_forms(void **state)
{
    static const struct str_case cases[] = {
        {"234567890124", 1},
        {"2345 6789 0124", 1},
        {"2345 67890124", 0}, /* separators are all or nothing */
        {"23456789 0124", 0},
        {"2345  6789 0124", 0},
        {"2345-6789-0124", 0},
        {"234 5678 90124", 0},
        {" 234567890124", 0},
        {"234567890124 ", 0},
        {"2345 6789 0124 ", 0},
        {"23456789012", 0},   /* 11 digits */
        {"2345678901244", 0}, /* 13 digits */
        {"234567890125", 0},  /* wrong check digit */
        {"23456789012a", 0},
        {"2345 6789 012a", 0},
        {"", 0},
        {NULL, 0},
        /* Verhoeff-valid but starting with 0 or 1, which UIDAI never issues. */
        {"123456789010", 0},
        {"012345678906", 0},
        {"999999999999", 1}, /* repeated digits are not special */
        {"999999999995", 0},
    };
    char payload[12], num[13];

    (void)state;
    CHECK_TABLE(val_aadhaar, cases);
    /* Build first-digit cases from their check digits rather than trusting the table above. */
    for (char first = '0'; first <= '9'; first++) {
        memcpy(payload, "2345678901", 10);
        payload[0] = first;
        payload[10] = '7';
        payload[11] = '\0';
        memcpy(num, payload, 11);
        num[11] = (char)('0' + val_verhoeff_digit(payload));
        num[12] = '\0';
        assert_int_equal(val_verhoeff(num), 1);
        expect("val_aadhaar", num, val_aadhaar(num), first >= '2');
    }
}

static void test_aadhaar_canon(void **state)
{
    char out[13];
    char inplace[16];

    (void)state;
    assert_int_equal(val_aadhaar_canon("2345 6789 0124", out), 1);
    assert_string_equal(out, "234567890124");
    assert_int_equal(val_aadhaar_canon("234567890124", out), 1);
    assert_string_equal(out, "234567890124");

    memcpy(out, "stale value!", 13);
    assert_int_equal(val_aadhaar_canon("2345 6789 0125", out), 0);
    assert_string_equal(out, ""); /* failure never leaves an old result behind */
    memcpy(out, "stale value!", 13);
    assert_int_equal(val_aadhaar_canon(NULL, out), 0);
    assert_string_equal(out, "");

    assert_int_equal(val_aadhaar_canon("2345 6789 0124", NULL), 1);
    assert_int_equal(val_aadhaar_canon(NULL, NULL), 0);

    strcpy(inplace, "9876 5432 1012");
    assert_int_equal(val_aadhaar_canon(inplace, inplace), 1);
    assert_string_equal(inplace, "987654321012");
}

/* ---- PAN ---------------------------------------------------------------------------------- */

static void test_pan_format(void **state)
{
    static const struct str_case cases[] = {
        {"ABCPD1234F", VAL_PAN_OK},
        {"AAACB1234C", VAL_PAN_OK},
        {"abcpd1234f", VAL_PAN_ERR_FORMAT}, /* lower case */
        {"ABCPd1234F", VAL_PAN_ERR_FORMAT},
        {"ABCPD1234f", VAL_PAN_ERR_FORMAT},
        {"ABCPD1234", VAL_PAN_ERR_FORMAT},   /* 9 characters */
        {"ABCPD1234FF", VAL_PAN_ERR_FORMAT}, /* 11 */
        {"ABCPD12345", VAL_PAN_ERR_FORMAT},  /* digit in the last letter's place */
        {"1BCPD1234F", VAL_PAN_ERR_FORMAT},  /* digit in a letter's place */
        {"ABC1D1234F", VAL_PAN_ERR_FORMAT},
        {"ABCP11234F", VAL_PAN_ERR_FORMAT},
        {"ABCPDI234F", VAL_PAN_ERR_FORMAT}, /* letter in a digit's place */
        {"ABCPD123OF", VAL_PAN_ERR_FORMAT},
        {"ABCPD 1234F", VAL_PAN_ERR_FORMAT},
        {" ABCPD1234F", VAL_PAN_ERR_FORMAT},
        {"ABCPD1234F ", VAL_PAN_ERR_FORMAT},
        {"ABCPD1234\xC3\x89", VAL_PAN_ERR_FORMAT}, /* É */
        {"", VAL_PAN_ERR_FORMAT},
        {NULL, VAL_PAN_ERR_FORMAT},
        {"abcxd1234f", VAL_PAN_ERR_FORMAT}, /* format is reported before holder type */
    };

    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(cases); i++)
        expect("val_pan", cases[i].in, val_pan(cases[i].in, NULL), cases[i].want);
}

static void test_pan_holder_type(void **state)
{
    char pan[11];

    (void)state;
    for (char c = 'A'; c <= 'Z'; c++) {
        int want = strchr("PCHFATBLJG", c) != NULL ? VAL_PAN_OK : VAL_PAN_ERR_HOLDER_TYPE;

        memcpy(pan, "ABCPD1234F", sizeof(pan));
        pan[3] = c;
        expect("val_pan", pan, val_pan(pan, NULL), want);
    }
    /* Holder type is reported before a surname mismatch. */
    assert_int_equal(val_pan("ABCXD1234F", "K"), VAL_PAN_ERR_HOLDER_TYPE);
}

static void test_pan_surname(void **state)
{
    (void)state;
    assert_int_equal(val_pan("ABCPD1234F", "D"), VAL_PAN_OK);
    assert_int_equal(val_pan("ABCPD1234F", "d"), VAL_PAN_OK);
    assert_int_equal(val_pan("ABCPD1234F", "Desai"), VAL_PAN_OK); /* first byte used */
    assert_int_equal(val_pan("ABCPD1234F", "desai"), VAL_PAN_OK);
    assert_int_equal(val_pan("ABCPD1234F", ""), VAL_PAN_OK); /* no initial: no check */
    assert_int_equal(val_pan("ABCPD1234F", NULL), VAL_PAN_OK);
    assert_int_equal(val_pan("ABCPD1234F", "K"), VAL_PAN_ERR_SURNAME);
    assert_int_equal(val_pan("ABCPD1234F", "k"), VAL_PAN_ERR_SURNAME);
    assert_int_equal(val_pan("ABCPD1234F", " D"), VAL_PAN_ERR_SURNAME);
    assert_int_equal(val_pan("ABCPD1234F", "4"), VAL_PAN_ERR_SURNAME);
    assert_int_equal(val_pan("ABCPD1234F", "\xC3\x90"), VAL_PAN_ERR_SURNAME); /* Ð */
    assert_int_equal(val_pan("AAACB1234C", "B"), VAL_PAN_OK);
    /* A format error wins over a surname mismatch. */
    assert_int_equal(val_pan("abcpd1234f", "K"), VAL_PAN_ERR_FORMAT);
    /* The three failures are distinct and negative. */
    assert_true(VAL_PAN_ERR_FORMAT < 0 && VAL_PAN_ERR_HOLDER_TYPE < 0 && VAL_PAN_ERR_SURNAME < 0);
    assert_true(VAL_PAN_ERR_FORMAT != VAL_PAN_ERR_HOLDER_TYPE);
    assert_true(VAL_PAN_ERR_FORMAT != VAL_PAN_ERR_SURNAME);
    assert_true(VAL_PAN_ERR_HOLDER_TYPE != VAL_PAN_ERR_SURNAME);
}

/* ---- IFSC and account numbers ------------------------------------------------------------- */

static void test_ifsc(void **state)
{
    static const struct str_case cases[] = {
        {"SBIN0001234", 1},  {"HDFC0ABC123", 1},
        {"ICIC0000001", 1},  {"SBIN1001234", 0}, /* 5th character not 0 */
        {"SBINO001234", 0},                      /* letter O, not zero */
        {"sbin0001234", 0},                      /* lower case */
        {"SBIN0abc123", 0},  {"SBIN000123", 0},  /* 10 characters */
        {"SBIN00012345", 0},                     /* 12 */
        {"SB1N0001234", 0},                      /* digit in the bank code */
        {"SBIN000123-", 0},  {"SBIN 001234", 0},
        {"SBIN0001234 ", 0}, {"", 0},
        {NULL, 0},
    };

    (void)state;
    CHECK_TABLE(val_ifsc, cases);
}

static void test_account_number(void **state)
{
    static const struct str_case cases[] = {
        {"12345678", 0},            /* 8 digits */
        {"123456789", 1},           /* 9 */
        {"123456789012345678", 1},  /* 18 */
        {"1234567890123456789", 0}, /* 19 */
        {"1234 56789", 0},
        {"12345-6789", 0},
        {"12345678X", 0},
        {" 123456789", 0},
        {"", 0},
        {NULL, 0},
    };

    (void)state;
    CHECK_TABLE(val_account_number, cases);
}

/* ---- masking ------------------------------------------------------------------------------ */

static void expect_mask(const char *in, const char *want)
{
    char out[128];

    memset(out, '?', sizeof(out));
    val_mask_tail(in, out, sizeof(out));
    if (strcmp(out, want) != 0)
        fail_msg("val_mask_tail(\"%s\") = \"%s\", want \"%s\"", in != NULL ? in : "(NULL)", out,
                 want);
}

static void test_mask_tail(void **state)
{
    char out[16];
    char buf[32];

    (void)state;
    expect_mask("ABCPD1234F", "XXXXXX234F");
    expect_mask("234567890124", "XXXXXXXX0124");
    expect_mask("2345 6789 0124", "XXXXXXXXXX0124");
    expect_mask("12345", "X2345");
    expect_mask("1234", "1234");
    expect_mask("12", "12");
    expect_mask("", "");
    expect_mask(NULL, "");
    expect_mask("Zo\xC3\xABW2345", "XXXX2345");              /* ë masked as one X */
    expect_mask("ABCDE\xE6\x9D\x8E\xE5\xB0\x8F\xE9\xBE\x99", /* tail kept whole */
                "XXXXE\xE6\x9D\x8E\xE5\xB0\x8F\xE9\xBE\x99");
    expect_mask("ABCD\xC3WXYZ", "XXXXXXXXX"); /* invalid UTF-8: all masked */

    /* Exact fit works; one byte short gives "" rather than a truncated mask. */
    val_mask_tail("ABCPD1234F", out, 11);
    assert_string_equal(out, "XXXXXX234F");
    memcpy(out, "stale", 6);
    val_mask_tail("ABCPD1234F", out, 10);
    assert_string_equal(out, "");
    /* Multibyte input masks into fewer bytes than it occupies. */
    val_mask_tail("\xC3\xA9\xC3\xA9\xC3\xA9WXYZ", out, 8); /* 10 bytes in, 7 out */
    assert_string_equal(out, "XXXWXYZ");

    /* outlen 0 and NULL out write nothing. */
    memcpy(out, "keep", 5);
    val_mask_tail("ABCPD1234F", out, 0);
    assert_string_equal(out, "keep");
    val_mask_tail("ABCPD1234F", NULL, 16);

    /* In place. */
    strcpy(buf, "Zo\xC3\xABW2345");
    val_mask_tail(buf, buf, sizeof(buf));
    assert_string_equal(buf, "XXXX2345");
}

/* ---- robustness --------------------------------------------------------------------------- */

/*
 * Random strings, biased towards the bytes the validators care about, each in a heap block of
 * exactly its length + 1 so AddressSanitizer flags any read past the NUL. Beyond "does not
 * crash", check the invariants every result must satisfy.
 */
static void test_random_bytes_never_crash(void **state)
{
    static const char alphabet[] = "0123456789 +-()@._'AZaz\t";
    uint32_t seed = 12345;

    (void)state;
    for (int iter = 0; iter < 20000; iter++) {
        size_t len = next_rand(&seed) % 48;
        char *s = malloc(len + 1);
        char *out = malloc(len + 1);
        char canon[13];
        long chars;
        int pan;

        assert_non_null(s);
        assert_non_null(out);
        for (size_t i = 0; i < len; i++) {
            uint32_t r = next_rand(&seed);

            /* Half the bytes from the alphabet, half anything (NUL excluded). */
            s[i] =
                (r & 1) ? alphabet[(r >> 1) % (sizeof(alphabet) - 1)] : (char)(1 + (r >> 1) % 255);
        }
        s[len] = '\0';

        chars = val_utf8_chars(s);
        assert_true(chars >= -1 && chars <= (long)len);
        assert_in_range(val_email(s), 0, 1);
        assert_in_range(val_phone(s), 0, 1);
        assert_in_range(val_name(s), 0, 1);
        if (val_name(s))
            assert_true(chars >= 3);
        assert_in_range(val_verhoeff(s), 0, 1);
        /* Not assert_in_range: cmocka compares unsigned, so a -1 bound would wrap. */
        assert_true(val_verhoeff_digit(s) >= -1 && val_verhoeff_digit(s) <= 9);
        assert_in_range(val_ifsc(s), 0, 1);
        assert_in_range(val_account_number(s), 0, 1);
        pan = val_pan(s, s);
        assert_true(pan == VAL_PAN_OK || pan == VAL_PAN_ERR_FORMAT ||
                    pan == VAL_PAN_ERR_HOLDER_TYPE || pan == VAL_PAN_ERR_SURNAME);
        if (val_aadhaar_canon(s, canon)) {
            assert_int_equal(strlen(canon), 12);
            assert_int_equal(val_verhoeff(canon), 1);
        } else {
            assert_string_equal(canon, "");
        }

        val_mask_tail(s, out, len + 1);
        assert_true(strlen(out) <= len);
        if (chars >= 0)
            assert_int_equal(val_utf8_chars(out), chars);
        free(out);
        free(s);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_utf8_chars_valid),
        cmocka_unit_test(test_utf8_chars_invalid),
        cmocka_unit_test(test_name_length_boundaries),
        cmocka_unit_test(test_name_content),
        cmocka_unit_test(test_email_cases),
        cmocka_unit_test(test_email_length_limits),
        cmocka_unit_test(test_phone),
        cmocka_unit_test(test_verhoeff_known_vectors),
        cmocka_unit_test(test_verhoeff_all_substitutions_rejected),
        cmocka_unit_test(test_verhoeff_all_transpositions_rejected),
        cmocka_unit_test(test_verhoeff_generated_payloads),
        cmocka_unit_test(test_aadhaar_forms),
        cmocka_unit_test(test_aadhaar_canon),
        cmocka_unit_test(test_pan_format),
        cmocka_unit_test(test_pan_holder_type),
        cmocka_unit_test(test_pan_surname),
        cmocka_unit_test(test_ifsc),
        cmocka_unit_test(test_account_number),
        cmocka_unit_test(test_mask_tail),
        cmocka_unit_test(test_random_bytes_never_crash),
    };

    return cmocka_run_group_tests_name("validate", tests, NULL, NULL);
}
