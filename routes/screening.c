/*
 * Officers' sanctions search: GET /screening/search screens a typed name (with an optional date
 * of birth and country) against every active list the worker has indexed and answers the ranked
 * candidates with their evidence (docs/screening.md). Nothing is stored: a search is a look, not
 * a decision. The same rules as a submission's screening apply (refdata_search ->
 * screen_search), so what an officer sees is what a decision would be made from.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "js.h"
#include "loan.h"
#include "refdata.h"
#include "routes.h"

static json_object *screening_candidates_json(const struct refdata_candidate *c, int n)
{
    json_object *arr = json_object_new_array();
    for (int i = 0; i < n; i++) {
        json_object *o = json_object_new_object();
        json_object_object_add(o, "list", json_object_new_string(c[i].list));
        json_object_object_add(o, "list_version", json_object_new_string(c[i].version));
        json_object_object_add(o, "entry_id", json_object_new_int64(c[i].c.entry_id));
        json_object_object_add(o, "matched_name", json_object_new_string(c[i].c.matched_name));
        char sc[16];
        snprintf(sc, sizeof(sc), "%.4f", c[i].c.score);
        json_object_object_add(o, "score", json_object_new_double_s(c[i].c.score, sc));
        json_object_object_add(o, "kind", json_object_new_string(screen_kind_name(c[i].c.kind)));
        json_object_object_add(o, "level", json_object_new_string(screen_level_name(c[i].c.level)));
        json_object_object_add(o, "evidence", refdata_evidence_json(&c[i].c));
        json_object_array_add(arr, o);
    }
    return arr;
}

int screening_query(http_req *r, const char *name, const char *dob, const char *country_in,
                    int limit, json_object **out)
{
    const char *country = NULL;
    if (country_in != NULL && country_in[0]) {
        int db_down = 0;
        const struct country_info *ci = refdata_country(country_in, &db_down);
        if (ci == NULL)
            return db_down ? http_error(r, 503, "database_unavailable",
                                        "The service is temporarily unavailable")
                           : routes_query_invalid(r, "country",
                                                  "must be a country name, ISO alpha-2 or alpha-3");
        country = ci->code;
    }
    struct refdata_candidate *c = calloc(REFDATA_MAX_CANDIDATES, sizeof(*c));
    if (c == NULL)
        return http_fault(r, "out of memory in screening search");
    int nlists = 0;
    int n = refdata_search(name, dob, country, limit, c, &nlists);
    if (n < 0 || nlists == 0) {
        free(c);
        return http_error(r, 503, "screening_unavailable",
                          "No sanctions list is available to screen against");
    }
    json_object *o = json_object_new_object();
    json_object *q = json_object_new_object();
    json_object_object_add(q, "name", json_object_new_string(name));
    json_object_object_add(q, "date_of_birth", dob ? json_object_new_string(dob) : NULL);
    json_object_object_add(q, "country", country ? json_object_new_string(country) : NULL);
    json_object_object_add(o, "query", q);
    json_object *lists = json_object_new_array();
    const char *ver;
    for (int i = 0; refdata_list_name(i, &ver) != NULL; i++) {
        json_object *l = json_object_new_object();
        json_object_object_add(l, "name", json_object_new_string(refdata_list_name(i, &ver)));
        json_object_object_add(l, "version", json_object_new_string(ver));
        json_object_array_add(lists, l);
    }
    json_object_object_add(o, "lists", lists);
    json_object_object_add(o, "level",
                           json_object_new_string(screen_level_name(n > 0 ? c[0].c.level : 0)));
    json_object_object_add(o, "candidates", screening_candidates_json(c, n));
    free(c);
    *out = o;
    return 0;
}

int handle_screening_search(http_req *r)
{
    if (routes_query_encoded(r) != 0)
        return r->status;
    const char *name = http_query(r, "name");
    const char *dob = http_query(r, "date_of_birth");
    const char *country = http_query(r, "country");
    const char *lim = http_query(r, "limit");
    if (name == NULL || name[0] == '\0')
        return routes_query_invalid(r, "name", "is required");
    if (strlen(name) > 200)
        return routes_query_invalid(r, "name", "must be at most 200 characters");
    char norm[64];
    if (screen_normalize(name, norm, sizeof(norm)) == 0)
        return routes_query_invalid(r, "name", "must contain a Latin letter or digit");
    int y, m, d;
    if (dob != NULL && dob[0] == '\0')
        dob = NULL;
    if (dob != NULL && (strlen(dob) != 10 || !loan_date_valid(dob, &y, &m, &d)))
        return routes_query_invalid(r, "date_of_birth", "must be a date YYYY-MM-DD from 1900 on");
    long limit = 10;
    if (lim != NULL) {
        char *end;
        limit = strtol(lim, &end, 10);
        if (lim[0] < '0' || lim[0] > '9' || *end || limit < 1 || limit > REFDATA_MAX_CANDIDATES)
            return routes_query_invalid(r, "limit", "must be a whole number from 1 to 50");
    }
    json_object *o = NULL;
    if (screening_query(r, name, dob, country, (int)limit, &o) != 0)
        return r->status;
    return http_send_json(r, 200, o);
}
