/* The transformer of several blocks (Power et al.'s 2-layer model is n_layers = 2),
 * reference path: docs/science.md §2's block applied n_layers times, every position
 * through every block (a block's attention reads all three positions of the block
 * below), the unembedding at the last position. Block l's tensors are
 * gs_tf_block(id, l) (params.h). Layouts as in model.c: rows are (input, position).
 * Both passes run on the pool (core/pool.h); the results do not depend on its size. */
#include "fast_kernels.h"
#include "model.h"
#include "pool.h"

#include <assert.h>
#include <cblas.h>
#include <string.h>

#define P(m, id) ((m)->params + (m)->info[id].offset)
#define G(m, id) ((m)->grads + (m)->info[id].offset)

size_t gs_deep_acts_size(const gs_dims *d, int max_batch)
{
    const size_t R = (size_t)max_batch * 3, D = (size_t)d->d_model, M = (size_t)d->d_mlp,
                 H = (size_t)d->n_heads, V = (size_t)d->n_out, L = (size_t)d->n_layers;
    /* per block q, k, v, z, mid (R*D each), att, pre, post; the residuals; backward:
     * dX, dmid, dz, dq, dk, dv (R*D), dpost (R*M); logits, dlogits; post (last) */
    return L * (5 * R * D + R * H * 3 + 2 * R * M) + (L + 1) * R * D + 6 * R * D + R * M +
           2 * (size_t)max_batch * V + (size_t)max_batch * M;
}

void gs_deep_carve(gs_model *m)
{
    const gs_dims *d = &m->d;
    const size_t R = (size_t)m->max_batch * 3, D = (size_t)d->d_model, M = (size_t)d->d_mlp,
                 H = (size_t)d->n_heads, V = (size_t)d->n_out;
    float *at = m->acts;
#define TAKE(ptr, n) ((ptr) = at, at += (n))
    for (int l = 0; l < d->n_layers; l++) {
        TAKE(m->blk_q[l], R * D);
        TAKE(m->blk_k[l], R * D);
        TAKE(m->blk_v[l], R * D);
        TAKE(m->blk_z[l], R * D);
        TAKE(m->blk_mid[l], R * D);
        TAKE(m->blk_att[l], R * H * 3);
        TAKE(m->blk_pre[l], R * M);
        TAKE(m->blk_post[l], R * M);
    }
    for (int l = 0; l <= d->n_layers; l++)
        TAKE(m->blk_x[l], R * D);
    TAKE(m->dx0, R * D); /* dX */
    TAKE(m->dx1, R * D); /* dmid */
    TAKE(m->dz, R * D);
    TAKE(m->dq, R * D);
    TAKE(m->dk, R * D);
    TAKE(m->dv, R * D);
    TAKE(m->dpost, R * M);
    TAKE(m->logits, (size_t)m->max_batch * V);
    TAKE(m->dlogits, (size_t)m->max_batch * V);
    TAKE(m->post, (size_t)m->max_batch * M);
#undef TAKE
    assert((size_t)(at - m->acts) == gs_deep_acts_size(d, m->max_batch));
}

/* Inputs in blocks whose size depends on n only (at most GS_MLP_MAX_PARTS of them),
 * one pool task each: the bits do not depend on the thread count. */
int gs_deep_row_block(int n)
{
    const int per = (n + GS_MLP_MAX_PARTS - 1) / GS_MLP_MAX_PARTS;
    return per > 32 ? per : 32;
}

typedef struct {
    gs_model *m;
    const int32_t *idx, *target;
    int block;
} deep_ctx;

