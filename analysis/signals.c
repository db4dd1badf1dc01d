/* Per-checkpoint lazy-vs-rich measures and the LLC (signals.h). */
#include <assert.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fpenv.h"
#include "kernel.h"
#include "signals.h"

void gs_signal_opts_default(gs_signal_opts *o)
{
    memset(o, 0, sizeof *o);
    o->llc_every = GS_LLC_EVERY;
    o->llc = (gs_llc_opts){.epsilon = GS_LLC_EPS, .nbeta = 0.0, .gamma = GS_LLC_GAMMA,
                           .chains = GS_LLC_CHAINS, .draws = GS_LLC_DRAWS,
                           .burnin = GS_LLC_BURNIN, .batch = GS_LLC_BATCH, .seed = 0};
}

double gs_signal_nbeta(const gs_signal_opts *o)
{
    if (o->llc.nbeta > 0.0)
        return o->llc.nbeta;
    const double b = o->llc.batch;
    return b > 1 ? b / log(b) : 1.0;
}

void gs_signals_free(gs_signals *s)
{
    if (s->have_model)
        gs_model_free(&s->model);
    free(s->w0);
    free(s->rows);
    free(s->labels);
    free(s->x0c);
    free(s->xc);
    free(s->yc);
    free(s->scratch);
    free(s->train_idx);
    free(s->train_tgt);
    free(s->bidx);
    free(s->btgt);
    memset(s, 0, sizeof *s);
}

/* The features of the last gs_probe_forward(..., want_grid = 1), centred, into out. */
static void center_grid(gs_signals *s, float *out)
{
    const gs_probe *pr = s->probe;
    gs_cka_center(pr->grid, pr->d.d_mlp, pr->n_inputs, s->rows, s->n_rows, out);
}

int gs_signals_create(gs_signals *s, gs_probe *pr, const float *w0, const gs_signal_opts *o,
                      gs_err *err)
{
    memset(s, 0, sizeof *s);
    s->probe = pr;
    s->opts = *o;
    s->opts.llc.nbeta = gs_signal_nbeta(o);
    const int M = pr->d.d_mlp, p = pr->p, n_in = pr->n_inputs;
    s->n_params = pr->model.n_params;
    const int big = M > p ? M : p;
    s->w0 = malloc(s->n_params * sizeof *s->w0);
    s->rows = malloc((size_t)n_in * sizeof *s->rows);
    s->labels = malloc((size_t)n_in * sizeof *s->labels);
    s->x0c = malloc((size_t)M * n_in * sizeof *s->x0c);
    s->xc = malloc((size_t)M * n_in * sizeof *s->xc);
    s->yc = malloc((size_t)p * n_in * sizeof *s->yc);
    s->scratch = malloc((size_t)big * big * sizeof *s->scratch);
    if (!s->w0 || !s->rows || !s->labels || !s->x0c || !s->xc || !s->yc || !s->scratch) {
        gs_signals_free(s);
        return gs_err_set(err, "out of memory (the kernel-alignment features)");
    }
    memcpy(s->w0, w0, s->n_params * sizeof *s->w0);
    s->w0_norm = sqrt(gs_params_sumsq(w0, s->n_params));
    for (int i = 0; i < n_in; i++)
        if (pr->target[i] >= 0) {
            s->rows[s->n_rows] = i;
            s->labels[s->n_rows++] = pr->target[i];
        }
    gs_cka_labels(s->labels, s->n_rows, p, s->yc);
    s->yy = gs_cka_cross(s->yc, p, s->yc, p, s->n_rows, s->scratch);
    gs_probe_forward(pr, w0, 1, NULL);
    center_grid(s, s->x0c);
    s->x0x0 = gs_cka_cross(s->x0c, M, s->x0c, M, s->n_rows, s->scratch);

    if (o->llc_every > 0) {
        const int n = pr->n_train, B = o->llc.batch;
        if (gs_llc_check(&s->opts.llc, n, err) != 0) {
            gs_signals_free(s);
            return -1;
        }
        s->n_train = n;
        s->train_idx = malloc((size_t)n * sizeof *s->train_idx);
        s->train_tgt = malloc((size_t)n * sizeof *s->train_tgt);
        s->bidx = malloc((size_t)n * sizeof *s->bidx);
        s->btgt = malloc((size_t)n * sizeof *s->btgt);
        if (!s->train_idx || !s->train_tgt || !s->bidx || !s->btgt) {
            gs_signals_free(s);
            return gs_err_set(err, "out of memory (the LLC's data)");
        }
        memcpy(s->train_idx, pr->train_idx, (size_t)n * sizeof *s->train_idx);
        memcpy(s->train_tgt, pr->train_tgt, (size_t)n * sizeof *s->train_tgt);
        if (gs_model_create(&s->model, &pr->d, B, GS_PATH_FAST, err) != 0) {
            gs_signals_free(s);
            return -1;
        }
        s->model.pool = pr->pool; /* the probe's threads, made for the same dimensions */
        s->have_model = 1;
    }
    return 0;
}

