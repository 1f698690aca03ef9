/*
 * The use cases of an application's life (see review.h). A state change and everything it
 * implies (application row, approval log entry, notifications, idempotency record) is one
 * transaction; the review actions lock the application row, so of concurrent decisions exactly
 * one wins. Providers are never asked while a transaction is open or a row is locked: a slow
 * provider must not hold up a review of the same application. Every path that began a
 * transaction ends it before it returns, and the caches hear of a change only after its commit.
 * Maker-checker is enforced here, under the row lock: the submitter of an application never
 * decides it, and the applications that need four eyes record a first approval before a second
 * officer's decides.
 */
#include "review.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "applications.h"
#include "config.h"
#include "credit.h"
#include "identity.h"
#include "lending.h"
#include "log.h"
#include "providers.h"

#define ALL_FLAGS 0xffffffffu

enum {
    REVIEW_IDEM_CLAIM,
    REVIEW_IDEM_GET,
    REVIEW_IDEM_STORE,
    REVIEW_IDENTITY_FAILURES,
    REVIEW_SQL_COUNT
};

/* clang-format off */
static const struct db_stmt sql[REVIEW_SQL_COUNT] = {
    [REVIEW_IDEM_CLAIM] = {"review_idem_claim",
                           "INSERT INTO idempotency_keys (user_id, key, request_hash) "
                           "VALUES ($1::bigint, $2, $3) ON CONFLICT DO NOTHING RETURNING 1"},
    [REVIEW_IDEM_GET] = {"review_idem_get",
                         "SELECT request_hash, status, response FROM idempotency_keys "
                         "WHERE user_id = $1::bigint AND key = $2"},
    [REVIEW_IDEM_STORE] = {"review_idem_store",
                           "UPDATE idempotency_keys SET status = $3::int, response = $4 "
                           "WHERE user_id = $1::bigint AND key = $2"},
    [REVIEW_IDENTITY_FAILURES] = {"review_identity_failures",
     "SELECT count(*) FROM loan_applications WHERE user_id = $1::bigint "
     "AND created_at > now() - interval '1 day' AND failed_rules && ARRAY['kyc_aadhaar_name', "
     "'kyc_pan_name', 'kyc_bank_account_name', 'kyc_aadhaar_not_found', 'kyc_pan_not_found', "
     "'kyc_bank_account_not_found']::text[]"},
};
/* clang-format on */
const struct db_stmts review_statements = DB_STMTS("review", sql);
#define SQL(id) (&sql[id])

/* ---- outcomes ---------------------------------------------------------------------------- */

static void fail_db(struct review_outcome *out, const PGresult *res)
{
    out->code = res == NULL ? REVIEW_DB_DOWN : REVIEW_FAULT;
    out->failed = res;
    out->detail = "database error";
}

static void fail_fault(arena *a, struct review_outcome *out, const char *what, const char *id)
{
    out->code = REVIEW_FAULT;
    out->detail = arena_printf(a, what, id);
}

/* ---- evaluation -------------------------------------------------------------------------- */

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

int review_age(const struct loan_input *in)
{
    int y, m, d;
    if (!in->date_of_birth[0])
        return -1;
    today(&y, &m, &d);
    return loan_age_years(in->date_of_birth, y, m, d);
}

/* review_evaluate, with hold: the submission waits for an officer (identity attempts). */
static int evaluate(arena *a, const struct loan_input *in, unsigned cleared,
                    const struct identity_facts *stored, int hold,
                    const struct country_info **country, struct compliance_facts *f,
                    struct loan_result *out, long *identity_us)
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
    if (refdata_screen(a, in, (*country)->code, f) != 0)
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
    f->id.age = review_age(in);
    f->id.has_age = f->id.age >= 0;
    struct loan_policy p = {cfg->sanctions_block, cfg->sanctions_review,
                            cfg->review_mode == REVIEW_MANUAL};
    f->identity_hold = hold;
    loan_evaluate(in, f, &p, cleared, out);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    if (identity_us != NULL)
        *identity_us = (t1.tv_sec - t0.tv_sec) * 1000000L + (t1.tv_nsec - t0.tv_nsec) / 1000;
    return 0;
}

int review_evaluate(arena *a, const struct loan_input *in, unsigned cleared,
                    const struct identity_facts *stored, const struct country_info **country,
                    struct compliance_facts *f, struct loan_result *out, long *identity_us)
{
    return evaluate(a, in, cleared, stored, 0, country, f, out, identity_us);
}

