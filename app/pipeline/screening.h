/*
 * screening.h - sanctions name screening for Loanflow.
 *
 * Design: this module is pure C with no I/O and no global mutable state. It has three layers:
 *   1. Parsers for the OFAC SDN CSV (sdn.csv) and alias CSV (alt.csv) formats. They work on a
 *      caller-owned buffer and hand each row to a callback with borrowed strings.
 *   2. Name building blocks: screen_normalize() (diacritic folding, punctuation, legal
 *      suffixes, "SURNAME, Given" reordering), screen_jaro_winkler() and screen_name_score()
 *      (order-insensitive token-set score, 0..1). The eKYC code uses these directly.
 *   3. An index (screen_list) over listed names. It is filled with screen_list_add(), frozen by
 *      screen_list_build() and then queried with screen_best(). Queries never Jaro-Winkler the
 *      whole list: they look up candidates through an index of token deletion keys that
 *      tolerates one typo per token, and only those candidates are scored.
 *
 * Ownership: every pointer the module returns or passes to a callback is borrowed and valid
 * only for the duration of that call, unless stated otherwise. A screen_list is owned by the
 * caller that created it and released with screen_list_free(). Once built it is read-only, so
 * any number of threads may call screen_best() on it concurrently.
 *
 * Score scale: 1.0 = same name (any order, case, accents, punctuation, legal suffix); a
 * one-character typo in a 2-3 token name scores >= 0.92; one extra/missing middle name gives
 * 0.88; unrelated ordinary names stay below 0.85. Suggested thresholds: >= 0.85 review,
 * >= 0.92 strong hit.
 */
#ifndef LOANFLOW_SCREENING_H
#define LOANFLOW_SCREENING_H

#include <stddef.h>

/* Longest CSV field accepted by the parsers; a longer field is an error, never truncated. */
#define SCREEN_MAX_FIELD 1024

/* An index of listed names. Opaque; immutable once built and then shareable read-only. */
typedef struct screen_list screen_list;

/*
 * One parsed row. All strings are borrowed from the parser and valid only during the callback;
 * copy what you keep. A CSV null (-0-) is passed as NULL.
 *   entry_id  ent_num (> 0).
 *   name      SDN_Name / alt_name, never NULL.
 *   type      SDN_Type ("individual", "vessel", "aircraft"; NULL = entity) / alt_type ("aka",
 *             "fka", "nka"; may be NULL).
 *   programs  SDN only: programs separated by ';' (the file's "] [" separators are rewritten,
 *             e.g. "SDGT;IRGC"); NULL for alt.csv rows.
 *   remarks   SDN Remarks / alt_remarks; may be NULL. Pass SDN remarks to screen_remarks_akas()
 *             to obtain the a.k.a. names. (Extension: appended after the four original fields.)
 */
typedef struct {
    long entry_id;
    const char *name;
    const char *type;
    const char *programs;
    const char *remarks;
} screen_entry;

/* Row callback: return 0 to continue, non-zero to stop parsing (the parser then returns -1). */
typedef int (*screen_entry_cb)(const screen_entry *e, void *ud);

/*
 * Parses an SDN CSV buffer (12 columns, no header, CRLF or LF line ends, optional trailing 0x1A
 * end-of-file byte) and calls cb once per row (entities, individuals, vessels, aircraft).
 * buf is borrowed and need not be NUL-terminated; it may contain any bytes. cb may be NULL
 * (validation only). Returns the number of rows, or -1 with a message naming the 1-based line
 * in err (if err != NULL && errlen > 0). Malformed rows (wrong field count, unbalanced quotes,
 * newline or NUL inside a field, field over SCREEN_MAX_FIELD bytes, bad ent_num, empty name)
 * are errors; nothing is truncated silently.
 */
long screen_parse_sdn(const char *buf, size_t len, int (*cb)(const screen_entry *e, void *ud),
                      void *ud, char *err, size_t errlen);

/* Same for alt.csv (5 columns): cb gets entry_id = ent_num, name = alt_name, type = alt_type,
 * remarks = alt_remarks, programs = NULL. */
long screen_parse_alt(const char *buf, size_t len, int (*cb)(const screen_entry *e, void *ud),
                      void *ud, char *err, size_t errlen);

