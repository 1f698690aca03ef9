/* The pipeline's rules at their boundaries, the parser's field errors, and the decision. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "js.h"
#include "loan.h"

static const char *docs[] = {"ID_Proof", "Income_Statement", "Address_Proof"};

static void base(struct loan_input *in)
{
    memset(in, 0, sizeof(*in));
    in->name = "John Doe";
    in->email = "john.doe@example.com";
    in->phone = "+1234567890";
    strcpy(in->region, "AMERICAS");
    in->country = "US";
    in->income = 8500000;
    in->debt = 2500000;
    in->credit_score = 720;
    in->loan_amount = 25000000;
    in->documents_uploaded = 1;
    for (int i = 0; i < 3; i++)
        in->documents[in->ndocs++] = docs[i];
}

static const struct compliance_facts clean = {
    .screened = 1, .sanctions_list = "OFAC SDN", .sanctions_version = "v1"};
static const struct loan_policy policy = {0.92, 0.85, 0};

static struct loan_result eval(const struct loan_input *in, const struct compliance_facts *f,
                               unsigned cleared)
{
    struct loan_result r;
    loan_evaluate(in, f, &policy, cleared, &r);
    return r;
}

static void test_seed_example_approved(void **state)
{
    (void)state;
    struct loan_input in;
    base(&in);
    struct loan_result r = eval(&in, &clean, 0);
    assert_int_equal(r.kyc.status, LOAN_APPROVED);
    assert_int_equal(r.compliance.status, LOAN_APPROVED);
    assert_int_equal(r.eligibility.status, LOAN_APPROVED);
    assert_int_equal(r.final.status, LOAN_APPROVED);
    assert_true(r.dti > 0.2941 && r.dti < 0.2942);
    assert_int_equal(r.flags, 0);
}

static enum loan_status elig(int64_t income, int64_t debt, int score, int64_t loan)
{
    struct loan_input in;
    base(&in);
    in.income = income;
    in.debt = debt;
    in.credit_score = score;
    in.loan_amount = loan;
    return eval(&in, &clean, 0).eligibility.status;
}

static void test_eligibility_boundaries(void **state)
{
    (void)state;
    /* DTI 0.3999 passes, 0.40 fails */
    assert_int_equal(elig(10000000, 3999000, 720, 100000), LOAN_APPROVED);
    assert_int_equal(elig(10000000, 4000000, 720, 100000), LOAN_REJECTED);
    assert_int_equal(elig(10000000, 3999999, 720, 100000), LOAN_APPROVED);
    /* score 650 passes, 649 fails */
    assert_int_equal(elig(10000000, 0, 650, 100000), LOAN_APPROVED);
    assert_int_equal(elig(10000000, 0, 649, 100000), LOAN_REJECTED);
    /* income 30,000 passes, 29,999.99 fails */
    assert_int_equal(elig(3000000, 0, 720, 100000), LOAN_APPROVED);
    assert_int_equal(elig(2999999, 0, 720, 100000), LOAN_REJECTED);
    /* loan 3 x income passes, one cent more fails */
    assert_int_equal(elig(10000000, 0, 720, 30000000), LOAN_APPROVED);
    assert_int_equal(elig(10000000, 0, 720, 30000001), LOAN_REJECTED);
    /* 1,000,000 passes, one cent more fails */
    assert_int_equal(elig(40000000, 0, 720, 100000000), LOAN_APPROVED);
    assert_int_equal(elig(40000000, 0, 720, 100000001), LOAN_REJECTED);
    /* no income: DTI cannot pass */
    assert_int_equal(elig(0, 0, 720, 0), LOAN_REJECTED);
}

static void test_every_failed_rule_named(void **state)
{
    (void)state;
    struct loan_input in;
    base(&in);
    in.debt = in.income; /* DTI 1.0 */
    in.credit_score = 600;
    struct loan_result r = eval(&in, &clean, 0);
    assert_int_equal(r.eligibility.status, LOAN_REJECTED);
    assert_non_null(strstr(r.eligibility.remarks, "Debt-to-income"));
    assert_non_null(strstr(r.eligibility.remarks, "Credit score 600"));
    assert_int_equal(r.nreasons, 2);
    assert_int_equal(r.final.status, LOAN_REJECTED);
    assert_non_null(strstr(r.hard_rules, "dti"));
    assert_non_null(strstr(r.hard_rules, "credit_score"));
}

static void test_high_value_boundary(void **state)
{
    (void)state;
    struct loan_input in;
    base(&in);
    in.income = 40000000;
    in.loan_amount = 50000000; /* exactly 500,000 */
    struct loan_result r = eval(&in, &clean, 0);
    assert_int_equal(r.compliance.status, LOAN_APPROVED);
    assert_false(r.flags & FLAG_HIGH_VALUE);
    in.loan_amount = 50000001;
    r = eval(&in, &clean, 0);
    assert_int_equal(r.compliance.status, LOAN_PENDING);
    assert_true(r.flags & FLAG_HIGH_VALUE);
    assert_int_equal(r.final.status, LOAN_PENDING);
    /* An officer's clearance approves it. */
    r = eval(&in, &clean, 0xffffffffu);
    assert_int_equal(r.final.status, LOAN_APPROVED);
}

