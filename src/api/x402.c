/* x402.c: the node's paid routes (see x402.h). */
#include "api/x402.h"

#include <assert.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "base/alloc.h"
#include "base/file.h"
#include "base/hex.h"
#include "base/json.h"
#include "base/log.h"
#include "base/num.h"
#include "crypto/addr.h"

typedef struct x402_price {
    char method[8], pattern[GT_ROUTE_PATH_MAX];
    uint64_t amount;
} x402_price;

struct gt_api_x402 {
    int ledger; /* settle on the node's embedded ledger, not on a chain */
    pthread_mutex_t mu; /* one settlement at a time: the chain handle and the facilitator's nonces */
    gt_chain chain;
    /* The token's reads before a route (chain_precheck), on their own
     * connection: behind mu they would wait for every settlement queued. */
    pthread_mutex_t view_mu;
    gt_chain view;
    gt_chain_account facilitator;
    gt_x402_req base; /* chain, token, payTo, timeout, domain; amount and url per route */
    x402_price prices[GT_API_X402_MAX_PRICES];
    int n_prices;
    /* The payments checked and not yet settled or released: a second
     * request carrying one of them is refused at once. Without this, one
     * signature sent on many connections at once ran the route on each (a
     * model's answer apiece) for a single settlement. */
    pthread_mutex_t held_mu;
    uint8_t held[GT_API_X402_HELD_MAX][GT_API_X402_HELD_KEY];
    int n_held;
    gt_node *clock_node; /* on the ledger: the node whose clock the windows are on (atomic; NULL: none yet) */
};

/* The facilitator's secret from a 0600 file of hex (a relative path is under home). */
static int load_key(const char *home, const char *file, gt_key *k, gt_err *err) {
    char path[4200];
    struct stat st;
    uint8_t *text = NULL, priv[32];
    size_t len = 0;
    if (file[0] == '/') snprintf(path, sizeof path, "%s", file);
    else snprintf(path, sizeof path, "%s/%s", home, file);
    if (stat(path, &st)) return gt_err_set(err, GT_ENOTFOUND, "facilitatorKeyFile %s: cannot read it", path);
    if (st.st_mode & 077)
        return gt_err_set(err, GT_EPERM, "facilitatorKeyFile %s: readable by others (mode %03o); chmod 600 it", path,
                          (unsigned)(st.st_mode & 0777));
    int rc = gt_file_read(path, 256, &text, &len, err);
    while (!rc && len && (text[len - 1] == '\n' || text[len - 1] == '\r' || text[len - 1] == ' ')) text[--len] = 0;
    if (!rc) rc = gt_hex_decode((const char *)text, priv, 32, "facilitatorKeyFile", err);
    if (!rc) rc = gt_key_from_bytes(k, priv, err);
    memset(priv, 0, sizeof priv);
    if (text) memset(text, 0, len);
    gt_free(text);
    return rc;
}

/* "METHOD PATTERN": "amount" entries, each a route the node has. */
static int load_prices(gt_api_x402 *x, const json_t *prices, gt_api_x402_known_fn known, void *cls, gt_err *err) {
    const char *key;
    json_t *v;
    if (!json_is_object(prices) || json_object_size(prices) == 0 || json_object_size(prices) > GT_API_X402_MAX_PRICES)
        return gt_err_set(err, GT_EINVAL, "prices: expected an object of 1 to %d \"METHOD /pattern\": \"base units\"",
                          GT_API_X402_MAX_PRICES);
    json_object_foreach((json_t *)prices, key, v) {
        x402_price *p = &x->prices[x->n_prices];
        const char *sp = strchr(key, ' '), *s = json_string_value(v);
        if (!sp || (size_t)(sp - key) >= sizeof p->method || strlen(sp + 1) >= sizeof p->pattern)
            return gt_err_set(err, GT_EINVAL, "prices: key \"%.80s\" is not \"METHOD /pattern\"", key);
        memcpy(p->method, key, (size_t)(sp - key));
        snprintf(p->pattern, sizeof p->pattern, "%s", sp + 1);
        if (!known(cls, p->method, p->pattern))
            return gt_err_set(err, GT_EINVAL, "prices: the node has no route %.80s", key);
        if (!strcmp(p->pattern, "/v1/events")) /* an answer that never ends cannot be settled before it is sent */
            return gt_err_set(err, GT_EINVAL, "prices: %.80s is an event stream and cannot be priced", key);
        /* The node's own routes other than GET change its state (an action
         * applied, a blob stored) in the handler, before the payment settles:
         * a payer that spends its nonce or its balance in between, or sends
         * one signature on several requests at once, keeps the change unpaid
         * (only the answer is withheld). An extension's routes compute. */
        if (strcmp(p->method, "GET") && gt_api_route_known(p->method, p->pattern))
            return gt_err_set(err, GT_EINVAL, "prices: %.80s changes the node's state before its payment settles, so a "
                              "payer could keep the change unpaid: only GET routes (and the extension's) are priced",
                              key);
        if (!s || gt_parse_u64(s, key, 1, UINT64_MAX, &p->amount, err))
            return gt_err_set(err, GT_EINVAL, "prices: %.80s: expected base units as a decimal string", key);
        x->n_prices++;
    }
    return 0;
}

