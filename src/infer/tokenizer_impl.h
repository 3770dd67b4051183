/* tokenizer_impl.h: the gt_tokenizer structure and what tokenizer.c (load,
 * vocabulary, special tokens, SentencePiece, pieces) shares with
 * tokenizer_bpe.c (pre-tokenizer regexes, byte-level BPE). Internal. */
#ifndef GT_INFER_TOKENIZER_IMPL_H
#define GT_INFER_TOKENIZER_IMPL_H

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "infer/tokenizer.h"

enum { GT_TOK_SPM = 1, GT_TOK_BPE = 2 };

#define GT_TOK_MAX_REGEX 4 /* most regexes a pre-tokenizer chains */

/* A growable vector of token ids (the output of one call). */
typedef struct gt_tokvec {
    int32_t *v;
    size_t n, cap;
} gt_tokvec;

int gt_tokvec_push(gt_tokvec *tv, int32_t id);

/* An open-addressing table from byte strings to values: slots hold an index
 * into the owner's entries (-1 when empty). */
typedef struct gt_strtab {
    int32_t *slots;
    uint32_t mask;
} gt_strtab;

uint64_t gt_tok_hash(const char *s, size_t n, uint64_t h);
#define GT_TOK_HASH_SEED 0xcbf29ce484222325ull

struct gt_tokenizer {
    int type;            /* GT_TOK_SPM / GT_TOK_BPE */
    char model[16], pre[64];
    int32_t n_vocab;
    char *text;          /* all token texts, back to back */
    uint32_t *text_off, *text_len;
    float *scores;
    uint8_t *attr;       /* GT_TOKEN_* */
    uint8_t *rstrip;     /* 1: white space after this special token is dropped (Phi-3) */
    char *piece;         /* what each token prints as (see gt_token_to_piece) */
    uint32_t *piece_off, *piece_len;
    gt_strtab vocab;     /* text -> id (a later duplicate wins, as in llama.cpp) */

    /* BPE merges: "left right" texts; (left, right) -> rank */
    char *merge_text;
    uint32_t *merge_off, *merge_left_len, *merge_len;
    int32_t n_merges;
    gt_strtab merges;
    pcre2_code *re[GT_TOK_MAX_REGEX];
    int n_re;
    pcre2_general_context *pcre_ctx;
    int ignore_merges;   /* llama3: a piece that is a token is taken whole */
    uint32_t byte_cp[256];
    int16_t cp_byte[512];

    int32_t byte_token[256]; /* SPM byte fallback, -1 when missing */
    int32_t bos, eos, eot, eom, unk;
    int add_bos, add_eos, add_space_prefix;
    int32_t *specials;   /* control/user-defined/unknown ids, longest text first */
    size_t n_specials;
    int32_t *eog;
    size_t n_eog;
    /* The most input bytes one emitted token can stand for (gt_tokenize_min_tokens;
     * 0: this vocabulary can drop input bytes, so no bound holds), and
     * whether any special token drops the white space after it. */
    size_t max_cover;
    int any_rstrip;
};

/* Vocabulary lookup: id of an exact text, -1 when none. */
int32_t gt_tok_find(const gt_tokenizer *tok, const char *s, size_t n);

/* A fragment of the input: raw text [off, off+len) or a token (id >= 0). */
typedef struct gt_tok_frag {
    int32_t id;
    size_t off, len;
} gt_tok_frag;

typedef struct gt_tok_fragvec {
    gt_tok_frag *v;
    size_t n, cap;
} gt_tok_fragvec;

/* Cuts special tokens out of text into *out (tokenizer_special.c): user-
 * defined ones always, control and unknown ones only with parse_special,
 * white space after an rstrip one with it. Caller frees out->v. */
int gt_tok_partition(const gt_tokenizer *tok, const char *text, size_t len, int parse_special,
                     gt_tok_fragvec *out);

/* BPE: loads merges and the pre-tokenizer named by tok->pre (tokenizer_bpe.c). */
int gt_tok_bpe_load(gt_tokenizer *tok, const gt_gguf *g, gt_err *err);
void gt_tok_bpe_free(gt_tokenizer *tok);
/* BPE-tokenizes one fragment of raw text, appending ids to out; stops
 * with GT_ELIMIT (err untouched) once out holds more than max ids. */
int gt_tok_bpe_encode(const gt_tokenizer *tok, const char *text, size_t len, size_t max, gt_tokvec *out,
                      gt_err *err);
/* The bytes text becomes in the byte-level alphabet that BPE merges (after
 * gt_utf8_sanitize): what the words of gt_tok_bpe_encode add up to. With
 * skip_space, ASCII white space is left out of the count. */
size_t gt_tok_bpe_mapped_len(const gt_tokenizer *tok, const char *text, size_t len, int skip_space);
/* 1 when every byte's code point and every merge's result is a token, so
 * the encoder never drops an input byte (tokenizer.c's max_cover). */
int gt_tok_bpe_lossless(const gt_tokenizer *tok);

/* A min-heap of candidate merges, shared by both algorithms: key ascending,
 * then left ascending (SentencePiece pushes -score, BPE the rank). */
typedef struct gt_tok_bigram {
    double key;
    int left, right;
    size_t size;
} gt_tok_bigram;

typedef struct gt_tok_heap {
    gt_tok_bigram *v;
    size_t n, cap;
} gt_tok_heap;

int gt_tok_heap_push(gt_tok_heap *h, gt_tok_bigram b);
gt_tok_bigram gt_tok_heap_pop(gt_tok_heap *h);

/* A symbol: a span of the text being merged, in a doubly linked list. */
typedef struct gt_tok_sym {
    const char *text;
    size_t n;
    int prev, next;
} gt_tok_sym;

#endif
