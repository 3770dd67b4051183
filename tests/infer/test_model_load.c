/* test_model_load.c: what the loader refuses, and that it says what.
 *
 * Each case rewrites a fixture model that loads (tiny-gemma3-f16, written by
 * scripts/fixtures.sh) with one change: an architecture gotong does not run,
 * a weight type the kernels do not have, a tensor the forward pass would
 * ignore (tiny-phi3's attn_k beside its fused attn_qkv among them), a rope
 * scaling it does not implement, a per-layer window pattern.
 * Loading must fail with GT_EUNSUPPORTED and a message naming the thing (a
 * vocabulary one token shorter than the embedding: GT_EINVAL); the
 * unchanged copy must load (so the failure is the change's). `gotong run -m`
 * on the first case exits non-zero with the same name on stderr. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../test.h"
#include "base/alloc.h"
#include "infer/gguf.h"
#include "infer/model.h"

#define SRC_MODEL "models/tiny-gemma3-f16.gguf"
#define TYPE_MXFP4 39 /* a ggml type gotong's kernels do not run */

/* One change to the copied file. */
typedef struct edit {
    const char *src;           /* the fixture to copy (NULL: SRC_MODEL) */
    const char *arch;          /* new general.architecture */
    const char *retype;        /* tensor to store as type new_type (zero bytes) */
    uint32_t new_type;
    const char *extra;         /* an f32 tensor of n_embd to add */
    const char *str_key, *str_val; /* a string key to set */
    const char *arr_key;       /* a u32 key to turn into an array of bools */
    int vocab_less;            /* drop the last token (tokens, scores, types alike) */
} edit;

/* Writes kv, an array of the vocabulary (tokenizer.ggml.tokens, scores or
 * token_type), without its last element. */
static void write_shorter(gt_gguf_writer *w, const char *key, const gt_gguf_kv *kv) {
    uint64_t n = kv->arr_len - 1;
    if (kv->arr_type != GT_GGUF_STRING) {
        gt_gguf_writer_set_arr(w, key, kv->arr_type, kv->data, n);
        return;
    }
    char **s = gt_calloc(n, sizeof *s);
    for (uint64_t i = 0; i < n; i++) {
        gt_gguf_str t = gt_gguf_arr_str(kv, i);
        s[i] = gt_calloc(1, t.len + 1);
        memcpy(s[i], t.ptr, t.len);
    }
    gt_gguf_writer_set_arr_str(w, key, (const char *const *)s, n);
    for (uint64_t i = 0; i < n; i++) gt_free(s[i]);
    gt_free(s);
}

/* Copies g's keys into w, applying e to them. */
static void copy_keys(gt_gguf_writer *w, const gt_gguf *g, const edit *e) {
    for (uint64_t i = 0; i < g->n_kv; i++) {
        const gt_gguf_kv *kv = &g->kv[i];
        char key[160];
        snprintf(key, sizeof key, "%.*s", (int)kv->key.len, kv->key.ptr);
        if (e->arch && !strcmp(key, "general.architecture")) gt_gguf_writer_set_str(w, key, e->arch);
        else if (e->arr_key && !strcmp(key, e->arr_key)) {
            uint8_t pattern[2] = {1, 0};
            gt_gguf_writer_set_arr(w, key, GT_GGUF_BOOL, pattern, 2);
        } else if (e->vocab_less && (!strcmp(key, "tokenizer.ggml.tokens") || !strcmp(key, "tokenizer.ggml.scores") ||
                                     !strcmp(key, "tokenizer.ggml.token_type")))
            write_shorter(w, key, kv);
        else gt_gguf_writer_copy_kv(w, kv);
    }
    if (e->str_key) gt_gguf_writer_set_str(w, e->str_key, e->str_val);
}

/* Writes the fixture with edit e applied to path; 0 on success. */
static int write_variant(const char *path, const edit *e) {
    gt_gguf *g;
    gt_err err = {0};
    if (gt_gguf_open(gt_fixture(e->src ? e->src : SRC_MODEL), &g, &err)) {
        CHECK_MSG(0, "%s", err.msg);
        return -1;
    }
    gt_gguf_writer *w = gt_gguf_writer_new();
    copy_keys(w, g, e);
    void *zeros = NULL;
    for (uint64_t i = 0; i < g->n_tensors; i++) {
        const gt_gguf_tensor *t = &g->tensors[i];
        char name[128];
        snprintf(name, sizeof name, "%.*s", (int)t->name.len, t->name.ptr);
        if (e->retype && !strcmp(name, e->retype)) {
            size_t nb = gt_ggml_row_bytes(e->new_type, t->ne[0]) * t->ne[1];
            zeros = gt_calloc(1, nb);
            gt_gguf_writer_add_tensor(w, name, t->n_dims, t->ne, e->new_type, zeros, nb);
        } else gt_gguf_writer_add_tensor(w, name, t->n_dims, t->ne, t->type, t->data, t->nbytes);
    }
    float extra[128] = {0};
    uint64_t ne[1] = {128};
    if (e->extra) gt_gguf_writer_add_tensor(w, e->extra, 1, ne, GT_TYPE_F32, extra, sizeof extra);
    int rc = gt_gguf_writer_write(w, path, &err);
    CHECK_MSG(rc == 0, "%s", err.msg);
    gt_gguf_writer_free(w);
    gt_free(zeros);
    gt_gguf_close(g);
    return rc;
}

