/*
 * The dashboard's aggregates, read from the trigger-maintained loan_stats rows (sql/004: each
 * write appends a +1/-1 delta row, loan_stats_compact folds them), so every read is a small
 * aggregate whatever the number of applications. The read functions return the documents the
 * dashboard serves as json-c objects (data, not responses); caching them is the caller's.
 */
#include "stats.h"

#include <stdio.h>
#include <stdlib.h>

#include "js.h"

/* clang-format off */
#define ALL "FROM loan_stats_all"
#define CNT(cond) "coalesce(sum(n) FILTER (WHERE " cond "), 0)"

const struct db_stmt stats_sql[DASH_SQL_COUNT] = {
    [DASH_OVERVIEW] = {"dash_overview", "SELECT coalesce(sum(n), 0), " CNT("final_status = 'APPROVED'") ", "
                      CNT("final_status = 'REJECTED'") ", " CNT("final_status = 'PENDING'") " " ALL},
    [DASH_REGION] = {"dash_region", "SELECT region, sum(n), " CNT("final_status = 'APPROVED'") ", "
                    CNT("final_status = 'REJECTED'") ", " CNT("final_status = 'PENDING'") " " ALL
                    " GROUP BY region HAVING sum(n) > 0 ORDER BY sum(n) DESC, region"},
    [DASH_COUNTRY] = {"dash_country",
     "SELECT c.name, c.region, sum(n), " CNT("final_status = 'APPROVED'") ", "
     CNT("final_status = 'REJECTED'") ", " CNT("final_status = 'PENDING'") " " ALL
     " s JOIN countries c ON c.alpha2 = s.country_code GROUP BY c.name, c.region "
     "HAVING sum(n) > 0 ORDER BY sum(n) DESC, c.name"},
    [DASH_VERIFICATION] = {"dash_verification",
     "SELECT " CNT("kyc_status = 'APPROVED'") ", " CNT("kyc_status = 'REJECTED'") ", "
     CNT("compliance_status = 'APPROVED'") ", " CNT("compliance_status = 'REJECTED'") ", "
     CNT("political_connection") ", " CNT("senior_relative") ", "
     CNT("eligibility_status = 'APPROVED'") ", " CNT("eligibility_status = 'REJECTED'") " " ALL},
    [DASH_FINANCIAL] = {"dash_financial",
     "SELECT coalesce(sum(n), 0), "
     "coalesce(round(sum(sum_credit)::numeric / nullif(sum(n), 0), 2), 0)::text, "
     "coalesce(round(sum(sum_dti) / nullif(sum(n_dti), 0), 4), 0)::text, "
     "coalesce(round(sum(sum_loan) / nullif(sum(n), 0), 2), 0)::text, "
     "coalesce(round(sum(sum_loan), 2), 0)::text, "
     "coalesce(round(sum(sum_income) / nullif(sum(n), 0), 2), 0)::text " ALL
     " WHERE final_status = 'APPROVED'"},
    [DASH_TIMELINE] = {"dash_timeline",
     "SELECT d::date::text, coalesce(sum(s.n), 0), "
     "coalesce(sum(s.n) FILTER (WHERE s.final_status = 'APPROVED'), 0), "
     "coalesce(sum(s.n) FILTER (WHERE s.final_status = 'REJECTED'), 0) "
     "FROM generate_series((now() AT TIME ZONE 'UTC')::date - ($1::int - 1), "
     "(now() AT TIME ZONE 'UTC')::date, interval '1 day') AS d "
     "LEFT JOIN loan_stats_all s ON s.day = d::date GROUP BY d ORDER BY d"},
    [DASH_FUNNEL] = {"dash_funnel",
     "SELECT coalesce(sum(n), 0), " CNT("kyc_status = 'APPROVED'") ", "
     CNT("kyc_status = 'APPROVED' AND compliance_status = 'APPROVED'") ", "
     CNT("kyc_status = 'APPROVED' AND compliance_status = 'APPROVED' AND "
         "eligibility_status = 'APPROVED'") ", "
     CNT("final_status = 'APPROVED'") " " ALL},
    [DASH_LATEST] = {"dash_latest",
     "SELECT application_id, name, country, final_status, loan_amount::text, "
     "iso_utc(created_at) FROM loan_applications ORDER BY created_at DESC, id DESC LIMIT 10"},
    [DASH_COMPACT] = {"dash_compact", "SELECT loan_stats_compact()"},
};
/* clang-format on */
const struct db_stmts stats_statements = DB_STMTS("stats", stats_sql);

