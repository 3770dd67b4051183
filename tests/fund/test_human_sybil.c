/* test_human_sybil.c: an issuer of proof of human that attests one human as
 * two is slashed once the two addresses each sign that they are the same
 * human (human_same, fund_sybil.c). The attack: issuer V1 attests X0 and X1
 * under different person ids, so the one human holds two nullifiers per round
 * or task (two contributions' weight, two seats). Checked: nothing happens on
 * one statement alone (nobody is accused without its key), the second one
 * burns GT_FUND_SYBIL_SLASH of V1's bond and revokes both attestations; V1,
 * bonded at the minimum, falls under it and its attestation of a third
 * address stops counting until it registers again (topping the bond up); an
 * issuer that attested both as one person, one that attested only one of
 * them, and one that revoked its mistake in time are not slashed; a repeated
 * or malformed statement is refused.
 * The escape (test_unbonding_issuer_slashed): an issuer that vouched for a
 * sybil leaves before the duplicate is proven. Its bond stays locked for the
 * ledger's unbonding period and the proof still burns it; a plain unstake
 * cannot reach it; once the period is over the issuer withdraws what is
 * left (nothing, here), and an honest issuer that left gets its whole bond.
 * The ledger is replayed by gt_ledger_verify at the end (done()). */
#include "fund_util.h"

/* X0, X1: the one human's two addresses; X2 another human. */
enum { H0 = X0, H1 = X0 + 1, OTHER = X0 + 2 };

static int attest(gt_ledger *l, int issuer, int subject, const char *person) {
    return fa(l, issuer, NULL, NULL, "human_attest",
              "{\"subject\":\"%s\",\"person\":\"%s\",\"weightPpm\":1000000,\"expiresS\":%llu}", ad(subject),
              blob(person), now_of(l) + 100000);
}
static int same(gt_ledger *l, int who, int other, gt_result *r) {
    return fa(l, who, NULL, r, "human_same", "{\"other\":\"%s\"}", ad(other));
}

typedef struct hw_arg {
    const gt_addr *who;
    uint64_t now_s;
    uint32_t w;
    json_t *view;
} hw_arg;
static int read_weight(void *arg, gt_tx *tx, gt_err *err) {
    hw_arg *a = arg;
    if (gt_fund_human_weight(tx->db, a->who, a->now_s, &a->w, err)) return -1;
    a->view = gt_fund_human_get(tx->db, a->who, a->now_s, err);
    return a->view ? 0 : -1;
}
/* who's proof-of-human weight now (ppm); *view (when not NULL) gets its JSON. */
static uint32_t weight_view(gt_ledger *l, int who, json_t **view) {
    hw_arg a = {&A[who], now_of(l), 0, NULL};
    gt_err err = {0};
    CHECK_EQ_INT(gt_ledger_read(l, read_weight, &a, &err), 0);
    if (view) *view = a.view;
    else json_decref(a.view);
    return a.w;
}
static uint32_t weight(gt_ledger *l, int who) { return weight_view(l, who, NULL); }

