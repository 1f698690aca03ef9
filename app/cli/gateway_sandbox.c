/*
 * loanctl gateway-sandbox: a stand-in for RazorpayX's payout API on loopback, so the lending
 * flows run end to end over the real protocol (GUIDE §3: a sandbox of an outside service is a
 * separate process speaking its protocol).
 *
 * One process, one thread, one poll() loop over the listening socket, the clients' sockets and
 * libcurl's sockets (the multi_socket API: libcurl says which sockets to watch and when to wake
 * it), so the API answers while a webhook delivery is slow. HTTP/1.1 is served carefully rather
 * than completely: a request line and at most MAX_HEAD bytes of headers, a Content-Length body
 * of at most MAX_BODY bytes (no chunked bodies: 501), keep-alive by default in 1.1 and on
 * request in 1.0, Expect: 100-continue answered, pipelined requests answered in order, a Host
 * required in 1.1; anything malformed is a 400 and the connection is closed. A client idle for
 * IDLE_MS, or sending a request slower than PARTIAL_MS, is dropped.
 *
 * The API (HTTP basic auth with GATEWAY_KEY_ID:GATEWAY_KEY_SECRET, errors in Razorpay's shape
 * {"error":{"code":"BAD_REQUEST_ERROR","description":...,"field":...}}): POST /v1/contacts,
 * POST /v1/fund_accounts (bank accounts only), POST /v1/payouts (X-Payout-Idempotency
 * mandatory: the same key with the same request answers the same payout, with another request
 * it is refused), GET /v1/payouts/{id}, GET /v1/payouts?account_number=...&reference_id=...,
 * GET /v1/contacts/{id}, GET /v1/fund_accounts/{id}. Creating a contact or a fund account with
 * the details of an existing one answers the existing one (200), as RazorpayX does.
 *
 * A payout is created queued; after delay_ms it is processing (payout.initiated), after another
 * delay_ms it ends processed with a UTR (payout.processed), or failed or reversed when told to
 * (/sandbox/next-outcome, /sandbox/payouts/{id}/outcome). Each change is a webhook event
 * (payout.queued, payout.initiated, then payout.processed, payout.failed or payout.reversed)
 * whose body is serialised once: every delivery of it sends the same bytes, with
 * X-Razorpay-Signature (hex HMAC-SHA256 of those bytes under GATEWAY_WEBHOOK_SECRET) and
 * X-Razorpay-Event-Id. At least once: a non-2xx answer or no answer within webhook_timeout_ms
 * is retried after retry_ms, doubling up to a minute, for retry_for_ms after the event (10
 * minutes by default); with duplicate_rate a delivered event is sometimes delivered again; with
 * shuffle a payout's events are held until its last one and then delivered in an order that is
 * never the original one.
 *
 * Collections speak Razorpay's payment links API with the same auth and errors: POST
 * /v1/payment_links {amount (paise, > 0), currency INR, accept_partial (false), description,
 * reference_id (required; one seen before is refused: "reference_id already exists"), expire_by
 * (unix seconds, 15 minutes to 2 years ahead; default a week from now), customer {name, email,
 * contact}, notify {sms, email}, notes (at most 15 strings)} answers the link, status created,
 * with short_url http://127.0.0.1:PORT/pay/{id}; GET /v1/payment_links/{id}; POST
 * /v1/payment_links/{id}/cancel; GET /v1/payments/{id}. A link whose expire_by passes expires
 * (payment_link.expired). Nobody pays a sandbox link but the control API or its checkout page:
 * a payment (pay_..., captured, its notes the link's with reference = the link's reference_id
 * unless they have one) raises amount_paid, the link becomes paid or partially_paid, and two
 * events follow, payment.captured then payment_link.paid or payment_link.partially_paid (40 ms
 * apart; shuffled, in the other order). A refund (rfnd_..., processed at once) is
 * refund.processed, with the refund and the payment. Each is delivered as the payout events
 * are: signed, retried, duplicated, shuffled, recorded.
 *
 * The control API under /sandbox/ (no auth: the process listens on 127.0.0.1 only) steers it for
 * development and tests: config, outcomes, injected API errors and stalls (on /v1/ only), the
 * record of every delivery attempt (with the exact body and signature sent), and the borrower's
 * side of collections: POST /sandbox/payment_links/{id}/pay {amount? (default what remains; a
 * part only when accept_partial), method? (upi)}, POST /sandbox/payment_links/{id}/expire, POST
 * /sandbox/payments/{id}/refund {amount? (default what is not refunded yet)}. GET /pay/{id} is
 * the link's checkout page for a browser (no auth, every value escaped), and its form POSTs to
 * /pay/{id} to pay what remains, as the control API does.
 *
 * State lives in memory and, with --journal FILE, is also appended to FILE (one JSON object a
 * line, mode 0600) and replayed at start, so contacts, fund accounts, payouts, idempotency keys,
 * payment links, payments, refunds and undelivered events survive a restart; a payout on its way
 * resumes its lifecycle from the restart, and events not yet delivered are delivered again. The
 * record of delivery attempts and the runtime settings are not kept. No account number is kept in
 * clear, in memory or in the journal: a fund account holds the last four digits and a keyed digest
 * (to recognise the same account again), and nothing logs a number or a secret.
 */
#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "config.h"
#include "gateway.h"
#include "js.h"
#include "log.h"

enum {
    MAX_CONNS = 128,
    MAX_HEAD = 16 * 1024,
    MAX_BODY = 64 * 1024,
    IN_CAP = MAX_HEAD + MAX_BODY + 8,
    OUT_CAP = 4 * 1024 * 1024,
    IDLE_MS = 30000,
    PARTIAL_MS = 10000,
    MAX_INFLIGHT = 8,
    MAX_ATTEMPTS_KEPT = 2000,
    MAX_CURL_SOCKS = 64,
    BACKOFF_CAP_MS = 60000,
    ID_LEN = 24,
};

/* ---- state ---- */

struct settings {
    long delay_ms;           /* between lifecycle steps */
    double duplicate_rate;   /* 0..1: chance a delivered event is delivered again */
    int shuffle;             /* hold a payout's events and deliver them out of order */
    long retry_ms;           /* the first retry's delay, doubling */
    long retry_for_ms;       /* give up on an event this long after it happened */
    long webhook_timeout_ms; /* one delivery's time limit */
    char webhook_url[512];   /* "" = no deliveries */
};

struct contact {
    char id[ID_LEN];
    char name[208];
    char email[104];
    char phone[24];
    char type[16];
    char reference[48];
    long long created_at;
};

struct fund_account {
    char id[ID_LEN];
    char contact_id[ID_LEN];
    char holder[488];
    char ifsc[12];
    char last4[5];
    char digest[65]; /* HMAC of IFSC and number under the key secret */
    long long created_at;
};

struct payout {
    char id[ID_LEN];
    char fund_account_id[ID_LEN];
    int64_t amount;
    char currency[4];
    char mode[8];
    char purpose[32];
    char reference[48];
    char narration[32];
    char notes[1024]; /* the notes object, serialised */
    char status[16];
    char utr[24];
    char failure_reason[200];
    char details_reason[48];
    char details_desc[200];
    char details_source[24];
    long long created_at;
    char idem[132];  /* X-Payout-Idempotency */
    char digest[65]; /* SHA-256 of the request's canonical form */
    char plan[12];   /* how it ends: processed | failed | reversed */
    char plan_reason[200];
    int hold;          /* waits at its state until an outcome is posted */
    long long next_at; /* monotonic ms of the next step, 0 = none */
};

/* A payment link (collection): paid in one or more payments until amount_paid is amount. */
struct plink {
    char id[ID_LEN];
    int64_t amount;
    int64_t amount_paid;
    char currency[4];
    int accept_partial;
    char description[1024];
    char reference[48];
    char status[16];  /* created | partially_paid | paid | expired | cancelled */
    char notes[1024]; /* the notes object, serialised */
    char cust_name[208];
    char cust_email[104];
    char cust_phone[24];
    int notify_sms, notify_email;
    long long expire_by, expired_at, cancelled_at, created_at, updated_at;
};

/* A payment captured on a link. */
struct payment {
    char id[ID_LEN];
    char link_id[ID_LEN];
    int64_t amount;
    int64_t refunded;
    char currency[4];
    char method[16];
    char status[16];  /* captured | refunded */
    char notes[1152]; /* the link's notes with reference, serialised */
    long long created_at;
};

struct refund {
    char id[ID_LEN];
    char payment_id[ID_LEN];
    int64_t amount;
    char currency[4];
    long long created_at;
};

enum ev_state { EV_HELD, EV_PENDING, EV_INFLIGHT, EV_DONE, EV_GAVE_UP };

struct event {
    char id[ID_LEN];
    char name[32];
    char payout_id[ID_LEN];  /* payout events */
    char link_id[ID_LEN];    /* collection events: the link, "" when none */
    char payment_id[ID_LEN]; /* collection events: the payment, "" when none */
    char group[ID_LEN];      /* events held together under shuffle (a payout, an action) */
    char *body;              /* the exact bytes every delivery sends (owned) */
    size_t len;
    char sig[65];
    char sha[65];
    long long created_ms; /* wall clock, for the retry window */
    enum ev_state state;
    int attempts;
    int duplicated; /* a duplicate delivery was decided */
    int dup_next;   /* the next attempt is that duplicate */
    long long due;  /* monotonic ms of the next attempt */
    long long started;
    CURL *h;
    struct curl_slist *headers;
};

struct attempt {
    size_t event;
    int attempt;
    long status; /* the HTTP status answered, 0 = none */
    char error[96];
    int duplicate;
    long long at; /* wall ms */
    long ms;
};

struct outcome {
    char what[12]; /* "" none, processed, failed, reversed, hold */
    char reason[200];
};

struct fault {
    int count;  /* requests left to affect */
    int status; /* 0 = close without an answer, else the status answered */
    int has_status;
    int after; /* the request takes effect first, then its answer is replaced */
    long stall_ms;
    char path[64];
};

#define ARRAY(T)                                                                                   \
    struct {                                                                                       \
        T *v;                                                                                      \
        size_t n, cap;                                                                             \
    }

static struct settings set;
static ARRAY(struct contact) contacts;
static ARRAY(struct fund_account) funds;
static ARRAY(struct payout) payouts;
static ARRAY(struct plink) links;
static ARRAY(struct payment) payments;
static ARRAY(struct refund) refunds;
static ARRAY(struct event) events;
static struct attempt attempts[MAX_ATTEMPTS_KEPT];
static size_t nattempts; /* all ever made; the last MAX_ATTEMPTS_KEPT are kept */
static struct outcome next_outcome;
static struct fault fault;
static char account_id[ID_LEN];
static const char *key_id, *key_secret, *webhook_secret, *source_account;
static int journal_fd = -1;
static const char *journal_path;
static int replaying;
static long listen_port; /* for the links' short_url */
static volatile sig_atomic_t stopping;

/* A zeroed new slot at the end of an array, or NULL when memory ran out. */
static void *push(void **v, size_t *n, size_t *cap, size_t size)
{
    if (*n == *cap) {
        size_t nc = *cap ? *cap * 2 : 64;
        void *nv = realloc(*v, nc * size);
        if (nv == NULL)
            return NULL;
        *v = nv;
        *cap = nc;
    }
    void *slot = (char *)*v + *n * size;
    memset(slot, 0, size);
    (*n)++;
    return slot;
}
#define PUSH(a) push((void **)&(a).v, &(a).n, &(a).cap, sizeof(*(a).v))

static long long mono_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static long long wall_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static const char alnum[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/* prefix + 14 random letters and digits, as RazorpayX's ids. */
static void new_id(const char *prefix, char out[ID_LEN])
{
    size_t p = strlen(prefix);
    memcpy(out, prefix, p);
    for (size_t i = 0; i < 14; i++)
        out[p + i] = alnum[randombytes_uniform(62)];
    out[p + 14] = '\0';
}

static void sha256_hex(const void *data, size_t len, char out[65])
{
    unsigned char h[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(h, data, len);
    sodium_bin2hex(out, 65, h, sizeof(h));
}

static void copy(char *dst, size_t cap, const char *src)
{
    snprintf(dst, cap, "%s", src ? src : "");
}

static const char *serialise(json_object *o)
{
    return json_object_to_json_string_ext(o,
                                          JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
}

static json_object *str_or_null(const char *s)
{
    return s && s[0] ? json_object_new_string(s) : NULL;
}

/* ---- the journal ---- */

/* Appends {"k":kind,"v":v} as one line (one write); takes v. */
static void journal(const char *kind, json_object *v)
{
    if (journal_fd < 0 || replaying) {
        json_object_put(v);
        return;
    }
    json_object *line = json_object_new_object();
    json_object_object_add(line, "k", json_object_new_string(kind));
    json_object_object_add(line, "v", v);
    const char *s = serialise(line);
    size_t n = strlen(s);
    char *buf = malloc(n + 1);
    if (buf != NULL) {
        memcpy(buf, s, n);
        buf[n] = '\n';
        if (write(journal_fd, buf, n + 1) != (ssize_t)(n + 1))
            log_msg(LOG_ERROR, "gateway-sandbox: writing the journal failed: %s", strerror(errno));
        free(buf);
    }
    json_object_put(line);
}

static void take_str(json_object *o, const char *key, char *dst, size_t cap)
{
    json_object *v;
    dst[0] = '\0';
    if (json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_string))
        copy(dst, cap, json_object_get_string(v));
}

static long long take_int(json_object *o, const char *key)
{
    json_object *v;
    if (json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_int))
        return (long long)json_object_get_int64(v);
    return 0;
}

/* ---- entities as JSON ---- */

static json_object *contact_json(const struct contact *c)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "id", json_object_new_string(c->id));
    json_object_object_add(o, "entity", json_object_new_string("contact"));
    json_object_object_add(o, "name", json_object_new_string(c->name));
    json_object_object_add(o, "contact", str_or_null(c->phone));
    json_object_object_add(o, "email", str_or_null(c->email));
    json_object_object_add(o, "type", str_or_null(c->type));
    json_object_object_add(o, "reference_id", str_or_null(c->reference));
    json_object_object_add(o, "batch_id", NULL);
    json_object_object_add(o, "active", json_object_new_boolean(1));
    json_object_object_add(o, "notes", json_object_new_object());
    json_object_object_add(o, "created_at", json_object_new_int64(c->created_at));
    return o;
}

static const char *bank_name(const char *ifsc)
{
    static const struct {
        const char *code, *name;
    } banks[] = {{"HDFC", "HDFC Bank"},           {"SBIN", "State Bank of India"},
                 {"ICIC", "ICICI Bank"},          {"UTIB", "Axis Bank"},
                 {"KKBK", "Kotak Mahindra Bank"}, {"PUNB", "Punjab National Bank"}};
    for (size_t i = 0; i < sizeof(banks) / sizeof(banks[0]); i++)
        if (!strncmp(ifsc, banks[i].code, 4))
            return banks[i].name;
    return "Sandbox Bank";
}

/* number: the account number to show (the request's, on creation), or NULL for the mask. */
static json_object *fund_json(const struct fund_account *f, const char *number)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "id", json_object_new_string(f->id));
    json_object_object_add(o, "entity", json_object_new_string("fund_account"));
    json_object_object_add(o, "contact_id", json_object_new_string(f->contact_id));
    json_object_object_add(o, "account_type", json_object_new_string("bank_account"));
    json_object *b = json_object_new_object();
    json_object_object_add(b, "ifsc", json_object_new_string(f->ifsc));
    json_object_object_add(b, "bank_name", json_object_new_string(bank_name(f->ifsc)));
    json_object_object_add(b, "name", json_object_new_string(f->holder));
    json_object_object_add(b, "notes", json_object_new_array());
    char masked[24];
    snprintf(masked, sizeof(masked), "XXXXXXXX%s", f->last4);
    json_object_object_add(b, "account_number", json_object_new_string(number ? number : masked));
    json_object_object_add(o, "bank_account", b);
    json_object_object_add(o, "batch_id", NULL);
    json_object_object_add(o, "active", json_object_new_boolean(1));
    json_object_object_add(o, "created_at", json_object_new_int64(f->created_at));
    return o;
}

static json_object *fund_state_json(const struct fund_account *f)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "id", json_object_new_string(f->id));
    json_object_object_add(o, "contact_id", json_object_new_string(f->contact_id));
    json_object_object_add(o, "name", json_object_new_string(f->holder));
    json_object_object_add(o, "ifsc", json_object_new_string(f->ifsc));
    json_object_object_add(o, "last4", json_object_new_string(f->last4));
    json_object_object_add(o, "digest", json_object_new_string(f->digest));
    json_object_object_add(o, "created_at", json_object_new_int64(f->created_at));
    return o;
}

/* The payout as the API and the webhooks show it. */
static json_object *payout_json(const struct payout *p)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "id", json_object_new_string(p->id));
    json_object_object_add(o, "entity", json_object_new_string("payout"));
    json_object_object_add(o, "fund_account_id", json_object_new_string(p->fund_account_id));
    json_object_object_add(o, "amount", json_object_new_int64(p->amount));
    json_object_object_add(o, "currency", json_object_new_string(p->currency));
    json_object *notes = NULL;
    const char *why;
    if (p->notes[0] == '\0' || js_parse(p->notes, strlen(p->notes), &notes, &why) != 0)
        notes = json_object_new_object();
    json_object_object_add(o, "notes", notes);
    json_object_object_add(o, "fees", json_object_new_int(0));
    json_object_object_add(o, "tax", json_object_new_int(0));
    json_object_object_add(o, "status", json_object_new_string(p->status));
    json_object_object_add(o, "purpose", json_object_new_string(p->purpose));
    json_object_object_add(o, "utr", str_or_null(p->utr));
    json_object_object_add(o, "mode", json_object_new_string(p->mode));
    json_object_object_add(o, "reference_id", str_or_null(p->reference));
    json_object_object_add(o, "narration", str_or_null(p->narration));
    json_object_object_add(o, "batch_id", NULL);
    json_object_object_add(o, "failure_reason", str_or_null(p->failure_reason));
    json_object *d = NULL;
    if (p->details_desc[0]) {
        d = json_object_new_object();
        json_object_object_add(d, "reason", str_or_null(p->details_reason));
        json_object_object_add(d, "description", json_object_new_string(p->details_desc));
        json_object_object_add(d, "source", str_or_null(p->details_source));
    }
    json_object_object_add(o, "status_details", d);
    json_object_object_add(o, "created_at", json_object_new_int64(p->created_at));
    return o;
}

