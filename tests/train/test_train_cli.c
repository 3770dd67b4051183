/* test_train_cli: `gotong train` end to end -- it trains on a text file with
 * a real vocabulary's tokenizer, prints its progress, writes a GGUF that the
 * engine loads with that tokenizer, writes the same bytes with 1 and 3
 * threads, and refuses bad input with a message. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "../test.h"
#include "base/alloc.h"
#include "base/buf.h"
#include "base/file.h"
#include "infer/gguf.h"
#include "infer/model.h"
#include "infer/tokenizer.h"
#include "train/dataset.h"
#include "train/trainer.h"

#define DIR GT_BINARY_DIR "/test_train_cli.d"

/* Runs `gotong ARGS` with stderr and stdout into DIR/log; returns the
 * exit status and leaves the log in *log (caller frees with gt_free). */
static int run_gotong(const char *args, char **log) {
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "%s %s > %s/log 2>&1", GT_CLI, args, DIR);
    int st = system(cmd);
    size_t len;
    uint8_t *text = NULL;
    gt_err err = {0};
    if (gt_file_read(DIR "/log", 1 << 20, &text, &len, &err)) text = NULL;
    *log = (char *)text;
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static int run_train(const char *args, char **log) {
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "train %s", args);
    return run_gotong(cmd, log);
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
    CHECK_CONTAINS(log, "--resume " DIR "/a.gguf: not a training checkpoint"); /* the message names the file */
    gt_free(log);
    /* A checkpoint is no vocabulary: the message names the option and file. */
    snprintf(args, sizeof args, "--data %s/data.txt --vocab %s/c.ckpt -o %s/x.gguf", DIR, DIR, DIR);
    CHECK_EQ_INT(run_train(args, &log), 1);
    CHECK_CONTAINS(log, "--vocab " DIR "/c.ckpt: no tokenizer");
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
    CHECK_CONTAINS(log, "one of --data and --dataset, one of --vocab and --from, and -o are required");
    gt_free(log);
    CHECK_EQ_INT(run_train("--data x --vocab y -o z --dim 33x", &log), 2);
    CHECK_CONTAINS(log, "--dim: expected an integer");
    gt_free(log);
    CHECK_EQ_INT(run_train("--data x --vocab y -o z --steps 10 --warmup 11", &log), 2); /* trained silently */
    CHECK_CONTAINS(log, "--warmup 11 is longer than --steps 10");
    gt_free(log);
    /* Named by the options (before the fix: "kv heads 99: expected 1..4", "heads 4: expected a multiple of kv
     * heads 3", the model's field, after the data was read and tokenized). */
    CHECK_EQ_INT(run_train("--data x --vocab y -o z --heads 4 --kv-heads 99", &log), 2);
    CHECK_CONTAINS(log, "--kv-heads 99: expected a divisor of --heads 4");
    gt_free(log);
    CHECK_EQ_INT(run_train("--data x --vocab y -o z --heads 4 --kv-heads 3", &log), 2);
    CHECK_CONTAINS(log, "--kv-heads 3: expected a divisor of --heads 4");
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

/* A text that is not UTF-8 (or holds NUL) is refused by train --data and
 * tokenizer train with the byte and line it fails at, and nothing is
 * written (train once failed with "the text is 27 tokens; room for 21",
 * tokenizer train after leaving a vocabulary at -o). */
static void test_refuses_non_utf8(void) {
    char args[2048], *log = NULL;
    remove(DIR "/latin1.gguf"); /* an older build's leftover */
    FILE *f = fopen(DIR "/latin1.txt", "w");
    CHECK(f != NULL);
    if (!f) return;
    for (int i = 0; i < 40; i++) fprintf(f, "line %d\ncaf\xe9 na\xefve \xff\xfe text\n", i);
    fclose(f);
    const char *gpt2 = gt_fixture("tokenizer/ggml-vocab-gpt-2.gguf");
    snprintf(args, sizeof args, "--data %s/latin1.txt --vocab %s " SMALL "-o %s/latin1.gguf", DIR, gpt2, DIR);
    CHECK_EQ_INT(run_train(args, &log), 1);
    CHECK_CONTAINS(log, "latin1.txt: byte 0xe9 at offset 10 (line 2) is not UTF-8: expected UTF-8 text");
    gt_free(log);
    snprintf(args, sizeof args, "tokenizer train --corpus %s/latin1.txt --vocab-size 300 -o %s/latin1.gguf", DIR, DIR);
    CHECK_EQ_INT(run_gotong(args, &log), 1);
    CHECK_CONTAINS(log, "is not UTF-8: expected UTF-8 text");
    gt_free(log);
    CHECK(!gt_file_exists(DIR "/latin1.gguf"));
    snprintf(args, sizeof args, "tokenizer train --corpus %s -o %s/latin1.gguf", GT_CLI, DIR);
    CHECK_EQ_INT(run_gotong(args, &log), 1);
    CHECK_CONTAINS(log, "holds a NUL byte at offset");
    gt_free(log);
    CHECK(!gt_file_exists(DIR "/latin1.gguf"));
}

