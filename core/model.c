/* The reference forward/backward of the one-layer transformer (docs/science.md §2).
 * Layouts are row-major; a "row" of x0/x1/q/k/v/z is one (input, position). */
#include "fast_kernels.h"
#include "model.h"
#include "pool.h"

#include <assert.h>
#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define P(m, id) ((m)->params + (m)->info[id].offset)
#define G(m, id) ((m)->grads + (m)->info[id].offset)

/* The one allocation of parameters and gradients (one block, gradients after the
 * parameters) and the one of activations (m->n_acts floats), for every model kind. */
static int alloc_buffers(gs_model *m, gs_err *err)
{
    m->params = calloc(2 * m->n_params, sizeof(float));
    m->acts = calloc(m->n_acts, sizeof(float));
    if (!m->params || !m->acts) {
        gs_model_free(m);
        return gs_err_set(err, "out of memory allocating the model (%zu activations)", m->n_acts);
    }
    m->grads = m->params + m->n_params;
    return 0;
}

int gs_model_create(gs_model *m, const gs_dims *d, int max_batch, gs_path path, gs_err *err)
{
    memset(m, 0, sizeof *m);
    m->d = *d;
    m->n_tensors = gs_params_count(d);
    m->n_params = gs_params_layout(d, m->info);
    m->max_batch = max_batch;
    if (d->kind == GS_MODEL_TRANSFORMER && d->n_layers > 1) {
        /* several blocks: model_deep.c's reference path, or model_deep_fast.c's path,
         * which uses the same buffers and its own tables after them */
        m->deep_fast = path == GS_PATH_FAST;
        m->n_tab = m->deep_fast ? gs_deep_fast_tables_size(d, max_batch) : 0;
        m->n_acts = gs_deep_acts_size(d, max_batch) + m->n_tab;
        if (alloc_buffers(m, err) != 0)
            return -1;
        gs_deep_carve(m);
        m->tab = m->deep_fast ? m->acts + (m->n_acts - m->n_tab) : NULL;
        return 0;
    }
    if (d->kind == GS_MODEL_MLP) {
        m->n_acts = gs_mlp_acts_size(d, max_batch);
        if (alloc_buffers(m, err) != 0)
            return -1;
        gs_mlp_carve(m, m->acts);
        return 0;
    }
    m->fast = path == GS_PATH_FAST;
    const size_t N = (size_t)max_batch, D = (size_t)d->d_model, M = (size_t)d->d_mlp,
                 V = (size_t)d->n_out, H = (size_t)d->n_heads, T = (size_t)d->n_ctx;
    /* Tables of activation sizes: the head (MLP, unembedding, loss) is shared; the
     * reference path adds every position's attention, the fast path per-token tables. */
    float **views_ref[] = {&m->pre, &m->post, &m->x2, &m->logits, &m->dlogits, &m->dx2,
                           &m->dpost, &m->x0, &m->q, &m->k, &m->v, &m->att, &m->z, &m->x1,
                           &m->dx1, &m->dz, &m->dq, &m->dk, &m->dv, &m->dx0};
    const size_t sizes_ref[] = {N * M, N * M, N * D, N * V, N * V, N * D, N * M,
                                N * T * D, N * T * D, N * T * D, N * T * D, N * H * T * T,
                                N * T * D, N * T * D, N * T * D, N * T * D, N * T * D,
                                N * T * D, N * T * D, N * T * D};
    float **views_fast[] = {&m->pre, &m->post, &m->x2, &m->logits, &m->dlogits, &m->dx2,
                            &m->dpost, &m->alpha, &m->xl, &m->dx1, &m->tab};
    const size_t sizes_fast[] = {N * M, N * M, N * D, N * V, N * V, N * D, N * M,
                                 N * H * 3, N * D, N * D, gs_model_fast_tables_size(d)};
    float ***views = m->fast ? views_fast : views_ref;
    const size_t *sizes = m->fast ? sizes_fast : sizes_ref;
    const size_t n_views = m->fast ? sizeof sizes_fast / sizeof *sizes_fast
                                   : sizeof sizes_ref / sizeof *sizes_ref;
    static_assert(sizeof views_ref / sizeof *views_ref == sizeof sizes_ref / sizeof *sizes_ref, "ref table");
    static_assert(sizeof views_fast / sizeof *views_fast == sizeof sizes_fast / sizeof *sizes_fast, "fast table");
    m->n_acts = 0;
    for (size_t i = 0; i < n_views; i++)
        m->n_acts += sizes[i];
    if (alloc_buffers(m, err) != 0)
        return -1;
    float *at = m->acts;
    for (size_t i = 0; i < n_views; i++) {
        *views[i] = at;
        at += sizes[i];
    }
    m->n_tab = m->fast ? sizes_fast[n_views - 1] : 0;
    return 0;
}

