/*
 * Ongoing monitoring (see monitoring.h). The re-screening runs after the load's transaction has
 * committed the new version, not inside it: the load stays one short transaction whatever the
 * number of customers (the workers screen new submissions against the new version within a
 * second of its commit), and each subject's new match is a transaction of its own, so no row of
 * an application or loan stays locked while 100,000 others are screened. What a crash mid-way
 * leaves is consistent: the version is active, the subjects handled so far have their alerts
 * and their return to review complete, the others nothing, and the version's rescreened_at is
 * still NULL; loading the same file again (or ensure) sees that and runs the re-screening
 * again, which skips every subject already alerted for an entry's content (the alert's unique
 * key, checked before and enforced by the INSERT), so it finishes without a second alert.
 *
 * The changed entries are those of the new version whose (entry id, content hash) the version
 * before it of the same name does not have. Their names and facts (dates of birth, nationalities
 * as alpha-2) make a small screen_list; subjects are read by keyset pagination on the
 * application's id, BATCH at a time, and screened with screen_search and the configured
 * thresholds. A subject's transaction locks its loan row (if any) and then its application row,
 * and decides on what it reads under those locks: a loan that started disbursing meanwhile is
 * reported as a borrower's, not sent back to review; a disbursal waiting on the loan's lock
 * reads the application's new status after it (disbursal.c).
 */
#include "monitoring.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "applications.h"
#include "config.h"
#include "js.h"
#include "lending.h"
#include "log.h"
#include "outbox.h"
#include "refdata.h"
#include "screening.h"

#define BATCH     1000 /* subjects read per query */
#define MAX_CANDS 32   /* candidates looked at per subject */

enum {
    MON_VERSION,
    MON_PENDING,
    MON_ENTRIES,
    MON_PREVIOUS,
    MON_NAMES,
    MON_ALERTED,
    MON_SUBJECTS,
    MON_LOCK_LOAN,
    MON_LOCK_APP,
    MON_ALERT_INSERT,
    MON_BACK_TO_REVIEW,
    MON_LOAN_RESET,
    MON_LOG,
    MON_TOUCH,
    MON_RECORD,
    MON_LIST,
    MON_ALERT_LOCK,
    MON_ALERT_RESOLVE,
    MON_ALERT_GET,
    MON_SQL_COUNT
};

/* clang-format off */
#define ALERT_JSON                                                                                \
    "json_build_object('alert_id', s.id, 'application_id', s.application_id, "                    \
    "'loan_id', s.loan_id, 'list', l.name, 'list_version', l.version, 'entry_id', s.entry_id, "    \
    "'matched_name', s.matched_name, 'score', s.score, 'level', s.level, "                         \
    "'evidence', s.evidence, 'raised_at', iso_utc(s.created_at), "                                 \
    "'resolved_at', iso_utc(s.resolved_at))"
