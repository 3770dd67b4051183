/* pool.c: spin-then-sleep thread pool (see pool.h). */
#include "base/pool.h"

#include <assert.h>
#include <pthread.h>
#include <stdatomic.h>
#include <unistd.h>

#include "base/alloc.h"

#define SPIN_ITERS 20000 /* ~tens of µs of spinning before a worker sleeps */

struct gt_pool {
    int n;
    pthread_t *threads;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    _Atomic unsigned gen;     /* bumped for each job; workers wait for a change */
    _Atomic int pending;      /* workers still running the current job */
    _Atomic int stop;
    gt_pool_fn fn;
    void *arg;
};

typedef struct worker_arg {
    gt_pool *pool;
    int ith;
} worker_arg;

static inline void cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

static void *worker_main(void *p) {
    worker_arg wa = *(worker_arg *)p;
    gt_free(p);
    gt_pool *pool = wa.pool;
    unsigned seen = 0;
    for (;;) {
        unsigned g;
        int spins = 0;
        while ((g = atomic_load_explicit(&pool->gen, memory_order_acquire)) == seen &&
               !atomic_load(&pool->stop)) {
            if (++spins < SPIN_ITERS) { cpu_relax(); continue; }
            pthread_mutex_lock(&pool->mu);
            while (atomic_load(&pool->gen) == seen && !atomic_load(&pool->stop))
                pthread_cond_wait(&pool->cv, &pool->mu);
            pthread_mutex_unlock(&pool->mu);
        }
        if (atomic_load(&pool->stop)) return NULL;
        seen = g;
        pool->fn(pool->arg, wa.ith, pool->n);
        atomic_fetch_sub_explicit(&pool->pending, 1, memory_order_release);
    }
}

gt_pool *gt_pool_new(int n_threads) {
    if (n_threads < 1) n_threads = 1;
    if (n_threads > GT_POOL_MAX_THREADS) n_threads = GT_POOL_MAX_THREADS;
    gt_pool *pool = gt_calloc(1, sizeof *pool);
    if (!pool) return NULL;
    pool->n = n_threads;
    pthread_mutex_init(&pool->mu, NULL);
    pthread_cond_init(&pool->cv, NULL);
    if (n_threads > 1) {
        pool->threads = gt_calloc((size_t)n_threads, sizeof(pthread_t));
        if (!pool->threads) { gt_pool_free(pool); return NULL; }
        for (int i = 1; i < n_threads; i++) {
            worker_arg *wa = gt_malloc(sizeof *wa);
            if (!wa) { pool->n = i; gt_pool_free(pool); return NULL; }
            wa->pool = pool;
            wa->ith = i;
            if (pthread_create(&pool->threads[i], NULL, worker_main, wa) != 0) {
                gt_free(wa);
                pool->n = i;
                gt_pool_free(pool);
                return NULL;
            }
        }
    }
    return pool;
}

void gt_pool_free(gt_pool *pool) {
    if (!pool) return;
    pthread_mutex_lock(&pool->mu);
    atomic_store(&pool->stop, 1);
    pthread_cond_broadcast(&pool->cv);
    pthread_mutex_unlock(&pool->mu);
    for (int i = 1; i < pool->n && pool->threads; i++) pthread_join(pool->threads[i], NULL);
    pthread_mutex_destroy(&pool->mu);
    pthread_cond_destroy(&pool->cv);
    gt_free(pool->threads);
    gt_free(pool);
}

int gt_pool_size(const gt_pool *pool) { return pool->n; }

void gt_pool_run(gt_pool *pool, gt_pool_fn fn, void *arg) {
    if (pool->n == 1) { fn(arg, 0, 1); return; }
    assert(atomic_load(&pool->pending) == 0);
    pool->fn = fn;
    pool->arg = arg;
    atomic_store(&pool->pending, pool->n - 1);
    pthread_mutex_lock(&pool->mu);
    atomic_fetch_add_explicit(&pool->gen, 1, memory_order_release);
    pthread_cond_broadcast(&pool->cv);
    pthread_mutex_unlock(&pool->mu);
    fn(arg, 0, pool->n);
    while (atomic_load_explicit(&pool->pending, memory_order_acquire) > 0) cpu_relax();
}

int gt_cpu_count(void) {
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : (int)n;
}
