/* cli_quantize.c: `gotong model quantize IN.gguf OUT.gguf --type PRESET`,
 * a model file rewritten in a quantized type or one of llama.cpp's mixes
 * (the rules and their reference are in infer/quantize_model.h). */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "base/pool.h"
#include "base/progress.h"
#include "cli/cli.h"
#include "infer/quantize_model.h"

int gt_cli_model_quantize(int argc, char **argv);

static void usage_quantize(FILE *f) {
    fprintf(f,
            "usage: gotong model quantize IN.gguf OUT.gguf --type TYPE [--threads T]\n"
            "Rewrites IN (tensors in f32, f16 or bf16) with its matrices quantized to TYPE:\n"
            "  %s\n"
            "choosing each tensor's type as llama.cpp's llama-quantize does without an\n"
            "importance matrix (the _m mixes put attn_v and ffn_down of some layers in\n"
            "q6_k; the output matrix is q6_k unless TYPE is q8_0), so OUT holds the same\n"
            "bytes llama.cpp would write. Norms and biases are copied unchanged.\n",
            gt_qpreset_names());
}

/* Entry for `gotong model quantize` (argv[0] is "quantize"). */
int gt_cli_model_quantize(int argc, char **argv) {
    const char *type = NULL, *pos[2] = {NULL, NULL}; /* IN, OUT */
    uint64_t threads = (uint64_t)gt_cpu_count();
    int n_pos = 0;
    const gt_cli_opt opts[] = {
        {"--type", NULL, GT_CLI_OPT_STR, &type, 0, 0, NULL},
        {"--threads", NULL, GT_CLI_OPT_U64, &threads, 1, GT_POOL_MAX_THREADS, NULL},
        {NULL, NULL, 0, NULL, 0, 0, NULL}};
    int rc = gt_cli_parse("model quantize", argc, argv, 1, opts, pos, 2, &n_pos, usage_quantize);
    if (rc >= 0) return rc;
    const char *in = pos[0], *out = pos[1];
    if (!in || !out || !type)
        return gt_cli_usage_error("model quantize", "IN.gguf, OUT.gguf and --type are required");
    const gt_qpreset *p = gt_qpreset_find(type);
    if (!p)
        return gt_cli_usage_error("model quantize", "--type must be one of %s, not \"%s\"", gt_qpreset_names(), type);
    const gt_cli_input ins[] = {{"IN", in}};
    if (!strcmp(in, out))
        return gt_cli_usage_error("model quantize", "OUT must differ from IN (IN is read while OUT is written)");
    if ((rc = gt_cli_check_out("model quantize", "OUT", out, ins, 1))) return rc;
    gt_err err = {0};
    double t0 = gt_now_s();
    if (gt_quantize_model(in, out, p, (int)threads, &err)) return gt_cli_fail(&err);
    struct stat st;
    double mib = stat(out, &st) ? 0.0 : (double)st.st_size / 1048576.0;
    fprintf(stderr, "wrote %s: %s, %.1f MiB in %.1f s\n", out, p->name, mib, gt_now_s() - t0);
    return 0;
}
