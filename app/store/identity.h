/*
 * Protected identity data of applications (see identity.c): sealing at submission, the
 * duplicate check, opening a stored row, and rotating PII_KEY while the service runs. Every
 * function runs on the process's db_* connection and joins the caller's transaction, except
 * identity_rotate, which runs one transaction per batch.
 */
#ifndef LOANFLOW_IDENTITY_H
#define LOANFLOW_IDENTITY_H

#include <stddef.h>

#include "arena.h"
#include "db.h"
#include "loan.h"

extern const struct db_stmts identity_statements;

/* A keyed BLAKE2b of a request body (hex), for Idempotency-Key records: bodies carry identity
 * numbers, which an unkeyed hash would give away to anyone trying them all. hex is "" when the
 * keys are unusable. */
void identity_body_hash(const void *body, size_t len, char hex[65]);

/* The id of the current PII key ("" when unusable). */
const char *identity_key_id(void);

/* The identity parameter of an application's INSERT: date of birth, masks, sealed numbers and
 * blind indexes, the key id, as JSON text in the arena. NULL when the keys are unusable. */
const char *identity_seal_json(arena *a, const char *app_id, const struct loan_input *in);

/*
 * Finds an open application with the same PAN or Aadhaar, indexed under PII_KEY or
 * PII_KEY_PREVIOUS; *field is "pan" or "aadhaar" when one exists. 0, or -1 when the database
 * fails or the keys are unusable.
 */
int identity_find_open(arena *a, const struct loan_input *in, const char **field);

/*
 * Completes the input of a stored application with its identity (date of birth, bank details,
 * and the numbers: opened with the PII keys when open_numbers is set, else only marked as
 * present) and fills *stored with what the providers answered last. Returns 0; -1 when the
 * database is unreachable; -2 when a number cannot be opened (its key is neither PII_KEY nor
 * PII_KEY_PREVIOUS).
 */
int identity_of_row(arena *a, const char *app_id, struct loan_input *in,
                    struct identity_facts *stored, int open_numbers);

/* Progress of a key rotation: rows up to max_id (0: found on the first call), after the last
 * id seen. */
struct identity_rotation {
    long long max_id, after;
    long rotated, unknown, conflicts; /* unknown, conflicts: of the last walk */
};
/*
 * Re-seals and re-indexes the next batch of rows sealed under another key than PII_KEY (taken
 * under PII_KEY_PREVIOUS) in one transaction, skipping rows locked by a review in progress (a
 * later pass takes them). Rows under a key that is neither are counted in unknown, rows whose
 * number is on another open application under the new key in conflicts (left as they are,
 * logged). Returns the rows looked at (0 when the walk is done), or -1 when the database fails.
 */
int identity_rotate(arena *a, int batch, struct identity_rotation *st);
/* Rows up to st->max_id still under another key than PII_KEY, or -1. */
long identity_left(arena *a, const struct identity_rotation *st);

/* Rows per key id (columns: key id, count), largest first; NULL when the database fails. */
PGresult *identity_key_census(arena *a);

#endif
