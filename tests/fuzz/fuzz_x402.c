/* fuzz_x402.c: x402's header parsers on hostile values: PAYMENT-SIGNATURE,
 * which any client of a priced route sends to the node (gt_x402_verify), and
 * the PAYMENT-REQUIRED and PAYMENT-RESPONSE values a paying client reads
 * from a server (gt_x402_parse_required, gt_x402_parse_response,
 * gt_x402_refusal). Properties beyond not crashing: a refusal says why; a
 * payment verified pays exactly the requirement (its recipient and value,
 * a window open now and no longer than allowed); a requirement parsed
 * formats back to a header that parses to the same requirement. */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "chain/x402.h"

#define NOW_S 1000000 /* the seeds were signed at this time */

/* The requirement the seeds pay (a node's priced route, chain 1337). */
static void requirement(gt_x402_req *r) {
    memset(r, 0, sizeof *r);
    r->chain_id = 1337;
    r->amount = 1000;
    r->max_timeout_s = 60;
    memset(r->asset.b, 0x11, 20);
    memset(r->pay_to.b, 0x22, 20);
    strcpy(r->name, "USD Coin");
    strcpy(r->version, "2");
    strcpy(r->url, "http://127.0.0.1:8645/v1/chat/completions");
}

/* The server's side: verify never pays anything but the requirement. */
static void check_verify(const char *in, const gt_x402_req *r) {
    gt_x402_auth a;
    gt_err err = {0};
    if (gt_x402_verify(in, r, NOW_S, &a, &err)) {
        assert(err.msg[0]);
        return;
    }
    assert(!memcmp(a.to.b, r->pay_to.b, 20) && a.value == r->amount);
    assert(a.valid_after < NOW_S && NOW_S < a.valid_before);
    assert(a.valid_before - NOW_S <= r->max_timeout_s + GT_X402_CLOCK_SKEW_S);
}

/* The client's side: a requirement parsed round-trips; the rest never crash. */
static void check_client(const char *in, const gt_x402_req *r) {
    gt_x402_req o, back;
    gt_err err = {0};
    if (gt_x402_parse_required(in, r->chain_id, &r->asset, &o, &err) == 0) {
        char *h = NULL;
        if (gt_x402_required_header(&o, NULL, &h, &err) == 0) {
            assert(gt_x402_parse_required(h, r->chain_id, &r->asset, &back, &err) == 0);
            assert(!memcmp(&o, &back, sizeof o));
            gt_free(h);
        }
    } else {
        assert(err.msg[0]);
    }
    uint8_t tx[32];
    gt_addr payer;
    memset(&err, 0, sizeof err);
    if (gt_x402_parse_response(in, tx, &payer, &err)) assert(err.msg[0]);
    char why[256];
    gt_x402_refusal(in, why, sizeof why);
    assert(memchr(why, 0, sizeof why));
}

/* One input: a header's value (a NUL ends it, as in HTTP). */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *in = malloc(size + 1);
    memcpy(in, data, size);
    in[size] = 0;
    gt_x402_req r;
    requirement(&r);
    check_verify(in, &r);
    check_client(in, &r);
    free(in);
    return 0;
}
