/* test_ledger_tamper.c: a ledger edited outside the rules is refused, both by
 * the check a writer runs when it opens the ledger and by `ledger verify`
 * (a full replay); verify fails on every SQLite error. Each case starts from
 * the same good ledger file (blocks with mints, transfers, a stake and an
 * unstake whose unbonding entry is still pending) and changes one thing. */
#include <fcntl.h>
#include <sys/stat.h>

#include "../test.h"
#include "ledger_util.h"
#include "base/amount.h"
#include "base/file.h"
#include "crypto/keccak.h"
#include "crypto/merkle.h"
#include "ledger/block.h"
#include "ledger/digest.h"
#include "ledger/seed.h"

#define CHAIN_ID 1337
#define UNIT GT_AMOUNT_UNIT

static gt_key K[4];
static gt_addr A[4];
static char dir[64], path[128], good[160];

/* Builds the good ledger: four blocks, the last with an unbonding entry that
 * has not matured. Keeps a copy of the file in `good`. */
static void build_good(void) {
    tledger_path(dir);
    snprintf(path, sizeof path, "%s/ledger.db", dir);
    snprintf(good, sizeof good, "%s/good.db", dir);
    gt_genesis g = {.chain_id = CHAIN_ID, .authority = A[0], .unbonding_blocks = 50, .time_s = 1700000000};
    gt_err err = {0};
    CHECK_EQ_INT(gt_ledger_create(path, &g, &err), 0);
    gt_ledger *l = NULL;
    CHECK_EQ_INT(gt_ledger_open(path, 0, &l, &err), 0);
    const gt_domain *d = gt_ledger_domain(l);
    gt_ledger_set_time(l, 1700000100);
    gt_action a[3];
    gt_result r[3];
    tsign(&a[0], &gt_kind_mint, d, &K[0], 0, &A[1], 50 * UNIT);
    tsign(&a[1], &gt_kind_mint, d, &K[0], 1, &A[2], 50 * UNIT);
    CHECK_EQ_INT(gt_ledger_submit(l, a, 2, r), 2);                 /* block 1 */
    tsign(&a[0], &gt_kind_transfer, d, &K[1], 0, &A[3], 7 * UNIT);
    tsign(&a[1], &gt_kind_transfer, d, &K[2], 0, &A[3], 2 * UNIT);
    CHECK_EQ_INT(gt_ledger_submit(l, a, 2, r), 2);                 /* block 2 */
    tsign(&a[0], &gt_kind_stake, d, &K[3], 0, NULL, 5 * UNIT);
    CHECK_EQ_INT(gt_ledger_submit(l, a, 1, r), 1);                 /* block 3 */
    tsign(&a[0], &gt_kind_unstake, d, &K[3], 1, NULL, 2 * UNIT);
    CHECK_EQ_INT(gt_ledger_submit(l, a, 1, r), 1);                 /* block 4 */
    gt_ledger_close(l);
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "cp %s %s", path, good);
    CHECK_EQ_INT(system(cmd), 0);
}

/* Puts the good file back (no WAL is left: the ledger was closed). */
static void restore(void) { CHECK_EQ_INT(tledger_copy(good, path), 0); }

/* Runs SQL on the ledger file directly, as someone editing it by hand. */
static void edit(const char *sql) { CHECK_EQ_INT(tledger_exec(path, sql), 0); }

/* Flips one bit of byte `off` of a blob column in the row `where` selects. */
static void flip_blob(const char *table, const char *col, const char *where, int off) {
    sqlite3 *db;
    CHECK_EQ_INT(sqlite3_open(path, &db), SQLITE_OK);
    char sql[256];
    snprintf(sql, sizeof sql, "SELECT %s FROM %s WHERE %s", col, table, where);
    sqlite3_stmt *q;
    CHECK_EQ_INT(sqlite3_prepare_v2(db, sql, -1, &q, NULL), SQLITE_OK);
    CHECK_EQ_INT(sqlite3_step(q), SQLITE_ROW);
    int n = sqlite3_column_bytes(q, 0);
    uint8_t buf[4096];
    CHECK(n > off && n <= (int)sizeof buf);
    memcpy(buf, sqlite3_column_blob(q, 0), (size_t)n);
    sqlite3_finalize(q);
    buf[off] ^= 0x01;
    snprintf(sql, sizeof sql, "UPDATE %s SET %s=? WHERE %s", table, col, where);
    CHECK_EQ_INT(sqlite3_prepare_v2(db, sql, -1, &q, NULL), SQLITE_OK);
    sqlite3_bind_blob(q, 1, buf, n, SQLITE_STATIC);
    CHECK_EQ_INT(sqlite3_step(q), SQLITE_DONE);
    sqlite3_finalize(q);
    sqlite3_close(db);
}

