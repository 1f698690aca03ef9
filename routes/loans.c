/*
 * The loan endpoints of the seed: eligibility check, submission through the pipeline, status,
 * lists, the review actions and the approval log. A state change and everything it implies
 * (application row, approval log entry, notifications, idempotency record) is one transaction;
 * review actions lock the application row, so of concurrent decisions exactly one wins.
 */
#include "routes.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "cache.h"
#include "config.h"
#include "credit.h"
#include "epoch.h"
#include "js.h"
#include "loan.h"
#include "loans.h"
#include "log.h"
#include "providers.h"
#include "refdata.h"
#include "validate.h"

#define ALL_FLAGS 0xffffffffu

#define LIST_ORDER " ORDER BY created_at DESC, id DESC LIMIT $4::int OFFSET $5::int"
#define LIST_SQL(where) "SELECT doc FROM loan_applications WHERE " where LIST_ORDER

/* One statement per filter combination, so each gets a plan that uses its index. */
enum {
    LOANS_LIST_0,
    LOANS_LIST_1,
    LOANS_LIST_2,
    LOANS_LIST_3,
    LOANS_LIST_4,
    LOANS_LIST_5,
    LOANS_LIST_6,
    LOANS_LIST_7,
    LOANS_DOC_BY_ID,
    LOANS_LOCK,
    LOANS_MINE,
    LOANS_REJECT,
    LOANS_IDEM_CLAIM,
    LOANS_IDEM_GET,
    LOANS_IDEM_STORE,
    LOANS_LOGS,
    LOAN_ROUTES_SQL_COUNT
};

static const struct db_stmt sql[LOAN_ROUTES_SQL_COUNT] = {
    [LOANS_LIST_0] = {"loans_list_0", LIST_SQL("($1::text IS NULL AND $2::text IS NULL AND $3::text IS NULL)")},
    [LOANS_LIST_1] = {"loans_list_1", LIST_SQL("final_status = $1 AND $2::text IS NULL AND $3::text IS NULL")},
    [LOANS_LIST_2] = {"loans_list_2", LIST_SQL("region = $2 AND $1::text IS NULL AND $3::text IS NULL")},
    [LOANS_LIST_3] = {"loans_list_3", LIST_SQL("final_status = $1 AND region = $2 AND $3::text IS NULL")},
    [LOANS_LIST_4] = {"loans_list_4", LIST_SQL("country_code = $3 AND $1::text IS NULL AND $2::text IS NULL")},
    [LOANS_LIST_5] = {"loans_list_5", LIST_SQL("final_status = $1 AND country_code = $3 AND $2::text IS NULL")},
    [LOANS_LIST_6] = {"loans_list_6", LIST_SQL("region = $2 AND country_code = $3 AND $1::text IS NULL")},
    [LOANS_LIST_7] = {"loans_list_7", LIST_SQL("final_status = $1 AND region = $2 AND country_code = $3")},
    [LOANS_DOC_BY_ID] = {"loans_doc_by_id", "SELECT user_id, doc FROM loan_applications WHERE application_id = $1"},
    [LOANS_LOCK] = {"loans_lock", "SELECT " LOANS_COLS " FROM loan_applications WHERE application_id = $1 "
                   "FOR UPDATE"},
    [LOANS_MINE] = {"loans_mine", "SELECT doc FROM loan_applications WHERE user_id = $1::bigint "
                   "ORDER BY created_at DESC, id DESC LIMIT $2::int OFFSET $3::int"},
    [LOANS_REJECT] = {"loans_reject",
     "UPDATE loan_applications SET final_status = 'REJECTED', final_decision_at = now(), "
     "final_remarks = $2, review_flags = '{}', reviewed_by = $3::bigint, reviewed_at = now(), "
     "review_reason = $4, updated_at = now() WHERE application_id = $1 RETURNING " LOANS_COLS},
    [LOANS_IDEM_CLAIM] = {"loans_idem_claim",
     "INSERT INTO idempotency_keys (user_id, key, request_hash) VALUES ($1::bigint, $2, $3) "
     "ON CONFLICT DO NOTHING RETURNING 1"},
    [LOANS_IDEM_GET] = {"loans_idem_get",
     "SELECT request_hash, status, response FROM idempotency_keys "
     "WHERE user_id = $1::bigint AND key = $2"},
    [LOANS_IDEM_STORE] = {"loans_idem_store",
     "UPDATE idempotency_keys SET status = $3::int, response = $4 "
     "WHERE user_id = $1::bigint AND key = $2"},
    [LOANS_LOGS] = {"loans_logs",
     "SELECT id, application_id, action, actor_id, actor_email, reason, status_before, "
     "status_after, " LOANS_TS(created_at) " FROM approval_logs "
     "WHERE ($1::text IS NULL OR application_id = $1) "
     "ORDER BY created_at DESC, id DESC LIMIT $2::int"},
};
const struct db_stmts loan_route_statements = DB_STMTS("loan_routes", sql);
#define SQL(id) (&sql[id])


