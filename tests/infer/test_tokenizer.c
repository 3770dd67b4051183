#define _GNU_SOURCE /* memmem */
/* test_tokenizer.c: both tokenizer families against llama.cpp: every case of
 * llama.cpp's own tokenizer tests (fixtures tokenizer/NAME.inp and .out)
 * must give exactly the same ids, the prompts of the model fixtures their
 * reference ids (with BOS as llama.cpp adds it), and detokenizing gives the
 * text back. Plus special tokens, limits, bad ids and malformed vocabularies. */
#include <jansson.h>

#include "../test.h"
#include "base/alloc.h"
#include "base/file.h"
#include "infer/tokenizer.h"

static gt_tokenizer *load(const char *rel, gt_gguf **gp) {
    gt_err err = {0};
    gt_gguf *g = NULL;
    gt_tokenizer *tok = NULL;
    int rc = gt_gguf_open(gt_fixture(rel), &g, &err);
    if (!rc) rc = gt_tokenizer_load(g, &tok, &err);
    CHECK_MSG(rc == 0, "%s: %s", rel, err.msg);
    if (gp) *gp = g;
    else gt_gguf_close(g);
    return tok;
}

/* gt_tokenize_max and gt_tokenize_min_tokens on a text of n tokens: the
 * bound from its length is never above n; a budget of n gives the same ids
 * as gt_tokenize; a budget of n - 1 fails with a count over it and no more
 * than n (tokenizing stopped where it passed the budget), appending nothing. */
static void check_bounded(const gt_tokenizer *tok, const char *vocab, int c, const char *text, size_t len,
                          size_t n) {
    size_t least = gt_tokenize_min_tokens(tok, text, len), got = 0;
    CHECK_MSG(least <= n, "%s case %d: %zu tokens, but its length says at least %zu", vocab, c, n, least);
    gt_buf ids = GT_BUF_INIT;
    gt_err err = {0};
    CHECK_EQ_INT(gt_tokenize_max(tok, text, len, 0, 0, n, &ids, &got, &err), 0);
    CHECK_MSG(got == n && ids.len == n * sizeof(int32_t), "%s case %d: %zu tokens within a budget of %zu", vocab, c,
              got, n);
    if (n > 0) {
        gt_buf_reset(&ids);
        CHECK_EQ_INT(gt_tokenize_max(tok, text, len, 0, 0, n - 1, &ids, &got, &err), GT_ELIMIT);
        CHECK_MSG(got > n - 1 && got <= n && ids.len == 0, "%s case %d: over a budget of %zu with %zu tokens, "
                  "reported %zu", vocab, c, n - 1, n, got);
    }
    gt_buf_free(&ids);
}

