/* court.c: the dispute court's calls (see court.h). */
#include "chain/court.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>

#include "base/alloc.h"
#include "chain/abi_decode.h"
#include "chain/escrow.h"
#include "crypto/keccak.h"

/* Refuses windows of zero or over GT_COURT_MAX_WINDOW_S before anything is deployed. */
static int windows_check(const gt_court_windows *w, gt_err *err) {
    const uint64_t v[] = {w->dispute_s, w->commit_s, w->reveal_s, w->unbonding_s};
    static const char *const name[] = {"dispute", "commit", "reveal", "unbonding"};
    for (int i = 0; i < 4; i++)
        if (v[i] == 0 || v[i] > GT_COURT_MAX_WINDOW_S)
            return gt_err_set(err, GT_EINVAL, "the court's %s window must be 1 to %llu seconds, got %llu", name[i],
                              (unsigned long long)GT_COURT_MAX_WINDOW_S, (unsigned long long)v[i]);
    if (w->seed_links && (w->seed_links < 3 || w->seed_links > UINT32_MAX))
        return gt_err_set(err, GT_EINVAL, "the court's seed segments must be 3 to 2^32 - 1 links, got %llu",
                          (unsigned long long)w->seed_links);
    if (w->unbonding_s < w->commit_s + w->reveal_s)
        return gt_err_set(err, GT_EINVAL, "unbonding (%llu s) must outlast a vote (commit + reveal = %llu s)",
                          (unsigned long long)w->unbonding_s, (unsigned long long)(w->commit_s + w->reveal_s));
    return 0;
}

int gt_court_deploy(gt_chain *c, gt_chain_account *a, const char *dir, const gt_addr *token,
                    const gt_court_windows *w, gt_addr *court, gt_addr *escrow, uint64_t *gas, gt_err *err) {
    char path[4200];
    uint64_t g1 = 0, g2 = 0, g3 = 0;
    int rc = windows_check(w, err);
    if (rc) return rc;
    uint64_t links = w->seed_links ? w->seed_links : GT_COURT_SEED_LINKS;
    gt_abi_val cargs[] = {gt_abi_address(token), gt_abi_uint(w->dispute_s), gt_abi_uint(w->commit_s),
                          gt_abi_uint(w->reveal_s), gt_abi_uint(w->unbonding_s), gt_abi_uint(links)};
    snprintf(path, sizeof path, "%s/DisputeCourt.bin", dir);
    if ((rc = gt_chain_deploy_file(c, a, path, cargs, 6, court, &g1, err))) return gt_err_wrap(err, "DisputeCourt");
    gt_abi_val eargs[] = {gt_abi_address(token), gt_abi_address(court)};
    snprintf(path, sizeof path, "%s/JobEscrow.bin", dir);
    if ((rc = gt_chain_deploy_file(c, a, path, eargs, 2, escrow, &g2, err))) return gt_err_wrap(err, "JobEscrow");
    uint8_t secret[32], anchor[32], next[32];
    gt_court_seed_secret(&a->key, court, c->chain_id, secret);
    gt_court_seed_anchor(secret, links, 0, anchor);
    gt_court_seed_anchor(secret, links, 1, next);
    memset(secret, 0, sizeof secret);
    gt_abi_val bargs[] = {gt_abi_address(escrow), gt_abi_bytes32(anchor), gt_abi_bytes32(next)};
    gt_chain_receipt r = {0};
    rc = gt_chain_invoke(c, court, a, "bind(address,bytes32,bytes32)", bargs, 3, &r, &g3, err);
    gt_chain_receipt_free(&r);
    if (!rc && gas) *gas = g1 + g2 + g3;
    return rc;
}

int gt_court_do(gt_chain *c, const gt_addr *court, gt_chain_account *a, gt_court_step step, uint64_t arg,
                uint64_t *gas, gt_err *err) {
    static const char *const sig[] = {"stake(uint256)", "requestExit(uint256)", "withdraw()", "draw(uint256)",
                                      "resolve(uint256)", "closeUnjudged(uint256)"};
    assert(step >= GT_COURT_STAKE && step <= GT_COURT_CLOSE_UNJUDGED);
    gt_abi_val args[] = {gt_abi_uint(arg)};
    gt_chain_receipt r = {0};
    int rc = gt_chain_invoke(c, court, a, sig[step], args, step == GT_COURT_WITHDRAW ? 0 : 1, &r, gas, err);
    gt_chain_receipt_free(&r);
    return rc;
}

