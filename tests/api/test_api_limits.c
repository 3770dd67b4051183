/* test_api_limits.c: the node bounds what strangers can make it hold.
 * Uploads: refused without a permit, with a forged, expired, foreign or
 * mismatched one, from an account without funds, past the account's quota,
 * or over the size limit; a body that does not hash to its permit or is cut
 * half-way leaves no file behind (not in the store, not in its tmp/).
 * Connections: over the per-address limit they are told 429 in JSON, are
 * not counted against the node's total and are cut if silent; a client too
 * slow to finish its request (headers or body) is cut. Every response carries a
 * request id, the client's own when it sends a sane one. A submit waiting
 * for the ledger holds no HTTP thread, one whose client left meanwhile is
 * applied and its answer dropped, and one that runs out of memory anywhere
 * is answered at once, never with a false "applied". */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <dirent.h>
#include <errno.h>
#include <sys/stat.h>
#include <ctype.h>

#include "../test.h"
#include "api_util.h"
#include "api/api_impl.h"
#include "store/blob.h"
#include "store/quota.h"
#include "base/file.h"
#include "base/limits.h"

static char dir[64];

/* The defaults, on home, a free port, no empty blocks, no access log. */
static void base_config(gt_node_config *c, const char *home) {
    gt_node_config_default(c);
    c->home = home;
    c->listen = "127.0.0.1:0";
    c->block_interval_ms = 0;
    c->access_log = 0;
}

/* Starts a node on c, or aborts the test saying why. */
static gt_node *start_or_die(const gt_node_config *c) {
    gt_node *n = NULL;
    gt_err err = {0};
    if (gt_node_start(c, &n, &err)) {
        fprintf(stderr, "node: %s\n", err.msg);
        abort();
    }
    return n;
}

/* A node over a fresh home with `threads` HTTP threads and the given limits
 * (0 keeps a default). */
static gt_node *threads_node(unsigned threads, uint64_t quota, unsigned per_ip, unsigned timeout_s,
                             unsigned request_max_s) {
    gt_node_config c;
    base_config(&c, thome(dir));
    c.threads = threads;
    if (quota) c.blob_quota_bytes = quota;
    if (per_ip) c.max_connections_per_ip = per_ip;
    if (timeout_s) c.timeout_s = timeout_s;
    if (request_max_s) c.request_max_s = request_max_s;
    return start_or_die(&c);
}

/* The same with two threads. */
static gt_node *limited_node(uint64_t quota, unsigned per_ip, unsigned timeout_s, unsigned request_max_s) {
    return threads_node(2, quota, per_ip, timeout_s, request_max_s);
}

/* Files in dir/blobs/sub (sub "tmp" or a two-hex-digit folder); 0 if absent. */
static int count_files(const char *sub) {
    char path[256];
    snprintf(path, sizeof path, "%s/blobs/%s", dir, sub);
    DIR *d = opendir(path);
    if (!d) return 0;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (e->d_name[0] != '.') n++;
    closedir(d);
    return n;
}

/* 1 if the blob of data[0..len) is in the store. */
static int stored(const void *data, size_t len) {
    uint8_t h[32];
    char path[128];
    gt_sha256(data, len, h);
    snprintf(path, sizeof path, "%s/blobs", dir);
    return gt_blob_exists_hash(path, h);
}

/* Waits (up to 10 s: MHD notices a closed connection on its own time) until
 * dir/blobs/tmp is empty; returns its last count. */
