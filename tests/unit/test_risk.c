/*
 * The risk scorecard: its scaling, each feature's direction and clamp, grades at their
 * boundaries, adverse reasons, the model checks and the applicant cases the product relies on.
 *
 * Version 1's numbers live in one place, v1_features[] and v1_grades[] of risk_v1.h;
 * test_sql_matches_model reads the INSERT rows of sql/006_risk_model.sql (from LOANFLOW_SQL_DIR,
 * default "sql", relative to the repository root where make runs the tests) and fails if they
 * differ, so the C tests and the migration cannot drift apart. RISK_FIGURES=1 prints the figures
 * quoted in docs/risk-model.md.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "risk.h"
#include "risk_v1.h"

#define UNITS(n) ((int64_t)((n)*100.0 + 0.5))

static double factor(const struct risk_model *m)
{
    return m->pdo / log(2.0);
}

/* Amounts in whole units; no bureau report. */
static struct risk_input app(double income, double debt, int score, double loan)
{
    struct risk_input in = {UNITS(income), UNITS(debt), UNITS(loan), score, 0, 0, 0};
    return in;
}

static struct risk_input bureau(struct risk_input in, int overdue, int enquiries)
{
    in.has_bureau = 1;
    in.overdue_accounts = overdue;
    in.enquiries_6m = enquiries;
    return in;
}

static struct risk_result score_with(const struct risk_model *m, struct risk_input in)
{
    struct risk_result r;
    assert_int_equal(risk_score(m, &in, &r), 0);
    return r;
}

static struct risk_result score(struct risk_input in)
{
    struct risk_model m = v1();
    return score_with(&m, in);
}

/* The reference applicant exactly: ln_income's ref moved to ln 60,000 so every term is 0. */
static struct risk_model at_reference(double intercept)
{
    struct risk_model m = v1();
    m.f[RISK_LN_INCOME].ref = log(60000.0);
    m.intercept = intercept;
    return m;
}

static const struct risk_input reference = {UNITS(60000), UNITS(12000), UNITS(60000), 720, 0, 0, 0};

/* The reference applicant under a model whose intercept puts them at `points`. */
static struct risk_result at_points(double points)
{
    struct risk_model m = at_reference(0);
    double f = factor(&m);
    m.intercept = (m.base_points + f * log(m.base_odds_bad) - points) / f;
    return score_with(&m, reference);
}

static void test_names(void **state)
{
    (void)state;
    const char *names[] = {"dti",       "credit_score",     "loan_to_income",
                           "ln_income", "overdue_accounts", "enquiries_6m"};
    for (int i = 0; i < RISK_NFEATURES; i++) {
        assert_string_equal(risk_feature_name((enum risk_feature)i), names[i]);
        assert_int_equal(risk_feature_parse(names[i]), i);
    }
    assert_string_equal(risk_feature_name(RISK_NFEATURES), "unknown");
    assert_int_equal(risk_feature_parse("DTI"), -1);
    assert_int_equal(risk_feature_parse(""), -1);
    assert_int_equal(risk_feature_parse(NULL), -1);
}

static void test_null_arguments(void **state)
{
    (void)state;
    struct risk_model m = v1();
    struct risk_result r;
    r.points = 12345;
    assert_int_equal(risk_score(NULL, &reference, &r), -1);
    assert_int_equal(risk_score(&m, NULL, &r), -1);
    assert_int_equal(risk_score(&m, &reference, NULL), -1);
    assert_int_equal(r.points, 12345);
}

static void test_base_odds_give_base_points(void **state)
{
    (void)state;
    struct risk_model m = at_reference(log(1.0 / 19));
    struct risk_result r = score_with(&m, reference);
    for (int i = 0; i < RISK_NFEATURES; i++)
        assert_true(r.points_lost[i] == 0.0);
    assert_true(fabs(r.score - 600.0) < 1e-9);
    assert_int_equal(r.points, 600);
    assert_true(fabs(r.pd - 0.05) < 1e-12);
    assert_int_equal(r.grade, 'B');
}

