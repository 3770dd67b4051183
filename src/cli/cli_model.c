/* cli_model.c: `gotong model info` (what a GGUF file holds) and `gotong model
 * random` (a random-weight llama, qwen2, qwen3, gemma3 or phi3 model around a real
 * vocabulary).
 *
 * Random models are what the tests and benchmarks run when no trained model
 * may be downloaded: the vocabulary and tokenizer metadata are copied from an
 * existing GGUF file, the metadata keys and tensor names are the ones
 * llama.cpp reads, and the weights are seeded normal(0, 0.02) values (norm
 * weights 1) quantized with ggml's reference rounding. Each row is generated
 * from (seed, tensor name, row), so the file is the same bytes whatever the
 * thread count. */
#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "base/alloc.h"
#include "base/json.h"
#include "base/pool.h"
#include "base/progress.h"
#include "cli/cli.h"
#include "infer/dmath.h"
#include "infer/gguf.h"
#include "infer/quantize.h"
#include "infer/tokenizer.h"

/* Bounds on `model random` shapes: far past the 0.1-5 B models gotong runs,
 * low enough that no product of them overflows. */
#define MODEL_MAX_DIM 65536
#define MODEL_MAX_LAYERS 1024
#define MODEL_MAX_HEADS 1024
#define MODEL_MAX_FF (4 * 65536)
#define MODEL_MAX_CTX (1u << 24)
#define MODEL_WEIGHT_STD 0.02f

/* ---- model info ------------------------------------------------------------ */

/* Copies a file string into a NUL-terminated buffer (truncating). */
static const char *cstr(gt_gguf_str s, char *buf, size_t cap) {
    snprintf(buf, cap, "%.*s", (int)(s.len < cap ? s.len : cap - 1), s.ptr);
    return buf;
}

/* An architecture key ("llama.block_count") as u32, or 0 when absent. */
static uint32_t arch_u32(const gt_gguf *g, const char *arch, const char *suffix) {
    char key[160];
    uint32_t v = 0;
    snprintf(key, sizeof key, "%s.%s", arch, suffix);
    if (gt_gguf_get_u32(g, key, &v, NULL)) return 0;
    return v;
}

static float arch_f32(const gt_gguf *g, const char *arch, const char *suffix) {
    char key[160];
    float v = 0;
    snprintf(key, sizeof key, "%s.%s", arch, suffix);
    if (gt_gguf_get_f32(g, key, &v, NULL)) return 0;
    return v;
}

static void usage_info(FILE *f) {
    fprintf(f, "usage: gotong model info MODEL.gguf [--json] [--tensors]\n"
               "Prints the architecture, shapes, tokenizer and tensor types of a GGUF model.\n");
}

/* What `model info` tells of a GGUF file. */
typedef struct model_summary {
    char arch[64], name[128], tmodel[32], tpre[64];
    uint64_t n_vocab, params, type_count[GT_TYPE_COUNT], type_bytes[GT_TYPE_COUNT];
    uint32_t dim, layers, heads, kv_heads, ff, ctx, rope_dims;
    float rope_base, eps;
} model_summary;

/* Reads g's metadata and tensor table into *m. */
static void summarise(const gt_gguf *g, model_summary *m) {
    memset(m, 0, sizeof *m);
    gt_gguf_str s;
    if (!gt_gguf_get_str(g, "general.architecture", &s, NULL)) cstr(s, m->arch, sizeof m->arch);
    if (!gt_gguf_get_str(g, "general.name", &s, NULL)) cstr(s, m->name, sizeof m->name);
    if (!gt_gguf_get_str(g, "tokenizer.ggml.model", &s, NULL)) cstr(s, m->tmodel, sizeof m->tmodel);
    if (!gt_gguf_get_str(g, "tokenizer.ggml.pre", &s, NULL)) cstr(s, m->tpre, sizeof m->tpre);
    const gt_gguf_kv *tk = gt_gguf_find(g, "tokenizer.ggml.tokens");
    m->n_vocab = tk && tk->type == GT_GGUF_ARRAY ? tk->arr_len : 0;
    const char *arch = m->arch;
    m->dim = arch_u32(g, arch, "embedding_length"), m->layers = arch_u32(g, arch, "block_count");
    m->heads = arch_u32(g, arch, "attention.head_count");
    m->kv_heads = arch_u32(g, arch, "attention.head_count_kv");
    m->ff = arch_u32(g, arch, "feed_forward_length"), m->ctx = arch_u32(g, arch, "context_length");
    m->rope_dims = arch_u32(g, arch, "rope.dimension_count");
    m->rope_base = arch_f32(g, arch, "rope.freq_base");
    m->eps = arch_f32(g, arch, "attention.layer_norm_rms_epsilon");
    if (!m->kv_heads) m->kv_heads = m->heads; /* llama.cpp's default */
    for (uint64_t i = 0; i < g->n_tensors; i++) {
        const gt_gguf_tensor *t = &g->tensors[i];
        m->params += t->ne[0] * t->ne[1] * t->ne[2] * t->ne[3];
        m->type_count[t->type]++;
        m->type_bytes[t->type] += t->nbytes;
    }
}

/* The tensor table as a JSON array (name, type, shape, bytes, offset). */
static json_t *tensors_json(const gt_gguf *g) {
    json_t *arr = json_array();
    for (uint64_t i = 0; i < g->n_tensors; i++) {
        const gt_gguf_tensor *t = &g->tensors[i];
        char nm[GT_GGUF_MAX_NAME + 1];
        json_t *shape = json_array();
        for (uint32_t d = 0; d < t->n_dims; d++) json_array_append_new(shape, json_integer((json_int_t)t->ne[d]));
        json_array_append_new(arr, json_pack("{s:s, s:s, s:o, s:I, s:I}", "name", cstr(t->name, nm, sizeof nm),
                                             "type", gt_ggml_type_name(t->type), "shape", shape, "bytes",
                                             (json_int_t)t->nbytes, "offset", (json_int_t)t->offset));
    }
    return arr;
}

