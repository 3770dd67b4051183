/* test_serve_x402_chain.c: an inference route of `gotong node -m` priced
 * with x402 v2 and settled on a real anvil chain (the EVM "exact" scheme: an
 * EIP-3009 transferWithAuthorization of the test token). HOME/x402.json
 * prices POST /v1/completions; the agent's inference client (agent/oai.h)
 * without a payer is refused (402); with one it pays a completion within its
 * budget and gets its tokens, the merchant paid on chain; a completion the
 * model refuses (a token id outside the vocabulary) is not charged; a price
 * over what is left of the budget is refused before anything is signed.
 * One payer holds at most 8 payments in flight (random nonces: one funded
 * payer could otherwise hold every one of the node's 256 payment slots with
 * requests it never lets finish): its 9th is refused while another payer
 * still gets in, and the slots of its requests that hang up while they wait
 * are free again at once.
 * Skipped (exit 77) without anvil or the contracts. */
#include <signal.h>
#include <sys/stat.h>

#include "../test.h"
#include "../api/api_util.h"
#include "../chain/anvil.h"
#include "agent/oai.h"
#include "agent/pay.h"
#include "api/ext.h"
#include "api/x402.h"
#include "chain/abi_decode.h"
#include "chain/escrow.h"
#include "chain/x402.h"
#include "serve/serve.h"

#define PRICE 700
#define MODEL "models/tiny-llama-q8_0.gguf"
static gt_chain C;
static gt_chain_account DEPLOYER, PAYER, FACILITATOR, MERCHANT, OTHER;
static gt_addr TOKEN;

/* The token balance of who. */
static uint64_t balance(const gt_addr *who) {
    uint64_t v;
    CHECK_EQ_INT(anvil_token_balance(&C, &TOKEN, who, &v), 0);
    return v;
}

/* HOME/x402.json pricing POST /v1/completions on the chain, and the facilitator's key. */
static void write_config(const char *home) {
    char path[128], token[GT_ADDR_STR_BYTES], to[GT_ADDR_STR_BYTES], hex[65];
    gt_addr_to_str(&TOKEN, token);
    gt_addr_to_str(&MERCHANT.addr, to);
    snprintf(path, sizeof path, "%s/x402.json", home);
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    if (!f) return;
    fprintf(f, "{\"rpc\": \"%s\", \"token\": \"%s\", \"tokenName\": \"Gotong Test Token\", \"tokenVersion\": \"1\", "
               "\"payTo\": \"%s\", \"facilitatorKeyFile\": \"x402.key\", \"maxTimeoutSeconds\": 300, "
               "\"prices\": {\"POST /v1/completions\": \"%d\"}}\n", anvil_url, token, to, PRICE);
    fclose(f);
    snprintf(path, sizeof path, "%s/x402.key", home);
    gt_hex_encode(FACILITATOR.key.priv, 32, hex);
    f = fopen(path, "w");
    CHECK(f != NULL);
    if (!f) return;
    fprintf(f, "%s\n", hex);
    fclose(f);
    CHECK_EQ_INT(chmod(path, 0600), 0);
}

/* The client's rent: refused unpaid, paid within the budget, not charged
 * for a refused request, refused over the budget. */
