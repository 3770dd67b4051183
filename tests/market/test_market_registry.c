/* test_market_registry.c: the registry's check that a new name does not look
 * like another agent's, made through the index of cards by impersonation key
 * (market.c's mk_agents_name_key, ledger format 8): the same refusals and
 * messages as when every card was read (Cyrillic а for Latin a, capital I
 * for l), a card's own key never blocking its update, a name change freeing
 * the old key, a retired card's name kept; a ledger of format 7 (no index)
 * read as it is, then given the index from its stored cards at a writer's
 * open with its blocks unchanged and its replay passing; format 9's second
 * key (case folded first: "ALICE" beside "Alice"), and a format 8 ledger
 * holding such a pair upgraded with both kept; a format 9 ledger given
 * format 10's height at a writer's open; and `ledger verify` failing
 * on an index that disagrees with the cards. */
#include "market_util.h"

#include "ledger/ledger_impl.h"

/* Latin "Paypal" with its two a's Cyrillic (U+0430). */
#define CYRILLIC_PAYPAL "P\xd0\xb0yp\xd0\xb0l"

/* Sends agent_register or agent_update of `name` from who; the result code
 * (the message into r). */
static int card(gt_ledger *l, int who, const char *type, const char *name, gt_result *r) {
    return act(l, who, NULL, r, type, "{\"name\":\"%s\",\"skills\":\"code\"}", name);
}

/* who's `type` with `name` is refused: it looks like `shown`, owner's name. */
static void expect_taken(gt_ledger *l, int who, const char *type, const char *name, const char *shown, int owner) {
    gt_result r;
    CHECK_EQ_INT(card(l, who, type, name, &r), GT_EEXIST);
    char want[160], as[43];
    gt_addr_to_str(&A[owner], as);
    snprintf(want, sizeof want, "name: looks like the name \"%s\" of agent %s (the same letters", shown, as);
    CHECK_CONTAINS(r.msg, want);
}

/* who's `type` with `name` is accepted. */
static void expect_ok(gt_ledger *l, int who, const char *type, const char *name) {
    gt_result r;
    CHECK_EQ_INT(card(l, who, type, name, &r), 0);
    if (r.code) fprintf(stderr, "%s \"%s\": %s\n", type, name, r.msg);
}

/* Registration, update and retirement decide as before through the index. */
static void test_lookalikes(void) {
    gt_ledger *l = fresh();
    setup(l, 5 * UNIT);
    expect_ok(l, ALICE, "agent_register", "Paypal");
    expect_taken(l, V1, "agent_register", "PaypaI", "Paypal", ALICE);
    expect_taken(l, V1, "agent_register", CYRILLIC_PAYPAL, "Paypal", ALICE);
    expect_ok(l, V1, "agent_register", "Paypal fan club");
    expect_taken(l, V1, "agent_update", "PAYPAL", "Paypal", ALICE);
    /* a card's own key does not block it: its own look-alikes are fine */
    expect_ok(l, ALICE, "agent_update", "PaypaI");
    expect_ok(l, ALICE, "agent_update", CYRILLIC_PAYPAL);
    expect_taken(l, V1, "agent_update", "Paypal", CYRILLIC_PAYPAL, ALICE);
    /* a name change moves the key: the old one is free, the new one taken */
    expect_ok(l, ALICE, "agent_update", "Alice Corp");
    expect_ok(l, V2, "agent_register", "Paypal");
    expect_taken(l, ALICE, "agent_update", "paypaI", "Paypal", V2);
    expect_taken(l, V3, "agent_register", "alice corp", "Alice Corp", ALICE);
    /* a retired card keeps its name; its own agent may come back under it */
    CHECK_EQ_INT(act(l, V2, NULL, NULL, "agent_retire", "{}"), 0);
    expect_taken(l, V3, "agent_register", "PAYPAL", "Paypal", V2);
    expect_ok(l, V2, "agent_register", "PaypaI");
    done(l);
}

/* Format 9's second key: a name that reads as another's once case is
 * folded is refused though its letters look different (in "ALICE" the
 * capital I shows as l to the first key), in Latin, Greek and Cyrillic;
 * names only one of the two readings of a capital I would join stay apart
 * ("ai" and "al"), and the first key's refusals stand. */
static void test_case_lookalikes(void) {
    gt_ledger *l = fresh();
    setup(l, 5 * UNIT);
    expect_ok(l, ALICE, "agent_register", "Alice");
    expect_taken(l, V1, "agent_register", "ALICE", "Alice", ALICE);
    expect_taken(l, V1, "agent_register", "ALIce", "Alice", ALICE);
    expect_ok(l, V1, "agent_register", "ai");
    expect_taken(l, V2, "agent_register", "AI", "ai", V1);
    expect_ok(l, V2, "agent_register", "al");
    expect_taken(l, V3, "agent_register", "AI", "al", V2); /* the first key: I looks like l */
    expect_ok(l, V3, "agent_register", "fail");
    expect_ok(l, V4, "agent_register", "fall");
    /* Greek capital eta, iota, sigma; Cyrillic capital ve */
    expect_ok(l, V5, "agent_register", "\xce\xb7\xce\xbb\xce\xb9\xce\xbf\xcf\x82");
    expect_taken(l, BOB, "agent_update", "\xce\x97\xce\x9b\xce\x99\xce\x9f\xce\xa3",
                 "\xce\xb7\xce\xbb\xce\xb9\xce\xbf\xcf\x82", V5);
    expect_ok(l, BOB, "agent_update", "\xd0\xb2\xd0\xb5\xd1\x80\xd0\xb0");
    expect_taken(l, CAROL, "agent_update", "\xd0\x92\xd0\x95\xd0\xa0\xd0\x90",
                 "\xd0\xb2\xd0\xb5\xd1\x80\xd0\xb0", BOB);
    expect_ok(l, ALICE, "agent_update", "ALICE"); /* its own name's case: still its own */
    done(l);
}

