/* test_agent_train.c: training as a market task (work/train_task.h, the
 * `train` skill), with real agents against a real node (`gotong node` in a
 * child process). One `train` task of one slot on a tiny model, a BPE
 * vocabulary and a dataset committed by its Merkle root:
 *  - a lazy worker trains half the steps (a checkpoint every step where the
 *    spec asks for one every 2) and submits them as the run: the poster
 *    agent's verifier finds the checkpoints at the wrong steps, rejects, and
 *    the worker's stake is slashed;
 *  - a faking worker trains the last checkpoint honestly but makes up its
 *    intermediate ones (real checkpoints at the right steps, trained with
 *    another learning rate, so only re-execution can tell): the drawn
 *    stretch re-executed does not end in the manifest's bytes: rejected and
 *    slashed;
 *  - a worker naming checkpoints that were never uploaded: rejected;
 *  - then an honest worker agent claims the reopened slot, trains, uploads
 *    its checkpoints; the verifier re-executes a drawn stretch, gets the same
 *    bytes and accepts; the worker is paid.
 * The cheaters are participants of their own (a key, a card, uploads and
 * actions over the API), not the agent runtime: a cheater runs its own code. */
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../test.h"
#include "agent_net.h"
#include "agent/agent.h"
#include "agent/agent_impl.h"
#include "base/alloc.h"
#include "base/file.h"
#include "base/progress.h"
#include "crypto/addr.h"
#include "crypto/keccak.h"
#include "crypto/merkle.h"
#include "crypto/sha256.h"
#include "ledger/ledger.h"
#include "ledger/rules.h"
#include "market/market.h"
#include "store/blob.h"
#include "store/quota.h"
#include "train/bpe.h"
#include "work/train_task.h"
#include "work/work.h"

#define STEPS 8
#define EVERY 2
#define STAKE_UNITS 1000000ull
#define BOUNTY_UNITS 2000000ull

static char home[64], url[128];
static pid_t node_pid;
static gt_client *dir;
static gt_train_task task_spec; /* the committed spec */
static char vocab_path[128], base_path[128];
static uint8_t *dataset;
static size_t dataset_len;



static char logs[1 << 16]; /* the agents' log lines, for the tests that check why a claim was skipped */

/* Keeps an agent's log line (and prints it). */
static void keep_log(void *arg, const char *name, const char *line) {
    (void)arg;
    size_t n = strlen(logs);
    fprintf(stderr, "  [%s] %s\n", name, line);
    if (n + strlen(line) + 2 < sizeof logs) snprintf(logs + n, sizeof logs - n, "%s\n", line);
}

/* An agent funded with 20 tokens, its card registered. */
static gt_agent *make(const char *name, int roles) {
    gt_key k;
    tnet_key(name, &k);
    gt_agent_config c = {.name = name, .skills = "train", .price_units = 1, .roles = roles, .poll_ms = 50,
                         .log = keep_log};
    gt_agent *a = NULL;
    gt_err err = {0};
    CHECK_MSG(gt_agent_new(&c, &k, url, &a, &err) == 0, "agent: %s", err.msg);
    if (!a) return NULL;
    CHECK(tnet_mint(dir, gt_agent_address(a), 20000000, &err) == 0);
    CHECK_MSG(gt_agent_register(a, &err) == 0, "register: %s", err.msg);
    return a;
}

static int start_node(void) {
    /* Idle blocks every 300 ms: the dispute window (block time) passes. */
    return tnet_start("agent-train", gt_work_register, "300", home, sizeof home, url, sizeof url, &node_pid, &dir);
}

/* ---- the committed inputs ---- */

/* A dataset of sums as a data job exports it, its vocabulary (a BPE trained
 * on it), a seeded base checkpoint; all three uploaded by the poster. */
