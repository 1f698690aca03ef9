/*
 * Domain commands of loanctl:
 *
 *   loanctl sanctions load FILE [--alt ALT.csv] [--name NAME]   load an OFAC SDN-format list
 *   loanctl sanctions list                                      show loaded versions
 *   loanctl market load FILE.csv [--allow-empty]                replace the market data
 *   loanctl market list                                         show it and the last load
 *   loanctl seed --count N [--seed S]                           sample applications, through
 *                                                               the real pipeline
 *   loanctl notifier [--once]                                   deliver queued notifications
 *
 * They run on the same db_* connection code as the workers, so the seeder and the service share
 * every statement and rule.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pwd.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "arena.h"
#include "cache.h"
#include "config.h"
#include "db.h"
#include "epoch.h"
#include "loan.h"
#include "loanctl.h"
#include "applications.h"
#include "identity.h"
#include "outbox.h"
#include "review.h"
#include "log.h"
#include "market.h"
#include "providers.h"
#include "refdata.h"
#include "stats.h"
#include "store.h"
#include "screening.h"
#include "validate.h"

const char *loanctl_extra_usage(void)
{
    return "  sanctions load FILE [--alt ALT] [--name N] load an OFAC SDN-format list\n"
           "  sanctions list                            list loaded sanctions lists\n"
           "  market load FILE.csv [--allow-empty]      replace the market data (GET /data)\n"
           "  market list                               show the market data and last load\n"
           "  seed --count N [--seed S]                 sample applications via the pipeline\n"
           "  notifier [--once]                         deliver queued notifications\n"
           "  pii rotate-key [--batch N]                re-seal identity numbers under PII_KEY\n"
           "                                            (old rows under PII_KEY_PREVIOUS)\n"
           "  pii status                                rows per PII key\n";
}

static const char *opt(int argc, char **argv, const char *name)
{
    for (int i = 0; i + 1 < argc; i++)
        if (!strcmp(argv[i], name))
            return argv[i + 1];
    return NULL;
}

/* Connects the db_* layer (DATABASE_URL or the stack's env, already loaded by loanctl_connect)
 * and reads the configuration the pipeline needs. */
static int setup(void)
{
    PGconn *probe = loanctl_connect();
    if (probe == NULL)
        return -1;
    PQfinish(probe);
    /* loanctl issues no tokens: any secret satisfies the configuration check. */
    setenv("JWT_SECRET", "loanctl-issues-no-tokens-0123456789abcdef", 0);
    setenv("LOG_FILE", "", 1);
    char err[256];
    if (config_load(err, sizeof(err)) != 0) {
        fprintf(stderr, "loanctl: configuration error: %s\n", err);
        return -1;
    }
    log_open("", 1, LOG_WARN);
    if (db_init(getenv("DATABASE_URL") ? getenv("DATABASE_URL") : "", store_statements) != 0)
        return -1;
    cache_init(getenv("REDIS_URL") ? getenv("REDIS_URL") : "");
    /* Changes made here must reach the running workers' memory caches too. */
    if (getenv("EPOCH_FILE") != NULL)
        (void)epoch_open(getenv("EPOCH_FILE"), 0);
    if (db_conn() == NULL) {
        fprintf(stderr, "loanctl: cannot connect to PostgreSQL\n");
        return -1;
    }
    return 0;
}

/* ---- sanctions ----------------------------------------------------------------------------- */

struct copy_ctx {
    PGconn *c;
    const char *list_id;
    long names;
    int failed;
};

static void copy_field(char *buf, size_t *n, size_t cap, const char *s)
{
    if (s == NULL) {
        if (*n + 2 < cap) {
            buf[(*n)++] = '\\';
            buf[(*n)++] = 'N';
        }
        return;
    }
    for (; *s && *n + 2 < cap; s++) {
        char c = *s;
        if (c == '\\' || c == '\t' || c == '\n' || c == '\r') {
            buf[(*n)++] = '\\';
            c = c == '\t' ? 't' : c == '\n' ? 'n' : c == '\r' ? 'r' : '\\';
        }
        buf[(*n)++] = c;
    }
}

