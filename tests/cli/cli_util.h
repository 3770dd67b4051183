/* cli_util.h: running the `gotong` binary from a test: a temp directory with
 * a home and a password file, and one call that runs a command line with
 * --home set, no terminal (a password prompt fails instead of waiting), and
 * its stdout/stderr captured. */
#ifndef GT_TESTS_CLI_UTIL_H
#define GT_TESTS_CLI_UTIL_H

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/alloc.h"
#include "base/file.h"

static char cli_tmp[64];
static char cli_home[256], cli_pwfile[300], cli_out_path[300], cli_err_path[300];
static char *out_s, *err_s; /* the last command's stdout / stderr */

/* Makes the temp directory (name from prefix) with a password file "secret". */
static inline int cli_setup(const char *prefix) {
    snprintf(cli_tmp, sizeof cli_tmp, "/tmp/%s-XXXXXX", prefix);
    if (!mkdtemp(cli_tmp)) return -1;
    snprintf(cli_home, sizeof cli_home, "%s/home", cli_tmp);
    snprintf(cli_pwfile, sizeof cli_pwfile, "%s/pw", cli_tmp);
    snprintf(cli_out_path, sizeof cli_out_path, "%s/out", cli_tmp);
    snprintf(cli_err_path, sizeof cli_err_path, "%s/err", cli_tmp);
    return gt_file_write_atomic(cli_pwfile, "secret\n", 7, 0600, NULL);
}

/* Runs `gotong --home HOME ARGS` (the global option before the command,
 * so that one of ARGS's own, or a "--" in ARGS, means what it says);
 * returns its exit code. */
static inline int gotong(const char *args) {
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "setsid -w %s --home %s %s >%s 2>%s </dev/null", GT_CLI, cli_home, args,
             cli_out_path, cli_err_path);
    int st = system(cmd);
    gt_free(out_s);
    gt_free(err_s);
    size_t n;
    if (gt_file_read(cli_out_path, 1 << 22, (uint8_t **)&out_s, &n, NULL)) out_s = gt_strdup("");
    if (gt_file_read(cli_err_path, 1 << 22, (uint8_t **)&err_s, &n, NULL)) err_s = gt_strdup("");
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* Runs `gotong ARGS --node URL --password-file PW` (the password file of
 * cli_setup), ARGS from fmt and ap; returns its exit code. */
static inline int cli_at_node_v(const char *url, const char *fmt, va_list ap) {
    char args[2048], line[3000];
    vsnprintf(args, sizeof args, fmt, ap);
    snprintf(line, sizeof line, "%s --node %s --password-file %s", args, url, cli_pwfile);
    return gotong(line);
}

/* The same with ARGS from fmt and what follows it. */
static inline int cli_at_node(const char *url, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static inline int cli_at_node(const char *url, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int rc = cli_at_node_v(url, fmt, ap);
    va_end(ap);
    return rc;
}

/* The string after `"key":"` in the last stdout, into out ("" when absent). */
static inline void cli_field(const char *key, char *out, size_t cap) {
    char pat[64];
    snprintf(pat, sizeof pat, "\"%s\":\"", key);
    const char *p = strstr(out_s, pat);
    out[0] = 0;
    if (p) snprintf(out, cap, "%.*s", (int)strcspn(p + strlen(pat), "\""), p + strlen(pat));
}

/* Slot 0's state of task on the node at url (`task show --json`) into out;
 * "" when the task cannot be read, "?" when the answer has no state. */
static inline void cli_slot0_state(const char *url, const char *task, char *out, size_t cap) {
    out[0] = 0;
    if (cli_at_node(url, "task show %s --json", task)) return;
    json_t *j = json_loads(out_s, 0, NULL);
    const char *s = json_string_value(json_object_get(json_array_get(json_object_get(j, "slotList"), 0), "state"));
    snprintf(out, cap, "%s", s ? s : "?");
    json_decref(j);
}

/* Removes the temp directory and the captured output. */
static inline int cli_cleanup(void) {
    gt_free(out_s);
    gt_free(err_s);
    out_s = err_s = NULL;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", cli_tmp);
    return system(cmd) == 0 ? 0 : -1;
}

#endif
