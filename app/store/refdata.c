/*
 * Per-process reference data. The sanctions index takes about 0.1 s to build from the full OFAC
 * list, so it is built once per list version per worker and then serves each screening in
 * about 0.1 ms; the version check costs one indexed query a second at most.
 */
#include "refdata.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "config.h"
#include "log.h"
#include "validate.h"

enum {
    REF_COUNTRIES,
    REF_ALIASES,
    REF_VERSIONS,
    REF_SANCTION_NAMES,
    REF_SANCTION_FACTS,
    REF_PEP,
    REF_SENIOR,
    REFDATA_SQL_COUNT
};

/* clang-format off */
static const struct db_stmt sql[REFDATA_SQL_COUNT] = {
    [REF_COUNTRIES] = {"ref_countries",
     "SELECT c.alpha2, c.alpha3, c.name, c.region, coalesce(r.level, '') "
     "FROM countries c LEFT JOIN country_risk r ON r.alpha2 = c.alpha2"},
    [REF_ALIASES] = {"ref_aliases", "SELECT alias, alpha2 FROM country_aliases"},
    [REF_VERSIONS] = {"ref_versions",
     "SELECT coalesce(string_agg(id::text || ':' || entries || ':' || name || ':' || version, ',' "
     "ORDER BY id), ''), "
     "(SELECT coalesce(max(id), 0) || ':' || count(*) FROM pep_list) "
     "FROM sanctions_lists WHERE active"},
    [REF_SANCTION_NAMES] = {"ref_sanction_names",
     "SELECT entry_id, name, type FROM sanctions_names WHERE list_id = $1::bigint"},
    [REF_SANCTION_FACTS] = {"ref_sanction_facts",
     "SELECT entry_id, array_to_string(dob, ' '), array_to_string(nationalities, ' ') "
     "FROM sanctions_entries WHERE list_id = $1::bigint "
     "AND (cardinality(dob) > 0 OR cardinality(nationalities) > 0)"},
    [REF_PEP] = {"ref_pep", "SELECT id, name FROM pep_list"},
    [REF_SENIOR] = {"ref_senior",
     "SELECT name FROM senior_employees WHERE surname = $1 AND ((phone_digits <> '' AND "
     "phone_digits = $2) OR (city <> '' AND city = lower($3))) ORDER BY id LIMIT 1"},
};
/* clang-format on */
const struct db_stmts refdata_statements = DB_STMTS("refdata", sql);
#define SQL(id) (&sql[id])

struct alias {
    char *alias;
    int country;
};

#define MAX_LISTS 4

struct sanctions_index {
    long long id;
    long entries;
    char name[64];
    char version[32];
    screen_list *list;
};

static struct {
    int loaded;
    struct country_info *countries;
    int ncountries;
    struct alias *aliases;
    int naliases;
    char versions[512];
    time_t checked;
    struct sanctions_index lists[MAX_LISTS];
    int nlists;
    int incomplete; /* an active list is not indexed (a query failed): retried every check */
    screen_list *pep;
    char **pep_names; /* by entry id order of load */
    long long *pep_ids;
    int npep;
} ref;

static void free_lists(void)
{
    for (int i = 0; i < ref.nlists; i++)
        screen_list_free(ref.lists[i].list);
    ref.nlists = 0;
    screen_list_free(ref.pep);
    ref.pep = NULL;
    for (int i = 0; i < ref.npep; i++)
        free(ref.pep_names[i]);
    free(ref.pep_names);
    free(ref.pep_ids);
    ref.pep_names = NULL;
    ref.pep_ids = NULL;
    ref.npep = 0;
    ref.versions[0] = '\0';
}