static void copy_row(struct copy_ctx *cx, long id, const char *name, const char *type,
                     const char *programs)
{
    char line[4096];
    size_t n = (size_t)snprintf(line, sizeof(line), "%s\t%ld\t", cx->list_id, id);
    copy_field(line, &n, sizeof(line) - 8, name);
    line[n++] = '\t';
    copy_field(line, &n, sizeof(line) - 8, type);
    line[n++] = '\t';
    copy_field(line, &n, sizeof(line) - 8, programs);
    line[n++] = '\n';
    if (PQputCopyData(cx->c, line, (int)n) != 1)
        cx->failed = 1;
    cx->names++;
}

struct aka_ctx {
    struct copy_ctx *cx;
    const screen_entry *e;
};

static int on_aka(const char *name, void *ud)
{
    struct aka_ctx *ak = ud;
    copy_row(ak->cx, ak->e->entry_id, name, ak->e->type, ak->e->programs);
    return 0;
}

static int on_entry(const screen_entry *e, void *ud)
{
    struct copy_ctx *cx = ud;
    /* Applicants are people: vessels and aircraft are not screened against. */
    if (e->type && (!strcmp(e->type, "vessel") || !strcmp(e->type, "aircraft")))
        return 0;
    copy_row(cx, e->entry_id, e->name, e->type, e->programs);
    if (e->remarks) {
        struct aka_ctx ak = {cx, e};
        screen_remarks_akas(e->remarks, on_aka, &ak);
    }
    return 0;
}

static int on_alt(const screen_entry *e, void *ud)
{
    struct copy_ctx *cx = ud;
    copy_row(cx, e->entry_id, e->name, NULL, NULL);
    return 0;
}

