/* fund.c: registering the fund module with the ledger (its action kinds and
 * tables) and the helpers its rules share.
 *
 * Tables (prefixed fd_, WITHOUT ROWID keyed by what identifies a row, so a
 * replay into a fresh store produces identical rows; every one is in the
 * state digest as a module table (ledger/digest_tables.c), so a row edited
 * by hand is refused when the ledger opens and by `gotong ledger verify`):
 *   fd_rounds(id)                      funding rounds and their outcome
 *   fd_projects(round, idx)            projects entered, their totals and match
 *   fd_contribs(round, contributor, project)  summed contributions
 *   fd_nullifiers(round, nullifier)    which address each human acts as in a round
 *   fd_issuers(addr)                   proof-of-human issuers
 *   fd_issuer_exits(addr)              an issuer that left: when, when its bond is free, withdrawn
 *   fd_issuer_left(addr)               the block time of an issuer's leave (format 15)
 *   fd_humans(subject, issuer)         attestations
 *   fd_human_same(addr, other)         "addr is the same human as other", signed by addr
 *   fd_issuer_slashes(issuer, first, second)  an issuer slashed for a proven duplicate pair
 *   fd_slot_points(task, slot)         paid slots already counted for points
 *   fd_points(epoch, account)          points per epoch
 *   fd_payer_points(epoch, payer)      points a poster's paid work gave in an epoch (format 10)
 *   fd_epochs(epoch)                   an epoch's airdrop pool, root and state
 *   fd_epoch_funds(epoch, funder)      what each funder put in an epoch's pool (format 14)
 *   fd_leaves(epoch, idx)              a closed epoch's claims */
#include "fund/fund.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>

#include "base/hex.h"
#include "crypto/addr.h"
#include "crypto/keccak.h"
#include "fund/fund_impl.h"
#include "fund/label.h"
#include "fund/qf.h"
#include "ledger/block.h"
#include "ledger/row.h"
#include "work/work.h"

static const char fund_schema_sql[] =
    "CREATE TABLE IF NOT EXISTS fd_rounds(id BLOB PRIMARY KEY, creator BLOB NOT NULL, name TEXT NOT NULL,"
    " rule INTEGER NOT NULL, pool INTEGER NOT NULL, pairwise_m INTEGER NOT NULL, start_s INTEGER NOT NULL,"
    " end_s INTEGER NOT NULL, created_height INTEGER NOT NULL, status INTEGER NOT NULL, projects INTEGER NOT NULL,"
    " contribs INTEGER NOT NULL, contributed INTEGER NOT NULL, matched INTEGER NOT NULL,"
    " remainder INTEGER NOT NULL, finalized_height INTEGER NOT NULL) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS fd_projects(round BLOB NOT NULL, idx INTEGER NOT NULL, kind INTEGER NOT NULL,"
    " ref BLOB NOT NULL, payee BLOB NOT NULL, contributed INTEGER NOT NULL, contributors INTEGER NOT NULL,"
    " match INTEGER NOT NULL, PRIMARY KEY(round, idx)) WITHOUT ROWID;"
    "CREATE UNIQUE INDEX IF NOT EXISTS fd_projects_ref ON fd_projects(round, ref);"
    "CREATE TABLE IF NOT EXISTS fd_contribs(round BLOB NOT NULL, contributor BLOB NOT NULL,"
    " project INTEGER NOT NULL, amount INTEGER NOT NULL, PRIMARY KEY(round, contributor, project)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS fd_nullifiers(round BLOB NOT NULL, nullifier BLOB NOT NULL, addr BLOB NOT NULL,"
    " PRIMARY KEY(round, nullifier)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS fd_issuers(addr BLOB PRIMARY KEY, name TEXT NOT NULL,"
    " registered_height INTEGER NOT NULL) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS fd_issuer_exits(addr BLOB PRIMARY KEY, leave_height INTEGER NOT NULL,"
    " release_height INTEGER NOT NULL, withdrawn INTEGER NOT NULL) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS fd_issuer_left(addr BLOB PRIMARY KEY, left_s INTEGER NOT NULL) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS fd_humans(subject BLOB NOT NULL, issuer BLOB NOT NULL, person BLOB NOT NULL,"
    " weight_ppm INTEGER NOT NULL, expires_s INTEGER NOT NULL, revoked INTEGER NOT NULL, height INTEGER NOT NULL,"
    " PRIMARY KEY(subject, issuer)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS fd_slot_points(task BLOB NOT NULL, slot INTEGER NOT NULL, worker BLOB NOT NULL,"
    " epoch INTEGER NOT NULL, points INTEGER NOT NULL, PRIMARY KEY(task, slot)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS fd_points(epoch INTEGER NOT NULL, account BLOB NOT NULL, points INTEGER NOT NULL,"
    " PRIMARY KEY(epoch, account)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS fd_payer_points(epoch INTEGER NOT NULL, payer BLOB NOT NULL,"
    " points INTEGER NOT NULL, PRIMARY KEY(epoch, payer)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS fd_epochs(epoch INTEGER PRIMARY KEY, funder BLOB NOT NULL, pool INTEGER NOT NULL,"
    " status INTEGER NOT NULL, root BLOB NOT NULL, total_points INTEGER NOT NULL, leaves INTEGER NOT NULL,"
    " claimed INTEGER NOT NULL) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS fd_epoch_funds(epoch INTEGER NOT NULL, funder BLOB NOT NULL,"
    " amount INTEGER NOT NULL, PRIMARY KEY(epoch, funder)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS fd_leaves(epoch INTEGER NOT NULL, idx INTEGER NOT NULL, account BLOB NOT NULL,"
    " amount INTEGER NOT NULL, claimed INTEGER NOT NULL, PRIMARY KEY(epoch, idx)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS fd_human_same(addr BLOB NOT NULL, other BLOB NOT NULL, height INTEGER NOT NULL,"
    " PRIMARY KEY(addr, other)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS fd_issuer_slashes(issuer BLOB NOT NULL, first BLOB NOT NULL, second BLOB NOT NULL,"
    " amount INTEGER NOT NULL, height INTEGER NOT NULL, PRIMARY KEY(issuer, first, second)) WITHOUT ROWID;";

