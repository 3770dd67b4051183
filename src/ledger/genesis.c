/* genesis.c: the genesis parameters of a ledger (chain id, authority,
 * unbonding period, time, the dispute/vote/reveal windows, the seed chain's
 * secret): creating a ledger file with its genesis block, loading the
 * parameters back from meta at open and checking them against what the
 * genesis block commits to, and the signing domain they fix. */
#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "ledger/block_rows.h"
#include "ledger/ledger_impl.h"
#include "ledger/rules.h"

/* The windows a genesis gives its network: a 0 stands for
 * GT_LEDGER_SHORT_WINDOW_S (what tests and the demo leave unset). */
static gt_windows genesis_windows(const gt_genesis *g) {
    gt_windows w = g->windows;
    if (!w.dispute_s) w.dispute_s = GT_LEDGER_SHORT_WINDOW_S;
    if (!w.vote_s) w.vote_s = GT_LEDGER_SHORT_WINDOW_S;
    if (!w.reveal_s) w.reveal_s = GT_LEDGER_SHORT_WINDOW_S;
    return w;
}

/* Refuses a window out of [GT_LEDGER_WINDOW_MIN_S, GT_LEDGER_WINDOW_MAX_S],
 * naming it (`what`) and saying where the bad value came from (`from`). */
static int window_check(const char *what, uint64_t v, const char *from, gt_err *err) {
    if (v >= GT_LEDGER_WINDOW_MIN_S && v <= GT_LEDGER_WINDOW_MAX_S) return 0;
    return gt_err_set(err, GT_EINVAL, "%s%s window must be %d to %d seconds of block time, got %llu", from, what,
                      GT_LEDGER_WINDOW_MIN_S, GT_LEDGER_WINDOW_MAX_S, (unsigned long long)v);
}

/* Checks the three windows of w (resolved: no 0 stands for a default). */
static int windows_check(const gt_windows *w, const char *from, gt_err *err) {
    int rc = window_check("dispute", w->dispute_s, from, err);
    if (!rc) rc = window_check("vote", w->vote_s, from, err);
    if (!rc) rc = window_check("reveal", w->reveal_s, from, err);
    return rc;
}

/* Builds the genesis block exactly as gt_ledger_create does, for the seed
 * chain of `secret`. */
static void genesis_block(const gt_genesis *g, const uint8_t secret[32], gt_block *b) {
    memset(b, 0, sizeof *b);
    b->time_s = g->time_s;
    gt_seed_genesis(secret, b->seed, b->seed_anchor);
    gt_windows w = genesis_windows(g);
    gt_genesis_state_root(g->chain_id, &g->authority, g->unbonding_blocks, g->time_s, &w, b->state_root);
    gt_block_empty_digest(b->state_digest);
    gt_block_hash(b);
}

/* The secret of the seed chain: the caller's, or 32 bytes from the OS when
 * it gave none (all zero). */
static int seed_secret(const gt_genesis *g, uint8_t out[32], gt_err *err) {
    static const uint8_t zero[32];
    if (memcmp(g->seed_secret, zero, 32)) {
        memcpy(out, g->seed_secret, 32);
        return 0;
    }
    if (getrandom(out, 32, 0) != 32)
        return gt_err_set(err, GT_EIO, "cannot draw the ledger's seed secret: %s", strerror(errno));
    return 0;
}

/* Writes the genesis parameters (w: the resolved windows) and the format
 * into meta, inside the caller's transaction. */
static int put_genesis_meta(sqlite3 *db, const gt_genesis *g, const gt_windows *w, const uint8_t secret[32],
                            gt_err *err) {
    const struct { const char *key; uint64_t v; } rows[] = {
        {"version", GT_LEDGER_FORMAT}, {"chain_id", g->chain_id}, {"unbonding_blocks", g->unbonding_blocks},
        {"genesis_time", g->time_s}, {"supply", 0}, {"dispute_window_s", w->dispute_s},
        {"vote_window_s", w->vote_s}, {"reveal_window_s", w->reveal_s}, {"ids_seq", 0},
        {"format9_height", 0}, /* format 9's rules from the first block (gt_genesis) */
        {"format10_height", 0}, /* and format 10's */
        {"format11_height", 0}, /* and format 11's */
        {"format12_height", 0}, /* and format 12's */
        {"format13_height", 0}, /* and format 13's */
        {"format14_height", 0}, /* and format 14's */
        {"format15_height", 0}, /* and format 15's */
        {"format16_height", 0}, /* and format 16's */
    };
    int rc;
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
        if ((rc = gt_ledger_meta_put_u64(db, rows[i].key, rows[i].v, err))) return rc;
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(db, "INSERT INTO meta VALUES('authority',?),('seed_secret',?)", -1, &q, NULL))
        return gt_err_set(err, GT_EDB, "meta: %s", sqlite3_errmsg(db));
    sqlite3_bind_blob(q, 1, g->authority.b, 20, SQLITE_STATIC);
    sqlite3_bind_blob(q, 2, secret, 32, SQLITE_STATIC);
    int s = sqlite3_step(q);
    sqlite3_finalize(q);
    return s == SQLITE_DONE ? 0 : gt_err_set(err, GT_EDB, "meta: %s", sqlite3_errmsg(db));
}

