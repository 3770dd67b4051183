/* api_util.h: helpers shared by the API tests: deterministic keys, a node on
 * an ephemeral port over a fresh temp home, HTTP requests with libcurl, a raw
 * socket client (for what curl hides: partial bodies, streams), and signed
 * actions as JSON text. */
#ifndef GT_TESTS_API_UTIL_H
#define GT_TESTS_API_UTIL_H

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "api/api.h"
#include "base/alloc.h"
#include "base/buf.h"
#include "base/hex.h"
#include "crypto/addr.h"
#include "crypto/keccak.h"
#include "ledger/ledger.h"
#include "ledger/rules.h"
#include "market/market.h"
#include "crypto/sha256.h"
#include "store/permit.h"

#define TCHAIN_ID 1337
/* The signing domain of the ledger thome makes (set by thome). */
static gt_domain TDOM;
#define TCHAIN (&TDOM)

/* Key number i: keccak("gotong-api-test-key-i"), deterministic across runs. */
static inline void tkey(int i, gt_key *k, gt_addr *a) {
    char seed[64];
    uint8_t priv[32];
    snprintf(seed, sizeof seed, "gotong-api-test-key-%d", i);
    gt_keccak256(seed, strlen(seed), priv);
    gt_key_from_bytes(k, priv, NULL);
    gt_key_address(k, a);
}

/* A fresh temp home with a ledger whose authority is key 0, under $TMPDIR
 * (a short path) or /tmp. Returns the dir. */
static inline const char *thome(char dir[64]) {
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, 64, "%s/gt_api_testXXXXXX", tmp && *tmp && strlen(tmp) < 40 ? tmp : "/tmp");
    if (!mkdtemp(dir)) abort();
    char path[128];
    snprintf(path, sizeof path, "%s/ledger.db", dir);
    gt_key k;
    /* A fixed seed secret: TDOM is computed before the ledger exists, and the
     * genesis hash (its salt) commits to the seed chain's anchors. */
    gt_genesis g = {.chain_id = TCHAIN_ID, .unbonding_blocks = 2, .time_s = 1700000000, .seed_secret = {0x5e}};
    tkey(0, &k, &g.authority);
    gt_genesis_domain(&g, &TDOM);
    gt_err err = {0};
    if (gt_market_register(&err) || gt_ledger_create(path, &g, &err)) {
        fprintf(stderr, "thome: %s\n", err.msg);
        abort();
    }
    return dir;
}

/* Removes a temp dir made by thome. */
static inline void trm(const char *dir) {
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0) abort();
}

/* Starts a node on 127.0.0.1:0 over home; aborts on failure. */
static inline gt_node *tnode(const char *home, unsigned threads, uint64_t interval_ms) {
    gt_node_config c;
    gt_node_config_default(&c);
    c.home = home;
    c.listen = "127.0.0.1:0";
    c.threads = threads;
    c.block_interval_ms = interval_ms;
    c.sse_keepalive_ms = 300;
    c.access_log = 0;
    gt_node *n = NULL;
    gt_err err = {0};
    if (gt_node_start(&c, &n, &err)) {
        fprintf(stderr, "tnode: %s\n", err.msg);
        abort();
    }
    return n;
}

/* ---- HTTP with libcurl. */
typedef struct thttp {
    long status;
    char *body;   /* NUL-terminated; free with thttp_free */
    size_t len;
    size_t cap;   /* bytes allocated at body (0: unknown, as after a caller's calloc) */
    char allow[64], ctype[128], reqid[32], etag[64];
    char csp[192], nosniff[16], acao[64]; /* Content-Security-Policy, X-Content-Type-Options, Access-Control-Allow-Origin */
    int n_csp;                            /* Content-Security-Policy lines (two would both apply) */
} thttp;

