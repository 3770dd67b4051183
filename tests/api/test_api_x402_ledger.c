/* test_api_x402_ledger.c: x402 v2 pay-per-request settled on the node's own
 * embedded ledger, end to end: HOME/x402.json {"settle": "ledger"} prices
 * GET /v1/blobs/{}; an unpaid request gets 402 with PAYMENT-REQUIRED offering
 * "exact" on gotong:<chainId> and none of the data; the agent's paying client
 * (agent/pay.h) pays within its budget with a signed transfer and gets the
 * blob with PAYMENT-RESPONSE naming the payment, which is in the ledger. Each
 * attack serves nothing and moves nothing: a replayed PAYMENT-SIGNATURE (the
 * ledger refuses the used nonce), a payment of less than the price, one to
 * another payee, one signed by another key, a plain transfer (no validity
 * window), a payment already expired, one not yet valid, one valid for longer
 * than maxTimeoutSeconds, one whose nonce skips ahead (refused before the route
 * runs), an honest payment presented after its window closed (held), a price over the budget (refused before anything is signed), a payer
 * without funds; a request for a blob the node lacks is not charged. A config
 * of the ledger mode with chain fields is refused at start, and so is one
 * pricing a route that changes the node's state (POST /v1/blobs, /v1/actions,
 * a job's input): its change is made before the payment settles.
 * While a paid route runs (an extension's route the test holds), its
 * payment's nonce is reserved: the payer's own action with that nonce sent
 * meanwhile is refused (409, "reserved by an x402 payment in flight"), and a
 * second payment with it is refused before its route runs; the held route's answer
 * is then settled and delivered. The old node applied the payer's action and
 * withheld the answer it had already computed (the settlement found the
 * nonce used): the payer voided its payment after the route ran, as often as
 * it liked. A route that answers 404 is not charged and its reservation is
 * released: the payer's action with the nonce then applies. Money moves
 * only for a 2xx answer, after its route: a payment whose window is too
 * short to settle after its route (1 s) is refused before the route runs
 * (the old node settled it first and charged for a 404), a long window's
 * route that fails near the window's end is not charged (the old node's
 * watch had settled it), and one whose route outlasts its window is
 * withheld unpaid. */
#include <fcntl.h>
#include <pthread.h>
#include <semaphore.h>
#include <sys/stat.h>

#include "../test.h"
#include "agent/pay.h"
#include "api_util.h"
#include "api/api_impl.h"
#include "api/ext.h"
#include "api/x402_ledger.h"
#include "base/alloc.h"
#include "base/hex.h"
#include "crypto/addr.h"

#define PRICE 700
#define PAYER 1
#define MERCHANT 3
#define POOR 4
#define MINTED 5000000
static char dir[64];

/* Does the body hold the blob's text? */
static int has_data(const gt_buf *b) {
    static const char needle[] = "worth paying";
    for (size_t i = 0; i + sizeof needle - 1 <= b->len; i++)
        if (!memcmp(b->data + i, needle, sizeof needle - 1)) return 1;
    return 0;
}

/* HOME/x402.json settling on the ledger, pricing route at PRICE; extra
 * is appended to its fields. */
static void write_config_route(const char *home, const char *route, const char *extra) {
    char path[128], to[GT_ADDR_STR_BYTES];
    gt_key k;
    gt_addr a;
    tkey(MERCHANT, &k, &a);
    gt_addr_to_str(&a, to);
    snprintf(path, sizeof path, "%s/x402.json", home);
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    if (!f) return;
    fprintf(f, "{\"settle\": \"ledger\", \"payTo\": \"%s\", \"maxTimeoutSeconds\": 300%s, "
               "\"prices\": {\"%s\": \"%d\"}}\n", to, extra, route, PRICE);
    fclose(f);
}

static void write_config(const char *home, const char *extra) { write_config_route(home, "GET /v1/blobs/{}", extra); }

static uint64_t balance_of(gt_client *cl, int key) {
    gt_key k;
    gt_addr a;
    gt_client_acct acct = {0};
    gt_err err;
    tkey(key, &k, &a);
    CHECK_MSG(gt_client_account(cl, &a, &acct, &err) == 0, "%s", err.msg);
    return acct.balance_units;
}

static uint64_t nonce_of(gt_client *cl, int key) {
    gt_key k;
    gt_addr a;
    gt_client_acct acct = {0};
    gt_err err;
    tkey(key, &k, &a);
    CHECK_MSG(gt_client_account(cl, &a, &acct, &err) == 0, "%s", err.msg);
    return acct.nonce;
}

/* A PAYMENT-SIGNATURE carrying a payment from key `from` of amount to key
 * `to`, valid in [after, before) (after == before: a plain transfer, no
 * window), accepting the offer of `required` as given. */
