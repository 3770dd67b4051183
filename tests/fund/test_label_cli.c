/* test_label_cli.c: `gotong label` against a `gotong node` child over HTTP
 * (the /v1/label routes and POST /v1/actions): a poster posts a task from an
 * items file with a hidden gold item; an unattested address is refused a
 * seat; two attested humans join and label in the plain line mode (stdin is
 * not a terminal), one after a bad line and one after quitting once; both
 * reveal, the poster closes, and the export is rebuilt by the CLI, checked
 * against the ledger's root and loadable as DPO data; the API's refusals of
 * bad parameters; `label join` refusing terms a person cannot meet (a short
 * window, a bond far over the pay) unless the labeller accepts them; a
 * commit whose answer is lost (a proxy drops it) keeps its opening. The ledger is prepared in process (an issuer and its
 * attestations), then the node takes it over. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* memmem, strcasestr */
#endif
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>

#include "fund_util.h"

#include "../node_child.h"
#include "crypto/keystore.h"

static char url[160], pwfile[128];

/* Runs `[printf INPUT |] gotong label ARGS --node URL --home DIR
 * --password-file F --from ADDR` as `who`; exit code, output in out. */
static int run_cli(const char *what, int who, const char *input, char *out, size_t cap, const char *fmt, ...) {
    char args[1024], cmd[3072];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    snprintf(cmd, sizeof cmd, "%s%s%s%s %s %s --node %s --home %s --password-file %s --from %s 2>&1 </dev/null",
             input ? "printf '" : "", input ? input : "", input ? "' | " : "", GT_CLI, what, args, url, dir, pwfile, ad(who));
    if (input) { /* stdin from the pipe, not /dev/null */
        char *p = strstr(cmd, " </dev/null");
        if (p) *p = 0;
    }
    FILE *f = popen(cmd, "r");
    if (!f) return -1;
    size_t n = fread(out, 1, cap - 1, f);
    out[n] = 0;
    int st = pclose(f);
    int code = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    if (getenv("FUND_TEST_VERBOSE")) fprintf(stderr, "$ gotong %s %s -> %d\n%s", what, args, code, out);
    return code;
}
#define label_cli(...) run_cli("label", __VA_ARGS__)

/* The HTTP status of GET route (curl), or 0 when curl is not there. */
static int http_status(const char *route) {
    char cmd[512], out[16] = "";
    snprintf(cmd, sizeof cmd, "curl -s -o /dev/null -w '%%{http_code}' '%s%s' 2>/dev/null", url, route);
    FILE *f = popen(cmd, "r");
    if (!f) return 0;
    size_t n = fread(out, 1, sizeof out - 1, f);
    out[n] = 0;
    pclose(f);
    return atoi(out);
}

/* The node's head block's time (GET /v1/head through curl), or 0 when curl
 * is not there. */
static long long head_time_s(void) {
    char cmd[256], out[256] = "";
    snprintf(cmd, sizeof cmd, "curl -s '%s/v1/head' 2>/dev/null", url);
    FILE *f = popen(cmd, "r");
    if (!f) return 0;
    size_t n = fread(out, 1, sizeof out - 1, f);
    out[n] = 0;
    pclose(f);
    const char *t = strstr(out, "\"time\":");
    return t ? atoll(t + 7) : 0;
}

static void save_keys(void) {
    snprintf(pwfile, sizeof pwfile, "%s/pw", dir);
    FILE *f = fopen(pwfile, "w");
    CHECK(f != NULL);
    if (f) fputs("test-password\n", f), fclose(f);
    gt_kdf_params kp = {GT_KDF_LIGHT_N, GT_KDF_DEFAULT_R, GT_KDF_LIGHT_P};
    int who[] = {ALICE, V1, X0, X0 + 1, X0 + 2};
    for (size_t i = 0; i < sizeof who / sizeof who[0]; i++) {
        char p[512];
        gt_err err = {0};
        CHECK_EQ_INT(gt_keystore_save(dir, &K[who[i]], "test-password", &kp, p, sizeof p, &err), 0);
    }
}