static json_object *num(const char *text)
{
    return json_object_new_double_s(strtod(text, NULL), text);
}

static json_object *count(const PGresult *res, int row, int col)
{
    return json_object_new_int64(atoll(PQgetvalue(res, row, col)));
}

static json_object *rate(long long part, long long whole)
{
    return js_new_fixed(whole > 0 ? 100.0 * (double)part / (double)whole : 0.0, 2);
}

/* Runs one statement: the result, or NULL with *failed set to the failed result (NULL when the
 * database is unreachable). */
static PGresult *run(arena *a, const struct db_stmt *stmt, int n, const char *const *p,
                     const PGresult **failed)
{
    PGresult *res = db_exec(a, stmt, n, p);
    if (db_ok(res))
        return res;
    *failed = res;
    return NULL;
}

json_object *stats_overview(arena *a, const PGresult **failed)
{
    PGresult *res = run(a, STATS_SQL(DASH_OVERVIEW), 0, NULL, failed);
    if (res == NULL)
        return NULL;
    long long total = atoll(PQgetvalue(res, 0, 0)), approved = atoll(PQgetvalue(res, 0, 1));
    json_object *o = json_object_new_object();
    json_object_object_add(o, "total_applications", json_object_new_int64(total));
    json_object_object_add(o, "approved", json_object_new_int64(approved));
    json_object_object_add(o, "rejected", count(res, 0, 2));
    json_object_object_add(o, "pending", count(res, 0, 3));
    json_object_object_add(o, "approval_rate", rate(approved, total));
    return o;
}

json_object *stats_by_region(arena *a, const PGresult **failed)
{
    PGresult *res = run(a, STATS_SQL(DASH_REGION), 0, NULL, failed);
    if (res == NULL)
        return NULL;
    json_object *arr = json_object_new_array();
    for (int i = 0; i < PQntuples(res); i++) {
        json_object *e = json_object_new_object();
        json_object_object_add(e, "region", json_object_new_string(PQgetvalue(res, i, 0)));
        json_object_object_add(e, "total", count(res, i, 1));
        json_object_object_add(e, "approved", count(res, i, 2));
        json_object_object_add(e, "rejected", count(res, i, 3));
        json_object_object_add(e, "pending", count(res, i, 4));
        json_object_array_add(arr, e);
    }
    json_object *o = json_object_new_object();
    json_object_object_add(o, "regions", arr);
    return o;
}

json_object *stats_by_country(arena *a, const PGresult **failed)
{
    PGresult *res = run(a, STATS_SQL(DASH_COUNTRY), 0, NULL, failed);
    if (res == NULL)
        return NULL;
    json_object *arr = json_object_new_array();
    for (int i = 0; i < PQntuples(res); i++) {
        json_object *e = json_object_new_object();
        json_object_object_add(e, "country", json_object_new_string(PQgetvalue(res, i, 0)));
        json_object_object_add(e, "region", json_object_new_string(PQgetvalue(res, i, 1)));
        json_object_object_add(e, "total", count(res, i, 2));
        json_object_object_add(e, "approved", count(res, i, 3));
        json_object_object_add(e, "rejected", count(res, i, 4));
        json_object_object_add(e, "pending", count(res, i, 5));
        json_object_array_add(arr, e);
    }
    json_object *o = json_object_new_object();
    json_object_object_add(o, "countries", arr);
    return o;
}

static json_object *stage(long long approved, long long rejected)
{
    json_object *s = json_object_new_object();
    json_object_object_add(s, "approved", json_object_new_int64(approved));
    json_object_object_add(s, "rejected", json_object_new_int64(rejected));
    json_object_object_add(s, "pass_rate", rate(approved, approved + rejected));
    return s;
}

json_object *stats_verification(arena *a, const PGresult **failed)
{
    PGresult *res = run(a, STATS_SQL(DASH_VERIFICATION), 0, NULL, failed);
    if (res == NULL)
        return NULL;
    long long v[8];
    for (int i = 0; i < 8; i++)
        v[i] = atoll(PQgetvalue(res, 0, i));
    json_object *o = json_object_new_object();
    json_object_object_add(o, "kyc", stage(v[0], v[1]));
    json_object *c = stage(v[2], v[3]);
    json_object_object_add(c, "political_connections", json_object_new_int64(v[4]));
    json_object_object_add(c, "senior_relatives", json_object_new_int64(v[5]));
    json_object_object_add(o, "compliance", c);
    json_object_object_add(o, "eligibility", stage(v[6], v[7]));
    return o;
}