static const struct db_stmt sql[MON_SQL_COUNT] = {
    [MON_VERSION] = {"monitoring_version",
     /* compared with the last version of the name whose re-screening finished: one that was
      * interrupted and then replaced is covered by this version's diff */
     "SELECT l.name, l.version, (SELECT max(p.id) FROM sanctions_lists p "
     "WHERE p.name = l.name AND p.id < l.id AND p.rescreened_at IS NOT NULL) "
     "FROM sanctions_lists l WHERE l.id = $1::bigint"},
    [MON_PENDING] = {"monitoring_pending",
     "SELECT l.rescreened_at IS NULL AND EXISTS (SELECT 1 FROM sanctions_entries e "
     "WHERE e.list_id = l.id) FROM sanctions_lists l WHERE l.id = $1::bigint"},
    /* The diff is made here, in order of entry id, not by a join in SQL: right after a load,
     * the statistics of sanctions_entries and sanctions_names still describe the table before
     * it (the serving role cannot ANALYZE), and a plan made on them can be a nested loop over
     * every row of both versions. These reads are index range scans whatever the statistics. */
    [MON_ENTRIES] = {"monitoring_entries",
     "SELECT entry_id, content_hash, array_to_string(dob, ' '), "
     "array_to_string(nationalities, ' ') FROM sanctions_entries WHERE list_id = $1::bigint "
     "ORDER BY entry_id"},
    [MON_PREVIOUS] = {"monitoring_previous",
     "SELECT entry_id, content_hash FROM sanctions_entries WHERE list_id = $1::bigint "
     "ORDER BY entry_id"},
    [MON_NAMES] = {"monitoring_names",
     "SELECT entry_id, name, type FROM sanctions_names WHERE list_id = $1::bigint"},
    /* Who already has an alert for one of the changed entries (any content: the caller compares
     * the hash). */
    [MON_ALERTED] = {"monitoring_alerted",
     "SELECT application_id, entry_id, content_hash FROM screening_alerts "
     "WHERE entry_id = ANY ($1::bigint[]) ORDER BY application_id COLLATE \"C\", entry_id"},
    /* Open applications (not rejected; no loan, or one awaiting disbursal) and active loans'. */
    [MON_SUBJECTS] = {"monitoring_subjects",
     "SELECT a.id, a.application_id, a.name, coalesce(a.date_of_birth::text, ''), a.country_code, "
     "coalesce(a.screening_list, ''), coalesce(a.screening_entry_id, 0) "
     "FROM loan_applications a LEFT JOIN loans l USING (application_id) "
     "WHERE a.id > $1::bigint AND (l.state IN ('ACTIVE', 'DISBURSING') OR "
     "(a.final_status <> 'REJECTED' AND (l.state IS NULL OR l.state = 'AWAITING_DISBURSAL'))) "
     /* submitted while this version was active: the workers screened it against it */
     "AND a.screening_list_version IS DISTINCT FROM $3 ORDER BY a.id LIMIT $2::int"},
    [MON_LOCK_LOAN] = {"monitoring_lock_loan",
     "SELECT loan_id, state FROM loans WHERE application_id = $1 FOR NO KEY UPDATE"},
    [MON_LOCK_APP] = {"monitoring_lock_app",
     "SELECT final_status, name, coalesce(screening_list, ''), coalesce(screening_entry_id, 0), "
     "coalesce(screening_level, 'clear') "
     "FROM loan_applications WHERE application_id = $1 FOR NO KEY UPDATE"},
    [MON_ALERT_INSERT] = {"monitoring_alert_insert",
     "INSERT INTO screening_alerts (list_id, entry_id, content_hash, application_id, loan_id, "
     "matched_name, score, level, evidence) VALUES ($1::bigint, $2::bigint, $3, $4, $5, $6, "
     "$7::numeric, $8, $9::jsonb) ON CONFLICT (application_id, entry_id, content_hash) "
     "DO NOTHING RETURNING id"},
    /* Back to review; a first approval given before the match no longer counts. */
    [MON_BACK_TO_REVIEW] = {"monitoring_back_to_review",
     "UPDATE loan_applications a SET final_status = 'PENDING', compliance_status = 'PENDING', "
     "compliance_verified_at = now(), "
     "compliance_remarks = CASE WHEN a.compliance_remarks = '' THEN $2 "
     "ELSE a.compliance_remarks || '; ' || $2 END, final_remarks = $3, "
     "final_decision_at = NULL, first_approval_by = NULL, first_approval_at = NULL, "
     "reviewed_by = NULL, reviewed_at = NULL, review_reason = NULL, "
     "review_flags = CASE WHEN 'sanctions_review' = ANY (a.review_flags) THEN a.review_flags "
     "ELSE array_append(a.review_flags, 'sanctions_review') END, "
     /* the evidence shown is the strongest match: replaced unless the one there is stronger */
     "screening_list = CASE WHEN $11::boolean THEN $4 ELSE a.screening_list END, "
     "screening_list_version = CASE WHEN $11::boolean THEN $5 ELSE a.screening_list_version END, "
     "screening_entry_id = CASE WHEN $11::boolean THEN $6::bigint ELSE a.screening_entry_id END, "
     "screening_matched_name = CASE WHEN $11::boolean THEN $7 ELSE a.screening_matched_name END, "
     "screening_score = CASE WHEN $11::boolean THEN $8::numeric ELSE a.screening_score END, "
     "screening_level = CASE WHEN $11::boolean THEN $9 ELSE a.screening_level END, "
     "screening_evidence = CASE WHEN $11::boolean THEN $10::jsonb ELSE a.screening_evidence END, "
     /* out of the one-pending-per-applicant indexes only when another of the applicant's
      * applications already waits (sql/015) */
     "rescreen_hold = EXISTS (SELECT 1 FROM loan_applications o WHERE o.id <> a.id "
     "AND o.final_status = 'PENDING' AND NOT o.rescreen_hold AND (lower(o.email) = lower(a.email) "
     "OR o.pan_bidx = a.pan_bidx OR o.aadhaar_bidx = a.aadhaar_bidx)), updated_at = now() "
     "WHERE application_id = $1 RETURNING rescreen_hold"},
    /* a first disbursal approval given before the match no longer counts either */
    [MON_LOAN_RESET] = {"monitoring_loan_reset",
     "UPDATE loans SET disbursal_first_by = NULL, updated_at = now() "
     "WHERE loan_id = $1 AND state = 'AWAITING_DISBURSAL'"},
    [MON_LOG] = {"monitoring_log",
     "INSERT INTO approval_logs (application_id, action, actor_id, actor_email, reason, "
     "status_before, status_after, details) VALUES ($1, 'screening_hit', NULL, 'system', $2, $3, "
     "$5, $4::jsonb)"},
    /* The officers' document lists the alerts: the row's trigger rebuilds it. */
    [MON_TOUCH] = {"monitoring_touch",
     "UPDATE loan_applications SET updated_at = updated_at WHERE application_id = $1"},
    [MON_RECORD] = {"monitoring_record",
     "UPDATE sanctions_lists SET rescreen_entries = $2::int, rescreen_subjects = $3::int, "
     "rescreen_ms = $4::int, rescreen_hits = (SELECT count(*) FROM screening_alerts "
     "WHERE list_id = $1::bigint), rescreened_at = now() WHERE id = $1::bigint "
     "RETURNING rescreen_hits"},
    [MON_LIST] = {"monitoring_list",
     "SELECT coalesce(json_agg(" ALERT_JSON " ORDER BY s.created_at, s.id), '[]')::text "
     "FROM (SELECT * FROM screening_alerts WHERE $1::boolean OR resolved_at IS NULL "
     "ORDER BY created_at, id LIMIT $2::int OFFSET $3::int) s "
     "JOIN sanctions_lists l ON l.id = s.list_id"},
    [MON_ALERT_LOCK] = {"monitoring_alert_lock",
     "SELECT s.application_id, s.entry_id, s.loan_id, s.resolved_at IS NOT NULL, "
     "coalesce(a.user_id, 0) FROM screening_alerts s JOIN loan_applications a "
     "USING (application_id) WHERE s.id = $1::bigint FOR UPDATE OF s"},
    [MON_ALERT_RESOLVE] = {"monitoring_alert_resolve",
     "UPDATE screening_alerts SET resolved_by = $2::bigint, resolved_at = now() "
     "WHERE id = $1::bigint"},
    [MON_ALERT_GET] = {"monitoring_alert_get",
     "SELECT " ALERT_JSON "::text FROM screening_alerts s JOIN sanctions_lists l "
     "ON l.id = s.list_id WHERE s.id = $1::bigint"},
};
/* clang-format on */
const struct db_stmts monitoring_statements = DB_STMTS("monitoring", sql);
#define SQL(id) (&sql[id])

