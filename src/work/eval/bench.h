/* bench.h: benchmarks: a JSONL file whose first line is the spec and each
 * further line one item:
 *   {"name":"my-bench","type":"multiple_choice"}                       spec
 *   {"prompt":"Question: ...\nAnswer:","choices":[" 12"," 13"],"gold":0} item
 * or
 *   {"name":"my-gen","type":"generate_until","until":["\n"],"max_tokens":32}
 *   {"prompt":"Question: ...\nAnswer:","target":" 42"}
 * multiple_choice items are scored by the summed log-likelihood of each
 * choice as the continuation of the prompt (acc: the likeliest is gold;
 * acc_norm: the likeliest per byte of the choice, as lm-evaluation-harness
 * reports them); generate_until items by greedy generation up to the first
 * stop string, exact match of the trimmed text with the trimmed target.
 * A third type asks a task family's items in the worker model's format and
 * judges the answer with the family's checker:
 *   {"name":"worker-logic-v1","type":"family_check","family":"logic","max_tokens":192}
 *   {"prompt":"Q: Let A = true. Is not A true or false?\nA: ","target":"false","seed":99,"index":0,"level":1}
 * Each item names the family item it asks (seed, index, level); parsing
 * regenerates that item and refuses a line whose prompt or target is not
 * the item's, so the checker only ever sees the generator's own item. The
 * model writes its worked solution greedily until its end of text, its
 * token budget, or the line break after a marked "Answer:"; the item is
 * correct when gt_family_check accepts the output (metric "checked").
 * A benchmark's hash is the SHA-256 of its file bytes.
 *
 * Built in, generated from the procedural families with seed 1, items
 * 0..GT_BENCH_BUILTIN_ITEMS-1, versioned so a result names exactly what was
 * asked: arith-v1, sort-v1, strings-v1 (generate_until), units-v1 (4
 * choices), logic-v1 (2 choices). worker-arith-v1, worker-logic-v1 and
 * worker-sort-v1 (family_check) ask arith, logic and sort items of seed
 * GT_BENCH_WORKER_SEED (the worker recipe's held-out seed, never trained
 * on), levels in turn from the family's lowest: + - * of 1..3 digits (the
 * goals' range), logic of depth 1..3, lists of 2..5 items.
 *
 * Drawn (held-out) benchmarks: a family_check spec line with a "draw"
 * object and no item lines,
 *   {"draw":{"delay":2,"items":200,"levels":[1,3]},"family":"arith","max_tokens":192,
 *    "name":"held-arith-v1","type":"family_check"}
 * whose items nobody knows when a model is committed to an eval of it: they
 * are drawn (gt_bench_draw) from the draw seed of the ledger block `delay`
 * blocks after the one that posted the eval task (the task's spec names the
 * model), a seed no party but the block-making node knows before that block
 * (ledger/seed.h). Parsing takes the spec alone (n_items 0, drawn 1); the
 * draw makes a bench of draw_items family_check items, item i the family's
 * item i at level lo + i % (hi - lo + 1) under a family seed hashed from
 * the block seed, redrawn while a fixed built-in of gt_bench_draw_v1_avoid
 * asks its question. The hash of either is the SHA-256 of the spec's bytes
 * (the same for every draw: what the registry and an attestation name);
 * each results line's doc_hash names the item drawn. Built in: held-arith-v1,
 * held-logic-v1, held-sort-v1 (the worker-* benchmarks' families, levels
 * and token budget, GT_BENCH_DRAW_DELAY, GT_BENCH_BUILTIN_ITEMS items). */
#ifndef GT_WORK_BENCH_H
#define GT_WORK_BENCH_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/err.h"
#include "work/data/families.h"

#define GT_BENCH_MAX_BYTES (64 * 1024 * 1024)
#define GT_BENCH_MAX_ITEMS 100000
#define GT_BENCH_MAX_CHOICES 16
#define GT_BENCH_MAX_UNTIL 4
#define GT_BENCH_UNTIL_MAX 32         /* bytes of one stop string */
#define GT_BENCH_TEXT_MAX (16 * 1024) /* prompt, choice or target bytes */
#define GT_BENCH_MAX_TOKENS 1024
#define GT_BENCH_NAME_MAX 64
#define GT_BENCH_BUILTIN_ITEMS 200
#define GT_BENCH_BUILTIN_SEED 1
#define GT_BENCH_WORKER_SEED 99       /* worker-* built-ins: the recipe's held-out seed */
#define GT_BENCH_WORKER_TOKENS 192    /* worker-* built-ins: a worked solution's token budget */
#define GT_BENCH_DRAW_DELAY 2         /* held-* built-ins: the seed's block is the post's + 2 (as panel draws) */
#define GT_BENCH_DRAW_MAX_DELAY 1024  /* a draw spec's delay: 1..this blocks */
#define GT_BENCH_DRAW_MAX_ITEMS 10000 /* a draw spec's items: 1..this */
#define GT_BENCH_DRAW_TRIES 64        /* draws of one item before giving up (a built-in's question each time) */

typedef enum gt_bench_type { GT_BENCH_MC = 0, GT_BENCH_GEN = 1, GT_BENCH_CHECK = 2 } gt_bench_type;

