/* test_api_uploads.c: a real `gotong node` (a child process) under 100
 * concurrent, slow, 1 MiB uploads: every upload is acknowledged with the
 * right id, the node's resident memory grows by less than UPLOAD_RSS_LIMIT_MB
 * over its idle size (VmHWM against VmRSS before, from /proc), though 100 MiB
 * are in flight at once (the node used to hold each body whole in memory),
 * and after SIGTERM every acknowledged blob is on disk, intact, with no
 * upload left in blobs/tmp. The node logs JSON (--log-format json): every
 * line parses, and each request has one line with its request id (the
 * client's X-Request-Id when given), method, path, status, bytes and
 * duration_ms. */
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "../test.h"
#include "../node_child.h"
#include "api_util.h"
#include "base/limits.h"
#include "store/blob.h"

#define N_UPLOADS 100
#define UPLOAD_BYTES (1024 * 1024)
#define CHUNK_BYTES (64 * 1024)
#define N_UPLOADERS 10
/* The stated bound: resident memory may grow this much with 100 MiB of
 * uploads in flight (MHD's per-connection buffers, threads, SQLite). */
#define UPLOAD_RSS_LIMIT_MB 32

static char dir[64];

/* Byte `off` of upload i: deterministic, so the test never holds a blob. */
static void fill(int i, size_t off, uint8_t *out, size_t n) {
    for (size_t k = 0; k < n; k++) {
        uint64_t x = (uint64_t)(off + k) * 2654435761u + (uint64_t)i * 40503u;
        out[k] = (uint8_t)(x >> 13);
    }
}

/* The SHA-256 of upload i. */
static void upload_hash(int i, uint8_t out[32]) {
    gt_sha256_ctx s;
    uint8_t buf[CHUNK_BYTES];
    if (gt_sha256_init(&s)) abort();
    for (size_t off = 0; off < UPLOAD_BYTES; off += CHUNK_BYTES) {
        fill(i, off, buf, CHUNK_BYTES);
        gt_sha256_update(&s, buf, CHUNK_BYTES);
    }
    gt_sha256_final(&s, out);
}

/* Starts `gotong node` with JSON logs into dir/node.log; *port gets its port (0: it did not start). */
static pid_t start_node(uint16_t *port) {
    static const char *const args[] = {"--block-interval-ms", "0", "--threads", "4", "--log-format", "json", "--log-level", "info", NULL};
    char log[128], url[128];
    snprintf(log, sizeof log, "%s/node.log", dir);
    pid_t pid = gt_test_node_start_args(dir, args, log, url, sizeof url);
    const char *colon = pid > 0 ? strrchr(url, ':') : NULL;
    *port = colon ? (uint16_t)atoi(colon + 1) : 0;
    return pid;
}


/* Opens upload i and sends its headers (permit of uploader 1 + i % N_UPLOADERS). */
static int open_upload(uint16_t port, int i, const uint8_t hash[32]) {
    gt_key k;
    gt_addr a;
    tkey(1 + i % N_UPLOADERS, &k, &a);
    gt_blob_permit p = {.size = UPLOAD_BYTES, .expiry_s = (uint64_t)time(NULL) + 600};
    memcpy(p.hash, hash, 32);
    if (gt_blob_permit_sign(&p, &k, TDOM.chain_id, TDOM.salt, NULL)) abort();
    char auth[GT_BLOB_PERMIT_HEADER_MAX], req[GT_BLOB_PERMIT_HEADER_MAX + 200];
    gt_blob_permit_format(&p, auth, sizeof auth);
    snprintf(req, sizeof req,
             "POST /v1/blobs HTTP/1.1\r\nHost: localhost\r\nAuthorization: %s\r\nContent-Length: %d\r\n"
             "X-Request-Id: upload-%d\r\n\r\n",
             auth, UPLOAD_BYTES, i);
    int fd = tconnect(port);
    if (fd < 0 || write(fd, req, strlen(req)) != (ssize_t)strlen(req)) return -1;
    return fd;
}

