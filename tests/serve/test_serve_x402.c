/* test_serve_x402.c: the OpenAI routes of `gotong node -m` priced with x402
 * v2 and settled on the node's own ledger (HOME/x402.json {"settle":
 * "ledger"} pricing POST /v1/chat/completions and POST /v1/completions per
 * request). An unpaid request is answered 402 with PAYMENT-REQUIRED by the
 * node and never reaches the model; a paid one is answered with
 * PAYMENT-RESPONSE naming the payment, which is in the ledger; a replayed
 * payment is refused (the ledger's used nonce) and serves nothing; a
 * streamed chat completion is paid by how it ends: at its normal end, its
 * receipt in its last chunk ("payment_response"); ended by its client (a
 * hang-up, cancelled for lag) it is charged once and its signature then
 * refused; failed on the server's side (out of memory) it is not charged,
 * the same signature then buying a whole stream; one that would outlast
 * its payment's window is settled mid-stream, before the window ends, its
 * receipt still in its last chunk; a payer that
 * tries to spend its payment's nonce while its paid stream waits for the
 * model is refused (the nonce is reserved for the payment: the old node
 * applied the transfer and withheld the stream, its work done for free),
 * and the stream is served and paid; a stream whose payment was good when
 * it arrived but cannot settle by its first token (its window closed while
 * it waited for the model) gets a 402 in place of the stream; a request the
 * model refuses (an unknown model, a bad field) is not charged, so the same
 * payment still buys a good request after it; a payer without funds gets a
 * 402 instead of the answer (stream or not); an unpriced route (embeddings,
 * models) stays free. Every answer of the OpenAI routes carries the node's
 * X-Request-Id (the client's when valid). The agent's inference client
 * (agent/oai.h) rents a completion within its budget and is refused over
 * it, nothing signed; an agent renting its `complete` work (model_url with
 * model_budget_units) pays each request from its ledger account and submits
 * the in-process bytes, and fails the work where its budget runs out; one
 * payment sent on two requests at once buys one: the second is refused as
 * it arrives. Money moves only for a 2xx answer, after the model made it: a
 * payment with a 1-s window is refused before the model sees it (the old
 * node settled it first, and charged for a 400), and one whose request waits
 * past its long window is not charged while it waits (the old node's watch
 * settled it) and its late answer is withheld, unpaid. */
#include <signal.h>
#include <strings.h>

#include <jansson.h>

#include "../test.h"
#include "../api/api_util.h"
#include "agent/agent.h"
#include "agent/skill_complete.h"
#include "agent/oai.h"
#include "agent/pay.h"
#include "api/ext.h"
#include "base/alloc.h"
#include "serve/serve.h"

#define MODEL "models/tiny-llama-q8_0.gguf"
#define CHAT_PRICE 700
#define COMPLETION_PRICE 500
#define PAYER 1
#define MERCHANT 3
#define POOR 4
#define SPENDER 5
#define RENTER 6
#define TWICE 7
#define HOLDER 8
#define LATE 9
#define BRIEF 11
#define SLOT_KEEPER 12
#define PATIENT 13
#define TWICE_HOLD 14
#define BROKEN 15
#define LAGGER 16
#define WINDOWED 17
#define MINTED 5000000

static const char *const CHAT =
    "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}],\"max_tokens\":8,\"seed\":7}";
static const char *const CHAT_STREAM =
    "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}],\"max_tokens\":8,\"seed\":7,"
    "\"stream\":true}";
static const char *const CHAT_LONG_STREAM =
    "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}],\"max_tokens\":1500,\"seed\":7,"
    "\"stream\":true}";
static const char *const CHAT_UNKNOWN_MODEL =
    "{\"model\":\"nope\",\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}],\"max_tokens\":8}";
static const char *const CHAT_BAD_FIELD =
    "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}],\"max_tokens\":-3,\"stream\":true}";

/* An answer with its x402 headers. */
typedef struct xhttp {
    thttp h;
    gt_x402_answer x;
} xhttp;

static size_t xhttp_header(char *p, size_t size, size_t n, void *arg) {
    xhttp *a = arg;
    thttp_header(p, size, n, &a->h);
    return gt_x402_on_header(p, size, n, &a->x);
}

/* POSTs body to path with PAYMENT-SIGNATURE sig and X-Request-Id reqid
 * (each NULL: none). Returns the status. */
static long xpost(CURL *c, uint16_t port, const char *path, const char *body, const char *sig, const char *reqid,
                  xhttp *a) {
    char url[256], line_sig[12000], line_id[128];
    memset(a, 0, sizeof *a);
    a->h.body = calloc(1, 1);
    snprintf(url, sizeof url, "http://127.0.0.1:%u%s", (unsigned)port, path);
    curl_easy_reset(c);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, thttp_write);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &a->h);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, xhttp_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, a);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 120000L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    struct curl_slist *hdrs = curl_slist_append(NULL, "Expect:");
    hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
    if (sig) {
        snprintf(line_sig, sizeof line_sig, "PAYMENT-SIGNATURE: %s", sig);
        hdrs = curl_slist_append(hdrs, line_sig);
    }
    if (reqid) {
        snprintf(line_id, sizeof line_id, "X-Request-Id: %s", reqid);
        hdrs = curl_slist_append(hdrs, line_id);
    }
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(body));
    CURLcode cc = curl_easy_perform(c);
    CHECK_MSG(cc == CURLE_OK, "%s: %s", path, curl_easy_strerror(cc));
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &a->h.status);
    curl_slist_free_all(hdrs);
    return a->h.status;
}

/* The node's own request id: "<8 hex>-<counter>" (api/http.c). */
static int is_node_id(const char *id) {
    const char *dash = strchr(id, '-');
    if (!dash || dash - id != 8) return 0;
    for (const char *p = id; p < dash; p++)
        if (!strchr("0123456789abcdef", *p)) return 0;
    return dash[1] >= '0' && dash[1] <= '9';
}

static void write_config(const char *home) {
    char path[128], to[GT_ADDR_STR_BYTES];
    gt_key k;
    gt_addr a;
    tkey(MERCHANT, &k, &a);
    gt_addr_to_str(&a, to);
    snprintf(path, sizeof path, "%s/x402.json", home);
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    if (!f) return;
    fprintf(f, "{\"settle\": \"ledger\", \"payTo\": \"%s\", \"maxTimeoutSeconds\": 300, \"prices\": "
               "{\"POST /v1/chat/completions\": \"%d\", \"POST /v1/completions\": \"%d\"}}\n",
            to, CHAT_PRICE, COMPLETION_PRICE);
    fclose(f);
}

static uint64_t balance_of(gt_client *cl, int key) {
    gt_key k;
    gt_addr a;
    gt_client_acct acct = {0};
    gt_err err;
    tkey(key, &k, &a);
    CHECK_MSG(gt_client_account(cl, &a, &acct, &err) == 0, "%s", err.msg);
    return acct.balance_units;
}

/* The test's world: the model, the node, a client of its ledger, the payer. */
typedef struct world {
    gt_serve *s;
    gt_node *n;
    uint16_t port;
    gt_client *cl;
    CURL *c;
    gt_key pk;
    gt_agent_payer payer;
} world;

/* Polls key's balance on the node's ledger until it is want (a stream its
 * client left is settled once the node sees it gone); bounded only to fail,
 * not hang. Returns the balance last seen. */
static uint64_t wait_balance(world *w, int key, uint64_t want) {
    uint64_t b = balance_of(w->cl, key);
    for (int i = 0; i < 1000 && b != want; i++) {
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
        b = balance_of(w->cl, key);
    }
    return b;
}

