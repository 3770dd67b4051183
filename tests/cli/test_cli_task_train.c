/* test_cli_task_train.c: a `train` task posted with nothing but the CLI
 * (`gotong task post --base CKPT --vocab V --dataset D --root R --steps N`)
 * against a real node. Its inputs are made by gotong's own tools
 * (`tokenizer train`, `train --checkpoint --stop-after`). A task no worker
 * could do is refused before anything is uploaded: rows whose Merkle root is
 * not --root, a schedule that ends before the run does, a vocabulary that is
 * not the base's, steps not a multiple of --every, settings out of range, a
 * file that is not a checkpoint, more checkpoints of the base's size than a
 * worker's whole blob quota. Then it is posted: the spec on the node is
 * the options', its blobs the files' bytes, and `gotong agent` processes (a
 * worker with skill train, the poster verifying by re-execution) train it,
 * verify a stretch byte for byte and pay the worker. */
#include <jansson.h>
#include <signal.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../node_child.h"
#include "../test.h"
#include "agent/client.h"
#include "base/alloc.h"
#include "base/file.h"
#include "base/hex.h"
#include "cli_util.h"
#include "crypto/keccak.h"
#include "crypto/merkle.h"
#include "crypto/sha256.h"
#include "store/blob.h"
#include "work/train_task.h"

#define ROWS 64
static char url[256], poster[64], worker[64], root[67] = "0x", data_path[300], vocab_path[300], vocab2_path[300],
                                                 base_path[300], big_path[300];

/* Sums as a data job exports them, and their Merkle root (keccak256 of each line). */
static void write_dataset(void) {
    gt_buf d = GT_BUF_INIT;
    uint8_t leaves[ROWS][32], r[32];
    for (int i = 0; i < ROWS; i++) {
        char line[128];
        int a = (i * 7) % 13, b = i % 9;
        int n = snprintf(line, sizeof line, "{\"completion\":\"%d\",\"prompt\":\"%d+%d=\"}", a + b, a, b);
        gt_keccak256(line, (size_t)n, leaves[i]);
        gt_buf_append(&d, line, (size_t)n), gt_buf_append(&d, "\n", 1);
    }
    gt_merkle_root((const uint8_t(*)[32])leaves, ROWS, r);
    gt_hex_encode(r, 32, root + 2);
    snprintf(data_path, sizeof data_path, "%s/ds", cli_tmp);
    CHECK_EQ_INT(mkdir(data_path, 0700), 0);
    snprintf(data_path, sizeof data_path, "%s/ds/data.jsonl", cli_tmp);
    CHECK_EQ_INT(gt_file_write_atomic(data_path, d.data, d.len, 0600, NULL), 0);
    gt_buf_free(&d);
}

/* A home with the poster's key and a worker's; the vocabularies and a base
 * checkpoint at step 1 of 8, made by gotong's own commands. */
static void setup(void) {
    char args[4096];
    snprintf(args, sizeof args, "init --password-file %s --light", cli_pwfile);
    CHECK_EQ_INT(gotong(args), 0);
    CHECK_EQ_INT(gotong("wallet list --json"), 0);
    json_t *j = json_loads(out_s, 0, NULL);
    snprintf(poster, sizeof poster, "%s", json_string_value(json_array_get(json_object_get(j, "addresses"), 0)));
    json_decref(j);
    snprintf(args, sizeof args, "wallet new --light --password-file %s --json", cli_pwfile);
    CHECK_EQ_INT(gotong(args), 0);
    cli_field("address", worker, sizeof worker);
    write_dataset();
    snprintf(vocab_path, sizeof vocab_path, "%s/v.gguf", cli_tmp);
    snprintf(vocab2_path, sizeof vocab2_path, "%s/v2.gguf", cli_tmp);
    snprintf(base_path, sizeof base_path, "%s/base.ckpt", cli_tmp);
    snprintf(big_path, sizeof big_path, "%s/big.ckpt", cli_tmp);
    snprintf(args, sizeof args, "tokenizer train --corpus %s --vocab-size 300 -o %s", data_path, vocab_path);
    CHECK_EQ_INT(gotong(args), 0);
    snprintf(args, sizeof args, "tokenizer train --corpus %s --vocab-size 270 -o %s", data_path, vocab2_path);
    CHECK_EQ_INT(gotong(args), 0);
    snprintf(args, sizeof args, "train --dataset %s --root %s --vocab %s -o %s/m.gguf --dim 32 --layers 1 --heads 2 "
             "--ff 64 --seq 16 --batch 2 --steps 8 --threads 1 --checkpoint %s --stop-after 1", data_path, root,
             vocab_path, cli_tmp, base_path);
    CHECK_MSG(gotong(args) == 0, "train: %s", err_s);
}

