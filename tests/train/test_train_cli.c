/* test_train_cli: `gotong train` end to end -- it trains on a text file with
 * a real vocabulary's tokenizer, prints its progress, writes a GGUF that the
 * engine loads with that tokenizer, writes the same bytes with 1 and 3
 * threads, and refuses bad input with a message. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "../test.h"
#include "base/alloc.h"
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

int main(void) {
    gt_err err = {0};
    CHECK_EQ_INT(gt_mkdir_p(DIR, 0755, &err), 0);
    RUN(test_train_writes_a_model);
    RUN(test_train_refuses);
    return gt_test_finish();
}
