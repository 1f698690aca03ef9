/*
 * The agreement and its signature. Accepting an offer writes the agreement once: canonical
 * bytes of the terms with the offer and the KFS inside (stored verbatim, so what is signed is
 * exactly what is shown and downloaded), and their SHA-256. Each acceptance sends a fresh
 * one-time code to the applicant's phone through the outbox; a keyed BLAKE2b hash of the code is
 * all the database keeps of it, and the outbox carries the code sealed under the PII key (the
 * notifier opens it when it delivers). A code lives OTP_TTL_SECONDS and allows OTP_MAX_TRIES
 * entries: each takes a try in one UPDATE before the code is compared (so parallel guesses cannot
 * share one), and a wrong entry is committed before the refusal is answered.
 *
 * The right code makes the lender countersign: Ed25519 (libsodium) over the terms' bytes with
 * the key derived from SIGNING_KEY, the consent {agreement hash, KFS hash, time, masked phone,
 * client address} in the append-only trails, and the loan account in AWAITING_DISBURSAL, all in
 * one transaction. Anyone holding the published public key can verify a downloaded agreement.
 */
#include "lending.h"

#include <ctype.h>
#include <json-c/json.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "log.h"
#include "pii.h"

enum {
    AG_LOCK_OFFER,
    AG_INSERT,
    AG_OTP_COUNT,
    AG_OTP_SUPERSEDE,
    AG_OTP_INSERT,
    AG_SMS,
    AG_OFFER_ACCEPTED,
    AG_LOCK,
    AG_OTP_TRY,
    AG_OTP_USED,
    AG_SIGN,
    AG_LOAN_INSERT,
    AG_OFFER_SIGNED,
    AG_GET,
    AG_LAST_OTP,
    AG_SQL_COUNT
};