/* Signs the payment of a 402's offer from the payer (counted spent). */
static char *sign_offer(world *w, const xhttp *a) {
    char *sig = NULL;
    gt_agent_paid paid;
    gt_err err;
    CHECK_MSG(gt_agent_pay_sign(&w->payer, a->x.required, &sig, &paid, &err) == 0, "%s", err.msg);
    return sig;
}

/* Unpaid: 402 from the node with its offer and id, nothing of the model's. */
static char *unpaid_chat(world *w) {
    xhttp a;
    CHECK_EQ_INT((int)xpost(w->c, w->port, "/v1/chat/completions", CHAT, NULL, NULL, &a), 402);
    CHECK(a.x.required[0] && !strstr(a.h.body, "\"choices\""));
    CHECK_CONTAINS(a.h.body, "payment required");
    CHECK_MSG(is_node_id(a.h.reqid), "X-Request-Id %s", a.h.reqid);
    json_t *j = NULL;
    CHECK_EQ_INT(gt_x402_b64_decode(a.x.required, "PAYMENT-REQUIRED", &j, NULL), 0);
    json_t *o = json_array_get(json_object_get(j, "accepts"), 0);
    CHECK_STR(json_string_value(json_object_get(o, "network")), "gotong:1337");
    CHECK_STR(json_string_value(json_object_get(o, "amount")), "700");
    json_decref(j);
    char *sig = sign_offer(w, &a);
    thttp_free(&a.h);
    return sig;
}

/* A paid answer's receipt (PAYMENT-RESPONSE) names an action of the ledger. */
static void check_receipt(world *w, const char *receipt) {
    uint8_t tx[32];
    gt_err err;
    CHECK_MSG(gt_agent_pay_response(receipt, tx, &err) == 0, "%s", err.msg);
    char act[100] = "/v1/actions/0x";
    gt_hex_encode(tx, 32, act + strlen(act));
    thttp h;
    CHECK_EQ_INT((int)tget(w->c, w->port, act, &h), 200);
    thttp_free(&h);
}

/* A paid answer: 200 with PAYMENT-RESPONSE naming an action of the ledger. */
static void check_paid(world *w, const xhttp *a) { check_receipt(w, a->x.response); }

/* A paid stream's receipt: its last chunk's "payment_response" (a stream is
 * settled at its normal end, after its status went out) into out, "" when
 * none. */
static void stream_receipt(const char *sse, char *out, size_t cap) {
    const char *v = strstr(sse, "\"payment_response\":\"");
    out[0] = 0;
    if (!v) return;
    v += strlen("\"payment_response\":\"");
    size_t n = strcspn(v, "\"");
    if (n < cap) memcpy(out, v, n), out[n] = 0;
}

/* A paid stream: 200, no receipt in its head, its receipt in its last
 * chunk before [DONE], naming an action of the ledger. */
static void check_paid_stream(world *w, const char *head_receipt, const char *sse) {
    char receipt[GT_X402_HEADER_MAX + 1];
    CHECK_MSG(!head_receipt || !head_receipt[0], "a stream settled before its end: %s", head_receipt);
    stream_receipt(sse, receipt, sizeof receipt);
    CHECK_MSG(receipt[0] != 0, "no payment_response in the stream: %.200s", sse);
    const char *fin = strstr(sse, "\"payment_response\"");
    CHECK(fin && strstr(fin, "data: [DONE]"));
    check_receipt(w, receipt);
}

/* Paid once, served; the same payment again is refused, nothing served. */
static void test_paid_and_replay(world *w) {
    char *sig = unpaid_chat(w), why[256];
    xhttp a;
    CHECK_EQ_INT((int)xpost(w->c, w->port, "/v1/chat/completions", CHAT, sig, "client-id.7", &a), 200);
    CHECK_CONTAINS(a.h.body, "\"choices\"");
    CHECK_STR(a.h.reqid, "client-id.7"); /* the client's id, echoed by the node */
    check_paid(w, &a);
    thttp_free(&a.h);
    CHECK_EQ_U64(balance_of(w->cl, MERCHANT), CHAT_PRICE);
    CHECK_EQ_INT((int)xpost(w->c, w->port, "/v1/chat/completions", CHAT, sig, NULL, &a), 402);
    gt_x402_refusal(a.x.required, why, sizeof why);
    CHECK_CONTAINS(why, "nonce");
    CHECK(!strstr(a.h.body, "\"choices\"") && !a.x.response[0]);
    thttp_free(&a.h);
    CHECK_EQ_U64(balance_of(w->cl, PAYER), MINTED - CHAT_PRICE);
    CHECK_EQ_U64(balance_of(w->cl, MERCHANT), CHAT_PRICE);
    gt_free(sig);
}

/* Refused by the model (unknown model, a bad field in a stream): not
 * charged, so the same payment then buys a streamed completion, paid
 * before its first byte and streamed to [DONE]. */
static void test_refused_then_stream(world *w) {
    char *sig = unpaid_chat(w);
    xhttp a;
    CHECK_EQ_INT((int)xpost(w->c, w->port, "/v1/chat/completions", CHAT_UNKNOWN_MODEL, sig, NULL, &a), 404);
    CHECK_CONTAINS(a.h.body, "model_not_found");
    CHECK(!a.x.response[0] && is_node_id(a.h.reqid));
    thttp_free(&a.h);
    CHECK_EQ_INT((int)xpost(w->c, w->port, "/v1/chat/completions", CHAT_BAD_FIELD, sig, NULL, &a), 400);
    CHECK(!a.x.response[0]);
    thttp_free(&a.h);
    CHECK_EQ_U64(balance_of(w->cl, PAYER), MINTED - CHAT_PRICE);
    CHECK_EQ_INT((int)xpost(w->c, w->port, "/v1/chat/completions", CHAT_STREAM, sig, NULL, &a), 200);
    CHECK_CONTAINS(a.h.ctype, "text/event-stream");
    CHECK_CONTAINS(a.h.body, "chat.completion.chunk");
    CHECK_CONTAINS(a.h.body, "data: [DONE]");
    CHECK(is_node_id(a.h.reqid));
    check_paid_stream(w, a.x.response, a.h.body);
    thttp_free(&a.h);
    CHECK_EQ_U64(balance_of(w->cl, PAYER), MINTED - 2 * CHAT_PRICE);
    CHECK_EQ_U64(balance_of(w->cl, MERCHANT), 2 * CHAT_PRICE);
    gt_free(sig);
}

/* A payer without funds: the settlement fails, so the node sends a 402 in
 * place of the answer (whole or streamed), and nothing moves. */
static void test_poor(world *w) {
    gt_key qk;
    gt_addr qa;
    tkey(POOR, &qk, &qa);
    gt_agent_payer poor = {.key = &qk, .budget = 10 * CHAT_PRICE, .ledger = w->cl};
    const char *const bodies[] = {CHAT, CHAT_STREAM};
    for (int i = 0; i < 2; i++) {
        xhttp a;
        char *sig = NULL, why[256];
        gt_agent_paid paid;
        gt_err err;
        CHECK_EQ_INT((int)xpost(w->c, w->port, "/v1/chat/completions", bodies[i], NULL, NULL, &a), 402);
        CHECK_MSG(gt_agent_pay_sign(&poor, a.x.required, &sig, &paid, &err) == 0, "%s", err.msg);
        thttp_free(&a.h);
        CHECK_EQ_INT((int)xpost(w->c, w->port, "/v1/chat/completions", bodies[i], sig, NULL, &a), 402);
        gt_x402_refusal(a.x.required, why, sizeof why);
        CHECK_CONTAINS(why, "the ledger refused the payment");
        CHECK(!strstr(a.h.body, "choices") && !strstr(a.h.body, "data:") && !a.x.response[0]);
        CHECK(is_node_id(a.h.reqid));
        thttp_free(&a.h);
        gt_free(sig);
    }
    CHECK_EQ_U64(balance_of(w->cl, POOR), 0);
    CHECK_EQ_U64(balance_of(w->cl, MERCHANT), 2 * CHAT_PRICE);
}

