/* cli_data.c: `gotong data`: synthetic data jobs on this machine.
 *
 *   gotong data job new SPEC.json            check the spec, store it as a blob, make the job
 *   gotong data job list                     jobs with their progress
 *   gotong data job show JOB                 the spec's terms and every batch report
 *   gotong data job run JOB -m MODEL.gguf [--batches N] [--threads K] [--judge MODEL.gguf]
 *                                            generate the next batches as a worker and run the
 *                                            validation pipeline on them as a validator
 *   gotong data export JOB -o DIR            data.jsonl + README.md card + provenance.json
 *   gotong data verify DIR --job JOB [--node URL] | --root 0xHEX --manifest HASH
 *                                            a copy checked against the ledger's record
 *
 * Files: HOME/blobs/<spec blob>, HOME/jobs/<job hex>/spec.json (the spec's
 * bytes), records.jsonl (every validated sample with its verdicts) and
 * reports.jsonl (one report per batch). JOB is the job id ("sha256:<hex>") or
 * a unique prefix of its hex (8 characters or more). */
#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>

#include "base/alloc.h"
#include "base/amount.h"
#include "base/file.h"
#include "base/hex.h"
#include "base/json.h"
#include "base/limits.h"
#include "base/pool.h"
#include "base/progress.h"
#include "cli/cli.h"
#include "agent/agent.h"
#include "agent/client.h"
#include "crypto/addr.h"
#include "crypto/sha256.h"
#include "store/blob.h"
#include "work/data/batch.h"
#include "work/work.h"
#include "work/data/export.h"
#include "work/data/pipeline.h"

#define DATA_RECORDS_MAX ((size_t)1 << 31)

static void usage(FILE *f) {
    fprintf(f,
            "usage: gotong data job new SPEC.json\n"
            "       gotong data job list\n"
            "       gotong data job show JOB\n"
            "       gotong data job run JOB -m|--model MODEL.gguf [--batches N] [-t|--threads K]\n"
            "                               [--judge MODEL.gguf]\n"
            "       gotong data job post JOB --validator ADDR [--fee AMT] [--node URL] [--from ADDR]\n"
            "                                [--password-file F]\n"
            "       gotong data export JOB -o|--output DIR\n"
            "       gotong data verify DIR (--job JOB [--node URL] | --root 0xHEX --manifest HASH)\n\n"
            "Synthetic data jobs: a spec (JSON) says what to generate, how many samples, the reward\n"
            "and stake per sample, the validation pipeline and the licence. Options of every command:\n"
            "  --home DIR    data directory (default $GOTONG_HOME or ~/.gotong)\n"
            "  --json        machine-readable output\n"
            "`job post` puts the job on a node's market as one task of kind generate: one slot per\n"
            "batch, bounty = reward x batch, stake = stake x batch, judged sample by sample by the\n"
            "validator agent (skill validate) for --fee per batch. Workers with skill generate\n"
            "claim the batches (gotong agent --skills generate).\n"
            "`verify` checks a copy of a dataset (a folder with data.jsonl and provenance.json) against\n"
            "the ledger's record: the Merkle root of its rows and the sha256 of its provenance.json\n"
            "(the manifest, which pins the rows' order and provenance). --job reads both, and the row\n"
            "count, from the node (GET /v1/datasets/JOB; JOB as the node prints it, sha256:<hex> or\n"
            "0x<hex>, or a prefix of a job in this home); --root and --manifest give them by hand\n"
            "(0x<hex> or sha256:<hex>; both are required). With --job, a copy without provenance.json\n"
            "gets the published one from the node (the blob its publisher uploaded, checked by its\n"
            "hash) before it is checked. Exit 0 only when every check passed.\n");
}

typedef struct data_opts {
    const char *home_opt, *model, *judge, *out;
    const char *node, *from, *password_file, *validator, *fee;
    const char *job, *root, *manifest; /* verify */
    long batches, threads;
    int json, help;
    char home[4096];
    const char *pos[4];
    int n_pos;
} data_opts;

#define DATA_MAX_BATCHES 1000000 /* --batches at most */

/* Reads argv[from..] into o (gt_cli_parse): up to four positional
 * arguments; --help is only noted (the caller prints the usage). Returns 0,
 * or the exit code of a usage error. */
