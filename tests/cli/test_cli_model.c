/* test_cli_model.c: `gotong model random` and `gotong model info` end to end:
 * random llama and qwen2 models load in our reader with llama.cpp's tensor
 * names, shapes, types and metadata, keep the vocabulary they were made
 * from, come out the same bytes for the same seed whatever the thread count,
 * and have weights of the intended scale; `model info` reports their shapes;
 * bad arguments are refused with a message and exit code 2. */
#include <math.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../test.h"
#include "base/alloc.h"
#include "base/file.h"
#include "infer/gguf.h"
#include "infer/quantize.h"
#include "infer/tokenizer.h"

static char out_buf[1 << 16];

/* Runs `gotong ARGS` (stderr into stdout); returns the exit code, output in out_buf. */
static int run(const char *args) {
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "%s %s 2>&1", GT_CLI, args);
    FILE *p = popen(cmd, "r");
    if (!p) return -1;
    size_t n = fread(out_buf, 1, sizeof out_buf - 1, p);
    out_buf[n] = 0;
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static char tmpdir[] = "/tmp/gt_cli_model_XXXXXX";

static const char *tmp(const char *name) {
    static char path[4][512];
    static int k;
    char *p = path[k++ & 3];
    snprintf(p, 512, "%s/%s", tmpdir, name);
    return p;
}

/* Checks one tensor's type and shape. */
static void check_tensor(const gt_gguf *g, const char *name, uint32_t type, uint64_t ne0,
                         uint64_t ne1) {
    const gt_gguf_tensor *t = gt_gguf_find_tensor(g, name);
    CHECK_MSG(t != NULL, "tensor %s missing", name);
    if (!t) return;
    CHECK_MSG(t->type == type && t->ne[0] == ne0 && t->ne[1] == ne1 &&
                  t->n_dims == (ne1 > 1 ? 2u : 1u),
              "%s: %s %llu x %llu", name, gt_ggml_type_name(t->type),
              (unsigned long long)t->ne[0], (unsigned long long)t->ne[1]);
}

