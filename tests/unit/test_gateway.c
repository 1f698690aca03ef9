/*
 * The payment gateway client (app/store/gateway.c): the webhook signature (SERVICING §4's vector,
 * RFC 4231's, and everything that must not verify), webhook parsing, the rank of payout states,
 * and gateway_payout / gateway_payout_get against a scripted HTTP server forked on loopback: the
 * three requests it makes (basic auth, JSON bodies, the idempotency header on the payout only)
 * and how each kind of answer maps to an outcome (2xx, 4xx, 5xx, garbage, 429, a stall past
 * GATEWAY_TIMEOUT_MS, a closed port, GATEWAY_PROVIDER=none); the collection webhooks' parser
 * (each kind, each field missing or wrong, a payout event) and gateway_payment_link against the
 * same server (the request it sends, 2xx, 4xx, 5xx, garbage, a stall, 408, none).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "gateway.h"
#include "log.h"

static const char vector_body[] =
    "{\"entity\":\"event\",\"event\":\"payout.processed\",\"payload\":{\"payout\":{\"entity\":{"
    "\"id\":\"pout_1\",\"amount\":9800000,\"status\":\"processed\"}}}}";
static const char vector_secret[] = "whsec_loanflow_test";
static const char vector_sig[] = "6357898528cab23a164e66f8ecca24a7aa7c4ee977ccc28fc9b32bb91a71de7d";

static void test_signature_vector(void **state)
{
    (void)state;
    char out[65];
    gateway_sign(vector_secret, vector_body, strlen(vector_body), out);
    assert_string_equal(out, vector_sig);
    assert_int_equal(
        gateway_signature_ok_with(vector_secret, vector_body, strlen(vector_body), vector_sig), 1);
    /* Upper-case hex is the same signature. */
    char upper[65];
    for (int i = 0; i < 65; i++)
        upper[i] = (vector_sig[i] >= 'a' && vector_sig[i] <= 'f') ? (char)(vector_sig[i] - 32)
                                                                  : vector_sig[i];
    assert_int_equal(
        gateway_signature_ok_with(vector_secret, vector_body, strlen(vector_body), upper), 1);
    /* The configured secret (GATEWAY_WEBHOOK_SECRET, set in main). */
    assert_int_equal(gateway_signature_ok(vector_body, strlen(vector_body), vector_sig), 1);
}

