/* label_close.c: closing a label task (label.h) -- the tally, the payouts
 * and the record of agreement and of the export.
 *
 * Rules and the attacks they answer:
 *  - The poster closes with the opening of its gold commitment; a gold that
 *    does not match, names an answer the item lacks, or gives fewer than
 *    minGold gold items or no plain item is refused.
 *  - A poster that never closes cannot hold the labellers' bonds and pay:
 *    GT_LABEL_CLOSE_GRACE_S after revealEndS anyone closes the task by rule,
 *    without gold: nobody is judged careless, complete seats are paid.
 *  - Everything is integers over the log's rows (pref.h's tally, agree.h's
 *    alpha and kappa in ppm), so `gotong ledger verify` recomputes the same
 *    outcome; the export's lines are rebuilt from the same rows and their
 *    Merkle roots recorded, so a published file can be checked line by line.
 *  - Money: see label.h (accepted paid and bond back; careless bond and pay
 *    burned; incomplete bond burned, pay refunded -- from format 10 burned
 *    when the seat revealed a label; empty seats refunded). */
#include <assert.h>
#include <stdio.h>
#include <string.h>

#include "base/alloc.h"
#include "crypto/addr.h"
#include "crypto/keccak.h"
#include "crypto/merkle.h"
#include "fund/fund.h"
#include "fund/label.h"
#include "fund/label_impl.h"
#include "ledger/row.h"
#include "work/label/rank.h"

void gt_fund_litems_free(fd_litems *l) {
    for (size_t i = 0; i < sizeof l->text / sizeof l->text[0]; i++) gt_free(l->text[i]);
    memset(l, 0, sizeof *l);
}

/* Copies text column col of q into *slot and returns it, or NULL. */
static const char *take_text(sqlite3_stmt *q, int col, char **slot) {
    const unsigned char *s = sqlite3_column_text(q, col);
    *slot = s ? gt_strndup((const char *)s, (size_t)sqlite3_column_bytes(q, col)) : NULL;
    return *slot;
}

int gt_fund_label_valid(int ranking, int n_answers, int64_t v) {
    int order[GT_PREF_MAX_ANSWERS];
    if (n_answers < 2 || n_answers > GT_PREF_MAX_ANSWERS || v < 0) return 0;
    return ranking ? gt_rank_decode((uint64_t)v, n_answers, order, &(gt_err){0}) == 0 : v < n_answers;
}

int gt_fund_litems_load(sqlite3 *db, const uint8_t task[32], size_t n, int ranking, fd_litems *out, gt_err *err) {
    assert(n <= GT_LABEL_MAX_ITEMS);
    memset(out, 0, sizeof *out);
    sqlite3_stmt *q;
    int rc = gt_fund_prepare(db,
                             "SELECT idx, answers, gold, label, prompt, a0, a1, a2, a3 FROM fd_label_items"
                             " WHERE task=? ORDER BY idx",
                             &q, err);
    if (rc) return rc;
    sqlite3_bind_blob(q, 1, task, 32, SQLITE_STATIC);
    int s;
    while (!rc && (s = sqlite3_step(q)) == SQLITE_ROW) {
        size_t i = out->n;
        gt_pref_item *it = &out->it[i];
        int answers, gold, label;
        if (i >= n || sqlite3_column_int64(q, 0) != (int64_t)i) {
            rc = gt_row_damaged(q, 0, "fd_label_items", "items numbered 0 .. items - 1", err);
            break;
        }
        if ((rc = gt_row_int(q, 1, &answers, "fd_label_items", err))) break;
        gold = sqlite3_column_int(q, 2), label = sqlite3_column_int(q, 3);
        int bad_gold = gold != -1 && !gt_fund_label_valid(ranking, answers, gold);
        int bad_label = label != -1 && !gt_fund_label_valid(ranking, answers, label);
        if (answers < 2 || answers > GT_PREF_MAX_ANSWERS || bad_gold || bad_label) {
            rc = gt_row_damaged(q, 1, "fd_label_items", "2..4 answers, a gold and a label among them", err);
            break;
        }
        it->n_answers = answers, it->gold = gold, out->label[i] = label;
        char **t = &out->text[i * (1 + GT_PREF_MAX_ANSWERS)];
        int ok = (it->prompt = take_text(q, 4, &t[0])) != NULL;
        for (int k = 0; k < GT_PREF_MAX_ANSWERS; k++) ok &= (it->answer[k] = take_text(q, 5 + k, &t[1 + k])) != NULL;
        if (!ok) rc = gt_err_set(err, GT_ENOMEM, "out of memory reading items");
        out->n++;
    }
    if (!rc && s != SQLITE_DONE) rc = gt_err_set(err, GT_EDB, "reading items: %s", sqlite3_errmsg(db));
    sqlite3_finalize(q);
    if (!rc && out->n != n)
        rc = gt_err_set(err, GT_EDB, "the task has %zu of its %zu items in the store", out->n, n);
    if (rc) gt_fund_litems_free(out);
    return rc;
}

