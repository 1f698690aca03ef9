/*
 * The payment gateway client: RazorpayX's payout API and Razorpay's payment links over HTTP with
 * libcurl, the webhook signature, and the parsers of the payout and collection webhooks.
 *
 * One easy handle per process, created on first use and reset before every request, so its
 * connection cache keeps the connection to the gateway alive between calls (a worker serves one
 * request at a time, so one handle is enough). Every request is bounded by GATEWAY_TIMEOUT_MS
 * (connecting included), runs without signals (CURLOPT_NOSIGNAL: a worker's alarm is not
 * libcurl's), follows no redirect, speaks only http and https, and accepts an answer of at most
 * GATEWAY_MAX_ANSWER bytes. Bodies are built and read with json-c; the answers are parsed with the
 * strict js_parse.
 *
 * Outcomes: no answer (connection refused, timeout, reset) is GATEWAY_UNAVAILABLE, and so are
 * 408 and 429, which ask the client to come back later; another 4xx is GATEWAY_REFUSED with the
 * gateway's error.description; a 5xx, an unexpected status or an answer that is not the
 * protocol is GATEWAY_FAULT. UNAVAILABLE or FAULT after the payout request was sent does not say
 * whether the payout exists: the caller asks again with the same idempotency key (the gateway
 * answers the same payout) or reads it with gateway_payout_get.
 *
 * A payment link is one POST (no idempotency header: its reference_id is the key, refused when
 * seen before), notify off (the borrower hears from our notifier), the loan id, purpose and
 * reference in its notes, which come back in the payment's. The collection parser is strict as
 * the payout one is: an id, a reference or a note that does not fit its buffer is refused, never
 * cut; an expired or cancelled link's event carries the link's amount, a paid one the payment's.
 *
 * The borrower's account number travels only in the fund account request: the serialised body,
 * the JSON string holding it and every answer buffer are wiped before they are freed. The log
 * gets the step, the HTTP status and the payout id and status, never a body, a number or a key.
 */
#include "gateway.h"

#include <curl/curl.h>
#include <json-c/json.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "js.h"
#include "log.h"

#define GATEWAY_MAX_ANSWER (256 * 1024)

static CURL *curl_handle; /* created on first use; gateway_cleanup frees it */
static int curl_global_done;

/* An answer being received: a buffer that is wiped whenever it is given back. */
struct answer {
    char *p;
    size_t n, cap;
    int overflow;
};

static void answer_free(struct answer *a)
{
    if (a->p != NULL) {
        sodium_memzero(a->p, a->cap);
        free(a->p);
    }
    memset(a, 0, sizeof(*a));
}

static size_t on_data(char *data, size_t size, size_t nmemb, void *ud)
{
    struct answer *a = ud;
    size_t n = size * nmemb;
    if (n > GATEWAY_MAX_ANSWER || a->n + n + 1 > GATEWAY_MAX_ANSWER) {
        a->overflow = 1;
        return 0; /* libcurl stops with CURLE_WRITE_ERROR */
    }
    if (a->n + n + 1 > a->cap) {
        size_t cap = a->cap ? a->cap : 4096;
        while (cap < a->n + n + 1)
            cap *= 2;
        /* Not realloc: the old buffer is wiped before it goes back to the allocator. */
        char *p = malloc(cap);
        if (p == NULL)
            return 0;
        if (a->p != NULL) {
            memcpy(p, a->p, a->n);
            sodium_memzero(a->p, a->cap);
            free(a->p);
        }
        a->p = p;
        a->cap = cap;
    }
    memcpy(a->p + a->n, data, n);
    a->n += n;
    a->p[a->n] = '\0';
    return n;
}

/* The process's handle, reset to its defaults (the connection cache survives); NULL when
 * libcurl cannot be initialised. */
static CURL *handle(void)
{
    if (!curl_global_done) {
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0)
            return NULL;
        curl_global_done = 1;
    }
    if (curl_handle == NULL)
        curl_handle = curl_easy_init();
    else
        curl_easy_reset(curl_handle);
    return curl_handle;
}

void gateway_cleanup(void)
{
    if (curl_handle != NULL)
        curl_easy_cleanup(curl_handle);
    curl_handle = NULL;
    if (curl_global_done)
        curl_global_cleanup();
    curl_global_done = 0;
}

static const char *code_name(enum gateway_code c)
{
    switch (c) {
    case GATEWAY_OK:
        return "ok";
    case GATEWAY_UNAVAILABLE:
        return "unavailable";
    case GATEWAY_REFUSED:
        return "refused";
    case GATEWAY_FAULT:
        return "fault";
    }
    return "?";
}

/* Copies the gateway's text into a fixed buffer, control characters replaced. */
static void copy_text(char *dst, size_t cap, const char *src)
{
    size_t i = 0;
    for (; src != NULL && src[i] && i + 1 < cap; i++)
        dst[i] = ((unsigned char)src[i] < 0x20 || src[i] == 0x7f) ? ' ' : src[i];
    dst[i] = '\0';
}

