/* test_cli_byhand.c: the README's by-hand flow, with nothing but the CLI
 * against a real node: a person makes a key, is funded, registers an agent
 * card with stake (`gotong agent register`), and on a task another person
 * posted claims, submits, is verified and settles (and is paid); on a
 * second task the work is rejected, disputed, voted good by a staked
 * validator, and the worker wins the dispute once the vote closes; a third
 * dispute is voted sealed (commit, then reveal). The README's `data job post --fee 0.1`
 * example runs as written. Each step checks the ledger's numbers.
 * The network is made as a person makes one (`gotong init`, no window
 * option): its windows are ten minutes, fixed at genesis and shown by
 * init and GET /v1/chain, so the worker disputes a rejection more than 5 s
 * after it (5 s was the whole window for every network before); windows
 * out of bounds are refused by init. */
#include <jansson.h>
#include <stdarg.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../test.h"
#include "../node_child.h"
#include "base/alloc.h"
#include "base/file.h"
#include "base/hex.h"
#include "crypto/sha256.h"
#include "agent/client.h"
#include "ledger/ledger.h"
#include "cli_util.h"

static char url[256], poster[64], worker[64], validator[64], model[300];

/* Runs `gotong ARGS --node URL --password-file PW` and expects exit 0. */
static int ok(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int ok(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int rc = cli_at_node_v(url, fmt, ap);
    va_end(ap);
    CHECK_MSG(rc == 0, "gotong %s: exit %d: %s", fmt, rc, err_s);
    return rc;
}

/* An amount of addr's account (balance --json, read beside the node), in
 * base units. */
static long long units(const char *addr, const char *what) {
    char args[256];
    snprintf(args, sizeof args, "balance %s --json", addr);
    if (gotong(args) != 0) return -1;
    json_t *j = json_loads(out_s, 0, NULL);
    const char *s = json_string_value(json_object_get(json_array_get(j, 0), what));
    long long v = s ? atoll(s) : -1;
    json_decref(j);
    return v;
}

/* Windows out of bounds are usage errors naming the bounds; nothing is made. */
static void init_refuses_windows(void) {
    char args[1024];
    snprintf(args, sizeof args, "init --password-file %s --light --dispute-window 1", cli_pwfile);
    CHECK_EQ_INT(gotong(args), 2);
    CHECK_CONTAINS(err_s, "--dispute-window");
    CHECK_CONTAINS(err_s, "604800");
    snprintf(args, sizeof args, "init --password-file %s --light --reveal-window 604801", cli_pwfile);
    CHECK_EQ_INT(gotong(args), 2);
    CHECK_CONTAINS(err_s, "--reveal-window");
    CHECK(!gt_file_exists(cli_home));
}

static void setup(void) {
    char args[5120]; /* a fixture path may be 4095 bytes */
    init_refuses_windows();
    snprintf(args, sizeof args, "init --password-file %s --light", cli_pwfile);
    CHECK_EQ_INT(gotong(args), 0);
    CHECK_CONTAINS(out_s, "windows    dispute 600 s, vote 600 s, reveal 600 s");
    CHECK_EQ_INT(gotong("wallet list --json"), 0);
    json_t *j = json_loads(out_s, 0, NULL);
    snprintf(poster, sizeof poster, "%s", json_string_value(json_array_get(json_object_get(j, "addresses"), 0)));
    json_decref(j);
    snprintf(args, sizeof args, "wallet new --light --password-file %s --json", cli_pwfile);
    CHECK_EQ_INT(gotong(args), 0);
    cli_field("address", worker, sizeof worker);
    CHECK_EQ_INT(gotong(args), 0);
    cli_field("address", validator, sizeof validator);
    CHECK(strlen(poster) == 42 && strlen(worker) == 42);
    snprintf(model, sizeof model, "%s/m.gguf", cli_tmp);
    snprintf(args, sizeof args,
             "model random --like %s --arch llama --dim 64 --layers 2 --heads 4 --kv-heads 2 --ff 96 --seed 7 "
             "--threads 1 -o %s",
             gt_fixture("tokenizer/ggml-vocab-llama-spm.gguf"), model);
    CHECK_EQ_INT(gotong(args), 0);
}

/* Post, claim, submit, verify (accept), settle: the worker is paid. */
static void test_paid_by_hand(void) {
    ok("mint --to %s 1000 --from %s", poster, poster);
    ok("mint --to %s 100 --from %s", worker, poster);
    ok("mint --to %s 100 --from %s", validator, poster);
    /* without a card, a claim is refused and says what to do */
    ok("task post --prompt 'Say hi' --model %s --bounty 5 --stake 1 --from %s --json", model, poster);
    char task[80], st[32];
    cli_field("task", task, sizeof task);
    char line[1024];
    snprintf(line, sizeof line, "task claim %s --from %s --node %s --password-file %s", task, worker, url, cli_pwfile);
    CHECK_EQ_INT(gotong(line), 1);
    ok("agent register --name alice --skills complete --price 1 --endpoint https://alice.example --stake 10 --from %s",
       worker);
    CHECK_CONTAINS(out_s, "registered as \"alice\"");
    CHECK_EQ_INT((int)units(worker, "staked"), 10000000);
    ok("agent register --name alice --skills complete --price 1 --endpoint https://alice.example --from %s --json",
       worker);
    CHECK_CONTAINS(out_s, "\"endpoint\":\"https://alice.example\"");
    long long before = units(worker, "balance");
    ok("task claim %s --from %s", task, worker);
    cli_slot0_state(url, task, st, sizeof st);
    CHECK_STR(st, "claimed");
    ok("task submit %s --slot 0 --result-text 'hi there' --from %s", task, worker);
    cli_slot0_state(url, task, st, sizeof st);
    CHECK_STR(st, "submitted");
    ok("task verify %s --slot 0 --accept --score 90 --from %s", task, poster);
    ok("task settle %s --slot 0 --from %s", task, worker);
    cli_slot0_state(url, task, st, sizeof st);
    CHECK_STR(st, "paid");
    /* paid the bounty (5 tokens), its stake back */
    CHECK_EQ_U64((uint64_t)(units(worker, "balance") - before), 5000000);
}

/* The node's GET /v1/chain shows the windows the genesis fixed. */
static void test_chain_windows(void) {
    gt_client *c = NULL;
    json_t *j = NULL;
    gt_err err = {0};
    CHECK(gt_client_new(url, &c, &err) == 0);
    CHECK_MSG(c && gt_client_get_json(c, "/v1/chain", &j, &err) == 0, "GET /v1/chain: %s", err.msg);
    json_t *w = json_object_get(j, "windows");
    CHECK_EQ_INT(json_integer_value(json_object_get(w, "disputeS")), GT_DEFAULT_PERSON_WINDOW_S);
    CHECK_EQ_INT(json_integer_value(json_object_get(w, "voteS")), GT_DEFAULT_PERSON_WINDOW_S);
    CHECK_EQ_INT(json_integer_value(json_object_get(w, "revealS")), GT_DEFAULT_PERSON_WINDOW_S);
    json_decref(j);
    gt_client_free(c);
}

/* Post, claim, submit, reject, dispute, a validator votes: decided. The
 * worker takes longer than 5 s to dispute, as a person reading the
 * rejection does: on this network's ten-minute window that is in time. */
static void test_disputed_by_hand(void) {
    ok("task post --prompt 'Say no' --model %s --bounty 5 --stake 2 --from %s --json", model, poster);
    char task[80], st[32];
    cli_field("task", task, sizeof task);
    ok("task claim %s --from %s", task, worker);
    ok("task submit %s --slot 0 --result-text 'no' --from %s", task, worker);
    ok("task verify %s --slot 0 --reject --reason 'not what I asked' --from %s", task, poster);
    CHECK_CONTAINS(out_s, "the worker may dispute until block time "); /* the poster learns when it may settle */
    CHECK_CONTAINS(out_s, "settle the slot after that");
    cli_slot0_state(url, task, st, sizeof st);
    CHECK_STR(st, "rejected");
    /* a validator stakes before the dispute opens: the panel is seated from
     * the validators staked at that moment (docs/security.md) */
    ok("agent register --name val --skills complete --stake 20 --from %s", validator);
    /* The person reads the reason; the next block (the dispute's own) is
     * stamped with the node's clock, past the old 5 s window. */
    sleep(GT_LEDGER_SHORT_WINDOW_S + 2);
    ok("task dispute %s --slot 0 --from %s", task, worker);
    cli_slot0_state(url, task, st, sizeof st);
    CHECK_STR(st, "disputed");
    CHECK_CONTAINS(out_s, "\"bond\":\"2000000\""); /* the API's unit: base units */
    ok("task show %s", task);
    CHECK_CONTAINS(out_s, "terms    bounty 5 GOT, stake 2 GOT"); /* for people: tokens */
    /* a party to the task may not vote */
    char line[1024];
    snprintf(line, sizeof line, "task vote %s --slot 0 --accept --from %s --node %s --password-file %s", task, poster,
             url, cli_pwfile);
    CHECK_EQ_INT(gotong(line), 1);
    CHECK_CONTAINS(err_s, "party to this dispute");
    /* the staked validator re-runs the work by hand and votes it good; as
     * the whole panel has voted, the dispute closes at once */
    ok("task vote %s --slot 0 --accept --from %s", task, validator);
    cli_slot0_state(url, task, st, sizeof st);
    CHECK_STR(st, "paid"); /* the worker won the dispute: paid as if accepted */
    CHECK_EQ_INT((int)units(validator, "balance"), (100 - 20 + 2) * 1000000); /* the rejecter's bond (= stake 2) is its */
}

/* A sealed vote by hand: `task vote --commit` in the vote window, then the
 * same vote with `--reveal` once it closes (refused before: nothing is
 * public while the panel decides); the salt comes from the wallet's key, so
 * nothing is kept in between. */
static void test_sealed_vote_by_hand(void) {
    ok("task post --prompt 'Say yes' --model %s --bounty 5 --stake 2 --from %s --json", model, poster);
    char task[80], st[32], line[1024];
    cli_field("task", task, sizeof task);
    ok("task claim %s --from %s", task, worker);
    ok("task submit %s --slot 0 --result-text 'yes' --from %s", task, worker);
    ok("task verify %s --slot 0 --reject --reason 'no' --from %s", task, poster);
    ok("task dispute %s --slot 0 --from %s", task, worker);
    ok("task vote %s --slot 0 --accept --commit --from %s", task, validator);
    CHECK_CONTAINS(out_s, "vote_commit");
    snprintf(line, sizeof line, "task vote %s --slot 0 --accept --node %s --password-file %s --from %s", task, url,
             cli_pwfile, validator);
    CHECK_EQ_INT(gotong(line), 1); /* sealed: no vote in the clear any more */
    CHECK_CONTAINS(err_s, "sealed");
    snprintf(line, sizeof line, "task vote %s --slot 0 --accept --reveal --node %s --password-file %s --from %s", task,
             url, cli_pwfile, validator);
    int rc = gotong(line);
    if (rc) CHECK_CONTAINS(err_s, "only after the commit window closes");
    /* This node makes blocks only for actions: a small transfer a few times a
     * second makes them, and block time is the clock's; the reveal goes
     * through once the commit window (5 s of block time, and a few blocks)
     * has closed. Bounded: a minute at most. */
    for (int i = 0; rc && i < 240 && strstr(err_s, "only after the commit window closes"); i++) {
        usleep(250 * 1000);
        ok("send --from %s --to %s 0.000001", poster, worker);
        rc = gotong(line);
    }
    CHECK_MSG(rc == 0, "reveal: exit %d: %s", rc, err_s);
    cli_slot0_state(url, task, st, sizeof st);
    CHECK_STR(st, "paid"); /* the whole panel revealed: decided at once, for the worker */
}

/* The README's example: data job post --fee 0.1. */
static void test_data_job_post_fee(void) {
    char spec[300], args[1024], job[80];
    snprintf(spec, sizeof spec, "%s/spec.json", cli_tmp);
    const char *s = "{\"version\":2,\"name\":\"t\",\"family\":\"arith\",\"template\":\"Q: {question}\\n\",\"seed\":7,"
                    "\"samples\":8,\"batch\":4,\"reward\":\"0.5\",\"stake\":\"0.25\",\"license\":\"cc-by-4.0\"}";
    CHECK_EQ_INT(gt_file_write_atomic(spec, s, strlen(s), 0600, NULL), 0);
    snprintf(args, sizeof args, "data job new %s --json", spec);
    CHECK_EQ_INT(gotong(args), 0);
    cli_field("job", job, sizeof job);
    CHECK(strlen(job) == 71);
    ok("data job post %.15s --validator %s --fee 0.1 --from %s", job + 7, worker, poster);
    CHECK_CONTAINS(out_s, "posted job");
}

/* `task post --kind eval` refuses a spec whose check is under the floor
 * min(items, 16) (the leaderboard would rank no score of it), saying what
 * it expects, and posts one at the floor. */
static void test_eval_post_floor(void) {
    char spec[300], args[1024];
    snprintf(spec, sizeof spec, "%s/eval.json", cli_tmp);
    for (int check = 1; check <= 16; check += 15) {
        char s[512];
        snprintf(s, sizeof s,
                 "{\"bench\":\"arith-v1\",\"benchHash\":\"sha256:3b636edc394370315e4e2ac08f761ca8a7ce7e12b8dfa7f09461c4f"
                 "982fab211\",\"check\":%d,\"limit\":50,\"model\":\"sha256:9372c470eeadd5ecd9c3c74c2b3cb633f8e2f2fad79925"
                 "0a0f70d652b6b825e4\",\"type\":\"eval\",\"version\":1}",
                 check);
        CHECK_EQ_INT(gt_file_write_atomic(spec, s, strlen(s), 0600, NULL), 0);
        if (check == 16) {
            ok("task post --kind eval --spec %s --bounty 1 --stake 1 --from %s", spec, poster);
            CHECK_CONTAINS(out_s, "posted task");
            continue;
        }
        snprintf(args, sizeof args, "task post --kind eval --spec %s --bounty 1 --stake 1 --from %s --node %s "
                 "--password-file %s", spec, poster, url, cli_pwfile);
        CHECK(gotong(args) != 0);
        CHECK_CONTAINS(err_s, "eval spec.check: expected at least min(items,16)=16");
        CHECK_CONTAINS(err_s, "got 1");
    }
}

/* `task post --bench NAME --model M.gguf` writes the eval spec itself: the
 * built-in's hash, the model file's sha256 and the floor's check; the posted
 * spec is that canonical JSON. Unknown benches, a missing model and a check
 * under the floor are refused before anything is posted. */
static void test_eval_post_bench(void) {
    char args[2048], spec_id[80], want[512];
    snprintf(args, sizeof args, "task post --bench nope-v1 --model %s --bounty 1 --stake 1 --from %s --node %s "
             "--password-file %s", model, poster, url, cli_pwfile);
    CHECK_EQ_INT(gotong(args), 2);
    CHECK_CONTAINS(err_s, "--bench nope-v1 is not a built-in benchmark");
    snprintf(args, sizeof args, "task post --bench arith-v1 --bounty 1 --stake 1 --from %s --node %s", poster, url);
    CHECK_EQ_INT(gotong(args), 2);
    CHECK_CONTAINS(err_s, "--bench needs --model");
    snprintf(args, sizeof args, "task post --spec x.json --check 20 --bounty 1 --stake 1 --from %s --node %s", poster,
             url);
    CHECK_EQ_INT(gotong(args), 2);
    CHECK_CONTAINS(err_s, "--check and --limit go with --bench");
    snprintf(args, sizeof args, "task post --bench arith-v1 --model %s --limit 50 --check 8 --bounty 1 --stake 1 "
             "--from %s --node %s --password-file %s", model, poster, url, cli_pwfile);
    CHECK_EQ_INT(gotong(args), 1);
    CHECK_CONTAINS(err_s, "expected at least min(items,16)=16");
    ok("task post --bench arith-v1 --model %s --limit 50 --bounty 1 --stake 1 --from %s --json", model, poster);
    char task[80];
    cli_field("task", task, sizeof task);
    ok("task show %s --json", task);
    CHECK_CONTAINS(out_s, "\"kind\":\"eval\"");
    cli_field("spec", spec_id, sizeof spec_id);
    uint8_t *b = NULL, *m = NULL, h[32];
    size_t n = 0, mn = 0;
    gt_client *c = NULL;
    CHECK(gt_client_new(url, &c, NULL) == 0 && gt_client_blob_get(c, spec_id, 4096, &b, &n, NULL) == 0);
    CHECK(gt_file_read(model, 1u << 26, &m, &mn, NULL) == 0);
    gt_sha256(m, mn, h);
    char hex[65];
    gt_hex_encode(h, 32, hex);
    snprintf(want, sizeof want, "{\"bench\":\"arith-v1\",\"benchHash\":\"sha256:3b636edc394370315e4e2ac08f761ca8a7ce7e"
             "12b8dfa7f09461c4f982fab211\",\"check\":16,\"limit\":50,\"model\":\"sha256:%s\",\"type\":\"eval\","
             "\"version\":1}", hex);
    CHECK(b && n == strlen(want) && !memcmp(b, want, n));
    gt_free(b), gt_free(m);
    gt_client_free(c);
}

int main(void) {
    if (cli_setup("gt-cli-byhand")) return 1;
    setup();
    pid_t pid = gt_test_node_start(cli_home, "0", url, sizeof url);
    CHECK(pid > 0);
    if (pid > 0) {
        RUN(test_chain_windows);
        RUN(test_paid_by_hand);
        RUN(test_disputed_by_hand);
        RUN(test_sealed_vote_by_hand);
        RUN(test_data_job_post_fee);
        RUN(test_eval_post_floor);
        RUN(test_eval_post_bench);
    }
    gt_test_node_stop(pid);
    if (cli_cleanup()) return 1;
    return gt_test_finish();
}