/* The tampered file must be refused by a writer's open (its message naming
 * `open_says` and pointing to `ledger verify`) and by verify (`verify_says`). */
static void expect_refused(const char *what, const char *open_says, const char *verify_says) {
    gt_err err = {0};
    gt_ledger *l = NULL;
    int rc = gt_ledger_open(path, 0, &l, &err);
    CHECK_MSG(rc != 0, "%s: the node opened a tampered ledger", what);
    gt_ledger_close(l);
    CHECK_CONTAINS(err.msg, open_says);
    CHECK_CONTAINS(err.msg, "gotong ledger verify");
    gt_verify_report rep;
    gt_err verr = {0};
    CHECK_MSG(gt_ledger_verify(path, &rep, NULL, NULL, &verr) != 0, "%s: verify passed a tampered ledger", what);
    CHECK_CONTAINS(verr.msg, verify_says);
    if (getenv("GT_TEST_VERBOSE")) fprintf(stderr, "%s:\n  open:   %s\n  verify: %s\n", what, err.msg, verr.msg);
    restore();
}

static void test_good_ledger_opens_and_verifies(void) {
    restore();
    gt_err err = {0};
    gt_ledger *l = NULL;
    CHECK_EQ_INT(gt_ledger_open(path, 0, &l, &err), 0);
    gt_block head;
    gt_ledger_head(l, &head, NULL);
    CHECK_EQ_U64(head.height, 4);
    gt_ledger_close(l);
    gt_verify_report rep;
    CHECK_EQ_INT(gt_ledger_verify(path, &rep, NULL, NULL, &err), 0);
    CHECK_EQ_U64(rep.blocks, 4);
    CHECK_EQ_U64(rep.supply, 100 * UNIT);
}

/* Transfer layout: version, name_len, "transfer", chain id (8), from (20),
 * nonce (8), to (20), amount (8, little-endian) at byte 66. */
static void test_action_byte(void) {
    flip_blob("actions", "body", "height=2 AND idx=1", 66);
    expect_refused("action amount", "block 2: action 1 does not match", "block 2 action 1");
    /* The recipient, in another block. */
    flip_blob("actions", "body", "height=1 AND idx=0", 50);
    expect_refused("action recipient", "block 1: action 0", "block 1 action 0");
    /* The stored id column (what lookups by id use). */
    flip_blob("actions", "id", "height=3", 0);
    expect_refused("action id", "block 3: action 0", "block 3 action 0");
}

static void test_balance_byte(void) {
    edit("UPDATE accounts SET balance = balance + 1 - 2 * (balance % 2) WHERE balance > 0 AND addr = "
         "(SELECT min(addr) FROM accounts WHERE balance > 0)");
    expect_refused("balance", "block 4 (the head)", "accounts differ");
    /* Moving funds between two accounts keeps supply conserved; the state
     * digest still sees it. */
    edit("UPDATE accounts SET balance = balance + 1000 WHERE addr = (SELECT min(addr) FROM accounts WHERE balance > 1000);"
         "UPDATE accounts SET balance = balance - 1000 WHERE addr = (SELECT max(addr) FROM accounts WHERE balance > 1000)");
    expect_refused("moved balance", "the state on disk is not the state it commits to", "accounts differ");
    /* The unbonding entry's release height (someone wanting it early). */
    edit("UPDATE unbonding SET release_height = release_height - 40");
    expect_refused("unbonding", "block 4 (the head)", "unbonding differ");
    /* Supply alone. */
    edit("UPDATE meta SET value = value + 5 WHERE key = 'supply'");
    expect_refused("supply", "block 4 (the head)", "supply");
}