static enum gateway_code fail(struct gateway_payout_res *res, enum gateway_code code,
                              const char *fmt, const char *arg)
{
    snprintf(res->error, sizeof(res->error), fmt, arg);
    return code;
}

/* The string member key of obj, or NULL when absent or not a string (borrowed). */
static const char *str_of(json_object *obj, const char *key)
{
    json_object *v;
    if (obj == NULL || !json_object_object_get_ex(obj, key, &v) ||
        !json_object_is_type(v, json_type_string))
        return NULL;
    return json_object_get_string(v);
}

/*
 * One request to the gateway: POST with body (serialised here) or GET when body is NULL;
 * idempotency_key adds the X-Payout-Idempotency header. On GATEWAY_OK *out is the answer's
 * JSON object (caller puts it); otherwise res->error says why. res->http_status is the status
 * answered (0: none). step names the call in the log.
 */
static enum gateway_code call(const char *step, const char *path, json_object *body,
                              const char *idempotency_key, json_object **out,
                              struct gateway_payout_res *res)
{
    const struct config *cfg = config_get();
    *out = NULL;
    res->http_status = 0;
    char url[512];
    size_t base = strlen(cfg->gateway_url);
    while (base > 0 && cfg->gateway_url[base - 1] == '/')
        base--;
    if (snprintf(url, sizeof(url), "%.*s%s", (int)base, cfg->gateway_url, path) >= (int)sizeof(url))
        return fail(res, GATEWAY_FAULT, "%s", "the gateway URL is too long");
    CURL *h = handle();
    if (h == NULL)
        return fail(res, GATEWAY_UNAVAILABLE, "%s", "libcurl could not be initialised");

    struct answer ans = {0};
    struct curl_slist *headers = NULL, *more;
    char idem[200];
    const char *text = NULL;
    size_t text_len = 0;
    enum gateway_code code = GATEWAY_FAULT;
    headers = curl_slist_append(NULL, "Accept: application/json");
    /* No "Expect: 100-continue" round trip before a body. */
    more = headers ? curl_slist_append(headers, "Expect:") : NULL;
    headers = more ? more : headers;
    if (body != NULL && more != NULL) {
        more = curl_slist_append(headers, "Content-Type: application/json");
        headers = more ? more : headers;
    }
    if (idempotency_key != NULL && more != NULL) {
        snprintf(idem, sizeof(idem), "X-Payout-Idempotency: %s", idempotency_key);
        more = curl_slist_append(headers, idem);
        headers = more ? more : headers;
    }
    if (more == NULL) {
        code = fail(res, GATEWAY_UNAVAILABLE, "%s", "out of memory");
        goto out;
    }
    long timeout = cfg->gateway_timeout_ms;
    curl_easy_setopt(h, CURLOPT_URL, url);
#if LIBCURL_VERSION_NUM >= 0x075500
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
#else
    curl_easy_setopt(h, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, timeout);
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(h, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
    curl_easy_setopt(h, CURLOPT_USERNAME, cfg->gateway_key_id);
    curl_easy_setopt(h, CURLOPT_PASSWORD, cfg->gateway_key_secret);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "loanflow/" LOANFLOW_VERSION);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &ans);
    if (body != NULL) {
        text = json_object_to_json_string_ext(body, JSON_C_TO_STRING_PLAIN |
                                                        JSON_C_TO_STRING_NOSLASHESCAPE);
        text_len = strlen(text);
        curl_easy_setopt(h, CURLOPT_POST, 1L);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)text_len);
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, text);
    } else {
        curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
    }
    CURLcode rc = curl_easy_perform(h);
    if (rc != CURLE_OK) {
        if (rc == CURLE_WRITE_ERROR && ans.overflow)
            code = fail(res, GATEWAY_FAULT, "%s", "the gateway's answer is too large");
        else
            code = fail(res, GATEWAY_UNAVAILABLE, "the gateway did not answer: %s",
                        curl_easy_strerror(rc));
        log_msg(LOG_WARN, "gateway %s: %s (%s)", step, code_name(code), curl_easy_strerror(rc));
        goto out;
    }
    long status = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    res->http_status = (int)status;
    json_object *doc = NULL;
    const char *why = NULL;
    if (ans.n == 0 || js_parse(ans.p, ans.n, &doc, &why) != 0 ||
        !json_object_is_type(doc, json_type_object)) {
        json_object_put(doc);
        doc = NULL;
    }
    if (status >= 200 && status < 300) {
        if (doc == NULL) {
            code = fail(res, GATEWAY_FAULT, "%s", "the gateway's answer is not a JSON object");
        } else {
            *out = doc;
            doc = NULL;
            code = GATEWAY_OK;
        }
    } else {
        json_object *err = NULL;
        if (doc != NULL)
            json_object_object_get_ex(doc, "error", &err);
        const char *desc = str_of(err, "description");
        if (status == 408 || status == 429)
            code = GATEWAY_UNAVAILABLE;
        else if (status >= 400 && status < 500)
            code = GATEWAY_REFUSED;
        else
            code = GATEWAY_FAULT;
        if (desc != NULL && desc[0])
            copy_text(res->error, sizeof(res->error), desc);
        else
            snprintf(res->error, sizeof(res->error), "the gateway answered HTTP %ld", status);
        log_msg(LOG_WARN, "gateway %s: %s (HTTP %ld)", step, code_name(code), status);
    }
    json_object_put(doc);
