/* work_impl.h: what the work layer's ledger rules share and nobody else
 * sees: the buffer of state-commitment bytes of the action being applied
 * (like the market's mk_ctx: bytes reach the block's commitment only when
 * the whole action succeeds), record tags, and the call of a market rule on
 * behalf of the same sender. */
#ifndef GT_WORK_IMPL_H
#define GT_WORK_IMPL_H

#include <stdint.h>
#include <string.h>

#include "base/buf.h"
#include "ledger/action.h"
#include "ledger/state.h"
#include "work/eval/bench.h"

typedef struct wk_ctx {
    gt_tx *tx;
    gt_buf diff;
} wk_ctx;

/* Record tags of the work tables' rows (a byte range apart from the market's). */
enum { WK_REC_ATTEST = 0x41, WK_REC_COSIGN = 0x42, WK_REC_DATASET = 0x43 };

static inline int wk_rec_u64(wk_ctx *c, uint64_t v) {
    uint8_t b[8];
    for (int i = 7; i >= 0; i--) { b[i] = (uint8_t)v; v >>= 8; }
    return gt_buf_append(&c->diff, b, 8);
}
static inline int wk_rec_bytes(wk_ctx *c, const void *p, size_t n) { return gt_buf_append(&c->diff, p, n); }
static inline int wk_rec_text(wk_ctx *c, const char *s) {
    size_t n = strlen(s);
    return wk_rec_u64(c, n) || gt_buf_append(&c->diff, s, n);
}

/* Feeds the buffered bytes to the block commitment when rc == 0; frees. Returns rc. */
int wk_finish(wk_ctx *c, int rc);

/* Runs kind's rule as if `from` had signed an action of that kind with the
 * fields of `a` (already set by the caller on an action made with
 * gt_action_init(a, kind, &tx->domain, from, 0)). Must be the last step
 * that can fail in the calling rule: the market feeds its bytes to the
 * block commitment as soon as its rule succeeds. */
int wk_apply_market(gt_tx *tx, gt_action *a, gt_err *err);

/* Runs SQL with a statement; GT_EDB with the store's message. */
int wk_prepare(sqlite3 *db, const char *sql, sqlite3_stmt **q, gt_err *err);
int wk_is_zero32(const uint8_t b[32]);
/* "0x1234abcd" short form of an id. */
const char *wk_short(const uint8_t id[32], char out[19]);

/* The `check` (items each validator re-executes) of the eval spec whose
 * sha256 is spec, given what an attestation of it carries: the canonical
 * spec JSON (check.h) of model, bench, bench_hash and a `limit` giving
 * `items` of reg's (items, or 0 when that is all of them), for each check
 * 1..GT_WORK_EVAL_MAX_CHECK in turn. 0 when none matches. The attest rule
 * binds an attestation to its task's spec with it; the leaderboard shows
 * the check a score was judged under with it (attest.c). */
uint64_t wk_eval_spec_check(const uint8_t model[32], const char *bench, const uint8_t bench_hash[32], uint64_t items,
                            const gt_bench_ref *reg, const uint8_t spec[32]);

#endif
