/* test_gguf.c: the GGUF reader and writer: the shared fixtures load with the
 * shapes llama.cpp gave them, the writer round-trips every value type, and
 * malformed files (truncated at every byte, bad counts, offsets, types,
 * alignment, duplicates) fail with a clear error and no crash. */
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../test.h"
#include "base/alloc.h"
#include "infer/gguf.h"

static void test_type_table(void) {
    CHECK_STR(gt_ggml_type_name(GT_TYPE_Q8_0), "q8_0");
    CHECK_STR(gt_ggml_type_name(GT_TYPE_BF16), "bf16");
    CHECK_STR(gt_ggml_type_name(4), "type 4"); /* retired Q4_2 */
    CHECK_STR(gt_ggml_type_name(1000), "type 1000");
    CHECK_EQ_INT(gt_ggml_block_elems(GT_TYPE_Q4_0), 32);
    CHECK_EQ_INT(gt_ggml_block_bytes(GT_TYPE_Q4_0), 18);
    CHECK_EQ_INT(gt_ggml_block_bytes(GT_TYPE_Q8_0), 34);
    CHECK_EQ_INT(gt_ggml_block_bytes(GT_TYPE_Q6_K), 210);
    CHECK_EQ_INT(gt_ggml_block_elems(GT_TYPE_Q6_K), 256);
    CHECK_EQ_INT(gt_ggml_block_elems(GT_TYPE_COUNT), 0);
    CHECK_EQ_U64(gt_ggml_row_bytes(GT_TYPE_F16, 128), 256);
    CHECK_EQ_U64(gt_ggml_row_bytes(GT_TYPE_Q8_0, 128), 4 * 34);
    CHECK_EQ_U64(gt_ggml_row_bytes(GT_TYPE_Q4_K, 512), 2 * 144);
    /* every enum value has a name and sizes */
    static const uint32_t all[] = {GT_TYPE_F32, GT_TYPE_F16, GT_TYPE_Q4_0, GT_TYPE_Q4_1,
                                   GT_TYPE_Q5_0, GT_TYPE_Q5_1, GT_TYPE_Q8_0, GT_TYPE_Q8_1,
                                   GT_TYPE_Q2_K, GT_TYPE_Q3_K, GT_TYPE_Q4_K, GT_TYPE_Q5_K,
                                   GT_TYPE_Q6_K, GT_TYPE_Q8_K, GT_TYPE_I8, GT_TYPE_I16,
                                   GT_TYPE_I32, GT_TYPE_I64, GT_TYPE_F64, GT_TYPE_BF16};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        CHECK(strncmp(gt_ggml_type_name(all[i]), "type ", 5) != 0);
        CHECK(gt_ggml_block_elems(all[i]) > 0 && gt_ggml_block_bytes(all[i]) > 0);
    }
}

static void test_fixture_llama(void) {
    gt_gguf *g = NULL;
    gt_err err = {0};
    int rc = gt_gguf_open(gt_fixture("models/tiny-llama-q8_0.gguf"), &g, &err);
    CHECK_MSG(rc == 0, "%s", err.msg);
    if (rc) return;
    CHECK_EQ_INT(g->version, 3);
    CHECK_EQ_U64(g->n_kv, 24);
    CHECK_EQ_U64(g->n_tensors, 21);
    CHECK_EQ_INT(g->alignment, 32);
    gt_gguf_str s;
    CHECK_EQ_INT(gt_gguf_get_str(g, "general.architecture", &s, &err), 0);
    CHECK(s.len == 5 && !memcmp(s.ptr, "llama", 5));
    uint32_t u = 0;
    CHECK_EQ_INT(gt_gguf_get_u32(g, "llama.embedding_length", &u, &err), 0);
    CHECK_EQ_INT(u, 128);
    CHECK_EQ_INT(gt_gguf_get_u32(g, "llama.attention.head_count_kv", &u, &err), 0);
    CHECK_EQ_INT(u, 2);
    float f = 0;
    CHECK_EQ_INT(gt_gguf_get_f32(g, "llama.rope.freq_base", &f, &err), 0);
    CHECK(f == 10000.0f);
    int b = 0;
    CHECK_EQ_INT(gt_gguf_get_bool(g, "tokenizer.ggml.add_bos_token", &b, &err), 0);
    CHECK_EQ_INT(b, 1);
    /* wrong-type and missing lookups */
    CHECK_EQ_INT(gt_gguf_get_u32(g, "general.architecture", &u, &err), GT_EINVAL);
    CHECK_CONTAINS(err.msg, "expected an integer");
    CHECK_EQ_INT(gt_gguf_get_str(g, "no.such.key", &s, &err), GT_ENOTFOUND);
    const gt_gguf_kv *tok = gt_gguf_find(g, "tokenizer.ggml.tokens");
    CHECK(tok && tok->type == GT_GGUF_ARRAY && tok->arr_type == GT_GGUF_STRING);
    if (tok) {
        CHECK_EQ_U64(tok->arr_len, 32000);
        gt_gguf_str t1 = gt_gguf_arr_str(tok, 1);
        CHECK(t1.len == 3 && !memcmp(t1.ptr, "<s>", 3));
        gt_gguf_str t3 = gt_gguf_arr_str(tok, 3);
        CHECK(t3.len == 6 && !memcmp(t3.ptr, "<0x00>", 6));
    }
    const gt_gguf_kv *sc = gt_gguf_find(g, "tokenizer.ggml.scores");
    CHECK(sc && sc->arr_type == GT_GGUF_F32 && sc->arr_len == 32000);
    const gt_gguf_tensor *t = gt_gguf_find_tensor(g, "blk.0.attn_k.weight");
    CHECK(t != NULL);
    if (t) {
        CHECK_EQ_INT(t->n_dims, 2);
        CHECK_EQ_U64(t->ne[0], 128);
        CHECK_EQ_U64(t->ne[1], 64);
        CHECK_EQ_INT(t->type, GT_TYPE_Q8_0);
        CHECK_EQ_U64(t->nbytes, 64 * 4 * 34);
        CHECK((const uint8_t *)t->data >= g->base + g->data_offset);
        CHECK(((const uint8_t *)t->data - g->base) % 32 == 0);
    }
    t = gt_gguf_find_tensor(g, "output_norm.weight");
    CHECK(t && t->type == GT_TYPE_F32 && t->nbytes == 512);
    CHECK(gt_gguf_find_tensor(g, "blk.9.attn_k.weight") == NULL);
    gt_gguf_close(g);
}