/* Sends every upload's body a chunk at a time, round-robin, pausing between
 * rounds, so all of them are in flight together; *peak_kb gets the largest
 * VmRSS seen meanwhile. Returns the number of chunks that could not be sent. */
static int send_bodies(pid_t pid, const int fd[N_UPLOADS], long *peak_kb) {
    uint8_t buf[CHUNK_BYTES];
    int failed = 0;
    for (size_t off = 0; off < UPLOAD_BYTES; off += CHUNK_BYTES) {
        for (int i = 0; i < N_UPLOADS; i++) {
            fill(i, off, buf, CHUNK_BYTES);
            size_t done = 0;
            while (done < CHUNK_BYTES) {
                ssize_t w = write(fd[i], buf + done, CHUNK_BYTES - done);
                if (w <= 0) break;
                done += (size_t)w;
            }
            failed += done != CHUNK_BYTES;
        }
        long kb = gt_test_proc_kb(pid, "VmRSS");
        if (kb > *peak_kb) *peak_kb = kb;
        nanosleep(&(struct timespec){0, 20 * 1000 * 1000}, NULL);
    }
    return failed;
}

/* Bytes of the dashboard's page as the client received them, which its log
 * line (request id "web-log-test") must count. */
static size_t web_page_bytes;

/* Checks the node's JSON log: every line parses with ts and level; the
 * request lines carry their fields; returns how many were 201 uploads. */
static int check_log(const char *want_id) {
    char path[128], line[4096];
    snprintf(path, sizeof path, "%s/node.log", dir);
    FILE *f = fopen(path, "r");
    CHECK(f != NULL);
    int uploads = 0, seen = 0, seen_web = 0, lines = 0, bad = 0;
    while (f && fgets(line, sizeof line, f)) {
        lines++;
        json_t *j = json_loads(line, 0, NULL);
        if (!j || !json_is_string(json_object_get(j, "ts")) || !json_is_string(json_object_get(j, "level"))) {
            if (!bad++) fprintf(stderr, "not a JSON log line: %s", line);
            json_decref(j);
            continue;
        }
        const char *id = json_string_value(json_object_get(j, "request_id"));
        const char *path_s = json_string_value(json_object_get(j, "path"));
        int status = (int)json_integer_value(json_object_get(j, "status"));
        if (id && path_s && !strcmp(path_s, "/v1/blobs") && status == 201 && !strncmp(id, "upload-", 7)) uploads++;
        if (id && !strcmp(id, "web-log-test")) {
            seen_web++;
            CHECK_EQ_INT(json_integer_value(json_object_get(j, "bytes")), (long long)web_page_bytes);
        }
        if (id && !strcmp(id, want_id)) {
            seen++;
            CHECK_STR(json_string_value(json_object_get(j, "method")), "GET");
            CHECK_STR(path_s, "/v1/head");
            CHECK_EQ_INT(status, 200);
            CHECK(json_integer_value(json_object_get(j, "bytes")) > 0);
            CHECK(json_is_number(json_object_get(j, "duration_ms")));
        }
        json_decref(j);
    }
    if (f) fclose(f);
    CHECK(lines > N_UPLOADS);
    CHECK_EQ_INT(bad, 0);
    CHECK_EQ_INT(seen, 1);
    CHECK_EQ_INT(seen_web, 1);
    return uploads;
}

/* Mints funds to the uploaders (keys 1..N_UPLOADERS). */
static void fund_uploaders(CURL *c, uint16_t port) {
    for (int k = 1; k <= N_UPLOADERS; k++) CHECK_EQ_INT(tmint(c, port, (uint64_t)k - 1, k, 5000000), 200);
}

