/* recipe.c: `gotong-recipe`, the worker model recipe's two tools over the
 * procedural task families (work/data/families.h):
 *
 *   gotong-recipe data --seed S --per-level N [--max-level L] [--boost F=K] -o DIR
 *       writes DIR/data.jsonl in the rows a data job exports ({"completion",
 *       "prompt"}, one compact JSON object a line), N items of every family
 *       at every difficulty level (up to L; 3N of a family without levels
 *       that shows its work: strings; 2N a level of sort and logic), each checked by the family's own checker
 *       before it is written: the prompt "Q: <question>\nA: ", the completion
 *       the family's worked solution (arith, sort, logic, strings) or
 *       "Answer: <answer>" (units); prints
 *       the rows' Merkle root (what `gotong train --dataset --root` checks)
 *       and writes it to DIR/root.txt; DIR/corpus.txt holds the rows' text
 *       for `gotong tokenizer train`. --boost F=K makes K times family F's
 *       rows (the recipe's second stage: sort=6).
 *   gotong-recipe eval -m MODEL.gguf --seed S --per-level N [--max-level L] [-t T] [--json] [--show K]
 *       asks the model N held-out items of every family and level (another
 *       seed than the training data's), greedy, up to 192 tokens, and judges
 *       each answer with the family's checker: a table of exact-match
 *       accuracy per family and level; --show K prints the first K answers
 *       of each level with the checker's verdict.
 * Both take --family NAME to make or ask only that family's items.
 * Items are a pure function of (family, seed, index, level), so both runs
 * are reproducible bit for bit. */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/buf.h"
#include "base/file.h"
#include "base/json.h"
#include "crypto/keccak.h"
#include "crypto/merkle.h"
#include "work/data/families.h"
#include "work/llm.h"

#define RECIPE_MAX_PER_LEVEL 1000000
#define RECIPE_MAX_TOKENS 192

typedef struct ropts {
    const char *out, *model;
    unsigned long long seed, per_level;
    int threads, json;
    unsigned long long max_level; /* 0: every level */
    const char *family;           /* only this family (NULL: all) */
    const char *boost;            /* data: this family's rows times boost_times (NULL: none) */
    unsigned long long boost_times;
    unsigned long long show;      /* eval: print the first `show` outputs of each level */
} ropts;

/* The levels of f: min..max (capped at cap when cap > 0), or the single
 * level 0 when it has none. */
static void levels(const gt_family *f, unsigned long long cap, int *lo, int *hi) {
    *lo = f->max_level ? f->min_level : 0;
    *hi = f->max_level ? f->max_level : 0;
    if (cap && *hi > (int)cap) *hi = (int)cap > *lo ? (int)cap : *lo;
}

/* How many halves of per_level rows a level of f gets (its windows are
 * drawn in proportion to its rows: recipes/worker/README.md). The shares
 * at 4000 a level up to level 5: arith 33 %, sort 26 %, logic 20 %, strings
 * 17 %, units 4 %. Arith gets 1.5 levels' worth again: when sort and logic
 * had twice a level's rows, arith's share fell from 31 % to 22 % and + and
 * - lost what the first model met. strings (six operations, no levels) gets
 * four levels' worth. */
static int rows_weight_halves(const gt_family *f) {
    if (!f->max_level) return f->scratchpad ? 8 : 2;
    return !strcmp(f->name, "arith") || !strcmp(f->name, "sort") || !strcmp(f->name, "logic") ? 3 : 2;
}

/* The prompt of an item, as trained on and asked. */
static void prompt_of(const gt_family_item *it, char *out, size_t cap) {
    snprintf(out, cap, "Q: %s\nA: ", it->question);
}

/* The completion of an item: its worked solution, else its marked answer;
 * checked by the family's checker (a row the checker refuses is a bug). */
static int completion_of(const gt_family_item *it, char *out, size_t cap) {
    if (gt_family_scratchpad(it, out, cap)) snprintf(out, cap, "Answer: %s", it->answer);
    gt_verdict v;
    gt_family_check(it, out, strlen(out), &v);
    if (!v.ok) fprintf(stderr, "%s item %llu: the checker refuses its own solution: %s\n", it->family->name,
                       (unsigned long long)it->index, v.reason);
    return v.ok ? 0 : -1;
}

/* Appends one row (compact JSON, sorted keys) and its Merkle leaf to d, and
 * its text (prompt, completion, blank line) to the tokenizer's corpus. */
static int add_row(gt_buf *d, gt_buf *corpus, uint8_t (**leaves)[32], size_t *n, size_t *cap, const char *p,
                   const char *c) {
    json_t *o = json_pack("{s:s,s:s}", "prompt", p, "completion", c);
    char *s = o ? gt_json_dump(o) : NULL;
    json_decref(o);
    if (!s) return -1;
    if (*n == *cap) {
        *cap = *cap ? *cap * 2 : 1024;
        void *q = gt_realloc(*leaves, *cap * 32);
        if (!q) return free(s), -1;
        *leaves = q;
    }
    gt_keccak256(s, strlen(s), (*leaves)[(*n)++]);
    int rc = gt_buf_append(d, s, strlen(s)) || gt_buf_append(d, "\n", 1) || gt_buf_append_str(corpus, p) ||
             gt_buf_append_str(corpus, c) || gt_buf_append(corpus, "\n\n", 2);
    free(s);
    return rc ? -1 : 0;
}

