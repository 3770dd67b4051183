/* work.c: registering the work layer with the ledger (its action kinds and
 * its tables), the helpers its rules share, and the dataset_publish rule.
 *
 * Tables (prefixed wk_, WITHOUT ROWID keyed by what identifies a row, so a
 * replay into a fresh store produces identical rows; `gotong ledger verify`
 * compares them):
 *   wk_attestations(id)               eval_attest rows, with co-sign counters
 *   wk_cosigns(attestation, cosigner) eval_cosign rows
 *   wk_datasets(job)                  dataset_publish rows
 *
 * dataset_publish (task, job, root, rows, manifest): the Merkle root of a
 * data job's dataset, so anyone holding a copy can check it
 * (gt_dataset_verify against the root read from the ledger).
 * Rules and what they answer:
 *  - Only the job's poster: the poster of the first `generate` task posted
 *    with `job` as its spec (lowest posted height, then task id), through
 *    `task`, one of its own complete tasks of that job. Being the poster of
 *    some task of the job is not enough: anyone can post a task naming a
 *    known spec, publish a bogus root first and lock the real poster out
 *    forever (the squat this rule closes). The spec's id is unknown to
 *    others until the poster's task is on the ledger, so the first task is
 *    the poster's; a spec already used by someone else is someone else's
 *    job (change its name or seed for a new one).
 *  - Once per job: a root that could be replaced later would let a
 *    publisher swap the data under everyone who checked it. A new version
 *    is a new job.
 *  - root, job and manifest non-zero, 1 <= rows <= GT_WORK_DATASET_MAX_ROWS
 *    (the Merkle tree's leaf limit): a record must be checkable.
 *  - From ledger format 13 (format13_height), rows <= the samples the
 *    task's paid batches hold (gt_market_task_paid_units: a batch paid
 *    whole its batchItems, one settled pro rata the samples its verdict
 *    accepted; none for a task posted without batchItems). Listings, the
 *    leaderboard, funding rounds and users read `rows`; before, a poster
 *    could claim 1,000,000 rows for a task that paid for 16 samples. Every
 *    row an honest export holds is an accepted sample of a paid batch (the
 *    agent's publication re-validates each paid batch and keeps a batch
 *    only when it accepts as many samples as the verdict paid for), so the
 *    bound never refuses one. Blocks before that height replay under the
 *    old rule.
 * The ledger cannot see the rows, so it records the poster's claim, bounded
 * by what was paid; what makes it trustworthy is that the manifest
 * (provenance.json) names every row's contributor, model, seed and
 * validators' verdicts with its Merkle proof, and every sample's batch was
 * paid on the ledger. */
#include "work/work.h"

#include <assert.h>
#include <stdio.h>

#include "base/hex.h"
#include "crypto/addr.h"
#include "ledger/block.h"
#include "market/market.h"
#include "work/work_impl.h"

static const char work_schema_sql[] =
    "CREATE TABLE IF NOT EXISTS wk_attestations(id BLOB PRIMARY KEY, attester BLOB NOT NULL, task BLOB NOT NULL,"
    " slot INTEGER NOT NULL, attempt INTEGER NOT NULL, model BLOB NOT NULL, bench TEXT NOT NULL,"
    " bench_hash BLOB NOT NULL, results_root BLOB NOT NULL, score_ppm INTEGER NOT NULL, items INTEGER NOT NULL,"
    " results BLOB NOT NULL, height INTEGER NOT NULL, agreed INTEGER NOT NULL, disagreed INTEGER NOT NULL,"
    " checked INTEGER NOT NULL) WITHOUT ROWID;"
    "CREATE INDEX IF NOT EXISTS wk_attestations_bench ON wk_attestations(bench, score_ppm);"
    "CREATE TABLE IF NOT EXISTS wk_cosigns(attestation BLOB NOT NULL, cosigner BLOB NOT NULL,"
    " items_checked INTEGER NOT NULL, agree INTEGER NOT NULL, evidence BLOB NOT NULL, height INTEGER NOT NULL,"
    " role INTEGER NOT NULL, PRIMARY KEY(attestation, cosigner)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS wk_datasets(job BLOB PRIMARY KEY, task BLOB NOT NULL, publisher BLOB NOT NULL,"
    " root BLOB NOT NULL, rows INTEGER NOT NULL, manifest BLOB NOT NULL, height INTEGER NOT NULL) WITHOUT ROWID;";