/* gt_train_text_tokenize takes a text with more tokens than bytes: a
 * byte-level BPE reads each undecodable byte as U+FFFD, three tokens when
 * no merge joins them (the room of a token a byte failed with GT_ELIMIT). */
static void test_text_tokenize_room(void) {
    gt_gguf *g = NULL;
    gt_tokenizer *tok = NULL;
    gt_err err = {0};
    char *log = NULL;
    write_text(DIR "/ascii.txt", 2);
    CHECK_EQ_INT(run_gotong("tokenizer train --corpus " DIR "/ascii.txt --vocab-size 257 -o " DIR "/bytes.gguf",
                            &log), 0);
    gt_free(log);
    CHECK_MSG(gt_gguf_open(DIR "/bytes.gguf", &g, &err) == 0, "%s", err.msg);
    if (g) CHECK_MSG(gt_tokenizer_load(g, &tok, &err) == 0, "%s", err.msg);
    if (!tok) return gt_gguf_close(g);
    uint8_t text[64];
    memset(text, 0xff, sizeof text); /* 64 bytes, each U+FFFD */
    int32_t *ids = NULL;
    size_t n = 0;
    CHECK_MSG(gt_train_text_tokenize(text, sizeof text, tok, "ff.txt", &ids, &n, &err) == 0, "%s", err.msg);
    CHECK(n > sizeof text + 16);
    gt_free(ids);
    gt_tokenizer_free(tok);
    gt_gguf_close(g);
}

/* Starts `gotong train ARGS` with its output into DIR/log; its pid. */
static pid_t start_train(const char *args) {
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "exec %s train %s > %s/log 2>&1", GT_CLI, args, DIR);
    pid_t pid = fork();
    if (pid == 0) {
        execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
        _exit(127);
    }
    return pid;
}

/* Waits up to secs for pid; SIGKILL after (a run that ignored SIGINT).
 * Its wait status, or -1. */
static int wait_for(pid_t pid, int secs) {
    int st = 0;
    for (int i = 0; i < secs * 10; i++) {
        if (waitpid(pid, &st, WNOHANG) == pid) return st;
        nanosleep(&(struct timespec){0, 100000000}, NULL);
    }
    kill(pid, SIGKILL);
    waitpid(pid, &st, 0);
    return -1;
}

/* A SIGINT during training ends it after the step under way with exit 130
 * and a message: the checkpoint is written at that step (a resume goes on
 * from it), -o is not written. It used to kill the run where it stood.
 * On the way, a pipe gets a progress line within 5 s, not only every 5%. */
static void test_interrupt(void) {
    const char *vocab = gt_fixture("tokenizer/ggml-vocab-llama-spm.gguf");
    char args[2048], *log = NULL;
    remove(DIR "/int.ckpt"), remove(DIR "/int.gguf");
    write_text(DIR "/int.txt", 20);
    snprintf(args, sizeof args, "--data %s/int.txt --vocab %s --dim 32 --layers 1 --heads 2 --seq 8 --batch 2 "
             "--steps 10000000 --checkpoint-every 10000000 --checkpoint %s/int.ckpt -o %s/int.gguf", DIR, vocab, DIR,
             DIR);
    pid_t pid = start_train(args);
    CHECK(pid > 0);
    size_t len = 0;
    gt_err err = {0};
    for (int i = 0; i < 600 && !(log && strstr(log, "training ")); i++) { /* until the steps begin */
        gt_free(log), log = NULL;
        nanosleep(&(struct timespec){0, 100000000}, NULL);
        if (gt_file_read(DIR "/log", 1 << 20, (uint8_t **)&log, &len, &err)) log = NULL;
    }
    gt_free(log), log = NULL;
    nanosleep(&(struct timespec){6, 0}, NULL); /* past the 5 s a pipe waits for a progress line */
    kill(pid, SIGINT);
    int st = wait_for(pid, 60);
    CHECK_MSG(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 130, "wait status %d", st);
    CHECK_EQ_INT(gt_file_read(DIR "/log", 1 << 20, (uint8_t **)&log, &len, &err), 0);
    CHECK_CONTAINS(log, "interrupted after step ");
    CHECK_CONTAINS(log, "/10000000  loss "); /* a progress line long before 5% of the steps */
    CHECK_CONTAINS(log, "(go on with --resume " DIR "/int.ckpt); " DIR "/int.gguf not written");
    gt_free(log);
    CHECK(!gt_file_exists(DIR "/int.gguf"));
    gt_trainer *t = NULL;
    CHECK_MSG(gt_trainer_load_checkpoint(DIR "/int.ckpt", 1, &t, &err) == 0, "%s", err.msg);
    CHECK(t && gt_trainer_step_count(t) >= 1);
    gt_trainer_free(t);
}

