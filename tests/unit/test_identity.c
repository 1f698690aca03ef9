/*
 * Indian identity, eKYC, credit bureau, risk grade and price as pure pipeline rules, no server:
 * the submit parser's identity fields (app/pipeline/loan.c parse_identity), the age arithmetic,
 * KYC from the eKYC answers, and eligibility from the bureau report, the tier table, the risk
 * model and the base rate. docs/ekyc.md is the behaviour expected here.
 *
 * The risk model is version 1 of risk_v1.h (test_risk.c checks it against
 * sql/006_risk_model.sql); the tier table is version 1 of docs/ekyc.md.
 * Amounts are integer cents.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "js.h"
#include "loan.h"
#include "risk_v1.h"
#include "risk.h"
#include "validate.h"

#define UNITS(n) ((int64_t)(n)*100)

/* ---- the parser ------------------------------------------------------------------------- */

/* A valid submit body for an Indian applicant; %s adds members (start them with a comma). */
static const char body_fmt[] =
    "{\"name\":\"%s\",\"email\":\"priya.sharma@example.in\",\"phone\":\"+91 98765 43210\","
    "\"region\":\"ASIA\",\"country\":\"India\",\"city\":\"Pune\",\"income\":85000,\"debt\":25000,"
    "\"credit_score\":720,\"loan_amount\":250000,\"documents_uploaded\":true,"
    "\"documents\":[\"ID_Proof\",\"Income_Statement\",\"Address_Proof\"]%s}";

struct parsed {
    json_object *body, *fields;
    struct loan_input in;
    int rc;
};

static void parse_as(struct parsed *p, const char *name, const char *extra, int full)
{
    char src[2048];
    const char *why = NULL;
    snprintf(src, sizeof(src), body_fmt, name, extra);
    if (js_parse(src, strlen(src), &p->body, &why) != 0)
        fail_msg("test body does not parse (%s): %s", why, src);
    p->fields = json_object_new_object();
    p->rc = loan_parse(p->body, &p->in, p->fields, full);
}

static void parse(struct parsed *p, const char *extra)
{
    parse_as(p, "Priya Sharma", extra, 1);
}

static void parsed_free(struct parsed *p)
{
    json_object_put(p->body);
    json_object_put(p->fields);
}

static const char *fields_text(const struct parsed *p)
{
    return json_object_to_json_string(p->fields);
}

/* The body with extra parses without a single field error. */
static void expect_valid(struct parsed *p, const char *extra)
{
    parse(p, extra);
    if (p->rc != 0 || json_object_object_length(p->fields) != 0)
        fail_msg("%s refused: %s", extra, fields_text(p));
}

/* The body with extra is refused, with an error under key and under no other field. */
static void expect_error(const char *name, const char *extra, const char *key)
{
    struct parsed p;
    parse_as(&p, name, extra, 1);
    if (p.rc != -1 || !json_object_object_get_ex(p.fields, key, NULL) ||
        json_object_object_length(p.fields) != 1)
        fail_msg("%s: expected an error under \"%s\" alone, got rc %d %s", extra, key, p.rc,
                 fields_text(&p));
    parsed_free(&p);
}

static void test_parse_without_identity(void **state)
{
    (void)state;
    struct parsed p;
    expect_valid(&p, "");
    assert_string_equal(p.in.aadhaar, "");
    assert_string_equal(p.in.pan, "");
    assert_string_equal(p.in.bank_account, "");
    assert_string_equal(p.in.ifsc, "");
    assert_null(p.in.holder_name);
    assert_string_equal(p.in.date_of_birth, "");
    assert_int_equal(p.in.income, 8500000);
    parsed_free(&p);
    /* JSON null is absent. */
    expect_valid(&p, ",\"aadhaar\":null,\"pan\":null,\"bank_account\":null,"
                     "\"date_of_birth\":null");
    assert_string_equal(p.in.aadhaar, "");
    parsed_free(&p);
    /* POST /loan (full = 0) does not read identity fields at all. */
    parse_as(&p, "Priya Sharma", ",\"aadhaar\":\"1\",\"pan\":7,\"bank_account\":[]", 0);
    assert_int_equal(p.rc, 0);
    assert_string_equal(p.in.aadhaar, "");
    parsed_free(&p);
}