static void test_fixture_all(void) {
    static const char *files[] = {
        "models/tiny-llama-f16.gguf", "models/tiny-llama-q4_0.gguf",
        "models/tiny-qwen2-f16.gguf", "models/tiny-qwen2-q8_0.gguf",
        "tokenizer/ggml-vocab-gpt-2.gguf", "tokenizer/ggml-vocab-llama-spm.gguf"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        gt_gguf *g = NULL;
        gt_err err = {0};
        int rc = gt_gguf_open(gt_fixture(files[i]), &g, &err);
        CHECK_MSG(rc == 0, "%s: %s", files[i], err.msg);
        gt_gguf_close(g);
    }
    gt_gguf *g = NULL;
    gt_err err = {0};
    CHECK_EQ_INT(gt_gguf_open(gt_fixture("models/tiny-qwen2-f16.gguf"), &g, &err), 0);
    if (g) {
        const gt_gguf_tensor *t = gt_gguf_find_tensor(g, "blk.0.attn_q.bias");
        CHECK(t && t->n_dims == 1 && t->ne[0] == 128 && t->type == GT_TYPE_F32);
        CHECK(gt_gguf_find_tensor(g, "output.weight") == NULL); /* tied */
        const gt_gguf_kv *m = gt_gguf_find(g, "tokenizer.ggml.merges");
        CHECK(m && m->arr_len == 50000);
        gt_gguf_close(g);
    }
    CHECK_EQ_INT(gt_gguf_open("/nonexistent/x.gguf", &g, &err), GT_ENOTFOUND);
    CHECK_CONTAINS(err.msg, "/nonexistent/x.gguf");
}

/* A small file with every value type and three tensors. */
static int build_small(uint8_t **out, size_t *len) {
    gt_gguf_writer *w = gt_gguf_writer_new();
    int rc = 0;
    rc |= gt_gguf_writer_set_str(w, "general.architecture", "llama");
    rc |= gt_gguf_writer_set_u32(w, "llama.block_count", 2);
    rc |= gt_gguf_writer_set_i32(w, "test.i32", -7);
    rc |= gt_gguf_writer_set_f32(w, "test.f32", 1.5f);
    rc |= gt_gguf_writer_set_bool(w, "test.bool", 1);
    const char *toks[] = {"a", "", "hello world"};
    rc |= gt_gguf_writer_set_arr_str(w, "test.strs", toks, 3);
    const float sc[] = {0.5f, -1.0f, 2.0f};
    rc |= gt_gguf_writer_set_arr(w, "test.f32s", GT_GGUF_F32, sc, 3);
    const uint64_t big[] = {UINT64_MAX};
    rc |= gt_gguf_writer_set_arr(w, "test.u64s", GT_GGUF_U64, big, 1);
    rc |= gt_gguf_writer_set_u32(w, "llama.block_count", 3); /* replaces */
    float a[64];
    for (int i = 0; i < 64; i++) a[i] = (float)i;
    uint64_t ne2[2] = {8, 8}, ne1[1] = {5};
    rc |= gt_gguf_writer_add_tensor(w, "a", 2, ne2, GT_TYPE_F32, a, sizeof a);
    rc |= gt_gguf_writer_add_tensor(w, "b", 1, ne1, GT_TYPE_F32, a, 20);
    uint8_t q[34] = {0};
    uint64_t neq[2] = {32, 1};
    rc |= gt_gguf_writer_add_tensor(w, "c", 2, neq, GT_TYPE_Q8_0, q, sizeof q);
    gt_err err = {0};
    if (!rc) rc = gt_gguf_writer_to_mem(w, out, len, &err);
    gt_gguf_writer_free(w);
    return rc;
}

