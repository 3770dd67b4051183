/* log.c: leveled logging (see log.h). */
#include "base/log.h"

#include <assert.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

/* Atomic: any thread logs, and the CLI sets both after threads may have
 * started (relaxed: a line logged at the old level around a change is fine). */
static _Atomic int current_level = -1; /* -1: not yet read from GOTONG_LOG */
static _Atomic int current_format = GT_LOG_TEXT;
static const char *const level_names[] = {"debug", "info", "warn", "error"};

static int level_from_env(void) {
    const char *s = getenv("GOTONG_LOG");
    if (!s) return GT_LOG_WARN;
    if (!strcmp(s, "debug")) return GT_LOG_DEBUG;
    if (!strcmp(s, "info")) return GT_LOG_INFO;
    if (!strcmp(s, "error")) return GT_LOG_ERROR;
    if (!strcmp(s, "off")) return GT_LOG_OFF;
    return GT_LOG_WARN;
}

void gt_log_set_level(int level) { atomic_store_explicit(&current_level, level, memory_order_relaxed); }

int gt_log_level(void) {
    int level = atomic_load_explicit(&current_level, memory_order_relaxed);
    if (level < 0) { /* every thread that gets here reads the same GOTONG_LOG */
        level = level_from_env();
        int unset = -1;
        if (!atomic_compare_exchange_strong(&current_level, &unset, level)) level = unset;
    }
    return level;
}

void gt_log_set_format(int format) {
    atomic_store_explicit(&current_format, format == GT_LOG_JSON ? GT_LOG_JSON : GT_LOG_TEXT, memory_order_relaxed);
}

int gt_log_format(void) { return atomic_load_explicit(&current_format, memory_order_relaxed); }

/* UTC wall-clock time with milliseconds, RFC 3339 ("2026-01-02T03:04:05.678Z"). */
static void log_time(char out[32]) {
    struct timeval tv;
    struct tm tm;
    gettimeofday(&tv, NULL);
    gmtime_r(&tv.tv_sec, &tm);
    size_t n = strftime(out, 32, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out + n, 32 - n, ".%03dZ", (int)(tv.tv_usec / 1000));
}

void gt_log_json(int level, json_t *fields) {
    if (level < gt_log_level() || !fields) {
        json_decref(fields);
        return;
    }
    char ts[32];
    log_time(ts);
    json_t *line = json_pack("{s:s,s:s}", "ts", ts, "level", level_names[level < 0 || level > 3 ? 3 : level]);
    if (line) json_object_update(line, fields);
    json_decref(fields);
    char *s = line ? json_dumps(line, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(line);
    /* One write per line, so lines from threads never interleave. */
    if (s) fprintf(stderr, "%s\n", s);
    free(s);
}

void gt_log(int level, const char *fmt, ...) {
    if (level < gt_log_level()) return;
    char line[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (gt_log_format() == GT_LOG_JSON) {
        json_t *m = json_string(line);
        gt_log_json(level, json_pack("{s:o}", "msg", m ? m : json_string("(message not valid UTF-8)")));
        return;
    }
    /* One line per call: a control byte from outside (a URL's %0a, a remote server's answer quoted in an
     * error) must not end this line and start a forged one, nor drive the terminal (ESC). */
    for (char *p = line; *p; p++)
        if (((unsigned char)*p < 0x20 && *p != '\t') || *p == 0x7f) *p = '?';
    assert(!strpbrk(line, "\r\n"));
    fprintf(stderr, "[%s] %s\n", level_names[level < 0 || level > 3 ? 3 : level], line);
}
