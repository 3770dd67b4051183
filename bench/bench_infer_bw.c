/* bench_infer_bw.c: memory read bandwidth, for the decode bound of
 * bench/infer.sh. THREADS threads stream 256-bit loads over their share of a
 * buffer much larger than the last-level cache (default 1 GiB, in huge pages
 * where allowed), 16 passes; the best pass is reported in GB/s (1e9
 * bytes/s) as one JSON line. On a shared machine other processes take part
 * of the bandwidth in most passes: the best one is the closest to the
 * machine's own figure.
 *
 * usage: bench_infer_bw [THREADS] [MIB] */
#include <immintrin.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "base/alloc.h"

typedef struct part {
    const uint8_t *p;
    size_t n;
    uint64_t sink;
} part;

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

__attribute__((target("avx2"))) static uint64_t read_avx2(const uint8_t *p, size_t n) {
    __m256i a0 = _mm256_setzero_si256(), a1 = a0, a2 = a0, a3 = a0;
    for (size_t i = 0; i + 128 <= n; i += 128) {
        a0 = _mm256_xor_si256(a0, _mm256_load_si256((const __m256i *)(p + i)));
        a1 = _mm256_xor_si256(a1, _mm256_load_si256((const __m256i *)(p + i + 32)));
        a2 = _mm256_xor_si256(a2, _mm256_load_si256((const __m256i *)(p + i + 64)));
        a3 = _mm256_xor_si256(a3, _mm256_load_si256((const __m256i *)(p + i + 96)));
    }
    a0 = _mm256_xor_si256(_mm256_xor_si256(a0, a1), _mm256_xor_si256(a2, a3));
    return (uint64_t)_mm256_extract_epi64(a0, 0) ^ (uint64_t)_mm256_extract_epi64(a0, 3);
}

static uint64_t read_scalar(const uint8_t *p, size_t n) {
    uint64_t s = 0, v;
    for (size_t i = 0; i + 8 <= n; i += 8) {
        memcpy(&v, p + i, 8);
        s ^= v;
    }
    return s;
}

static void *worker(void *arg) {
    part *pt = arg;
    pt->sink = __builtin_cpu_supports("avx2") ? read_avx2(pt->p, pt->n) : read_scalar(pt->p, pt->n);
    return NULL;
}

int main(int argc, char **argv) {
    int threads = argc > 1 ? atoi(argv[1]) : 2;
    size_t mib = argc > 2 ? (size_t)atol(argv[2]) : 1024;
    if (threads < 1 || threads > 64 || mib < 64 || mib > 65536) {
        fprintf(stderr, "usage: bench_infer_bw [THREADS 1..64] [MIB 64..65536]\n");
        return 2;
    }
    size_t n = mib << 20, align = 2u << 20;
    uint8_t *raw = gt_malloc(n + align);
    if (!raw) {
        fprintf(stderr, "out of memory for %zu MiB\n", mib);
        return 1;
    }
    uint8_t *buf = (uint8_t *)(((uintptr_t)raw + align - 1) & ~(uintptr_t)(align - 1));
#ifdef MADV_HUGEPAGE
    madvise(buf, n, MADV_HUGEPAGE);
#endif
    for (size_t i = 0; i < n; i++) buf[i] = (uint8_t)(i * 131);
    double best = 0;
    uint64_t sink = 0;
    for (int pass = 0; pass < 16; pass++) {
        pthread_t th[64];
        part parts[64];
        size_t share = (n / (size_t)threads) & ~(size_t)127;
        double t0 = now_s();
        for (int i = 0; i < threads; i++) {
            parts[i] = (part){buf + share * (size_t)i, share, 0};
            pthread_create(&th[i], NULL, worker, &parts[i]);
        }
        for (int i = 0; i < threads; i++) {
            pthread_join(th[i], NULL);
            sink ^= parts[i].sink;
        }
        double gbs = (double)share * threads / (now_s() - t0) / 1e9;
        if (gbs > best) best = gbs;
    }
    printf("{\"threads\":%d,\"mib\":%zu,\"read_gb_s\":%.3f,\"sink\":%llu}\n", threads, mib, best,
           (unsigned long long)(sink & 1));
    gt_free(raw);
    return 0;
}
