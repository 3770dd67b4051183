/* label_query.c: label tasks as JSON for the API and the CLI, the next item
 * for a labeller, and a closed task's export and dataset card rebuilt from
 * the ledger's rows (label.h). Amounts are base units as decimal strings,
 * ids and roots 0x hex, addresses EIP-55 (the API's conventions). */
#include <stdio.h>
#include <string.h>

#include "base/hex.h"
#include "crypto/addr.h"
#include "fund/fund.h"
#include "fund/label.h"
#include "fund/label_impl.h"
#include "ledger/row.h"
#include "work/label/rank.h"

#define LQ_TASKS_PAGE_MAX 100

static const char *status_name(int s) {
    return s == GT_LABEL_OPEN ? "open" : s == GT_LABEL_CLOSED ? "closed" : "closed-by-rule";
}
static const char *outcome_name(int o) {
    static const char *const n[] = {"seated", "accepted", "careless", "incomplete"};
    return o >= 0 && o <= 3 ? n[o] : "?";
}
/* An agreement figure: ppm, or null when it has no value. */
static json_t *j_agree(int defined, int64_t ppm) { return defined ? json_integer(ppm) : json_null(); }

/* The columns task_json reads, in order. */
#define LTASK_COLS                                                                                                     \
    "id, poster, name, gold_commit, dpo_root, hh_root, gold, status, alpha_def, alpha_ppm, kappa_def, kappa_ppm,"      \
    " n_items, k, pay, bond, gold_bar_pct, min_gold, min_labels, commit_end_s, reveal_end_s, created_height, items,"  \
    " joined, commits, reveals, accepted, careless, incomplete, labelled, dpo_lines, paid, burned, refunded,"         \
    " closed_height, ranking"
static const char *const ltask_nums[] = {"items",       "labellers", "payPerLabel", "bond",       "goldBarPct",
                                         "minGold",     "minLabels", "commitEndS",  "revealEndS", "createdHeight",
                                         "itemsAdded",  "joined",    "commits",     "reveals",    "accepted",
                                         "careless",    "incomplete", "labelled",   "exportLines", "paid",
                                         "burned",      "refunded",  "closedHeight"};

/* One task row (LTASK_COLS) as JSON. */
static json_t *task_json(sqlite3_stmt *q, gt_err *err) {
    const char *T = "fd_label_tasks";
    uint8_t id[32], gc[32], dr[32], hr[32];
    gt_addr poster;
    char name[GT_FUND_NAME_MAX + 1], gold[GT_LABEL_GOLD_MAX + 1];
    int status;
    uint64_t v[23];
    int rc = gt_row_blob(q, 0, id, 32, T, err) || gt_row_blob(q, 1, poster.b, 20, T, err) ||
             gt_row_text(q, 2, name, sizeof name, T, err) || gt_row_blob(q, 3, gc, 32, T, err) ||
             gt_row_blob(q, 4, dr, 32, T, err) || gt_row_blob(q, 5, hr, 32, T, err) ||
             gt_row_text(q, 6, gold, sizeof gold, T, err) || gt_row_int(q, 7, &status, T, err);
    for (int i = 0; !rc && i < 23; i++) rc = gt_row_amount(q, 12 + i, &v[i], T, err);
    if (rc) return NULL;
    json_t *o = json_object();
    int bad = !o, closed = status != GT_LABEL_OPEN;
    if (!o) return NULL;
    gt_fund_j_put(o, "id", gt_fund_j_hex(id, 32), &bad);
    gt_fund_j_put(o, "poster", gt_fund_j_addr(&poster), &bad);
    gt_fund_j_put(o, "name", json_string(name), &bad);
    gt_fund_j_put(o, "status", json_string(status_name(status)), &bad);
    gt_fund_j_put(o, "ranking", json_boolean(sqlite3_column_int(q, 35) == 1), &bad);
    gt_fund_j_put(o, "goldCommit", gt_fund_j_hex(gc, 32), &bad);
    for (int i = 0; i < 23; i++)
        gt_fund_j_put(o, ltask_nums[i], i >= 2 && i <= 3 ? gt_fund_j_amt(v[i]) : json_integer((json_int_t)v[i]), &bad);
    for (int i = 19; i <= 21; i++) gt_fund_j_put(o, ltask_nums[i], gt_fund_j_amt(v[i]), &bad);
    if (closed) {
        gt_fund_j_put(o, "gold", json_string(gold), &bad);
        gt_fund_j_put(o, "alphaPpm", j_agree(sqlite3_column_int(q, 8), sqlite3_column_int64(q, 9)), &bad);
        gt_fund_j_put(o, "kappaPpm", j_agree(sqlite3_column_int(q, 10), sqlite3_column_int64(q, 11)), &bad);
        gt_fund_j_put(o, "dpoRoot", gt_fund_j_hex(dr, 32), &bad);
        gt_fund_j_put(o, "hhRoot", gt_fund_j_hex(hr, 32), &bad);
    }
    if (bad) json_decref(o), o = NULL, gt_err_set(err, GT_ENOMEM, "out of memory");
    return o;
}

