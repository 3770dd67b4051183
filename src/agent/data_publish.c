/* data_publish.c: the poster's dataset publication (ag_data_publish): the
 * paid batches of a generate task, each re-validated by the poster's own
 * pipeline, exported with their provenance and published on the ledger.
 * Split out of skill_generate.c, whose skills judge one batch at a time. */
#include <assert.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/agent_impl.h"
#include "agent/skill_generate.h"
#include "base/alloc.h"
#include "base/file.h"
#include "base/hex.h"
#include "base/json.h"
#include "crypto/addr.h"
#include "crypto/keccak.h"
#include "crypto/sha256.h"
#include "store/blob.h"
#include "work/data/batch.h"
#include "work/data/export.h"
#include "work/data/pipeline.h"
#include "work/work.h"

typedef struct publish_args {
    const uint8_t *task, *job, *root, *manifest;
    uint64_t rows;
} publish_args;

static int fill_publish(void *arg, gt_action *act, gt_err *err) {
    const publish_args *x = arg;
    gt_action_set_b32(act, "task", x->task);
    gt_action_set_b32(act, "job", x->job);
    gt_action_set_b32(act, "root", x->root);
    gt_action_set_u64(act, "rows", x->rows);
    gt_action_set_b32(act, "manifest", x->manifest);
    return 0;
}

/* A paid batch to re-validate, and the slots its verdict was judged
 * against that still hold the result they held then (sorted). */
typedef struct paid_batch {
    const uint8_t *task_id;
    const json_t *sl;
    uint64_t slot;
    uint64_t *against;
    size_t n_against;
} paid_batch;

static int by_slot(const void *x, const void *y) {
    uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;
    return a < b ? -1 : a > b;
}

/* Judged first, re-validated first: fewer batches against, then slot. */
static int by_order(const void *x, const void *y) {
    const paid_batch *a = x, *b = y;
    if (a->n_against != b->n_against) return a->n_against < b->n_against ? -1 : 1;
    return a->slot < b->slot ? -1 : a->slot > b->slot;
}

static int by_index(const void *x, const void *y) {
    const gt_sample *a = x, *b = y;
    return a->index < b->index ? -1 : a->index > b->index;
}

/* Fills b->against for the paid slot b->sl: the slots listed in its
 * verdict's reason blob, or (a verdict without one, e.g. a quorum's) every
 * paid slot below it; only those that still hold the result listed. */
static int paid_against(gt_agent *a, const json_t *task, paid_batch *b, gt_err *err) {
    json_t *l = NULL;
    size_t i;
    json_t *x;
    if (ag_gen_verdict_against(a, b->sl, &l, err)) return err->code;
    if (!l) {
        l = json_array();
        json_array_foreach(json_object_get(task, "slotList"), i, x) {
            const char *st = json_string_value(json_object_get(x, "state"));
            if ((uint64_t)json_integer_value(json_object_get(x, "slot")) < b->slot && st && !strcmp(st, "paid"))
                json_array_append_new(l, json_pack("{s:O,s:O}", "slot", json_object_get(x, "slot"), "result",
                                                   json_object_get(x, "result")));
        }
    }
    b->against = gt_malloc(sizeof(uint64_t) * (json_array_size(l) + 1));
    if (!l || !b->against) {
        json_decref(l);
        return gt_err_set(err, GT_ENOMEM, "out of memory");
    }
    json_array_foreach(l, i, x) {
        const json_t *sl = ag_gen_find_slot(task, (uint64_t)json_integer_value(json_object_get(x, "slot")));
        const char *then = json_string_value(json_object_get(x, "result"));
        const char *now = sl ? json_string_value(json_object_get(sl, "result")) : NULL;
        if (then && now && !strcmp(then, now)) b->against[b->n_against++] = (uint64_t)json_integer_value(json_object_get(x, "slot"));
    }
    json_decref(l);
    qsort(b->against, b->n_against, sizeof(uint64_t), by_slot);
    size_t m = 0; /* each slot once: at most as many as the task has */
    for (size_t k = 0; k < b->n_against; k++)
        if (!m || b->against[m - 1] != b->against[k]) b->against[m++] = b->against[k];
    b->n_against = m;
    return 0;
}

