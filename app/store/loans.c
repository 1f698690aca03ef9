/*
 * The persistence side of the pipeline. Application rows are written with every stage's
 * status, remarks and time, the screening evidence and the review flags, so that what an
 * officer sees is what the decision was made from. Notifications go to an outbox in the same
 * transaction: an email to the applicant when the decision is final, an alert to compliance
 * when something waits for review or compliance rejected.
 */
#include "loans.h"

#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cache.h"
#include "config.h"
#include "credit.h"
#include "epoch.h"
#include "js.h"
#include "log.h"
#include "pii.h"
#include "providers.h"

#define DECISION_SET                                                                               \
    "kyc_status = $2::text, kyc_remarks = $3, "                                                          \
    "kyc_verified_at = CASE WHEN $2::text = 'PENDING' THEN NULL ELSE now() END, "                       \
    "compliance_status = $4::text, compliance_remarks = $5, "                                            \
    "compliance_verified_at = CASE WHEN $4::text = 'PENDING' THEN NULL ELSE now() END, "                \
    "eligibility_status = $6::text, eligibility_remarks = $7, "                                          \
    "eligibility_verified_at = CASE WHEN $6::text = 'PENDING' THEN NULL ELSE now() END, "               \
    "final_status = $8::text, final_remarks = $9, "                                                      \
    "final_decision_at = CASE WHEN $8::text = 'PENDING' THEN NULL ELSE now() END, "                     \
    "review_flags = ARRAY(SELECT json_array_elements_text($10::json)), "                          \
    "political_connection = $11::boolean, senior_relative = $12::boolean, "                        \
    "screening_list = $13, screening_list_version = $14, screening_entry_id = $15::bigint, "      \
    "screening_matched_name = $16, screening_score = $17::numeric, dti_ratio = $18::numeric, "    \
    "updated_at = now()"

/* The protected identity columns, written once at submission from the JSON parameter j. */
#define IDENTITY_COLS                                                                              \
    "date_of_birth, aadhaar_masked, aadhaar_enc, aadhaar_bidx, pan_masked, pan_enc, pan_bidx, "    \
    "bank_account_masked, bank_account_enc, bank_ifsc, bank_holder_name, pii_key_id"
#define IDENTITY_VALUES                                                                            \
    "(j->>'date_of_birth')::date, j->>'aadhaar_masked', decode(j->>'aadhaar_enc', 'hex'), "        \
    "decode(j->>'aadhaar_bidx', 'hex'), j->>'pan_masked', decode(j->>'pan_enc', 'hex'), "          \
    "decode(j->>'pan_bidx', 'hex'), j->>'bank_account_masked', "                                   \
    "decode(j->>'bank_account_enc', 'hex'), j->>'bank_ifsc', j->>'bank_holder_name', "             \
    "j->>'pii_key_id'"
/* What the providers, the tiers, the model and the market data said, from the JSON parameter
 * v: written at submission and at every re-evaluation. */
#define VERDICT_COLS                                                                               \
    "ekyc, bureau_name, bureau_status, bureau_score, bureau_active_loans, "                        \
    "bureau_overdue_accounts, bureau_enquiries_6m, bureau_reference, bureau_tier_version, "        \
    "bureau_tier_limit, risk_model_version, risk_pd, risk_points, risk_grade, risk_reasons, "      \
    "rate_base_symbol, rate_base_bps, rate_base_as_of, rate_spread_bps, rate_bps, failed_rules"
#define VERDICT_VALUES                                                                             \
    "v->'ekyc', v->>'bureau_name', v->>'bureau_status', (v->>'bureau_score')::int, "               \
    "(v->>'bureau_active_loans')::int, (v->>'bureau_overdue_accounts')::int, "                     \
    "(v->>'bureau_enquiries_6m')::int, v->>'bureau_reference', (v->>'tier_version')::int, "        \
    "(v->>'tier_limit')::numeric, (v->>'risk_model_version')::int, (v->>'risk_pd')::numeric, "     \
    "(v->>'risk_points')::int, v->>'risk_grade', v->'risk_reasons', v->>'rate_base_symbol', "      \
    "(v->>'rate_base_bps')::int, (v->>'rate_base_as_of')::date, (v->>'rate_spread_bps')::int, "    \
    "(v->>'rate_bps')::int, "                                                                     \
    "ARRAY(SELECT jsonb_array_elements_text(coalesce(v->'failed_rules', '[]'::jsonb)))"