/* The evidence of a candidate as docs/screening.md shows it (arena text). */
static const char *evidence_text(arena *a, const screen_candidate *c)
{
    json_object *o = refdata_evidence_json(c);
    const char *s = arena_strdup(a, json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
    json_object_put(o);
    return s;
}

/* ---- the re-screening -------------------------------------------------------------------- */

/* The changed entries: rows of MON_ENTRIES (by entry id) whose entry the version before does
 * not have with the same content hash; idx[0..n) are their row numbers, in entry id order. */
struct changed {
    const PGresult *rows;
    int *idx;
    int n;
};

static long row_id(const PGresult *r, int row)
{
    return atol(PQgetvalue(r, row, 0));
}

/* The row of a changed entry, or -1. */
static int changed_row(const struct changed *ch, long entry_id)
{
    int lo = 0, hi = ch->n;
    while (lo < hi) {
        int mid = lo + (hi - lo) / 2;
        long id = row_id(ch->rows, ch->idx[mid]);
        if (id == entry_id)
            return ch->idx[mid];
        if (id < entry_id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return -1;
}

static const char *changed_hash(const struct changed *ch, long entry_id)
{
    int row = changed_row(ch, entry_id);
    return row < 0 ? NULL : PQgetvalue(ch->rows, row, 1);
}

/* Fills ch with the entries of ents (this version) not in prev (the version before, NULL for
 * none) with the same hash; both in entry id order. 0, or -1 (ENOMEM). */
static int diff_entries(arena *a, const PGresult *ents, const PGresult *prev, struct changed *ch)
{
    int n = PQntuples(ents), m = prev ? PQntuples(prev) : 0, j = 0;
    ch->rows = ents;
    ch->n = 0;
    ch->idx = arena_alloc(a, sizeof(int) * (size_t)(n > 0 ? n : 1));
    if (ch->idx == NULL)
        return -1;
    for (int i = 0; i < n; i++) {
        long id = row_id(ents, i);
        while (j < m && row_id(prev, j) < id)
            j++;
        int same = j < m && row_id(prev, j) == id &&
                   !strcmp(PQgetvalue(prev, j, 1), PQgetvalue(ents, i, 1));
        if (!same)
            ch->idx[ch->n++] = i;
    }
    return 0;
}

/* Whether (app_id, entry_id) already has an alert for the entry's present content (rows of
 * MON_ALERTED, sorted by application id and entry id). */
static int alerted(const PGresult *rows, const struct changed *ch, const char *app_id,
                   long entry_id)
{
    int lo = 0, hi = PQntuples(rows);
    while (lo < hi) { /* the first row at or after (app_id, entry_id) */
        int mid = lo + (hi - lo) / 2;
        int c = strcmp(PQgetvalue(rows, mid, 0), app_id);
        if (c < 0 || (c == 0 && atol(PQgetvalue(rows, mid, 1)) < entry_id))
            lo = mid + 1;
        else
            hi = mid;
    }
    const char *hash = changed_hash(ch, entry_id);
    for (; hash && lo < PQntuples(rows) && !strcmp(PQgetvalue(rows, lo, 0), app_id) &&
           atol(PQgetvalue(rows, lo, 1)) == entry_id;
         lo++)
        if (!strcmp(PQgetvalue(rows, lo, 2), hash))
            return 1;
    return 0;
}

/* The index of the changed entries' names (names: every name of the version, typed as the
 * workers' index types them, refdata.c) and facts; NULL with *why. */
static screen_list *changed_list(const struct changed *ch, const PGresult *names, const char **why)
{
    screen_list *l = screen_list_new();
    if (l == NULL) {
        *why = "out of memory";
        return NULL;
    }
    for (int i = 0; i < PQntuples(names); i++) {
        if (changed_row(ch, row_id(names, i)) < 0)
            continue;
        if (screen_list_add(l, row_id(names, i), PQgetvalue(names, i, 1),
                            PQgetisnull(names, i, 2) ? NULL : PQgetvalue(names, i, 2)) != 0) {
            *why = "out of memory indexing the changed entries";
            screen_list_free(l);
            return NULL;
        }
    }
    for (int k = 0; k < ch->n; k++) {
        int i = ch->idx[k];
        screen_facts f;
        refdata_facts_parse(PQgetvalue(ch->rows, i, 2), PQgetvalue(ch->rows, i, 3), &f);
        if ((f.ndob > 0 || f.nnat > 0) && screen_list_facts(l, row_id(ch->rows, i), &f) != 0) {
            *why = "out of memory attaching the entries' facts";
            screen_list_free(l);
            return NULL;
        }
    }
    if (screen_list_build(l) != 0) {
        *why = "out of memory building the index of the changed entries";
        screen_list_free(l);
        return NULL;
    }
    /* Which names are very common is a property of the whole version (a token on 0.4 % of its
     * people's names): the small index takes it from an index of every name, so a subject is
     * judged as the workers judge a submission. */
    screen_list *all = screen_list_new();
    int ok = all != NULL;
    for (int i = 0; ok && i < PQntuples(names); i++)
        ok = screen_list_add(all, row_id(names, i), PQgetvalue(names, i, 1),
                             PQgetisnull(names, i, 2) ? NULL : PQgetvalue(names, i, 2)) == 0;
    ok = ok && screen_list_build(all) == 0 && screen_list_common_from(l, all) == 0;
    screen_list_free(all);
    if (!ok) {
        *why = "out of memory indexing the version";
        screen_list_free(l);
        return NULL;
    }
    return l;
}

/* One subject as read, and the version screened against. */
struct subject {
    const char *app_id, *name, *dob, *country, *scr_list;
    long scr_entry;
};

struct version {
    const char *list_id, *name, *version;
};

/* Rolls back and says why: -2 when trying again may succeed (a deadlock, a serialization
 * failure, or a submission of the same applicant that took the one-pending slot meanwhile), else
 * -1. */
static int subject_fail(arena *a, const char *app_id, const PGresult *r, const char **why)
{
    const char *state = r != NULL ? db_sqlstate(r) : "";
    int again = !strcmp(state, "40P01") || !strcmp(state, "40001") || !strcmp(state, "23505");
    db_rollback();
    *why = arena_printf(a, "application %s: %s", app_id,
                        r == NULL ? "database unavailable" : db_error_brief(a, r));
    return again ? -2 : -1;
}

/*
 * The new matches c[0..n) (best first) of one subject, in one transaction. Returns the number of
 * alerts written (0: nothing new under the locks, rolled back), or -1 with *why.
 */
static int subject_hit(arena *a, const struct version *v, const struct changed *ch,
                       const struct subject *s, const screen_candidate *c, int n, const char **why)
{
    if (db_begin() != 0) {
        *why = "database unavailable";
        return -1;
    }
    const char *pa[1] = {s->app_id};
    PGresult *loan = db_exec(a, SQL(MON_LOCK_LOAN), 1, pa);
    if (!db_ok(loan))
        return subject_fail(a, s->app_id, loan, why);
    PGresult *app = db_exec(a, SQL(MON_LOCK_APP), 1, pa);
    if (!db_ok(app))
        return subject_fail(a, s->app_id, app, why);
    if (PQntuples(app) == 0) {
        db_rollback();
        return 0;
    }
    const char *loan_id = PQntuples(loan) ? PQgetvalue(loan, 0, 0) : NULL;
    const char *state = PQntuples(loan) ? PQgetvalue(loan, 0, 1) : "";
    const char *status = PQgetvalue(app, 0, 0);
    /* What the subject is now, under the locks. */
    int borrower = !strcmp(state, "DISBURSING") || !strcmp(state, "ACTIVE");
    int open = !borrower && strcmp(status, "REJECTED") != 0 && strcmp(state, "CLOSED") != 0;
    if (!borrower && !open) {
        db_rollback();
        return 0;
    }
    const char *matched_list = PQgetvalue(app, 0, 2);
    long matched_entry = atol(PQgetvalue(app, 0, 3));

    struct outbox_match m[MAX_CANDS];
    int best = -1, nm = 0;
    for (int i = 0; i < n && nm < MAX_CANDS; i++) {
        if (!strcmp(matched_list, v->name) && c[i].entry_id == matched_entry)
            continue;
        const char *hash = changed_hash(ch, c[i].entry_id);
        if (hash == NULL)
            continue;
        char entry[24], score[16];
        snprintf(entry, sizeof(entry), "%ld", c[i].entry_id);
        snprintf(score, sizeof(score), "%.4f", c[i].score);
        const char *pi[9] = {v->list_id,
                             entry,
                             hash,
                             s->app_id,
                             loan_id,
                             c[i].matched_name,
                             score,
                             screen_level_name(c[i].level),
                             evidence_text(a, &c[i])};
        PGresult *ins = db_exec(a, SQL(MON_ALERT_INSERT), 9, pi);
        if (!db_ok(ins))
            return subject_fail(a, s->app_id, ins, why);
        if (PQntuples(ins) == 0)
            continue; /* alerted before for this entry's content */
        if (best < 0)
            best = i;
        m[nm].alert_id = atoll(PQgetvalue(ins, 0, 0));
        m[nm].entry_id = c[i].entry_id;
        m[nm].matched_name = c[i].matched_name;
        m[nm].level = screen_level_name(c[i].level);
        m[nm].score = c[i].score;
        nm++;
    }
    if (nm == 0) {
        db_rollback();
        return 0;
    }

    json_object *d = json_object_new_object();
    json_object_object_add(d, "list", json_object_new_string(v->name));
    json_object_object_add(d, "list_version", json_object_new_string(v->version));
    if (loan_id != NULL)
        json_object_object_add(d, "loan_id", json_object_new_string(loan_id));
    json_object *arr = json_object_new_array();
    for (int i = 0; i < nm; i++) {
        json_object *o = json_object_new_object();
        json_object_object_add(o, "alert_id", json_object_new_int64(m[i].alert_id));
        json_object_object_add(o, "entry_id", json_object_new_int64(m[i].entry_id));
        json_object_object_add(o, "matched_name", json_object_new_string(m[i].matched_name));
        json_object_object_add(o, "level", json_object_new_string(m[i].level));
        json_object_object_add(o, "score", js_new_fixed(m[i].score, 4));
        json_object_array_add(arr, o);
    }
    json_object_object_add(d, "alerts", arr);
    const char *details =
        arena_strdup(a, json_object_to_json_string_ext(d, JSON_C_TO_STRING_PLAIN));

    int rc = 0;
    const char *applicant = PQgetvalue(app, 0, 1);
    if (open) {
        const screen_candidate *b = &c[best];
        char entry[24], score[16];
        snprintf(entry, sizeof(entry), "%ld", b->entry_id);
        snprintf(score, sizeof(score), "%.4f", b->score);
        const char *remarks = arena_printf(
            a,
            "Possible sanctions match found by re-screening: \"%s\" (%s version %s entry %ld, "
            "%s, score %.4f)",
            b->matched_name, v->name, v->version, b->entry_id, screen_level_name(b->level),
            b->score);
        /* the evidence on the row is replaced unless what is there is stronger (a block) */
        const char *cur_level = PQgetvalue(app, 0, 4);
        int replace = strcmp(cur_level, "block") != 0 || b->level == SCREEN_BLOCK;
        const char *pu[11] = {s->app_id,
                              remarks,
                              "Waiting for review: sanctions_review",
                              v->name,
                              v->version,
                              entry,
                              b->matched_name,
                              score,
                              screen_level_name(b->level),
                              evidence_text(a, b),
                              replace ? "true" : "false"};
        PGresult *u = db_exec(a, SQL(MON_BACK_TO_REVIEW), 11, pu);
        if (!db_ok(u)) {
            json_object_put(d);
            return subject_fail(a, s->app_id, u, why);
        }
        if (loan_id != NULL) {
            const char *pl1[1] = {loan_id};
            PGresult *lr = db_exec(a, SQL(MON_LOAN_RESET), 1, pl1);
            if (!db_ok(lr)) {
                json_object_put(d);
                return subject_fail(a, s->app_id, lr, why);
            }
        }
        const char *reason = arena_printf(
            a, "re-screening against %s version %s: entry %ld \"%s\" (%s, score %.4f)%s", v->name,
            v->version, b->entry_id, b->matched_name, screen_level_name(b->level), b->score,
            nm > 1 ? arena_printf(a, " and %d more", nm - 1) : "");
        const char *pl[5] = {s->app_id, reason, status, details, "PENDING"};
        PGresult *lg = db_exec(a, SQL(MON_LOG), 5, pl);
        if (!db_ok(lg)) {
            json_object_put(d);
            return subject_fail(a, s->app_id, lg, why);
        }
        rc = lending_offer_withdraw(a, s->app_id);
    } else {
        PGresult *t = db_exec(a, SQL(MON_TOUCH), 1, pa);
        rc = db_ok(t) ? 0 : -1;
        if (rc == 0)
            rc = audit_event(a, NULL, 0, "system", "screening.alert", "loan", loan_id, d);
    }
    json_object_put(d);
    if (rc == 0)
        rc = outbox_screening_alert(a, s->app_id, applicant, loan_id,
                                    open ? OUTBOX_REVIEW : OUTBOX_REPORTED, v->name, v->version, m,
                                    nm);
    if (rc != 0 || db_commit() != 0)
        return subject_fail(a, s->app_id, NULL, why);
    applications_changed(s->app_id);
    log_msg(LOG_INFO, "re-screening %s version %s: application %s%s%s: %d new match%s", v->name,
            v->version, s->app_id, loan_id ? ", loan " : "", loan_id ? loan_id : "", nm,
            nm == 1 ? "" : "es");
    return nm;
}

/* Screens every subject against l, BATCH at a time; 0 or -1 with *why. */
static int screen_subjects(arena *a, const struct version *v, const struct changed *ch,
                           const screen_list *l, const PGresult *done, long *subjects,
                           const char **why)
{
    const struct config *cfg = config_get();
    arena *batch = arena_new(1 << 16), *one = arena_new(1 << 14);
    int rc = 0;
    char last[24] = "0", limit[16];
    snprintf(limit, sizeof(limit), "%d", BATCH);
    if (batch == NULL || one == NULL) {
        *why = "out of memory";
        rc = -1;
    }
    while (rc == 0) {
        arena_reset(batch);
        const char *p[3] = {last, limit, v->version};
        PGresult *r = db_exec(batch, SQL(MON_SUBJECTS), 3, p);
        if (!db_ok(r)) {
            *why = arena_printf(a, "reading the subjects: %s",
                                r == NULL ? "database unavailable" : db_error_brief(a, r));
            rc = -1;
            break;
        }
        int n = PQntuples(r);
        for (int i = 0; i < n && rc == 0; i++) {
            struct subject s = {
                .app_id = PQgetvalue(r, i, 1),
                .name = PQgetvalue(r, i, 2),
                .dob = PQgetvalue(r, i, 3),
                .country = PQgetvalue(r, i, 4),
                .scr_list = PQgetvalue(r, i, 5),
                .scr_entry = atol(PQgetvalue(r, i, 6)),
            };
            screen_query q = {s.dob, s.country, cfg->sanctions_review, cfg->sanctions_block, 1.0};
            screen_candidate c[MAX_CANDS];
            int k = screen_search(l, s.name, &q, c, MAX_CANDS);
            if (k < 0) {
                /* Not screened is never clear: stop, and a rerun screens it. */
                *why = arena_printf(a, "application %s could not be screened (out of memory)",
                                    s.app_id);
                rc = -1;
                break;
            }
            int hits = 0;
            for (int j = 0; j < k; j++) {
                int matched = !strcmp(s.scr_list, v->name) && c[j].entry_id == s.scr_entry;
                if (c[j].level >= SCREEN_REVIEW && !matched &&
                    !alerted(done, ch, s.app_id, c[j].entry_id))
                    c[hits++] = c[j];
            }
            /* a transient failure (deadlock, serialization, a racing submission) is tried
             * again, up to three times, before the run stops */
            for (int attempt = 0; hits > 0 && attempt < 3; attempt++) {
                arena_reset(one);
                int hr = subject_hit(one, v, ch, &s, c, hits, why);
                if (hr >= 0)
                    break;
                if (hr == -1 || attempt == 2) {
                    *why = arena_strdup(a, *why);
                    rc = -1;
                }
            }
        }
        *subjects += n;
        if (n < BATCH || rc != 0)
            break;
        snprintf(last, sizeof(last), "%s", PQgetvalue(r, n - 1, 0));
    }
    arena_free(one);
    arena_free(batch);
    return rc;
}

static long ms_since(const struct timespec *t0)
{
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (t1.tv_sec - t0->tv_sec) * 1000L + (t1.tv_nsec - t0->tv_nsec) / 1000000L;
}

int monitoring_rescreen(arena *a, const char *list_id, struct monitoring_figures *out,
                        const char **why)
{
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    memset(out, 0, sizeof(*out));
    const char *p1[1] = {list_id};
    PGresult *vr = db_exec(a, SQL(MON_VERSION), 1, p1);
    if (!db_ok(vr) || PQntuples(vr) != 1) {
        *why = db_ok(vr) ? "no such list version" : "reading the list version failed";
        return -1;
    }
    struct version v = {list_id, PQgetvalue(vr, 0, 0), PQgetvalue(vr, 0, 1)};
    const char *p2[1] = {PQgetisnull(vr, 0, 2) ? NULL : PQgetvalue(vr, 0, 2)};
    PGresult *ents = db_exec(a, SQL(MON_ENTRIES), 1, p1);
    PGresult *prev = p2[0] && db_ok(ents) ? db_exec(a, SQL(MON_PREVIOUS), 1, p2) : ents;
    struct changed ch;
    if (!db_ok(ents) || !db_ok(prev) || diff_entries(a, ents, p2[0] ? prev : NULL, &ch) != 0) {
        *why = "reading the entries of the two versions failed";
        return -1;
    }
    out->entries = ch.n;
    /* A version that changes nothing re-screens nobody. */
    if (ch.n > 0) {
        /* The changed entry ids as an array literal, for the alerts already raised. */
        char *ids = arena_alloc(a, (size_t)ch.n * 21 + 3);
        if (ids == NULL) {
            *why = "out of memory";
            return -1;
        }
        size_t k = 0;
        ids[k++] = '{';
        for (int i = 0; i < ch.n; i++)
            k += (size_t)sprintf(ids + k, "%s%s", i ? "," : "", PQgetvalue(ents, ch.idx[i], 0));
        ids[k++] = '}';
        ids[k] = '\0';
        const char *pa[1] = {ids};
        PGresult *names = db_exec(a, SQL(MON_NAMES), 1, p1);
        PGresult *done = db_ok(names) ? db_exec(a, SQL(MON_ALERTED), 1, pa) : names;
        if (!db_ok(done)) {
            *why = "reading the changed entries' names and alerts failed";
            return -1;
        }
        screen_list *l = changed_list(&ch, names, why);
        if (l == NULL)
            return -1;
        int rc = screen_subjects(a, &v, &ch, l, done, &out->subjects, why);
        screen_list_free(l);
        if (rc != 0)
            return -1;
    }
    out->ms = ms_since(&t0);
    char e[24], s[24], ms[24];
    snprintf(e, sizeof(e), "%ld", out->entries);
    snprintf(s, sizeof(s), "%ld", out->subjects);
    snprintf(ms, sizeof(ms), "%ld", out->ms);
    const char *pr[4] = {list_id, e, s, ms};
    PGresult *rec = db_exec(a, SQL(MON_RECORD), 4, pr);
    if (!db_ok(rec) || PQntuples(rec) != 1) {
        *why = "recording the figures failed";
        return -1;
    }
    out->hits = atol(PQgetvalue(rec, 0, 0));
    return 0;
}

int monitoring_rescreen_pending(arena *a, const char *list_id)
{
    const char *p[1] = {list_id};
    PGresult *r = db_exec(a, SQL(MON_PENDING), 1, p);
    if (!db_ok(r))
        return -1;
    return PQntuples(r) == 1 && PQgetvalue(r, 0, 0)[0] == 't';
}

/* ---- the officers' alerts ---------------------------------------------------------------- */

static void fail(arena *a, struct monitoring_outcome *out, const PGresult *r)
{
    out->code = r == NULL ? MONITORING_DB_DOWN : MONITORING_FAULT;
    out->detail = db_error_brief(a, r);
}

void monitoring_alerts_list(arena *a, int all, const char *limit, const char *offset,
                            struct monitoring_outcome *out)
{
    memset(out, 0, sizeof(*out));
    const char *p[3] = {all ? "true" : "false", limit, offset};
    PGresult *r = db_exec(a, SQL(MON_LIST), 3, p);
    if (!db_ok(r))
        return fail(a, out, r);
    out->json = arena_printf(a, "{\"alerts\":%s,\"limit\":%d,\"offset\":%d}", PQgetvalue(r, 0, 0),
                             atoi(limit), atoi(offset));
    out->code = MONITORING_OK;
}

void monitoring_alert_resolve(arena *a, long long actor_id, const char *actor_email,
                              const char *alert_id, const char *reason,
                              const struct audit_client *client, struct monitoring_outcome *out)
{
    memset(out, 0, sizeof(*out));
    if (db_begin() != 0) {
        out->code = MONITORING_DB_DOWN;
        return;
    }
    const char *p[1] = {alert_id};
    PGresult *r = db_exec(a, SQL(MON_ALERT_LOCK), 1, p);
    if (!db_ok(r)) {
        db_rollback();
        return fail(a, out, r);
    }
    if (PQntuples(r) == 0 || PQgetvalue(r, 0, 3)[0] == 't') {
        db_rollback();
        out->code = PQntuples(r) == 0 ? MONITORING_NOT_FOUND : MONITORING_ALREADY_RESOLVED;
        return;
    }
    /* no one clears a finding about their own application (the submitting account) */
    if (atoll(PQgetvalue(r, 0, 4)) == actor_id) {
        db_rollback();
        out->code = MONITORING_OWN;
        return;
    }
    const char *app_id = PQgetvalue(r, 0, 0);
    char actor[24];
    snprintf(actor, sizeof(actor), "%lld", actor_id);
    const char *pu[2] = {alert_id, actor};
    PGresult *u = db_exec(a, SQL(MON_ALERT_RESOLVE), 2, pu);
    const char *pt[1] = {app_id};
    PGresult *t = db_ok(u) ? db_exec(a, SQL(MON_TOUCH), 1, pt) : u;
    PGresult *g = db_ok(t) ? db_exec(a, SQL(MON_ALERT_GET), 1, p) : t;
    if (!db_ok(g) || PQntuples(g) != 1) {
        db_rollback();
        return fail(a, out, g);
    }
    json_object *d = json_object_new_object();
    json_object_object_add(d, "reason", json_object_new_string(reason));
    json_object_object_add(d, "application_id", json_object_new_string(app_id));
    json_object_object_add(d, "entry_id", json_object_new_int64(atoll(PQgetvalue(r, 0, 1))));
    if (!PQgetisnull(r, 0, 2))
        json_object_object_add(d, "loan_id", json_object_new_string(PQgetvalue(r, 0, 2)));
    int ar = audit_event(a, client, actor_id, actor_email, "screening.alert_resolved",
                         "screening_alert", alert_id, d);
    json_object_put(d);
    if (ar != 0 || db_commit() != 0) {
        db_rollback();
        out->code = MONITORING_DB_DOWN;
        return;
    }
    applications_changed(app_id);
    out->json = arena_printf(a, "{\"alert\":%s}", PQgetvalue(g, 0, 0));
    out->code = MONITORING_OK;
}