static int validation_failed(http_req *r, json_object *fields)
{
    return http_error_fields(r, 400, "validation_failed", "Some fields are missing or invalid",
                             fields);
}

static int need_object(http_req *r)
{
    if (r->json == NULL || !json_object_is_type(r->json, json_type_object))
        return http_error(r, 400, "validation_failed", "A JSON object body is required");
    return 0;
}

static const char *uid_text(http_req *r)
{
    return arena_printf(r->pool, "%lld", r->user.id);
}

int loans_check(http_req *r)
{
    if (need_object(r))
        return r->status;
    struct loan_input in;
    json_object *fields = json_object_new_object();
    if (loan_parse(r->json, &in, fields, 0) != 0)
        return validation_failed(r, fields);
    json_object_put(fields);
    json_object *lo;
    int check_loan = json_object_object_get_ex(r->json, "loan_amount", &lo) && lo != NULL;
    /* The same credit policy as a submission, without a country (the default base rate) or a
     * bureau: a check that passes here is graded and priced as a submission would be. */
    struct compliance_facts facts;
    memset(&facts, 0, sizeof(facts));
    if (credit_policy("", &facts.credit) != 0)
        return routes_db_error(r, NULL);
    struct loan_result res;
    memset(&res, 0, sizeof(res));
    loan_eligibility(&in, &facts, 0, check_loan, &res);
    json_object *o = json_object_new_object();
    json_object_object_add(o, "eligible", json_object_new_boolean(res.eligible));
    json_object_object_add(o, "dti_ratio", res.has_dti ? js_new_fixed(res.dti, 4) : NULL);
    json_object_object_add(o, "max_loan_amount", js_new_money(res.max_loan_amount));
    json_object *reasons = json_object_new_array();
    for (int i = 0; i < res.nreasons; i++)
        json_object_array_add(reasons, json_object_new_string(res.reasons[i]));
    json_object_object_add(o, "reasons", reasons);
    if (res.has_risk) {
        char grade[2] = {res.risk.grade, '\0'};
        json_object *k = json_object_new_object();
        json_object_object_add(k, "model_version",
                               json_object_new_int(facts.credit.model->version));
        json_object_object_add(k, "probability_of_default", js_new_fixed(res.risk.pd, 6));
        json_object_object_add(k, "points", json_object_new_int(res.risk.points));
        json_object_object_add(k, "grade", json_object_new_string(grade));
        json_object_object_add(o, "risk", k);
    }
    json_object_object_add(o, "annual_rate",
                           res.has_rate ? js_new_fixed(res.rate_bps / 100.0, 2) : NULL);
    return http_send_json(r, 200, o);
}

static int idempotency_answer(http_req *r, const PGresult *prev, const char *hash);

/* Replays or refuses a reused Idempotency-Key. Returns 0 to go on (key claimed or absent), or
 * the status sent. Runs inside the transaction. */
static int idempotency_claim(http_req *r, const char *key, const char *hash)
{
    const char *p[3] = {uid_text(r), key, hash};
    PGresult *claim = db_exec(r->pool, SQL(LOANS_IDEM_CLAIM), 3, p);
    if (!db_ok(claim)) {
        db_rollback();
        return routes_db_error(r, claim);
    }
    if (PQntuples(claim) == 1)
        return 0;
    PGresult *prev = db_exec(r->pool, SQL(LOANS_IDEM_GET), 2, p);
    db_rollback();
    if (!db_ok(prev) || PQntuples(prev) != 1)
        return routes_db_error(r, prev);
    return idempotency_answer(r, prev, hash);
}

/* Before anything is asked of the providers: a key already used is answered from its record
 * (replay, or 409), so a retry never makes a second bureau enquiry. 0 to go on. */
