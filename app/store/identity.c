/*
 * Protected identity data of applications: Aadhaar, PAN and bank account numbers sealed with
 * XChaCha20-Poly1305 under a subkey of PII_KEY (the application id and field as associated
 * data) and blind-indexed with keyed BLAKE2b, so the database never holds a clear number and
 * a duplicate can still be found. This module owns the keys of the process (the current one
 * seals, the previous one of a rotation still opens), the sealed columns' statements, the
 * duplicate check, the opening of a stored row and the rotation walk. The primitives are in
 * pii.c; what columns the sealed values go to is in applications.c (IDENTITY_VALUES).
 */
#include "identity.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "log.h"
#include "pii.h"

enum {
    IDENTITY_OF_ROW,
    IDENTITY_ROTATE_PICK,
    IDENTITY_ROTATE_WRITE,
    IDENTITY_ROTATE_LEFT,
    IDENTITY_ROTATE_BOUNDS,
    IDENTITY_KEY_CENSUS,
    IDENTITY_FIND_OPEN,
    IDENTITY_SQL_COUNT
};

/* clang-format off */
static const struct db_stmt sql[IDENTITY_SQL_COUNT] = {
    [IDENTITY_OF_ROW] = {"identity_of_row",
     "SELECT coalesce(to_char(date_of_birth, 'YYYY-MM-DD'), ''), aadhaar_enc, pan_enc, "
     "bank_account_enc, coalesce(bank_ifsc, ''), bank_holder_name, coalesce(pii_key_id, ''), "
     "ekyc::text, coalesce(bureau_name, ''), coalesce(bureau_status, ''), "
     "coalesce(bureau_score, 0), coalesce(bureau_active_loans, 0), "
     "coalesce(bureau_overdue_accounts, 0), coalesce(bureau_enquiries_6m, 0), "
     "coalesce(bureau_reference, '') FROM loan_applications WHERE application_id = $1"},
    [IDENTITY_ROTATE_PICK] = {"identity_rotate_pick",
     "SELECT id, application_id, aadhaar_enc, pan_enc, bank_account_enc, pii_key_id "
     "FROM loan_applications WHERE pii_key_id IS NOT NULL AND pii_key_id <> $1 "
     "AND id > $2::bigint AND id <= $3::bigint ORDER BY id LIMIT $4::int "
     "FOR UPDATE SKIP LOCKED"},
    [IDENTITY_ROTATE_WRITE] = {"identity_rotate_write",
     "UPDATE loan_applications SET aadhaar_enc = $2::bytea, aadhaar_bidx = $3::bytea, "
     "pan_enc = $4::bytea, pan_bidx = $5::bytea, bank_account_enc = $6::bytea, pii_key_id = $7 "
     "WHERE id = $1::bigint"},
    [IDENTITY_ROTATE_LEFT] = {"identity_rotate_left",
     "SELECT count(*) FROM loan_applications WHERE pii_key_id IS NOT NULL AND pii_key_id <> $1 "
     "AND id <= $2::bigint"},
    [IDENTITY_ROTATE_BOUNDS] = {"identity_rotate_bounds",
     "SELECT coalesce(max(id), 0) FROM loan_applications"},
    [IDENTITY_KEY_CENSUS] = {"identity_key_census",
     "SELECT pii_key_id, count(*) FROM loan_applications WHERE pii_key_id IS NOT NULL "
     "GROUP BY pii_key_id ORDER BY 2 DESC"},
    [IDENTITY_FIND_OPEN] = {"identity_find_open",
     "SELECT (SELECT count(*) FROM loan_applications WHERE final_status = 'PENDING' AND "
     "aadhaar_bidx = ANY ($1::bytea[])), (SELECT count(*) FROM loan_applications WHERE "
     "final_status = 'PENDING' AND pan_bidx = ANY ($2::bytea[]))"},

};
/* clang-format on */
const struct db_stmts identity_statements = DB_STMTS("identity", sql);
#define SQL(id) (&sql[id])