static int sanctions_load(int argc, char **argv)
{
    if (argc < 1)
        return 2;
    const char *file = argv[0];
    const char *alt = opt(argc, argv, "--alt");
    const char *name = opt(argc, argv, "--name");
    if (name == NULL)
        name = "OFAC SDN";
    size_t len = 0, alt_len = 0;
    char *buf = loanctl_read_file(file, &len);
    if (buf == NULL) {
        fprintf(stderr, "loanctl: cannot read %s: %s\n", file, strerror(errno));
        return 1;
    }
    char *alt_buf = NULL;
    if (alt && (alt_buf = loanctl_read_file(alt, &alt_len)) == NULL) {
        fprintf(stderr, "loanctl: cannot read %s: %s\n", alt, strerror(errno));
        free(buf);
        return 1;
    }
    /* Parse once without the database so a malformed file changes nothing. */
    char err[256];
    long entries = screen_parse_sdn(buf, len, NULL, NULL, err, sizeof(err));
    if (entries < 0 || (alt_buf && screen_parse_alt(alt_buf, alt_len, NULL, NULL, err,
                                                    sizeof(err)) < 0)) {
        fprintf(stderr, "loanctl: %s is not a valid SDN-format list: %s\n", file, err);
        free(buf);
        free(alt_buf);
        return 1;
    }
    crypto_hash_sha256_state st;
    unsigned char h[32];
    char hex[65], version[17];
    crypto_hash_sha256_init(&st);
    crypto_hash_sha256_update(&st, (unsigned char *)buf, len);
    if (alt_buf)
        crypto_hash_sha256_update(&st, (unsigned char *)alt_buf, alt_len);
    crypto_hash_sha256_final(&st, h);
    sodium_bin2hex(hex, sizeof(hex), h, sizeof(h));
    memcpy(version, hex, 16);
    version[16] = '\0';

    PGconn *c = loanctl_connect();
    if (c == NULL) {
        free(buf);
        free(alt_buf);
        return 1;
    }
    int rc = 1;
    const char *p[5] = {name, hex};
    PGresult *res = PQexecParams(c, "SELECT version FROM sanctions_lists WHERE name = $1 AND "
                                    "sha256 = $2 AND active", 2, NULL, p, NULL, NULL, 0);
    if (loanctl_ok(c, res, "checking loaded lists") && PQntuples(res) == 1) {
        printf("%s version %s is already the active list\n", name, version);
        PQclear(res);
        PQfinish(c);
        free(buf);
        free(alt_buf);
        return 0;
    }
    PQclear(res);
    PQclear(PQexec(c, "BEGIN"));
    p[1] = version;
    p[2] = hex;
    p[3] = file;
    res = PQexecParams(c, "UPDATE sanctions_lists SET active = false WHERE name = $1 AND active",
                       1, NULL, p, NULL, NULL, 0);
    int ok = loanctl_ok(c, res, "retiring the previous version");
    PQclear(res);
    char *list_id = NULL;
    if (ok) {
        res = PQexecParams(c, "INSERT INTO sanctions_lists (name, version, sha256, source, "
                              "entries, names) VALUES ($1, $2, $3, $4, 0, 0) RETURNING id",
                           4, NULL, p, NULL, NULL, 0);
        ok = loanctl_ok(c, res, "recording the list");
        if (ok)
            list_id = strdup(PQgetvalue(res, 0, 0));
        PQclear(res);
    }
    struct copy_ctx cx = {c, list_id, 0, 0};
    if (ok) {
        res = PQexec(c, "COPY sanctions_names (list_id, entry_id, name, type, programs) FROM STDIN");
        ok = PQresultStatus(res) == PGRES_COPY_IN;
        PQclear(res);
    }
    if (ok) {
        screen_parse_sdn(buf, len, on_entry, &cx, err, sizeof(err));
        if (alt_buf)
            screen_parse_alt(alt_buf, alt_len, on_alt, &cx, err, sizeof(err));
        ok = PQputCopyEnd(c, cx.failed ? "row failed" : NULL) == 1;
        res = PQgetResult(c);
        ok = ok && loanctl_ok(c, res, "copying names");
        PQclear(res);
        while ((res = PQgetResult(c)) != NULL)
            PQclear(res);
    }
    if (ok) {
        char ne[24], nn[24];
        snprintf(ne, sizeof(ne), "%ld", entries);
        snprintf(nn, sizeof(nn), "%ld", cx.names);
        const char *q[3] = {list_id, ne, nn};
        res = PQexecParams(c, "UPDATE sanctions_lists SET entries = $2::int, names = $3::int "
                              "WHERE id = $1::bigint", 3, NULL, q, NULL, NULL, 0);
        ok = loanctl_ok(c, res, "recording the counts");
        PQclear(res);
    }
    free(list_id);
    PQclear(PQexec(c, ok ? "COMMIT" : "ROLLBACK"));
    if (ok) {
        printf("loaded %s version %s (sha256 %s): %ld entries, %ld names\n", name, version, hex,
               entries, cx.names);
        rc = 0;
    }
    PQfinish(c);
    free(buf);
    free(alt_buf);
    return rc;
}

static int sanctions_list(void)
{
    PGconn *c = loanctl_connect();
    if (c == NULL)
        return 1;
    PGresult *res = PQexec(c, "SELECT name, version, entries, names, active, "
                              "to_char(loaded_at, 'YYYY-MM-DD HH24:MI:SS'), source "
                              "FROM sanctions_lists ORDER BY id");
    int rc = 0;
    if (!loanctl_ok(c, res, "listing")) {
        rc = 1;
    } else {
        printf("%-12s %-17s %8s %8s %-6s %-19s %s\n", "name", "version", "entries", "names",
               "active", "loaded", "source");
        for (int i = 0; i < PQntuples(res); i++)
            printf("%-12s %-17s %8s %8s %-6s %-19s %s\n", PQgetvalue(res, i, 0),
                   PQgetvalue(res, i, 1), PQgetvalue(res, i, 2), PQgetvalue(res, i, 3),
                   PQgetvalue(res, i, 4)[0] == 't' ? "yes" : "no", PQgetvalue(res, i, 5),
                   PQgetvalue(res, i, 6));
    }
    PQclear(res);
    PQfinish(c);
    return rc;
}

/* ---- market data --------------------------------------------------------------------------- */

static void market_problem(int line, const char *field, const char *message, void *ud)
{
    fprintf(stderr, "%s:%d: %s: %s\n", (const char *)ud, line, field, message);
}

/* Validates the whole file first (every problem printed as FILE:LINE: field: message), so a bad
 * file changes nothing; then replaces the table in one transaction and tells the workers. */