void gs_model_free(gs_model *m)
{
    free(m->params);
    free(m->acts);
    memset(m, 0, sizeof *m);
}

double gs_cross_entropy_row(const float *logits, int n_classes, int target, int *correct)
{
    double mx = logits[0];
    int arg = 0;
    for (int c = 1; c < n_classes; c++)
        if (logits[c] > mx) {
            mx = logits[c];
            arg = c;
        }
    double s = 0.0;
    for (int c = 0; c < n_classes; c++)
        s += exp((double)logits[c] - mx);
    if (correct)
        *correct = (arg == target);
    return log(s) + mx - (double)logits[target];
}

/* ---- layers: forward/backward pairs, outputs first ---- */

void gs_embed_forward(float *x0, const int32_t *idx, int n, const gs_model *m)
{
    const int D = m->d.d_model, p = m->d.p;
    const float *W_E = P(m, GS_W_E), *W_pos = P(m, GS_W_POS);
    for (int i = 0; i < n; i++) {
        const int tok[3] = {idx[i] / p, idx[i] % p, p};
        for (int t = 0; t < 3; t++) {
            float *x = x0 + ((size_t)i * 3 + t) * D;
            for (int c = 0; c < D; c++)
                x[c] = W_E[(size_t)tok[t] * D + c] + W_pos[t * D + c];
        }
    }
}

void gs_embed_backward(gs_model *m, const float *dx0, const int32_t *idx, int n)
{
    const int D = m->d.d_model, p = m->d.p;
    float *gW_E = G(m, GS_W_E), *gW_pos = G(m, GS_W_POS);
    for (int i = 0; i < n; i++) {
        const int tok[3] = {idx[i] / p, idx[i] % p, p};
        for (int t = 0; t < 3; t++) {
            const float *dx = dx0 + ((size_t)i * 3 + t) * D;
            for (int c = 0; c < D; c++) {
                gW_E[(size_t)tok[t] * D + c] += dx[c];
                gW_pos[t * D + c] += dx[c];
            }
        }
    }
}

/* out[rows, H*E] (head h in columns h*E..) = x[rows, D] @ W[h] for W of shape [H, D, E]. */
void gs_heads_project(float *out, const float *x, const float *W, int rows, const gs_dims *d)
{
    const int D = d->d_model, E = d->d_head;
    for (int h = 0; h < d->n_heads; h++)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, rows, E, D, 1.0f, x, D,
                    W + (size_t)h * D * E, E, 0.0f, out + h * E, D);
}

/* Backward of heads_project: gW[h] += x^T dout_h; dx += dout_h W[h]^T. */
void gs_heads_project_backward(float *dx, float *gW, const float *dout, const float *x,
                                   const float *W, int rows, const gs_dims *d)
{
    const int D = d->d_model, E = d->d_head;
    for (int h = 0; h < d->n_heads; h++) {
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, D, E, rows, 1.0f, x, D,
                    dout + h * E, D, 1.0f, gW + (size_t)h * D * E, E);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, rows, D, E, 1.0f, dout + h * E, D,
                    W + (size_t)h * D * E, E, 1.0f, dx, D);
    }
}

