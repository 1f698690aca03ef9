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
#include "epoch.h"
#include "js.h"

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

const struct db_stmt loans_statements[] = {
    {"loans_insert",
     "INSERT INTO loan_applications (application_id, user_id, name, email, phone, city, region, "
     "country, country_code, income, debt, credit_score, loan_amount, loan_purpose, dti_ratio, "
     "documents_uploaded, documents, declared_political_connection, declared_senior_relative, "
     "political_connection, senior_relative, kyc_status, kyc_remarks, kyc_verified_at, "
     "compliance_status, compliance_remarks, compliance_verified_at, eligibility_status, "
     "eligibility_remarks, eligibility_verified_at, final_status, final_remarks, "
     "final_decision_at, review_flags, screening_list, screening_list_version, "
     "screening_entry_id, screening_matched_name, screening_score, created_at, updated_at) "
     "SELECT $1, $2::bigint, $3, $4, $5, $6, $7, $8, $9, $10::numeric, $11::numeric, $12::int, "
     "$13::numeric, $14, $15::numeric, $16::boolean, "
     "ARRAY(SELECT json_array_elements_text($17::json)), $18::boolean, $19::boolean, "
     "$20::boolean, $21::boolean, $22::text, $23, CASE WHEN $22::text = 'PENDING' THEN NULL ELSE t END, "
     "$24::text, $25, CASE WHEN $24::text = 'PENDING' THEN NULL ELSE t END, $26::text, $27, "
     "CASE WHEN $26::text = 'PENDING' THEN NULL ELSE t END, $28::text, $29, "
     "CASE WHEN $28::text = 'PENDING' THEN NULL ELSE t END, "
     "ARRAY(SELECT json_array_elements_text($30::json)), $31, $32, $33::bigint, $34, "
     "$35::numeric, t, t FROM (SELECT coalesce($36::timestamptz, now()) AS t) AS ts "
     "RETURNING " LOANS_COLS},
    {"loans_update", "UPDATE loan_applications SET " DECISION_SET
                     ", reviewed_by = CASE WHEN $19::boolean THEN $20::bigint ELSE reviewed_by END, "
                     "reviewed_at = CASE WHEN $19::boolean THEN now() ELSE reviewed_at END, "
                     "review_reason = CASE WHEN $19::boolean THEN $21 ELSE review_reason END "
                     "WHERE application_id = $1 RETURNING " LOANS_COLS},
    {"loans_log",
     "INSERT INTO approval_logs (application_id, action, actor_id, actor_email, reason, "
     "status_before, status_after, created_at) VALUES ($1, $2, $3::bigint, $4, $5, $6, $7, "
     "coalesce($8::timestamptz, now()))"},
    {"notify_claim",
     "SELECT id, application_id, kind, recipient, subject, body FROM notifications "
     "WHERE sent_at IS NULL ORDER BY id LIMIT 50 FOR UPDATE SKIP LOCKED"},
    {"notify_mark",
     "WITH n AS (UPDATE notifications SET sent_at = now(), attempts = attempts + 1 "
     "WHERE id = $1::bigint RETURNING application_id) "
     "UPDATE loan_applications SET email_sent = email_sent OR $2 = 'email', "
     "alert_sent = alert_sent OR $2 = 'alert' WHERE application_id = (SELECT application_id FROM n)"},
    {"loans_notify",
     "INSERT INTO notifications (application_id, kind, recipient, subject, body) "
     "VALUES ($1, $2, $3, $4, $5)"},
    {NULL, NULL},
};

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

int loans_evaluate(arena *a, const struct loan_input *in, unsigned cleared,
                   const struct country_info **country, struct compliance_facts *f,
                   struct loan_result *out)
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
    struct loan_policy p = {cfg->sanctions_block, cfg->sanctions_review,
                            cfg->review_mode == REVIEW_MANUAL};
    loan_evaluate(in, f, &p, cleared, out);
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
        if (!db_ok(db_exec(a, "loans_notify", 5, p)))
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
        if (!db_ok(db_exec(a, "loans_notify", 5, p)))
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
    /* A clash of 36^8 random ids is rare; the savepoint lets a clash be retried with a new id
     * inside the caller's transaction. */
    if (db_simple("SAVEPOINT loan_insert") != 0)
        return NULL;
    for (int attempt = 0; attempt < 3; attempt++) {
        loans_new_id(app_id);
        const char *p[36] = {
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
        };
        if (attempt > 0 && db_simple("ROLLBACK TO SAVEPOINT loan_insert") != 0)
            return NULL;
        row = db_exec(a, "loans_insert", 36, p);
        if (row == NULL || db_ok(row) || strcmp(db_sqlstate(row), "23505") != 0 ||
            strstr(PQresultErrorMessage(row), "application_id") == NULL)
            break;
    }
    if (!db_ok(row))
        return row;
    const char *lp[8] = {app_id, "submit", user_id > 0 ? arena_printf(a, "%lld", user_id) : NULL,
                         actor_email, NULL, NULL, loan_status_name(res->final.status), created_at};
    PGresult *log = db_exec(a, "loans_log", 8, lp);
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
    const char *p[21] = {
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
    };
    PGresult *row = db_exec(a, "loans_update", 21, p);
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
    if (!db_ok(db_exec(a, "loans_log", 8, lp)))
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
