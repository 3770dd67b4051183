/* tokenizer_special.c: special tokens cut out of a text before it is
 * tokenized (gt_tok_partition, tokenizer_impl.h), in llama.cpp's order. */
#define _GNU_SOURCE /* memmem */
#include <string.h>

#include "base/alloc.h"
#include "infer/tokenizer_impl.h"

/* Appends f to fv. */
static int frag_push(gt_tok_fragvec *fv, gt_tok_frag f) {
    if (fv->n == fv->cap) {
        size_t cap = fv->cap ? 2 * fv->cap : 16;
        gt_tok_frag *v = gt_realloc(fv->v, cap * sizeof *v);
        if (!v) return GT_ENOMEM;
        fv->v = v;
        fv->cap = cap;
    }
    fv->v[fv->n++] = f;
    return 0;
}

/* Cuts special tokens out of the text, longest first, each left to right
 * through every raw fragment (llama.cpp's order). User-defined tokens are
 * always cut; control and unknown ones only with parse_special. White space
 * after a token marked rstrip goes with it (load_rstrip). */
int gt_tok_partition(const gt_tokenizer *tok, const char *text, size_t len, int parse_special,
                     gt_tok_fragvec *out) {
    gt_tok_fragvec a = {0}, b = {0};
    if (frag_push(&a, (gt_tok_frag){-1, 0, len})) return GT_ENOMEM;
    for (size_t si = 0; si < tok->n_specials; si++) {
        int32_t id = tok->specials[si];
        if (!parse_special && tok->attr[id] != GT_TOKEN_USER_DEFINED) continue;
        const char *st = tok->text + tok->text_off[id];
        size_t sl = tok->text_len[id];
        b.n = 0;
        for (size_t fi = 0; fi < a.n; fi++) {
            gt_tok_frag f = a.v[fi];
            if (f.id >= 0 || f.len < sl) {
                if (frag_push(&b, f)) goto oom;
                continue;
            }
            size_t pos = f.off, end = f.off + f.len;
            const char *p;
            while (pos < end && (p = memmem(text + pos, end - pos, st, sl))) {
                size_t at = (size_t)(p - text);
                if (at > pos && frag_push(&b, (gt_tok_frag){-1, pos, at - pos})) goto oom;
                if (frag_push(&b, (gt_tok_frag){id, at, sl})) goto oom;
                pos = at + sl;
                while (tok->rstrip[id] && pos < end && strchr(" \t\n\v\f\r", text[pos]) && text[pos]) pos++;
            }
            if (pos < end && frag_push(&b, (gt_tok_frag){-1, pos, end - pos})) goto oom;
        }
        gt_tok_fragvec t = a;
        a = b;
        b = t;
    }
    gt_free(b.v);
    *out = a;
    return 0;
oom:
    gt_free(a.v);
    gt_free(b.v);
    return GT_ENOMEM;
}