static void test_kyc(void **state)
{
    (void)state;
    struct loan_input in;
    base(&in);
    in.documents_uploaded = 0;
    struct loan_result r = eval(&in, &clean, 0);
    assert_int_equal(r.kyc.status, LOAN_PENDING);
    assert_non_null(strstr(r.kyc.remarks, "Documents outstanding"));
    assert_true(r.flags & FLAG_DOCUMENTS);
    assert_int_equal(r.final.status, LOAN_PENDING);

    base(&in);
    in.ndocs = 2; /* Address_Proof missing */
    r = eval(&in, &clean, 0);
    assert_int_equal(r.kyc.status, LOAN_PENDING);
    assert_non_null(strstr(r.kyc.remarks, "Address_Proof"));

    base(&in);
    in.phone = "123-456-789"; /* 9 digits */
    r = eval(&in, &clean, 0);
    assert_int_equal(r.kyc.status, LOAN_REJECTED);
    in.phone = "(123) 456-7890";
    r = eval(&in, &clean, 0);
    assert_int_equal(r.kyc.status, LOAN_APPROVED);

    base(&in);
    in.email = "not-an-email";
    r = eval(&in, &clean, 0);
    assert_int_equal(r.kyc.status, LOAN_REJECTED);
    assert_int_equal(r.final.status, LOAN_REJECTED);

    base(&in);
    in.name = "Jo";
    assert_int_equal(eval(&in, &clean, 0).kyc.status, LOAN_REJECTED);
    in.name = "Zo\xc3\xab"; /* three characters, four bytes */
    assert_int_equal(eval(&in, &clean, 0).kyc.status, LOAN_APPROVED);
}

static void test_compliance(void **state)
{
    (void)state;
    struct loan_input in;
    base(&in);
    struct compliance_facts f = clean;
    f.sanctions_score = 0.95;
    f.sanctions_name = "DOE, John";
    f.sanctions_entry = 42;
    struct loan_result r = eval(&in, &f, 0);
    assert_int_equal(r.compliance.status, LOAN_REJECTED);
    assert_non_null(strstr(r.compliance.remarks, "entry 42"));
    /* an officer cannot clear a sanctions hit */
    r = eval(&in, &f, 0xffffffffu);
    assert_int_equal(r.final.status, LOAN_REJECTED);
    assert_non_null(strstr(r.hard_rules, "sanctions"));

    f.sanctions_score = 0.88;
    r = eval(&in, &f, 0);
    assert_int_equal(r.compliance.status, LOAN_PENDING);
    assert_true(r.flags & FLAG_SANCTIONS_REVIEW);
    f.sanctions_score = 0.84;
    assert_int_equal(eval(&in, &f, 0).compliance.status, LOAN_APPROVED);

    f = clean;
    f.country_risk = RISK_CALL_FOR_ACTION;
    assert_int_equal(eval(&in, &f, 0).final.status, LOAN_REJECTED);
    f.country_risk = RISK_MONITORING;
    r = eval(&in, &f, 0);
    assert_int_equal(r.compliance.status, LOAN_PENDING);
    assert_true(r.flags & FLAG_COUNTRY_MONITORING);

    f = clean;
    f.pep_name = "Aurelio Vantressa";
    assert_true(eval(&in, &f, 0).flags & FLAG_PEP);
    f = clean;
    in.political_connection = 1;
    assert_true(eval(&in, &f, 0).flags & FLAG_PEP);
    in.political_connection = 0;
    in.senior_relative = 1;
    assert_true(eval(&in, &f, 0).flags & FLAG_SENIOR_RELATIVE);

    /* Never approved without screening. */
    in.senior_relative = 0;
    f.screened = 0;
    r = eval(&in, &f, 0);
    assert_int_equal(r.compliance.status, LOAN_PENDING);
    assert_true(r.flags & FLAG_SCREENING_UNAVAILABLE);
}

static void test_manual_mode(void **state)
{
    (void)state;
    struct loan_input in;
    base(&in);
    struct loan_policy manual = policy;
    manual.manual_review = 1;
    struct loan_result r;
    loan_evaluate(&in, &clean, &manual, 0, &r);
    assert_int_equal(r.final.status, LOAN_PENDING);
    assert_true(r.flags & FLAG_MANUAL_REVIEW);
    loan_evaluate(&in, &clean, &manual, 0xffffffffu, &r);
    assert_int_equal(r.final.status, LOAN_APPROVED);
}

/* Repeated identity mismatches hold a submission for an officer whatever the stages say. */
static void test_identity_hold(void **state)
{
    (void)state;
    struct loan_input in;
    base(&in);
    in.credit_score = 400; /* a hard rule fails too: still waits, never tells */
    struct compliance_facts held = clean;
    held.identity_hold = 1;
    struct loan_result r;
    loan_evaluate(&in, &held, &policy, 0, &r);
    assert_int_equal(r.final.status, LOAN_PENDING);
    assert_true(r.flags & FLAG_IDENTITY_ATTEMPTS);
    assert_string_equal(loan_flag_name(FLAG_IDENTITY_ATTEMPTS), "identity_attempts");
    loan_evaluate(&in, &held, &policy, 0xffffffffu, &r);
    assert_int_equal(r.final.status, LOAN_REJECTED);
}

