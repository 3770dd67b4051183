/* gmask.c: the vocabulary's trie and plain-string lengths, and the masks
 * computed with them (gmask.h says why and how). */
#include "serve/gmask.h"

#include <assert.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"

#define GT_GMASK_MAX_PIECE 4096 /* bytes of one token's piece indexed (longer ones are checked alone) */

struct gt_gvocab {
    const gt_tokenizer *tok;
    int n_vocab, max_len, n_nodes;
    /* The trie, in preorder: node i's subtree is [i, skip[i]). */
    uint8_t *byte;
    uint16_t *depth;   /* bytes from the root: 1 for a first byte */
    int32_t *skip;
    int32_t *tok_at;   /* a token whose piece ends at the node, or -1 */
    int32_t *next_dup; /* per token: another token with the same piece, or -1 */
    /* Per token: its length when every byte is a plain string character,
     * -1 when not, 0 when it is never allowed (end of generation, no
     * bytes). */
    int32_t *plain;
    int32_t *exits;    /* tokens whose first non-plain byte is " or \ (they may end or escape a string), and loners */
    int n_exits;
    int32_t *loners;   /* tokens with pieces too long for the trie */
    int n_loners;
};

struct gt_gmask {
    int32_t *ids;      /* the allowed tokens (trie) or exits (strings) */
    float *saved;      /* their logits, kept across the pass that sets -inf */
    gt_gmatch *st;     /* the matcher's state at each depth of the trie path */
};

/* A piece to sort. */
typedef struct piece {
    const uint8_t *b;
    int len;
    int32_t id;
} piece;

/* Byte order, shorter first on a shared prefix: a prefix precedes its
 * extensions, so the trie is built in preorder. */
static int piece_cmp(const void *x, const void *y) {
    const piece *a = x, *b = y;
    int n = a->len < b->len ? a->len : b->len, c = memcmp(a->b, b->b, (size_t)n);
    if (c) return c;
    if (a->len != b->len) return a->len < b->len ? -1 : 1;
    return a->id < b->id ? -1 : a->id > b->id;
}

/* Each token's plain length, and the lists of exits and loners; fills ps
 * with the pieces the trie takes. Returns their count. */
static int classify(gt_gvocab *v, piece *ps, size_t *total) {
    int n = 0;
    *total = 0;
    for (int32_t t = 0; t < v->n_vocab; t++) {
        size_t len = 0;
        const char *p = gt_token_to_piece(v->tok, t, 0, &len);
        v->next_dup[t] = -1;
        v->plain[t] = 0;
        if (!p || !len || gt_tokenizer_is_eog(v->tok, t)) continue;
        const uint8_t *b = (const uint8_t *)p;
        size_t k = 0;
        while (k < len && gt_grammar_plain(b[k])) k++;
        v->plain[t] = k == len && len <= GT_GMASK_MAX_PIECE ? (int32_t)len : -1;
        if ((k < len && (b[k] == '"' || b[k] == '\\')) || len > GT_GMASK_MAX_PIECE) v->exits[v->n_exits++] = t;
        if (len > GT_GMASK_MAX_PIECE) {
            v->loners[v->n_loners++] = t;
            continue;
        }
        ps[n++] = (piece){.b = b, .len = (int)len, .id = t};
        *total += len;
        if ((int)len > v->max_len) v->max_len = (int)len;
    }
    return n;
}

/* Builds the trie of the n sorted pieces (at most total nodes). */
static void build_trie(gt_gvocab *v, const piece *ps, int n) {
    int32_t path[GT_GMASK_MAX_PIECE + 1];
    int prev_len = 0;
    for (int i = 0; i < n; i++) {
        const piece *p = &ps[i];
        int lcp = 0;
        if (i) {
            const piece *q = &ps[i - 1];
            while (lcp < p->len && lcp < q->len && p->b[lcp] == q->b[lcp]) lcp++;
        }
        for (int d = prev_len; d > lcp; d--) v->skip[path[d]] = v->n_nodes; /* close what the new piece leaves */
        if (lcp == p->len) {                                                /* the same bytes as the one before */
            int32_t node = path[p->len];
            v->next_dup[p->id] = v->tok_at[node];
            v->tok_at[node] = p->id;
        } else {
            for (int d = lcp; d < p->len; d++) {
                int32_t node = v->n_nodes++;
                v->byte[node] = p->b[d];
                v->depth[node] = (uint16_t)(d + 1);
                v->tok_at[node] = -1;
                path[d + 1] = node;
            }
            v->tok_at[path[p->len]] = p->id;
        }
        prev_len = p->len;
    }
    for (int d = prev_len; d > 0; d--) v->skip[path[d]] = v->n_nodes;
}

