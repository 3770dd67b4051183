/* test_label_task.c: paid human feedback on a real ledger (fund/label.h) --
 * a task labelled by attested humans, tallied, paid and exported, and every
 * attack of the brief as a scenario that is refused or loses its bond: a
 * labeller copying another's label, one answering at random (caught by the
 * gold, slashed), one person with two addresses, an unattested address, the
 * poster labelling, a poster that never closes (closed by rule), a false gold
 * opening, a labeller that hides labels. Every ledger is replayed by
 * gt_ledger_verify at the end (done()). */
#include "fund_util.h"

#include <assert.h>

#include "base/limits.h"
#include "fund/fund_list.h"
#include "fund/label.h"

#define PAY (TOKEN / 100) /* per label */
#define N_ITEMS 6
#define BOND (PAY * N_ITEMS)
/* Items 2 and 4 are gold (right answers 0 and 2). */
static const char GOLD[] = "--0-2-";
static uint8_t gold_salt[32];

/* Who is who: X0..X3 attested humans (distinct persons), X4 attested as
 * the same person as X0, X5 not attested. V1 is the issuer. */
enum { H0 = X0, H1 = X0 + 1, H2 = X0 + 2, H3 = X0 + 3, SYBIL = X0 + 4, NOBODY = X0 + 5 };

/* The label world on ledger l (fresh): money, an issuer, the attestations. */
static gt_ledger *label_world_on(gt_ledger *l) {
    for (int i = 1; i < X0 + N_EXTRA; i++)
        CHECK_EQ_INT(fa(l, AUTH, NULL, NULL, "mint", "{\"to\":\"%s\",\"amount\":%llu}", ad(i), 100 * TOKEN), 0);
    CHECK_EQ_INT(fa(l, V1, NULL, NULL, "stake", "{\"amount\":%llu}", 20 * TOKEN), 0);
    CHECK_EQ_INT(fa(l, V1, NULL, NULL, "human_issuer_register", "{\"name\":\"humans\"}"), 0);
    uint64_t until = now_of(l) + 100000;
    for (int who = H0; who <= SYBIL; who++) {
        char p[16];
        snprintf(p, sizeof p, "person-%d", who == SYBIL ? H0 : who);
        CHECK_EQ_INT(fa(l, V1, NULL, NULL, "human_attest",
                        "{\"subject\":\"%s\",\"person\":\"%s\",\"weightPpm\":1000000,\"expiresS\":%llu}", ad(who),
                        blob(p), until),
                     0);
    }
    gt_keccak256("gold salt", 9, gold_salt);
    return l;
}
static gt_ledger *label_world(void) {
    skew = 0;
    return label_world_on(fresh());
}

/* The label world on a ledger whose format 10 starts far ahead, set before
 * its first block: every block is decided by the rules before format 10 (as
 * an upgraded ledger's older blocks were), and the replay agrees. */
static gt_ledger *label_world_before_format10(void) {
    gt_err err = {0};
    sqlite3 *db;
    skew = 0;
    gt_ledger *l = fresh();
    gt_ledger_close(l);
    CHECK_EQ_INT(sqlite3_open(path, &db), SQLITE_OK);
    CHECK_EQ_INT(sqlite3_exec(db, "UPDATE meta SET value=1000000 WHERE key='format10_height'", NULL, NULL, NULL),
                 SQLITE_OK);
    CHECK_EQ_INT(sqlite3_changes(db), 1);
    sqlite3_close(db);
    CHECK_EQ_INT(gt_ledger_open(path, 0, &l, &err), 0);
    return label_world_on(l);
}

/* ALICE posts a task of N_ITEMS items for k labellers (commit window 1000 s,
 * reveals until 2000 s) and adds its items: 0, 3, 5 of two answers; 1, 2, 4
 * of three. */
static void post_task(gt_ledger *l, int k, uint8_t task[32]) {
    uint8_t gc[32];
    gt_fund_label_gold_commit(gold_salt, GOLD, strlen(GOLD), gc);
    uint64_t t = now_of(l);
    CHECK_EQ_INT(fa(l, ALICE, task, NULL, "label_task_post",
                    "{\"name\":\"helpful answers\",\"items\":%d,\"labellers\":%d,\"payPerLabel\":%llu,\"bond\":%llu,"
                    "\"goldBarPct\":100,\"minGold\":1,\"minLabels\":1,\"commitEndS\":%llu,\"revealEndS\":%llu,"
                    "\"goldCommit\":\"%s\"}",
                    N_ITEMS, k, PAY, BOND, t + 1000, t + 2000, hx(gc)),
                 0);
    for (int i = 0; i < N_ITEMS; i++) {
        int three = i == 1 || i == 2 || i == 4;
        CHECK_EQ_INT(fa(l, ALICE, NULL, NULL, "label_item_add",
                        "{\"task\":\"%s\",\"prompt\":\"question %d\",\"answers\":%d,\"answer0\":\"a%d\","
                        "\"answer1\":\"b%d\",\"answer2\":\"%s\"}",
                        hx(task), i, three ? 3 : 2, i, i, three ? "c" : ""),
                     0);
    }
}

static void salt_of(int who, int item, uint8_t salt[32]) {
    char s[32];
    snprintf(s, sizeof s, "salt-%d-%d", who, item);
    gt_keccak256(s, strlen(s), salt);
}
static int commit(gt_ledger *l, int who, const uint8_t task[32], int item, int choice, gt_result *r) {
    uint8_t salt[32], c[32];
    salt_of(who, item, salt);
    gt_fund_label_commitment(task, (uint64_t)item, &A[who], (uint64_t)choice, "why", 3, salt, c);
    return fa(l, who, NULL, r, "label_commit", "{\"task\":\"%s\",\"item\":%d,\"commitment\":\"%s\"}", hx(task), item,
              hx(c));
}
static int reveal(gt_ledger *l, int who, const uint8_t task[32], int item, int choice, gt_result *r) {
    uint8_t salt[32];
    salt_of(who, item, salt);
    return fa(l, who, NULL, r, "label_reveal",
              "{\"task\":\"%s\",\"item\":%d,\"choice\":%d,\"reason\":\"why\",\"secret\":\"%s\"}", hx(task), item, choice,
              hx(salt));
}
/* who labels every item with choices[] (commit only). */
static void commit_all(gt_ledger *l, int who, const uint8_t task[32], const int *choices) {
    for (int i = 0; i < N_ITEMS; i++) CHECK_EQ_INT(commit(l, who, task, i, choices[i], NULL), 0);
}
static void reveal_all(gt_ledger *l, int who, const uint8_t task[32], const int *choices) {
    for (int i = 0; i < N_ITEMS; i++) CHECK_EQ_INT(reveal(l, who, task, i, choices[i], NULL), 0);
}
static int join(gt_ledger *l, int who, const uint8_t task[32], gt_result *r) {
    return fa(l, who, NULL, r, "label_join", "{\"task\":\"%s\"}", hx(task));
}
static int close_task(gt_ledger *l, int who, const uint8_t task[32], const char *gold, gt_result *r) {
    return fa(l, who, NULL, r, "label_task_close", "{\"task\":\"%s\",\"gold\":\"%s\",\"goldSalt\":\"%s\"}", hx(task),
              gold, hx(gold_salt));
}