static void test_parse_aadhaar(void **state)
{
    (void)state;
    struct parsed p;
    expect_valid(&p, ",\"aadhaar\":\"234567890124\"");
    assert_string_equal(p.in.aadhaar, "234567890124");
    parsed_free(&p);
    expect_valid(&p, ",\"aadhaar\":\"2345 6789 0124\"");
    assert_string_equal(p.in.aadhaar, "234567890124");
    parsed_free(&p);
    /* The sandbox identities of docs/ekyc.md are all valid. */
    const char *sandbox[] = {"345678901238", "456789012341", "567890123458", "678901234560",
                             "654321098763", "789012345674", "890123456784", "987654321096",
                             "876543210988", "765432109878", "543210987652"};
    char extra[64];
    for (size_t i = 0; i < sizeof(sandbox) / sizeof(sandbox[0]); i++) {
        snprintf(extra, sizeof(extra), ",\"aadhaar\":\"%s\"", sandbox[i]);
        expect_valid(&p, extra);
        assert_string_equal(p.in.aadhaar, sandbox[i]);
        parsed_free(&p);
    }

    /* A number starting with 1 whose check digit is right: refused for the first digit. */
    char one[13] = "13456789012";
    one[11] = (char)('0' + val_verhoeff_digit(one));
    one[12] = '\0';
    assert_int_equal(val_verhoeff(one), 1);
    /* Eleven digits whose last is a right check digit: refused for the length. */
    char eleven[12] = "2345678901";
    eleven[10] = (char)('0' + val_verhoeff_digit(eleven));
    eleven[11] = '\0';
    char e1[64], e2[64];
    snprintf(e1, sizeof(e1), ",\"aadhaar\":\"%s\"", one);
    snprintf(e2, sizeof(e2), ",\"aadhaar\":\"%s\"", eleven);
    const char *bad[] = {
        ",\"aadhaar\":\"234567890125\"",    /* check digit */
        ",\"aadhaar\":\"234567890123\"",    /* check digit */
        e1,                                 /* starts with 1 */
        ",\"aadhaar\":\"034567890124\"",    /* starts with 0 */
        e2,                                 /* 11 digits */
        ",\"aadhaar\":\"2345678901240\"",   /* 13 digits */
        ",\"aadhaar\":\"2345-6789-0124\"",  /* dashes */
        ",\"aadhaar\":\"2345 67890124\"",   /* one space but not the other */
        ",\"aadhaar\":\"2345  6789 0124\"", /* double space */
        ",\"aadhaar\":\" 234567890124\"",   /* leading space */
        ",\"aadhaar\":\"234567890124 \"",   /* trailing space */
        ",\"aadhaar\":\"\"",                /* empty */
        ",\"aadhaar\":234567890124",        /* a number */
        ",\"aadhaar\":[\"234567890124\"]",  /* an array */
        ",\"aadhaar\":true",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        expect_error("Priya Sharma", bad[i], "aadhaar");
    /* A refused number never lands in the input. */
    parse(&p, ",\"aadhaar\":\"234567890125\"");
    assert_string_equal(p.in.aadhaar, "");
    parsed_free(&p);
}

static void test_parse_pan(void **state)
{
    (void)state;
    struct parsed p;
    expect_valid(&p, ",\"pan\":\"ABCPS1234K\"");
    assert_string_equal(p.in.pan, "ABCPS1234K");
    parsed_free(&p);
    /* Typed lower or mixed case is upper-cased. */
    expect_valid(&p, ",\"pan\":\"abcps1234k\"");
    assert_string_equal(p.in.pan, "ABCPS1234K");
    parsed_free(&p);
    expect_valid(&p, ",\"pan\":\"AbCpS1234k\"");
    assert_string_equal(p.in.pan, "ABCPS1234K");
    parsed_free(&p);

    const char *format[] = {
        ",\"pan\":\"ABCPS1234\"",
        ",\"pan\":\"ABCPS1234KK\"",
        ",\"pan\":\"ABCP51234K\"",
        ",\"pan\":\"ABCPS12345\"",
        ",\"pan\":\"1BCPS1234K\"",
        ",\"pan\":\"ABCPS 1234K\"",
        ",\"pan\":\"ABCPS-1234K\"",
        ",\"pan\":\"\"",
        ",\"pan\":1234",
    };
    for (size_t i = 0; i < sizeof(format) / sizeof(format[0]); i++)
        expect_error("Priya Sharma", format[i], "pan");
    /* 4th letter: a company (C) is a real holder type but not an individual; X is none. */
    expect_error("Priya Sharma", ",\"pan\":\"ABCCS1234K\"", "pan");
    expect_error("Priya Sharma", ",\"pan\":\"abccs1234k\"", "pan");
    expect_error("Priya Sharma", ",\"pan\":\"ABCHS1234K\"", "pan");
    expect_error("Priya Sharma", ",\"pan\":\"ABCXS1234K\"", "pan");
    parse(&p, ",\"pan\":\"ABCCS1234K\"");
    json_object *msg;
    assert_true(json_object_object_get_ex(p.fields, "pan", &msg));
    assert_non_null(strstr(json_object_to_json_string(msg), "4th character must be P"));
    assert_string_equal(p.in.pan, "");
    parsed_free(&p);
    /* 5th letter: the surname's initial, the surname written last or first ("K. Ramesh"). */
    expect_error("Priya Sharma", ",\"pan\":\"ABCPK1234K\"", "pan");
    parse_as(&p, "K. Ramesh", ",\"pan\":\"ABCPK1234K\"", 1);
    assert_int_equal(p.rc, 0);
    parsed_free(&p);
    parse_as(&p, "Sharma Priya", ",\"pan\":\"ABCPS1234K\"", 1);
    assert_int_equal(p.rc, 0);
    parsed_free(&p);
    expect_error("priya sharma", ",\"pan\":\"ABCPK1234K\"", "pan");
    expect_valid(&p, ",\"pan\":\"ABCPS1234K\"");
    parsed_free(&p);
    parse_as(&p, "priya sharma", ",\"pan\":\"ABCPS1234K\"", 1);
    assert_int_equal(p.rc, 0);
    parsed_free(&p);
    parse(&p, ",\"pan\":\"ABCPK1234K\"");
    assert_true(json_object_object_get_ex(p.fields, "pan", &msg));
    assert_non_null(strstr(json_object_to_json_string(msg), "5th character must be the initial"));
    assert_non_null(strstr(json_object_to_json_string(msg), "SP"));
    assert_string_equal(p.in.pan, "");
    parsed_free(&p);
    /* The surname is the last word. */
    parse_as(&p, "Vikram Singh Rathore", ",\"pan\":\"LMNPR2345W\"", 1);
    assert_int_equal(p.rc, 0);
    parsed_free(&p);
    expect_error("Vikram Singh Rathore", ",\"pan\":\"LMNPK2345W\"", "pan");
    /* A surname not written in Latin letters is not checked. */
    parse_as(&p, "Priya \xe0\xa4\xb6\xe0\xa4\xb0\xe0\xa5\x8d\xe0\xa4\xae\xe0\xa4\xbe", /* शर्मा */
             ",\"pan\":\"ABCPK1234K\"", 1);
    if (p.rc != 0)
        fail_msg("non-Latin surname checked: %s", fields_text(&p));
    assert_string_equal(p.in.pan, "ABCPK1234K");
    parsed_free(&p);
    /* ... but the format and the 4th letter still are. */
    expect_error("Priya \xe0\xa4\xb6\xe0\xa4\xb0\xe0\xa5\x8d\xe0\xa4\xae\xe0\xa4\xbe",
                 ",\"pan\":\"ABCCK1234K\"", "pan");
}

static void test_parse_bank_account(void **state)
{
    (void)state;
    struct parsed p;
    expect_valid(&p, ",\"bank_account\":{\"account_number\":\"50100234567890\","
                     "\"ifsc\":\"HDFC0001234\",\"holder_name\":\"Priya Sharma\"}");
    assert_string_equal(p.in.bank_account, "50100234567890");
    assert_string_equal(p.in.ifsc, "HDFC0001234");
    assert_string_equal(p.in.holder_name, "Priya Sharma");
    parsed_free(&p);
    /* IFSC in lower case is accepted and upper-cased; 9 and 18 digits are the limits. */
    expect_valid(&p, ",\"bank_account\":{\"account_number\":\"123456789\","
                     "\"ifsc\":\"icic0000456\",\"holder_name\":\"Priya Sharma\"}");
    assert_string_equal(p.in.ifsc, "ICIC0000456");
    assert_string_equal(p.in.bank_account, "123456789");
    parsed_free(&p);
    expect_valid(&p, ",\"bank_account\":{\"account_number\":\"123456789012345678\","
                     "\"ifsc\":\"UTIB0A0b789\",\"holder_name\":\"P Sharma\"}");
    assert_string_equal(p.in.ifsc, "UTIB0A0B789");
    assert_string_equal(p.in.bank_account, "123456789012345678");
    parsed_free(&p);

    /* Not an object. */
    const char *not_object[] = {",\"bank_account\":\"50100234567890\"", ",\"bank_account\":[]",
                                ",\"bank_account\":50100234567890", ",\"bank_account\":true"};
    for (size_t i = 0; i < sizeof(not_object) / sizeof(not_object[0]); i++)
        expect_error("Priya Sharma", not_object[i], "bank_account");

    /* Every member missing: each named by its path. */
    parse(&p, ",\"bank_account\":{}");
    assert_int_equal(p.rc, -1);
    assert_true(json_object_object_get_ex(p.fields, "bank_account.account_number", NULL));
    assert_true(json_object_object_get_ex(p.fields, "bank_account.ifsc", NULL));
    assert_true(json_object_object_get_ex(p.fields, "bank_account.holder_name", NULL));
    assert_false(json_object_object_get_ex(p.fields, "bank_account", NULL));
    assert_int_equal(json_object_object_length(p.fields), 3);
    parsed_free(&p);

    char extra[256];
    const char *accounts[] = {
        "\"12345678\"", "\"1234567890123456789\"", "\"12345-67890\"", "\"1234 567890\"",
        "\"\"",         "50100234567890",          "\"A2345678901\""};
    for (size_t i = 0; i < sizeof(accounts) / sizeof(accounts[0]); i++) {
        snprintf(extra, sizeof(extra),
                 ",\"bank_account\":{\"account_number\":%s,\"ifsc\":\"HDFC0001234\","
                 "\"holder_name\":\"Priya Sharma\"}",
                 accounts[i]);
        expect_error("Priya Sharma", extra, "bank_account.account_number");
    }
    const char *ifscs[] = {"\"HDFC1001234\"",
                           "\"HDFC000123\"",
                           "\"HDFC00012345\"",
                           "\"HD1C0001234\"",
                           "\"HDFC-001234\"",
                           "\"\"",
                           "1234"};
    for (size_t i = 0; i < sizeof(ifscs) / sizeof(ifscs[0]); i++) {
        snprintf(extra, sizeof(extra),
                 ",\"bank_account\":{\"account_number\":\"50100234567890\",\"ifsc\":%s,"
                 "\"holder_name\":\"Priya Sharma\"}",
                 ifscs[i]);
        expect_error("Priya Sharma", extra, "bank_account.ifsc");
    }
    const char *holders[] = {"\"Jo\"", "\"123\"", "\"\"", "42", "null"};
    for (size_t i = 0; i < sizeof(holders) / sizeof(holders[0]); i++) {
        snprintf(extra, sizeof(extra),
                 ",\"bank_account\":{\"account_number\":\"50100234567890\","
                 "\"ifsc\":\"HDFC0001234\",\"holder_name\":%s}",
                 holders[i]);
        expect_error("Priya Sharma", extra, "bank_account.holder_name");
    }
}

static void test_parse_date_of_birth(void **state)
{
    (void)state;
    struct parsed p;
    const char *good[] = {"1990-04-12", "2000-02-29", "1900-01-01", "1988-02-29"};
    char extra[64];
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        snprintf(extra, sizeof(extra), ",\"date_of_birth\":\"%s\"", good[i]);
        expect_valid(&p, extra);
        assert_string_equal(p.in.date_of_birth, good[i]);
        parsed_free(&p);
    }
    const char *bad[] = {
        ",\"date_of_birth\":\"1990-02-30\"",
        ",\"date_of_birth\":\"1899-12-31\"",
        ",\"date_of_birth\":\"12/04/1990\"",
        ",\"date_of_birth\":\"1990-4-12\"",
        ",\"date_of_birth\":\"1990-04-12T00:00:00Z\"",
        ",\"date_of_birth\":\"1990-13-01\"",
        ",\"date_of_birth\":\"1990-00-10\"",
        ",\"date_of_birth\":\"1990-04-00\"",
        ",\"date_of_birth\":\"1990-04-31\"",
        ",\"date_of_birth\":\"2023-02-29\"",
        ",\"date_of_birth\":\"1900-02-29\"",
        ",\"date_of_birth\":\"\"",
        ",\"date_of_birth\":19900412",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        expect_error("Priya Sharma", bad[i], "date_of_birth");
}

static void test_date_valid(void **state)
{
    (void)state;
    int y, m, d;
    assert_int_equal(loan_date_valid("1990-04-12", &y, &m, &d), 1);
    assert_int_equal(y, 1990);
    assert_int_equal(m, 4);
    assert_int_equal(d, 12);
    assert_int_equal(loan_date_valid("2999-12-31", &y, &m, &d), 1);
    assert_int_equal(loan_date_valid("3000-01-01", &y, &m, &d), 0);
    assert_int_equal(loan_date_valid("2000-02-29", &y, &m, &d), 1); /* 400-year rule */
    assert_int_equal(loan_date_valid("2100-02-29", &y, &m, &d), 0); /* 100-year rule */
    assert_int_equal(loan_date_valid("2024-02-29", &y, &m, &d), 1);
    assert_int_equal(loan_date_valid(NULL, &y, &m, &d), 0);
    assert_int_equal(loan_date_valid("1990-04-1a", &y, &m, &d), 0);
    assert_int_equal(loan_date_valid("1990+04+12", &y, &m, &d), 0);
}

static void test_age_years(void **state)
{
    (void)state;
    /* Birthday today: the exact age; the day before: one less. */
    assert_int_equal(loan_age_years("1990-04-12", 2026, 4, 12), 36);
    assert_int_equal(loan_age_years("1990-04-12", 2026, 4, 11), 35);
    assert_int_equal(loan_age_years("1990-04-12", 2026, 3, 31), 35);
    assert_int_equal(loan_age_years("1990-04-12", 2026, 4, 13), 36);
    /* The 18th birthday, the day the age rule turns. */
    assert_int_equal(loan_age_years("2008-11-20", 2026, 11, 20), 18);
    assert_int_equal(loan_age_years("2008-11-20", 2026, 11, 19), 17);
    assert_int_equal(loan_age_years("2008-12-31", 2026, 1, 1), 17);
    /* Born today, and in the future. */
    assert_int_equal(loan_age_years("2026-11-20", 2026, 11, 20), 0);
    assert_int_equal(loan_age_years("2026-11-21", 2026, 11, 20), -2);
    assert_int_equal(loan_age_years("2026-12-01", 2026, 11, 20), -2);
    assert_int_equal(loan_age_years("2027-01-01", 2026, 11, 20), -2);
    /* Not a date. */
    assert_int_equal(loan_age_years("1990-02-30", 2026, 11, 20), -1);
    assert_int_equal(loan_age_years("", 2026, 11, 20), -1);
    assert_int_equal(loan_age_years(NULL, 2026, 11, 20), -1);
    /* 29 February: in a common year a year is complete on 1 March, not on 28 February. */
    assert_int_equal(loan_age_years("1988-02-29", 2026, 2, 28), 37);
    assert_int_equal(loan_age_years("1988-02-29", 2026, 3, 1), 38);
    assert_int_equal(loan_age_years("1988-02-29", 2028, 2, 28), 39);
    assert_int_equal(loan_age_years("1988-02-29", 2028, 2, 29), 40);
    assert_int_equal(loan_age_years("2008-02-29", 2026, 2, 28), 17);
    assert_int_equal(loan_age_years("2008-02-29", 2026, 3, 1), 18);
}

/* ---- KYC ------------------------------------------------------------------------------- */

static const char *docs[] = {"ID_Proof", "Income_Statement", "Address_Proof"};

/* Priya Sharma of docs/ekyc.md, with her identity numbers. */
static void base(struct loan_input *in)
{
    memset(in, 0, sizeof(*in));
    in->name = "Priya Sharma";
    in->email = "priya.sharma@example.in";
    in->phone = "+91 98765 43210";
    strcpy(in->region, "ASIA");
    in->country = "India";
    in->city = "Pune";
    in->income = UNITS(100000);
    in->debt = UNITS(10000);
    in->credit_score = 720;
    in->loan_amount = UNITS(100000);
    in->documents_uploaded = 1;
    for (int i = 0; i < 3; i++)
        in->documents[in->ndocs++] = docs[i];
    strcpy(in->aadhaar, "234567890124");
    strcpy(in->pan, "ABCPS1234K");
    strcpy(in->date_of_birth, "1990-04-12");
}

static const struct ekyc_check verified = {EKYC_VERIFIED, 1.0, 1, "SBX-1"};

/* Clean compliance, India, adult, Aadhaar and PAN verified; no bureau, no credit policy. */
static struct compliance_facts facts(void)
{
    struct compliance_facts f;
    memset(&f, 0, sizeof(f));
    f.screened = 1;
    f.sanctions_list = "OFAC SDN";
    f.sanctions_version = "v1";
    f.country_name = "India";
    f.id.country_code = "IN";
    f.id.has_age = 1;
    f.id.age = 36;
    f.id.aadhaar = verified;
    f.id.pan = verified;
    return f;
}

static const struct loan_policy policy = {0.92, 0.85, 0};

static struct loan_result eval(const struct loan_input *in, const struct compliance_facts *f,
                               unsigned cleared)
{
    struct loan_result r;
    loan_evaluate(in, f, &policy, cleared, &r);
    return r;
}

static int has_rule(const struct loan_result *r, const char *rule)
{
    /* hard_rules is "a, b, c": match whole names only. */
    size_t n = strlen(rule);
    for (const char *p = r->hard_rules; (p = strstr(p, rule)) != NULL; p += n)
        if ((p == r->hard_rules || p[-1] == ' ') && (p[n] == '\0' || p[n] == ','))
            return 1;
    return 0;
}

static void expect_rule(const struct loan_result *r, const char *rule)
{
    if (!has_rule(r, rule))
        fail_msg("hard rule %s not in \"%s\"", rule, r->hard_rules);
}

static void test_kyc_verified(void **state)
{
    (void)state;
    struct loan_input in;
    base(&in);
    struct compliance_facts f = facts();
    struct loan_result r = eval(&in, &f, 0);
    assert_int_equal(r.kyc.status, LOAN_APPROVED);
    assert_int_equal(r.final.status, LOAN_APPROVED);
    assert_int_equal(r.hard_failures, 0);
    assert_int_equal(r.flags, 0);
    assert_non_null(strstr(r.kyc.remarks, "Aadhaar verified (name score 1.00)"));
    assert_non_null(strstr(r.kyc.remarks, "PAN verified"));
    /* A bank account verified too. */
    f.id.bank = verified;
    r = eval(&in, &f, 0);
    assert_int_equal(r.kyc.status, LOAN_APPROVED);
    assert_non_null(strstr(r.kyc.remarks, "Bank account verified"));
}

static void test_kyc_identity_required_in_india(void **state)
{
    (void)state;
    struct loan_input in;
    struct compliance_facts f = facts();
    f.id.aadhaar.status = EKYC_NOT_CHECKED;
    f.id.pan.status = EKYC_NOT_CHECKED;
    struct loan_result r;
    const char *missing[] = {"missing: PAN, Aadhaar", "missing: PAN", "missing: Aadhaar"};
    for (int i = 0; i < 3; i++) {
        base(&in);
        if (i != 2)
            in.pan[0] = '\0';
        if (i != 1)
            in.aadhaar[0] = '\0';
        r = eval(&in, &f, 0);
        assert_int_equal(r.kyc.status, LOAN_REJECTED);
        expect_rule(&r, "kyc_identity");
        assert_non_null(strstr(r.kyc.remarks, missing[i]));
        assert_int_equal(r.final.status, LOAN_REJECTED);
        /* No officer can approve it. */
        r = eval(&in, &f, 0xffffffffu);
        assert_int_equal(r.final.status, LOAN_REJECTED);
    }
    /* Elsewhere, without them: unaffected. */
    base(&in);
    in.pan[0] = in.aadhaar[0] = '\0';
    in.country = "United States";
    strcpy(in.region, "AMERICAS");
    f.id.country_code = "US";
    f.country_name = "United States";
    r = eval(&in, &f, 0);
    assert_int_equal(r.kyc.status, LOAN_APPROVED);
    assert_false(has_rule(&r, "kyc_identity"));
    assert_int_equal(r.final.status, LOAN_APPROVED);
    /* And with no identity facts at all (country unknown to the facts). */
    f.id.country_code = NULL;
    assert_int_equal(eval(&in, &f, 0).kyc.status, LOAN_APPROVED);
}

static void test_kyc_age(void **state)
{
    (void)state;
    struct loan_input in;
    base(&in);
    struct compliance_facts f = facts();
    f.id.age = 17;
    struct loan_result r = eval(&in, &f, 0);
    assert_int_equal(r.kyc.status, LOAN_REJECTED);
    expect_rule(&r, "kyc_age");
    assert_non_null(strstr(r.kyc.remarks, "17"));
    assert_int_equal(eval(&in, &f, 0xffffffffu).final.status, LOAN_REJECTED);
    f.id.age = 18;
    r = eval(&in, &f, 0);
    assert_int_equal(r.kyc.status, LOAN_APPROVED);
    assert_false(has_rule(&r, "kyc_age"));
    /* No date of birth given: no age rule. */
    f.id.has_age = 0;
    f.id.age = 0;
    assert_int_equal(eval(&in, &f, 0).kyc.status, LOAN_APPROVED);
}

/* Each of the three checks with one answer, the other two verified (or absent for the bank). */
static struct compliance_facts with_check(int which, struct ekyc_check c)
{
    struct compliance_facts f = facts();
    struct ekyc_check *slot[] = {&f.id.aadhaar, &f.id.pan, &f.id.bank};
    *slot[which] = c;
    return f;
}

static void test_kyc_ekyc_name(void **state)
{
    (void)state;
    static const char *const rule[] = {"aadhaar", "pan", "bank_account"};
    struct loan_input in;
    base(&in);
    char hr[64];
    for (int w = 0; w < 3; w++) {
        struct ekyc_check c = verified;
        /* 0.90 and above: verified. */
        c.name_score = 0.90;
        struct compliance_facts f = with_check(w, c);
        struct loan_result r = eval(&in, &f, 0);
        assert_int_equal(r.kyc.status, LOAN_APPROVED);
        /* 0.85: an officer looks. */
        c.name_score = 0.85;
        f = with_check(w, c);
        r = eval(&in, &f, 0);
        assert_int_equal(r.kyc.status, LOAN_PENDING);
        assert_int_equal(r.flags, FLAG_EKYC_REVIEW);
        assert_int_equal(r.hard_failures, 0);
        assert_int_equal(r.final.status, LOAN_PENDING);
        assert_non_null(strstr(r.final.remarks, "ekyc_review"));
        r = eval(&in, &f, FLAG_EKYC_REVIEW);
        assert_int_equal(r.kyc.status, LOAN_APPROVED);
        assert_int_equal(r.flags, 0);
        assert_int_equal(r.final.status, LOAN_APPROVED);
        assert_non_null(strstr(r.kyc.remarks, "accepted by the reviewing officer"));
        /* Other clearances do not clear it. */
        r = eval(&in, &f, ~(unsigned)FLAG_EKYC_REVIEW);
        assert_int_equal(r.kyc.status, LOAN_PENDING);
        /* 0.80 is still review, just below is another person. */
        c.name_score = 0.80;
        f = with_check(w, c);
        assert_int_equal(eval(&in, &f, 0).kyc.status, LOAN_PENDING);
        c.name_score = 0.5;
        f = with_check(w, c);
        r = eval(&in, &f, 0);
        assert_int_equal(r.kyc.status, LOAN_REJECTED);
        snprintf(hr, sizeof(hr), "kyc_%s_name", rule[w]);
        expect_rule(&r, hr);
        assert_non_null(strstr(r.kyc.remarks, "registered to another name"));
        assert_int_equal(eval(&in, &f, 0xffffffffu).final.status, LOAN_REJECTED);
        c.name_score = 0.7999;
        f = with_check(w, c);
        assert_int_equal(eval(&in, &f, 0).kyc.status, LOAN_REJECTED);
    }
}

static void test_kyc_ekyc_not_found(void **state)
{
    (void)state;
    static const char *const rule[] = {"aadhaar", "pan", "bank_account"};
    struct loan_input in;
    base(&in);
    char hr[64];
    for (int w = 0; w < 3; w++) {
        struct ekyc_check c = {EKYC_NOT_FOUND, -1, -1, "SBX-NF"};
        struct compliance_facts f = with_check(w, c);
        struct loan_result r = eval(&in, &f, 0);
        assert_int_equal(r.kyc.status, LOAN_REJECTED);
        snprintf(hr, sizeof(hr), "kyc_%s_not_found", rule[w]);
        expect_rule(&r, hr);
        assert_non_null(strstr(r.kyc.remarks, "not found"));
        assert_int_equal(eval(&in, &f, 0xffffffffu).final.status, LOAN_REJECTED);
    }
}

static void test_kyc_ekyc_unavailable(void **state)
{
    (void)state;
    struct loan_input in;
    base(&in);
    const enum ekyc_status down[] = {EKYC_TIMEOUT, EKYC_ERROR, EKYC_DISABLED};
    for (int w = 0; w < 3; w++) {
        for (int s = 0; s < 3; s++) {
            struct ekyc_check c = {down[s], -1, -1, ""};
            struct compliance_facts f = with_check(w, c);
            struct loan_result r = eval(&in, &f, 0);
            assert_int_equal(r.kyc.status, LOAN_PENDING);
            assert_int_equal(r.flags, FLAG_EKYC_UNAVAILABLE);
            assert_int_equal(r.hard_failures, 0);
            assert_int_equal(r.final.status, LOAN_PENDING);
            assert_non_null(strstr(r.kyc.remarks, "reprocess to retry"));
            /* An officer cannot clear it: every flag cleared, it still waits. */
            r = eval(&in, &f, 0xffffffffu);
            assert_int_equal(r.kyc.status, LOAN_PENDING);
            assert_true(r.flags & FLAG_EKYC_UNAVAILABLE);
            assert_int_equal(r.final.status, LOAN_PENDING);
            r = eval(&in, &f, FLAG_EKYC_UNAVAILABLE);
            assert_true(r.flags & FLAG_EKYC_UNAVAILABLE);
            assert_int_equal(r.final.status, LOAN_PENDING);
            /* A rejection elsewhere still rejects. */
            f.id.age = 16;
            assert_int_equal(eval(&in, &f, 0).final.status, LOAN_REJECTED);
        }
    }
    assert_true(LOAN_FLAGS_RETRY & FLAG_EKYC_UNAVAILABLE);
}

static void test_kyc_dob_mismatch(void **state)
{
    (void)state;
    struct loan_input in;
    base(&in);
    struct ekyc_check c = verified;
    c.dob_match = 0;
    struct compliance_facts f = with_check(0, c);
    struct loan_result r = eval(&in, &f, 0);
    assert_int_equal(r.kyc.status, LOAN_PENDING);
    assert_int_equal(r.flags, FLAG_EKYC_REVIEW);
    assert_non_null(strstr(r.kyc.remarks, "Date of birth differs"));
    r = eval(&in, &f, FLAG_EKYC_REVIEW);
    assert_int_equal(r.kyc.status, LOAN_APPROVED);
    assert_int_equal(r.final.status, LOAN_APPROVED);
    /* Not compared (-1): nothing to review. */
    c.dob_match = -1;
    f = with_check(0, c);
    assert_int_equal(eval(&in, &f, 0).kyc.status, LOAN_APPROVED);
    /* A close name and a different date: one flag, still pending, cleared together. */
    c.dob_match = 0;
    c.name_score = 0.85;
    f = with_check(1, c);
    r = eval(&in, &f, 0);
    assert_int_equal(r.flags, FLAG_EKYC_REVIEW);
    assert_int_equal(eval(&in, &f, FLAG_EKYC_REVIEW).final.status, LOAN_APPROVED);
}

static void test_kyc_remarks_quote_no_other_name(void **state)
{
    (void)state;
    /* Names on record in docs/ekyc.md that an applicant must never learn. */
    static const char *const others[] = {"Kavita", "Joshi",  "Vikram", "Singh", "Rathore",
                                         "Neha",   "Kapoor", "Arjun",  "Mehta"};
    const enum ekyc_status statuses[] = {EKYC_VERIFIED, EKYC_NOT_FOUND, EKYC_TIMEOUT, EKYC_ERROR,
                                         EKYC_DISABLED};
    const double scores[] = {1.0, 0.95, 0.88, 0.81, 0.5, 0.0, -1};
    struct loan_input in;
    base(&in);
    for (int w = 0; w < 3; w++)
        for (size_t s = 0; s < sizeof(statuses) / sizeof(statuses[0]); s++)
            for (size_t k = 0; k < sizeof(scores) / sizeof(scores[0]); k++)
                for (int dob = -1; dob <= 1; dob++) {
                    struct ekyc_check c = {statuses[s], scores[k], dob, "SBX-X"};
                    struct compliance_facts f = with_check(w, c);
                    struct loan_result r = eval(&in, &f, 0);
                    for (size_t o = 0; o < sizeof(others) / sizeof(others[0]); o++) {
                        if (strstr(r.kyc.remarks, others[o]) || strstr(r.final.remarks, others[o]))
                            fail_msg("remarks quote %s: %s", others[o], r.kyc.remarks);
                    }
                    /* Nor the numbers themselves. */
                    assert_null(strstr(r.kyc.remarks, in.aadhaar));
                    assert_null(strstr(r.kyc.remarks, in.pan));
                }
}

/* ---- eligibility: bureau, tiers, risk and price ---------------------------------------- */

/* Version 1 of the tier table in docs/ekyc.md. */
static const struct bureau_tier v1_tiers[] = {
    {750, 900, UNITS(500000), "750-900"},
    {650, 749, UNITS(200000), "650-749"},
    {300, 649, 0, "300-649"},
};

static struct bureau_report report(int score, int overdue, int enquiries)
{
    struct bureau_report b;
    memset(&b, 0, sizeof(b));
    b.status = BUREAU_OK;
    strcpy(b.bureau, "CIBIL");
    b.score = score;
    b.active_loans = 1;
    b.overdue_accounts = overdue;
    b.enquiries_6m = enquiries;
    strcpy(b.reference, "SBX-BUREAU-1");
    return b;
}

/* The facts of an eligible Indian applicant with a bureau report and the v1 tier table. */
static struct compliance_facts credit_facts(int score)
{
    struct compliance_facts f = facts();
    f.id.bureau = report(score, 0, 1);
    f.credit.tier_version = 1;
    f.credit.tiers = v1_tiers;
    f.credit.ntiers = 3;
    return f;
}

static void with_base_rate(struct compliance_facts *f)
{
    f->credit.have_base_rate = 1;
    f->credit.base_bps = 650;
    strcpy(f->credit.base_symbol, "RBI_REPO");
    strcpy(f->credit.base_as_of, "2026-11-20");
}

/* Amounts in whole units. */
static void amounts(struct loan_input *in, int64_t income, int64_t debt, int score, int64_t loan)
{
    in->income = UNITS(income);
    in->debt = UNITS(debt);
    in->credit_score = score;
    in->loan_amount = UNITS(loan);
}

static void test_bureau_score_replaces_declared(void **state)
{
    (void)state;
    struct loan_input in;
    base(&in);
    amounts(&in, 100000, 10000, 600, 100000);
    struct compliance_facts f = credit_facts(780);
    struct loan_result r = eval(&in, &f, 0);
    assert_int_equal(r.effective_score, 780);
    assert_int_equal(r.eligibility.status, LOAN_APPROVED);
    assert_non_null(strstr(r.eligibility.remarks, "CIBIL score 780 (declared 600)"));
    /* A high declared score does not rescue a low bureau score. */
    in.credit_score = 850;
    f = credit_facts(640);
    r = eval(&in, &f, 0);
    assert_int_equal(r.effective_score, 640);
    assert_int_equal(r.eligibility.status, LOAN_REJECTED);
    expect_rule(&r, "bureau_tier");
    assert_false(has_rule(&r, "credit_score"));
    assert_int_equal(r.max_loan_amount, 0);
    /* Without a tier table the fixed 650 cut-off applies to the bureau's score. */
    f.credit.tier_version = 0;
    r = eval(&in, &f, 0);
    assert_int_equal(r.effective_score, 640);
    assert_int_equal(r.eligibility.status, LOAN_REJECTED);
    expect_rule(&r, "credit_score");
    assert_int_equal(r.tier_applied, 0);
    in.credit_score = 600;
    f = credit_facts(700);
    f.credit.tier_version = 0;
    r = eval(&in, &f, 0);
    assert_int_equal(r.eligibility.status, LOAN_APPROVED);
    assert_int_equal(r.effective_score, 700);
}

static void test_tier_boundaries(void **state)
{
    (void)state;
    const struct {
        int score;
        enum loan_status status;
        int64_t limit;
    } cases[] = {
        {300, LOAN_REJECTED, 0},
        {649, LOAN_REJECTED, 0},
        {650, LOAN_APPROVED, UNITS(200000)},
        {749, LOAN_APPROVED, UNITS(200000)},
        {750, LOAN_APPROVED, UNITS(500000)},
        {900, LOAN_APPROVED, UNITS(500000)},
    };
    struct loan_input in;
    base(&in);
    amounts(&in, 100000, 10000, 720, 100000);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct compliance_facts f = credit_facts(cases[i].score);
        struct loan_result r = eval(&in, &f, 0);
        if (r.eligibility.status != cases[i].status)
            fail_msg("score %d: %s, %s", cases[i].score, loan_status_name(r.eligibility.status),
                     r.eligibility.remarks);
        assert_int_equal(r.tier_applied, 1);
        assert_int_equal(r.tier_limit, cases[i].limit);
        assert_int_equal(r.effective_score, cases[i].score);
        if (cases[i].status == LOAN_REJECTED) {
            expect_rule(&r, "bureau_tier");
            assert_int_equal(r.hard_failures, 1);
            assert_int_equal(eval(&in, &f, 0xffffffffu).final.status, LOAN_REJECTED);
        }
    }
    /* A score the table does not cover is below the cut-off, not waved through. */
    struct compliance_facts f = credit_facts(299);
    struct loan_result r = eval(&in, &f, 0);
    assert_int_equal(r.eligibility.status, LOAN_REJECTED);
    expect_rule(&r, "bureau_tier");
}