/* The payout with what only the sandbox knows (the journal's record). */
static json_object *payout_state_json(const struct payout *p)
{
    json_object *o = payout_json(p);
    json_object_object_add(o, "x_notes", json_object_new_string(p->notes));
    json_object_object_add(o, "x_details_reason", json_object_new_string(p->details_reason));
    json_object_object_add(o, "x_details_desc", json_object_new_string(p->details_desc));
    json_object_object_add(o, "x_details_source", json_object_new_string(p->details_source));
    json_object_object_add(o, "x_idem", json_object_new_string(p->idem));
    json_object_object_add(o, "x_digest", json_object_new_string(p->digest));
    json_object_object_add(o, "x_plan", json_object_new_string(p->plan));
    json_object_object_add(o, "x_plan_reason", json_object_new_string(p->plan_reason));
    json_object_object_add(o, "x_hold", json_object_new_boolean(p->hold));
    return o;
}

static void payout_from_state(struct payout *p, json_object *o)
{
    take_str(o, "id", p->id, sizeof(p->id));
    take_str(o, "fund_account_id", p->fund_account_id, sizeof(p->fund_account_id));
    p->amount = take_int(o, "amount");
    take_str(o, "currency", p->currency, sizeof(p->currency));
    take_str(o, "mode", p->mode, sizeof(p->mode));
    take_str(o, "purpose", p->purpose, sizeof(p->purpose));
    take_str(o, "reference_id", p->reference, sizeof(p->reference));
    take_str(o, "narration", p->narration, sizeof(p->narration));
    take_str(o, "x_notes", p->notes, sizeof(p->notes));
    take_str(o, "status", p->status, sizeof(p->status));
    take_str(o, "utr", p->utr, sizeof(p->utr));
    take_str(o, "failure_reason", p->failure_reason, sizeof(p->failure_reason));
    take_str(o, "x_details_reason", p->details_reason, sizeof(p->details_reason));
    take_str(o, "x_details_desc", p->details_desc, sizeof(p->details_desc));
    take_str(o, "x_details_source", p->details_source, sizeof(p->details_source));
    p->created_at = take_int(o, "created_at");
    take_str(o, "x_idem", p->idem, sizeof(p->idem));
    take_str(o, "x_digest", p->digest, sizeof(p->digest));
    take_str(o, "x_plan", p->plan, sizeof(p->plan));
    take_str(o, "x_plan_reason", p->plan_reason, sizeof(p->plan_reason));
    json_object *v;
    p->hold = json_object_object_get_ex(o, "x_hold", &v) && json_object_get_boolean(v);
}

/* ---- lookups ---- */

static struct contact *find_contact(const char *id)
{
    for (size_t i = 0; i < contacts.n; i++)
        if (!strcmp(contacts.v[i].id, id))
            return &contacts.v[i];
    return NULL;
}

static struct fund_account *find_fund(const char *id)
{
    for (size_t i = 0; i < funds.n; i++)
        if (!strcmp(funds.v[i].id, id))
            return &funds.v[i];
    return NULL;
}

static struct payout *find_payout(const char *id)
{
    for (size_t i = 0; i < payouts.n; i++)
        if (!strcmp(payouts.v[i].id, id))
            return &payouts.v[i];
    return NULL;
}

static struct event *find_event(const char *id)
{
    for (size_t i = 0; i < events.n; i++)
        if (!strcmp(events.v[i].id, id))
            return &events.v[i];
    return NULL;
}

/* ---- the lifecycle and its events ---- */

static int terminal(const char *status)
{
    return !strcmp(status, "processed") || !strcmp(status, "failed") || !strcmp(status, "reversed");
}

static void schedule(struct payout *p, long long now)
{
    p->next_at = p->hold ? 0 : now + set.delay_ms + 1;
}

/* Releases a group's held events (a payout's, or one collection action's) in an order that is
 * not the one they happened in. */
static void release_held(const char *group, long long now)
{
    size_t idx[64], n = 0;
    for (size_t i = 0; i < events.n && n < 64; i++)
        if (events.v[i].state == EV_HELD && !strcmp(events.v[i].group, group))
            idx[n++] = i;
    for (size_t i = n; i > 1; i--) {
        size_t j = randombytes_uniform((uint32_t)i);
        size_t t = idx[i - 1];
        idx[i - 1] = idx[j];
        idx[j] = t;
    }
    int sorted = 1;
    for (size_t i = 1; i < n; i++)
        sorted = sorted && idx[i - 1] < idx[i];
    if (sorted && n > 1)
        for (size_t i = 0; i < n / 2; i++) {
            size_t t = idx[i];
            idx[i] = idx[n - 1 - i];
            idx[n - 1 - i] = t;
        }
    for (size_t k = 0; k < n; k++) {
        events.v[idx[k]].state = EV_PENDING;
        events.v[idx[k]].due = now + (long long)k * 40;
    }
}

/* What an event is about: the ids it is filtered by and the group it is held in. */
struct about {
    const char *payout_id, *link_id, *payment_id, *group;
};

static int held_in(const char *group)
{
    for (size_t i = 0; i < events.n; i++)
        if (events.v[i].state == EV_HELD && !strcmp(events.v[i].group, group))
            return 1;
    return 0;
}

/*
 * A new event in RazorpayX's envelope around payload (taken), serialised once, signed and
 * journaled: held (hold) or due at due. NULL when memory ran out.
 */
static struct event *new_event(const char *name, const char *const *contains, json_object *payload,
                               const struct about *ab, int hold, long long due)
{
    json_object *ev = json_object_new_object();
    json_object_object_add(ev, "entity", json_object_new_string("event"));
    json_object_object_add(ev, "account_id", json_object_new_string(account_id));
    json_object_object_add(ev, "event", json_object_new_string(name));
    json_object *c = json_object_new_array();
    for (; *contains; contains++)
        json_object_array_add(c, json_object_new_string(*contains));
    json_object_object_add(ev, "contains", c);
    json_object_object_add(ev, "payload", payload);
    json_object_object_add(ev, "created_at", json_object_new_int64((int64_t)time(NULL)));
    const char *body = serialise(ev);
    struct event *e = PUSH(events);
    if (e == NULL || (e->body = strdup(body)) == NULL) {
        if (e != NULL)
            events.n--;
        json_object_put(ev);
        log_msg(LOG_ERROR, "gateway-sandbox: out of memory for an event");
        return NULL;
    }
    json_object_put(ev);
    e->len = strlen(e->body);
    new_id("evt_", e->id);
    copy(e->name, sizeof(e->name), name);
    copy(e->payout_id, sizeof(e->payout_id), ab->payout_id);
    copy(e->link_id, sizeof(e->link_id), ab->link_id);
    copy(e->payment_id, sizeof(e->payment_id), ab->payment_id);
    copy(e->group, sizeof(e->group), ab->group);
    gateway_sign(webhook_secret, e->body, e->len, e->sig);
    sha256_hex(e->body, e->len, e->sha);
    e->created_ms = wall_ms();
    e->state = hold ? EV_HELD : EV_PENDING;
    e->due = due;
    json_object *j = json_object_new_object();
    json_object_object_add(j, "id", json_object_new_string(e->id));
    json_object_object_add(j, "event", json_object_new_string(e->name));
    json_object_object_add(j, "payout_id", json_object_new_string(e->payout_id));
    json_object_object_add(j, "link_id", json_object_new_string(e->link_id));
    json_object_object_add(j, "payment_id", json_object_new_string(e->payment_id));
    json_object_object_add(j, "group", json_object_new_string(e->group));
    json_object_object_add(j, "body", json_object_new_string(e->body));
    json_object_object_add(j, "created_ms", json_object_new_int64(e->created_ms));
    journal("event", j);
    return e;
}

/* A new event for the payout's present state, delivered (or held) from now on. */
static void emit(struct payout *p, const char *name, long long now)
{
    static const char *const contains[] = {"payout", NULL};
    json_object *entity = json_object_new_object();
    json_object_object_add(entity, "entity", payout_json(p));
    json_object *payload = json_object_new_object();
    json_object_object_add(payload, "payout", entity);
    const struct about ab = {.payout_id = p->id, .group = p->id};
    int hold = set.shuffle || held_in(p->id);
    if (new_event(name, contains, payload, &ab, hold, now) != NULL && terminal(p->status))
        release_held(p->id, now);
}

static void set_details(struct payout *p, const char *reason, const char *desc, const char *src)
{
    copy(p->details_reason, sizeof(p->details_reason), reason);
    copy(p->details_desc, sizeof(p->details_desc), desc);
    copy(p->details_source, sizeof(p->details_source), src);
}

static void new_utr(const struct payout *p, char out[24])
{
    size_t o = 0;
    if (strcmp(p->mode, "IMPS") != 0) {
        memcpy(out, strcmp(p->mode, "RTGS") ? "SBXN" : "SBXR", 4);
        o = 4;
    }
    for (size_t i = 0; i < 12; i++)
        out[o + i] = (char)('0' + randombytes_uniform(10));
    out[o + 12] = '\0';
}

/* The payout reaches how it was told to end (processed unless told otherwise). */
static void finish(struct payout *p, long long now)
{
    if (!strcmp(p->plan, "failed")) {
        copy(p->status, sizeof(p->status), "failed");
        copy(p->failure_reason, sizeof(p->failure_reason),
             p->plan_reason[0] ? p->plan_reason : "Beneficiary bank rejected the payout");
        set_details(p, "beneficiary_bank_rejected", p->failure_reason, "beneficiary_bank");
        emit(p, "payout.failed", now);
    } else if (!strcmp(p->plan, "reversed")) {
        copy(p->status, sizeof(p->status), "reversed");
        copy(p->failure_reason, sizeof(p->failure_reason),
             p->plan_reason[0] ? p->plan_reason : "Payout reversed by the beneficiary bank");
        set_details(p, "payout_reversed", p->failure_reason, "beneficiary_bank");
        emit(p, "payout.reversed", now);
    } else {
        copy(p->status, sizeof(p->status), "processed");
        new_utr(p, p->utr);
        set_details(p, "payout_processed",
                    "Payout is processed and the money has been credited into the beneficiary "
                    "account.",
                    "beneficiary_bank");
        emit(p, "payout.processed", now);
    }
}

static void step(struct payout *p, long long now)
{
    p->next_at = 0;
    if (!strcmp(p->status, "queued")) {
        copy(p->status, sizeof(p->status), "processing");
        set_details(p, "payout_bank_processing",
                    "Payout is being processed by our partner bank. Please check the final status "
                    "after some time.",
                    "bank");
        emit(p, "payout.initiated", now);
        schedule(p, now);
    } else if (!strcmp(p->status, "processing")) {
        finish(p, now);
    }
    journal("payout", payout_state_json(p));
    log_msg(LOG_INFO, "gateway-sandbox: payout %s %s", p->id, p->status);
}

static void expire_due_links(long long now);

static void run_lifecycle(long long now)
{
    for (size_t i = 0; i < payouts.n; i++)
        if (payouts.v[i].next_at != 0 && payouts.v[i].next_at <= now)
            step(&payouts.v[i], now);
    expire_due_links(now);
}

/* ---- webhook deliveries (libcurl multi_socket) ---- */

static CURLM *multi;
static int inflight;
static long long curl_timer_at = -1;
static struct {
    curl_socket_t fd;
    int what;
} csocks[MAX_CURL_SOCKS];
static int ncsocks;

static int on_curl_socket(CURL *e, curl_socket_t s, int what, void *userp, void *socketp)
{
    (void)e;
    (void)userp;
    (void)socketp;
    for (int i = 0; i < ncsocks; i++) {
        if (csocks[i].fd != s)
            continue;
        if (what == CURL_POLL_REMOVE)
            csocks[i] = csocks[--ncsocks];
        else
            csocks[i].what = what;
        return 0;
    }
    if (what != CURL_POLL_REMOVE && ncsocks < MAX_CURL_SOCKS) {
        csocks[ncsocks].fd = s;
        csocks[ncsocks].what = what;
        ncsocks++;
    }
    return 0;
}

static int on_curl_timer(CURLM *m, long timeout_ms, void *userp)
{
    (void)m;
    (void)userp;
    curl_timer_at = timeout_ms < 0 ? -1 : mono_ms() + timeout_ms;
    return 0;
}

static size_t discard(char *data, size_t size, size_t nmemb, void *ud)
{
    (void)data;
    (void)ud;
    return size * nmemb;
}

static void start_delivery(size_t i, long long now)
{
    struct event *e = &events.v[i];
    CURL *h = curl_easy_init();
    char sig[128], id[64];
    snprintf(sig, sizeof(sig), "X-Razorpay-Signature: %s", e->sig);
    snprintf(id, sizeof(id), "X-Razorpay-Event-Id: %s", e->id);
    struct curl_slist *hd = curl_slist_append(NULL, "Content-Type: application/json");
    struct curl_slist *t = hd ? curl_slist_append(hd, sig) : NULL;
    t = t ? curl_slist_append(t, id) : NULL;
    t = t ? curl_slist_append(t, "Expect:") : NULL;
    if (h == NULL || t == NULL) {
        curl_easy_cleanup(h);
        curl_slist_free_all(hd);
        e->due = now + 1000;
        return;
    }
    curl_easy_setopt(h, CURLOPT_URL, set.webhook_url);
#if LIBCURL_VERSION_NUM >= 0x075500
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
#else
    curl_easy_setopt(h, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, set.webhook_timeout_ms);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, set.webhook_timeout_ms);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hd);
    curl_easy_setopt(h, CURLOPT_POST, 1L);
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)e->len);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, e->body); /* e->body lives as long as the event */
    curl_easy_setopt(h, CURLOPT_USERAGENT, "Razorpay-Webhook/v1 (loanflow gateway-sandbox)");
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(h, CURLOPT_PRIVATE, (void *)(uintptr_t)i);
    if (curl_multi_add_handle(multi, h) != CURLM_OK) {
        curl_easy_cleanup(h);
        curl_slist_free_all(hd);
        e->due = now + 1000;
        return;
    }
    e->h = h;
    e->headers = hd;
    e->state = EV_INFLIGHT;
    e->attempts++;
    e->started = now;
    inflight++;
}

static void start_due(long long now)
{
    if (!set.webhook_url[0])
        return;
    for (size_t i = 0; i < events.n && inflight < MAX_INFLIGHT; i++)
        if (events.v[i].state == EV_PENDING && events.v[i].due <= now)
            start_delivery(i, now);
}

static void delivery_done(CURL *h, CURLcode rc, long long now)
{
    void *priv = NULL;
    curl_easy_getinfo(h, CURLINFO_PRIVATE, (char **)&priv);
    size_t i = (size_t)(uintptr_t)priv;
    long status = 0;
    if (rc == CURLE_OK)
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    curl_multi_remove_handle(multi, h);
    curl_easy_cleanup(h);
    inflight--;
    if (i >= events.n)
        return;
    struct event *e = &events.v[i];
    curl_slist_free_all(e->headers);
    e->headers = NULL;
    e->h = NULL;
    struct attempt *a = &attempts[nattempts++ % MAX_ATTEMPTS_KEPT];
    a->event = i;
    a->attempt = e->attempts;
    a->status = status;
    copy(a->error, sizeof(a->error), rc == CURLE_OK ? "" : curl_easy_strerror(rc));
    a->duplicate = e->dup_next;
    a->at = wall_ms();
    a->ms = (long)(now - e->started);
    log_msg(status >= 200 && status < 300 ? LOG_INFO : LOG_WARN,
            "gateway-sandbox: webhook %s %s (%s) attempt %d: %ld%s%s", e->name, e->id,
            e->payout_id[0]    ? e->payout_id
            : e->payment_id[0] ? e->payment_id
                               : e->link_id,
            e->attempts, status, rc == CURLE_OK ? "" : " ",
            rc == CURLE_OK ? "" : curl_easy_strerror(rc));
    if (e->dup_next) { /* the duplicate was a bonus: delivered already */
        e->dup_next = 0;
        e->state = EV_DONE;
        return;
    }
    if (status >= 200 && status < 300) {
        json_object *j = json_object_new_object();
        json_object_object_add(j, "id", json_object_new_string(e->id));
        journal("delivered", j);
        if (!e->duplicated && set.duplicate_rate > 0 &&
            randombytes_uniform(1000000) < (uint32_t)(set.duplicate_rate * 1000000.0)) {
            e->duplicated = 1;
            e->dup_next = 1;
            e->state = EV_PENDING;
            e->due = now + 30 + randombytes_uniform(200);
        } else {
            e->state = EV_DONE;
        }
        return;
    }
    if (wall_ms() - e->created_ms >= set.retry_for_ms) {
        e->state = EV_GAVE_UP;
        json_object *j = json_object_new_object();
        json_object_object_add(j, "id", json_object_new_string(e->id));
        journal("gave_up", j);
        log_msg(LOG_WARN, "gateway-sandbox: webhook %s %s given up after %d attempts", e->name,
                e->id, e->attempts);
        return;
    }
    long long backoff = set.retry_ms;
    for (int k = 1; k < e->attempts && backoff < BACKOFF_CAP_MS; k++)
        backoff *= 2;
    if (backoff > BACKOFF_CAP_MS)
        backoff = BACKOFF_CAP_MS;
    e->state = EV_PENDING;
    e->due = now + backoff;
}

static void collect_done(void)
{
    CURLMsg *m;
    int left;
    while ((m = curl_multi_info_read(multi, &left)) != NULL)
        if (m->msg == CURLMSG_DONE)
            delivery_done(m->easy_handle, m->data.result, mono_ms());
}

/* ---- HTTP ---- */

struct conn {
    int fd;
    char *in;
    size_t in_len;
    char *out;
    size_t out_len, out_off, out_cap;
    int close_after; /* close once the output is sent */
    int peer_closed;
    int dead;
    int continue_sent;
    long long last_ms;
    long long release_at; /* a stalled answer goes out then (0: none) */
    int drop_at_release;
};

struct request {
    char method[16];
    char path[1024];
    char query[1024];
    int keep_alive;
    char auth[512];
    char idem[256];
    const char *body;
    size_t body_len;
    size_t total; /* bytes of the buffer the request used */
};

struct response {
    int status;
    json_object *body;
    char *html;      /* owned: an HTML page answered instead of body (the checkout page) */
    char extra[192]; /* extra header lines, CRLF-terminated */
    int drop;        /* close without an answer */
    long stall_ms;   /* answer this much later */
};

static struct conn *conns[MAX_CONNS];
static int listen_fd = -1;