static int wait_tmp_empty(void) {
    for (int i = 0; i < 200 && count_files("tmp"); i++) {
        struct timespec ts = {0, 50 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    return count_files("tmp");
}

/* An upload with the Authorization header `auth` (NULL: none); the status. */
static long upload_with(CURL *c, uint16_t port, const char *auth, const void *data, size_t len, thttp *h) {
    treq_hdr(c, port, "POST", "/v1/blobs", data, len, auth, h);
    return h->status;
}

/* Permits that are missing, malformed, forged, expired, for another network
 * or another size, and an uploader without funds: each refused before the
 * body is stored, with a JSON error saying why. */
static void test_upload_authorisation(void) {
    gt_node *n = limited_node(0, 0, 0, 0);
    uint16_t port = gt_node_port(n);
    CURL *c = curl_easy_init();
    thttp h;
    const char *blob = "a task spec";
    size_t len = strlen(blob);
    char auth[TPERMIT_MAX];
    CHECK_EQ_INT(upload_with(c, port, NULL, blob, len, &h), 401);
    CHECK_CONTAINS(h.body, "\"code\":\"EPERM\"");
    CHECK_CONTAINS(h.body, "upload permit");
    thttp_free(&h);
    CHECK_EQ_INT(upload_with(c, port, "Authorization: Bearer x", blob, len, &h), 400);
    CHECK_CONTAINS(h.body, "Gotong-Permit");
    thttp_free(&h);
    /* key 2 has no funds yet */
    tpermit(2, blob, len, 600, auth);
    CHECK_EQ_INT(upload_with(c, port, auth, blob, len, &h), 403);
    CHECK_CONTAINS(h.body, "EFUNDS");
    CHECK_CONTAINS(h.body, "needs at least 1 GOT");
    thttp_free(&h);
    CHECK_EQ_INT(tmint(c, port, 0, 2, 5000000), 200);
    /* forged: key 3 signs, the permit names key 2 */
    gt_blob_permit p = {.size = len, .expiry_s = (uint64_t)time(NULL) + 600};
    gt_key k3, k2;
    gt_addr a2;
    tkey(3, &k3, &a2);
    gt_sha256(blob, len, p.hash);
    gt_blob_permit_sign(&p, &k3, TDOM.chain_id, TDOM.salt, NULL);
    tkey(2, &k2, &a2);
    p.uploader = a2;
    strcpy(auth, "Authorization: ");
    gt_blob_permit_format(&p, auth + 15, GT_BLOB_PERMIT_HEADER_MAX);
    CHECK_EQ_INT(upload_with(c, port, auth, blob, len, &h), 403);
    CHECK_CONTAINS(h.body, "ESIG");
    thttp_free(&h);
    /* signed for another network (another genesis: another salt) */
    uint8_t salt[32];
    memcpy(salt, TDOM.salt, 32);
    salt[0] ^= 1;
    gt_blob_permit_sign(&p, &k2, TDOM.chain_id, salt, NULL);
    gt_blob_permit_format(&p, auth + 15, GT_BLOB_PERMIT_HEADER_MAX);
    CHECK_EQ_INT(upload_with(c, port, auth, blob, len, &h), 403);
    thttp_free(&h);
    /* expired, and valid too far ahead */
    tpermit(2, blob, len, -5, auth);
    CHECK_EQ_INT(upload_with(c, port, auth, blob, len, &h), 403);
    CHECK_CONTAINS(h.body, "expired");
    thttp_free(&h);
    tpermit(2, blob, len, GT_BLOB_PERMIT_MAX_TTL_S + 600, auth);
    CHECK_EQ_INT(upload_with(c, port, auth, blob, len, &h), 403);
    thttp_free(&h);
    /* a permit for other bytes of the same length: the hash is checked at the end */
    tpermit(2, "A TASK SPEC", len, 600, auth);
    CHECK_EQ_INT(upload_with(c, port, auth, blob, len, &h), 400);
    CHECK_CONTAINS(h.body, "hash to");
    thttp_free(&h);
    /* a permit for another size */
    tpermit(2, blob, len - 1, 600, auth);
    CHECK_EQ_INT(upload_with(c, port, auth, blob, len, &h), 400);
    thttp_free(&h);
    CHECK(!stored(blob, len));
    CHECK(!stored("A TASK SPEC", len));
    CHECK_EQ_INT(wait_tmp_empty(), 0);
    /* and the real thing */
    CHECK_EQ_INT(tupload(c, port, 2, blob, len, &h), 201);
    CHECK_CONTAINS(h.body, "\"new\":true");
    thttp_free(&h);
    CHECK(stored(blob, len));
    curl_easy_cleanup(c);
    gt_node_stop(n);
    trm(dir);
}

/* The quota counts new bytes per account; a blob already stored is free. */
static void test_upload_quota(void) {
    gt_node *n = limited_node(1000, 0, 0, 0);
    uint16_t port = gt_node_port(n);
    CURL *c = curl_easy_init();
    thttp h;
    char a[600], b[600];
    memset(a, 'a', sizeof a);
    memset(b, 'b', sizeof b);
    CHECK_EQ_INT(tmint(c, port, 0, 1, 5000000), 200);
    CHECK_EQ_INT(tmint(c, port, 1, 2, 5000000), 200);
    CHECK_EQ_INT(tupload(c, port, 1, a, sizeof a, &h), 201);
    thttp_free(&h);
    CHECK_EQ_INT(tupload(c, port, 1, b, sizeof b, &h), 429);
    CHECK_CONTAINS(h.body, "quota of 1000 bytes");
    thttp_free(&h);
    CHECK(!stored(b, sizeof b));
    /* the same blob again costs nothing, from anyone */
    CHECK_EQ_INT(tupload(c, port, 1, a, sizeof a, &h), 201);
    CHECK_CONTAINS(h.body, "\"new\":false");
    thttp_free(&h);
    /* another account has its own quota */
    CHECK_EQ_INT(tupload(c, port, 2, b, sizeof b, &h), 201);
    thttp_free(&h);
    char blobs[128];
    snprintf(blobs, sizeof blobs, "%s/blobs", dir);
    gt_key k;
    gt_addr who;
    uint64_t used = 0;
    tkey(1, &k, &who);
    CHECK_EQ_INT(gt_blob_usage(blobs, &who, &used, NULL), 0);
    CHECK_EQ_U64(used, 600);
    curl_easy_cleanup(c);
    gt_node_stop(n);
    trm(dir);
}

/* Over the size limit: 413 from the headers, with a valid permit too. */
static void test_upload_oversize(void) {
    gt_node *n = limited_node(0, 0, 0, 0);
    uint16_t port = gt_node_port(n);
    int fd = tconnect(port);
    char auth[TPERMIT_MAX], req[TPERMIT_MAX + 200], buf[4096];
    tpermit(1, "x", 1, 600, auth); /* its size is not the point: 413 comes first */
    snprintf(req, sizeof req, "POST /v1/blobs HTTP/1.1\r\nHost: localhost\r\n%s\r\nContent-Length: %d\r\n\r\n", auth,
             GT_LIMIT_BLOB_BYTES + 1);
    CHECK(write(fd, req, strlen(req)) == (ssize_t)strlen(req));
    size_t len = 0;
    CHECK(tread_until(fd, buf, sizeof buf, &len, "}}", 10000, NULL));
    CHECK_CONTAINS(buf, "HTTP/1.1 413");
    CHECK_CONTAINS(buf, "16777216");
    close(fd);
    gt_node_stop(n);
    trm(dir);
}

/* Sends the headers of a permitted upload of data[0..len) and its first
 * `first` bytes on a new connection; returns the socket. */
static int partial_upload(uint16_t port, const char *data, size_t len, size_t first) {
    int fd = tconnect(port);
    char auth[TPERMIT_MAX], req[TPERMIT_MAX + 200];
    tpermit(1, data, len, 600, auth);
    snprintf(req, sizeof req, "POST /v1/blobs HTTP/1.1\r\nHost: localhost\r\n%s\r\nContent-Length: %zu\r\n\r\n", auth, len);
    if (write(fd, req, strlen(req)) != (ssize_t)strlen(req) || write(fd, data, first) != (ssize_t)first) abort();
    return fd;
}

/* Cut uploads leave nothing: the client hangs up half-way; the client
 * stalls and the idle timeout closes it; the client trickles and the
 * request time limit cuts it. */
static void test_partial_upload_leaves_no_file(void) {
    gt_node *n = limited_node(0, 0, 1, 2);
    uint16_t port = gt_node_port(n);
    CURL *c = curl_easy_init();
    CHECK_EQ_INT(tmint(c, port, 0, 1, 5000000), 200);
    curl_easy_cleanup(c);
    size_t len = 256 * 1024;
    char *data = malloc(len);
    for (size_t i = 0; i < len; i++) data[i] = (char)(i * 13 + 1);
    /* hangs up */
    int fd = partial_upload(port, data, len, len / 2);
    struct timespec ts = {0, 100 * 1000 * 1000};
    nanosleep(&ts, NULL);
    close(fd);
    CHECK_EQ_INT(wait_tmp_empty(), 0);
    CHECK(!stored(data, len));
    /* stalls: closed by the idle timeout (1 s), no response */
    data[0] ^= 1;
    fd = partial_upload(port, data, len, 1000);
    char buf[1024];
    size_t got = 0;
    int eof = 0;
    tread_until(fd, buf, sizeof buf, &got, NULL, 20000, &eof);
    CHECK(eof);
    close(fd);
    CHECK_EQ_INT(wait_tmp_empty(), 0);
    CHECK(!stored(data, len));
    /* trickles a byte every 200 ms: within the idle timeout, but cut by the
     * request limit (2 s) */
    data[0] ^= 2;
    fd = partial_upload(port, data, len, 10);
    eof = 0;
    for (size_t i = 10; i < 200 && !eof; i++) {
        nanosleep(&(struct timespec){0, 200 * 1000 * 1000}, NULL);
        if (write(fd, data + i, 1) != 1) eof = 1;
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, 0) > 0 && read(fd, buf, sizeof buf) <= 0) eof = 1;
    }
    CHECK(eof);
    close(fd);
    CHECK_EQ_INT(wait_tmp_empty(), 0);
    CHECK(!stored(data, len));
    CHECK_EQ_INT(count_files(""), 1); /* blobs/ holds tmp/ only: no blob folder */
    free(data);
    gt_node_stop(n);
    trm(dir);
}

/* A node on home dir (made by thome first) with a quota of 1000 bytes an
 * account and the store's own cap and free-disk floor. */
static gt_node *store_node(uint64_t store_max, uint64_t min_free) {
    gt_node_config c;
    base_config(&c, dir);
    c.blob_quota_bytes = 1000;
    c.blob_store_max_bytes = store_max;
    c.blob_min_free_bytes = min_free;
    return start_or_die(&c);
}

/* Waits (up to 5 s) until the room uploads hold is none (at_least 0) or
 * at least at_least bytes. None: a cut upload gives its room back when MHD
 * completes the request, after the client has gone. At least: a partial
 * upload's headers are read by the node when it gets to them, which under
 * load can be after the client has sent them, or closed (a fixed pause
 * raced it). */