/* curl write callback: appends to h->body (NUL-terminated). */
static size_t thttp_write(char *p, size_t size, size_t n, void *arg) {
    thttp *h = arg;
    size_t add = size * n;
    /* Doubling: a realloc a chunk copied a 16 MiB answer about a thousand
     * times under AddressSanitizer (whose realloc always moves), 20 s. */
    if (!h->body || h->len + add + 1 > h->cap) {
        size_t cap = 2 * h->cap > h->len + add + 1 ? 2 * h->cap : h->len + add + 1;
        if (cap < 4096) cap = 4096;
        char *nb = realloc(h->body, cap);
        if (!nb) return 0;
        h->body = nb, h->cap = cap;
    }
    char *nb = h->body;
    memcpy(nb + h->len, p, add);
    h->len += add;
    nb[h->len] = 0;
    return add;
}

/* curl header callback: keeps Allow, Content-Type, X-Request-Id, ETag and the
 * headers that tell a browser what it may do with the answer. */
static size_t thttp_header(char *p, size_t size, size_t n, void *arg) {
    thttp *h = arg;
    size_t len = size * n;
    char line[256];
    snprintf(line, sizeof line, "%.*s", (int)(len < 255 ? len : 255), p);
    line[strcspn(line, "\r\n")] = 0;
    if (!strncasecmp(line, "Allow: ", 7)) snprintf(h->allow, sizeof h->allow, "%.63s", line + 7);
    if (!strncasecmp(line, "Content-Type: ", 14)) snprintf(h->ctype, sizeof h->ctype, "%.127s", line + 14);
    if (!strncasecmp(line, "X-Request-Id: ", 14)) snprintf(h->reqid, sizeof h->reqid, "%.31s", line + 14);
    if (!strncasecmp(line, "ETag: ", 6)) snprintf(h->etag, sizeof h->etag, "%.63s", line + 6);
    if (!strncasecmp(line, "Content-Security-Policy: ", 25))
        snprintf(h->csp, sizeof h->csp, "%.191s", line + 25), h->n_csp++;
    if (!strncasecmp(line, "X-Content-Type-Options: ", 24)) snprintf(h->nosniff, sizeof h->nosniff, "%.15s", line + 24);
    if (!strncasecmp(line, "Access-Control-Allow-Origin: ", 29)) snprintf(h->acao, sizeof h->acao, "%.63s", line + 29);
    return len;
}

/* Frees a response. */
static inline void thttp_free(thttp *h) {
    free(h->body);
    memset(h, 0, sizeof *h);
}

/* One request; c may be reused (keep-alive). body NULL: no body. Returns the
 * curl code (0 ok); fills h (caller thttp_free's it). */
static inline int treq_hdr(CURL *c, uint16_t port, const char *method, const char *path, const void *body,
                           size_t len, const char *header, thttp *h);
static inline int treq(CURL *c, uint16_t port, const char *method, const char *path, const void *body, size_t len,
                       thttp *h) {
    return treq_hdr(c, port, method, path, body, len, NULL, h);
}

/* The same with one more request header ("Name: value"), or none (NULL). */
static inline int treq_hdr(CURL *c, uint16_t port, const char *method, const char *path, const void *body,
                           size_t len, const char *header, thttp *h) {
    memset(h, 0, sizeof *h);
    h->body = calloc(1, 1);
    char url[1024];
    snprintf(url, sizeof url, "http://127.0.0.1:%u%s", (unsigned)port, path);
    curl_easy_reset(c);
    curl_easy_setopt(c, CURLOPT_URL, url);
    if (!strcmp(method, "HEAD")) curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    else curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, thttp_write);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, h);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, thttp_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, h);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 20000L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    struct curl_slist *hdrs = curl_slist_append(NULL, "Expect:");
    if (header) hdrs = curl_slist_append(hdrs, header);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
    if (body) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    }
    int rc = (int)curl_easy_perform(c);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &h->status);
    curl_slist_free_all(hdrs);
    return rc;
}

