/* bench.c: benchmark files (strict JSONL parsing) and the built-in
 * benchmarks generated from the procedural families (see bench.h). */
#include "work/eval/bench.h"

#include <assert.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/file.h"
#include "base/hex.h"
#include "base/json.h"
#include "crypto/sha256.h"
#include "work/data/families.h"

const char *const gt_bench_builtins[] = {"arith-v1",        "units-v1",       "sort-v1",       "logic-v1",
                                         "strings-v1",      "worker-arith-v1", "worker-logic-v1", "worker-sort-v1",
                                         "held-arith-v1",   "held-logic-v1",  "held-sort-v1",  NULL};
#define BENCH_BUILTIN_LIST                                                                                             \
    "arith-v1, units-v1, sort-v1, logic-v1, strings-v1, worker-arith-v1, worker-logic-v1, worker-sort-v1, "           \
    "held-arith-v1, held-logic-v1, held-sort-v1"

/* Pinned with the draw's version (bench.h): the fixed built-ins of its day. */
const char *const gt_bench_draw_v1_avoid[] = {"arith-v1",        "units-v1",        "sort-v1",
                                              "logic-v1",        "strings-v1",      "worker-arith-v1",
                                              "worker-logic-v1", "worker-sort-v1", NULL};

static const gt_bench_ref registry[] = {
    {"arith-v1", "3b636edc394370315e4e2ac08f761ca8a7ce7e12b8dfa7f09461c4f982fab211", GT_BENCH_BUILTIN_ITEMS},
    {"units-v1", "f898fecb57e788b65b5dbaf024ae2b6e76ec3a3c04ecaafe7030d1aa61d68aac", GT_BENCH_BUILTIN_ITEMS},
    {"sort-v1", "bcb8e27c5dab717882e3b1f6b8073ac89755295ed8c8b9474d26892096bb61ab", GT_BENCH_BUILTIN_ITEMS},
    {"logic-v1", "6e0d929d1c944ab0c7def7b965060b0eaef3912469d9e173b5a4655e099c15ab", GT_BENCH_BUILTIN_ITEMS},
    {"strings-v1", "ed10d1e66332a3cad9e486f92fc942c52604f9cc9a6dfde22cca3bb87355ba5d", GT_BENCH_BUILTIN_ITEMS},
    {"worker-arith-v1", "a49b572d7e7e6588addf5888d6cca05c23fd0070cc577878316ce8dd5dea3ff5", GT_BENCH_BUILTIN_ITEMS},
    {"worker-logic-v1", "f42b8ce697f6d36709034b8febee75a2c855f854b24e36084835f5321ee85ff8", GT_BENCH_BUILTIN_ITEMS},
    {"worker-sort-v1", "1b02f60baf1cac9199baca843eadbb849640cd914dba231b991ac3bbcd6581e6", GT_BENCH_BUILTIN_ITEMS},
    {"held-arith-v1", "1f7f53f6f08ffbc0688af60abbea58482cdaff64283f497d54f8ca890ca16d73", GT_BENCH_BUILTIN_ITEMS},
    {"held-logic-v1", "74456b6754ae6ee0777fb3b0ce6a27b86d33b495366452cdc125ab3a2a61bce2", GT_BENCH_BUILTIN_ITEMS},
    {"held-sort-v1", "a95fa48a9a44c37fb358ce92975d91e2a34024266414de7c254bec9ab797ff99", GT_BENCH_BUILTIN_ITEMS},
};

const gt_bench_ref *gt_bench_registry_find(const char *name) {
    for (size_t i = 0; name && i < sizeof registry / sizeof registry[0]; i++)
        if (!strcmp(registry[i].name, name)) return &registry[i];
    return NULL;
}

int gt_bench_registry_hash_is(const gt_bench_ref *r, const uint8_t hash[32]) {
    uint8_t want[32];
    assert(strlen(r->hash_hex) == 64);
    return !gt_hex_decode(r->hash_hex, want, 32, "registry hash", NULL) && !memcmp(want, hash, 32);
}

/* Each built-in: the family, the type, for generate_until and
 * family_check the token budget, for family_check the highest level asked
 * (levels min_level..max_level in turn), and whether it is drawn (held-*:
 * its spec line only, the items drawn from a block's seed). */