out:
    if (text != NULL)
        sodium_memzero((char *)text, text_len); /* json-c's own buffer, freed with body */
    curl_slist_free_all(headers);
    answer_free(&ans);
    return code;
}

/* A printable ASCII value without spaces at the ends, at most max bytes (a header value or a
 * path segment). */
static int plain_value(const char *s, size_t max)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > max || s[0] == ' ' || s[n - 1] == ' ')
        return 0;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] >= 0x7f)
            return 0;
    return 1;
}

static void add_str(json_object *o, const char *key, const char *v)
{
    if (v != NULL && v[0])
        json_object_object_add(o, key, json_object_new_string(v));
}

/* The id member of a 2xx answer, copied into dst[cap]; 0, or -1 when absent or too long. */
static int take_id(json_object *doc, char *dst, size_t cap)
{
    const char *id = str_of(doc, "id");
    if (id == NULL || !plain_value(id, cap - 1))
        return -1;
    snprintf(dst, cap, "%s", id);
    return 0;
}

/* Fills res from a payout entity; 0, or -1 when it is not one. */
static int take_payout(json_object *doc, struct gateway_payout_res *res)
{
    const char *status = str_of(doc, "status");
    const char *fa = str_of(doc, "fund_account_id");
    const char *utr = str_of(doc, "utr");
    if (take_id(doc, res->payout_id, sizeof(res->payout_id)) != 0 || status == NULL ||
        gateway_status_rank(status) == 0)
        return -1;
    snprintf(res->status, sizeof(res->status), "%s", status);
    if (fa != NULL && plain_value(fa, sizeof(res->fund_account_id) - 1))
        snprintf(res->fund_account_id, sizeof(res->fund_account_id), "%s", fa);
    copy_text(res->utr, sizeof(res->utr), utr);
    return 0;
}

enum gateway_code gateway_payout(const struct gateway_payout_req *req,
                                 struct gateway_payout_res *res)
{
    const struct config *cfg = config_get();
    memset(res, 0, sizeof(*res));
    if (strcmp(cfg->gateway_provider, "sandbox") != 0)
        return fail(res, GATEWAY_UNAVAILABLE, "%s",
                    "the payment gateway is disabled (GATEWAY_PROVIDER=none)");
    if (!plain_value(req->idempotency_key, 128) || req->reference == NULL ||
        req->contact_name == NULL || req->holder_name == NULL || req->account_number == NULL ||
        req->ifsc == NULL || req->currency == NULL || req->mode == NULL || req->amount <= 0)
        return fail(res, GATEWAY_REFUSED, "%s",
                    "the payout request is incomplete (idempotency key, reference, names, "
                    "account, IFSC, amount, currency and mode are required)");

    json_object *ans = NULL;
    char contact_id[64];
    enum gateway_code code;

    json_object *contact = json_object_new_object();
    add_str(contact, "name", req->contact_name);
    add_str(contact, "email", req->contact_email);
    add_str(contact, "contact", req->contact_phone);
    json_object_object_add(contact, "type", json_object_new_string("customer"));
    add_str(contact, "reference_id", req->reference);
    code = call("contact", "/v1/contacts", contact, NULL, &ans, res);
    json_object_put(contact);
    if (code != GATEWAY_OK)
        return code;
    int bad = take_id(ans, contact_id, sizeof(contact_id));
    json_object_put(ans);
    if (bad)
        return fail(res, GATEWAY_FAULT, "%s", "the gateway's contact has no id");

    json_object *fa = json_object_new_object();
    json_object_object_add(fa, "contact_id", json_object_new_string(contact_id));
    json_object_object_add(fa, "account_type", json_object_new_string("bank_account"));
    json_object *bank = json_object_new_object();
    json_object *number = json_object_new_string(req->account_number);
    add_str(bank, "name", req->holder_name);
    add_str(bank, "ifsc", req->ifsc);
    json_object_object_add(bank, "account_number", number);
    json_object_object_add(fa, "bank_account", bank);
    code = call("fund_account", "/v1/fund_accounts", fa, NULL, &ans, res);
    /* The number's copy inside json-c: wiped through its own storage before it is freed. */
    sodium_memzero((char *)json_object_get_string(number),
                   (size_t)json_object_get_string_len(number));
    json_object_put(fa);
    if (code != GATEWAY_OK)
        return code;
    bad = take_id(ans, res->fund_account_id, sizeof(res->fund_account_id));
    json_object_put(ans);
    if (bad)
        return fail(res, GATEWAY_FAULT, "%s", "the gateway's fund account has no id");

