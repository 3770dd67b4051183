/* test_market_work.c: data jobs and evaluations as market work, end to end on
 * a real ledger with several agents' keys and the tiny fixture model.
 *
 * Data: alice posts a job of 2 batches x 4 samples as one `generate` task
 * verified by the validator val. w1 and w2 generate their batches with the
 * model; w2 submits only 3 of its 4 samples. val runs the validation
 * pipeline (with spot re-execution) on each blob, uploads the reason blob
 * and gives per-sample verdicts: 4/4 and 3/4. Settlement pays and slashes
 * pro rata (exact balances checked), reputation counts samples. alice
 * exports the 7 accepted samples, publishes the dataset's root on the
 * ledger, and a copy is checked against the root read back from the ledger
 * (and a damaged copy is caught).
 *
 * Eval: alice posts an `eval` task on the built-in arith-v1 (6 items). eve
 * runs it and attests; val re-executes 3 random items, agrees, and its
 * co-sign accepts; v1 co-signs too. mallory attests a forged run (every
 * item marked correct, root and score recomputed to match), which only
 * re-execution can catch: val disagrees (the verdict), mallory disputes, v1
 * and v2 re-execute with their own seeds and their co-signs vote it down.
 * The leaderboard ranks eve's attestation with 2 agreeing re-executions and
 * leaves mallory's out (and shows it rejected with `all`, and among the
 * others of eve's entry). A later attestation with more staked co-signs
 * does not replace eve's (it is listed beside it): plain co-signs back
 * nothing. Only bonded votes of a drawn panel back a score, and a wrong one
 * is slashed (test_eval_bonded). A model's best prefix of a bench (the
 * spec's `limit`, chosen by the poster) ranks only against runs of as many
 * items (test_eval_cherry_pick). From ledger format 11's height an eval
 * panel's votes are sealed-only: a clear co-sign that would be a vote is
 * refused, a commitment is opened by eval_reveal (the co-sign), and a lazy
 * judge cannot copy another's (test_eval_sealed). Books, supply and
 * replay verification are checked at the end, and a tampered attestation
 * row is caught by the replay. */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../test.h"
#include "base/alloc.h"
#include "base/amount.h"
#include "base/file.h"
#include "base/hex.h"
#include "base/json.h"
#include "crypto/addr.h"
#include "crypto/keccak.h"
#include "crypto/merkle.h"
#include "crypto/sha256.h"
#include "ledger/ledger.h"
#include "ledger/rules.h"
#include "store/blob.h"
#include "market/market.h"
#include "work/data/batch.h"
#include "work/data/export.h"
#include "work/eval/check.h"
#include "work/eval/eval.h"
#include "work/work.h"

#define MODEL "models/tiny-llama-q8_0.gguf"
#define TOK(x) ((uint64_t)(x) * 1000000ull)

enum { ALICE, W1, W2, VAL, EVE, MALLORY, V1, V2, N_ACC };
static const char *const names[N_ACC] = {"alice", "w1", "w2", "val", "eve", "mallory", "v1", "v2"};
static gt_key keys[N_ACC];
static gt_addr addrs[N_ACC];
static gt_ledger *L;
static char blobs[256];
static char ledger_path[128]; /* L's store */

/* Signs and submits one action of `who`; returns the outcome code. */
static int submit(int who, gt_action *a, char *msg, size_t cap) {
    gt_account acc;
    gt_ledger_account(L, &addrs[who], &acc, NULL);
    a->nonce = acc.nonce;
    a->from = addrs[who];
    gt_err err = {0};
    if (gt_action_sign(a, &keys[who], &err)) {
        fprintf(stderr, "sign: %s\n", err.msg);
        return -100;
    }
    gt_result r;
    gt_ledger_submit(L, a, 1, &r);
    if (r.code) fprintf(stderr, "  (%s refused: %s)\n", a->kind->name, r.msg);
    if (msg && cap) { /* the refusal's message, cut to cap */
        size_t n = strnlen(r.msg, cap - 1);
        memcpy(msg, r.msg, n);
        msg[n] = 0;
    }
    return r.code;
}

static void init(gt_action *a, const gt_action_kind *k, int who) {
    gt_action_init(a, k, gt_ledger_domain(L), &addrs[who], 0);
}

static uint64_t balance(int who) {
    gt_account a;
    gt_ledger_account(L, &addrs[who], &a, NULL);
    return a.balance;
}
static uint64_t locked(int who) {
    gt_account a;
    gt_ledger_account(L, &addrs[who], &a, NULL);
    return a.locked;
}

/* Stores bytes as a blob and returns its hash. */
static void put_blob(const void *p, size_t n, uint8_t h[32]) {
    char id[GT_BLOB_ID_BYTES];
    gt_err err = {0};
    CHECK_EQ_INT(gt_blob_put(blobs, p, n, id, &err), 0);
    CHECK_EQ_INT(gt_blob_id_parse(id, h, &err), 0);
}

/* Reads a JSON view under the ledger's lock. */
typedef struct view_arg { int what; const uint8_t *id; const char *bench; int all; gt_addr addr; json_t *out; } view_arg;
static int read_view(void *arg, gt_tx *tx, gt_err *err) {
    view_arg *v = arg;
    switch (v->what) {
    case 0: v->out = gt_market_task_get(tx->db, v->id, err); break;
    case 1: v->out = gt_work_leaderboard(tx->db, v->bench, v->all, err); break;
    case 2: v->out = gt_work_attestation_get(tx->db, v->id, err); break;
    case 3: v->out = gt_work_dataset_get(tx->db, v->id, err); break;
    case 4: v->out = gt_market_reputation(tx->db, &v->addr, "generate", err); break;
    default: {
        uint64_t locked_units = 0;
        return gt_market_audit(tx->db, &locked_units, err);
    }
    }
    return v->out ? 0 : -1;
}
static json_t *view(int what, const uint8_t *id, const char *bench, int all) {
    view_arg v = {what, id, bench, all, {{0}}, NULL};
    gt_err err = {0};
    if (gt_ledger_read(L, read_view, &v, &err)) fprintf(stderr, "view %d: %s\n", what, err.msg);
    return v.out;
}

static const char *SPEC =
    "{\"version\":1,\"name\":\"notes\",\"template\":\"Write note {index} in a {tone} tone.\\n\","
    "\"variables\":{\"tone\":[\"dry\",\"warm\"]},\"seed\":11,\"samples\":8,\"batch\":4,"
    "\"reward\":\"1\",\"stake\":\"0.5\",\"license\":\"cc-by-4.0\",\"generation\":{\"max_tokens\":10,\"temp\":0.8},"
    "\"pipeline\":{\"verify\":false,\"near_dedup\":false,\"spot_check\":0.5}}";