static void test_header_byte(void) {
    edit("UPDATE blocks SET time = time + 1 WHERE height = 2");
    expect_refused("block time", "block 2:", "block 2");
    flip_blob("blocks", "state_root", "height=3", 31);
    expect_refused("state root", "block 3:", "block 3");
    flip_blob("blocks", "prev", "height=1", 5);
    expect_refused("prev hash", "block 1:", "block 1");
    flip_blob("blocks", "state_digest", "height=4", 7);
    expect_refused("state digest", "block 4:", "block 4");
    edit("UPDATE blocks SET n_actions = 1 WHERE height = 1");
    expect_refused("action count", "block 1:", "block 1");
}

/* Recomputes the hash of every block from `from` on and relinks the next
 * one's prev (what an editor who knows the format does to hide an edit
 * from the hash checks). */
static void rehash_from(int64_t from) {
    sqlite3 *db;
    CHECK_EQ_INT(sqlite3_open(path, &db), SQLITE_OK);
    sqlite3_stmt *q, *u;
    CHECK_EQ_INT(sqlite3_prepare_v2(db, "SELECT height,prev,actions_root,state_root,state_digest,seed,seed_anchor,time "
                                        "FROM blocks WHERE height>=? ORDER BY height", -1, &q, NULL), SQLITE_OK);
    CHECK_EQ_INT(sqlite3_prepare_v2(db, "UPDATE blocks SET hash=?, prev=? WHERE height=?", -1, &u, NULL), SQLITE_OK);
    sqlite3_bind_int64(q, 1, from);
    gt_block prev = {0};
    int first = 1;
    while (sqlite3_step(q) == SQLITE_ROW) {
        gt_block b = {.height = (uint64_t)sqlite3_column_int64(q, 0), .time_s = (uint64_t)sqlite3_column_int64(q, 7)};
        memcpy(b.prev, first ? sqlite3_column_blob(q, 1) : prev.hash, 32);
        memcpy(b.actions_root, sqlite3_column_blob(q, 2), 32);
        memcpy(b.state_root, sqlite3_column_blob(q, 3), 32);
        memcpy(b.state_digest, sqlite3_column_blob(q, 4), 32);
        memcpy(b.seed, sqlite3_column_blob(q, 5), 32);
        memcpy(b.seed_anchor, sqlite3_column_blob(q, 6), 32);
        gt_block_hash(&b);
        sqlite3_bind_blob(u, 1, b.hash, 32, SQLITE_TRANSIENT);
        sqlite3_bind_blob(u, 2, b.prev, 32, SQLITE_TRANSIENT);
        sqlite3_bind_int64(u, 3, (int64_t)b.height);
        CHECK_EQ_INT(sqlite3_step(u), SQLITE_DONE);
        sqlite3_reset(u);
        prev = b;
        first = 0;
    }
    sqlite3_finalize(q);
    sqlite3_finalize(u);
    sqlite3_close(db);
}

/* The draw seed a header reveals (seed.h): a wrong one is refused even with
 * every hash recomputed around it; an edited secret stops the writer. */
static void test_wrong_reveal(void) {
    flip_blob("blocks", "seed", "height=3", 0);
    expect_refused("seed, hashes left", "block 3: its stored hash", "block 3");
    flip_blob("blocks", "seed", "height=3", 12);
    rehash_from(3);
    expect_refused("seed, rehashed", "block 3: its draw seed does not open the previous block's seed",
                   "block 3: its draw seed does not open");
    /* A seed that opens the one before but is not the next of the chain:
     * block 2's seed stored again in block 3 (a reveal chosen, not given). */
    edit("UPDATE blocks SET seed=(SELECT seed FROM blocks WHERE height=2) WHERE height=3");
    rehash_from(3);
    expect_refused("seed repeated", "block 3: its draw seed", "block 3: its draw seed");
    flip_blob("blocks", "seed_anchor", "height=2", 31);
    rehash_from(2);
    expect_refused("next anchor", "block 2: its next seed anchor differs", "block 2: its next seed anchor");
    /* Another secret: the chain checks, but this node cannot extend it; nor
     * can it with none. `ledger verify` refuses both too: it must refuse
     * whatever a writer's open would (it passed them, and a random byte
     * flip in the secret's key was a verified ledger that would not open). */
    flip_blob("meta", "value", "key='seed_secret'", 3);
    gt_err err = {0}, verr = {0};
    gt_ledger *l = NULL;
    gt_verify_report rep;
    CHECK(gt_ledger_open(path, 0, &l, &err) != 0);
    gt_ledger_close(l);
    CHECK_CONTAINS(err.msg, "seed secret does not make the draw seed of block 4");
    CHECK_EQ_INT(gt_ledger_verify(path, &rep, NULL, NULL, &verr), GT_EINVAL);
    CHECK_CONTAINS(verr.msg, "seed secret does not make the draw seed of block 4");
    restore();
    edit("DELETE FROM meta WHERE key='seed_secret'");
    CHECK(gt_ledger_open(path, 0, &l, &err) != 0);
    gt_ledger_close(l);
    CHECK_EQ_INT(gt_ledger_verify(path, &rep, NULL, NULL, &verr), GT_EDB);
    CHECK_CONTAINS(verr.msg, "no \"seed_secret\"");
    restore();
}