int gt_fund_label_lines_root(const gt_buf *jsonl, uint8_t root[32], uint64_t *lines, gt_err *err) {
    size_t n = 0, cap = 0;
    uint8_t(*leaves)[32] = NULL;
    for (size_t at = 0; at < jsonl->len;) {
        const uint8_t *nl = memchr(jsonl->data + at, '\n', jsonl->len - at);
        size_t end = nl ? (size_t)(nl - jsonl->data) : jsonl->len;
        if (n == cap) {
            cap = cap ? 2 * cap : 64;
            void *p = gt_realloc(leaves, cap * 32);
            if (!p) {
                gt_free(leaves);
                return gt_err_set(err, GT_ENOMEM, "out of memory");
            }
            leaves = p;
        }
        gt_keccak256(jsonl->data + at, end - at, leaves[n++]);
        at = end + 1;
    }
    gt_merkle_root((const uint8_t(*)[32])leaves, n, root);
    gt_free(leaves);
    *lines = n;
    return 0;
}

/* ---- label_task_close ---- */

static const gt_field_def close_fields[] = {
    {"task", GT_F_BYTES32, 0}, {"gold", GT_F_STRING, GT_LABEL_GOLD_MAX}, {"goldSalt", GT_F_BYTES32, 0}};
enum { LX_TASK, LX_GOLD, LX_SALT };

/* The seats of a task, in seat order, and what the close decides. */
typedef struct lc_seats {
    int n;
    gt_addr addr[GT_AGREE_MAX_RATERS];
    uint64_t reveals[GT_AGREE_MAX_RATERS];
    int col[GT_AGREE_MAX_RATERS]; /* column in the tally (complete seats), or -1 */
    int outcome[GT_AGREE_MAX_RATERS];
    int n_complete;
} lc_seats;

/* Refuses a close the task's state or the sender does not allow; *with_gold
 * says whether the poster's gold opening is to be used. */
static int close_check(const gt_tx *tx, const fd_ltask *t, const gt_action *a, int *with_gold, gt_err *err) {
    char h[19];
    const uint8_t *task = a->f[LX_TASK].b32;
    int done = tx->time_s >= t->reveal_end_s || (gt_fund_ltask_all_committed(t) && t->reveals == t->commits);
    if (t->status != GT_LABEL_OPEN)
        return gt_err_set(err, GT_ESTATE, "task %s… is already closed", gt_fund_short(task, h));
    if (!done)
        return gt_err_set(err, GT_ESTATE,
                          "task %s… is still labelling: it closes from %llu, or once every label is revealed",
                          gt_fund_short(task, h), (unsigned long long)t->reveal_end_s);
    uint64_t grace_end = t->reveal_end_s + GT_LABEL_CLOSE_GRACE_S;
    *with_gold = tx->time_s < grace_end;
    if (*with_gold && !gt_addr_eq(&a->from, &t->poster))
        return gt_err_set(err, GT_EPERM, "until %llu only the poster closes the task (with its gold); then anyone",
                          (unsigned long long)grace_end);
    if (!*with_gold && a->f[LX_GOLD].str_len)
        return gt_err_set(err, GT_EINVAL,
                          "the poster's time to close passed at %llu: the task closes by rule, gold \"\"",
                          (unsigned long long)grace_end);
    return 0;
}