/* ---- the data job ---- */
static void test_data_job(gt_llm *llm) {
    gt_err err = {0};
    gt_job_spec spec;
    CHECK_EQ_INT(gt_job_spec_parse(SPEC, strlen(SPEC), &spec, &err), 0);
    uint8_t spec_hash[32];
    put_blob(SPEC, strlen(SPEC), spec_hash);
    CHECK(!memcmp(spec_hash, spec.id, 32)); /* the job id is the spec blob's hash */
    gt_work_terms terms;
    CHECK_EQ_INT(gt_work_job_terms(&spec, &terms, &err), 0);
    CHECK_EQ_U64(terms.slots, 2);
    CHECK_EQ_U64(terms.bounty_units, TOK(4));
    CHECK_EQ_U64(terms.stake_units, TOK(2));

    gt_action a;
    init(&a, &gt_kind_task_post, ALICE);
    gt_action_set_str(&a, "kind", GT_WORK_KIND_GENERATE, strlen(GT_WORK_KIND_GENERATE), NULL);
    gt_action_set_b32(&a, "spec", spec.id);
    gt_action_set_u64(&a, "slots", terms.slots);
    gt_action_set_u64(&a, "bounty", terms.bounty_units);
    gt_action_set_u64(&a, "stake", terms.stake_units);
    gt_action_set_addr(&a, "verifier", &addrs[VAL]);
    gt_action_set_u64(&a, "fee", 100000);
    gt_action_set_u64(&a, "claimSeconds", 50);
    gt_action_set_u64(&a, "submitSeconds", 20);
    gt_action_set_u64(&a, "verifySeconds", 20);
    gt_action_set_u64(&a, "batchItems", terms.batch_items);
    gt_action_set_u64(&a, "lastBatchItems", terms.last_batch_items);
    CHECK_EQ_INT(submit(ALICE, &a, NULL, 0), 0);
    uint8_t task[32];
    memcpy(task, a.id, 32);

    /* Workers claim (slot 0 for w1, slot 1 for w2) and generate their batches. */
    gt_buf blob[2] = {GT_BUF_INIT, GT_BUF_INIT};
    uint8_t result[2][32];
    for (int k = 0; k < 2; k++) {
        int w = k ? W2 : W1;
        init(&a, &gt_kind_task_claim, w);
        gt_action_set_b32(&a, "task", task);
        CHECK_EQ_INT(submit(w, &a, NULL, 0), 0);
        CHECK_EQ_INT(gt_work_generate_batch(&spec, llm, &addrs[w], (uint64_t)k, &blob[k], &err), 0);
    }
    /* w2 submits only its first 3 samples. */
    size_t cut = blob[1].len - 1;
    while (cut > 0 && blob[1].data[cut - 1] != '\n') cut--;
    blob[1].len = cut;
    for (int k = 0; k < 2; k++) {
        int w = k ? W2 : W1;
        put_blob(blob[k].data, blob[k].len, result[k]);
        init(&a, &gt_kind_task_submit, w);
        gt_action_set_b32(&a, "task", task);
        gt_action_set_u64(&a, "slot", (uint64_t)k);
        gt_action_set_b32(&a, "result", result[k]);
        CHECK_EQ_INT(submit(w, &a, NULL, 0), 0);
    }

    /* The validator judges each blob sample by sample. */
    gt_pipeline *p = NULL;
    CHECK_EQ_INT(gt_pipeline_new(&spec, &p, &err), 0);
    gt_pipeline_opts po = {.regen = llm, .spot_seed = 99};
    gt_sample *kept[2] = {NULL, NULL};
    size_t n_kept[2] = {0, 0};
    uint64_t want_acc[2] = {4, 3};
    for (int k = 0; k < 2; k++) {
        gt_work_batch_verdict v;
        gt_buf reason = GT_BUF_INIT;
        int w = k ? W2 : W1;
        CHECK_EQ_INT(gt_work_validate_batch(p, &spec, &po, (uint64_t)k, &addrs[w], blob[k].data, blob[k].len, &v, &reason,
                                            &kept[k], &n_kept[k], &err), 0);
        CHECK_EQ_U64(v.accepted, want_acc[k]);
        CHECK_EQ_U64(v.total, 4);
        CHECK(v.report.stage[GT_STAGE_SPOT].checked >= 1); /* spot re-execution ran and passed */
        CHECK_EQ_U64(v.report.stage[GT_STAGE_SPOT].failed, 0);
        uint8_t rh[32];
        put_blob(reason.data, reason.len, rh);
        init(&a, &gt_kind_task_verify_partial, VAL);
        gt_action_set_b32(&a, "task", task);
        gt_action_set_u64(&a, "slot", (uint64_t)k);
        gt_action_set_b32(&a, "result", result[k]);
        gt_action_set_u64(&a, "accepted", v.accepted);
        gt_action_set_u64(&a, "total", v.total);
        gt_action_set_u64(&a, "score", v.score);
        gt_action_set_b32(&a, "reason", rh);
        CHECK_EQ_INT(submit(VAL, &a, NULL, 0), 0);
        gt_buf_free(&reason);
    }
    /* A blob naming another contributor is refused whole. */
    {
        gt_work_batch_verdict v;
        gt_buf reason = GT_BUF_INIT;
        CHECK_EQ_INT(gt_work_validate_batch(p, &spec, &po, 0, &addrs[W2], blob[0].data, blob[0].len, &v, &reason, NULL, NULL,
                                            &err), 0);
        CHECK_EQ_U64(v.accepted, 0);
        CHECK_CONTAINS(v.whole, "names contributor");
        CHECK_CONTAINS((const char *)reason.data, "\"refused\"");
        gt_buf_free(&reason);
        CHECK_EQ_INT(gt_work_validate_batch(p, &spec, &po, 0, &addrs[W1], "not json\n", 9, &v, &reason, NULL, NULL, &err), 0);
        CHECK_EQ_U64(v.accepted, 0);
        CHECK_CONTAINS(v.whole, "not a batch");
        gt_buf_free(&reason);
    }
    gt_pipeline_free(p);

    /* Settlement: w1 after acceptance; w2 at once, giving up its dispute. */
    uint64_t w1_0 = balance(W1), w2_0 = balance(W2), al_0 = balance(ALICE), val_0 = balance(VAL);
    for (int k = 0; k < 2; k++) {
        int w = k ? W2 : W1;
        init(&a, &gt_kind_task_settle, w);
        gt_action_set_b32(&a, "task", task);
        gt_action_set_u64(&a, "slot", (uint64_t)k);
        CHECK_EQ_INT(submit(w, &a, NULL, 0), 0);
    }
    /* w1: bounty 4 + stake 2 back. w2: 3/4 of 4 = 3, stake 2 - 1/4 x 2 = 1.5 back.
     * alice: the unpaid quarter (1) + the slashed quarter of w2's stake (0.5).
     * val: two fees of 0.1, and its rejection bond (0.5) back. */
    CHECK_EQ_U64(balance(W1) - w1_0, TOK(6));
    CHECK_EQ_U64(balance(W2) - w2_0, TOK(3) + TOK(3) / 2);
    CHECK_EQ_U64(balance(ALICE) - al_0, TOK(1) + TOK(1) / 2);
    CHECK_EQ_U64(balance(VAL) - val_0, 2 * 100000 + TOK(1) / 2);
    CHECK_EQ_U64(locked(ALICE), 0);
    CHECK_EQ_U64(locked(W2), 0);
    json_t *t = view(0, task, NULL, 0);
    CHECK_STR(json_string_value(json_object_get(t, "status")), "complete");
    json_decref(t);
    view_arg rv = {4, NULL, NULL, 0, addrs[W2], NULL};
    gt_ledger_read(L, read_view, &rv, NULL);
    json_t *row = json_array_get(json_object_get(rv.out, "skills"), 0);
    CHECK_EQ_INT(json_integer_value(json_object_get(row, "unitsAccepted")), 3);
    CHECK_EQ_INT(json_integer_value(json_object_get(row, "unitsRejected")), 1);
    json_decref(rv.out);

    /* Export the accepted samples, publish the root, check a copy against the ledger. */
    gt_sample all[8];
    size_t n = 0;
    for (int k = 0; k < 2; k++)
        for (size_t i = 0; i < n_kept[k]; i++)
            if (kept[k][i].accepted) all[n++] = kept[k][i];
    CHECK_EQ_U64(n, 7);
    char dir[300];
    snprintf(dir, sizeof dir, "%s/../dataset", blobs);
    uint8_t root[32], again[32];
    CHECK_EQ_INT(gt_dataset_export(&spec, all, n, dir, root, &err), 0);
    for (int k = 0; k < 2; k++) gt_samples_free(kept[k], n_kept[k]);
    char prov[400];
    snprintf(prov, sizeof prov, "%s/provenance.json", dir);
    uint8_t *pbytes;
    size_t plen;
    uint8_t manifest[32];
    CHECK_EQ_INT(gt_file_read(prov, 1 << 24, &pbytes, &plen, &err), 0);
    put_blob(pbytes, plen, manifest);
    gt_free(pbytes);
    init(&a, &gt_kind_dataset_publish, ALICE);
    gt_action_set_b32(&a, "task", task);
    gt_action_set_b32(&a, "job", spec.id);
    gt_action_set_b32(&a, "root", root);
    gt_action_set_u64(&a, "rows", n);
    gt_action_set_b32(&a, "manifest", manifest);
    CHECK_EQ_INT(submit(ALICE, &a, NULL, 0), 0);
    json_t *d = view(3, spec.id, NULL, 0);
    uint8_t ledger_root[32], ledger_manifest[32];
    CHECK_EQ_INT(gt_hex_decode(json_string_value(json_object_get(d, "root")), ledger_root, 32, "root", &err), 0);
    CHECK_EQ_INT(gt_blob_id_parse(json_string_value(json_object_get(d, "manifest")), ledger_manifest, &err), 0);
    CHECK_EQ_INT(json_integer_value(json_object_get(d, "rows")), 7);
    json_decref(d);
    size_t rows = 0;
    CHECK_EQ_INT(gt_dataset_verify(dir, ledger_root, ledger_manifest, again, &rows, &err), 0);
    CHECK_EQ_U64(rows, 7);
    /* A copy with one byte changed no longer matches the ledger's root. */
    char data[400];
    snprintf(data, sizeof data, "%s/data.jsonl", dir);
    FILE *f = fopen(data, "r+b");
    CHECK(f != NULL);
    if (f) {
        fseek(f, 20, SEEK_SET);
        int ch = fgetc(f);
        fseek(f, 20, SEEK_SET);
        fputc(ch == 'x' ? 'y' : 'x', f);
        fclose(f);
    }
    CHECK(gt_dataset_verify(dir, ledger_root, ledger_manifest, again, &rows, &err) != 0);
    for (int k = 0; k < 2; k++) gt_buf_free(&blob[k]);
    gt_job_spec_free(&spec);
}

/* An eval spec of llm's model on bench b: its first `limit` items, `check`
 * of them re-executed by each judge. */
static gt_work_eval_spec eval_spec_of(const gt_llm *llm, const gt_bench *b, uint64_t limit, uint64_t check) {
    gt_work_eval_spec es = {.limit = limit, .check = check};
    memcpy(es.model, llm->id, 32);
    memcpy(es.bench_hash, b->hash, 32);
    snprintf(es.bench, sizeof es.bench, "%s", b->name);
    return es;
}

/* Posts, claims and attests one slot of the eval task; returns the attestation id. */
static int attest(int who, const uint8_t task[32], uint64_t slot, const gt_work_attestation *att, uint8_t id[32]) {
    gt_action a;
    init(&a, &gt_kind_task_claim, who);
    gt_action_set_b32(&a, "task", task);
    if (submit(who, &a, NULL, 0)) return -1;
    init(&a, &gt_kind_eval_attest, who);
    gt_work_attest_fill(&a, task, slot, att);
    int rc = submit(who, &a, NULL, 0);
    memcpy(id, a.id, 32);
    return rc;
}

/* What a validator's check of an attestation found: a co-sign's content. */
typedef struct cosign_c {
    uint64_t checked;
    int agree;
    uint8_t evidence[32];
} cosign_c;

/* A validator checks an attestation (read back from the ledger) with its
 * seed, uploading the evidence: the co-sign's content into *c. 0 or -1. */
static int check_att(const gt_work_eval_spec *es, const gt_bench *b, gt_llm *llm, const uint8_t att_id[32],
                     uint64_t seed, cosign_c *c) {
    gt_err err = {0};
    json_t *v = view(2, att_id, NULL, 0);
    gt_work_attestation att;
    if (!v || gt_work_attestation_from_json(v, &att, &err)) return -1;
    json_decref(v);
    char id[GT_BLOB_ID_BYTES];
    gt_blob_id_format(att.results, id);
    uint8_t *res;
    size_t len;
    if (gt_blob_get(blobs, id, &res, &len, &err)) return -1;
    gt_work_check chk;
    gt_buf ev = GT_BUF_INIT;
    int rc = gt_work_eval_check(es, b, llm, &att, res, len, seed, &chk, &ev, &err);
    gt_free(res);
    if (rc) { fprintf(stderr, "check: %s\n", err.msg); gt_buf_free(&ev); return -1; }
    put_blob(ev.data, ev.len, c->evidence);
    gt_buf_free(&ev);
    c->agree = chk.agree;
    c->checked = chk.items_checked;
    return 0;
}

/* A validator checks an attestation (check_att) and co-signs. */
static int check_and_cosign(int who, const gt_work_eval_spec *es, const gt_bench *b, gt_llm *llm, const uint8_t att_id[32],
                            uint64_t seed, int *agree) {
    cosign_c c;
    if (check_att(es, b, llm, att_id, seed, &c)) return -1;
    *agree = c.agree;
    gt_action a;
    init(&a, &gt_kind_eval_cosign, who);
    gt_work_cosign_fill(&a, att_id, c.checked, c.agree, c.evidence);
    return submit(who, &a, NULL, 0);
}

/* A co-sign with the given agreement, whatever the re-execution says (a
 * dishonest or careless validator); the evidence is any stored blob. */
static int cosign_as(int who, const uint8_t att_id[32], int agree) {
    uint8_t evh[32];
    put_blob("not the re-executed lines\n", 26, evh);
    gt_action a;
    init(&a, &gt_kind_eval_cosign, who);
    gt_work_cosign_fill(&a, att_id, 1, agree, evh);
    return submit(who, &a, NULL, 0);
}

/* Everything an address holds: balance, locks and stake. */
static uint64_t holdings(int who) {
    gt_account a;
    gt_ledger_account(L, &addrs[who], &a, NULL);
    return a.balance + a.locked + a.staked;
}

/* Below format 11's height (L is made as a format 9 ledger; test_eval_sealed
 * moves format11_height to the block after its head, as an upgrade does):
 * the old rule, the round voted in the clear.
 * Scores backed by bonded judges (slot 2 of the eval task): val wrongly
 * rejects eve's honest run, eve disputes, and the dispute panel (v1, v2 and
 * w1, all staked 5, all seated) judges: v1 had co-signed before the dispute
 * and votes what it found (dispute_vote, as agents do), v2 re-executes and
 * co-signs (its vote), w1 co-signs against without looking. The panel accepts; w1's co-sign was a bonded
 * vote on the losing side and loses its bond (20% of its weight: 1 token);
 * the attestation's backing is the bonded stake that agreed (v1 + v2: 10
 * tokens), which outranks eve's first attestation (an evaluator's verdict
 * and a plain co-sign: nothing bonded). The backing stays when v1 later
 * unstakes: it was bonded when the vote was cast, from a weight fixed when
 * the panel opened, so passing the token on cannot count it twice. */