static int idempotency_peek(http_req *r, const char *key, const char *hash)
{
    const char *p[2] = {uid_text(r), key};
    PGresult *prev = db_exec(r->pool, SQL(LOANS_IDEM_GET), 2, p);
    if (!db_ok(prev))
        return routes_db_error(r, prev);
    if (PQntuples(prev) == 0)
        return 0;
    return idempotency_answer(r, prev, hash);
}

/* Answers a request whose Idempotency-Key has a record: replay, or 409. */
static int idempotency_answer(http_req *r, const PGresult *prev, const char *hash)
{
    if (strcmp(PQgetvalue(prev, 0, 0), hash) != 0)
        return http_error(r, 409, "idempotency_key_reused",
                          "This Idempotency-Key was used with a different request body");
    if (PQgetisnull(prev, 0, 2))
        return http_error(r, 409, "conflict", "A request with this Idempotency-Key is in progress");
    http_add_header(r, "Idempotent-Replayed", "true");
    const char *body = PQgetvalue(prev, 0, 2);
    return http_send(r, atoi(PQgetvalue(prev, 0, 1)), "application/json", body, strlen(body));
}

/* Inputs that carry clear identity numbers are wiped when they go out of scope, on every
 * return path (GCC/Clang cleanup attribute). */
static void wipe_input(struct loan_input *in)
{
    sodium_memzero(in, sizeof(*in));
}
#define WIPED __attribute__((cleanup(wipe_input)))

/* The same PAN or Aadhaar is on an application still waiting for a decision. */
static int duplicate_identity(http_req *r, const char *field)
{
    json_object *fields = json_object_new_object();
    js_field_error(fields, field, "is already on an application waiting for a decision");
    return http_error_fields(r, 409, "conflict",
                             !strcmp(field, "pan")
                                 ? "This PAN is already on an open application"
                                 : "This Aadhaar number is already on an open application",
                             fields);
}

/* Completes a locked row's input with its identity; on failure rolls back and answers. */
static int row_identity(http_req *r, const char *app_id, struct loan_input *in,
                        struct identity_facts *stored, int open_numbers)
{
    int rc = loans_row_identity(r->pool, app_id, in, stored, open_numbers);
    if (rc == 0)
        return 0;
    db_rollback();
    if (rc == -1)
        return routes_db_error(r, NULL);
    return http_fault(r, "identity numbers of %s cannot be opened with the configured PII keys",
                      app_id);
}

static long us_since(const struct timespec *t0)
{
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (t1.tv_sec - t0->tv_sec) * 1000000L + (t1.tv_nsec - t0->tv_nsec) / 1000;
}

