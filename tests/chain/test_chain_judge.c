/* test_chain_judge.c: a `gotong node --chain` whose wallet is a validator
 * of the dispute court judges (src/api/chain_judge.c), on a real anvil.
 * Three operators: A deploys (`gotong chain deploy`, so its node reveals the
 * court's seed links), B works, C bonds into the court with `gotong chain
 * court stake` and is the court's only validator. Then:
 *   - a lying evaluator (a wallet driven here) rejects B's right result; B's
 *     node disputes and draws; C, the whole panel, fetches the input from B's
 *     node (found through the registry, the request signed by C's wallet and
 *     served because the court seats C), checks it against the job's
 *     description hash, re-runs the skill, commits accept and reveals it; B's
 *     node resolves the case the panel decided: B is paid, the liar's bond is
 *     C's; C's index notes the reveal;
 *   - B's node serves a disputed job's input to no one else: no signature
 *     (400), a signature of a wallet the court did not seat (403);
 *   - a worker that runs no node (so no agent card: nobody serves its input)
 *     is wrongly rejected and disputes; C is seated and cannot get the
 *     input (the worker has no agent, A's node holds none): it does not vote,
 *     and its index says why; at the case's deadline A's node (the client)
 *     resolves it undecided: the rejection stands, C's stake untouched;
 *   - C's node stopped between its commit and its reveal (a second validator
 *     keeps the reveals closed), started again, reveals the vote it committed.
 * Each check fails if the node's judging is removed: no vote comes, so the
 * first case never settles and no note is written in the second.
 * Skipped (exit 77) with a message when anvil or the contracts are missing. */
#include <pthread.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "../test.h"
#include "anvil.h"
#include "chain/court.h"
#include "chain/escrow.h"
#include "chain/registry.h"
#include "crypto/addr.h"
#include "crypto/keystore.h"

#define N_NODES 3
#define BUDGET 1000
#define STAKE 200
#define WAIT_S 120 /* any one wait below, at most (a loaded machine) */
#define VALIDATOR_STAKE 1000000 /* the court's least stake: 1 token */

static gt_chain C;
static gt_chain_account OP[N_NODES], ROGUE, LONER; /* operators; a lying evaluator; a worker with no node */
static char ROOT[64], HOME_[N_NODES][128], PW[N_NODES][160], URL[N_NODES][128];
static pid_t NODE[N_NODES] = {-1, -1, -1};
static gt_addr TOKEN, ESCROW, COURT;
static char LAST_NOTE[600]; /* the field wait_field last found */

/* ---- a miner: confirmation depth 2 needs blocks after the last transaction ---- */
static pthread_t miner;
static volatile int mining;

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

