/* progress.c: terminal progress bar (see progress.h). */
#include "base/progress.h"

#include <assert.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

double gt_now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void draw(gt_progress *p) {
    double el = gt_now_s() - p->start_s;
    int width = 30;
    int fill = p->total ? (int)((double)p->done / (double)p->total * width) : 0;
    if (fill > width) fill = width;
    char bar[64];
    for (int i = 0; i < width; i++) bar[i] = i < fill ? '#' : '.';
    bar[width] = 0;
    double rate = el > 0 ? (double)p->done / el : 0;
    fprintf(stderr, "\r%s [%s] %llu/%llu %.1f/s %.1fs ", p->label, bar,
            (unsigned long long)p->done, (unsigned long long)p->total, rate, el);
    fflush(stderr);
}

/* One line of a job's progress on a pipe (see gt_progress_pipe_every). */
static void pipe_line(gt_progress *p, double now) {
    double el = now - p->start_s;
    fprintf(stderr, "%s: %llu/%llu (%.0f%%), %.1f s\n", p->label, (unsigned long long)p->done,
            (unsigned long long)p->total, p->total ? 100.0 * (double)p->done / (double)p->total : 0.0, el);
    fflush(stderr);
    p->last_draw_s = now;
    p->piped++;
}

void gt_progress_pipe_every(gt_progress *p, double every_s) {
    assert(p->label && every_s >= 0);
    p->pipe_every_s = p->enabled ? 0 : every_s;
}

void gt_progress_start(gt_progress *p, const char *label, uint64_t total) {
    p->pipe_every_s = 0, p->piped = 0;
    p->label = label;
    p->total = total;
    p->done = 0;
    p->start_s = p->last_draw_s = gt_now_s();
    p->enabled = isatty(STDERR_FILENO);
}

void gt_progress_update(gt_progress *p, uint64_t done) {
    p->done = done;
    if (!p->enabled && p->pipe_every_s > 0) {
        double now = gt_now_s();
        if (now - p->last_draw_s >= p->pipe_every_s) pipe_line(p, now);
        return;
    }
    if (!p->enabled) return;
    double now = gt_now_s();
    if (now - p->last_draw_s < 0.1 && done < p->total) return;
    p->last_draw_s = now;
    draw(p);
}

void gt_progress_finish(gt_progress *p) {
    if (!p->enabled && p->piped) pipe_line(p, gt_now_s()); /* the end of what the pipe was shown */
    if (!p->enabled) return;
    draw(p);
    fputc('\n', stderr);
}
