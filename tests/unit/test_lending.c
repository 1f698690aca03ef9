/*
 * The agreement's signature (app/store/agreements.c): the lender's key pair from SIGNING_KEY is
 * RFC 8032's (its §7.1 test 1), the published key id is derived from the public key, and
 * lending_verify_document accepts exactly a document whose terms hash to its sha256 and carry the
 * lender's Ed25519 signature: one changed byte of the terms, another signature or another key
 * fails, with a distinct answer for each.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <json-c/json.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "lending.h"

/* RFC 8032 §7.1, test 1. */
static const char rfc_seed[] = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";
static const char rfc_public[] = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";
static const char rfc_empty_sig[] =
    "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9"
    "b46bd25bf5f0595bbe24655141438e7a100b";

static int setup(void **state)
{
    (void)state;
    setenv("SIGNING_KEY", rfc_seed, 1);
    setenv("APP_ENV", "test", 1);
    setenv("JWT_SECRET", "unit-test-secret-of-at-least-32-bytes!!", 1);
    char err[256];
    return config_load(err, sizeof(err)) == 0 ? 0 : -1;
}

static void test_rfc8032_key(void **state)
{
    (void)state;
    char kid[17], pub[65];
    assert_int_equal(lending_signing_key(kid, pub), 0);
    assert_string_equal(pub, rfc_public);
    /* The key id: the first 8 bytes of SHA-256 of the public key, in hex. */
    unsigned char pk[32], h[32];
    assert_int_equal(sodium_hex2bin(pk, 32, rfc_public, 64, NULL, NULL, NULL), 0);
    crypto_hash_sha256(h, pk, 32);
    char want[17];
    sodium_bin2hex(want, sizeof(want), h, 8);
    assert_string_equal(kid, want);
}

/* A document as GET /agreements/{id} answers it, signed with the RFC key. */
static char *document(const char *terms, int wrapped, const char *sig_override)
{
    unsigned char seed[32], pk[32], sk[64], sig[64], h[32];
    assert_int_equal(sodium_hex2bin(seed, 32, rfc_seed, 64, NULL, NULL, NULL), 0);
    crypto_sign_seed_keypair(pk, sk, seed);
    crypto_sign_detached(sig, NULL, (const unsigned char *)terms, strlen(terms), sk);
    crypto_hash_sha256(h, (const unsigned char *)terms, strlen(terms));
    char sig_hex[129], h_hex[65];
    sodium_bin2hex(sig_hex, sizeof(sig_hex), sig, 64);
    sodium_bin2hex(h_hex, sizeof(h_hex), h, 32);
    json_object *g = json_object_new_object();
    json_object_object_add(g, "agreement_id", json_object_new_string("AGR-20261201-0000000001"));
    json_object_object_add(g, "terms", json_object_new_string(terms));
    json_object_object_add(g, "sha256", json_object_new_string(h_hex));
    json_object_object_add(g, "signature",
                           json_object_new_string(sig_override ? sig_override : sig_hex));
    json_object *o = g;
    if (wrapped) {
        o = json_object_new_object();
        json_object_object_add(o, "agreement", g);
    }
    char *s = strdup(json_object_to_json_string(o));
    json_object_put(o);
    return s;
}

static void test_empty_message_signature(void **state)
{
    (void)state;
    char *doc = document("", 0, NULL);
    assert_non_null(strstr(doc, rfc_empty_sig));
    const char *why = NULL;
    assert_int_equal(lending_verify_document(doc, rfc_public, &why), 0);
    free(doc);
}

static void test_verify(void **state)
{
    (void)state;
    const char *terms = "LOANFLOW LOAN AGREEMENT\nprincipal: 100000.00\n";
    const char *why = NULL;
    for (int wrapped = 0; wrapped < 2; wrapped++) {
        char *doc = document(terms, wrapped, NULL);
        assert_int_equal(lending_verify_document(doc, rfc_public, &why), 0);
        assert_string_equal(why, "valid");
        /* One byte of the terms changed: the hash no longer matches. */
        char *p = strstr(doc, "100000.00");
        assert_non_null(p);
        p[0] = '9';
        assert_int_equal(lending_verify_document(doc, rfc_public, &why), 1);
        free(doc);
    }
    /* A signature of other terms over these (hash recomputed, signature not): 2. */
    char *other = document("other terms", 0, NULL);
    json_object *o = json_tokener_parse(other), *sig;
    assert_true(json_object_object_get_ex(o, "signature", &sig));
    char *doc = document(terms, 1, json_object_get_string(sig));
    assert_int_equal(lending_verify_document(doc, rfc_public, &why), 2);
    json_object_put(o);
    free(other);
    free(doc);
    /* Another key: 2. */
    doc = document(terms, 0, NULL);
    char other_pub[65];
    memcpy(other_pub, rfc_public, sizeof(other_pub));
    other_pub[0] = other_pub[0] == 'd' ? 'e' : 'd';
    assert_int_equal(lending_verify_document(doc, other_pub, &why), 2);
    assert_int_equal(lending_verify_document(doc, "not hex", &why), 2);
    free(doc);
    /* Not an agreement: -1. */
    assert_int_equal(lending_verify_document("{not json", rfc_public, &why), -1);
    assert_int_equal(lending_verify_document("{\"terms\":\"x\"}", rfc_public, &why), -1);
    assert_int_equal(lending_verify_document("[1,2]", rfc_public, &why), -1);
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc8032_key),
        cmocka_unit_test(test_empty_message_signature),
        cmocka_unit_test(test_verify),
    };
    return cmocka_run_group_tests_name("lending", tests, setup, NULL);
}