static const gt_ledger_module fund_module = {"fund", fund_schema_sql, NULL, gt_fund_check, NULL, NULL, NULL};

int gt_fund_register(gt_err *err) {
    static gt_action_kind *const kinds[] = {
        &gt_kind_fund_round_create,   &gt_kind_fund_round_enter,      &gt_kind_fund_contribute,
        &gt_kind_fund_round_finalize, &gt_kind_human_issuer_register, &gt_kind_human_attest,
        &gt_kind_human_revoke,        &gt_kind_points_record,         &gt_kind_airdrop_fund,
        &gt_kind_airdrop_close,       &gt_kind_airdrop_claim,         &gt_kind_human_same,
        &gt_kind_human_issuer_leave,  &gt_kind_human_issuer_withdraw};
    int rc = gt_work_register(err);
    for (size_t i = 0; !rc && i < sizeof kinds / sizeof kinds[0]; i++) rc = gt_action_register(kinds[i], err);
    if (!rc) rc = gt_ledger_register_module(&fund_module, err);
    return rc ? rc : gt_fund_label_register(err);
}

int gt_fund_rec_u64(fd_ctx *c, uint64_t v) {
    uint8_t b[8];
    for (int i = 7; i >= 0; i--) {
        b[i] = (uint8_t)v;
        v >>= 8;
    }
    return gt_buf_append(&c->diff, b, 8);
}

int gt_fund_rec_bytes(fd_ctx *c, const void *p, size_t n) { return gt_buf_append(&c->diff, p, n); }

int gt_fund_finish(fd_ctx *c, int rc) {
    if (!rc && c->diff.len) gt_tx_commit(c->tx, c->diff.data, c->diff.len);
    gt_buf_free(&c->diff);
    return rc;
}

int gt_fund_prepare(sqlite3 *db, const char *sql, sqlite3_stmt **q, gt_err *err) {
    if (sqlite3_prepare_v2(db, sql, -1, q, NULL) != SQLITE_OK) {
        *q = NULL;
        return gt_err_set(err, GT_EDB, "fund store: %s", sqlite3_errmsg(db));
    }
    return 0;
}

int gt_fund_exec_done(sqlite3 *db, sqlite3_stmt *q, const char *what, gt_err *err) {
    int rc = sqlite3_step(q);
    sqlite3_finalize(q);
    return rc == SQLITE_DONE ? 0 : gt_err_set(err, GT_EDB, "%s: %s", what, sqlite3_errmsg(db));
}

int gt_fund_is_zero32(const uint8_t b[32]) {
    uint8_t acc = 0;
    for (int i = 0; i < 32; i++) acc |= b[i];
    return acc == 0;
}