static void make_inputs(gt_client *pc) {
    gt_buf d = GT_BUF_INIT;
    uint8_t (*leaves)[32] = gt_calloc(64, 32);
    char line[128], id[GT_BLOB_ID_BYTES];
    gt_err err = {0};
    for (int i = 0; i < 64; i++) {
        int n = snprintf(line, sizeof line, "{\"completion\":\"%d\",\"prompt\":\"%d+%d=\"}", (i * 7) % 13 + i % 9,
                         (i * 7) % 13, i % 9);
        gt_keccak256(line, (size_t)n, leaves[i]);
        gt_buf_append(&d, line, (size_t)n), gt_buf_append(&d, "\n", 1);
    }
    memset(&task_spec, 0, sizeof task_spec);
    gt_merkle_root((const uint8_t(*)[32])leaves, 64, task_spec.root);
    gt_free(leaves);
    dataset = d.data, dataset_len = d.len;
    gt_bpe_vocab v = {0};
    snprintf(vocab_path, sizeof vocab_path, "%s/vocab.gguf", home);
    CHECK(gt_bpe_train(dataset, dataset_len, 300, &v, &err) == 0);
    CHECK_MSG(gt_bpe_write_gguf(&v, "sums", vocab_path, &err) == 0, "vocab: %s", err.msg);
    gt_train_hparams hp = {.n_vocab = v.n_tokens, .dim = 32, .n_layer = 1, .n_head = 2, .n_head_kv = 2, .n_ff = 64,
                           .seq_len = 16, .batch = 2, .seed = 5};
    gt_bpe_free(&v);
    gt_trainer *t = NULL;
    snprintf(base_path, sizeof base_path, "%s/base.ckpt", home);
    CHECK_MSG(gt_trainer_new(&hp, 1, &t, &err) == 0, "trainer: %s", err.msg);
    CHECK_MSG(t && gt_trainer_save_checkpoint(t, base_path, &err) == 0, "base: %s", err.msg);
    gt_trainer_free(t);
    const char *files[2] = {vocab_path, base_path};
    uint8_t *hashes[2] = {task_spec.vocab, task_spec.base};
    for (int i = 0; i < 2; i++) {
        uint8_t *b = NULL;
        size_t n = 0;
        CHECK(gt_file_read(files[i], 1u << 24, &b, &n, &err) == 0);
        CHECK_MSG(gt_client_blob_put(pc, b, n, id, &err) == 0, "upload: %s", err.msg);
        CHECK(gt_blob_id_parse(id, hashes[i], &err) == 0);
        gt_free(b);
    }
    CHECK_MSG(gt_client_blob_put(pc, dataset, dataset_len, id, &err) == 0, "upload: %s", err.msg);
    CHECK(gt_blob_id_parse(id, task_spec.dataset, &err) == 0);
    task_spec.steps = STEPS, task_spec.every = EVERY, task_spec.checks = 1;
    task_spec.run.accum = 2;
    task_spec.run.opt = gt_train_opt_default();
    task_spec.run.opt.lr = 3e-3f, task_spec.run.opt.min_lr = 3e-4f, task_spec.run.opt.warmup_steps = 2;
    task_spec.run.opt.total_steps = STEPS;
}

/* ---- the cheaters ---- */

enum { CHEAT_LAZY, CHEAT_FAKE, CHEAT_MISSING };

static int fill_slot(void *arg, gt_action *a, gt_err *err) {
    (void)err;
    const uint8_t *const *p = arg; /* task, result (NULL for a claim) */
    gt_action_set_b32(a, "task", p[0]);
    if (p[1]) gt_action_set_u64(a, "slot", 0), gt_action_set_b32(a, "result", p[1]);
    return 0;
}

/* Trains spec's run (lr scaled by lr_x) from the base to each of the steps
 * in to[0..n), uploads each checkpoint (when pc) and writes its hash. */
