#include "pool.h"

#include "fpenv.h"

#include <cblas.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define GS_PAUSE() _mm_pause()
#else
#define GS_PAUSE() ((void)0)
#endif

/* How long a thread waits actively before it sleeps: longer than the gaps inside an
 * epoch, short against anything a user would notice. */
#define GS_SPIN_NS 1000000L
/* For how long of that it spins on the CPU (pause); after that each check yields the
 * core (sched_yield). On a loaded machine the thread being waited for may be queued
 * behind the waiter on the same core: a waiter that only spun held that core for up to
 * GS_SPIN_NS per wait (a small MLP on 2 threads ran 10 to 100 times slower than on
 * one). Yielding costs a system call per check, which the quiet machine's short waits
 * never reach. */
#define GS_PAUSE_NS 20000L

struct gs_pool {
    int n_threads;
    size_t scratch_bytes;
    char *scratch;
    pthread_t *threads;
    int n_started;
    /* the current task list */
    gs_pool_task task;
    void *arg;
    int n_tasks;
    atomic_int next;        /* next task to claim */
    atomic_int n_done;      /* workers finished with the current list */
    atomic_uint generation; /* bumped for each list; workers wait for a change */
    atomic_int stop;
    atomic_int n_sleeping;  /* workers blocked on wake */
    atomic_int caller_sleeping; /* the caller blocked on done */
    atomic_int flush;       /* subnormal mode of every task list (core/fpenv.h) */
    pthread_mutex_t lock;
    pthread_cond_t wake, done;
};

typedef struct {
    gs_pool *pool;
    int id;
} worker_arg;

static long now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1000000000L + t.tv_nsec;
}

static void run_tasks(gs_pool *p, int thread)
{
    for (;;) {
        const int i = atomic_fetch_add_explicit(&p->next, 1, memory_order_relaxed);
        if (i >= p->n_tasks)
            break;
        p->task(p->arg, i, thread);
    }
}

/* The one wait of the pool, for the workers (a new task list) and for the caller (the
 * workers done): spin on ready(p, x) for up to GS_SPIN_NS, then sleep on cv, counted in
 * *sleepers so that whoever makes ready true knows to signal cv (under p->lock). */
static void wait_until(gs_pool *p, int (*ready)(gs_pool *, unsigned), unsigned x, pthread_cond_t *cv,
                       atomic_int *sleepers)
{
    long t0 = 0;
    int yielding = 0;
    for (unsigned spins = 0; !ready(p, x); spins++) {
        if (yielding || (spins & 255) == 255) {
            const long t = now_ns();
            if (!t0)
                t0 = t;
            else if (t - t0 > GS_PAUSE_NS)
                yielding = 1;
            if (t0 && t - t0 > GS_SPIN_NS) {
                pthread_mutex_lock(&p->lock);
                atomic_fetch_add(sleepers, 1);
                while (!ready(p, x))
                    pthread_cond_wait(cv, &p->lock);
                atomic_fetch_sub(sleepers, 1);
                pthread_mutex_unlock(&p->lock);
                return;
            }
        }
        if (yielding)
            sched_yield();
        else
            GS_PAUSE();
    }
}

/* a task list newer than generation `seen` is published, or the pool stops */
static int list_published(gs_pool *p, unsigned seen)
{
    return atomic_load(&p->generation) != seen || atomic_load(&p->stop);
}

/* all `workers` workers are done with the current list */
static int list_done(gs_pool *p, unsigned workers)
{
    return atomic_load(&p->n_done) >= (int)workers;
}

static void *worker(void *varg)
{
    gs_pool *p = ((worker_arg *)varg)->pool;
    const int id = ((worker_arg *)varg)->id;
    free(varg);
    unsigned seen = 0;
    gs_fpenv env;
    int flushing = -1; /* this worker's mode, set before the first list it runs */
    for (;;) {
        wait_until(p, list_published, seen, &p->wake, &p->n_sleeping);
        if (atomic_load(&p->stop))
            return NULL;
        seen = atomic_load(&p->generation);
        const int flush = atomic_load(&p->flush);
        if (flush != flushing) {
            gs_fpenv_enter(&env, flush);
            flushing = flush;
        }
        run_tasks(p, id);
        if (atomic_fetch_add(&p->n_done, 1) + 1 == p->n_threads - 1 && atomic_load(&p->caller_sleeping)) {
            pthread_mutex_lock(&p->lock);
            pthread_cond_signal(&p->done);
            pthread_mutex_unlock(&p->lock);
        }
    }
}

/* Per thread, not per process: libgrokscope trains two runs on two threads with their
 * own counts, each set just before its trainer or probe creates its pool. */
static _Thread_local int default_threads;

void gs_pool_set_default_threads(int n)
{
    default_threads = n > 0 ? n : 0;
}

int gs_pool_default_threads(void)
{
    const int set = default_threads;
    if (set > 0)
        return set;
    const int n = openblas_get_num_threads();
    return n > 0 ? n : 1;
}

void gs_pool_set_flush_subnormals(gs_pool *p, int flush)
{
    if (p)
        atomic_store(&p->flush, flush != 0);
}