/* -o and --checkpoint are checked before training: an output that is an
 * input under another spelling is refused and the input kept (train and
 * tokenizer train once wrote over their text), and one in a missing
 * directory is refused at once, not after the last step. */
static void test_train_refuses_paths(void) {
    char args[2048], *log = NULL;
    const char *vocab = gt_fixture("tokenizer/ggml-vocab-llama-spm.gguf");
    write_text(DIR "/keep.txt", 20);
    snprintf(args, sizeof args, "--data %s/keep.txt --vocab %s " SMALL "-o %s/./keep.txt", DIR, vocab, DIR);
    CHECK_EQ_INT(run_train(args, &log), 2);
    CHECK_CONTAINS(log, "is the same file as --data");
    gt_free(log);
    snprintf(args, sizeof args, "tokenizer train --corpus %s/keep.txt -o %s/./keep.txt", DIR, DIR);
    CHECK_EQ_INT(run_gotong(args, &log), 2);
    CHECK_CONTAINS(log, "is the same file as --corpus");
    gt_free(log);
    uint8_t *text = NULL;
    size_t len = 0;
    gt_err err = {0};
    CHECK_EQ_INT(gt_file_read(DIR "/keep.txt", 1 << 20, &text, &len, &err), 0);
    CHECK(text && len > 4 && !memcmp(text, "The ", 4)); /* the text, not a GGUF */
    gt_free(text);
    snprintf(args, sizeof args, "--data %s/keep.txt --vocab %s " SMALL "-o %s/nodir/m.gguf", DIR, vocab, DIR);
    CHECK_EQ_INT(run_train(args, &log), 2);
    CHECK_CONTAINS(log, "nodir does not exist: expected a file in an existing directory");
    CHECK(!strstr(log, "step 1/")); /* refused before training */
    gt_free(log);
    snprintf(args, sizeof args, "--data %s/keep.txt --vocab %s " SMALL "-o %s/never.gguf --checkpoint %s/never.gguf",
             DIR, vocab, DIR, DIR);
    CHECK_EQ_INT(run_train(args, &log), 2);
    CHECK_CONTAINS(log, "--checkpoint and -o are both");
    gt_free(log);
}

/* llama.cpp (tests/ref/llama_ref.c, built by scripts/fixtures.sh) loads
 * model; its tokens of prompt equal our tokenizer's and its 16 greedy tokens
 * equal our engine's, whose text (prompt included) holds expect. */
static void check_llama_cpp_agrees(const char *model, const char *prompt, const char *expect) {
    FILE *f = fopen(DIR "/prompt.txt", "w");
    if (f) fprintf(f, "%s\n", prompt), fclose(f);
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "%s/.cache/libllama/llama_ref %s %s/prompt.txt %s/ref.json > %s/ref.log 2>&1",
             GT_SOURCE_DIR, model, DIR, DIR, DIR);
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
    CHECK_MSG(gt_model_load(model, &m, &err) == 0, "%s", err.msg);
    if (!m || gt_tokenizer_load(gt_model_gguf(m), &tok, &err) || gt_ctx_new(m, &cp, &c, &err) ||
        json_array_size(toks) > 16 || json_array_size(greedy) != 16) {
        CHECK_MSG(0, "%s", err.msg);
        goto done;
    }
    int32_t ids[48];
    size_t n = 0;
    int n_vocab = gt_model_hparams(m)->n_vocab;
    CHECK_EQ_INT(gt_tokenize(tok, prompt, strlen(prompt), 1, 0, ids, 16, &n, &err), 0);
    CHECK_EQ_INT((int)n, (int)json_array_size(toks));
    for (size_t i = 0; i < n && i < json_array_size(toks); i++)
        CHECK_EQ_INT(ids[i], (int)json_integer_value(json_array_get(toks, i)));
    float *logits = gt_malloc((size_t)n_vocab * sizeof(float));
    CHECK_EQ_INT(gt_ctx_eval(c, ids, (int)n, 0, logits, GT_EVAL_LAST, &err), 0);
    for (int s = 0; s < 16; s++) {
        int best = 0;
        for (int v = 1; v < n_vocab; v++) best = logits[v] > logits[best] ? v : best;
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
    CHECK_CONTAINS((const char *)text.data, expect);
    gt_buf_free(&text);
    gt_free(logits);
done:
    json_decref(root);
    gt_ctx_free(c);
    gt_tokenizer_free(tok);
    gt_model_free(m);
}

