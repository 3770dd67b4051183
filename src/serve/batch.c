/* batch.c: continuous batching and the prefix cache.
 *
 * One thread, the batcher, owns the batch context (one sequence, a "slot",
 * per request running at once; --parallel). Request threads hand it jobs
 * (gt_serve_submit) and wait for their text; between two forward passes it
 * admits queued jobs into free slots, drops the jobs that finished or whose
 * client left, and builds the next batch: one token of every decoding job,
 * then prompt chunks of the jobs still reading their prompt, up to the
 * context's batch size. One gt_ctx_eval_batch evaluates them all; then each
 * job that got logits samples its next token (gt_serve_job_step).
 *
 * Prefix cache: a slot remembers the tokens whose keys and values its
 * sequence holds. A new job takes the free slot whose tokens share the
 * longest prefix with its prompt (else the one unused the longest) and
 * evaluates only the rest; when another slot, busy or not, shares a longer
 * prefix, that prefix's keys and values are copied over first. At least the
 * prompt's last token is always evaluated (its logits start sampling).
 *
 * Determinism: the engine's logits for a token depend only on its
 * sequence's tokens (batch invariance, infer/model.h), never on the other
 * tokens of the batch nor on how a prompt was cut into chunks or taken from
 * the cache, and each job samples from its own seeded sampler. So a
 * request's bytes do not depend on what else runs, in what order requests
 * arrive, or on prefix-cache hits (tests/serve/test_serve_batch.c).
 *
 * Back-pressure: a stream whose client has left stream_lag_tokens
 * generated tokens untaken is held: its token is left out of the batch (a
 * paused sequence changes no other's logits, nor its own later ones) until
 * the client takes some. Only a held stream whose client has taken nothing
 * for stream_idle_ms is cancelled, so a slow but reading client (or one
 * whose reading thread is starved for a while) is slowed, never cut off,
 * while one that stopped reading frees its slot.
 *
 * Logprobs: a step that samples a token of a job asking for logprobs
 * leaves its entry (a log-softmax over the vocabulary, as costly as a good
 * part of a forward pass) to the logprob thread, which computes it from the
 * job's logits while the batch goes on; the job is left out of the batches
 * until it is in (its logits must stay), and its text is not handed out
 * before it. So a request asking for logprobs slows itself, not the
 * streams sharing its batch; its bytes are the same (the same function of
 * the same logits).
 *
 * Locking: the server's mutex guards the queue, the slots and every job's
 * batched fields and text; the batcher drops it only around the forward
 * pass (which touches the batch context alone). */
#include <assert.h>
#include <string.h>
#include <time.h>

#include "base/alloc.h"
#include "base/log.h"
#include "serve/serve_impl.h"

/* How long a waiting request sleeps between looks at its client's socket. */
#define GT_SERVE_POLL_MS 20

/* Jobs queued beyond the slots free now: those that will really wait. */
int gt_serve_queued(const gt_serve *s) {
    int free_now = s->busy ? 0 : s->n_slots - s->n_running;
    int q = s->n_pending - (free_now > 0 ? free_now : 0);
    return q > 0 ? q : 0;
}

/* Waiting jobs of client address ip. */
static int queued_of(const gt_serve *s, uint32_t ip) {
    int n = 0;
    for (const gt_serve_job *q = s->pending_head; q; q = q->next_pending) n += q->client_ip == ip;
    return n;
}

static void unqueue(gt_serve *s, gt_serve_job *j);

/* A full queue shared: when the address holding the most waiting jobs
 * holds at least two more than ip does (so still as many as ip once each
 * has given or taken one), its newest waiting job is refused (evicted: its
 * request answers 429) to make room;
 * 1 when one was. Else one address could keep the queue full and every
 * other client refused at once. */
static int evict_for(gt_serve *s, uint32_t ip) {
    gt_serve_job *victim = NULL;
    int most = 0;
    for (gt_serve_job *q = s->pending_head; q; q = q->next_pending) {
        int n = queued_of(s, q->client_ip);
        if (n > most || (n == most && victim && q->client_ip == victim->client_ip)) most = n, victim = q;
    }
    if (!victim || most < queued_of(s, ip) + 2) return 0;
    unqueue(s, victim);
    victim->evicted = victim->failed = victim->done = 1;
    gt_err_set(&victim->err, GT_ELIMIT, "evicted from the full queue for another client's request");
    s->n_rejected++;
    pthread_cond_broadcast(&s->pcv);
    return 1;
}