/* Re-validates one paid batch with p (which holds what its verdict was
 * judged against) and moves its accepted samples onto acc when the count is
 * the one the ledger paid; a batch whose count is not is left out of the
 * dataset (logged; *left_out counts it) and the others go on: when any such
 * batch stopped the whole publication, a worker whose made-up sample a
 * validator's draw missed and this poster's caught could keep the job from
 * ever being published. The samples it re-runs are drawn from this
 * poster's secret over the task, slot, attempt and batch (the same draw on
 * every re-run). A draw anyone could compute (it was seeded by the slot
 * number) let a worker keep made-up samples out of it, so that once a
 * validator's draw missed them they were published under this poster's
 * root, or put one in it, so that a batch the validator paid made this
 * poster refuse the whole dataset for sure (now only if its draw finds it). */
static int revalidate(gt_agent *a, const gt_job_spec *spec, gt_llm *llm, gt_pipeline *p, const paid_batch *b,
                      gt_sample **acc, size_t *n, size_t *left_out, gt_err *err) {
    const char *rid = json_string_value(json_object_get(b->sl, "result"));
    gt_addr w;
    if (gt_addr_parse(json_string_value(json_object_get(b->sl, "worker")), &w, NULL))
        return gt_err_set(err, GT_EINVAL, "batch %" PRIu64 " has no worker", b->slot);
    uint8_t *blob = NULL, what[32];
    size_t len = 0, ns = 0;
    gt_sample *s = NULL;
    gt_work_batch_verdict v;
    gt_buf reason = GT_BUF_INIT;
    gt_pipeline_opts o = {.judge = spec->judge ? llm : NULL, .regen = llm};
    int rc = gt_client_blob_get(gt_agent_client(a), rid, GT_AGENT_RESULT_MAX_BYTES, &blob, &len, err);
    if (!rc) {
        ag_gen_draw_what(b->task_id, b->sl, b->slot, blob, len, "publish", what);
        o.spot_seed = gt_agent_secret_seed(a, what);
    }
    if (!rc) rc = gt_work_validate_batch(p, spec, &o, b->slot, &w, blob, len, &v, &reason, &s, &ns, err);
    uint64_t paid = rc ? 0 : gt_agent_slot_paid(b->sl, v.total);
    int keep = !rc && paid == v.accepted;
    if (!rc && !keep) {
        gt_agent_logf(a, "data job %s: batch %" PRIu64 ": this re-validation accepts %" PRIu64 " samples but the "
                      "verdict paid %" PRIu64 "; the batch is left out of the dataset", spec->name, b->slot,
                      v.accepted, paid);
        (*left_out)++;
    }
    for (size_t k = 0; keep && k < ns; k++) {
        if (!s[k].accepted) continue;
        gt_sample *nv = gt_realloc(*acc, (*n + 1) * sizeof *nv);
        if (!nv) {
            rc = gt_err_set(err, GT_ENOMEM, "out of memory");
            break;
        }
        *acc = nv;
        (*acc)[(*n)++] = s[k]; /* moves the strings */
        memset(&s[k], 0, sizeof s[k]);
    }
    gt_samples_free(s, ns);
    gt_buf_free(&reason);
    gt_free(blob);
    return rc;
}

/* Re-validates every paid batch into the accepted samples (*out, *n, by
 * index), each against exactly what its verdict was judged against, in the
 * order they were judged: one pipeline grows while each batch was judged
 * against all the earlier ones (one validator judging in turn), and is
 * rebuilt from the listed batches when not. */
