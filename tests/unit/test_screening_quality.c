/*
 * test_screening_quality.c - how well screen_search() finds listed people and leaves ordinary
 * people alone, measured on the real OFAC SDN list (data/sanctions/ofac_sdn_2024-05-03.csv.gz,
 * or $OFAC_SDN) and on tests/data/ordinary_names.txt (ordinary names of many cultures, written
 * by hand for this purpose and never used to tune the rules).
 *
 * Query sets, all built from the list itself by a fixed rule (no hand-picked names):
 *   - partial: every listed person written "SURNAME, Given1 Given2 …" becomes "Given1 SURNAME"
 *     (the commonest real-world shortening). Entries with an even ent_num were used while the
 *     rules were written; the odd ones are the held-out set the goal is measured on (>= 95 %
 *     found at review or block, the right entry among the candidates).
 *   - variants: listed names reordered "Given SURNAME", lower-cased with an accent, and one typo
 *     in 2-3 token personal names and in entity names (>= 99 % found).
 *   - ordinary: the hand-written names (<= 1 % at review or block).
 *   - dates of birth: held-out partial names of entries with a day-exact DOB, typed with that
 *     date (blocking expected) and with a date five years off (never blocking).
 * Each test prints its figures ("quality …" lines, read by make bench) and asserts the goals.
 * The tests skip when the list file is absent. Memory is owned by the state and freed in the
 * teardown.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zlib.h>

#include "screening.h"

#define DEFAULT_SDN   "data/sanctions/ofac_sdn_2024-05-03.csv.gz"
#define ORDINARY_FILE "tests/data/ordinary_names.txt"
#define TOP           5

struct src {
    long id;
    int person;
    char *name;
    screen_facts facts;
};

struct quality {
    screen_list *l;
    struct src *src;
    size_t nsrc, cap;
    int failed;
};

static char *slurp_gz(const char *path, size_t *len)
{
    gzFile f = gzopen(path, "rb");
    size_t cap = 1 << 20, n = 0;
    char *buf;

    if (!f)
        return NULL;
    buf = malloc(cap + 1);
    for (;;) {
        int r;

        if (n == cap) {
            char *nb = realloc(buf, cap * 2 + 1);

            if (!nb)
                break;
            buf = nb;
            cap *= 2;
        }
        r = gzread(f, buf + n, (unsigned)(cap - n));
        if (r <= 0)
            break;
        n += (size_t)r;
    }
    gzclose(f);
    buf[n] = '\0';
    *len = n;
    return buf;
}

struct aka_ctx {
    struct quality *q;
    const screen_entry *e;
};

static int add_aka(const char *name, void *ud)
{
    struct aka_ctx *a = ud;

    if (screen_list_add(a->q->l, a->e->entry_id, name, a->e->type) != 0)
        a->q->failed = 1;
    return 0;
}

static int add_entry(const screen_entry *e, void *ud)
{
    struct quality *q = ud;
    struct aka_ctx a = {q, e};
    screen_facts f;

    if (e->type && (!strcmp(e->type, "vessel") || !strcmp(e->type, "aircraft")))
        return 0;
    if (screen_list_add(q->l, e->entry_id, e->name, e->type) != 0)
        q->failed = 1;
    screen_remarks_akas(e->remarks, add_aka, &a);
    screen_parse_facts(e->remarks, &f);
    f.nnat = 0; /* names, not codes: the index keeps codes only */
    if (screen_list_facts(q->l, e->entry_id, &f) != 0)
        q->failed = 1;
    if (q->nsrc == q->cap) {
        q->cap = q->cap ? q->cap * 2 : 1024;
        q->src = realloc(q->src, q->cap * sizeof(*q->src));
    }
    q->src[q->nsrc].id = e->entry_id;
    q->src[q->nsrc].person = e->type && !strcmp(e->type, "individual");
    q->src[q->nsrc].name = strdup(e->name);
    q->src[q->nsrc].facts = f;
    q->nsrc++;
    return 0;
}

static int setup(void **state)
{
    const char *path = getenv("OFAC_SDN");
    struct quality *q = calloc(1, sizeof(*q));
    size_t len = 0;
    char err[256], *buf;

    *state = q;
    buf = slurp_gz(path && *path ? path : DEFAULT_SDN, &len);
    if (!buf)
        return 0;
    q->l = screen_list_new();
    if (screen_parse_sdn(buf, len, add_entry, q, err, sizeof(err)) < 0 || q->failed ||
        screen_list_build(q->l) != 0) {
        print_error("cannot load the list: %s\n", err);
        free(buf);
        return -1;
    }
    free(buf);
    return 0;
}

