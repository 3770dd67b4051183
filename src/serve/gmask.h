/* gmask.h: structured output's token masks, made cheap. Which tokens can
 * continue a document is decided by feeding their bytes to the grammar's
 * matcher (grammar.h); doing that token by token costs a pass over the whole
 * vocabulary at every step. Instead the vocabulary is indexed once per
 * server (gt_gvocab):
 *   - a trie of the tokens' bytes, walked with the matcher: a prefix that no
 *     reading accepts drops every token under it unvisited;
 *   - per token, its length when all its bytes are plain string characters:
 *     inside a string (the common case, and the one where nearly the whole
 *     vocabulary is allowed) those are decided by a length compare, and only
 *     the tokens that leave the string (a quote or a backslash after plain
 *     bytes) are fed to the matcher.
 * The mask is exactly the token-by-token one (tests/serve/test_serve_grammar.c
 * compares them at every step of generated documents).
 *
 *   gt_gvocab *v; gt_gvocab_new(tok, n_vocab, &v, &err);   (once)
 *   gt_gmask *k; gt_gmask_new(v, &k, &err);                (per request)
 *   gt_gmask_apply(v, k, grammar, match, logits);          (per token)
 */
#ifndef GT_SERVE_GMASK_H
#define GT_SERVE_GMASK_H

#include <stdint.h>

#include "base/err.h"
#include "infer/tokenizer.h"
#include "serve/grammar.h"

typedef struct gt_gvocab gt_gvocab;
typedef struct gt_gmask gt_gmask;

/* Indexes the first n_vocab tokens of tok (their pieces, without control
 * tokens' texts). End-of-generation tokens and tokens without bytes are left
 * out: a mask never allows them. */
int gt_gvocab_new(const gt_tokenizer *tok, int n_vocab, gt_gvocab **out, gt_err *err);
void gt_gvocab_free(gt_gvocab *v); /* accepts NULL */
/* Trie nodes and the longest piece, for the startup log and tests. */
int gt_gvocab_nodes(const gt_gvocab *v);

/* Scratch for one generation's masks (matcher states along a trie path and
 * the allowed set). */
int gt_gmask_new(const gt_gvocab *v, gt_gmask **out, gt_err *err);
void gt_gmask_free(gt_gmask *k); /* accepts NULL */
/* Sets logits[t] to -inf for every token whose bytes cannot continue m
 * under g. Returns how many tokens are left allowed (0: none can). */
int gt_gmask_apply(const gt_gvocab *v, gt_gmask *k, const gt_grammar *g, const gt_gmatch *m, float *logits);

#endif