/* Runs sql on the store at path with no market function (as an older
 * binary or the sqlite3 shell would). */
static void raw_exec(const char *sql) {
    sqlite3 *db;
    CHECK_EQ_INT(sqlite3_open(path, &db), SQLITE_OK);
    char *msg = NULL;
    CHECK_EQ_INT(sqlite3_exec(db, sql, NULL, NULL, &msg), SQLITE_OK);
    if (msg) fprintf(stderr, "%s: %s\n", sql, msg);
    sqlite3_free(msg);
    sqlite3_close(db);
}

/* The integer the first row of sql gives on the store at path (with the
 * market's function, so that integrity_check can compute the keys). */
static long long raw_int(const char *sql) {
    sqlite3 *db;
    sqlite3_stmt *q;
    long long v = -1;
    CHECK_EQ_INT(sqlite3_open(path, &db), SQLITE_OK);
    CHECK_EQ_INT(mk_connect(db, NULL), 0);
    CHECK_EQ_INT(sqlite3_prepare_v2(db, sql, -1, &q, NULL), SQLITE_OK);
    if (sqlite3_step(q) == SQLITE_ROW) v = sqlite3_column_int64(q, 0);
    sqlite3_finalize(q);
    sqlite3_close(db);
    return v;
}

/* Format 8's two indexes (0, 1 or 2 of them). */
#define SQL_HAS_INDEX \
    "SELECT count(*) FROM sqlite_master WHERE type='index' AND name IN ('mk_agents_name_key','mk_agent_skills_addr')"
#define SQL_VERSION "SELECT value FROM meta WHERE key='version'"
#define SQL_INDEX_OK "SELECT count(*) FROM pragma_integrity_check('mk_agents') WHERE integrity_check='ok'"

/* A writer's ledger at path whose blocks are made as format `older` (8 to
 * 15) made them: the heights of the formats after it put far ahead before
 * the first block, so no block commits the rules' heights (from format 10
 * on every block's state root does) nor runs the newer rules. */
static gt_ledger *fresh_as_older(int older) {
    assert(older >= 8 && older <= 15);
    gt_ledger *l = fresh();
    gt_ledger_close(l);
    static const char *const keys[] = {"format9_height", "format10_height", "format11_height", "format12_height",
                                       "format13_height", "format14_height", "format15_height",
                                       "format16_height"};
    char sql[160];
    for (int f = older + 1; f <= 16; f++) {
        snprintf(sql, sizeof sql, "UPDATE meta SET value=1000000 WHERE key='%s'", keys[f - 9]);
        raw_exec(sql);
    }
    gt_err err = {0};
    CHECK_EQ_INT(gt_ledger_open(path, 0, &l, &err), 0);
    gt_ledger_set_time(l, 1700000000); /* as fresh() set it */
    return l;
}

/* A ledger as format 7 left it (cards, a renamed and a retired one, no
 * indexes) is verified as it is, then upgraded at a writer's open: the index
 * built from the stored cards answers the check, no committed root moves,
 * and the whole log replays. */
static void test_format7_backfilled(void) {
    gt_ledger *l = fresh_as_older(8);
    setup(l, 5 * UNIT);
    expect_ok(l, ALICE, "agent_register", "Paypal");
    expect_ok(l, V1, "agent_register", "first");
    expect_ok(l, V1, "agent_update", "Renamed");
    expect_ok(l, V2, "agent_register", "Ghost");
    CHECK_EQ_INT(act(l, V2, NULL, NULL, "agent_retire", "{}"), 0);
    gt_block before, after;
    CHECK_EQ_INT(gt_ledger_head(l, &before, NULL), 0);
    gt_ledger_close(l);
    raw_exec("DROP INDEX mk_agents_name_key; DROP INDEX mk_agent_skills_addr;"
             "UPDATE meta SET value=7 WHERE key='version'");
    CHECK_EQ_INT((int)raw_int(SQL_HAS_INDEX), 0);
    gt_verify_report rep;
    gt_err err = {0};
    CHECK_EQ_INT(gt_ledger_verify(path, &rep, NULL, NULL, &err), 0); /* read-only: as it is */
    CHECK_EQ_INT((int)raw_int(SQL_VERSION), 7);
    CHECK_EQ_INT(gt_ledger_open(path, 0, &l, &err), 0);
    CHECK_EQ_INT((int)raw_int(SQL_VERSION), GT_LEDGER_FORMAT);
    CHECK_EQ_INT((int)raw_int(SQL_HAS_INDEX), 2);
    CHECK_EQ_INT((int)raw_int(SQL_INDEX_OK), 1);
    CHECK_EQ_INT(gt_ledger_head(l, &after, NULL), 0);
    CHECK(!memcmp(before.hash, after.hash, 32) && !memcmp(before.state_digest, after.state_digest, 32));
    expect_taken(l, V3, "agent_register", "PaypaI", "Paypal", ALICE);
    expect_taken(l, V3, "agent_register", "GHOST", "Ghost", V2);
    expect_taken(l, V3, "agent_register", "renamed", "Renamed", V1);
    expect_ok(l, V3, "agent_register", "first"); /* V1's old name: its key moved */
    expect_ok(l, ALICE, "agent_update", CYRILLIC_PAYPAL);
    done(l);
}