static int teardown(void **state)
{
    struct quality *q = *state;

    for (size_t i = 0; i < q->nsrc; i++)
        free(q->src[i].name);
    free(q->src);
    screen_list_free(q->l);
    free(q);
    return 0;
}

static const screen_query QUERY = {NULL, NULL, 0.85, 0.92, 0.80};

/* 1 when entry id is among the candidates at level >= review. */
static int flagged_as(const screen_list *l, const char *name, const screen_query *sq, long id,
                      int *level_of_entry)
{
    screen_candidate c[TOP];
    int n = screen_search(l, name, sq, c, TOP);

    assert_true(n >= 0);
    *level_of_entry = -1;
    for (int i = 0; i < n; i++)
        if (c[i].entry_id == id) {
            *level_of_entry = c[i].level;
            return c[i].level >= SCREEN_REVIEW;
        }
    return 0;
}

/* "SURNAME, Given1 Given2…" -> "Given1 SURNAME" when the given part has two or more words. */
static int shorten(const char *name, char *out, size_t len)
{
    const char *comma = strchr(name, ',');
    const char *g, *ge;

    if (!comma || strchr(comma + 1, ','))
        return 0;
    g = comma + 1;
    while (*g == ' ')
        g++;
    ge = strchr(g, ' ');
    if (!ge || ge - g < 2 || strchr(g, '.'))
        return 0;
    snprintf(out, len, "%.*s %.*s", (int)(ge - g), g, (int)(comma - name), name);
    return 1;
}

/* The published examples (first given name and surname of listed people), each flagged
 * for review with its entry first. */
static void test_published_examples(void **state)
{
    struct quality *q = *state;
    static const struct {
        const char *typed, *listed;
    } ex[] = {{"Carlos Ibarra Cardona", "IBARRA CARDONA, Carlos Jesus Ivan"},
              {"Sara Hamou", "HAMOU, Sara Aleksandra Fayssal"},
              {"Ali Turab", "TURAB, Ali Muhammad Abu"},
              {"Gabril Badri", "BADRI, Gabril Abdul Kareem"}};

    if (!q->l)
        skip();
    for (size_t i = 0; i < sizeof(ex) / sizeof(ex[0]); i++) {
        screen_candidate c[1];

        assert_int_equal(screen_search(q->l, ex[i].typed, &QUERY, c, 1), 1);
        print_message("  %s -> %s (%s, %s, %.4f)\n", ex[i].typed, c[0].matched_name,
                      screen_kind_name(c[0].kind), screen_level_name(c[0].level), c[0].score);
        assert_string_equal(c[0].matched_name, ex[i].listed);
        assert_int_equal(c[0].kind, SCREEN_KIND_PARTIAL);
        assert_int_equal(c[0].level, SCREEN_REVIEW);
    }
}

static void test_partial_names(void **state)
{
    struct quality *q = *state;
    long total[2] = {0}, found[2] = {0};

    if (!q->l)
        skip();
    for (size_t i = 0; i < q->nsrc; i++) {
        char typed[512];
        int lv, set = (int)(q->src[i].id & 1);

        if (!q->src[i].person || !shorten(q->src[i].name, typed, sizeof(typed)))
            continue;
        total[set]++;
        if (flagged_as(q->l, typed, &QUERY, q->src[i].id, &lv))
            found[set]++;
        else if (getenv("QUALITY_VERBOSE") && set == 1)
            print_message("  missed: %s (%s)\n", typed, q->src[i].name);
    }
    print_message("quality partial_heldout found=%ld of %ld (%.1f%%) tuning found=%ld of %ld "
                  "(%.1f%%)\n",
                  found[1], total[1], 100.0 * (double)found[1] / (double)total[1], found[0],
                  total[0], 100.0 * (double)found[0] / (double)total[0]);
    assert_true(total[1] > 1000);
    assert_true((double)found[1] >= 0.95 * (double)total[1]);
}

/* One typo in a letter run of >= 4 letters of q, chosen by the counter k. */
static int typo(char *q, unsigned k)
{
    size_t n = strlen(q), starts[64], nrun = 0;

    for (size_t i = 0; i < n && nrun < 64;) {
        size_t j = i;

        while (j < n && ((q[j] | 0x20) >= 'a' && (q[j] | 0x20) <= 'z'))
            j++;
        if (j - i >= 4)
            starts[nrun++] = i + 1 + k % (j - i - 2);
        i = j + 1;
    }
    if (nrun == 0)
        return 0;
    size_t p = starts[k % nrun];
    switch (k % 3) {
    case 0: { /* transposition */
        char c = q[p];

        q[p] = q[p + 1];
        q[p + 1] = c;
        break;
    }
    case 1: /* deletion */
        memmove(q + p, q + p + 1, n - p);
        break;
    default: /* substitution */
        q[p] = q[p] == 'x' || q[p] == 'X' ? 'k' : 'x';
        break;
    }
    return 1;
}

