/* test_ledger_genesis.c: the windows a party must act within (dispute, vote,
 * reveal) are genesis parameters of each network:
 *  - stored at create, read back at open, given to the rules in every block
 *    (tx->windows); a 0 at create is the short window of tests (5 s);
 *  - bounds checked at create, with a message naming the window and bounds;
 *  - fixed for good: a window edited in the file is refused by every open
 *    (read-only ones too) and by `ledger verify`, and so is one edited
 *    together with a genesis block rebuilt to match it (block 1 no longer
 *    links to it); a stored window out of bounds is named as such;
 *  - a ledger of the format before (3, no windows) is refused, saying why. */
#include <sqlite3.h>

#include "../test.h"
#include "ledger_util.h"
#include "ledger/block.h"
#include "ledger/block_rows.h"
#include "ledger/ledger_impl.h"

#define CHAIN_ID 4242

static gt_key K[2];
static gt_addr A[2];
static char dir[64], path[128], good[160];

/* Runs SQL on the ledger file directly, as someone editing it by hand. */
static void edit(const char *sql) { CHECK_EQ_INT(tledger_exec(path, sql), 0); }

/* Puts the good file back (no WAL is left: the ledger was closed). */
static void restore(void) { CHECK_EQ_INT(tledger_copy(good, path), 0); }

/* Reads tx->windows inside a block of the open ledger (what the rules see). */
static int read_windows(void *arg, gt_tx *tx, gt_err *err) {
    (void)err;
    *(gt_windows *)arg = tx->windows;
    return 0;
}

/* A person's network: windows of 700, 650 and 620 s; one block of actions
 * after genesis, so that block 1 links to the genesis hash. Kept as `good`. */
static void build_good(void) {
    tledger_path(dir);
    snprintf(path, sizeof path, "%s/ledger.db", dir);
    snprintf(good, sizeof good, "%s/good.db", dir);
    gt_genesis g = {.chain_id = CHAIN_ID, .authority = A[0], .unbonding_blocks = 3, .time_s = 1700000000,
                    .windows = {.dispute_s = 700, .vote_s = 650, .reveal_s = 620}};
    gt_err err = {0};
    CHECK_MSG(gt_ledger_create(path, &g, &err) == 0, "create: %s", err.msg);
    gt_ledger *l = NULL;
    CHECK_MSG(gt_ledger_open(path, 0, &l, &err) == 0, "open: %s", err.msg);
    if (!l) return;
    gt_ledger_set_time(l, 1700000010);
    gt_action a;
    gt_result r;
    tsign(&a, &gt_kind_mint, gt_ledger_domain(l), &K[0], 0, &A[1], 1000);
    CHECK_EQ_INT(tsubmit(l, &a, &r), 0);
    gt_ledger_close(l);
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "cp %s %s", path, good);
    CHECK_EQ_INT(system(cmd), 0);
}

/* What create stored is what open reads and what a block's rules see. */
static void test_windows_stored_and_read(void) {
    gt_err err = {0};
    gt_ledger *l = NULL;
    CHECK_MSG(gt_ledger_open(path, GT_LEDGER_READONLY, &l, &err) == 0, "open: %s", err.msg);
    if (!l) return;
    const gt_genesis *g = gt_ledger_genesis(l);
    CHECK_EQ_U64(g->windows.dispute_s, 700);
    CHECK_EQ_U64(g->windows.vote_s, 650);
    CHECK_EQ_U64(g->windows.reveal_s, 620);
    gt_windows w = {0};
    CHECK_EQ_INT(gt_ledger_read(l, read_windows, &w, &err), 0);
    CHECK_EQ_U64(w.dispute_s, 700);
    CHECK_EQ_U64(w.vote_s, 650);
    CHECK_EQ_U64(w.reveal_s, 620);
    gt_ledger_close(l);
    gt_verify_report rep;
    CHECK_MSG(gt_ledger_verify(path, &rep, NULL, NULL, &err) == 0, "verify: %s", err.msg);
}

/* 0 is the short window; the windows are part of the genesis hash (the
 * signing domain's salt): two networks that differ only in them differ. */
