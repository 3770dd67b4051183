/* escrow.c: deployment and the job escrow's calls (see escrow.h). */
#include "chain/escrow.h"

#include <assert.h>
#include <string.h>

#include "base/alloc.h"
#include "base/file.h"
#include "base/hex.h"
#include "chain/abi_decode.h"

int gt_chain_deploy_file(gt_chain *c, gt_chain_account *a, const char *path, const gt_abi_val *args, size_t n,
                         gt_addr *at, uint64_t *gas, gt_err *err) {
    uint8_t *hex = NULL;
    size_t hex_len = 0;
    gt_buf code = GT_BUF_INIT;
    gt_chain_receipt r = {0};
    int rc = gt_file_read(path, 2 * GT_CHAIN_MAX_CODE_BYTES + 16, &hex, &hex_len, err);
    while (!rc && hex_len && (hex[hex_len - 1] == '\n' || hex[hex_len - 1] == '\r')) hex[--hex_len] = 0;
    if (!rc && (hex_len == 0 || hex_len % 2))
        rc = gt_err_set(err, GT_EINVAL, "%s: expected an even number of hex digits of creation code", path);
    if (!rc && gt_buf_reserve(&code, hex_len / 2 + 1)) rc = gt_err_set(err, GT_ENOMEM, "out of memory");
    if (!rc && !(rc = gt_hex_decode((const char *)hex, code.data, hex_len / 2, path, err))) code.len = hex_len / 2;
    if (!rc && n) rc = gt_abi_encode(args, n, &code, err);
    if (!rc) rc = gt_chain_transact(c, a, NULL, code.data, code.len, &r, err);
    if (!rc && !r.has_contract) rc = gt_err_set(err, GT_ECHAIN, "the creation's receipt names no contract");
    if (!rc) {
        *at = r.contract;
        if (gas) *gas = r.gas_used;
    }
    gt_chain_receipt_free(&r);
    gt_free(hex);
    gt_buf_free(&code);
    return rc;
}

int gt_chain_invoke(gt_chain *c, const gt_addr *contract, gt_chain_account *a, const char *sig, const gt_abi_val *args,
                    size_t n, gt_chain_receipt *r, uint64_t *gas, gt_err *err) {
    gt_buf d = GT_BUF_INIT;
    int rc = gt_abi_calldata(sig, args, n, &d, err);
    if (!rc) rc = gt_chain_transact(c, a, contract, d.data, d.len, r, err);
    gt_buf_free(&d);
    if (!rc && gas) *gas = r->gas_used;
    return rc ? gt_err_wrap(err, "%s", sig) : 0;
}

int gt_chain_view(gt_chain *c, const gt_addr *contract, const char *sig, const gt_abi_val *args, size_t n, gt_buf *out,
                  gt_err *err) {
    gt_buf d = GT_BUF_INIT;
    int rc = gt_abi_calldata(sig, args, n, &d, err);
    if (!rc) rc = gt_chain_call(c, NULL, contract, d.data, d.len, out, err);
    gt_buf_free(&d);
    return rc ? gt_err_wrap(err, "%s", sig) : 0;
}

int gt_chain_view_u64(gt_chain *c, const gt_addr *contract, const char *sig, const gt_abi_val *args, size_t n,
                      size_t word, uint64_t *out, gt_err *err) {
    gt_buf res = GT_BUF_INIT;
    int rc = gt_chain_view(c, contract, sig, args, n, &res, err);
    if (!rc && (rc = gt_abi_get_u64(res.data, res.len, word, out, err))) gt_err_wrap(err, "%s", sig);
    gt_buf_free(&res);
    return rc;
}

int gt_escrow_post(gt_chain *c, const gt_addr *escrow, gt_chain_account *client, const gt_addr *evaluator,
                   uint64_t expired_at, const uint8_t desc_hash[32], uint64_t budget, uint64_t stake, uint64_t *job_id,
                   uint64_t *gas, gt_err *err) {
    static const gt_addr anyone;
    return gt_escrow_post_for(c, escrow, client, &anyone, evaluator, expired_at, desc_hash, budget, stake, job_id, gas,
                              err);
}