/* Causal softmax attention inside each input's 3 positions, per head. */
void gs_attention_forward(float *z, float *att, const float *q, const float *k,
                          const float *v, int n, const gs_dims *d)
{
    const int D = d->d_model, H = d->n_heads, E = d->d_head, T = d->n_ctx;
    const float scale = 1.0f / sqrtf((float)E);
    for (int i = 0; i < n; i++)
        for (int h = 0; h < H; h++) {
            float *a = att + (((size_t)i * H + h) * T) * T;
            for (int s = 0; s < T; s++) {
                const float *qs = q + ((size_t)i * T + s) * D + h * E;
                float mx = -INFINITY;
                for (int t = 0; t < T; t++) {
                    float sc = 0.0f;
                    if (t <= s) {
                        const float *kt = k + ((size_t)i * T + t) * D + h * E;
                        for (int e = 0; e < E; e++)
                            sc += qs[e] * kt[e];
                        sc *= scale;
                        if (sc > mx)
                            mx = sc;
                    }
                    a[s * T + t] = sc;
                }
                float sum = 0.0f;
                for (int t = 0; t < T; t++) {
                    a[s * T + t] = t <= s ? expf(a[s * T + t] - mx) : 0.0f;
                    sum += a[s * T + t];
                }
                float *zs = z + ((size_t)i * T + s) * D + h * E;
                for (int e = 0; e < E; e++)
                    zs[e] = 0.0f;
                for (int t = 0; t <= s; t++) {
                    a[s * T + t] /= sum;
                    const float *vt = v + ((size_t)i * T + t) * D + h * E;
                    for (int e = 0; e < E; e++)
                        zs[e] += a[s * T + t] * vt[e];
                }
            }
        }
}

/* dq, dk, dv are overwritten. */
void gs_attention_backward(float *dq, float *dk, float *dv, const float *dz,
                           const float *att, const float *q, const float *k,
                           const float *v, int n, const gs_dims *d)
{
    const int D = d->d_model, H = d->n_heads, E = d->d_head, T = d->n_ctx;
    const float scale = 1.0f / sqrtf((float)E);
    const size_t rows = (size_t)n * T * D;
    memset(dq, 0, rows * sizeof *dq);
    memset(dk, 0, rows * sizeof *dk);
    memset(dv, 0, rows * sizeof *dv);
    for (int i = 0; i < n; i++)
        for (int h = 0; h < H; h++) {
            const float *a = att + (((size_t)i * H + h) * T) * T;
            for (int s = 0; s < T; s++) {
                const size_t rs = ((size_t)i * T + s) * D + h * E;
                float datt[8];
                assert(T <= 8);
                float dot = 0.0f;
                for (int t = 0; t <= s; t++) {
                    const size_t rt = ((size_t)i * T + t) * D + h * E;
                    float g = 0.0f;
                    for (int e = 0; e < E; e++) {
                        g += dz[rs + e] * v[rt + e];
                        dv[rt + e] += a[s * T + t] * dz[rs + e];
                    }
                    datt[t] = g;
                    dot += a[s * T + t] * g;
                }
                for (int t = 0; t <= s; t++) {
                    const size_t rt = ((size_t)i * T + t) * D + h * E;
                    const float ds = a[s * T + t] * (datt[t] - dot) * scale;
                    for (int e = 0; e < E; e++) {
                        dq[rs + e] += ds * k[rt + e];
                        dk[rt + e] += ds * q[rs + e];
                    }
                }
            }
        }
}

gs_eval gs_model_run_blocks(gs_model *m, void (*fn)(void *, int, int, int), void *ctx, int n, int block)
{
    assert((n + block - 1) / block <= GS_MLP_MAX_PARTS);
    gs_jobs js = {.pool = m->pool, .ctx = ctx};
    gs_jobs_add_blocks(&js, fn, n, block);
    gs_jobs_run(&js);
    gs_eval ev = {0};
    for (int b = 0; b * block < n; b++)
        gs_eval_add(&ev, &m->mlp_parts[b]);
    return ev;
}