static int parse_opts(int argc, char **argv, int from, data_opts *o) {
    memset(o, 0, sizeof *o);
    uint64_t batches = 1, threads = (uint64_t)gt_cpu_count();
    const gt_cli_opt opts[] = {
        {"--home", NULL, GT_CLI_OPT_STR, &o->home_opt, 0, 0, NULL},
        {"--model", "-m", GT_CLI_OPT_STR, &o->model, 0, 0, NULL},
        {"--judge", NULL, GT_CLI_OPT_STR, &o->judge, 0, 0, NULL},
        {"--node", NULL, GT_CLI_OPT_STR, &o->node, 0, 0, NULL},
        {"--from", NULL, GT_CLI_OPT_STR, &o->from, 0, 0, NULL},
        {"--password-file", NULL, GT_CLI_OPT_STR, &o->password_file, 0, 0, NULL},
        {"--validator", NULL, GT_CLI_OPT_STR, &o->validator, 0, 0, NULL},
        {"--fee", NULL, GT_CLI_OPT_STR, &o->fee, 0, 0, NULL},
        {"--output", "-o", GT_CLI_OPT_STR, &o->out, 0, 0, NULL},
        {"--job", NULL, GT_CLI_OPT_STR, &o->job, 1, 0, NULL},
        {"--root", NULL, GT_CLI_OPT_STR, &o->root, 1, 0, NULL},
        {"--manifest", NULL, GT_CLI_OPT_STR, &o->manifest, 1, 0, NULL},
        {"--batches", NULL, GT_CLI_OPT_U64, &batches, 1, DATA_MAX_BATCHES, NULL},
        {"--threads", "-t", GT_CLI_OPT_U64, &threads, 1, GT_POOL_MAX_THREADS, NULL},
        {"--json", NULL, GT_CLI_OPT_FLAG, &o->json, 0, 0, NULL},
        {"--help", "-h", GT_CLI_OPT_FLAG, &o->help, 0, 0, NULL},
        {NULL, NULL, 0, NULL, 0, 0, NULL}};
    int rc = gt_cli_parse("data", argc, argv, from, opts, o->pos, 4, &o->n_pos, usage);
    if (rc >= 0) return rc ? rc : GT_CLI_EXIT_USAGE; /* 0 here would be a help the table takes itself */
    o->batches = (long)batches, o->threads = (long)threads;
    gt_err err = {0};
    if (gt_cli_home(o->home_opt, o->home, sizeof o->home, &err)) return gt_cli_fail(&err);
    return 0;
}

static void job_dir(const data_opts *o, const char *hex, char *out, size_t cap) {
    snprintf(out, cap, "%s/jobs/%s", o->home, hex);
}

/* Resolves JOB to its 64-hex id: full id or unique prefix of >= 8 hex. */
static int resolve_job(const data_opts *o, const char *job, char hex[65], gt_err *err) {
    const char *p = !strncmp(job, "sha256:", 7) ? job + 7 : !strncmp(job, "0x", 2) ? job + 2 : job;
    size_t n = strlen(p);
    if (n < 8 || n > 64 || strspn(p, "0123456789abcdef") != n)
        return gt_err_set(err, GT_EINVAL, "job \"%.80s\": expected sha256:<hex> or 8..64 lowercase hex digits", job);
    char dir[4200];
    snprintf(dir, sizeof dir, "%s/jobs", o->home);
    DIR *d = opendir(dir);
    if (!d) return gt_err_set(err, GT_ENOTFOUND, "no jobs in %s (make one with gotong data job new)", o->home);
    int found = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (strlen(e->d_name) == 64 && !strncmp(e->d_name, p, n)) {
            if (found++) break;
            memcpy(hex, e->d_name, 65);
        }
    }
    closedir(d);
    if (found == 0) return gt_err_set(err, GT_ENOTFOUND, "no job %.80s in %s", job, o->home);
    if (found > 1) return gt_err_set(err, GT_EINVAL, "job prefix %.80s is ambiguous; give more digits", job);
    return 0;
}

static int load_spec(const data_opts *o, const char *hex, gt_job_spec *s, gt_err *err) {
    char path[4300];
    uint8_t *text;
    size_t len;
    job_dir(o, hex, path, sizeof path - 16);
    strcat(path, "/spec.json");
    int rc = gt_file_read(path, GT_JOB_SPEC_MAX_BYTES, &text, &len, err);
    if (rc) return rc;
    rc = gt_job_spec_parse((const char *)text, len, s, err);
    gt_free(text);
    return rc;
}

/* Reads records.jsonl: every validated sample (with verdicts). */
static int load_records(const data_opts *o, const char *hex, gt_sample **out, size_t *n, gt_err *err) {
    char path[4300];
    job_dir(o, hex, path, sizeof path - 16);
    strcat(path, "/records.jsonl");
    *out = NULL, *n = 0;
    if (!gt_file_exists(path)) return 0;
    uint8_t *text;
    size_t len;
    int rc = gt_file_read(path, DATA_RECORDS_MAX, &text, &len, err);
    if (rc) return rc;
    size_t lines = 0;
    for (size_t i = 0; i < len; i++) lines += text[i] == '\n';
    gt_sample *s = gt_calloc(lines + 1, sizeof *s);
    if (!s) rc = gt_err_set(err, GT_ENOMEM, "out of memory");
    for (size_t a = 0; a < len && !rc;) {
        size_t b = a;
        while (b < len && text[b] != '\n') b++;
        json_t *rec = json_loadb((const char *)text + a, b - a, 0, NULL);
        if (!rec) {
            rc = gt_err_set(err, GT_EINVAL, "%s: damaged line", path);
            break;
        }
        /* The sample's own fields go through the strict batch parser. */
        json_t *copy = json_deep_copy(rec);
        static const char *const extra[] = {"verdicts", "judge_score", "accepted", "reason", NULL};
        for (int k = 0; extra[k]; k++) json_object_del(copy, extra[k]);
        char *line = gt_json_dump(copy);
        gt_sample *one = NULL;
        size_t cnt = 0;
        rc = line ? gt_batch_parse(line, strlen(line), &one, &cnt, err) : gt_err_set(err, GT_ENOMEM, "out of memory");
        free(line);
        json_decref(copy);
        if (!rc) {
            s[*n] = one[0];
            gt_free(one);
            rc = gt_sample_record_verdicts(rec, &s[*n], err);
            (*n)++;
        }
        json_decref(rec);
        a = b + 1;
    }
    gt_free(text);
    if (rc) {
        gt_samples_free(s, *n);
        *n = 0;
        return rc;
    }
    *out = s;
    return 0;
}

