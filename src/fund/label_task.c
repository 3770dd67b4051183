/* label_task.c: a paid preference-labelling task on the ledger (label.h) --
 * its tables, posting it, adding its items, and labellers taking seats.
 *
 * Rules and the attacks they answer:
 *  - The pay of every seat for every item is escrowed from the poster when
 *    the task is posted (a lock whose id is the task's id): a poster cannot
 *    promise pay it does not hold, nor take it back while the task runs.
 *  - Gold items are hidden: the poster commits to which items are gold and
 *    their answers (goldCommit) and opens the commitment only at close, so a
 *    labeller cannot tell a gold item from a plain one and answer only those
 *    with care. The commitment is fixed before anyone labels.
 *  - The bond is at least the pay of every item of a seat: a labeller that
 *    takes a seat and then labels only part of it loses more than it could
 *    be paid. From format 10 it is at most twice that pay: a false gold
 *    burns honest seats' bonds, so the poster must not set the stake.
 *  - From format 10 the commit and reveal windows are GT_LABEL_MIN_WINDOW_S
 *    each at least: a poster cannot make honest seats fail by a window no
 *    person meets (an incomplete seat's bond burns).
 *  - Items go in before anyone labels (joining waits for the last item): no
 *    item is added after a labeller saw the others.
 *  - Only an attested human takes a seat (a valid attestation from a
 *    registered, staked issuer at the block's time), never the poster (who
 *    knows the gold) -- from format 14 nor an address attested as the
 *    poster's human (poster_person_check) --, once per address; and the seat records the human's
 *    nullifiers for the task (fund_round.c's, with the task as scope): the
 *    same person from a second address is refused. An address without an
 *    attestation is refused. From format 10 this is the seat's only check of
 *    the attestation (label_vote.c: a later revocation or expiry does not
 *    make the seat fail). */
#include <assert.h>
#include <stdio.h>
#include <string.h>

#include "crypto/addr.h"
#include "crypto/keccak.h"
#include "fund/fund.h"
#include "fund/label.h"
#include "fund/label_impl.h"
#include "ledger/block.h"
#include "ledger/row.h"

static const char label_schema_sql[] =
    "CREATE TABLE IF NOT EXISTS fd_label_tasks(id BLOB PRIMARY KEY, poster BLOB NOT NULL, name TEXT NOT NULL,"
    " n_items INTEGER NOT NULL, k INTEGER NOT NULL, pay INTEGER NOT NULL, bond INTEGER NOT NULL,"
    " gold_bar_pct INTEGER NOT NULL, min_gold INTEGER NOT NULL, min_labels INTEGER NOT NULL,"
    " commit_end_s INTEGER NOT NULL, reveal_end_s INTEGER NOT NULL, gold_commit BLOB NOT NULL,"
    " created_height INTEGER NOT NULL, items INTEGER NOT NULL, joined INTEGER NOT NULL, commits INTEGER NOT NULL,"
    " reveals INTEGER NOT NULL, status INTEGER NOT NULL, gold TEXT NOT NULL, accepted INTEGER NOT NULL,"
    " careless INTEGER NOT NULL, incomplete INTEGER NOT NULL, labelled INTEGER NOT NULL,"
    " alpha_def INTEGER NOT NULL, alpha_ppm INTEGER NOT NULL, kappa_def INTEGER NOT NULL,"
    " kappa_ppm INTEGER NOT NULL, dpo_root BLOB NOT NULL, dpo_lines INTEGER NOT NULL, hh_root BLOB NOT NULL,"
    " paid INTEGER NOT NULL, burned INTEGER NOT NULL, refunded INTEGER NOT NULL,"
    " closed_height INTEGER NOT NULL, ranking INTEGER NOT NULL) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS fd_label_items(task BLOB NOT NULL, idx INTEGER NOT NULL, prompt TEXT NOT NULL,"
    " answers INTEGER NOT NULL, a0 TEXT NOT NULL, a1 TEXT NOT NULL, a2 TEXT NOT NULL, a3 TEXT NOT NULL,"
    " gold INTEGER NOT NULL, label INTEGER NOT NULL, PRIMARY KEY(task, idx)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS fd_label_seats(task BLOB NOT NULL, addr BLOB NOT NULL, seat INTEGER NOT NULL,"
    " commits INTEGER NOT NULL, reveals INTEGER NOT NULL, outcome INTEGER NOT NULL, paid INTEGER NOT NULL,"
    " gold_seen INTEGER NOT NULL, gold_right INTEGER NOT NULL, PRIMARY KEY(task, addr)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS fd_label_votes(task BLOB NOT NULL, item INTEGER NOT NULL, labeller BLOB NOT NULL,"
    " commitment BLOB NOT NULL, choice INTEGER NOT NULL, reason TEXT NOT NULL,"
    " PRIMARY KEY(task, item, labeller)) WITHOUT ROWID;";

