/*
 * The officers' screening alerts (docs/screening.md, "Ongoing monitoring"): the list of what
 * re-screening against a new sanctions list version found, and resolving an alert with the
 * reason, which the audit trail keeps. Each handler reads its input (every field named in an
 * error), calls one use case of app/store/monitoring.h and maps the outcome.
 */
#include "routes.h"

#include <string.h>

#include "js.h"
#include "lending.h"
#include "monitoring.h"

static int reply(http_req *r, const struct monitoring_outcome *out)
{
    switch (out->code) {
    case MONITORING_OK:
        http_add_header(r, "Cache-Control", "no-store");
        return http_send(r, 200, "application/json", out->json, strlen(out->json));
    case MONITORING_DB_DOWN:
        return routes_db_error(r, NULL);
    case MONITORING_FAULT:
        return http_fault(r, "screening alerts: %s", out->detail ? out->detail : "fault");
    case MONITORING_NOT_FOUND:
        return http_error(r, 404, "not_found", "No such screening alert");
    case MONITORING_ALREADY_RESOLVED:
        return http_error(r, 409, "already_resolved", "The screening alert is already resolved");
    case MONITORING_OWN:
        return http_error(r, 403, "segregation_of_duties",
                          "An alert on an application you submitted is resolved by another "
                          "officer");
    }
    return http_fault(r, "unknown monitoring outcome %d", (int)out->code);
}

int handle_screening_alerts_list(http_req *r)
{
    if (routes_query_encoded(r) != 0)
        return r->status;
    const char *state = http_query(r, "state");
    if (state != NULL && strcmp(state, "open") != 0 && strcmp(state, "all") != 0)
        return routes_query_invalid(r, "state", "state must be open or all");
    char limit[16], offset[16];
    if (routes_paging(r, 100, 1000, limit, offset) != 0)
        return r->status;
    struct monitoring_outcome out;
    monitoring_alerts_list(r->pool, state != NULL && !strcmp(state, "all"), limit, offset, &out);
    return reply(r, &out);
}

/* An alert id is a positive decimal number that fits a bigint; anything else names no alert. */
static int alert_id_valid(const char *id)
{
    size_t n = id ? strlen(id) : 0;
    if (n == 0 || n > 18 || id[0] == '0')
        return 0;
    for (size_t i = 0; i < n; i++)
        if (id[i] < '0' || id[i] > '9')
            return 0;
    return 1;
}

int handle_screening_alert_resolve(http_req *r)
{
    if (r->json == NULL || !json_object_is_type(r->json, json_type_object))
        return http_error(r, 400, "validation_failed", "The body must be a JSON object");
    json_object *fields = json_object_new_object();
    const char *reason = NULL;
    int rr = js_string(r->json, "reason", 4 * 500, &reason, fields);
    json_object_put(fields);
    size_t chars = 0; /* UTF-8 characters: the bytes that do not continue one */
    for (const char *p = rr == 1 ? reason : ""; *p; p++)
        chars += ((unsigned char)*p & 0xC0) != 0x80;
    if (rr != 1 || chars == 0 || chars > 500)
        return lending_field_error(r, 400, "validation_failed",
                                   "reason is required: why the alert is resolved (1 to 500 "
                                   "characters)",
                                   "reason");
    const char *id = http_route_param(r, 0);
    struct monitoring_outcome out = {.code = MONITORING_NOT_FOUND};
    if (alert_id_valid(id)) {
        struct audit_client c = lending_client_of(r);
        monitoring_alert_resolve(r->pool, r->user.id, r->user.email, id, reason, &c, &out);
    }
    return reply(r, &out);
}
