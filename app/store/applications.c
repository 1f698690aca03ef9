/*
 * Application rows in PostgreSQL. A row is written with every stage's status, remarks and
 * time, the screening evidence, the review flags and what the providers, the tiers, the model
 * and the market data said, so that what an officer sees is what the decision was made from.
 * Each write carries its approval-log entry and queues its notifications (outbox.c) in the
 * caller's transaction; the reads return the doc texts the database keeps (loan_doc() and, for
 * applicants, loan_applicant_doc() in sql/010), which the handlers send as they are. After a
 * commit, applications_changed tells the caches.
 */
#include "applications.h"

#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cache.h"
#include "config.h"
#include "epoch.h"
#include "identity.h"
#include "js.h"
#include "outbox.h"
#include "refdata.h"
#include "providers.h"
#include "stats.h"

/* clang-format off */
/* The decision columns, $2 to $17 in the order of decision_params (the INSERT binds the same
 * values as $20 to $35), and the DTI as $18. */
#define DECISION_SET                                                                               \
    "political_connection = $2::boolean, senior_relative = $3::boolean, "                          \
    "kyc_status = $4::text, kyc_remarks = $5, "                                                    \
    "kyc_verified_at = CASE WHEN $4::text = 'PENDING' THEN NULL ELSE now() END, "                  \
    "compliance_status = $6::text, compliance_remarks = $7, "                                      \
    "compliance_verified_at = CASE WHEN $6::text = 'PENDING' THEN NULL ELSE now() END, "           \
    "eligibility_status = $8::text, eligibility_remarks = $9, "                                    \
    "eligibility_verified_at = CASE WHEN $8::text = 'PENDING' THEN NULL ELSE now() END, "          \
    "final_status = $10::text, final_remarks = $11, "                                              \
    "final_decision_at = CASE WHEN $10::text = 'PENDING' THEN NULL ELSE now() END, "               \
    "rescreen_hold = rescreen_hold AND $10::text = 'PENDING', "                                    \
    "review_flags = ARRAY(SELECT json_array_elements_text($12::json)), "                           \
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
    "rate_base_symbol, rate_base_bps, rate_base_as_of, rate_spread_bps, rate_bps, failed_rules, " \
    "screening_level, screening_evidence"
#define VERDICT_VALUES                                                                             \
    "v->'ekyc', v->>'bureau_name', v->>'bureau_status', (v->>'bureau_score')::int, "               \
    "(v->>'bureau_active_loans')::int, (v->>'bureau_overdue_accounts')::int, "                     \
    "(v->>'bureau_enquiries_6m')::int, v->>'bureau_reference', (v->>'tier_version')::int, "        \
    "(v->>'tier_limit')::numeric, (v->>'risk_model_version')::int, (v->>'risk_pd')::numeric, "     \
    "(v->>'risk_points')::int, v->>'risk_grade', v->'risk_reasons', v->>'rate_base_symbol', "      \
    "(v->>'rate_base_bps')::int, (v->>'rate_base_as_of')::date, (v->>'rate_spread_bps')::int, "    \
    "(v->>'rate_bps')::int, "                                                                     \
    "ARRAY(SELECT jsonb_array_elements_text(coalesce(v->'failed_rules', '[]'::jsonb))), "     \
    "v->>'screening_level', v->'screening_evidence'"

#define LIST_ORDER " ORDER BY created_at DESC, id DESC LIMIT $4::int OFFSET $5::int"
#define LIST_SQL(where) "SELECT doc FROM loan_applications WHERE " where LIST_ORDER

enum {
    APPS_INSERT,
    APPS_UPDATE,
    APPS_LOG,
    APPS_LIST_0,
    APPS_LIST_1,
    APPS_LIST_2,
    APPS_LIST_3,
    APPS_LIST_4,
    APPS_LIST_5,
    APPS_LIST_6,
    APPS_LIST_7,
    APPS_DOC,
    APPS_LOCK,
    APPS_OF_USER,
    APPS_REJECT,
    APPS_LOGS,
    APPS_QUEUE,
    APPS_LOGS_FOR,
    APPS_FIRST_APPROVAL,
    APPS_SQL_COUNT
};

