/* test_api_cli.c: `gotong node` as a child process: it announces its port,
 * serves requests, refuses a second node on the same home, and on SIGTERM
 * ends its event streams and exits 0 with everything acknowledged durable. */
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>

#include "../test.h"
#include <sys/stat.h>

#include "../node_child.h"
#include "api_util.h"

static char dir[64];

/* Runs `gotong node ARGS...`, stdout to a pipe; returns the pid, *out_fd the pipe. */
static pid_t spawn(char *const argv[], int *out_fd) {
    int p[2];
    if (pipe(p)) abort();
    pid_t pid = fork();
    if (pid == 0) {
        dup2(p[1], 1);
        close(p[0]);
        close(p[1]);
        execv(GT_CLI, argv);
        _exit(127);
    }
    close(p[1]);
    *out_fd = p[0];
    return pid;
}

/* Waits up to timeout_ms for pid; returns its wait status or -1. */
static int wait_exit(pid_t pid, int timeout_ms) {
    uint64_t end = tnow_ms() + (uint64_t)timeout_ms;
    int st;
    while (tnow_ms() < end) {
        if (waitpid(pid, &st, WNOHANG) == pid) return st;
        struct timespec ts = {0, 10000000};
        nanosleep(&ts, NULL);
    }
    kill(pid, SIGKILL);
    waitpid(pid, &st, 0);
    return -1;
}

/* Runs the CLI to completion; returns the exit code, output in buf. */
static int run_cli(const char *args, char *buf, size_t cap) {
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "%s %s 2>&1", GT_CLI, args);
    FILE *f = popen(cmd, "r");
    size_t n = fread(buf, 1, cap - 1, f);
    buf[n] = 0;
    int st = pclose(f);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* --help, a usage error (2), a failure to start (1). */
static void test_help_and_usage(void) {
    char out[4096];
    CHECK_EQ_INT(run_cli("node --help", out, sizeof out), 0);
    CHECK_CONTAINS(out, "usage: gotong node");
    CHECK_CONTAINS(out, "--listen");
    CHECK_EQ_INT(run_cli("node --threads x", out, sizeof out), 2);
    CHECK_CONTAINS(out, "--threads");
    CHECK_EQ_INT(run_cli("node --log-format xml", out, sizeof out), 2);
    CHECK_CONTAINS(out, "expected text or json");
    CHECK_EQ_INT(run_cli("node --max-connections-per-ip 0", out, sizeof out), 2);
    CHECK_CONTAINS(out, "--max-connections-per-ip");
    CHECK_EQ_INT(run_cli("node --home /nonexistent/gotong-home --listen 127.0.0.1:0", out, sizeof out), 1);
    CHECK_CONTAINS(out, "gotong init");
}

