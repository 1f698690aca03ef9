/*
 * Offers and their Key Fact Statement. An application that becomes APPROVED gets an offer in the
 * same transaction: the active product of its country prices it (the rate the pipeline set: the
 * market's base rate plus the risk grade's spread), the schedule engine lays out the
 * installments as if disbursed today, the fee and its tax come off the amount paid out, and the
 * APR is the IRR of what the borrower receives and pays (RBI: on the net disbursed amount).
 *
 * The KFS is written once, as JSON text in a fixed key order, and hashed; that text is what the
 * applicant reads (GET .../kfs, the printable page), what the agreement embeds and what the
 * consent record names by its SHA-256. The offer's own document is kept the same way; only its
 * state (OPEN, ACCEPTED, SIGNED, or EXPIRED once valid_until has passed) is read live.
 */
#include "lending.h"

#include <json-c/json.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "applications.h"
#include "js.h"
#include "log.h"
#include "schedule_json.h"
#include "schedule.h"

enum { OF_PRODUCT, OF_INSERT, OF_LOG, OF_GET, OF_CLEAR, OF_WITHDRAW, OF_TAKEN, OF_SQL_COUNT };

/* clang-format off */
#define PRODUCT_COLS                                                                              \
    "code, version, name, currency, method, rounding, array_to_string(tenures, ', '), "           \
    "default_tenure, fee_bps, fee_min, fee_max, fee_tax_bps, penal_charge, foreclosure_bps, "     \
    "prepayment_rule, cooling_off_days, offer_valid_days, lender_name, lender_address, "          \
    "grievance_name, grievance_email, grievance_phone, $2::int = ANY (tenures)"
enum {
    P_CODE, P_VERSION, P_NAME, P_CURRENCY, P_METHOD, P_ROUNDING, P_TENURES, P_DEFAULT_TENURE,
    P_FEE_BPS, P_FEE_MIN, P_FEE_MAX, P_FEE_TAX_BPS, P_PENAL, P_FORECLOSURE_BPS, P_PREPAYMENT,
    P_COOLING_OFF, P_VALID_DAYS, P_LENDER, P_LENDER_ADDRESS, P_GRIEVANCE_NAME,
    P_GRIEVANCE_EMAIL, P_GRIEVANCE_PHONE, P_TENURE_OK,
};
static const struct db_stmt sql[OF_SQL_COUNT] = {
    [OF_PRODUCT] = {"offers_product",
     "SELECT " PRODUCT_COLS " FROM loan_products WHERE country_code = $1 AND active"},
    [OF_INSERT] = {"offers_insert",
     "INSERT INTO loan_offers (offer_id, application_id, user_id, product_code, product_version, "
     "currency, principal, rate_bps, tenure_months, emi, fee, fee_tax, net_disbursed, "
     "total_interest, apr_bps, first_due_date, valid_until, offer_json, kfs, kfs_sha256) "
     "VALUES ($1, $2, $3::bigint, $4, $5::int, $6, $7::bigint, $8::int, $9::int, $10::bigint, "
     "$11::bigint, $12::bigint, $13::bigint, $14::bigint, $15::int, $16::date, $17::date, $18, "
     "$19, $20) ON CONFLICT (application_id) DO NOTHING RETURNING offer_id"},
    [OF_LOG] = {"offers_log",
     "INSERT INTO approval_logs (application_id, action, actor_id, actor_email, reason, "
     "status_before, status_after, details) VALUES ($1, $2, $3::bigint, $4, $5, 'APPROVED', "
     "'APPROVED', $6::jsonb)"},
    [OF_GET] = {"offers_get",
     "SELECT a.user_id, o.offer_json, CASE WHEN o.state = 'OPEN' AND o.valid_until < business_date() "
     "THEN 'EXPIRED' ELSE o.state END, o.kfs, o.kfs_sha256, iso_utc(o.created_at) "
     "FROM loan_applications a LEFT JOIN loan_offers o USING (application_id) "
     "WHERE a.application_id = $1"},
    [OF_CLEAR] = {"offers_clear",
     "DELETE FROM loan_offers WHERE application_id = $1 AND (state = 'WITHDRAWN' OR "
     "(state = 'OPEN' AND valid_until < business_date()))"},
    [OF_WITHDRAW] = {"offers_withdraw",
     "UPDATE loan_offers SET state = 'WITHDRAWN' WHERE application_id = $1 AND state = 'OPEN' "
     "RETURNING offer_id"},
    [OF_TAKEN] = {"offers_taken",
     "SELECT 1 FROM loan_offers WHERE application_id = $1 AND state IN ('ACCEPTED', 'SIGNED')"},
};
/* clang-format on */
const struct db_stmts offers_statements = DB_STMTS("offers", sql);
#define SQL(id) (&sql[id])