static void train_to(gt_client *pc, double lr_x, const int *to, int n, uint8_t (*hash)[32]) {
    gt_train_task t = task_spec;
    gt_train_task_data data = {0};
    gt_trainer *tr = NULL;
    gt_err err = {0};
    char p[160], id[GT_BLOB_ID_BYTES];
    t.run.opt.lr = (float)(t.run.opt.lr * lr_x);
    CHECK_MSG(gt_train_task_data_load(&t, vocab_path, dataset, dataset_len, &data, &err) == 0, "data: %s", err.msg);
    CHECK_MSG(gt_train_task_start(&t, &data, base_path, -1, 2, &tr, NULL, &err) == 0, "start: %s", err.msg);
    snprintf(p, sizeof p, "%s/cheat.ckpt", home);
    for (int i = 0; tr && i < n; i++) {
        uint8_t *b = NULL;
        size_t len = 0;
        CHECK(gt_train_task_advance(&t, &data, tr, to[i], p, hash[i], &err) == 0);
        CHECK(gt_file_read(p, 1u << 24, &b, &len, &err) == 0);
        if (pc) CHECK_MSG(gt_client_blob_put(pc, b, len, id, &err) == 0, "upload: %s", err.msg);
        gt_free(b);
    }
    gt_trainer_free(tr);
    gt_train_task_data_free(&data);
}

/* The manifest a cheater of this kind submits. */
static char *cheat_manifest(gt_client *pc, int kind) {
    gt_train_manifest m = {.n = STEPS / EVERY};
    memcpy(m.base, task_spec.base, 32);
    int half[4] = {1, 2, 3, 4}, mid[3] = {2, 4, 6}, last[1] = {STEPS};
    if (kind == CHEAT_LAZY) train_to(pc, 1.0, half, 4, m.ckpt);
    if (kind == CHEAT_FAKE) train_to(pc, 2.0, mid, 3, m.ckpt), train_to(pc, 1.0, last, 1, m.ckpt + 3);
    if (kind == CHEAT_MISSING) {
        train_to(pc, 1.0, last, 1, m.ckpt + 3);
        for (int i = 0; i < 3; i++) {
            char fake[32];
            snprintf(fake, sizeof fake, "never uploaded %d", i);
            gt_sha256(fake, strlen(fake), m.ckpt[i]);
        }
    }
    return gt_train_manifest_json(&m);
}

/* The cheater `name` claims the task's open slot and submits its manifest. */
static void cheat(gt_agent *c, const char *name, const uint8_t task[32], int kind) {
    gt_key k;
    gt_client *pc = NULL;
    gt_err err = {0};
    char rid[GT_BLOB_ID_BYTES];
    uint8_t result[32];
    tnet_key(name, &k);
    CHECK(gt_client_new(url, &pc, &err) == 0);
    gt_client_set_signer(pc, &k);
    const uint8_t *claim[2] = {task, NULL};
    CHECK_MSG(gt_agent_act(c, &gt_kind_task_claim, fill_slot, claim, NULL, &err) == 0, "claim: %s", err.msg);
    char *js = cheat_manifest(pc, kind);
    CHECK_MSG(gt_client_blob_put(pc, js, strlen(js), rid, &err) == 0, "upload: %s", err.msg);
    CHECK(gt_blob_id_parse(rid, result, &err) == 0);
    const uint8_t *sub[2] = {task, result};
    CHECK_MSG(gt_agent_act(c, &gt_kind_task_submit, fill_slot, sub, NULL, &err) == 0, "submit: %s", err.msg);
    free(js);
    gt_client_free(pc);
}

/* ---- the market ---- */

static json_t *slot0(const uint8_t id[32], json_t **task) {
    *task = NULL;
    gt_client_task(dir, id, task, NULL);
    return json_array_get(json_object_get(*task, "slotList"), 0);
}

/* Steps the poster until slot 0 of attempt `attempt` is rejected; the
 * reason blob's text into why. */
