/* gguf_write.c: the GGUF v3 writer (gt_gguf_writer_*, declared in gguf.h).
 *
 * Keys and tensor descriptors are collected in memory, values already
 * serialised as they will appear in the file; tensor bytes are either copied
 * in or produced at write time by a fill callback, so `gotong model random`
 * can write a multi-gigabyte model holding one tensor at a time. The layout
 * is the one gguf.c reads: header, key/values, tensor infos, padding to the
 * alignment, then each tensor's data padded to the alignment. */
#include <assert.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/alloc.h"
#include "base/buf.h"
#include "infer/gguf.h"

typedef struct wkv {
    char *key;
    uint32_t type;
    uint8_t *val; /* serialised value (what follows the type in the file) */
    size_t len;
} wkv;

typedef struct wtensor {
    char *name;
    uint32_t n_dims, type;
    uint64_t ne[GT_GGUF_MAX_DIMS];
    size_t nbytes;
    uint8_t *data;        /* owned copy, or NULL when fill is set */
    gt_gguf_fill_fn fill;
    void *fill_ctx;
} wtensor;

struct gt_gguf_writer {
    wkv *kv;
    size_t n_kv, cap_kv;
    wtensor *t;
    size_t n_t, cap_t;
    int failed; /* first error code of a set/add call, reported by the write */
};

/* Creates an empty writer. Caller frees with gt_gguf_writer_free. */
gt_gguf_writer *gt_gguf_writer_new(void) { return gt_calloc(1, sizeof(gt_gguf_writer)); }

void gt_gguf_writer_free(gt_gguf_writer *w) {
    if (!w) return;
    for (size_t i = 0; i < w->n_kv; i++) {
        gt_free(w->kv[i].key);
        gt_free(w->kv[i].val);
    }
    for (size_t i = 0; i < w->n_t; i++) {
        gt_free(w->t[i].name);
        gt_free(w->t[i].data);
    }
    gt_free(w->kv);
    gt_free(w->t);
    gt_free(w);
}

/* Remembers the first failure and returns it. */
static int fail(gt_gguf_writer *w, int code) {
    if (w && !w->failed) w->failed = code;
    return code;
}

/* Sets key to a serialised value (taking ownership of val), replacing any
 * earlier value. */
static int set_raw(gt_gguf_writer *w, const char *key, uint32_t type, uint8_t *val, size_t len) {
    if (!w) { /* gt_gguf_writer_new ran out of memory: the write reports it */
        gt_free(val);
        return GT_ENOMEM;
    }
    if (!val) return fail(w, GT_ENOMEM);
    if (strlen(key) > GT_GGUF_MAX_NAME) {
        gt_free(val);
        return fail(w, GT_ELIMIT);
    }
    for (size_t i = 0; i < w->n_kv; i++)
        if (!strcmp(w->kv[i].key, key)) {
            gt_free(w->kv[i].val);
            w->kv[i].type = type;
            w->kv[i].val = val;
            w->kv[i].len = len;
            return 0;
        }
    if (w->n_kv == w->cap_kv) {
        size_t cap = w->cap_kv ? 2 * w->cap_kv : 16;
        wkv *n = gt_realloc(w->kv, cap * sizeof *n);
        if (!n) {
            gt_free(val);
            return fail(w, GT_ENOMEM);
        }
        w->kv = n;
        w->cap_kv = cap;
    }
    char *k = gt_strdup(key);
    if (!k) {
        gt_free(val);
        return fail(w, GT_ENOMEM);
    }
    w->kv[w->n_kv++] = (wkv){k, type, val, len};
    return 0;
}

/* Copies n bytes into a new allocation (NULL when out of memory). */
static uint8_t *dup_bytes(const void *p, size_t n) {
    uint8_t *d = gt_malloc(n ? n : 1);
    if (d && n) memcpy(d, p, n);
    return d;
}