/* Runs the llama.cpp test cases of one vocabulary; returns cases checked. */
static int run_cases(const char *vocab) {
    char rel[256];
    uint8_t *inp = NULL, *outp = NULL;
    size_t inl, outl;
    gt_err err = {0};
    snprintf(rel, sizeof rel, "tokenizer/%s.inp", vocab);
    int rc = gt_file_read(gt_fixture(rel), 1 << 20, &inp, &inl, &err);
    snprintf(rel, sizeof rel, "tokenizer/%s.out", vocab);
    if (!rc) rc = gt_file_read(gt_fixture(rel), 1 << 20, &outp, &outl, &err);
    CHECK_MSG(rc == 0, "%s", err.msg);
    snprintf(rel, sizeof rel, "tokenizer/%s", vocab);
    gt_tokenizer *tok = load(rel, NULL);
    int cases = 0;
    if (rc || !tok) goto done;
    static const char sep[] = "\n__ggml_vocab_test__\n";
    char *p = (char *)inp, *end = (char *)inp + inl;
    char *line = (char *)outp;
    int32_t ids[4096];
    while (p < end) {
        char *m = memmem(p, (size_t)(end - p), sep, sizeof sep - 1);
        if (!m) break;
        size_t len = (size_t)(m - p);
        char *nl = strchr(line, '\n');
        if (!nl) {
            CHECK_MSG(0, "%s: .out has fewer lines than .inp has cases", vocab);
            break;
        }
        *nl = 0;
        /* expected ids */
        int32_t want[4096];
        size_t nw = 0;
        for (char *q = line; *q;) {
            while (*q == ' ') q++;
            if (!*q) break;
            want[nw++] = (int32_t)strtol(q, &q, 10);
        }
        size_t n = 0;
        rc = gt_tokenize(tok, p, len, 0, 0, ids, 4096, &n, &err);
        int same = rc == 0 && n == nw && !memcmp(ids, want, n * sizeof *ids);
        if (!same) {
            fprintf(stderr, "%s case %d \"%.*s\":\n  want %s\n  got ", vocab, cases, (int)len, p,
                    line);
            for (size_t i = 0; i < n; i++) fprintf(stderr, " %d", ids[i]);
            fprintf(stderr, "\n");
        }
        CHECK(same);
        check_bounded(tok, vocab, cases, p, len, n);
        /* and back to the same text */
        gt_buf back = GT_BUF_INIT;
        CHECK_EQ_INT(gt_detokenize(tok, ids, n, 0, 0, &back, &err), 0);
        int round = back.len == len && (len == 0 || !memcmp(back.data, p, len));
        CHECK_MSG(round, "%s case %d: detokenized to \"%.*s\"", vocab, cases, (int)back.len,
                  back.data ? (char *)back.data : "");
        gt_buf_free(&back);
        cases++;
        line = nl + 1;
        p = m + sizeof sep - 1;
    }
done:
    gt_tokenizer_free(tok);
    gt_free(inp);
    gt_free(outp);
    return cases;
}

static void test_llama_spm_cases(void) { CHECK(run_cases("ggml-vocab-llama-spm.gguf") >= 30); }
static void test_gpt2_cases(void) { CHECK(run_cases("ggml-vocab-gpt-2.gguf") >= 30); }
/* The vocabularies of issue 13's architectures: Llama 3 (llama3 pre-tokenizer,
 * 128k BPE), Qwen2/Qwen3 (qwen2 pre-tokenizer), Phi-3 (SentencePiece). */
static void test_llama3_cases(void) { CHECK(run_cases("ggml-vocab-llama-bpe.gguf") >= 30); }
static void test_qwen2_cases(void) { CHECK(run_cases("ggml-vocab-qwen2.gguf") >= 30); }
static void test_phi3_cases(void) { CHECK(run_cases("ggml-vocab-phi-3.gguf") >= 30); }

/* Whether ids[0..n) are the JSON array want's integers; prints ours when
 * not. */
static int same_ids(const int32_t *ids, size_t n, const json_t *want) {
    int same = n == json_array_size(want);
    for (size_t k = 0; same && k < n; k++) same = ids[k] == (int32_t)json_integer_value(json_array_get(want, k));
    if (!same) {
        fprintf(stderr, "  ours:");
        for (size_t k = 0; k < n; k++) fprintf(stderr, " %d", ids[k]);
        fprintf(stderr, "\n");
    }
    return same;
}

/* The model fixtures' prompts give llama.cpp's ids (BOS included as it adds
 * it), with and without special tokens parsed. */