static void write_same(const char *path) {
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    if (!f) return;
    for (int i = 0; i < 30; i++) fprintf(f, "The verifier re-executes the work and compares the bytes of every answer.\n");
    fclose(f);
}

/* A model `gotong train` memorised a sentence into: llama.cpp agrees. */
static void test_llama_cpp_agrees(void) {
    char args[2048], *log = NULL;
    const char *vocab = gt_fixture("tokenizer/ggml-vocab-llama-spm.gguf");
    write_same(DIR "/same.txt");
    snprintf(args, sizeof args, "--data %s/same.txt --vocab %s --dim 32 --layers 1 --heads 2 --seq 24 --batch 1 "
             "--steps 40 --lr 2e-2 --warmup 4 -o %s/mem.gguf", DIR, vocab, DIR);
    CHECK_EQ_INT(run_train(args, &log), 0);
    gt_free(log);
    check_llama_cpp_agrees(DIR "/mem.gguf", "The verifier re-executes",
                           "The verifier re-executes the work and compares the bytes");
}

/* The first and last step's loss of a train log ("loss A -> B"). */
static void read_losses(const char *log, double *first, double *last) {
    const char *p = log ? strstr(log, ", loss ") : NULL;
    *first = *last = -1;
    CHECK(p && sscanf(p, ", loss %lf -> %lf", first, last) == 2);
}

/* A string key of a GGUF file, into out (empty when absent). */
static void gguf_str(const char *path, const char *key, char *out, size_t cap) {
    gt_gguf *g = NULL;
    gt_gguf_str v = {0};
    gt_err err = {0};
    out[0] = 0;
    CHECK_MSG(gt_gguf_open(path, &g, &err) == 0, "%s", err.msg);
    if (g && !gt_gguf_get_str(g, key, &v, &err)) snprintf(out, cap, "%.*s", (int)v.len, v.ptr);
    gt_gguf_close(g);
}

/* `gotong train --from` fine-tunes a model another tool wrote (f16, its
 * output tied to the embedding): the loss falls, the file keeps the base's
 * keys, and llama.cpp's greedy tokens on it equal gotong's. */
static void test_finetune(void) {
    char args[2048], *log = NULL, a[128], b[128];
    const char *vocab = gt_fixture("tokenizer/ggml-vocab-llama-spm.gguf");
    double first, last;
    write_same(DIR "/same.txt");
    snprintf(args, sizeof args, "model random --like %s --arch llama --dim 32 --layers 1 --heads 2 --kv-heads 1 "
             "--ff 64 --type f16 --tied --seed 3 --std 0.05 -o %s/base.gguf", vocab, DIR);
    CHECK_EQ_INT(run_gotong(args, &log), 0);
    gt_free(log);
    snprintf(args, sizeof args, "--from %s/base.gguf --data %s/same.txt --seq 24 --batch 1 --steps 40 --lr 2e-2 "
             "--warmup 4 -o %s/ft.gguf", DIR, DIR, DIR);
    CHECK_EQ_INT(run_train(args, &log), 0);
    CHECK_CONTAINS(log, "fine-tuning " DIR "/base.gguf: dim 32, 1 layers, 2/1 heads, ff 64, vocabulary 32000 "
                        "(output untied from the embedding)");
    read_losses(log, &first, &last);
    CHECK_MSG(first > 5 && last < first / 4, "loss %g -> %g", first, last);
    gt_free(log);
    gguf_str(DIR "/base.gguf", "general.name", a, sizeof a);
    gguf_str(DIR "/ft.gguf", "general.name", b, sizeof b);
    CHECK(a[0] != 0);
    CHECK_STR(b, a);
    gguf_str(DIR "/ft.gguf", "tokenizer.ggml.model", b, sizeof b);
    CHECK_STR(b, "llama");
    check_llama_cpp_agrees(DIR "/ft.gguf", "The verifier re-executes",
                           "The verifier re-executes the work and compares the bytes");
}

