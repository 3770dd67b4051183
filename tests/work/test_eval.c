/* test_eval.c: benchmark files (built-ins, parsing refusals) and evaluation
 * runs on the tiny fixture models; the registry of built-ins the ledger
 * ranks scores on matches the generators: the same results bytes twice and with 1
 * and 2 threads, for multiple choice and generate_until; score and standard
 * error recomputed from the per-item lines; the results root. (Random
 * weights: scores are near chance; this tests mechanics, not accuracy.)
 * family_check (worker-logic-v1) is scored with a scripted model: the
 * family's own worked solution scores, the same with a wrong answer does
 * not, and the output stops after the answer's line. The search that finds
 * an eval spec's check from its hash (the attest rule, the leaderboard). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../test.h"
#include "base/hex.h"
#include "crypto/keccak.h"
#include "crypto/merkle.h"
#include "crypto/sha256.h"
#include "work/eval/check.h"
#include "work/eval/eval.h"
#include "work/work_impl.h"

/* A block seed for the draws here: 32 bytes of x. */
static const uint8_t *seed_of(uint8_t x) {
    static uint8_t s[32];
    memset(s, x, 32);
    return s;
}

/* The built-in `name`, drawn from seed_of(x) when it is a drawn one. */
static gt_bench *open_drawn(const char *name, uint8_t x) {
    gt_err err = {0};
    gt_bench *spec = NULL, *b = NULL;
    CHECK_MSG(gt_bench_open(name, &spec, &err) == 0, "%s", err.msg);
    if (spec && !spec->drawn) return spec;
    if (spec) CHECK_MSG(gt_bench_draw(spec, seed_of(x), &b, &err) == 0, "%s", err.msg);
    gt_bench_free(spec);
    return b;
}

static void test_builtins(void) {
    gt_err err = {0};
    for (int i = 0; gt_bench_builtins[i]; i++) {
        gt_bench *b = NULL, *b2 = NULL;
        CHECK_EQ_INT(gt_bench_open(gt_bench_builtins[i], &b, &err), 0);
        CHECK_EQ_INT(gt_bench_open(gt_bench_builtins[i], &b2, &err), 0);
        CHECK_EQ_INT(gt_bench_items(b), GT_BENCH_BUILTIN_ITEMS);
        CHECK_EQ_INT(b->drawn, gt_bench_builtin_drawn(gt_bench_builtins[i]));
        CHECK_EQ_INT(b->drawn, !strncmp(gt_bench_builtins[i], "held-", 5));
        CHECK_STR(b->name, gt_bench_builtins[i]);
        CHECK(!memcmp(b->hash, b2->hash, 32));
        /* The ledger's registry (constants) is what the generator makes. */
        const gt_bench_ref *r = gt_bench_registry_find(gt_bench_builtins[i]);
        CHECK_MSG(r && gt_bench_registry_hash_is(r, b->hash) && r->items == gt_bench_items(b),
                  "registry row of %s differs from the generated benchmark", gt_bench_builtins[i]);
        if (b->drawn) { /* the spec alone: its items are the draw's */
            CHECK_EQ_INT(b->n_items, 0);
            gt_bench_free(b);
            b = open_drawn(gt_bench_builtins[i], 7);
            if (!b) continue;
            CHECK_EQ_INT(b->n_items, GT_BENCH_BUILTIN_ITEMS);
            CHECK(!memcmp(b->hash, b2->hash, 32) && b->seeded && !memcmp(b->draw_seed, seed_of(7), 32));
        }
        CHECK_CONTAINS(b->items[0].prompt, b->type == GT_BENCH_CHECK ? "Q: " : "Question: ");
        if (b->type == GT_BENCH_MC) CHECK(b->items[0].n_choices >= 2 && b->items[0].gold < b->items[0].n_choices);
        else if (b->type == GT_BENCH_GEN) CHECK(b->items[0].target[0] == ' ' && b->n_until == 1 && b->max_tokens > 0);
        else CHECK(b->family && b->n_until == 0 && b->max_tokens == GT_BENCH_WORKER_TOKENS);
        gt_bench_free(b);
        gt_bench_free(b2);
    }
    gt_bench *b = NULL;
    CHECK(gt_bench_registry_find("arith-v9") == NULL);
    CHECK(gt_bench_open("arith-v9", &b, &err) == GT_ENOTFOUND);
    CHECK_CONTAINS(err.msg, "arith-v1");
}

