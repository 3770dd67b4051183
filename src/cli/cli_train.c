/* cli_train.c: `gotong train` -- trains a llama-architecture model from
 * scratch on a text file, tokenized with a vocabulary's tokenizer, and
 * writes a GGUF that gotong's engine (and llama.cpp) loads.
 *
 * Batches are windows of seq_len + 1 tokens drawn from the tokenized text by
 * a seeded generator (splitmix64 of seed and step), so a run is the same
 * bytes whatever the thread count (src/train/trainer.h). Progress goes to
 * stderr: a redrawn line on a terminal, a line every ~5% otherwise. */
#include <assert.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/alloc.h"
#include "base/file.h"
#include "base/pool.h"
#include "base/progress.h"
#include "cli/cli.h"
#include "infer/gguf.h"
#include "infer/tokenizer.h"
#include "train/dataset.h"
#include "train/run.h"
#include "train/trainer.h"

#define TRAIN_MAX_DATA_BYTES (256u << 20) /* the text file */
#define TRAIN_MAX_STEPS 10000000
#define TRAIN_MAX_ACCUM 1024

typedef struct train_opts {
    const char *data, *vocab, *out, *checkpoint, *resume;
    const char *from;          /* fine-tune this model (its shapes and vocabulary) */
    const char *dataset, *root; /* a data job's export and its Merkle root */
    int dim, layers, heads, kv_heads, ff, seq, batch, steps, accum, warmup, threads;
    int checkpoint_every, stop_after; /* 0: at the end only; 0: never */
    int completion_loss;              /* --completion-loss: a dataset's prompts are not predicted */
    int row_windows;                  /* --row-windows: a window starts at a row's BOS */
    unsigned long long seed;
    float lr, min_lr, wd, clip;
} train_opts;

static void usage_train(FILE *f) {
    fprintf(f,
            "usage: gotong train (--data FILE.txt | --dataset DATA.jsonl --root 0xROOT)\n"
            "         (--vocab VOCAB.gguf | --from MODEL.gguf) (-o | --out) OUT.gguf\n"
            "         [--dim D] [--layers L] [--heads H] [--kv-heads K] [--ff F]\n"
            "         [--seq T] [--batch B] [--steps S] [--accum A] [--lr LR] [--min-lr LR]\n"
            "         [--warmup W] [--wd WD] [--clip C] [--threads N] [--seed S]\n"
            "         [--checkpoint FILE [--checkpoint-every K]] [--resume FILE] [--stop-after S]\n"
            "         [--completion-loss] [--row-windows]\n"
            "Trains a llama-architecture model from scratch on the text of FILE.txt,\n"
            "tokenized with VOCAB.gguf's tokenizer (whose vocabulary the model takes),\n"
            "with AdamW, linear warmup then cosine decay to --min-lr, gradient clipping\n"
            "and accumulation of A micro-batches of B windows of T tokens per step, and\n"
            "writes an f32 GGUF. The weights are the same bytes for any --threads.\n"
            "--from fine-tunes MODEL.gguf instead (a llama model in f32, f16, bf16, q8_0,\n"
            "q4_0, q4_K, q5_K or q6_K, dequantized): its shapes and vocabulary, and its\n"
            "keys in the output; the shape options are then refused.\n"
            "--dataset trains on the rows (prompt then completion, each with BOS and EOS\n"
            "as the vocabulary has them) of a dataset that `gotong data export` wrote (the\n"
            "file or its directory), only if its Merkle root is --root's; with\n"
            "--completion-loss only the completions (and EOS) are predicted, the prompts\n"
            "are read but not trained on; with --row-windows every window starts at a\n"
            "row's BOS (as a question is asked), not anywhere in the rows' tokens.\n"
            "Defaults: --dim 128 --layers 2 --heads 4 --kv-heads (heads) --ff (8/3 dim,\n"
            "rounded up to 32) --seq 64 --batch 8 --steps 200 --accum 1 --lr 1e-3\n"
            "--min-lr (lr/10) --warmup (steps/20) --wd 0.1 --clip 1 --threads (CPUs) --seed 1.\n"
            "--checkpoint writes the weights, AdamW moments and step to FILE every K steps\n"
            "and at the end; --resume FILE continues such a run (its shapes and seed come\n"
            "from FILE; give the same other options) and ends with the same bytes as a\n"
            "run that never stopped. --stop-after S ends after step S (then resume).\n");
}