static const struct {
    const char *name, *family;
    gt_bench_type type;
    int max_tokens, n_choices, max_level, drawn;
} builtins[] = {
    {"arith-v1", "arith", GT_BENCH_GEN, 24, 0, 0, 0},  {"units-v1", "units", GT_BENCH_MC, 0, 4, 0, 0},
    {"sort-v1", "sort", GT_BENCH_GEN, 96, 0, 0, 0},    {"logic-v1", "logic", GT_BENCH_MC, 0, 2, 0, 0},
    {"strings-v1", "strings", GT_BENCH_GEN, 24, 0, 0, 0},
    {"worker-arith-v1", "arith", GT_BENCH_CHECK, GT_BENCH_WORKER_TOKENS, 0, 3, 0},
    {"worker-logic-v1", "logic", GT_BENCH_CHECK, GT_BENCH_WORKER_TOKENS, 0, 3, 0},
    {"worker-sort-v1", "sort", GT_BENCH_CHECK, GT_BENCH_WORKER_TOKENS, 0, 5, 0},
    {"held-arith-v1", "arith", GT_BENCH_CHECK, GT_BENCH_WORKER_TOKENS, 0, 3, 1},
    {"held-logic-v1", "logic", GT_BENCH_CHECK, GT_BENCH_WORKER_TOKENS, 0, 3, 1},
    {"held-sort-v1", "sort", GT_BENCH_CHECK, GT_BENCH_WORKER_TOKENS, 0, 5, 1},
};
#define N_BUILTINS (sizeof builtins / sizeof builtins[0])

int gt_bench_builtin_drawn(const char *name) {
    for (size_t k = 0; name && k < N_BUILTINS; k++)
        if (!strcmp(builtins[k].name, name)) return builtins[k].drawn;
    return 0;
}

const char *gt_bench_type_name(gt_bench_type t) {
    return t == GT_BENCH_MC ? "multiple_choice" : t == GT_BENCH_GEN ? "generate_until" : "family_check";
}

const char *gt_bench_metric(gt_bench_type t) {
    return t == GT_BENCH_MC ? "acc" : t == GT_BENCH_GEN ? "exact_match" : "checked";
}

void gt_bench_worker_prompt(const char *question, char *out, size_t cap) {
    snprintf(out, cap, "Q: %s\nA: ", question);
}

void gt_bench_family_item(const gt_bench *b, size_t i, gt_family_item *out) {
    assert(b->type == GT_BENCH_CHECK && b->family && i < b->n_items);
    const gt_bench_item *it = &b->items[i];
    int rc = gt_family_generate_level(b->family, it->seed, it->index, it->level, out);
    assert(rc == 0); /* the level was checked when the line was parsed */
    (void)rc;
}

/* The spec line of built-in k (a new reference; NULL when out of memory):
 * a drawn one's with its draw (the family's lowest level up). */
static json_t *builtin_spec(size_t k, const char *name) {
    if (builtins[k].type == GT_BENCH_MC) return json_pack("{s:s,s:s}", "name", name, "type", "multiple_choice");
    json_t *o = NULL;
    if (builtins[k].type == GT_BENCH_CHECK)
        o = json_pack("{s:s,s:s,s:s,s:i}", "name", name, "type", "family_check", "family", builtins[k].family,
                      "max_tokens", builtins[k].max_tokens);
    if (o && builtins[k].drawn) {
        const gt_family *f = gt_family_by_name(builtins[k].family);
        assert(f && f->min_level >= 1 && builtins[k].max_level <= f->max_level);
        json_object_set_new(o, "draw", json_pack("{s:i,s:i,s:[i,i]}", "delay", GT_BENCH_DRAW_DELAY, "items",
                                                 GT_BENCH_BUILTIN_ITEMS, "levels", f->min_level,
                                                 builtins[k].max_level));
    }
    if (builtins[k].type == GT_BENCH_CHECK) return o;
    return json_pack("{s:s,s:s,s:[s],s:i}", "name", name, "type", "generate_until", "until", "\n", "max_tokens",
                     builtins[k].max_tokens);
}

/* Item i of a multiple-choice built-in: the family's answer among
 * n_choices options, each after a space. */
