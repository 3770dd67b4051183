/* run.c: the windows and the step of a training run (see run.h). */
#include "train/run.h"

#include <assert.h>
#include <string.h>

#include "base/alloc.h"
#include "train/dataset.h"

void gt_train_fill_batch(const gt_train_run *r, const int32_t *ids, size_t n, uint64_t draw, int32_t *tok,
                         int32_t *tgt) {
    assert(n > (size_t)r->seq && r->batch > 0);
    for (int b = 0; b < r->batch; b++) {
        uint64_t z = r->seed * 0x9E3779B97F4A7C15ull +
                     (draw * (uint64_t)r->batch + (uint64_t)b + 1) * 0xBF58476D1CE4E5B9ull;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
        z ^= z >> 31;
        size_t start = r->starts ? r->starts[z % (uint64_t)r->n_starts] : (size_t)(z % (uint64_t)(n - (size_t)r->seq));
        assert(start + (size_t)r->seq < n);
        int32_t *tb = tok + (size_t)b * r->seq, *gb = tgt + (size_t)b * r->seq;
        for (int i = 0; i < r->seq; i++) { /* a masked token (~id) is an input, never a target */
            int32_t x = ids[start + (size_t)i], y = ids[start + (size_t)i + 1];
            tb[i] = x < 0 ? ~x : x;
            gb[i] = y < 0 ? -1 : y;
        }
    }
}

/* 1 when ids[i] is a row's BOS: the token (or its masked form) not followed
 * by another -- a vocabulary whose EOS is its BOS ends each row with it. */
static int is_row_start(const int32_t *ids, size_t n, size_t i, int32_t bos) {
    int here = ids[i] == bos || ids[i] == GT_TRAIN_MASKED(bos);
    return here && !(i + 1 < n && (ids[i + 1] == bos || ids[i + 1] == GT_TRAIN_MASKED(bos)));
}

int gt_train_row_starts(const int32_t *ids, size_t n, int seq, int32_t bos, size_t **starts, size_t *n_starts,
                        gt_err *err) {
    *starts = NULL, *n_starts = 0;
    size_t k = 0, last = n > (size_t)seq ? n - (size_t)seq : 0;
    for (size_t i = 0; i < last; i++) k += (size_t)is_row_start(ids, n, i, bos);
    if (!k) return gt_err_set(err, GT_EINVAL, "no row starts (BOS %d) with a window of %d tokens after it", bos, seq);
    size_t *s = gt_malloc(k * sizeof *s);
    if (!s) return gt_err_set(err, GT_ENOMEM, "out of memory for %zu row starts", k);
    k = 0;
    for (size_t i = 0; i < last; i++)
        if (is_row_start(ids, n, i, bos)) s[k++] = i;
    *starts = s, *n_starts = k;
    return 0;
}

int gt_train_run_step(gt_trainer *t, const gt_train_run *r, const int32_t *ids, size_t n, int32_t *tok, int32_t *tgt,
                      double *loss, gt_err *err) {
    const gt_train_hparams *hp = gt_trainer_hparams(t);
    if (r->seq != hp->seq_len || r->batch != hp->batch || r->accum < 1)
        return gt_err_set(err, GT_EINVAL, "a run of %d x %d tokens (accum %d) for a model of %d x %d: expected the "
                          "model's shapes and accum >= 1", r->batch, r->seq, r->accum, hp->batch, hp->seq_len);
    if (n <= (size_t)r->seq)
        return gt_err_set(err, GT_EINVAL, "%zu tokens: expected more than the sequence length %d", n, r->seq);
    size_t N = (size_t)r->batch * r->seq;
    uint64_t s = (uint64_t)gt_trainer_step_count(t);
    double sum = 0, l = 0;
    for (int a = 0; a < r->accum; a++) {
        gt_train_fill_batch(r, ids, n, s * (uint64_t)r->accum + (uint64_t)a, tok, tgt);
        int rc = gt_trainer_forward(t, tok, tgt, &l, err);
        if (rc) return rc;
        gt_trainer_backward(t, 1.0f / (float)(N * (size_t)r->accum));
        sum += l;
    }
    gt_trainer_step(t, &r->opt, NULL);
    assert((uint64_t)gt_trainer_step_count(t) == s + 1);
    if (loss) *loss = sum / r->accum;
    return 0;
}

int gt_train_run_to(gt_trainer *t, const gt_train_run *r, const int32_t *ids, size_t n, int to_step, gt_err *err) {
    size_t N = (size_t)r->batch * (size_t)r->seq;
    int32_t *tok = gt_malloc(N * sizeof(int32_t)), *tgt = gt_malloc(N * sizeof(int32_t));
    int rc = tok && tgt ? 0 : gt_err_set(err, GT_ENOMEM, "out of memory for a batch of %zu tokens", N);
    while (!rc && gt_trainer_step_count(t) < to_step) rc = gt_train_run_step(t, r, ids, n, tok, tgt, NULL, err);
    gt_free(tok), gt_free(tgt);
    return rc;
}
