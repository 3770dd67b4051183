/* serve_impl.h: what the serve layer's files share: the parsed request, the
 * built-in chat templates, the generation job and OpenAI error bodies. */
#ifndef GT_SERVE_IMPL_H
#define GT_SERVE_IMPL_H

#include <jansson.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/err.h"
#include "infer/model.h"
#include "infer/sampler.h"
#include "infer/tokenizer.h"
#include "serve/gmask.h"
#include "serve/grammar.h"
#include "serve/serve.h"

/* Limits on requests from outside. */
#define GT_SERVE_MAX_BODY_BYTES (1024 * 1024) /* a request body */
#define GT_SERVE_MAX_MESSAGES 256             /* chat messages in one request */
#define GT_SERVE_MAX_STOPS 4                  /* stop strings (OpenAI's limit) */
#define GT_SERVE_MAX_STOP_BYTES 256           /* bytes of one stop string */
#define GT_SERVE_MAX_TOKENS 32768             /* max_tokens accepted */
#define GT_SERVE_MAX_MODEL_ID 256             /* bytes of "model" */
#define GT_SERVE_MAX_TOP_LOGPROBS 20          /* top_logprobs (OpenAI's limit; completions: 5) */
#define GT_SERVE_MAX_PROMPT_IDS 65536         /* token ids of a prompt given as ids */
#define GT_SERVE_MAX_EMBED_INPUTS 256        /* inputs of one /v1/embeddings request */
#define GT_SERVE_MAX_EMBED_TOKENS 65536      /* tokens of all its inputs together */
#define GT_SERVE_MAX_CONNECTIONS 128
/* Connections from one client address (an over-limit one is told 429 and
 * closed; api/conns.h): half of all, so one address cannot hold every slot,
 * and as many as the whole server took before the limit existed, so a local
 * client running 32 or 64 requests at once (a batch, a benchmark) is not
 * refused (at 32, a 32-request batch whose previous connections were still
 * being closed was told 429). */
#define GT_SERVE_MAX_CONNECTIONS_PER_IP 64
#define GT_SERVE_TIMEOUT_S 300                /* an idle connection is closed after this */
#define GT_SERVE_RETRY_AFTER_S 1              /* Retry-After of a 429 */

/* What kind of request. */
typedef enum { GT_SERVE_COMPLETION = 0, GT_SERVE_CHAT = 1 } gt_serve_kind;

/* A validated request. Strings point into the request's JSON (kept alive by
 * the job). */
typedef struct gt_serve_params {
    gt_serve_kind kind;
    const char *model;
    const char *prompt;            /* completions */
    size_t prompt_len;
    const json_t *prompt_ids;      /* completions: the prompt as token ids (then prompt is NULL) */
    int return_tokens;             /* extension (llama-server's name): the generated ids as "tokens" */
    int echo;                      /* completions: score the prompt (max_tokens 0), generate nothing */
    const json_t *messages;        /* chat: checked array of {role, content} */
    int max_tokens;                /* 0: as many as the context holds */
    int stream, include_usage;
    int logprobs;                  /* 1: return the chosen tokens' log-probabilities */
    int top_logprobs;              /* and this many alternatives at each step */
    gt_sampler_params sampling;
    int n_stops;
    const char *stops[GT_SERVE_MAX_STOPS];
    size_t stop_lens[GT_SERVE_MAX_STOPS];
    const json_t *response_format; /* chat: checked by gt_grammar_compile, not here */
    const gt_grammar *grammar;     /* compiled from it (NULL: free text); owned by the request */
    const gt_gvocab *gvocab;       /* with a grammar: the server's index of the vocabulary (gt_serve_gvocab) */
    const json_t *tools;           /* chat: checked tools (NULL: none, or tool_choice "none") */
    int tool_forced;               /* tool_choice "required" or a named function */
    const char *tool_name;         /* the named function, or NULL */
} gt_serve_params;

/* An OpenAI error: HTTP status, type, the parameter it is about (or NULL)
 * and a code (or NULL), with a message. */
typedef struct gt_serve_error {
    int status;
    const char *type, *param, *code;
    char message[GT_ERR_MSG_MAX];
} gt_serve_error;