static const char *reason_phrase(int status)
{
    switch (status) {
    case 100:
        return "Continue";
    case 200:
        return "OK";
    case 201:
        return "Created";
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 408:
        return "Request Timeout";
    case 409:
        return "Conflict";
    case 413:
        return "Content Too Large";
    case 417:
        return "Expectation Failed";
    case 429:
        return "Too Many Requests";
    case 431:
        return "Request Header Fields Too Large";
    case 500:
        return "Internal Server Error";
    case 501:
        return "Not Implemented";
    case 502:
        return "Bad Gateway";
    case 503:
        return "Service Unavailable";
    case 504:
        return "Gateway Timeout";
    case 505:
        return "HTTP Version Not Supported";
    }
    return status < 300 ? "OK" : status < 500 ? "Client Error" : "Server Error";
}

static void error_res(struct response *res, int status, const char *code, const char *desc,
                      const char *field)
{
    json_object_put(res->body);
    free(res->html);
    res->html = NULL;
    res->status = status;
    json_object *e = json_object_new_object();
    json_object_object_add(e, "code", json_object_new_string(code));
    json_object_object_add(e, "description", json_object_new_string(desc));
    json_object_object_add(e, "source", json_object_new_string("business"));
    json_object_object_add(e, "step", json_object_new_string("NA"));
    json_object_object_add(e, "reason", json_object_new_string("input_validation_failed"));
    json_object_object_add(e, "metadata", json_object_new_object());
    json_object_object_add(e, "field", str_or_null(field));
    res->body = json_object_new_object();
    json_object_object_add(res->body, "error", e);
}

static void bad(struct response *res, const char *desc, const char *field)
{
    error_res(res, 400, "BAD_REQUEST_ERROR", desc, field);
}

static void ok(struct response *res, int status, json_object *body)
{
    json_object_put(res->body);
    free(res->html);
    res->html = NULL;
    res->status = status;
    res->body = body;
}

static int out_append(struct conn *c, const char *data, size_t n)
{
    if (c->out_len + n > OUT_CAP)
        return -1;
    if (c->out_len + n > c->out_cap) {
        size_t cap = c->out_cap ? c->out_cap : 4096;
        while (cap < c->out_len + n)
            cap *= 2;
        char *p = realloc(c->out, cap);
        if (p == NULL)
            return -1;
        c->out = p;
        c->out_cap = cap;
    }
    memcpy(c->out + c->out_len, data, n);
    c->out_len += n;
    return 0;
}

static void send_response(struct conn *c, struct response *res, int keep_alive)
{
    const char *body = res->html ? res->html : res->body ? serialise(res->body) : "";
    size_t bl = strlen(body);
    char head[768];
    if (!keep_alive)
        c->close_after = 1;
    int hl = snprintf(head, sizeof(head),
                      "HTTP/1.1 %d %s\r\nServer: loanflow-gateway-sandbox\r\n"
                      "Content-Type: %s\r\nContent-Length: %zu\r\n%s%s"
                      "Connection: %s\r\n\r\n",
                      res->status, reason_phrase(res->status),
                      res->html ? "text/html; charset=utf-8" : "application/json", bl, res->extra,
                      res->html ? "Content-Security-Policy: default-src 'none'; style-src "
                                  "'unsafe-inline'; form-action 'self'; frame-ancestors 'none'\r\n"
                                  "X-Content-Type-Options: nosniff\r\nCache-Control: no-store\r\n"
                                  "Referrer-Policy: no-referrer\r\n"
                                : "",
                      c->close_after ? "close" : "keep-alive");
    if (out_append(c, head, (size_t)hl) != 0 || out_append(c, body, bl) != 0)
        c->dead = 1;
    json_object_put(res->body);
    res->body = NULL;
    free(res->html);
    res->html = NULL;
}

/* A protocol error: answered, then the connection is closed. */
static void protocol_error(struct conn *c, int status, const char *desc)
{
    struct response res = {0};
    error_res(&res, status, "BAD_REQUEST_ERROR", desc, NULL);
    c->close_after = 1;
    send_response(c, &res, 0);
    c->in_len = 0;
}

static int is_tchar(char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           strchr("!#$%&'*+-.^_`|~", ch) != NULL;
}

static int header_is(const char *name, size_t nl, const char *want)
{
    return strlen(want) == nl && strncasecmp(name, want, nl) == 0;
}