static void test_tier_limit(void **state)
{
    (void)state;
    struct loan_input in;
    base(&in);
    /* 650-749: 200,000.00 exactly passes, one cent more fails. */
    amounts(&in, 100000, 10000, 720, 200000);
    struct compliance_facts f = credit_facts(700);
    struct loan_result r = eval(&in, &f, 0);
    assert_int_equal(r.eligibility.status, LOAN_APPROVED);
    in.loan_amount += 1;
    r = eval(&in, &f, 0);
    assert_int_equal(r.eligibility.status, LOAN_REJECTED);
    expect_rule(&r, "bureau_limit");
    assert_int_equal(r.hard_failures, 1);
    assert_non_null(strstr(r.eligibility.remarks, "200,000.00"));
    assert_int_equal(eval(&in, &f, 0xffffffffu).final.status, LOAN_REJECTED);
    /* 750-900: 500,000.00 exactly passes, one cent more fails. */
    amounts(&in, 400000, 10000, 720, 500000);
    f = credit_facts(780);
    r = eval(&in, &f, 0);
    assert_int_equal(r.eligibility.status, LOAN_APPROVED);
    in.loan_amount += 1;
    r = eval(&in, &f, 0);
    assert_int_equal(r.eligibility.status, LOAN_REJECTED);
    expect_rule(&r, "bureau_limit");
    /* POST /loan without a loan: the limit is not checked but still caps. */
    memset(&r, 0, sizeof(r));
    loan_eligibility(&in, &f, 0, 0, &r);
    assert_int_equal(r.eligibility.status, LOAN_APPROVED);
    assert_int_equal(r.max_loan_amount, UNITS(500000));
}