/* A number as the EVM's 32-byte big-endian word. */
static void be256(uint64_t v, uint8_t out[32]) {
    memset(out, 0, 32);
    for (int i = 0; i < 8; i++) out[31 - i] = (uint8_t)(v >> (8 * i));
}

/* The case key as the EVM's word: jobId | round << 160 (DisputeCourt.caseKey; round 0 is a dispute's, the
 * jobId alone). */
static void case_key(uint64_t job_id, uint32_t round, uint8_t out[32]) {
    be256(job_id, out);
    for (int i = 0; i < 4; i++) out[11 - i] = (uint8_t)(round >> (8 * i)); /* bits 160..191 */
}

void gt_court_round_commitment(int accept, const uint8_t salt[32], const gt_addr *judge, const gt_addr *court,
                               uint64_t chain_id, uint64_t job_id, uint32_t round, uint8_t out[32]) {
    /* abi.encodePacked(uint8, bytes32, address, address, uint256, uint256) */
    uint8_t pre[1 + 32 + 20 + 20 + 32 + 32];
    pre[0] = accept ? 1 : 0;
    memcpy(pre + 1, salt, 32);
    memcpy(pre + 33, judge->b, 20);
    memcpy(pre + 53, court->b, 20);
    be256(chain_id, pre + 73);
    case_key(job_id, round, pre + 105);
    gt_keccak256(pre, sizeof pre, out);
}

void gt_court_commitment(int accept, const uint8_t salt[32], const gt_addr *judge, const gt_addr *court,
                         uint64_t chain_id, uint64_t job_id, uint8_t out[32]) {
    gt_court_round_commitment(accept, salt, judge, court, chain_id, job_id, 0, out);
}

/* Starts a hash of a secret the key's holder derives for one court on one
 * chain (a vote's salt, the seed chain): tag, the private key, the court,
 * the chain id. Nothing derived so needs storing, and no other court or
 * chain shares it. */
static void key_hash_begin(gt_keccak *h, const char *tag, const gt_key *k, const gt_addr *court,
                           uint64_t chain_id) {
    uint8_t w[32];
    gt_keccak_init(h);
    gt_keccak_update(h, tag, strlen(tag));
    gt_keccak_update(h, k->priv, 32);
    gt_keccak_update(h, court->b, 20);
    be256(chain_id, w);
    gt_keccak_update(h, w, 32);
}

void gt_court_round_salt(const gt_key *k, const gt_addr *court, uint64_t chain_id, uint64_t job_id, uint32_t round,
                         uint8_t out[32]) {
    uint8_t w[32];
    gt_keccak h;
    key_hash_begin(&h, "gotong court vote salt v1", k, court, chain_id);
    case_key(job_id, round, w);
    gt_keccak_update(&h, w, 32);
    gt_keccak_final(&h, out);
}

void gt_court_salt(const gt_key *k, const gt_addr *court, uint64_t chain_id, uint64_t job_id, uint8_t out[32]) {
    gt_court_round_salt(k, court, chain_id, job_id, 0, out);
}

int gt_court_commit_round(gt_chain *c, const gt_addr *court, gt_chain_account *a, uint64_t job_id, uint32_t round,
                          int accept, uint64_t *gas, gt_err *err) {
    uint8_t salt[32], h[32];
    gt_court_round_salt(&a->key, court, c->chain_id, job_id, round, salt);
    gt_court_round_commitment(accept, salt, &a->addr, court, c->chain_id, job_id, round, h);
    gt_abi_val args[] = {gt_abi_uint(job_id), gt_abi_bytes32(h)};
    gt_chain_receipt r = {0};
    int rc = gt_chain_invoke(c, court, a, "commit(uint256,bytes32)", args, 2, &r, gas, err);
    gt_chain_receipt_free(&r);
    return rc;
}

