/* progress.h: a one-line progress bar on stderr, drawn only when stderr is a
 * terminal (quiet in pipes, logs and CI). Redrawn at most ~10 times a second. */
#ifndef GT_BASE_PROGRESS_H
#define GT_BASE_PROGRESS_H

#include <stdint.h>

typedef struct gt_progress {
    const char *label;
    uint64_t total, done;
    double start_s, last_draw_s;
    int enabled;
} gt_progress;

void gt_progress_start(gt_progress *p, const char *label, uint64_t total);
void gt_progress_update(gt_progress *p, uint64_t done);
void gt_progress_finish(gt_progress *p);

/* Monotonic seconds (for timings everywhere). */
double gt_now_s(void);

#endif
