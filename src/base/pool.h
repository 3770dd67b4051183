/* pool.h: a fixed-size thread pool for data-parallel work.
 *
 * gt_pool_run(pool, fn, arg) calls fn(arg, ith, nth) once for every ith in
 * [0, nth) -- the caller's thread runs ith 0 -- and returns when all are done.
 * Work is split by the callee from (ith, nth), so which thread computes which
 * output is fixed: results never depend on scheduling (docs/architecture.md: determinism).
 * Workers spin briefly between jobs (inference issues thousands of small jobs
 * per second) and then sleep; the caller waits for a job's end the same way,
 * so an oversubscribed machine does not stall the pool.
 *
 * gt_pool_run_shared is for work that fn claims from shared state (an atomic
 * counter of chunks): the caller runs fn, and so does each worker that joins
 * before the caller's fn returns; late workers skip the job. A worker that is
 * not running when a job starts then delays nothing, and the result is still
 * deterministic as long as each chunk is computed the same way whoever
 * claims it. */
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
/* Runs fn on the caller's thread (ith 0) and on the workers that join in
 * time (see above); returns once every call has returned. fn must claim its
 * work so that the caller's call alone would do all of it. Not reentrant. */
void gt_pool_run_shared(gt_pool *pool, gt_pool_fn fn, void *arg);

/* Number of online CPUs (at least 1). */
int gt_cpu_count(void);

#endif