/* The least window a payment must have left when it is checked: room for
 * its route and its settlement after it (a chain's receipt, up to
 * GT_API_X402_WAIT_MS). A shorter one is refused, never settled before its
 * route: a payment settled first was charged for the route's 4xx/5xx, a
 * full queue's 429 or a client gone (x402.h, fail closed). */
static uint64_t window_for(int ledger) {
    return 2 * (GT_API_X402_SETTLE_MARGIN_S + (ledger ? 0 : GT_API_X402_WAIT_MS / 1000));
}

/* maxTimeoutSeconds within 1..GT_X402_MAX_TIMEOUT_S, and not under the
 * least window (on the ledger or a chain): an offer every payment signed to
 * would be refused. */
static int check_timeout(const gt_api_x402 *x, int ledger, gt_err *err) {
    uint64_t t = x->base.max_timeout_s;
    if (t == 0 || t > GT_X402_MAX_TIMEOUT_S)
        return gt_err_set(err, GT_EINVAL, "maxTimeoutSeconds: expected 1 to %d", GT_X402_MAX_TIMEOUT_S);
    if (t < window_for(ledger))
        return gt_err_set(err, GT_EINVAL, "maxTimeoutSeconds: %llu is under %llu, the least window a payment needs "
                          "to be settled after its route: every payment would be refused", (unsigned long long)t,
                          (unsigned long long)window_for(ledger));
    return 0;
}

/* "settle": "ledger": payTo, maxTimeoutSeconds and prices only. */
static int load_ledger_config(gt_api_x402 *x, const json_t *j, gt_api_x402_known_fn known, void *cls, gt_err *err) {
    static const char *const fields[] = {"settle", "payTo", "maxTimeoutSeconds", "prices", NULL};
    const char *settle, *pay_to;
    int rc;
    if ((rc = gt_json_only_fields(j, fields, "x402.json (settle: ledger)", err)) ||
        (rc = gt_json_get_str(j, "settle", 16, &settle, err)) || (rc = gt_json_get_str(j, "payTo", 42, &pay_to, err)) ||
        (rc = gt_json_get_u64(j, "maxTimeoutSeconds", &x->base.max_timeout_s, err)) ||
        (rc = gt_addr_parse(pay_to, &x->base.pay_to, err)) ||
        (rc = load_prices(x, json_object_get(j, "prices"), known, cls, err)))
        return rc;
    if ((rc = check_timeout(x, 1, err))) return rc;
    x->ledger = 1;
    return 0;
}

