/* cli_run.c: `gotong run`: generate text with a GGUF model on this CPU.
 *
 * Tokens stream to stdout as they are generated; timings go to stderr. With
 * --json nothing streams and one JSON object is printed at the end (prompt
 * and generated ids, the text, timings, and with --top-logits K the top K
 * logits before each generated token), for scripts and for validators that
 * re-run a worker's generation and compare. Seeded and deterministic: the
 * same model, prompt, options and seed give the same tokens and logits
 * whatever --threads is. */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/alloc.h"
#include "base/buf.h"
#include "base/json.h"
#include "base/pool.h"
#include "cli/cli.h"
#include "infer/generate.h"
#include "infer/kernels.h"
#include "infer/model.h"
#include "infer/tokenizer.h"

#define RUN_MAX_PREDICT 1000000
#define RUN_MAX_TOP_K 100000 /* --top-k at most */
#define RUN_MAX_TOP_LOGITS 100

static void usage(FILE *f) {
    fprintf(f,
            "usage: gotong run -m MODEL.gguf (-p PROMPT | -f FILE | -p -) [options]\n\n"
            "Generates text after PROMPT with a GGUF model. Tokens stream to stdout,\n"
            "timings to stderr.\n\n");
    gt_cli_engine_help(f);
    fprintf(f,
            "\noptions:\n"
            "  -m, --model FILE      the model (GGUF)\n"
            "  -p, --prompt TEXT     the prompt (BOS added as the vocabulary asks); - reads stdin\n"
            "  -f, --file FILE       read the prompt from FILE (- for stdin)\n"
            "  -n, --n-predict N     tokens to generate at most (default 128)\n"
            "  --temp T              temperature; 0 is greedy (default 0.8)\n"
            "  --top-k K             keep the K likeliest tokens; 0 is off (default 40)\n"
            "  --top-p P             keep the smallest set with probability P (default 0.95)\n"
            "  --min-p P             drop tokens below P x the likeliest (default 0.05)\n"
            "  --repeat-penalty R    penalise the last 64 tokens; 1 is off (default 1)\n"
            "  --seed S              sampler seed (default 0: runs repeat exactly)\n"
            "  -t, --threads K       threads (default: number of CPUs)\n"
            "  -c, --ctx N           context positions (default min(model, 2048))\n"
            "  --json                print one JSON object instead of streaming\n"
            "  --top-logits K        with --json: the top K logits before each token\n");
}

/* Reads a prompt from path ("-": stdin) whole, up to the tokenizer's limit;
 * *out is NUL-terminated (gt_free). A NUL byte inside is refused: the
 * prompt is text. */
static int read_prompt(const char *path, char **out, gt_err *err) {
    FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
    if (!f) return gt_err_set(err, GT_EIO, "cannot read the prompt from %s: %s", path, strerror(errno));
    size_t cap = (size_t)GT_TOKENIZER_MAX_TEXT_BYTES + 2, n = 0;
    char *buf = gt_malloc(cap);
    int rc = buf ? 0 : gt_err_set(err, GT_ENOMEM, "out of memory");
    if (!rc) n = fread(buf, 1, cap - 1, f);
    if (!rc && ferror(f)) rc = gt_err_set(err, GT_EIO, "cannot read the prompt from %s: %s", path, strerror(errno));
    if (!rc && n > GT_TOKENIZER_MAX_TEXT_BYTES)
        rc = gt_err_set(err, GT_ELIMIT, "the prompt in %s is over the limit of %u bytes", path,
                        GT_TOKENIZER_MAX_TEXT_BYTES);
    if (!rc && memchr(buf, 0, n)) rc = gt_err_set(err, GT_EINVAL, "the prompt in %s holds a NUL byte: not text", path);
    if (f != stdin) fclose(f);
    if (rc) {
        gt_free(buf);
        return rc;
    }
    buf[n] = 0;
    *out = buf;
    return 0;
}