/* This process's resident memory in KB (VmRSS), or -1. */
static long rss_kb(void) {
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kb = -1;
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, "VmRSS:", 6)) kb = strtol(line + 6, NULL, 10);
    if (f) fclose(f);
    return kb;
}

/* gt_gguf_drop: a dropped tensor's pages leave resident memory and read
 * back with the same bytes; ranges outside the mapping are ignored. */
static void test_drop(void) {
    gt_gguf *g = NULL;
    gt_err err = {0};
    CHECK_EQ_INT(gt_gguf_open(gt_fixture("models/tiny-llama-q8_0.gguf"), &g, &err), 0);
    if (!g) return;
    const gt_gguf_tensor *t = gt_gguf_find_tensor(g, "token_embd.weight");
    CHECK(t && t->nbytes == 32000ull * 4 * 34); /* 4.35 MB */
    if (t) {
        uint8_t *copy = gt_malloc(t->nbytes);
        memcpy(copy, t->data, t->nbytes); /* every page of it resident now */
        long before = rss_kb();
        gt_gguf_drop(g, t->data, t->nbytes);
        long after = rss_kb();
        fprintf(stderr, "  drop: resident %ld -> %ld KB\n", before, after);
        CHECK(before > 0 && after > 0 && before - after >= 4000); /* all but its two edge pages */
        CHECK(memcmp(copy, t->data, t->nbytes) == 0);               /* read back from the file */
        gt_gguf_drop(g, copy, t->nbytes);                            /* not the mapping's: ignored */
        gt_gguf_drop(g, t->data, g->size);                           /* runs past the end: ignored */
        CHECK(memcmp(copy, t->data, t->nbytes) == 0);
        gt_free(copy);
    }
    gt_gguf_drop(NULL, NULL, 0);
    gt_gguf_close(g);
}

/* gt_gguf_read gives the file's bytes without mapping them: every row of a
 * dropped tensor read back equals its bytes, resident memory does not grow
 * by the tensor (a page fault would map it back, and on a page cache of
 * large folios up to 2 MiB a row); a caller's buffer is copied. */
static void test_read(void) {
    gt_gguf *g = NULL;
    gt_err err = {0};
    CHECK_EQ_INT(gt_gguf_open(gt_fixture("models/tiny-llama-q8_0.gguf"), &g, &err), 0);
    if (!g) return;
    const gt_gguf_tensor *t = gt_gguf_find_tensor(g, "token_embd.weight");
    CHECK(t && t->nbytes == 32000ull * 4 * 34);
    if (t) {
        const size_t row = 4 * 34;
        uint8_t *copy = gt_malloc(t->nbytes), *back = gt_malloc(t->nbytes);
        memcpy(copy, t->data, t->nbytes);
        memset(back, 0, t->nbytes); /* its pages resident before the reads */
        gt_gguf_drop(g, t->data, t->nbytes);
        long before = rss_kb();
        for (size_t r = 0; r < t->nbytes / row; r++)
            gt_gguf_read(g, (const uint8_t *)t->data + r * row, row, back + r * row);
        long after = rss_kb();
        fprintf(stderr, "  read: resident %ld -> %ld KB\n", before, after);
        CHECK(before > 0 && after > 0 && after - before < 1000); /* the tensor is 4,250 KB */
        CHECK(memcmp(copy, back, t->nbytes) == 0);
        gt_free(back);
        gt_free(copy);
    }
    gt_gguf_close(g);
    uint8_t *buf = NULL;
    size_t len = 0;
    CHECK_EQ_INT(build_small(&buf, &len), 0);
    if (buf && gt_gguf_parse(buf, len, &g, &err) == 0) {
        uint8_t out[16];
        gt_gguf_read(g, buf + len - 16, 16, out);
        CHECK(memcmp(out, buf + len - 16, 16) == 0);
        gt_gguf_close(g);
    }
    gt_free(buf);
}

