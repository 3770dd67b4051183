/* gguf.h: reading and writing GGUF v2/v3 files (the format llama.cpp uses).
 *
 * A gt_gguf is a parsed view over a file mapped read-only (or over a caller's
 * buffer): metadata key/values and tensor descriptors. Every offset, count,
 * type and size is checked against the data's length and the limits below
 * before use, so a truncated or malformed file gives a clear error, never a
 * crash. Tensor data pointers point into the mapping; they stay valid until
 * gt_gguf_close. */
#ifndef GT_INFER_GGUF_H
#define GT_INFER_GGUF_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

/* Limits on what a file may declare (checked before any allocation). */
#define GT_GGUF_MAX_TENSORS 65536
#define GT_GGUF_MAX_KV 65536
#define GT_GGUF_MAX_STRING (1u << 24)     /* 16 MiB: the longest chat templates are ~10 KiB */
#define GT_GGUF_MAX_ARRAY (1u << 24)      /* vocabularies are ~150k-260k entries */
#define GT_GGUF_MAX_DIMS 4
#define GT_GGUF_DEFAULT_ALIGNMENT 32
#define GT_GGUF_MAX_NAME 256            /* keys and tensor names (ggml's own limit is 64) */
#define GT_GGUF_MAX_ALIGNMENT 65536     /* general.alignment: a power of two up to this */

/* ggml tensor types, numbered as in GGUF. */
typedef enum gt_ggml_type {
    GT_TYPE_F32 = 0,
    GT_TYPE_F16 = 1,
    GT_TYPE_Q4_0 = 2,
    GT_TYPE_Q4_1 = 3,
    GT_TYPE_Q5_0 = 6,
    GT_TYPE_Q5_1 = 7,
    GT_TYPE_Q8_0 = 8,
    GT_TYPE_Q8_1 = 9,
    GT_TYPE_Q2_K = 10,
    GT_TYPE_Q3_K = 11,
    GT_TYPE_Q4_K = 12,
    GT_TYPE_Q5_K = 13,
    GT_TYPE_Q6_K = 14,
    GT_TYPE_Q8_K = 15,
    GT_TYPE_IQ4_NL = 20,
    GT_TYPE_IQ4_XS = 23,
    GT_TYPE_I8 = 24,
    GT_TYPE_I16 = 25,
    GT_TYPE_I32 = 26,
    GT_TYPE_I64 = 27,
    GT_TYPE_F64 = 28,
    GT_TYPE_BF16 = 30,
    GT_TYPE_COUNT = 40,
} gt_ggml_type;

/* Name of a type ("q8_0"), or "type N" for unknown ones (static storage). */
const char *gt_ggml_type_name(uint32_t type);
/* Elements per block and bytes per block of a type; 0 when unknown. */
uint32_t gt_ggml_block_elems(uint32_t type);
uint32_t gt_ggml_block_bytes(uint32_t type);
/* Bytes for a row of n elements (n must be a multiple of the block size). */
size_t gt_ggml_row_bytes(uint32_t type, uint64_t n);

/* Metadata value types, numbered as in GGUF. */
typedef enum gt_gguf_vtype {
    GT_GGUF_U8 = 0, GT_GGUF_I8 = 1, GT_GGUF_U16 = 2, GT_GGUF_I16 = 3,
    GT_GGUF_U32 = 4, GT_GGUF_I32 = 5, GT_GGUF_F32 = 6, GT_GGUF_BOOL = 7,
    GT_GGUF_STRING = 8, GT_GGUF_ARRAY = 9, GT_GGUF_U64 = 10, GT_GGUF_I64 = 11,
    GT_GGUF_F64 = 12,
} gt_gguf_vtype;

/* A string inside the file: not NUL-terminated. */
typedef struct gt_gguf_str {
    const char *ptr;
    uint64_t len;
} gt_gguf_str;

typedef struct gt_gguf_kv {
    gt_gguf_str key;
    uint32_t type;         /* gt_gguf_vtype */
    uint32_t arr_type;     /* element type when type == ARRAY */
    uint64_t arr_len;      /* element count when type == ARRAY */
    const uint8_t *data;   /* scalar value, or first array element, in the file */
    union { uint64_t u; int64_t i; double f; } num; /* scalars, widened */
    gt_gguf_str str;       /* when type == STRING */
    /* For arrays of strings: offsets of each element are computed on demand by
     * gt_gguf_arr_str; the reader has already checked they fit. */
    const uint64_t *str_offsets; /* owned by the gt_gguf; NULL unless array of strings */
} gt_gguf_kv;

typedef struct gt_gguf_tensor {
    gt_gguf_str name;
    uint32_t n_dims;
    uint64_t ne[GT_GGUF_MAX_DIMS]; /* ne[0] is the row length (fastest-varying) */
    uint32_t type;                 /* gt_ggml_type */
    uint64_t offset;               /* from the start of the data section */
    uint64_t nbytes;
    const void *data;              /* into the mapping */
} gt_gguf_tensor;

typedef struct gt_gguf {
    uint32_t version;
    uint64_t n_kv, n_tensors;
    gt_gguf_kv *kv;
    gt_gguf_tensor *tensors;
    uint32_t alignment;
    const uint8_t *base; /* whole file */
    size_t size;
    size_t data_offset;  /* start of tensor data */
    int mapped;          /* 1 when base is our mmap */
    int fd;              /* the file, kept open while mapped (gt_gguf_read); -1 otherwise */
} gt_gguf;

