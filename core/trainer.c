#include "trainer.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "adamw.h"

int gs_trainer_init(gs_trainer *tr, const gs_config *cfg, gs_split *split, gs_err *err)
{
    memset(tr, 0, sizeof *tr);
    tr->cfg = *cfg;
    tr->split = *split;
    memset(split, 0, sizeof *split);
    gs_dims_make(&tr->dims, cfg->p, cfg->d_model, cfg->n_heads, cfg->d_mlp);
    const int n_train = tr->split.n_train, n_test = tr->split.n_test;
    /* The training batch is the largest forward+backward; the test set is evaluated in
     * chunks of the same size, so memory does not grow with the test set. */
    if (gs_model_create(&tr->model, &tr->dims, n_train, GS_PATH_FAST, err) != 0)
        goto fail;
    tr->train_tgt = malloc(((size_t)n_train + (size_t)n_test) * sizeof(int32_t));
    tr->adam_m = calloc(2 * tr->model.n_params, sizeof(float));
    if (!tr->train_tgt || !tr->adam_m) {
        gs_err_set(err, "out of memory allocating the trainer");
        goto fail;
    }
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
    gs_split_free(&tr->split);
    free(tr->train_tgt);
    free(tr->adam_m);
    memset(tr, 0, sizeof *tr);
}

void gs_trainer_measure(gs_trainer *tr, gs_epoch_metrics *out)
{
    /* Test first: the training forward must be the last one, its activations feed the
     * backward pass. */
    gs_eval te = gs_model_evaluate(&tr->model, tr->split.test_idx, tr->test_tgt, tr->split.n_test);
    gs_eval tr_ = gs_model_forward(&tr->model, tr->split.train_idx, tr->train_tgt, tr->split.n_train);
    out->train_loss = tr_.loss_sum / tr_.n;
    out->train_acc = (double)tr_.n_correct / tr_.n;
    out->test_loss = te.loss_sum / te.n;
    out->test_acc = (double)te.n_correct / te.n;
}

void gs_trainer_update(gs_trainer *tr)
{
    gs_model *m = &tr->model;
    memset(m->grads, 0, m->n_params * sizeof(float));
    gs_model_backward(m, tr->split.train_idx, tr->train_tgt, tr->split.n_train);
    gs_adamw_step(m->params, m->grads, tr->adam_m, tr->adam_v, m->n_params, &tr->cfg, tr->step);
    tr->step++;
}
