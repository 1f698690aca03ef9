/*
 * Protected identity data: Aadhaar, PAN and bank account numbers. A number leaves the request
 * that carried it in three forms only: masked for display, sealed with XChaCha20-Poly1305 under
 * a key derived from PII_KEY (the application id and the field's name bound in as associated
 * data), and as a keyed BLAKE2b blind index that finds the same number on another application.
 * The three subkeys (sealing, indexing, key id) are derived from the one 32-byte master key with
 * crypto_kdf, so rotating PII_KEY rotates all of them. Pure apart from libsodium's CSPRNG.
 */
#ifndef LOANFLOW_PII_H
#define LOANFLOW_PII_H

#include <stddef.h>

#define PII_NONCE_BYTES 24
#define PII_TAG_BYTES   16
#define PII_INDEX_BYTES 32
#define PII_MAX_CLEAR   64
#define PII_SEALED_MAX  (PII_NONCE_BYTES + PII_MAX_CLEAR + PII_TAG_BYTES)

struct pii_key {
    unsigned char seal[32];  /* XChaCha20-Poly1305 key */
    unsigned char index[32]; /* BLAKE2b key of the blind index */
    char id[17];             /* 16 hex digits naming the key in rows (not secret) */
};

/* Derives a key from 64 hex digits. 0, or -1 when hex is not 64 hex digits. */
int pii_key_from_hex(const char *hex, struct pii_key *k) __attribute__((warn_unused_result));
/* Wipes a key. */
void pii_key_wipe(struct pii_key *k);

/*
 * Seals clear (at most PII_MAX_CLEAR bytes) for one field of one application into out
 * (nonce || ciphertext || tag). Returns the length written, or -1 when clear is too long.
 */
long pii_seal(const struct pii_key *k, const char *app_id, const char *field, const char *clear,
              unsigned char out[PII_SEALED_MAX]);
/*
 * Opens what pii_seal wrote into clear (NUL-terminated, clearlen >= PII_MAX_CLEAR + 1). Returns
 * 0, or -1 when the key, the application, the field or the bytes do not match.
 */
int pii_open(const struct pii_key *k, const char *app_id, const char *field,
             const unsigned char *sealed, size_t len, char *clear, size_t clearlen)
    __attribute__((warn_unused_result));
/* The blind index of a canonical number for a field ("aadhaar", "pan"). */
void pii_blind_index(const struct pii_key *k, const char *field, const char *canonical,
                     unsigned char out[PII_INDEX_BYTES]);

/* PostgreSQL bytea hex text ("\x0a1b…") of bytes into out (2 * len + 3 bytes). */
void pii_bytea_hex(const unsigned char *bytes, size_t len, char *out);
/* Parses bytea hex text; returns the byte count, or -1 when malformed or longer than max. */
long pii_bytea_parse(const char *text, unsigned char *out, size_t max);

/* Display forms: "XXXX XXXX 1234" (Aadhaar), "XXXXXX234F" (PAN), "XXXXXXXX4321" (account).
 * out needs 20 bytes. */
void pii_mask_aadhaar(const char *canonical, char out[20]);
void pii_mask_pan(const char *pan, char out[20]);
void pii_mask_account(const char *digits, char out[20]);

#endif
