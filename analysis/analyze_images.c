/* The analysis of a run on images (task mnist, docs/tasks.md "Images"): only the
 * model-agnostic measures exist there. Each checkpoint goes through a trainer built
 * from the run's own /config and /data (the same images, the same batches), so the
 * recomputed losses and accuracies are the trainer's bits; then the weight norm, the
 * distance from the init and the kernel alignment (linear CKA) of the first hidden
 * layer's features over the training images with their value at init and with the
 * labels. The Fourier measures are NaN: the run file's circuit_measures and
 * model_measures attributes say why, and info prints them. */
#include "analyze_images.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernel.h"
#include "trainer.h"

typedef struct {
    gs_trainer tr;
    int have_tr;
    float *theta0, *feat, *feat0, *labels, *scratch; /* feat*: [H0, n_train] centred */
    double *nan_p;     /* [p] NaN: the Fourier norms' rows */
    double xx0, ll;    /* ||F0c F0c^T||^2 and ||Lc Lc^T||^2 */
} images_pass;

static void images_pass_free(images_pass *ip)
{
    if (ip->have_tr)
        gs_trainer_free(&ip->tr);
    free(ip->theta0);
    free(ip->feat);
    free(ip->feat0);
    free(ip->labels);
    free(ip->scratch);
    free(ip->nan_p);
}

/* The first hidden layer's features of the training images, centred, feature-major
 * into out; the trainer's last measure left them row-major in mlp_post[0] (the whole
 * training set is one chunk: max_batch = n_train). */
static void hidden_features(const gs_trainer *tr, float *out)
{
    const int n = tr->split.n_train, H = tr->dims.hidden[0];
    float *fm = out + (size_t)H * n; /* the uncentred transpose, after out */
    const float *post = tr->model.mlp_post[0];
    for (int i = 0; i < n; i++)
        for (int f = 0; f < H; f++)
            fm[(size_t)f * n + i] = post[(size_t)i * H + f];
    gs_cka_center(fm, H, n, NULL, n, out);
}

/* No key frequencies and no neuron clusters (every neuron -1, its fraction NaN): the
 * readers of /analysis find the keys stored, and empty. */
static int write_no_keys(gs_run *run, int n_neurons, gs_err *err)
{
    gs_analysis_keys keys = {.epoch = -1, .n_key = 0};
    keys.neuron_freq = malloc((size_t)n_neurons * sizeof *keys.neuron_freq);
    keys.neuron_frac = malloc((size_t)n_neurons * sizeof *keys.neuron_frac);
    int rc = keys.neuron_freq && keys.neuron_frac ? 0 : gs_err_set(err, "out of memory");
    for (int j = 0; rc == 0 && j < n_neurons; j++) {
        keys.neuron_freq[j] = -1;
        keys.neuron_frac[j] = NAN;
    }
    if (rc == 0)
        rc = gs_run_write_keys(run, &keys, err);
    free(keys.neuron_freq);
    free(keys.neuron_frac);
    return rc;
}

