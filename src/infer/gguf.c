/* gguf.c: the GGUF v2/v3 reader (parse and mmap) and the type table.
 *
 * Layout (little-endian): "GGUF", u32 version, u64 n_tensors, u64 n_kv, then
 * n_kv key/values (string key, u32 type, value), n_tensors tensor infos
 * (string name, u32 n_dims, u64 ne[n_dims], u32 type, u64 offset), padding to
 * the alignment (general.alignment, default 32), then the data section.
 * Strings are u64 length + bytes, arrays are u32 element type + u64 count +
 * elements.
 *
 * Everything read from the file goes through the cursor below, which checks
 * each read against the bytes left before touching them; counts are checked
 * against the header limits *and* against what the remaining bytes could
 * possibly hold before anything is allocated, so a 40-byte file cannot make
 * us allocate gigabytes. The writer lives in gguf_write.c. */
#include "infer/gguf.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/alloc.h"

/* ---- the type table ---------------------------------------------------- */

typedef struct type_info {
    const char *name;
    uint32_t block_elems, block_bytes;
} type_info;

/* Block sizes as ggml defines them (types retired from the format are left
 * empty, so they read as unknown). */
static const type_info type_table[GT_TYPE_COUNT] = {
    [GT_TYPE_F32] = {"f32", 1, 4},      [GT_TYPE_F16] = {"f16", 1, 2},
    [GT_TYPE_Q4_0] = {"q4_0", 32, 18},  [GT_TYPE_Q4_1] = {"q4_1", 32, 20},
    [GT_TYPE_Q5_0] = {"q5_0", 32, 22},  [GT_TYPE_Q5_1] = {"q5_1", 32, 24},
    [GT_TYPE_Q8_0] = {"q8_0", 32, 34},  [GT_TYPE_Q8_1] = {"q8_1", 32, 36},
    [GT_TYPE_Q2_K] = {"q2_K", 256, 84}, [GT_TYPE_Q3_K] = {"q3_K", 256, 110},
    [GT_TYPE_Q4_K] = {"q4_K", 256, 144}, [GT_TYPE_Q5_K] = {"q5_K", 256, 176},
    [GT_TYPE_Q6_K] = {"q6_K", 256, 210}, [GT_TYPE_Q8_K] = {"q8_K", 256, 292},
    [16] = {"iq2_xxs", 256, 66},        [17] = {"iq2_xs", 256, 74},
    [18] = {"iq3_xxs", 256, 98},        [19] = {"iq1_s", 256, 50},
    [20] = {"iq4_nl", 32, 18},          [21] = {"iq3_s", 256, 110},
    [22] = {"iq2_s", 256, 82},          [23] = {"iq4_xs", 256, 136},
    [GT_TYPE_I8] = {"i8", 1, 1},        [GT_TYPE_I16] = {"i16", 1, 2},
    [GT_TYPE_I32] = {"i32", 1, 4},      [GT_TYPE_I64] = {"i64", 1, 8},
    [GT_TYPE_F64] = {"f64", 1, 8},      [29] = {"iq1_m", 256, 56},
    [GT_TYPE_BF16] = {"bf16", 1, 2},    [34] = {"tq1_0", 256, 54},
    [35] = {"tq2_0", 256, 66},          [39] = {"mxfp4", 32, 17},
};

/* Returns the type's name, or "type N" (in a small rotating static buffer, so
 * a message can name two unknown types) when it is not one we know. */
const char *gt_ggml_type_name(uint32_t type) {
    static _Thread_local char unknown[4][24];
    static _Thread_local int next;
    if (type < GT_TYPE_COUNT && type_table[type].name) return type_table[type].name;
    char *s = unknown[next++ & 3];
    snprintf(s, sizeof unknown[0], "type %" PRIu32, type);
    return s;
}

/* Elements per block; 0 for unknown types. */
uint32_t gt_ggml_block_elems(uint32_t type) {
    return type < GT_TYPE_COUNT ? type_table[type].block_elems : 0;
}