/* the forward of inputs [lo, hi) through every block, their logits and losses */
static void forward_rows(void *arg, int lo, int hi, int thread)
{
    (void)thread;
    const deep_ctx *c = arg;
    gs_model *m = c->m;
    const gs_dims *d = &m->d;
    const int D = d->d_model, H = d->n_heads, E = d->d_head, M = d->d_mlp, V = d->n_out;
    const int n = hi - lo, rows = n * 3;
    const size_t rD = (size_t)lo * 3 * D, rM = (size_t)lo * 3 * M;
    gs_embed_forward(m->blk_x[0] + rD, c->idx + lo, n, m);
    for (int l = 0; l < d->n_layers; l++) {
        const float *x = m->blk_x[l] + rD;
        float *mid = m->blk_mid[l] + rD, *pre = m->blk_pre[l] + rM, *post = m->blk_post[l] + rM;
        float *out = m->blk_x[l + 1] + rD, *q = m->blk_q[l] + rD, *k = m->blk_k[l] + rD;
        float *v = m->blk_v[l] + rD, *z = m->blk_z[l] + rD;
        gs_heads_project(q, x, P(m, gs_tf_block(GS_W_Q, l)), rows, d);
        gs_heads_project(k, x, P(m, gs_tf_block(GS_W_K, l)), rows, d);
        gs_heads_project(v, x, P(m, gs_tf_block(GS_W_V, l)), rows, d);
        gs_attention_forward(z, m->blk_att[l] + (size_t)lo * H * 9, q, k, v, n, d);
        memcpy(mid, x, (size_t)rows * D * sizeof(float));
        for (int h = 0; h < H; h++)
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, rows, D, E, 1.0f, z + h * E, D,
                        P(m, gs_tf_block(GS_W_O, l)) + (size_t)h * E * D, D, 1.0f, mid, D);
        /* MLP at every position (the next block reads them all) */
        const float *b_in = P(m, gs_tf_block(GS_B_IN, l)), *b_out = P(m, gs_tf_block(GS_B_OUT, l));
        for (int r = 0; r < rows; r++)
            memcpy(pre + (size_t)r * M, b_in, (size_t)M * sizeof(float));
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, rows, M, D, 1.0f, mid, D,
                    P(m, gs_tf_block(GS_W_IN, l)), M, 1.0f, pre, M);
        gs_k_relu(post, pre, (size_t)rows * M);
        for (int r = 0; r < rows; r++)
            for (int col = 0; col < D; col++)
                out[(size_t)r * D + col] = mid[(size_t)r * D + col] + b_out[col];
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, rows, D, M, 1.0f, post, M,
                    P(m, gs_tf_block(GS_W_OUT, l)), D, 1.0f, out, D);
    }
    /* the last position: logits, and the last block's neurons for the probes */
    const int last = d->n_layers - 1;
    float *logits = m->logits + (size_t)lo * V;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, V, D, 1.0f,
                m->blk_x[d->n_layers] + rD + 2 * D, 3 * D, P(m, gs_tf_unembed(d)), V, 0.0f, logits, V);
    for (int i = lo; i < hi; i++)
        memcpy(m->post + (size_t)i * M, m->blk_post[last] + ((size_t)i * 3 + 2) * M, (size_t)M * sizeof(float));
    gs_eval ev = {.n = n};
    for (int i = 0; i < n; i++) {
        int flags;
        ev.loss_sum += gs_loss_row_ref(&m->loss, logits + (size_t)i * V, V, c->target[lo + i], &flags);
        ev.n_correct += flags & GS_ROW_CORRECT;
        ev.n_collapsed += (flags & GS_ROW_COLLAPSED) != 0;
    }
    m->mlp_parts[lo / c->block] = ev;
}

gs_eval gs_deep_forward(gs_model *m, const int32_t *idx, const int32_t *target, int n)
{
    assert(n >= 1 && n <= m->max_batch);
    deep_ctx c = {.m = m, .idx = idx, .target = target, .block = gs_deep_row_block(n)};
    return gs_model_run_blocks(m, forward_rows, &c, n, c.block);
}

/* ---- the backward, on the pool: per-input work in the forward's input blocks, weight
 * gradients in blocks of their rows (gs_jobs_add_gemm) or columns, so every output has
 * one writer and every sum one order ---- */

#define COL_BLOCK 32

typedef struct {
    gs_model *m;
    const int32_t *idx, *target;
    int n, block, l;
    float *dX, *dmid;
} back_ctx;

