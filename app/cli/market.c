/*
 * loanctl market: the market reference data behind GET /data and loan pricing's base rates.
 * `load` checks the whole file first with the store's pure parser (market_parse_csv), printing
 * every problem as FILE:LINE: field: message, so a bad file changes nothing; a good one replaces
 * the table in one transaction (market_replace), is recorded in market_loads with its SHA-256
 * and the operator's login, and bumps the cache version so workers serve it at once. `list`
 * prints the rows and the last load. Both run on the store's statements (app/store/market.h).
 */
#include <pwd.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "arena.h"
#include "cli.h"
#include "market.h"

static void market_problem(int line, const char *field, const char *message, void *ud)
{
    fprintf(stderr, "%s:%d: %s: %s\n", (const char *)ud, line, field, message);
}

/* Validates the whole file first (every problem printed as FILE:LINE: field: message), so a bad
 * file changes nothing; then replaces the table in one transaction and tells the workers. */
int cmd_market_load(int argc, char **argv)
{
    const char *file = NULL;
    int allow_empty = 0;
    for (int i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "--allow-empty")) {
            allow_empty = 1;
        } else if (argv[i][0] == '-' || file != NULL) {
            fprintf(stderr, "loanctl: market load FILE.csv [--allow-empty]: unexpected %s\n",
                    argv[i]);
            return 2;
        } else {
            file = argv[i];
        }
    }
    if (file == NULL) {
        fprintf(stderr, "loanctl: market load needs a FILE.csv\n");
        return 2;
    }
    size_t len = 0;
    char *buf = cli_read_file(file, &len);
    if (buf == NULL)
        return 1;
    struct market_set set = {0};
    int problems = market_parse_csv(buf, len, &set, market_problem, (void *)file);
    if (problems == 0 && set.n == 0 && !allow_empty) {
        market_problem(2, "row",
                       "no data rows (--allow-empty loads the file and empties the "
                       "table)",
                       (void *)file);
        problems = 1;
    }
    if (problems != 0) {
        if (problems < 0)
            fprintf(stderr, "loanctl: out of memory reading %s\n", file);
        else
            fprintf(stderr, "loanctl: %s: %d problem(s); nothing loaded\n", file, problems);
        market_set_free(&set);
        free(buf);
        return 1;
    }
    unsigned char h[crypto_hash_sha256_BYTES];
    char hex[2 * sizeof(h) + 1];
    crypto_hash_sha256(h, (const unsigned char *)buf, len);
    sodium_bin2hex(hex, sizeof(hex), h, sizeof(h));
    free(buf);
    if (cli_connect() != 0) {
        market_set_free(&set);
        return 1;
    }
    const struct passwd *pw = getpwuid(geteuid());
    const char *who = pw ? pw->pw_name : "unknown";
    arena *a = arena_new(4096);
    char id[24], err[512];
    long removed = 0;
    int rc = 1;
    if (a == NULL) {
        fprintf(stderr, "loanctl: out of memory\n");
    } else if (market_replace(a, &set, file, hex, who, id, &removed, err, sizeof(err)) != 0) {
        fprintf(stderr, "loanctl: market data not loaded: %s\n", err);
    } else {
        market_changed();
        int n[4] = {0, 0, 0, 0};
        const char *as_of = "-";
        static const char *cats[4] = {"index", "rate", "fx", "commodity"};
        for (size_t i = 0; i < set.n; i++) {
            for (int k = 0; k < 4; k++)
                n[k] += !strcmp(set.rows[i].category, cats[k]);
            if (strcmp(set.rows[i].as_of, as_of) > 0)
                as_of = set.rows[i].as_of;
        }
        printf("market data load %s: %zu rows from %s (sha256 %.16s): %d index, %d rate, %d fx, "
               "%d commodity, as of %s; %ld symbol(s) removed\n",
               id, set.n, file, hex, n[0], n[1], n[2], n[3], as_of, removed);
        rc = 0;
    }
    arena_free(a);
    market_set_free(&set);
    cli_disconnect();
    return rc;
}

int cmd_market_list(int argc, char **argv)
{
    (void)argv;
    if (argc > 0) {
        fprintf(stderr, "loanctl: market list takes no arguments\n");
        return 2;
    }
    if (cli_connect() != 0)
        return 1;
    arena *a = arena_new(4096);
    const char *p[1] = {NULL};
    PGresult *res = db_exec(a, MARKET_SQL(MARKET_ROWS), 1, p);
    PGresult *last = db_ok(res) ? db_exec(a, MARKET_SQL(MARKET_LAST_LOAD), 0, NULL) : NULL;
    int rc = 0;
    if (!db_ok(res) || !db_ok(last)) {
        fprintf(stderr, "loanctl: listing market data failed: %s",
                res && !db_ok(res) ? PQresultErrorMessage(res)
                : last             ? PQresultErrorMessage(last)
                                   : "database unavailable\n");
        rc = 1;
    } else {
        printf("%-16s %-10s %20s %14s %9s %-10s %s\n", "symbol", "category", "value", "change",
               "change %", "as of", "name");
        for (int i = 0; i < PQntuples(res); i++)
            printf("%-16s %-10s %20s %14s %9s %-10s %s\n", PQgetvalue(res, i, 0),
                   PQgetvalue(res, i, 2), PQgetvalue(res, i, 3), PQgetvalue(res, i, 4),
                   PQgetisnull(res, i, 5) ? "-" : PQgetvalue(res, i, 5), PQgetvalue(res, i, 6),
                   PQgetvalue(res, i, 1));
        if (PQntuples(last) == 1)
            printf("last load %s: %s, %s rows, sha256 %.16s, by %s at %s UTC\n",
                   PQgetvalue(last, 0, 0), PQgetvalue(last, 0, 1), PQgetvalue(last, 0, 2),
                   PQgetvalue(last, 0, 3), PQgetvalue(last, 0, 4), PQgetvalue(last, 0, 5));
        else
            printf("no market data loaded yet\n");
    }
    arena_free(a);
    cli_disconnect();
    return rc;
}
