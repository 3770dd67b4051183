/* fund_query.c: the fund module's rows as JSON for the API and the CLI.
 * Amounts are base units as decimal strings (the API's convention, units.c),
 * ids and roots 0x hex, addresses EIP-55. Every reader goes through
 * ledger/row.h: a damaged column is GT_EDB naming it. */
#include <stdio.h>

#include "base/alloc.h"
#include "base/hex.h"
#include "crypto/addr.h"
#include "fund/airdrop.h"
#include "fund/fund.h"
#include "fund/fund_impl.h"
#include "fund/qf.h"
#include "ledger/row.h"

#define FD_ROUNDS_PAGE_MAX 100



static const char *status_name(int s) {
    return s == GT_FUND_ROUND_OPEN ? "open" : s == GT_FUND_ROUND_FINALIZED ? "finalized" : "failed";
}

/* One round row (columns of ROUND_COLS) as JSON. */
#define ROUND_COLS                                                                                                     \
    "id, creator, name, rule, pool, pairwise_m, start_s, end_s, created_height, status, projects,"                     \
    " contribs, contributed, matched, remainder, finalized_height"
static json_t *round_json(sqlite3_stmt *q, gt_err *err) {
    const char *T = "fd_rounds";
    uint8_t id[32];
    gt_addr creator;
    char name[GT_FUND_NAME_MAX + 1];
    uint64_t v[13];
    int rc = gt_row_blob(q, 0, id, 32, T, err) || gt_row_blob(q, 1, creator.b, 20, T, err) ||
             gt_row_text(q, 2, name, sizeof name, T, err);
    for (int i = 0; !rc && i < 13; i++) rc = gt_row_amount(q, 3 + i, &v[i], T, err);
    if (rc) return NULL;
    json_t *o = json_object();
    int bad = !o;
    if (o) {
        gt_fund_j_put(o, "id", gt_fund_j_hex(id, 32), &bad);
        gt_fund_j_put(o, "creator", gt_fund_j_addr(&creator), &bad);
        gt_fund_j_put(o, "name", json_string(name), &bad);
        gt_fund_j_put(o, "rule", json_string(v[0] == GT_FUND_QF ? "qf" : "pairwise"), &bad);
        gt_fund_j_put(o, "pool", gt_fund_j_amt(v[1]), &bad);
        gt_fund_j_put(o, "pairwiseM", gt_fund_j_amt(v[2]), &bad);
        gt_fund_j_put(o, "startS", json_integer((json_int_t)v[3]), &bad);
        gt_fund_j_put(o, "endS", json_integer((json_int_t)v[4]), &bad);
        gt_fund_j_put(o, "createdHeight", json_integer((json_int_t)v[5]), &bad);
        gt_fund_j_put(o, "status", json_string(status_name((int)v[6])), &bad);
        gt_fund_j_put(o, "contributions", json_integer((json_int_t)v[8]), &bad);
        gt_fund_j_put(o, "contributed", gt_fund_j_amt(v[9]), &bad);
        gt_fund_j_put(o, "matched", gt_fund_j_amt(v[10]), &bad);
        gt_fund_j_put(o, "remainder", gt_fund_j_amt(v[11]), &bad);
        gt_fund_j_put(o, "finalizedHeight", json_integer((json_int_t)v[12]), &bad);
    }
    if (bad) {
        json_decref(o);
        gt_err_set(err, GT_ENOMEM, "out of memory");
        return NULL;
    }
    return o;
}