/* The PII keys of this process: the current one seals, both open. */
static struct {
    int loaded;
    struct pii_key cur, prev;
    int have_prev;
} keys;

static int keys_load(void)
{
    if (keys.loaded)
        return 0;
    const struct config *cfg = config_get();
    if (pii_key_from_hex(cfg->pii_key, &keys.cur) != 0)
        return -1;
    keys.have_prev =
        cfg->pii_key_previous[0] && pii_key_from_hex(cfg->pii_key_previous, &keys.prev) == 0;
    keys.loaded = 1;
    return 0;
}

void identity_body_hash(const void *body, size_t len, char hex[65])
{
    unsigned char h[32];
    crypto_generichash_state st;
    hex[0] = '\0';
    if (keys_load() != 0)
        return;
    crypto_generichash_init(&st, keys.cur.index, sizeof(keys.cur.index), sizeof(h));
    crypto_generichash_update(&st, (const unsigned char *)"request:", 8);
    crypto_generichash_update(&st, body, len);
    crypto_generichash_final(&st, h, sizeof(h));
    sodium_bin2hex(hex, 65, h, sizeof(h));
}

const char *identity_key_id(void)
{
    return keys_load() == 0 ? keys.cur.id : "";
}

/* Seals one number into j as <field>_enc (and <field>_bidx when indexed) plus its mask. */
static void seal_field(json_object *j, const char *app_id, const char *field, const char *clear,
                       const char *mask, int indexed)
{
    unsigned char sealed[PII_SEALED_MAX], idx[PII_INDEX_BYTES];
    char hex[2 * PII_SEALED_MAX + 3], key[48];
    long n = pii_seal(&keys.cur, app_id, field, clear, sealed);
    if (n < 0)
        return;
    pii_bytea_hex(sealed, (size_t)n, hex);
    snprintf(key, sizeof(key), "%s_enc", field);
    json_object_object_add(j, key, json_object_new_string(hex + 2));
    snprintf(key, sizeof(key), "%s_masked", field);
    json_object_object_add(j, key, json_object_new_string(mask));
    if (indexed) {
        pii_blind_index(&keys.cur, field, clear, idx);
        pii_bytea_hex(idx, sizeof(idx), hex);
        snprintf(key, sizeof(key), "%s_bidx", field);
        json_object_object_add(j, key, json_object_new_string(hex + 2));
    }
    sodium_memzero(hex, sizeof(hex));
}

const char *identity_seal_json(arena *a, const char *app_id, const struct loan_input *in)
{
    if (keys_load() != 0)
        return NULL;
    json_object *j = json_object_new_object();
    char mask[20];
    if (in->date_of_birth[0])
        json_object_object_add(j, "date_of_birth", json_object_new_string(in->date_of_birth));
    if (in->aadhaar[0]) {
        pii_mask_aadhaar(in->aadhaar, mask);
        seal_field(j, app_id, "aadhaar", in->aadhaar, mask, 1);
    }
    if (in->pan[0]) {
        pii_mask_pan(in->pan, mask);
        seal_field(j, app_id, "pan", in->pan, mask, 1);
    }
    if (in->bank_account[0]) {
        pii_mask_account(in->bank_account, mask);
        seal_field(j, app_id, "bank_account", in->bank_account, mask, 0);
        json_object_object_add(j, "bank_ifsc", json_object_new_string(in->ifsc));
        if (in->holder_name)
            json_object_object_add(j, "bank_holder_name", json_object_new_string(in->holder_name));
    }
    if (in->aadhaar[0] || in->pan[0] || in->bank_account[0])
        json_object_object_add(j, "pii_key_id", json_object_new_string(keys.cur.id));
    const char *text = arena_strdup(a, json_object_to_json_string_ext(j, JSON_C_TO_STRING_PLAIN));
    json_object_put(j);
    return text;
}

