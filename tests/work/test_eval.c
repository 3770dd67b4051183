/* test_eval.c: benchmark files (built-ins, parsing refusals) and evaluation
 * runs on the tiny fixture models; the registry of built-ins the ledger
 * ranks scores on matches the generators: the same results bytes twice and with 1
 * and 2 threads, for multiple choice and generate_until; score and standard
 * error recomputed from the per-item lines; the results root. (Random
 * weights: scores are near chance; this tests mechanics, not accuracy.) */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "../test.h"
#include "crypto/keccak.h"
#include "crypto/merkle.h"
#include "work/eval/eval.h"

static void test_builtins(void) {
    gt_err err = {0};
    for (int i = 0; gt_bench_builtins[i]; i++) {
        gt_bench *b = NULL, *b2 = NULL;
        CHECK_EQ_INT(gt_bench_open(gt_bench_builtins[i], &b, &err), 0);
        CHECK_EQ_INT(gt_bench_open(gt_bench_builtins[i], &b2, &err), 0);
        CHECK_EQ_INT(b->n_items, GT_BENCH_BUILTIN_ITEMS);
        CHECK_STR(b->name, gt_bench_builtins[i]);
        CHECK(!memcmp(b->hash, b2->hash, 32));
        /* The ledger's registry (constants) is what the generator makes. */
        const gt_bench_ref *r = gt_bench_registry_find(gt_bench_builtins[i]);
        CHECK_MSG(r && gt_bench_registry_hash_is(r, b->hash) && r->items == b->n_items,
                  "registry row of %s differs from the generated benchmark", gt_bench_builtins[i]);
        CHECK_CONTAINS(b->items[0].prompt, "Question: ");
        if (b->type == GT_BENCH_MC) CHECK(b->items[0].n_choices >= 2 && b->items[0].gold < b->items[0].n_choices);
        else CHECK(b->items[0].target[0] == ' ' && b->n_until == 1 && b->max_tokens > 0);
        gt_bench_free(b);
        gt_bench_free(b2);
    }
    gt_bench *b = NULL;
    CHECK(gt_bench_registry_find("arith-v9") == NULL);
    CHECK(gt_bench_open("arith-v9", &b, &err) == GT_ENOTFOUND);
    CHECK_CONTAINS(err.msg, "arith-v1");
}

static void refuse(const char *text, const char *msg) {
    gt_err err = {0};
    gt_bench *b = NULL;
    CHECK_MSG(gt_bench_parse(text, strlen(text), &b, &err) < 0, "accepted %s", text);
    CHECK_CONTAINS(err.msg, msg);
    CHECK(b == NULL);
}

static void test_parse(void) {
    const char *ok = "{\"name\":\"t\",\"type\":\"multiple_choice\"}\n"
                     "{\"prompt\":\"2+2=\",\"choices\":[\" 4\",\" 5\"],\"gold\":0}\n\n";
    gt_err err = {0};
    gt_bench *b = NULL;
    CHECK_EQ_INT(gt_bench_parse(ok, strlen(ok), &b, &err), 0);
    CHECK_EQ_INT(b->n_items, 1);
    gt_bench_free(b);
    refuse("", "no items");
    refuse("{\"name\":\"t\",\"type\":\"ranking\"}\n{}", "expected multiple_choice or generate_until");
    refuse("{\"name\":\"t\",\"type\":\"multiple_choice\"}\n{\"prompt\":\"x\",\"choices\":[\"a\"],\"gold\":0}",
           "choices: expected 2..");
    refuse("{\"name\":\"t\",\"type\":\"multiple_choice\"}\n{\"prompt\":\"x\",\"choices\":[\"a\",\"b\"],\"gold\":2}",
           "gold: expected an index 0..1");
    refuse("{\"name\":\"t\",\"type\":\"generate_until\",\"max_tokens\":0}\n{\"prompt\":\"x\",\"target\":\"y\"}",
           "max_tokens");
    refuse("{\"name\":\"t\",\"type\":\"generate_until\",\"max_tokens\":5}\n{\"prompt\":\"x\",\"answer\":\"y\"}",
           "line 2: unknown field \"answer\"");
    refuse("{\"name\":\"t\",\"type\":\"generate_until\",\"max_tokens\":5}\n{\"prompt\":\"x\",", "line 2");
}

