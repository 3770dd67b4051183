/* unicode_tables.h: the tables generated from Unicode's data files
 * (unicode_tables.c, by scripts/unicode_tables.sh) that unicode_norm.c reads.
 * Every array is sorted by its first field, so lookups are binary searches.
 * Sequences (decompositions, foldings, prototypes) are (offset, length)
 * slices of gt_uni_pool. */
#ifndef GT_BASE_UNICODE_TABLES_H
#define GT_BASE_UNICODE_TABLES_H

#include <stddef.h>
#include <stdint.h>

/* A code point's full canonical (nfd_*) and full compatibility (nfkd_*)
 * decomposition; nfd_len 0: it has no canonical one (it decomposes only
 * under compatibility). Hangul syllables are not listed (algorithmic). */
typedef struct gt_uni_decomp {
    uint32_t cp;
    uint32_t nfd_off, nfd_len, nfkd_off, nfkd_len;
} gt_uni_decomp;

/* first + second compose canonically to composite (primary composites: not
 * in Full_Composition_Exclusion). Sorted by (first, second). */
typedef struct gt_uni_comp {
    uint32_t first, second, composite;
} gt_uni_comp;

typedef struct gt_uni_ccc_range { /* lo..hi have canonical combining class ccc (> 0) */
    uint32_t lo, hi, ccc;
} gt_uni_ccc_range;

typedef struct gt_uni_map { /* cp maps to the pool slice (off, len) */
    uint32_t cp, off, len;
} gt_uni_map;

typedef struct gt_uni_range {
    uint32_t lo, hi;
} gt_uni_range;

extern const char gt_uni_version[];             /* the UCD's version, e.g. "15.0.0" */
extern const char gt_uni_confusables_version[]; /* confusables.txt's */
extern const uint32_t gt_uni_pool[];
extern const size_t gt_uni_pool_len;
extern const gt_uni_decomp gt_uni_decomps[];
extern const size_t gt_uni_n_decomps;
extern const gt_uni_comp gt_uni_comps[];
extern const size_t gt_uni_n_comps;
extern const gt_uni_ccc_range gt_uni_cccs[];
extern const size_t gt_uni_n_cccs;
extern const gt_uni_map gt_uni_folds[];       /* full case folding (CaseFolding.txt, status C and F) */
extern const size_t gt_uni_n_folds;
extern const gt_uni_map gt_uni_confusables[]; /* UTS #39 prototypes */
extern const size_t gt_uni_n_confusables;
extern const gt_uni_range gt_uni_ignorables[]; /* Default_Ignorable_Code_Point */
extern const size_t gt_uni_n_ignorables;
extern const gt_uni_range gt_uni_spaces[];     /* White_Space */
extern const size_t gt_uni_n_spaces;

#endif