/* clang-format off */
static const struct db_stmt sql[AG_SQL_COUNT] = {
    [AG_LOCK_OFFER] = {"agreements_lock_offer",
     "SELECT a.user_id, a.name, a.email, a.phone, o.offer_id, o.state, "
     "o.valid_until < business_date(), o.kfs, o.kfs_sha256, o.offer_json, ag.agreement_id, ag.state, "
     "ag.sha256, ag.phone_masked "
     "FROM loan_applications a JOIN loan_offers o USING (application_id) "
     "LEFT JOIN agreements ag ON ag.offer_id = o.offer_id "
     "WHERE a.application_id = $1 FOR UPDATE OF a, o"},
    [AG_INSERT] = {"agreements_insert",
     "INSERT INTO agreements (agreement_id, offer_id, application_id, user_id, terms, sha256, "
     "kfs_sha256, phone_masked) VALUES ($1, $2, $3, $4::bigint, $5, $6, $7, $8)"},
    [AG_OTP_COUNT] = {"agreements_otp_count",
     "SELECT count(*) FROM agreement_otps WHERE agreement_id = $1 "
     "AND created_at > now() - interval '1 hour'"},
    [AG_OTP_SUPERSEDE] = {"agreements_otp_supersede",
     "UPDATE agreement_otps SET superseded = true WHERE agreement_id = $1 AND NOT superseded"},
    [AG_OTP_INSERT] = {"agreements_otp_insert",
     "INSERT INTO agreement_otps (agreement_id, code_hash, expires_at) VALUES ($1, $2::bytea, "
     "now() + make_interval(secs => $3::int)) RETURNING iso_utc(expires_at)"},
    [AG_SMS] = {"agreements_sms",
     "INSERT INTO notifications (application_id, kind, recipient, subject, body, sealed) "
     "VALUES ($1, 'sms', $2, 'Loanflow one-time code', $3, $4::bytea)"},
    [AG_OFFER_ACCEPTED] = {"agreements_offer_accepted",
     "UPDATE loan_offers SET state = 'ACCEPTED', accepted_at = coalesce(accepted_at, now()) "
     "WHERE offer_id = $1"},
    [AG_LOCK] = {"agreements_lock",
     "SELECT ag.agreement_id, ag.application_id, ag.user_id, ag.state, ag.terms, ag.sha256, "
     "ag.kfs_sha256, ag.phone_masked, ag.offer_id, otp.id, encode(otp.code_hash, 'hex'), "
     "otp.tries, otp.expires_at < now(), otp.used_at IS NOT NULL, o.state, "
     "o.valid_until < business_date(), a.final_status "
     "FROM agreements ag JOIN loan_offers o ON o.offer_id = ag.offer_id "
     "JOIN loan_applications a ON a.application_id = ag.application_id "
     "LEFT JOIN LATERAL (SELECT * FROM agreement_otps t "
     "WHERE t.agreement_id = ag.agreement_id AND NOT t.superseded ORDER BY t.id DESC LIMIT 1) otp "
     "ON true WHERE ag.agreement_id = $1 FOR UPDATE OF ag, o"},
    [AG_OTP_TRY] = {"agreements_otp_try",
     "UPDATE agreement_otps SET tries = tries + 1 WHERE id = $1::bigint AND tries < $2::int "
     "AND NOT superseded AND used_at IS NULL AND expires_at >= now() RETURNING tries"},
    [AG_OTP_USED] = {"agreements_otp_used",
     "UPDATE agreement_otps SET used_at = now() WHERE id = $1::bigint"},
    [AG_SIGN] = {"agreements_sign",
     "UPDATE agreements SET state = 'SIGNED', key_id = $2, signature = $3, signed_at = now() "
     "WHERE agreement_id = $1 RETURNING iso_utc(signed_at)"},
    [AG_LOAN_INSERT] = {"agreements_loan_insert",
     "INSERT INTO loans (loan_id, application_id, offer_id, agreement_id, user_id, product_code, "
     "product_version, currency, principal, rate_bps, apr_bps, tenure_months, emi, fee, fee_tax, "
     "net_disbursed, method, rounding, outstanding_principal, allocation, penal_charge) "
     "SELECT $1, o.application_id, o.offer_id, $2, o.user_id, o.product_code, o.product_version, "
     "o.currency, o.principal, o.rate_bps, o.apr_bps, o.tenure_months, o.emi, o.fee, o.fee_tax, "
     "o.net_disbursed, p.method, p.rounding, o.principal, p.allocation, p.penal_charge "
     "FROM loan_offers o "
     "JOIN loan_products p ON (p.code, p.version) = (o.product_code, o.product_version) "
     "WHERE o.offer_id = $3"},
    [AG_OFFER_SIGNED] = {"agreements_offer_signed",
     "UPDATE loan_offers SET state = 'SIGNED' WHERE offer_id = $1"},
    [AG_GET] = {"agreements_get",
     "SELECT ag.agreement_id, ag.application_id, ag.user_id, ag.offer_id, ag.terms, ag.sha256, "
     "ag.kfs_sha256, ag.state, ag.key_id, ag.signature, iso_utc(ag.signed_at), "
     "iso_utc(ag.created_at), l.loan_id FROM agreements ag "
     "LEFT JOIN loans l ON l.agreement_id = ag.agreement_id WHERE ag.agreement_id = $1"},
    [AG_LAST_OTP] = {"agreements_last_otp",
     "SELECT application_id, encode(sealed, 'hex') FROM notifications "
     "WHERE kind = 'sms' AND recipient = $1 AND sealed IS NOT NULL ORDER BY id DESC LIMIT 1"},
};
/* clang-format on */
const struct db_stmts agreements_statements = DB_STMTS("agreements", sql);
#define SQL(id) (&sql[id])

#define OTP_PER_HOUR 5

/* "XXXXXX7890": every digit of the phone but the last four masked. */
static void mask_phone(const char *phone, char out[32])
{
    char d[32];
    size_t n = 0;
    for (const char *p = phone; *p && n < sizeof(d) - 1; p++)
        if (isdigit((unsigned char)*p))
            d[n++] = *p;
    size_t i = 0;
    for (; i + 4 < n; i++)
        out[i] = 'X';
    for (; i < n; i++)
        out[i] = d[i];
    out[n] = '\0';
}

