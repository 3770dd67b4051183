/* sample.c: samples as JSON lines, batches as JSONL, batch ranges, and the
 * worker's side of a data job: generating samples with a local model (see
 * pipeline.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/hex.h"
#include "base/json.h"
#include "crypto/addr.h"
#include "work/data/pipeline.h"

const char *gt_stage_name(int stage) {
    static const char *const names[GT_STAGE_COUNT] = {"spot", "schema", "verify", "dedup", "near_dedup", "judge"};
    return stage >= 0 && stage < GT_STAGE_COUNT ? names[stage] : "unknown";
}

void gt_sample_clear(gt_sample *s) {
    gt_free(s->prompt);
    gt_free(s->output);
    s->prompt = s->output = NULL;
}

void gt_samples_free(gt_sample *s, size_t n) {
    if (!s) return;
    for (size_t i = 0; i < n; i++) gt_sample_clear(&s[i]);
    gt_free(s);
}

json_t *gt_sample_to_json(const gt_sample *s) {
    char job[72], model[72], addr[43], seed[24];
    gt_llm_id_str(s->job, job);
    gt_llm_id_str(s->model, model);
    gt_addr_to_str(&s->contributor, addr);
    snprintf(seed, sizeof seed, "%llu", (unsigned long long)s->seed);
    json_t *o = json_object();
    if (!o) return NULL;
    int bad = json_object_set_new(o, "job", json_string(job)) ||
              json_object_set_new(o, "index", gt_json_u64(s->index)) ||
              json_object_set_new(o, "seed", json_string(seed)) ||
              json_object_set_new(o, "contributor", json_string(addr)) ||
              json_object_set_new(o, "model", json_string(model)) ||
              json_object_set_new(o, "prompt", json_string(s->prompt ? s->prompt : "")) ||
              json_object_set_new(o, "output", json_string(s->output ? s->output : ""));
    if (bad) {
        json_decref(o);
        return NULL;
    }
    return o;
}

char *gt_sample_line(const gt_sample *s) {
    json_t *o = gt_sample_to_json(s);
    if (!o) return NULL;
    char *line = gt_json_dump(o);
    json_decref(o);
    return line;
}

/* "sha256:<hex>" or "0x<hex>" into 32 bytes. */
static int parse_id(const char *v, uint8_t out[32], const char *what, gt_err *err) {
    const char *hex = !strncmp(v, "sha256:", 7) ? v + 7 : v;
    return gt_hex_decode(hex, out, 32, what, err);
}

static int sample_from_json(const json_t *o, gt_sample *s, gt_err *err) {
    static const char *const keys[] = {"job", "index", "seed", "contributor", "model", "prompt", "output", NULL};
    memset(s, 0, sizeof *s);
    const char *job, *model, *addr, *prompt, *output;
    uint64_t seed;
    if (gt_json_only_fields(o, keys, "sample", err) || gt_json_get_str(o, "job", 80, &job, err) ||
        gt_json_get_u64(o, "index", &s->index, err) || gt_json_get_u64(o, "seed", &seed, err) ||
        gt_json_get_str(o, "contributor", 42, &addr, err) || gt_json_get_str(o, "model", 80, &model, err) ||
        gt_json_get_str(o, "prompt", GT_JOB_PROMPT_MAX, &prompt, err) ||
        gt_json_get_str(o, "output", GT_SAMPLE_OUTPUT_MAX, &output, err))
        return err && err->code ? err->code : GT_EINVAL;
    s->seed = seed;
    if (parse_id(job, s->job, "sample.job (sha256:<64 hex>)", err) ||
        parse_id(model, s->model, "sample.model (sha256:<64 hex>)", err) || gt_addr_parse(addr, &s->contributor, err))
        return err && err->code ? err->code : GT_EINVAL;
    s->prompt = gt_strdup(prompt);
    s->output = gt_strdup(output);
    if (!s->prompt || !s->output) {
        gt_sample_clear(s);
        return gt_err_set(err, GT_ENOMEM, "out of memory");
    }
    return 0;
}