static int until_rejected(gt_agent *poster, const uint8_t id[32], int64_t attempt, char *why, size_t cap) {
    for (int pass = 0; pass < 3000; pass++) {
        gt_err err = {0};
        if (gt_agent_step(poster, NULL, &err)) fprintf(stderr, "step: %s\n", err.msg);
        json_t *t, *s = slot0(id, &t);
        const char *st = json_string_value(json_object_get(s, "state"));
        int done = st && !strcmp(st, "rejected") && json_integer_value(json_object_get(s, "attempt")) == attempt;
        const char *rid = done ? json_string_value(json_object_get(s, "reason")) : NULL;
        uint8_t *b = NULL;
        size_t n = 0;
        if (rid && !gt_client_blob_get(dir, rid, 1 << 16, &b, &n, &err)) snprintf(why, cap, "%s", (char *)b);
        gt_free(b);
        json_decref(t);
        if (done) return 1;
        usleep(20000);
    }
    return 0;
}

/* Settles the rejected slot once its dispute window has passed (the poster
 * takes the stake); 1 when the slot is open again. */
static int settle_rejected(gt_agent *poster, const uint8_t id[32]) {
    for (int i = 0; i < 200; i++) {
        gt_err err = {0};
        if (!gt_agent_settle(poster, id, 0, &err)) return 1;
        usleep(200000);
    }
    return 0;
}

static uint64_t balance_of(const gt_agent *a, uint64_t *locked) {
    gt_client_acct acc = {0};
    gt_client_account(dir, gt_agent_address(a), &acc, NULL);
    if (locked) *locked = acc.locked_units;
    return acc.balance_units;
}

/* A cheater of this kind on the open slot: rejected for `expect`, slashed. */
static void cheater_round(gt_agent *poster, const uint8_t id[32], const char *name, int kind, int64_t attempt,
                          const char *expect) {
    gt_agent *c = make(name, 0);
    if (!c) return;
    char why[1024] = "";
    uint64_t locked = 0, before = balance_of(c, NULL);
    cheat(c, name, id, kind);
    CHECK_MSG(until_rejected(poster, id, attempt, why, sizeof why), "%s was never rejected", name);
    fprintf(stderr, "  %s rejected: %s\n", name, why);
    CHECK_CONTAINS(why, expect);
    CHECK(settle_rejected(poster, id));
    CHECK_EQ_U64(balance_of(c, &locked), before - STAKE_UNITS);
    CHECK_EQ_U64(locked, 0);
    gt_agent_free(c);
}

static void test_train_task(void) {
    gt_agent *poster = make("t-poster", GT_ROLE_POSTER), *w = make("t-worker", GT_ROLE_WORKER);
    gt_key pk;
    gt_client *pc = NULL;
    gt_err err = {0};
    tnet_key("t-poster", &pk);
    CHECK(gt_client_new(url, &pc, &err) == 0);
    gt_client_set_signer(pc, &pk);
    if (!poster || !w || !pc) return;
    make_inputs(pc);
    char *spec = gt_train_task_spec(&task_spec);
    gt_task_terms terms = {.kind = GT_WORK_KIND_TRAIN, .slots = 1, .bounty_units = BOUNTY_UNITS,
                           .stake_units = STAKE_UNITS};
    uint8_t id[32];
    CHECK_MSG(gt_agent_post(poster, &terms, spec, strlen(spec), id, &err) == 0, "post: %s", err.msg);
    free(spec);
    cheater_round(poster, id, "t-lazy", CHEAT_LAZY, 0, "is at step 1: expected step 2");
    cheater_round(poster, id, "t-faker", CHEAT_FAKE, 1, "re-executed from its checkpoint ends in");
    cheater_round(poster, id, "t-phantom", CHEAT_MISSING, 2, "cannot be had from the node");
    /* The honest worker takes the reopened slot and is paid. */
    uint64_t before = balance_of(w, NULL);
    gt_agent *all[2] = {poster, w};
    int complete = 0;
    for (int pass = 0; pass < 3000 && !complete; pass++) {
        for (int i = 0; i < 2; i++)
            if (gt_agent_step(all[i], NULL, &err)) fprintf(stderr, "step: %s\n", err.msg);
        json_t *t;
        slot0(id, &t);
        complete = !strcmp(json_string_value(json_object_get(t, "status")) ?: "", "complete");
        json_decref(t);
        if (!complete) usleep(20000);
    }
    CHECK_MSG(complete, "the honest worker's task never completed");
    json_t *t, *s = slot0(id, &t);
    CHECK_STR(json_string_value(json_object_get(s, "state")), "paid");
    CHECK_EQ_INT(json_integer_value(json_object_get(s, "attempt")), 3);
    json_decref(t);
    CHECK_EQ_U64(balance_of(w, NULL), before + BOUNTY_UNITS);
    gt_agent_stats st;
    gt_agent_stats_get(poster, &st);
    CHECK_EQ_U64(st.rejected_given, 3);
    CHECK_EQ_U64(st.accepted_given, 1);
    gt_client_free(pc);
    gt_agent_free(poster), gt_agent_free(w);
}

