/*
 * Protected identity data (app/store/pii.c): key derivation from PII_KEY, sealing bound to an
 * application and a field, the blind index, PostgreSQL bytea text and the display masks. The
 * properties tested are the ones the storage relies on: a sealed number never shows its clear
 * text, opens only under the same key, application and field, and breaks on any changed byte;
 * equal numbers give equal indexes and nothing else does.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <sodium.h>
#include <string.h>
#include <strings.h>

#include "pii.h"

static const char hex_a[] = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
static const char hex_b[] = "f0e1d2c3b4a5968778695a4b3c2d1e0f00112233445566778899aabbccddeeff";

static const char *const aadhaar = "234567890124";
static const char *const pan = "ABCPS1234K";
static const char *const account = "501002345678901234"; /* 18 digits */

static struct pii_key key(const char *hex)
{
    struct pii_key k;
    assert_int_equal(pii_key_from_hex(hex, &k), 0);
    return k;
}

static void test_key_from_hex_rejects(void **state)
{
    (void)state;
    struct pii_key k;
    char buf[80];
    assert_int_equal(pii_key_from_hex(NULL, &k), -1);
    assert_int_equal(pii_key_from_hex("", &k), -1);
    memcpy(buf, hex_a, 63); /* 63 digits */
    buf[63] = '\0';
    assert_int_equal(pii_key_from_hex(buf, &k), -1);
    snprintf(buf, sizeof(buf), "%s0", hex_a); /* 65 digits */
    assert_int_equal(pii_key_from_hex(buf, &k), -1);
    /* 64 characters that are not all hex digits, wherever the bad one is. */
    const char bad[] = {'g', 'z', ' ', ':', '-', 'G', '\xff'};
    for (size_t b = 0; b < sizeof(bad); b++) {
        for (size_t pos = 0; pos < 64; pos += 9) {
            snprintf(buf, sizeof(buf), "%s", hex_a);
            buf[pos] = bad[b];
            if (pii_key_from_hex(buf, &k) != -1)
                fail_msg("accepted a key with 0x%02x at %zu", (unsigned char)bad[b], pos);
        }
    }
    /* A refused key leaves nothing usable behind. */
    assert_string_equal(k.id, "");
}

static int is_hex(const char *s)
{
    for (; *s; s++)
        if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
            return 0;
    return 1;
}

static void test_key_id(void **state)
{
    (void)state;
    struct pii_key a1 = key(hex_a), a2 = key(hex_a), b = key(hex_b);
    /* Same master key: same subkeys and id. */
    assert_string_equal(a1.id, a2.id);
    assert_memory_equal(a1.seal, a2.seal, sizeof(a1.seal));
    assert_memory_equal(a1.index, a2.index, sizeof(a1.index));
    /* Upper-case hex is the same key. */
    char upper[65];
    for (int i = 0; i < 65; i++)
        upper[i] = (hex_a[i] >= 'a' && hex_a[i] <= 'f') ? (char)(hex_a[i] - 32) : hex_a[i];
    struct pii_key au = key(upper);
    assert_string_equal(au.id, a1.id);
    /* Different keys: different ids and subkeys. */
    assert_string_not_equal(a1.id, b.id);
    assert_memory_not_equal(a1.seal, b.seal, sizeof(a1.seal));
    assert_memory_not_equal(a1.index, b.index, sizeof(a1.index));
    /* The three subkeys differ from each other. */
    assert_memory_not_equal(a1.seal, a1.index, sizeof(a1.seal));
    /* 16 lower-case hex digits. */
    const struct pii_key *all[] = {&a1, &b};
    const char *hexes[] = {hex_a, hex_b};
    for (int i = 0; i < 2; i++) {
        assert_int_equal(strlen(all[i]->id), 16);
        assert_true(is_hex(all[i]->id));
        /* The id is not a piece of the key: no prefix, nor anywhere inside it. */
        assert_int_not_equal(strncasecmp(all[i]->id, hexes[i], 16), 0);
        assert_null(strcasestr(hexes[i], all[i]->id));
        /* Nor the subkeys in hex. */
        char sub[65];
        sodium_bin2hex(sub, sizeof(sub), all[i]->seal, sizeof(all[i]->seal));
        assert_null(strstr(sub, all[i]->id));
        sodium_bin2hex(sub, sizeof(sub), all[i]->index, sizeof(all[i]->index));
        assert_null(strstr(sub, all[i]->id));
    }
    /* One bit of the key changes the id. */
    char flip[65];
    memcpy(flip, hex_a, sizeof(flip));
    flip[63] = '1';
    assert_string_not_equal(key(flip).id, a1.id);
    pii_key_wipe(&a1);
    assert_string_equal(a1.id, "");
    pii_key_wipe(NULL);
}

