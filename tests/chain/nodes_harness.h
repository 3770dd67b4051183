/* nodes_harness.h: the plumbing of the chain tests that run several `gotong
 * node --chain` on one anvil (test_chain_nodes.c, test_chain_judge.c): a
 * miner thread (confirmation depth 2 needs blocks after the last
 * transaction), shell commands, HTTP to the nodes, the operators' homes and
 * wallets, `gotong chain deploy` and the record it writes, starting and
 * stopping the nodes, and the polls and reads on the token, the escrow and
 * the court that both tests make. Each test keeps its own scenarios.
 *
 * The including test defines N_NODES (the number of operators and nodes)
 * before including this file, and owns the state below through it: C (the
 * chain), OP[i] (operator i's wallet; OP[0], A, deploys and mints), HOME_[i]
 * and PW[i] (its home and password file), URL[i] and NODE[i] (its node),
 * ROOT (the test's temporary folder). Header-only like anvil.h: one test
 * binary includes it once. */
#ifndef GT_TESTS_CHAIN_NODES_HARNESS_H
#define GT_TESTS_CHAIN_NODES_HARNESS_H

#include <assert.h>
#include <pthread.h>
#include <sys/wait.h>

#include "../test.h"
#include "anvil.h"
#include "chain/court.h"
#include "chain/escrow.h"
#include "chain/registry.h"
#include "crypto/addr.h"
#include "crypto/keystore.h"

#ifndef N_NODES
#error "define N_NODES before including nodes_harness.h"
#endif
#ifndef WAIT_S
#define WAIT_S 120 /* any one wait, at most (a loaded machine) */
#endif

static gt_chain C;
static gt_chain_account OP[N_NODES]; /* the operators' wallets (A is the deployer and minter) */
static char ROOT[64], HOME_[N_NODES][128], PW[N_NODES][160], URL[N_NODES][128];
static pid_t NODE[N_NODES]; /* 0 while node i does not run */
static gt_addr TOKEN, ESCROW, COURT;
static char FIELD_LAST[600]; /* the value wait_field_at last found */

/* A contract's name in chain.json and where deploy() puts its address. */
typedef struct {
    const char *name;
    gt_addr *addr;
} nh_contract;

/* ---- a miner: confirmation depth 2 needs blocks after the last transaction ---- */
static pthread_t miner;
static _Atomic int mining; /* volatile is not a synchronisation: TSan saw the race */

/* The miner thread: an evm_mine every 150 ms while `mining` is set. */
static void *mine(void *arg) {
    (void)arg;
    gt_rpc *r = NULL;
    if (gt_rpc_open(anvil_url, 5000, &r, NULL)) return NULL;
    while (mining) {
        json_t *res = NULL;
        gt_rpc_call(r, "evm_mine", json_array(), &res, NULL);
        json_decref(res);
        struct timespec ts = {0, 150 * 1000000L};
        nanosleep(&ts, NULL);
    }
    gt_rpc_close(r);
    return NULL;
}

/* Starts the miner thread (anvil running). */
static inline void miner_start(void) {
    mining = 1;
    CHECK_EQ_INT(pthread_create(&miner, NULL, mine, NULL), 0);
}

/* Stops the miner thread miner_start started and waits for it. */
static inline void miner_stop(void) {
    mining = 0;
    pthread_join(miner, NULL);
}

/* ---- the test's life ---- */

/* Skips (77) without anvil or the contracts; starts anvil and makes ROOT, /tmp/gt-<name>-XXXXXX.
 * 0, or -1 when anvil did not start. */
static inline int nodes_begin(const char *name) {
    anvil_require(1);
    if (anvil_start(&C)) return -1;
    snprintf(ROOT, sizeof ROOT, "/tmp/gt-%s-XXXXXX", name);
    CHECK(mkdtemp(ROOT) != NULL);
    return 0;
}

/* The operators' keys wiped, anvil stopped, ROOT removed (the nodes and the miner already stopped). */
static inline void nodes_end(void) {
    for (int i = 0; i < N_NODES; i++) gt_chain_account_wipe(&OP[i]);
    gt_chain_close(&C);
    anvil_stop();
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", ROOT);
    CHECK_EQ_INT(system(cmd), 0);
}

/* ---- helpers ---- */