static char *forged_at(const char *required, int from, int to, uint64_t amount, uint64_t nonce, uint64_t after,
                       uint64_t before) {
    json_t *j = NULL;
    gt_key k, kt;
    gt_addr a, at;
    gt_action act;
    char *sig = NULL;
    CHECK_EQ_INT(gt_x402_b64_decode(required, "PAYMENT-REQUIRED", &j, NULL), 0);
    tkey(from, &k, &a);
    tkey(to, &kt, &at);
    gt_action_init(&act, after == before ? &gt_kind_transfer : &gt_kind_payment, TCHAIN, &a, nonce);
    gt_action_set_addr(&act, "to", &at);
    gt_action_set_u64(&act, "amount", amount);
    if (after != before) {
        gt_action_set_u64(&act, "validAfter", after);
        gt_action_set_u64(&act, "validBefore", before);
    }
    CHECK_EQ_INT(gt_action_sign(&act, &k, NULL), 0);
    json_t *offer = json_array_get(json_object_get(j, "accepts"), 0);
    CHECK_EQ_INT(gt_x402_b64_encode(json_pack("{s:i,s:O,s:{s:o}}", "x402Version", 2, "accepted", offer, "payload",
                                              "action", gt_action_to_json(&act, 1)),
                                    &sig, NULL),
                 0);
    json_decref(j);
    return sig;
}

/* forged_at valid from a minute ago for the offer's 300 s. */
static char *forged(const char *required, int from, int to, uint64_t amount, uint64_t nonce) {
    uint64_t now = (uint64_t)time(NULL);
    return forged_at(required, from, to, amount, nonce, now - 60, now + 300);
}

/* Sends sig to url; returns the status, why gets PAYMENT-REQUIRED's error. */
static long pay_with(const char *url, const char *sig, char why[256]) {
    gt_buf body = GT_BUF_INIT;
    gt_x402_answer *a = calloc(1, sizeof *a);
    a->body = &body;
    CHECK_EQ_INT(gt_x402_exchange(url, sig, a, NULL), 0);
    long st = a->status;
    gt_x402_refusal(a->required, why, 256);
    CHECK(st != 200 || a->response[0]); /* served only with a PAYMENT-RESPONSE */
    CHECK(st == 200 || body.len == 0 || body.data[0] == '{');
    free(a);
    gt_buf_free(&body);
    return st;
}

static void test_config_refused(void) {
    const char *home = thome(dir);
    write_config(home, ", \"rpc\": \"http://127.0.0.1:1\"");
    gt_node_config c;
    gt_node_config_default(&c);
    c.home = home;
    c.listen = "127.0.0.1:0";
    gt_node *n = NULL;
    gt_err err = {0};
    CHECK(gt_node_start(&c, &n, &err) != 0);
    CHECK_CONTAINS(err.msg, "rpc");
    /* Routes that change the node's state do it before the payment settles:
     * never priced (an upload stored, an action applied, a job's input kept,
     * each kept by a payer that spends its nonce first). */
    static const char *const writes[] = {"POST /v1/blobs", "POST /v1/actions", "POST /v1/chain/jobs/{}/input"};
    for (size_t i = 0; i < sizeof writes / sizeof writes[0]; i++) {
        write_config_route(home, writes[i], "");
        n = NULL;
        CHECK_MSG(gt_node_start(&c, &n, &err) != 0, "a node pricing %s started", writes[i]);
        if (n) gt_node_stop(n);
        CHECK_CONTAINS(err.msg, "changes the node's state before its payment settles");
    }
    /* A window too short to settle any payment after its route: every one would be refused. */
    char path[600];
    snprintf(path, sizeof path, "%s/x402.json", home);
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    if (f) fprintf(f, "{\"settle\": \"ledger\", \"payTo\": \"0x%040d\", \"maxTimeoutSeconds\": 9, "
                      "\"prices\": {\"GET /v1/blobs/{}\": \"1\"}}\n", 1), fclose(f);
    n = NULL;
    CHECK_MSG(gt_node_start(&c, &n, &err) != 0, "a node offering 9-s windows started");
    if (n) gt_node_stop(n);
    CHECK_CONTAINS(err.msg, "maxTimeoutSeconds: 9 is under 10");
    trm(home);
}

/* An unpaid request: 402 offering the ledger, no data. Returns the offer. */
static char *offer_of(const char *url, gt_buf *body) {
    gt_x402_answer *a = calloc(1, sizeof *a);
    a->body = body;
    body->len = 0;
    CHECK_EQ_INT(gt_x402_exchange(url, NULL, a, NULL), 0);
    CHECK_EQ_INT(a->status, 402);
    json_t *j = NULL;
    CHECK_EQ_INT(gt_x402_b64_decode(a->required, "PAYMENT-REQUIRED", &j, NULL), 0);
    json_t *o = json_array_get(json_object_get(j, "accepts"), 0);
    CHECK_STR(json_string_value(json_object_get(o, "network")), "gotong:1337");
    CHECK_STR(json_string_value(json_object_get(o, "scheme")), "exact");
    CHECK_STR(json_string_value(json_object_get(o, "amount")), "700");
    json_decref(j);
    char *req = strdup(a->required);
    free(a);
    return req;
}

/* Payments outside their window, or with none, or with one longer than the
 * offer's maxTimeoutSeconds (300): refused with the reason, nothing moved. */
