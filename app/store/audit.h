/*
 * The audit trail of account and officer actions: one INSERT into the append-only audit_events
 * table, run on the worker's connection so that it joins the caller's transaction when there is
 * one. Details are a json-c object; never put a password, token or identity number in them.
 */
#ifndef LOANFLOW_AUDIT_H
#define LOANFLOW_AUDIT_H

#include "db.h"
#include "http.h"

extern const struct db_stmts audit_statements;

/* Records action by actor_id (0 = anonymous, then actor_email names who was claimed) on a
 * target. details is borrowed (may be NULL). Returns 0, or -1 when the INSERT failed. */
int audit_event(http_req *r, long long actor_id, const char *actor_email, const char *action,
                const char *target_type, const char *target_id, json_object *details)
    __attribute__((warn_unused_result));

#endif
