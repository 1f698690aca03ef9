/*
 * The loan endpoints of the seed: eligibility check, submission, status, lists, the review
 * actions and the approval log. Handlers parse and validate, call one use case of
 * app/store/review.c or one read of app/store/applications.c, and map what comes back to the
 * response; the transactions, row locks and notifications are the use cases' business.
 */
#include "routes.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <sodium.h>

#include "applications.h"
#include "cache.h"
#include "credit.h"
#include "js.h"
#include "loan.h"
#include "refdata.h"
#include "review.h"
#include "lending.h"
#include "validate.h"

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

int handle_loan_check(http_req *r)
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

static long us_since(const struct timespec *t0)
{
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (t1.tv_sec - t0->tv_sec) * 1000000L + (t1.tv_nsec - t0->tv_nsec) / 1000;
}

/*
 * Responses that carry applications are assembled from the doc texts the database keeps
 * (loan_doc() for officers, loan_applicant_doc() for applicants, sql/010), which are complete
 * JSON values: only the envelope is written here,
 * and its one free-text member, the message, is escaped by json-c.
 */
static int send_doc_len(http_req *r, int status, const char *message, const char *doc, size_t dl)
{
    const char *msg = "";
    if (message != NULL) {
        json_object *m = json_object_new_string(message);
        msg = arena_printf(r->pool, "\"message\":%s,", json_object_to_json_string(m));
        json_object_put(m);
    }
    size_t ml = strlen(msg);
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

static int send_doc(http_req *r, int status, const char *message, const char *doc)
{
    return send_doc_len(r, status, message, doc, strlen(doc));
}

/* Sends doc rows as a list (with paging when given); a failed read answers its error. */
static int send_list(http_req *r, PGresult *res, const char *limit, const char *offset)
{
    if (!db_ok(res))
        return routes_db_error(r, res);
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

/* Applicants see only their own applications (others' ids answer 404 like unknown ones), and
 * of those only the applicant's document; officers the officers'. */
static int status_reply(http_req *r, const char *owner, const char *applicant_doc,
                        size_t applicant_len, const char *officer_doc)
{
    if (r->user.role >= ROLE_OFFICER)
        return send_doc(r, 200, NULL, officer_doc);
    if (owner[0] == '\0' || atoll(owner) != r->user.id)
        return http_error(r, 404, "not_found", "No such application");
    return send_doc_len(r, 200, NULL, applicant_doc, applicant_len);
}

/* The 409 of an approval that rules no officer can clear refuse, naming them. */
static int hard_rules_failed(http_req *r, const char *rules)
{
    char *msg = arena_printf(r->pool,
                             "The application cannot be approved: hard rules fail (%s). "
                             "Reject it instead.",
                             rules[0] ? rules : "final decision not approved");
    json_object *o = json_object_new_object();
    json_object *e = json_object_new_object();
    json_object_object_add(e, "status", json_object_new_int(409));
    json_object_object_add(e, "code", json_object_new_string("hard_rules_failed"));
    json_object_object_add(e, "message", json_object_new_string(msg));
    json_object *list = json_object_new_array();
    char buf[512];
    snprintf(buf, sizeof(buf), "%s", rules);
    char *save = NULL;
    for (char *t = strtok_r(buf, ", ", &save); t; t = strtok_r(NULL, ", ", &save))
        json_object_array_add(list, json_object_new_string(t));
    json_object_object_add(e, "rules", list);
    json_object_object_add(e, "request_id",
                           r->request_id ? json_object_new_string(r->request_id) : NULL);
    json_object_object_add(o, "error", e);
    return http_send_json(r, 409, o);
}

/* Maps a use case's outcome to the JSON API's answer; message names a success. */
static int reply_outcome(http_req *r, const struct review_outcome *out, const char *message)
{
    switch (out->code) {
    case REVIEW_OK:
        return send_doc(r, 200, message, out->doc);
    case REVIEW_DB_DOWN:
        return routes_db_error(r, NULL);
    case REVIEW_FAULT:
        return out->failed ? routes_db_error(r, out->failed) : http_fault(r, "%s", out->detail);
    case REVIEW_NOT_FOUND:
        return http_error(r, 404, "not_found", "No such application");
    case REVIEW_DECIDED:
        return http_error(r, 409, "conflict",
                          arena_printf(r->pool, "The application is already %s", out->status));
    case REVIEW_OFFICER_DECIDED:
        return http_error(r, 409, "conflict",
                          "An officer has decided this application; it is not reprocessed");
    case REVIEW_CHANGED:
        return http_error(r, 409, "conflict",
                          "The application changed while the providers were asked; try again");
    case REVIEW_INCOMPLETE: {
        json_object *fields = json_object_new_object();
        for (unsigned b = 0; b < LOAN_FLAG_COUNT; b++)
            if (out->flags & (1u << b))
                js_field_error(fields, loan_flag_name(1u << b),
                               "waits for a provider or for data; reprocess to retry");
        return http_error_fields(r, 409, "verification_incomplete",
                                 "The application cannot be approved until the providers have "
                                 "answered and it can be priced; reprocess it to retry",
                                 fields);
    }
    case REVIEW_HARD_RULES:
        return hard_rules_failed(r, out->rules);
    case REVIEW_DUPLICATE:
        if (out->field == NULL)
            return http_error(r, 409, "conflict",
                              "Another application of this applicant (same email, PAN or "
                              "Aadhaar) is waiting for a decision");
        if (!strcmp(out->field, "email")) {
            json_object *fields = json_object_new_object();
            js_field_error(fields, "email", "already has an application waiting for a decision");
            return http_error_fields(r, 409, "conflict",
                                     "This email already has a pending application", fields);
        }
        return duplicate_identity(r, out->field);
    case REVIEW_IDEM_REUSED:
        return http_error(r, 409, "idempotency_key_reused",
                          "This Idempotency-Key was used with a different request body");
    case REVIEW_IDEM_BUSY:
        return http_error(r, 409, "conflict", "A request with this Idempotency-Key is in progress");
    case REVIEW_OWN_APPLICATION:
        return http_error(r, 403, "segregation_of_duties",
                          "You submitted this application; another officer must decide or "
                          "reprocess it");
    case REVIEW_SAME_APPROVER:
        return http_error(r, 403, "segregation_of_duties",
                          "You gave this application its first approval; a second, different "
                          "officer must approve it");
    case REVIEW_OFFER_TAKEN:
        return http_error(r, 409, "offer_accepted",
                          "The applicant has accepted the offer of this application; it is no "
                          "longer re-evaluated");
    case REVIEW_FIRST_APPROVAL:
        return send_doc(r, 202, "First approval recorded; a second officer must approve", out->doc);
    case REVIEW_IDEM_REPLAY:
        http_add_header(r, "Idempotent-Replayed", "true");
        return http_send(r, out->replay_status, "application/json", out->replay_body,
                         strlen(out->replay_body));
    }
    return http_fault(r, "unknown review outcome %d", (int)out->code);
}

/* Inputs that carry clear identity numbers are wiped when they go out of scope, on every
 * return path (GCC/Clang cleanup attribute). */
static void wipe_input(struct loan_input *in)
{
    sodium_memzero(in, sizeof(*in));
}
#define WIPED __attribute__((cleanup(wipe_input)))

/* The reply of a submission, which the use case also keeps for a replay of its key. */
static const char *submit_reply(arena *a, const char *doc)
{
    return arena_printf(a,
                        "{\"message\":\"Loan application submitted and processed "
                        "successfully\",\"application\":%s}",
                        doc);
}

int handle_loan_submit(http_req *r)
{
    if (need_object(r))
        return r->status;
    WIPED struct loan_input in;
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    /* An applicant files for themselves, under the account's email: a body without an email
     * takes it, one with another email is refused (an officer files for a customer, whose email
     * the body carries; the officer is recorded as the submitter). */
    int officer = r->user.role >= ROLE_OFFICER;
    const char *account_email = r->user.email ? r->user.email : "";
    if (!officer && !json_object_object_get_ex(r->json, "email", NULL))
        json_object_object_add(r->json, "email", json_object_new_string(account_email));
    json_object *fields = json_object_new_object();
    loan_parse(r->json, &in, fields, 1);
    if (!officer && in.email != NULL && !json_object_object_get_ex(fields, "email", NULL) &&
        strcasecmp(in.email, account_email) != 0)
        js_field_error(fields, "email", "must be the email of your account");
    if (!officer)
        in.email = account_email;
    /* What the bench attributes to identity checking: parsing and validating the body (the
     * identity validators run here), then the providers, the credit policy and the scorecard
     * inside the use case, measured there. An upper bound: it includes the older rules too. */
    long parse_us = us_since(&t0);
    if (in.country != NULL) {
        int down = 0;
        const struct country_info *country = refdata_country(in.country, &down);
        if (down) {
            json_object_put(fields);
            return routes_db_error(r, NULL);
        }
        if (country == NULL)
            js_field_error(fields, "country",
                           "is not a known country (ISO 3166 name, alpha-2 or alpha-3 code)");
        /* A tenure is one the country's loan product offers. */
        const char *allowed = "";
        int ok = country == NULL || in.tenure_months == 0
                     ? 1
                     : lending_tenure_allowed(r->pool, country->code, in.tenure_months, &allowed);
        if (ok < 0) {
            json_object_put(fields);
            return routes_db_error(r, NULL);
        }
        if (!ok)
            js_field_error(fields, "tenure_months",
                           allowed[0] ? arena_printf(r->pool, "must be one of %s months", allowed)
                                      : "no loan product serves this country");
    }
    if (review_age(&in) == -2)
        js_field_error(fields, "date_of_birth", "must not be in the future");
    const char *key = http_param(r, "HTTP_IDEMPOTENCY_KEY");
    if (key != NULL && (key[0] == '\0' || strlen(key) > 200))
        js_field_error(fields, "Idempotency-Key", "must be 1 to 200 characters");
    if (json_object_object_length(fields) > 0)
        return validation_failed(r, fields);
    json_object_put(fields);

    struct review_actor who = {r->user.id, r->user.email, officer};
    struct review_outcome out;
    review_submit(r->pool, &who, &in, key, r->body, r->body_len, submit_reply, &out);
    if (out.identity_us >= 0)
        r->identity_us = parse_us + out.identity_us;
    if (out.code != REVIEW_OK)
        return reply_outcome(r, &out, NULL);
    return http_send(r, 201, "application/json", out.reply, strlen(out.reply));
}

/*
 * Status is what applicants poll, so the documents are cached in Redis as
 * "<version>|<owner>|<n>|<applicant doc of n bytes><officers' doc>" beside a per-application
 * version that every writer bumps after its commit (applications_changed): one MGET answers a
 * repeated poll, and a cached copy is used only while its version is current. Both documents
 * come from the one row the database keeps them in, so neither is ever derived from the other
 * and the reader's role only picks one.
 */
/* What a status read's build found: the "<owner>|<n>|<docs>" text, or why there is none. */
struct status_build {
    arena *pool;
    const char *id;
    int db_error; /* the read failed: failed is its result, NULL when unreachable */
    PGresult *failed;
};

static const char *build_status(void *ctx)
{
    struct status_build *b = ctx;
    PGresult *res = applications_doc(b->pool, b->id);
    if (!db_ok(res)) {
        b->db_error = 1;
        b->failed = res;
        return NULL;
    }
    if (PQntuples(res) == 0)
        return NULL;
    return arena_printf(b->pool, "%s|%d|%s%s", PQgetisnull(res, 0, 0) ? "" : PQgetvalue(res, 0, 0),
                        PQgetlength(res, 0, 2), PQgetvalue(res, 0, 2), PQgetvalue(res, 0, 1));
}

/* Splits a cached status text; 0, or -1 when it is not one. */
static int split_status(const char *text, const char **owner_end, const char **applicant,
                        size_t *applicant_len, const char **officer)
{
    const char *bar = strchr(text, '|');
    if (bar == NULL)
        return -1;
    char *end;
    unsigned long n = strtoul(bar + 1, &end, 10);
    if (end == bar + 1 || *end != '|' || strlen(end + 1) < n)
        return -1;
    *owner_end = bar;
    *applicant = end + 1;
    *applicant_len = n;
    *officer = end + 1 + n;
    return 0;
}

static int has_docs(const char *text)
{
    const char *o, *ap, *of;
    size_t n;
    return split_status(text, &o, &ap, &n, &of) == 0 && of[0] == '{';
}

int handle_loan_status(http_req *r)
{
    const char *id = http_route_param(r, 0);
    /* Worker memory answers for a second at most, which bounds how long a change made through
     * another host goes unseen; an id too long to be one is never sent to Redis. */
    struct cache_read spec = {
        .key = arena_printf(r->pool, "appdoc:%s", id),
        .version_key = strlen(id) <= 40 ? arena_printf(r->pool, "appv:%s", id) : NULL,
        .ttl = APPS_DOC_TTL,
        .local_seconds = 1,
        .valid = has_docs,
    };
    struct status_build b = {r->pool, id, 0, NULL};
    const char *text = cache_read(r->pool, &spec, build_status, &b);
    if (text == NULL)
        return b.db_error ? routes_db_error(r, b.failed)
                          : http_error(r, 404, "not_found", "No such application");
    const char *bar, *applicant, *officer;
    size_t applicant_len;
    if (split_status(text, &bar, &applicant, &applicant_len, &officer) != 0)
        return http_fault(r, "cached status of %s is malformed", id);
    return status_reply(r, arena_strndup(r->pool, text, (size_t)(bar - text)), applicant,
                        applicant_len, officer);
}

int handle_loan_list(http_req *r)
{
    char limit[16], offset[16], region[16];
    if (routes_query_encoded(r) != 0)
        return r->status;
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
        js_field_error(fields, "region",
                       "must be one of APAC, EMEA, AMERICAS, MEA, NA, SA, EU, ASIA");
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
    return send_list(r,
                     applications_list(r->pool, status, reg ? region : NULL, code, limit, offset),
                     limit, offset);
}

int handle_loan_pending(http_req *r)
{
    char limit[16], offset[16];
    if (routes_paging(r, 1000, 1000, limit, offset) != 0)
        return r->status;
    return send_list(r, applications_list(r->pool, "PENDING", NULL, NULL, limit, offset), NULL,
                     NULL);
}

int handle_loan_mine(http_req *r)
{
    char limit[16], offset[16];
    if (routes_paging(r, 100, 1000, limit, offset) != 0)
        return r->status;
    return send_list(
        r, applications_of_user(r->pool, r->user.id, r->user.role >= ROLE_OFFICER, limit, offset),
        NULL, NULL);
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

static struct review_actor actor(http_req *r)
{
    struct review_actor who = {r->user.id, r->user.email, r->user.role >= ROLE_OFFICER};
    return who;
}

/* Approve and reject: an optional reason, the use case, the outcome. */
static int decide(http_req *r,
                  void (*use_case)(arena *, const struct review_actor *, const char *, const char *,
                                   struct review_outcome *),
                  const char *message)
{
    const char *reason;
    if (!read_reason(r, &reason))
        return r->status;
    struct review_actor who = actor(r);
    struct review_outcome out;
    use_case(r->pool, &who, http_route_param(r, 0), reason, &out);
    return reply_outcome(r, &out, message);
}

int handle_loan_approve(http_req *r)
{
    return decide(r, review_approve, "Application approved");
}

int handle_loan_reject(http_req *r)
{
    return decide(r, review_reject, "Application rejected");
}

int handle_loan_reprocess(http_req *r)
{
    struct review_actor who = actor(r);
    struct review_outcome out;
    review_reprocess(r->pool, &who, http_route_param(r, 0), &out);
    return reply_outcome(r, &out, "Application reprocessed");
}

int handle_approval_logs(http_req *r)
{
    char limit[16], offset[16];
    if (routes_paging(r, 50, 1000, limit, offset) != 0)
        return r->status;
    const char *app = http_query(r, "application_id");
    PGresult *res = applications_logs(r->pool, app && app[0] ? app : NULL, limit);
    if (!db_ok(res))
        return routes_db_error(r, res);
    json_object *arr = json_object_new_array();
    for (int i = 0; i < PQntuples(res); i++) {
        json_object *e = json_object_new_object();
        json_object_object_add(e, "id", json_object_new_int64(atoll(PQgetvalue(res, i, 0))));
        json_object_object_add(e, "application_id", json_object_new_string(PQgetvalue(res, i, 1)));
        json_object_object_add(e, "action", json_object_new_string(PQgetvalue(res, i, 2)));
        json_object_object_add(
            e, "actor_id",
            PQgetisnull(res, i, 3) ? NULL : json_object_new_int64(atoll(PQgetvalue(res, i, 3))));
        const char *keys[] = {"actor_email", "reason", "status_before", "status_after",
                              "created_at"};
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