/* Reads the task's JSON, or its export (fmt 0 DPO, 1 HH, 2 the card). */
typedef struct lq_arg {
    const uint8_t *task;
    int what;
    json_t *out;
    gt_buf buf;
} lq_arg;
static int read_label(void *arg, gt_tx *tx, gt_err *err) {
    lq_arg *a = arg;
    if (a->what < 0) return (a->out = gt_fund_label_task_get(tx->db, a->task, err)) ? 0 : -1;
    if (a->what == 3) return (a->out = gt_fund_list_labels(tx->db, a->task, err)) ? 0 : -1; /* the dashboard's */
    if (a->what == 2) return gt_fund_label_card(tx->db, a->task, &a->buf, err);
    return gt_fund_label_export(tx->db, a->task, (gt_pref_format)a->what, &a->buf, err);
}
static json_t *task_view(gt_ledger *l, const uint8_t task[32]) {
    lq_arg a = {task, -1, NULL, GT_BUF_INIT};
    gt_err err = {0};
    gt_ledger_read(l, read_label, &a, &err);
    if (!a.out) fprintf(stderr, "task view: %s\n", err.msg);
    return a.out;
}
/* The export (NUL-terminated, caller frees) or NULL. */
static char *export_of(gt_ledger *l, const uint8_t task[32], int what) {
    lq_arg a = {task, what, NULL, GT_BUF_INIT};
    gt_err err = {0};
    if (gt_ledger_read(l, read_label, &a, &err) || gt_buf_putc(&a.buf, 0)) {
        fprintf(stderr, "export: %s\n", err.msg);
        gt_buf_free(&a.buf);
        return NULL;
    }
    return (char *)a.buf.data;
}
static long long jint(const json_t *o, const char *k) { return (long long)json_integer_value(json_object_get(o, k)); }
static const char *jstr(const json_t *o, const char *k) { return json_string_value(json_object_get(o, k)); }
static const char *seat_outcome(const json_t *v, int seat) {
    return jstr(json_array_get(json_object_get(v, "seats"), (size_t)seat), "outcome");
}

/* Checks every line of a DPO export has exactly prompt, chosen and rejected
 * as strings (what TRL's DPOTrainer reads); returns the line count. */
static int dpo_lines_ok(const char *text) {
    int n = 0;
    for (const char *p = text; *p;) {
        const char *nl = strchr(p, '\n');
        CHECK(nl != NULL);
        if (!nl) break;
        json_error_t je;
        json_t *o = json_loadb(p, (size_t)(nl - p), 0, &je);
        CHECK(o && json_object_size(o) == 3 && json_is_string(json_object_get(o, "prompt")) &&
              json_is_string(json_object_get(o, "chosen")) && json_is_string(json_object_get(o, "rejected")));
        CHECK(o && strcmp(jstr(o, "chosen"), jstr(o, "rejected")) != 0);
        json_decref(o);
        n++;
        p = nl + 1;
    }
    return n;
}

/* Three seats: H0 and H1 careful (they differ on item 5 only), H2 answers
 * at random and misses both gold items. Reveals open as soon as every seat
 * has committed every item; the poster closes at once. By hand: items 0, 1
 * and 3 get labels 0, 1, 1; item 5 is a 1-1 tie. Alpha over (0,0) (1,1)
 * (1,1) (0,1): n = 8, o01 = o10 = 1, n0 = 3, n1 = 5: 1 - 7 * 2 / 30 =
 * 0.533333. Kappa: a = 3 of 4, S = 2*1 + 2*3 = 8: (12 - 8) / (16 - 8) = 0.5.
 * DPO lines: 1 + 2 (three answers) + 1 = 4. Money: H0 and H1 paid 6 labels
 * and their bonds back; H2's bond and pay burned; nothing back to ALICE. */
static void test_task_by_hand(void) {
    gt_ledger *l = label_world();
    uint8_t task[32];
    gt_result res;
    post_task(l, 3, task);
    uint64_t alice0 = bal(l, ALICE), h0 = bal(l, H0), h2 = bal(l, H2);
    CHECK_EQ_U64(acc_of(l, ALICE).locked, 18 * PAY);
    static const int c0[N_ITEMS] = {0, 1, 0, 1, 2, 0}, c1[N_ITEMS] = {0, 1, 0, 1, 2, 1}, c2[N_ITEMS] = {1, 0, 1, 0, 0, 1};
    for (int who = H0; who <= H2; who++) CHECK_EQ_INT(join(l, who, task, NULL), 0);
    CHECK_EQ_U64(acc_of(l, H0).locked, BOND);
    commit_all(l, H0, task, c0);
    commit_all(l, H1, task, c1);
    /* H0 may not reveal while H2 has still to label: H2 would see it */
    CHECK_EQ_INT(reveal(l, H0, task, 0, 0, &res), GT_ESTATE);
    CHECK_CONTAINS(res.msg, "still taking labels");
    commit_all(l, H2, task, c2);
    CHECK_EQ_INT(close_task(l, ALICE, task, GOLD, &res), GT_ESTATE); /* nothing revealed yet */
    reveal_all(l, H0, task, c0);
    reveal_all(l, H1, task, c1);
    reveal_all(l, H2, task, c2);
    CHECK_EQ_INT(close_task(l, ALICE, task, GOLD, &res), 0);
    json_t *v = task_view(l, task);
    CHECK_STR(jstr(v, "status"), "closed");
    CHECK_EQ_INT(jint(v, "alphaPpm"), 533333);
    CHECK_EQ_INT(jint(v, "kappaPpm"), 500000);
    CHECK_EQ_INT(jint(v, "labelled"), 3);
    CHECK_EQ_INT(jint(v, "exportLines"), 4);
    CHECK_STR(seat_outcome(v, 0), "accepted");
    CHECK_STR(seat_outcome(v, 1), "accepted");
    CHECK_STR(seat_outcome(v, 2), "careless");
    json_t *items = json_object_get(v, "itemList");
    CHECK_EQ_INT(jint(json_array_get(items, 1), "label"), 1);
    CHECK(json_is_null(json_object_get(json_array_get(items, 5), "label")));
    CHECK_EQ_INT(jint(json_array_get(items, 4), "gold"), 2);
    json_decref(v);
    CHECK_EQ_U64(bal(l, H0) - h0, 6 * PAY);
    CHECK_EQ_U64(h2 - bal(l, H2), BOND);
    CHECK_EQ_U64(bal(l, ALICE), alice0);
    CHECK_EQ_U64(acc_of(l, ALICE).locked + acc_of(l, H0).locked + acc_of(l, H2).locked, 0);
    char *dpo = export_of(l, task, 0), *hh = export_of(l, task, 1), *card = export_of(l, task, 2);
    CHECK(dpo && hh && card);
    if (dpo && hh && card) {
        CHECK_EQ_INT(dpo_lines_ok(dpo), 4);
        CHECK_CONTAINS(dpo, "{\"chosen\":\"b1\",\"prompt\":\"question 1\",\"rejected\":\"a1\"}\n");
        CHECK_CONTAINS(dpo, "{\"chosen\":\"b1\",\"prompt\":\"question 1\",\"rejected\":\"c\"}\n");
        CHECK(strstr(dpo, "question 5") == NULL && strstr(dpo, "question 2") == NULL); /* tie and gold left out */
        CHECK_CONTAINS(hh, "\\n\\nHuman: question 3\\n\\nAssistant: b3");
        CHECK_CONTAINS(card, "Krippendorff's alpha (nominal): 0.533333");
        CHECK_CONTAINS(card, "Light's kappa (mean pairwise Cohen's kappa): 0.500000");
        CHECK_CONTAINS(card, "1 careless");
    }
    free(dpo), free(hh), free(card);
    CHECK_EQ_INT(close_task(l, ALICE, task, GOLD, &res), GT_ESTATE); /* once */
    done(l);
}

