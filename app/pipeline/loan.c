/*
 * Rules of the verification pipeline. Every comparison of money is done in integer cents
 * (DTI < 0.40 is debt * 100 < income * 40), so the boundaries the product defines are exact:
 * 0.3999 passes, 0.4000 fails, 3 x income passes and one cent more fails.
 *
 * Findings are of two kinds: hard failures (a format rejection, a sanctions hit, a FATF
 * call-for-action country, any eligibility rule), which no officer can override, and review
 * flags (documents outstanding, possible sanctions match, PEP, senior-employee relative,
 * monitored country, high value), which send the application to the queue until an officer
 * clears them by approving.
 */
#include "loan.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "js.h"
#include "validate.h"

#define CENTS(units) ((int64_t)(units)*100)
#define MIN_INCOME   CENTS(30000)
#define MAX_LOAN     CENTS(1000000)
#define HIGH_VALUE   CENTS(500000)
#define MIN_SCORE    650
/* eKYC name scores (screen_name_score of the record's name against the application's): at or
 * above NAME_MATCH the names agree; from NAME_REVIEW an officer looks; below, they differ. */
#define NAME_MATCH  0.90
#define NAME_REVIEW 0.80
#define MIN_AGE     18

static const char *const required_docs[] = {"ID_Proof", "Income_Statement", "Address_Proof"};

/* Appends "; "-separated text to a stage's remarks. */
static void remark(struct stage *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void remark(struct stage *s, const char *fmt, ...)
{
    size_t used = strlen(s->remarks);
    if (used + 3 >= sizeof(s->remarks))
        return;
    if (used) {
        memcpy(s->remarks + used, "; ", 3);
        used += 2;
    }
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->remarks + used, sizeof(s->remarks) - used, fmt, ap);
    va_end(ap);
}

static void hard(struct loan_result *out, const char *rule)
{
    out->hard_failures++;
    size_t used = strlen(out->hard_rules);
    snprintf(out->hard_rules + used, sizeof(out->hard_rules) - used, "%s%s", used ? ", " : "",
             rule);
}

/* Raises a review flag unless an officer cleared it; returns 1 when it still stands. */
static int flag(struct loan_result *out, unsigned bit, unsigned cleared)
{
    if (cleared & bit)
        return 0;
    out->flags |= bit;
    return 1;
}

/* Verified, and the name on record is not someone else's. */
static int check_confirmed(const struct ekyc_check *c)
{
    return c->status == EKYC_VERIFIED && (c->name_score < 0 || c->name_score >= NAME_REVIEW);
}

int loan_identity_confirmed(const struct identity_facts *id)
{
    if (!check_confirmed(&id->pan))
        return 0;
    return id->aadhaar.status == EKYC_NOT_CHECKED || check_confirmed(&id->aadhaar);
}

/* One eKYC answer into the KYC stage. what: "Aadhaar", "PAN", "Bank account"; rule: the hard
 * rule's suffix. *rejected / *pending are raised as the answer calls for. */