/* Does a comma-separated header value hold token (case-insensitive)? */
static int has_token(const char *v, size_t vl, const char *token)
{
    size_t tl = strlen(token), i = 0;
    while (i < vl) {
        while (i < vl && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
            i++;
        size_t s = i;
        while (i < vl && v[i] != ',')
            i++;
        size_t e = i;
        while (e > s && (v[e - 1] == ' ' || v[e - 1] == '\t'))
            e--;
        if (e - s == tl && strncasecmp(v + s, token, tl) == 0)
            return 1;
    }
    return 0;
}

/*
 * Parses the request at the start of c->in. 1: complete (r filled); 0: more bytes needed;
 * -1: malformed, *status and *why say how to answer.
 */
static int parse_request(struct conn *c, struct request *r, int *status, const char **why)
{
    size_t skip = 0; /* empty lines before a request line are ignored (RFC 9112 §2.2) */
    while (skip < c->in_len && (c->in[skip] == '\r' || c->in[skip] == '\n'))
        skip++;
    if (skip > 0) {
        memmove(c->in, c->in + skip, c->in_len - skip);
        c->in_len -= skip;
    }
    const char *buf = c->in;
    size_t lim = c->in_len < MAX_HEAD ? c->in_len : MAX_HEAD;
    size_t head_end = 0, body_at = 0;
    for (size_t i = 0; i < lim; i++) {
        if (buf[i] != '\n')
            continue;
        if (i + 1 < c->in_len && buf[i + 1] == '\n') {
            head_end = i + 1;
            body_at = i + 2;
            break;
        }
        if (i + 2 < c->in_len && buf[i + 1] == '\r' && buf[i + 2] == '\n') {
            head_end = i + 1;
            body_at = i + 3;
            break;
        }
    }
    if (body_at == 0) {
        if (c->in_len >= MAX_HEAD) {
            *status = 431;
            *why = "The request's headers are too large";
            return -1;
        }
        return 0;
    }
    memset(r, 0, sizeof(*r));
    long content_length = -1;
    int minor = -1, hosts = 0, close_tok = 0, keep_tok = 0, expect_continue = 0;
    size_t pos = 0, lineno = 0;
    *status = 400;
    while (pos < head_end) {
        const char *nl = memchr(buf + pos, '\n', head_end - pos);
        size_t end = (size_t)(nl - buf), len = end - pos;
        const char *line = buf + pos;
        if (len > 0 && line[len - 1] == '\r')
            len--;
        pos = end + 1;
        for (size_t i = 0; i < len; i++)
            if (line[i] == '\0' || line[i] == '\r' ||
                ((unsigned char)line[i] < 0x20 && line[i] != '\t') || line[i] == 0x7f) {
                *why = "A control character in the request's head";
                return -1;
            }
        if (lineno++ == 0) {
            /* method SP request-target SP HTTP-version */
            const char *sp1 = memchr(line, ' ', len);
            const char *sp2 = sp1 ? memchr(sp1 + 1, ' ', len - (size_t)(sp1 + 1 - line)) : NULL;
            if (sp1 == NULL || sp2 == NULL || sp1 == line || (size_t)(sp1 - line) >= 16 ||
                sp2 == sp1 + 1) {
                *why = "The request line is malformed";
                return -1;
            }
            size_t ml = (size_t)(sp1 - line), tl = (size_t)(sp2 - sp1 - 1);
            const char *ver = sp2 + 1;
            size_t vl = len - (size_t)(ver - line);
            for (size_t i = 0; i < ml; i++)
                if (line[i] < 'A' || line[i] > 'Z') {
                    *why = "The request method is malformed";
                    return -1;
                }
            memcpy(r->method, line, ml);
            if (sp1[1] != '/' || tl >= sizeof(r->path) || memchr(sp1 + 1, ' ', tl) ||
                memchr(sp1 + 1, '\t', tl)) {
                *why = "The request target is malformed";
                return -1;
            }
            if (vl == 8 && !memcmp(ver, "HTTP/1.1", 8)) {
                minor = 1;
            } else if (vl == 8 && !memcmp(ver, "HTTP/1.0", 8)) {
                minor = 0;
            } else if (vl >= 5 && !memcmp(ver, "HTTP/", 5)) {
                *status = 505;
                *why = "Only HTTP/1.0 and HTTP/1.1 are served";
                return -1;
            } else {
                *why = "The HTTP version is malformed";
                return -1;
            }
            const char *q = memchr(sp1 + 1, '?', tl);
            size_t pl = q ? (size_t)(q - sp1 - 1) : tl;
            memcpy(r->path, sp1 + 1, pl);
            if (q)
                memcpy(r->query, q + 1, tl - pl - 1);
            continue;
        }
        if (line[0] == ' ' || line[0] == '\t') {
            *why = "Folded header lines are not accepted";
            return -1;
        }
        const char *colon = memchr(line, ':', len);
        if (colon == NULL || colon == line) {
            *why = "A header line is malformed";
            return -1;
        }
        size_t nlen = (size_t)(colon - line);
        for (size_t i = 0; i < nlen; i++)
            if (!is_tchar(line[i])) {
                *why = "A header name is malformed";
                return -1;
            }
        const char *v = colon + 1;
        size_t vl = len - nlen - 1;
        while (vl > 0 && (v[0] == ' ' || v[0] == '\t'))
            v++, vl--;
        while (vl > 0 && (v[vl - 1] == ' ' || v[vl - 1] == '\t'))
            vl--;
        if (header_is(line, nlen, "content-length")) {
            long n = 0;
            if (vl == 0 || vl > 9) {
                *status = vl > 9 ? 413 : 400;
                *why = vl > 9 ? "The body is too large" : "Content-Length is malformed";
                return -1;
            }
            for (size_t i = 0; i < vl; i++) {
                if (v[i] < '0' || v[i] > '9') {
                    *why = "Content-Length is malformed";
                    return -1;
                }
                n = n * 10 + (v[i] - '0');
            }
            if (content_length >= 0 && n != content_length) {
                *why = "Conflicting Content-Length headers";
                return -1;
            }
            content_length = n;
        } else if (header_is(line, nlen, "transfer-encoding")) {
            *status = 501;
            *why = "Transfer-Encoding is not supported: send a Content-Length";
            return -1;
        } else if (header_is(line, nlen, "host")) {
            hosts++;
        } else if (header_is(line, nlen, "connection")) {
            close_tok = close_tok || has_token(v, vl, "close");
            keep_tok = keep_tok || has_token(v, vl, "keep-alive");
        } else if (header_is(line, nlen, "expect")) {
            if (vl == 12 && strncasecmp(v, "100-continue", 12) == 0) {
                expect_continue = 1;
            } else {
                *status = 417;
                *why = "Only Expect: 100-continue is understood";
                return -1;
            }
        } else if (header_is(line, nlen, "authorization")) {
            if (vl >= sizeof(r->auth)) {
                *why = "The Authorization header is too long";
                return -1;
            }
            memcpy(r->auth, v, vl);
            r->auth[vl] = '\0';
        } else if (header_is(line, nlen, "x-payout-idempotency")) {
            if (vl >= sizeof(r->idem)) {
                *why = "The X-Payout-Idempotency header is too long";
                return -1;
            }
            memcpy(r->idem, v, vl);
            r->idem[vl] = '\0';
        }
    }
    if (minor == 1 && hosts != 1) {
        *why = "An HTTP/1.1 request needs exactly one Host header";
        return -1;
    }
    if (content_length > MAX_BODY) {
        *status = 413;
        *why = "The body is too large";
        return -1;
    }
    size_t cl = content_length > 0 ? (size_t)content_length : 0;
    if (c->in_len < body_at + cl) {
        if (expect_continue && !c->continue_sent) {
            c->continue_sent = 1;
            if (out_append(c, "HTTP/1.1 100 Continue\r\n\r\n", 25) != 0)
                c->dead = 1;
        }
        return 0;
    }
    r->keep_alive = minor == 1 ? !close_tok : keep_tok && !close_tok;
    r->body = buf + body_at;
    r->body_len = cl;
    r->total = body_at + cl;
    return 1;
}

/* ---- request helpers ---- */

static int hexval(char ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

/* The query parameter key, percent-decoded into out[cap]; 1 found, 0 not. */
static int query_get(const char *query, const char *key, char *out, size_t cap)
{
    size_t kl = strlen(key);
    const char *p = query;
    while (p && *p) {
        const char *amp = strchr(p, '&');
        size_t len = amp ? (size_t)(amp - p) : strlen(p);
        if (len > kl && p[kl] == '=' && !strncmp(p, key, kl)) {
            size_t o = 0;
            for (size_t i = kl + 1; i < len && o + 1 < cap; i++) {
                if (p[i] == '%' && i + 2 < len && hexval(p[i + 1]) >= 0 && hexval(p[i + 2]) >= 0) {
                    out[o++] = (char)(hexval(p[i + 1]) * 16 + hexval(p[i + 2]));
                    i += 2;
                } else {
                    out[o++] = p[i] == '+' ? ' ' : p[i];
                }
            }
            out[o] = '\0';
            return 1;
        }
        p = amp ? amp + 1 : NULL;
    }
    return 0;
}

/* The body as a JSON object (caller puts), or NULL with res answered. */
static json_object *body_object(const struct request *r, struct response *res)
{
    json_object *o = NULL;
    const char *why = NULL;
    if (r->body_len == 0) {
        bad(res, "The request body is empty: a JSON object is expected", NULL);
        return NULL;
    }
    if (js_parse(r->body, r->body_len, &o, &why) != 0 ||
        !json_object_is_type(o, json_type_object)) {
        json_object_put(o);
        bad(res, "The request body is not a JSON object", NULL);
        return NULL;
    }
    return o;
}

/* Refuses a member that is not in allowed (RazorpayX does). 0, or -1 with res answered. */
static int only_keys(json_object *o, const char *const *allowed, struct response *res)
{
    json_object_object_foreach(o, k, v)
    {
        (void)v;
        int known = 0;
        for (const char *const *a = allowed; *a && !known; a++)
            known = !strcmp(*a, k);
        if (!known) {
            char desc[160];
            snprintf(desc, sizeof(desc), "%.100s is/are not required and should not be sent", k);
            bad(res, desc, k);
            return -1;
        }
    }
    return 0;
}

static size_t utf8_chars(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += ((unsigned char)*s & 0xc0) != 0x80;
    return n;
}

/*
 * A string member: 1 present (*out borrowed from o), 0 absent or null (an error when
 * required), -1 with res answered when it is not a string, is empty or has more than max
 * characters.
 */
static int want_str(json_object *o, const char *key, size_t max, int required, const char **out,
                    struct response *res)
{
    json_object *v;
    char desc[160];
    *out = NULL;
    if (!json_object_object_get_ex(o, key, &v) || v == NULL) {
        if (!required)
            return 0;
        snprintf(desc, sizeof(desc), "The %s field is required.", key);
        bad(res, desc, key);
        return -1;
    }
    if (!json_object_is_type(v, json_type_string)) {
        snprintf(desc, sizeof(desc), "The %s must be a string.", key);
        bad(res, desc, key);
        return -1;
    }
    const char *s = json_object_get_string(v);
    if (s[0] == '\0' && required) {
        snprintf(desc, sizeof(desc), "The %s field is required.", key);
        bad(res, desc, key);
        return -1;
    }
    if (utf8_chars(s) > max) {
        snprintf(desc, sizeof(desc), "The %s may not be greater than %zu characters.", key, max);
        bad(res, desc, key);
        return -1;
    }
    for (const char *p = s; *p; p++)
        if ((unsigned char)*p < 0x20) {
            snprintf(desc, sizeof(desc), "The %s contains a control character.", key);
            bad(res, desc, key);
            return -1;
        }
    *out = s;
    return s[0] ? 1 : 0;
}

static int all_digits(const char *s, size_t min, size_t max)
{
    size_t n = strlen(s);
    if (n < min || n > max)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return 0;
    return 1;
}

/* ^[A-Z]{4}0[A-Z0-9]{6}$ */
static int ifsc_ok(const char *s)
{
    if (strlen(s) != 11 || s[4] != '0')
        return 0;
    for (int i = 0; i < 11; i++) {
        int up = s[i] >= 'A' && s[i] <= 'Z', dig = s[i] >= '0' && s[i] <= '9';
        if (i < 4 ? !up : i > 4 && !up && !dig)
            return 0;
    }
    return 1;
}

static int authorized(const struct request *r)
{
    if (strncasecmp(r->auth, "Basic ", 6) != 0)
        return 0;
    const char *b64 = r->auth + 6;
    while (*b64 == ' ')
        b64++;
    unsigned char given[384];
    size_t gl = 0;
    if (sodium_base642bin(given, sizeof(given), b64, strlen(b64), NULL, &gl, NULL,
                          sodium_base64_VARIANT_ORIGINAL) != 0)
        return 0;
    char want[300];
    int wl = snprintf(want, sizeof(want), "%s:%s", key_id, key_secret);
    int good = wl > 0 && (size_t)wl < sizeof(want) && gl == (size_t)wl &&
               sodium_memcmp(given, want, gl) == 0;
    sodium_memzero(given, sizeof(given));
    sodium_memzero(want, sizeof(want));
    return good;
}

static int email_ok(const char *email)
{
    const char *at = strchr(email, '@');
    return !(at == NULL || at == email || at[1] == '\0' || strchr(at + 1, '@') ||
             strchr(email, ' ') || !strchr(at + 1, '.'));
}

/* 8 to 15 digits, with spaces, dashes and a leading '+'. */
static int phone_ok(const char *phone)
{
    size_t digits = 0;
    for (const char *p = phone; *p; p++) {
        if (*p >= '0' && *p <= '9')
            digits++;
        else if (!((*p == '+' && p == phone) || *p == ' ' || *p == '-'))
            return 0;
    }
    return digits >= 8 && digits <= 15;
}

/* ---- the API ---- */

typedef void (*handler_fn)(const struct request *r, const char *id, struct response *res);

static void api_contact_create(const struct request *r, const char *id, struct response *res)
{
    (void)id;
    static const char *const allowed[] = {"name",         "email", "contact", "type",
                                          "reference_id", "notes", NULL};
    json_object *o = body_object(r, res);
    if (o == NULL)
        return;
    const char *name, *email, *phone, *type, *ref;
    json_object *notes;
    if (only_keys(o, allowed, res) || want_str(o, "name", 50, 1, &name, res) < 0 ||
        want_str(o, "email", 100, 0, &email, res) < 0 ||
        want_str(o, "contact", 20, 0, &phone, res) < 0 ||
        want_str(o, "type", 20, 0, &type, res) < 0 ||
        want_str(o, "reference_id", 40, 0, &ref, res) < 0)
        goto out;
    if (email != NULL && !email_ok(email)) {
        bad(res, "The email must be a valid email address.", "email");
        goto out;
    }
    if (phone != NULL && !phone_ok(phone)) {
        bad(res, "The contact format is invalid.", "contact");
        goto out;
    }
    if (type != NULL && strcmp(type, "customer") && strcmp(type, "employee") &&
        strcmp(type, "vendor") && strcmp(type, "self")) {
        bad(res, "Invalid type: the type must be customer, employee, vendor or self.", "type");
        goto out;
    }
    if (json_object_object_get_ex(o, "notes", &notes) && notes != NULL &&
        !json_object_is_type(notes, json_type_object)) {
        bad(res, "The notes must be an object.", "notes");
        goto out;
    }
    struct contact want = {0};
    copy(want.name, sizeof(want.name), name);
    copy(want.email, sizeof(want.email), email);
    copy(want.phone, sizeof(want.phone), phone);
    copy(want.type, sizeof(want.type), type);
    copy(want.reference, sizeof(want.reference), ref);
    for (size_t i = 0; i < contacts.n; i++) {
        const struct contact *c = &contacts.v[i];
        if (!strcmp(c->name, want.name) && !strcmp(c->email, want.email) &&
            !strcmp(c->phone, want.phone) && !strcmp(c->type, want.type) &&
            !strcmp(c->reference, want.reference)) {
            ok(res, 200, contact_json(c));
            goto out;
        }
    }
    struct contact *c = PUSH(contacts);
    if (c == NULL) {
        error_res(res, 500, "SERVER_ERROR", "Out of memory", NULL);
        goto out;
    }
    *c = want;
    new_id("cont_", c->id);
    c->created_at = (long long)time(NULL);
    journal("contact", contact_json(c));
    ok(res, 201, contact_json(c));
out:
    json_object_put(o);
}

static void api_contact_get(const struct request *r, const char *id, struct response *res)
{
    (void)r;
    const struct contact *c = find_contact(id);
    if (c == NULL)
        bad(res, "The id provided does not exist", "id");
    else
        ok(res, 200, contact_json(c));
}

static void api_fund_create(const struct request *r, const char *id, struct response *res)
{
    (void)id;
    static const char *const allowed[] = {"contact_id", "account_type", "bank_account", "notes",
                                          NULL};
    static const char *const bank_allowed[] = {"name", "ifsc", "account_number", NULL};
    json_object *o = body_object(r, res), *bank;
    if (o == NULL)
        return;
    const char *contact_id, *type, *holder, *ifsc, *number;
    if (only_keys(o, allowed, res) || want_str(o, "contact_id", 40, 1, &contact_id, res) < 0 ||
        want_str(o, "account_type", 20, 1, &type, res) < 0)
        goto out;
    if (find_contact(contact_id) == NULL) {
        bad(res, "The id provided does not exist", "contact_id");
        goto out;
    }
    if (strcmp(type, "bank_account") != 0) {
        bad(res,
            !strcmp(type, "vpa") || !strcmp(type, "card") || !strcmp(type, "wallet")
                ? "The sandbox supports bank_account fund accounts only"
                : "Invalid account type: the account_type must be bank_account, vpa, card or "
                  "wallet",
            "account_type");
        goto out;
    }
    if (!json_object_object_get_ex(o, "bank_account", &bank) || bank == NULL ||
        !json_object_is_type(bank, json_type_object)) {
        bad(res, "The bank account field is required when account type is bank_account.",
            "bank_account");
        goto out;
    }
    if (only_keys(bank, bank_allowed, res) || want_str(bank, "name", 120, 1, &holder, res) < 0 ||
        want_str(bank, "ifsc", 11, 1, &ifsc, res) < 0)
        goto out;
    if (!ifsc_ok(ifsc)) {
        bad(res,
            "The ifsc must be 11 characters: 4 capital letters, a zero, then 6 capital letters "
            "or digits.",
            "ifsc");
        goto out;
    }
    json_object *num;
    if (json_object_object_get_ex(bank, "account_number", &num) && num != NULL &&
        !json_object_is_type(num, json_type_string)) {
        bad(res, "The account number must be a string of 9 to 18 digits.", "account_number");
        goto out;
    }
    if (want_str(bank, "account_number", 40, 1, &number, res) < 0)
        goto out;
    if (!all_digits(number, 9, 18)) {
        bad(res, "The account number must be a string of 9 to 18 digits.", "account_number");
        goto out;
    }
    struct fund_account want = {0};
    copy(want.contact_id, sizeof(want.contact_id), contact_id);
    copy(want.holder, sizeof(want.holder), holder);
    copy(want.ifsc, sizeof(want.ifsc), ifsc);
    copy(want.last4, sizeof(want.last4), number + strlen(number) - 4);
    char keyed[64];
    snprintf(keyed, sizeof(keyed), "fa:%s:%s", ifsc, number);
    gateway_sign(key_secret, keyed, strlen(keyed), want.digest);
    sodium_memzero(keyed, sizeof(keyed));
    for (size_t i = 0; i < funds.n; i++) {
        const struct fund_account *f = &funds.v[i];
        if (!strcmp(f->contact_id, want.contact_id) && !strcmp(f->digest, want.digest) &&
            !strcmp(f->holder, want.holder)) {
            ok(res, 200, fund_json(f, number));
            goto out;
        }
    }
    struct fund_account *f = PUSH(funds);
    if (f == NULL) {
        error_res(res, 500, "SERVER_ERROR", "Out of memory", NULL);
        goto out;
    }
    *f = want;
    new_id("fa_", f->id);
    f->created_at = (long long)time(NULL);
    journal("fund_account", fund_state_json(f));
    ok(res, 201, fund_json(f, number));
out:
    json_object_put(o);
}

static void api_fund_get(const struct request *r, const char *id, struct response *res)
{
    (void)r;
    const struct fund_account *f = find_fund(id);
    if (f == NULL)
        bad(res, "The id provided does not exist", "id");
    else
        ok(res, 200, fund_json(f, NULL));
}

static void api_payout_create(const struct request *r, const char *id, struct response *res)
{
    (void)id;
    static const char *const allowed[] = {
        "account_number",       "fund_account_id", "amount",    "currency", "mode", "purpose",
        "queue_if_low_balance", "reference_id",    "narration", "notes",    NULL};
    if (r->idem[0] == '\0') {
        bad(res, "The X-Payout-Idempotency header is required for payouts", "X-Payout-Idempotency");
        return;
    }
    for (const char *p = r->idem; *p; p++)
        if ((unsigned char)*p < 0x21 || (unsigned char)*p > 0x7e) {
            bad(res, "The X-Payout-Idempotency header must be printable ASCII without spaces",
                "X-Payout-Idempotency");
            return;
        }
    if (strlen(r->idem) >= sizeof(((struct payout *)0)->idem)) {
        bad(res, "The X-Payout-Idempotency header may not be greater than 128 characters",
            "X-Payout-Idempotency");
        return;
    }
    json_object *o = body_object(r, res), *v;
    if (o == NULL)
        return;
    const char *account, *fa_id, *currency, *mode, *purpose, *ref, *narration;
    int64_t amount = 0;
    int queue = 0;
    json_object *notes = NULL;
    if (only_keys(o, allowed, res) || want_str(o, "account_number", 40, 1, &account, res) < 0 ||
        want_str(o, "fund_account_id", 40, 1, &fa_id, res) < 0)
        goto out;
    if (!json_object_object_get_ex(o, "amount", &v) || v == NULL) {
        bad(res, "The amount field is required.", "amount");
        goto out;
    }
    if (!json_object_is_type(v, json_type_int) || json_object_get_int64(v) < 100 ||
        json_object_get_int64(v) > 100000000000LL) {
        bad(res,
            "The amount must be an integer in paise, at least 100 (INR 1.00) and at most "
            "100000000000.",
            "amount");
        goto out;
    }
    amount = json_object_get_int64(v);
    if (want_str(o, "currency", 3, 1, &currency, res) < 0 ||
        want_str(o, "mode", 10, 1, &mode, res) < 0 ||
        want_str(o, "purpose", 30, 1, &purpose, res) < 0 ||
        want_str(o, "reference_id", 40, 0, &ref, res) < 0 ||
        want_str(o, "narration", 30, 0, &narration, res) < 0)
        goto out;
    if (json_object_object_get_ex(o, "queue_if_low_balance", &v) && v != NULL) {
        if (!json_object_is_type(v, json_type_boolean)) {
            bad(res, "The queue if low balance field must be true or false.",
                "queue_if_low_balance");
            goto out;
        }
        queue = json_object_get_boolean(v);
    }
    if (json_object_object_get_ex(o, "notes", &notes) && notes != NULL &&
        (!json_object_is_type(notes, json_type_object) || json_object_object_length(notes) > 15 ||
         strlen(serialise(notes)) >= sizeof(((struct payout *)0)->notes))) {
        bad(res, "The notes must be an object of at most 15 short key-value pairs.", "notes");
        goto out;
    }
    if (strcmp(account, source_account) != 0) {
        bad(res, "The account number is invalid: it is not a RazorpayX account of yours.",
            "account_number");
        goto out;
    }
    if (find_fund(fa_id) == NULL) {
        bad(res, "The id provided does not exist", "fund_account_id");
        goto out;
    }
    if (strcmp(currency, "INR") != 0) {
        bad(res, "The currency must be INR.", "currency");
        goto out;
    }
    if (!strcmp(mode, "UPI")) {
        bad(res, "UPI payouts need a vpa fund account; this fund account is a bank account.",
            "mode");
        goto out;
    }
    if (strcmp(mode, "IMPS") && strcmp(mode, "NEFT") && strcmp(mode, "RTGS")) {
        bad(res, "Invalid mode: the mode must be IMPS, NEFT, RTGS or UPI.", "mode");
        goto out;
    }
    if (!strcmp(mode, "IMPS") && amount > 50000000) {
        bad(res, "The amount exceeds the IMPS limit of INR 5,00,000 per payout.", "amount");
        goto out;
    }
    if (!strcmp(mode, "RTGS") && amount < 20000000) {
        bad(res, "RTGS payouts must be at least INR 2,00,000.", "amount");
        goto out;
    }
    for (const char *p = narration; p && *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == ' ')) {
            bad(res, "The narration may contain only letters, digits and spaces.", "narration");
            goto out;
        }
    /* The request's canonical form: the same payout asked twice is the same request whatever
     * the order of its members. */
    json_object *canon = json_object_new_object();
    json_object_object_add(canon, "account_number", json_object_new_string(account));
    json_object_object_add(canon, "fund_account_id", json_object_new_string(fa_id));
    json_object_object_add(canon, "amount", json_object_new_int64(amount));
    json_object_object_add(canon, "currency", json_object_new_string(currency));
    json_object_object_add(canon, "mode", json_object_new_string(mode));
    json_object_object_add(canon, "purpose", json_object_new_string(purpose));
    json_object_object_add(canon, "queue_if_low_balance", json_object_new_boolean(queue));
    json_object_object_add(canon, "reference_id", str_or_null(ref));
    json_object_object_add(canon, "narration", str_or_null(narration));
    json_object_object_add(canon, "notes", notes ? json_object_get(notes) : NULL);
    char digest[65];
    const char *cs = serialise(canon);
    sha256_hex(cs, strlen(cs), digest);
    json_object_put(canon);
    for (size_t i = 0; i < payouts.n; i++) {
        if (strcmp(payouts.v[i].idem, r->idem) != 0)
            continue;
        if (strcmp(payouts.v[i].digest, digest) != 0)
            bad(res, "Different request body sent for the same Idempotency Header",
                "X-Payout-Idempotency");
        else
            ok(res, 200, payout_json(&payouts.v[i]));
        goto out;
    }
    struct payout *p = PUSH(payouts);
    if (p == NULL) {
        error_res(res, 500, "SERVER_ERROR", "Out of memory", NULL);
        goto out;
    }
    new_id("pout_", p->id);
    copy(p->fund_account_id, sizeof(p->fund_account_id), fa_id);
    p->amount = amount;
    copy(p->currency, sizeof(p->currency), currency);
    copy(p->mode, sizeof(p->mode), mode);
    copy(p->purpose, sizeof(p->purpose), purpose);
    copy(p->reference, sizeof(p->reference), ref);
    copy(p->narration, sizeof(p->narration), narration);
    copy(p->notes, sizeof(p->notes), notes ? serialise(notes) : "");
    copy(p->status, sizeof(p->status), "queued");
    set_details(p, "payout_queued", "Payout is queued and will be processed shortly.", "gateway");
    p->created_at = (long long)time(NULL);
    copy(p->idem, sizeof(p->idem), r->idem);
    copy(p->digest, sizeof(p->digest), digest);
    /* How it ends: the next outcome posted, else processed. */
    copy(p->plan, sizeof(p->plan), "processed");
    if (next_outcome.what[0]) {
        if (!strcmp(next_outcome.what, "hold"))
            p->hold = 1;
        else
            copy(p->plan, sizeof(p->plan), next_outcome.what);
        copy(p->plan_reason, sizeof(p->plan_reason), next_outcome.reason);
        memset(&next_outcome, 0, sizeof(next_outcome));
    }
    long long now = mono_ms();
    emit(p, "payout.queued", now);
    schedule(p, now);
    journal("payout", payout_state_json(p));
    log_msg(LOG_INFO, "gateway-sandbox: payout %s queued", p->id);
    ok(res, 200, payout_json(p));
out:
    json_object_put(o);
}

static void api_payout_get(const struct request *r, const char *id, struct response *res)
{
    (void)r;
    const struct payout *p = find_payout(id);
    if (p == NULL)
        bad(res, "The id provided does not exist", "id");
    else
        ok(res, 200, payout_json(p));
}

/* GET /v1/payouts?account_number=A[&reference_id=R][&fund_account_id=F][&count=N][&skip=S],
 * newest first. */
static void api_payout_list(const struct request *r, const char *id, struct response *res)
{
    (void)id;
    char account[64], ref[64], fa[64], num[16];
    if (!query_get(r->query, "account_number", account, sizeof(account)) || !account[0]) {
        bad(res, "The account number field is required.", "account_number");
        return;
    }
    if (strcmp(account, source_account) != 0) {
        bad(res, "The account number is invalid: it is not a RazorpayX account of yours.",
            "account_number");
        return;
    }
    int has_ref = query_get(r->query, "reference_id", ref, sizeof(ref));
    int has_fa = query_get(r->query, "fund_account_id", fa, sizeof(fa));
    long count = 10, skip = 0;
    if (query_get(r->query, "count", num, sizeof(num)))
        count = atol(num);
    if (query_get(r->query, "skip", num, sizeof(num)))
        skip = atol(num);
    if (count < 1 || count > 100 || skip < 0) {
        bad(res, "The count must be between 1 and 100, and skip at least 0.", "count");
        return;
    }
    json_object *items = json_object_new_array();
    long seen = 0;
    for (size_t i = payouts.n; i > 0 && (long)json_object_array_length(items) < count; i--) {
        const struct payout *p = &payouts.v[i - 1];
        if ((has_ref && strcmp(p->reference, ref)) || (has_fa && strcmp(p->fund_account_id, fa)))
            continue;
        if (seen++ < skip)
            continue;
        json_object_array_add(items, payout_json(p));
    }
    json_object *o = json_object_new_object();
    json_object_object_add(o, "entity", json_object_new_string("collection"));
    json_object_object_add(o, "count", json_object_new_int((int)json_object_array_length(items)));
    json_object_object_add(o, "items", items);
    ok(res, 200, o);
}

/* ---- collection: payment links, payments, refunds ---- */

enum {
    LINK_MIN_AHEAD_S = 15 * 60,     /* expire_by at least this far ahead (Razorpay's rule) */
    LINK_DEFAULT_S = 7 * 24 * 3600, /* expire_by when none is given: a week */
    LINK_MAX_AHEAD_S = 2 * 366 * 24 * 3600, /* and at most this far ahead */
};

static struct plink *find_link(const char *id)
{
    for (size_t i = 0; i < links.n; i++)
        if (!strcmp(links.v[i].id, id))
            return &links.v[i];
    return NULL;
}

static struct payment *find_payment(const char *id)
{
    for (size_t i = 0; i < payments.n; i++)
        if (!strcmp(payments.v[i].id, id))
            return &payments.v[i];
    return NULL;
}

/* A serialised notes object parsed back (an empty object when none). */
static json_object *notes_of(const char *serialised)
{
    json_object *notes = NULL;
    const char *why;
    if (serialised[0] == '\0' || js_parse(serialised, strlen(serialised), &notes, &why) != 0 ||
        !json_object_is_type(notes, json_type_object)) {
        json_object_put(notes);
        notes = json_object_new_object();
    }
    return notes;
}

static json_object *wrap_entity(json_object *entity)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "entity", entity);
    return o;
}

static void short_url(const struct plink *l, char *out, size_t cap)
{
    snprintf(out, cap, "http://127.0.0.1:%ld/pay/%s", listen_port, l->id);
}

/* The payment as Razorpay's API and webhooks show it. */
static json_object *payment_json(const struct payment *y)
{
    const struct plink *l = find_link(y->link_id);
    json_object *o = json_object_new_object();
    json_object_object_add(o, "id", json_object_new_string(y->id));
    json_object_object_add(o, "entity", json_object_new_string("payment"));
    json_object_object_add(o, "amount", json_object_new_int64(y->amount));
    json_object_object_add(o, "currency", json_object_new_string(y->currency));
    json_object_object_add(o, "status", json_object_new_string(y->status));
    json_object_object_add(o, "order_id", NULL);
    json_object_object_add(o, "invoice_id", NULL);
    json_object_object_add(o, "international", json_object_new_boolean(0));
    json_object_object_add(o, "method", json_object_new_string(y->method));
    json_object_object_add(o, "amount_refunded", json_object_new_int64(y->refunded));
    json_object_object_add(
        o, "refund_status",
        y->refunded == 0 ? NULL
                         : json_object_new_string(y->refunded < y->amount ? "partial" : "full"));
    json_object_object_add(o, "captured", json_object_new_boolean(1));
    json_object_object_add(o, "description", l ? str_or_null(l->description) : NULL);
    json_object_object_add(o, "vpa",
                           str_or_null(strcmp(y->method, "upi") ? "" : "success@razorpay"));
    json_object_object_add(o, "email", l ? str_or_null(l->cust_email) : NULL);
    json_object_object_add(o, "contact", l ? str_or_null(l->cust_phone) : NULL);
    json_object_object_add(o, "notes", notes_of(y->notes));
    json_object_object_add(o, "fee", json_object_new_int(0));
    json_object_object_add(o, "tax", json_object_new_int(0));
    json_object_object_add(o, "error_code", NULL);
    json_object_object_add(o, "error_description", NULL);
    json_object_object_add(o, "created_at", json_object_new_int64(y->created_at));
    return o;
}