int gt_serve_fail(gt_serve_error *e, int status, const char *param, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
/* {"error":{...}} as a new reference (NULL only out of memory). */
json_t *gt_serve_error_json(const gt_serve_error *e);

/* Checks body (a parsed JSON object) as a request of kind, filling p. */
int gt_serve_parse(const json_t *body, gt_serve_kind kind, gt_serve_params *p, gt_serve_error *e);

/* The built-in chat template for tok: "chatml" for byte-level BPE (gpt2)
 * vocabularies, "llama2" for SentencePiece. */
const char *gt_serve_template_name(const gt_tokenizer *tok);
/* Renders messages (checked by gt_serve_parse) into prompt tokens with the
 * built-in template, ending with the opening of the assistant's turn.
 * Message texts are tokenized without special-token parsing, so no message
 * can forge a turn marker. *extra_stop gets a text stop when the template's
 * end-of-turn is not a single token of the vocabulary (else NULL). */
int gt_serve_chat_tokens(const gt_tokenizer *tok, const json_t *messages, gt_buf *ids,
                         const char **extra_stop, gt_err *err);

/* With a chat template (the model's, or --chat-template FILE; chat_tmpl.c):
 * renders messages with it into prompt ids, message texts kept out of the
 * control-token partition so none can forge a turn marker; without one, the
 * built-in template above. */
int gt_serve_chat_prompt(const gt_serve *s, const json_t *messages, gt_buf *ids, const char **extra_stop,
                         gt_err *err);
/* The same with tools (NULL: none) presented to the model. */
int gt_serve_chat_prompt_tools(const gt_serve *s, const json_t *messages, const json_t *tools, gt_buf *ids,
                               const char **extra_stop, gt_err *err);
int gt_serve_chat_tokens_tools(const gt_tokenizer *tok, const json_t *messages, const json_t *tools, gt_buf *ids,
                               const char **extra_stop, gt_err *err);
/* For a request: the prompt (with the server's template, or the built-in
 * one) of at most max_tokens tokens. One with more fails with GT_ELIMIT and
 * *n_over set to a count over max_tokens that it has at least, without
 * tokenizing it whole (infer/chat_prompt.h, gt_tokenize_max); *n_over is 0
 * otherwise. */
int gt_serve_chat_prompt_max(const gt_serve *s, const json_t *messages, const json_t *tools, size_t max_tokens,
                             gt_buf *ids, size_t *n_over, const char **extra_stop, gt_err *err);
int gt_serve_chat_tokens_max(const gt_tokenizer *tok, const json_t *messages, const json_t *tools, size_t max_tokens,
                             gt_buf *ids, size_t *n_over, const char **extra_stop, gt_err *err);

/* Tool calls (tools.c). Checks tools, tool_choice and parallel_tool_calls
 * of body into p. */
int gt_serve_tools_parse(const json_t *body, gt_serve_params *p, gt_serve_error *e);
/* Checks messages[i].tool_calls. */
int gt_serve_tool_calls_check(const json_t *calls, size_t i, gt_serve_error *e);
/* The grammar of a forced call ({"name","arguments"} JSON). */
int gt_serve_tools_grammar(const gt_serve_params *p, gt_grammar **out, gt_serve_error *e);
/* The tool calls written in an answer's text (a new array), or NULL when
 * none; *content_len gets the length of the text left as content. */
json_t *gt_serve_tool_calls(const gt_serve_params *p, const char *text, size_t len, size_t *content_len);
/* The built-in ChatML's texts: the tools section of the system turn, an
 * assistant's calls. */
int gt_serve_tools_system(const json_t *tools, gt_buf *out);
int gt_serve_tools_calls_text(const json_t *calls, gt_buf *out);

/* Reads and parses the template at startup (and renders a probe
 * conversation), or notes that the built-in one is used. */
int gt_serve_template_load(gt_serve *s, gt_err *err);

/* One generated token's log-probability (log-softmax of the model's raw
 * logits, before any sampling transform) and its most likely alternatives. */
typedef struct gt_serve_logprob {
    int32_t token;
    size_t start;                /* offset of its text in the job's text */
    float logprob;
    int n_top;
    int32_t top_ids[GT_SERVE_MAX_TOP_LOGPROBS];
    float top_lps[GT_SERVE_MAX_TOP_LOGPROBS];
} gt_serve_logprob;

/* The k (<= n) best-ranked ids of l[0..n) into out, best first (a higher
 * logit; ties to the lower id), in one pass; returns how many. */
int gt_serve_top_k(const float *l, int n, int k, int32_t *out);

/* A request's client socket, looked at for a hang-up while its answer is
 * made (gt_serve_client_gone). */
typedef struct gt_serve_peer {
    int fd;                       /* -1: none (work done in-process) */
    int probe;                    /* 1: one interim 100 (Continue) may still go to it: HTTP/1.1, no answer begun */
    int eof_gone;                 /* 1: an EOF is a hang-up: HTTP/1.0 (no 1xx to ask with), no answer begun */
} gt_serve_peer;

/* A legacy completion's token as a string (its `tokens` entry, its key in
 * `top_logprobs`): its text when that is valid UTF-8 with no NUL, else
 * "bytes:\\xNN..." (OpenAI's form for a piece cut inside a character), so
 * pieces that differ never read alike. New reference; NULL out of memory. */
json_t *gt_serve_token_key(const gt_tokenizer *tok, int32_t id);
/* A legacy completion's top_logprobs object of ids[0..k) (best first) with
 * log-probabilities lps: keyed by gt_serve_token_key, and a token whose key
 * an earlier one took (the same bytes: a byte-fallback token and a text
 * token) keyed "KEY (token ID)", so no entry is lost. NULL out of memory. */
json_t *gt_serve_legacy_top(const gt_tokenizer *tok, const int32_t *ids, const double *lps, int k);

/* Scores an echoed prompt (score.c): every token's log-probability after
 * the tokens before it, by work/llm.h's formula (gt_llm_row_norm), holding
 * the model (429 in e when it is busy and the queue is full). *logprobs
 * gets a completion's {"tokens","token_logprobs","top_logprobs",
 * "text_offset"} (the first token's entries null), with top alternatives
 * at each position; *text the prompt's text. Stopped between passes, with
 * a 499 in e, once the client on peer has gone (gt_serve_held_gone; NULL:
 * never). */
int gt_serve_score(gt_serve *s, gt_serve_peer *peer, const int32_t *ids, int n, int top, json_t **logprobs,
                   json_t **text, gt_serve_error *e);

/* A generation in progress, stepped one token at a time: alone on a context
 * (gt_serve_job_start: each step evaluates its token), or in the batcher's
 * running batch (gt_serve_job_init: ctx NULL; the batcher evaluates the
 * prompt and each sampled token, then steps the job). */
typedef struct gt_serve_job {
    gt_ctx *ctx;                 /* alone: borrowed, the caller holds the model lock; batched: NULL */
    const int32_t *prompt;       /* borrowed from the request */
    /* Batched: the batcher's view, guarded by the server's mutex. */
    int seq;                     /* the slot (sequence of the batch context) it runs in */
    int n_fed;                   /* prompt tokens whose keys/values the slot holds */
    int n_reused;                /* of those, reused from the prefix cache */
    int32_t next_tok;            /* sampled, waiting to be evaluated at pos */
    int need_eval;
    int active;                  /* queued or in a slot: the batcher may touch it */
    int cancel;                  /* its client left: the batcher drops it */
    int stream;                  /* streamed: back-pressure applies (n_taken) */
    int n_taken;                 /* streamed: tokens whose text the stream has taken */
    uint64_t taken_ms;           /* streamed: when it last took some (or started), gt_serve_now_ms */
    uint64_t held_ms;            /* streamed: when the batcher first saw it held since then (0: not yet) */
    int failed;                  /* evaluation failed (err says why); done is set too */
    int evicted;                 /* refused while it waited (its address held most of a full queue): 429 */
    int lagged;                  /* failed: cancelled for lag (its client stopped reading), not the server's fault */
    gt_err err;
    struct gt_serve_job *next_pending; /* the queue of jobs waiting for a slot */
    uint32_t client_ip;          /* its client's IPv4 address (network order; 0: unknown), for fair admission */
    const gt_tokenizer *tok;
    gt_sampler *smp;
    float *logits;
    float *raw;                  /* with a grammar and logprobs: the logits before the mask (logprobs read them) */
    int n_vocab;
    int n_prompt, n_gen, max_gen, pos;
    int done;
    const char *finish_reason;   /* "stop" or "length" once done */
    gt_buf text;                 /* every generated byte (cut at a stop) */
    size_t emitted;              /* bytes of text handed out */
    gt_buf marks;                /* size_t per step that made text ready: where a stream's chunk ends */
    size_t marks_sent;
    int logprobs, top_logprobs;  /* from the request */
    gt_buf lps;                  /* gt_serve_logprob per generated token */
    /* Batched with logprobs: the last token's entry of lps is computed off
     * the batcher's thread (batch.c), from logits, which stay as they are
     * meanwhile: lp_want set by a step, then lp_state 1 (queued for the
     * logprob thread) or 2 (being computed); 0 when none waits. The job
     * takes no step while one does, and its text is not handed out. */
    int lp_want, lp_state;
    int32_t lp_token;
    size_t lp_start;
    struct gt_serve_job *next_lp; /* the logprob thread's queue */
    gt_buf toks;                 /* int32_t per generated token (after a stop string too) */
    int n_stops;
    const char *stops[GT_SERVE_MAX_STOPS + 1];
    size_t stop_lens[GT_SERVE_MAX_STOPS + 1];
    const gt_grammar *grammar;   /* structured output, or NULL */
    gt_gmatch *match;            /* the grammar's readings of text so far */
    const gt_gvocab *gvocab;     /* the vocabulary's index (the server's) */
    gt_gmask *gmask;             /* scratch of the masks */
} gt_serve_job;

/* Prepares sampling for a batched job (no evaluation). Prompt must fit
 * ctx's context with room for one token; it is borrowed until the job is
 * freed. */
int gt_serve_job_init(gt_serve_job *j, const gt_ctx *ctx, const gt_tokenizer *tok, const int32_t *prompt,
                      int n_prompt, const gt_serve_params *p, const char *extra_stop, gt_err *err);
/* Alone on ctx (sequence 0): evaluates the prompt and prepares sampling.
 * Prompt must fit the context with room for one token (checked by the
 * caller: GT_ELIMIT otherwise). */
int gt_serve_job_start(gt_serve_job *j, gt_ctx *ctx, const gt_tokenizer *tok, const int32_t *prompt,
                       int n_prompt, const gt_serve_params *p, const char *extra_stop, gt_err *err);
/* Samples one token from the job's logits (or finishes); alone, evaluates
 * it; batched, leaves it in next_tok with need_eval set. */
int gt_serve_job_step(gt_serve_job *j, gt_err *err);
/* The text ready to hand out since the last call: whole UTF-8 characters
 * that cannot be the start of a stop string (everything once done). Sets
 * *len; the pointer is valid until the next step. */
const char *gt_serve_job_ready(gt_serve_job *j, size_t *len);
/* A stream's next chunk: the text made ready by one step (as
 * gt_serve_job_ready would have handed out right after it), or NULL when
 * none is left. */
const char *gt_serve_job_chunk(gt_serve_job *j, size_t *len);
void gt_serve_job_free(gt_serve_job *j);

/* Token t's entry (sampled from j's logits, its text at start): its
 * log-probability and the job's top_logprobs alternatives. Reads only the
 * logits and the request's fields, so it may run off the batcher's thread
 * while the job waits (lp_state). */
void gt_serve_job_logprob(const gt_serve_job *j, int32_t t, size_t start, gt_serve_logprob *out);


/* ---- The server and one request (serve.c, routes.c). */
#include <microhttpd.h>
#include <stdatomic.h>

#include "api/conns.h"
#include "api/ext.h"
#include "api/route.h"
#include "infer/chat_prompt.h"
#include "infer/chat_template.h"

/* One sequence of the batch context: the job running in it, and the tokens
 * whose keys and values it holds (the prefix cache). */
typedef struct gt_serve_slot {
    gt_serve_job *job;            /* NULL: free */
    int32_t *hist;                /* n_ctx capacity */
    int n_hist;
    uint64_t last_used;           /* slot_clock when its last job left */
} gt_serve_slot;

struct gt_serve {
    gt_serve_config cfg;
    char model_id[GT_SERVE_MAX_MODEL_ID + 1];
    char model_sha256[72];        /* "sha256:<hex>" of the GGUF file (/v1/models) */
    char listen[64];
    gt_model *model;
    gt_tokenizer *tok;
    pthread_mutex_t lazy_mu;      /* guards what is made on first use: */
    gt_ctx *ctx;                  /* one sequence: embeddings (and tests), under busy (gt_serve_ctx) */
    gt_gvocab *gvocab;            /* the vocabulary's index for grammar masks */
    gt_chat_tmpl *tmpl;           /* the chat template; NULL: the built-in one */
    gt_chat_prompt *prompt;       /* renders tmpl into ids; NULL with the built-in one */
    char template_desc[256];      /* which template, for the startup log */
    uint64_t created;             /* unix seconds when loaded (for /v1/models) */
    pthread_mutex_t mu;           /* guards busy, waiting and the counters */
    pthread_cond_t cv;
    int busy;                     /* 1 while a request owns ctx (no job is admitted meanwhile) */
    /* Continuous batching (batch.c), under mu. */
    gt_ctx *bctx;                 /* one sequence per slot */
    int n_slots, n_running, n_pending;
    gt_serve_slot *slots;
    gt_serve_job *pending_head, *pending_tail;
    /* Fair admission (batch.c): when each client address last got a slot,
     * by admit_seq; the least recent entry gives way to a new address. */
    struct { uint32_t ip; uint64_t seq; } admitted[GT_SERVE_MAX_CONNECTIONS];
    uint64_t admit_seq;
    gt_ctx_item *items;           /* the batch being evaluated */
    gt_serve_job **item_job;      /* whose each item is */
    float *blogits;               /* logits of the items that ask */
    pthread_cond_t bcv;           /* wakes the batcher */
    pthread_cond_t pcv;           /* jobs progressed */
    /* The logprob thread (batch.c): jobs whose last token's logprobs wait. */
    gt_serve_job *lp_head, *lp_tail;
    pthread_cond_t lcv;           /* wakes it */
    pthread_t lp_thread;
    int lp_started;
    uint64_t n_lp_rows;           /* logprob entries it computed (/health batch.logprob_rows) */
    int batcher_started, stopping;
    pthread_t batcher;
    uint64_t slot_clock;
    uint64_t prefix_hits, prefix_tokens; /* jobs that reused a cached prefix, and its tokens */
    uint64_t n_steps, n_step_tokens;     /* forward passes, and the tokens they took */
    int waiting;                  /* requests blocked in gt_serve_enter */
    uint64_t n_rejected;          /* answered 429: the queue was full */
    uint64_t n_cancelled;         /* stopped because the client went away */
    uint64_t cancelled_tokens;    /* tokens those had generated when stopped */
    uint64_t n_lagging;           /* of those, streams cancelled because their client stopped reading */
    struct MHD_Daemon *mhd;
    gt_conns conns;               /* its connections' limits and reaper (api/conns.h), on its own port */
    uint16_t port;
    _Atomic uint64_t next_id;
    _Atomic int in_flight;        /* requests and streams not yet freed */
    gt_api_ext ext;               /* on a node's port (gt_serve_ext) */
};

typedef struct gt_serve_req {
    gt_serve *srv;
    int route;                    /* index into the route table, or -1 */
    uint64_t id;
    gt_buf body;
    int too_big, responded, status;
    size_t discarded;             /* bytes of a chunked body past its limit, read and dropped (serve.c) */
    gt_serve_error early;         /* an error known from the headers alone */
    int has_early;
    gt_route_match m;             /* captures, and Allow for a 405 */
    gt_serve_peer peer;           /* the client's socket (to see it hang up) */
    int on_node;                  /* on a node's port: answers go through gt_api_ext_respond */
    struct MHD_Connection *conn;  /* its connection (a paid stream settles on it at its end: gt_api_ext_settle) */
} gt_serve_req;

/* A handler's answer: a JSON body with a status, or a ready response. */
typedef struct gt_serve_resp {
    int status;
    json_t *json;                 /* owned */
    struct MHD_Response *raw;     /* a stream */
    int close;                    /* close the connection after it */
    int stream;                   /* raw is a stream: on a node, paid by how it ends (api/x402.h) */
} gt_serve_resp;

void gt_serve_resp_error(gt_serve_resp *o, const gt_serve_error *e);
/* The one-sequence context of embeddings, made on first use (a server that
 * never embeds holds no second KV cache); NULL with err set when it cannot
 * be made. The caller holds the model (gt_serve_acquire/enter). */
gt_ctx *gt_serve_ctx(gt_serve *s, gt_err *err);
/* The vocabulary's index for grammar masks, made on the first structured
 * request (and kept until the server stops). */
int gt_serve_gvocab(gt_serve *s, const gt_gvocab **out, gt_err *err);
/* Takes and releases the one evaluation context (blocks until free). */
void gt_serve_acquire(gt_serve *s);
void gt_serve_release(gt_serve *s);
/* gt_serve_acquire for a request: when the model is busy and max_queue
 * requests already wait, fails with a 429 in e instead of waiting. */
int gt_serve_enter(gt_serve *s, gt_serve_error *e);
/* Continuous batching (batch.c). Starts the batch context and its thread. */
int gt_serve_batch_start(gt_serve *s, gt_err *err);
void gt_serve_batch_stop(gt_serve *s);
/* Jobs queued beyond the free slots (those that really wait); under mu. */
int gt_serve_queued(const gt_serve *s);
/* Hands j (gt_serve_job_init) to the batcher; fails with a 429 in e when
 * the slots are taken and max_queue jobs already wait. */
int gt_serve_submit(gt_serve *s, gt_serve_job *j, gt_serve_error *e);
/* Waits until j generated more than *n_gen_seen tokens (updating it) or is
 * done: returns 0, or 2 once done; 1 (without waiting further) when the
 * client on peer went away, which it looks for at every call and wake-up. */
int gt_serve_wait(gt_serve *s, gt_serve_job *j, int *n_gen_seen, gt_serve_peer *peer);
/* Takes j back from the batcher (dropping it if running); after this the
 * batcher no longer touches it. Returns 1 when that stopped an unfinished
 * job, then counted cancelled in /health with the tokens it had made. */
int gt_serve_withdraw(gt_serve *s, gt_serve_job *j);
/* A held stream (batch.c): its client has left stream_lag_tokens generated
 * tokens untaken, so it generates nothing until it takes some. Under mu. */
int gt_serve_held(const gt_serve *s, const gt_serve_job *j);
/* Streams held now (for /health). Under mu. */
int gt_serve_n_held(const gt_serve *s);
/* Monotonic milliseconds: the stream idle rule only (no request's bytes
 * depend on a clock). */
uint64_t gt_serve_now_ms(void);
/* 1 when the client on peer has gone: its connection reset, or shut both
 * ways; never blocks. An EOF alone is no hang-up: a client may shut its
 * write side once its request is sent and still read the answer. To tell
 * it from a closed socket (which answers data with a reset, seen at a later
 * look) an HTTP/1.1 client yet to be answered is sent one interim 100
 * (Continue) when its EOF is first seen. An HTTP/1.0 client cannot be sent
 * one (RFC 9110 15.2), so its EOF before its answer begins is taken for a
 * hang-up (eof_gone): without that, one that closed went on generating to
 * max_tokens; one that only half-closes is cut. NULL, or fd -1: never gone. */
int gt_serve_client_gone(gt_serve_peer *peer);
/* Logs a generation stopped after n_gen tokens because its client left. */
void gt_serve_note_cancel(const char *id, int n_gen);
/* For work done holding the model (embeddings, prompt scoring), looked at
 * between its passes: 1 when the client on peer has gone, then counted
 * cancelled in /health and logged as what (the caller stops and lets the
 * model go, as a generation's slot is freed). */
int gt_serve_held_gone(gt_serve *s, gt_serve_peer *peer, const char *what);

/* Route handlers (routes.c). */
void gt_serve_h_health(gt_serve *s, gt_serve_req *r, gt_serve_resp *o);
/* /health's body (a new reference; NULL out of memory). */
json_t *gt_serve_health_json(gt_serve *s);
void gt_serve_h_models(gt_serve *s, gt_serve_req *r, gt_serve_resp *o);
void gt_serve_h_model(gt_serve *s, gt_serve_req *r, gt_serve_resp *o);
void gt_serve_h_completions(gt_serve *s, gt_serve_req *r, gt_serve_resp *o);
void gt_serve_h_chat(gt_serve *s, gt_serve_req *r, gt_serve_resp *o);
void gt_serve_h_embeddings(gt_serve *s, gt_serve_req *r, gt_serve_resp *o); /* embed.c */

#endif
