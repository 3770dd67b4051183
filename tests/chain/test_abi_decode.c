/* test_abi_decode.c: ABI decoding and JSON-RPC hex readers on their own:
 * what gt_abi_encode writes reads back; every offset, length and word that
 * points outside the data or holds more than its type is refused, by
 * reason; revert data decodes to its reason (JobEscrow's custom errors to the
 * message above each declaration in contracts/JobEscrow.sol, every one of
 * them); quantities are canonical; a node's answer body, receipt and logs
 * read without a connection (gt_rpc_answer, gt_chain_receipt_read). */
#include <ctype.h>
#include <jansson.h>

#include "../test.h"
#include "base/alloc.h"
#include "base/file.h"
#include "chain/abi.h"
#include "chain/abi_decode.h"
#include "chain/client.h"
#include "chain/escrow_errors.h"
#include "chain/rpc.h"
#include "crypto/addr.h"

/* f(uint256 7, string "hello gotong", address[] {A, B}, bool true) round trip. */
static void test_round_trip(void) {
    gt_addr a, b, got;
    memset(a.b, 0xaa, 20), memset(b.b, 0xbb, 20);
    gt_abi_val addrs[] = {gt_abi_address(&a), gt_abi_address(&b)};
    gt_abi_val args[] = {gt_abi_uint(7), gt_abi_string("hello gotong"), gt_abi_array(addrs, 2), gt_abi_bool(1)};
    gt_buf e = GT_BUF_INIT;
    CHECK_EQ_INT(gt_abi_encode(args, 4, &e, NULL), 0);
    uint64_t v = 0;
    int flag = 0;
    const uint8_t *p = NULL, *items = NULL;
    size_t len = 0, n = 0;
    CHECK_EQ_INT(gt_abi_get_u64(e.data, e.len, 0, &v, NULL), 0);
    CHECK_EQ_U64(v, 7);
    CHECK_EQ_INT(gt_abi_get_bytes(e.data, e.len, 1, &p, &len, NULL), 0);
    CHECK(len == 12 && !memcmp(p, "hello gotong", 12));
    CHECK_EQ_INT(gt_abi_get_words(e.data, e.len, 2, &items, &n, NULL), 0);
    CHECK_EQ_INT((int)n, 2);
    CHECK_EQ_INT(gt_abi_word_address(items + 32, &got, "item", NULL), 0);
    CHECK(gt_addr_eq(&got, &b));
    CHECK_EQ_INT(gt_abi_get_bool(e.data, e.len, 3, &flag, NULL), 0);
    CHECK_EQ_INT(flag, 1);
    gt_buf_free(&e);
}

static void test_hostile_data(void) {
    uint8_t d[96] = {0};
    gt_err err;
    const uint8_t *p;
    size_t len;
    gt_addr a;
    uint64_t v;
    int flag;
    CHECK_EQ_INT(gt_abi_get_u64(d, sizeof d, 3, &v, &err), GT_EINVAL); /* past the head */
    CHECK_CONTAINS(err.msg, "has no word 3");
    d[0] = 1; /* word 0 over 64 bits */
    CHECK_EQ_INT(gt_abi_get_u64(d, sizeof d, 0, &v, &err), GT_EOVERFLOW);
    CHECK_EQ_INT(gt_abi_get_address(d, sizeof d, 0, &a, &err), GT_EINVAL);
    CHECK_CONTAINS(err.msg, "not an address");
    d[0] = 0, d[31] = 2;
    CHECK_EQ_INT(gt_abi_get_bool(d, sizeof d, 0, &flag, &err), GT_EINVAL);
    d[31] = 96; /* offset at the very end: no room for the length */
    CHECK_EQ_INT(gt_abi_get_bytes(d, sizeof d, 0, &p, &len, &err), GT_EINVAL);
    CHECK_CONTAINS(err.msg, "outside");
    d[31] = 33; /* not a multiple of 32 */
    CHECK_EQ_INT(gt_abi_get_bytes(d, sizeof d, 0, &p, &len, &err), GT_EINVAL);
    d[31] = 32, d[63] = 33; /* a length running past the end */
    CHECK_EQ_INT(gt_abi_get_bytes(d, sizeof d, 0, &p, &len, &err), GT_EINVAL);
    CHECK_CONTAINS(err.msg, "past the data's end");
    d[63] = 2; /* an array of two words where one fits */
    CHECK_EQ_INT(gt_abi_get_words(d, sizeof d, 0, &p, &len, &err), GT_EINVAL);
    memset(d + 32, 0xff, 32); /* a length of 2^256 - 1 */
    CHECK_EQ_INT(gt_abi_get_bytes(d, sizeof d, 0, &p, &len, &err), GT_EOVERFLOW);
    d[63] = 1, memset(d + 32, 0, 31);
    CHECK_EQ_INT(gt_abi_get_bytes(d, sizeof d, 0, &p, &len, &err), 0);
    CHECK_EQ_INT((int)len, 1);
}