static const gt_ledger_module label_module = {"fund_label", label_schema_sql, NULL, NULL, NULL, NULL, NULL};

int gt_fund_label_register(gt_err *err) {
    static gt_action_kind *const kinds[] = {&gt_kind_label_task_post, &gt_kind_label_rank_post,
                                            &gt_kind_label_item_add,  &gt_kind_label_join,
                                            &gt_kind_label_commit,    &gt_kind_label_reveal,
                                            &gt_kind_label_task_close};
    int rc = 0;
    for (size_t i = 0; !rc && i < sizeof kinds / sizeof kinds[0]; i++) rc = gt_action_register(kinds[i], err);
    return rc ? rc : gt_ledger_register_module(&label_module, err);
}

static void put_be64(uint8_t b[8], uint64_t v) {
    for (int i = 7; i >= 0; i--, v >>= 8) b[i] = (uint8_t)v;
}

void gt_fund_label_commitment(const uint8_t task[32], uint64_t item, const gt_addr *labeller, uint64_t choice,
                              const char *reason, size_t reason_len, const uint8_t salt[32], uint8_t out[32]) {
    static const char tag[] = "gotong.label.vote";
    uint8_t b[8], rh[32];
    gt_keccak256(reason, reason_len, rh);
    gt_keccak k;
    gt_keccak_init(&k);
    gt_keccak_update(&k, tag, sizeof tag - 1);
    gt_keccak_update(&k, task, 32);
    put_be64(b, item);
    gt_keccak_update(&k, b, 8);
    gt_keccak_update(&k, labeller->b, 20);
    put_be64(b, choice);
    gt_keccak_update(&k, b, 8);
    gt_keccak_update(&k, rh, 32);
    gt_keccak_update(&k, salt, 32);
    gt_keccak_final(&k, out);
}

void gt_fund_label_gold_commit(const uint8_t salt[32], const char *gold, size_t gold_len, uint8_t out[32]) {
    static const char tag[] = "gotong.label.gold";
    gt_keccak k;
    gt_keccak_init(&k);
    gt_keccak_update(&k, tag, sizeof tag - 1);
    gt_keccak_update(&k, salt, 32);
    gt_keccak_update(&k, gold, gold_len);
    gt_keccak_final(&k, out);
}

void gt_fund_label_bond_lock(const uint8_t task[32], const gt_addr *labeller, uint8_t out[32]) {
    static const char tag[] = "gotong.label.bond";
    gt_keccak k;
    gt_keccak_init(&k);
    gt_keccak_update(&k, tag, sizeof tag - 1);
    gt_keccak_update(&k, task, 32);
    gt_keccak_update(&k, labeller->b, 20);
    gt_keccak_final(&k, out);
}