static int collect_accepted(gt_agent *a, const json_t *task, const uint8_t task_id[32], const gt_job_spec *spec,
                            gt_llm *llm, gt_sample **out, size_t *n_out, size_t *left_out, gt_err *err) {
    size_t n_slots = json_array_size(json_object_get(task, "slotList")), nb = 0, n = 0, i;
    paid_batch *b = gt_calloc(n_slots + 1, sizeof *b);
    uint64_t *have = gt_malloc(sizeof(uint64_t) * (n_slots + 1)); /* the slots in p, sorted */
    size_t n_have = 0;
    gt_pipeline *p = NULL;
    gt_sample *acc = NULL;
    int rc = b && have ? 0 : gt_err_set(err, GT_ENOMEM, "out of memory");
    json_t *sl;
    json_array_foreach(json_object_get(task, "slotList"), i, sl) {
        const char *state = json_string_value(json_object_get(sl, "state"));
        if (rc || !state || strcmp(state, "paid") || !json_is_string(json_object_get(sl, "result"))) continue;
        b[nb].task_id = task_id;
        b[nb].sl = sl;
        b[nb].slot = (uint64_t)json_integer_value(json_object_get(sl, "slot"));
        rc = paid_against(a, task, &b[nb], err);
        nb++;
    }
    if (!rc) qsort(b, nb, sizeof *b, by_order);
    for (size_t k = 0; !rc && k < nb; k++) {
        if (!p || b[k].n_against != n_have || memcmp(b[k].against, have, n_have * sizeof(uint64_t))) {
            gt_pipeline_free(p);
            p = NULL;
            n_have = 0;
            rc = gt_pipeline_new(spec, &p, err);
            for (size_t j = 0; !rc && j < b[k].n_against; j++)
                rc = ag_gen_remember_slot(a, p, ag_gen_find_slot(task, b[k].against[j]), err);
            memcpy(have, b[k].against, b[k].n_against * sizeof(uint64_t));
            n_have = b[k].n_against;
        }
        if (!rc) rc = revalidate(a, spec, llm, p, &b[k], &acc, &n, left_out, err);
        /* p now holds b[k] too */
        size_t at = n_have;
        while (at > 0 && have[at - 1] > b[k].slot) at--;
        memmove(have + at + 1, have + at, (n_have - at) * sizeof(uint64_t));
        have[at] = b[k].slot;
        n_have++;
    }
    gt_pipeline_free(p);
    for (size_t k = 0; k < nb; k++) gt_free(b[k].against);
    gt_free(b);
    gt_free(have);
    if (rc) {
        gt_samples_free(acc, n);
        return rc;
    }
    if (n) qsort(acc, n, sizeof *acc, by_index); /* acc is NULL when every batch was left out */
    *out = acc, *n_out = n;
    return 0;
}

int ag_data_publish(gt_agent *a, const json_t *task, int *published, gt_err *err) {
    *published = 0;
    const char *dsdir = gt_agent_datasets_dir(a);
    if (!dsdir) return 0;
    uint8_t tid[32], root[32], manifest[32];
    gt_job_spec spec;
    gt_sample *s = NULL;
    size_t n = 0, left_out = 0;
    char dir[PATH_MAX], path[PATH_MAX + 32], mid[72], h[16];
    uint8_t *prov = NULL;
    size_t plen = 0;
    gt_llm *llm = gt_agent_llm(a, err);
    if (!llm) return err->code;
    int rc = gt_agent_json_hash(task, "id", tid, err);
    if (rc || (rc = ag_gen_load_spec(a, task, &spec, err))) return rc;
    rc = collect_accepted(a, task, tid, &spec, llm, &s, &n, &left_out, err);
    if (!rc && n == 0) {
        gt_agent_logf(a, "data job %s: no sample was accepted%s, so there is no dataset to publish", spec.name,
                      left_out ? " in a batch this re-validation agrees with" : "");
        goto out;
    }
    gt_agent_dataset_dir(dsdir, spec.id, dir, sizeof dir);
    snprintf(path, sizeof path, "%s/provenance.json", dir);
    if (!rc) rc = gt_dataset_export(&spec, s, n, dir, root, err);
    if (!rc) rc = gt_file_read(path, GT_AGENT_RESULT_MAX_BYTES, &prov, &plen, err);
    /* The manifest on the ledger is a blob anyone can fetch from the node. */
    if (!rc) rc = gt_client_blob_put(gt_agent_client(a), prov, plen, mid, err);
    if (!rc) rc = gt_blob_id_parse(mid, manifest, err);
    publish_args x = {tid, spec.id, root, manifest, n};
    if (!rc) rc = gt_agent_act(a, &gt_kind_dataset_publish, fill_publish, &x, NULL, err);
    if (!rc) {
        char rh[67] = "0x";
        gt_hex_encode(root, 32, rh + 2);
        *published = 1;
        gt_agent_logf(a, "data job %s (task %s): exported %zu accepted samples to %s (%zu paid batch%s left out); "
                      "published Merkle root %s", spec.name, ag_short_id(tid, h), n, dir, left_out,
                      left_out == 1 ? "" : "es", rh);
    }
out:
    gt_free(prov);
    gt_samples_free(s, n);
    gt_job_spec_free(&spec);
    return rc;
}