static void test_revert_reason(void) {
    gt_buf e = GT_BUF_INIT;
    gt_abi_val msg[] = {gt_abi_string("escrow: no such job")};
    char out[64];
    CHECK_EQ_INT(gt_abi_calldata("Error(string)", msg, 1, &e, NULL), 0);
    CHECK_EQ_INT(gt_abi_revert_reason(e.data, e.len, out, sizeof out), 1);
    CHECK_STR(out, "escrow: no such job");
    gt_buf_reset(&e);
    gt_abi_val code[] = {gt_abi_uint(0x11)};
    CHECK_EQ_INT(gt_abi_calldata("Panic(uint256)", code, 1, &e, NULL), 0);
    CHECK_EQ_INT(gt_abi_revert_reason(e.data, e.len, out, sizeof out), 1);
    CHECK_STR(out, "panic 0x11");
    CHECK_EQ_INT(gt_abi_revert_reason(e.data, 4, out, sizeof out), 0); /* cut short */
    CHECK_STR(out, "4 bytes of revert data");
    gt_buf_free(&e);
    uint8_t topic[32];
    gt_abi_event_topic("Transfer(address,address,uint256)", topic);
    CHECK(topic[0] == 0xdd && topic[1] == 0xf2 && topic[31] == 0xef); /* the well-known ERC-20 topic */
}

/* JobEscrow's custom errors read as the messages its revert strings were;
 * another contract's custom error is named by its selector. */
static void test_custom_error_reason(void) {
    uint8_t d[4 + 32];
    char out[160];
    gt_abi_selector("JobNotOpen()", d);
    CHECK_EQ_INT(gt_abi_revert_reason(d, 4, out, sizeof out), 1);
    CHECK_STR(out, "escrow: the job is not open");
    gt_abi_selector("OnlyClientCancelsTask()", d);
    CHECK_EQ_INT(gt_abi_revert_reason(d, 4, out, sizeof out), 1);
    CHECK_STR(out, "escrow: only the client cancels the task");
    d[0] = 0x12, d[1] = 0x34, d[2] = 0x56, d[3] = 0x78, memset(d + 4, 0, 32);
    CHECK_EQ_INT(gt_abi_revert_reason(d, sizeof d, out, sizeof out), 0);
    CHECK_STR(out, "custom error 0x12345678 (36 bytes of revert data)");
    gt_abi_selector("JobNotOpen()", d);
    CHECK_EQ_INT(gt_abi_revert_reason(d, 4, out, 10), 1); /* cut to the buffer, terminated */
    CHECK_STR(out, "escrow: t");
    /* No two rows share a selector, nor a message (one error per message). */
    size_t n = 0;
    const gt_escrow_error *t = gt_escrow_errors(&n);
    CHECK(n > 0);
    for (size_t i = 0; i < n; i++) {
        uint8_t a[4], b[4];
        gt_abi_selector(t[i].signature, a);
        CHECK_MSG(!memcmp(t[i].message, "escrow: ", 8), "%s: %s", t[i].signature, t[i].message);
        for (size_t k = i + 1; k < n; k++) {
            gt_abi_selector(t[k].signature, b);
            CHECK_MSG(memcmp(a, b, 4) && strcmp(t[i].message, t[k].message), "%s and %s", t[i].signature,
                      t[k].signature);
        }
    }
}