/* Maps and parses a file. Caller frees with gt_gguf_close. */
int gt_gguf_open(const char *path, gt_gguf **out, gt_err *err);
/* Parses a caller-owned buffer (kept by reference; fuzzing, tests). */
int gt_gguf_parse(const void *data, size_t size, gt_gguf **out, gt_err *err);
void gt_gguf_close(gt_gguf *g); /* accepts NULL */
/* Tells the kernel that the mapped pages wholly inside [p, p + n) are not
 * needed resident now (a tensor copied elsewhere): they leave this
 * process's memory, and a later read maps them again from the file, with
 * the same bytes (the mapping is private and never written). Does nothing
 * for a caller's buffer or a range outside the mapping. */
void gt_gguf_drop(const gt_gguf *g, const void *p, size_t n);
/* Copies the n bytes at p (inside the file's bytes, g->base) into dst. A
 * mapped file is read with pread, so the mapping's pages stay out of this
 * process's memory (a page fault on a file held in large folios maps up to
 * 2 MiB at once); a caller's buffer, or a failed read, is copied from
 * memory: the same bytes either way. */
void gt_gguf_read(const gt_gguf *g, const void *p, size_t n, void *dst);

/* Lookups; NULL / -1 when absent. Key comparison is exact. */
const gt_gguf_kv *gt_gguf_find(const gt_gguf *g, const char *key);
const gt_gguf_tensor *gt_gguf_find_tensor(const gt_gguf *g, const char *name);
/* Bytes of one scalar metadata value (or array element) of GGUF type t; 0 for
 * strings, arrays and unknown types. */
size_t gt_gguf_value_bytes(uint32_t t);

/* Typed getters: 0 on success; GT_ENOTFOUND when absent; GT_EINVAL with a
 * message when the key holds another type. Integers of any width convert when
 * the value fits. */
int gt_gguf_get_u32(const gt_gguf *g, const char *key, uint32_t *out, gt_err *err);
int gt_gguf_get_f32(const gt_gguf *g, const char *key, float *out, gt_err *err);
int gt_gguf_get_bool(const gt_gguf *g, const char *key, int *out, gt_err *err);
int gt_gguf_get_str(const gt_gguf *g, const char *key, gt_gguf_str *out, gt_err *err);
/* Element i of an array of strings (bounds-checked by the caller against arr_len). */
gt_gguf_str gt_gguf_arr_str(const gt_gguf_kv *kv, uint64_t i);
/* Name of a metadata value type ("u32", "string"), for messages. */
const char *gt_gguf_vtype_name(uint32_t vtype);

/* Writer: builds a GGUF v3 file (used by `gotong model random` and tests).
 * Setting a key that is already set replaces its value. The set/add calls
 * return 0 or a GT_E* code; a failed call also makes the final write fail,
 * so callers may check only that. */
typedef struct gt_gguf_writer gt_gguf_writer;
gt_gguf_writer *gt_gguf_writer_new(void);
void gt_gguf_writer_free(gt_gguf_writer *w);
int gt_gguf_writer_set_u32(gt_gguf_writer *w, const char *key, uint32_t v);
int gt_gguf_writer_set_i32(gt_gguf_writer *w, const char *key, int32_t v);
int gt_gguf_writer_set_f32(gt_gguf_writer *w, const char *key, float v);
int gt_gguf_writer_set_bool(gt_gguf_writer *w, const char *key, int v);
int gt_gguf_writer_set_str(gt_gguf_writer *w, const char *key, const char *v);
/* Arrays: n scalars of type arr_type (a gt_gguf_vtype other than STRING and
 * ARRAY) from data, or n NUL-terminated strings. */
int gt_gguf_writer_set_arr(gt_gguf_writer *w, const char *key, uint32_t arr_type,
                           const void *data, size_t n);
int gt_gguf_writer_set_arr_str(gt_gguf_writer *w, const char *key, const char *const *v,
                               size_t n);
/* Copies a key/value (any type, arrays included) from an open file. */
int gt_gguf_writer_copy_kv(gt_gguf_writer *w, const gt_gguf_kv *kv);
/* Adds a tensor; data (nbytes = gt_ggml_row_bytes(type, ne0) * rows) is copied. */
int gt_gguf_writer_add_tensor(gt_gguf_writer *w, const char *name, uint32_t n_dims,
                              const uint64_t *ne, uint32_t type, const void *data,
                              size_t nbytes);
/* Adds a tensor whose bytes are produced at write time by fill(ctx, dst,
 * nbytes, err) (returns 0 or a GT_E* code): large random models are written
 * without holding every tensor in memory. ctx must live until the write. */
typedef int (*gt_gguf_fill_fn)(void *ctx, void *dst, size_t nbytes, gt_err *err);
int gt_gguf_writer_add_tensor_fill(gt_gguf_writer *w, const char *name, uint32_t n_dims,
                                   const uint64_t *ne, uint32_t type, gt_gguf_fill_fn fill,
                                   void *ctx);
/* Writes the file (to a temporary name, then renamed into place, so a failed
 * write never leaves a half file at path). */
int gt_gguf_writer_write(gt_gguf_writer *w, const char *path, gt_err *err);
/* Writes the file into a buffer instead (tests, fuzz corpus); caller frees
 * *out with gt_free. */
int gt_gguf_writer_to_mem(gt_gguf_writer *w, uint8_t **out, size_t *len, gt_err *err);

#endif