/* ---- the claim's checks: the submit window and the blob quota ---- */

#define WINDOW_S 4 /* the submit window of the tasks below: above the claim policy's floor (3 s) */

/* Milliseconds one micro-batch of the base's model takes here: the mean of
 * 64 (the agent measures its first, which is slower). */
static double micro_ms(void) {
    gt_train_task t = task_spec;
    gt_train_task_data data = {0};
    gt_trainer *tr = NULL;
    gt_err err = {0};
    double ms = 0;
    t.run.accum = 64;
    CHECK_MSG(gt_train_task_data_load(&t, vocab_path, dataset, dataset_len, &data, &err) == 0, "data: %s", err.msg);
    CHECK_MSG(gt_train_task_start(&t, &data, base_path, -1, 1, &tr, NULL, &err) == 0, "start: %s", err.msg);
    double t0 = gt_now_s();
    if (tr && !gt_train_run_to(tr, &t.run, data.ids, data.n, 1, &err)) ms = (gt_now_s() - t0) * 1000.0 / 64;
    gt_trainer_free(tr);
    gt_train_task_data_free(&data);
    return ms;
}

/* Posts a one-slot train task of the committed inputs: steps of accum
 * micro-batches, a checkpoint every steps / 4, a submit window of WINDOW_S. */
static void post_train(gt_agent *poster, int steps, int accum, uint8_t id[32]) {
    gt_train_task t = task_spec;
    gt_err err = {0};
    t.steps = steps, t.every = steps / 4, t.run.accum = accum, t.run.opt.total_steps = steps;
    char *spec = gt_train_task_spec(&t);
    gt_task_terms terms = {.kind = GT_WORK_KIND_TRAIN, .slots = 1, .bounty_units = BOUNTY_UNITS,
                           .stake_units = STAKE_UNITS, .submit_s = WINDOW_S};
    CHECK_MSG(spec && gt_agent_post(poster, &terms, spec, strlen(spec), id, &err) == 0, "post: %s", err.msg);
    free(spec);
}

/* Slot 0's state and whether `a` holds it. */
static const char *slot_state(const uint8_t id[32], const gt_agent *a, int *mine, char out[32]) {
    json_t *t, *s = slot0(id, &t);
    const char *w = json_string_value(json_object_get(s, "worker"));
    char as[43];
    gt_addr_to_str(gt_agent_address(a), as);
    *mine = w && !strcasecmp(w, as);
    snprintf(out, 32, "%s", json_string_value(json_object_get(s, "state")) ?: "?");
    json_decref(t);
    return out;
}

/* A poster sets many steps and a short window: the worker measures its
 * speed, sees it cannot train them in time and does not claim (its stake
 * untouched; it used to claim, train past the window and be slashed); the
 * same window for a few steps is claimed. */