/* The seed chain runs in segments of GT_SEED_CHAIN_BLOCKS: a ledger that
 * crosses into the second segment (whose anchor every block of the first
 * committed to) opens, extends and verifies; the first seed of the new
 * segment opens the anchor the block before committed to. */
static void test_seed_segments(void) {
    char d2[64], p2[128];
    tledger_path(d2);
    snprintf(p2, sizeof p2, "%s/ledger.db", d2);
    gt_genesis g = {.chain_id = CHAIN_ID, .authority = A[0], .unbonding_blocks = 5, .time_s = 1700000000};
    gt_err err = {0};
    gt_ledger *l = NULL;
    CHECK_EQ_INT(gt_ledger_create(p2, &g, &err), 0);
    CHECK_EQ_INT(gt_ledger_open(p2, 0, &l, &err), 0);
    for (int i = 0; i < GT_SEED_CHAIN_BLOCKS + 1 && l; i++) {
        gt_ledger_set_time(l, 1700000001 + (uint64_t)i);
        CHECK_EQ_INT(gt_ledger_tick(l, &err), 0);
    }
    gt_ledger_close(l);
    l = NULL;
    CHECK_EQ_INT(gt_ledger_open(p2, 0, &l, &err), 0); /* the head is in the second segment */
    gt_ledger_set_time(l, 1700009000);
    CHECK_EQ_INT(gt_ledger_tick(l, &err), 0);
    gt_block b0, b1, b2, b3;
    CHECK_EQ_INT(gt_ledger_block(l, 0, &b0, &err), 0);
    CHECK_EQ_INT(gt_ledger_block(l, GT_SEED_CHAIN_BLOCKS, &b1, &err), 0);
    CHECK_EQ_INT(gt_ledger_block(l, GT_SEED_CHAIN_BLOCKS + 1, &b2, &err), 0);
    CHECK_EQ_INT(gt_ledger_block(l, GT_SEED_CHAIN_BLOCKS + 2, &b3, &err), 0);
    gt_ledger_close(l);
    uint8_t k[32];
    gt_keccak256(b2.seed, 32, k);
    CHECK(memcmp(k, b1.seed_anchor, 32) == 0);           /* opens the committed anchor */
    CHECK(memcmp(b0.seed_anchor, b1.seed_anchor, 32) == 0); /* one anchor for the whole segment */
    CHECK(memcmp(b2.seed_anchor, b1.seed_anchor, 32) != 0); /* and a new one committed with it */
    CHECK(memcmp(b3.seed_anchor, b2.seed_anchor, 32) == 0);
    gt_verify_report rep;
    CHECK_EQ_INT(gt_ledger_verify(p2, &rep, NULL, NULL, &err), 0);
    CHECK_EQ_U64(rep.blocks, GT_SEED_CHAIN_BLOCKS + 2);
    trm(d2);
}

static void test_deleted_rows(void) {
    edit("DELETE FROM actions WHERE height = 2 AND idx = 0");
    expect_refused("deleted action", "block 2:", "block 2");
    edit("DELETE FROM blocks WHERE height = 2");
    expect_refused("deleted block", "block 2: missing", "block");
    edit("DELETE FROM blocks WHERE height = 4");
    /* Without the head, the state no longer matches the (new) head's digest,
     * and the unstake's actions belong to no block. */
    expect_refused("deleted head", "block 3", "belong to no block");
    edit("DELETE FROM accounts WHERE addr = (SELECT min(addr) FROM accounts)");
    expect_refused("deleted account", "block 4 (the head)", "accounts differ");
    edit("DELETE FROM unbonding");
    expect_refused("deleted unbonding", "block 4 (the head)", "unbonding differ");
}

