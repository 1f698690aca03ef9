/*
 * Ongoing sanctions monitoring (docs/screening.md, "Ongoing monitoring"): the re-screening that
 * `loanctl sanctions load` runs when it activates a new version of a list, and the officers'
 * screening alerts (GET /screening/alerts, POST /screening/alerts/{id}/resolve). Each use case
 * owns its transactions; nothing here knows HTTP or prints.
 */
#ifndef LOANFLOW_MONITORING_H
#define LOANFLOW_MONITORING_H

#include "arena.h"
#include "audit.h"
#include "db.h"

extern const struct db_stmts monitoring_statements;

/* What a re-screening did: entries added or changed, subjects screened, matches the version
 * raised (screening_alerts rows), and the milliseconds it took. */
struct monitoring_figures {
    long entries, subjects, hits, ms;
};

/*
 * Re-screens against the version list_id (committed and active) the entries it added or changed
 * since the version of the same name before it (every entry for a first version): every open
 * application (not rejected, no loan disbursing, active or closed) and every active loan's
 * application, read in batches. Each subject with new matches (level review or block, on an
 * entry it is not already matched to, with no alert for that entry's content yet) is one
 * transaction: the alerts, and for an open application its return to review (PENDING,
 * sanctions_review, the new match's evidence, an open offer withdrawn, a screening_hit log
 * entry), for an active loan an audit event; an alert to compliance in both cases. The figures
 * are recorded on the version's row last (rescreened_at), so a run cut short leaves the version
 * unmarked and running it again finishes it: subjects already alerted are skipped. 0, or -1 with
 * *why (arena) when it could not finish.
 */
int monitoring_rescreen(arena *a, const char *list_id, struct monitoring_figures *out,
                        const char **why);

/* 1 when version list_id has entries and its re-screening has not finished (a load interrupted
 * after its commit), 0 when not, -1 when the database failed. */
int monitoring_rescreen_pending(arena *a, const char *list_id);

enum monitoring_code {
    MONITORING_OK,
    MONITORING_DB_DOWN,
    MONITORING_FAULT,            /* detail says what (logged, never shown) */
    MONITORING_NOT_FOUND,        /* no such alert */
    MONITORING_ALREADY_RESOLVED, /* resolve: the alert was resolved before */
    MONITORING_OWN,              /* resolve: the officer submitted the application */
};

struct monitoring_outcome {
    enum monitoring_code code;
    const char *json;   /* OK: the answer's JSON text (arena) */
    const char *detail; /* FAULT */
};

/* GET /screening/alerts: {"alerts": [...], "limit", "offset"}, oldest first; the open ones, or
 * every one when all is set. */
void monitoring_alerts_list(arena *a, int all, const char *limit, const char *offset,
                            struct monitoring_outcome *out);

/* Resolves alert_id (decimal text) by the officer actor_id, with reason (1..500 characters, the
 * caller checked it): resolved_by, resolved_at and an audit event carrying the reason, in one
 * transaction. OK with {"alert": {...}}; NOT_FOUND; ALREADY_RESOLVED. */
void monitoring_alert_resolve(arena *a, long long actor_id, const char *actor_email,
                              const char *alert_id, const char *reason,
                              const struct audit_client *client, struct monitoring_outcome *out);

#endif