const struct db_stmt loans_sql[LOANS_SQL_COUNT] = {
    [LOANS_INSERT] = {"loans_insert",
     "INSERT INTO loan_applications (application_id, user_id, name, email, phone, city, region, "
     "country, country_code, income, debt, credit_score, loan_amount, loan_purpose, dti_ratio, "
     "documents_uploaded, documents, declared_political_connection, declared_senior_relative, "
     "political_connection, senior_relative, kyc_status, kyc_remarks, kyc_verified_at, "
     "compliance_status, compliance_remarks, compliance_verified_at, eligibility_status, "
     "eligibility_remarks, eligibility_verified_at, final_status, final_remarks, "
     "final_decision_at, review_flags, screening_list, screening_list_version, "
     "screening_entry_id, screening_matched_name, screening_score, created_at, updated_at, "
     IDENTITY_COLS ", " VERDICT_COLS ") "
     "SELECT $1, $2::bigint, $3, $4, $5, $6, $7, $8, $9, $10::numeric, $11::numeric, $12::int, "
     "$13::numeric, $14, $15::numeric, $16::boolean, "
     "ARRAY(SELECT json_array_elements_text($17::json)), $18::boolean, $19::boolean, "
     "$20::boolean, $21::boolean, $22::text, $23, CASE WHEN $22::text = 'PENDING' THEN NULL ELSE t END, "
     "$24::text, $25, CASE WHEN $24::text = 'PENDING' THEN NULL ELSE t END, $26::text, $27, "
     "CASE WHEN $26::text = 'PENDING' THEN NULL ELSE t END, $28::text, $29, "
     "CASE WHEN $28::text = 'PENDING' THEN NULL ELSE t END, "
     "ARRAY(SELECT json_array_elements_text($30::json)), $31, $32, $33::bigint, $34, "
     "$35::numeric, t, t, " IDENTITY_VALUES ", " VERDICT_VALUES " "
     "FROM (SELECT coalesce($36::timestamptz, now()) AS t, $37::jsonb AS j, $38::jsonb AS v) AS ts "
     "RETURNING " LOANS_COLS},
    [LOANS_UPDATE] = {"loans_update", "UPDATE loan_applications SET " DECISION_SET
                     ", reviewed_by = CASE WHEN $19::boolean THEN $20::bigint ELSE reviewed_by END, "
                     "reviewed_at = CASE WHEN $19::boolean THEN now() ELSE reviewed_at END, "
                     "review_reason = CASE WHEN $19::boolean THEN $21 ELSE review_reason END, "
                     "(" VERDICT_COLS ") = (SELECT " VERDICT_VALUES ") "
                     "FROM (SELECT $22::jsonb AS v) AS vs "
                     "WHERE application_id = $1 RETURNING " LOANS_COLS},
    [LOANS_IDENTITY] = {"loans_identity",
     "SELECT coalesce(to_char(date_of_birth, 'YYYY-MM-DD'), ''), aadhaar_enc, pan_enc, "
     "bank_account_enc, coalesce(bank_ifsc, ''), bank_holder_name, coalesce(pii_key_id, ''), "
     "ekyc::text, coalesce(bureau_name, ''), coalesce(bureau_status, ''), "
     "coalesce(bureau_score, 0), coalesce(bureau_active_loans, 0), "
     "coalesce(bureau_overdue_accounts, 0), coalesce(bureau_enquiries_6m, 0), "
     "coalesce(bureau_reference, '') FROM loan_applications WHERE application_id = $1"},
    [PII_ROTATE_PICK] = {"pii_rotate_pick",
     "SELECT id, application_id, aadhaar_enc, pan_enc, bank_account_enc, pii_key_id "
     "FROM loan_applications WHERE pii_key_id IS NOT NULL AND pii_key_id <> $1 "
     "AND id > $2::bigint AND id <= $3::bigint ORDER BY id LIMIT $4::int "
     "FOR UPDATE SKIP LOCKED"},
    [PII_ROTATE_WRITE] = {"pii_rotate_write",
     "UPDATE loan_applications SET aadhaar_enc = $2::bytea, aadhaar_bidx = $3::bytea, "
     "pan_enc = $4::bytea, pan_bidx = $5::bytea, bank_account_enc = $6::bytea, pii_key_id = $7 "
     "WHERE id = $1::bigint"},
    [PII_ROTATE_LEFT] = {"pii_rotate_left",
     "SELECT count(*) FROM loan_applications WHERE pii_key_id IS NOT NULL AND pii_key_id <> $1 "
     "AND id <= $2::bigint"},
    [PII_ROTATE_BOUNDS] = {"pii_rotate_bounds",
     "SELECT coalesce(max(id), 0) FROM loan_applications"},
    [PII_STATUS] = {"pii_status",
     "SELECT pii_key_id, count(*) FROM loan_applications WHERE pii_key_id IS NOT NULL "
     "GROUP BY pii_key_id ORDER BY 2 DESC"},
    [LOANS_OPEN_IDENTITY] = {"loans_open_identity",
     "SELECT (SELECT count(*) FROM loan_applications WHERE final_status = 'PENDING' AND "
     "aadhaar_bidx = ANY ($1::bytea[])), (SELECT count(*) FROM loan_applications WHERE "
     "final_status = 'PENDING' AND pan_bidx = ANY ($2::bytea[]))"},
    [LOANS_LOG] = {"loans_log",
     "INSERT INTO approval_logs (application_id, action, actor_id, actor_email, reason, "
     "status_before, status_after, created_at) VALUES ($1, $2, $3::bigint, $4, $5, $6, $7, "
     "coalesce($8::timestamptz, now()))"},
    [NOTIFY_CLAIM] = {"notify_claim",
     "SELECT id, application_id, kind, recipient, subject, body FROM notifications "
     "WHERE sent_at IS NULL ORDER BY id LIMIT 50 FOR UPDATE SKIP LOCKED"},
    [NOTIFY_MARK] = {"notify_mark",
     "WITH n AS (UPDATE notifications SET sent_at = now(), attempts = attempts + 1 "
     "WHERE id = $1::bigint RETURNING application_id) "
     "UPDATE loan_applications SET email_sent = email_sent OR $2 = 'email', "
     "alert_sent = alert_sent OR $2 = 'alert' WHERE application_id = (SELECT application_id FROM n)"},
    [LOANS_NOTIFY] = {"loans_notify",
     "INSERT INTO notifications (application_id, kind, recipient, subject, body) "
     "VALUES ($1, $2, $3, $4, $5)"},
};
const struct db_stmts loans_statements = DB_STMTS("loans", loans_sql);
#define SQL(id) (&loans_sql[id])


