/* pref.c: the tally of preference labels with gold items, and their export
 * as DPO or HH-RLHF JSON lines (pref.h). */
#include "work/label/pref.h"

#include <assert.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/json.h"

void gt_pref_tally_free(gt_pref_tally *t) {
    if (!t) return;
    gt_free(t->label);
    gt_free(t->careless);
    gt_free(t->gold_seen);
    gt_free(t->gold_right);
    memset(t, 0, sizeof *t);
}

int gt_pref_rules_check(const gt_pref_rules *r, size_t n_items, int n_labellers, gt_err *err) {
    if (n_items > GT_AGREE_MAX_ITEMS)
        return gt_err_set(err, GT_ELIMIT, "%zu items: at most %u per tally", n_items, GT_AGREE_MAX_ITEMS);
    if (n_labellers < 1 || n_labellers > GT_AGREE_MAX_RATERS)
        return gt_err_set(err, GT_ELIMIT, "%d labellers: expected 1..%d", n_labellers, GT_AGREE_MAX_RATERS);
    if (r->min_labels < 1 || r->min_labels > n_labellers)
        return gt_err_set(err, GT_EINVAL, "min_labels %d: expected 1..%d (the labellers)", r->min_labels, n_labellers);
    if (r->gold_bar_pct < 0 || r->gold_bar_pct > 100)
        return gt_err_set(err, GT_EINVAL, "gold_bar_pct %d: expected a percentage, 0..100", r->gold_bar_pct);
    if (r->min_gold < 1) return gt_err_set(err, GT_EINVAL, "min_gold %d: expected at least 1", r->min_gold);
    return 0;
}

/* Checks the rules and every item's gold and choices. */
static int check_input(const gt_pref_item *items, size_t n_items, const int *choices, int n_labellers,
                       const gt_pref_rules *r, gt_err *err) {
    int rc = gt_pref_rules_check(r, n_items, n_labellers, err);
    for (size_t i = 0; !rc && i < n_items; i++) {
        int g = items[i].gold, na = gt_pref_answers(&items[i]);
        if (na < 2 || na > GT_PREF_MAX_ANSWERS)
            return gt_err_set(err, GT_EINVAL, "item %zu: %d answers (expected 2..%d)", i, na, GT_PREF_MAX_ANSWERS);
        if (g != GT_PREF_NOT_GOLD && (g < 0 || g >= na))
            return gt_err_set(err, GT_EINVAL, "item %zu: gold %d (expected 0..%d or not gold)", i, g, na - 1);
        for (int l = 0; l < n_labellers; l++) {
            int c = choices[i * (size_t)n_labellers + (size_t)l];
            if ((c < 0 || c >= na) && c != GT_AGREE_MISSING)
                return gt_err_set(err, GT_EINVAL, "item %zu, labeller %d: choice %d (expected 0..%d or missing)", i,
                                  l, c, na - 1);
        }
    }
    return rc;
}

/* Each labeller's gold record, and whether it is under the bar. */
static void judge_gold(const gt_pref_item *items, size_t n_items, const int *choices, int n_labellers,
                       const gt_pref_rules *r, gt_pref_tally *t) {
    for (size_t i = 0; i < n_items; i++) {
        if (items[i].gold == GT_PREF_NOT_GOLD) continue;
        for (int l = 0; l < n_labellers; l++) {
            int c = choices[i * (size_t)n_labellers + (size_t)l];
            if (c == GT_AGREE_MISSING) continue;
            t->gold_seen[l]++;
            t->gold_right[l] += c == items[i].gold;
        }
    }
    for (int l = 0; l < n_labellers; l++) {
        assert(t->gold_right[l] <= t->gold_seen[l]);
        t->careless[l] = t->gold_seen[l] >= r->min_gold &&
                         (int64_t)t->gold_right[l] * 100 < (int64_t)r->gold_bar_pct * t->gold_seen[l];
    }
}

/* The plain items' majority labels, and the careful labels kept in kept[]
 * (careless ones as missing) for the agreement figure. */
static void majority(const gt_pref_item *items, size_t n_items, const int *choices, int n_labellers,
                     const gt_pref_rules *r, gt_pref_tally *t, int *kept) {
    for (size_t i = 0; i < n_items; i++) {
        int votes[GT_PREF_MAX_ANSWERS] = {0}, na = gt_pref_answers(&items[i]);
        for (int l = 0; l < n_labellers; l++) {
            size_t at = i * (size_t)n_labellers + (size_t)l;
            kept[at] = t->careless[l] || items[i].gold != GT_PREF_NOT_GOLD ? GT_AGREE_MISSING : choices[at];
            if (kept[at] != GT_AGREE_MISSING) votes[kept[at]]++;
        }
        if (items[i].gold != GT_PREF_NOT_GOLD) {
            t->label[i] = items[i].gold;
            continue;
        }
        int n = 0, best = 0, tie = 0;
        for (int c = 0; c < na; c++) {
            n += votes[c];
            if (c && votes[c] == votes[best]) tie = 1;
            if (votes[c] > votes[best]) best = c, tie = 0;
        }
        t->label[i] = n < r->min_labels || tie ? GT_AGREE_MISSING : best;
        t->n_labelled += t->label[i] != GT_AGREE_MISSING;
    }
}

