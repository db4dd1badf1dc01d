#include "trainer.h"

#include <assert.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "adamw.h"
#include "batch.h"
#include "fpenv.h"
#include "pool.h"

int gs_trainer_init(gs_trainer *tr, const gs_config *cfg, gs_split *split, gs_err *err)
{
    memset(tr, 0, sizeof *tr);
    tr->cfg = *cfg;
    tr->split = *split;
    memset(split, 0, sizeof *split);
    gs_config_dims(cfg, &tr->dims);
    const int n_train = tr->split.n_train, n_test = tr->split.n_test;
    tr->batch = cfg->batch > 0 && cfg->batch < n_train ? cfg->batch : n_train;
    tr->perm_pass = -1;
    /* The training batch is the largest forward+backward; the test set is evaluated in
     * chunks of the same size, so memory does not grow with the test set. */
    /* the per-token tables exist for the one-block transformer only */
    const gs_path path = tr->dims.n_layers == 1 ? GS_PATH_FAST : GS_PATH_REFERENCE;
    if (gs_model_create(&tr->model, &tr->dims, n_train, path, err) != 0)
        goto fail;
    tr->train_tgt = malloc(((size_t)n_train + (size_t)n_test) * sizeof(int32_t));
    tr->adam_m = calloc(2 * tr->model.n_params, sizeof(float));
    if (tr->batch < n_train)
        tr->perm = malloc(((size_t)n_train + 2 * (size_t)tr->batch) * sizeof(int32_t));
    if (!tr->train_tgt || !tr->adam_m || (tr->batch < n_train && !tr->perm)) {
        gs_err_set(err, "out of memory allocating the trainer");
        goto fail;
    }
    if (tr->perm) {
        tr->batch_idx = tr->perm + n_train;
        tr->batch_tgt = tr->batch_idx + tr->batch;
    }
    if (gs_pool_create(&tr->pool, gs_pool_default_threads(), gs_model_scratch_size(&tr->dims), err) != 0)
        goto fail;
    tr->model.pool = tr->pool;
    gs_pool_set_flush_subnormals(tr->pool, cfg->flush_subnormals);
    tr->test_tgt = tr->train_tgt + n_train;
    tr->adam_v = tr->adam_m + tr->model.n_params;
    const int p = cfg->p;
    for (int i = 0; i < n_train; i++)
        tr->train_tgt[i] = gs_task_answer(cfg->op, p, tr->split.train_idx[i] / p, tr->split.train_idx[i] % p);
    for (int i = 0; i < n_test; i++)
        tr->test_tgt[i] = gs_task_answer(cfg->op, p, tr->split.test_idx[i] / p, tr->split.test_idx[i] % p);
    for (int i = 0; i < n_train + n_test; i++)
        if (tr->train_tgt[i] < 0) {
            gs_err_set(err, "the split holds a pair whose answer is undefined for %s mod %d",
                       gs_op_name(cfg->op), p);
            goto fail;
        }
    return 0;
fail:
    gs_trainer_free(tr);
    return -1;
}

void gs_trainer_free(gs_trainer *tr)
{
    gs_model_free(&tr->model);
    gs_pool_free(tr->pool);
    gs_split_free(&tr->split);
    free(tr->train_tgt);
    free(tr->adam_m);
    free(tr->perm);
    memset(tr, 0, sizeof *tr);
}

const char *gs_trainer_path(const gs_trainer *tr)
{
    return tr->dims.kind == GS_MODEL_MLP ? "mlp" : tr->model.fast ? "fast" : "reference";
}

/* Full batch: the training set's forward is the step's (GS_ROWS_TRAIN keeps what the
 * backward needs). Minibatch: the metrics are still over the whole training set, in
 * chunks like the test set; the step runs its own batch in gs_trainer_update. */