/* Three items: 0 and 2 plain (2 and 3 answers), 1 gold (answer 0). */
static void write_items(char *file, size_t cap) {
    snprintf(file, cap, "%s/items.json", dir);
    FILE *f = fopen(file, "w");
    CHECK(f != NULL);
    if (!f) return;
    fputs("{\"name\":\"cli prefs\",\"items\":["
          "{\"prompt\":\"Capital of France?\",\"answers\":[\"Paris\",\"Lyon\"]},"
          "{\"prompt\":\"2+2?\",\"answers\":[\"4\",\"5\"],\"gold\":0},"
          "{\"prompt\":\"Say hello\",\"answers\":[\"hi\",\"Hello!\",\"go away\"]}]}\n",
          f);
    fclose(f);
}

/* A ranking task's items: 0 and 2 plain (three answers), 1 gold (two
 * answers, right order 1 then 0); bad_gold: item 1's gold names answer 1
 * twice. */
static void write_rank_items(char *file, size_t cap, int bad_gold) {
    snprintf(file, cap, "%s/rank%d.json", dir, bad_gold);
    FILE *f = fopen(file, "w");
    CHECK(f != NULL);
    if (!f) return;
    fprintf(f,
            "{\"name\":\"cli ranks\",\"items\":["
            "{\"prompt\":\"Best fruit?\",\"answers\":[\"apple\",\"mango\",\"rock\"]},"
            "{\"prompt\":\"Larger?\",\"answers\":[\"1\",\"2\"],\"gold\":\"%s\"},"
            "{\"prompt\":\"Greeting?\",\"answers\":[\"hey\",\"bye\",\"hello\"]}]}\n",
            bad_gold ? "11" : "10");
    fclose(f);
}

/* A ranking task through the CLI and the node: the orders typed as answer
 * numbers best first (the last implied when left out), a bad order told and
 * asked again, a gold that is not an order refused before anything is sent;
 * both labellers agree: items 0 and 2 get orders 102 and 201, 3 + 3 lines. */
static void rank_flow(void) {
    char items[256], out[16384], id[67] = "";
    write_rank_items(items, sizeof items, 1);
    CHECK_EQ_INT(label_cli(ALICE, NULL, out, sizeof out, "post --ranking --file %s --labellers 2", items), 1);
    CHECK_CONTAINS(out, "gold at item 1: expected '-' or an order of its 2 answers");
    write_rank_items(items, sizeof items, 0);
    CHECK_EQ_INT(label_cli(ALICE, NULL, out, sizeof out, "post --ranking --file %s --labellers 2 --pay 0.01", items),
                 0);
    CHECK_CONTAINS(out, "(a ranking task)");
    const char *p = strstr(out, "task 0x");
    if (p) snprintf(id, sizeof id, "%.66s", p + 5);
    CHECK_EQ_INT((int)strlen(id), 66);
    CHECK_EQ_INT(label_cli(X0, NULL, out, sizeof out, "join %s", id), 0);
    CHECK_EQ_INT(label_cli(X0 + 1, NULL, out, sizeof out, "join %s", id), 0);
    CHECK_EQ_INT(label_cli(X0, "11 twice\\n21 mango first\\n21\\n312\\n", out, sizeof out, "%s", id), 0);
    CHECK_CONTAINS(out, "the answers from best to worst (each of 1-3 once");
    CHECK_CONTAINS(out, "expected the answers 1-3 from best to worst, each once");
    CHECK_CONTAINS(out, "item 1: order 2 1 3 committed");
    CHECK_CONTAINS(out, "item 3: order 3 1 2 committed");
    CHECK_EQ_INT(label_cli(X0 + 1, "213\\n2\\n312\\n", out, sizeof out, "%s", id), 0);
    CHECK_CONTAINS(out, "item 2: order 2 1 committed");
    CHECK_EQ_INT(label_cli(X0, NULL, out, sizeof out, "reveal %s", id), 0);
    CHECK_EQ_INT(label_cli(X0 + 1, NULL, out, sizeof out, "reveal %s", id), 0);
    char route[160];
    snprintf(route, sizeof route, "/v1/label/tasks/%s/labels", id);
    if (http_status("/v1/head")) CHECK_EQ_INT(http_status(route), 200); /* the orders, as the web page reads them */
    CHECK_EQ_INT(label_cli(ALICE, NULL, out, sizeof out, "close %s", id), 0);
    CHECK_CONTAINS(out, "closed: 2 accepted, 0 careless, 0 incomplete; 2 of 3 items labelled, 6 DPO lines");
    CHECK_EQ_INT(label_cli(X0, NULL, out, sizeof out, "show %s", id), 0);
    CHECK_CONTAINS(out, "\"ranking\":true");
    CHECK_CONTAINS(out, "\"label\":\"201\"");
    CHECK_EQ_INT(label_cli(X0, NULL, out, sizeof out, "export %s", id), 0);
    CHECK_CONTAINS(out, "{\"chosen\":\"mango\",\"prompt\":\"Best fruit?\",\"rejected\":\"apple\"}\n"
                        "{\"chosen\":\"mango\",\"prompt\":\"Best fruit?\",\"rejected\":\"rock\"}\n"
                        "{\"chosen\":\"apple\",\"prompt\":\"Best fruit?\",\"rejected\":\"rock\"}\n");
    CHECK_CONTAINS(out, "{\"chosen\":\"hello\",\"prompt\":\"Greeting?\",\"rejected\":\"hey\"}\n");
    CHECK(strstr(out, "Larger?") == NULL);
    CHECK_EQ_INT(label_cli(X0, NULL, out, sizeof out, "export %s --format card", id), 0);
    CHECK_CONTAINS(out, "Krippendorff's alpha (ordinal, over each answer's position): 1.000000");
}

