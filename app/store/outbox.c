/*
 * The notification outbox. A decision queues its messages in the same transaction that
 * records it (an email to the applicant when the decision becomes final, an alert to
 * compliance when something waits for review or compliance rejected), and `loanctl notifier`
 * delivers them: it claims a batch with SKIP LOCKED, hands each to the sink, and marks it sent
 * in one statement that also sets the application's email_sent/alert_sent, so a message is
 * delivered once even when the notifier is killed mid-batch. The messages' wording is here: the
 * applicant's email says the decision in neutral words, the stage remarks and findings go only
 * into the alert to compliance.
 */
#include "outbox.h"

#include <string.h>

#include "config.h"

enum { OUTBOX_QUEUE, OUTBOX_CLAIM, OUTBOX_MARK, OUTBOX_SQL_COUNT };

/* clang-format off */
static const struct db_stmt sql[OUTBOX_SQL_COUNT] = {
    [OUTBOX_QUEUE] = {"outbox_queue",
     "INSERT INTO notifications (application_id, kind, recipient, subject, body) "
     "VALUES ($1, $2, $3, $4, $5)"},
    [OUTBOX_CLAIM] = {"outbox_claim",
     "SELECT id, application_id, kind, recipient, subject, body, coalesce(encode(sealed, 'hex'), '') "
     "FROM notifications "
     "WHERE sent_at IS NULL ORDER BY id LIMIT 50 FOR UPDATE SKIP LOCKED"},
    [OUTBOX_MARK] = {"outbox_mark",
     "WITH n AS (UPDATE notifications SET sent_at = now(), attempts = attempts + 1 "
     "WHERE id = $1::bigint RETURNING application_id) "
     "UPDATE loan_applications SET email_sent = email_sent OR $2 = 'email', "
     "alert_sent = alert_sent OR $2 = 'alert' WHERE application_id = (SELECT application_id FROM n)"},
};
/* clang-format on */
const struct db_stmts outbox_statements = DB_STMTS("outbox", sql);
#define SQL(id) (&sql[id])

int outbox_decision(arena *a, const char *app_id, const struct loan_input *in,
                    const struct loan_result *res, const char *before)
{
    const struct config *cfg = config_get();
    enum loan_status fin = res->final.status;
    int final_now = fin != LOAN_PENDING && (before == NULL || strcmp(before, "PENDING") == 0 ||
                                            strcmp(before, loan_status_name(fin)) != 0);
    if (final_now) {
        const char *subject = arena_printf(a, "Your loan application %s was %s", app_id,
                                           fin == LOAN_APPROVED ? "approved" : "not approved");
        /* The applicant is told the decision, never the findings behind it (no tipping-off):
         * the remarks go to officers only. */
        const char *body = arena_printf(a, "Dear %s,\n\nyour application %s has been %s.\n%s\n",
                                        in->name, app_id, loan_status_name(fin),
                                        fin == LOAN_APPROVED
                                            ? "Your loan application is approved."
                                            : "We cannot offer a loan. You may apply again later.");
        const char *p[5] = {app_id, "email", in->email, subject, body};
        if (!db_ok(db_exec(a, SQL(OUTBOX_QUEUE), 5, p)))
            return -1;
    }
    if (res->flags != 0 || res->compliance.status == LOAN_REJECTED) {
        const char *subject = arena_printf(
            a, "%s: %s", app_id,
            res->compliance.status == LOAN_REJECTED ? "compliance rejection" : "review required");
        const char *body = arena_printf(a, "Application %s (%s)\nCompliance: %s — %s\nFinal: %s\n",
                                        app_id, in->name, loan_status_name(res->compliance.status),
                                        res->compliance.remarks, res->final.remarks);
        const char *p[5] = {app_id, "alert", cfg->compliance_email, subject, body};
        if (!db_ok(db_exec(a, SQL(OUTBOX_QUEUE), 5, p)))
            return -1;
    }
    return 0;
}

int outbox_screening_alert(arena *a, const char *app_id, const char *name, const char *loan_id,
                           enum outbox_rescreen what, const char *list, const char *version,
                           const struct outbox_match *m, int n)
{
    const char *subject = arena_printf(a, "%s: sanctions re-screening match", app_id);
    const char *body = arena_printf(
        a, "Application %s (%s)%s%s\nRe-screening against %s version %s found %d new match%s:\n",
        app_id, name, loan_id ? ", loan " : "", loan_id ? loan_id : "", list, version, n,
        n == 1 ? "" : "es");
    for (int i = 0; i < n; i++)
        body =
            arena_printf(a, "%s  alert %lld: entry %ld \"%s\" (%s, score %.4f)\n", body,
                         m[i].alert_id, m[i].entry_id, m[i].matched_name, m[i].level, m[i].score);
    const char *what_now =
        what == OUTBOX_REVIEW
            ? "The application is back in the review queue (sanctions_review); an open offer is "
              "withdrawn, and a loan is not disbursed until it is approved again."
            : "The loan is active or being disbursed and was left as it is: review the "
              "borrower and resolve the alert (GET /screening/alerts).";
    body = arena_printf(a, "%s%s\n", body, what_now);
    const char *p[5] = {app_id, "alert", config_get()->compliance_email, subject, body};
    return db_ok(db_exec(a, SQL(OUTBOX_QUEUE), 5, p)) ? 0 : -1;
}

PGresult *outbox_claim(arena *a)
{
    PGresult *res = db_exec(a, SQL(OUTBOX_CLAIM), 0, NULL);
    return db_ok(res) ? res : NULL;
}

int outbox_mark_sent(arena *a, const char *id, const char *kind)
{
    const char *p[2] = {id, kind};
    return db_ok(db_exec(a, SQL(OUTBOX_MARK), 2, p)) ? 0 : -1;
}
