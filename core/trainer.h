/* gs_trainer: one epoch (= one optimizer step) at a time (docs/science.md §3), full
 * batch or, with cfg.batch, on the minibatch of batch.h. Owns the model, the split's
 * targets, the AdamW moments and the worker threads; knows nothing of files, so the
 * caller decides when to checkpoint. Nothing is allocated after gs_trainer_init.
 *
 * An epoch on the fast path (model_fast.h): the per-token tables once, the test set
 * (forward only, last position), the training set (forward and the per-input half of
 * the backward), then the table backward and AdamW, every stage split over the pool's
 * threads. The numbers do not depend on the thread count. Other models and the
 * transformer of several blocks run through the same calls (gs_model_prepare,
 * gs_model_rows, gs_model_backward) on their own path; gs_trainer_path names it. */
#ifndef GS_TRAINER_H
#define GS_TRAINER_H

#include "config.h"
#include "images.h"
#include "model.h"
#include "optim.h"
#include "task.h"

typedef struct {
    double train_loss, test_loss, train_acc, test_acc;
    /* docs/interventions.md: the share of training inputs whose softmax has collapsed
     * (gs_trainer_measure), and the norm of the training loss's gradient and its cosine
     * with the weights (gs_trainer_backward); NaN where not computed */
    double collapse_frac, grad_norm, grad_cos;
} gs_epoch_metrics;

typedef struct {
    gs_config cfg;
    gs_dims dims;
    gs_model model;
    gs_split split;     /* owned */
    int32_t *train_tgt; /* targets; test_tgt follows in the same allocation */
    int32_t *test_tgt;
    float *adam_m;      /* n_params floats; adam_v follows in the same allocation */
    float *adam_v;
    long step;          /* optimizer steps taken = the epoch of the current weights */
    gs_optim optim;     /* the step's rule and its state beyond the moments (optim.h) */
    gs_tensor_span spans[GS_MAX_TENSORS]; /* the parameter tensors, for the optimizer */
    int begun;          /* theta_0 recorded (gs_trainer_begin or gs_trainer_set_init) */
    int batch;          /* rows per step: cfg.batch, or n_train for full batch */
    int32_t *perm;      /* minibatch: the permutation of pass perm_pass (batch.h) */
    long perm_pass;
    int32_t *batch_idx, *batch_tgt; /* minibatch: this step's rows */
    struct gs_pool *pool; /* worker threads (count: OpenBLAS's, as --threads sets it) */
    /* task mnist: the images, loaded from cfg.data_dir by gs_trainer_init (the model
     * reads their pixels); the split's test_idx count test images, and test_rows are
     * their rows of the pixel table (after the training images). Modular: test_rows
     * is split.test_idx. */
    gs_images images;
    int32_t *test_rows;
} gs_trainer;

/* Takes ownership of *split (it is moved out and zeroed). Parameters and moments are
 * zero: initialize or load them. Task mnist loads the images of cfg.data_dir here (an
 * unreadable directory or file is the error). */
int gs_trainer_init(gs_trainer *tr, const gs_config *cfg, gs_split *split, gs_err *err);
void gs_trainer_free(gs_trainer *tr);

/* Loss and accuracy of the current weights on train and test (epoch tr->step). Leaves
 * the training batch's activations in place for gs_trainer_update. */
void gs_trainer_measure(gs_trainer *tr, gs_epoch_metrics *out);

/* The training set only (test_loss and test_acc are NaN): for callers that measure
 * the test set less often, and for benchmarks of the training step. */
void gs_trainer_measure_train(gs_trainer *tr, gs_epoch_metrics *out);

/* A new run: the initial weights are in tr->model.params; scales them by init_scale
 * and records them as theta_0 (the decay toward init, the fixed norm). */
void gs_trainer_begin(gs_trainer *tr);
/* A resumed run: theta_0 is checkpoint 0 of its file. */
void gs_trainer_set_init(gs_trainer *tr, const float *theta0);

/* Backward over the training set (after gs_trainer_measure on the same weights); with
 * out non-NULL, sets out->grad_norm and out->grad_cos of that gradient. */
void gs_trainer_backward(gs_trainer *tr, gs_epoch_metrics *out);
/* One optimizer step with the gradient of gs_trainer_backward; tr->step increases. */
void gs_trainer_step(gs_trainer *tr);
/* Both (no gradient measures). */

/* "fast" (per-token tables), "reference" or "mlp": the computation the run uses. */
const char *gs_trainer_path(const gs_trainer *tr);

void gs_trainer_update(gs_trainer *tr);

#endif
