/*
 * Sealing, blind indexes and masks for identity numbers (see pii.h). The associated data of a
 * seal is "loanflow-pii:v1:<application id>:<field>": a ciphertext moved to another row or
 * column fails to open instead of revealing a number under the wrong name. The blind index is
 * BLAKE2b-256 keyed with the index subkey over "<field>:<canonical number>", so the same PAN
 * gives the same index and an Aadhaar can never collide with a PAN.
 */
#include "pii.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

#define KDF_CONTEXT "LFpii_v1" /* crypto_kdf contexts are 8 bytes */

int pii_key_from_hex(const char *hex, struct pii_key *k)
{
    unsigned char master[32];
    size_t len = 0;
    memset(k, 0, sizeof(*k));
    if (hex == NULL || strlen(hex) != 64 ||
        sodium_hex2bin(master, sizeof(master), hex, 64, NULL, &len, NULL) != 0 || len != 32)
        return -1;
    unsigned char idkey[32], id[8];
    crypto_kdf_derive_from_key(k->seal, sizeof(k->seal), 1, KDF_CONTEXT, master);
    crypto_kdf_derive_from_key(k->index, sizeof(k->index), 2, KDF_CONTEXT, master);
    crypto_kdf_derive_from_key(idkey, sizeof(idkey), 3, KDF_CONTEXT, master);
    crypto_generichash(id, sizeof(id), (const unsigned char *)"key-id", 6, idkey, sizeof(idkey));
    sodium_bin2hex(k->id, sizeof(k->id), id, sizeof(id));
    sodium_memzero(master, sizeof(master));
    sodium_memzero(idkey, sizeof(idkey));
    return 0;
}

void pii_key_wipe(struct pii_key *k)
{
    if (k != NULL)
        sodium_memzero(k, sizeof(*k));
}

static size_t associated(char *buf, size_t len, const char *app_id, const char *field)
{
    int n = snprintf(buf, len, "loanflow-pii:v1:%s:%s", app_id, field);
    return n < 0 ? 0 : (size_t)n >= len ? len - 1 : (size_t)n;
}

long pii_seal(const struct pii_key *k, const char *app_id, const char *field, const char *clear,
              unsigned char out[PII_SEALED_MAX])
{
    size_t n = strlen(clear);
    if (n > PII_MAX_CLEAR)
        return -1;
    char ad[128];
    size_t adlen = associated(ad, sizeof(ad), app_id, field);
    randombytes_buf(out, PII_NONCE_BYTES);
    unsigned long long clen = 0;
    crypto_aead_xchacha20poly1305_ietf_encrypt(
        out + PII_NONCE_BYTES, &clen, (const unsigned char *)clear, n, (const unsigned char *)ad,
        adlen, NULL, out, k->seal);
    return (long)(PII_NONCE_BYTES + clen);
}

int pii_open(const struct pii_key *k, const char *app_id, const char *field,
             const unsigned char *sealed, size_t len, char *clear, size_t clearlen)
{
    if (len < PII_NONCE_BYTES + PII_TAG_BYTES || len > PII_SEALED_MAX ||
        clearlen < PII_MAX_CLEAR + 1)
        return -1;
    char ad[128];
    size_t adlen = associated(ad, sizeof(ad), app_id, field);
    unsigned long long mlen = 0;
    if (crypto_aead_xchacha20poly1305_ietf_decrypt(
            (unsigned char *)clear, &mlen, NULL, sealed + PII_NONCE_BYTES, len - PII_NONCE_BYTES,
            (const unsigned char *)ad, adlen, sealed, k->seal) != 0) {
        clear[0] = '\0';
        return -1;
    }
    clear[mlen] = '\0';
    return 0;
}

void pii_blind_index(const struct pii_key *k, const char *field, const char *canonical,
                     unsigned char out[PII_INDEX_BYTES])
{
    crypto_generichash_state st;
    crypto_generichash_init(&st, k->index, sizeof(k->index), PII_INDEX_BYTES);
    crypto_generichash_update(&st, (const unsigned char *)field, strlen(field));
    crypto_generichash_update(&st, (const unsigned char *)":", 1);
    crypto_generichash_update(&st, (const unsigned char *)canonical, strlen(canonical));
    crypto_generichash_final(&st, out, PII_INDEX_BYTES);
}

void pii_bytea_hex(const unsigned char *bytes, size_t len, char *out)
{
    out[0] = '\\';
    out[1] = 'x';
    sodium_bin2hex(out + 2, 2 * len + 1, bytes, len);
}

long pii_bytea_parse(const char *text, unsigned char *out, size_t max)
{
    if (text == NULL || text[0] != '\\' || text[1] != 'x')
        return -1;
    size_t hexlen = strlen(text + 2), len = 0;
    if (hexlen % 2 != 0 || hexlen / 2 > max)
        return -1;
    if (sodium_hex2bin(out, max, text + 2, hexlen, NULL, &len, NULL) != 0 || len != hexlen / 2)
        return -1;
    return (long)len;
}

/* Copies the last four characters of s behind prefix. */
static void tail4(const char *prefix, const char *s, char out[20])
{
    size_t n = s ? strlen(s) : 0;
    snprintf(out, 20, "%s%s", prefix, n >= 4 ? s + n - 4 : "");
}

void pii_mask_aadhaar(const char *canonical, char out[20])
{
    tail4("XXXX XXXX ", canonical, out);
}

void pii_mask_pan(const char *pan, char out[20])
{
    tail4("XXXXXX", pan, out);
}

void pii_mask_account(const char *digits, char out[20])
{
    size_t n = digits ? strlen(digits) : 0;
    char prefix[16];
    size_t x = n > 4 ? n - 4 : 0;
    if (x > sizeof(prefix) - 1)
        x = sizeof(prefix) - 1;
    memset(prefix, 'X', x);
    prefix[x] = '\0';
    tail4(prefix, digits, out);
}
