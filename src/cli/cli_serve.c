/* cli_serve.c: `gotong serve -m MODEL.gguf`: an OpenAI-compatible HTTP API
 * for one model (src/serve) until SIGINT or SIGTERM. */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "api/route.h"
#include "base/log.h"
#include "cli/cli.h"
#include "serve/serve.h"

static const char usage_text[] =
    "usage: gotong serve -m MODEL.gguf [--listen HOST:PORT] [--threads N] [--ctx N] [--alias NAME] [--quiet]\n"
    "                    [--parallel N] [--no-prefix-cache] [--max-queue N] [--max-prompt-tokens N]\n"
    "                    [--max-output-tokens N] [--stream-lag-tokens N] [--stream-idle-ms MS]\n"
    "                    [--request-max-s S] [--allow-host NAMES]\n\n"
    "Serves one model over an OpenAI-compatible HTTP API:\n"
    "  GET  /health                 {\"status\":\"ok\",\"model\":NAME, queue:{running,waiting,max_waiting},\n"
    "                               requests:{rejected,cancelled,cancelled_tokens,lagging}}\n"
    "  GET  /v1/models              the model, named by --alias or the file name without .gguf\n"
    "  POST /v1/completions         {model, prompt, ...}\n"
    "  POST /v1/chat/completions    {model, messages, ...}\n"
    "  POST /v1/embeddings          {model, input, encoding_format}: mean of the final hidden states, unit length\n"
    "Both generation routes take max_tokens (chat also max_completion_tokens), stop (up to 4\n"
    "strings), temperature (0..2, default 1; 0 is greedy), top_p (default 1), top_k (default off),\n"
    "min_p (default off), seed (default 0), stream (server-sent events ending with data: [DONE]),\n"
    "stream_options.include_usage, and logprobs (chat: logprobs true + top_logprobs 0..20;\n"
    "completions: logprobs 0..5), the log-softmax of the raw logits, before sampling.\n"
    "Completions also score a prompt: \"echo\": true with \"max_tokens\": 0 and logprobs gives every\n"
    "prompt token's log-probability (exact doubles), as lm-evaluation-harness asks.\n"
    "Errors are OpenAI's {\"error\":{message,type,param,code}}.\n\n"
    "Chat template: --chat-template FILE, else the model's own (GGUF tokenizer.chat_template, Jinja);\n"
    "a model without one gets a built-in template chosen by the vocabulary (said at startup):\n"
    "  byte-level BPE (gpt2, qwen2):  ChatML  <|im_start|>ROLE\\nTEXT<|im_end|>\\n ... <|im_start|>assistant\\n\n"
    "  SentencePiece (llama):         Llama 2  <s>[INST] <<SYS>>\\nSYSTEM\\n<</SYS>>\\n\\nUSER [/INST] REPLY </s>...\n"
    "Message texts never parse as control tokens; a template that cannot be rendered is refused at startup.\n\n"
    "Up to --parallel requests generate at once in one continuous batch (they join and leave it\n"
    "between decode steps; shared prompt prefixes reuse cached keys and values). The bytes of an\n"
    "answer depend only on the model, the request and its seed: never on --threads, on the other\n"
    "requests in the batch, or on prefix-cache hits.\n\n"
    "options:\n"
    "  -m, --model FILE     the GGUF model (an architecture and weight types below)\n"
    "  --listen HOST:PORT   address to listen on (default 127.0.0.1:8080; port 0: any free port)\n"
    "  --threads N          evaluation threads (default 1)\n"
    "  --ctx N              context positions (default: the model's, at most 2048)\n"
    "  --alias NAME         the model's name in the API\n"
    "  --quiet              no access log\n"
    "  --chat-template FILE a Jinja chat template to use instead of the model's\n"
    "  --parallel N         requests generating at once, in one continuous batch (default 4, at most 64);\n"
    "                       each has its own KV cache of --ctx positions, reused as a prefix cache\n"
    "  --no-prefix-cache    evaluate every prompt whole (for comparisons)\n"
    "  --max-queue N        requests waiting for a slot before 429 + Retry-After (default 16)\n"
    "  --max-prompt-tokens N   prompt tokens per request / embedding input (default: the context)\n"
    "  --max-output-tokens N   generated tokens per request; also the default max_tokens (default: the context)\n"
    "  --stream-lag-tokens N   a stream whose client has not taken N generated tokens is held (generates\n"
    "                       nothing more) until the client reads (default 256)\n"
    "  --stream-idle-ms MS  a held stream whose client has read nothing for MS is cancelled and its slot\n"
    "                       freed (default 10000)\n"
    "  --request-max-s S    a request not all in S seconds after its first byte, or a kept-alive\n"
    "                       connection idle as long, is cut (default 60); at most 128 connections,\n"
    "                       64 from one address (the others are told 429 and closed)\n"
    "  --allow-host NAMES   Host names to answer to beside IP addresses and localhost, comma-separated\n"
    "                       (\"*\": any); another is refused 403, so that a page whose name points here\n"
    "                       (DNS rebinding) cannot use it\n"
    "Stops on SIGINT or SIGTERM. Prints \"listening on http://HOST:PORT\" once ready.\n";