/* The built-ins' bytes are pinned here as well as in the registry: a change
 * to a generator, or to how a built-in draws its items (bench.c's
 * builtin_family_item, shared with the questions data jobs avoid), that
 * updated the registry with it would still fail here. A result names the
 * benchmark by hash; these must never change (a new built-in is a new name). */
static void test_builtins_pinned(void) {
    static const char *const pinned[][2] = {
        {"arith-v1", "3b636edc394370315e4e2ac08f761ca8a7ce7e12b8dfa7f09461c4f982fab211"},
        {"units-v1", "f898fecb57e788b65b5dbaf024ae2b6e76ec3a3c04ecaafe7030d1aa61d68aac"},
        {"sort-v1", "bcb8e27c5dab717882e3b1f6b8073ac89755295ed8c8b9474d26892096bb61ab"},
        {"logic-v1", "6e0d929d1c944ab0c7def7b965060b0eaef3912469d9e173b5a4655e099c15ab"},
        {"strings-v1", "ed10d1e66332a3cad9e486f92fc942c52604f9cc9a6dfde22cca3bb87355ba5d"},
        {"worker-arith-v1", "a49b572d7e7e6588addf5888d6cca05c23fd0070cc577878316ce8dd5dea3ff5"},
        {"worker-logic-v1", "f42b8ce697f6d36709034b8febee75a2c855f854b24e36084835f5321ee85ff8"},
        {"worker-sort-v1", "1b02f60baf1cac9199baca843eadbb849640cd914dba231b991ac3bbcd6581e6"},
        {"held-arith-v1", "1f7f53f6f08ffbc0688af60abbea58482cdaff64283f497d54f8ca890ca16d73"},
        {"held-logic-v1", "74456b6754ae6ee0777fb3b0ce6a27b86d33b495366452cdc125ab3a2a61bce2"},
        {"held-sort-v1", "a95fa48a9a44c37fb358ce92975d91e2a34024266414de7c254bec9ab797ff99"},
    };
    int n = 0;
    for (size_t i = 0; i < sizeof pinned / sizeof pinned[0]; i++) {
        gt_err err = {0};
        gt_bench *b = NULL;
        char hex[65];
        CHECK_EQ_INT(gt_bench_open(pinned[i][0], &b, &err), 0);
        if (!b) continue;
        gt_hex_encode(b->hash, 32, hex);
        CHECK_MSG(!strcmp(hex, pinned[i][1]), "%s: items hash %s, pinned %s", pinned[i][0], hex, pinned[i][1]);
        gt_bench_free(b);
    }
    while (gt_bench_builtins[n]) n++;
    CHECK_EQ_INT(n, (int)(sizeof pinned / sizeof pinned[0]));
}

/* gt_bench_builtin_asks knows each built-in's own questions, and only its
 * own: worker-arith-v1's level-1 questions are not arith-v1's. */