/* An integer option in [lo, hi] (0 <= lo, hi <= INT_MAX), on the CLI's one
 * number parser and its wording ("--dim: expected an integer 32..4096,
 * got \"x\""), or a usage error (2). */
static int opt_int(const char *opt, const char *v, long lo, long hi, int *out) {
    assert(lo >= 0 && lo <= hi && hi <= INT_MAX);
    uint64_t x;
    int rc = gt_cli_u64("train", opt, v, (uint64_t)lo, (uint64_t)hi, &x);
    if (rc) return rc;
    *out = (int)x;
    return 0;
}

/* A number option in [lo, hi], or a usage error (2). */
static int opt_float(const char *opt, const char *v, double lo, double hi, float *out) {
    char *end;
    errno = 0;
    double x = strtod(v, &end);
    if (!*v || *end || errno || !(x >= lo && x <= hi))
        return gt_cli_usage_error("train", "%s: expected a number in [%g, %g], got \"%s\"", opt, lo, hi, v);
    *out = (float)x;
    return 0;
}

/* A number option of `gotong train`: parsed as text by the one parser
 * (cli_opt.c), then converted here so that its message names its range.
 * Exactly one of i and f is set. */
typedef struct num_opt {
    const char *name;
    int *i;
    float *f;
    double lo, hi;
} num_opt;

#define TRAIN_N_STR_OPTS 10 /* the text and flag options of str_opts() */
#define TRAIN_N_NUM_OPTS 18 /* the number options of num_opts() */

/* The text options (files, the root) and the flag into o, ending at
 * TRAIN_N_STR_OPTS. */
static void str_opts(train_opts *o, gt_cli_opt *t) {
    const gt_cli_opt s[TRAIN_N_STR_OPTS] = {
        {"--data", NULL, GT_CLI_OPT_STR, &o->data, 0, 0, NULL},
        {"--dataset", NULL, GT_CLI_OPT_STR, &o->dataset, 0, 0, NULL},
        {"--root", NULL, GT_CLI_OPT_STR, &o->root, 0, 0, NULL},
        {"--vocab", NULL, GT_CLI_OPT_STR, &o->vocab, 0, 0, NULL},
        {"--from", NULL, GT_CLI_OPT_STR, &o->from, 0, 0, NULL},
        {"--out", "-o", GT_CLI_OPT_STR, &o->out, 0, 0, NULL},
        {"--checkpoint", NULL, GT_CLI_OPT_STR, &o->checkpoint, 0, 0, NULL},
        {"--resume", NULL, GT_CLI_OPT_STR, &o->resume, 0, 0, NULL},
        {"--completion-loss", NULL, GT_CLI_OPT_FLAG, &o->completion_loss, 0, 0, NULL},
        {"--row-windows", NULL, GT_CLI_OPT_FLAG, &o->row_windows, 0, 0, NULL},
    };
    memcpy(t, s, sizeof s);
}

/* The number options into o (the seed into *seed), with their ranges. */
static void num_opts(train_opts *o, int *seed, num_opt *n) {
    const num_opt s[TRAIN_N_NUM_OPTS] = {
        {"--dim", &o->dim, NULL, 32, GT_TRAIN_MAX_DIM},
        {"--layers", &o->layers, NULL, 1, GT_TRAIN_MAX_LAYERS},
        {"--heads", &o->heads, NULL, 1, GT_TRAIN_MAX_DIM / 16},
        {"--kv-heads", &o->kv_heads, NULL, 1, GT_TRAIN_MAX_DIM / 16},
        {"--ff", &o->ff, NULL, 32, GT_TRAIN_MAX_FF},
        {"--seq", &o->seq, NULL, 1, GT_TRAIN_MAX_SEQ},
        {"--batch", &o->batch, NULL, 1, GT_TRAIN_MAX_BATCH},
        {"--steps", &o->steps, NULL, 1, TRAIN_MAX_STEPS},
        {"--accum", &o->accum, NULL, 1, TRAIN_MAX_ACCUM},
        {"--warmup", &o->warmup, NULL, 0, TRAIN_MAX_STEPS},
        {"--checkpoint-every", &o->checkpoint_every, NULL, 1, TRAIN_MAX_STEPS},
        {"--stop-after", &o->stop_after, NULL, 1, TRAIN_MAX_STEPS},
        {"--threads", &o->threads, NULL, 1, GT_POOL_MAX_THREADS},
        {"--seed", seed, NULL, 0, 2147483647},
        {"--lr", NULL, &o->lr, 1e-8, 1.0},
        {"--min-lr", NULL, &o->min_lr, 0.0, 1.0},
        {"--wd", NULL, &o->wd, 0.0, 10.0},
        {"--clip", NULL, &o->clip, 0.0, 1e6},
    };
    memcpy(n, s, sizeof s);
}