/* Posts items with ALICE and the options given; the task's id into id. */
static void post_task(const char *items, char id[67], const char *opts) {
    char out[16384];
    id[0] = 0;
    CHECK_EQ_INT(label_cli(ALICE, NULL, out, sizeof out, "post --file %s --pay 0.01 %s", items, opts), 0);
    const char *p = strstr(out, "task 0x");
    if (p) snprintf(id, 67, "%.66s", p + 5);
    CHECK_EQ_INT((int)strlen(id), 66);
}

/* A poster's traps for `label join`: the ledger refuses windows under 300 s
 * from format 10 (a reveal window of 5 s: unless every seat labels early, a
 * person had to reveal in those 5 s or lose the bond), and so does `label
 * post`; a labeller that wants more than 300 s says so (--min-window 600):
 * a reveal window of 400 s, or 400 s to label, is then refused before
 * anything is staked, and taken at the default. A bond of 5 GOT on a seat
 * paid 0.03 is refused by the ledger from format 10 (at most twice the
 * pay); one of 0.06 is refused by a labeller asking less (--max-bond 0.04)
 * and taken at the default; and a labeller whose proof of human expires
 * before the task's last label is refused a seat. */
static void terms_flow(const char *items) {
    char out[16384], id[67];
    CHECK(label_cli(ALICE, NULL, out, sizeof out, "post --file %s --pay 0.01 --reveal-window 5", items) != 0);
    CHECK_CONTAINS(out, "--reveal-window");
    post_task(items, id, "--reveal-window 400");
    CHECK_EQ_INT(label_cli(X0, NULL, out, sizeof out, "join %s --min-window 600", id), 1);
    CHECK_CONTAINS(out, "not joined: the reveal window is 400 s");
    CHECK_CONTAINS(out, "under --min-window 600");
    CHECK_EQ_INT(label_cli(X0, NULL, out, sizeof out, "show %s", id), 0);
    CHECK_CONTAINS(out, "\"joined\":0");
    CHECK_EQ_INT(label_cli(X0, NULL, out, sizeof out, "join %s", id), 0);
    post_task(items, id, "--commit-window 400");
    CHECK_EQ_INT(label_cli(X0, NULL, out, sizeof out, "join %s --min-window 600", id), 1);
    CHECK_CONTAINS(out, "s are left to label the task's 3 items");
    CHECK(label_cli(ALICE, NULL, out, sizeof out, "post --file %s --pay 0.01 --bond 5", items) != 0);
    CHECK_CONTAINS(out, "bond must be at most 2 * payPerLabel * items = 60000");
    post_task(items, id, "--bond 0.06");
    CHECK_EQ_INT(label_cli(X0, NULL, out, sizeof out, "join %s --max-bond 0.04", id), 1);
    CHECK_CONTAINS(out, "not joined: the task's bond is 0.06");
    CHECK_EQ_INT(label_cli(X0, NULL, out, sizeof out, "show %s", id), 0);
    CHECK_CONTAINS(out, "\"joined\":0");
    CHECK_EQ_INT(label_cli(X0, NULL, out, sizeof out, "join %s", id), 0); /* twice the pay: the default's bound */
    /* An attestation that expires in 60 s, on a task taking labels for an
     * hour: the seat could commit for a minute, then lose its bond. */
    CHECK_EQ_INT(run_cli("fund", V1, NULL, out, sizeof out, "attest %s --person p2 --expires-in 60", ad(X0 + 2)), 0);
    post_task(items, id, "");
    CHECK_EQ_INT(label_cli(X0 + 2, NULL, out, sizeof out, "join %s", id), 1);
    CHECK_CONTAINS(out, "not joined: this address's proof of human expires at");
    CHECK_EQ_INT(label_cli(X0, NULL, out, sizeof out, "join %s", id), 0); /* attested for 30 days */
}