/* The row of the table with this signature, or NULL. */
static const gt_escrow_error *row_of(const char *signature) {
    size_t n = 0;
    const gt_escrow_error *t = gt_escrow_errors(&n);
    for (size_t i = 0; i < n; i++)
        if (!strcmp(t[i].signature, signature)) return &t[i];
    return NULL;
}

/* Every `error Name();` in contracts/JobEscrow.sol has its row, with the
 * text of the `/// ` comment just above it, and every row is declared: an
 * error added without its message, or a message changed on one side only,
 * fails here. When the build compiled the contracts, their ABI agrees. */
static void test_escrow_errors_declared(void) {
    uint8_t *sol = NULL;
    size_t len = 0, declared = 0, n = 0;
    gt_err err = {0};
    CHECK_EQ_INT(gt_file_read(GT_SOURCE_DIR "/contracts/JobEscrow.sol", 1 << 20, &sol, &len, &err), 0);
    if (!sol) return;
    char *prev = NULL;
    for (char *line = strtok((char *)sol, "\n"); line; prev = line, line = strtok(NULL, "\n")) {
        char *p = line;
        while (*p == ' ') p++;
        if (strncmp(p, "error ", 6)) continue;
        char sig[128] = "", *q = p + 6;
        size_t k = 0;
        while ((isalnum((unsigned char)*q) || *q == '_') && k + 3 < sizeof sig) sig[k++] = *q++;
        CHECK_MSG(!strncmp(q, "();", 3), "%s: an error with arguments needs its canonical signature here", line);
        memcpy(sig + k, "()", 3);
        declared++;
        const gt_escrow_error *row = row_of(sig);
        CHECK_MSG(row != NULL, "%s is declared in JobEscrow.sol but has no message in escrow_errors.c", sig);
        const char *above = prev ? prev : "";
        while (*above == ' ') above++;
        CHECK_MSG(!strncmp(above, "/// ", 4) && row && !strcmp(above + 4, row->message),
                  "%s: the comment above it (%s) is not its message in escrow_errors.c", sig, above);
    }
    gt_free(sol);
    gt_escrow_errors(&n);
    CHECK_MSG(declared == n, "JobEscrow.sol declares %zu errors, escrow_errors.c has %zu rows", declared, n);
    json_t *abi = json_load_file(GT_BINARY_DIR "/contracts/JobEscrow.abi", 0, NULL);
    if (!abi) return; /* contracts not compiled (no node or solc): the source was read above */
    size_t in_abi = 0, i;
    json_t *e;
    json_array_foreach(abi, i, e) {
        const char *type = json_string_value(json_object_get(e, "type"));
        if (!type || strcmp(type, "error")) continue;
        char sig[160];
        snprintf(sig, sizeof sig, "%s()", json_string_value(json_object_get(e, "name")));
        CHECK_MSG(json_array_size(json_object_get(e, "inputs")) == 0 && row_of(sig), "%s in the ABI", sig);
        in_abi++;
    }
    CHECK_EQ_INT((int)in_abi, (int)n);
    json_decref(abi);
}

