/*
 * Audit rows take the client address and user agent the handler read from the request (nginx
 * passes the peer address; the user agent is truncated to 256 bytes so a hostile header cannot
 * bloat the table). The store never sees the request itself.
 */
#include "audit.h"

#include <stdio.h>
#include <string.h>

enum { AUDIT_INSERT, AUDIT_SQL_COUNT };

/* clang-format off */
static const struct db_stmt sql[AUDIT_SQL_COUNT] = {
    [AUDIT_INSERT] = {"audit_insert",
     "INSERT INTO audit_events (actor_id, actor_email, action, target_type, target_id, "
     "client_addr, user_agent, details) VALUES ($1::bigint, $2, $3, $4, $5, $6, left($7, 256), "
     "coalesce($8::jsonb, '{}'))"},
};
/* clang-format on */
const struct db_stmts audit_statements = DB_STMTS("audit", sql);
#define SQL(id) (&sql[id])

int audit_event(arena *a, const struct audit_client *client, long long actor_id,
                const char *actor_email, const char *action, const char *target_type,
                const char *target_id, json_object *details)
{
    char actor[24];
    snprintf(actor, sizeof(actor), "%lld", actor_id);
    const char *p[8] = {
        actor_id > 0 ? actor : NULL,
        actor_email,
        action,
        target_type,
        target_id,
        client ? client->addr : NULL,
        client ? client->user_agent : NULL,
        details ? json_object_to_json_string_ext(details, JSON_C_TO_STRING_PLAIN) : NULL,
    };
    PGresult *res = db_exec(a, SQL(AUDIT_INSERT), 8, p);
    return db_ok(res) ? 0 : -1;
}
