/*
 * The audit trail of account and officer actions: one INSERT into the append-only audit_events
 * table, run on the worker's connection so that it joins the caller's transaction when there is
 * one. Details are a json-c object; never put a password, token or identity number in them.
 */
#ifndef LOANFLOW_AUDIT_H
#define LOANFLOW_AUDIT_H

#include <json-c/json.h>

#include "arena.h"
#include "db.h"

extern const struct db_stmts audit_statements;

/* Where an action came from, as the handler saw the request: the client address nginx passed
 * and the User-Agent header (either may be NULL). Borrowed. */
struct audit_client {
    const char *addr;
    const char *user_agent;
};

/* Records action by actor_id (0 = anonymous, then actor_email names who was claimed) on a
 * target, from client. details is borrowed (may be NULL); the result lives in a. Returns 0, or
 * -1 when the INSERT failed. */
int audit_event(arena *a, const struct audit_client *client, long long actor_id,
                const char *actor_email, const char *action, const char *target_type,
                const char *target_id, json_object *details) __attribute__((warn_unused_result));

#endif
