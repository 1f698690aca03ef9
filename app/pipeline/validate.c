/*
 * validate.c - pure input validators for loan applications (see validate.h for the contract).
 *
 * Design: everything is a single forward scan over the input with small ASCII helpers written
 * here instead of <ctype.h>, whose answers depend on the process locale and which is undefined
 * for negative char values; a validator must give the same answer in every process. Scans never
 * look past a NUL: fixed-length formats compare position by position, so a short string fails at
 * its terminator, and the UTF-8 decoder checks each continuation byte before reading the next, so
 * a truncated sequence stops at the NUL. Lengths are bounded before they are trusted, so a huge
 * input costs at most one pass. The Verhoeff scheme is computed from its definition (the
 * dihedral group D5 and one fixed permutation) rather than from pasted 10x10 tables, which makes
 * the code checkable against the maths; the cost is a few extra integer operations per digit.
 * The "letter" test used by val_name is a deny-list of non-letter ranges, not a Unicode
 * database: it errs towards accepting real names in any script, at the price of also accepting
 * a few non-letter code points in scripts it does not know.
 */
#include "validate.h"

#include <stdint.h>
#include <string.h>

#define EMAIL_MAX       254 /* RFC 5321 path limit minus the angle brackets */
#define EMAIL_LOCAL_MAX 64
#define DNS_LABEL_MAX   63
#define PHONE_MIN       10
#define PHONE_MAX       15 /* E.164 */
#define NAME_MIN        3
#define NAME_MAX        100
#define AADHAAR_LEN     12
#define ACCOUNT_MIN     9
#define ACCOUNT_MAX     18
#define MASK_VISIBLE    4

/* ---- ASCII helpers ------------------------------------------------------------------------ */

static int is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

static int is_upper(unsigned char c)
{
    return c >= 'A' && c <= 'Z';
}

static int is_alpha(unsigned char c)
{
    return is_upper(c) || (c >= 'a' && c <= 'z');
}

static int is_alnum(unsigned char c)
{
    return is_alpha(c) || is_digit(c);
}

static unsigned char to_upper(unsigned char c)
{
    return (c >= 'a' && c <= 'z') ? (unsigned char)(c - 'a' + 'A') : c;
}

/* strlen that stops counting at max + 1, so callers can reject oversized input cheaply. */
static size_t bounded_len(const char *s, size_t max)
{
    size_t n = 0;

    while (n <= max && s[n] != '\0')
        n++;
    return n;
}

/* Length of s if it is non-empty and all ASCII digits, else 0. */
static size_t digit_run(const char *s)
{
    size_t n = 0;

    while (is_digit((unsigned char)s[n]))
        n++;
    return s[n] == '\0' ? n : 0;
}

/* ---- UTF-8 -------------------------------------------------------------------------------- */

static int is_cont(unsigned char c)
{
    return (c & 0xC0) == 0x80;
}

/*
 * Decode one code point at p into *cp. Returns its length in bytes (1-4), or 0 if the bytes at p
 * are not a well-formed UTF-8 sequence (RFC 3629, table 3-7 of the Unicode standard). The
 * allowed range of the second byte depends on the lead byte: that is what excludes overlongs
 * (E0, F0), surrogates (ED) and code points above U+10FFFF (F4). Must not be called at the NUL.
 */
static size_t utf8_decode(const unsigned char *p, uint32_t *cp)
{
    unsigned char b0 = p[0];
    unsigned char lo = 0x80, hi = 0xBF;

    if (b0 < 0x80) {
        *cp = b0;
        return 1;
    }
    if (b0 < 0xC2) /* stray continuation byte, or C0/C1 which only start overlongs */
        return 0;
    if (b0 < 0xE0) {
        if (!is_cont(p[1]))
            return 0;
        *cp = ((uint32_t)(b0 & 0x1F) << 6) | (p[1] & 0x3F);
        return 2;
    }
    if (b0 < 0xF0) {
        if (b0 == 0xE0)
            lo = 0xA0;
        else if (b0 == 0xED)
            hi = 0x9F;
        /* Short-circuit order matters: p[2] is read only if p[1] was a continuation byte. */
        if (p[1] < lo || p[1] > hi || !is_cont(p[2]))
            return 0;
        *cp = ((uint32_t)(b0 & 0x0F) << 12) | ((uint32_t)(p[1] & 0x3F) << 6) | (p[2] & 0x3F);
        return 3;
    }
    if (b0 < 0xF5) {
        if (b0 == 0xF0)
            lo = 0x90;
        else if (b0 == 0xF4)
            hi = 0x8F;
        if (p[1] < lo || p[1] > hi || !is_cont(p[2]) || !is_cont(p[3]))
            return 0;
        *cp = ((uint32_t)(b0 & 0x07) << 18) | ((uint32_t)(p[1] & 0x3F) << 12) |
              ((uint32_t)(p[2] & 0x3F) << 6) | (p[3] & 0x3F);
        return 4;
    }
    return 0;
}