static void test_zero_is_short_and_hashed(void) {
    char d2[64];
    const char *p2 = tledger_path(d2);
    gt_genesis g = {.chain_id = CHAIN_ID, .authority = A[0], .unbonding_blocks = 3, .time_s = 1700000000,
                    .seed_secret = {1}};
    gt_err err = {0};
    CHECK_EQ_INT(gt_ledger_create(p2, &g, &err), 0);
    gt_ledger *l = NULL;
    CHECK_EQ_INT(gt_ledger_open(p2, GT_LEDGER_READONLY, &l, &err), 0);
    if (l) {
        const gt_windows *w = &gt_ledger_genesis(l)->windows;
        CHECK_EQ_U64(w->dispute_s, GT_LEDGER_SHORT_WINDOW_S);
        CHECK_EQ_U64(w->vote_s, GT_LEDGER_SHORT_WINDOW_S);
        CHECK_EQ_U64(w->reveal_s, GT_LEDGER_SHORT_WINDOW_S);
        gt_domain dz;
        gt_genesis_domain(&g, &dz);
        CHECK(!memcmp(dz.salt, gt_ledger_domain(l)->salt, 32)); /* 0 hashes as the 5 s it stands for */
        gt_ledger_close(l);
    }
    gt_genesis g5 = g, g6 = g;
    g5.windows = (gt_windows){5, 5, 5};
    g6.windows = (gt_windows){5, 5, 6};
    gt_domain d5, d6, dz;
    gt_genesis_domain(&g, &dz);
    gt_genesis_domain(&g5, &d5);
    gt_genesis_domain(&g6, &d6);
    CHECK(!memcmp(dz.salt, d5.salt, 32));
    CHECK(memcmp(d5.salt, d6.salt, 32) != 0);
    trm(d2);
}

/* Each window out of [GT_LEDGER_WINDOW_MIN_S, GT_LEDGER_WINDOW_MAX_S] is
 * refused, named, and no file is left behind. */
static void test_bounds(void) {
    static const struct {
        gt_windows w;
        const char *msg;
    } bad[] = {
        {{1, 600, 600}, "the dispute window must be 2 to 604800 seconds of block time, got 1"},
        {{600, 604801, 600}, "the vote window must be 2 to 604800 seconds of block time, got 604801"},
        {{600, 600, UINT64_MAX}, "the reveal window must be 2 to 604800"},
    };
    char d2[64];
    const char *p2 = tledger_path(d2);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        gt_genesis g = {.chain_id = CHAIN_ID, .authority = A[0], .unbonding_blocks = 3, .time_s = 1, .windows = bad[i].w};
        gt_err err = {0};
        CHECK_EQ_INT(gt_ledger_create(p2, &g, &err), GT_EINVAL);
        CHECK_CONTAINS(err.msg, bad[i].msg);
        CHECK(access(p2, F_OK) != 0);
    }
    gt_genesis g = {.chain_id = CHAIN_ID, .authority = A[0], .unbonding_blocks = 3, .time_s = 1,
                    .windows = {GT_LEDGER_WINDOW_MIN_S, GT_LEDGER_WINDOW_MAX_S, GT_LEDGER_WINDOW_MIN_S}};
    gt_err err = {0};
    CHECK_MSG(gt_ledger_create(p2, &g, &err) == 0, "the bounds themselves: %s", err.msg);
    trm(d2);
}

/* Opening (writer and reader) and verifying must all refuse the file. */
static void check_refused(const char *what) {
    gt_err err = {0};
    gt_ledger *l = NULL;
    CHECK_MSG(gt_ledger_open(path, 0, &l, &err) != 0, "%s: a writer opened it", what);
    CHECK_CONTAINS(err.msg, what);
    gt_ledger_close(l);
    l = NULL;
    err = (gt_err){0};
    CHECK_MSG(gt_ledger_open(path, GT_LEDGER_READONLY, &l, &err) != 0, "%s: a reader opened it", what);
    gt_ledger_close(l);
    gt_verify_report rep;
    err = (gt_err){0};
    CHECK_MSG(gt_ledger_verify(path, &rep, NULL, NULL, &err) != 0, "%s: verify passed", what);
}

/* A node that shortens (or lengthens) its network's window in the file to
 * cut a dispute short is refused; so is a window set out of bounds. */
static void test_edited_window_refused(void) {
    edit("UPDATE meta SET value = 5 WHERE key = 'dispute_window_s'");
    check_refused("not the ones its genesis block commits to");
    restore();
    edit("UPDATE meta SET value = 6000 WHERE key = 'reveal_window_s'");
    check_refused("not the ones its genesis block commits to");
    restore();
    edit("UPDATE meta SET value = 1 WHERE key = 'vote_window_s'");
    check_refused("the ledger's stored vote window must be 2 to 604800");
    restore();
    edit("DELETE FROM meta WHERE key = 'dispute_window_s'");
    check_refused("dispute_window_s");
    restore();
}