/* Sends a post (sig with args) and reads the new job's id from its JobCreated event. */
static int post_call(gt_chain *c, const gt_addr *escrow, gt_chain_account *client, const char *sig,
                     const gt_abi_val *a, size_t n, uint64_t *job_id, uint64_t *gas, gt_err *err) {
    gt_chain_receipt r = {0};
    uint8_t topic[32];
    int rc = gt_chain_invoke(c, escrow, client, sig, a, n, &r, gas, err);
    gt_abi_event_topic("JobCreated(uint256,address,address,address,uint256)", topic);
    const gt_chain_log *l = rc ? NULL : gt_chain_find_log(&r, escrow, topic);
    if (!rc && (!l || l->n_topics != 4))
        rc = gt_err_set(err, GT_ECHAIN, "post: the receipt has no JobCreated event of the escrow");
    if (!rc) rc = gt_abi_word_u64(l->topics[1], job_id, "the job id", err);
    gt_chain_receipt_free(&r);
    return rc;
}

int gt_escrow_post_for(gt_chain *c, const gt_addr *escrow, gt_chain_account *client, const gt_addr *provider,
                       const gt_addr *evaluator, uint64_t expired_at, const uint8_t desc_hash[32], uint64_t budget,
                       uint64_t stake, uint64_t *job_id, uint64_t *gas, gt_err *err) {
    gt_abi_val a[] = {gt_abi_address(provider), gt_abi_address(evaluator), gt_abi_uint(expired_at),
                      gt_abi_bytes32(desc_hash), gt_abi_uint(budget), gt_abi_uint(stake)};
    return post_call(c, escrow, client, "post(address,address,uint256,bytes32,uint256,uint256)", a, 6, job_id, gas,
                     err);
}

int gt_escrow_post_fee(gt_chain *c, const gt_addr *escrow, gt_chain_account *client, const gt_escrow_terms *t,
                       uint64_t *job_id, uint64_t *gas, gt_err *err) {
    assert(t->fee > 0);
    gt_abi_val a[] = {gt_abi_address(&t->provider), gt_abi_address(&t->evaluator), gt_abi_uint(t->expired_at),
                      gt_abi_bytes32(t->desc_hash), gt_abi_uint(t->budget), gt_abi_uint(t->stake),
                      gt_abi_uint(t->fee)};
    return post_call(c, escrow, client, "postWithFee(address,address,uint256,bytes32,uint256,uint256,uint256)", a, 7,
                     job_id, gas, err);
}

int gt_escrow_post_timed(gt_chain *c, const gt_addr *escrow, gt_chain_account *client, const gt_escrow_terms *t,
                         uint64_t submit_s, uint64_t verify_s, uint64_t *job_id, uint64_t *gas, gt_err *err) {
    static const gt_addr anyone;
    if (t->fee || memcmp(&t->provider, &anyone, sizeof anyone))
        return gt_err_set(err, GT_EINVAL, "postTimed: a timed job names no provider and has no fee (postWithFee, then "
                                          "setPhases)");
    gt_abi_val a[] = {gt_abi_address(&t->evaluator), gt_abi_uint(t->expired_at), gt_abi_bytes32(t->desc_hash),
                      gt_abi_uint(t->budget), gt_abi_uint(t->stake), gt_abi_uint(submit_s), gt_abi_uint(verify_s)};
    return post_call(c, escrow, client, "postTimed(address,uint256,bytes32,uint256,uint256,uint256,uint256)", a, 7,
                     job_id, gas, err);
}

