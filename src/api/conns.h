/* conns.h: a server's open connections and the limits MHD does not keep.
 *
 * MHD counts connections, but a connection over its limit gets nothing but a
 * closed socket, and its idle timeout restarts with every byte, so a client
 * trickling its headers holds a connection for ever (64 of them locked
 * `gotong serve` for everyone). A table of slots, filled by MHD's connection
 * notifications, keeps for each connection its client's address, whether it
 * was over a limit when it opened (the server's total or one address's
 * share: counted only within the limits, so a few addresses cannot push
 * everyone else over; the server tells its requests 429), and since when its
 * request is being read. A reaper thread cuts a connection whose request is
 * not all in after request_max_s (an over-limit one after
 * GT_API_OVER_LIMIT_S). The node (http.c) and `gotong serve` (serve.c) each
 * keep one. */
#ifndef GT_API_CONNS_H
#define GT_API_CONNS_H

#include <microhttpd.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "base/err.h"

struct gt_req;

/* One open connection. */
typedef struct gt_conn {
    uint32_t ip; /* IPv4, network order */
    int used, over;
    int fd;      /* its socket: MHD closes it only after telling gt_conns_notify, so it is valid while used */
    /* Monotonic ms since the request being read began (the connection
     * opened, or the previous request on it completed); 0 once the request
     * is all in (being answered, streamed, or waiting for the ledger). */
    _Atomic uint64_t reading_since_ms;
    _Atomic int cut;        /* the reaper cut it: its request is logged as 408 */
    _Atomic int nul_in_uri; /* the request's path or query decoded a %00 (the node refuses it with 400) */
    struct gt_req *ext_req; /* the node's: the extension's request running on it (gt_api_ext_respond) */
} gt_conn;

/* The table: one slot per connection MHD may hold (max_total plus
 * GT_API_CONNECTION_HEADROOM, MHD's own limit: so a connection over ours is
 * still read and told why). */
typedef struct gt_conns {
    pthread_mutex_t mu;
    gt_conn *slots;
    unsigned cap, live;       /* live: those within the limits */
    unsigned max_total, max_per_ip, request_max_s;
    pthread_t reaper;         /* wakes every GT_API_REAP_MS on cv, under mu */
    pthread_cond_t cv;
    int has_reaper, stop;
} gt_conns;

/* Sets up the table for the limits given (each at least 1) and starts its
 * reaper. Pass gt_conns_notify and the table to MHD as
 * MHD_OPTION_NOTIFY_CONNECTION, and gt_conns_cap(t) as its connection limit.
 * 0 or GT_ENOMEM. */
int gt_conns_start(gt_conns *t, unsigned max_total, unsigned max_per_ip, unsigned request_max_s, gt_err *err);
/* Stops the reaper and frees the slots; after MHD_stop_daemon (no more
 * notifications). Accepts a table never started (zeroed). */
void gt_conns_stop(gt_conns *t);
/* MHD's connection limit for the table (the limit plus the headroom). */
unsigned gt_conns_cap(unsigned max_total);
/* MHD's connection notification (cls is the table): takes a slot for a new
 * connection, marking it over a limit; frees it when the connection closes. */
void gt_conns_notify(void *cls, struct MHD_Connection *conn, void **socket_context,
                     enum MHD_ConnectionNotificationCode code);
/* The connection's slot; NULL when it has none (no slot was free). */
gt_conn *gt_conns_of(struct MHD_Connection *conn);
/* The connection's request is all in (reading 0) or the next one begins
 * (reading 1): the reaper times only requests being read. */
void gt_conns_reading(struct MHD_Connection *conn, int reading);

#endif