static void test_random_llama(void) {
    char args[2048];
    snprintf(args, sizeof args,
             "model random --like %s --arch llama --dim 64 --layers 2 --heads 4 --kv-heads 2 "
             "--ff 96 --type q4_0 --seed 7 --threads 1 -o %s",
             gt_fixture("tokenizer/ggml-vocab-llama-spm.gguf"), tmp("a.gguf"));
    CHECK_EQ_INT(run(args), 0);
    gt_gguf *g = NULL;
    gt_err err = {0};
    CHECK_MSG(gt_gguf_open(tmp("a.gguf"), &g, &err) == 0, "%s", err.msg);
    if (!g) return;
    uint32_t u = 0;
    gt_gguf_str s;
    CHECK(gt_gguf_get_str(g, "general.architecture", &s, &err) == 0 && s.len == 5 &&
          !memcmp(s.ptr, "llama", 5));
    CHECK(gt_gguf_get_u32(g, "llama.embedding_length", &u, &err) == 0 && u == 64);
    CHECK(gt_gguf_get_u32(g, "llama.block_count", &u, &err) == 0 && u == 2);
    CHECK(gt_gguf_get_u32(g, "llama.attention.head_count", &u, &err) == 0 && u == 4);
    CHECK(gt_gguf_get_u32(g, "llama.attention.head_count_kv", &u, &err) == 0 && u == 2);
    CHECK(gt_gguf_get_u32(g, "llama.feed_forward_length", &u, &err) == 0 && u == 96);
    CHECK(gt_gguf_get_u32(g, "llama.rope.dimension_count", &u, &err) == 0 && u == 16);
    CHECK(gt_gguf_get_u32(g, "general.file_type", &u, &err) == 0 && u == 2);
    float f = 0;
    CHECK(gt_gguf_get_f32(g, "llama.rope.freq_base", &f, &err) == 0 && f == 10000.0f);
    CHECK_EQ_U64(g->n_tensors, 3 + 2 * 9);
    check_tensor(g, "token_embd.weight", GT_TYPE_Q4_0, 64, 32000);
    check_tensor(g, "output.weight", GT_TYPE_Q4_0, 64, 32000);
    check_tensor(g, "output_norm.weight", GT_TYPE_F32, 64, 1);
    check_tensor(g, "blk.1.attn_q.weight", GT_TYPE_Q4_0, 64, 64);
    check_tensor(g, "blk.1.attn_k.weight", GT_TYPE_Q4_0, 64, 32);
    check_tensor(g, "blk.1.attn_v.weight", GT_TYPE_Q4_0, 64, 32);
    check_tensor(g, "blk.1.attn_output.weight", GT_TYPE_Q4_0, 64, 64);
    check_tensor(g, "blk.1.ffn_gate.weight", GT_TYPE_Q4_0, 64, 96);
    check_tensor(g, "blk.1.ffn_up.weight", GT_TYPE_Q4_0, 64, 96);
    check_tensor(g, "blk.1.ffn_down.weight", GT_TYPE_Q4_0, 96, 64);
    check_tensor(g, "blk.0.attn_norm.weight", GT_TYPE_F32, 64, 1);
    check_tensor(g, "blk.0.ffn_norm.weight", GT_TYPE_F32, 64, 1);
    CHECK(gt_gguf_find_tensor(g, "blk.0.attn_q.bias") == NULL);
    const gt_gguf_tensor *n = gt_gguf_find_tensor(g, "blk.0.attn_norm.weight");
    if (n) CHECK(((const float *)n->data)[63] == 1.0f);
    /* the vocabulary came along and tokenizes as the original does */
    gt_tokenizer *tok = NULL;
    CHECK_MSG(gt_tokenizer_load(g, &tok, &err) == 0, "%s", err.msg);
    if (tok) {
        int32_t ids[8];
        size_t k = 0;
        CHECK_EQ_INT(gt_tokenize(tok, "Hello world", 11, 1, 0, ids, 8, &k, &err), 0);
        CHECK(k == 3 && ids[0] == 1 && ids[1] == 15043 && ids[2] == 3186);
        gt_tokenizer_free(tok);
    }
    /* weights: Q4_0 dequantized have roughly the intended spread */
    const gt_gguf_tensor *w = gt_gguf_find_tensor(g, "blk.0.ffn_up.weight");
    if (w) {
        double sum2 = 0;
        size_t cnt = 0;
        const uint8_t *b = w->data;
        for (size_t blk = 0; blk < w->nbytes / 18; blk++, b += 18) {
            uint16_t d;
            memcpy(&d, b, 2);
            float df = gt_quantize_f16_to_f32(d);
            for (int j = 0; j < 16; j++) {
                double lo = df * ((b[2 + j] & 15) - 8), hi = df * ((b[2 + j] >> 4) - 8);
                sum2 += lo * lo + hi * hi;
                cnt += 2;
            }
        }
        double sd = sqrt(sum2 / (double)cnt);
        CHECK_MSG(sd > 0.015 && sd < 0.025, "ffn_up std %.4f, expected about 0.02", sd);
    }
    gt_gguf_close(g);

    /* the same seed gives the same bytes with another thread count */
    snprintf(args, sizeof args,
             "model random --like %s --arch llama --dim 64 --layers 2 --heads 4 --kv-heads 2 "
             "--ff 96 --type q4_0 --seed 7 --threads 3 -o %s",
             gt_fixture("tokenizer/ggml-vocab-llama-spm.gguf"), tmp("b.gguf"));
    CHECK_EQ_INT(run(args), 0);
    uint8_t *a = NULL, *b = NULL;
    size_t la = 0, lb = 0;
    gt_file_read(tmp("a.gguf"), 64u << 20, &a, &la, &err);
    gt_file_read(tmp("b.gguf"), 64u << 20, &b, &lb, &err);
    CHECK(a && b && la == lb && !memcmp(a, b, la));
    gt_free(b);
    /* and another seed other bytes */
    snprintf(args, sizeof args,
             "model random --like %s --arch llama --dim 64 --layers 2 --heads 4 --kv-heads 2 "
             "--ff 96 --type q4_0 --seed 8 -o %s",
             gt_fixture("tokenizer/ggml-vocab-llama-spm.gguf"), tmp("b.gguf"));
    CHECK_EQ_INT(run(args), 0);
    gt_file_read(tmp("b.gguf"), 64u << 20, &b, &lb, &err);
    CHECK(a && b && la == lb && memcmp(a, b, la));
    gt_free(a);
    gt_free(b);

    /* model info reports the shapes */
    snprintf(args, sizeof args, "model info %s --json", tmp("a.gguf"));
    CHECK_EQ_INT(run(args), 0);
    CHECK_CONTAINS(out_buf, "\"dim\":64");
    CHECK_CONTAINS(out_buf, "\"layers\":2");
    CHECK_CONTAINS(out_buf, "\"heads\":4");
    CHECK_CONTAINS(out_buf, "\"kv_heads\":2");
    CHECK_CONTAINS(out_buf, "\"ff\":96");
    CHECK_CONTAINS(out_buf, "\"vocab_size\":32000");
    CHECK_CONTAINS(out_buf, "\"tensor_types\":{\"f32\":5,\"q4_0\":16}");
    snprintf(args, sizeof args, "model info %s --tensors", tmp("a.gguf"));
    CHECK_EQ_INT(run(args), 0);
    CHECK_CONTAINS(out_buf, "kv heads      2");
    CHECK_CONTAINS(out_buf, "blk.1.ffn_down.weight");
    CHECK_CONTAINS(out_buf, "96 x 64");
}