/* Bytes per block; 0 for unknown types. */
uint32_t gt_ggml_block_bytes(uint32_t type) {
    return type < GT_TYPE_COUNT ? type_table[type].block_bytes : 0;
}

/* Bytes for n elements of a known type; asserts n is whole blocks (callers
 * that hold outside input check that first, as the parser does). */
size_t gt_ggml_row_bytes(uint32_t type, uint64_t n) {
    uint32_t be = gt_ggml_block_elems(type);
    assert(be != 0 && n % be == 0);
    return (size_t)(n / be) * gt_ggml_block_bytes(type);
}

/* ---- the cursor -------------------------------------------------------- */

typedef struct cursor {
    const uint8_t *p;
    size_t size, off;
    gt_err *err;
} cursor;

/* Fails with a message naming what was being read and where the file ended. */
static int truncated(cursor *c, size_t need, const char *what) {
    return gt_err_set(c->err, GT_EINVAL,
                      "GGUF truncated: %s needs %zu bytes at offset %zu but the file is %zu bytes",
                      what, need, c->off, c->size);
}

static int need(cursor *c, size_t n, const char *what) {
    if (c->size - c->off < n) return truncated(c, n, what);
    return 0;
}

static int rd_u32(cursor *c, uint32_t *v, const char *what) {
    if (need(c, 4, what)) return GT_EINVAL;
    memcpy(v, c->p + c->off, 4);
    c->off += 4;
    return 0;
}

static int rd_u64(cursor *c, uint64_t *v, const char *what) {
    if (need(c, 8, what)) return GT_EINVAL;
    memcpy(v, c->p + c->off, 8);
    c->off += 8;
    return 0;
}

/* Reads a string (u64 length + bytes) of at most max_len bytes; the result
 * points into the data. */
static int rd_str(cursor *c, gt_gguf_str *s, uint64_t max_len, const char *what) {
    uint64_t len;
    if (rd_u64(c, &len, what)) return GT_EINVAL;
    if (len > max_len)
        return gt_err_set(c->err, GT_ELIMIT, "GGUF %s is %" PRIu64 " bytes long; at most %" PRIu64
                          " accepted", what, len, max_len);
    if (need(c, (size_t)len, what)) return GT_EINVAL;
    s->ptr = (const char *)c->p + c->off;
    s->len = len;
    c->off += (size_t)len;
    return 0;
}

/* See gguf.h: what a value of each scalar type takes in the file. */
size_t gt_gguf_value_bytes(uint32_t t) {
    switch (t) {
    case GT_GGUF_U8: case GT_GGUF_I8: case GT_GGUF_BOOL: return 1;
    case GT_GGUF_U16: case GT_GGUF_I16: return 2;
    case GT_GGUF_U32: case GT_GGUF_I32: case GT_GGUF_F32: return 4;
    case GT_GGUF_U64: case GT_GGUF_I64: case GT_GGUF_F64: return 8;
    default: return 0;
    }
}

/* Widens the scalar at p (of type t) into kv->num. */
static void widen(gt_gguf_kv *kv, uint32_t t, const uint8_t *p) {
    uint8_t u8; int8_t i8; uint16_t u16; int16_t i16; uint32_t u32; int32_t i32;
    float f32; double f64;
    switch (t) {
    case GT_GGUF_U8: case GT_GGUF_BOOL: memcpy(&u8, p, 1); kv->num.u = u8; break;
    case GT_GGUF_I8: memcpy(&i8, p, 1); kv->num.i = i8; break;
    case GT_GGUF_U16: memcpy(&u16, p, 2); kv->num.u = u16; break;
    case GT_GGUF_I16: memcpy(&i16, p, 2); kv->num.i = i16; break;
    case GT_GGUF_U32: memcpy(&u32, p, 4); kv->num.u = u32; break;
    case GT_GGUF_I32: memcpy(&i32, p, 4); kv->num.i = i32; break;
    case GT_GGUF_F32: memcpy(&f32, p, 4); kv->num.f = f32; break;
    case GT_GGUF_U64: memcpy(&kv->num.u, p, 8); break;
    case GT_GGUF_I64: memcpy(&kv->num.i, p, 8); break;
    case GT_GGUF_F64: memcpy(&f64, p, 8); kv->num.f = f64; break;
    default: assert(0);
    }
}