static void rent(const char *base) {
    gt_oai *o = NULL;
    gt_err err;
    gt_buf toks = GT_BUF_INIT;
    const int32_t prompt[] = {1, 450, 4996}, bad[] = {1, 40000};
    CHECK(gt_oai_new(base, "m", 0, &o, &err) == 0);
    if (!o) return;
    uint64_t p0 = balance(&PAYER.addr), m0 = balance(&MERCHANT.addr);
    CHECK_EQ_INT(gt_oai_complete_ids(o, prompt, 3, 4, 32000, &toks, &err), GT_EPERM);
    CHECK_CONTAINS(err.msg, "HTTP 402");
    gt_agent_payer ap = {.key = &PAYER.key, .budget = 2 * PRICE + PRICE / 2, .evm_chain_id = C.chain_id,
                         .evm_asset = TOKEN};
    gt_oai_set_payer(o, &ap);
    CHECK_MSG(gt_oai_complete_ids(o, prompt, 3, 4, 32000, &toks, &err) == 0, "%s", err.msg);
    CHECK(toks.len > 0 && toks.len <= 4 * sizeof(int32_t));
    const gt_agent_paid *paid = gt_oai_last_paid(o);
    CHECK(paid->paid && paid->amount == PRICE && ap.spent == PRICE);
    CHECK_EQ_U64(balance(&PAYER.addr), p0 - PRICE);
    CHECK_EQ_U64(balance(&MERCHANT.addr), m0 + PRICE);
    /* Refused by the model after the payment was verified: not settled. */
    CHECK_EQ_INT(gt_oai_complete_ids(o, bad, 2, 4, 32000, &toks, &err), GT_EINVAL);
    CHECK_CONTAINS(err.msg, "outside this model's vocabulary");
    CHECK(!gt_oai_last_paid(o)->paid && ap.spent == 2 * PRICE); /* signed, so counted, but never settled */
    CHECK_EQ_U64(balance(&PAYER.addr), p0 - PRICE);
    CHECK_EQ_U64(balance(&MERCHANT.addr), m0 + PRICE);
    /* What is left of the budget (350) is under the price: nothing signed. */
    CHECK_EQ_INT(gt_oai_complete_ids(o, prompt, 3, 4, 32000, &toks, &err), GT_EFUNDS);
    CHECK(ap.spent == 2 * PRICE);
    CHECK_EQ_U64(balance(&MERCHANT.addr), m0 + PRICE);
    gt_buf_free(&toks);
    gt_oai_free(o);
}

static const char *const LONG_STREAM =
    "{\"model\":\"m\",\"prompt\":\"Hi\",\"max_tokens\":1500,\"stream\":true}";
static const char *const SHORT = "{\"model\":\"m\",\"prompt\":\"Hi\",\"max_tokens\":4}";

/* A raw POST /v1/completions of body (paid with sig unless NULL) on a
 * connection with a small receive buffer: its socket. */
static int send_raw(uint16_t port, const char *body, const char *sig) {
    int fd = socket(AF_INET, SOCK_STREAM, 0), rcvbuf = 2048;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a)) {
        CHECK_MSG(0, "cannot connect to port %u", port);
        if (fd >= 0) close(fd);
        return -1;
    }
    size_t cap = strlen(body) + (sig ? strlen(sig) : 0) + 256;
    char *req = malloc(cap);
    int n = snprintf(req, cap, "POST /v1/completions HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                     "Content-Length: %zu\r\n%s%s%s\r\n%s", strlen(body), sig ? "PAYMENT-SIGNATURE: " : "",
                     sig ? sig : "", sig ? "\r\n" : "", body);
    CHECK(n > 0 && write(fd, req, (size_t)n) == n);
    free(req);
    return fd;
}

/* The answer's head on fd (read until its body begins, 60 s at most) into
 * buf; its PAYMENT-REQUIRED value into req ("" when none). */
static void read_head(int fd, char *buf, size_t cap, char req[GT_X402_HEADER_MAX + 1]) {
    size_t len = 0;
    buf[0] = req[0] = 0;
    if (fd >= 0) tread_until(fd, buf, cap, &len, "\r\n\r\n", 60000, NULL);
    const char *v = strstr(buf, "PAYMENT-REQUIRED:");
    if (v) sscanf(v + 17, " %8192[^\r\n]", req);
}

/* p's PAYMENT-SIGNATURE for the node's offer (asked for unpaid). */
static char *sign_for(uint16_t port, gt_agent_payer *p) {
    char buf[16384], req[GT_X402_HEADER_MAX + 1], *sig = NULL;
    gt_agent_paid paid;
    gt_err err;
    int fd = send_raw(port, SHORT, NULL);
    read_head(fd, buf, sizeof buf, req);
    if (fd >= 0) close(fd);
    CHECK_MSG(!strncmp(buf, "HTTP/1.1 402", 12) && req[0], "unpaid: %.80s", buf);
    CHECK_MSG(gt_agent_pay_sign(p, req, &sig, &paid, &err) == 0, "%s", err.msg);
    return sig;
}