/* The link as Razorpay's API and webhooks show it. */
static json_object *link_json(const struct plink *l)
{
    char url[128];
    short_url(l, url, sizeof(url));
    json_object *o = json_object_new_object();
    json_object_object_add(o, "id", json_object_new_string(l->id));
    json_object_object_add(o, "amount", json_object_new_int64(l->amount));
    json_object_object_add(o, "amount_paid", json_object_new_int64(l->amount_paid));
    json_object_object_add(o, "currency", json_object_new_string(l->currency));
    json_object_object_add(o, "accept_partial", json_object_new_boolean(l->accept_partial));
    json_object_object_add(o, "first_min_partial_amount", json_object_new_int(0));
    json_object_object_add(o, "description", json_object_new_string(l->description));
    json_object_object_add(o, "reference_id", json_object_new_string(l->reference));
    json_object_object_add(o, "status", json_object_new_string(l->status));
    json_object_object_add(o, "short_url", json_object_new_string(url));
    json_object_object_add(o, "expire_by", json_object_new_int64(l->expire_by));
    json_object_object_add(o, "expired_at", json_object_new_int64(l->expired_at));
    json_object_object_add(o, "cancelled_at", json_object_new_int64(l->cancelled_at));
    json_object *c = json_object_new_object();
    json_object_object_add(c, "name", str_or_null(l->cust_name));
    json_object_object_add(c, "email", str_or_null(l->cust_email));
    json_object_object_add(c, "contact", str_or_null(l->cust_phone));
    json_object_object_add(o, "customer", c);
    json_object *n = json_object_new_object();
    json_object_object_add(n, "sms", json_object_new_boolean(l->notify_sms));
    json_object_object_add(n, "email", json_object_new_boolean(l->notify_email));
    json_object_object_add(o, "notify", n);
    json_object_object_add(o, "notes", notes_of(l->notes));
    json_object *pays = NULL;
    for (size_t i = 0; i < payments.n; i++) {
        const struct payment *y = &payments.v[i];
        if (strcmp(y->link_id, l->id) != 0)
            continue;
        if (pays == NULL)
            pays = json_object_new_array();
        json_object *p = json_object_new_object();
        json_object_object_add(p, "payment_id", json_object_new_string(y->id));
        json_object_object_add(p, "amount", json_object_new_int64(y->amount));
        json_object_object_add(p, "method", json_object_new_string(y->method));
        json_object_object_add(p, "status", json_object_new_string(y->status));
        json_object_object_add(p, "created_at", json_object_new_int64(y->created_at));
        json_object_array_add(pays, p);
    }
    json_object_object_add(o, "payments", pays);
    json_object_object_add(o, "reminder_enable", json_object_new_boolean(0));
    json_object_object_add(o, "upi_link", json_object_new_boolean(0));
    json_object_object_add(o, "user_id", json_object_new_string(""));
    json_object_object_add(o, "created_at", json_object_new_int64(l->created_at));
    json_object_object_add(o, "updated_at", json_object_new_int64(l->updated_at));
    return o;
}

static json_object *refund_json(const struct refund *f)
{
    const struct payment *y = find_payment(f->payment_id);
    json_object *o = json_object_new_object();
    json_object_object_add(o, "id", json_object_new_string(f->id));
    json_object_object_add(o, "entity", json_object_new_string("refund"));
    json_object_object_add(o, "amount", json_object_new_int64(f->amount));
    json_object_object_add(o, "currency", json_object_new_string(f->currency));
    json_object_object_add(o, "payment_id", json_object_new_string(f->payment_id));
    json_object_object_add(o, "notes", notes_of(y ? y->notes : ""));
    json_object_object_add(o, "receipt", NULL);
    json_object_object_add(o, "batch_id", NULL);
    json_object_object_add(o, "status", json_object_new_string("processed"));
    json_object_object_add(o, "speed_processed", json_object_new_string("normal"));
    json_object_object_add(o, "speed_requested", json_object_new_string("normal"));
    json_object_object_add(o, "created_at", json_object_new_int64(f->created_at));
    return o;
}

/* The journal's records: flat, with the serialised notes as they are kept. */
static json_object *link_state_json(const struct plink *l)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "id", json_object_new_string(l->id));
    json_object_object_add(o, "amount", json_object_new_int64(l->amount));
    json_object_object_add(o, "amount_paid", json_object_new_int64(l->amount_paid));
    json_object_object_add(o, "currency", json_object_new_string(l->currency));
    json_object_object_add(o, "accept_partial", json_object_new_boolean(l->accept_partial));
    json_object_object_add(o, "description", json_object_new_string(l->description));
    json_object_object_add(o, "reference_id", json_object_new_string(l->reference));
    json_object_object_add(o, "status", json_object_new_string(l->status));
    json_object_object_add(o, "notes", json_object_new_string(l->notes));
    json_object_object_add(o, "name", json_object_new_string(l->cust_name));
    json_object_object_add(o, "email", json_object_new_string(l->cust_email));
    json_object_object_add(o, "contact", json_object_new_string(l->cust_phone));
    json_object_object_add(o, "notify_sms", json_object_new_boolean(l->notify_sms));
    json_object_object_add(o, "notify_email", json_object_new_boolean(l->notify_email));
    json_object_object_add(o, "expire_by", json_object_new_int64(l->expire_by));
    json_object_object_add(o, "expired_at", json_object_new_int64(l->expired_at));
    json_object_object_add(o, "cancelled_at", json_object_new_int64(l->cancelled_at));
    json_object_object_add(o, "created_at", json_object_new_int64(l->created_at));
    json_object_object_add(o, "updated_at", json_object_new_int64(l->updated_at));
    return o;
}

static int take_bool(json_object *o, const char *key)
{
    json_object *v;
    return json_object_object_get_ex(o, key, &v) && json_object_get_boolean(v);
}

static void link_from_state(struct plink *l, json_object *o)
{
    take_str(o, "id", l->id, sizeof(l->id));
    l->amount = take_int(o, "amount");
    l->amount_paid = take_int(o, "amount_paid");
    take_str(o, "currency", l->currency, sizeof(l->currency));
    l->accept_partial = take_bool(o, "accept_partial");
    take_str(o, "description", l->description, sizeof(l->description));
    take_str(o, "reference_id", l->reference, sizeof(l->reference));
    take_str(o, "status", l->status, sizeof(l->status));
    take_str(o, "notes", l->notes, sizeof(l->notes));
    take_str(o, "name", l->cust_name, sizeof(l->cust_name));
    take_str(o, "email", l->cust_email, sizeof(l->cust_email));
    take_str(o, "contact", l->cust_phone, sizeof(l->cust_phone));
    l->notify_sms = take_bool(o, "notify_sms");
    l->notify_email = take_bool(o, "notify_email");
    l->expire_by = take_int(o, "expire_by");
    l->expired_at = take_int(o, "expired_at");
    l->cancelled_at = take_int(o, "cancelled_at");
    l->created_at = take_int(o, "created_at");
    l->updated_at = take_int(o, "updated_at");
}

static json_object *payment_state_json(const struct payment *y)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "id", json_object_new_string(y->id));
    json_object_object_add(o, "link_id", json_object_new_string(y->link_id));
    json_object_object_add(o, "amount", json_object_new_int64(y->amount));
    json_object_object_add(o, "refunded", json_object_new_int64(y->refunded));
    json_object_object_add(o, "currency", json_object_new_string(y->currency));
    json_object_object_add(o, "method", json_object_new_string(y->method));
    json_object_object_add(o, "status", json_object_new_string(y->status));
    json_object_object_add(o, "notes", json_object_new_string(y->notes));
    json_object_object_add(o, "created_at", json_object_new_int64(y->created_at));
    return o;
}

static void payment_from_state(struct payment *y, json_object *o)
{
    take_str(o, "id", y->id, sizeof(y->id));
    take_str(o, "link_id", y->link_id, sizeof(y->link_id));
    y->amount = take_int(o, "amount");
    y->refunded = take_int(o, "refunded");
    take_str(o, "currency", y->currency, sizeof(y->currency));
    take_str(o, "method", y->method, sizeof(y->method));
    take_str(o, "status", y->status, sizeof(y->status));
    take_str(o, "notes", y->notes, sizeof(y->notes));
    y->created_at = take_int(o, "created_at");
}

static json_object *refund_state_json(const struct refund *f)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "id", json_object_new_string(f->id));
    json_object_object_add(o, "payment_id", json_object_new_string(f->payment_id));
    json_object_object_add(o, "amount", json_object_new_int64(f->amount));
    json_object_object_add(o, "currency", json_object_new_string(f->currency));
    json_object_object_add(o, "created_at", json_object_new_int64(f->created_at));
    return o;
}

static void refund_from_state(struct refund *f, json_object *o)
{
    take_str(o, "id", f->id, sizeof(f->id));
    take_str(o, "payment_id", f->payment_id, sizeof(f->payment_id));
    f->amount = take_int(o, "amount");
    take_str(o, "currency", f->currency, sizeof(f->currency));
    f->created_at = take_int(o, "created_at");
}

/* A collection event, k-th of its action (so the action's events go out in order, 40 ms apart,
 * unless shuffle holds them until the action's end). */
static void emit_collection(const char *name, const char *const *contains, json_object *payload,
                            const char *link_id, const char *payment_id, const char *group, int k,
                            long long now)
{
    const struct about ab = {
        .payout_id = "", .link_id = link_id, .payment_id = payment_id, .group = group};
    (void)new_event(name, contains, payload, &ab, set.shuffle, now + (long long)k * 40);
}

static void link_save(struct plink *l)
{
    l->updated_at = (long long)time(NULL);
    journal("payment_link", link_state_json(l));
}

static int link_open(const struct plink *l)
{
    return !strcmp(l->status, "created") || !strcmp(l->status, "partially_paid");
}

/* The link ends expired or cancelled, with its event. */
static void link_end(struct plink *l, const char *status, long long now)
{
    static const char *const contains[] = {"payment_link", NULL};
    copy(l->status, sizeof(l->status), status);
    if (!strcmp(status, "expired"))
        l->expired_at = (long long)time(NULL);
    else
        l->cancelled_at = (long long)time(NULL);
    link_save(l);
    char name[40];
    snprintf(name, sizeof(name), "payment_link.%s", status);
    json_object *payload = json_object_new_object();
    json_object_object_add(payload, "payment_link", wrap_entity(link_json(l)));
    emit_collection(name, contains, payload, l->id, "", l->id, 0, now);
    if (set.shuffle)
        release_held(l->id, now);
    log_msg(LOG_INFO, "gateway-sandbox: payment link %s %s", l->id, l->status);
}

/* Links whose expire_by has passed expire (run from the loop, and before a payment). */
static void expire_due_links(long long now)
{
    long long t = (long long)time(NULL);
    for (size_t i = 0; i < links.n; i++)
        if (link_open(&links.v[i]) && links.v[i].expire_by != 0 && t >= links.v[i].expire_by)
            link_end(&links.v[i], "expired", now);
}

static const char *link_closed_why(const struct plink *l)
{
    if (!strcmp(l->status, "paid"))
        return "The payment link has been paid already";
    if (!strcmp(l->status, "expired"))
        return "The payment link has expired";
    if (!strcmp(l->status, "cancelled"))
        return "The payment link has been cancelled";
    return "The payment link cannot be paid";
}

/*
 * Pays amount (0: what remains) by method on l: the payment captured, then payment.captured
 * and payment_link.paid or partially_paid. The payment, or NULL with *why and *field saying
 * what is wrong.
 */
static struct payment *pay_link(struct plink *l, int64_t amount, const char *method,
                                const char **why, const char **field)
{
    static const char *const cap_contains[] = {"payment", NULL};
    static const char *const link_contains[] = {"payment_link", "payment", NULL};
    long long now = mono_ms();
    *field = NULL;
    expire_due_links(now);
    if (!link_open(l)) {
        *why = link_closed_why(l);
        *field = "id";
        return NULL;
    }
    int64_t left = l->amount - l->amount_paid;
    if (amount == 0)
        amount = left;
    *field = "amount";
    if (amount > left) {
        *why = "The amount exceeds what remains to be paid on the payment link";
        return NULL;
    }
    if (amount < left && !l->accept_partial) {
        *why = "The payment link does not accept partial payments: pay what remains";
        return NULL;
    }
    /* The payment's notes: the link's, with its reference_id as reference unless they have
     * one (the link's notes are < 1 KB serialised, so this fits). */
    json_object *notes = notes_of(l->notes), *had;
    if (!json_object_object_get_ex(notes, "reference", &had))
        json_object_object_add(notes, "reference", json_object_new_string(l->reference));
    const char *ns = serialise(notes);
    struct payment *y = strlen(ns) < sizeof(y->notes) ? PUSH(payments) : NULL;
    if (y == NULL) {
        json_object_put(notes);
        *why = "The sandbox could not record the payment";
        *field = NULL;
        return NULL;
    }
    new_id("pay_", y->id);
    copy(y->notes, sizeof(y->notes), ns);
    json_object_put(notes);
    copy(y->link_id, sizeof(y->link_id), l->id);
    y->amount = amount;
    copy(y->currency, sizeof(y->currency), l->currency);
    copy(y->method, sizeof(y->method), method);
    copy(y->status, sizeof(y->status), "captured");
    y->created_at = (long long)time(NULL);
    l->amount_paid += amount;
    copy(l->status, sizeof(l->status), l->amount_paid == l->amount ? "paid" : "partially_paid");
    journal("payment", payment_state_json(y));
    link_save(l);
    json_object *p1 = json_object_new_object();
    json_object_object_add(p1, "payment", wrap_entity(payment_json(y)));
    emit_collection("payment.captured", cap_contains, p1, l->id, y->id, y->id, 0, now);
    json_object *p2 = json_object_new_object();
    json_object_object_add(p2, "payment_link", wrap_entity(link_json(l)));
    json_object_object_add(p2, "payment", wrap_entity(payment_json(y)));
    emit_collection(!strcmp(l->status, "paid") ? "payment_link.paid"
                                               : "payment_link.partially_paid",
                    link_contains, p2, l->id, y->id, y->id, 1, now);
    if (set.shuffle)
        release_held(y->id, now);
    log_msg(LOG_INFO, "gateway-sandbox: payment %s of %lld on %s (%s)", y->id, (long long)amount,
            l->id, l->status);
    return y;
}

/* Refunds amount (0: what is not refunded yet) of y: refund.processed. NULL with *why. */
static struct refund *refund_payment(struct payment *y, int64_t amount, const char **why)
{
    static const char *const contains[] = {"refund", "payment", NULL};
    int64_t left = y->amount - y->refunded;
    if (left <= 0) {
        *why = "The payment has been fully refunded already";
        return NULL;
    }
    if (amount == 0)
        amount = left;
    if (amount > left) {
        *why = "The refund amount exceeds what is captured and not refunded yet";
        return NULL;
    }
    struct refund *f = PUSH(refunds);
    if (f == NULL) {
        *why = "The sandbox could not record the refund";
        return NULL;
    }
    new_id("rfnd_", f->id);
    copy(f->payment_id, sizeof(f->payment_id), y->id);
    f->amount = amount;
    copy(f->currency, sizeof(f->currency), y->currency);
    f->created_at = (long long)time(NULL);
    y->refunded += amount;
    if (y->refunded == y->amount)
        copy(y->status, sizeof(y->status), "refunded");
    journal("refund", refund_state_json(f));
    journal("payment", payment_state_json(y));
    long long now = mono_ms();
    json_object *payload = json_object_new_object();
    json_object_object_add(payload, "refund", wrap_entity(refund_json(f)));
    json_object_object_add(payload, "payment", wrap_entity(payment_json(y)));
    emit_collection("refund.processed", contains, payload, y->link_id, y->id, f->id, 0, now);
    if (set.shuffle)
        release_held(f->id, now);
    log_msg(LOG_INFO, "gateway-sandbox: refund %s of %lld on %s", f->id, (long long)amount, y->id);
    return f;
}

/* An optional whole amount member (>= 1): 1 set, 0 absent, -1 with res answered. */
static int want_amount(json_object *o, int64_t *out, struct response *res)
{
    json_object *v;
    *out = 0;
    if (!json_object_object_get_ex(o, "amount", &v) || v == NULL)
        return 0;
    if (!json_object_is_type(v, json_type_int) || json_object_get_int64(v) < 1 ||
        json_object_get_int64(v) > 100000000000LL) {
        bad(res, "The amount must be an integer in paise, at least 1 and at most 100000000000.",
            "amount");
        return -1;
    }
    *out = json_object_get_int64(v);
    return 1;
}

static int method_ok(const char *m)
{
    return !strcmp(m, "upi") || !strcmp(m, "card") || !strcmp(m, "netbanking") ||
           !strcmp(m, "wallet");
}

/* notes: an object of at most 15 string values of at most 256 characters, keys of at most 40,
 * kept serialised in dst[cap]. 0, or -1 with res answered. */
static int want_notes(json_object *o, char *dst, size_t cap, struct response *res)
{
    json_object *notes;
    dst[0] = '\0';
    if (!json_object_object_get_ex(o, "notes", &notes) || notes == NULL)
        return 0;
    int good =
        json_object_is_type(notes, json_type_object) && json_object_object_length(notes) <= 15;
    if (good) {
        json_object_object_foreach(notes, k, v)
        {
            good = good && strlen(k) > 0 && utf8_chars(k) <= 40 && v != NULL &&
                   json_object_is_type(v, json_type_string) &&
                   utf8_chars(json_object_get_string(v)) <= 256;
        }
    }
    if (!good || strlen(serialise(notes)) >= cap) {
        bad(res,
            "The notes must be an object of at most 15 string values (256 characters each), "
            "under 1000 bytes in all.",
            "notes");
        return -1;
    }
    copy(dst, cap, serialise(notes));
    return 0;
}

