/* check.c: the open-time consistency check of a ledger (see check.h). */
#include "ledger/check.h"

#include <assert.h>
#include <string.h>

#include "base/alloc.h"
#include "base/limits.h"
#include "ledger/block_rows.h"
#include "ledger/seed.h"

/* Walk state: the action cursor and the previous block. */
typedef struct walk {
    sqlite3 *db;
    sqlite3_stmt *qb, *qa;
    int a_rc;            /* last sqlite3_step of qa: SQLITE_ROW while one is pending */
    gt_action *a;
    uint8_t (*ids)[32];
    size_t ids_cap;
    gt_block prev;
    const gt_domain *dom;
} walk;

/* Copies a 32-byte column or reports the block as damaged. */
static int col32(sqlite3_stmt *q, int col, uint8_t out[32]) {
    if (sqlite3_column_type(q, col) != SQLITE_BLOB || sqlite3_column_bytes(q, col) != 32) return -1;
    memcpy(out, sqlite3_column_blob(q, col), 32);
    return 0;
}

/* The checks on a header alone and on its link to the previous block. */
static int check_header(walk *w, const gt_genesis *g, const gt_block *b, gt_err *err) {
    unsigned long long h = (unsigned long long)b->height;
    gt_block r = *b;
    gt_block_hash(&r);
    if (memcmp(r.hash, b->hash, 32))
        return gt_err_set(err, GT_EINVAL, "block %llu: its stored hash is not the hash of its header", h);
    if (b->height == 0) {
        gt_block gb = {.time_s = g->time_s};
        memcpy(gb.seed, b->seed, 32); /* the chain's anchors: made from the node's secret */
        memcpy(gb.seed_anchor, b->seed_anchor, 32);
        gt_genesis_state_root(g->chain_id, &g->authority, g->unbonding_blocks, g->time_s, &g->windows,
                              gb.state_root);
        gt_block_empty_digest(gb.state_digest);
        gt_block_hash(&gb);
        if (memcmp(gb.hash, b->hash, 32))
            return gt_err_set(err, GT_EINVAL, "block 0: the genesis block does not match the genesis parameters");
        return 0;
    }
    if (memcmp(b->prev, w->prev.hash, 32))
        return gt_err_set(err, GT_EINVAL, "block %llu: does not link to block %llu (prev hash differs)", h, h - 1);
    if (b->time_s < w->prev.time_s)
        return gt_err_set(err, GT_EINVAL, "block %llu: its time %llu is before block %llu's (%llu)", h,
                          (unsigned long long)b->time_s, h - 1, (unsigned long long)w->prev.time_s);
    return gt_seed_check(b->height, w->prev.seed, w->prev.seed_anchor, b->seed, b->seed_anchor, err);
}

/* Reads the actions stored for block b (the cursor is on its first one),
 * recomputing each id, and checks them against the header. */
static int check_actions(walk *w, const gt_block *b, gt_err *err) {
    unsigned long long h = (unsigned long long)b->height;
    if (b->n_actions > w->ids_cap) {
        void *p = gt_realloc(w->ids, (size_t)b->n_actions * 32);
        if (!p) return gt_err_set(err, GT_ENOMEM, "out of memory");
        w->ids = p;
        w->ids_cap = b->n_actions;
    }
    uint32_t k = 0;
    for (; w->a_rc == SQLITE_ROW; w->a_rc = sqlite3_step(w->qa)) {
        sqlite3_stmt *q = w->qa;
        int64_t ah = sqlite3_column_int64(q, 0);
        if (ah < 0 || (uint64_t)ah < b->height)
            return gt_err_set(err, GT_EINVAL, "block %llu: an action of block %lld is stored after it", h, (long long)ah);
        if ((uint64_t)ah > b->height) break;
        if (k >= b->n_actions)
            return gt_err_set(err, GT_EINVAL, "block %llu: holds more actions than its header counts (%u)", h, b->n_actions);
        if (sqlite3_column_int64(q, 1) != k)
            return gt_err_set(err, GT_EINVAL, "block %llu: action %u is stored at index %lld", h, k, (long long)sqlite3_column_int64(q, 1));
        gt_err derr = {0};
        if (gt_action_decode(sqlite3_column_blob(q, 5), (size_t)sqlite3_column_bytes(q, 5), w->dom->salt, w->a, &derr))
            return gt_err_set(err, GT_EINVAL, "block %llu: action %u is damaged (%s)", h, k, derr.msg);
        if (w->a->chain_id != w->dom->chain_id)
            return gt_err_set(err, GT_EINVAL, "block %llu: action %u names chain %llu", h, k, (unsigned long long)w->a->chain_id);
        uint8_t id[32];
        if (col32(q, 2, id) || memcmp(id, w->a->id, 32) || sqlite3_column_bytes(q, 3) != 20 ||
            memcmp(sqlite3_column_blob(q, 3), w->a->from.b, 20) || (uint64_t)sqlite3_column_int64(q, 4) != w->a->nonce)
            return gt_err_set(err, GT_EINVAL, "block %llu: action %u does not match its stored id, sender or nonce "
                              "(it was changed after it was applied)", h, k);
        memcpy(w->ids[k++], id, 32);
    }
    if (w->a_rc != SQLITE_ROW && w->a_rc != SQLITE_DONE)
        return gt_err_set(err, GT_EDB, "block %llu: reading its actions: %s", h, sqlite3_errmsg(w->db));
    if (k != b->n_actions)
        return gt_err_set(err, GT_EINVAL, "block %llu: its header counts %u actions, the log holds %u", h, b->n_actions, k);
    uint8_t root[32];
    gt_block_actions_root(w->ids, k, root);
    if (memcmp(root, b->actions_root, 32))
        return gt_err_set(err, GT_EINVAL, "block %llu: its actions do not have the actions root its header commits to", h);
    return 0;
}