/* The keyed hash of a code for one agreement: BLAKE2b under a subkey of PII_KEY. */
static int otp_hash(const char *agreement_id, const char *code, char out_bytea[67])
{
    unsigned char master[32], key[32], h[32];
    if (sodium_hex2bin(master, sizeof(master), config_get()->pii_key, 64, NULL, NULL, NULL) != 0)
        return -1;
    crypto_kdf_derive_from_key(key, sizeof(key), 7, "lf_otp__", master);
    char msg[96];
    int n = snprintf(msg, sizeof(msg), "%s:%s", agreement_id, code);
    crypto_generichash(h, sizeof(h), (const unsigned char *)msg, (size_t)n, key, sizeof(key));
    sodium_memzero(master, sizeof(master));
    sodium_memzero(key, sizeof(key));
    pii_bytea_hex(h, sizeof(h), out_bytea);
    return 0;
}

int lending_signing_key(char key_id[17], char public_hex[65])
{
    unsigned char seed[32], pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];
    if (sodium_hex2bin(seed, sizeof(seed), config_get()->signing_key, 64, NULL, NULL, NULL) != 0)
        return -1;
    crypto_sign_seed_keypair(pk, sk, seed);
    sodium_memzero(seed, sizeof(seed));
    sodium_memzero(sk, sizeof(sk));
    unsigned char h[32];
    crypto_hash_sha256(h, pk, sizeof(pk));
    sodium_bin2hex(key_id, 17, h, 8);
    sodium_bin2hex(public_hex, 65, pk, sizeof(pk));
    return 0;
}

static int sign_terms(const char *terms, char sig_hex[129], char key_id[17])
{
    unsigned char seed[32], pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];
    unsigned char sig[crypto_sign_BYTES];
    char pub[65];
    if (lending_signing_key(key_id, pub) != 0 ||
        sodium_hex2bin(seed, sizeof(seed), config_get()->signing_key, 64, NULL, NULL, NULL) != 0)
        return -1;
    crypto_sign_seed_keypair(pk, sk, seed);
    crypto_sign_detached(sig, NULL, (const unsigned char *)terms, strlen(terms), sk);
    sodium_memzero(seed, sizeof(seed));
    sodium_memzero(sk, sizeof(sk));
    sodium_bin2hex(sig_hex, 129, sig, sizeof(sig));
    return 0;
}

static void sha256_hex(const char *s, char out[65])
{
    unsigned char h[32];
    crypto_hash_sha256(h, (const unsigned char *)s, strlen(s));
    sodium_bin2hex(out, 65, h, sizeof(h));
}

/* The canonical bytes of the agreement: fixed clauses, the offer and the KFS verbatim. */
static const char *agreement_terms(arena *a, const char *agreement_id, const char *app_id,
                                   const char *name, const char *email, const char *masked,
                                   const char *offer_json, const char *kfs, const char *kfs_hash)
{
    return arena_printf(
        a,
        "LOANFLOW LOAN AGREEMENT\n"
        "agreement_id: %s\n"
        "application_id: %s\n"
        "borrower: %s <%s>, phone %s\n"
        "\n"
        "1. The lender lends and the borrower borrows the principal of the offer below, on its "
        "rate, tenure, installments, fees and charges, and on nothing else: no charge that is "
        "not in the Key Fact Statement will be levied without the borrower's consent.\n"
        "2. The net disbursed amount is paid only into the borrower's own bank account verified "
        "at eKYC. The repayment schedule is fixed from the disbursal date: the first installment "
        "falls due one month after it, and the others monthly on the same day (the last day of "
        "a shorter month).\n"
        "3. Repayments are made to the lender directly. Penal charges are a fixed charge per "
        "unpaid installment, never added to the interest rate and never capitalised.\n"
        "4. During the cooling-off period the borrower may exit by repaying the principal and "
        "the interest at the APR for the days held, without any penalty.\n"
        "5. The borrower consents to this agreement with a one-time code sent to the phone "
        "above; the lender countersigns these exact bytes with its published Ed25519 key.\n"
        "\n"
        "offer: %s\n"
        "key_fact_statement_sha256: %s\n"
        "key_fact_statement: %s\n",
        agreement_id, app_id, name, email, masked, offer_json, kfs_hash, kfs);
}