static void test_windows(const char *url, const char *required, gt_client *cl) {
    char why[256];
    uint64_t now = (uint64_t)time(NULL);
    char *sig = forged_at(required, PAYER, MERCHANT, PRICE, 2, now - 400, now - 100);
    CHECK_EQ_INT(pay_with(url, sig, why), 402);
    CHECK_CONTAINS(why, "the payment expired: validBefore");
    gt_free(sig);
    sig = forged_at(required, PAYER, MERCHANT, PRICE, 2, now + 600, now + 900);
    CHECK_EQ_INT(pay_with(url, sig, why), 402);
    CHECK_CONTAINS(why, "the payment is not yet valid: validAfter");
    gt_free(sig);
    sig = forged_at(required, PAYER, MERCHANT, PRICE, 2, now - 10, now + 3000);
    CHECK_EQ_INT(pay_with(url, sig, why), 402);
    CHECK_CONTAINS(why, "over maxTimeoutSeconds 300");
    gt_free(sig);
    sig = forged_at(required, PAYER, MERCHANT, PRICE, 2, 0, 0); /* a plain transfer: valid until its nonce is used */
    CHECK_EQ_INT(pay_with(url, sig, why), 402);
    CHECK_CONTAINS(why, "must be a payment");
    gt_free(sig);
    CHECK_EQ_U64(balance_of(cl, PAYER), MINTED - 2 * PRICE);
    CHECK_EQ_U64(balance_of(cl, MERCHANT), 2 * PRICE);
}

/* pay_with, with the node's log (stderr) caught in a file: *tried says
 * whether the node ran the route and then tried to settle (and failed). */
static long pay_logged(const char *url, const char *sig, char why[256], int *tried) {
    char path[128];
    snprintf(path, sizeof path, "%s/node-stderr.log", dir);
    fflush(stderr);
    int saved = dup(2), fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    CHECK(saved >= 0 && fd >= 0);
    dup2(fd, 2);
    close(fd);
    long st = pay_with(url, sig, why);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    gt_buf log = GT_BUF_INIT;
    FILE *f = fopen(path, "r");
    char chunk[512];
    size_t n;
    while (f && (n = fread(chunk, 1, sizeof chunk, f)) > 0) gt_buf_append(&log, chunk, n);
    if (f) fclose(f);
    gt_buf_putc(&log, 0);
    *tried = strstr((const char *)log.data, "settlement failed") != NULL;
    gt_buf_free(&log);
    unlink(path);
    return st;
}

/* A payment whose nonce skips ahead of the payer's next can never settle
 * (the ledger takes nonces in order): it is refused before the route runs,
 * so one such signature does not buy the node's work again and again until
 * its window closes (the old check let it through to the handler, whose
 * answer was then withheld when the settlement failed). */
static void test_skip_ahead(const char *url, const char *required, gt_client *cl) {
    char why[256];
    int tried = -1;
    char *sig = forged(required, PAYER, MERCHANT, PRICE, 9);
    for (int i = 0; i < 3; i++) {
        CHECK_EQ_INT(pay_logged(url, sig, why, &tried), 402);
        CHECK_CONTAINS(why, "nonce 9 skips ahead");
        CHECK_MSG(tried == 0, "attempt %d: the route ran for a payment that could not settle", i);
    }
    gt_free(sig);
    CHECK_EQ_U64(balance_of(cl, PAYER), MINTED - 2 * PRICE);
    CHECK_EQ_U64(balance_of(cl, MERCHANT), 2 * PRICE);
}

/* The agent's honest payment, presented after its window closed (the node's
 * clock moved past validBefore): refused, nothing moved. */
static void test_held(gt_node *n, const char *url, const char *required, gt_client *cl) {
    gt_key pk;
    gt_addr pa;
    tkey(PAYER, &pk, &pa);
    gt_agent_payer p = {.key = &pk, .budget = PRICE, .ledger = cl};
    gt_agent_paid paid;
    char *sig = NULL, why[256];
    gt_err err;
    CHECK_MSG(gt_agent_pay_sign(&p, required, &sig, &paid, &err) == 0, "%s", err.msg);
    gt_ledger_set_time(n->ledger, (uint64_t)time(NULL) + 300 + 1);
    CHECK_EQ_INT(pay_with(url, sig, why), 402);
    CHECK_CONTAINS(why, "the payment expired");
    gt_free(sig);
    CHECK_EQ_U64(balance_of(cl, PAYER), MINTED - 2 * PRICE);
    CHECK_EQ_U64(balance_of(cl, MERCHANT), 2 * PRICE);
}

/* A payment of a node's own route whose window is too short to settle
 * after the route (1 s) is refused with a 402 saying what to sign, and a
 * blob the node lacks is not charged: the old node settled such a payment
 * before the handler ran, so the 404 was paid (PAYMENT-RESPONSE). */
static void test_short_window_404(gt_node *n, const char *missing, const char *required, gt_client *cl) {
    uint64_t t = gt_node_now_s(n), nonce = nonce_of(cl, PAYER), paid = MINTED - balance_of(cl, PAYER);
    gt_node_set_time(n, t);
    char *sig = forged_at(required, PAYER, MERCHANT, PRICE, nonce, t - 60, t + 1);
    gt_buf body = GT_BUF_INIT;
    gt_x402_answer *a = calloc(1, sizeof *a);
    a->body = &body;
    CHECK_EQ_INT(gt_x402_exchange(missing, sig, a, NULL), 0);
    CHECK_MSG(a->status == 402 && !a->response[0], "a 1-s window, missing: %ld", a->status);
    CHECK_EQ_U64(balance_of(cl, PAYER), MINTED - paid);
    CHECK_EQ_U64(nonce_of(cl, PAYER), nonce);
    gt_node_set_time(n, 0);
    free(a);
    gt_buf_free(&body);
    gt_free(sig);
}