static json_t *builtin_mc_item(size_t k, const gt_family_item *it, const char *prompt) {
    char ch[GT_FAMILY_MAX_CHOICES][GT_FAMILY_ANSWER_MAX];
    int gold, n = gt_family_choices(it, builtins[k].n_choices, ch, &gold);
    json_t *arr = json_array();
    for (int c = 0; c < n; c++) {
        char sp[GT_FAMILY_ANSWER_MAX + 2];
        size_t cl = strnlen(ch[c], GT_FAMILY_ANSWER_MAX - 1);
        sp[0] = ' ';
        memcpy(sp + 1, ch[c], cl);
        sp[cl + 1] = 0;
        json_array_append_new(arr, json_string(sp));
    }
    return json_pack("{s:s,s:o,s:i}", "prompt", prompt, "choices", arr, "gold", gold);
}

/* The family item that item i of built-in k asks: family_check items,
 * seed GT_BENCH_WORKER_SEED, cycle through the family's levels from its
 * lowest; the others are the level-0 mix of seed GT_BENCH_BUILTIN_SEED. The
 * one source of both a built-in's lines and the questions data jobs must
 * not render (gt_bench_builtin_asks). */
static void builtin_family_item(size_t k, const gt_family *f, int i, gt_family_item *it) {
    assert(k < sizeof builtins / sizeof builtins[0] && i >= 0 && i < GT_BENCH_BUILTIN_ITEMS);
    if (builtins[k].type != GT_BENCH_CHECK) {
        gt_family_generate(f, GT_BENCH_BUILTIN_SEED, (uint64_t)i, it);
        return;
    }
    int hi = builtins[k].max_level;
    assert(f->min_level >= 1 && hi >= f->min_level && hi <= f->max_level);
    int rc = gt_family_generate_level(f, GT_BENCH_WORKER_SEED, (uint64_t)i, f->min_level + i % (hi - f->min_level + 1),
                                      it);
    assert(rc == 0); /* the level is in the family's range (asserted above) */
    (void)rc;
}

/* Item i of built-in k as a JSON object (a new reference; NULL when out of
 * memory). */
static json_t *builtin_item(size_t k, const gt_family *f, int i) {
    gt_family_item it;
    char prompt[GT_FAMILY_QUESTION_MAX + 32], t[GT_FAMILY_ANSWER_MAX + 2];
    builtin_family_item(k, f, i, &it);
    if (builtins[k].type == GT_BENCH_CHECK) {
        gt_bench_worker_prompt(it.question, prompt, sizeof prompt);
        return json_pack("{s:s,s:s,s:i,s:i,s:i}", "prompt", prompt, "target", it.answer, "seed",
                         GT_BENCH_WORKER_SEED, "index", i, "level", it.level);
    }
    snprintf(prompt, sizeof prompt, "Question: %s\nAnswer:", it.question);
    if (builtins[k].type == GT_BENCH_MC) return builtin_mc_item(k, &it, prompt);
    snprintf(t, sizeof t, " %s", it.answer);
    return json_pack("{s:s,s:s}", "prompt", prompt, "target", t);
}

/* Appends o's compact JSON and a newline to out, and drops o. */
static int append_line(gt_buf *out, json_t *o) {
    char *line = o ? gt_json_dump(o) : NULL;
    json_decref(o);
    int rc = !line || gt_buf_append_str(out, line) || gt_buf_putc(out, '\n');
    free(line);
    return rc;
}

int gt_bench_builtin_text(const char *name, gt_buf *out, gt_err *err) {
    for (size_t k = 0; k < sizeof builtins / sizeof builtins[0]; k++) {
        if (strcmp(builtins[k].name, name)) continue;
        const gt_family *f = gt_family_by_name(builtins[k].family);
        assert(f);
        int rc = append_line(out, builtin_spec(k, name));
        for (int i = 0; i < GT_BENCH_BUILTIN_ITEMS && !rc && !builtins[k].drawn; i++)
            rc = append_line(out, builtin_item(k, f, i));
        return rc ? gt_err_set(err, GT_ENOMEM, "out of memory") : 0;
    }
    return gt_err_set(err, GT_ENOTFOUND, "no built-in benchmark \"%.64s\" (built in: " BENCH_BUILTIN_LIST ")", name);
}