/* Checks -o and --checkpoint before training, so that hours of steps are
 * not lost to a path that cannot be written at the end, and neither replaces
 * an input (--resume may be --checkpoint: a run continues its own file).
 * -1 to go on, else the exit code. */
static int check_paths(const train_opts *o) {
    const gt_cli_input in[] = {{"--data", o->data}, {"--dataset", o->dataset}, {"--vocab", o->vocab},
                               {"--from", o->from}, {"--resume", o->resume}, {"--checkpoint", o->checkpoint}};
    int rc = gt_cli_check_out("train", "-o", o->out, in, sizeof in / sizeof *in);
    if (!rc && o->checkpoint) rc = gt_cli_check_out("train", "--checkpoint", o->checkpoint, in, 4);
    if (!rc && o->checkpoint && !strcmp(o->checkpoint, o->out))
        rc = gt_cli_usage_error("train", "--checkpoint and -o are both %s: expected two files", o->out);
    return rc ? rc : -1;
}

/* Checks the options together and fills in the defaults that depend on
 * others; -1 to go on, else the exit code. */
static int check_opts(train_opts *o) {
    if (!o->data == !o->dataset || !o->vocab == !o->from || !o->out)
        return gt_cli_usage_error("train",
                                  "one of --data and --dataset, one of --vocab and --from, and -o are required");
    if (!o->dataset != !o->root) return gt_cli_usage_error("train", "--dataset and --root go together");
    if ((o->completion_loss || o->row_windows) && !o->dataset)
        return gt_cli_usage_error("train", "--completion-loss and --row-windows need --dataset (rows with prompts)");
    if (o->from && (o->dim || o->layers || o->heads || o->kv_heads || o->ff))
        return gt_cli_usage_error("train",
                                  "--dim, --layers, --heads, --kv-heads and --ff: --from's model has its shapes");
    if (!o->dim) o->dim = 128;
    if (!o->layers) o->layers = 2;
    if (!o->heads) o->heads = 4;
    if (!o->kv_heads) o->kv_heads = o->heads;
    if (!o->from && (o->kv_heads > o->heads || o->heads % o->kv_heads)) /* named by option, not the model's field */
        return gt_cli_usage_error("train", "--kv-heads %d: expected a divisor of --heads %d (the heads share the kv "
                                  "heads in equal groups)", o->kv_heads, o->heads);
    if (!o->ff) o->ff = (o->dim * 8 / 3 + 31) / 32 * 32;
    if (o->warmup < 0) o->warmup = o->steps / 20;
    if (o->warmup > o->steps) /* the whole run would creep up to a rate it never reaches */
        return gt_cli_usage_error("train", "--warmup %d is longer than --steps %d: expected at most the steps",
                                  o->warmup, o->steps);
    if (o->min_lr < 0) o->min_lr = o->lr / 10;
    if (o->min_lr > o->lr)
        return gt_cli_usage_error("train", "--min-lr %g is above --lr %g", (double)o->min_lr, (double)o->lr);
    return check_paths(o);
}

/* Parses argv into o with defaults, on the CLI's one parser (its table is
 * the text options, then the number options as text, converted after);
 * -1 to go on, else the exit code. */
static int parse_opts(int argc, char **argv, train_opts *o) {
    *o = (train_opts){.seq = 64, .batch = 8, .steps = 200, .accum = 1,
                      .warmup = -1, .threads = gt_cpu_count(), .seed = 1, .lr = 1e-3f, .min_lr = -1.0f,
                      .wd = 0.1f, .clip = 1.0f};
    int seed = 1;
    const char *raw[TRAIN_N_NUM_OPTS] = {0};
    num_opt nums[TRAIN_N_NUM_OPTS];
    num_opts(o, &seed, nums);
    gt_cli_opt opts[TRAIN_N_STR_OPTS + TRAIN_N_NUM_OPTS + 1] = {{0}}; /* ends with a NULL name */
    str_opts(o, opts);
    for (int k = 0; k < TRAIN_N_NUM_OPTS; k++)
        opts[TRAIN_N_STR_OPTS + k] = (gt_cli_opt){nums[k].name, NULL, GT_CLI_OPT_STR, &raw[k], 0, 0, NULL};
    int rc = gt_cli_parse("train", argc, argv, 1, opts, NULL, 0, NULL, usage_train);
    if (rc >= 0) return rc;
    for (int k = 0; k < TRAIN_N_NUM_OPTS; k++) {
        const num_opt *n = &nums[k];
        if (!raw[k]) continue;
        rc = n->i ? opt_int(n->name, raw[k], (long)n->lo, (long)n->hi, n->i)
                  : opt_float(n->name, raw[k], n->lo, n->hi, n->f);
        if (rc) return rc;
    }
    o->seed = (unsigned long long)seed;
    return check_opts(o);
}