int gt_serve_submit(gt_serve *s, gt_serve_job *j, gt_serve_error *e) {
    pthread_mutex_lock(&s->mu);
    int full = s->busy || s->n_running + s->n_pending >= s->n_slots;
    if (full && gt_serve_queued(s) + s->waiting >= s->cfg.max_queue && !evict_for(s, j->client_ip)) {
        s->n_rejected++;
        int running = s->n_running, waiting = gt_serve_queued(s) + s->waiting;
        pthread_mutex_unlock(&s->mu);
        gt_serve_fail(e, 429, NULL, "rate_limit_exceeded",
                      "the server is busy: %d requests are running (--parallel) and %d are waiting (the most it "
                      "queues, --max-queue); retry after %d s", running, waiting, GT_SERVE_RETRY_AFTER_S);
        e->type = "requests";
        return -1;
    }
    j->seq = -1;
    j->active = 1;
    j->next_pending = NULL;
    if (s->pending_tail) s->pending_tail->next_pending = j;
    else s->pending_head = j;
    s->pending_tail = j;
    s->n_pending++;
    pthread_cond_signal(&s->bcv);
    pthread_mutex_unlock(&s->mu);
    return 0;
}

/* Removes j from the queue of pending jobs (it is there). */
static void unqueue(gt_serve *s, gt_serve_job *j) {
    gt_serve_job **pp = &s->pending_head, *prev = NULL;
    while (*pp != j) {
        assert(*pp);
        prev = *pp;
        pp = &(*pp)->next_pending;
    }
    *pp = j->next_pending;
    if (s->pending_tail == j) s->pending_tail = prev;
    s->n_pending--;
    j->active = 0;
}

/* Removes j from the logprob thread's queue (it is there, lp_state 1). */
static void unqueue_lp(gt_serve *s, gt_serve_job *j) {
    gt_serve_job **pp = &s->lp_head, *prev = NULL;
    while (*pp != j) {
        assert(*pp);
        prev = *pp;
        pp = &(*pp)->next_lp;
    }
    *pp = j->next_lp;
    if (s->lp_tail == j) s->lp_tail = prev;
    j->lp_state = 0;
}

int gt_serve_withdraw(gt_serve *s, gt_serve_job *j) {
    pthread_mutex_lock(&s->mu);
    /* Counted here, under the lock and before the batcher frees the slot, so
     * /health never shows the job gone from the queue but not yet counted. */
    int stopped = j->active && !j->done;
    if (stopped) s->n_cancelled++, s->cancelled_tokens += (uint64_t)j->n_gen;
    if (j->active && j->seq < 0) unqueue(s, j);
    if (j->active) {
        j->cancel = 1;
        pthread_cond_signal(&s->bcv);
        while (j->active) pthread_cond_wait(&s->pcv, &s->mu);
    }
    /* Nor may the logprob thread touch it any more. */
    if (j->lp_state == 1) unqueue_lp(s, j);
    while (j->lp_state == 2) pthread_cond_wait(&s->pcv, &s->mu);
    j->lp_want = 0;
    pthread_mutex_unlock(&s->mu);
    return stopped;
}

int gt_serve_wait(gt_serve *s, gt_serve_job *j, int *n_gen_seen, gt_serve_peer *peer) {
    pthread_mutex_lock(&s->mu);
    /* The socket is looked at on every call and every wake-up, whether or
     * not the job progressed: a job that makes a token faster than the poll
     * interval, or a batch that wakes everyone at each step, must not hide a
     * client that left (one non-blocking recv, far cheaper than a step). */
    /* A token whose logprobs are not in yet is not there yet. */
    while (!j->done || j->lp_state) {
        if (gt_serve_client_gone(peer)) {
            pthread_mutex_unlock(&s->mu);
            return 1;
        }
        if (j->n_gen != *n_gen_seen && !j->lp_state) break;
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += GT_SERVE_POLL_MS * 1000000L;
        if (ts.tv_nsec >= 1000000000L) ts.tv_sec++, ts.tv_nsec -= 1000000000L;
        pthread_cond_timedwait(&s->pcv, &s->mu, &ts);
    }
    int done = j->done;
    *n_gen_seen = j->n_gen;
    pthread_mutex_unlock(&s->mu);
    return done ? 2 : 0;
}