static void train_metrics(gs_trainer *tr, gs_epoch_metrics *out)
{
    const gs_eval e = tr->batch < tr->split.n_train
        ? gs_model_evaluate_chunks(&tr->model, tr->split.train_idx, tr->train_tgt,
                                   tr->split.n_train, GS_ROWS_EVAL, NULL, NULL)
        : gs_model_rows(&tr->model, tr->split.train_idx, tr->train_tgt, tr->split.n_train,
                        GS_ROWS_TRAIN);
    out->train_loss = e.loss_sum / e.n;
    out->train_acc = (double)e.n_correct / e.n;
}

void gs_trainer_measure(gs_trainer *tr, gs_epoch_metrics *out)
{
    gs_model *m = &tr->model;
    gs_fpenv env; /* the run's subnormal mode on this thread too (the pool sets its own) */
    gs_fpenv_enter(&env, tr->cfg.flush_subnormals);
    gs_model_prepare(m);
    /* The test set in chunks of the batch size, as every evaluation of a set runs, so
     * that recomputing the metrics from a checkpoint (the probes, gs_model_evaluate)
     * gives the same bits. Then the training set, whose activations stay for the
     * update. */
    const gs_eval te = gs_model_evaluate_chunks(m, tr->split.test_idx, tr->test_tgt, tr->split.n_test,
                                                GS_ROWS_EVAL, NULL, NULL);
    train_metrics(tr, out);
    out->test_loss = te.loss_sum / te.n;
    out->test_acc = (double)te.n_correct / te.n;
    gs_fpenv_leave(&env);
}

void gs_trainer_measure_train(gs_trainer *tr, gs_epoch_metrics *out)
{
    gs_fpenv env;
    gs_fpenv_enter(&env, tr->cfg.flush_subnormals);
    gs_model_prepare(&tr->model);
    train_metrics(tr, out);
    gs_fpenv_leave(&env);
    out->test_loss = out->test_acc = NAN;
}

typedef struct {
    gs_trainer *tr;
    size_t slice;
    gs_adamw_scalars s;
} adamw_job;

static void adamw_task(void *arg, int i, int thread)
{
    (void)thread;
    const adamw_job *j = arg;
    gs_trainer *tr = j->tr;
    const size_t n = tr->model.n_params, at = (size_t)i * j->slice;
    const size_t len = n - at < j->slice ? n - at : j->slice;
    gs_adamw_update_simd(tr->model.params + at, tr->model.grads + at, tr->adam_m + at, tr->adam_v + at,
                         len, &j->s);
}

void gs_trainer_update(gs_trainer *tr)
{
    gs_model *m = &tr->model;
    gs_fpenv env;
    gs_fpenv_enter(&env, tr->cfg.flush_subnormals);
    memset(m->grads, 0, m->n_params * sizeof(float));
    if (tr->batch < tr->split.n_train) {
        /* this step's minibatch, forward (on the weights gs_trainer_measure prepared)
         * and backward */
        const int n = tr->split.n_train, b = tr->batch;
        const long pass = gs_batch_pass(tr->step, n, b);
        if (pass != tr->perm_pass) {
            gs_batch_perm(tr->perm, n, tr->cfg.seed, pass);
            tr->perm_pass = pass;
        }
        const int at = gs_batch_start(tr->step, n, b);
        for (int i = 0; i < b; i++) {
            tr->batch_idx[i] = tr->split.train_idx[tr->perm[at + i]];
            tr->batch_tgt[i] = tr->train_tgt[tr->perm[at + i]];
        }
        gs_model_rows(m, tr->batch_idx, tr->batch_tgt, b, GS_ROWS_TRAIN);
        gs_model_backward(m, tr->batch_idx, tr->batch_tgt, b);
    } else {
        gs_model_backward(m, tr->split.train_idx, tr->train_tgt, tr->split.n_train);
    }
    /* AdamW is elementwise: slices give the same bits as one call (gs_adamw_step's bits) */
    enum { SLICES = 8 };
    adamw_job j = {tr, ((m->n_params + SLICES - 1) / SLICES + 15) & ~(size_t)15,
                   gs_adamw_scalars_at(&tr->cfg, tr->step)};
    gs_pool_run(tr->pool, (int)((m->n_params + j.slice - 1) / j.slice), adamw_task, &j);
    tr->step++;
    gs_fpenv_leave(&env);
}