/* Overwrites the accounts table's root page (a leaf: the state is small) with
 * garbage: SQLite then fails reading it. Before, verify stopped its compare
 * loop on the error and reported "no difference". */
static void test_sqlite_error_fails(void) {
    sqlite3 *db;
    CHECK_EQ_INT(sqlite3_open(path, &db), SQLITE_OK);
    sqlite3_stmt *q;
    CHECK_EQ_INT(sqlite3_prepare_v2(db, "SELECT rootpage FROM sqlite_master WHERE name='accounts'", -1, &q, NULL), SQLITE_OK);
    CHECK_EQ_INT(sqlite3_step(q), SQLITE_ROW);
    int64_t page = sqlite3_column_int64(q, 0);
    sqlite3_finalize(q);
    CHECK_EQ_INT(sqlite3_prepare_v2(db, "PRAGMA page_size", -1, &q, NULL), SQLITE_OK);
    CHECK_EQ_INT(sqlite3_step(q), SQLITE_ROW);
    int64_t page_size = sqlite3_column_int64(q, 0);
    sqlite3_finalize(q);
    sqlite3_close(db);
    CHECK(page > 1 && page_size >= 512);
    int fd = open(path, O_WRONLY);
    CHECK(fd >= 0);
    uint8_t junk[64];
    memset(junk, 0xEE, sizeof junk);
    CHECK_EQ_INT((int)pwrite(fd, junk, sizeof junk, (off_t)((page - 1) * page_size)), (int)sizeof junk);
    close(fd);
    gt_err err = {0};
    gt_ledger *l = NULL;
    CHECK(gt_ledger_open(path, 0, &l, &err) != 0);
    gt_ledger_close(l);
    CHECK_CONTAINS(err.msg, "gotong ledger verify");
    gt_verify_report rep;
    gt_err verr = {0};
    CHECK(gt_ledger_verify(path, &rep, NULL, NULL, &verr) != 0);
    CHECK(verr.code == GT_EDB || verr.code == GT_EINVAL);
    CHECK_CONTAINS(verr.msg, "accounts");
    if (getenv("GT_TEST_VERBOSE")) fprintf(stderr, "damaged page:\n  open:   %s\n  verify: %s\n", err.msg, verr.msg);
    restore();
}

/* Random damage: one byte of the file flipped at a random offset, 300 times
 * (fixed seed). Whatever it hits -- a row, an index, a B-tree header, free
 * space -- nothing crashes, every refusal says something, and since verify
 * checks everything the open check does, a ledger verify accepts must also
 * open. */
static void test_random_byte_flips(void) {
    uint64_t x = 0x5eed10ull;
    int refused_open = 0, refused_verify = 0;
    for (int t = 0; t < 300; t++) {
        restore();
        struct stat st;
        CHECK_EQ_INT(stat(path, &st), 0);
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        off_t off = (off_t)(x % (uint64_t)st.st_size);
        int fd = open(path, O_RDWR);
        CHECK(fd >= 0);
        uint8_t b = 0;
        CHECK_EQ_INT((int)pread(fd, &b, 1, off), 1);
        b ^= (uint8_t)(1u << (x >> 60 & 7));
        CHECK_EQ_INT((int)pwrite(fd, &b, 1, off), 1);
        close(fd);
        gt_err err = {0}, verr = {0};
        gt_ledger *l = NULL;
        int orc = gt_ledger_open(path, 0, &l, &err);
        gt_ledger_close(l);
        if (orc) CHECK(err.msg[0] != 0);
        gt_verify_report rep;
        int vrc = gt_ledger_verify(path, &rep, NULL, NULL, &verr);
        if (vrc) CHECK(verr.msg[0] != 0);
        CHECK_MSG(!(vrc == 0 && orc != 0), "offset %lld: verify passed but open refused: %s", (long long)off, err.msg);
        refused_open += orc != 0;
        refused_verify += vrc != 0;
    }
    if (getenv("GT_TEST_VERBOSE"))
        fprintf(stderr, "random flips: open refused %d/300, verify refused %d/300\n", refused_open, refused_verify);
    CHECK(refused_open > 0 && refused_verify >= refused_open);
    restore();
}

