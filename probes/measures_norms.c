/* Fourier norms of the embedding and the neuron-logit map in the circuit basis
 * (measures.h), the basis over tokens, and the Gini coefficient (docs/science.md §4). */
#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "measures.h"

int gs_probe_basis(const gs_probe *pr, double *B)
{
    const int p = pr->p, n = pr->basis.n;
    if (n == 0)
        return -1;
    const double *F = pr->fourier.basis;
    const int32_t *index = pr->basis.index, *token = pr->basis.token;
    for (int j = 0; j < p; j++)
        for (int x = 0; x < p; x++)
            B[(size_t)j * p + x] = j < n ? (index[x] < 0 ? 0.0 : F[(size_t)j * n + index[x]])
                                         : (double)(x == token[j]);
    return 0;
}

void gs_probe_fourier_norms(gs_probe *pr, double *embed_norm, double *neuron_logit_norm)
{
    const gs_model *m = &pr->model;
    const int p = pr->p, D = pr->embed_d, M = pr->d.d_mlp, V = pr->d.n_out;
    /* W_E is tensor 0 of both models that have one (params.h); W_out and W_U only
     * exist in the transformer */
    const float *W_E = m->params + m->info[GS_W_E].offset;
    const int last = pr->d.n_layers - 1; /* the block whose MLP feeds the logits */
    const float *W_out = pr->has_neuron_logit ? m->params + m->info[gs_tf_block(GS_W_OUT, last)].offset : NULL;
    const float *W_U = pr->has_neuron_logit ? m->params + m->info[gs_tf_unembed(&pr->d)].offset : NULL;
    const int32_t *tok = pr->basis.token;

    /* no basis, or no such matrix in the model: no norms (NaN, and the run file's
     * /analysis attributes say why) */
    if (pr->basis.n == 0 || !pr->has_embed)
        for (int j = 0; j < p; j++)
            pr->embed_norm[j] = NAN;
    if (pr->basis.n == 0 || !pr->has_neuron_logit)
        for (int j = 0; j < p; j++)
            pr->neuron_logit_norm[j] = NAN;
    if (pr->basis.n == 0)
        goto copy;
    if (!pr->has_embed)
        goto logit;
    /* E = B W_E[:p]: the rows in basis token order, then the D columns of the first n
     * rows transformed in place; the rows of tokens outside the group stay (indicators) */
    for (int k = 0; k < p; k++)
        for (int c = 0; c < D; c++)
            pr->w_e[(size_t)k * D + c] = W_E[(size_t)tok[k] * D + c];
    gs_fourier_vectors(&pr->fourier, pr->w_e, pr->w_e, D, D, 1);
    for (int j = 0; j < p; j++) {
        const double *e = pr->w_e + (size_t)j * D;
        double s = 0.0;
        for (int c = 0; c < D; c++)
            s += e[c] * e[c];
        pr->embed_norm[j] = sqrt(s);
    }

logit:
    if (!pr->has_neuron_logit)
        goto copy;
    /* W_L = W_out W_U[:, :p] in double, its columns in basis token order, then
     * M = W_L B^T: the first n entries of each row of W_L transformed */
    for (size_t j = 0; j < (size_t)M * D; j++)
        pr->w_out[j] = W_out[j];
    for (int r = 0; r < D; r++)
        for (int c = 0; c < p; c++)
            pr->w_u[(size_t)r * p + c] = W_U[(size_t)r * V + tok[c]];
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, M, p, D, 1.0, pr->w_out, D,
                pr->w_u, p, 0.0, pr->w_l, p);
    gs_fourier_vectors(&pr->fourier, pr->w_l, pr->w_l, M, 1, p);
    for (int j = 0; j < p; j++)
        pr->neuron_logit_norm[j] = 0.0;
    for (int n = 0; n < M; n++) {
        const double *row = pr->w_l + (size_t)n * p;
        for (int j = 0; j < p; j++)
            pr->neuron_logit_norm[j] += row[j] * row[j];
    }
    for (int j = 0; j < p; j++)
        pr->neuron_logit_norm[j] = sqrt(pr->neuron_logit_norm[j]);

copy:
    if (embed_norm)
        memcpy(embed_norm, pr->embed_norm, (size_t)p * sizeof(double));
    if (neuron_logit_norm)
        memcpy(neuron_logit_norm, pr->neuron_logit_norm, (size_t)p * sizeof(double));
}

static int cmp_double(const void *a, const void *b)
{
    const double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double gs_gini(const double *c, int n, double *scratch)
{
    if (n < 1)
        return NAN;
    memcpy(scratch, c, (size_t)n * sizeof(double));
    qsort(scratch, (size_t)n, sizeof(double), cmp_double);
    double l1 = 0.0;
    for (int k = 0; k < n; k++) {
        if (!(scratch[k] >= 0.0))
            return NAN; /* negative or NaN: not a vector of norms */
        l1 += scratch[k];
    }
    if (!(l1 > 0.0) || !isfinite(l1))
        return NAN; /* all zero: no distribution to be sparse or dense */
    /* G = 1 - 2 sum_k (c_k / ||c||_1) (N - k + 1/2) / N, k = 1..N ascending */
    double acc = 0.0;
    for (int k = 1; k <= n; k++)
        acc += scratch[k - 1] / l1 * ((n - k + 0.5) / n);
    return 1.0 - 2.0 * acc;
}