/* Tokens at the start of the slot's cache that equal the prompt's. */
static int common_prefix(const gt_serve_slot *sl, const gt_serve_job *j) {
    int n = 0;
    while (n < sl->n_hist && n < j->n_prompt && sl->hist[n] == j->prompt[n]) n++;
    return n;
}

/* The free slot for j: the longest shared prefix, ties to the one unused the
 * longest. *src gets the slot (maybe busy) sharing the longest prefix. */
static int pick_slot(const gt_serve *s, const gt_serve_job *j, int *src, int *src_len) {
    int best = -1, best_len = -1;
    *src = -1, *src_len = 0;
    for (int i = 0; i < s->n_slots; i++) {
        const gt_serve_slot *sl = &s->slots[i];
        int len = common_prefix(sl, j);
        if (len > *src_len) *src = i, *src_len = len;
        if (sl->job) continue;
        if (best < 0 || len > best_len || (len == best_len && sl->last_used < s->slots[best].last_used))
            best = i, best_len = len;
    }
    return best;
}

/* Puts j into a free slot, reusing the longest cached prefix of its prompt
 * (copied from another slot when that one shares more). */
static void place(gt_serve *s, gt_serve_job *j) {
    int src, src_len, dst = pick_slot(s, j, &src, &src_len);
    assert(dst >= 0);
    gt_serve_slot *sl = &s->slots[dst];
    int reuse = common_prefix(sl, j);
    if (s->cfg.no_prefix_cache) reuse = src = 0, src_len = 0;
    int limit = j->n_prompt - 1; /* the last prompt token is evaluated for its logits */
    if (src >= 0 && src != dst && src_len > reuse && (reuse < limit)) {
        int n = src_len < limit ? src_len : limit;
        gt_err err = {0};
        if (gt_ctx_seq_copy(s->bctx, dst, src, n, &err) == 0) {
            memcpy(sl->hist, s->slots[src].hist, (size_t)n * sizeof(int32_t));
            sl->n_hist = n;
            reuse = n;
        } else {
            GT_WARN("serve: prefix copy from slot %d to %d failed: %s", src, dst, err.msg);
        }
    }
    if (reuse > limit) reuse = limit;
    sl->n_hist = reuse;
    j->seq = dst;
    j->n_fed = j->n_reused = reuse;
    sl->job = j;
    s->n_running++;
    if (reuse > 0) s->prefix_hits++, s->prefix_tokens += (uint64_t)reuse;
}

/* Slots held now by jobs of client address ip. */
static int slots_of(const gt_serve *s, uint32_t ip) {
    int n = 0;
    for (int i = 0; i < s->n_slots; i++) n += s->slots[i].job && s->slots[i].job->client_ip == ip;
    return n;
}

/* When client address ip last got a slot (admit_seq; 0: not that we
 * remember). */
static uint64_t last_admitted(const gt_serve *s, uint32_t ip) {
    for (int i = 0; i < GT_SERVE_MAX_CONNECTIONS; i++)
        if (s->admitted[i].seq && s->admitted[i].ip == ip) return s->admitted[i].seq;
    return 0;
}

/* Records that client address ip got a slot now, in its entry or in the
 * least recent one. */
static void note_admitted(gt_serve *s, uint32_t ip) {
    int k = 0;
    for (int i = 0; i < GT_SERVE_MAX_CONNECTIONS; i++) {
        if (s->admitted[i].seq && s->admitted[i].ip == ip) {
            k = i;
            break;
        }
        if (s->admitted[i].seq < s->admitted[k].seq) k = i;
    }
    s->admitted[k].ip = ip;
    s->admitted[k].seq = ++s->admit_seq;
}

/* The queued job to admit next: of the client addresses holding the fewest
 * slots, the one that got a slot least recently, and its oldest job. So a
 * client that queues many requests (or streams it never reads, each held
 * until --stream-idle-ms cancels it) takes turns with the others instead
 * of taking every slot freed before them. Who runs when changes no byte of
 * an answer. */
