/* test_cli_json.c: every command that offers --json prints valid JSON with
 * it, whatever the data: each is run here and every line of its stdout must
 * parse. A model's text that is not UTF-8 (a random model on the prompt of
 * issue 11) comes out as text with U+FFFD plus its exact bytes in hex, never
 * as silence. The list of commands is checked against `gotong --help`, so a
 * new command with --json must be added here. */
#include <jansson.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../test.h"
#include "../node_child.h"
#include "base/alloc.h"
#include "base/file.h"
#include "cli_util.h"

/* The top-level commands this test runs with --json (demo: tests/cli/test_demo.c). */
static const char *covered[] = {"wallet", "init", "balance", "mint", "send", "stake", "unstake", "ledger", "model",
                                "run", "data", "eval", "task", "agents", "agent", "demo", "fund", "label", NULL};

static char addr[64], model[300];

/* Every non-empty line of the last stdout parses as JSON; the first value is
 * returned (new reference) for the caller to look into. */
static json_t *parse_lines(const char *what) {
    json_t *first = NULL;
    int lines = 0;
    for (char *p = out_s; *p;) {
        char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        if (n) {
            json_error_t je;
            json_t *j = json_loadb(p, n, 0, &je);
            CHECK_MSG(j != NULL, "%s: line %d is not JSON (%s): %.200s", what, lines + 1, je.text, p);
            if (j && !first) first = j;
            else json_decref(j);
            lines++;
        }
        p += n + (nl ? 1 : 0);
    }
    CHECK_MSG(lines > 0, "%s --json printed nothing", what);
    return first;
}

/* Runs `gotong ARGS` expecting exit 0 and JSON on stdout; returns the first value. */
static json_t *run_json(const char *args) {
    int rc = gotong(args);
    CHECK_MSG(rc == 0, "%s: exit %d: %s", args, rc, err_s);
    return parse_lines(args);
}

/* A string member of j, or "". */
static const char *str(const json_t *j, const char *k) {
    const char *s = json_string_value(json_object_get(j, k));
    return s ? s : "";
}

/* A held-out benchmark from the CLI: `eval benches` marks it drawn with its
 * 200 items; `eval run` refuses it without the block seed that draws it,
 * and with one runs its draw (the summary names the seed). benches: the
 * --json list; the model is the file's global one. */
static void held_bench_cli(const json_t *benches) {
    char args[1024];
    int drawn = 0;
    size_t i;
    json_t *b;
    json_array_foreach(benches, i, b) {
        if (strcmp(json_string_value(json_object_get(b, "name")) ?: "", "held-arith-v1")) continue;
        drawn = json_is_true(json_object_get(b, "drawn")) && json_integer_value(json_object_get(b, "items")) == 200;
    }
    CHECK_MSG(drawn, "eval benches: held-arith-v1 is not listed drawn with 200 items");
    snprintf(args, sizeof args, "eval run -m %s --bench held-arith-v1 --limit 1 --threads 1 --json", model);
    CHECK(gotong(args) != 0);
    CHECK_CONTAINS(err_s, "held-arith-v1 is a drawn (held-out) benchmark: give --draw-seed");
    snprintf(args, sizeof args, "eval run -m %s --bench held-arith-v1 --limit 1 --threads 1 --json --draw-seed 0x%s",
             model, "1111111111111111111111111111111111111111111111111111111111111111");
    json_t *j = run_json(args);
    CHECK_STR(str(j, "draw_seed"), "0x1111111111111111111111111111111111111111111111111111111111111111");
    CHECK_STR(str(j, "bench_hash"), "sha256:1f7f53f6f08ffbc0688af60abbea58482cdaff64283f497d54f8ca890ca16d73");
    json_decref(j);
}

/* 1 when the bytes are valid UTF-8 (strict: no overlongs, surrogates). */
static int utf8_valid(const unsigned char *p, size_t n) {
    for (size_t i = 0; i < n;) {
        unsigned c = p[i];
        size_t k = c < 0x80 ? 1 : c >= 0xC2 && c < 0xE0 ? 2 : c >= 0xE0 && c < 0xF0 ? 3 : c >= 0xF0 && c < 0xF5 ? 4 : 0;
        if (!k || i + k > n) return 0;
        for (size_t j = 1; j < k; j++)
            if ((p[i + j] & 0xC0) != 0x80) return 0;
        if ((c == 0xE0 && p[i + 1] < 0xA0) || (c == 0xED && p[i + 1] >= 0xA0) || (c == 0xF0 && p[i + 1] < 0x90) ||
            (c == 0xF4 && p[i + 1] >= 0x90))
            return 0;
        i += k;
    }
    return 1;
}

