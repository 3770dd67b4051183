/* serve.h: an OpenAI-compatible HTTP server for one model (`gotong serve`).
 *
 *   gt_serve_config c = gt_serve_defaults();
 *   c.model_path = "m.gguf";
 *   gt_serve *s;
 *   if (gt_serve_start(&c, &s, &err)) ...;   // listening once it returns
 *   ... gt_serve_port(s) ...
 *   gt_serve_stop(s);
 *
 * Routes: GET /health, GET /v1/models, POST /v1/completions, POST
 * /v1/chat/completions (JSON or, with "stream": true, server-sent events
 * ending with "data: [DONE]"), with logprobs/top_logprobs, POST /v1/embeddings
 * (mean-pooled final hidden states, unit length). Errors are OpenAI's body
 * {"error":{"message","type","param","code"}}. For agents that rent
 * inference (agent/oai.h): a completion's prompt may be token ids (OpenAI's
 * array of integers, taken as is), "return_tokens": true (llama-server's
 * extension) adds the generated ids as the choice's "tokens", and each
 * /v1/models entry carries "sha256", the GGUF file's id, so a client checks
 * it gets the weights its work names.
 *
 * Continuous batching: up to n_parallel requests generate at once, each in
 * its own slot of one batch context; requests join and leave the running
 * batch between decode steps, and a prompt that shares a prefix with a slot's
 * cached tokens reuses their keys and values. At most max_queue wait for a
 * slot; one more is answered 429 with Retry-After. A client that hangs up stops its
 * generation (counted in /health's "requests.cancelled"), and so does a
 * streaming client that stops reading: once it has left stream_lag_tokens
 * generated tokens untaken (its socket's buffers full), its request is
 * held: it generates nothing more (its slot idle; /health "queue.held")
 * until the client takes some, so a slow reader is slowed down, never cut
 * off. A held stream whose client has taken nothing for stream_idle_ms is
 * cancelled and its slot freed ("requests.lagging"); a late read gets an
 * error event naming why. So a stream's buffered output is bounded by that
 * many tokens, and a client that never reads holds a slot that long at
 * most. The bytes a request gets (choices, usage, the
 * streamed text) depend only on the model, the request and its seed (0 when
 * absent), never on --threads, on the other requests in the batch, or on
 * prefix-cache hits. */
#ifndef GT_SERVE_SERVE_H
#define GT_SERVE_SERVE_H

#include <stdint.h>

#include "base/err.h"

typedef struct gt_serve_config {
    const char *model_path; /* GGUF file */
    const char *listen;     /* "127.0.0.1:8080"; port 0 picks a free one */
    int n_threads;          /* evaluation threads, >= 1 */
    int n_ctx;              /* context positions; 0: min(trained, 2048) */
    const char *model_id;   /* the name clients ask for; NULL: file name without .gguf */
    int access_log;         /* 1: one log line per request */
    int max_queue;          /* requests waiting for the model before 429; 0: GT_SERVE_DEFAULT_QUEUE */
    int max_prompt_tokens;  /* per request (and per embedding input); 0: only the context bounds it */
    int max_output_tokens;  /* per request; 0: only the context bounds it */
    const char *chat_template_file; /* a Jinja chat template to use instead of the model's; NULL: the model's */
    int n_parallel;         /* requests generating at once (slots of the batch); 0: GT_SERVE_DEFAULT_PARALLEL */
    int no_prefix_cache;    /* 1: every prompt is evaluated whole (for comparisons) */
    /* Back-pressure for streams (batch.c): a stream whose client has not
     * taken this many generated tokens is held (generates nothing more)
     * until it takes some; 0: GT_SERVE_DEFAULT_STREAM_LAG. */
    int stream_lag_tokens;
    /* A held stream whose client has taken nothing for this long is
     * cancelled and its slot freed; 0: GT_SERVE_DEFAULT_STREAM_IDLE_MS. */
    int stream_idle_ms;
    /* The kernel's send buffer of a stream's socket, bytes (what a client
     * that stops reading can leave queued there); 0: GT_SERVE_STREAM_SNDBUF. */
    int stream_sndbuf_bytes;
    /* A request not all in this long after its first byte (or a kept-alive
     * connection idle as long) is cut; 0: GT_SERVE_REQUEST_MAX_S. */
    int request_max_s;
    /* Host names answered to beside IP addresses and localhost (api/ext.h's
     * gt_api_host_check: comma-separated, "*" any); NULL: none. Borrowed. */
    const char *allow_hosts;
} gt_serve_config;

#define GT_SERVE_DEFAULT_QUEUE 16
#define GT_SERVE_MAX_QUEUE 4096
#define GT_SERVE_DEFAULT_STREAM_LAG 256
#define GT_SERVE_MAX_STREAM_LAG 32768
#define GT_SERVE_DEFAULT_STREAM_IDLE_MS 10000
#define GT_SERVE_MAX_STREAM_IDLE_MS 3600000
/* The time a request may take to come in, first byte to last, by default
 * (MHD's idle timeout restarts with every byte, so it bounds nothing for a
 * client trickling its headers: api/conns.h), and at most. */
#define GT_SERVE_REQUEST_MAX_S 60
#define GT_SERVE_MAX_REQUEST_MAX_S 3600
#define GT_SERVE_STREAM_SNDBUF (64 * 1024)
#define GT_SERVE_MAX_STREAM_SNDBUF (16 * 1024 * 1024)
#define GT_SERVE_DEFAULT_PARALLEL 4
#define GT_SERVE_MAX_PARALLEL 64

gt_serve_config gt_serve_defaults(void); /* 127.0.0.1:8080, 1 thread */

typedef struct gt_serve gt_serve;

/* Loads the model and starts listening. Caller stops with gt_serve_stop. */
int gt_serve_start(const gt_serve_config *c, gt_serve **out, gt_err *err);
/* Loads the model without a port of its own (c->listen unused): for the
 * node's, through gt_serve_ext. Caller stops with gt_serve_stop. */
int gt_serve_open(const gt_serve_config *c, gt_serve **out, gt_err *err);
/* The same routes on a node's port (`gotong node -m`): the extension to put
 * in gt_node_config.ext (every route but /health, which the node answers
 * with this server's state under "model"). Owned by s: stop the node before
 * s. The same code serves them as on gt_serve_start's own port. */
struct gt_api_ext;
const struct gt_api_ext *gt_serve_ext(gt_serve *s);
uint16_t gt_serve_port(const gt_serve *s);
const char *gt_serve_model_id(const gt_serve *s);
/* Which chat template serves chat requests, in words (for the startup log). */
const char *gt_serve_template_desc(const gt_serve *s);
/* Stops accepting, waits for requests in flight, frees everything. Accepts NULL. */
void gt_serve_stop(gt_serve *s);

#endif
