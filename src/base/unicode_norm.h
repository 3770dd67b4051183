/* unicode_norm.h: Unicode normalisation forms (UAX #15: NFD, NFC, NFKD,
 * NFKC), full case folding, and UTS #39's confusables skeleton, on arrays of
 * code points, with tables generated from Unicode's data files
 * (unicode_tables.c; the version is gt_uni_version).
 *
 * Why in base: the data layer's dedup key (work/data/minhash.c) is its first
 * user, but agent names (market) and tokenizers that normalise with NFKC
 * (infer) need the same rules, and base is below all of them.
 *
 * Code points above U+10FFFF stand for bytes that were not valid UTF-8
 * (GT_UNI_RAW): every form passes them through unchanged, as starters, so a
 * text with a stray byte still normalises everywhere else. */
#ifndef GT_BASE_UNICODE_NORM_H
#define GT_BASE_UNICODE_NORM_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"

#define GT_UNI_RAW(byte) (0x110000u + (uint32_t)(byte)) /* an invalid UTF-8 byte, carried through */
/* Most code points a normalisation may produce per input code point (U+FDFA
 * decomposes to 18): callers size their inputs knowing the output is bounded
 * by this factor. */
#define GT_UNI_MAX_EXPANSION 18

/* A growable array of code points. Free with gt_ucps_free. */
typedef struct gt_ucps {
    uint32_t *cp;
    size_t len, cap;
} gt_ucps;
#define GT_UCPS_INIT {NULL, 0, 0}
void gt_ucps_free(gt_ucps *u); /* accepts NULL */
int gt_ucps_push(gt_ucps *u, uint32_t cp); /* 0 or GT_ENOMEM */

typedef enum gt_uni_form { GT_UNI_NFD, GT_UNI_NFC, GT_UNI_NFKD, GT_UNI_NFKC } gt_uni_form;

/* Decodes UTF-8 s[0..n) (strict: shortest form, no surrogates) into out,
 * replacing it; each byte that does not start a valid sequence becomes
 * GT_UNI_RAW(byte). 0 or GT_ENOMEM. */
int gt_uni_decode(const char *s, size_t n, gt_ucps *out);
/* Appends the UTF-8 of in[0..n) to out (GT_UNI_RAW as its byte). 0 or GT_ENOMEM. */
int gt_uni_encode(const uint32_t *in, size_t n, gt_buf *out);

/* out = the normalisation form `form` of in[0..n) (out is replaced; in and
 * out must not alias). 0 or GT_ENOMEM. */
int gt_uni_normalize(gt_uni_form form, const uint32_t *in, size_t n, gt_ucps *out);
/* out = full case folding of in (CaseFolding.txt C+F). 0 or GT_ENOMEM. */
int gt_uni_casefold(const uint32_t *in, size_t n, gt_ucps *out);
/* out = UTS #39 skeleton of in: NFD, each code point replaced by its
 * confusables prototype, NFD again (Default_Ignorable code points are the
 * caller's to drop first: gt_uni_is_ignorable). 0 or GT_ENOMEM. */
int gt_uni_skeleton(const uint32_t *in, size_t n, gt_ucps *out);

int gt_uni_is_ignorable(uint32_t cp); /* Default_Ignorable_Code_Point */
int gt_uni_is_space(uint32_t cp);     /* White_Space */
uint32_t gt_uni_ccc(uint32_t cp);     /* canonical combining class, 0 for starters */

#endif
