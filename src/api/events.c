/* events.c: Server-Sent Events (GET /v1/events).
 *
 * The node publishes each event once into a ring of the last GT_API_SSE_RING
 * frames, numbered from 1 (the SSE "id:"). Every stream keeps its own
 * position in the ring, so a slow client never holds up the publisher or the
 * other clients; one that falls more than a ring behind is told how many
 * events it missed (a comment line) and continues from the oldest kept. A
 * client reconnecting with Last-Event-ID resumes where it left off.
 *
 * How a stream waits for the next event depends on MHD's threading: with a
 * thread pool, a stream with nothing to send suspends its connection (no
 * thread is held; the publisher resumes it), with a thread per connection it
 * waits on a condition variable. Either way an idle stream writes a comment
 * every keepalive_ms, which is also how a vanished client is noticed.
 *
 * Locking: ev->mu is taken before any MHD suspend/resume call, in the reader
 * callback and in the publisher alike, so "nothing to send -> suspend" and
 * "new event -> resume" can never interleave into a lost wake-up. */
#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/api_impl.h"
#include "base/num.h"
#include "base/alloc.h"
#include "base/log.h"

typedef struct sse_client {
    gt_events *ev;
    struct MHD_Connection *conn;
    uint64_t next_seq;      /* next event to send */
    gt_buf out;             /* bytes being sent (a frame or a comment) */
    size_t out_off;
    uint64_t last_write_ms;
    int suspended;
    struct sse_client *prev, *next;
} sse_client;

struct gt_events {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int per_connection;
    unsigned keepalive_ms, max_clients;
    char *ring[GT_API_SSE_RING];
    size_t ring_len[GT_API_SSE_RING];
    uint64_t next_seq;      /* id the next published event gets */
    sse_client *clients;
    unsigned n_clients;
    int closing;
};

/* Makes an empty hub. Caller frees with gt_events_free (after gt_events_close). */
gt_events *gt_events_new(int per_connection, unsigned keepalive_ms, unsigned max_clients) {
    gt_events *ev = gt_calloc(1, sizeof *ev);
    if (!ev) return NULL;
    pthread_mutex_init(&ev->mu, NULL);
    pthread_cond_init(&ev->cv, NULL);
    ev->per_connection = per_connection;
    ev->keepalive_ms = keepalive_ms ? keepalive_ms : GT_API_SSE_KEEPALIVE_MS;
    ev->max_clients = max_clients;
    ev->next_seq = 1;
    return ev;
}

/* Frees the hub and its ring; every stream must have ended (gt_events_close). */
void gt_events_free(gt_events *ev) {
    if (!ev) return;
    assert(ev->n_clients == 0); /* gt_events_close first */
    for (int i = 0; i < GT_API_SSE_RING; i++) gt_free(ev->ring[i]);
    pthread_mutex_destroy(&ev->mu);
    pthread_cond_destroy(&ev->cv);
    gt_free(ev);
}

/* Resumes every suspended stream. ev->mu held. */
static void resume_all(gt_events *ev) {
    for (sse_client *c = ev->clients; c; c = c->next)
        if (c->suspended) {
            c->suspended = 0;
            MHD_resume_connection(c->conn);
        }
    pthread_cond_broadcast(&ev->cv);
}

/* Formats one frame (id, event, data), stores it in the ring over the oldest,
 * and wakes every stream. data must be one line (compact JSON). */
void gt_events_publish(gt_events *ev, const char *event, const char *data) {
    pthread_mutex_lock(&ev->mu);
    uint64_t seq = ev->next_seq;
    size_t cap = strlen(event) + strlen(data) + 64;
    char *frame = gt_malloc(cap);
    if (!frame) {
        pthread_mutex_unlock(&ev->mu);
        GT_WARN("events: out of memory; event %s dropped", event);
        return;
    }
    int len = snprintf(frame, cap, "id: %llu\nevent: %s\ndata: %s\n\n", (unsigned long long)seq, event, data);
    assert(len > 0 && (size_t)len < cap);
    size_t slot = seq % GT_API_SSE_RING;
    gt_free(ev->ring[slot]);
    ev->ring[slot] = frame;
    ev->ring_len[slot] = (size_t)len;
    ev->next_seq = seq + 1;
    resume_all(ev);
    pthread_mutex_unlock(&ev->mu);
}