int identity_find_open(arena *a, const struct loan_input *in, const char **field)
{
    *field = NULL;
    if (!in->aadhaar[0] && !in->pan[0])
        return 0;
    if (keys_load() != 0)
        return -1;
    /* Before the providers are asked, so a duplicate costs no eKYC call and no bureau enquiry
     * on the applicant's file; the unique indexes stay the backstop for two at once. During a
     * key rotation an open application may still be indexed under the previous key. */
    char ah[2][2 * PII_INDEX_BYTES + 3], ph[2][2 * PII_INDEX_BYTES + 3];
    unsigned char idx[PII_INDEX_BYTES];
    const struct pii_key *k[2] = {&keys.cur, keys.have_prev ? &keys.prev : &keys.cur};
    for (int i = 0; i < 2; i++) {
        pii_blind_index(k[i], "aadhaar", in->aadhaar, idx);
        pii_bytea_hex(idx, sizeof(idx), ah[i]);
        pii_blind_index(k[i], "pan", in->pan, idx);
        pii_bytea_hex(idx, sizeof(idx), ph[i]);
    }
    const char *p[2] = {
        in->aadhaar[0] ? arena_printf(a, "{\"\\%s\",\"\\%s\"}", ah[0], ah[1]) : "{}",
        in->pan[0] ? arena_printf(a, "{\"\\%s\",\"\\%s\"}", ph[0], ph[1]) : "{}",
    };
    PGresult *res = db_exec(a, SQL(IDENTITY_FIND_OPEN), 2, p);
    if (!db_ok(res))
        return -1;
    if (atoll(PQgetvalue(res, 0, 1)) > 0)
        *field = "pan";
    else if (atoll(PQgetvalue(res, 0, 0)) > 0)
        *field = "aadhaar";
    return 0;
}

/* The loaded key a row names (PII_KEY or PII_KEY_PREVIOUS), or NULL. */
static const struct pii_key *key_by_id(const char *key_id)
{
    if (!strcmp(key_id, keys.cur.id))
        return &keys.cur;
    if (keys.have_prev && !strcmp(key_id, keys.prev.id))
        return &keys.prev;
    return NULL;
}

/* Opens a sealed column's bytea text with key k into clear. 0, or -1 (k NULL included). */
static int open_text(const char *text, const char *app_id, const char *field,
                     const struct pii_key *k, char clear[PII_MAX_CLEAR + 1])
{
    unsigned char sealed[PII_SEALED_MAX];
    long n = pii_bytea_parse(text, sealed, sizeof(sealed));
    if (n < 0 || k == NULL)
        return -1;
    return pii_open(k, app_id, field, sealed, (size_t)n, clear, PII_MAX_CLEAR + 1);
}

static int open_field(const PGresult *res, int col, const char *app_id, const char *field,
                      const char *key_id, char *out, size_t outlen)
{
    out[0] = '\0';
    if (PQgetisnull(res, 0, col))
        return 1;
    char clear[PII_MAX_CLEAR + 1];
    if (open_text(PQgetvalue(res, 0, col), app_id, field, key_by_id(key_id), clear) != 0)
        return -1;
    size_t n2 = strlen(clear);
    int rc = n2 < outlen ? 0 : -1; /* longer than the field allows: not ours */
    if (rc == 0)
        memcpy(out, clear, n2 + 1);
    sodium_memzero(clear, sizeof(clear));
    return rc;
}

static void ekyc_restore(json_object *e, const char *key, struct ekyc_check *c)
{
    json_object *o, *x;
    memset(c, 0, sizeof(*c));
    c->name_score = -1;
    c->dob_match = -1;
    if (e == NULL || !json_object_object_get_ex(e, key, &o) || o == NULL)
        return;
    if (json_object_object_get_ex(o, "status", &x)) {
        const char *st = json_object_get_string(x);
        for (int i = EKYC_VERIFIED; i <= EKYC_DISABLED; i++)
            if (st && !strcmp(st, ekyc_status_name((enum ekyc_status)i)))
                c->status = (enum ekyc_status)i;
    }
    if (json_object_object_get_ex(o, "name_score", &x) && x != NULL)
        c->name_score = json_object_get_double(x);
    if (json_object_object_get_ex(o, "dob_match", &x) && x != NULL)
        c->dob_match = json_object_get_boolean(x);
    if (json_object_object_get_ex(o, "reference", &x) && x != NULL)
        snprintf(c->reference, sizeof(c->reference), "%s", json_object_get_string(x));
}