/* Sleeps ms milliseconds. */
static inline void pause_ms(long ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Runs cmd (its stderr too when cmd says 2>&1); its output (static) and exit status. */
static inline const char *run(const char *cmd, int *status) {
    static char out[16384];
    out[0] = 0;
    FILE *f = popen(cmd, "r");
    if (!f) return *status = -1, out;
    size_t n = fread(out, 1, sizeof out - 1, f);
    out[n] = 0;
    int st = pclose(f);
    *status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    return out;
}

/* A posts a quorum task of `slots` slots (quorum `quorum`, each of budget and stake) with `gotong chain post`, its
 * input written to ROOT/file and held by A's node (as the command says); the task id (its first slot's), 0 when the
 * post failed (checked); the command's output in *said (static, run's). */
static inline uint64_t chain_post_slots(const char *file, const char *input, int slots, int quorum, int budget,
                                        int stake, const char **said) {
    char cmd[2048], path[300], a[GT_ADDR_STR_BYTES];
    int st;
    unsigned long long task = 0;
    *said = "";
    snprintf(path, sizeof path, "%s/%s", ROOT, file);
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    if (!f) return 0;
    fputs(input, f);
    fclose(f);
    gt_addr_to_str(&OP[0].addr, a);
    snprintf(cmd, sizeof cmd, "%s chain post --home %s --from %s --password-file %s --input %s --slots %d"
             " --quorum %d --budget %d --stake %d 2>&1", GT_CLI, HOME_[0], a, PW[0], path, slots, quorum, budget,
             stake);
    const char *out = *said = run(cmd, &st);
    CHECK_MSG(st == 0, "chain post: %s", out);
    CHECK_CONTAINS(out, "the input is held by this wallet's node at");
    const char *at = strstr(out, "posted quorum task ");
    CHECK(at && sscanf(at, "posted quorum task %llu", &task) == 1);
    return task;
}

/* Polls job id on chain until its status is want (WAIT_S at most); the last status read. */
static inline gt_escrow_status wait_status(uint64_t id, gt_escrow_status want) {
    gt_escrow_job job = {0};
    for (int k = 0; k < WAIT_S * 5; k++) {
        int rc = gt_escrow_get(&C, &ESCROW, id, &job, NULL);
        CHECK_EQ_INT(rc, 0);
        if (rc || job.status == want) break;
        pause_ms(200);
    }
    return job.status;
}

/* Polls job id on chain until its provider is set (a claim); the job read then. */
static inline gt_escrow_job wait_claimed(uint64_t id) {
    gt_escrow_job job = {0};
    for (int k = 0; k < WAIT_S * 5 && !job.claimed; k++) {
        CHECK_EQ_INT(gt_escrow_get(&C, &ESCROW, id, &job, NULL), 0);
        if (!job.claimed) pause_ms(200);
    }
    return job;
}

/* who's balance of the token (TOKEN deployed). */
static inline uint64_t balance(const gt_addr *who) {
    uint64_t v;
    CHECK_EQ_INT(anvil_token_balance(&C, &TOKEN, who, &v), 0);
    return v;
}

/* sig(args) sent from w (its nonce read again first: a node or `gotong chain` may have used its key). */
static inline void send_from(gt_chain_account *w, const gt_addr *to, const char *sig, const gt_abi_val *args,
                             size_t n) {
    gt_chain_receipt r = {0};
    gt_err err;
    gt_chain_account_resync(w);
    CHECK_MSG(gt_chain_invoke(&C, to, w, sig, args, n, &r, NULL, &err) == 0, "%s: %s", sig, err.msg);
    gt_chain_receipt_free(&r);
}

/* amount tokens minted to `to` by A, the token's minter. */
static inline void mint(const gt_addr *to, uint64_t amount) {
    gt_abi_val a[] = {gt_abi_address(to), gt_abi_uint(amount)};
    send_from(&OP[0], &TOKEN, "mint(address,uint256)", a, 2);
}

/* w approves spender for amount tokens. */
static inline void approve(gt_chain_account *w, const gt_addr *spender, uint64_t amount) {
    gt_abi_val a[] = {gt_abi_address(spender), gt_abi_uint(amount)};
    send_from(w, &TOKEN, "approve(address,uint256)", a, 2);
}

/* GET (body NULL) or POST url; the status (0 when it did not answer) and body (static). */
static inline long http(const char *url, const char *body, const char **answer) {
    static gt_buf b = GT_BUF_INIT;
    long status = 0;
    gt_err err;
    b.len = 0;
    if (gt_agent_http(url, body, body ? strlen(body) : 0, 1u << 20, &status, &b, &err)) status = 0;
    gt_buf_append(&b, "", 1);
    *answer = (const char *)b.data;
    return status;
}

/* Polls url (WAIT_S at most) until its JSON field `field` (a string, or an array read as its size) reads want,
 * or with contains holds it; 1 then, the value in FIELD_LAST; 0 saying what it read last. */
static inline int wait_field_at(const char *url, const char *field, const char *want, int contains) {
    char got[sizeof FIELD_LAST] = "";
    for (int k = 0; k < WAIT_S * 5; k++) {
        const char *body;
        if (http(url, NULL, &body) == 200) {
            json_t *j = json_loads(body, 0, NULL), *v = json_object_get(j, field);
            got[0] = 0;
            if (json_is_string(v)) snprintf(got, sizeof got, "%s", json_string_value(v));
            else if (json_is_array(v)) snprintf(got, sizeof got, "%zu", json_array_size(v));
            json_decref(j);
            if (contains ? strstr(got, want) != NULL : !strcmp(got, want))
                return snprintf(FIELD_LAST, sizeof FIELD_LAST, "%s", got), 1;
        }
        pause_ms(200);
    }
    fprintf(stderr, "%s: %s never read \"%s\" (last: \"%s\")\n", url, field, want, got);
    return 0;
}

/* POSTs body as job id's input to node i until its index has the job (not 404); the final status. */
static inline long post_input(int i, uint64_t id, const char *body) {
    char url[256];
    const char *answer = "";
    long status = 0;
    snprintf(url, sizeof url, "%s/v1/chain/jobs/%llu/input", URL[i], (unsigned long long)id);
    for (int k = 0; k < WAIT_S * 5 && (status = http(url, body, &answer)) == 404; k++) pause_ms(200);
    if (status / 100 != 2) printf("%s: %ld %s\n", url, status, answer);
    return status;
}

/* ---- the operators, the deployment, the nodes ---- */

/* Home i: `gotong init`, a password file, operator i's key (seed "<tag> operator <i>") in its keystore. */
static inline void make_home(int i, const char *tag) {
    static const gt_kdf_params light = {GT_KDF_LIGHT_N, 8, GT_KDF_LIGHT_P};
    char cmd[1024], path[256], seed[64], pw[96];
    int st;
    assert(i >= 0 && i < N_NODES);
    snprintf(HOME_[i], sizeof HOME_[i], "%s/%c", ROOT, 'a' + i);
    snprintf(PW[i], sizeof PW[i], "%s/pw-%c", ROOT, 'a' + i);
    snprintf(pw, sizeof pw, "%s operator %c's password", tag, 'A' + i);
    FILE *f = fopen(PW[i], "w");
    CHECK(f != NULL);
    if (!f) return;
    fprintf(f, "%s", pw);
    fclose(f);
    snprintf(cmd, sizeof cmd, "%s init --home %s --password-file %s --light 2>&1", GT_CLI, HOME_[i], PW[i]);
    const char *out = run(cmd, &st);
    CHECK_MSG(st == 0, "init: %s", out);
    snprintf(seed, sizeof seed, "%s operator %d", tag, i);
    CHECK_EQ_INT(anvil_account(&C, seed, &OP[i]), 0);
    gt_err err;
    CHECK_MSG(gt_keystore_save(HOME_[i], &OP[i].key, pw, &light, path, sizeof path, &err) == 0, "%s", err.msg);
}

/* The address chain.json records under name, into out. */
static inline void read_addr(const json_t *j, const char *name, gt_addr *out) {
    const char *s = json_string_value(json_object_get(j, name));
    CHECK_MSG(s && !gt_addr_parse(s, out, NULL), "chain.json: %s", name);
}

/* Operator A deploys (`gotong chain deploy`); the others get the record (chain.json) in their homes; the
 * addresses of the n contracts `read` names are read back from it, in that order. */
static inline void deploy(const nh_contract *read, size_t n) {
    char cmd[2048], a[GT_ADDR_STR_BYTES], path[256];
    int st;
    gt_addr_to_str(&OP[0].addr, a); /* the keystore holds `gotong init`'s faucet key too */
    snprintf(cmd, sizeof cmd, "%s chain deploy --rpc %s --home %s --from %s --password-file %s --contracts %s 2>&1",
             GT_CLI, anvil_url, HOME_[0], a, PW[0], CONTRACTS);
    const char *out = run(cmd, &st);
    CHECK_MSG(st == 0, "chain deploy: %s", out);
    for (int i = 1; i < N_NODES; i++) {
        snprintf(cmd, sizeof cmd, "cp %s/chain.json %s/chain.json", HOME_[0], HOME_[i]);
        CHECK_EQ_INT(system(cmd), 0);
    }
    snprintf(path, sizeof path, "%s/chain.json", HOME_[0]);
    json_t *j = json_load_file(path, 0, NULL);
    CHECK(j != NULL);
    for (size_t k = 0; k < n; k++) read_addr(j, read[k].name, read[k].addr);
    json_decref(j);
}

/* Node i: `gotong node --chain` (depth 2) with its operator's agent ("node A", ..., price 100); URL[i] and
 * NODE[i] once it listens. */
static inline void start_node(int i) {
    char wallet[GT_ADDR_STR_BYTES], name[16];
    int pipefd[2];
    assert(i >= 0 && i < N_NODES);
    gt_addr_to_str(&OP[i].addr, wallet);
    snprintf(name, sizeof name, "node %c", 'A' + i);
    CHECK_EQ_INT(pipe(pipefd), 0);
    pid_t pid = fork();
    if (pid == 0) {
        dup2(pipefd[1], 1);
        close(pipefd[0]);
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        execl(GT_CLI, GT_CLI, "node", "--home", HOME_[i], "--listen", "127.0.0.1:0", "--quiet", "--block-interval-ms",
              "0", "--chain", anvil_url, "--chain-confirmations", "2", "--chain-wallet", wallet, "--password-file",
              PW[i], "--price", "100", "--agent-name", name, (char *)NULL);
        _exit(127);
    }
    close(pipefd[1]);
    FILE *f = fdopen(pipefd[0], "r");
    char line[256] = "";
    char *u = f && fgets(line, sizeof line, f) ? strstr(line, "http://") : NULL;
    if (f) fclose(f);
    CHECK_MSG(u != NULL, "node %c did not start", 'A' + i);
    if (!u) return;
    u[strcspn(u, "\r\n")] = 0;
    snprintf(URL[i], sizeof URL[i], "%s", u);
    NODE[i] = pid;
}

/* Node i stopped (SIGTERM), if it runs; it must exit 0. */
static inline void stop_node(int i) {
    int st = -1;
    if (NODE[i] <= 0) return;
    kill(NODE[i], SIGTERM);
    waitpid(NODE[i], &st, 0);
    CHECK_MSG(WIFEXITED(st) && WEXITSTATUS(st) == 0, "node %c stopped with status %d", 'A' + i, st);
    NODE[i] = -1;
}

/* Every node stopped, as stop_node. */
static inline void stop_nodes(void) {
    for (int i = 0; i < N_NODES; i++) stop_node(i);
}

/* ---- the court ---- */

/* Polls the court (WAIT_S at most) until job id's case is in state want; 1 then. */
static inline int wait_case(uint64_t id, gt_court_state want) {
    gt_court_case cs = {0};
    for (int k = 0; k < WAIT_S * 5; k++) {
        if (!gt_court_get(&C, &COURT, id, &cs, NULL) && cs.state == want) return 1;
        pause_ms(200);
    }
    fprintf(stderr, "job %llu: the case is %s, never %s\n", (unsigned long long)id, gt_court_state_name(cs.state),
            gt_court_state_name(want));
    return 0;
}

/* validatorOf(who)'s word i (0 its active stake, 1 its bond locked in votes). */
static inline uint64_t validator_word(const gt_addr *who, size_t i) {
    gt_abi_val a[] = {gt_abi_address(who)};
    gt_buf d = GT_BUF_INIT, out = GT_BUF_INIT;
    uint64_t v = UINT64_MAX;
    CHECK_EQ_INT(gt_abi_calldata("validatorOf(address)", a, 1, &d, NULL), 0);
    CHECK_EQ_INT(gt_chain_call(&C, NULL, &COURT, d.data, d.len, &out, NULL), 0);
    CHECK_EQ_INT(gt_abi_get_u64(out.data, out.len, i, &v, NULL), 0);
    gt_buf_free(&d);
    gt_buf_free(&out);
    return v;
}

#endif