/* A ledger of format 1 (before state digests and salted signatures) is
 * refused with a message saying what to do. */
/* The H of account rows four at a time (what a block's flush folds into the
 * state digest) is each row's H alone: the open check, which recomputes
 * the digest one row at a time, must agree with every block's. */
static void test_account_h_four_abreast(void) {
    gt_account a[4];
    uint64_t h[4][GT_DIGEST_WORDS], one[GT_DIGEST_WORDS];
    const gt_account *ap[4] = {&a[0], &a[1], &a[2], &a[3]};
    uint64_t *hp[4] = {h[0], h[1], h[2], h[3]};
    int bad = 0;
    for (int t = 0; t < 25; t++) {
        for (int k = 0; k < 4; k++) {
            memset(&a[k], 0, sizeof a[k]);
            for (int i = 0; i < 20; i++) a[k].addr.b[i] = (uint8_t)(t * 31 + k * 7 + i);
            a[k].balance = (uint64_t)t << (k * 9), a[k].staked = (uint64_t)k * 1000003u;
            a[k].locked = t % 3 ? UINT64_MAX : 0, a[k].unbonding = (uint64_t)(t + k), a[k].nonce = (uint64_t)t * 7;
        }
        gt_digest_account_h_x4(ap, hp);
        for (int k = 0; k < 4; k++) {
            gt_digest_account_h(&a[k], one);
            bad += memcmp(h[k], one, sizeof one) != 0;
        }
    }
    CHECK_EQ_INT(bad, 0);
}

/* Module rows hashed together (gt_digest_rows_h, four abreast with lanes
 * of different lengths) are each row's H alone, for every length around
 * the sponge's block edges and every group size; and a row built from C
 * values (gt_digest_row_*) is the row the scan hashes from SQLite's values,
 * so the market's own folds and the open check agree. */
static void test_module_rows_h_four_abreast(void) {
    static const size_t extra[] = {0, 1, 100, 117, 118, 119, 125, 126, 127, 253, 254, 255, 261, 262, 400, 700};
    enum { N = sizeof extra / sizeof extra[0] };
    static gt_digest_row rows[N];
    const gt_digest_row *rp[N];
    uint64_t h[N][GT_DIGEST_WORDS], one[GT_DIGEST_WORDS];
    for (int i = 0; i < N; i++) {
        gt_digest_row_begin(&rows[i], "mk_t");
        uint8_t b[700];
        for (size_t j = 0; j < extra[i]; j++) b[j] = (uint8_t)(i * 13 + j);
        gt_digest_row_blob(&rows[i], b, extra[i]);
        rp[i] = &rows[i];
    }
    int bad = 0;
    for (int n = 1; n <= N; n++)
        for (int at = 0; at + n <= N; at += n) {
            gt_digest_rows_h(rp + at, n, h + at);
            for (int i = at; i < at + n; i++) {
                gt_digest_row_h(rp[i], one);
                bad += memcmp(h[i], one, sizeof one) != 0;
            }
        }
    CHECK_EQ_INT(bad, 0);
    /* The C row and the scan of the same stored row. */
    sqlite3 *db;
    CHECK_EQ_INT(sqlite3_open(":memory:", &db), SQLITE_OK);
    CHECK_EQ_INT(sqlite3_exec(db, "CREATE TABLE mk_t(a BLOB NOT NULL, b TEXT NOT NULL, c INTEGER NOT NULL,"
                                  " d INTEGER NOT NULL); INSERT INTO mk_t VALUES(x'00ff10', 'echo', -5, 1099511627776)",
                              NULL, NULL, NULL),
                 SQLITE_OK);
    gt_digest_acc scan, built;
    gt_err err = {0};
    memset(&scan, 0, sizeof scan);
    memset(&built, 0, sizeof built);
    CHECK_EQ_INT(gt_digest_scan_tables(db, &scan, &err), 0);
    gt_digest_row r;
    gt_digest_row_begin(&r, "mk_t");
    gt_digest_row_blob(&r, "\x00\xff\x10", 3);
    gt_digest_row_text(&r, "echo", 4);
    gt_digest_row_int(&r, -5);
    gt_digest_row_int(&r, 1099511627776);
    gt_digest_row_h(&r, one);
    gt_digest_add_h(&built, one, 1);
    CHECK(!memcmp(&scan, &built, sizeof scan));
    sqlite3_close(db);
    /* Folded through the state's memo, in and out again: back to nothing. */
    gt_state *st = gt_state_new();
    int in[N], out[N];
    for (int i = 0; i < N; i++) in[i] = 1, out[i] = -1;
    gt_digest_rows_fold(st, rp, in, N);
    gt_digest_acc zero;
    memset(&zero, 0, sizeof zero);
    CHECK(memcmp(gt_state_digest_acc(st), &zero, sizeof zero) != 0);
    gt_digest_rows_fold(st, rp, out, N); /* every H from the memo now */
    CHECK(!memcmp(gt_state_digest_acc(st), &zero, sizeof zero));
    gt_state_free(st);
}

