/* gs_pool: a fixed set of worker threads that run lists of independent tasks.
 *
 * The fast path splits its work into tasks whose results do not depend on which
 * thread runs them (each task writes its own outputs; a sum over the batch is split by
 * output, or over a fixed partition of the batch whose shares are added in a fixed
 * order), so a run's numbers are the same at any thread count, and tasks can be claimed
 * dynamically: on a shared machine a thread that loses its core simply takes fewer
 * tasks.
 *
 * While a task list runs, OpenBLAS is switched to one thread (each task calls
 * single-threaded sgemm on its own block) and restored afterwards; OpenBLAS's own
 * threads would otherwise be woken, and put back to sleep, for every small product.
 * Workers spin briefly between task lists (the gaps inside an epoch are short) and then
 * sleep on a condition variable, so an idle pool costs no CPU. */
#ifndef GS_POOL_H
#define GS_POOL_H

#include <cblas.h>
#include <stddef.h>

#include "error.h"

typedef struct gs_pool gs_pool;

/* task(arg, i, thread) for i = 0..n_tasks-1; thread is 0..n_threads-1 (0 = the caller). */
typedef void (*gs_pool_task)(void *arg, int i, int thread);

/* n_threads >= 1 counts the calling thread; scratch_bytes of 64-byte aligned memory per
 * thread (may be 0). */
int gs_pool_create(gs_pool **pool, int n_threads, size_t scratch_bytes, gs_err *err);
void gs_pool_free(gs_pool *pool); /* NULL is fine */

int gs_pool_threads(const gs_pool *pool); /* 1 for NULL */
void *gs_pool_scratch(gs_pool *pool, int thread);
size_t gs_pool_scratch_size(const gs_pool *pool);

/* Runs all tasks and returns when they are done (OpenBLAS single-threaded meanwhile, so
 * products give the same bits with or without a pool). A NULL pool runs them in order on
 * the calling thread. Not reentrant. */
void gs_pool_run(gs_pool *pool, int n_tasks, gs_pool_task task, void *arg);

/* Every task list of this pool, on every thread that runs it (the caller included, for
 * the duration of gs_pool_run), computes with subnormals flushed to zero (flush != 0) or
 * as IEEE subnormals (0, the default): core/fpenv.h. */
void gs_pool_set_flush_subnormals(gs_pool *pool, int flush);

/* The thread count of the pools the trainer and the probes create on the calling
 * thread: n once gs_pool_set_default_threads(n > 0) was called on that thread (the
 * command line's --threads; libgrokscope's per-handle count, set right before it creates
 * a trainer or a probe), else OpenBLAS's (which reads OPENBLAS_NUM_THREADS). Per
 * thread, so runs on different threads of one process cannot see each other's count. */
int gs_pool_default_threads(void);
void gs_pool_set_default_threads(int n);

/* ---- job lists: the work of one gs_pool_run gathered as plain functions on a range,
 * and sgemm products cut into blocks of rows ---- */

/* fn(ctx, a, b, thread): one job's work, on its index or range (a, b). */
typedef void (*gs_job_fn)(void *ctx, int a, int b, int thread);

typedef struct {
    gs_job_fn fn; /* NULL: the block of an sgemm below */
    int a, b;
    enum CBLAS_TRANSPOSE ta, tb;
    int M, N, K;
    const float *A, *B;
    int lda, ldb;
    float beta;
    float *C;
    int ldc;
} gs_job;

/* Jobs added between two gs_jobs_run are independent (each writes its own outputs), so
 * a full list may run early. Set pool (may be NULL) and ctx, and n = 0. */
typedef struct {
    gs_pool *pool;
    void *ctx; /* passed to every fn */
    gs_job list[256];
    int n;
} gs_jobs;

void gs_jobs_add(gs_jobs *js, gs_job_fn fn, int a, int b);
/* fn(ctx, lo, hi) over [0, n) in pieces of at most block */
void gs_jobs_add_blocks(gs_jobs *js, gs_job_fn fn, int n, int block);
/* C[M, N] = op(A) op(B) + beta C (row-major), cut into blocks of at most block rows of
 * C; a block is the same sums in the same order as the whole product. */
void gs_jobs_add_gemm(gs_jobs *js, enum CBLAS_TRANSPOSE ta, enum CBLAS_TRANSPOSE tb, int M, int N,
                      int K, const float *A, int lda, const float *B, int ldb, float beta, float *C,
                      int ldc, int block);
/* Runs the jobs added so far on the pool and empties the list. */
void gs_jobs_run(gs_jobs *js);

#endif