static void ekyc_rule(const struct ekyc_check *c, const char *what, const char *rule,
                      unsigned cleared, struct loan_result *out, int *rejected, int *pending)
{
    struct stage *s = &out->kyc;
    char hr[48];
    switch (c->status) {
    case EKYC_NOT_CHECKED:
        return;
    case EKYC_DISABLED:
    case EKYC_TIMEOUT:
    case EKYC_ERROR:
        flag(out, FLAG_EKYC_UNAVAILABLE, cleared & ~LOAN_FLAGS_RETRY);
        remark(s, "%s not verified: %s; reprocess to retry", what,
               c->status == EKYC_DISABLED  ? "no eKYC provider is configured"
               : c->status == EKYC_TIMEOUT ? "the eKYC provider timed out"
                                           : "the eKYC provider failed");
        *pending = 1;
        return;
    case EKYC_NOT_FOUND:
        remark(s, "%s not found by the eKYC provider", what);
        snprintf(hr, sizeof(hr), "kyc_%s_not_found", rule);
        hard(out, hr);
        *rejected = 1;
        return;
    case EKYC_VERIFIED:
        break;
    }
    /* The name on record is never quoted: an applicant who typed someone else's number must not
     * learn whose it is. */
    if (c->name_score < 0) {
        if (flag(out, FLAG_EKYC_REVIEW, cleared)) {
            remark(s, "%s found, but the provider returned no name to compare; review", what);
            *pending = 1;
        } else {
            remark(s, "%s holder's name checked by the reviewing officer", what);
        }
    } else if (c->name_score < NAME_REVIEW) {
        remark(s, "%s is registered to another name (name score %.2f)", what, c->name_score);
        snprintf(hr, sizeof(hr), "kyc_%s_name", rule);
        hard(out, hr);
        *rejected = 1;
        return;
    } else if (c->name_score < NAME_MATCH) {
        if (flag(out, FLAG_EKYC_REVIEW, cleared)) {
            remark(s,
                   "%s name on record is close to the applicant's but not equal (score %.2f); "
                   "review",
                   what, c->name_score);
            *pending = 1;
        } else {
            remark(s, "%s name (score %.2f) accepted by the reviewing officer", what,
                   c->name_score);
        }
    } else {
        remark(s, "%s verified (name score %.2f)", what, c->name_score);
    }
    if (c->dob_match == 0) {
        if (flag(out, FLAG_EKYC_REVIEW, cleared)) {
            remark(s, "Date of birth differs from the %s record; review", what);
            *pending = 1;
        } else {
            remark(s,
                   "Date of birth difference on the %s record accepted by the reviewing "
                   "officer",
                   what);
        }
    }
}

void loan_kyc(const struct loan_input *in, const struct identity_facts *id, unsigned cleared,
              struct loan_result *out)
{
    struct stage *s = &out->kyc;
    int rejected = 0;
    if (!val_name(in->name)) {
        remark(s, "Name must be 3 to 100 characters and contain a letter");
        hard(out, "kyc_name");
        rejected = 1;
    }
    if (!val_email(in->email)) {
        remark(s, "Email address is not valid");
        hard(out, "kyc_email");
        rejected = 1;
    }
    if (!val_phone(in->phone)) {
        remark(s, "Phone number must have 10 to 15 digits (+, spaces, dashes and parentheses "
                  "allowed)");
        hard(out, "kyc_phone");
        rejected = 1;
    }
    char missing[128] = "";
    for (size_t i = 0; i < sizeof(required_docs) / sizeof(required_docs[0]); i++) {
        int have = 0;
        for (int d = 0; d < in->ndocs && in->documents_uploaded; d++)
            if (!strcmp(in->documents[d], required_docs[i]))
                have = 1;
        if (!have) {
            size_t used = strlen(missing);
            snprintf(missing + used, sizeof(missing) - used, "%s%s", used ? ", " : "",
                     required_docs[i]);
        }
    }
    int pending = 0;
    if (id != NULL) {
        int india = id->country_code != NULL && !strcmp(id->country_code, "IN");
        if (india && (!in->aadhaar[0] || !in->pan[0] || !in->date_of_birth[0])) {
            char missing_id[64] = "";
            const char *names[3] = {"PAN", "Aadhaar", "date of birth"};
            int miss[3] = {!in->pan[0], !in->aadhaar[0], !in->date_of_birth[0]};
            for (int i = 0; i < 3; i++)
                if (miss[i]) {
                    size_t used = strlen(missing_id);
                    snprintf(missing_id + used, sizeof(missing_id) - used, "%s%s", used ? ", " : "",
                             names[i]);
                }
            remark(s,
                   "PAN, Aadhaar and date of birth are required for applicants in India "
                   "(missing: %s)",
                   missing_id);
            hard(out, "kyc_identity");
            rejected = 1;
        }
        if (id->has_age && id->age < MIN_AGE) {
            remark(s, "Applicant is %d; the minimum age is %d", id->age, MIN_AGE);
            hard(out, "kyc_age");
            rejected = 1;
        }
        ekyc_rule(&id->aadhaar, "Aadhaar", "aadhaar", cleared, out, &rejected, &pending);
        ekyc_rule(&id->pan, "PAN", "pan", cleared, out, &rejected, &pending);
        ekyc_rule(&id->bank, "Bank account", "bank_account", cleared, out, &rejected, &pending);
    }
    if (missing[0]) {
        if (flag(out, FLAG_DOCUMENTS, cleared)) {
            remark(s, "Documents outstanding: %s", missing);
            pending = 1;
        } else {
            remark(s, "Documents outstanding (%s) cleared by the reviewing officer", missing);
        }
    }
    s->status = rejected ? LOAN_REJECTED : pending ? LOAN_PENDING : LOAN_APPROVED;
    if (s->status == LOAN_APPROVED && !s->remarks[0])
        remark(s, "Identity, contact details and documents verified");
}