static void test_round_trip(void) {
    uint8_t *buf = NULL;
    size_t len = 0;
    CHECK_EQ_INT(build_small(&buf, &len), 0);
    if (!buf) return;
    gt_gguf *g = NULL;
    gt_err err = {0};
    int rc = gt_gguf_parse(buf, len, &g, &err);
    CHECK_MSG(rc == 0, "%s", err.msg);
    if (!rc) {
        uint32_t u = 0;
        CHECK_EQ_INT(gt_gguf_get_u32(g, "llama.block_count", &u, &err), 0);
        CHECK_EQ_INT(u, 3);
        CHECK_EQ_U64(g->n_kv, 8);
        const gt_gguf_kv *kv = gt_gguf_find(g, "test.i32");
        CHECK(kv && kv->type == GT_GGUF_I32 && kv->num.i == -7);
        CHECK_EQ_INT(gt_gguf_get_u32(g, "test.i32", &u, &err), GT_EINVAL); /* negative */
        float f = 0;
        CHECK_EQ_INT(gt_gguf_get_f32(g, "test.f32", &f, &err), 0);
        CHECK(f == 1.5f);
        int b = 0;
        CHECK_EQ_INT(gt_gguf_get_bool(g, "test.bool", &b, &err), 0);
        CHECK_EQ_INT(b, 1);
        kv = gt_gguf_find(g, "test.strs");
        CHECK(kv && kv->arr_len == 3);
        if (kv) {
            gt_gguf_str s = gt_gguf_arr_str(kv, 1);
            CHECK_EQ_U64(s.len, 0);
            s = gt_gguf_arr_str(kv, 2);
            CHECK(s.len == 11 && !memcmp(s.ptr, "hello world", 11));
        }
        kv = gt_gguf_find(g, "test.f32s");
        CHECK(kv && kv->arr_type == GT_GGUF_F32 && kv->arr_len == 3);
        if (kv) {
            float v[3];
            memcpy(v, kv->data, sizeof v);
            CHECK(v[0] == 0.5f && v[1] == -1.0f && v[2] == 2.0f);
        }
        const gt_gguf_tensor *t = gt_gguf_find_tensor(g, "a");
        CHECK(t && t->ne[0] == 8 && t->ne[1] == 8 && t->nbytes == 256);
        if (t) CHECK(((const float *)t->data)[63] == 63.0f);
        t = gt_gguf_find_tensor(g, "b");
        CHECK(t && t->nbytes == 20 && t->offset == 256);
        t = gt_gguf_find_tensor(g, "c");
        CHECK(t && t->type == GT_TYPE_Q8_0 && t->nbytes == 34 && t->offset == 288);

        /* copy every key into a new file: identical values */
        gt_gguf_writer *w = gt_gguf_writer_new();
        for (uint64_t i = 0; i < g->n_kv; i++) CHECK_EQ_INT(gt_gguf_writer_copy_kv(w, &g->kv[i]), 0);
        uint8_t *buf2 = NULL;
        size_t len2 = 0;
        CHECK_EQ_INT(gt_gguf_writer_to_mem(w, &buf2, &len2, &err), 0);
        gt_gguf *g2 = NULL;
        CHECK_EQ_INT(gt_gguf_parse(buf2, len2, &g2, &err), 0);
        if (g2) {
            CHECK_EQ_U64(g2->n_kv, g->n_kv);
            for (uint64_t i = 0; i < g->n_kv; i++) {
                char key[64];
                snprintf(key, sizeof key, "%.*s", (int)g->kv[i].key.len, g->kv[i].key.ptr);
                const gt_gguf_kv *k2 = gt_gguf_find(g2, key);
                CHECK(k2 && k2->type == g->kv[i].type && k2->arr_len == g->kv[i].arr_len &&
                      k2->num.u == g->kv[i].num.u);
            }
            gt_gguf_str s = gt_gguf_arr_str(gt_gguf_find(g2, "test.strs"), 2);
            CHECK(s.len == 11 && !memcmp(s.ptr, "hello world", 11));
        }
        gt_gguf_close(g2);
        gt_free(buf2);
        gt_gguf_writer_free(w);

        /* to a file and back through mmap */
        char path[] = "/tmp/gt_test_gguf_XXXXXX";
        int fd = mkstemp(path);
        CHECK(fd >= 0);
        close(fd);
        gt_gguf_writer *w3 = gt_gguf_writer_new();
        CHECK_EQ_INT(gt_gguf_writer_copy_kv(w3, gt_gguf_find(g, "general.architecture")), 0);
        CHECK_EQ_INT(gt_gguf_writer_write(w3, path, &err), 0);
        gt_gguf *g3 = NULL;
        CHECK_EQ_INT(gt_gguf_open(path, &g3, &err), 0); /* 24-byte header + one key */
        CHECK(g3 && g3->n_kv == 1);
        gt_gguf_close(g3);
        gt_gguf_writer_free(w3);
        unlink(path);
    }
    gt_gguf_close(g);
    gt_free(buf);
}