/* Sends a new code for the agreement (superseding the last). 0 with expires (arena); 1 when
 * too many codes were asked for in the hour; -1 when a statement failed (*failed). */
static int send_code(arena *a, const char *agreement_id, const char *app_id, const char *phone,
                     const char **expires, PGresult **failed)
{
    const char *p1[1] = {agreement_id};
    PGresult *r = db_exec(a, SQL(AG_OTP_COUNT), 1, p1);
    if (!db_ok(r))
        return *failed = r, -1;
    if (atoi(PQgetvalue(r, 0, 0)) >= OTP_PER_HOUR)
        return 1;
    r = db_exec(a, SQL(AG_OTP_SUPERSEDE), 1, p1);
    if (!db_ok(r))
        return *failed = r, -1;
    char code[8];
    snprintf(code, sizeof(code), "%06u", (unsigned)randombytes_uniform(1000000));
    char hash[67];
    if (otp_hash(agreement_id, code, hash) != 0)
        return *failed = NULL, -1;
    char ttl[16];
    snprintf(ttl, sizeof(ttl), "%d", config_get()->otp_ttl_seconds);
    const char *p2[3] = {agreement_id, hash, ttl};
    r = db_exec(a, SQL(AG_OTP_INSERT), 3, p2);
    if (!db_ok(r))
        return *failed = r, -1;
    *expires = PQgetvalue(r, 0, 0);
    struct pii_key k;
    unsigned char sealed[PII_SEALED_MAX];
    if (pii_key_from_hex(config_get()->pii_key, &k) != 0)
        return *failed = NULL, -1;
    long n = pii_seal(&k, app_id, "otp", code, sealed);
    pii_key_wipe(&k);
    sodium_memzero(code, sizeof(code));
    if (n < 0)
        return *failed = NULL, -1;
    char *sealed_hex = arena_alloc(a, (size_t)n * 2 + 3);
    pii_bytea_hex(sealed, (size_t)n, sealed_hex);
    const char *body = arena_printf(
        a,
        "Loanflow: {code} is your one-time code to sign loan agreement %s. It expires in %d "
        "minutes. Never share it; Loanflow will never ask for it.",
        agreement_id, config_get()->otp_ttl_seconds / 60);
    const char *p3[4] = {app_id, phone, body, sealed_hex};
    r = db_exec(a, SQL(AG_SMS), 4, p3);
    if (!db_ok(r))
        return *failed = r, -1;
    return 0;
}