static void test_points_double_the_odds(void **state)
{
    (void)state;
    /* Each halving of the bad odds is +50 points, each doubling -50. */
    for (int k = -4; k <= 4; k++) {
        struct risk_model m = at_reference(log(1.0 / 19) - k * log(2.0));
        struct risk_result r = score_with(&m, reference);
        assert_true(fabs(r.score - (600.0 + 50.0 * k)) < 1e-9);
        assert_int_equal(r.points, 600 + 50 * k);
        double odds = r.pd / (1 - r.pd);
        assert_true(fabs(odds * 19 * pow(2.0, k) - 1) < 1e-9);
    }
    /* The same holds between any two applicants: points move by -factor * delta log-odds. */
    struct risk_result a = score(app(45000, 9000, 690, 70000));
    struct risk_result b = score(bureau(app(45000, 9000, 690, 70000), 1, 4));
    assert_true(fabs((a.score - b.score) - 50.0 * (b.log_odds - a.log_odds) / log(2.0)) < 1e-9);
}

static void test_reference_applicant(void **state)
{
    (void)state;
    struct risk_result r = score(reference);
    assert_true(r.pd > 0.0295 && r.pd < 0.0305);
    assert_int_equal(r.points, 639);
    assert_int_equal(r.grade, 'B');
    assert_int_equal(r.spread_bps, 350);
    assert_int_equal(r.nreasons, 0);
    assert_null(r.reason_codes[0]);
}

/* PD must rise (points fall) as `next` makes the applicant riskier, strictly inside the clamp. */
static void check_riskier(struct risk_input a, struct risk_input b)
{
    struct risk_result ra = score(a), rb = score(b);
    assert_true(rb.log_odds > ra.log_odds);
    assert_true(rb.pd > ra.pd);
    assert_true(rb.score < ra.score);
    assert_true(rb.points <= ra.points);
}

static void test_monotonic(void **state)
{
    (void)state;
    for (int d = 0; d < 80; d++) /* DTI 0.00 to 0.80 */
        check_riskier(app(60000, 600.0 * d, 720, 60000), app(60000, 600.0 * (d + 1), 720, 60000));
    for (int s = 301; s <= 900; s++)
        check_riskier(app(60000, 12000, s, 60000), app(60000, 12000, s - 1, 60000));
    for (int l = 0; l < 100; l++) /* LTI 0.00 to 5.00 */
        check_riskier(app(60000, 12000, 720, 3000.0 * l), app(60000, 12000, 720, 3000.0 * (l + 1)));
    /* Income alone, the ratios held: ln_income within its clamp, about 13,360 to 729,416. */
    for (double inc = 14000; inc * 1.1 < 729000; inc *= 1.1)
        check_riskier(app(inc * 1.1, inc * 1.1 * 0.2, 720, inc * 1.1),
                      app(inc, inc * 0.2, 720, inc));
    /* Income with debt and loan fixed: all three income terms agree. */
    for (double inc = 14000; inc < 700000; inc *= 1.1)
        check_riskier(app(inc * 1.1, 10000, 720, 50000), app(inc, 10000, 720, 50000));
    for (int n = 0; n < 5; n++)
        check_riskier(bureau(reference, n, 1), bureau(reference, n + 1, 1));
    for (int n = 0; n < 10; n++)
        check_riskier(bureau(reference, 0, n), bureau(reference, 0, n + 1));
}

static void assert_same(struct risk_result a, struct risk_result b)
{
    assert_true(a.log_odds == b.log_odds);
    assert_int_equal(a.points, b.points);
    assert_int_equal(a.grade, b.grade);
}