static void test_eval_bonded(const gt_work_eval_spec *es, const gt_bench *b, gt_llm *llm, const uint8_t task[32],
                             const gt_work_attestation *att) {
    gt_err err = {0};
    gt_action a;
    init(&a, &gt_kind_stake, W1);
    gt_action_set_u64(&a, "amount", TOK(5));
    CHECK_EQ_INT(submit(W1, &a, NULL, 0), 0);
    gt_ledger_tick(L, &err); /* w1's stake is in the accounts table before the panel opens */
    uint8_t att2[32];
    CHECK_EQ_INT(attest(EVE, task, 2, att, att2), 0);
    int agree = -1;
    /* v1 co-signs at once (a plain co-sign, bonding nothing), and once the
     * dispute is open votes what it found, as agents do. */
    CHECK_EQ_INT(check_and_cosign(V1, es, b, llm, att2, 9, &agree), 0);
    CHECK_EQ_INT(agree, 1);
    CHECK_EQ_INT(cosign_as(VAL, att2, 0), 0); /* the evaluator's (wrong) verdict */
    init(&a, &gt_kind_task_dispute, EVE);
    gt_action_set_b32(&a, "task", task);
    gt_action_set_u64(&a, "slot", 2);
    gt_action_set_b32(&a, "result", att->results);
    CHECK_EQ_INT(submit(EVE, &a, NULL, 0), 0);
    /* w1, seated on the panel, tries to seal the round before anyone votes:
     * had its commitment landed, every honest co-sign after it (whose inner
     * dispute_vote is the vote) would be refused and the round left to the
     * committers. An eval task's rounds are voted in the clear: refused. */
    uint8_t salt[32] = {7}, cm[32];
    gt_market_vote_commitment(0, salt, &addrs[W1], task, 2, 0, GT_MARKET_ROUND_DISPUTE, cm);
    init(&a, &gt_kind_vote_commit, W1);
    gt_action_set_b32(&a, "task", task);
    gt_action_set_u64(&a, "slot", 2);
    gt_action_set_b32(&a, "result", att->results);
    gt_action_set_b32(&a, "commitment", cm);
    char why[256];
    CHECK_EQ_INT(submit(W1, &a, why, sizeof why), GT_EPERM);
    CHECK_MSG(strstr(why, "co-signs") && strstr(why, "not vote_commit"), "vote_commit refused for: %s", why);
    uint64_t w1_0 = holdings(W1), v_0 = holdings(V1) + holdings(V2);
    init(&a, &gt_kind_dispute_vote, V1);
    gt_action_set_b32(&a, "task", task);
    gt_action_set_u64(&a, "slot", 2);
    gt_action_set_b32(&a, "result", att->results);
    gt_action_set_u64(&a, "accept", 1);
    CHECK_EQ_INT(submit(V1, &a, NULL, 0), 0);
    CHECK_EQ_INT(check_and_cosign(V2, es, b, llm, att2, 10, &agree), 0);
    CHECK_EQ_INT(agree, 1);
    CHECK_EQ_INT(cosign_as(W1, att2, 0), 0);
    for (int i = 0; i < GT_LEDGER_SHORT_WINDOW_S; i++) gt_ledger_tick(L, &err);
    json_t *tv = view(0, task, NULL, 0);
    json_t *s2 = json_array_get(json_object_get(tv, "slotList"), 2);
    const char *st = json_string_value(json_object_get(s2, "state"));
    CHECK_MSG(st && (!strcmp(st, "accepted") || !strcmp(st, "paid")), "slot 2: %s", st ? st : "?");
    json_decref(tv);
    CHECK_EQ_U64(w1_0 - holdings(W1), TOK(1)); /* the wrong co-sign's bond, slashed */
    CHECK(holdings(V1) + holdings(V2) >= v_0 + TOK(1)); /* shared by the winners (with val's rejection bond) */
    char eve_s[43];
    gt_addr_to_str(&addrs[EVE], eve_s);
    for (int pass = 0; pass < 2; pass++) {
        json_t *lb = view(1, NULL, "arith-v1", 0);
        json_t *e0 = json_array_get(json_object_get(lb, "entries"), 0);
        json_t *cs = json_object_get(e0, "cosigns");
        CHECK_EQ_INT(json_integer_value(json_object_get(e0, "slot")), 2);
        CHECK_EQ_INT(json_integer_value(json_object_get(e0, "rank")), 1); /* bonded judges accepted it */
        CHECK(json_is_true(json_object_get(e0, "ranked")));
        CHECK_STR(json_string_value(json_object_get(e0, "attester")), eve_s);
        CHECK_EQ_INT(json_integer_value(json_object_get(cs, "backed")), 2);
        CHECK_EQ_INT(json_integer_value(json_object_get(cs, "backedStake")), (json_int_t)TOK(10));
        /* the spec's check, and what the two judges re-executed (w1's co-sign says 1 and backs nothing) */
        CHECK_EQ_INT(json_integer_value(json_object_get(e0, "check")), (json_int_t)es->check);
        CHECK_EQ_INT(json_integer_value(json_object_get(cs, "backedItemsChecked")), 2 * (json_int_t)es->check);
        CHECK_EQ_INT(json_integer_value(json_object_get(cs, "disagreed")), 2); /* val's verdict and w1's vote, shown */
        CHECK_EQ_INT(json_array_size(json_object_get(e0, "others")), 3);
        json_decref(lb);
        if (pass) break;
        init(&a, &gt_kind_unstake, V1);
        gt_action_set_u64(&a, "amount", TOK(5));
        CHECK_EQ_INT(submit(V1, &a, NULL, 0), 0);
    }
}

/* Below format 11's height: a quorum eval task's verify round cannot be
 * sealed either. w1, a
 * seated validator (staked in test_eval_bonded; v1 has unstaked), tries
 * vote_commit on eve's submitted attestation before anyone co-signs (on main
 * it was accepted and sealed the round, and the honest co-signs after it
 * were refused); refused, and w1's and v2's co-signs (their task_verify
 * votes) are taken. */
static void test_eval_quorum_seal(const gt_work_eval_spec *es, const gt_bench *b, gt_llm *llm,
                                  const gt_work_attestation *att, const uint8_t spec_hash[32]) {
    gt_err err = {0};
    gt_action a;
    init(&a, &gt_kind_task_post, ALICE);
    gt_action_set_str(&a, "kind", GT_WORK_KIND_EVAL, strlen(GT_WORK_KIND_EVAL), NULL);
    gt_action_set_b32(&a, "spec", spec_hash);
    gt_action_set_u64(&a, "slots", 1);
    gt_action_set_u64(&a, "bounty", TOK(2));
    gt_action_set_u64(&a, "stake", TOK(1));
    gt_action_set_u64(&a, "quorum", 2);
    gt_action_set_u64(&a, "claimSeconds", 60);
    gt_action_set_u64(&a, "submitSeconds", 20);
    gt_action_set_u64(&a, "verifySeconds", 20);
    CHECK_EQ_INT(submit(ALICE, &a, NULL, 0), 0);
    uint8_t task[32], att_q[32];
    memcpy(task, a.id, 32);
    CHECK_EQ_INT(attest(EVE, task, 0, att, att_q), 0);
    for (int i = 0; i <= GT_MARKET_DRAW_DELAY_BLOCKS; i++) gt_ledger_tick(L, &err); /* the panel is drawn */
    uint8_t salt[32] = {9}, cm[32];
    gt_market_vote_commitment(0, salt, &addrs[W1], task, 0, 0, GT_MARKET_ROUND_VERIFY, cm);
    init(&a, &gt_kind_vote_commit, W1);
    gt_action_set_b32(&a, "task", task);
    gt_action_set_u64(&a, "slot", 0);
    gt_action_set_b32(&a, "result", att->results);
    gt_action_set_b32(&a, "commitment", cm);
    char why[256];
    CHECK_EQ_INT(submit(W1, &a, why, sizeof why), GT_EPERM);
    CHECK_MSG(strstr(why, "co-signs") != NULL, "vote_commit refused for: %s", why);
    int agree = -1;
    CHECK_EQ_INT(check_and_cosign(W1, es, b, llm, att_q, 11, &agree), 0);
    CHECK_EQ_INT(agree, 1);
    CHECK_EQ_INT(check_and_cosign(V2, es, b, llm, att_q, 12, &agree), 0);
    CHECK_EQ_INT(agree, 1);
}

/* ALICE posts a one-slot eval task for spec es (its text put in the blob
 * store), verified by a quorum of 2 of the drawn panel; its id into task. */
static void post_quorum_eval(const gt_work_eval_spec *es, uint8_t task[32]) {
    char *spec_text = gt_work_eval_spec_json(es);
    uint8_t spec_hash[32];
    put_blob(spec_text, strlen(spec_text), spec_hash);
    free(spec_text);
    gt_action a;
    init(&a, &gt_kind_task_post, ALICE);
    gt_action_set_str(&a, "kind", GT_WORK_KIND_EVAL, strlen(GT_WORK_KIND_EVAL), NULL);
    gt_action_set_b32(&a, "spec", spec_hash);
    gt_action_set_u64(&a, "slots", 1);
    gt_action_set_u64(&a, "bounty", TOK(1));
    gt_action_set_u64(&a, "stake", TOK(1));
    gt_action_set_u64(&a, "quorum", 2);
    gt_action_set_u64(&a, "claimSeconds", 60);
    gt_action_set_u64(&a, "submitSeconds", 20);
    gt_action_set_u64(&a, "verifySeconds", 20);
    CHECK_EQ_INT(submit(ALICE, &a, NULL, 0), 0);
    memcpy(task, a.id, 32);
}

/* Posts a quorum eval task (quorum 2) for spec es, has `who` attest its run
 * by llm, and w1 and v2 (the panel) re-execute and co-sign. Returns the
 * attested score in ppm (att), the slot accepted on their votes. */
static void quorum_eval(int who, const gt_work_eval_spec *es, const gt_bench *b, gt_llm *llm, gt_work_attestation *att) {
    gt_err err = {0};
    uint8_t task[32], att_id[32];
    post_quorum_eval(es, task);
    gt_buf res = GT_BUF_INIT;
    CHECK_EQ_INT(gt_work_eval_attest(es, b, llm, &res, att, &err), 0);
    uint8_t h[32];
    put_blob(res.data, res.len, h);
    gt_buf_free(&res);
    CHECK_EQ_INT(attest(who, task, 0, att, att_id), 0);
    for (int i = 0; i <= GT_MARKET_DRAW_DELAY_BLOCKS; i++) gt_ledger_tick(L, &err); /* the panel is drawn */
    int agree = -1;
    CHECK_EQ_INT(check_and_cosign(W1, es, b, llm, att_id, 21, &agree), 0);
    CHECK_EQ_INT(agree, 1);
    CHECK_EQ_INT(check_and_cosign(V2, es, b, llm, att_id, 22, &agree), 0);
    CHECK_EQ_INT(agree, 1);
    json_t *tv = view(0, task, NULL, 0);
    const char *st = json_string_value(json_object_get(json_array_get(json_object_get(tv, "slotList"), 0), "state"));
    CHECK_MSG(st && (!strcmp(st, "accepted") || !strcmp(st, "paid")), "quorum eval slot: %s", st ? st : "?");
    json_decref(tv);
}

/* The items of model's run of the first 12 items of b right (acc 1), one
 * flag each into right[]: what an attester sees offline, from which it
 * knows the score of every prefix (the spec's `limit` takes the first N). */
static void run_flags(const gt_bench *b, gt_llm *llm, int right[12]) {
    gt_err err = {0};
    gt_work_eval_spec es = eval_spec_of(llm, b, 12, 1);
    gt_buf res = GT_BUF_INIT;
    gt_work_attestation att;
    CHECK_EQ_INT(gt_work_eval_attest(&es, b, llm, &res, &att, &err), 0);
    size_t k = 0;
    for (size_t i = 0; i < res.len && k < 12; k++) {
        size_t e = i;
        while (e < res.len && res.data[e] != '\n') e++;
        json_t *o = json_loadb((const char *)res.data + i, e - i, 0, NULL);
        right[k] = json_integer_value(json_object_get(o, "acc")) == 1;
        json_decref(o);
        i = e + 1;
    }
    CHECK_EQ_U64(k, 12);
    gt_buf_free(&res);
}