#define SQL_HAS_CASE_INDEX "SELECT count(*) FROM sqlite_master WHERE type='index' AND name='mk_agents_name_case_key'"
/* The spec of the task test_format8_upgraded posts. */
#define TASK_SPEC_HEX "abababababababababababababababababababababababababababababababab"
#define SQL_HAS_SPEC_INDEX "SELECT count(*) FROM sqlite_master WHERE type='index' AND name='mk_tasks_spec'"
#define SQL_SPEC_INDEX_OK "SELECT count(*) FROM pragma_integrity_check('mk_tasks') WHERE integrity_check='ok'"
#define SQL_FORMAT9_HEIGHT "SELECT value FROM meta WHERE key='format9_height'"
#define SQL_FORMAT10_HEIGHT "SELECT value FROM meta WHERE key='format10_height'"
#define SQL_FORMAT11_HEIGHT "SELECT value FROM meta WHERE key='format11_height'"
#define SQL_FORMAT12_HEIGHT "SELECT value FROM meta WHERE key='format12_height'"
#define SQL_FORMAT13_HEIGHT "SELECT value FROM meta WHERE key='format13_height'"
#define SQL_FORMAT14_HEIGHT "SELECT value FROM meta WHERE key='format14_height'"
#define SQL_FORMAT15_HEIGHT "SELECT value FROM meta WHERE key='format15_height'"
#define SQL_FORMAT16_HEIGHT "SELECT value FROM meta WHERE key='format16_height'"

/* Sets meta's format9_height on the store at path. */
static void set_format9_height(long long height) {
    char sql[96];
    snprintf(sql, sizeof sql, "UPDATE meta SET value=%lld WHERE key='format9_height'", height);
    raw_exec(sql);
    CHECK_EQ_INT((int)raw_int(SQL_FORMAT9_HEIGHT), (int)height);
}

/* A ledger as format 8 left it: "Alice" and "ALICE", legal under its key
 * alone (made here by a writer whose format 9 height lies far ahead, then
 * stripped of the second index and that height). It is verified and read as
 * it is; a writer's open upgrades it: the second index built from the cards,
 * the new rule from the next block on, both old cards kept (and "ALICE"
 * still updates under its name), a new look-alike refused, no committed
 * root moved, and the log replays, but only because the replay applies the
 * rule from that height: moved to the genesis, the replay refuses "ALICE".
 * Format 9's index of tasks by spec is built there too, from the stored
 * tasks; format 10's rules start at the same height (one upgrade). */