int gs_pool_create(gs_pool **pool, int n_threads, size_t scratch_bytes, gs_err *err)
{
    *pool = NULL;
    if (n_threads < 1)
        n_threads = 1;
    gs_pool *p = calloc(1, sizeof *p);
    if (!p)
        return gs_err_set(err, "out of memory creating the thread pool");
    p->n_threads = n_threads;
    p->scratch_bytes = (scratch_bytes + 63) & ~(size_t)63;
    const size_t bytes = p->scratch_bytes * (size_t)n_threads;
    if (bytes && !(p->scratch = aligned_alloc(64, bytes))) {
        free(p);
        return gs_err_set(err, "out of memory creating the thread pool (%zu bytes of scratch)", bytes);
    }
    if (p->scratch)
        memset(p->scratch, 0, p->scratch_bytes * (size_t)n_threads);
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->wake, NULL);
    pthread_cond_init(&p->done, NULL);
    p->threads = calloc((size_t)n_threads, sizeof *p->threads);
    if (!p->threads) {
        gs_pool_free(p);
        return gs_err_set(err, "out of memory creating the thread pool");
    }
    for (int i = 1; i < n_threads; i++) {
        worker_arg *wa = malloc(sizeof *wa);
        if (!wa || (wa->pool = p, wa->id = i, pthread_create(&p->threads[i], NULL, worker, wa) != 0)) {
            free(wa);
            gs_pool_free(p);
            return gs_err_set(err, "cannot start worker thread %d of %d", i, n_threads);
        }
        p->n_started = i;
    }
    *pool = p;
    return 0;
}

void gs_pool_free(gs_pool *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->lock);
    atomic_store(&p->stop, 1);
    pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->lock);
    for (int i = 1; i <= p->n_started; i++)
        pthread_join(p->threads[i], NULL);
    pthread_mutex_destroy(&p->lock);
    pthread_cond_destroy(&p->wake);
    pthread_cond_destroy(&p->done);
    free(p->threads);
    free(p->scratch);
    free(p);
}

int gs_pool_threads(const gs_pool *p)
{
    return p ? p->n_threads : 1;
}

void *gs_pool_scratch(gs_pool *p, int thread)
{
    return p && p->scratch ? p->scratch + (size_t)thread * p->scratch_bytes : NULL;
}

size_t gs_pool_scratch_size(const gs_pool *p)
{
    return p ? p->scratch_bytes : 0;
}

void gs_pool_run(gs_pool *p, int n_tasks, gs_pool_task task, void *arg)
{
    if (n_tasks <= 0)
        return;
    /* the caller computes in the pool's mode too; a NULL pool keeps the caller's */
    gs_fpenv env;
    if (p)
        gs_fpenv_enter(&env, atomic_load(&p->flush));
    if (!p || p->n_threads == 1 || n_tasks == 1) {
        const int blas = openblas_get_num_threads();
        if (blas != 1)
            openblas_set_num_threads(1);
        for (int i = 0; i < n_tasks; i++)
            task(arg, i, 0);
        if (blas != 1)
            openblas_set_num_threads(blas);
        if (p)
            gs_fpenv_leave(&env);
        return;
    }
    const int blas = openblas_get_num_threads();
    if (blas != 1)
        openblas_set_num_threads(1);
    p->task = task;
    p->arg = arg;
    p->n_tasks = n_tasks;
    atomic_store(&p->next, 0);
    atomic_store(&p->n_done, 0);
    atomic_fetch_add(&p->generation, 1); /* publishes the list (seq_cst) */
    if (atomic_load(&p->n_sleeping) > 0) {
        pthread_mutex_lock(&p->lock);
        pthread_cond_broadcast(&p->wake);
        pthread_mutex_unlock(&p->lock);
    }
    run_tasks(p, 0);
    wait_until(p, list_done, (unsigned)(p->n_threads - 1), &p->done, &p->caller_sleeping);
    if (blas != 1)
        openblas_set_num_threads(blas);
    gs_fpenv_leave(&env);
}

static void run_job(void *arg, int i, int thread)
{
    const gs_jobs *js = arg;
    const gs_job *j = &js->list[i];
    if (j->fn)
        j->fn(js->ctx, j->a, j->b, thread);
    else
        cblas_sgemm(CblasRowMajor, j->ta, j->tb, j->M, j->N, j->K, 1.0f, j->A, j->lda, j->B,
                    j->ldb, j->beta, j->C, j->ldc);
}

void gs_jobs_run(gs_jobs *js)
{
    gs_pool_run(js->pool, js->n, run_job, js);
    js->n = 0;
}

static gs_job *new_job(gs_jobs *js)
{
    if (js->n == (int)(sizeof js->list / sizeof *js->list))
        gs_jobs_run(js);
    return &js->list[js->n++];
}

void gs_jobs_add(gs_jobs *js, gs_job_fn fn, int a, int b)
{
    *new_job(js) = (gs_job){.fn = fn, .a = a, .b = b};
}

void gs_jobs_add_blocks(gs_jobs *js, gs_job_fn fn, int n, int block)
{
    for (int i0 = 0; i0 < n; i0 += block)
        gs_jobs_add(js, fn, i0, n - i0 < block ? n : i0 + block);
}

void gs_jobs_add_gemm(gs_jobs *js, enum CBLAS_TRANSPOSE ta, enum CBLAS_TRANSPOSE tb, int M, int N,
                      int K, const float *A, int lda, const float *B, int ldb, float beta, float *C,
                      int ldc, int block)
{
    for (int i0 = 0; i0 < M; i0 += block)
        *new_job(js) = (gs_job){.ta = ta, .tb = tb, .M = M - i0 < block ? M - i0 : block, .N = N, .K = K,
                                .A = ta == CblasNoTrans ? A + (size_t)i0 * lda : A + i0, .lda = lda,
                                .B = B, .ldb = ldb, .beta = beta, .C = C + (size_t)i0 * ldc, .ldc = ldc};
}