/* Parses a copy of data (an exactly sized heap block, so ASan sees overreads). */
static int parse_copy(const uint8_t *data, size_t len, gt_err *err) {
    uint8_t *c = gt_malloc(len ? len : 1);
    memcpy(c, data, len);
    gt_gguf *g = NULL;
    int rc = gt_gguf_parse(c, len, &g, err);
    gt_gguf_close(g);
    gt_free(c);
    return rc;
}

static void test_truncated(void) {
    uint8_t *buf = NULL;
    size_t len = 0;
    CHECK_EQ_INT(build_small(&buf, &len), 0);
    if (!buf) return;
    gt_gguf *g = NULL;
    gt_err err = {0};
    CHECK_EQ_INT(gt_gguf_parse(buf, len, &g, &err), 0);
    size_t data_end = g ? g->data_offset + 288 + 34 : len;
    gt_gguf_close(g);
    /* every prefix that cuts the header or the tensor data fails cleanly */
    int all_failed = 1, all_msgs = 1;
    for (size_t n = 0; n < data_end; n++) {
        err.msg[0] = 0;
        int rc = parse_copy(buf, n, &err);
        if (rc == 0) {
            all_failed = 0;
            fprintf(stderr, "prefix of %zu bytes parsed\n", n);
        }
        if (!err.msg[0]) all_msgs = 0;
    }
    CHECK(all_failed);
    CHECK(all_msgs);
    err.msg[0] = 0;
    CHECK_EQ_INT(parse_copy(buf, 30, &err), GT_EINVAL);
    CHECK_CONTAINS(err.msg, "truncated");
    CHECK_EQ_INT(parse_copy(buf, data_end, &err), 0); /* the final padding is optional */
    gt_free(buf);
}

/* Writes v at offset off of a copy of buf and parses it. */
static int patch_parse(const uint8_t *buf, size_t len, size_t off, const void *v, size_t n,
                       gt_err *err) {
    uint8_t *c = gt_malloc(len);
    memcpy(c, buf, len);
    memcpy(c + off, v, n);
    int rc = parse_copy(c, len, err);
    gt_free(c);
    return rc;
}

/* Finds needle in buf (first occurrence); returns its offset or SIZE_MAX. */
static size_t find(const uint8_t *buf, size_t len, const char *needle) {
    size_t n = strlen(needle);
    for (size_t i = 0; i + n <= len; i++)
        if (!memcmp(buf + i, needle, n)) return i;
    return SIZE_MAX;
}

