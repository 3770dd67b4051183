/* families_impl.h: what the family files share: the family tables and the
 * scanning helpers checkers use to read numbers and words out of an answer. */
#ifndef GT_WORK_FAMILIES_IMPL_H
#define GT_WORK_FAMILIES_IMPL_H

#include <stddef.h>
#include <stdint.h>

#include "work/data/families.h"

extern const gt_family gt_family_arith, gt_family_units, gt_family_sort, gt_family_logic,
    gt_family_strings;

/* Seeds r exactly as gt_family_generate did for this item, so a checker can
 * redraw the item's parameters instead of parsing its question. */
void fam_item_rng(const gt_family_item *it, gt_rng *r);

/* Sets a verdict: ok flag and a printf-style reason. */
void fam_verdict(gt_verdict *v, int ok, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* A decimal number read from text: value = (neg ? -1 : 1) * mant / 10^scale. */
typedef struct fam_num {
    int neg;
    uint64_t mant;
    int scale;   /* digits after the point, 0..FAM_NUM_MAX_SCALE */
    size_t end;  /* offset just past the number in the scanned span */
} fam_num;
#define FAM_NUM_MAX_DIGITS 18 /* mantissas up to 10^18 fit in uint64 */
#define FAM_NUM_MAX_SCALE 12

/* Flags: accept a '.' fraction; accept ',' between groups of three digits
 * ("1,234,567"; off for lists, where "3,712" may be two numbers). */
#define FAM_FRAC 1
#define FAM_GROUPS 2
/* Reads the number starting at s[i] (optional '-', digits, then what flags
 * allow). 0 when ok, -1 when there is no number there, -2 when it is too
 * long to represent. */
int fam_num_at(const char *s, size_t n, size_t i, int flags, fam_num *out);
/* The next number at or after *pos (advanced past it): 1 found, 0 none
 * left, -2 too long. */
int fam_num_next(const char *s, size_t n, size_t *pos, int flags, fam_num *out);
/* The answer's number: the first of a marked span, else the last. 0, -1 when
 * there is none, -2 when one is too long. */
int fam_pick_num(const char *s, size_t n, int flags, int marked, fam_num *out);
/* Every number in s[0..n), in order, up to cap; returns the count found
 * (possibly > cap: only cap are written) or -2 when one is too long. */
int fam_nums(const char *s, size_t n, int flags, fam_num *out, int cap);

/* A small fixed list of common English words (for sort and strings). */
extern const char *const fam_words[];
extern const int fam_n_words;

/* Appends printf output to a fixed buffer at *off (truncating safely). */
void fam_cat(char *buf, size_t cap, size_t *off, const char *fmt, ...) __attribute__((format(printf, 4, 5)));

#endif