int loans_submit(http_req *r)
{
    if (need_object(r))
        return r->status;
    WIPED struct loan_input in;
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    json_object *fields = json_object_new_object();
    loan_parse(r->json, &in, fields, 1);
    /* What the bench attributes to identity checking: parsing and validating the body (the
     * identity validators run here), then the providers, the credit policy and the scorecard
     * inside loans_evaluate, measured there. An upper bound: it includes the older rules too. */
    long parse_us = us_since(&t0);
    const struct country_info *country = NULL;
    if (in.country != NULL) {
        int down = 0;
        country = refdata_country(in.country, &down);
        if (down) {
            json_object_put(fields);
            return routes_db_error(r, NULL);
        }
        if (country == NULL)
            js_field_error(fields, "country",
                           "is not a known country (ISO 3166 name, alpha-2 or alpha-3 code)");
    }
    if (loans_age(&in) == -2)
        js_field_error(fields, "date_of_birth", "must not be in the future");
    const char *key = http_param(r, "HTTP_IDEMPOTENCY_KEY");
    if (key != NULL && (key[0] == '\0' || strlen(key) > 200))
        js_field_error(fields, "Idempotency-Key", "must be 1 to 200 characters");
    if (json_object_object_length(fields) > 0)
        return validation_failed(r, fields);
    json_object_put(fields);

    char hash[65] = "";
    if (key != NULL) {
        /* Keyed: the body holds identity numbers, and a plain hash of a 12-digit number is
         * reversed by trying them all. */
        loans_body_hash(r->body, r->body_len, hash);
        if (idempotency_peek(r, key, hash) != 0)
            return r->status;
    }
    const char *dup = NULL;
    if (loans_open_identity(r->pool, &in, &dup) != 0)
        return routes_db_error(r, NULL);
    if (dup != NULL)
        return duplicate_identity(r, dup);

    struct compliance_facts facts;
    struct loan_result res;
    int rc = loans_evaluate(r->pool, &in, 0, NULL, &country, &facts, &res);
    if (rc < 0)
        return routes_db_error(r, NULL);
    if (rc > 0)
        return http_fault(r, "country vanished between validation and evaluation");
    r->identity_us = parse_us + loans_identity_us;

    if (db_begin() != 0)
        return routes_db_error(r, NULL);
    if (key != NULL && idempotency_claim(r, key, hash) != 0)
        return r->status;
    PGresult *row = loans_insert(r->pool, r->user.id, r->user.email, &in, country, &facts, &res,
                                 NULL, 1);
    if (!db_ok(row)) {
        db_rollback();
        const char *constraint =
            row != NULL ? PQresultErrorField(row, PG_DIAG_CONSTRAINT_NAME) : NULL;
        if (constraint != NULL && !strcmp(constraint, "loan_applications_open_pan"))
            return duplicate_identity(r, "pan");
        if (constraint != NULL && !strcmp(constraint, "loan_applications_open_aadhaar"))
            return duplicate_identity(r, "aadhaar");
        if (row != NULL && !strcmp(db_sqlstate(row), "23505")) {
            fields = json_object_new_object();
            js_field_error(fields, "email", "already has an application waiting for a decision");
            return http_error_fields(r, 409, "conflict",
                                     "This email already has a pending application", fields);
        }
        return routes_db_error(r, row);
    }
    const char *body = arena_printf(r->pool,
                                    "{\"message\":\"Loan application submitted and processed "
                                    "successfully\",\"application\":%s}",
                                    PQgetvalue(row, 0, LC_DOC));
    if (key != NULL) {
        const char *p[4] = {uid_text(r), key, "201", body};
        PGresult *st = db_exec(r->pool, SQL(LOANS_IDEM_STORE), 4, p);
        if (!db_ok(st)) {
            db_rollback();
            return routes_db_error(r, st);
        }
    }
    if (db_commit() != 0)
        return routes_db_error(r, NULL);
    loans_changed(PQgetvalue(row, 0, LC_APP_ID));
    log_msg(LOG_INFO, "application %s submitted: %s", PQgetvalue(row, 0, LC_APP_ID),
            loan_status_name(res.final.status));
    return http_send(r, 201, "application/json", body, strlen(body));
}

/*
 * Responses that carry applications are assembled from the doc texts the database keeps
 * (loan_doc() in sql/003), which are complete JSON values: only the envelope is written here,
 * and its one free-text member, the message, is escaped by json-c.
 */
static int send_doc(http_req *r, int status, const char *message, const char *doc)
{
    const char *msg = "";
    if (message != NULL) {
        json_object *m = json_object_new_string(message);
        msg = arena_printf(r->pool, "\"message\":%s,", json_object_to_json_string(m));
        json_object_put(m);
    }
    size_t ml = strlen(msg), dl = strlen(doc);
    char *body = arena_alloc(r->pool, ml + dl + 20);
    if (body == NULL)
        return http_fault(r, "out of memory for a response");
    size_t o = 0;
    body[o++] = '{';
    memcpy(body + o, msg, ml);
    o += ml;
    memcpy(body + o, "\"application\":", 14);
    o += 14;
    memcpy(body + o, doc, dl);
    o += dl;
    body[o++] = '}';
    return http_send(r, status, "application/json", body, o);
}

static int send_list(http_req *r, PGresult *res, const char *limit, const char *offset)
{
    int n = PQntuples(res);
    size_t total = 96;
    for (int i = 0; i < n; i++)
        total += (size_t)PQgetlength(res, i, 0) + 1;
    char *body = arena_alloc(r->pool, total);
    if (body == NULL)
        return http_fault(r, "out of memory for a list of %d applications", n);
    memcpy(body, "{\"applications\":[", 17);
    size_t o = 17;
    for (int i = 0; i < n; i++) {
        if (i)
            body[o++] = ',';
        memcpy(body + o, PQgetvalue(res, i, 0), (size_t)PQgetlength(res, i, 0));
        o += (size_t)PQgetlength(res, i, 0);
    }
    if (limit)
        o += (size_t)snprintf(body + o, total - o, "],\"count\":%d,\"limit\":%d,\"offset\":%d}", n,
                              atoi(limit), atoi(offset));
    else
        o += (size_t)snprintf(body + o, total - o, "],\"count\":%d}", n);
    return http_send(r, 200, "application/json", body, o);
}