static void test_max_loan_amount(void **state)
{
    (void)state;
    struct loan_input in;
    base(&in);
    /* 3 x income is the smallest. */
    amounts(&in, 50000, 0, 720, 100000);
    struct compliance_facts f = credit_facts(780);
    struct loan_result r = eval(&in, &f, 0);
    assert_int_equal(r.eligibility.status, LOAN_APPROVED);
    assert_int_equal(r.max_loan_amount, UNITS(150000));
    /* The tier is the smallest. */
    amounts(&in, 100000, 0, 720, 100000);
    f = credit_facts(700);
    r = eval(&in, &f, 0);
    assert_int_equal(r.max_loan_amount, UNITS(200000));
    amounts(&in, 500000, 0, 720, 100000);
    f = credit_facts(800);
    r = eval(&in, &f, 0);
    assert_int_equal(r.max_loan_amount, UNITS(500000));
    /* 1,000,000 is the smallest (a tier table with a larger limit). */
    static const struct bureau_tier generous[] = {{300, 900, UNITS(2000000), "all"}};
    f.credit.tiers = generous;
    f.credit.ntiers = 1;
    r = eval(&in, &f, 0);
    assert_int_equal(r.max_loan_amount, UNITS(1000000));
    /* No tier table. */
    f = credit_facts(800);
    f.credit.tier_version = 0;
    r = eval(&in, &f, 0);
    assert_int_equal(r.max_loan_amount, UNITS(1000000));
    /* Not eligible: 0. */
    f = credit_facts(600);
    assert_int_equal(eval(&in, &f, 0).max_loan_amount, 0);
}

