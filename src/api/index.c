/* index.c: the node's index of actions by task and by address, and
 * GET /v1/actions, which reads it.
 *
 * A task's timeline or a wallet's history are the actions that name it,
 * anywhere in the log. Scanning blocks for them costs the whole log per page
 * (the dashboard used to stop at the last 2000 blocks), so the node keeps
 * HOME/index.db: one row per (key, height, index), a key being a task id
 * (the id of its task_post, or the task / parent it names) or an address
 * (from, to). The index is derived data, not part of the ledger's state:
 * the chain watcher fills it as blocks are published and catches up from its
 * own height at start (GT_API_INDEX_ROUND_BLOCKS a round, so a long
 * log does not hold up new blocks); a file that cannot be read is rebuilt
 * from the log. Answers say how far the index has got (indexedHeight), so a
 * client can tell a history still being built from a short one. */
#include <assert.h>
#include <jansson.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "api/api_impl.h"
#include "base/alloc.h"
#include "base/hex.h"
#include "base/log.h"

#define GT_INDEX_PAGE_MAX 200        /* actions per answer */
#define GT_INDEX_KEY_MAX 33          /* kind byte + a 32-byte task id or a 20-byte address */

enum { INDEX_TASK = 't', INDEX_ADDR = 'a' };

struct gt_index {
    pthread_mutex_t mu; /* one connection: the watcher writes, requests read */
    sqlite3 *db;
    uint64_t height;    /* every block up to here is indexed */
    /* The first 8 bytes of block `height`'s hash as the log had it (meta
     * 'hash8'; has_hash8 0 in a file made before it was kept), and whether
     * the first catch-up compared it with the log under the index. */
    int64_t hash8;
    int has_hash8, checked;
    /* Kept prepared: the watcher indexes a round for every block or two */
    sqlite3_stmt *ins, *put_height, *put_hash8;
    sqlite3_stmt *put_att, *get_att; /* an attestation's task: att */
    int failed; /* an insert of the open round failed: the round rolls back */
};

/* Version 2 files also map attestations to their tasks (att), so an
 * evaluation's co-signs and reveals join its task's timeline; an older file
 * is rebuilt from the log. */
#define GT_INDEX_VERSION 2

static const char index_schema[] =
    "CREATE TABLE IF NOT EXISTS refs(key BLOB NOT NULL, height INTEGER NOT NULL, idx INTEGER NOT NULL,"
    " PRIMARY KEY(key, height, idx)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS meta(k TEXT PRIMARY KEY, v INTEGER NOT NULL) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS att(id BLOB PRIMARY KEY, task BLOB NOT NULL) WITHOUT ROWID;";

/* Reads the file's height and version; a new file takes this version.
 * GT_ESTATE for a file of another version (made by an older node). */
static int index_read_meta(gt_index *ix) {
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(ix->db, "SELECT (SELECT v FROM meta WHERE k='height'), (SELECT v FROM meta WHERE "
                           "k='version'), (SELECT v FROM meta WHERE k='hash8')", -1, &st, NULL) != SQLITE_OK)
        return GT_EDB;
    int rc = sqlite3_step(st) == SQLITE_ROW ? 0 : GT_EDB;
    int has_height = !rc && sqlite3_column_type(st, 0) != SQLITE_NULL;
    int64_t version = rc ? 0 : sqlite3_column_int64(st, 1);
    if (has_height) ix->height = (uint64_t)sqlite3_column_int64(st, 0);
    ix->has_hash8 = !rc && sqlite3_column_type(st, 2) != SQLITE_NULL;
    if (ix->has_hash8) ix->hash8 = sqlite3_column_int64(st, 2);
    sqlite3_finalize(st);
    if (rc || version == GT_INDEX_VERSION) return rc;
    if (has_height) return GT_ESTATE;
    char sql[96];
    snprintf(sql, sizeof sql, "INSERT OR REPLACE INTO meta(k, v) VALUES('version', %d)", GT_INDEX_VERSION);
    return sqlite3_exec(ix->db, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : GT_EDB;
}

/* Opens (creating) path and reads its height; a file SQLite cannot use, or
 * one of an older version, is removed and made anew, as its content can
 * always be rebuilt. */