int gt_fund_label_gold_parse(const char *text, size_t len, int ranking, const int *answers, size_t n, int *gold,
                             size_t *n_gold, gt_err *err) {
    size_t at = 0;
    *n_gold = 0;
    for (size_t i = 0; i < n; i++) {
        int na = answers[i], w = ranking ? na : 1;
        assert(na >= 2 && na <= GT_PREF_MAX_ANSWERS);
        if (at < len && text[at] == '-') {
            gold[i] = GT_PREF_NOT_GOLD, at++;
            continue;
        }
        int64_t v = at + (size_t)w <= len ? 0 : -1;
        for (int d = 0; v >= 0 && d < w; d++) {
            char ch = text[at + (size_t)d];
            v = ch >= '0' && ch <= '9' ? v * 10 + (ch - '0') : -1;
        }
        if (!gt_fund_label_valid(ranking, na, v))
            return gt_err_set(err, GT_EINVAL,
                              ranking ? "gold at item %zu: expected '-' or an order of its %d answers (%d digits"
                                        " 0..%d, each once, best first)"
                                      : "gold at item %zu: expected '-' or an answer of its %d (a digit 0..%d)",
                              i, na, ranking ? na : na - 1, na - 1);
        gold[i] = (int)v, at += (size_t)w, ++*n_gold;
    }
    if (at != len)
        return gt_err_set(err, GT_EINVAL, "gold: expected %zu items' worth, got %zu extra characters", n, len - at);
    return 0;
}

/* Checks the gold opening against the commitment and the items, and sets
 * each item's gold from it. */
static int gold_apply(const fd_ltask *t, const gt_action *a, fd_litems *li, gt_err *err) {
    const char *g = gt_action_str(a, LX_GOLD);
    size_t len = a->f[LX_GOLD].str_len, gold = 0;
    uint8_t want[32];
    int answers[GT_LABEL_MAX_ITEMS], parsed[GT_LABEL_MAX_ITEMS];
    gt_fund_label_gold_commit(a->f[LX_SALT].b32, g, len, want);
    if (memcmp(want, t->gold_commit, 32))
        return gt_err_set(err, GT_EINVAL, "gold and goldSalt do not open the task's goldCommit");
    for (size_t i = 0; i < li->n; i++) answers[i] = li->it[i].n_answers;
    int rc = gt_fund_label_gold_parse(g, len, t->ranking, answers, li->n, parsed, &gold, err);
    if (rc) return rc;
    for (size_t i = 0; i < li->n; i++) li->it[i].gold = parsed[i];
    if (gold < t->min_gold || gold == li->n)
        return gt_err_set(err, GT_EINVAL, "gold: expected %llu to %zu gold items, got %zu",
                          (unsigned long long)t->min_gold, li->n - 1, gold);
    return 0;
}

/* Loads the seats; a seat is complete when it revealed every item. */
static int seats_load(sqlite3 *db, const uint8_t task[32], uint64_t n_items, lc_seats *s, gt_err *err) {
    sqlite3_stmt *q;
    memset(s, 0, sizeof *s);
    int rc = gt_fund_prepare(db, "SELECT addr, reveals FROM fd_label_seats WHERE task=? ORDER BY seat", &q, err);
    if (rc) return rc;
    sqlite3_bind_blob(q, 1, task, 32, SQLITE_STATIC);
    int st;
    while (!rc && (st = sqlite3_step(q)) == SQLITE_ROW) {
        if (s->n >= GT_AGREE_MAX_RATERS) {
            rc = gt_row_damaged(q, 0, "fd_label_seats", "at most 16 seats", err);
            break;
        }
        if ((rc = gt_row_blob(q, 0, s->addr[s->n].b, 20, "fd_label_seats", err)) ||
            (rc = gt_row_amount(q, 1, &s->reveals[s->n], "fd_label_seats", err)))
            break;
        s->col[s->n] = s->reveals[s->n] == n_items ? s->n_complete++ : -1;
        s->outcome[s->n] = s->col[s->n] < 0 ? GT_LABEL_INCOMPLETE : GT_LABEL_ACCEPTED;
        s->n++;
    }
    if (!rc && st != SQLITE_DONE) rc = gt_err_set(err, GT_EDB, "reading seats: %s", sqlite3_errmsg(db));
    sqlite3_finalize(q);
    return rc;
}

/* The complete seats' revealed choices (rank codes on a ranking task),
 * choices[item * n_complete + col]. */