static void test_no_credit_history(void **state)
{
    (void)state;
    struct loan_input in;
    base(&in);
    amounts(&in, 100000, 10000, 720, 100000);
    struct compliance_facts f = credit_facts(0);
    f.id.bureau.status = BUREAU_NO_HISTORY;
    struct loan_result r = eval(&in, &f, 0);
    assert_int_equal(r.effective_score, 720);
    /* No history borrows up to the lowest lending tier (200,000.00), no more. */
    assert_int_equal(r.tier_applied, 1);
    assert_int_equal(r.tier_limit, UNITS(200000));
    assert_int_equal(r.eligibility.status, LOAN_PENDING);
    assert_int_equal(r.flags, FLAG_NO_CREDIT_HISTORY);
    assert_int_equal(r.hard_failures, 0);
    assert_int_equal(r.final.status, LOAN_PENDING);
    assert_non_null(strstr(r.eligibility.remarks, "no credit history"));
    /* An officer accepts the declared score. */
    r = eval(&in, &f, FLAG_NO_CREDIT_HISTORY);
    assert_int_equal(r.eligibility.status, LOAN_APPROVED);
    assert_int_equal(r.flags, 0);
    assert_int_equal(r.final.status, LOAN_APPROVED);
    assert_int_equal(r.max_loan_amount, UNITS(200000));
    amounts(&in, 100000, 10000, 720, 200001);
    r = eval(&in, &f, FLAG_NO_CREDIT_HISTORY);
    assert_int_equal(r.eligibility.status, LOAN_REJECTED);
    expect_rule(&r, "bureau_limit");
    amounts(&in, 100000, 10000, 720, 100000);
    /* The declared score still has to meet the cut-off. */
    in.credit_score = 640;
    r = eval(&in, &f, FLAG_NO_CREDIT_HISTORY);
    assert_int_equal(r.eligibility.status, LOAN_REJECTED);
    expect_rule(&r, "credit_score");
}