/* ", date of birth agrees; nationality disagrees" for the remark: what the secondary facts said. */
static const char *facts_note(const struct compliance_facts *f)
{
    static __thread char buf[96];
    const screen_candidate *c = &f->sanctions_best;

    buf[0] = '\0';
    if (!f->sanctions_judged || !f->sanctions_has_best)
        return buf;
    if (c->dob != SCREEN_FACT_UNKNOWN)
        snprintf(buf, sizeof(buf), "; date of birth %s", screen_fact_name(c->dob));
    if (c->nationality != SCREEN_FACT_UNKNOWN) {
        size_t n = strlen(buf);
        snprintf(buf + n, sizeof(buf) - n, "; nationality %s", screen_fact_name(c->nationality));
    }
    return buf;
}

void loan_compliance(const struct loan_input *in, const struct compliance_facts *f,
                     const struct loan_policy *p, unsigned cleared, struct loan_result *out)
{
    struct stage *s = &out->compliance;
    int rejected = 0, pending = 0;
    char m[32];

    if (f->country_risk == RISK_CALL_FOR_ACTION) {
        remark(s, "%s is a FATF high-risk jurisdiction subject to a call for action",
               f->country_name ? f->country_name : "The country");
        hard(out, "country_risk");
        rejected = 1;
    }
    if (!f->screened) {
        if (flag(out, FLAG_SCREENING_UNAVAILABLE, cleared)) {
            remark(s, f->name_unscreenable
                          ? "Sanctions screening unavailable: the name has no Latin letters to "
                            "match against the list; screen it by hand"
                          : "Sanctions screening unavailable: no list loaded");
            pending = 1;
        } else {
            remark(s, "Sanctions screening unavailable; screened manually by the reviewing "
                      "officer");
        }
    } else if (f->sanctions_judged ? f->sanctions_level == SCREEN_BLOCK
                                   : f->sanctions_score >= p->sanctions_block) {
        remark(s, "Sanctions match: \"%s\" (%s %s entry %lld, score %.4f%s)",
               f->sanctions_name ? f->sanctions_name : "?", f->sanctions_list, f->sanctions_version,
               f->sanctions_entry, f->sanctions_score, facts_note(f));
        hard(out, "sanctions");
        rejected = 1;
    } else if (f->sanctions_judged ? f->sanctions_level == SCREEN_REVIEW
                                   : f->sanctions_score >= p->sanctions_review) {
        if (flag(out, FLAG_SANCTIONS_REVIEW, cleared)) {
            remark(s,
                   "Possible sanctions match for review: \"%s\" (%s entry %lld, %s, score "
                   "%.4f%s)",
                   f->sanctions_name ? f->sanctions_name : "?", f->sanctions_list,
                   f->sanctions_entry,
                   f->sanctions_judged ? screen_kind_name(f->sanctions_best.kind) : "name",
                   f->sanctions_score, facts_note(f));
            pending = 1;
        } else {
            remark(s, "Possible sanctions match (score %.4f) cleared by the reviewing officer",
                   f->sanctions_score);
        }
    }
    if (in->political_connection || f->pep_name) {
        if (flag(out, FLAG_PEP, cleared)) {
            if (f->pep_name)
                remark(s,
                       "Politically exposed person: matches \"%s\" on the PEP list; enhanced "
                       "due diligence required",
                       f->pep_name);
            else
                remark(s, "Political connection declared; enhanced due diligence required");
            pending = 1;
        } else {
            remark(s, "Politically exposed person: enhanced due diligence done by the reviewing "
                      "officer");
        }
    }
    if (in->senior_relative || f->senior_name) {
        if (flag(out, FLAG_SENIOR_RELATIVE, cleared)) {
            if (f->senior_name)
                remark(s, "Possible relative of senior employee %s", f->senior_name);
            else
                remark(s, "Relative of a senior employee declared");
            pending = 1;
        } else {
            remark(s, "Senior-employee relationship reviewed by the reviewing officer");
        }
    }
    if (f->country_risk == RISK_MONITORING) {
        if (flag(out, FLAG_COUNTRY_MONITORING, cleared)) {
            remark(s, "%s is under FATF increased monitoring",
                   f->country_name ? f->country_name : "The country");
            pending = 1;
        } else {
            remark(s, "FATF increased-monitoring country reviewed by the reviewing officer");
        }
    }
    if (in->loan_amount > HIGH_VALUE) {
        if (flag(out, FLAG_HIGH_VALUE, cleared)) {
            remark(s, "High-value loan of %s (over 500,000.00) flagged for review",
                   loan_money(in->loan_amount, m, sizeof(m)));
            pending = 1;
        } else {
            remark(s, "High-value loan reviewed by the reviewing officer");
        }
    }
    s->status = rejected ? LOAN_REJECTED : pending ? LOAN_PENDING : LOAN_APPROVED;
    if (s->status == LOAN_APPROVED && !s->remarks[0])
        remark(s, "No sanctions, PEP, related-party or country-risk findings");
}