/* Cherry-picking the items (the attack): an eval spec's `limit` takes the
 * first N items, and the poster chooses N. Model B (tiny-qwen2) scores less
 * than model A (the test's model) on logic-v1's first 12 items, but its
 * promoter, having run it offline, posts a task for the prefix on which it
 * scores best, and B's honest, panel-accepted run of that prefix is ranked
 * against A's 12 items. Cost: one quorum task's bounty and fees; the panel
 * agrees, since the run is honest. On the old board B ranked 1 above A; now
 * a rank compares only runs of the same items (bench, items), so each leads
 * its own board and B's few items are shown as what they are. */
static void test_eval_cherry_pick(gt_llm *llm_a) {
    gt_err err = {0};
    gt_llm *llm_b = NULL;
    gt_bench *b = NULL;
    CHECK_EQ_INT(gt_llm_open(gt_fixture("models/tiny-qwen2-q8_0.gguf"), 1, 512, &llm_b, &err), 0);
    CHECK_EQ_INT(gt_bench_open("logic-v1", &b, &err), 0);
    if (!llm_b || !b) goto out;
    int ra[12], rb[12];
    run_flags(b, llm_a, ra);
    run_flags(b, llm_b, rb);
    uint64_t a12 = 0, b12 = 0, best = 0, pick = 12, right = 0;
    for (uint64_t n = 1; n <= 12; n++) {
        a12 += (uint64_t)ra[n - 1], right += (uint64_t)rb[n - 1];
        if (right * 1000000 / n > best) best = right * 1000000 / n, pick = n;
    }
    b12 = right * 1000000 / 12, a12 = a12 * 1000000 / 12;
    CHECK_MSG(b12 < a12 && best > a12, "premise: B %llu < A %llu on 12 items, B's best prefix (%llu) %llu above",
              (unsigned long long)b12, (unsigned long long)a12, (unsigned long long)pick, (unsigned long long)best);
    /* Each judge re-executes every item (the check floor, min(items, 16)), so both rank. */
    gt_work_eval_spec ea = eval_spec_of(llm_a, b, 12, 12), eb = eval_spec_of(llm_b, b, pick, pick);
    gt_work_attestation att_a, att_b;
    quorum_eval(EVE, &ea, b, llm_a, &att_a);
    quorum_eval(MALLORY, &eb, b, llm_b, &att_b);
    CHECK(att_b.score_ppm > att_a.score_ppm); /* B's few items outscore A's 12 */
    json_t *lb = view(1, NULL, "logic-v1", 0);
    json_t *ents = json_object_get(lb, "entries"), *e;
    size_t i;
    int seen = 0;
    json_array_foreach(ents, i, e) {
        CHECK(json_is_true(json_object_get(e, "ranked")));
        json_int_t items = json_integer_value(json_object_get(e, "items"));
        json_int_t rank = json_integer_value(json_object_get(e, "rank"));
        /* Each shows the check its spec set and what its judges (w1 and v2) re-executed. */
        json_t *cs = json_object_get(e, "cosigns");
        json_int_t check = json_integer_value(json_object_get(e, "check"));
        CHECK_EQ_INT(json_integer_value(json_object_get(cs, "backed")), 2);
        CHECK_EQ_INT(json_integer_value(json_object_get(cs, "backedItemsChecked")), 2 * check);
        if (items == 12) {
            seen |= 1;
            CHECK_MSG(rank == 1, "A's 12 items rank %lld (a run of %llu items above it)", (long long)rank,
                      (unsigned long long)pick);
            CHECK_EQ_INT(check, 12);
        }
        if (items == (json_int_t)pick) {
            seen |= 2;
            CHECK_EQ_INT(rank, 1); /* first among the runs of its few items */
            CHECK_EQ_INT(check, (json_int_t)pick); /* shown beside the rank */
        }
    }
    CHECK_EQ_INT(seen, 3);
    json_decref(lb);
out:
    gt_bench_free(b);
    gt_llm_free(llm_b);
}

/* Closes L, sets meta's format<format>_height of its store to height (as
 * an upgrade to that format at that height would have), reopens L. */
