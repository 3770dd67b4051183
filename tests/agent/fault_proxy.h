/* fault_proxy.h: an HTTP proxy between agents and a node that breaks the
 * network on the test's word, for the agent fault tests: the node "down"
 * (every connection closed unread), one request refused (closed before it
 * reaches the node), or one answer lost (the node applies the request, the
 * agent never hears back). One request per connection (it adds "Connection:
 * close" upstream and the node's answer says so), one connection at a time:
 * the agents in a test are stepped by one thread. Header-only (static
 * inline); include after test.h. */
#ifndef GT_TESTS_FAULT_PROXY_H
#define GT_TESTS_FAULT_PROXY_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

/* What a matching request meets: closed unsent, answer dropped, or held delay_ms before it is sent (a slow agent:
 * its pass is held up as long). */
enum { FPX_REFUSE = 1, FPX_LOSE = 2, FPX_DELAY = 3 };

typedef struct fpx {
    int lfd;
    char url[64];             /* what the agents are given */
    int node_port;            /* where requests go (fpx_target) */
    pthread_t th;
    _Atomic int stop, down;   /* down: every connection is closed unread */
    pthread_mutex_t mu;       /* guards the rule below */
    char match[64];           /* a request holding one of these '|'-separated strings... */
    int action, times;        /* ...meets action, this many more times */
    int delay_ms;             /* FPX_DELAY's */
    _Atomic int hits;         /* requests the rule broke */
} fpx;

/* Reads from fd until `need` bytes sit in buf (cap bytes) or EOF; the count. */
static inline size_t fpx_read_to(int fd, char *buf, size_t have, size_t need, size_t cap) {
    while (have < need && have < cap) {
        ssize_t n = read(fd, buf + have, cap - have);
        if (n <= 0) break;
        have += (size_t)n;
    }
    return have;
}

/* Reads one request (headers and Content-Length body) into buf, answering
 * "Expect: 100-continue" itself (the node never sees it). Its length, or 0. */
static inline size_t fpx_read_request(int fd, char *buf, size_t cap) {
    size_t have = 0;
    char *end = NULL;
    while (!end && have < cap - 1) {
        ssize_t n = read(fd, buf + have, cap - 1 - have);
        if (n <= 0) return 0;
        have += (size_t)n;
        buf[have] = 0;
        end = strstr(buf, "\r\n\r\n");
    }
    if (!end) return 0;
    size_t head = (size_t)(end - buf) + 4, body = 0;
    const char *cl = strstr(buf, "\r\nContent-Length:");
    if (cl && cl < end) body = strtoul(cl + 17, NULL, 10);
    const char *ex = strstr(buf, "\r\nExpect: 100-continue");
    if (ex && ex < end && have == head && write(fd, "HTTP/1.1 100 Continue\r\n\r\n", 25) != 25) return 0;
    return fpx_read_to(fd, buf, have, head + body, cap);
}

/* The request as sent upstream: its Expect and Connection lines dropped,
 * "Connection: close" added. Its length in out (cap bytes). */
static inline size_t fpx_rewrite(const char *req, size_t len, char *out, size_t cap) {
    const char *end = strstr(req, "\r\n\r\n");
    size_t o = 0;
    for (const char *p = req; p < end;) {
        const char *eol = strstr(p, "\r\n");
        size_t n = (size_t)(eol - p);
        if (strncasecmp(p, "Expect:", 7) && strncasecmp(p, "Connection:", 11) && o + n + 2 < cap) {
            memcpy(out + o, p, n);
            memcpy(out + o + n, "\r\n", 2);
            o += n + 2;
        }
        p = eol + 2;
    }
    size_t rest = len - (size_t)(end + 2 - req);
    if (o + 19 + rest > cap) return 0;
    memcpy(out + o, "Connection: close\r\n", 19);
    memcpy(out + o + 19, end + 2, rest);
    return o + 19 + rest;
}

/* Sends req to the node and reads its whole answer (it closes after it). */
static inline size_t fpx_forward(fpx *p, const char *req, size_t len, char *resp, size_t cap) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)p->node_port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    size_t got = 0;
    if (fd >= 0 && !connect(fd, (struct sockaddr *)&sa, sizeof sa) && write(fd, req, len) == (ssize_t)len)
        got = fpx_read_to(fd, resp, 0, cap, cap);
    if (fd >= 0) close(fd);
    return got;
}