static gt_serve_job *pick_pending(const gt_serve *s) {
    gt_serve_job *best = NULL;
    int best_held = 0;
    uint64_t best_seq = 0;
    for (gt_serve_job *j = s->pending_head; j; j = j->next_pending) {
        int held = slots_of(s, j->client_ip);
        uint64_t seq = last_admitted(s, j->client_ip);
        if (best && (held > best_held || (held == best_held && seq >= best_seq))) continue;
        best = j, best_held = held, best_seq = seq;
    }
    return best;
}

/* Admits queued jobs while slots are free (none while the model is held). */
static void admit(gt_serve *s) {
    while (s->pending_head && !s->busy && s->n_running < s->n_slots) {
        gt_serve_job *j = pick_pending(s);
        assert(j);
        unqueue(s, j);
        j->active = 1; /* unqueue marks it withdrawn; it is going into a slot */
        note_admitted(s, j->client_ip);
        place(s, j);
    }
}

/* Frees the slots of jobs that are done or cancelled, waking their owners. */
static void detach_finished(gt_serve *s) {
    int any = 0;
    for (int i = 0; i < s->n_slots; i++) {
        gt_serve_slot *sl = &s->slots[i];
        gt_serve_job *j = sl->job;
        if (!j || !(j->done || j->cancel)) continue;
        sl->job = NULL;
        sl->last_used = ++s->slot_clock;
        j->active = 0;
        s->n_running--;
        any = 1;
    }
    if (any) pthread_cond_broadcast(&s->pcv);
}

/* Adds one item to the batch being built. */
static void add_item(gt_serve *s, int *n, gt_serve_job *j, int32_t token, int pos, int logits) {
    s->items[*n] = (gt_ctx_item){.token = token, .seq = j->seq, .pos = pos, .logits = logits};
    s->item_job[*n] = j;
    (*n)++;
}

/* The next batch: every decoding job's token (but a held stream's), then prompt chunks while the
 * batch has room. Returns its size. At most one item per job asks for
 * logits (a decoding job reads no prompt), so n_slots rows of logits hold
 * them all. */
static int build_batch(gt_serve *s) {
    int n = 0, cap = gt_ctx_n_batch(s->bctx), n_logits = 0;
    for (int i = 0; i < s->n_slots; i++) {
        gt_serve_job *j = s->slots[i].job;
        if (!j || !j->need_eval || n >= cap || gt_serve_held(s, j) || j->lp_state) continue; /* held: no step */
        add_item(s, &n, j, j->next_tok, j->pos, 1), n_logits++;
    }
    for (int i = 0; i < s->n_slots && n < cap; i++) {
        gt_serve_job *j = s->slots[i].job;
        if (!j) continue;
        assert(!j->need_eval || j->n_fed == j->n_prompt);
        for (int p = j->n_fed; p < j->n_prompt && n < cap; p++) {
            add_item(s, &n, j, j->prompt[p], p, p == j->n_prompt - 1);
            n_logits += p == j->n_prompt - 1;
        }
    }
    assert(n_logits <= s->n_slots);
    return n;
}

int gt_serve_held(const gt_serve *s, const gt_serve_job *j) {
    return j->stream && !j->done && !j->cancel && j->n_gen - j->n_taken >= s->cfg.stream_lag_tokens;
}

int gt_serve_n_held(const gt_serve *s) {
    int n = 0;
    for (int i = 0; i < s->n_slots; i++) n += s->slots[i].job && gt_serve_held(s, s->slots[i].job);
    return n;
}

/* Cancels the held streams whose client has taken nothing for
 * stream_idle_ms (it stopped reading): the job ends failed, its slot is
 * freed by detach_finished, and the stream's late reader gets the reason as
 * an error event. The window counts from when the stream was first seen
 * held (or took some after): time spent generating the tokens it lags by is
 * the server's, not the client's, so a slow machine (stream_lag_tokens
 * tokens taking longer than stream_idle_ms) never cancels a stream the
 * moment it is held, before its client had a chance to read. Returns the
 * ms until the next held stream's deadline, or -1 when none is held. */
