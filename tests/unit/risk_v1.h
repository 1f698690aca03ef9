/*
 * Version 1 of the risk model for the unit tests, in one place: test_risk.c checks these rows
 * against sql/006_risk_model.sql, so the tests and the migration cannot drift apart, and
 * test_identity.c scores applications with the same model. Include after risk.h.
 */
#ifndef LOANFLOW_TEST_RISK_V1_H
#define LOANFLOW_TEST_RISK_V1_H

#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "risk.h"

static const double v1_intercept = -3.48;

/* name, coef, ref, lo, hi, code, text: the order of enum risk_feature. */
static const struct {
    const char *name;
    double coef, ref, lo, hi;
    const char *code, *text;
} v1_features[RISK_NFEATURES] = {
    {"dti", 1.6, 0.20, 0.0, 0.8, "R01", "Debt-to-income ratio is high"},
    {"credit_score", -0.011, 720, 300, 900, "R02", "Credit score is low"},
    {"loan_to_income", 0.16, 1.0, 0.0, 5.0, "R03", "Loan amount is high relative to income"},
    {"ln_income", -0.40, 11.0, 9.5, 13.5, "R04", "Income is low"},
    {"overdue_accounts", 0.65, 0, 0, 5, "R05", "Overdue accounts on the credit report"},
    {"enquiries_6m", 0.12, 1, 0, 10, "R06", "Many credit enquiries in the last 6 months"},
};

static const struct risk_grade v1_grades[] = {
    {'A', 640, 200}, {'B', 600, 350}, {'C', 560, 550}, {'D', 520, 800}, {'E', INT_MIN, 1200},
};

static inline struct risk_model v1(void)
{
    struct risk_model m;
    memset(&m, 0, sizeof(m));
    m.version = 1;
    m.intercept = v1_intercept;
    m.pdo = 50;
    m.base_points = 600;
    m.base_odds_bad = 1.0 / 19;
    for (int i = 0; i < RISK_NFEATURES; i++) {
        m.f[i].coef = v1_features[i].coef;
        m.f[i].ref = v1_features[i].ref;
        m.f[i].lo = v1_features[i].lo;
        m.f[i].hi = v1_features[i].hi;
        snprintf(m.f[i].code, sizeof(m.f[i].code), "%s", v1_features[i].code);
        snprintf(m.f[i].text, sizeof(m.f[i].text), "%s", v1_features[i].text);
    }
    m.ngrades = (int)(sizeof(v1_grades) / sizeof(v1_grades[0]));
    memcpy(m.grades, v1_grades, sizeof(v1_grades));
    return m;
}

#endif