static void test_builtin_asks(void) {
    for (int i = 0; gt_bench_builtins[i]; i++) {
        gt_err err = {0};
        gt_bench *b = NULL;
        CHECK_EQ_INT(gt_bench_open(gt_bench_builtins[i], &b, &err), 0);
        int asked = 0, other = 0;
        for (size_t k = 0; b && k < b->n_items; k++) {
            char q[GT_FAMILY_QUESTION_MAX];
            gt_family_item it;
            if (b->type == GT_BENCH_CHECK) gt_bench_family_item(b, k, &it), snprintf(q, sizeof q, "%s", it.question);
            else snprintf(q, sizeof q, "%s", b->items[k].prompt + strlen("Question: "));
            if (b->type != GT_BENCH_CHECK) *strstr(q, "\nAnswer:") = 0;
            asked += gt_bench_builtin_asks(gt_bench_builtins[i], q);
            CHECK(gt_bench_builtins_ask(gt_bench_builtins, q)); /* the list's answer: any of them */
            other += gt_bench_builtin_asks(strcmp(gt_bench_builtins[i], "sort-v1") ? "sort-v1" : "arith-v1", q);
        }
        int want = b && b->drawn ? 0 : GT_BENCH_BUILTIN_ITEMS; /* a drawn spec has no fixed questions */
        CHECK_MSG(asked == want && other == 0, "%s: %d asked, %d asked by another", gt_bench_builtins[i], asked, other);
        gt_bench_free(b);
    }
    CHECK(!gt_bench_builtin_asks("arith-v1", "What is 1 + 1?"));
    CHECK(!gt_bench_builtin_asks("arith-v1", ""));
    CHECK(!gt_bench_builtins_ask(gt_bench_builtins, "What is 1 + 1?"));
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
    refuse("{\"name\":\"t\",\"type\":\"ranking\"}\n{}", "expected multiple_choice, generate_until or family_check");
    refuse("{\"name\":\"t\",\"type\":\"multiple_choice\"}\n{\"prompt\":\"x\",\"choices\":[\"a\"],\"gold\":0}",
           "choices: expected 2..");
    refuse("{\"name\":\"t\",\"type\":\"multiple_choice\"}\n{\"prompt\":\"x\",\"choices\":[\"a\",\"b\"],\"gold\":2}",
           "gold: expected an index 0..1");
    refuse("{\"name\":\"t\",\"type\":\"generate_until\",\"max_tokens\":0}\n{\"prompt\":\"x\",\"target\":\"y\"}",
           "max_tokens");
    refuse("{\"name\":\"t\",\"type\":\"generate_until\",\"max_tokens\":5}\n{\"prompt\":\"x\",\"answer\":\"y\"}",
           "line 2: unknown field \"answer\"");
    refuse("{\"name\":\"t\",\"type\":\"generate_until\",\"max_tokens\":5}\n{\"prompt\":\"x\",", "line 2");
    refuse("{\"name\":\"t\",\"type\":\"generate_until\",\"max_tokens\":5,\"family\":\"logic\"}\n{}",
           "family is for family_check");
}

/* A family_check benchmark whose spec is spec and whose one item is line. */
static void refuse_check(const char *spec, const char *line, const char *msg) {
    char text[1024];
    snprintf(text, sizeof text, "%s\n%s\n", spec, line);
    refuse(text, msg);
}

/* A family_check item line (compact JSON) into out. */
static void check_line(char *out, size_t cap, const char *prompt, const char *target, int seed, int index, int level) {
    json_t *o = json_pack("{s:s,s:s,s:i,s:i,s:i}", "prompt", prompt, "target", target, "seed", seed, "index", index,
                          "level", level);
    char *js = json_dumps(o, JSON_COMPACT);
    snprintf(out, cap, "%s", js ? js : "");
    free(js);
    json_decref(o);
}

/* family_check lines must be the named family item's prompt and answer. */
static void test_parse_check(void) {
    const char *spec = "{\"name\":\"w\",\"type\":\"family_check\",\"family\":\"logic\",\"max_tokens\":64}";
    gt_family_item fi;
    char prompt[GT_FAMILY_QUESTION_MAX + 32], line[1024], text[2048];
    gt_family_generate_level(gt_family_by_name("logic"), 5, 7, 2, &fi);
    gt_bench_worker_prompt(fi.question, prompt, sizeof prompt);
    CHECK_EQ_INT(strncmp(prompt, "Q: Let A = ", 11), 0);
    check_line(line, sizeof line, prompt, fi.answer, 5, 7, 2);
    snprintf(text, sizeof text, "%s\n%s\n", spec, line);
    gt_err err = {0};
    gt_bench *b = NULL;
    CHECK_MSG(gt_bench_parse(text, strlen(text), &b, &err) == 0, "%s", err.msg);
    CHECK(b && b->type == GT_BENCH_CHECK && b->items[0].seed == 5 && b->items[0].index == 7 && b->items[0].level == 2);
    gt_bench_free(b);
    const char *other = strcmp(fi.answer, "true") ? "true" : "false";
    check_line(line, sizeof line, prompt, other, 5, 7, 2); /* the wrong answer as the target */
    refuse_check(spec, line, "prompt or target is not logic item 7 (seed 5, level 2)");
    check_line(line, sizeof line, prompt, fi.answer, 5, 8, 2); /* another item's prompt */
    refuse_check(spec, line, "prompt or target is not logic item 8 (seed 5, level 2)");
    check_line(line, sizeof line, prompt, fi.answer, 5, 7, 4);
    refuse_check(spec, line, "level 4: expected 1..3 for logic");
    refuse_check(spec, "{\"prompt\":\"Q: x\\nA: \",\"target\":\"true\",\"index\":0,\"level\":1}", "seed");
    refuse_check("{\"name\":\"w\",\"type\":\"family_check\",\"family\":\"strings\",\"max_tokens\":64}", "{}",
                 "expected a family with levels and worked solutions");
    refuse_check("{\"name\":\"w\",\"type\":\"family_check\",\"family\":\"logic\",\"max_tokens\":64,"
                 "\"until\":[\"x\"]}",
                 "{}", "until is for generate_until");
    refuse_check("{\"name\":\"w\",\"type\":\"family_check\",\"family\":\"logic\"}", "{}", "max_tokens");
}

