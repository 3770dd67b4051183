/* cli_engine.c: what gotong's inference engine runs, told the same way in
 * the help of every command that loads a model (run, chat, serve), so that
 * no help lists an older set. The weight types come from the kernels' own
 * list (gt_kern_type_ok), so they cannot drift; the architectures are
 * GT_CLI_ENGINE_ARCHS, which tests/cli/test_cli_model.c checks against the
 * engine's refusal of an unknown architecture. */
#include <assert.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "infer/gguf.h"
#include "infer/kernels.h"

/* Help lines are wrapped before this many characters. */
#define ENGINE_HELP_WIDTH 80

/* Writes "f32, f16, ..." (the types the kernels take, in GGML's order) into
 * out (cap bytes); a list that does not fit is cut, which the assert says
 * is a buffer to grow. */
void gt_cli_engine_types(char *out, size_t cap) {
    assert(cap > 0);
    size_t o = 0;
    out[0] = 0;
    for (uint32_t t = 0; t < GT_TYPE_COUNT; t++) {
        if (!gt_kern_type_ok(t)) continue;
        int n = snprintf(out + o, cap - o, "%s%s", o ? ", " : "", gt_ggml_type_name(t));
        assert(n > 0 && (size_t)n < cap - o && "grow the buffer of gt_cli_engine_types");
        if (n < 0 || (size_t)n >= cap - o) return;
        o += (size_t)n;
    }
}

/* Prints label then the comma-separated words of list, wrapped before
 * ENGINE_HELP_WIDTH with continuation lines indented by two spaces. */
static void print_wrapped(FILE *f, const char *label, const char *list) {
    size_t col = strlen(label);
    fputs(label, f);
    for (const char *p = list; *p;) {
        size_t w = strcspn(p, " ");
        if (col + 1 + w >= ENGINE_HELP_WIDTH) fputs("\n ", f), col = 1;
        fprintf(f, " %.*s", (int)w, p);
        col += 1 + w;
        p += w;
        p += strspn(p, " ");
    }
    fputc('\n', f);
}

void gt_cli_engine_help(FILE *f) {
    char types[512];
    gt_cli_engine_types(types, sizeof types);
    size_t n = strlen(types);
    snprintf(types + n, sizeof types - n, "."); /* a full buffer only loses the stop */
    print_wrapped(f, "Architectures:", GT_CLI_ENGINE_ARCHS ".");
    print_wrapped(f, "Weight types:", types);
}