static int wait_held(gt_node *n, uint64_t at_least) {
    for (int i = 0; i < 500; i++) {
        pthread_mutex_lock(&n->blob_mu);
        uint64_t pending = n->blob_in_flight;
        pthread_mutex_unlock(&n->blob_mu);
        if (at_least ? pending >= at_least : !pending) return 0;
        nanosleep(&(struct timespec){0, 10 * 1000 * 1000}, NULL);
    }
    return -1;
}

static int wait_none_arriving(gt_node *n) { return wait_held(n, 0); }
static int wait_arriving(gt_node *n, uint64_t want) { return wait_held(n, want); }

/* The whole store has a cap, whatever the accounts' quotas: funded accounts
 * are free to make, so quotas alone would not bound the disk. The count
 * survives a restart (the usage files' sum), a known blob costs nothing, and
 * an upload still arriving holds its room. */
static void test_store_cap(void) {
    thome(dir);
    gt_node *n = store_node(1500, 0);
    uint16_t port = gt_node_port(n);
    CURL *c = curl_easy_init();
    thttp h;
    char a[800], b[800], d[200];
    memset(a, 'a', sizeof a);
    memset(b, 'b', sizeof b);
    memset(d, 'd', sizeof d);
    for (int k = 1; k <= 3; k++) CHECK_EQ_INT(tmint(c, port, (uint64_t)k - 1, k, 5000000), 200); /* nonce, key */
    CHECK_EQ_INT(tupload(c, port, 1, a, sizeof a, &h), 201);
    thttp_free(&h);
    CHECK_EQ_INT(tupload(c, port, 2, b, sizeof b, &h), 507); /* 1600 > 1500, within account 2's quota */
    CHECK_CONTAINS(h.body, "the node's blob store is full");
    CHECK_CONTAINS(h.body, "--blob-store-max-bytes");
    thttp_free(&h);
    CHECK(!stored(b, sizeof b));
    CHECK_EQ_INT(tupload(c, port, 2, b, 600, &h), 201); /* 1400 */
    thttp_free(&h);
    CHECK_EQ_INT(tupload(c, port, 3, a, sizeof a, &h), 201); /* known: nothing new */
    CHECK_CONTAINS(h.body, "\"new\":false");
    thttp_free(&h);
    curl_easy_cleanup(c);
    gt_node_stop(n);
    n = store_node(1500, 0); /* counted again from the usage files */
    port = gt_node_port(n);
    c = curl_easy_init();
    CHECK_EQ_INT(tupload(c, port, 3, d, sizeof d, &h), 507);
    CHECK_CONTAINS(h.body, "uploads hold 1400 bytes");
    thttp_free(&h);
    CHECK_EQ_INT(tupload(c, port, 3, d, 100, &h), 201); /* 1500: full to the byte */
    thttp_free(&h);
    curl_easy_cleanup(c);
    gt_node_stop(n);
    n = store_node(1750, 0); /* 250 left */
    port = gt_node_port(n);
    c = curl_easy_init();
    char e[150]; /* partial_upload's account 1 has 200 of its quota left */
    for (size_t i = 0; i < sizeof e; i++) e[i] = (char)(i * 7 + 3);
    int fd = partial_upload(port, e, sizeof e, 10); /* holds 150 of the 250 left */
    CHECK_EQ_INT(wait_arriving(n, sizeof e), 0);
    struct pollfd p = {.fd = fd, .events = POLLIN};
    CHECK_EQ_INT(poll(&p, 1, 200), 0); /* no answer yet: the body is still arriving */
    CHECK_EQ_INT(tupload(c, port, 2, d, sizeof d, &h), 507);
    CHECK_CONTAINS(h.body, "150 more are arriving");
    thttp_free(&h);
    close(fd);
    CHECK_EQ_INT(wait_none_arriving(n), 0);
    CHECK_EQ_INT(tupload(c, port, 2, d, sizeof d, &h), 201); /* the cut upload's room came back */
    thttp_free(&h);
    curl_easy_cleanup(c);
    gt_node_stop(n);
    trm(dir);
}

/* Whether the store holds data's blob whole (its file hashes to its id). */
static int stored_whole(const void *data, size_t len) {
    uint8_t h[32];
    char blobs[128], id[GT_BLOB_ID_BYTES];
    gt_sha256(data, len, h);
    gt_blob_id_format(h, id);
    snprintf(blobs, sizeof blobs, "%s/blobs", dir);
    int fd;
    uint64_t size;
    if (gt_blob_open(blobs, id, &fd, &size, NULL)) return 0;
    close(fd);
    return size == len;
}

/* Waits (up to 5 s) until want uploads of known blobs are arriving. */
static int wait_known_arriving(gt_node *n, uint64_t want) {
    for (int i = 0; i < 500; i++) {
        pthread_mutex_lock(&n->blob_mu);
        uint64_t k = n->blob_known_arriving;
        pthread_mutex_unlock(&n->blob_mu);
        if (k == want) return 0;
        nanosleep(&(struct timespec){0, 10 * 1000 * 1000}, NULL);
    }
    return -1;
}

/* An upload of a known blob brings nothing new, so while it arrives it
 * holds no room under the cap (only under the disk's floor): a funded
 * account slowly re-uploading a public blob, which costs it no quota, must
 * not make every new upload 507. */
static void test_store_cap_known_arriving(void) {
    thome(dir);
    gt_node *n = store_node(1000, 0);
    uint16_t port = gt_node_port(n);
    CURL *c = curl_easy_init();
    thttp h;
    char a[800], d[200];
    memset(a, 'k', sizeof a);
    memset(d, 'n', sizeof d);
    for (int k = 1; k <= 2; k++) CHECK_EQ_INT(tmint(c, port, (uint64_t)k - 1, k, 5000000), 200);
    CHECK_EQ_INT(tupload(c, port, 1, a, sizeof a, &h), 201); /* 800 of 1000 */
    thttp_free(&h);
    int fd = partial_upload(port, a, sizeof a, 10); /* the known blob again, 790 bytes still to come */
    CHECK_EQ_INT(wait_known_arriving(n, 1), 0);
    struct pollfd p = {.fd = fd, .events = POLLIN};
    CHECK_EQ_INT(poll(&p, 1, 200), 0);
    CHECK_EQ_INT(tupload(c, port, 2, d, sizeof d, &h), 201); /* 1000: fits; was 507 ("800 more are arriving") */
    thttp_free(&h);
    close(fd);
    CHECK_EQ_INT(wait_known_arriving(n, 0), 0);
    curl_easy_cleanup(c);
    gt_node_stop(n);
    trm(dir);
}

/* An upload of a blob stored whole is hashed as it arrives, not written: it
 * holds no temp file and no room under the disk's floor, where each slow
 * re-upload of a known blob held its size (one funded account with a
 * thousand of them held 16 GiB of the floor). Its bytes are still checked
 * (a wrong body is refused), a copy of another size is replaced by a
 * written upload, and a copy damaged at the same size is set aside with a
 * 422 so the next upload stores it. */