static void test_bureau_unavailable(void **state)
{
    (void)state;
    struct loan_input in;
    base(&in);
    amounts(&in, 100000, 10000, 720, 100000);
    const enum bureau_status down[] = {BUREAU_TIMEOUT, BUREAU_ERROR, BUREAU_DISABLED};
    for (int i = 0; i < 3; i++) {
        struct compliance_facts f = credit_facts(0);
        f.id.bureau.status = down[i];
        struct loan_result r = eval(&in, &f, 0);
        assert_int_equal(r.eligibility.status, LOAN_PENDING);
        assert_int_equal(r.flags, FLAG_BUREAU_UNAVAILABLE);
        assert_int_equal(r.hard_failures, 0);
        assert_int_equal(r.effective_score, 720);
        assert_non_null(strstr(r.eligibility.remarks, "reprocess to retry"));
        /* Not clearable by an officer. */
        r = eval(&in, &f, 0xffffffffu);
        assert_int_equal(r.eligibility.status, LOAN_PENDING);
        assert_true(r.flags & FLAG_BUREAU_UNAVAILABLE);
        assert_int_equal(r.final.status, LOAN_PENDING);
    }
    assert_true(LOAN_FLAGS_RETRY & FLAG_BUREAU_UNAVAILABLE);
}

static void test_risk_strong_applicant_priced(void **state)
{
    (void)state;
    struct risk_model m = v1();
    char err[128];
    assert_int_equal(risk_model_check(&m, err, sizeof(err)), 0);
    struct loan_input in;
    base(&in);
    amounts(&in, 120000, 20000, 780, 200000);
    struct compliance_facts f = credit_facts(782);
    f.credit.model = &m;
    with_base_rate(&f);
    struct loan_result r = eval(&in, &f, 0);
    assert_int_equal(r.eligibility.status, LOAN_APPROVED);
    assert_int_equal(r.final.status, LOAN_APPROVED);
    assert_int_equal(r.has_risk, 1);
    assert_true(r.risk.grade == 'A' || r.risk.grade == 'B');
    assert_int_equal(r.risk.spread_bps, v1_grades[r.risk.grade - 'A'].spread_bps);
    assert_int_equal(r.has_rate, 1);
    assert_int_equal(r.spread_bps, r.risk.spread_bps);
    assert_int_equal(r.rate_bps, 650 + r.risk.spread_bps);
    assert_non_null(strstr(r.eligibility.remarks, "RBI_REPO 6.50%"));
    assert_non_null(strstr(r.eligibility.remarks, "2026-11-20"));
    char want[64];
    snprintf(want, sizeof(want), "Annual rate %d.%02d%%", r.rate_bps / 100, r.rate_bps % 100);
    assert_non_null(strstr(r.eligibility.remarks, want));
    /* The bureau's score and report are what the model sees. */
    struct risk_input ri = {in.income, in.debt, in.loan_amount, 782, 1, 0, 1};
    struct risk_result direct;
    assert_int_equal(risk_score(&m, &ri, &direct), 0);
    assert_int_equal(r.risk.points, direct.points);
    assert_int_equal(r.risk.grade, direct.grade);
}