/* The u32 key of the GGUF at path, or 0. */
static uint32_t gguf_u32(const char *path, const char *key) {
    gt_gguf *g = NULL;
    gt_err err = {0};
    uint32_t v = 0;
    CHECK_MSG(gt_gguf_open(path, &g, &err) == 0, "%s", err.msg);
    if (g && gt_gguf_get_u32(g, key, &v, &err)) v = 0;
    gt_gguf_close(g);
    return v;
}

/* A fine-tune keeps its base's context length, unless it trained on longer
 * windows: a base of 16 positions tuned on 24 said 16 (engines cut there). */
static void test_finetune_context(void) {
    char args[2048], *log = NULL;
    const char *vocab = gt_fixture("tokenizer/ggml-vocab-llama-spm.gguf");
    snprintf(args, sizeof args, "model random --like %s --arch llama --dim 32 --layers 1 --heads 2 --ff 64 --type f32 "
             "--ctx 16 -o %s/ctx16.gguf", vocab, DIR);
    CHECK_EQ_INT(run_gotong(args, &log), 0);
    gt_free(log);
    snprintf(args, sizeof args, "--from %s/ctx16.gguf --data %s/same.txt --seq 24 --batch 1 --steps 2 -o %s/ctx24.gguf",
             DIR, DIR, DIR);
    CHECK_EQ_INT(run_train(args, &log), 0);
    gt_free(log);
    CHECK_EQ_INT((int)gguf_u32(DIR "/ctx24.gguf", "llama.context_length"), 24);
    snprintf(args, sizeof args, "--from %s/ctx24.gguf --data %s/same.txt --seq 8 --batch 1 --steps 2 -o %s/ctx8.gguf",
             DIR, DIR, DIR);
    CHECK_EQ_INT(run_train(args, &log), 0);
    gt_free(log);
    CHECK_EQ_INT((int)gguf_u32(DIR "/ctx8.gguf", "llama.context_length"), 24); /* the base's, longer */
}

/* A copy of the GGUF at from with one string key set (tensors and other
 * keys as they are) at to. */
static void gguf_with_key(const char *from, const char *to, const char *key, const char *value) {
    gt_gguf *g = NULL;
    gt_err err = {0};
    CHECK_MSG(gt_gguf_open(from, &g, &err) == 0, "%s", err.msg);
    if (!g) return;
    gt_gguf_writer *w = gt_gguf_writer_new();
    for (uint64_t i = 0; i < g->n_kv; i++) gt_gguf_writer_copy_kv(w, &g->kv[i]);
    gt_gguf_writer_set_str(w, key, value);
    for (uint64_t i = 0; i < g->n_tensors; i++) {
        const gt_gguf_tensor *t = &g->tensors[i];
        char name[256];
        snprintf(name, sizeof name, "%.*s", (int)t->name.len, t->name.ptr);
        gt_gguf_writer_add_tensor(w, name, t->n_dims, t->ne, t->type, t->data, (size_t)t->nbytes);
    }
    CHECK_MSG(gt_gguf_writer_write(w, to, &err) == 0, "%s", err.msg);
    gt_gguf_writer_free(w);
    gt_gguf_close(g);
}

/* --from takes quantized weights (q8_0 here) and refuses what it cannot
 * train, saying why. */
