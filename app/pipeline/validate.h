/*
 * validate.h - pure input validators for loan applications.
 *
 * Design: every function here is a pure predicate or formatter over a NUL-terminated string. They
 * allocate nothing, keep no state, read no locale or environment, and are safe to call from any
 * thread. Each accepts any byte sequence, including NULL pointers and invalid UTF-8, and treats
 * what it cannot make sense of as invalid instead of crashing or reading past the terminator.
 * None of them trims or case-folds its input unless its comment says so: the HTTP layer decides
 * how forgiving to be with what users type, and these functions decide only whether a value is
 * acceptable as given. Predicates return 1 for valid and 0 for invalid (val_pan returns one of
 * enum val_pan_result so the form can say what is wrong). Checks are ASCII-only wherever the
 * identifier itself is ASCII (e-mail, phone, PAN, IFSC, Aadhaar, account numbers); only
 * val_name and val_mask_tail look at UTF-8 characters.
 *
 * Ownership: no function takes ownership of, stores, or frees any pointer it is given. Input
 * strings are only read, and only during the call; output buffers belong to the caller.
 */
#ifndef LOANFLOW_PIPELINE_VALIDATE_H
#define LOANFLOW_PIPELINE_VALIDATE_H

#include <stddef.h>

/*
 * Result of val_pan(). Failures are negative and distinct so the caller can map each one to its
 * own message; when several apply, the first in this order is reported (format, then holder
 * type, then surname), because later checks are meaningless on a malformed value.
 */
enum val_pan_result {
    VAL_PAN_OK = 1,               /* well-formed, known holder type, initial matches */
    VAL_PAN_ERR_FORMAT = -1,      /* not [A-Z]{5}[0-9]{4}[A-Z] (includes NULL, lower case) */
    VAL_PAN_ERR_HOLDER_TYPE = -2, /* 4th character is not a known holder type */
    VAL_PAN_ERR_SURNAME = -3,     /* 5th character differs from the given initial */
};

/*
 * val_email - is s a plausible e-mail address?
 * @s: NUL-terminated string, borrowed for the call; NULL is invalid.
 *
 * Accepts local@domain where: there is exactly one '@'; the local part is 1-64 characters of
 * RFC 5322 atom characters (A-Z a-z 0-9 ! # $ % & ' * + - / = ? ^ _ ` { | } ~) and dots, with no
 * leading, trailing or consecutive dot; the domain is at least two dot-separated labels of
 * 1-63 characters of [A-Za-z0-9-], none starting or ending with '-'; the last label (TLD) is at
 * least two letters; the whole address is at most 254 bytes. Quoted local parts, IP-literal
 * domains, comments and non-ASCII (internationalised) addresses are rejected: they are legal but
 * rare, and we would not be able to send mail to most of them anyway. Punycode labels (xn--) are
 * accepted except as the TLD, which must be letters only.
 *
 * Returns 1 if plausible, 0 otherwise.
 */
int val_email(const char *s);

/*
 * val_phone - is s a plausible phone number as typed?
 * @s: NUL-terminated string, borrowed for the call; NULL is invalid.
 *
 * Accepts ASCII digits, spaces, '-', '(' and ')', optionally preceded by a single '+' that must be
 * the very first character (no leading space), with 10 to 15 digits in all (15 is the E.164
 * maximum). Parenthesis balance is not checked. Returns 1 if plausible, 0 otherwise.
 */
int val_phone(const char *s);

/*
 * val_utf8_chars - count the Unicode code points in s.
 * @s: NUL-terminated string, borrowed for the call; NULL is invalid.
 *
 * Strict UTF-8 (RFC 3629): rejects stray continuation bytes, truncated sequences, overlong
 * encodings, UTF-16 surrogates (U+D800-U+DFFF) and anything above U+10FFFF.
 *
 * Returns the number of code points (0 for ""), or -1 if s is NULL or not valid UTF-8.
 */
long val_utf8_chars(const char *s);

/*
 * val_trim - s without leading and trailing ASCII white space (space, \t to \r).
 * @s: NUL-terminated string, borrowed for the call.
 * @start: set to the first byte kept (inside s).
 *
 * Returns the length of the span kept; 0 for an all-blank or empty s.
 */
size_t val_trim(const char *s, const char **start);

/*
 * val_name - is s an acceptable personal or business name?
 * @s: NUL-terminated UTF-8 string, borrowed for the call; NULL is invalid.
 *
 * Valid when s is valid UTF-8 and, after trimming leading and trailing spaces (U+0020 and the
 * Unicode space separators such as U+00A0 and U+3000), has 3 to 100 code points and contains at
 * least one letter. Length is counted in code points, not bytes or graphemes, so "Zoë" and
 * "李小龙" are 3. Control characters (U+0000-U+001F, U+007F-U+009F), line/paragraph separators
 * (U+2028, U+2029) and bidi embedding/override/isolate controls (U+202A-U+202E, U+2066-U+2069)
 * are rejected anywhere in s, including the part trimming would remove: they never belong in a
 * name and can hide or reorder what a reviewer sees. "Letter" is an approximation that needs no
 * Unicode tables: ASCII letters, and any non-ASCII code point outside known ranges of digits,
 * punctuation, symbols, emoji, combining marks, private-use and noncharacters.
 *
 * Returns 1 if acceptable, 0 otherwise.
 */