static const char *cents_text(arena *a, int64_t cents)
{
    return arena_printf(a, "%s%" PRId64 ".%02" PRId64, cents < 0 ? "-" : "",
                        (cents < 0 ? -cents : cents) / 100, (cents < 0 ? -cents : cents) % 100);
}

static int cents_of(const char *s, int64_t *out)
{
    return js_parse_cents(s, strlen(s), LOAN_MAX_CENTS, out);
}

int loans_row_input(arena *a, const PGresult *res, int row, struct loan_input *in)
{
    memset(in, 0, sizeof(*in));
    in->name = PQgetvalue(res, row, LC_NAME);
    in->email = PQgetvalue(res, row, LC_EMAIL);
    in->phone = PQgetvalue(res, row, LC_PHONE);
    in->city = PQgetisnull(res, row, LC_CITY) ? NULL : PQgetvalue(res, row, LC_CITY);
    in->country = PQgetvalue(res, row, LC_COUNTRY_CODE);
    in->loan_purpose = PQgetvalue(res, row, LC_PURPOSE);
    snprintf(in->region, sizeof(in->region), "%s", PQgetvalue(res, row, LC_REGION));
    if (cents_of(PQgetvalue(res, row, LC_INCOME), &in->income) != 0 ||
        cents_of(PQgetvalue(res, row, LC_DEBT), &in->debt) != 0 ||
        cents_of(PQgetvalue(res, row, LC_LOAN), &in->loan_amount) != 0)
        return -1;
    in->credit_score = atoi(PQgetvalue(res, row, LC_SCORE));
    in->documents_uploaded = PQgetvalue(res, row, LC_DOCS_UPLOADED)[0] == 't';
    in->political_connection = PQgetvalue(res, row, LC_DECL_PEP)[0] == 't';
    in->senior_relative = PQgetvalue(res, row, LC_DECL_SENIOR)[0] == 't';
    json_object *docs = json_tokener_parse(PQgetvalue(res, row, LC_DOCS));
    if (docs != NULL && json_object_is_type(docs, json_type_array)) {
        for (size_t i = 0; i < json_object_array_length(docs) && in->ndocs < LOAN_MAX_DOCS; i++)
            in->documents[in->ndocs++] =
                arena_strdup(a, json_object_get_string(json_object_array_get_idx(docs, i)));
    }
    json_object_put(docs);
    return 0;
}

