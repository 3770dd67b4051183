/* verify.c: `gotong ledger verify`: replay the whole log from genesis into a
 * fresh in-memory state with the same rules, checking every signature, nonce,
 * rule, root and hash on the way, and finally that the replayed state equals
 * the stored one row for row. Reads the ledger file read-only. */
#include <stdio.h>
#include <string.h>

#include "base/alloc.h"
#include "base/hex.h"
#include "crypto/merkle.h"
#include "ledger/ledger.h"
#include "ledger/rules.h"

/* Opens a fresh in-memory store with every table. */
static int fresh_store(sqlite3 **out, gt_err *err) {
    sqlite3 *db;
    if (sqlite3_open(":memory:", &db) != SQLITE_OK) return gt_err_set(err, GT_EDB, "cannot open an in-memory store");
    int rc = sqlite3_exec(db, gt_state_schema_sql, NULL, NULL, NULL);
    for (int i = 0; !rc && i < gt_ledger_n_modules(); i++) {
        const gt_ledger_module *m = gt_ledger_module_at(i);
        if (m->schema_sql) rc = sqlite3_exec(db, m->schema_sql, NULL, NULL, NULL);
    }
    if (rc) {
        gt_err_set(err, GT_EDB, "replay store: %s", sqlite3_errmsg(db));
        sqlite3_close(db);
        return GT_EDB;
    }
    *out = db;
    return 0;
}

static void hex32(const uint8_t *b, char out[67]) {
    out[0] = '0', out[1] = 'x';
    gt_hex_encode(b, 32, out + 2);
}

/* Compares one table of the stored ledger with the replayed one. */
static int compare_table(sqlite3 *mem, const char *table, gt_err *err) {
    char sql[1024];
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM (SELECT * FROM stored.%s EXCEPT SELECT * FROM main.%s) "
             "UNION ALL SELECT count(*) FROM (SELECT * FROM main.%s EXCEPT SELECT * FROM stored.%s)",
             table, table, table, table);
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(mem, sql, -1, &q, NULL)) return gt_err_set(err, GT_EDB, "compare %s: %s", table, sqlite3_errmsg(mem));
    long long diff = 0;
    while (sqlite3_step(q) == SQLITE_ROW) diff += sqlite3_column_int64(q, 0);
    sqlite3_finalize(q);
    if (diff)
        return gt_err_set(err, GT_EINVAL, "stored %s differ from the replayed state in %lld rows", table, diff);
    return 0;
}