static void test_wallet_and_ledger(void) {
    char args[1024];
    snprintf(args, sizeof args, "init --password-file %s --light", cli_pwfile);
    CHECK_EQ_INT(gotong(args), 0);
    json_t *j = run_json("wallet list --json");
    snprintf(addr, sizeof addr, "%s", json_string_value(json_array_get(json_object_get(j, "addresses"), 0)));
    json_decref(j);
    CHECK(strlen(addr) == 42);
    snprintf(args, sizeof args, "wallet show %s --json", addr);
    json_decref(run_json(args));
    snprintf(args, sizeof args, "wallet sign %s --message hello --password-file %s --json", addr, cli_pwfile);
    json_decref(run_json(args));
    snprintf(args, sizeof args, "mint --to %s 100 --password-file %s --json", addr, cli_pwfile);
    json_decref(run_json(args));
    snprintf(args, sizeof args, "send --to 0x000000000000000000000000000000000000dEaD 1 --password-file %s --json",
             cli_pwfile);
    json_decref(run_json(args));
    snprintf(args, sizeof args, "stake 10 --password-file %s --json", cli_pwfile);
    json_decref(run_json(args));
    snprintf(args, sizeof args, "unstake 1 --password-file %s --json", cli_pwfile);
    json_decref(run_json(args));
    json_decref(run_json("balance --json"));
    json_decref(run_json("ledger head --json"));
    json_decref(run_json("ledger log --json"));
}

/* `run --json` on a random model whose text is not UTF-8 for this seed. */
static void test_run_invalid_utf8(void) {
    char args[2048];
    snprintf(model, sizeof model, "%s/m.gguf", cli_tmp);
    snprintf(args, sizeof args,
             "model random --like %s --arch llama --dim 64 --layers 2 --heads 4 --kv-heads 2 --ff 96 --seed 7 "
             "--threads 1 -o %s",
             gt_fixture("tokenizer/ggml-vocab-llama-spm.gguf"), model);
    CHECK_EQ_INT(gotong(args), 0);
    snprintf(args, sizeof args, "model info %s --json", model);
    json_decref(run_json(args));
    snprintf(args, sizeof args,
             "run -m %s -p 'Stake 10 credits to guarantee quality \xe2\x80\x94 or be slashed!' -n 32 --seed 1 --json",
             model);
    json_t *j = run_json(args);
    const char *hex = str(j, "text_hex"), *text = str(j, "text");
    size_t n = strlen(hex) / 2;
    unsigned char *bytes = gt_malloc(n + 1);
    for (size_t i = 0; bytes && i < n; i++) {
        unsigned v;
        CHECK(sscanf(hex + 2 * i, "%2x", &v) == 1);
        bytes[i] = (unsigned char)v;
    }
    CHECK(n > 0);
    CHECK_MSG(bytes && !utf8_valid(bytes, n), "the model's text is valid UTF-8 for this seed: the case is not tested");
    CHECK(strstr(text, "\xef\xbf\xbd") != NULL); /* U+FFFD where bytes were not UTF-8 */
    CHECK(utf8_valid((const unsigned char *)text, strlen(text)));
    gt_free(bytes);
    json_decref(j);
}

static void test_data_and_eval(void) {
    char args[1024], spec[300], out_dir[300];
    snprintf(spec, sizeof spec, "%s/spec.json", cli_tmp);
    snprintf(out_dir, sizeof out_dir, "%s/export", cli_tmp);
    const char *job = "{\"version\":2,\"name\":\"t\",\"family\":\"arith\",\"template\":\"Q: {question}\\n\",\"seed\":7,"
                      "\"samples\":4,\"batch\":2,\"reward\":\"0.5\",\"stake\":\"0.25\",\"license\":\"cc-by-4.0\","
                      "\"generation\":{\"max_tokens\":8}}";
    CHECK_EQ_INT(gt_file_write_atomic(spec, job, strlen(job), 0600, NULL), 0);
    snprintf(args, sizeof args, "data job new %s --json", spec);
    json_t *j = run_json(args);
    char id[80];
    snprintf(id, sizeof id, "%s", str(j, "job"));
    json_decref(j);
    json_decref(run_json("data job list --json"));
    snprintf(args, sizeof args, "data job run %s -m %s --threads 1 --json", id, model);
    json_decref(run_json(args));
    snprintf(args, sizeof args, "data job show %s --json", id);
    j = run_json(args);
    CHECK_EQ_INT((int)json_array_size(json_object_get(j, "reports")), 1);
    CHECK_STR(str(j, "reward"), "500000");
    json_decref(j);
    snprintf(args, sizeof args, "data export %s -o %s --json", id, out_dir);
    json_decref(run_json(args));
    j = run_json("eval benches --json");
    CHECK(json_array_size(j) >= 5);
    held_bench_cli(j);
    json_decref(j);
    snprintf(args, sizeof args, "eval run -m %s --bench arith-v1 --limit 2 --threads 1 --json", model);
    json_decref(run_json(args));
    json_decref(run_json("eval leaderboard --json"));
}