static void test_clamping(void **state)
{
    (void)state;
    /* DTI above 0.8, LTI above 5, scores outside 300..900 count as the limit. */
    assert_same(score(app(60000, 60000, 720, 60000)), score(app(60000, 48000, 720, 60000)));
    assert_same(score(app(60000, 12000, 720, 600000)), score(app(60000, 12000, 720, 300000)));
    assert_same(score(app(60000, 12000, 950, 60000)), score(app(60000, 12000, 900, 60000)));
    assert_same(score(app(60000, 12000, 100, 60000)), score(app(60000, 12000, 300, 60000)));
    /* Income beyond the ln_income clamp changes nothing but the ratios (held here). */
    assert_same(score(app(5e6, 1e6, 720, 5e6)), score(app(2e6, 4e5, 720, 2e6)));
    assert_same(score(app(5000, 1000, 720, 5000)), score(app(10000, 2000, 720, 10000)));
    struct risk_result r = score(app(5e6, 1e6, 720, 5e6));
    assert_true(r.x[RISK_LN_INCOME] == 13.5);
    /* Bureau counts above the clamp, and impossible negative ones. */
    assert_same(score(bureau(reference, 9, 1)), score(bureau(reference, 5, 1)));
    assert_same(score(bureau(reference, 0, 40)), score(bureau(reference, 0, 10)));
    assert_same(score(bureau(reference, -3, -2)), score(bureau(reference, 0, 0)));
    /* Negative amounts are read as 0. */
    assert_same(score(app(60000, -5, 720, -5)), score(app(60000, 0, 720, 0)));
}

static void test_zero_income(void **state)
{
    (void)state;
    struct risk_result r = score(app(0, 0, 720, 10000));
    assert_true(r.x[RISK_DTI] == 0.8);
    assert_true(r.x[RISK_LTI] == 5.0);
    assert_true(r.x[RISK_LN_INCOME] == 9.5);
    assert_true(isfinite(r.log_odds) && isfinite(r.pd));
    assert_int_equal(r.grade, 'E');
    assert_int_equal(r.nreasons, 3);
    assert_string_equal(r.reason_codes[0], "R01"); /* 69.2 points */
    assert_string_equal(r.reason_codes[1], "R03"); /* 46.2 */
    assert_string_equal(r.reason_codes[2], "R04"); /* 43.3 */
    /* A negative income is no income, and a tiny one is clamped like it. */
    assert_same(score(app(-100, 0, 720, 10000)), r);
    assert_same(score(app(0.01, 5000, 720, 10000)), r);
}

static void test_missing_bureau_contributes_nothing(void **state)
{
    (void)state;
    struct risk_input a = app(50000, 15000, 700, 100000);
    struct risk_input junk = a;
    junk.overdue_accounts = 5; /* ignored without a report */
    junk.enquiries_6m = 10;
    struct risk_result r = score(a), rj = score(junk);
    assert_same(r, rj);
    assert_true(r.points_lost[RISK_OVERDUE] == 0.0);
    assert_true(r.points_lost[RISK_ENQUIRIES] == 0.0);
    assert_true(r.x[RISK_OVERDUE] == 0 && r.x[RISK_ENQUIRIES] == 1);
    /* The same as a clean report at the reference values. */
    assert_same(r, score(bureau(a, 0, 1)));
    /* A clean report with no enquiry at all is better than none. */
    assert_true(score(bureau(a, 0, 0)).score > r.score);
    for (int i = 0; i < r.nreasons; i++) {
        assert_string_not_equal(r.reason_codes[i], "R05");
        assert_string_not_equal(r.reason_codes[i], "R06");
    }
}

static void test_grade_boundaries(void **state)
{
    (void)state;
    const struct {
        double points;
        char grade;
        int spread;
    } cases[] = {
        {900, 'A', 200},  {640, 'A', 200}, {639.6, 'A', 200}, {639.4, 'B', 350}, {639, 'B', 350},
        {600, 'B', 350},  {599, 'C', 550}, {560, 'C', 550},   {559, 'D', 800},   {520, 'D', 800},
        {519, 'E', 1200}, {0, 'E', 1200},  {-500, 'E', 1200},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct risk_result r = at_points(cases[i].points);
        assert_true(fabs(r.score - cases[i].points) < 1e-9);
        assert_int_equal(r.points, (int)floor(cases[i].points + 0.5));
        assert_int_equal(r.grade, cases[i].grade);
        assert_int_equal(r.spread_bps, cases[i].spread);
    }
}