/* RFC 4231 test cases 2 (a short key) and 6 (a key longer than SHA-256's block). */
static void test_signature_rfc4231(void **state)
{
    (void)state;
    char out[65];
    const char *data2 = "what do ya want for nothing?";
    gateway_sign("Jefe", data2, strlen(data2), out);
    assert_string_equal(out, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    char key[132];
    memset(key, 0xaa, 131);
    key[131] = '\0';
    const char *data6 = "Test Using Larger Than Block-Size Key - Hash Key First";
    gateway_sign(key, data6, strlen(data6), out);
    assert_string_equal(out, "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
}

static void test_signature_rejects(void **state)
{
    (void)state;
    size_t n = strlen(vector_body);
    char body[sizeof(vector_body)];
    /* Any one byte of the body changed, a bit at a time. */
    for (size_t i = 0; i < n; i += 7) {
        memcpy(body, vector_body, sizeof(body));
        body[i] ^= 0x01;
        if (gateway_signature_ok_with(vector_secret, body, n, vector_sig))
            fail_msg("a body changed at byte %zu verified", i);
    }
    /* The body with a byte more or less (a re-serialised body is another body). */
    assert_int_equal(gateway_signature_ok_with(vector_secret, vector_body, n - 1, vector_sig), 0);
    memcpy(body, vector_body, sizeof(body));
    assert_int_equal(gateway_signature_ok_with(vector_secret, body, n + 1, vector_sig), 0);
    /* Any digit of the signature changed. */
    char sig[80];
    for (int i = 0; i < 64; i++) {
        snprintf(sig, sizeof(sig), "%s", vector_sig);
        sig[i] = sig[i] == '0' ? '1' : '0';
        if (gateway_signature_ok_with(vector_secret, vector_body, n, sig))
            fail_msg("a signature changed at digit %d verified", i);
    }
    /* Wrong lengths, absent, empty, not hex, spaces. */
    snprintf(sig, sizeof(sig), "%.63s", vector_sig);
    assert_int_equal(gateway_signature_ok_with(vector_secret, vector_body, n, sig), 0);
    snprintf(sig, sizeof(sig), "%s0", vector_sig);
    assert_int_equal(gateway_signature_ok_with(vector_secret, vector_body, n, sig), 0);
    snprintf(sig, sizeof(sig), "%s ", vector_sig);
    assert_int_equal(gateway_signature_ok_with(vector_secret, vector_body, n, sig), 0);
    snprintf(sig, sizeof(sig), "sha256=%s", vector_sig);
    assert_int_equal(gateway_signature_ok_with(vector_secret, vector_body, n, sig), 0);
    assert_int_equal(gateway_signature_ok_with(vector_secret, vector_body, n, NULL), 0);
    assert_int_equal(gateway_signature_ok_with(vector_secret, vector_body, n, ""), 0);
    snprintf(sig, sizeof(sig), "%s", vector_sig);
    sig[10] = 'g';
    assert_int_equal(gateway_signature_ok_with(vector_secret, vector_body, n, sig), 0);
    sig[10] = ':';
    assert_int_equal(gateway_signature_ok_with(vector_secret, vector_body, n, sig), 0);
    /* Another secret, or none at all. */
    assert_int_equal(gateway_signature_ok_with("whsec_loanflow_tesT", vector_body, n, vector_sig),
                     0);
    assert_int_equal(gateway_signature_ok_with("", vector_body, n, vector_sig), 0);
    assert_int_equal(gateway_signature_ok_with(NULL, vector_body, n, vector_sig), 0);
    assert_int_equal(gateway_signature_ok(vector_body, n, NULL), 0);
}

static const char full_event[] =
    "{\"entity\":\"event\",\"account_id\":\"acc_AbCdEfGhIjKlMn\",\"event\":\"payout.failed\","
    "\"contains\":[\"payout\"],\"payload\":{\"payout\":{\"entity\":{\"id\":\"pout_Q1w2E3r4T5y6U7\","
    "\"entity\":\"payout\",\"fund_account_id\":\"fa_1\",\"amount\":250000,\"currency\":\"INR\","
    "\"status\":\"failed\",\"utr\":null,\"mode\":\"IMPS\",\"reference_id\":\"LN-42\","
    "\"narration\":\"Loan LN 42\",\"failure_reason\":\"Beneficiary bank offline\","
    "\"status_details\":{\"reason\":\"bank_offline\",\"description\":\"The beneficiary bank is "
    "offline\",\"source\":\"beneficiary_bank\"},\"created_at\":1717000000}}},"
    "\"created_at\":1717000300}";

static void test_event_parse_good(void **state)
{
    (void)state;
    struct gateway_event ev;
    const char *field = "x";
    assert_int_equal(gateway_event_parse(vector_body, strlen(vector_body), &ev, &field), 0);
    assert_null(field);
    assert_string_equal(ev.event, "payout.processed");
    assert_string_equal(ev.payout_id, "pout_1");
    assert_string_equal(ev.status, "processed");
    assert_true(ev.amount == 9800000);
    assert_string_equal(ev.reference, "");
    assert_string_equal(ev.utr, "");
    assert_string_equal(ev.reason, "");
    assert_true(ev.created_at == 0);

    assert_int_equal(gateway_event_parse(full_event, strlen(full_event), &ev, &field), 0);
    assert_string_equal(ev.event, "payout.failed");
    assert_string_equal(ev.payout_id, "pout_Q1w2E3r4T5y6U7");
    assert_string_equal(ev.status, "failed");
    assert_true(ev.amount == 250000);
    assert_string_equal(ev.reference, "LN-42");
    assert_string_equal(ev.utr, "");
    assert_string_equal(ev.reason, "The beneficiary bank is offline");
    assert_true(ev.created_at == 1717000300);

    /* No status_details: the failure_reason is the reason. A body is parsed from its length,
     * not up to a NUL. */
    const char *fr = "{\"entity\":\"event\",\"event\":\"payout.reversed\",\"payload\":{\"payout\":{"
                     "\"entity\":{\"id\":\"pout_2\",\"amount\":1,\"status\":\"reversed\",\"utr\":"
                     "\"UTR123\",\"failure_reason\":\"Account closed\",\"status_details\":null}}}}"
                     "GARBAGE AFTER";
    size_t frl = strlen(fr) - strlen("GARBAGE AFTER");
    assert_int_equal(gateway_event_parse(fr, frl, &ev, NULL), 0);
    assert_string_equal(ev.reason, "Account closed");
    assert_string_equal(ev.utr, "UTR123");
}

struct bad_case {
    const char *body;
    const char *field;
};

static void test_event_parse_bad(void **state)
{
    (void)state;
    static const struct bad_case cases[] = {
        {"", "body"},
        {"not json", "body"},
        {"[1,2]", "body"},
        {"{\"entity\":\"event\"} trailing", "body"},
        {"{'entity':'event'}", "body"},
        {"{\"entity\":\"payment\",\"event\":\"payout.processed\"}", "entity"},
        {"{\"event\":\"payout.processed\"}", "entity"},
        {"{\"entity\":\"event\",\"event\":\"payment.captured\",\"payload\":{}}", "event"},
        {"{\"entity\":\"event\",\"event\":\"payout.\",\"payload\":{}}", "event"},
        {"{\"entity\":\"event\",\"event\":7,\"payload\":{}}", "event"},
        {"{\"entity\":\"event\",\"event\":\"payout.processed\"}", "payload.payout.entity"},
        {"{\"entity\":\"event\",\"event\":\"payout.processed\",\"payload\":{\"payout\":[]}}",
         "payload.payout.entity"},
        {"{\"entity\":\"event\",\"event\":\"payout.processed\",\"payload\":{\"payout\":{"
         "\"entity\":{\"amount\":1,\"status\":\"processed\"}}}}",
         "payload.payout.entity.id"},
        {"{\"entity\":\"event\",\"event\":\"payout.processed\",\"payload\":{\"payout\":{"
         "\"entity\":{\"id\":5,\"amount\":1,\"status\":\"processed\"}}}}",
         "payload.payout.entity.id"},
        {"{\"entity\":\"event\",\"event\":\"payout.processed\",\"payload\":{\"payout\":{"
         "\"entity\":{\"id\":\"pout_1\",\"amount\":1,\"status\":\"done\"}}}}",
         "payload.payout.entity.status"},
        {"{\"entity\":\"event\",\"event\":\"payout.processed\",\"payload\":{\"payout\":{"
         "\"entity\":{\"id\":\"pout_1\",\"amount\":\"100\",\"status\":\"processed\"}}}}",
         "payload.payout.entity.amount"},
        {"{\"entity\":\"event\",\"event\":\"payout.processed\",\"payload\":{\"payout\":{"
         "\"entity\":{\"id\":\"pout_1\",\"amount\":100.5,\"status\":\"processed\"}}}}",
         "payload.payout.entity.amount"},
        {"{\"entity\":\"event\",\"event\":\"payout.processed\",\"payload\":{\"payout\":{"
         "\"entity\":{\"id\":\"pout_1\",\"amount\":-1,\"status\":\"processed\"}}}}",
         "payload.payout.entity.amount"},
        {"{\"entity\":\"event\",\"event\":\"payout.processed\",\"payload\":{\"payout\":{"
         "\"entity\":{\"id\":\"pout_1\",\"status\":\"processed\"}}}}",
         "payload.payout.entity.amount"},
        {"{\"entity\":\"event\",\"event\":\"payout.processed\",\"payload\":{\"payout\":{"
         "\"entity\":{\"id\":\"pout_1\",\"amount\":1,\"status\":\"processed\",\"utr\":5}}}}",
         "payload.payout.entity.utr"},
        {"{\"entity\":\"event\",\"event\":\"payout.processed\",\"payload\":{\"payout\":{"
         "\"entity\":{\"id\":\"pout_1\",\"amount\":1,\"status\":\"processed\"}}},"
         "\"created_at\":\"yesterday\"}",
         "created_at"},
        {"{\"entity\":\"event\",\"event\":\"payout.processed\",\"payload\":{\"payout\":{"
         "\"entity\":{\"id\":\"pout_\\n1\",\"amount\":1,\"status\":\"processed\"}}}}",
         "payload.payout.entity.id"},
    };
    struct gateway_event ev;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *field = NULL;
        if (gateway_event_parse(cases[i].body, strlen(cases[i].body), &ev, &field) != -1)
            fail_msg("case %zu parsed: %s", i, cases[i].body);
        if (field == NULL || strcmp(field, cases[i].field) != 0)
            fail_msg("case %zu: field %s, expected %s", i, field ? field : "(null)",
                     cases[i].field);
        assert_string_equal(ev.payout_id, "");
    }
    /* An id longer than the struct holds is refused, not cut. */
    char big[512];
    char id[100];
    memset(id, 'x', 80);
    id[80] = '\0';
    snprintf(big, sizeof(big),
             "{\"entity\":\"event\",\"event\":\"payout.processed\",\"payload\":{\"payout\":{"
             "\"entity\":{\"id\":\"%s\",\"amount\":1,\"status\":\"processed\"}}}}",
             id);
    assert_int_equal(gateway_event_parse(big, strlen(big), &ev, NULL), -1);
    /* A NUL inside the body. */
    char nul[sizeof(vector_body)];
    memcpy(nul, vector_body, sizeof(nul));
    nul[20] = '\0';
    assert_int_equal(gateway_event_parse(nul, sizeof(vector_body) - 1, &ev, NULL), -1);
    assert_int_equal(gateway_event_parse(NULL, 0, &ev, NULL), -1);
}

static void test_status_rank(void **state)
{
    (void)state;
    assert_int_equal(gateway_status_rank("queued"), 1);
    assert_int_equal(gateway_status_rank("pending"), 2);
    assert_int_equal(gateway_status_rank("processing"), 3);
    assert_int_equal(gateway_status_rank("processed"), 4);
    assert_int_equal(gateway_status_rank("reversed"), 5);
    assert_int_equal(gateway_status_rank("failed"), 5);
    assert_int_equal(gateway_status_rank("cancelled"), 5);
    assert_int_equal(gateway_status_rank("Processed"), 0);
    assert_int_equal(gateway_status_rank("initiated"), 0);
    assert_int_equal(gateway_status_rank(""), 0);
    assert_int_equal(gateway_status_rank(NULL), 0);
    /* Forward only, and a processed payout may still be reversed. */
    assert_true(gateway_status_rank("processed") > gateway_status_rank("processing"));
    assert_true(gateway_status_rank("reversed") > gateway_status_rank("processed"));
}

/* ---- collection: the webhook parser ---- */

#define PAYMENT_ENTITY                                                                             \
    "{\"id\":\"pay_P1a2b3c4d5e6f7\",\"entity\":\"payment\",\"amount\":150000,\"currency\":"        \
    "\"INR\",\"status\":\"captured\",\"method\":\"upi\",\"description\":\"EMI 3\",\"notes\":{"     \
    "\"loan_id\":\"LN-ABCD1234\",\"purpose\":\"repayment\",\"reference\":\"LN-ABCD1234:3\"},"      \
    "\"created_at\":1717000000}"
#define LINK_ENTITY(status, notes)                                                                 \
    "{\"id\":\"plink_L1a2b3c4d5e6f7\",\"amount\":300000,\"amount_paid\":150000,\"currency\":"      \
    "\"INR\",\"status\":\"" status "\",\"reference_id\":\"LN-ABCD1234:3\",\"notes\":" notes "}"
#define EVENT(name, payload)                                                                       \
    "{\"entity\":\"event\",\"account_id\":\"acc_1\",\"event\":\"" name "\",\"contains\":[],"       \
    "\"payload\":" payload ",\"created_at\":1717000300}"

static void test_payment_event_parse_good(void **state)
{
    (void)state;
    struct gateway_payment_event ev;
    const char *field = "x";
    const char *captured =
        EVENT("payment.captured", "{\"payment\":{\"entity\":" PAYMENT_ENTITY "}}");
    assert_int_equal(gateway_payment_event_parse(captured, strlen(captured), &ev, &field), 0);
    assert_null(field);
    assert_string_equal(ev.event, "payment.captured");
    assert_string_equal(ev.payment_id, "pay_P1a2b3c4d5e6f7");
    assert_string_equal(ev.refund_id, "");
    assert_string_equal(ev.link_id, "");
    assert_string_equal(ev.status, "captured");
    assert_true(ev.amount == 150000);
    assert_string_equal(ev.currency, "INR");
    assert_string_equal(ev.loan_id, "LN-ABCD1234");
    assert_string_equal(ev.reference, "LN-ABCD1234:3");
    assert_string_equal(ev.purpose, "repayment");
    assert_true(ev.created_at == 1717000300);

    const char *failed =
        EVENT("payment.failed", "{\"payment\":{\"entity\":{\"id\":\"pay_F\",\"amount\":100,"
                                "\"currency\":\"INR\",\"status\":\"failed\",\"notes\":[]}}}");
    assert_int_equal(gateway_payment_event_parse(failed, strlen(failed), &ev, &field), 0);
    assert_string_equal(ev.status, "failed");
    assert_string_equal(ev.loan_id, "");
    assert_string_equal(ev.reference, "");

    const char *refund = EVENT(
        "refund.processed",
        "{\"refund\":{\"entity\":{\"id\":\"rfnd_R1a2b3c4d5e6f7\",\"entity\":\"refund\",\"amount\":"
        "50000,\"currency\":\"INR\",\"payment_id\":\"pay_P1a2b3c4d5e6f7\",\"status\":"
        "\"processed\",\"notes\":{\"loan_id\":\"LN-ABCD1234\"}}},\"payment\":{"
        "\"entity\":" PAYMENT_ENTITY "}}");
    assert_int_equal(gateway_payment_event_parse(refund, strlen(refund), &ev, &field), 0);
    assert_string_equal(ev.event, "refund.processed");
    assert_string_equal(ev.refund_id, "rfnd_R1a2b3c4d5e6f7");
    assert_string_equal(ev.payment_id, "pay_P1a2b3c4d5e6f7");
    assert_string_equal(ev.status, "processed");
    assert_true(ev.amount == 50000);
    assert_string_equal(ev.loan_id, "LN-ABCD1234");
    /* What the refund's notes lack comes from the payment's. */
    assert_string_equal(ev.reference, "LN-ABCD1234:3");
    assert_string_equal(ev.purpose, "repayment");

    const char *paid = EVENT("payment_link.paid",
                             "{\"payment_link\":{\"entity\":" LINK_ENTITY(
                                 "paid", "{}") "},\"payment\":{\"entity\":" PAYMENT_ENTITY "}}");
    assert_int_equal(gateway_payment_event_parse(paid, strlen(paid), &ev, &field), 0);
    assert_string_equal(ev.event, "payment_link.paid");
    assert_string_equal(ev.link_id, "plink_L1a2b3c4d5e6f7");
    assert_string_equal(ev.payment_id, "pay_P1a2b3c4d5e6f7");
    assert_string_equal(ev.status, "paid");
    assert_true(ev.amount == 150000); /* the payment's, not the link's */
    assert_string_equal(ev.loan_id, "LN-ABCD1234");

    const char *partial =
        EVENT("payment_link.partially_paid",
              "{\"payment_link\":{\"entity\":" LINK_ENTITY(
                  "partially_paid", "{\"loan_id\":\"LN-L\"}") "},\"payment\":{\"entity\":{\"id\":"
                                                              "\"pay_2\",\"amount\":1,"
                                                              "\"currency\":\"INR\",\"status\":"
                                                              "\"captured\"}}}");
    assert_int_equal(gateway_payment_event_parse(partial, strlen(partial), &ev, &field), 0);
    assert_string_equal(ev.status, "partially_paid");
    assert_true(ev.amount == 1);
    /* Notes from the link when the payment has none, the reference from its reference_id. */
    assert_string_equal(ev.loan_id, "LN-L");
    assert_string_equal(ev.reference, "LN-ABCD1234:3");

    const char *expired =
        EVENT("payment_link.expired", "{\"payment_link\":{\"entity\":" LINK_ENTITY(
                                          "expired", "{\"purpose\":\"cooling_off_exit\"}") "}}");
    assert_int_equal(gateway_payment_event_parse(expired, strlen(expired), &ev, &field), 0);
    assert_string_equal(ev.status, "expired");
    assert_string_equal(ev.payment_id, "");
    assert_true(ev.amount == 300000); /* the link's */
    assert_string_equal(ev.purpose, "cooling_off_exit");
    const char *cancelled =
        EVENT("payment_link.cancelled",
              "{\"payment_link\":{\"entity\":" LINK_ENTITY("cancelled", "null") "}}");
    assert_int_equal(gateway_payment_event_parse(cancelled, strlen(cancelled), &ev, &field), 0);
    assert_string_equal(ev.status, "cancelled");
    assert_string_equal(ev.link_id, "plink_L1a2b3c4d5e6f7");
}

static void test_payment_event_parse_bad(void **state)
{
    (void)state;
    /* An event of the protocol Loanflow does not act on is acknowledged, not refused. */
    struct gateway_payment_event other;
    const char *why = NULL;
    const char *order = "{\"entity\":\"event\",\"event\":\"order.paid\",\"payload\":{}}";
    assert_int_equal(gateway_payment_event_parse(order, strlen(order), &other, &why), 2);
    static const struct bad_case cases[] = {
        {"", "body"},
        {"[]", "body"},
        {"{\"entity\":\"payment\",\"event\":\"payment.captured\"}", "entity"},
        {"{\"entity\":\"event\",\"event\":\"payout.\",\"payload\":{}}", "event"},
        {"{\"entity\":\"event\",\"event\":\"payment.captured\"}", "payload"},
        {EVENT("payment.captured", "{}"), "payload.payment.entity"},
        {EVENT("payment.captured", "{\"payment\":{\"entity\":[]}}"), "payload.payment.entity"},
        {EVENT("payment.captured", "{\"payment\":{\"entity\":{\"amount\":1,\"currency\":\"INR\","
                                   "\"status\":\"captured\"}}}"),
         "payload.payment.entity.id"},
        {EVENT("payment.captured", "{\"payment\":{\"entity\":{\"id\":\"pay_1\",\"amount\":1,"
                                   "\"currency\":\"INR\",\"status\":\"gone\"}}}"),
         "payload.payment.entity.status"},
        {EVENT("payment.captured", "{\"payment\":{\"entity\":{\"id\":\"pay_1\",\"currency\":"
                                   "\"INR\",\"status\":\"captured\"}}}"),
         "payload.payment.entity.amount"},
        {EVENT("payment.captured", "{\"payment\":{\"entity\":{\"id\":\"pay_1\",\"amount\":-5,"
                                   "\"currency\":\"INR\",\"status\":\"captured\"}}}"),
         "payload.payment.entity.amount"},
        {EVENT("payment.captured", "{\"payment\":{\"entity\":{\"id\":\"pay_1\",\"amount\":1.5,"
                                   "\"currency\":\"INR\",\"status\":\"captured\"}}}"),
         "payload.payment.entity.amount"},
        {EVENT("payment.captured", "{\"payment\":{\"entity\":{\"id\":\"pay_1\",\"amount\":1,"
                                   "\"currency\":\"RUPEE\",\"status\":\"captured\"}}}"),
         "payload.payment.entity.currency"},
        {EVENT("payment.captured", "{\"payment\":{\"entity\":{\"id\":\"pay_1\",\"amount\":1,"
                                   "\"currency\":\"inr\",\"status\":\"captured\"}}}"),
         "payload.payment.entity.currency"},
        {EVENT("payment.captured", "{\"payment\":{\"entity\":{\"id\":\"pay_1\",\"amount\":1,"
                                   "\"currency\":\"INR\",\"status\":\"captured\",\"notes\":5}}}"),
         "payload.payment.entity.notes"},
        {EVENT("payment.captured",
               "{\"payment\":{\"entity\":{\"id\":\"pay_1\",\"amount\":1,\"currency\":\"INR\","
               "\"status\":\"captured\",\"notes\":{\"loan_id\":42}}}}"),
         "payload.payment.entity.notes.loan_id"},
        {EVENT("payment.captured",
               "{\"payment\":{\"entity\":{\"id\":\"pay_1\",\"amount\":1,\"currency\":\"INR\","
               "\"status\":\"captured\",\"notes\":{\"loan_id\":"
               "\"LN-0123456789012345678901234567890123456789\"}}}}"),
         "payload.payment.entity.notes.loan_id"},
        {EVENT("refund.processed", "{\"payment\":{\"entity\":" PAYMENT_ENTITY "}}"),
         "payload.refund.entity"},
        {EVENT("refund.processed", "{\"refund\":{\"entity\":{\"id\":\"rfnd_1\",\"amount\":1,"
                                   "\"currency\":\"INR\",\"status\":\"processed\"}}}"),
         "payload.refund.entity.payment_id"},
        {EVENT("refund.processed",
               "{\"refund\":{\"entity\":{\"id\":\"rfnd_1\",\"payment_id\":\"pay_1\",\"amount\":"
               "1,\"currency\":\"INR\",\"status\":\"processed\"}},\"payment\":{"
               "\"entity\":" PAYMENT_ENTITY "}}"),
         "payload.payment.entity.id"},
        {EVENT("payment_link.paid",
               "{\"payment_link\":{\"entity\":" LINK_ENTITY("paid", "{}") "}}"),
         "payload.payment.entity"},
        {EVENT("payment_link.expired", "{\"payment\":{\"entity\":" PAYMENT_ENTITY "}}"),
         "payload.payment_link.entity"},
        {EVENT("payment_link.expired",
               "{\"payment_link\":{\"entity\":{\"id\":\"plink_1\",\"status\":\"expired\"}}}"),
         "payload.payment_link.entity.amount"},
        {EVENT("payment_link.expired",
               "{\"payment_link\":{\"entity\":" LINK_ENTITY("stale", "{}") "}}"),
         "payload.payment_link.entity.status"},
        {"{\"entity\":\"event\",\"event\":\"payment_link.expired\",\"payload\":{\"payment_link\":"
         "{\"entity\":" LINK_ENTITY("expired", "{}") "}},\"created_at\":\"now\"}",
         "created_at"},
    };
    struct gateway_payment_event ev;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *field = NULL;
        if (gateway_payment_event_parse(cases[i].body, strlen(cases[i].body), &ev, &field) != -1)
            fail_msg("case %zu parsed: %s", i, cases[i].body);
        if (field == NULL || strcmp(field, cases[i].field) != 0)
            fail_msg("case %zu: field %s, expected %s", i, field ? field : "(null)",
                     cases[i].field);
        assert_string_equal(ev.payment_id, "");
        assert_string_equal(ev.event, "");
    }
    /* An id longer than the struct holds is refused, not cut. */
    char big[1024], id[100];
    memset(id, 'x', 70);
    id[70] = '\0';
    snprintf(big, sizeof(big),
             EVENT("payment.captured", "{\"payment\":{\"entity\":{\"id\":\"pay_%s\",\"amount\":1,"
                                       "\"currency\":\"INR\",\"status\":\"captured\"}}}"),
             id);
    const char *field = NULL;
    assert_int_equal(gateway_payment_event_parse(big, strlen(big), &ev, &field), -1);
    assert_string_equal(field, "payload.payment.entity.id");
    snprintf(big, sizeof(big),
             EVENT("payment_link.expired", "{\"payment_link\":{\"entity\":{\"id\":\"plink_%s\","
                                           "\"amount\":1,\"currency\":\"INR\",\"status\":"
                                           "\"expired\"}}}"),
             id);
    assert_int_equal(gateway_payment_event_parse(big, strlen(big), &ev, &field), -1);
    assert_string_equal(field, "payload.payment_link.entity.id");
    /* A payout event is 1 here (and still the payout parser's). */
    field = "x";
    assert_int_equal(gateway_payment_event_parse(full_event, strlen(full_event), &ev, &field), 1);
    assert_null(field);
    assert_string_equal(ev.event, "");
    struct gateway_event pev;
    assert_int_equal(gateway_event_parse(full_event, strlen(full_event), &pev, NULL), 0);
    assert_string_equal(pev.payout_id, "pout_Q1w2E3r4T5y6U7");
    /* And a collection event is not a payout one. */
    const char *captured =
        EVENT("payment.captured", "{\"payment\":{\"entity\":" PAYMENT_ENTITY "}}");
    field = NULL;
    assert_int_equal(gateway_event_parse(captured, strlen(captured), &pev, &field), -1);
    assert_string_equal(field, "event");
}