static const gt_ledger_module work_module = {"work", work_schema_sql, NULL, NULL, NULL, NULL, NULL};

/* The work layer's own kinds: what gt_work_register adds to the market's,
 * and what gt_work_kind answers for. */
static gt_action_kind *const work_kinds[] = {&gt_kind_eval_attest, &gt_kind_eval_cosign, &gt_kind_eval_reveal,
                                             &gt_kind_dataset_publish};
#define N_WORK_KINDS (sizeof work_kinds / sizeof work_kinds[0])

int gt_work_register(gt_err *err) {
    int rc = gt_market_register(err);
    for (size_t i = 0; !rc && i < N_WORK_KINDS; i++) rc = gt_action_register(work_kinds[i], err);
    return rc ? rc : gt_ledger_register_module(&work_module, err);
}

/* See work.h. */
int gt_work_kind(const gt_action_kind *k) {
    for (size_t i = 0; k && i < N_WORK_KINDS; i++)
        if (work_kinds[i] == k) return 1;
    return 0;
}

int wk_finish(wk_ctx *c, int rc) {
    if (!rc && c->diff.len) gt_tx_commit(c->tx, c->diff.data, c->diff.len);
    gt_buf_free(&c->diff);
    return rc;
}

int wk_apply_market(gt_tx *tx, gt_action *a, gt_err *err) {
    assert(a->kind && a->kind->apply);
    return a->kind->apply(tx, a, err);
}

int wk_prepare(sqlite3 *db, const char *sql, sqlite3_stmt **q, gt_err *err) {
    if (sqlite3_prepare_v2(db, sql, -1, q, NULL) != SQLITE_OK) {
        *q = NULL;
        return gt_err_set(err, GT_EDB, "work store: %s", sqlite3_errmsg(db));
    }
    return 0;
}

int wk_is_zero32(const uint8_t b[32]) {
    uint8_t acc = 0;
    for (int i = 0; i < 32; i++) acc |= b[i];
    return acc == 0;
}

const char *wk_short(const uint8_t id[32], char out[19]) {
    out[0] = '0', out[1] = 'x';
    gt_hex_encode(id, 8, out + 2);
    return out;
}

/* ---- dataset_publish ---- */

static const gt_field_def publish_fields[] = {
    {"task", GT_F_BYTES32, 0},
    {"job", GT_F_BYTES32, 0},
    {"root", GT_F_BYTES32, 0},
    {"rows", GT_F_U64, 0},
    {"manifest", GT_F_BYTES32, 0},
};
enum { DP_TASK, DP_JOB, DP_ROOT, DP_ROWS, DP_MANIFEST };

/* The job's poster: the poster of the first generate task whose spec is
 * job (the market's table, read only): a search of mk_tasks_spec (format 9)
 * and a sort of that spec's tasks alone, where it read every task posted
 * before the job's first. */
static int job_poster(sqlite3 *db, const uint8_t job[32], gt_addr *out, gt_err *err) {
    sqlite3_stmt *q;
    int rc = wk_prepare(db, "SELECT poster FROM mk_tasks WHERE spec=? AND kind=? ORDER BY posted_height, id LIMIT 1",
                        &q, err);
    if (rc) return rc;
    sqlite3_bind_blob(q, 1, job, 32, SQLITE_STATIC);
    sqlite3_bind_text(q, 2, GT_WORK_KIND_GENERATE, -1, SQLITE_STATIC);
    rc = sqlite3_step(q);
    if (rc == SQLITE_ROW && sqlite3_column_bytes(q, 0) == 20) memcpy(out->b, sqlite3_column_blob(q, 0), 20);
    else if (rc == SQLITE_ROW) rc = SQLITE_CORRUPT;
    sqlite3_finalize(q);
    char h[19];
    if (rc == SQLITE_DONE) return gt_err_set(err, GT_ENOTFOUND, "no data job task has spec %s…", wk_short(job, h));
    if (rc != SQLITE_ROW) return gt_err_set(err, GT_EDB, "reading the job's first task: %s", sqlite3_errmsg(db));
    return 0;
}

