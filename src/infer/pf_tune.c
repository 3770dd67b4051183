/* pf_tune.c: the K-quant decode prefetch, chosen by timing (see pf_tune.h). */
#include "infer/pf_tune.h"

#include <assert.h>
#include <pthread.h>
#include <string.h>

int gt_pf_kq_bytes_now = GT_PF_KQ_BYTES;

enum { TUNE_RUNNING, TUNE_MEASURED, TUNE_FIXED };

static pthread_mutex_t tune_mu = PTHREAD_MUTEX_INITIALIZER;
static int tune_state = TUNE_RUNNING;
static int tune_steps; /* one-token steps begun: while timing, since it began; after, since the choice */
static int tune_n[2];                                  /* samples per arm */
static uint64_t tune_ns[2][GT_PF_TUNE_PAIRS];          /* step times per arm */

/* The arm of timed step i (0-based): on, off, off, on, on, off, ... */
static int arm_of(int i) { return ((i + 1) >> 1) & 1 ? 0 : 1; }

static void set_arm(int on) {
    __atomic_store_n(&gt_pf_kq_bytes_now, on ? GT_PF_KQ_BYTES : 0, __ATOMIC_RELAXED);
}

/* The median of n (<= GT_PF_TUNE_PAIRS) step times: the mean of the middle
 * two when n is even. */
static uint64_t median_ns(const uint64_t *v, int n) {
    assert(n >= 1 && n <= GT_PF_TUNE_PAIRS);
    uint64_t s[GT_PF_TUNE_PAIRS];
    memcpy(s, v, (size_t)n * sizeof *s);
    for (int i = 1; i < n; i++)
        for (int k = i; k > 0 && s[k - 1] > s[k]; k--) {
            uint64_t t = s[k];
            s[k] = s[k - 1], s[k - 1] = t;
        }
    return n % 2 ? s[n / 2] : s[n / 2 - 1] / 2 + s[n / 2] / 2;
}

int gt_pf_tune_begin(void) {
    pthread_mutex_lock(&tune_mu);
    int arm = -1;
    if (tune_state == TUNE_MEASURED && ++tune_steps >= GT_PF_RETUNE_STEPS) {
        /* Time both arms again, without a warm-up: the caches are warm. */
        tune_state = TUNE_RUNNING, tune_steps = GT_PF_TUNE_WARM_STEPS;
        memset(tune_n, 0, sizeof tune_n);
    }
    if (tune_state == TUNE_RUNNING) {
        int i = tune_steps++ - GT_PF_TUNE_WARM_STEPS;
        if (i >= 0 && i < 2 * GT_PF_TUNE_PAIRS) set_arm(arm = arm_of(i));
    }
    pthread_mutex_unlock(&tune_mu);
    return arm;
}

void gt_pf_tune_end(int arm, uint64_t step_ns) {
    if (arm < 0) return;
    assert(arm == 0 || arm == 1);
    pthread_mutex_lock(&tune_mu);
    /* A step begun while timing may end after a fix or the choice (another
     * context's steps): its time no longer counts. */
    if (tune_state == TUNE_RUNNING && tune_n[arm] < GT_PF_TUNE_PAIRS) tune_ns[arm][tune_n[arm]++] = step_ns;
    if (tune_state == TUNE_RUNNING && tune_n[0] == GT_PF_TUNE_PAIRS && tune_n[1] == GT_PF_TUNE_PAIRS) {
        /* Ties keep prefetch: the arm every earlier measurement chose. */
        set_arm(median_ns(tune_ns[1], GT_PF_TUNE_PAIRS) <= median_ns(tune_ns[0], GT_PF_TUNE_PAIRS));
        tune_state = TUNE_MEASURED, tune_steps = 0;
    }
    pthread_mutex_unlock(&tune_mu);
}

void gt_pf_fix(int on) {
    pthread_mutex_lock(&tune_mu);
    set_arm(on);
    tune_state = TUNE_FIXED;
    pthread_mutex_unlock(&tune_mu);
}

int gt_pf_state(const char **how) {
    pthread_mutex_lock(&tune_mu);
    static const char *const names[] = {"tuning", "measured", "fixed"};
    *how = names[tune_state];
    int on = gt_pf_kq_bytes() != 0;
    pthread_mutex_unlock(&tune_mu);
    return on;
}

void gt_pf_tune_reset(void) {
    pthread_mutex_lock(&tune_mu);
    tune_state = TUNE_RUNNING, tune_steps = 0;
    memset(tune_n, 0, sizeof tune_n);
    set_arm(1);
    pthread_mutex_unlock(&tune_mu);
}
