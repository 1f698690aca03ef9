/*
 * A worker process: one FastCGI request at a time, from FCGX_Accept_r to FCGX_Finish_r, with the
 * shared checks (route, method, body size, content type, authentication and role) run before the
 * handler and one log line after it.
 */
#ifndef LOANFLOW_WORKER_H
#define LOANFLOW_WORKER_H

#include "db.h"
#include "router.h"

/* Serves requests on listen_fd until SIGTERM, finishing the request in hand. Returns the process
 * exit code. table and statements are borrowed for the life of the process. */
int worker_run(int listen_fd, const struct route *table, const struct db_stmts *const *statements);

#endif
