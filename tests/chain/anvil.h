/* anvil.h: a Foundry anvil chain for the chain tests, started on a free port
 * of 127.0.0.1 and stopped with SIGTERM, plus the helpers the tests share:
 * funded gotong accounts, raw RPC calls (anvil's own methods: time travel,
 * mining, balances), contract deployment from <build>/contracts.
 *
 * anvil comes from npm through scripts/setup.sh test into .cache/npm, the
 * contracts from the pinned solc at build time; when either is missing the
 * test says so on stderr and exits 77, which ctest reports as skipped.
 *
 * anvil keeps the last states in memory and by default writes older ones to
 * ~/.foundry/anvil/tmp, which it never removes when it is stopped: one test
 * that mines a few thousand blocks left 5 GB there, and a CI machine's disk
 * filled in one run. So no state goes to disk (--max-persisted-states 0), and
 * the cache directory it would use is the test's own, removed at stop. */
#ifndef GT_TESTS_CHAIN_ANVIL_H
#define GT_TESTS_CHAIN_ANVIL_H

#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/alloc.h"
#include "base/buf.h"
#include "base/file.h"
#include "base/hex.h"
#include "chain/abi.h"
#include "chain/abi_decode.h"
#include "chain/client.h"
#include "crypto/keccak.h"

#define ANVIL GT_SOURCE_DIR "/.cache/npm/node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil"
#define CONTRACTS GT_BINARY_DIR "/contracts/"

static pid_t anvil_pid = -1;
static char anvil_url[64]; /* http://127.0.0.1:PORT once started */
static char anvil_cache[64]; /* anvil's --cache-path, empty while none */

/* Exits 77 (skipped) saying what is missing, if anvil or the contracts are. */
static inline void anvil_require(int need_contracts) {
    if (access(ANVIL, X_OK)) {
        fprintf(stderr, "SKIP: anvil not found at %s; install it with: bash scripts/setup.sh test\n", ANVIL);
        exit(77);
    }
    if (need_contracts && access(CONTRACTS "JobEscrow.bin", R_OK)) {
        fprintf(stderr, "SKIP: the contracts are not built (%sJobEscrow.bin missing): run bash scripts/setup.sh test, "
                        "then cmake again so the build finds solc\n", CONTRACTS);
        exit(77);
    }
}

/* A port of 127.0.0.1 free right now (the kernel's pick). */
static inline int free_port(void) {
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof a) || getsockname(s, (struct sockaddr *)&a, &len)) return -1;
    close(s);
    return ntohs(a.sin_port);
}

/* Removes anvil's cache directory: it may hold the (empty) state directory
 * anvil makes once its states outgrow memory; a file in it would be a state
 * written to disk, which --max-persisted-states 0 should prevent, so say so. */
static inline void anvil_cache_remove(void) {
    DIR *d = opendir(anvil_cache);
    struct dirent *e;
    char sub[sizeof anvil_cache + 256];
    while (d && (e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        snprintf(sub, sizeof sub, "%s/%s", anvil_cache, e->d_name);
        if (rmdir(sub)) fprintf(stderr, "WARNING: anvil wrote state to disk in %s\n", sub);
    }
    if (d) closedir(d);
    rmdir(anvil_cache);
    anvil_cache[0] = 0;
}

static inline void anvil_stop(void) {
    if (anvil_pid > 0) {
        kill(anvil_pid, SIGTERM);
        waitpid(anvil_pid, NULL, 0);
        anvil_pid = -1;
    }
    if (anvil_cache[0]) anvil_cache_remove();
}

/* Starts anvil and opens c on it; returns 0 once it answers eth_chainId. */
static inline int anvil_start(gt_chain *c) {
    char port[16], *url = anvil_url;
    snprintf(port, sizeof port, "%d", free_port());
    snprintf(anvil_url, sizeof anvil_url, "http://127.0.0.1:%s", port);
    snprintf(anvil_cache, sizeof anvil_cache, "/tmp/gt-anvil-XXXXXX");
    if (!mkdtemp(anvil_cache)) {
        anvil_cache[0] = 0;
        return -1;
    }
    anvil_pid = fork();
    if (anvil_pid < 0) return -1;
    if (anvil_pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGTERM); /* a test that crashes takes its chain with it */
        if (!freopen("/dev/null", "w", stdout)) _exit(127);
        execl(ANVIL, ANVIL, "--port", port, "--host", "127.0.0.1", "--accounts", "1", "--silent", "--max-persisted-states",
              "0", "--cache-path", anvil_cache, (char *)NULL);
        _exit(127);
    }
    atexit(anvil_stop);
    gt_err err;
    for (int i = 0; i < 400; i++) { /* up to 20 s for a cold start on a busy machine */
        if (!gt_chain_open(url, c, &err)) return 0;
        struct timespec ts = {0, 50 * 1000000L};
        nanosleep(&ts, NULL);
    }
    fprintf(stderr, "anvil did not answer on %s: %s\n", url, err.msg);
    return -1;
}