static void test_sybil_issuer_slashed(void) {
    skew = 0;
    gt_ledger *l = fresh();
    gt_result res;
    for (int i = 1; i < X0 + 3; i++)
        CHECK_EQ_INT(fa(l, AUTH, NULL, NULL, "mint", "{\"to\":\"%s\",\"amount\":%llu}", ad(i), 100 * TOKEN), 0);
    /* V1 the sybil's issuer (bonds its whole stake, the minimum), V2 attests both as
     * one person, V3 only H0, V4 attests both apart but revokes H1 in time */
    for (int v = V1; v <= V4; v++) {
        unsigned long long stake = v == V1 ? GT_FUND_ISSUER_MIN_STAKE : 20 * TOKEN;
        CHECK_EQ_INT(fa(l, v, NULL, NULL, "stake", "{\"amount\":%llu}", stake), 0);
        CHECK_EQ_INT(fa(l, v, NULL, NULL, "human_issuer_register", "{\"name\":\"issuer\"}"), 0);
    }
    CHECK_EQ_INT(attest(l, V1, H0, "alice"), 0);
    CHECK_EQ_INT(attest(l, V1, H1, "alice-again"), 0); /* the attack: one human, two persons */
    CHECK_EQ_INT(attest(l, V1, OTHER, "bob"), 0);
    CHECK_EQ_INT(attest(l, V2, H0, "a"), 0);
    CHECK_EQ_INT(attest(l, V2, H1, "a"), 0);
    CHECK_EQ_INT(attest(l, V3, H0, "x"), 0);
    CHECK_EQ_INT(attest(l, V4, H0, "p"), 0);
    CHECK_EQ_INT(attest(l, V4, H1, "q"), 0);
    CHECK_EQ_INT(fa(l, V4, NULL, NULL, "human_revoke", "{\"subject\":\"%s\"}", ad(H1)), 0);
    CHECK_EQ_INT(weight(l, OTHER), 1000000);
    uint64_t supply0 = gt_ledger_supply(l);

    /* malformed statements */
    CHECK_EQ_INT(same(l, H0, H0, &res), GT_EINVAL);
    CHECK_CONTAINS(res.msg, "another address");
    CHECK_EQ_INT(fa(l, H0, NULL, &res, "human_same", "{\"other\":\"0x0000000000000000000000000000000000000000\"}"),
                 GT_EINVAL);
    /* one side alone proves nothing: a stranger naming H0, or H0 naming H1 */
    CHECK_EQ_INT(same(l, BOB, H0, NULL), 0);
    CHECK_EQ_INT(same(l, H0, H1, NULL), 0);
    CHECK_EQ_INT(same(l, H0, H1, &res), GT_EEXIST);
    CHECK_EQ_U64(acc_of(l, V1).staked, 0); /* registering moved the stake into the bond */
    CHECK_EQ_U64(acc_of(l, V1).locked, GT_FUND_ISSUER_MIN_STAKE);
    CHECK_EQ_U64(gt_ledger_supply(l), supply0);

    /* the second signature: V1 slashed, its two attestations revoked */
    CHECK_EQ_INT(same(l, H1, H0, NULL), 0);
    CHECK_EQ_U64(acc_of(l, V1).locked, 0);
    CHECK_EQ_U64(supply0 - gt_ledger_supply(l), GT_FUND_SYBIL_SLASH); /* burned */
    for (int v = V2; v <= V4; v++) CHECK_EQ_U64(acc_of(l, v).locked, GT_FUND_ISSUER_MIN_STAKE);
    CHECK_EQ_INT(weight(l, OTHER), 0); /* V1 is under the minimum: nothing it attested counts */
    json_t *v = NULL;
    weight_view(l, V1, &v);
    json_t *s = json_array_get(json_object_get(v, "slashes"), 0);
    CHECK(json_array_size(json_object_get(v, "slashes")) == 1);
    CHECK_STR(json_string_value(json_object_get(s, "first")), ad(H1));
    CHECK_STR(json_string_value(json_object_get(s, "second")), ad(H0));
    CHECK_STR(json_string_value(json_object_get(json_object_get(v, "issuer"), "status")), "under-bonded");
    json_decref(v);
    weight_view(l, H1, &v);
    size_t revoked = 0;
    json_t *att;
    size_t i;
    json_array_foreach(json_object_get(v, "attestations"), i, att) revoked += json_is_true(json_object_get(att, "revoked"));
    CHECK_EQ_INT((int)revoked, 2); /* V1's (by the slash) and V4's (by V4) */
    json_decref(v);
    CHECK_EQ_INT(weight(l, H1), 1000000); /* V2's attestation (one person, said so) still counts */

    /* said again: refused, nothing more burned */
    CHECK_EQ_INT(same(l, H1, H0, &res), GT_EEXIST);
    CHECK_EQ_U64(supply0 - gt_ledger_supply(l), GT_FUND_SYBIL_SLASH);

    /* V1 registers again: the bond is topped up from a new stake, and what it
     * attested and did not lose counts again */
    CHECK_EQ_INT(fa(l, V1, NULL, &res, "human_issuer_register", "{\"name\":\"issuer\"}"), GT_EPERM);
    CHECK_CONTAINS(res.msg, "has 0 staked");
    CHECK_EQ_INT(fa(l, V1, NULL, NULL, "stake", "{\"amount\":%llu}", (unsigned long long)GT_FUND_ISSUER_MIN_STAKE), 0);
    CHECK_EQ_INT(fa(l, V1, NULL, NULL, "human_issuer_register", "{\"name\":\"issuer\"}"), 0);
    CHECK_EQ_U64(acc_of(l, V1).locked, GT_FUND_ISSUER_MIN_STAKE);
    CHECK_EQ_INT(weight(l, OTHER), 1000000);
    CHECK_EQ_INT(fa(l, V1, NULL, &res, "human_issuer_register", "{\"name\":\"issuer\"}"), GT_EEXIST);
    done(l);
}

/* Writes n blocks (self-transfers of who): block heights pass. */
static void blocks(gt_ledger *l, int who, int n) {
    for (int i = 0; i < n; i++)
        CHECK_EQ_INT(fa(l, who, NULL, NULL, "transfer", "{\"to\":\"%s\",\"amount\":1}", ad(CAROL)), 0);
}

static const char *issuer_status(gt_ledger *l, int who, char *out, size_t cap) {
    json_t *v = NULL;
    weight_view(l, who, &v);
    snprintf(out, cap, "%s", json_string_value(json_object_get(json_object_get(v, "issuer"), "status")));
    json_decref(v);
    return out;
}