static int cmd_new(data_opts *o) {
    gt_err err = {0};
    if (o->n_pos != 1) return gt_cli_usage_error("data", "job new needs SPEC.json");
    uint8_t *text;
    size_t len;
    gt_job_spec s;
    if (gt_file_read(o->pos[0], GT_JOB_SPEC_MAX_BYTES, &text, &len, &err)) return gt_cli_fail(&err);
    int rc = gt_job_spec_parse((const char *)text, len, &s, &err);
    char blobs[4200], dir[4300], path[4400], id[GT_BLOB_ID_BYTES], hex[65];
    snprintf(blobs, sizeof blobs, "%s/blobs", o->home);
    if (!rc) rc = gt_blob_put(blobs, text, len, id, &err);
    gt_hex_encode(s.id, 32, hex);
    job_dir(o, hex, dir, sizeof dir);
    snprintf(path, sizeof path, "%s/spec.json", dir);
    if (!rc) rc = gt_mkdir_p(dir, 0755, &err);
    if (!rc) rc = gt_file_write_atomic(path, text, len, 0644, &err);
    gt_free(text);
    if (rc) return gt_cli_fail(&err);
    char r[GT_AMOUNT_STR_MAX], st[GT_AMOUNT_STR_MAX], total[GT_AMOUNT_STR_MAX];
    if (o->json) {
        json_t *j = json_pack("{s:s,s:o,s:I}", "job", id, "name", gt_json_text_lossy(s.name, strlen(s.name)), "batches",
                              (json_int_t)gt_job_batches(&s));
        gt_job_spec_free(&s);
        return gt_cli_json_out(j);
    } else
        printf("job %s\n  %s: %llu samples in %llu batches of %llu, reward %s and stake %s per sample (bounty %s)\n", id,
               s.name, (unsigned long long)s.samples, (unsigned long long)gt_job_batches(&s), (unsigned long long)s.batch,
               gt_amount_format(s.reward_units, r), gt_amount_format(s.stake_units, st),
               gt_amount_format(s.reward_units * s.samples, total));
    gt_job_spec_free(&s);
    return 0;
}

static int count_accepted(const gt_sample *s, size_t n) {
    int a = 0;
    for (size_t i = 0; i < n; i++) a += s[i].accepted;
    return a;
}

static int cmd_list(data_opts *o) {
    char dir[4200];
    snprintf(dir, sizeof dir, "%s/jobs", o->home);
    DIR *d = opendir(dir);
    if (!d) {
        if (!o->json) printf("no jobs\n");
        return o->json ? gt_cli_json_out(json_array()) : 0;
    }
    struct dirent *e;
    json_t *arr = o->json ? json_array() : NULL;
    while ((e = readdir(d))) {
        if (strlen(e->d_name) != 64) continue;
        gt_err err = {0};
        gt_job_spec s;
        gt_sample *rec = NULL;
        size_t n = 0;
        if (load_spec(o, e->d_name, &s, &err)) continue;
        load_records(o, e->d_name, &rec, &n, &err);
        int acc = count_accepted(rec, n);
        char jid[72];
        snprintf(jid, sizeof jid, "sha256:%.64s", e->d_name);
        if (arr)
            json_array_append_new(arr, json_pack("{s:s,s:o,s:I,s:I,s:i}", "job", jid, "name",
                                                 gt_json_text_lossy(s.name, strlen(s.name)), "samples",
                                                 (json_int_t)s.samples, "validated", (json_int_t)n, "accepted", acc));
        else
            printf("%.16s  %-24s %6d accepted / %zu validated / %llu wanted\n", e->d_name, s.name, acc, n,
                   (unsigned long long)s.samples);
        gt_samples_free(rec, n);
        gt_job_spec_free(&s);
    }
    closedir(d);
    return arr ? gt_cli_json_out(arr) : 0;
}

/* The reports of a job (reports.jsonl) as a JSON array; a line that is not
 * JSON is an error (a damaged file), not skipped. NULL with err. */
static json_t *reports_json(const data_opts *o, const char *hex, gt_err *err) {
    char path[4400];
    job_dir(o, hex, path, sizeof path - 16);
    strcat(path, "/reports.jsonl");
    json_t *arr = json_array();
    if (!arr || !gt_file_exists(path)) return arr ? arr : (gt_err_set(err, GT_ENOMEM, "out of memory"), NULL);
    uint8_t *text;
    size_t len;
    if (gt_file_read(path, DATA_RECORDS_MAX, &text, &len, err)) return json_decref(arr), NULL;
    char *line = (char *)text, *end = line + len;
    for (int no = 1; line < end; no++) {
        char *nl = memchr(line, '\n', (size_t)(end - line));
        size_t n = nl ? (size_t)(nl - line) : (size_t)(end - line);
        json_t *r = n ? json_loadb(line, n, 0, NULL) : NULL;
        if (n && !r) {
            gt_err_set(err, GT_EINVAL, "%s line %d is not JSON (a damaged file?)", path, no);
            gt_free(text);
            json_decref(arr);
            return NULL;
        }
        if (r) json_array_append_new(arr, r);
        line += n + 1;
    }
    gt_free(text);
    return arr;
}

