/* check.h: evaluation as market work, agent side: the spec of an `eval`
 * task, an evaluator's attestation of a run, and a validator's check of
 * someone else's attestation by re-executing random items. The ledger side
 * (eval_attest / eval_cosign and their rules) is in attest.c; work.h lists
 * the action kinds.
 *
 * Eval task spec (the task_post spec blob; strict JSON, keys in any order):
 *   {"type": "eval", "version": 1,
 *    "model": "sha256:<hex>",       the GGUF file to evaluate
 *    "bench": "arith-v1",            a built-in name or the bench's own name
 *    "benchHash": "sha256:<hex>",    the benchmark file's sha256 (bench.h)
 *    "limit": 50,                    items 0..limit-1 (0: every item)
 *    "check": 16}                    items each validator re-executes (1..GT_WORK_EVAL_MAX_CHECK;
 *                                    ranked only at min(items, GT_WORK_EVAL_CHECK_FLOOR) or more)
 *
 * An agent's flow (the demo and the agent runtime call these):
 *   poster     gt_work_eval_spec_json -> blob -> task_post kind "eval"
 *   evaluator  gt_work_eval_attest (runs the bench, results blob + values)
 *              -> upload results -> gt_work_attest_fill on an eval_attest
 *   validator  gt_work_attestation_from_json (the ledger's view) + results
 *              blob -> gt_work_eval_check (checks root, score, re-executes
 *              `check` random items) -> upload evidence -> gt_work_cosign_fill */
#ifndef GT_WORK_CHECK_H
#define GT_WORK_CHECK_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/err.h"
#include "ledger/action.h"
#include "work/eval/bench.h"
#include "work/llm.h"
#include "work/work.h"

#define GT_WORK_EVAL_SPEC_MAX_BYTES 4096
#define GT_WORK_EVAL_MAX_CHECK 1000
#define GT_WORK_EVAL_DEFAULT_CHECK GT_WORK_EVAL_CHECK_FLOOR /* what ranks on the leaderboard (work.h) */
#define GT_WORK_RESULTS_MAX_BYTES (64 * 1024 * 1024) /* a results blob a validator reads */

typedef struct gt_work_eval_spec {
    uint8_t model[32];
    char bench[GT_BENCH_NAME_MAX + 1];
    uint8_t bench_hash[32];
    uint64_t limit, check;
} gt_work_eval_spec;

/* Parses and checks an eval spec (at most GT_WORK_EVAL_SPEC_MAX_BYTES):
 * unknown fields, wrong types and out-of-range values are refused naming the field. */
int gt_work_eval_spec_parse(const char *text, size_t len, gt_work_eval_spec *out, gt_err *err);
/* The spec's canonical JSON (compact, keys sorted): the blob a poster stores.
 * Caller frees with free(); NULL when out of memory. */
char *gt_work_eval_spec_json(const gt_work_eval_spec *s);
/* 0 when s's check is at least gt_work_eval_check_floor(items) (work.h),
 * items being its limit, or its registered bench's items with limit 0 (or
 * GT_WORK_EVAL_CHECK_FLOOR when the bench is not registered); else
 * GT_EINVAL saying what is expected. A poster's check, not the ledger's
 * rule: the ledger takes any check 1..GT_WORK_EVAL_MAX_CHECK, but the
 * leaderboard ranks no score judged under less, so a poster that means its
 * task to rank calls this before posting (`gotong task post --kind eval`). */
int gt_work_eval_spec_floor_ok(const gt_work_eval_spec *s, gt_err *err);

/* What an eval_attest carries (besides task and slot). */
typedef struct gt_work_attestation {
    uint8_t model[32], bench_hash[32], root[32], results[32];
    char bench[GT_BENCH_NAME_MAX + 1];
    uint64_t score_ppm, items;
} gt_work_attestation;

/* Evaluator: runs spec's items of b with llm, appends the results file
 * (JSONL, eval.h) to results and fills att. Refuses (GT_EINVAL) when b or
 * llm is not what the spec names. */
int gt_work_eval_attest(const gt_work_eval_spec *spec, const gt_bench *b, gt_llm *llm, gt_buf *results,
                        gt_work_attestation *att, gt_err *err);

/* Fields of an action already made with gt_action_init(a, &gt_kind_eval_attest, ...). */
void gt_work_attest_fill(gt_action *a, const uint8_t task[32], uint64_t slot, const gt_work_attestation *att);
/* Fields of an action made with gt_action_init(a, &gt_kind_eval_cosign, ...). */
void gt_work_cosign_fill(gt_action *a, const uint8_t attestation[32], uint64_t items_checked, int agree,
                         const uint8_t evidence[32]);
/* Reads the values of an attestation from its ledger view
 * (gt_work_attestation_get's JSON, as the node serves it). */
int gt_work_attestation_from_json(const json_t *view, gt_work_attestation *out, gt_err *err);

typedef struct gt_work_check {
    int agree;                /* 1: every check passed */
    uint64_t items_checked;   /* items re-executed */
    int64_t item;             /* the first item that did not match, or -1 */
    char why[GT_ERR_MSG_MAX]; /* what failed, "" when agree */
} gt_work_check;

/* Validator: checks the attestation att against the results blob
 * results[0..len) and the task's spec: the blob's sha256, the model and bench
 * the spec asked for, the line count, the Merkle root, the score recomputed
 * from the lines, then re-executes min(spec->check, items) distinct items
 * chosen by `seed` (the validator's own choice, made after the results were
 * committed) and compares each line byte for byte. Fills out and appends the
 * evidence blob (JSON: what was checked, and on a mismatch the attested and
 * the re-executed line) to evidence. Returns an error only when it cannot
 * judge: the validator's own model or bench is not the one attested, b is
 * a drawn bench's spec and not its draw (GT_EINVAL), the blob is not the
 * attested one (a bad download), out of memory. */
int gt_work_eval_check(const gt_work_eval_spec *spec, const gt_bench *b, gt_llm *llm, const gt_work_attestation *att,
                       const void *results, size_t len, uint64_t seed, gt_work_check *out, gt_buf *evidence, gt_err *err);

#endif