/*
 * Extracts the quoted a.k.a. / f.k.a. / n.k.a. names from an SDN Remarks string (borrowed,
 * may be NULL) and calls cb(name, ud) for each; name is borrowed for the call. An alias cut
 * off by the 1000-character Remarks limit (no closing quote) is skipped. Returns the number
 * of names delivered, or -1 if cb returned non-zero.
 */
int screen_remarks_akas(const char *remarks, int (*cb)(const char *name, void *ud), void *ud);

/* Creates an empty list; the caller owns it and frees it with screen_list_free(). NULL on
 * ENOMEM. */
screen_list *screen_list_new(void);

/*
 * Adds one name for an entry; name and type are borrowed and copied. This function skips
 * (returns 0 without adding) names whose type is "vessel" or "aircraft" (case-insensitive),
 * and names that normalise to nothing. type NULL means entity. Several names (aliases) may
 * share one entry_id. Returns 0, or -1 with errno = ENOMEM, or EINVAL (NULL argument, or
 * the list is already built).
 */
int screen_list_add(screen_list *l, long entry_id, const char *name, const char *type);

/*
 * Convenience loaders over screen_parse_*() + screen_list_add(). screen_list_add_sdn adds
 * every non-vessel, non-aircraft SDN row and, if with_akas, the a.k.a. names in its Remarks.
 * screen_list_add_alt adds alt.csv names for entry_ids already present in l (so call it after
 * screen_list_add_sdn; aliases of vessels/aircraft are thereby skipped). Both return the
 * number of names added, or -1 with err set (parse error or ENOMEM). buf is borrowed.
 */
long screen_list_add_sdn(screen_list *l, const char *buf, size_t len, int with_akas, char *err,
                         size_t errlen);
long screen_list_add_alt(screen_list *l, const char *buf, size_t len, char *err, size_t errlen);

/* Builds the index; afterwards the list is read-only. Returns 0, or -1 (errno = ENOMEM, or
 * EINVAL for NULL / already built). On failure the list stays unbuilt and may be freed. */
int screen_list_build(screen_list *l);

/* Number of names (primary names plus aliases) in the list; 0 for NULL. */
size_t screen_list_count(const screen_list *l);

/* Frees the list and everything it owns; accepts NULL. */
void screen_list_free(screen_list *l);

typedef struct {
    double score;           /* screen_name_score(query, matched_name) */
    long entry_id;          /* ent_num of the listed entry */
    char matched_name[256]; /* the listed name as added (NUL-terminated, truncated to 255) */
} screen_match;

/*
 * Best match of name (borrowed, UTF-8 or Latin-1, any order/case/accents) in the built list l.
 * Returns 1 and fills *out when the best score >= min_score, 0 when nothing reaches it, and
 * -1 (errno EINVAL for NULL args or an unbuilt list, ENOMEM) when screening could not be done:
 * callers must treat -1 as "not screened" (fail closed), never as "clear".
 * Only listed names that share at least one token within one edit (insert, delete, substitute,
 * transpose) of a query token are considered. Thread-compatible: no global mutable state; the
 * per-call scratch (about 4 bytes per listed name on the heap, ~30 KB of stack) is allocated and
 * freed inside the call. Measured on the full 2024-05-03 SDN list with a.k.a. names (17,341
 * names): p50 ~20 us, p99 < 0.1 ms per call (tests/bench/screen_bench.c).
 */
int screen_best(const screen_list *l, const char *name, double min_score, screen_match *out);

/*
 * Normalises a name: lower-case ASCII tokens separated by single spaces. Latin-1 Supplement
 * and Latin Extended-A letters are folded (e->e, ss for sharp s, o for o-slash, ae, oe, th...),
 * apostrophes and combining accents are removed (O'Brien -> obrien), other punctuation and
 * non-Latin characters become separators, invalid UTF-8 bytes are read as Latin-1.
 * "SURNAME, Given" becomes "given surname" (a trailing ", Jr." / ", S.A." segment is dropped
 * first). Other names lose leading/trailing legal forms (llc, ltd, limited, inc, corp, co, sa,
 * s a, gmbh, plc, sarl, srl, bv, nv, ag, jsc, ojsc, pjsc, llp, pvt, "limited liability
 * company", ...), never down to nothing. Tokens are capped at 63 bytes, input at 4096 folded
 * bytes / 256 tokens. in is borrowed (NULL = ""); out (caller-owned, outlen bytes) receives
 * a NUL-terminated string, cut at a token boundary if too small (outlen >= strlen(in) + 1 is
 * always enough). Returns strlen(out).
 */