static int load_countries(void)
{
    arena *a = arena_new(4096);
    if (a == NULL)
        return -1;
    PGresult *res = db_exec(a, SQL(REF_COUNTRIES), 0, NULL);
    PGresult *al = db_ok(res) ? db_exec(a, SQL(REF_ALIASES), 0, NULL) : NULL;
    if (!db_ok(res) || !db_ok(al)) {
        arena_free(a);
        return -1;
    }
    int n = PQntuples(res), m = PQntuples(al);
    ref.countries = calloc((size_t)n, sizeof(*ref.countries));
    ref.aliases = calloc((size_t)m + 1, sizeof(*ref.aliases));
    if (ref.countries == NULL || ref.aliases == NULL) {
        arena_free(a);
        return -1;
    }
    for (int i = 0; i < n; i++) {
        struct country_info *c = &ref.countries[i];
        snprintf(c->code, sizeof(c->code), "%s", PQgetvalue(res, i, 0));
        snprintf(c->alpha3, sizeof(c->alpha3), "%s", PQgetvalue(res, i, 1));
        c->name = strdup(PQgetvalue(res, i, 2));
        c->region = strdup(PQgetvalue(res, i, 3));
        const char *lvl = PQgetvalue(res, i, 4);
        c->risk = !strcmp(lvl, "call_for_action")        ? RISK_CALL_FOR_ACTION
                  : !strcmp(lvl, "increased_monitoring") ? RISK_MONITORING
                                                         : RISK_NONE;
    }
    ref.ncountries = n;
    for (int i = 0; i < m; i++) {
        const char *code = PQgetvalue(al, i, 1);
        for (int j = 0; j < n; j++) {
            if (!strcmp(ref.countries[j].code, code)) {
                ref.aliases[ref.naliases].alias = strdup(PQgetvalue(al, i, 0));
                ref.aliases[ref.naliases].country = j;
                ref.naliases++;
                break;
            }
        }
    }
    arena_free(a);
    ref.loaded = 1;
    return 0;
}

const struct country_info *refdata_country(const char *q, int *db_down)
{
    *db_down = 0;
    if (!ref.loaded && load_countries() != 0) {
        *db_down = 1;
        return NULL;
    }
    size_t len = strlen(q);
    while (len > 0 && q[len - 1] == ' ')
        len--;
    while (len > 0 && *q == ' ') {
        q++;
        len--;
    }
    if (len == 0 || len > 100)
        return NULL;
    char key[128];
    memcpy(key, q, len);
    key[len] = '\0';
    for (int i = 0; i < ref.ncountries; i++) {
        struct country_info *c = &ref.countries[i];
        if ((len == 2 && !strcasecmp(key, c->code)) || (len == 3 && !strcasecmp(key, c->alpha3)) ||
            !strcasecmp(key, c->name))
            return c;
    }
    /* Aliases are stored lower case without diacritics: fold the query the same way. */
    char folded[256];
    screen_normalize(key, folded, sizeof(folded));
    for (int i = 0; i < ref.naliases; i++)
        if (!strcasecmp(key, ref.aliases[i].alias) || !strcmp(folded, ref.aliases[i].alias))
            return &ref.countries[ref.aliases[i].country];
    for (int i = 0; i < ref.ncountries; i++) {
        char fn[256];
        screen_normalize(ref.countries[i].name, fn, sizeof(fn));
        if (folded[0] && !strcmp(folded, fn))
            return &ref.countries[i];
    }
    return NULL;
}

