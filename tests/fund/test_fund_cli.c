/* test_fund_cli.c: `gotong fund` against a `gotong node` child over HTTP
 * (the /v1/fund routes and POST /v1/actions): an epoch's airdrop closed and
 * claimed with the proof the node serves (once), an issuer attesting a
 * human, a funding round created, entered by a dataset's owner and by the
 * owner of a model trained by a train task (and not by someone else),
 * contributed to, finalized after its window and shown with its matches; an
 * issuer leaving, its bond locked for the unbonding period; usage errors and
 * the API's refusals of bad parameters.
 * The ledger is prepared first in process (fund_util.h's world: published
 * datasets, paid slots, points, a funded epoch in 2023's block time), then
 * the node takes it over and its blocks carry today's time. */
#include <sys/stat.h>
#include <time.h>

#include "fund_util.h"

#include <curl/curl.h>

#include "../node_child.h"
#include "crypto/keystore.h"

static char url[160], pwfile[128];
static uint8_t job_own[32]; /* a dataset its poster accepted itself: published, not fundable */

/* Runs `gotong fund ARGS --node URL --home DIR --password-file F` as key
 * `who`'s address (--from); returns the exit code, output (both streams) in out. */
static int fund_cli(int who, char *out, size_t cap, const char *fmt, ...) {
    char args[1024], cmd[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    snprintf(cmd, sizeof cmd, "%s fund %s --node %s --home %s --password-file %s --from %s 2>&1", GT_CLI, args, url,
             dir, pwfile, ad(who));
    FILE *f = popen(cmd, "r");
    if (!f) return -1;
    size_t n = fread(out, 1, cap - 1, f);
    out[n] = 0;
    int st = pclose(f);
    int code = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    if (getenv("FUND_TEST_VERBOSE")) fprintf(stderr, "$ gotong fund %s -> %d\n%s", args, code, out);
    return code;
}

/* The 0x id printed by a sent action ("kind 0x... applied in block N"). */
static void printed_id(const char *out, char id[67]) {
    const char *p = strstr(out, " 0x");
    id[0] = 0;
    if (p) snprintf(id, 67, "%.66s", p + 1);
}

/* curl write callback: appends to a bounded buffer (a longer answer is cut). */
static size_t body_write(char *p, size_t size, size_t n, void *arg) {
    char *out = arg;
    size_t have = strlen(out), add = size * n, room = 8191 - have;
    memcpy(out + have, p, add < room ? add : room);
    out[have + (add < room ? add : room)] = 0;
    return size * n;
}

/* GETs route from the node (libcurl): the HTTP status, the body (up to 8191
 * bytes) in body when not NULL; 0 when the request failed. */
static long http_get(const char *route, char body[8192]) {
    char u[512], sink[8192] = "";
    snprintf(u, sizeof u, "%s%s", url, route);
    CURL *c = curl_easy_init();
    CHECK(c != NULL);
    if (!c) return 0;
    long status = 0;
    if (body) body[0] = 0;
    curl_easy_setopt(c, CURLOPT_URL, u);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, body_write);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, body ? body : sink);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
    if (curl_easy_perform(c) == CURLE_OK) curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(c);
    return status;
}

/* The HTTP status of GET route. */
static long http_status(const char *route) { return http_get(route, NULL); }

/* Keys of the cast in HOME/keystore (geth's light scrypt: a test's speed). */
static void save_keys(void) {
    snprintf(pwfile, sizeof pwfile, "%s/pw", dir);
    FILE *f = fopen(pwfile, "w");
    CHECK(f != NULL);
    if (f) fputs("test-password\n", f), fclose(f);
    gt_kdf_params kp = {GT_KDF_LIGHT_N, GT_KDF_DEFAULT_R, GT_KDF_LIGHT_P};
    int who[] = {ALICE, BOB, CAROL, V1, X0, X0 + 1};
    for (size_t i = 0; i < sizeof who / sizeof who[0]; i++) {
        char p[512];
        gt_err err = {0};
        CHECK_EQ_INT(gt_keystore_save(dir, &K[who[i]], "test-password", &kp, p, sizeof p, &err), 0);
    }
}

/* ALICE's train task, run by X0 + 10 and accepted by a quorum of its drawn
 * panel, V1 and V2 (an evaluator's verdict would not do: fund_round.c):
 * ALICE's model, eligible as a round's project. */
