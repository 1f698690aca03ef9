/*
 * The sandbox providers. A worker keeps the sandbox's tables in memory, sorted by the SHA-256
 * of the number, and reloads them when sandbox_version moves (checked at most once a second),
 * so a sandbox call costs what a lookup costs while answering exactly what the tables say. The
 * 'timeout' outcome waits out PROVIDER_TIMEOUT_MS and then reports the timeout, as a client of
 * a slow provider would see it.
 */
#include "providers.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "log.h"
#include "screening.h"

enum {
    SBX_VERSION,
    SBX_IDENTITIES,
    SBX_REPORTS,
    SBX_REGISTER_IDENTITY,
    SBX_REGISTER_REPORT,
    PROVIDERS_SQL_COUNT
};

/* clang-format off */
static const struct db_stmt sql[PROVIDERS_SQL_COUNT] = {
    [SBX_VERSION] = {"sbx_version", "SELECT version FROM sandbox_version"},
    [SBX_IDENTITIES] = {"sbx_identities",
     "SELECT kind, number_sha256, name, coalesce(to_char(date_of_birth, 'YYYY-MM-DD'), ''), "
     "outcome FROM ekyc_sandbox_identities"},
    [SBX_REPORTS] = {"sbx_reports",
     "SELECT pan_sha256, bureau, coalesce(score, 0), active_loans, overdue_accounts, "
     "enquiries_6m, outcome FROM bureau_sandbox_reports"},
    [SBX_REGISTER_IDENTITY] = {"sbx_register_identity",
     "INSERT INTO ekyc_sandbox_identities (kind, number_sha256, name, date_of_birth, outcome, "
     "note, source) VALUES ($1, $2, $3, $4::date, 'verified', 'synthetic sample applicant', "
     "'seed') ON CONFLICT DO NOTHING"},
    [SBX_REGISTER_REPORT] = {"sbx_register_report",
     "INSERT INTO bureau_sandbox_reports (pan_sha256, bureau, score, active_loans, "
     "overdue_accounts, enquiries_6m, note, source) VALUES ($1, $2, nullif($3::int, 0), "
     "$4::int, $5::int, $6::int, 'synthetic sample applicant', 'seed') ON CONFLICT DO NOTHING"},
};
/* clang-format on */
const struct db_stmts providers_statements = DB_STMTS("providers", sql);
#define SQL(id) (&sql[id])

struct sbx_identity {
    char key[66]; /* kind letter + hex digest */
    char name[128];
    char dob[11];
    char outcome; /* v, n, t, e */
};

struct sbx_report {
    char key[65];
    char bureau[8];
    int score, active, overdue, enquiries;
    char outcome; /* o, t, e */
};

static struct {
    long long version;
    time_t checked;
    struct sbx_identity *ids;
    size_t nids;
    struct sbx_report *reports;
    size_t nreports;
} sbx = {.version = -1};

static int cmp_identity(const void *a, const void *b)
{
    return strcmp(((const struct sbx_identity *)a)->key, ((const struct sbx_identity *)b)->key);
}

static int cmp_report(const void *a, const void *b)
{
    return strcmp(((const struct sbx_report *)a)->key, ((const struct sbx_report *)b)->key);
}

/* Loads the tables when their version moved. 0, or -1 when the database is unreachable (the
 * previous copy, if any, stays in use). */