/* Wakes every suspended stream (for keep-alives); they re-suspend if idle. */
void gt_events_wake(gt_events *ev) {
    pthread_mutex_lock(&ev->mu);
    resume_all(ev);
    pthread_mutex_unlock(&ev->mu);
}

/* Number of open streams. */
unsigned gt_events_clients(gt_events *ev) {
    pthread_mutex_lock(&ev->mu);
    unsigned n = ev->n_clients;
    pthread_mutex_unlock(&ev->mu);
    return n;
}

/* Marks the hub closing (streams end at their next read, new ones are
 * refused), wakes them all and waits up to wait_ms for MHD to free them. */
int gt_events_close(gt_events *ev, unsigned wait_ms) {
    if (!ev) return 0;
    pthread_mutex_lock(&ev->mu);
    ev->closing = 1;
    resume_all(ev);
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += wait_ms / 1000;
    until.tv_nsec += (long)(wait_ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) until.tv_sec++, until.tv_nsec -= 1000000000L;
    while (ev->n_clients > 0)
        if (pthread_cond_timedwait(&ev->cv, &ev->mu, &until) == ETIMEDOUT) break;
    int left = (int)ev->n_clients;
    pthread_mutex_unlock(&ev->mu);
    return left;
}

/* MHD's content reader for a stream: copies pending bytes, or the next
 * frame, or a keep-alive comment; with nothing to send it waits (see the
 * top of the file). */
static ssize_t sse_read(void *cls, uint64_t pos, char *buf, size_t max) {
    sse_client *c = cls;
    gt_events *ev = c->ev;
    pthread_mutex_lock(&ev->mu);
    for (;;) {
        if (ev->closing) {
            pthread_mutex_unlock(&ev->mu);
            return MHD_CONTENT_READER_END_OF_STREAM;
        }
        if (c->out_off < c->out.len) {
            size_t n = c->out.len - c->out_off;
            if (n > max) n = max;
            memcpy(buf, c->out.data + c->out_off, n);
            c->out_off += n;
            c->last_write_ms = gt_api_now_ms();
            pthread_mutex_unlock(&ev->mu);
            return (ssize_t)n;
        }
        gt_buf_reset(&c->out);
        c->out_off = 0;
        int rc = 0;
        if (c->next_seq < ev->next_seq) {
            uint64_t oldest = ev->next_seq > GT_API_SSE_RING ? ev->next_seq - GT_API_SSE_RING : 1;
            if (c->next_seq < oldest) {
                rc = gt_buf_printf(&c->out, ": missed %llu events\n\n", (unsigned long long)(oldest - c->next_seq));
                c->next_seq = oldest;
            } else {
                size_t slot = c->next_seq % GT_API_SSE_RING;
                rc = gt_buf_append(&c->out, ev->ring[slot], ev->ring_len[slot]);
                c->next_seq++;
            }
        } else if (gt_api_now_ms() - c->last_write_ms >= ev->keepalive_ms) {
            rc = gt_buf_append_str(&c->out, ": keepalive\n\n");
        } else if (ev->per_connection) {
            uint64_t due_ms = c->last_write_ms + ev->keepalive_ms - gt_api_now_ms();
            struct timespec until;
            clock_gettime(CLOCK_REALTIME, &until);
            until.tv_sec += (time_t)(due_ms / 1000);
            until.tv_nsec += (long)(due_ms % 1000) * 1000000L;
            if (until.tv_nsec >= 1000000000L) until.tv_sec++, until.tv_nsec -= 1000000000L;
            pthread_cond_timedwait(&ev->cv, &ev->mu, &until);
        } else {
            c->suspended = 1;
            MHD_suspend_connection(c->conn);
            pthread_mutex_unlock(&ev->mu);
            return 0;
        }
        if (rc) {
            pthread_mutex_unlock(&ev->mu);
            return MHD_CONTENT_READER_END_WITH_ERROR;
        }
    }
}