const char *gt_fund_short(const uint8_t id[32], char out[19]) {
    out[0] = '0', out[1] = 'x';
    gt_hex_encode(id, 8, out + 2);
    return out;
}

const char *gt_fund_addr(const gt_addr *a, char out[43]) {
    gt_addr_to_str(a, out);
    return out;
}

int gt_fund_staked(gt_tx *tx, sqlite3 *db, const gt_addr *who, uint64_t *staked, gt_err *err) {
    if (tx) {
        gt_account acc;
        int rc = gt_state_account(tx, who, &acc, err);
        if (!rc) *staked = acc.staked;
        return rc;
    }
    sqlite3_stmt *q;
    int rc = gt_fund_prepare(db, "SELECT staked FROM accounts WHERE addr=?", &q, err);
    if (rc) return rc;
    sqlite3_bind_blob(q, 1, who->b, 20, SQLITE_STATIC);
    *staked = 0;
    int s = sqlite3_step(q);
    if (s == SQLITE_ROW)
        rc = gt_row_amount(q, 0, staked, "accounts", err);
    else if (s != SQLITE_DONE)
        rc = gt_err_set(err, GT_EDB, "reading an issuer's stake: %s", sqlite3_errmsg(db));
    sqlite3_finalize(q);
    return rc;
}

/* A statement for sql: the tx's cached one inside a rule (finalize reads a
 * weight per contributor: preparing each time would cost more than the
 * query), else a fresh one for a reader. Give it back with stmt_done. */
static int stmt_get(gt_tx *tx, sqlite3 *db, const char *sql, sqlite3_stmt **q, gt_err *err) {
    return tx ? gt_tx_stmt(tx, sql, q, err) : gt_fund_prepare(db, sql, q, err);
}
static void stmt_done(gt_tx *tx, sqlite3_stmt *q) {
    if (tx) gt_tx_stmt_done(tx, q);
    else sqlite3_finalize(q);
}

void gt_fund_issuer_bond_id(const gt_addr *issuer, uint8_t out[32]) {
    static const char tag[] = "gotong.fund.issuer-bond";
    gt_keccak k;
    gt_keccak_init(&k);
    gt_keccak_update(&k, tag, sizeof tag - 1);
    gt_keccak_update(&k, issuer->b, 20);
    gt_keccak_final(&k, out);
}

/* The amount in issuer's bond lock: through tx's state cache inside a rule
 * (the lock may have changed in this block), else from db's locks table. */
static int bond_amount(gt_tx *tx, sqlite3 *db, const gt_addr *issuer, uint64_t *amount, gt_err *err) {
    uint8_t id[32];
    gt_fund_issuer_bond_id(issuer, id);
    *amount = 0;
    if (tx) {
        gt_lock l;
        int rc = gt_state_lock_get(tx, id, &l, err);
        if (rc == GT_ENOTFOUND) return gt_err_clear(err), 0;
        if (!rc) *amount = l.amount;
        return rc;
    }
    sqlite3_stmt *q;
    int rc = gt_fund_prepare(db, "SELECT amount FROM locks WHERE id=?", &q, err);
    if (rc) return rc;
    sqlite3_bind_blob(q, 1, id, 32, SQLITE_STATIC);
    int s = sqlite3_step(q);
    if (s == SQLITE_ROW) rc = gt_row_amount(q, 0, amount, "locks", err);
    else if (s != SQLITE_DONE) rc = gt_err_set(err, GT_EDB, "reading an issuer's bond: %s", sqlite3_errmsg(db));
    sqlite3_finalize(q);
    return rc;
}

int gt_fund_issuer_read(gt_tx *tx, sqlite3 *db, const gt_addr *who, fd_issuer *out, gt_err *err) {
    sqlite3_stmt *q;
    memset(out, 0, sizeof *out);
    if (tx) db = tx->db;
    int rc = stmt_get(tx, db,
                      "SELECT 1, e.leave_height, e.release_height, e.withdrawn FROM fd_issuers i"
                      " LEFT JOIN fd_issuer_exits e ON e.addr=i.addr WHERE i.addr=?",
                      &q, err);
    if (rc) return rc;
    sqlite3_bind_blob(q, 1, who->b, 20, SQLITE_STATIC);
    int s = sqlite3_step(q);
    if (s == SQLITE_ROW) {
        out->registered = 1;
        out->left = sqlite3_column_type(q, 1) != SQLITE_NULL;
        if (out->left && ((rc = gt_row_amount(q, 1, &out->leave_height, "fd_issuer_exits", err)) ||
                          (rc = gt_row_amount(q, 2, &out->release_height, "fd_issuer_exits", err)) ||
                          (rc = gt_row_int(q, 3, &out->withdrawn, "fd_issuer_exits", err)))) {}
    } else if (s != SQLITE_DONE) {
        rc = gt_err_set(err, GT_EDB, "reading issuers: %s", sqlite3_errmsg(db));
    }
    stmt_done(tx, q);
    if (!rc && out->registered) rc = bond_amount(tx, db, who, &out->bond, err);
    return rc;
}