static void api_link_create(const struct request *r, const char *id, struct response *res)
{
    (void)id;
    static const char *const allowed[] = {
        "amount",    "currency", "accept_partial", "description", "reference_id",
        "expire_by", "customer", "notify",         "notes",       NULL};
    static const char *const cust_allowed[] = {"name", "email", "contact", NULL};
    static const char *const notify_allowed[] = {"sms", "email", NULL};
    json_object *o = body_object(r, res), *v, *cust, *notify;
    if (o == NULL)
        return;
    struct plink want = {0};
    const char *currency, *desc, *ref, *name, *email, *phone;
    long long now_s = (long long)time(NULL);
    if (only_keys(o, allowed, res))
        goto out;
    if (!json_object_object_get_ex(o, "amount", &v) || v == NULL) {
        bad(res, "The amount field is required.", "amount");
        goto out;
    }
    if (want_amount(o, &want.amount, res) < 0 ||
        want_str(o, "currency", 3, 0, &currency, res) < 0 ||
        want_str(o, "description", 255, 0, &desc, res) < 0 ||
        want_str(o, "reference_id", 40, 1, &ref, res) < 0)
        goto out;
    if (currency != NULL && strcmp(currency, "INR") != 0) {
        bad(res, "The currency must be INR.", "currency");
        goto out;
    }
    if (json_object_object_get_ex(o, "accept_partial", &v) && v != NULL) {
        if (!json_object_is_type(v, json_type_boolean)) {
            bad(res, "The accept partial field must be true or false.", "accept_partial");
            goto out;
        }
        want.accept_partial = json_object_get_boolean(v);
    }
    want.expire_by = now_s + LINK_DEFAULT_S;
    if (json_object_object_get_ex(o, "expire_by", &v) && v != NULL) {
        if (!json_object_is_type(v, json_type_int) ||
            json_object_get_int64(v) < now_s + LINK_MIN_AHEAD_S ||
            json_object_get_int64(v) > now_s + LINK_MAX_AHEAD_S) {
            bad(res,
                "The expire by must be a unix time at least 15 minutes and at most 2 years "
                "ahead.",
                "expire_by");
            goto out;
        }
        want.expire_by = (long long)json_object_get_int64(v);
    }
    if (json_object_object_get_ex(o, "customer", &cust) && cust != NULL) {
        if (!json_object_is_type(cust, json_type_object)) {
            bad(res, "The customer must be an object.", "customer");
            goto out;
        }
        if (only_keys(cust, cust_allowed, res) || want_str(cust, "name", 100, 0, &name, res) < 0 ||
            want_str(cust, "email", 100, 0, &email, res) < 0 ||
            want_str(cust, "contact", 20, 0, &phone, res) < 0)
            goto out;
        if (email != NULL && !email_ok(email)) {
            bad(res, "The email must be a valid email address.", "email");
            goto out;
        }
        if (phone != NULL && !phone_ok(phone)) {
            bad(res, "The contact format is invalid.", "contact");
            goto out;
        }
        copy(want.cust_name, sizeof(want.cust_name), name);
        copy(want.cust_email, sizeof(want.cust_email), email);
        copy(want.cust_phone, sizeof(want.cust_phone), phone);
    }
    if (json_object_object_get_ex(o, "notify", &notify) && notify != NULL) {
        if (!json_object_is_type(notify, json_type_object) ||
            only_keys(notify, notify_allowed, res))
            goto notify_bad;
        json_object_object_foreach(notify, k, nv)
        {
            if (nv == NULL || !json_object_is_type(nv, json_type_boolean))
                goto notify_bad;
            if (!strcmp(k, "sms"))
                want.notify_sms = json_object_get_boolean(nv);
            else
                want.notify_email = json_object_get_boolean(nv);
        }
    }
    if (want_notes(o, want.notes, sizeof(want.notes), res) < 0)
        goto out;
    for (size_t i = 0; i < links.n; i++)
        if (!strcmp(links.v[i].reference, ref)) {
            bad(res, "reference_id already exists", "reference_id");
            goto out;
        }
    struct plink *l = PUSH(links);
    if (l == NULL) {
        error_res(res, 500, "SERVER_ERROR", "Out of memory", NULL);
        goto out;
    }
    *l = want;
    new_id("plink_", l->id);
    copy(l->currency, sizeof(l->currency), "INR");
    copy(l->description, sizeof(l->description), desc);
    copy(l->reference, sizeof(l->reference), ref);
    copy(l->status, sizeof(l->status), "created");
    l->created_at = now_s;
    link_save(l);
    log_msg(LOG_INFO, "gateway-sandbox: payment link %s created", l->id);
    ok(res, 200, link_json(l));
    goto out;
notify_bad:
    if (res->status != 400)
        bad(res, "The notify must be an object of sms and email, true or false.", "notify");
out:
    json_object_put(o);
}

static void api_link_get(const struct request *r, const char *id, struct response *res)
{
    (void)r;
    struct plink *l = find_link(id);
    if (l == NULL) {
        bad(res, "The id provided does not exist", "id");
        return;
    }
    expire_due_links(mono_ms());
    ok(res, 200, link_json(l));
}

/* POST /v1/payment_links/{id}/cancel: a link not paid, expired or cancelled ends cancelled. */
static void api_link_cancel(const struct request *r, const char *id, struct response *res)
{
    (void)r;
    struct plink *l = find_link(id);
    if (l == NULL) {
        bad(res, "The id provided does not exist", "id");
        return;
    }
    long long now = mono_ms();
    expire_due_links(now);
    if (!link_open(l)) {
        bad(res, link_closed_why(l), "id");
        return;
    }
    link_end(l, "cancelled", now);
    ok(res, 200, link_json(l));
}

static void api_payment_get(const struct request *r, const char *id, struct response *res)
{
    (void)r;
    const struct payment *y = find_payment(id);
    if (y == NULL)
        bad(res, "The id provided does not exist", "id");
    else
        ok(res, 200, payment_json(y));
}

/* The body as a JSON object, an empty one when there is none (caller puts); NULL answered. */
static json_object *body_object_opt(const struct request *r, struct response *res)
{
    return r->body_len == 0 ? json_object_new_object() : body_object(r, res);
}

/* POST /sandbox/payment_links/{id}/pay {"amount"?, "method"?}: the borrower pays. */
static void ctl_link_pay(const struct request *r, const char *id, struct response *res)
{
    static const char *const allowed[] = {"amount", "method", NULL};
    struct plink *l = find_link(id);
    if (l == NULL) {
        error_res(res, 404, "BAD_REQUEST_ERROR", "The id provided does not exist", "id");
        return;
    }
    json_object *o = body_object_opt(r, res);
    if (o == NULL)
        return;
    int64_t amount = 0;
    const char *method, *why, *field;
    if (only_keys(o, allowed, res) || want_amount(o, &amount, res) < 0 ||
        want_str(o, "method", 20, 0, &method, res) < 0)
        goto out;
    if (method != NULL && !method_ok(method)) {
        bad(res, "The method must be upi, card, netbanking or wallet.", "method");
        goto out;
    }
    struct payment *y = pay_link(l, amount, method ? method : "upi", &why, &field);
    if (y == NULL) {
        bad(res, why, field);
        goto out;
    }
    json_object *a = json_object_new_object();
    json_object_object_add(a, "payment", payment_json(y));
    json_object_object_add(a, "payment_link", link_json(l));
    ok(res, 200, a);
out:
    json_object_put(o);
}

/* POST /sandbox/payment_links/{id}/expire: the link expires now. */
static void ctl_link_expire(const struct request *r, const char *id, struct response *res)
{
    (void)r;
    struct plink *l = find_link(id);
    if (l == NULL) {
        error_res(res, 404, "BAD_REQUEST_ERROR", "The id provided does not exist", "id");
        return;
    }
    long long now = mono_ms();
    expire_due_links(now);
    if (!link_open(l)) {
        bad(res, link_closed_why(l), "id");
        return;
    }
    link_end(l, "expired", now);
    ok(res, 200, link_json(l));
}

/* POST /sandbox/payments/{id}/refund {"amount"?}: a refund, processed at once. */
static void ctl_payment_refund(const struct request *r, const char *id, struct response *res)
{
    static const char *const allowed[] = {"amount", NULL};
    struct payment *y = find_payment(id);
    if (y == NULL) {
        error_res(res, 404, "BAD_REQUEST_ERROR", "The id provided does not exist", "id");
        return;
    }
    json_object *o = body_object_opt(r, res);
    if (o == NULL)
        return;
    int64_t amount = 0;
    const char *why;
    if (only_keys(o, allowed, res) || want_amount(o, &amount, res) < 0)
        goto out;
    struct refund *f = refund_payment(y, amount, &why);
    if (f == NULL) {
        bad(res, why, "amount");
        goto out;
    }
    json_object *a = json_object_new_object();
    json_object_object_add(a, "refund", refund_json(f));
    json_object_object_add(a, "payment", payment_json(y));
    ok(res, 200, a);
out:
    json_object_put(o);
}

/* ---- the checkout page a borrower's browser sees (GET and POST /pay/{id}) ---- */

struct page {
    char *p;
    size_t n, cap;
    int oom;
};

static void page_raw(struct page *pg, const char *s)
{
    size_t n = strlen(s);
    if (pg->oom)
        return;
    if (pg->n + n + 1 > pg->cap) {
        size_t cap = pg->cap ? pg->cap : 4096;
        while (cap < pg->n + n + 1)
            cap *= 2;
        char *p = realloc(pg->p, cap);
        if (p == NULL) {
            pg->oom = 1;
            return;
        }
        pg->p = p;
        pg->cap = cap;
    }
    memcpy(pg->p + pg->n, s, n);
    pg->n += n;
    pg->p[pg->n] = '\0';
}

/* Text, escaped for an element's content or a quoted attribute. */
static void page_text(struct page *pg, const char *s)
{
    char one[2] = {0, 0};
    for (; s && *s; s++) {
        switch (*s) {
        case '&':
            page_raw(pg, "&amp;");
            break;
        case '<':
            page_raw(pg, "&lt;");
            break;
        case '>':
            page_raw(pg, "&gt;");
            break;
        case '"':
            page_raw(pg, "&quot;");
            break;
        case '\'':
            page_raw(pg, "&#39;");
            break;
        default:
            one[0] = (unsigned char)*s < 0x20 ? ' ' : *s;
            page_raw(pg, one);
        }
    }
}

/* "INR 1,23,456.78": paise in the Indian grouping. */
static void page_money(struct page *pg, const char *currency, int64_t paise)
{
    char digits[32], out[64];
    int64_t units = paise / 100;
    snprintf(digits, sizeof(digits), "%lld", (long long)units);
    size_t n = strlen(digits), o = 0;
    for (size_t i = 0; i < n; i++) {
        size_t left = n - i; /* digits from here to the end */
        if (i > 0 && (left == 3 || (left > 3 && (left - 3) % 2 == 0)))
            out[o++] = ',';
        out[o++] = digits[i];
    }
    snprintf(out + o, sizeof(out) - o, ".%02lld", (long long)(paise % 100));
    page_text(pg, currency);
    page_raw(pg, " ");
    page_text(pg, out);
}

static void page_head(struct page *pg, const char *title)
{
    page_raw(pg, "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                 "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
                 "<title>");
    page_text(pg, title);
    page_raw(pg, " - sandbox checkout</title><style>"
                 "body{font-family:system-ui,sans-serif;background:#f4f5f7;margin:0}"
                 "main{max-width:28rem;margin:2rem auto;background:#fff;padding:1.5rem;"
                 "border-radius:8px;box-shadow:0 1px 4px rgba(0,0,0,.1)}"
                 ".banner{background:#fff3cd;padding:.5rem;border-radius:4px;font-size:.9rem}"
                 "dt{color:#555;font-size:.85rem}dd{margin:0 0 .6rem 0}"
                 "button{font-size:1rem;padding:.6rem 1.2rem;background:#2b59c3;color:#fff;"
                 "border:0;border-radius:4px}</style></head><body><main>"
                 "<p class=\"banner\">Gateway sandbox: no money moves.</p>");
}

static void page_tail(struct page *pg)
{
    page_raw(pg, "</main></body></html>\n");
}

static void page_item(struct page *pg, const char *dt, const char *dd)
{
    page_raw(pg, "<dt>");
    page_text(pg, dt);
    page_raw(pg, "</dt><dd>");
    page_text(pg, dd);
    page_raw(pg, "</dd>");
}

static void page_link_facts(struct page *pg, const struct plink *l)
{
    page_raw(pg, "<dl><dt>Amount</dt><dd>");
    page_money(pg, l->currency, l->amount);
    page_raw(pg, "</dd>");
    if (l->amount_paid > 0) {
        page_raw(pg, "<dt>Paid</dt><dd>");
        page_money(pg, l->currency, l->amount_paid);
        page_raw(pg, "</dd>");
    }
    if (l->cust_name[0])
        page_item(pg, "For", l->cust_name);
    page_item(pg, "Reference", l->reference);
    page_item(pg, "Status", l->status);
    page_item(pg, "Payment link", l->id);
    page_raw(pg, "</dl>");
}

static void page_answer(struct response *res, int status, struct page *pg)
{
    json_object_put(res->body);
    res->body = NULL;
    free(res->html);
    res->html = NULL;
    if (pg->oom || pg->p == NULL) {
        free(pg->p);
        error_res(res, 500, "SERVER_ERROR", "Out of memory", NULL);
        return;
    }
    res->status = status;
    res->html = pg->p;
}

static void page_message(struct response *res, int status, const char *title, const char *msg,
                         const struct plink *l)
{
    struct page pg = {0};
    page_head(&pg, title);
    page_raw(&pg, "<h1>");
    page_text(&pg, title);
    page_raw(&pg, "</h1><p>");
    page_text(&pg, msg);
    page_raw(&pg, "</p>");
    if (l != NULL)
        page_link_facts(&pg, l);
    page_tail(&pg);
    page_answer(res, status, &pg);
}

static void page_get(const struct request *r, const char *id, struct response *res)
{
    (void)r;
    struct plink *l = find_link(id);
    if (l == NULL) {
        page_message(res, 404, "Payment link not found", "There is no payment link here.", NULL);
        return;
    }
    expire_due_links(mono_ms());
    struct page pg = {0};
    page_head(&pg, l->description[0] ? l->description : "Payment");
    page_raw(&pg, "<h1>");
    page_text(&pg, l->description[0] ? l->description : "Payment");
    page_raw(&pg, "</h1>");
    page_link_facts(&pg, l);
    if (link_open(l)) {
        page_raw(&pg, "<form method=\"post\" action=\"/pay/");
        page_text(&pg, l->id);
        page_raw(&pg, "\"><p><label>Method <select name=\"method\">"
                      "<option value=\"upi\">UPI</option><option value=\"card\">Card</option>"
                      "<option value=\"netbanking\">Net banking</option>"
                      "<option value=\"wallet\">Wallet</option></select></label></p>"
                      "<button type=\"submit\">Pay ");
        page_money(&pg, l->currency, l->amount - l->amount_paid);
        page_raw(&pg, "</button></form>");
    } else {
        page_raw(&pg, "<p>");
        page_text(&pg, link_closed_why(l));
        page_raw(&pg, ".</p>");
    }
    page_tail(&pg);
    page_answer(res, 200, &pg);
}

/* POST /pay/{id} (the form: method=...): pays what remains, as the control API does. */
static void page_pay(const struct request *r, const char *id, struct response *res)
{
    struct plink *l = find_link(id);
    if (l == NULL) {
        page_message(res, 404, "Payment link not found", "There is no payment link here.", NULL);
        return;
    }
    char form[512], method[24] = "upi";
    size_t n = r->body_len < sizeof(form) - 1 ? r->body_len : sizeof(form) - 1;
    memcpy(form, r->body, n);
    form[n] = '\0';
    if (query_get(form, "method", method, sizeof(method)) && !method_ok(method)) {
        page_message(res, 400, "Payment failed", "Choose UPI, card, net banking or a wallet.", l);
        return;
    }
    const char *why, *field;
    struct payment *y = pay_link(l, 0, method, &why, &field);
    if (y == NULL) {
        page_message(res, 400, "Payment failed", why, l);
        return;
    }
    struct page pg = {0};
    page_head(&pg, "Payment successful");
    page_raw(&pg, "<h1>Payment successful</h1><p>");
    page_money(&pg, y->currency, y->amount);
    page_raw(&pg, " paid by ");
    page_text(&pg, y->method);
    page_raw(&pg, ".</p><dl>");
    page_item(&pg, "Payment", y->id);
    page_raw(&pg, "</dl>");
    page_link_facts(&pg, l);
    page_tail(&pg);
    page_answer(res, 200, &pg);
}

/* ---- the control API ---- */

static json_object *settings_json(void)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "delay_ms", json_object_new_int64(set.delay_ms));
    json_object_object_add(o, "duplicate_rate", json_object_new_double(set.duplicate_rate));
    json_object_object_add(o, "shuffle", json_object_new_boolean(set.shuffle));
    json_object_object_add(o, "retry_ms", json_object_new_int64(set.retry_ms));
    json_object_object_add(o, "retry_for_ms", json_object_new_int64(set.retry_for_ms));
    json_object_object_add(o, "webhook_timeout_ms", json_object_new_int64(set.webhook_timeout_ms));
    json_object_object_add(o, "webhook_url", json_object_new_string(set.webhook_url));
    json_object_object_add(o, "next_outcome", str_or_null(next_outcome.what));
    json_object_object_add(o, "faults_left", json_object_new_int(fault.count));
    return o;
}

static void ctl_health(const struct request *r, const char *id, struct response *res)
{
    (void)r;
    (void)id;
    size_t pending = 0;
    for (size_t i = 0; i < events.n; i++)
        pending += events.v[i].state == EV_PENDING || events.v[i].state == EV_INFLIGHT ||
                   events.v[i].state == EV_HELD;
    json_object *o = json_object_new_object();
    json_object_object_add(o, "status", json_object_new_string("ok"));
    json_object_object_add(o, "account_id", json_object_new_string(account_id));
    json_object_object_add(o, "pid", json_object_new_int((int)getpid()));
    json_object_object_add(o, "contacts", json_object_new_int64((int64_t)contacts.n));
    json_object_object_add(o, "fund_accounts", json_object_new_int64((int64_t)funds.n));
    json_object_object_add(o, "payouts", json_object_new_int64((int64_t)payouts.n));
    json_object_object_add(o, "payment_links", json_object_new_int64((int64_t)links.n));
    json_object_object_add(o, "payments", json_object_new_int64((int64_t)payments.n));
    json_object_object_add(o, "refunds", json_object_new_int64((int64_t)refunds.n));
    json_object_object_add(o, "events", json_object_new_int64((int64_t)events.n));
    json_object_object_add(o, "pending_deliveries", json_object_new_int64((int64_t)pending));
    json_object_object_add(o, "journal", str_or_null(journal_path));
    json_object_object_add(o, "config", settings_json());
    ok(res, 200, o);
}

static void ctl_config_get(const struct request *r, const char *id, struct response *res)
{
    (void)r;
    (void)id;
    ok(res, 200, settings_json());
}