/* Runs a benchmark with n threads and returns the results bytes. */
static void run(const char *model, const char *bench, int threads, size_t limit, gt_buf *out, gt_eval_summary *sum) {
    gt_err err = {0};
    gt_llm *l = NULL;
    gt_bench *b = NULL;
    int rc = gt_llm_open(gt_fixture(model), threads, 512, &l, &err);
    if (!rc) rc = gt_bench_open(bench, &b, &err);
    if (!rc) rc = gt_eval_run(b, l, limit, NULL, NULL, out, sum, &err);
    CHECK_MSG(rc == 0, "%s", err.msg);
    gt_bench_free(b);
    gt_llm_free(l);
}

static void check_same(const char *model, const char *bench, size_t limit) {
    gt_buf a = GT_BUF_INIT, b = GT_BUF_INIT, c = GT_BUF_INIT;
    gt_eval_summary sa, sb, sc;
    run(model, bench, 1, limit, &a, &sa);
    run(model, bench, 1, limit, &b, &sb);
    run(model, bench, 2, limit, &c, &sc);
    CHECK_MSG(a.len && a.len == b.len && !memcmp(a.data, b.data, a.len), "%s %s: two runs differ", model, bench);
    CHECK_MSG(a.len == c.len && !memcmp(a.data, c.data, a.len), "%s %s: 1 vs 2 threads differ", model, bench);
    CHECK(!memcmp(sa.root, sc.root, 32) && sa.score == sc.score);
    CHECK_EQ_INT(sa.n, limit);
    /* Recompute the score, its standard error and the root from the lines. */
    const char *metric = sa.metric;
    double s = 0, ss = 0;
    size_t n = 0, pos = 0;
    uint8_t leaves[64][32];
    while (pos < a.len && n < 64) {
        const char *line = (const char *)a.data + pos;
        const char *nl = strchr(line, '\n');
        json_t *o = json_loadb(line, (size_t)(nl - line), 0, NULL);
        CHECK(o != NULL);
        int x = (int)json_integer_value(json_object_get(o, metric));
        s += x, ss += x;
        if (!strcmp(metric, "acc")) CHECK_EQ_INT(json_array_size(json_object_get(o, "ll")), b.len ? json_array_size(json_object_get(o, "ll")) : 0);
        gt_keccak256(line, (size_t)(nl - line), leaves[n]);
        json_decref(o);
        n++;
        pos += (size_t)(nl - line) + 1;
    }
    CHECK_EQ_INT(n, limit);
    double mean = s / (double)n;
    double se = n > 1 ? sqrt((ss - n * mean * mean) / (double)(n - 1)) / sqrt((double)n) : 0;
    CHECK(fabs(mean - sa.score) < 1e-12);
    CHECK(fabs(se - sa.stderr_) < 1e-9);
    uint8_t root[32];
    gt_merkle_root((const uint8_t(*)[32])leaves, n, root);
    CHECK(!memcmp(root, sa.root, 32));
    gt_buf_free(&a);
    gt_buf_free(&b);
    gt_buf_free(&c);
}

static void test_runs(void) {
    check_same("models/tiny-llama-q8_0.gguf", "units-v1", 6);
    check_same("models/tiny-qwen2-q8_0.gguf", "logic-v1", 6);
    check_same("models/tiny-llama-q4_0.gguf", "arith-v1", 3);
    check_same("models/tiny-qwen2-q8_0.gguf", "strings-v1", 3);
}

static void test_mc_lines(void) {
    gt_buf a = GT_BUF_INIT;
    gt_eval_summary s;
    run("models/tiny-llama-q8_0.gguf", "units-v1", 1, 2, &a, &s);
    CHECK_CONTAINS((const char *)a.data, "\"ll\":[\"-0x1.");
    CHECK_CONTAINS((const char *)a.data, "\"doc_hash\":\"0x");
    CHECK(s.acc_norm >= 0 && s.acc_norm <= 1);
    CHECK_EQ_U64(gt_eval_score_ppm(0.25), 250000);
    CHECK_EQ_U64(gt_eval_score_ppm(1.5), 1000000);
    gt_buf_free(&a);
}

int main(void) {
    RUN(test_builtins);
    RUN(test_parse);
    RUN(test_runs);
    RUN(test_mc_lines);
    return gt_test_finish();
}