/* bias gradients: column sums over every row of x [rows, cols], columns [lo, hi) */
static void col_sums(float *g, const float *x, int rows, int cols, int lo, int hi)
{
    for (int r = 0; r < rows; r++)
        for (int c = lo; c < hi; c++)
            g[c] += x[(size_t)r * cols + c];
}

static void b_out_cols(void *arg, int lo, int hi, int thread)
{
    (void)thread;
    const back_ctx *c = arg;
    col_sums(G(c->m, gs_tf_block(GS_B_OUT, c->l)), c->dX, 3 * c->n, c->m->d.d_model, lo, hi);
}

static void b_in_cols(void *arg, int lo, int hi, int thread)
{
    (void)thread;
    const back_ctx *c = arg;
    col_sums(G(c->m, gs_tf_block(GS_B_IN, c->l)), c->m->dpost, 3 * c->n, c->m->d.d_mlp, lo, hi);
}

/* dpost = dX W_out^T through the ReLU, inputs [lo, hi) */
static void dpost_rows(void *arg, int lo, int hi, int thread)
{
    (void)thread;
    const back_ctx *c = arg;
    gs_model *m = c->m;
    const int D = m->d.d_model, M = m->d.d_mlp, rows = 3 * (hi - lo);
    const size_t rD = (size_t)lo * 3 * D, rM = (size_t)lo * 3 * M;
    float *dpost = m->dpost + rM;
    const float *pre = m->blk_pre[c->l] + rM;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, rows, M, D, 1.0f, c->dX + rD, D,
                P(m, gs_tf_block(GS_W_OUT, c->l)), D, 0.0f, dpost, M);
    for (size_t j = 0; j < (size_t)rows * M; j++)
        if (pre[j] <= 0.0f)
            dpost[j] = 0.0f;
}

/* dmid = dX + dpost W_in^T, inputs [lo, hi) */
static void dmid_rows(void *arg, int lo, int hi, int thread)
{
    (void)thread;
    const back_ctx *c = arg;
    gs_model *m = c->m;
    const int D = m->d.d_model, M = m->d.d_mlp, rows = 3 * (hi - lo);
    const size_t rD = (size_t)lo * 3 * D, rM = (size_t)lo * 3 * M;
    memcpy(c->dmid + rD, c->dX + rD, (size_t)rows * D * sizeof(float));
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, rows, D, M, 1.0f, m->dpost + rM, M,
                P(m, gs_tf_block(GS_W_IN, c->l)), M, 1.0f, c->dmid + rD, D);
}

/* inputs [lo, hi): dz = dmid W_O^T, the attention's backward, and the gradient at the
 * block's input dX = dmid + dq W_Q^T + dk W_K^T + dv W_V^T */
static void attn_rows(void *arg, int lo, int hi, int thread)
{
    (void)thread;
    const back_ctx *c = arg;
    gs_model *m = c->m;
    const gs_dims *d = &m->d;
    const int D = d->d_model, H = d->n_heads, E = d->d_head, l = c->l, rows = 3 * (hi - lo);
    const size_t rD = (size_t)lo * 3 * D;
    const float *W_O = P(m, gs_tf_block(GS_W_O, l));
    for (int h = 0; h < H; h++)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, rows, E, D, 1.0f, c->dmid + rD, D,
                    W_O + (size_t)h * E * D, D, 0.0f, m->dz + rD + h * E, D);
    gs_attention_backward(m->dq + rD, m->dk + rD, m->dv + rD, m->dz + rD,
                          m->blk_att[l] + (size_t)lo * H * 9, m->blk_q[l] + rD, m->blk_k[l] + rD,
                          m->blk_v[l] + rD, hi - lo, d);
    memcpy(c->dX + rD, c->dmid + rD, (size_t)rows * D * sizeof(float));
    const int ids[3] = {GS_W_Q, GS_W_K, GS_W_V};
    const float *douts[3] = {m->dq + rD, m->dk + rD, m->dv + rD};
    for (int w = 0; w < 3; w++) {
        const float *W = P(m, gs_tf_block(ids[w], l));
        for (int h = 0; h < H; h++)
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, rows, D, E, 1.0f, douts[w] + h * E, D,
                        W + (size_t)h * D * E, E, 1.0f, c->dX + rD, D);
    }
}

