/* Finite-difference gradient check of every tensor of any model (gs_model's table):
 * per tensor a random +-1 direction and its largest entry, by central differences of
 * the float64 loss with step h; and the backward accumulates. For the tests' check.h. */
#ifndef GS_TEST_GRADCHECK_H
#define GS_TEST_GRADCHECK_H

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "model.h"

static double batch_loss(gs_model *m, const int32_t *idx, const int32_t *tgt, int n)
{
    return gs_model_forward(m, idx, tgt, n).loss_sum / n;
}

/* entry_rel: relative tolerance of the largest entry's check (its difference quotient
 * carries the float32 forward's rounding noise, larger through more layers) */
static void gs_gradcheck(gs_model *m, const int32_t *idx, const int32_t *tgt, int N, float h,
                         double entry_rel)
{
    /* gradients: per tensor a random +-1 direction and its largest entry, by central
     * differences of the float64 loss */
    memset(m->grads, 0, m->n_params * sizeof(float));
    gs_model_forward(m, idx, tgt, N);
    gs_model_backward(m, idx, tgt, N);
    float *g = malloc(m->n_params * sizeof *g);
    memcpy(g, m->grads, m->n_params * sizeof *g);
    for (int t = 0; t < m->n_tensors; t++) {
        const gs_param_info *pi = &m->info[t];
        float *w = m->params + pi->offset;
        const float *gt = g + pi->offset;
        double dot = 0;
        signed char *u = malloc(pi->count);
        float *saved = malloc(pi->count * sizeof *saved);
        for (size_t i = 0; i < pi->count; i++) {
            u[i] = (rand() & 1) ? 1 : -1;
            dot += u[i] * gt[i];
        }
        memcpy(saved, w, pi->count * sizeof *saved);
        for (size_t i = 0; i < pi->count; i++)
            w[i] = saved[i] + h * u[i];
        double lp = batch_loss(m, idx, tgt, N);
        for (size_t i = 0; i < pi->count; i++)
            w[i] = saved[i] - h * u[i];
        double lm = batch_loss(m, idx, tgt, N);
        memcpy(w, saved, pi->count * sizeof *saved);
        double fd = (lp - lm) / (2 * h);
        printf("  %-14s directional: analytic %+.6e  numeric %+.6e\n", pi->key, dot, fd);
        CHECK_NEAR(dot, fd, 3e-3 * fabs(fd) + 2e-3);
        size_t best = 0;
        for (size_t i = 0; i < pi->count; i++)
            if (fabs(gt[i]) > fabs(gt[best]))
                best = i;
        CHECK(fabs(gt[best]) > 1e-3); /* a dead tensor would pass trivially */
        const float w0 = w[best];
        w[best] = w0 + h;
        lp = batch_loss(m, idx, tgt, N);
        w[best] = w0 - h;
        lm = batch_loss(m, idx, tgt, N);
        w[best] = w0;
        fd = (lp - lm) / (2 * h);
        CHECK_NEAR(gt[best], fd, entry_rel * fabs(fd) + 3e-4);
        free(saved);
        free(u);
    }
    /* backward accumulates: a second one doubles the gradient */
    gs_model_forward(m, idx, tgt, N);
    gs_model_backward(m, idx, tgt, N);
    for (int t = 0; t < m->n_tensors; t++) {
        const size_t at = m->info[t].offset;
        CHECK_NEAR(m->grads[at], 2 * g[at], 1e-6 * (1 + fabs(g[at])));
    }
    free(g);
}

#endif