static void test_finetune_refuses(void) {
    char args[2048], *log = NULL;
    const char *vocab = gt_fixture("tokenizer/ggml-vocab-llama-spm.gguf");
    const char *gpt2 = gt_fixture("tokenizer/ggml-vocab-gpt-2.gguf");
    snprintf(args, sizeof args, "model random --like %s --arch llama --dim 32 --layers 1 --heads 2 --kv-heads 1 "
             "--ff 64 --type q8_0 --seed 4 -o %s/q8.gguf", vocab, DIR);
    CHECK_EQ_INT(run_gotong(args, &log), 0);
    gt_free(log);
    snprintf(args, sizeof args, "--from %s/q8.gguf --data %s/same.txt --seq 8 --batch 1 --steps 1 -o %s/q8ft.gguf",
             DIR, DIR, DIR);
    CHECK_EQ_INT(run_train(args, &log), 0);
    CHECK_CONTAINS(log, "fine-tuning");
    gt_free(log);
    snprintf(args, sizeof args, "--from %s/q8.gguf --data %s/same.txt --dim 64 -o %s/x.gguf", DIR, DIR, DIR);
    CHECK_EQ_INT(run_train(args, &log), 2);
    CHECK_CONTAINS(log, "--from's model has its shapes");
    gt_free(log);
    snprintf(args, sizeof args, "--from %s/q8.gguf --vocab %s --data %s/same.txt -o %s/x.gguf", DIR, vocab, DIR, DIR);
    CHECK_EQ_INT(run_train(args, &log), 2);
    CHECK_CONTAINS(log, "one of --vocab and --from");
    gt_free(log);
    snprintf(args, sizeof args, "model random --like %s --arch qwen2 --dim 32 --layers 1 --heads 2 --kv-heads 1 "
             "--ff 64 --type f16 --seed 4 -o %s/qwen.gguf", gpt2, DIR);
    CHECK_EQ_INT(run_gotong(args, &log), 0);
    gt_free(log);
    snprintf(args, sizeof args, "--from %s/qwen.gguf --data %s/same.txt --seq 8 -o %s/x.gguf", DIR, DIR, DIR);
    CHECK_EQ_INT(run_train(args, &log), 1);
    CHECK_CONTAINS(log, "architecture \"qwen2\": the trainer fine-tunes llama models only");
    gt_free(log);
    gguf_with_key(DIR "/q8.gguf", DIR "/scaled.gguf", "llama.rope.scaling.type", "linear");
    snprintf(args, sizeof args, "--from %s/scaled.gguf --data %s/same.txt --seq 8 -o %s/x.gguf", DIR, DIR, DIR);
    CHECK_EQ_INT(run_train(args, &log), 1);
    CHECK_CONTAINS(log, "rope scaling \"linear\": the trainer's rope is unscaled");
    gt_free(log);
    CHECK(!gt_file_exists(DIR "/x.gguf"));
}

/* The tokens `gotong train --dataset` should make of data.jsonl: each row's
 * prompt and completion with BOS, then EOS (the llama vocabulary adds no
 * EOS itself). */
static size_t dataset_tokens(const char *jsonl, const char *vocab) {
    gt_gguf *g = NULL;
    gt_tokenizer *tok = NULL;
    gt_err err = {0};
    size_t total = 0;
    FILE *f = fopen(jsonl, "r");
    CHECK(f != NULL);
    CHECK_EQ_INT(gt_gguf_open(vocab, &g, &err), 0);
    CHECK_EQ_INT(gt_tokenizer_load(g, &tok, &err), 0);
    char line[1 << 14];
    while (f && tok && fgets(line, sizeof line, f)) {
        json_error_t je;
        json_t *o = json_loads(line, 0, &je);
        const char *p = json_string_value(json_object_get(o, "prompt"));
        const char *c = json_string_value(json_object_get(o, "completion"));
        CHECK(p && c);
        char text[1 << 14];
        snprintf(text, sizeof text, "%s%s", p ? p : "", c ? c : "");
        int32_t ids[4096];
        size_t n = 0;
        CHECK_EQ_INT(gt_tokenize(tok, text, strlen(text), 1, 0, ids, 4096, &n, &err), 0);
        total += n + 1;
        json_decref(o);
    }
    if (f) fclose(f);
    gt_tokenizer_free(tok);
    gt_gguf_close(g);
    return total;
}

/* A dataset made by a real data job (`gotong data job new/run/export` with
 * the tiny llama fixture as the worker's model) trains when --root is its
 * Merkle root, on its rows' tokens; a row changed, another root or no root
 * is refused. */