/* The usage, then what the engine runs. */
static void usage_serve(FILE *f) {
    fputs(usage_text, f);
    fputc('\n', f);
    gt_cli_engine_help(f);
}

/* `gotong serve`: parses options, starts the server, waits for a signal in
 * this thread (blocked in all others), stops. */
static int cmd_serve(int argc, char **argv) {
    gt_serve_config cfg = gt_serve_defaults();
    uint64_t threads = (uint64_t)cfg.n_threads, n_ctx = (uint64_t)cfg.n_ctx, queue = (uint64_t)cfg.max_queue;
    uint64_t parallel = GT_SERVE_DEFAULT_PARALLEL;
    int no_cache = 0;
    uint64_t max_prompt = 0, max_output = 0, lag = GT_SERVE_DEFAULT_STREAM_LAG;
    uint64_t idle_ms = GT_SERVE_DEFAULT_STREAM_IDLE_MS, request_max_s = GT_SERVE_REQUEST_MAX_S;
    int quiet = 0;
    const gt_cli_opt opts[] = {
        {"--model", "-m", GT_CLI_OPT_STR, &cfg.model_path, 0, 0, NULL},
        {"--listen", NULL, GT_CLI_OPT_STR, &cfg.listen, 0, 0, NULL},
        {"--threads", NULL, GT_CLI_OPT_U64, &threads, 1, 1024, NULL},
        {"--ctx", NULL, GT_CLI_OPT_U64, &n_ctx, 2, 1 << 20, NULL},
        {"--alias", NULL, GT_CLI_OPT_STR, &cfg.model_id, 0, 0, NULL},
        {"--quiet", NULL, GT_CLI_OPT_FLAG, &quiet, 0, 0, NULL},
        {"--chat-template", NULL, GT_CLI_OPT_STR, &cfg.chat_template_file, 0, 0, NULL},
        {"--max-queue", NULL, GT_CLI_OPT_U64, &queue, 1, GT_SERVE_MAX_QUEUE, NULL},
        {"--no-prefix-cache", NULL, GT_CLI_OPT_FLAG, &no_cache, 0, 0, NULL},
        {"--parallel", NULL, GT_CLI_OPT_U64, &parallel, 1, GT_SERVE_MAX_PARALLEL, NULL},
        {"--max-prompt-tokens", NULL, GT_CLI_OPT_U64, &max_prompt, 1, 1 << 20, NULL},
        {"--max-output-tokens", NULL, GT_CLI_OPT_U64, &max_output, 1, 1 << 20, NULL},
        {"--stream-lag-tokens", NULL, GT_CLI_OPT_U64, &lag, 1, GT_SERVE_MAX_STREAM_LAG, NULL},
        {"--stream-idle-ms", NULL, GT_CLI_OPT_U64, &idle_ms, 1, GT_SERVE_MAX_STREAM_IDLE_MS, NULL},
        {"--request-max-s", NULL, GT_CLI_OPT_U64, &request_max_s, 1, GT_SERVE_MAX_REQUEST_MAX_S, NULL},
        {"--allow-host", NULL, GT_CLI_OPT_STR, &cfg.allow_hosts, 0, 0, NULL},
        {NULL, NULL, 0, NULL, 0, 0, NULL}};
    int rc = gt_cli_parse("serve", argc, argv, 1, opts, NULL, 0, NULL, usage_serve);
    if (rc >= 0) return rc;
    cfg.n_threads = (int)threads, cfg.n_ctx = (int)n_ctx, cfg.access_log = !quiet, cfg.max_queue = (int)queue;
    cfg.n_parallel = (int)parallel, cfg.no_prefix_cache = no_cache;
    cfg.max_prompt_tokens = (int)max_prompt, cfg.max_output_tokens = (int)max_output;
    cfg.stream_lag_tokens = (int)lag, cfg.stream_idle_ms = (int)idle_ms, cfg.request_max_s = (int)request_max_s;
    if (!cfg.model_path) return gt_cli_usage_error("serve", "no model: give -m MODEL.gguf");
    gt_cli_block_stop_signals();
    gt_err err = {0};
    gt_serve *s = NULL;
    if (gt_serve_start(&cfg, &s, &err)) return gt_cli_fail(&err);
    char extra[300];
    snprintf(extra, sizeof extra, " (model \"%s\")", gt_serve_model_id(s));
    fprintf(stderr, "chat template: %s\n", gt_serve_template_desc(s));
    gt_cli_serve_until_signal("serve", cfg.listen, gt_serve_port(s), extra);
    gt_serve_stop(s);
    return 0;
}

GT_CLI_COMMAND(serve_cmd, "serve", "serve a model over an OpenAI-compatible HTTP API", cmd_serve)