static void test_broken_model_is_cautious(void **state)
{
    (void)state;
    struct risk_model m = v1();
    m.f[RISK_DTI].coef = NAN;
    struct risk_result r = score_with(&m, reference);
    assert_int_equal(r.grade, 'E');
    m = v1();
    m.f[RISK_CREDIT_SCORE].coef = -1e300; /* huge score: points limited, not overflowed */
    r = score_with(&m, app(60000, 12000, 900, 60000));
    assert_int_equal(r.points, 1000000000);
    assert_int_equal(r.grade, 'A');
    m.ngrades = 0;
    r = score_with(&m, reference);
    assert_int_equal(r.grade, '\0');
}

static void test_reasons(void **state)
{
    (void)state;
    /* Worst first; the favourable score, DTI and income are never reasons. */
    struct risk_result r = score(bureau(app(80000, 10000, 760, 100000), 3, 6));
    assert_int_equal(r.nreasons, 3);
    assert_string_equal(r.reason_codes[0], "R05");
    assert_string_equal(r.reason_texts[0], "Overdue accounts on the credit report");
    assert_string_equal(r.reason_codes[1], "R06");
    assert_string_equal(r.reason_codes[2], "R03");
    assert_true(r.points_lost[RISK_CREDIT_SCORE] < 0 && r.points_lost[RISK_DTI] < 0 &&
                r.points_lost[RISK_LN_INCOME] < 0);

    /* At most three even when more cost points; the unused slots stay NULL elsewhere. */
    r = score(bureau(app(30000, 11000, 660, 80000), 1, 4));
    for (int i = 0; i < RISK_NFEATURES; i++)
        assert_true(r.points_lost[i] > 0.5);
    assert_int_equal(r.nreasons, 3);
    assert_string_equal(r.reason_codes[0], "R02");
    r = score(app(60000, 12000, 700, 60000));
    assert_int_equal(r.nreasons, 1);
    assert_string_equal(r.reason_codes[0], "R02");
    assert_null(r.reason_codes[1]);
    assert_null(r.reason_texts[1]);

    /* A cost of half a point or less is not a reason: DTI 0.201 costs 0.12 points. */
    r = score(app(60000, 12060, 720, 60000));
    assert_true(r.points_lost[RISK_DTI] > 0 && r.points_lost[RISK_DTI] < 0.5);
    assert_int_equal(r.nreasons, 0);
    r = score(app(60000, 12000, 719, 60000)); /* 0.79 points */
    assert_int_equal(r.nreasons, 1);

    /* An exact tie keeps feature order. */
    struct risk_model m = v1();
    m.f[RISK_DTI].coef = 1;
    m.f[RISK_DTI].ref = 0.25;
    m.f[RISK_LTI].coef = 1;
    m.f[RISK_LTI].ref = 0.5;
    r = score_with(&m, app(60000, 45000, 720, 60000));
    assert_true(r.points_lost[RISK_DTI] == r.points_lost[RISK_LTI]);
    assert_string_equal(r.reason_codes[0], "R01");
    assert_string_equal(r.reason_codes[1], "R03");
}

static void expect_refused(const struct risk_model *m, const char *why)
{
    char err[160] = "unset";
    assert_int_equal(risk_model_check(m, err, sizeof(err)), -1);
    if (strstr(err, why) == NULL)
        fail_msg("expected \"%s\" in \"%s\"", why, err);
    assert_int_equal(risk_model_check(m, NULL, 0), -1);
}

