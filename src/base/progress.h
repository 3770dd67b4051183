/* progress.h: a one-line progress bar on stderr, drawn only when stderr is a
 * terminal (quiet in pipes, logs and CI). Redrawn at most ~10 times a second.
 * A long job may ask for a line on a pipe too, at most every few seconds
 * (gt_progress_pipe_every), as `gotong train` prints its steps to a log. */
#ifndef GT_BASE_PROGRESS_H
#define GT_BASE_PROGRESS_H

#include <stdint.h>

typedef struct gt_progress {
    const char *label;
    uint64_t total, done;
    double start_s, last_draw_s;
    int enabled;
    double pipe_every_s;    /* > 0: on a pipe, a line at most this often (gt_progress_pipe_every) */
    int piped;              /* lines printed on the pipe */
} gt_progress;

void gt_progress_start(gt_progress *p, const char *label, uint64_t total);
void gt_progress_update(gt_progress *p, uint64_t done);
void gt_progress_finish(gt_progress *p);
/* After gt_progress_start: when stderr is no terminal, print a line
 * "LABEL: DONE/TOTAL (P%), E s" once every_s seconds have passed since the
 * start or the last line (and a last one at the finish, once any was). */
void gt_progress_pipe_every(gt_progress *p, double every_s);

/* Monotonic seconds (for timings everywhere). */
double gt_now_s(void);

#endif