static int choices_load(sqlite3 *db, const uint8_t task[32], const lc_seats *s, const fd_litems *li, int ranking,
                        int *choices, gt_err *err) {
    size_t n_items = li->n;
    for (size_t i = 0; i < n_items * (size_t)s->n_complete; i++) choices[i] = GT_AGREE_MISSING;
    sqlite3_stmt *q;
    int rc = gt_fund_prepare(db, "SELECT item, choice FROM fd_label_votes WHERE task=? AND labeller=?", &q, err);
    for (int l = 0; !rc && l < s->n; l++) {
        if (s->col[l] < 0) continue;
        sqlite3_reset(q);
        sqlite3_bind_blob(q, 1, task, 32, SQLITE_STATIC);
        sqlite3_bind_blob(q, 2, s->addr[l].b, 20, SQLITE_STATIC);
        while (!rc && sqlite3_step(q) == SQLITE_ROW) {
            int64_t item = sqlite3_column_int64(q, 0), c = sqlite3_column_int64(q, 1);
            if (item < 0 || (size_t)item >= n_items || !gt_fund_label_valid(ranking, li->it[item].n_answers, c))
                rc = gt_row_damaged(q, 0, "fd_label_votes", "a revealed label of an item of the task", err);
            else
                choices[(size_t)item * (size_t)s->n_complete + (size_t)s->col[l]] = (int)c;
        }
    }
    if (q) sqlite3_finalize(q);
    return rc;
}

/* The answer a label puts first: the choice, or a rank code's first digit. */
static int top_answer(int ranking, int n_answers, int c) {
    int order[GT_PREF_MAX_ANSWERS];
    if (!ranking || c == GT_AGREE_MISSING) return c;
    int ok = gt_rank_decode((uint64_t)c, n_answers, order, &(gt_err){0});
    assert(ok == 0); /* checked by choices_load */
    (void)ok;
    return order[0];
}

/* Light's kappa: the mean of Cohen's kappa over every pair of accepted
 * seats, on the plain items (pairs where it has no value left out); on a
 * ranking task over the answer each order puts first (24 orders of four
 * answers are too many categories for a kappa of a few items). */
static int light_kappa(const fd_litems *li, int ranking, const lc_seats *s, const int *choices, gt_agree *out,
                       gt_err *err) {
    int a[GT_LABEL_MAX_ITEMS], b[GT_LABEL_MAX_ITEMS], pairs = 0, rc = 0;
    int64_t sum = 0;
    memset(out, 0, sizeof *out);
    for (int x = 0; !rc && x < s->n; x++)
        for (int y = x + 1; !rc && y < s->n; y++) {
            if (s->outcome[x] != GT_LABEL_ACCEPTED || s->outcome[y] != GT_LABEL_ACCEPTED) continue;
            for (size_t i = 0; i < li->n; i++) {
                int plain = li->it[i].gold == GT_PREF_NOT_GOLD;
                int na = li->it[i].n_answers;
                a[i] = plain ? top_answer(ranking, na, choices[i * (size_t)s->n_complete + (size_t)s->col[x]])
                             : GT_AGREE_MISSING;
                b[i] = plain ? top_answer(ranking, na, choices[i * (size_t)s->n_complete + (size_t)s->col[y]])
                             : GT_AGREE_MISSING;
            }
            gt_agree k;
            if ((rc = gt_agree_kappa(a, b, li->n, GT_PREF_MAX_ANSWERS, &k, err)) || !k.defined) continue;
            sum += k.ppm, pairs++, out->n += k.n;
        }
    if (!rc && pairs) out->defined = 1, out->ppm = sum / pairs;
    return rc;
}

/* What a close computes before it writes anything. */
typedef struct lc_out {
    fd_litems li;
    lc_seats s;
    int *choices;
    gt_pref_tally tally;
    int tallied;
    gt_agree kappa;
    uint8_t dpo_root[32], hh_root[32];
    uint64_t dpo_lines, hh_lines;
} lc_out;

static void lc_free(lc_out *o) {
    gt_fund_litems_free(&o->li);
    gt_free(o->choices);
    if (o->tallied) gt_pref_tally_free(&o->tally);
}