static void test_dataset(void) {
    char args[2048], *log = NULL, root[80] = "";
    const char *vocab = gt_fixture("tokenizer/ggml-vocab-llama-spm.gguf");
    FILE *f = fopen(DIR "/spec.json", "w");
    CHECK(f != NULL);
    if (!f) return;
    fputs("{\"version\":1,\"name\":\"notes\",\"template\":\"Write note {index}:\",\"seed\":7,\"samples\":8,"
          "\"batch\":4,\"reward\":\"0.01\",\"stake\":\"0.005\",\"license\":\"cc-by-4.0\",\"output\":{\"type\":\"text\"},"
          "\"generation\":{\"max_tokens\":24},\"pipeline\":{\"near_dedup\":false,\"spot_check\":0.25}}\n", f);
    fclose(f);
    CHECK_EQ_INT(system("rm -rf " DIR "/home " DIR "/ds"), 0);
    CHECK_EQ_INT(run_gotong("--home " DIR "/home data job new " DIR "/spec.json --json", &log), 0);
    json_error_t je;
    json_t *o = json_loads(log ? log : "", 0, &je);
    const char *j = json_string_value(json_object_get(o, "job"));
    char job[80] = "x";
    CHECK(j != NULL);
    if (j) snprintf(job, sizeof job, "%s", j);
    json_decref(o), gt_free(log);
    snprintf(args, sizeof args, "--home %s/home data job run %s -m %s --batches 2 --threads 1", DIR, job,
             gt_fixture("models/tiny-llama-q8_0.gguf"));
    CHECK_EQ_INT(run_gotong(args, &log), 0);
    gt_free(log);
    snprintf(args, sizeof args, "--home %s/home data export %s -o %s/ds --json", DIR, job, DIR);
    CHECK_EQ_INT(run_gotong(args, &log), 0);
    o = json_loads(log ? log : "", 0, &je);
    const char *r = json_string_value(json_object_get(o, "merkle_root"));
    CHECK(r && strlen(r) == 66);
    if (r) snprintf(root, sizeof root, "%s", r);
    json_decref(o), gt_free(log);
    /* The directory or its data.jsonl, with its root: trains on its tokens. */
    snprintf(args, sizeof args, "--dataset %s/ds --root %s --vocab %s " SMALL "-o %s/ds.gguf", DIR, root, vocab, DIR);
    CHECK_EQ_INT(run_train(args, &log), 0);
    CHECK_CONTAINS(log, "dataset " DIR "/ds: 8 rows, Merkle root 0x");
    char want[128];
    snprintf(want, sizeof want, "on %zu tokens of " DIR "/ds", dataset_tokens(DIR "/ds/data.jsonl", vocab));
    CHECK_CONTAINS(log, want);
    CHECK_CONTAINS(log, "wrote " DIR "/ds.gguf");
    gt_free(log);
    /* One byte changed: the root is no longer the one given. */
    CHECK_EQ_INT(system("sed '3s/\"id\":2/\"id\":9/' " DIR "/ds/data.jsonl > " DIR "/bad.jsonl"), 0);
    snprintf(args, sizeof args, "--dataset %s/bad.jsonl --root %s --vocab %s " SMALL "-o %s/x.gguf", DIR, root, vocab, DIR);
    CHECK_EQ_INT(run_train(args, &log), 1);
    CHECK_CONTAINS(log, "not --root");
    CHECK_CONTAINS(log, "refused");
    gt_free(log);
    snprintf(args, sizeof args, "--dataset %s/ds --root 0x1234 --vocab %s -o %s/x.gguf", DIR, vocab, DIR);
    CHECK_EQ_INT(run_train(args, &log), 1);
    CHECK_CONTAINS(log, "--root");
    gt_free(log);
    snprintf(args, sizeof args, "--dataset %s/ds --vocab %s -o %s/x.gguf", DIR, vocab, DIR);
    CHECK_EQ_INT(run_train(args, &log), 2);
    CHECK_CONTAINS(log, "--dataset and --root go together");
    gt_free(log);
    CHECK(!gt_file_exists(DIR "/x.gguf"));
}

/* Prompts for the tokenizer comparison: words, digits, punctuation, UTF-8,
 * runs of spaces. */
static const char *const bpe_prompts[] = {
    "The verifier re-executes",
    "Workers stake 12 tokens; a wrong answer loses 3.5 of them!",
    "  two  spaces, café and 東京",
    "sum 123 + 456 = 579",
};
#define N_BPE_PROMPTS (sizeof bpe_prompts / sizeof *bpe_prompts)