/* The same edit with the genesis block rebuilt from the edited parameters:
 * the open check finds block 1 linked to the old genesis hash. */
static void test_rebuilt_genesis_refused(void) {
    edit("UPDATE meta SET value = 5 WHERE key = 'dispute_window_s'");
    sqlite3 *db;
    CHECK_EQ_INT(sqlite3_open(path, &db), SQLITE_OK);
    gt_block b;
    gt_err err = {0};
    CHECK_EQ_INT(gt_block_row_read(db, 0, &b, &err), 0);
    gt_windows w = {5, 650, 620};
    gt_genesis_state_root(CHAIN_ID, &A[0], 3, 1700000000, &w, b.state_root);
    gt_block_hash(&b);
    sqlite3_stmt *q;
    CHECK_EQ_INT(sqlite3_prepare_v2(db, "UPDATE blocks SET state_root = ?, hash = ? WHERE height = 0", -1, &q, NULL),
                 SQLITE_OK);
    sqlite3_bind_blob(q, 1, b.state_root, 32, SQLITE_STATIC);
    sqlite3_bind_blob(q, 2, b.hash, 32, SQLITE_STATIC);
    CHECK_EQ_INT(sqlite3_step(q), SQLITE_DONE);
    sqlite3_finalize(q);
    sqlite3_close(db);
    gt_ledger *l = NULL;
    CHECK_MSG(gt_ledger_open(path, 0, &l, &err) != 0, "a rebuilt genesis opened");
    CHECK_CONTAINS(err.msg, "block 1");
    gt_ledger_close(l);
    gt_verify_report rep;
    CHECK(gt_ledger_verify(path, &rep, NULL, NULL, &err) != 0);
    restore();
}

/* A ledger of format 3 has no windows, one of format 4 the old index of
 * slot deadlines: each refused, saying what format it is, what this gotong
 * writes, what to do and what changed since its format up to the oldest
 * format upgraded in place (not before), then the formats after that by
 * number, pointing to the README (a line each no longer fit GT_ERR_MSG_MAX
 * from format 13), the whole message fitting; one of a later format than
 * this binary's is refused as a newer gotong's. */
static void test_old_format_refused(void) {
    for (int v = 3; v <= 5; v++) {
        char sql[64];
        snprintf(sql, sizeof sql, "UPDATE meta SET value = %d WHERE key = 'version'", v == 5 ? 99 : v);
        edit(sql);
        gt_err err = {0};
        gt_ledger *l = NULL;
        CHECK_EQ_INT(gt_ledger_open(path, 0, &l, &err), GT_EUNSUPPORTED);
        if (v == 5) {
            CHECK_CONTAINS(err.msg, "ledger format 99 is newer than this gotong's");
        } else {
            char is[64], writes[64], later[96];
            snprintf(is, sizeof is, "ledger format %d is not supported", v);
            snprintf(writes, sizeof writes, "this gotong writes format %d", GT_LEDGER_FORMAT);
            snprintf(later, sizeof later, "; then formats %d to %d (README.md lists what each changed)",
                     GT_LEDGER_FORMAT_OLDEST + 1, GT_LEDGER_FORMAT);
            CHECK_CONTAINS(err.msg, is);
            CHECK_CONTAINS(err.msg, writes);
            CHECK_CONTAINS(err.msg, "gotong init");
            CHECK_CONTAINS(err.msg, "format 5 reindexed slot deadlines");
            int says_4 = strstr(err.msg, "format 4 fixed the dispute, vote and reveal windows at genesis") != NULL;
            CHECK_EQ_INT(says_4, v == 3);
            CHECK_CONTAINS(err.msg, "format 6 dropped the market's index of slots by worker");
            /* The whole message fits, ending with the later formats' numbers. */
            size_t len = strlen(err.msg), tail = strlen(later);
            CHECK(len + 1 < sizeof err.msg && len > tail && !strcmp(err.msg + len - tail, later));
        }
        restore();
    }
}

int main(void) {
    for (int i = 0; i < 2; i++) tkey(i, &K[i], &A[i]);
    build_good();
    RUN(test_windows_stored_and_read);
    RUN(test_zero_is_short_and_hashed);
    RUN(test_bounds);
    RUN(test_edited_window_refused);
    RUN(test_rebuilt_genesis_refused);
    RUN(test_old_format_refused);
    RUN(test_windows_stored_and_read);
    trm(dir);
    return gt_test_finish();
}