/* Reads one key/value (the i-th) into kv. Arrays of strings get their element
 * offsets (relative to kv->data) recorded, so lookups later are O(1). */
static int read_kv(cursor *c, uint64_t i, gt_gguf_kv *kv) {
    char what[64];
    int rc;
    snprintf(what, sizeof what, "key %" PRIu64, i);
    if ((rc = rd_str(c, &kv->key, GT_GGUF_MAX_NAME, what))) return rc;
    snprintf(what, sizeof what, "type of key %" PRIu64, i);
    if ((rc = rd_u32(c, &kv->type, what))) return rc;
    int kl = kv->key.len > 64 ? 64 : (int)kv->key.len;
    if (kv->type == GT_GGUF_STRING) {
        kv->data = c->p + c->off;
        if ((rc = rd_str(c, &kv->str, GT_GGUF_MAX_STRING, "string value"))) goto wrap;
        return 0;
    }
    if (kv->type != GT_GGUF_ARRAY) {
        size_t sz = gt_gguf_value_bytes(kv->type);
        if (!sz)
            return gt_err_set(c->err, GT_EINVAL,
                              "GGUF key \"%.*s\" has value type %" PRIu32 "; expected 0..12",
                              kl, kv->key.ptr, kv->type);
        if ((rc = need(c, sz, "scalar value"))) goto wrap;
        kv->data = c->p + c->off;
        widen(kv, kv->type, kv->data);
        c->off += sz;
        return 0;
    }
    if ((rc = rd_u32(c, &kv->arr_type, "array element type")) ||
        (rc = rd_u64(c, &kv->arr_len, "array length")))
        goto wrap;
    if (kv->arr_len > GT_GGUF_MAX_ARRAY)
        return gt_err_set(c->err, GT_ELIMIT,
                          "GGUF key \"%.*s\" is an array of %" PRIu64 " elements; at most %u accepted",
                          kl, kv->key.ptr, kv->arr_len, (unsigned)GT_GGUF_MAX_ARRAY);
    kv->data = c->p + c->off;
    if (kv->arr_type == GT_GGUF_STRING) {
        /* Each element is at least its 8-byte length: check the count fits
         * before allocating the offsets. */
        if (kv->arr_len > (c->size - c->off) / 8)
            return gt_err_set(c->err, GT_EINVAL,
                              "GGUF truncated: key \"%.*s\" declares %" PRIu64
                              " strings but only %zu bytes remain", kl, kv->key.ptr,
                              kv->arr_len, c->size - c->off);
        uint64_t *offs = gt_malloc((size_t)(kv->arr_len ? kv->arr_len : 1) * sizeof *offs);
        if (!offs) return gt_err_set(c->err, GT_ENOMEM, "out of memory reading GGUF arrays");
        kv->str_offsets = offs;
        size_t start = c->off;
        for (uint64_t j = 0; j < kv->arr_len; j++) {
            gt_gguf_str s;
            offs[j] = c->off - start;
            if ((rc = rd_str(c, &s, GT_GGUF_MAX_STRING, "array string"))) goto wrap;
        }
        return 0;
    }
    size_t esz = gt_gguf_value_bytes(kv->arr_type);
    if (!esz)
        return gt_err_set(c->err, GT_EUNSUPPORTED,
                          "GGUF key \"%.*s\" is an array of type %" PRIu32
                          "; expected scalars or strings (nested arrays are not supported)",
                          kl, kv->key.ptr, kv->arr_type);
    if (kv->arr_len > (c->size - c->off) / esz) {
        rc = gt_err_set(c->err, GT_EINVAL, "GGUF truncated: %" PRIu64 " elements of %zu bytes "
                        "at offset %zu but the file is %zu bytes", kv->arr_len, esz, c->off,
                        c->size);
        goto wrap;
    }
    c->off += (size_t)kv->arr_len * esz;
    return 0;
wrap:
    gt_err_wrap(c->err, "key \"%.*s\"", kl, kv->key.ptr);
    return rc;
}