static void test_risk_without_base_rate(void **state)
{
    (void)state;
    struct risk_model m = v1();
    struct loan_input in;
    base(&in);
    amounts(&in, 120000, 20000, 780, 200000);
    struct compliance_facts f = credit_facts(782);
    f.credit.model = &m;
    struct loan_result r = eval(&in, &f, 0);
    assert_int_equal(r.has_risk, 1);
    assert_int_equal(r.has_rate, 0);
    assert_int_equal(r.eligibility.status, LOAN_PENDING);
    assert_int_equal(r.flags, FLAG_PRICING_UNAVAILABLE);
    assert_int_equal(r.hard_failures, 0);
    assert_int_equal(r.final.status, LOAN_PENDING);
    /* Not clearable by an officer. */
    r = eval(&in, &f, 0xffffffffu);
    assert_int_equal(r.eligibility.status, LOAN_PENDING);
    assert_true(r.flags & FLAG_PRICING_UNAVAILABLE);
    assert_int_equal(r.final.status, LOAN_PENDING);
    assert_true(LOAN_FLAGS_RETRY & FLAG_PRICING_UNAVAILABLE);
}

static void test_risk_grade_e_rejected(void **state)
{
    (void)state;
    struct risk_model m = v1();
    struct loan_input in;
    base(&in);
    amounts(&in, 80000, 10000, 760, 100000);
    struct compliance_facts f = credit_facts(760);
    f.id.bureau.overdue_accounts = 3;
    f.id.bureau.enquiries_6m = 6;
    f.credit.model = &m;
    with_base_rate(&f);
    struct loan_result r = eval(&in, &f, 0);
    assert_int_equal(r.has_risk, 1);
    assert_int_equal(r.risk.grade, 'E');
    assert_int_equal(r.eligibility.status, LOAN_REJECTED);
    expect_rule(&r, "risk_grade");
    assert_int_equal(r.eligible, 0);
    assert_int_equal(r.max_loan_amount, 0);
    assert_int_equal(r.has_rate, 0);
    assert_non_null(strstr(r.eligibility.remarks, "Risk grade E"));
    assert_non_null(strstr(r.eligibility.remarks, "R05"));
    assert_non_null(strstr(r.eligibility.remarks, "R06"));
    assert_int_equal(r.final.status, LOAN_REJECTED);
    /* No officer can approve it. */
    r = eval(&in, &f, 0xffffffffu);
    assert_int_equal(r.final.status, LOAN_REJECTED);
    /* The same applicant with a clean report is not E. */
    f.id.bureau.overdue_accounts = 0;
    f.id.bureau.enquiries_6m = 1;
    r = eval(&in, &f, 0);
    assert_true(r.risk.grade < 'D');
    assert_int_equal(r.eligibility.status, LOAN_APPROVED);
}