static void test_malformed(void) {
    uint8_t *buf = NULL;
    size_t len = 0;
    CHECK_EQ_INT(build_small(&buf, &len), 0);
    if (!buf) return;
    gt_err err = {0};
    uint32_t u32;
    uint64_t u64;
    CHECK_EQ_INT(patch_parse(buf, len, 0, "GGUX", 4, &err), GT_EINVAL);
    CHECK_CONTAINS(err.msg, "not a GGUF file");
    u32 = 1;
    CHECK_EQ_INT(patch_parse(buf, len, 4, &u32, 4, &err), GT_EUNSUPPORTED);
    CHECK_CONTAINS(err.msg, "GGUF v1 is not supported");
    u32 = 4;
    CHECK_EQ_INT(patch_parse(buf, len, 4, &u32, 4, &err), GT_EUNSUPPORTED);
    CHECK_CONTAINS(err.msg, "version 4");
    u32 = __builtin_bswap32(3);
    CHECK_EQ_INT(patch_parse(buf, len, 4, &u32, 4, &err), GT_EUNSUPPORTED);
    CHECK_CONTAINS(err.msg, "big-endian");
    u64 = UINT64_MAX;
    CHECK_EQ_INT(patch_parse(buf, len, 8, &u64, 8, &err), GT_ELIMIT);
    CHECK_CONTAINS(err.msg, "tensors; at most");
    u64 = 60000; /* under the limit but more than the file could hold */
    CHECK_EQ_INT(patch_parse(buf, len, 16, &u64, 8, &err), GT_EINVAL);
    CHECK_CONTAINS(err.msg, "cannot fit");
    /* key length pointing past the end */
    u64 = 1u << 20;
    CHECK_EQ_INT(patch_parse(buf, len, 24, &u64, 8, &err), GT_ELIMIT);
    CHECK_CONTAINS(err.msg, "at most 256");
    u64 = UINT64_MAX;
    CHECK_EQ_INT(patch_parse(buf, len, 24, &u64, 8, &err), GT_ELIMIT);
    {   /* a one-key file whose key length (under the limit) runs past the end */
        gt_gguf_writer *w1 = gt_gguf_writer_new();
        gt_gguf_writer_set_str(w1, "general.architecture", "llama");
        uint8_t *b1;
        size_t l1;
        CHECK_EQ_INT(gt_gguf_writer_to_mem(w1, &b1, &l1, &err), 0);
        u64 = 250;
        CHECK_EQ_INT(patch_parse(b1, l1, 24, &u64, 8, &err), GT_EINVAL);
        gt_free(b1);
        gt_gguf_writer_free(w1);
    }
    CHECK_CONTAINS(err.msg, "truncated: key 0 needs 250 bytes at offset 32");
    /* value type out of range */
    size_t k = find(buf, len, "general.architecture");
    u32 = 99;
    CHECK_EQ_INT(patch_parse(buf, len, k + 20, &u32, 4, &err), GT_EINVAL);
    CHECK_CONTAINS(err.msg, "value type 99");
    /* a string array whose count is impossible */
    k = find(buf, len, "test.strs");
    u64 = 1u << 23;
    CHECK_EQ_INT(patch_parse(buf, len, k + 9 + 4 + 4, &u64, 8, &err), GT_EINVAL);
    CHECK_CONTAINS(err.msg, "test.strs");
    /* nested arrays */
    u32 = GT_GGUF_ARRAY;
    CHECK_EQ_INT(patch_parse(buf, len, k + 9 + 4, &u32, 4, &err), GT_EUNSUPPORTED);
    CHECK_CONTAINS(err.msg, "nested arrays");
    /* duplicate key: rename test.f32 to test.i32 */
    k = find(buf, len, "test.f32");
    CHECK_EQ_INT(patch_parse(buf, len, k, "test.i32", 8, &err), GT_EINVAL);
    CHECK_CONTAINS(err.msg, "two keys named \"test.i32\"");
    /* tensor "b" (name length 1, then 'b', n_dims, ne[0], type, offset) */
    size_t tb = 0;
    for (size_t i = 0; i + 9 < len; i++) {
        u64 = 1;
        if (!memcmp(buf + i, &u64, 8) && buf[i + 8] == 'b') {
            tb = i + 9;
            break;
        }
    }
    CHECK(tb > 0);
    u32 = 5;
    CHECK_EQ_INT(patch_parse(buf, len, tb, &u32, 4, &err), GT_EINVAL);
    CHECK_CONTAINS(err.msg, "5 dimensions");
    u64 = 0;
    CHECK_EQ_INT(patch_parse(buf, len, tb + 4, &u64, 8, &err), GT_EINVAL);
    CHECK_CONTAINS(err.msg, "dimension 0 is 0");
    u32 = 37; /* a retired type id */
    CHECK_EQ_INT(patch_parse(buf, len, tb + 12, &u32, 4, &err), GT_EUNSUPPORTED);
    CHECK_CONTAINS(err.msg, "unknown type type 37");
    u32 = GT_TYPE_Q8_0; /* 5 elements is not a whole Q8_0 block */
    CHECK_EQ_INT(patch_parse(buf, len, tb + 12, &u32, 4, &err), GT_EINVAL);
    CHECK_CONTAINS(err.msg, "multiple of 32");
    u64 = 260; /* misaligned */
    CHECK_EQ_INT(patch_parse(buf, len, tb + 16, &u64, 8, &err), GT_EINVAL);
    CHECK_CONTAINS(err.msg, "alignment");
    u64 = 1u << 20; /* past the end */
    CHECK_EQ_INT(patch_parse(buf, len, tb + 16, &u64, 8, &err), GT_EINVAL);
    CHECK_CONTAINS(err.msg, "runs past the end");
    u64 = UINT64_MAX - 31;
    CHECK_EQ_INT(patch_parse(buf, len, tb + 16, &u64, 8, &err), GT_EINVAL);
    u64 = (uint64_t)1 << 61; /* huge dimension: byte count overflow is caught */
    CHECK_EQ_INT(patch_parse(buf, len, tb + 4, &u64, 8, &err), GT_EINVAL);
    /* duplicate tensor name: b -> a */
    CHECK_EQ_INT(patch_parse(buf, len, tb - 1, "a", 1, &err), GT_EINVAL);
    CHECK_CONTAINS(err.msg, "two tensors named \"a\"");
    gt_free(buf);

    /* bad general.alignment */
    gt_gguf_writer *w = gt_gguf_writer_new();
    gt_gguf_writer_set_u32(w, "general.alignment", 48);
    uint8_t *b2;
    size_t l2;
    CHECK_EQ_INT(gt_gguf_writer_to_mem(w, &b2, &l2, &err), 0);
    CHECK_EQ_INT(parse_copy(b2, l2, &err), GT_EINVAL);
    CHECK_CONTAINS(err.msg, "power of two");
    gt_free(b2);
    gt_gguf_writer_free(w);
}

