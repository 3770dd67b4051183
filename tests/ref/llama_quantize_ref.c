/* llama_quantize_ref.c: llama.cpp's own quantizer (llama_model_quantize,
 * what its llama-quantize tool runs), for tests/infer/test_quantize_model.c
 * to compare `gotong model quantize` against.
 *
 *   llama_quantize_ref IN.gguf OUT.gguf FTYPE
 *
 * FTYPE is a llama_ftype number (7 Q8_0, 2 Q4_0, 14 Q4_K_S, 15 Q4_K_M,
 * 16 Q5_K_S, 17 Q5_K_M, 18 Q6_K). One thread, no importance matrix: the
 * reference quantizers. Built by scripts/fixtures.sh against libllama. */
#include <stdio.h>
#include <stdlib.h>

#include "llama.h"

static void log_errors(enum ggml_log_level level, const char *text, void *user) {
    (void)user;
    if (level == GGML_LOG_LEVEL_ERROR) fputs(text, stderr);
}

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: llama_quantize_ref IN.gguf OUT.gguf FTYPE\n");
        return 2;
    }
    llama_log_set(log_errors, NULL);
    ggml_backend_load_all_from_path(LLAMA_LIB_DIR);
    llama_backend_init();
    llama_model_quantize_params p = llama_model_quantize_default_params();
    p.nthread = 1;
    p.ftype = (enum llama_ftype)atoi(argv[3]);
    if (llama_model_quantize(argv[1], argv[2], &p)) {
        fprintf(stderr, "llama_quantize_ref: llama_model_quantize failed on %s\n", argv[1]);
        return 1;
    }
    llama_backend_free();
    return 0;
}