/* The training tokens of --data or --dataset into *out (caller frees with
 * gt_free); a dataset's rows only when their Merkle root is --root's. */
static int tokenize_input(const train_opts *o, const gt_tokenizer *tok, int32_t **out, size_t *n_out, gt_err *err) {
    int rc;
    if (o->dataset) {
        gt_train_rows rows;
        rc = gt_train_rows_read(o->dataset, o->root, &rows, err);
        if (!rc) rc = o->completion_loss ? gt_train_rows_tokenize_masked(&rows, tok, o->dataset, out, n_out, err)
                                         : gt_train_rows_tokenize(&rows, tok, o->dataset, out, n_out, err);
        if (!rc) fprintf(stderr, "dataset %s: %zu rows, Merkle root %s\n", o->dataset, rows.n, o->root);
        gt_train_rows_free(&rows);
    } else {
        uint8_t *text = NULL;
        size_t len = 0;
        rc = gt_file_read(o->data, TRAIN_MAX_DATA_BYTES, &text, &len, err);
        if (!rc) rc = gt_cli_check_text(o->data, text, len, err);
        if (!rc) rc = gt_train_text_tokenize(text, len, tok, o->data, out, n_out, err);
        gt_free(text);
    }
    if (!rc && *n_out < (size_t)o->seq + 1) {
        rc = gt_err_set(err, GT_EINVAL, "%s holds %zu tokens: expected more than --seq %d",
                        o->dataset ? o->dataset : o->data, *n_out, o->seq);
        gt_free(*out), *out = NULL;
    }
    return rc;
}

#define TRAIN_PIPE_PROGRESS_S 5.0 /* the longest a pipe waits for a progress line */

/* The progress line: step, loss, tokens/s and time left. A terminal gets it
 * redrawn every step; a pipe every ~5% of the steps, at the end, and at least
 * every TRAIN_PIPE_PROGRESS_S seconds (5% of a long run can be hours). */
static void progress_line(const train_opts *o, int step, double loss, double t0_s) {
    static int first_step = -1; /* the step this process started at (a resume starts later) */
    static double last_s;       /* when the last line was printed */
    if (first_step < 0) first_step = step - 1, last_s = t0_s;
    int tty = isatty(2), every = o->steps / 20 > 0 ? o->steps / 20 : 1;
    double now = gt_now_s();
    if (!tty && step % every && step != o->steps && now - last_s < TRAIN_PIPE_PROGRESS_S) return;
    last_s = now;
    int done = step - first_step;
    double el = now - t0_s, tps = el > 0 ? (double)done * o->accum * o->batch * o->seq / el : 0;
    double left = done ? el / done * (o->steps - step) : 0;
    fprintf(stderr, "%sstep %d/%d  loss %.4f  %.0f tokens/s  %d:%02d left%s", tty ? "\r" : "", step, o->steps,
            loss, tps, (int)left / 60, (int)left % 60, tty && step != o->steps ? "" : "\n");
    fflush(stderr);
}

#define TRAIN_EXIT_INTERRUPTED 130 /* 128 + SIGINT, as a shell reports a Ctrl-C */

static volatile sig_atomic_t stop_asked; /* a SIGINT or SIGTERM came during the steps */

/* The handler of the first SIGINT/SIGTERM: the loop stops after its step. */
static void on_stop(int sig) {
    (void)sig;
    stop_asked = 1;
}

/* Catches SIGINT and SIGTERM for the steps: the first ends the run after
 * the step under way (and its checkpoint); SA_RESETHAND makes a second one
 * end the process at once, as before, for a step that takes too long. */