    json_object *p = json_object_new_object();
    json_object_object_add(p, "account_number", json_object_new_string(cfg->gateway_account));
    json_object_object_add(p, "fund_account_id", json_object_new_string(res->fund_account_id));
    json_object_object_add(p, "amount", json_object_new_int64(req->amount));
    json_object_object_add(p, "currency", json_object_new_string(req->currency));
    json_object_object_add(p, "mode", json_object_new_string(req->mode));
    json_object_object_add(p, "purpose", json_object_new_string("payout"));
    json_object_object_add(p, "queue_if_low_balance", json_object_new_boolean(1));
    add_str(p, "reference_id", req->reference);
    add_str(p, "narration", req->narration);
    char fund_account_id[64];
    memcpy(fund_account_id, res->fund_account_id, sizeof(fund_account_id));
    code = call("payout", "/v1/payouts", p, req->idempotency_key, &ans, res);
    json_object_put(p);
    if (code != GATEWAY_OK)
        return code;
    bad = take_payout(ans, res);
    json_object_put(ans);
    if (bad)
        return fail(res, GATEWAY_FAULT, "%s", "the gateway's answer is not a payout");
    if (!res->fund_account_id[0])
        memcpy(res->fund_account_id, fund_account_id, sizeof(fund_account_id));
    log_msg(LOG_INFO, "gateway payout %s: %s (HTTP %d)", res->payout_id, res->status,
            res->http_status);
    return GATEWAY_OK;
}

enum gateway_code gateway_payout_get(const char *payout_id, struct gateway_payout_res *res)
{
    /* The id may be res->payout_id itself (read a payout back into its own result). */
    char id[sizeof(res->payout_id)];
    snprintf(id, sizeof(id), "%s", payout_id ? payout_id : "");
    if (payout_id != NULL && strlen(payout_id) >= sizeof(id))
        id[0] = '\0';
    payout_id = id;
    memset(res, 0, sizeof(*res));
    if (strcmp(config_get()->gateway_provider, "sandbox") != 0)
        return fail(res, GATEWAY_UNAVAILABLE, "%s",
                    "the payment gateway is disabled (GATEWAY_PROVIDER=none)");
    /* The id goes into the path: letters, digits and '_' only. */
    size_t n = strlen(payout_id);
    int ok = n > 0;
    for (size_t i = 0; ok && i < n; i++)
        ok = (payout_id[i] >= 'a' && payout_id[i] <= 'z') ||
             (payout_id[i] >= 'A' && payout_id[i] <= 'Z') ||
             (payout_id[i] >= '0' && payout_id[i] <= '9') || payout_id[i] == '_';
    if (!ok)
        return fail(res, GATEWAY_REFUSED, "%s", "not a payout id");
    char path[96];
    snprintf(path, sizeof(path), "/v1/payouts/%s", payout_id);
    json_object *ans = NULL;
    enum gateway_code code = call("payout_get", path, NULL, NULL, &ans, res);
    if (code != GATEWAY_OK)
        return code;
    int bad = take_payout(ans, res);
    json_object_put(ans);
    if (bad)
        return fail(res, GATEWAY_FAULT, "%s", "the gateway's answer is not a payout");
    return GATEWAY_OK;
}

void gateway_sign(const char *secret, const void *body, size_t len, char out[65])
{
    crypto_auth_hmacsha256_state st;
    unsigned char mac[crypto_auth_hmacsha256_BYTES];
    const char *key = secret ? secret : "";
    /* The _init API takes a key of any length (HMAC hashes a long one), as the webhook
     * secret is. */
    crypto_auth_hmacsha256_init(&st, (const unsigned char *)key, strlen(key));
    if (len > 0)
        crypto_auth_hmacsha256_update(&st, body, len);
    crypto_auth_hmacsha256_final(&st, mac);
    sodium_bin2hex(out, 65, mac, sizeof(mac));
    sodium_memzero(&st, sizeof(st));
    sodium_memzero(mac, sizeof(mac));
}

int gateway_signature_ok_with(const char *secret, const void *body, size_t len, const char *sig_hex)
{
    if (secret == NULL || secret[0] == '\0' || sig_hex == NULL || (body == NULL && len > 0))
        return 0;
    if (strnlen(sig_hex, 65) != 64)
        return 0;
    unsigned char given[crypto_auth_hmacsha256_BYTES];
    size_t got = 0;
    const char *end = NULL;
    /* Upper- or lower-case hex, nothing else: hex2bin stops at the first other character. */
    if (sodium_hex2bin(given, sizeof(given), sig_hex, 64, NULL, &got, &end) != 0 ||
        got != sizeof(given) || end != sig_hex + 64)
        return 0;
    char hex[65];
    unsigned char want[crypto_auth_hmacsha256_BYTES];
    gateway_sign(secret, body, len, hex);
    size_t wl = 0;
    if (sodium_hex2bin(want, sizeof(want), hex, 64, NULL, &wl, NULL) != 0 || wl != sizeof(want))
        return 0;
    int ok = sodium_memcmp(given, want, sizeof(want)) == 0;
    sodium_memzero(want, sizeof(want));
    sodium_memzero(hex, sizeof(hex));
    return ok;
}