/* Applicants see only their own applications; others' ids answer 404 like unknown ones. */
static int status_reply(http_req *r, const char *owner, const char *doc)
{
    if (r->user.role < ROLE_OFFICER && (owner[0] == '\0' || atoll(owner) != r->user.id))
        return http_error(r, 404, "not_found", "No such application");
    return send_doc(r, 200, NULL, doc);
}

/*
 * Status is what applicants poll, so the document is cached in Redis as "<version>|<owner>|<doc>"
 * beside a per-application version that every writer bumps after its commit (loans_changed):
 * one MGET answers a repeated poll, and a cached copy is used only while its version is current.
 */
/* Runs a statement returning doc rows and sends them as a list (with paging when given). */
static int list_query(http_req *r, const struct db_stmt *stmt, int n, const char *const *p,
                      const char *limit, const char *offset)
{
    PGresult *res = db_exec(r->pool, stmt, n, p);
    if (!db_ok(res))
        return routes_db_error(r, res);
    return send_list(r, res, limit, offset);
}

int loans_status(http_req *r)
{
    const char *id = http_route_param(r, 0);
    char *vkey = arena_printf(r->pool, "appv:%s", id);
    char *dkey = arena_printf(r->pool, "appdoc:%s", id);
    /* This worker's memory first: valid while nothing on this host changed (the epoch), and for
     * a second at most, which bounds how long a change made through another host goes unseen. */
    unsigned long epoch = epoch_get();
    const char *local = epoch_cache_get(dkey, 1);
    if (local != NULL) {
        const char *bar = strchr(local, '|');
        if (bar != NULL)
            return status_reply(r, arena_strndup(r->pool, local, (size_t)(bar - local)), bar + 1);
    }
    const char *keys[2] = {vkey, dkey};
    char *vals[2] = {NULL, NULL};
    int cached = strlen(id) <= 40 && cache_mget(r->pool, 2, keys, vals) == 0;
    const char *version = cached && vals[0] ? vals[0] : "0";
    if (cached && vals[1] != NULL) {
        char *bar1 = strchr(vals[1], '|');
        char *bar2 = bar1 ? strchr(bar1 + 1, '|') : NULL;
        if (bar2 && (size_t)(bar1 - vals[1]) == strlen(version) &&
            !strncmp(vals[1], version, strlen(version))) {
            epoch_cache_put(dkey, epoch, bar1 + 1);
            *bar2 = '\0';
            return status_reply(r, bar1 + 1, bar2 + 1);
        }
    }
    const char *p[1] = {id};
    PGresult *res = db_exec(r->pool, SQL(LOANS_DOC_BY_ID), 1, p);
    if (!db_ok(res))
        return routes_db_error(r, res);
    if (PQntuples(res) == 0)
        return http_error(r, 404, "not_found", "No such application");
    const char *owner = PQgetisnull(res, 0, 0) ? "" : PQgetvalue(res, 0, 0);
    if (cached) {
        char *val = arena_printf(r->pool, "%s|%s|%s", version, owner, PQgetvalue(res, 0, 1));
        cache_set(dkey, val, strlen(val), LOANS_DOC_TTL);
    }
    epoch_cache_put(dkey, epoch, arena_printf(r->pool, "%s|%s", owner, PQgetvalue(res, 0, 1)));
    return status_reply(r, owner, PQgetvalue(res, 0, 1));
}