int gt_escrow_post_quorum(gt_chain *c, const gt_addr *escrow, gt_chain_account *client, const gt_escrow_terms *t,
                          uint64_t submit_s, uint64_t verify_s, uint64_t quorum, uint64_t *job_id, uint64_t *gas,
                          gt_err *err) {
    static const gt_addr anyone;
    if (memcmp(&t->provider, &anyone, sizeof anyone) || memcmp(&t->evaluator, &anyone, sizeof anyone))
        return gt_err_set(err, GT_EINVAL, "postQuorum: a quorum job names no provider and no evaluator (the court's "
                                          "panel judges it)");
    gt_abi_val a[] = {gt_abi_uint(t->expired_at), gt_abi_bytes32(t->desc_hash), gt_abi_uint(t->budget),
                      gt_abi_uint(t->stake),      gt_abi_uint(t->fee),          gt_abi_uint(submit_s),
                      gt_abi_uint(verify_s),      gt_abi_uint(quorum)};
    return post_call(c, escrow, client, "postQuorum(uint256,bytes32,uint256,uint256,uint256,uint256,uint256,uint256)",
                     a, 8, job_id, gas, err);
}

int gt_escrow_post_subtask(gt_chain *c, const gt_addr *escrow, gt_chain_account *worker, uint64_t parent_id,
                           const gt_escrow_terms *t, uint64_t submit_s, uint64_t verify_s, uint64_t *job_id,
                           uint64_t *gas, gt_err *err) {
    static const gt_addr anyone;
    if (t->fee || memcmp(&t->provider, &anyone, sizeof anyone) || (!submit_s != !verify_s))
        return gt_err_set(err, GT_EINVAL, "postSubtask: a subtask names no provider, has no fee, and has both phase "
                                          "windows or neither");
    gt_abi_val a[] = {gt_abi_uint(parent_id),    gt_abi_address(&t->evaluator), gt_abi_uint(t->expired_at),
                      gt_abi_bytes32(t->desc_hash), gt_abi_uint(t->budget),  gt_abi_uint(t->stake),
                      gt_abi_uint(submit_s),     gt_abi_uint(verify_s)};
    return post_call(c, escrow, worker,
                     "postSubtask(uint256,address,uint256,bytes32,uint256,uint256,uint256,uint256)", a, 8, job_id, gas,
                     err);
}

/* The return data of the escrow's view sig(jobId) at the latest block into res (caller frees). */
static int job_view(gt_chain *c, const gt_addr *escrow, const char *sig, uint64_t job_id, gt_buf *res,
                    gt_err *err) {
    gt_abi_val args[] = {gt_abi_uint(job_id)};
    gt_buf d = GT_BUF_INIT;
    int rc = gt_abi_calldata(sig, args, 1, &d, err);
    if (!rc) rc = gt_chain_call(c, NULL, escrow, d.data, d.len, res, err);
    gt_buf_free(&d);
    return rc;
}

int gt_escrow_post_slots(gt_chain *c, const gt_addr *escrow, gt_chain_account *client, const gt_escrow_terms *t,
                         const gt_escrow_slots *s, uint64_t *task_id, uint64_t *gas, gt_err *err) {
    static const gt_addr anyone;
    if (memcmp(&t->provider, &anyone, sizeof anyone))
        return gt_err_set(err, GT_EINVAL, "postSlots: a task's slots name no provider");
    /* SlotTerms is a tuple of static fields: encoded in place, as these words in order. */
    gt_abi_val a[] = {gt_abi_address(&t->evaluator), gt_abi_uint(t->expired_at), gt_abi_bytes32(t->desc_hash),
                      gt_abi_uint(t->budget),        gt_abi_uint(t->stake),      gt_abi_uint(t->fee),
                      gt_abi_uint(s->slots),         gt_abi_uint(s->seats_per_worker), gt_abi_uint(s->submit_s),
                      gt_abi_uint(s->verify_s),      gt_abi_uint(s->batch_items), gt_abi_uint(s->last_batch_items),
                      gt_abi_uint(s->quorum)};
    if (s->quorum)
        return post_call(c, escrow, client,
                         "postQuorumSlots((address,uint256,bytes32,uint256,uint256,uint256,uint256,uint256,uint256,"
                         "uint256,uint256,uint256),uint256)",
                         a, 13, task_id, gas, err);
    return post_call(c, escrow, client,
                     "postSlots((address,uint256,bytes32,uint256,uint256,uint256,uint256,uint256,uint256,uint256,"
                     "uint256,uint256))",
                     a, 12, task_id, gas, err);
}