/* The config's fields into x; opens the chain (its id must answer). */
static int load_config(gt_api_x402 *x, const char *home, const json_t *j, gt_api_x402_known_fn known, void *cls,
                       gt_err *err) {
    static const char *const fields[] = {"rpc", "token", "tokenName", "tokenVersion", "payTo", "facilitatorKeyFile",
                                         "maxTimeoutSeconds", "prices", "settle", NULL};
    const char *rpc, *token, *name, *version, *pay_to, *key_file;
    const char *settle = json_string_value(json_object_get(j, "settle"));
    int rc;
    if (settle && !strcmp(settle, "ledger")) return load_ledger_config(x, j, known, cls, err);
    if ((!settle && json_object_get(j, "settle")) || (settle && strcmp(settle, "chain")))
        return gt_err_set(err, GT_EINVAL, "settle: expected \"chain\" (the default) or \"ledger\"");
    if ((rc = gt_json_only_fields(j, fields, "x402.json", err)) || (rc = gt_json_get_str(j, "rpc", 256, &rpc, err)) ||
        (rc = gt_json_get_str(j, "token", 42, &token, err)) ||
        (rc = gt_json_get_str(j, "tokenName", sizeof x->base.name - 1, &name, err)) ||
        (rc = gt_json_get_str(j, "tokenVersion", sizeof x->base.version - 1, &version, err)) ||
        (rc = gt_json_get_str(j, "payTo", 42, &pay_to, err)) ||
        (rc = gt_json_get_str(j, "facilitatorKeyFile", 1024, &key_file, err)) ||
        (rc = gt_json_get_u64(j, "maxTimeoutSeconds", &x->base.max_timeout_s, err)) ||
        (rc = gt_addr_parse(token, &x->base.asset, err)) || (rc = gt_addr_parse(pay_to, &x->base.pay_to, err)) ||
        (rc = load_prices(x, json_object_get(j, "prices"), known, cls, err)))
        return rc;
    if ((rc = check_timeout(x, 0, err))) return rc;
    snprintf(x->base.name, sizeof x->base.name, "%s", name);
    snprintf(x->base.version, sizeof x->base.version, "%s", version);
    gt_key k;
    if ((rc = load_key(home, key_file, &k, err))) return rc;
    rc = gt_chain_account_init(&x->facilitator, &k, err);
    gt_key_wipe(&k);
    if (!rc && (rc = gt_chain_open(rpc, &x->chain, err))) gt_err_wrap(err, "x402.json: the chain at %s", rpc);
    if (!rc && (rc = gt_chain_open(rpc, &x->view, err))) gt_err_wrap(err, "x402.json: the chain at %s", rpc);
    x->base.chain_id = x->chain.chain_id;
    x->chain.wait_ms = GT_API_X402_WAIT_MS;
    return rc;
}

int gt_api_x402_open(const char *home, gt_api_x402_known_fn known, void *cls, gt_api_x402 **out, gt_err *err) {
    char path[4200];
    uint8_t *text = NULL;
    size_t len = 0;
    json_t *j = NULL;
    *out = NULL;
    snprintf(path, sizeof path, "%s/x402.json", home);
    if (!gt_file_exists(path)) return 0;
    gt_api_x402 *x = gt_calloc(1, sizeof *x);
    if (!x) return gt_err_set(err, GT_ENOMEM, "out of memory");
    pthread_mutex_init(&x->mu, NULL);
    pthread_mutex_init(&x->held_mu, NULL);
    pthread_mutex_init(&x->view_mu, NULL);
    int rc = gt_file_read(path, GT_API_X402_CONFIG_MAX, &text, &len, err);
    if (!rc) rc = gt_json_parse((const char *)text, len, GT_API_X402_CONFIG_MAX, &j, err);
    if (!rc) rc = load_config(x, home, j, known, cls, err);
    json_decref(j);
    gt_free(text);
    if (rc) {
        gt_api_x402_close(x);
        return gt_err_wrap(err, "%s", path);
    }
    char to[GT_ADDR_STR_BYTES];
    gt_addr_to_str(&x->base.pay_to, to);
    if (x->ledger) GT_INFO("node: x402 on: %d paid route(s), paid to %s on the node's ledger", x->n_prices, to);
    else GT_INFO("node: x402 on: %d paid route(s), paid to %s on chain %llu", x->n_prices, to,
                 (unsigned long long)x->base.chain_id);
    *out = x;
    return 0;
}

void gt_api_x402_close(gt_api_x402 *x) {
    if (!x) return;
    if (x->chain.rpc) gt_chain_close(&x->chain);
    if (x->view.rpc) gt_chain_close(&x->view);
    gt_chain_account_wipe(&x->facilitator);
    pthread_mutex_destroy(&x->mu);
    pthread_mutex_destroy(&x->held_mu);
    pthread_mutex_destroy(&x->view_mu);
    gt_free(x);
}

/* o becomes a 402 offering req (on node's ledger when node is not NULL),
 * with why as PAYMENT-REQUIRED's error and the body's message. */
