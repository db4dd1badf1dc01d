/* The fast path: exact, not approximate. With one layer and the readout at the last
 * position, only the "=" query matters; keys and values at positions 0 and 1 depend on
 * one token each, and the "=" position is the same for every input. So attention
 * becomes lookups in per-token tables built once per call from the weights:
 *
 *   row r of the tables: r = a (token at position 0), p + b (position 1), 2p ("=")
 *   e[r]      = W_E[tok] + W_pos[pos]          [R, D]    R = 2p + 1
 *   K, Vt     = e @ W_K[h], e @ W_V[h]         [R, H*E]
 *   s[r, h]   = q_h . K[r, h] / sqrt(E)         q = e[2p] @ W_Q
 *   VO[r, h]  = Vt[r, h] @ W_O[h]              [R, H, D]
 *   xl[n]     = e[2p] + sum_h sum_j alpha_j VO[r_j, h],  alpha = softmax(s[r_j, h])
 *
 * The MLP, unembedding and loss are the reference path's (gs_model_head_*). */
#include <assert.h>
#include <cblas.h>
#include <math.h>
#include <string.h>

#include "model.h"

#define P(m, id) ((m)->params + (m)->info[id].offset)
#define G(m, id) ((m)->grads + (m)->info[id].offset)

typedef struct {
    float *e, *K, *Vt, *q, *s, *VO;        /* forward */
    float *dVO, *ds, *dK, *dVt, *dq, *de;  /* backward */
} tables;

static size_t carve(const gs_dims *d, float *base, tables *t)
{
    const size_t R = 2 * (size_t)d->p + 1, D = (size_t)d->d_model, H = (size_t)d->n_heads;
    float **views[] = {&t->e, &t->K, &t->Vt, &t->q, &t->s, &t->VO,
                       &t->dVO, &t->ds, &t->dK, &t->dVt, &t->dq, &t->de};
    const size_t sizes[] = {R * D, R * D, R * D, D, R * H, R * H * D,
                            R * H * D, R * H, R * D, R * D, D, R * D};
    size_t at = 0;
    for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) {
        if (base)
            *views[i] = base + at;
        at += sizes[i];
    }
    return at;
}

size_t gs_model_fast_tables_size(const gs_dims *d)
{
    tables t;
    return carve(d, NULL, &t);
}

static void tables_forward(gs_model *m, tables *t)
{
    const gs_dims *d = &m->d;
    const int p = d->p, D = d->d_model, H = d->n_heads, E = d->d_head, R = 2 * p + 1;
    const float *W_E = P(m, GS_W_E), *W_pos = P(m, GS_W_POS), *W_O = P(m, GS_W_O);
    for (int r = 0; r < R; r++) {
        const int tok = r < p ? r : r < 2 * p ? r - p : p, pos = r < p ? 0 : r < 2 * p ? 1 : 2;
        for (int c = 0; c < D; c++)
            t->e[(size_t)r * D + c] = W_E[(size_t)tok * D + c] + W_pos[pos * D + c];
    }
    gs_heads_project(t->K, t->e, P(m, GS_W_K), R, d);
    gs_heads_project(t->Vt, t->e, P(m, GS_W_V), R, d);
    gs_heads_project(t->q, t->e + (size_t)2 * p * D, P(m, GS_W_Q), 1, d);
    const float scale = 1.0f / sqrtf((float)E);
    for (int r = 0; r < R; r++)
        for (int h = 0; h < H; h++) {
            float acc = 0.0f;
            for (int e = 0; e < E; e++)
                acc += t->q[h * E + e] * t->K[(size_t)r * D + h * E + e];
            t->s[(size_t)r * H + h] = acc * scale;
        }
    for (int h = 0; h < H; h++)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, R, D, E, 1.0f, t->Vt + h * E, D,
                    W_O + (size_t)h * E * D, D, 0.0f, t->VO + (size_t)h * D, H * D);
}

gs_eval gs_model_fast_forward(gs_model *m, const int32_t *idx, const int32_t *target, int n)
{
    const gs_dims *d = &m->d;
    const int p = d->p, D = d->d_model, H = d->n_heads;
    tables t;
    carve(d, m->tab, &t);
    tables_forward(m, &t);
    const float *e2 = t.e + (size_t)2 * p * D;
    for (int i = 0; i < n; i++) {
        const int r[3] = {idx[i] / p, p + idx[i] % p, 2 * p};
        float *x = m->xl + (size_t)i * D;
        memcpy(x, e2, (size_t)D * sizeof(float));
        for (int h = 0; h < H; h++) {
            float sc[3], mx = -INFINITY, sum = 0.0f;
            for (int j = 0; j < 3; j++) {
                sc[j] = t.s[(size_t)r[j] * H + h];
                mx = sc[j] > mx ? sc[j] : mx;
            }
            for (int j = 0; j < 3; j++)
                sum += (sc[j] = expf(sc[j] - mx));
            float *al = m->alpha + ((size_t)i * H + h) * 3;
            for (int j = 0; j < 3; j++)
                al[j] = sc[j] / sum;
            const float *v0 = t.VO + ((size_t)r[0] * H + h) * D, *v1 = t.VO + ((size_t)r[1] * H + h) * D,
                        *v2 = t.VO + ((size_t)r[2] * H + h) * D;
            for (int c = 0; c < D; c++)
                x[c] += al[0] * v0[c] + al[1] * v1[c] + al[2] * v2[c];
        }
    }
    return gs_model_head_forward(m, m->xl, D, target, n);
}