/* Reads one HTTP message (headers and a Content-Length body) from fd into
 * buf; its length, or -1 when the peer closed or it does not fit. */
static ssize_t read_message(int fd, char *buf, size_t cap) {
    size_t got = 0, want = 0;
    for (;;) {
        char *end = got ? memmem(buf, got, "\r\n\r\n", 4) : NULL;
        if (end && !want) {
            const char *cl = strcasestr(buf, "\r\ncontent-length:");
            want = (size_t)(end + 4 - buf) + (cl && cl < end ? strtoul(cl + 17, NULL, 10) : 0);
        }
        if (want && got >= want) return (ssize_t)got;
        if (got == cap - 1) return -1;
        ssize_t n = read(fd, buf + got, cap - 1 - got);
        if (n <= 0) return -1;
        got += (size_t)n;
        buf[got] = 0;
    }
}

/* A listening socket on a free port of 127.0.0.1; its port into *port. */
static int listen_any(int *port) {
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    int s = socket(AF_INET, SOCK_STREAM, 0);
    if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof a) || listen(s, 4) ||
        getsockname(s, (struct sockaddr *)&a, &len))
        return -1;
    *port = ntohs(a.sin_port);
    return s;
}

/* How the proxy loses the first POST /v1/actions answer: PROXY_DROP closes
 * the connection before any of it (libcurl sends the action again on a
 * fresh connection), PROXY_CUT sends its headers and the body's first byte
 * and closes (libcurl reports the transfer cut short and sends nothing
 * again), PROXY_DIE exits once the node has applied it (no answer, and
 * nothing more reaches the node: not even the question whether it holds
 * the action). */
enum { PROXY_DROP = 0, PROXY_CUT = 1, PROXY_DIE = 2 };

/* The proxy's loop (a child process): each request to the node at
 * node_port, one connection each; the first POST /v1/actions is applied by
 * the node but its answer never reaches the client whole (mode): a reply
 * lost after the ledger took the action. */
static void proxy_loop(int ls, int node_port, int mode) {
    static char req[65536], resp[65536];
    int dropped = 0;
    for (;;) {
        int c = accept(ls, NULL, NULL);
        ssize_t n;
        while (c >= 0 && (n = read_message(c, req, sizeof req)) > 0) {
            struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
                                    .sin_port = htons((uint16_t)node_port)};
            int u = socket(AF_INET, SOCK_STREAM, 0);
            ssize_t m = u >= 0 && !connect(u, (struct sockaddr *)&a, sizeof a) && write(u, req, (size_t)n) == n
                            ? read_message(u, resp, sizeof resp)
                            : -1;
            if (u >= 0) close(u);
            int drop = !dropped && !strncmp(req, "POST /v1/actions ", 17);
            dropped |= drop;
            if (drop && mode == PROXY_DIE) _exit(0);
            const char *body = m > 0 ? memmem(resp, (size_t)m, "\r\n\r\n", 4) : NULL;
            ssize_t cut = body ? body + 5 - resp : 0; /* the headers and the body's first byte */
            if (drop && mode == PROXY_CUT && cut < m && write(c, resp, (size_t)cut) != cut) break;
            if (m <= 0 || drop || write(c, resp, (size_t)m) != m) break;
        }
        if (c >= 0) close(c);
    }
}

/* A labeller whose commit reaches the ledger but whose answer is lost (the
 * proxy drops it; libcurl sends it again on a fresh connection and reads
 * "already labelled") keeps the label's opening: the CLI asks the ledger,
 * finds its commitment there and goes on. The old one threw the opening
 * away on any error, and the seat could then never reveal that item: it
 * revealed 2 of 3, could not be closed before revealEndS, and its bond
 * would burn. With the opening kept, it labels the rest, reveals all three
 * and is paid. */
/* Starts the proxy (mode) in front of the node and points the CLI at it;
 * its pid, or -1. proxy_end points the CLI back and stops it. */