/* The tier of a bureau score, or NULL when the table has none for it. */
static const struct bureau_tier *tier_of(const struct credit_policy *cp, int score)
{
    for (int i = 0; i < cp->ntiers; i++)
        if (score >= cp->tiers[i].min_score && score <= cp->tiers[i].max_score)
            return &cp->tiers[i];
    return NULL;
}

/* The bureau's part: which score counts, the flags of a missing report, the tier. Returns 1
 * when a tier decided the score rule (the fixed 650 cut-off then does not apply). */
static int bureau_rules(const struct loan_input *in, const struct compliance_facts *f,
                        unsigned cleared, int check_loan, struct loan_result *out, int *pending)
{
    struct stage *s = &out->eligibility;
    const struct bureau_report *b = &f->id.bureau;
    char a[32], c[32];
    switch (b->status) {
    case BUREAU_NOT_CHECKED:
        return 0;
    case BUREAU_DISABLED:
    case BUREAU_TIMEOUT:
    case BUREAU_ERROR:
        flag(out, FLAG_BUREAU_UNAVAILABLE, cleared & ~LOAN_FLAGS_RETRY);
        remark(s, "Credit bureau report not obtained: %s; reprocess to retry",
               b->status == BUREAU_DISABLED  ? "no bureau provider is configured"
               : b->status == BUREAU_TIMEOUT ? "the bureau timed out"
                                             : "the bureau failed");
        *pending = 1;
        return 0;
    case BUREAU_NO_HISTORY: {
        if (flag(out, FLAG_NO_CREDIT_HISTORY, cleared)) {
            remark(s,
                   "%s has no credit history for this PAN; the declared score %d needs an "
                   "officer's review",
                   b->bureau, in->credit_score);
            *pending = 1;
        } else {
            remark(s, "No %s credit history; declared score %d accepted by the reviewing officer",
                   b->bureau, in->credit_score);
        }
        /* A thin file borrows no more than the lowest lending tier: no history is not a better
         * record than a proven near-prime one. */
        const struct bureau_tier *low = NULL;
        for (int i = 0; i < f->credit.ntiers; i++)
            if (f->credit.tiers[i].max_loan > 0 &&
                (low == NULL || f->credit.tiers[i].max_loan < low->max_loan))
                low = &f->credit.tiers[i];
        if (f->credit.tier_version > 0 && low != NULL) {
            out->tier_applied = 1;
            out->tier_limit = low->max_loan;
            if (check_loan && in->loan_amount > low->max_loan) {
                remark(s,
                       "Loan amount %s exceeds %s, the limit without credit history (lowest "
                       "tier, table version %d)",
                       loan_money(in->loan_amount, a, sizeof(a)),
                       loan_money(low->max_loan, c, sizeof(c)), f->credit.tier_version);
                out->reasons[out->nreasons++] =
                    "Loan amount exceeds the limit for applicants without credit history";
                hard(out, "bureau_limit");
            }
        }
        return 0;
    }
    case BUREAU_OK:
        break;
    }
    out->effective_score = b->score;
    remark(s, "%s score %d (declared %d); %d active loans, %d overdue, %d enquiries in 6 months",
           b->bureau, b->score, in->credit_score, b->active_loans, b->overdue_accounts,
           b->enquiries_6m);
    if (f->credit.tier_version <= 0)
        return 0;
    const struct bureau_tier *t = tier_of(&f->credit, b->score);
    out->tier_applied = 1;
    if (t == NULL || t->max_loan == 0) {
        remark(s, "%s score %d is below the cut-off (tier table version %d)", b->bureau, b->score,
               f->credit.tier_version);
        out->reasons[out->nreasons++] = "Credit bureau score is below the cut-off";
        hard(out, "bureau_tier");
        out->tier_limit = 0;
        return 1;
    }
    out->tier_limit = t->max_loan;
    if (check_loan && in->loan_amount > t->max_loan) {
        remark(s, "Loan amount %s exceeds the %s limit for %s scores %d-%d (tier table version %d)",
               loan_money(in->loan_amount, a, sizeof(a)), loan_money(t->max_loan, c, sizeof(c)),
               b->bureau, t->min_score, t->max_score, f->credit.tier_version);
        out->reasons[out->nreasons++] = "Loan amount exceeds the limit of the credit bureau tier";
        hard(out, "bureau_limit");
    }
    return 1;
}

