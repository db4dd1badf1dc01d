#include "trainer.h"

#include <assert.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "batch.h"
#include "fpenv.h"
#include "pool.h"

/* Task mnist: loads the images, points the model at their pixels, and sets the
 * targets (labels) and the test set's rows. */
static int images_targets(gs_trainer *tr, gs_err *err)
{
    const gs_config *c = &tr->cfg;
    gs_err inner;
    if (gs_images_load(&tr->images, c->data_dir, c->train_size, c->test_size, &inner) != 0)
        return gs_err_set(err, "task mnist: %s", inner.msg);
    const int n_train = tr->split.n_train, n_test = tr->split.n_test;
    tr->test_rows = malloc((size_t)n_test * sizeof *tr->test_rows);
    if (!tr->test_rows)
        return gs_err_set(err, "out of memory allocating the trainer");
    for (int i = 0; i < n_train; i++) {
        const int32_t k = tr->split.train_idx[i];
        if (k < 0 || k >= tr->images.n_train)
            return gs_err_set(err, "task mnist: training image %d is not among the %d loaded",
                              (int)k, tr->images.n_train);
        tr->train_tgt[i] = tr->images.labels[k];
    }
    for (int i = 0; i < n_test; i++) {
        const int32_t k = tr->split.test_idx[i];
        if (k < 0 || k >= tr->images.n_test)
            return gs_err_set(err, "task mnist: test image %d is not among the %d loaded",
                              (int)k, tr->images.n_test);
        tr->test_rows[i] = tr->images.n_train + k;
        tr->test_tgt[i] = tr->images.labels[tr->images.n_train + k];
    }
    tr->model.pixels = tr->images.pixels;
    return 0;
}

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
    /* the fast path: per-token tables (one block, model_fast*.c; several blocks,
     * model_deep_fast.c); the MLP has one path */
    const gs_path path = GS_PATH_FAST;
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
    tr->model.loss = gs_loss_of(cfg);
    gs_pool_set_flush_subnormals(tr->pool, cfg->flush_subnormals);
    tr->test_tgt = tr->train_tgt + n_train;
    tr->adam_v = tr->adam_m + tr->model.n_params;
    for (int t = 0; t < tr->model.n_tensors; t++)
        tr->spans[t] = (gs_tensor_span){tr->model.info[t].offset, tr->model.info[t].count};
    if (gs_optim_init(&tr->optim, cfg, tr->model.n_params, tr->adam_m, tr->adam_v, tr->spans,
                      tr->model.n_tensors, err) != 0)
        goto fail;
    if (cfg->task == GS_TASK_MNIST) {
        if (images_targets(tr, err) != 0)
            goto fail;
        return 0;
    }
    tr->test_rows = tr->split.test_idx;
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
    gs_optim_free(&tr->optim);
    gs_model_free(&tr->model);
    gs_pool_free(tr->pool);
    gs_split_free(&tr->split);
    if (tr->cfg.task == GS_TASK_MNIST) {
        gs_images_free(&tr->images);
        free(tr->test_rows);
    }
    free(tr->train_tgt);
    free(tr->adam_m);
    free(tr->perm);
    memset(tr, 0, sizeof *tr);
}

const char *gs_trainer_path(const gs_trainer *tr)
{
    return tr->dims.kind == GS_MODEL_MLP ? "mlp"
           : tr->model.fast || tr->model.deep_fast ? "fast" : "reference";
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
    out->collapse_frac = (double)e.n_collapsed / e.n;
    out->grad_norm = out->grad_cos = NAN; /* gs_trainer_backward's */
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
    const gs_eval te = gs_model_evaluate_chunks(m, tr->test_rows, tr->test_tgt, tr->split.n_test,
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

void gs_trainer_begin(gs_trainer *tr)
{
    float *p = tr->model.params;
    const float a = (float)tr->cfg.init_scale;
    if (tr->cfg.init_scale != 1.0)
        for (size_t i = 0; i < tr->model.n_params; i++)
            p[i] *= a;
    gs_trainer_set_init(tr, p);
}

void gs_trainer_set_init(gs_trainer *tr, const float *theta0)
{
    gs_optim_set_init(&tr->optim, theta0);
    tr->begun = 1;
}

void gs_trainer_backward(gs_trainer *tr, gs_epoch_metrics *out)
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
    if (out) {
        const gs_grad_sums s = gs_grad_sums_of(m->params, m->grads, m->n_params, tr->pool);
        out->grad_norm = sqrt(s.gg);
        out->grad_cos = s.gg > 0.0 && s.ww > 0.0 ? s.gw / (sqrt(s.gg) * sqrt(s.ww)) : NAN;
    }
    gs_fpenv_leave(&env);
}

void gs_trainer_step(gs_trainer *tr)
{
    /* the decay toward init and the fixed norm need theta_0 */
    assert(tr->begun || (!tr->cfg.wd_to_init && !tr->cfg.fix_norm));
    gs_fpenv env;
    gs_fpenv_enter(&env, tr->cfg.flush_subnormals);
    gs_optim_step(&tr->optim, tr->model.params, tr->model.grads, tr->step, tr->pool);
    tr->step++;
    gs_fpenv_leave(&env);
}

void gs_trainer_update(gs_trainer *tr)
{
    gs_trainer_backward(tr, NULL);
    gs_trainer_step(tr);
}