/* A copier: H3 copies H0's commitment of item 0 from the ledger. It cannot
 * open it -- not before H0 reveals (it has no salt), nor after with H0's
 * salt and choice (the hash binds H0's address) -- so its seat is
 * incomplete: bond burned, and its pay too (format 10: it revealed five
 * labels the poster read). A false gold opening
 * and a stranger's close are refused. */
static void test_copier_and_gold(void) {
    gt_ledger *l = label_world();
    uint8_t task[32], copied[32], salt[32];
    gt_result res;
    post_task(l, 3, task);
    static const int c0[N_ITEMS] = {0, 1, 0, 1, 2, 0};
    for (int who = H0; who <= H1; who++) CHECK_EQ_INT(join(l, who, task, NULL), 0);
    CHECK_EQ_INT(join(l, H3, task, NULL), 0);
    commit_all(l, H0, task, c0);
    commit_all(l, H1, task, c0);
    salt_of(H0, 0, salt);
    gt_fund_label_commitment(task, 0, &A[H0], 0, "why", 3, salt, copied);
    CHECK_EQ_INT(fa(l, H3, NULL, NULL, "label_commit", "{\"task\":\"%s\",\"item\":0,\"commitment\":\"%s\"}", hx(task),
                    hx(copied)),
                 0);
    for (int i = 1; i < N_ITEMS; i++) CHECK_EQ_INT(commit(l, H3, task, i, c0[i], NULL), 0);
    reveal_all(l, H0, task, c0);
    reveal_all(l, H1, task, c0);
    CHECK_EQ_INT(fa(l, H3, NULL, &res, "label_reveal",
                    "{\"task\":\"%s\",\"item\":0,\"choice\":0,\"reason\":\"why\",\"secret\":\"%s\"}", hx(task), hx(salt)),
                 GT_EINVAL);
    CHECK_CONTAINS(res.msg, "do not open");
    for (int i = 1; i < N_ITEMS; i++) CHECK_EQ_INT(reveal(l, H3, task, i, c0[i], NULL), 0);
    CHECK_EQ_INT(close_task(l, ALICE, task, GOLD, &res), GT_ESTATE); /* H3's item 0 is not revealed */
    skew += 2000;
    CHECK_EQ_INT(close_task(l, ALICE, task, "--1-2-", &res), GT_EINVAL);
    CHECK_CONTAINS(res.msg, "do not open the task's goldCommit");
    CHECK_EQ_INT(close_task(l, BOB, task, GOLD, &res), GT_EPERM);
    uint64_t alice0 = bal(l, ALICE), h3 = bal(l, H3);
    CHECK_EQ_INT(close_task(l, ALICE, task, GOLD, &res), 0);
    json_t *v = task_view(l, task);
    CHECK_STR(seat_outcome(v, 2), "incomplete");
    CHECK_EQ_INT(jint(v, "kappaPpm"), 1000000);
    json_decref(v);
    CHECK_EQ_U64(bal(l, ALICE), alice0); /* H3 revealed 5 labels: its seat's pay burns (format 10) */
    CHECK_EQ_U64(bal(l, H3), h3);        /* its bond is gone */
    CHECK_EQ_U64(acc_of(l, H3).locked, 0);
    done(l);
}

/* Who may take a seat: not one person twice (SYBIL is attested as H0's
 * person), not an unattested address, not the poster, not before every item
 * is in, not past the seats. */
static void test_seats(void) {
    gt_ledger *l = label_world();
    uint8_t task[32], bare[32], gc[32];
    gt_result res;
    gt_fund_label_gold_commit(gold_salt, GOLD, strlen(GOLD), gc);
    uint64_t t = now_of(l);
    CHECK_EQ_INT(fa(l, ALICE, bare, NULL, "label_task_post",
                    "{\"name\":\"bare\",\"items\":2,\"labellers\":1,\"payPerLabel\":%llu,\"bond\":%llu,"
                    "\"goldBarPct\":50,\"minGold\":1,\"minLabels\":1,\"commitEndS\":%llu,\"revealEndS\":%llu,"
                    "\"goldCommit\":\"%s\"}",
                    PAY, 2 * PAY, t + 1000, t + 2000, hx(gc)),
                 0);
    CHECK_EQ_INT(join(l, H0, bare, &res), GT_ESTATE);
    CHECK_CONTAINS(res.msg, "0 of its 2 items");
    post_task(l, 2, task);
    CHECK_EQ_INT(join(l, H0, task, NULL), 0);
    CHECK_EQ_INT(join(l, H0, task, &res), GT_EEXIST);
    CHECK_EQ_INT(join(l, SYBIL, task, &res), GT_EPERM);
    CHECK_CONTAINS(res.msg, "one person, one seat per task");
    CHECK_EQ_INT(join(l, NOBODY, task, &res), GT_EPERM);
    CHECK_CONTAINS(res.msg, "proof of human");
    CHECK_EQ_INT(join(l, ALICE, task, &res), GT_EPERM);
    CHECK_CONTAINS(res.msg, "poster may not label");
    CHECK_EQ_INT(commit(l, NOBODY, task, 0, 0, &res), GT_EPERM); /* no seat, no label */
    CHECK_EQ_INT(join(l, H1, task, NULL), 0);
    CHECK_EQ_INT(join(l, H2, task, &res), GT_ESTATE);
    CHECK_CONTAINS(res.msg, "all its 2 seats");
    CHECK_EQ_INT(commit(l, H1, task, 0, 0, NULL), 0);
    CHECK_EQ_INT(commit(l, H1, task, 0, 1, &res), GT_EEXIST);
    CHECK_EQ_INT(commit(l, H1, task, N_ITEMS, 0, &res), GT_EINVAL);
    /* past the commit window nothing is taken */
    skew += 1000;
    CHECK_EQ_INT(commit(l, H0, task, 0, 0, &res), GT_ESTATE);
    done(l);
}

/* The poster never closes: until the grace period ends nobody else may;
 * then anyone closes by rule, without gold (nobody judged careless, H1's
 * wrong gold answers included). H1 revealed every item: paid. H0 hid one
 * label: its bond is burned, and its seat's pay too (format 10: it revealed
 * five). */