static void check_ref(const char *model) {
    char rel[256];
    snprintf(rel, sizeof rel, "models/%s.gguf", model);
    gt_tokenizer *tok = load(rel, NULL);
    snprintf(rel, sizeof rel, "models/%s.ref.json", model);
    json_error_t je;
    json_t *ref = json_load_file(gt_fixture(rel), 0, &je);
    CHECK_MSG(ref && json_is_array(ref), "%s: %s", rel, je.text);
    if (!tok || !ref) goto done;
    size_t i;
    json_t *item;
    json_array_foreach(ref, i, item) {
        const char *prompt = json_string_value(json_object_get(item, "prompt"));
        json_t *want = json_object_get(item, "tokens"), *want_sp = json_object_get(item, "tokens_special");
        CHECK(prompt && json_is_array(want) && json_is_array(want_sp));
        if (!prompt || !want || !want_sp) continue;
        int32_t ids[512];
        size_t n = 0;
        gt_err err = {0};
        /* specials parsed (control tokens' texts become their ids) */
        CHECK_EQ_INT(gt_tokenize(tok, prompt, strlen(prompt), 1, 1, ids, 512, &n, &err), 0);
        CHECK_MSG(same_ids(ids, n, want_sp), "%s: \"%s\" with specials tokenized differently (%zu tokens)", model,
                  prompt, n);
        CHECK_EQ_INT(gt_tokenize(tok, prompt, strlen(prompt), 1, 0, ids, 512, &n, &err), 0);
        CHECK_MSG(same_ids(ids, n, want), "%s: \"%s\" tokenized differently (%zu tokens)", model, prompt, n);
        CHECK_EQ_INT(gt_tokenizer_n_vocab(tok), json_integer_value(json_object_get(item, "n_vocab")));
        /* the tokens after BOS detokenize to the text exactly (llama.cpp keeps
         * the SentencePiece space when it strips a BOS itself) */
        size_t skip = n && gt_tokenizer_add_bos(tok) && ids[0] == gt_tokenizer_bos(tok);
        gt_buf back = GT_BUF_INIT;
        CHECK_EQ_INT(gt_detokenize(tok, ids + skip, n - skip, 0, 0, &back, &err), 0);
        CHECK_MSG(back.len == strlen(prompt) && !memcmp(back.data, prompt, back.len),
                  "%s: detokenized \"%.*s\"", model, (int)back.len, back.data ? (char *)back.data : "");
        gt_buf_free(&back);
    }
done:
    json_decref(ref);
    gt_tokenizer_free(tok);
}

static void test_model_prompts(void) {
    check_ref("tiny-llama-f16");
    check_ref("tiny-llama-q8_0");
    check_ref("tiny-qwen2-f16");
    check_ref("tiny-llama3-f16");   /* llama3 pre-tokenizer, <|eot_id|>... */
    check_ref("tiny-qwen3-f16");    /* qwen2 pre-tokenizer, <|im_start|>... */
    check_ref("tiny-gemma3-f16");   /* SentencePiece without the space prefix, byte fallback */
    check_ref("tiny-phi3-f16");     /* Phi-3's SentencePiece, <|end|>... */
}