/* GET/POST conveniences returning the status (body in h). */
static inline long tget(CURL *c, uint16_t port, const char *path, thttp *h) {
    treq(c, port, "GET", path, NULL, 0, h);
    return h->status;
}
/* POSTs the string body; returns the status. */
static inline long tpost(CURL *c, uint16_t port, const char *path, const char *body, thttp *h) {
    treq(c, port, "POST", path, body, strlen(body), h);
    return h->status;
}

/* ---- Raw sockets. */
static inline int tconnect(uint16_t port) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* Monotonic milliseconds. */
static inline uint64_t tnow_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Reads from fd into buf (appending at *len, NUL-terminated) until `needle`
 * appears, EOF, or timeout_ms. Returns 1 if needle was seen, 0 otherwise;
 * *eof set when the peer closed. */
static inline int tread_until(int fd, char *buf, size_t cap, size_t *len, const char *needle, int timeout_ms,
                              int *eof) {
    uint64_t end = tnow_ms() + (uint64_t)timeout_ms;
    if (eof) *eof = 0;
    for (;;) {
        buf[*len] = 0;
        if (needle && strstr(buf, needle)) return 1;
        uint64_t now = tnow_ms();
        if (now >= end || *len + 1 >= cap) return 0;
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, (int)(end - now)) <= 0) continue;
        ssize_t n = read(fd, buf + *len, cap - 1 - *len);
        if (n <= 0) {
            if (eof) *eof = 1;
            buf[*len] = 0;
            return needle && strstr(buf, needle);
        }
        *len += (size_t)n;
    }
}

/* ---- Signed actions as JSON text (caller frees with free()). */
static inline char *tjson(const gt_action *a) {
    json_t *j = gt_action_to_json(a, 1);
    char *s = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    return s;
}

/* A signed core action (to may be NULL for stake/unstake). */
static inline void tcore(gt_action *a, const gt_action_kind *kind, int key, uint64_t nonce, const gt_addr *to,
                         uint64_t amount) {
    gt_key k;
    gt_addr from;
    tkey(key, &k, &from);
    gt_action_init(a, kind, TCHAIN, &from, nonce);
    if (to) gt_action_set_addr(a, "to", to);
    gt_action_set_u64(a, "amount", amount);
    if (gt_action_sign(a, &k, NULL)) abort();
}

/* Signs a with key number key. */
static inline void tsign(gt_action *a, int key) {
    gt_key k;
    gt_addr from;
    tkey(key, &k, &from);
    if (gt_action_sign(a, &k, NULL)) abort();
}

/* Starts an action of kind from key (fields set by the caller, then tsign). */
static inline void tinit(gt_action *a, const gt_action_kind *kind, int key, uint64_t nonce) {
    gt_key k;
    gt_addr from;
    tkey(key, &k, &from);
    gt_action_init(a, kind, TCHAIN, &from, nonce);
}

/* "Authorization: Gotong-Permit ..." for uploading data[0..len) as key
 * number key, valid for ttl_s from now (negative: expired), into out. */
#define TPERMIT_MAX (GT_BLOB_PERMIT_HEADER_MAX + 32)
static inline void tpermit(int key, const void *data, size_t len, long ttl_s, char out[TPERMIT_MAX]) {
    gt_key k;
    gt_addr a;
    tkey(key, &k, &a);
    gt_blob_permit p = {.size = len, .expiry_s = (uint64_t)((long)time(NULL) + ttl_s)};
    gt_sha256(data, len, p.hash);
    if (gt_blob_permit_sign(&p, &k, TDOM.chain_id, TDOM.salt, NULL)) abort();
    memcpy(out, "Authorization: ", 15);
    gt_blob_permit_format(&p, out + 15, GT_BLOB_PERMIT_HEADER_MAX);
}

/* Mints amount to key number `to` (the authority is key 0, at its nonce);
 * returns the HTTP status. */