static char node_url[160];
static pid_t proxy_start(int mode) {
    int port = 0, node_port = atoi(strrchr(url, ':') + 1), ls = listen_any(&port);
    CHECK(ls >= 0);
    if (ls < 0) return -1;
    pid_t proxy = fork();
    if (proxy == 0) proxy_loop(ls, node_port, mode), _exit(0);
    close(ls);
    snprintf(node_url, sizeof node_url, "%s", url);
    snprintf(url, sizeof url, "http://127.0.0.1:%d", port);
    return proxy;
}

static void proxy_end(pid_t proxy) {
    snprintf(url, sizeof url, "%s", node_url);
    kill(proxy, SIGTERM);
    waitpid(proxy, NULL, 0);
}

static void lost_reply_flow(const char *items) {
    char out[16384], id[67], file[512];
    post_task(items, id, "--labellers 1");
    CHECK_EQ_INT(label_cli(X0 + 1, NULL, out, sizeof out, "join %s", id), 0);
    pid_t proxy = proxy_start(PROXY_DROP);
    if (proxy < 0) return;
    CHECK_EQ_INT(label_cli(X0 + 1, "1 lost reply\\n", out, sizeof out, "%s", id), 0);
    CHECK_CONTAINS(out, "item 1: answer 1 committed");
    proxy_end(proxy);
    CHECK_EQ_INT(label_cli(X0 + 1, NULL, out, sizeof out, "show %s", id), 0);
    CHECK_CONTAINS(out, "\"commits\":1"); /* the ledger took the label */
    gt_addr who;
    char a[43];
    CHECK_EQ_INT(gt_key_address(&K[X0 + 1], &who), 0);
    gt_addr_to_str(&who, a);
    snprintf(file, sizeof file, "%s/labels/%s-%s.json", dir, id + 2, a);
    FILE *f = fopen(file, "r");
    size_t n = f ? fread(out, 1, sizeof out - 1, f) : 0;
    out[n] = 0;
    if (f) fclose(f);
    CHECK_CONTAINS(out, "\"0\":"); /* its opening kept */
    CHECK_EQ_INT(label_cli(X0 + 1, "1\\n2\\n", out, sizeof out, "%s", id), 0);
    CHECK_EQ_INT(label_cli(X0 + 1, NULL, out, sizeof out, "reveal %s", id), 0);
    CHECK_CONTAINS(out, "3 label(s) revealed, 0 refused");
    CHECK_EQ_INT(label_cli(ALICE, NULL, out, sizeof out, "close %s", id), 0);
    CHECK_CONTAINS(out, "closed: 1 accepted, 0 careless, 0 incomplete");
}

/* The label tasks on the ledger (`label tasks`: one "poster" a task). */
static int count_tasks(void) {
    char out[65536];
    int n = 0;
    CHECK_EQ_INT(label_cli(ALICE, NULL, out, sizeof out, "tasks"), 0);
    for (const char *p = out; (p = strstr(p, "\"poster\":")); p++) n++;
    return n;
}

/* The text of a file into out ("" when it cannot be read). */
static void read_text(const char *file, char *out, size_t cap) {
    FILE *f = fopen(file, "r");
    size_t n = f ? fread(out, 1, cap - 1, f) : 0;
    out[n] = 0;
    if (f) fclose(f);
}

/* A poster whose task_post reaches the ledger but whose answer is lost
 * (mode: dropped, and libcurl sends it again on a fresh connection; or cut
 * short). The client asks the ledger whether it holds the action
 * (GET /v1/actions/{id}) and goes on: the old one, on a dropped answer,
 * read "nonce already used" on the second send, signed the post again with
 * the next nonce and posted a second task (its pay escrowed too); on a cut
 * one it failed, leaving a task on the ledger with no items and its gold
 * never saved. Now exactly one task is posted, its gold saved under its id
 * and its items added, and it closes with the gold, its seat paid. */