static int64_t check_idle(gt_serve *s) {
    int64_t next = -1;
    uint64_t now = 0, limit = (uint64_t)s->cfg.stream_idle_ms;
    for (int i = 0; i < s->n_slots; i++) {
        gt_serve_job *j = s->slots[i].job;
        if (!j || !gt_serve_held(s, j)) continue;
        if (!now) now = gt_serve_now_ms();
        if (!j->held_ms) j->held_ms = now;
        uint64_t since = j->held_ms > j->taken_ms ? j->held_ms : j->taken_ms;
        uint64_t idle = now > since ? now - since : 0;
        if (idle < limit) {
            if (next < 0 || (int64_t)(limit - idle) < next) next = (int64_t)(limit - idle);
            continue;
        }
        j->done = 1, j->failed = 1, j->lagged = 1; /* the client's doing: a paid stream is charged (api/x402.h) */
        gt_err_set(&j->err, GT_ELIMIT, "the client took nothing for %llu ms while %d generated tokens waited for "
                   "it (at most %d; --stream-lag-tokens, --stream-idle-ms %d): cancelled", (unsigned long long)idle,
                   j->n_gen - j->n_taken, s->cfg.stream_lag_tokens, s->cfg.stream_idle_ms);
        s->n_cancelled++, s->n_lagging++;
        s->cancelled_tokens += (uint64_t)j->n_gen;
    }
    return next;
}

/* Waits on the batcher's condition for at most ms (or for ever when < 0). */
static void batcher_wait(gt_serve *s, int64_t ms) {
    if (ms < 0) {
        pthread_cond_wait(&s->bcv, &s->mu);
        return;
    }
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += (time_t)(ms / 1000);
    ts.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) ts.tv_sec++, ts.tv_nsec -= 1000000000L;
    pthread_cond_timedwait(&s->bcv, &s->mu, &ts);
}

/* Hands j's last token's logprobs (lp_want) to the logprob thread; a
 * failed job's are dropped (nobody reads them). */
static void queue_lp(gt_serve *s, gt_serve_job *j) {
    assert(j->lp_want && !j->lp_state);
    j->lp_want = 0;
    if (j->failed || j->cancel) return;
    j->lp_state = 1;
    j->next_lp = NULL;
    if (s->lp_tail) s->lp_tail->next_lp = j;
    else s->lp_head = j;
    s->lp_tail = j;
    pthread_cond_signal(&s->lcv);
}

/* The logprob thread's loop: takes the queued jobs in turn and computes
 * each one's waiting entry without the lock (the job's logits and fields it
 * reads do not change while lp_state is set: the batcher leaves the job out
 * of its batches, withdraw waits), then appends it and lets the job go on. */