static void answer_402(const gt_x402_req *req, gt_node *node, const char *why, gt_resp *o) {
    if (o->raw) MHD_destroy_response(o->raw); /* a handler-built answer (a file of the dashboard), never sent */
    gt_free(o->body);
    gt_free(o->extra_value);
    memset(o, 0, sizeof *o);
    gt_resp_error(o, 402, GT_EPERM, "payment required: %s", why);
    gt_err err;
    int rc = node ? gt_x402_ledger_required(req, gt_ledger_domain(node->ledger), why, &o->extra_value, &err)
                  : gt_x402_required_header(req, why, &o->extra_value, &err);
    if (rc)
        gt_resp_error(o, 500, err.code, "x402: %s", err.msg);
    else
        o->extra_name = "PAYMENT-REQUIRED";
}

/* On the ledger: a payment it would refuse now (a nonce already used, one
 * that skips ahead of the payer's next, a payer short of the price) is
 * refused before the handler runs, so a replayed payment costs the node no
 * work (a model's answer). A nonce ahead of the payer's next can never
 * settle while the server holds it (the ledger takes nonces in order and
 * the payer alone makes the ones between): let through, one signature
 * bought the route's work on every request until its window closed, each
 * answer withheld. The settlement checks again, whatever this saw. */
static int ledger_precheck(gt_req *r, const gt_action *a, uint64_t amount, gt_err *err) {
    gt_account acct;
    gt_reader *rd = gt_req_reader(r, err);
    if (!rd || gt_ledger_account(rd->ro, &a->from, &acct, err)) return err->code ? err->code : GT_EIO;
    if (a->nonce < acct.nonce)
        return gt_err_set(err, GT_ENONCE, "the ledger refused the payment: nonce %llu already used; next is %llu",
                          (unsigned long long)a->nonce, (unsigned long long)acct.nonce);
    if (a->nonce > acct.nonce)
        return gt_err_set(err, GT_ENONCE, "the ledger would refuse the payment: nonce %llu skips ahead of the "
                          "payer's next, %llu (sign the payment with the next nonce)",
                          (unsigned long long)a->nonce, (unsigned long long)acct.nonce);
    if (acct.balance < amount)
        return gt_err_set(err, GT_EFUNDS, "the ledger refused the payment: the payer holds %llu base units, the "
                          "price is %llu", (unsigned long long)acct.balance, (unsigned long long)amount);
    return 0;
}

/* On a chain: an authorization the token would refuse now (its nonce used,
 * its payer short of the price) is refused before the route runs, as
 * ledger_precheck does on the ledger: a replayed authorization, or one
 * signed by a fresh unfunded key, ran the route (a model's answer) on
 * every request until its window closed, each answer withheld at the
 * settlement. The settlement checks again, whatever this saw. */
static int chain_precheck(gt_api_x402 *x, const gt_api_x402_pay *p, gt_err *err) {
    pthread_mutex_lock(&x->view_mu);
    int rc = gt_x402_precheck(&x->view, &p->req, &p->auth, err);
    pthread_mutex_unlock(&x->view_mu);
    return rc ? gt_err_wrap(err, "the payment would not settle") : 0;
}

/* Puts p's payment (its payer and nonce) among those in flight; GT_EEXIST
 * when another request holds it now, GT_ELIMIT when its payer has
 * GT_API_X402_HELD_PER_PAYER in flight or the table is full. */
static int held_take(gt_api_x402 *x, gt_api_x402_pay *p, gt_err *err) {
    uint8_t *k = p->held_key;
    memset(k, 0, GT_API_X402_HELD_KEY);
    if (p->node) {
        memcpy(k, p->act.from.b, 20);
        for (int i = 0; i < 8; i++) k[20 + 24 + i] = (uint8_t)(p->act.nonce >> (56 - 8 * i));
    } else {
        memcpy(k, p->auth.from.b, 20);
        memcpy(k + 20, p->auth.nonce, 32);
    }
    int rc = 0, of_payer = 0;
    pthread_mutex_lock(&x->held_mu);
    for (int i = 0; !rc && i < x->n_held; i++) {
        if (!memcmp(x->held[i], k, GT_API_X402_HELD_KEY))
            rc = gt_err_set(err, GT_EEXIST, "this payment is being used by another request now: one payment pays "
                                            "for one request");
        of_payer += !memcmp(x->held[i], k, 20);
    }
    if (!rc && of_payer >= GT_API_X402_HELD_PER_PAYER)
        rc = gt_err_set(err, GT_ELIMIT, "this payer has %d payments in flight, the most one payer may have; retry "
                        "when one has been answered", of_payer);
    /* Full, the payment is refused: let through unheld, a copy of it could
     * run its route beside it (on a chain nothing else stops that), one of
     * the two then withheld unpaid with its work done. */
    if (!rc && x->n_held == GT_API_X402_HELD_MAX)
        rc = gt_err_set(err, GT_ELIMIT, "the node has %d payments in flight, the most it holds; retry shortly",
                        GT_API_X402_HELD_MAX);
    if (!rc) {
        memcpy(x->held[x->n_held++], k, GT_API_X402_HELD_KEY);
        p->held = 1;
    }
    pthread_mutex_unlock(&x->held_mu);
    return rc;
}