size_t screen_normalize(const char *in, char *out, size_t outlen);

/* Classic Jaro-Winkler similarity of two byte strings (exact byte comparison, so normalise
 * first): prefix scale 0.1, max prefix 4, boost applied unconditionally. Two empty strings
 * score 1.0, one empty string 0.0. Strings are borrowed; NULL counts as empty. */
double screen_jaro_winkler(const char *a, size_t alen, const char *b, size_t blen);

/*
 * Score 0..1 of two raw names (borrowed, NULL = ""): both are normalised, then tokens are
 * paired one-to-one (order-insensitive) by Jaro-Winkler, weighted by token length, with
 * penalties for unpaired tokens (see screening.c). Symmetric. "Velimir Drakovic" vs
 * "DRAKOVIC, Velimir" = 1.0.
 */
double screen_name_score(const char *a, const char *b);

/* ---- Secondary evidence: dates of birth and nationalities ---------------------------------- */

#define SCREEN_MAX_DOB                                                                             \
    10 /* dates of birth kept per entry ("DOB …; alt. DOB …"; at most 9 on the                 \
          2024 list); more set dob_cut */
#define SCREEN_MAX_NAT 4 /* nationalities / citizenships kept per entry */

enum screen_dob_precision {
    SCREEN_DOB_DAY,   /* DOB 12 Mar 1971 */
    SCREEN_DOB_MONTH, /* DOB Mar 1971 */
    SCREEN_DOB_YEAR,  /* DOB 1971 */
    SCREEN_DOB_RANGE  /* DOB 1960 to 1963, DOB circa 1963 (+/- SCREEN_CIRCA_YEARS) */
};
#define SCREEN_CIRCA_YEARS 2

/* A listed date of birth as the inclusive range of days it allows (YYYYMMDD integers). */
typedef struct {
    int from, to;
    int precision; /* enum screen_dob_precision */
} screen_dob;

/*
 * Facts of one entry taken from its SDN Remarks. nat[] holds what the remarks write after
 * "nationality" / "citizen" ("Russia", "Korea, North") when filled by screen_parse_facts(); a
 * caller that resolves them to ISO 3166 alpha-2 codes stores those instead before
 * screen_list_facts() (the index compares nat[] with the query's country case-insensitively).
 */
typedef struct {
    int ndob;
    int dob_cut; /* the remarks had more dates than SCREEN_MAX_DOB: a date agreeing with none of
                    the kept ones is "unknown", never "disagrees" */
    screen_dob dob[SCREEN_MAX_DOB];
    int nnat;
    char nat[SCREEN_MAX_NAT][64];
} screen_facts;

/*
 * Parses the dates of birth ("DOB 12 Mar 1971", "DOB Mar 1971", "DOB 1971", "DOB circa 1971",
 * "DOB 1960 to 1963", "DOB 01 Jan 1960 to 31 Dec 1962", "alt. DOB …") and the nationalities and
 * citizenships of an SDN Remarks string (borrowed, NULL = none) into *out. Unreadable dates are
 * skipped, never guessed. Returns the number of facts found (ndob + nnat).
 */
int screen_parse_facts(const char *remarks, screen_facts *out);

/* Writes a listed date canonically: "1971-03-12", "1971-03", "1971", "1960..1963" (whole
 * years) or "1960-01-01..1962-12-31". Returns buf. len >= 32 is always enough. */
const char *screen_dob_format(const screen_dob *d, char *buf, size_t len);
/* Reads the canonical form back; 0, or -1 when s is not one. */
int screen_dob_parse(const char *s, screen_dob *out);

/* Attaches the facts of entry_id to the (unbuilt) list; facts is borrowed and copied. Entries
 * without facts simply have none. 0, or -1 (EINVAL: built or NULL, ENOMEM). */
int screen_list_facts(screen_list *l, long entry_id, const screen_facts *facts);

/* ---- Search with evidence -------------------------------------------------------------------- */

enum screen_level { SCREEN_CLEAR = 0, SCREEN_REVIEW = 1, SCREEN_BLOCK = 2 };