int gateway_signature_ok(const void *body, size_t len, const char *sig_hex)
{
    return gateway_signature_ok_with(config_get()->gateway_webhook_secret, body, len, sig_hex);
}

/* Copies the string member key of obj into dst[cap]. 1 copied, 0 absent or null, -1 another
 * type, or (strict) longer than cap - 1 or holding a control character; not strict, a long
 * value is cut and control characters become spaces. */
static int copy_member(json_object *obj, const char *key, char *dst, size_t cap, int strict)
{
    json_object *v;
    dst[0] = '\0';
    if (!json_object_object_get_ex(obj, key, &v) || v == NULL)
        return 0;
    if (!json_object_is_type(v, json_type_string))
        return -1;
    const char *s = json_object_get_string(v);
    size_t n = (size_t)json_object_get_string_len(v);
    if (strict && n >= cap)
        return -1;
    for (size_t i = 0; strict && i < n; i++)
        if ((unsigned char)s[i] < 0x20)
            return -1;
    copy_text(dst, cap, s);
    return 1;
}

/* A webhook parser's end: the document released; a failure leaves the event zeroed and *f
 * naming the field at fault. Returns rc. */
static int parse_done(json_object *doc, int rc, const char **f, void *ev, size_t size)
{
    json_object_put(doc);
    if (rc != 0) {
        const char *keep = *f;
        memset(ev, 0, size);
        *f = keep;
    }
    return rc;
}

/* The event's created_at (unix seconds) into *out when present; -1 when it is not a
 * non-negative integer. */
static int event_created_at(json_object *doc, long long *out)
{
    json_object *v;
    if (!json_object_object_get_ex(doc, "created_at", &v) || v == NULL)
        return 0;
    if (!json_object_is_type(v, json_type_int) || json_object_get_int64(v) < 0)
        return -1;
    *out = (long long)json_object_get_int64(v);
    return 0;
}

int gateway_event_parse(const char *body, size_t len, struct gateway_event *ev, const char **field)
{
    static const char *dummy;
    const char **f = field ? field : &dummy;
    memset(ev, 0, sizeof(*ev));
    *f = "body";
    json_object *doc = NULL, *payload, *payout, *entity, *v;
    const char *why;
    int rc = -1;
    if (body == NULL || js_parse(body, len, &doc, &why) != 0 ||
        !json_object_is_type(doc, json_type_object))
        goto out;
    *f = "entity";
    const char *kind = str_of(doc, "entity");
    if (kind == NULL || strcmp(kind, "event") != 0)
        goto out;
    *f = "event";
    if (copy_member(doc, "event", ev->event, sizeof(ev->event), 1) != 1 ||
        strncmp(ev->event, "payout.", 7) != 0 || ev->event[7] == '\0')
        goto out;
    *f = "payload.payout.entity";
    if (!json_object_object_get_ex(doc, "payload", &payload) ||
        !json_object_is_type(payload, json_type_object) ||
        !json_object_object_get_ex(payload, "payout", &payout) ||
        !json_object_is_type(payout, json_type_object) ||
        !json_object_object_get_ex(payout, "entity", &entity) ||
        !json_object_is_type(entity, json_type_object))
        goto out;
    *f = "payload.payout.entity.id";
    if (copy_member(entity, "id", ev->payout_id, sizeof(ev->payout_id), 1) != 1 ||
        ev->payout_id[0] == '\0')
        goto out;
    *f = "payload.payout.entity.status";
    if (copy_member(entity, "status", ev->status, sizeof(ev->status), 1) != 1 ||
        gateway_status_rank(ev->status) == 0)
        goto out;
    *f = "payload.payout.entity.amount";
    if (!json_object_object_get_ex(entity, "amount", &v) ||
        !json_object_is_type(v, json_type_int) || json_object_get_int64(v) < 0)
        goto out;
    ev->amount = json_object_get_int64(v);
    *f = "payload.payout.entity.reference_id";
    if (copy_member(entity, "reference_id", ev->reference, sizeof(ev->reference), 1) < 0)
        goto out;
    *f = "payload.payout.entity.utr";
    if (copy_member(entity, "utr", ev->utr, sizeof(ev->utr), 1) < 0)
        goto out;
    /* The reason: status_details.description, else failure_reason (a long one is cut). */
    json_object *details;
    *f = "payload.payout.entity.status_details";
    if (json_object_object_get_ex(entity, "status_details", &details) && details != NULL) {
        if (!json_object_is_type(details, json_type_object) ||
            copy_member(details, "description", ev->reason, sizeof(ev->reason), 0) < 0)
            goto out;
    }
    *f = "payload.payout.entity.failure_reason";
    if (ev->reason[0] == '\0' &&
        copy_member(entity, "failure_reason", ev->reason, sizeof(ev->reason), 0) < 0)
        goto out;
    *f = "created_at";
    if (event_created_at(doc, &ev->created_at) != 0)
        goto out;
    *f = NULL;
    rc = 0;
out:
    return parse_done(doc, rc, f, ev, sizeof(*ev));
}

