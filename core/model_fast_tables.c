/* The fast path's per-token tables (see model_fast.h for the algebra), rebuilt from
 * the parameters once per step by gs_model_fast_prepare. */
#include <cblas.h>
#include <math.h>
#include <string.h>

#include "fast_kernels.h"
#include "model_fast.h"

/* Products here and in the backward go through gs_k_gemm: B operands are rows of the
 * parameters (followed by the gradients in one allocation) or of these tables (regions
 * padded to 16 floats), so reading a row up to a multiple of 16 stays in bounds. */
static void head_tables(void *arg, int h, int unused, int thread)
{
    gs_fast_ctx *c = arg;
    (void)unused, (void)thread;
    gs_model *m = c->m;
    const gs_fast_tables *t = &c->t;
    const gs_dims *d = &m->d;
    const int p = d->p, D = d->d_model, H = d->n_heads, E = d->d_head, M = d->d_mlp, V = d->n_out,
              R = 2 * p + 1;
    const float *W_O = P(m, GS_W_O) + (size_t)h * E * D;
    gs_k_gemm(t->K + h * E, D, t->e, D, P(m, GS_W_K) + (size_t)h * D * E, E, R, E, D, 0, NULL, 0);
    gs_k_gemm(t->Vt + h * E, D, t->e, D, P(m, GS_W_V) + (size_t)h * D * E, E, R, E, D, 0, NULL, 0);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, 1, E, D, 1.0f, t->e + (size_t)2 * p * D, D,
                P(m, GS_W_Q) + (size_t)h * D * E, E, 0.0f, t->q + h * E, D);
    const float scale = 1.0f / sqrtf((float)E);
    for (int r = 0; r < R; r++) {
        float acc = 0.0f;
        for (int k = 0; k < E; k++)
            acc += t->q[h * E + k] * t->K[(size_t)r * D + h * E + k];
        t->S[(size_t)r * H + h] = acc * scale;
    }
    float smax = t->S[h];
    for (int r = 1; r < R; r++)
        smax = t->S[(size_t)r * H + h] > smax ? t->S[(size_t)r * H + h] : smax;
    for (int r = 0; r < R; r++)
        t->Sexp[(size_t)r * H + h] = exp((double)t->S[(size_t)r * H + h] - smax);
    gs_k_gemm(t->OWin + (size_t)h * E * M, M, W_O, D, P(m, GS_W_IN), M, E, M, D, 0, NULL, 0);
    gs_k_gemm(t->OU + (size_t)h * E * V, V, W_O, D, P(m, GS_W_U), V, E, V, D, 0, NULL, 0);
    /* values relative to the "=" row */
    const float *v2 = t->Vt + (size_t)2 * p * D + h * E;
    for (int r = 0; r < 2 * p; r++)
        for (int k = 0; k < E; k++)
            t->Vtd[(size_t)r * D + h * E + k] = t->Vt[(size_t)r * D + h * E + k] - v2[k];
}

/* rows r0..r1 (< 2p) of VOWd and VOUd, all heads */
static void vo_rows_task(void *arg, int r0, int r1, int thread)
{
    gs_fast_ctx *c = arg;
    (void)thread;
    gs_model *m = c->m;
    const gs_fast_tables *t = &c->t;
    const int D = m->d.d_model, H = m->d.n_heads, E = m->d.d_head, M = m->d.d_mlp, V = m->d.n_out;
    for (int h = 0; h < H; h++) {
        gs_k_gemm(t->VOWd + ((size_t)r0 * H + h) * M, H * M, t->Vtd + (size_t)r0 * D + h * E, D,
                  t->OWin + (size_t)h * E * M, M, r1 - r0, M, E, 0, NULL, 0);
        gs_k_gemm(t->VOUd + ((size_t)r0 * H + h) * V, H * V, t->Vtd + (size_t)r0 * D + h * E, D,
                  t->OU + (size_t)h * E * V, V, r1 - r0, V, E, 0, NULL, 0);
    }
}

/* rows v0..v1 of WoUT = WoU^T */
static void transpose_task(void *arg, int v0, int v1, int thread)
{
    gs_fast_ctx *c = arg;
    (void)thread;
    const gs_fast_tables *t = &c->t;
    const int M = c->m->d.d_mlp, Vp = (int)round16(c->m->d.n_out), Mp = (int)round16(M);
    for (int v = v0; v < v1; v++)
        for (int j = 0; j < M; j++)
            t->WoUT[(size_t)v * Mp + j] = t->WoU[(size_t)j * Vp + v];
}

static void const_tables(void *arg, int unused_a, int unused_b, int thread)
{
    gs_fast_ctx *c = arg;
    (void)unused_a, (void)unused_b, (void)thread;
    gs_model *m = c->m;
    const gs_fast_tables *t = &c->t;
    const int p = m->d.p, D = m->d.d_model, H = m->d.n_heads, E = m->d.d_head, M = m->d.d_mlp,
              V = m->d.n_out;
    const float *v2 = t->Vt + (size_t)2 * p * D;
    memcpy(t->c_pre, P(m, GS_B_IN), (size_t)M * sizeof(float));
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, 1, M, D, 1.0f, t->e + (size_t)2 * p * D,
                D, P(m, GS_W_IN), M, 1.0f, t->c_pre, M);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, 1, V, D, 1.0f, t->e2b, D,
                P(m, GS_W_U), V, 0.0f, t->c_log, V);
    for (int h = 0; h < H; h++) {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, 1, M, E, 1.0f, v2 + h * E, D,
                    t->OWin + (size_t)h * E * M, M, 1.0f, t->c_pre, M);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, 1, V, E, 1.0f, v2 + h * E, D,
                    t->OU + (size_t)h * E * V, V, 1.0f, t->c_log, V);
    }
}

void gs_model_fast_prepare(gs_model *m)
{
    const gs_dims *d = &m->d;
    const int p = d->p, D = d->d_model, H = d->n_heads, M = d->d_mlp, V = d->n_out, R = 2 * p + 1;
    gs_fast_ctx c;
    gs_fast_ctx_init(&c, m);
    gs_fast_tables *t = &c.t;
    const float *W_E = P(m, GS_W_E), *W_pos = P(m, GS_W_POS), *b_out = P(m, GS_B_OUT);
    for (int r = 0; r < R; r++) {
        const int tok = r < p ? r : r < 2 * p ? r - p : p, pos = r < p ? 0 : r < 2 * p ? 1 : 2;
        for (int k = 0; k < D; k++)
            t->e[(size_t)r * D + k] = W_E[(size_t)tok * D + k] + W_pos[pos * D + k];
    }
    for (int k = 0; k < D; k++)
        t->e2b[k] = t->e[(size_t)2 * p * D + k] + b_out[k];
    gs_jobs js = {.pool = m->pool, .ctx = &c};
    for (int h = 0; h < H; h++)
        gs_jobs_add(&js, head_tables, h, 0);
    gs_jobs_add_gemm(&js, CblasNoTrans, CblasNoTrans, M, V, D, P(m, GS_W_OUT), D, P(m, GS_W_U), V,
                     0.0f, t->WoU, (int)round16(V), 2 * TABLE_BLOCK);
    gs_jobs_run(&js);
    gs_jobs_add_blocks(&js, vo_rows_task, 2 * p, 64);
    gs_jobs_add_blocks(&js, transpose_task, V, 32);
    gs_jobs_add(&js, const_tables, 0, 0);
    gs_jobs_run(&js);
    m->fast_stage = STAGE_NONE;
}