/* Compares two GGUF strings for sorting (length first is fine: we only look
 * for duplicates). */
static int str_cmp(gt_gguf_str a, gt_gguf_str b) {
    if (a.len != b.len) return a.len < b.len ? -1 : 1;
    return memcmp(a.ptr, b.ptr, (size_t)a.len);
}

static int cmp_str_ptr(const void *a, const void *b) {
    return str_cmp(**(const gt_gguf_str *const *)a, **(const gt_gguf_str *const *)b);
}

/* Fails when two of the n strings (reached through ptrs) are equal; `what`
 * names them in the message ("key", "tensor"). */
static int check_unique(gt_gguf_str **ptrs, size_t n, const char *what, gt_err *err) {
    qsort(ptrs, n, sizeof *ptrs, cmp_str_ptr);
    for (size_t i = 1; i < n; i++)
        if (!str_cmp(*ptrs[i - 1], *ptrs[i])) {
            int l = ptrs[i]->len > 64 ? 64 : (int)ptrs[i]->len;
            return gt_err_set(err, GT_EINVAL, "GGUF has two %ss named \"%.*s\"", what, l,
                              ptrs[i]->ptr);
        }
    return 0;
}

/* Reads tensor info i and checks its shape and type. */
static int read_tensor(cursor *c, uint64_t i, gt_gguf_tensor *t) {
    char what[64];
    int rc;
    snprintf(what, sizeof what, "name of tensor %" PRIu64, i);
    if ((rc = rd_str(c, &t->name, GT_GGUF_MAX_NAME, what))) return rc;
    int nl = t->name.len > 64 ? 64 : (int)t->name.len;
    if ((rc = rd_u32(c, &t->n_dims, "tensor dimension count"))) goto wrap;
    if (t->n_dims < 1 || t->n_dims > GT_GGUF_MAX_DIMS)
        return gt_err_set(c->err, GT_EINVAL, "GGUF tensor \"%.*s\" has %" PRIu32
                          " dimensions; expected 1..%d", nl, t->name.ptr, t->n_dims,
                          GT_GGUF_MAX_DIMS);
    uint64_t nelem = 1;
    for (uint32_t d = 0; d < GT_GGUF_MAX_DIMS; d++) {
        t->ne[d] = 1;
        if (d < t->n_dims && (rc = rd_u64(c, &t->ne[d], "tensor dimension"))) goto wrap;
        /* ggml counts elements in int64: keep the product below 2^62. */
        if (t->ne[d] == 0 || t->ne[d] > (UINT64_C(1) << 62) / nelem)
            return gt_err_set(c->err, GT_EINVAL, "GGUF tensor \"%.*s\" dimension %u is %" PRIu64
                              "; expected 1 or more with fewer than 2^62 elements in all",
                              nl, t->name.ptr, d, t->ne[d]);
        nelem *= t->ne[d];
    }
    if ((rc = rd_u32(c, &t->type, "tensor type")) || (rc = rd_u64(c, &t->offset, "tensor offset")))
        goto wrap;
    uint32_t be = gt_ggml_block_elems(t->type);
    if (!be)
        return gt_err_set(c->err, GT_EUNSUPPORTED, "GGUF tensor \"%.*s\" has unknown type %s",
                          nl, t->name.ptr, gt_ggml_type_name(t->type));
    if (t->ne[0] % be)
        return gt_err_set(c->err, GT_EINVAL, "GGUF tensor \"%.*s\" has rows of %" PRIu64
                          " elements; type %s needs a multiple of %" PRIu32, nl, t->name.ptr,
                          t->ne[0], gt_ggml_type_name(t->type), be);
    /* bytes = blocks * block_bytes, blocks <= 2^62 / be, block_bytes <= 292:
     * can overflow 64 bits for 1-element blocks, so check. */
    uint64_t nbytes;
    if (__builtin_mul_overflow(nelem / be, (uint64_t)gt_ggml_block_bytes(t->type), &nbytes))
        return gt_err_set(c->err, GT_EINVAL, "GGUF tensor \"%.*s\" is too large", nl, t->name.ptr);
    t->nbytes = nbytes;
    return 0;
wrap:
    gt_err_wrap(c->err, "tensor \"%.*s\"", nl, t->name.ptr);
    return rc;
}