/* From format 13: refuses rows beyond the samples the task's paid batches
 * hold (see the file comment). A read of the task's own slots by key (at
 * most GT_MARKET_MAX_SLOTS), after the poster's checks, so nobody else can
 * make the writer do it. Blocks before format13_height replay without it. */
static int rows_paid_check(gt_tx *tx, const gt_action *a, gt_err *err) {
    if (tx->height < tx->format13_height) return 0;
    uint64_t rows = a->f[DP_ROWS].u64, paid = 0;
    int rc = gt_market_task_paid_units(tx->db, a->f[DP_TASK].b32, &paid, err);
    if (rc || rows <= paid) return rc;
    char h[19];
    wk_short(a->f[DP_TASK].b32, h);
    if (!paid)
        return gt_err_set(err, GT_EINVAL, "rows: task %s… paid for no sample the ledger can count (no batch of it "
                          "was paid, or it was posted without batchItems), so it has no rows to publish (ledger "
                          "format 13)", h);
    return gt_err_set(err, GT_EINVAL, "rows: %llu is more than the %llu samples task %s…'s paid batches hold "
                      "(ledger format 13: a dataset's rows are accepted samples of its task's paid batches)",
                      (unsigned long long)rows, (unsigned long long)paid, h);
}

/* dataset_publish: checks the fields, the poster and the job, refuses a
 * second root for the job and (format 13) more rows than were paid for,
 * records the row. */