static void test_known_reupload_holds_nothing(void) {
    thome(dir);
    gt_node *n = store_node(GT_API_BLOB_STORE_MAX_BYTES, 0);
    uint16_t port = gt_node_port(n);
    CURL *c = curl_easy_init();
    thttp h;
    char a[800], path[256], hex[65];
    for (size_t i = 0; i < sizeof a; i++) a[i] = (char)(i * 13 + 1);
    for (int k = 1; k <= 3; k++) CHECK_EQ_INT(tmint(c, port, (uint64_t)k - 1, k, 5000000), 200);
    CHECK_EQ_INT(tupload(c, port, 1, a, sizeof a, &h), 201);
    thttp_free(&h);
    int fd = partial_upload(port, a, sizeof a, 10);
    CHECK_EQ_INT(wait_known_arriving(n, 1), 0);
    pthread_mutex_lock(&n->blob_mu);
    uint64_t held = n->blob_in_flight;
    pthread_mutex_unlock(&n->blob_mu);
    CHECK_EQ_U64(held, 0); /* was 800: the size, under the floor */
    CHECK_EQ_INT(count_files("tmp"), 0);
    if (write(fd, a + 10, sizeof a - 10) != (ssize_t)(sizeof a - 10)) abort();
    char ans[2048] = {0};
    ssize_t got = read(fd, ans, sizeof ans - 1);
    CHECK(got > 0);
    CHECK_CONTAINS(ans, " 201 ");
    CHECK_CONTAINS(ans, "\"new\":false");
    close(fd);
    char other[sizeof a];
    memset(other, 'w', sizeof other);
    fd = partial_upload(port, a, sizeof a, 0); /* the known blob's permit, other bytes: still checked */
    if (write(fd, other, sizeof other) != (ssize_t)sizeof other) abort();
    memset(ans, 0, sizeof ans);
    CHECK(read(fd, ans, sizeof ans - 1) > 0);
    CHECK_CONTAINS(ans, " 400 ");
    CHECK_CONTAINS(ans, "the bytes hash to");
    close(fd);
    CHECK_EQ_INT(wait_known_arriving(n, 0), 0);
    uint8_t hash[32];
    gt_sha256(a, sizeof a, hash);
    gt_hex_encode(hash, 32, hex);
    snprintf(path, sizeof path, "%s/blobs/%.2s/%s", dir, hex, hex + 2);
    FILE *f = fopen(path, "r+b"); /* damaged at the same size */
    CHECK(f && fputc('X', f) != EOF && fclose(f) == 0);
    CHECK_EQ_INT(tupload(c, port, 1, a, sizeof a, &h), 422);
    CHECK_CONTAINS(h.body, "is damaged");
    CHECK_CONTAINS(h.body, "upload it again");
    thttp_free(&h);
    CHECK(!gt_file_exists(path));
    CHECK_EQ_INT(tupload(c, port, 2, a, sizeof a, &h), 201); /* stored again, new: charged to account 2 */
    thttp_free(&h);
    CHECK(stored_whole(a, sizeof a));
    CHECK_EQ_INT(truncate(path, 100), 0); /* damaged at another size: written, and replaces it */
    CHECK_EQ_INT(tupload(c, port, 3, a, sizeof a, &h), 201);
    thttp_free(&h);
    CHECK(stored_whole(a, sizeof a));
    curl_easy_cleanup(c);
    gt_node_stop(n);
    trm(dir);
}

/* Bytes of the blobs the store holds: the files in its two-hex-digit folders. */
static uint64_t stored_bytes(void) {
    char path[256], file[1024];
    snprintf(path, sizeof path, "%s/blobs", dir);
    DIR *d = opendir(path);
    uint64_t sum = 0;
    struct dirent *e;
    while (d && (e = readdir(d))) {
        if (strlen(e->d_name) != 2 || !isxdigit((unsigned char)e->d_name[0])) continue;
        snprintf(file, sizeof file, "%s/%s", path, e->d_name);
        DIR *s = opendir(file);
        struct dirent *f;
        struct stat st;
        while (s && (f = readdir(s))) {
            snprintf(file, sizeof file, "%s/%s/%s", path, e->d_name, f->d_name);
            if (f->d_name[0] != '.' && !stat(file, &st) && S_ISREG(st.st_mode)) sum += (uint64_t)st.st_size;
        }
        if (s) closedir(s);
    }
    if (d) closedir(d);
    return sum;
}

/* Account k's usage, the sum of every account's and the node's count. */
static uint64_t usage_of(int k) {
    char blobs[128];
    gt_key key;
    gt_addr who;
    uint64_t used = UINT64_MAX;
    snprintf(blobs, sizeof blobs, "%s/blobs", dir);
    tkey(k, &key, &who);
    CHECK_EQ_INT(gt_blob_usage(blobs, &who, &used, NULL), 0);
    return used;
}
static void usage_exact(gt_node *n, uint64_t want) {
    char blobs[128];
    uint64_t total = UINT64_MAX;
    snprintf(blobs, sizeof blobs, "%s/blobs", dir);
    CHECK_EQ_INT(gt_blob_usage_total(blobs, &total, NULL), 0);
    pthread_mutex_lock(&n->blob_mu);
    uint64_t held = n->blob_used;
    pthread_mutex_unlock(&n->blob_mu);
    fprintf(stderr, "  stored %llu bytes, usages sum to %llu, the node counts %llu (want %llu)\n",
            (unsigned long long)stored_bytes(), (unsigned long long)total, (unsigned long long)held,
            (unsigned long long)want);
    CHECK_EQ_U64(stored_bytes(), want);
    CHECK_EQ_U64(total, want);
    CHECK_EQ_U64(held, want);
}

/* The quota's books stay exact when a blob leaves the store. Account 1
 * uploads a (800 bytes); its copy is damaged and set aside by the next
 * upload of it (422); account 2 uploads it again, as new, and is charged.
 * Before, account 1 still paid for the blob the store no longer held: the
 * usages summed to 1600 for 800 stored bytes (and the store's cap counted
 * them twice), and account 1 could not upload 300 bytes more under its
 * quota of 1000. Now the set-aside gives account 1's charge back; the
 * usages always sum to the bytes stored, also when the file is removed by
 * hand (account 3's upload of it replaces account 2's stale charge) and across a
 * restart (the node counts the usage files). */
static void test_set_aside_uncharged(void) {
    thome(dir);
    gt_node *n = store_node(GT_API_BLOB_STORE_MAX_BYTES, 0); /* quota 1000 an account */
    uint16_t port = gt_node_port(n);
    CURL *c = curl_easy_init();
    thttp h;
    char a[800], b[300], path[256], hex[65];
    for (size_t i = 0; i < sizeof a; i++) a[i] = (char)(i * 11 + 5);
    memset(b, 'u', sizeof b);
    for (int k = 1; k <= 3; k++) CHECK_EQ_INT(tmint(c, port, (uint64_t)k - 1, k, 5000000), 200);
    CHECK_EQ_INT(tupload(c, port, 1, a, sizeof a, &h), 201);
    thttp_free(&h);
    usage_exact(n, 800);
    uint8_t hash[32];
    gt_sha256(a, sizeof a, hash);
    gt_hex_encode(hash, 32, hex);
    snprintf(path, sizeof path, "%s/blobs/%.2s/%s", dir, hex, hex + 2);
    FILE *f = fopen(path, "r+b"); /* damaged at the same size */
    CHECK(f && fputc('X', f) != EOF && fclose(f) == 0);
    CHECK_EQ_INT(tupload(c, port, 1, a, sizeof a, &h), 422);
    CHECK_CONTAINS(h.body, "was set aside");
    thttp_free(&h);
    CHECK(!gt_file_exists(path));
    usage_exact(n, 0);
    CHECK_EQ_U64(usage_of(1), 0);
    CHECK_EQ_INT(tupload(c, port, 2, a, sizeof a, &h), 201);
    CHECK_CONTAINS(h.body, "\"new\":true");
    thttp_free(&h);
    usage_exact(n, 800);
    CHECK_EQ_U64(usage_of(1), 0);
    CHECK_EQ_U64(usage_of(2), 800);
    CHECK_EQ_INT(tupload(c, port, 1, b, sizeof b, &h), 201); /* account 1's quota is whole again */
    thttp_free(&h);
    usage_exact(n, 1100);
    CHECK_EQ_INT(unlink(path), 0); /* removed by hand: the next uploader's charge replaces account 2's */
    CHECK_EQ_INT(tupload(c, port, 3, a, sizeof a, &h), 201);
    thttp_free(&h);
    CHECK_EQ_U64(usage_of(1), 300);
    CHECK_EQ_U64(usage_of(2), 0);
    CHECK_EQ_U64(usage_of(3), 800);
    usage_exact(n, 1100);
    curl_easy_cleanup(c);
    gt_node_stop(n);
    n = store_node(GT_API_BLOB_STORE_MAX_BYTES, 0);
    usage_exact(n, 1100);
    gt_node_stop(n);
    trm(dir);
}