/* `model info --json`: prints the summary (and the tensors) as one object. */
static int info_json(const char *path, const gt_gguf *g, const model_summary *m, int tensors) {
    json_t *o = json_object(), *types = json_object();
    json_object_set_new(o, "file", gt_json_text_lossy(path, strlen(path)));
    json_object_set_new(o, "file_bytes", json_integer((json_int_t)g->size));
    json_object_set_new(o, "gguf_version", json_integer(g->version));
    json_object_set_new(o, "architecture", gt_json_text_lossy(m->arch, strlen(m->arch)));
    json_object_set_new(o, "name", gt_json_text_lossy(m->name, strlen(m->name)));
    json_object_set_new(o, "dim", json_integer(m->dim));
    json_object_set_new(o, "layers", json_integer(m->layers));
    json_object_set_new(o, "heads", json_integer(m->heads));
    json_object_set_new(o, "kv_heads", json_integer(m->kv_heads));
    json_object_set_new(o, "ff", json_integer(m->ff));
    json_object_set_new(o, "context", json_integer(m->ctx));
    json_object_set_new(o, "rope_base", json_real(m->rope_base));
    json_object_set_new(o, "rope_dims", json_integer(m->rope_dims));
    json_object_set_new(o, "rms_eps", json_real(m->eps));
    json_object_set_new(o, "vocab_size", json_integer((json_int_t)m->n_vocab));
    json_object_set_new(o, "tokenizer_model", gt_json_text_lossy(m->tmodel, strlen(m->tmodel)));
    json_object_set_new(o, "tokenizer_pre", gt_json_text_lossy(m->tpre, strlen(m->tpre)));
    json_object_set_new(o, "tensor_count", json_integer((json_int_t)g->n_tensors));
    json_object_set_new(o, "params", json_integer((json_int_t)m->params));
    for (uint32_t t = 0; t < GT_TYPE_COUNT; t++)
        if (m->type_count[t])
            json_object_set_new(types, gt_ggml_type_name(t), json_integer((json_int_t)m->type_count[t]));
    json_object_set_new(o, "tensor_types", types);
    if (tensors) json_object_set_new(o, "tensors", tensors_json(g));
    return gt_cli_json_out(o);
}

/* `model info`: prints the summary (and the tensors) for people. */
static void info_text(const char *path, const gt_gguf *g, const model_summary *m, int tensors) {
    printf("file          %s (%.1f MiB, GGUF v%" PRIu32 ")\n", path, (double)g->size / 1048576.0, g->version);
    printf("architecture  %s%s%s%s\n", m->arch[0] ? m->arch : "(none)", m->name[0] ? " \"" : "", m->name,
           m->name[0] ? "\"" : "");
    printf("dim           %" PRIu32 "\nlayers        %" PRIu32 "\nheads         %" PRIu32 "\nkv heads      %" PRIu32
           "\nff            %" PRIu32 "\n",
           m->dim, m->layers, m->heads, m->kv_heads, m->ff);
    printf("rope          base %g, %" PRIu32 " dims\ncontext       %" PRIu32 "\n", m->rope_base, m->rope_dims, m->ctx);
    printf("vocab         %" PRIu64 " tokens, tokenizer %s%s%s\n", m->n_vocab, m->tmodel[0] ? m->tmodel : "(none)",
           m->tpre[0] ? ", pre " : "", m->tpre);
    printf("params        %" PRIu64 " (%.1f M)\n", m->params, (double)m->params / 1e6);
    printf("tensors       %" PRIu64 ":", g->n_tensors);
    for (uint32_t t = 0; t < GT_TYPE_COUNT; t++)
        if (m->type_count[t])
            printf(" %s x%" PRIu64 " (%.1f MiB)", gt_ggml_type_name(t), m->type_count[t],
                   (double)m->type_bytes[t] / 1048576.0);
    printf("\n");
    for (uint64_t i = 0; tensors && i < g->n_tensors; i++) {
        const gt_gguf_tensor *t = &g->tensors[i];
        char shape[96] = "";
        size_t o = 0;
        for (uint32_t d = 0; d < t->n_dims; d++)
            o += (size_t)snprintf(shape + o, sizeof shape - o, "%s%" PRIu64, d ? " x " : "", t->ne[d]);
        printf("  %-32.*s %-6s %-22s %10" PRIu64 " bytes\n", (int)t->name.len, t->name.ptr,
               gt_ggml_type_name(t->type), shape, t->nbytes);
    }
}

static int cmd_info(int argc, char **argv) {
    const char *path = NULL;
    int json = 0, tensors = 0, n_pos = 0;
    const gt_cli_opt opts[] = {
        {"--json", NULL, GT_CLI_OPT_FLAG, &json, 0, 0, NULL},
        {"--tensors", NULL, GT_CLI_OPT_FLAG, &tensors, 0, 0, NULL},
        {NULL, NULL, 0, NULL, 0, 0, NULL}};
    int rc = gt_cli_parse("model info", argc, argv, 1, opts, &path, 1, &n_pos, usage_info);
    if (rc >= 0) return rc;
    if (!path) return gt_cli_usage_error("model info", "MODEL.gguf is missing");
    gt_err err = {0};
    gt_gguf *g = NULL;
    if (gt_gguf_open(path, &g, &err)) return gt_cli_fail(&err);
    model_summary m;
    summarise(g, &m);
    if (json) rc = info_json(path, g, &m, tensors);
    else info_text(path, g, &m, tensors), rc = 0;
    gt_gguf_close(g);
    return rc;
}

/* ---- model random ---------------------------------------------------------- */