static void test_unbonding_issuer_slashed(void) {
    skew = 0;
    gt_ledger *l = fresh();
    gt_result res;
    char st[32];
    for (int i = 1; i < X0 + 3; i++)
        CHECK_EQ_INT(fa(l, AUTH, NULL, NULL, "mint", "{\"to\":\"%s\",\"amount\":%llu}", ad(i), 100 * TOKEN), 0);
    /* V1 sells a second identity to the human behind H0; V2 is honest */
    for (int v = V1; v <= V2; v++) {
        CHECK_EQ_INT(fa(l, v, NULL, NULL, "stake", "{\"amount\":%llu}", (unsigned long long)(2 * GT_FUND_ISSUER_MIN_STAKE)), 0);
        CHECK_EQ_INT(fa(l, v, NULL, NULL, "human_issuer_register", "{\"name\":\"issuer\"}"), 0);
    }
    CHECK_EQ_INT(attest(l, V1, H0, "alice"), 0);
    CHECK_EQ_INT(attest(l, V1, H1, "alice-again"), 0);
    CHECK_EQ_INT(attest(l, V2, OTHER, "bob"), 0);
    CHECK_STR(issuer_status(l, V1, st, sizeof st), "vouching");
    uint64_t supply0 = gt_ledger_supply(l);
    /* the bond is not stake: a plain unstake takes only what is left staked */
    CHECK_EQ_INT(fa(l, V1, NULL, &res, "unstake", "{\"amount\":%llu}", (unsigned long long)(2 * GT_FUND_ISSUER_MIN_STAKE)), GT_EFUNDS);
    CHECK_EQ_INT(fa(l, V1, NULL, NULL, "unstake", "{\"amount\":%llu}", (unsigned long long)GT_FUND_ISSUER_MIN_STAKE), 0);
    CHECK_EQ_INT(weight(l, H0), 1000000);
    /* V1 leaves before the duplicate is proven: its word stops counting at once */
    CHECK_EQ_INT(fa(l, V1, NULL, NULL, "human_issuer_leave", "{}"), 0);
    CHECK_EQ_INT(fa(l, V1, NULL, &res, "human_issuer_leave", "{}"), GT_ESTATE);
    CHECK_EQ_INT(weight(l, H0), 0);
    CHECK_STR(issuer_status(l, V1, st, sizeof st), "unbonding");
    CHECK_EQ_INT(attest(l, V1, OTHER, "carol"), GT_EPERM);
    CHECK_EQ_INT(fa(l, V1, NULL, &res, "human_issuer_withdraw", "{}"), GT_ESTATE);
    CHECK_CONTAINS(res.msg, "stays locked (and slashable");
    CHECK_EQ_INT(fa(l, V1, NULL, &res, "human_issuer_register", "{\"name\":\"back\"}"), GT_ESTATE);
    CHECK_CONTAINS(res.msg, "left as an issuer");
    /* the proof lands inside the unbonding period: the bond is burned all the same */
    CHECK_EQ_INT(same(l, H0, H1, NULL), 0);
    CHECK_EQ_INT(same(l, H1, H0, NULL), 0);
    CHECK_EQ_U64(supply0 - gt_ledger_supply(l), GT_FUND_SYBIL_SLASH);
    CHECK_EQ_U64(acc_of(l, V1).locked, 0);
    /* V2 leaves honestly; once the period (10 blocks here) is over both withdraw */
    CHECK_EQ_INT(fa(l, V2, NULL, NULL, "human_issuer_leave", "{}"), 0);
    CHECK_EQ_INT(weight(l, OTHER), 0);
    blocks(l, BOB, 11);
    uint64_t v1_0 = bal(l, V1), v2_0 = bal(l, V2);
    CHECK_EQ_INT(fa(l, V1, NULL, NULL, "human_issuer_withdraw", "{}"), 0);
    CHECK_EQ_INT(fa(l, V2, NULL, NULL, "human_issuer_withdraw", "{}"), 0);
    CHECK_EQ_U64(bal(l, V1), v1_0);                            /* nothing left to give back */
    CHECK_EQ_U64(bal(l, V2) - v2_0, GT_FUND_ISSUER_MIN_STAKE); /* the whole bond */
    CHECK_EQ_U64(acc_of(l, V2).locked, 0);
    CHECK_EQ_INT(fa(l, V2, NULL, &res, "human_issuer_withdraw", "{}"), GT_ESTATE);
    CHECK_CONTAINS(res.msg, "already withdrawn");
    CHECK_STR(issuer_status(l, V2, st, sizeof st), "withdrawn");
    CHECK_EQ_INT(fa(l, BOB, NULL, &res, "human_issuer_leave", "{}"), GT_ENOTFOUND);
    CHECK_EQ_INT(fa(l, BOB, NULL, &res, "human_issuer_withdraw", "{}"), GT_ESTATE);
    CHECK_EQ_U64(supply0 - gt_ledger_supply(l), GT_FUND_SYBIL_SLASH);
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
    RUN(test_sybil_issuer_slashed);
    RUN(test_unbonding_issuer_slashed);
    return gt_test_finish();
}
