/* fuzz_work_result.c: the parsers of what a worker submits and another party
 * reads, on hostile bytes. The first byte picks the reader, the rest is the
 * submission:
 *   0  a data batch (gt_batch_parse), which a job's validator and its poster read
 *   1  a train manifest (gt_train_manifest_parse) against a fixed task, which its verifier reads
 *   2  an attestation's ledger view (gt_work_attestation_from_json), which a validator reads
 *   3  an eval results blob (gt_work_eval_check's line reading), which a validator reads
 *   4  a sample's output under its family's checker (gt_family_check), which a validator runs
 * Beyond not crashing: a refusal says why; what parses keeps its limits, and
 * where a canonical writer exists, writing it and parsing that again gives
 * the same value; a results blob is always judged (it names the model and
 * bench the task asks for), never accepted here (its root is not attested),
 * and saying why; a family's own answer and worked solution pass its checker. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/json.h"
#include "crypto/sha256.h"
#include "work/data/pipeline.h"
#include "work/eval/check.h"
#include "work/train_task.h"

#define FAIL() __builtin_trap() /* not assert: the check holds in Release builds too */
#define VIEW_MAX_BYTES (1u << 20) /* an attestation view, as the agent's client bounds a response */

/* A refusal must say why. */
static void refused(const gt_err *err) {
    if (!err->msg[0] || !memchr(err->msg, 0, sizeof err->msg)) FAIL();
}

/* Are two parsed samples the same provenance and text? */
static int same_sample(const gt_sample *a, const gt_sample *b) {
    return !memcmp(a->job, b->job, 32) && a->index == b->index && a->seed == b->seed &&
           !memcmp(a->contributor.b, b->contributor.b, 20) && !memcmp(a->model, b->model, 32) &&
           !strcmp(a->prompt, b->prompt) && !strcmp(a->output, b->output);
}

/* A batch: its samples within limits, and the canonical JSONL of them parses to the same samples. */
static void check_batch(const char *in, size_t len) {
    gt_err err = {0};
    gt_sample *s = NULL, *back = NULL;
    size_t n = 0, n_back = 0;
    if (gt_batch_parse(in, len, &s, &n, &err)) {
        refused(&err);
        return;
    }
    if (n < 1 || n > GT_JOB_MAX_BATCH) FAIL();
    for (size_t i = 0; i < n; i++)
        if (!s[i].prompt || !s[i].output || strlen(s[i].prompt) > GT_JOB_PROMPT_MAX ||
            strlen(s[i].output) > GT_SAMPLE_OUTPUT_MAX)
            FAIL();
    gt_buf out = GT_BUF_INIT;
    if (gt_batch_write(s, n, &out, &err)) FAIL();
    if (gt_batch_parse((const char *)out.data, out.len, &back, &n_back, &err) || n_back != n) FAIL();
    for (size_t i = 0; i < n; i++)
        if (!same_sample(&s[i], &back[i])) FAIL();
    gt_buf_free(&out);
    gt_samples_free(s, n);
    gt_samples_free(back, n_back);
}

/* The task the manifests answer: 12 steps, a checkpoint every 3 (so 4), base 0x01.. (as the seeds). */
static gt_train_task manifest_task(void) {
    gt_train_task t;
    memset(&t, 0, sizeof t);
    memset(t.base, 1, 32), memset(t.vocab, 2, 32), memset(t.dataset, 3, 32), memset(t.root, 4, 32);
    t.steps = 12, t.every = 3, t.checks = 2, t.run.accum = 1;
    t.run.opt = gt_train_opt_default();
    return t;
}

/* A manifest: the task's base and count, and its canonical JSON parses to the same manifest. */
static void check_manifest(const uint8_t *in, size_t len) {
    gt_train_task t = manifest_task();
    gt_train_manifest m, back;
    gt_err err = {0};
    if (gt_train_manifest_parse(in, len, &t, &m, &err)) {
        refused(&err);
        return;
    }
    if (m.n != t.steps / t.every || memcmp(m.base, t.base, 32)) FAIL();
    char *s = gt_train_manifest_json(&m);
    if (!s || gt_train_manifest_parse((const uint8_t *)s, strlen(s), &t, &back, &err) || memcmp(&m, &back, sizeof m))
        FAIL();
    free(s);
}