/* The roots of both exports of the tally. */
static int export_roots(lc_out *o, int ranking, gt_err *err) {
    gt_buf b = GT_BUF_INIT;
    uint64_t lines = 0;
    int (*export)(const gt_pref_item *, size_t, const gt_pref_tally *, gt_pref_format, gt_buf *, gt_err *) =
        ranking ? gt_rank_export : gt_pref_export;
    int rc = export(o->li.it, o->li.n, &o->tally, GT_PREF_DPO, &b, err);
    if (!rc) rc = gt_fund_label_lines_root(&b, o->dpo_root, &o->dpo_lines, err);
    gt_buf_reset(&b);
    if (!rc) rc = export(o->li.it, o->li.n, &o->tally, GT_PREF_HH, &b, err);
    if (!rc) rc = gt_fund_label_lines_root(&b, o->hh_root, &lines, err);
    gt_buf_free(&b);
    o->hh_lines = lines;
    assert(rc || o->hh_lines == o->dpo_lines);
    return rc;
}

/* Tallies the complete seats' labels (pref.h), marks the careless, and
 * computes kappa and the export's roots. Nothing is written. */
static int close_compute(sqlite3 *db, const uint8_t task[32], const fd_ltask *t, lc_out *o, gt_err *err) {
    int rc = seats_load(db, task, t->n_items, &o->s, err);
    if (rc) return rc;
    o->choices = gt_malloc(o->li.n * (size_t)(o->s.n_complete ? o->s.n_complete : 1) * sizeof(int));
    if (!o->choices) return gt_err_set(err, GT_ENOMEM, "out of memory");
    if ((rc = choices_load(db, task, &o->s, &o->li, t->ranking, o->choices, err)) || o->s.n_complete == 0) return rc;
    gt_pref_rules rules = {(int)t->min_labels, (int)t->gold_bar_pct, (int)t->min_gold};
    if (rules.min_labels > o->s.n_complete) rules.min_labels = o->s.n_complete;
    rc = (t->ranking ? gt_rank_tally_run : gt_pref_tally_run)(o->li.it, o->li.n, o->choices, o->s.n_complete, &rules,
                                                              &o->tally, err);
    if (rc) return rc;
    o->tallied = 1;
    for (int l = 0; l < o->s.n; l++)
        if (o->s.col[l] >= 0 && o->tally.careless[o->s.col[l]]) o->s.outcome[l] = GT_LABEL_CARELESS;
    if ((rc = light_kappa(&o->li, t->ranking, &o->s, o->choices, &o->kappa, err))) return rc;
    return export_roots(o, t->ranking, err);
}

/* Whether the escrowed pay of a seat that failed is burned rather than
 * refunded: a careless seat's always (a false gold gains its poster
 * nothing); from format 10 an incomplete seat's too once it revealed a label
 * -- the poster read that label, and a refund paid it for the seat's failure
 * (a poster whose windows made seats miss got their labels for free).
 * Blocks before format10_height replay as they were decided. */
static int seat_pay_burns(const gt_tx *tx, int outcome, uint64_t reveals) {
    if (outcome == GT_LABEL_CARELESS) return 1;
    return outcome == GT_LABEL_INCOMPLETE && reveals > 0 && tx->height >= tx->format10_height;
}

/* Settles seat l's bond and pay by its outcome; adds to the task's totals. */
static int settle_seat(gt_tx *tx, const uint8_t task[32], const fd_ltask *t, const lc_seats *s, int l, uint64_t *paid,
                       uint64_t *burned, gt_err *err) {
    uint8_t lock[32];
    uint64_t seat_pay = t->pay * t->n_items;
    const gt_addr *who = &s->addr[l];
    int outcome = s->outcome[l];
    gt_fund_label_bond_lock(task, who, lock);
    int rc;
    if (outcome == GT_LABEL_ACCEPTED) {
        if ((rc = gt_state_release(tx, lock, who, t->bond, err)) ||
            (rc = gt_state_release(tx, task, who, seat_pay, err)))
            return rc;
        *paid += seat_pay;
        return 0;
    }
    if ((rc = gt_state_slash(tx, lock, NULL, t->bond, err))) return rc;
    *burned += t->bond;
    if (seat_pay_burns(tx, outcome, s->reveals[l])) {
        if ((rc = gt_state_slash(tx, task, NULL, seat_pay, err))) return rc;
        *burned += seat_pay;
    }
    return 0;
}

