/* http_reap.c: the HTTP side's reaper, a thread that cuts connections for
 * time: MHD's idle timeout restarts with every byte, so a client trickling
 * its headers (or one over a connection limit sending nothing) would hold a
 * connection for ever; --request-max-s bounds a request from its start
 * whatever it sends (GT_API_OVER_LIMIT_S for a connection over a limit).
 * Works on the node's connection slots (http.c's conn_notify) under
 * conns_mu. */
#include <arpa/inet.h>
#include <pthread.h>
#include <sys/socket.h>
#include <time.h>

#include "api/api_impl.h"
#include "base/log.h"

/* One pass of the reaper (conns_mu held): shuts down every connection whose
 * request is not all in after --request-max-s (GT_API_OVER_LIMIT_S for one
 * over a limit). MHD's idle timeout restarts with every byte, so a client
 * trickling its headers would otherwise hold the connection for ever; the
 * shutdown wakes MHD, which reads the end of the stream and closes it. */
static void reap_pass(gt_node *n, uint64_t now_ms) {
    uint64_t max_ms = (uint64_t)n->cfg.request_max_s * 1000;
    uint64_t over_ms = GT_API_OVER_LIMIT_S * 1000 < max_ms ? GT_API_OVER_LIMIT_S * 1000 : max_ms;
    for (unsigned i = 0; i < n->conns_cap; i++) {
        gt_conn *c = &n->conns[i];
        uint64_t since = atomic_load(&c->reading_since_ms);
        /* since > now_ms: a request began after the clock was read */
        if (!c->used || !since || since > now_ms || c->fd < 0 || atomic_load(&c->cut) ||
            now_ms - since < (c->over ? over_ms : max_ms))
            continue;
        atomic_store(&c->cut, 1);
        char ip[INET_ADDRSTRLEN] = "?";
        inet_ntop(AF_INET, &c->ip, ip, sizeof ip);
        GT_INFO("http: cut a connection from %s: its request was not all in after %llu ms", ip,
                (unsigned long long)(now_ms - since));
        shutdown(c->fd, SHUT_RDWR);
    }
}

/* The reaper thread: a pass every GT_API_REAP_MS until gt_http_stop. */
static void *reaper_main(void *arg) {
    gt_node *n = arg;
    pthread_mutex_lock(&n->conns_mu);
    while (!n->reap_stop) {
        struct timespec until;
        clock_gettime(CLOCK_MONOTONIC, &until);
        until.tv_nsec += (long)GT_API_REAP_MS * 1000000L;
        if (until.tv_nsec >= 1000000000L) until.tv_sec++, until.tv_nsec -= 1000000000L;
        pthread_cond_timedwait(&n->reap_cv, &n->conns_mu, &until);
        if (!n->reap_stop) reap_pass(n, gt_api_now_ms());
    }
    pthread_mutex_unlock(&n->conns_mu);
    return NULL;
}

/* Starts the reaper (its condition variable on the monotonic clock). */
int gt_http_reaper_start(gt_node *n, gt_err *err) {
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&n->reap_cv, &ca);
    pthread_condattr_destroy(&ca);
    n->reap_stop = 0;
    if (pthread_create(&n->reaper, NULL, reaper_main, n) != 0) {
        pthread_cond_destroy(&n->reap_cv);
        return gt_err_set(err, GT_ENOMEM, "cannot start the HTTP side's reaper thread");
    }
    n->has_reaper = 1;
    return 0;
}

/* Stops and joins the reaper, if it runs. */
void gt_http_reaper_stop(gt_node *n) {
    if (!n->has_reaper) return;
    pthread_mutex_lock(&n->conns_mu);
    n->reap_stop = 1;
    pthread_cond_signal(&n->reap_cv);
    pthread_mutex_unlock(&n->conns_mu);
    pthread_join(n->reaper, NULL);
    pthread_cond_destroy(&n->reap_cv);
    n->has_reaper = 0;
}