int gs_analyze_images(gs_run *run, const gs_analyze_opts *o, gs_err *err)
{
    images_pass ip = {0};
    int rc = -1;
    const gs_config *c = gs_run_config(run);
    const int n_ck = gs_run_n_checkpoints(run);
    if (n_ck == 0)
        return gs_err_set(err, "%s: the run has no checkpoint yet", gs_run_path(run));
    gs_split split;
    if (gs_run_read_split(run, &split, err) != 0)
        return -1;
    if (gs_trainer_init(&ip.tr, c, &split, err) != 0)
        return -1;
    ip.have_tr = 1;
    gs_trainer *tr = &ip.tr;
    const int n = tr->split.n_train, H = tr->dims.hidden[0], K = tr->dims.n_out;
    const size_t np = tr->model.n_params;
    ip.theta0 = malloc(np * sizeof *ip.theta0);
    ip.feat = malloc(2 * (size_t)H * n * sizeof *ip.feat);
    ip.feat0 = malloc((size_t)H * n * sizeof *ip.feat0);
    ip.labels = malloc((size_t)K * n * sizeof *ip.labels);
    ip.scratch = malloc((size_t)(H > K ? H : K) * (H > K ? H : K) * sizeof *ip.scratch);
    ip.nan_p = malloc((size_t)tr->dims.p * sizeof *ip.nan_p);
    long *epochs = malloc((size_t)n_ck * sizeof *epochs);
    if (!ip.theta0 || !ip.feat || !ip.feat0 || !ip.labels || !ip.scratch || !ip.nan_p || !epochs) {
        gs_err_set(err, "out of memory");
        goto out;
    }
    for (int j = 0; j < tr->dims.p; j++)
        ip.nan_p[j] = NAN;
    if (write_no_keys(run, H, err) != 0)
        goto out;
    if (gs_run_checkpoint_epochs(run, epochs, err) != 0)
        goto out;
    /* the init: theta_0, its features and the label kernel */
    gs_epoch_metrics m;
    if (gs_run_read_checkpoint(run, 0, tr->model.params, err) != 0)
        goto out;
    memcpy(ip.theta0, tr->model.params, np * sizeof *ip.theta0);
    gs_trainer_measure(tr, &m);
    hidden_features(tr, ip.feat);
    memcpy(ip.feat0, ip.feat, (size_t)H * n * sizeof *ip.feat0);
    gs_cka_labels(tr->train_tgt, n, K, ip.labels);
    ip.xx0 = gs_cka_cross(ip.feat0, H, ip.feat0, H, n, ip.scratch);
    ip.ll = gs_cka_cross(ip.labels, K, ip.labels, K, n, ip.scratch);
    double w0 = 0.0;
    for (size_t k = 0; k < np; k++)
        w0 += (double)ip.theta0[k] * ip.theta0[k];
    w0 = sqrt(w0);

    for (long i = gs_run_n_analyzed(run); i < n_ck; i++) {
        if (gs_run_read_checkpoint(run, (int)i, tr->model.params, err) != 0)
            goto out;
        gs_trainer_measure(tr, &m);
        hidden_features(tr, ip.feat);
        double d2 = 0.0;
        for (size_t k = 0; k < np; k++) {
            const double dw = (double)tr->model.params[k] - ip.theta0[k];
            d2 += dw * dw;
        }
        const double xx = gs_cka_cross(ip.feat, H, ip.feat, H, n, ip.scratch);
        gs_analysis_row row = {
            .epoch = epochs[i],
            .train_loss = m.train_loss, .test_loss = m.test_loss,
            .train_acc = m.train_acc, .test_acc = m.test_acc,
            .restricted_loss = NAN, .excluded_loss = NAN,
            .gini_embed = NAN, .gini_neuron_logit = NAN,
            .weight_norm = gs_params_sumsq(tr->model.params, np),
            .embed_fourier_norm = ip.nan_p, .neuron_logit_fourier_norm = ip.nan_p,
            .init_distance = w0 > 0.0 ? sqrt(d2) / w0 : NAN,
            .cka_init = gs_cka_from(gs_cka_cross(ip.feat, H, ip.feat0, H, n, ip.scratch), xx, ip.xx0),
            .cka_label = gs_cka_from(gs_cka_cross(ip.feat, H, ip.labels, K, n, ip.scratch), xx, ip.ll),
            .llc = NAN,
        };
        if (gs_run_append_analysis(run, &row, err) != 0)
            goto out;
        if (o->progress) {
            char detail[160];
            snprintf(detail, sizeof detail, "epoch %ld  test %.3g  test acc %.1f%%", row.epoch,
                     row.test_loss, 100.0 * row.test_acc);
            o->progress(o->progress_ctx, i + 1, n_ck, detail, i + 1 == n_ck);
        }
    }
    rc = 0;
out:
    free(epochs);
    images_pass_free(&ip);
    return rc;
}
