/*
 * The dashboard's aggregates, read from the trigger-maintained loan_stats rows.
 */
#include "stats.h"

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
const struct db_stmts stats_statements = DB_STMTS("stats", stats_sql);
