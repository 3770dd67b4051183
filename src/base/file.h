/* file.h: whole-file reads with a size limit, durable atomic writes, mkdir -p. */
#ifndef GT_BASE_FILE_H
#define GT_BASE_FILE_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

/* Reads all of `path` (at most max_bytes) into a NUL-terminated buffer.
 * Caller frees *out with gt_free. */
int gt_file_read(const char *path, size_t max_bytes, uint8_t **out, size_t *len, gt_err *err);

/* Writes data to path atomically and durably: temp file, fsync, rename, fsync
 * of the directory. `mode` is the file's permission bits (e.g. 0600). */
int gt_file_write_atomic(const char *path, const void *data, size_t len, unsigned mode,
                         gt_err *err);

/* Creates a directory and its parents with `mode`; existing ones are fine. */
int gt_mkdir_p(const char *path, unsigned mode, gt_err *err);

/* 1 if path exists, 0 if not. */
int gt_file_exists(const char *path);

/* Expands a leading "~/" with $HOME into out (size cap). */
int gt_path_expand(const char *path, char *out, size_t cap, gt_err *err);

/* Joins a and b with a "/" into out (size cap); GT_ELIMIT if too long. */
int gt_path_join(char *out, size_t cap, const char *a, const char *b);

#endif