/* `data job show --json`: the job's terms (amounts in base units, decimal
 * strings) and its reports as one object. */
static int show_json(const data_opts *o, const char *hex, const gt_job_spec *s, const gt_sample *rec, size_t n) {
    gt_err err = {0};
    json_t *reports = reports_json(o, hex, &err);
    if (!reports) return gt_cli_fail(&err);
    char jid[72], r[24], st[24];
    snprintf(jid, sizeof jid, "sha256:%s", hex);
    snprintf(r, sizeof r, "%llu", (unsigned long long)s->reward_units);
    snprintf(st, sizeof st, "%llu", (unsigned long long)s->stake_units);
    return gt_cli_json_out(json_pack(
        "{s:s,s:o,s:s,s:o,s:I,s:I,s:i,s:I,s:I,s:s,s:s,s:o}", "job", jid, "name", gt_json_text_lossy(s->name, strlen(s->name)),
        "family", s->family ? s->family->name : "free-form", "license", gt_json_text_lossy(s->license, strlen(s->license)),
        "samples", (json_int_t)s->samples, "validated", (json_int_t)n, "accepted", count_accepted(rec, n), "batches",
        (json_int_t)gt_job_batches(s), "batch", (json_int_t)s->batch, "reward", r, "stake", st, "reports", reports));
}

static int cmd_show(data_opts *o) {
    gt_err err = {0};
    char hex[65], path[4400];
    gt_job_spec s;
    if (o->n_pos != 1) return gt_cli_usage_error("data", "job show needs JOB");
    if (resolve_job(o, o->pos[0], hex, &err) || load_spec(o, hex, &s, &err)) return gt_cli_fail(&err);
    gt_sample *rec = NULL;
    size_t n = 0;
    if (load_records(o, hex, &rec, &n, &err)) return gt_cli_fail(&err);
    if (o->json) {
        int rc = show_json(o, hex, &s, rec, n);
        gt_samples_free(rec, n);
        gt_job_spec_free(&s);
        return rc;
    }
    char r[GT_AMOUNT_STR_MAX], st[GT_AMOUNT_STR_MAX];
    printf("job sha256:%s\nname: %s\nfamily: %s\nlicense: %s\nsamples: %llu wanted, %zu validated, %d accepted\n"
           "batches: %llu of %llu samples\nreward: %s per accepted sample; stake %s per sample\n",
           hex, s.name, s.family ? s.family->name : "(free-form)", s.license, (unsigned long long)s.samples, n,
           count_accepted(rec, n), (unsigned long long)gt_job_batches(&s), (unsigned long long)s.batch,
           gt_amount_format(s.reward_units, r), gt_amount_format(s.stake_units, st));
    job_dir(o, hex, path, sizeof path - 16);
    strcat(path, "/reports.jsonl");
    uint8_t *text;
    size_t len;
    if (gt_file_exists(path) && !gt_file_read(path, DATA_RECORDS_MAX, &text, &len, &err)) {
        printf("reports:\n%s", (const char *)text);
        gt_free(text);
    }
    gt_samples_free(rec, n);
    gt_job_spec_free(&s);
    return 0;
}

static int append_file(const char *path, const void *data, size_t len, gt_err *err) {
    FILE *f = fopen(path, "ab");
    if (!f) return gt_err_set(err, GT_EIO, "%s: %s", path, strerror(errno));
    int bad = fwrite(data, 1, len, f) != len;
    bad |= fflush(f) != 0;
    bad |= fclose(f) != 0;
    return bad ? gt_err_set(err, GT_EIO, "%s: write failed", path) : 0;
}

static void on_progress(void *arg, uint64_t done, uint64_t total) {
    (void)total;
    gt_progress_update(arg, done);
}

/* Prints batch b's report for people: what it pays and slashes, and each
 * validation stage's counts. */
static void print_batch_report(uint64_t b, const gt_batch_report *rep) {
    char pa[GT_AMOUNT_STR_MAX], sl[GT_AMOUNT_STR_MAX];
    printf("batch %llu: %llu accepted, %llu rejected; pays %s, slashes %s", (unsigned long long)b,
           (unsigned long long)rep->accepted, (unsigned long long)rep->rejected,
           gt_amount_format(rep->paid_units, pa), gt_amount_format(rep->slashed_units, sl));
    if (rep->spot_failed) printf(" (%s)", rep->spot_reason);
    printf("\n");
    for (int st = 0; st < GT_STAGE_COUNT; st++)
        if (rep->stage[st].enabled)
            printf("  %-10s %4llu checked %4llu passed %4llu failed\n", gt_stage_name(st),
                   (unsigned long long)rep->stage[st].checked, (unsigned long long)rep->stage[st].passed,
                   (unsigned long long)rep->stage[st].failed);
}