static void test_format8_upgraded(void) {
    gt_ledger *l = fresh_as_older(8);
    gt_err err = {0};
    setup(l, 5 * UNIT);
    expect_ok(l, ALICE, "agent_register", "Alice");
    expect_ok(l, V1, "agent_register", "ALICE");
    expect_ok(l, V2, "agent_register", "Mia");
    CHECK_EQ_INT(act(l, ALICE, NULL, NULL, "task_post",
                     "{\"kind\":\"generate\",\"spec\":\"0x" TASK_SPEC_HEX "\",\"slots\":1,\"bounty\":%llu,"
                     "\"stake\":%llu,\"claimSeconds\":50,\"submitSeconds\":5,\"verifySeconds\":10}",
                     UNIT, UNIT),
                 0);
    gt_block before, after;
    CHECK_EQ_INT(gt_ledger_head(l, &before, NULL), 0);
    gt_ledger_close(l);
    raw_exec("DROP INDEX mk_agents_name_case_key; DROP INDEX mk_tasks_spec;"
             "DELETE FROM meta WHERE key IN ('format9_height','format10_height','format11_height',"
             "'format12_height','format13_height','format14_height','format15_height','format16_height');"
             " UPDATE meta SET value=8 WHERE key='version'");
    gt_verify_report rep;
    CHECK_EQ_INT(gt_ledger_verify(path, &rep, NULL, NULL, &err), 0);
    CHECK_EQ_INT(gt_ledger_open(path, GT_LEDGER_READONLY, &l, &err), 0);
    CHECK(gt_ledger_genesis(l)->format9_height == UINT64_MAX);
    CHECK(gt_ledger_genesis(l)->format10_height == UINT64_MAX);
    CHECK(gt_ledger_genesis(l)->format11_height == UINT64_MAX);
    CHECK(gt_ledger_genesis(l)->format12_height == UINT64_MAX);
    CHECK(gt_ledger_genesis(l)->format13_height == UINT64_MAX);
    CHECK(gt_ledger_genesis(l)->format14_height == UINT64_MAX);
    CHECK(gt_ledger_genesis(l)->format15_height == UINT64_MAX);
    CHECK(gt_ledger_genesis(l)->format16_height == UINT64_MAX);
    gt_ledger_close(l);
    CHECK_EQ_INT((int)raw_int(SQL_VERSION), 8);
    CHECK_EQ_INT((int)raw_int(SQL_HAS_CASE_INDEX), 0);
    CHECK_EQ_INT((int)raw_int(SQL_HAS_SPEC_INDEX), 0);
    CHECK_EQ_INT(gt_ledger_open(path, 0, &l, &err), 0);
    CHECK_EQ_INT((int)raw_int(SQL_VERSION), GT_LEDGER_FORMAT);
    CHECK_EQ_INT((int)raw_int(SQL_HAS_CASE_INDEX), 1);
    CHECK_EQ_INT((int)raw_int(SQL_INDEX_OK), 1);
    CHECK_EQ_INT((int)raw_int(SQL_HAS_SPEC_INDEX), 1);
    CHECK_EQ_INT((int)raw_int(SQL_SPEC_INDEX_OK), 1); /* the posted task is in it */
    CHECK_EQ_INT((int)raw_int("SELECT count(*) FROM mk_tasks INDEXED BY mk_tasks_spec WHERE spec=x'" TASK_SPEC_HEX "'"),
                 1);
    CHECK_EQ_INT((int)raw_int(SQL_FORMAT9_HEIGHT), (int)before.height + 1);
    CHECK_EQ_INT((int)raw_int(SQL_FORMAT10_HEIGHT), (int)before.height + 1);
    CHECK_EQ_INT((int)raw_int(SQL_FORMAT11_HEIGHT), (int)before.height + 1);
    CHECK(gt_ledger_genesis(l)->format10_height == before.height + 1);
    CHECK(gt_ledger_genesis(l)->format11_height == before.height + 1);
    CHECK(gt_ledger_genesis(l)->format12_height == before.height + 1);
    CHECK(gt_ledger_genesis(l)->format13_height == before.height + 1);
    CHECK(gt_ledger_genesis(l)->format14_height == before.height + 1);
    CHECK(gt_ledger_genesis(l)->format15_height == before.height + 1);
    CHECK(gt_ledger_genesis(l)->format16_height == before.height + 1);
    CHECK_EQ_INT(gt_ledger_head(l, &after, NULL), 0);
    CHECK(!memcmp(before.hash, after.hash, 32) && !memcmp(before.state_digest, after.state_digest, 32));
    CHECK_EQ_INT((int)raw_int("SELECT count(*) FROM mk_agents WHERE name IN ('Alice','ALICE')"), 2);
    expect_taken(l, V3, "agent_register", "MIA", "Mia", V2);
    expect_ok(l, V1, "agent_update", "ALICE");
    expect_taken(l, V1, "agent_update", "ALIce", "Alice", ALICE);
    gt_ledger_close(l);
    CHECK_EQ_INT(gt_ledger_verify(path, &rep, NULL, NULL, &err), 0);
    set_format9_height(0);
    CHECK_EQ_INT(gt_ledger_verify(path, &rep, NULL, NULL, &err), GT_EEXIST);
    CHECK_CONTAINS(err.msg, "looks like the name \"Alice\"");
    set_format9_height((long long)before.height + 1);
    done(NULL);
}

/* Leaves at `path` a ledger as format `older`'s writer left it: a few
 * blocks (before: its head), then the meta rows of the formats after it
 * deleted and its version set back; `ledger verify` passes on it. */
static void as_left_by(int older, gt_block *before) {
    gt_ledger *l = fresh_as_older(older);
    setup(l, 5 * UNIT);
    expect_ok(l, ALICE, "agent_register", "Alice");
    CHECK_EQ_INT(gt_ledger_head(l, before, NULL), 0);
    CHECK(before->height > 1);
    gt_ledger_close(l);
    char sql[512];
    int n = 0;
    for (int f = older + 1; f <= GT_LEDGER_FORMAT; f++)
        n += snprintf(sql + n, sizeof sql - (size_t)n, "DELETE FROM meta WHERE key='format%d_height';", f);
    snprintf(sql + n, sizeof sql - (size_t)n, "UPDATE meta SET value=%d WHERE key='version'", older);
    raw_exec(sql);
    gt_verify_report rep;
    gt_err err = {0};
    CHECK_MSG(gt_ledger_verify(path, &rep, NULL, NULL, &err) == 0, "verify: %s", err.msg);
}

/* A ledger as format 9 left it (no format10_height nor format11_height; its
 * format9_height 0, as for one created at format 9): read as it is with no
 * format 10 or 11 height (read-only, and by `ledger verify`); a writer's
 * open makes it format 14, format 10's to 14's rules from the block after
 * its head, format 9's height kept, no block touched; a fresh ledger says 0
 * for both. */