json_t *gt_fund_label_tasks(sqlite3 *db, uint64_t limit, gt_err *err) {
    if (limit == 0 || limit > LQ_TASKS_PAGE_MAX) limit = LQ_TASKS_PAGE_MAX;
    sqlite3_stmt *q;
    if (gt_fund_prepare(db, "SELECT " LTASK_COLS " FROM fd_label_tasks ORDER BY created_height DESC, id LIMIT ?", &q,
                        err))
        return NULL;
    sqlite3_bind_int64(q, 1, (int64_t)limit);
    json_t *arr = json_array();
    int s;
    while (arr && (s = sqlite3_step(q)) == SQLITE_ROW) {
        json_t *t = task_json(q, err);
        if (!t || json_array_append_new(arr, t)) json_decref(arr), arr = NULL;
    }
    if (arr && s != SQLITE_DONE) json_decref(arr), arr = NULL, gt_err_set(err, GT_EDB, "reading label tasks");
    sqlite3_finalize(q);
    return arr;
}

/* The task's row as JSON; GT_ENOTFOUND when there is none. */
static json_t *task_row(sqlite3 *db, const uint8_t task[32], gt_err *err) {
    sqlite3_stmt *q;
    if (gt_fund_prepare(db, "SELECT " LTASK_COLS " FROM fd_label_tasks WHERE id=?", &q, err)) return NULL;
    sqlite3_bind_blob(q, 1, task, 32, SQLITE_STATIC);
    json_t *o = NULL;
    int s = sqlite3_step(q);
    char h[19];
    if (s == SQLITE_ROW) o = task_json(q, err);
    else if (s == SQLITE_DONE) gt_err_set(err, GT_ENOTFOUND, "no label task %s…", gt_fund_short(task, h));
    else gt_err_set(err, GT_EDB, "reading label tasks: %s", sqlite3_errmsg(db));
    sqlite3_finalize(q);
    return o;
}

/* A gold or a label as JSON: null when none; an answer's index; on a
 * ranking task the order as its digits, best first ("021"). */
static json_t *j_label(int ranking, int n_answers, int v) {
    int order[GT_PREF_MAX_ANSWERS];
    char digits[GT_PREF_MAX_ANSWERS + 1];
    if (v < 0) return json_null();
    if (!ranking) return json_integer(v);
    if (gt_rank_decode((uint64_t)v, n_answers, order, &(gt_err){0})) return json_null(); /* checked at load */
    for (int p = 0; p < n_answers; p++) digits[p] = (char)('0' + order[p]);
    return json_stringn(digits, (size_t)n_answers);
}

/* One item as JSON: index, prompt, answers; the gold and label when shown. */
static json_t *item_json(const fd_litems *li, int ranking, size_t i, int closed) {
    json_t *o = json_object(), *ans = json_array();
    int bad = !o || !ans;
    for (int k = 0; !bad && k < li->it[i].n_answers; k++)
        bad = json_array_append_new(ans, json_string(li->it[i].answer[k])) != 0;
    if (o) {
        gt_fund_j_put(o, "index", json_integer((json_int_t)i), &bad);
        gt_fund_j_put(o, "prompt", json_string(li->it[i].prompt), &bad);
        gt_fund_j_put(o, "answers", ans, &bad);
        ans = NULL;
        if (closed) {
            int na = li->it[i].n_answers;
            gt_fund_j_put(o, "gold", j_label(ranking, na, li->it[i].gold), &bad);
            gt_fund_j_put(o, "label", j_label(ranking, na, li->label[i]), &bad);
        }
    }
    json_decref(ans);
    if (bad) json_decref(o), o = NULL;
    return o;
}