/* The questions the fixed built-ins ask, as 64-bit keys (the first 8 bytes
 * of the question's SHA-256) tagged with the built-in, sorted by key: made
 * once (8 x 200 items, a few milliseconds) on the first look-up, from any
 * thread. A drawn built-in has no rows (no fixed questions). */
typedef struct asked_row {
    uint64_t key;
    size_t bench; /* index into builtins[] */
} asked_row;
static asked_row asked[N_BUILTINS * GT_BENCH_BUILTIN_ITEMS];
static size_t asked_n;
static pthread_once_t asked_once = PTHREAD_ONCE_INIT;

/* The key of a question: 64 bits of its SHA-256, read little-endian. */
static uint64_t question_key(const char *q) { return gt_sha256_u64(q, strlen(q)); }

/* qsort's order of asked rows: by key (rows of equal keys in any order; a
 * look-up scans them all). */
static int asked_cmp(const void *a, const void *b) {
    uint64_t x = ((const asked_row *)a)->key, y = ((const asked_row *)b)->key;
    return x < y ? -1 : x > y;
}

/* Fills and sorts asked[] (pthread_once: the first look-up of any thread). */
static void asked_build(void) {
    size_t n = 0;
    for (size_t k = 0; k < N_BUILTINS; k++) {
        const gt_family *f = gt_family_by_name(builtins[k].family);
        assert(f);
        for (int i = 0; i < GT_BENCH_BUILTIN_ITEMS && !builtins[k].drawn; i++) {
            gt_family_item it;
            builtin_family_item(k, f, i, &it);
            asked[n++] = (asked_row){question_key(it.question), k};
        }
    }
    assert(n <= sizeof asked / sizeof asked[0]);
    asked_n = n;
    qsort(asked, n, sizeof asked[0], asked_cmp);
}

/* Whether built-in `bench` asks a question of key `key`; an unknown name
 * (asserted against: callers name built-ins, job.c's pinned list) answers
 * 1, failing closed: a data job then refuses to render rather than risk one. */
static int asks_key(const char *bench, uint64_t key) {
    size_t k = 0;
    while (k < N_BUILTINS && strcmp(builtins[k].name, bench)) k++;
    assert(k < N_BUILTINS);
    if (k == N_BUILTINS) return 1;
    pthread_once(&asked_once, asked_build);
    size_t lo = 0, hi = asked_n;
    while (lo < hi) { /* the first row whose key is >= key */
        size_t mid = lo + (hi - lo) / 2;
        if (asked[mid].key < key) lo = mid + 1;
        else hi = mid;
    }
    for (; lo < asked_n && asked[lo].key == key; lo++)
        if (asked[lo].bench == k) return 1;
    return 0;
}

int gt_bench_builtin_asks(const char *bench, const char *question) {
    return asks_key(bench, question_key(question));
}

int gt_bench_builtins_ask(const char *const *benches, const char *question) {
    uint64_t key = question_key(question); /* hashed once for all of them */
    for (size_t b = 0; benches[b]; b++)
        if (asks_key(benches[b], key)) return 1;
    return 0;
}

void gt_bench_free(gt_bench *b) {
    if (!b) return;
    json_decref((json_t *)b->json);
    gt_free(b->items);
    gt_free(b);
}

static int text_field(const json_t *o, const char *f, const char **out, size_t line, gt_err *err) {
    if (gt_json_get_str(o, f, GT_BENCH_TEXT_MAX, out, err)) return gt_err_wrap(err, "benchmark line %zu", line);
    return 0;
}

/* A family_check spec: a family with levels and worked solutions, and a
 * token budget; its stop rule is fixed (the line after "Answer:"). */
static int parse_check_spec(const json_t *o, gt_bench *b, gt_err *err) {
    const char *fam;
    uint64_t mt = 0;
    if (json_object_get(o, "until"))
        return gt_err_set(err, GT_EINVAL, "benchmark spec: until is for generate_until (family_check stops after the "
                                          "answer's line)");
    if (gt_json_get_str(o, "family", GT_BENCH_NAME_MAX, &fam, err)) return gt_err_wrap(err, "benchmark spec (line 1)");
    b->family = gt_family_by_name(fam);
    if (!b->family || !b->family->scratchpad || b->family->min_level < 1)
        return gt_err_set(err, GT_EINVAL, "benchmark spec: family \"%s\": expected a family with levels and worked "
                                          "solutions (arith, sort, logic)", fam);
    if (gt_json_get_u64(o, "max_tokens", &mt, err) || mt < 1 || mt > GT_BENCH_MAX_TOKENS)
        return gt_err_set(err, GT_EINVAL, "benchmark spec: max_tokens: expected 1..%d", GT_BENCH_MAX_TOKENS);
    b->max_tokens = (int)mt;
    return 0;
}

