/*
 * What every loanctl command shares: the command table's row type, option parsing, reading the
 * local stack's environment and the configuration, connecting, and reading input files.
 *
 * A command is a row of the table in loanctl.c (group, subcommand, handler, arguments, one line
 * of help); its handler gets the arguments after the subcommand and returns the exit status
 * (0 done, 1 failed, 2 usage). Commands reach PostgreSQL through the db_* layer with the store's
 * statement tables plus loanctl's own (cli_statements), the same prepared statements the
 * workers run; only `migrate`, which runs before the tables exist, keeps a raw libpq connection.
 */
#ifndef LOANFLOW_CLI_H
#define LOANFLOW_CLI_H

#include <libpq-fe.h>
#include <stddef.h>

#include "db.h"

struct cli_command {
    const char *group; /* "user" */
    const char *name;  /* "add"; NULL when the group is itself the command (seed, notifier) */
    int (*run)(int argc, char **argv);
    const char *args; /* the arguments, for the help ("--email E --name N --role R") */
    const char *help; /* one line */
};

/* The value after option name in argv ("--count 5" -> "5"); NULL when absent. */
const char *cli_opt(int argc, char **argv, const char *name);
/* 1 when flag appears in argv. */
int cli_flag(int argc, char **argv, const char *flag);

/* Reads KEY=VALUE lines of the local stack's stack.env ($LOANFLOW_STACK_ENV, else
 * var/stack.env) into the environment without overriding what is set. */
void cli_load_stack_env(void);

/* Loads the stack's environment and the configuration (config_get() afterwards). loanctl issues
 * no tokens and writes no request log: it supplies a JWT_SECRET when none is set and empties
 * LOG_FILE. 0, or -1 after printing the variable at fault. Idempotent. */
int cli_config(void);

/* A raw libpq connection to DATABASE_URL (after cli_config); NULL after printing why. */
PGconn *cli_connect_raw(void);
/* 1 when res succeeded; otherwise prints what failed and returns 0. */
int cli_raw_ok(PGconn *c, PGresult *res, const char *what);

/* Connects the db_* layer (statements prepared), Redis and the epoch file, so changes made here
 * reach the running workers' caches. 0, or -1 after printing why. */
int cli_connect(void);
/* Closes what cli_connect opened. */
void cli_disconnect(void);
/* Prints "loanctl: WHAT failed: <the server's message>" for a result that is not db_ok. */
void cli_db_error(const PGresult *res, const char *what);

/* A whole file, NUL-terminated, caller frees; a gzip file (.gz) is decompressed. NULL after
 * printing why. */
char *cli_read_file(const char *path, size_t *len);

/* loanctl's own statement tables (user.c, sanctions.c), registered by cli_connect. */
extern const struct db_stmts user_cli_statements;
extern const struct db_stmts sanctions_cli_statements;

/* The commands, one file per group. */
int cmd_migrate(int argc, char **argv);
int cmd_user_add(int argc, char **argv);
int cmd_user_list(int argc, char **argv);
int cmd_user_passwd(int argc, char **argv);
int cmd_user_ensure_admin(int argc, char **argv);
int cmd_sanctions_load(int argc, char **argv);
int cmd_sanctions_ensure(int argc, char **argv);
int cmd_sanctions_list(int argc, char **argv);
int cmd_market_load(int argc, char **argv);
int cmd_market_list(int argc, char **argv);
int cmd_seed(int argc, char **argv);
int cmd_notifier(int argc, char **argv);
int cmd_gateway_sandbox(int argc, char **argv);
int cmd_pii_rotate_key(int argc, char **argv);
int cmd_pii_status(int argc, char **argv);
int cmd_otp_last(int argc, char **argv);
int cmd_agreement_verify(int argc, char **argv);
int cmd_schedule(int argc, char **argv);
int cmd_cob(int argc, char **argv);
int cmd_apr(int argc, char **argv);

#endif