int val_name(const char *s);

/*
 * val_verhoeff - does the digit string end in a correct Verhoeff check digit?
 * @digits: NUL-terminated string of ASCII digits, borrowed for the call; NULL is invalid.
 *
 * The string must be at least two digits (a payload plus its check digit) and contain nothing
 * but '0'-'9'. Returns 1 if the check digit is correct, 0 otherwise.
 */
int val_verhoeff(const char *digits);

/*
 * val_verhoeff_digit - compute the Verhoeff check digit for a payload.
 * @digits_without_check: NUL-terminated string of one or more ASCII digits, borrowed for the
 *                        call.
 *
 * Returns the check digit 0-9 to append, or -1 if the argument is NULL, empty or contains a
 * non-digit.
 */
int val_verhoeff_digit(const char *digits_without_check);

/*
 * val_aadhaar_canon - validate an Aadhaar number and write its canonical 12-digit form.
 * @in:  NUL-terminated string, borrowed for the call; NULL is invalid.
 * @out: caller-owned buffer of at least 13 bytes, or NULL to validate only. May be the same
 *       buffer as @in. On success it receives the 12 digits and a NUL; on failure it receives
 *       "" (so a stale value is never mistaken for a result).
 *
 * Accepted forms: exactly 12 ASCII digits ("234567890124"), or the printed form with exactly
 * one space after the 4th and 8th digits ("2345 6789 0124"). Nothing else: no other or repeated
 * separators, no leading/trailing whitespace, and no mixing (one space but not the other), so
 * that a number is never accepted by guessing where its groups were. The first digit must be
 * 2-9 (UIDAI never issues numbers starting with 0 or 1) and the last must be the Verhoeff check
 * digit of the first eleven.
 *
 * Returns 1 if valid, 0 otherwise.
 */
int val_aadhaar_canon(const char *in, char out[13]);

/*
 * val_aadhaar - is s a valid Aadhaar number in one of the forms val_aadhaar_canon() accepts?
 * @s: NUL-terminated string, borrowed for the call; NULL is invalid.
 *
 * Returns 1 if valid, 0 otherwise.
 */
int val_aadhaar(const char *s);

/*
 * val_pan - validate an Indian Permanent Account Number.
 * @s:                      NUL-terminated string, borrowed for the call; NULL is a format error.
 * @surname_initial_or_NULL: NULL or "" to skip the name check; otherwise a borrowed string whose
 *                          first byte is the holder's surname initial (for a person; for other
 *                          holders, the initial of the entity name). Passing the whole surname
 *                          works too, since only the first byte is used.
 *
 * The PAN must be exactly [A-Z]{5}[0-9]{4}[A-Z]; lower case is a format error (PANs are printed
 * in capitals; normalise before calling if you want to accept typed lower case). The 4th
 * character must be a holder type: P person, C company, H HUF, F firm, A AOP, T trust, B BOI,
 * L local authority, J artificial juridical person, G government. If an initial is given, the
 * 5th character must equal it, ignoring ASCII case; an initial that is not an ASCII letter can
 * never match. The final check letter's algorithm is not public and is not verified.
 *
 * Returns VAL_PAN_OK or one of the negative enum val_pan_result codes.
 */
int val_pan(const char *s, const char *surname_initial_or_NULL);

/*
 * val_ifsc - is s a well-formed Indian Financial System Code?
 * @s: NUL-terminated string, borrowed for the call; NULL is invalid.
 *
 * Exactly [A-Z]{4}0[A-Z0-9]{6}: bank code, a literal zero (reserved), branch code. Upper case
 * only. Whether the branch exists is not checked. Returns 1 if well-formed, 0 otherwise.
 */
int val_ifsc(const char *s);

/*
 * val_account_number - is s a plausible Indian bank account number?
 * @s: NUL-terminated string, borrowed for the call; NULL is invalid.
 *
 * 9 to 18 ASCII digits and nothing else (no spaces or dashes). Returns 1 if plausible, 0
 * otherwise.
 */
int val_account_number(const char *s);

/*
 * val_mask_tail - mask all but the last four characters of s with 'X', for display.
 * @s:      NUL-terminated string, borrowed for the call; NULL is treated as "".
 * @out:    caller-owned buffer of @outlen bytes; NULL or @outlen 0 means nothing is written.
 *          May be the same buffer as @s (masking in place).
 * @outlen: size of @out in bytes. strlen(s) + 1 always suffices: the result is never longer
 *          than the input.
 *
 * "ABCPD1234F" becomes "XXXXXX234F". Characters are UTF-8 code points, each masked one becoming
 * a single 'X', so the output stays valid UTF-8. Strings of four characters or fewer are copied
 * unchanged. If s is not valid UTF-8 every byte is masked, so nothing of a garbled value leaks
 * and no invalid bytes reach the page. If the result does not fit in @outlen bytes, @out is set
 * to "" rather than truncated, because a truncated mask would hide exactly the part meant to be
 * shown. Separators are characters like any other: canonicalise (e.g. val_aadhaar_canon) first
 * if they should not count.
 */
void val_mask_tail(const char *s, char *out, size_t outlen);

#endif /* LOANFLOW_PIPELINE_VALIDATE_H */
