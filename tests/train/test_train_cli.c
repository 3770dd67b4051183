/* test_train_cli: `gotong train` end to end -- it trains on a text file with
 * a real vocabulary's tokenizer, prints its progress, writes a GGUF that the
 * engine loads with that tokenizer, writes the same bytes with 1 and 3
 * threads, and refuses bad input with a message. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <jansson.h>

#include "../test.h"
#include "base/alloc.h"
#include "base/buf.h"
#include "base/file.h"
#include "infer/model.h"
#include "infer/tokenizer.h"

#define DIR GT_BINARY_DIR "/test_train_cli.d"

/* Runs `gotong train ARGS` with stderr and stdout into DIR/log; returns the
 * exit status and leaves the log in *log (caller frees with gt_free). */
static int run_train(const char *args, char **log) {
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "%s train %s > %s/log 2>&1", GT_CLI, args, DIR);
    int st = system(cmd);
    size_t len;
    uint8_t *text = NULL;
    gt_err err = {0};
    if (gt_file_read(DIR "/log", 1 << 20, &text, &len, &err)) text = NULL;
    *log = (char *)text;
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void write_text(const char *path, int repeats) {
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    if (!f) return;
    for (int i = 0; i < repeats; i++)
        fprintf(f, "The verifier re-executes the work and compares the bytes; line %d.\n", i);
    fclose(f);
}

#define SMALL "--dim 32 --layers 1 --heads 2 --seq 8 --batch 2 --steps 3 --lr 1e-2 --seed 5 "

static void test_train_writes_a_model(void) {
    char args[2048], *log = NULL;
    const char *vocab = gt_fixture("tokenizer/ggml-vocab-llama-spm.gguf");
    write_text(DIR "/data.txt", 20);
    snprintf(args, sizeof args, "--data %s/data.txt --vocab %s " SMALL "--threads 1 -o %s/m1.gguf", DIR, vocab, DIR);
    CHECK_EQ_INT(run_train(args, &log), 0);
    CHECK_CONTAINS(log, "step 3/3");
    CHECK_CONTAINS(log, "tokens/s");
    CHECK_CONTAINS(log, "left");
    CHECK_CONTAINS(log, "wrote " DIR "/m1.gguf");
    gt_free(log);
    /* The engine loads it, with the vocabulary's tokenizer. */
    gt_model *m = NULL;
    gt_tokenizer *tok = NULL;
    gt_err err = {0};
    CHECK_MSG(gt_model_load(DIR "/m1.gguf", &m, &err) == 0, "%s", err.msg);
    if (m) {
        CHECK_EQ_INT(gt_model_hparams(m)->n_vocab, 32000);
        CHECK_EQ_INT(gt_model_hparams(m)->n_embd, 32);
        CHECK_MSG(gt_tokenizer_load(gt_model_gguf(m), &tok, &err) == 0, "%s", err.msg);
        CHECK_STR(gt_tokenizer_model(tok), "llama");
    }
    gt_tokenizer_free(tok);
    gt_model_free(m);
    /* Three threads: the same bytes. */
    snprintf(args, sizeof args, "--data %s/data.txt --vocab %s " SMALL "--threads 3 -o %s/m3.gguf", DIR, vocab, DIR);
    CHECK_EQ_INT(run_train(args, &log), 0);
    gt_free(log);
    uint8_t *a = NULL, *b = NULL;
    size_t la = 0, lb = 0;
    CHECK_EQ_INT(gt_file_read(DIR "/m1.gguf", 64 << 20, &a, &la, &err), 0);
    CHECK_EQ_INT(gt_file_read(DIR "/m3.gguf", 64 << 20, &b, &lb, &err), 0);
    CHECK(la == lb && la > 0 && a && b && !memcmp(a, b, la));
    gt_free(a), gt_free(b);
}

/* 4 steps straight, or 2 steps with a checkpoint and 2 more resumed from it
 * (on another thread count): the same model bytes. */