int gateway_status_rank(const char *status)
{
    static const struct {
        const char *name;
        int rank;
    } ranks[] = {
        {"queued", 1},   {"pending", 2}, {"processing", 3}, {"processed", 4},
        {"reversed", 5}, {"failed", 5},  {"cancelled", 5},
    };
    if (status == NULL)
        return 0;
    for (size_t i = 0; i < sizeof(ranks) / sizeof(ranks[0]); i++)
        if (!strcmp(ranks[i].name, status))
            return ranks[i].rank;
    return 0;
}

/* ---- collection: payment links and their webhooks ---- */

static enum gateway_code link_fail(struct gateway_link_res *res, enum gateway_code code,
                                   const char *msg)
{
    snprintf(res->error, sizeof(res->error), "%s", msg);
    return code;
}

/* A URL of printable ASCII, http or https, that fits dst[cap]; 0 copied, -1 not. */
static int take_url(json_object *doc, const char *key, char *dst, size_t cap)
{
    const char *u = str_of(doc, key);
    if (u == NULL || !plain_value(u, cap - 1) || strchr(u, ' ') != NULL ||
        (strncmp(u, "https://", 8) != 0 && strncmp(u, "http://", 7) != 0))
        return -1;
    snprintf(dst, cap, "%s", u);
    return 0;
}

static int link_status_ok(const char *s)
{
    return s != NULL && (!strcmp(s, "created") || !strcmp(s, "partially_paid") ||
                         !strcmp(s, "paid") || !strcmp(s, "expired") || !strcmp(s, "cancelled"));
}

enum gateway_code gateway_payment_link(const struct gateway_link_req *req,
                                       struct gateway_link_res *res)
{
    memset(res, 0, sizeof(*res));
    if (strcmp(config_get()->gateway_provider, "sandbox") != 0)
        return link_fail(res, GATEWAY_UNAVAILABLE,
                         "the payment gateway is disabled (GATEWAY_PROVIDER=none)");
    if (req == NULL || !plain_value(req->reference, 63) || req->amount <= 0 ||
        req->currency == NULL || strlen(req->currency) != 3 || req->customer_name == NULL ||
        req->expire_by < 0)
        return link_fail(res, GATEWAY_REFUSED,
                         "the payment link request is incomplete (reference, a positive amount, "
                         "currency and the customer's name are required)");

    json_object *body = json_object_new_object();
    json_object_object_add(body, "amount", json_object_new_int64(req->amount));
    json_object_object_add(body, "currency", json_object_new_string(req->currency));
    json_object_object_add(body, "accept_partial", json_object_new_boolean(0));
    add_str(body, "description", req->description);
    json_object_object_add(body, "reference_id", json_object_new_string(req->reference));
    if (req->expire_by > 0)
        json_object_object_add(body, "expire_by", json_object_new_int64(req->expire_by));
    json_object *cust = json_object_new_object();
    add_str(cust, "name", req->customer_name);
    add_str(cust, "email", req->customer_email);
    add_str(cust, "contact", req->customer_phone);
    json_object_object_add(body, "customer", cust);
    /* The borrower hears from us (the notifier), not from the gateway. */
    json_object *notify = json_object_new_object();
    json_object_object_add(notify, "sms", json_object_new_boolean(0));
    json_object_object_add(notify, "email", json_object_new_boolean(0));
    json_object_object_add(body, "notify", notify);
    json_object *notes = json_object_new_object();
    add_str(notes, "loan_id", req->loan_id);
    add_str(notes, "purpose", req->purpose);
    add_str(notes, "reference", req->reference);
    json_object_object_add(body, "notes", notes);

    struct gateway_payout_res call_res;
    memset(&call_res, 0, sizeof(call_res));
    json_object *ans = NULL;
    enum gateway_code code = call("payment_link", "/v1/payment_links", body, NULL, &ans, &call_res);
    json_object_put(body);
    res->http_status = call_res.http_status;
    snprintf(res->error, sizeof(res->error), "%s", call_res.error);
    if (code != GATEWAY_OK)
        return code;
    const char *status = str_of(ans, "status");
    json_object *exp = NULL;
    int bad = take_id(ans, res->id, sizeof(res->id)) != 0 ||
              take_url(ans, "short_url", res->short_url, sizeof(res->short_url)) != 0 ||
              !link_status_ok(status);
    if (!bad) {
        snprintf(res->status, sizeof(res->status), "%s", status);
        if (json_object_object_get_ex(ans, "expire_by", &exp) && exp != NULL) {
            if (!json_object_is_type(exp, json_type_int) || json_object_get_int64(exp) < 0)
                bad = 1;
            else
                res->expire_by = (long long)json_object_get_int64(exp);
        }
    }
    json_object_put(ans);
    if (bad) {
        int http = res->http_status;
        memset(res, 0, sizeof(*res));
        res->http_status = http;
        return link_fail(res, GATEWAY_FAULT, "the gateway's answer is not a payment link");
    }
    log_msg(LOG_INFO, "gateway payment link %s: %s (HTTP %d)", res->id, res->status,
            res->http_status);
    return GATEWAY_OK;
}