#define RECIPE_FAMILIES_MAX 16 /* families whose shares cmd_data prints */

/* Prints each family's rows and share of all n rows (windows are drawn in
 * proportion to rows), so a change of rows_weight_halves shows its mix. */
static void print_shares(const size_t *rows, size_t n) {
    assert(gt_family_count() <= RECIPE_FAMILIES_MAX);
    for (int fi = 0; fi < gt_family_count(); fi++)
        if (rows[fi] && n)
            printf("%-8s %7zu rows %5.1f %%\n", gt_family_at(fi)->name, rows[fi],
                   100.0 * (double)rows[fi] / (double)n);
}

static int cmd_data(const ropts *o) {
    gt_buf d = GT_BUF_INIT, corpus = GT_BUF_INIT;
    uint8_t (*leaves)[32] = NULL, root[32];
    size_t n = 0, cap = 0;
    char p[GT_FAMILY_QUESTION_MAX + 16], c[GT_FAMILY_SCRATCHPAD_MAX], path[4096], hex[67] = "0x";
    gt_err err = {0};
    int rc = 0;
    size_t rows[RECIPE_FAMILIES_MAX] = {0};
    if (gt_family_count() > RECIPE_FAMILIES_MAX)
        return fprintf(stderr, "more families than %d\n", RECIPE_FAMILIES_MAX), 1;
    for (int fi = 0; fi < gt_family_count() && !rc; fi++) {
        const gt_family *f = gt_family_at(fi);
        int lo, hi;
        if (o->family && strcmp(o->family, f->name)) continue;
        levels(f, o->max_level, &lo, &hi);
        unsigned long long per = o->per_level * (unsigned long long)rows_weight_halves(f) / 2;
        if (o->boost && !strcmp(o->boost, f->name)) per *= o->boost_times;
        size_t n0 = n;
        for (int l = lo; l <= hi && !rc; l++)
            for (unsigned long long i = 0; i < per && !rc; i++) {
                gt_family_item it;
                if (gt_family_generate_level(f, o->seed, i, l, &it)) return fprintf(stderr, "level %d?\n", l), 1;
                prompt_of(&it, p, sizeof p);
                rc = completion_of(&it, c, sizeof c) || add_row(&d, &corpus, &leaves, &n, &cap, p, c);
            }
        rows[fi] = n - n0;
    }
    if (rc) return fprintf(stderr, "could not make the rows\n"), 1;
    gt_merkle_root((const uint8_t(*)[32])leaves, n, root);
    for (int i = 0; i < 32; i++) snprintf(hex + 2 + 2 * i, 3, "%02x", root[i]);
    rc = gt_mkdir_p(o->out, 0755, &err);
    if (!rc) gt_path_join(path, sizeof path, o->out, "data.jsonl"), rc = gt_file_write_atomic(path, d.data, d.len,
                                                                                                 0644, &err);
    if (!rc) gt_path_join(path, sizeof path, o->out, "root.txt"), rc = gt_file_write_atomic(path, hex, 66, 0644, &err);
    if (!rc) gt_path_join(path, sizeof path, o->out, "corpus.txt"),
             rc = gt_file_write_atomic(path, corpus.data, corpus.len, 0644, &err);
    if (rc) return fprintf(stderr, "gotong-recipe: %s\n", err.msg), 1;
    print_shares(rows, n);
    printf("%zu rows, %zu bytes, Merkle root %s\n", n, d.len, hex);
    gt_free(leaves), gt_buf_free(&d), gt_buf_free(&corpus);
    return 0;
}

/* Asks the model one item; 1 when the family's checker accepts, 0 when it
 * does not or the model could not answer (a prompt longer than its
 * context: *failed counts those, err keeps the last reason). */
static int ask(gt_llm *l, const gt_family_item *it, int show, unsigned long long *failed, gt_err *err) {
    char p[GT_FAMILY_QUESTION_MAX + 16];
    gt_buf out = GT_BUF_INIT;
    gt_gen_params g = gt_gen_defaults();
    g.n_predict = RECIPE_MAX_TOKENS, g.sampling.temp = 0;
    prompt_of(it, p, sizeof p);
    if (gt_llm_generate(l, p, strlen(p), &g, &out, NULL, err)) return gt_buf_free(&out), ++*failed, 0;
    gt_verdict v;
    gt_family_check(it, out.data ? (const char *)out.data : "", out.len, &v);
    if (show) printf("--- %s (want %s): %s\n%.*s\n", p, it->answer, v.ok ? "ok" : v.reason, (int)out.len,
                     out.data ? (const char *)out.data : "");
    gt_buf_free(&out);
    return v.ok;
}