static int index_open_db(gt_index *ix, const char *path, gt_err *err) {
    for (int attempt = 0; attempt < 2; attempt++) {
        int ok = sqlite3_open_v2(path, &ix->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) == SQLITE_OK &&
                 sqlite3_exec(ix->db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;", NULL, NULL, NULL) ==
                     SQLITE_OK &&
                 sqlite3_exec(ix->db, index_schema, NULL, NULL, NULL) == SQLITE_OK;
        int rc = ok ? index_read_meta(ix) : GT_EDB;
        if (!rc) return 0;
        if (rc == GT_ESTATE)
            GT_WARN("node: the action index %s is of an older version (not %d): rebuilding it from the log", path,
                    GT_INDEX_VERSION);
        else
            GT_WARN("node: the action index %s is unreadable (%s): rebuilding it from the log", path,
                    ix->db ? sqlite3_errmsg(ix->db) : "cannot open");
        sqlite3_close(ix->db);
        ix->db = NULL, ix->height = 0;
        char side[4300];
        unlink(path);
        snprintf(side, sizeof side, "%s-wal", path), unlink(side);
        snprintf(side, sizeof side, "%s-shm", path), unlink(side);
    }
    return gt_err_set(err, GT_EDB, "cannot make the action index %s", path);
}

int gt_index_open(const char *path, gt_index **out, gt_err *err) {
    *out = NULL;
    gt_index *ix = gt_calloc(1, sizeof *ix);
    if (!ix) return gt_err_set(err, GT_ENOMEM, "out of memory");
    pthread_mutex_init(&ix->mu, NULL);
    int rc = index_open_db(ix, path, err);
    ix->checked = ix->height == 0; /* an empty index holds nothing to be stale */
    if (!rc && (sqlite3_prepare_v2(ix->db, "INSERT OR IGNORE INTO refs(key, height, idx) VALUES(?, ?, ?)", -1,
                                   &ix->ins, NULL) != SQLITE_OK ||
                sqlite3_prepare_v2(ix->db, "INSERT OR REPLACE INTO meta(k, v) VALUES('height', ?)", -1,
                                   &ix->put_height, NULL) != SQLITE_OK ||
                sqlite3_prepare_v2(ix->db, "INSERT OR REPLACE INTO meta(k, v) VALUES('hash8', ?)", -1,
                                   &ix->put_hash8, NULL) != SQLITE_OK ||
                sqlite3_prepare_v2(ix->db, "INSERT OR IGNORE INTO att(id, task) VALUES(?, ?)", -1, &ix->put_att,
                                   NULL) != SQLITE_OK ||
                sqlite3_prepare_v2(ix->db, "SELECT task FROM att WHERE id = ?", -1, &ix->get_att, NULL) !=
                    SQLITE_OK))
        rc = gt_err_set(err, GT_EDB, "action index %s: %s", path, sqlite3_errmsg(ix->db));
    if (rc) {
        gt_index_close(ix);
        return rc;
    }
    *out = ix;
    return 0;
}

void gt_index_close(gt_index *ix) {
    if (!ix) return;
    sqlite3_finalize(ix->ins);
    sqlite3_finalize(ix->put_height);
    sqlite3_finalize(ix->put_hash8);
    sqlite3_finalize(ix->put_att);
    sqlite3_finalize(ix->get_att);
    sqlite3_close(ix->db);
    pthread_mutex_destroy(&ix->mu);
    gt_free(ix);
}

/* 0 while the index is not yet checked against the log: until then its
 * refs may be of another log, and a 0 here is also what sends the watcher to
 * its first catch-up (that check) when no new block comes. */
uint64_t gt_index_height(gt_index *ix) {
    pthread_mutex_lock(&ix->mu);
    uint64_t h = ix->checked ? ix->height : 0;
    pthread_mutex_unlock(&ix->mu);
    return h;
}

/* Adds the ref (kind, the key's bytes) -> (height, index) to the open round. */
static void index_put(gt_index *ix, int kind, const uint8_t *bytes, uint64_t height, uint32_t index) {
    size_t want = kind == INDEX_TASK ? 32 : 20;
    uint8_t key[GT_INDEX_KEY_MAX];
    key[0] = (uint8_t)kind;
    memcpy(key + 1, bytes, want);
    sqlite3_reset(ix->ins);
    sqlite3_bind_blob(ix->ins, 1, key, (int)(1 + want), SQLITE_TRANSIENT);
    sqlite3_bind_int64(ix->ins, 2, (sqlite3_int64)height);
    sqlite3_bind_int64(ix->ins, 3, (sqlite3_int64)index);
    if (sqlite3_step(ix->ins) != SQLITE_DONE) ix->failed = 1;
}

/* The ref of field `name` of a, when a's kind has it with the type of the
 * key: a task id (bytes32; all zero is no task, as a task_post's parent
 * when it has none) or an address. */
static void index_field(gt_index *ix, const gt_action *a, const char *name, int kind, uint64_t height,
                        uint32_t index) {
    static const uint8_t zero[32];
    int i = gt_action_field(a->kind, name);
    if (i < 0) return;
    gt_ftype t = a->kind->fields[i].type;
    if (kind == INDEX_TASK && t == GT_F_BYTES32 && memcmp(a->f[i].b32, zero, 32))
        index_put(ix, kind, a->f[i].b32, height, index);
    else if (kind == INDEX_ADDR && t == GT_F_ADDRESS)
        index_put(ix, kind, a->f[i].addr.b, height, index);
}

/* An evaluation (eval_attest) names its task; its co-signs and their
 * sealed reveals name only the attestation: the index keeps the
 * attestation's task (blocks are indexed in log order, so an attestation
 * is known before anything that names it) and files them under it too. */
static void index_attestation(gt_index *ix, const gt_action *a, uint64_t height, uint32_t index) {
    if (!strcmp(a->kind->name, "eval_attest")) {
        int i = gt_action_field(a->kind, "task");
        assert(i >= 0 && a->kind->fields[i].type == GT_F_BYTES32);
        sqlite3_reset(ix->put_att);
        sqlite3_bind_blob(ix->put_att, 1, a->id, 32, SQLITE_TRANSIENT);
        sqlite3_bind_blob(ix->put_att, 2, a->f[i].b32, 32, SQLITE_TRANSIENT);
        if (sqlite3_step(ix->put_att) != SQLITE_DONE) ix->failed = 1;
        return;
    }
    int i = gt_action_field(a->kind, "attestation");
    if (i < 0 || a->kind->fields[i].type != GT_F_BYTES32) return;
    sqlite3_reset(ix->get_att);
    sqlite3_bind_blob(ix->get_att, 1, a->f[i].b32, 32, SQLITE_TRANSIENT);
    int step = sqlite3_step(ix->get_att);
    if (step == SQLITE_ROW && sqlite3_column_bytes(ix->get_att, 0) == 32) {
        uint8_t task[32];
        memcpy(task, sqlite3_column_blob(ix->get_att, 0), 32);
        index_put(ix, INDEX_TASK, task, height, index);
    } else if (step != SQLITE_DONE) {
        ix->failed = 1;
    }
    sqlite3_reset(ix->get_att);
}

/* See api_impl.h: the keys one action names. */
int gt_index_round_action(void *arg, uint64_t height, uint32_t index, const gt_action *a) {
    gt_index *ix = arg;
    assert(height > ix->height);
    if (!strcmp(a->kind->name, "task_post")) index_put(ix, INDEX_TASK, a->id, height, index);
    index_field(ix, a, "task", INDEX_TASK, height, index);
    index_attestation(ix, a, height, index);
    index_field(ix, a, "parent", INDEX_TASK, height, index);
    index_put(ix, INDEX_ADDR, a->from.b, height, index);
    index_field(ix, a, "to", INDEX_ADDR, height, index);
    return ix->failed;
}

/* Opens a round's transaction (ix->mu held). */
static int round_open(gt_index *ix, gt_err *err) {
    ix->failed = 0;
    if (sqlite3_exec(ix->db, "BEGIN", NULL, NULL, NULL) == SQLITE_OK) return 0;
    return gt_err_set(err, GT_EDB, "action index: %s", sqlite3_errmsg(ix->db));
}

/* The first 8 bytes of a block hash as one integer (meta 'hash8'). */
static int64_t hash8_of(const uint8_t hash[32]) {
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) v = v << 8 | hash[i];
    return (int64_t)v;
}