/* A draw spec's "draw" object (family_check only): items, the levels
 * asked and the delay of its seed's block, each in range. */
static int parse_draw(const json_t *d, gt_bench *b, gt_err *err) {
    static const char *const keys[] = {"items", "levels", "delay", NULL};
    if (b->type != GT_BENCH_CHECK)
        return gt_err_set(err, GT_EINVAL, "benchmark spec: draw is for family_check (its items are a family's)");
    if (!json_is_object(d)) return gt_err_set(err, GT_EINVAL, "benchmark spec: draw: expected an object");
    if (gt_json_only_fields(d, keys, "benchmark spec: draw", err)) return GT_EINVAL;
    if (gt_json_get_u64(d, "items", &b->draw_items, NULL) || b->draw_items < 1 ||
        b->draw_items > GT_BENCH_DRAW_MAX_ITEMS)
        return gt_err_set(err, GT_EINVAL, "benchmark spec: draw.items: expected 1..%d", GT_BENCH_DRAW_MAX_ITEMS);
    if (gt_json_get_u64(d, "delay", &b->draw_delay, NULL) || b->draw_delay < 1 ||
        b->draw_delay > GT_BENCH_DRAW_MAX_DELAY)
        return gt_err_set(err, GT_EINVAL, "benchmark spec: draw.delay: expected 1..%d (blocks after the eval task's "
                                          "post whose seed draws the items)", GT_BENCH_DRAW_MAX_DELAY);
    const json_t *lv = json_object_get(d, "levels");
    json_int_t lo = json_integer_value(json_array_get(lv, 0)), hi = json_integer_value(json_array_get(lv, 1));
    if (!json_is_array(lv) || json_array_size(lv) != 2 || !json_is_integer(json_array_get(lv, 0)) ||
        !json_is_integer(json_array_get(lv, 1)) || lo < b->family->min_level || hi < lo || hi > b->family->max_level)
        return gt_err_set(err, GT_EINVAL, "benchmark spec: draw.levels: expected [lo, hi] in %d..%d for %s",
                          b->family->min_level, b->family->max_level, b->family->name);
    b->draw_lo = (int)lo, b->draw_hi = (int)hi, b->drawn = 1;
    return 0;
}

static int parse_spec(const json_t *o, gt_bench *b, gt_err *err) {
    static const char *const keys[] = {"name", "type", "until", "max_tokens", "family", "draw", NULL};
    const char *name, *type;
    if (gt_json_only_fields(o, keys, "benchmark spec (line 1)", err)) return GT_EINVAL;
    if (gt_json_get_str(o, "name", GT_BENCH_NAME_MAX, &name, err) || gt_json_get_str(o, "type", 32, &type, err))
        return gt_err_wrap(err, "benchmark spec (line 1)");
    snprintf(b->name, sizeof b->name, "%s", name);
    if (strcmp(type, "family_check") && json_object_get(o, "family"))
        return gt_err_set(err, GT_EINVAL, "benchmark spec: family is for family_check");
    if (strcmp(type, "family_check") && json_object_get(o, "draw"))
        return gt_err_set(err, GT_EINVAL, "benchmark spec: draw is for family_check (its items are a family's)");
    if (!strcmp(type, "family_check")) {
        b->type = GT_BENCH_CHECK;
        int rc = parse_check_spec(o, b, err);
        return rc || !json_object_get(o, "draw") ? rc : parse_draw(json_object_get(o, "draw"), b, err);
    }
    if (!strcmp(type, "multiple_choice")) {
        b->type = GT_BENCH_MC;
        if (json_object_get(o, "until") || json_object_get(o, "max_tokens"))
            return gt_err_set(err, GT_EINVAL, "benchmark spec: until/max_tokens are for generate_until");
        return 0;
    }
    if (strcmp(type, "generate_until"))
        return gt_err_set(err, GT_EINVAL, "benchmark spec: type \"%s\": expected multiple_choice, generate_until "
                                          "or family_check", type);
    b->type = GT_BENCH_GEN;
    uint64_t mt = 0;
    if (gt_json_get_u64(o, "max_tokens", &mt, err) || mt < 1 || mt > GT_BENCH_MAX_TOKENS)
        return gt_err_set(err, GT_EINVAL, "benchmark spec: max_tokens: expected 1..%d", GT_BENCH_MAX_TOKENS);
    b->max_tokens = (int)mt;
    json_t *u = json_object_get(o, "until");
    if (u) {
        if (!json_is_array(u) || json_array_size(u) > GT_BENCH_MAX_UNTIL)
            return gt_err_set(err, GT_EINVAL, "benchmark spec: until: expected at most %d stop strings", GT_BENCH_MAX_UNTIL);
        for (size_t i = 0; i < json_array_size(u); i++) {
            json_t *s = json_array_get(u, i);
            if (!json_is_string(s) || !json_string_length(s) || json_string_length(s) > GT_BENCH_UNTIL_MAX)
                return gt_err_set(err, GT_EINVAL, "benchmark spec: until[%zu]: expected 1..%d bytes", i, GT_BENCH_UNTIL_MAX);
            snprintf(b->until[b->n_until++], GT_BENCH_UNTIL_MAX + 1, "%s", json_string_value(s));
        }
    }
    return 0;
}