/* Writes a seat's outcome and gold record. */
static int seat_write(sqlite3 *db, const uint8_t task[32], const lc_out *o, int l, uint64_t paid, gt_err *err) {
    sqlite3_stmt *q;
    int rc = gt_fund_prepare(db,
                             "UPDATE fd_label_seats SET outcome=?, paid=?, gold_seen=?, gold_right=?"
                             " WHERE task=? AND addr=?",
                             &q, err);
    if (rc) return rc;
    int col = o->s.col[l];
    sqlite3_bind_int(q, 1, o->s.outcome[l]);
    sqlite3_bind_int64(q, 2, (int64_t)paid);
    sqlite3_bind_int(q, 3, col >= 0 ? o->tally.gold_seen[col] : 0);
    sqlite3_bind_int(q, 4, col >= 0 ? o->tally.gold_right[col] : 0);
    sqlite3_bind_blob(q, 5, task, 32, SQLITE_STATIC);
    sqlite3_bind_blob(q, 6, o->s.addr[l].b, 20, SQLITE_STATIC);
    return gt_fund_exec_done(db, q, "writing a seat's outcome", err);
}

/* Records each item's gold and label. */
static int items_write(sqlite3 *db, const uint8_t task[32], const lc_out *o, gt_err *err) {
    int rc = 0;
    for (size_t i = 0; !rc && i < o->li.n; i++) {
        sqlite3_stmt *q;
        if ((rc = gt_fund_prepare(db, "UPDATE fd_label_items SET gold=?, label=? WHERE task=? AND idx=?", &q, err)))
            break;
        sqlite3_bind_int(q, 1, o->li.it[i].gold);
        sqlite3_bind_int(q, 2, o->tallied ? o->tally.label[i] : GT_AGREE_MISSING);
        sqlite3_bind_blob(q, 3, task, 32, SQLITE_STATIC);
        sqlite3_bind_int64(q, 4, (int64_t)i);
        rc = gt_fund_exec_done(db, q, "writing an item's label", err);
    }
    return rc;
}

/* Pays, burns and refunds by the outcomes; writes seats and items. */
static int close_settle(gt_tx *tx, const uint8_t task[32], const fd_ltask *t, const lc_out *o, uint64_t money[3],
                        gt_err *err) {
    uint64_t paid = 0, burned = 0;
    int rc = 0;
    for (int l = 0; !rc && l < o->s.n; l++) {
        uint64_t before = paid;
        rc = settle_seat(tx, task, t, &o->s, l, &paid, &burned, err);
        if (!rc) rc = seat_write(tx->db, task, o, l, paid - before, err);
    }
    if (rc || (rc = items_write(tx->db, task, o, err))) return rc;
    uint64_t escrow = t->pay * t->n_items * t->k;
    gt_lock left = {{0}, {{0}}, 0};
    if ((rc = gt_state_lock_get(tx, task, &left, err)) == GT_ENOTFOUND) /* emptied: every seat was paid */
        rc = 0, left.amount = 0, err->code = 0;
    if (rc) return rc;
    assert(left.amount <= escrow);
    if (left.amount && (rc = gt_state_release(tx, task, &t->poster, left.amount, err))) return rc;
    money[0] = paid, money[1] = burned, money[2] = left.amount;
    return 0;
}