static void test_resume(void) {
    char args[2048], *log = NULL;
    const char *vocab = gt_fixture("tokenizer/ggml-vocab-llama-spm.gguf");
    snprintf(args, sizeof args, "--data %s/data.txt --vocab %s " SMALL "--steps 4 -o %s/a.gguf", DIR, vocab, DIR);
    CHECK_EQ_INT(run_train(args, &log), 0);
    gt_free(log);
    snprintf(args, sizeof args, "--data %s/data.txt --vocab %s " SMALL "--steps 4 --stop-after 2 --checkpoint %s/c.ckpt "
             "--threads 1 -o %s/b.gguf", DIR, vocab, DIR, DIR);
    CHECK_EQ_INT(run_train(args, &log), 0);
    CHECK_CONTAINS(log, "steps 1..2 of 4");
    gt_free(log);
    snprintf(args, sizeof args, "--data %s/data.txt --vocab %s --steps 4 --lr 1e-2 --resume %s/c.ckpt --threads 2 "
             "-o %s/c.gguf", DIR, vocab, DIR, DIR);
    CHECK_EQ_INT(run_train(args, &log), 0);
    CHECK_CONTAINS(log, "steps 3..4 of 4");
    gt_free(log);
    uint8_t *a = NULL, *c = NULL;
    size_t la = 0, lc = 0;
    gt_err err = {0};
    CHECK_EQ_INT(gt_file_read(DIR "/a.gguf", 64 << 20, &a, &la, &err), 0);
    CHECK_EQ_INT(gt_file_read(DIR "/c.gguf", 64 << 20, &c, &lc, &err), 0);
    CHECK(la == lc && la > 0 && a && c && !memcmp(a, c, la));
    gt_free(a), gt_free(c);
    /* A model file is not a checkpoint; a finished checkpoint is refused. */
    snprintf(args, sizeof args, "--data %s/data.txt --vocab %s --steps 4 --resume %s/a.gguf -o %s/x.gguf", DIR, vocab, DIR, DIR);
    CHECK_EQ_INT(run_train(args, &log), 1);
    CHECK_CONTAINS(log, "not a training checkpoint");
    gt_free(log);
    snprintf(args, sizeof args, "--data %s/data.txt --vocab %s --steps 2 --resume %s/c.ckpt -o %s/x.gguf", DIR, vocab, DIR, DIR);
    CHECK_EQ_INT(run_train(args, &log), 1);
    CHECK_CONTAINS(log, "is at step 2: expected --steps above it");
    gt_free(log);
}

static void test_train_refuses(void) {
    char args[2048], *log = NULL;
    const char *vocab = gt_fixture("tokenizer/ggml-vocab-llama-spm.gguf");
    CHECK_EQ_INT(run_train("--dim 32", &log), 2);
    CHECK_CONTAINS(log, "--data, --vocab and -o are required");
    gt_free(log);
    CHECK_EQ_INT(run_train("--data x --vocab y -o z --dim 33x", &log), 2);
    CHECK_CONTAINS(log, "--dim expects an integer");
    gt_free(log);
    CHECK_EQ_INT(run_train("--data x --vocab y -o z --dimm 32", &log), 2);
    CHECK_CONTAINS(log, "unknown option");
    gt_free(log);
    write_text(DIR "/short.txt", 1);
    snprintf(args, sizeof args, "--data %s/short.txt --vocab %s --seq 512 -o %s/x.gguf", DIR, vocab, DIR);
    CHECK_EQ_INT(run_train(args, &log), 1);
    CHECK_CONTAINS(log, "expected more than --seq 512");
    gt_free(log);
    snprintf(args, sizeof args, "--data %s/data.txt --vocab %s --dim 48 -o %s/x.gguf", DIR, vocab, DIR);
    CHECK_EQ_INT(run_train(args, &log), 1);
    CHECK_CONTAINS(log, "multiples of 32");
    gt_free(log);
    CHECK(!gt_file_exists(DIR "/x.gguf"));
}

/* llama.cpp (tests/ref/llama_ref.c, built by scripts/fixtures.sh) loads a
 * model `gotong train` memorised a sentence into; its prompt tokens equal
 * our tokenizer's and its 16 greedy tokens equal our engine's, which
 * continue the sentence. */
