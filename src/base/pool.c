/* pool.c: spin-then-sleep thread pool (see pool.h).
 *
 * Jobs are published through `gen`: a counter in bits 1.. and, in bit 0,
 * whether every thread must run the job (gt_pool_run) or only those that
 * join in time (gt_pool_run_shared). Idle workers spin on gen for a short
 * while (inference issues thousands of small jobs per second), then sleep on
 * it with a futex. The caller waits for the job's end the same way: a short
 * spin, then a futex, so that on a machine with more runnable threads than
 * cores a waiting thread gives its core to the thread it waits for instead
 * of burning the time slice (the old pool spun without bound and collapsed
 * to a few jobs per time slice under load).
 *
 * Shared jobs: `join` holds JOIN_OPEN while the job takes new workers, plus
 * the count of workers inside it. A worker enters with a CAS that needs
 * JOIN_OPEN; the caller, once its own call of fn returns (the work is then
 * all claimed), clears JOIN_OPEN and waits for the count to reach zero.
 * Workers that arrive later find the job closed and go back to waiting. */
#include "base/pool.h"

#include <assert.h>
#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "base/alloc.h"

#define SPIN_IDLE_NS 100000  /* a worker spins this long for the next job, then sleeps */
#define SPIN_WAIT_NS 30000   /* the caller spins this long for the job's end, then sleeps */
#define SPIN_PURE_NS 2000    /* ... of which the first part without yielding the core */
#define JOIN_OPEN 0x80000000u
#define GEN_ALL 1u           /* bit 0 of gen: every thread runs the job */