static void test_specials_spm(void) {
    gt_tokenizer *tok = load("tokenizer/ggml-vocab-llama-spm.gguf", NULL);
    if (!tok) return;
    CHECK_EQ_INT(gt_tokenizer_bos(tok), 1);
    CHECK_EQ_INT(gt_tokenizer_eos(tok), 2);
    CHECK(gt_tokenizer_add_bos(tok) && !gt_tokenizer_add_eos(tok));
    CHECK(gt_tokenizer_is_eog(tok, 2) && !gt_tokenizer_is_eog(tok, 1));
    CHECK_STR(gt_tokenizer_model(tok), "llama");
    int32_t ids[64];
    size_t n = 0;
    gt_err err = {0};
    /* empty text: just BOS with add_special, nothing without */
    CHECK_EQ_INT(gt_tokenize(tok, "", 0, 1, 0, ids, 64, &n, &err), 0);
    CHECK(n == 1 && ids[0] == 1);
    CHECK_EQ_INT(gt_tokenize(tok, "", 0, 0, 0, ids, 64, &n, &err), 0);
    CHECK_EQ_U64(n, 0);
    /* "</s>" is text unless parse_special */
    const char *t = "Hello</s>";
    CHECK_EQ_INT(gt_tokenize(tok, t, strlen(t), 1, 1, ids, 64, &n, &err), 0);
    CHECK(n == 3 && ids[0] == 1 && ids[1] == 15043 && ids[2] == 2);
    CHECK_EQ_INT(gt_tokenize(tok, t, strlen(t), 1, 0, ids, 64, &n, &err), 0);
    CHECK(n > 3);
    /* pieces: a space-prefixed word, a byte token, control tokens */
    size_t len;
    const char *p = gt_token_to_piece(tok, 15043, 0, &len);
    CHECK(len == 6 && !memcmp(p, " Hello", 6));
    p = gt_token_to_piece(tok, 3 + 0x41, 0, &len); /* <0x41> */
    CHECK(len == 1 && p[0] == 'A');
    gt_token_to_piece(tok, 2, 0, &len);
    CHECK_EQ_U64(len, 0);
    p = gt_token_to_piece(tok, 2, 1, &len);
    CHECK(len == 4 && !memcmp(p, "</s>", 4));
    CHECK(gt_token_to_piece(tok, 32000, 0, &len) == NULL);
    CHECK(gt_token_to_piece(tok, -1, 0, &len) == NULL);
    /* detokenize with BOS/EOS kept or dropped */
    int32_t seq[] = {1, 15043, 3186, 2};
    gt_buf b = GT_BUF_INIT;
    CHECK_EQ_INT(gt_detokenize(tok, seq, 4, 1, 0, &b, &err), 0);
    CHECK(b.len == 12 && !memcmp(b.data, " Hello world", 12)); /* llama.cpp keeps it after BOS */
    gt_buf_reset(&b);
    CHECK_EQ_INT(gt_detokenize(tok, seq, 4, 0, 1, &b, &err), 0);
    CHECK(b.len == 19 && !memcmp(b.data, "<s> Hello world</s>", 19));
    int32_t bad[] = {15043, 99999};
    CHECK_EQ_INT(gt_detokenize(tok, bad, 2, 0, 0, &b, &err), GT_EINVAL);
    CHECK_CONTAINS(err.msg, "id 99999");
    gt_buf_free(&b);
    /* output capacity: the count needed comes back */
    CHECK_EQ_INT(gt_tokenize(tok, "Hello world", 11, 1, 0, ids, 2, &n, &err), GT_ELIMIT);
    CHECK_EQ_U64(n, 3);
    /* invalid UTF-8 falls back to byte tokens, never crashes */
    const char inv[] = "a\xff\xc3(\xe2\x82";
    CHECK_EQ_INT(gt_tokenize(tok, inv, sizeof inv - 1, 0, 0, ids, 64, &n, &err), 0);
    CHECK(n >= 4);
    CHECK_EQ_INT(gt_tokenizer_find(tok, "<s>", 3), 1);
    CHECK_EQ_INT(gt_token_attr(tok, 1), GT_TOKEN_CONTROL);
    gt_tokenizer_free(tok);
}

static void test_specials_bpe(void) {
    gt_tokenizer *tok = load("tokenizer/ggml-vocab-gpt-2.gguf", NULL);
    if (!tok) return;
    CHECK_STR(gt_tokenizer_pre(tok), "gpt-2");
    CHECK(!gt_tokenizer_add_bos(tok));
    CHECK(gt_tokenizer_is_eog(tok, 50256));
    int32_t ids[64];
    size_t n = 0;
    gt_err err = {0};
    const char *t = "Hi<|endoftext|>there";
    CHECK_EQ_INT(gt_tokenize(tok, t, strlen(t), 1, 1, ids, 64, &n, &err), 0);
    CHECK(n == 3 && ids[1] == 50256);
    CHECK_EQ_INT(gt_tokenize(tok, t, strlen(t), 1, 0, ids, 64, &n, &err), 0);
    CHECK(n > 3);
    size_t len;
    const char *p = gt_token_to_piece(tok, 995, 0, &len); /* "Ġworld" */
    CHECK(len == 6 && !memcmp(p, " world", 6));
    /* invalid UTF-8 becomes U+FFFD's bytes, as llama.cpp does */
    const char inv[] = "\xff";
    CHECK_EQ_INT(gt_tokenize(tok, inv, 1, 0, 0, ids, 64, &n, &err), 0);
    gt_buf b = GT_BUF_INIT;
    CHECK_EQ_INT(gt_detokenize(tok, ids, n, 0, 0, &b, &err), 0);
    CHECK(b.len == 3 && !memcmp(b.data, "\xef\xbf\xbd", 3));
    gt_buf_free(&b);
    /* over the text limit */
    char *big = gt_malloc(GT_TOKENIZER_MAX_TEXT_BYTES + 1);
    memset(big, 'a', GT_TOKENIZER_MAX_TEXT_BYTES + 1);
    CHECK_EQ_INT(gt_tokenize(tok, big, GT_TOKENIZER_MAX_TEXT_BYTES + 1, 0, 0, ids, 64, &n, &err),
                 GT_ELIMIT);
    CHECK_CONTAINS(err.msg, "at most");
    gt_free(big);
    gt_tokenizer_free(tok);
}

