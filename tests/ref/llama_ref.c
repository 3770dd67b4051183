/* llama_ref.c: llama.cpp's answers for a model, as the engine's tests read
 * them (tests/infer/test_model_ref.c).
 *
 *   llama_ref MODEL.gguf PROMPTS.txt OUT.json
 *
 * For each line of PROMPTS.txt: the token ids llama.cpp makes (BOS added,
 * specials not parsed; and as tokens_special, with special and control
 * tokens' texts parsed into their ids), the top 8 [token, logit] pairs at every prompt
 * position, then 16 greedy steps, each with the top 8 before the step and the
 * token chosen. One thread, a context of 512, each prompt in a fresh context:
 * the settings the tests compare under.
 *
 * Built by scripts/fixtures.sh against the prebuilt libllama that
 * scripts/setup.sh takes from npm (@node-llama-cpp/linux-x64), never by the
 * project's own build: gotong does not link llama.cpp. Ties in the top 8 go
 * to the lower token id, so the file is a function of llama.cpp's logits. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ggml-backend.h"
#include "llama.h"

#define MAX_TOKENS 128   /* prompt tokens + greedy steps, per prompt */
#define GREEDY_STEPS 16
#define TOP_K 8
#define N_CTX 512

/* Index of the TOP_K largest logits, largest first (ties: lower id first). */
static void top_k(const float *logits, int n_vocab, int *out) {
    for (int k = 0; k < TOP_K; k++) out[k] = -1;
    for (int t = 0; t < n_vocab; t++) {
        int pos = TOP_K;
        while (pos > 0 && (out[pos - 1] < 0 || logits[t] > logits[out[pos - 1]])) pos--;
        if (pos == TOP_K) continue;
        memmove(out + pos + 1, out + pos, (size_t)(TOP_K - 1 - pos) * sizeof *out);
        out[pos] = t;
    }
}

/* Writes [[tok, logit], ...] for the top TOP_K of one row of logits. */
static void write_top(FILE *f, const float *logits, int n_vocab) {
    int top[TOP_K];
    top_k(logits, n_vocab, top);
    fputc('[', f);
    for (int k = 0; k < TOP_K; k++) fprintf(f, "%s[%d,%.6f]", k ? "," : "", top[k], logits[top[k]]);
    fputc(']', f);
}

/* Writes s as a JSON string (the prompts are ASCII or UTF-8 text). */
static void write_str(FILE *f, const char *s) {
    fputc('"', f);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') fprintf(f, "\\%c", c);
        else if (c < 0x20) fprintf(f, "\\u%04x", c);
        else fputc(c, f);
    }
    fputc('"', f);
}