/* ---- submit ------------------------------------------------------------------------------ */

/* Whether an applicant's Indian submission waits for an officer: the account's identity checks
 * failed LOAN_IDENTITY_ATTEMPTS times in the last day. 0 (with *hold), or -1 when the database
 * is unreachable. */
static int identity_hold(arena *a, const struct review_actor *who, const struct loan_input *in,
                         int *hold)
{
    *hold = 0;
    if (who->officer || who->id <= 0)
        return 0;
    int down = 0;
    const struct country_info *c = refdata_country(in->country, &down);
    if (down)
        return -1;
    if (c == NULL || strcmp(c->code, "IN") != 0)
        return 0;
    const char *p[1] = {arena_printf(a, "%lld", who->id)};
    PGresult *res = db_exec(a, SQL(REVIEW_IDENTITY_FAILURES), 1, p);
    if (!db_ok(res) || PQntuples(res) != 1)
        return -1;
    *hold = atoi(PQgetvalue(res, 0, 0)) >= LOAN_IDENTITY_ATTEMPTS;
    return 0;
}

/* A key with a record: replay, or refuse (another body, or still in progress). */
static void idem_answer(const PGresult *prev, const char *hash, struct review_outcome *out)
{
    if (strcmp(PQgetvalue(prev, 0, 0), hash) != 0) {
        out->code = REVIEW_IDEM_REUSED;
    } else if (PQgetisnull(prev, 0, 2)) {
        out->code = REVIEW_IDEM_BUSY;
    } else {
        out->code = REVIEW_IDEM_REPLAY;
        out->replay_status = atoi(PQgetvalue(prev, 0, 1));
        out->replay_body = PQgetvalue(prev, 0, 2);
    }
}

/* Looks the key up before anything is asked of the providers, so a retry never makes a second
 * bureau enquiry. 0 to go on; 1 when out is set. */
static int idem_peek(arena *a, const char *const *p, const char *hash, struct review_outcome *out)
{
    PGresult *prev = db_exec(a, SQL(REVIEW_IDEM_GET), 2, p);
    if (!db_ok(prev)) {
        fail_db(out, prev);
        return 1;
    }
    if (PQntuples(prev) == 0)
        return 0;
    idem_answer(prev, hash, out);
    return 1;
}

/* Claims the key inside the transaction; a record another request wrote meanwhile answers
 * instead. 0 to go on; 1 when out is set (the transaction is then rolled back). */
static int idem_claim(arena *a, const char *const *p, struct review_outcome *out)
{
    PGresult *claim = db_exec(a, SQL(REVIEW_IDEM_CLAIM), 3, p);
    if (!db_ok(claim)) {
        db_rollback();
        fail_db(out, claim);
        return 1;
    }
    if (PQntuples(claim) == 1)
        return 0;
    PGresult *prev = db_exec(a, SQL(REVIEW_IDEM_GET), 2, p);
    db_rollback();
    if (!db_ok(prev) || PQntuples(prev) != 1) {
        fail_db(out, prev);
        return 1;
    }
    idem_answer(prev, p[2], out);
    return 1;
}

/* The failed INSERT of a submission: which open application it collides with, if any. */
/* An application that has just become APPROVED gets its offer in the deciding transaction; one
 * that is no longer APPROVED loses an offer nobody accepted. */
static int offer_if_approved(arena *a, const PGresult *row)
{
    if (strcmp(PQgetvalue(row, 0, LC_FINAL), "APPROVED") != 0)
        return lending_offer_withdraw(a, PQgetvalue(row, 0, LC_APP_ID));
    return lending_offer_on_approval(a, row);
}

static void insert_failed(const PGresult *row, struct review_outcome *out)
{
    const char *constraint = row != NULL ? PQresultErrorField(row, PG_DIAG_CONSTRAINT_NAME) : NULL;
    out->code = REVIEW_DUPLICATE;
    if (constraint != NULL && !strcmp(constraint, "loan_applications_open_pan"))
        out->field = "pan";
    else if (constraint != NULL && !strcmp(constraint, "loan_applications_open_aadhaar"))
        out->field = "aadhaar";
    else if (row != NULL && !strcmp(db_sqlstate(row), "23505"))
        out->field = "email";
    else
        fail_db(out, row);
}