/* An attestation's view (JSON, as a node serves it): read or refused saying why; the bench name within bounds. */
static void check_view(const char *in, size_t len) {
    json_t *v = NULL;
    gt_work_attestation att;
    gt_err err = {0};
    if (gt_json_parse(in, len, VIEW_MAX_BYTES, &v, &err)) {
        refused(&err);
        return;
    }
    if (gt_work_attestation_from_json(v, &att, &err)) refused(&err);
    else if (!memchr(att.bench, 0, sizeof att.bench)) FAIL();
    json_decref(v);
}

/* The lines of a results blob as gt_work_eval_check counts them. */
static size_t results_lines(const char *text, size_t len) {
    size_t n = 0;
    for (size_t i = 0; i < len; i++) n += text[i] == '\n';
    return n + (len && text[len - 1] != '\n');
}

/* A results blob attested for arith-v1 by a model the validator also has:
 * every line is read (the task asks for as many items as the blob has
 * lines, when the bench has them), then the unattested root disagrees. The
 * model is never run: every path that would run it starts after the root. */
static void check_results(const char *in, size_t len) {
    static gt_bench *bench;
    gt_err err = {0};
    if (!bench && gt_bench_open("arith-v1", &bench, &err)) FAIL();
    gt_work_eval_spec spec = {.check = 1};
    memset(spec.model, 0x5a, 32);
    memcpy(spec.bench_hash, bench->hash, 32);
    strcpy(spec.bench, bench->name);
    size_t lines = results_lines(in, len);
    spec.limit = lines && lines < bench->n_items ? lines : 0;
    gt_llm llm = {0}; /* its id only: check_static judges without a model */
    memcpy(llm.id, spec.model, 32);
    gt_work_attestation att = {.items = spec.limit ? spec.limit : bench->n_items, .score_ppm = 0};
    memcpy(att.model, spec.model, 32), memcpy(att.bench_hash, spec.bench_hash, 32);
    strcpy(att.bench, spec.bench);
    gt_sha256(in, len, att.results);
    gt_work_check out;
    gt_buf evidence = GT_BUF_INIT;
    if (gt_work_eval_check(&spec, bench, &llm, &att, in, len, 7, &out, &evidence, &err)) FAIL();
    if (out.agree || !out.why[0] || !memchr(out.why, 0, sizeof out.why) || out.items_checked < 1) FAIL();
    if (out.item < -1 || (out.item >= 0 && (uint64_t)out.item >= lines)) FAIL();
    gt_buf_free(&evidence);
}

/* A sample's output under a family's checker: a verdict with its reason; the
 * item's own answer and worked solution pass. in[0] picks the family, in[1]
 * the item. */
static void check_family(const char *in, size_t len) {
    if (len < 2) return;
    const gt_family *f = gt_family_at((uint8_t)in[0] % gt_family_count());
    gt_family_item it;
    gt_family_generate(f, 7, (uint8_t)in[1], &it);
    gt_verdict v;
    gt_family_check(&it, in + 2, len - 2, &v);
    if (!v.reason[0] || !memchr(v.reason, 0, sizeof v.reason) || !memchr(v.extracted, 0, sizeof v.extracted))
        FAIL();
    char answer[GT_FAMILY_ANSWER_MAX + 16], pad[GT_FAMILY_SCRATCHPAD_MAX];
    int n = snprintf(answer, sizeof answer, "Answer: %s", it.answer);
    gt_family_check(&it, answer, (size_t)n, &v);
    if (!v.ok) FAIL();
    if (gt_family_scratchpad(&it, pad, sizeof pad) == 0) {
        gt_family_check(&it, pad, strlen(pad), &v);
        if (!v.ok) FAIL();
    }
}

/* One input: a selector byte, then the submission. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    const char *in = (const char *)data + 1;
    size_t len = size - 1;
    switch (data[0] % 5) {
    case 0: check_batch(in, len); break;
    case 1: check_manifest(data + 1, len); break;
    case 2: check_view(in, len); break;
    case 3: check_results(in, len); break;
    default: check_family(in, len); break;
    }
    return 0;
}