/* Frees everything parse allocated (not the mapping). */
static void free_parsed(gt_gguf *g) {
    if (g->kv)
        for (uint64_t i = 0; i < g->n_kv; i++) gt_free((void *)g->kv[i].str_offsets);
    gt_free(g->kv);
    gt_free(g->tensors);
}

/* Parses the data into g (whose base/size are set); on failure frees what it
 * allocated and leaves an error in err. */
static int parse(gt_gguf *g, gt_err *err) {
    cursor c = {g->base, g->size, 0, err};
    gt_gguf_str **names = NULL;
    int rc;
    if (g->size < 4 || memcmp(g->base, "GGUF", 4)) {
        if (g->size >= 4 && !memcmp(g->base, "FUGG", 4))
            return gt_err_set(err, GT_EUNSUPPORTED, "big-endian GGUF files are not supported");
        return gt_err_set(err, GT_EINVAL, "not a GGUF file (expected magic \"GGUF\" at offset 0)");
    }
    c.off = 4;
    if ((rc = rd_u32(&c, &g->version, "version"))) return rc;
    if (g->version == 1)
        return gt_err_set(err, GT_EUNSUPPORTED, "GGUF v1 is not supported (v2 or v3 expected)");
    if (g->version != 2 && g->version != 3) {
        if ((g->version & 0xffff) == 0 && (__builtin_bswap32(g->version) == 2 ||
                                           __builtin_bswap32(g->version) == 3))
            return gt_err_set(err, GT_EUNSUPPORTED, "big-endian GGUF files are not supported");
        return gt_err_set(err, GT_EUNSUPPORTED, "GGUF version %" PRIu32
                          " is not supported (v2 or v3 expected)", g->version);
    }
    if ((rc = rd_u64(&c, &g->n_tensors, "tensor count"))) return rc;
    if ((rc = rd_u64(&c, &g->n_kv, "key/value count"))) return rc;
    if (g->n_tensors > GT_GGUF_MAX_TENSORS)
        return gt_err_set(err, GT_ELIMIT, "GGUF declares %" PRIu64 " tensors; at most %d accepted",
                          g->n_tensors, GT_GGUF_MAX_TENSORS);
    if (g->n_kv > GT_GGUF_MAX_KV)
        return gt_err_set(err, GT_ELIMIT, "GGUF declares %" PRIu64 " keys; at most %d accepted",
                          g->n_kv, GT_GGUF_MAX_KV);
    /* A key/value takes at least 8 (key length) + 4 (type) + 1 bytes, a tensor
     * info at least 8 + 4 + 8 + 4 + 8: refuse counts the file cannot hold. */
    size_t left = g->size - c.off;
    if (g->n_kv > left / 13 || g->n_tensors > (left - g->n_kv * 13) / 32)
        return gt_err_set(err, GT_EINVAL, "GGUF truncated: %" PRIu64 " keys and %" PRIu64
                          " tensors cannot fit in the %zu bytes after the header",
                          g->n_kv, g->n_tensors, left);
    g->kv = gt_calloc((size_t)(g->n_kv ? g->n_kv : 1), sizeof *g->kv);
    g->tensors = gt_calloc((size_t)(g->n_tensors ? g->n_tensors : 1), sizeof *g->tensors);
    size_t n_names = (size_t)(g->n_kv > g->n_tensors ? g->n_kv : g->n_tensors);
    names = gt_malloc((n_names ? n_names : 1) * sizeof *names);
    if (!g->kv || !g->tensors || !names) {
        rc = gt_err_set(err, GT_ENOMEM, "out of memory reading GGUF header");
        goto fail;
    }
    for (uint64_t i = 0; i < g->n_kv; i++)
        if ((rc = read_kv(&c, i, &g->kv[i]))) goto fail;
    for (uint64_t i = 0; i < g->n_kv; i++) names[i] = &g->kv[i].key;
    if ((rc = check_unique(names, (size_t)g->n_kv, "key", err))) goto fail;

    g->alignment = GT_GGUF_DEFAULT_ALIGNMENT;
    const gt_gguf_kv *al = gt_gguf_find(g, "general.alignment");
    if (al) {
        if (al->type != GT_GGUF_U32 || al->num.u == 0 || (al->num.u & (al->num.u - 1)) ||
            al->num.u > GT_GGUF_MAX_ALIGNMENT) {
            rc = gt_err_set(err, GT_EINVAL, "GGUF general.alignment must be a u32 power of two "
                            "up to %d", GT_GGUF_MAX_ALIGNMENT);
            goto fail;
        }
        g->alignment = (uint32_t)al->num.u;
    }

    for (uint64_t i = 0; i < g->n_tensors; i++)
        if ((rc = read_tensor(&c, i, &g->tensors[i]))) goto fail;
    for (uint64_t i = 0; i < g->n_tensors; i++) names[i] = &g->tensors[i].name;
    if ((rc = check_unique(names, (size_t)g->n_tensors, "tensor", err))) goto fail;

    /* The data section starts at the next multiple of the alignment. Files
     * without tensors may end right after the header (vocabulary files do). */
    size_t a = g->alignment;
    size_t data_off = c.off + (a - c.off % a) % a;
    g->data_offset = data_off;
    for (uint64_t i = 0; i < g->n_tensors; i++) {
        gt_gguf_tensor *t = &g->tensors[i];
        int nl = t->name.len > 64 ? 64 : (int)t->name.len;
        if (t->offset % a) {
            rc = gt_err_set(err, GT_EINVAL, "GGUF tensor \"%.*s\" data offset %" PRIu64
                            " is not a multiple of the alignment %zu", nl, t->name.ptr,
                            t->offset, a);
            goto fail;
        }
        if (data_off > g->size || t->offset > g->size - data_off ||
            t->nbytes > g->size - data_off - t->offset) {
            rc = gt_err_set(err, GT_EINVAL, "GGUF tensor \"%.*s\" (%" PRIu64 " bytes at data "
                            "offset %" PRIu64 ") runs past the end of the %zu-byte file",
                            nl, t->name.ptr, t->nbytes, t->offset, g->size);
            goto fail;
        }
        t->data = g->base + data_off + t->offset;
    }
    gt_free(names);
    return 0;
fail:
    gt_free(names);
    free_parsed(g);
    g->kv = NULL;
    g->tensors = NULL;
    return rc;
}