/* An account's quota counts its own new uploads still arriving: without
 * it, one funded account held 16 MiB of the store's cap a connection until
 * each upload had arrived and was refused at its end. */
static void test_quota_counts_arriving(void) {
    thome(dir);
    gt_node *n = store_node(GT_API_BLOB_STORE_MAX_BYTES, 0); /* quota 1000 an account */
    uint16_t port = gt_node_port(n);
    CURL *c = curl_easy_init();
    thttp h;
    char a[600], b[600], k[300];
    memset(a, 'p', sizeof a);
    memset(b, 'q', sizeof b);
    memset(k, 'z', sizeof k);
    for (int key = 1; key <= 2; key++) CHECK_EQ_INT(tmint(c, port, (uint64_t)key - 1, key, 5000000), 200);
    CHECK_EQ_INT(tupload(c, port, 2, k, sizeof k, &h), 201); /* a blob the store knows */
    thttp_free(&h);
    int fd = partial_upload(port, a, sizeof a, 10); /* account 1: 600 new bytes arriving */
    CHECK_EQ_INT(wait_arriving(n, sizeof a), 0);
    struct pollfd p = {.fd = fd, .events = POLLIN};
    CHECK_EQ_INT(poll(&p, 1, 200), 0);
    CHECK_EQ_INT(tupload(c, port, 1, b, sizeof b, &h), 429); /* 600 + 600 > 1000: refused before its body */
    CHECK_CONTAINS(h.body, "600 more are arriving");
    thttp_free(&h);
    CHECK(!stored(b, sizeof b));
    CHECK_EQ_INT(tupload(c, port, 1, k, sizeof k, &h), 201); /* a known blob costs no quota */
    thttp_free(&h);
    CHECK_EQ_INT(tupload(c, port, 2, b, sizeof b, &h), 201); /* another account's quota is its own: 900 */
    thttp_free(&h);
    close(fd);
    CHECK_EQ_INT(wait_none_arriving(n), 0);
    CHECK_EQ_INT(tupload(c, port, 1, a, sizeof a, &h), 201); /* the cut upload's share came back */
    thttp_free(&h);
    curl_easy_cleanup(c);
    gt_node_stop(n);
    trm(dir);
}

/* Every way an upload ends gives its room back: refused by its query,
 * bytes that are not the permit's, cut half-way, its temp file not made
 * (500 after the room was reserved). The store is then full to the byte. */
static void test_store_reservations_return(void) {
    thome(dir);
    gt_node *n = store_node(1500, 0);
    uint16_t port = gt_node_port(n);
    CURL *c = curl_easy_init();
    thttp h;
    char a[1000], b[1000], auth[TPERMIT_MAX];
    memset(a, 'r', sizeof a);
    memset(b, 's', sizeof b);
    for (int k = 1; k <= 2; k++) CHECK_EQ_INT(tmint(c, port, (uint64_t)k - 1, k, 5000000), 200);
    tpermit(1, a, sizeof a, 600, auth);
    treq_hdr(c, port, "POST", "/v1/blobs?x=1", a, sizeof a, auth, &h);
    CHECK_EQ_INT(h.status, 400);
    thttp_free(&h);
    CHECK_EQ_INT(wait_none_arriving(n), 0);
    treq_hdr(c, port, "POST", "/v1/blobs", b, sizeof b, auth, &h); /* a's permit, b's bytes */
    CHECK_EQ_INT(h.status, 400);
    thttp_free(&h);
    CHECK_EQ_INT(wait_none_arriving(n), 0);
    for (int i = 0; i < 8; i++) { /* each seen arriving before it is cut, then given back */
        int fd = partial_upload(port, a, sizeof a, 10);
        CHECK_EQ_INT(wait_arriving(n, sizeof a), 0);
        close(fd);
        CHECK_EQ_INT(wait_none_arriving(n), 0);
    }
    char tmp[128];
    snprintf(tmp, sizeof tmp, "%s/blobs/tmp", dir);
    CHECK_EQ_INT(rmdir(tmp), 0);
    FILE *f = fopen(tmp, "w"); /* mkstemp's folder cannot be made */
    fclose(f);
    CHECK_EQ_INT(tupload(c, port, 1, a, sizeof a, &h), 500);
    thttp_free(&h);
    CHECK_EQ_INT(wait_none_arriving(n), 0);
    CHECK_EQ_INT(unlink(tmp), 0);
    CHECK_EQ_INT(tupload(c, port, 1, a, sizeof a, &h), 201);
    thttp_free(&h);
    CHECK_EQ_INT(tupload(c, port, 2, b, 500, &h), 201); /* 1500 */
    thttp_free(&h);
    CHECK_EQ_INT(wait_none_arriving(n), 0);
    curl_easy_cleanup(c);
    gt_node_stop(n);
    trm(dir);
}

/* An upload must leave the disk's floor free for the ledger, even when the
 * blob is known (it is written to a temp file first). */
static void test_store_free_floor(void) {
    thome(dir);
    gt_node *n = store_node(GT_API_BLOB_STORE_MAX_BYTES, UINT64_MAX / 2);
    uint16_t port = gt_node_port(n);
    CURL *c = curl_easy_init();
    thttp h;
    char a[300];
    memset(a, 'f', sizeof a);
    CHECK_EQ_INT(tmint(c, port, 0, 1, 5000000), 200);
    CHECK_EQ_INT(tupload(c, port, 1, a, sizeof a, &h), 507);
    CHECK_CONTAINS(h.body, "it keeps free for its ledger (--blob-min-free-bytes)");
    thttp_free(&h);
    CHECK(!stored(a, sizeof a));
    char blobs[128];
    snprintf(blobs, sizeof blobs, "%s/blobs", dir);
    gt_key k;
    gt_addr who;
    uint64_t used = 1;
    tkey(1, &k, &who);
    CHECK_EQ_INT(gt_blob_usage(blobs, &who, &used, NULL), 0);
    CHECK_EQ_U64(used, 0); /* refused before a byte was charged */
    curl_easy_cleanup(c);
    gt_node_stop(n);
    trm(dir);
}

/* Over the per-address limit a connection is told 429 (JSON) and closed;
 * once others close, new connections are served again. */