/* Reads every upload's response: 201 with the blob's id. Returns how many. */
static int read_responses(const int fd[N_UPLOADS], uint8_t hash[N_UPLOADS][32]) {
    int acked = 0;
    for (int i = 0; i < N_UPLOADS; i++) {
        char buf[2048], want[GT_BLOB_ID_BYTES];
        size_t len = 0;
        gt_blob_id_format(hash[i], want);
        if (fd[i] >= 0 && tread_until(fd[i], buf, sizeof buf, &len, "}", 60000, NULL) && strstr(buf, "HTTP/1.1 201") &&
            strstr(buf, want))
            acked++;
        else
            fprintf(stderr, "upload %d: %.300s\n", i, fd[i] >= 0 ? buf : "(no connection)");
        if (fd[i] >= 0) close(fd[i]);
    }
    return acked;
}

/* After the node stopped: every blob on disk, intact; no upload left over. */
static void check_store(uint8_t hash[N_UPLOADS][32]) {
    char blobs[128], tmp[160];
    snprintf(blobs, sizeof blobs, "%s/blobs", dir);
    int intact = 0;
    for (int i = 0; i < N_UPLOADS; i++) {
        char id[GT_BLOB_ID_BYTES];
        uint8_t *data = NULL;
        size_t len = 0;
        gt_blob_id_format(hash[i], id);
        intact += gt_blob_get(blobs, id, &data, &len, NULL) == 0 && len == UPLOAD_BYTES;
        gt_free(data);
    }
    CHECK_EQ_INT(intact, N_UPLOADS);
    snprintf(tmp, sizeof tmp, "rmdir %s/tmp 2>/dev/null", blobs); /* fails unless empty */
    CHECK_EQ_INT(system(tmp), 0);
}

static void test_concurrent_uploads(void) {
    thome(dir);
    uint16_t port = 0;
    pid_t pid = start_node(&port);
    CHECK(port != 0);
    if (!port) return;
    CURL *c = curl_easy_init();
    fund_uploaders(c, port);
    static uint8_t hash[N_UPLOADS][32];
    int fd[N_UPLOADS];
    for (int i = 0; i < N_UPLOADS; i++) upload_hash(i, hash[i]);
    long idle_kb = gt_test_proc_kb(pid, "VmRSS"), peak_kb = 0;
    for (int i = 0; i < N_UPLOADS; i++) fd[i] = open_upload(port, i, hash[i]);
    CHECK_EQ_INT(send_bodies(pid, fd, &peak_kb), 0);
    CHECK_EQ_INT(read_responses(fd, hash), N_UPLOADS);
    long hwm_kb = gt_test_proc_kb(pid, "VmHWM");
    fprintf(stderr, "node memory: idle VmRSS %ld kB, VmRSS peak sampled %ld kB, VmHWM %ld kB: grew %ld kB with "
                    "%d x %d bytes in flight (limit %d MiB)\n",
            idle_kb, peak_kb, hwm_kb, hwm_kb - idle_kb, N_UPLOADS, UPLOAD_BYTES, UPLOAD_RSS_LIMIT_MB);
    CHECK(idle_kb > 0 && hwm_kb > 0);
    CHECK(hwm_kb - idle_kb < UPLOAD_RSS_LIMIT_MB * 1024L);
    thttp h;
    treq_hdr(c, port, "GET", "/v1/head", NULL, 0, "X-Request-Id: json-log-test", &h);
    CHECK_EQ_INT(h.status, 200);
    CHECK_STR(h.reqid, "json-log-test");
    thttp_free(&h);
    treq_hdr(c, port, "GET", "/", NULL, 0, "X-Request-Id: web-log-test", &h); /* a handler-built response */
    CHECK_EQ_INT(h.status, 200);
    web_page_bytes = h.len;
    CHECK(web_page_bytes > 0);
    thttp_free(&h);
    curl_easy_cleanup(c);
    kill(pid, SIGTERM);
    int st = 0;
    waitpid(pid, &st, 0);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    check_store(hash);
    CHECK_EQ_INT(check_log("json-log-test"), N_UPLOADS);
    trm(dir);
}

int main(void) {
    curl_global_init(CURL_GLOBAL_DEFAULT);
    signal(SIGPIPE, SIG_IGN);
    RUN(test_concurrent_uploads);
    curl_global_cleanup();
    return gt_test_finish();
}