enum screen_kind {
    SCREEN_KIND_NAME,    /* scored on the whole name (order, accents, typos, one name more) */
    SCREEN_KIND_PARTIAL, /* every typed token is in the listed name, which has more */
    SCREEN_KIND_COMMON   /* a partial name made only of very common names (weak alone) */
};

/* How a secondary fact compares: unknown (either side lacks it), agrees, near (the year of birth
 * agrees but the listed day or month differs: no conclusion), disagrees. */
enum screen_fact {
    SCREEN_FACT_UNKNOWN = 0,
    SCREEN_FACT_AGREES,
    SCREEN_FACT_NEAR,
    SCREEN_FACT_DISAGREES
};

typedef struct {
    const char *date_of_birth; /* YYYY-MM-DD; NULL or "" = not known */
    const char *country;       /* the applicant's country, ISO alpha-2; NULL or "" = not known */
    double review, block;      /* name-score thresholds (SANCTIONS_REVIEW, SANCTIONS_BLOCK) */
    double min_score;          /* a clear candidate below it is not reported; 0 = SCREEN_SHOW_MIN */
} screen_query;

typedef struct {
    double score; /* screen_name_score-equivalent of the name alone */
    long entry_id;
    char matched_name[256]; /* the listed name as added */
    int kind;               /* enum screen_kind */
    int name_level;         /* enum screen_level from the name alone (COMMON counts as CLEAR) */
    int level;              /* enum screen_level after the date of birth and nationality */
    int dob, nationality;   /* enum screen_fact */
    char matched[192];      /* listed tokens the typed name supplied, space-separated */
    char missing[192];      /* listed tokens it did not */
    char unmatched[192];    /* typed tokens found nowhere in the listed name */
    char listed_dob[256];   /* the entry's dates, canonical, separated by "; " */
    char listed_nat[64];    /* the entry's nationalities, separated by "; " */
} screen_candidate;

/*
 * Ranked candidates for name in the built list l: up to max of them, best first (level, then
 * score), one per entry, with the evidence. A candidate is a listed name scoring >= min_score,
 * or any name at level review or block. Rules (docs/screening.md):
 *   name alone: score >= block -> BLOCK; score >= review or PARTIAL -> REVIEW; COMMON -> CLEAR
 *     unless a fact supports it. PARTIAL: >= 2 typed regular tokens, every one paired with a
 *     token of a listed person's name (initials pair with a given name of that letter), the
 *     surname among them when the list writes "SURNAME, Given", no typo, and at least one token
 *     that is not a very common name (screen_common_token; a subset of common names, with at
 *     most one typo, is COMMON).
 *   date of birth: agrees -> REVIEW becomes BLOCK (a COMMON name: REVIEW, or BLOCK when the
 *     listed date is a day); disagrees -> BLOCK becomes REVIEW, COMMON stays CLEAR.
 *   nationality (weaker; only when the date of birth decided nothing): agrees -> COMMON becomes
 *     REVIEW; disagrees -> recorded as evidence, lowers nothing (the form's country is where the
 *     applicant lives, not their passport).
 * Returns the number of candidates written (0..max), or -1 (EINVAL, ENOMEM): not screened.
 */
#define SCREEN_SHOW_MIN 0.70
int screen_search(const screen_list *l, const char *name, const screen_query *q,
                  screen_candidate *out, int max);

/* 1 when the normalised token (lower-case ASCII, as screen_normalize writes it) is a very common
 * given name or surname: one of the built-in list of common names of many cultures, or, in a
 * built list l (may be NULL), carried by at least SCREEN_COMMON_SHARE of its person names. */
#define SCREEN_COMMON_SHARE 0.004
int screen_common_token(const screen_list *l, const char *tok, size_t len);

/* Gives the built list l the common-name marks of the built list ref (a token is common in l
 * when it is in ref): a small index of some entries of a version screens as the whole
 * version's index would. 0, or -1 (EINVAL). */
int screen_list_common_from(screen_list *l, const screen_list *ref);

/* Names of the enums for JSON: "clear"/"review"/"block", "name"/"partial"/"common",
 * "unknown"/"agrees"/"near"/"disagrees". */
const char *screen_level_name(int level);
const char *screen_kind_name(int kind);
const char *screen_fact_name(int fact);

#endif /* LOANFLOW_SCREENING_H */