static void test_connection_limit(void) {
    gt_node *n = limited_node(0, 2, 0, 0);
    uint16_t port = gt_node_port(n);
    int a = tconnect(port), b = tconnect(port);
    const char *get = "GET /v1/head HTTP/1.1\r\nHost: localhost\r\n\r\n";
    char buf[4096];
    size_t len = 0;
    /* make sure both are open on the server's side before the third */
    CHECK(write(a, get, strlen(get)) > 0 && tread_until(a, buf, sizeof buf, &len, "}", 5000, NULL));
    len = 0;
    CHECK(write(b, get, strlen(get)) > 0 && tread_until(b, buf, sizeof buf, &len, "}", 5000, NULL));
    int third = tconnect(port);
    len = 0;
    CHECK(write(third, get, strlen(get)) > 0);
    int eof = 0;
    tread_until(third, buf, sizeof buf, &len, NULL, 5000, &eof);
    CHECK_CONTAINS(buf, "HTTP/1.1 429");
    CHECK_CONTAINS(buf, "\"code\":\"ELIMIT\"");
    CHECK_CONTAINS(buf, "2 from one address");
    CHECK(eof); /* and closed */
    close(third);
    close(a);
    /* the server notices the close on its own time: retry for a while */
    int ok = 0;
    CURL *c = curl_easy_init();
    for (int i = 0; i < 100 && !ok; i++) {
        thttp h;
        ok = tget(c, port, "/v1/head", &h) == 200;
        thttp_free(&h);
        if (!ok) nanosleep(&(struct timespec){0, 50 * 1000 * 1000}, NULL);
    }
    CHECK(ok);
    curl_easy_cleanup(c);
    close(b);
    gt_node_stop(n);
    trm(dir);
}

/* The node's total: with room for 2 connections, a third is told 429. */
static void test_total_connection_limit(void) {
    gt_node_config cfg;
    gt_node_config_default(&cfg);
    cfg.home = thome(dir);
    cfg.listen = "127.0.0.1:0";
    cfg.threads = 2;
    cfg.access_log = 0;
    cfg.max_connections = 2;
    gt_node *n = NULL;
    gt_err err = {0};
    CHECK_MSG(gt_node_start(&cfg, &n, &err) == 0, "%s", err.msg);
    if (!n) return;
    uint16_t port = gt_node_port(n);
    const char *get = "GET /v1/head HTTP/1.1\r\nHost: localhost\r\n\r\n";
    char buf[4096];
    int fd[3];
    for (int i = 0; i < 3; i++) {
        size_t len = 0;
        fd[i] = tconnect(port);
        CHECK(write(fd[i], get, strlen(get)) > 0);
        CHECK(tread_until(fd[i], buf, sizeof buf, &len, "}", 5000, NULL));
        CHECK_CONTAINS(buf, i < 2 ? "HTTP/1.1 200" : "HTTP/1.1 429");
    }
    CHECK_CONTAINS(buf, "at most 2");
    for (int i = 0; i < 3; i++) close(fd[i]);
    gt_node_stop(n);
    trm(dir);
}

/* A connection to the node from source address `from` (127.0.0.0/8 all
 * reaches the loopback interface), or -1. */
static int tconnect_from(uint16_t port, const char *from) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in src = {.sin_family = AF_INET}, dst = {.sin_family = AF_INET, .sin_port = htons(port)};
    inet_pton(AF_INET, from, &src.sin_addr);
    inet_pton(AF_INET, "127.0.0.1", &dst.sin_addr);
    if (bind(fd, (struct sockaddr *)&src, sizeof src) != 0 || connect(fd, (struct sockaddr *)&dst, sizeof dst) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* The node's open connections (those over a limit included), and the
 * ones it counts against --max-connections. */
static unsigned conns_open(gt_node *n, unsigned *live) {
    unsigned used = 0;
    pthread_mutex_lock(&n->conns.mu);
    for (unsigned i = 0; i < n->conns.cap; i++) used += n->conns.slots[i].used != 0;
    if (live) *live = n->conns.live;
    pthread_mutex_unlock(&n->conns.mu);
    return used;
}

/* Waits (up to 5 s) until the node has `want` connections open; 1 if it did. */
static int wait_conns_open(gt_node *n, unsigned want) {
    for (int i = 0; i < 500; i++) {
        if (conns_open(n, NULL) == want) return 1;
        nanosleep(&(struct timespec){0, 10 * 1000 * 1000}, NULL);
    }
    return 0;
}

/* A client sending its headers a byte every 200 ms (inside the 1 s idle
 * timeout, which every byte restarts) is cut after --request-max-s (2 s),
 * and its connection's slot is freed; in both threading modes. */
static void header_trickle_case(unsigned threads) {
    gt_node *n = threads_node(threads, 0, 0, 1, 2);
    uint16_t port = gt_node_port(n);
    int fd = tconnect(port);
    const char *start = "GET /v1/head HTTP/1.1\r\nHost: localhost\r\n";
    CHECK(write(fd, start, strlen(start)) == (ssize_t)strlen(start));
    uint64_t t0 = tnow_ms();
    int eof = 0;
    char buf[256];
    for (int i = 0; i < 50 && !eof; i++) { /* 10 s at most */
        nanosleep(&(struct timespec){0, 200 * 1000 * 1000}, NULL);
        if (send(fd, "X", 1, MSG_NOSIGNAL) != 1) eof = 1;
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, 0) > 0 && read(fd, buf, sizeof buf) <= 0) eof = 1;
    }
    uint64_t took = tnow_ms() - t0;
    CHECK_MSG(eof, "still open after %llu ms of trickled headers", (unsigned long long)took);
    CHECK_MSG(took >= 1500 && took < 5000, "cut after %llu ms, expected about 2000", (unsigned long long)took);
    close(fd);
    CHECK(wait_conns_open(n, 0));
    /* a request sent at once on a new connection is served as ever */
    CURL *c = curl_easy_init();
    thttp h;
    CHECK_EQ_INT(tget(c, port, "/v1/head", &h), 200);
    thttp_free(&h);
    curl_easy_cleanup(c);
    gt_node_stop(n);
    trm(dir);
}

static void test_header_trickle_cut(void) {
    header_trickle_case(2);
    header_trickle_case(0);
}

/* Connections over one address's limit are not counted against the node's
 * total: with room for 2 and 1 per address, 127.0.0.1 holding one served
 * and two over its limit leaves 127.0.0.2 served; those two, silent, are
 * cut after GT_API_OVER_LIMIT_S. */