static const struct db_stmt sql[APPS_SQL_COUNT] = {
    [APPS_INSERT] = {"applications_insert",
     "INSERT INTO loan_applications (application_id, user_id, name, email, phone, city, region, "
     "country, country_code, income, debt, credit_score, loan_amount, loan_purpose, dti_ratio, "
     "documents_uploaded, documents, declared_political_connection, declared_senior_relative, "
     "political_connection, senior_relative, kyc_status, kyc_remarks, kyc_verified_at, "
     "compliance_status, compliance_remarks, compliance_verified_at, eligibility_status, "
     "eligibility_remarks, eligibility_verified_at, final_status, final_remarks, "
     "final_decision_at, review_flags, screening_list, screening_list_version, "
     "screening_entry_id, screening_matched_name, screening_score, created_at, updated_at, "
     "tenure_months, " IDENTITY_COLS ", " VERDICT_COLS ") "
     "SELECT $1, $2::bigint, $3, $4, $5, $6, $7, $8, $9, $10::numeric, $11::numeric, $12::int, "
     "$13::numeric, $14, $15::numeric, $16::boolean, "
     "ARRAY(SELECT json_array_elements_text($17::json)), $18::boolean, $19::boolean, "
     "$20::boolean, $21::boolean, $22::text, $23, CASE WHEN $22::text = 'PENDING' THEN NULL ELSE t END, "
     "$24::text, $25, CASE WHEN $24::text = 'PENDING' THEN NULL ELSE t END, $26::text, $27, "
     "CASE WHEN $26::text = 'PENDING' THEN NULL ELSE t END, $28::text, $29, "
     "CASE WHEN $28::text = 'PENDING' THEN NULL ELSE t END, "
     "ARRAY(SELECT json_array_elements_text($30::json)), $31, $32, $33::bigint, $34, "
     "$35::numeric, t, t, $39::int, " IDENTITY_VALUES ", " VERDICT_VALUES " "
     "FROM (SELECT coalesce($36::timestamptz, now()) AS t, $37::jsonb AS j, $38::jsonb AS v) AS ts "
     "RETURNING " APPS_COLS},
    [APPS_UPDATE] = {"applications_update", "UPDATE loan_applications SET " DECISION_SET
                     ", reviewed_by = CASE WHEN $19::boolean THEN $20::bigint ELSE reviewed_by END, "
                     "reviewed_at = CASE WHEN $19::boolean THEN now() ELSE reviewed_at END, "
                     "review_reason = CASE WHEN $19::boolean THEN $21 ELSE review_reason END, "
                     /* a re-evaluation starts the two approvals again */
                     "first_approval_by = CASE WHEN $19::boolean THEN first_approval_by END, "
                     "first_approval_at = CASE WHEN $19::boolean THEN first_approval_at END, "
                     "(" VERDICT_COLS ") = (SELECT " VERDICT_VALUES ") "
                     "FROM (SELECT $22::jsonb AS v) AS vs "
                     "WHERE application_id = $1 RETURNING " APPS_COLS},
    [APPS_LOG] = {"applications_log",
     "INSERT INTO approval_logs (application_id, action, actor_id, actor_email, reason, "
     "status_before, status_after, created_at) VALUES ($1, $2, $3::bigint, $4, $5, $6, $7, "
     "coalesce($8::timestamptz, now()))"},
    [APPS_LIST_0] = {"applications_list_0", LIST_SQL("($1::text IS NULL AND $2::text IS NULL AND $3::text IS NULL)")},
    [APPS_LIST_1] = {"applications_list_1", LIST_SQL("final_status = $1 AND $2::text IS NULL AND $3::text IS NULL")},
    [APPS_LIST_2] = {"applications_list_2", LIST_SQL("region = $2 AND $1::text IS NULL AND $3::text IS NULL")},
    [APPS_LIST_3] = {"applications_list_3", LIST_SQL("final_status = $1 AND region = $2 AND $3::text IS NULL")},
    [APPS_LIST_4] = {"applications_list_4", LIST_SQL("country_code = $3 AND $1::text IS NULL AND $2::text IS NULL")},
    [APPS_LIST_5] = {"applications_list_5", LIST_SQL("final_status = $1 AND country_code = $3 AND $2::text IS NULL")},
    [APPS_LIST_6] = {"applications_list_6", LIST_SQL("region = $2 AND country_code = $3 AND $1::text IS NULL")},
    [APPS_LIST_7] = {"applications_list_7", LIST_SQL("final_status = $1 AND region = $2 AND country_code = $3")},
    [APPS_DOC] = {"applications_doc", "SELECT user_id, doc, applicant_doc FROM loan_applications "
                  "WHERE application_id = $1"},
    [APPS_LOCK] = {"applications_lock", "SELECT " APPS_COLS " FROM loan_applications WHERE application_id = $1 "
                   "FOR UPDATE"},
    [APPS_OF_USER] = {"applications_of_user", "SELECT CASE WHEN $4::boolean THEN doc ELSE applicant_doc END "
                   "FROM loan_applications WHERE user_id = $1::bigint "
                   "ORDER BY created_at DESC, id DESC LIMIT $2::int OFFSET $3::int"},
    [APPS_REJECT] = {"applications_reject",
     "UPDATE loan_applications SET final_status = 'REJECTED', final_decision_at = now(), "
     "final_remarks = $2, review_flags = '{}', reviewed_by = $3::bigint, reviewed_at = now(), "
     "review_reason = $4, updated_at = now() WHERE application_id = $1 RETURNING " APPS_COLS},
    [APPS_LOGS] = {"applications_logs",
     "SELECT id, application_id, action, actor_id, actor_email, reason, status_before, "
     "status_after, " APPS_TS(created_at) " FROM approval_logs "
     "WHERE ($1::text IS NULL OR application_id = $1) "
     "ORDER BY created_at DESC, id DESC LIMIT $2::int"},
    [APPS_QUEUE] = {"applications_queue",
     "SELECT application_id, name, country, loan_amount::text, array_to_json(review_flags)::text, "
     "kyc_remarks, compliance_remarks, eligibility_remarks, final_remarks, iso_utc(created_at), "
     "count(*) OVER (), coalesce((SELECT u.email FROM users u WHERE u.id = first_approval_by), '') "
     "FROM loan_applications WHERE final_status = 'PENDING' "
     "ORDER BY created_at, id LIMIT 200"},
    [APPS_LOGS_FOR] = {"applications_logs_for",
     "SELECT application_id, action, coalesce(actor_email, ''), coalesce(reason, ''), "
     "coalesce(status_before, ''), status_after, iso_utc(created_at) FROM approval_logs "
     "WHERE application_id = ANY($1::text[]) ORDER BY created_at DESC, id DESC"},
    [APPS_FIRST_APPROVAL] = {"applications_first_approval",
     "UPDATE loan_applications SET first_approval_by = $2::bigint, first_approval_at = now(), "
     "updated_at = now() WHERE application_id = $1 RETURNING " APPS_COLS},
};
/* clang-format on */
const struct db_stmts applications_statements = DB_STMTS("applications", sql);
#define SQL(id) (&sql[id])