long val_utf8_chars(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    long n = 0;
    uint32_t cp;

    if (s == NULL)
        return -1;
    while (*p != '\0') {
        size_t len = utf8_decode(p, &cp);

        if (len == 0)
            return -1;
        p += len;
        n++;
    }
    return n;
}

static int blank(char c)
{
    return c == ' ' || (c >= '\t' && c <= '\r');
}

size_t val_trim(const char *s, const char **start)
{
    while (blank(*s))
        s++;
    size_t n = strlen(s);
    while (n > 0 && blank(s[n - 1]))
        n--;
    *start = s;
    return n;
}

/* ---- e-mail ------------------------------------------------------------------------------- */

/* RFC 5322 atext: the characters allowed in an unquoted local part, besides dots. */
static int is_atext(unsigned char c)
{
    static const char specials[] = "!#$%&'*+-/=?^_`{|}~";

    return is_alnum(c) || (c != '\0' && memchr(specials, c, sizeof(specials) - 1) != NULL);
}

static int email_local_ok(const char *s, size_t n)
{
    if (n == 0 || n > EMAIL_LOCAL_MAX || s[0] == '.' || s[n - 1] == '.')
        return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];

        if (c == '.') {
            if (s[i + 1] == '.') /* i + 1 < n here: the last byte is not a dot */
                return 0;
        } else if (!is_atext(c)) {
            return 0;
        }
    }
    return 1;
}

static int email_domain_ok(const char *d, size_t n)
{
    size_t i = 0, labels = 0, last = 0, last_len = 0;

    for (;;) {
        size_t start = i;

        while (i < n && d[i] != '.') {
            unsigned char c = (unsigned char)d[i];

            if (!is_alnum(c) && c != '-')
                return 0;
            i++;
        }
        /* Empty labels catch leading, trailing ("example.com.") and doubled dots. */
        if (i == start || i - start > DNS_LABEL_MAX || d[start] == '-' || d[i - 1] == '-')
            return 0;
        labels++;
        last = start;
        last_len = i - start;
        if (i == n)
            break;
        i++; /* skip the dot */
    }
    if (labels < 2 || last_len < 2)
        return 0;
    for (size_t k = 0; k < last_len; k++) {
        if (!is_alpha((unsigned char)d[last + k]))
            return 0;
    }
    return 1;
}

int val_email(const char *s)
{
    const char *at;
    size_t len, local_len;

    if (s == NULL)
        return 0;
    len = bounded_len(s, EMAIL_MAX);
    if (len > EMAIL_MAX)
        return 0;
    at = strchr(s, '@');
    if (at == NULL || strchr(at + 1, '@') != NULL)
        return 0;
    local_len = (size_t)(at - s);
    return email_local_ok(s, local_len) && email_domain_ok(at + 1, len - local_len - 1);
}

/* ---- phone -------------------------------------------------------------------------------- */

int val_phone(const char *s)
{
    size_t digits = 0;

    if (s == NULL)
        return 0;
    if (*s == '+')
        s++;
    for (; *s != '\0'; s++) {
        unsigned char c = (unsigned char)*s;

        if (is_digit(c)) {
            if (++digits > PHONE_MAX) /* stop early: no need to scan a huge string */
                return 0;
        } else if (c != ' ' && c != '-' && c != '(' && c != ')') {
            return 0; /* includes a second '+' anywhere */
        }
    }
    return digits >= PHONE_MIN;
}