static void trained_model(gt_ledger *l, uint8_t task[32]) {
    CHECK_EQ_INT(fa(l, X0 + 10, NULL, NULL, "agent_register", "{\"name\":\"trainer\",\"skills\":\"train\"}"), 0);
    CHECK_EQ_INT(fa(l, ALICE, task, NULL, "task_post",
                    "{\"kind\":\"train\",\"spec\":\"%s\",\"slots\":1,\"bounty\":%llu,\"stake\":%llu,"
                    "\"quorum\":2,\"fee\":%llu,\"claimSeconds\":500,\"submitSeconds\":500,"
                    "\"verifySeconds\":500}",
                    blob("train spec"), 2 * TOKEN, TOKEN, TOKEN / 10),
                 0);
    CHECK_EQ_INT(fa(l, X0 + 10, NULL, NULL, "task_claim", "{\"task\":\"%s\"}", hx(task)), 0);
    CHECK_EQ_INT(fa(l, X0 + 10, NULL, NULL, "task_submit", "{\"task\":\"%s\",\"slot\":0,\"result\":\"%s\"}",
                    hx(task), blob("manifest")),
                 0);
    for (int v = V1; v <= V2; v++)
        CHECK_EQ_INT(fa(l, v, NULL, NULL, "task_verify",
                        "{\"task\":\"%s\",\"slot\":0,\"result\":\"%s\",\"accept\":true,\"score\":100}",
                        hx(task), blob("manifest")),
                     0);
}