static void test_paid_blob(void) {
    const char *home = thome(dir);
    write_config(home, "");
    gt_node *n = tnode(home, 4, 0);
    uint16_t port = gt_node_port(n);
    CURL *c = curl_easy_init();
    thttp h;
    static const char data[] = "a labelled row worth paying for";
    char path[200] = "/v1/blobs/sha256:", url[300], base[64], why[256];
    uint8_t hash[32];
    gt_sha256(data, sizeof data - 1, hash);
    gt_hex_encode(hash, 32, path + strlen(path));
    snprintf(url, sizeof url, "http://127.0.0.1:%u%s", port, path);
    snprintf(base, sizeof base, "http://127.0.0.1:%u", port);
    CHECK_EQ_INT(tmint(c, port, 0, PAYER, MINTED), 200);
    CHECK_EQ_INT(tupload(c, port, PAYER, data, sizeof data - 1, &h), 201);
    thttp_free(&h);
    gt_client *cl = NULL;
    gt_err err;
    CHECK_EQ_INT(gt_client_new(base, &cl, &err), 0);
    gt_buf body = GT_BUF_INIT;
    char *required = offer_of(url, &body);
    CHECK(!has_data(&body));
    /* The agent pays within its budget and gets the blob. */
    gt_key pk;
    gt_addr pa;
    tkey(PAYER, &pk, &pa);
    gt_agent_payer p = {.key = &pk, .budget = 2 * PRICE + PRICE / 2, .ledger = cl};
    gt_agent_paid paid;
    long status = 0;
    body.len = 0;
    CHECK_MSG(gt_agent_pay_get(&p, url, &status, &body, &paid, &err) == 0, "%s", err.msg);
    CHECK(status == 200 && paid.paid && paid.amount == PRICE && p.spent == PRICE);
    CHECK_STR(paid.network, "gotong:1337");
    CHECK(body.len == sizeof data - 1 && !memcmp(body.data, data, body.len));
    CHECK_EQ_U64(balance_of(cl, PAYER), MINTED - PRICE);
    CHECK_EQ_U64(balance_of(cl, MERCHANT), PRICE);
    char act[100] = "/v1/actions/0x";
    gt_hex_encode(paid.tx, 32, act + strlen(act));
    CHECK_EQ_INT(tget(c, port, act, &h), 200); /* the settlement is in the ledger */
    thttp_free(&h);
    /* A replayed signature: the ledger refuses the used nonce, nothing served. */
    char *sig = NULL;
    CHECK_EQ_INT(gt_agent_pay_sign(&p, required, &sig, &paid, &err), 0);
    CHECK_EQ_INT(pay_with(url, sig, why), 200);
    CHECK_EQ_INT(pay_with(url, sig, why), 402);
    CHECK_CONTAINS(why, "nonce");
    gt_free(sig);
    CHECK_EQ_U64(balance_of(cl, PAYER), MINTED - 2 * PRICE);
    CHECK_EQ_U64(balance_of(cl, MERCHANT), 2 * PRICE);
    /* Less than the price, another payee, another signer: refused, nothing moves. */
    sig = forged(required, PAYER, MERCHANT, PRICE - 1, 2);
    CHECK_EQ_INT(pay_with(url, sig, why), 402);
    CHECK_CONTAINS(why, "the price is 700");
    gt_free(sig);
    sig = forged(required, PAYER, POOR, PRICE, 2);
    CHECK_EQ_INT(pay_with(url, sig, why), 402);
    CHECK_CONTAINS(why, "not to payTo");
    gt_free(sig);
    sig = forged(required, PAYER, MERCHANT, PRICE, 2);
    sig[strlen(sig) / 2] ^= 1; /* a flipped bit of the base64: it no longer parses or verifies */
    CHECK_EQ_INT(pay_with(url, sig, why), 402);
    gt_free(sig);
    CHECK_EQ_U64(balance_of(cl, PAYER), MINTED - 2 * PRICE);
    test_windows(url, required, cl);
    test_skip_ahead(url, required, cl);
    /* Over the budget: refused before anything is signed or sent. */
    body.len = 0;
    CHECK_EQ_INT(gt_agent_pay_get(&p, url, &status, &body, &paid, &err), GT_EFUNDS);
    CHECK(!paid.paid && p.spent == 2 * PRICE && status == 402);
    CHECK_CONTAINS(err.msg, "budget has 350 left");
    gt_agent_payer more = {.key = &pk, .budget = PRICE - 1, .ledger = cl};
    CHECK_EQ_INT(gt_agent_pay_get(&more, url, &status, &body, &paid, &err), GT_EFUNDS);
    CHECK(more.spent == 0);
    /* A payer without funds is refused by the ledger: nothing served. */
    gt_key qk;
    gt_addr qa;
    tkey(POOR, &qk, &qa);
    gt_agent_payer poor = {.key = &qk, .budget = 10 * PRICE, .ledger = cl};
    body.len = 0;
    CHECK_EQ_INT(gt_agent_pay_get(&poor, url, &status, &body, &paid, &err), GT_EPERM);
    CHECK(status == 402 && !has_data(&body));
    /* A blob the node lacks: 404, the transfer not submitted. */
    char missing[300];
    snprintf(missing, sizeof missing, "http://127.0.0.1:%u/v1/blobs/sha256:%064d", port, 0);
    gt_agent_payer fresh = {.key = &pk, .budget = PRICE, .ledger = cl};
    CHECK_EQ_INT(gt_agent_pay_get(&fresh, missing, &status, &body, &paid, &err), GT_EIO);
    CHECK(status == 404 && !paid.paid);
    CHECK_EQ_U64(balance_of(cl, PAYER), MINTED - 2 * PRICE);
    CHECK_EQ_U64(balance_of(cl, MERCHANT), 2 * PRICE);
    test_held(n, url, required, cl);
    test_short_window_404(n, missing, required, cl);
    free(required);
    gt_buf_free(&body);
    gt_client_free(cl);
    curl_easy_cleanup(c);
    gt_node_stop(n);
    trm(home);
}