/* Appends batch b's records to rpath and its report to ppath (one JSON
 * line each), then prints the report (--json: the same JSON line). */
static int save_batch(const data_opts *o, const char *rpath, const char *ppath, uint64_t b, const gt_sample *batch,
                      uint64_t count, const gt_batch_report *rep, gt_err *err) {
    gt_buf out = GT_BUF_INIT;
    for (uint64_t i = 0; i < count; i++) {
        json_t *r = gt_sample_record(&batch[i]);
        char *line = r ? gt_json_dump(r) : NULL;
        if (line) gt_buf_append_str(&out, line), gt_buf_putc(&out, '\n');
        free(line);
        json_decref(r);
    }
    json_t *rj = gt_batch_report_json(rep);
    json_object_set_new(rj, "batch", json_integer((json_int_t)b));
    char *rl = gt_json_dump(rj);
    json_decref(rj);
    int rc = append_file(rpath, out.data, out.len, err);
    if (!rc && rl) rc = append_file(ppath, rl, strlen(rl), err) || append_file(ppath, "\n", 1, err);
    gt_buf_free(&out);
    if (o->json) {
        if (!rl) rc = rc ? rc : gt_err_set(err, GT_ENOMEM, "cannot serialise the batch report");
        else puts(rl);
    } else {
        print_batch_report(b, rep);
    }
    free(rl);
    return rc;
}

static int cmd_run(data_opts *o) {
    gt_err err = {0};
    char hex[65], dir[4300], rpath[4400], ppath[4400];
    if (o->n_pos != 1 || !o->model) return gt_cli_usage_error("data", "job run needs JOB and -m MODEL.gguf");
    gt_job_spec s;
    if (resolve_job(o, o->pos[0], hex, &err) || load_spec(o, hex, &s, &err)) return gt_cli_fail(&err);
    gt_sample *rec = NULL, *batch = NULL;
    size_t n_rec = 0;
    gt_llm *llm = NULL, *judge = NULL;
    gt_pipeline *p = NULL;
    int code = 1;
    if (load_records(o, hex, &rec, &n_rec, &err) || gt_llm_open(o->model, (int)o->threads, 0, &llm, &err) ||
        (o->judge && gt_llm_open(o->judge, (int)o->threads, 0, &judge, &err)) || gt_pipeline_new(&s, &p, &err))
        goto fail;
    uint64_t next = 0;
    for (size_t i = 0; i < n_rec; i++) {
        if (rec[i].accepted && gt_pipeline_remember(p, &rec[i], &err)) goto fail;
        if (rec[i].index + 1 > next) next = rec[i].index + 1;
    }
    job_dir(o, hex, dir, sizeof dir);
    snprintf(rpath, sizeof rpath, "%s/records.jsonl", dir);
    snprintf(ppath, sizeof ppath, "%s/reports.jsonl", dir);
    gt_addr worker;
    memset(&worker, 0, sizeof worker); /* local runs: no wallet; the market path signs as the agent */
    for (long k = 0; k < o->batches; k++) {
        uint64_t b = (next + s.batch - 1) / s.batch, first, count;
        gt_job_batch_range(&s, b, &first, &count);
        if (count == 0) {
            printf("job complete: all %llu batches validated\n", (unsigned long long)gt_job_batches(&s));
            break;
        }
        gt_progress pr;
        gt_progress_start(&pr, "generate", count);
        int rc = gt_job_generate(&s, llm, &worker, first, count, on_progress, &pr, &batch, &err);
        gt_progress_finish(&pr);
        if (rc) goto fail;
        gt_pipeline_opts po = {.judge = judge, .regen = llm};
        if (getrandom(&po.spot_seed, sizeof po.spot_seed, 0) != sizeof po.spot_seed) po.spot_seed = (uint64_t)gt_now_s();
        gt_batch_report rep;
        if (gt_pipeline_run(p, &po, b, batch, count, &rep, &err)) {
            gt_samples_free(batch, count);
            batch = NULL;
            goto fail;
        }
        rc = save_batch(o, rpath, ppath, b, batch, count, &rep, &err);
        gt_samples_free(batch, count);
        batch = NULL;
        if (rc) goto fail;
        next = first + count;
    }
    code = 0;
    goto done;
fail:
    code = gt_cli_fail(&err);
done:
    gt_pipeline_free(p);
    gt_llm_free(llm);
    gt_llm_free(judge);
    gt_samples_free(rec, n_rec);
    gt_job_spec_free(&s);
    return code;
}