/* ---- a scripted HTTP server, forked ---- */

struct canned {
    int status;       /* 0: close the connection without an answer */
    const char *body; /* the answer's body */
    int stall_ms;     /* wait before answering */
};

static char request_log[64];
static pid_t server_pid;
static int server_port;

/* Reads one request (headers and a Content-Length body) from fd into buf; its length, or -1
 * when the connection ended. */
static long read_request(int fd, char *buf, size_t cap)
{
    size_t n = 0;
    char *end = NULL;
    while (end == NULL) {
        ssize_t r = read(fd, buf + n, cap - 1 - n);
        if (r <= 0)
            return -1;
        n += (size_t)r;
        buf[n] = '\0';
        end = strstr(buf, "\r\n\r\n");
        if (end == NULL && n + 1 >= cap)
            return -1;
    }
    size_t head = (size_t)(end + 4 - buf), cl = 0;
    for (char *p = buf; p < end; p++)
        if ((p == buf || p[-1] == '\n') && strncasecmp(p, "Content-Length:", 15) == 0)
            cl = (size_t)strtoul(p + 15, NULL, 10);
    while (n < head + cl) {
        ssize_t r = read(fd, buf + n, cap - 1 - n);
        if (r <= 0)
            return -1;
        n += (size_t)r;
    }
    buf[n] = '\0';
    return (long)n;
}