/* A whole number member within [min, max]: 1 set, 0 absent, -1 with res answered. */
static int want_long(json_object *o, const char *key, long min, long max, long *out,
                     struct response *res)
{
    json_object *v;
    if (!json_object_object_get_ex(o, key, &v) || v == NULL)
        return 0;
    if (!json_object_is_type(v, json_type_int) || json_object_get_int64(v) < min ||
        json_object_get_int64(v) > max) {
        char desc[160];
        snprintf(desc, sizeof(desc), "%s must be a whole number from %ld to %ld", key, min, max);
        bad(res, desc, key);
        return -1;
    }
    *out = (long)json_object_get_int64(v);
    return 1;
}

static int url_ok(const char *u)
{
    return u[0] == '\0' || !strncmp(u, "http://", 7) || !strncmp(u, "https://", 8);
}

static void ctl_config_set(const struct request *r, const char *id, struct response *res)
{
    (void)id;
    static const char *const allowed[] = {
        "delay_ms",    "duplicate_rate",     "shuffle", "retry_ms", "retry_for_ms",
        "webhook_url", "webhook_timeout_ms", NULL};
    json_object *o = body_object(r, res), *v;
    if (o == NULL)
        return;
    struct settings s = set;
    const char *url;
    if (only_keys(o, allowed, res) || want_long(o, "delay_ms", 0, 600000, &s.delay_ms, res) < 0 ||
        want_long(o, "retry_ms", 1, 600000, &s.retry_ms, res) < 0 ||
        want_long(o, "retry_for_ms", 0, 86400000, &s.retry_for_ms, res) < 0 ||
        want_long(o, "webhook_timeout_ms", 100, 60000, &s.webhook_timeout_ms, res) < 0)
        goto out;
    if (json_object_object_get_ex(o, "duplicate_rate", &v) && v != NULL) {
        double d = json_object_get_double(v);
        if ((!json_object_is_type(v, json_type_double) && !json_object_is_type(v, json_type_int)) ||
            !(d >= 0.0 && d <= 1.0)) {
            bad(res, "duplicate_rate must be a number from 0 to 1", "duplicate_rate");
            goto out;
        }
        s.duplicate_rate = d;
    }
    if (json_object_object_get_ex(o, "shuffle", &v) && v != NULL) {
        if (json_object_is_type(v, json_type_boolean))
            s.shuffle = json_object_get_boolean(v);
        else if (json_object_is_type(v, json_type_int) &&
                 (json_object_get_int(v) == 0 || json_object_get_int(v) == 1))
            s.shuffle = json_object_get_int(v);
        else {
            bad(res, "shuffle must be true, false, 0 or 1", "shuffle");
            goto out;
        }
    }
    if (json_object_object_get_ex(o, "webhook_url", &v) && v != NULL) {
        if (!json_object_is_type(v, json_type_string) ||
            (size_t)json_object_get_string_len(v) >= sizeof(s.webhook_url) ||
            !url_ok(json_object_get_string(v))) {
            bad(res, "webhook_url must be an http:// or https:// URL, or \"\" for none",
                "webhook_url");
            goto out;
        }
        url = json_object_get_string(v);
        copy(s.webhook_url, sizeof(s.webhook_url), url);
    }
    set = s;
    log_msg(LOG_INFO, "gateway-sandbox: config delay %ld ms, duplicates %.2f, shuffle %d",
            set.delay_ms, set.duplicate_rate, set.shuffle);
    ok(res, 200, settings_json());
out:
    json_object_put(o);
}

/* {"outcome": processed|failed|reversed|hold, "reason": "..."} into *out; 0 or -1 answered. */
static int read_outcome(const struct request *r, struct outcome *out, struct response *res)
{
    static const char *const allowed[] = {"outcome", "reason", NULL};
    json_object *o = body_object(r, res);
    if (o == NULL)
        return -1;
    const char *what, *reason;
    int rc = -1;
    if (only_keys(o, allowed, res) || want_str(o, "outcome", 12, 0, &what, res) < 0 ||
        want_str(o, "reason", 190, 0, &reason, res) < 0)
        goto out;
    if (what != NULL && strcmp(what, "processed") && strcmp(what, "failed") &&
        strcmp(what, "reversed") && strcmp(what, "hold")) {
        bad(res, "outcome must be processed, failed, reversed or hold", "outcome");
        goto out;
    }
    memset(out, 0, sizeof(*out));
    copy(out->what, sizeof(out->what), what);
    copy(out->reason, sizeof(out->reason), reason);
    rc = 0;
out:
    json_object_put(o);
    return rc;
}

static void ctl_next_outcome(const struct request *r, const char *id, struct response *res)
{
    (void)id;
    struct outcome oc;
    if (read_outcome(r, &oc, res) != 0)
        return;
    next_outcome = oc;
    ok(res, 200, settings_json());
}

static void ctl_payout_outcome(const struct request *r, const char *id, struct response *res)
{
    struct payout *p = find_payout(id);
    if (p == NULL) {
        error_res(res, 404, "BAD_REQUEST_ERROR", "The id provided does not exist", "id");
        return;
    }
    struct outcome oc;
    if (read_outcome(r, &oc, res) != 0)
        return;
    if (oc.what[0] == '\0') {
        bad(res, "The outcome field is required.", "outcome");
        return;
    }
    long long now = mono_ms();
    if (!strcmp(p->status, "processed")) {
        /* A processed payout can still be reversed, as the real one can; nothing else. */
        if (strcmp(oc.what, "reversed") != 0) {
            error_res(res, 409, "BAD_REQUEST_ERROR",
                      "The payout is processed: it can only be reversed now", "outcome");
            return;
        }
        copy(p->plan, sizeof(p->plan), "reversed");
        copy(p->plan_reason, sizeof(p->plan_reason), oc.reason);
        finish(p, now);
        journal("payout", payout_state_json(p));
        log_msg(LOG_INFO, "gateway-sandbox: payout %s reversed", p->id);
    } else if (terminal(p->status)) {
        char desc[80];
        snprintf(desc, sizeof(desc), "The payout is already %s", p->status);
        error_res(res, 409, "BAD_REQUEST_ERROR", desc, "outcome");
        return;
    } else if (!strcmp(oc.what, "hold")) {
        p->hold = 1;
        p->next_at = 0;
        journal("payout", payout_state_json(p));
    } else {
        copy(p->plan, sizeof(p->plan), oc.what);
        copy(p->plan_reason, sizeof(p->plan_reason), oc.reason);
        p->hold = 0;
        if (p->next_at == 0)
            schedule(p, now);
        journal("payout", payout_state_json(p));
    }
    ok(res, 200, payout_json(p));
}

static void ctl_next_error(const struct request *r, const char *id, struct response *res)
{
    (void)id;
    static const char *const allowed[] = {"status", "count", "after", "stall_ms", "path", NULL};
    json_object *o = body_object(r, res), *v;
    if (o == NULL)
        return;
    struct fault f = {.count = 1};
    long n = 0;
    const char *path;
    if (only_keys(o, allowed, res))
        goto out;
    int has = want_long(o, "status", 0, 599, &n, res);
    if (has < 0)
        goto out;
    if (has && n != 0 && n < 400) {
        bad(res, "status must be 0 (close without an answer) or from 400 to 599", "status");
        goto out;
    }
    f.has_status = has;
    f.status = (int)n;
    if (want_long(o, "count", 0, 1000, &n, res) < 0)
        goto out;
    if (json_object_object_get_ex(o, "count", &v) && v != NULL)
        f.count = (int)n;
    if (want_long(o, "stall_ms", 0, 120000, &f.stall_ms, res) < 0)
        goto out;
    if (json_object_object_get_ex(o, "after", &v) && v != NULL) {
        if (!json_object_is_type(v, json_type_boolean)) {
            bad(res, "after must be true or false", "after");
            goto out;
        }
        f.after = json_object_get_boolean(v);
    }
    if (want_str(o, "path", 60, 0, &path, res) < 0)
        goto out;
    copy(f.path, sizeof(f.path), path ? path : "/v1/");
    if (!f.has_status && f.stall_ms == 0 && f.count > 0) {
        bad(res, "Give a status, a stall_ms, or both", "status");
        goto out;
    }
    fault = f;
    ok(res, 200, settings_json());
out:
    json_object_put(o);
}

/* The ids an event is about: payout_id for a payout's, payment_link_id and payment_id for a
 * collection one's (null when it names none). */
static void event_ids_json(json_object *o, const struct event *e)
{
    if (e->payout_id[0] || (!e->link_id[0] && !e->payment_id[0])) {
        json_object_object_add(o, "payout_id", json_object_new_string(e->payout_id));
        return;
    }
    json_object_object_add(o, "payment_link_id", str_or_null(e->link_id));
    json_object_object_add(o, "payment_id", str_or_null(e->payment_id));
}

/* The filters of /sandbox/events and /sandbox/deliveries: payout_id, payment_link_id,
 * payment_id, event_id; 1 when e passes them all. */
static int event_wanted(const struct request *r, const struct event *e)
{
    static const char *const keys[] = {"payout_id", "payment_link_id", "payment_id", "event_id"};
    const char *have[] = {e->payout_id, e->link_id, e->payment_id, e->id};
    char want[64];
    for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++)
        if (query_get(r->query, keys[k], want, sizeof(want)) && strcmp(have[k], want) != 0)
            return 0;
    return 1;
}

static json_object *attempt_json(const struct attempt *a)
{
    const struct event *e = &events.v[a->event];
    json_object *o = json_object_new_object();
    json_object_object_add(o, "event_id", json_object_new_string(e->id));
    json_object_object_add(o, "event", json_object_new_string(e->name));
    event_ids_json(o, e);
    json_object_object_add(o, "attempt", json_object_new_int(a->attempt));
    json_object_object_add(o, "status", json_object_new_int((int)a->status));
    json_object_object_add(o, "error", str_or_null(a->error));
    json_object_object_add(o, "duplicate", json_object_new_boolean(a->duplicate));
    json_object_object_add(o, "at", json_object_new_int64(a->at));
    json_object_object_add(o, "duration_ms", json_object_new_int64(a->ms));
    json_object_object_add(o, "signature", json_object_new_string(e->sig));
    json_object_object_add(o, "body_sha256", json_object_new_string(e->sha));
    json_object_object_add(o, "body", json_object_new_string_len(e->body, (int)e->len));
    return o;
}

/* GET /sandbox/deliveries[?payout_id=P][&payment_link_id=L][&payment_id=Y][&event_id=E]: the
 * attempts kept, oldest first. */
static void ctl_deliveries(const struct request *r, const char *id, struct response *res)
{
    (void)id;
    json_object *items = json_object_new_array();
    size_t first = nattempts > MAX_ATTEMPTS_KEPT ? nattempts - MAX_ATTEMPTS_KEPT : 0;
    for (size_t k = first; k < nattempts; k++) {
        const struct attempt *a = &attempts[k % MAX_ATTEMPTS_KEPT];
        const struct event *e = &events.v[a->event];
        if (!event_wanted(r, e))
            continue;
        json_object_array_add(items, attempt_json(a));
    }
    json_object *o = json_object_new_object();
    json_object_object_add(o, "count", json_object_new_int((int)json_object_array_length(items)));
    json_object_object_add(o, "total_attempts", json_object_new_int64((int64_t)nattempts));
    json_object_object_add(o, "items", items);
    ok(res, 200, o);
}

/* GET /sandbox/events[?payout_id=P][&payment_link_id=L][&payment_id=Y]: the events and where
 * their delivery stands. */
static void ctl_events(const struct request *r, const char *id, struct response *res)
{
    (void)id;
    static const char *const states[] = {"held", "pending", "in_flight", "delivered", "gave_up"};
    json_object *items = json_object_new_array();
    for (size_t i = 0; i < events.n; i++) {
        const struct event *e = &events.v[i];
        if (!event_wanted(r, e))
            continue;
        json_object *o = json_object_new_object();
        json_object_object_add(o, "id", json_object_new_string(e->id));
        json_object_object_add(o, "event", json_object_new_string(e->name));
        event_ids_json(o, e);
        json_object_object_add(o, "state", json_object_new_string(states[e->state]));
        json_object_object_add(o, "attempts", json_object_new_int(e->attempts));
        json_object_object_add(o, "signature", json_object_new_string(e->sig));
        json_object_object_add(o, "body", json_object_new_string_len(e->body, (int)e->len));
        json_object_array_add(items, o);
    }
    json_object *o = json_object_new_object();
    json_object_object_add(o, "count", json_object_new_int((int)json_object_array_length(items)));
    json_object_object_add(o, "items", items);
    ok(res, 200, o);
}

/* The routes: method, path ('*' is one id segment), handler, basic auth needed. */
static const struct route {
    const char *method;
    const char *pattern;
    handler_fn fn;
    int auth;
} routes[] = {
    {"POST", "/v1/contacts", api_contact_create, 1},
    {"GET", "/v1/contacts/*", api_contact_get, 1},
    {"POST", "/v1/fund_accounts", api_fund_create, 1},
    {"GET", "/v1/fund_accounts/*", api_fund_get, 1},
    {"POST", "/v1/payouts", api_payout_create, 1},
    {"GET", "/v1/payouts", api_payout_list, 1},
    {"GET", "/v1/payouts/*", api_payout_get, 1},
    {"POST", "/v1/payment_links", api_link_create, 1},
    {"GET", "/v1/payment_links/*", api_link_get, 1},
    {"POST", "/v1/payment_links/*/cancel", api_link_cancel, 1},
    {"GET", "/v1/payments/*", api_payment_get, 1},
    {"GET", "/pay/*", page_get, 0},
    {"POST", "/pay/*", page_pay, 0},
    {"GET", "/sandbox/health", ctl_health, 0},
    {"GET", "/sandbox/config", ctl_config_get, 0},
    {"POST", "/sandbox/config", ctl_config_set, 0},
    {"POST", "/sandbox/next-outcome", ctl_next_outcome, 0},
    {"POST", "/sandbox/next-error", ctl_next_error, 0},
    {"POST", "/sandbox/payouts/*/outcome", ctl_payout_outcome, 0},
    {"POST", "/sandbox/payment_links/*/pay", ctl_link_pay, 0},
    {"POST", "/sandbox/payment_links/*/expire", ctl_link_expire, 0},
    {"POST", "/sandbox/payments/*/refund", ctl_payment_refund, 0},
    {"GET", "/sandbox/deliveries", ctl_deliveries, 0},
    {"GET", "/sandbox/events", ctl_events, 0},
    {NULL, NULL, NULL, 0},
};

/* Does path match pattern? The '*' segment (letters, digits, '_'; 1-40) goes to id[ID_LEN*2]. */
static int match(const char *pattern, const char *path, char *id)
{
    id[0] = '\0';
    while (*pattern && *path) {
        if (*pattern == '*') {
            size_t n = 0;
            while (path[n] && path[n] != '/') {
                char ch = path[n];
                if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                      (ch >= '0' && ch <= '9') || ch == '_') ||
                    n >= 40)
                    return 0;
                n++;
            }
            if (n == 0)
                return 0;
            memcpy(id, path, n);
            id[n] = '\0';
            path += n;
            pattern++;
            continue;
        }
        if (*pattern != *path)
            return 0;
        pattern++;
        path++;
    }
    return *pattern == '\0' && *path == '\0';
}

static void dispatch(const struct request *r, struct response *res)
{
    char id[ID_LEN * 2];
    const struct route *found = NULL;
    char allow[64] = "";
    /* The control API and the borrower's checkout page (/pay/) need no key. */
    int control = !strncmp(r->path, "/sandbox/", 9) || !strncmp(r->path, "/pay/", 5);
    if (!control && !authorized(r)) {
        error_res(res, 401, "BAD_REQUEST_ERROR",
                  r->auth[0] ? "Authentication failed"
                             : "Please provide your api key for authentication purposes.",
                  NULL);
        snprintf(res->extra, sizeof(res->extra),
                 "WWW-Authenticate: Basic realm=\"RazorpayX sandbox\"\r\n");
        return;
    }
    for (const struct route *rt = routes; rt->method && !found; rt++) {
        if (!match(rt->pattern, r->path, id))
            continue;
        if (!strcmp(rt->method, r->method))
            found = rt;
        else if (strlen(allow) + strlen(rt->method) + 3 < sizeof(allow))
            snprintf(allow + strlen(allow), sizeof(allow) - strlen(allow), "%s%s",
                     allow[0] ? ", " : "", rt->method);
    }
    if (found == NULL && allow[0]) {
        error_res(res, 405, "BAD_REQUEST_ERROR", "The requested method is not allowed here", NULL);
        snprintf(res->extra, sizeof(res->extra), "Allow: %s\r\n", allow);
        return;
    }
    if (found == NULL) {
        error_res(res, 404, "BAD_REQUEST_ERROR", "The requested URL was not found on the server.",
                  NULL);
        return;
    }
    /* An injected fault (POST /sandbox/next-error) on the API, before or after the request
     * takes effect. */
    int faulty = !control && fault.count > 0 && !strncmp(r->path, fault.path, strlen(fault.path));
    if (faulty)
        fault.count--;
    /* A stall alone delays the real answer; a status replaces it, after the request took
     * effect when asked so. */
    if (!faulty || fault.after || !fault.has_status)
        found->fn(r, id, res);
    if (faulty) {
        res->stall_ms = fault.stall_ms;
        if (fault.has_status && fault.status == 0)
            res->drop = 1;
        else if (fault.has_status && fault.status >= 500)
            error_res(res, fault.status, "SERVER_ERROR",
                      "We are facing some trouble completing your request at the moment. Please "
                      "try again shortly.",
                      NULL);
        else if (fault.has_status)
            error_res(res, fault.status, "BAD_REQUEST_ERROR", "Injected by the sandbox", NULL);
    }
}

/* ---- connections ---- */

static void conn_close(int i)
{
    struct conn *c = conns[i];
    if (c == NULL)
        return;
    close(c->fd);
    free(c->in);
    free(c->out);
    free(c);
    conns[i] = NULL;
}

/* Answers the complete requests buffered, in order, while there is room for the answers. */
static void serve(struct conn *c, long long now)
{
    while (!c->dead && !c->close_after && c->release_at == 0 &&
           c->out_len - c->out_off < OUT_CAP / 2) {
        struct request r;
        int status = 400;
        const char *why = "Bad request";
        int rc = parse_request(c, &r, &status, &why);
        if (rc == 0)
            break;
        if (rc < 0) {
            protocol_error(c, status, why);
            break;
        }
        struct response res = {.status = 500};
        dispatch(&r, &res);
        if (r.total < c->in_len)
            memmove(c->in, c->in + r.total, c->in_len - r.total);
        c->in_len -= r.total;
        c->continue_sent = 0;
        if (res.drop && res.stall_ms == 0) {
            json_object_put(res.body);
            free(res.html);
            c->dead = 1;
            break;
        }
        if (res.drop) {
            json_object_put(res.body);
            free(res.html);
            c->drop_at_release = 1;
        } else {
            send_response(c, &res, r.keep_alive);
        }
        if (res.stall_ms > 0)
            c->release_at = now + res.stall_ms;
    }
}

