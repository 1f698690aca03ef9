/*
 * Shared helpers of the loanctl commands; the commands that belong to a domain (seed, sanctions,
 * market data, PII keys) live beside it and are dispatched by loanctl_extra().
 */
#ifndef LOANFLOW_LOANCTL_H
#define LOANFLOW_LOANCTL_H

#include <libpq-fe.h>
#include <stddef.h>

/* Connects with DATABASE_URL or the local stack's stack.env; NULL after printing why. */
PGconn *loanctl_connect(void);
/* 1 when res succeeded; otherwise prints what failed and returns 0. */
int loanctl_ok(PGconn *c, PGresult *res, const char *what);
/* Whole file, NUL-terminated, caller frees; NULL on error. */
char *loanctl_read_file(const char *path, size_t *len);

/* Runs a domain command (argv[0] is its name); -1 when the name is unknown. */
int loanctl_extra(int argc, char **argv);
const char *loanctl_extra_usage(void);

#endif
