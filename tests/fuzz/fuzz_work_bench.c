/* fuzz_work_bench.c: the benchmark file parser (bench.h) on arbitrary bytes:
 * a benchmark is outside input (any JSONL file, or one an eval task names).
 * What parses must hold its invariants: at least one item and at most the
 * limit, every item with a prompt, multiple-choice gold within its choices,
 * generate-until items with a target. */
#include <stdint.h>
#include <stdlib.h>

#include "work/eval/bench.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    gt_err err;
    gt_bench *b = NULL;
    if (gt_bench_parse((const char *)data, size, &b, &err)) return 0;
    if (!b || b->n_items < 1 || b->n_items > GT_BENCH_MAX_ITEMS) __builtin_trap();
    for (size_t i = 0; i < b->n_items; i++) {
        const gt_bench_item *it = &b->items[i];
        if (!it->prompt) __builtin_trap();
        if (b->type == GT_BENCH_MC && (it->n_choices < 2 || it->n_choices > GT_BENCH_MAX_CHOICES || it->gold < 0 ||
                                       it->gold >= it->n_choices))
            __builtin_trap();
        if (b->type == GT_BENCH_GEN && !it->target) __builtin_trap();
    }
    gt_bench_free(b);
    return 0;
}
