/* fuzz_agent_card.c: what agents read from strangers, on hostile bytes. The
 * first byte picks the reader, the rest is the document:
 *   0  an agent card (gt_card_parse), fetched from the URL an agent registered
 *   1  a `complete` task's spec (gt_complete_spec_parse), which any poster writes
 *   2  a `train` task's spec (gt_train_task_parse), which any poster writes
 * (the `generate` and `eval` specs are fuzz_work_spec's.) Beyond not
 * crashing: a refusal says why; what parses keeps its limits (strings
 * NUL-terminated within their bounds, counts within theirs); and the
 * canonical writer's text of it parses to the same value. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "agent/skill_complete.h"
#include "base/json.h"
#include "chain/registry.h"
#include "work/train_task.h"

#define FAIL() __builtin_trap() /* not assert: the check holds in Release builds too */

/* A refusal must say why. */
static void refused(const gt_err *err) {
    if (!err->msg[0] || !memchr(err->msg, 0, sizeof err->msg)) FAIL();
}

/* Is s NUL-terminated within cap bytes, and at most max bytes long? */
static int bounded(const char *s, size_t cap, size_t max) {
    const char *end = memchr(s, 0, cap);
    return end && (size_t)(end - s) <= max;
}

/* The limits gt_card_parse promises: bounded strings, an http(s) URL
 * without a trailing slash, skill and role counts. */
static int card_ok(const gt_card *c) {
    if (!bounded(c->name, sizeof c->name, GT_CARD_NAME_MAX) || !bounded(c->url, sizeof c->url, GT_CARD_URL_MAX))
        return 0;
    size_t ul = strlen(c->url);
    if ((strncmp(c->url, "http://", 7) && strncmp(c->url, "https://", 8)) || c->url[ul - 1] == '/') return 0;
    if (c->n_skills > GT_CARD_MAX_SKILLS || (c->roles & ~(GT_CARD_ROLE_WORKER | GT_CARD_ROLE_EVALUATOR))) return 0;
    for (size_t i = 0; i < c->n_skills; i++)
        if (!bounded(c->skills[i], sizeof c->skills[i], GT_CARD_SKILL_MAX)) return 0;
    return 1;
}

/* A card: within its limits, and the card our node would serve for it parses to the same card. */
static void check_card(const char *in, size_t len) {
    gt_card c, back;
    gt_err err = {0};
    if (gt_card_parse(in, len, &c, &err)) {
        refused(&err);
        return;
    }
    if (!card_ok(&c)) FAIL();
    json_t *j = gt_card_to_json(&c);
    char *t = j ? gt_json_dump(j) : NULL;
    if (!t || gt_card_parse(t, strlen(t), &back, &err) || memcmp(&c, &back, sizeof c)) FAIL();
    free(t);
    json_decref(j);
}

/* The spec JSON as an agent reads a spec blob: an object, or refused saying why. */
static json_t *spec_json(const char *in, size_t len) {
    json_t *o = NULL;
    gt_err err = {0};
    if (gt_json_parse(in, len, GT_AGENT_SPEC_MAX_BYTES, &o, &err)) refused(&err);
    return o;
}

/* The prompts of a parsed `complete` spec, as C strings (caller frees the array). */
static const char **prompt_list(const gt_complete_job *cs) {
    const char **p = malloc(sizeof *p * (size_t)cs->n_prompts);
    for (int i = 0; p && i < cs->n_prompts; i++) p[i] = json_string_value(json_array_get(cs->prompts, (size_t)i));
    return p;
}

/* Is every prompt of a the same text as b's, none holding a NUL? */
static int same_prompts(const gt_complete_job *a, const gt_complete_job *b) {
    if (a->n_prompts != b->n_prompts) return 0;
    for (int i = 0; i < a->n_prompts; i++) {
        const json_t *x = json_array_get(a->prompts, (size_t)i), *y = json_array_get(b->prompts, (size_t)i);
        if (json_string_length(x) != json_string_length(y) || strlen(json_string_value(x)) != json_string_length(x) ||
            strcmp(json_string_value(x), json_string_value(y)))
            return 0;
    }
    return 1;
}

/* A `complete` spec: within its limits, and gt_complete_spec's text of it parses to the same spec. */
static void check_complete(const char *in, size_t len) {
    json_t *o = spec_json(in, len), *o2 = NULL;
    gt_complete_job cs, back;
    gt_err err = {0};
    if (!o) return;
    if (gt_complete_spec_parse(o, &cs, &err)) {
        refused(&err);
        json_decref(o);
        return;
    }
    if (cs.n_prompts < 1 || cs.n_prompts > GT_AGENT_MAX_PROMPTS || cs.n_predict < 0 ||
        cs.n_predict > GT_AGENT_MAX_PREDICT || strlen(cs.model) > 71)
        FAIL();
    const char **p = prompt_list(&cs);
    char *t = p ? gt_complete_spec(cs.model, p, cs.n_prompts, cs.n_predict) : NULL;
    if (!t || !(o2 = spec_json(t, strlen(t))) || gt_complete_spec_parse(o2, &back, &err)) FAIL();
    if (strcmp(cs.model, back.model) || cs.n_predict != back.n_predict || !same_prompts(&cs, &back)) FAIL();
    free(p);
    free(t);
    json_decref(o2);
    json_decref(o);
}

/* A `train` spec: within its limits, and gt_train_task_spec's text of it parses to the same task. */
static void check_train(const char *in, size_t len) {
    json_t *o = spec_json(in, len), *o2 = NULL;
    gt_train_task t, back;
    gt_err err = {0};
    if (!o) return;
    if (gt_train_task_parse(o, &t, &err)) {
        refused(&err);
        json_decref(o);
        return;
    }
    if (t.steps < 1 || t.every < 1 || t.steps % t.every || t.steps / t.every > GT_TRAIN_TASK_MAX_STRETCHES ||
        t.checks < 1 || t.checks > GT_TRAIN_TASK_MAX_CHECKS || t.run.opt.min_lr > t.run.opt.lr)
        FAIL();
    char *s = gt_train_task_spec(&t);
    if (!s || !(o2 = spec_json(s, strlen(s))) || gt_train_task_parse(o2, &back, &err) || memcmp(&t, &back, sizeof t))
        FAIL();
    free(s);
    json_decref(o2);
    json_decref(o);
}

/* One input: a selector byte, then the document. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    const char *in = (const char *)data + 1;
    switch (data[0] % 3) {
    case 0: check_card(in, size - 1); break;
    case 1: check_complete(in, size - 1); break;
    default: check_train(in, size - 1); break;
    }
    return 0;
}
