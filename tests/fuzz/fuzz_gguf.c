/* fuzz_gguf.c: the GGUF reader on arbitrary bytes. Whatever parses must be
 * safe to walk completely (every key, array element and tensor byte), and
 * must survive a copy through the writer and parse again. */
#include <stdint.h>
#include <string.h>

#include "base/alloc.h"
#include "infer/gguf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    gt_gguf *g = NULL;
    gt_err err;
    if (gt_gguf_parse(data, size, &g, &err)) return 0;
    volatile uint64_t sink = 0;
    for (uint64_t i = 0; i < g->n_kv; i++) {
        const gt_gguf_kv *kv = &g->kv[i];
        if (kv->type == GT_GGUF_STRING && kv->str.len) sink += (uint8_t)kv->str.ptr[kv->str.len - 1];
        if (kv->type == GT_GGUF_ARRAY && kv->arr_type == GT_GGUF_STRING)
            for (uint64_t j = 0; j < kv->arr_len; j++) {
                gt_gguf_str s = gt_gguf_arr_str(kv, j);
                if (s.len) sink += (uint8_t)s.ptr[s.len - 1];
            }
        uint32_t u;
        float f;
        int b;
        gt_gguf_str s;
        char key[GT_GGUF_MAX_NAME + 1];
        memcpy(key, kv->key.ptr, (size_t)kv->key.len);
        key[kv->key.len] = 0;
        gt_gguf_get_u32(g, key, &u, &err);
        gt_gguf_get_f32(g, key, &f, &err);
        gt_gguf_get_bool(g, key, &b, &err);
        gt_gguf_get_str(g, key, &s, &err);
    }
    for (uint64_t i = 0; i < g->n_tensors; i++) {
        const gt_gguf_tensor *t = &g->tensors[i];
        if (t->nbytes) sink += ((const uint8_t *)t->data)[t->nbytes - 1];
    }
    gt_gguf_writer *w = gt_gguf_writer_new();
    for (uint64_t i = 0; i < g->n_kv; i++) gt_gguf_writer_copy_kv(w, &g->kv[i]);
    uint8_t *buf;
    size_t len;
    if (!gt_gguf_writer_to_mem(w, &buf, &len, &err)) {
        gt_gguf *g2 = NULL;
        if (gt_gguf_parse(buf, len, &g2, &err) || g2->n_kv != g->n_kv) __builtin_trap();
        gt_gguf_close(g2);
        gt_free(buf);
    }
    gt_gguf_writer_free(w);
    gt_gguf_close(g);
    (void)sink;
    return 0;
}
