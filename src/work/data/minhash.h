/* minhash.h: duplicate detection for the data pipeline.
 *
 * Exact duplicates: the SHA-256 of the normalised text (gt_text_normalize),
 * Unicode's rules rather than our own folding (base/unicode_norm.h, tables
 * of Unicode 15.0): Default_Ignorable code points dropped (zero-width
 * characters, soft hyphen, bidi controls, variation selectors, tags: what
 * makes a copy look new without changing it); NFKC (fullwidth letters,
 * ligatures, superscripts, math alphanumerics, composed and decomposed
 * accents all agree); full case folding; the UTS #39 confusables skeleton
 * (Cyrillic, Greek, Armenian, Cherokee... look-alikes fold to the Latin
 * prototype; note it also folds 0 to o, 1 and I to l, m to rn: the key is
 * for comparison, never shown); case folded again, NFD, and every combining
 * mark dropped (accents do not make a text new); every White_Space run to
 * one ' ', ends trimmed. Bytes that are not valid UTF-8 stay as they are.
 *
 * Near duplicates: MinHash signatures over shingles of the normalised text
 * (k-word or k-byte windows), k hash functions h_i(x) = (a_i x + b_i) mod
 * (2^61 - 1) over a 64-bit shingle hash, so P[sig_a[i] == sig_b[i]] is the
 * Jaccard similarity of the two shingle sets; the fraction of equal entries
 * estimates it with standard error sqrt(J(1-J)/k). LSH banding (b bands of r
 * rows) makes pairs with similarity s candidates with probability
 * 1 - (1 - s^r)^b; candidates are then confirmed by their estimated
 * similarity >= threshold. gt_lsh_params picks b and r for a threshold the
 * way datasketch does (least false positive + false negative mass). */
#ifndef GT_WORK_MINHASH_H
#define GT_WORK_MINHASH_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/err.h"

#define GT_MINHASH_MAX_HASHES 1024  /* signature length; 128 is the usual choice */
#define GT_MINHASH_MAX_SHINGLE 64   /* words or bytes per shingle */
#define GT_MINHASH_DEFAULT_HASHES 128
#define GT_MINHASH_DEFAULT_WORDS 5  /* 5-word shingles: sentences differing in a word still share most */
#define GT_DEDUP_DEFAULT_THRESHOLD 0.8
/* Texts longer than this are hashed on their first GT_MINHASH_MAX_TEXT bytes:
 * a bound on work per sample (samples are a few KiB). */
#define GT_MINHASH_MAX_TEXT (1u << 20)

typedef enum gt_shingle_kind { GT_SHINGLE_WORDS = 0, GT_SHINGLE_CHARS = 1 } gt_shingle_kind;

typedef struct gt_minhash_params {
    int n_hashes;           /* 1..GT_MINHASH_MAX_HASHES */
    gt_shingle_kind kind;
    int shingle_size;       /* 1..GT_MINHASH_MAX_SHINGLE */
    uint64_t seed;          /* picks the hash functions: signatures compare only under one seed */
} gt_minhash_params;

gt_minhash_params gt_minhash_defaults(void); /* 128 hashes, 5-word shingles, seed 1 */

typedef struct gt_minhash {
    gt_minhash_params p;
    uint64_t *a, *b; /* n_hashes coefficients each; owned */
} gt_minhash;

/* Checks p (error names the bad field) and draws the hash functions. Free
 * with gt_minhash_free. */
int gt_minhash_init(gt_minhash *mh, const gt_minhash_params *p, gt_err *err);
void gt_minhash_free(gt_minhash *mh); /* accepts NULL */

/* Signature of text into sig[0..n_hashes). The empty text (no shingle) gets
 * all UINT64_MAX, which matches only other empty texts. Returns 0 or
 * GT_ENOMEM. */
int gt_minhash_sign(const gt_minhash *mh, const char *text, size_t len, uint64_t *sig);
/* Fraction of equal entries: the Jaccard estimate. */
double gt_minhash_similarity(const uint64_t *a, const uint64_t *b, int n_hashes);

/* Exact Jaccard similarity of the two texts' shingle sets (by 64-bit shingle
 * hash) under mh's shingling: for tests and benchmarks. -1 when out of memory. */
double gt_jaccard_exact(const gt_minhash *mh, const char *a, size_t alen, const char *b, size_t blen);

/* Normalised text (rules above) appended to out. 0 or GT_ENOMEM. */
int gt_text_normalize(const char *s, size_t n, gt_buf *out);
/* SHA-256 of the normalised text: the exact-dedup key. 0 or GT_ENOMEM. */
int gt_text_hash(const char *s, size_t n, uint8_t out[32]);
/* Both dedup keys of one text from one normalisation (for a text of at most
 * GT_MINHASH_MAX_TEXT bytes; a longer one is normalised twice, as the two
 * calls would): hash, when not NULL, gets gt_text_hash's bytes and sig, when
 * mh is not NULL, gt_minhash_sign's. 0 or GT_ENOMEM. */
int gt_text_keys(const gt_minhash *mh, const char *s, size_t n, uint8_t hash[32], uint64_t *sig);

/* ---- LSH index ---- */

typedef struct gt_lsh gt_lsh;

/* Bands and rows (b * r <= n_hashes) that minimise the false positive plus
 * false negative probability mass around threshold (0 < threshold < 1). */
void gt_lsh_params(double threshold, int n_hashes, int *bands, int *rows);

/* An empty index for signatures of n_hashes entries. Free with gt_lsh_free. */
int gt_lsh_new(int n_hashes, int bands, int rows, gt_lsh **out, gt_err *err);
void gt_lsh_free(gt_lsh *l); /* accepts NULL */
/* Adds a signature (copied) under a caller's id. 0 or GT_ENOMEM. */
int gt_lsh_insert(gt_lsh *l, uint64_t id, const uint64_t *sig);
/* Looks for a stored signature sharing a band with sig whose estimated
 * similarity is >= threshold. Returns 1 and the most similar one's id and
 * similarity, or 0 when none. */
int gt_lsh_query(const gt_lsh *l, const uint64_t *sig, double threshold, uint64_t *id, double *sim);
/* Number of signatures stored. */
size_t gt_lsh_size(const gt_lsh *l);

#endif
