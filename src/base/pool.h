/* pool.h: a fixed-size thread pool for data-parallel work.
 *
 * gt_pool_run(pool, fn, arg) calls fn(arg, ith, nth) once for every ith in
 * [0, nth) -- the caller's thread runs ith 0 -- and returns when all are done.
 * Work is split by the callee from (ith, nth), so which thread computes which
 * output is fixed: results never depend on scheduling (DESIGN.md: determinism).
 * Workers spin briefly between jobs (inference issues thousands of small jobs
 * per second) and then sleep. */
#ifndef GT_BASE_POOL_H
#define GT_BASE_POOL_H

typedef struct gt_pool gt_pool;
typedef void (*gt_pool_fn)(void *arg, int ith, int nth);

#define GT_POOL_MAX_THREADS 256

/* Creates a pool of n_threads (>= 1; the caller counts as one). Caller frees
 * with gt_pool_free. Returns NULL when out of memory or threads. */
gt_pool *gt_pool_new(int n_threads);
void gt_pool_free(gt_pool *pool); /* accepts NULL */
int gt_pool_size(const gt_pool *pool);

/* Runs fn on every thread of the pool (see above). Not reentrant. */
void gt_pool_run(gt_pool *pool, gt_pool_fn fn, void *arg);

/* Number of online CPUs (at least 1). */
int gt_cpu_count(void);

#endif