/* Evaluates one prompt in a fresh context and writes its JSON object. */
static int run_prompt(struct llama_model *model, const char *prompt, FILE *out) {
    const struct llama_vocab *vocab = llama_model_get_vocab(model);
    int n_vocab = llama_vocab_n_tokens(vocab);
    llama_token toks[MAX_TOKENS];
    int n = llama_tokenize(vocab, prompt, (int32_t)strlen(prompt), toks, MAX_TOKENS - GREEDY_STEPS, true, false);
    if (n <= 0) {
        fprintf(stderr, "llama_ref: cannot tokenize \"%s\" in %d tokens\n", prompt, MAX_TOKENS - GREEDY_STEPS);
        return -1;
    }
    struct llama_context_params cp = llama_context_default_params();
    cp.n_ctx = N_CTX;
    cp.n_batch = N_CTX;
    cp.n_ubatch = N_CTX;
    cp.n_threads = 1;
    cp.n_threads_batch = 1;
    struct llama_context *ctx = llama_init_from_model(model, cp);
    if (!ctx) {
        fprintf(stderr, "llama_ref: cannot make a context\n");
        return -1;
    }
    struct llama_batch b = llama_batch_init(N_CTX, 0, 1);
    for (int i = 0; i < n; i++) {
        b.token[i] = toks[i];
        b.pos[i] = i;
        b.n_seq_id[i] = 1;
        b.seq_id[i][0] = 0;
        b.logits[i] = 1;
    }
    b.n_tokens = n;
    int rc = llama_decode(ctx, b);
    if (rc) fprintf(stderr, "llama_ref: llama_decode of the prompt failed (%d)\n", rc);

    fputs("{\"prompt\":", out);
    write_str(out, prompt);
    fprintf(out, ",\"n_vocab\":%d,\"tokens\":[", n_vocab);
    for (int i = 0; i < n; i++) fprintf(out, "%s%d", i ? "," : "", toks[i]);
    llama_token special[MAX_TOKENS];
    int ns = llama_tokenize(vocab, prompt, (int32_t)strlen(prompt), special, MAX_TOKENS, true, true);
    fputs("],\"tokens_special\":[", out);
    for (int i = 0; i < ns; i++) fprintf(out, "%s%d", i ? "," : "", special[i]);
    fputs("],\"prompt_top8\":[", out);
    for (int i = 0; i < n && !rc; i++) {
        if (i) fputc(',', out);
        write_top(out, llama_get_logits_ith(ctx, i), n_vocab);
    }
    fputs("],\"greedy\":[", out);
    const float *logits = rc ? NULL : llama_get_logits_ith(ctx, n - 1);
    for (int s = 0; s < GREEDY_STEPS && !rc; s++) {
        int top[TOP_K];
        top_k(logits, n_vocab, top);
        fprintf(out, "%s{\"token\":%d,\"top8\":", s ? "," : "", top[0]);
        write_top(out, logits, n_vocab);
        fputc('}', out);
        if (s == GREEDY_STEPS - 1) break;
        b.token[0] = top[0];
        b.pos[0] = n + s;
        b.n_seq_id[0] = 1;
        b.seq_id[0][0] = 0;
        b.logits[0] = 1;
        b.n_tokens = 1;
        if ((rc = llama_decode(ctx, b))) fprintf(stderr, "llama_ref: llama_decode of step %d failed (%d)\n", s, rc);
        else logits = llama_get_logits_ith(ctx, 0);
    }
    fputs("]}", out);
    llama_batch_free(b);
    llama_free(ctx);
    return rc ? -1 : 0;
}

/* Quiet unless llama.cpp reports an error. */
static void log_errors(enum ggml_log_level level, const char *text, void *user) {
    (void)user;
    if (level == GGML_LOG_LEVEL_ERROR) fputs(text, stderr);
}

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: llama_ref MODEL.gguf PROMPTS.txt OUT.json\n");
        return 2;
    }
    llama_log_set(log_errors, NULL);
    ggml_backend_load_all_from_path(LLAMA_LIB_DIR);   /* the CPU backend variants beside libllama */
    llama_backend_init();
    struct llama_model_params mp = llama_model_default_params();
    mp.n_gpu_layers = 0;
    struct llama_model *model = llama_model_load_from_file(argv[1], mp);
    if (!model) {
        fprintf(stderr, "llama_ref: llama.cpp cannot load %s\n", argv[1]);
        return 1;
    }
    FILE *in = fopen(argv[2], "r"), *out = fopen(argv[3], "w");
    if (!in || !out) {
        fprintf(stderr, "llama_ref: cannot open %s\n", !in ? argv[2] : argv[3]);
        return 1;
    }
    char line[4096];
    int rc = 0, first = 1;
    fputs("[\n", out);
    while (!rc && fgets(line, sizeof line, in)) {
        line[strcspn(line, "\n")] = 0;
        if (!line[0]) continue;
        if (!first) fputs(",\n", out);
        first = 0;
        rc = run_prompt(model, line, out);
    }
    fputs("\n]\n", out);
    fclose(in);
    if (fclose(out)) rc = -1;
    llama_model_free(model);
    llama_backend_free();
    return rc ? 1 : 0;
}