/* ---- A paid route the test holds: the extension (api/ext.h) route GET
 * /v1/held posts `entered` when it runs (its payment checked) and answers
 * `status` once the test posts `go`. */
typedef struct held_route {
    sem_t entered, go;
    int status;
} held_route;
static held_route H;
static const gt_route held_routes[] = {{"GET", "/v1/held", 0}, {"POST", "/v1/held", 0}};

/* The extension's request callback: headers, then the end, where it waits. */
static enum MHD_Result held_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
                                    const char *version, const char *upload_data, size_t *upload_data_size,
                                    void **con_cls) {
    held_route *h = cls;
    (void)url, (void)method, (void)version, (void)upload_data;
    if (!*con_cls) { /* the headers */
        *con_cls = h;
        return MHD_YES;
    }
    if (*upload_data_size) {
        *upload_data_size = 0;
        return MHD_YES;
    }
    sem_post(&h->entered);
    while (sem_wait(&h->go) != 0) continue; /* EINTR */
    static const char body[] = "{\"held\": \"an answer worth paying for\"}";
    struct MHD_Response *resp = MHD_create_response_from_buffer(sizeof body - 1, (void *)body, MHD_RESPMEM_PERSISTENT);
    enum MHD_Result rc = gt_api_ext_respond(conn, (unsigned)h->status, resp);
    MHD_destroy_response(resp);
    return rc;
}

static int held_completed(void *cls, void **con_cls, enum MHD_RequestTerminationCode toe) {
    held_route *h = cls;
    int answered = *con_cls != NULL && toe == MHD_REQUEST_TERMINATED_COMPLETED_OK;
    *con_cls = NULL;
    return answered ? h->status : 0;
}

/* A node over home with the held route (a thread per connection, as the
 * extension's blocking handlers need). */
static gt_node *held_node(const char *home) {
    static gt_api_ext ext;
    ext = (gt_api_ext){.routes = held_routes, .n_routes = 2, .cls = &H, .on_request = held_request,
                       .on_completed = held_completed};
    gt_node_config c;
    gt_node_config_default(&c);
    c.home = home;
    c.listen = "127.0.0.1:0";
    c.threads = 0;
    c.block_interval_ms = 0;
    c.access_log = 0;
    c.ext = &ext;
    gt_node *n = NULL;
    gt_err err = {0};
    CHECK_MSG(gt_node_start(&c, &n, &err) == 0, "%s", err.msg);
    return n;
}

/* Sends GET /v1/held paid with sig on a new connection (closed by the node
 * once answered); returns the socket. */
static int send_held(uint16_t port, const char *sig) {
    int fd = tconnect(port);
    CHECK(fd >= 0);
    if (fd < 0) return -1;
    size_t cap = strlen(sig) + 128;
    char *req = malloc(cap);
    int n = snprintf(req, cap, "GET /v1/held HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nPAYMENT-SIGNATURE: %s\r\n\r\n",
                     sig);
    CHECK(n > 0 && (size_t)n < cap && write(fd, req, (size_t)n) == n);
    free(req);
    return fd;
}

/* Reads the whole answer on fd (the node closes it) into buf, closes fd;
 * why gets its PAYMENT-REQUIRED's error ("" when none). */
static void read_answer(int fd, char *buf, size_t cap, char why[256]) {
    size_t len = 0;
    int eof = 0;
    buf[0] = 0;
    if (fd >= 0) tread_until(fd, buf, cap, &len, NULL, 120000, &eof); /* the bound only stops a hang */
    CHECK_MSG(eof, "the answer did not end: %.80s", buf);
    if (fd >= 0) close(fd);
    char req[GT_X402_HEADER_MAX + 1] = "";
    const char *v = strstr(buf, "PAYMENT-REQUIRED:");
    if (v) sscanf(v + 17, " %8192[^\r\n]", req);
    why[0] = 0;
    if (req[0]) gt_x402_refusal(req, why, 256);
}

/* The payer's self-transfer of 1 with nonce, posted to /v1/actions: the
 * status; h keeps the answer. */
static long post_void(CURL *c, uint16_t port, uint64_t nonce, thttp *h) {
    gt_key k;
    gt_addr a;
    gt_action v;
    tkey(PAYER, &k, &a);
    tcore(&v, &gt_kind_transfer, PAYER, nonce, &a, 1);
    char *body = tjson(&v);
    long st = tpost(c, port, "/v1/actions", body, h);
    free(body);
    return st;
}

/* A node whose GET /v1/held is priced (held_node), PAYER minted, a client
 * of it and the route's offer (answered by the node: the route never ran). */
typedef struct held_env {
    const char *home;
    gt_node *n;
    uint16_t port;
    CURL *c;
    gt_client *cl;
    gt_buf body;
    char *required, *ans; /* ans: 64 KiB for read_answer */
} held_env;