int gt_gguf_parse(const void *data, size_t size, gt_gguf **out, gt_err *err) {
    *out = NULL;
    gt_gguf *g = gt_calloc(1, sizeof *g);
    if (!g) return gt_err_set(err, GT_ENOMEM, "out of memory");
    g->base = data;
    g->size = size;
    g->fd = -1;
    int rc = parse(g, err);
    if (rc) {
        gt_free(g);
        return rc;
    }
    *out = g;
    return 0;
}

int gt_gguf_open(const char *path, gt_gguf **out, gt_err *err) {
    *out = NULL;
    /* O_NONBLOCK: a FIFO named *.gguf (in a directory `model list` reads)
     * is refused below, not waited on for a writer forever; a regular
     * file's reads are not affected. */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0)
        return gt_err_set(err, errno == ENOENT ? GT_ENOTFOUND : GT_EIO, "cannot open %s: %s",
                          path, strerror(errno));
    struct stat st;
    int stat_ok = fstat(fd, &st) == 0;
    if (!stat_ok || !S_ISREG(st.st_mode)) {
        int dir = stat_ok && S_ISDIR(st.st_mode);
        close(fd);
        return gt_err_set(err, GT_EIO, "%s is not a regular file%s: expected a GGUF file", path,
                          dir ? " (a directory)" : "");
    }
    if (st.st_size < 24) {
        close(fd);
        return gt_err_set(err, GT_EINVAL, "%s is %lld bytes: too short for a GGUF header (24)",
                          path, (long long)st.st_size);
    }
    size_t size = (size_t)st.st_size;
    void *map = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (map == MAP_FAILED) {
        int e = errno;
        close(fd);
        return gt_err_set(err, GT_EIO, "cannot map %s: %s", path, strerror(e));
    }
    gt_gguf *g = gt_calloc(1, sizeof *g);
    if (!g) {
        munmap(map, size);
        close(fd);
        return gt_err_set(err, GT_ENOMEM, "out of memory");
    }
    g->base = map;
    g->size = size;
    g->mapped = 1;
    g->fd = fd;
    int rc = parse(g, err);
    if (rc) {
        munmap(map, size);
        close(fd);
        gt_free(g);
        return gt_err_wrap(err, "%s", path);
    }
    *out = g;
    return 0;
}

