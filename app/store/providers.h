/*
 * Identity and credit providers behind one interface each. EKYC_PROVIDER chooses who verifies
 * Aadhaar, PAN and bank accounts (penny drop); BUREAU_PROVIDER who reports credit history by
 * PAN. "sandbox" answers like a provider's sandbox, from the test identities in
 * sql/005_identity_credit.sql; "none" answers EKYC_DISABLED / BUREAU_DISABLED, which leaves the
 * stages PENDING. A real provider is one more struct of function pointers here: it must answer
 * within PROVIDER_TIMEOUT_MS or report a timeout, and never turn a failure into a verification.
 */
#ifndef LOANFLOW_PROVIDERS_H
#define LOANFLOW_PROVIDERS_H

#include "arena.h"
#include "db.h"
#include "loan.h"

extern const struct db_stmts providers_statements;

/* What a provider says about one identity number. */
struct ekyc_record {
    enum ekyc_status status; /* EKYC_VERIFIED, EKYC_NOT_FOUND, EKYC_TIMEOUT, EKYC_ERROR */
    char name[128];          /* the name on record when verified */
    char date_of_birth[11];  /* YYYY-MM-DD on record, "" when the provider has none */
    char reference[40];      /* the provider's reference for the call */
};

struct ekyc_provider {
    const char *name;
    /* Each call fills *out whatever happens (a failure is EKYC_ERROR or EKYC_TIMEOUT). */
    void (*aadhaar)(const char *aadhaar12, struct ekyc_record *out);
    void (*pan)(const char *pan, struct ekyc_record *out);
    void (*bank_account)(const char *account, const char *ifsc, struct ekyc_record *out);
};

struct bureau_provider {
    const char *name;
    /* Fills *out: BUREAU_OK with a score, BUREAU_NO_HISTORY, or a failure. */
    void (*report)(const char *pan, struct bureau_report *out);
};

/* The configured providers (borrowed, static); NULL when configured as "none". */
const struct ekyc_provider *providers_ekyc(void);
const struct bureau_provider *providers_bureau(void);

/*
 * Asks the configured providers everything the application calls for (the checks for the
 * numbers it carries, then the bureau when it has a PAN and the checks confirmed that PAN as the
 * applicant's: loan_identity_confirmed), and fills id with the answers: statuses,
 * the record's name scored against the application's name (a bank account must be the
 * applicant's own), birth dates compared. The record's name itself is not kept.
 */
void providers_gather(const struct loan_input *in, struct identity_facts *id);

/* Registers a synthetic identity with the sandbox (loanctl seed), in the caller's transaction.
 * 0 or -1. */
int providers_sandbox_register(arena *a, const struct loan_input *in, int bureau_score, int overdue,
                               int enquiries) __attribute__((warn_unused_result));

#endif