static void reopen_format_at(int format, uint64_t height) {
    gt_err err = {0};
    gt_ledger_close(L);
    L = NULL;
    sqlite3 *db;
    char sql[96];
    snprintf(sql, sizeof sql, "UPDATE meta SET value=%llu WHERE key='format%d_height'", (unsigned long long)height,
             format);
    CHECK_EQ_INT(sqlite3_open(ledger_path, &db), SQLITE_OK);
    CHECK_EQ_INT(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    CHECK_EQ_INT(sqlite3_changes(db), 1);
    sqlite3_close(db);
    CHECK_EQ_INT(gt_ledger_open(ledger_path, 0, &L, &err), 0);
    gt_ledger_set_time(L, 1700000000);
}

/* The replay of L's store: as decided with format `format`'s rules from
 * `height` (then L reopened there), and refused with them from the genesis
 * (why, when not NULL: in the refusal's message): a block decided under the
 * old rule, or one committing the height, no longer replays. */
static void replays_only_from(uint64_t height, int format, const char *why) {
    gt_err err = {0};
    gt_verify_report rep;
    gt_ledger_close(L);
    L = NULL;
    CHECK_MSG(gt_ledger_verify(ledger_path, &rep, NULL, NULL, &err) == 0, "verify: %s", err.msg);
    reopen_format_at(format, 0);
    gt_ledger_close(L);
    L = NULL;
    CHECK(gt_ledger_verify(ledger_path, &rep, NULL, NULL, &err) != 0);
    if (why) CHECK_CONTAINS(err.msg, why);
    reopen_format_at(format, height);
}

/* Posts an eval task for es (quorum 2); `who` claims it and attests its run,
 * which the ledger refuses from format 10 (the check floor): the refusal's
 * message into msg, the slot left claimed. */
static void floor_refused(int who, const gt_work_eval_spec *es, const gt_bench *b, gt_llm *llm, char msg[256]) {
    gt_err err = {0};
    uint8_t task[32];
    post_quorum_eval(es, task);
    gt_action a;
    gt_buf res = GT_BUF_INIT;
    gt_work_attestation att;
    CHECK_EQ_INT(gt_work_eval_attest(es, b, llm, &res, &att, &err), 0);
    gt_buf_free(&res);
    init(&a, &gt_kind_task_claim, who);
    gt_action_set_b32(&a, "task", task);
    CHECK_EQ_INT(submit(who, &a, NULL, 0), 0);
    init(&a, &gt_kind_eval_attest, who);
    gt_work_attest_fill(&a, task, 0, &att);
    CHECK_EQ_INT(submit(who, &a, msg, 256), GT_EINVAL);
    json_t *tv = view(0, task, NULL, 0);
    CHECK_STR(json_string_value(json_object_get(json_array_get(json_object_get(tv, "slotList"), 0), "state")),
              "claimed");
    json_decref(tv);
}

/* The check floor (GT_WORK_EVAL_CHECK_FLOOR): honest, panel-accepted runs of
 * units-v1's first 50 items posted with check 1 (a made-up run of 10 lines
 * in 50 passes a quorum of 2 so with probability 0.90) and with check 16.
 * Below format10_height (a ledger upgraded from format 9 ahead of this
 * block) the check-1 run is attested and accepted, as it was; from it on
 * the same attestation is refused, naming the check, the items and the
 * floor, and so is check 8 (0.056), while check 16 is taken. The board
 * (all) lists the old check-1 run unranked, saying why, and ranks the 16.
 * The log replays, and fails to once format 10's height is moved under the
 * old attestation (at block 1: the blocks commit the height). On the old rules the check-1 and check-8 attestations
 * from format 10 were taken (3 checks fail). */
static void test_eval_check_floor(gt_llm *llm) {
    gt_err err = {0};
    gt_bench *b = NULL;
    CHECK_EQ_INT(gt_bench_open("units-v1", &b, &err), 0);
    if (!b) return;
    gt_work_eval_spec lo = eval_spec_of(llm, b, 50, 1), mid = eval_spec_of(llm, b, 50, 8),
                      hi = eval_spec_of(llm, b, 50, 16);
    gt_work_attestation att;
    reopen_format_at(10, 1000000); /* as main made L: a format 9 ledger, to be upgraded */
    quorum_eval(EVE, &lo, b, llm, &att);
    gt_block head;
    CHECK_EQ_INT(gt_ledger_head(L, &head, &err), 0);
    reopen_format_at(10, head.height + 1); /* format 10's rules from the next block */
    char msg[256] = "";
    floor_refused(EVE, &lo, b, llm, msg);
    CHECK_CONTAINS(msg, "spec has each judge re-execute check 1 of its 50 items, below the floor min(items,16)=16");
    floor_refused(EVE, &mid, b, llm, msg);
    CHECK_CONTAINS(msg, "check 8 of its 50 items, below the floor min(items,16)=16");
    quorum_eval(MALLORY, &hi, b, llm, &att);
    json_t *lb = view(1, NULL, "units-v1", 1), *e;
    size_t i;
    int seen = 0;
    json_array_foreach(json_object_get(lb, "entries"), i, e) {
        json_int_t check = json_integer_value(json_object_get(e, "check"));
        const char *why = json_string_value(json_object_get(e, "unranked"));
        CHECK_STR(json_string_value(json_object_get(e, "status")), "accepted");
        CHECK_EQ_INT(json_integer_value(json_object_get(json_object_get(e, "cosigns"), "backed")), 2);
        if (check == 1) {
            seen |= 1;
            CHECK(json_is_false(json_object_get(e, "ranked")));
            CHECK(json_is_null(json_object_get(e, "rank")));
            CHECK_STR(why ? why : "(none)", "check 1 is below the floor min(items,16)=16");
        } else if (check == 16) {
            seen |= 2;
            CHECK(json_is_true(json_object_get(e, "ranked")));
            CHECK_EQ_INT(json_integer_value(json_object_get(e, "rank")), 1);
            CHECK(json_is_null(json_object_get(e, "unranked")));
        }
    }
    CHECK_EQ_INT(seen, 3);
    json_decref(lb);
    gt_bench_free(b);
    /* The replay: as decided, and not with format 10 from the genesis. */
    replays_only_from(head.height + 1, 10, "block 1: replayed state root"); /* heights moved under blocks */
}

/* A salt of `who`'s for a sealed vote (any 32 secret bytes do). */
static void salt_of(int who, uint8_t salt[32]) {
    char t[16];
    snprintf(t, sizeof t, "salt %d", who);
    gt_keccak256(t, strlen(t), salt);
}

/* `who` sends vote_commit of `commitment` on slot 0 of task (result r);
 * the outcome code. */
static int commit_as(int who, const uint8_t task[32], uint64_t slot, const uint8_t r[32], const uint8_t commitment[32]) {
    gt_action a;
    init(&a, &gt_kind_vote_commit, who);
    gt_action_set_b32(&a, "task", task);
    gt_action_set_u64(&a, "slot", slot);
    gt_action_set_b32(&a, "result", r);
    gt_action_set_b32(&a, "commitment", commitment);
    return submit(who, &a, NULL, 0);
}

/* `who` opens a sealed vote `agree` with eval_reveal carrying co-sign c and
 * salt; the outcome code, the refusal into why. */
static int eval_reveal_as(int who, const uint8_t att_id[32], const cosign_c *c, int agree, const uint8_t salt[32],
                          char why[256]) {
    gt_action a;
    init(&a, &gt_kind_eval_reveal, who);
    gt_work_cosign_fill(&a, att_id, c->checked, agree, c->evidence);
    gt_action_set_b32(&a, "voteSalt", salt);
    return submit(who, &a, why, 256);
}

/* A plain panel vote on slot 0 of task: task_verify (quorum) or
 * dispute_vote; the outcome code, the refusal into why. */
static int plain_vote(int who, const gt_action_kind *k, const uint8_t task[32], const uint8_t r[32], char why[256]) {
    gt_action a;
    init(&a, k, who);
    gt_action_set_b32(&a, "task", task);
    gt_action_set_u64(&a, "slot", 0);
    gt_action_set_b32(&a, "result", r);
    gt_action_set_u64(&a, "accept", 1);
    return submit(who, &a, why, 256);
}

/* The state of slot 0 of task ("?" when unreadable), into out. */
static void slot0_state(const uint8_t task[32], char out[16]) {
    json_t *tv = view(0, task, NULL, 0);
    const char *st = json_string_value(json_object_get(json_array_get(json_object_get(tv, "slotList"), 0), "state"));
    snprintf(out, 16, "%s", st ? st : "?");
    json_decref(tv);
}

/* How many co-signs of attestation id have role `role`. */
static int cosigns_with_role(const uint8_t id[32], const char *role) {
    json_t *av = view(2, id, NULL, 0), *c;
    size_t i;
    int n = 0;
    json_array_foreach(json_object_get(av, "cosignList"), i, c) {
        const char *r = json_string_value(json_object_get(c, "role"));
        n += r && !strcmp(r, role);
    }
    json_decref(av);
    return n;
}

/* A quorum eval task from format 11's height (the round sealed-only), its
 * panel w1, v2 and w2 (the lazy judge): a clear co-sign (the copyable vote)
 * and a plain task_verify are refused before any commitment; w1 commits; its
 * eval_reveal before the commit window is refused; w2 copies w1's
 * commitment byte for byte and v2 commits; w2 cannot open the copy with
 * w1's reveal, v2 cannot reveal another answer than it committed; w1 and
 * v2 open theirs with eval_reveal (co-signs recorded with the verdict role,
 * votes counted), and at the deadline their two thirds of the panel's stake
 * decide: accepted, w2's unrevealed commitment losing its bond (20% of its
 * panel weight, locked at the commitment) to them. */
static void eval_sealed_quorum(const gt_work_eval_spec *es, const gt_bench *b, gt_llm *llm,
                               const gt_work_attestation *att) {
    gt_err err = {0};
    uint8_t task[32], att_id[32], salt[3][32], cm[32];
    enum { S_W1, S_V2, S_W2 };
    char why[256] = "", st[16];
    post_quorum_eval(es, task);
    CHECK_EQ_INT(attest(EVE, task, 0, att, att_id), 0);
    for (int i = 0; i <= GT_MARKET_DRAW_DELAY_BLOCKS; i++) gt_ledger_tick(L, &err); /* the panel is drawn */
    cosign_c c1, c2;
    CHECK_EQ_INT(check_att(es, b, llm, att_id, 31, &c1), 0);
    CHECK_EQ_INT(check_att(es, b, llm, att_id, 32, &c2), 0);
    CHECK_EQ_INT(c1.agree, 1);
    CHECK_EQ_INT(c2.agree, 1);
    gt_action a;
    init(&a, &gt_kind_eval_cosign, W1);
    gt_work_cosign_fill(&a, att_id, c1.checked, 1, c1.evidence);
    CHECK_EQ_INT(submit(W1, &a, why, sizeof why), GT_ESTATE);
    CHECK_CONTAINS(why, "sealed (an eval task's are, from ledger format 11)");
    CHECK_EQ_INT(plain_vote(V2, &gt_kind_task_verify, task, att->results, why), GT_ESTATE);
    CHECK_CONTAINS(why, "sealed");
    salt_of(W1, salt[S_W1]), salt_of(V2, salt[S_V2]), salt_of(W2, salt[S_W2]);
    uint64_t w1_locked = locked(W1);
    gt_market_vote_commitment(1, salt[S_W1], &addrs[W1], task, 0, 0, GT_MARKET_ROUND_VERIFY, cm);
    CHECK_EQ_INT(commit_as(W1, task, 0, att->results, cm), 0);
    CHECK(locked(W1) > w1_locked); /* the judge bond, at the commitment */
    CHECK_EQ_INT(eval_reveal_as(W1, att_id, &c1, 1, salt[S_W1], why), GT_ESTATE);
    CHECK_CONTAINS(why, "only after the commit window closes");
    uint64_t w2_0 = holdings(W2), w2_locked = locked(W2);
    CHECK_EQ_INT(commit_as(W2, task, 0, att->results, cm), 0); /* w1's commitment, copied */
    uint64_t w2_bond = locked(W2) - w2_locked;
    CHECK(w2_bond > 0);
    gt_market_vote_commitment(1, salt[S_V2], &addrs[V2], task, 0, 0, GT_MARKET_ROUND_VERIFY, cm);
    CHECK_EQ_INT(commit_as(V2, task, 0, att->results, cm), 0);
    CHECK_EQ_INT(eval_reveal_as(W2, att_id, &c1, 1, salt[S_W1], why), GT_EPERM); /* every member acted: reveals open */
    CHECK_CONTAINS(why, "does not open the commitment");
    CHECK_EQ_INT(eval_reveal_as(V2, att_id, &c2, 0, salt[S_V2], why), GT_EPERM);
    CHECK_CONTAINS(why, "does not open the commitment");
    CHECK_EQ_INT(eval_reveal_as(W1, att_id, &c1, 1, salt[S_W1], why), 0);
    CHECK_EQ_INT(eval_reveal_as(V2, att_id, &c2, 1, salt[S_V2], why), 0);
    slot0_state(task, st);
    CHECK_STR(st, "submitted"); /* w2's commitment is still sealed: decided at the deadline */
    /* This test's clock stands still: step it to the reveal deadline. */
    for (int i = 0; i < 60 && !strcmp(st, "submitted"); i++) {
        gt_ledger_set_time(L, gt_ledger_now_s(L) + 1);
        gt_ledger_tick(L, &err);
        slot0_state(task, st);
    }
    CHECK_STR(st, "accepted");
    CHECK_EQ_U64(w2_0 - holdings(W2), w2_bond); /* the unrevealed commitment's bond, to the winners */
    CHECK_EQ_INT(cosigns_with_role(att_id, "verdict"), 2); /* w1's and v2's co-signs, with their votes */
}

/* An eval dispute from format 11's height: val (the evaluator, its verdict
 * in the clear as before) rejects eve's honest run, eve disputes; w1's clear
 * co-sign and v2's dispute_vote are refused; w1, v2 and w2 commit, w1 and v2
 * open theirs with eval_reveal (dispute-vote co-signs) and w2 with a plain
 * vote_reveal (its vote counts, no co-sign), and the last reveal decides:
 * eve wins. */
static void eval_sealed_dispute(const gt_work_eval_spec *es, const gt_bench *b, gt_llm *llm,
                                const gt_work_attestation *att, const uint8_t spec_hash[32]) {
    gt_err err = {0};
    gt_action a;
    init(&a, &gt_kind_task_post, ALICE);
    gt_action_set_str(&a, "kind", GT_WORK_KIND_EVAL, strlen(GT_WORK_KIND_EVAL), NULL);
    gt_action_set_b32(&a, "spec", spec_hash);
    gt_action_set_u64(&a, "slots", 1);
    gt_action_set_u64(&a, "bounty", TOK(1));
    gt_action_set_u64(&a, "stake", TOK(1));
    gt_action_set_addr(&a, "verifier", &addrs[VAL]);
    gt_action_set_u64(&a, "claimSeconds", 60);
    gt_action_set_u64(&a, "submitSeconds", 20);
    gt_action_set_u64(&a, "verifySeconds", 20);
    CHECK_EQ_INT(submit(ALICE, &a, NULL, 0), 0);
    uint8_t task[32], att_id[32], salt[32], cm[32];
    char why[256] = "", st[16];
    memcpy(task, a.id, 32);
    CHECK_EQ_INT(attest(EVE, task, 0, att, att_id), 0);
    CHECK_EQ_INT(cosign_as(VAL, att_id, 0), 0); /* the evaluator's verdict: a clear co-sign, as before */
    init(&a, &gt_kind_task_dispute, EVE);
    gt_action_set_b32(&a, "task", task);
    gt_action_set_u64(&a, "slot", 0);
    gt_action_set_b32(&a, "result", att->results);
    CHECK_EQ_INT(submit(EVE, &a, NULL, 0), 0);
    for (int i = 0; i <= GT_MARKET_DRAW_DELAY_BLOCKS; i++) gt_ledger_tick(L, &err); /* the panel is drawn */
    cosign_c c1, c2;
    CHECK_EQ_INT(check_att(es, b, llm, att_id, 41, &c1), 0);
    CHECK_EQ_INT(check_att(es, b, llm, att_id, 42, &c2), 0);
    init(&a, &gt_kind_eval_cosign, W1);
    gt_work_cosign_fill(&a, att_id, c1.checked, c1.agree, c1.evidence);
    CHECK_EQ_INT(submit(W1, &a, why, sizeof why), GT_ESTATE);
    CHECK_CONTAINS(why, "dispute's votes are sealed (an eval task's are, from ledger format 11)");
    CHECK_EQ_INT(plain_vote(V2, &gt_kind_dispute_vote, task, att->results, why), GT_ESTATE);
    const int who[3] = {W1, V2, W2};
    for (int i = 0; i < 3; i++) {
        salt_of(who[i], salt);
        gt_market_vote_commitment(1, salt, &addrs[who[i]], task, 0, 0, GT_MARKET_ROUND_DISPUTE, cm);
        CHECK_EQ_INT(commit_as(who[i], task, 0, att->results, cm), 0);
    }
    salt_of(W1, salt);
    CHECK_EQ_INT(eval_reveal_as(W1, att_id, &c1, 1, salt, why), 0);
    salt_of(V2, salt);
    CHECK_EQ_INT(eval_reveal_as(V2, att_id, &c2, 1, salt, why), 0);
    slot0_state(task, st);
    CHECK_STR(st, "disputed"); /* w2's commitment still sealed */
    init(&a, &gt_kind_vote_reveal, W2);
    gt_action_set_b32(&a, "task", task);
    gt_action_set_u64(&a, "slot", 0);
    gt_action_set_b32(&a, "result", att->results);
    gt_action_set_u64(&a, "accept", 1);
    salt_of(W2, salt);
    gt_action_set_b32(&a, "voteSalt", salt);
    CHECK_EQ_INT(submit(W2, &a, NULL, 0), 0);
    slot0_state(task, st);
    CHECK_MSG(!strcmp(st, "accepted") || !strcmp(st, "paid"), "disputed slot after the last reveal: %s", st);
    CHECK_EQ_INT(cosigns_with_role(att_id, "dispute-vote"), 2);
}

/* Format 11 (issue 10, item 2): from format11_height (moved here to the
 * block after L's head, as the upgrade does) an eval task's panel votes are
 * sealed-only, and a lazy seated judge cannot copy a diligent one's co-sign
 * (eval_sealed_quorum, eval_sealed_dispute); below it test_eval_bonded and
 * test_eval_quorum_seal decided as before (clear co-signs, vote_commit
 * refused). w2 stakes 5 to sit as the lazy judge. The log replays with
 * format 11 from that height, and not with it from the genesis (block 1
 * commits the heights). On the old rules the first clear co-sign was taken
 * and every vote_commit refused (EPERM). */
static void test_eval_sealed(const gt_work_eval_spec *es, const gt_bench *b, gt_llm *llm,
                             const gt_work_attestation *att) {
    gt_err err = {0};
    gt_block head;
    CHECK_EQ_INT(gt_ledger_head(L, &head, &err), 0);
    reopen_format_at(11, head.height + 1);
    gt_action a;
    init(&a, &gt_kind_stake, W2);
    gt_action_set_u64(&a, "amount", TOK(5));
    CHECK_EQ_INT(submit(W2, &a, NULL, 0), 0);
    gt_ledger_tick(L, &err); /* w2's stake is in the accounts table before the panels open */
    eval_sealed_quorum(es, b, llm, att);
    char *spec_text = gt_work_eval_spec_json(es);
    uint8_t spec_hash[32];
    put_blob(spec_text, strlen(spec_text), spec_hash);
    free(spec_text);
    eval_sealed_dispute(es, b, llm, att, spec_hash);
    replays_only_from(head.height + 1, 11, NULL);
}

/* Posts an eval task for spec_hash of `slots` slots verified by val (the
 * evaluator policy): a rejection there may be disputed. */
static void post_evaluator_eval(const uint8_t spec_hash[32], uint64_t slots, uint8_t task[32]) {
    gt_action a;
    init(&a, &gt_kind_task_post, ALICE);
    gt_action_set_str(&a, "kind", GT_WORK_KIND_EVAL, strlen(GT_WORK_KIND_EVAL), NULL);
    gt_action_set_b32(&a, "spec", spec_hash);
    gt_action_set_u64(&a, "slots", slots);
    gt_action_set_u64(&a, "bounty", TOK(1));
    gt_action_set_u64(&a, "stake", TOK(1));
    gt_action_set_addr(&a, "verifier", &addrs[VAL]);
    gt_action_set_u64(&a, "claimSeconds", 60);
    gt_action_set_u64(&a, "submitSeconds", 20);
    gt_action_set_u64(&a, "verifySeconds", 20);
    CHECK_EQ_INT(submit(ALICE, &a, NULL, 0), 0);
    memcpy(task, a.id, 32);
}

/* Format 12: from format12_height (moved here to the block after L's head,
 * as the upgrade does) a clear co-sign that is no verdict nor vote waits
 * while its slot can still come before a panel. On an evaluator's task w1's
 * co-sign of eve's submitted attestation is refused (the verdict may be a
 * rejection that eve disputes, and w1 may be drawn), val's verdict is
 * taken, and once the slot is accepted w1's co-sign is too. On mallory's
 * slot val rejects: w1 is refused until the dispute window closes, then
 * taken. Below the height test_eval's plain co-signs of submitted slots
 * were taken as before. The log replays with format 12 from that height,
 * and not with it from the genesis. On format 11's rules w1's first
 * co-sign was taken (and format12_height does not exist). */
static void test_eval_held(const gt_work_eval_spec *es, const gt_work_attestation *att) {
    gt_err err = {0};
    gt_block head;
    CHECK_EQ_INT(gt_ledger_head(L, &head, &err), 0);
    reopen_format_at(12, head.height + 1);
    char *spec_text = gt_work_eval_spec_json(es);
    uint8_t spec_hash[32], task[32], att_eve[32], att_mal[32];
    put_blob(spec_text, strlen(spec_text), spec_hash);
    free(spec_text);
    post_evaluator_eval(spec_hash, 1, task);
    CHECK_EQ_INT(attest(EVE, task, 0, att, att_eve), 0);
    char why[512] = "", st[16];
    gt_action a;
    init(&a, &gt_kind_eval_cosign, W1);
    gt_work_cosign_fill(&a, att_eve, 1, 1, att->results);
    CHECK_EQ_INT(submit(W1, &a, why, sizeof why), GT_ESTATE);
    CHECK_CONTAINS(why, "eval_cosign in the clear is refused while slot 0 of task");
    CHECK_CONTAINS(why, "can still be judged by a panel (ledger format 12");
    CHECK_CONTAINS(why, "it is submitted: its verdict, due by block time");
    CHECK_CONTAINS(why, "vote sealed (vote_commit, then eval_reveal)");
    CHECK_EQ_INT(cosign_as(VAL, att_eve, 1), 0); /* the evaluator's verdict: in the clear, as before */
    slot0_state(task, st);
    CHECK_STR(st, "accepted");
    CHECK_EQ_INT(cosign_as(W1, att_eve, 1), 0); /* no panel can judge it now */
    post_evaluator_eval(spec_hash, 1, task);
    CHECK_EQ_INT(attest(MALLORY, task, 0, att, att_mal), 0);
    CHECK_EQ_INT(cosign_as(VAL, att_mal, 0), 0);
    CHECK_EQ_INT(cosign_as(W1, att_mal, 0), GT_ESTATE);
    init(&a, &gt_kind_eval_cosign, W1);
    gt_work_cosign_fill(&a, att_mal, 1, 0, att->results);
    CHECK_EQ_INT(submit(W1, &a, why, sizeof why), GT_ESTATE);
    CHECK_CONTAINS(why, "it is rejected and its worker may dispute it until block time");
    for (int i = 0; i <= GT_LEDGER_SHORT_WINDOW_S; i++) { /* this test's clock stands still: step it */
        gt_ledger_set_time(L, gt_ledger_now_s(L) + 1);
        gt_ledger_tick(L, &err);
    }
    CHECK_EQ_INT(cosign_as(W1, att_mal, 0), 0); /* the window closed: no dispute can open */
    CHECK_EQ_INT(cosigns_with_role(att_mal, "cosign"), 1);
    replays_only_from(head.height + 1, 12, NULL);
}

/* Posts ALICE's data job `name` as one task of 2 batches of 4 samples,
 * verified by VAL sample by sample: W1's batch accepted whole, W2's `acc2`
 * of 4 (settled pro rata at once); the task is complete and paid for
 * 4 + acc2 samples. task and job get its ids. */
static void paid_job(const char *name, uint64_t acc2, uint8_t task[32], uint8_t job[32]) {
    assert(acc2 >= 1 && acc2 < 4);
    put_blob(name, strlen(name), job);
    gt_action a;
    init(&a, &gt_kind_task_post, ALICE);
    gt_action_set_str(&a, "kind", GT_WORK_KIND_GENERATE, strlen(GT_WORK_KIND_GENERATE), NULL);
    gt_action_set_b32(&a, "spec", job);
    gt_action_set_u64(&a, "slots", 2);
    gt_action_set_u64(&a, "bounty", TOK(1) / 2);
    gt_action_set_u64(&a, "stake", TOK(1) / 5);
    gt_action_set_addr(&a, "verifier", &addrs[VAL]);
    gt_action_set_u64(&a, "fee", TOK(1) / 10);
    gt_action_set_u64(&a, "claimSeconds", 50);
    gt_action_set_u64(&a, "submitSeconds", 20);
    gt_action_set_u64(&a, "verifySeconds", 20);
    gt_action_set_u64(&a, "batchItems", 4);
    CHECK_EQ_INT(submit(ALICE, &a, NULL, 0), 0);
    memcpy(task, a.id, 32);
    for (int k = 0; k < 2; k++) {
        int w = k ? W2 : W1;
        uint8_t result[32], reason[32];
        put_blob(names[w], strlen(names[w]), result); /* the ledger judges no batch: any blob */
        put_blob("report", 6, reason);
        init(&a, &gt_kind_task_claim, w);
        gt_action_set_b32(&a, "task", task);
        CHECK_EQ_INT(submit(w, &a, NULL, 0), 0);
        init(&a, &gt_kind_task_submit, w);
        gt_action_set_b32(&a, "task", task);
        gt_action_set_u64(&a, "slot", (uint64_t)k);
        gt_action_set_b32(&a, "result", result);
        CHECK_EQ_INT(submit(w, &a, NULL, 0), 0);
        init(&a, &gt_kind_task_verify_partial, VAL);
        gt_action_set_b32(&a, "task", task);
        gt_action_set_u64(&a, "slot", (uint64_t)k);
        gt_action_set_b32(&a, "result", result);
        gt_action_set_u64(&a, "accepted", k ? acc2 : 4);
        gt_action_set_u64(&a, "total", 4);
        gt_action_set_u64(&a, "score", 80);
        gt_action_set_b32(&a, "reason", reason);
        CHECK_EQ_INT(submit(VAL, &a, NULL, 0), 0);
        init(&a, &gt_kind_task_settle, w);
        gt_action_set_b32(&a, "task", task);
        gt_action_set_u64(&a, "slot", (uint64_t)k);
        CHECK_EQ_INT(submit(w, &a, NULL, 0), 0);
    }
    json_t *t = view(0, task, NULL, 0);
    CHECK_STR(json_string_value(json_object_get(t, "status")), "complete");
    json_decref(t);
}

/* ALICE publishes the dataset of job through task claiming `rows`; the
 * outcome code, the refusal's message into why. */
static int publish_rows(const uint8_t task[32], const uint8_t job[32], uint64_t rows, char why[256]) {
    gt_action a;
    uint8_t root[32];
    put_blob("a root", 6, root);
    init(&a, &gt_kind_dataset_publish, ALICE);
    gt_action_set_b32(&a, "task", task);
    gt_action_set_b32(&a, "job", job);
    gt_action_set_b32(&a, "root", root);
    gt_action_set_u64(&a, "rows", rows);
    gt_action_set_b32(&a, "manifest", root);
    why[0] = 0;
    return submit(ALICE, &a, why, 256);
}

/* Format 13: from format13_height (moved here to the block after L's head,
 * as the upgrade does) a dataset's rows are at most the samples its task's
 * paid batches hold. Below it, as format 12 took it, a job that paid for 5
 * samples (4, and 1 of 4 settled pro rata) is published claiming 1,000,000
 * rows; from it the same claim is refused, naming the 5, and so is 6 (the
 * 8 the batches held are not what was paid), while 5 is taken. test_data_job's
 * honest export (7 rows, 4 + 3 paid) is the bound exactly. The log replays
 * with format 13 from that height, and not with it from the genesis (the
 * old claim is refused there, or the heights committed differ). On format
 * 12's rules the claims were taken (format13_height does not exist). */
static void test_dataset_rows(void) {
    uint8_t task[32], job[32];
    char why[256];
    paid_job("old over-claimed job", 1, task, job);
    CHECK_EQ_INT(publish_rows(task, job, 1000000, why), 0); /* format 12's rule: any 1 to 2^24 */
    json_t *d = view(3, job, NULL, 0);
    CHECK_EQ_INT(json_integer_value(json_object_get(d, "rows")), 1000000);
    json_decref(d);
    gt_err err = {0};
    gt_block head;
    CHECK_EQ_INT(gt_ledger_head(L, &head, &err), 0);
    reopen_format_at(13, head.height + 1);
    paid_job("bounded job", 1, task, job);
    CHECK_EQ_INT(publish_rows(task, job, 1000000, why), GT_EINVAL);
    CHECK_CONTAINS(why, "rows: 1000000 is more than the 5 samples task");
    CHECK_CONTAINS(why, "paid batches hold (ledger format 13");
    CHECK_EQ_INT(publish_rows(task, job, 6, why), GT_EINVAL);
    CHECK_EQ_INT(publish_rows(task, job, 5, why), 0);
    d = view(3, job, NULL, 0);
    CHECK_EQ_INT(json_integer_value(json_object_get(d, "rows")), 5);
    json_decref(d);
    replays_only_from(head.height + 1, 13, NULL);
}

static void test_eval(gt_llm *llm) {
    gt_err err = {0};
    gt_bench *b = NULL;
    CHECK_EQ_INT(gt_bench_open("arith-v1", &b, &err), 0);
    if (!b) return;
    /* check 6: every item, the floor min(items, 16) under which a score ranks */
    gt_work_eval_spec es = eval_spec_of(llm, b, 6, 6);
    char *spec_text = gt_work_eval_spec_json(&es);
    gt_work_eval_spec back;
    CHECK_EQ_INT(gt_work_eval_spec_parse(spec_text, strlen(spec_text), &back, &err), 0);
    CHECK(!memcmp(&back, &es, sizeof es));
    uint8_t spec_hash[32];
    put_blob(spec_text, strlen(spec_text), spec_hash);
    free(spec_text);

    gt_action a;
    init(&a, &gt_kind_task_post, ALICE);
    gt_action_set_str(&a, "kind", GT_WORK_KIND_EVAL, strlen(GT_WORK_KIND_EVAL), NULL);
    gt_action_set_b32(&a, "spec", spec_hash);
    gt_action_set_u64(&a, "slots", 3);
    /* mallory, having lost the reopened slot's dispute, claims it again below
     * for a later attestation: the poster allows two claims per worker. */
    gt_action_set_u64(&a, "seatsPerWorker", 2);
    gt_action_set_u64(&a, "bounty", TOK(2));
    gt_action_set_u64(&a, "stake", TOK(1));
    gt_action_set_addr(&a, "verifier", &addrs[VAL]);
    gt_action_set_u64(&a, "fee", 200000);
    gt_action_set_u64(&a, "claimSeconds", 60);
    gt_action_set_u64(&a, "submitSeconds", 20);
    gt_action_set_u64(&a, "verifySeconds", 20);
    CHECK_EQ_INT(submit(ALICE, &a, NULL, 0), 0);
    uint8_t task[32];
    memcpy(task, a.id, 32);

    /* eve: an honest run. */
    gt_buf res = GT_BUF_INIT;
    gt_work_attestation att;
    CHECK_EQ_INT(gt_work_eval_attest(&es, b, llm, &res, &att, &err), 0);
    CHECK_EQ_U64(att.items, 6);
    uint8_t h[32], att_eve[32], att_mal[32];
    put_blob(res.data, res.len, h);
    CHECK(!memcmp(h, att.results, 32));
    CHECK_EQ_INT(attest(EVE, task, 0, &att, att_eve), 0);
    int agree = -1;
    CHECK_EQ_INT(check_and_cosign(V1, &es, b, llm, att_eve, 1, &agree), 0);
    CHECK_EQ_INT(agree, 1);
    CHECK_EQ_INT(check_and_cosign(VAL, &es, b, llm, att_eve, 2, &agree), 0); /* the verdict */
    CHECK_EQ_INT(agree, 1);
    json_t *tv = view(0, task, NULL, 0);
    json_t *s0 = json_array_get(json_object_get(tv, "slotList"), 0);
    CHECK_STR(json_string_value(json_object_get(s0, "state")), "accepted");
    json_decref(tv);
    init(&a, &gt_kind_task_settle, EVE);
    gt_action_set_b32(&a, "task", task);
    gt_action_set_u64(&a, "slot", 0);
    CHECK_EQ_INT(submit(EVE, &a, NULL, 0), 0);
    /* The attestation's page shows the spec's check; its two co-signs
     * re-executed 6 items each, but neither was a drawn judge's vote. */
    json_t *ev = view(2, att_eve, NULL, 0);
    CHECK_EQ_INT(json_integer_value(json_object_get(ev, "check")), 6);
    CHECK_EQ_INT(json_integer_value(json_object_get(json_object_get(ev, "cosigns"), "itemsChecked")), 12);
    CHECK_EQ_INT(json_integer_value(json_object_get(json_object_get(ev, "cosigns"), "backedItemsChecked")), 0);
    json_decref(ev);

    /* mallory: the same run with every item marked correct, and the root
     * and score recomputed so that only re-execution can tell. */
    gt_buf forged = GT_BUF_INIT;
    uint8_t leaves[6][32];
    size_t k = 0;
    for (size_t i = 0; i < res.len;) {
        size_t e = i;
        while (res.data[e] != '\n') e++;
        json_t *o = json_loadb((const char *)res.data + i, e - i, 0, NULL);
        json_object_set_new(o, "exact_match", json_integer(1));
        char *line = gt_json_dump(o);
        json_decref(o);
        gt_keccak256(line, strlen(line), leaves[k++]);
        gt_buf_append_str(&forged, line);
        gt_buf_putc(&forged, '\n');
        free(line);
        i = e + 1;
    }
    CHECK_EQ_U64(k, 6);
    gt_work_attestation fa = att;
    gt_merkle_root((const uint8_t(*)[32])leaves, 6, fa.root);
    fa.score_ppm = 1000000;
    put_blob(forged.data, forged.len, fa.results);
    CHECK(att.score_ppm < 1000000); /* the tiny random model does not solve every item */
    CHECK_EQ_INT(attest(MALLORY, task, 1, &fa, att_mal), 0);
    CHECK_EQ_INT(check_and_cosign(VAL, &es, b, llm, att_mal, 3, &agree), 0); /* verdict: reject */
    CHECK_EQ_INT(agree, 0);
    init(&a, &gt_kind_task_dispute, MALLORY);
    gt_action_set_b32(&a, "task", task);
    gt_action_set_u64(&a, "slot", 1);
    gt_action_set_b32(&a, "result", fa.results);
    CHECK_EQ_INT(submit(MALLORY, &a, NULL, 0), 0);
    uint64_t mal_0 = balance(MALLORY) + locked(MALLORY);
    CHECK_EQ_INT(check_and_cosign(V1, &es, b, llm, att_mal, 4, &agree), 0); /* dispute votes */
    CHECK_EQ_INT(agree, 0);
    CHECK_EQ_INT(check_and_cosign(V2, &es, b, llm, att_mal, 5, &agree), 0);
    CHECK_EQ_INT(agree, 0);
    for (int i = 0; i < GT_LEDGER_SHORT_WINDOW_S; i++) gt_ledger_tick(L, &err);
    tv = view(0, task, NULL, 0);
    json_t *s1 = json_array_get(json_object_get(tv, "slotList"), 1);
    CHECK_STR(json_string_value(json_object_get(s1, "state")), "open");
    CHECK_EQ_INT(json_integer_value(json_object_get(s1, "attempt")), 1); /* reopened for another evaluator */
    json_decref(tv);
    /* mallory lost its stake (1) and its dispute bond (1). */
    CHECK_EQ_U64(mal_0 - balance(MALLORY) - locked(MALLORY), TOK(2));

    json_t *lb = view(1, NULL, "arith-v1", 0);
    json_t *ents = json_object_get(lb, "entries");
    CHECK_EQ_INT(json_array_size(ents), 1);
    json_t *e0 = json_array_get(ents, 0);
    CHECK_STR(json_string_value(json_object_get(e0, "status")), "accepted");
    /* accepted by the task's evaluator and co-signed in plain: no bonded
     * verifier accepted it, so it is listed, unranked (it ranked 1 before) */
    CHECK(json_is_null(json_object_get(e0, "rank")));
    CHECK(json_is_false(json_object_get(e0, "ranked")));
    CHECK_EQ_INT(json_integer_value(json_object_get(e0, "scorePpm")), (json_int_t)att.score_ppm);
    CHECK_EQ_INT(json_integer_value(json_object_get(json_object_get(e0, "cosigns"), "agreed")), 2);
    char eve_s[43];
    gt_addr_to_str(&addrs[EVE], eve_s);
    CHECK_STR(json_string_value(json_object_get(e0, "attester")), eve_s);
    json_decref(lb);
    lb = view(1, NULL, NULL, 1);
    ents = json_object_get(lb, "entries");
    CHECK_EQ_INT(json_array_size(ents), 2);
    e0 = json_array_get(ents, 0); /* the forged one claims 100% */
    CHECK_STR(json_string_value(json_object_get(e0, "status")), "rejected");
    CHECK_EQ_INT(json_integer_value(json_object_get(json_object_get(e0, "cosigns"), "disagreed")), 3);
    json_decref(lb);
    json_t *av = view(2, att_mal, NULL, 0);
    json_t *cl = json_object_get(av, "cosignList");
    CHECK_EQ_INT(json_array_size(cl), 3);
    int votes = 0, verdicts = 0;
    for (size_t i = 0; i < json_array_size(cl); i++) {
        const char *role = json_string_value(json_object_get(json_array_get(cl, i), "role"));
        votes += role && !strcmp(role, "dispute-vote");
        verdicts += role && !strcmp(role, "verdict");
    }
    CHECK_EQ_INT(votes, 2);
    CHECK_EQ_INT(verdicts, 1);
    json_decref(av);

    /* A later attestation of the same (bench, model) with more co-signs by
     * staked validators (val's verdict, v1's and v2's plain co-signs): none
     * of them was drawn or bonded, so none backs it; eve's stands, the later
     * one is listed beside it, not silently put in its place. (Before
     * co-signs had to be bonded votes, two staked co-signs outranked one.) */
    uint8_t att_late[32];
    CHECK_EQ_INT(attest(MALLORY, task, 1, &att, att_late), 0);
    CHECK_EQ_INT(check_and_cosign(VAL, &es, b, llm, att_late, 6, &agree), 0);
    CHECK_EQ_INT(agree, 1);
    CHECK_EQ_INT(check_and_cosign(V2, &es, b, llm, att_late, 7, &agree), 0);
    CHECK_EQ_INT(agree, 1);
    CHECK_EQ_INT(check_and_cosign(V1, &es, b, llm, att_late, 8, &agree), 0);
    CHECK_EQ_INT(agree, 1);
    char mal_s[43];
    gt_addr_to_str(&addrs[MALLORY], mal_s);
    lb = view(1, NULL, "arith-v1", 0);
    e0 = json_array_get(json_object_get(lb, "entries"), 0);
    CHECK_EQ_INT(json_array_size(json_object_get(lb, "entries")), 1);
    CHECK_STR(json_string_value(json_object_get(e0, "attester")), eve_s);
    CHECK_EQ_INT(json_integer_value(json_object_get(json_object_get(e0, "cosigns"), "backed")), 0);
    json_t *others = json_object_get(e0, "others");
    CHECK_EQ_INT(json_array_size(others), 2); /* mallory's forged (rejected) and its later one */
    int late_listed = 0;
    for (size_t i = 0; i < json_array_size(others); i++) {
        json_t *x = json_array_get(others, i);
        late_listed += !strcmp(json_string_value(json_object_get(x, "status")) ?: "", "accepted") &&
                       !strcmp(json_string_value(json_object_get(x, "attester")) ?: "", mal_s) &&
                       json_integer_value(json_object_get(x, "backed")) == 0;
    }
    CHECK_EQ_INT(late_listed, 1);
    json_decref(lb);
    test_eval_bonded(&es, b, llm, task, &att);
    test_eval_quorum_seal(&es, b, llm, &att, spec_hash);
    test_eval_cherry_pick(llm);
    test_eval_check_floor(llm);
    test_eval_sealed(&es, b, llm, &att);
    test_eval_held(&es, &att);
    gt_buf_free(&forged);
    gt_buf_free(&res);
    gt_bench_free(b);
}

/* In a transaction of db, runs damage_sql, then the view what (1 the
 * leaderboard of arith-v1, 2 an attestation, 3 a dataset; id for 2 and 3)
 * must fail with GT_EDB naming want; then rolls the damage back. */
static void expect_damaged_view(sqlite3 *db, const char *damage_sql, int what, const uint8_t *id, const char *want) {
    CHECK_EQ_INT(sqlite3_exec(db, "BEGIN", NULL, NULL, NULL), SQLITE_OK);
    CHECK_MSG(sqlite3_exec(db, damage_sql, NULL, NULL, NULL) == SQLITE_OK, "%s: %s", damage_sql, sqlite3_errmsg(db));
    gt_err err = {0};
    json_t *o = what == 1 ? gt_work_leaderboard(db, "arith-v1", 0, &err)
              : what == 2 ? gt_work_attestation_get(db, id, &err) : gt_work_dataset_get(db, id, &err);
    CHECK_MSG(o == NULL, "%s: the view answered anyway", damage_sql);
    CHECK_EQ_INT(err.code, GT_EDB);
    CHECK_MSG(strstr(err.msg, want) != NULL, "%s: expected \"%s\", got \"%s\"", damage_sql, want, err.msg);
    json_decref(o);
    CHECK_EQ_INT(sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL), SQLITE_OK);
}