static void test_random_qwen2(void) {
    char args[2048];
    snprintf(args, sizeof args,
             "model random --like %s --arch qwen2 --dim 64 --layers 1 --heads 4 --kv-heads 1 "
             "--ff 64 --type f16 -o %s",
             gt_fixture("tokenizer/ggml-vocab-gpt-2.gguf"), tmp("q.gguf"));
    CHECK_EQ_INT(run(args), 0);
    gt_gguf *g = NULL;
    gt_err err = {0};
    CHECK_MSG(gt_gguf_open(tmp("q.gguf"), &g, &err) == 0, "%s", err.msg);
    if (!g) return;
    float f = 0;
    CHECK(gt_gguf_get_f32(g, "qwen2.rope.freq_base", &f, &err) == 0 && f == 1000000.0f);
    check_tensor(g, "token_embd.weight", GT_TYPE_F16, 64, 50257);
    CHECK(gt_gguf_find_tensor(g, "output.weight") == NULL); /* tied */
    check_tensor(g, "blk.0.attn_q.bias", GT_TYPE_F32, 64, 1);
    check_tensor(g, "blk.0.attn_k.bias", GT_TYPE_F32, 16, 1);
    check_tensor(g, "blk.0.attn_v.bias", GT_TYPE_F32, 16, 1);
    check_tensor(g, "blk.0.attn_k.weight", GT_TYPE_F16, 64, 16);
    gt_gguf_str s;
    CHECK(gt_gguf_get_str(g, "tokenizer.ggml.pre", &s, &err) == 0 && s.len == 5);
    const gt_gguf_kv *m = gt_gguf_find(g, "tokenizer.ggml.merges");
    CHECK(m && m->arr_len == 50000);
    gt_gguf_close(g);
}

static void test_bad_arguments(void) {
    char args[2048];
    const char *v = gt_fixture("tokenizer/ggml-vocab-llama-spm.gguf");
    snprintf(args, sizeof args, "model random --like %s --arch gpt9 --dim 64 --layers 1 --heads 4 "
             "--ff 64 -o %s", v, tmp("x.gguf"));
    CHECK_EQ_INT(run(args), 2);
    CHECK_CONTAINS(out_buf, "--arch must be llama, qwen2, qwen3, gemma3 or phi3, not \"gpt9\"");
    snprintf(args, sizeof args, "model random --like %s --arch llama --dim 64 --layers 1 --heads 3 "
             "--ff 64 -o %s", v, tmp("x.gguf"));
    CHECK_EQ_INT(run(args), 2);
    CHECK_CONTAINS(out_buf, "--dim 64 must split into --heads 3 heads");
    snprintf(args, sizeof args, "model random --like %s --arch llama --dim 48 --layers 1 --heads 4 "
             "--ff 64 --type q8_0 -o %s", v, tmp("x.gguf"));
    CHECK_EQ_INT(run(args), 2);
    CHECK_CONTAINS(out_buf, "multiples of 32");
    snprintf(args, sizeof args, "model random --like %s --arch llama --dim abc --layers 1 "
             "--heads 4 --ff 64 -o %s", v, tmp("x.gguf"));
    CHECK_EQ_INT(run(args), 2);
    CHECK_CONTAINS(out_buf, "--dim: expected an integer 32..");
    snprintf(args, sizeof args, "model random --like %s --arch llama --dim 64 --layers 1 --heads 4 "
             "--ff 64 -o %s", tmp("missing.gguf"), tmp("x.gguf"));
    CHECK_EQ_INT(run(args), 1);
    CHECK_CONTAINS(out_buf, "missing.gguf");
    /* a model file has no tokenizer to copy... the fixture model does; a bare file does not */
    snprintf(args, sizeof args, "model random --like %s --arch llama --dim 64 --layers 1 "
             "--heads 4 --ff 64 -o %s", GT_CLI, tmp("x.gguf"));
    CHECK_EQ_INT(run(args), 1);
    CHECK_CONTAINS(out_buf, "not a GGUF file");
    CHECK(!gt_file_exists(tmp("x.gguf")));
    CHECK_EQ_INT(run("model info"), 2);
    CHECK_EQ_INT(run("model info /nonexistent.gguf"), 1);
    CHECK_CONTAINS(out_buf, "cannot open /nonexistent.gguf");
    CHECK_EQ_INT(run("model frobnicate"), 2);
}

