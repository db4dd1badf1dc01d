/* Subnormal modes (core/fpenv.h): what flushing does to a float, that every thread of a
 * pool computes in the pool's mode, that the caller's own mode comes back afterwards, and
 * that a trainer's pool follows its run's definition. */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "config.h"
#include "fpenv.h"
#include "params.h"
#include "pool.h"
#include "task.h"
#include "trainer.h"

/* volatile: the compiler must not fold these at compile time (in IEEE mode) */
static volatile float tiny_a = 1e-30f, tiny_b = 1e-10f, subnormal = 1e-40f;

/* what one thread sees: 1 if a subnormal result came out as 0 and a subnormal input was
 * read as 0; 0 if both behaved as IEEE says */
static int flushes_here(void)
{
    const float product = tiny_a * tiny_b;   /* 1e-40: subnormal, or 0 with FTZ */
    const float doubled = subnormal * 2.0f;  /* 2e-40, or 0 with DAZ */
    const int ftz = product == 0.0f, daz = doubled == 0.0f;
    return ftz && daz ? 1 : !ftz && !daz ? 0 : -1;
}

enum { N_TASKS = 64 };

typedef struct {
    int seen[N_TASKS];     /* flushes_here() per task */
    int flushing[N_TASKS]; /* gs_fpenv_flushing() per task */
} probe_result;

static void probe_task(void *arg, int i, int thread)
{
    (void)thread;
    probe_result *r = arg;
    r->seen[i] = flushes_here();
    r->flushing[i] = gs_fpenv_flushing();
}

static void check_pool(gs_pool *pool, int want)
{
    probe_result r;
    memset(&r, 0xff, sizeof r);
    gs_pool_run(pool, N_TASKS, probe_task, &r);
    for (int i = 0; i < N_TASKS; i++) {
        CHECK(r.seen[i] == want);
        CHECK(r.flushing[i] == want);
    }
}

int main(void)
{
    if (!gs_fpenv_supported()) {
        printf("fpenv: this CPU architecture cannot flush subnormals; skipped\n");
        return 77;
    }
    CHECK(fpclassify(subnormal) == FP_SUBNORMAL);
    CHECK(flushes_here() == 0); /* a fresh process computes with IEEE subnormals */
    CHECK(!gs_fpenv_flushing());

    gs_fpenv env, inner;
    gs_fpenv_enter(&env, 1);
    CHECK(flushes_here() == 1 && gs_fpenv_flushing());
    gs_fpenv_enter(&inner, 0); /* nesting: IEEE inside a flushing scope */
    CHECK(flushes_here() == 0);
    gs_fpenv_leave(&inner);
    CHECK(flushes_here() == 1);
    gs_fpenv_leave(&env);
    CHECK(flushes_here() == 0);

    /* A pool's workers and its caller compute in the pool's mode, whatever the caller's
     * own mode; the caller's mode is restored when the list is done. */
    gs_err err;
    gs_pool *pool = NULL;
    CHECK(gs_pool_create(&pool, 2, 0, &err) == 0);
    if (pool) {
        check_pool(pool, 0);
        gs_pool_set_flush_subnormals(pool, 1);
        for (int rep = 0; rep < 20; rep++) /* both threads take tasks in some rounds */
            check_pool(pool, 1);
        CHECK(flushes_here() == 0);
        gs_fpenv_enter(&env, 1);
        gs_pool_set_flush_subnormals(pool, 0);
        check_pool(pool, 0);
        CHECK(flushes_here() == 1);
        gs_fpenv_leave(&env);
        gs_pool_free(pool);
    }

    /* A trainer's pool follows the run's definition, and a training step leaves the
     * caller's mode as it was. */
    for (int flush = 0; flush <= 1; flush++) {
        gs_config cfg;
        gs_config_default(&cfg);
        cfg.p = 11;
        cfg.d_model = 16;
        cfg.n_heads = 2;
        cfg.d_mlp = 32;
        cfg.frac = 0.5;
        cfg.flush_subnormals = flush;
        gs_split split;
        gs_trainer tr;
        CHECK(gs_split_make(&split, cfg.p, cfg.op, cfg.frac, cfg.seed, &err) == 0);
        CHECK(gs_trainer_init(&tr, &cfg, &split, &err) == 0);
        gs_params_init(tr.model.params, &tr.dims, cfg.seed);
        check_pool(tr.pool, flush);
        gs_epoch_metrics m;
        gs_trainer_measure(&tr, &m);
        gs_trainer_update(&tr);
        CHECK(flushes_here() == 0);
        CHECK(isfinite(m.train_loss) && isfinite(m.test_loss));
        gs_trainer_free(&tr);
    }
    return check_report("fpenv");
}