/* A hand-made vocabulary file with the given tokenizer keys. */
static int tiny_vocab(const char *model, const char *pre, int with_merges, gt_tokenizer **tok,
                      gt_err *err) {
    gt_gguf_writer *w = gt_gguf_writer_new();
    if (model) gt_gguf_writer_set_str(w, "tokenizer.ggml.model", model);
    if (pre) gt_gguf_writer_set_str(w, "tokenizer.ggml.pre", pre);
    const char *toks[] = {"a", "b", "ab", "<|im_end|>", "c"};
    gt_gguf_writer_set_arr_str(w, "tokenizer.ggml.tokens", toks, 5);
    if (with_merges) {
        const char *merges[] = {"a b", "bad", "a b"};
        gt_gguf_writer_set_arr_str(w, "tokenizer.ggml.merges", merges, 3);
    }
    uint8_t *buf;
    size_t len;
    int rc = gt_gguf_writer_to_mem(w, &buf, &len, err);
    gt_gguf_writer_free(w);
    if (rc) return rc;
    gt_gguf *g = NULL;
    rc = gt_gguf_parse(buf, len, &g, err);
    if (!rc) rc = gt_tokenizer_load(g, tok, err);
    gt_gguf_close(g); /* the tokenizer keeps its own copies */
    gt_free(buf);
    return rc;
}

/* Long texts made to defeat the bound from length (white space, invalid
 * and overlong UTF-8, which BPE's clean-up shrinks up to 4 to 1; control
 * tokens; a text repeated): in every vocabulary gt_tokenize_min_tokens stays
 * at or under the full count, and a budget far under it is refused with a
 * count over the budget and not over the full count. */