/* The seats of a task as JSON. */
static json_t *seats_json(sqlite3 *db, const uint8_t task[32], gt_err *err) {
    sqlite3_stmt *q;
    if (gt_fund_prepare(db,
                        "SELECT addr, seat, commits, reveals, outcome, paid, gold_seen, gold_right FROM fd_label_seats"
                        " WHERE task=? ORDER BY seat",
                        &q, err))
        return NULL;
    sqlite3_bind_blob(q, 1, task, 32, SQLITE_STATIC);
    json_t *arr = json_array();
    while (arr && sqlite3_step(q) == SQLITE_ROW) {
        gt_addr a;
        uint64_t v[7];
        int bad = gt_row_blob(q, 0, a.b, 20, "fd_label_seats", err);
        for (int i = 0; !bad && i < 7; i++) bad = gt_row_amount(q, 1 + i, &v[i], "fd_label_seats", err);
        json_t *o = bad ? NULL : json_object();
        bad = !o;
        gt_fund_j_put(o, "address", gt_fund_j_addr(&a), &bad);
        gt_fund_j_put(o, "seat", json_integer((json_int_t)v[0]), &bad);
        gt_fund_j_put(o, "commits", json_integer((json_int_t)v[1]), &bad);
        gt_fund_j_put(o, "reveals", json_integer((json_int_t)v[2]), &bad);
        gt_fund_j_put(o, "outcome", json_string(outcome_name((int)v[3])), &bad);
        gt_fund_j_put(o, "paid", gt_fund_j_amt(v[4]), &bad);
        gt_fund_j_put(o, "goldSeen", json_integer((json_int_t)v[5]), &bad);
        gt_fund_j_put(o, "goldRight", json_integer((json_int_t)v[6]), &bad);
        if (bad || json_array_append_new(arr, o)) json_decref(arr), arr = NULL;
    }
    sqlite3_finalize(q);
    if (!arr && !err->code) gt_err_set(err, GT_ENOMEM, "out of memory");
    return arr;
}

json_t *gt_fund_label_task_get(sqlite3 *db, const uint8_t task[32], gt_err *err) {
    fd_ltask t;
    fd_litems li;
    if (gt_fund_ltask_load(db, task, &t, err)) return NULL;
    json_t *o = task_row(db, task, err);
    if (!o || gt_fund_litems_load(db, task, t.items, t.ranking, &li, err)) {
        json_decref(o);
        return NULL;
    }
    json_t *items = json_array();
    int bad = !items;
    for (size_t i = 0; !bad && i < li.n; i++)
        bad = json_array_append_new(items, item_json(&li, t.ranking, i, t.status)) != 0;
    gt_fund_litems_free(&li);
    gt_fund_j_put(o, "itemList", items, &bad);
    json_t *seats = bad ? NULL : seats_json(db, task, err);
    gt_fund_j_put(o, "seats", seats, &bad);
    if (bad) {
        json_decref(o);
        if (!err->code) gt_err_set(err, GT_ENOMEM, "out of memory");
        return NULL;
    }
    return o;
}

/* The first item who has not committed a label for in task, or -1. */
static int64_t next_item(sqlite3 *db, const uint8_t task[32], const gt_addr *who, uint64_t n, gt_err *err) {
    sqlite3_stmt *q;
    if (gt_fund_prepare(db, "SELECT item FROM fd_label_votes WHERE task=? AND labeller=? ORDER BY item", &q, err))
        return -2;
    sqlite3_bind_blob(q, 1, task, 32, SQLITE_STATIC);
    sqlite3_bind_blob(q, 2, who->b, 20, SQLITE_STATIC);
    int64_t want = 0;
    while (sqlite3_step(q) == SQLITE_ROW && sqlite3_column_int64(q, 0) == want) want++;
    sqlite3_finalize(q);
    return (uint64_t)want < n ? want : -1;
}

/* {"done": true, "why": why} */
static json_t *nothing(const char *why) { return json_pack("{s:b,s:s}", "done", 1, "why", why); }

json_t *gt_fund_label_next(sqlite3 *db, const uint8_t task[32], const gt_addr *who, uint64_t now_s, gt_err *err) {
    fd_ltask t;
    fd_litems li;
    if (gt_fund_ltask_load(db, task, &t, err)) return NULL;
    if (t.status != GT_LABEL_OPEN) return nothing("the task is closed");
    if (t.items < t.n_items) return nothing("the poster is still adding the task's items");
    if (now_s >= t.commit_end_s || gt_fund_ltask_all_committed(&t))
        return nothing("the task takes no more labels: reveal yours (gotong label reveal)");
    sqlite3_stmt *q;
    if (gt_fund_prepare(db, "SELECT 1 FROM fd_label_seats WHERE task=? AND addr=?", &q, err)) return NULL;
    sqlite3_bind_blob(q, 1, task, 32, SQLITE_STATIC);
    sqlite3_bind_blob(q, 2, who->b, 20, SQLITE_STATIC);
    int seated = sqlite3_step(q) == SQLITE_ROW;
    sqlite3_finalize(q);
    if (!seated)
        return nothing(t.joined >= t.k ? "every seat of the task is taken" : "this address has no seat (label_join)");
    int64_t i = next_item(db, task, who, t.n_items, err);
    if (i == -2) return NULL;
    if (i < 0) return nothing("every item is labelled by this address: reveal once the others are in");
    if (gt_fund_litems_load(db, task, t.n_items, t.ranking, &li, err)) return NULL;
    json_t *it = item_json(&li, t.ranking, (size_t)i, 0);
    gt_fund_litems_free(&li);
    json_t *o = it ? json_pack("{s:b,s:o,s:I,s:I,s:b}", "done", 0, "item", it, "items", (json_int_t)t.n_items,
                               "commitEndS", (json_int_t)t.commit_end_s, "ranking", t.ranking)
                   : NULL;
    if (!o) gt_err_set(err, GT_ENOMEM, "out of memory");
    return o;
}