/* The sha256 of the canonical eval spec of s (the task's spec hash). */
static void spec_hash(const gt_work_eval_spec *s, uint8_t out[32]) {
    char *t = gt_work_eval_spec_json(s);
    CHECK(t != NULL);
    if (t) gt_sha256(t, strlen(t), out);
    free(t);
}

/* wk_eval_spec_check (the attest rule's binding, and the leaderboard's
 * `check`) finds the check of the spec the poster hashed, through its fast
 * search that rewrites only the check's digits: at each count of digits
 * (1, 9, 10, 99, 100, 999, 1000, the most), for a prefix of the bench and
 * for all of it (limit 0); nothing for a check out of range, another
 * model, or limit 0 when the attestation holds fewer than all items. */
static void test_spec_check(void) {
    const gt_bench_ref *reg = gt_bench_registry_find("arith-v1");
    CHECK(reg != NULL);
    if (!reg) return;
    gt_work_eval_spec s = {.limit = 6};
    snprintf(s.bench, sizeof s.bench, "%s", reg->name);
    gt_err err = {0};
    char hx[67] = "0x";
    memcpy(hx + 2, reg->hash_hex, 65);
    CHECK_EQ_INT(gt_hex_decode(hx, s.bench_hash, 32, "hash", &err), 0);
    memset(s.model, 0x4d, 32);
    static const uint64_t checks[] = {1, 2, 9, 10, 11, 99, 100, 101, 999, GT_WORK_EVAL_MAX_CHECK};
    uint8_t h[32], other[32];
    memset(other, 0x4e, 32);
    for (size_t i = 0; i < sizeof checks / sizeof checks[0]; i++) {
        s.check = checks[i];
        s.limit = 6;
        spec_hash(&s, h);
        CHECK_EQ_U64(wk_eval_spec_check(s.model, s.bench, s.bench_hash, 6, reg, h), checks[i]);
        CHECK_EQ_U64(wk_eval_spec_check(other, s.bench, s.bench_hash, 6, reg, h), 0);
        CHECK_EQ_U64(wk_eval_spec_check(s.model, s.bench, s.bench_hash, 7, reg, h), 0);
        s.limit = 0;
        spec_hash(&s, h);
        CHECK_EQ_U64(wk_eval_spec_check(s.model, s.bench, s.bench_hash, reg->items, reg, h), checks[i]);
        CHECK_EQ_U64(wk_eval_spec_check(s.model, s.bench, s.bench_hash, 6, reg, h), 0);
    }
    s.check = GT_WORK_EVAL_MAX_CHECK + 1; /* a spec the rule never binds */
    s.limit = 6;
    spec_hash(&s, h);
    CHECK_EQ_U64(wk_eval_spec_check(s.model, s.bench, s.bench_hash, 6, reg, h), 0);
}

/* The check floor a poster is held to (gt_work_eval_spec_floor_ok):
 * min(items, 16), items being the limit or, with limit 0, the registered
 * bench's; the leaderboard's rank uses the same floor of an attestation's
 * items. A spec under it is refused saying what is expected. */