void review_submit(arena *a, const struct review_actor *who, const struct loan_input *in,
                   const char *key, const void *body, size_t body_len, review_reply_fn reply,
                   struct review_outcome *out)
{
    memset(out, 0, sizeof(*out));
    out->identity_us = -1;
    char hash[65] = "";
    const char *p[4] = {arena_printf(a, "%lld", who->id), key, hash, NULL};
    if (key != NULL) {
        /* Keyed: the body holds identity numbers, and a plain hash of a 12-digit number is
         * reversed by trying them all. */
        identity_body_hash(body, body_len, hash);
        if (idem_peek(a, p, hash, out))
            return;
    }
    const char *dup = NULL;
    if (identity_find_open(a, in, &dup) != 0) {
        out->code = REVIEW_DB_DOWN;
        return;
    }
    if (dup != NULL) {
        out->code = REVIEW_DUPLICATE;
        out->field = dup;
        return;
    }
    int hold;
    if (identity_hold(a, who, in, &hold) != 0) {
        out->code = REVIEW_DB_DOWN;
        return;
    }
    const struct country_info *country;
    struct compliance_facts facts;
    struct loan_result res;
    int rc = evaluate(a, in, 0, NULL, hold, &country, &facts, &res, &out->identity_us);
    if (rc != 0) {
        if (rc < 0)
            out->code = REVIEW_DB_DOWN;
        else
            fail_fault(a, out, "country %s vanished between validation and evaluation",
                       in->country);
        return;
    }
    if (db_begin() != 0) {
        out->code = REVIEW_DB_DOWN;
        return;
    }
    if (key != NULL && idem_claim(a, p, out))
        return;
    PGresult *row = applications_insert(a, who->id, who->email, in, country, &facts, &res, NULL, 1);
    if (!db_ok(row)) {
        db_rollback();
        insert_failed(row, out);
        return;
    }
    if (offer_if_approved(a, row) != 0) {
        db_rollback();
        out->code = REVIEW_FAULT;
        out->detail = "making the offer failed";
        return;
    }
    out->app_id = PQgetvalue(row, 0, LC_APP_ID);
    out->doc = PQgetvalue(row, 0, who->officer ? LC_DOC : LC_APPLICANT_DOC);
    out->reply = reply(a, out->doc);
    out->final = res.final.status;
    if (key != NULL) {
        const char *q[4] = {p[0], key, "201", out->reply};
        PGresult *st = db_exec(a, SQL(REVIEW_IDEM_STORE), 4, q);
        if (!db_ok(st)) {
            db_rollback();
            fail_db(out, st);
            return;
        }
    }
    if (db_commit() != 0) {
        out->code = REVIEW_DB_DOWN;
        return;
    }
    applications_changed(out->app_id);
    log_msg(LOG_INFO, "application %s submitted: %s", out->app_id,
            loan_status_name(res.final.status));
    out->code = REVIEW_OK;
}

/* ---- review actions ---------------------------------------------------------------------- */

/* BEGIN, lock the row, check it waits for a decision. Returns the row, or NULL with out set
 * and no transaction open. */
static PGresult *lock_pending(arena *a, const struct review_actor *who, const char *app_id,
                              int allow_decided, struct review_outcome *out)
{
    if (db_begin() != 0) {
        out->code = REVIEW_DB_DOWN;
        return NULL;
    }
    PGresult *row = applications_lock(a, app_id);
    if (!db_ok(row)) {
        db_rollback();
        fail_db(out, row);
        return NULL;
    }
    if (PQntuples(row) == 0) {
        db_rollback();
        out->code = REVIEW_NOT_FOUND;
        return NULL;
    }
    /* Segregation of duties: whoever submitted an application never decides or reprocesses it. */
    if (!PQgetisnull(row, 0, LC_USER_ID) && atoll(PQgetvalue(row, 0, LC_USER_ID)) == who->id) {
        db_rollback();
        out->code = REVIEW_OWN_APPLICATION;
        return NULL;
    }
    if (!allow_decided && strcmp(PQgetvalue(row, 0, LC_FINAL), "PENDING") != 0) {
        db_rollback();
        out->code = REVIEW_DECIDED;
        out->status = PQgetvalue(row, 0, LC_FINAL);
        return NULL;
    }
    return row;
}