static void test_seal_roundtrip(void **state)
{
    (void)state;
    struct pii_key k = key(hex_a);
    const char *values[] = {aadhaar, pan, account};
    const char *fields[] = {"aadhaar", "pan", "bank_account"};
    for (int i = 0; i < 3; i++) {
        unsigned char s1[PII_SEALED_MAX], s2[PII_SEALED_MAX];
        size_t n = strlen(values[i]);
        long l1 = pii_seal(&k, "42", fields[i], values[i], s1);
        long l2 = pii_seal(&k, "42", fields[i], values[i], s2);
        assert_int_equal(l1, (long)(PII_NONCE_BYTES + n + PII_TAG_BYTES));
        assert_int_equal(l2, l1);
        /* A fresh random nonce each time: the two seals share neither nonce nor bytes. */
        assert_memory_not_equal(s1, s2, PII_NONCE_BYTES);
        assert_memory_not_equal(s1 + PII_NONCE_BYTES, s2 + PII_NONCE_BYTES,
                                (size_t)l1 - PII_NONCE_BYTES);
        /* The clear text is nowhere in the sealed bytes. */
        assert_null(memmem(s1, (size_t)l1, values[i], n));
        assert_null(memmem(s2, (size_t)l2, values[i], n));
        char c[PII_MAX_CLEAR + 1];
        assert_int_equal(pii_open(&k, "42", fields[i], s1, (size_t)l1, c, sizeof(c)), 0);
        assert_string_equal(c, values[i]);
        assert_int_equal(pii_open(&k, "42", fields[i], s2, (size_t)l2, c, sizeof(c)), 0);
        assert_string_equal(c, values[i]);
    }
}

static void test_seal_limits(void **state)
{
    (void)state;
    struct pii_key k = key(hex_a);
    unsigned char s[PII_SEALED_MAX];
    char clear[PII_MAX_CLEAR + 2];
    memset(clear, '7', sizeof(clear) - 1);
    clear[sizeof(clear) - 1] = '\0'; /* 65 bytes */
    assert_int_equal(pii_seal(&k, "1", "pan", clear, s), -1);
    clear[PII_MAX_CLEAR] = '\0'; /* exactly 64: the largest accepted */
    long l = pii_seal(&k, "1", "pan", clear, s);
    assert_int_equal(l, PII_SEALED_MAX);
    char c[PII_MAX_CLEAR + 1];
    assert_int_equal(pii_open(&k, "1", "pan", s, (size_t)l, c, sizeof(c)), 0);
    assert_string_equal(c, clear);
    /* The empty string seals to a bare nonce and tag and opens to "". */
    l = pii_seal(&k, "1", "pan", "", s);
    assert_int_equal(l, PII_NONCE_BYTES + PII_TAG_BYTES);
    assert_int_equal(pii_open(&k, "1", "pan", s, (size_t)l, c, sizeof(c)), 0);
    assert_string_equal(c, "");
    /* A clear buffer smaller than the contract asks for is refused, not overrun. */
    l = pii_seal(&k, "1", "pan", pan, s);
    char small[PII_MAX_CLEAR];
    assert_int_equal(pii_open(&k, "1", "pan", s, (size_t)l, small, sizeof(small)), -1);
}

