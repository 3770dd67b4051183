/* log.c: leveled logging (see log.h). */
#include "base/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int current_level = -1; /* -1: not yet read from GOTONG_LOG */

static int level_from_env(void) {
    const char *s = getenv("GOTONG_LOG");
    if (!s) return GT_LOG_WARN;
    if (!strcmp(s, "debug")) return GT_LOG_DEBUG;
    if (!strcmp(s, "info")) return GT_LOG_INFO;
    if (!strcmp(s, "error")) return GT_LOG_ERROR;
    if (!strcmp(s, "off")) return GT_LOG_OFF;
    return GT_LOG_WARN;
}

void gt_log_set_level(int level) { current_level = level; }

int gt_log_level(void) {
    if (current_level < 0) current_level = level_from_env();
    return current_level;
}

void gt_log(int level, const char *fmt, ...) {
    if (level < gt_log_level()) return;
    static const char *names[] = {"debug", "info", "warn", "error"};
    char line[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    fprintf(stderr, "[%s] %s\n", names[level < 0 || level > 3 ? 3 : level], line);
}