int gt_fund_ltask_load(sqlite3 *db, const uint8_t id[32], fd_ltask *t, gt_err *err) {
    sqlite3_stmt *q;
    int rc = gt_fund_prepare(db,
                             "SELECT poster, gold_commit, status, n_items, k, pay, bond, gold_bar_pct, min_gold,"
                             " min_labels, commit_end_s, reveal_end_s, items, joined, commits, reveals, ranking"
                             " FROM fd_label_tasks WHERE id=?",
                             &q, err);
    if (rc) return rc;
    sqlite3_bind_blob(q, 1, id, 32, SQLITE_STATIC);
    int s = sqlite3_step(q);
    const char *T = "fd_label_tasks";
    if (s == SQLITE_ROW) {
        uint64_t *v[] = {&t->n_items,      &t->k,           &t->pay,          &t->bond,  &t->gold_bar_pct,
                         &t->min_gold,     &t->min_labels,  &t->commit_end_s, &t->reveal_end_s,
                         &t->items,        &t->joined,      &t->commits,      &t->reveals};
        rc = gt_row_blob(q, 0, t->poster.b, 20, T, err) || gt_row_blob(q, 1, t->gold_commit, 32, T, err) ||
             gt_row_int(q, 2, &t->status, T, err);
        for (int i = 0; !rc && i < 13; i++) rc = gt_row_amount(q, 3 + i, v[i], T, err);
        if (!rc) rc = gt_row_int(q, 16, &t->ranking, T, err);
        if (!rc && (t->ranking < 0 || t->ranking > 1)) rc = gt_row_damaged(q, 16, T, "ranking 0 or 1", err);
        if (!rc && (t->k > GT_AGREE_MAX_RATERS || t->n_items > GT_LABEL_MAX_ITEMS))
            rc = gt_row_damaged(q, 4, T, "a task within the label limits", err);
    } else {
        char h[19];
        rc = s == SQLITE_DONE ? gt_err_set(err, GT_ENOTFOUND, "no label task %s…", gt_fund_short(id, h))
                              : gt_err_set(err, GT_EDB, "reading label tasks: %s", sqlite3_errmsg(db));
    }
    sqlite3_finalize(q);
    return rc ? (err->code ? err->code : GT_EDB) : 0;
}

int gt_fund_ltask_bump(sqlite3 *db, const uint8_t id[32], const char *col, gt_err *err) {
    assert(!strcmp(col, "items") || !strcmp(col, "joined") || !strcmp(col, "commits") || !strcmp(col, "reveals"));
    char sql[96];
    snprintf(sql, sizeof sql, "UPDATE fd_label_tasks SET %s=%s+1 WHERE id=?", col, col);
    sqlite3_stmt *q;
    int rc = gt_fund_prepare(db, sql, &q, err);
    if (rc) return rc;
    sqlite3_bind_blob(q, 1, id, 32, SQLITE_STATIC);
    return gt_fund_exec_done(db, q, "updating the label task", err);
}

/* ---- label_task_post ---- */

static const gt_field_def post_fields[] = {
    {"name", GT_F_STRING, GT_FUND_NAME_MAX}, {"items", GT_F_U64, 0},        {"labellers", GT_F_U64, 0},
    {"payPerLabel", GT_F_U64, 0},            {"bond", GT_F_U64, 0},         {"goldBarPct", GT_F_U64, 0},
    {"minGold", GT_F_U64, 0},                {"minLabels", GT_F_U64, 0},    {"commitEndS", GT_F_U64, 0},
    {"revealEndS", GT_F_U64, 0},             {"goldCommit", GT_F_BYTES32, 0}};
enum { LP_NAME, LP_ITEMS, LP_K, LP_PAY, LP_BOND, LP_BAR, LP_MIN_GOLD, LP_MIN_LABELS, LP_COMMIT_END, LP_REVEAL_END,
       LP_GOLD };

/* Checks a task's counts and rules; 0 or GT_EINVAL saying what is expected. */
static int post_check_counts(const gt_action *a, gt_err *err) {
    uint64_t n = a->f[LP_ITEMS].u64, k = a->f[LP_K].u64, pay = a->f[LP_PAY].u64, bond = a->f[LP_BOND].u64;
    if (a->f[LP_NAME].str_len == 0) return gt_err_set(err, GT_EINVAL, "name: expected 1 to %d bytes", GT_FUND_NAME_MAX);
    if (n < 2 || n > GT_LABEL_MAX_ITEMS)
        return gt_err_set(err, GT_EINVAL, "items must be 2 to %d (at least one gold and one plain), got %llu",
                          GT_LABEL_MAX_ITEMS, (unsigned long long)n);
    if (k < 1 || k > GT_AGREE_MAX_RATERS)
        return gt_err_set(err, GT_EINVAL, "labellers must be 1 to %d, got %llu", GT_AGREE_MAX_RATERS,
                          (unsigned long long)k);
    if (pay < GT_LABEL_MIN_PAY || pay > GT_SUPPLY_MAX / (n * k))
        return gt_err_set(err, GT_EINVAL, "payPerLabel must be at least %u base units and the total within the supply",
                          GT_LABEL_MIN_PAY);
    if (bond < pay * n || bond > GT_SUPPLY_MAX)
        return gt_err_set(err, GT_EINVAL, "bond must be at least payPerLabel * items = %llu (a seat's whole pay)",
                          (unsigned long long)(pay * n));
    if (a->f[LP_BAR].u64 > 100)
        return gt_err_set(err, GT_EINVAL, "goldBarPct must be a percentage, 0 to 100, got %llu",
                          (unsigned long long)a->f[LP_BAR].u64);
    if (a->f[LP_MIN_GOLD].u64 < 1 || a->f[LP_MIN_GOLD].u64 >= n)
        return gt_err_set(err, GT_EINVAL, "minGold must be 1 to items - 1 = %llu", (unsigned long long)(n - 1));
    if (a->f[LP_MIN_LABELS].u64 < 1 || a->f[LP_MIN_LABELS].u64 > k)
        return gt_err_set(err, GT_EINVAL, "minLabels must be 1 to labellers = %llu", (unsigned long long)k);
    if (gt_fund_is_zero32(a->f[LP_GOLD].b32))
        return gt_err_set(err, GT_EINVAL, "goldCommit: expected the commitment to the gold items, got zero");
    return 0;
}