/* Re-seals one sealed column of an identity_rotate_pick row under the current key into hex text;
 * NULL stays NULL. 0, or -1 when the value does not open. */
static int reseal(arena *a, const PGresult *res, int row, int col, const char *app_id,
                  const char *field, const struct pii_key *from, const char **enc,
                  const char **bidx)
{
    *enc = NULL;
    if (bidx)
        *bidx = NULL;
    if (PQgetisnull(res, row, col))
        return 0;
    unsigned char sealed[PII_SEALED_MAX], idx[PII_INDEX_BYTES];
    char clear[PII_MAX_CLEAR + 1], hex[2 * PII_SEALED_MAX + 3];
    if (open_text(PQgetvalue(res, row, col), app_id, field, from, clear) != 0)
        return -1;
    long n = pii_seal(&keys.cur, app_id, field, clear, sealed);
    if (n < 0) {
        sodium_memzero(clear, sizeof(clear));
        return -1;
    }
    pii_bytea_hex(sealed, (size_t)n, hex);
    *enc = arena_strdup(a, hex);
    if (bidx) {
        pii_blind_index(&keys.cur, field, clear, idx);
        pii_bytea_hex(idx, sizeof(idx), hex);
        *bidx = arena_strdup(a, hex);
    }
    sodium_memzero(clear, sizeof(clear));
    return 0;
}

int identity_rotate(arena *a, int batch, struct identity_rotation *st)
{
    if (keys_load() != 0)
        return -1;
    if (st->max_id == 0) {
        PGresult *b = db_exec(a, SQL(IDENTITY_ROTATE_BOUNDS), 0, NULL);
        if (!db_ok(b))
            return -1;
        st->max_id = atoll(PQgetvalue(b, 0, 0));
    }
    if (db_begin() != 0)
        return -1;
    const char *p[4] = {keys.cur.id, arena_printf(a, "%lld", st->after),
                        arena_printf(a, "%lld", st->max_id), arena_printf(a, "%d", batch)};
    PGresult *rows = db_exec(a, SQL(IDENTITY_ROTATE_PICK), 4, p);
    if (!db_ok(rows)) {
        db_rollback();
        return -1;
    }
    int n = PQntuples(rows);
    for (int i = 0; i < n; i++) {
        const char *app_id = PQgetvalue(rows, i, 1);
        const char *kid = PQgetvalue(rows, i, 5);
        st->after = atoll(PQgetvalue(rows, i, 0));
        if (!keys.have_prev || strcmp(kid, keys.prev.id) != 0) {
            st->unknown++;
            continue;
        }
        const char *w[7] = {PQgetvalue(rows, i, 0)};
        if (reseal(a, rows, i, 2, app_id, "aadhaar", &keys.prev, &w[1], &w[2]) != 0 ||
            reseal(a, rows, i, 3, app_id, "pan", &keys.prev, &w[3], &w[4]) != 0 ||
            reseal(a, rows, i, 4, app_id, "bank_account", &keys.prev, &w[5], NULL) != 0) {
            st->unknown++;
            continue;
        }
        w[6] = keys.cur.id;
        /* Two open applications with one number under different keys (let in while old and
         * new workers overlapped) cannot both take the new index: that row is left under the
         * old key, reported, and the batch goes on. */
        if (db_simple("SAVEPOINT pii_row") != 0) {
            db_rollback();
            return -1;
        }
        PGresult *wr = db_exec(a, SQL(IDENTITY_ROTATE_WRITE), 7, w);
        if (wr != NULL && !db_ok(wr) && !strcmp(db_sqlstate(wr), "23505")) {
            if (db_simple("ROLLBACK TO SAVEPOINT pii_row") != 0) {
                db_rollback();
                return -1;
            }
            log_msg(LOG_WARN,
                    "application %s: the same PAN or Aadhaar is on another open "
                    "application; left under the previous key",
                    app_id);
            st->conflicts++;
            continue;
        }
        if (!db_ok(wr)) {
            db_rollback();
            return -1;
        }
        st->rotated++;
    }
    if (db_commit() != 0)
        return -1;
    return n;
}