static void lost_post_flow(const char *items, int mode) {
    char out[16384], id[67] = "", file[512];
    int before = count_tasks();
    pid_t proxy = proxy_start(mode);
    if (proxy < 0) return;
    int rc = label_cli(ALICE, NULL, out, sizeof out, "post --file %s --pay 0.01 --labellers 1", items);
    proxy_end(proxy);
    CHECK_EQ_INT(rc, 0);
    const char *p = strstr(out, "task 0x");
    if (p) snprintf(id, sizeof id, "%.66s", p + 5);
    CHECK_EQ_INT((int)strlen(id), 66);
    CHECK_EQ_INT(count_tasks(), before + 1); /* one task, not two */
    snprintf(file, sizeof file, "%s/labels/%s.gold.json", dir, id + 2);
    read_text(file, out, sizeof out);
    CHECK_CONTAINS(out, "\"gold\":\"-0-\""); /* item 1 is the gold one, answer 0 */
    CHECK_EQ_INT(label_cli(X0 + 1, NULL, out, sizeof out, "show %s", id), 0);
    CHECK_CONTAINS(out, "\"itemsAdded\":3");
    CHECK_EQ_INT(label_cli(X0 + 1, NULL, out, sizeof out, "join %s", id), 0);
    CHECK_EQ_INT(label_cli(X0 + 1, "1\\n1\\n2\\n", out, sizeof out, "%s", id), 0);
    CHECK_EQ_INT(label_cli(X0 + 1, NULL, out, sizeof out, "reveal %s", id), 0);
    CHECK_EQ_INT(label_cli(ALICE, NULL, out, sizeof out, "close %s", id), 0);
    CHECK_CONTAINS(out, "closed: 1 accepted, 0 careless, 0 incomplete");
}

/* A post whose answer never comes and whose node cannot be reached after
 * it (PROXY_DIE): the task is on the ledger without items. The CLI fails
 * saying so, keeps the gold under the task's id and names the command that
 * finishes the post; that command adds the three items, and the task closes
 * with the gold. The old CLI kept no gold and had no way to add the items:
 * the task could only be closed by rule, its pay locked until then. */
static void lost_node_flow(const char *items) {
    char out[16384], id[67] = "", file[512], other[512];
    pid_t proxy = proxy_start(PROXY_DIE);
    if (proxy < 0) return;
    int rc = label_cli(ALICE, NULL, out, sizeof out, "post --file %s --pay 0.01 --labellers 1", items);
    proxy_end(proxy);
    CHECK_EQ_INT(rc, 1);
    CHECK_CONTAINS(out, "the post's answer was lost");
    const char *p = strstr(out, "gotong label post --file ");
    p = p ? strstr(p, " 0x") : NULL;
    if (p) snprintf(id, sizeof id, "%.66s", p + 1);
    CHECK_EQ_INT((int)strlen(id), 66);
    snprintf(file, sizeof file, "%s/labels/%s.gold.json", dir, id + 2);
    read_text(file, out, sizeof out);
    CHECK_CONTAINS(out, "\"gold\":\"-0-\"");
    CHECK_EQ_INT(label_cli(ALICE, NULL, out, sizeof out, "show %s", id), 0);
    CHECK_CONTAINS(out, "\"itemsAdded\":0");
    snprintf(other, sizeof other, "%s/other.json", dir); /* another file's items (gold on item 0) are refused */
    FILE *f = fopen(other, "w");
    CHECK(f != NULL);
    if (f) fputs("{\"name\":\"other\",\"items\":[{\"prompt\":\"a\",\"answers\":[\"x\",\"y\"],\"gold\":1},"
                 "{\"prompt\":\"b\",\"answers\":[\"x\",\"y\"]},{\"prompt\":\"c\",\"answers\":[\"x\",\"y\"]}]}\n", f), fclose(f);
    CHECK_EQ_INT(label_cli(ALICE, NULL, out, sizeof out, "post --file %s %s", other, id), 1);
    CHECK_CONTAINS(out, "not the items this task was posted with");
    /* The same items posted again without the task: refused, naming the command that finishes the post (the old
     * CLI posted a second task, escrowing its pay too). */
    int before = count_tasks();
    CHECK_EQ_INT(label_cli(ALICE, NULL, out, sizeof out, "post --file %s --pay 0.01 --labellers 1", items), 1);
    CHECK_CONTAINS(out, "holds 0 of its 3 items (its post was cut short)");
    CHECK_CONTAINS(out, id);
    CHECK_EQ_INT(count_tasks(), before);
    CHECK_EQ_INT(label_cli(ALICE, NULL, out, sizeof out, "post --file %s %s", items, id), 0);
    CHECK_CONTAINS(out, "3 items added");
    CHECK_EQ_INT(label_cli(X0 + 1, NULL, out, sizeof out, "join %s", id), 0);
    CHECK_EQ_INT(label_cli(X0 + 1, "1\\n1\\n2\\n", out, sizeof out, "%s", id), 0);
    CHECK_EQ_INT(label_cli(X0 + 1, NULL, out, sizeof out, "reveal %s", id), 0);
    CHECK_EQ_INT(label_cli(ALICE, NULL, out, sizeof out, "close %s", id), 0);
    CHECK_CONTAINS(out, "closed: 1 accepted, 0 careless, 0 incomplete");
}

