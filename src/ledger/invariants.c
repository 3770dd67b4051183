/* invariants.c: the whole-store checks of the ledger's invariants (see
 * invariants.h; the per-action check lives with the cache in state.c). */
#include "ledger/invariants.h"

#include <stdio.h>
#include <stdlib.h>

_Noreturn void gt_invariant_fail(const char *msg) {
    fprintf(stderr, "invariant broken: %s\n", msg);
    fflush(stderr);
    abort();
}

/* Runs a query whose first row, if any, is a breach: 1 and its first
 * column's text in what, 0 when there is no row, or GT_EDB. */
static int breach(gt_tx *tx, const char *sql, char *what, size_t cap, gt_err *err) {
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(tx->db, sql, -1, &q, NULL))
        return gt_err_set(err, GT_EDB, "invariants: %s", sqlite3_errmsg(tx->db));
    int rc = sqlite3_step(q);
    if (rc == SQLITE_ROW) {
        const unsigned char *t = sqlite3_column_text(q, 0);
        snprintf(what, cap, "%s", t ? (const char *)t : "?");
    }
    sqlite3_finalize(q);
    if (rc == SQLITE_ROW) return 1;
    if (rc != SQLITE_DONE) return gt_err_set(err, GT_EDB, "invariants: %s", sqlite3_errmsg(tx->db));
    return 0;
}

/* Each: the invariant's name, and a query listing a breach first. */
static const struct { const char *name, *sql; } checks[] = {
    {"amounts-in-range",
     "SELECT 'account 0x' || hex(addr) FROM accounts WHERE typeof(balance)!='integer' OR balance<0 OR staked<0 "
     "OR locked<0 OR unbonding<0 OR nonce<0 UNION ALL SELECT 'lock 0x' || hex(id) FROM locks WHERE amount<0 "
     "UNION ALL SELECT 'unbonding entry ' || seq FROM unbonding WHERE amount<0 LIMIT 1"},
    {"locks-match-locked",
     "SELECT 'account 0x' || hex(a.addr) FROM accounts a LEFT JOIN (SELECT owner, sum(amount) s FROM locks "
     "GROUP BY owner) l ON l.owner=a.addr WHERE a.locked != coalesce(l.s, 0) UNION ALL SELECT 'lock owner 0x' || "
     "hex(owner) FROM locks WHERE amount>0 AND owner NOT IN (SELECT addr FROM accounts) LIMIT 1"},
    {"unbonding-entries",
     "SELECT 'account 0x' || hex(a.addr) FROM accounts a LEFT JOIN (SELECT addr, sum(amount) s FROM unbonding "
     "GROUP BY addr) u ON u.addr=a.addr WHERE a.unbonding != coalesce(u.s, 0) UNION ALL SELECT 'entry ' || seq "
     "FROM unbonding WHERE addr NOT IN (SELECT addr FROM accounts) LIMIT 1"},
};

int gt_ledger_check_books(gt_tx *tx, gt_err *err) {
    char what[128];
    for (size_t i = 0; i < sizeof checks / sizeof checks[0]; i++) {
        int rc = breach(tx, checks[i].sql, what, sizeof what, err);
        if (rc < 0) return rc;
        if (rc) return gt_err_set(err, GT_EINVAL, "invariant %s: broken at %s", checks[i].name, what);
    }
    /* Sum in 128 bits: the sum of holdings must equal supply exactly. */
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(tx->db, "SELECT balance, staked, locked, unbonding FROM accounts", -1, &q, NULL))
        return gt_err_set(err, GT_EDB, "invariants: %s", sqlite3_errmsg(tx->db));
    unsigned __int128 sum = 0;
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW)
        for (int c = 0; c < 4; c++) sum += (uint64_t)sqlite3_column_int64(q, c);
    sqlite3_finalize(q);
    if (rc != SQLITE_DONE) return gt_err_set(err, GT_EDB, "invariants: %s", sqlite3_errmsg(tx->db));
    uint64_t supply = gt_state_supply(tx->state);
    if (supply > GT_SUPPLY_MAX)
        return gt_err_set(err, GT_EINVAL, "invariant supply-max: supply %llu", (unsigned long long)supply);
    if (sum != supply)
        return gt_err_set(err, GT_EINVAL, "invariant supply-conserved: holdings sum to %llu, supply is %llu",
                          (unsigned long long)(uint64_t)sum, (unsigned long long)supply);
    return 0;
}