static void test_model_check(void **state)
{
    (void)state;
    char err[160] = "unset";
    struct risk_model m = v1();
    assert_int_equal(risk_model_check(&m, err, sizeof(err)), 0);
    assert_string_equal(err, "");

    expect_refused(NULL, "no model");
    m.version = 0;
    expect_refused(&m, "version");
    m = v1();
    m.f[RISK_LTI].coef = NAN;
    expect_refused(&m, "loan_to_income: coef, ref, lo and hi must be finite");
    m = v1();
    m.f[RISK_DTI].hi = INFINITY;
    expect_refused(&m, "dti");
    m = v1();
    m.intercept = NAN;
    expect_refused(&m, "finite");
    m = v1();
    m.pdo = 0;
    expect_refused(&m, "pdo");
    m.pdo = -50;
    expect_refused(&m, "pdo");
    m = v1();
    m.base_odds_bad = 0;
    expect_refused(&m, "base_odds_bad");
    m = v1();
    m.f[RISK_CREDIT_SCORE].ref = 950;
    expect_refused(&m, "credit_score: needs lo <= ref <= hi");
    m = v1();
    m.f[RISK_LN_INCOME].lo = 14;
    expect_refused(&m, "ln_income");
    m = v1();
    m.f[RISK_CREDIT_SCORE].coef = 0.011;
    expect_refused(&m, "credit_score: coef 0.011 has the wrong sign");
    m = v1();
    m.f[RISK_OVERDUE].coef = -0.65;
    expect_refused(&m, "wrong sign");
    m = v1();
    m.f[RISK_ENQUIRIES].coef = 0; /* a feature may be switched off */
    assert_int_equal(risk_model_check(&m, err, sizeof(err)), 0);
    m = v1();
    m.f[RISK_ENQUIRIES].code[0] = '\0';
    expect_refused(&m, "reason code");
    m = v1();
    memset(m.f[RISK_DTI].code, 'X', sizeof(m.f[RISK_DTI].code));
    expect_refused(&m, "reason code");
    m = v1();
    m.f[RISK_DTI].text[0] = '\0';
    expect_refused(&m, "reason code and text");

    /* Grades: unsorted, missing, out of order, negative or decreasing spread. */
    m = v1();
    m.grades[1].min_points = 650;
    expect_refused(&m, "grade B: min_points 650 is not below grade A's 640");
    m = v1();
    m.grades[2].min_points = 600;
    expect_refused(&m, "not below");
    m = v1();
    m.ngrades = 4;
    expect_refused(&m, "4 grades");
    m = v1();
    m.grades[2] = m.grades[3];
    m.grades[3] = m.grades[4];
    m.ngrades = 4;
    expect_refused(&m, "grades");
    m = v1();
    m.grades[3].grade = 'F';
    expect_refused(&m, "grade 4 is 'F'");
    m = v1();
    m.grades[0].spread_bps = -1;
    expect_refused(&m, "negative");
    m = v1();
    m.grades[3].spread_bps = 500;
    expect_refused(&m, "grade D: spread 500 bps is below grade C's 550");

    /* A short buffer gets a truncated, terminated message. */
    char small[8];
    m = v1();
    m.pdo = 0;
    assert_int_equal(risk_model_check(&m, small, sizeof(small)), -1);
    assert_int_equal(strlen(small), 7);
}

/* The cases the product depends on (see the eligibility rules in loan.c). */
static void test_applicants(void **state)
{
    (void)state;
    struct risk_result r = score(app(75000, 10000, 720, 50000));
    assert_true(r.grade >= 'A' && r.grade <= 'C');
    assert_int_equal(r.grade, 'A');
    r = score(app(120000, 20000, 780, 200000));
    assert_true(r.grade >= 'A' && r.grade <= 'C');
    assert_int_equal(r.grade, 'A');
    r = score(app(50000, 15000, 700, 100000));
    assert_true(r.grade >= 'A' && r.grade <= 'C');
    assert_int_equal(r.grade, 'C');
    assert_true(r.points >= 585); /* not at the edge of D */

    /* A marginal applicant: D, well inside the band. */
    r = score(app(40000, 15000, 655, 110000));
    assert_int_equal(r.grade, 'D');
    assert_true(r.points >= 528 && r.points <= 552);
    assert_string_equal(r.reason_codes[0], "R02");

    /* A good score does not outweigh three overdue accounts and six enquiries. */
    r = score(bureau(app(80000, 10000, 760, 100000), 3, 6));
    assert_int_equal(r.grade, 'E');
    assert_true(r.points <= 510);
    assert_int_equal(r.nreasons, 3);

    /* Without the bureau, only an applicant at every eligibility limit at once reaches E. */
    r = score(app(30000, 11999.99, 650, 90000));
    assert_int_equal(r.grade, 'E');
    /* Moderate values (DTI <= 0.30, score >= 680, LTI <= 2, income >= 40,000) stay A-C. */
    r = score(app(40000, 12000, 680, 80000));
    assert_true(r.grade <= 'C');
}