int gt_court_reveal_round(gt_chain *c, const gt_addr *court, gt_chain_account *a, uint64_t job_id, uint32_t round,
                          int accept, uint64_t *gas, gt_err *err) {
    uint8_t salt[32];
    gt_court_round_salt(&a->key, court, c->chain_id, job_id, round, salt);
    gt_abi_val args[] = {gt_abi_uint(job_id), gt_abi_bool(accept), gt_abi_bytes32(salt)};
    gt_chain_receipt r = {0};
    int rc = gt_chain_invoke(c, court, a, "reveal(uint256,bool,bytes32)", args, 3, &r, gas, err);
    gt_chain_receipt_free(&r);
    return rc;
}

int gt_court_commit(gt_chain *c, const gt_addr *court, gt_chain_account *a, uint64_t job_id, int accept,
                    uint64_t *gas, gt_err *err) {
    return gt_court_commit_round(c, court, a, job_id, 0, accept, gas, err);
}

int gt_court_reveal(gt_chain *c, const gt_addr *court, gt_chain_account *a, uint64_t job_id, int accept,
                    uint64_t *gas, gt_err *err) {
    return gt_court_reveal_round(c, court, a, job_id, 0, accept, gas, err);
}

/* vote(jobId, accept): an open vote, bonded like a commitment; the court
 * settles the case in the same transaction when the vote decides it. */
int gt_court_vote_open(gt_chain *c, const gt_addr *court, gt_chain_account *a, uint64_t job_id, int accept,
                       uint64_t *gas, gt_err *err) {
    gt_abi_val args[] = {gt_abi_uint(job_id), gt_abi_bool(accept)};
    gt_chain_receipt r = {0};
    int rc = gt_chain_invoke(c, court, a, "vote(uint256,bool)", args, 2, &r, gas, err);
    gt_chain_receipt_free(&r);
    return rc;
}

/* eth_call of sig(args) on the court; out gets the return data. */
static int view(gt_chain *c, const gt_addr *court, const char *sig, const gt_abi_val *args, size_t n, gt_buf *out,
                gt_err *err) {
    gt_buf d = GT_BUF_INIT;
    int rc = gt_abi_calldata(sig, args, n, &d, err);
    if (!rc) rc = gt_chain_call(c, NULL, court, d.data, d.len, out, err);
    gt_buf_free(&d);
    return rc ? gt_err_wrap(err, "%s", sig) : 0;
}

/* getCase's eight words: state, drawBlock, commitEnd, revealEnd, total, acceptW, rejectW, members. */
int gt_court_get(gt_chain *c, const gt_addr *court, uint64_t job_id, gt_court_case *out, gt_err *err) {
    gt_abi_val args[] = {gt_abi_uint(job_id)};
    gt_buf res = GT_BUF_INIT;
    uint64_t w[8] = {0};
    memset(out, 0, sizeof *out);
    int rc = view(c, court, "getCase(uint256)", args, 1, &res, err);
    for (size_t i = 0; !rc && i < 8; i++) rc = gt_abi_get_u64(res.data, res.len, i, &w[i], err);
    gt_buf_free(&res);
    if (rc) return rc;
    if (w[0] > GT_COURT_RESOLVED)
        return gt_err_set(err, GT_EINVAL, "getCase: state %llu unknown", (unsigned long long)w[0]);
    *out = (gt_court_case){(gt_court_state)w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7]};
    return 0;
}

int gt_court_round_of(gt_chain *c, const gt_addr *court, uint64_t job_id, uint32_t *round, gt_err *err) {
    gt_abi_val args[] = {gt_abi_uint(job_id)};
    gt_buf res = GT_BUF_INIT;
    uint64_t v = 0;
    int rc = view(c, court, "roundOf(uint256)", args, 1, &res, err);
    if (!rc) rc = gt_abi_get_u64(res.data, res.len, 0, &v, err);
    gt_buf_free(&res);
    if (!rc && v > UINT32_MAX) rc = gt_err_set(err, GT_EINVAL, "roundOf: %llu over 2^32 - 1", (unsigned long long)v);
    if (!rc) *round = (uint32_t)v;
    return rc;
}