/* The ledger before the node: money, V1 staked to issue attestations (it
 * attests through `gotong fund` once the node runs: an attestation must be
 * valid at the node's clock, today). */
static void prepare(void) {
    skew = 0;
    gt_ledger *l = fresh();
    for (int i = 1; i < X0 + 3; i++)
        CHECK_EQ_INT(fa(l, AUTH, NULL, NULL, "mint", "{\"to\":\"%s\",\"amount\":%llu}", ad(i), 100 * TOKEN), 0);
    CHECK_EQ_INT(fa(l, V1, NULL, NULL, "stake", "{\"amount\":%llu}", 20 * TOKEN), 0);
    gt_ledger_close(l);
}

static void test_label_cli(void) {
    prepare();
    save_keys();
    char items[256], out[16384], id[67] = "", route[256];
    write_items(items, sizeof items);
    pid_t node = gt_test_node_start(dir, "200", url, sizeof url);
    CHECK(node > 0);
    if (node <= 0) return;
    CHECK_EQ_INT(run_cli("fund", V1, NULL, out, sizeof out, "issuer-register --name humans"), 0);
    CHECK_EQ_INT(run_cli("fund", V1, NULL, out, sizeof out, "attest %s --person p0", ad(X0)), 0);
    CHECK_EQ_INT(run_cli("fund", V1, NULL, out, sizeof out, "attest %s --person p1", ad(X0 + 1)), 0);
    CHECK_EQ_INT(label_cli(ALICE, NULL, out, sizeof out, "post --file %s --labellers 2 --pay 0.01 --commit-window 600"
                                                         " --reveal-window 600",
                           items),
                 0);
    const char *p = strstr(out, "task 0x");
    if (p) snprintf(id, sizeof id, "%.66s", p + 5);
    CHECK_EQ_INT((int)strlen(id), 66);
    CHECK_EQ_INT(label_cli(X0 + 2, NULL, out, sizeof out, "join %s", id), 1);
    CHECK_CONTAINS(out, "proof of human");
    CHECK_EQ_INT(label_cli(X0, NULL, out, sizeof out, "join %s", id), 0);
    CHECK_EQ_INT(label_cli(X0 + 1, NULL, out, sizeof out, "join %s", id), 0);
    /* X0: a bad line is told and asked again; then the three items */
    CHECK_EQ_INT(label_cli(X0, "9\\n1 the capital\\n1\\n2 friendly\\n", out, sizeof out, "%s", id), 0);
    CHECK_CONTAINS(out, "Capital of France?");
    CHECK_CONTAINS(out, "expected the number of the best answer (1-2)");
    CHECK_CONTAINS(out, "[3] go away");
    CHECK_CONTAINS(out, "nothing (more) to label here");
    /* X1 quits once, then labels; revealing early is refused until both are in */
    CHECK_EQ_INT(label_cli(X0 + 1, "q\\n", out, sizeof out, "%s", id), 0);
    CHECK_CONTAINS(out, "stopped; 0 labelled");
    CHECK_EQ_INT(label_cli(X0, NULL, out, sizeof out, "reveal %s", id), 1);
    CHECK_CONTAINS(out, "still taking labels");
    CHECK_EQ_INT(label_cli(X0 + 1, "1\\n1\\n2\\n", out, sizeof out, "%s", id), 0);
    CHECK_EQ_INT(label_cli(X0, NULL, out, sizeof out, "reveal %s", id), 0);
    CHECK_CONTAINS(out, "3 label(s) revealed");
    CHECK_EQ_INT(label_cli(X0 + 1, NULL, out, sizeof out, "reveal %s", id), 0);
    CHECK_EQ_INT(label_cli(ALICE, NULL, out, sizeof out, "close %s", id), 0);
    CHECK_CONTAINS(out, "closed: 2 accepted, 0 careless, 0 incomplete; 2 of 3 items labelled, 3 DPO lines");
    CHECK_EQ_INT(label_cli(X0, NULL, out, sizeof out, "export %s", id), 0);
    CHECK_CONTAINS(out, "{\"chosen\":\"Paris\",\"prompt\":\"Capital of France?\",\"rejected\":\"Lyon\"}\n");
    CHECK_CONTAINS(out, "{\"chosen\":\"Hello!\",\"prompt\":\"Say hello\",\"rejected\":\"go away\"}\n");
    CHECK(strstr(out, "2+2?") == NULL); /* the gold item is not data */
    CHECK_EQ_INT(label_cli(X0, NULL, out, sizeof out, "export %s --format card", id), 0);
    CHECK_CONTAINS(out, "Krippendorff's alpha (nominal): 1.000000");
    CHECK_EQ_INT(label_cli(X0, NULL, out, sizeof out, "export %s --format xml", id), 2);
    CHECK_EQ_INT(label_cli(X0, NULL, out, sizeof out, "show 0x12"), 2);
    if (http_status("/v1/head")) {
        snprintf(route, sizeof route, "/v1/label/tasks/%s/export?format=hh", id);
        CHECK_EQ_INT(http_status(route), 200);
        snprintf(route, sizeof route, "/v1/label/tasks/%s/export?format=xml", id);
        CHECK_EQ_INT(http_status(route), 400);
        snprintf(route, sizeof route, "/v1/label/tasks/%s/next", id);
        CHECK_EQ_INT(http_status(route), 400); /* no address */
        snprintf(route, sizeof route, "/v1/label/tasks/%s/next?address=%s", id, ad(X0));
        CHECK_EQ_INT(http_status(route), 200);
        CHECK_EQ_INT(http_status("/v1/label/tasks/0x12"), 400);
        CHECK_EQ_INT(http_status("/v1/label/tasks?limit=0"), 400);
    } else {
        fprintf(stderr, "  (no curl binary: the raw HTTP checks were skipped)\n");
    }
    rank_flow();
    terms_flow(items);
    lost_reply_flow(items);
    lost_post_flow(items, PROXY_DROP);
    lost_post_flow(items, PROXY_CUT);
    lost_node_flow(items);
    CHECK_EQ_INT(gt_test_node_stop(node), 0);
    done(NULL); /* replays the whole log */
}