/* The figures quoted in docs/risk-model.md. */
static void print_figures(void)
{
    struct risk_model m = v1();
    double f = factor(&m), off = m.base_points + f * log(m.base_odds_bad);
    printf("factor %.4f offset %.4f\n", f, off);
    for (int i = 0; i < RISK_NFEATURES; i++) {
        const struct risk_coef *c = &m.f[i];
        printf("%-16s coef %+.3f ref %g clamp [%g, %g] points per unit %+.3f, odds x%.3f per "
               "unit; points lost at lo %+.1f, at hi %+.1f\n",
               risk_feature_name((enum risk_feature)i), c->coef, c->ref, c->lo, c->hi, -f * c->coef,
               exp(c->coef), f * c->coef * (c->lo - c->ref), f * c->coef * (c->hi - c->ref));
    }
    /* PD at the rounding edge of each band and in its middle (A's taken at 660 points). */
    for (int g = 0; g < m.ngrades - 1; g++) {
        double edge = m.grades[g].min_points - 0.5;
        double mid = g == 0 ? 660 : (edge + m.grades[g - 1].min_points - 0.5) / 2;
        double pd_min = 1 / (1 + exp(-(off - m.grades[g].min_points) / f));
        double pd_edge = 1 / (1 + exp(-(off - edge) / f));
        double pd_mid = 1 / (1 + exp(-(off - mid) / f));
        printf("grade %c from %d points: PD at %d %.4f, below %.4f; at %.2f points %.4f; "
               "expected loss at LGD 60%%: worst %.2f%%, mid %.2f%%, spread %.2f%%\n",
               m.grades[g].grade, m.grades[g].min_points, m.grades[g].min_points, pd_min, pd_edge,
               mid, pd_mid, 60 * pd_edge, 60 * pd_mid, m.grades[g].spread_bps / 100.0);
    }
    const struct {
        const char *what;
        struct risk_input in;
    } cases[] = {
        {"reference 60000/12000/720/60000", reference},
        {"75000/10000/720/50000", app(75000, 10000, 720, 50000)},
        {"120000/20000/780/200000", app(120000, 20000, 780, 200000)},
        {"50000/15000/700/100000", app(50000, 15000, 700, 100000)},
        {"40000/15000/655/110000", app(40000, 15000, 655, 110000)},
        {"80000/10000/760/100000 3 overdue 6 enq", bureau(app(80000, 10000, 760, 100000), 3, 6)},
        {"limits 30000/11999.99/650/90000", app(30000, 11999.99, 650, 90000)},
        {"moderate 40000/12000/680/80000", app(40000, 12000, 680, 80000)},
        {"income 0, loan 10000", app(0, 0, 720, 10000)},
    };
    for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
        struct risk_result r = score(cases[c].in);
        printf("%-40s pd %.4f log-odds %+.4f score %.2f points %d grade %c spread %d reasons",
               cases[c].what, r.pd, r.log_odds, r.score, r.points, r.grade, r.spread_bps);
        for (int i = 0; i < r.nreasons; i++)
            printf(" %s", r.reason_codes[i]);
        printf("\n   lost:");
        for (int i = 0; i < RISK_NFEATURES; i++)
            printf(" %s %+.1f", risk_feature_name((enum risk_feature)i), r.points_lost[i]);
        printf("\n");
    }
}

/*
 * Reads one INSERT section's rows of version 1 from the migration. Rows are the lines that start
 * with "(" after an "INSERT INTO table" line, up to the row ending in ";".
 */
static char *read_sql(void)
{
    const char *dir = getenv("LOANFLOW_SQL_DIR");
    char path[512];
    snprintf(path, sizeof(path), "%s/006_risk_model.sql", dir ? dir : "sql");
    FILE *f = fopen(path, "r");
    if (f == NULL)
        fail_msg("cannot open %s (run from the repository root)", path);
    static char buf[1 << 16];
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    assert_true(n < sizeof(buf) - 1);
    buf[n] = '\0';
    return buf;
}