static int cmd_export(data_opts *o) {
    gt_err err = {0};
    char hex[65];
    if (o->n_pos != 1 || !o->out) return gt_cli_usage_error("data", "export needs JOB and -o DIR");
    gt_job_spec s;
    if (resolve_job(o, o->pos[0], hex, &err) || load_spec(o, hex, &s, &err)) return gt_cli_fail(&err);
    gt_sample *rec = NULL;
    size_t n = 0, k = 0;
    if (load_records(o, hex, &rec, &n, &err)) {
        gt_job_spec_free(&s);
        return gt_cli_fail(&err);
    }
    for (size_t i = 0; i < n; i++) /* keep the accepted ones, in order */
        if (rec[i].accepted) {
            gt_sample t = rec[k];
            rec[k++] = rec[i];
            rec[i] = t;
        }
    uint8_t root[32], again[32];
    size_t rows = 0;
    int rc = gt_dataset_export(&s, rec, k, o->out, root, &err);
    if (!rc) rc = gt_dataset_verify(o->out, root, NULL, again, &rows, &err);
    gt_samples_free(rec, n);
    gt_job_spec_free(&s);
    if (rc) return gt_cli_fail(&err);
    char rh[65];
    gt_hex_encode(root, 32, rh);
    char root_s[67];
    snprintf(root_s, sizeof root_s, "0x%s", rh);
    if (o->json)
        return gt_cli_json_out(json_pack("{s:o,s:I,s:s}", "dir", gt_json_text_lossy(o->out, strlen(o->out)), "rows",
                                         (json_int_t)rows, "merkle_root", root_s));
    else printf("%zu rows written to %s (data.jsonl, README.md, provenance.json)\nMerkle root: 0x%s\n", rows, o->out, rh);
    return 0;
}

/* `data job post JOB`: the job as a market task of kind generate (batch.h). */
static int cmd_post(data_opts *o) {
    if (o->n_pos != 1) return gt_cli_usage_error("data", "job post takes one JOB");
    if (!o->validator) return gt_cli_usage_error("data", "job post needs --validator ADDR (the agent that judges samples)");
    gt_err err = {0};
    char hex[65];
    gt_job_spec s;
    memset(&s, 0, sizeof s);
    gt_task_terms t = {.kind = GT_WORK_KIND_GENERATE};
    gt_work_terms wt;
    uint8_t *text = NULL;
    size_t len = 0;
    char path[4300];
    int rc = resolve_job(o, o->pos[0], hex, &err);
    if (!rc) {
        job_dir(o, hex, path, sizeof path - 16);
        strcat(path, "/spec.json");
        rc = gt_file_read(path, GT_JOB_SPEC_MAX_BYTES, &text, &len, &err);
    }
    if (!rc) rc = gt_job_spec_parse((const char *)text, len, &s, &err);
    if (!rc) rc = gt_work_job_terms(&s, &wt, &err);
    if (!rc && (rc = gt_addr_parse(o->validator, &t.verifier, &err))) gt_err_wrap(&err, "--validator");
    if (!rc && o->fee) rc = gt_cli_amount("--fee", o->fee, &t.fee_units, &err);
    gt_key key;
    int have_key = 0;
    if (!rc) rc = gt_cli_load_key(o->home_opt, o->from, o->password_file, &key, NULL, &err), have_key = !rc;
    gt_agent *a = NULL;
    uint8_t id[32];
    if (!rc) {
        t.slots = wt.slots, t.bounty_units = wt.bounty_units, t.stake_units = wt.stake_units;
        t.batch_items = wt.batch_items, t.last_batch_items = wt.last_batch_items;
        gt_agent_config ac = {.name = "cli"};
        rc = gt_agent_new(&ac, &key, gt_cli_node(o->node), &a, &err);
    }
    if (have_key) gt_key_wipe(&key);
    /* The task's spec blob is the job spec itself: its sha256 is the job id. */
    if (!rc) rc = gt_agent_post(a, &t, text, len, id, &err);
    /* Posted all the same (the poster may run its own workers), but said. */
    if (!rc && !s.has_model)
        fprintf(stderr, "warning: job %.16s names no model, so worker agents skip it: its validators would re-run "
                "samples with whatever model they run and refuse a batch made with another; add \"model\": "
                "\"sha256:<sha256sum of the GGUF file>\" to the spec\n", hex);
    gt_agent_free(a);
    gt_free(text);
    gt_job_spec_free(&s);
    if (rc) return gt_cli_fail(&err);
    char ih[67] = "0x";
    gt_hex_encode(id, 32, ih + 2);
    char b[GT_AMOUNT_STR_MAX], st[GT_AMOUNT_STR_MAX];
    if (o->json) {
        char jid[72], bs[24], ss[24];
        snprintf(jid, sizeof jid, "sha256:%s", hex);
        snprintf(bs, sizeof bs, "%llu", (unsigned long long)t.bounty_units);
        snprintf(ss, sizeof ss, "%llu", (unsigned long long)t.stake_units);
        return gt_cli_json_out(
            json_pack("{s:s,s:s,s:I,s:s,s:s}", "task", ih, "job", jid, "slots", (json_int_t)t.slots, "bounty", bs, "stake", ss));
    } else
        printf("posted job %.16s as task %s: %llu batches, bounty %s and stake %s per batch\n", hex, ih,
               (unsigned long long)t.slots, gt_amount_format(t.bounty_units, b), gt_amount_format(t.stake_units, st));
    return 0;
}

/* A 32-byte hash given as 0x<64 hex> or sha256:<64 hex> (the node writes a
 * root the first way and a manifest the second) into out, or the usage
 * error's exit code naming the option. */