/* A family_check item: the family item it names must exist, and its prompt
 * and target must be that item's worker prompt and answer. */
static int parse_check_item(const json_t *o, const gt_bench *b, gt_bench_item *it, const char *what, gt_err *err) {
    uint64_t lv;
    if (gt_json_get_u64(o, "seed", &it->seed, err) || gt_json_get_u64(o, "index", &it->index, err) ||
        gt_json_get_u64(o, "level", &lv, err))
        return gt_err_wrap(err, "%s", what);
    if (lv < (uint64_t)b->family->min_level || lv > (uint64_t)b->family->max_level)
        return gt_err_set(err, GT_EINVAL, "%s: level %llu: expected %d..%d for %s", what, (unsigned long long)lv,
                          b->family->min_level, b->family->max_level, b->family->name);
    it->level = (int)lv;
    gt_family_item fi;
    char prompt[GT_FAMILY_QUESTION_MAX + 32];
    int rc = gt_family_generate_level(b->family, it->seed, it->index, it->level, &fi);
    assert(rc == 0);
    (void)rc;
    gt_bench_worker_prompt(fi.question, prompt, sizeof prompt);
    if (strcmp(prompt, it->prompt) || strcmp(fi.answer, it->target))
        return gt_err_set(err, GT_EINVAL, "%s: prompt or target is not %s item %llu (seed %llu, level %d)", what,
                          b->family->name, (unsigned long long)it->index, (unsigned long long)it->seed, it->level);
    return 0;
}

static int parse_item(const json_t *o, gt_bench *b, gt_bench_item *it, size_t line, gt_err *err) {
    static const char *const mc_keys[] = {"prompt", "choices", "gold", NULL};
    static const char *const gen_keys[] = {"prompt", "target", NULL};
    static const char *const check_keys[] = {"prompt", "target", "seed", "index", "level", NULL};
    char what[48];
    snprintf(what, sizeof what, "benchmark line %zu", line);
    const char *const *keys = b->type == GT_BENCH_MC ? mc_keys : b->type == GT_BENCH_GEN ? gen_keys : check_keys;
    if (gt_json_only_fields(o, keys, what, err)) return GT_EINVAL;
    if (text_field(o, "prompt", &it->prompt, line, err)) return GT_EINVAL;
    if (b->type == GT_BENCH_GEN) return text_field(o, "target", &it->target, line, err);
    if (b->type == GT_BENCH_CHECK)
        return text_field(o, "target", &it->target, line, err) || parse_check_item(o, b, it, what, err) ? GT_EINVAL : 0;
    json_t *c = json_object_get(o, "choices");
    if (!json_is_array(c) || json_array_size(c) < 2 || json_array_size(c) > GT_BENCH_MAX_CHOICES)
        return gt_err_set(err, GT_EINVAL, "%s: choices: expected 2..%d strings", what, GT_BENCH_MAX_CHOICES);
    it->n_choices = (int)json_array_size(c);
    for (int i = 0; i < it->n_choices; i++) {
        json_t *s = json_array_get(c, (size_t)i);
        if (!json_is_string(s) || !json_string_length(s) || json_string_length(s) > GT_BENCH_TEXT_MAX)
            return gt_err_set(err, GT_EINVAL, "%s: choices[%d]: expected a non-empty string", what, i);
        it->choices[i] = json_string_value(s);
    }
    uint64_t g;
    if (gt_json_get_u64(o, "gold", &g, err) || g >= (uint64_t)it->n_choices)
        return gt_err_set(err, GT_EINVAL, "%s: gold: expected an index 0..%d", what, it->n_choices - 1);
    it->gold = (int)g;
    return 0;
}