static void serve(int lfd, const struct canned *script, int n)
{
    static char buf[1 << 16];
    FILE *log = fopen(request_log, "w");
    int fd = -1;
    for (int i = 0; i < n; i++) {
        long len = -1;
        while (len < 0) {
            if (fd < 0)
                fd = accept(lfd, NULL, NULL);
            if (fd < 0)
                _exit(1);
            len = read_request(fd, buf, sizeof(buf));
            if (len < 0) {
                close(fd);
                fd = -1;
            }
        }
        fprintf(log, "%s\n=====\n", buf);
        fflush(log);
        if (script[i].stall_ms > 0)
            usleep((useconds_t)script[i].stall_ms * 1000);
        if (script[i].status == 0) {
            close(fd);
            fd = -1;
            continue;
        }
        char head[256];
        size_t bl = strlen(script[i].body);
        int hl = snprintf(head, sizeof(head),
                          "HTTP/1.1 %d X\r\nContent-Type: application/json\r\n"
                          "Content-Length: %zu\r\n\r\n",
                          script[i].status, bl);
        if (write(fd, head, (size_t)hl) < 0 || write(fd, script[i].body, bl) < 0)
            _exit(1);
    }
    /* Keep the last connection open until the parent is done with it. */
    pause();
    _exit(0);
}