int gt_gguf_writer_set_u32(gt_gguf_writer *w, const char *key, uint32_t v) {
    return set_raw(w, key, GT_GGUF_U32, dup_bytes(&v, 4), 4);
}
int gt_gguf_writer_set_i32(gt_gguf_writer *w, const char *key, int32_t v) {
    return set_raw(w, key, GT_GGUF_I32, dup_bytes(&v, 4), 4);
}
int gt_gguf_writer_set_f32(gt_gguf_writer *w, const char *key, float v) {
    return set_raw(w, key, GT_GGUF_F32, dup_bytes(&v, 4), 4);
}
int gt_gguf_writer_set_bool(gt_gguf_writer *w, const char *key, int v) {
    uint8_t b = v != 0;
    return set_raw(w, key, GT_GGUF_BOOL, dup_bytes(&b, 1), 1);
}

int gt_gguf_writer_set_str(gt_gguf_writer *w, const char *key, const char *v) {
    uint64_t n = strlen(v);
    if (n > GT_GGUF_MAX_STRING) return fail(w, GT_ELIMIT);
    uint8_t *val = gt_malloc(8 + (size_t)n);
    if (val) {
        memcpy(val, &n, 8);
        memcpy(val + 8, v, (size_t)n);
    }
    return set_raw(w, key, GT_GGUF_STRING, val, 8 + (size_t)n);
}

int gt_gguf_writer_set_arr(gt_gguf_writer *w, const char *key, uint32_t arr_type,
                           const void *data, size_t n) {
    size_t es = gt_gguf_value_bytes(arr_type);
    if (!es || n > GT_GGUF_MAX_ARRAY) return fail(w, es ? GT_ELIMIT : GT_EINVAL);
    uint64_t n64 = n;
    uint8_t *val = gt_malloc(12 + n * es);
    if (val) {
        memcpy(val, &arr_type, 4);
        memcpy(val + 4, &n64, 8);
        if (n) memcpy(val + 12, data, n * es);
    }
    return set_raw(w, key, GT_GGUF_ARRAY, val, 12 + n * es);
}

int gt_gguf_writer_set_arr_str(gt_gguf_writer *w, const char *key, const char *const *v,
                               size_t n) {
    if (n > GT_GGUF_MAX_ARRAY) return fail(w, GT_ELIMIT);
    gt_buf b = GT_BUF_INIT;
    uint32_t t = GT_GGUF_STRING;
    uint64_t n64 = n;
    int rc = gt_buf_append(&b, &t, 4) || gt_buf_append(&b, &n64, 8);
    for (size_t i = 0; i < n && !rc; i++) {
        uint64_t l = strlen(v[i]);
        if (l > GT_GGUF_MAX_STRING) {
            gt_buf_free(&b);
            return fail(w, GT_ELIMIT);
        }
        rc = gt_buf_append(&b, &l, 8) || gt_buf_append(&b, v[i], (size_t)l);
    }
    if (rc) {
        gt_buf_free(&b);
        return fail(w, GT_ENOMEM);
    }
    size_t len;
    uint8_t *val = gt_buf_take(&b, &len);
    return set_raw(w, key, GT_GGUF_ARRAY, val, len);
}

/* The value bytes of a key/value read from a file are contiguous there: a
 * scalar, a string with its length, or an array's elements; copy them. */
int gt_gguf_writer_copy_kv(gt_gguf_writer *w, const gt_gguf_kv *kv) {
    char key[GT_GGUF_MAX_NAME + 1];
    if (kv->key.len > GT_GGUF_MAX_NAME) return fail(w, GT_ELIMIT);
    if (memchr(kv->key.ptr, 0, (size_t)kv->key.len)) return fail(w, GT_EINVAL); /* C-string keys */
    memcpy(key, kv->key.ptr, (size_t)kv->key.len);
    key[kv->key.len] = 0;
    size_t len;
    if (kv->type == GT_GGUF_STRING) {
        len = 8 + (size_t)kv->str.len;
    } else if (kv->type != GT_GGUF_ARRAY) {
        len = gt_gguf_value_bytes(kv->type);
        if (!len) return fail(w, GT_EINVAL);
    } else if (kv->arr_type == GT_GGUF_STRING) {
        len = 0;
        if (kv->arr_len) {
            gt_gguf_str last = gt_gguf_arr_str(kv, kv->arr_len - 1);
            len = (size_t)(last.ptr + last.len - (const char *)kv->data);
        }
    } else {
        size_t es = gt_gguf_value_bytes(kv->arr_type);
        if (!es) return fail(w, GT_EINVAL);
        len = (size_t)kv->arr_len * es;
    }
    if (kv->type != GT_GGUF_ARRAY)
        return set_raw(w, key, kv->type, dup_bytes(kv->data, len), len);
    uint8_t *val = gt_malloc(12 + len);
    if (val) {
        memcpy(val, &kv->arr_type, 4);
        memcpy(val + 4, &kv->arr_len, 8);
        if (len) memcpy(val + 12, kv->data, len);
    }
    return set_raw(w, key, GT_GGUF_ARRAY, val, 12 + len);
}