/* splitmix64: seeds and per-row generator state. */
static uint64_t splitmix(uint64_t *s) {
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* n normal(0, std) values from state s (Box-Muller on 53-bit uniforms). The
 * transcendentals are dmath's fixed sequences, not libm's, so that the same
 * options write the same file on every machine (a model's hash names it). */
static void fill_normal(uint64_t s, float *out, int64_t n, float std) {
    for (int64_t i = 0; i < n; i += 2) {
        double u1 = ((double)(splitmix(&s) >> 11) + 1.0) * 0x1p-53; /* (0, 1] */
        double u2 = (double)(splitmix(&s) >> 11) * 0x1p-53;
        double r = sqrt(-2.0 * gt_dmath_log(u1)) * std;
        out[i] = (float)(r * gt_dmath_cos(6.283185307179586 * u2));
        if (i + 1 < n) out[i + 1] = (float)(r * gt_dmath_sin(6.283185307179586 * u2));
    }
}

/* FILL_NEAR_ONE: 1 + normal(0, S) (norm weights of the newer architectures,
 * so that their multiplication is checked); FILL_ROPE_FREQS: Llama 3's rope
 * frequency factors (rope_freqs_llama3); FILL_ROPE_LONG / FILL_ROPE_SHORT:
 * LongRoPE's divisors, rising over the frequencies as Phi-3.5's do (1 to
 * 1 + 0.5 i long, 1 to 1 + 0.05 i short; made up, shaped alike). */
enum { FILL_NORMAL, FILL_ONES, FILL_NEAR_ONE, FILL_ROPE_FREQS, FILL_ROPE_LONG, FILL_ROPE_SHORT };

/* What one tensor is filled with, and the job state while it is. */
typedef struct rand_tensor {
    char name[64];
    uint32_t n_dims, type;
    uint64_t ne[2];
    int kind;
    uint64_t seed;
    /* during a fill */
    uint8_t *dst;
    size_t row_bytes;
    float *scratch; /* one row per thread */
    struct rand_model *model;
} rand_tensor;

typedef struct rand_model {
    gt_pool *pool;
    gt_progress progress;
    uint64_t done;
    float weight_std;          /* standard deviation of the normal weights */
    double rope_base, llama3_ctx; /* for FILL_ROPE_FREQS */
    uint32_t rope_dims;
} rand_model;

/* Llama 3.1's rope scaling as its converter turns it into rope_freqs (factor
 * 8, low/high frequency factors 1 and 4, original context old_ctx: 8192 in
 * Llama 3.1; tests use a short one so that the factors act within their
 * prompts): factor i divides the angle of frequency base^(-2i/dims): 1 for
 * wavelengths under old_ctx/4, 8 over old_ctx, interpolated between. Written
 * data, but the same file on every machine: dmath's pow, not libm's. */
static float rope_freqs_llama3(double base, uint32_t dims, double old_ctx, uint32_t i) {
    const double factor = 8.0, lo = 1.0, hi = 4.0;
    double freq = 1.0 / gt_dmath_pow(base, (double)(2 * i) / dims), wavelen = 2.0 * 3.141592653589793 / freq;
    if (wavelen < old_ctx / hi) return 1.0f;
    if (wavelen > old_ctx / lo) return (float)factor;
    double smooth = (old_ctx / wavelen - lo) / (hi - lo);
    return (float)(1.0 / ((1.0 - smooth) / factor + smooth));
}

/* Fills rows ith, ith+nth, ... of the tensor (each row from its own seed). */
static void fill_rows(void *arg, int ith, int nth) {
    rand_tensor *t = arg;
    float *row = t->scratch + (size_t)ith * t->ne[0];
    for (uint64_t r = (uint64_t)ith; r < t->ne[1]; r += (uint64_t)nth) {
        if (t->kind == FILL_ONES) {
            for (uint64_t j = 0; j < t->ne[0]; j++) row[j] = 1.0f;
        } else if (t->kind == FILL_ROPE_LONG || t->kind == FILL_ROPE_SHORT) {
            for (uint64_t j = 0; j < t->ne[0]; j++)
                row[j] = 1.0f + (t->kind == FILL_ROPE_LONG ? 0.5f : 0.05f) * (float)j;
        } else if (t->kind == FILL_ROPE_FREQS) {
            for (uint64_t j = 0; j < t->ne[0]; j++)
                row[j] = rope_freqs_llama3(t->model->rope_base, t->model->rope_dims, t->model->llama3_ctx,
                                           (uint32_t)j);
        } else {
            uint64_t s = t->seed ^ (r * 0xd1b54a32d192ed03ull);
            fill_normal(splitmix(&s), row, (int64_t)t->ne[0], t->model->weight_std);
            if (t->kind == FILL_NEAR_ONE)
                for (uint64_t j = 0; j < t->ne[0]; j++) row[j] += 1.0f;
        }
        int rc = gt_quantize_row(t->type, row, t->dst + r * t->row_bytes, (int64_t)t->ne[0]);
        (void)rc;
    }
}

/* The writer's callback: generates the tensor into dst. */
static int fill_tensor(void *ctx, void *dst, size_t nbytes, gt_err *err) {
    rand_tensor *t = ctx;
    int nth = gt_pool_size(t->model->pool);
    t->dst = dst;
    t->row_bytes = gt_ggml_row_bytes(t->type, t->ne[0]);
    if (t->row_bytes * t->ne[1] != nbytes)
        return gt_err_set(err, GT_EINVAL, "internal: size of %s", t->name);
    t->scratch = gt_malloc((size_t)nth * t->ne[0] * sizeof(float));
    if (!t->scratch) return gt_err_set(err, GT_ENOMEM, "out of memory generating %s", t->name);
    gt_pool_run(t->model->pool, fill_rows, t);
    gt_free(t->scratch);
    t->scratch = NULL;
    t->model->done += t->ne[0] * t->ne[1];
    gt_progress_update(&t->model->progress, t->model->done);
    return 0;
}

/* The tensors of a random model being listed. */
typedef struct rand_list {
    rand_tensor *t;
    size_t n;
    uint64_t total; /* elements */
    uint32_t seed;
    rand_model *model;
} rand_list;

/* Appends a d0 x d1 tensor (d1 == 1: a vector) whose seed derives from the
 * model seed and the tensor's name. */
static int add_rand(rand_list *L, const char *name, uint64_t d0, uint64_t d1, uint32_t type,
                    int kind) {
    rand_tensor *t = &L->t[L->n++];
    snprintf(t->name, sizeof t->name, "%s", name);
    t->ne[0] = d0;
    t->ne[1] = d1;
    t->n_dims = d1 > 1 ? 2 : 1;
    t->type = type;
    t->kind = kind;
    t->model = L->model;
    uint64_t s = (uint64_t)L->seed * 0x9e3779b97f4a7c15ull;
    for (const char *c = t->name; *c; c++) s = (s ^ (uint8_t)*c) * 0x100000001b3ull;
    t->seed = splitmix(&s);
    L->total += d0 * d1;
    return 0;
}

static void usage_random(FILE *f) {
    fprintf(f,
            "usage: gotong model random --like VOCAB.gguf --arch llama|qwen2|qwen3|gemma3|phi3 --dim D\n"
            "         --layers L --heads H --kv-heads K --ff F [--type TYPE] [--seed S]\n"
            "         [--ctx N] [--rope-base B] [--tied|--untied] [--output-type TYPE]\n"
            "         [--head-dim N] [--llama3-rope CTX] [--rope-linear F] [--swa N] [--swa-pattern P]\n"
            "         [--softcap C] [--longrope CTX] [--no-space-prefix] [--std S] [--threads T]\n"
            "         -o|--out OUT.gguf\n"
            "Writes a model with seeded random weights (normal(0, S), S %.2f by default;\n"
            "norms 1) and the vocabulary of VOCAB.gguf, in the layout llama.cpp loads.\n"
            "qwen2 gets q/k/v biases and tied embeddings unless --untied; llama gets\n"
            "output.weight unless --tied, in --output-type (default: --type), as\n"
            "llama.cpp's presets mix types. qwen3 gets per-head q/k norms; gemma3 also its\n"
            "post-attention/FFN norms, tied embeddings, --swa N (a sliding window of N\n"
            "positions on all but every --swa-pattern-th layer, default 6; local rope base\n"
            "10000) and --softcap C (final logit soft-capping). Norm weights of qwen3 and\n"
            "gemma3 are 1 + normal(0, S). phi3 fuses attn_qkv and gate|up (ffn_up).\n"
            "--head-dim sets attention.key_length (default dim/heads); --llama3-rope CTX\n"
            "writes Llama 3.1's rope_freqs (factor 8, low/high 1/4, original context CTX:\n"
            "8192 in Llama 3.1); --rope-linear F: linear rope scaling by F. --longrope CTX\n"
            "(phi3): LongRoPE as Phi-3.5's converter writes it, long and short factor\n"
            "tensors, original context CTX and its attention factor.\n"
            "--no-space-prefix: tokenizer.ggml.add_space_prefix false (Gemma's SentencePiece).\n"
            "TYPE: q8_0, q4_0, q4_k, q5_k, q6_k, f16, bf16, f32, or the mixes q4_k_m and\n"
            "q5_k_m (llama.cpp's Q4_K_M/Q5_K_M choices: attn_v and ffn_down in q6_k on the\n"
            "first and last eighth of the layers and every third between, output in q6_k).\n"
            "Defaults: --type q8_0 --seed 1 --ctx 2048, rope base 10000 (llama, phi3) / 1000000 (others).\n",
            (double)MODEL_WEIGHT_STD);
}

/* What `gotong model random` makes: the options, checked. */
typedef struct random_opts {
    const char *like, *arch, *outp, *type_s, *out_type_s;
    uint32_t dim, layers, heads, kv_heads, ff, seed, ctx, threads, type, out_type;
    uint32_t head_dim, swa, swa_pattern;
    float rope_base, weight_std, rope_linear, softcap;
    uint32_t llama3_rope;      /* --llama3-rope: original context, 0 without */
    uint32_t longrope;         /* --longrope: original context, 0 without */
    int tied, qwen2, qwen3, gemma3, phi3, no_space_prefix;
    int mix;                   /* --type q4_k_m / q5_k_m: llama.cpp's per-tensor choices */
} random_opts;

/* Parses a weight type name for `model random`'s option opt; on a bad name
 * prints the usage error and returns its code. *mix (may be NULL: no mix
 * allowed) is set for the K-quant mixes q4_k_m / q5_k_m. */
static int random_type(const char *opt, const char *name, uint32_t *out, int *mix) {
    int m = 0;
    if (mix && (!strcasecmp(name, "q4_k_m") || !strcasecmp(name, "q5_k_m"))) {
        m = 1;
        *out = name[1] == '4' ? GT_TYPE_Q4_K : GT_TYPE_Q5_K;
    } else if (!strcasecmp(name, "q4_k")) *out = GT_TYPE_Q4_K;
    else if (!strcasecmp(name, "q5_k")) *out = GT_TYPE_Q5_K;
    else if (!strcasecmp(name, "q6_k")) *out = GT_TYPE_Q6_K;
    else if (!strcmp(name, "q8_0")) *out = GT_TYPE_Q8_0;
    else if (!strcmp(name, "q4_0")) *out = GT_TYPE_Q4_0;
    else if (!strcmp(name, "f16")) *out = GT_TYPE_F16;
    else if (!strcmp(name, "bf16")) *out = GT_TYPE_BF16;
    else if (!strcmp(name, "f32")) *out = GT_TYPE_F32;
    else return gt_cli_usage_error("model random", "%s must be q8_0, q4_0, q4_k, q5_k, q6_k, f16, bf16 or f32%s, "
                                   "not \"%s\"", opt, mix ? " (or q4_k_m, q5_k_m)" : "", name);
    if (mix) *mix = m;
    return 0;
}

/* llama.cpp's Q4_K_M/Q5_K_M rule for attn_v and ffn_down: more bits on the
 * first and last eighth of the layers and on every third layer between. */
static int more_bits_layer(uint32_t il, uint32_t n_layer) {
    return il < n_layer / 8 || il >= 7 * n_layer / 8 || (il - n_layer / 8) % 3 == 2;
}

/* Checks the shape: architecture, type, heads dividing the width, block
 * sizes; fills the defaults that depend on the architecture. */
static int check_random_opts(random_opts *o) {
    if (!o->like || !o->arch || !o->outp || !o->dim || !o->layers || !o->heads || !o->ff)
        return gt_cli_usage_error("model random", "--like, --arch, --dim, --layers, --heads, --ff "
                                  "and -o are required");
    const gt_cli_input in[] = {{"--like", o->like}};
    if (gt_cli_check_out("model random", "-o", o->outp, in, 1)) return GT_CLI_EXIT_USAGE;
    o->qwen2 = !strcmp(o->arch, "qwen2");
    o->qwen3 = !strcmp(o->arch, "qwen3");
    o->gemma3 = !strcmp(o->arch, "gemma3");
    o->phi3 = !strcmp(o->arch, "phi3");
    if (!o->qwen2 && !o->qwen3 && !o->gemma3 && !o->phi3 && strcmp(o->arch, "llama"))
        return gt_cli_usage_error("model random", "--arch must be llama, qwen2, qwen3, gemma3 or phi3, not \"%s\"",
                                  o->arch);
    if ((o->llama3_rope && strcmp(o->arch, "llama")) || ((o->swa || o->softcap) && !o->gemma3) ||
        (o->longrope && !o->phi3))
        return gt_cli_usage_error("model random", "--llama3-rope is for llama, --swa and --softcap for gemma3, "
                                  "--longrope for phi3");
    if (random_type("--type", o->type_s, &o->type, &o->mix)) return GT_CLI_EXIT_USAGE;
    if (!o->out_type_s) o->out_type_s = o->mix ? "q6_k" : o->type_s;
    if (random_type("--output-type", o->out_type_s, &o->out_type, NULL)) return GT_CLI_EXIT_USAGE;
    if (!o->kv_heads) o->kv_heads = o->heads;
    if (!o->head_dim && o->dim % o->heads)
        return gt_cli_usage_error("model random", "--dim %u must split into --heads %u heads (or give --head-dim)",
                                  o->dim, o->heads);
    if (!o->head_dim) o->head_dim = o->dim / o->heads;
    if (o->head_dim % 2 || o->heads % o->kv_heads || (uint64_t)o->head_dim * o->heads > MODEL_MAX_DIM)
        return gt_cli_usage_error("model random", "--head-dim %u must be even, and --heads %u split into groups "
                                  "of --kv-heads %u", o->head_dim, o->heads, o->kv_heads);
    uint32_t be = gt_ggml_block_elems(o->type);
    if (o->dim % be || o->ff % be)
        return gt_cli_usage_error("model random", "%s needs --dim and --ff to be multiples of %u", o->type_s, be);
    if (o->dim % gt_ggml_block_elems(o->out_type))
        return gt_cli_usage_error("model random", "--output-type %s needs --dim to be a multiple of %u",
                                  o->out_type_s, gt_ggml_block_elems(o->out_type));
    if (o->tied < 0) o->tied = o->qwen2 || o->gemma3;
    if (!o->rope_base) o->rope_base = strcmp(o->arch, "llama") && !o->phi3 ? 1000000.0f : 10000.0f;
    if ((uint64_t)o->head_dim * o->heads % be)
        return gt_cli_usage_error("model random", "%s needs --heads x --head-dim to be a multiple of %u",
                                  o->type_s, be);
    return 0;
}

/* Parses and checks argv; -1 to go on, else the exit code. */
static int parse_random_opts(int argc, char **argv, random_opts *o) {
    *o = (random_opts){.type_s = "q8_0", .seed = 1, .ctx = 2048, .threads = (uint32_t)gt_cpu_count(), .tied = -1,
                       .weight_std = MODEL_WEIGHT_STD, .swa_pattern = 6};
    uint64_t dim = 0, layers = 0, heads = 0, kv_heads = 0, ff = 0, seed = o->seed, ctx = o->ctx, threads = o->threads;
    uint64_t head_dim = 0, llama3_rope = 0, longrope = 0, swa = 0, swa_pattern = o->swa_pattern;
    int tied = 0, untied = 0, rope_given = 0, linear_given = 0, softcap_given = 0;
    const gt_cli_opt opts[] = {
        {"--like", NULL, GT_CLI_OPT_STR, &o->like, 0, 0, NULL},
        {"--arch", NULL, GT_CLI_OPT_STR, &o->arch, 0, 0, NULL},
        {"--out", "-o", GT_CLI_OPT_STR, &o->outp, 0, 0, NULL},
        {"--type", NULL, GT_CLI_OPT_STR, &o->type_s, 0, 0, NULL},
        {"--output-type", NULL, GT_CLI_OPT_STR, &o->out_type_s, 0, 0, NULL},
        {"--dim", NULL, GT_CLI_OPT_U64, &dim, 32, MODEL_MAX_DIM, NULL},
        {"--layers", NULL, GT_CLI_OPT_U64, &layers, 1, MODEL_MAX_LAYERS, NULL},
        {"--heads", NULL, GT_CLI_OPT_U64, &heads, 1, MODEL_MAX_HEADS, NULL},
        {"--kv-heads", NULL, GT_CLI_OPT_U64, &kv_heads, 1, MODEL_MAX_HEADS, NULL},
        {"--ff", NULL, GT_CLI_OPT_U64, &ff, 32, MODEL_MAX_FF, NULL},
        {"--seed", NULL, GT_CLI_OPT_U64, &seed, 0, UINT32_MAX, NULL},
        {"--ctx", NULL, GT_CLI_OPT_U64, &ctx, 1, MODEL_MAX_CTX, NULL},
        {"--threads", NULL, GT_CLI_OPT_U64, &threads, 1, GT_POOL_MAX_THREADS, NULL},
        {"--rope-base", NULL, GT_CLI_OPT_FLOAT, &o->rope_base, 0, 0, &rope_given},
        {"--std", NULL, GT_CLI_OPT_FLOAT, &o->weight_std, 0, 0, NULL},
        {"--tied", NULL, GT_CLI_OPT_FLAG, &tied, 0, 0, NULL},
        {"--untied", NULL, GT_CLI_OPT_FLAG, &untied, 0, 0, NULL},
        {"--head-dim", NULL, GT_CLI_OPT_U64, &head_dim, 2, MODEL_MAX_DIM, NULL},
        {"--llama3-rope", NULL, GT_CLI_OPT_U64, &llama3_rope, 8, MODEL_MAX_CTX, NULL},
        {"--longrope", NULL, GT_CLI_OPT_U64, &longrope, 8, MODEL_MAX_CTX, NULL},
        {"--swa", NULL, GT_CLI_OPT_U64, &swa, 1, MODEL_MAX_CTX, NULL},
        {"--swa-pattern", NULL, GT_CLI_OPT_U64, &swa_pattern, 0, MODEL_MAX_LAYERS, NULL},
        {"--rope-linear", NULL, GT_CLI_OPT_FLOAT, &o->rope_linear, 0, 0, &linear_given},
        {"--softcap", NULL, GT_CLI_OPT_FLOAT, &o->softcap, 0, 0, &softcap_given},
        {"--no-space-prefix", NULL, GT_CLI_OPT_FLAG, &o->no_space_prefix, 0, 0, NULL},
        {NULL, NULL, 0, NULL, 0, 0, NULL}};
    int rc = gt_cli_parse("model random", argc, argv, 1, opts, NULL, 0, NULL, usage_random);
    if (rc >= 0) return rc;
    o->dim = (uint32_t)dim, o->layers = (uint32_t)layers, o->heads = (uint32_t)heads;
    o->kv_heads = (uint32_t)kv_heads, o->ff = (uint32_t)ff, o->seed = (uint32_t)seed, o->ctx = (uint32_t)ctx;
    o->threads = (uint32_t)threads, o->head_dim = (uint32_t)head_dim, o->llama3_rope = (uint32_t)llama3_rope;
    o->swa = (uint32_t)swa, o->swa_pattern = (uint32_t)swa_pattern, o->longrope = (uint32_t)longrope;
    if (linear_given && !(o->rope_linear >= 1.0f && o->rope_linear <= 1e4f))
        return gt_cli_usage_error("model random", "--rope-linear: expected a number in [1, 10000], got %g",
                                  (double)o->rope_linear);
    if (softcap_given && !(o->softcap >= 1.0f && o->softcap <= 1e4f))
        return gt_cli_usage_error("model random", "--softcap: expected a number in [1, 10000], got %g",
                                  (double)o->softcap);
    if (tied && untied) return gt_cli_usage_error("model random", "--tied or --untied, not both");
    if (tied || untied) o->tied = tied;
    if (rope_given && !(o->rope_base > 1.0f && isfinite(o->rope_base)))
        return gt_cli_usage_error("model random", "--rope-base: expected a number above 1, got %g",
                                  (double)o->rope_base);
    if (!(o->weight_std > 0.0f && o->weight_std <= 1.0f))
        return gt_cli_usage_error("model random", "--std: expected a number in (0, 1], got %g", (double)o->weight_std);
    return check_random_opts(o) ? GT_CLI_EXIT_USAGE : -1;
}

/* The model's metadata as llama.cpp names it, and the vocabulary's
 * tokenizer.* keys copied from vg. */
static void write_random_metadata(gt_gguf_writer *w, const random_opts *o, uint64_t n_vocab, const gt_gguf *vg) {
    char key[128], name[128];
    const char *arch = o->arch;
#define AKEY(suffix) (snprintf(key, sizeof key, "%s.%s", arch, suffix), key)
    gt_gguf_writer_set_str(w, "general.architecture", arch);
    snprintf(name, sizeof name, "random-%s-%ux%u-%s", arch, o->dim, o->layers, o->type_s);
    gt_gguf_writer_set_str(w, "general.name", name);
    gt_gguf_writer_set_u32(w, AKEY("context_length"), o->ctx);
    gt_gguf_writer_set_u32(w, AKEY("embedding_length"), o->dim);
    gt_gguf_writer_set_u32(w, AKEY("block_count"), o->layers);
    gt_gguf_writer_set_u32(w, AKEY("feed_forward_length"), o->ff);
    gt_gguf_writer_set_u32(w, AKEY("attention.head_count"), o->heads);
    gt_gguf_writer_set_u32(w, AKEY("attention.head_count_kv"), o->kv_heads);
    gt_gguf_writer_set_f32(w, AKEY("attention.layer_norm_rms_epsilon"), strcmp(arch, "llama") ? 1e-6f : 1e-5f);
    gt_gguf_writer_set_f32(w, AKEY("rope.freq_base"), o->rope_base);
    gt_gguf_writer_set_u32(w, AKEY("rope.dimension_count"), o->head_dim);
    if (o->head_dim != o->dim / o->heads || o->dim % o->heads) {
        gt_gguf_writer_set_u32(w, AKEY("attention.key_length"), o->head_dim);
        gt_gguf_writer_set_u32(w, AKEY("attention.value_length"), o->head_dim);
    }
    if (o->rope_linear) {
        gt_gguf_writer_set_str(w, AKEY("rope.scaling.type"), "linear");
        gt_gguf_writer_set_f32(w, AKEY("rope.scaling.factor"), o->rope_linear);
    }
    if (o->swa) {
        gt_gguf_writer_set_u32(w, AKEY("attention.sliding_window"), o->swa);
        gt_gguf_writer_set_u32(w, AKEY("attention.sliding_window_pattern"), o->swa_pattern);
        gt_gguf_writer_set_f32(w, AKEY("rope.freq_base_swa"), 10000.0f);
    }
    if (o->softcap) gt_gguf_writer_set_f32(w, AKEY("final_logit_softcapping"), o->softcap);
    if (o->longrope) { /* the converter's factor: sqrt(1 + ln(scale) / ln(original)), 1 when not longer */
        double scale = (double)o->ctx / o->longrope;
        double factor = scale > 1.0 ? sqrt(1.0 + gt_dmath_log(scale) / gt_dmath_log((double)o->longrope)) : 1.0;
        gt_gguf_writer_set_u32(w, AKEY("rope.scaling.original_context_length"), o->longrope);
        gt_gguf_writer_set_f32(w, AKEY("rope.scaling.attn_factor"), (float)factor);
    }
    gt_gguf_writer_set_u32(w, AKEY("vocab_size"), (uint32_t)n_vocab);
    gt_gguf_writer_set_u32(w, "general.quantization_version", 2);
    uint32_t t = o->type;
    uint32_t ftype = t == GT_TYPE_F32 ? 0 : t == GT_TYPE_F16 ? 1 : t == GT_TYPE_Q4_0 ? 2
                   : t == GT_TYPE_Q8_0 ? 7 : t == GT_TYPE_Q4_K ? 14 + (uint32_t)o->mix
                   : t == GT_TYPE_Q5_K ? 16 + (uint32_t)o->mix : t == GT_TYPE_Q6_K ? 18 : 32; /* llama_ftype numbering */
    gt_gguf_writer_set_u32(w, "general.file_type", ftype);
#undef AKEY
    for (uint64_t i = 0; i < vg->n_kv; i++)
        if (vg->kv[i].key.len > 10 && !memcmp(vg->kv[i].key.ptr, "tokenizer.", 10))
            gt_gguf_writer_copy_kv(w, &vg->kv[i]);
    if (o->no_space_prefix) gt_gguf_writer_set_bool(w, "tokenizer.ggml.add_space_prefix", 0);
}

/* The tensors, in llama.cpp's names and order; ne[0] is the input dimension. */
static void add_random_tensors(rand_list *L, const random_opts *o, uint64_t n_vocab) {
    uint32_t dim = o->dim, ff = o->ff, type = o->type, kv_dim = o->head_dim * o->kv_heads;
    uint32_t q_dim = o->head_dim * o->heads, hd = o->head_dim;
    int norm = o->qwen3 || o->gemma3 ? FILL_NEAR_ONE : FILL_ONES;
    add_rand(L, "token_embd.weight", dim, n_vocab, type, FILL_NORMAL);
    add_rand(L, "output_norm.weight", dim, 1, GT_TYPE_F32, norm);
    if (!o->tied) add_rand(L, "output.weight", dim, n_vocab, o->out_type, FILL_NORMAL);
    if (o->llama3_rope) add_rand(L, "rope_freqs.weight", hd / 2, 1, GT_TYPE_F32, FILL_ROPE_FREQS);
    if (o->longrope) {
        add_rand(L, "rope_factors_long.weight", hd / 2, 1, GT_TYPE_F32, FILL_ROPE_LONG);
        add_rand(L, "rope_factors_short.weight", hd / 2, 1, GT_TYPE_F32, FILL_ROPE_SHORT);
    }
    for (uint32_t l = 0; l < o->layers; l++) {
        char nm[64];
#define BLK(suffix, d0, d1, ty, kd) \
    (snprintf(nm, sizeof nm, "blk.%u.%s", l, suffix), add_rand(L, nm, d0, d1, ty, kd))
        BLK("attn_norm.weight", dim, 1, GT_TYPE_F32, norm);
        uint32_t more = o->mix && more_bits_layer(l, o->layers) ? GT_TYPE_Q6_K : type;
        if (o->phi3) BLK("attn_qkv.weight", dim, q_dim + 2 * kv_dim, type, FILL_NORMAL);
        else {
            BLK("attn_q.weight", dim, q_dim, type, FILL_NORMAL);
            BLK("attn_k.weight", dim, kv_dim, type, FILL_NORMAL);
            BLK("attn_v.weight", dim, kv_dim, more, FILL_NORMAL);
        }
        if (o->qwen2) {
            BLK("attn_q.bias", q_dim, 1, GT_TYPE_F32, FILL_NORMAL);
            BLK("attn_k.bias", kv_dim, 1, GT_TYPE_F32, FILL_NORMAL);
            BLK("attn_v.bias", kv_dim, 1, GT_TYPE_F32, FILL_NORMAL);
        }
        if (o->qwen3 || o->gemma3) {
            BLK("attn_q_norm.weight", hd, 1, GT_TYPE_F32, FILL_NEAR_ONE);
            BLK("attn_k_norm.weight", hd, 1, GT_TYPE_F32, FILL_NEAR_ONE);
        }
        BLK("attn_output.weight", q_dim, dim, type, FILL_NORMAL);
        if (o->gemma3) BLK("post_attention_norm.weight", dim, 1, GT_TYPE_F32, FILL_NEAR_ONE);
        BLK("ffn_norm.weight", dim, 1, GT_TYPE_F32, norm);
        if (!o->phi3) BLK("ffn_gate.weight", dim, ff, type, FILL_NORMAL);
        BLK("ffn_up.weight", dim, o->phi3 ? 2 * ff : ff, type, FILL_NORMAL);
        BLK("ffn_down.weight", ff, dim, more, FILL_NORMAL);
        if (o->gemma3) BLK("post_ffw_norm.weight", dim, 1, GT_TYPE_F32, FILL_NEAR_ONE);
#undef BLK
    }
}

/* The vocabulary size of --like, checked loadable (we, and so llama.cpp, can
 * tokenize with it). *vg stays open for its tokenizer keys. */
static int load_like(const char *like, gt_gguf **vg, uint64_t *n_vocab, gt_err *err) {
    gt_tokenizer *tok = NULL;
    int rc = gt_gguf_open(like, vg, err);
    if (!rc && (rc = gt_tokenizer_load(*vg, &tok, err))) gt_err_wrap(err, "--like %s", like);
    if (!rc) *n_vocab = (uint64_t)gt_tokenizer_n_vocab(tok);
    gt_tokenizer_free(tok);
    return rc;
}

/* `gotong model random`: a random-weight model with a real vocabulary. */
static int cmd_random(int argc, char **argv) {
    random_opts o;
    int rc = parse_random_opts(argc, argv, &o);
    if (rc >= 0) return rc;
    gt_err err = {0};
    gt_gguf *vg = NULL;
    uint64_t n_vocab = 0;
    if (load_like(o.like, &vg, &n_vocab, &err)) {
        gt_gguf_close(vg);
        return gt_cli_fail(&err);
    }
    gt_gguf_writer *w = gt_gguf_writer_new();
    write_random_metadata(w, &o, n_vocab, vg);
    size_t max_t = 6 + (size_t)o.layers * 16;
    rand_tensor *ts = gt_calloc(max_t, sizeof *ts);
    rand_model m = {.weight_std = o.weight_std, .rope_base = o.rope_base, .rope_dims = o.head_dim,
                    .llama3_ctx = o.llama3_rope};
    m.pool = gt_pool_new((int)o.threads);
    if (!ts || !m.pool) {
        gt_free(ts);
        gt_pool_free(m.pool);
        gt_gguf_writer_free(w);
        gt_gguf_close(vg);
        gt_err_set(&err, GT_ENOMEM, "out of memory");
        return gt_cli_fail(&err);
    }
    rand_list L = {ts, 0, 0, o.seed, &m};
    add_random_tensors(&L, &o, n_vocab);
    assert(L.n <= max_t);
    for (size_t i = 0; i < L.n; i++)
        gt_gguf_writer_add_tensor_fill(w, ts[i].name, ts[i].n_dims, ts[i].ne, ts[i].type, fill_tensor, &ts[i]);
    gt_progress_start(&m.progress, "writing", L.total);
    double t0 = gt_now_s();
    rc = gt_gguf_writer_write(w, o.outp, &err);
    gt_progress_finish(&m.progress);
    gt_gguf_writer_free(w);
    gt_pool_free(m.pool);
    gt_free(ts);
    gt_gguf_close(vg);
    if (rc) return gt_cli_fail(&err);
    struct stat st;
    stat(o.outp, &st);
    fprintf(stderr, "wrote %s: %s, %" PRIu64 " params (%.1f M), %s, %.1f MiB in %.1f s\n", o.outp, o.arch, L.total,
            (double)L.total / 1e6, o.type_s, (double)st.st_size / 1048576.0, gt_now_s() - t0);
    return 0;
}

/* Most model files one `model list` looks at in one directory. */
#define MODEL_LIST_MAX 1024
#define MODEL_LIST_MAX_DIRS 16 /* directories one `model list` names */

static void usage_list(FILE *f) {
    fprintf(f, "usage: gotong model list [DIR...] [--home DIR] [--json]\n"
               "Lists the GGUF models (*.gguf) in each DIR (default HOME/models): file, architecture,\n"
               "name, parameters and size. A file that does not read as GGUF is listed with why.\n");
}

static int by_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* One model file as a JSON object (its parse error in "error" if any). */
static json_t *model_entry(const char *path) {
    gt_err err = {0};
    gt_gguf *g = NULL;
    json_t *o = json_pack("{s:o}", "file", gt_json_text_lossy(path, strlen(path)));
    if (gt_gguf_open(path, &g, &err)) {
        json_object_set_new(o, "error", gt_json_text_lossy(err.msg, strlen(err.msg)));
        return o;
    }
    char arch[64] = "", name[128] = "";
    gt_gguf_str s;
    if (!gt_gguf_get_str(g, "general.architecture", &s, NULL)) cstr(s, arch, sizeof arch);
    if (!gt_gguf_get_str(g, "general.name", &s, NULL)) cstr(s, name, sizeof name);
    uint64_t params = 0;
    for (uint64_t i = 0; i < g->n_tensors; i++) {
        const gt_gguf_tensor *t = &g->tensors[i];
        params += t->ne[0] * t->ne[1] * t->ne[2] * t->ne[3];
    }
    json_object_set_new(o, "architecture", gt_json_text_lossy(arch, strlen(arch)));
    json_object_set_new(o, "name", gt_json_text_lossy(name, strlen(name)));
    json_object_set_new(o, "params", json_integer((json_int_t)params));
    json_object_set_new(o, "bytes", json_integer((json_int_t)g->size));
    gt_gguf_close(g);
    return o;
}

/* Appends the *.gguf files of dir (sorted) to arr. A missing dir is an
 * error, except the default one (optional: a new home has none), which
 * lists nothing. Past MODEL_LIST_MAX files the rest are left out, said on
 * stderr, so a listing never passes for whole when it is not. */
static int list_dir(const char *dir, int optional, json_t *arr, gt_err *err) {
    DIR *d = opendir(dir);
    if (!d && optional && errno == ENOENT) return 0;
    if (!d)
        return gt_err_set(err, GT_ENOTFOUND, "cannot list %s: %s (expected a directory of GGUF files)", dir,
                          strerror(errno));
    char *names[MODEL_LIST_MAX];
    size_t n = 0, more = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t len = strlen(e->d_name);
        if (len <= 5 || strcmp(e->d_name + len - 5, ".gguf")) continue;
        char *name = n < MODEL_LIST_MAX ? gt_strdup(e->d_name) : NULL;
        if (name) names[n++] = name;
        else more++;
    }
    closedir(d);
    if (more)
        fprintf(stderr, "warning: %zu *.gguf files of %s left out: at most %d are listed\n", more, dir,
                MODEL_LIST_MAX);
    qsort(names, n, sizeof names[0], by_str);
    for (size_t i = 0; i < n; i++) {
        char path[4400];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        json_array_append_new(arr, model_entry(path));
        gt_free(names[i]);
    }
    return 0;
}

/* `gotong model list`: the models in HOME/models or the given directories. */
static int cmd_list(int argc, char **argv) {
    const char *dirs[MODEL_LIST_MAX_DIRS], *home_opt = NULL;
    int n_dirs = 0, json = 0;
    const gt_cli_opt opts[] = {
        {"--home", NULL, GT_CLI_OPT_STR, &home_opt, 0, 0, NULL},
        {"--json", NULL, GT_CLI_OPT_FLAG, &json, 0, 0, NULL},
        {NULL, NULL, 0, NULL, 0, 0, NULL}};
    int rc = gt_cli_parse("model list", argc, argv, 1, opts, dirs, MODEL_LIST_MAX_DIRS, &n_dirs, usage_list);
    if (rc >= 0) return rc;
    gt_err err = {0};
    char home[4096], models[4200];
    if (!n_dirs) {
        if (gt_cli_home(home_opt, home, sizeof home, &err)) return gt_cli_fail(&err);
        snprintf(models, sizeof models, "%s/models", home);
        dirs[n_dirs++] = models;
    }
    json_t *arr = json_array();
    for (int i = 0; i < n_dirs; i++) /* dirs[0] is the default one when no DIR was named */
        if (list_dir(dirs[i], dirs[i] == models, arr, &err)) return json_decref(arr), gt_cli_fail(&err);
    if (json) return gt_cli_json_out(arr);
    size_t i;
    json_t *m;
    if (!json_array_size(arr)) printf("no models (*.gguf) in %s%s\n", dirs[0], n_dirs > 1 ? " and the others" : "");
    json_array_foreach(arr, i, m) {
        const char *e = json_string_value(json_object_get(m, "error"));
        if (e) printf("%s  (not readable: %s)\n", json_string_value(json_object_get(m, "file")), e);
        else
            printf("%s  %s \"%s\"  %.1fM params  %.1f MiB\n", json_string_value(json_object_get(m, "file")),
                   json_string_value(json_object_get(m, "architecture")), json_string_value(json_object_get(m, "name")),
                   (double)json_integer_value(json_object_get(m, "params")) / 1e6,
                   (double)json_integer_value(json_object_get(m, "bytes")) / 1048576.0);
    }
    json_decref(arr);
    return 0;
}

int gt_cli_model_quantize(int argc, char **argv); /* cli_quantize.c */

static void usage_model(FILE *f) {
    fprintf(f, "usage: gotong model info MODEL.gguf [--json] [--tensors]\n"
               "       gotong model list [DIR...] [--json]\n"
               "       gotong model random --like VOCAB.gguf --arch llama|qwen2|qwen3|gemma3|phi3 ... -o OUT.gguf\n"
               "       gotong model quantize IN.gguf OUT.gguf --type q4_k_m|q8_0|...\n"
               "(gotong model SUBCOMMAND --help for each)\n");
}

static int cmd_model(int argc, char **argv) {
    static const char *const subs[] = {"info", "list", "quantize", "random", NULL};
    static int (*const fns[])(int, char **) = {cmd_info, cmd_list, gt_cli_model_quantize, cmd_random};
    int which, rc = gt_cli_subcommand("model", argc, argv, subs, usage_model, &which);
    return rc >= 0 ? rc : fns[which](argc - 1, argv + 1);
}

GT_CLI_COMMAND(model_cmd, "model", "list and inspect GGUF models, write random-weight ones", cmd_model)