static const char *cents_text(arena *a, int64_t cents)
{
    return arena_printf(a, "%s%" PRId64 ".%02" PRId64, cents < 0 ? "-" : "",
                        (cents < 0 ? -cents : cents) / 100, (cents < 0 ? -cents : cents) % 100);
}

static int cents_of(const char *s, int64_t *out)
{
    return js_parse_cents(s, strlen(s), LOAN_MAX_CENTS, out);
}

int applications_row_input(arena *a, const PGresult *res, int row, struct loan_input *in)
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

/* The verdict parameter of applications_insert / _update (see VERDICT_VALUES). */
/* Did screening find a candidate that counts (kept as the application's evidence)? */
static int screening_hit(const struct compliance_facts *f)
{
    if (!f->screened)
        return 0;
    if (f->sanctions_judged)
        return f->sanctions_has_best && (f->sanctions_level >= SCREEN_REVIEW ||
                                         f->sanctions_score >= config_get()->sanctions_review);
    return f->sanctions_score >= config_get()->sanctions_review;
}

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
        put_str(v, "bureau_status",
                bureau_status_name(b->status == BUREAU_DISABLED ? BUREAU_ERROR : b->status));
        put_int(v, "bureau_score", ok, b->score);
        put_int(v, "bureau_active_loans", ok, b->active_loans);
        put_int(v, "bureau_overdue_accounts", ok, b->overdue_accounts);
        put_int(v, "bureau_enquiries_6m", ok, b->enquiries_6m);
        put_str(v, "bureau_reference", b->reference);
        put_int(v, "tier_version", res->tier_applied, f->credit.tier_version);
        json_object_object_add(
            v, "tier_limit",
            res->tier_applied && res->tier_limit > 0 ? js_new_money(res->tier_limit) : NULL);
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
    /* the screening verdict and, when a candidate counted, its evidence (officers only) */
    if (f->screened) {
        int hit = screening_hit(f);
        json_object_object_add(
            v, "screening_level",
            json_object_new_string(screen_level_name(hit ? f->sanctions_level : SCREEN_CLEAR)));
        if (hit && f->sanctions_judged && f->sanctions_has_best)
            json_object_object_add(v, "screening_evidence",
                                   refdata_evidence_json(&f->sanctions_best));
    }
    const char *text = arena_strdup(a, json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN));
    json_object_put(v);
    return text;
}

void applications_new_id(char buf[24])
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

/* Screening evidence is kept when something counted (review or block, or a score at the review
 * threshold); otherwise the list and version screened against are kept with no entry. */