/* Reads a closed task's recorded root of format and its line count. */
static int closed_root(sqlite3 *db, const uint8_t task[32], gt_pref_format format, uint8_t root[32], uint64_t *lines,
                       gt_err *err) {
    sqlite3_stmt *q;
    int rc = gt_fund_prepare(db,
                             format == GT_PREF_DPO ? "SELECT dpo_root, dpo_lines, status FROM fd_label_tasks WHERE id=?"
                                                   : "SELECT hh_root, dpo_lines, status FROM fd_label_tasks WHERE id=?",
                             &q, err);
    if (rc) return rc;
    sqlite3_bind_blob(q, 1, task, 32, SQLITE_STATIC);
    char h[19];
    if (sqlite3_step(q) != SQLITE_ROW)
        rc = gt_err_set(err, GT_ENOTFOUND, "no label task %s…", gt_fund_short(task, h));
    else if (sqlite3_column_int(q, 2) == GT_LABEL_OPEN)
        rc = gt_err_set(err, GT_ESTATE, "task %s… is not closed: its export exists once it is", gt_fund_short(task, h));
    else if (gt_row_blob(q, 0, root, 32, "fd_label_tasks", err) || gt_row_amount(q, 1, lines, "fd_label_tasks", err))
        rc = GT_EDB;
    sqlite3_finalize(q);
    return rc;
}

int gt_fund_label_export(sqlite3 *db, const uint8_t task[32], gt_pref_format format, gt_buf *out, gt_err *err) {
    fd_ltask t;
    fd_litems li;
    uint8_t want[32], got[32];
    uint64_t want_lines, lines;
    int rc = closed_root(db, task, format, want, &want_lines, err);
    if (rc || (rc = gt_fund_ltask_load(db, task, &t, err)) ||
        (rc = gt_fund_litems_load(db, task, t.items, t.ranking, &li, err))) /* items: a task closed unfilled */
        return rc;
    gt_pref_tally tl;
    memset(&tl, 0, sizeof tl);
    tl.label = li.label;
    size_t start = out->len;
    rc = (t.ranking ? gt_rank_export : gt_pref_export)(li.it, li.n, &tl, format, out, err);
    gt_buf part = {out->data + start, out->len - start, out->len - start};
    if (!rc) rc = gt_fund_label_lines_root(&part, got, &lines, err);
    gt_fund_litems_free(&li);
    if (!rc && (memcmp(got, want, 32) || lines != want_lines)) {
        out->len = start;
        rc = gt_err_set(err, GT_ESTATE, "the export rebuilt from the store does not match the root recorded at close");
    }
    return rc;
}

/* A figure in ppm as a decimal ("0.812345", "-0.05", "n/a" when undefined). */
static const char *ppm_text(const json_t *v, char out[24]) {
    if (!json_is_integer(v)) return "n/a (no value: every label in one answer, or nothing to pair)";
    long long p = (long long)json_integer_value(v);
    snprintf(out, 24, "%s%lld.%06lld", p < 0 ? "-" : "", (p < 0 ? -p : p) / 1000000, (p < 0 ? -p : p) % 1000000);
    return out;
}

/* The phrases of the card that differ between a comparison task and a
 * ranking task. */
typedef struct card_words {
    const char *lines, *gold, *label, *alpha;
} card_words;
static const card_words comparison_words = {
    "An item of n answers gives n-1 lines (the chosen answer over each other one)",
    "('-' plain, else the right answer)",
    "A plain item's label is the answer most accepted labellers chose (at least %lld; a tie gives none)",
    "nominal"};