/* Checks a tensor's shape and type and appends its descriptor; *nbytes gets
 * its size. The data is attached by the caller. */
static wtensor *add_desc(gt_gguf_writer *w, const char *name, uint32_t n_dims,
                         const uint64_t *ne, uint32_t type) {
    if (!w) return NULL;
    uint32_t be = gt_ggml_block_elems(type);
    if (!be || n_dims < 1 || n_dims > GT_GGUF_MAX_DIMS || strlen(name) > GT_GGUF_MAX_NAME ||
        ne[0] % be) {
        fail(w, GT_EINVAL);
        return NULL;
    }
    for (size_t i = 0; i < w->n_t; i++)
        if (!strcmp(w->t[i].name, name)) {
            fail(w, GT_EEXIST);
            return NULL;
        }
    uint64_t rows = 1;
    for (uint32_t d = 1; d < n_dims; d++)
        if (ne[d] == 0 || __builtin_mul_overflow(rows, ne[d], &rows)) {
            fail(w, GT_EINVAL);
            return NULL;
        }
    uint64_t nbytes;
    if (ne[0] == 0 || __builtin_mul_overflow((uint64_t)gt_ggml_row_bytes(type, ne[0]), rows,
                                             &nbytes) || nbytes > SIZE_MAX / 2) {
        fail(w, GT_EINVAL);
        return NULL;
    }
    if (w->n_t == w->cap_t) {
        size_t cap = w->cap_t ? 2 * w->cap_t : 16;
        wtensor *n = gt_realloc(w->t, cap * sizeof *n);
        if (!n) {
            fail(w, GT_ENOMEM);
            return NULL;
        }
        w->t = n;
        w->cap_t = cap;
    }
    wtensor *t = &w->t[w->n_t];
    memset(t, 0, sizeof *t);
    t->name = gt_strdup(name);
    if (!t->name) {
        fail(w, GT_ENOMEM);
        return NULL;
    }
    t->n_dims = n_dims;
    t->type = type;
    for (uint32_t d = 0; d < GT_GGUF_MAX_DIMS; d++) t->ne[d] = d < n_dims ? ne[d] : 1;
    t->nbytes = (size_t)nbytes;
    w->n_t++;
    return t;
}

int gt_gguf_writer_add_tensor(gt_gguf_writer *w, const char *name, uint32_t n_dims,
                              const uint64_t *ne, uint32_t type, const void *data,
                              size_t nbytes) {
    wtensor *t = add_desc(w, name, n_dims, ne, type);
    if (!t) return w ? w->failed : GT_ENOMEM;
    if (t->nbytes != nbytes) {
        gt_free(t->name);
        w->n_t--;
        return fail(w, GT_EINVAL);
    }
    t->data = dup_bytes(data, nbytes);
    if (!t->data) {
        gt_free(t->name);
        w->n_t--;
        return fail(w, GT_ENOMEM);
    }
    return 0;
}

int gt_gguf_writer_add_tensor_fill(gt_gguf_writer *w, const char *name, uint32_t n_dims,
                                   const uint64_t *ne, uint32_t type, gt_gguf_fill_fn fill,
                                   void *ctx) {
    wtensor *t = add_desc(w, name, n_dims, ne, type);
    if (!t) return w ? w->failed : GT_ENOMEM;
    t->fill = fill;
    t->fill_ctx = ctx;
    return 0;
}

/* ---- output ------------------------------------------------------------ */

/* Where the bytes go: a stdio stream or a memory buffer. */
typedef struct sink {
    FILE *f;
    gt_buf *b;
    int failed;
} sink;