static void test_train_window(void) {
    gt_agent *poster = make("t-poster", 0), *w = make("t-quick", GT_ROLE_WORKER), *ws[1] = {w};
    char st[32];
    int mine = 0, accum = 256;
    uint8_t long_id[32], short_id[32];
    uint64_t locked = 1;
    if (!poster || !w) return;
    /* About five windows' work at this machine's speed. */
    double ms = micro_ms(), micro = 5.0 * WINDOW_S * 1000.0 / (ms > 0 ? ms : 1e-3);
    int steps = micro / accum / 4 + 1 < GT_TRAIN_TASK_MAX_STEPS / 4 ? (int)(micro / accum / 4 + 1) * 4
                                                                    : GT_TRAIN_TASK_MAX_STEPS;
    fprintf(stderr, "  %.4f ms a micro-batch here: %d steps of %d for a %d s window\n", ms, steps, accum, WINDOW_S);
    post_train(poster, steps, accum, long_id);
    logs[0] = 0;
    uint64_t before = balance_of(w, NULL);
    for (int i = 0; i < 3; i++) tnet_step(ws, 1);
    CHECK_STR(slot_state(long_id, w, &mine, st), "open");
    CHECK_EQ_U64(balance_of(w, &locked), before); /* never staked (a claim past its window: slashed) */
    CHECK_EQ_U64(locked, 0);
    CHECK_CONTAINS(logs, "is more than its submit window");
    post_train(poster, STEPS, 2, short_id);
    for (int i = 0; i < 50 && !mine; i++) {
        tnet_step(ws, 1);
        slot_state(short_id, w, &mine, st);
    }
    CHECK_MSG(mine, "the task of %d steps was not claimed (slot %s)", STEPS, st);
    balance_of(w, &locked);
    CHECK_EQ_U64(locked, STAKE_UNITS);
    CHECK_STR(slot_state(long_id, w, &mine, st), "open");
    gt_agent_free(poster), gt_agent_free(w);
}

/* Counts `bytes` of blob uploads against a's quota on the node, as the
 * node's store does for each upload (its usage file, read at every upload
 * and account read): a worker with that much uploaded before. */
static void use_quota(const gt_agent *a, uint64_t bytes) {
    char blobs[96];
    gt_err err = {0};
    snprintf(blobs, sizeof blobs, "%s/blobs", home);
    CHECK_MSG(gt_blob_usage_add(blobs, gt_agent_address(a), bytes, &err) == 0, "usage: %s", err.msg);
}

/* Workers who have used most of their blob quota: one with less room left
 * than the task's checkpoints need does not claim it (it used to claim,
 * train, be refused the uploads and lose its stake); one with room does.
 * The node reports the usage and the quota with the account. */
static void test_train_quota(void) {
    gt_agent *poster = make("t-poster", 0), *full = make("t-full", GT_ROLE_WORKER),
             *roomy = make("t-roomy", GT_ROLE_WORKER), *ws[1] = {full};
    const uint64_t quota = 256ull << 20; /* the node's default */
    uint8_t id[32];
    char st[32];
    int mine = 0;
    uint64_t locked = 1;
    gt_client_acct acc = {0};
    if (!poster || !full || !roomy) return;
    use_quota(full, quota - (1u << 20)); /* 1 MiB left: 4 checkpoints of 337 KiB need more */
    use_quota(roomy, quota - (8u << 20));
    CHECK(gt_client_account(dir, gt_agent_address(full), &acc, NULL) == 0);
    CHECK(acc.blob_known);
    CHECK_EQ_U64(acc.blob_quota_bytes, quota);
    CHECK_EQ_U64(acc.blob_used_bytes, quota - (1u << 20));
    post_train(poster, STEPS, 3, id); /* 3 micro-batches a step: new checkpoints (a stored blob costs no quota) */
    logs[0] = 0;
    uint64_t before = balance_of(full, NULL);
    for (int i = 0; i < 3; i++) tnet_step(ws, 1);
    CHECK_STR(slot_state(id, full, &mine, st), "open");
    CHECK_EQ_U64(balance_of(full, &locked), before);
    CHECK_EQ_U64(locked, 0);
    CHECK_CONTAINS(logs, "it could not submit");
    ws[0] = roomy;
    for (int i = 0; i < 50 && !mine; i++) {
        tnet_step(ws, 1);
        slot_state(id, roomy, &mine, st);
    }
    CHECK_MSG(mine, "the worker with room in its quota did not claim (slot %s)", st);
    gt_agent_free(poster), gt_agent_free(full), gt_agent_free(roomy);
}