/* A damaged attestation row is an error, not a row the leaderboard skips:
 * skipping eve's standing attestation put mallory's later one (listed beside
 * it, backed by nothing) on the board in its place. The same for the slot it
 * stands on, its co-signs and a published dataset. */
static void test_damaged_attestation(const char *path) {
    sqlite3 *db;
    CHECK_EQ_INT(sqlite3_open(path, &db), SQLITE_OK);
    char eve[41], sql[512];
    gt_hex_encode(addrs[EVE].b, 20, eve);
    uint8_t att_eve[32] = {0}, job[32] = {0};
    sqlite3_stmt *q;
    snprintf(sql, sizeof sql, "SELECT id FROM wk_attestations WHERE attester=x'%s' AND slot=0", eve);
    CHECK_EQ_INT(sqlite3_prepare_v2(db, sql, -1, &q, NULL), SQLITE_OK);
    if (sqlite3_step(q) == SQLITE_ROW && sqlite3_column_bytes(q, 0) == 32) memcpy(att_eve, sqlite3_column_blob(q, 0), 32);
    sqlite3_finalize(q);
    CHECK_EQ_INT(sqlite3_prepare_v2(db, "SELECT job FROM wk_datasets", -1, &q, NULL), SQLITE_OK);
    if (sqlite3_step(q) == SQLITE_ROW && sqlite3_column_bytes(q, 0) == 32) memcpy(job, sqlite3_column_blob(q, 0), 32);
    sqlite3_finalize(q);
    gt_err err = {0};
    json_t *lb = gt_work_leaderboard(db, "arith-v1", 0, &err); /* whole: it answers */
    CHECK(lb != NULL);
    json_decref(lb);
    snprintf(sql, sizeof sql, "UPDATE wk_attestations SET model=x'01' WHERE attester=x'%s' AND slot=0", eve);
    expect_damaged_view(db, sql, 1, NULL, "damaged row in table wk_attestations, column model");
    snprintf(sql, sizeof sql, "UPDATE wk_attestations SET score_ppm=2000000 WHERE attester=x'%s'", eve);
    expect_damaged_view(db, sql, 1, NULL, "damaged row in table wk_attestations, column score_ppm");
    expect_damaged_view(db, "UPDATE wk_attestations SET bench=x'00'", 2, att_eve,
                        "damaged row in table wk_attestations, column bench");
    expect_damaged_view(db, "UPDATE mk_slots SET worker=x'01' WHERE slot=0", 1, NULL,
                        "damaged row in table mk_slots, column worker");
    expect_damaged_view(db, "UPDATE mk_votes SET weight='heavy'", 1, NULL, "damaged row in table mk_votes, column");
    expect_damaged_view(db, "UPDATE wk_attestations SET results=x'02'", 2, att_eve,
                        "damaged row in table wk_attestations, column results");
    expect_damaged_view(db, "UPDATE wk_cosigns SET role=9", 2, att_eve, "damaged row in table wk_cosigns, column role");
    char att_hex[65];
    gt_hex_encode(att_eve, 32, att_hex);
    snprintf(sql, sizeof sql, "UPDATE wk_cosigns SET cosigner=x'0102' WHERE attestation=x'%s' AND "
             "cosigner=(SELECT min(cosigner) FROM wk_cosigns WHERE attestation=x'%s')", att_hex, att_hex);
    expect_damaged_view(db, sql, 2, att_eve, "damaged row in table wk_cosigns, column cosigner");
    expect_damaged_view(db, "UPDATE wk_datasets SET root=x'03'", 3, job, "damaged row in table wk_datasets, column root");
    lb = gt_work_leaderboard(db, "arith-v1", 0, &err); /* rolled back: whole again */
    CHECK(lb != NULL);
    json_decref(lb);
    sqlite3_close(db);
}