static const card_words ranking_words = {
    "Each labeller ordered an item's answers, best first; an item of n answers gives n(n-1)/2 lines, one per pair"
    " its order implies (first over second, first over third, ...)",
    "('-' plain, else the right order's digits, best first; a labeller is right only on that exact order)",
    "A plain item's label is the Borda order of the accepted labellers' orders (an answer at position p of n gets"
    " n-1-p points; at least %lld orders; a tie anywhere gives none)",
    "ordinal, over each answer's position"};

/* The card's text from the task's JSON (o). */
static int card_write(const json_t *o, gt_buf *out) {
    if (!json_is_string(json_object_get(o, "dpoRoot"))) return -1; /* not closed */
    const card_words *w = json_is_true(json_object_get(o, "ranking")) ? &ranking_words : &comparison_words;
    char a[24], k[24], label[320];
#define S(key) json_string_value(json_object_get(o, key))
#define N(key) (long long)json_integer_value(json_object_get(o, key))
    snprintf(label, sizeof label, w->label, N("minLabels"));
    return gt_buf_printf(out,
                         "---\npretty_name: \"%s\"\ntask_categories:\n- text-generation\ntags:\n- dpo\n- rlhf\n"
                         "- human-feedback\nconfigs:\n- config_name: dpo\n  data_files: dpo.jsonl\n"
                         "- config_name: hh\n  data_files: hh.jsonl\n---\n\n# %s\n\n"
                         "Preference labels bought on a gotong ledger: task `%s`, posted by `%s`, closed at block"
                         " %lld (%s).\n\n## Data\n\n"
                         "- `dpo.jsonl`: %lld lines `{\"prompt\", \"chosen\", \"rejected\"}` (TRL's DPOTrainer);"
                         " Merkle root `%s`\n"
                         "- `hh.jsonl`: the same pairs as Anthropic HH-RLHF conversations `{\"chosen\","
                         " \"rejected\"}`; Merkle root `%s`\n\n"
                         "Each leaf is the keccak256 of one line without its newline; pairs are hashed sorted"
                         " (OpenZeppelin's MerkleProof). %s.\n\n"
                         "## How it was labelled\n\n"
                         "- %lld items (prompt and 2-4 answers), of which the gold ones (known to the"
                         " poster, hidden until close) are `%s` %s; %lld plain items got a label.\n"
                         "- %lld seats, each an attested human (one person, one seat), bonded %s base units and"
                         " paid %s per label; labels committed as hashes, then revealed.\n"
                         "- Outcome: %lld accepted, %lld careless (under %lld %% right on gold: bond burned,"
                         " labels not counted), %lld incomplete (bond burned).\n"
                         "- %s.\n\n## Agreement (accepted labellers, plain items)\n\n"
                         "- Krippendorff's alpha (%s): %s\n- Light's kappa (mean pairwise Cohen's kappa%s): %s\n\n"
                         "## Verify\n\n`gotong ledger verify` replays the task; `gotong label export %s`"
                         " rebuilds both files from the ledger and refuses them if the roots differ.\n",
                         S("name"), S("name"), S("id"), S("poster"), N("closedHeight"), S("status"),
                         N("exportLines"), S("dpoRoot"), S("hhRoot"), w->lines, N("items"), S("gold"), w->gold,
                         N("labelled"), N("labellers"), S("bond"), S("payPerLabel"), N("accepted"), N("careless"),
                         N("goldBarPct"), N("incomplete"), label, w->alpha,
                         ppm_text(json_object_get(o, "alphaPpm"), a),
                         w == &ranking_words ? ", on the answer put first" : "",
                         ppm_text(json_object_get(o, "kappaPpm"), k), S("id"));
#undef S
#undef N
}

int gt_fund_label_card_json(const json_t *task, gt_buf *out, gt_err *err) {
    if (!json_is_string(json_object_get(task, "dpoRoot")))
        return gt_err_set(err, GT_ESTATE, "the task is not closed: its dataset card exists once it is");
    return card_write(task, out) ? gt_err_set(err, GT_ENOMEM, "out of memory") : 0;
}

int gt_fund_label_card(sqlite3 *db, const uint8_t task[32], gt_buf *out, gt_err *err) {
    uint8_t root[32];
    uint64_t lines;
    int rc = closed_root(db, task, GT_PREF_DPO, root, &lines, err);
    if (rc) return rc;
    json_t *o = task_row(db, task, err);
    if (!o) return err->code ? err->code : GT_EDB;
    rc = card_write(o, out) ? gt_err_set(err, GT_ENOMEM, "out of memory") : 0;
    json_decref(o);
    return rc;
}