gs_eval gs_model_forward(gs_model *m, const int32_t *idx, const int32_t *target, int n)
{
    assert(n >= 1 && n <= m->max_batch);
    if (m->d.kind == GS_MODEL_MLP)
        return gs_mlp_forward(m, idx, target, n);
    if (m->d.n_layers > 1)
        return m->deep_fast ? gs_deep_fast_forward(m, idx, target, n) : gs_deep_forward(m, idx, target, n);
    if (m->fast)
        return gs_model_fast_forward(m, idx, target, n);
    const gs_dims *d = &m->d;
    const int D = d->d_model, H = d->n_heads, E = d->d_head;
    const int rows = n * d->n_ctx;
    gs_embed_forward(m->x0, idx, n, m);
    gs_heads_project(m->q, m->x0, P(m, GS_W_Q), rows, d);
    gs_heads_project(m->k, m->x0, P(m, GS_W_K), rows, d);
    gs_heads_project(m->v, m->x0, P(m, GS_W_V), rows, d);
    gs_attention_forward(m->z, m->att, m->q, m->k, m->v, n, d);
    /* x1 = x0 + sum_h z_h W_O[h] */
    memcpy(m->x1, m->x0, (size_t)rows * D * sizeof(float));
    for (int h = 0; h < H; h++)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, rows, D, E, 1.0f, m->z + h * E, D,
                    P(m, GS_W_O) + (size_t)h * E * D, D, 1.0f, m->x1, D);
    /* the head reads the last position: row stride 3*D picks it out of x1 */
    return gs_model_head_forward(m, m->x1 + 2 * D, 3 * D, target, n);
}

gs_eval gs_model_head_forward(gs_model *m, const float *xl, int ld, const int32_t *target, int n)
{
    const gs_dims *d = &m->d;
    const int D = d->d_model, M = d->d_mlp, V = d->n_out;
    const float *b_in = P(m, GS_B_IN), *b_out = P(m, GS_B_OUT);
    for (int i = 0; i < n; i++)
        memcpy(m->pre + (size_t)i * M, b_in, (size_t)M * sizeof(float));
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, M, D, 1.0f, xl, ld,
                P(m, GS_W_IN), M, 1.0f, m->pre, M);
    gs_k_relu(m->post, m->pre, (size_t)n * M);
    for (int i = 0; i < n; i++)
        for (int c = 0; c < D; c++)
            m->x2[(size_t)i * D + c] = xl[(size_t)i * ld + c] + b_out[c];
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, D, M, 1.0f, m->post, M,
                P(m, GS_W_OUT), D, 1.0f, m->x2, D);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, V, D, 1.0f, m->x2, D,
                P(m, GS_W_U), V, 0.0f, m->logits, V);
    gs_eval ev = {.n = n};
    for (int i = 0; i < n; i++) {
        int flags;
        ev.loss_sum += gs_loss_row_ref(&m->loss, m->logits + (size_t)i * V, V, target[i], &flags);
        ev.n_correct += flags & GS_ROW_CORRECT;
        ev.n_collapsed += (flags & GS_ROW_COLLAPSED) != 0;
    }
    return ev;
}

void gs_model_head_backward(gs_model *m, float *dxl, int ld, const float *xl, const int32_t *target, int n)
{
    const gs_dims *d = &m->d;
    const int D = d->d_model, M = d->d_mlp, V = d->n_out;
    for (int i = 0; i < n; i++)
        gs_loss_grad_ref(&m->loss, m->logits + (size_t)i * V, V, target[i],
                         m->dlogits + (size_t)i * V, n);
    /* unembed */
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, D, V, n, 1.0f, m->x2, D, m->dlogits, V,
                1.0f, G(m, GS_W_U), V);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, D, V, 1.0f, m->dlogits, V,
                P(m, GS_W_U), V, 0.0f, m->dx2, D);
    /* MLP out */
    float *gb_out = G(m, GS_B_OUT), *gb_in = G(m, GS_B_IN);
    for (int i = 0; i < n; i++)
        for (int c = 0; c < D; c++)
            gb_out[c] += m->dx2[(size_t)i * D + c];
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, M, D, n, 1.0f, m->post, M, m->dx2, D,
                1.0f, G(m, GS_W_OUT), D);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, M, D, 1.0f, m->dx2, D,
                P(m, GS_W_OUT), D, 0.0f, m->dpost, M);
    for (size_t j = 0; j < (size_t)n * M; j++)
        if (m->pre[j] <= 0.0f)
            m->dpost[j] = 0.0f;
    for (int i = 0; i < n; i++)
        for (int j = 0; j < M; j++)
            gb_in[j] += m->dpost[(size_t)i * M + j];
    /* MLP in; the residual passes dx2 straight through */
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, D, M, n, 1.0f, xl, ld, m->dpost,
                M, 1.0f, G(m, GS_W_IN), M);
    for (int i = 0; i < n; i++)
        memcpy(dxl + (size_t)i * ld, m->dx2 + (size_t)i * D, (size_t)D * sizeof(float));
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, D, M, 1.0f, m->dpost, M,
                P(m, GS_W_IN), M, 1.0f, dxl, ld);
}