/* From format 10 (format10_height; older blocks replay as they were
 * decided): each window a person's time at least. A poster choosing a
 * second to reveal (or to label) made honest seats incomplete -- bond
 * burned, pay back to the poster, their revealed labels read. Assumes
 * time_s < commitEndS < revealEndS. */
static int post_check_min_windows(const gt_tx *tx, uint64_t ce, uint64_t re, gt_err *err) {
    if (tx->height < tx->format10_height) return 0;
    if (ce - tx->time_s < GT_LABEL_MIN_WINDOW_S)
        return gt_err_set(err, GT_EINVAL,
                          "commitEndS: the commit window is %llu s (block time %llu to commitEndS %llu), under the"
                          " minimum of %u s a person needs to label",
                          (unsigned long long)(ce - tx->time_s), (unsigned long long)tx->time_s,
                          (unsigned long long)ce, GT_LABEL_MIN_WINDOW_S);
    if (re - ce < GT_LABEL_MIN_WINDOW_S)
        return gt_err_set(err, GT_EINVAL,
                          "revealEndS: the reveal window is %llu s (commitEndS %llu to revealEndS %llu), under the"
                          " minimum of %u s a person needs to reveal",
                          (unsigned long long)(re - ce), (unsigned long long)ce, (unsigned long long)re,
                          GT_LABEL_MIN_WINDOW_S);
    return 0;
}

/* Checks the task's deadlines against the block's time. */
static int post_check_times(const gt_tx *tx, const gt_action *a, gt_err *err) {
    uint64_t ce = a->f[LP_COMMIT_END].u64, re = a->f[LP_REVEAL_END].u64;
    if (ce <= tx->time_s || re <= ce || re - tx->time_s > GT_LABEL_MAX_WINDOW_S)
        return gt_err_set(err, GT_EINVAL,
                          "expected the block's time %llu < commitEndS < revealEndS <= %u seconds later,"
                          " got %llu and %llu",
                          (unsigned long long)tx->time_s, GT_LABEL_MAX_WINDOW_S, (unsigned long long)ce,
                          (unsigned long long)re);
    return post_check_min_windows(tx, ce, re, err);
}

/* From format 10 (format10_height; older blocks replay as they were
 * decided) the bond is at most twice a seat's pay: what a seat risks on the
 * poster's gold is bounded by what it is offered. A false gold (a wrong
 * answer committed as right) makes honest seats careless and burns their
 * bonds at no cost to the poster (their pay burns, it is not refunded), so
 * an unbounded bond made the trap as costly to a labeller as the poster
 * chose. Assumes post_check_counts passed (pay * items within the supply). */
static int post_check_bond_cap(const gt_tx *tx, const gt_action *a, gt_err *err) {
    uint64_t seat_pay = a->f[LP_PAY].u64 * a->f[LP_ITEMS].u64;
    if (tx->height < tx->format10_height || a->f[LP_BOND].u64 <= 2 * seat_pay) return 0;
    return gt_err_set(err, GT_EINVAL,
                      "bond must be at most 2 * payPerLabel * items = %llu (twice a seat's pay), got %llu",
                      (unsigned long long)(2 * seat_pay), (unsigned long long)a->f[LP_BOND].u64);
}

