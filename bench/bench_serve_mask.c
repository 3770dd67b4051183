/* bench_serve_mask.c: the cost of structured output's token masks, alone.
 * Loads a vocabulary (any GGUF with a tokenizer: a model or a
 * .cache/fixtures/tokenizer/ggml-vocab-*.gguf), compiles the schema of
 * bench/serve_structured.sh, and walks random documents under it (seeded:
 * the same steps every run), timing at each step, by the thread's own CPU
 * clock (other processes sharing the machine change it far less than wall
 * time):
 *   - gt_gmask_apply (the trie and plain-string index, gmask.h), and
 *   - the token-by-token mask it replaced (each token's piece fed alone to
 *     a copy of the matcher, after a first-byte filter).
 * Both masks are compared on every step (a difference is an error). Prints
 * one JSON line: vocabulary size, steps, microseconds per mask each way
 * (mean, and over the steps inside strings and elsewhere) and the ratio.
 *
 * usage: bench_serve_mask VOCAB.gguf [STEPS] */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "infer/gguf.h"
#include "serve/serve_impl.h"

static uint64_t rng = 15;
static int rnd(int n) {
    rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
    return (int)((rng >> 33) % (uint64_t)n);
}

static double thread_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static const char *schema_text =
    "{\"type\":\"json_schema\",\"json_schema\":{\"name\":\"p\",\"schema\":{\"type\":\"object\","
    "\"required\":[\"name\",\"age\",\"tags\",\"note\"],\"properties\":{\"name\":{\"type\":\"string\",\"maxLength\":40},"
    "\"age\":{\"type\":\"integer\"},\"tags\":{\"type\":\"array\",\"items\":{\"type\":\"string\",\"maxLength\":12},"
    "\"maxItems\":6},\"note\":{\"anyOf\":[{\"type\":\"string\",\"maxLength\":60},{\"type\":\"null\"}]}}}}}";

/* The old mask: a first-byte filter, then every token's piece fed alone. */
static int old_mask(const gt_tokenizer *tok, int n_vocab, const gt_grammar *g, const gt_gmatch *m, gt_gmatch *tmp,
                    uint8_t *allow) {
    uint8_t first_ok[256];
    for (int c = 0; c < 256; c++) {
        char b = (char)c;
        gt_grammar_copy(tmp, m);
        first_ok[c] = gt_grammar_feed(g, tmp, &b, 1) > 0;
    }
    int n = 0;
    for (int32_t t = 0; t < n_vocab; t++) {
        size_t len = 0;
        const char *p = gt_token_to_piece(tok, t, 0, &len);
        allow[t] = 0;
        if (gt_tokenizer_is_eog(tok, t) || !p || !len || !first_ok[(unsigned char)p[0]]) continue;
        gt_grammar_copy(tmp, m);
        allow[t] = gt_grammar_feed(g, tmp, p, len) > 0;
        n += allow[t];
    }
    return n;
}

typedef struct tally {
    double fast_ns[2], old_ns[2]; /* [0] inside strings, [1] elsewhere */
    int steps[2];
} tally;