/* A raw connection with a small receive buffer (a client that stops
 * reading fills it soon), with a paid POST of body sent on it. */
static int send_paid(uint16_t port, const char *body, const char *sig) {
    int fd = socket(AF_INET, SOCK_STREAM, 0), rcvbuf = 2048;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a)) {
        CHECK_MSG(0, "cannot connect to port %u", port);
        if (fd >= 0) close(fd);
        return -1;
    }
    size_t cap = strlen(body) + strlen(sig) + 256;
    char *req = malloc(cap);
    int n = snprintf(req, cap, "POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                     "Content-Length: %zu\r\nPAYMENT-SIGNATURE: %s\r\n\r\n%s", strlen(body), sig, body);
    CHECK(n > 0 && write(fd, req, (size_t)n) == n);
    free(req);
    return fd;
}

/* The model's queue.<key> in the node's /health. */
static long long queue_count(world *w, const char *key) {
    thttp h;
    CHECK_EQ_INT((int)tget(w->c, w->port, "/health", &h), 200);
    json_t *j = json_loads(h.body, 0, NULL);
    long long v = json_integer_value(json_object_get(json_object_get(json_object_get(j, "model"), "queue"), key));
    json_decref(j);
    thttp_free(&h);
    return v;
}

/* Polls /health until queue.<key> reaches at least want (a bound on the
 * polls only so a broken server fails the test instead of hanging it). */