/* Reloads sanctions and PEP indexes when their versions changed. -1 when the DB is down. */
static int refresh_lists(void)
{
    time_t now = time(NULL);
    if (ref.checked == now && ref.versions[0] != '\0')
        return 0;
    arena *a = arena_new(4096);
    if (a == NULL)
        return -1;
    PGresult *v = db_exec(a, SQL(REF_VERSIONS), 0, NULL);
    if (!db_ok(v)) {
        arena_free(a);
        return -1;
    }
    ref.checked = now;
    char versions[512];
    snprintf(versions, sizeof(versions), "%s|%s", PQgetvalue(v, 0, 0), PQgetvalue(v, 0, 1));
    if (!strcmp(versions, ref.versions)) {
        arena_free(a);
        return 0;
    }
    free_lists();
    int incomplete = 0;
    /* "id:entries:name:version,…" of the active lists (a name may contain ':'). */
    char buf[512];
    snprintf(buf, sizeof(buf), "%s", PQgetvalue(v, 0, 0));
    char *save = NULL;
    for (char *tok = strtok_r(buf, ",", &save); tok && ref.nlists < MAX_LISTS;
         tok = strtok_r(NULL, ",", &save)) {
        char *c1 = strchr(tok, ':');
        char *c0 = c1 ? strchr(c1 + 1, ':') : NULL;
        char *c2 = c0 ? strrchr(tok, ':') : NULL;
        if (c1 == NULL || c0 == NULL || c2 == c0)
            continue;
        *c1 = *c0 = *c2 = '\0';
        struct sanctions_index *si = &ref.lists[ref.nlists];
        si->id = atoll(tok);
        si->entries = atol(c1 + 1);
        snprintf(si->name, sizeof(si->name), "%s", c0 + 1);
        snprintf(si->version, sizeof(si->version), "%s", c2 + 1);
        const char *p[1] = {tok};
        PGresult *names = db_exec(a, SQL(REF_SANCTION_NAMES), 1, p);
        if (!db_ok(names)) {
            incomplete = 1; /* an active list not indexed: nobody is screened as clear */
            continue;
        }
        si->list = screen_list_new();
        for (int i = 0; si->list && i < PQntuples(names); i++)
            screen_list_add(si->list, atoll(PQgetvalue(names, i, 0)), PQgetvalue(names, i, 1),
                            PQgetisnull(names, i, 2) ? NULL : PQgetvalue(names, i, 2));
        /* The dates of birth and nationalities: without them a matching date could not raise a
         * match, so a failure here is a failure to index the list. */
        PGresult *facts = db_exec(a, SQL(REF_SANCTION_FACTS), 1, p);
        int facts_ok = db_ok(facts);
        for (int i = 0; si->list && facts_ok && i < PQntuples(facts); i++) {
            screen_facts f;
            refdata_facts_parse(PQgetvalue(facts, i, 1), PQgetvalue(facts, i, 2), &f);
            facts_ok = screen_list_facts(si->list, atol(PQgetvalue(facts, i, 0)), &f) == 0;
        }
        if (si->list == NULL || !facts_ok || screen_list_build(si->list) != 0) {
            screen_list_free(si->list);
            si->list = NULL;
            incomplete = 1;
            continue;
        }
        log_msg(LOG_INFO, "sanctions list %s version %s indexed: %zu names", si->name, si->version,
                screen_list_count(si->list));
        ref.nlists++;
    }
    PGresult *pep = db_exec(a, SQL(REF_PEP), 0, NULL);
    if (db_ok(pep) && PQntuples(pep) > 0) {
        int n = PQntuples(pep);
        ref.pep = screen_list_new();
        ref.pep_names = calloc((size_t)n, sizeof(char *));
        ref.pep_ids = calloc((size_t)n, sizeof(long long));
        for (int i = 0; ref.pep && ref.pep_names && ref.pep_ids && i < n; i++) {
            ref.pep_ids[i] = atoll(PQgetvalue(pep, i, 0));
            ref.pep_names[i] = strdup(PQgetvalue(pep, i, 1));
            ref.npep++;
            screen_list_add(ref.pep, ref.pep_ids[i], ref.pep_names[i], "individual");
        }
        if (ref.pep && screen_list_build(ref.pep) != 0) {
            screen_list_free(ref.pep);
            ref.pep = NULL;
        }
    }
    /* An active list that could not be indexed is tried again at the next check; meanwhile
     * screening is incomplete and refdata_screen says so. */
    ref.incomplete = incomplete;
    snprintf(ref.versions, sizeof(ref.versions), "%s", incomplete ? "" : versions);
    arena_free(a);
    return 0;
}