/* The projects of round id as a JSON array. */
static json_t *projects_json(sqlite3 *db, const uint8_t id[32], gt_err *err) {
    sqlite3_stmt *q;
    if (gt_fund_prepare(db,
                        "SELECT idx, kind, ref, payee, contributed, contributors, match FROM fd_projects"
                        " WHERE round=? ORDER BY idx",
                        &q, err))
        return NULL;
    sqlite3_bind_blob(q, 1, id, 32, SQLITE_STATIC);
    json_t *arr = json_array();
    int bad = !arr, rc = 0;
    while (!bad && !rc && sqlite3_step(q) == SQLITE_ROW) {
        uint64_t idx, kind, contributed, n, match;
        uint8_t ref[32];
        gt_addr payee;
        const char *T = "fd_projects";
        if ((rc = gt_row_amount(q, 0, &idx, T, err) || gt_row_amount(q, 1, &kind, T, err) ||
                  gt_row_blob(q, 2, ref, 32, T, err) || gt_row_blob(q, 3, payee.b, 20, T, err) ||
                  gt_row_amount(q, 4, &contributed, T, err) || gt_row_amount(q, 5, &n, T, err) ||
                  gt_row_amount(q, 6, &match, T, err)))
            break;
        json_t *p = json_object();
        bad = !p;
        gt_fund_j_put(p, "index", json_integer((json_int_t)idx), &bad);
        const char *kn = kind == GT_FUND_PROJECT_DATASET ? "dataset"
                         : kind == GT_FUND_PROJECT_MODEL ? "model"
                                                         : "evaluation";
        gt_fund_j_put(p, "kind", json_string(kn), &bad);
        gt_fund_j_put(p, "ref", gt_fund_j_hex(ref, 32), &bad);
        gt_fund_j_put(p, "payee", gt_fund_j_addr(&payee), &bad);
        gt_fund_j_put(p, "contributed", gt_fund_j_amt(contributed), &bad);
        gt_fund_j_put(p, "contributors", json_integer((json_int_t)n), &bad);
        gt_fund_j_put(p, "match", gt_fund_j_amt(match), &bad);
        if (json_array_append_new(arr, p)) bad = 1;
    }
    sqlite3_finalize(q);
    if (bad && !rc) gt_err_set(err, GT_ENOMEM, "out of memory");
    if (bad || rc) json_decref(arr);
    return bad || rc ? NULL : arr;
}

json_t *gt_fund_round_get(sqlite3 *db, const uint8_t id[32], gt_err *err) {
    sqlite3_stmt *q;
    if (gt_fund_prepare(db, "SELECT " ROUND_COLS " FROM fd_rounds WHERE id=?", &q, err)) return NULL;
    sqlite3_bind_blob(q, 1, id, 32, SQLITE_STATIC);
    json_t *o = NULL;
    if (sqlite3_step(q) == SQLITE_ROW)
        o = round_json(q, err);
    else {
        char h[19];
        gt_err_set(err, GT_ENOTFOUND, "no funding round %s…", gt_fund_short(id, h));
    }
    sqlite3_finalize(q);
    json_t *p = o ? projects_json(db, id, err) : NULL;
    if (o && (!p || json_object_set_new(o, "projects", p))) {
        json_decref(o);
        return NULL;
    }
    return o;
}

json_t *gt_fund_rounds_list(sqlite3 *db, uint64_t limit, gt_err *err) {
    sqlite3_stmt *q;
    if (limit == 0 || limit > FD_ROUNDS_PAGE_MAX) limit = FD_ROUNDS_PAGE_MAX;
    if (gt_fund_prepare(db, "SELECT " ROUND_COLS " FROM fd_rounds ORDER BY created_height DESC, id LIMIT ?", &q, err))
        return NULL;
    sqlite3_bind_int64(q, 1, (int64_t)limit);
    json_t *arr = json_array(), *o;
    int rc = !arr;
    while (!rc && sqlite3_step(q) == SQLITE_ROW) rc = !(o = round_json(q, err)) || json_array_append_new(arr, o);
    sqlite3_finalize(q);
    if (!rc) return json_pack("{s:o}", "rounds", arr);
    json_decref(arr);
    if (!err || !err->code) gt_err_set(err, GT_ENOMEM, "out of memory");
    return NULL;
}

/* who as an issuer: null when it never registered, else {bond, status:
 * "vouching" | "under-bonded" (slashed below the minimum) | "unbonding"
 * (left; its bond still slashable) | "withdrawn", leaveHeight,
 * releaseHeight}; NULL with err set on failure. */
static json_t *issuer_json(sqlite3 *db, const gt_addr *who, gt_err *err) {
    fd_issuer is;
    if (gt_fund_issuer_read(NULL, db, who, &is, err)) return NULL;
    if (!is.registered) return json_null();
    const char *st = is.withdrawn ? "withdrawn"
                     : is.left    ? "unbonding"
                     : is.bond >= GT_FUND_ISSUER_MIN_STAKE ? "vouching"
                                                           : "under-bonded";
    json_t *o = json_object();
    int bad = !o;
    gt_fund_j_put(o, "bond", gt_fund_j_amt(is.bond), &bad);
    gt_fund_j_put(o, "status", json_string(st), &bad);
    gt_fund_j_put(o, "leaveHeight", is.left ? json_integer((json_int_t)is.leave_height) : json_null(), &bad);
    gt_fund_j_put(o, "releaseHeight", is.left ? json_integer((json_int_t)is.release_height) : json_null(), &bad);
    if (bad) json_decref(o), gt_err_set(err, GT_ENOMEM, "out of memory");
    return bad ? NULL : o;
}