/* ---- names -------------------------------------------------------------------------------- */

/* Space characters trimmed from the ends of a name: U+0020 and the Zs (space separator) set. */
static int is_name_space(uint32_t cp)
{
    return cp == 0x20 || cp == 0xA0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200A) ||
           cp == 0x202F || cp == 0x205F || cp == 0x3000;
}

/*
 * Characters never allowed in a name: C0/C1 controls and DEL, line and paragraph separators,
 * and the bidi controls that reorder following text (they can make a name display as something
 * else). Joiners (U+200C/U+200D) are allowed: several Indic scripts need them.
 */
static int is_name_forbidden(uint32_t cp)
{
    return cp < 0x20 || (cp >= 0x7F && cp <= 0x9F) || cp == 0x2028 || cp == 0x2029 ||
           (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069);
}

struct cp_range {
    uint32_t lo, hi;
};

/*
 * Non-ASCII ranges that are not letters: punctuation, symbols, digits of the scripts most
 * likely on our forms, combining marks, emoji, private use. Sorted; anything outside these
 * ranges counts as a letter. The aim is only to reject "names" made of digits, punctuation or
 * pictographs, so the list is coarse on purpose.
 */
static const struct cp_range non_letters[] = {
    {0x0080, 0x00A9},    /* C1 controls, Latin-1 punctuation and symbols... */
    {0x00AB, 0x00B4},    /* ...skipping the letter ª, */
    {0x00B6, 0x00B9},    /* the letter µ, */
    {0x00BB, 0x00BF},    /* and the letter º */
    {0x00D7, 0x00D7},    /* multiplication sign */
    {0x00F7, 0x00F7},    /* division sign */
    {0x0300, 0x036F},    /* combining diacritics */
    {0x0483, 0x0489},    /* Cyrillic combining marks */
    {0x0591, 0x05C7},    /* Hebrew points */
    {0x05F3, 0x05F4},    /* Hebrew punctuation */
    {0x0600, 0x061F},    /* Arabic signs and punctuation */
    {0x064B, 0x066D},    /* Arabic vowel marks, digits, punctuation */
    {0x06D4, 0x06D4},    /* Arabic full stop */
    {0x06D6, 0x06ED},    /* Quranic marks */
    {0x06F0, 0x06F9},    /* Extended Arabic-Indic digits */
    {0x0964, 0x096F},    /* Devanagari danda and digits */
    {0x09E6, 0x09EF},    /* Bengali digits */
    {0x0A66, 0x0A6F},    /* Gurmukhi digits */
    {0x0AE6, 0x0AEF},    /* Gujarati digits */
    {0x0B66, 0x0B6F},    /* Oriya digits */
    {0x0BE6, 0x0BEF},    /* Tamil digits */
    {0x0C66, 0x0C6F},    /* Telugu digits */
    {0x0CE6, 0x0CEF},    /* Kannada digits */
    {0x0D66, 0x0D6F},    /* Malayalam digits */
    {0x0E50, 0x0E59},    /* Thai digits */
    {0x0ED0, 0x0ED9},    /* Lao digits */
    {0x1AB0, 0x1AFF},    /* combining diacritics extended */
    {0x1DC0, 0x1DFF},    /* combining diacritics supplement */
    {0x2000, 0x2BFF},    /* general punctuation .. miscellaneous symbols and arrows */
    {0x2E00, 0x2E7F},    /* supplemental punctuation */
    {0x3000, 0x303F},    /* CJK symbols and punctuation */
    {0x3200, 0x33FF},    /* enclosed CJK, CJK compatibility */
    {0xD800, 0xF8FF},    /* surrogates (unreachable after decoding), private use */
    {0xFDD0, 0xFDEF},    /* noncharacters */
    {0xFE00, 0xFE6F},    /* variation selectors, vertical and small forms, half marks */
    {0xFEFF, 0xFEFF},    /* byte order mark */
    {0xFF00, 0xFF20},    /* fullwidth punctuation and digits... */
    {0xFF3B, 0xFF40},    /* ...between fullwidth capitals and small letters */
    {0xFF5B, 0xFF65},    /* ...and after the small letters, before halfwidth katakana */
    {0xFFF0, 0xFFFF},    /* specials */
    {0x1D000, 0x1D24F},  /* musical symbols */
    {0x1F000, 0x1FBFF},  /* emoji, pictographs, legacy computing symbols */
    {0xE0000, 0xE01EF},  /* tags, variation selectors supplement */
    {0xF0000, 0x10FFFF}, /* supplementary private use planes */
};