static void test_format9_upgraded(void) {
    gt_ledger *l = fresh();
    CHECK_EQ_U64(gt_ledger_genesis(l)->format10_height, 0);
    CHECK_EQ_INT((int)raw_int(SQL_FORMAT10_HEIGHT), 0);
    gt_ledger_close(l);
    gt_block before, after;
    as_left_by(9, &before);
    gt_verify_report rep;
    gt_err err = {0};
    CHECK_EQ_INT(gt_ledger_open(path, GT_LEDGER_READONLY, &l, &err), 0);
    CHECK_EQ_U64(gt_ledger_genesis(l)->format9_height, 0);
    CHECK(gt_ledger_genesis(l)->format10_height == UINT64_MAX);
    CHECK(gt_ledger_genesis(l)->format11_height == UINT64_MAX);
    CHECK(gt_ledger_genesis(l)->format12_height == UINT64_MAX);
    CHECK(gt_ledger_genesis(l)->format13_height == UINT64_MAX);
    CHECK(gt_ledger_genesis(l)->format14_height == UINT64_MAX);
    CHECK(gt_ledger_genesis(l)->format15_height == UINT64_MAX);
    CHECK(gt_ledger_genesis(l)->format16_height == UINT64_MAX);
    gt_ledger_close(l);
    CHECK_EQ_INT((int)raw_int(SQL_VERSION), 9);
    CHECK_EQ_INT((int)raw_int(SQL_FORMAT10_HEIGHT), -1);
    CHECK_EQ_INT(gt_ledger_open(path, 0, &l, &err), 0);
    CHECK_EQ_INT((int)raw_int(SQL_VERSION), GT_LEDGER_FORMAT);
    CHECK_EQ_INT((int)raw_int(SQL_FORMAT9_HEIGHT), 0);
    CHECK_EQ_INT((int)raw_int(SQL_FORMAT10_HEIGHT), (int)before.height + 1);
    CHECK_EQ_U64(gt_ledger_genesis(l)->format9_height, 0);
    CHECK(gt_ledger_genesis(l)->format10_height == before.height + 1);
    CHECK(gt_ledger_genesis(l)->format11_height == before.height + 1);
    CHECK(gt_ledger_genesis(l)->format12_height == before.height + 1);
    CHECK(gt_ledger_genesis(l)->format13_height == before.height + 1);
    CHECK(gt_ledger_genesis(l)->format14_height == before.height + 1);
    CHECK(gt_ledger_genesis(l)->format15_height == before.height + 1);
    CHECK(gt_ledger_genesis(l)->format16_height == before.height + 1);
    CHECK_EQ_INT(gt_ledger_head(l, &after, NULL), 0);
    CHECK(!memcmp(before.hash, after.hash, 32) && !memcmp(before.state_digest, after.state_digest, 32));
    expect_ok(l, V1, "agent_register", "Nadia");
    gt_ledger_close(l);
    CHECK_EQ_INT(gt_ledger_verify(path, &rep, NULL, NULL, &err), 0);
    done(NULL);
}

/* The end of a format upgrade test (l: the upgraded writer, before: its head
 * before the upgrade): the upgrade touched no block, a block after it
 * applies and the log replays, but not once `key` (the new format's height)
 * is moved under a block that committed it; then key restored and the
 * ledger verified by done. */
static void upgraded_tail(gt_ledger *l, const gt_block *before, const char *key) {
    gt_block after;
    gt_verify_report rep;
    gt_err err = {0};
    CHECK_EQ_INT(gt_ledger_head(l, &after, NULL), 0);
    CHECK(!memcmp(before->hash, after.hash, 32) && !memcmp(before->state_digest, after.state_digest, 32));
    expect_ok(l, V1, "agent_register", "Nadia");
    gt_ledger_close(l);
    CHECK_EQ_INT(gt_ledger_verify(path, &rep, NULL, NULL, &err), 0);
    char sql[96];
    snprintf(sql, sizeof sql, "UPDATE meta SET value=1 WHERE key='%s'", key);
    raw_exec(sql);
    CHECK(gt_ledger_verify(path, &rep, NULL, NULL, &err) != 0);
    CHECK_CONTAINS(err.msg, "block 1: replayed state root");
    snprintf(sql, sizeof sql, "UPDATE meta SET value=%llu WHERE key='%s'", (unsigned long long)before->height + 1, key);
    raw_exec(sql);
    done(NULL);
}

/* A ledger as format 10 left it (no format11_height; format 9's and 10's
 * heights 0, as for one created at format 10, so its blocks commit those
 * two heights): read as it is with no format 11 height (read-only, and by
 * `ledger verify`); a writer's open makes it format 14, format 11's to 14's rules
 * from the block after its head, the older heights kept, no block touched;
 * the blocks after it commit format 11's height too and the whole log
 * replays, but not once format 11's height is moved under a block that
 * committed it. A fresh ledger says 0. On format 10's code the version stays
 * 10 and no format11_height row is written (the field does not exist, so
 * this does not build there). */
