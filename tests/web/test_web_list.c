/* test_web_list.c: the readers behind the dashboard's lists (fund/fund_list.h)
 * on a real ledger: a round's contributions one by one -- summed per
 * contributor and project as the ledger keeps them, adding up to the round's
 * total, each with the proof-of-human weight the sybil rule would use, paged
 * without a row lost or repeated -- and a label task's labels, sealed (no
 * choice, no reason, only the commitment) until revealed, then exactly what
 * was revealed. An unknown round or task is GT_ENOTFOUND. */
#include "../fund/fund_util.h"

#include "fund/fund_list.h"
#include "fund/label.h"

/* A reader call through a read transaction: what 0 = contributions, 1 = labels. */
typedef struct rl_arg {
    int what;
    const uint8_t *id;
    uint64_t cursor, limit, now;
    json_t *out;
} rl_arg;
static int read_list(void *arg, gt_tx *tx, gt_err *err) {
    rl_arg *a = arg;
    a->out = a->what ? gt_fund_list_labels(tx->db, a->id, err)
                     : gt_fund_list_contribs(tx->db, a->id, a->cursor, a->limit, a->now, err);
    return a->out ? 0 : err->code;
}
/* The reader's JSON, or NULL with *code set. */
static json_t *list(gt_ledger *l, int what, const uint8_t id[32], uint64_t cursor, uint64_t limit, int *code) {
    rl_arg a = {what, id, cursor, limit, now_of(l), NULL};
    gt_err err = {0};
    *code = gt_ledger_read(l, read_list, &a, &err);
    return a.out;
}
static const char *jstr(const json_t *o, const char *k) {
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : "";
}

/* X0 gives 1 then 2 tokens to project 0 (one row of 3), X1 4 to project 0,
 * X1 1 to project 1, X2 (attested at half weight) 1 to project 1: four rows,
 * 9 tokens, as the round counts them. */
static void test_contributions(void) {
    gt_ledger *l = world();
    uint8_t r[32], none[32] = {1};
    CHECK_EQ_INT(fa(l, V1, NULL, NULL, "human_issuer_register", "{\"name\":\"humans\"}"), 0);
    CHECK_EQ_INT(fa(l, V1, NULL, NULL, "human_attest",
                    "{\"subject\":\"%s\",\"person\":\"%s\",\"weightPpm\":500000,\"expiresS\":%llu}", ad(X0 + 2),
                    blob("person-2"), now_of(l) + 100000),
                 0);
    round_open(l, GT_FUND_PAIRWISE, 10 * TOKEN, TOKEN, 1000, r);
    CHECK_EQ_INT(give(l, X0, r, 0, TOKEN), 0);
    CHECK_EQ_INT(give(l, X0 + 1, r, 0, 4 * TOKEN), 0);
    CHECK_EQ_INT(give(l, X0, r, 0, 2 * TOKEN), 0);
    CHECK_EQ_INT(give(l, X0 + 1, r, 1, TOKEN), 0);
    CHECK_EQ_INT(give(l, X0 + 2, r, 1, TOKEN), 0);
    int code = 0;
    json_t *j = list(l, 0, r, 0, GT_FUND_LIST_PAGE_MAX, &code);
    CHECK_EQ_INT(code, 0);
    json_t *rows = json_object_get(j, "contributions");
    CHECK_EQ_INT((int)json_array_size(rows), 4);
    CHECK(json_is_null(json_object_get(j, "next")));
    uint64_t total = 0;
    int seen = 0;
    for (size_t i = 0; i < json_array_size(rows); i++) {
        const json_t *c = json_array_get(rows, i);
        uint64_t amt = strtoull(jstr(c, "amount"), NULL, 10), p = (uint64_t)json_integer_value(json_object_get(c, "project"));
        int64_t w = json_integer_value(json_object_get(c, "weightPpm"));
        total += amt;
        const char *who = jstr(c, "contributor");
        int is0 = !strcasecmp(who, ad(X0)), is1 = !strcasecmp(who, ad(X0 + 1)), is2 = !strcasecmp(who, ad(X0 + 2));
        uint64_t want = is0 && p == 0 ? 3 : is1 && p == 0 ? 4 : 1;
        seen |= is0 && p == 0 ? 1 : is1 && p == 0 ? 2 : is1 && p == 1 ? 4 : is2 && p == 1 ? 8 : 16;
        CHECK_EQ_INT((int)(amt / TOKEN), (int)want);
        CHECK_EQ_INT((int)w, is2 ? 500000 : 0);
        if (i > 0) /* ordered by contributor, then project */
            CHECK(strcasecmp(jstr(json_array_get(rows, i - 1), "contributor"), jstr(c, "contributor")) <= 0);
    }
    CHECK_EQ_INT(seen, 15);
    CHECK_EQ_INT((int)(total / TOKEN), 9);
    CHECK_EQ_INT((int)(total % TOKEN), 0);

    /* pages of 3 then 1: the same four rows, in the same order */
    json_t *p1 = list(l, 0, r, 0, 3, &code), *p2;
    CHECK_EQ_INT((int)json_array_size(json_object_get(p1, "contributions")), 3);
    CHECK_EQ_INT((int)json_integer_value(json_object_get(p1, "next")), 3);
    p2 = list(l, 0, r, 3, 3, &code);
    CHECK_EQ_INT((int)json_array_size(json_object_get(p2, "contributions")), 1);
    CHECK(json_is_null(json_object_get(p2, "next")));
    CHECK(json_equal(json_array_get(json_object_get(p2, "contributions"), 0), json_array_get(rows, 3)));
    for (size_t i = 0; i < 3; i++)
        CHECK(json_equal(json_array_get(json_object_get(p1, "contributions"), i), json_array_get(rows, i)));
    json_decref(p1);
    json_decref(p2);
    json_decref(j);

    CHECK(list(l, 0, none, 0, 10, &code) == NULL);
    CHECK_EQ_INT(code, GT_ENOTFOUND);
    gt_ledger_close(l);
}