static int sbx_refresh(void)
{
    time_t now = time(NULL);
    if (sbx.version >= 0 && now == sbx.checked)
        return 0;
    arena *a = arena_new(1 << 16);
    if (a == NULL)
        return -1;
    int rc = -1;
    PGresult *v = db_exec(a, SQL(SBX_VERSION), 0, NULL);
    if (!db_ok(v) || PQntuples(v) != 1)
        goto out;
    sbx.checked = now;
    long long version = atoll(PQgetvalue(v, 0, 0));
    if (version == sbx.version) {
        rc = 0;
        goto out;
    }
    PGresult *ids = db_exec(a, SQL(SBX_IDENTITIES), 0, NULL);
    PGresult *reps = db_ok(ids) ? db_exec(a, SQL(SBX_REPORTS), 0, NULL) : NULL;
    if (!db_ok(ids) || !db_ok(reps))
        goto out;
    size_t ni = (size_t)PQntuples(ids), nr = (size_t)PQntuples(reps);
    struct sbx_identity *ti = calloc(ni + 1, sizeof(*ti));
    struct sbx_report *tr = calloc(nr + 1, sizeof(*tr));
    if (ti == NULL || tr == NULL) {
        free(ti);
        free(tr);
        goto out;
    }
    for (size_t i = 0; i < ni; i++) {
        snprintf(ti[i].key, sizeof(ti[i].key), "%c%s", PQgetvalue(ids, (int)i, 0)[0],
                 PQgetvalue(ids, (int)i, 1));
        snprintf(ti[i].name, sizeof(ti[i].name), "%s", PQgetvalue(ids, (int)i, 2));
        snprintf(ti[i].dob, sizeof(ti[i].dob), "%s", PQgetvalue(ids, (int)i, 3));
        ti[i].outcome = PQgetvalue(ids, (int)i, 4)[0] == 'v'   ? 'v'
                        : PQgetvalue(ids, (int)i, 4)[0] == 'n' ? 'n'
                        : PQgetvalue(ids, (int)i, 4)[0] == 't' ? 't'
                                                               : 'e';
    }
    for (size_t i = 0; i < nr; i++) {
        snprintf(tr[i].key, sizeof(tr[i].key), "%s", PQgetvalue(reps, (int)i, 0));
        snprintf(tr[i].bureau, sizeof(tr[i].bureau), "%s", PQgetvalue(reps, (int)i, 1));
        tr[i].score = atoi(PQgetvalue(reps, (int)i, 2));
        tr[i].active = atoi(PQgetvalue(reps, (int)i, 3));
        tr[i].overdue = atoi(PQgetvalue(reps, (int)i, 4));
        tr[i].enquiries = atoi(PQgetvalue(reps, (int)i, 5));
        tr[i].outcome = PQgetvalue(reps, (int)i, 6)[0];
    }
    qsort(ti, ni, sizeof(*ti), cmp_identity);
    qsort(tr, nr, sizeof(*tr), cmp_report);
    free(sbx.ids);
    free(sbx.reports);
    sbx.ids = ti;
    sbx.nids = ni;
    sbx.reports = tr;
    sbx.nreports = nr;
    sbx.version = version;
    rc = 0;
out:
    arena_free(a);
    return rc;
}

/* Hex SHA-256 of text into out[65]. */
static void digest(const char *text, char out[65])
{
    unsigned char h[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(h, (const unsigned char *)text, strlen(text));
    sodium_bin2hex(out, 65, h, sizeof(h));
}

static void new_reference(const char *prefix, char out[40])
{
    unsigned char r[6];
    char hex[13];
    randombytes_buf(r, sizeof(r));
    sodium_bin2hex(hex, sizeof(hex), r, sizeof(r));
    snprintf(out, 40, "%s-%s", prefix, hex);
}

/* Waits out the deadline, as a caller of a provider that does not answer does. */
static void wait_deadline(void)
{
    int ms = config_get()->provider_timeout_ms;
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0)
        ;
}