int main(void) {
    gt_err err = {0};
    CHECK_EQ_INT(gt_work_register(&err), 0);
    char dir[] = "/tmp/gt_marketworkXXXXXX", path[128];
    if (!mkdtemp(dir)) return 1;
    snprintf(path, sizeof path, "%s/ledger.db", dir);
    snprintf(ledger_path, sizeof ledger_path, "%s", path);
    snprintf(blobs, sizeof blobs, "%s/blobs", dir);
    gt_key auth;
    uint8_t priv[32];
    gt_keccak256("authority", 9, priv);
    gt_key_from_bytes(&auth, priv, NULL);
    gt_genesis g = {.chain_id = GT_DEFAULT_CHAIN_ID, .unbonding_blocks = 10, .time_s = 1700000000};
    gt_key_address(&auth, &g.authority);
    for (int i = 0; i < N_ACC; i++) {
        gt_keccak256(names[i], strlen(names[i]), priv);
        gt_key_from_bytes(&keys[i], priv, NULL);
        gt_key_address(&keys[i], &addrs[i]);
    }
    CHECK_EQ_INT(gt_ledger_create(path, &g, &err), 0);
    /* L is made as a format 9 ledger that a writer will upgrade: format 10's
     * to 15's heights far ahead, until test_eval_check_floor moves format
     * 10's to the block after its head, as the upgrade does, test_eval_sealed
     * format 11's, test_eval_held format 12's and test_dataset_rows format
     * 13's (from format 10 every block's state root
     * commits the heights, so they cannot be moved under blocks made with
     * them). */
    sqlite3 *mdb;
    CHECK_EQ_INT(sqlite3_open(path, &mdb), SQLITE_OK);
    CHECK_EQ_INT(sqlite3_exec(mdb, "UPDATE meta SET value=1000000 WHERE key IN ('format10_height','format11_height',"
                              "'format12_height','format13_height','format14_height','format15_height',"
                              "'format16_height')", NULL, NULL, NULL),
                 SQLITE_OK);
    sqlite3_close(mdb);
    CHECK_EQ_INT(gt_ledger_open(path, 0, &L, &err), 0);
    gt_ledger_set_time(L, 1700000000);
    gt_llm *llm = NULL;
    CHECK_EQ_INT(gt_llm_open(gt_fixture(MODEL), 1, 512, &llm, &err), 0);
    if (!L || !llm) return gt_test_finish();
    /* Mints, cards, validators' stakes. */
    gt_action a;
    for (int i = 0; i < N_ACC; i++) {
        gt_action_init(&a, &gt_kind_mint, gt_ledger_domain(L), &g.authority, (uint64_t)i);
        gt_action_set_addr(&a, "to", &addrs[i]);
        gt_action_set_u64(&a, "amount", TOK(50));
        gt_action_sign(&a, &auth, NULL);
        gt_result r;
        gt_ledger_submit(L, &a, 1, &r);
        CHECK_EQ_INT(r.code, 0);
    }
    static const char *const skills[N_ACC] = {NULL, "generate", "generate", "validate", "eval", "eval", NULL, NULL};
    for (int i = 0; i < N_ACC; i++) {
        if (!skills[i]) continue;
        init(&a, &gt_kind_agent_register, i);
        gt_action_set_str(&a, "name", names[i], strlen(names[i]), NULL);
        gt_action_set_str(&a, "skills", skills[i], strlen(skills[i]), NULL);
        gt_action_set_b32(&a, "model", llm->id);
        CHECK_EQ_INT(submit(i, &a, NULL, 0), 0);
    }
    for (int i = V1; i <= V2; i++) {
        init(&a, &gt_kind_stake, i);
        gt_action_set_u64(&a, "amount", TOK(5));
        CHECK_EQ_INT(submit(i, &a, NULL, 0), 0);
    }
    test_data_job(llm);
    test_eval(llm);
    test_dataset_rows();
    /* Books: supply is what was minted, the market's locks add up. */
    CHECK_EQ_U64(gt_ledger_supply(L), TOK(50) * N_ACC);
    view_arg va = {9, NULL, NULL, 0, {{0}}, NULL};
    CHECK_EQ_INT(gt_ledger_read(L, read_view, &va, &err), 0);
    gt_ledger_close(L);
    gt_llm_free(llm);
    gt_verify_report rep;
    CHECK_EQ_INT(gt_ledger_verify(path, &rep, NULL, NULL, &err), 0);
    CHECK_EQ_U64(rep.supply, TOK(50) * N_ACC);
    /* The CLI's leaderboard over the same ledger (when the binary is built). */
    if (access(GT_CLI, X_OK) == 0) {
        char cmd[600], out[8192];
        snprintf(cmd, sizeof cmd, "%s eval leaderboard --home %s --bench arith-v1 --json 2>&1", GT_CLI, dir);
        FILE *pf = popen(cmd, "r");
        size_t n = pf ? fread(out, 1, sizeof out - 1, pf) : 0;
        out[n] = 0;
        CHECK(pf && pclose(pf) == 0);
        char eve_s[43];
        gt_addr_to_str(&addrs[EVE], eve_s);
        CHECK_CONTAINS(out, eve_s);
        CHECK_CONTAINS(out, "\"status\":\"accepted\"");
        snprintf(cmd, sizeof cmd, "%s eval leaderboard --home %s --all 2>&1", GT_CLI, dir);
        pf = popen(cmd, "r");
        n = pf ? fread(out, 1, sizeof out - 1, pf) : 0;
        out[n] = 0;
        CHECK(pf && pclose(pf) == 0);
        CHECK_CONTAINS(out, "rejected");
        CHECK_CONTAINS(out, "1.000000");
        /* eve's evaluator-accepted entry is listed unranked: its rank reads "-", not 0. */
        CHECK(strstr(out, "\n-    ") != NULL);
        CHECK(strstr(out, "\n0    ") == NULL);
        /* ...and the table says why, as the JSON's "unranked" does. */
        CHECK_CONTAINS(out, "\n     not ranked: no drawn, bonded judge's vote backs it");
        snprintf(cmd, sizeof cmd, "%s eval leaderboard --home %s/nowhere 2>&1", GT_CLI, dir);
        pf = popen(cmd, "r");
        n = pf ? fread(out, 1, sizeof out - 1, pf) : 0;
        out[n] = 0;
        CHECK(pf && WEXITSTATUS(pclose(pf)) == 1);
        CHECK_CONTAINS(out, "no ledger at");
    } else {
        fprintf(stderr, "note: %s not built; the CLI leaderboard was not exercised\n", GT_CLI);
    }
    test_damaged_attestation(path);
    /* A co-sign count edited after the fact is caught by the replay. */
    sqlite3 *db;
    CHECK_EQ_INT(sqlite3_open(path, &db), SQLITE_OK);
    CHECK_EQ_INT(sqlite3_exec(db, "UPDATE wk_attestations SET agreed=agreed+5", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    CHECK(gt_ledger_verify(path, &rep, NULL, NULL, &err) != 0);
    CHECK_CONTAINS(err.msg, "wk_attestations");
    char cmd[160];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0) return 1;
    return gt_test_finish();
}