/* 1 if req holds one of the '|'-separated strings of match. */
static inline int fpx_matches(const char *req, const char *match) {
    char one[64];
    for (const char *m = match; *m;) {
        size_t n = strcspn(m, "|");
        snprintf(one, sizeof one, "%.*s", (int)n, m);
        if (n && strstr(req, one)) return 1;
        m += n + (m[n] == '|');
    }
    return 0;
}

/* What the rule does to this request: 0 (pass) or an FPX_ action. */
static inline int fpx_rule(fpx *p, const char *req) {
    pthread_mutex_lock(&p->mu);
    int act = 0;
    if (p->times > 0 && fpx_matches(req, p->match)) {
        act = p->action;
        p->times--;
        p->hits++;
    }
    pthread_mutex_unlock(&p->mu);
    return act;
}

/* One client connection: one request, broken or passed on as the rules say. */
static inline void fpx_serve(fpx *p, int cfd) {
    enum { CAP = 1 << 22 };
    char *req = malloc(CAP + 1), *up = malloc(CAP + 64), *resp = malloc(CAP);
    size_t len = req && up && resp && !atomic_load(&p->down) ? fpx_read_request(cfd, req, CAP) : 0;
    if (len) {
        req[len] = 0;
        int act = fpx_rule(p, req);
        if (act == FPX_DELAY) usleep((useconds_t)p->delay_ms * 1000);
        size_t ulen = act == FPX_REFUSE ? 0 : fpx_rewrite(req, len, up, CAP + 64);
        size_t rlen = ulen ? fpx_forward(p, up, ulen, resp, CAP) : 0;
        if (rlen && act != FPX_LOSE && write(cfd, resp, rlen) != (ssize_t)rlen) fprintf(stderr, "proxy: short write\n");
    }
    free(req), free(up), free(resp);
    close(cfd);
}

static inline void *fpx_main(void *arg) {
    fpx *p = arg;
    while (!atomic_load(&p->stop)) {
        struct pollfd pf = {p->lfd, POLLIN, 0};
        if (poll(&pf, 1, 50) <= 0) continue;
        int cfd = accept(p->lfd, NULL, NULL);
        if (cfd >= 0) fpx_serve(p, cfd);
    }
    return NULL;
}

/* Points the proxy at the node of base URL node_url ("http://127.0.0.1:PORT"). */
static inline void fpx_target(fpx *p, const char *node_url) {
    const char *colon = strrchr(node_url, ':');
    p->node_port = colon ? atoi(colon + 1) : 0;
}

/* Starts the proxy on a free port of 127.0.0.1 in front of node_url. 0 or -1. */
static inline int fpx_start(fpx *p, const char *node_url) {
    memset(p, 0, sizeof *p);
    pthread_mutex_init(&p->mu, NULL);
    fpx_target(p, node_url);
    struct sockaddr_in sa = {.sin_family = AF_INET};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t sl = sizeof sa;
    p->lfd = socket(AF_INET, SOCK_STREAM, 0);
    if (p->lfd < 0 || bind(p->lfd, (struct sockaddr *)&sa, sizeof sa) || listen(p->lfd, 64) ||
        getsockname(p->lfd, (struct sockaddr *)&sa, &sl))
        return -1;
    snprintf(p->url, sizeof p->url, "http://127.0.0.1:%d", ntohs(sa.sin_port));
    return pthread_create(&p->th, NULL, fpx_main, p) ? -1 : 0;
}

/* The next `times` requests holding `match` (strings separated by '|') meet action (an FPX_ action). */
static inline void fpx_break(fpx *p, const char *match, int action, int times) {
    pthread_mutex_lock(&p->mu);
    snprintf(p->match, sizeof p->match, "%s", match);
    p->action = action, p->times = times;
    pthread_mutex_unlock(&p->mu);
}

static inline void fpx_stop(fpx *p) {
    atomic_store(&p->stop, 1);
    pthread_join(p->th, NULL);
    close(p->lfd);
    pthread_mutex_destroy(&p->mu);
}

#endif