/* Commits the round with the index's height `to` (whose block hash is
 * to_hash), or rolls it back when ok is 0 or one of its inserts failed
 * (ix->mu held). */
static int round_close(gt_index *ix, uint64_t to, const uint8_t to_hash[32], int ok, gt_err *err) {
    assert(to >= ix->height);
    sqlite3_reset(ix->put_height);
    sqlite3_bind_int64(ix->put_height, 1, (sqlite3_int64)to);
    sqlite3_reset(ix->put_hash8);
    sqlite3_bind_int64(ix->put_hash8, 1, hash8_of(to_hash));
    ok = ok && !ix->failed && sqlite3_step(ix->put_height) == SQLITE_DONE &&
         sqlite3_step(ix->put_hash8) == SQLITE_DONE && sqlite3_exec(ix->db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK;
    if (!ok) {
        if (!err->code) gt_err_set(err, GT_EDB, "action index: %s", sqlite3_errmsg(ix->db));
        sqlite3_exec(ix->db, "ROLLBACK", NULL, NULL, NULL);
        return err->code;
    }
    ix->height = to;
    ix->hash8 = hash8_of(to_hash), ix->has_hash8 = 1;
    return 0;
}

/* See api_impl.h. */
int gt_index_round_begin(gt_index *ix, uint64_t after, gt_err *err) {
    pthread_mutex_lock(&ix->mu);
    int rc = !ix->checked         ? gt_err_set(err, GT_ESTATE, "the action index is not yet checked against the log")
             : ix->height != after ? gt_err_set(err, GT_ESTATE, "the action index is at block %llu, not %llu",
                                                (unsigned long long)ix->height, (unsigned long long)after)
                                   : round_open(ix, err);
    if (rc) pthread_mutex_unlock(&ix->mu);
    return rc;
}

/* See api_impl.h. */
int gt_index_round_end(gt_index *ix, uint64_t to, const uint8_t to_hash[32], int ok, gt_err *err) {
    int rc = round_close(ix, to, to_hash, ok, err);
    pthread_mutex_unlock(&ix->mu);
    return rc;
}

/* Indexes blocks (height, to] from the ledger ro in one round (ix->mu held). */
static int index_blocks(gt_index *ix, gt_ledger *ro, uint64_t to, gt_err *err) {
    gt_block b;
    int rc = gt_ledger_block(ro, to, &b, err);
    if (!rc) rc = round_open(ix, err);
    if (rc) return rc;
    int ok = !gt_ledger_each_decoded(ro, ix->height + 1, to, gt_index_round_action, ix, err);
    return round_close(ix, to, b.hash, ok, err);
}

/* Whether the log under the index is not the one it was made from: the
 * index is ahead of its head (a ledger made anew, or restored from an older
 * backup), or the log's block at the index's height has another hash (a
 * ledger.db of another network, or one restored over by hand). A file
 * without hash8 (made before it was kept) cannot be told apart, so it is
 * taken as stale: rebuilt once. The first catch-up asks (ix->mu held). */
static int index_stale(gt_index *ix, gt_ledger *ro, uint64_t head) {
    if (ix->height > head || (ix->height && !ix->has_hash8)) return 1;
    gt_block b;
    gt_err err = {0};
    if (!ix->height || gt_ledger_block(ro, ix->height, &b, &err)) return 0;
    return hash8_of(b.hash) != ix->hash8;
}

/* gt_index_check with ix->mu held. */
static int check_locked(gt_index *ix, gt_ledger *ro, uint64_t head, gt_err *err) {
    int rc = 0;
    if (!ix->checked && index_stale(ix, ro, head)) {
        GT_WARN("node: the action index was made from another log, or keeps no block hash (it is at block %llu, "
                "the ledger's head is %llu): rebuilding it", (unsigned long long)ix->height, (unsigned long long)head);
        /* the version row stays: without it the next start would take the file as older and rebuild it again */
        rc = sqlite3_exec(ix->db, "DELETE FROM refs; DELETE FROM att; DELETE FROM meta WHERE k <> 'version';", NULL,
                          NULL, NULL) == SQLITE_OK
                 ? 0
                 : gt_err_set(err, GT_EDB, "action index: %s", sqlite3_errmsg(ix->db));
        ix->height = 0, ix->has_hash8 = 0;
    }
    ix->checked = !rc;
    return rc;
}

int gt_index_check(gt_index *ix, gt_ledger *ro, uint64_t head, gt_err *err) {
    pthread_mutex_lock(&ix->mu);
    int rc = check_locked(ix, ro, head, err);
    pthread_mutex_unlock(&ix->mu);
    return rc;
}

int gt_index_catch_up(gt_index *ix, gt_ledger *ro, uint64_t head, unsigned max_blocks, gt_err *err) {
    assert(max_blocks > 0);
    pthread_mutex_lock(&ix->mu);
    int rc = check_locked(ix, ro, head, err);
    if (!rc && ix->height < head) {
        uint64_t to = head - ix->height > max_blocks ? ix->height + max_blocks : head;
        rc = index_blocks(ix, ro, to, err);
    }
    pthread_mutex_unlock(&ix->mu);
    return rc;
}

/* One page of refs for key after the cursor (height, index) in the order
 * asked, into heights[]/indexes[]; *n gets the count, *at the index's height. */
static int index_page(gt_index *ix, const uint8_t *key, size_t key_len, int desc, uint64_t c_height, uint64_t c_index,
                      int limit, uint64_t *heights, uint32_t *indexes, int *n, uint64_t *at, gt_err *err) {
    static const char *const sql[2] = {
        "SELECT height, idx FROM refs WHERE key = ?1 AND (height, idx) > (?2, ?3) ORDER BY height, idx LIMIT ?4",
        "SELECT height, idx FROM refs WHERE key = ?1 AND (height, idx) < (?2, ?3) ORDER BY height DESC, idx DESC "
        "LIMIT ?4"};
    sqlite3_stmt *st = NULL;
    pthread_mutex_lock(&ix->mu);
    *at = ix->checked ? ix->height : 0; /* unchecked refs may be another log's: none are answered */
    int rc = sqlite3_prepare_v2(ix->db, sql[desc], -1, &st, NULL), step = SQLITE_ERROR;
    *n = 0;
    if (rc == SQLITE_OK && !ix->checked) {
        step = SQLITE_DONE;
    } else if (rc == SQLITE_OK) {
        sqlite3_bind_blob(st, 1, key, (int)key_len, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, (sqlite3_int64)c_height);
        sqlite3_bind_int64(st, 3, (sqlite3_int64)c_index);
        sqlite3_bind_int(st, 4, limit);
        while ((step = sqlite3_step(st)) == SQLITE_ROW) {
            assert(*n < limit);
            heights[*n] = (uint64_t)sqlite3_column_int64(st, 0);
            indexes[(*n)++] = (uint32_t)sqlite3_column_int64(st, 1);
        }
    }
    if (step != SQLITE_DONE) gt_err_set(err, GT_EDB, "action index: %s", sqlite3_errmsg(ix->db));
    sqlite3_finalize(st);
    pthread_mutex_unlock(&ix->mu);
    return step == SQLITE_DONE ? 0 : GT_EDB;
}

/* The action at (height, index), for one_action. */
typedef struct one_action {
    uint32_t index;
    json_t *action;
} one_action;

static int pick_action(void *arg, uint64_t height, uint32_t index, const gt_action *a) {
    one_action *p = arg;
    (void)height;
    if (index != p->index) return 0;
    p->action = gt_action_to_json(a, 1);
    return 1; /* found: the block's later actions are not read */
}

/* {"height", "index", "time", "action"} of one indexed ref, from the log. */
static json_t *ref_json(gt_ledger *ro, uint64_t height, uint32_t index, gt_err *err) {
    gt_block b;
    one_action p = {index, NULL};
    if (gt_ledger_block(ro, height, &b, err) || gt_ledger_each_decoded(ro, height, height, pick_action, &p, err))
        return NULL;
    if (!p.action) {
        gt_err_set(err, GT_EDB, "block %llu: action %u is missing or damaged", (unsigned long long)height,
                   (unsigned)index);
        return NULL;
    }
    return json_pack("{s:I,s:I,s:I,s:o}", "height", (json_int_t)height, "index", (json_int_t)index, "time",
                     (json_int_t)b.time_s, "action", p.action);
}

/* The query's key: exactly one of task=0x<32 bytes> or address=0x<20 bytes>. */
static int actions_key(gt_req *r, uint8_t *key, size_t *key_len, gt_err *err) {
    const char *task = gt_req_query(r, "task"), *addr = gt_req_query(r, "address");
    if (!task == !addr)
        return gt_err_set(err, GT_EINVAL, "give one of task=0x<64 hex> or address=0x<40 hex>");
    const char *s = task ? task : addr;
    size_t want = task ? 32 : 20;
    if (strlen(s) != 2 + 2 * want || strncmp(s, "0x", 2) || gt_hex_decode(s, key + 1, want, "key", NULL))
        return gt_err_set(err, GT_EINVAL, "%s: expected 0x and %zu hex digits", task ? "task" : "address", 2 * want);
    key[0] = (uint8_t)(task ? INDEX_TASK : INDEX_ADDR);
    *key_len = 1 + want;
    return 0;
}

/* order=asc|desc and cursor=HEIGHT.INDEX (the answer's "next"): refs
 * strictly after the cursor in that order. Without a cursor, log order
 * starts after (0, 0) (block 0, genesis, holds no actions) and newest first
 * before any real position. */
static int actions_cursor(gt_req *r, int *desc, uint64_t *c_height, uint64_t *c_index, gt_err *err) {
    const char *order = gt_req_query(r, "order"), *cursor = gt_req_query(r, "cursor");
    if (order && strcmp(order, "asc") && strcmp(order, "desc"))
        return gt_err_set(err, GT_EINVAL, "order: expected asc or desc");
    *desc = order && !strcmp(order, "desc");
    *c_height = *desc ? (uint64_t)INT64_MAX : 0, *c_index = 0;
    if (!cursor) return 0;
    char hs[24];
    const char *dot = strchr(cursor, '.');
    size_t hl = dot ? (size_t)(dot - cursor) : 0;
    if (!dot || hl == 0 || hl >= sizeof hs)
        return gt_err_set(err, GT_EINVAL, "cursor: expected HEIGHT.INDEX as an answer's next gives it");
    memcpy(hs, cursor, hl), hs[hl] = 0;
    return gt_parse_u64(hs, "cursor height", 0, INT64_MAX, c_height, err) ||
                   gt_parse_u64(dot + 1, "cursor index", 0, UINT32_MAX, c_index, err)
               ? GT_EINVAL : 0;
}

/* GET /v1/actions?task=ID|address=ADDR[&order=asc|desc][&limit=N][&cursor=C]:
 * the actions that name a task or an address, in log order or newest first,
 * a page at a time, from the node's index (see the top of this file). */
void gt_h_actions_get(gt_req *r, gt_resp *o) {
    static const char *const allowed[] = {"task", "address", "order", "limit", "cursor", NULL};
    gt_err err = {0};
    uint8_t key[GT_INDEX_KEY_MAX];
    size_t key_len = 0;
    int desc = 0, n = 0;
    uint64_t c_height, c_index, limit = 50, at = 0, heights[GT_INDEX_PAGE_MAX];
    uint32_t indexes[GT_INDEX_PAGE_MAX];
    const char *ls = gt_req_query(r, "limit");
    gt_reader *rd = NULL;
    if (!r->node->index) {
        gt_resp_error(o, 503, GT_ESTATE, "this node has no action index (its log says why: look for \"no action "
                      "index\")");
        return;
    }
    if (gt_req_only_query(r, allowed, &err) || actions_key(r, key, &key_len, &err) ||
        actions_cursor(r, &desc, &c_height, &c_index, &err) ||
        (ls && gt_parse_u64(ls, "limit", 1, GT_INDEX_PAGE_MAX, &limit, &err)) ||
        index_page(r->node->index, key, key_len, desc, c_height, c_index, (int)limit, heights, indexes, &n, &at,
                   &err) ||
        !(rd = gt_req_reader(r, &err))) {
        gt_resp_err(o, &err);
        return;
    }
    json_t *list = json_array();
    for (int i = 0; i < n; i++) {
        json_t *a = ref_json(rd->ro, heights[i], indexes[i], &err);
        if (!a) {
            json_decref(list);
            gt_resp_error(o, 500, err.code ? err.code : GT_EDB, "%s", err.msg);
            return;
        }
        json_array_append_new(list, a);
    }
    char next[48] = "";
    if (n == (int)limit) snprintf(next, sizeof next, "%llu.%u", (unsigned long long)heights[n - 1], indexes[n - 1]);
    json_t *j = json_pack("{s:o,s:o,s:I}", "actions", list, "next", next[0] ? json_string(next) : json_null(),
                          "indexedHeight", (json_int_t)at);
    gt_api_reply_units(o, j, &err);
}