/* Commits the decision written (or rolls back what failed) and tells the caches. */
static void finish(arena *a, PGresult *updated, struct review_outcome *out)
{
    if (!db_ok(updated)) {
        db_rollback();
        /* Waiting again would make two open applications of one email, PAN or Aadhaar. */
        if (updated != NULL && !strcmp(db_sqlstate(updated), "23505")) {
            out->code = REVIEW_DUPLICATE;
            out->field = NULL;
        } else {
            fail_db(out, updated);
        }
        return;
    }
    if (offer_if_approved(a, updated) != 0) {
        db_rollback();
        out->code = REVIEW_FAULT;
        out->detail = "making the offer failed";
        return;
    }
    if (db_commit() != 0) {
        out->code = REVIEW_DB_DOWN;
        return;
    }
    out->app_id = PQgetvalue(updated, 0, LC_APP_ID);
    out->doc = PQgetvalue(updated, 0, LC_DOC);
    applications_changed(out->app_id);
    out->code = REVIEW_OK;
}

/* Inputs that carry clear identity numbers are wiped when they go out of scope, on every
 * return path (GCC/Clang cleanup attribute). */
static void wipe_input(struct loan_input *in)
{
    sodium_memzero(in, sizeof(*in));
}
#define WIPED __attribute__((cleanup(wipe_input)))

/* The locked row's input with its identity; on failure rolls back and sets out. 0 or -1. */
static int row_input(arena *a, const PGresult *row, const char *app_id, struct loan_input *in,
                     struct identity_facts *stored, int open_numbers, struct review_outcome *out)
{
    if (applications_row_input(a, row, 0, in) != 0) {
        db_rollback();
        fail_fault(a, out, "stored application %s is unreadable", app_id);
        return -1;
    }
    int rc = identity_of_row(a, app_id, in, stored, open_numbers);
    if (rc == 0)
        return 0;
    db_rollback();
    if (rc == -1)
        out->code = REVIEW_DB_DOWN;
    else
        fail_fault(a, out, "identity numbers of %s cannot be opened with the configured PII keys",
                   app_id);
    return -1;
}

/* The evaluation of a locked row; on failure rolls back and sets out. 0 or -1. */
static int evaluate_row(arena *a, const char *app_id, const struct loan_input *in, unsigned cleared,
                        const struct identity_facts *facts_in, struct compliance_facts *facts,
                        struct loan_result *res, struct review_outcome *out)
{
    const struct country_info *country;
    int rc = review_evaluate(a, in, cleared, facts_in, &country, facts, res, NULL);
    if (rc == 0)
        return 0;
    db_rollback();
    if (rc < 0)
        out->code = REVIEW_DB_DOWN;
    else
        fail_fault(a, out, "stored country of %s is unknown", app_id);
    return -1;
}

/* Four eyes: a possible sanctions match, a politically exposed person, or a loan above
 * FOUR_EYES_AMOUNT takes two different officers' approvals. */
static int needs_two(const PGresult *row, const struct loan_input *in)
{
    const char *flags = PQgetvalue(row, 0, LC_FLAGS);
    return strstr(flags, "\"sanctions_review\"") != NULL || strstr(flags, "\"pep\"") != NULL ||
           in->loan_amount > config_get()->four_eyes_cents;
}

void review_approve(arena *a, const struct review_actor *who, const char *app_id,
                    const char *reason, struct review_outcome *out)
{
    memset(out, 0, sizeof(*out));
    PGresult *row = lock_pending(a, who, app_id, 0, out);
    if (row == NULL)
        return;
    /* The stored answers are judged, so no number needs opening. */
    WIPED struct loan_input in;
    struct identity_facts stored;
    if (row_input(a, row, app_id, &in, &stored, 0, out) != 0)
        return;
    struct compliance_facts facts;
    struct loan_result res;
    if (evaluate_row(a, app_id, &in, ALL_FLAGS, &stored, &facts, &res, out) != 0)
        return;
    if (res.hard_failures == 0 && (res.flags & LOAN_FLAGS_RETRY)) {
        db_rollback();
        out->code = REVIEW_INCOMPLETE;
        out->flags = res.flags & LOAN_FLAGS_RETRY;
        return;
    }
    if (res.hard_failures > 0 || res.final.status != LOAN_APPROVED) {
        db_rollback();
        out->code = REVIEW_HARD_RULES;
        out->rules = arena_strdup(a, res.hard_rules);
        if (out->rules == NULL)
            out->rules = "";
        return;
    }
    if (needs_two(row, &in)) {
        if (PQgetisnull(row, 0, LC_FIRST_BY)) {
            finish(a, applications_first_approval(a, app_id, who->id, who->email, reason), out);
            if (out->code == REVIEW_OK)
                out->code = REVIEW_FIRST_APPROVAL;
            return;
        }
        if (atoll(PQgetvalue(row, 0, LC_FIRST_BY)) == who->id) {
            db_rollback();
            out->code = REVIEW_SAME_APPROVER;
            return;
        }
    }
    PGresult *up = applications_update(a, app_id, "approve", who->id, who->email, reason, "PENDING",
                                       &in, &facts, &res, 1);
    finish(a, up, out);
}