static void test_risk_grade_d_review(void **state)
{
    (void)state;
    struct risk_model m = v1();
    struct loan_input in;
    base(&in);
    amounts(&in, 40000, 15000, 655, 110000);
    struct compliance_facts f = facts(); /* no bureau report */
    f.credit.model = &m;
    with_base_rate(&f);
    struct loan_result r = eval(&in, &f, 0);
    assert_int_equal(r.has_risk, 1);
    assert_int_equal(r.risk.grade, 'D');
    assert_int_equal(r.eligibility.status, LOAN_PENDING);
    assert_int_equal(r.flags, FLAG_RISK_REVIEW);
    assert_int_equal(r.hard_failures, 0);
    assert_int_equal(r.final.status, LOAN_PENDING);
    assert_non_null(strstr(r.eligibility.remarks, "R02"));
    /* Approved when an officer clears it, and priced at D's spread. */
    r = eval(&in, &f, FLAG_RISK_REVIEW);
    assert_int_equal(r.eligibility.status, LOAN_APPROVED);
    assert_int_equal(r.final.status, LOAN_APPROVED);
    assert_int_equal(r.flags, 0);
    assert_int_equal(r.rate_bps, 650 + 800);
}

static void test_risk_not_graded_after_rule_failure(void **state)
{
    (void)state;
    struct risk_model m = v1();
    struct loan_input in;
    base(&in);
    amounts(&in, 100000, 40000, 720, 100000); /* DTI 0.40 */
    struct compliance_facts f = credit_facts(780);
    f.credit.model = &m;
    with_base_rate(&f);
    struct loan_result r = eval(&in, &f, 0);
    assert_int_equal(r.eligibility.status, LOAN_REJECTED);
    assert_int_equal(r.has_risk, 0);
    assert_int_equal(r.has_rate, 0);
    expect_rule(&r, "dti");
    assert_false(has_rule(&r, "risk_grade"));
}

/* A provider that verifies a record without a name sends it to review, it does not reject it;
 * a negative base rate prints with its sign. */
static void test_unnamed_record_and_negative_rate(void **state)
{
    (void)state;
    struct loan_input in;
    base(&in);
    struct compliance_facts f = facts();
    f.id.aadhaar.name_score = -1;
    struct loan_result r = eval(&in, &f, 0);
    assert_int_equal(r.kyc.status, LOAN_PENDING);
    assert_true(r.flags & FLAG_EKYC_REVIEW);
    assert_int_equal(r.hard_failures, 0);
    assert_null(strstr(r.kyc.remarks, "-1.00"));
    r = eval(&in, &f, FLAG_EKYC_REVIEW);
    assert_int_equal(r.kyc.status, LOAN_APPROVED);

    amounts(&in, 500000, 10000, 800, 100000);
    f = credit_facts(800);
    struct risk_model m = v1();
    f.credit.model = &m;
    f.credit.have_base_rate = 1;
    f.credit.base_bps = -50;
    strcpy(f.credit.base_symbol, "ECB_DEPO");
    strcpy(f.credit.base_as_of, "2026-11-20");
    r = eval(&in, &f, 0);
    assert_int_equal(r.has_rate, 1);
    assert_int_equal(r.rate_bps, -50 + r.risk.spread_bps);
    assert_non_null(strstr(r.eligibility.remarks, "ECB_DEPO -0.50%"));
}

static void test_eligibility_without_facts(void **state)
{
    (void)state;
    struct loan_input in;
    base(&in);
    amounts(&in, 500000, 10000, 720, 100000);
    struct loan_result r;
    memset(&r, 0, sizeof(r));
    loan_eligibility(&in, NULL, 0, 1, &r);
    assert_int_equal(r.eligibility.status, LOAN_APPROVED);
    assert_int_equal(r.has_risk, 0);
    assert_int_equal(r.has_rate, 0);
    assert_int_equal(r.tier_applied, 0);
    assert_int_equal(r.effective_score, 720);
    assert_int_equal(r.max_loan_amount, UNITS(1000000));
    assert_int_equal(r.flags, 0);
    /* The fixed rules as before: 650 passes, 649 fails; 3 x income caps. */
    in.credit_score = 649;
    memset(&r, 0, sizeof(r));
    loan_eligibility(&in, NULL, 0, 1, &r);
    assert_int_equal(r.eligibility.status, LOAN_REJECTED);
    assert_string_equal(r.hard_rules, "credit_score");
    in.credit_score = 650;
    amounts(&in, 100000, 10000, 650, 300000);
    memset(&r, 0, sizeof(r));
    loan_eligibility(&in, NULL, 0, 1, &r);
    assert_int_equal(r.eligibility.status, LOAN_APPROVED);
    assert_int_equal(r.max_loan_amount, UNITS(300000));
    in.loan_amount += 1;
    memset(&r, 0, sizeof(r));
    loan_eligibility(&in, NULL, 0, 1, &r);
    assert_int_equal(r.eligibility.status, LOAN_REJECTED);
    assert_string_equal(r.hard_rules, "loan_to_income");
    /* The same as facts without a report, tiers or model. */
    amounts(&in, 100000, 10000, 700, 100000);
    struct compliance_facts f = facts();
    struct loan_result a, b;
    memset(&a, 0, sizeof(a));
    memset(&b, 0, sizeof(b));
    loan_eligibility(&in, NULL, 0, 1, &a);
    loan_eligibility(&in, &f, 0, 1, &b);
    assert_int_equal(a.eligibility.status, b.eligibility.status);
    assert_string_equal(a.eligibility.remarks, b.eligibility.remarks);
    assert_int_equal(a.max_loan_amount, b.max_loan_amount);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_without_identity),
        cmocka_unit_test(test_parse_aadhaar),
        cmocka_unit_test(test_parse_pan),
        cmocka_unit_test(test_parse_bank_account),
        cmocka_unit_test(test_parse_date_of_birth),
        cmocka_unit_test(test_date_valid),
        cmocka_unit_test(test_age_years),
        cmocka_unit_test(test_kyc_verified),
        cmocka_unit_test(test_kyc_identity_required_in_india),
        cmocka_unit_test(test_kyc_age),
        cmocka_unit_test(test_kyc_ekyc_name),
        cmocka_unit_test(test_unnamed_record_and_negative_rate),
        cmocka_unit_test(test_kyc_ekyc_not_found),
        cmocka_unit_test(test_kyc_ekyc_unavailable),
        cmocka_unit_test(test_kyc_dob_mismatch),
        cmocka_unit_test(test_kyc_remarks_quote_no_other_name),
        cmocka_unit_test(test_bureau_score_replaces_declared),
        cmocka_unit_test(test_tier_boundaries),
        cmocka_unit_test(test_tier_limit),
        cmocka_unit_test(test_max_loan_amount),
        cmocka_unit_test(test_no_credit_history),
        cmocka_unit_test(test_bureau_unavailable),
        cmocka_unit_test(test_risk_strong_applicant_priced),
        cmocka_unit_test(test_risk_without_base_rate),
        cmocka_unit_test(test_risk_grade_e_rejected),
        cmocka_unit_test(test_risk_grade_d_review),
        cmocka_unit_test(test_risk_not_graded_after_rule_failure),
        cmocka_unit_test(test_eligibility_without_facts),
    };
    return cmocka_run_group_tests_name("identity", tests, NULL, NULL);
}