typedef struct run_state {
    int json, top_logits;
    json_t *steps; /* top logits per step (--json --top-logits) */
} run_state;

/* Streams a piece, or records the step's top logits for --json. */
static int on_token(void *user, const gt_gen_step *st) {
    run_state *rs = user;
    if (!rs->json) {
        fwrite(st->piece, 1, st->piece_len, stdout);
        fflush(stdout);
        return 0;
    }
    if (rs->top_logits > 0) {
        int k = rs->top_logits < st->n_vocab ? rs->top_logits : st->n_vocab;
        int best[RUN_MAX_TOP_LOGITS];
        int m = 0;
        for (int i = 0; i < st->n_vocab; i++) { /* insertion into a sorted top-k */
            if (m == k && !(st->logits[i] > st->logits[best[m - 1]])) continue;
            int j = m < k ? m++ : k - 1;
            while (j > 0 && st->logits[i] > st->logits[best[j - 1]]) {
                best[j] = best[j - 1];
                j--;
            }
            best[j] = i;
        }
        json_t *arr = json_array();
        for (int i = 0; i < m; i++)
            json_array_append_new(arr, json_pack("[i,f]", best[i], (double)st->logits[best[i]]));
        json_array_append_new(rs->steps, arr);
    }
    return 0;
}

static json_t *ids_json(const int32_t *ids, int n) {
    json_t *a = json_array();
    for (int i = 0; i < n; i++) json_array_append_new(a, json_integer(ids[i]));
    return a;
}

/* Everything `gotong run` takes. */
typedef struct run_opts {
    const char *model_path, *prompt, *prompt_file;
    gt_gen_params gp;
    long threads, n_ctx;
} run_opts;

/* Parses argv into o and rs with the CLI's option table; returns -1 to go
 * on, else the exit code (0 after --help, 2 on a usage error). */
static int parse_run_opts(int argc, char **argv, run_opts *o, run_state *rs) {
    *o = (run_opts){.gp = gt_gen_defaults(), .threads = gt_cpu_count()};
    gt_sampler_params *sp = &o->gp.sampling;
    const char *prompt = NULL;
    uint64_t n_predict = (uint64_t)o->gp.n_predict, top_k = (uint64_t)sp->top_k, threads = (uint64_t)o->threads;
    uint64_t n_ctx = 0, top_logits = 0;
    const gt_cli_opt opts[] = {
        {"--model", "-m", GT_CLI_OPT_STR, &o->model_path, 0, 0, NULL},
        {"--prompt", "-p", GT_CLI_OPT_STR, &prompt, 0, 0, NULL},
        {"--file", "-f", GT_CLI_OPT_STR, &o->prompt_file, 0, 0, NULL},
        {"--n-predict", "-n", GT_CLI_OPT_U64, &n_predict, 0, RUN_MAX_PREDICT, NULL},
        {"--temp", NULL, GT_CLI_OPT_FLOAT, &sp->temp, 0, 0, NULL},
        {"--top-k", NULL, GT_CLI_OPT_U64, &top_k, 0, RUN_MAX_TOP_K, NULL},
        {"--top-p", NULL, GT_CLI_OPT_FLOAT, &sp->top_p, 0, 0, NULL},
        {"--min-p", NULL, GT_CLI_OPT_FLOAT, &sp->min_p, 0, 0, NULL},
        {"--repeat-penalty", NULL, GT_CLI_OPT_FLOAT, &sp->repeat_penalty, 0, 0, NULL},
        {"--seed", NULL, GT_CLI_OPT_U64, &sp->seed, 0, UINT64_MAX, NULL},
        {"--threads", "-t", GT_CLI_OPT_U64, &threads, 1, GT_POOL_MAX_THREADS, NULL},
        {"--ctx", "-c", GT_CLI_OPT_U64, &n_ctx, 1, GT_CTX_MAX_POSITIONS, NULL},
        {"--json", NULL, GT_CLI_OPT_FLAG, &rs->json, 0, 0, NULL},
        {"--top-logits", NULL, GT_CLI_OPT_U64, &top_logits, 0, RUN_MAX_TOP_LOGITS, NULL},
        {NULL, NULL, 0, NULL, 0, 0, NULL}};
    int rc = gt_cli_parse("run", argc, argv, 1, opts, NULL, 0, NULL, usage);
    if (rc >= 0) return rc;
    o->gp.n_predict = (int)n_predict, sp->top_k = (int)top_k, o->threads = (long)threads, o->n_ctx = (long)n_ctx;
    rs->top_logits = (int)top_logits;
    if (prompt && o->prompt_file) return gt_cli_usage_error("run", "give the prompt once: -p TEXT or -f FILE");
    if (prompt && !strcmp(prompt, "-")) o->prompt_file = "-"; /* -p - reads stdin */
    else o->prompt = prompt;
    if (!o->model_path) return gt_cli_usage_error("run", "no model: give -m MODEL.gguf");
    if (!o->prompt && !o->prompt_file) return gt_cli_usage_error("run", "no prompt: give -p TEXT, -f FILE or -p - (stdin)");
    if (rs->top_logits && !rs->json) return gt_cli_usage_error("run", "--top-logits needs --json");
    struct stat st; /* a directory opens, then fails to read with no clear reason */
    if (o->prompt_file && strcmp(o->prompt_file, "-") && !stat(o->prompt_file, &st) && S_ISDIR(st.st_mode))
        return gt_cli_usage_error("run", "-f %s is a directory: expected a text file holding the prompt "
                                  "(or -f - to read it from stdin)", o->prompt_file);
    return -1;
}