/* Starts the scripted server on a free loopback port and points GATEWAY_URL at it. */
static void server_start(const struct canned *script, int n)
{
    int lfd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(lfd >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(lfd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(listen(lfd, 8), 0);
    socklen_t al = sizeof(a);
    assert_int_equal(getsockname(lfd, (struct sockaddr *)&a, &al), 0);
    server_port = ntohs(a.sin_port);
    server_pid = fork();
    assert_true(server_pid >= 0);
    if (server_pid == 0)
        serve(lfd, script, n);
    close(lfd);
    char url[64];
    snprintf(url, sizeof(url), "http://127.0.0.1:%d", server_port);
    setenv("GATEWAY_URL", url, 1);
    char err[256];
    if (config_load(err, sizeof(err)) != 0)
        fail_msg("config: %s", err);
}

static void server_stop(void)
{
    if (server_pid > 0) {
        kill(server_pid, SIGKILL);
        waitpid(server_pid, NULL, 0);
    }
    server_pid = 0;
    gateway_cleanup(); /* the kept connection went with the server */
}

/* What the server received, NUL-terminated, caller frees. */
static char *received(void)
{
    FILE *f = fopen(request_log, "r");
    if (f == NULL)
        return calloc(1, 1);
    static char buf[1 << 17];
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    return strdup(buf);
}

/* The n-th request (0-based) of what the server received, caller frees. */
static char *request_n(int n)
{
    char *all = received(), *p = all;
    for (int i = 0; i < n && p; i++) {
        p = strstr(p, "\n=====\n");
        if (p)
            p += 7;
    }
    char *out = strdup(p ? p : "");
    char *end = strstr(out, "\n=====\n");
    if (end)
        *end = '\0';
    free(all);
    return out;
}

static const struct gateway_payout_req payout_req = {
    .idempotency_key = "LN-42:1",
    .reference = "LN-42",
    .contact_name = "Asha Rao",
    .contact_email = "asha@example.com",
    .contact_phone = "+919812345678",
    .holder_name = "Asha Rao",
    .account_number = "50100234567890",
    .ifsc = "HDFC0001234",
    .amount = 9800000,
    .currency = "INR",
    .mode = "NEFT",
    .narration = "Loanflow disbursal",
};

#define CONTACT_OK "{\"id\":\"cont_AAAAAAAAAAAAAA\",\"entity\":\"contact\"}"
#define FA_OK      "{\"id\":\"fa_BBBBBBBBBBBBBB\",\"entity\":\"fund_account\"}"
#define PAYOUT_OK                                                                                  \
    "{\"id\":\"pout_CCCCCCCCCCCCCC\",\"entity\":\"payout\",\"status\":\"queued\","                 \
    "\"fund_account_id\":\"fa_BBBBBBBBBBBBBB\",\"utr\":null}"

static void assert_contains(const char *hay, const char *needle)
{
    if (strstr(hay, needle) == NULL)
        fail_msg("\"%s\" not found in:\n%s", needle, hay);
}

static void test_payout_ok(void **state)
{
    (void)state;
    const struct canned script[] = {{201, CONTACT_OK, 0}, {201, FA_OK, 0}, {200, PAYOUT_OK, 0}};
    server_start(script, 3);
    struct gateway_payout_res res;
    assert_int_equal(gateway_payout(&payout_req, &res), GATEWAY_OK);
    assert_string_equal(res.payout_id, "pout_CCCCCCCCCCCCCC");
    assert_string_equal(res.fund_account_id, "fa_BBBBBBBBBBBBBB");
    assert_string_equal(res.status, "queued");
    assert_string_equal(res.utr, "");
    assert_int_equal(res.http_status, 200);

    /* Basic auth with GATEWAY_KEY_ID:GATEWAY_KEY_SECRET on every request. */
    char b64[128], auth[160];
    const char *cred = "rzp_test_unit:unit-key-secret";
    sodium_bin2base64(b64, sizeof(b64), (const unsigned char *)cred, strlen(cred),
                      sodium_base64_VARIANT_ORIGINAL);
    snprintf(auth, sizeof(auth), "Authorization: Basic %s\r\n", b64);
    char *r0 = request_n(0), *r1 = request_n(1), *r2 = request_n(2);
    assert_contains(r0, "POST /v1/contacts HTTP/1.1\r\n");
    assert_contains(r0, auth);
    assert_contains(r0, "Content-Type: application/json\r\n");
    assert_contains(r0, "\"name\":\"Asha Rao\"");
    assert_contains(r0, "\"email\":\"asha@example.com\"");
    assert_contains(r0, "\"contact\":\"+919812345678\"");
    assert_contains(r0, "\"type\":\"customer\"");
    assert_contains(r0, "\"reference_id\":\"LN-42\"");
    assert_null(strstr(r0, "X-Payout-Idempotency"));
    assert_contains(r1, "POST /v1/fund_accounts HTTP/1.1\r\n");
    assert_contains(r1, auth);
    assert_contains(r1, "\"contact_id\":\"cont_AAAAAAAAAAAAAA\"");
    assert_contains(r1, "\"account_type\":\"bank_account\"");
    assert_contains(r1, "\"bank_account\":{\"name\":\"Asha Rao\",\"ifsc\":\"HDFC0001234\","
                        "\"account_number\":\"50100234567890\"}");
    assert_null(strstr(r1, "X-Payout-Idempotency"));
    assert_contains(r2, "POST /v1/payouts HTTP/1.1\r\n");
    assert_contains(r2, auth);
    assert_contains(r2, "X-Payout-Idempotency: LN-42:1\r\n");
    assert_contains(r2, "\"account_number\":\"7878780080316316\"");
    assert_contains(r2, "\"fund_account_id\":\"fa_BBBBBBBBBBBBBB\"");
    assert_contains(r2, "\"amount\":9800000");
    assert_contains(r2, "\"currency\":\"INR\"");
    assert_contains(r2, "\"mode\":\"NEFT\"");
    assert_contains(r2, "\"purpose\":\"payout\"");
    assert_contains(r2, "\"queue_if_low_balance\":true");
    assert_contains(r2, "\"narration\":\"Loanflow disbursal\"");
    /* The borrower's account number goes to the fund account only. */
    assert_null(strstr(r0, "50100234567890"));
    assert_null(strstr(r2, "50100234567890"));
    free(r0);
    free(r1);
    free(r2);
    server_stop();
}

static void test_payout_refused(void **state)
{
    (void)state;
    const struct canned script[] = {
        {200, CONTACT_OK, 0},
        {400,
         "{\"error\":{\"code\":\"BAD_REQUEST_ERROR\",\"description\":\"The ifsc is invalid\","
         "\"field\":\"ifsc\"}}",
         0}};
    server_start(script, 2);
    struct gateway_payout_res res;
    assert_int_equal(gateway_payout(&payout_req, &res), GATEWAY_REFUSED);
    assert_int_equal(res.http_status, 400);
    assert_string_equal(res.error, "The ifsc is invalid");
    assert_string_equal(res.payout_id, "");
    server_stop();

    /* A 4xx without the error shape still refuses, and says the status. */
    const struct canned idem[] = {{200, CONTACT_OK, 0}, {200, FA_OK, 0}, {409, "conflict", 0}};
    server_start(idem, 3);
    assert_int_equal(gateway_payout(&payout_req, &res), GATEWAY_REFUSED);
    assert_int_equal(res.http_status, 409);
    assert_string_equal(res.error, "the gateway answered HTTP 409");
    server_stop();

    /* An incomplete request is refused before any call. */
    struct gateway_payout_req bad = payout_req;
    bad.idempotency_key = "two\r\nlines";
    assert_int_equal(gateway_payout(&bad, &res), GATEWAY_REFUSED);
    assert_int_equal(res.http_status, 0);
    bad = payout_req;
    bad.amount = 0;
    assert_int_equal(gateway_payout(&bad, &res), GATEWAY_REFUSED);
    bad = payout_req;
    bad.account_number = NULL;
    assert_int_equal(gateway_payout(&bad, &res), GATEWAY_REFUSED);
}

static void test_payout_fault(void **state)
{
    (void)state;
    struct gateway_payout_res res;
    const struct canned five[] = {
        {200, CONTACT_OK, 0},
        {200, FA_OK, 0},
        {500, "{\"error\":{\"code\":\"SERVER_ERROR\",\"description\":\"try later\"}}", 0}};
    server_start(five, 3);
    assert_int_equal(gateway_payout(&payout_req, &res), GATEWAY_FAULT);
    assert_int_equal(res.http_status, 500);
    assert_string_equal(res.error, "try later");
    server_stop();

    /* 2xx that is not the protocol: not JSON, no id, an unknown status. */
    const struct canned garbage[] = {{200, "<html>hello</html>", 0}};
    server_start(garbage, 1);
    assert_int_equal(gateway_payout(&payout_req, &res), GATEWAY_FAULT);
    assert_int_equal(res.http_status, 200);
    server_stop();
    const struct canned noid[] = {{200, "{\"entity\":\"contact\"}", 0}};
    server_start(noid, 1);
    assert_int_equal(gateway_payout(&payout_req, &res), GATEWAY_FAULT);
    server_stop();
    const struct canned status[] = {
        {200, CONTACT_OK, 0},
        {200, FA_OK, 0},
        {200, "{\"id\":\"pout_CCCCCCCCCCCCCC\",\"status\":\"wobbly\"}", 0}};
    server_start(status, 3);
    assert_int_equal(gateway_payout(&payout_req, &res), GATEWAY_FAULT);
    server_stop();
    /* A redirect is not followed. */
    const struct canned moved[] = {{302, "", 0}};
    server_start(moved, 1);
    assert_int_equal(gateway_payout(&payout_req, &res), GATEWAY_FAULT);
    assert_int_equal(res.http_status, 302);
    server_stop();
}

static void test_payout_unavailable(void **state)
{
    (void)state;
    struct gateway_payout_res res;
    char err[256];
    /* A stall past GATEWAY_TIMEOUT_MS (300 ms here). */
    const struct canned stall[] = {{200, CONTACT_OK, 0}, {200, FA_OK, 1000}};
    server_start(stall, 2);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_int_equal(gateway_payout(&payout_req, &res), GATEWAY_UNAVAILABLE);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    long ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
    assert_true(ms >= 250 && ms < 900);
    assert_int_equal(res.http_status, 0);
    assert_non_null(strstr(res.error, "did not answer"));
    server_stop();

    /* The connection closed without an answer; 429 asks to come back later. */
    const struct canned dropped[] = {{0, "", 0}};
    server_start(dropped, 1);
    assert_int_equal(gateway_payout(&payout_req, &res), GATEWAY_UNAVAILABLE);
    server_stop();
    const struct canned busy[] = {
        {429, "{\"error\":{\"code\":\"BAD_REQUEST_ERROR\",\"description\":\"Too many requests\"}}",
         0}};
    server_start(busy, 1);
    assert_int_equal(gateway_payout(&payout_req, &res), GATEWAY_UNAVAILABLE);
    assert_int_equal(res.http_status, 429);
    server_stop();

    /* Nobody listening. */
    setenv("GATEWAY_URL", "http://127.0.0.1:1", 1);
    assert_int_equal(config_load(err, sizeof(err)), 0);
    assert_int_equal(gateway_payout(&payout_req, &res), GATEWAY_UNAVAILABLE);

    /* GATEWAY_PROVIDER=none: no call at all. */
    const struct canned any[] = {{200, CONTACT_OK, 0}};
    server_start(any, 1);
    setenv("GATEWAY_PROVIDER", "none", 1);
    assert_int_equal(config_load(err, sizeof(err)), 0);
    assert_int_equal(gateway_payout(&payout_req, &res), GATEWAY_UNAVAILABLE);
    assert_int_equal(gateway_payout_get("pout_CCCCCCCCCCCCCC", &res), GATEWAY_UNAVAILABLE);
    usleep(100 * 1000);
    char *got = received();
    assert_string_equal(got, "");
    free(got);
    setenv("GATEWAY_PROVIDER", "sandbox", 1);
    assert_int_equal(config_load(err, sizeof(err)), 0);
    server_stop();
}

static void test_payout_get(void **state)
{
    (void)state;
    struct gateway_payout_res res;
    const struct canned script[] = {
        {200,
         "{\"id\":\"pout_CCCCCCCCCCCCCC\",\"entity\":\"payout\",\"status\":\"processed\","
         "\"fund_account_id\":\"fa_BBBBBBBBBBBBBB\",\"utr\":\"NEFT0123456789\"}",
         0},
        {400,
         "{\"error\":{\"code\":\"BAD_REQUEST_ERROR\",\"description\":\"The id provided does not "
         "exist\"}}",
         0}};
    server_start(script, 2);
    assert_int_equal(gateway_payout_get("pout_CCCCCCCCCCCCCC", &res), GATEWAY_OK);
    assert_string_equal(res.status, "processed");
    assert_string_equal(res.utr, "NEFT0123456789");
    assert_string_equal(res.fund_account_id, "fa_BBBBBBBBBBBBBB");
    /* Read back into its own result: the id is res's own field (the server's second answer
     * says it does not exist). */
    assert_int_equal(gateway_payout_get(res.payout_id, &res), GATEWAY_REFUSED);
    assert_string_equal(res.error, "The id provided does not exist");
    char *r1 = request_n(1);
    assert_contains(r1, "GET /v1/payouts/pout_CCCCCCCCCCCCCC HTTP/1.1\r\n");
    free(r1);
    assert_string_equal(res.error, "The id provided does not exist");
    char *r0 = request_n(0);
    assert_contains(r0, "GET /v1/payouts/pout_CCCCCCCCCCCCCC HTTP/1.1\r\n");
    free(r0);
    /* An id that is not one never reaches the URL. */
    assert_int_equal(gateway_payout_get("../contacts", &res), GATEWAY_REFUSED);
    assert_int_equal(gateway_payout_get("", &res), GATEWAY_REFUSED);
    assert_int_equal(gateway_payout_get(NULL, &res), GATEWAY_REFUSED);
    server_stop();
}

/* ---- collection: gateway_payment_link against the scripted server ---- */

static const struct gateway_link_req link_req = {
    .reference = "LN-ABCD1234:3",
    .amount = 1250000,
    .currency = "INR",
    .description = "Loanflow EMI 3 of LN-ABCD1234",
    .customer_name = "Asha Rao",
    .customer_email = "asha@example.com",
    .customer_phone = "+919812345678",
    .expire_by = 1900000000,
    .loan_id = "LN-ABCD1234",
    .purpose = "repayment",
};

#define LINK_OK                                                                                    \
    "{\"id\":\"plink_DDDDDDDDDDDDDD\",\"amount\":1250000,\"amount_paid\":0,\"currency\":\"INR\","  \
    "\"status\":\"created\",\"short_url\":\"http://127.0.0.1:9/pay/plink_DDDDDDDDDDDDDD\","        \
    "\"expire_by\":1900000000,\"reference_id\":\"LN-ABCD1234:3\"}"

static void test_payment_link_ok(void **state)
{
    (void)state;
    const struct canned script[] = {{200, LINK_OK, 0}};
    server_start(script, 1);
    struct gateway_link_res res;
    assert_int_equal(gateway_payment_link(&link_req, &res), GATEWAY_OK);
    assert_string_equal(res.id, "plink_DDDDDDDDDDDDDD");
    assert_string_equal(res.short_url, "http://127.0.0.1:9/pay/plink_DDDDDDDDDDDDDD");
    assert_string_equal(res.status, "created");
    assert_true(res.expire_by == 1900000000);
    assert_int_equal(res.http_status, 200);
    assert_string_equal(res.error, "");
    char b64[128], auth[160];
    const char *cred = "rzp_test_unit:unit-key-secret";
    sodium_bin2base64(b64, sizeof(b64), (const unsigned char *)cred, strlen(cred),
                      sodium_base64_VARIANT_ORIGINAL);
    snprintf(auth, sizeof(auth), "Authorization: Basic %s\r\n", b64);
    char *r0 = request_n(0);
    assert_contains(r0, "POST /v1/payment_links HTTP/1.1\r\n");
    assert_contains(r0, auth);
    assert_contains(r0, "Content-Type: application/json\r\n");
    assert_contains(r0, "\"amount\":1250000");
    assert_contains(r0, "\"currency\":\"INR\"");
    assert_contains(r0, "\"accept_partial\":false");
    assert_contains(r0, "\"description\":\"Loanflow EMI 3 of LN-ABCD1234\"");
    assert_contains(r0, "\"reference_id\":\"LN-ABCD1234:3\"");
    assert_contains(r0, "\"expire_by\":1900000000");
    assert_contains(r0, "\"customer\":{\"name\":\"Asha Rao\",\"email\":\"asha@example.com\","
                        "\"contact\":\"+919812345678\"}");
    assert_contains(r0, "\"notify\":{\"sms\":false,\"email\":false}");
    assert_contains(r0, "\"notes\":{\"loan_id\":\"LN-ABCD1234\",\"purpose\":\"repayment\","
                        "\"reference\":\"LN-ABCD1234:3\"}");
    assert_null(strstr(r0, "X-Payout-Idempotency"));
    free(r0);
    server_stop();

    /* No expire_by, no email or phone: left out. */
    server_start(script, 1);
    struct gateway_link_req bare = link_req;
    bare.expire_by = 0;
    bare.customer_email = NULL;
    bare.customer_phone = NULL;
    assert_int_equal(gateway_payment_link(&bare, &res), GATEWAY_OK);
    r0 = request_n(0);
    assert_null(strstr(r0, "expire_by"));
    assert_contains(r0, "\"customer\":{\"name\":\"Asha Rao\"}");
    free(r0);
    server_stop();
}

static void test_payment_link_refused(void **state)
{
    (void)state;
    const struct canned script[] = {
        {400,
         "{\"error\":{\"code\":\"BAD_REQUEST_ERROR\",\"description\":\"reference_id already "
         "exists\",\"field\":\"reference_id\"}}",
         0}};
    server_start(script, 1);
    struct gateway_link_res res;
    assert_int_equal(gateway_payment_link(&link_req, &res), GATEWAY_REFUSED);
    assert_int_equal(res.http_status, 400);
    assert_string_equal(res.error, "reference_id already exists");
    assert_string_equal(res.id, "");
    server_stop();
    /* Incomplete: refused before any call. */
    struct gateway_link_req bad = link_req;
    bad.amount = 0;
    assert_int_equal(gateway_payment_link(&bad, &res), GATEWAY_REFUSED);
    assert_int_equal(res.http_status, 0);
    bad = link_req;
    bad.reference = "two\r\nlines";
    assert_int_equal(gateway_payment_link(&bad, &res), GATEWAY_REFUSED);
    bad = link_req;
    bad.currency = "RUPEE";
    assert_int_equal(gateway_payment_link(&bad, &res), GATEWAY_REFUSED);
}

static void test_payment_link_fault(void **state)
{
    (void)state;
    struct gateway_link_res res;
    const struct canned five[] = {
        {502, "{\"error\":{\"code\":\"SERVER_ERROR\",\"description\":\"upstream down\"}}", 0}};
    server_start(five, 1);
    assert_int_equal(gateway_payment_link(&link_req, &res), GATEWAY_FAULT);
    assert_int_equal(res.http_status, 502);
    assert_string_equal(res.error, "upstream down");
    server_stop();
    const struct canned garbage[] = {{200, "<html>hello</html>", 0}};
    server_start(garbage, 1);
    assert_int_equal(gateway_payment_link(&link_req, &res), GATEWAY_FAULT);
    assert_int_equal(res.http_status, 200);
    server_stop();
    /* JSON, but not a link: no short_url, an unknown status, a URL that is not one. */
    const struct canned nourl[] = {{200, "{\"id\":\"plink_1\",\"status\":\"created\"}", 0}};
    server_start(nourl, 1);
    assert_int_equal(gateway_payment_link(&link_req, &res), GATEWAY_FAULT);
    assert_string_equal(res.id, "");
    server_stop();
    const struct canned status[] = {
        {200, "{\"id\":\"plink_1\",\"status\":\"wobbly\",\"short_url\":\"https://x/y\"}", 0}};
    server_start(status, 1);
    assert_int_equal(gateway_payment_link(&link_req, &res), GATEWAY_FAULT);
    server_stop();
    const struct canned js[] = {
        {200, "{\"id\":\"plink_1\",\"status\":\"created\",\"short_url\":\"javascript:alert(1)\"}",
         0}};
    server_start(js, 1);
    assert_int_equal(gateway_payment_link(&link_req, &res), GATEWAY_FAULT);
    server_stop();
}

static void test_payment_link_unavailable(void **state)
{
    (void)state;
    struct gateway_link_res res;
    char err[256];
    const struct canned stall[] = {{200, LINK_OK, 1000}};
    server_start(stall, 1);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_int_equal(gateway_payment_link(&link_req, &res), GATEWAY_UNAVAILABLE);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    long ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
    assert_true(ms >= 250 && ms < 900);
    assert_int_equal(res.http_status, 0);
    assert_non_null(strstr(res.error, "did not answer"));
    server_stop();
    const struct canned busy[] = {{408, "", 0}};
    server_start(busy, 1);
    assert_int_equal(gateway_payment_link(&link_req, &res), GATEWAY_UNAVAILABLE);
    assert_int_equal(res.http_status, 408);
    server_stop();
    /* GATEWAY_PROVIDER=none: no call at all. */
    const struct canned any[] = {{200, LINK_OK, 0}};
    server_start(any, 1);
    setenv("GATEWAY_PROVIDER", "none", 1);
    assert_int_equal(config_load(err, sizeof(err)), 0);
    assert_int_equal(gateway_payment_link(&link_req, &res), GATEWAY_UNAVAILABLE);
    assert_non_null(strstr(res.error, "GATEWAY_PROVIDER=none"));
    usleep(100 * 1000);
    char *got = received();
    assert_string_equal(got, "");
    free(got);
    setenv("GATEWAY_PROVIDER", "sandbox", 1);
    assert_int_equal(config_load(err, sizeof(err)), 0);
    server_stop();
}

static int teardown(void **state)
{
    (void)state;
    server_stop();
    return 0;
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    signal(SIGPIPE, SIG_IGN);
    log_open("", 0, LOG_ERROR); /* the client's log lines are not the test's output */
    snprintf(request_log, sizeof(request_log), "/tmp/test_gateway.%d.log", (int)getpid());
    setenv("JWT_SECRET", "0123456789abcdef0123456789abcdef", 1);
    setenv("APP_ENV", "test", 1);
    setenv("GATEWAY_PROVIDER", "sandbox", 1);
    setenv("GATEWAY_URL", "http://127.0.0.1:1", 1);
    setenv("GATEWAY_KEY_ID", "rzp_test_unit", 1);
    setenv("GATEWAY_KEY_SECRET", "unit-key-secret", 1);
    setenv("GATEWAY_WEBHOOK_SECRET", vector_secret, 1);
    setenv("GATEWAY_TIMEOUT_MS", "300", 1);
    unsetenv("GATEWAY_ACCOUNT");
    char err[256];
    if (config_load(err, sizeof(err)) != 0) {
        fprintf(stderr, "config: %s\n", err);
        return 1;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_signature_vector),
        cmocka_unit_test(test_signature_rfc4231),
        cmocka_unit_test(test_signature_rejects),
        cmocka_unit_test(test_event_parse_good),
        cmocka_unit_test(test_event_parse_bad),
        cmocka_unit_test(test_status_rank),
        cmocka_unit_test(test_payment_event_parse_good),
        cmocka_unit_test(test_payment_event_parse_bad),
        cmocka_unit_test_teardown(test_payout_ok, teardown),
        cmocka_unit_test_teardown(test_payout_refused, teardown),
        cmocka_unit_test_teardown(test_payout_fault, teardown),
        cmocka_unit_test_teardown(test_payout_unavailable, teardown),
        cmocka_unit_test_teardown(test_payout_get, teardown),
        cmocka_unit_test_teardown(test_payment_link_ok, teardown),
        cmocka_unit_test_teardown(test_payment_link_refused, teardown),
        cmocka_unit_test_teardown(test_payment_link_fault, teardown),
        cmocka_unit_test_teardown(test_payment_link_unavailable, teardown),
    };
    int rc = cmocka_run_group_tests_name("gateway", tests, NULL, NULL);
    server_stop();
    unlink(request_log);
    gateway_cleanup();
    return rc;
}
