/* bench_work.c: what the data pipeline costs on top of generation.
 *
 * The same model generates the same job's samples two ways, in alternating
 * rounds of one run: raw (render the prompt, generate, nothing else) and as
 * a data job (gt_job_generate, then the validation pipeline: schema and
 * provenance, exact and MinHash near dedup; the family verifier is off so
 * that every sample of the random-weight fixture -- whose answers are all
 * wrong -- goes through every later stage instead of stopping early; spot checks
 * and the judge are validators' model work and are timed separately). The
 * ratio of their sample throughputs is the pipeline's efficiency (goal:
 * overhead <= 5%, i.e. >= 0.95). Also: MinHash signatures per second
 * (128 hashes, 5-word shingles, ~100-word texts).
 *
 * usage: bench_work [MODEL.gguf] [samples per round] [rounds]
 * Ends with the line "pipeline/raw: X.XX". */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/progress.h"
#include "work/data/job.h"
#include "work/data/minhash.h"
#include "work/data/pipeline.h"
#include "work/data/rng.h"

static int cmp_d(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv) {
    const char *model = argc > 1 ? argv[1] : GT_FIXTURES_DIR "/models/tiny-llama-q8_0.gguf";
    int per_round = argc > 2 ? atoi(argv[2]) : 32;
    int rounds = argc > 3 ? atoi(argv[3]) : 5;
    if (per_round < 1 || per_round > 4096 || rounds < 1 || rounds > 100) {
        fprintf(stderr, "usage: bench_work [MODEL.gguf] [samples per round 1..4096] [rounds 1..100]\n");
        return 2;
    }
    gt_err err = {0};
    char spec_text[1024];
    snprintf(spec_text, sizeof spec_text,
             "{\"version\":2,\"name\":\"bench\",\"family\":\"arith\",\"template\":\"Question: {question}\\n"
             "Think step by step and end with 'Answer: {answer_hint}'.\\n\",\"seed\":5,\"samples\":%d,\"batch\":%d,"
             "\"reward\":\"0.01\",\"stake\":\"0.005\",\"license\":\"cc-by-4.0\",\"generation\":{\"max_tokens\":64},"
             "\"pipeline\":{\"spot_check\":0.01,\"verify\":false}}",
             per_round * rounds, per_round);
    gt_job_spec spec;
    gt_llm *llm = NULL;
    if (gt_job_spec_parse(spec_text, strlen(spec_text), &spec, &err) || gt_llm_open(model, 1, 512, &llm, &err)) {
        fprintf(stderr, "bench_work: %s\n", err.msg);
        return 1;
    }
    /* A job must spot check (the parser refuses 0), but re-running samples
     * is validators' model work, not pipeline overhead: turned off here. */
    spec.spot_fraction = 0;
    gt_pipeline *p = NULL;
    if (gt_pipeline_new(&spec, &p, &err)) return fprintf(stderr, "bench_work: %s\n", err.msg), 1;
    gt_addr worker;
    memset(&worker, 0x11, sizeof worker);
    double raw_rate[100], pipe_rate[100], ratio[100];
    uint64_t tokens = 0, accepted = 0;
    printf("model %s, 1 thread, %d samples x %d rounds, 64 tokens max each\n", model, per_round, rounds);
    for (int r = 0; r < rounds; r++) {
        uint64_t first = (uint64_t)r * (uint64_t)per_round;
        /* raw: the same prompts and seeds, generation only */
        double t0 = gt_now_s();
        for (int i = 0; i < per_round; i++) {
            gt_buf prompt = GT_BUF_INIT, out = GT_BUF_INIT;
            if (gt_job_render(&spec, first + (uint64_t)i, &prompt, NULL, &err) ||
                gt_job_generate_one(&spec, llm, first + (uint64_t)i, (const char *)prompt.data, &out, &err))
                return fprintf(stderr, "bench_work: %s\n", err.msg), 1;
            tokens += out.len;
            gt_buf_free(&prompt);
            gt_buf_free(&out);
        }
        double t_raw = gt_now_s() - t0;
        /* the job: generation with provenance, then the pipeline */
        t0 = gt_now_s();
        gt_sample *s = NULL;
        gt_batch_report rep;
        gt_pipeline_opts o = {0};
        if (gt_job_generate(&spec, llm, &worker, first, (uint64_t)per_round, NULL, NULL, &s, &err) ||
            gt_pipeline_run(p, &o, (uint64_t)r, s, (size_t)per_round, &rep, &err))
            return fprintf(stderr, "bench_work: %s\n", err.msg), 1;
        double t_pipe = gt_now_s() - t0;
        accepted += rep.accepted;
        gt_samples_free(s, (size_t)per_round);
        raw_rate[r] = per_round / t_raw;
        pipe_rate[r] = per_round / t_pipe;
        ratio[r] = pipe_rate[r] / raw_rate[r];
        printf("round %d: raw %.1f samples/s, job+pipeline %.1f samples/s, ratio %.3f (%llu accepted)\n", r + 1,
               raw_rate[r], pipe_rate[r], ratio[r], (unsigned long long)rep.accepted);
    }
    qsort(ratio, (size_t)rounds, sizeof *ratio, cmp_d);
    qsort(raw_rate, (size_t)rounds, sizeof *raw_rate, cmp_d);
    qsort(pipe_rate, (size_t)rounds, sizeof *pipe_rate, cmp_d);

    /* MinHash signatures per second. */
    gt_minhash mh;
    gt_minhash_params mp = gt_minhash_defaults();
    gt_minhash_init(&mh, &mp, &err);
    enum { N_TEXTS = 256 };
    static char texts[N_TEXTS][1024];
    gt_rng g;
    gt_rng_seed(&g, 3, 0);
    for (int i = 0; i < N_TEXTS; i++) {
        size_t off = 0;
        for (int w = 0; w < 100 && off < sizeof texts[i] - 16; w++)
            off += (size_t)snprintf(texts[i] + off, sizeof texts[i] - off, "%sw%u", w ? " " : "",
                                    (unsigned)gt_rng_below(&g, 5000));
    }
    uint64_t sig[GT_MINHASH_DEFAULT_HASHES];
    int n_sigs = 0;
    double t0 = gt_now_s(), el;
    do {
        for (int i = 0; i < N_TEXTS; i++) gt_minhash_sign(&mh, texts[i], strlen(texts[i]), sig);
        n_sigs += N_TEXTS;
        el = gt_now_s() - t0;
    } while (el < 1.0);
    gt_minhash_free(&mh);
    printf("minhash: %.0f signatures/s (128 hashes, 5-word shingles, 100-word texts)\n", n_sigs / el);
    printf("median: raw %.1f samples/s, job+pipeline %.1f samples/s; %llu of %d samples accepted\n",
           raw_rate[rounds / 2], pipe_rate[rounds / 2], (unsigned long long)accepted, per_round * rounds);
    printf("pipeline/raw: %.2f\n", ratio[rounds / 2]);
    gt_pipeline_free(p);
    gt_llm_free(llm);
    gt_job_spec_free(&spec);
    return 0;
}