typedef struct gt_bench_item {
    const char *prompt;
    const char *choices[GT_BENCH_MAX_CHOICES];
    int n_choices, gold;
    const char *target;
    uint64_t seed, index; /* family_check: the family item asked */
    int level;
    uint8_t doc_hash[32]; /* sha256 of the item's line */
} gt_bench_item;

typedef struct gt_bench {
    char name[GT_BENCH_NAME_MAX + 1];
    gt_bench_type type;
    char until[GT_BENCH_MAX_UNTIL][GT_BENCH_UNTIL_MAX + 1];
    int n_until, max_tokens;
    const gt_family *family; /* family_check: whose items and checker */
    gt_bench_item *items;
    size_t n_items;
    uint8_t hash[32];
    void *json; /* the parsed lines (strings above point into them) */
    /* A drawn benchmark: its spec's draw (items, levels lo..hi, delay) and,
     * once drawn (seeded 1), the block seed its items were drawn from. */
    int drawn, seeded, draw_lo, draw_hi;
    uint64_t draw_items, draw_delay;
    uint8_t draw_seed[32];
} gt_bench;

/* Parses a benchmark file's text. Free with gt_bench_free. */
int gt_bench_parse(const char *text, size_t len, gt_bench **out, gt_err *err);
/* A built-in by name, or a file path. */
int gt_bench_open(const char *name_or_path, gt_bench **out, gt_err *err);
void gt_bench_free(gt_bench *b); /* accepts NULL */

/* Draws a drawn benchmark's items from a block's draw seed (spec: parsed,
 * drawn, not seeded): a new bench of spec's name, hash and draw fields with
 * seeded 1, the same items byte for byte for the same seed on any build of
 * this version. GT_ELIMIT if GT_BENCH_DRAW_TRIES draws of an item were all
 * built-in questions (beyond chance: something is wrong). */
int gt_bench_draw(const gt_bench *spec, const uint8_t seed[32], gt_bench **out, gt_err *err);
/* The items a run of b asks: a drawn spec's draw_items before its draw. */
size_t gt_bench_items(const gt_bench *b);
/* The fixed built-ins whose questions a draw never asks: pinned with the
 * draw's version (a validator must draw what the worker drew, whatever
 * built-ins its build has); test_eval checks it covers the fixed ones. */
extern const char *const gt_bench_draw_v1_avoid[];
/* 1 when `name` is a built-in drawn benchmark (held-*); every one draws
 * GT_BENCH_DRAW_DELAY blocks after its task's post (the leaderboard's
 * drawBlock counts on it: a built-in of another delay is a new constant). */
int gt_bench_builtin_drawn(const char *name);

/* The spec's type as written ("multiple_choice", "generate_until",
 * "family_check") and the metric a result line carries ("acc",
 * "exact_match", "checked"). */
const char *gt_bench_type_name(gt_bench_type t);
const char *gt_bench_metric(gt_bench_type t);
/* A family_check item's family item (regenerated: seed, index, level). */
void gt_bench_family_item(const gt_bench *b, size_t i, gt_family_item *out);
/* The worker model's prompt for a question: "Q: <question>\nA: " (the
 * recipe's training rows and the demo's data job ask it so). */
void gt_bench_worker_prompt(const char *question, char *out, size_t cap);

/* The JSONL text of a built-in (appended to out); GT_ENOTFOUND naming the
 * built-ins when there is none of that name. */
int gt_bench_builtin_text(const char *name, gt_buf *out, gt_err *err);
/* Names of the built-ins, NULL-terminated. */
extern const char *const gt_bench_builtins[];
/* 1 when built-in `bench` (a name of gt_bench_builtins; anything else is a
 * bug) asks `question` in one of its items: a family item's question text as
 * the family writes it. Compared by 64 bits of SHA-256, so another question
 * may rarely be taken for one it asks (never the reverse): data jobs use it
 * to stay clear of the benchmarks (job.c), where a false alarm costs one
 * redraw. Thread-safe; the first call builds the table. An unknown name
 * (asserted against) answers 1, failing closed. */
int gt_bench_builtin_asks(const char *bench, const char *question);
/* 1 when any built-in of the NULL-terminated list benches asks `question`
 * (gt_bench_builtin_asks of each, the question hashed once). */
int gt_bench_builtins_ask(const char *const *benches, const char *question);

/* The registry of benchmarks the ledger ranks scores on: each built-in's
 * name, SHA-256 and item count as constants, so a ledger rule never depends
 * on regenerating a benchmark (test_eval checks the constants against the
 * generators). A new or changed built-in is a new name (…-v2) and a new row. */
typedef struct gt_bench_ref {
    const char *name;
    const char *hash_hex; /* 64 lowercase hex digits */
    uint64_t items;
} gt_bench_ref;
/* The registry row of `name`, or NULL when it is not a registered benchmark. */
const gt_bench_ref *gt_bench_registry_find(const char *name);
/* 1 if hash is the registered SHA-256 of r. */
int gt_bench_registry_hash_is(const gt_bench_ref *r, const uint8_t hash[32]);

#endif