void gt_gguf_close(gt_gguf *g) {
    if (!g) return;
    free_parsed(g);
    if (g->mapped) munmap((void *)g->base, g->size);
    if (g->fd >= 0) close(g->fd);
    gt_free(g);
}

void gt_gguf_read(const gt_gguf *g, const void *p, size_t n, void *dst) {
    const uint8_t *b = p;
    assert(g && b >= g->base && n <= g->size && (size_t)(b - g->base) <= g->size - n);
    size_t got = 0;
    while (g->fd >= 0 && got < n) {
        ssize_t r = pread(g->fd, (uint8_t *)dst + got, n - got, (off_t)(b - g->base) + (off_t)got);
        if (r <= 0 && !(r < 0 && errno == EINTR)) break;
        if (r > 0) got += (size_t)r;
    }
    if (got < n) memcpy((uint8_t *)dst + got, b + got, n - got);
}

void gt_gguf_drop(const gt_gguf *g, const void *p, size_t n) {
    const uint8_t *b = p;
    if (!g || !g->mapped || b < g->base || n > g->size || (size_t)(b - g->base) > g->size - n) return;
    uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
    assert(page && (page & (page - 1)) == 0);
    uintptr_t lo = ((uintptr_t)b + page - 1) & ~(page - 1), hi = ((uintptr_t)b + n) & ~(page - 1);
    /* Advice only: a failure leaves the pages resident, which is harmless. */
    if (lo < hi) (void)madvise((void *)lo, hi - lo, MADV_DONTNEED);
}

/* ---- lookups ------------------------------------------------------------ */

/* Exact comparison of a file string with a C string. */
static int str_eq(gt_gguf_str s, const char *c) {
    size_t n = strlen(c);
    return s.len == n && !memcmp(s.ptr, c, n);
}

const gt_gguf_kv *gt_gguf_find(const gt_gguf *g, const char *key) {
    for (uint64_t i = 0; i < g->n_kv; i++)
        if (str_eq(g->kv[i].key, key)) return &g->kv[i];
    return NULL;
}

const gt_gguf_tensor *gt_gguf_find_tensor(const gt_gguf *g, const char *name) {
    for (uint64_t i = 0; i < g->n_tensors; i++)
        if (str_eq(g->tensors[i].name, name)) return &g->tensors[i];
    return NULL;
}