int refdata_sanctions_active(struct refdata_list *out, int *nactive)
{
    *nactive = 0;
    memset(out, 0, sizeof(*out));
    /* With PostgreSQL down the lists indexed before still answer; never known is -1. */
    if (refresh_lists() != 0 && ref.versions[0] == '\0')
        return -1;
    /* The most recently loaded of the indexed lists (the highest id). */
    const struct sanctions_index *last = NULL;
    for (int i = 0; i < ref.nlists; i++)
        if (last == NULL || ref.lists[i].id > last->id)
            last = &ref.lists[i];
    *nactive = ref.nlists;
    if (last == NULL)
        return 0;
    out->name = last->name;
    out->version = last->version;
    out->entries = last->entries;
    return 1;
}

/* The last word of a normalised name, lower case. */
static void surname_of(const char *name, char *out, size_t len)
{
    char norm[256];
    screen_normalize(name, norm, sizeof(norm));
    const char *sp = strrchr(norm, ' ');
    const char *s = sp ? sp + 1 : norm;
    size_t n = strlen(s) < len - 1 ? strlen(s) : len - 1;
    memcpy(out, s, n);
    out[n] = 0;
}

void refdata_facts_parse(const char *dobs, const char *nats, screen_facts *f)
{
    memset(f, 0, sizeof(*f));
    char buf[1024]; /* SCREEN_MAX_DOB canonical dates of at most 22 bytes, nationality codes */
    char *save = NULL;
    snprintf(buf, sizeof(buf), "%s", dobs ? dobs : "");
    for (char *t = strtok_r(buf, " ", &save); t; t = strtok_r(NULL, " ", &save)) {
        if (!strcmp(t, "more") || f->ndob == SCREEN_MAX_DOB)
            f->dob_cut = 1;
        else if (screen_dob_parse(t, &f->dob[f->ndob]) == 0)
            f->ndob++;
    }
    snprintf(buf, sizeof(buf), "%s", nats ? nats : "");
    save = NULL;
    for (char *t = strtok_r(buf, " ", &save); t && f->nnat < SCREEN_MAX_NAT;
         t = strtok_r(NULL, " ", &save))
        snprintf(f->nat[f->nnat++], sizeof(f->nat[0]), "%s", t);
}

/* The space-separated words of s as a JSON array of strings. */
static json_object *words_json(const char *s, const char *sep)
{
    json_object *arr = json_object_new_array();
    size_t seplen = strlen(sep);
    while (s && *s) {
        const char *e = strstr(s, sep);
        size_t n = e ? (size_t)(e - s) : strlen(s);
        if (n > 0)
            json_object_array_add(arr, json_object_new_string_len(s, (int)n));
        s = e ? e + seplen : s + n;
    }
    return arr;
}

json_object *refdata_evidence_json(const screen_candidate *c)
{
    json_object *e = json_object_new_object();
    json_object_object_add(e, "kind", json_object_new_string(screen_kind_name(c->kind)));
    json_object_object_add(e, "matched", words_json(c->matched, " "));
    json_object_object_add(e, "missing", words_json(c->missing, " "));
    json_object_object_add(e, "unmatched", words_json(c->unmatched, " "));
    json_object *d = json_object_new_object();
    json_object_object_add(d, "listed", words_json(c->listed_dob, "; "));
    json_object_object_add(d, "result", json_object_new_string(screen_fact_name(c->dob)));
    json_object_object_add(e, "date_of_birth", d);
    json_object *n = json_object_new_object();
    json_object_object_add(n, "listed", words_json(c->listed_nat, "; "));
    json_object_object_add(n, "result", json_object_new_string(screen_fact_name(c->nationality)));
    json_object_object_add(e, "nationality", n);
    return e;
}