static void test_over_limit_not_counted(void) {
    gt_node_config cfg;
    gt_node_config_default(&cfg);
    cfg.home = thome(dir);
    cfg.listen = "127.0.0.1:0";
    cfg.threads = 2;
    cfg.access_log = 0;
    cfg.max_connections = 2;
    cfg.max_connections_per_ip = 1;
    gt_node *n = NULL;
    gt_err err = {0};
    CHECK_MSG(gt_node_start(&cfg, &n, &err) == 0, "%s", err.msg);
    if (!n) return;
    uint16_t port = gt_node_port(n);
    const char *get = "GET /v1/head HTTP/1.1\r\nHost: localhost\r\n\r\n";
    char buf[4096];
    size_t len = 0;
    int a = tconnect_from(port, "127.0.0.1");
    CHECK(write(a, get, strlen(get)) > 0 && tread_until(a, buf, sizeof buf, &len, "}", 5000, NULL));
    CHECK_CONTAINS(buf, "HTTP/1.1 200");
    int over[2] = {tconnect_from(port, "127.0.0.1"), tconnect_from(port, "127.0.0.1")};
    CHECK(wait_conns_open(n, 3)); /* all three seen by the node before the next */
    uint64_t t0 = tnow_ms();
    int d = tconnect_from(port, "127.0.0.2");
    CHECK_MSG(d >= 0, "cannot connect from 127.0.0.2: %s", strerror(errno));
    len = 0;
    CHECK(write(d, get, strlen(get)) > 0 && tread_until(d, buf, sizeof buf, &len, "}", 5000, NULL));
    CHECK_MSG(strstr(buf, "HTTP/1.1 200") != NULL, "127.0.0.2 was answered: %.60s", buf);
    unsigned live = 0;
    conns_open(n, &live);
    CHECK_EQ_INT((int)live, 2);
    for (int i = 0; i < 2; i++) {
        int eof = 0;
        len = 0;
        tread_until(over[i], buf, sizeof buf, &len, NULL, 5000, &eof);
        CHECK(eof);
        close(over[i]);
    }
    uint64_t took = tnow_ms() - t0;
    CHECK_MSG(took < GT_API_OVER_LIMIT_S * 1000 + 1500, "cut after %llu ms", (unsigned long long)took);
    close(a);
    close(d);
    gt_node_stop(n);
    trm(dir);
}

/* X-Request-Id: the client's when sane, ours otherwise; list pages bounded. */
static void test_request_id_and_pages(void) {
    gt_node *n = limited_node(0, 0, 0, 0);
    uint16_t port = gt_node_port(n);
    CURL *c = curl_easy_init();
    thttp h;
    treq_hdr(c, port, "GET", "/v1/head", NULL, 0, "X-Request-Id: trace-42.a:b_c", &h);
    CHECK_EQ_INT(h.status, 200);
    CHECK_STR(h.reqid, "trace-42.a:b_c");
    thttp_free(&h);
    treq_hdr(c, port, "GET", "/v1/head", NULL, 0, "X-Request-Id: has spaces\"and quotes", &h);
    CHECK(h.reqid[0] && !strstr(h.reqid, "spaces"));
    CHECK(strchr(h.reqid, '-') != NULL); /* ours: boot id and counter */
    thttp_free(&h);
    CHECK_EQ_INT(tget(c, port, "/v1/tasks?limit=100000", &h), 400);
    CHECK_CONTAINS(h.body, "limit");
    thttp_free(&h);
    CHECK_EQ_INT(tget(c, port, "/v1/blocks?limit=100000", &h), 400);
    thttp_free(&h);
    curl_easy_cleanup(c);
    gt_node_stop(n);
    trm(dir);
}

/* A POST /v1/actions from its own thread and connection. */
typedef struct post_job {
    uint16_t port;
    char *body;
    long status;
    int ok; /* the answer says "ok":true */
} post_job;

static void *post_thread(void *arg) {
    post_job *j = arg;
    CURL *c = curl_easy_init();
    thttp h;
    j->status = tpost(c, j->port, "/v1/actions", j->body, &h);
    j->ok = h.body && strstr(h.body, "\"ok\":true") != NULL;
    thttp_free(&h);
    curl_easy_cleanup(c);
    return NULL;
}

typedef struct hold_job {
    gt_node *node;
    post_job post;
    pthread_t th;
    int deferred;    /* the POST's connection was seen suspended */
    long get_status; /* GET /v1/head meanwhile, on another connection */
    int stop;        /* instead of the GET: stop the node from another thread */
    pthread_t stopper;
    _Atomic int stopped; /* gt_node_stop returned */
    int stopped_early;   /* ... while the submit still waited for the ledger */
} hold_job;

static void *stop_thread(void *arg) {
    hold_job *h = arg;
    gt_node_stop(h->node);
    atomic_store(&h->stopped, 1);
    return NULL;
}

/* The node's count of deferred submits once it is `want`, or after 5 s
 * what it is then. A submit is counted from its suspension until
 * libmicrohttpd completes its request, which may come just after its client
 * has read the answer. */
static int deferred_wait(gt_node *n, int want) {
    uint64_t end = tnow_ms() + 5000;
    while (atomic_load(&n->deferred_live) != want && tnow_ms() < end) {
        struct timespec ts = {0, 5 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    return atomic_load(&n->deferred_live);
}

/* Called with the ledger's state held, so no block can be written: a
 * submit sent now waits for the ledger. Meanwhile the one HTTP thread must
 * still answer another connection. */
static int hold_ledger(void *arg, gt_tx *tx, gt_err *err) {
    (void)tx, (void)err;
    hold_job *h = arg;
    pthread_create(&h->th, NULL, post_thread, &h->post);
    h->deferred = deferred_wait(h->node, 1) == 1;
    if (h->stop) { /* the stop must wait for the suspended submit, which the ledger answers once let go */
        pthread_create(&h->stopper, NULL, stop_thread, h);
        struct timespec ts = {0, 300 * 1000 * 1000};
        nanosleep(&ts, NULL);
        h->stopped_early = atomic_load(&h->stopped);
        return 0;
    }
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%u/v1/head", (unsigned)h->post.port);
    CURL *c = curl_easy_init();
    thttp g = {0};
    g.body = calloc(1, 1);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, thttp_write);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &g);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 3000L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    if (curl_easy_perform(c) == CURLE_OK) curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &h->get_status);
    thttp_free(&g);
    curl_easy_cleanup(c);
    return 0;
}

/* A node with one HTTP thread over a fresh home, and a signed mint as JSON
 * in *body (free()). */
static gt_node *one_thread_node(char **body) {
    gt_node *n = threads_node(1, 0, 0, 0, 0);
    gt_action a;
    gt_key k;
    gt_addr to;
    tkey(1, &k, &to);
    tcore(&a, &gt_kind_mint, 0, 0, &to, 5);
    *body = tjson(&a);
    return n;
}

/* A submit waits for its block to be written and synced, but holds no HTTP
 * thread meanwhile: with a single thread serving every connection, a GET on
 * another connection is answered while a POST /v1/actions waits for the
 * ledger (it was not: the thread sat in the submit, and every connection
 * it served waited behind it), and the POST is answered once the block is
 * written. */
static void test_submit_holds_no_thread(void) {
    char *body;
    gt_node *n = one_thread_node(&body);
    if (!n) return;
    gt_err err = {0};
    hold_job h = {.node = n, .post = {.port = gt_node_port(n), .body = body}};
    CHECK_EQ_INT(gt_ledger_read(n->ledger, hold_ledger, &h, &err), 0);
    pthread_join(h.th, NULL);
    CHECK_MSG(h.deferred, "the POST did not wait suspended");
    CHECK_EQ_INT((int)h.get_status, 200);
    CHECK_EQ_INT((int)h.post.status, 200);
    CHECK(h.post.ok);
    CHECK_EQ_INT(deferred_wait(n, 0), 0);
    free(body);
    gt_node_stop(n);
    trm(dir);
}

/* Stopping the node while a submit waits suspended for the ledger: the
 * stop waits for it (MHD must not be stopped with a suspended connection)
 * and the client gets its answer. */
static void test_stop_waits_for_deferred_submit(void) {
    char *body;
    gt_node *n = one_thread_node(&body);
    if (!n) return;
    gt_err err = {0};
    hold_job h = {.node = n, .post = {.port = gt_node_port(n), .body = body}, .stop = 1};
    CHECK_EQ_INT(gt_ledger_read(n->ledger, hold_ledger, &h, &err), 0);
    pthread_join(h.th, NULL);
    pthread_join(h.stopper, NULL);
    CHECK_MSG(h.deferred, "the POST did not wait suspended");
    CHECK_MSG(!h.stopped_early, "the node stopped while a submit waited");
    CHECK_EQ_INT((int)h.post.status, 200);
    CHECK(h.post.ok);
    free(body);
    trm(dir);
}