static void sbx_lookup(char kind, const char *number, const char *prefix, struct ekyc_record *out)
{
    memset(out, 0, sizeof(*out));
    new_reference(prefix, out->reference);
    if (sbx_refresh() != 0 && sbx.version < 0) {
        out->status = EKYC_ERROR;
        return;
    }
    struct sbx_identity key;
    key.key[0] = kind;
    digest(number, key.key + 1);
    const struct sbx_identity *hit =
        bsearch(&key, sbx.ids, sbx.nids, sizeof(*sbx.ids), cmp_identity);
    if (hit == NULL || hit->outcome == 'n') {
        out->status = EKYC_NOT_FOUND;
        return;
    }
    if (hit->outcome == 't') {
        wait_deadline();
        out->status = EKYC_TIMEOUT;
        return;
    }
    if (hit->outcome == 'e') {
        out->status = EKYC_ERROR;
        return;
    }
    out->status = EKYC_VERIFIED;
    snprintf(out->name, sizeof(out->name), "%s", hit->name);
    snprintf(out->date_of_birth, sizeof(out->date_of_birth), "%s", hit->dob);
}

static void sbx_aadhaar(const char *aadhaar12, struct ekyc_record *out)
{
    sbx_lookup('a', aadhaar12, "SBX-AADHAAR", out);
}

static void sbx_pan(const char *pan, struct ekyc_record *out)
{
    sbx_lookup('p', pan, "SBX-PAN", out);
}

static void sbx_bank(const char *account, const char *ifsc, struct ekyc_record *out)
{
    char key[48];
    snprintf(key, sizeof(key), "%s@%s", account, ifsc);
    sbx_lookup('b', key, "SBX-PENNYDROP", out);
}

static void sbx_report(const char *pan, struct bureau_report *out)
{
    memset(out, 0, sizeof(*out));
    new_reference("SBX-BUREAU", out->reference);
    snprintf(out->bureau, sizeof(out->bureau), "CIBIL");
    if (sbx_refresh() != 0 && sbx.version < 0) {
        out->status = BUREAU_ERROR;
        return;
    }
    struct sbx_report key;
    digest(pan, key.key);
    const struct sbx_report *hit =
        bsearch(&key, sbx.reports, sbx.nreports, sizeof(*sbx.reports), cmp_report);
    if (hit == NULL) {
        out->status = BUREAU_NO_HISTORY; /* a PAN the bureau has no file for */
        return;
    }
    snprintf(out->bureau, sizeof(out->bureau), "%s", hit->bureau);
    if (hit->outcome == 't') {
        wait_deadline();
        out->status = BUREAU_TIMEOUT;
        return;
    }
    if (hit->outcome == 'e') {
        out->status = BUREAU_ERROR;
        return;
    }
    if (hit->score == 0) {
        out->status = BUREAU_NO_HISTORY;
        return;
    }
    out->status = BUREAU_OK;
    out->score = hit->score;
    out->active_loans = hit->active;
    out->overdue_accounts = hit->overdue;
    out->enquiries_6m = hit->enquiries;
}

static const struct ekyc_provider sandbox_ekyc = {"sandbox", sbx_aadhaar, sbx_pan, sbx_bank};
static const struct bureau_provider sandbox_bureau = {"sandbox", sbx_report};

const struct ekyc_provider *providers_ekyc(void)
{
    return strcmp(config_get()->ekyc_provider, "sandbox") == 0 ? &sandbox_ekyc : NULL;
}

const struct bureau_provider *providers_bureau(void)
{
    return strcmp(config_get()->bureau_provider, "sandbox") == 0 ? &sandbox_bureau : NULL;
}

/* A record's answer into the facts of one check. */
static void judge(const struct ekyc_record *r, const char *name, const char *dob,
                  struct ekyc_check *c)
{
    c->status = r->status;
    c->name_score = -1;
    c->dob_match = -1;
    snprintf(c->reference, sizeof(c->reference), "%s", r->reference);
    if (r->status != EKYC_VERIFIED)
        return;
    /* A record without a name is not a different name: it stays -1 and goes to review. */
    int named = 0;
    for (const char *p = r->name; *p && !named; p++)
        named = *p != ' ';
    if (named)
        c->name_score = screen_name_score(r->name, name);
    if (dob != NULL && dob[0] && r->date_of_birth[0])
        c->dob_match = strcmp(dob, r->date_of_birth) == 0;
}