int refdata_search(const char *name, const char *dob, const char *country, int max,
                   struct refdata_candidate *out, int *nlists)
{
    const struct config *cfg = config_get();
    if (refresh_lists() != 0 && ref.versions[0] == '\0')
        return -1;
    *nlists = ref.nlists;
    if (max > REFDATA_MAX_CANDIDATES)
        max = REFDATA_MAX_CANDIDATES;
    screen_query sq = {dob, country, cfg->sanctions_review, cfg->sanctions_block, 0};
    screen_candidate c[REFDATA_MAX_CANDIDATES];
    int n = 0;
    for (int i = 0; i < ref.nlists; i++) {
        int k = screen_search(ref.lists[i].list, name, &sq, c, max);
        if (k < 0)
            return -1;
        /* insert each into the ranked out[] (level, then score), keeping the best max */
        for (int j = 0; j < k; j++) {
            int pos = n;
            while (pos > 0 &&
                   (c[j].level > out[pos - 1].c.level ||
                    (c[j].level == out[pos - 1].c.level && c[j].score > out[pos - 1].c.score)))
                pos--;
            if (pos >= max)
                continue;
            int last = n < max ? n : max - 1;
            for (int m = last; m > pos; m--)
                out[m] = out[m - 1];
            out[pos].c = c[j];
            out[pos].list = ref.lists[i].name;
            out[pos].version = ref.lists[i].version;
            if (n < max)
                n++;
        }
    }
    return n;
}

const char *refdata_list_name(int i, const char **version)
{
    if (i < 0 || i >= ref.nlists)
        return NULL;
    *version = ref.lists[i].version;
    return ref.lists[i].name;
}

int refdata_screen(arena *a, const struct loan_input *in, const char *country_code,
                   struct compliance_facts *f)
{
    const struct config *cfg = config_get();
    if (refresh_lists() != 0)
        return -1;
    f->screened = 0;
    f->sanctions_score = 0;
    f->sanctions_judged = 1;
    f->sanctions_level = SCREEN_CLEAR;
    f->sanctions_has_best = 0;
    /* The applicant's country (alpha-2, as the caller resolved it) for the nationality evidence. */
    screen_query sq = {in->date_of_birth[0] ? in->date_of_birth : NULL, country_code,
                       cfg->sanctions_review, cfg->sanctions_block, 0.80};
    int failed = ref.incomplete;
    /* A name with no Latin letters (Cyrillic, Arabic script…) normalises to nothing and would
     * match nothing: it is not screened, so it waits for an officer. */
    char norm[64];
    f->name_unscreenable = screen_normalize(in->name, norm, sizeof(norm)) == 0;
    for (int i = 0; i < ref.nlists; i++) {
        screen_candidate c;
        if (i == 0 || f->sanctions_list == NULL) {
            f->sanctions_list = ref.lists[i].name;
            f->sanctions_version = ref.lists[i].version;
        }
        int rc = screen_search(ref.lists[i].list, in->name, &sq, &c, 1);
        if (rc < 0) {
            /* not screened against this list: the whole screening never counts as clear */
            failed = 1;
            continue;
        }
        f->screened = 1;
        if (rc == 1 && (!f->sanctions_has_best || c.level > f->sanctions_level ||
                        (c.level == f->sanctions_level && c.score > f->sanctions_score))) {
            f->sanctions_best = c;
            f->sanctions_has_best = 1;
            f->sanctions_level = c.level;
            f->sanctions_score = c.score;
            f->sanctions_entry = c.entry_id;
            f->sanctions_name = arena_strdup(a, c.matched_name);
            f->sanctions_list = ref.lists[i].name;
            f->sanctions_version = ref.lists[i].version;
        }
    }
    if (failed || f->name_unscreenable)
        f->screened = 0;
    if (ref.pep != NULL) {
        screen_match m;
        if (screen_best(ref.pep, in->name, 0.92, &m) == 1)
            f->pep_name = arena_strdup(a, m.matched_name);
    }
    char surname[256], digits[32];
    surname_of(in->name, surname, sizeof(surname));
    size_t nd = 0;
    for (const char *p = in->phone; p && *p && nd + 1 < sizeof(digits); p++)
        if (*p >= '0' && *p <= '9')
            digits[nd++] = *p;
    digits[nd] = '\0';
    const char *p[3] = {surname, digits, in->city ? in->city : ""};
    PGresult *res = db_exec(a, SQL(REF_SENIOR), 3, p);
    if (!db_ok(res))
        return -1;
    if (PQntuples(res) == 1)
        f->senior_name = arena_strdup(a, PQgetvalue(res, 0, 0));
    return 0;
}
