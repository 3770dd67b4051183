/* test_containers.c: the growable array (base/vec.h) and the hash map
 * (base/map.h): contents against a plain model, growth, overflow refused,
 * and out of memory at every allocation leaving the container as it was. */
#include <stdint.h>
#include <string.h>

#include "../test.h"
#include "base/alloc.h"
#include "base/err.h"
#include "base/map.h"
#include "base/vec.h"

typedef struct item { uint64_t a; uint32_t b; } item;

static void test_vec_push(void) {
    gt_vec v;
    gt_vec_init(&v, sizeof(item));
    for (uint32_t i = 0; i < 1000; i++) {
        item it = {.a = (uint64_t)i * 7, .b = i};
        CHECK_EQ_INT(gt_vec_push(&v, &it), 0);
    }
    CHECK_EQ_U64(v.n, 1000);
    CHECK(v.cap >= 1000 && (v.cap & (v.cap - 1)) == 0);
    for (uint32_t i = 0; i < 1000; i++) {
        item *it = gt_vec_at(&v, i);
        CHECK(it->a == (uint64_t)i * 7 && it->b == i);
    }
    CHECK(GT_VEC_DATA(&v, item)[999].b == 999);
    gt_vec_truncate(&v, 10);
    CHECK_EQ_U64(v.n, 10);
    item *z = gt_vec_push_zero(&v);
    CHECK(z && z->a == 0 && z->b == 0 && v.n == 11);
    gt_vec_free(&v);
    CHECK(v.data == NULL && v.n == 0 && v.cap == 0);
    gt_vec_free(NULL);
}

static void test_vec_append_bytes(void) {
    gt_vec v;
    gt_vec_init(&v, 1);
    char buf[5000];
    for (size_t i = 0; i < sizeof buf; i++) buf[i] = (char)(i * 31);
    CHECK_EQ_INT(gt_vec_append(&v, buf, 3), 0);
    CHECK_EQ_INT(gt_vec_append(&v, buf + 3, sizeof buf - 3), 0); /* one call past several doublings */
    CHECK_EQ_U64(v.n, sizeof buf);
    CHECK(!memcmp(v.data, buf, sizeof buf));
    CHECK_EQ_INT(gt_vec_append(&v, NULL, 0), 0);
    CHECK_EQ_U64(v.n, sizeof buf);
    gt_vec_free(&v);
}

static void test_vec_overflow(void) {
    gt_vec v;
    gt_vec_init(&v, 64);
    CHECK_EQ_INT(gt_vec_reserve(&v, SIZE_MAX / 64 + 1), GT_EOVERFLOW);
    CHECK(v.data == NULL && v.cap == 0);
    item it = {1, 2};
    gt_vec w;
    gt_vec_init(&w, sizeof it);
    CHECK_EQ_INT(gt_vec_push(&w, &it), 0);
    CHECK_EQ_INT(gt_vec_append(&w, &it, SIZE_MAX), GT_EOVERFLOW); /* n + count wraps */
    CHECK_EQ_U64(w.n, 1);
    gt_vec_free(&w);
}

/* Out of memory at the k-th allocation for every k: the array keeps what it
 * had, and a later push succeeds. */
static void test_vec_oom(void) {
    for (long k = 0; k < 8; k++) {
        gt_vec v;
        gt_vec_init(&v, sizeof(uint64_t));
        gt_alloc_fail_after(k);
        size_t ok = 0;
        for (uint64_t i = 0; i < 500; i++) {
            if (gt_vec_push(&v, &i)) break;
            ok++;
        }
        gt_alloc_fail_after(-1);
        CHECK_EQ_U64(v.n, ok);
        for (size_t i = 0; i < ok; i++) CHECK(GT_VEC_DATA(&v, uint64_t)[i] == i);
        uint64_t x = 42;
        CHECK_EQ_INT(gt_vec_push(&v, &x), 0);
        gt_vec_free(&v);
    }
}

static void key_of(uint32_t i, uint8_t k[20]) {
    memset(k, 0, 20);
    memcpy(k + 16, &i, 4); /* keys that differ only at the end */
}

