/* fund_sybil.c: slashing an issuer of proof of human shown to have attested
 * one human as two (fund.h, human_same).
 *
 * The evidence: two addresses each sign a human_same naming the other ("I am
 * the same human as that address"). Both signatures are needed, so nobody
 * can accuse an address of being a duplicate without its key. Once the second
 * of the pair is applied, every issuer that attested both addresses as
 * different persons (two unrevoked attestations with different person ids:
 * each gives its own nullifier, so the one human could act twice in a round or
 * take two seats of a label task) is shown to have vouched for a sybil:
 *  - GT_FUND_SYBIL_SLASH of its bond is burned (all of it when it holds
 *    less): the bond falls under the minimum and every attestation the issuer
 *    made stops counting (gt_fund_human_weight reads the bond). The bond is a
 *    lock, not plain stake (fund_human.c), so an issuer that left is still
 *    slashed through its unbonding period: leaving before the proof does not
 *    save it;
 *  - both attestations are revoked.
 * The stake is burned, not paid to the pair: a sybil that confesses gains
 * nothing from it, and two real humans who lie that they are one lose their
 * attestations from that issuer for nothing -- a confession cannot be told from
 * a lie, so the rule makes lying cost the liars and pay nobody.
 * An issuer that attested both with the same person id said they are one
 * human (the nullifier already lets only one of them act): it is not slashed.
 * An attestation the issuer revoked before the proof is not counted: an
 * issuer that finds its own mistake and revokes in time is not slashed.
 * Each issuer is slashed once per pair (its two attestations are revoked by
 * the first slash); each pair of statements is recorded once. */
#include <assert.h>
#include <string.h>

#include "crypto/addr.h"
#include "fund/fund.h"
#include "fund/fund_impl.h"
#include "ledger/row.h"

/* Records who's statement that it is the same human as other; GT_EEXIST
 * when it was made before. */
static int same_insert(gt_tx *tx, const gt_addr *who, const gt_addr *other, gt_err *err) {
    sqlite3_stmt *q;
    int rc = gt_fund_prepare(tx->db, "INSERT OR IGNORE INTO fd_human_same VALUES(?,?,?)", &q, err);
    if (rc) return rc;
    sqlite3_bind_blob(q, 1, who->b, 20, SQLITE_STATIC);
    sqlite3_bind_blob(q, 2, other->b, 20, SQLITE_STATIC);
    sqlite3_bind_int64(q, 3, (int64_t)tx->height);
    if ((rc = gt_fund_exec_done(tx->db, q, "writing the statement", err))) return rc;
    if (sqlite3_changes(tx->db) != 1)
        return gt_err_set(err, GT_EEXIST, "this address already said it is the same human as that one");
    return 0;
}

/* Whether other already said it is the same human as who. */
static int same_confirmed(gt_tx *tx, const gt_addr *who, const gt_addr *other, int *yes, gt_err *err) {
    sqlite3_stmt *q;
    int rc = gt_fund_prepare(tx->db, "SELECT 1 FROM fd_human_same WHERE addr=? AND other=?", &q, err);
    if (rc) return rc;
    sqlite3_bind_blob(q, 1, other->b, 20, SQLITE_STATIC);
    sqlite3_bind_blob(q, 2, who->b, 20, SQLITE_STATIC);
    int s = sqlite3_step(q);
    sqlite3_finalize(q);
    *yes = s == SQLITE_ROW;
    return s == SQLITE_ROW || s == SQLITE_DONE ? 0 : gt_err_set(err, GT_EDB, "reading statements");
}

#define SYBIL_MAX_ISSUERS 64 /* issuers judged in one proof (more are judged by a later pair's proof) */

/* The issuers that attested a and b as different persons, both unrevoked,
 * in issuer order (at most SYBIL_MAX_ISSUERS). */
static int guilty_issuers(sqlite3 *db, const gt_addr *a, const gt_addr *b, gt_addr *out, int *n, gt_err *err) {
    sqlite3_stmt *q;
    *n = 0;
    int rc = gt_fund_prepare(db,
                             "SELECT x.issuer FROM fd_humans x JOIN fd_humans y ON y.issuer=x.issuer"
                             " WHERE x.subject=? AND y.subject=? AND x.revoked=0 AND y.revoked=0"
                             " AND x.person<>y.person ORDER BY x.issuer LIMIT ?",
                             &q, err);
    if (rc) return rc;
    sqlite3_bind_blob(q, 1, a->b, 20, SQLITE_STATIC);
    sqlite3_bind_blob(q, 2, b->b, 20, SQLITE_STATIC);
    sqlite3_bind_int(q, 3, SYBIL_MAX_ISSUERS);
    while (!rc && sqlite3_step(q) == SQLITE_ROW) rc = gt_row_blob(q, 0, out[(*n)++].b, 20, "fd_humans", err);
    sqlite3_finalize(q);
    return rc;
}

/* Revokes issuer's attestations of a and b, burns its penalty from its bond
 * (whether it still vouches or left and is unbonding) and records the slash;
 * *burned gets the amount. */