static void *lp_main(void *arg) {
    gt_serve *s = arg;
    pthread_mutex_lock(&s->mu);
    while (!s->stopping) {
        gt_serve_job *j = s->lp_head;
        if (!j) {
            pthread_cond_wait(&s->lcv, &s->mu);
            continue;
        }
        s->lp_head = j->next_lp;
        if (!s->lp_head) s->lp_tail = NULL;
        j->lp_state = 2;
        pthread_mutex_unlock(&s->mu);
        gt_serve_logprob e;
        gt_serve_job_logprob(j, j->lp_token, j->lp_start, &e);
        pthread_mutex_lock(&s->mu);
        if (gt_buf_append(&j->lps, &e, sizeof e) && !j->done) {
            gt_err_set(&j->err, GT_ENOMEM, "out of memory");
            j->failed = 1, j->done = 1;
        }
        j->lp_state = 0;
        s->n_lp_rows++;
        pthread_cond_broadcast(&s->pcv); /* its request, or a withdraw, waits for this */
        pthread_cond_signal(&s->bcv);    /* it may step again */
    }
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

/* After the forward pass: the slots' caches, prompt progress, and a sampled
 * token for every job that got logits. A failed pass fails its jobs. */
static void after_batch(gt_serve *s, int n, int rc, const gt_err *err) {
    const float *row = s->blogits;
    size_t V = (size_t)gt_model_hparams(s->model)->n_vocab;
    for (int i = 0; i < n; i++) {
        gt_serve_job *j = s->item_job[i];
        gt_serve_slot *sl = &s->slots[j->seq];
        if (rc) {
            sl->n_hist = 0; /* the cache is no longer known */
            if (!j->done) j->failed = 1, j->done = 1, j->err = *err;
            continue;
        }
        assert(s->items[i].pos == sl->n_hist);
        sl->hist[sl->n_hist++] = s->items[i].token;
        if (j->n_fed < j->n_prompt) j->n_fed++;
        else j->need_eval = 0, j->pos++;
        if (!s->items[i].logits) continue;
        memcpy(j->logits, row, V * sizeof(float));
        row += V;
        if (j->n_fed == j->n_prompt && j->pos < j->n_prompt) j->pos = j->n_prompt;
        if (!j->cancel && gt_serve_job_step(j, &j->err)) j->failed = 1, j->done = 1;
        if (j->lp_want) queue_lp(s, j);
    }
    s->n_steps++;
    s->n_step_tokens += (uint64_t)n;
    detach_finished(s);
    pthread_cond_broadcast(&s->pcv);
}

/* The batcher's loop, until the server stops. */
static void *batcher_main(void *arg) {
    gt_serve *s = arg;
    pthread_mutex_lock(&s->mu);
    while (!s->stopping) {
        int64_t idle_ms = check_idle(s);
        detach_finished(s);
        admit(s);
        int n = build_batch(s);
        if (n == 0) {
            batcher_wait(s, idle_ms); /* held streams: back at the first one's deadline */
            continue;
        }
        pthread_mutex_unlock(&s->mu);
        gt_err err = {0};
        int rc = gt_ctx_eval_batch(s->bctx, s->items, n, s->blogits, &err);
        pthread_mutex_lock(&s->mu);
        if (rc) GT_WARN("serve: a batch of %d tokens failed: %s", n, err.msg);
        after_batch(s, n, rc, &err);
    }
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

int gt_serve_batch_start(gt_serve *s, gt_err *err) {
    int n_slots = s->cfg.n_parallel ? s->cfg.n_parallel : GT_SERVE_DEFAULT_PARALLEL;
    gt_ctx_params cp = {.n_ctx = s->cfg.n_ctx, .n_threads = s->cfg.n_threads, .n_seq = n_slots};
    int rc = gt_ctx_new(s->model, &cp, &s->bctx, err);
    if (rc) return rc;
    int cap = gt_ctx_n_batch(s->bctx), n_ctx = gt_ctx_n_ctx(s->bctx);
    size_t V = (size_t)gt_model_hparams(s->model)->n_vocab;
    s->n_slots = n_slots;
    s->slots = gt_calloc((size_t)n_slots, sizeof *s->slots);
    s->items = gt_malloc((size_t)cap * sizeof *s->items);
    s->item_job = gt_malloc((size_t)cap * sizeof *s->item_job);
    s->blogits = gt_malloc((size_t)n_slots * V * sizeof(float)); /* one row per slot at most (build_batch) */
    int bad = !s->slots || !s->items || !s->item_job || !s->blogits;
    for (int i = 0; i < n_slots && !bad; i++) bad = !(s->slots[i].hist = gt_malloc((size_t)n_ctx * sizeof(int32_t)));
    if (bad) return gt_err_set(err, GT_ENOMEM, "out of memory for %d slots", n_slots);
    if (pthread_create(&s->batcher, NULL, batcher_main, s))
        return gt_err_set(err, GT_EIO, "cannot start the batcher thread");
    s->batcher_started = 1;
    if (pthread_create(&s->lp_thread, NULL, lp_main, s))
        return gt_err_set(err, GT_EIO, "cannot start the logprob thread");
    s->lp_started = 1;
    return 0;
}

void gt_serve_batch_stop(gt_serve *s) {
    if (s->batcher_started || s->lp_started) {
        pthread_mutex_lock(&s->mu);
        s->stopping = 1;
        pthread_cond_signal(&s->bcv);
        pthread_cond_signal(&s->lcv);
        pthread_mutex_unlock(&s->mu);
        if (s->batcher_started) pthread_join(s->batcher, NULL);
        if (s->lp_started) pthread_join(s->lp_thread, NULL);
    }
    for (int i = 0; s->slots && i < s->n_slots; i++) gt_free(s->slots[i].hist);
    gt_free(s->slots), gt_free(s->items), gt_free(s->item_job), gt_free(s->blogits);
    gt_ctx_free(s->bctx);
}