/* Walks every block with its actions; fills *head with the last one. */
static int check_chain(walk *w, const gt_genesis *g, gt_block *head, gt_err *err) {
    int rc, b_rc;
    uint64_t want = 0;
    w->a_rc = sqlite3_step(w->qa);
    while ((b_rc = sqlite3_step(w->qb)) == SQLITE_ROW) {
        gt_block b;
        gt_err rerr = {0};
        if (gt_block_row_from(w->qb, &b, &rerr) || b.n_actions > GT_LIMIT_BLOCK_ACTIONS)
            return gt_err_set(err, GT_EINVAL, "block %llu: its header is damaged (%s)",
                              (unsigned long long)sqlite3_column_int64(w->qb, 0),
                              rerr.msg[0] ? rerr.msg : "more actions than a block may hold");
        if (b.height != want)
            return gt_err_set(err, GT_EINVAL, "block %llu: missing (the next stored block is %llu)",
                              (unsigned long long)want, (unsigned long long)b.height);
        if ((rc = check_header(w, g, &b, err)) || (rc = check_actions(w, &b, err))) return rc;
        w->prev = b;
        want++;
    }
    if (b_rc != SQLITE_DONE) return gt_err_set(err, GT_EDB, "reading blocks: %s", sqlite3_errmsg(w->db));
    if (want == 0) return gt_err_set(err, GT_EINVAL, "block 0: missing (the ledger has no genesis block)");
    if (w->a_rc == SQLITE_ROW)
        return gt_err_set(err, GT_EINVAL, "block %llu: actions of block %lld are stored beyond the head",
                          (unsigned long long)w->prev.height, (long long)sqlite3_column_int64(w->qa, 0));
    *head = w->prev;
    return 0;
}

/* The head's state digest and supply conservation against the tables. */
static int check_state(sqlite3 *db, const gt_block *head, gt_digest_acc *acc, gt_err *err) {
    unsigned long long h = (unsigned long long)head->height;
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(db, "SELECT value FROM meta WHERE key='supply'", -1, &q, NULL) != SQLITE_OK)
        return gt_err_set(err, GT_EDB, "reading supply: %s", sqlite3_errmsg(db));
    int s = sqlite3_step(q);
    int64_t supply = s == SQLITE_ROW ? sqlite3_column_int64(q, 0) : -1;
    sqlite3_finalize(q);
    if (s != SQLITE_ROW && s != SQLITE_DONE) return gt_err_set(err, GT_EDB, "reading supply: %s", sqlite3_errmsg(db));
    if (supply < 0) return gt_err_set(err, GT_EINVAL, "block %llu (the head): the stored supply is missing or negative", h);
    uint64_t buckets;
    int overflow, rc = gt_digest_scan(db, acc, &buckets, &overflow, err);
    if (!rc) rc = gt_digest_scan_tables(db, acc, err);
    if (rc) return rc;
    uint8_t d[32];
    gt_digest_final(acc, (uint64_t)supply, d);
    if (memcmp(d, head->state_digest, 32))
        return gt_err_set(err, GT_EINVAL, "block %llu (the head): the state on disk is not the state it commits to "
                          "(an account, escrow lock, unbonding entry, the supply or a row of a module's table -- "
                          "the market's tasks, slots, stakes, panels, votes, disputes -- was changed outside the "
                          "rules)", h);
    if (overflow || buckets != (uint64_t)supply)
        return gt_err_set(err, GT_EINVAL, "block %llu (the head): accounts hold %llu units but supply is %lld", h,
                          (unsigned long long)buckets, (long long)supply);
    return 0;
}

int gt_ledger_check(sqlite3 *db, const gt_genesis *g, const gt_domain *dom, gt_digest_acc *acc, gt_err *err) {
    walk w = {.db = db, .dom = dom};
    gt_block head;
    int rc = 0;
    w.a = gt_malloc(sizeof *w.a);
    if (!w.a) return gt_err_set(err, GT_ENOMEM, "out of memory");
    if (sqlite3_prepare_v2(db, "SELECT height,hash,prev,actions_root,state_root,time,n_actions,state_digest,"
                               "seed,seed_anchor FROM blocks ORDER BY height", -1, &w.qb, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db, "SELECT height,idx,id,sender,nonce,body FROM actions ORDER BY seq", -1, &w.qa,
                           NULL) != SQLITE_OK)
        rc = gt_err_set(err, GT_EDB, "reading the log: %s", sqlite3_errmsg(db));
    if (!rc) rc = check_chain(&w, g, &head, err);
    sqlite3_finalize(w.qb);
    sqlite3_finalize(w.qa);
    gt_free(w.ids);
    gt_free(w.a);
    if (!rc) rc = check_state(db, &head, acc, err);
    return rc;
}