static void test_writer_errors(void) {
    gt_gguf_writer *w = gt_gguf_writer_new();
    uint64_t ne[2] = {30, 2};
    uint8_t d[256] = {0};
    gt_err err = {0};
    CHECK_EQ_INT(gt_gguf_writer_add_tensor(w, "x", 2, ne, GT_TYPE_Q8_0, d, 68), GT_EINVAL);
    uint8_t *b;
    size_t l;
    CHECK_EQ_INT(gt_gguf_writer_to_mem(w, &b, &l, &err), GT_EINVAL);
    CHECK_CONTAINS(err.msg, "earlier call failed");
    gt_gguf_writer_free(w);
    w = gt_gguf_writer_new();
    ne[0] = 32;
    CHECK_EQ_INT(gt_gguf_writer_add_tensor(w, "x", 2, ne, GT_TYPE_Q8_0, d, 67), GT_EINVAL);
    gt_gguf_writer_free(w);
    w = gt_gguf_writer_new();
    CHECK_EQ_INT(gt_gguf_writer_add_tensor(w, "x", 2, ne, GT_TYPE_Q8_0, d, 68), 0);
    CHECK_EQ_INT(gt_gguf_writer_add_tensor(w, "x", 2, ne, GT_TYPE_Q8_0, d, 68), GT_EEXIST);
    gt_gguf_writer_free(w);
    w = gt_gguf_writer_new();
    CHECK_EQ_INT(gt_gguf_writer_write(w, "/nonexistent-dir/x.gguf", &err), GT_EIO);
    CHECK_CONTAINS(err.msg, "/nonexistent-dir/x.gguf");
    gt_gguf_writer_free(w);
}

/* Out-of-memory at every allocation of a parse: an error, never a crash. */
static void test_alloc_failures(void) {
    uint8_t *buf = NULL;
    size_t len = 0;
    CHECK_EQ_INT(build_small(&buf, &len), 0);
    if (!buf) return;
    int ok_seen = 0;
    for (long n = 0; n < 64 && !ok_seen; n++) {
        gt_gguf *g = NULL;
        gt_err err = {0};
        gt_alloc_fail_after(n);
        int rc = gt_gguf_parse(buf, len, &g, &err);
        gt_alloc_fail_after(-1);
        if (rc == 0) ok_seen = 1;
        else CHECK_EQ_INT(rc, GT_ENOMEM);
        gt_gguf_close(g);
    }
    CHECK(ok_seen);
    gt_free(buf);
}

/* `test_gguf --write-corpus DIR` writes the fuzz seeds (small valid files
 * made by the writer) into DIR: tests/fuzz/corpus/gguf was made this way. */
static int write_corpus(const char *dir) {
    gt_err err = {0};
    char path[4096];
    uint8_t *buf;
    size_t len;
    if (build_small(&buf, &len)) return 1;
    snprintf(path, sizeof path, "%s/small.gguf", dir);
    FILE *f = fopen(path, "wb");
    if (!f) return 1;
    fwrite(buf, 1, len, f);
    fclose(f);
    buf[4] = 2; /* the same as v2 */
    snprintf(path, sizeof path, "%s/small-v2.gguf", dir);
    f = fopen(path, "wb");
    if (!f) return 1;
    fwrite(buf, 1, len, f);
    fclose(f);
    gt_free(buf);
    /* a model-shaped file: vocabulary, merges, a few typed tensors, alignment 64 */
    gt_gguf_writer *w = gt_gguf_writer_new();
    gt_gguf_writer_set_u32(w, "general.alignment", 64);
    gt_gguf_writer_set_str(w, "general.architecture", "qwen2");
    gt_gguf_writer_set_u32(w, "qwen2.embedding_length", 32);
    gt_gguf_writer_set_str(w, "tokenizer.ggml.model", "gpt2");
    const char *toks[] = {"a", "b", "ab", "\xc4\xa0", "<|endoftext|>"};
    gt_gguf_writer_set_arr_str(w, "tokenizer.ggml.tokens", toks, 5);
    const char *merges[] = {"a b"};
    gt_gguf_writer_set_arr_str(w, "tokenizer.ggml.merges", merges, 1);
    const int32_t types[] = {1, 1, 1, 1, 3};
    gt_gguf_writer_set_arr(w, "tokenizer.ggml.token_type", GT_GGUF_I32, types, 5);
    uint8_t data[4 * 32 * 34] = {0};
    uint64_t ne[2] = {32, 4};
    gt_gguf_writer_add_tensor(w, "token_embd.weight", 2, ne, GT_TYPE_Q8_0, data, 4 * 34);
    gt_gguf_writer_add_tensor(w, "blk.0.attn_q.weight", 2, ne, GT_TYPE_Q4_0, data, 4 * 18);
    gt_gguf_writer_add_tensor(w, "blk.0.attn_k.weight", 2, ne, GT_TYPE_BF16, data, 4 * 64);
    uint64_t ne1[1] = {32};
    gt_gguf_writer_add_tensor(w, "output_norm.weight", 1, ne1, GT_TYPE_F32, data, 128);
    int rc = gt_gguf_writer_to_mem(w, &buf, &len, &err);
    gt_gguf_writer_free(w);
    if (rc) return 1;
    snprintf(path, sizeof path, "%s/model.gguf", dir);
    f = fopen(path, "wb");
    if (!f) return 1;
    fwrite(buf, 1, len, f);
    fclose(f);
    gt_free(buf);
    return 0;
}