struct gt_pool {
    int n;
    pthread_t *threads;
    _Atomic uint32_t gen;       /* futex word of idle workers */
    _Atomic uint32_t join;      /* shared jobs: JOIN_OPEN | workers inside (futex word) */
    _Atomic uint32_t done;      /* all-thread jobs: workers finished (futex word) */
    _Atomic int sleepers;       /* workers asleep on gen */
    _Atomic int caller_waits;   /* the caller is asleep on join or done */
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

static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Sleeps while *word == val (returns at once if it already differs, or on a
 * spurious wake: callers re-check). */
static void futex_wait(_Atomic uint32_t *word, uint32_t val) {
    syscall(SYS_futex, (uint32_t *)word, FUTEX_WAIT_PRIVATE, val, NULL, NULL, 0);
}

static void futex_wake(_Atomic uint32_t *word, int n) {
    syscall(SYS_futex, (uint32_t *)word, FUTEX_WAKE_PRIVATE, n, NULL, NULL, 0);
}

/* Spins until *word != val (returns 1) or spin_ns pass (returns 0). After
 * SPIN_PURE_NS it yields the core between checks: when our threads share a
 * core with other work, the thread we wait for may need this one. */
static int spin_change(_Atomic uint32_t *word, uint32_t val, uint64_t spin_ns) {
    uint64_t t0 = 0;
    for (unsigned i = 0;; i++) {
        if (atomic_load(word) != val) return 1;
        if (i % 32 == 31) {
            uint64_t t = now_ns();
            if (!t0) t0 = t;
            else if (t - t0 > spin_ns) return 0;
            else if (t - t0 > SPIN_PURE_NS) sched_yield();
        }
        cpu_relax();
    }
}

/* Returns once *word != val: spins up to spin_ns, then sleeps on the futex
 * with *sleeping raised (the writer wakes us when it sees it). */
static uint32_t wait_change(_Atomic uint32_t *word, uint32_t val, uint64_t spin_ns,
                            _Atomic int *sleeping) {
    uint32_t v;
    if (spin_change(word, val, spin_ns)) return atomic_load(word);
    for (;;) {
        atomic_fetch_add(sleeping, 1);
        if ((v = atomic_load(word)) == val) futex_wait(word, val);
        atomic_fetch_sub(sleeping, 1);
        if ((v = atomic_load(word)) != val) return v;
    }
}

/* Tries to enter the open shared job; 1 on success. */
static int try_join(gt_pool *pool) {
    uint32_t j = atomic_load(&pool->join);
    while (j & JOIN_OPEN)
        if (atomic_compare_exchange_weak(&pool->join, &j, j + 1)) return 1;
    return 0;
}

static void *worker_main(void *p) {
    worker_arg wa = *(worker_arg *)p;
    gt_free(p);
    gt_pool *pool = wa.pool;
    uint32_t seen = 0;
    for (;;) {
        uint32_t g = wait_change(&pool->gen, seen, SPIN_IDLE_NS, &pool->sleepers);
        if (atomic_load(&pool->stop)) return NULL;
        if (g & GEN_ALL) {
            /* The caller cannot move on without us: fn and arg are this job's. */
            pool->fn(pool->arg, wa.ith, pool->n);
            seen = g;
            atomic_fetch_add(&pool->done, 1);
            if (atomic_load(&pool->caller_waits)) futex_wake(&pool->done, 1);
            continue;
        }
        if (!try_join(pool)) {
            seen = g; /* closed: its work is done; wait for the next one */
            continue;
        }
        /* Inside the open job (perhaps a later one than g): it cannot end
         * before we leave, so fn and arg are stable. Its gen may not be
         * stored yet: then the loop meets this job again, finds nothing
         * left to claim, or finds it closed. */
        seen = atomic_load(&pool->gen);
        pool->fn(pool->arg, wa.ith, pool->n);
        if (atomic_fetch_sub(&pool->join, 1) == 1 && atomic_load(&pool->caller_waits))
            futex_wake(&pool->join, 1); /* last one out of a closed job */
    }
}

gt_pool *gt_pool_new(int n_threads) {
    if (n_threads < 1) n_threads = 1;
    if (n_threads > GT_POOL_MAX_THREADS) n_threads = GT_POOL_MAX_THREADS;
    gt_pool *pool = gt_calloc(1, sizeof *pool);
    if (!pool) return NULL;
    pool->n = n_threads;
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
    atomic_store(&pool->stop, 1);
    atomic_fetch_add(&pool->gen, 2);
    futex_wake(&pool->gen, INT_MAX);
    for (int i = 1; i < pool->n && pool->threads; i++) pthread_join(pool->threads[i], NULL);
    gt_free(pool->threads);
    gt_free(pool);
}

int gt_pool_size(const gt_pool *pool) { return pool->n; }

/* Publishes the job in pool->fn and pool->arg as the next one (all: every
 * thread must run it). */
static void publish(gt_pool *pool, int all) {
    uint32_t g = atomic_load(&pool->gen);
    atomic_store(&pool->gen, ((g >> 1) + 1) << 1 | (all ? GEN_ALL : 0));
    if (atomic_load(&pool->sleepers)) futex_wake(&pool->gen, INT_MAX);
}

/* The caller's wait until *word == want (the word only moves towards it). */
static void wait_for(gt_pool *pool, _Atomic uint32_t *word, uint32_t want) {
    uint32_t v;
    while ((v = atomic_load(word)) != want && spin_change(word, v, SPIN_WAIT_NS)) {
    }
    while ((v = atomic_load(word)) != want) {
        atomic_store(&pool->caller_waits, 1);
        if ((v = atomic_load(word)) != want) futex_wait(word, v);
        atomic_store(&pool->caller_waits, 0);
    }
}

void gt_pool_run(gt_pool *pool, gt_pool_fn fn, void *arg) {
    if (pool->n == 1) { fn(arg, 0, 1); return; }
    pool->fn = fn;
    pool->arg = arg;
    atomic_store(&pool->done, 0);
    publish(pool, 1);
    fn(arg, 0, pool->n);
    wait_for(pool, &pool->done, (uint32_t)pool->n - 1);
}

void gt_pool_run_shared(gt_pool *pool, gt_pool_fn fn, void *arg) {
    if (pool->n == 1) { fn(arg, 0, 1); return; }
    assert(atomic_load(&pool->join) == 0);
    /* fn and arg before the job opens: a worker late for the previous shared
     * job may join this one as soon as join is open, before gen moves (the
     * store to join releases them to its CAS). */
    pool->fn = fn;
    pool->arg = arg;
    atomic_store(&pool->join, JOIN_OPEN);
    publish(pool, 0);
    fn(arg, 0, pool->n);
    atomic_fetch_and(&pool->join, ~JOIN_OPEN);
    wait_for(pool, &pool->join, 0);
}

int gt_cpu_count(void) {
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : (int)n;
}