/* label_task_post and label_rank_post: ranking says which. */
static int post_rule(fd_ctx *c, const gt_action *a, int ranking, gt_err *err) {
    gt_tx *tx = c->tx;
    int rc = post_check_counts(a, err);
    if (rc || (rc = post_check_bond_cap(tx, a, err)) || (rc = post_check_times(tx, a, err))) return rc;
    uint64_t escrow = a->f[LP_PAY].u64 * a->f[LP_ITEMS].u64 * a->f[LP_K].u64;
    if ((rc = gt_state_lock(tx, &a->from, a->id, escrow, err))) return rc;
    sqlite3_stmt *q;
    if ((rc = gt_fund_prepare(tx->db,
                              "INSERT INTO fd_label_tasks VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,0,0,0,0,0,'',0,0,0,0,"
                              "0,0,0,0,zeroblob(32),0,zeroblob(32),0,0,0,0,?)",
                              &q, err)))
        return rc;
    sqlite3_bind_blob(q, 1, a->id, 32, SQLITE_STATIC);
    sqlite3_bind_blob(q, 2, a->from.b, 20, SQLITE_STATIC);
    sqlite3_bind_text(q, 3, gt_action_str(a, LP_NAME), (int)a->f[LP_NAME].str_len, SQLITE_STATIC);
    for (int i = LP_ITEMS; i <= LP_REVEAL_END; i++) sqlite3_bind_int64(q, 4 + i - LP_ITEMS, (int64_t)a->f[i].u64);
    sqlite3_bind_blob(q, 13, a->f[LP_GOLD].b32, 32, SQLITE_STATIC);
    sqlite3_bind_int64(q, 14, (int64_t)tx->height);
    sqlite3_bind_int(q, 15, ranking);
    if ((rc = gt_fund_exec_done(tx->db, q, "writing the label task", err))) return rc;
    /* a tag of its own for a ranking task: a comparison task's record is as it was */
    if (gt_buf_putc(&c->diff, ranking ? FD_REC_LRANK : FD_REC_LTASK) || gt_fund_rec_bytes(c, a->id, 32) ||
        gt_fund_rec_bytes(c, a->from.b, 20) || gt_fund_rec_u64(c, escrow) ||
        gt_fund_rec_bytes(c, a->f[LP_GOLD].b32, 32))
        return gt_err_set(err, GT_ENOMEM, "out of memory");
    return 0;
}

static int apply_post(gt_tx *tx, const gt_action *a, gt_err *err) {
    fd_ctx c = {tx, GT_BUF_INIT};
    return gt_fund_finish(&c, post_rule(&c, a, 0, err));
}

static int apply_rank_post(gt_tx *tx, const gt_action *a, gt_err *err) {
    fd_ctx c = {tx, GT_BUF_INIT};
    return gt_fund_finish(&c, post_rule(&c, a, 1, err));
}

gt_action_kind gt_kind_label_task_post = {
    "label_task_post", "LabelTaskPost", post_fields, 11, apply_post, 1, {0}, {0}, 0};
gt_action_kind gt_kind_label_rank_post = {
    "label_rank_post", "LabelRankPost", post_fields, 11, apply_rank_post, 1, {0}, {0}, 0};

/* ---- label_item_add ---- */

/* An item at its bounds -- a prompt and four answers, each with its NUL, after
 * the text area's reserved first byte -- fits one action's text. */
_Static_assert(1 + GT_LABEL_PROMPT_MAX + 1 + GT_PREF_MAX_ANSWERS * (GT_LABEL_ANSWER_MAX + 1) <= GT_ACTION_TEXT_BYTES,
               "a label item at its bounds fits one action");

static const gt_field_def item_fields[] = {{"task", GT_F_BYTES32, 0},
                                           {"prompt", GT_F_STRING, GT_LABEL_PROMPT_MAX},
                                           {"answers", GT_F_U64, 0},
                                           {"answer0", GT_F_STRING, GT_LABEL_ANSWER_MAX},
                                           {"answer1", GT_F_STRING, GT_LABEL_ANSWER_MAX},
                                           {"answer2", GT_F_STRING, GT_LABEL_ANSWER_MAX},
                                           {"answer3", GT_F_STRING, GT_LABEL_ANSWER_MAX}};
enum { LI_TASK, LI_PROMPT, LI_ANSWERS, LI_A0 };