static void test_open_refuses(void **state)
{
    (void)state;
    struct pii_key k = key(hex_a), other = key(hex_b);
    unsigned char s[PII_SEALED_MAX], t[PII_SEALED_MAX];
    char c[PII_MAX_CLEAR + 1];
    const char *values[] = {aadhaar, pan, account};
    for (int v = 0; v < 3; v++) {
        long l = pii_seal(&k, "1001", "aadhaar", values[v], s);
        assert_true(l > 0);
        size_t n = (size_t)l;
        assert_int_equal(pii_open(&k, "1001", "aadhaar", s, n, c, sizeof(c)), 0);
        /* Another key, application or field. */
        assert_int_equal(pii_open(&other, "1001", "aadhaar", s, n, c, sizeof(c)), -1);
        assert_string_equal(c, "");
        assert_int_equal(pii_open(&k, "1002", "aadhaar", s, n, c, sizeof(c)), -1);
        assert_int_equal(pii_open(&k, "100", "aadhaar", s, n, c, sizeof(c)), -1);
        assert_int_equal(pii_open(&k, "1001", "pan", s, n, c, sizeof(c)), -1);
        assert_int_equal(pii_open(&k, "1001", "Aadhaar", s, n, c, sizeof(c)), -1);
        assert_int_equal(pii_open(&k, "1001", "bank_account", s, n, c, sizeof(c)), -1);
        /* Any flipped bit, in the nonce, the ciphertext or the tag. */
        for (size_t i = 0; i < n; i++) {
            for (int bit = 0; bit < 8; bit++) {
                memcpy(t, s, n);
                t[i] ^= (unsigned char)(1u << bit);
                if (pii_open(&k, "1001", "aadhaar", t, n, c, sizeof(c)) != -1)
                    fail_msg("opened with bit %d of byte %zu flipped", bit, i);
                assert_string_equal(c, "");
            }
        }
        /* Truncated anywhere, and one byte too many. */
        for (size_t len = 0; len < n; len++)
            if (pii_open(&k, "1001", "aadhaar", s, len, c, sizeof(c)) != -1)
                fail_msg("opened %zu of %zu bytes", len, n);
        memcpy(t, s, n);
        t[n] = 0;
        assert_int_equal(pii_open(&k, "1001", "aadhaar", t, n + 1, c, sizeof(c)), -1);
        /* Longer than any seal can be. */
        assert_int_equal(pii_open(&k, "1001", "aadhaar", s, PII_SEALED_MAX + 1, c, sizeof(c)), -1);
    }
}

static void test_blind_index(void **state)
{
    (void)state;
    struct pii_key a1 = key(hex_a), a2 = key(hex_a), b = key(hex_b);
    unsigned char x[PII_INDEX_BYTES], y[PII_INDEX_BYTES];
    /* Deterministic. */
    pii_blind_index(&a1, "aadhaar", aadhaar, x);
    pii_blind_index(&a2, "aadhaar", aadhaar, y);
    assert_memory_equal(x, y, sizeof(x));
    pii_blind_index(&a1, "pan", pan, x);
    pii_blind_index(&a1, "pan", pan, y);
    assert_memory_equal(x, y, sizeof(x));
    /* Another key. */
    pii_blind_index(&a1, "aadhaar", aadhaar, x);
    pii_blind_index(&b, "aadhaar", aadhaar, y);
    assert_memory_not_equal(x, y, sizeof(x));
    /* Another field, the same string. */
    pii_blind_index(&a1, "aadhaar", aadhaar, x);
    pii_blind_index(&a1, "pan", aadhaar, y);
    assert_memory_not_equal(x, y, sizeof(x));
    pii_blind_index(&a1, "aadhaar", pan, x);
    pii_blind_index(&a1, "pan", pan, y);
    assert_memory_not_equal(x, y, sizeof(x));
    /* Another number, even one digit apart. */
    pii_blind_index(&a1, "aadhaar", aadhaar, x);
    pii_blind_index(&a1, "aadhaar", "345678901238", y);
    assert_memory_not_equal(x, y, sizeof(x));
    pii_blind_index(&a1, "pan", "ABCPS1234K", x);
    pii_blind_index(&a1, "pan", "ABCPS1235K", y);
    assert_memory_not_equal(x, y, sizeof(x));
    /* The index is not an unkeyed hash of the number, and does not hold it. */
    unsigned char plain[PII_INDEX_BYTES];
    crypto_generichash(plain, sizeof(plain), (const unsigned char *)"aadhaar:234567890124", 20,
                       NULL, 0);
    pii_blind_index(&a1, "aadhaar", aadhaar, x);
    assert_memory_not_equal(x, plain, sizeof(x));
    assert_null(memmem(x, sizeof(x), "0124", 4));
}