/* Calls an RPC method whose answer the test does not need; 0 or the error. */
static inline int anvil_rpc(gt_chain *c, const char *method, json_t *params) {
    json_t *res = NULL;
    gt_err err;
    int rc = gt_rpc_call(c->rpc, method, params, &res, &err);
    if (rc) fprintf(stderr, "%s: %s\n", method, err.msg);
    json_decref(res);
    return rc;
}

/* A gotong account from a fixed seed, given 100 ETH by anvil. */
static inline int anvil_account(gt_chain *c, const char *seed, gt_chain_account *a) {
    uint8_t priv[32];
    gt_key k;
    gt_keccak256(seed, strlen(seed), priv);
    if (gt_key_from_bytes(&k, priv, NULL) || gt_chain_account_init(a, &k, NULL)) return -1;
    gt_key_wipe(&k);
    return anvil_rpc(c, "anvil_setBalance", json_pack("[o,s]", gt_rpc_data(a->addr.b, 20), "0x56bc75e2d63100000"));
}

/* Moves the chain's clock forward by secs and mines a block at the new time. */
static inline int anvil_advance(gt_chain *c, uint64_t secs) {
    if (anvil_rpc(c, "evm_increaseTime", json_pack("[o]", gt_rpc_u64(secs)))) return -1;
    return anvil_rpc(c, "evm_mine", json_array());
}

/* The timestamp of the latest block. */
static inline uint64_t anvil_now(gt_chain *c) {
    json_t *blk = NULL;
    uint64_t t = 0;
    if (!gt_rpc_call(c->rpc, "eth_getBlockByNumber", json_pack("[s,b]", "latest", 0), &blk, NULL))
        gt_rpc_to_u64(json_object_get(blk, "timestamp"), &t, "timestamp", NULL);
    json_decref(blk);
    return t;
}

/* The ERC-20 token's balanceOf(who) into *v (UINT64_MAX when unread):
 * 0, or -1 when the call or its answer fails. */
static inline int anvil_token_balance(gt_chain *c, const gt_addr *token, const gt_addr *who, uint64_t *v) {
    gt_abi_val a[] = {gt_abi_address(who)};
    gt_buf d = GT_BUF_INIT, out = GT_BUF_INIT;
    *v = UINT64_MAX;
    int rc = gt_abi_calldata("balanceOf(address)", a, 1, &d, NULL) ||
             gt_chain_call(c, NULL, token, d.data, d.len, &out, NULL) ||
             gt_abi_get_u64(out.data, out.len, 0, v, NULL);
    gt_buf_free(&d);
    gt_buf_free(&out);
    return rc ? -1 : 0;
}

/* Deploys <build>/contracts/<name>.bin with the encoded constructor args;
 * *at gets the address, *gas the gas used. */
static inline int anvil_deploy(gt_chain *c, gt_chain_account *a, const char *name, const gt_abi_val *args, size_t n,
                        gt_addr *at, uint64_t *gas) {
    char path[512];
    snprintf(path, sizeof path, CONTRACTS "%s.bin", name);
    uint8_t *hex = NULL;
    size_t hex_len = 0;
    gt_buf code = GT_BUF_INIT;
    gt_err err;
    gt_chain_receipt r = {0};
    int rc = gt_file_read(path, 1u << 20, &hex, &hex_len, &err);
    while (!rc && hex_len && hex[hex_len - 1] == '\n') hex[--hex_len] = 0;
    if (!rc && (rc = gt_buf_reserve(&code, hex_len / 2 + 1)) == 0 &&
        (rc = gt_hex_decode((const char *)hex, code.data, hex_len / 2, name, &err)) == 0)
        code.len = hex_len / 2;
    if (!rc && n) rc = gt_abi_encode(args, n, &code, &err);
    if (!rc) rc = gt_chain_transact(c, a, NULL, code.data, code.len, &r, &err);
    if (!rc && !r.has_contract) rc = -1;
    if (!rc) *at = r.contract, *gas = r.gas_used;
    if (rc) fprintf(stderr, "deploy %s: %s\n", name, err.msg);
    gt_chain_receipt_free(&r);
    gt_free(hex);
    gt_buf_free(&code);
    return rc;
}
#endif