int gt_escrow_verify_units(gt_chain *c, const gt_addr *escrow, gt_chain_account *evaluator, uint64_t job_id,
                           uint64_t accepted, uint64_t total, const uint8_t reason[32], uint64_t *gas, gt_err *err) {
    static const uint8_t zero[32];
    gt_abi_val a[] = {gt_abi_uint(job_id), gt_abi_uint(accepted), gt_abi_uint(total),
                      gt_abi_bytes32(reason ? reason : zero)};
    gt_chain_receipt r = {0};
    int rc = gt_chain_invoke(c, escrow, evaluator, "verifyUnits(uint256,uint256,uint256,bytes32)", a, 4, &r, gas, err);
    gt_chain_receipt_free(&r);
    return rc;
}

int gt_escrow_units(gt_chain *c, const gt_addr *escrow, uint64_t job_id, uint64_t *total, uint64_t *accepted,
                    gt_err *err) {
    gt_buf res = GT_BUF_INIT;
    *total = *accepted = 0;
    int rc = job_view(c, escrow, "unitsOf(uint256)", job_id, &res, err);
    if (!rc) rc = gt_abi_get_u64(res.data, res.len, 0, total, err);
    if (!rc) rc = gt_abi_get_u64(res.data, res.len, 1, accepted, err);
    gt_buf_free(&res);
    return rc;
}

int gt_escrow_task_do(gt_chain *c, const gt_addr *escrow, gt_chain_account *a, int cancel, uint64_t task_id,
                      uint64_t *gas, gt_err *err) {
    gt_abi_val args[] = {gt_abi_uint(task_id)};
    gt_chain_receipt r = {0};
    int rc = gt_chain_invoke(c, escrow, a, cancel ? "cancelTask(uint256)" : "claimTask(uint256)", args, 1, &r, gas,
                             err);
    gt_chain_receipt_free(&r);
    return rc;
}

int gt_escrow_set_phases(gt_chain *c, const gt_addr *escrow, gt_chain_account *client, uint64_t job_id,
                         uint64_t submit_s, uint64_t verify_s, uint64_t *gas, gt_err *err) {
    gt_abi_val a[] = {gt_abi_uint(job_id), gt_abi_uint(submit_s), gt_abi_uint(verify_s)};
    gt_chain_receipt r = {0};
    int rc = gt_chain_invoke(c, escrow, client, "setPhases(uint256,uint256,uint256)", a, 3, &r, gas, err);
    gt_chain_receipt_free(&r);
    return rc;
}

int gt_escrow_set_seats(gt_chain *c, const gt_addr *escrow, gt_chain_account *client, uint64_t job_id,
                        uint64_t seats_per_worker, uint64_t *gas, gt_err *err) {
    gt_abi_val a[] = {gt_abi_uint(job_id), gt_abi_uint(seats_per_worker)};
    gt_chain_receipt r = {0};
    int rc = gt_chain_invoke(c, escrow, client, "setSeats(uint256,uint256)", a, 2, &r, gas, err);
    gt_chain_receipt_free(&r);
    return rc;
}