static void test_quantities(void) {
    uint64_t v = 0;
    uint8_t w[32];
    gt_err err;
    gt_buf b = GT_BUF_INIT;
    json_t *j;
#define Q(s) (j = json_string(s))
    CHECK_EQ_INT(gt_rpc_to_u64(Q("0x7a69"), &v, "q", NULL), 0);
    json_decref(j);
    CHECK_EQ_U64(v, 31337);
    CHECK_EQ_INT(gt_rpc_to_u64(Q("0x0"), &v, "q", NULL), 0);
    json_decref(j);
    CHECK_EQ_U64(v, 0);
    const char *bad[] = {"0x", "0x01", "7a69", "0xg", "0x10000000000000000000000000000000000000000000000000000000000000000"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        CHECK_MSG(gt_rpc_to_u256(Q(bad[i]), w, "q", &err) != 0, "%s accepted", bad[i]);
        json_decref(j);
    }
    CHECK_EQ_INT(gt_rpc_to_u64(Q("0x10000000000000000"), &v, "q", &err), GT_EOVERFLOW);
    json_decref(j);
    CHECK_EQ_INT(gt_rpc_to_u64(j = json_integer(5), &v, "q", &err), GT_EINVAL);
    json_decref(j);
    CHECK_EQ_INT(gt_rpc_to_data(Q("0xabc"), 16, &b, "d", &err), GT_EINVAL);
    json_decref(j);
    CHECK_EQ_INT(gt_rpc_to_data(Q("0x0102030405"), 4, &b, "d", &err), GT_ELIMIT);
    json_decref(j);
    CHECK_EQ_INT(gt_rpc_to_data(Q("0x"), 4, &b, "d", &err), 0);
    json_decref(j);
    CHECK_EQ_INT((int)b.len, 0);
    CHECK_EQ_INT(gt_rpc_to_data(Q("0xc0ffee"), 4, &b, "d", &err), 0);
    json_decref(j);
    CHECK(b.len == 3 && b.data[0] == 0xc0 && b.data[2] == 0xee);
    gt_buf_free(&b);
    /* an address or hash: exactly its digits after one 0x (a second "0x" was read as a prefix) */
    gt_addr addr;
    CHECK_EQ_INT(gt_rpc_to_fixed(Q("0x0x3333333333333333333333333333333333333333"), addr.b, 20, "a", &err), GT_EINVAL);
    json_decref(j);
    CHECK_CONTAINS(err.msg, "a: expected 0x and 40 hex digits");
    CHECK_EQ_INT(gt_rpc_to_fixed(Q("0x3333333333333333333333333333333333333333"), addr.b, 20, "a", &err), 0);
    json_decref(j);
    CHECK(addr.b[0] == 0x33 && addr.b[19] == 0x33);
    uint8_t be[32] = {0};
    be[30] = 0x7a, be[31] = 0x69;
    j = gt_rpc_u256(be);
    CHECK_STR(json_string_value(j), "0x7a69");
    json_decref(j);
    memset(be, 0, 32);
    j = gt_rpc_u256(be);
    CHECK_STR(json_string_value(j), "0x0");
    json_decref(j);
    gt_rpc *r = NULL;
    CHECK_EQ_INT(gt_rpc_open("ftp://x", 0, &r, &err), GT_EINVAL);
    CHECK_CONTAINS(err.msg, "http://");
}

/* A node's answer bodies: a result (null included), an error with its code
 * and revert reason, and the malformed ones, each refused saying why. */