/* Whether the node holds the blob of the file at path. */
static int node_has(const char *path) {
    uint8_t *b = NULL, *got = NULL, h[32];
    size_t n = 0, m = 0;
    char id[GT_BLOB_ID_BYTES];
    gt_client *c = NULL;
    CHECK(gt_file_read(path, 1u << 24, &b, &n, NULL) == 0);
    gt_sha256(b, n, h);
    gt_blob_id_format(h, id);
    int has = gt_client_new(url, &c, NULL) == 0 && gt_client_blob_get(c, id, 1u << 24, &got, &m, NULL) == 0;
    CHECK(!has || (m == n && !memcmp(got, b, n)));
    gt_client_free(c);
    gt_free(b), gt_free(got);
    return has;
}

/* A post with these train options (after the common ones) fails with exit
 * code want and a message holding expect. */
static void refused(int want, const char *expect, const char *opts) {
    int rc = cli_at_node(url, "task post --bounty 2 --stake 1 --from %s %s", poster, opts);
    CHECK_MSG(rc == want, "exit %d (expected %d) for %s: %s", rc, want, opts, err_s);
    CHECK_CONTAINS(err_s, expect);
}

/* Every task no worker could do is refused, and nothing is uploaded. */
static void test_refusals(void) {
    char o[2048];
    const char *zero = "0x0000000000000000000000000000000000000000000000000000000000000001";
    snprintf(o, sizeof o, "--base %s --vocab %s --dataset %s/ds --root %s --steps 4", base_path, vocab_path, cli_tmp,
             zero);
    refused(1, "has the Merkle root", o);
    snprintf(o, sizeof o, "--base %s --vocab %s --dataset %s --root %s --steps 4 --total-steps 3", base_path,
             vocab_path, data_path, root);
    refused(1, "totalSteps 3 ends the schedule before step 5", o);
    snprintf(o, sizeof o, "--base %s --vocab %s --dataset %s --root %s --steps 4", base_path, vocab2_path, data_path,
             root);
    refused(1, "the checkpoint has a vocabulary of", o);
    snprintf(o, sizeof o, "--base %s --vocab %s --dataset %s --root %s --steps 4", vocab_path, vocab_path, data_path,
             root);
    refused(1, "not a training checkpoint", o);
    snprintf(o, sizeof o, "--base %s --vocab %s --dataset %s --root %s --steps 5 --every 2", base_path, vocab_path,
             data_path, root);
    refused(2, "expected steps a multiple of every", o);
    snprintf(o, sizeof o, "--base %s --vocab %s --dataset %s --root %s --steps 4 --lr nan", base_path, vocab_path,
             data_path, root);
    refused(2, "--lr: expected 1e-08..1, got nan", o);
    snprintf(o, sizeof o, "--kind complete --base %s --vocab %s --dataset %s --root %s --steps 4", base_path,
             vocab_path, data_path, root);
    refused(2, "--kind is train, not complete", o);
    /* A 6 MB base and 64 checkpoints: 384 MB to upload, over a worker's whole blob quota (256 MiB) */
    snprintf(o, sizeof o, "train --dataset %s --root %s --vocab %s -o %s/big.gguf --dim 128 --layers 2 --heads 2 "
             "--ff 384 --seq 16 --batch 2 --steps 8 --threads 1 --checkpoint %s --stop-after 1", data_path, root,
             vocab_path, cli_tmp, big_path);
    CHECK_MSG(gotong(o) == 0, "train: %s", err_s);
    snprintf(o, sizeof o, "--base %s --vocab %s --dataset %s --root %s --steps 64 --every 1", big_path, vocab_path,
             data_path, root);
    refused(1, "over an account's whole blob upload quota", o);
    CHECK(!node_has(big_path));
    snprintf(o, sizeof o, "--base %s --steps 4", base_path);
    refused(2, "a train spec needs --base CKPT, --vocab V.gguf, --dataset DIR, --root 0xROOT and --steps N", o);
    CHECK(!node_has(base_path));
    CHECK(!node_has(vocab_path));
    CHECK(!node_has(data_path));
}

/* The spec the node holds for task (its `task show`), parsed. */
static int posted_spec(const char *task, gt_train_task *t) {
    char spec_id[80];
    if (cli_at_node(url, "task show %s --json", task)) return -1;
    cli_field("spec", spec_id, sizeof spec_id);
    CHECK_CONTAINS(out_s, "\"kind\":\"train\"");
    gt_client *c = NULL;
    uint8_t *b = NULL;
    size_t n = 0;
    gt_err err = {0};
    int rc = gt_client_new(url, &c, &err) || gt_client_blob_get(c, spec_id, 1u << 16, &b, &n, &err);
    json_t *j = rc ? NULL : json_loadb((const char *)b, n, 0, NULL);
    if (!rc) rc = gt_train_task_parse(j, t, &err);
    CHECK_MSG(rc == 0, "spec %s: %s", spec_id, err.msg);
    json_decref(j);
    gt_free(b);
    gt_client_free(c);
    return rc;
}