int gt_court_seat(gt_chain *c, const gt_addr *court, uint64_t job_id, const gt_addr *judge, uint64_t *weight,
                  gt_court_vote *vote, gt_err *err) {
    gt_abi_val args[] = {gt_abi_uint(job_id), gt_abi_address(judge)};
    gt_buf res = GT_BUF_INIT;
    uint64_t v = 0;
    int rc = view(c, court, "seatOf(uint256,address)", args, 2, &res, err);
    if (!rc) rc = gt_abi_get_u64(res.data, res.len, 0, weight, err);
    if (!rc) rc = gt_abi_get_u64(res.data, res.len, 1, &v, err);
    gt_buf_free(&res);
    if (!rc && v > GT_COURT_REJECT) rc = gt_err_set(err, GT_EINVAL, "seatOf: vote %llu unknown", (unsigned long long)v);
    if (!rc) *vote = (gt_court_vote)v;
    return rc;
}

const char *gt_court_state_name(gt_court_state s) {
    static const char *const names[] = {"none", "drawing", "voting", "resolved"};
    return s <= GT_COURT_RESOLVED ? names[s] : "unknown";
}

void gt_court_seed_secret(const gt_key *k, const gt_addr *court, uint64_t chain_id, uint8_t out[32]) {
    gt_keccak h;
    key_hash_begin(&h, "gotong court seed chain v1", k, court, chain_id);
    gt_keccak_final(&h, out);
}

/* c_k[j] of secret's chain of `links` per segment: from the segment's top c_k[links] (keccak of the tag and the
 * secret, then be64(k) for k >= 1: segment 0 is the chain of a court with one segment), hashed links - j times. */
static void segment_link(const uint8_t secret[32], uint64_t links, uint64_t k, uint64_t j, uint8_t out[32]) {
    static const char tag[] = "gotong court seed top v1";
    uint8_t buf[sizeof tag - 1 + 32 + 8];
    size_t n = sizeof tag - 1 + 32;
    assert(links >= 3 && j <= links);
    memcpy(buf, tag, sizeof tag - 1);
    memcpy(buf + sizeof tag - 1, secret, 32);
    for (int i = 0; k && i < 8; i++) buf[n++] = (uint8_t)(k >> (56 - 8 * i));
    gt_keccak256(buf, n, out); /* the top, never hashed from anything revealed */
    for (uint64_t i = links; i > j; i--) gt_keccak256(out, 32, out);
}

void gt_court_seed_anchor(const uint8_t secret[32], uint64_t links, uint64_t k, uint8_t out[32]) {
    segment_link(secret, links, k, 0, out);
}

void gt_court_seed_link(const uint8_t secret[32], uint64_t links, uint64_t index, uint8_t out[32]) {
    if (index == 0) return segment_link(secret, links, 0, 0, out);
    uint64_t k = (index - 1) / links;
    segment_link(secret, links, k, index - k * links, out);
}

/* One uint view of the court with no argument. */
static int view_u64(gt_chain *c, const gt_addr *court, const char *sig, uint64_t *out, gt_err *err) {
    gt_buf res = GT_BUF_INIT;
    int rc = view(c, court, sig, NULL, 0, &res, err);
    if (!rc) rc = gt_abi_get_u64(res.data, res.len, 0, out, err);
    gt_buf_free(&res);
    return rc;
}

int gt_court_seed_state(gt_chain *c, const gt_addr *court, uint64_t *count, uint64_t *need, gt_err *err) {
    int rc = view_u64(c, court, "seedCount()", count, err);
    return rc ? rc : view_u64(c, court, "seedNeed()", need, err);
}

/* Commits the anchor of the segment after the one link count + 1 belongs to when the court holds none
 * (seedNext zero): at bind and after each segment's start. Nothing to do when one is committed. */
