/* families.c: the family registry, answer extraction and the number scanner
 * every checker shares (see families.h for the rules). */
#include "work/data/families.h"

#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "base/err.h"
#include "work/data/families_impl.h"

static const gt_family *const families[] = {
    &gt_family_arith, &gt_family_units, &gt_family_sort, &gt_family_logic, &gt_family_strings,
};
#define N_FAMILIES ((int)(sizeof families / sizeof families[0]))

int gt_family_count(void) { return N_FAMILIES; }

const gt_family *gt_family_at(int i) { return i >= 0 && i < N_FAMILIES ? families[i] : NULL; }

const gt_family *gt_family_by_name(const char *name) {
    for (int i = 0; i < N_FAMILIES; i++)
        if (!strcmp(families[i]->name, name)) return families[i];
    return NULL;
}

/* The stream of item `index` mixes in the family name, so item 7 of "arith"
 * and item 7 of "sort" under one seed draw unrelated numbers. */
static uint64_t family_stream(const gt_family *f, uint64_t index) {
    uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a over the name */
    for (const char *p = f->name; *p; p++) h = (h ^ (uint8_t)*p) * 0x100000001b3ull;
    return gt_mix64(h) ^ index;
}

void gt_family_generate(const gt_family *f, uint64_t seed, uint64_t index, gt_family_item *out) {
    int rc = gt_family_generate_level(f, seed, index, 0, out);
    assert(rc == 0);
    (void)rc;
}

int gt_family_generate_level(const gt_family *f, uint64_t seed, uint64_t index, int level, gt_family_item *out) {
    memset(out, 0, sizeof *out);
    if (level && (level < f->min_level || level > f->max_level)) return GT_EINVAL;
    out->family = f;
    out->seed = seed;
    out->index = index;
    out->level = level;
    gt_rng r;
    fam_item_rng(out, &r);
    f->generate(&r, out);
    assert(out->question[0] && out->answer[0]);
    return 0;
}

int gt_family_scratchpad(const gt_family_item *it, char *out, size_t cap) {
    if (!it->family->scratchpad) return GT_EUNSUPPORTED;
    return it->family->scratchpad(it, out, cap) ? GT_ELIMIT : 0;
}

void fam_item_rng(const gt_family_item *it, gt_rng *r) {
    gt_rng_seed(r, it->seed, family_stream(it->family, it->index));
}

void fam_verdict(gt_verdict *v, int ok, const char *fmt, ...) {
    v->ok = ok;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(v->reason, sizeof v->reason, fmt, ap);
    va_end(ap);
}

void fam_cat(char *buf, size_t cap, size_t *off, const char *fmt, ...) {
    if (*off >= cap) return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf + *off, cap - *off, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    *off += (size_t)n < cap - *off ? (size_t)n : cap - *off - 1;
}