int gt_escrow_do(gt_chain *c, const gt_addr *escrow, gt_chain_account *a, gt_escrow_step step, uint64_t job_id,
                 const uint8_t tag[32], uint64_t *gas, gt_err *err) {
    static const char *const sig[] = {"claim(uint256)", "submit(uint256,bytes32,bytes)",
                                      "complete(uint256,bytes32,bytes)", "reject(uint256,bytes32,bytes)",
                                      "claimRefund(uint256)", "dispute(uint256)", "finalize(uint256)",
                                      "timeout(uint256)"};
    static const uint8_t none[1], zero[32];
    assert(step >= GT_ESCROW_CLAIM && step <= GT_ESCROW_TIMEOUT);
    if (step == GT_ESCROW_REJECT && (!tag || !memcmp(tag, zero, 32))) /* the embedded ledger's rule too */
        return gt_err_set(err, GT_EINVAL, "reject: a rejection needs a reason (a nonzero bytes32: the hash of the "
                                          "reason's text or blob)");
    gt_abi_val args[] = {gt_abi_uint(job_id), gt_abi_bytes32(tag ? tag : zero), gt_abi_bytes(none, 0)};
    int tagged = step == GT_ESCROW_SUBMIT || step == GT_ESCROW_COMPLETE || step == GT_ESCROW_REJECT;
    gt_chain_receipt r = {0};
    int rc = gt_chain_invoke(c, escrow, a, sig[step], args, tagged ? 3 : 1, &r, gas, err);
    gt_chain_receipt_free(&r);
    return rc;
}

/* getJob's eight words: client, provider, evaluator, budget, stake, expiredAt, status, claimed. */
int gt_escrow_get(gt_chain *c, const gt_addr *escrow, uint64_t job_id, gt_escrow_job *out, gt_err *err) {
    gt_buf res = GT_BUF_INIT;
    uint64_t status = 0;
    memset(out, 0, sizeof *out);
    int rc = job_view(c, escrow, "getJob(uint256)", job_id, &res, err);
    if (!rc) rc = gt_abi_get_address(res.data, res.len, 0, &out->client, err);
    if (!rc) rc = gt_abi_get_address(res.data, res.len, 1, &out->provider, err);
    if (!rc) rc = gt_abi_get_address(res.data, res.len, 2, &out->evaluator, err);
    if (!rc) rc = gt_abi_get_u64(res.data, res.len, 3, &out->budget, err);
    if (!rc) rc = gt_abi_get_u64(res.data, res.len, 4, &out->stake, err);
    if (!rc) rc = gt_abi_get_u64(res.data, res.len, 5, &out->expired_at, err);
    if (!rc) rc = gt_abi_get_u64(res.data, res.len, 6, &status, err);
    if (!rc) rc = gt_abi_get_bool(res.data, res.len, 7, &out->claimed, err);
    if (!rc && status > GT_ESCROW_DISPUTED) rc = gt_err_set(err, GT_EINVAL, "getJob: status %llu unknown",
                                                           (unsigned long long)status);
    out->status = (gt_escrow_status)status;
    gt_buf_free(&res);
    return rc;
}

const char *gt_escrow_status_name(gt_escrow_status s) {
    static const char *const names[] = {"open", "funded", "submitted", "completed", "rejected", "expired",
                                        "disputed"};
    return s <= GT_ESCROW_DISPUTED ? names[s] : "unknown";
}

int gt_escrow_phases(gt_chain *c, const gt_addr *escrow, uint64_t job_id, gt_escrow_phase *out, gt_err *err) {
    gt_buf res = GT_BUF_INIT;
    memset(out, 0, sizeof *out);
    int rc = job_view(c, escrow, "phasesOf(uint256)", job_id, &res, err);
    if (!rc) rc = gt_abi_get_u64(res.data, res.len, 0, &out->submit_s, err);
    if (!rc) rc = gt_abi_get_u64(res.data, res.len, 1, &out->verify_s, err);
    if (!rc) rc = gt_abi_get_u64(res.data, res.len, 2, &out->due_s, err);
    gt_buf_free(&res);
    return rc;
}

int gt_escrow_appeal_until(gt_chain *c, const gt_addr *escrow, uint64_t job_id, uint64_t *until_s, gt_err *err) {
    gt_buf res = GT_BUF_INIT;
    *until_s = 0;
    int rc = job_view(c, escrow, "appealUntil(uint256)", job_id, &res, err);
    if (!rc) rc = gt_abi_get_u64(res.data, res.len, 0, until_s, err);
    gt_buf_free(&res);
    return rc;
}