/* llama.cpp's tokens for each prompt (llama_ref, BOS added) equal gotong's. */
static void check_llama_cpp_tokens(const char *model) {
    FILE *f = fopen(DIR "/prompts.txt", "w");
    CHECK(f != NULL);
    if (!f) return;
    for (size_t i = 0; i < N_BPE_PROMPTS; i++) fprintf(f, "%s\n", bpe_prompts[i]);
    fclose(f);
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "%s/.cache/libllama/llama_ref %s %s/prompts.txt %s/refs.json > %s/ref.log 2>&1",
             GT_SOURCE_DIR, model, DIR, DIR, DIR);
    CHECK_EQ_INT(system(cmd), 0);
    json_error_t je;
    json_t *root = json_load_file(DIR "/refs.json", 0, &je);
    CHECK_EQ_INT((int)json_array_size(root), (int)N_BPE_PROMPTS);
    gt_gguf *g = NULL;
    gt_tokenizer *tok = NULL;
    gt_err err = {0};
    CHECK_MSG(gt_gguf_open(model, &g, &err) == 0 && gt_tokenizer_load(g, &tok, &err) == 0, "%s", err.msg);
    for (size_t i = 0; tok && i < N_BPE_PROMPTS && i < json_array_size(root); i++) {
        json_t *toks = json_object_get(json_array_get(root, i), "tokens");
        int32_t ids[128];
        size_t n = 0;
        CHECK_EQ_INT(gt_tokenize(tok, bpe_prompts[i], strlen(bpe_prompts[i]), 1, 0, ids, 128, &n, &err), 0);
        CHECK_MSG(n == json_array_size(toks), "prompt %zu: gotong %zu tokens, llama.cpp %zu", i, n,
                  json_array_size(toks));
        for (size_t k = 0; k < n && k < json_array_size(toks); k++)
            CHECK_MSG(ids[k] == (int)json_integer_value(json_array_get(toks, k)), "prompt %zu token %zu", i, k);
    }
    gt_tokenizer_free(tok);
    gt_gguf_close(g);
    json_decref(root);
}

/* `gotong tokenizer train` makes the same vocabulary twice; a model trained
 * with it (`gotong train --vocab`) is tokenized by llama.cpp as by gotong,
 * and their greedy tokens agree. */
static void test_tokenizer_train(void) {
    char args[2048], *log = NULL;
    FILE *f = fopen(DIR "/corpus.txt", "w");
    CHECK(f != NULL);
    if (!f) return;
    for (int r = 0; r < 20; r++)
        for (size_t i = 0; i < N_BPE_PROMPTS; i++) fprintf(f, "%s\n", bpe_prompts[i]);
    for (int r = 0; r < 30; r++) fprintf(f, "The verifier re-executes the work and compares the bytes of every answer.\n");
    fclose(f);
    for (int k = 0; k < 2; k++) {
        snprintf(args, sizeof args, "tokenizer train --corpus %s/corpus.txt --vocab-size 320 -o %s/bpe%d.gguf", DIR,
                 DIR, k);
        CHECK_EQ_INT(run_gotong(args, &log), 0);
        CHECK_CONTAINS(log, "320 tokens (256 bytes, ");
        gt_free(log);
    }
    uint8_t *a = NULL, *b = NULL;
    size_t la = 0, lb = 0;
    gt_err err = {0};
    CHECK_EQ_INT(gt_file_read(DIR "/bpe0.gguf", 1 << 24, &a, &la, &err), 0);
    CHECK_EQ_INT(gt_file_read(DIR "/bpe1.gguf", 1 << 24, &b, &lb, &err), 0);
    CHECK(la == lb && la > 0 && a && b && !memcmp(a, b, la));
    gt_free(a), gt_free(b);
    snprintf(args, sizeof args, "--data %s/corpus.txt --vocab %s/bpe0.gguf --dim 32 --layers 1 --heads 2 --seq 32 "
             "--batch 2 --steps 60 --lr 2e-2 --warmup 4 -o %s/bpe-model.gguf", DIR, DIR, DIR);
    CHECK_EQ_INT(run_train(args, &log), 0);
    gt_free(log);
    check_llama_cpp_tokens(DIR "/bpe-model.gguf");
    check_llama_cpp_agrees(DIR "/bpe-model.gguf", "The verifier re-executes", "The verifier re-executes");
    CHECK_EQ_INT(run_gotong("tokenizer train --corpus x -o y --vocab-size 100", &log), 2);
    CHECK_CONTAINS(log, "--vocab-size");
    gt_free(log);
}

int main(void) {
    gt_err err = {0};
    CHECK_EQ_INT(gt_mkdir_p(DIR, 0755, &err), 0);
    RUN(test_train_writes_a_model);
    RUN(test_resume);
    RUN(test_train_refuses);
    RUN(test_train_refuses_paths);
    RUN(test_refuses_non_utf8);
    RUN(test_text_tokenize_room);
    RUN(test_interrupt);
    RUN(test_llama_cpp_agrees);
    RUN(test_finetune);
    RUN(test_finetune_context);
    RUN(test_finetune_refuses);
    RUN(test_dataset);
    RUN(test_tokenizer_train);
    return gt_test_finish();
}