static void test_poster_never_closes(void) {
    gt_ledger *l = label_world();
    uint8_t task[32];
    gt_result res;
    post_task(l, 2, task);
    static const int c0[N_ITEMS] = {0, 1, 0, 1, 2, 0}, c1[N_ITEMS] = {0, 1, 1, 1, 0, 0};
    CHECK_EQ_INT(join(l, H0, task, NULL), 0);
    CHECK_EQ_INT(join(l, H1, task, NULL), 0);
    commit_all(l, H0, task, c0);
    commit_all(l, H1, task, c1);
    for (int i = 0; i < N_ITEMS - 1; i++) CHECK_EQ_INT(reveal(l, H0, task, i, c0[i], NULL), 0);
    reveal_all(l, H1, task, c1);
    skew += 2000;
    CHECK_EQ_INT(reveal(l, H0, task, N_ITEMS - 1, c0[N_ITEMS - 1], &res), GT_ESTATE); /* too late */
    CHECK_EQ_INT(close_task(l, BOB, task, "", &res), GT_EPERM);
    CHECK_CONTAINS(res.msg, "only the poster");
    skew += GT_LABEL_CLOSE_GRACE_S;
    CHECK_EQ_INT(close_task(l, ALICE, task, GOLD, &res), GT_EINVAL);
    CHECK_CONTAINS(res.msg, "closes by rule");
    uint64_t alice0 = bal(l, ALICE), h0 = bal(l, H0), h1 = bal(l, H1);
    CHECK_EQ_INT(close_task(l, BOB, task, "", &res), 0);
    json_t *v = task_view(l, task);
    CHECK_STR(jstr(v, "status"), "closed-by-rule");
    CHECK_STR(seat_outcome(v, 0), "incomplete");
    CHECK_STR(seat_outcome(v, 1), "accepted");
    CHECK_EQ_INT(jint(v, "labelled"), N_ITEMS); /* no gold: every item is plain */
    CHECK(json_is_null(json_object_get(v, "alphaPpm")));  /* one labeller: nothing to pair */
    json_decref(v);
    CHECK_EQ_U64(bal(l, H1) - h1, BOND + 6 * PAY);
    CHECK_EQ_U64(bal(l, H0), h0);
    CHECK_EQ_U64(bal(l, ALICE), alice0);
    char *dpo = export_of(l, task, 0);
    CHECK(dpo && dpo_lines_ok(dpo) == 9); /* 3 items of 2 answers, 3 of 3 */
    free(dpo);
    done(l);
}

/* Terms and items out of bounds are refused, saying what is expected. */
static void test_terms(void) {
    gt_ledger *l = label_world();
    uint8_t task[32], gc[32];
    gt_result res;
    gt_fund_label_gold_commit(gold_salt, GOLD, strlen(GOLD), gc);
    uint64_t t = now_of(l);
    const char *fmt = "{\"name\":\"t\",\"items\":%d,\"labellers\":2,\"payPerLabel\":%llu,\"bond\":%llu,"
                      "\"goldBarPct\":50,\"minGold\":1,\"minLabels\":1,\"commitEndS\":%llu,\"revealEndS\":%llu,"
                      "\"goldCommit\":\"%s\"}";
    CHECK_EQ_INT(fa(l, ALICE, NULL, &res, "label_task_post", fmt, 6, PAY, 5 * PAY, t + 10, t + 20, hx(gc)), GT_EINVAL);
    CHECK_CONTAINS(res.msg, "bond must be at least");
    CHECK_EQ_INT(fa(l, ALICE, NULL, &res, "label_task_post", fmt, 65, PAY, 65 * PAY, t + 10, t + 20, hx(gc)),
                 GT_EINVAL);
    CHECK_CONTAINS(res.msg, "items must be 2 to 64");
    CHECK_EQ_INT(fa(l, ALICE, NULL, &res, "label_task_post", fmt, 6, PAY, 6 * PAY, t + 30, t + 20, hx(gc)), GT_EINVAL);
    CHECK_CONTAINS(res.msg, "commitEndS < revealEndS");
    CHECK_EQ_INT(fa(l, NOBODY, NULL, &res, "label_task_post", fmt, 6, 100 * TOKEN, 600 * TOKEN, t + 1000, t + 2000,
                    hx(gc)),
                 GT_EFUNDS); /* the pay must be held */
    CHECK_EQ_INT(fa(l, ALICE, task, NULL, "label_task_post", fmt, 2, PAY, 2 * PAY, t + 1000, t + 2000, hx(gc)), 0);
    const char *item = "{\"task\":\"%s\",\"prompt\":\"p\",\"answers\":%d,\"answer0\":\"x\",\"answer1\":\"y\","
                       "\"answer2\":\"%s\"}";
    CHECK_EQ_INT(fa(l, BOB, NULL, &res, "label_item_add", item, hx(task), 2, ""), GT_EPERM);
    CHECK_EQ_INT(fa(l, ALICE, NULL, &res, "label_item_add", item, hx(task), 2, "z"), GT_EINVAL);
    CHECK_CONTAINS(res.msg, "answer2: expected none");
    CHECK_EQ_INT(fa(l, ALICE, NULL, &res, "label_item_add", item, hx(task), 3, ""), GT_EINVAL);
    CHECK_EQ_INT(fa(l, ALICE, NULL, &res, "label_item_add", item, hx(task), 5, "z"), GT_EINVAL);
    CHECK_EQ_INT(fa(l, ALICE, NULL, NULL, "label_item_add", item, hx(task), 2, ""), 0);
    CHECK_EQ_INT(fa(l, ALICE, NULL, NULL, "label_item_add", item, hx(task), 2, ""), 0);
    CHECK_EQ_INT(fa(l, ALICE, NULL, &res, "label_item_add", item, hx(task), 2, ""), GT_ESTATE);
    /* a reveal naming an answer the item lacks */
    CHECK_EQ_INT(join(l, H0, task, NULL), 0);
    CHECK_EQ_INT(commit(l, H0, task, 0, 2, NULL), 0);
    skew += 1000;
    CHECK_EQ_INT(reveal(l, H0, task, 0, 2, &res), GT_EINVAL);
    CHECK_CONTAINS(res.msg, "choice must be 0 to 1");
    done(l);
}

/* Posts a task of N_ITEMS for 1 labeller whose commit window is commit_s
 * (from the post's block time) and reveal window reveal_s; the refusal's
 * message into r. */
static int post_windows(gt_ledger *l, uint64_t commit_s, uint64_t reveal_s, gt_result *r) {
    uint8_t gc[32];
    gt_fund_label_gold_commit(gold_salt, GOLD, strlen(GOLD), gc);
    uint64_t t = now_of(l) + 1; /* the post's block time (set_clock) */
    return fa(l, ALICE, NULL, r, "label_task_post",
              "{\"name\":\"w\",\"items\":%d,\"labellers\":1,\"payPerLabel\":%llu,\"bond\":%llu,\"goldBarPct\":100,"
              "\"minGold\":1,\"minLabels\":1,\"commitEndS\":%llu,\"revealEndS\":%llu,\"goldCommit\":\"%s\"}",
              N_ITEMS, PAY, BOND, t + commit_s, t + commit_s + reveal_s, hx(gc));
}