static int parse_hash_opt(const char *opt, const char *s, uint8_t out[32]) {
    const char *hex = !strncmp(s, "0x", 2) ? s + 2 : !strncmp(s, "sha256:", 7) ? s + 7 : NULL;
    if (!hex || strlen(hex) != 64 || gt_hex_decode(hex, out, 32, opt, NULL))
        return gt_cli_usage_error("data", "%s: expected 0x or sha256: and 64 hex digits, got \"%.80s\"", opt, s);
    return 0;
}

/* The job id of --job: a whole id (sha256:<hex>, 0x<hex> or 64 hex digits)
 * as it is, since the node's job need not be in this home; a shorter prefix
 * resolved among this home's jobs, as every other data command does. */
static int verify_job_id(const data_opts *o, uint8_t job[32], gt_err *err) {
    const char *p = !strncmp(o->job, "sha256:", 7) ? o->job + 7 : !strncmp(o->job, "0x", 2) ? o->job + 2 : o->job;
    char hex[65];
    if (strlen(p) == 64) return gt_hex_decode(p, job, 32, "--job", err);
    if (resolve_job(o, o->job, hex, err)) return err->code;
    return gt_hex_decode(hex, job, 32, "--job", err);
}

/* The ledger's record of job's dataset, read from the node: its root, its
 * manifest and its row count (*pub keeps the view for the output; caller
 * json_decref's). Fails closed: an unreachable node, a job with no dataset,
 * a view of another job (the output would name it: a wrong route, a
 * proxy's cache) and a view without a well-formed root, manifest or rows
 * are errors. */
static int ledger_record(const data_opts *o, const uint8_t job[32], uint8_t root[32], uint8_t manifest[32],
                         uint64_t *rows, json_t **pub, gt_err *err) {
    char path[96] = "/v1/datasets/0x";
    gt_hex_encode(job, 32, path + strlen(path));
    gt_client *c = NULL;
    *pub = NULL;
    int rc = gt_client_new(gt_cli_node(o->node), &c, err);
    if (!rc && (rc = gt_client_get_json(c, path, pub, err)))
        gt_err_wrap(err, "the ledger's record of job %.80s (node %s)", o->job, gt_client_url(c));
    gt_client_free(c);
    if (rc) return rc;
    json_t *n = json_object_get(*pub, "rows");
    uint8_t named[32];
    if (!(rc = gt_agent_json_hash(*pub, "job", named, err)) && memcmp(named, job, 32))
        rc = gt_err_set(err, GT_EINVAL, "it is job %.80s", json_string_value(json_object_get(*pub, "job")));
    if (!rc && !(rc = gt_agent_json_hash(*pub, "root", root, err)))
        rc = gt_agent_json_hash(*pub, "manifest", manifest, err);
    if (rc) return gt_err_wrap(err, "the node's record of job %.80s", o->job);
    if (!json_is_integer(n) || json_integer_value(n) < 1)
        rc = gt_err_set(err, GT_EINVAL, "the node's record of job %.80s has no row count", o->job);
    if (!rc) *rows = (uint64_t)json_integer_value(n);
    return rc;
}

/* A copy without provenance.json (--job): the file the publisher uploaded,
 * fetched from the node by the manifest's hash and written into DIR, so the
 * copy is checked whole; only into a DIR holding data.jsonl (another
 * directory, named by mistake, is not written to: its verify fails). Only the published bytes are written (their sha256
 * is the ledger's manifest); a node without the blob, or with other bytes,
 * is an error and DIR is left as it was. 0 when DIR had the file. */
static int fetch_provenance(const data_opts *o, const uint8_t manifest[32], gt_err *err) {
    char path[4300], id[72] = "sha256:";
    struct stat st;
    gt_path_join(path, sizeof path, o->pos[0], "data.jsonl");
    if (stat(path, &st) || !S_ISREG(st.st_mode)) return 0; /* no dataset's copy (a typo, $HOME): nothing written */
    gt_path_join(path, sizeof path, o->pos[0], "provenance.json");
    if (!lstat(path, &st) || errno != ENOENT) return 0; /* there (or unreadable: the verify says so) */
    gt_hex_encode(manifest, 32, id + 7);
    gt_client *c = NULL;
    uint8_t *b = NULL, h[32];
    size_t n = 0;
    int rc = gt_client_new(gt_cli_node(o->node), &c, err);
    if (!rc && (rc = gt_client_blob_get(c, id, GT_LIMIT_BLOB_BYTES, &b, &n, err)))
        gt_err_wrap(err, "%.200s has no provenance.json, and the published one (%s) could not be had from the node",
                    o->pos[0], id);
    gt_client_free(c);
    if (!rc) gt_sha256(b, n, h);
    if (!rc && memcmp(h, manifest, 32))
        rc = gt_err_set(err, GT_EINVAL, "the node's blob %s is not those bytes: nothing written", id);
    if (!rc) rc = gt_file_write_atomic(path, b, n, 0644, err);
    if (!rc) fprintf(stderr, "%s had no provenance.json: wrote the published one (%zu bytes, %s) from the node\n",
                     o->pos[0], n, id);
    gt_free(b);
    return rc;
}