/* Starts e (H answering 200); 0 when the node runs, the failure checked. */
static int held_env_start(held_env *e) {
    memset(e, 0, sizeof *e);
    e->home = thome(dir);
    write_config_route(e->home, "GET /v1/held\": \"700\", \"POST /v1/held", ""); /* both priced */
    CHECK_EQ_INT(sem_init(&H.entered, 0, 0), 0);
    CHECK_EQ_INT(sem_init(&H.go, 0, 0), 0);
    H.status = 200;
    if (!(e->n = held_node(e->home))) return -1;
    e->port = gt_node_port(e->n);
    e->c = curl_easy_init();
    e->ans = calloc(1, 65536);
    char url[100], base[64];
    gt_err err;
    snprintf(url, sizeof url, "http://127.0.0.1:%u/v1/held", e->port);
    snprintf(base, sizeof base, "http://127.0.0.1:%u", e->port);
    CHECK_EQ_INT(tmint(e->c, e->port, 0, PAYER, MINTED), 200);
    CHECK_EQ_INT(gt_client_new(base, &e->cl, &err), 0);
    e->required = offer_of(url, &e->body);
    return 0;
}

static void held_env_end(held_env *e) {
    free(e->required);
    free(e->ans);
    gt_buf_free(&e->body);
    gt_client_free(e->cl);
    curl_easy_cleanup(e->c);
    gt_node_stop(e->n);
    sem_destroy(&H.entered);
    sem_destroy(&H.go);
    trm(e->home);
}

/* The payer tries to void its payment while the route it pays for runs:
 * refused, and the answer is settled and delivered. */
static void test_reserved_in_flight(void) {
    held_env e;
    if (held_env_start(&e)) return;
    uint16_t port = e.port;
    CURL *c = e.c;
    gt_client *cl = e.cl;
    char why[256], *ans = e.ans, *required = e.required;
    uint64_t now = (uint64_t)time(NULL);
    char *sig = forged(required, PAYER, MERCHANT, PRICE, 0);
    int fd = send_held(port, sig);
    while (sem_wait(&H.entered) != 0) continue; /* the route runs: its payment was checked */
    /* Another payment with the same nonce (another id: another window) is
     * refused before its route runs (the node's payments in flight are
     * keyed by payer and nonce; the ledger's reservation would refuse it
     * too). */
    char *other = forged_at(required, PAYER, MERCHANT, PRICE, 0, now - 61, now + 299);
    read_answer(send_held(port, other), ans, 65536, why);
    CHECK_MSG(!strncmp(ans, "HTTP/1.1 402", 12), "the second payment: %.80s", ans);
    CHECK_CONTAINS(why, "being used by another request");
    /* The payer's own action with the nonce: refused, nothing applied. */
    thttp h;
    CHECK_EQ_INT(post_void(c, port, 0, &h), 409);
    CHECK_CONTAINS(h.body, "is reserved by an x402 payment in flight");
    thttp_free(&h);
    CHECK_EQ_U64(nonce_of(cl, PAYER), 0);
    sem_post(&H.go);
    read_answer(fd, ans, 65536, why);
    CHECK_MSG(!strncmp(ans, "HTTP/1.1 200", 12) && strstr(ans, "PAYMENT-RESPONSE:") &&
              strstr(ans, "an answer worth paying for"), "the paid answer: %.200s (%s)", ans, why);
    CHECK_EQ_U64(balance_of(cl, PAYER), MINTED - PRICE);
    CHECK_EQ_U64(balance_of(cl, MERCHANT), PRICE);
    CHECK_EQ_U64(nonce_of(cl, PAYER), 1);
    /* A route that fails (404) is not charged, and its nonce is released:
     * the payer's action with it applies afterwards. */
    H.status = 404;
    gt_free(sig);
    sig = forged(required, PAYER, MERCHANT, PRICE, 1);
    fd = send_held(port, sig);
    while (sem_wait(&H.entered) != 0) continue;
    CHECK_EQ_INT(post_void(c, port, 1, &h), 409);
    CHECK_CONTAINS(h.body, "is reserved by an x402 payment in flight");
    thttp_free(&h);
    sem_post(&H.go);
    read_answer(fd, ans, 65536, why);
    CHECK_MSG(!strncmp(ans, "HTTP/1.1 404", 12) && !strstr(ans, "PAYMENT-RESPONSE:"), "the failed route: %.200s", ans);
    CHECK_EQ_INT(post_void(c, port, 1, &h), 200);
    thttp_free(&h);
    CHECK_EQ_U64(nonce_of(cl, PAYER), 2);
    CHECK_EQ_U64(balance_of(cl, PAYER), MINTED - PRICE); /* the self-transfer moved nothing */
    CHECK_EQ_U64(balance_of(cl, MERCHANT), PRICE);
    gt_free(sig);
    gt_free(other);
    held_env_end(&e);
}

/* Sends sig on GET /v1/held while no route may run: `go` is posted first,
 * so a route that runs anyway answers at once instead of hanging the test;
 * returns whether it ran (and drains the unused `go` when it did not). */
static int held_ran(uint16_t port, const char *sig, char *ans, size_t cap, char why[256]) {
    sem_post(&H.go);
    read_answer(send_held(port, sig), ans, cap, why);
    int ran = sem_trywait(&H.entered) == 0;
    if (!ran) CHECK_EQ_INT(sem_trywait(&H.go), 0);
    return ran;
}