/* Tokenizes prompt (BOS as the vocabulary asks) into *ids (gt_free), checking
 * the limits; *n gets the count. */
static int tokenize_prompt(const gt_tokenizer *tok, const char *prompt, int32_t **ids, size_t *n, gt_err *err) {
    size_t len = strlen(prompt);
    if (len > GT_TOKENIZER_MAX_TEXT_BYTES)
        return gt_err_set(err, GT_ELIMIT, "prompt of %zu bytes is over the limit of %u", len, GT_TOKENIZER_MAX_TEXT_BYTES);
    size_t cap = len + 8;
    *ids = gt_malloc(cap * sizeof **ids);
    if (!*ids) return gt_err_set(err, GT_ENOMEM, "out of memory");
    int rc = gt_tokenize(tok, prompt, len, 1, 1, *ids, cap, n, err);
    if (!rc && *n == 0) rc = gt_err_set(err, GT_EINVAL, "the prompt gives no tokens (this vocabulary adds no BOS)");
    return rc;
}

/* The --json object of a run: ids, text (and its exact bytes), timings. */
static json_t *run_json(const run_opts *o, const run_state *rs, const int32_t *ids, size_t n_ids,
                        const gt_gen_result *res, const gt_buf *text, double t_load, double pp, double tg) {
    json_t *j = json_object();
    json_object_set_new(j, "model", gt_json_text_lossy(o->model_path, strlen(o->model_path)));
    json_object_set_new(j, "prompt_tokens", ids_json(ids, (int)n_ids));
    json_object_set_new(j, "tokens", ids_json(res->tokens, res->n_tokens));
    /* A model may emit any bytes: readable text (U+FFFD for what is not
     * UTF-8) and the exact bytes in hex, so a validator compares bytes. */
    json_object_set_new(j, "text", gt_json_text_lossy(text->data, text->len));
    json_object_set_new(j, "text_hex", gt_cli_json_hex(text->data, text->len));
    json_object_set_new(j, "stopped_by_eog", json_boolean(res->stopped_by_eog));
    json_object_set_new(j, "seed", json_integer((json_int_t)o->gp.sampling.seed));
    json_object_set_new(j, "threads", json_integer(o->threads));
    json_object_set_new(j, "kernels", json_string(gt_kern_best()->name));
    json_object_set_new(j, "timings", json_pack("{s:f,s:f,s:f,s:f,s:f}", "load_ms", t_load, "prompt_ms", res->prompt_ms,
                                                "gen_ms", res->gen_ms, "prompt_tok_per_s", pp, "gen_tok_per_s", tg));
    if (rs->top_logits) json_object_set(j, "top_logits", rs->steps);
    return j;
}