static void test_check_floor(void) {
    CHECK_EQ_U64(gt_work_eval_check_floor(50), GT_WORK_EVAL_CHECK_FLOOR);
    CHECK_EQ_U64(gt_work_eval_check_floor(8), 8);
    CHECK_EQ_U64(gt_work_eval_check_floor(0), 1);
    gt_work_eval_spec s = {.limit = 50, .check = 1};
    snprintf(s.bench, sizeof s.bench, "arith-v1");
    gt_err err = {0};
    CHECK_EQ_INT(gt_work_eval_spec_floor_ok(&s, &err), GT_EINVAL);
    CHECK_MSG(strstr(err.msg, "expected at least min(items,16)=16") && strstr(err.msg, "got 1"), "%s", err.msg);
    s.check = 15;
    CHECK_EQ_INT(gt_work_eval_spec_floor_ok(&s, &err), GT_EINVAL);
    s.check = 16;
    CHECK_EQ_INT(gt_work_eval_spec_floor_ok(&s, &err), 0);
    s.limit = 8, s.check = 7; /* a run of 8 items: each judge re-executes all 8 */
    CHECK_EQ_INT(gt_work_eval_spec_floor_ok(&s, &err), GT_EINVAL);
    CHECK(strstr(err.msg, "min(items,16)=8") != NULL);
    s.check = 8;
    CHECK_EQ_INT(gt_work_eval_spec_floor_ok(&s, &err), 0);
    s.limit = 0, s.check = 15; /* every one of arith-v1's items */
    CHECK_EQ_INT(gt_work_eval_spec_floor_ok(&s, &err), GT_EINVAL);
    s.check = GT_WORK_EVAL_DEFAULT_CHECK; /* a spec that leaves check out ranks */
    CHECK_EQ_INT(gt_work_eval_spec_floor_ok(&s, &err), 0);
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
    check_same("models/tiny-llama-q8_0.gguf", "worker-logic-v1", 2);
}

/* A scripted model (gt_llm_remote): generate answers the tokens of one
 * fixed text, whatever the prompt. */
typedef struct script {
    int32_t ids[4096];
    size_t n;
} script;

static int script_generate(void *arg, const int32_t *ids, size_t n, const gt_sampler_params *p, int max_tokens,
                           gt_buf *tokens, gt_err *err) {
    const script *s = arg;
    (void)ids, (void)n, (void)p, (void)err;
    size_t k = s->n < (size_t)max_tokens ? s->n : (size_t)max_tokens;
    return gt_buf_append(tokens, s->ids, k * sizeof(int32_t));
}

/* Scores item i of b on l with the model answering text; returns the
 * verdict and the result line in line. */
static int scripted_item(const gt_bench *b, size_t i, gt_llm *l, const char *text, gt_buf *line) {
    static script s;
    const int32_t *ids;
    gt_err err = {0};
    CHECK_EQ_INT(gt_llm_tokenize(l, text, strlen(text), 0, &ids, &s.n, &err), 0);
    CHECK(s.n <= sizeof s.ids / sizeof s.ids[0]);
    memcpy(s.ids, ids, s.n * sizeof *ids);
    gt_llm_remote r = {&s, script_generate, NULL};
    l->remote = &r;
    int c = -1, cn = -1;
    line->len = 0;
    CHECK_MSG(gt_eval_item(b, i, l, line, &c, &cn, &err) == 0, "%s", err.msg);
    l->remote = NULL;
    CHECK_EQ_INT(c, cn);
    CHECK(gt_buf_putc(line, 0) == 0);
    return c;
}

/* worker-arith-v1, worker-logic-v1 and worker-sort-v1 are judged by the
 * family's checker on the worked solution: the family's own solution
 * scores, the same with a wrong answer (a distractor) does not (nor, for
 * logic and sort, none), and the output ends with the answer's line. Item
 * i is at level lo + i % levels (arith and logic 1..3, sort 2..5). */