long identity_left(arena *a, const struct identity_rotation *st)
{
    if (keys_load() != 0)
        return -1;
    const char *p[2] = {keys.cur.id, arena_printf(a, "%lld", st->max_id)};
    PGresult *res = db_exec(a, SQL(IDENTITY_ROTATE_LEFT), 2, p);
    return db_ok(res) ? atol(PQgetvalue(res, 0, 0)) : -1;
}

int identity_of_row(arena *a, const char *app_id, struct loan_input *in,
                    struct identity_facts *stored, int open_numbers)
{
    const char *p[1] = {app_id};
    PGresult *res = db_exec(a, SQL(IDENTITY_OF_ROW), 1, p);
    if (!db_ok(res) || PQntuples(res) != 1)
        return -1;
    if (keys_load() != 0)
        return -2;
    snprintf(in->date_of_birth, sizeof(in->date_of_birth), "%s", PQgetvalue(res, 0, 0));
    const char *kid = PQgetvalue(res, 0, 6);
    if (!open_numbers) {
        /* Judging stored answers needs to know which numbers were given, not what they are. */
        static const char sealed[] = "(sealed)";
        if (!PQgetisnull(res, 0, 1))
            memcpy(in->aadhaar, sealed, sizeof(sealed));
        if (!PQgetisnull(res, 0, 2))
            memcpy(in->pan, sealed, sizeof(sealed));
        if (!PQgetisnull(res, 0, 3))
            memcpy(in->bank_account, sealed, sizeof(sealed));
    } else if (open_field(res, 1, app_id, "aadhaar", kid, in->aadhaar, sizeof(in->aadhaar)) < 0 ||
               open_field(res, 2, app_id, "pan", kid, in->pan, sizeof(in->pan)) < 0 ||
               open_field(res, 3, app_id, "bank_account", kid, in->bank_account,
                          sizeof(in->bank_account)) < 0)
        return -2;
    snprintf(in->ifsc, sizeof(in->ifsc), "%s", PQgetvalue(res, 0, 4));
    in->holder_name = PQgetisnull(res, 0, 5) ? NULL : PQgetvalue(res, 0, 5);

    memset(stored, 0, sizeof(*stored));
    json_object *e = PQgetisnull(res, 0, 7) ? NULL : json_tokener_parse(PQgetvalue(res, 0, 7));
    ekyc_restore(e, "aadhaar", &stored->aadhaar);
    ekyc_restore(e, "pan", &stored->pan);
    ekyc_restore(e, "bank_account", &stored->bank);
    json_object_put(e);
    struct bureau_report *b = &stored->bureau;
    snprintf(b->bureau, sizeof(b->bureau), "%s", PQgetvalue(res, 0, 8));
    const char *st = PQgetvalue(res, 0, 9);
    for (int i = BUREAU_OK; i <= BUREAU_DISABLED; i++)
        if (!strcmp(st, bureau_status_name((enum bureau_status)i)))
            b->status = (enum bureau_status)i;
    b->score = atoi(PQgetvalue(res, 0, 10));
    b->active_loans = atoi(PQgetvalue(res, 0, 11));
    b->overdue_accounts = atoi(PQgetvalue(res, 0, 12));
    b->enquiries_6m = atoi(PQgetvalue(res, 0, 13));
    snprintf(b->reference, sizeof(b->reference), "%s", PQgetvalue(res, 0, 14));
    return 0;
}

PGresult *identity_key_census(arena *a)
{
    PGresult *res = db_exec(a, SQL(IDENTITY_KEY_CENSUS), 0, NULL);
    return db_ok(res) ? res : NULL;
}