static void evidence(arena *a, const struct compliance_facts *f, const char **p)
{
    int hit = screening_hit(f);
    p[0] = f->screened ? f->sanctions_list : NULL;
    p[1] = f->screened ? f->sanctions_version : NULL;
    p[2] = hit ? arena_printf(a, "%lld", f->sanctions_entry) : NULL;
    p[3] = hit ? f->sanctions_name : NULL;
    p[4] = hit ? arena_printf(a, "%.4f", f->sanctions_score) : NULL;
}

#define DECISION_PARAMS 16
/* The decision's parameters, shared by the INSERT and the UPDATE: the standing PEP and
 * senior-relative facts, each stage's status and remarks, the review flags, the screening
 * evidence. */
static void decision_params(arena *a, const struct loan_input *in, const struct compliance_facts *f,
                            const struct loan_result *res, const char **p)
{
    p[0] = bool_s(in->political_connection || f->pep_name != NULL);
    p[1] = bool_s(in->senior_relative || f->senior_name != NULL);
    const struct stage *st[4] = {&res->kyc, &res->compliance, &res->eligibility, &res->final};
    for (int i = 0; i < 4; i++) {
        p[2 + 2 * i] = loan_status_name(st[i]->status);
        p[3 + 2 * i] = st[i]->remarks;
    }
    p[10] = flags_json(a, res->flags);
    evidence(a, f, p + 11);
}