/* Basis points as a percentage with two decimals, sign included ("-0.50"). */
static const char *pct(int bps, char out[16])
{
    int a = bps < 0 ? -bps : bps;
    snprintf(out, 16, "%s%d.%02d", bps < 0 ? "-" : "", a / 100, a % 100);
    return out;
}

/* The risk model's grade and the price. */
static void risk_rules(const struct loan_input *in, const struct compliance_facts *f,
                       unsigned cleared, struct loan_result *out, int *pending)
{
    struct stage *s = &out->eligibility;
    const struct credit_policy *cp = &f->credit;
    const struct bureau_report *b = &f->id.bureau;
    struct risk_input ri = {
        .income_cents = in->income,
        .debt_cents = in->debt,
        .loan_cents = in->loan_amount,
        .credit_score = out->effective_score,
        .has_bureau = b->status == BUREAU_OK,
        .overdue_accounts = b->status == BUREAU_OK ? b->overdue_accounts : 0,
        .enquiries_6m = b->status == BUREAU_OK ? b->enquiries_6m : 0,
    };
    if (risk_score(cp->model, &ri, &out->risk) != 0)
        return;
    out->has_risk = 1;
    const struct risk_result *r = &out->risk;
    char why[384] = "";
    for (int i = 0; i < r->nreasons; i++) {
        size_t used = strlen(why);
        snprintf(why + used, sizeof(why) - used, "%s%s %s", i ? ", " : "", r->reason_codes[i],
                 r->reason_texts[i]);
    }
    if (r->grade == 'E') {
        remark(s, "Risk grade E (probability of default %.4f, %d points, model version %d): %s",
               r->pd, r->points, cp->model->version, why[0] ? why : "no single adverse factor");
        out->reasons[out->nreasons++] = "Risk grade E: probability of default too high";
        hard(out, "risk_grade");
        return;
    }
    if (r->grade == 'D') {
        if (flag(out, FLAG_RISK_REVIEW, cleared)) {
            remark(s,
                   "Risk grade D (probability of default %.4f, %d points, model version %d) "
                   "needs an officer's review: %s",
                   r->pd, r->points, cp->model->version, why[0] ? why : "no single adverse factor");
            *pending = 1;
        } else {
            remark(s,
                   "Risk grade D (probability of default %.4f) accepted by the reviewing "
                   "officer",
                   r->pd);
        }
    } else {
        remark(s, "Risk grade %c (probability of default %.4f, %d points, model version %d)",
               r->grade, r->pd, r->points, cp->model->version);
    }
    if (!cp->have_base_rate) {
        flag(out, FLAG_PRICING_UNAVAILABLE, cleared & ~LOAN_FLAGS_RETRY);
        remark(s, "No base rate in the market data: the loan cannot be priced; load market data "
                  "and reprocess");
        *pending = 1;
        return;
    }
    out->has_rate = 1;
    out->spread_bps = r->spread_bps;
    out->rate_bps = cp->base_bps + r->spread_bps; /* both bounded by their loaders */
    char rate[16], base[16], spread[16];
    remark(s, "Annual rate %s%% = %s %s%% (as of %s) + grade %c spread %s%%",
           pct(out->rate_bps, rate), cp->base_symbol, pct(cp->base_bps, base), cp->base_as_of,
           r->grade, pct(r->spread_bps, spread));
}