int gt_pref_tally_run(const gt_pref_item *items, size_t n_items, const int *choices, int n_labellers,
                      const gt_pref_rules *rules, gt_pref_tally *out, gt_err *err) {
    memset(out, 0, sizeof *out);
    int rc = check_input(items, n_items, choices, n_labellers, rules, err);
    if (rc) return rc;
    size_t nl = (size_t)n_labellers;
    out->label = gt_malloc((n_items ? n_items : 1) * sizeof(int));
    out->careless = gt_calloc(nl, sizeof(int));
    out->gold_seen = gt_calloc(nl, sizeof(int));
    out->gold_right = gt_calloc(nl, sizeof(int));
    int *kept = gt_malloc((n_items ? n_items : 1) * nl * sizeof(int));
    if (!out->label || !out->careless || !out->gold_seen || !out->gold_right || !kept) {
        gt_free(kept);
        gt_pref_tally_free(out);
        return gt_err_set(err, GT_ENOMEM, "out of memory tallying %zu items", n_items);
    }
    judge_gold(items, n_items, choices, n_labellers, rules, out);
    majority(items, n_items, choices, n_labellers, rules, out, kept);
    /* Alpha needs two labellers; with one there is no agreement to measure.
     * The categories are answer positions, as many as the widest item has. */
    int n_cat = 2;
    for (size_t i = 0; i < n_items; i++)
        if (gt_pref_answers(&items[i]) > n_cat) n_cat = gt_pref_answers(&items[i]);
    if (n_labellers >= 2) rc = gt_agree_alpha(kept, n_items, n_labellers, n_cat, &out->alpha, err);
    gt_free(kept);
    if (rc) gt_pref_tally_free(out);
    return rc;
}

/* A JSON string of text, or NULL with err naming item and field when it is
 * too long or not UTF-8. */
static json_t *text_json(const char *text, size_t item, const char *field, gt_err *err) {
    size_t n = strnlen(text, GT_PREF_MAX_TEXT + 1);
    if (n > GT_PREF_MAX_TEXT) {
        gt_err_set(err, GT_ELIMIT, "item %zu: %s is over %d bytes", item, field, GT_PREF_MAX_TEXT);
        return NULL;
    }
    json_t *s = json_stringn(text, n);
    if (!s) gt_err_set(err, GT_EINVAL, "item %zu: %s is not valid UTF-8 text", item, field);
    return s;
}

/* One HH-RLHF conversation: "\n\nHuman: PROMPT\n\nAssistant: ANSWER". */
static json_t *hh_turn(const char *prompt, const char *answer, size_t item, const char *field, gt_err *err) {
    gt_buf b = GT_BUF_INIT;
    json_t *s = NULL;
    if (gt_buf_append_str(&b, "\n\nHuman: ") || gt_buf_append_str(&b, prompt) ||
        gt_buf_append_str(&b, "\n\nAssistant: ") || gt_buf_append_str(&b, answer) || gt_buf_putc(&b, 0))
        gt_err_set(err, GT_ENOMEM, "out of memory");
    else if (!(s = json_stringn((const char *)b.data, b.len - 1)))
        gt_err_set(err, GT_EINVAL, "item %zu: %s is not valid UTF-8 text", item, field);
    gt_buf_free(&b);
    return s;
}

/* The JSON object of one labelled item in format: the chosen answer label
 * against the rejected answer other. */
static json_t *item_json(const gt_pref_item *it, int label, int other, size_t i, gt_pref_format format,
                         gt_err *err) {
    assert(label != other);
    json_t *p = text_json(it->prompt, i, "prompt", err);
    json_t *c = p ? text_json(it->answer[label], i, "the chosen answer", err) : NULL;
    json_t *r = c ? text_json(it->answer[other], i, "the rejected answer", err) : NULL;
    json_t *o = NULL;
    if (r && format == GT_PREF_DPO) o = json_pack("{s:O,s:O,s:O}", "prompt", p, "chosen", c, "rejected", r);
    if (r && format == GT_PREF_HH) {
        json_t *hc = hh_turn(it->prompt, it->answer[label], i, "chosen", err);
        json_t *hr = hc ? hh_turn(it->prompt, it->answer[other], i, "rejected", err) : NULL;
        if (hr) o = json_pack("{s:O,s:O}", "chosen", hc, "rejected", hr);
        json_decref(hc), json_decref(hr);
    }
    json_decref(p), json_decref(c), json_decref(r);
    if (!o && !err->code) gt_err_set(err, GT_ENOMEM, "out of memory");
    return o;
}

int gt_pref_pair_line(const gt_pref_item *it, int chosen, int rejected, size_t i, gt_pref_format format,
                      gt_buf *out, gt_err *err) {
    assert(err && (format == GT_PREF_DPO || format == GT_PREF_HH));
    assert(chosen >= 0 && rejected >= 0 && chosen < gt_pref_answers(it) && rejected < gt_pref_answers(it));
    json_t *o = item_json(it, chosen, rejected, i, format, err);
    char *line = o ? gt_json_dump(o) : NULL;
    json_decref(o);
    int rc = !line || gt_buf_append_str(out, line) || gt_buf_putc(out, '\n');
    free(line);
    return rc ? (err->code ? err->code : gt_err_set(err, GT_ENOMEM, "out of memory")) : 0;
}

int gt_pref_export(const gt_pref_item *items, size_t n_items, const gt_pref_tally *t, gt_pref_format format,
                   gt_buf *out, gt_err *err) {
    assert(err && (format == GT_PREF_DPO || format == GT_PREF_HH));
    size_t start = out->len;
    for (size_t i = 0; i < n_items; i++) {
        if (items[i].gold != GT_PREF_NOT_GOLD || t->label[i] == GT_AGREE_MISSING) continue;
        assert(t->label[i] >= 0 && t->label[i] < gt_pref_answers(&items[i]));
        for (int other = 0; other < gt_pref_answers(&items[i]); other++) {
            if (other == t->label[i]) continue;
            int rc = gt_pref_pair_line(&items[i], t->label[i], other, i, format, out, err);
            if (rc) {
                out->len = start;
                return rc;
            }
        }
    }
    return 0;
}