int loans_list(http_req *r)
{
    char limit[16], offset[16], region[16];
    if (http_query_valid(r) != 0)
        return http_error(r, 400, "validation_failed", "The query string is not correctly encoded");
    if (routes_paging(r, 100, 1000, limit, offset) != 0)
        return r->status;
    const char *status = http_query(r, "status");
    const char *reg = http_query(r, "region");
    const char *ctry = http_query(r, "country");
    json_object *fields = json_object_new_object();
    if (status != NULL) {
        if (!strcasecmp(status, "PENDING"))
            status = "PENDING";
        else if (!strcasecmp(status, "APPROVED"))
            status = "APPROVED";
        else if (!strcasecmp(status, "REJECTED"))
            status = "REJECTED";
        else
            js_field_error(fields, "status", "must be PENDING, APPROVED or REJECTED");
    }
    if (reg != NULL && !loan_region_valid(reg, region))
        js_field_error(fields, "region", "must be one of APAC, EMEA, AMERICAS, MEA, NA, SA, EU, ASIA");
    const char *code = NULL;
    if (ctry != NULL) {
        int down = 0;
        const struct country_info *c = refdata_country(ctry, &down);
        if (down) {
            json_object_put(fields);
            return routes_db_error(r, NULL);
        }
        if (c == NULL)
            js_field_error(fields, "country", "is not a known country");
        else
            code = c->code;
    }
    if (json_object_object_length(fields) > 0)
        return http_error_fields(r, 400, "validation_failed", "Invalid filter", fields);
    json_object_put(fields);
    int mask = (status ? 1 : 0) | (reg ? 2 : 0) | (code ? 4 : 0);
    const char *p[5] = {status, reg ? region : NULL, code, limit, offset};
    return list_query(r, SQL(LOANS_LIST_0 + mask), 5, p, limit, offset);
}

int loans_pending(http_req *r)
{
    char limit[16], offset[16];
    if (routes_paging(r, 1000, 1000, limit, offset) != 0)
        return r->status;
    const char *p[5] = {"PENDING", NULL, NULL, limit, offset};
    return list_query(r, SQL(LOANS_LIST_1), 5, p, NULL, NULL);
}

int loans_mine(http_req *r)
{
    char limit[16], offset[16];
    if (routes_paging(r, 100, 1000, limit, offset) != 0)
        return r->status;
    const char *p[3] = {uid_text(r), limit, offset};
    return list_query(r, SQL(LOANS_MINE), 3, p, NULL, NULL);
}

/* Starts a review action: BEGIN, lock the row, check it waits for a decision. Returns the row,
 * or NULL after sending the response (404, 409, 503). */
static PGresult *lock_pending(http_req *r, const char *app_id, int allow_decided)
{
    if (db_begin() != 0) {
        routes_db_error(r, NULL);
        return NULL;
    }
    const char *p[1] = {app_id};
    PGresult *row = db_exec(r->pool, SQL(LOANS_LOCK), 1, p);
    if (!db_ok(row)) {
        db_rollback();
        routes_db_error(r, row);
        return NULL;
    }
    if (PQntuples(row) == 0) {
        db_rollback();
        http_error(r, 404, "not_found", "No such application");
        return NULL;
    }
    if (!allow_decided && strcmp(PQgetvalue(row, 0, LC_FINAL), "PENDING") != 0) {
        db_rollback();
        char *msg = arena_printf(r->pool, "The application is already %s",
                                 PQgetvalue(row, 0, LC_FINAL));
        http_error(r, 409, "conflict", msg);
        return NULL;
    }
    return row;
}

static int finish(http_req *r, PGresult *updated, const char *message)
{
    if (!db_ok(updated)) {
        db_rollback();
        /* Waiting again would make two open applications of one email, PAN or Aadhaar. */
        if (updated != NULL && !strcmp(db_sqlstate(updated), "23505"))
            return http_error(r, 409, "conflict",
                              "Another application of this applicant (same email, PAN or "
                              "Aadhaar) is waiting for a decision");
        return routes_db_error(r, updated);
    }
    if (db_commit() != 0)
        return routes_db_error(r, NULL);
    loans_changed(PQgetvalue(updated, 0, LC_APP_ID));
    return send_doc(r, 200, message, PQgetvalue(updated, 0, LC_DOC));
}

/* Optional {"reason"} of review actions, at most 500 characters. 1 ok (reason may stay NULL). */
static int read_reason(http_req *r, const char **reason)
{
    *reason = NULL;
    if (r->json == NULL)
        return 1;
    if (!json_object_is_type(r->json, json_type_object)) {
        http_error(r, 400, "validation_failed", "The body must be a JSON object");
        return 0;
    }
    json_object *fields = json_object_new_object();
    int rc = js_string(r->json, "reason", 4 * 500, reason, fields);
    if (rc > 0 && val_utf8_chars(*reason) > 500)
        js_field_error(fields, "reason", "must be at most 500 characters");
    if (json_object_object_length(fields) > 0) {
        validation_failed(r, fields);
        return 0;
    }
    json_object_put(fields);
    if (*reason != NULL && (*reason)[0] == '\0')
        *reason = NULL;
    return 1;
}