/* Loads the model, generates after the prompt (streaming unless --json),
 * prints the result and the timings. Returns the exit code. */
static int run_generate(const run_opts *o, run_state *rs, const char *prompt) {
    gt_err err = {0};
    gt_model *m = NULL;
    gt_tokenizer *tok = NULL;
    gt_ctx *ctx = NULL;
    int32_t *ids = NULL;
    size_t n_ids = 0;
    gt_gen_result res = {0};
    gt_buf text = {0};
    int code = 1;
    double t_load = gt_gen_now_ms();
    if (gt_model_load(o->model_path, &m, &err) || gt_tokenizer_load(gt_model_gguf(m), &tok, &err)) goto fail;
    t_load = gt_gen_now_ms() - t_load;
    if (tokenize_prompt(tok, prompt, &ids, &n_ids, &err)) goto fail;
    gt_ctx_params cp = {.n_ctx = (int)o->n_ctx, .n_threads = (int)o->threads};
    if (gt_ctx_new(m, &cp, &ctx, &err)) goto fail;
    if ((long)n_ids + 1 > gt_ctx_n_ctx(ctx)) {
        gt_err_set(&err, GT_ELIMIT, "prompt of %zu tokens does not fit the context of %d (see --ctx)", n_ids,
                   gt_ctx_n_ctx(ctx));
        goto fail;
    }
    if (rs->json) rs->steps = json_array();
    if (gt_generate(ctx, tok, ids, (int)n_ids, &o->gp, on_token, rs, &res, &err)) goto fail;
    if (gt_detokenize(tok, res.tokens, (size_t)res.n_tokens, 0, 0, &text, &err)) goto fail;
    double pp = res.prompt_ms > 0 ? res.n_prompt / (res.prompt_ms / 1e3) : 0;
    double tg = res.gen_ms > 0 ? res.n_tokens / (res.gen_ms / 1e3) : 0;
    if (!rs->json) putchar('\n');
    else if (gt_cli_json_out(run_json(o, rs, ids, n_ids, &res, &text, t_load, pp, tg))) goto out; /* said on stderr */
    fprintf(stderr,
            "load: %.0f ms; prompt: %d tokens in %.1f ms (%.1f tok/s); generation: %d tokens in %.1f ms "
            "(%.1f tok/s); %ld threads, %s kernels\n",
            t_load, res.n_prompt, res.prompt_ms, pp, res.n_tokens, res.gen_ms, tg, o->threads, gt_kern_best()->name);
    code = 0;
    goto out;
fail:
    code = gt_cli_fail(&err);
out:
    json_decref(rs->steps);
    gt_buf_free(&text);
    gt_gen_result_free(&res);
    gt_free(ids);
    gt_ctx_free(ctx);
    gt_tokenizer_free(tok);
    gt_model_free(m);
    return code;
}

/* `gotong run`: options, the prompt (from -p, a file or stdin), generation. */
static int cmd_run(int argc, char **argv) {
    run_opts o;
    run_state rs = {0};
    int rc = parse_run_opts(argc, argv, &o, &rs);
    if (rc >= 0) return rc;
    gt_err err = {0};
    char *prompt_buf = NULL; /* a prompt read from a file or stdin */
    if (o.prompt_file && read_prompt(o.prompt_file, &prompt_buf, &err)) return gt_cli_fail(&err);
    rc = run_generate(&o, &rs, prompt_buf ? prompt_buf : o.prompt);
    gt_free(prompt_buf);
    return rc;
}

GT_CLI_COMMAND(cmd_run_def, "run", "generate text with a GGUF model (llama, qwen2, qwen3, gemma3, phi3)", cmd_run)