int gt_ledger_verify(const char *path, gt_verify_report *rep, gt_verify_progress progress, void *progress_arg,
                     gt_err *err) {
    memset(rep, 0, sizeof *rep);
    gt_ledger *src;
    int rc = gt_ledger_open(path, GT_LEDGER_READONLY, &src, err);
    if (rc) return rc;
    const gt_genesis *g = gt_ledger_genesis(src);
    gt_block head;
    if ((rc = gt_ledger_head(src, &head, err))) { gt_ledger_close(src); return rc; }

    sqlite3 *mem = NULL;
    gt_state *st = gt_state_new();
    gt_action *a = gt_malloc(sizeof *a);
    uint8_t (*ids)[32] = NULL;
    size_t ids_cap = 0;
    sqlite3_stmt *qa = NULL;
    if (!st || !a) { rc = gt_err_set(err, GT_ENOMEM, "out of memory"); goto done; }
    if ((rc = fresh_store(&mem, err))) goto done;

    /* Genesis. */
    gt_block prev;
    if ((rc = gt_ledger_block(src, 0, &prev, err))) goto done;
    {
        gt_block gb = {0};
        gb.time_s = g->time_s;
        gt_genesis_state_root(g->chain_id, &g->authority, g->unbonding_blocks, g->time_s, gb.state_root);
        gt_block_hash(&gb);
        if (memcmp(gb.hash, prev.hash, 32) || memcmp(gb.state_root, prev.state_root, 32) || prev.time_s != g->time_s) {
            rc = gt_err_set(err, GT_EINVAL, "genesis block does not match the ledger's genesis parameters");
            goto done;
        }
    }
    /* Read the stored log through the source connection. */
    sqlite3 *sdb;
    if (sqlite3_open_v2(path, &sdb, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
        rc = gt_err_set(err, GT_EDB, "cannot open %s", path);
        sqlite3_close(sdb);
        goto done;
    }
    if (sqlite3_prepare_v2(sdb, "SELECT body FROM actions WHERE height=? ORDER BY idx", -1, &qa, NULL)) {
        rc = gt_err_set(err, GT_EDB, "actions: %s", sqlite3_errmsg(sdb));
        sqlite3_close(sdb);
        goto done;
    }
    for (uint64_t h = 1; h <= head.height; h++) {
        gt_block sb;
        if ((rc = gt_ledger_block(src, h, &sb, err))) break;
        if (memcmp(sb.prev, prev.hash, 32)) { rc = gt_err_set(err, GT_EINVAL, "block %llu: prev hash does not link to block %llu", (unsigned long long)h, (unsigned long long)h - 1); break; }
        if (sb.time_s < prev.time_s) { rc = gt_err_set(err, GT_EINVAL, "block %llu: time goes backwards", (unsigned long long)h); break; }
        gt_tx tx = {.state = st, .db = mem, .chain_id = g->chain_id, .height = h, .time_s = sb.time_s,
                    .unbonding_blocks = g->unbonding_blocks, .authority = g->authority};
        memcpy(tx.prev_hash, prev.hash, 32);
        if (sqlite3_exec(mem, "BEGIN", NULL, NULL, NULL)) { rc = gt_err_set(err, GT_EDB, "replay: %s", sqlite3_errmsg(mem)); break; }
        int ch = gt_block_begin(&tx, err);
        if (ch < 0) { rc = ch; break; }
        if (sb.n_actions > ids_cap) {
            void *p = gt_realloc(ids, (size_t)sb.n_actions * 32);
            if (!p) { rc = gt_err_set(err, GT_ENOMEM, "out of memory"); break; }
            ids = p;
            ids_cap = sb.n_actions;
        }
        uint32_t k = 0;
        sqlite3_bind_int64(qa, 1, (int64_t)h);
        while ((rc = sqlite3_step(qa)) == SQLITE_ROW) {
            if (k >= sb.n_actions) { rc = gt_err_set(err, GT_EINVAL, "block %llu holds more actions than its header says", (unsigned long long)h); break; }
            rc = gt_action_decode(sqlite3_column_blob(qa, 0), (size_t)sqlite3_column_bytes(qa, 0), a, err);
            if (!rc) rc = gt_action_verify(a, g->chain_id, err);
            if (!rc) rc = gt_block_apply_action(&tx, a, err);
            if (rc) { gt_err_wrap(err, "block %llu action %u", (unsigned long long)h, k); break; }
            memcpy(ids[k++], a->id, 32);
            rep->actions++;
        }
        sqlite3_reset(qa);
        if (rc != SQLITE_DONE && rc != 0) break;
        rc = 0;
        if (k != sb.n_actions) { rc = gt_err_set(err, GT_EINVAL, "block %llu: header says %u actions, log has %u", (unsigned long long)h, sb.n_actions, k); break; }
        gt_block rb = {.height = h, .time_s = sb.time_s, .n_actions = k};
        memcpy(rb.prev, prev.hash, 32);
        gt_merkle_root((const uint8_t(*)[32])ids, k, rb.actions_root);
        if ((rc = gt_block_finish(&tx, prev.state_root, &rb, err))) break;
        if (sqlite3_exec(mem, "COMMIT", NULL, NULL, NULL)) { rc = gt_err_set(err, GT_EDB, "replay: %s", sqlite3_errmsg(mem)); break; }
        char x[67], y[67];
        if (memcmp(rb.actions_root, sb.actions_root, 32)) { hex32(rb.actions_root, x); hex32(sb.actions_root, y); rc = gt_err_set(err, GT_EINVAL, "block %llu: actions root %s, stored %s", (unsigned long long)h, x, y); break; }
        if (memcmp(rb.state_root, sb.state_root, 32)) { hex32(rb.state_root, x); hex32(sb.state_root, y); rc = gt_err_set(err, GT_EINVAL, "block %llu: replayed state root %s, stored %s", (unsigned long long)h, x, y); break; }
        if (memcmp(rb.hash, sb.hash, 32)) { hex32(rb.hash, x); hex32(sb.hash, y); rc = gt_err_set(err, GT_EINVAL, "block %llu: hash %s, stored %s", (unsigned long long)h, x, y); break; }
        prev = sb;
        rep->blocks++;
        if (progress) progress(progress_arg, h, head.height);
    }
    sqlite3_finalize(qa);
    qa = NULL;
    sqlite3_close(sdb);
    if (rc) goto done;
    /* The stored state must be exactly the replayed one. */
    {
        char attach[4200];
        char *quoted = sqlite3_mprintf("ATTACH DATABASE %Q AS stored", path);
        snprintf(attach, sizeof attach, "%s", quoted);
        sqlite3_free(quoted);
        if (sqlite3_exec(mem, attach, NULL, NULL, NULL)) { rc = gt_err_set(err, GT_EDB, "attach: %s", sqlite3_errmsg(mem)); goto done; }
        /* Every state table -- the core's and each module's (the replay store
         * holds exactly those) -- must match row for row. */
        sqlite3_stmt *tq;
        if (sqlite3_prepare_v2(mem, "SELECT name FROM main.sqlite_master WHERE type='table' AND name<>'meta' ORDER BY name",
                               -1, &tq, NULL)) {
            rc = gt_err_set(err, GT_EDB, "replay: %s", sqlite3_errmsg(mem));
            goto done;
        }
        while (!rc && sqlite3_step(tq) == SQLITE_ROW) {
            char table[128];
            snprintf(table, sizeof table, "%s", (const char *)sqlite3_column_text(tq, 0));
            rc = compare_table(mem, table, err);
        }
        sqlite3_finalize(tq);
        if (rc) goto done;
        uint64_t stored_supply = gt_ledger_supply(src);
        if (stored_supply != gt_state_supply(st)) { rc = gt_err_set(err, GT_EINVAL, "stored supply differs from the replayed supply"); goto done; }
        /* Supply is conserved: the sum of every bucket equals it. */
        sqlite3_stmt *q;
        if (sqlite3_prepare_v2(mem, "SELECT coalesce(sum(balance+staked+locked+unbonding),0) FROM main.accounts", -1, &q, NULL) == SQLITE_OK &&
            sqlite3_step(q) == SQLITE_ROW) {
            uint64_t sum = (uint64_t)sqlite3_column_int64(q, 0);
            if (sum != gt_state_supply(st)) rc = gt_err_set(err, GT_EINVAL, "accounts hold %llu units but supply is %llu", (unsigned long long)sum, (unsigned long long)gt_state_supply(st));
        }
        sqlite3_finalize(q);
    }
    memcpy(rep->head_hash, head.hash, 32);
    rep->supply = gt_state_supply(st);
done:
    sqlite3_finalize(qa);
    gt_free(ids);
    gt_free(a);
    gt_state_free(st);
    if (mem) sqlite3_close(mem);
    gt_ledger_close(src);
    return rc;
}