int gt_bench_parse(const char *text, size_t len, gt_bench **out, gt_err *err) {
    *out = NULL;
    if (len > GT_BENCH_MAX_BYTES)
        return gt_err_set(err, GT_ELIMIT, "benchmark of %zu bytes is over the limit of %d", len, GT_BENCH_MAX_BYTES);
    size_t lines = 1;
    for (size_t i = 0; i < len; i++) lines += text[i] == '\n';
    if (lines > GT_BENCH_MAX_ITEMS + 2)
        return gt_err_set(err, GT_ELIMIT, "benchmark has %zu lines; at most %d items", lines, GT_BENCH_MAX_ITEMS);
    gt_bench *b = gt_calloc(1, sizeof *b);
    json_t *all = json_array();
    if (!b || !all || !(b->items = gt_calloc(lines, sizeof *b->items))) {
        gt_free(b ? b->items : NULL);
        gt_free(b);
        json_decref(all);
        return gt_err_set(err, GT_ENOMEM, "out of memory");
    }
    b->json = all;
    gt_sha256(text, len, b->hash);
    int rc = 0, have_spec = 0;
    size_t line = 0;
    for (size_t a = 0; a < len && !rc;) {
        size_t e = a;
        while (e < len && text[e] != '\n') e++;
        line++;
        if (e > a) {
            json_t *o = NULL;
            rc = gt_json_parse(text + a, e - a, GT_BENCH_MAX_BYTES, &o, err);
            if (rc) gt_err_wrap(err, "benchmark line %zu", line);
            else if (json_array_append_new(all, o)) rc = gt_err_set(err, GT_ENOMEM, "out of memory");
            else if (!have_spec) rc = parse_spec(o, b, err), have_spec = 1;
            else if (b->drawn)
                rc = gt_err_set(err, GT_EINVAL, "benchmark line %zu: a drawn benchmark (its spec has a draw) has no "
                                                "item lines: its items are drawn from a block's seed", line);
            else {
                gt_bench_item *it = &b->items[b->n_items];
                rc = parse_item(o, b, it, line, err);
                if (!rc) gt_sha256(text + a, e - a, it->doc_hash), b->n_items++;
            }
        }
        a = e + 1;
    }
    if (!rc && !b->n_items && !b->drawn) rc = gt_err_set(err, GT_EINVAL, "benchmark has no items (line 1 is the spec, then one item a line)");
    if (rc) {
        gt_bench_free(b);
        return rc;
    }
    *out = b;
    return 0;
}

int gt_bench_open(const char *name_or_path, gt_bench **out, gt_err *err) {
    gt_buf t = GT_BUF_INIT;
    int rc;
    for (int i = 0; gt_bench_builtins[i]; i++)
        if (!strcmp(gt_bench_builtins[i], name_or_path)) {
            rc = gt_bench_builtin_text(name_or_path, &t, err);
            if (!rc) rc = gt_bench_parse((const char *)t.data, t.len, out, err);
            gt_buf_free(&t);
            return rc;
        }
    uint8_t *data;
    size_t len;
    if (!gt_file_exists(name_or_path))
        return gt_err_set(err, GT_ENOTFOUND,
                          "no benchmark \"%.200s\": not a file, nor a built-in (" BENCH_BUILTIN_LIST ")",
                          name_or_path);
    if ((rc = gt_file_read(name_or_path, GT_BENCH_MAX_BYTES, &data, &len, err))) return rc;
    rc = gt_bench_parse((const char *)data, len, out, err);
    gt_free(data);
    return rc;
}