static inline long tmint(CURL *c, uint16_t port, uint64_t nonce, int to, uint64_t amount) {
    gt_action a;
    gt_key k;
    gt_addr addr;
    tkey(to, &k, &addr);
    tcore(&a, &gt_kind_mint, 0, nonce, &addr, amount);
    char *body = tjson(&a);
    thttp h;
    long st = tpost(c, port, "/v1/actions", body, &h);
    free(body);
    thttp_free(&h);
    return st;
}

/* Uploads data as key number key with a fresh permit; returns the status. */
static inline long tupload(CURL *c, uint16_t port, int key, const void *data, size_t len, thttp *h) {
    char auth[TPERMIT_MAX];
    tpermit(key, data, len, 600, auth);
    treq_hdr(c, port, "POST", "/v1/blobs", data, len, auth, h);
    return h->status;
}

/* Fields of a full task lifecycle, shared by tests and the benchmark. */
static inline void tagent_register(gt_action *a, int key, uint64_t nonce, const char *skill) {
    tinit(a, &gt_kind_agent_register, key, nonce);
    char name[32];
    snprintf(name, sizeof name, "agent-%d", key);
    gt_action_set_str(a, "name", name, strlen(name), NULL);
    gt_action_set_str(a, "skills", skill, strlen(skill), NULL);
    gt_action_set_str(a, "endpoint", "http://127.0.0.1/", 17, NULL);
    gt_action_set_u64(a, "price", 1);
    tsign(a, key);
}

/* A signed task_post of one slot: bounty 1000, stake 100, windows of 1000
 * blocks, poster verifies; seq makes the spec (and so the id) unique. */
static inline void ttask_post(gt_action *a, int key, uint64_t nonce, const char *kind, uint64_t seq) {
    tinit(a, &gt_kind_task_post, key, nonce);
    uint8_t spec[32];
    gt_keccak256(&seq, sizeof seq, spec);
    gt_action_set_str(a, "kind", kind, strlen(kind), NULL);
    gt_action_set_b32(a, "spec", spec);
    gt_action_set_u64(a, "slots", 1);
    gt_action_set_u64(a, "bounty", 1000);
    gt_action_set_u64(a, "stake", 100);
    gt_action_set_u64(a, "claimSeconds", 1000);
    gt_action_set_u64(a, "submitSeconds", 1000);
    gt_action_set_u64(a, "verifySeconds", 1000);
    tsign(a, key);
}

/* task_claim / task_settle (slot < 0: no slot field) / task_submit / task_verify. */
static inline void ttask_ref(gt_action *a, const gt_action_kind *kind, int key, uint64_t nonce,
                             const uint8_t task[32], int slot) {
    tinit(a, kind, key, nonce);
    gt_action_set_b32(a, "task", task);
    if (slot >= 0) gt_action_set_u64(a, "slot", (uint64_t)slot);
    tsign(a, key);
}

/* A signed task_submit of slot 0 with result res. */
static inline void ttask_submit(gt_action *a, int key, uint64_t nonce, const uint8_t task[32], const uint8_t res[32]) {
    tinit(a, &gt_kind_task_submit, key, nonce);
    gt_action_set_b32(a, "task", task);
    gt_action_set_u64(a, "slot", 0);
    gt_action_set_b32(a, "result", res);
    tsign(a, key);
}

/* A signed accepting task_verify of slot 0 for result res. */
static inline void ttask_verify(gt_action *a, int key, uint64_t nonce, const uint8_t task[32], const uint8_t res[32]) {
    tinit(a, &gt_kind_task_verify, key, nonce);
    gt_action_set_b32(a, "task", task);
    gt_action_set_u64(a, "slot", 0);
    gt_action_set_b32(a, "result", res);
    gt_action_set_u64(a, "accept", 1);
    gt_action_set_u64(a, "score", 90);
    tsign(a, key);
}

#endif