static void pause_ms(long ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Runs cmd; its output (static) and exit status. */
static const char *run(const char *cmd, int *status) {
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

static uint64_t balance(const gt_addr *who) {
    uint64_t v;
    CHECK_EQ_INT(anvil_token_balance(&C, &TOKEN, who, &v), 0);
    return v;
}

/* sig(args) sent from w (its nonce read again first: a node or `gotong chain` may have used its key). */
static void send_from(gt_chain_account *w, const gt_addr *to, const char *sig, const gt_abi_val *args, size_t n) {
    gt_chain_receipt r = {0};
    gt_err err;
    gt_chain_account_resync(w);
    CHECK_MSG(gt_chain_invoke(&C, to, w, sig, args, n, &r, NULL, &err) == 0, "%s: %s", sig, err.msg);
    gt_chain_receipt_free(&r);
}

/* amount minted to `to` (A is the token's minter) and, when spender is not NULL, approved by w to it. */
static void fund(gt_chain_account *w, uint64_t amount, const gt_addr *spender) {
    gt_abi_val m[] = {gt_abi_address(&w->addr), gt_abi_uint(amount)};
    send_from(&OP[0], &TOKEN, "mint(address,uint256)", m, 2);
    if (!spender) return;
    gt_abi_val a[] = {gt_abi_address(spender), gt_abi_uint(amount)};
    send_from(w, &TOKEN, "approve(address,uint256)", a, 2);
}

/* GET url; the status (0 when it did not answer) and body (static). */
static long http_get(const char *url, const char **answer) {
    static gt_buf b = GT_BUF_INIT;
    long status = 0;
    gt_err err;
    b.len = 0;
    if (gt_agent_http(url, NULL, 0, 1u << 20, &status, &b, &err)) status = 0;
    gt_buf_append(&b, "", 1);
    *answer = (const char *)b.data;
    return status;
}

/* Polls node i's view of job id until its string field `field` holds want; 1 then. */
static int wait_field(int i, uint64_t id, const char *field, const char *want) {
    char url[256], got[600] = "";
    snprintf(url, sizeof url, "%s/v1/chain/jobs/%llu", URL[i], (unsigned long long)id);
    for (int k = 0; k < WAIT_S * 5; k++) {
        const char *body;
        if (http_get(url, &body) == 200) {
            json_t *j = json_loads(body, 0, NULL);
            const char *v = json_string_value(json_object_get(j, field));
            snprintf(got, sizeof got, "%s", v ? v : "");
            json_decref(j);
            if (strstr(got, want)) return snprintf(LAST_NOTE, sizeof LAST_NOTE, "%s", got), 1;
        }
        pause_ms(200);
    }
    fprintf(stderr, "%s: %s never held \"%s\" (last: \"%s\")\n", url, field, want, got);
    return 0;
}

/* Home i: `gotong init`, a password file, operator i's key in its keystore. */
static void make_home(int i) {
    static const gt_kdf_params light = {GT_KDF_LIGHT_N, 8, GT_KDF_LIGHT_P};
    char cmd[1024], path[256], seed[32], pw[64];
    int st;
    snprintf(HOME_[i], sizeof HOME_[i], "%s/%c", ROOT, 'a' + i);
    snprintf(PW[i], sizeof PW[i], "%s/pw-%c", ROOT, 'a' + i);
    snprintf(pw, sizeof pw, "judge test operator %c", 'A' + i);
    FILE *f = fopen(PW[i], "w");
    CHECK(f != NULL);
    if (!f) return;
    fprintf(f, "%s", pw);
    fclose(f);
    snprintf(cmd, sizeof cmd, "%s init --home %s --password-file %s --light 2>&1", GT_CLI, HOME_[i], PW[i]);
    const char *out = run(cmd, &st);
    CHECK_MSG(st == 0, "init: %s", out);
    snprintf(seed, sizeof seed, "chain judge operator %d", i);
    CHECK_EQ_INT(anvil_account(&C, seed, &OP[i]), 0);
    gt_err err;
    CHECK_MSG(gt_keystore_save(HOME_[i], &OP[i].key, pw, &light, path, sizeof path, &err) == 0, "%s", err.msg);
}

static void read_addr(const json_t *j, const char *name, gt_addr *out) {
    const char *s = json_string_value(json_object_get(j, name));
    CHECK_MSG(s && !gt_addr_parse(s, out, NULL), "chain.json: %s", name);
}

/* A deploys; B and C get the record in their homes. */
static void deploy(void) {
    char cmd[2048], path[256], a[GT_ADDR_STR_BYTES];
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
    read_addr(j, "GotongToken", &TOKEN);
    read_addr(j, "JobEscrow", &ESCROW);
    read_addr(j, "DisputeCourt", &COURT);
    json_decref(j);
}

/* Node i: `gotong node --chain` with its operator's agent; URL[i] once it listens. */
static void start_node(int i) {
    char wallet[GT_ADDR_STR_BYTES], name[16];
    int pipefd[2];
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
static void stop_node(int i) {
    int st = -1;
    if (NODE[i] <= 0) return;
    kill(NODE[i], SIGTERM);
    waitpid(NODE[i], &st, 0);
    CHECK_MSG(WIFEXITED(st) && WEXITSTATUS(st) == 0, "node %c stopped with status %d", 'A' + i, st);
    NODE[i] = -1;
}

static void stop_nodes(void) {
    for (int i = 0; i < N_NODES; i++) stop_node(i);
}

/* Polls job id on chain until its status is want (WAIT_S at most); the last status read. */
static gt_escrow_status wait_status(uint64_t id, gt_escrow_status want) {
    gt_escrow_job job = {0};
    for (int k = 0; k < WAIT_S * 5; k++) {
        int rc = gt_escrow_get(&C, &ESCROW, id, &job, NULL);
        CHECK_EQ_INT(rc, 0);
        if (rc || job.status == want) break;
        pause_ms(200);
    }
    return job.status;
}

/* Polls the court until job id's case is in state want. */
static int wait_case(uint64_t id, gt_court_state want) {
    gt_court_case cs = {0};
    for (int k = 0; k < WAIT_S * 5; k++) {
        if (!gt_court_get(&C, &COURT, id, &cs, NULL) && cs.state == want) return 1;
        pause_ms(200);
    }
    fprintf(stderr, "job %llu: the case is %s, never %s\n", (unsigned long long)id, gt_court_state_name(cs.state),
            gt_court_state_name(want));
    return 0;
}

/* validatorOf(who)'s word i (0 active, 1 locked). */
static uint64_t validator_word(const gt_addr *who, size_t i) {
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

/* A staked job of A's naming worker and ROGUE as evaluator, 30 days to expiry. */
static uint64_t post_job(const gt_addr *worker, const char *input) {
    uint8_t desc[32];
    uint64_t id = 0;
    gt_err err;
    fund(&OP[0], BUDGET, &ESCROW);
    gt_keccak256(input, strlen(input), desc);
    CHECK_MSG(gt_escrow_post_for(&C, &ESCROW, &OP[0], worker, &ROGUE.addr, anvil_now(&C) + 30 * 86400, desc, BUDGET,
                                 STAKE, &id, NULL, &err) == 0, "%s", err.msg);
    return id;
}

/* POSTs input to node i for job id until its index has the job; the final status. */
static long post_input(int i, uint64_t id, const char *input) {
    char url[256];
    static gt_buf b = GT_BUF_INIT;
    long status = 0;
    gt_err err;
    snprintf(url, sizeof url, "%s/v1/chain/jobs/%llu/input", URL[i], (unsigned long long)id);
    for (int k = 0; k < WAIT_S * 5; k++) {
        if (gt_agent_http(url, input, strlen(input), 4096, &status, &b, &err)) status = 0;
        if (status != 404) break;
        pause_ms(200);
    }
    return status;
}

/* The operators' homes and the deployment; C stakes into the court with the CLI; the nodes start. */
static void test_setup(void) {
    char cmd[2048], c[GT_ADDR_STR_BYTES];
    int st;
    for (int i = 0; i < N_NODES; i++) make_home(i);
    deploy();
    fund(&OP[2], VALIDATOR_STAKE, NULL);
    gt_addr_to_str(&OP[2].addr, c);
    snprintf(cmd, sizeof cmd, "%s chain court stake --amount %d --home %s --from %s --password-file %s 2>&1", GT_CLI,
             VALIDATOR_STAKE, HOME_[2], c, PW[2]);
    const char *out = run(cmd, &st);
    CHECK_MSG(st == 0, "chain court stake: %s", out);
    CHECK_EQ_U64(validator_word(&OP[2].addr, 0), VALIDATOR_STAKE);
    for (int i = 0; i < N_NODES; i++) start_node(i);
    mining = 1;
    CHECK_EQ_INT(pthread_create(&miner, NULL, mine, NULL), 0);
}

/* B's right result rejected by ROGUE; C judges the dispute alone and accepts it; B is paid. */
static void test_node_judges_dispute(void) {
    static const char input[] = "a validator node\nre-runs this\n";
    uint8_t why[32] = {3};
    gt_err err;
    fund(&ROGUE, STAKE, &ESCROW);
    fund(&OP[1], 2 * STAKE, NULL); /* B's node approved the escrow at its start */
    uint64_t id = post_job(&OP[1].addr, input);
    CHECK_EQ_INT(post_input(1, id, input), 202);
    CHECK_EQ_INT(wait_status(id, GT_ESCROW_SUBMITTED), GT_ESCROW_SUBMITTED); /* B's node worked it */
    uint64_t b0 = balance(&OP[1].addr), c0 = balance(&OP[2].addr), r0 = balance(&ROGUE.addr);
    CHECK_MSG(gt_escrow_do(&C, &ESCROW, &ROGUE, GT_ESCROW_REJECT, id, why, NULL, &err) == 0, "%s", err.msg);
    CHECK_EQ_INT(wait_status(id, GT_ESCROW_DISPUTED), GT_ESCROW_DISPUTED); /* B's node disputed */
    CHECK(wait_case(id, GT_COURT_VOTING));                                 /* A revealed, B drew */
    uint64_t weight = 0;
    gt_court_vote vote = GT_COURT_VOTE_NONE;
    CHECK_EQ_INT(gt_court_seat(&C, &COURT, id, &OP[2].addr, &weight, &vote, NULL), 0);
    CHECK_EQ_U64(weight, VALIDATOR_STAKE); /* C is the whole panel */
    /* Nobody else is served the input: no signature, or a wallet the court did not seat. */
    char url[512], sig_hex[133], who[GT_ADDR_STR_BYTES];
    uint8_t digest[32];
    gt_sig sig;
    const char *body;
    snprintf(url, sizeof url, "%s/v1/chain/jobs/%llu/input", URL[1], (unsigned long long)id);
    CHECK_EQ_INT(http_get(url, &body), 400);
    gt_court_input_digest(C.chain_id, &COURT, id, digest);
    CHECK_EQ_INT(gt_sign_digest(&ROGUE.key, digest, &sig, NULL), 0);
    gt_sig_to_hex(&sig, sig_hex);
    gt_addr_to_str(&ROGUE.addr, who);
    snprintf(url, sizeof url, "%s/v1/chain/jobs/%llu/input?judge=%s&sig=%s", URL[1], (unsigned long long)id, who,
             sig_hex);
    CHECK_EQ_INT(http_get(url, &body), 403);
    CHECK_CONTAINS(body, "has no seat on job");
    gt_addr_to_str(&OP[2].addr, who); /* ROGUE's signature under C's name */
    snprintf(url, sizeof url, "%s/v1/chain/jobs/%llu/input?judge=%s&sig=%s", URL[1], (unsigned long long)id, who,
             sig_hex);
    CHECK_EQ_INT(http_get(url, &body), 403);
    /* C's node: the input from B's node, re-executed, committed and revealed; B's node resolves. */
    CHECK_EQ_INT(wait_status(id, GT_ESCROW_COMPLETED), GT_ESCROW_COMPLETED);
    CHECK_EQ_INT(gt_court_seat(&C, &COURT, id, &OP[2].addr, &weight, &vote, NULL), 0);
    CHECK_EQ_INT(vote, GT_COURT_ACCEPT);
    CHECK_EQ_U64(balance(&OP[1].addr), b0 + BUDGET + STAKE); /* paid, its stake and its dispute bond back */
    CHECK_EQ_U64(balance(&OP[2].addr), c0 + STAKE);          /* the liar's bond, to the judge's wallet */
    CHECK_EQ_U64(balance(&ROGUE.addr), r0 - STAKE);          /* its bond, lost */
    CHECK_EQ_U64(validator_word(&OP[2].addr, 0), VALIDATOR_STAKE); /* C's stake whole, */
    CHECK_EQ_U64(validator_word(&OP[2].addr, 1), 0);               /* its own bond freed */
    CHECK(wait_field(2, id, "note", "revealed accept (gas "));
    printf("C's node judged job %llu: seat %llu; its note: %s\n", (unsigned long long)id, (unsigned long long)weight,
           LAST_NOTE);
}

/* A worker with no node (so no agent, nobody serves its input): C cannot judge and does not vote. */
static void test_no_input_no_vote(void) {
    static const char input[] = "nobody serves this input";
    static const char right[] = "{\"bytes\":24,\"lines\":1,\"words\":4}";
    uint8_t why[32] = {4}, result[32];
    gt_err err;
    fund(&ROGUE, STAKE, &ESCROW);
    fund(&LONER, 2 * STAKE, &ESCROW);
    uint64_t id = post_job(&LONER.addr, input);
    gt_keccak256(right, strlen(right), result);
    CHECK_MSG(gt_escrow_do(&C, &ESCROW, &LONER, GT_ESCROW_CLAIM, id, NULL, NULL, &err) == 0, "%s", err.msg);
    CHECK_MSG(gt_escrow_do(&C, &ESCROW, &LONER, GT_ESCROW_SUBMIT, id, result, NULL, &err) == 0, "%s", err.msg);
    CHECK_MSG(gt_escrow_do(&C, &ESCROW, &ROGUE, GT_ESCROW_REJECT, id, why, NULL, &err) == 0, "%s", err.msg);
    CHECK_MSG(gt_escrow_do(&C, &ESCROW, &LONER, GT_ESCROW_DISPUTE, id, NULL, NULL, &err) == 0, "%s", err.msg);
    CHECK(wait_case(id, GT_COURT_VOTING)); /* A revealed the links and drew (the client) */
    CHECK(wait_field(2, id, "note", "no vote: no input: from the worker's node:"));
    CHECK(wait_field(2, id, "note", "has no agent in the registry"));
    CHECK(wait_field(2, id, "note", "holds no input of job")); /* A's node, the client's, was asked too */
    uint64_t weight = 0;
    gt_court_vote vote = GT_COURT_COMMITTED;
    CHECK_EQ_INT(gt_court_seat(&C, &COURT, id, &OP[2].addr, &weight, &vote, NULL), 0);
    CHECK_EQ_U64(weight, VALIDATOR_STAKE); /* seated */
    CHECK_EQ_INT(vote, GT_COURT_VOTE_NONE); /* and no vote */
    gt_court_case cs;
    CHECK_EQ_INT(gt_court_get(&C, &COURT, id, &cs, NULL), 0);
    uint64_t now = anvil_now(&C), a0 = balance(&OP[0].addr), l0 = balance(&LONER.addr);
    CHECK_EQ_INT(anvil_advance(&C, cs.reveal_end + 31 - now), 0); /* past the deadline and the client's grace */
    CHECK(wait_case(id, GT_COURT_RESOLVED));                       /* by A's node, the client */
    CHECK_EQ_INT(wait_status(id, GT_ESCROW_REJECTED), GT_ESCROW_REJECTED); /* no vote: the rejection stands */
    CHECK_EQ_U64(balance(&OP[0].addr), a0 + BUDGET + STAKE); /* the budget back, the worker's stake */
    CHECK_EQ_U64(balance(&LONER.addr), l0 + STAKE);          /* its bond back */
    CHECK_EQ_U64(validator_word(&OP[2].addr, 0), VALIDATOR_STAKE); /* C's stake untouched */
}

/* A restart between commit and reveal: a second validator (a wallet driven here) sits with C, so reveals open
 * only once both committed. C's node commits and is stopped; the other validator commits (reveals open) and
 * reveals; C's node, started again on the same home, reveals the vote it committed (the input kept in its index,
 * the salt derived from its key), and B's node resolves the case: B is paid. */
static void test_restart_reveals(void) {
    static const char input[] = "judged across a restart\n";
    uint8_t why[32] = {5};
    gt_chain_account other;
    gt_err err;
    CHECK_EQ_INT(anvil_account(&C, "chain judge second validator", &other), 0);
    fund(&other, VALIDATOR_STAKE, &COURT);
    CHECK_MSG(gt_court_do(&C, &COURT, &other, GT_COURT_STAKE, VALIDATOR_STAKE, NULL, &err) == 0, "%s", err.msg);
    fund(&ROGUE, STAKE, &ESCROW);
    fund(&OP[1], 2 * STAKE, NULL);
    uint64_t id = post_job(&OP[1].addr, input);
    CHECK_EQ_INT(post_input(1, id, input), 202);
    CHECK_EQ_INT(wait_status(id, GT_ESCROW_SUBMITTED), GT_ESCROW_SUBMITTED);
    uint64_t b0 = balance(&OP[1].addr);
    CHECK_MSG(gt_escrow_do(&C, &ESCROW, &ROGUE, GT_ESCROW_REJECT, id, why, NULL, &err) == 0, "%s", err.msg);
    CHECK(wait_case(id, GT_COURT_VOTING)); /* disputed and drawn by B's node */
    uint64_t weight = 0;
    gt_court_vote vote = GT_COURT_VOTE_NONE;
    for (int k = 0; k < WAIT_S * 5 && vote != GT_COURT_COMMITTED; k++) {
        CHECK_EQ_INT(gt_court_seat(&C, &COURT, id, &OP[2].addr, &weight, &vote, NULL), 0);
        pause_ms(200);
    }
    CHECK_EQ_INT(vote, GT_COURT_COMMITTED); /* C's node committed, and cannot reveal yet */
    stop_node(2);
    CHECK_EQ_INT(gt_court_seat(&C, &COURT, id, &OP[2].addr, &weight, &vote, NULL), 0);
    CHECK_EQ_INT(vote, GT_COURT_COMMITTED);
    CHECK_MSG(gt_court_commit(&C, &COURT, &other, id, 1, NULL, &err) == 0, "commit: %s", err.msg);
    CHECK_MSG(gt_court_reveal(&C, &COURT, &other, id, 1, NULL, &err) == 0, "reveal: %s", err.msg);
    start_node(2);
    CHECK_EQ_INT(wait_status(id, GT_ESCROW_COMPLETED), GT_ESCROW_COMPLETED); /* B's node resolved */
    CHECK_EQ_INT(gt_court_seat(&C, &COURT, id, &OP[2].addr, &weight, &vote, NULL), 0);
    CHECK_EQ_INT(vote, GT_COURT_ACCEPT); /* revealed by the restarted node */
    CHECK_EQ_U64(balance(&OP[1].addr), b0 + BUDGET + STAKE);
    gt_chain_account_wipe(&other);
}

int main(void) {
    anvil_require(1);
    if (anvil_start(&C)) return 1;
    snprintf(ROOT, sizeof ROOT, "/tmp/gt-chain-judge-XXXXXX");
    CHECK(mkdtemp(ROOT) != NULL);
    CHECK_EQ_INT(anvil_account(&C, "chain judge rogue evaluator", &ROGUE), 0);
    CHECK_EQ_INT(anvil_account(&C, "chain judge worker without a node", &LONER), 0);
    RUN(test_setup);
    if (NODE[2] > 0) { /* the scenarios need the three nodes */
        RUN(test_node_judges_dispute);
        RUN(test_no_input_no_vote);
        RUN(test_restart_reveals);
    }
    stop_nodes();
    mining = 0;
    pthread_join(miner, NULL);
    for (int i = 0; i < N_NODES; i++) gt_chain_account_wipe(&OP[i]);
    gt_chain_account_wipe(&ROGUE);
    gt_chain_account_wipe(&LONER);
    gt_chain_close(&C);
    anvil_stop();
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", ROOT);
    CHECK_EQ_INT(system(cmd), 0);
    return gt_test_finish();
}