static int words(const char *s)
{
    int n = 0, in = 0;

    for (; *s; s++) {
        int sp = *s == ' ' || *s == ',';

        n += !sp && !in;
        in = !sp;
    }
    return n;
}

static void test_variants(void **state)
{
    struct quality *q = *state;
    long total = 0, found = 0;

    if (!q->l)
        skip();
    for (size_t i = 0; i < q->nsrc; i += 3) {
        const struct src *s = &q->src[i];
        char typed[600];
        const char *comma = strchr(s->name, ',');
        int lv, v = (int)(i / 3 % 3);

        if (s->person && comma && !strchr(comma + 1, ','))
            snprintf(typed, sizeof(typed), "%s %.*s", comma + 2, (int)(comma - s->name), s->name);
        else
            snprintf(typed, sizeof(typed), "%s", s->name);
        if (v == 1) { /* lower case, one accent */
            for (char *p = typed; *p; p++)
                *p = (char)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p);
            char *e = strchr(typed, 'e');
            if (e && strlen(typed) + 2 < sizeof(typed)) {
                memmove(e + 2, e + 1, strlen(e + 1) + 1);
                e[0] = '\xc3';
                e[1] = '\xa9';
            }
        } else if (v == 2) {
            int w = words(typed);

            if ((s->person && (w < 2 || w > 3)) || !typo(typed, (unsigned)i))
                continue;
        }
        total++;
        if (flagged_as(q->l, typed, &QUERY, s->id, &lv))
            found++;
        else if (getenv("QUALITY_VERBOSE"))
            print_message("  variant missed: %s (%s)\n", typed, s->name);
    }
    print_message("quality variants found=%ld of %ld (%.2f%%)\n", found, total,
                  100.0 * (double)found / (double)total);
    assert_true((double)found >= 0.99 * (double)total);
}

static void test_ordinary(void **state)
{
    struct quality *q = *state;
    FILE *f = fopen(ORDINARY_FILE, "r");
    char line[4096]; /* the file's comment line is long: a line must be read whole */
    long total = 0, flagged = 0;

    if (!q->l || !f) {
        if (f)
            fclose(f);
        skip();
    }
    while (fgets(line, sizeof(line), f)) {
        screen_candidate c[1];
        int n;

        line[strcspn(line, "\r\n")] = '\0';
        if (line[0] == '#' || line[0] == '\0')
            continue;
        n = screen_search(q->l, line, &QUERY, c, 1);
        assert_true(n >= 0);
        total++;
        if (n == 1 && c[0].level >= SCREEN_REVIEW) {
            flagged++;
            print_message("  ordinary flagged: %s -> %s (%.4f %s %s)\n", line, c[0].matched_name,
                          c[0].score, screen_kind_name(c[0].kind), screen_level_name(c[0].level));
        }
    }
    fclose(f);
    print_message("quality ordinary flagged=%ld of %ld (%.2f%%)\n", flagged, total,
                  100.0 * (double)flagged / (double)total);
    assert_true(total >= 300);
    assert_true((double)flagged <= 0.01 * (double)total);
}

static void test_dates_of_birth(void **state)
{
    struct quality *q = *state;
    long total = 0, blocked = 0, other_blocked = 0;

    if (!q->l)
        skip();
    for (size_t i = 0; i < q->nsrc; i++) {
        const struct src *s = &q->src[i];
        char typed[512], dob[16], off[16];
        screen_query sq = QUERY;
        int lv;

        if (!(s->id & 1) || !s->person || s->facts.ndob == 0 ||
            s->facts.dob[0].precision != SCREEN_DOB_DAY || !shorten(s->name, typed, sizeof(typed)))
            continue;
        int d = s->facts.dob[0].from, last = 0;
        for (int k = 0; k < s->facts.ndob; k++)
            last = s->facts.dob[k].to / 10000 > last ? s->facts.dob[k].to / 10000 : last;
        snprintf(dob, sizeof(dob), "%04d-%02d-%02d", d / 10000, d / 100 % 100, d % 100);
        /* a date after every listed one, in another year */
        snprintf(off, sizeof(off), "%04d-%02d-%02d", last + 5, d / 100 % 100,
                 d % 100 == 29 && d / 100 % 100 == 2 ? 28 : d % 100);
        total++;
        sq.date_of_birth = dob;
        flagged_as(q->l, typed, &sq, s->id, &lv);
        blocked += lv == SCREEN_BLOCK;
        sq.date_of_birth = off;
        flagged_as(q->l, typed, &sq, s->id, &lv);
        other_blocked += lv == SCREEN_BLOCK;
        if (lv == SCREEN_BLOCK)
            print_message("  blocked with %s: %s (%s)\n", off, typed, s->name);
    }
    print_message("quality dob_agrees blocked=%ld of %ld; dob_other_year blocked=%ld\n", blocked,
                  total, other_blocked);
    assert_true(total > 500);
    assert_true((double)blocked >= 0.95 * (double)total);
    assert_int_equal(other_blocked, 0);
}

