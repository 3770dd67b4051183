/* pf_tune.h: whether the K-quant decode tiles prefetch their stream of
 * super-blocks, chosen by timing the process's own decode steps.
 *
 * Why measured and not fixed: the same code on the same model gains or
 * loses by it depending on the host under the VM. On one host (session 49)
 * prefetching 4 KiB ahead cost 12-20 % (llama3.2-1b Q4_K_M 30.5-31.2 t/s
 * without, 24.9-26.2 with); on another (session 50) it was worth 1.5-2x
 * (qwen3-0.6b Q4_K_M 39-69 with, 25-39 without, 4 alternations). Prefetch
 * is a hint: the bytes computed are the same either way, so the choice may
 * differ between machines and runs without touching verification.
 *
 * The tuner: after GT_PF_TUNE_WARM_STEPS one-token steps (cold caches),
 * GT_PF_TUNE_PAIRS pairs of steps alternate the two arms in the order
 * on, off, off, on, on, off... (each arm goes first as often as last, so a
 * slow drift favours neither), then the arm with the lower median step
 * time stays for the next GT_PF_RETUNE_STEPS one-token steps; then the
 * timing runs again (a long-lived server outlives the state of the host it
 * chose on: the second arm then costs at most 4 steps in 4,096). */
#ifndef GT_INFER_PF_TUNE_H
#define GT_INFER_PF_TUNE_H

#include <stddef.h>
#include <stdint.h>

#define GT_PF_KQ_BYTES 4096       /* how far ahead an "on" arm asks */
#define GT_PF_TUNE_WARM_STEPS 2   /* one-token steps not timed */
#define GT_PF_TUNE_PAIRS 4        /* timed steps per arm */
#define GT_PF_RETUNE_STEPS 4096   /* one-token steps a measured choice stands */

/* The arm in force; read by the kernels once per super-block (relaxed). */
extern int gt_pf_kq_bytes_now;

/* Bytes ahead the K-quant tiles prefetch (0: none). */
static inline size_t gt_pf_kq_bytes(void) {
    return (size_t)__atomic_load_n(&gt_pf_kq_bytes_now, __ATOMIC_RELAXED);
}

/* Before a one-token step: sets the arm that step runs under and returns
 * it (1 on, 0 off) while the tuner is timing, or -1 when the step is not
 * timed (warm-up, tuning over, or fixed by gt_pf_fix). */
int gt_pf_tune_begin(void);
/* After that step: its wall time, for the arm gt_pf_tune_begin returned
 * (ignored for -1). */
void gt_pf_tune_end(int arm, uint64_t step_ns);
/* Fixes the arm (1 on, 0 off) and ends tuning: tests and benchmarks that
 * compare the two. */
void gt_pf_fix(int on);
/* The state for a report: 1 on / 0 off, *how "tuning", "measured" or
 * "fixed". */
int gt_pf_state(const char **how);
/* Back to the start (a fresh process's state): tests only. */
void gt_pf_tune_reset(void);

#endif