/* Serve, refuse a second node, SIGTERM: exit 0, streams closed, data durable. */
static void test_serve_and_sigterm(void) {
    thome(dir);
    char *argv[] = {"gotong", "node", "--home", dir, "--listen", "127.0.0.1:0", "--quiet", NULL};
    int fd;
    pid_t pid = spawn(argv, &fd);
    char line[256];
    size_t len = 0;
    CHECK(tread_until(fd, line, sizeof line, &len, "\n", 20000, NULL));
    CHECK_CONTAINS(line, "listening on http://127.0.0.1:");
    const char *colon = strrchr(line, ':');
    uint16_t port = colon ? (uint16_t)atoi(colon + 1) : 0;
    CHECK(port != 0);
    CURL *c = curl_easy_init();
    thttp h;
    CHECK_EQ_INT(tget(c, port, "/v1/head", &h), 200);
    CHECK_CONTAINS(h.body, "\"height\":0");
    thttp_free(&h);
    gt_action a;
    gt_addr to;
    gt_key k;
    tkey(1, &k, &to);
    tcore(&a, &gt_kind_mint, 0, 0, &to, 42);
    char *s = tjson(&a);
    CHECK_EQ_INT(tpost(c, port, "/v1/actions", s, &h), 200);
    free(s);
    thttp_free(&h);
    /* a second node on the same home is refused, naming the running one */
    char out[2048], args[256], want[64];
    snprintf(args, sizeof args, "node --home %s --listen 127.0.0.1:0", dir);
    CHECK_EQ_INT(run_cli(args, out, sizeof out), 1);
    CHECK_CONTAINS(out, "in use by another node");
    snprintf(want, sizeof want, "pid %ld, port %u", (long)pid, (unsigned)port);
    CHECK_CONTAINS(out, want);
    /* an open event stream ends with the node */
    int es = tconnect(port);
    const char *req = "GET /v1/events HTTP/1.1\r\nHost: localhost\r\n\r\n";
    CHECK(write(es, req, strlen(req)) == (ssize_t)strlen(req));
    static char ev[8192];
    size_t evlen = 0;
    CHECK(tread_until(es, ev, sizeof ev, &evlen, ": connected", 5000, NULL));
    CHECK_EQ_INT(kill(pid, SIGTERM), 0);
    int st = wait_exit(pid, 15000);
    CHECK(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0);
    int eof = 0;
    tread_until(es, ev, sizeof ev, &evlen, NULL, 3000, &eof);
    CHECK(eof);
    close(es);
    close(fd);
    CHECK(tconnect(port) < 0);
    /* the acknowledged mint is durable */
    char path[128];
    snprintf(path, sizeof path, "%s/ledger.db", dir);
    gt_ledger *l = NULL;
    CHECK_EQ_INT(gt_ledger_open(path, GT_LEDGER_READONLY, &l, NULL), 0);
    gt_account acc;
    if (l) {
        CHECK_EQ_INT(gt_ledger_account(l, &to, &acc, NULL), 0);
        CHECK_EQ_U64(acc.balance, 42);
    }
    gt_ledger_close(l);
    curl_easy_cleanup(c);
    trm(dir);
}

/* One node per port: a second node (another home) on a bound port fails
 * with a clear error, and the first keeps serving its own ledger. Once the
 * first stops, its home's lock is free again. */
static void test_port_in_use(void) {
    char home1[64], home2[64], url[128], out[2048], args[512];
    thome(home1);
    thome(home2);
    pid_t pid = gt_test_node_start(home1, "0", url, sizeof url);
    CHECK(pid > 0);
    const char *colon = strrchr(url, ':');
    unsigned port = colon ? (unsigned)atoi(colon + 1) : 0;
    CHECK(port != 0);
    snprintf(args, sizeof args, "node --home %s --listen 127.0.0.1:%u --quiet", home2, port);
    CHECK_EQ_INT(run_cli(args, out, sizeof out), 1);
    CHECK_CONTAINS(out, "the address is in use");
    CHECK_CONTAINS(out, "--listen");
    CURL *c = curl_easy_init();
    thttp h;
    CHECK_EQ_INT(tget(c, (uint16_t)port, "/v1/head", &h), 200);
    thttp_free(&h);
    curl_easy_cleanup(c);
    int st = gt_test_node_stop(pid);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    /* the lock went with it: the same home serves again, the file names no one */
    pid = gt_test_node_start(home1, "0", url, sizeof url);
    CHECK(pid > 0);
    st = gt_test_node_stop(pid);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    char path[128];
    snprintf(path, sizeof path, "%s/node.lock", home1);
    struct stat sb;
    CHECK_EQ_INT(stat(path, &sb), 0);
    CHECK_EQ_INT((int)sb.st_size, 0);
    trm(home1);
    trm(home2);
}

/* Starts a node on home at log level, waits for its "listening" line, stops
 * it, and reads what it wrote on stderr into out. 0 or -1. */
