/* cli_out.c: the checks of a command's files before any work: its output
 * path (a model, a vocabulary), so that a long run is not lost to a missing
 * directory at the end and an input is never replaced by the output written
 * over it; and its input text, which must be UTF-8. */
#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "infer/unicode.h"

/* The directory a path's file is in: "." for a bare name, "/" for a file in
 * the root. out has cap bytes; 0, or -1 when the path does not fit. */
static int parent_dir(const char *path, char *out, size_t cap) {
    assert(cap > 1);
    const char *slash = strrchr(path, '/');
    if (!slash) return snprintf(out, cap, ".") < 0 ? -1 : 0;
    size_t n = slash == path ? 1 : (size_t)(slash - path); /* "/x" is in "/" */
    if (n >= cap) return -1;
    memcpy(out, path, n);
    out[n] = '\0';
    return 0;
}

/* 1 when out and in name the same existing file (the same device and inode:
 * "./m.gguf", "m.gguf" and a hard link are one file). */
static int same_file(const char *out, const char *in) {
    struct stat so, si;
    return !stat(out, &so) && !stat(in, &si) && so.st_dev == si.st_dev && so.st_ino == si.st_ino;
}

int gt_cli_check_out(const char *cmd, const char *opt, const char *out, const gt_cli_input *in, size_t n_in) {
    assert(cmd && opt && out && (in || !n_in));
    char dir[4096];
    struct stat st;
    if (!*out) return gt_cli_usage_error(cmd, "%s is empty: expected a file path", opt);
    if (!stat(out, &st) && S_ISDIR(st.st_mode))
        return gt_cli_usage_error(cmd, "%s %s is a directory: expected a file path", opt, out);
    if (parent_dir(out, dir, sizeof dir)) return gt_cli_usage_error(cmd, "%s: path too long", opt);
    if (stat(dir, &st) || !S_ISDIR(st.st_mode))
        return gt_cli_usage_error(cmd, "%s %s: directory %s does not exist: expected a file in an existing "
                                  "directory", opt, out, dir);
    if (access(dir, W_OK | X_OK))
        return gt_cli_usage_error(cmd, "%s %s: cannot write in directory %s: %s", opt, out, dir, strerror(errno));
    for (size_t i = 0; i < n_in; i++)
        if (in[i].path && same_file(out, in[i].path))
            return gt_cli_usage_error(cmd, "%s %s is the same file as %s %s: expected another path (the output "
                                      "would replace the input)", opt, out, in[i].opt, in[i].path);
    return 0;
}

int gt_cli_check_text(const char *what, const uint8_t *text, size_t len, gt_err *err) {
    const uint8_t *nul = len ? memchr(text, 0, len) : NULL;
    if (nul)
        return gt_err_set(err, GT_EINVAL, "%s holds a NUL byte at offset %zu: expected text", what,
                          (size_t)(nul - text));
    size_t bad = gt_utf8_first_invalid(text, len);
    if (bad == len) return 0;
    size_t line = 1;
    for (size_t i = 0; i < bad; i++) line += text[i] == '\n';
    return gt_err_set(err, GT_EINVAL, "%s: byte 0x%02x at offset %zu (line %zu) is not UTF-8: expected UTF-8 text "
                      "(convert it, e.g. with iconv -t UTF-8)", what, text[bad], bad, line);
}