static int is_letter(uint32_t cp)
{
    if (cp < 0x80)
        return is_alpha((unsigned char)cp);
    if ((cp & 0xFFFE) == 0xFFFE) /* U+xxFFFE and U+xxFFFF are noncharacters in every plane */
        return 0;
    for (size_t i = 0; i < sizeof(non_letters) / sizeof(non_letters[0]); i++) {
        if (cp < non_letters[i].lo)
            return 1; /* sorted: no later range can contain cp */
        if (cp <= non_letters[i].hi)
            return 0;
    }
    return 1;
}

int val_name(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t total = 0, leading = 0, trailing = 0;
    int seen_text = 0, has_letter = 0;
    uint32_t cp;

    if (s == NULL)
        return 0;
    while (*p != '\0') {
        size_t len = utf8_decode(p, &cp);

        if (len == 0 || is_name_forbidden(cp))
            return 0;
        p += len;
        total++;
        if (is_name_space(cp)) {
            if (seen_text)
                trailing++; /* provisional: reset if more text follows */
            else
                leading++;
        } else {
            seen_text = 1;
            trailing = 0;
            has_letter |= is_letter(cp);
            /* The trimmed length only grows from here, so an overlong name can stop early. */
            if (total - leading > NAME_MAX)
                return 0;
        }
    }
    if (!seen_text)
        return 0;
    total -= leading + trailing;
    return has_letter && total >= NAME_MIN && total <= NAME_MAX;
}

/* ---- Verhoeff ----------------------------------------------------------------------------- */

/*
 * Verhoeff's scheme works in the dihedral group D5 (symmetries of a pentagon), encoding 0-4 as
 * the rotations and 5-9 as the reflections. Its non-commutativity is what lets it catch every
 * adjacent transposition, which a sum modulo 10 cannot.
 */
static int d5_mul(int j, int k)
{
    if (j < 5)
        return k < 5 ? (j + k) % 5 : 5 + (j + k) % 5;
    return k < 5 ? 5 + (j - k + 5) % 5 : (j - k + 5) % 5;
}

/* Inverse in D5: rotations invert to the opposite rotation; reflections are their own inverse. */
static int d5_inv(int j)
{
    return j < 5 ? (5 - j) % 5 : j;
}

/*
 * Verhoeff's position permutation, applied once per position counted from the right. It is the
 * cycle (0 1 5 8 9 4 2 7) with (3 6), so applying it 8 times is the identity.
 */
static const unsigned char verhoeff_perm[10] = {1, 5, 7, 6, 2, 8, 3, 0, 9, 4};

/*
 * Fold the n digits at s into a D5 element, rightmost digit first. The rightmost digit is at
 * position `first` (0 when it is a check digit, 1 when computing the digit to append).
 */
static int verhoeff_fold(const char *s, size_t n, size_t first)
{
    int c = 0;

    for (size_t i = 0; i < n; i++) {
        int x = s[n - 1 - i] - '0';

        for (size_t r = (i + first) % 8; r > 0; r--)
            x = verhoeff_perm[x];
        c = d5_mul(c, x);
    }
    return c;
}

int val_verhoeff(const char *digits)
{
    size_t n;

    if (digits == NULL)
        return 0;
    n = digit_run(digits);
    return n >= 2 && verhoeff_fold(digits, n, 0) == 0;
}

int val_verhoeff_digit(const char *digits_without_check)
{
    size_t n;

    if (digits_without_check == NULL)
        return -1;
    n = digit_run(digits_without_check);
    if (n == 0)
        return -1;
    return d5_inv(verhoeff_fold(digits_without_check, n, 1));
}

/* ---- Aadhaar ------------------------------------------------------------------------------ */