static volatile sig_atomic_t flagged; /* the first SIGINT came (as `gotong train` notes one) */
static void flag_stop(int sig) { (void)sig, flagged = 1; }

/* In a child: a handler like `gotong train`'s (the first SIGINT noted,
 * SA_RESETHAND), then a write of path whose temp file is a FIFO, so the
 * write waits on the parent's reads. Exits 0 when the write ended. */
static void child_write(const char *path) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = flag_stop;
    sa.sa_flags = SA_RESETHAND | SA_RESTART; /* a write to a file goes on past a noted signal */
    sigaction(SIGINT, &sa, NULL);
    char tmp[600];
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    if (mkfifo(tmp, 0600)) _exit(3);
    gt_gguf_writer *w = gt_gguf_writer_new();
    enum { N = 1 << 20 };
    float *a = calloc(N, sizeof *a);
    uint64_t ne[1] = {N};
    gt_err err = {0};
    if (!a || gt_gguf_writer_add_tensor(w, "a", 1, ne, GT_TYPE_F32, a, N * sizeof *a)) _exit(4);
    _exit(gt_gguf_writer_write(w, path, &err) ? 5 : 0);
}

/* A second SIGINT during a write the program's own handler took the first
 * of (`gotong train`'s final save): the process ends by it and leaves no
 * OUT.tmp.PID. Before the fix the write took no signal when the program had
 * a handler, and the second SIGINT ended it with the temp file left. */
static void test_second_signal_removes_tmp(void) {
    char dir[] = "/tmp/gt-gguf-sig-XXXXXX", path[600], tmp[640];
    CHECK(mkdtemp(dir) != NULL);
    snprintf(path, sizeof path, "%s/out.gguf", dir);
    pid_t pid = fork();
    if (pid == 0) child_write(path);
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)pid);
    int fd = -1;
    for (int i = 0; i < 500 && fd < 0; i++) { /* the child makes the FIFO, then opens it to write */
        fd = open(tmp, O_RDONLY | O_NONBLOCK);
        if (fd < 0) usleep(10000);
    }
    CHECK(fd >= 0);
    char buf[4096];
    ssize_t got = 0;
    for (int i = 0; i < 500 && got <= 0; i++) { /* the write is under way */
        got = read(fd, buf, sizeof buf);
        if (got <= 0) usleep(10000);
    }
    CHECK(got > 0);
    kill(pid, SIGINT); /* noted by the program's handler: the write goes on */
    usleep(200000);
    CHECK_EQ_INT(waitpid(pid, NULL, WNOHANG), 0);
    kill(pid, SIGINT); /* ends it */
    int st = 0;
    CHECK_EQ_INT(waitpid(pid, &st, 0), pid);
    CHECK_MSG(WIFSIGNALED(st) && WTERMSIG(st) == SIGINT, "wait status %d", st);
    CHECK_MSG(access(tmp, F_OK) != 0, "%s was left behind", tmp);
    CHECK(access(path, F_OK) != 0);
    close(fd);
    unlink(tmp), rmdir(dir);
}

int main(int argc, char **argv) {
    if (argc == 3 && !strcmp(argv[1], "--write-corpus")) return write_corpus(argv[2]);
    RUN(test_type_table);
    RUN(test_fixture_llama);
    RUN(test_fixture_all);
    RUN(test_drop);
    RUN(test_read);
    RUN(test_round_trip);
    RUN(test_truncated);
    RUN(test_malformed);
    RUN(test_writer_errors);
    RUN(test_second_signal_removes_tmp);
    RUN(test_alloc_failures);
    return gt_test_finish();
}