/* An output path is checked before any work: one spelled apart from its
 * input ("DIR/./m.gguf") is still refused (quantize once replaced its f32
 * input so), and one in a missing directory is refused with what is wrong. */
static void test_output_paths(void) {
    char args[2048];
    const char *v = gt_fixture("tokenizer/ggml-vocab-llama-spm.gguf");
    snprintf(args, sizeof args, "model random --like %s --arch llama --dim 64 --layers 1 --heads 4 --ff 64 "
             "--type f32 -o %s", v, tmp("in.gguf"));
    CHECK_EQ_INT(run(args), 0);
    snprintf(args, sizeof args, "model quantize %s %s/./in.gguf --type q8_0", tmp("in.gguf"), tmpdir);
    CHECK_EQ_INT(run(args), 2);
    CHECK_CONTAINS(out_buf, "is the same file as IN");
    gt_gguf *g = NULL;
    gt_err err = {0};
    CHECK_MSG(gt_gguf_open(tmp("in.gguf"), &g, &err) == 0, "%s", err.msg);
    const gt_gguf_tensor *t = g ? gt_gguf_find_tensor(g, "blk.0.attn_q.weight") : NULL;
    CHECK(t && t->type == GT_TYPE_F32); /* still the f32 input */
    gt_gguf_close(g);
    snprintf(args, sizeof args, "model quantize %s %s --type q8_0", tmp("in.gguf"), tmp("nodir/q.gguf"));
    CHECK_EQ_INT(run(args), 2);
    CHECK_CONTAINS(out_buf, "does not exist: expected a file in an existing directory");
    snprintf(args, sizeof args, "model random --like %s --arch llama --dim 64 --layers 1 --heads 4 --ff 64 -o %s", v,
             tmpdir);
    CHECK_EQ_INT(run(args), 2);
    CHECK_CONTAINS(out_buf, "is a directory: expected a file path");
}

/* A model whose weights hold NaN is refused by `gotong run` with what is
 * wrong, not sampled from: it printed garbage as the model's answer. The
 * NaNs go over the last 4000 bytes of an f32 file, its last tensor's data. */
static void test_run_refuses_nan(void) {
    char args[2048];
    const char *v = gt_fixture("tokenizer/ggml-vocab-llama-spm.gguf");
    snprintf(args, sizeof args, "model random --like %s --arch llama --dim 64 --layers 1 --heads 4 --ff 64 "
             "--type f32 -o %s", v, tmp("nan.gguf"));
    CHECK_EQ_INT(run(args), 0);
    FILE *f = fopen(tmp("nan.gguf"), "r+b");
    CHECK(f != NULL);
    if (!f) return;
    const float nan = NAN;
    CHECK(fseek(f, -4000, SEEK_END) == 0);
    for (int i = 0; i < 1000; i++) CHECK(fwrite(&nan, sizeof nan, 1, f) == 1);
    fclose(f);
    snprintf(args, sizeof args, "run -m %s -p hello -n 4 --temp 0", tmp("nan.gguf"));
    CHECK_EQ_INT(run(args), 1);
    CHECK_CONTAINS(out_buf, "hold NaN");
}

/* `model quantize` refuses a file that is no model (a vocabulary): it wrote
 * one out, named like a model, that nothing loads as one. */
static void test_quantize_refuses_non_model(void) {
    char args[2048];
    snprintf(args, sizeof args, "model quantize %s %s --type q8_0", gt_fixture("tokenizer/ggml-vocab-llama-spm.gguf"),
             tmp("vq.gguf"));
    CHECK_EQ_INT(run(args), 1);
    CHECK_CONTAINS(out_buf, "ggml-vocab-llama-spm.gguf: no tensors: expected a model");
    CHECK(!gt_file_exists(tmp("vq.gguf")));
}