/* A node on an idle network: no empty blocks (--block-interval-ms 0), its
 * head the prepared ledger's, stamped in 2023. A block made now carries the
 * node's clock (block times are max(clock, head time)), so deadlines
 * counted from the head's time had passed before the post landed: the old
 * `label post` was refused at its defaults ("expected the block's time ...
 * < commitEndS") whenever the head was over 55 minutes old. Counted from
 * this machine's clock (the later of it and the head's), the default post
 * is taken; and `label join` counts the time left to label the same way (a
 * commit window of 400 s is under --min-window 600; counted from the old
 * head it looked like years). */
static void test_label_old_head(void) {
    prepare();
    save_keys();
    char items[256], out[16384], id[67] = "";
    write_items(items, sizeof items);
    const char *const args[] = {"--quiet", "--block-interval-ms", "0", NULL};
    pid_t node = gt_test_node_start_args(dir, args, NULL, url, sizeof url);
    CHECK(node > 0);
    if (node <= 0) return;
    long long head_s = head_time_s();
    if (head_s) CHECK(head_s + 3600 < (long long)time(NULL)); /* the head is over an hour old */
    CHECK_EQ_INT(label_cli(ALICE, NULL, out, sizeof out, "post --file %s", items), 0);
    CHECK_CONTAINS(out, "3 items added");
    CHECK_EQ_INT(label_cli(ALICE, NULL, out, sizeof out, "post --file %s --commit-window 400", items), 0);
    const char *p = strstr(out, "task 0x");
    if (p) snprintf(id, sizeof id, "%.66s", p + 5);
    CHECK_EQ_INT((int)strlen(id), 66);
    CHECK_EQ_INT(label_cli(X0, NULL, out, sizeof out, "join %s --min-window 600", id), 1);
    CHECK_CONTAINS(out, "s are left to label the task's 3 items");
    CHECK_EQ_INT(gt_test_node_stop(node), 0);
    done(NULL);
}

int main(void) {
    make_keys();
    extra_keys();
    gt_err err = {0};
    if (gt_fund_register(&err)) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    RUN(test_label_cli);
    RUN(test_label_old_head);
    return gt_test_finish();
}