/* ---- the reveal guard: a first train verification is estimated before it runs ---- */

/* What the guard would read after a judging pass that saw one sealed vote
 * of `a`'s, due by block time `by` (a fake: no commitment is on the ledger;
 * the pass that follows the poster's recounts them, so it is set again
 * before every step). */
static void fake_seal(gt_agent *a, uint64_t by) {
    a->seals_known = 1;
    atomic_store(&a->seals_open, 1);
    a->reveal_by_s = by, a->reveal_by_seen = 0, a->reveal_unknown = 0;
}

/* The speed a's train skill would have measured on the base: a minute a
 * micro-batch, so any verification is long. */
static void slow_speed(gt_agent *a) {
    ag_train_speed *sp = &a->train_speeds[0];
    memset(sp, 0, sizeof *sp);
    memcpy(sp->base, task_spec.base, 32);
    sp->micro_us = 60000000, sp->ckpt_us = 1000, sp->load_us = 1000, sp->ckpt_bytes = 1, sp->set = 1;
}

/* A poster that has never re-executed anything holds a sealed vote due in
 * 30 s, and a manifest to verify whose re-run its speed cache puts at over
 * a minute: it puts the verification off (it used to start it at once, the
 * guard's bound being its 3 s floor without history: a verification longer
 * than what was left of the window cost the vote's bond). With the vote
 * revealed (no seal open) it verifies and accepts. */
static void test_train_verify_held(void) {
    gt_agent *poster = make("t-vposter", GT_ROLE_POSTER), *w = make("t-vworker", GT_ROLE_WORKER), *ws[1] = {w};
    char st[32];
    int mine = 0;
    uint8_t id[32];
    uint64_t height = 0, now_s = 0;
    gt_agent_stats s;
    if (!poster || !w) return;
    post_train(poster, STEPS, 2, id);
    for (int i = 0; i < 100 && strcmp(slot_state(id, w, &mine, st), "submitted"); i++) tnet_step(ws, 1);
    CHECK_STR(slot_state(id, w, &mine, st), "submitted");
    slow_speed(poster);
    logs[0] = 0;
    for (int i = 0; i < 3; i++) {
        gt_err err = {0};
        CHECK(gt_client_head(dir, &height, &now_s, NULL) == 0);
        fake_seal(poster, now_s + 30);
        if (gt_agent_step(poster, NULL, &err)) fprintf(stderr, "step: %s\n", err.msg);
    }
    CHECK_STR(slot_state(id, w, &mine, st), "submitted");
    gt_agent_stats_get(poster, &s);
    CHECK_EQ_U64(s.verified, 0);
    CHECK_CONTAINS(logs, "puts off re-running task");
    CHECK_CONTAINS(logs, "(estimated 240008 ms"); /* 1 stretch of 2 steps x 2 micro-batches, a minute each */
    memset(&poster->train_speeds[0], 0, sizeof poster->train_speeds[0]); /* measured for real now */
    gt_agent *both[1] = {poster};
    for (int i = 0; i < 200 && !strcmp(slot_state(id, w, &mine, st), "submitted"); i++) tnet_step(both, 1);
    CHECK_STR(slot_state(id, w, &mine, st), "accepted");
    gt_agent_stats_get(poster, &s);
    CHECK_EQ_U64(s.accepted_given, 1);
    gt_agent_free(poster), gt_agent_free(w);
}

int main(void) {
    signal(SIGPIPE, SIG_IGN);
    if (start_node()) {
        fprintf(stderr, "could not start %s node\n", GT_CLI);
        return 1;
    }
    RUN(test_train_task);
    RUN(test_train_window);
    RUN(test_train_quota);
    RUN(test_train_verify_held);
    tnet_stop(home, node_pid, dir);
    gt_free(dataset);
    return gt_test_finish();
}
