/*
 * loanctl seed: sample applications for development and benchmarks, sent through the real
 * pipeline (review_evaluate, then applications_insert) so every stored row is one the service could
 * have decided, with its screening, risk grade and price. Names, countries, amounts and dates come
 * from a small deterministic generator (--seed S reproduces a data set); Indian applicants get
 * a synthetic identity registered with the sandbox eKYC and bureau providers first, whose
 * numbers come from the CSPRNG so two runs never share a PAN. Applications are inserted 200 to
 * a transaction, spread over the last 90 days.
 */
#include <inttypes.h>
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "arena.h"
#include "cli.h"
#include "loan.h"
#include "applications.h"
#include "identity.h"
#include "outbox.h"
#include "review.h"
#include "providers.h"
#include "refdata.h"
#include "validate.h"

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
    {"United States", "AMERICAS", 18},
    {"Canada", "NA", 5},
    {"Brazil", "SA", 5},
    {"Mexico", "AMERICAS", 4},
    {"Argentina", "SA", 2},
    {"United Kingdom", "EU", 8},
    {"Germany", "EU", 7},
    {"France", "EMEA", 5},
    {"Spain", "EU", 3},
    {"Italy", "EMEA", 3},
    {"Netherlands", "EU", 2},
    {"Sweden", "EU", 1},
    {"India", "ASIA", 12},
    {"Singapore", "APAC", 4},
    {"Japan", "APAC", 4},
    {"Australia", "APAC", 4},
    {"Indonesia", "ASIA", 3},
    {"Philippines", "APAC", 2},
    {"Vietnam", "ASIA", 1},
    {"United Arab Emirates", "MEA", 3},
    {"Saudi Arabia", "MEA", 2},
    {"South Africa", "MEA", 2},
    {"Nigeria", "MEA", 2},
    {"Kenya", "MEA", 1},
    {"Egypt", "MEA", 1},
    {"Iran", "MEA", 1},
};

static const char *first_names[] = {
    "Olivia",  "Liam",   "Emma",   "Noah",  "Ava",    "Mateo",  "Sofia", "Arjun",  "Ananya",
    "Hiroshi", "Yuki",   "Chen",   "Mei",   "Lucas",  "Amara",  "Kwame", "Fatima", "Omar",
    "Elena",   "Pierre", "Chloe",  "Hans",  "Greta",  "Isabel", "Diego", "Camila", "Rahul",
    "Priya",   "Aisha",  "Samuel", "Grace", "Daniel", "Nadia",  "Ivan",  "Leila",  "Tomas",
};
static const char *last_names[] = {
    "Anderson",  "Okafor",  "Fernandes", "Nakamura", "Kowalski", "Lindqvist", "Moreau",
    "Schneider", "Patel",   "Iyer",      "Tanaka",   "Wong",     "Haddad",    "Mensah",
    "Rossi",     "Novak",   "Castillo",  "Herrera",  "Dubois",   "Kim",       "Nguyen",
    "Oliveira",  "Bianchi", "Jansen",    "Reddy",    "Sato",     "Walsh",     "Barros",
};
static const char *purposes[] = {"Home Purchase",    "Debt Consolidation", "Car",    "Education",
                                 "Home Improvement", "Business",           "Medical"};

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

int cmd_seed(int argc, char **argv)
{
    const char *count_s = cli_opt(argc, argv, "--count");
    const char *seed_s = cli_opt(argc, argv, "--seed");
    long count = count_s ? strtol(count_s, NULL, 10) : 0;
    if (count < 1 || count > 10000000) {
        fprintf(stderr, "loanctl: seed needs --count N (1 to 10,000,000)\n");
        return 2;
    }
    if (seed_s)
        rng_state ^= (uint64_t)strtoull(seed_s, NULL, 10) * 0x9e3779b97f4a7c15ULL;
    if (cli_connect() != 0)
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
            in->phone =
                arena_printf(a, "+%d %03d %03d %04d", (int)between(1, 99), (int)between(200, 999),
                             (int)between(100, 999), (int)between(0, 9999));
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
            PGresult *row = applications_insert(a, 0, "loanctl seed", &ins[b], country, &facts,
                                                &res, created[b], 0);
            if (!db_ok(row)) {
                db_rollback();
                cli_db_error(row, "insert");
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
    cli_disconnect();
    return 0;
}