/* Whether a left issuer's leave is to count at at_s (*left): from format 15
 * only when its block time (fd_issuer_left, written from format 15's
 * height) is before at_s; a leave made before format 15 has no time and
 * always counts. Inside a rule (tx). */
static int left_by(gt_tx *tx, const gt_addr *issuer, uint64_t at_s, int *left, gt_err *err) {
    sqlite3_stmt *q;
    uint64_t left_s = 0;
    *left = 1;
    int rc = stmt_get(tx, tx->db, "SELECT left_s FROM fd_issuer_left WHERE addr=?", &q, err);
    if (rc) return rc;
    sqlite3_bind_blob(q, 1, issuer->b, 20, SQLITE_STATIC);
    int s = sqlite3_step(q);
    if (s == SQLITE_ROW && !(rc = gt_row_amount(q, 0, &left_s, "fd_issuer_left", err))) *left = left_s < at_s;
    else if (s != SQLITE_ROW && s != SQLITE_DONE)
        rc = gt_err_set(err, GT_EDB, "reading issuers' leaves: %s", sqlite3_errmsg(tx->db));
    stmt_done(tx, q);
    assert(rc || *left || left_s >= at_s);
    return rc;
}

/* Does issuer vouch: registered, not left, bonded at least the minimum? In a
 * round (in_round, from format 15) "not left" is "not left before at_s, the
 * round's endS": a leave between endS and finalize took its subjects'
 * weight out of a round already over (test_fund_attacks test_leave_in_gap).
 * Anywhere else (label seats, points, the CLI's view) it is "now". */
static int issuer_good(gt_tx *tx, sqlite3 *db, const gt_addr *issuer, uint64_t at_s, int in_round, int *good,
                       gt_err *err) {
    fd_issuer is;
    int rc = gt_fund_issuer_read(tx, db, issuer, &is, err);
    int left = is.left;
    if (!rc && left && in_round && tx && tx->height >= tx->format15_height) rc = left_by(tx, issuer, at_s, &left, err);
    *good = !rc && is.registered && !left && is.bond >= GT_FUND_ISSUER_MIN_STAKE;
    return rc;
}

/* Whether who recorded the nullifier of (issuer, person) in scope (*yes). */
static int nullifier_held(gt_tx *tx, sqlite3 *db, const gt_addr *who, const gt_addr *issuer, const uint8_t person[32],
                          const uint8_t scope[32], int *yes, gt_err *err) {
    uint8_t nul[32];
    sqlite3_stmt *q;
    gt_fund_nullifier(issuer, person, scope, nul);
    int rc = stmt_get(tx, db, "SELECT 1 FROM fd_nullifiers WHERE round=? AND nullifier=? AND addr=?", &q, err);
    if (rc) return rc;
    sqlite3_bind_blob(q, 1, scope, 32, SQLITE_STATIC);
    sqlite3_bind_blob(q, 2, nul, 32, SQLITE_STATIC);
    sqlite3_bind_blob(q, 3, who->b, 20, SQLITE_STATIC);
    int s = sqlite3_step(q);
    *yes = s == SQLITE_ROW;
    if (s != SQLITE_ROW && s != SQLITE_DONE) rc = gt_err_set(err, GT_EDB, "reading nullifiers: %s", sqlite3_errmsg(db));
    stmt_done(tx, q);
    return rc;
}

int gt_fund_human_weight_tx(gt_tx *tx, sqlite3 *db, const gt_addr *who, uint64_t at_s, uint32_t *weight_ppm,
                            gt_err *err) {
    return gt_fund_human_weight_in(tx, db, who, at_s, NULL, weight_ppm, err);
}