static void test_map_model(void) {
    gt_map m;
    gt_map_init(&m, 20, sizeof(uint64_t));
    uint8_t k[20];
    CHECK(gt_map_get(&m, k) == NULL);
    for (uint32_t i = 0; i < 5000; i++) {
        key_of(i, k);
        void *v;
        int added = -1;
        CHECK_EQ_INT(gt_map_put(&m, k, &v, &added), 0);
        CHECK_EQ_INT(added, 1);
        CHECK(*(uint64_t *)v == 0);
        *(uint64_t *)v = (uint64_t)i * 3 + 1;
    }
    CHECK_EQ_U64(m.n, 5000);
    CHECK(m.n * 2 <= m.cap);
    for (uint32_t i = 0; i < 5000; i++) {
        key_of(i, k);
        uint64_t *v = gt_map_get(&m, k);
        CHECK(v && *v == (uint64_t)i * 3 + 1);
        int added = -1;
        void *again;
        CHECK_EQ_INT(gt_map_put(&m, k, &again, &added), 0);
        CHECK(added == 0 && again == v); /* a present key neither moves nor resets */
    }
    key_of(5000, k);
    CHECK(gt_map_get(&m, k) == NULL);
    /* The walk sees every entry once. */
    size_t it = 0, seen = 0;
    uint64_t sum = 0;
    const void *key;
    for (uint64_t *v; (v = gt_map_next(&m, &it, &key));) {
        uint32_t i;
        memcpy(&i, (const uint8_t *)key + 16, 4);
        CHECK(*v == (uint64_t)i * 3 + 1);
        sum += i;
        seen++;
    }
    CHECK_EQ_U64(seen, 5000);
    CHECK_EQ_U64(sum, 4999ull * 5000 / 2);
    gt_map_clear(&m);
    CHECK_EQ_U64(m.n, 0);
    key_of(7, k);
    CHECK(gt_map_get(&m, k) == NULL);
    gt_map_free(&m);
    gt_map_free(NULL);
}

static void test_map_set(void) {
    gt_map s;
    gt_map_init(&s, 32, 0);
    uint8_t h[32] = {0};
    int added;
    CHECK_EQ_INT(gt_map_put(&s, h, NULL, &added), 0);
    CHECK_EQ_INT(added, 1);
    CHECK_EQ_INT(gt_map_put(&s, h, NULL, &added), 0);
    CHECK_EQ_INT(added, 0);
    h[31] = 1;
    CHECK(gt_map_get(&s, h) == NULL);
    CHECK_EQ_INT(gt_map_put(&s, h, NULL, NULL), 0);
    CHECK(gt_map_get(&s, h) != NULL);
    CHECK_EQ_U64(s.n, 2);
    gt_map_free(&s);
    /* FNV-1a's published test value. */
    CHECK_EQ_U64(gt_hash_bytes("a", 1), 0xaf63dc4c8601ec8cull);
}

/* Out of memory while growing: the map keeps every entry it had. */
static void test_map_oom(void) {
    for (long k = 0; k < 6; k++) {
        gt_map m;
        gt_map_init(&m, 8, sizeof(uint32_t));
        gt_alloc_fail_after(k);
        uint64_t n = 0;
        for (; n < 2000; n++) {
            void *v;
            if (gt_map_put(&m, &n, &v, NULL)) break;
            *(uint32_t *)v = (uint32_t)n;
        }
        gt_alloc_fail_after(-1);
        CHECK(n < 2000);
        CHECK_EQ_U64(m.n, n);
        for (uint64_t i = 0; i < n; i++) {
            uint32_t *v = gt_map_get(&m, &i);
            CHECK(v && *v == (uint32_t)i);
        }
        CHECK(gt_map_get(&m, &n) == NULL);
        gt_map_free(&m);
    }
}

int main(void) {
    RUN(test_vec_push);
    RUN(test_vec_append_bytes);
    RUN(test_vec_overflow);
    RUN(test_vec_oom);
    RUN(test_map_model);
    RUN(test_map_set);
    RUN(test_map_oom);
    return gt_test_finish();
}
