/* log.h: leveled logging to stderr. GOTONG_LOG=debug|info|warn|error sets the
 * level. Two formats: text ("[info] message"), or JSON, one object a line
 * ({"ts":"2026-...Z","level":"info","msg":"..."}), for log collectors; lines
 * with fields of their own (the node's access log) go through gt_log_json. */
#ifndef GT_BASE_LOG_H
#define GT_BASE_LOG_H

#include <jansson.h>

enum { GT_LOG_DEBUG = 0, GT_LOG_INFO = 1, GT_LOG_WARN = 2, GT_LOG_ERROR = 3, GT_LOG_OFF = 4 };
enum { GT_LOG_TEXT = 0, GT_LOG_JSON = 1 };

void gt_log_set_level(int level);
int gt_log_level(void);
/* GT_LOG_TEXT (the default) or GT_LOG_JSON, for every line from then on. */
void gt_log_set_format(int format);
int gt_log_format(void);
void gt_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Writes fields (stolen reference) as one JSON line, after "ts" and "level",
 * whatever the format (a caller with fields checks gt_log_format first). */
void gt_log_json(int level, json_t *fields);

#define GT_DEBUG(...) gt_log(GT_LOG_DEBUG, __VA_ARGS__)
#define GT_INFO(...) gt_log(GT_LOG_INFO, __VA_ARGS__)
#define GT_WARN(...) gt_log(GT_LOG_WARN, __VA_ARGS__)
#define GT_ERROR(...) gt_log(GT_LOG_ERROR, __VA_ARGS__)

#endif