/* The names of one entity's fields, for *field. */
struct entity_names {
    const char *entity, *id, *amount, *currency, *status, *notes, *loan_id, *reference, *purpose;
};
#define ENTITY_NAMES(p)                                                                            \
    {                                                                                              \
        p, p ".id", p ".amount", p ".currency", p ".status", p ".notes", p ".notes.loan_id",       \
            p ".notes.reference", p ".notes.purpose"                                               \
    }
static const struct entity_names payment_names = ENTITY_NAMES("payload.payment.entity");
static const struct entity_names refund_names = ENTITY_NAMES("payload.refund.entity");
static const struct entity_names link_names = ENTITY_NAMES("payload.payment_link.entity");

/* payload.<name>.entity, an object; NULL when absent or not one. */
static json_object *entity_of(json_object *payload, const char *name)
{
    json_object *wrapper, *entity;
    if (!json_object_object_get_ex(payload, name, &wrapper) ||
        !json_object_is_type(wrapper, json_type_object) ||
        !json_object_object_get_ex(wrapper, "entity", &entity) ||
        !json_object_is_type(entity, json_type_object))
        return NULL;
    return entity;
}

/* A required string member, not empty, that fits dst[cap] whole; 0 or -1. */
static int need_str(json_object *o, const char *key, char *dst, size_t cap)
{
    return copy_member(o, key, dst, cap, 1) == 1 && dst[0] ? 0 : -1;
}

/* The entity's amount (a whole number >= 0) and currency (3 capital letters); 0, or -1 with *f
 * naming the one that is wrong. */
static int take_money(json_object *entity, const struct entity_names *n,
                      struct gateway_payment_event *ev, const char **f)
{
    json_object *v;
    *f = n->amount;
    if (!json_object_object_get_ex(entity, "amount", &v) ||
        !json_object_is_type(v, json_type_int) || json_object_get_int64(v) < 0)
        return -1;
    ev->amount = json_object_get_int64(v);
    *f = n->currency;
    if (copy_member(entity, "currency", ev->currency, sizeof(ev->currency), 1) != 1 ||
        strlen(ev->currency) != 3)
        return -1;
    for (int i = 0; i < 3; i++)
        if (ev->currency[i] < 'A' || ev->currency[i] > 'Z')
            return -1;
    return 0;
}

/* A status that fits and is one of allowed (NULL-terminated); 0 or -1. */
static int take_status(json_object *entity, const char *const *allowed,
                       struct gateway_payment_event *ev)
{
    if (need_str(entity, "status", ev->status, sizeof(ev->status)) != 0)
        return -1;
    for (; *allowed; allowed++)
        if (!strcmp(*allowed, ev->status))
            return 0;
    return -1;
}

/* One notes member into dst[cap] unless dst is set already; 0, or -1 when it is not a string
 * that fits. */
static int take_note(json_object *notes, const char *key, char *dst, size_t cap)
{
    char tmp[64];
    if (dst[0] != '\0')
        return 0;
    int got = copy_member(notes, key, tmp, cap < sizeof(tmp) ? cap : sizeof(tmp), 1);
    if (got < 0)
        return -1;
    if (got == 1)
        memcpy(dst, tmp, strlen(tmp) + 1); /* strict: it fits cap */
    return 0;
}

/* notes.loan_id, notes.reference and notes.purpose of the entity, into the fields of ev not
 * set yet. Notes may be absent, null or an empty array (Razorpay's empty notes); 0 or -1. */
static int take_notes(json_object *entity, const struct entity_names *n,
                      struct gateway_payment_event *ev, const char **f)
{
    json_object *notes;
    *f = n->notes;
    if (!json_object_object_get_ex(entity, "notes", &notes) || notes == NULL)
        return 0;
    if (json_object_is_type(notes, json_type_array) && json_object_array_length(notes) == 0)
        return 0;
    if (!json_object_is_type(notes, json_type_object))
        return -1;
    *f = n->loan_id;
    if (take_note(notes, "loan_id", ev->loan_id, sizeof(ev->loan_id)) != 0)
        return -1;
    *f = n->reference;
    if (take_note(notes, "reference", ev->reference, sizeof(ev->reference)) != 0)
        return -1;
    *f = n->purpose;
    if (take_note(notes, "purpose", ev->purpose, sizeof(ev->purpose)) != 0)
        return -1;
    return 0;
}