static void test_sql_matches_model(void **state)
{
    (void)state;
    struct risk_model c = v1();
    char *sql = read_sql();
    const char *table = "";
    int nmodels = 0, nfeatures = 0, ngrades = 0;
    for (char *line = strtok(sql, "\n"); line != NULL; line = strtok(NULL, "\n")) {
        while (*line == ' ')
            line++;
        if (!strncmp(line, "INSERT INTO ", 12)) {
            table = strncmp(line + 12, "risk_models ", 12) == 0           ? "models"
                    : strncmp(line + 12, "risk_model_features ", 20) == 0 ? "features"
                    : strncmp(line + 12, "risk_grades ", 12) == 0         ? "grades"
                                                                          : "";
            continue;
        }
        if (line[0] != '(' || !*table)
            continue;
        int version = 0;
        if (!strcmp(table, "models")) {
            double icpt, pdo, base, num, den;
            char active[8];
            assert_int_equal(sscanf(line, "(%d, %lf, %lf, %lf, %lf / %lf, %7[a-z],", &version,
                                    &icpt, &pdo, &base, &num, &den, active),
                             7);
            if (version != 1)
                continue;
            nmodels++;
            if (icpt != c.intercept || pdo != c.pdo || base != c.base_points ||
                num / den != c.base_odds_bad)
                fail_msg("risk_models row differs from the C model: %s", line);
            assert_string_equal(active, "true");
        } else if (!strcmp(table, "features")) {
            char name[32], code[8], text[96];
            double coef, ref, lo, hi;
            assert_int_equal(sscanf(line, "(%d, '%31[^']', %lf, %lf, %lf, %lf, '%7[^']', '%95[^']'",
                                    &version, name, &coef, &ref, &lo, &hi, code, text),
                             8);
            if (version != 1)
                continue;
            nfeatures++;
            int i = risk_feature_parse(name);
            assert_true(i >= 0);
            if (coef != c.f[i].coef || ref != c.f[i].ref || lo != c.f[i].lo || hi != c.f[i].hi)
                fail_msg("risk_model_features row differs from v1_features[]: %s", line);
            assert_string_equal(code, c.f[i].code);
            assert_string_equal(text, c.f[i].text);
        } else {
            char grade;
            int min_points, spread;
            assert_int_equal(
                sscanf(line, "(%d, '%c', %d, %d)", &version, &grade, &min_points, &spread), 4);
            if (version != 1)
                continue;
            assert_true(grade >= 'A' && grade <= 'E');
            const struct risk_grade *g = &c.grades[grade - 'A'];
            assert_int_equal(g->grade, grade);
            assert_int_equal(g->min_points, min_points);
            assert_int_equal(g->spread_bps, spread);
            ngrades++;
        }
    }
    assert_int_equal(nmodels, 1);
    assert_int_equal(nfeatures, RISK_NFEATURES);
    assert_int_equal(ngrades, 5);
}

int main(void)
{
    if (getenv("RISK_FIGURES") != NULL) {
        print_figures();
        return 0;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_null_arguments),
        cmocka_unit_test(test_base_odds_give_base_points),
        cmocka_unit_test(test_points_double_the_odds),
        cmocka_unit_test(test_reference_applicant),
        cmocka_unit_test(test_monotonic),
        cmocka_unit_test(test_clamping),
        cmocka_unit_test(test_zero_income),
        cmocka_unit_test(test_missing_bureau_contributes_nothing),
        cmocka_unit_test(test_grade_boundaries),
        cmocka_unit_test(test_broken_model_is_cautious),
        cmocka_unit_test(test_reasons),
        cmocka_unit_test(test_model_check),
        cmocka_unit_test(test_applicants),
        cmocka_unit_test(test_sql_matches_model),
    };
    return cmocka_run_group_tests_name("risk", tests, NULL, NULL);
}
