/*
 * Reference data a worker keeps in memory: the ISO country table with its aliases and FATF
 * risk, the active sanctions lists' index and the PEP index. Loaded from PostgreSQL on first
 * use; sanctions and PEP data are re-checked at most once a second (one small query) and
 * re-indexed when an operator loads a new version, so running workers pick it up without a
 * restart.
 */
#ifndef LOANFLOW_REFDATA_H
#define LOANFLOW_REFDATA_H

#include "arena.h"
#include "db.h"
#include "loan.h"
#include "screening.h"

extern const struct db_stmts refdata_statements;

struct country_info {
    char code[3];
    char alpha3[4];
    const char *name; /* owned by the refdata cache */
    const char *region;
    enum country_risk risk;
};

/* Looks a country up by ISO name, alpha-2, alpha-3 or a common alias, in any case. Returns a
 * borrowed pointer valid for the life of the process, NULL when unknown, and sets *db_down when
 * the table could not be loaded. */
const struct country_info *refdata_country(const char *query, int *db_down);

/*
 * Fills the sanctions, PEP and senior-employee facts for an applicant (strings borrowed from the
 * refdata cache or allocated in a); country_code is the applicant's country as the caller
 * resolved it (ISO alpha-2, NULL when unknown), compared with the listed nationalities. Returns
 * 0, or -1 when the database could not be reached.
 */
int refdata_screen(arena *a, const struct loan_input *in, const char *country_code,
                   struct compliance_facts *f);

/* An active sanctions list as the worker has indexed it; strings borrowed from the refdata
 * cache, valid until the next call into refdata. */
struct refdata_list {
    const char *name;
    const char *version;
    long entries;
};

/*
 * The active list loaded last (by the same once-a-second version check as screening, so no
 * round trip of its own within that second), and how many lists are active. Returns 1 with *out
 * filled, 0 when no list is active, -1 when the database could not be reached (nothing known).
 */
int refdata_sanctions_active(struct refdata_list *out, int *nactive);

/* The facts of a sanctions_entries row (dob and nationalities as space-separated text) into *f. */
void refdata_facts_parse(const char *dobs, const char *nats, screen_facts *f);

/* The evidence object of a candidate as docs/screening.md shows it (kind, matched, missing,
 * unmatched, date_of_birth, nationality); the caller owns the reference. */
json_object *refdata_evidence_json(const screen_candidate *c);

#define REFDATA_MAX_CANDIDATES 50
struct refdata_candidate {
    screen_candidate c;
    const char *list, *version; /* borrowed from the cache */
};
/* Ranked candidates for an officer's search over every active list (at most max, <= 50). dob and
 * country (ISO alpha-2) may be NULL. Returns the count and *nlists, or -1 (database down and
 * nothing indexed). */
int refdata_search(const char *name, const char *dob, const char *country, int max,
                   struct refdata_candidate *out, int *nlists);
/* The i-th indexed list's name (NULL past the end) and *version. */
const char *refdata_list_name(int i, const char **version);

#endif
