/*
 * Loading the credit policy (see credit.h). A model that fails risk_model_check is not used:
 * the worker logs why and keeps the version it had, so a bad row cannot start grading everyone
 * E; with no usable model at all, applications are decided without a grade and the log says so.
 */
#include "credit.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "js.h"
#include "log.h"
#include "market.h"

enum {
    CREDIT_VERSIONS,
    CREDIT_TIERS,
    CREDIT_MODEL,
    CREDIT_FEATURES,
    CREDIT_GRADES,
    CREDIT_SQL_COUNT
};

/* clang-format off */
static const struct db_stmt sql[CREDIT_SQL_COUNT] = {
    [CREDIT_VERSIONS] = {"credit_versions",
     "SELECT coalesce((SELECT version FROM bureau_tier_versions WHERE active), 0), "
     "coalesce((SELECT version FROM risk_models WHERE active), 0)"},
    [CREDIT_TIERS] = {"credit_tiers",
     "SELECT min_score, max_score, coalesce(max_loan::text, ''), label FROM bureau_tiers "
     "WHERE version = $1::int ORDER BY min_score DESC"},
    [CREDIT_MODEL] = {"credit_model",
     "SELECT intercept::float8, pdo::float8, base_points::float8, base_odds_bad::float8 "
     "FROM risk_models WHERE version = $1::int"},
    [CREDIT_FEATURES] = {"credit_features",
     "SELECT feature, coef::float8, ref::float8, lo::float8, hi::float8, reason_code, "
     "reason_text FROM risk_model_features WHERE version = $1::int"},
    [CREDIT_GRADES] = {"credit_grades",
     "SELECT grade, min_points, spread_bps FROM risk_grades WHERE version = $1::int "
     "ORDER BY min_points DESC"},
};
/* clang-format on */
const struct db_stmts credit_statements = DB_STMTS("credit", sql);
#define SQL(id) (&sql[id])

#define MAX_TIERS 16

static struct {
    time_t checked;
    int tier_version, model_version;
    struct bureau_tier tiers[MAX_TIERS];
    int ntiers;
    struct risk_model model;
    int have_model;
} pol;

static int load_tiers(arena *a, int version)
{
    const char *p[1] = {arena_printf(a, "%d", version)};
    PGresult *res = db_exec(a, SQL(CREDIT_TIERS), 1, p);
    if (!db_ok(res))
        return -1;
    int n = PQntuples(res) < MAX_TIERS ? PQntuples(res) : MAX_TIERS;
    for (int i = 0; i < n; i++) {
        struct bureau_tier *t = &pol.tiers[i];
        t->min_score = atoi(PQgetvalue(res, i, 0));
        t->max_score = atoi(PQgetvalue(res, i, 1));
        const char *lim = PQgetvalue(res, i, 2);
        t->max_loan = 0;
        if (lim[0] && js_parse_cents(lim, strlen(lim), LOAN_MAX_CENTS, &t->max_loan) != 0)
            t->max_loan = 0;
        snprintf(t->label, sizeof(t->label), "%s", PQgetvalue(res, i, 3));
    }
    pol.ntiers = n;
    pol.tier_version = version;
    return 0;
}

