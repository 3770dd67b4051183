/* fuzz_work_spec.c: the data job spec parser (job.h) and the eval task spec
 * parser (check.h) on arbitrary bytes: both are outside input (task spec
 * blobs anyone can post). A job spec that parses must keep its invariants
 * and render its first sample's prompt without crashing; an eval spec that
 * parses must survive a round trip through its canonical JSON unchanged. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "work/data/job.h"
#include "work/eval/check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    gt_err err;
    gt_job_spec s;
    if (gt_job_spec_parse((const char *)data, size, &s, &err) == 0) {
        if (!s.name || !s.name[0] || s.batch < 1 || s.batch > GT_JOB_MAX_BATCH || s.samples < 1 ||
            s.samples > GT_JOB_MAX_SAMPLES || gt_job_batches(&s) < 1)
            __builtin_trap();
        gt_buf out = GT_BUF_INIT;
        gt_family_item item;
        gt_job_render(&s, 0, &out, &item, &err);
        gt_buf_free(&out);
        gt_job_spec_free(&s);
    }
    gt_work_eval_spec e, back;
    if (gt_work_eval_spec_parse((const char *)data, size, &e, &err) == 0) {
        char *t = gt_work_eval_spec_json(&e);
        if (!t || gt_work_eval_spec_parse(t, strlen(t), &back, &err) || memcmp(&e, &back, sizeof e)) __builtin_trap();
        free(t);
    }
    return 0;
}