size_t gt_bench_items(const gt_bench *b) {
    return b->drawn && !b->seeded ? (size_t)b->draw_items : b->n_items;
}

/* The family seed of draw `d` from block seed `seed`: 53 bits of
 * SHA-256(label with its NUL, seed, d as 8 bytes little-endian), so every
 * build draws the same items from the same block; 53 so the item line's
 * "seed" is a number every JSON tool reads exactly. */
static uint64_t draw_family_seed(const uint8_t seed[32], uint64_t d) {
    static const char label[] = "gotong drawn bench items v1";
    uint8_t msg[sizeof label + 32 + 8];
    memcpy(msg, label, sizeof label);
    memcpy(msg + sizeof label, seed, 32);
    for (int i = 0; i < 8; i++) msg[sizeof label + 32 + i] = (uint8_t)(d >> (8 * i));
    return gt_sha256_u64(msg, sizeof msg) & ((1ull << 53) - 1);
}

/* Item i of spec's draw from seed as a family_check line's object (a new
 * reference, NULL when out of memory, into *none when every draw asked a
 * fixed built-in's question). */
static json_t *draw_item(const gt_bench *spec, const uint8_t seed[32], uint64_t i, int *none) {
    int level = spec->draw_lo + (int)(i % (uint64_t)(spec->draw_hi - spec->draw_lo + 1));
    gt_family_item it;
    for (uint64_t d = 0; d < GT_BENCH_DRAW_TRIES; d++) {
        uint64_t fs = draw_family_seed(seed, d);
        int rc = gt_family_generate_level(spec->family, fs, i, level, &it);
        assert(rc == 0); /* the levels were checked against the family's when the spec was parsed */
        (void)rc;
        if (gt_bench_builtins_ask(gt_bench_draw_v1_avoid, it.question)) continue;
        char prompt[GT_FAMILY_QUESTION_MAX + 32];
        gt_bench_worker_prompt(it.question, prompt, sizeof prompt);
        return json_pack("{s:s,s:s,s:I,s:I,s:i}", "prompt", prompt, "target", it.answer, "seed", (json_int_t)fs,
                         "index", (json_int_t)i, "level", level);
    }
    *none = 1;
    return NULL;
}

/* Appends the JSONL of spec's draw from seed to out: its spec line without
 * the draw, then draw_items family_check item lines. */
static int draw_text(const gt_bench *spec, const uint8_t seed[32], gt_buf *out, gt_err *err) {
    int none = 0, rc = append_line(out, json_pack("{s:s,s:s,s:s,s:i}", "name", spec->name, "type", "family_check",
                                                  "family", spec->family->name, "max_tokens", spec->max_tokens));
    for (uint64_t i = 0; i < spec->draw_items && !rc; i++) {
        json_t *o = draw_item(spec, seed, i, &none);
        if (none)
            return gt_err_set(err, GT_ELIMIT, "%s item %llu: %d draws of %s were all built-in benchmark items",
                              spec->name, (unsigned long long)i, GT_BENCH_DRAW_TRIES, spec->family->name);
        rc = append_line(out, o);
    }
    return rc ? gt_err_set(err, GT_ENOMEM, "out of memory") : 0;
}

int gt_bench_draw(const gt_bench *spec, const uint8_t seed[32], gt_bench **out, gt_err *err) {
    assert(spec->drawn && !spec->seeded && spec->type == GT_BENCH_CHECK && spec->family);
    *out = NULL;
    gt_buf t = GT_BUF_INIT;
    int rc = draw_text(spec, seed, &t, err);
    if (!rc) rc = gt_bench_parse((const char *)t.data, t.len, out, err);
    gt_buf_free(&t);
    if (rc) return rc;
    gt_bench *b = *out;
    memcpy(b->hash, spec->hash, 32); /* the spec's: what the registry and the attestation name */
    b->drawn = b->seeded = 1;
    b->draw_lo = spec->draw_lo, b->draw_hi = spec->draw_hi;
    b->draw_items = spec->draw_items, b->draw_delay = spec->draw_delay;
    memcpy(b->draw_seed, seed, 32);
    return 0;
}