void loan_eligibility(const struct loan_input *in, const struct compliance_facts *f,
                      unsigned cleared, int check_loan, struct loan_result *out)
{
    struct stage *s = &out->eligibility;
    char a[32], b[32];
    int pending = 0, tiered = 0;
    out->nreasons = 0;
    out->effective_score = in->credit_score;
    out->has_dti = in->income > 0;
    out->dti = out->has_dti ? (double)in->debt / (double)in->income : 0.0;
    if (f != NULL)
        tiered = bureau_rules(in, f, cleared, check_loan, out, &pending);
    if (in->income < MIN_INCOME) {
        remark(s, "Income %s is below the 30,000.00 minimum", loan_money(in->income, a, sizeof(a)));
        out->reasons[out->nreasons++] = "Income is below the 30,000 minimum";
        hard(out, "income");
    }
    /* DTI < 0.40  <=>  debt * 100 < income * 40, exactly, in cents. */
    if (!out->has_dti || in->debt * 100 >= in->income * 40) {
        if (out->has_dti)
            remark(s, "Debt-to-income ratio %.4f is not below 0.40", out->dti);
        else
            remark(s, "Debt-to-income ratio cannot be computed without income");
        out->reasons[out->nreasons++] = "Debt-to-income ratio must be below 0.40";
        hard(out, "dti");
    }
    if (!tiered && out->effective_score < MIN_SCORE) {
        remark(s, "Credit score %d is below 650", out->effective_score);
        out->reasons[out->nreasons++] = "Credit score must be at least 650";
        hard(out, "credit_score");
    }
    if (check_loan && in->loan_amount > 3 * in->income) {
        remark(s, "Loan amount %s exceeds 3 x income (%s)",
               loan_money(in->loan_amount, a, sizeof(a)), loan_money(3 * in->income, b, sizeof(b)));
        out->reasons[out->nreasons++] = "Loan amount must not exceed 3 x income";
        hard(out, "loan_to_income");
    }
    if (check_loan && in->loan_amount > MAX_LOAN) {
        remark(s, "Loan amount %s exceeds the 1,000,000.00 maximum",
               loan_money(in->loan_amount, a, sizeof(a)));
        out->reasons[out->nreasons++] = "Loan amount must not exceed 1,000,000";
        hard(out, "max_loan");
    }
    /* The model grades and prices what passed every rule so far (KYC and compliance included),
     * and only on the bureau's answer when there is one to wait for: a rejected application
     * gets no price, and no price is quoted on a score the bureau has not confirmed. */
    int bureau_waits = f != NULL && (f->id.bureau.status == BUREAU_TIMEOUT ||
                                     f->id.bureau.status == BUREAU_ERROR ||
                                     f->id.bureau.status == BUREAU_DISABLED);
    if (out->nreasons == 0 && out->hard_failures == 0 && !bureau_waits && f != NULL &&
        f->credit.model != NULL)
        risk_rules(in, f, cleared, out, &pending);
    out->eligible = out->nreasons == 0;
    int64_t cap = 3 * in->income < MAX_LOAN ? 3 * in->income : MAX_LOAN;
    if (out->tier_applied && out->tier_limit < cap)
        cap = out->tier_limit;
    out->max_loan_amount = out->eligible ? cap : 0;
    s->status = !out->eligible ? LOAN_REJECTED : pending ? LOAN_PENDING : LOAN_APPROVED;
    if (out->eligible)
        remark(s, "DTI %.4f, credit score %d, loan within 3 x income and the %s cap", out->dti,
               out->effective_score, loan_money(cap, a, sizeof(a)));
}