static int slash_issuer(fd_ctx *c, const gt_addr *issuer, const gt_addr *a, const gt_addr *b, uint64_t *burned,
                        gt_err *err) {
    gt_tx *tx = c->tx;
    fd_issuer is;
    uint8_t bond[32];
    sqlite3_stmt *q;
    int rc = gt_fund_issuer_read(tx, NULL, issuer, &is, err);
    if (rc) return rc;
    *burned = is.bond < GT_FUND_SYBIL_SLASH ? is.bond : GT_FUND_SYBIL_SLASH;
    gt_fund_issuer_bond_id(issuer, bond);
    if (*burned && (rc = gt_state_slash(tx, bond, NULL, *burned, err))) return rc;
    if ((rc = gt_fund_prepare(tx->db, "UPDATE fd_humans SET revoked=1 WHERE issuer=? AND subject IN (?,?)", &q, err)))
        return rc;
    sqlite3_bind_blob(q, 1, issuer->b, 20, SQLITE_STATIC);
    sqlite3_bind_blob(q, 2, a->b, 20, SQLITE_STATIC);
    sqlite3_bind_blob(q, 3, b->b, 20, SQLITE_STATIC);
    if ((rc = gt_fund_exec_done(tx->db, q, "revoking the sybil's attestations", err))) return rc;
    if ((rc = gt_fund_prepare(tx->db, "INSERT INTO fd_issuer_slashes VALUES(?,?,?,?,?)", &q, err))) return rc;
    sqlite3_bind_blob(q, 1, issuer->b, 20, SQLITE_STATIC);
    sqlite3_bind_blob(q, 2, a->b, 20, SQLITE_STATIC);
    sqlite3_bind_blob(q, 3, b->b, 20, SQLITE_STATIC);
    sqlite3_bind_int64(q, 4, (int64_t)*burned);
    sqlite3_bind_int64(q, 5, (int64_t)tx->height);
    if ((rc = gt_fund_exec_done(tx->db, q, "recording the slash", err))) return rc;
    if (gt_buf_putc(&c->diff, FD_REC_SYBIL) || gt_fund_rec_bytes(c, issuer->b, 20) || gt_fund_rec_bytes(c, a->b, 20) ||
        gt_fund_rec_bytes(c, b->b, 20) || gt_fund_rec_u64(c, *burned))
        return gt_err_set(err, GT_ENOMEM, "out of memory");
    return 0;
}

/* ---- human_same ---- */

static const gt_field_def same_fields[] = {{"other", GT_F_ADDRESS, 0}};

static int same_rule(fd_ctx *c, const gt_action *a, gt_err *err) {
    gt_tx *tx = c->tx;
    const gt_addr *other = &a->f[0].addr;
    gt_addr zero = {{0}}, guilty[SYBIL_MAX_ISSUERS];
    int confirmed = 0, n = 0;
    if (gt_addr_eq(other, &zero) || gt_addr_eq(other, &a->from))
        return gt_err_set(err, GT_EINVAL, "other: expected another address than the sender's, not zero");
    int rc = same_insert(tx, &a->from, other, err);
    if (rc || (rc = same_confirmed(tx, &a->from, other, &confirmed, err))) return rc;
    if (gt_buf_putc(&c->diff, FD_REC_SAME) || gt_fund_rec_bytes(c, a->from.b, 20) || gt_fund_rec_bytes(c, other->b, 20))
        return gt_err_set(err, GT_ENOMEM, "out of memory");
    if (!confirmed) return 0; /* proven once the other address says it too */
    if ((rc = guilty_issuers(tx->db, &a->from, other, guilty, &n, err))) return rc;
    for (int i = 0; !rc && i < n; i++) {
        uint64_t burned;
        rc = slash_issuer(c, &guilty[i], &a->from, other, &burned, err);
    }
    return rc;
}

static int apply_same(gt_tx *tx, const gt_action *a, gt_err *err) {
    fd_ctx c = {tx, GT_BUF_INIT};
    return gt_fund_finish(&c, same_rule(&c, a, err));
}

gt_action_kind gt_kind_human_same = {"human_same", "HumanSame", same_fields, 1, apply_same, 1, {0}, {0}, 0};

json_t *gt_fund_issuer_slashes(sqlite3 *db, const gt_addr *issuer, gt_err *err) {
    sqlite3_stmt *q;
    if (gt_fund_prepare(db,
                        "SELECT first, second, amount, height FROM fd_issuer_slashes WHERE issuer=?"
                        " ORDER BY height, first, second",
                        &q, err))
        return NULL;
    sqlite3_bind_blob(q, 1, issuer->b, 20, SQLITE_STATIC);
    json_t *arr = json_array();
    while (arr && sqlite3_step(q) == SQLITE_ROW) {
        gt_addr x, y;
        uint64_t amount = 0, height = 0; /* a damaged row: o is NULL, nothing is put */
        int bad = gt_row_blob(q, 0, x.b, 20, "fd_issuer_slashes", err) ||
                  gt_row_blob(q, 1, y.b, 20, "fd_issuer_slashes", err) ||
                  gt_row_amount(q, 2, &amount, "fd_issuer_slashes", err) ||
                  gt_row_amount(q, 3, &height, "fd_issuer_slashes", err);
        json_t *o = bad ? NULL : json_object();
        bad = !o;
        gt_fund_j_put(o, "first", gt_fund_j_addr(&x), &bad);
        gt_fund_j_put(o, "second", gt_fund_j_addr(&y), &bad);
        gt_fund_j_put(o, "burned", gt_fund_j_amt(amount), &bad);
        gt_fund_j_put(o, "height", json_integer((json_int_t)height), &bad);
        if (bad || json_array_append_new(arr, o)) json_decref(arr), arr = NULL;
    }
    sqlite3_finalize(q);
    if (!arr && !err->code) gt_err_set(err, GT_ENOMEM, "out of memory");
    return arr;
}