static void test_bounded_long(void) {
    static const char *const vocabs[] = {"ggml-vocab-llama-spm.gguf", "ggml-vocab-gpt-2.gguf",
                                         "ggml-vocab-llama-bpe.gguf", "ggml-vocab-qwen2.gguf",
                                         "ggml-vocab-phi-3.gguf"};
    static const char *const units[] = {"word ", " ", "\n\t ", "\xf0\x80\x80\x81", "\xff", "<|im_end|> ",
                                        "</s>  ", "<s>", "\xe4\xbd\xa0\xe5\xa5\xbd"};
    enum { TEXT_BYTES = 64 * 1024, BUDGET = 100 };
    char *text = gt_malloc(TEXT_BYTES);
    int32_t *ids = gt_malloc(TEXT_BYTES * 4 * sizeof *ids);
    CHECK(text && ids);
    for (size_t v = 0; text && ids && v < sizeof vocabs / sizeof vocabs[0]; v++) {
        char rel[128];
        snprintf(rel, sizeof rel, "tokenizer/%s", vocabs[v]);
        gt_tokenizer *tok = load(rel, NULL);
        for (size_t u = 0; tok && u < sizeof units / sizeof units[0]; u++) {
            size_t ul = strlen(units[u]), len = 0;
            while (len + ul <= TEXT_BYTES) memcpy(text + len, units[u], ul), len += ul;
            for (int special = 0; special < 2; special++) {
                size_t n = 0, got = 0;
                gt_err err = {0};
                CHECK_EQ_INT(gt_tokenize(tok, text, len, 1, special, ids, TEXT_BYTES * 4, &n, &err), 0);
                size_t least = gt_tokenize_min_tokens(tok, text, len);
                CHECK_MSG(least <= n, "%s, \"%s\" x %zu: %zu tokens, but its length says at least %zu", vocabs[v],
                          units[u], len / ul, n, least);
                if (n <= BUDGET) continue;
                gt_buf out = GT_BUF_INIT;
                CHECK_EQ_INT(gt_tokenize_max(tok, text, len, 1, special, BUDGET, &out, &got, &err), GT_ELIMIT);
                CHECK_MSG(got > BUDGET && got <= n && out.len == 0, "%s, \"%s\": %zu tokens, reported %zu over %d",
                          vocabs[v], units[u], n, got, BUDGET);
                gt_buf_free(&out);
            }
        }
        gt_tokenizer_free(tok);
    }
    gt_free(text);
    gt_free(ids);
}

static void test_malformed_vocab(void) {
    gt_tokenizer *tok = NULL;
    gt_err err = {0};
    CHECK_EQ_INT(tiny_vocab(NULL, NULL, 1, &tok, &err), GT_EINVAL);
    CHECK_CONTAINS(err.msg, "tokenizer.ggml.model is missing");
    CHECK_EQ_INT(tiny_vocab("bert", NULL, 1, &tok, &err), GT_EUNSUPPORTED);
    CHECK_CONTAINS(err.msg, "\"bert\" is not supported");
    CHECK_EQ_INT(tiny_vocab("gpt2", "tekken", 1, &tok, &err), GT_EUNSUPPORTED);
    CHECK_CONTAINS(err.msg, "pre-tokenizer \"tekken\"");
    CHECK_EQ_INT(tiny_vocab("gpt2", "qwen2", 0, &tok, &err), GT_EINVAL);
    CHECK_CONTAINS(err.msg, "tokenizer.ggml.merges");
    CHECK_EQ_INT(tiny_vocab("gpt2", "qwen2", 1, &tok, &err), 0);
    if (tok) {
        int32_t ids[16];
        size_t n;
        CHECK_EQ_INT(gt_tokenize(tok, "abc<|im_end|>", 13, 0, 1, ids, 16, &n, &err), 0);
        CHECK(n == 3 && ids[0] == 2 && ids[1] == 4 && ids[2] == 3);
        CHECK(gt_tokenizer_is_eog(tok, 3)); /* known by its text */
        CHECK_EQ_INT(gt_tokenizer_eot(tok), 3);
        gt_tokenizer_free(tok);
    }
    /* every allocation failing in turn: an error, never a crash or a leak */
    int ok = 0;
    for (long k = 0; k < 400 && !ok; k++) {
        tok = NULL;
        gt_alloc_fail_after(k);
        int rc = tiny_vocab("gpt2", "llama3", 1, &tok, &err);
        gt_alloc_fail_after(-1);
        if (!rc) {
            int32_t ids[16];
            size_t n;
            ok = gt_tokenize(tok, "ab c", 4, 1, 1, ids, 16, &n, &err) == 0;
            gt_tokenizer_free(tok);
        }
    }
    CHECK(ok);
}

int main(void) {
    RUN(test_llama_spm_cases);
    RUN(test_gpt2_cases);
    RUN(test_llama3_cases);
    RUN(test_qwen2_cases);
    RUN(test_phi3_cases);
    RUN(test_model_prompts);
    RUN(test_specials_spm);
    RUN(test_specials_bpe);
    RUN(test_malformed_vocab);
    RUN(test_bounded_long);
    return gt_test_finish();
}