/* From format 10 a poster cannot choose windows no person meets: a commit
 * or a reveal window under GT_LABEL_MIN_WINDOW_S is refused, naming the
 * field, the window and the minimum; 300 s each is taken. Below format 10's
 * height a 1-second reveal window and a 10-second commit window are still
 * taken (the old rule, as those blocks were decided). The old rule took
 * them on every ledger (5 checks fail with the rule off). */
static void test_min_windows(void) {
    gt_ledger *l = label_world();
    gt_result res;
    CHECK_EQ_INT(post_windows(l, GT_LABEL_MIN_WINDOW_S, 1, &res), GT_EINVAL);
    CHECK_CONTAINS(res.msg, "revealEndS: the reveal window is 1 s");
    CHECK_CONTAINS(res.msg, "under the minimum of 300 s");
    CHECK_EQ_INT(post_windows(l, GT_LABEL_MIN_WINDOW_S - 1, 3600, &res), GT_EINVAL);
    CHECK_CONTAINS(res.msg, "commitEndS: the commit window is 299 s");
    CHECK_EQ_INT(post_windows(l, GT_LABEL_MIN_WINDOW_S, GT_LABEL_MIN_WINDOW_S, &res), 0);
    done(l);
    l = label_world_before_format10();
    CHECK_EQ_INT(post_windows(l, GT_LABEL_MIN_WINDOW_S, 1, &res), 0);
    CHECK_EQ_INT(post_windows(l, 10, 10, &res), 0);
    done(l);
}

/* Posts a task of N_ITEMS for 1 labeller with the bond given; the refusal's
 * message into r. */
static int post_bond(gt_ledger *l, uint64_t bond, gt_result *r) {
    uint8_t gc[32];
    gt_fund_label_gold_commit(gold_salt, GOLD, strlen(GOLD), gc);
    uint64_t t = now_of(l);
    return fa(l, ALICE, NULL, r, "label_task_post",
              "{\"name\":\"b\",\"items\":%d,\"labellers\":1,\"payPerLabel\":%llu,\"bond\":%llu,\"goldBarPct\":100,"
              "\"minGold\":1,\"minLabels\":1,\"commitEndS\":%llu,\"revealEndS\":%llu,\"goldCommit\":\"%s\"}",
              N_ITEMS, PAY, bond, t + 1000, t + 2000, hx(gc));
}

/* From format 10 the bond is at most twice a seat's pay (a false gold burns
 * honest seats' bonds: the poster must not set their stake): one base unit
 * over is refused, saying so; twice is taken. Below format 10's height a
 * bond of ten times the pay is still taken. The old rule took it on every
 * ledger (2 checks fail with the rule off). */
static void test_bond_cap(void) {
    gt_ledger *l = label_world();
    gt_result res;
    CHECK_EQ_INT(post_bond(l, 2 * BOND + 1, &res), GT_EINVAL);
    CHECK_CONTAINS(res.msg, "bond must be at most 2 * payPerLabel * items = 120000 (twice a seat's pay), got 120001");
    CHECK_EQ_INT(post_bond(l, 2 * BOND, &res), 0);
    done(l);
    l = label_world_before_format10();
    CHECK_EQ_INT(post_bond(l, 10 * BOND, &res), 0);
    done(l);
}

/* A task of 3 seats: H0 joins; H1 joins and its issuer revokes its
 * attestation; NOBODY, attested for 50 s, joins and its attestation
 * expires. */
static void lapse_world(gt_ledger *l, uint8_t task[32]) {
    post_task(l, 3, task);
    CHECK_EQ_INT(fa(l, V1, NULL, NULL, "human_attest",
                    "{\"subject\":\"%s\",\"person\":\"%s\",\"weightPpm\":1000000,\"expiresS\":%llu}", ad(NOBODY),
                    blob("person-short"), now_of(l) + 50),
                 0);
    for (int who = H0; who <= H1; who++) CHECK_EQ_INT(join(l, who, task, NULL), 0);
    CHECK_EQ_INT(join(l, NOBODY, task, NULL), 0);
    CHECK_EQ_INT(fa(l, V1, NULL, NULL, "human_revoke", "{\"subject\":\"%s\"}", ad(H1)), 0);
    skew += 100;
    CHECK_EQ_INT(join(l, H2, task, NULL), GT_ESTATE); /* the seats are taken */
}

/* From format 10 an issuer cannot make a seated labeller fail: the
 * attestation is checked at join (one person, one seat: the nullifiers are
 * recorded there), and a revoked (H1) or expired (NOBODY) one no longer
 * stops the seat's labels -- both label, reveal and are paid, their bonds
 * back. The old rule refused their commits (the seats would end incomplete,
 * bonds burned; 36 checks fail with the rule off), as it still does below
 * format 10's height. A revoked attestation still takes no new seat. */
static void test_attestation_lapse(void) {
    gt_ledger *l = label_world();
    uint8_t task[32], other[32];
    gt_result res;
    static const int c[N_ITEMS] = {0, 1, 0, 1, 2, 0};
    const int who3[3] = {H0, H1, NOBODY};
    lapse_world(l, task);
    uint64_t h1 = bal(l, H1), nobody = bal(l, NOBODY);
    for (int k = 0; k < 3; k++) commit_all(l, who3[k], task, c);
    for (int k = 0; k < 3; k++) reveal_all(l, who3[k], task, c);
    CHECK_EQ_INT(close_task(l, ALICE, task, GOLD, &res), 0);
    json_t *v = task_view(l, task);
    for (int k = 0; k < 3; k++) CHECK_STR(seat_outcome(v, k), "accepted");
    json_decref(v);
    CHECK_EQ_U64(bal(l, H1) - h1, BOND + N_ITEMS * PAY);
    CHECK_EQ_U64(bal(l, NOBODY) - nobody, BOND + N_ITEMS * PAY);
    post_task(l, 1, other);
    CHECK_EQ_INT(join(l, H1, other, &res), GT_EPERM);
    CHECK_CONTAINS(res.msg, "proof of human");
    done(l);
    l = label_world_before_format10();
    lapse_world(l, task);
    CHECK_EQ_INT(commit(l, H1, task, 0, 0, &res), GT_EPERM);
    CHECK_CONTAINS(res.msg, "no longer valid");
    CHECK_EQ_INT(commit(l, NOBODY, task, 0, 0, &res), GT_EPERM);
    CHECK_CONTAINS(res.msg, "no longer valid");
    CHECK_EQ_INT(commit(l, H0, task, 0, 0, NULL), 0);
    done(l);
}

/* Three seats: H0 labels and reveals everything; H1 commits everything and
 * reveals 5 of 6 labels (a reveal window it could not meet); H2 commits
 * everything and reveals none. The poster closes after revealEndS; returns
 * what came back to it. */
