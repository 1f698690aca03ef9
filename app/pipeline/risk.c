/*
 * The scorecard's arithmetic (see risk.h for the model and docs/risk-model.md for version 1).
 *
 * Every term is computed against the reference applicant, so the same number serves three
 * purposes: its sum (plus the intercept) is the log-odds, factor * term is the points the
 * feature cost or earned, and the largest positive ones are the adverse reasons. Unknown bureau
 * features sit at their reference value and therefore neither cost nor earn anything.
 *
 * Robustness: risk_score() is defined for any model, even one that failed risk_model_check().
 * The rounded points are limited to +-1e9 before conversion to int (a huge coefficient would
 * otherwise make the conversion undefined) and a NaN score takes the last grade, the worst, so
 * a broken model can only ever err towards caution.
 */
#include "risk.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define POINTS_LIMIT      1e9
#define REASON_MIN_POINTS 0.5

static const char *const feature_names[RISK_NFEATURES] = {
    "dti", "credit_score", "loan_to_income", "ln_income", "overdue_accounts", "enquiries_6m",
};

/* +1: a larger value means more risk, so coef must be >= 0; -1: coef must be <= 0. */
static const int feature_sign[RISK_NFEATURES] = {+1, -1, +1, -1, +1, +1};

const char *risk_feature_name(enum risk_feature f)
{
    return (unsigned)f < RISK_NFEATURES ? feature_names[f] : "unknown";
}

int risk_feature_parse(const char *name)
{
    if (name == NULL)
        return -1;
    for (int i = 0; i < RISK_NFEATURES; i++)
        if (!strcmp(name, feature_names[i]))
            return i;
    return -1;
}