/* The file at path hashes to h. */
static void hashes_to(const char *path, const uint8_t h[32]) {
    uint8_t *b = NULL, mine[32];
    size_t n = 0;
    CHECK(gt_file_read(path, 1u << 24, &b, &n, NULL) == 0);
    gt_sha256(b, n, mine);
    CHECK(!memcmp(mine, h, 32));
    gt_free(b);
}

/* Starts `gotong agent ARGS` in the background, its output in cli_tmp/NAME.log. */
static pid_t spawn_agent(const char *name, const char *args) {
    pid_t pid = fork();
    if (pid == 0) {
        char cmd[4096];
        snprintf(cmd, sizeof cmd, "exec %s --home %s agent %s --node %s --password-file %s --poll-ms 100 >%s/%s.log "
                 "2>&1 </dev/null", GT_CLI, cli_home, args, url, cli_pwfile, cli_tmp, name);
        execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
        _exit(127);
    }
    return pid;
}

/* `gotong agent` processes work task: a worker with skill train, and the
 * poster verifying by re-execution. Returns once slot 0 is paid (or after
 * two minutes), the agents stopped; the worker is then paid the bounty. */
static void work_it(const char *task) {
    char args[1024], model[300], state[32] = "";
    snprintf(model, sizeof model, "%s/m.gguf", cli_tmp);
    snprintf(args, sizeof args, "--model %s --skills train --roles worker --from %s", model, worker);
    pid_t w = spawn_agent("worker", args);
    snprintf(args, sizeof args, "--model %s --skills train --roles poster --from %s", model, poster);
    pid_t p = spawn_agent("poster", args);
    for (int i = 0; i < 600 && strcmp(state, "paid"); i++) {
        usleep(200000);
        cli_slot0_state(url, task, state, sizeof state);
    }
    CHECK_STR(state, "paid");
    kill(w, SIGTERM), kill(p, SIGTERM);
    waitpid(w, NULL, 0), waitpid(p, NULL, 0);
    snprintf(args, sizeof args, "balance %s --json", worker);
    CHECK_EQ_INT(gotong(args), 0);
    json_t *j = json_loads(out_s, 0, NULL);
    const char *bal = json_string_value(json_object_get(json_array_get(j, 0), "balance"));
    CHECK_STR(bal ? bal : "?", "12000000"); /* 10 minted + the bounty of 2, the stake back */
    json_decref(j);
}

/* Posted from options; the agents train, verify and pay it. */
static void test_posted_and_paid(void) {
    char task[80];
    CHECK_EQ_INT(cli_at_node(url, "mint --to %s 100 --from %s", poster, poster), 0);
    CHECK_EQ_INT(cli_at_node(url, "mint --to %s 10 --from %s", worker, poster), 0);
    CHECK_MSG(cli_at_node(url, "task post --bounty 2 --stake 1 --from %s --base %s --vocab %s --dataset %s/ds --root %s --steps 4 "
                  "--every 2 --lr 0.003 --json", poster, base_path, vocab_path, cli_tmp, root) == 0, "post: %s", err_s);
    CHECK_CONTAINS(err_s, "base checkpoint at step 1: the task trains steps 2..5 of a schedule ending at 5");
    cli_field("task", task, sizeof task);
    gt_train_task t;
    if (posted_spec(task, &t)) return;
    CHECK_EQ_INT(t.steps, 4);
    CHECK_EQ_INT(t.every, 2);
    CHECK_EQ_INT(t.checks, 1);
    CHECK_EQ_INT(t.run.opt.total_steps, 5);
    CHECK(t.run.opt.lr == 0.003f);
    CHECK(t.run.opt.min_lr == 0.0003f);
    hashes_to(base_path, t.base);
    hashes_to(vocab_path, t.vocab);
    hashes_to(data_path, t.dataset);
    CHECK(node_has(base_path) && node_has(vocab_path) && node_has(data_path));
    work_it(task);
}

int main(void) {
    if (cli_setup("gt-cli-task-train")) return 1;
    setup();
    pid_t pid = gt_test_node_start(cli_home, "300", url, sizeof url);
    CHECK(pid > 0);
    if (pid > 0) {
        RUN(test_refusals);
        RUN(test_posted_and_paid);
    }
    gt_test_node_stop(pid);
    if (cli_cleanup()) return 1;
    return gt_test_finish();
}
