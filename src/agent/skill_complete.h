/* skill_complete.h: the `complete` skill: deterministic greedy completion of
 * a list of prompts with a named model, verified by re-execution.
 *
 * Spec (a JSON object, unknown fields refused):
 *   {"model":"sha256:<hex of the GGUF file>", "prompts":["...", ...], "n_predict":N}
 * Result (canonical JSON: sorted keys, compact, so equal content is equal bytes):
 *   {"cites":["sha256:..."], "model":"sha256:...",
 *    "outputs":[{"prompt":"...","text":"...","tokens":[ids]}, ...]}
 * "cites" is present only when part of the work was subcontracted: it names
 * the sub-task results the outputs include. "text" is the detokenized output
 * with invalid UTF-8 replaced by U+FFFD (JSON needs UTF-8); "tokens" are the
 * exact ids.
 *
 * Verification re-runs every prompt and rebuilds the canonical result (with
 * the submitted cites), then compares bytes: accept only on identity.
 *
 * Subcontracting: an agent with max_prompts set does that many prompts
 * itself and posts the rest as a sub-task (parent = its task, paid from its
 * own wallet, bounty and stake in proportion to the prompts handed on),
 * verifies the sub-result by re-execution when it arrives, and cites it. */
#ifndef GT_AGENT_SKILL_COMPLETE_H
#define GT_AGENT_SKILL_COMPLETE_H

#include "agent/agent.h"

extern const gt_skill gt_skill_complete;

/* A `complete` spec, checked: model and prompts point into the spec's JSON. */
typedef struct gt_complete_job {
    const char *model;
    const json_t *prompts; /* n_prompts strings, each at most GT_AGENT_PROMPT_MAX_BYTES */
    int n_prompts, n_predict;
} gt_complete_job;

/* Checks and reads a spec (the shape above; unknown fields refused, naming
 * the field). A spec is outside input: anyone may post one. */
int gt_complete_spec_parse(const json_t *spec, gt_complete_job *out, gt_err *err);
/* Builds a canonical `complete` spec (caller frees with free()). */
char *gt_complete_spec(const char *model_id, const char *const *prompts, int n_prompts, int n_predict);

/* A sub-task's share of its parent's amount: floor(units x part / whole),
 * at least 1, in a 128-bit product (units x part overflowed 64 bits for a
 * bounty above UINT64_MAX / part before). Assumes 0 < part <= whole. */
uint64_t gt_complete_sub_units(uint64_t units, uint64_t part, uint64_t whole);

#endif