static long long num(const PGresult *r, int col)
{
    return atoll(PQgetvalue(r, 0, col));
}

int lending_log(arena *a, const char *app_id, const char *action, long long actor_id,
                const char *actor_email, const char *reason, json_object *details)
{
    char actor[24];
    snprintf(actor, sizeof(actor), "%lld", actor_id);
    const char *d =
        details ? json_object_to_json_string_ext(details, JSON_C_TO_STRING_PLAIN) : NULL;
    const char *p[6] = {app_id, action, actor_id > 0 ? actor : NULL, actor_email, reason, d};
    return db_ok(db_exec(a, SQL(OF_LOG), 6, p)) ? 0 : -1;
}

sched_day lending_today(void)
{
    /* India's date (UTC+05:30, no daylight saving), as business_date() in SQL. */
    time_t now = time(NULL) + LENDING_UTC_OFFSET;
    struct tm tm;
    gmtime_r(&now, &tm);
    return sched_date(tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
}

void lending_new_id(const char *prefix, char out[32])
{
    static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    char ymd[16];
    sched_format_date(lending_today(), ymd);
    int n = snprintf(out, 32, "%s-%.4s%.2s%.2s-", prefix, ymd, ymd + 5, ymd + 8);
    for (int i = 0; i < 8 && n + i < 31; i++)
        out[n + i] = alphabet[randombytes_uniform(36)];
    out[n + 8 < 31 ? n + 8 : 31] = '\0';
}

void lending_fail(arena *a, struct lending_outcome *out, const PGresult *r)
{
    db_rollback();
    lending_read_failed(a, out, r);
}

void lending_read_failed(arena *a, struct lending_outcome *out, const PGresult *r)
{
    out->code = r == NULL ? LENDING_DB_DOWN : LENDING_FAULT;
    out->detail = db_error_brief(a, r);
}

PGresult *lending_begin_lock(arena *a, const struct db_stmt *stmt, const char *id,
                             struct lending_outcome *out)
{
    memset(out, 0, sizeof(*out));
    if (db_begin() != 0) {
        out->code = LENDING_DB_DOWN;
        return NULL;
    }
    return lending_lock_row(a, stmt, id, out);
}

PGresult *lending_lock_row(arena *a, const struct db_stmt *stmt, const char *id,
                           struct lending_outcome *out)
{
    const char *p[1] = {id};
    PGresult *r = db_exec(a, stmt, 1, p);
    if (!db_ok(r)) {
        lending_fail(a, out, r);
        return NULL;
    }
    if (PQntuples(r) == 0) {
        db_rollback();
        out->code = LENDING_NOT_FOUND;
        return NULL;
    }
    return r;
}

/* n working days (Monday to Friday) after day. */
static sched_day working_days_after(sched_day day, int n)
{
    while (n > 0) {
        day++;
        int wd = (int)(((day % 7) + 11) % 7); /* 1970-01-01 was a Thursday: 0 = Monday */
        if (wd < 5)
            n--;
    }
    return day;
}

int lending_tenure_allowed(arena *a, const char *country_code, int tenure, const char **allowed)
{
    char t[16];
    snprintf(t, sizeof(t), "%d", tenure);
    const char *p[2] = {country_code, t};
    PGresult *r = db_exec(a, SQL(OF_PRODUCT), 2, p);
    if (!db_ok(r))
        return -1;
    if (PQntuples(r) == 0) {
        *allowed = "";
        return 0;
    }
    *allowed = PQgetvalue(r, 0, P_TENURES);
    return PQgetvalue(r, 0, P_TENURE_OK)[0] == 't';
}

static void add(json_object *o, const char *k, json_object *v)
{
    json_object_object_add(o, k, v);
}

static json_object *str(const char *s)
{
    return json_object_new_string(s);
}

static json_object *date_json(sched_day d)
{
    char buf[16];
    return json_object_new_string(sched_format_date(d, buf));
}

/* half-even of v * bps / 10000 */
static int64_t pct(int64_t v, int bps)
{
    return sched_div_half_even((__int128)v * bps, 10000);
}

int lending_offer_on_approval(arena *a, const PGresult *row)
{
    const char *app_id = PQgetvalue(row, 0, LC_APP_ID);
    if (PQgetisnull(row, 0, LC_RATE_BPS)) {
        log_msg(LOG_WARN, "application %s approved without a price: no offer made", app_id);
        return 0;
    }
    int tenure_asked = PQgetisnull(row, 0, LC_TENURE) ? 0 : atoi(PQgetvalue(row, 0, LC_TENURE));
    char t[16];
    snprintf(t, sizeof(t), "%d", tenure_asked);
    const char *pp[2] = {PQgetvalue(row, 0, LC_COUNTRY_CODE), t};
    PGresult *pr = db_exec(a, SQL(OF_PRODUCT), 2, pp);
    if (!db_ok(pr))
        return -1;
    if (PQntuples(pr) == 0) {
        log_msg(LOG_INFO, "application %s approved: no loan product for country %s, no offer",
                app_id, PQgetvalue(row, 0, LC_COUNTRY_CODE));
        return 0;
    }
    int tenure = tenure_asked;
    if (tenure == 0 || PQgetvalue(pr, 0, P_TENURE_OK)[0] != 't')
        tenure = (int)num(pr, P_DEFAULT_TENURE);

    int64_t principal;
    const char *amount = PQgetvalue(row, 0, LC_LOAN);
    if (js_parse_cents(amount, strlen(amount), INT64_MAX / 4, &principal) != 0 || principal <= 0) {
        log_msg(LOG_WARN, "application %s approved with an amount no schedule can lend: no offer",
                app_id);
        return 0;
    }
    int rate = atoi(PQgetvalue(row, 0, LC_RATE_BPS));

    /* The fee: a percentage of the principal within [min, max], never more than a tenth of it;
     * the tax on it; both come off the amount paid out. */
    int64_t fee = pct(principal, (int)num(pr, P_FEE_BPS));
    if (fee < num(pr, P_FEE_MIN))
        fee = num(pr, P_FEE_MIN);
    if (fee > num(pr, P_FEE_MAX))
        fee = num(pr, P_FEE_MAX);
    if (fee > principal / 10)
        fee = principal / 10;
    int64_t tax = pct(fee, (int)num(pr, P_FEE_TAX_BPS));
    int64_t net = principal - fee - tax;

    sched_day today = lending_today();
    struct sched_terms terms = {
        .principal = principal,
        .minor_exp = 2,
        .rate_bps = rate,
        .months = tenure,
        .disbursed = today,
        .first_due = sched_add_months(today, 1),
        .daycount = SCHED_30_360,
    };
    /* Terms the engine cannot lay out (a product row it cannot read, an amount too small for the
     * tenure, a rate out of range) make no offer: the approval stands, an officer sees why. */
    if (sched_parse_method(PQgetvalue(pr, 0, P_METHOD), &terms.method) != 0 ||
        sched_parse_rounding(PQgetvalue(pr, 0, P_ROUNDING), &terms.rounding, &terms.multiple) !=
            0) {
        log_msg(LOG_ERROR,
                "application %s: product %s has a method or rounding the engine does "
                "not know: no offer",
                app_id, PQgetvalue(pr, 0, P_CODE));
        return 0;
    }
    struct sched_item *items = arena_alloc(a, sizeof(*items) * (size_t)tenure);
    if (items == NULL)
        return -1;
    struct schedule s;
    enum sched_error se = sched_build(&terms, items, tenure, &s);
    int apr = 0;
    if (se != SCHED_OK || net <= 0 || sched_apr(net, items, s.count, &apr) != 0) {
        log_msg(LOG_WARN, "application %s: the terms build no schedule or APR (%s): no offer",
                app_id, se != SCHED_OK ? sched_error_field(se) : "apr");
        return 0;
    }
    sched_day valid = working_days_after(today, (int)num(pr, P_VALID_DAYS));

    char offer_id[32];
    lending_new_id("OFR", offer_id);
    const char *currency = PQgetvalue(pr, 0, P_CURRENCY);

    /* The KFS (RBI's Part 1, Part 2 and the illustrative schedule), in a fixed order. */
    json_object *k = json_object_new_object();
    add(k, "kfs_version", json_object_new_int(1));
    add(k, "offer_id", str(offer_id));
    add(k, "application_id", str(app_id));
    json_object *lender = json_object_new_object();
    add(lender, "name", str(PQgetvalue(pr, 0, P_LENDER)));
    add(lender, "address", str(PQgetvalue(pr, 0, P_LENDER_ADDRESS)));
    add(k, "lender", lender);
    add(k, "borrower", str(PQgetvalue(row, 0, LC_NAME)));
    json_object *prod = json_object_new_object();
    add(prod, "code", str(PQgetvalue(pr, 0, P_CODE)));
    add(prod, "name", str(PQgetvalue(pr, 0, P_NAME)));
    add(prod, "version", json_object_new_int((int)num(pr, P_VERSION)));
    add(k, "product", prod);
    add(k, "loan_amount", js_new_money(principal));
    add(k, "currency", str(currency));
    add(k, "disbursal_schedule",
        str("Single disbursal of the net amount into the borrower's own eKYC-verified bank "
            "account after the agreement is signed"));
    add(k, "tenure_months", json_object_new_int(tenure));
    json_object *inst = json_object_new_object();
    add(inst, "type", str("monthly equated installments"));
    add(inst, "count", json_object_new_int(s.count));
    add(inst, "amount", js_new_money(s.emi));
    add(inst, "first_due_date", date_json(terms.first_due));
    add(inst, "commencement", str("one month after disbursal"));
    add(k, "installments", inst);
    json_object *ir = json_object_new_object();
    add(ir, "annual_rate", js_new_money(rate));
    add(ir, "type", str("fixed"));
    add(ir, "benchmark", str(PQgetvalue(row, 0, LC_RATE_BASE_SYMBOL)));
    add(ir, "reset", str("none (fixed for the tenure)"));
    add(k, "interest_rate", ir);
    json_object *fees = json_object_new_array();
    json_object *f1 = json_object_new_object();
    add(f1, "name", str("Processing fee"));
    add(f1, "amount", js_new_money(fee));
    add(f1, "payable_to", str("lender"));
    add(f1, "when", str("deducted from the disbursal"));
    json_object_array_add(fees, f1);
    json_object *f2 = json_object_new_object();
    add(f2, "name", str("GST on the processing fee"));
    add(f2, "amount", js_new_money(tax));
    add(f2, "payable_to", str("government, collected by the lender"));
    add(f2, "when", str("deducted from the disbursal"));
    json_object_array_add(fees, f2);
    add(k, "fees", fees);
    add(k, "net_disbursed", js_new_money(net));
    add(k, "total_interest", js_new_money(s.total_interest));
    add(k, "total_cost", js_new_money(s.total_interest + fee + tax));
    add(k, "total_repayable", js_new_money(s.total_payment));
    add(k, "apr", js_new_money(apr));
    json_object *penal = json_object_new_object();
    add(penal, "amount", js_new_money(num(pr, P_PENAL)));
    add(penal, "description",
        str("a fixed charge per installment unpaid after its due date; never added to the "
            "interest rate and never capitalised"));
    add(k, "penal_charges", penal);
    add(k, "foreclosure_charges",
        num(pr, P_FORECLOSURE_BPS) == 0
            ? str("nil")
            : str(arena_printf(a, "%lld.%02lld %% of the principal prepaid",
                               num(pr, P_FORECLOSURE_BPS) / 100,
                               num(pr, P_FORECLOSURE_BPS) % 100)));
    add(k, "prepayment", str(PQgetvalue(pr, 0, P_PREPAYMENT)));
    add(k, "cooling_off_days", json_object_new_int((int)num(pr, P_COOLING_OFF)));
    add(k, "cooling_off",
        str("within the cooling-off period the borrower may exit by repaying the principal and "
            "the interest at the APR for the days held, without any penalty"));
    json_object *g = json_object_new_object();
    add(g, "name", str(PQgetvalue(pr, 0, P_GRIEVANCE_NAME)));
    add(g, "email", str(PQgetvalue(pr, 0, P_GRIEVANCE_EMAIL)));
    add(g, "phone", str(PQgetvalue(pr, 0, P_GRIEVANCE_PHONE)));
    add(k, "grievance_officer", g);
    add(k, "recovery_agents", str("none engaged; recovery by the lender's own staff"));
    add(k, "valid_until", date_json(valid));
    add(k, "schedule", sched_json_items(items, s.count));
    const char *kfs = arena_strdup(a, json_object_to_json_string_ext(k, JSON_C_TO_STRING_PLAIN));
    json_object_put(k);
    unsigned char h[32];
    crypto_hash_sha256(h, (const unsigned char *)kfs, strlen(kfs));
    char kfs_hex[65];
    sodium_bin2hex(kfs_hex, sizeof(kfs_hex), h, sizeof(h));

    json_object *o = json_object_new_object();
    add(o, "offer_id", str(offer_id));
    add(o, "application_id", str(app_id));
    prod = json_object_new_object();
    add(prod, "code", str(PQgetvalue(pr, 0, P_CODE)));
    add(prod, "name", str(PQgetvalue(pr, 0, P_NAME)));
    add(prod, "version", json_object_new_int((int)num(pr, P_VERSION)));
    add(o, "product", prod);
    add(o, "principal", js_new_money(principal));
    add(o, "currency", str(currency));
    add(o, "annual_rate", js_new_money(rate));
    add(o, "tenure_months", json_object_new_int(tenure));
    add(o, "emi", js_new_money(s.emi));
    add(o, "fee", js_new_money(fee));
    add(o, "fee_tax", js_new_money(tax));
    add(o, "net_disbursed", js_new_money(net));
    add(o, "total_interest", js_new_money(s.total_interest));
    add(o, "total_cost", js_new_money(s.total_interest + fee + tax));
    add(o, "apr", js_new_money(apr));
    add(o, "first_due_date", date_json(terms.first_due));
    add(o, "valid_until", date_json(valid));
    add(o, "kfs_sha256", str(kfs_hex));
    add(o, "schedule", sched_json_items(items, s.count));
    add(o, "totals", sched_json_totals(&s));
    const char *offer = arena_strdup(a, json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
    json_object_put(o);

    char v[12][24];
    snprintf(v[0], 24, "%" PRId64, principal);
    snprintf(v[1], 24, "%d", rate);
    snprintf(v[2], 24, "%d", tenure);
    snprintf(v[3], 24, "%" PRId64, s.emi);
    snprintf(v[4], 24, "%" PRId64, fee);
    snprintf(v[5], 24, "%" PRId64, tax);
    snprintf(v[6], 24, "%" PRId64, net);
    snprintf(v[7], 24, "%" PRId64, s.total_interest);
    snprintf(v[8], 24, "%d", apr);
    sched_format_date(terms.first_due, v[9]);
    sched_format_date(valid, v[10]);
    const char *p[20] = {offer_id,
                         app_id,
                         PQgetisnull(row, 0, LC_USER_ID) ? NULL : PQgetvalue(row, 0, LC_USER_ID),
                         PQgetvalue(pr, 0, P_CODE),
                         PQgetvalue(pr, 0, P_VERSION),
                         currency,
                         v[0],
                         v[1],
                         v[2],
                         v[3],
                         v[4],
                         v[5],
                         v[6],
                         v[7],
                         v[8],
                         v[9],
                         v[10],
                         offer,
                         kfs,
                         kfs_hex};
    const char *pc[1] = {app_id};
    if (!db_ok(db_exec(a, SQL(OF_CLEAR), 1, pc)))
        return -1;
    PGresult *ins = db_exec(a, SQL(OF_INSERT), 20, p);
    if (!db_ok(ins))
        return -1;
    if (PQntuples(ins) == 0)
        return 0; /* approved again (a re-evaluation): the offer made then stands */
    json_object *d = json_object_new_object();
    add(d, "offer_id", str(offer_id));
    add(d, "principal", js_new_money(principal));
    add(d, "annual_rate", js_new_money(rate));
    add(d, "apr", js_new_money(apr));
    add(d, "tenure_months", json_object_new_int(tenure));
    add(d, "kfs_sha256", str(kfs_hex));
    int rc = lending_log(a, app_id, "offer_created", 0, "system", NULL, d);
    json_object_put(d);
    return rc;
}

/* Reads the offer row for who. NULL with out set when there is nothing to show. */
static PGresult *offer_row(arena *a, const struct lending_actor *who, const char *app_id,
                           struct lending_outcome *out)
{
    const char *p[1] = {app_id};
    PGresult *r = db_exec(a, SQL(OF_GET), 1, p);
    if (!db_ok(r)) {
        lending_read_failed(a, out, r);
        return NULL;
    }
    if (PQntuples(r) == 0 ||
        (!who->officer && (PQgetisnull(r, 0, 0) || atoll(PQgetvalue(r, 0, 0)) != who->id))) {
        out->code = LENDING_NOT_FOUND;
        return NULL;
    }
    if (PQgetisnull(r, 0, 1)) {
        out->code = LENDING_NO_OFFER;
        return NULL;
    }
    return r;
}

/* The stored text with one or two more keys set (the live state and the creation time, the
 * KFS's hash); key2 may be NULL. */
static const char *with_key(arena *a, const char *text, const char *key, const char *value,
                            const char *key2, const char *value2)
{
    json_object *o = json_tokener_parse(text);
    if (o == NULL)
        return NULL;
    json_object_object_add(o, key, json_object_new_string(value));
    if (key2 != NULL)
        json_object_object_add(o, key2, json_object_new_string(value2));
    const char *s = arena_strdup(a, json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
    json_object_put(o);
    return s;
}

void lending_offer_get(arena *a, const struct lending_actor *who, const char *app_id, int kfs,
                       struct lending_outcome *out)
{
    memset(out, 0, sizeof(*out));
    PGresult *r = offer_row(a, who, app_id, out);
    if (r == NULL)
        return;
    const char *doc =
        kfs ? with_key(a, PQgetvalue(r, 0, 3), "kfs_sha256", PQgetvalue(r, 0, 4), NULL, NULL)
            : with_key(a, PQgetvalue(r, 0, 1), "state", PQgetvalue(r, 0, 2), "created_at",
                       PQgetvalue(r, 0, 5));
    if (doc == NULL) {
        out->code = LENDING_FAULT;
        out->detail = "a stored offer or KFS is not JSON";
        return;
    }
    out->json = arena_printf(a, "{\"%s\":%s}", kfs ? "kfs" : "offer", doc);
    out->code = LENDING_OK;
}

void lending_kfs_doc(arena *a, const struct lending_actor *who, const char *app_id,
                     struct lending_outcome *out)
{
    memset(out, 0, sizeof(*out));
    PGresult *r = offer_row(a, who, app_id, out);
    if (r == NULL)
        return;
    out->json = PQgetvalue(r, 0, 3);
    out->detail = PQgetvalue(r, 0, 4); /* the hash */
    out->state = PQgetvalue(r, 0, 2);
    out->code = LENDING_OK;
}

int lending_offer_withdraw(arena *a, const char *app_id)
{
    const char *p[1] = {app_id};
    PGresult *r = db_exec(a, SQL(OF_WITHDRAW), 1, p);
    if (!db_ok(r))
        return -1;
    if (PQntuples(r) == 0)
        return 0;
    json_object *d = json_object_new_object();
    json_object_object_add(d, "offer_id", json_object_new_string(PQgetvalue(r, 0, 0)));
    json_object_object_add(d, "state", json_object_new_string("WITHDRAWN"));
    int rc = lending_log(a, app_id, "offer_withdrawn", 0, "system", NULL, d);
    json_object_put(d);
    return rc;
}

int lending_offer_taken(arena *a, const char *app_id)
{
    const char *p[1] = {app_id};
    PGresult *r = db_exec(a, SQL(OF_TAKEN), 1, p);
    if (!db_ok(r))
        return -1;
    return PQntuples(r) > 0;
}