json_t *gt_fund_human_get(sqlite3 *db, const gt_addr *subject, uint64_t now_s, gt_err *err) {
    uint32_t w;
    if (gt_fund_human_weight(db, subject, now_s, &w, err)) return NULL;
    sqlite3_stmt *q;
    if (gt_fund_prepare(db,
                        "SELECT issuer, weight_ppm, expires_s, revoked, height FROM fd_humans WHERE subject=?"
                        " ORDER BY issuer",
                        &q, err))
        return NULL;
    sqlite3_bind_blob(q, 1, subject->b, 20, SQLITE_STATIC);
    json_t *arr = json_array();
    int bad = !arr, rc = 0;
    while (!bad && !rc && sqlite3_step(q) == SQLITE_ROW) {
        gt_addr issuer;
        uint64_t wt, exp, rev, h;
        const char *T = "fd_humans";
        if ((rc = gt_row_blob(q, 0, issuer.b, 20, T, err) || gt_row_amount(q, 1, &wt, T, err) ||
                  gt_row_amount(q, 2, &exp, T, err) || gt_row_amount(q, 3, &rev, T, err) ||
                  gt_row_amount(q, 4, &h, T, err)))
            break;
        json_t *o = json_object();
        bad = !o;
        gt_fund_j_put(o, "issuer", gt_fund_j_addr(&issuer), &bad);
        gt_fund_j_put(o, "weightPpm", json_integer((json_int_t)wt), &bad);
        gt_fund_j_put(o, "expiresS", json_integer((json_int_t)exp), &bad);
        gt_fund_j_put(o, "revoked", json_boolean(rev), &bad);
        gt_fund_j_put(o, "height", json_integer((json_int_t)h), &bad);
        if (json_array_append_new(arr, o)) bad = 1;
    }
    sqlite3_finalize(q);
    json_t *slashes = bad || rc ? NULL : gt_fund_issuer_slashes(db, subject, err);
    if (!bad && !rc && !slashes) rc = err->code ? err->code : GT_ENOMEM;
    json_t *issuer = bad || rc ? NULL : issuer_json(db, subject, err);
    if (!bad && !rc && !issuer) {
        rc = err->code ? err->code : GT_ENOMEM;
        json_decref(slashes);
    }
    json_t *out = bad || rc ? NULL
                            : json_pack("{s:o,s:I,s:o,s:o,s:o}", "address", gt_fund_j_addr(subject), "weightPpm",
                                        (json_int_t)w, "attestations", arr, "slashes", slashes, "issuer", issuer);
    if (!out) {
        if (!rc) gt_err_set(err, GT_ENOMEM, "out of memory");
        if (bad || rc) json_decref(arr);
    }
    return out;
}

/* The rows of epoch's points (open) or leaves (closed) as an array. */
static json_t *epoch_rows(sqlite3 *db, uint64_t epoch, int closed, gt_err *err) {
    sqlite3_stmt *q;
    if (gt_fund_prepare(db,
                        closed ? "SELECT idx, account, amount, claimed FROM fd_leaves WHERE epoch=? ORDER BY idx"
                               : "SELECT 0, account, points, 0 FROM fd_points WHERE epoch=? ORDER BY account",
                        &q, err))
        return NULL;
    sqlite3_bind_int64(q, 1, (int64_t)epoch);
    json_t *arr = json_array();
    int bad = !arr, rc = 0;
    const char *T = closed ? "fd_leaves" : "fd_points";
    while (!bad && !rc && sqlite3_step(q) == SQLITE_ROW) {
        gt_addr acct;
        uint64_t idx, v, claimed;
        if ((rc = gt_row_amount(q, 0, &idx, T, err) || gt_row_blob(q, 1, acct.b, 20, T, err) ||
                  gt_row_amount(q, 2, &v, T, err) || gt_row_amount(q, 3, &claimed, T, err)))
            break;
        json_t *o = json_object();
        bad = !o;
        gt_fund_j_put(o, "account", gt_fund_j_addr(&acct), &bad);
        if (closed) {
            gt_fund_j_put(o, "index", json_integer((json_int_t)idx), &bad);
            gt_fund_j_put(o, "amount", gt_fund_j_amt(v), &bad);
            gt_fund_j_put(o, "claimed", json_boolean(claimed), &bad);
        } else {
            gt_fund_j_put(o, "points", gt_fund_j_amt(v), &bad);
        }
        if (json_array_append_new(arr, o)) bad = 1;
    }
    sqlite3_finalize(q);
    if (bad && !rc) gt_err_set(err, GT_ENOMEM, "out of memory");
    if (bad || rc) json_decref(arr);
    return bad || rc ? NULL : arr;
}