/* MHD frees the response (stream over): unlinks the client. */
static void sse_free(void *cls) {
    sse_client *c = cls;
    gt_events *ev = c->ev;
    pthread_mutex_lock(&ev->mu);
    if (c->prev) c->prev->next = c->next; else ev->clients = c->next;
    if (c->next) c->next->prev = c->prev;
    assert(ev->n_clients > 0);
    ev->n_clients--;
    pthread_cond_broadcast(&ev->cv);
    pthread_mutex_unlock(&ev->mu);
    gt_buf_free(&c->out);
    gt_free(c);
}

/* Registers a stream for conn and makes its MHD response (caller queues and
 * destroys it; MHD frees the stream through sse_free when it ends). */
struct MHD_Response *gt_events_response(gt_events *ev, struct MHD_Connection *conn, uint64_t last_id, gt_err *err) {
    sse_client *c = gt_calloc(1, sizeof *c);
    if (!c) {
        gt_err_set(err, GT_ENOMEM, "out of memory");
        return NULL;
    }
    c->ev = ev;
    c->conn = conn;
    /* Tell the client how soon to reconnect, and flush the headers now. */
    if (gt_buf_append_str(&c->out, "retry: 3000\n: connected\n\n")) {
        gt_free(c);
        gt_err_set(err, GT_ENOMEM, "out of memory");
        return NULL;
    }
    pthread_mutex_lock(&ev->mu);
    if (ev->closing || ev->n_clients >= ev->max_clients) {
        int closing = ev->closing;
        pthread_mutex_unlock(&ev->mu);
        gt_buf_free(&c->out);
        gt_free(c);
        if (closing) gt_err_set(err, GT_ESTATE, "the node is shutting down");
        else gt_err_set(err, GT_ELIMIT, "too many event streams open (limit %u); try again later", ev->max_clients);
        return NULL;
    }
    /* UINT64_MAX: only events from now on; else resume after last_id. */
    c->next_seq = last_id < ev->next_seq ? last_id + 1 : ev->next_seq;
    c->last_write_ms = gt_api_now_ms();
    struct MHD_Response *resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096, sse_read, c, sse_free);
    if (!resp) {
        pthread_mutex_unlock(&ev->mu);
        gt_buf_free(&c->out);
        gt_free(c);
        gt_err_set(err, GT_ENOMEM, "out of memory");
        return NULL;
    }
    c->next = ev->clients;
    if (ev->clients) ev->clients->prev = c;
    ev->clients = c;
    ev->n_clients++;
    pthread_mutex_unlock(&ev->mu);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "text/event-stream");
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
    return resp;
}

/* GET /v1/events: the stream; Last-Event-ID resumes after that event. */
void gt_h_events(gt_req *r, gt_resp *o) {
    static const char *const allowed[] = {NULL};
    gt_err err = {0};
    uint64_t last_id = UINT64_MAX;
    const char *lei = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "Last-Event-ID");
    if (gt_req_only_query(r, allowed, &err) ||
        (lei && gt_parse_u64(lei, "Last-Event-ID", 0, UINT64_MAX - 1, &last_id, &err))) {
        gt_resp_err(o, &err);
        return;
    }
    if (!strcmp(r->method, "HEAD")) {
        /* The stream's headers without a stream: MHD 0.9.75 would send a
         * chunked stream's final chunk after a HEAD's headers (a body the
         * client does not expect, read as the start of its next response),
         * and a stream would be held for nobody. */
        o->status = 200;
        o->content_type = "text/event-stream";
        return;
    }
    struct MHD_Response *resp = gt_events_response(r->node->events, r->conn, last_id, &err);
    if (!resp) {
        gt_resp_error(o, err.code == GT_ELIMIT || err.code == GT_ESTATE ? 503 : 500, err.code, "%s", err.msg);
        return;
    }
    o->raw = resp;
    o->status = 200;
    r->is_stream = 1;
}