void review_reject(arena *a, const struct review_actor *who, const char *app_id, const char *reason,
                   struct review_outcome *out)
{
    memset(out, 0, sizeof(*out));
    PGresult *row = lock_pending(a, who, app_id, 0, out);
    if (row == NULL)
        return;
    const char *remarks = reason ? arena_printf(a, "Rejected by the reviewing officer: %s", reason)
                                 : "Rejected by the reviewing officer";
    PGresult *up = applications_reject(a, app_id, remarks, who->id, reason);
    if (!db_ok(up)) {
        db_rollback();
        fail_db(out, up);
        return;
    }
    /* The approval log and the applicant's email, as for any decision. */
    struct loan_input in;
    struct loan_result res;
    memset(&res, 0, sizeof(res));
    if (applications_row_input(a, up, 0, &in) != 0) {
        db_rollback();
        fail_fault(a, out, "stored application %s is unreadable", app_id);
        return;
    }
    res.final.status = LOAN_REJECTED;
    snprintf(res.final.remarks, sizeof(res.final.remarks), "%s", remarks);
    res.compliance.status = LOAN_APPROVED; /* no compliance alert for an officer's rejection */
    if (applications_log_decision(a, app_id, "reject", who->id, who->email, reason, "PENDING", &in,
                                  &res) != 0) {
        db_rollback();
        out->code = REVIEW_DB_DOWN;
        return;
    }
    finish(a, up, out);
}

/* What a reprocess must find unchanged after it let go of the row: the decision and when it
 * was made, the reviewer and the flags. */
static char *row_stamp(arena *a, const PGresult *row)
{
    return arena_printf(a, "%s|%s|%s|%s", PQgetvalue(row, 0, LC_UPDATED),
                        PQgetvalue(row, 0, LC_FINAL), PQgetvalue(row, 0, LC_REVIEWED_BY),
                        PQgetvalue(row, 0, LC_FLAGS));
}

void review_reprocess(arena *a, const struct review_actor *who, const char *app_id,
                      struct review_outcome *out)
{
    memset(out, 0, sizeof(*out));
    PGresult *row = lock_pending(a, who, app_id, 1, out);
    if (row == NULL)
        return;
    if (!PQgetisnull(row, 0, LC_REVIEWED_BY)) {
        db_rollback();
        out->code = REVIEW_OFFICER_DECIDED;
        return;
    }
    /* An offer the applicant has accepted is a contract in the making: its application is no
     * longer re-evaluated. */
    int taken = lending_offer_taken(a, app_id);
    if (taken != 0) {
        db_rollback();
        out->code = taken < 0 ? REVIEW_DB_DOWN : REVIEW_OFFER_TAKEN;
        return;
    }
    WIPED struct loan_input in;
    struct identity_facts fresh;
    if (row_input(a, row, app_id, &in, &fresh, 1, out) != 0)
        return;
    const char *stamp = row_stamp(a, row);
    /* The providers are asked with no transaction open and no row locked, then the row is
     * locked again and must be as it was. */
    db_rollback();
    memset(&fresh, 0, sizeof(fresh));
    providers_gather(&in, &fresh);
    row = lock_pending(a, who, app_id, 1, out);
    if (row == NULL)
        return;
    if (strcmp(stamp, row_stamp(a, row)) != 0) {
        db_rollback();
        out->code = REVIEW_CHANGED;
        return;
    }
    /* Again under the row's lock (acceptance locks the application row too): an offer accepted
     * while the providers answered stops the re-evaluation. */
    taken = lending_offer_taken(a, app_id);
    if (taken != 0) {
        db_rollback();
        out->code = taken < 0 ? REVIEW_DB_DOWN : REVIEW_OFFER_TAKEN;
        return;
    }
    struct compliance_facts facts;
    struct loan_result res;
    if (evaluate_row(a, app_id, &in, 0, &fresh, &facts, &res, out) != 0)
        return;
    char before[16];
    snprintf(before, sizeof(before), "%s", PQgetvalue(row, 0, LC_FINAL));
    PGresult *up = applications_update(a, app_id, "reprocess", who->id, who->email, NULL, before,
                                       &in, &facts, &res, 0);
    finish(a, up, out);
}
