/* test_ledger_ids.c: the index of action ids (format 7, ledger_impl.h):
 * sorted runs merged level by level. Every applied action is found by its
 * id, through runs of every level and through the recent tail not yet
 * indexed; the index keeps its books (each indexed id once, each run's
 * count right, no level below the top full); reopening goes on where it
 * left. A format 6 store (one index keyed by id) opens read-only as it is,
 * and for writing is upgraded in place (to one run, and to format 8) and
 * goes on; formats 5 and 9 are refused; `ledger verify` fails on an index
 * that disagrees with the log. The id batch is set to 4
 * (gt_ledger_set_id_batch) so that runs and merges of both levels come
 * after a few hundred actions. */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "../test.h"
#include "ledger_util.h"
#include "base/amount.h"
#include "ledger/block_rows.h"
#include "ledger/ledger_impl.h"

#define UNIT GT_AMOUNT_UNIT
enum { BATCH = 4, N_MAX = 1200 };

static char dir[64];
static char path[128];
static gt_key K[3];
static gt_addr A[3];
static gt_domain DOM;
static gt_action acts[N_MAX];
static size_t n_acts;      /* signed so far */
static uint64_t nonce_k1;  /* K[1]'s next nonce */

/* A new ledger in a new temp dir (path), open for writing, ids indexed
 * every BATCH actions, K[1] funded. */
static gt_ledger *fresh_at(int older) {
    snprintf(path, sizeof path, "%s", tledger_path(dir));
    gt_genesis g = {.chain_id = 1337, .authority = A[0], .unbonding_blocks = 2, .time_s = 1700000000};
    gt_ledger *l = NULL;
    gt_err err = {0};
    CHECK_EQ_INT(gt_ledger_create(path, &g, &err), 0);
    /* Blocks made as an older format made them: format 9's to 16's rules
     * (and, from format 10, the commitment to their heights) far ahead. */
    if (older)
        CHECK_EQ_INT(tledger_exec(path, "UPDATE meta SET value=1000000 WHERE key IN ('format9_height',"
                                        "'format10_height','format11_height','format12_height','format13_height',"
                                        "'format14_height','format15_height','format16_height')"),
                     0);
    CHECK_EQ_INT(gt_ledger_open(path, 0, &l, &err), 0);
    DOM = *gt_ledger_domain(l);
    gt_ledger_set_id_batch(l, BATCH);
    n_acts = 0, nonce_k1 = 0;
    gt_result r;
    tsign(&acts[n_acts], &gt_kind_mint, &DOM, &K[0], 0, &A[1], 1000 * UNIT);
    CHECK_EQ_INT(tsubmit(l, &acts[n_acts++], &r), 0);
    return l;
}

static gt_ledger *fresh(void) { return fresh_at(0); }

/* Signs and submits n transfers from K[1], in submits of 1 to 13 actions
 * (so blocks, and where a batch of ids ends within them, vary). */
static void transfers(gt_ledger *l, size_t n) {
    assert(n_acts + n <= N_MAX);
    gt_result res[13];
    size_t done = 0, step = 1;
    while (done < n) {
        size_t k = step < n - done ? step : n - done;
        for (size_t i = 0; i < k; i++)
            tsign(&acts[n_acts + i], &gt_kind_transfer, &DOM, &K[1], nonce_k1++, &A[2], 1 + (n_acts + i) % 7);
        CHECK_EQ_U64(gt_ledger_submit(l, &acts[n_acts], k, res), k);
        n_acts += k, done += k;
        step = step % 13 + 1;
    }
}

/* The first column of sql's first row on db, as an integer (-1: no row). */
static long long int_of(sqlite3 *db, const char *sql) {
    sqlite3_stmt *q;
    CHECK_EQ_INT(sqlite3_prepare_v2(db, sql, -1, &q, NULL), SQLITE_OK);
    long long v = sqlite3_step(q) == SQLITE_ROW ? sqlite3_column_int64(q, 0) : -1;
    sqlite3_finalize(q);
    return v;
}

/* Every action signed so far is found by its id on the store at path (the
 * ledger closed, or open: lookups read through their own connection), with
 * its height and place; an id never applied is not found. */
