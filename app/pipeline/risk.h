/*
 * risk.h - a logistic credit-risk scorecard: probability of default, points, grade, spread and
 * adverse reasons for one applicant.
 *
 * Design: the model is data (struct risk_model, loaded from the risk_models, risk_model_features
 * and risk_grades tables of sql/006_risk_model.sql; one version is active) and this module is
 * the arithmetic over it. Everything here is pure: no I/O, no globals, no allocation, no locale,
 * so any number of threads may score with the same model, and every rule is unit-tested without
 * a database. The model is a sum of per-feature terms around a reference applicant,
 *
 *     log_odds = intercept + sum_i coef_i * (clamp(x_i, lo_i, hi_i) - ref_i)
 *     pd       = 1 / (1 + exp(-log_odds))
 *     points   = offset - factor * log_odds,  factor = pdo / ln 2,
 *                                             offset = base_points + factor * ln(base_odds_bad)
 *
 * so points equal base_points when the odds bad:good equal base_odds_bad, and each pdo points
 * more halve the odds of default. Because every term is measured from the reference, a term's
 * sign says directly whether that feature helped or hurt, which is what the adverse reasons
 * report. docs/risk-model.md is the model card for version 1.
 *
 * Ownership: functions only read the model and input, during the call. The reason strings in a
 * struct risk_result are borrowed from the model it was scored with and live as long as it does.
 */
#ifndef LOANFLOW_PIPELINE_RISK_H
#define LOANFLOW_PIPELINE_RISK_H

#include <stddef.h>
#include <stdint.h>

/* The scorecard's inputs, in the order of struct risk_model's f[]. */
enum risk_feature {
    RISK_DTI,          /* "dti": debt / income */
    RISK_CREDIT_SCORE, /* "credit_score": the effective score */
    RISK_LTI,          /* "loan_to_income": loan / income */
    RISK_LN_INCOME,    /* "ln_income": ln(income in whole currency units, at least 1) */
    RISK_OVERDUE,      /* "overdue_accounts": from the bureau report */
    RISK_ENQUIRIES,    /* "enquiries_6m": from the bureau report */
    RISK_NFEATURES
};

/* The feature's name as stored in risk_model_features.feature, or "unknown" when out of range. */
const char *risk_feature_name(enum risk_feature f);

/* Inverse of risk_feature_name() (exact, case-sensitive); -1 when name is NULL or unknown. */
int risk_feature_parse(const char *name);

/* One feature's term. Strings are NUL-terminated inside their arrays (risk_model_check says so). */
struct risk_coef {
    double coef; /* change in log-odds of default per unit of the (clamped) feature */
    /* Reference value: contribution is coef*(x-ref); missing bureau features take ref. */
    double ref;
    double lo, hi; /* the feature is clamped to [lo, hi] before use */
    char code[8];  /* adverse reason code, e.g. "R01" */
    char text[96]; /* adverse reason text, e.g. "Debt-to-income ratio is high" */
};

/* A band of points. grade 'A'..'E'; spread in basis points over the base rate. */
struct risk_grade {
    char grade;
    int min_points;
    int spread_bps;
};

#define RISK_MAX_GRADES 8

struct risk_model {
    int version;
    double intercept;     /* log-odds of default at the reference point */
    double pdo;           /* points to double the odds (50) */
    double base_points;   /* points at base odds (600) */
    double base_odds_bad; /* odds bad:good at base_points, 1/19 */
    struct risk_coef f[RISK_NFEATURES];
    /*
     * Sorted by min_points descending, exactly 'A'..'E'. Points below every min_points take the
     * last grade, so E's min_points only has to be the lowest (version 1 stores INT_MIN).
     */
    struct risk_grade grades[RISK_MAX_GRADES];
    int ngrades;
};

/* One applicant. Amounts are integer cents; a negative amount is read as 0. */
struct risk_input {
    int64_t income_cents, debt_cents, loan_cents;
    int credit_score; /* the effective score (bureau if present, else declared) */
    int has_bureau;   /* 0: overdue/enquiries unknown -> reference values, no contribution */
    int overdue_accounts, enquiries_6m;
};

#define RISK_MAX_REASONS 3

struct risk_result {
    double pd;       /* probability of default, 0..1 */
    double log_odds; /* ln(odds bad:good) */
    double score;    /* points before rounding: offset - factor * log_odds */
    int points;      /* score rounded half up, limited to +-1e9 */
    char grade;      /* 'A'..'E' */
    int spread_bps;  /* the grade's spread */
    /* Features scaled and clamped as the model used them, indexed by enum risk_feature. */
    double x[RISK_NFEATURES];
    /* Points each feature cost (> 0) or earned (< 0) against the reference applicant. */
    double points_lost[RISK_NFEATURES];
    /* Top adverse reasons, worst first, only features that cost points vs reference. */
    int nreasons;
    const char *reason_codes[RISK_MAX_REASONS]; /* borrowed from the model; unused slots NULL */
    const char *reason_texts[RISK_MAX_REASONS];
};

/*
 * risk_model_check - is a loaded model fit to score with?
 * @m:      the model, borrowed for the call; NULL is refused.
 * @err:    caller-owned buffer for the first problem found, or NULL; "" on success.
 * @errlen: size of @err in bytes.
 *
 * Refuses: a version below 1; a non-finite intercept, pdo, base_points, base_odds_bad or feature
 * number; pdo <= 0 or base_odds_bad <= 0; lo > ref or ref > hi; a coefficient whose sign is
 * against the feature's economics (dti, loan_to_income, overdue_accounts and enquiries_6m must
 * not lower the risk, credit_score and ln_income must not raise it; 0 is allowed), since a
 * flipped sign is the typo that would do the most harm unnoticed; an empty or unterminated code
 * or text; grades that are not exactly 'A'..'E' in that order with strictly descending
 * min_points; a negative spread, or a worse grade with a smaller spread than a better one.
 *
 * Returns 0 when the model is sane, -1 otherwise.
 */
int risk_model_check(const struct risk_model *m, char *err, size_t errlen)
    __attribute__((warn_unused_result));

/*
 * risk_score - score one applicant.
 * @m:   a model that passed risk_model_check(), borrowed for the call (and, through the reason
 *       strings, for the life of @out). An unchecked model never causes undefined behaviour,
 *       but its results are meaningless; a NaN score takes the last (worst) grade.
 * @in:  the applicant, borrowed for the call.
 * @out: caller-owned, overwritten completely on success and left alone on failure.
 *
 * Features: dti = debt / income and loan_to_income = loan / income, each the feature's hi when
 * income is 0; ln_income = ln(max(1, income in whole units)); overdue_accounts and enquiries_6m
 * take their ref when has_bureau is 0. Each is clamped to [lo, hi]. The grade is the first whose
 * min_points <= points. Reasons are the features that cost more than half a point against the
 * reference, worst first (ties in feature order), at most RISK_MAX_REASONS.
 *
 * Returns 0, or -1 if any argument is NULL.
 */
int risk_score(const struct risk_model *m, const struct risk_input *in, struct risk_result *out);

#endif /* LOANFLOW_PIPELINE_RISK_H */