/* What `data verify` prints once every check passed: rows, root and
 * manifest, and the record they were checked against (job: the node's
 * view; NULL: the command line's). */
static int verify_ok(const data_opts *o, size_t rows, const uint8_t root[32], const uint8_t manifest[32],
                     const json_t *pub) {
    assert(o->n_pos == 1 && rows <= GT_DATASET_MAX_ROWS); /* cmd_verify's checks passed */
    char r[67] = "0x", m[72] = "sha256:";
    gt_hex_encode(root, 32, r + 2);
    gt_hex_encode(manifest, 32, m + 7);
    const char *job = json_string_value(json_object_get(pub, "job"));
    json_int_t height = json_integer_value(json_object_get(pub, "height"));
    if (o->json)
        return gt_cli_json_out(json_pack("{s:b,s:o,s:I,s:s,s:s,s:o,s:o}", "ok", 1, "dir",
                                         gt_json_text_lossy(o->pos[0], strlen(o->pos[0])), "rows", (json_int_t)rows,
                                         "merkle_root", r, "manifest", m, "job", job ? json_string(job) : json_null(),
                                         "height", pub ? json_integer(height) : json_null()));
    printf("ok: %zu rows, Merkle root %s, provenance.json %s\n", rows, r, m);
    if (job) printf("  the dataset of job %s published at height %lld\n", job, (long long)height);
    else printf("  the root and manifest given (--root, --manifest)\n");
    return 0;
}

/* `data verify DIR`: the copy in DIR against the ledger's record of its
 * dataset (--job, read from the node) or the root and manifest given by
 * hand; exit 0 only when its root, its provenance.json's sha256 and (with
 * --job) its row count are the record's. Both the root and the manifest are
 * required: a root alone leaves the rows' order and provenance to the
 * copy's own provenance.json, which whoever made the copy can rewrite. */
static int cmd_verify(data_opts *o) {
    if (o->n_pos != 1) return gt_cli_usage_error("data", "verify needs DIR, the dataset's folder");
    if (o->job && (o->root || o->manifest))
        return gt_cli_usage_error("data", "verify takes --job or --root and --manifest, not both");
    if (!o->job && o->node)
        return gt_cli_usage_error("data", "--node goes with --job (the node the ledger's record, and a missing "
                                  "provenance.json, are read from); --root and --manifest are checked against the "
                                  "copy alone, with no node");
    if (!o->job && (!o->root || !o->manifest))
        return gt_cli_usage_error("data", "verify needs --job JOB, or both --root and --manifest (%s): a root "
                                  "alone leaves the rows' order and provenance unchecked",
                                  o->root ? "--manifest is missing" : o->manifest ? "--root is missing" : "none given");
    gt_err err = {0};
    uint8_t root[32], manifest[32], got[32];
    uint64_t want_rows = 0;
    size_t rows = 0;
    json_t *pub = NULL;
    int rc = 0;
    if (!o->job && (rc = parse_hash_opt("--root", o->root, root))) return rc;
    if (!o->job && (rc = parse_hash_opt("--manifest", o->manifest, manifest))) return rc;
    if (o->job) {
        uint8_t job[32];
        rc = verify_job_id(o, job, &err);
        if (!rc) rc = ledger_record(o, job, root, manifest, &want_rows, &pub, &err);
        if (!rc) rc = fetch_provenance(o, manifest, &err);
    }
    if (!rc && (rc = gt_dataset_verify(o->pos[0], root, manifest, got, &rows, &err)))
        gt_err_wrap(&err, "%.200s refused against %s", o->pos[0],
                    o->job ? "the ledger's record" : "--root and --manifest");
    if (!rc && o->job && rows != want_rows)
        rc = gt_err_set(&err, GT_EINVAL, "%.200s has %zu rows; the ledger records %llu for job %.80s", o->pos[0], rows,
                        (unsigned long long)want_rows, o->job);
    rc = rc ? gt_cli_fail(&err) : verify_ok(o, rows, root, manifest, pub);
    json_decref(pub);
    return rc;
}

static int cmd_data(int argc, char **argv) {
    static const char *const subs[] = {"job", "export", "verify", NULL};
    static const char *const job_subs[] = {"new", "list", "show", "run", "post", NULL};
    static int (*const job_fns[])(data_opts *) = {cmd_new, cmd_list, cmd_show, cmd_run, cmd_post};
    data_opts o;
    int which, rc = gt_cli_subcommand("data", argc, argv, subs, usage, &which);
    if (rc >= 0) return rc;
    if (which >= 1) { /* export, verify */
        if ((rc = parse_opts(argc, argv, 2, &o))) return rc;
        return o.help ? (usage(stdout), 0) : which == 1 ? cmd_export(&o) : cmd_verify(&o);
    }
    if ((rc = gt_cli_subcommand("data job", argc - 1, argv + 1, job_subs, usage, &which)) >= 0) return rc;
    if ((rc = parse_opts(argc, argv, 3, &o))) return rc;
    return o.help ? (usage(stdout), 0) : job_fns[which](&o);
}

GT_CLI_COMMAND(cmd_data_def, "data", "synthetic data jobs: specs, generation + validation, dataset export", cmd_data)