/* The actions root computed four hashes at a time is the root block.h
 * defines, leaf i = keccak(i as a 32-byte word || id i), built here one
 * hash at a time: for every block size up to 40 (every tail of four). */
static void test_actions_root_four_abreast(void) {
    enum { MAX_N = 40 };
    uint8_t ids[MAX_N][32], scratch[MAX_N][32], leaves[MAX_N][32];
    for (int i = 0; i < MAX_N; i++) gt_keccak256(&i, sizeof i, ids[i]);
    int bad = 0;
    for (uint32_t n = 0; n <= MAX_N; n++) {
        for (uint32_t i = 0; i < n; i++) {
            uint8_t buf[64] = {0};
            for (int b = 0; b < 8; b++) buf[31 - b] = (uint8_t)((uint64_t)i >> (8 * b));
            memcpy(buf + 32, ids[i], 32);
            gt_keccak256(buf, 64, leaves[i]);
        }
        uint8_t want[32], got[32];
        gt_merkle_root((const uint8_t(*)[32])leaves, n, want);
        memcpy(scratch, ids, sizeof ids);
        gt_block_actions_root(scratch, n, got);
        bad += memcmp(got, want, 32) != 0;
    }
    CHECK_EQ_INT(bad, 0);
}

/* The digests of many actions, four of one kind's length at a time, are
 * each action's gt_action_digest: kinds of 1, 2 and 4 fields mixed, so
 * some runs of four share a length and some do not. */
static void test_digest_many(void) {
    enum { N = 23 };
    static gt_action acts[N];
    gt_action *ap[N];
    gt_domain dom = {.chain_id = 5};
    memset(dom.salt, 0xa5, 32);
    gt_addr to = {{1, 2, 3}};
    for (int i = 0; i < N; i++) {
        const gt_action_kind *kinds[] = {&gt_kind_transfer, &gt_kind_mint, &gt_kind_stake, &gt_kind_payment};
        const gt_action_kind *k = kinds[(i < 8 ? 0 : i * 7 / 3) % 4];
        gt_action_init(&acts[i], k, &dom, &to, (uint64_t)i * 1000003u);
        if (k != &gt_kind_stake) gt_action_set_addr(&acts[i], "to", &to);
        gt_action_set_u64(&acts[i], "amount", (uint64_t)i << 40 | 77);
        if (k == &gt_kind_payment) {
            gt_action_set_u64(&acts[i], "validAfter", (uint64_t)i);
            gt_action_set_u64(&acts[i], "validBefore", UINT64_MAX - (uint64_t)i);
        }
        ap[i] = &acts[i];
    }
    gt_action_digest_many(ap, N);
    int bad = 0;
    for (int i = 0; i < N; i++) {
        uint8_t many[32];
        memcpy(many, acts[i].id, 32);
        gt_action_digest(&acts[i]);
        bad += memcmp(many, acts[i].id, 32) != 0;
    }
    CHECK_EQ_INT(bad, 0);
}