static uint64_t incomplete_seats(gt_ledger *l) {
    uint8_t task[32];
    static const int c[N_ITEMS] = {0, 1, 0, 1, 2, 0};
    post_task(l, 3, task);
    for (int who = H0; who <= H2; who++) CHECK_EQ_INT(join(l, who, task, NULL), 0);
    for (int who = H0; who <= H2; who++) commit_all(l, who, task, c);
    reveal_all(l, H0, task, c);
    for (int i = 0; i < N_ITEMS - 1; i++) CHECK_EQ_INT(reveal(l, H1, task, i, c[i], NULL), 0);
    skew += 2000;
    uint64_t alice0 = bal(l, ALICE), h1 = bal(l, H1);
    CHECK_EQ_INT(close_task(l, ALICE, task, GOLD, NULL), 0);
    json_t *v = task_view(l, task);
    CHECK_STR(seat_outcome(v, 1), "incomplete");
    CHECK_STR(seat_outcome(v, 2), "incomplete");
    json_decref(v);
    CHECK_EQ_U64(bal(l, H1), h1); /* its bond is burned either way */
    CHECK_EQ_U64(acc_of(l, ALICE).locked, 0);
    return bal(l, ALICE) - alice0;
}

/* From format 10 the pay of an incomplete seat that revealed a label burns:
 * the poster, who read H1's five labels, gets back H2's pay only (H2
 * revealed nothing); the old rule gave it H1's pay too (12 labels' pay, the
 * check that fails with the rule off), as it still does below format 10's
 * height. */
static void test_incomplete_pay(void) {
    gt_ledger *l = label_world();
    CHECK_EQ_U64(incomplete_seats(l), N_ITEMS * PAY);
    done(l);
    l = label_world_before_format10();
    CHECK_EQ_U64(incomplete_seats(l), 2 * N_ITEMS * PAY);
    done(l);
}

/* ---- ranking tasks (label_rank_post): labels are orders (rank.h) ---- */

#define R_ITEMS 4
/* Item 1 is gold: its right order is 2, 0, 1. */
static const char RGOLD[] = "-201--";
static const int r_answers[R_ITEMS] = {3, 3, 4, 2};

/* ALICE posts a ranking task of R_ITEMS items (answers r_answers) for k
 * labellers, with gold the opening of goldCommit. */
static void post_rank_task(gt_ledger *l, int k, const char *gold, uint8_t task[32]) {
    uint8_t gc[32];
    gt_fund_label_gold_commit(gold_salt, gold, strlen(gold), gc);
    uint64_t t = now_of(l);
    CHECK_EQ_INT(fa(l, ALICE, task, NULL, "label_rank_post",
                    "{\"name\":\"rank answers\",\"items\":%d,\"labellers\":%d,\"payPerLabel\":%llu,\"bond\":%llu,"
                    "\"goldBarPct\":100,\"minGold\":1,\"minLabels\":1,\"commitEndS\":%llu,\"revealEndS\":%llu,"
                    "\"goldCommit\":\"%s\"}",
                    R_ITEMS, k, PAY, PAY * R_ITEMS, t + 1000, t + 2000, hx(gc)),
                 0);
    for (int i = 0; i < R_ITEMS; i++) {
        char ans[160] = "";
        for (int a = 0; a < 4; a++) {
            char one[40];
            if (a < r_answers[i]) snprintf(one, sizeof one, ",\"answer%d\":\"x%d-%d\"", a, i, a);
            else snprintf(one, sizeof one, ",\"answer%d\":\"\"", a);
            strcat(ans, one);
        }
        CHECK_EQ_INT(fa(l, ALICE, NULL, NULL, "label_item_add",
                        "{\"task\":\"%s\",\"prompt\":\"rank %d\",\"answers\":%d%s}", hx(task), i, r_answers[i], ans),
                     0);
    }
}

/* Three seats rank every item. H0 and H1 are careful and right on the gold
 * order 201; H2 ranks item 1 as 210 and is careless (slashed). By hand (Borda
 * over H0 and H1; an answer at position p of n gets n-1-p points):
 *   item 0: 012 and 120 -> answer 0: 2+0, 1: 1+2, 2: 0+1 -> order 102;
 *   item 2: 3210 and 3021 -> 3: 6, 2: 2+1, 0: 0+2, 1: 1+0 -> order 3201;
 *   item 3: 10 and 10 -> order 10.
 * DPO lines: 3 + 6 + 1 = 10, in the orders' pair order. Alpha (ordinal,
 * units (item, answer), values the positions): pairs (0,2) (1,0) (2,1) |
 * (3,1) (2,3) (1,2) (0,0) | (1,1) (0,0); n_0 = 6, n_1 = 6, n_2 = 4, n_3 = 2,
 * n = 18: alpha = 404/999 = 0.404404. Kappa on the answer put first
 * (0, 3, 1 against 1, 3, 1): p_o = 2/3, p_e = 1/3, kappa = 0.5. */
static void test_ranking(void) {
    gt_ledger *l = label_world();
    uint8_t task[32];
    gt_result res;
    post_rank_task(l, 3, RGOLD, task);
    uint64_t alice0 = bal(l, ALICE), h0 = bal(l, H0), h2 = bal(l, H2);
    static const int r0[R_ITEMS] = {12, 201, 3210, 10}, r1[R_ITEMS] = {120, 201, 3021, 10},
                     r2[R_ITEMS] = {210, 210, 123, 1};
    const int *orders[3] = {r0, r1, r2};
    for (int who = H0; who <= H2; who++) CHECK_EQ_INT(join(l, who, task, NULL), 0);
    for (int who = H0; who <= H2; who++)
        for (int i = 0; i < R_ITEMS; i++) CHECK_EQ_INT(commit(l, who, task, i, orders[who - H0][i], NULL), 0);
    for (int who = H0; who <= H2; who++)
        for (int i = 0; i < R_ITEMS; i++) CHECK_EQ_INT(reveal(l, who, task, i, orders[who - H0][i], NULL), 0);
    CHECK_EQ_INT(close_task(l, ALICE, task, RGOLD, &res), 0);
    json_t *v = task_view(l, task);
    CHECK(json_is_true(json_object_get(v, "ranking")));
    CHECK_EQ_INT(jint(v, "alphaPpm"), 404404);
    CHECK_EQ_INT(jint(v, "kappaPpm"), 500000);
    CHECK_EQ_INT(jint(v, "labelled"), 3);
    CHECK_EQ_INT(jint(v, "exportLines"), 10);
    CHECK_STR(seat_outcome(v, 0), "accepted");
    CHECK_STR(seat_outcome(v, 1), "accepted");
    CHECK_STR(seat_outcome(v, 2), "careless");
    json_t *items = json_object_get(v, "itemList");
    CHECK_STR(jstr(json_array_get(items, 0), "label"), "102");
    CHECK_STR(jstr(json_array_get(items, 1), "gold"), "201");
    CHECK_STR(jstr(json_array_get(items, 2), "label"), "3201");
    CHECK_STR(jstr(json_array_get(items, 3), "label"), "10");
    json_decref(v);
    lq_arg la = {task, 3, NULL, GT_BUF_INIT};
    gt_err lerr = {0};
    CHECK_EQ_INT(gt_ledger_read(l, read_label, &la, &lerr), 0); /* the labels list reads rank codes */
    json_t *labels = json_object_get(la.out, "labels");
    CHECK(json_array_size(labels) == 3 * R_ITEMS);
    long long item2 = 0; /* item 2's three labels (in labeller address order): 3210, 3021, 123 */
    for (int k = 0; k < 3; k++) item2 += jint(json_array_get(labels, 2 * 3 + (size_t)k), "choice");
    CHECK_EQ_INT((int)item2, 3210 + 3021 + 123);
    json_decref(la.out);
    CHECK_EQ_U64(bal(l, H0) - h0, R_ITEMS * PAY);
    CHECK_EQ_U64(h2 - bal(l, H2), PAY * R_ITEMS); /* the bond */
    CHECK_EQ_U64(bal(l, ALICE), alice0);          /* H2's pay burned, not refunded */
    char *dpo = export_of(l, task, 0), *card = export_of(l, task, 2);
    CHECK(dpo && card);
    if (dpo && card) {
        CHECK_EQ_INT(dpo_lines_ok(dpo), 10);
        CHECK_CONTAINS(dpo, "{\"chosen\":\"x0-1\",\"prompt\":\"rank 0\",\"rejected\":\"x0-0\"}\n"
                            "{\"chosen\":\"x0-1\",\"prompt\":\"rank 0\",\"rejected\":\"x0-2\"}\n"
                            "{\"chosen\":\"x0-0\",\"prompt\":\"rank 0\",\"rejected\":\"x0-2\"}\n");
        CHECK_CONTAINS(dpo, "{\"chosen\":\"x2-0\",\"prompt\":\"rank 2\",\"rejected\":\"x2-1\"}\n"
                            "{\"chosen\":\"x3-1\",\"prompt\":\"rank 3\",\"rejected\":\"x3-0\"}\n");
        CHECK(strstr(dpo, "rank 1") == NULL); /* the gold item is not data */
        CHECK_CONTAINS(card, "Krippendorff's alpha (ordinal, over each answer's position): 0.404404");
        CHECK_CONTAINS(card, "n(n-1)/2 lines");
    }
    free(dpo), free(card);
    done(l);
}