/* A Ctrl-C during `model quantize` ends it with no OUT and no OUT.tmp.PID
 * left beside it (the temp file stayed, as one did in .cache/fixtures).
 * iq4_xs on one thread takes seconds here; a build fast enough to finish
 * before the signal checks nothing. */
static void test_quantize_interrupted(void) {
    char cmd[2048], out[600];
    snprintf(out, sizeof out, "%s", tmp("int/q.gguf"));
    CHECK(mkdir(tmp("int"), 0755) == 0);
    snprintf(cmd, sizeof cmd, "exec %s model quantize %s %s --type iq4_xs --threads 1 >/dev/null 2>&1", GT_CLI,
             gt_fixture("models/tiny-llama-f16.gguf"), out);
    pid_t pid = fork();
    if (pid == 0) {
        execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
        _exit(127);
    }
    CHECK(pid > 0);
    nanosleep(&(struct timespec){0, 800000000}, NULL);
    kill(pid, SIGINT);
    int st = 0;
    CHECK(waitpid(pid, &st, 0) == pid);
    if (WIFEXITED(st) && WEXITSTATUS(st) == 0) return; /* done before the signal */
    CHECK_MSG(WIFSIGNALED(st) && WTERMSIG(st) == SIGINT, "wait status %d", st);
    CHECK(!gt_file_exists(out));
    snprintf(cmd, sizeof cmd, "test -z \"$(ls -A %s)\"", tmp("int"));
    CHECK_MSG(system(cmd) == 0, "%s holds a file after the interrupt", tmp("int"));
}

/* `model quantize` on a terminal draws its progress (it was silent for the
 * minutes a large model takes). The terminal is script(1)'s; without it
 * the check is skipped. */
static void test_quantize_progress(void) {
    char cmd[2048];
    if (system("command -v script >/dev/null 2>&1") != 0) return;
    snprintf(cmd, sizeof cmd, "script -qec '%s model quantize %s %s --type q8_0 --threads 1' /dev/null 2>&1", GT_CLI,
             gt_fixture("models/tiny-llama-f16.gguf"), tmp("prog.gguf"));
    FILE *p = popen(cmd, "r");
    CHECK(p != NULL);
    if (!p) return;
    size_t n = fread(out_buf, 1, sizeof out_buf - 1, p);
    out_buf[n] = 0;
    CHECK_EQ_INT(pclose(p), 0);
    CHECK_CONTAINS(out_buf, "quantizing tensors [");
    CHECK_CONTAINS(out_buf, "wrote ");
}

/* run() under timeout(1): a command that hangs exits 124 instead. */
static int run_limited(const char *args) {
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "timeout 20 %s %s 2>&1", GT_CLI, args);
    FILE *p = popen(cmd, "r");
    if (!p) return -1;
    size_t n = fread(out_buf, 1, sizeof out_buf - 1, p);
    out_buf[n] = 0;
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* A FIFO named *.gguf is listed as not a regular file by `model list` and
 * refused by `model info`: both waited forever for a writer (124 here). */
static void test_fifo_refused(void) {
    char args[2048];
    CHECK(mkdir(tmp("fifo"), 0755) == 0);
    CHECK(mkfifo(tmp("fifo/x.gguf"), 0644) == 0);
    snprintf(args, sizeof args, "model list %s", tmp("fifo"));
    CHECK_EQ_INT(run_limited(args), 0);
    CHECK_CONTAINS(out_buf, "x.gguf is not a regular file");
    snprintf(args, sizeof args, "model info %s", tmp("fifo/x.gguf"));
    CHECK_EQ_INT(run_limited(args), 1);
    CHECK_CONTAINS(out_buf, "is not a regular file");
}

int main(void) {
    if (!mkdtemp(tmpdir)) return 1;
    RUN(test_random_llama);
    RUN(test_random_qwen2);
    RUN(test_bad_arguments);
    RUN(test_output_paths);
    RUN(test_run_refuses_nan);
    RUN(test_fifo_refused);
    RUN(test_quantize_refuses_non_model);
    RUN(test_quantize_interrupted);
    RUN(test_quantize_progress);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", tmpdir);
    return gt_test_finish();
}