static void all_found(void) {
    sqlite3 *db;
    CHECK_EQ_INT(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    gt_err err = {0};
    gt_action a;
    uint64_t h = 0;
    uint32_t idx = 0;
    int bad = 0;
    for (size_t i = 0; i < n_acts; i++) {
        if (gt_ledger_find_action(db, acts[i].id, &a, &h, &idx, &err) || memcmp(a.id, acts[i].id, 32) || h < 1) {
            if (!bad++) fprintf(stderr, "action %zu of %zu not found: %s\n", i, n_acts, err.msg);
            continue;
        }
        char sql[96];
        snprintf(sql, sizeof sql, "SELECT count(*) FROM actions WHERE height=%llu AND idx=%u", (unsigned long long)h, idx);
        bad += int_of(db, sql) != 1;
    }
    CHECK_EQ_INT(bad, 0);
    uint8_t never[32];
    memcpy(never, acts[0].id, 32);
    never[31] ^= 1;
    CHECK_EQ_INT(gt_ledger_find_action(db, never, &a, &h, &idx, &err), GT_ENOTFOUND);
    sqlite3_close(db);
}

/* The index's books: it holds exactly the actions up to meta 'ids_seq',
 * each id once, in the runs id_runs lists with their counts; below the top
 * no level holds a full set of runs; the tail not indexed is shorter than a
 * batch. Returns the number of top-level runs. */
static long long books_hold(void) {
    sqlite3 *db;
    CHECK_EQ_INT(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    long long ids_seq = int_of(db, "SELECT value FROM meta WHERE key='ids_seq'");
    long long rows = int_of(db, "SELECT count(*) FROM action_ids");
    CHECK_EQ_U64((uint64_t)rows, (uint64_t)ids_seq);
    CHECK_EQ_U64((uint64_t)int_of(db, "SELECT count(*) FROM actions WHERE seq <= (SELECT value FROM meta "
                                      "WHERE key='ids_seq')"), (uint64_t)rows);
    CHECK(int_of(db, "SELECT count(*) FROM actions") - ids_seq < BATCH);
    CHECK_EQ_U64((uint64_t)int_of(db, "SELECT count(DISTINCT id) FROM action_ids"), (uint64_t)rows);
    CHECK_EQ_U64((uint64_t)int_of(db, "SELECT count(*) FROM action_ids i JOIN actions a ON a.seq=i.seq AND a.id=i.id"),
                 (uint64_t)rows);
    CHECK_EQ_U64((uint64_t)int_of(db, "SELECT coalesce(sum(n),0) FROM id_runs"), (uint64_t)rows);
    CHECK_EQ_INT((int)int_of(db, "SELECT count(*) FROM id_runs r WHERE n <> (SELECT count(*) FROM action_ids "
                                 "WHERE run=r.run)"), 0);
    CHECK_EQ_INT((int)int_of(db, "SELECT count(*) FROM action_ids WHERE run NOT IN (SELECT run FROM id_runs)"), 0);
    char sql[128];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM (SELECT level FROM id_runs WHERE level < %d GROUP BY level "
             "HAVING count(*) >= %d)", GT_LEDGER_ID_LEVEL_TOP, GT_LEDGER_ID_FANOUT);
    CHECK_EQ_INT((int)int_of(db, sql), 0);
    snprintf(sql, sizeof sql, "SELECT count(*) FROM id_runs WHERE level=%d", GT_LEDGER_ID_LEVEL_TOP);
    long long top = int_of(db, sql);
    sqlite3_close(db);
    return top;
}

/* Runs of every level, merges into both levels above the first, lookups
 * through all of them and the tail, and the same after a reopen. */
static void test_runs_and_merges(void) {
    gt_ledger *l = fresh();
    /* a top-level run takes at least BATCH * FANOUT^TOP actions (256; a
     * run holds every action not indexed when a block passes the batch) */
    transfers(l, 600);
    all_found();
    long long top = books_hold();
    CHECK(top >= 1);
    /* a lookup seeks in each run: never a scan of the index */
    sqlite3 *db;
    sqlite3_stmt *q;
    CHECK_EQ_INT(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    CHECK_EQ_INT(sqlite3_prepare_v2(db, "EXPLAIN QUERY PLAN " GT_ACTION_BY_ID_SQL, -1, &q, NULL), SQLITE_OK);
    int seeks = 0, scans = 0;
    while (sqlite3_step(q) == SQLITE_ROW) {
        const char *detail = (const char *)sqlite3_column_text(q, 3);
        seeks += strstr(detail, "SEARCH i USING PRIMARY KEY (run=? AND id=?)") != NULL;
        scans += strncmp(detail, "SCAN", 4) == 0;
    }
    sqlite3_finalize(q);
    sqlite3_close(db);
    CHECK_EQ_INT(seeks, 1);
    CHECK_EQ_INT(scans, 0);
    gt_ledger_close(l);
    gt_err err = {0};
    CHECK_EQ_INT(gt_ledger_open(path, 0, &l, &err), 0);
    gt_ledger_set_id_batch(l, BATCH);
    transfers(l, 130);
    all_found();
    CHECK(books_hold() >= top);
    gt_ledger_close(l);
    gt_verify_report rep;
    CHECK_EQ_INT(gt_ledger_verify(path, &rep, NULL, NULL, &err), 0);
    trm(dir);
}

/* What format 6 had: action_ids keyed by id alone, no id_runs. */
static const char to_format6_sql[] =
    "CREATE TABLE ids6(id BLOB PRIMARY KEY, seq INTEGER NOT NULL) WITHOUT ROWID;"
    "INSERT INTO ids6 SELECT id, seq FROM action_ids;"
    "DROP TABLE action_ids; DROP TABLE id_runs;"
    "ALTER TABLE ids6 RENAME TO action_ids;"
    "UPDATE meta SET value=6 WHERE key='version';";

/* The store's format version, read from its meta. */
static int version_of(void) {
    sqlite3 *db;
    CHECK_EQ_INT(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    int v = (int)int_of(db, "SELECT value FROM meta WHERE key='version'");
    sqlite3_close(db);
    return v;
}

static void test_upgrade_from_format6(void) {
    gt_ledger *l = fresh_at(1);
    transfers(l, 101);
    gt_ledger_close(l);
    CHECK_EQ_INT(tledger_exec(path, to_format6_sql), 0);
    /* read-only: as it is, lookups through the old index */
    gt_err err = {0};
    CHECK_EQ_INT(gt_ledger_open(path, GT_LEDGER_READONLY, &l, &err), 0);
    gt_ledger_close(l);
    all_found();
    gt_verify_report rep;
    CHECK_EQ_INT(gt_ledger_verify(path, &rep, NULL, NULL, &err), 0);
    CHECK_EQ_INT(version_of(), 6);
    /* for writing: one run of the top level, the same lookups */
    CHECK_EQ_INT(gt_ledger_open(path, 0, &l, &err), 0);
    gt_ledger_set_id_batch(l, BATCH);
    CHECK_EQ_INT(version_of(), GT_LEDGER_FORMAT);
    CHECK_EQ_U64((uint64_t)books_hold(), 1);
    all_found();
    /* and it goes on: new runs after the old one, merged up to a second top run */
    transfers(l, 600);
    gt_ledger_close(l);
    all_found();
    long long top = books_hold();
    CHECK(top >= 2);
    CHECK_EQ_INT(gt_ledger_verify(path, &rep, NULL, NULL, &err), 0);
    /* a second open finds nothing to do */
    CHECK_EQ_INT(gt_ledger_open(path, 0, &l, &err), 0);
    gt_ledger_close(l);
    CHECK_EQ_U64((uint64_t)books_hold(), (uint64_t)top);
    /* older and newer formats are refused, read-only too, saying what changed */
    const int refused[] = {GT_LEDGER_FORMAT_OLDEST - 1, GT_LEDGER_FORMAT + 1};
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        int v = refused[i];
        char sql[64];
        snprintf(sql, sizeof sql, "UPDATE meta SET value=%d WHERE key='version'", v);
        CHECK_EQ_INT(tledger_exec(path, sql), 0);
        CHECK_EQ_INT(gt_ledger_open(path, 0, &l, &err), GT_EUNSUPPORTED);
        CHECK_CONTAINS(err.msg,
                       v > GT_LEDGER_FORMAT ? "is newer than this gotong's"
                                            : "format 6 dropped the market's index of slots by worker; then formats 7 to");
        CHECK_EQ_INT(gt_ledger_open(path, GT_LEDGER_READONLY, &l, &err), GT_EUNSUPPORTED);
    }
    trm(dir);
}

/* `ledger verify` fails on an index that disagrees with the log (the log
 * and the state intact), naming the index: an entry gone, one pointing at
 * another action, one twice, one outside every listed run, a run's count
 * wrong. Each edit is made on a copy of the store, then undone. */
static void test_damaged_index(void) {
    gt_ledger *l = fresh();
    transfers(l, 300);
    gt_ledger_close(l);
    gt_verify_report rep;
    gt_err err = {0};
    CHECK_EQ_INT(gt_ledger_verify(path, &rep, NULL, NULL, &err), 0);
    static const char *const edits[] = {
        "DELETE FROM action_ids WHERE seq=(SELECT min(seq) FROM action_ids WHERE seq > 100)",
        "UPDATE action_ids SET seq=seq+1 WHERE seq=(SELECT min(seq) FROM action_ids WHERE seq > 100)",
        "INSERT INTO action_ids SELECT (SELECT max(run) FROM id_runs), id, seq+1 FROM action_ids"
        " WHERE run=(SELECT min(run) FROM id_runs) LIMIT 1",
        "UPDATE action_ids SET run=999999 WHERE seq=(SELECT min(seq) FROM action_ids WHERE seq > 100)",
        "UPDATE id_runs SET n=n+1 WHERE run=(SELECT max(run) FROM id_runs)",
    };
    char saved[160];
    snprintf(saved, sizeof saved, "%s.saved", path);
    CHECK_EQ_INT(tledger_copy(path, saved), 0);
    for (size_t i = 0; i < sizeof edits / sizeof edits[0]; i++) {
        CHECK_EQ_INT(tledger_exec(path, edits[i]), 0);
        CHECK(gt_ledger_verify(path, &rep, NULL, NULL, &err) == GT_EINVAL);
        CHECK_CONTAINS(err.msg, "the index of action ids");
        CHECK_EQ_INT(tledger_copy(saved, path), 0);
    }
    CHECK_EQ_INT(gt_ledger_verify(path, &rep, NULL, NULL, &err), 0);
    trm(dir);
}

int main(void) {
    for (int i = 0; i < 3; i++) tkey(i, &K[i], &A[i]);
    RUN(test_runs_and_merges);
    RUN(test_upgrade_from_format6);
    RUN(test_damaged_index);
    return gt_test_finish();
}
