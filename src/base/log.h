/* log.h: leveled logging to stderr. GOTONG_LOG=debug|info|warn|error sets the level. */
#ifndef GT_BASE_LOG_H
#define GT_BASE_LOG_H

enum { GT_LOG_DEBUG = 0, GT_LOG_INFO = 1, GT_LOG_WARN = 2, GT_LOG_ERROR = 3, GT_LOG_OFF = 4 };

void gt_log_set_level(int level);
int gt_log_level(void);
void gt_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define GT_DEBUG(...) gt_log(GT_LOG_DEBUG, __VA_ARGS__)
#define GT_INFO(...) gt_log(GT_LOG_INFO, __VA_ARGS__)
#define GT_WARN(...) gt_log(GT_LOG_WARN, __VA_ARGS__)
#define GT_ERROR(...) gt_log(GT_LOG_ERROR, __VA_ARGS__)

#endif