long loans_identity_us;

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
    keys.have_prev = cfg->pii_key_previous[0] && pii_key_from_hex(cfg->pii_key_previous,
                                                                   &keys.prev) == 0;
    keys.loaded = 1;
    return 0;
}

void loans_body_hash(const void *body, size_t len, char hex[65])
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

const char *loans_pii_key_id(void)
{
    return keys_load() == 0 ? keys.cur.id : "";
}

/* Today's date in UTC. */
static void today(int *y, int *m, int *d)
{
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    *y = tm.tm_year + 1900;
    *m = tm.tm_mon + 1;
    *d = tm.tm_mday;
}

int loans_age(const struct loan_input *in)
{
    int y, m, d;
    if (!in->date_of_birth[0])
        return -1;
    today(&y, &m, &d);
    return loan_age_years(in->date_of_birth, y, m, d);
}

int loans_evaluate(arena *a, const struct loan_input *in, unsigned cleared,
                   const struct identity_facts *stored, const struct country_info **country,
                   struct compliance_facts *f, struct loan_result *out)
{
    const struct config *cfg = config_get();
    int down = 0;
    memset(f, 0, sizeof(*f));
    *country = refdata_country(in->country, &down);
    if (down)
        return -1;
    if (*country == NULL)
        return 1;
    f->country_risk = (*country)->risk;
    f->country_name = (*country)->name;
    if (refdata_screen(a, in, f) != 0)
        return -1;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    if (credit_policy((*country)->code, &f->credit) != 0)
        return -1;
    if (stored != NULL)
        f->id = *stored;
    else
        providers_gather(in, &f->id);
    f->id.country_code = (*country)->code;
    f->id.age = loans_age(in);
    f->id.has_age = f->id.age >= 0;
    struct loan_policy p = {cfg->sanctions_block, cfg->sanctions_review,
                            cfg->review_mode == REVIEW_MANUAL};
    loan_evaluate(in, f, &p, cleared, out);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    loans_identity_us = (t1.tv_sec - t0.tv_sec) * 1000000L + (t1.tv_nsec - t0.tv_nsec) / 1000;
    return 0;
}

static json_object *ekyc_json(const struct ekyc_check *c)
{
    if (c->status == EKYC_NOT_CHECKED)
        return NULL;
    json_object *o = json_object_new_object();
    json_object_object_add(o, "status", json_object_new_string(ekyc_status_name(c->status)));
    json_object_object_add(o, "name_score",
                           c->name_score >= 0 ? js_new_fixed(c->name_score, 4) : NULL);
    json_object_object_add(o, "dob_match",
                           c->dob_match < 0 ? NULL : json_object_new_boolean(c->dob_match));
    json_object_object_add(o, "reference",
                           c->reference[0] ? json_object_new_string(c->reference) : NULL);
    return o;
}