/* Writes the task's outcome. */
static int task_write(gt_tx *tx, const gt_action *a, int status, const lc_out *o, const uint64_t money[3],
                      gt_err *err) {
    int count[4] = {0, 0, 0, 0};
    for (int l = 0; l < o->s.n; l++) count[o->s.outcome[l]]++;
    sqlite3_stmt *q;
    int rc = gt_fund_prepare(tx->db,
                             "UPDATE fd_label_tasks SET status=?, gold=?, accepted=?, careless=?, incomplete=?,"
                             " labelled=?, alpha_def=?, alpha_ppm=?, kappa_def=?, kappa_ppm=?, dpo_root=?,"
                             " dpo_lines=?, hh_root=?, paid=?, burned=?, refunded=?, closed_height=? WHERE id=?",
                             &q, err);
    if (rc) return rc;
    sqlite3_bind_int(q, 1, status);
    sqlite3_bind_text(q, 2, gt_action_str(a, LX_GOLD), (int)a->f[LX_GOLD].str_len, SQLITE_STATIC);
    sqlite3_bind_int(q, 3, count[GT_LABEL_ACCEPTED]);
    sqlite3_bind_int(q, 4, count[GT_LABEL_CARELESS]);
    sqlite3_bind_int(q, 5, count[GT_LABEL_INCOMPLETE]);
    sqlite3_bind_int64(q, 6, o->tallied ? (int64_t)o->tally.n_labelled : 0);
    sqlite3_bind_int(q, 7, o->tallied && o->tally.alpha.defined);
    sqlite3_bind_int64(q, 8, o->tallied ? o->tally.alpha.ppm : 0);
    sqlite3_bind_int(q, 9, o->kappa.defined);
    sqlite3_bind_int64(q, 10, o->kappa.ppm);
    sqlite3_bind_blob(q, 11, o->dpo_root, 32, SQLITE_STATIC);
    sqlite3_bind_int64(q, 12, (int64_t)o->dpo_lines);
    sqlite3_bind_blob(q, 13, o->hh_root, 32, SQLITE_STATIC);
    for (int i = 0; i < 3; i++) sqlite3_bind_int64(q, 14 + i, (int64_t)money[i]);
    sqlite3_bind_int64(q, 17, (int64_t)tx->height);
    sqlite3_bind_blob(q, 18, a->f[LX_TASK].b32, 32, SQLITE_STATIC);
    return gt_fund_exec_done(tx->db, q, "writing the task's outcome", err);
}

/* A task whose poster never added all its items had no seat (label_join
 * waits for the last item): its whole escrow goes back to the poster. Without
 * this the escrow would stay locked for ever, the items being incomplete. */
static int refund_unfilled(gt_tx *tx, const uint8_t task[32], const fd_ltask *t, uint64_t money[3], gt_err *err) {
    gt_lock left = {{0}, {{0}}, 0};
    assert(t->joined == 0 && t->items < t->n_items);
    int rc = gt_state_lock_get(tx, task, &left, err);
    if (!rc && left.amount) rc = gt_state_release(tx, task, &t->poster, left.amount, err);
    money[0] = money[1] = 0, money[2] = left.amount;
    return rc;
}

static int close_rule(fd_ctx *c, const gt_action *a, gt_err *err) {
    gt_tx *tx = c->tx;
    const uint8_t *task = a->f[LX_TASK].b32;
    fd_ltask t;
    lc_out o;
    int with_gold = 0;
    uint64_t money[3] = {0, 0, 0};
    memset(&o, 0, sizeof o);
    int rc = gt_fund_ltask_load(tx->db, task, &t, err);
    if (rc || (rc = close_check(tx, &t, a, &with_gold, err))) return rc;
    if (t.items < t.n_items) { /* no item was ever labelled: nothing to judge, the gold is not read */
        if (!(rc = refund_unfilled(tx, task, &t, money, err)))
            rc = task_write(tx, a, GT_LABEL_CLOSED_NO_GOLD, &o, money, err);
    } else if (!(rc = gt_fund_litems_load(tx->db, task, t.n_items, t.ranking, &o.li, err)) &&
               !(rc = with_gold ? gold_apply(&t, a, &o.li, err) : 0) &&
               !(rc = close_compute(tx->db, task, &t, &o, err)) && !(rc = close_settle(tx, task, &t, &o, money, err))) {
        rc = task_write(tx, a, with_gold ? GT_LABEL_CLOSED : GT_LABEL_CLOSED_NO_GOLD, &o, money, err);
    }
    if (!rc && (gt_buf_putc(&c->diff, FD_REC_LCLOSE) || gt_fund_rec_bytes(c, task, 32) ||
                gt_fund_rec_bytes(c, o.dpo_root, 32) || gt_fund_rec_bytes(c, o.hh_root, 32) ||
                gt_fund_rec_u64(c, money[0]) || gt_fund_rec_u64(c, money[1]) || gt_fund_rec_u64(c, money[2])))
        rc = gt_err_set(err, GT_ENOMEM, "out of memory");
    lc_free(&o);
    return rc;
}

static int apply_close(gt_tx *tx, const gt_action *a, gt_err *err) {
    fd_ctx c = {tx, GT_BUF_INIT};
    return gt_fund_finish(&c, close_rule(&c, a, err));
}

gt_action_kind gt_kind_label_task_close = {
    "label_task_close", "LabelTaskClose", close_fields, 3, apply_close, 1, {0}, {0}, 0};