/* A client that sends a submit and goes away while it waits suspended
 * (closing its socket, or resetting it): the ledger still applies what it
 * queued, the answer that cannot be delivered is dropped and freed, and the
 * node goes on serving and stops without waiting for it. */
typedef struct gone_job {
    gt_node *node;
    const char *body;
    int reset;    /* close with a reset (SO_LINGER 0) instead of a FIN */
    int deferred; /* the POST's connection was seen suspended */
} gone_job;

static int hold_and_hang_up(void *arg, gt_tx *tx, gt_err *err) {
    (void)tx, (void)err;
    gone_job *g = arg;
    int fd = tconnect(gt_node_port(g->node));
    if (fd < 0) return 0;
    char req[4096];
    int len = snprintf(req, sizeof req,
                       "POST /v1/actions HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                       "Content-Length: %zu\r\n\r\n%s",
                       strlen(g->body), g->body);
    if (len > 0 && (size_t)len < sizeof req && write(fd, req, (size_t)len) == len)
        g->deferred = deferred_wait(g->node, 1) == 1;
    if (g->reset) {
        struct linger lg = {.l_onoff = 1, .l_linger = 0};
        setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    }
    close(fd);
    return 0;
}

static void client_gone_case(int reset) {
    char *body;
    gt_node *n = one_thread_node(&body);
    if (!n) return;
    gt_block h0, h1;
    gt_err err = {0};
    gt_key k;
    gt_addr to;
    gt_account a0, a1;
    tkey(1, &k, &to);
    CHECK_EQ_INT(gt_ledger_head(n->ledger, &h0, &err), 0);
    CHECK_EQ_INT(gt_ledger_account(n->ledger, &to, &a0, &err), 0);
    gone_job g = {.node = n, .body = body, .reset = reset};
    CHECK_EQ_INT(gt_ledger_read(n->ledger, hold_and_hang_up, &g, &err), 0);
    CHECK_MSG(g.deferred, "the POST did not wait suspended");
    CHECK_EQ_INT(deferred_wait(n, 0), 0); /* the dropped answer's request is completed and freed */
    CHECK_EQ_INT(gt_ledger_account(n->ledger, &to, &a1, &err), 0);
    CHECK_EQ_U64(a1.balance, a0.balance + 5); /* queued before the client left: applied */
    CHECK_EQ_INT(gt_ledger_head(n->ledger, &h1, &err), 0);
    CHECK(h1.height > h0.height);
    post_job again = {.port = gt_node_port(n), .body = body}; /* the one thread still serves: a replay is refused */
    post_thread(&again);
    CHECK_MSG(again.status >= 400 && again.status < 500, "replay answered %ld", again.status);
    CHECK(!again.ok);
    free(body);
    gt_node_stop(n);
    trm(dir);
}

static void test_client_gone_while_deferred(void) {
    client_gone_case(0);
    client_gone_case(1);
}

/* Out of memory at each of a submit's allocations in turn, on a node that
 * defers its submits (the request's state, the decoded action, the
 * ledger's queue entries, the answer; a submit the ledger cannot take is
 * answered from inside the handler): every POST is answered or its
 * connection closed at once, never left waiting; an answer that says
 * applied was applied, and nothing is applied twice; once memory is back
 * the node applies the next action. */
static void test_submit_out_of_memory(void) {
    gt_node *n = threads_node(1, 0, 0, 0, 0);
    uint16_t port = gt_node_port(n);
    gt_key k;
    gt_addr authority, to;
    tkey(0, &k, &authority);
    tkey(1, &k, &to);
    gt_err err = {0};
    gt_account acc;
    CHECK_EQ_INT(gt_ledger_account(n->ledger, &authority, &acc, &err), 0);
    uint64_t nonce = acc.nonce;
    int refused = 0, closed = 0, applied_unanswered = 0;
    CURL *c = curl_easy_init();
    for (long fail = 0; fail < 80; fail++) {
        gt_action a;
        tcore(&a, &gt_kind_mint, 0, nonce, &to, 1); /* signed before the hook is armed */
        char *body = tjson(&a);
        thttp h;
        uint64_t t0 = tnow_ms();
        gt_alloc_fail_after(fail);
        long st = tpost(c, port, "/v1/actions", body, &h);
        gt_alloc_fail_after(-1);
        CHECK_MSG(tnow_ms() - t0 < 10000, "allocation %ld failing: the POST waited %llu ms", fail,
                  (unsigned long long)(tnow_ms() - t0));
        int ok = st == 200 && h.body && strstr(h.body, "\"ok\":true") != NULL;
        CHECK_EQ_INT(gt_ledger_account(n->ledger, &authority, &acc, &err), 0);
        CHECK_MSG(acc.nonce == nonce || acc.nonce == nonce + 1, "allocation %ld failing: nonce %llu -> %llu", fail,
                  (unsigned long long)nonce, (unsigned long long)acc.nonce);
        if (ok) CHECK_MSG(acc.nonce == nonce + 1, "allocation %ld failing: answered applied, not applied", fail);
        refused += !ok && st != 0;
        closed += st == 0;
        applied_unanswered += !ok && acc.nonce == nonce + 1;
        nonce = acc.nonce;
        thttp_free(&h);
        free(body);
    }
    CHECK_MSG(refused > 0, "no allocation failure reached an answer");
    printf("   80 failing allocations: %d refused, %d connections closed, %d applied without an ok answer\n", refused,
           closed, applied_unanswered);
    gt_action a; /* memory back: applied */
    tcore(&a, &gt_kind_mint, 0, nonce, &to, 1);
    char *body = tjson(&a);
    thttp h;
    CHECK_EQ_INT((int)tpost(c, port, "/v1/actions", body, &h), 200);
    CHECK_CONTAINS(h.body, "\"ok\":true");
    CHECK_EQ_INT(deferred_wait(n, 0), 0);
    thttp_free(&h);
    free(body);
    curl_easy_cleanup(c);
    gt_node_stop(n);
    trm(dir);
}

int main(void) {
    signal(SIGPIPE, SIG_IGN); /* a write to a connection the node closed fails (eof), it does not kill the test */
    curl_global_init(CURL_GLOBAL_DEFAULT);
    RUN(test_upload_authorisation);
    RUN(test_upload_quota);
    RUN(test_store_cap);
    RUN(test_store_cap_known_arriving);
    RUN(test_quota_counts_arriving);
    RUN(test_store_reservations_return);
    RUN(test_store_free_floor);
    RUN(test_known_reupload_holds_nothing);
    RUN(test_set_aside_uncharged);
    RUN(test_upload_oversize);
    RUN(test_partial_upload_leaves_no_file);
    RUN(test_connection_limit);
    RUN(test_total_connection_limit);
    RUN(test_header_trickle_cut);
    RUN(test_over_limit_not_counted);
    RUN(test_request_id_and_pages);
    RUN(test_submit_holds_no_thread);
    RUN(test_stop_waits_for_deferred_submit);
    RUN(test_client_gone_while_deferred);
    RUN(test_submit_out_of_memory);
    curl_global_cleanup();
    return gt_test_finish();
}