/* Checks the item's texts: a prompt, `answers` non-empty answers, the rest empty. */
static int item_check(const gt_action *a, gt_err *err) {
    uint64_t na = a->f[LI_ANSWERS].u64;
    if (a->f[LI_PROMPT].str_len == 0) return gt_err_set(err, GT_EINVAL, "prompt: expected the text to label, got none");
    if (na < 2 || na > GT_PREF_MAX_ANSWERS)
        return gt_err_set(err, GT_EINVAL, "answers must be 2 to %d, got %llu", GT_PREF_MAX_ANSWERS,
                          (unsigned long long)na);
    for (uint64_t i = 0; i < GT_PREF_MAX_ANSWERS; i++) {
        uint32_t len = a->f[LI_A0 + i].str_len;
        if (i < na && len == 0)
            return gt_err_set(err, GT_EINVAL, "answer%llu: expected text, got none", (unsigned long long)i);
        if (i >= na && len != 0)
            return gt_err_set(err, GT_EINVAL, "answer%llu: expected none (the item has %llu answers)",
                              (unsigned long long)i, (unsigned long long)na);
    }
    return 0;
}

static int item_rule(fd_ctx *c, const gt_action *a, gt_err *err) {
    gt_tx *tx = c->tx;
    fd_ltask t;
    char h[19];
    int rc = item_check(a, err);
    if (rc || (rc = gt_fund_ltask_load(tx->db, a->f[LI_TASK].b32, &t, err))) return rc;
    if (!gt_addr_eq(&t.poster, &a->from)) return gt_err_set(err, GT_EPERM, "only the task's poster adds its items");
    if (t.status != GT_LABEL_OPEN || t.items >= t.n_items)
        return gt_err_set(err, GT_ESTATE, "task %s… already has its %llu items", gt_fund_short(a->f[LI_TASK].b32, h),
                          (unsigned long long)t.n_items);
    sqlite3_stmt *q;
    if ((rc = gt_fund_prepare(tx->db, "INSERT INTO fd_label_items VALUES(?,?,?,?,?,?,?,?,-1,-1)", &q, err))) return rc;
    sqlite3_bind_blob(q, 1, a->f[LI_TASK].b32, 32, SQLITE_STATIC);
    sqlite3_bind_int64(q, 2, (int64_t)t.items);
    sqlite3_bind_text(q, 3, gt_action_str(a, LI_PROMPT), (int)a->f[LI_PROMPT].str_len, SQLITE_STATIC);
    sqlite3_bind_int64(q, 4, (int64_t)a->f[LI_ANSWERS].u64);
    for (int i = 0; i < GT_PREF_MAX_ANSWERS; i++)
        sqlite3_bind_text(q, 5 + i, gt_action_str(a, LI_A0 + i), (int)a->f[LI_A0 + i].str_len, SQLITE_STATIC);
    if ((rc = gt_fund_exec_done(tx->db, q, "writing the item", err))) return rc;
    if ((rc = gt_fund_ltask_bump(tx->db, a->f[LI_TASK].b32, "items", err))) return rc;
    if (gt_buf_putc(&c->diff, FD_REC_LITEM) || gt_fund_rec_bytes(c, a->f[LI_TASK].b32, 32) ||
        gt_fund_rec_u64(c, t.items) || gt_fund_rec_bytes(c, a->id, 32))
        return gt_err_set(err, GT_ENOMEM, "out of memory");
    return 0;
}

static int apply_item(gt_tx *tx, const gt_action *a, gt_err *err) {
    fd_ctx c = {tx, GT_BUF_INIT};
    return gt_fund_finish(&c, item_rule(&c, a, err));
}

gt_action_kind gt_kind_label_item_add = {"label_item_add", "LabelItemAdd", item_fields, 7, apply_item, 1, {0}, {0}, 0};

/* ---- label_join ---- */

static const gt_field_def join_fields[] = {{"task", GT_F_BYTES32, 0}};

/* Format 14's rule (format14_height; older blocks replay as they were
 * decided): the poster knows the gold, and the rule that keeps it off its
 * own task was by address, so the poster's second wallet, attested as the
 * same person by an honest issuer (or a human_same pair), took a seat,
 * answered the gold it had committed and was paid its own task's pay back
 * (test_fund_attacks test_poster_second_wallet_labels). Refuses who when it
 * is attested as the poster's human by any attestation, valid or not: the
 * poster needs none to post, so one that had lapsed or been revoked took
 * the seat (test_poster_lapsed_wallet_labels). */