/* One random walk; returns -1 when the masks differ. */
static int walk(const gt_tokenizer *tok, int n_vocab, const gt_gvocab *v, gt_gmask *k, const gt_grammar *g,
                int max_steps, tally *ty) {
    float *logits = calloc((size_t)n_vocab, sizeof(float));
    uint8_t *allow = malloc((size_t)n_vocab);
    int32_t *ok = malloc((size_t)n_vocab * sizeof(int32_t));
    gt_gmatch *m = malloc(sizeof *m), *tmp = malloc(sizeof *tmp);
    int rc = 0;
    gt_grammar_start(g, m);
    for (int step = 0; step < max_steps && !gt_grammar_done(m) && rc == 0; step++) {
        int where = gt_grammar_string_room(g, m) < 0;
        memset(logits, 0, (size_t)n_vocab * sizeof(float));
        double t0 = thread_ns();
        int n_fast = gt_gmask_apply(v, k, g, m, logits);
        double t1 = thread_ns();
        int n_old = old_mask(tok, n_vocab, g, m, tmp, allow);
        double t2 = thread_ns();
        ty->fast_ns[where] += t1 - t0, ty->old_ns[where] += t2 - t1, ty->steps[where]++;
        int n_ok = 0, n_struct = 0;
        for (int32_t t = 0; t < n_vocab; t++) {
            if (allow[t] != (logits[t] == 0)) rc = -1;
            if (allow[t]) ok[n_ok++] = t;
        }
        if (rc || n_fast != n_old || !n_ok) {
            fprintf(stderr, "step %d: the masks differ (%d vs %d allowed)\n", step, n_fast, n_old);
            rc = -1;
            break;
        }
        for (int i = 0; i < n_ok; i++) {
            size_t len;
            const char *p = gt_token_to_piece(tok, ok[i], 0, &len);
            int plain = 1;
            for (size_t b = 0; b < len; b++) plain &= gt_grammar_plain((unsigned char)p[b]);
            if (!plain) ok[n_struct++] = ok[i];
        }
        int32_t t = ok[n_struct && rnd(3) == 0 ? rnd(n_struct) : rnd(n_ok)];
        size_t len;
        const char *p = gt_token_to_piece(tok, t, 0, &len);
        gt_grammar_feed(g, m, p, len);
    }
    free(logits), free(allow), free(ok), free(m), free(tmp);
    return rc;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: bench_serve_mask VOCAB.gguf [STEPS]\n");
        return 2;
    }
    int max_steps = argc > 2 ? atoi(argv[2]) : 400;
    gt_err err = {0};
    gt_gguf *gg = NULL;
    gt_tokenizer *tok = NULL;
    if (gt_gguf_open(argv[1], &gg, &err) || gt_tokenizer_load(gg, &tok, &err)) {
        fprintf(stderr, "bench_serve_mask: %s\n", err.msg);
        return 1;
    }
    int n_vocab = gt_tokenizer_n_vocab(tok);
    json_t *rf = json_loads(schema_text, 0, NULL);
    gt_grammar *g = NULL;
    gt_serve_error e;
    if (gt_grammar_compile(rf, &g, &e)) {
        fprintf(stderr, "bench_serve_mask: %s\n", e.message);
        return 1;
    }
    double t0 = thread_ns();
    gt_gvocab *v = NULL;
    gt_gmask *k = NULL;
    if (gt_gvocab_new(tok, n_vocab, &v, &err) || gt_gmask_new(v, &k, &err)) {
        fprintf(stderr, "bench_serve_mask: %s\n", err.msg);
        return 1;
    }
    double build_ms = (thread_ns() - t0) / 1e6;
    tally ty = {0};
    int rc = 0;
    while (rc == 0 && ty.steps[0] + ty.steps[1] < max_steps)
        rc = walk(tok, n_vocab, v, k, g, max_steps - ty.steps[0] - ty.steps[1], &ty);
    int n = ty.steps[0] + ty.steps[1];
    double fast = (ty.fast_ns[0] + ty.fast_ns[1]) / n / 1e3, old = (ty.old_ns[0] + ty.old_ns[1]) / n / 1e3;
    printf("{\"vocab\":%d,\"trie_nodes\":%d,\"index_ms\":%.1f,\"steps\":%d,\"string_steps\":%d,"
           "\"mask_us\":%.1f,\"mask_us_string\":%.1f,\"mask_us_other\":%.1f,"
           "\"old_mask_us\":%.1f,\"old_mask_us_string\":%.1f,\"old_mask_us_other\":%.1f,\"speedup\":%.1f,\"equal\":%s}\n",
           n_vocab, gt_gvocab_nodes(v), build_ms, n, ty.steps[0], fast, ty.fast_ns[0] / (ty.steps[0] ? ty.steps[0] : 1) / 1e3,
           ty.fast_ns[1] / (ty.steps[1] ? ty.steps[1] : 1) / 1e3, old,
           ty.old_ns[0] / (ty.steps[0] ? ty.steps[0] : 1) / 1e3, ty.old_ns[1] / (ty.steps[1] ? ty.steps[1] : 1) / 1e3,
           old / fast, rc ? "false" : "true");
    gt_gmask_free(k);
    gt_gvocab_free(v);
    gt_grammar_free(g);
    json_decref(rf);
    gt_tokenizer_free(tok);
    gt_gguf_close(gg);
    return rc ? 1 : 0;
}