/* The ledger reserves as many nonces as the node holds payments in flight:
 * a full table refuses (fail closed), so it must not be the smaller. */
_Static_assert(GT_API_X402_HELD_MAX <= GT_LEDGER_RESERVE_MAX, "the ledger's reservations hold every payment in flight");

/* Reserves p's nonce for its payment on the node's ledger (see
 * gt_api_x402_check), until the payment's validBefore at most: it cannot
 * settle later, so a reservation never released blocks nothing longer. */
static int ledger_reserve(gt_api_x402_pay *p, gt_err *err) {
    assert(p->node && !p->reserved);
    int fb = gt_action_field(p->act.kind, "validBefore");
    assert(fb >= 0); /* a payment: gt_x402_ledger_verify checked its kind */
    if (gt_ledger_reserve(p->node->ledger, &p->act.from, p->act.nonce, p->act.id, p->act.f[fb].u64, err))
        return gt_err_wrap(err, "the payment could not be reserved for this request");
    p->reserved = 1;
    return 0;
}

void gt_api_x402_release(gt_api_x402 *x, gt_api_x402_pay *p) {
    if (!x || !p) return;
    if (p->reserved) { /* once its settlement has been answered: the nonce is used, or free again */
        assert(p->node);
        gt_ledger_unreserve(p->node->ledger, &p->act.from, p->act.nonce, p->act.id);
        p->reserved = 0;
    }
    if (!p->held) return;
    pthread_mutex_lock(&x->held_mu);
    for (int i = 0; i < x->n_held; i++)
        if (!memcmp(x->held[i], p->held_key, GT_API_X402_HELD_KEY)) {
            memcpy(x->held[i], x->held[--x->n_held], GT_API_X402_HELD_KEY);
            break;
        }
    pthread_mutex_unlock(&x->held_mu);
    p->held = 0;
}

/* Submits p's payment (on its ledger, or on the chain, waited for) and
 * encodes its PAYMENT-RESPONSE into *hdr (gt_free). The caller makes sure
 * it is tried once (p->priced cleared first). The settlement is the last
 * step that can fail: an error returned means nothing moved. On the ledger
 * the receipt names the action's id, known before, so it is made first (a
 * receipt that cannot be made, out of memory, refuses the settlement); on
 * a chain it names the transaction, known only after, so one that cannot
 * be made once the transfer is mined leaves *hdr NULL and returns 0: the
 * answer paid for goes out without its receipt rather than be withheld. */
static int settle_payment(gt_api_x402 *x, gt_api_x402_pay *p, char **hdr, gt_err *err) {
    uint8_t tx[32];
    int rc;
    *hdr = NULL;
    if (p->node) {
        if ((rc = gt_x402_ledger_response(&p->req, &p->act, hdr, err))) return rc;
        if (!(rc = gt_x402_ledger_settle(p->node->ledger, &p->act, err))) gt_node_kick(p->node);
    } else {
        pthread_mutex_lock(&x->mu);
        rc = gt_x402_settle(&x->chain, &x->facilitator, &p->req, &p->auth, tx, err);
        pthread_mutex_unlock(&x->mu);
        gt_err herr;
        if (!rc && gt_x402_response_header(&p->req, &p->auth, tx, hdr, &herr))
            GT_WARN("node: x402 settled, but its PAYMENT-RESPONSE could not be made (%s): answered without it",
                    herr.msg);
    }
    if (rc) {
        gt_free(*hdr);
        *hdr = NULL;
    }
    return rc;
}