static int poster_person_check(gt_tx *tx, const fd_ltask *t, const gt_addr *who, gt_err *err) {
    int same = 0;
    if (tx->height < tx->format14_height) return 0;
    int rc = gt_fund_same_human(tx, who, &t->poster, 1, &same, err);
    if (rc || !same) return rc;
    return gt_err_set(err, GT_EPERM,
                      "this address is attested as the same human as the task's poster, who may not label its own"
                      " task (it knows the gold)");
}

/* Refuses a join the task's state does not allow. */
static int join_check(gt_tx *tx, const fd_ltask *t, const gt_action *a, gt_err *err) {
    char h[19];
    const uint8_t *task = a->f[0].b32;
    if (gt_addr_eq(&t->poster, &a->from))
        return gt_err_set(err, GT_EPERM, "the poster may not label its own task (it knows the gold)");
    if (t->status != GT_LABEL_OPEN || tx->time_s >= t->commit_end_s)
        return gt_err_set(err, GT_ESTATE, "task %s… takes labellers only until %llu (block time %llu)",
                          gt_fund_short(task, h), (unsigned long long)t->commit_end_s, (unsigned long long)tx->time_s);
    if (t->items < t->n_items)
        return gt_err_set(err, GT_ESTATE, "task %s… has %llu of its %llu items: seats open once all are in",
                          gt_fund_short(task, h), (unsigned long long)t->items, (unsigned long long)t->n_items);
    if (t->joined >= t->k)
        return gt_err_set(err, GT_ESTATE, "task %s… has all its %llu seats taken", gt_fund_short(task, h),
                          (unsigned long long)t->k);
    uint32_t w = 0;
    int rc = gt_fund_human_weight_tx(tx, tx->db, &a->from, tx->time_s, &w, err);
    if (rc) return rc;
    if (w == 0)
        return gt_err_set(err, GT_EPERM,
                          "labelling takes a proof of human: this address has no valid attestation from a"
                          " registered, staked issuer (human_attest)");
    return poster_person_check(tx, t, &a->from, err);
}

static int join_rule(fd_ctx *c, const gt_action *a, gt_err *err) {
    gt_tx *tx = c->tx;
    const uint8_t *task = a->f[0].b32;
    fd_ltask t;
    uint8_t lock[32];
    int rc = gt_fund_ltask_load(tx->db, task, &t, err);
    if (rc || (rc = join_check(tx, &t, a, err))) return rc;
    sqlite3_stmt *q;
    if ((rc = gt_fund_prepare(tx->db, "INSERT OR IGNORE INTO fd_label_seats VALUES(?,?,?,0,0,0,0,0,0)", &q, err)))
        return rc;
    sqlite3_bind_blob(q, 1, task, 32, SQLITE_STATIC);
    sqlite3_bind_blob(q, 2, a->from.b, 20, SQLITE_STATIC);
    sqlite3_bind_int64(q, 3, (int64_t)t.joined);
    if ((rc = gt_fund_exec_done(tx->db, q, "writing the seat", err))) return rc;
    if (sqlite3_changes(tx->db) != 1) return gt_err_set(err, GT_EEXIST, "this address already has a seat in the task");
    if ((rc = gt_fund_use_nullifiers(c, task, &a->from, "labels task", "one person, one seat per task", err)))
        return rc;
    gt_fund_label_bond_lock(task, &a->from, lock);
    if ((rc = gt_state_lock(tx, &a->from, lock, t.bond, err))) return rc;
    if ((rc = gt_fund_ltask_bump(tx->db, task, "joined", err))) return rc;
    if (gt_buf_putc(&c->diff, FD_REC_LSEAT) || gt_fund_rec_bytes(c, task, 32) || gt_fund_rec_bytes(c, a->from.b, 20) ||
        gt_fund_rec_u64(c, t.joined))
        return gt_err_set(err, GT_ENOMEM, "out of memory");
    return 0;
}

static int apply_join(gt_tx *tx, const gt_action *a, gt_err *err) {
    fd_ctx c = {tx, GT_BUF_INIT};
    return gt_fund_finish(&c, join_rule(&c, a, err));
}

gt_action_kind gt_kind_label_join = {"label_join", "LabelJoin", join_fields, 1, apply_join, 1, {0}, {0}, 0};