/* A label that is not an order of the item's answers is refused at reveal
 * (so the seat ends incomplete and its bond burns): a digit twice, a digit
 * the item lacks, one digit too many, a comparison's single answer on three
 * answers. A gold opening that is not an order is refused too: the poster
 * cannot close with it, and the task closes by rule after the grace. */
static void test_ranking_attacks(void) {
    gt_ledger *l = label_world();
    uint8_t task[32];
    gt_result res;
    static const char BAD_GOLD[] = "-211--";
    post_rank_task(l, 1, BAD_GOLD, task);
    static const int bad[R_ITEMS] = {11, 1023, 210, 2}; /* 011; 4 digits of 3; 0210; 02 of 2 answers */
    static const char *const why[R_ITEMS] = {"each once", "each once", "each once", "each once"};
    CHECK_EQ_INT(join(l, H0, task, NULL), 0);
    for (int i = 0; i < R_ITEMS; i++) CHECK_EQ_INT(commit(l, H0, task, i, bad[i], NULL), 0);
    for (int i = 0; i < R_ITEMS; i++) {
        CHECK_EQ_INT(reveal(l, H0, task, i, bad[i], &res), GT_EINVAL);
        CHECK_CONTAINS(res.msg, why[i]);
        CHECK_CONTAINS(res.msg, "ranking task");
    }
    skew += 2000;
    CHECK_EQ_INT(close_task(l, ALICE, task, BAD_GOLD, &res), GT_EINVAL);
    CHECK_CONTAINS(res.msg, "gold at item 1: expected '-' or an order of its 3 answers");
    skew += GT_LABEL_CLOSE_GRACE_S;
    uint64_t h0 = bal(l, H0), alice0 = bal(l, ALICE);
    CHECK_EQ_INT(close_task(l, BOB, task, "", &res), 0);
    json_t *v = task_view(l, task);
    CHECK_STR(seat_outcome(v, 0), "incomplete");
    CHECK_EQ_INT(jint(v, "exportLines"), 0);
    json_decref(v);
    CHECK_EQ_U64(bal(l, H0), h0);                           /* its bond is gone */
    CHECK_EQ_U64(bal(l, ALICE) - alice0, R_ITEMS * PAY);    /* the seat's pay back */
    done(l);
}

/* gt_fund_label_gold_parse on both kinds of task. */
static void test_gold_parse(void) {
    static const int ans[R_ITEMS] = {3, 3, 4, 2};
    int g[R_ITEMS];
    size_t n_gold = 0;
    gt_err err = {0};
    CHECK_EQ_INT(gt_fund_label_gold_parse("-201--", 6, 1, ans, R_ITEMS, g, &n_gold, &err), 0);
    CHECK(g[0] == GT_PREF_NOT_GOLD && g[1] == 201 && g[2] == GT_PREF_NOT_GOLD && n_gold == 1);
    CHECK_EQ_INT(gt_fund_label_gold_parse("0210123-01", 10, 1, ans, R_ITEMS, g, &n_gold, &err), GT_EINVAL);
    CHECK_CONTAINS(err.msg, "gold at item 2"); /* items 0 and 1 read 021 and 012; "3-01" is no order */
    CHECK_EQ_INT(gt_fund_label_gold_parse("021-012301", 10, 1, ans, R_ITEMS, g, &n_gold, &err), 0);
    CHECK(g[0] == 21 && g[1] == GT_PREF_NOT_GOLD && g[2] == 123 && g[3] == 1 && n_gold == 3);
    CHECK_EQ_INT(gt_fund_label_gold_parse("-2--", 4, 1, ans, R_ITEMS, g, &n_gold, &err), GT_EINVAL); /* a choice */
    CHECK_EQ_INT(gt_fund_label_gold_parse("-201---", 7, 1, ans, R_ITEMS, g, &n_gold, &err), GT_EINVAL);
    CHECK_CONTAINS(err.msg, "extra");
    CHECK_EQ_INT(gt_fund_label_gold_parse("-201-", 5, 1, ans, R_ITEMS, g, &n_gold, &err), GT_EINVAL);
    CHECK_EQ_INT(gt_fund_label_gold_parse("-2-1", 4, 0, ans, R_ITEMS, g, &n_gold, &err), 0);
    CHECK(g[1] == 2 && g[3] == 1 && n_gold == 2);
    CHECK_EQ_INT(gt_fund_label_gold_parse("-2-2", 4, 0, ans, R_ITEMS, g, &n_gold, &err), GT_EINVAL);
    CHECK_CONTAINS(err.msg, "gold at item 3: expected '-' or an answer of its 2");
}

/* Signs label_item_add of task with a prompt of prompt_len bytes and four
 * answers of answer_len bytes (set through the setters, whose bound is the
 * one a node's JSON decoding applies) and submits it; a refusal's message
 * into r. The signed action also goes through JSON and back (what the API
 * does), under the API's body limit, to the same id. */