static int seed_anchor_next(gt_chain *c, const gt_addr *court, gt_chain_account *a, const uint8_t secret[32],
                            uint64_t links, uint64_t count, uint64_t *gas, gt_err *err) {
    gt_buf res = GT_BUF_INIT;
    int rc = view(c, court, "seedNext()", NULL, 0, &res, err), none = 1;
    for (size_t i = 0; !rc && i < res.len; i++) none &= res.data[i] == 0;
    if (!rc && res.len != 32) rc = gt_err_set(err, GT_EINVAL, "seedNext(): %zu bytes returned, not 32", res.len);
    gt_buf_free(&res);
    if (rc || !none) return rc;
    uint8_t anchor[32];
    gt_court_seed_anchor(secret, links, (count ? (count - 1) / links : 0) + 1, anchor);
    gt_abi_val args[] = {gt_abi_bytes32(anchor)};
    gt_chain_receipt r = {0};
    uint64_t g = 0;
    rc = gt_chain_invoke(c, court, a, "commitSeedAnchor(bytes32)", args, 1, &r, &g, err);
    gt_chain_receipt_free(&r);
    if (!rc && gas) *gas += g;
    return rc;
}

int gt_court_seed_reveal(gt_chain *c, const gt_addr *court, gt_chain_account *a, uint64_t *revealed, uint64_t *gas,
                         gt_err *err) {
    uint64_t count = 0, need = 0, links = 0;
    if (revealed) *revealed = 0;
    if (gas) *gas = 0;
    int rc = gt_court_seed_state(c, court, &count, &need, err);
    if (rc || need <= count) return rc;
    if ((rc = view_u64(c, court, "seedLinks()", &links, err))) return rc;
    if (links < 3 || links > UINT32_MAX)
        return gt_err_set(err, GT_EINVAL, "seedLinks(): %llu links per segment", (unsigned long long)links);
    uint64_t top = need - count > GT_COURT_SEED_BATCH ? count + GT_COURT_SEED_BATCH : need;
    uint8_t secret[32], link[GT_COURT_SEED_BATCH][32];
    size_t n = (size_t)(top - count);
    gt_court_seed_secret(&a->key, court, c->chain_id, secret);
    rc = seed_anchor_next(c, court, a, secret, links, count, gas, err); /* missed before: now, if still in time */
    /* link[i] is link count + 1 + i: hashed down from the next one, except a segment's top (a multiple of links) */
    for (size_t i = n; i-- > 0;) {
        uint64_t index = count + 1 + i;
        if (i == n - 1 || index % links == 0) gt_court_seed_link(secret, links, index, link[i]);
        else gt_keccak256(link[i + 1], 32, link[i]);
    }
    for (size_t i = 0; i < n && !rc; i++) {
        gt_abi_val args[] = {gt_abi_bytes32(link[i])};
        gt_chain_receipt r = {0};
        uint64_t g = 0;
        rc = gt_chain_invoke(c, court, a, "revealSeed(bytes32)", args, 1, &r, &g, err);
        gt_chain_receipt_free(&r);
        if (!rc && revealed) (*revealed)++;
        if (!rc && gas) *gas += g;
        if (!rc && (count + 1 + i) % links == 1 && count + 1 + i > 1) /* a segment started: commit the next one's */
            rc = seed_anchor_next(c, court, a, secret, links, count + 1 + i, gas, err);
    }
    memset(secret, 0, sizeof secret);
    memset(link, 0, sizeof link);
    return rc ? gt_err_wrap(err, "revealing the court's seed links after %llu", (unsigned long long)count) : 0;
}

/* See court.h: the tag, then the numbers big-endian around the court's 20 bytes, the expiry last. */
void gt_court_input_digest(uint64_t chain_id, const gt_addr *court, uint64_t job_id, uint64_t expires_s,
                           uint8_t out[32]) {
    static const char tag[] = "gotong: a judge's request for a disputed job's input, until";
    uint8_t msg[sizeof tag - 1 + 8 + 20 + 8 + 8];
    size_t n = sizeof tag - 1;
    memcpy(msg, tag, n);
    for (int i = 0; i < 8; i++) {
        msg[n + 7 - i] = (uint8_t)(chain_id >> (8 * i));
        msg[n + 35 - i] = (uint8_t)(job_id >> (8 * i));
        msg[n + 43 - i] = (uint8_t)(expires_s >> (8 * i));
    }
    memcpy(msg + n + 8, court->b, 20);
    gt_keccak256(msg, sizeof msg, out);
}