int gt_gvocab_new(const gt_tokenizer *tok, int n_vocab, gt_gvocab **out, gt_err *err) {
    assert(n_vocab > 0 && n_vocab <= gt_tokenizer_n_vocab(tok));
    *out = NULL;
    gt_gvocab *v = gt_calloc(1, sizeof *v);
    piece *ps = gt_malloc((size_t)n_vocab * sizeof *ps);
    if (!v || !ps) goto oom;
    v->tok = tok, v->n_vocab = n_vocab;
    v->next_dup = gt_malloc((size_t)n_vocab * sizeof(int32_t));
    v->plain = gt_malloc((size_t)n_vocab * sizeof(int32_t));
    v->exits = gt_malloc((size_t)n_vocab * sizeof(int32_t));
    v->loners = gt_malloc((size_t)n_vocab * sizeof(int32_t));
    if (!v->next_dup || !v->plain || !v->exits || !v->loners) goto oom;
    size_t total;
    int n = classify(v, ps, &total);
    qsort(ps, (size_t)n, sizeof *ps, piece_cmp);
    size_t cap = total ? total : 1;
    v->byte = gt_malloc(cap), v->depth = gt_malloc(cap * sizeof(uint16_t));
    v->skip = gt_malloc(cap * sizeof(int32_t)), v->tok_at = gt_malloc(cap * sizeof(int32_t));
    if (!v->byte || !v->depth || !v->skip || !v->tok_at) goto oom;
    build_trie(v, ps, n);
    gt_free(ps);
    *out = v;
    return 0;
oom:
    gt_free(ps);
    gt_gvocab_free(v);
    return gt_err_set(err, GT_ENOMEM, "out of memory for the vocabulary's grammar index (%d tokens)", n_vocab);
}

void gt_gvocab_free(gt_gvocab *v) {
    if (!v) return;
    gt_free(v->byte), gt_free(v->depth), gt_free(v->skip), gt_free(v->tok_at);
    gt_free(v->next_dup), gt_free(v->plain), gt_free(v->exits), gt_free(v->loners);
    gt_free(v);
}

int gt_gvocab_nodes(const gt_gvocab *v) { return v->n_nodes; }

int gt_gmask_new(const gt_gvocab *v, gt_gmask **out, gt_err *err) {
    gt_gmask *k = gt_calloc(1, sizeof *k);
    *out = NULL;
    if (k) {
        k->ids = gt_malloc((size_t)v->n_vocab * sizeof *k->ids);
        k->saved = gt_malloc((size_t)v->n_vocab * sizeof *k->saved);
        k->st = gt_malloc((size_t)(v->max_len + 1) * sizeof *k->st);
    }
    if (!k || !k->ids || !k->saved || !k->st) {
        gt_gmask_free(k);
        return gt_err_set(err, GT_ENOMEM, "out of memory for a grammar mask");
    }
    *out = k;
    return 0;
}

void gt_gmask_free(gt_gmask *k) {
    if (!k) return;
    gt_free(k->ids), gt_free(k->saved), gt_free(k->st);
    gt_free(k);
}

/* Whether token t's whole piece continues m (k->st[0] is scratch). */
static int feed_one(const gt_gvocab *v, gt_gmask *k, const gt_grammar *g, const gt_gmatch *m, int32_t t) {
    size_t len = 0;
    const char *p = gt_token_to_piece(v->tok, t, 0, &len);
    gt_grammar_copy(&k->st[0], m);
    return gt_grammar_feed(g, &k->st[0], p, len) > 0;
}

/* Keeps the logits of the n tokens in ids (distinct) and sets every other
 * to -inf: one pass over the vocabulary that compilers vectorise. */
static void keep_only(gt_gmask *k, const int32_t *ids, int n, float *logits, int n_vocab) {
    for (int i = 0; i < n; i++) k->saved[i] = logits[ids[i]];
    for (int t = 0; t < n_vocab; t++) logits[t] = -INFINITY;
    for (int i = 0; i < n; i++) logits[ids[i]] = k->saved[i];
}

/* Inside a string with room for `room` plain characters: plain tokens by
 * length (set in place), the tokens that leave the string through the
 * matcher. */
static int string_mask(const gt_gvocab *v, gt_gmask *k, const gt_grammar *g, const gt_gmatch *m, int room,
                       float *logits) {
    int n_exit = 0, n = 0;
    for (int i = 0; i < v->n_exits; i++)
        if (feed_one(v, k, g, m, v->exits[i])) k->ids[n_exit] = v->exits[i], k->saved[n_exit++] = logits[v->exits[i]];
    for (int t = 0; t < v->n_vocab; t++) {
        int keep = v->plain[t] > 0 && v->plain[t] <= room;
        n += keep;
        logits[t] = keep ? logits[t] : -INFINITY;
    }
    for (int i = 0; i < n_exit; i++) logits[k->ids[i]] = k->saved[i];
    return n + n_exit;
}

/* Anywhere else: the trie walked with the matcher, a dead prefix skipping
 * its subtree; the allowed tokens are gathered in k->ids. */
static int trie_mask(const gt_gvocab *v, gt_gmask *k, const gt_grammar *g, const gt_gmatch *m) {
    int n = 0;
    gt_grammar_copy(&k->st[0], m);
    for (int i = 0; i < v->n_nodes;) {
        int d = v->depth[i];
        if (!gt_grammar_next(g, &k->st[d - 1], v->byte[i], &k->st[d])) {
            i = v->skip[i];
            continue;
        }
        for (int32_t t = v->tok_at[i]; t >= 0; t = v->next_dup[t]) k->ids[n++] = t;
        i++;
    }
    return n;
}

int gt_gmask_apply(const gt_gvocab *v, gt_gmask *k, const gt_grammar *g, const gt_gmatch *m, float *logits) {
    int room = gt_grammar_string_room(g, m);
    if (room >= 0) return string_mask(v, k, g, m, room, logits); /* loners are among the exits */
    int n = trie_mask(v, k, g, m);
    for (int i = 0; i < v->n_loners; i++)
        if (feed_one(v, k, g, m, v->loners[i])) k->ids[n++] = v->loners[i];
    keep_only(k, k->ids, n, logits, v->n_vocab);
    return n;
}