/* Creates the file at path (refusing an existing one) with its schema, the
 * genesis parameters in meta and the genesis block; removes it on failure. */
int gt_ledger_create(const char *path, const gt_genesis *g, gt_err *err) {
    int rc = gt_rules_register(err);
    if (rc) return rc;
    if (access(path, F_OK) == 0)
        return gt_err_set(err, GT_EEXIST, "a ledger already exists at %s", path);
    if (g->chain_id == 0) return gt_err_set(err, GT_EINVAL, "chain id must not be 0");
    if (g->unbonding_blocks < GT_LEDGER_MIN_UNBONDING_BLOCKS)
        return gt_err_set(err, GT_EINVAL, "unbonding period must be at least %d block%s, got %llu",
                          GT_LEDGER_MIN_UNBONDING_BLOCKS, GT_LEDGER_MIN_UNBONDING_BLOCKS == 1 ? "" : "s",
                          (unsigned long long)g->unbonding_blocks);
    gt_windows w = genesis_windows(g);
    if ((rc = windows_check(&w, "the ", err))) return rc;
    uint8_t secret[32];
    if ((rc = seed_secret(g, secret, err))) return rc;
    sqlite3 *db;
    if ((rc = gt_ledger_open_db(path, 0, &db, err))) return rc;
    gt_block b;
    genesis_block(g, secret, &b);
    sqlite3_stmt *ins = NULL;
    if ((rc = gt_ledger_exec(db, "BEGIN", err)) || (rc = gt_ledger_create_schema(db, err)) ||
        (rc = put_genesis_meta(db, g, &w, secret, err)))
        goto fail;
    if ((rc = gt_block_row_put(db, &ins, &b, err)) || (rc = gt_ledger_exec(db, "COMMIT", err))) goto fail;
    sqlite3_finalize(ins);
    sqlite3_close(db);
    return 0;
fail:
    sqlite3_finalize(ins);
    sqlite3_close(db);
    unlink(path);
    return rc;
}

/* The first height under format `format`'s rules (gt_genesis.format9_height,
 * format10_height to format16_height; meta key `key`) of a store of `version`: from meta for
 * that format on (0, or the block after the head when a writer upgraded it),
 * none (UINT64_MAX) for an older store, opened read-only as it is. */
static int load_format_height(gt_ledger *l, uint64_t version, uint64_t format, const char *key, uint64_t *out,
                              gt_err *err) {
    *out = UINT64_MAX;
    return version >= format ? gt_ledger_meta_get(l, key, out, NULL, 0, err) : 0;
}

/* Refuses a store of `version`: what the file is, what this gotong writes
 * and how to proceed, then what each format up to GT_LEDGER_FORMAT_OLDEST
 * changed after it (the changes no writer's open can make, which are why a
 * new ledger is needed), then the later formats up to this one by number
 * only, pointing to the README's list: a line for each grew the message
 * past GT_ERR_MSG_MAX by format 13, and what they changed is no reason to
 * make a new ledger (a store of one of them is upgraded in place). The
 * message is the same length whatever format comes next (test_ledger_genesis
 * checks it whole). */