/* eval run --draw-block H asks the node for block H's draw seed: the same
 * draw as --draw-seed with that seed, another block another seed, a block
 * not on the ledger an error, and both options at once a usage error. */
static void held_draw_from_node(const char *url) {
    char args[1024], seed[80], root[80];
    const char *run = "eval run -m %s --bench held-arith-v1 --limit 2 --threads 1 --json";
    char base[512];
    snprintf(base, sizeof base, run, model);
    snprintf(args, sizeof args, "%s --draw-block 1 --node %s", base, url);
    json_t *j = run_json(args);
    snprintf(seed, sizeof seed, "%s", str(j, "draw_seed"));
    snprintf(root, sizeof root, "%s", str(j, "results_root"));
    json_decref(j);
    CHECK_EQ_INT(strlen(seed), 66);
    snprintf(args, sizeof args, "%s --draw-seed %s", base, seed);
    j = run_json(args);
    CHECK_STR(str(j, "results_root"), root);
    json_decref(j);
    snprintf(args, sizeof args, "%s --draw-block 2 --node %s", base, url);
    j = run_json(args);
    CHECK(strcmp(str(j, "draw_seed"), seed) != 0);
    json_decref(j);
    snprintf(args, sizeof args, "%s --draw-block 999999 --node %s", base, url);
    CHECK_EQ_INT(gotong(args), 1);
    CHECK_CONTAINS(err_s, "--draw-block 999999");
    snprintf(args, sizeof args, "%s --draw-block 1 --draw-seed %s --node %s", base, seed, url);
    CHECK_EQ_INT(gotong(args), 2);
    CHECK_CONTAINS(err_s, "not both");
}

static void test_through_node(void) {
    char url[256], args[1024];
    pid_t pid = gt_test_node_start(cli_home, "0", url, sizeof url);
    CHECK(pid > 0);
    if (pid <= 0) return;
    snprintf(args, sizeof args, "task list --node %s --json", url);
    json_decref(run_json(args));
    snprintf(args, sizeof args, "agents --node %s --json", url);
    json_decref(run_json(args));
    snprintf(args, sizeof args, "fund rounds --node %s --json", url);
    json_decref(run_json(args));
    snprintf(args, sizeof args, "fund epoch --node %s --json", url);
    json_decref(run_json(args));
    snprintf(args, sizeof args, "label tasks --node %s --json", url);
    json_decref(run_json(args));
    snprintf(args, sizeof args,
             "task post --bounty 1 --stake 1 --prompt hi --model %s --node %s --password-file %s --json --from %s", model,
             url, cli_pwfile, addr);
    json_t *j = run_json(args);
    char task[80];
    snprintf(task, sizeof task, "%s", str(j, "task"));
    json_decref(j);
    snprintf(args, sizeof args, "task show %s --node %s --json", task, url);
    json_decref(run_json(args));
    snprintf(args, sizeof args, "agent --model %s --once --node %s --password-file %s --json --from %s", model, url,
             cli_pwfile, addr);
    json_decref(run_json(args));
    held_draw_from_node(url);
    gt_test_node_stop(pid);
    snprintf(args, sizeof args, "wallet new --light --password-file %s --json", cli_pwfile);
    json_decref(run_json(args));
}

/* Every command whose --help offers --json is in `covered`. */
static void test_all_covered(void) {
    CHECK_EQ_INT(gotong("--help"), 0);
    char *list = gt_strdup(out_s), *save = NULL, *cmds = strstr(list, "\ncommands:\n"), *end;
    CHECK(cmds != NULL);
    if (!cmds) return gt_free(list);
    if ((end = strstr(cmds, "\n\n"))) *end = 0; /* the command list ends at a blank line */
    for (char *line = strtok_r(cmds + 11, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char name[32];
        if (line[0] != ' ' || line[1] != ' ' || sscanf(line, " %31s", name) != 1) continue;
        char args[64];
        snprintf(args, sizeof args, "%s --help", name);
        gotong(args);
        if (!strstr(out_s, "--json") && !strstr(err_s, "--json")) continue;
        int found = 0;
        for (int i = 0; covered[i]; i++) found |= !strcmp(covered[i], name);
        CHECK_MSG(found, "`gotong %s` offers --json but is not run by this test", name);
    }
    gt_free(list);
}

int main(void) {
    if (cli_setup("gt-cli-json")) return 1;
    RUN(test_wallet_and_ledger);
    RUN(test_run_invalid_utf8);
    RUN(test_data_and_eval);
    RUN(test_through_node);
    RUN(test_all_covered);
    if (cli_cleanup()) return 1;
    return gt_test_finish();
}