static int add_long_item(gt_ledger *l, const uint8_t task[32], size_t prompt_len, size_t answer_len, gt_result *r) {
    static gt_action a, b;
    static char text[GT_LABEL_ANSWER_MAX + 2];
    gt_err err = {0};
    int rc = 0;
    assert(prompt_len < sizeof text && answer_len < sizeof text);
    gt_action_init(&a, &gt_kind_label_item_add, CHAIN, &A[ALICE], nonce_of(l, ALICE));
    gt_action_set_b32(&a, "task", task);
    gt_action_set_u64(&a, "answers", 4);
    memset(text, 'p', prompt_len);
    rc = gt_action_set_str(&a, "prompt", text, prompt_len, &err);
    for (int k = 0; !rc && k < 4; k++) {
        char name[8];
        snprintf(name, sizeof name, "answer%d", k);
        memset(text, 'a' + k, answer_len);
        rc = gt_action_set_str(&a, name, text, answer_len, &err);
    }
    if (rc) {
        snprintf(r->msg, sizeof r->msg, "%s", err.msg);
        return r->code = rc;
    }
    CHECK_EQ_INT(gt_action_sign(&a, &K[ALICE], NULL), 0);
    json_t *j = gt_action_to_json(&a, 1);
    char *json = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    CHECK(json && strlen(json) < GT_LIMIT_JSON_BYTES);
    CHECK_EQ_INT(json ? gt_action_from_json_text(json, strlen(json), &b, &err) : -1, 0);
    CHECK(memcmp(a.id, b.id, 32) == 0);
    free(json);
    set_clock(l);
    gt_ledger_submit(l, &a, 1, r);
    return r->code;
}

/* An item's texts: a prompt and each answer up to 4 KiB, all five at their
 * bounds in one action (the action's 24 KiB of text); one byte over either
 * bound is refused, naming the field and the bound. */
static void test_item_bounds(void) {
    gt_ledger *l = label_world();
    uint8_t task[32], gc[32];
    gt_result res;
    gt_fund_label_gold_commit(gold_salt, "0-", 2, gc);
    uint64_t t = now_of(l);
    CHECK_EQ_INT(fa(l, ALICE, task, NULL, "label_task_post",
                    "{\"name\":\"long\",\"items\":2,\"labellers\":1,\"payPerLabel\":%llu,\"bond\":%llu,"
                    "\"goldBarPct\":50,\"minGold\":1,\"minLabels\":1,\"commitEndS\":%llu,\"revealEndS\":%llu,"
                    "\"goldCommit\":\"%s\"}",
                    PAY, 2 * PAY, t + 1000, t + 2000, hx(gc)),
                 0);
    CHECK_EQ_INT(add_long_item(l, task, GT_LABEL_PROMPT_MAX + 1, 10, &res), GT_ELIMIT);
    CHECK_CONTAINS(res.msg, "\"prompt\" is 4097 bytes; at most 4096 accepted");
    CHECK_EQ_INT(add_long_item(l, task, 10, GT_LABEL_ANSWER_MAX + 1, &res), GT_ELIMIT);
    CHECK_CONTAINS(res.msg, "\"answer0\" is 4097 bytes; at most 4096 accepted");
    CHECK_EQ_INT(add_long_item(l, task, GT_LABEL_PROMPT_MAX, GT_LABEL_ANSWER_MAX, &res), 0);
    CHECK_EQ_INT(add_long_item(l, task, 3000, 2500, &res), 0); /* a few KB each */
    json_t *v = task_view(l, task);
    const json_t *it = json_array_get(json_object_get(v, "itemList"), 0);
    CHECK(it && strlen(jstr(it, "prompt")) == GT_LABEL_PROMPT_MAX);
    CHECK(it && json_string_length(json_array_get(json_object_get(it, "answers"), 3)) == GT_LABEL_ANSWER_MAX);
    CHECK(it && json_string_value(json_array_get(json_object_get(it, "answers"), 3))[0] == 'd');
    json_decref(v);
    done(l);
}

/* A poster that never adds all its items: nobody could take a seat, and
 * once the reveal window is over the task closes (by the poster at once, by
 * anyone after the grace) with the whole escrow back to the poster -- it was
 * locked for ever before (the close read every item and failed). */
static void test_unfilled(void) {
    gt_ledger *l = label_world();
    uint8_t task[32], gc[32];
    gt_result res;
    gt_fund_label_gold_commit(gold_salt, "0-", 2, gc);
    uint64_t alice0 = bal(l, ALICE), t = now_of(l);
    CHECK_EQ_INT(fa(l, ALICE, task, NULL, "label_task_post",
                    "{\"name\":\"unfilled\",\"items\":2,\"labellers\":2,\"payPerLabel\":%llu,\"bond\":%llu,"
                    "\"goldBarPct\":50,\"minGold\":1,\"minLabels\":1,\"commitEndS\":%llu,\"revealEndS\":%llu,"
                    "\"goldCommit\":\"%s\"}",
                    PAY, 2 * PAY, t + 1000, t + 2000, hx(gc)),
                 0);
    CHECK_EQ_INT(fa(l, ALICE, NULL, NULL, "label_item_add",
                    "{\"task\":\"%s\",\"prompt\":\"p\",\"answers\":2,\"answer0\":\"x\",\"answer1\":\"y\"}", hx(task)),
                 0);
    CHECK_EQ_U64(acc_of(l, ALICE).locked, 4 * PAY);
    CHECK_EQ_INT(join(l, H0, task, &res), GT_ESTATE);
    CHECK_EQ_INT(close_task(l, ALICE, task, "", &res), GT_ESTATE); /* the window is not over */
    skew += 2000;
    CHECK_EQ_INT(close_task(l, BOB, task, "", &res), GT_EPERM); /* the poster's grace */
    CHECK_EQ_INT(close_task(l, ALICE, task, "", &res), 0);
    CHECK_EQ_U64(bal(l, ALICE), alice0);
    CHECK_EQ_U64(acc_of(l, ALICE).locked, 0);
    json_t *v = task_view(l, task);
    CHECK_STR(jstr(v, "status"), "closed-by-rule");
    CHECK_EQ_INT(jint(v, "exportLines"), 0);
    json_decref(v);
    char *dpo = export_of(l, task, 0);
    CHECK(dpo && dpo[0] == 0);
    free(dpo);
    CHECK_EQ_INT(close_task(l, ALICE, task, "", &res), GT_ESTATE); /* once */
    done(l);
}

int main(void) {
    make_keys();
    extra_keys();
    gt_err err = {0};
    if (gt_fund_register(&err)) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    RUN(test_task_by_hand);
    RUN(test_copier_and_gold);
    RUN(test_seats);
    RUN(test_poster_never_closes);
    RUN(test_terms);
    RUN(test_min_windows);
    RUN(test_incomplete_pay);
    RUN(test_bond_cap);
    RUN(test_attestation_lapse);
    RUN(test_ranking);
    RUN(test_ranking_attacks);
    RUN(test_gold_parse);
    RUN(test_item_bounds);
    RUN(test_unfilled);
    return gt_test_finish();
}