/* The bureau is asked only about a PAN the eKYC answers make the applicant's own. */
static void test_identity_confirmed(void **state)
{
    (void)state;
    struct identity_facts id;
    memset(&id, 0, sizeof(id));
    assert_false(loan_identity_confirmed(&id)); /* nothing checked */
    id.pan = (struct ekyc_check){EKYC_VERIFIED, 0.95, 1, ""};
    assert_true(loan_identity_confirmed(&id));
    id.pan.name_score = 0.80; /* close: an officer looks, the bureau may answer */
    assert_true(loan_identity_confirmed(&id));
    id.pan.name_score = 0.7999; /* another person's PAN */
    assert_false(loan_identity_confirmed(&id));
    id.pan.name_score = -1; /* no name on record to compare */
    assert_true(loan_identity_confirmed(&id));
    id.pan.status = EKYC_NOT_FOUND;
    assert_false(loan_identity_confirmed(&id));
    id.pan = (struct ekyc_check){EKYC_TIMEOUT, -1, -1, ""};
    assert_false(loan_identity_confirmed(&id));
    id.pan = (struct ekyc_check){EKYC_VERIFIED, 0.99, 1, ""};
    id.aadhaar = (struct ekyc_check){EKYC_VERIFIED, 0.42, 1, ""}; /* another person's Aadhaar */
    assert_false(loan_identity_confirmed(&id));
    id.aadhaar.status = EKYC_NOT_FOUND;
    assert_false(loan_identity_confirmed(&id));
    id.aadhaar = (struct ekyc_check){EKYC_VERIFIED, 0.93, 1, ""};
    assert_true(loan_identity_confirmed(&id));
}

static void test_parse(void **state)
{
    (void)state;
    const char *src = "{\"name\": 7, \"email\": \"a@b.co\", \"income\": \"abc\", \"debt\": -5, "
                      "\"credit_score\": 901, \"loan_amount\": 1.234, \"phone\": \"+1 555 0100 "
                      "22\", \"region\": \"mars\", \"documents\": \"ID_Proof\", "
                      "\"documents_uploaded\": \"yes\"}";
    json_object *body, *fields = json_object_new_object();
    const char *why;
    assert_int_equal(js_parse(src, strlen(src), &body, &why), 0);
    struct loan_input in;
    assert_int_equal(loan_parse(body, &in, fields, 1), -1);
    const char *bad[] = {"name",   "income",  "debt",      "credit_score",      "loan_amount",
                         "region", "country", "documents", "documents_uploaded"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (!json_object_object_get_ex(fields, bad[i], NULL))
            fail_msg("field %s not named in %s", bad[i], json_object_to_json_string(fields));
    assert_false(json_object_object_get_ex(fields, "email", NULL));
    assert_false(json_object_object_get_ex(fields, "phone", NULL));
    json_object_put(body);
    json_object_put(fields);

    src =
        "{\"name\":\"Ann Lee\",\"email\":\"a@b.co\",\"phone\":\"+15550100222\",\"region\":\"apac\","
        "\"country\":\"SG\",\"income\":50000.5,\"debt\":0,\"credit_score\":700,"
        "\"loan_amount\":1000.25,\"documents\":[\"ID_Proof\"]}";
    fields = json_object_new_object();
    assert_int_equal(js_parse(src, strlen(src), &body, &why), 0);
    assert_int_equal(loan_parse(body, &in, fields, 1), 0);
    assert_string_equal(in.region, "APAC");
    assert_int_equal(in.income, 5000050);
    assert_int_equal(in.loan_amount, 100025);
    assert_int_equal(in.ndocs, 1);
    json_object_put(body);
    json_object_put(fields);
}

static void test_money_format(void **state)
{
    (void)state;
    char b[32];
    assert_string_equal(loan_money(100000000, b, sizeof(b)), "1,000,000.00");
    assert_string_equal(loan_money(2999999, b, sizeof(b)), "29,999.99");
    assert_string_equal(loan_money(5, b, sizeof(b)), "0.05");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_seed_example_approved),
        cmocka_unit_test(test_eligibility_boundaries),
        cmocka_unit_test(test_every_failed_rule_named),
        cmocka_unit_test(test_high_value_boundary),
        cmocka_unit_test(test_kyc),
        cmocka_unit_test(test_compliance),
        cmocka_unit_test(test_manual_mode),
        cmocka_unit_test(test_identity_hold),
        cmocka_unit_test(test_identity_confirmed),
        cmocka_unit_test(test_parse),
        cmocka_unit_test(test_money_format),
    };
    return cmocka_run_group_tests_name("loan", tests, NULL, NULL);
}