static void test_answers(void) {
    json_t *res = NULL;
    long code = 7;
    gt_err err = {0};
    const char *ok = "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":\"0x7a69\"}";
    CHECK_EQ_INT(gt_rpc_answer("eth_chainId", ok, strlen(ok), &res, &code, &err), 0);
    CHECK(json_is_string(res) && code == 0);
    json_decref(res);
    const char *null = "{\"result\":null}";
    CHECK_EQ_INT(gt_rpc_answer("m", null, strlen(null), &res, &code, &err), 0);
    CHECK(json_is_null(res));
    json_decref(res);
    /* Error("no") as revert data */
    const char *revert = "{\"error\":{\"code\":3,\"message\":\"execution reverted\",\"data\":\"0x08c379a0"
                         "0000000000000000000000000000000000000000000000000000000000000020"
                         "0000000000000000000000000000000000000000000000000000000000000002"
                         "6e6f000000000000000000000000000000000000000000000000000000000000\"}}";
    CHECK_EQ_INT(gt_rpc_answer("eth_call", revert, strlen(revert), &res, &code, &err), GT_ECHAIN);
    CHECK(res == NULL && code == 3);
    CHECK_CONTAINS(err.msg, "eth_call: node error 3: execution reverted; reason: no");
    const char *nocode = "{\"error\":{}}";
    CHECK_EQ_INT(gt_rpc_answer("m", nocode, strlen(nocode), &res, &code, &err), GT_ECHAIN);
    CHECK_EQ_INT((int)code, -1);
    CHECK_EQ_INT(gt_rpc_answer("m", "{\"id\":1}", 8, &res, &code, &err), GT_EINVAL);
    CHECK_CONTAINS(err.msg, "neither result nor error");
    CHECK_EQ_INT(gt_rpc_answer("m", "<html>", 6, &res, &code, &err), GT_EINVAL);
    CHECK_CONTAINS(err.msg, "m: the node's answer is not JSON");
    CHECK_EQ_INT(gt_rpc_answer("m", "", 0, &res, &code, &err), GT_EINVAL);
}

/* A receipt read from its JSON: found, its fields and log; another
 * transaction's refused; null is "not mined"; logs over the cap refused. */
static void test_receipt_read(void) {
    uint8_t hash[32];
    memset(hash, 0x11, 32);
    char text[1024];
    snprintf(text, sizeof text, "{\"transactionHash\":\"0x%s\",\"blockHash\":\"0x%s\",\"blockNumber\":\"0x5\","
             "\"gasUsed\":\"0x5208\",\"status\":\"0x1\",\"contractAddress\":null,\"logs\":[{\"address\":\"0x%s\","
             "\"topics\":[\"0x%s\"],\"data\":\"0xc0ffee\",\"logIndex\":\"0x2\"}]}",
             "1111111111111111111111111111111111111111111111111111111111111111",
             "2222222222222222222222222222222222222222222222222222222222222222",
             "3333333333333333333333333333333333333333",
             "4444444444444444444444444444444444444444444444444444444444444444");
    json_t *j = json_loads(text, 0, NULL);
    gt_chain_receipt r;
    int found = 0;
    gt_err err = {0};
    CHECK_EQ_INT(gt_chain_receipt_read(j, hash, &r, &found, &err), 0);
    CHECK(found == 1 && r.status == 1 && r.block_number == 5 && r.gas_used == 21000 && r.n_logs == 1);
    CHECK(r.n_logs == 1 && r.logs[0].data_len == 3 && r.logs[0].log_index == 2 && r.logs[0].n_topics == 1);
    gt_chain_receipt_free(&r);
    hash[0] = 0x12;
    CHECK_EQ_INT(gt_chain_receipt_read(j, hash, &r, &found, &err), GT_ECHAIN);
    CHECK(found == 0 && r.n_logs == 0 && r.logs == NULL);
    json_decref(j);
    CHECK_EQ_INT(gt_chain_receipt_read(j = json_null(), hash, &r, &found, &err), 0);
    CHECK_EQ_INT(found, 0);
    json_decref(j);
    /* a log refused after its data was copied (a bad logIndex) leaves nothing allocated (ASan: it leaked) */
    j = json_loads("[{\"address\":\"0x3333333333333333333333333333333333333333\",\"topics\":[],\"data\":\"0xc0ffee\","
                   "\"logIndex\":\"0x01\"}]", 0, NULL);
    CHECK_EQ_INT(gt_chain_logs_read(j, &r, &err), GT_EINVAL);
    CHECK_CONTAINS(err.msg, "log 0: log logIndex");
    CHECK(r.n_logs == 0 && r.logs == NULL);
    json_decref(j);
    j = json_array();
    for (int i = 0; i <= GT_CHAIN_MAX_LOGS; i++) json_array_append_new(j, json_object());
    CHECK_EQ_INT(gt_chain_logs_read(j, &r, &err), GT_ELIMIT);
    CHECK(r.n_logs == 0 && r.logs == NULL);
    json_decref(j);
}