/* A task of two items for one attested labeller: sealed after the commit,
 * exactly the reveal after it. */
static void test_labels(void) {
    gt_ledger *l = world();
    uint8_t task[32], gc[32], salt[32], c[32], none[32] = {2};
    CHECK_EQ_INT(fa(l, V1, NULL, NULL, "human_issuer_register", "{\"name\":\"humans\"}"), 0);
    CHECK_EQ_INT(fa(l, V1, NULL, NULL, "human_attest",
                    "{\"subject\":\"%s\",\"person\":\"%s\",\"weightPpm\":1000000,\"expiresS\":%llu}", ad(X0),
                    blob("person-0"), now_of(l) + 100000),
                 0);
    gt_keccak256("gold", 4, salt);
    gt_fund_label_gold_commit(salt, "0-", 2, gc);
    uint64_t t = now_of(l);
    CHECK_EQ_INT(fa(l, ALICE, task, NULL, "label_task_post",
                    "{\"name\":\"n\",\"items\":2,\"labellers\":1,\"payPerLabel\":%llu,\"bond\":%llu,\"goldBarPct\":100,"
                    "\"minGold\":1,\"minLabels\":1,\"commitEndS\":%llu,\"revealEndS\":%llu,\"goldCommit\":\"%s\"}",
                    TOKEN / 100, TOKEN / 50, t + 1000, t + 2000, hx(gc)),
                 0);
    for (int i = 0; i < 2; i++)
        CHECK_EQ_INT(fa(l, ALICE, NULL, NULL, "label_item_add",
                        "{\"task\":\"%s\",\"prompt\":\"q%d\",\"answers\":2,\"answer0\":\"a\",\"answer1\":\"b\"}",
                        hx(task), i),
                     0);
    CHECK_EQ_INT(fa(l, X0, NULL, NULL, "label_join", "{\"task\":\"%s\"}", hx(task)), 0);
    gt_keccak256("my salt", 7, salt);
    for (int i = 0; i < 2; i++) {
        gt_fund_label_commitment(task, (uint64_t)i, &A[X0], 1, "clearer", 7, salt, c);
        CHECK_EQ_INT(fa(l, X0, NULL, NULL, "label_commit", "{\"task\":\"%s\",\"item\":%d,\"commitment\":\"%s\"}",
                        hx(task), i, hx(c)),
                     0);
    }
    int code = 0;
    json_t *j = list(l, 1, task, 0, 0, &code);
    json_t *rows = json_object_get(j, "labels"), *first = json_array_get(rows, 0);
    CHECK_EQ_INT((int)json_array_size(rows), 2);
    CHECK(json_is_false(json_object_get(first, "revealed")) && json_is_null(json_object_get(first, "choice")));
    CHECK_STR(jstr(first, "reason"), "");
    gt_fund_label_commitment(task, 0, &A[X0], 1, "clearer", 7, salt, c);
    CHECK_STR(jstr(first, "commitment"), hx(c));
    json_decref(j);
    CHECK_EQ_INT(fa(l, X0, NULL, NULL, "label_reveal",
                    "{\"task\":\"%s\",\"item\":0,\"choice\":1,\"reason\":\"clearer\",\"secret\":\"%s\"}", hx(task),
                    hx(salt)),
                 0);
    j = list(l, 1, task, 0, 0, &code);
    rows = json_object_get(j, "labels");
    first = json_array_get(rows, 0);
    CHECK(json_is_true(json_object_get(first, "revealed")));
    CHECK_EQ_INT((int)json_integer_value(json_object_get(first, "choice")), 1);
    CHECK_STR(jstr(first, "reason"), "clearer");
    CHECK_EQ_INT((int)json_integer_value(json_object_get(first, "item")), 0);
    CHECK(json_is_false(json_object_get(json_array_get(rows, 1), "revealed")));
    json_decref(j);
    CHECK(list(l, 1, none, 0, 0, &code) == NULL);
    CHECK_EQ_INT(code, GT_ENOTFOUND);
    gt_ledger_close(l);
}

int main(void) {
    make_keys();
    extra_keys();
    gt_err err = {0};
    if (gt_fund_register(&err)) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    RUN(test_contributions);
    RUN(test_labels);
    return gt_test_finish();
}