static void test_bytea(void **state)
{
    (void)state;
    unsigned char bytes[PII_SEALED_MAX], back[PII_SEALED_MAX];
    char text[2 * PII_SEALED_MAX + 3];
    for (size_t i = 0; i < sizeof(bytes); i++)
        bytes[i] = (unsigned char)(i * 37 + 11);
    for (size_t len = 0; len <= sizeof(bytes); len++) {
        pii_bytea_hex(bytes, len, text);
        assert_int_equal(strlen(text), 2 * len + 2);
        assert_true(text[0] == '\\' && text[1] == 'x');
        assert_int_equal(pii_bytea_parse(text, back, sizeof(back)), (long)len);
        assert_memory_equal(back, bytes, len);
    }
    pii_bytea_hex((const unsigned char *)"\x00\x0a\xff", 3, text);
    assert_string_equal(text, "\\x000aff");
    /* PostgreSQL may answer in upper case. */
    assert_int_equal(pii_bytea_parse("\\x0A1B", back, sizeof(back)), 2);
    assert_int_equal(back[0], 0x0a);
    assert_int_equal(back[1], 0x1b);
    /* A sealed value survives the round trip and still opens. */
    struct pii_key k = key(hex_a);
    long l = pii_seal(&k, "7", "pan", pan, bytes);
    pii_bytea_hex(bytes, (size_t)l, text);
    long m = pii_bytea_parse(text, back, sizeof(back));
    assert_int_equal(m, l);
    char c[PII_MAX_CLEAR + 1];
    assert_int_equal(pii_open(&k, "7", "pan", back, (size_t)m, c, sizeof(c)), 0);
    assert_string_equal(c, pan);

    /* Malformed. */
    const char *bad[] = {"x00",  "00",     "\\x0",   "\\xzz", "\\x0g", "\\X00",
                         "/x00", "\\x 00", "\\x00 ", "\\x0:", "\\",    ""};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (pii_bytea_parse(bad[i], back, sizeof(back)) != -1)
            fail_msg("accepted \"%s\"", bad[i]);
    assert_int_equal(pii_bytea_parse(NULL, back, sizeof(back)), -1);
    /* Longer than max: refused, not truncated. */
    assert_int_equal(pii_bytea_parse("\\x00112233", back, 3), -1);
    assert_int_equal(pii_bytea_parse("\\x001122", back, 3), 3);
    pii_bytea_hex(bytes, sizeof(bytes), text);
    assert_int_equal(pii_bytea_parse(text, back, sizeof(bytes) - 1), -1);
}

static void test_masks(void **state)
{
    (void)state;
    char out[20];
    pii_mask_aadhaar(aadhaar, out);
    assert_string_equal(out, "XXXX XXXX 0124");
    pii_mask_pan(pan, out);
    assert_string_equal(out, "XXXXXX234K");
    pii_mask_account("123456789", out);
    assert_string_equal(out, "XXXXX6789");
    pii_mask_account(account, out);
    assert_string_equal(out, "XXXXXXXXXXXXXX1234");
    pii_mask_account("50100234567890", out);
    assert_string_equal(out, "XXXXXXXXXX7890"); /* the example of docs/ekyc.md */
    /* Every length an account can have: the length is kept, the last four shown. */
    char digits[19];
    for (int n = 9; n <= 18; n++) {
        for (int i = 0; i < n; i++)
            digits[i] = (char)('0' + (i * 7 + 3) % 10);
        digits[n] = '\0';
        pii_mask_account(digits, out);
        assert_int_equal(strlen(out), (size_t)n);
        for (int i = 0; i < n - 4; i++)
            assert_int_equal(out[i], 'X');
        assert_string_equal(out + n - 4, digits + n - 4);
    }
    /* Nothing to show for a missing value. */
    pii_mask_account(NULL, out);
    assert_string_equal(out, "");
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_key_from_hex_rejects),
        cmocka_unit_test(test_key_id),
        cmocka_unit_test(test_seal_roundtrip),
        cmocka_unit_test(test_seal_limits),
        cmocka_unit_test(test_open_refuses),
        cmocka_unit_test(test_blind_index),
        cmocka_unit_test(test_bytea),
        cmocka_unit_test(test_masks),
    };
    return cmocka_run_group_tests_name("pii", tests, NULL, NULL);
}