/* The epoch's funders [{address, amount}] in address order (format 14's
 * fd_epoch_funds); an epoch funded only before format 14 has one: funder,
 * the whole pool; an unfunded one none. */
static json_t *epoch_funders(sqlite3 *db, uint64_t epoch, int found, const gt_addr *funder, uint64_t pool,
                             gt_err *err) {
    sqlite3_stmt *q;
    if (gt_fund_prepare(db, "SELECT funder, amount FROM fd_epoch_funds WHERE epoch=? ORDER BY funder", &q, err))
        return NULL;
    sqlite3_bind_int64(q, 1, (int64_t)epoch);
    json_t *arr = json_array();
    int bad = !arr, rc = 0;
    while (!bad && !rc && sqlite3_step(q) == SQLITE_ROW) {
        gt_addr who;
        uint64_t amt;
        if ((rc = gt_row_blob(q, 0, who.b, 20, "fd_epoch_funds", err) ||
                  gt_row_amount(q, 1, &amt, "fd_epoch_funds", err)))
            break;
        bad = json_array_append_new(arr, json_pack("{s:o,s:o}", "address", gt_fund_j_addr(&who), "amount",
                                                   gt_fund_j_amt(amt))) != 0;
    }
    sqlite3_finalize(q);
    if (!bad && !rc && found && json_array_size(arr) == 0)
        bad = json_array_append_new(arr, json_pack("{s:o,s:o}", "address", gt_fund_j_addr(funder), "amount",
                                                   gt_fund_j_amt(pool))) != 0;
    if (bad && !rc) gt_err_set(err, GT_ENOMEM, "out of memory");
    if (bad || rc) json_decref(arr);
    return bad || rc ? NULL : arr;
}

json_t *gt_fund_epoch_get(sqlite3 *db, uint64_t epoch, gt_err *err) {
    sqlite3_stmt *q;
    if (gt_fund_prepare(db,
                        "SELECT funder, pool, status, root, total_points, leaves, claimed FROM fd_epochs WHERE epoch=?",
                        &q, err))
        return NULL;
    sqlite3_bind_int64(q, 1, (int64_t)epoch);
    gt_addr funder = {{0}};
    uint64_t pool = 0, status = 0, total = 0, leaves = 0, claimed = 0;
    uint8_t root[32] = {0};
    int found = sqlite3_step(q) == SQLITE_ROW, rc = 0;
    const char *T = "fd_epochs";
    if (found)
        rc = gt_row_blob(q, 0, funder.b, 20, T, err) || gt_row_amount(q, 1, &pool, T, err) ||
             gt_row_amount(q, 2, &status, T, err) || gt_row_blob(q, 3, root, 32, T, err) ||
             gt_row_amount(q, 4, &total, T, err) || gt_row_amount(q, 5, &leaves, T, err) ||
             gt_row_amount(q, 6, &claimed, T, err);
    sqlite3_finalize(q);
    if (rc) return NULL;
    int closed = found && status == GT_FUND_EPOCH_CLOSED;
    json_t *rows = epoch_rows(db, epoch, closed, err);
    if (!rows) return NULL;
    json_t *funders = epoch_funders(db, epoch, found, &funder, pool, err);
    if (!funders) {
        json_decref(rows);
        return NULL;
    }
    json_t *o = json_pack(
        "{s:I,s:I,s:I,s:I,s:s,s:o,s:o,s:o,s:o,s:o,s:I,s:o}", "epoch", (json_int_t)epoch, "startS",
        (json_int_t)(epoch * GT_FUND_EPOCH_S), "endS", (json_int_t)((epoch + 1) * GT_FUND_EPOCH_S), "closeFromS",
        (json_int_t)((epoch + 1) * GT_FUND_EPOCH_S + GT_AIRDROP_CLOSE_GRACE_S), "status",
        !found   ? "unfunded"
        : closed ? "closed"
                 : "funded",
        "funder", found ? gt_fund_j_addr(&funder) : json_null(), "funders", funders, "pool", gt_fund_j_amt(pool),
        "claimed",
        gt_fund_j_amt(claimed), "root", closed ? gt_fund_j_hex(root, 32) : json_null(), "leaves", (json_int_t)leaves,
        closed ? "claims" : "points", rows);
    if (!o) gt_err_set(err, GT_ENOMEM, "out of memory");
    return o;
}