static void put_int(json_object *o, const char *k, int have, long long v)
{
    json_object_object_add(o, k, have ? json_object_new_int64(v) : NULL);
}

static void put_str(json_object *o, const char *k, const char *v)
{
    json_object_object_add(o, k, v && v[0] ? json_object_new_string(v) : NULL);
}

/* The verdict parameter of loans_insert / loans_update (see VERDICT_VALUES). */
static const char *verdict_json(arena *a, const struct compliance_facts *f,
                                const struct loan_result *res)
{
    const struct identity_facts *id = &f->id;
    const struct bureau_report *b = &id->bureau;
    json_object *v = json_object_new_object();
    if (id->aadhaar.status || id->pan.status || id->bank.status) {
        json_object *e = json_object_new_object();
        const struct ekyc_provider *ek = providers_ekyc();
        json_object_object_add(e, "provider", json_object_new_string(ek ? ek->name : "none"));
        json_object_object_add(e, "aadhaar", ekyc_json(&id->aadhaar));
        json_object_object_add(e, "pan", ekyc_json(&id->pan));
        json_object_object_add(e, "bank_account", ekyc_json(&id->bank));
        json_object_object_add(v, "ekyc", e);
    }
    if (b->status != BUREAU_NOT_CHECKED) {
        int ok = b->status == BUREAU_OK;
        put_str(v, "bureau_name", b->status == BUREAU_DISABLED ? "" : b->bureau);
        put_str(v, "bureau_status", bureau_status_name(b->status == BUREAU_DISABLED
                                                           ? BUREAU_ERROR
                                                           : b->status));
        put_int(v, "bureau_score", ok, b->score);
        put_int(v, "bureau_active_loans", ok, b->active_loans);
        put_int(v, "bureau_overdue_accounts", ok, b->overdue_accounts);
        put_int(v, "bureau_enquiries_6m", ok, b->enquiries_6m);
        put_str(v, "bureau_reference", b->reference);
        put_int(v, "tier_version", res->tier_applied, f->credit.tier_version);
        json_object_object_add(v, "tier_limit", res->tier_applied && res->tier_limit > 0
                                                    ? js_new_money(res->tier_limit)
                                                    : NULL);
    }
    if (res->has_risk) {
        const struct risk_result *r = &res->risk;
        char grade[2] = {r->grade, '\0'};
        put_int(v, "risk_model_version", 1, f->credit.model->version);
        json_object_object_add(v, "risk_pd", js_new_fixed(r->pd, 6));
        put_int(v, "risk_points", 1, r->points);
        put_str(v, "risk_grade", grade);
        json_object *reasons = json_object_new_array();
        for (int i = 0; i < r->nreasons; i++) {
            json_object *x = json_object_new_object();
            json_object_object_add(x, "code", json_object_new_string(r->reason_codes[i]));
            json_object_object_add(x, "description", json_object_new_string(r->reason_texts[i]));
            json_object_array_add(reasons, x);
        }
        json_object_object_add(v, "risk_reasons", reasons);
    }
    if (res->has_rate) {
        put_str(v, "rate_base_symbol", f->credit.base_symbol);
        put_int(v, "rate_base_bps", 1, f->credit.base_bps);
        put_str(v, "rate_base_as_of", f->credit.base_as_of);
        put_int(v, "rate_spread_bps", 1, res->spread_bps);
        put_int(v, "rate_bps", 1, res->rate_bps);
    }
    json_object *rules = json_object_new_array();
    char buf[sizeof(res->hard_rules)];
    snprintf(buf, sizeof(buf), "%s", res->hard_rules);
    char *save = NULL;
    for (char *t = strtok_r(buf, ", ", &save); t; t = strtok_r(NULL, ", ", &save))
        json_object_array_add(rules, json_object_new_string(t));
    json_object_object_add(v, "failed_rules", rules);
    const char *text = arena_strdup(a, json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN));
    json_object_put(v);
    return text;
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