static void put(sink *s, const void *p, size_t n) {
    if (s->failed || !n) return;
    if (s->f) s->failed = fwrite(p, 1, n, s->f) != n;
    else s->failed = gt_buf_append(s->b, p, n) != 0;
}
static void put_u32(sink *s, uint32_t v) { put(s, &v, 4); }
static void put_u64(sink *s, uint64_t v) { put(s, &v, 8); }
static void put_zeros(sink *s, size_t n) {
    static const uint8_t z[64];
    while (n) {
        size_t k = n < sizeof z ? n : sizeof z;
        put(s, z, k);
        n -= k;
    }
}

/* The alignment the file will use: general.alignment when set, else 32. */
static size_t writer_alignment(const gt_gguf_writer *w) {
    for (size_t i = 0; i < w->n_kv; i++)
        if (!strcmp(w->kv[i].key, "general.alignment") && w->kv[i].type == GT_GGUF_U32) {
            uint32_t a;
            memcpy(&a, w->kv[i].val, 4);
            if (a && !(a & (a - 1)) && a <= GT_GGUF_MAX_ALIGNMENT) return a;
        }
    return GT_GGUF_DEFAULT_ALIGNMENT;
}

/* Emits the whole file to s. */
static int emit(gt_gguf_writer *w, sink *s, gt_err *err) {
    if (!w) return gt_err_set(err, GT_ENOMEM, "GGUF writer: out of memory");
    if (w->failed)
        return gt_err_set(err, w->failed, "GGUF writer: an earlier call failed (%s)",
                          gt_err_name(w->failed));
    size_t align = writer_alignment(w);
    put(s, "GGUF", 4);
    put_u32(s, 3);
    put_u64(s, w->n_t);
    put_u64(s, w->n_kv);
    size_t off = 24;
    for (size_t i = 0; i < w->n_kv; i++) {
        size_t kl = strlen(w->kv[i].key);
        put_u64(s, kl);
        put(s, w->kv[i].key, kl);
        put_u32(s, w->kv[i].type);
        put(s, w->kv[i].val, w->kv[i].len);
        off += 8 + kl + 4 + w->kv[i].len;
    }
    uint64_t data_off = 0;
    for (size_t i = 0; i < w->n_t; i++) {
        const wtensor *t = &w->t[i];
        size_t nl = strlen(t->name);
        put_u64(s, nl);
        put(s, t->name, nl);
        put_u32(s, t->n_dims);
        for (uint32_t d = 0; d < t->n_dims; d++) put_u64(s, t->ne[d]);
        put_u32(s, t->type);
        put_u64(s, data_off);
        off += 8 + nl + 4 + 8 * t->n_dims + 4 + 8;
        data_off += t->nbytes + (align - t->nbytes % align) % align;
    }
    put_zeros(s, (align - off % align) % align);
    for (size_t i = 0; i < w->n_t && !s->failed; i++) {
        wtensor *t = &w->t[i];
        if (t->fill) {
            uint8_t *tmp = gt_malloc(t->nbytes);
            if (!tmp) return gt_err_set(err, GT_ENOMEM, "out of memory writing %s", t->name);
            int rc = t->fill(t->fill_ctx, tmp, t->nbytes, err);
            if (rc) {
                gt_free(tmp);
                return gt_err_wrap(err, "tensor %s", t->name);
            }
            put(s, tmp, t->nbytes);
            gt_free(tmp);
        } else {
            put(s, t->data, t->nbytes);
        }
        put_zeros(s, (align - t->nbytes % align) % align);
    }
    if (s->failed)
        return gt_err_set(err, s->f ? GT_EIO : GT_ENOMEM, "GGUF write failed: %s",
                          s->f ? strerror(errno) : "out of memory");
    return 0;
}

int gt_gguf_writer_to_mem(gt_gguf_writer *w, uint8_t **out, size_t *len, gt_err *err) {
    gt_buf b = GT_BUF_INIT;
    sink s = {NULL, &b, 0};
    int rc = emit(w, &s, err);
    if (rc) {
        gt_buf_free(&b);
        return rc;
    }
    *out = gt_buf_take(&b, len);
    return 0;
}

/* The temp file being written while a SIGINT/SIGTERM could end the process:
 * the handler removes it before the process ends as it would have, so a
 * Ctrl-C during `model quantize` or `tokenizer train` leaves no OUT.tmp.PID
 * beside OUT. A program's own handler (`gotong train` notes a first Ctrl-C
 * and lets a second, SA_RESETHAND, end it) still gets the signal; once its
 * disposition is the default again, the next signal removes the temp file
 * and ends the process, so a second Ctrl-C during train's final save leaves
 * nothing either. One writer at a time owns it (tmp_owner); others write
 * without. */