void gs_model_fast_backward(gs_model *m, const int32_t *idx, const int32_t *target, int n)
{
    const gs_dims *d = &m->d;
    const int p = d->p, D = d->d_model, H = d->n_heads, E = d->d_head, R = 2 * p + 1;
    tables t;
    carve(d, m->tab, &t);
    float *dxl = m->dx1;
    gs_model_head_backward(m, dxl, D, m->xl, target, n);
    memset(t.dVO, 0, (size_t)R * H * D * sizeof(float));
    memset(t.ds, 0, (size_t)R * H * sizeof(float));
    memset(t.de, 0, (size_t)R * D * sizeof(float));
    memset(t.dq, 0, (size_t)D * sizeof(float));
    float *de2 = t.de + (size_t)2 * p * D;
    /* through the attention mixture back to the tables */
    for (int i = 0; i < n; i++) {
        const int r[3] = {idx[i] / p, p + idx[i] % p, 2 * p};
        const float *g = dxl + (size_t)i * D;
        for (int c = 0; c < D; c++)
            de2[c] += g[c]; /* the residual carries x0 = e[2p] */
        for (int h = 0; h < H; h++) {
            const float *al = m->alpha + ((size_t)i * H + h) * 3;
            float dal[3], dot = 0.0f;
            for (int j = 0; j < 3; j++) {
                const float *vo = t.VO + ((size_t)r[j] * H + h) * D;
                float *dvo = t.dVO + ((size_t)r[j] * H + h) * D;
                float acc = 0.0f;
                for (int c = 0; c < D; c++) {
                    acc += g[c] * vo[c];
                    dvo[c] += al[j] * g[c];
                }
                dal[j] = acc;
                dot += al[j] * acc;
            }
            for (int j = 0; j < 3; j++)
                t.ds[(size_t)r[j] * H + h] += al[j] * (dal[j] - dot);
        }
    }
    /* VO = Vt W_O */
    const float *W_O = P(m, GS_W_O);
    float *gW_O = G(m, GS_W_O);
    for (int h = 0; h < H; h++) {
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, E, D, R, 1.0f, t.Vt + h * E, D,
                    t.dVO + (size_t)h * D, H * D, 1.0f, gW_O + (size_t)h * E * D, D);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, R, E, D, 1.0f, t.dVO + (size_t)h * D,
                    H * D, W_O + (size_t)h * E * D, D, 0.0f, t.dVt + h * E, D);
    }
    /* scores s = q . K / sqrt(E) */
    const float scale = 1.0f / sqrtf((float)E);
    for (int r = 0; r < R; r++)
        for (int h = 0; h < H; h++) {
            const float g = t.ds[(size_t)r * H + h] * scale;
            for (int e = 0; e < E; e++) {
                t.dK[(size_t)r * D + h * E + e] = g * t.q[h * E + e];
                t.dq[h * E + e] += g * t.K[(size_t)r * D + h * E + e];
            }
        }
    gs_heads_project_backward(t.de, G(m, GS_W_K), t.dK, t.e, P(m, GS_W_K), R, d);
    gs_heads_project_backward(t.de, G(m, GS_W_V), t.dVt, t.e, P(m, GS_W_V), R, d);
    gs_heads_project_backward(de2, G(m, GS_W_Q), t.dq, t.e + (size_t)2 * p * D, P(m, GS_W_Q), 1, d);
    /* e[r] = W_E[tok] + W_pos[pos] */
    float *gW_E = G(m, GS_W_E), *gW_pos = G(m, GS_W_POS);
    for (int r = 0; r < R; r++) {
        const int tok = r < p ? r : r < 2 * p ? r - p : p, pos = r < p ? 0 : r < 2 * p ? 1 : 2;
        for (int c = 0; c < D; c++) {
            gW_E[(size_t)tok * D + c] += t.de[(size_t)r * D + c];
            gW_pos[pos * D + c] += t.de[(size_t)r * D + c];
        }
    }
}