void gs_model_backward(gs_model *m, const int32_t *idx, const int32_t *target, int n)
{
    assert(n >= 1 && n <= m->max_batch);
    if (m->d.kind == GS_MODEL_MLP) {
        gs_mlp_backward(m, idx, target, n);
        return;
    }
    if (m->d.n_layers > 1) {
        if (m->deep_fast)
            gs_deep_fast_backward(m, idx, target, n);
        else
            gs_deep_backward(m, idx, target, n);
        return;
    }
    if (m->fast) {
        gs_model_fast_backward(m, idx, target, n);
        return;
    }
    const gs_dims *d = &m->d;
    const int D = d->d_model, H = d->n_heads, E = d->d_head;
    const int rows = n * d->n_ctx;
    /* only the last position of x1 feeds the head; positions 0, 1 get no gradient */
    memset(m->dx1, 0, (size_t)rows * D * sizeof(float));
    gs_model_head_backward(m, m->dx1 + 2 * D, 3 * D, m->x1 + 2 * D, target, n);
    /* attention output projection; x1 = x0 + attn, so dx0 starts as dx1 */
    memcpy(m->dx0, m->dx1, (size_t)rows * D * sizeof(float));
    for (int h = 0; h < H; h++) {
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, E, D, rows, 1.0f, m->z + h * E, D,
                    m->dx1, D, 1.0f, G(m, GS_W_O) + (size_t)h * E * D, D);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, rows, E, D, 1.0f, m->dx1, D,
                    P(m, GS_W_O) + (size_t)h * E * D, D, 0.0f, m->dz + h * E, D);
    }
    gs_attention_backward(m->dq, m->dk, m->dv, m->dz, m->att, m->q, m->k, m->v, n, d);
    gs_heads_project_backward(m->dx0, G(m, GS_W_Q), m->dq, m->x0, P(m, GS_W_Q), rows, d);
    gs_heads_project_backward(m->dx0, G(m, GS_W_K), m->dk, m->x0, P(m, GS_W_K), rows, d);
    gs_heads_project_backward(m->dx0, G(m, GS_W_V), m->dv, m->x0, P(m, GS_W_V), rows, d);
    gs_embed_backward(m, m->dx0, idx, n);
}

gs_eval gs_model_evaluate_chunks(gs_model *m, const int32_t *idx, const int32_t *target, int n,
                                 gs_rows_mode mode, gs_chunk_fn after, void *arg)
{
    assert(mode == GS_ROWS_EVAL || mode == GS_ROWS_FORWARD);
    gs_eval total = {0};
    for (int at = 0; at < n; at += m->max_batch) {
        const int len = n - at < m->max_batch ? n - at : m->max_batch;
        const gs_eval e = m->fast        ? gs_model_fast_rows(m, idx + at, target + at, len, mode)
                          : m->deep_fast ? gs_deep_fast_rows(m, idx + at, target + at, len)
                                         : gs_model_forward(m, idx + at, target + at, len);
        gs_eval_add(&total, &e);
        if (after)
            after(arg, idx + at, len);
    }
    return total;
}

gs_eval gs_model_evaluate(gs_model *m, const int32_t *idx, const int32_t *target, int n)
{
    gs_model_prepare(m);
    return gs_model_evaluate_chunks(m, idx, target, n, GS_ROWS_FORWARD, NULL, NULL);
}

void gs_model_prepare(gs_model *m)
{
    if (m->fast)
        gs_model_fast_prepare(m);
    else if (m->deep_fast)
        gs_deep_fast_prepare(m);
}

gs_eval gs_model_rows(gs_model *m, const int32_t *idx, const int32_t *target, int n,
                      gs_rows_mode mode)
{
    return m->fast        ? gs_model_fast_rows(m, idx, target, n, mode)
           : m->deep_fast ? gs_deep_fast_rows(m, idx, target, n)
                          : gs_model_forward(m, idx, target, n);
}

size_t gs_model_scratch_size(const gs_dims *d)
{
    return d->kind == GS_MODEL_TRANSFORMER ? gs_model_fast_scratch_size(d) : 0;
}