/* The decision's search (best candidate only, reporting from 0.80) prunes candidates by an upper
 * bound of what they can reach; it must reach the same level as a search that looks at many more
 * candidates from a score of 0. Checked on every query of the sets above. */
static void test_bound_is_honest(void **state)
{
    struct quality *q = *state;
    static const screen_query wide = {NULL, NULL, 0.85, 0.92, 0.01};
    static screen_candidate many[50];
    long checked = 0, differ = 0;

    if (!q->l)
        skip();
    for (size_t i = 0; i < q->nsrc; i++) {
        char typed[512];
        screen_candidate one[1];

        for (int form = 0; form < 2; form++) {
            if (form == 0 && !shorten(q->src[i].name, typed, sizeof(typed)))
                continue;
            if (form == 1)
                snprintf(typed, sizeof(typed), "%s", q->src[i].name);
            int n1 = screen_search(q->l, typed, &QUERY, one, 1);
            int nm = screen_search(q->l, typed, &wide, many, 50);
            int l1 = n1 == 1 ? one[0].level : SCREEN_CLEAR, lm = nm >= 1 ? many[0].level : 0;

            assert_true(n1 >= 0 && nm >= 0);
            checked++;
            if (l1 != lm) {
                differ++;
                print_message("  bound: %s -> %s alone, %s among 50\n", typed,
                              screen_level_name(l1), screen_level_name(lm));
            }
        }
    }
    /* and names a review found the first bound wrong on */
    static const char *const extra[] = {"Ali Hussein",    "Raul Flores",       "Ali Hassan",
                                        "Mohammed Hamou", "Mohammad Hosseini", "Sergey Ivanov"};
    for (size_t i = 0; i < sizeof(extra) / sizeof(extra[0]); i++) {
        screen_candidate one[1];
        int n1 = screen_search(q->l, extra[i], &QUERY, one, 1);
        int nm = screen_search(q->l, extra[i], &wide, many, 50);

        checked++;
        if ((n1 == 1 ? one[0].level : 0) != (nm >= 1 ? many[0].level : 0)) {
            differ++;
            print_message("  bound: %s differs\n", extra[i]);
        }
    }
    print_message("quality bound checked=%ld differ=%ld\n", checked, differ);
    assert_int_equal(differ, 0);
}

/* Latency of one decision's screen_search (max 1) over every query kind above. */
static void test_latency(void **state)
{
    struct quality *q = *state;
    double *t;
    size_t n = 0;

    if (!q->l)
        skip();
    t = malloc(q->nsrc * sizeof(*t));
    for (size_t i = 0; i < q->nsrc; i++) {
        char typed[512];
        screen_candidate c[1];
        struct timespec a, b;

        if (!shorten(q->src[i].name, typed, sizeof(typed)))
            snprintf(typed, sizeof(typed), "%s", q->src[i].name);
        clock_gettime(CLOCK_MONOTONIC, &a);
        assert_true(screen_search(q->l, typed, &QUERY, c, 1) >= 0);
        clock_gettime(CLOCK_MONOTONIC, &b);
        t[n++] = (double)(b.tv_sec - a.tv_sec) * 1e6 + (double)(b.tv_nsec - a.tv_nsec) / 1e3;
        if (getenv("QUALITY_VERBOSE") && t[n - 1] > 300)
            print_message("  slow: %.0f us %s\n", t[n - 1], typed);
    }
    for (size_t i = 1; i < n; i++) /* insertion sort is fine for ~14k */
        for (size_t j = i; j > 0 && t[j] < t[j - 1]; j--) {
            double x = t[j];
            t[j] = t[j - 1];
            t[j - 1] = x;
        }
    print_message("quality latency p50_us=%.1f p99_us=%.1f names=%zu\n", t[n / 2], t[n * 99 / 100],
                  n);
    free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_published_examples),
        cmocka_unit_test(test_partial_names),
        cmocka_unit_test(test_variants),
        cmocka_unit_test(test_ordinary),
        cmocka_unit_test(test_dates_of_birth),
        cmocka_unit_test(test_bound_is_honest),
        cmocka_unit_test(test_latency),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