/* Writes the reason for refusing a model into err (when given) and returns -1. */
static int refuse(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int refuse(char *err, size_t errlen, const char *fmt, ...)
{
    if (err != NULL && errlen > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return -1;
}

/* 1 when s holds a NUL within its n bytes and is not empty. */
static int filled(const char *s, size_t n)
{
    return s[0] != '\0' && memchr(s, '\0', n) != NULL;
}

int risk_model_check(const struct risk_model *m, char *err, size_t errlen)
{
    if (err != NULL && errlen > 0)
        err[0] = '\0';
    if (m == NULL)
        return refuse(err, errlen, "no model");
    if (m->version < 1)
        return refuse(err, errlen, "version %d: must be 1 or more", m->version);
    if (!isfinite(m->intercept) || !isfinite(m->pdo) || !isfinite(m->base_points) ||
        !isfinite(m->base_odds_bad))
        return refuse(err, errlen, "intercept, pdo, base_points and base_odds_bad must be finite");
    if (m->pdo <= 0)
        return refuse(err, errlen, "pdo %g: must be positive", m->pdo);
    if (m->base_odds_bad <= 0)
        return refuse(err, errlen, "base_odds_bad %g: must be positive", m->base_odds_bad);

    for (int i = 0; i < RISK_NFEATURES; i++) {
        const struct risk_coef *c = &m->f[i];
        const char *name = feature_names[i];
        if (!isfinite(c->coef) || !isfinite(c->ref) || !isfinite(c->lo) || !isfinite(c->hi))
            return refuse(err, errlen, "%s: coef, ref, lo and hi must be finite", name);
        if (!(c->lo <= c->ref && c->ref <= c->hi))
            return refuse(err, errlen, "%s: needs lo <= ref <= hi, has %g, %g, %g", name, c->lo,
                          c->ref, c->hi);
        if (c->coef * feature_sign[i] < 0)
            return refuse(err, errlen, "%s: coef %g has the wrong sign (must be %s 0)", name,
                          c->coef, feature_sign[i] > 0 ? ">=" : "<=");
        if (!filled(c->code, sizeof(c->code)) || !filled(c->text, sizeof(c->text)))
            return refuse(err, errlen, "%s: reason code and text must be set", name);
    }

    if (m->ngrades != 5)
        return refuse(err, errlen, "%d grades: must be exactly A, B, C, D, E", m->ngrades);
    for (int i = 0; i < m->ngrades; i++) {
        const struct risk_grade *g = &m->grades[i];
        if (g->grade != 'A' + i)
            return refuse(err, errlen, "grade %d is '%c': grades must be A, B, C, D, E in order",
                          i + 1, g->grade);
        if (g->spread_bps < 0)
            return refuse(err, errlen, "grade %c: spread %d bps is negative", g->grade,
                          g->spread_bps);
        if (i > 0 && g->min_points >= m->grades[i - 1].min_points)
            return refuse(err, errlen, "grade %c: min_points %d is not below grade %c's %d",
                          g->grade, g->min_points, g[-1].grade, g[-1].min_points);
        if (i > 0 && g->spread_bps < m->grades[i - 1].spread_bps)
            return refuse(err, errlen, "grade %c: spread %d bps is below grade %c's %d", g->grade,
                          g->spread_bps, g[-1].grade, g[-1].spread_bps);
    }
    return 0;
}

static double clamp(double x, double lo, double hi)
{
    return x < lo ? lo : x > hi ? hi : x;
}

/* The features before clamping, in whole units; ratios take hi when there is no income. */
static void features(const struct risk_model *m, const struct risk_input *in,
                     double x[RISK_NFEATURES])
{
    double income = in->income_cents > 0 ? (double)in->income_cents : 0;
    double debt = in->debt_cents > 0 ? (double)in->debt_cents : 0;
    double loan = in->loan_cents > 0 ? (double)in->loan_cents : 0;
    x[RISK_DTI] = income > 0 ? debt / income : m->f[RISK_DTI].hi;
    x[RISK_CREDIT_SCORE] = in->credit_score;
    x[RISK_LTI] = income > 0 ? loan / income : m->f[RISK_LTI].hi;
    x[RISK_LN_INCOME] = log(fmax(1.0, income / 100.0));
    x[RISK_OVERDUE] = in->has_bureau ? in->overdue_accounts : m->f[RISK_OVERDUE].ref;
    x[RISK_ENQUIRIES] = in->has_bureau ? in->enquiries_6m : m->f[RISK_ENQUIRIES].ref;
}

static int round_points(double score)
{
    if (score != score)
        return -(int)POINTS_LIMIT;
    return (int)floor(clamp(score, -POINTS_LIMIT, POINTS_LIMIT) + 0.5);
}

int risk_score(const struct risk_model *m, const struct risk_input *in, struct risk_result *out)
{
    if (m == NULL || in == NULL || out == NULL)
        return -1;
    struct risk_result r;
    memset(&r, 0, sizeof(r));
    double factor = m->pdo / log(2.0);
    double offset = m->base_points + factor * log(m->base_odds_bad);

    features(m, in, r.x);
    r.log_odds = m->intercept;
    for (int i = 0; i < RISK_NFEATURES; i++) {
        const struct risk_coef *c = &m->f[i];
        r.x[i] = clamp(r.x[i], c->lo, c->hi);
        double term = c->coef * (r.x[i] - c->ref);
        r.log_odds += term;
        r.points_lost[i] = factor * term;
    }
    /* 1/(1+exp(-z)) is exact enough at both ends and never divides by zero. */
    r.pd = 1.0 / (1.0 + exp(-r.log_odds));
    r.score = offset - factor * r.log_odds;
    r.points = round_points(r.score);

    int g = m->ngrades > 0 ? m->ngrades - 1 : -1;
    if (m->ngrades > RISK_MAX_GRADES)
        g = RISK_MAX_GRADES - 1;
    if (r.score == r.score)
        for (int i = 0; i < g; i++)
            if (m->grades[i].min_points <= r.points) {
                g = i;
                break;
            }
    if (g >= 0) {
        r.grade = m->grades[g].grade;
        r.spread_bps = m->grades[g].spread_bps;
    }

    /* Selection of the worst few; strict > keeps ties in feature order. */
    int used[RISK_NFEATURES] = {0};
    while (r.nreasons < RISK_MAX_REASONS) {
        int worst = -1;
        for (int i = 0; i < RISK_NFEATURES; i++)
            if (!used[i] && r.points_lost[i] > REASON_MIN_POINTS &&
                (worst < 0 || r.points_lost[i] > r.points_lost[worst]))
                worst = i;
        if (worst < 0)
            break;
        used[worst] = 1;
        r.reason_codes[r.nreasons] = m->f[worst].code;
        r.reason_texts[r.nreasons] = m->f[worst].text;
        r.nreasons++;
    }
    *out = r;
    return 0;
}