int loans_approve(http_req *r)
{
    const char *reason;
    if (!read_reason(r, &reason))
        return r->status;
    const char *app_id = http_route_param(r, 0);
    PGresult *row = lock_pending(r, app_id, 0);
    if (row == NULL)
        return r->status;
    WIPED struct loan_input in;
    struct identity_facts stored;
    if (loans_row_input(r->pool, row, 0, &in) != 0) {
        db_rollback();
        return http_fault(r, "stored application %s is unreadable", app_id);
    }
    if (row_identity(r, app_id, &in, &stored, 0) != 0)
        return r->status;
    const struct country_info *country;
    struct compliance_facts facts;
    struct loan_result res;
    int rc = loans_evaluate(r->pool, &in, ALL_FLAGS, &stored, &country, &facts, &res);
    if (rc != 0) {
        db_rollback();
        return rc < 0 ? routes_db_error(r, NULL)
                      : http_fault(r, "stored country of %s is unknown", app_id);
    }
    if (res.hard_failures == 0 && (res.flags & LOAN_FLAGS_RETRY)) {
        db_rollback();
        json_object *fields = json_object_new_object();
        for (unsigned b = 0; b < LOAN_FLAG_COUNT; b++)
            if (res.flags & LOAN_FLAGS_RETRY & (1u << b))
                js_field_error(fields, loan_flag_name(1u << b),
                               "waits for a provider or for data; reprocess to retry");
        return http_error_fields(r, 409, "verification_incomplete",
                                 "The application cannot be approved until the providers have "
                                 "answered and it can be priced; reprocess it to retry",
                                 fields);
    }
    if (res.hard_failures > 0 || res.final.status != LOAN_APPROVED) {
        db_rollback();
        char *msg = arena_printf(r->pool,
                                 "The application cannot be approved: hard rules fail (%s). "
                                 "Reject it instead.",
                                 res.hard_rules[0] ? res.hard_rules : "final decision not approved");
        json_object *o = json_object_new_object();
        json_object *e = json_object_new_object();
        json_object_object_add(e, "status", json_object_new_int(409));
        json_object_object_add(e, "code", json_object_new_string("hard_rules_failed"));
        json_object_object_add(e, "message", json_object_new_string(msg));
        json_object *rules = json_object_new_array();
        char buf[512];
        snprintf(buf, sizeof(buf), "%s", res.hard_rules);
        char *save = NULL;
        for (char *t = strtok_r(buf, ", ", &save); t; t = strtok_r(NULL, ", ", &save))
            json_object_array_add(rules, json_object_new_string(t));
        json_object_object_add(e, "rules", rules);
        json_object_object_add(e, "request_id",
                               r->request_id ? json_object_new_string(r->request_id) : NULL);
        json_object_object_add(o, "error", e);
        return http_send_json(r, 409, o);
    }
    PGresult *up = loans_update(r->pool, app_id, "approve", r->user.id, r->user.email, reason,
                                "PENDING", &in, &facts, &res, 1);
    return finish(r, up, "Application approved");
}

int loans_reject(http_req *r)
{
    const char *reason;
    if (!read_reason(r, &reason))
        return r->status;
    const char *app_id = http_route_param(r, 0);
    PGresult *row = lock_pending(r, app_id, 0);
    if (row == NULL)
        return r->status;
    const char *remarks = reason ? arena_printf(r->pool, "Rejected by the reviewing officer: %s",
                                                reason)
                                 : "Rejected by the reviewing officer";
    const char *p[4] = {app_id, remarks, uid_text(r), reason};
    PGresult *up = db_exec(r->pool, SQL(LOANS_REJECT), 4, p);
    if (!db_ok(up)) {
        db_rollback();
        return routes_db_error(r, up);
    }
    /* The approval log and the applicant's email, as for any decision. */
    struct loan_input in;
    struct compliance_facts facts;
    struct loan_result res;
    memset(&facts, 0, sizeof(facts));
    memset(&res, 0, sizeof(res));
    if (loans_row_input(r->pool, up, 0, &in) != 0) {
        db_rollback();
        return http_fault(r, "stored application %s is unreadable", app_id);
    }
    res.final.status = LOAN_REJECTED;
    snprintf(res.final.remarks, sizeof(res.final.remarks), "%s", remarks);
    res.compliance.status = LOAN_APPROVED; /* no compliance alert for an officer's rejection */
    if (loans_log_and_notify(r->pool, app_id, "reject", r->user.id, r->user.email, reason,
                             "PENDING", &in, &res) != 0) {
        db_rollback();
        return routes_db_error(r, NULL);
    }
    return finish(r, up, "Application rejected");
}