/* The payment entity: payment_id, amount, currency, notes, and (with_status) its status. */
static int take_payment(json_object *payload, struct gateway_payment_event *ev, int with_status,
                        const char **f)
{
    static const char *const statuses[] = {"captured", "failed", "authorized", "refunded", NULL};
    json_object *e = entity_of(payload, "payment");
    *f = payment_names.entity;
    if (e == NULL)
        return -1;
    *f = payment_names.id;
    if (need_str(e, "id", ev->payment_id, sizeof(ev->payment_id)) != 0)
        return -1;
    *f = payment_names.status;
    char keep[sizeof(ev->status)];
    memcpy(keep, ev->status, sizeof(keep));
    if (take_status(e, statuses, ev) != 0)
        return -1;
    if (!with_status)
        memcpy(ev->status, keep, sizeof(keep));
    if (take_money(e, &payment_names, ev, f) != 0)
        return -1;
    return take_notes(e, &payment_names, ev, f);
}

int gateway_payment_event_parse(const char *body, size_t len, struct gateway_payment_event *ev,
                                const char **field)
{
    static const char *dummy;
    static const char *const refund_statuses[] = {"processed", "pending", "failed", NULL};
    static const char *const link_statuses[] = {"created", "partially_paid", "paid",
                                                "expired", "cancelled",      NULL};
    const char **f = field ? field : &dummy;
    memset(ev, 0, sizeof(*ev));
    *f = "body";
    json_object *doc = NULL, *payload;
    const char *why;
    int rc = -1;
    if (body == NULL || js_parse(body, len, &doc, &why) != 0 ||
        !json_object_is_type(doc, json_type_object))
        goto out;
    *f = "entity";
    const char *kind = str_of(doc, "entity");
    if (kind == NULL || strcmp(kind, "event") != 0)
        goto out;
    *f = "event";
    if (copy_member(doc, "event", ev->event, sizeof(ev->event), 1) != 1)
        goto out;
    if (strncmp(ev->event, "payout.", 7) == 0 && ev->event[7] != '\0') {
        rc = 1; /* gateway_event_parse's */
        *f = NULL;
        goto out;
    }
    int pay = !strcmp(ev->event, "payment.captured") || !strcmp(ev->event, "payment.failed");
    int refund = !strcmp(ev->event, "refund.processed");
    int paid = !strcmp(ev->event, "payment_link.paid") ||
               !strcmp(ev->event, "payment_link.partially_paid");
    int ended =
        !strcmp(ev->event, "payment_link.expired") || !strcmp(ev->event, "payment_link.cancelled");
    if (!pay && !refund && !paid && !ended) {
        if (strncmp(ev->event, "payout.", 7) == 0 || strchr(ev->event, '.') == NULL)
            goto out; /* "payout." alone, or not a name of the protocol's */
        rc = 2;       /* an event of the protocol that Loanflow does not act on */
        *f = NULL;
        goto out;
    }
    *f = "payload";
    if (!json_object_object_get_ex(doc, "payload", &payload) ||
        !json_object_is_type(payload, json_type_object))
        goto out;
    if (pay) {
        if (take_payment(payload, ev, 1, f) != 0)
            goto out;
    } else if (refund) {
        json_object *e = entity_of(payload, "refund");
        *f = refund_names.entity;
        if (e == NULL)
            goto out;
        *f = refund_names.id;
        if (need_str(e, "id", ev->refund_id, sizeof(ev->refund_id)) != 0)
            goto out;
        *f = "payload.refund.entity.payment_id";
        if (need_str(e, "payment_id", ev->payment_id, sizeof(ev->payment_id)) != 0)
            goto out;
        *f = refund_names.status;
        if (take_status(e, refund_statuses, ev) != 0 || take_money(e, &refund_names, ev, f) != 0 ||
            take_notes(e, &refund_names, ev, f) != 0)
            goto out;
        /* The payment refunded, when the event carries it: its notes fill what the refund's
         * lack. */
        json_object *pe = entity_of(payload, "payment");
        if (pe != NULL) {
            char pid[sizeof(ev->payment_id)];
            *f = payment_names.id;
            if (need_str(pe, "id", pid, sizeof(pid)) != 0 || strcmp(pid, ev->payment_id) != 0)
                goto out;
            if (take_notes(pe, &payment_names, ev, f) != 0)
                goto out;
        }
    } else {
        json_object *e = entity_of(payload, "payment_link");
        *f = link_names.entity;
        if (e == NULL)
            goto out;
        *f = link_names.id;
        if (need_str(e, "id", ev->link_id, sizeof(ev->link_id)) != 0)
            goto out;
        *f = link_names.status;
        if (take_status(e, link_statuses, ev) != 0)
            goto out;
        /* Paid: the payment's amount; expired or cancelled: the link's. */
        if (paid ? take_payment(payload, ev, 0, f) != 0 : take_money(e, &link_names, ev, f) != 0)
            goto out;
        if (take_notes(e, &link_names, ev, f) != 0)
            goto out;
        *f = "payload.payment_link.entity.reference_id";
        if (ev->reference[0] == '\0' &&
            copy_member(e, "reference_id", ev->reference, sizeof(ev->reference), 1) < 0)
            goto out;
    }
    *f = "created_at";
    if (event_created_at(doc, &ev->created_at) != 0)
        goto out;
    *f = NULL;
    rc = 0;
out:
    return parse_done(doc, rc, f, ev, sizeof(*ev));
}