/* Loads the variant of e: fails with code and a message holding want (or
 * loads when want is NULL). */
static void expect(const char *what, const edit *e, int code, const char *want) {
    char path[256];
    snprintf(path, sizeof path, "%s/gt-model-load-%d.gguf", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp",
             (int)getpid());
    if (write_variant(path, e)) return;
    gt_model *m = NULL;
    gt_err err = {0};
    int rc = gt_model_load(path, &m, &err);
    fprintf(stderr, "  %s: %s\n", what, rc ? err.msg : "loads");
    CHECK_MSG(rc == code, "%s: code %d, expected %d (%s)", what, rc, code, err.msg);
    if (want) CHECK_CONTAINS(err.msg, want);
    gt_model_free(m);
    remove(path);
}

static void test_refusals(void) {
    CHECK_STR(gt_ggml_type_name(TYPE_MXFP4), "mxfp4");
    expect("unchanged", &(edit){0}, 0, NULL);
    expect("architecture", &(edit){.arch = "mamba2"}, GT_EUNSUPPORTED, "architecture \"mamba2\" is not supported");
    expect("weight type", &(edit){.retype = "blk.1.ffn_up.weight", .new_type = TYPE_MXFP4}, GT_EUNSUPPORTED,
           "tensor blk.1.ffn_up.weight has type mxfp4, which is not supported (expected f32, f16");
    expect("unused tensor", &(edit){.extra = "blk.0.attn_output.bias"}, GT_EUNSUPPORTED,
           "tensor blk.0.attn_output.bias is not supported by gotong's gemma3");
    expect("unused global tensor", &(edit){.extra = "rope_freqs.weight"}, GT_EUNSUPPORTED,
           "tensor rope_freqs.weight is not supported by gotong's gemma3");
    expect("split attention beside the fused one",
           &(edit){.src = "models/tiny-phi3-q8_0-tied.gguf", .extra = "blk.0.attn_k.weight"}, GT_EUNSUPPORTED,
           "tensor blk.0.attn_k.weight is not supported beside blk.0.attn_qkv.weight");
    expect("rope scaling", &(edit){.str_key = "gemma3.rope.scaling.type", .str_val = "yarn"}, GT_EUNSUPPORTED,
           "gemma3.rope.scaling.type \"yarn\" is not supported");
    expect("vocabulary shorter than the embedding", &(edit){.vocab_less = 1}, GT_EINVAL,
           "tokenizer.ggml.tokens has");
    expect("window pattern array", &(edit){.arr_key = "gemma3.attention.sliding_window_pattern"}, GT_EUNSUPPORTED,
           "sliding_window_pattern as a per-layer array is not supported");
}

/* `gotong run -m` on a file of an unsupported architecture: exit code 1 and
 * the architecture named on stderr. */
static void test_cli_refuses(void) {
    char path[256], cmd[1024], out[4096];
    snprintf(path, sizeof path, "%s/gt-model-cli-%d.gguf", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp",
             (int)getpid());
    if (write_variant(path, &(edit){.arch = "mamba2"})) return;
    snprintf(cmd, sizeof cmd, "'%s' run -m '%s' -p hi -n 1 2>&1", GT_CLI, path);
    FILE *p = popen(cmd, "r");
    CHECK(p != NULL);
    if (!p) return;
    size_t n = fread(out, 1, sizeof out - 1, p);
    out[n] = 0;
    int st = pclose(p);
    fprintf(stderr, "  gotong run: %s", out);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) != 0);
    CHECK_CONTAINS(out, "architecture \"mamba2\" is not supported");
    remove(path);
}

/* A directory given as the model: refused, named as a directory, with what
 * was expected (it said only "not a regular file"). */
static void test_directory_refused(void) {
    const char *dir = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    gt_model *m = NULL;
    gt_err err = {0};
    int rc = gt_model_load(dir, &m, &err);
    fprintf(stderr, "  directory: %s\n", err.msg);
    CHECK(rc == GT_EIO && m == NULL);
    CHECK_CONTAINS(err.msg, "is not a regular file (a directory): expected a GGUF file");
}

int main(void) {
    RUN(test_refusals);
    RUN(test_directory_refused);
    RUN(test_cli_refuses);
    return gt_test_finish();
}