static int market_load(int argc, char **argv)
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
    char *buf = loanctl_read_file(file, &len);
    if (buf == NULL) {
        fprintf(stderr, "loanctl: cannot read %s: %s\n", file, strerror(errno));
        return 1;
    }
    struct market_set set = {0};
    int problems = market_parse_csv(buf, len, &set, market_problem, (void *)file);
    if (problems == 0 && set.n == 0 && !allow_empty) {
        market_problem(2, "row", "no data rows (--allow-empty loads the file and empties the "
                                 "table)", (void *)file);
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
    if (setup() != 0) {
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
    db_close();
    return rc;
}

static int market_list(void)
{
    if (setup() != 0)
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
    db_close();
    return rc;
}

/* ---- seed ----------------------------------------------------------------------------------- */

/* A small deterministic generator (xorshift64*), so a seed number reproduces a data set. */
static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint64_t rnd(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 2685821657736338717ULL;
}

static int64_t between(int64_t lo, int64_t hi)
{
    return lo + (int64_t)(rnd() % (uint64_t)(hi - lo + 1));
}

struct seed_country {
    const char *name, *region;
    int weight;
};

static const struct seed_country seed_countries[] = {
    {"United States", "AMERICAS", 18}, {"Canada", "NA", 5},        {"Brazil", "SA", 5},
    {"Mexico", "AMERICAS", 4},         {"Argentina", "SA", 2},     {"United Kingdom", "EU", 8},
    {"Germany", "EU", 7},              {"France", "EMEA", 5},      {"Spain", "EU", 3},
    {"Italy", "EMEA", 3},              {"Netherlands", "EU", 2},   {"Sweden", "EU", 1},
    {"India", "ASIA", 12},             {"Singapore", "APAC", 4},   {"Japan", "APAC", 4},
    {"Australia", "APAC", 4},          {"Indonesia", "ASIA", 3},   {"Philippines", "APAC", 2},
    {"Vietnam", "ASIA", 1},            {"United Arab Emirates", "MEA", 3},
    {"Saudi Arabia", "MEA", 2},        {"South Africa", "MEA", 2}, {"Nigeria", "MEA", 2},
    {"Kenya", "MEA", 1},               {"Egypt", "MEA", 1},        {"Iran", "MEA", 1},
};

static const char *first_names[] = {
    "Olivia", "Liam",   "Emma",   "Noah",    "Ava",     "Mateo",  "Sofia",  "Arjun",  "Ananya",
    "Hiroshi", "Yuki",  "Chen",   "Mei",     "Lucas",   "Amara",  "Kwame",  "Fatima", "Omar",
    "Elena",  "Pierre", "Chloe",  "Hans",    "Greta",   "Isabel", "Diego",  "Camila", "Rahul",
    "Priya",  "Aisha",  "Samuel", "Grace",   "Daniel",  "Nadia",  "Ivan",   "Leila",  "Tomas",
};
static const char *last_names[] = {
    "Anderson", "Okafor",  "Fernandes", "Nakamura", "Kowalski", "Lindqvist", "Moreau",
    "Schneider", "Patel",  "Iyer",      "Tanaka",   "Wong",     "Haddad",    "Mensah",
    "Rossi",    "Novak",   "Castillo",  "Herrera",  "Dubois",   "Kim",       "Nguyen",
    "Oliveira", "Bianchi", "Jansen",    "Reddy",    "Sato",     "Walsh",     "Barros",
};
static const char *purposes[] = {"Home Purchase", "Debt Consolidation", "Car", "Education",
                                 "Home Improvement", "Business", "Medical"};

/* A synthetic Indian identity for a sample applicant, registered with the sandbox providers
 * the way a provider's test environment is set up: Aadhaar with its Verhoeff digit, a PAN of a
 * person with the surname's initial, usually a bank account, and a bureau file (a few have
 * none, a few have overdue accounts). */
static int seed_identity(arena *a, struct loan_input *in, const char *surname)
{
    /* The numbers come from the CSPRNG, not from the reproducible generator: two seed runs
     * (the stack's 500, then make bench's) must not hand the same PAN to two open
     * applications. */
    char payload[12];
    payload[0] = (char)('2' + randombytes_uniform(8));
    for (int i = 1; i < 11; i++)
        payload[i] = (char)('0' + randombytes_uniform(10));
    payload[11] = '\0';
    snprintf(in->aadhaar, sizeof(in->aadhaar), "%s%d", payload, val_verhoeff_digit(payload));
    snprintf(in->pan, sizeof(in->pan), "%c%c%cP%c%04u%c", (char)('A' + randombytes_uniform(26)),
             (char)('A' + randombytes_uniform(26)), (char)('A' + randombytes_uniform(26)),
             surname[0], randombytes_uniform(10000), (char)('A' + randombytes_uniform(26)));
    snprintf(in->date_of_birth, sizeof(in->date_of_birth), "%04d-%02d-%02d",
             (int)between(1960, 2003), (int)between(1, 12), (int)between(1, 28));
    if (between(0, 99) < 70) {
        snprintf(in->bank_account, sizeof(in->bank_account), "%04u%04u%04u",
                 1000 + randombytes_uniform(9000), randombytes_uniform(10000),
                 randombytes_uniform(10000));
        static const char *banks[] = {"HDFC0001234", "ICIC0000456", "SBIN0001234", "UTIB0000789"};
        snprintf(in->ifsc, sizeof(in->ifsc), "%s", banks[rnd() % 4]);
        in->holder_name = in->name;
    }
    int score = between(0, 99) < 8 ? 0 : (int)between(600, 860);
    int overdue = between(0, 99) < 10 ? (int)between(1, 3) : 0;
    return providers_sandbox_register(a, in, score, overdue, (int)between(0, 6));
}

static int seed(int argc, char **argv)
{
    const char *count_s = opt(argc, argv, "--count");
    const char *seed_s = opt(argc, argv, "--seed");
    long count = count_s ? strtol(count_s, NULL, 10) : 0;
    if (count < 1 || count > 10000000) {
        fprintf(stderr, "loanctl: seed needs --count N (1 to 10,000,000)\n");
        return 2;
    }
    if (seed_s)
        rng_state ^= (uint64_t)strtoull(seed_s, NULL, 10) * 0x9e3779b97f4a7c15ULL;
    if (setup() != 0)
        return 1;
    int total_weight = 0;
    for (size_t i = 0; i < sizeof(seed_countries) / sizeof(seed_countries[0]); i++)
        total_weight += seed_countries[i].weight;
    arena *a = arena_new(1 << 16);
    long done = 0, by_status[3] = {0, 0, 0};
    unsigned char tag[4];
    randombytes_buf(tag, sizeof(tag));
    const int batch = 200;
    time_t now = time(NULL);
    while (done < count) {
        if (db_begin() != 0) {
            fprintf(stderr, "loanctl: database unavailable\n");
            return 1;
        }
        /* Make the batch's applicants first and register the Indian ones with the sandbox
         * providers, so the workers' sandbox copy is reloaded once per batch. */
        arena_reset(a);
        struct loan_input ins[200];
        char created[200][40];
        int nb = 0;
        for (; nb < batch && done + nb < count; nb++) {
            int w = (int)between(0, total_weight - 1);
            const struct seed_country *sc = seed_countries;
            for (size_t i = 0; i < sizeof(seed_countries) / sizeof(seed_countries[0]); i++) {
                sc = &seed_countries[i];
                if (w < sc->weight)
                    break;
                w -= sc->weight;
            }
            const char *first = first_names[rnd() % (sizeof(first_names) / sizeof(char *))];
            const char *last = last_names[rnd() % (sizeof(last_names) / sizeof(char *))];
            struct loan_input *in = &ins[nb];
            memset(in, 0, sizeof(*in));
            in->name = arena_printf(a, "%s %s", first, last);
            in->email = arena_printf(a, "%s.%s.%02x%02x%02x%02x.%ld@example.com", first, last,
                                     tag[0], tag[1], tag[2], tag[3], done + nb);
            in->phone = arena_printf(a, "+%d %03d %03d %04d", (int)between(1, 99),
                                     (int)between(200, 999), (int)between(100, 999),
                                     (int)between(0, 9999));
            in->country = sc->name;
            snprintf(in->region, sizeof(in->region), "%s", sc->region);
            in->income = between(24000, 260000) * 100;
            in->debt = in->income * between(0, 42) / 100;
            in->credit_score = (int)between(610, 850);
            in->loan_amount = in->income * between(30, 310) / 100 / 100 * 100;
            in->loan_purpose = purposes[rnd() % (sizeof(purposes) / sizeof(char *))];
            in->documents_uploaded = between(0, 99) < 92;
            static const char *docs[] = {"ID_Proof", "Income_Statement", "Address_Proof"};
            int ndocs = between(0, 99) < 90 ? 3 : (int)between(1, 2);
            for (int d = 0; d < ndocs; d++)
                in->documents[in->ndocs++] = docs[d];
            in->political_connection = between(0, 99) < 3;
            in->senior_relative = between(0, 99) < 2;
            if (!strcmp(sc->name, "India") && seed_identity(a, in, last) != 0) {
                db_rollback();
                fprintf(stderr, "loanctl: registering a sandbox identity failed\n");
                return 1;
            }
            /* Spread over the last 90 days, more recent days a little busier. */
            long ago = (long)(between(0, 90L * 86400) * between(60, 100) / 100);
            time_t t = now - ago;
            struct tm tm;
            gmtime_r(&t, &tm);
            strftime(created[nb], sizeof(created[nb]), "%Y-%m-%d %H:%M:%S+00", &tm);
        }
        for (int b = 0; b < nb; b++, done++) {
            const struct country_info *country;
            struct compliance_facts facts;
            struct loan_result res;
            int rc = review_evaluate(a, &ins[b], 0, NULL, &country, &facts, &res, NULL);
            if (rc != 0) {
                db_rollback();
                fprintf(stderr, "loanctl: evaluation failed (%s)\n",
                        rc < 0 ? "database unavailable" : "unknown country");
                return 1;
            }
            PGresult *row = applications_insert(a, 0, "loanctl seed", &ins[b], country, &facts, &res,
                                         created[b], 0);
            if (!db_ok(row)) {
                db_rollback();
                fprintf(stderr, "loanctl: insert failed: %s",
                        row ? PQresultErrorMessage(row) : "database unavailable\n");
                return 1;
            }
            by_status[res.final.status]++;
        }
        if (db_commit() != 0) {
            fprintf(stderr, "loanctl: commit failed\n");
            return 1;
        }
        applications_changed(NULL);
    }
    arena_free(a);
    printf("seeded %ld applications: %ld approved, %ld rejected, %ld pending\n", count,
           by_status[LOAN_APPROVED], by_status[LOAN_REJECTED], by_status[LOAN_PENDING]);
    db_close();
    return 0;
}

/* ---- notifier ------------------------------------------------------------------------------- */

/*
 * Delivery here is one JSON line per message appended to NOTIFY_SINK (the stack points it at
 * var/log/notifications.jsonl) and a log line; SMTP can take the sink's place later. Exactly
 * once: a batch is claimed with FOR UPDATE SKIP LOCKED, each message is written and fsync'ed
 * with its id before the transaction marks it sent, and on start the sink's ids are read back,
 * so a message written just before a crash is marked sent, not written again.
 */
static volatile sig_atomic_t notifier_stop;

static void on_stop(int sig)
{
    (void)sig;
    notifier_stop = 1;
}

struct idset {
    long long *v;
    size_t n, cap;
};

static int idset_has(const struct idset *s, long long id)
{
    for (size_t i = s->n; i > 0; i--) /* recent ids are the likely ones */
        if (s->v[i - 1] == id)
            return 1;
    return 0;
}

static void idset_add(struct idset *s, long long id)
{
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 1024;
        long long *v = realloc(s->v, cap * sizeof(*v));
        if (v == NULL)
            return;
        s->v = v;
        s->cap = cap;
    }
    s->v[s->n++] = id;
}