/* A paid route held while the node's clock runs past the payment's
 * validBefore: held_request answers `status` then. */
static void held_past_window(gt_node *n, uint16_t port, const char *sig, uint64_t past, char *ans, char why[256]) {
    int fd = send_held(port, sig);
    while (sem_wait(&H.entered) != 0) continue; /* the route runs */
    gt_node_set_time(n, past);
    sem_post(&H.go);
    read_answer(fd, ans, 65536, why);
}

/* A payment with a long window (300 s) whose route outlasts it (the node's
 * clock moved to 3 s before validBefore, then past it, while the route
 * runs): nothing is charged while the route runs, and the answer, ready
 * after the window closed, is withheld (402, payment expired), the nonce
 * unused. The old node's watch settled it near the window's end, before
 * the route had answered. */
static void test_outlasted(gt_node *n, uint16_t port, const char *required, gt_client *cl) {
    char why[256], *ans = calloc(1, 65536);
    uint64_t t = gt_node_now_s(n), nonce = nonce_of(cl, PAYER), before = balance_of(cl, PAYER);
    H.status = 200;
    char *sig = forged_at(required, PAYER, MERCHANT, PRICE, nonce, t - 60, t + 300);
    int fd = send_held(port, sig);
    while (sem_wait(&H.entered) != 0) continue;
    gt_node_set_time(n, t + 297);
    struct timespec ts = {1, 0}; /* four looks of the old watch (every 250 ms) */
    nanosleep(&ts, NULL);
    CHECK_MSG(balance_of(cl, PAYER) == before, "a payment was settled while its route ran");
    gt_node_set_time(n, t + 301);
    sem_post(&H.go);
    read_answer(fd, ans, 65536, why);
    CHECK_MSG(!strncmp(ans, "HTTP/1.1 402", 12) && !strstr(ans, "an answer worth paying for"),
              "the answer past its window: %.200s (%s)", ans, why);
    CHECK_CONTAINS(why, "expired");
    CHECK_EQ_U64(balance_of(cl, PAYER), before);
    CHECK_EQ_U64(nonce_of(cl, PAYER), nonce);
    free(ans);
    gt_free(sig);
}

/* A route that fails (500) after its long window neared its end (3 s
 * left on the node's clock, for 1 s): not charged. The old node's watch
 * settled the payment then, so the 500 went out with PAYMENT-RESPONSE. */
static void test_failed_near_end(gt_node *n, uint16_t port, const char *required, gt_client *cl) {
    char why[256], *ans = calloc(1, 65536);
    uint64_t t = gt_node_now_s(n), nonce = nonce_of(cl, PAYER), before = balance_of(cl, PAYER);
    H.status = 500;
    char *sig = forged_at(required, PAYER, MERCHANT, PRICE, nonce, t - 60, t + 300);
    int fd = send_held(port, sig);
    while (sem_wait(&H.entered) != 0) continue;
    gt_node_set_time(n, t + 297);
    struct timespec ts = {1, 0}; /* four looks of the old watch (every 250 ms) */
    nanosleep(&ts, NULL);
    sem_post(&H.go);
    read_answer(fd, ans, 65536, why);
    CHECK_MSG(!strncmp(ans, "HTTP/1.1 500", 12) && !strstr(ans, "PAYMENT-RESPONSE:"), "the failed route: %.200s",
              ans);
    CHECK_EQ_U64(balance_of(cl, PAYER), before);
    CHECK_EQ_U64(nonce_of(cl, PAYER), nonce);
    free(ans);
    gt_free(sig);
}

/* Money moves only for a 2xx answer, after its route (fail closed): a
 * payment whose window is too short to settle after the route (1 s here,
 * under twice the 5-s settlement margin) is refused before the route runs,
 * nothing charged; the old node settled it first, so a route that then
 * failed (404) was paid. A payment with a long window pays only for a
 * route that succeeds in it (test_outlasted, test_failed_near_end). */
static void test_short_window(void) {
    held_env e;
    if (held_env_start(&e)) return;
    gt_node *n = e.n;
    uint16_t port = e.port;
    gt_client *cl = e.cl;
    char why[256], *ans = e.ans, *required = e.required;
    uint64_t t = gt_node_now_s(n);
    gt_node_set_time(n, t); /* the node's clock stands still until the test moves it */
    char *sig = forged_at(required, PAYER, MERCHANT, PRICE, 0, t - 60, t + 1);
    H.status = 404;
    CHECK_MSG(!held_ran(port, sig, ans, 65536, why), "the route ran for a 1-s window");
    CHECK_MSG(!strncmp(ans, "HTTP/1.1 402", 12) && !strstr(ans, "PAYMENT-RESPONSE:"), "a 1-s window: %.200s", ans);
    CHECK_CONTAINS(why, "sign one valid for at least 10 s");
    CHECK_EQ_U64(balance_of(cl, PAYER), MINTED);
    CHECK_EQ_U64(nonce_of(cl, PAYER), 0);
    /* A long window (300 s) on a route that fails: settled after the route, so not charged. */
    gt_free(sig);
    sig = forged_at(required, PAYER, MERCHANT, PRICE, 0, t - 50, t + 300);
    held_past_window(n, port, sig, t + 11, ans, why);
    CHECK_MSG(!strncmp(ans, "HTTP/1.1 404", 12) && !strstr(ans, "PAYMENT-RESPONSE:"), "the failed route: %.200s", ans);
    CHECK_EQ_U64(balance_of(cl, PAYER), MINTED);
    CHECK_EQ_U64(nonce_of(cl, PAYER), 0);
    gt_free(sig);
    test_failed_near_end(n, port, required, cl);
    test_outlasted(n, port, required, cl);
    held_env_end(&e);
}