static int format_refused(uint64_t version, gt_err *err) {
    static const char *const changed[] = {
        [4] = "format 4 fixed the dispute, vote and reveal windows at genesis",
        [5] = "format 5 reindexed slot deadlines",
        [6] = "format 6 dropped the market's index of slots by worker",
    };
    _Static_assert(sizeof changed / sizeof changed[0] == GT_LEDGER_FORMAT_OLDEST + 1, "one line per format no "
                   "writer's open upgrades to");
    if (version > GT_LEDGER_FORMAT)
        return gt_err_set(err, GT_EUNSUPPORTED,
                          "ledger format %llu is newer than this gotong's (format %d): open it with the gotong "
                          "that made it, or a newer one",
                          (unsigned long long)version, GT_LEDGER_FORMAT);
    assert(version < GT_LEDGER_FORMAT_OLDEST);
    char msg[GT_ERR_MSG_MAX];
    size_t n = (size_t)snprintf(msg, sizeof msg,
                                "ledger format %llu is not supported (this gotong writes format %d and upgrades %d to "
                                "%d in place; make a new ledger with `gotong init`)",
                                (unsigned long long)version, GT_LEDGER_FORMAT, GT_LEDGER_FORMAT_OLDEST,
                                GT_LEDGER_FORMAT - 1);
    const char *sep = "; since: ";
    for (uint64_t f = version + 1; f <= GT_LEDGER_FORMAT_OLDEST; f++) {
        if (!changed[f]) continue;
        n += (size_t)snprintf(msg + n, sizeof msg - n, "%s%s", sep, changed[f]);
        sep = ", ";
    }
    snprintf(msg + n, sizeof msg - n, "; then formats %d to %d (README.md lists what each changed)",
             GT_LEDGER_FORMAT_OLDEST + 1, GT_LEDGER_FORMAT);
    return gt_err_set(err, GT_EUNSUPPORTED, "%s", msg);
}

/* Reads the genesis parameters from meta, refusing another format (but the
 * older ones a writer's open upgrades, read-only: for writing it upgraded
 * them already) or a window out of bounds. */
int gt_ledger_load_genesis(gt_ledger *l, gt_genesis *g, gt_err *err) {
    int rc;
    uint64_t version;
    if ((rc = gt_ledger_meta_get(l, "version", &version, NULL, 0, err))) return rc;
    int older = version >= GT_LEDGER_FORMAT_OLDEST && version < GT_LEDGER_FORMAT;
    if (version != GT_LEDGER_FORMAT && !(l->readonly && older)) return format_refused(version, err);
    if ((rc = gt_ledger_meta_get(l, "chain_id", &g->chain_id, NULL, 0, err)) ||
        (rc = gt_ledger_meta_get(l, "unbonding_blocks", &g->unbonding_blocks, NULL, 0, err)) ||
        (rc = gt_ledger_meta_get(l, "genesis_time", &g->time_s, NULL, 0, err)) ||
        (rc = gt_ledger_meta_get(l, "dispute_window_s", &g->windows.dispute_s, NULL, 0, err)) ||
        (rc = gt_ledger_meta_get(l, "vote_window_s", &g->windows.vote_s, NULL, 0, err)) ||
        (rc = gt_ledger_meta_get(l, "reveal_window_s", &g->windows.reveal_s, NULL, 0, err)) ||
        (rc = gt_ledger_meta_get(l, "authority", NULL, g->authority.b, 20, err)) ||
        (rc = load_format_height(l, version, 9, "format9_height", &g->format9_height, err)) ||
        (rc = load_format_height(l, version, 10, "format10_height", &g->format10_height, err)) ||
        (rc = load_format_height(l, version, 11, "format11_height", &g->format11_height, err)) ||
        (rc = load_format_height(l, version, 12, "format12_height", &g->format12_height, err)) ||
        (rc = load_format_height(l, version, 13, "format13_height", &g->format13_height, err)) ||
        (rc = load_format_height(l, version, 14, "format14_height", &g->format14_height, err)) ||
        (rc = load_format_height(l, version, 15, "format15_height", &g->format15_height, err)) ||
        (rc = load_format_height(l, version, 16, "format16_height", &g->format16_height, err)))
        return rc;
    return windows_check(&g->windows, "the ledger's stored ", err);
}

/* Every open (read-only ones too) checks that the genesis parameters in meta
 * are the ones the genesis block commits to: one hash, so a window or any
 * other parameter edited in the file is refused before a rule reads it. */
int gt_ledger_genesis_matches(const gt_genesis *g, const gt_block *genesis, gt_err *err) {
    uint8_t root[32];
    gt_genesis_state_root(g->chain_id, &g->authority, g->unbonding_blocks, g->time_s, &g->windows, root);
    if (memcmp(root, genesis->state_root, 32) || genesis->height != 0)
        return gt_err_set(err, GT_EINVAL, "the ledger's genesis parameters (chain id, authority, unbonding period, "
                          "time, windows) are not the ones its genesis block commits to: the file was changed "
                          "outside the rules");
    return 0;
}

/* The domain of the ledger g would create: its genesis block's hash as salt. */
void gt_genesis_domain(const gt_genesis *g, gt_domain *out) {
    gt_block b;
    genesis_block(g, g->seed_secret, &b);
    out->chain_id = g->chain_id;
    memcpy(out->salt, b.hash, 32);
}