/* What a review action must find unchanged after it let go of the row: the decision and when
 * it was made, the reviewer and the flags. */
static char *row_stamp(http_req *r, const PGresult *row)
{
    return arena_printf(r->pool, "%s|%s|%s|%s", PQgetvalue(row, 0, LC_UPDATED),
                        PQgetvalue(row, 0, LC_FINAL), PQgetvalue(row, 0, LC_REVIEWED_BY),
                        PQgetvalue(row, 0, LC_FLAGS));
}

int loans_reprocess(http_req *r)
{
    const char *app_id = http_route_param(r, 0);
    PGresult *row = lock_pending(r, app_id, 1);
    if (row == NULL)
        return r->status;
    if (!PQgetisnull(row, 0, LC_REVIEWED_BY)) {
        db_rollback();
        return http_error(r, 409, "conflict",
                          "An officer has decided this application; it is not reprocessed");
    }
    WIPED struct loan_input in;
    struct identity_facts fresh;
    if (loans_row_input(r->pool, row, 0, &in) != 0) {
        db_rollback();
        return http_fault(r, "stored application %s is unreadable", app_id);
    }
    if (row_identity(r, app_id, &in, &fresh, 1) != 0)
        return r->status;
    const char *stamp = row_stamp(r, row);
    /* The providers are asked with no transaction open and no row locked (a slow provider must
     * not hold up a review of the same application), then the row is locked again and must be
     * as it was. */
    db_rollback();
    memset(&fresh, 0, sizeof(fresh));
    providers_gather(&in, &fresh);
    row = lock_pending(r, app_id, 1);
    if (row == NULL)
        return r->status;
    if (strcmp(stamp, row_stamp(r, row)) != 0) {
        db_rollback();
        return http_error(r, 409, "conflict",
                          "The application changed while the providers were asked; try again");
    }
    const struct country_info *country;
    struct compliance_facts facts;
    struct loan_result res;
    int rc = loans_evaluate(r->pool, &in, 0, &fresh, &country, &facts, &res);
    if (rc != 0) {
        db_rollback();
        return rc < 0 ? routes_db_error(r, NULL)
                      : http_fault(r, "stored country of %s is unknown", app_id);
    }
    char before[16];
    snprintf(before, sizeof(before), "%s", PQgetvalue(row, 0, LC_FINAL));
    PGresult *up = loans_update(r->pool, app_id, "reprocess", r->user.id, r->user.email, NULL,
                                before, &in, &facts, &res, 0);
    return finish(r, up, "Application reprocessed");
}

int loans_approval_logs(http_req *r)
{
    char limit[16], offset[16];
    if (routes_paging(r, 50, 1000, limit, offset) != 0)
        return r->status;
    const char *app = http_query(r, "application_id");
    const char *p[2] = {app && app[0] ? app : NULL, limit};
    PGresult *res = db_exec(r->pool, SQL(LOANS_LOGS), 2, p);
    if (!db_ok(res))
        return routes_db_error(r, res);
    json_object *arr = json_object_new_array();
    for (int i = 0; i < PQntuples(res); i++) {
        json_object *e = json_object_new_object();
        json_object_object_add(e, "id", json_object_new_int64(atoll(PQgetvalue(res, i, 0))));
        json_object_object_add(e, "application_id", json_object_new_string(PQgetvalue(res, i, 1)));
        json_object_object_add(e, "action", json_object_new_string(PQgetvalue(res, i, 2)));
        json_object_object_add(e, "actor_id",
                               PQgetisnull(res, i, 3)
                                   ? NULL
                                   : json_object_new_int64(atoll(PQgetvalue(res, i, 3))));
        const char *keys[] = {"actor_email", "reason", "status_before", "status_after", "created_at"};
        for (int k = 0; k < 5; k++)
            json_object_object_add(e, keys[k],
                                   PQgetisnull(res, i, 4 + k)
                                       ? NULL
                                       : json_object_new_string(PQgetvalue(res, i, 4 + k)));
        json_object_array_add(arr, e);
    }
    json_object *o = json_object_new_object();
    json_object_object_add(o, "logs", arr);
    json_object_object_add(o, "count", json_object_new_int(PQntuples(res)));
    return http_send_json(r, 200, o);
}