static void on_writable(struct conn *c, long long now)
{
    while (c->out_off < c->out_len) {
        ssize_t w = send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL);
        if (w > 0) {
            c->out_off += (size_t)w;
            c->last_ms = now;
        } else if (w < 0 && errno == EINTR) {
            continue;
        } else if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            return;
        } else {
            c->dead = 1;
            return;
        }
    }
    c->out_off = c->out_len = 0;
    if (c->close_after || c->peer_closed)
        c->dead = 1;
    else
        serve(c, now); /* requests that waited for room */
}

static void on_readable(struct conn *c, long long now)
{
    while (c->in_len < IN_CAP) {
        ssize_t n = recv(c->fd, c->in + c->in_len, IN_CAP - c->in_len, 0);
        if (n > 0) {
            c->in_len += (size_t)n;
            c->last_ms = now;
        } else if (n == 0) {
            c->peer_closed = 1;
            break;
        } else if (errno == EINTR) {
            continue;
        } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
            break;
        } else {
            c->dead = 1;
            return;
        }
    }
    serve(c, now);
    if (c->peer_closed && c->release_at == 0 && c->out_off == c->out_len)
        c->dead = 1;
}

static void accept_all(long long now)
{
    for (;;) {
        int fd = accept4(listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0)
            return;
        int slot = -1, quiet = -1;
        for (int i = 0; i < MAX_CONNS && slot < 0; i++) {
            const struct conn *o = conns[i];
            if (o == NULL)
                slot = i;
            else if (o->in_len == 0 && o->out_off == o->out_len && !o->release_at &&
                     (quiet < 0 || o->last_ms < conns[quiet]->last_ms))
                quiet = i;
        }
        /* A full table makes room by closing the longest-idle kept-alive connection, so idle
         * clients cannot lock the others out. */
        if (slot < 0 && quiet >= 0) {
            conn_close(quiet);
            slot = quiet;
        }
        struct conn *c = slot >= 0 ? calloc(1, sizeof(*c)) : NULL;
        char *in = c ? malloc(IN_CAP) : NULL;
        if (in == NULL) {
            free(c);
            close(fd);
            continue;
        }
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        c->fd = fd;
        c->in = in;
        c->last_ms = now;
        conns[slot] = c;
    }
}

/* ---- start-up ---- */

static void on_signal(int sig)
{
    (void)sig;
    stopping = 1;
}

static int env_long(const char *name, long def, long min, long max, long *out)
{
    const char *v = getenv(name);
    *out = def;
    if (v == NULL || v[0] == '\0')
        return 0;
    char *end;
    errno = 0;
    long n = strtol(v, &end, 10);
    if (errno || *end || n < min || n > max) {
        fprintf(stderr, "loanctl gateway-sandbox: %s must be a whole number from %ld to %ld\n",
                name, min, max);
        return -1;
    }
    *out = n;
    return 0;
}

static int read_settings(void)
{
    long shuffle = 0, retry_for_s = 600;
    if (env_long("GATEWAY_SANDBOX_DELAY_MS", 300, 0, 600000, &set.delay_ms) ||
        env_long("GATEWAY_SANDBOX_SHUFFLE", 0, 0, 1, &shuffle) ||
        env_long("GATEWAY_SANDBOX_RETRY_MS", 1000, 1, 600000, &set.retry_ms) ||
        env_long("GATEWAY_SANDBOX_RETRY_FOR_S", 600, 0, 86400, &retry_for_s) ||
        env_long("GATEWAY_SANDBOX_WEBHOOK_TIMEOUT_MS", 5000, 100, 60000, &set.webhook_timeout_ms))
        return -1;
    set.shuffle = (int)shuffle;
    set.retry_for_ms = retry_for_s * 1000;
    const char *rate = getenv("GATEWAY_SANDBOX_DUPLICATE_RATE");
    set.duplicate_rate = 0;
    if (rate != NULL && rate[0]) {
        char *end;
        double d = strtod(rate, &end);
        if (*end || !(d >= 0.0 && d <= 1.0)) {
            fprintf(stderr, "loanctl gateway-sandbox: GATEWAY_SANDBOX_DUPLICATE_RATE must be a "
                            "number from 0 to 1\n");
            return -1;
        }
        set.duplicate_rate = d;
    }
    const char *url = getenv("GATEWAY_WEBHOOK_URL");
    if (url != NULL && (strlen(url) >= sizeof(set.webhook_url) || !url_ok(url))) {
        fprintf(stderr, "loanctl gateway-sandbox: GATEWAY_WEBHOOK_URL must be an http:// or "
                        "https:// URL\n");
        return -1;
    }
    copy(set.webhook_url, sizeof(set.webhook_url), url);
    return 0;
}

/* Replays the journal into memory. Lines that do not parse (a torn last line) are skipped. */
static void replay(const char *path)
{
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return;
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    size_t skipped = 0;
    replaying = 1;
    while ((n = getline(&line, &cap, f)) > 0) {
        json_object *o = NULL, *v;
        const char *why;
        char kind[16];
        if (js_parse(line, (size_t)n, &o, &why) != 0 || !json_object_is_type(o, json_type_object) ||
            !json_object_object_get_ex(o, "v", &v) || !json_object_is_type(v, json_type_object)) {
            json_object_put(o);
            skipped++;
            continue;
        }
        take_str(o, "k", kind, sizeof(kind));
        char id[ID_LEN];
        take_str(v, "id", id, sizeof(id));
        if (!strcmp(kind, "contact") && find_contact(id) == NULL) {
            struct contact *c = PUSH(contacts);
            if (c) {
                copy(c->id, sizeof(c->id), id);
                take_str(v, "name", c->name, sizeof(c->name));
                take_str(v, "email", c->email, sizeof(c->email));
                take_str(v, "contact", c->phone, sizeof(c->phone));
                take_str(v, "type", c->type, sizeof(c->type));
                take_str(v, "reference_id", c->reference, sizeof(c->reference));
                c->created_at = take_int(v, "created_at");
            }
        } else if (!strcmp(kind, "fund_account") && find_fund(id) == NULL) {
            struct fund_account *fa = PUSH(funds);
            if (fa) {
                copy(fa->id, sizeof(fa->id), id);
                take_str(v, "contact_id", fa->contact_id, sizeof(fa->contact_id));
                take_str(v, "name", fa->holder, sizeof(fa->holder));
                take_str(v, "ifsc", fa->ifsc, sizeof(fa->ifsc));
                take_str(v, "last4", fa->last4, sizeof(fa->last4));
                take_str(v, "digest", fa->digest, sizeof(fa->digest));
                fa->created_at = take_int(v, "created_at");
            }
        } else if (!strcmp(kind, "payout")) {
            struct payout *p = find_payout(id);
            if (p == NULL)
                p = PUSH(payouts);
            if (p)
                payout_from_state(p, v);
        } else if (!strcmp(kind, "payment_link")) {
            struct plink *l = find_link(id);
            if (l == NULL)
                l = PUSH(links);
            if (l)
                link_from_state(l, v);
        } else if (!strcmp(kind, "payment")) {
            struct payment *y = find_payment(id);
            if (y == NULL)
                y = PUSH(payments);
            if (y)
                payment_from_state(y, v);
        } else if (!strcmp(kind, "refund")) {
            int seen = 0;
            for (size_t i = 0; i < refunds.n && !seen; i++)
                seen = !strcmp(refunds.v[i].id, id);
            struct refund *rf = seen ? NULL : PUSH(refunds);
            if (rf)
                refund_from_state(rf, v);
        } else if (!strcmp(kind, "event") && find_event(id) == NULL) {
            struct event *e = PUSH(events);
            json_object *b;
            if (e && json_object_object_get_ex(v, "body", &b) &&
                json_object_is_type(b, json_type_string) &&
                (e->body = strdup(json_object_get_string(b))) != NULL) {
                e->len = strlen(e->body);
                copy(e->id, sizeof(e->id), id);
                take_str(v, "event", e->name, sizeof(e->name));
                take_str(v, "payout_id", e->payout_id, sizeof(e->payout_id));
                take_str(v, "link_id", e->link_id, sizeof(e->link_id));
                take_str(v, "payment_id", e->payment_id, sizeof(e->payment_id));
                take_str(v, "group", e->group, sizeof(e->group));
                if (e->group[0] == '\0') /* a journal from before collections */
                    copy(e->group, sizeof(e->group), e->payout_id);
                e->created_ms = take_int(v, "created_ms");
                gateway_sign(webhook_secret, e->body, e->len, e->sig);
                sha256_hex(e->body, e->len, e->sha);
                e->state = EV_PENDING;
            } else if (e) {
                events.n--;
            }
        } else if (!strcmp(kind, "delivered") || !strcmp(kind, "gave_up")) {
            struct event *e = find_event(id);
            if (e)
                e->state = kind[0] == 'd' ? EV_DONE : EV_GAVE_UP;
        }
        json_object_put(o);
    }
    free(line);
    fclose(f);
    replaying = 0;
    long long now = mono_ms();
    for (size_t i = 0; i < payouts.n; i++)
        if (!terminal(payouts.v[i].status))
            schedule(&payouts.v[i], now);
    for (size_t i = 0; i < events.n; i++)
        if (events.v[i].state == EV_PENDING)
            events.v[i].due = now;
    if (skipped)
        log_msg(LOG_WARN, "gateway-sandbox: %zu journal line(s) skipped", skipped);
}

/* acc_ + 14 letters and digits derived from the key id: the same account across restarts. */
static void derive_account_id(void)
{
    unsigned char h[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(h, (const unsigned char *)key_id, strlen(key_id));
    memcpy(account_id, "acc_", 4);
    for (int i = 0; i < 14; i++)
        account_id[4 + i] = alnum[h[i] % 62];
    account_id[18] = '\0';
}

static int open_listener(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0 || listen(fd, 128) != 0) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    return fd;
}

static long long min_ll(long long a, long long b)
{
    return a < b ? a : b;
}

/* The loop: lifecycle steps, deliveries, then one poll over every socket. */
static void loop(void)
{
    struct pollfd pfd[1 + MAX_CONNS + MAX_CURL_SOCKS];
    int owner[1 + MAX_CONNS + MAX_CURL_SOCKS]; /* conn slot, -1 listener, -2 curl */
    while (!stopping) {
        long long now = mono_ms();
        run_lifecycle(now);
        start_due(now);
        long long wake = now + 1000;
        for (size_t i = 0; i < payouts.n; i++)
            if (payouts.v[i].next_at)
                wake = min_ll(wake, payouts.v[i].next_at);
        if (set.webhook_url[0] && inflight < MAX_INFLIGHT)
            for (size_t i = 0; i < events.n; i++)
                if (events.v[i].state == EV_PENDING)
                    wake = min_ll(wake, events.v[i].due);
        if (curl_timer_at >= 0)
            wake = min_ll(wake, curl_timer_at);
        int n = 0;
        for (int i = 0; i < MAX_CONNS; i++) {
            struct conn *c = conns[i];
            if (c == NULL)
                continue;
            if (c->release_at && c->release_at <= now) {
                c->release_at = 0;
                if (c->drop_at_release)
                    c->dead = 1;
                else
                    serve(c, now);
            }
            long long idle = c->in_len > 0 ? PARTIAL_MS : IDLE_MS;
            if (!c->release_at && c->out_off == c->out_len && now - c->last_ms > idle)
                c->dead = 1;
            if (c->dead) {
                conn_close(i);
                continue;
            }
            if (c->release_at)
                wake = min_ll(wake, c->release_at);
            else
                wake = min_ll(wake, c->last_ms + idle + 1);
            short ev = 0;
            if (!c->release_at && !c->close_after && !c->peer_closed && c->in_len < IN_CAP &&
                c->out_len - c->out_off < OUT_CAP / 2)
                ev |= POLLIN;
            if (!c->release_at && c->out_off < c->out_len)
                ev |= POLLOUT;
            pfd[n] = (struct pollfd){.fd = c->fd, .events = ev};
            owner[n++] = i;
        }
        pfd[n] = (struct pollfd){.fd = listen_fd, .events = POLLIN};
        owner[n++] = -1;
        for (int i = 0; i < ncsocks; i++) {
            short ev = 0;
            if (csocks[i].what & CURL_POLL_IN)
                ev |= POLLIN;
            if (csocks[i].what & CURL_POLL_OUT)
                ev |= POLLOUT;
            pfd[n] = (struct pollfd){.fd = csocks[i].fd, .events = ev};
            owner[n++] = -2;
        }
        long long wait = wake - mono_ms();
        int got = poll(pfd, (nfds_t)n, wait < 0 ? 0 : (int)wait);
        if (got < 0 && errno != EINTR) {
            log_msg(LOG_ERROR, "gateway-sandbox: poll failed: %s", strerror(errno));
            break;
        }
        now = mono_ms();
        int running = 0;
        for (int k = 0; got > 0 && k < n; k++) {
            if (pfd[k].revents == 0)
                continue;
            if (owner[k] == -1) {
                accept_all(now);
            } else if (owner[k] == -2) {
                int mask = 0;
                if (pfd[k].revents & POLLIN)
                    mask |= CURL_CSELECT_IN;
                if (pfd[k].revents & POLLOUT)
                    mask |= CURL_CSELECT_OUT;
                if (pfd[k].revents & (POLLERR | POLLHUP | POLLNVAL))
                    mask |= CURL_CSELECT_ERR;
                curl_multi_socket_action(multi, pfd[k].fd, mask, &running);
            } else {
                struct conn *c = conns[owner[k]];
                if (c == NULL)
                    continue;
                if (pfd[k].revents & (POLLERR | POLLNVAL)) {
                    c->dead = 1;
                } else {
                    if (pfd[k].revents & (POLLIN | POLLHUP))
                        on_readable(c, now);
                    if (!c->dead && (pfd[k].revents & POLLOUT))
                        on_writable(c, now);
                    else if (!c->dead && c->out_off < c->out_len && c->release_at == 0)
                        on_writable(c, now); /* answer at once rather than after a poll */
                }
                if (c->dead)
                    conn_close(owner[k]);
            }
        }
        if (curl_timer_at >= 0 && mono_ms() >= curl_timer_at) {
            curl_timer_at = -1;
            curl_multi_socket_action(multi, CURL_SOCKET_TIMEOUT, 0, &running);
        }
        collect_done();
    }
}

static void shutdown_all(void)
{
    for (int i = 0; i < MAX_CONNS; i++)
        conn_close(i);
    if (listen_fd >= 0)
        close(listen_fd);
    for (size_t i = 0; i < events.n; i++) {
        if (events.v[i].h != NULL) {
            curl_multi_remove_handle(multi, events.v[i].h);
            curl_easy_cleanup(events.v[i].h);
        }
        curl_slist_free_all(events.v[i].headers);
        free(events.v[i].body);
    }
    curl_multi_cleanup(multi);
    curl_global_cleanup();
    free(events.v);
    free(refunds.v);
    free(payments.v);
    free(links.v);
    free(payouts.v);
    free(funds.v);
    free(contacts.v);
    if (journal_fd >= 0)
        close(journal_fd);
}

int cmd_gateway_sandbox(int argc, char **argv)
{
    cli_load_stack_env();
    const char *env = getenv("APP_ENV");
    if (env != NULL && !strcmp(env, "production")) {
        fprintf(stderr, "loanctl gateway-sandbox: refused with APP_ENV=production: the sandbox "
                        "moves no money and must never stand in for the gateway\n");
        return 1;
    }
    if (cli_config() != 0)
        return 1;
    const struct config *cfg = config_get();
    if (cfg->env == ENV_PRODUCTION)
        return 1;
    if (cfg->gateway_key_secret[0] == '\0') {
        fprintf(stderr, "loanctl gateway-sandbox: GATEWAY_KEY_SECRET must be set (the API's "
                        "basic auth password)\n");
        return 1;
    }
    key_id = cfg->gateway_key_id;
    key_secret = cfg->gateway_key_secret;
    webhook_secret = cfg->gateway_webhook_secret;
    source_account = cfg->gateway_account;
    const char *port_s = cli_opt(argc, argv, "--port");
    if (port_s == NULL)
        port_s = getenv("GATEWAY_PORT");
    char *end = NULL;
    long port = port_s ? strtol(port_s, &end, 10) : 0;
    if (port_s == NULL || *end || port < 1 || port > 65535) {
        fprintf(stderr, "loanctl gateway-sandbox: give --port P or GATEWAY_PORT (1-65535)\n");
        return 2;
    }
    if (read_settings() != 0)
        return 1;
    listen_port = port;
    log_open("", 1, LOG_INFO);
    derive_account_id();
    journal_path = cli_opt(argc, argv, "--journal");
    if (journal_path != NULL) {
        replay(journal_path);
        journal_fd = open(journal_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
        if (journal_fd < 0) {
            fprintf(stderr, "loanctl gateway-sandbox: cannot open the journal %s: %s\n",
                    journal_path, strerror(errno));
            return 1;
        }
    }
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0 || (multi = curl_multi_init()) == NULL) {
        fprintf(stderr, "loanctl gateway-sandbox: libcurl could not be initialised\n");
        return 1;
    }
    curl_multi_setopt(multi, CURLMOPT_SOCKETFUNCTION, on_curl_socket);
    curl_multi_setopt(multi, CURLMOPT_TIMERFUNCTION, on_curl_timer);
    listen_fd = open_listener((int)port);
    if (listen_fd < 0) {
        fprintf(stderr, "loanctl gateway-sandbox: cannot listen on 127.0.0.1:%ld: %s\n", port,
                strerror(errno));
        shutdown_all();
        return 1;
    }
    struct sigaction sa = {0};
    sa.sa_handler = on_signal; /* no SA_RESTART: poll returns at once */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    log_msg(LOG_INFO,
            "gateway-sandbox: listening on 127.0.0.1:%ld (delay %ld ms, duplicates %.2f, shuffle "
            "%d, webhooks to %s, journal %s: %zu payout(s), %zu payment link(s), %zu event(s) "
            "restored)",
            port, set.delay_ms, set.duplicate_rate, set.shuffle,
            set.webhook_url[0] ? set.webhook_url : "nowhere", journal_path ? journal_path : "none",
            payouts.n, links.n, events.n);
    loop();
    log_msg(LOG_INFO, "gateway-sandbox: stopping");
    shutdown_all();
    return 0;
}