static void test_llama_cpp_agrees(void) {
    char args[2048], *log = NULL;
    const char *vocab = gt_fixture("tokenizer/ggml-vocab-llama-spm.gguf");
    FILE *f = fopen(DIR "/same.txt", "w");
    CHECK(f != NULL);
    if (!f) return;
    for (int i = 0; i < 30; i++) fprintf(f, "The verifier re-executes the work and compares the bytes of every answer.\n");
    fclose(f);
    snprintf(args, sizeof args, "--data %s/same.txt --vocab %s --dim 32 --layers 1 --heads 2 --seq 24 --batch 1 "
             "--steps 40 --lr 2e-2 --warmup 4 -o %s/mem.gguf", DIR, vocab, DIR);
    CHECK_EQ_INT(run_train(args, &log), 0);
    gt_free(log);
    f = fopen(DIR "/prompt.txt", "w");
    if (f) fputs("The verifier re-executes\n", f), fclose(f);
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "%s/.cache/libllama/llama_ref %s/mem.gguf %s/prompt.txt %s/ref.json > %s/ref.log 2>&1",
             GT_SOURCE_DIR, DIR, DIR, DIR, DIR);
    CHECK_EQ_INT(system(cmd), 0);
    json_error_t je;
    json_t *root = json_load_file(DIR "/ref.json", 0, &je), *e = json_array_get(root, 0);
    json_t *toks = json_object_get(e, "tokens"), *greedy = json_object_get(e, "greedy");
    CHECK(json_array_size(toks) > 0 && json_array_size(greedy) == 16);
    gt_model *m = NULL;
    gt_tokenizer *tok = NULL;
    gt_ctx *c = NULL;
    gt_err err = {0};
    gt_ctx_params cp = {.n_ctx = 64, .n_threads = 1};
    CHECK_MSG(gt_model_load(DIR "/mem.gguf", &m, &err) == 0, "%s", err.msg);
    if (!m || gt_tokenizer_load(gt_model_gguf(m), &tok, &err) || gt_ctx_new(m, &cp, &c, &err) ||
        json_array_size(toks) > 16 || json_array_size(greedy) != 16) {
        CHECK_MSG(0, "%s", err.msg);
        goto done;
    }
    int32_t ids[48];
    size_t n = 0;
    const char *prompt = "The verifier re-executes";
    CHECK_EQ_INT(gt_tokenize(tok, prompt, strlen(prompt), 1, 0, ids, 16, &n, &err), 0);
    CHECK_EQ_INT((int)n, (int)json_array_size(toks));
    for (size_t i = 0; i < n && i < json_array_size(toks); i++)
        CHECK_EQ_INT(ids[i], (int)json_integer_value(json_array_get(toks, i)));
    float *logits = gt_malloc(32000 * sizeof(float));
    CHECK_EQ_INT(gt_ctx_eval(c, ids, (int)n, 0, logits, GT_EVAL_LAST, &err), 0);
    for (int s = 0; s < 16; s++) {
        int best = 0;
        for (int v = 1; v < 32000; v++) best = logits[v] > logits[best] ? v : best;
        int theirs = (int)json_integer_value(json_object_get(json_array_get(greedy, (size_t)s), "token"));
        CHECK_MSG(best == theirs, "greedy step %d: gotong %d, llama.cpp %d", s, best, theirs);
        ids[n] = best;
        CHECK_EQ_INT(gt_ctx_eval(c, ids + n, 1, (int)n, logits, GT_EVAL_LAST, &err), 0);
        n++;
    }
    gt_buf text = {0};
    CHECK_EQ_INT(gt_detokenize(tok, ids, n, 1, 0, &text, &err), 0);
    CHECK_EQ_INT(gt_buf_append(&text, "", 1), 0);
    fprintf(stderr, "  greedy continuation: \"%s\"\n", (const char *)text.data);
    CHECK_CONTAINS((const char *)text.data, "The verifier re-executes the work and compares the bytes");
    gt_buf_free(&text);
    gt_free(logits);
done:
    json_decref(root);
    gt_ctx_free(c);
    gt_tokenizer_free(tok);
    gt_model_free(m);
}

int main(void) {
    gt_err err = {0};
    CHECK_EQ_INT(gt_mkdir_p(DIR, 0755, &err), 0);
    RUN(test_train_writes_a_model);
    RUN(test_resume);
    RUN(test_train_refuses);
    RUN(test_llama_cpp_agrees);
    return gt_test_finish();
}