/* The node's time that payments' windows are on: its ledger's (the next
 * block's), or the wall clock against a chain. */
static uint64_t x402_now_s(gt_api_x402 *x) {
    gt_node *n = __atomic_load_n(&x->clock_node, __ATOMIC_ACQUIRE);
    return x->ledger && n ? gt_ledger_now_s(n->ledger) : (uint64_t)time(NULL);
}

/* The least window a payment must have left when it is checked (window_for). */
static uint64_t min_window_s(const gt_api_x402 *x) { return window_for(x->ledger); }

/* 0 when p's window leaves min_window_s on the node's clock, else an error
 * saying what to sign; nothing is settled either way. */
static int window_check(gt_api_x402 *x, const gt_api_x402_pay *p, gt_err *err) {
    uint64_t now = x402_now_s(x), bound = min_window_s(x);
    uint64_t left = p->valid_before > now ? p->valid_before - now : 0;
    if (left >= bound) return 0;
    return gt_err_set(err, GT_EINVAL, "the payment's window ends in %llu s, too soon to serve the route and settle "
                      "after it (a payment is settled only for a 2xx answer, never before its route): sign one valid "
                      "for at least %llu s (the offer's maxTimeoutSeconds is %llu)", (unsigned long long)left,
                      (unsigned long long)bound, (unsigned long long)x->base.max_timeout_s);
}

/* Checks r's payment for a priced route (gt_api_x402_check) without taking
 * it: 0 to go on (p->priced: a verified payment waits for x402_take), 1
 * with o the 402 to send. */
static int x402_verify(gt_api_x402 *x, gt_req *r, const char *method, const char *pattern, gt_api_x402_pay *p,
                       gt_resp *o) {
    /* Only what an unpriced request reads is cleared: p holds a whole action
     * (26 KB), and clearing it cost every request as much as routing it. */
    p->priced = 0, p->node = NULL, p->held = 0, p->reserved = 0;
    for (int i = 0; x && i < x->n_prices; i++) {
        if (strcmp(x->prices[i].method, method) || strcmp(x->prices[i].pattern, pattern)) continue;
        memset(p, 0, sizeof *p);
        p->req = x->base;
        p->req.amount = x->prices[i].amount;
        snprintf(p->req.url, sizeof p->req.url, "%s", r->url);
        const char *sig = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "PAYMENT-SIGNATURE");
        gt_err err;
        gt_node *node = x->ledger ? r->node : NULL;
        if (!sig) return answer_402(&p->req, node, "PAYMENT-SIGNATURE header is required", o), 1;
        int rc = node ? gt_x402_ledger_verify(sig, &p->req, gt_ledger_domain(node->ledger),
                                              gt_ledger_now_s(node->ledger), &p->act, &err)
                      : gt_x402_verify(sig, &p->req, (uint64_t)time(NULL), &p->auth, &err);
        if (!rc && node) rc = ledger_precheck(r, &p->act, p->req.amount, &err);
        else if (!rc) rc = chain_precheck(x, p, &err);
        p->node = node;
        if (node) __atomic_store_n(&x->clock_node, node, __ATOMIC_RELEASE);
        if (!rc) /* a payment (gt_x402_ledger_verify checked its kind) or an authorization */
            p->valid_before = node ? p->act.f[gt_action_field(p->act.kind, "validBefore")].u64 : p->auth.valid_before;
        if (!rc) rc = window_check(x, p, &err);
        p->priced = !rc;
        if (rc) return answer_402(&p->req, node, err.msg, o), 1;
        return 0;
    }
    return 0;
}

int gt_api_x402_take(gt_api_x402 *x, gt_api_x402_pay *p, gt_resp *o) {
    if (!p || !p->priced || p->held) return 0;
    gt_err err;
    int rc = held_take(x, p, &err);
    /* After the precheck (which reads a snapshot, maybe behind the
     * writer's queue) and before the route: exact against everything
     * queued before it. */
    if (!rc && p->node && (rc = ledger_reserve(p, &err))) gt_api_x402_release(x, p);
    if (!rc) return 0;
    p->priced = 0;
    answer_402(&p->req, p->node, err.msg, o);
    return 1;
}