void lending_accept(arena *a, const struct lending_actor *who, const char *app_id,
                    const struct audit_client *client, struct lending_outcome *out)
{
    PGresult *r = lending_begin_lock(a, SQL(AG_LOCK_OFFER), app_id, out);
    if (r == NULL)
        return;
    if (PQgetisnull(r, 0, 0) || atoll(PQgetvalue(r, 0, 0)) != who->id) {
        db_rollback();
        out->code = LENDING_NOT_FOUND;
        return;
    }
    const char *offer_id = PQgetvalue(r, 0, 4);
    if (!strcmp(PQgetvalue(r, 0, 5), "SIGNED") ||
        (!PQgetisnull(r, 0, 11) && !strcmp(PQgetvalue(r, 0, 11), "SIGNED"))) {
        db_rollback();
        out->code = LENDING_ALREADY_SIGNED;
        return;
    }
    if (!strcmp(PQgetvalue(r, 0, 5), "WITHDRAWN")) {
        db_rollback();
        out->code = LENDING_NO_OFFER;
        return;
    }
    if (PQgetvalue(r, 0, 6)[0] == 't') {
        db_rollback();
        out->code = LENDING_OFFER_EXPIRED;
        return;
    }
    const char *phone = PQgetvalue(r, 0, 3);
    char agreement_id[32];
    char sha[65];
    char masked[32];
    int created = PQgetisnull(r, 0, 10);
    if (created) {
        lending_new_id("AGR", agreement_id);
        mask_phone(phone, masked);
        const char *terms =
            agreement_terms(a, agreement_id, app_id, PQgetvalue(r, 0, 1), PQgetvalue(r, 0, 2),
                            masked, PQgetvalue(r, 0, 9), PQgetvalue(r, 0, 7), PQgetvalue(r, 0, 8));
        sha256_hex(terms, sha);
        const char *pi[8] = {agreement_id,        offer_id, app_id, PQgetvalue(r, 0, 0), terms, sha,
                             PQgetvalue(r, 0, 8), masked};
        PGresult *ins = db_exec(a, SQL(AG_INSERT), 8, pi);
        if (!db_ok(ins))
            return lending_fail(a, out, ins);
    } else {
        snprintf(agreement_id, sizeof(agreement_id), "%s", PQgetvalue(r, 0, 10));
        snprintf(sha, sizeof(sha), "%s", PQgetvalue(r, 0, 12));
        snprintf(masked, sizeof(masked), "%s", PQgetvalue(r, 0, 13));
    }
    const char *expires = NULL;
    PGresult *failed = NULL;
    int sent = send_code(a, agreement_id, app_id, phone, &expires, &failed);
    if (sent < 0)
        return lending_fail(a, out, failed);
    if (sent > 0) {
        db_rollback();
        out->code = LENDING_OTP_RATE;
        return;
    }
    const char *po[1] = {offer_id};
    PGresult *up = db_exec(a, SQL(AG_OFFER_ACCEPTED), 1, po);
    if (!db_ok(up))
        return lending_fail(a, out, up);
    json_object *d = json_object_new_object();
    json_object_object_add(d, "offer_id", json_object_new_string(offer_id));
    json_object_object_add(d, "agreement_id", json_object_new_string(agreement_id));
    json_object_object_add(d, "agreement_sha256", json_object_new_string(sha));
    json_object_object_add(d, "otp_sent_to", json_object_new_string(masked));
    int lr = lending_log(a, app_id, created ? "offer_accepted" : "otp_sent", who->id, who->email,
                         NULL, d);
    if (lr == 0)
        lr = audit_event(a, client, who->id, who->email,
                         created ? "offer.accepted" : "agreement.code_sent", "agreement",
                         agreement_id, d);
    json_object_put(d);
    if (lr != 0 || db_commit() != 0) {
        db_rollback();
        out->code = LENDING_DB_DOWN;
        return;
    }
    json_object *o = json_object_new_object();
    json_object_object_add(o, "agreement_id", json_object_new_string(agreement_id));
    json_object_object_add(o, "agreement_sha256", json_object_new_string(sha));
    json_object_object_add(o, "kfs_sha256", json_object_new_string(PQgetvalue(r, 0, 8)));
    json_object_object_add(o, "otp_sent_to", json_object_new_string(masked));
    json_object_object_add(o, "otp_expires_at", json_object_new_string(expires));
    out->json = arena_strdup(a, json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
    json_object_put(o);
    out->code = created ? LENDING_CREATED : LENDING_OK;
}

void lending_sign(arena *a, const struct lending_actor *who, const char *agreement_id,
                  const char *otp, const struct audit_client *client, struct lending_outcome *out)
{
    PGresult *r = lending_begin_lock(a, SQL(AG_LOCK), agreement_id, out);
    if (r == NULL)
        return;
    if (PQgetisnull(r, 0, 2) || atoll(PQgetvalue(r, 0, 2)) != who->id) {
        db_rollback();
        out->code = LENDING_NOT_FOUND;
        return;
    }
    const char *app_id = PQgetvalue(r, 0, 1);
    if (!strcmp(PQgetvalue(r, 0, 3), "SIGNED")) {
        db_rollback();
        out->code = LENDING_ALREADY_SIGNED;
        return;
    }
    if (PQgetisnull(r, 0, 9) || PQgetvalue(r, 0, 13)[0] == 't') {
        db_rollback();
        out->code = LENDING_OTP_MISSING;
        return;
    }
    /* The offer must still stand: accepted, within its validity, of an approved application. */
    if (strcmp(PQgetvalue(r, 0, 14), "ACCEPTED") != 0 || strcmp(PQgetvalue(r, 0, 16), "APPROVED")) {
        db_rollback();
        out->code = LENDING_NO_OFFER;
        return;
    }
    if (PQgetvalue(r, 0, 15)[0] == 't') {
        db_rollback();
        out->code = LENDING_OFFER_EXPIRED;
        return;
    }
    int max = config_get()->otp_max_tries;
    if (atoi(PQgetvalue(r, 0, 11)) >= max) {
        db_rollback();
        out->code = LENDING_OTP_EXHAUSTED;
        return;
    }
    if (PQgetvalue(r, 0, 12)[0] == 't') {
        db_rollback();
        out->code = LENDING_OTP_EXPIRED;
        return;
    }
    const char *otp_id = PQgetvalue(r, 0, 9);
    /* A try is taken before the code is compared, in one statement that re-reads the row:
     * concurrent guesses each use one of the tries, however many wait on the lock. */
    char maxs[16];
    snprintf(maxs, sizeof(maxs), "%d", max);
    const char *pt[2] = {otp_id, maxs};
    PGresult *t = db_exec(a, SQL(AG_OTP_TRY), 2, pt);
    if (!db_ok(t))
        return lending_fail(a, out, t);
    if (PQntuples(t) == 0) {
        db_rollback();
        out->code = LENDING_OTP_EXHAUSTED;
        return;
    }
    int now_tries = atoi(PQgetvalue(t, 0, 0));
    char hash[67];
    if (otp_hash(agreement_id, otp, hash) != 0) {
        db_rollback();
        out->code = LENDING_FAULT;
        out->detail = "PII_KEY unusable for the one-time code";
        return;
    }
    /* hash is "\x" + hex; the stored one is plain hex. Constant-time over equal lengths. */
    const char *stored = PQgetvalue(r, 0, 10);
    if (strlen(stored) != 64 || sodium_memcmp(hash + 2, stored, 64) != 0) {
        json_object *d = json_object_new_object();
        json_object_object_add(d, "agreement_id", json_object_new_string(agreement_id));
        json_object_object_add(d, "tries", json_object_new_int(now_tries));
        json_object_object_add(
            d, "client_addr", client && client->addr ? json_object_new_string(client->addr) : NULL);
        int lr = lending_log(a, app_id, "otp_failed", who->id, who->email, NULL, d);
        json_object_put(d);
        if (lr != 0 || db_commit() != 0) {
            db_rollback();
            out->code = LENDING_DB_DOWN;
            return;
        }
        out->code = now_tries >= max ? LENDING_OTP_EXHAUSTED : LENDING_OTP_INVALID;
        out->tries_left = max - now_tries;
        return;
    }
    const char *terms = PQgetvalue(r, 0, 4);
    char sig[129], key_id[17];
    if (sign_terms(terms, sig, key_id) != 0) {
        db_rollback();
        out->code = LENDING_FAULT;
        out->detail = "SIGNING_KEY unusable";
        return;
    }
    const char *pu[1] = {otp_id};
    PGresult *u = db_exec(a, SQL(AG_OTP_USED), 1, pu);
    if (!db_ok(u))
        return lending_fail(a, out, u);
    const char *ps[3] = {agreement_id, key_id, sig};
    PGresult *s = db_exec(a, SQL(AG_SIGN), 3, ps);
    if (!db_ok(s))
        return lending_fail(a, out, s);
    char loan_id[32];
    lending_new_id("LN", loan_id);
    const char *offer_id = PQgetvalue(r, 0, 8);
    const char *pl[3] = {loan_id, agreement_id, offer_id};
    PGresult *l = db_exec(a, SQL(AG_LOAN_INSERT), 3, pl);
    if (!db_ok(l))
        return lending_fail(a, out, l);
    const char *po[1] = {offer_id};
    PGresult *os = db_exec(a, SQL(AG_OFFER_SIGNED), 1, po);
    if (!db_ok(os))
        return lending_fail(a, out, os);
    /* The consent record. */
    json_object *d = json_object_new_object();
    json_object_object_add(d, "agreement_id", json_object_new_string(agreement_id));
    json_object_object_add(d, "agreement_sha256", json_object_new_string(PQgetvalue(r, 0, 5)));
    json_object_object_add(d, "kfs_sha256", json_object_new_string(PQgetvalue(r, 0, 6)));
    json_object_object_add(d, "signed_at", json_object_new_string(PQgetvalue(s, 0, 0)));
    json_object_object_add(d, "phone_masked", json_object_new_string(PQgetvalue(r, 0, 7)));
    json_object_object_add(d, "client_addr",
                           client && client->addr ? json_object_new_string(client->addr) : NULL);
    json_object_object_add(d, "user_agent",
                           client && client->user_agent ? json_object_new_string(client->user_agent)
                                                        : NULL);
    json_object_object_add(d, "consent", json_object_new_string("one-time code to the phone"));
    json_object_object_add(d, "key_id", json_object_new_string(key_id));
    json_object_object_add(d, "loan_id", json_object_new_string(loan_id));
    int lr = lending_log(a, app_id, "agreement_signed", who->id, who->email, NULL, d);
    if (lr == 0)
        lr = audit_event(a, client, who->id, who->email, "agreement.signed", "agreement",
                         agreement_id, d);
    json_object_put(d);
    if (lr != 0 || db_commit() != 0) {
        db_rollback();
        out->code = LENDING_DB_DOWN;
        return;
    }
    log_msg(LOG_INFO, "agreement %s signed; loan %s awaits disbursal", agreement_id, loan_id);
    json_object *o = json_object_new_object();
    json_object_object_add(o, "loan_id", json_object_new_string(loan_id));
    json_object_object_add(o, "state", json_object_new_string("AWAITING_DISBURSAL"));
    json_object_object_add(o, "agreement_id", json_object_new_string(agreement_id));
    json_object_object_add(o, "signature", json_object_new_string(sig));
    json_object_object_add(o, "key_id", json_object_new_string(key_id));
    json_object_object_add(o, "signed_at", json_object_new_string(PQgetvalue(s, 0, 0)));
    out->json = arena_strdup(a, json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
    json_object_put(o);
    out->code = LENDING_CREATED;
}

static json_object *str_or_null(const PGresult *r, int col)
{
    return PQgetisnull(r, 0, col) ? NULL : json_object_new_string(PQgetvalue(r, 0, col));
}

void lending_agreement_get(arena *a, const struct lending_actor *who, const char *agreement_id,
                           struct lending_outcome *out)
{
    memset(out, 0, sizeof(*out));
    const char *p[1] = {agreement_id};
    PGresult *r = db_exec(a, SQL(AG_GET), 1, p);
    if (!db_ok(r)) {
        lending_read_failed(a, out, r);
        return;
    }
    if (PQntuples(r) == 0 ||
        (!who->officer && (PQgetisnull(r, 0, 2) || atoll(PQgetvalue(r, 0, 2)) != who->id))) {
        out->code = LENDING_NOT_FOUND;
        return;
    }
    json_object *g = json_object_new_object();
    json_object_object_add(g, "agreement_id", str_or_null(r, 0));
    json_object_object_add(g, "application_id", str_or_null(r, 1));
    json_object_object_add(g, "offer_id", str_or_null(r, 3));
    json_object_object_add(g, "loan_id", str_or_null(r, 12));
    json_object_object_add(g, "state", str_or_null(r, 7));
    json_object_object_add(g, "alg", json_object_new_string("Ed25519"));
    json_object_object_add(g, "sha256", str_or_null(r, 5));
    json_object_object_add(g, "kfs_sha256", str_or_null(r, 6));
    json_object_object_add(g, "key_id", str_or_null(r, 8));
    json_object_object_add(g, "signature", str_or_null(r, 9));
    json_object_object_add(g, "signed_at", str_or_null(r, 10));
    json_object_object_add(g, "created_at", str_or_null(r, 11));
    json_object_object_add(g, "terms", str_or_null(r, 4));
    json_object *o = json_object_new_object();
    json_object_object_add(o, "agreement", g);
    out->json = arena_strdup(a, json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
    json_object_put(o);
    out->code = LENDING_OK;
}

int lending_verify_document(const char *json, const char *public_hex, const char **why)
{
    json_object *o = json_tokener_parse(json);
    json_object *g = NULL, *terms, *sha, *sig;
    int rc = -1;
    if (o == NULL) {
        *why = "the file is not JSON";
        return -1;
    }
    if (!json_object_object_get_ex(o, "agreement", &g))
        g = o;
    if (!json_object_object_get_ex(g, "terms", &terms) ||
        !json_object_is_type(terms, json_type_string) ||
        !json_object_object_get_ex(g, "sha256", &sha) ||
        !json_object_is_type(sha, json_type_string) ||
        !json_object_object_get_ex(g, "signature", &sig) ||
        !json_object_is_type(sig, json_type_string)) {
        *why = "not a signed agreement: terms, sha256 and signature are required";
        goto out;
    }
    const char *t = json_object_get_string(terms);
    size_t tlen = (size_t)json_object_get_string_len(terms);
    unsigned char h[32], sigb[crypto_sign_BYTES], pk[crypto_sign_PUBLICKEYBYTES];
    char hex[65];
    crypto_hash_sha256(h, (const unsigned char *)t, tlen);
    sodium_bin2hex(hex, sizeof(hex), h, sizeof(h));
    if (strcasecmp(hex, json_object_get_string(sha)) != 0) {
        *why = "the terms' SHA-256 does not match sha256: the terms were altered";
        rc = 1;
        goto out;
    }
    size_t n = 0;
    if (sodium_hex2bin(sigb, sizeof(sigb), json_object_get_string(sig),
                       (size_t)json_object_get_string_len(sig), NULL, &n, NULL) != 0 ||
        n != sizeof(sigb) ||
        sodium_hex2bin(pk, sizeof(pk), public_hex, strlen(public_hex), NULL, &n, NULL) != 0 ||
        n != sizeof(pk)) {
        *why = "the signature or the public key is not hex of the right length";
        rc = 2;
        goto out;
    }
    if (crypto_sign_verify_detached(sigb, (const unsigned char *)t, tlen, pk) != 0) {
        *why = "the Ed25519 signature does not verify with this key";
        rc = 2;
        goto out;
    }
    *why = "valid";
    rc = 0;
out:
    json_object_put(o);
    return rc;
}

int lending_last_otp(arena *a, const char *phone, char code[7])
{
    const char *p[1] = {phone};
    PGresult *r = db_exec(a, SQL(AG_LAST_OTP), 1, p);
    if (!db_ok(r))
        return -1;
    if (PQntuples(r) == 0)
        return 1;
    unsigned char sealed[PII_SEALED_MAX];
    /* encode(..., 'hex') gives plain hex; pii_bytea_parse wants "\x..." */
    const char *hex = arena_printf(a, "\\x%s", PQgetvalue(r, 0, 1));
    long n = pii_bytea_parse(hex, sealed, sizeof(sealed));
    struct pii_key k;
    char clear[PII_MAX_CLEAR + 1];
    if (n < 0 || pii_key_from_hex(config_get()->pii_key, &k) != 0)
        return -1;
    int rc = pii_open(&k, PQgetvalue(r, 0, 0), "otp", sealed, (size_t)n, clear, sizeof(clear));
    pii_key_wipe(&k);
    if (rc != 0 || strlen(clear) != 6)
        return -1;
    memcpy(code, clear, 7);
    sodium_memzero(clear, sizeof(clear));
    return 0;
}