static void family_check_bench(gt_llm *l, const char *name, int lo, int levels) {
    gt_err err = {0};
    gt_bench *b = NULL;
    CHECK_EQ_INT(gt_bench_open(name, &b, &err), 0);
    CHECK_STR(gt_bench_metric(b->type), "checked");
    gt_buf line = GT_BUF_INIT;
    for (size_t i = 0; i < 9; i++) {
        gt_family_item fi;
        char sol[GT_FAMILY_SCRATCHPAD_MAX + 64], *ans = NULL, ch[2][GT_FAMILY_ANSWER_MAX];
        int gold;
        gt_bench_family_item(b, i, &fi);
        CHECK_EQ_INT(fi.level, lo + (int)(i % (size_t)levels));
        CHECK_EQ_INT(gt_family_scratchpad(&fi, sol, sizeof sol - 64), 0);
        CHECK(!strcmp(fi.answer, b->items[i].target) && (ans = strstr(sol, "Answer: ")) != NULL);
        if (!ans) continue; /* (failed above) */
        strcat(sol, "\nQ: Let A = true. Is A true or false?");
        CHECK_MSG(scripted_item(b, i, l, sol, &line) == 1, "%s item %zu: its own solution is refused", name, i);
        CHECK_CONTAINS((const char *)line.data, "\"checked\":1");
        CHECK_MSG(!strstr((const char *)line.data, "Is A true"), "%s item %zu: read past the answer's line", name, i);
        CHECK_EQ_INT(gt_family_choices(&fi, 2, ch, &gold), 2);
        snprintf(ans, sizeof sol - (size_t)(ans - sol), "Answer: %s", ch[1 - gold]);
        CHECK_MSG(scripted_item(b, i, l, sol, &line) == 0, "%s item %zu: the wrong answer %s scores", name, i,
                  ch[1 - gold]);
        CHECK_CONTAINS((const char *)line.data, "\"checked\":0");
        ans[0] = 0; /* no marked answer: logic's steps end in 0/1, not true/false, sort's in the padded keys
                     * (arith's unmarked last number is read as the answer, and its steps end with the
                     * result's digits) */
        if (strcmp(name, "worker-arith-v1"))
            CHECK_MSG(scripted_item(b, i, l, sol, &line) == 0, "%s item %zu: no answer scores", name, i);
    }
    gt_buf_free(&line);
    gt_bench_free(b);
}