static void test_format10_upgraded(void) {
    gt_ledger *l = fresh();
    CHECK_EQ_U64(gt_ledger_genesis(l)->format11_height, 0);
    CHECK_EQ_INT((int)raw_int(SQL_FORMAT11_HEIGHT), 0);
    gt_ledger_close(l);
    gt_block before;
    as_left_by(10, &before);
    gt_err err = {0};
    CHECK_EQ_INT(gt_ledger_open(path, GT_LEDGER_READONLY, &l, &err), 0);
    CHECK_EQ_U64(gt_ledger_genesis(l)->format10_height, 0);
    CHECK(gt_ledger_genesis(l)->format11_height == UINT64_MAX);
    gt_ledger_close(l);
    CHECK_EQ_INT((int)raw_int(SQL_VERSION), 10);
    CHECK_EQ_INT((int)raw_int(SQL_FORMAT11_HEIGHT), -1);
    CHECK_EQ_INT(gt_ledger_open(path, 0, &l, &err), 0);
    CHECK_EQ_INT((int)raw_int(SQL_VERSION), GT_LEDGER_FORMAT);
    CHECK_EQ_INT((int)raw_int(SQL_FORMAT9_HEIGHT), 0);
    CHECK_EQ_INT((int)raw_int(SQL_FORMAT10_HEIGHT), 0);
    CHECK_EQ_INT((int)raw_int(SQL_FORMAT11_HEIGHT), (int)before.height + 1);
    CHECK(gt_ledger_genesis(l)->format11_height == before.height + 1);
    CHECK(gt_ledger_genesis(l)->format12_height == before.height + 1);
    CHECK(gt_ledger_genesis(l)->format13_height == before.height + 1);
    CHECK(gt_ledger_genesis(l)->format14_height == before.height + 1);
    CHECK(gt_ledger_genesis(l)->format15_height == before.height + 1);
    CHECK(gt_ledger_genesis(l)->format16_height == before.height + 1);
    upgraded_tail(l, &before, "format11_height");
}

/* A ledger as format 11 left it (no format12_height; the older heights 0,
 * as for one created at format 11, so its blocks commit three heights):
 * read as it is with no format 12 height (read-only, and by `ledger
 * verify`); a writer's open makes it format 14, format 12's to 14's rules
 * from the block after its head, the older heights kept, no block touched; the
 * blocks after it commit format 12's height too and the whole log replays,
 * but not once format 12's height is moved under a block that committed
 * it. A fresh ledger says 0. On format 11's code this does not build (no
 * format12_height field), and there the version stayed 11 with no
 * format12_height row. */
static void test_format11_upgraded(void) {
    gt_ledger *l = fresh();
    CHECK_EQ_U64(gt_ledger_genesis(l)->format12_height, 0);
    CHECK_EQ_INT((int)raw_int(SQL_FORMAT12_HEIGHT), 0);
    gt_ledger_close(l);
    gt_block before;
    as_left_by(11, &before);
    gt_err err = {0};
    CHECK_EQ_INT(gt_ledger_open(path, GT_LEDGER_READONLY, &l, &err), 0);
    CHECK_EQ_U64(gt_ledger_genesis(l)->format11_height, 0);
    CHECK(gt_ledger_genesis(l)->format12_height == UINT64_MAX);
    gt_ledger_close(l);
    CHECK_EQ_INT((int)raw_int(SQL_VERSION), 11);
    CHECK_EQ_INT((int)raw_int(SQL_FORMAT12_HEIGHT), -1);
    CHECK_EQ_INT(gt_ledger_open(path, 0, &l, &err), 0);
    CHECK_EQ_INT((int)raw_int(SQL_VERSION), GT_LEDGER_FORMAT);
    CHECK_EQ_INT((int)raw_int(SQL_FORMAT10_HEIGHT), 0);
    CHECK_EQ_INT((int)raw_int(SQL_FORMAT11_HEIGHT), 0);
    CHECK_EQ_INT((int)raw_int(SQL_FORMAT12_HEIGHT), (int)before.height + 1);
    CHECK(gt_ledger_genesis(l)->format12_height == before.height + 1);
    CHECK(gt_ledger_genesis(l)->format13_height == before.height + 1);
    CHECK(gt_ledger_genesis(l)->format14_height == before.height + 1);
    CHECK(gt_ledger_genesis(l)->format15_height == before.height + 1);
    CHECK(gt_ledger_genesis(l)->format16_height == before.height + 1);
    upgraded_tail(l, &before, "format12_height");
}

/* A ledger as format 12 left it (no format13_height; the older heights 0,
 * as for one created at format 12, so its blocks commit four heights):
 * read as it is with no format 13 height (read-only, and by `ledger
 * verify`); a writer's open makes it format 14, format 13's and 14's rules from the
 * block after its head, the older heights kept, no block touched; the
 * blocks after it commit format 13's height too and the whole log replays,
 * but not once format 13's height is moved under a block that committed
 * it. A fresh ledger says 0. On format 12's code this does not build (no
 * format13_height field), and there the version stayed 12 with no
 * format13_height row. Format 14's height is set at the same open. */