static int publish_rule(wk_ctx *c, const gt_action *a, gt_err *err) {
    gt_tx *tx = c->tx;
    char h[19], s[43];
    if (wk_is_zero32(a->f[DP_JOB].b32)) return gt_err_set(err, GT_EINVAL, "job: expected the job's spec id, got zero");
    if (wk_is_zero32(a->f[DP_ROOT].b32)) return gt_err_set(err, GT_EINVAL, "root: expected the dataset's Merkle root, got zero");
    if (wk_is_zero32(a->f[DP_MANIFEST].b32))
        return gt_err_set(err, GT_EINVAL, "manifest: expected the sha256 of the dataset's provenance blob, got zero");
    uint64_t rows = a->f[DP_ROWS].u64;
    if (rows < 1 || rows > GT_WORK_DATASET_MAX_ROWS)
        return gt_err_set(err, GT_EINVAL, "rows must be 1 to %u, got %llu", GT_WORK_DATASET_MAX_ROWS, (unsigned long long)rows);
    gt_market_slot_ref ref;
    int rc = gt_market_slot_ref_get(tx->db, a->f[DP_TASK].b32, 0, &ref, err);
    if (rc) return rc;
    if (memcmp(ref.spec, a->f[DP_JOB].b32, 32))
        return gt_err_set(err, GT_EINVAL, "task %s… was posted for another spec: it is not a task of job %s…",
                          wk_short(a->f[DP_TASK].b32, h), wk_short(a->f[DP_JOB].b32, s));
    if (strcmp(ref.kind, GT_WORK_KIND_GENERATE))
        return gt_err_set(err, GT_EINVAL, "task %s… is a %s task, not a data job (%s)", wk_short(a->f[DP_TASK].b32, h),
                          ref.kind, GT_WORK_KIND_GENERATE);
    if (ref.task_status != GT_TASK_COMPLETE)
        return gt_err_set(err, GT_ESTATE, "task %s… is not complete: publish once every batch is settled",
                          wk_short(a->f[DP_TASK].b32, h));
    /* The task's poster first: finding the job's first task reads the tasks
     * posted before it, which anyone naming another's task must not make
     * the writer do for free. */
    if (!gt_addr_eq(&a->from, &ref.poster)) {
        gt_addr_to_str(&a->from, s);
        return gt_err_set(err, GT_EPERM, "only the job's poster (who posted its first task) may publish its dataset: "
                          "%s did not post task %s…", s, wk_short(a->f[DP_TASK].b32, h));
    }
    gt_addr owner;
    if ((rc = job_poster(tx->db, a->f[DP_JOB].b32, &owner, err))) return rc;
    if (!gt_addr_eq(&a->from, &owner)) {
        gt_addr_to_str(&owner, s);
        return gt_err_set(err, GT_EPERM, "only the job's poster %s (who posted its first task) may publish its dataset", s);
    }
    sqlite3_stmt *q;
    if ((rc = wk_prepare(tx->db, "SELECT height, root FROM wk_datasets WHERE job=?", &q, err))) return rc;
    sqlite3_bind_blob(q, 1, a->f[DP_JOB].b32, 32, SQLITE_STATIC);
    if (sqlite3_step(q) == SQLITE_ROW) {
        char root[19] = "?";
        if (sqlite3_column_bytes(q, 1) == 32) wk_short(sqlite3_column_blob(q, 1), root);
        rc = gt_err_set(err, GT_EEXIST, "the dataset of job %s… was already published at height %lld (root %s…)",
                        wk_short(a->f[DP_JOB].b32, h), (long long)sqlite3_column_int64(q, 0), root);
    }
    sqlite3_finalize(q);
    if (rc || (rc = rows_paid_check(tx, a, err))) return rc;
    if ((rc = wk_prepare(tx->db, "INSERT INTO wk_datasets VALUES(?,?,?,?,?,?,?)", &q, err))) return rc;
    sqlite3_bind_blob(q, 1, a->f[DP_JOB].b32, 32, SQLITE_STATIC);
    sqlite3_bind_blob(q, 2, a->f[DP_TASK].b32, 32, SQLITE_STATIC);
    sqlite3_bind_blob(q, 3, a->from.b, 20, SQLITE_STATIC);
    sqlite3_bind_blob(q, 4, a->f[DP_ROOT].b32, 32, SQLITE_STATIC);
    sqlite3_bind_int64(q, 5, (int64_t)rows);
    sqlite3_bind_blob(q, 6, a->f[DP_MANIFEST].b32, 32, SQLITE_STATIC);
    sqlite3_bind_int64(q, 7, (int64_t)tx->height);
    rc = sqlite3_step(q);
    sqlite3_finalize(q);
    if (rc != SQLITE_DONE) return gt_err_set(err, GT_EDB, "writing dataset: %s", sqlite3_errmsg(tx->db));
    if (gt_buf_putc(&c->diff, WK_REC_DATASET) || wk_rec_bytes(c, a->f[DP_JOB].b32, 32) ||
        wk_rec_bytes(c, a->f[DP_TASK].b32, 32) || wk_rec_bytes(c, a->from.b, 20) || wk_rec_bytes(c, a->f[DP_ROOT].b32, 32) ||
        wk_rec_u64(c, rows) || wk_rec_bytes(c, a->f[DP_MANIFEST].b32, 32) || wk_rec_u64(c, tx->height))
        return gt_err_set(err, GT_ENOMEM, "out of memory");
    return 0;
}

/* The kind's apply: runs the rule, keeps its commitment bytes only on success. */
static int apply_publish(gt_tx *tx, const gt_action *a, gt_err *err) {
    wk_ctx c = {tx, GT_BUF_INIT};
    return wk_finish(&c, publish_rule(&c, a, err));
}

gt_action_kind gt_kind_dataset_publish = {"dataset_publish", "DatasetPublish", publish_fields, 5, apply_publish, 1,
                                          {0}, {0}, 0};