static const char *dti_text(arena *a, const struct loan_result *res)
{
    return res->has_dti ? arena_printf(a, "%.4f", res->dti) : NULL;
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

PGresult *applications_insert(arena *a, long long user_id, const char *actor_email,
                              const struct loan_input *in, const struct country_info *c,
                              const struct compliance_facts *f, const struct loan_result *res,
                              const char *created_at, int notify_applicant)
{
    char app_id[24];
    PGresult *row = NULL;
    const char *decision[DECISION_PARAMS];
    decision_params(a, in, f, res, decision);
    const char *verdict = verdict_json(a, f, res);
    /* A clash of 36^8 random ids is rare; the savepoint lets a clash be retried with a new id
     * inside the caller's transaction. */
    if (db_simple("SAVEPOINT loan_insert") != 0)
        return NULL;
    for (int attempt = 0; attempt < 3; attempt++) {
        applications_new_id(app_id);
        const char *p[39] = {
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
        };
        memcpy(p + 19, decision, sizeof(decision)); /* $20..$35 */
        p[35] = created_at;
        p[36] = identity_seal_json(a, app_id, in);
        p[37] = verdict;
        p[38] = in->tenure_months > 0 ? arena_printf(a, "%d", in->tenure_months) : NULL;
        if (p[36] == NULL)
            return NULL;
        if (attempt > 0 && db_simple("ROLLBACK TO SAVEPOINT loan_insert") != 0)
            return NULL;
        row = db_exec(a, SQL(APPS_INSERT), 39, p);
        if (row == NULL || db_ok(row) || strcmp(db_sqlstate(row), "23505") != 0 ||
            strstr(PQresultErrorMessage(row), "application_id") == NULL)
            break;
    }
    if (!db_ok(row))
        return row;
    const char *lp[8] = {app_id,
                         "submit",
                         user_id > 0 ? arena_printf(a, "%lld", user_id) : NULL,
                         actor_email,
                         NULL,
                         NULL,
                         loan_status_name(res->final.status),
                         created_at};
    PGresult *log = db_exec(a, SQL(APPS_LOG), 8, lp);
    if (!db_ok(log))
        return log;
    if (notify_applicant && outbox_decision(a, app_id, in, res, NULL) != 0)
        return NULL;
    return row;
}

PGresult *applications_update(arena *a, const char *app_id, const char *action, long long actor_id,
                              const char *actor_email, const char *reason,
                              const char *status_before, const struct loan_input *in,
                              const struct compliance_facts *f, const struct loan_result *res,
                              int reviewed)
{
    const char *actor = actor_id > 0 ? arena_printf(a, "%lld", actor_id) : NULL;
    const char *p[22] = {app_id};
    decision_params(a, in, f, res, p + 1);
    p[17] = dti_text(a, res);
    p[18] = bool_s(reviewed);
    p[19] = actor;
    p[20] = reason;
    p[21] = verdict_json(a, f, res);
    PGresult *row = db_exec(a, SQL(APPS_UPDATE), 22, p);
    if (!db_ok(row))
        return row;
    if (applications_log_decision(a, app_id, action, actor_id, actor_email, reason, status_before,
                                  in, res) != 0)
        return NULL;
    return row;
}

int applications_log_decision(arena *a, const char *app_id, const char *action, long long actor_id,
                              const char *actor_email, const char *reason,
                              const char *status_before, const struct loan_input *in,
                              const struct loan_result *res)
{
    const char *actor = actor_id > 0 ? arena_printf(a, "%lld", actor_id) : NULL;
    const char *lp[8] = {app_id,
                         action,
                         actor,
                         actor_email,
                         reason,
                         status_before,
                         loan_status_name(res->final.status),
                         NULL};
    if (!db_ok(db_exec(a, SQL(APPS_LOG), 8, lp)))
        return -1;
    return outbox_decision(a, app_id, in, res, status_before);
}

void applications_changed(const char *app_id)
{
    /* After the commit, never before: a reader that fetched the old row could otherwise cache
     * it under the new version. The versions first, then the host's epoch, so a worker that
     * sees the new epoch also finds the new versions (cache.h). A failure leaves the cached
     * copies to their TTL. */
    if (app_id != NULL) {
        char key[64];
        snprintf(key, sizeof(key), "appv:%s", app_id);
        cache_incr(key);
    }
    cache_incr(STATS_VERSION_KEY);
    epoch_bump();
}

/* ---- reads ------------------------------------------------------------------------------ */

PGresult *applications_list(arena *a, const char *status, const char *region, const char *country,
                            const char *limit, const char *offset)
{
    /* One statement per filter combination, so each gets a plan that uses its index. */
    int mask = (status ? 1 : 0) | (region ? 2 : 0) | (country ? 4 : 0);
    const char *p[5] = {status, region, country, limit, offset};
    PGresult *res = db_exec(a, SQL(APPS_LIST_0 + mask), 5, p);
    return res;
}

PGresult *applications_of_user(arena *a, long long user_id, int officer, const char *limit,
                               const char *offset)
{
    const char *p[4] = {arena_printf(a, "%lld", user_id), limit, offset, bool_s(officer)};
    return db_exec(a, SQL(APPS_OF_USER), 4, p);
}

PGresult *applications_first_approval(arena *a, const char *app_id, long long actor_id,
                                      const char *actor_email, const char *reason)
{
    const char *actor = arena_printf(a, "%lld", actor_id);
    const char *p[2] = {app_id, actor};
    PGresult *row = db_exec(a, SQL(APPS_FIRST_APPROVAL), 2, p);
    if (!db_ok(row))
        return row;
    const char *lp[8] = {app_id, "first_approval", actor,     actor_email,
                         reason, "PENDING",        "PENDING", NULL};
    PGresult *log = db_exec(a, SQL(APPS_LOG), 8, lp);
    return db_ok(log) ? row : log;
}

PGresult *applications_doc(arena *a, const char *app_id)
{
    const char *p[1] = {app_id};
    return db_exec(a, SQL(APPS_DOC), 1, p);
}

PGresult *applications_lock(arena *a, const char *app_id)
{
    const char *p[1] = {app_id};
    return db_exec(a, SQL(APPS_LOCK), 1, p);
}

PGresult *applications_reject(arena *a, const char *app_id, const char *remarks, long long actor_id,
                              const char *reason)
{
    const char *p[4] = {app_id, remarks, arena_printf(a, "%lld", actor_id), reason};
    return db_exec(a, SQL(APPS_REJECT), 4, p);
}

PGresult *applications_logs(arena *a, const char *app_id, const char *limit)
{
    const char *p[2] = {app_id, limit};
    return db_exec(a, SQL(APPS_LOGS), 2, p);
}

PGresult *applications_queue(arena *a)
{
    return db_exec(a, SQL(APPS_QUEUE), 0, NULL);
}

PGresult *applications_logs_for(arena *a, const char *const *ids, int n)
{
    /* A text[] literal of the ids, each quoted (ids are LOAN-… or whatever a path held, so
     * quotes and backslashes are escaped). */
    size_t cap = 3;
    for (int i = 0; i < n; i++)
        cap += 2 * strlen(ids[i]) + 3;
    char *arr = arena_alloc(a, cap);
    if (arr == NULL)
        return NULL;
    size_t o = 0;
    arr[o++] = '{';
    for (int i = 0; i < n; i++) {
        if (i)
            arr[o++] = ',';
        arr[o++] = '"';
        for (const char *c = ids[i]; *c; c++) {
            if (*c == '"' || *c == '\\')
                arr[o++] = '\\';
            arr[o++] = *c;
        }
        arr[o++] = '"';
    }
    arr[o++] = '}';
    arr[o] = '\0';
    const char *p[1] = {arr};
    return db_exec(a, SQL(APPS_LOGS_FOR), 1, p);
}