/* The model's queue.<key> in the node's /health. */
static long long queue_of(CURL *c, uint16_t port, const char *key) {
    thttp h;
    CHECK_EQ_INT((int)tget(c, port, "/health", &h), 200);
    json_t *j = json_loads(h.body, 0, NULL);
    long long v = json_integer_value(json_object_get(json_object_get(json_object_get(j, "model"), "queue"), key));
    json_decref(j);
    thttp_free(&h);
    return v;
}

/* Polls queue.<key> until it is want (bounded only to fail, not hang). */
static void wait_queue_is(CURL *c, uint16_t port, const char *key, long long want) {
    for (int i = 0; i < 6000 && queue_of(c, port, key) != want; i++) {
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    CHECK_EQ_INT((int)queue_of(c, port, key), (int)want);
}

/* A paid request of p (body) that waits: its socket, once the model has it
 * queued (waiting reaches `waiting`). */
static int paid_waiting(CURL *c, uint16_t port, gt_agent_payer *p, long long waiting) {
    char *sig = sign_for(port, p);
    int fd = sig ? send_raw(port, SHORT, sig) : -1;
    wait_queue_is(c, port, "waiting", waiting);
    gt_free(sig);
    return fd;
}

/* One payer's payments in flight are bounded (GT_API_X402_HELD_PER_PAYER):
 * the model's one slot held by the payer's stream it does not read, 7 more
 * of its requests waiting, its 9th is refused (402) before the model sees
 * it, while another payer's request still gets in; once 7 of its waiting
 * requests hang up their slots are free at once, so it gets in again. The
 * old node took them all (one funded payer could hold all 256 slots).
 * The held stream, hung up on by its client, is charged once (a client's
 * ending, api/x402.h); the requests that hang up while waiting, before the
 * model ran, are not. */
static void per_payer(uint16_t port) {
    CURL *c = curl_easy_init();
    gt_agent_payer ap = {.key = &PAYER.key, .budget = 100 * PRICE, .evm_chain_id = C.chain_id, .evm_asset = TOKEN};
    gt_agent_payer op = {.key = &OTHER.key, .budget = 100 * PRICE, .evm_chain_id = C.chain_id, .evm_asset = TOKEN};
    uint64_t p0 = balance(&PAYER.addr), o0 = balance(&OTHER.addr);
    char buf[16384], req[GT_X402_HEADER_MAX + 1], why[256];
    int fds[9], n = 0;
    char *sig = sign_for(port, &ap);
    fds[n] = sig ? send_raw(port, LONG_STREAM, sig) : -1;
    read_head(fds[n++], buf, sizeof buf, req);
    CHECK_MSG(!strncmp(buf, "HTTP/1.1 200", 12), "the held stream: %.80s", buf);
    gt_free(sig);
    wait_queue_is(c, port, "running", 1);
    while (n < GT_API_X402_HELD_PER_PAYER) fds[n] = paid_waiting(c, port, &ap, n), n++;
    sig = sign_for(port, &ap);
    int over = sig ? send_raw(port, SHORT, sig) : -1;
    read_head(over, buf, sizeof buf, req);
    gt_x402_refusal(req, why, sizeof why);
    CHECK_MSG(!strncmp(buf, "HTTP/1.1 402", 12), "the payer's 9th in flight: %.80s", buf);
    CHECK_CONTAINS(why, "payments in flight");
    if (over >= 0) close(over);
    gt_free(sig);
    CHECK_EQ_INT((int)queue_of(c, port, "waiting"), GT_API_X402_HELD_PER_PAYER - 1); /* never queued */
    int other = paid_waiting(c, port, &op, GT_API_X402_HELD_PER_PAYER);
    for (int i = 1; i < n; i++)
        if (fds[i] >= 0) close(fds[i]); /* hang up while waiting */
    wait_queue_is(c, port, "waiting", 1);
    fds[1] = paid_waiting(c, port, &ap, 2); /* its slots were freed as the node saw the hang-ups */
    for (int i = 0; i < 2; i++)
        if (fds[i] >= 0) close(fds[i]);
    if (other >= 0) close(other);
    wait_queue_is(c, port, "waiting", 0);
    wait_queue_is(c, port, "running", 0);
    for (int i = 0; i < 3000 && balance(&PAYER.addr) == p0; i++) { /* settled as the node saw it gone */
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    CHECK_EQ_U64(balance(&PAYER.addr), p0 - PRICE);
    CHECK_EQ_U64(balance(&OTHER.addr), o0);
    curl_easy_cleanup(c);
}

static void test_paid_inference(void) {
    char dir[64], base[64];
    const char *home = thome(dir);
    write_config(home);
    gt_serve_config sc = gt_serve_defaults();
    sc.model_path = gt_fixture(MODEL), sc.model_id = "m", sc.n_parallel = 1; /* one slot: per_payer */
    sc.stream_lag_tokens = 4, sc.stream_idle_ms = 600000, sc.stream_sndbuf_bytes = 4096; /* a held stream stays */
    gt_serve *s = NULL;
    gt_err err = {0};
    CHECK_MSG(gt_serve_open(&sc, &s, &err) == 0, "%s", err.msg);
    gt_node_config c;
    gt_node_config_default(&c);
    c.home = home, c.listen = "127.0.0.1:0", c.threads = 0, c.block_interval_ms = 0, c.access_log = 0;
    c.ext = s ? gt_serve_ext(s) : NULL;
    gt_node *n = NULL;
    CHECK_MSG(s && gt_node_start(&c, &n, &err) == 0, "%s", err.msg);
    if (n) {
        snprintf(base, sizeof base, "http://127.0.0.1:%u/v1", gt_node_port(n));
        rent(base);
        per_payer(gt_node_port(n));
    }
    gt_node_stop(n);
    gt_serve_stop(s);
    trm(home);
}

int main(void) {
    signal(SIGPIPE, SIG_IGN);
    anvil_require(1);
    gt_err err;
    if (gt_client_global_init(&err) || anvil_start(&C)) return 1;
    const char *seeds[] = {"serve x402 deployer", "serve x402 payer", "serve x402 facilitator", "serve x402 merchant",
                           "serve x402 other"};
    gt_chain_account *acct[] = {&DEPLOYER, &PAYER, &FACILITATOR, &MERCHANT, &OTHER};
    for (int i = 0; i < 5; i++) CHECK_EQ_INT(anvil_account(&C, seeds[i], acct[i]), 0);
    uint64_t gas;
    CHECK_EQ_INT(anvil_deploy(&C, &DEPLOYER, "GotongToken", NULL, 0, &TOKEN, &gas), 0);
    gt_abi_val mint[] = {gt_abi_address(&PAYER.addr), gt_abi_uint(1000000)};
    gt_chain_receipt r = {0};
    CHECK_EQ_INT(gt_chain_invoke(&C, &TOKEN, &DEPLOYER, "mint(address,uint256)", mint, 2, &r, NULL, NULL), 0);
    gt_chain_receipt_free(&r);
    gt_abi_val mint_other[] = {gt_abi_address(&OTHER.addr), gt_abi_uint(1000000)};
    CHECK_EQ_INT(gt_chain_invoke(&C, &TOKEN, &DEPLOYER, "mint(address,uint256)", mint_other, 2, &r, NULL, NULL), 0);
    gt_chain_receipt_free(&r);
    RUN(test_paid_inference);
    for (int i = 0; i < 5; i++) gt_chain_account_wipe(acct[i]);
    gt_chain_close(&C);
    return gt_test_finish();
}