static void catch_stop(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop;
    sa.sa_flags = SA_RESETHAND;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

/* Ends an interrupted run after step: its checkpoint written (unless it
 * was at this step already) and told how to go on; -o is not written, so no
 * file there looks like the model asked for. Returns GT_ESTATE with that. */
static int interrupted(const train_opts *o, const gt_trainer *t, int step, int saved, gt_err *err) {
    if (isatty(2)) fputc('\n', stderr); /* after the redrawn progress line */
    int rc = o->checkpoint && !saved ? gt_trainer_save_checkpoint(t, o->checkpoint, err) : 0;
    if (rc) return rc;
    if (o->checkpoint)
        return gt_err_set(err, GT_ESTATE, "interrupted after step %d of %d: %s holds it (go on with --resume %s); "
                          "%s not written", step, o->steps, o->checkpoint, o->checkpoint, o->out);
    return gt_err_set(err, GT_ESTATE, "interrupted after step %d of %d: nothing written (--checkpoint FILE keeps "
                      "a run's steps to --resume)", step, o->steps);
}

/* Runs the steps; *first and *last get the first and last step's loss. */
static int train_loop(const train_opts *o, gt_trainer *t, const int32_t *ids, size_t n, int32_t bos, double *first,
                      double *last, gt_err *err) {
    size_t N = (size_t)o->batch * o->seq;
    int32_t *tok = gt_malloc(N * sizeof(int32_t)), *tgt = gt_malloc(N * sizeof(int32_t));
    if (!tok || !tgt) return gt_free(tok), gt_free(tgt), gt_err_set(err, GT_ENOMEM, "out of memory");
    gt_train_run run = {.seq = o->seq, .batch = o->batch, .accum = o->accum, .seed = o->seed,
                        .opt = gt_train_opt_default()};
    run.opt.lr = o->lr, run.opt.min_lr = o->min_lr, run.opt.warmup_steps = o->warmup, run.opt.total_steps = o->steps;
    run.opt.weight_decay = o->wd, run.opt.clip_norm = o->clip;
    double t0 = gt_now_s();
    size_t *starts = NULL;
    int rc = o->row_windows ? gt_train_row_starts(ids, n, o->seq, bos, &starts, &run.n_starts, err) : 0;
    run.starts = starts;
    int s0 = gt_trainer_step_count(t), end = o->stop_after && o->stop_after < o->steps ? o->stop_after : o->steps;
    catch_stop();
    for (int s = s0; s < end && !rc; s++) {
        if ((rc = gt_train_run_step(t, &run, ids, n, tok, tgt, last, err))) break;
        if (s == s0) *first = *last;
        progress_line(o, s + 1, *last, t0);
        int every = o->checkpoint_every ? o->checkpoint_every : o->steps;
        int save = o->checkpoint && ((s + 1) % every == 0 || s + 1 == end);
        if (save) rc = gt_trainer_save_checkpoint(t, o->checkpoint, err);
        if (!rc && stop_asked) rc = interrupted(o, t, s + 1, save, err);
    }
    gt_free(tok), gt_free(tgt), gt_free(starts);
    return rc;
}

/* Loads the checkpoint of --resume into *t and takes its shapes and seed
 * into o; its vocabulary must be the tokenizer's. */
static int resume_from(train_opts *o, const gt_tokenizer *tk, gt_trainer **t, gt_err *err) {
    int rc = gt_trainer_load_checkpoint(o->resume, o->threads, t, err);
    if (rc) return gt_err_wrap(err, "--resume %s", o->resume);
    const gt_train_hparams *hp = gt_trainer_hparams(*t);
    const char *vocab = o->from ? o->from : o->vocab;
    if (hp->n_vocab != gt_tokenizer_n_vocab(tk))
        return gt_err_set(err, GT_EINVAL, "%s has a vocabulary of %d tokens, %s of %d", o->resume, hp->n_vocab,
                          vocab, (int)gt_tokenizer_n_vocab(tk));
    if (gt_trainer_step_count(*t) >= o->steps)
        return gt_err_set(err, GT_EINVAL, "%s is at step %d: expected --steps above it", o->resume,
                          gt_trainer_step_count(*t));
    o->dim = hp->dim, o->layers = hp->n_layer, o->heads = hp->n_head, o->kv_heads = hp->n_head_kv;
    o->ff = hp->n_ff, o->seq = hp->seq_len, o->batch = hp->batch, o->seed = hp->seed;
    return 0;
}

/* The model to train: a new one, --from's model, or --resume's checkpoint
 * (already in *t). */
static int make_trainer(const train_opts *o, const gt_gguf *vg, const gt_tokenizer *tk, gt_trainer **t,
                        gt_err *err) {
    gt_train_hparams hp = {.dim = o->dim, .n_layer = o->layers, .n_head = o->heads, .n_head_kv = o->kv_heads,
                           .n_ff = o->ff, .seq_len = o->seq, .batch = o->batch, .seed = o->seed};
    if (*t) return 0;
    if (!o->from) return hp.n_vocab = gt_tokenizer_n_vocab(tk), gt_trainer_new(&hp, o->threads, t, err);
    int tied = 0, rc = gt_trainer_from_gguf(vg, &hp, o->threads, t, &tied, err);
    if (rc) {
        char why[sizeof err->msg];
        snprintf(why, sizeof why, "%s", err->msg);
        return gt_err_set(err, rc, "--from %s: %s", o->from, why);
    }
    const gt_train_hparams *m = gt_trainer_hparams(*t);
    fprintf(stderr, "fine-tuning %s: dim %d, %d layers, %d/%d heads, ff %d, vocabulary %d%s\n", o->from, m->dim,
            m->n_layer, m->n_head, m->n_head_kv, m->n_ff, m->n_vocab,
            tied ? " (output untied from the embedding)" : "");
    return 0;
}

/* Loads the vocabulary and its tokenizer, tokenizes the data, trains, saves. */
static int run_train(const train_opts *o_in, gt_err *err) {
    gt_gguf *vg = NULL;
    gt_tokenizer *tk = NULL;
    gt_trainer *t = NULL;
    int32_t *ids = NULL;
    size_t n = 0;
    double first = 0, last = 0, t0 = gt_now_s();
    train_opts ro = *o_in; /* a resume takes shapes and seed from its checkpoint */
    const train_opts *o = &ro;
    int rc = gt_gguf_open(o->from ? o->from : o->vocab, &vg, err);
    if (!rc && (rc = gt_tokenizer_load(vg, &tk, err))) /* say which file: a checkpoint has no tokenizer */
        gt_err_wrap(err, "%s %s", o->from ? "--from" : "--vocab", o->from ? o->from : o->vocab);
    if (!rc && o->resume) rc = resume_from(&ro, tk, &t, err);
    if (!rc) rc = tokenize_input(o, tk, &ids, &n, err);
    if (!rc) rc = make_trainer(o, vg, tk, &t, err);
    if (!rc)
        fprintf(stderr, "training %zu parameters on %zu tokens of %s (%d steps of %d x %d x %d tokens)\n",
                gt_trainer_n_params(t), n, o->dataset ? o->dataset : o->data, o->steps, o->accum, o->batch, o->seq);
    int s0 = t ? gt_trainer_step_count(t) : 0;
    if (!rc) rc = train_loop(o, t, ids, n, gt_tokenizer_bos(tk), &first, &last, err);
    if (!rc) rc = o->from ? gt_trainer_save_gguf_like(t, vg, o->out, err)
                          : gt_trainer_save_gguf(t, vg, "gotong-train", o->out, err);
    if (!rc) {
        double el = gt_now_s() - t0;
        int s1 = gt_trainer_step_count(t);
        printf("wrote %s: %zu parameters, steps %d..%d of %d, loss %.4f -> %.4f, %.0f tokens/s, %.1f s\n", o->out,
               gt_trainer_n_params(t), s0 + 1, s1, o->steps, first, last,
               (double)(s1 - s0) * o->accum * o->batch * o->seq / el, el);
    }
    gt_free(ids);
    gt_trainer_free(t);
    gt_tokenizer_free(tk);
    gt_gguf_close(vg);
    return rc;
}

static int cmd_train(int argc, char **argv) {
    train_opts o;
    int rc = parse_opts(argc, argv, &o);
    if (rc >= 0) return rc;
    gt_err err = {0};
    if (run_train(&o, &err)) return gt_cli_fail(&err), stop_asked ? TRAIN_EXIT_INTERRUPTED : GT_CLI_EXIT_FAILED;
    return GT_CLI_EXIT_OK;
}

GT_CLI_COMMAND(cmd_train_def, "train",
               "train a llama-architecture model from scratch or fine-tune one, on text or a verified dataset",
               cmd_train)