int gt_fund_human_weight_in(gt_tx *tx, sqlite3 *db, const gt_addr *who, uint64_t at_s, const uint8_t *scope,
                            uint32_t *weight_ppm, gt_err *err) {
    sqlite3_stmt *q;
    *weight_ppm = 0;
    if (tx) db = tx->db;
    /* in a round (scope, from format 14) a revocation at or after at_s (the
     * round's endS: revoked holds its block time) leaves the weight as it
     * stood at the window's end; revoked = 1 (human_same, older) always counts */
    int rc = stmt_get(tx, db,
                      scope ? "SELECT issuer, weight_ppm, person FROM fd_humans WHERE subject=?"
                              " AND (revoked=0 OR revoked>=?2) AND expires_s>?2 ORDER BY weight_ppm DESC, issuer"
                            : "SELECT issuer, weight_ppm, person FROM fd_humans WHERE subject=? AND revoked=0"
                              " AND expires_s>? ORDER BY weight_ppm DESC, issuer",
                      &q, err);
    if (rc) return rc;
    sqlite3_bind_blob(q, 1, who->b, 20, SQLITE_STATIC);
    sqlite3_bind_int64(q, 2, (int64_t)at_s);
    int s = SQLITE_DONE;
    while (!rc && (s = sqlite3_step(q)) == SQLITE_ROW) {
        gt_addr issuer;
        uint64_t w;
        int good = 0;
        if ((rc = gt_row_blob(q, 0, issuer.b, 20, "fd_humans", err)) || (rc = gt_row_u64(q, 1, &w, "fd_humans", err)))
            break;
        if (w > GT_FUND_WEIGHT_ONE) {
            rc = gt_row_damaged(q, 1, "fd_humans", "a weight of at most 1000000 ppm", err);
            break;
        }
        if ((rc = issuer_good(tx, db, &issuer, at_s, scope != NULL, &good, err))) break;
        if (good && scope) { /* only an attestation this address acted under in scope */
            uint8_t person[32];
            if ((rc = gt_row_blob(q, 2, person, 32, "fd_humans", err)) ||
                (rc = nullifier_held(tx, db, who, &issuer, person, scope, &good, err)))
                break;
        }
        if (good) {
            *weight_ppm = (uint32_t)w;
            break;
        } /* rows come heaviest first */
    }
    if (!rc && s != SQLITE_ROW && s != SQLITE_DONE)
        rc = gt_err_set(err, GT_EDB, "reading attestations: %s", sqlite3_errmsg(db));
    stmt_done(tx, q);
    return rc;
}

int gt_fund_human_weight(sqlite3 *db, const gt_addr *who, uint64_t at_s, uint32_t *weight_ppm, gt_err *err) {
    return gt_fund_human_weight_tx(NULL, db, who, at_s, weight_ppm, err);
}

void gt_fund_nullifier(const gt_addr *issuer, const uint8_t person[32], const uint8_t round[32], uint8_t out[32]) {
    static const char tag[] = "gotong.fund.nullifier";
    gt_keccak k;
    gt_keccak_init(&k);
    gt_keccak_update(&k, tag, sizeof tag - 1);
    gt_keccak_update(&k, issuer->b, 20);
    gt_keccak_update(&k, person, 32);
    gt_keccak_update(&k, round, 32);
    gt_keccak_final(&k, out);
}

void gt_fund_epoch_lock_id(uint64_t epoch, uint8_t out[32]) {
    static const char tag[] = "gotong.fund.epoch";
    uint8_t b[8];
    for (int i = 7; i >= 0; i--) {
        b[i] = (uint8_t)epoch;
        epoch >>= 8;
    }
    gt_keccak k;
    gt_keccak_init(&k);
    gt_keccak_update(&k, tag, sizeof tag - 1);
    gt_keccak_update(&k, b, 8);
    gt_keccak_final(&k, out);
}

json_t *gt_fund_j_hex(const uint8_t *b, size_t n) {
    char s[2 * 32 + 3] = "0x";
    assert(n <= 32);
    gt_hex_encode(b, n, s + 2);
    return json_string(s);
}

json_t *gt_fund_j_addr(const gt_addr *a) {
    char s[43];
    gt_addr_to_str(a, s);
    return json_string(s);
}

json_t *gt_fund_j_amt(uint64_t v) {
    char s[24];
    snprintf(s, sizeof s, "%llu", (unsigned long long)v);
    return json_string(s);
}

void gt_fund_j_put(json_t *o, const char *key, json_t *v, int *bad) {
    if (!v || json_object_set_new(o, key, v)) *bad = 1;
}