/* The identity parameter of loans_insert (see IDENTITY_VALUES); NULL when keys are unusable. */
static const char *identity_json(arena *a, const char *app_id, const struct loan_input *in)
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

int loans_open_identity(arena *a, const struct loan_input *in, const char **field)
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
    PGresult *res = db_exec(a, SQL(LOANS_OPEN_IDENTITY), 2, p);
    if (!db_ok(res))
        return -1;
    if (atoll(PQgetvalue(res, 0, 1)) > 0)
        *field = "pan";
    else if (atoll(PQgetvalue(res, 0, 0)) > 0)
        *field = "aadhaar";
    return 0;
}

/* Opens one sealed column of a loans_identity row into out. 0, 1 when NULL, -1 on failure. */
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

/* Re-seals one sealed column of a pii_rotate_pick row under the current key into hex text;
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

int loans_pii_rotate(arena *a, int batch, struct loans_rotation *st)
{
    if (keys_load() != 0)
        return -1;
    if (st->max_id == 0) {
        PGresult *b = db_exec(a, SQL(PII_ROTATE_BOUNDS), 0, NULL);
        if (!db_ok(b))
            return -1;
        st->max_id = atoll(PQgetvalue(b, 0, 0));
    }
    if (db_begin() != 0)
        return -1;
    const char *p[4] = {keys.cur.id, arena_printf(a, "%lld", st->after),
                        arena_printf(a, "%lld", st->max_id), arena_printf(a, "%d", batch)};
    PGresult *rows = db_exec(a, SQL(PII_ROTATE_PICK), 4, p);
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
        PGresult *wr = db_exec(a, SQL(PII_ROTATE_WRITE), 7, w);
        if (wr != NULL && !db_ok(wr) && !strcmp(db_sqlstate(wr), "23505")) {
            if (db_simple("ROLLBACK TO SAVEPOINT pii_row") != 0) {
                db_rollback();
                return -1;
            }
            log_msg(LOG_WARN, "application %s: the same PAN or Aadhaar is on another open "
                              "application; left under the previous key", app_id);
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

long loans_pii_left(arena *a, const struct loans_rotation *st)
{
    if (keys_load() != 0)
        return -1;
    const char *p[2] = {keys.cur.id, arena_printf(a, "%lld", st->max_id)};
    PGresult *res = db_exec(a, SQL(PII_ROTATE_LEFT), 2, p);
    return db_ok(res) ? atol(PQgetvalue(res, 0, 0)) : -1;
}

int loans_row_identity(arena *a, const char *app_id, struct loan_input *in,
                       struct identity_facts *stored, int open_numbers)
{
    const char *p[1] = {app_id};
    PGresult *res = db_exec(a, SQL(LOANS_IDENTITY), 1, p);
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

void loans_new_id(char buf[24])
{
    static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    size_t n = strftime(buf, 24, "LOAN-%Y%m%d-", &tm);
    for (int i = 0; i < 8; i++)
        buf[n + (size_t)i] = alphabet[randombytes_uniform(36)];
    buf[n + 8] = '\0';
}

static const char *flags_json(arena *a, unsigned flags)
{
    json_object *arr = json_object_new_array();
    for (unsigned b = 0; b < LOAN_FLAG_COUNT; b++)
        if (flags & (1u << b))
            json_object_array_add(arr, json_object_new_string(loan_flag_name(1u << b)));
    const char *s = arena_strdup(a, json_object_to_json_string_ext(arr, JSON_C_TO_STRING_PLAIN));
    json_object_put(arr);
    return s;
}

static const char *bool_s(int b)
{
    return b ? "true" : "false";
}

/* Screening evidence is kept when something came near the review threshold; otherwise the list
 * and version screened against are kept with no entry. */