/* Copy the 12 digits of in to buf if in is in one of the accepted forms; else return 0. */
static int aadhaar_digits(const char *in, char buf[AADHAAR_LEN + 1])
{
    size_t len = bounded_len(in, AADHAAR_LEN + 2), n = 0;
    int grouped = len == AADHAAR_LEN + 2;

    /* in[4] and in[9] exist when grouped: len counted 14 non-NUL bytes. */
    if (len != AADHAAR_LEN && !(grouped && in[4] == ' ' && in[9] == ' '))
        return 0;
    for (size_t i = 0; i < len; i++) {
        if (grouped && (i == 4 || i == 9))
            continue;
        if (!is_digit((unsigned char)in[i]))
            return 0;
        buf[n++] = in[i];
    }
    buf[n] = '\0';
    return 1;
}

int val_aadhaar_canon(const char *in, char out[13])
{
    char buf[AADHAAR_LEN + 1];
    /* Built in buf and written to out only at the end, so out may alias in. */
    int ok = in != NULL && aadhaar_digits(in, buf) && buf[0] >= '2' && val_verhoeff(buf);

    if (out != NULL) {
        if (ok)
            memcpy(out, buf, sizeof(buf));
        else
            out[0] = '\0';
    }
    return ok;
}

int val_aadhaar(const char *s)
{
    return val_aadhaar_canon(s, NULL);
}

/* ---- PAN, IFSC, account numbers ----------------------------------------------------------- */

int val_pan(const char *s, const char *surname_initial_or_NULL)
{
    static const char holder_types[] = "PCHFATBLJG";

    if (s == NULL)
        return VAL_PAN_ERR_FORMAT;
    /* Position by position: a short string fails at its NUL, which is neither letter nor digit. */
    for (size_t i = 0; i < 10; i++) {
        unsigned char c = (unsigned char)s[i];

        if ((i >= 5 && i <= 8) ? !is_digit(c) : !is_upper(c))
            return VAL_PAN_ERR_FORMAT;
    }
    if (s[10] != '\0')
        return VAL_PAN_ERR_FORMAT;
    if (memchr(holder_types, s[3], sizeof(holder_types) - 1) == NULL)
        return VAL_PAN_ERR_HOLDER_TYPE;
    if (surname_initial_or_NULL != NULL && surname_initial_or_NULL[0] != '\0') {
        unsigned char c = (unsigned char)surname_initial_or_NULL[0];

        if (!is_alpha(c) || to_upper(c) != (unsigned char)s[4])
            return VAL_PAN_ERR_SURNAME;
    }
    return VAL_PAN_OK;
}

int val_ifsc(const char *s)
{
    if (s == NULL)
        return 0;
    for (size_t i = 0; i < 11; i++) {
        unsigned char c = (unsigned char)s[i];

        if (i < 4 ? !is_upper(c) : i == 4 ? c != '0' : !(is_upper(c) || is_digit(c)))
            return 0;
    }
    return s[11] == '\0';
}

int val_account_number(const char *s)
{
    size_t n;

    if (s == NULL)
        return 0;
    n = digit_run(s);
    return n >= ACCOUNT_MIN && n <= ACCOUNT_MAX;
}

/* ---- masking ------------------------------------------------------------------------------ */

void val_mask_tail(const char *s, char *out, size_t outlen)
{
    size_t bytes, masked, tail;
    const char *keep;
    long chars;

    if (out == NULL || outlen == 0)
        return;
    if (s == NULL) {
        out[0] = '\0';
        return;
    }
    /* Read everything needed from s before the first write, so out may alias s. */
    bytes = strlen(s);
    chars = val_utf8_chars(s);
    if (chars < 0) {
        masked = bytes; /* not UTF-8: reveal nothing */
        keep = s + bytes;
    } else {
        masked = chars > MASK_VISIBLE ? (size_t)chars - MASK_VISIBLE : 0;
        keep = s;
        for (size_t i = 0; i < masked; i++) {
            uint32_t cp;

            keep += utf8_decode((const unsigned char *)keep, &cp); /* valid: never 0 */
        }
    }
    tail = bytes - (size_t)(keep - s);
    if (masked + tail >= outlen) {
        out[0] = '\0';
        return;
    }
    /* Tail first, with memmove: if out aliases s the tail moves left onto bytes already read. */
    memmove(out + masked, keep, tail + 1);
    memset(out, 'X', masked);
}