/* The closed epoch's leaves as claims, in index order. */
static int load_leaves(sqlite3 *db, uint64_t epoch, gt_fund_claim **out, int **claimed, size_t *n, gt_err *err) {
    sqlite3_stmt *q;
    *out = NULL, *claimed = NULL, *n = 0;
    int rc =
        gt_fund_prepare(db, "SELECT idx, account, amount, claimed FROM fd_leaves WHERE epoch=? ORDER BY idx", &q, err);
    if (!rc) sqlite3_bind_int64(q, 1, (int64_t)epoch);
    size_t cap = 0;
    while (!rc && sqlite3_step(q) == SQLITE_ROW) {
        if (*n == cap) {
            size_t nc = cap ? 2 * cap : 64;
            gt_fund_claim *g = nc <= 2u * GT_FUND_EPOCH_MAX_ACCOUNTS ? gt_realloc(*out, nc * sizeof **out) : NULL;
            int *h = g ? gt_realloc(*claimed, nc * sizeof **claimed) : NULL;
            if (g) *out = g;
            if (h) *claimed = h;
            if (!g || !h) {
                rc = gt_err_set(err, GT_ENOMEM, "out of memory");
                break;
            }
            cap = nc;
        }
        uint64_t idx;
        if ((rc = gt_row_amount(q, 0, &idx, "fd_leaves", err) ||
                  gt_row_blob(q, 1, (*out)[*n].account.b, 20, "fd_leaves", err) ||
                  gt_row_amount(q, 2, &(*out)[*n].amount, "fd_leaves", err) ||
                  gt_row_int(q, 3, &(*claimed)[*n], "fd_leaves", err)))
            break;
        if (idx != *n)
            rc = gt_row_damaged(q, 0, "fd_leaves", "indexes 0, 1, ...", err);
        else
            (*n)++;
    }
    if (q) sqlite3_finalize(q);
    return rc;
}

json_t *gt_fund_claim_get(sqlite3 *db, uint64_t epoch, const gt_addr *account, gt_err *err) {
    gt_fund_claim *cl;
    int *claimed;
    size_t n, at = SIZE_MAX;
    json_t *o = NULL;
    if (load_leaves(db, epoch, &cl, &claimed, &n, err)) goto done;
    for (size_t i = 0; i < n; i++)
        if (gt_addr_eq(&cl[i].account, account)) at = i;
    char s[43];
    if (at == SIZE_MAX) {
        gt_err_set(err, GT_ENOTFOUND, "%s has no claim in epoch %llu (closed epochs only)", gt_fund_addr(account, s),
                   (unsigned long long)epoch);
        goto done;
    }
    gt_fund_airdrop tree = {0};
    uint8_t(*proof)[32] = NULL;
    size_t len = 0;
    if (!gt_fund_airdrop_build(cl, n, &tree, err) && !gt_fund_airdrop_proof(&tree, at, &proof, &len, err)) {
        json_t *arr = json_array();
        char *flat = gt_malloc(64 * len + 1);
        for (size_t i = 0; arr && flat && i < len; i++) {
            json_array_append_new(arr, gt_fund_j_hex(proof[i], 32));
            gt_hex_encode(proof[i], 32, flat + 64 * i);
        }
        if (flat) flat[64 * len] = 0;
        o = arr && flat
                ? json_pack("{s:I,s:I,s:o,s:o,s:b,s:o,s:o,s:s}", "epoch", (json_int_t)epoch, "index", (json_int_t)at,
                            "account", gt_fund_j_addr(account), "amount", gt_fund_j_amt(cl[at].amount), "claimed",
                            claimed[at], "root", gt_fund_j_hex(tree.root, 32), "proof", arr, "proofHex", flat)
                : NULL;
        if (!o) gt_err_set(err, GT_ENOMEM, "out of memory");
        gt_free(flat);
    }
    gt_free(proof);
    gt_fund_airdrop_free(&tree);
done:
    gt_free(cl);
    gt_free(claimed);
    return o;
}