static void load_sink_ids(const char *path, struct idset *ids)
{
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return;
    char line[8192];
    while (fgets(line, sizeof(line), f)) {
        const char *p = strstr(line, "\"id\":");
        if (p)
            idset_add(ids, atoll(p + 5));
    }
    fclose(f);
}

static int notifier(int argc, char **argv)
{
    int once = argc > 0 && !strcmp(argv[0], "--once");
    if (setup() != 0)
        return 1;
    const char *sink = getenv("NOTIFY_SINK");
    if (sink == NULL || sink[0] == '\0')
        sink = "var/log/notifications.jsonl";
    const char *delay_s = getenv("NOTIFIER_DELAY_MS");
    long delay_ms = delay_s ? strtol(delay_s, NULL, 10) : 0;
    int fd = open(sink, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
    if (fd < 0) {
        fprintf(stderr, "loanctl: cannot open %s: %s\n", sink, strerror(errno));
        return 1;
    }
    struct idset delivered = {0};
    load_sink_ids(sink, &delivered);
    signal(SIGTERM, on_stop);
    signal(SIGINT, on_stop);
    arena *a = arena_new(1 << 16);
    fprintf(stderr, "notifier: delivering to %s (%zu delivered before)\n", sink, delivered.n);
    while (!notifier_stop) {
        arena_reset(a);
        if (db_begin() != 0) {
            sleep(1);
            continue;
        }
        PGresult *res = outbox_claim(a);
        if (!db_ok(res)) {
            db_rollback();
            sleep(1);
            continue;
        }
        int n = PQntuples(res);
        int failed = 0;
        for (int i = 0; i < n && !failed; i++) {
            long long id = atoll(PQgetvalue(res, i, 0));
            if (!idset_has(&delivered, id)) {
                json_object *m = json_object_new_object();
                time_t t = time(NULL);
                char ts[32];
                strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", gmtime(&t));
                json_object_object_add(m, "time", json_object_new_string(ts));
                json_object_object_add(m, "id", json_object_new_int64(id));
                json_object_object_add(m, "application_id", json_object_new_string(PQgetvalue(res, i, 1)));
                json_object_object_add(m, "kind", json_object_new_string(PQgetvalue(res, i, 2)));
                json_object_object_add(m, "to", json_object_new_string(PQgetvalue(res, i, 3)));
                json_object_object_add(m, "subject", json_object_new_string(PQgetvalue(res, i, 4)));
                json_object_object_add(m, "body", json_object_new_string(PQgetvalue(res, i, 5)));
                const char *line = json_object_to_json_string_ext(m, JSON_C_TO_STRING_PLAIN);
                char *out = arena_printf(a, "%s\n", line);
                json_object_put(m);
                if (write(fd, out, strlen(out)) != (ssize_t)strlen(out) || fdatasync(fd) != 0) {
                    failed = 1;
                    break;
                }
                idset_add(&delivered, id);
                if (delay_ms > 0) {
                    struct timespec ts2 = {delay_ms / 1000, (delay_ms % 1000) * 1000000L};
                    nanosleep(&ts2, NULL);
                }
            }
            const char *p[2] = {PQgetvalue(res, i, 0), PQgetvalue(res, i, 2)};
            if (outbox_mark_sent(a, p[0], p[1]) != 0)
                failed = 1;
        }
        if (failed || db_commit() != 0) {
            db_rollback();
            sleep(1);
            continue;
        }
        for (int i = 0; i < n; i++)
            applications_changed(PQgetvalue(res, i, 1));
        if (n > 0)
            printf("notifier: delivered %d message(s)\n", n);
        fflush(stdout);
        /* Fold the dashboard's delta rows into the summary (sql/004) every couple of seconds. */
        static time_t last_compact;
        if (time(NULL) - last_compact >= 2) {
            last_compact = time(NULL);
            arena_reset(a);
            if (!db_ok(db_exec(a, STATS_SQL(DASH_COMPACT), 0, NULL)))
                fprintf(stderr, "notifier: compacting dashboard stats failed\n");
        }
        if (once && n == 0)
            break;
        if (n == 0) {
            struct timespec ts = {0, 250 * 1000 * 1000};
            nanosleep(&ts, NULL);
        }
    }
    close(fd);
    free(delivered.v);
    arena_free(a);
    db_close();
    return 0;
}

/* ---- pii ----------------------------------------------------------------------------------- */

static int pii_rotate(int argc, char **argv)
{
    const char *batch_s = opt(argc, argv, "--batch");
    long batch = batch_s ? strtol(batch_s, NULL, 10) : 500;
    if (batch < 1 || batch > 100000) {
        fprintf(stderr, "loanctl: --batch must be 1 to 100000\n");
        return 2;
    }
    if (setup() != 0)
        return 1;
    if (config_get()->pii_key_previous[0] == '\0') {
        fprintf(stderr, "loanctl: set PII_KEY to the new key and PII_KEY_PREVIOUS to the old one\n");
        return 2;
    }
    arena *a = arena_new(1 << 16);
    struct identity_rotation st;
    memset(&st, 0, sizeof(st));
    /* Walk by id; rows skipped because a review or the notifier held their lock are taken by
     * another walk after a pause, until only rows under an unknown key are left (or a minute
     * has passed: then what is left is reported and the exit status says so). */
    long left = 0;
    for (int pass = 0; pass < 240; pass++) {
        st.after = 0;
        st.unknown = 0;
        st.conflicts = 0;
        int n;
        do {
            arena_reset(a);
            n = identity_rotate(a, (int)batch, &st);
        } while (n > 0);
        arena_reset(a);
        if (n < 0 || (left = identity_left(a, &st)) < 0) {
            fprintf(stderr, "loanctl: database unavailable during rotation (%ld rows done)\n",
                    st.rotated);
            arena_free(a);
            return 1;
        }
        if (left <= st.unknown + st.conflicts)
            break;
        struct timespec pause = {0, 250000000L};
        nanosleep(&pause, NULL);
    }
    arena_free(a);
    long locked = left > st.unknown + st.conflicts ? left - st.unknown - st.conflicts : 0;
    printf("rotated %ld rows to key %s (rows up to id %lld); %ld rows under an unknown key; %ld "
           "rows duplicating an open application; %ld rows still locked\n",
           st.rotated, identity_key_id(), st.max_id, st.unknown, st.conflicts, locked);
    db_close();
    return st.unknown > 0 || st.conflicts > 0 || locked > 0 ? 1 : 0;
}

static int pii_status(void)
{
    if (setup() != 0)
        return 1;
    arena *a = arena_new(4096);
    PGresult *res = identity_key_census(a);
    if (!db_ok(res)) {
        fprintf(stderr, "loanctl: database unavailable\n");
        arena_free(a);
        return 1;
    }
    const char *cur = identity_key_id();
    for (int i = 0; i < PQntuples(res); i++)
        printf("%s %s%s\n", PQgetvalue(res, i, 0), PQgetvalue(res, i, 1),
               !strcmp(PQgetvalue(res, i, 0), cur) ? " (current PII_KEY)" : "");
    if (PQntuples(res) == 0)
        printf("no protected identity numbers stored\n");
    arena_free(a);
    db_close();
    return 0;
}

int loanctl_extra(int argc, char **argv)
{
    if (!strcmp(argv[0], "pii") && argc >= 2 && !strcmp(argv[1], "rotate-key"))
        return pii_rotate(argc - 2, argv + 2);
    if (!strcmp(argv[0], "pii") && argc >= 2 && !strcmp(argv[1], "status"))
        return pii_status();
    if (!strcmp(argv[0], "sanctions") && argc >= 3 && !strcmp(argv[1], "load"))
        return sanctions_load(argc - 2, argv + 2);
    if (!strcmp(argv[0], "sanctions") && argc >= 2 && !strcmp(argv[1], "list"))
        return sanctions_list();
    if (!strcmp(argv[0], "market") && argc >= 3 && !strcmp(argv[1], "load"))
        return market_load(argc - 2, argv + 2);
    if (!strcmp(argv[0], "market") && argc == 2 && !strcmp(argv[1], "list"))
        return market_list();
    if (!strcmp(argv[0], "seed"))
        return seed(argc - 1, argv + 1);
    if (!strcmp(argv[0], "notifier"))
        return notifier(argc - 1, argv + 1);
    return -1;
}