static int cmd_eval(const ropts *o) {
    gt_llm *l = NULL;
    gt_err err = {0};
    if (gt_llm_open(o->model, o->threads, 1024, &l, &err)) return fprintf(stderr, "gotong-recipe: %s\n", err.msg), 1;
    json_t *rows = json_array();
    unsigned long long all_ok = 0, all_n = 0, failed = 0;
    if (!o->json) printf("%-8s %5s %8s %9s\n", "family", "level", "correct", "accuracy");
    for (int fi = 0; fi < gt_family_count(); fi++) {
        const gt_family *f = gt_family_at(fi);
        int lo, hi;
        if (o->family && strcmp(o->family, f->name)) continue;
        levels(f, o->max_level, &lo, &hi);
        for (int lv = lo; lv <= hi; lv++) {
            unsigned long long ok = 0;
            for (unsigned long long i = 0; i < o->per_level; i++) {
                gt_family_item it;
                gt_family_generate_level(f, o->seed, i, lv, &it);
                ok += (unsigned long long)ask(l, &it, i < o->show, &failed, &err);
            }
            all_ok += ok, all_n += o->per_level;
            double pct = 100.0 * (double)ok / (double)o->per_level;
            if (!o->json) printf("%-8s %5d %4llu/%-4llu %8.1f%%\n", f->name, lv, ok, o->per_level, pct);
            json_array_append_new(rows, json_pack("{s:s,s:i,s:I,s:I}", "family", f->name, "level", lv, "correct",
                                                  (json_int_t)ok, "items", (json_int_t)o->per_level));
            fflush(stdout);
        }
    }
    if (o->json) {
        json_t *s = json_pack("{s:s,s:I,s:o}", "model", o->model, "seed", (json_int_t)o->seed, "rows", rows);
        char *t = gt_json_dump(s);
        printf("%s\n", t ? t : "null");
        free(t), json_decref(s);
    } else {
        printf("all      %5s %llu/%llu %8.1f%%\n", "", all_ok, all_n, 100.0 * (double)all_ok / (double)all_n);
        if (failed) printf("(%llu items could not be asked, counted wrong: %s)\n", failed, err.msg);
        json_decref(rows);
    }
    gt_llm_free(l);
    return 0;
}

static int usage(void) {
    fprintf(stderr, "usage: gotong-recipe data --seed S --per-level N [--max-level L] [--family F]\n"
                    "                          [--boost F=K] -o DIR\n"
                    "       gotong-recipe eval -m MODEL.gguf --seed S --per-level N [--max-level L]\n"
                    "                          [-t THREADS] [--json] [--family F] [--show K]\n");
    return 2;
}

/* A whole number in [lo, hi] or -1. */
static int num(const char *s, unsigned long long lo, unsigned long long hi, unsigned long long *out) {
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (!*s || *end || *s == '-' || v < lo || v > hi) return -1;
    *out = v;
    return 0;
}

/* --boost FAMILY=K (K in 1..16): that family's rows K times over; 0 when
 * it parses, -1 otherwise. */
static int boost_of(const char *v, ropts *o) {
    static char name[64];
    const char *eq = strchr(v, '=');
    if (!eq || eq == v || (size_t)(eq - v) >= sizeof name) return -1;
    memcpy(name, v, (size_t)(eq - v));
    name[eq - v] = 0;
    if (!gt_family_by_name(name) || num(eq + 1, 1, 16, &o->boost_times)) return -1;
    o->boost = name;
    return 0;
}

int main(int argc, char **argv) {
    ropts o = {.threads = 1, .per_level = 0};
    unsigned long long t = 1;
    int have_seed = 0;
    if (argc < 2) return usage();
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--json")) { o.json = 1; continue; }
        if (!v) return usage();
        i++;
        if (!strcmp(a, "-o")) o.out = v;
        else if (!strcmp(a, "-m")) o.model = v;
        else if (!strcmp(a, "--seed") && !num(v, 0, 1ull << 62, &o.seed)) have_seed = 1;
        else if (!strcmp(a, "--per-level") && !num(v, 1, RECIPE_MAX_PER_LEVEL, &o.per_level)) continue;
        else if (!strcmp(a, "-t") && !num(v, 1, 64, &t)) o.threads = (int)t;
        else if (!strcmp(a, "--max-level") && !num(v, 1, 1000, &o.max_level)) continue;
        else if (!strcmp(a, "--family") && gt_family_by_name(v)) o.family = v;
        else if (!strcmp(a, "--show") && !num(v, 0, 1000, &o.show)) continue;
        else if (!strcmp(a, "--boost") && !boost_of(v, &o)) continue;
        else return usage();
    }
    if (!have_seed || !o.per_level) return usage();
    if (!strcmp(argv[1], "data") && o.out) return cmd_data(&o);
    if (!strcmp(argv[1], "eval") && o.model) return cmd_eval(&o);
    return usage();
}
