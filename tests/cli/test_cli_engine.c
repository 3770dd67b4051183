/* test_cli_engine.c: the help of every command that loads a model (run,
 * chat, serve) names what the engine runs, and only that: the architectures
 * are those the engine's refusal of an unknown one lists (so a new
 * architecture in src/infer/model.c without the help following fails here),
 * and the weight types are exactly those the kernels take. */
#include <ctype.h>
#include <sys/wait.h>

#include "../test.h"
#include "base/alloc.h"
#include "infer/gguf.h"
#include "infer/kernels.h"
#include "infer/model.h"

static char help[1 << 16];
static char tmpdir[64];

/* Runs `gotong CMD --help` into help; returns the exit code. */
static int help_of(const char *cmd) {
    char line[512];
    snprintf(line, sizeof line, "%s %s --help 2>&1", GT_CLI, cmd);
    FILE *p = popen(line, "r");
    if (!p) return -1;
    size_t n = fread(help, 1, sizeof help - 1, p);
    help[n] = 0;
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* The text between from and to in help, newlines and runs of spaces made one
 * space, into out (cap bytes); 0 when from or to is missing. */
static int section(const char *from, const char *to, char *out, size_t cap) {
    const char *a = strstr(help, from), *b = a ? strstr(a, to) : NULL;
    if (!a || !b) return 0;
    size_t o = 0;
    for (const char *p = a + strlen(from); p < b && o + 1 < cap; p++) {
        char c = isspace((unsigned char)*p) ? ' ' : *p;
        if (c == ' ' && (o == 0 || out[o - 1] == ' ')) continue;
        out[o++] = c;
    }
    while (o && out[o - 1] == ' ') o--;
    out[o] = 0;
    return 1;
}

/* Whether word is one of the ", "- or " or "-separated names of list. */
static int in_list(const char *list, const char *word) {
    size_t w = strlen(word);
    for (const char *p = strstr(list, word); p; p = strstr(p + 1, word)) {
        int start = p == list || p[-1] == ' ' || p[-1] == '(';
        int end = !p[w] || p[w] == ',' || p[w] == ' ' || p[w] == '.' || p[w] == ')';
        if (start && end) return 1;
    }
    return 0;
}

/* The architectures the engine takes: its message for "nope", the list
 * after "(expected " ("llama, qwen2, ... or phi3"), into out. */
static int engine_archs(char *out, size_t cap) {
    char path[128];
    snprintf(path, sizeof path, "%s/nope.gguf", tmpdir);
    gt_gguf_writer *w = gt_gguf_writer_new();
    gt_err err = {0};
    int rc = !w || gt_gguf_writer_set_str(w, "general.architecture", "nope") || gt_gguf_writer_write(w, path, &err);
    gt_gguf_writer_free(w);
    CHECK_MSG(rc == 0, "writing %s: %s", path, err.msg);
    gt_model *m = NULL;
    CHECK(gt_model_load(path, &m, &err) == GT_EUNSUPPORTED);
    gt_model_free(m);
    const char *a = strstr(err.msg, "(expected "), *b = a ? strchr(a, ')') : NULL;
    CHECK_MSG(a && b && strstr(err.msg, "architecture \"nope\""), "the engine's message: %s", err.msg);
    if (!a || !b) return 0;
    snprintf(out, cap, "%.*s", (int)(b - a - 10), a + 10);
    return 1;
}

/* Each architecture the engine takes is in the help's list and the help
 * lists no other (the first word of each of its items). */
static void check_archs(const char *cmd, const char *engine) {
    char list[1024];
    CHECK_MSG(section("Architectures:", "Weight types:", list, sizeof list), "gotong %s --help: %s", cmd, help);
    char copy[1024], *save = NULL;
    snprintf(copy, sizeof copy, "%s", engine);
    for (char *t = strtok_r(copy, ", ", &save); t; t = strtok_r(NULL, ", ", &save))
        if (strcmp(t, "or")) CHECK_MSG(in_list(list, t), "gotong %s --help lacks architecture %s: %s", cmd, t, list);
    size_t o = 0; /* the list without its remarks in parentheses */
    for (int depth = 0, i = 0; list[i] && o + 1 < sizeof copy; i++) {
        depth += list[i] == '(';
        if (!depth) copy[o++] = list[i];
        depth -= list[i] == ')' && depth > 0;
    }
    copy[o] = 0;
    for (char *item = strtok_r(copy, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
        char name[32];
        if (sscanf(item, " %31[a-z0-9]", name) != 1) continue;
        CHECK_MSG(in_list(engine, name), "gotong %s --help names %s, which the engine refuses", cmd, name);
    }
}

/* The help's weight types are exactly those the kernels take. */
static void check_types(const char *cmd) {
    char list[1024];
    CHECK_MSG(section("Weight types:", ".", list, sizeof list), "gotong %s --help: %s", cmd, help);
    int listed = 0;
    for (uint32_t t = 0; t < GT_TYPE_COUNT; t++) {
        const char *name = gt_ggml_type_name(t);
        if (gt_kern_type_ok(t)) CHECK_MSG(in_list(list, name), "gotong %s --help lacks %s: %s", cmd, name, list);
        else CHECK_MSG(!in_list(list, name), "gotong %s --help names %s, which the kernels refuse", cmd, name);
        listed += gt_kern_type_ok(t);
    }
    CHECK(listed >= 15); /* f32 .. iq4_xs, as of this writing: the check above is not vacuous */
    CHECK(in_list(list, "q4_K") && in_list(list, "iq4_xs") && in_list(list, "bf16"));
}

static void test_helps_name_the_engine(void) {
    char engine[256];
    if (!engine_archs(engine, sizeof engine)) return;
    CHECK(strstr(engine, "gemma3") && strstr(engine, "phi3")); /* the list was read */
    static const char *const cmds[] = {"run", "chat", "serve"};
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
        CHECK_EQ_INT(help_of(cmds[i]), 0);
        CHECK_MSG(!strstr(help, "llama or qwen2"), "gotong %s --help", cmds[i]);
        check_archs(cmds[i], engine);
        check_types(cmds[i]);
    }
    /* the demo points at run's list instead of keeping its own */
    CHECK_EQ_INT(help_of("demo"), 0);
    CHECK(!strstr(help, "llama/qwen2"));
    CHECK_CONTAINS(help, "gotong run");
}

int main(void) {
    snprintf(tmpdir, sizeof tmpdir, "/tmp/gt-cli-engine-XXXXXX");
    if (!mkdtemp(tmpdir)) return 1;
    RUN(test_helps_name_the_engine);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
    if (system(cmd)) return 1;
    return gt_test_finish();
}