static void test_format12_upgraded(void) {
    gt_ledger *l = fresh();
    CHECK_EQ_U64(gt_ledger_genesis(l)->format13_height, 0);
    CHECK_EQ_INT((int)raw_int(SQL_FORMAT13_HEIGHT), 0);
    gt_ledger_close(l);
    gt_block before;
    as_left_by(12, &before);
    gt_err err = {0};
    CHECK_EQ_INT(gt_ledger_open(path, GT_LEDGER_READONLY, &l, &err), 0);
    CHECK_EQ_U64(gt_ledger_genesis(l)->format12_height, 0);
    CHECK(gt_ledger_genesis(l)->format13_height == UINT64_MAX);
    CHECK(gt_ledger_genesis(l)->format14_height == UINT64_MAX);
    CHECK(gt_ledger_genesis(l)->format15_height == UINT64_MAX);
    CHECK(gt_ledger_genesis(l)->format16_height == UINT64_MAX);
    gt_ledger_close(l);
    CHECK_EQ_INT((int)raw_int(SQL_VERSION), 12);
    CHECK_EQ_INT((int)raw_int(SQL_FORMAT13_HEIGHT), -1);
    CHECK_EQ_INT(gt_ledger_open(path, 0, &l, &err), 0);
    CHECK_EQ_INT((int)raw_int(SQL_VERSION), GT_LEDGER_FORMAT);
    CHECK_EQ_INT((int)raw_int(SQL_FORMAT11_HEIGHT), 0);
    CHECK_EQ_INT((int)raw_int(SQL_FORMAT12_HEIGHT), 0);
    CHECK_EQ_INT((int)raw_int(SQL_FORMAT13_HEIGHT), (int)before.height + 1);
    CHECK(gt_ledger_genesis(l)->format13_height == before.height + 1);
    CHECK(gt_ledger_genesis(l)->format14_height == before.height + 1);
    CHECK(gt_ledger_genesis(l)->format15_height == before.height + 1);
    CHECK(gt_ledger_genesis(l)->format16_height == before.height + 1);
    upgraded_tail(l, &before, "format13_height");
}

/* A ledger as format 13 left it (no format14_height; the older heights 0,
 * as for one created at format 13, so its blocks commit five heights):
 * read as it is with no format 14 height (read-only, and by `ledger
 * verify`); a writer's open makes it format 14, format 14's rule from the
 * block after its head, the older heights kept, no block touched; the
 * blocks after it commit format 14's height too and the whole log replays,
 * but not once format 14's height is moved under a block that committed
 * it. A fresh ledger says 0. On format 13's code this does not build (no
 * format14_height field). */
static void test_format13_upgraded(void) {
    gt_ledger *l = fresh();
    CHECK_EQ_U64(gt_ledger_genesis(l)->format14_height, 0);
    CHECK_EQ_INT((int)raw_int(SQL_FORMAT14_HEIGHT), 0);
    gt_ledger_close(l);
    gt_block before;
    as_left_by(13, &before);
    gt_err err = {0};
    CHECK_EQ_INT(gt_ledger_open(path, GT_LEDGER_READONLY, &l, &err), 0);
    CHECK_EQ_U64(gt_ledger_genesis(l)->format13_height, 0);
    CHECK(gt_ledger_genesis(l)->format14_height == UINT64_MAX);
    CHECK(gt_ledger_genesis(l)->format15_height == UINT64_MAX);
    CHECK(gt_ledger_genesis(l)->format16_height == UINT64_MAX);
    gt_ledger_close(l);
    CHECK_EQ_INT((int)raw_int(SQL_VERSION), 13);
    CHECK_EQ_INT((int)raw_int(SQL_FORMAT14_HEIGHT), -1);
    CHECK_EQ_INT(gt_ledger_open(path, 0, &l, &err), 0);
    CHECK_EQ_INT((int)raw_int(SQL_VERSION), GT_LEDGER_FORMAT);
    CHECK_EQ_INT((int)raw_int(SQL_FORMAT12_HEIGHT), 0);
    CHECK_EQ_INT((int)raw_int(SQL_FORMAT13_HEIGHT), 0);
    CHECK_EQ_INT((int)raw_int(SQL_FORMAT14_HEIGHT), (int)before.height + 1);
    CHECK(gt_ledger_genesis(l)->format14_height == before.height + 1);
    CHECK(gt_ledger_genesis(l)->format15_height == before.height + 1);
    CHECK(gt_ledger_genesis(l)->format16_height == before.height + 1);
    upgraded_tail(l, &before, "format14_height");
}

/* A ledger as format 14 left it (no format15_height; the older heights 0,
 * as for one created at format 14, so its blocks commit six heights): read
 * as it is with no format 15 height (read-only, and by `ledger verify`); a
 * writer's open makes it format 15, format 15's rule from the block after
 * its head, the older heights kept, no block touched; the blocks after it commit format 15's height too and the whole
 * log replays, but not once format 15's height is moved under a block that
 * committed it. A fresh ledger says 0. On format 14's code this does not
 * build (no format15_height field). */