/* gs_llc_loss_fn over the run's training pairs: mean cross-entropy over the p+1
 * outputs, as the trainer minimizes it. */
static double train_loss(void *ctx, const float *w, const int32_t *batch, int n, float *grad)
{
    gs_signals *s = ctx;
    gs_model *m = &s->model;
    memcpy(m->params, w, s->n_params * sizeof *w);
    for (int i = 0; i < n; i++) {
        s->bidx[i] = s->train_idx[batch[i]];
        s->btgt[i] = s->train_tgt[batch[i]];
    }
    if (!grad) {
        const gs_eval e = gs_model_evaluate(m, s->bidx, s->btgt, n);
        return e.loss_sum / (double)e.n;
    }
    memset(m->grads, 0, s->n_params * sizeof *m->grads);
    const gs_eval e = gs_model_forward(m, s->bidx, s->btgt, n);
    gs_model_backward(m, s->bidx, s->btgt, n);
    memcpy(grad, m->grads, s->n_params * sizeof *grad);
    return e.loss_sum / (double)e.n;
}

int gs_signals_measure(gs_signals *s, const float *params, int ck, int with_llc,
                       gs_analysis_row *row, gs_err *err)
{
    gs_probe *pr = s->probe;
    const int M = pr->d.d_mlp, p = pr->p;
    double d2 = 0.0;
    for (size_t k = 0; k < s->n_params; k++) {
        const double d = (double)params[k] - s->w0[k];
        d2 += d * d;
    }
    row->init_distance = s->w0_norm > 0.0 ? sqrt(d2) / s->w0_norm : NAN;

    assert(pr->have_grid); /* of params: the caller's forward (signals.h) */
    center_grid(s, s->xc);
    const double xx = gs_cka_cross(s->xc, M, s->xc, M, s->n_rows, s->scratch);
    const double x0 = gs_cka_cross(s->xc, M, s->x0c, M, s->n_rows, s->scratch);
    const double xy = gs_cka_cross(s->xc, M, s->yc, p, s->n_rows, s->scratch);
    row->cka_init = gs_cka_from(x0, xx, s->x0x0);
    row->cka_label = gs_cka_from(xy, xx, s->yy);

    row->llc = NAN;
    if (!with_llc || !s->have_model || ck % s->opts.llc_every != 0)
        return 0;
    gs_llc_opts lo = s->opts.llc;
    lo.seed = s->opts.llc.seed * 1000003ULL + (uint64_t)ck; /* each checkpoint its own stream */
    gs_llc_result r;
    gs_fpenv env; /* the run's subnormal mode, as its trainer computed */
    gs_fpenv_enter(&env, pr->flush_subnormals);
    const int rc = gs_llc_estimate(&lo, params, s->n_params, s->n_train, train_loss, s, &r, err);
    gs_fpenv_leave(&env);
    if (rc != 0)
        return -1;
    row->llc = r.llc;
    return 0;
}