static int load_model(arena *a, int version)
{
    const char *p[1] = {arena_printf(a, "%d", version)};
    PGresult *m = db_exec(a, SQL(CREDIT_MODEL), 1, p);
    PGresult *f = db_ok(m) ? db_exec(a, SQL(CREDIT_FEATURES), 1, p) : NULL;
    PGresult *g = db_ok(f) ? db_exec(a, SQL(CREDIT_GRADES), 1, p) : NULL;
    if (!db_ok(m) || !db_ok(f) || !db_ok(g))
        return -1;
    struct risk_model nm;
    memset(&nm, 0, sizeof(nm));
    nm.version = version;
    int seen = 0;
    if (PQntuples(m) == 1) {
        nm.intercept = atof(PQgetvalue(m, 0, 0));
        nm.pdo = atof(PQgetvalue(m, 0, 1));
        nm.base_points = atof(PQgetvalue(m, 0, 2));
        nm.base_odds_bad = atof(PQgetvalue(m, 0, 3));
    }
    for (int i = 0; i < PQntuples(f); i++) {
        int k = risk_feature_parse(PQgetvalue(f, i, 0));
        if (k < 0)
            continue;
        struct risk_coef *c = &nm.f[k];
        c->coef = atof(PQgetvalue(f, i, 1));
        c->ref = atof(PQgetvalue(f, i, 2));
        c->lo = atof(PQgetvalue(f, i, 3));
        c->hi = atof(PQgetvalue(f, i, 4));
        /* Cut text could end inside a UTF-8 character: a row that does not fit is refused. */
        if ((size_t)PQgetlength(f, i, 5) >= sizeof(c->code) ||
            (size_t)PQgetlength(f, i, 6) >= sizeof(c->text))
            continue;
        snprintf(c->code, sizeof(c->code), "%s", PQgetvalue(f, i, 5));
        snprintf(c->text, sizeof(c->text), "%s", PQgetvalue(f, i, 6));
        seen |= 1 << k;
    }
    for (int i = 0; i < PQntuples(g) && i < RISK_MAX_GRADES; i++) {
        nm.grades[i].grade = PQgetvalue(g, i, 0)[0];
        nm.grades[i].min_points = atoi(PQgetvalue(g, i, 1));
        nm.grades[i].spread_bps = atoi(PQgetvalue(g, i, 2));
        nm.ngrades = i + 1;
    }
    char err[160] = "";
    if (PQntuples(m) != 1 || seen != (1 << RISK_NFEATURES) - 1 ||
        risk_model_check(&nm, err, sizeof(err)) != 0) {
        log_msg(LOG_ERROR, "risk model version %d is not usable (%s); keeping version %d", version,
                err[0] ? err : "incomplete rows", pol.have_model ? pol.model.version : 0);
        pol.model_version = version; /* do not retry every second */
        return 0;
    }
    pol.model = nm;
    pol.have_model = 1;
    pol.model_version = version;
    return 0;
}

int credit_policy(const char *country_code, struct credit_policy *cp)
{
    memset(cp, 0, sizeof(*cp));
    time_t now = time(NULL);
    if (now != pol.checked) {
        arena *a = arena_new(8192);
        if (a == NULL)
            return -1;
        PGresult *v = db_exec(a, SQL(CREDIT_VERSIONS), 0, NULL);
        if (!db_ok(v) || PQntuples(v) != 1) {
            arena_free(a);
            /* With the database away, the policy loaded before stays in force. */
            if (pol.checked == 0)
                return -1;
            goto fill;
        }
        int tv = atoi(PQgetvalue(v, 0, 0)), mv = atoi(PQgetvalue(v, 0, 1));
        int rc = 0;
        if (tv != pol.tier_version) {
            if (tv == 0) {
                pol.ntiers = 0;
                pol.tier_version = 0;
            } else {
                rc |= load_tiers(a, tv);
            }
        }
        if (mv != pol.model_version) {
            if (mv == 0) {
                pol.have_model = 0;
                pol.model_version = 0;
            } else {
                rc |= load_model(a, mv);
            }
        }
        arena_free(a);
        if (rc != 0)
            return -1;
        pol.checked = now;
    }
fill:
    cp->tier_version = pol.tier_version;
    cp->tiers = pol.tiers;
    cp->ntiers = pol.ntiers;
    cp->model = pol.have_model ? &pol.model : NULL;
    struct base_rate br;
    int rc = market_base_rate(country_code, &br);
    if (rc < 0)
        return -1;
    /* A base rate outside -100 % .. 100 % is a units mistake in the file (basis points loaded as
     * percent), not a price: the loan waits for correct data instead. */
    if (rc == 0 && (br.bps < -10000 || br.bps > 10000)) {
        log_msg(LOG_ERROR, "base rate %s = %d bps is out of range; pricing unavailable", br.symbol,
                br.bps);
        rc = 1;
    }
    if (rc == 0) {
        cp->have_base_rate = 1;
        cp->base_bps = br.bps;
        snprintf(cp->base_symbol, sizeof(cp->base_symbol), "%s", br.symbol);
        snprintf(cp->base_as_of, sizeof(cp->base_as_of), "%s", br.as_of);
    }
    return 0;
}