/* A check that could not be made: nothing to compare. */
static void unanswered(enum ekyc_status status, struct ekyc_check *c)
{
    memset(c, 0, sizeof(*c));
    c->status = status;
    c->name_score = -1;
    c->dob_match = -1;
}

void providers_gather(const struct loan_input *in, struct identity_facts *id)
{
    const struct ekyc_provider *ek = providers_ekyc();
    const struct bureau_provider *bu = providers_bureau();
    struct ekyc_record rec;
    if (in->aadhaar[0]) {
        if (ek == NULL) {
            unanswered(EKYC_DISABLED, &id->aadhaar);
        } else {
            ek->aadhaar(in->aadhaar, &rec);
            judge(&rec, in->name, in->date_of_birth, &id->aadhaar);
        }
    }
    if (in->pan[0]) {
        if (ek == NULL) {
            unanswered(EKYC_DISABLED, &id->pan);
        } else {
            ek->pan(in->pan, &rec);
            judge(&rec, in->name, in->date_of_birth, &id->pan);
        }
    }
    if (in->bank_account[0] && in->ifsc[0]) {
        if (ek == NULL) {
            unanswered(EKYC_DISABLED, &id->bank);
        } else {
            ek->bank_account(in->bank_account, in->ifsc, &rec);
            judge(&rec, in->name, NULL, &id->bank);
            /* The holder the applicant typed must be the account's holder too: the lower of
             * the two scores counts. */
            if (id->bank.status == EKYC_VERIFIED && id->bank.name_score >= 0 &&
                in->holder_name != NULL) {
                double h = screen_name_score(rec.name, in->holder_name);
                if (h < id->bank.name_score)
                    id->bank.name_score = h;
            }
        }
    }
    /* The bureau last, and only for a PAN the eKYC answers make the applicant's own: a
     * stranger's PAN typed with one's own name fetches nobody's credit report. */
    if (in->pan[0] && loan_identity_confirmed(id)) {
        if (bu == NULL)
            id->bureau.status = BUREAU_DISABLED;
        else
            bu->report(in->pan, &id->bureau);
    }
    sodium_memzero(&rec, sizeof(rec));
}

int providers_sandbox_register(arena *a, const struct loan_input *in, int bureau_score, int overdue,
                               int enquiries)
{
    char h[65];
    const char *dob = in->date_of_birth[0] ? in->date_of_birth : NULL;
    if (in->aadhaar[0]) {
        digest(in->aadhaar, h);
        const char *p[4] = {"aadhaar", h, in->name, dob};
        if (!db_ok(db_exec(a, SQL(SBX_REGISTER_IDENTITY), 4, p)))
            return -1;
    }
    if (in->pan[0]) {
        digest(in->pan, h);
        const char *p[4] = {"pan", h, in->name, dob};
        if (!db_ok(db_exec(a, SQL(SBX_REGISTER_IDENTITY), 4, p)))
            return -1;
        const char *r[6] = {h,
                            bureau_score % 2 ? "CRIF" : "CIBIL",
                            arena_printf(a, "%d", bureau_score),
                            arena_printf(a, "%d", 1 + bureau_score % 3),
                            arena_printf(a, "%d", overdue),
                            arena_printf(a, "%d", enquiries)};
        if (!db_ok(db_exec(a, SQL(SBX_REGISTER_REPORT), 6, r)))
            return -1;
    }
    if (in->bank_account[0]) {
        char key[48];
        snprintf(key, sizeof(key), "%s@%s", in->bank_account, in->ifsc);
        digest(key, h);
        const char *p[4] = {"bank_account", h, in->name, NULL};
        if (!db_ok(db_exec(a, SQL(SBX_REGISTER_IDENTITY), 4, p)))
            return -1;
    }
    sbx.checked = 0; /* the next call sees the new rows */
    return 0;
}