json_object *stats_financial(arena *a, const PGresult **failed)
{
    PGresult *res = run(a, STATS_SQL(DASH_FINANCIAL), 0, NULL, failed);
    if (res == NULL)
        return NULL;
    json_object *o = json_object_new_object();
    json_object_object_add(o, "average_credit_score", num(PQgetvalue(res, 0, 1)));
    json_object_object_add(o, "average_dti_ratio", num(PQgetvalue(res, 0, 2)));
    json_object_object_add(o, "average_loan_amount", num(PQgetvalue(res, 0, 3)));
    json_object_object_add(o, "total_loan_amount", num(PQgetvalue(res, 0, 4)));
    json_object_object_add(o, "average_income", num(PQgetvalue(res, 0, 5)));
    return o;
}

json_object *stats_timeline(arena *a, int days, const PGresult **failed)
{
    char d[16];
    snprintf(d, sizeof(d), "%d", days);
    const char *p[1] = {d};
    PGresult *res = run(a, STATS_SQL(DASH_TIMELINE), 1, p, failed);
    if (res == NULL)
        return NULL;
    json_object *arr = json_object_new_array();
    for (int i = 0; i < PQntuples(res); i++) {
        json_object *e = json_object_new_object();
        json_object_object_add(e, "date", json_object_new_string(PQgetvalue(res, i, 0)));
        json_object_object_add(e, "total", count(res, i, 1));
        json_object_object_add(e, "approved", count(res, i, 2));
        json_object_object_add(e, "rejected", count(res, i, 3));
        json_object_array_add(arr, e);
    }
    json_object *o = json_object_new_object();
    json_object_object_add(o, "timeline", arr);
    return o;
}

/* The funnel of the dashboard page: submitted → KYC passed → compliance passed → eligible →
 * approved. */
static json_object *funnel(arena *a, const PGresult **failed)
{
    PGresult *res = run(a, STATS_SQL(DASH_FUNNEL), 0, NULL, failed);
    if (res == NULL)
        return NULL;
    static const char *labels[] = {"Submitted", "KYC passed", "Compliance passed", "Eligible",
                                   "Approved"};
    json_object *arr = json_object_new_array();
    for (int i = 0; i < 5; i++) {
        json_object *e = json_object_new_object();
        json_object_object_add(e, "stage", json_object_new_string(labels[i]));
        json_object_object_add(e, "count", count(res, 0, i));
        json_object_array_add(arr, e);
    }
    json_object *o = json_object_new_object();
    json_object_object_add(o, "funnel", arr);
    return o;
}

static json_object *latest(arena *a, const PGresult **failed)
{
    PGresult *res = run(a, STATS_SQL(DASH_LATEST), 0, NULL, failed);
    if (res == NULL)
        return NULL;
    static const char *keys[] = {"application_id", "name",        "country",
                                 "final_status",   "loan_amount", "created_at"};
    json_object *arr = json_object_new_array();
    for (int i = 0; i < PQntuples(res); i++) {
        json_object *e = json_object_new_object();
        for (int k = 0; k < 6; k++)
            json_object_object_add(e, keys[k], json_object_new_string(PQgetvalue(res, i, k)));
        json_object_array_add(arr, e);
    }
    return arr;
}

/* Everything the HTML dashboard shows, built in one go: cached as one entry per range of days,
 * so a page view costs one MGET and one parse. */
json_object *stats_page(arena *a, int days, const PGresult **failed)
{
    static const char *const keys[] = {"overview",  "by_region", "by_country", "verification",
                                       "financial", "timeline",  "funnel",     "latest"};
    json_object *o = json_object_new_object();
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        json_object *v = NULL;
        switch (i) {
        case 0:
            v = stats_overview(a, failed);
            break;
        case 1:
            v = stats_by_region(a, failed);
            break;
        case 2:
            v = stats_by_country(a, failed);
            break;
        case 3:
            v = stats_verification(a, failed);
            break;
        case 4:
            v = stats_financial(a, failed);
            break;
        case 5:
            v = stats_timeline(a, days, failed);
            break;
        case 6:
            v = funnel(a, failed);
            break;
        default:
            v = latest(a, failed);
            break;
        }
        if (v == NULL) {
            json_object_put(o);
            return NULL;
        }
        json_object_object_add(o, keys[i], v);
    }
    return o;
}

int stats_compact(arena *a)
{
    return db_ok(db_exec(a, STATS_SQL(DASH_COMPACT), 0, NULL)) ? 0 : -1;
}