static void test_format14_upgraded(void) {
    gt_ledger *l = fresh();
    CHECK_EQ_U64(gt_ledger_genesis(l)->format15_height, 0);
    CHECK_EQ_INT((int)raw_int(SQL_FORMAT15_HEIGHT), 0);
    gt_ledger_close(l);
    gt_block before;
    as_left_by(14, &before);
    gt_err err = {0};
    CHECK_EQ_INT(gt_ledger_open(path, GT_LEDGER_READONLY, &l, &err), 0);
    CHECK_EQ_U64(gt_ledger_genesis(l)->format14_height, 0);
    CHECK(gt_ledger_genesis(l)->format15_height == UINT64_MAX);
    CHECK(gt_ledger_genesis(l)->format16_height == UINT64_MAX);
    gt_ledger_close(l);
    CHECK_EQ_INT((int)raw_int(SQL_VERSION), 14);
    CHECK_EQ_INT((int)raw_int(SQL_FORMAT15_HEIGHT), -1);
    CHECK_EQ_INT(gt_ledger_open(path, 0, &l, &err), 0);
    CHECK_EQ_INT((int)raw_int(SQL_VERSION), GT_LEDGER_FORMAT);
    CHECK_EQ_INT((int)raw_int(SQL_FORMAT14_HEIGHT), 0);
    CHECK_EQ_INT((int)raw_int(SQL_FORMAT15_HEIGHT), (int)before.height + 1);
    CHECK(gt_ledger_genesis(l)->format15_height == before.height + 1);
    CHECK(gt_ledger_genesis(l)->format16_height == before.height + 1);
    upgraded_tail(l, &before, "format15_height");
}

/* A ledger as format 15 left it (no format16_height; the older heights 0,
 * as for one created at format 15, so its blocks commit seven heights):
 * read as it is with no format 16 height (read-only, and by `ledger
 * verify`); a writer's open makes it format 16, format 16's rules from the
 * block after its head, the older heights kept, no block touched; the
 * blocks after it commit format 16's height too and the whole log replays,
 * but not once format 16's height is moved under a block that committed
 * it. A fresh ledger says 0. On format 15's code this does not build (no
 * format16_height field). */
static void test_format15_upgraded(void) {
    gt_ledger *l = fresh();
    CHECK_EQ_U64(gt_ledger_genesis(l)->format16_height, 0);
    CHECK_EQ_INT((int)raw_int(SQL_FORMAT16_HEIGHT), 0);
    gt_ledger_close(l);
    gt_block before;
    as_left_by(15, &before);
    gt_err err = {0};
    CHECK_EQ_INT(gt_ledger_open(path, GT_LEDGER_READONLY, &l, &err), 0);
    CHECK_EQ_U64(gt_ledger_genesis(l)->format15_height, 0);
    CHECK(gt_ledger_genesis(l)->format16_height == UINT64_MAX);
    gt_ledger_close(l);
    CHECK_EQ_INT((int)raw_int(SQL_VERSION), 15);
    CHECK_EQ_INT((int)raw_int(SQL_FORMAT16_HEIGHT), -1);
    CHECK_EQ_INT(gt_ledger_open(path, 0, &l, &err), 0);
    CHECK_EQ_INT((int)raw_int(SQL_VERSION), GT_LEDGER_FORMAT);
    CHECK_EQ_INT((int)raw_int(SQL_FORMAT15_HEIGHT), 0);
    CHECK_EQ_INT((int)raw_int(SQL_FORMAT16_HEIGHT), (int)before.height + 1);
    CHECK(gt_ledger_genesis(l)->format16_height == before.height + 1);
    upgraded_tail(l, &before, "format16_height");
}

/* mk_name_key as a damaged or foreign binary might compute it: one key for
 * every name. */
static void wrong_key(sqlite3_context *ctx, int argc, sqlite3_value **argv) {
    (void)argc, (void)argv;
    sqlite3_result_blob(ctx, "x", 1, SQLITE_STATIC);
}

/* `ledger verify` fails, naming the table, when the index disagrees with the
 * cards: rebuilt with another key function, it would let "PaypaI" in. */
static void test_damaged_index_fails_verify(void) {
    gt_ledger *l = fresh();
    setup(l, 5 * UNIT);
    expect_ok(l, ALICE, "agent_register", "Paypal");
    gt_ledger_close(l);
    gt_verify_report rep;
    gt_err err = {0};
    CHECK_EQ_INT(gt_ledger_verify(path, &rep, NULL, NULL, &err), 0);
    sqlite3 *db;
    CHECK_EQ_INT(sqlite3_open(path, &db), SQLITE_OK);
    CHECK_EQ_INT(sqlite3_create_function(db, "mk_name_key", 1, SQLITE_UTF8 | SQLITE_DETERMINISTIC, NULL, wrong_key,
                                         NULL, NULL), SQLITE_OK);
    CHECK_EQ_INT(sqlite3_exec(db, "REINDEX mk_agents_name_key", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    CHECK_EQ_INT(gt_ledger_verify(path, &rep, NULL, NULL, &err), GT_EINVAL);
    CHECK_CONTAINS(err.msg, "the stored table mk_agents or an index of it is damaged");
    CHECK_CONTAINS(err.msg, "mk_agents_name_key");
}

int main(void) {
    make_keys();
    RUN(test_lookalikes);
    RUN(test_case_lookalikes);
    RUN(test_format7_backfilled);
    RUN(test_format8_upgraded);
    RUN(test_format9_upgraded);
    RUN(test_format10_upgraded);
    RUN(test_format11_upgraded);
    RUN(test_format12_upgraded);
    RUN(test_format13_upgraded);
    RUN(test_format14_upgraded);
    RUN(test_format15_upgraded);
    RUN(test_damaged_index_fails_verify);
    return gt_test_finish();
}