/* eth_getLogs' answer from a hostile or lagging node: a log marked removed (reorganised away) is refused by the
 * read; a log of a contract not asked for, outside the blocks asked for, repeated or out of order is refused by
 * gt_chain_logs_check (gt_chain_get_logs' check), so the chain index never applies it. */
static void test_logs_hostile(void) {
    static const char a[] = "0x3333333333333333333333333333333333333333";
    static const char b[] = "0x4444444444444444444444444444444444444444";
    gt_chain_receipt r = {0};
    gt_err err = {0};
    gt_addr asked;
    char text[1024];
    CHECK_EQ_INT(gt_addr_parse(a, &asked, NULL), 0);
    const char *fmt = "[{\"address\":\"%s\",\"topics\":[],\"data\":\"0x\",\"blockNumber\":\"0x%x\","
                      "\"logIndex\":\"0x%x\",\"removed\":%s},{\"address\":\"%s\",\"topics\":[],\"data\":\"0x\","
                      "\"blockNumber\":\"0x%x\",\"logIndex\":\"0x%x\",\"removed\":false}]";
    struct {
        const char *addr2, *removed;
        unsigned b1, i1, b2, i2;
        int read_rc, check_rc;
    } cases[] = {
        {a, "false", 5, 0, 5, 1, 0, 0},                   /* two logs of one block, in order */
        {a, "false", 5, 3, 6, 0, 0, 0},                   /* the next block's first */
        {a, "true", 5, 0, 5, 1, GT_ECHAIN, 0},            /* removed: reorganised away */
        {a, "\"no\"", 5, 0, 5, 1, GT_ECHAIN, 0},          /* removed, not a boolean */
        {b, "false", 5, 0, 5, 1, 0, GT_ECHAIN},           /* another contract's */
        {a, "false", 5, 1, 5, 1, 0, GT_ECHAIN},           /* the same log twice */
        {a, "false", 5, 2, 5, 1, 0, GT_ECHAIN},           /* reordered in a block */
        {a, "false", 6, 0, 5, 4, 0, GT_ECHAIN},           /* reordered across blocks */
        {a, "false", 5, 0, 9, 0, 0, GT_ECHAIN},           /* past the blocks asked for (4..8) */
        {a, "false", 3, 0, 5, 0, 0, GT_ECHAIN},           /* before them */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        snprintf(text, sizeof text, fmt, a, cases[i].b1, cases[i].i1, cases[i].removed, cases[i].addr2, cases[i].b2,
                 cases[i].i2);
        json_t *j = json_loads(text, 0, NULL);
        CHECK(j != NULL);
        int rc = gt_chain_logs_read(j, &r, &err);
        CHECK_MSG(rc == cases[i].read_rc, "case %zu: read %d", i, rc);
        if (!rc) {
            rc = gt_chain_logs_check(&r, &asked, 1, 4, 8, &err);
            CHECK_MSG(rc == cases[i].check_rc, "case %zu: check %d", i, rc);
        }
        gt_chain_receipt_free(&r);
        json_decref(j);
    }
}

int main(void) {
    RUN(test_round_trip);
    RUN(test_hostile_data);
    RUN(test_revert_reason);
    RUN(test_custom_error_reason);
    RUN(test_escrow_errors_declared);
    RUN(test_quantities);
    RUN(test_answers);
    RUN(test_receipt_read);
    RUN(test_logs_hostile);
    return gt_test_finish();
}