static int node_stderr(const char *home, const char *level, char *out, size_t cap) {
    char errpath[128], line[256];
    snprintf(errpath, sizeof errpath, "%s/node.stderr", home);
    int p[2];
    if (pipe(p)) return -1;
    pid_t pid = fork();
    if (pid == 0) {
        int fd = open(errpath, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        dup2(p[1], 1);
        dup2(fd, 2);
        close(p[0]);
        execl(GT_CLI, GT_CLI, "node", "--home", home, "--listen", "127.0.0.1:0", "--log-level", level, (char *)NULL);
        _exit(127);
    }
    close(p[1]);
    size_t len = 0;
    int up = tread_until(p[0], line, sizeof line, &len, "\n", 20000, NULL);
    kill(pid, SIGTERM);
    waitpid(pid, NULL, 0);
    close(p[0]);
    FILE *f = fopen(errpath, "r");
    size_t n = f ? fread(out, 1, cap - 1, f) : 0;
    out[n] = 0;
    if (f) fclose(f);
    return up && strstr(line, "listening on") ? 0 : -1;
}

/* GET /health answers while the node serves; --log-level sets what the node
 * logs (warn: not the info line it writes when it starts serving). */
static void test_health_and_log_level(void) {
    char home[64], url[128], out[8192];
    thome(home);
    pid_t pid = gt_test_node_start(home, "0", url, sizeof url);
    CHECK(pid > 0);
    const char *colon = strrchr(url, ':');
    uint16_t port = colon ? (uint16_t)atoi(colon + 1) : 0;
    CURL *c = curl_easy_init();
    thttp h;
    CHECK_EQ_INT(tget(c, port, "/health", &h), 200);
    CHECK_CONTAINS(h.body, "\"status\":\"ok\"");
    CHECK_CONTAINS(h.body, "\"head\":0");
    thttp_free(&h);
    CHECK_EQ_INT(tget(c, port, "/health?x=1", &h), 400); /* no parameters */
    thttp_free(&h);
    curl_easy_cleanup(c);
    gt_test_node_stop(pid);
    CHECK_EQ_INT(run_cli("node --log-level loud", out, sizeof out), 2);
    CHECK_CONTAINS(out, "expected debug, info, warn or error");
    /* the info line "node: serving" is logged before "listening on" is printed */
    CHECK(!node_stderr(home, "info", out, sizeof out) && strstr(out, "node: serving") != NULL);
    CHECK(!node_stderr(home, "warn", out, sizeof out) && strstr(out, "node: serving") == NULL);
    trm(home);
}

/* A URL cannot write a line of its own into the node's text access log: its
 * path is logged decoded, so a %0d%0a in it used to end the request's line
 * and start one of the client's making (here a forged "POST /v1/actions ->
 * 200"); the bytes outside printable ASCII are now written '?'. */
static void test_access_log_forging(void) {
    char home[64], url[128], log[128], text[8192];
    thome(home);
    snprintf(log, sizeof log, "%s/node.log", home);
    const char *const args[] = {"--block-interval-ms", "0", "--log-level", "info", NULL};
    pid_t pid = gt_test_node_start_args(home, args, log, url, sizeof url);
    CHECK(pid > 0);
    const char *colon = strrchr(url, ':');
    uint16_t port = colon ? (uint16_t)atoi(colon + 1) : 0;
    CURL *c = curl_easy_init();
    thttp h;
    CHECK_EQ_INT(tget(c, port, "/v1/x%0d%0a[info]%20req=forged-1%20POST%20/v1/actions%20-%3E%20200%201.00ms", &h),
                 404);
    thttp_free(&h);
    curl_easy_cleanup(c);
    CHECK_EQ_INT(gt_test_node_stop(pid), 0);
    FILE *f = fopen(log, "r");
    size_t n = f ? fread(text, 1, sizeof text - 1, f) : 0;
    text[n] = 0;
    if (f) fclose(f);
    CHECK_MSG(!strstr(text, "\n[info] req=forged-1"), "a forged line in the log:\n%s", text);
    CHECK_CONTAINS(text, " GET /v1/x??[info] req=forged-1 POST /v1/actions -> 200 1.00ms -> 404 ");
    trm(home);
}

/* Runs the CLI tests; the CLI must be built. */
int main(void) {
    if (access(GT_CLI, X_OK) != 0) {
        fprintf(stderr, "the CLI %s is not built (cmake --build ... --target gotong)\n", GT_CLI);
        return 1;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    RUN(test_help_and_usage);
    RUN(test_serve_and_sigterm);
    RUN(test_port_in_use);
    RUN(test_health_and_log_level);
    RUN(test_access_log_forging);
    curl_global_cleanup();
    return gt_test_finish();
}