int gt_batch_parse(const char *text, size_t len, gt_sample **out, size_t *n_out, gt_err *err) {
    *out = NULL, *n_out = 0;
    if (len > GT_BATCH_MAX_BYTES)
        return gt_err_set(err, GT_ELIMIT, "batch of %zu bytes is over the limit of %d", len, GT_BATCH_MAX_BYTES);
    size_t lines = 0;
    for (size_t i = 0; i < len; i++) lines += text[i] == '\n';
    lines++;
    if (lines > GT_JOB_MAX_BATCH + 1)
        return gt_err_set(err, GT_ELIMIT, "batch has %zu lines; at most %d samples", lines, GT_JOB_MAX_BATCH);
    gt_sample *s = gt_calloc(lines, sizeof *s);
    if (!s) return gt_err_set(err, GT_ENOMEM, "out of memory");
    size_t n = 0, line_no = 0;
    int rc = 0;
    for (size_t a = 0; a < len && !rc;) {
        size_t b = a;
        while (b < len && text[b] != '\n') b++;
        line_no++;
        /* lines counts a last line without "\n" too: one more sample than a batch holds can get past it */
        if (b > a && n == GT_JOB_MAX_BATCH)
            rc = gt_err_set(err, GT_ELIMIT, "batch has over %d samples", GT_JOB_MAX_BATCH);
        else if (b > a) {
            json_t *o = NULL;
            rc = gt_json_parse(text + a, b - a, GT_BATCH_MAX_BYTES, &o, err);
            if (!rc) {
                rc = sample_from_json(o, &s[n], err);
                json_decref(o);
            }
            if (rc) gt_err_wrap(err, "batch line %zu", line_no);
            else n++;
        }
        a = b + 1;
    }
    if (!rc && n == 0) rc = gt_err_set(err, GT_EINVAL, "batch has no samples");
    if (rc) {
        gt_samples_free(s, n);
        return rc;
    }
    *out = s, *n_out = n;
    return 0;
}

int gt_batch_write(const gt_sample *s, size_t n, gt_buf *out, gt_err *err) {
    for (size_t i = 0; i < n; i++) {
        char *line = gt_sample_line(&s[i]);
        int rc = !line || gt_buf_append_str(out, line) || gt_buf_putc(out, '\n');
        free(line);
        if (rc) return gt_err_set(err, GT_ENOMEM, "out of memory");
    }
    return 0;
}

void gt_job_batch_range(const gt_job_spec *spec, uint64_t batch, uint64_t *first, uint64_t *count) {
    uint64_t f = batch * spec->batch;
    *first = f;
    *count = f >= spec->samples ? 0 : (spec->samples - f < spec->batch ? spec->samples - f : spec->batch);
}

/* Generation parameters of the spec with sample `index`'s seed. */
static gt_gen_params gen_params(const gt_job_spec *spec, uint64_t index) {
    gt_gen_params gp = gt_gen_defaults();
    gp.n_predict = spec->max_tokens;
    gp.sampling.temp = spec->temp;
    gp.sampling.top_k = spec->top_k;
    gp.sampling.top_p = spec->top_p;
    gp.sampling.min_p = spec->min_p;
    gp.sampling.seed = gt_job_sample_seed(spec, index);
    return gp;
}

int gt_job_generate_one(const gt_job_spec *spec, gt_llm *llm, uint64_t index, const char *prompt, gt_buf *out,
                        gt_err *err) {
    gt_gen_params gp = gen_params(spec, index);
    return gt_llm_generate(llm, prompt, strlen(prompt), &gp, out, NULL, err);
}

int gt_job_generate(const gt_job_spec *spec, gt_llm *llm, const gt_addr *contributor, uint64_t first,
                    uint64_t count, gt_job_progress progress, void *progress_arg, gt_sample **out, gt_err *err) {
    *out = NULL;
    if (count == 0 || count > GT_JOB_MAX_BATCH || first >= spec->samples || count > spec->samples - first)
        return gt_err_set(err, GT_EINVAL, "samples %llu..%llu are outside the job's 0..%llu",
                          (unsigned long long)first, (unsigned long long)(first + count),
                          (unsigned long long)spec->samples);
    gt_sample *s = gt_calloc(count, sizeof *s);
    if (!s) return gt_err_set(err, GT_ENOMEM, "out of memory");
    int rc = 0;
    size_t i;
    for (i = 0; i < count && !rc; i++) {
        gt_sample *x = &s[i];
        memcpy(x->job, spec->id, 32);
        memcpy(x->model, llm->id, 32);
        x->contributor = *contributor;
        x->index = first + i;
        x->seed = gt_job_sample_seed(spec, x->index);
        gt_buf prompt = GT_BUF_INIT, output = GT_BUF_INIT;
        rc = gt_job_render(spec, x->index, &prompt, NULL, err);
        if (!rc) rc = gt_job_generate_one(spec, llm, x->index, (const char *)prompt.data, &output, err);
        if (!rc) {
            x->prompt = (char *)gt_buf_take(&prompt, NULL);
            x->output = output.data ? (char *)gt_buf_take(&output, NULL) : gt_strdup("");
            if (!x->prompt || !x->output) rc = gt_err_set(err, GT_ENOMEM, "out of memory");
        }
        gt_buf_free(&prompt);
        gt_buf_free(&output);
        if (!rc && progress) progress(progress_arg, i + 1, count);
    }
    if (rc) {
        gt_samples_free(s, count);
        return gt_err_wrap(err, "sample %llu", (unsigned long long)(first + i - 1));
    }
    *out = s;
    return 0;
}