static void test_fund_cli(void) {
    gt_ledger *l = world();
    uint8_t model[32], task_own[32];
    trained_model(l, model);
    publish_dataset_by(l, CAROL, DS_POSTER, BOB, "job-own", job_own, task_own); /* accepted on its poster's word */
    uint64_t e = gt_fund_epoch_of(now_of(l));
    /* points come from work human-attested posters paid for (format 10):
     * an issuer of its own (X0+2, 10 tokens bonded) attests BOB and CAROL */
    const int issuer = X0 + 2, posters[] = {BOB, CAROL};
    CHECK_EQ_INT(fa(l, issuer, NULL, NULL, "stake", "{\"amount\":%llu}", 10 * TOKEN), 0);
    CHECK_EQ_INT(fa(l, issuer, NULL, NULL, "human_issuer_register", "{\"name\":\"posters\"}"), 0);
    for (int i = 0; i < 2; i++)
        CHECK_EQ_INT(fa(l, issuer, NULL, NULL, "human_attest",
                        "{\"subject\":\"%s\",\"person\":\"%s\",\"weightPpm\":1000000,\"expiresS\":%llu}",
                        ad(posters[i]), blob(posters[i] == BOB ? "bob" : "carol"), now_of(l) + 86400),
                     0);
    CHECK_EQ_INT(fa(l, CAROL, NULL, NULL, "points_record", "{\"task\":\"%s\",\"slot\":0}", hx(task_b)), 0);
    CHECK_EQ_INT(fa(l, BOB, NULL, NULL, "points_record", "{\"task\":\"%s\",\"slot\":0}", hx(task_c)), 0);
    CHECK_EQ_INT(fa(l, ALICE, NULL, NULL, "airdrop_fund", "{\"epoch\":%llu,\"amount\":%llu}", e, 6 * TOKEN), 0);
    gt_ledger_close(l);
    save_keys();
    pid_t node = gt_test_node_start(dir, "200", url, sizeof url);
    CHECK(node > 0);
    if (node <= 0) return;
    char out[8192], id[67];
    /* the airdrop: closed by anyone, claimed with the node's proof, once */
    CHECK_EQ_INT(fund_cli(CAROL, out, sizeof out, "airdrop-close --epoch %llu", e), 0);
    CHECK_EQ_INT(fund_cli(BOB, out, sizeof out, "claim --epoch %llu", e), 0);
    CHECK_CONTAINS(out, "airdrop_claim 0x");
    CHECK_EQ_INT(fund_cli(BOB, out, sizeof out, "claim --epoch %llu", e), 1);
    CHECK_CONTAINS(out, "already paid");
    CHECK_EQ_INT(fund_cli(CAROL, out, sizeof out, "epoch --epoch %llu --json", e), 0); /* format 14: each funder's part */
    CHECK_CONTAINS(out, "\"funders\":[{\"address\":");
    CHECK_CONTAINS(out, "\"amount\":\"6000000\"}]");
    CHECK_EQ_INT(fund_cli(ALICE, out, sizeof out, "claim --epoch %llu", e), 1); /* no points, no leaf */
    CHECK_CONTAINS(out, "has no claim");
    CHECK_EQ_INT(fund_cli(CAROL, out, sizeof out, "epoch --epoch %llu", e), 0);
    CHECK_CONTAINS(out, "\"status\":\"closed\"");
    CHECK_CONTAINS(out, "\"amount\":\"3000000\"");
    /* proof of human */
    CHECK_EQ_INT(fund_cli(V1, out, sizeof out, "attest %s --person someone", ad(X0)), 1);
    CHECK_CONTAINS(out, "registered issuer");
    CHECK_EQ_INT(fund_cli(V1, out, sizeof out, "issuer-register --name v1-humans"), 0);
    CHECK_EQ_INT(fund_cli(V1, out, sizeof out, "attest %s --person someone --weight-ppm 800000", ad(X0)), 0);
    CHECK_EQ_INT(fund_cli(ALICE, out, sizeof out, "human %s", ad(X0)), 0);
    CHECK_CONTAINS(out, "weight 800000 ppm now");
    /* a round: create, enter (the owner only), contribute, finalize after the window */
    CHECK_EQ_INT(fund_cli(ALICE, out, sizeof out, "round-create --pool 10 --window 180 --name cli-round"), 0);
    printed_id(out, id);
    CHECK_EQ_INT((int)strlen(id), 66);
    CHECK_EQ_INT(fund_cli(CAROL, out, sizeof out, "round-enter %s --dataset %s", id, hx(job_b)), 1);
    CHECK_CONTAINS(out, "only its owner");
    CHECK_EQ_INT(fund_cli(BOB, out, sizeof out, "round-enter %s --dataset %s", id, hx(job_b)), 0);
    CHECK_EQ_INT(fund_cli(CAROL, out, sizeof out, "round-enter %s --dataset %s", id, hx(job_own)), 1);
    CHECK_CONTAINS(out, "not by a drawn, bonded panel"); /* the rule behind the datasets view's notFundable */
    CHECK_EQ_INT(fund_cli(CAROL, out, sizeof out, "round-enter %s --model %s", id, hx(model)), 1);
    CHECK_CONTAINS(out, "only its owner");
    CHECK_EQ_INT(fund_cli(ALICE, out, sizeof out, "round-enter %s --model %s --eval %s", id, hx(model), hx(model)), 2);
    CHECK_EQ_INT(fund_cli(ALICE, out, sizeof out, "round-enter %s --model %s", id, hx(model)), 0);
    CHECK_EQ_INT(fund_cli(X0, out, sizeof out, "contribute %s --project 0 --amount 1", id), 0);
    CHECK_EQ_INT(fund_cli(X0 + 1, out, sizeof out, "contribute %s --project 0 --amount 4", id), 0);
    CHECK_EQ_INT(fund_cli(X0, out, sizeof out, "contribute %s --project 1 --amount 1", id), 0);
    CHECK_EQ_INT(fund_cli(X0 + 1, out, sizeof out, "contribute %s --project 1 --amount 1", id), 0);
    CHECK(strstr(out, "note:") == NULL); /* a plain QF round weighs nobody */
    /* a pairwise round: X0+1 (no proof of human yet) is told its contribution weighs nothing here, X0 is not */
    char pw[67];
    CHECK_EQ_INT(fund_cli(ALICE, out, sizeof out, "round-create --pool 1 --window 600 --name pw --rule pairwise"
                                                  " --pairwise-m 10"),
                 0);
    printed_id(out, pw);
    CHECK_EQ_INT(fund_cli(BOB, out, sizeof out, "round-enter %s --dataset %s", pw, hx(job_b)), 0);
    CHECK_EQ_INT(fund_cli(X0, out, sizeof out, "contribute %s --project 0 --amount 1", pw), 0);
    CHECK(strstr(out, "note:") == NULL);
    CHECK_EQ_INT(fund_cli(X0 + 1, out, sizeof out, "contribute %s --project 0 --amount 1", pw), 0);
    CHECK_CONTAINS(out, "has no valid proof of human now");
    CHECK_CONTAINS(out, "fund_contribute 0x"); /* sent all the same */
    int code = fund_cli(CAROL, out, sizeof out, "round-finalize %s", id);
    for (int tries = 0; code != 0 && strstr(out, "takes contributions until") && tries < 600; tries++) {
        struct timespec ts = {0, 250000000}; /* waiting out the window's block time, not timing anything */
        nanosleep(&ts, NULL);
        code = fund_cli(CAROL, out, sizeof out, "round-finalize %s", id);
    }
    CHECK_EQ_INT(code, 0);
    CHECK_EQ_INT(fund_cli(CAROL, out, sizeof out, "round-show %s --json", id), 0);
    CHECK_CONTAINS(out, "\"match\":\"4000000\"");
    CHECK_CONTAINS(out, "\"kind\":\"model\"");
    CHECK_CONTAINS(out, "\"match\":\"2000000\""); /* the model's: (1 + 1)^2 - 2 */
    CHECK_EQ_INT(fund_cli(CAROL, out, sizeof out, "round-show %s", id), 0);
    CHECK_CONTAINS(out, "match 4");
    CHECK_CONTAINS(out, "model");
    CHECK_EQ_INT(fund_cli(CAROL, out, sizeof out, "rounds"), 0);
    CHECK_CONTAINS(out, "cli-round");
    /* a duplicate proven by both keys: V1 attests X0 + 1 as another person */
    CHECK_EQ_INT(fund_cli(V1, out, sizeof out, "attest %s --person someone-else", ad(X0 + 1)), 0);
    CHECK_EQ_INT(fund_cli(X0, out, sizeof out, "same %s", ad(X0 + 1)), 0);
    CHECK_EQ_INT(fund_cli(X0 + 1, out, sizeof out, "same %s", ad(X0)), 0);
    CHECK_EQ_INT(fund_cli(ALICE, out, sizeof out, "human %s", ad(V1)), 0);
    CHECK_CONTAINS(out, "as an issuer: slashed 10000000 base units");
    CHECK_EQ_INT(fund_cli(ALICE, out, sizeof out, "human %s", ad(X0)), 0);
    CHECK_CONTAINS(out, "weight 0 ppm now"); /* its attestation revoked */
    /* V1 leaves: its bond (burned by the slash: 0) stays locked for the unbonding period */
    CHECK_EQ_INT(fund_cli(V1, out, sizeof out, "issuer-leave"), 0);
    CHECK_EQ_INT(fund_cli(ALICE, out, sizeof out, "human %s", ad(V1)), 0);
    CHECK_CONTAINS(out, "as an issuer: unbonding, bond 0 base units, free from block");
    /* the node's blocks come every 200 ms: the period (10 blocks) passes while we wait */
    code = fund_cli(V1, out, sizeof out, "issuer-withdraw");
    for (int tries = 0; code == 1 && tries < 100; tries++) {
        CHECK_CONTAINS(out, "stays locked (and slashable");
        struct timespec ts = {0, 250000000}; /* waiting for blocks, not timing anything */
        nanosleep(&ts, NULL);
        code = fund_cli(V1, out, sizeof out, "issuer-withdraw");
    }
    CHECK_EQ_INT(code, 0);
    CHECK_EQ_INT(fund_cli(ALICE, out, sizeof out, "human %s", ad(V1)), 0);
    CHECK_CONTAINS(out, "as an issuer: withdrawn, bond 0 base units");
    /* usage errors (2) and the API's refusals */
    CHECK_EQ_INT(fund_cli(X0, out, sizeof out, "contribute %s", id), 2);
    CHECK_EQ_INT(fund_cli(X0, out, sizeof out, "round-show 0x12"), 2);
    CHECK_EQ_INT(fund_cli(X0, out, sizeof out, "round-create --pool 1 --window 5 --name x --rule cubic"), 2);
    CHECK_EQ_INT(http_status("/v1/fund/epochs/abc"), 400);
    CHECK_EQ_INT(http_status("/v1/fund/rounds/0x12"), 400);
    CHECK_EQ_INT(http_status("/v1/fund/humans/0xnothex"), 400);
    CHECK_EQ_INT(http_status("/v1/fund/rounds?limit=1000"), 400);
    CHECK_EQ_INT(http_status("/v1/fund/rounds?color=red"), 400);
    char p[160], body[8192];
    snprintf(p, sizeof p, "/v1/fund/rounds/%s", hx(job_b));
    CHECK_EQ_INT(http_status(p), 404);
    /* a dataset's standing for rounds: job_b's panel-accepted batches enter; CAROL's own-verified job does not */
    snprintf(p, sizeof p, "/v1/datasets/%s", hx(job_b));
    CHECK_EQ_INT(http_get(p, body), 200);
    CHECK_CONTAINS(body, "\"fundable\":true");
    CHECK(strstr(body, "notFundable") == NULL);
    snprintf(p, sizeof p, "/v1/datasets/%s", hx(job_own));
    CHECK_EQ_INT(http_get(p, body), 200);
    CHECK_CONTAINS(body, "\"fundable\":false");
    CHECK_CONTAINS(body, "accepted by the task's poster or the evaluator it named, not by a drawn, bonded panel");
    CHECK_EQ_INT(gt_test_node_stop(node), 0);
    done(NULL); /* replays the whole log: the node's blocks too */
}

int main(void) {
    make_keys();
    extra_keys();
    gt_err err = {0};
    if (gt_fund_register(&err)) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    RUN(test_fund_cli);
    return gt_test_finish();
}