void gs_deep_backward(gs_model *m, const int32_t *idx, const int32_t *target, int n)
{
    assert(n >= 1 && n <= m->max_batch);
    const gs_dims *d = &m->d;
    const int D = d->d_model, H = d->n_heads, E = d->d_head, M = d->d_mlp, V = d->n_out;
    const int rows = n * 3;
    back_ctx c = {.m = m, .idx = idx, .target = target, .n = n, .block = gs_deep_row_block(n),
                  .dX = m->dx0, .dmid = m->dx1};
    gs_jobs js = {.pool = m->pool, .ctx = &c};
    for (int i = 0; i < n; i++)
        gs_loss_grad_ref(&m->loss, m->logits + (size_t)i * V, V, target[i], m->dlogits + (size_t)i * V, n);
    /* unembedding: only the last position of the output residual has a gradient */
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, D, V, n, 1.0f, m->blk_x[d->n_layers] + 2 * D,
                3 * D, m->dlogits, V, 1.0f, G(m, gs_tf_unembed(d)), V);
    memset(c.dX, 0, (size_t)rows * D * sizeof(float));
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, D, V, 1.0f, m->dlogits, V,
                P(m, gs_tf_unembed(d)), V, 0.0f, c.dX + 2 * D, 3 * D);
    for (int l = d->n_layers - 1; l >= 0; l--) {
        c.l = l;
        /* out = mid + post W_out + b_out */
        gs_jobs_add_blocks(&js, b_out_cols, D, COL_BLOCK);
        gs_jobs_add_gemm(&js, CblasTrans, CblasNoTrans, M, D, rows, m->blk_post[l], M, c.dX, D, 1.0f,
                         G(m, gs_tf_block(GS_W_OUT, l)), D, COL_BLOCK);
        gs_jobs_add_blocks(&js, dpost_rows, n, c.block);
        gs_jobs_run(&js);
        /* post = relu(mid W_in + b_in) */
        gs_jobs_add_blocks(&js, b_in_cols, M, COL_BLOCK);
        gs_jobs_add_gemm(&js, CblasTrans, CblasNoTrans, D, M, rows, m->blk_mid[l], D, m->dpost, M, 1.0f,
                         G(m, gs_tf_block(GS_W_IN, l)), M, COL_BLOCK);
        gs_jobs_add_blocks(&js, dmid_rows, n, c.block);
        gs_jobs_run(&js);
        /* mid = x + sum_h z_h W_O[h]; then attention and the q, k, v projections */
        float *gW_O = G(m, gs_tf_block(GS_W_O, l));
        for (int h = 0; h < H; h++)
            gs_jobs_add_gemm(&js, CblasTrans, CblasNoTrans, E, D, rows, m->blk_z[l] + h * E, D, c.dmid, D,
                             1.0f, gW_O + (size_t)h * E * D, D, COL_BLOCK);
        gs_jobs_add_blocks(&js, attn_rows, n, c.block);
        gs_jobs_run(&js);
        const int ids[3] = {GS_W_Q, GS_W_K, GS_W_V};
        const float *douts[3] = {m->dq, m->dk, m->dv};
        for (int w = 0; w < 3; w++) {
            float *gW = G(m, gs_tf_block(ids[w], l));
            for (int h = 0; h < H; h++)
                gs_jobs_add_gemm(&js, CblasTrans, CblasNoTrans, D, E, rows, m->blk_x[l], D, douts[w] + h * E, D,
                                 1.0f, gW + (size_t)h * D * E, E, COL_BLOCK);
        }
        gs_jobs_run(&js);
    }
    gs_embed_backward(m, c.dX, idx, n);
}
