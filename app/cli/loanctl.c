/*
 * loanctl: the operator's command line. It talks to PostgreSQL directly (DATABASE_URL, or the
 * stack.env file that `make run`/`make start` writes under var/), so it works while the service
 * runs and needs no HTTP credentials. Secrets are read from standard input, never from argv.
 *
 * Every command is one row of the table below, like the routes of routes/routes.c: group,
 * subcommand, handler, arguments and one line of help. main() only finds the row and calls its
 * handler with the arguments after the subcommand; the help at every level (`loanctl --help`,
 * `loanctl GROUP --help`, `loanctl GROUP CMD --help`, exit 0) and the usage printed for an
 * unknown or missing command (exit 2) are generated from the same rows, so a command cannot be
 * added without its help. The handlers live in one file per group (migrate.c, user.c,
 * sanctions.c, market.c, seed.c, notifier.c, pii.c, schedule.c, lending.c, gateway_sandbox.c) on
 * the helpers of cli.c.
 */
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const struct cli_command commands[] = {
    {"migrate", NULL, cmd_migrate, "",
     "apply pending sql/ migrations as MIGRATE_DATABASE_URL; grant DATABASE_URL's role"},
    {"user", "add", cmd_user_add, "--email E --name N --role R",
     "create a user; password on stdin"},
    {"user", "list", cmd_user_list, "", "list users"},
    {"user", "passwd", cmd_user_passwd, "--email E",
     "set a user's password from stdin; cuts their tokens"},
    {"user", "ensure-admin", cmd_user_ensure_admin, "",
     "create ADMIN_EMAIL if absent (production: password on stdin)"},
    {"sanctions", "load", cmd_sanctions_load, "FILE[.gz] [--alt ALT] [--name N] [--date D]",
     "load an OFAC SDN-format list and make it active"},
    {"sanctions", "ensure", cmd_sanctions_ensure,
     "FILE[.gz] [--alt ALT] [--name N] [--date D] [--beside]",
     "load FILE only if no list is active or it is newer"},
    {"sanctions", "list", cmd_sanctions_list, "", "list loaded sanctions lists"},
    {"market", "load", cmd_market_load, "FILE.csv [--allow-empty]",
     "replace the market data (GET /data)"},
    {"market", "list", cmd_market_list, "", "show the market data and last load"},
    {"seed", NULL, cmd_seed, "--count N [--seed S]", "sample applications via the pipeline"},
    {"notifier", NULL, cmd_notifier, "[--once]", "deliver queued notifications"},
    {"gateway-sandbox", NULL, cmd_gateway_sandbox, "[--port P] [--journal FILE]",
     "serve the RazorpayX payout sandbox on 127.0.0.1 (GATEWAY_PORT)"},
    {"pii", "rotate-key", cmd_pii_rotate_key, "[--batch N]",
     "re-seal PII_KEY_PREVIOUS rows under PII_KEY"},
    {"pii", "status", cmd_pii_status, "", "rows per PII key"},
    {"otp", "last", cmd_otp_last, "--phone NUMBER",
     "the last one-time code sent to a phone (development and test only)"},
    {"agreement", "verify", cmd_agreement_verify, "FILE [--keys KEYS.json | --key HEX]",
     "verify a downloaded agreement's hash and Ed25519 signature offline"},
    {"cob", NULL, cmd_cob, "[--date YYYY-MM-DD | --from YYYY-MM-DD | --daily HH:MM]",
     "the day-end: penal charges, days past due, SMA/NPA, reminders"},
    {"schedule", NULL, cmd_schedule,
     "--principal P --rate PCT --months N [--method emi|flat|equal_principal] "
     "[--rounding half_even|ceil_unit|multiple:M] [--grace-principal N] [--first-due YYYY-MM-DD] "
     "[--disbursed YYYY-MM-DD] [--daycount 30/360|actual/365] [--json]",
     "print a repayment schedule (no database)"},
    {"apr", NULL, cmd_apr,
     "--principal P --rate PCT --months N --fee F [--fee-tax PCT] [schedule's options]",
     "the APR on the net disbursed amount, as the KFS states it (no database)"},
};
#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static void print_row(FILE *f, const struct cli_command *c)
{
    char synopsis[320];
    snprintf(synopsis, sizeof(synopsis), "%s%s%s%s%s", c->group, c->name ? " " : "",
             c->name ? c->name : "", c->args[0] ? " " : "", c->args);
    if (strlen(synopsis) > 41)
        fprintf(f, "  %s\n  %-41s %s\n", synopsis, "", c->help);
    else
        fprintf(f, "  %-41s %s\n", synopsis, c->help);
}

/* The commands of group (every command when group is NULL). */
static void print_usage(FILE *f, const char *group)
{
    fprintf(f, "usage: loanctl %s%s<command>\n", group ? group : "", group ? " " : "");
    if (group)
        fprintf(f, "       (loanctl --help lists every command)\n");
    for (size_t i = 0; i < NCOMMANDS; i++)
        if (group == NULL || !strcmp(commands[i].group, group))
            print_row(f, &commands[i]);
    fprintf(f, "Connection: DATABASE_URL, else the stack.env of a running local stack "
               "(var/stack.env or $LOANFLOW_STACK_ENV).\n");
}

static int is_help(const char *a)
{
    return !strcmp(a, "--help") || !strcmp(a, "-h") || !strcmp(a, "help");
}

static int usage(const char *group)
{
    print_usage(stderr, group);
    return 2;
}

int main(int argc, char **argv)
{
    /* A server that goes away (Redis restarted) must be an error to handle, not a SIGPIPE. */
    signal(SIGPIPE, SIG_IGN);
    if (argc < 2)
        return usage(NULL);
    if (is_help(argv[1])) {
        print_usage(stdout, NULL);
        return 0;
    }
    const char *group = argv[1];
    const struct cli_command *found = NULL;
    int group_known = 0;
    for (size_t i = 0; i < NCOMMANDS && found == NULL; i++) {
        if (strcmp(commands[i].group, group) != 0)
            continue;
        group_known = 1;
        if (commands[i].name == NULL || (argc > 2 && !strcmp(commands[i].name, argv[2])))
            found = &commands[i];
    }
    if (!group_known)
        return usage(NULL);
    if (found == NULL) {
        if (argc > 2 && is_help(argv[2])) {
            print_usage(stdout, group);
            return 0;
        }
        return usage(group);
    }
    int skip = found->name ? 3 : 2;
    if (cli_flag(argc - skip, argv + skip, "--help") || (argc > skip && is_help(argv[skip]))) {
        printf("usage: loanctl %s%s%s %s\n  %s\n", found->group, found->name ? " " : "",
               found->name ? found->name : "", found->args, found->help);
        return 0;
    }
    if (sodium_init() < 0) {
        fprintf(stderr, "loanctl: libsodium could not be initialised\n");
        return 1;
    }
    return found->run(argc - skip, argv + skip);
}