static int wait_queue(world *w, const char *key, long long want) {
    for (int i = 0; i < 6000; i++) {
        if (queue_count(w, key) >= want) return 1;
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    CHECK_MSG(0, "queue.%s never reached %lld", key, want);
    return 0;
}

/* A payer that spends its payment's nonce while the paid stream waits for
 * the model: its transfer is refused (the nonce is reserved for the
 * payment), and the stream is served and paid. The model's one slot is held
 * by a paid stream its client does not read; the spender's paid stream
 * waits for it; the spender then sends a transfer with its payment's nonce;
 * the held stream's client leaves (after its status came). The old node
 * applied the transfer and, at the first token, sent a 402 in place of the
 * stream: the payer voided its payment after the model had run. The held
 * stream, broken off by its client, is charged (a client's hang-up is its
 * own doing: api/x402.h). */
static void test_spend_refused(world *w) {
    CHECK_EQ_INT(tmint(w->c, w->port, 1, SPENDER, CHAT_PRICE), 200);
    char *sig = unpaid_chat(w), *spend = NULL, buf[16384];
    int held = send_paid(w->port, CHAT_LONG_STREAM, sig);
    /* Its status goes out once its first token is made (not settled: a
     * stream is paid at its normal end, so no PAYMENT-RESPONSE). */
    char hb[4096] = "";
    size_t hlen = 0;
    if (held >= 0) tread_until(held, hb, sizeof hb, &hlen, "\r\n\r\n", 120000, NULL);
    CHECK_MSG(!strncmp(hb, "HTTP/1.1 200", 12) && !strstr(hb, "PAYMENT-RESPONSE:"), "held stream: %.80s", hb);
    wait_queue(w, "running", 1);
    gt_key sk;
    gt_addr sa, to;
    tkey(SPENDER, &sk, &sa);
    gt_agent_payer sp = {.key = &sk, .budget = CHAT_PRICE, .ledger = w->cl};
    gt_agent_paid paid;
    gt_err err;
    xhttp a;
    CHECK_EQ_INT((int)xpost(w->c, w->port, "/v1/chat/completions", CHAT_STREAM, NULL, NULL, &a), 402);
    CHECK_MSG(gt_agent_pay_sign(&sp, a.x.required, &spend, &paid, &err) == 0, "%s", err.msg);
    thttp_free(&a.h);
    int fd = spend ? send_paid(w->port, CHAT_STREAM, spend) : -1;
    wait_queue(w, "waiting", 1); /* verified, waiting for the slot */
    gt_action t;
    tkey(MERCHANT, &sk, &to);
    tcore(&t, &gt_kind_transfer, SPENDER, 0, &to, 1); /* the payment's nonce, to be spent */
    char *body = tjson(&t);
    thttp h;
    CHECK_EQ_INT((int)tpost(w->c, w->port, "/v1/actions", body, &h), 409);
    CHECK_CONTAINS(h.body, "is reserved by an x402 payment in flight");
    free(body), thttp_free(&h);
    if (held >= 0) close(held);
    size_t len = 0;
    int eof = 0;
    buf[0] = 0;
    if (fd >= 0) tread_until(fd, buf, sizeof buf, &len, "data: [DONE]", 120000, &eof);
    CHECK_MSG(!strncmp(buf, "HTTP/1.1 200", 12) && strstr(buf, "chat.completion.chunk") &&
              strstr(buf, "data: [DONE]"), "got: %.120s", buf);
    check_paid_stream(w, NULL, buf);
    if (fd >= 0) close(fd);
    CHECK_EQ_U64(balance_of(w->cl, SPENDER), 0);
    CHECK_EQ_U64(wait_balance(w, MERCHANT, 4 * CHAT_PRICE), 4 * CHAT_PRICE); /* the held stream's client left: paid */
    gt_free(sig), gt_free(spend);
}

/* A paid long stream from p that holds the model's one slot (its client
 * does not read): its socket, once its status came (its first token made;
 * not settled yet: a stream is paid by how it ends, and this one is broken
 * off by its client, so it is charged then, while its window lasts). */
static int hold_slot(world *w, gt_agent_payer *p) {
    xhttp a;
    char *sig = NULL, hb[4096] = "";
    size_t hlen = 0;
    gt_agent_paid paid;
    gt_err err;
    CHECK_EQ_INT((int)xpost(w->c, w->port, "/v1/chat/completions", CHAT, NULL, NULL, &a), 402);
    CHECK_MSG(gt_agent_pay_sign(p, a.x.required, &sig, &paid, &err) == 0, "%s", err.msg);
    thttp_free(&a.h);
    int held = sig ? send_paid(w->port, CHAT_LONG_STREAM, sig) : -1;
    if (held >= 0) tread_until(held, hb, sizeof hb, &hlen, "\r\n\r\n", 120000, NULL);
    CHECK_MSG(!strncmp(hb, "HTTP/1.1 200", 12) && !strstr(hb, "PAYMENT-RESPONSE:"), "held stream: %.80s", hb);
    wait_queue(w, "running", 1);
    gt_free(sig);
    return held;
}

/* A stream whose payment verifies when it arrives but no longer settles
 * when its first token is made: its window closed while it waited for the
 * model's slot (the node's clock moved past its validBefore). The node's 402
 * goes out in its place, and nothing moves. Last of the tests on the node:
 * its block time then stays ahead of the clock later payments are signed by. */
static void test_settle_fails(world *w) {
    gt_key k, hk, lk;
    gt_addr auth, a;
    gt_client_acct acc;
    gt_err err;
    tkey(0, &k, &auth);
    CHECK_MSG(gt_client_account(w->cl, &auth, &acc, &err) == 0, "%s", err.msg);
    CHECK_EQ_INT(tmint(w->c, w->port, acc.nonce, HOLDER, CHAT_PRICE), 200);
    CHECK_EQ_INT(tmint(w->c, w->port, acc.nonce + 1, LATE, CHAT_PRICE), 200);
    tkey(HOLDER, &hk, &a);
    tkey(LATE, &lk, &a);
    gt_agent_payer hp = {.key = &hk, .budget = CHAT_PRICE, .ledger = w->cl};
    gt_agent_payer lp = {.key = &lk, .budget = CHAT_PRICE, .ledger = w->cl};
    uint64_t m0 = balance_of(w->cl, MERCHANT);
    int held = hold_slot(w, &hp);
    xhttp x;
    char *sig = NULL, buf[16384] = "", why[256], req[GT_X402_HEADER_MAX + 1] = "";
    gt_agent_paid paid;
    CHECK_EQ_INT((int)xpost(w->c, w->port, "/v1/chat/completions", CHAT_STREAM, NULL, NULL, &x), 402);
    CHECK_MSG(gt_agent_pay_sign(&lp, x.x.required, &sig, &paid, &err) == 0, "%s", err.msg);
    thttp_free(&x.h);
    int fd = sig ? send_paid(w->port, CHAT_STREAM, sig) : -1;
    wait_queue(w, "waiting", 1); /* verified and reserved, waiting for the slot */
    gt_node_set_time(w->n, (uint64_t)time(NULL) + 300 + 1); /* past its validBefore (signed for 300 s) */
    if (held >= 0) close(held);
    size_t len = 0;
    int eof = 0;
    if (fd >= 0) tread_until(fd, buf, sizeof buf, &len, "\r\n\r\n{", 120000, &eof);
    CHECK_MSG(!strncmp(buf, "HTTP/1.1 402", 12), "got: %.80s", buf);
    CHECK(strstr(buf, "data:") == NULL && strstr(buf, "PAYMENT-REQUIRED:") != NULL);
    const char *v = strstr(buf, "PAYMENT-REQUIRED:");
    if (v) sscanf(v + 17, " %8192[^\r\n]", req);
    gt_x402_refusal(req, why, sizeof why);
    CHECK_CONTAINS(why, "payment expired");
    if (fd >= 0) close(fd);
    CHECK_EQ_U64(balance_of(w->cl, LATE), CHAT_PRICE);
    /* The held stream's client left after its window closed (its stream, held unread, never reached a
     * settlement due by the window: the residual of api/x402.h): the settlement finds it expired. */
    CHECK_EQ_U64(balance_of(w->cl, HOLDER), CHAT_PRICE);
    CHECK_EQ_U64(balance_of(w->cl, MERCHANT), m0);
    gt_free(sig);
}

/* The PAYMENT-REQUIRED error of the answer read from fd within timeout_ms
 * into why ("" when none came); its status line into status. */
static void read_refusal(int fd, int timeout_ms, char status[16], char why[256]) {
    char buf[16384] = "", req[GT_X402_HEADER_MAX + 1] = "";
    size_t len = 0;
    int eof = 0;
    if (fd >= 0) tread_until(fd, buf, sizeof buf, &len, "\r\n\r\n{", timeout_ms, &eof);
    snprintf(status, 16, "%.12s", buf);
    const char *v = strstr(buf, "PAYMENT-REQUIRED:");
    if (v) sscanf(v + 17, " %8192[^\r\n]", req);
    why[0] = 0;
    if (req[0]) gt_x402_refusal(req, why, 256);
}

/* One payment sent on two requests at once: the second is refused as it
 * arrives, before the model sees it, while the first waits for the model's
 * one slot (held by a paid stream its client does not read). The old node
 * queued both for the model and refused the second only after generating
 * its answer (the settlement then found the nonce used): one signature sent
 * on N connections bought N answers' work for one payment. */
static void test_twice_at_once(world *w) {
    gt_key k;
    gt_addr auth, a;
    gt_client_acct acc;
    gt_err err;
    tkey(0, &k, &auth);
    CHECK_MSG(gt_client_account(w->cl, &auth, &acc, &err) == 0, "%s", err.msg);
    CHECK_EQ_INT(tmint(w->c, w->port, acc.nonce, TWICE, CHAT_PRICE), 200);
    CHECK_EQ_INT(tmint(w->c, w->port, acc.nonce + 1, TWICE_HOLD, CHAT_PRICE), 200);
    tkey(TWICE, &k, &a);
    gt_key hk;
    tkey(TWICE_HOLD, &hk, &a);
    gt_agent_payer p = {.key = &k, .budget = CHAT_PRICE, .ledger = w->cl};
    gt_agent_payer hp = {.key = &hk, .budget = CHAT_PRICE, .ledger = w->cl};
    gt_agent_paid paid;
    char *sig = NULL, status[16], why[256];
    xhttp x;
    CHECK_EQ_INT((int)xpost(w->c, w->port, "/v1/chat/completions", CHAT, NULL, NULL, &x), 402);
    int held = hold_slot(w, &hp); /* another payer's: its nonce stays reserved while it streams */
    CHECK_MSG(gt_agent_pay_sign(&p, x.x.required, &sig, &paid, &err) == 0, "%s", err.msg);
    thttp_free(&x.h);
    int first = sig ? send_paid(w->port, CHAT, sig) : -1;
    wait_queue(w, "waiting", 1); /* verified, waiting for the slot */
    int second = sig ? send_paid(w->port, CHAT, sig) : -1;
    read_refusal(second, 10000, status, why);
    CHECK_MSG(!strncmp(status, "HTTP/1.1 402", 12), "the second request: %s", status);
    CHECK_CONTAINS(why, "being used by another request");
    CHECK_EQ_INT((int)queue_count(w, "waiting"), 1); /* it never reached the model */
    if (held >= 0) close(held);
    char buf[16384] = "";
    size_t len = 0;
    if (first >= 0) tread_until(first, buf, sizeof buf, &len, "\"choices\"", 120000, NULL);
    CHECK_MSG(!strncmp(buf, "HTTP/1.1 200", 12) && strstr(buf, "PAYMENT-RESPONSE:"), "the first: %.80s", buf);
    if (first >= 0) close(first);
    if (second >= 0) close(second);
    CHECK_EQ_U64(balance_of(w->cl, TWICE), 0); /* one payment, one answer */
    CHECK_EQ_U64(wait_balance(w, TWICE_HOLD, 0), 0); /* its stream's client left: charged */
    gt_free(sig);
}

/* Polls /health until queue.running is 0 (bounded only to fail, not hang). */
static void wait_idle(world *w) {
    for (int i = 0; i < 6000 && queue_count(w, "running") > 0; i++) {
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    CHECK_EQ_INT((int)queue_count(w, "running"), 0);
}

/* A paid stream its client hangs up on after its first chunks is charged,
 * once, and its signature is then refused (its nonce used): a replay buys
 * nothing. The old node released a stream its client broke off unpaid, so
 * a client read nearly all of a stream (it knows max_tokens), hung up
 * before its end, and bought the next stream with the same signature. */
static void test_stream_broken(world *w) {
    gt_key k;
    gt_addr auth, a;
    gt_client_acct acc;
    gt_err err;
    tkey(0, &k, &auth);
    CHECK_MSG(gt_client_account(w->cl, &auth, &acc, &err) == 0, "%s", err.msg);
    CHECK_EQ_INT(tmint(w->c, w->port, acc.nonce, BROKEN, CHAT_PRICE), 200);
    tkey(BROKEN, &k, &a);
    gt_agent_payer p = {.key = &k, .budget = CHAT_PRICE, .ledger = w->cl};
    gt_agent_paid paid;
    uint64_t m0 = balance_of(w->cl, MERCHANT);
    char *sig = NULL, buf[16384] = "", why[256];
    size_t len = 0;
    xhttp x;
    CHECK_EQ_INT((int)xpost(w->c, w->port, "/v1/chat/completions", CHAT, NULL, NULL, &x), 402);
    CHECK_MSG(gt_agent_pay_sign(&p, x.x.required, &sig, &paid, &err) == 0, "%s", err.msg);
    thttp_free(&x.h);
    int fd = sig ? send_paid(w->port, CHAT_LONG_STREAM, sig) : -1;
    if (fd >= 0) tread_until(fd, buf, sizeof buf, &len, "\"content\":\"", 120000, NULL); /* text began */
    CHECK_MSG(!strncmp(buf, "HTTP/1.1 200", 12) && strstr(buf, "\"content\":\""), "the stream: %.120s", buf);
    if (fd >= 0) close(fd);
    wait_idle(w);
    CHECK_EQ_U64(wait_balance(w, BROKEN, 0), 0); /* charged once the node saw it gone */
    CHECK_EQ_U64(balance_of(w->cl, MERCHANT), m0 + CHAT_PRICE);
    long st = 0;
    for (int i = 0; i < 500 && sig; i++) { /* refused as a used nonce once the node has let go of it */
        st = xpost(w->c, w->port, "/v1/chat/completions", CHAT_STREAM, sig, NULL, &x);
        if (st != 402 || !strstr(x.h.body, "being used by another request")) break;
        thttp_free(&x.h);
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    CHECK_MSG(st == 402, "the same payment again: %ld %.200s", st, x.h.body);
    gt_x402_refusal(x.x.required, why, sizeof why);
    CHECK_CONTAINS(why, "already used");
    CHECK(!strstr(x.h.body, "data:") && !x.x.response[0]);
    thttp_free(&x.h);
    CHECK_EQ_U64(balance_of(w->cl, BROKEN), 0);
    CHECK_EQ_U64(balance_of(w->cl, MERCHANT), m0 + CHAT_PRICE); /* once */
    gt_free(sig);
}

/* A PAYMENT-SIGNATURE for the offer of `required`: key's payment of price to
 * MERCHANT with nonce, valid in [after, before). */
static char *sign_window(const char *required, int key, uint64_t price, uint64_t nonce, uint64_t after,
                         uint64_t before) {
    json_t *j = NULL;
    gt_key k;
    gt_addr from, to;
    gt_action *act = calloc(1, sizeof *act);
    char *sig = NULL;
    CHECK_EQ_INT(gt_x402_b64_decode(required, "PAYMENT-REQUIRED", &j, NULL), 0);
    tkey(MERCHANT, &k, &to);
    tkey(key, &k, &from);
    gt_action_init(act, &gt_kind_payment, TCHAIN, &from, nonce);
    gt_action_set_addr(act, "to", &to);
    gt_action_set_u64(act, "amount", price);
    gt_action_set_u64(act, "validAfter", after);
    gt_action_set_u64(act, "validBefore", before);
    CHECK_EQ_INT(gt_action_sign(act, &k, NULL), 0);
    json_t *offer = json_array_get(json_object_get(j, "accepts"), 0);
    CHECK_EQ_INT(gt_x402_b64_encode(json_pack("{s:i,s:O,s:{s:o}}", "x402Version", 2, "accepted", offer, "payload",
                                              "action", gt_action_to_json(act, 1)),
                                    &sig, NULL),
                 0);
    json_decref(j);
    free(act);
    return sig;
}

/* A completion paid with a 1-s window (too short to settle after the
 * model's answer) is refused with a 402 saying what to sign, before the
 * model sees it, and nothing is charged, whether the request was good or one
 * the model refuses (a bad field, 400). The old node settled such a payment
 * as it arrived, so the 400 (and a 429, a 499, a 500) was paid. */
static void test_short_window(world *w) {
    gt_key k;
    gt_addr auth;
    gt_client_acct acc;
    gt_err err;
    tkey(0, &k, &auth);
    CHECK_MSG(gt_client_account(w->cl, &auth, &acc, &err) == 0, "%s", err.msg);
    CHECK_EQ_INT(tmint(w->c, w->port, acc.nonce, BRIEF, 2 * CHAT_PRICE), 200);
    uint64_t m0 = balance_of(w->cl, MERCHANT);
    xhttp x;
    char status[16], why[256];
    CHECK_EQ_INT((int)xpost(w->c, w->port, "/v1/chat/completions", CHAT, NULL, NULL, &x), 402);
    uint64_t t = gt_node_now_s(w->n);
    gt_node_set_time(w->n, t); /* the node's clock stands still until the test moves it */
    const char *bodies[2] = {CHAT_BAD_FIELD, CHAT};
    for (int i = 0; i < 2; i++) {
        char *sig = sign_window(x.x.required, BRIEF, CHAT_PRICE, 0, t - 60, t + 1);
        int fd = send_paid(w->port, bodies[i], sig);
        read_refusal(fd, 120000, status, why);
        CHECK_MSG(!strncmp(status, "HTTP/1.1 402", 12), "a 1-s window (%d): %s", i, status);
        CHECK_CONTAINS(why, "sign one valid for at least 10 s");
        if (fd >= 0) close(fd);
        gt_free(sig);
    }
    CHECK_EQ_U64(balance_of(w->cl, BRIEF), 2 * CHAT_PRICE); /* nothing charged */
    CHECK_EQ_U64(balance_of(w->cl, MERCHANT), m0);
    gt_node_set_time(w->n, 0); /* the wall clock again (block times stay ahead of it a few seconds) */
    thttp_free(&x.h);
}

/* A completion paid with a long window (300 s) that waits for the model
 * until past its window's end (the node's clock moved to 3 s before
 * validBefore, then past it, while the model's one slot is held): nothing
 * is charged while it waits, and its answer, ready after the window closed,
 * is withheld (402, payment expired), nothing charged. The old node's watch
 * settled it near the window's end, before the model had answered, so an
 * answer that then failed was paid.
 * After test_settle_fails: its payments are signed on the node's clock,
 * which that test moved ahead, and it moves it 300 s further. */
static void test_long_wait(world *w) {
    gt_key k;
    gt_addr auth;
    gt_client_acct acc;
    gt_err err;
    tkey(0, &k, &auth);
    CHECK_MSG(gt_client_account(w->cl, &auth, &acc, &err) == 0, "%s", err.msg);
    CHECK_EQ_INT(tmint(w->c, w->port, acc.nonce, SLOT_KEEPER, CHAT_PRICE), 200);
    CHECK_EQ_INT(tmint(w->c, w->port, acc.nonce + 1, PATIENT, CHAT_PRICE), 200);
    xhttp x;
    char hb[4096] = "", status[16], why[256];
    size_t hlen = 0;
    CHECK_EQ_INT((int)xpost(w->c, w->port, "/v1/chat/completions", CHAT, NULL, NULL, &x), 402);
    uint64_t t = gt_node_now_s(w->n);
    gt_node_set_time(w->n, t);
    /* The model's one slot held by a paid stream its client does not read
     * (hold_slot, signed on the node's clock: test_settle_fails moved it). */
    char *hold = sign_window(x.x.required, SLOT_KEEPER, CHAT_PRICE, 0, t - 60, t + 300);
    int held = send_paid(w->port, CHAT_LONG_STREAM, hold);
    if (held >= 0) tread_until(held, hb, sizeof hb, &hlen, "\r\n\r\n", 120000, NULL);
    CHECK_MSG(!strncmp(hb, "HTTP/1.1 200", 12) && !strstr(hb, "PAYMENT-RESPONSE:"), "held stream: %.80s", hb);
    wait_queue(w, "running", 1);
    char *sig = sign_window(x.x.required, PATIENT, CHAT_PRICE, 0, t - 60, t + 300);
    int fd = send_paid(w->port, CHAT, sig);
    wait_queue(w, "waiting", 1);
    gt_node_set_time(w->n, t + 297);
    struct timespec ts = {1, 0}; /* four looks of the old watch (every 250 ms) */
    nanosleep(&ts, NULL);
    CHECK_MSG(balance_of(w->cl, PATIENT) == CHAT_PRICE, "a payment was settled while its request waited");
    gt_node_set_time(w->n, t + 301);
    if (held >= 0) close(held);
    read_refusal(fd, 120000, status, why);
    CHECK_MSG(!strncmp(status, "HTTP/1.1 402", 12), "the answer past its window: %s", status);
    CHECK_CONTAINS(why, "expired");
    if (fd >= 0) close(fd);
    CHECK_EQ_U64(balance_of(w->cl, PATIENT), CHAT_PRICE); /* nothing charged */
    thttp_free(&x.h);
    gt_free(sig), gt_free(hold);
}

/* Reads fd for up to timeout_ms into buf (the oldest half dropped when it
 * fills: a long stream) until key's balance is want or the stream ends;
 * returns 1 when the balance came first, the stream still running. */
static int read_until_paid(world *w, int fd, char *buf, size_t cap, int key, uint64_t want, int timeout_ms) {
    size_t len = strlen(buf);
    int eof = 0;
    for (int waited = 0; waited < timeout_ms && !eof; waited += 20) {
        if (balance_of(w->cl, key) == want) return !strstr(buf, "data: [DONE]");
        if (len > cap / 2) memmove(buf, buf + len - cap / 4, cap / 4 + 1), len = cap / 4;
        tread_until(fd, buf, cap, &len, "data: [DONE]", 20, &eof);
        if (strstr(buf, "data: [DONE]")) break;
    }
    return 0;
}

/* A paid stream that would outlast its payment's window is settled before
 * the window ends, mid-stream (once it leaves under 10 s on the node's
 * clock), and its receipt still goes in its last chunk; the stream then
 * goes on past the window to its end. The old node settled a stream only
 * at its end, where it found the payment expired: the stream, served to
 * its end, was cut with a 402 and paid nothing (a client signed a window
 * it knew the stream would outlast, and its nonce stayed free for the
 * next). After test_long_wait: signed on the node's clock. */
static void test_stream_window(world *w) {
    gt_key k;
    gt_addr auth;
    gt_client_acct acc;
    gt_err err;
    tkey(0, &k, &auth);
    CHECK_MSG(gt_client_account(w->cl, &auth, &acc, &err) == 0, "%s", err.msg);
    CHECK_EQ_INT(tmint(w->c, w->port, acc.nonce, WINDOWED, CHAT_PRICE), 200);
    wait_idle(w);
    uint64_t m0 = balance_of(w->cl, MERCHANT);
    xhttp x;
    size_t cap = 1 << 20, len = 0;
    char *buf = calloc(1, cap), receipt[GT_X402_HEADER_MAX + 1];
    CHECK_EQ_INT((int)xpost(w->c, w->port, "/v1/chat/completions", CHAT, NULL, NULL, &x), 402);
    uint64_t t = gt_node_now_s(w->n);
    gt_node_set_time(w->n, t);
    char *sig = sign_window(x.x.required, WINDOWED, CHAT_PRICE, 0, t - 60, t + 300);
    int fd = send_paid(w->port, CHAT_LONG_STREAM, sig);
    if (fd >= 0) tread_until(fd, buf, cap, &len, "\"content\":\"", 120000, NULL); /* text began */
    CHECK_MSG(!strncmp(buf, "HTTP/1.1 200", 12) && strstr(buf, "\"content\":\""), "the stream: %.120s", buf);
    CHECK_EQ_U64(balance_of(w->cl, WINDOWED), CHAT_PRICE); /* not yet: 300 s left */
    gt_node_set_time(w->n, t + 295); /* 5 s left: under the 10 s a settlement needs */
    CHECK_MSG(fd >= 0 && read_until_paid(w, fd, buf, cap, WINDOWED, 0, 60000),
              "not settled while the stream ran: %.200s", buf);
    gt_node_set_time(w->n, t + 301); /* past the window: the stream goes on, paid */
    len = strlen(buf);
    if (fd >= 0) tread_until(fd, buf, cap, &len, "data: [DONE]", 120000, NULL);
    CHECK_MSG(strstr(buf, "data: [DONE]") && !strstr(buf, "payment_required"), "the stream's end: %.300s",
              len > 300 ? buf + len - 300 : buf);
    stream_receipt(buf, receipt, sizeof receipt);
    CHECK_MSG(receipt[0] != 0, "no payment_response in the stream's last chunk");
    if (receipt[0]) check_receipt(w, receipt);
    if (fd >= 0) close(fd);
    CHECK_EQ_U64(balance_of(w->cl, WINDOWED), 0);
    CHECK_EQ_U64(balance_of(w->cl, MERCHANT), m0 + CHAT_PRICE); /* once */
    thttp_free(&x.h);
    gt_free(sig);
    free(buf);
}

/* Unpriced routes answer without payment, with the node's request id. */
static void test_free_routes(world *w) {
    xhttp a;
    CHECK_EQ_INT((int)xpost(w->c, w->port, "/v1/embeddings", "{\"model\":\"m\",\"input\":\"hello\"}", NULL, NULL,
                            &a), 200);
    CHECK_CONTAINS(a.h.body, "\"embedding\"");
    CHECK(!a.x.required[0] && !a.x.response[0] && is_node_id(a.h.reqid));
    thttp_free(&a.h);
    thttp h;
    CHECK_EQ_INT((int)tget(w->c, w->port, "/v1/models", &h), 200);
    CHECK(is_node_id(h.reqid));
    thttp_free(&h);
    CHECK_EQ_INT(treq_hdr(w->c, w->port, "GET", "/v1/models", NULL, 0, "X-Request-Id: bad id!", &h), 0);
    CHECK(h.status == 200 && is_node_id(h.reqid)); /* an invalid client id is replaced by the node's */
    thttp_free(&h);
}

/* The agent's inference client rents a completion within its budget, and
 * is refused one over it before anything is signed. */
static void test_oai_rent(world *w) {
    char base[64], id[72];
    gt_err err;
    gt_oai *o = NULL;
    snprintf(base, sizeof base, "http://127.0.0.1:%u/v1", w->port);
    CHECK_EQ_INT(gt_agent_file_id(gt_fixture(MODEL), id, &err), 0);
    CHECK(gt_oai_new(base, "m", 0, &o, &err) == 0);
    if (!o) return;
    CHECK_MSG(gt_oai_check_model(o, id, &err) == 0, "%s", err.msg); /* /v1/models is free */
    const int32_t prompt[] = {1, 450, 4996, 17354};
    gt_buf toks = GT_BUF_INIT;
    CHECK_EQ_INT(gt_oai_complete_ids(o, prompt, 4, 4, 32000, &toks, &err), GT_EPERM); /* no payer: a 402 */
    CHECK_CONTAINS(err.msg, "HTTP 402");
    gt_agent_payer p = {.key = &w->pk, .budget = COMPLETION_PRICE + COMPLETION_PRICE / 2, .ledger = w->cl};
    gt_oai_set_payer(o, &p);
    CHECK_MSG(gt_oai_complete_ids(o, prompt, 4, 4, 32000, &toks, &err) == 0, "%s", err.msg);
    CHECK(toks.len > 0 && toks.len <= 4 * sizeof(int32_t));
    const gt_agent_paid *paid = gt_oai_last_paid(o);
    CHECK(paid->paid && paid->amount == COMPLETION_PRICE && p.spent == COMPLETION_PRICE);
    CHECK_STR(paid->network, "gotong:1337");
    CHECK_EQ_U64(balance_of(w->cl, MERCHANT), 4 * CHAT_PRICE + COMPLETION_PRICE);
    toks.len = 0;
    CHECK_EQ_INT(gt_oai_complete_ids(o, prompt, 4, 4, 32000, &toks, &err), GT_EFUNDS);
    CHECK_CONTAINS(err.msg, "budget has 250 left");
    CHECK(toks.len == 0 && p.spent == COMPLETION_PRICE && !gt_oai_last_paid(o)->paid);
    CHECK_EQ_U64(balance_of(w->cl, MERCHANT), 4 * CHAT_PRICE + COMPLETION_PRICE);
    gt_buf_free(&toks);
    gt_oai_free(o);
}

/* An agent renting its `complete` inference from the node (config
 * model_url with model_budget_units, `gotong agent --model-url --model-budget`):
 * each completion request is paid from the agent's account on the node's
 * ledger and the work's bytes are the in-process agent's; a budget short of
 * what the work needs fails the work with no result, having paid only what
 * it could; without a budget the node's 402 fails it, nothing paid. */
static void test_agent_rents(world *w) {
    char node[64], base[72];
    gt_err err = {0};
    gt_agent_model *m = NULL;
    CHECK_MSG(gt_agent_model_load(gt_fixture(MODEL), &m, &err) == 0, "%s", err.msg);
    if (!m) return;
    snprintf(node, sizeof node, "http://127.0.0.1:%u", w->port);
    snprintf(base, sizeof base, "%s/v1", node);
    CHECK_EQ_INT(tmint(w->c, w->port, 2, RENTER, MINTED), 200);
    gt_key k;
    gt_addr ra;
    tkey(RENTER, &k, &ra);
    const char *ps[] = {"The quick brown fox", "Once upon a time", "1, 2, 3,"};
    char *spec_text = gt_complete_spec(gt_agent_model_id(m), ps, 3, 6);
    json_t *spec = json_loads(spec_text, 0, NULL);
    gt_job job = {.spec = spec};
    free(spec_text);
    const gt_skill *sk = gt_skill_find("complete");
    gt_agent_config c = {.name = "renter", .skills = "complete", .roles = GT_ROLE_WORKER, .model = m, .n_threads = 1};
    gt_agent *local = NULL, *renter = NULL, *short_of = NULL, *unpaid = NULL;
    gt_buf r_local = GT_BUF_INIT, r_rent = GT_BUF_INIT, r_none = GT_BUF_INIT;
    CHECK_MSG(gt_agent_new(&c, &k, node, &local, &err) == 0, "%s", err.msg);
    c.model_url = base, c.model_budget_units = 20 * COMPLETION_PRICE;
    CHECK_MSG(gt_agent_new(&c, &k, node, &renter, &err) == 0, "%s", err.msg);
    uint64_t m0 = balance_of(w->cl, MERCHANT);
    if (local && renter) {
        CHECK_MSG(sk->work(local, &job, &r_local, &err) == 0, "%s", err.msg);
        CHECK_MSG(sk->work(renter, &job, &r_rent, &err) == 0, "%s", err.msg);
        CHECK(r_rent.len > 0 && r_rent.len == r_local.len && !memcmp(r_rent.data, r_local.data, r_rent.len));
    }
    uint64_t spent = renter ? gt_agent_model_spent(renter) : 0;
    CHECK_MSG(spent >= COMPLETION_PRICE && spent % COMPLETION_PRICE == 0, "spent %llu", (unsigned long long)spent);
    CHECK_EQ_U64(balance_of(w->cl, MERCHANT), m0 + spent);
    CHECK_EQ_U64(balance_of(w->cl, RENTER), MINTED - spent);
    /* A budget one request short: the work stops at the request it cannot pay; no result. */
    c.model_budget_units = spent - 1;
    CHECK_MSG(gt_agent_new(&c, &k, node, &short_of, &err) == 0, "%s", err.msg);
    if (short_of) {
        CHECK(sk->work(short_of, &job, &r_none, &err) != 0);
        CHECK_CONTAINS(err.msg, "budget");
        CHECK_EQ_U64(gt_agent_model_spent(short_of), spent - COMPLETION_PRICE);
        CHECK_EQ_U64(balance_of(w->cl, RENTER), MINTED - 2 * spent + COMPLETION_PRICE);
    }
    /* No budget: the 402 is an error, nothing is signed. */
    c.model_budget_units = 0;
    CHECK_MSG(gt_agent_new(&c, &k, node, &unpaid, &err) == 0, "%s", err.msg);
    if (unpaid) {
        CHECK(sk->work(unpaid, &job, &r_none, &err) != 0);
        CHECK_CONTAINS(err.msg, "402");
        CHECK_EQ_U64(gt_agent_model_spent(unpaid), 0);
        CHECK_EQ_U64(balance_of(w->cl, RENTER), MINTED - 2 * spent + COMPLETION_PRICE);
    }
    c.model_url = NULL, c.model_budget_units = 1; /* a budget needs a model URL */
    gt_agent *bad = NULL;
    CHECK(gt_agent_new(&c, &k, node, &bad, &err) == GT_EINVAL && bad == NULL);
    CHECK_CONTAINS(err.msg, "needs a model URL");
    gt_buf_free(&r_local), gt_buf_free(&r_rent), gt_buf_free(&r_none);
    gt_agent_free(local), gt_agent_free(renter), gt_agent_free(short_of), gt_agent_free(unpaid);
    json_decref(spec);
    gt_agent_model_free(m);
}

/* Opens w: the model (one slot, streams cancelled after idle_ms of lag),
 * the node over home pricing it, a client of its ledger, PAYER minted.
 * 0 when it runs. */
static int world_open(world *w, const char *home, int idle_ms) {
    char base[64];
    memset(w, 0, sizeof *w);
    write_config(home);
    gt_serve_config sc = gt_serve_defaults();
    sc.model_path = gt_fixture(MODEL), sc.model_id = "m", sc.n_parallel = 1; /* one slot: test_spend_refused */
    sc.stream_lag_tokens = 4, sc.stream_idle_ms = idle_ms, sc.stream_sndbuf_bytes = 4096; /* a held stream stays */
    gt_err err = {0};
    CHECK_MSG(gt_serve_open(&sc, &w->s, &err) == 0, "%s", err.msg);
    if (!w->s) return -1;
    gt_node_config c;
    gt_node_config_default(&c);
    c.home = home, c.listen = "127.0.0.1:0", c.threads = 0, c.block_interval_ms = 0, c.access_log = 0;
    c.ext = gt_serve_ext(w->s);
    CHECK_MSG(gt_node_start(&c, &w->n, &err) == 0, "%s", err.msg);
    if (!w->n) return -1;
    w->port = gt_node_port(w->n);
    w->c = curl_easy_init();
    snprintf(base, sizeof base, "http://127.0.0.1:%u", w->port);
    CHECK_EQ_INT(gt_client_new(base, &w->cl, &err), 0);
    CHECK_EQ_INT(tmint(w->c, w->port, 0, PAYER, MINTED), 200);
    gt_addr pa;
    tkey(PAYER, &w->pk, &pa);
    w->payer = (gt_agent_payer){.key = &w->pk, .budget = 10 * CHAT_PRICE, .ledger = w->cl};
    return 0;
}

static void world_close(world *w) {
    gt_client_free(w->cl);
    if (w->c) curl_easy_cleanup(w->c);
    gt_node_stop(w->n);
    gt_serve_stop(w->s);
}

static void test_node_x402(void) {
    char dir[64];
    const char *home = thome(dir);
    world w;
    if (!world_open(&w, home, 600000)) {
        test_paid_and_replay(&w);
        test_refused_then_stream(&w);
        test_poor(&w);
        test_spend_refused(&w);
        test_free_routes(&w);
        test_oai_rent(&w);
        test_agent_rents(&w);
        test_twice_at_once(&w);
        test_stream_broken(&w);
        test_short_window(&w);
        test_settle_fails(&w); /* last but one: it moves the node's clock ahead */
        test_long_wait(&w);
        test_stream_window(&w); /* last: it moves the node's clock past its window */
    }
    world_close(&w);
    trm(home);
}

/* A paid stream its client stops reading, cancelled by the model for lag
 * (--stream-idle-ms, 300 ms here) after its first tokens, is charged (the
 * client's doing), its receipt in the error event, and its signature is
 * then refused. The old node released it unpaid, the nonce free again. */
static void test_stream_lagging(world *w) {
    char buf[65536] = "", why[256];
    xhttp x;
    CHECK_EQ_INT((int)xpost(w->c, w->port, "/v1/chat/completions", CHAT, NULL, NULL, &x), 402);
    char *sig = sign_offer(w, &x);
    thttp_free(&x.h);
    size_t len = 0;
    int eof = 0, fd = sig ? send_paid(w->port, CHAT_LONG_STREAM, sig) : -1;
    if (fd >= 0) tread_until(fd, buf, sizeof buf, &len, "\r\n\r\n", 120000, NULL);
    CHECK_MSG(!strncmp(buf, "HTTP/1.1 200", 12), "the stream: %.80s", buf);
    for (int i = 0; i < 3000 && queue_count(w, "running") > 0; i++) { /* not reading: cancelled */
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    if (fd >= 0) tread_until(fd, buf, sizeof buf, &len, "data: [DONE]", 120000, &eof);
    CHECK_CONTAINS(buf, "the client took nothing for"); /* the error event: cancelled for lag */
    char receipt[GT_X402_HEADER_MAX + 1];
    stream_receipt(buf, receipt, sizeof receipt);
    CHECK_MSG(receipt[0] != 0, "no payment_response in the lag's error event: %.200s", buf);
    if (receipt[0]) check_receipt(w, receipt);
    if (fd >= 0) close(fd);
    CHECK_EQ_U64(wait_balance(w, PAYER, MINTED - CHAT_PRICE), MINTED - CHAT_PRICE);
    CHECK_EQ_U64(balance_of(w->cl, MERCHANT), CHAT_PRICE);
    CHECK_EQ_INT((int)xpost(w->c, w->port, "/v1/chat/completions", CHAT, sig, NULL, &x), 402);
    gt_x402_refusal(x.x.required, why, sizeof why);
    CHECK_CONTAINS(why, "already used");
    thttp_free(&x.h);
    CHECK_EQ_U64(balance_of(w->cl, MERCHANT), CHAT_PRICE);
    gt_free(sig);
}

/* A paid stream that fails on the server's side after its first tokens
 * (every allocation of the node failing for a while: the model's step or
 * the stream's next chunk runs out of memory) ends cut or with an error
 * event and is not charged: its payment is released, so the same
 * signature then buys a whole stream, paid once. */
static void test_stream_server_fails(world *w) {
    char buf[65536] = "";
    xhttp x;
    uint64_t p0 = balance_of(w->cl, PAYER), m0 = balance_of(w->cl, MERCHANT);
    CHECK_EQ_INT((int)xpost(w->c, w->port, "/v1/chat/completions", CHAT, NULL, NULL, &x), 402);
    char *sig = sign_offer(w, &x);
    thttp_free(&x.h);
    size_t len = 0;
    int eof = 0, fd = sig ? send_paid(w->port, CHAT_LONG_STREAM, sig) : -1;
    if (fd >= 0) tread_until(fd, buf, sizeof buf, &len, "\"content\":\"", 120000, NULL); /* text began */
    CHECK_MSG(!strncmp(buf, "HTTP/1.1 200", 12), "the stream: %.80s", buf);
    gt_alloc_fail_after(0);
    if (fd >= 0) tread_until(fd, buf, sizeof buf, &len, "data: [DONE]", 20000, &eof);
    gt_alloc_fail_after(-1);
    CHECK_MSG(eof || strstr(buf, "out of memory"), "the stream went on: %.200s", len > 200 ? buf + len - 200 : buf);
    CHECK(!strstr(buf, "payment_response"));
    if (fd >= 0) close(fd);
    wait_idle(w);
    CHECK_EQ_U64(balance_of(w->cl, PAYER), p0);
    CHECK_EQ_U64(balance_of(w->cl, MERCHANT), m0);
    long st = 0;
    for (int i = 0; i < 500 && sig; i++) { /* the node releases the payment once the stream has ended */
        st = xpost(w->c, w->port, "/v1/chat/completions", CHAT_STREAM, sig, NULL, &x);
        if (st == 200 || !strstr(x.h.body, "being used by another request")) break;
        thttp_free(&x.h);
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    CHECK_MSG(st == 200, "the same payment again: %ld %.200s", st, x.h.body);
    check_paid_stream(w, x.x.response, x.h.body);
    thttp_free(&x.h);
    CHECK_EQ_U64(balance_of(w->cl, PAYER), p0 - CHAT_PRICE);
    CHECK_EQ_U64(balance_of(w->cl, MERCHANT), m0 + CHAT_PRICE);
    gt_free(sig);
}

/* The stream tests that need streams cancelled for lag soon (300 ms). */
static void test_stream_fails_midway(void) {
    char dir[64];
    const char *home = thome(dir);
    world w;
    if (!world_open(&w, home, 300)) {
        test_stream_lagging(&w);
        test_stream_server_fails(&w);
    }
    world_close(&w);
    trm(home);
}

/* A price for a route neither the node nor its model has is refused at start. */
static void test_unknown_route_refused(void) {
    char dir[64], path[128];
    const char *home = thome(dir);
    snprintf(path, sizeof path, "%s/x402.json", home);
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    if (!f) return;
    fprintf(f, "{\"settle\": \"ledger\", \"payTo\": \"0x%040d\", \"maxTimeoutSeconds\": 300, \"prices\": "
               "{\"POST /v1/chat/completions\": \"5\"}}\n", 1);
    fclose(f);
    gt_node_config c;
    gt_node_config_default(&c);
    c.home = home, c.listen = "127.0.0.1:0", c.threads = 0, c.access_log = 0;
    gt_node *n = NULL;
    gt_err err = {0};
    CHECK(gt_node_start(&c, &n, &err) != 0); /* no model: no such route */
    CHECK_CONTAINS(err.msg, "the node has no route POST /v1/chat/completions");
    gt_node_stop(n);
    trm(home);
}

int main(void) {
    signal(SIGPIPE, SIG_IGN);
    gt_err err;
    if (gt_client_global_init(&err)) return 1;
    RUN(test_unknown_route_refused);
    RUN(test_node_x402);
    RUN(test_stream_fails_midway);
    return gt_test_finish();
}