static char sig_tmp[4096];
static atomic_int tmp_owner;
static struct sigaction old_int, old_term;

/* Hands the signal to the handler the program had (reset to the default
 * first when that one asked for SA_RESETHAND, as the kernel would have), or
 * ignores it as asked; otherwise removes the temp file and ends the process
 * by the same signal. */
static void unlink_and_end(int sig) {
    struct sigaction *old = sig == SIGINT ? &old_int : &old_term;
    if (old->sa_handler == SIG_IGN) return;
    if (old->sa_handler != SIG_DFL) {
        void (*h)(int) = old->sa_handler;
        if (old->sa_flags & (int)SA_RESETHAND) old->sa_handler = SIG_DFL;
        h(sig);
        return;
    }
    unlink(sig_tmp);
    signal(sig, SIG_DFL);
    raise(sig);
}

/* SIGINT and SIGTERM blocked (how 1) or as before (how 0, *saved). */
static void block_stops(int how, sigset_t *saved) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(how ? SIG_BLOCK : SIG_SETMASK, how ? &set : saved, how ? saved : NULL);
}

/* Takes the signals for tmp; 1 if taken. Not when a program's handler takes
 * siginfo (it cannot be handed on here): it has its own say, as before. */
static int guard_tmp(const char *tmp) {
    struct sigaction cur_int, cur_term;
    if (atomic_exchange(&tmp_owner, 1)) return 0;
    sigaction(SIGINT, NULL, &cur_int);
    sigaction(SIGTERM, NULL, &cur_term);
    if ((cur_int.sa_flags | cur_term.sa_flags) & SA_SIGINFO) {
        atomic_store(&tmp_owner, 0);
        return 0;
    }
    snprintf(sig_tmp, sizeof sig_tmp, "%s", tmp);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = unlink_and_end;
    sa.sa_flags = SA_RESTART; /* a signal handed on leaves the write going */
    sigemptyset(&sa.sa_mask);
    sigaddset(&sa.sa_mask, SIGINT); /* one handler at a time: old_int/old_term are changed in it */
    sigaddset(&sa.sa_mask, SIGTERM);
    sigset_t saved;
    block_stops(1, &saved); /* old_int/old_term whole before the handler can read them */
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    block_stops(0, &saved);
    return 1;
}

/* Gives the signals back as guard_tmp found them (less a handler that reset
 * itself meanwhile). */
static void unguard_tmp(int taken) {
    if (!taken) return;
    sigset_t saved;
    block_stops(1, &saved);
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    block_stops(0, &saved);
    atomic_store(&tmp_owner, 0);
}

/* Writes the file to path.tmp.PID, then renames it over path. */
static int write_via_tmp(gt_gguf_writer *w, const char *path, const char *tmp, gt_err *err) {
    FILE *f = fopen(tmp, "wb");
    if (!f) return gt_err_set(err, GT_EIO, "cannot create %s: %s", tmp, strerror(errno));
    sink s = {f, NULL, 0};
    int rc = emit(w, &s, err);
    if (fflush(f) != 0 || fsync(fileno(f)) != 0) {
        if (!rc) rc = gt_err_set(err, GT_EIO, "write %s: %s", tmp, strerror(errno));
    }
    if (fclose(f) != 0 && !rc) rc = gt_err_set(err, GT_EIO, "close %s: %s", tmp, strerror(errno));
    if (!rc && rename(tmp, path) != 0)
        rc = gt_err_set(err, GT_EIO, "cannot rename %s to %s: %s", tmp, path, strerror(errno));
    if (rc) unlink(tmp);
    return rc;
}

int gt_gguf_writer_write(gt_gguf_writer *w, const char *path, gt_err *err) {
    char tmp[4096];
    if (snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid()) >= (int)sizeof tmp)
        return gt_err_set(err, GT_ELIMIT, "path too long: %s", path);
    int taken = guard_tmp(tmp);
    int rc = write_via_tmp(w, path, tmp, err);
    unguard_tmp(taken);
    return rc;
}
