/* conns.c: a server's open connections (conns.h): the slots MHD's
 * notifications fill, the limits counted on them, and the reaper thread that
 * cuts a connection whose request takes too long to come in. */
#include <arpa/inet.h>
#include <assert.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "api/api.h"
#include "api/conns.h"
#include "base/alloc.h"
#include "base/log.h"

/* Monotonic milliseconds. */
static uint64_t now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

unsigned gt_conns_cap(unsigned max_total) {
    return max_total + GT_API_CONNECTION_HEADROOM;
}

/* One pass of the reaper (mu held): shuts down every connection whose
 * request is not all in after request_max_s (GT_API_OVER_LIMIT_S for one
 * over a limit). MHD's idle timeout restarts with every byte, so a client
 * trickling its headers would otherwise hold the connection for ever; the
 * shutdown wakes MHD, which reads the end of the stream and closes it. */
static void reap_pass(gt_conns *t, uint64_t at_ms) {
    uint64_t max_ms = (uint64_t)t->request_max_s * 1000;
    uint64_t over_ms = GT_API_OVER_LIMIT_S * 1000 < max_ms ? GT_API_OVER_LIMIT_S * 1000 : max_ms;
    for (unsigned i = 0; i < t->cap; i++) {
        gt_conn *c = &t->slots[i];
        uint64_t since = atomic_load(&c->reading_since_ms);
        /* since > at_ms: a request began after the clock was read */
        if (!c->used || !since || since > at_ms || c->fd < 0 || atomic_load(&c->cut) ||
            at_ms - since < (c->over ? over_ms : max_ms))
            continue;
        atomic_store(&c->cut, 1);
        char ip[INET_ADDRSTRLEN] = "?";
        inet_ntop(AF_INET, &c->ip, ip, sizeof ip);
        GT_INFO("http: cut a connection from %s: its request was not all in after %llu ms", ip,
                (unsigned long long)(at_ms - since));
        shutdown(c->fd, SHUT_RDWR);
    }
}

/* The reaper thread: a pass every GT_API_REAP_MS until gt_conns_stop. */
static void *reaper_main(void *arg) {
    gt_conns *t = arg;
    pthread_mutex_lock(&t->mu);
    while (!t->stop) {
        struct timespec until;
        clock_gettime(CLOCK_MONOTONIC, &until);
        until.tv_nsec += (long)GT_API_REAP_MS * 1000000L;
        if (until.tv_nsec >= 1000000000L) until.tv_sec++, until.tv_nsec -= 1000000000L;
        pthread_cond_timedwait(&t->cv, &t->mu, &until);
        if (!t->stop) reap_pass(t, now_ms());
    }
    pthread_mutex_unlock(&t->mu);
    return NULL;
}

int gt_conns_start(gt_conns *t, unsigned max_total, unsigned max_per_ip, unsigned request_max_s, gt_err *err) {
    assert(max_total >= 1 && max_per_ip >= 1 && request_max_s >= 1);
    memset(t, 0, sizeof *t);
    t->cap = gt_conns_cap(max_total);
    t->slots = gt_calloc(t->cap, sizeof *t->slots);
    if (!t->slots) return gt_err_set(err, GT_ENOMEM, "out of memory");
    t->max_total = max_total, t->max_per_ip = max_per_ip, t->request_max_s = request_max_s;
    pthread_mutex_init(&t->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&t->cv, &ca);
    pthread_condattr_destroy(&ca);
    if (pthread_create(&t->reaper, NULL, reaper_main, t) != 0) {
        gt_conns_stop(t);
        return gt_err_set(err, GT_ENOMEM, "cannot start the HTTP side's reaper thread");
    }
    t->has_reaper = 1;
    return 0;
}

void gt_conns_stop(gt_conns *t) {
    if (!t->slots) return;
    if (t->has_reaper) {
        pthread_mutex_lock(&t->mu);
        t->stop = 1;
        pthread_cond_signal(&t->cv);
        pthread_mutex_unlock(&t->mu);
        pthread_join(t->reaper, NULL);
        t->has_reaper = 0;
    }
    pthread_cond_destroy(&t->cv);
    pthread_mutex_destroy(&t->mu);
    gt_free(t->slots);
    t->slots = NULL;
}

/* A closed connection's slot is free again (mu held). */
static void slot_release(gt_conns *t, gt_conn *c) {
    if (!c) return;
    assert(c->used && (c->over || t->live > 0));
    c->used = 0;
    if (!c->over) t->live--;
}

/* A free slot for a new connection from ip (mu held), marked over a limit
 * if it is; NULL when none is free. */
static gt_conn *slot_take(gt_conns *t, uint32_t ip, int fd) {
    gt_conn *slot = NULL;
    unsigned same = 0;
    for (unsigned i = 0; i < t->cap; i++) {
        if (!t->slots[i].used) {
            if (!slot) slot = &t->slots[i];
        } else if (t->slots[i].ip == ip && !t->slots[i].over) {
            same++;
        }
    }
    if (!slot) return NULL;
    /* Only connections within the limits are counted: those told 429 must
     * not push other addresses over the total. */
    int over = t->live + 1 > t->max_total || same + 1 > t->max_per_ip;
    if (!over) t->live++;
    slot->ip = ip;
    slot->used = 1;
    slot->over = over;
    slot->fd = fd;
    slot->ext_req = NULL;
    atomic_store(&slot->reading_since_ms, now_ms());
    atomic_store(&slot->cut, 0);
    atomic_store(&slot->nul_in_uri, 0);
    return slot;
}

void gt_conns_notify(void *cls, struct MHD_Connection *conn, void **socket_context,
                     enum MHD_ConnectionNotificationCode code) {
    gt_conns *t = cls;
    pthread_mutex_lock(&t->mu);
    if (code == MHD_CONNECTION_NOTIFY_CLOSED) {
        slot_release(t, *socket_context);
        pthread_mutex_unlock(&t->mu);
        return;
    }
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    uint32_t ip = ci && ci->client_addr && ci->client_addr->sa_family == AF_INET
                      ? ((const struct sockaddr_in *)(const void *)ci->client_addr)->sin_addr.s_addr
                      : 0;
    const union MHD_ConnectionInfo *fi = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
    *socket_context = slot_take(t, ip, fi ? fi->connect_fd : -1);
    pthread_mutex_unlock(&t->mu);
}

gt_conn *gt_conns_of(struct MHD_Connection *conn) {
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return ci ? ci->socket_context : NULL;
}

void gt_conns_reading(struct MHD_Connection *conn, int reading) {
    gt_conn *c = gt_conns_of(conn);
    if (c) atomic_store(&c->reading_since_ms, reading ? now_ms() : 0);
}
