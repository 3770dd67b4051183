/* test_quantize_model.c: gt_quantize_model (`gotong model quantize`)
 * against llama.cpp's own quantizer. scripts/fixtures.sh writes unquantized
 * models (llama in F16, qwen2 in F32 with tied embeddings) and what
 * llama_model_quantize makes of them for every preset gotong has (and a
 * model with 128-wide rows and 4 query heads per KV head for the fallbacks
 * and GQA rules; tests/ref/llama_quantize_ref.c). We quantize
 * the same inputs and require the same tensors (llama.cpp sorts them its own
 * way; we keep the input's order) with the same types, shapes and bytes. Also the refusals: an already quantized
 * input, an unknown preset; and the fallback of rows super-blocks do not divide. */
#include <stdlib.h>
#include <unistd.h>

#include "../test.h"
#include "infer/gguf.h"
#include "infer/quantize_model.h"

/* Quantizes input with preset and compares with llama.cpp's file. */
static void check_preset(const char *input, const char *preset) {
    char in[4096], ref[4096], out[] = "/tmp/gt_test_qmodel_XXXXXX";
    snprintf(in, sizeof in, "%s", gt_fixture(input));
    char rel[512];
    snprintf(rel, sizeof rel, "%.*s.%s.gguf", (int)(strlen(input) - 5), input, preset);
    snprintf(ref, sizeof ref, "%s", gt_fixture(rel));
    int fd = mkstemp(out);
    CHECK(fd >= 0);
    close(fd);
    const gt_qpreset *p = gt_qpreset_find(preset);
    CHECK(p != NULL);
    gt_err err = {0};
    int rc = gt_quantize_model(in, out, p, 2, &err);
    CHECK_MSG(rc == 0, "%s %s: %s", input, preset, err.msg);
    gt_gguf *a = NULL, *b = NULL;
    CHECK_MSG(!rc && gt_gguf_open(out, &a, &err) == 0, "%s", err.msg);
    CHECK_MSG(gt_gguf_open(ref, &b, &err) == 0, "%s (run scripts/fixtures.sh)", err.msg);
    if (a && b) {
        CHECK_EQ_U64(a->n_tensors, b->n_tensors);
        int differ = 0, k_types = 0;
        /* llama.cpp writes the tensors sorted its own way: match by name. */
        for (uint64_t i = 0; i < a->n_tensors; i++) {
            const gt_gguf_tensor *x = &a->tensors[i];
            char name[256];
            snprintf(name, sizeof name, "%.*s", (int)x->name.len, x->name.ptr);
            const gt_gguf_tensor *y = gt_gguf_find_tensor(b, name);
            int same = y && x->type == y->type && x->n_dims == y->n_dims && !memcmp(x->ne, y->ne, sizeof x->ne) &&
                       x->nbytes == y->nbytes && !memcmp(x->data, y->data, x->nbytes);
            if (!same && differ++ < 5)
                fprintf(stderr, "  %s %s: tensor %s: ours %s, llama.cpp's %s%s\n", input, preset, name,
                        gt_ggml_type_name(x->type), y ? gt_ggml_type_name(y->type) : "(absent)",
                        y && x->type == y->type ? " (bytes differ)" : "");
            k_types |= 1 << (x->type & 31);
        }
        CHECK_MSG(differ == 0, "%s %s: %d tensors differ from llama.cpp's", input, preset, differ);
        uint32_t ft = 0;
        CHECK(gt_gguf_get_u32(a, "general.file_type", &ft, &err) == 0 && ft == p->file_type);
        fprintf(stderr, "  %s -> %s: %llu tensors identical to llama.cpp's (types mask %#x)\n", input, preset,
                (unsigned long long)a->n_tensors, (unsigned)k_types);
    }
    gt_gguf_close(a);
    gt_gguf_close(b);
    unlink(out);
}

static void test_against_llama_cpp(void) {
    const char *llama_presets[] = {"q4_k_m", "q4_k_s", "q5_k_m", "q6_k",   "q8_0",   "q4_0",   "q4_1",  "q5_0",
                                   "q5_1",   "q2_k",   "q3_k_s", "q3_k_m", "q3_k_l", "q5_k_s", "iq4_nl", "iq4_xs"};
    for (size_t i = 0; i < sizeof llama_presets / sizeof llama_presets[0]; i++)
        check_preset("quant/in-llama-f16.gguf", llama_presets[i]);
    check_preset("quant/in-qwen2-f32.gguf", "q4_k_m"); /* tied: token_embd gets the output's q6_K */
    check_preset("quant/in-qwen2-f32.gguf", "q3_k_m");
    /* 128-wide rows (fallbacks to blocks of 32) and 4 query heads per KV head (attn_v's GQA rules) */
    const char *mqa_presets[] = {"q2_k", "q4_k_m", "iq4_xs", "iq4_nl", "q3_k_l"};
    for (size_t i = 0; i < sizeof mqa_presets / sizeof mqa_presets[0]; i++)
        check_preset("quant/in-mqa-f16.gguf", mqa_presets[i]);
}

static void test_refusals(void) {
    char out[] = "/tmp/gt_test_qmodel_XXXXXX";
    int fd = mkstemp(out);
    CHECK(fd >= 0);
    close(fd);
    gt_err err = {0};
    /* already quantized */
    CHECK_EQ_INT(gt_quantize_model(gt_fixture("models/tiny-llama-q8_0.gguf"), out, gt_qpreset_find("q4_k_m"), 1, &err),
                 GT_EUNSUPPORTED);
    CHECK_CONTAINS(err.msg, "only f32, f16 and bf16");
    /* 128-wide rows do not fill 256-weight super-blocks: Q4_K falls back to
     * Q5_0 as in llama.cpp (in-mqa-f16 compares the bytes) */
    memset(&err, 0, sizeof err);
    CHECK_EQ_INT(gt_quantize_model(gt_fixture("models/tiny-llama-f16.gguf"), out, gt_qpreset_find("q4_k_m"), 1, &err), 0);
    gt_gguf *q = NULL;
    CHECK(gt_gguf_open(out, &q, &err) == 0);
    const gt_gguf_tensor *tq = q ? gt_gguf_find_tensor(q, "blk.0.attn_q.weight") : NULL;
    CHECK(tq && tq->type == GT_TYPE_Q5_0);
    gt_gguf_close(q);
    /* the same rows go into q8_0 blocks of 32 */
    CHECK_EQ_INT(gt_quantize_model(gt_fixture("models/tiny-llama-f16.gguf"), out, gt_qpreset_find("q8_0"), 1, &err), 0);
    CHECK(gt_qpreset_find("q3_k_xl") == NULL && gt_qpreset_find("") == NULL);
    memset(&err, 0, sizeof err);
    CHECK(gt_quantize_model("/nonexistent/x.gguf", out, gt_qpreset_find("q8_0"), 1, &err) != 0 && err.msg[0]);
    unlink(out);
}

int main(void) {
    RUN(test_refusals);
    RUN(test_against_llama_cpp);
    return gt_test_finish();
}