/* Out of memory as an extension's paid answer is settled (every gt_
 * allocation failing from the k-th on, k = 0, 1, ..., set as the route
 * answers): the payment is settled and the answer delivered, or neither.
 * The old node made the receipt (PAYMENT-RESPONSE) after the settlement,
 * so with that allocation failing the payer was charged and answered 402. */
static void test_settle_oom(void) {
    held_env e;
    if (held_env_start(&e)) return;
    int whole = 0, mismatched = 0;
    for (long k = 0; k < 2000 && !whole; k++) {
        uint64_t nonce = nonce_of(e.cl, PAYER), bal = balance_of(e.cl, PAYER);
        char *sig = forged(e.required, PAYER, MERCHANT, PRICE, nonce);
        int fd = send_held(e.port, sig);
        while (sem_wait(&H.entered) != 0) continue; /* the route runs */
        gt_alloc_fail_after(k);
        sem_post(&H.go);
        size_t len = 0;
        int eof = 0;
        e.ans[0] = 0;
        if (fd >= 0) tread_until(fd, e.ans, 65536, &len, NULL, 120000, &eof);
        gt_alloc_fail_after(-1);
        if (fd >= 0) close(fd);
        int paid = balance_of(e.cl, PAYER) != bal;
        int delivered = !strncmp(e.ans, "HTTP/1.1 200", 12) && strstr(e.ans, "an answer worth paying for");
        whole = delivered && paid && strstr(e.ans, "PAYMENT-RESPONSE:") != NULL;
        if (paid != delivered && mismatched++ < 3)
            CHECK_MSG(0, "failing from allocation %ld: %s, %s: %.80s", k, paid ? "paid" : "not paid",
                      delivered ? "answered" : "not answered", e.ans);
        gt_free(sig);
    }
    CHECK_MSG(whole, "no k let the paid answer through");
    held_env_end(&e);
}

/* A paid POST whose body trickles in holds no payment slot: its payment is
 * taken once the request is whole. The same payment sent meanwhile on a
 * whole request runs its route and is paid; the slow one, once its body is
 * in, finds the nonce used: 402, its route never run. The old node took the
 * payment at the headers, so the whole request was refused ("being used by
 * another request") while the slow body held it: 256 funded payers sending
 * slow bodies kept every other payment out for up to request_max_s. */
static void test_slow_body(void) {
    held_env e;
    if (held_env_start(&e)) return;
    char why[256];
    char *sig = forged(e.required, PAYER, MERCHANT, PRICE, 0);
    int slow = tconnect(e.port);
    CHECK(slow >= 0);
    size_t cap = strlen(sig) + 256;
    char *req = malloc(cap);
    int n = snprintf(req, cap, "POST /v1/held HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n"
                     "PAYMENT-SIGNATURE: %s\r\nContent-Length: 10\r\n\r\nabc", sig);
    CHECK(slow >= 0 && n > 0 && write(slow, req, (size_t)n) == n); /* 3 bytes of 10: the body trickles */
    free(req);
    struct timespec ts = {0, 300 * 1000 * 1000}; /* the node has its headers (only for the old node to show) */
    nanosleep(&ts, NULL);
    int fd = send_held(e.port, sig);
    int entered = 0;
    struct timespec tick = {0, 10 * 1000 * 1000};
    for (int i = 0; i < 1000 && !(entered = sem_trywait(&H.entered) == 0); i++) nanosleep(&tick, NULL);
    CHECK_MSG(entered, "the whole request's route did not run");
    if (entered) sem_post(&H.go);
    read_answer(fd, e.ans, 65536, why);
    CHECK_MSG(!strncmp(e.ans, "HTTP/1.1 200", 12) && strstr(e.ans, "PAYMENT-RESPONSE:"),
              "the whole request: %.200s (%s)", e.ans, why);
    CHECK_EQ_U64(balance_of(e.cl, PAYER), MINTED - PRICE);
    sem_post(&H.go); /* a route that runs anyway answers at once */
    CHECK(slow >= 0 && write(slow, "defghij", 7) == 7);
    read_answer(slow, e.ans, 65536, why);
    CHECK_MSG(!strncmp(e.ans, "HTTP/1.1 402", 12), "the slow request: %.200s", e.ans);
    CHECK_CONTAINS(why, "nonce");
    CHECK_MSG(sem_trywait(&H.entered) != 0, "the slow request's route ran");
    CHECK_EQ_INT(sem_trywait(&H.go), 0);
    CHECK_EQ_U64(balance_of(e.cl, PAYER), MINTED - PRICE);
    gt_free(sig);
    held_env_end(&e);
}

int main(void) {
    gt_err err;
    if (gt_client_global_init(&err)) return 1;
    RUN(test_config_refused);
    RUN(test_paid_blob);
    RUN(test_reserved_in_flight);
    RUN(test_short_window);
    RUN(test_settle_oom);
    RUN(test_slow_body);
    return gt_test_finish();
}