static void test_family_check(void) {
    gt_err err = {0};
    gt_llm *l = NULL;
    CHECK_EQ_INT(gt_llm_open(gt_fixture("models/tiny-llama-q8_0.gguf"), 1, 512, &l, &err), 0);
    family_check_bench(l, "worker-arith-v1", 1, 3);
    family_check_bench(l, "worker-logic-v1", 1, 3);
    family_check_bench(l, "worker-sort-v1", 2, 4);
    gt_llm_free(l);
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

/* The items of b as one text: each item's doc_hash (its line's sha256). */
static void items_digest(const gt_bench *b, uint8_t out[32]) {
    gt_buf t = GT_BUF_INIT;
    for (size_t i = 0; i < b->n_items; i++) CHECK(gt_buf_append(&t, b->items[i].doc_hash, 32) == 0);
    gt_sha256(t.data, t.len, out);
    gt_buf_free(&t);
}

/* A drawn built-in: the same block seed draws the same items byte for byte
 * (pinned: a change to the draw changes what validators re-execute), another
 * seed other items; no item asks a fixed built-in's question; levels cycle
 * from the family's lowest; the hash is the spec's whatever the seed; a run
 * of the spec alone is refused. */
static void test_draw(void) {
    static const char *const pinned[][2] = {
        {"held-arith-v1", "1f04a3b03074de9b1b7f4c7ac3f7f087d8dbf369b02362863d14677f7ab4f4aa"},
        {"held-logic-v1", "54bf3fa77a0794ee0d565fe9b7fca6394bdbab0cc473bc815971b743974691cf"},
        {"held-sort-v1", "d2a8dbe553ed370d13ed6db9170bc6f4c9f83d0a0fb4612c2a9fc7460993eec7"},
    };
    for (size_t k = 0; k < sizeof pinned / sizeof pinned[0]; k++) {
        gt_bench *a = open_drawn(pinned[k][0], 0xa5), *a2 = open_drawn(pinned[k][0], 0xa5);
        gt_bench *c = open_drawn(pinned[k][0], 0x5a);
        if (!a || !a2 || !c) continue;
        uint8_t da[32], da2[32], dc[32];
        char hex[65];
        items_digest(a, da), items_digest(a2, da2), items_digest(c, dc);
        gt_hex_encode(da, 32, hex);
        CHECK_MSG(!strcmp(hex, pinned[k][1]), "%s: draw of 0xa5.. %s, pinned %s", pinned[k][0], hex, pinned[k][1]);
        CHECK(!memcmp(da, da2, 32) && memcmp(da, dc, 32));
        CHECK(!memcmp(a->hash, c->hash, 32));
        size_t differ = 0;
        for (size_t i = 0; i < a->n_items; i++) {
            gt_family_item fi;
            gt_bench_family_item(a, i, &fi);
            CHECK_EQ_INT(fi.level, a->draw_lo + (int)(i % (size_t)(a->draw_hi - a->draw_lo + 1)));
            CHECK_MSG(!gt_bench_builtins_ask(gt_bench_draw_v1_avoid, fi.question), "%s item %zu is a built-in's",
                      pinned[k][0], i);
            differ += strcmp(a->items[i].prompt, c->items[i].prompt) != 0;
        }
        CHECK_MSG(differ > a->n_items / 2, "%s: only %zu of %zu items differ between two seeds", pinned[k][0], differ,
                  a->n_items);
        gt_bench_free(a), gt_bench_free(a2), gt_bench_free(c);
    }
    /* Every fixed built-in is avoided by the draw (a new one needs a new draw version). */
    for (int i = 0; gt_bench_builtins[i]; i++) {
        int found = gt_bench_builtin_drawn(gt_bench_builtins[i]);
        for (int k = 0; gt_bench_draw_v1_avoid[k]; k++) found |= !strcmp(gt_bench_draw_v1_avoid[k], gt_bench_builtins[i]);
        CHECK_MSG(found, "fixed built-in %s is not avoided by draw v1", gt_bench_builtins[i]);
    }
    gt_err err = {0};
    gt_llm *l = NULL;
    gt_bench *spec = NULL;
    gt_buf out = GT_BUF_INIT;
    gt_eval_summary sum;
    CHECK_EQ_INT(gt_llm_open(gt_fixture("models/tiny-llama-q8_0.gguf"), 1, 512, &l, &err), 0);
    CHECK_EQ_INT(gt_bench_open("held-logic-v1", &spec, &err), 0);
    if (l && spec) CHECK_EQ_INT(gt_eval_run(spec, l, 1, NULL, NULL, &out, &sum, &err), GT_EINVAL);
    CHECK_CONTAINS(err.msg, "held-logic-v1 is a drawn benchmark");
    CHECK_EQ_INT(out.len, 0);
    gt_bench_free(spec);
    gt_llm_free(l);
}

/* Draw specs: what parses, and each refusal saying what is expected. */
static void test_parse_draw(void) {
    const char *ok = "{\"name\":\"mine\",\"type\":\"family_check\",\"family\":\"sort\",\"max_tokens\":64,"
                     "\"draw\":{\"items\":12,\"levels\":[3,4],\"delay\":5}}\n";
    gt_err err = {0};
    gt_bench *b = NULL, *d = NULL;
    uint8_t h[32];
    CHECK_MSG(gt_bench_parse(ok, strlen(ok), &b, &err) == 0, "%s", err.msg);
    if (!b) return;
    gt_sha256(ok, strlen(ok), h);
    CHECK(b->drawn && !b->seeded && b->n_items == 0 && gt_bench_items(b) == 12 && !memcmp(b->hash, h, 32));
    CHECK(b->draw_lo == 3 && b->draw_hi == 4 && b->draw_delay == 5);
    CHECK_EQ_INT(gt_bench_draw(b, seed_of(1), &d, &err), 0);
    CHECK(d && d->n_items == 12 && !memcmp(d->hash, h, 32) && d->max_tokens == 64);
    CHECK(d && d->items[1].level == 4 && d->items[2].level == 3 && !strcmp(d->name, "mine"));
    gt_bench_free(d);
    gt_bench_free(b);
#define DSPEC(fam, draw) "{\"name\":\"m\",\"type\":\"family_check\",\"family\":\"" fam "\",\"max_tokens\":64,\"draw\":" draw "}"
    refuse(DSPEC("arith", "{\"items\":10,\"levels\":[1,3]}"), "draw.delay: expected 1..1024");
    refuse(DSPEC("arith", "{\"items\":10,\"levels\":[1,3],\"delay\":0}"), "draw.delay: expected 1..1024");
    refuse(DSPEC("arith", "{\"items\":10,\"levels\":[1,3],\"delay\":1025}"), "draw.delay: expected 1..1024");
    refuse(DSPEC("arith", "{\"items\":0,\"levels\":[1,3],\"delay\":2}"), "draw.items: expected 1..10000");
    refuse(DSPEC("arith", "{\"items\":10001,\"levels\":[1,3],\"delay\":2}"), "draw.items: expected 1..10000");
    refuse(DSPEC("arith", "{\"levels\":[1,3],\"delay\":2}"), "draw.items: expected 1..10000");
    refuse(DSPEC("arith", "{\"items\":10,\"levels\":[0,3],\"delay\":2}"), "draw.levels: expected [lo, hi] in 1..");
    refuse(DSPEC("arith", "{\"items\":10,\"levels\":[3,1],\"delay\":2}"), "draw.levels");
    refuse(DSPEC("arith", "{\"items\":10,\"delay\":2}"), "draw.levels");
    refuse(DSPEC("arith", "{\"items\":10,\"levels\":[1,3],\"delay\":2,\"seedHeight\":9}"),
           "unknown field \"seedHeight\"");
    refuse(DSPEC("arith", "7"), "draw: expected an object");
    refuse(DSPEC("nope", "{\"items\":10,\"levels\":[1,3],\"delay\":2}"), "family \"nope\": expected a family with levels");
    refuse("{\"name\":\"m\",\"type\":\"generate_until\",\"max_tokens\":5,\"draw\":{\"items\":1,\"levels\":[1,1],"
           "\"delay\":2}}\n", "draw is for family_check");
    refuse(DSPEC("logic", "{\"items\":10,\"levels\":[1,3],\"delay\":2}") "\n{\"prompt\":\"x\",\"target\":\"y\"}",
           "line 2: a drawn benchmark (its spec has a draw) has no item lines");
#undef DSPEC
}

/* An evaluator and a validator agree on a held-out run only when both drew
 * from the same block seed: the validator's re-executed items of another
 * seed's draw are other items (their doc_hash differs), so it disagrees. */
static void test_draw_check(void) {
    gt_err err = {0};
    gt_llm *l = NULL;
    gt_bench *w = open_drawn("held-arith-v1", 3), *same = open_drawn("held-arith-v1", 3);
    gt_bench *other = open_drawn("held-arith-v1", 4);
    CHECK_EQ_INT(gt_llm_open(gt_fixture("models/tiny-llama-q8_0.gguf"), 1, 512, &l, &err), 0);
    if (!l || !w || !same || !other) goto out;
    gt_work_eval_spec es = {.limit = 2, .check = 2};
    memcpy(es.model, l->id, 32);
    memcpy(es.bench_hash, w->hash, 32);
    snprintf(es.bench, sizeof es.bench, "held-arith-v1");
    gt_buf res = GT_BUF_INIT, ev = GT_BUF_INIT;
    gt_work_attestation att;
    gt_work_check chk;
    CHECK_MSG(gt_work_eval_attest(&es, w, l, &res, &att, &err) == 0, "%s", err.msg);
    CHECK_EQ_INT(att.items, 2);
    CHECK_STR(att.bench, "held-arith-v1");
    CHECK_EQ_INT(gt_work_eval_check(&es, same, l, &att, res.data, res.len, 9, &chk, &ev, &err), 0);
    CHECK_MSG(chk.agree && chk.items_checked == 2, "same seed: %s", chk.why);
    ev.len = 0;
    CHECK_EQ_INT(gt_work_eval_check(&es, other, l, &att, res.data, res.len, 9, &chk, &ev, &err), 0);
    CHECK_MSG(!chk.agree, "a validator of another seed's draw agreed");
    /* A validator holding the spec alone (no draw) cannot judge: an error,
     * no co-sign, not a DISAGREE on the honest attestation's item count. */
    gt_bench *undrawn = NULL;
    CHECK_EQ_INT(gt_bench_open("held-arith-v1", &undrawn, &err), 0);
    ev.len = 0;
    if (undrawn) {
        CHECK_EQ_INT(gt_work_eval_check(&es, undrawn, l, &att, res.data, res.len, 9, &chk, &ev, &err), GT_EINVAL);
        CHECK_CONTAINS(err.msg, "drawn benchmark");
    }
    gt_bench_free(undrawn);
    gt_buf_free(&res);
    gt_buf_free(&ev);
out:
    gt_llm_free(l);
    gt_bench_free(w), gt_bench_free(same), gt_bench_free(other);
}

int main(void) {
    RUN(test_builtins);
    RUN(test_builtins_pinned);
    RUN(test_builtin_asks);
    RUN(test_parse);
    RUN(test_parse_check);
    RUN(test_spec_check);
    RUN(test_check_floor);
    RUN(test_family_check);
    RUN(test_runs);
    RUN(test_mc_lines);
    RUN(test_draw);
    RUN(test_parse_draw);
    RUN(test_draw_check);
    return gt_test_finish();
}