static int lower(int c) { return c >= 'A' && c <= 'Z' ? c + 32 : c; }
static int is_blank(int c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f'; }

/* Trims blanks, markdown emphasis/backticks, quotes and one trailing period
 * from both ends of s[*a..*b). */
static void trim_span(const char *s, size_t *a, size_t *b) {
    int period = 0; /* one sentence-final period, dropped once */
    for (int changed = 1; changed;) {
        changed = 0;
        while (*a < *b && is_blank((unsigned char)s[*a])) (*a)++, changed = 1;
        while (*b > *a && is_blank((unsigned char)s[*b - 1])) (*b)--, changed = 1;
        while (*a < *b && (s[*a] == '*' || s[*a] == '`')) (*a)++, changed = 1;
        while (*b > *a && (s[*b - 1] == '*' || s[*b - 1] == '`')) (*b)--, changed = 1;
        if (*b - *a >= 2 && ((s[*a] == '"' && s[*b - 1] == '"') || (s[*a] == '\'' && s[*b - 1] == '\''))) {
            (*a)++, (*b)--;
            changed = 1;
        }
        if (!period && *b > *a && s[*b - 1] == '.') {
            (*b)--;
            period = changed = 1;
        }
    }
}

size_t gt_answer_extract(const char *text, size_t len, const char **start, int *marked) {
    static const char marker[] = "answer:";
    const size_t mlen = sizeof marker - 1;
    size_t a = len, b = len;
    /* 1. After the last "answer:" up to the end of that line. */
    for (size_t i = len >= mlen ? len - mlen + 1 : 0; i-- > 0;) {
        size_t k = 0;
        while (k < mlen && lower((unsigned char)text[i + k]) == marker[k]) k++;
        if (k == mlen) {
            a = i + mlen;
            while (a < len && (text[a] == ' ' || text[a] == '\t')) a++;
            b = a;
            while (b < len && text[b] != '\n') b++;
            break;
        }
    }
    /* 2. Otherwise (or when that line is empty) the last non-blank line. */
    size_t ta = a, tb = b;
    if (a < len || b < len) trim_span(text, &ta, &tb);
    if (marked) *marked = ta < tb;
    if (ta == tb) {
        size_t e = len;
        while (e > 0 && is_blank((unsigned char)text[e - 1])) e--;
        size_t s = e;
        while (s > 0 && text[s - 1] != '\n') s--;
        ta = s, tb = e;
        trim_span(text, &ta, &tb);
    }
    *start = text + ta;
    if (ta == tb) *start = text;
    return tb - ta;
}

void gt_family_check(const gt_family_item *it, const char *output, size_t len, gt_verdict *v) {
    memset(v, 0, sizeof *v);
    if (len > GT_FAMILY_CANDIDATE_MAX) {
        fam_verdict(v, 0, "answer of %zu bytes is over the limit of %d", len, GT_FAMILY_CANDIDATE_MAX);
        return;
    }
    const char *s;
    int marked = 0;
    size_t n = gt_answer_extract(output, len, &s, &marked);
    size_t c = n < sizeof v->extracted - 1 ? n : sizeof v->extracted - 1;
    memcpy(v->extracted, s, c);
    v->extracted[c] = 0;
    if (n == 0) {
        fam_verdict(v, 0, "empty answer");
        return;
    }
    it->family->check(it, s, n, marked, v);
}

static int is_digit(int c) { return c >= '0' && c <= '9'; }

int fam_num_at(const char *s, size_t n, size_t i, int flags, fam_num *out) {
    memset(out, 0, sizeof *out);
    if (i < n && s[i] == '-') {
        out->neg = 1;
        i++;
    }
    if (i >= n || !is_digit((unsigned char)s[i])) return -1;
    int digits = 0, toolong = 0;
    uint64_t m = 0;
    while (i < n) {
        if (is_digit((unsigned char)s[i])) {
            if (digits == 0 && s[i] == '0' && m == 0) {
                /* leading zeros add nothing */
            } else if (++digits > FAM_NUM_MAX_DIGITS) {
                toolong = 1;
            } else {
                m = m * 10 + (uint64_t)(s[i] - '0');
            }
            i++;
        } else if ((flags & FAM_GROUPS) && s[i] == ',' && i > 0 && is_digit((unsigned char)s[i - 1]) && i + 3 < n &&
                   is_digit((unsigned char)s[i + 1]) && is_digit((unsigned char)s[i + 2]) &&
                   is_digit((unsigned char)s[i + 3]) && (i + 4 >= n || !is_digit((unsigned char)s[i + 4]))) {
            i++; /* a thousands separator: exactly three digits follow */
        } else {
            break;
        }
    }
    if ((flags & FAM_FRAC) && i + 1 < n && s[i] == '.' && is_digit((unsigned char)s[i + 1])) {
        i++;
        while (i < n && is_digit((unsigned char)s[i])) {
            if (out->scale >= FAM_NUM_MAX_SCALE || digits >= FAM_NUM_MAX_DIGITS) {
                /* Fraction digits past what we keep: must all be zeros to be exact. */
                if (s[i] != '0') toolong = 1;
            } else {
                m = m * 10 + (uint64_t)(s[i] - '0');
                out->scale++;
                if (m) digits++;
            }
            i++;
        }
    }
    out->mant = m;
    out->end = i;
    if (m == 0) out->neg = 0; /* "-0" is 0 */
    return toolong ? -2 : 0;
}

int fam_num_next(const char *s, size_t n, size_t *pos, int flags, fam_num *out) {
    size_t i = *pos;
    while (i < n) {
        /* A '-' is a sign only where a number can start (not inside "a-b"
         * or "3-4"), and a digit starts a number only after a non-digit. */
        int prev_word = i > 0 && (is_digit((unsigned char)s[i - 1]) || (s[i - 1] >= 'a' && s[i - 1] <= 'z') ||
                                  (s[i - 1] >= 'A' && s[i - 1] <= 'Z') || s[i - 1] == '.');
        int starts = (is_digit((unsigned char)s[i]) && !(i > 0 && is_digit((unsigned char)s[i - 1]))) ||
                     (s[i] == '-' && i + 1 < n && is_digit((unsigned char)s[i + 1]) && !prev_word);
        if (starts) {
            int rc = fam_num_at(s, n, i, flags, out);
            if (rc == -2) return -2;
            if (rc == 0) {
                *pos = out->end;
                return 1;
            }
        }
        i++;
    }
    *pos = n;
    return 0;
}

int fam_nums(const char *s, size_t n, int flags, fam_num *out, int cap) {
    int count = 0, rc;
    size_t pos = 0;
    fam_num x;
    while ((rc = fam_num_next(s, n, &pos, flags, &x)) == 1) {
        if (count < cap) out[count] = x;
        count++;
    }
    return rc == -2 ? -2 : count;
}

int fam_pick_num(const char *s, size_t n, int flags, int marked, fam_num *out) {
    int rc, found = 0;
    size_t pos = 0;
    fam_num x;
    while ((rc = fam_num_next(s, n, &pos, flags, &x)) == 1) {
        *out = x;
        found = 1;
        if (marked) break;
    }
    if (rc == -2) return -2;
    return found ? 0 : -1;
}

const char *const fam_words[] = {
    "apple",  "river",  "stone",  "garden", "window", "bridge", "candle", "forest", "silver", "harbor",
    "pencil", "meadow", "rocket", "violin", "planet", "mirror", "basket", "thunder", "island", "lantern",
    "marble", "orange", "pepper", "quartz", "saddle", "tunnel", "velvet", "walnut", "yellow", "zipper",
    "anchor", "breeze", "castle", "dragon", "engine", "falcon", "glacier", "hammer", "jungle", "kettle",
    "ladder", "magnet", "needle", "oyster", "parrot", "rabbit", "salmon", "tomato", "umbrella", "valley",
    "wizard", "banana", "cactus", "desert", "feather", "giraffe", "helmet", "iron",   "jacket", "koala",
    "lemon",  "monkey", "noodle", "ocean",
};
const int fam_n_words = (int)(sizeof fam_words / sizeof fam_words[0]);

int gt_family_choices(const gt_family_item *it, int n, char (*out)[GT_FAMILY_ANSWER_MAX], int *gold) {
    assert(n >= 2 && n <= GT_FAMILY_MAX_CHOICES);
    gt_rng r;
    gt_rng_seed(&r, it->seed ^ 0x63686f696365ull /* "choice" */, family_stream(it->family, it->index));
    char wrong[GT_FAMILY_MAX_CHOICES][GT_FAMILY_ANSWER_MAX];
    int k = it->family->distract(it, &r, wrong, n - 1);
    assert(k >= 1 && k <= n - 1);
    int total = k + 1;
    int g = (int)gt_rng_below(&r, (uint64_t)total);
    for (int i = 0, w = 0; i < total; i++) {
        if (i == g) snprintf(out[i], GT_FAMILY_ANSWER_MAX, "%s", it->answer);
        else snprintf(out[i], GT_FAMILY_ANSWER_MAX, "%s", wrong[w++]);
    }
    *gold = g;
    return total;
}
