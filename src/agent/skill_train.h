/* skill_train.h: the `train` skill: training as market work, verified by
 * re-executing stretches of it (work/train_task.h has the spec, the
 * manifest and the draw).
 *
 *   worker    claims a slot of a `train` task, fetches the committed base
 *             checkpoint, vocabulary and dataset from the node's blob store,
 *             trains spec.steps steps, uploads a checkpoint every spec.every
 *             steps and submits the manifest of their ids.
 *   verifier  fetches every checkpoint of the manifest, checks each is the
 *             base's model at its step, re-executes spec.checks stretches
 *             drawn from (task, slot, attempt, result) and its own secret
 *             (gt_agent_secret_seed: the worker cannot know which) and
 *             accepts only when each re-executed stretch ends in the very
 *             bytes of the checkpoint the manifest names after it. Anything
 *             missing, malformed or different is a rejection with the reason.
 * Files live in a temporary folder of the agent's (TMPDIR or /tmp) for the
 * length of one call. */
#ifndef GT_AGENT_SKILL_TRAIN_H
#define GT_AGENT_SKILL_TRAIN_H

#include "agent/agent.h"

extern const gt_skill gt_skill_train;

#endif