/* Verify (only) must refuse the edited file, saying `verify_says`. */
static void expect_verify_refuses(const char *what, const char *verify_says) {
    gt_verify_report rep;
    gt_err verr = {0};
    CHECK_MSG(gt_ledger_verify(path, &rep, NULL, NULL, &verr) != 0, "%s: verify passed", what);
    CHECK_CONTAINS(verr.msg, verify_says);
    restore();
}

/* The heights where format 9's to 16's rules start sit in meta; from
 * format 10's height every block's state root commits to them (format 11's
 * to 15's from their own heights), so moving one under the ledger makes
 * the replay's roots differ (this ledger was made at format 15: all are 0
 * and every block commits them). On format 10's code format11_height was
 * committed nowhere, on format 11's format12_height, on format 12's
 * format13_height, on format 13's format14_height and on format 14's
 * format15_height: moving any of them passed verify. */
static void test_rule_heights_moved(void) {
    /* format9_height moved up: no rule of this ledger's blocks reads it (a
     * transfer, a stake), so only the commitment can tell. */
    edit("UPDATE meta SET value = 3 WHERE key = 'format9_height'");
    expect_verify_refuses("format9_height 3", "block 1: replayed state root");
    /* format10_height moved up: block 1 committed the heights, its replay not. */
    edit("UPDATE meta SET value = 2 WHERE key = 'format10_height'");
    expect_verify_refuses("format10_height 2", "block 1: replayed state root");
    /* format11_height moved up: block 1 committed it, its replay commits
     * only the two older heights (and another value of it anywhere else). */
    edit("UPDATE meta SET value = 2 WHERE key = 'format11_height'");
    expect_verify_refuses("format11_height 2", "block 1: replayed state root");
    /* format12_height moved up: block 1 committed it, its replay commits
     * only the three older heights. */
    edit("UPDATE meta SET value = 2 WHERE key = 'format12_height'");
    expect_verify_refuses("format12_height 2", "block 1: replayed state root");
    /* format13_height moved up: block 1 committed it, its replay commits
     * only the four older heights. */
    edit("UPDATE meta SET value = 2 WHERE key = 'format13_height'");
    expect_verify_refuses("format13_height 2", "block 1: replayed state root");
    /* format14_height moved up: block 1 committed it, its replay commits
     * only the five older heights. */
    edit("UPDATE meta SET value = 2 WHERE key = 'format14_height'");
    expect_verify_refuses("format14_height 2", "block 1: replayed state root");
    /* format15_height moved up: block 1 committed it, its replay commits
     * only the six older heights. */
    edit("UPDATE meta SET value = 2 WHERE key = 'format15_height'");
    expect_verify_refuses("format15_height 2", "block 1: replayed state root");
    /* format16_height moved up: block 1 committed it, its replay commits
     * only the seven older heights. */
    edit("UPDATE meta SET value = 2 WHERE key = 'format16_height'");
    expect_verify_refuses("format16_height 2", "block 1: replayed state root");
    /* Both moved together past the head: blocks 1-4 replay without them. */
    edit("UPDATE meta SET value = 9 WHERE key IN ('format9_height', 'format10_height')");
    expect_verify_refuses("both 9", "block 1: replayed state root");
}

static void test_old_format_refused(void) {
    edit("UPDATE meta SET value = 1 WHERE key = 'version'");
    gt_err err = {0};
    gt_ledger *l = NULL;
    CHECK_EQ_INT(gt_ledger_open(path, 0, &l, &err), GT_EUNSUPPORTED);
    CHECK_CONTAINS(err.msg, "gotong init");
    restore();
}

int main(void) {
    for (int i = 0; i < 4; i++) tkey(i, &K[i], &A[i]);
    build_good();
    RUN(test_good_ledger_opens_and_verifies);
    RUN(test_action_byte);
    RUN(test_balance_byte);
    RUN(test_header_byte);
    RUN(test_deleted_rows);
    RUN(test_wrong_reveal);
    RUN(test_seed_segments);
    RUN(test_sqlite_error_fails);
    RUN(test_old_format_refused);
    RUN(test_rule_heights_moved);
    RUN(test_account_h_four_abreast);
    RUN(test_module_rows_h_four_abreast);
    RUN(test_actions_root_four_abreast);
    RUN(test_digest_many);
    RUN(test_random_byte_flips);
    RUN(test_good_ledger_opens_and_verifies);
    trm(dir);
    return gt_test_finish();
}