void loan_decide(const struct loan_policy *p, unsigned cleared, struct loan_result *out)
{
    struct stage *s = &out->final;
    const struct stage *stages[3] = {&out->kyc, &out->compliance, &out->eligibility};
    const char *names[3] = {"KYC", "compliance", "eligibility"};
    int rejected = 0, pending = 0;
    for (int i = 0; i < 3; i++) {
        rejected |= stages[i]->status == LOAN_REJECTED;
        pending |= stages[i]->status == LOAN_PENDING;
    }
    if (p->manual_review && cleared == 0) {
        out->flags |= FLAG_MANUAL_REVIEW;
        s->status = LOAN_PENDING;
        remark(s, "Waiting for an officer's review (manual review mode)");
        return;
    }
    if (rejected) {
        s->status = LOAN_REJECTED;
        for (int i = 0; i < 3; i++)
            if (stages[i]->status == LOAN_REJECTED)
                remark(s, "Rejected at %s: %s", names[i], stages[i]->remarks);
    } else if (pending) {
        s->status = LOAN_PENDING;
        char list[256] = "";
        for (unsigned b = 0; b < LOAN_FLAG_COUNT; b++) {
            if (out->flags & (1u << b)) {
                size_t used = strlen(list);
                snprintf(list + used, sizeof(list) - used, "%s%s", used ? ", " : "",
                         loan_flag_name(1u << b));
            }
        }
        remark(s, "Waiting for review: %s", list);
    } else {
        s->status = LOAN_APPROVED;
        remark(s, "All verification stages passed");
    }
}

void loan_evaluate(const struct loan_input *in, const struct compliance_facts *f,
                   const struct loan_policy *p, unsigned cleared, struct loan_result *out)
{
    memset(out, 0, sizeof(*out));
    loan_kyc(in, &f->id, cleared, out);
    loan_compliance(in, f, p, cleared, out);
    loan_eligibility(in, f, cleared, 1, out);
    loan_decide(p, cleared, out);
    if (f->identity_hold && cleared == 0) {
        out->flags |= FLAG_IDENTITY_ATTEMPTS;
        out->final.status = LOAN_PENDING;
        out->final.remarks[0] = '\0';
        remark(&out->final,
               "Waiting for an officer's review: this account's identity checks failed %d or "
               "more times today",
               LOAN_IDENTITY_ATTEMPTS);
    }
}