static void evidence(arena *a, const struct compliance_facts *f, const char **p)
{
    const struct config *cfg = config_get();
    int hit = f->screened && f->sanctions_score >= cfg->sanctions_review;
    p[0] = f->screened ? f->sanctions_list : NULL;
    p[1] = f->screened ? f->sanctions_version : NULL;
    p[2] = hit ? arena_printf(a, "%lld", f->sanctions_entry) : NULL;
    p[3] = hit ? f->sanctions_name : NULL;
    p[4] = hit ? arena_printf(a, "%.4f", f->sanctions_score) : NULL;
}

static const char *dti_text(arena *a, const struct loan_result *res)
{
    return res->has_dti ? arena_printf(a, "%.4f", res->dti) : NULL;
}

/* Queues the notifications a decision calls for. 0 or -1. */
static int notify(arena *a, const char *app_id, const struct loan_input *in,
                  const struct loan_result *res, const char *before)
{
    const struct config *cfg = config_get();
    enum loan_status fin = res->final.status;
    int final_now = fin != LOAN_PENDING && (before == NULL || strcmp(before, "PENDING") == 0 ||
                                            strcmp(before, loan_status_name(fin)) != 0);
    if (final_now) {
        const char *subject = arena_printf(a, "Your loan application %s was %s", app_id,
                                           fin == LOAN_APPROVED ? "approved" : "not approved");
        const char *body = arena_printf(a, "Dear %s,\n\nyour application %s has been %s.\n%s\n",
                                        in->name, app_id, loan_status_name(fin),
                                        res->final.remarks);
        const char *p[5] = {app_id, "email", in->email, subject, body};
        if (!db_ok(db_exec(a, SQL(LOANS_NOTIFY), 5, p)))
            return -1;
    }
    if (res->flags != 0 || res->compliance.status == LOAN_REJECTED) {
        const char *subject =
            arena_printf(a, "%s: %s", app_id,
                         res->compliance.status == LOAN_REJECTED ? "compliance rejection"
                                                                 : "review required");
        const char *body = arena_printf(a, "Application %s (%s)\nCompliance: %s — %s\nFinal: %s\n",
                                        app_id, in->name, loan_status_name(res->compliance.status),
                                        res->compliance.remarks, res->final.remarks);
        const char *p[5] = {app_id, "alert", cfg->compliance_email, subject, body};
        if (!db_ok(db_exec(a, SQL(LOANS_NOTIFY), 5, p)))
            return -1;
    }
    return 0;
}

static const char *docs_json(arena *a, const struct loan_input *in)
{
    json_object *arr = json_object_new_array();
    for (int i = 0; i < in->ndocs; i++)
        json_object_array_add(arr, json_object_new_string(in->documents[i]));
    const char *s = arena_strdup(a, json_object_to_json_string_ext(arr, JSON_C_TO_STRING_PLAIN));
    json_object_put(arr);
    return s;
}