/* Name of a metadata value type, for messages. */
const char *gt_gguf_vtype_name(uint32_t t) {
    static const char *names[] = {"u8", "i8", "u16", "i16", "u32", "i32", "f32", "bool",
                                  "string", "array", "u64", "i64", "f64"};
    return t < sizeof names / sizeof names[0] ? names[t] : "unknown";
}

static int is_unsigned(uint32_t t) {
    return t == GT_GGUF_U8 || t == GT_GGUF_U16 || t == GT_GGUF_U32 || t == GT_GGUF_U64;
}
static int is_signed(uint32_t t) {
    return t == GT_GGUF_I8 || t == GT_GGUF_I16 || t == GT_GGUF_I32 || t == GT_GGUF_I64;
}

int gt_gguf_get_u32(const gt_gguf *g, const char *key, uint32_t *out, gt_err *err) {
    const gt_gguf_kv *kv = gt_gguf_find(g, key);
    if (!kv) return gt_err_set(err, GT_ENOTFOUND, "GGUF key %s is missing", key);
    if (is_unsigned(kv->type) && kv->num.u <= UINT32_MAX) {
        *out = (uint32_t)kv->num.u;
        return 0;
    }
    if (is_signed(kv->type) && kv->num.i >= 0 && kv->num.i <= (int64_t)UINT32_MAX) {
        *out = (uint32_t)kv->num.i;
        return 0;
    }
    if (is_unsigned(kv->type) || is_signed(kv->type))
        return gt_err_set(err, GT_EINVAL, "GGUF key %s is out of range for a u32", key);
    return gt_err_set(err, GT_EINVAL, "GGUF key %s holds a %s; expected an integer", key,
                      gt_gguf_vtype_name(kv->type));
}

int gt_gguf_get_f32(const gt_gguf *g, const char *key, float *out, gt_err *err) {
    const gt_gguf_kv *kv = gt_gguf_find(g, key);
    if (!kv) return gt_err_set(err, GT_ENOTFOUND, "GGUF key %s is missing", key);
    if (kv->type == GT_GGUF_F32 || kv->type == GT_GGUF_F64) *out = (float)kv->num.f;
    else if (is_unsigned(kv->type)) *out = (float)kv->num.u;
    else if (is_signed(kv->type)) *out = (float)kv->num.i;
    else
        return gt_err_set(err, GT_EINVAL, "GGUF key %s holds a %s; expected a number", key,
                          gt_gguf_vtype_name(kv->type));
    return 0;
}

int gt_gguf_get_bool(const gt_gguf *g, const char *key, int *out, gt_err *err) {
    const gt_gguf_kv *kv = gt_gguf_find(g, key);
    if (!kv) return gt_err_set(err, GT_ENOTFOUND, "GGUF key %s is missing", key);
    if (kv->type != GT_GGUF_BOOL)
        return gt_err_set(err, GT_EINVAL, "GGUF key %s holds a %s; expected a bool", key,
                          gt_gguf_vtype_name(kv->type));
    *out = kv->num.u != 0;
    return 0;
}

int gt_gguf_get_str(const gt_gguf *g, const char *key, gt_gguf_str *out, gt_err *err) {
    const gt_gguf_kv *kv = gt_gguf_find(g, key);
    if (!kv) return gt_err_set(err, GT_ENOTFOUND, "GGUF key %s is missing", key);
    if (kv->type != GT_GGUF_STRING)
        return gt_err_set(err, GT_EINVAL, "GGUF key %s holds a %s; expected a string", key,
                          gt_gguf_vtype_name(kv->type));
    *out = kv->str;
    return 0;
}

gt_gguf_str gt_gguf_arr_str(const gt_gguf_kv *kv, uint64_t i) {
    assert(kv->type == GT_GGUF_ARRAY && kv->arr_type == GT_GGUF_STRING && i < kv->arr_len);
    const uint8_t *p = kv->data + kv->str_offsets[i];
    gt_gguf_str s;
    memcpy(&s.len, p, 8);
    s.ptr = (const char *)p + 8;
    return s;
}