int gt_api_x402_check(gt_api_x402 *x, gt_req *r, const char *method, const char *pattern, gt_api_x402_pay *p,
                      gt_resp *o) {
    return x402_verify(x, r, method, pattern, p, o) || gt_api_x402_take(x, p, o);
}

int gt_api_x402_check_headers(gt_api_x402 *x, gt_req *r, const char *method, const char *pattern,
                              gt_api_x402_pay *p, gt_resp *o) {
    return x402_verify(x, r, method, pattern, p, o);
}

/* gt_api_x402_settle_status without releasing the payment: only a 2xx
 * answer is settled, and only now, after its route (fail closed). */
static int settle_held(gt_api_x402 *x, gt_api_x402_pay *p, int status, char **hdr, gt_resp *o) {
    *hdr = NULL;
    if (!p->priced || status / 100 != 2) return 0; /* nothing served: nothing settled, the authorization unused */
    gt_err err = {0};
    p->priced = 0; /* settled at most once, whatever happens */
    /* Never taken (an answer before its request was whole): unsettled, a copy of it may be running. */
    if (!p->held) gt_err_set(&err, GT_ESTATE, "the payment was not taken for this request before it was answered");
    else if (!settle_payment(x, p, hdr, &err)) return 0;
    GT_WARN("node: x402 settlement failed, answer withheld: %s", err.msg);
    memset(o, 0, sizeof *o);
    answer_402(&p->req, p->node, err.msg, o);
    return 1;
}

int gt_api_x402_stream_begin(gt_api_x402 *x, gt_api_x402_pay *p, gt_resp *o) {
    if (!p || !p->priced) return 0;
    uint64_t now = x402_now_s(x);
    if (p->valid_before > now && p->valid_before - now > GT_API_X402_SETTLE_MARGIN_S) return 0;
    char why[200];
    snprintf(why, sizeof why, "the payment expired while the request waited: validBefore %llu, the node's time is "
             "%llu (+%d s to settle)", (unsigned long long)p->valid_before, (unsigned long long)now,
             GT_API_X402_SETTLE_MARGIN_S);
    GT_WARN("node: x402 stream not begun: %s", why);
    p->priced = 0;
    gt_api_x402_release(x, p);
    answer_402(&p->req, p->node, why, o);
    return 1;
}

/* A stream's payment is settled while its window still leaves the least
 * window a payment must have when checked (min_window_s: twice the
 * settlement's own time), so a stream that would outlast it is paid, not
 * given away; looked at between its chunks. */
int gt_api_x402_settle_due(gt_api_x402 *x, const gt_api_x402_pay *p) {
    if (!x || !p || !p->priced) return 0;
    uint64_t now = x402_now_s(x);
    return p->valid_before <= now || p->valid_before - now < min_window_s(x);
}

int gt_api_x402_settle_end(gt_api_x402 *x, gt_api_x402_pay *p, char **hdr, gt_err *err) {
    *hdr = NULL;
    int rc = 0;
    if (p && p->priced) {
        p->priced = 0; /* settled at most once, whatever happens */
        rc = p->held ? settle_payment(x, p, hdr, err)
                     : gt_err_set(err, GT_ESTATE, "the payment was not taken for this request");
        if (rc) GT_WARN("node: x402 settlement of a stream failed: %s", err->msg);
    }
    gt_api_x402_release(x, p);
    return rc;
}

/* The payment leaves those in flight only once settled (or not): a second
 * request with it then meets the used nonce, or, when nothing was
 * charged, may use it. */
int gt_api_x402_settle_status(gt_api_x402 *x, gt_api_x402_pay *p, int status, char **hdr, gt_resp *o) {
    int rc = settle_held(x, p, status, hdr, o);
    gt_api_x402_release(x, p);
    return rc;
}

void gt_api_x402_settle(gt_api_x402 *x, gt_api_x402_pay *p, gt_resp *o) {
    char *hdr = NULL;
    gt_resp refused;
    if (gt_api_x402_settle_status(x, p, o->status ? o->status : 200, &hdr, &refused)) {
        if (o->raw) MHD_destroy_response(o->raw); /* a handler-built answer (a file of the dashboard), never sent */
        gt_free(o->body);
        gt_free(o->extra_value);
        *o = refused;
        return;
    }
    if (!hdr) return;
    gt_free(o->extra_value);
    o->extra_name = "PAYMENT-RESPONSE";
    o->extra_value = hdr;
}