PGresult *loans_insert(arena *a, long long user_id, const char *actor_email,
                       const struct loan_input *in, const struct country_info *c,
                       const struct compliance_facts *f, const struct loan_result *res,
                       const char *created_at, int notify_applicant)
{
    char app_id[24];
    PGresult *row = NULL;
    const char *ev[5];
    evidence(a, f, ev);
    const char *verdict = verdict_json(a, f, res);
    /* A clash of 36^8 random ids is rare; the savepoint lets a clash be retried with a new id
     * inside the caller's transaction. */
    if (db_simple("SAVEPOINT loan_insert") != 0)
        return NULL;
    for (int attempt = 0; attempt < 3; attempt++) {
        loans_new_id(app_id);
        const char *p[38] = {
            app_id,
            user_id > 0 ? arena_printf(a, "%lld", user_id) : NULL,
            in->name,
            in->email,
            in->phone,
            in->city,
            in->region,
            c->name,
            c->code,
            cents_text(a, in->income),
            cents_text(a, in->debt),
            arena_printf(a, "%d", in->credit_score),
            cents_text(a, in->loan_amount),
            in->loan_purpose ? in->loan_purpose : "",
            dti_text(a, res),
            bool_s(in->documents_uploaded),
            docs_json(a, in),
            bool_s(in->political_connection),
            bool_s(in->senior_relative),
            bool_s(in->political_connection || f->pep_name != NULL),
            bool_s(in->senior_relative || f->senior_name != NULL),
            loan_status_name(res->kyc.status),
            res->kyc.remarks,
            loan_status_name(res->compliance.status),
            res->compliance.remarks,
            loan_status_name(res->eligibility.status),
            res->eligibility.remarks,
            loan_status_name(res->final.status),
            res->final.remarks,
            flags_json(a, res->flags),
            ev[0], ev[1], ev[2], ev[3], ev[4],
            created_at,
            identity_json(a, app_id, in),
            verdict,
        };
        if (p[36] == NULL)
            return NULL;
        if (attempt > 0 && db_simple("ROLLBACK TO SAVEPOINT loan_insert") != 0)
            return NULL;
        row = db_exec(a, SQL(LOANS_INSERT), 38, p);
        if (row == NULL || db_ok(row) || strcmp(db_sqlstate(row), "23505") != 0 ||
            strstr(PQresultErrorMessage(row), "application_id") == NULL)
            break;
    }
    if (!db_ok(row))
        return row;
    const char *lp[8] = {app_id, "submit", user_id > 0 ? arena_printf(a, "%lld", user_id) : NULL,
                         actor_email, NULL, NULL, loan_status_name(res->final.status), created_at};
    PGresult *log = db_exec(a, SQL(LOANS_LOG), 8, lp);
    if (!db_ok(log))
        return log;
    if (notify_applicant && notify(a, app_id, in, res, NULL) != 0)
        return NULL;
    return row;
}

PGresult *loans_update(arena *a, const char *app_id, const char *action, long long actor_id,
                       const char *actor_email, const char *reason, const char *status_before,
                       const struct loan_input *in, const struct compliance_facts *f,
                       const struct loan_result *res, int reviewed)
{
    const char *ev[5];
    evidence(a, f, ev);
    const char *actor = actor_id > 0 ? arena_printf(a, "%lld", actor_id) : NULL;
    const char *p[22] = {
        app_id,
        loan_status_name(res->kyc.status),
        res->kyc.remarks,
        loan_status_name(res->compliance.status),
        res->compliance.remarks,
        loan_status_name(res->eligibility.status),
        res->eligibility.remarks,
        loan_status_name(res->final.status),
        res->final.remarks,
        flags_json(a, res->flags),
        bool_s(in->political_connection || f->pep_name != NULL),
        bool_s(in->senior_relative || f->senior_name != NULL),
        ev[0], ev[1], ev[2], ev[3], ev[4],
        dti_text(a, res),
        bool_s(reviewed),
        actor,
        reason,
        verdict_json(a, f, res),
    };
    PGresult *row = db_exec(a, SQL(LOANS_UPDATE), 22, p);
    if (!db_ok(row))
        return row;
    if (loans_log_and_notify(a, app_id, action, actor_id, actor_email, reason, status_before, in,
                             res) != 0)
        return NULL;
    return row;
}

int loans_log_and_notify(arena *a, const char *app_id, const char *action, long long actor_id,
                         const char *actor_email, const char *reason, const char *status_before,
                         const struct loan_input *in, const struct loan_result *res)
{
    const char *actor = actor_id > 0 ? arena_printf(a, "%lld", actor_id) : NULL;
    const char *lp[8] = {app_id, action, actor, actor_email, reason, status_before,
                         loan_status_name(res->final.status), NULL};
    if (!db_ok(db_exec(a, SQL(LOANS_LOG), 8, lp)))
        return -1;
    return notify(a, app_id, in, res, status_before);
}

void loans_changed(const char *app_id)
{
    epoch_bump();
    /* After the commit, never before: a reader that fetched the old row could otherwise cache
     * it under the new version. A failure leaves the cached copies to their TTL. */
    if (app_id != NULL) {
        char key[64];
        snprintf(key, sizeof(key), "appv:%s", app_id);
        cache_incr(key);
    }
    cache_incr("dashboard:version");
}
