/* The transformer of several blocks, fast path: the backward (the algebra:
 * model_deep_fast.h). Per-input work in the forward's input blocks; the weights' sums
 * over inputs split by output rows (gs_jobs_add_gemm) or columns, and the tables'
 * gradients gathered per token in input order, so every output has one writer and
 * every sum one order. */
#include "model_deep_fast.h"
#include "fast_kernels.h"
#include "model_fast.h"
#include "pool.h"

#include <assert.h>
#include <cblas.h>
#include <math.h>
#include <string.h>

/* the attention's backward of inputs [lo, hi) for query positions qlo..2 (dz read
 * there only): dq at those positions, dk and dv at all three, overwritten */
static void attn_backward(float *dq, float *dk, float *dv, const float *dz, const float *att,
                          const float *q, const float *k, const float *v, int n, int lo, int hi,
                          int qlo, const gs_dims *d)
{
    const int D = d->d_model, H = d->n_heads, E = d->d_head;
    const float scale = 1.0f / sqrtf((float)E);
    for (int i = lo; i < hi; i++) {
        for (int t = 0; t < 3; t++) {
            memset(dk + gs_deep_row(n, t, i) * D, 0, (size_t)D * sizeof(float));
            memset(dv + gs_deep_row(n, t, i) * D, 0, (size_t)D * sizeof(float));
            if (t >= qlo)
                memset(dq + gs_deep_row(n, t, i) * D, 0, (size_t)D * sizeof(float));
        }
        for (int h = 0; h < H; h++) {
            const float *a = att + ((size_t)i * H + h) * 9;
            for (int s = qlo; s < 3; s++) {
                const size_t rs = gs_deep_row(n, s, i) * D + h * E;
                float datt[3], dot = 0.0f;
                for (int t = 0; t <= s; t++) {
                    const size_t rt = gs_deep_row(n, t, i) * D + h * E;
                    float g = 0.0f;
                    for (int e = 0; e < E; e++) {
                        g += dz[rs + e] * v[rt + e];
                        dv[rt + e] += a[s * 3 + t] * dz[rs + e];
                    }
                    datt[t] = g;
                    dot += a[s * 3 + t] * g;
                }
                for (int t = 0; t <= s; t++) {
                    const size_t rt = gs_deep_row(n, t, i) * D + h * E;
                    const float ds = a[s * 3 + t] * (datt[t] - dot) * scale;
                    for (int e = 0; e < E; e++) {
                        dq[rs + e] += ds * k[rt + e];
                        dk[rt + e] += ds * q[rs + e];
                    }
                }
            }
        }
    }
}

/* g[c] += sum over rows of x [rows, cols], columns [lo, hi), hi - lo <= COL_BLOCK: in a
 * local accumulator (which the compiler keeps in vector registers; g may alias
 * nothing it reads), added to g in row order as a plain loop would */
static void col_sums(float *restrict g, const float *restrict x, int rows, int cols, int lo, int hi)
{
    assert(hi - lo <= COL_BLOCK);
    float acc[COL_BLOCK];
    const int w = hi - lo;
    for (int c = 0; c < w; c++)
        acc[c] = g[lo + c];
    if (w == COL_BLOCK)
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < COL_BLOCK; c++)
                acc[c] += x[(size_t)r * cols + lo + c];
    else
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < w; c++)
                acc[c] += x[(size_t)r * cols + lo + c];
    for (int c = 0; c < w; c++)
        g[lo + c] = acc[c];
}

/* inputs [lo, hi): the loss's gradient, and the last block's output's at position 2,
 * dX = dlogits W_U^T */
static void head_rows(void *arg, int lo, int hi, int thread)
{
    (void)thread;
    const gs_deep_ctx *c = arg;
    gs_model *m = c->m;
    const int D = m->d.d_model, V = m->d.n_out;
    for (int i = lo; i < hi; i++)
        gs_loss_grad_ref(&m->loss, m->logits + (size_t)i * V, V, c->target[i],
                         m->dlogits + (size_t)i * V, c->n);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, hi - lo, D, V, 1.0f, m->dlogits + (size_t)lo * V,
                V, P(m, gs_tf_unembed(&m->d)), V, 0.0f, c->dX + gs_deep_row(c->n, 2, lo) * D, D);
}

static void b_out_cols(void *arg, int lo, int hi, int thread)
{
    (void)thread;
    const gs_deep_ctx *c = arg;
    const int D = c->m->d.d_model;
    col_sums(GB(c->m, GS_B_OUT, c->l), c->dX + gs_deep_row(c->n, c->qlo, 0) * D, (3 - c->qlo) * c->n, D, lo, hi);
}

static void b_in_cols(void *arg, int lo, int hi, int thread)
{
    (void)thread;
    const gs_deep_ctx *c = arg;
    const int M = c->m->d.d_mlp;
    col_sums(GB(c->m, GS_B_IN, c->l), c->m->dpost + gs_deep_row(c->n, c->qlo, 0) * M, (3 - c->qlo) * c->n, M, lo, hi);
}

/* dpost = dX W_out^T through the ReLU, inputs [lo, hi), query positions */
static void dpost_rows(void *arg, int lo, int hi, int thread)
{
    (void)thread;
    const gs_deep_ctx *c = arg;
    gs_model *m = c->m;
    const int D = m->d.d_model, M = m->d.d_mlp;
    for (int s = c->qlo; s < 3; s++) {
        const size_t o = gs_deep_row(c->n, s, lo);
        float *dpost = m->dpost + o * M;
        const float *pre = m->blk_pre[c->l] + o * M;
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, hi - lo, M, D, 1.0f, c->dX + o * D, D,
                    WB(m, GS_W_OUT, c->l), D, 0.0f, dpost, M);
        gs_k_relu_mask(dpost, pre, (size_t)(hi - lo) * M);
    }
}

/* dmid = dX + dpost W_in^T, inputs [lo, hi), query positions */
static void dmid_rows(void *arg, int lo, int hi, int thread)
{
    (void)thread;
    const gs_deep_ctx *c = arg;
    gs_model *m = c->m;
    const int D = m->d.d_model, M = m->d.d_mlp;
    for (int s = c->qlo; s < 3; s++) {
        const size_t o = gs_deep_row(c->n, s, lo);
        memcpy(m->dx1 + o * D, c->dX + o * D, (size_t)(hi - lo) * D * sizeof(float));
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, hi - lo, D, M, 1.0f, m->dpost + o * M, M,
                    WB(m, GS_W_IN, c->l), M, 1.0f, m->dx1 + o * D, D);
    }
}

/* inputs [lo, hi): dz = dmid W_O^T, the attention's backward, and (from the second
 * block on) the gradient at the block's input at positions 1 and 2,
 * dXn = dmid + dq W_Q^T + dk W_K^T + dv W_V^T */
static void attn_rows(void *arg, int lo, int hi, int thread)
{
    (void)thread;
    const gs_deep_ctx *c = arg;
    gs_model *m = c->m;
    const gs_dims *d = &m->d;
    const int D = d->d_model, H = d->n_heads, E = d->d_head, l = c->l, n = c->n, cnt = hi - lo;
    for (int s = c->qlo; s < 3; s++) {
        const size_t o = gs_deep_row(n, s, lo) * D;
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, cnt, H * E, D, 1.0f, m->dx1 + o, D,
                    WB(m, GS_W_O, l), D, 0.0f, m->dz + o, D);
    }
    attn_backward(m->dq, m->dk, m->dv, m->dz, m->blk_att[l], m->blk_q[l], m->blk_k[l], m->blk_v[l],
                  n, lo, hi, c->qlo, d);
    if (l == 0)
        return; /* the first block's gradients go to its tables */
    const float *douts[3] = {m->dq, m->dk, m->dv};
    for (int s = 1; s < 3; s++) {
        const size_t o = gs_deep_row(n, s, lo) * D;
        if (s >= c->qlo)
            memcpy(c->dXn + o, m->dx1 + o, (size_t)cnt * D * sizeof(float));
        else
            memset(c->dXn + o, 0, (size_t)cnt * D * sizeof(float));
        for (int w = s >= c->qlo ? 0 : 1; w < 3; w++)
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, cnt, D, D, 1.0f, douts[w] + o, D,
                        c->t.Wc[l][w], D, 1.0f, c->dXn + o, D);
    }
}

/* The first block's backward at positions 1 and 2 of inputs [lo, hi), given dX (its
 * output's gradient) and dpost: the residual after attention and the MLP's input are
 * attention-weighted sums of the OV and VOW rows of the keys (first_block_rows), so
 * the gradient of weight a[h][s][t] is dX_s . OV[key t][h] + dpost_s . VOW[key t][h];
 * the softmax's backward gives dq at positions 1, 2 and dk at 0, 1, 2 (overwritten).
 * The rows' own gradients are gathered per token afterwards (tokens_a0 and the like). */
static void first_block_back(const gs_deep_ctx *c, int lo, int hi)
{
    gs_model *m = c->m;
    const gs_deep_tab *t = &c->t;
    const gs_dims *d = &m->d;
    const int p = d->p, D = d->d_model, H = d->n_heads, E = d->d_head, M = d->d_mlp, n = c->n;
    const float scale = 1.0f / sqrtf((float)E);
    const float *q = m->blk_q[0], *k = m->blk_k[0];
    float *dq = m->dq, *dk = m->dk;
    const float *ov[3 * H], *vow[3 * H];
    float g_ov[3 * H], g_vow[3 * H];
    for (int i = lo; i < hi; i++) {
        const int rows[3] = {c->idx[i] / p, p + c->idx[i] % p, 2 * p};
        for (int tk = 0; tk < 3; tk++) {
            memset(dk + gs_deep_row(n, tk, i) * D, 0, (size_t)D * sizeof(float));
            if (tk > 0)
                memset(dq + gs_deep_row(n, tk, i) * D, 0, (size_t)D * sizeof(float));
        }
        for (int s = 1; s < 3; s++) {
            /* the keys' rows, key-major within each head: j = h * (s + 1) + t */
            int kk = 0;
            for (int h = 0; h < H; h++)
                for (int tk = 0; tk <= s; tk++, kk++) {
                    ov[kk] = t->OV + ((size_t)rows[tk] * H + h) * D;
                    vow[kk] = t->VOW + ((size_t)rows[tk] * H + h) * M;
                }
            const size_t rs = gs_deep_row(n, s, i);
            gs_k_dots(g_ov, c->dX + rs * D, D, ov, kk);
            gs_k_dots(g_vow, m->dpost + rs * M, M, vow, kk);
            for (int h = 0; h < H; h++) {
                const float *a = m->blk_att[0] + ((size_t)i * H + h) * 9 + s * 3;
                const float *ga = g_ov + h * (s + 1), *gb = g_vow + h * (s + 1);
                float datt[3], dot = 0.0f;
                for (int tk = 0; tk <= s; tk++) {
                    datt[tk] = ga[tk] + gb[tk];
                    dot += a[tk] * datt[tk];
                }
                for (int tk = 0; tk <= s; tk++) {
                    const float ds = a[tk] * (datt[tk] - dot) * scale;
                    const size_t qo = rs * D + h * E, ko = gs_deep_row(n, tk, i) * D + h * E;
                    for (int e = 0; e < E; e++) {
                        dq[qo + e] += ds * k[ko + e];
                        dk[ko + e] += ds * q[qo + e];
                    }
                }
            }
        }
    }
}

/* the per-input backward of block l, inputs [lo, hi): its MLP, W_O and attention */
static void back_rows(void *arg, int lo, int hi, int thread)
{
    const gs_deep_ctx *c = arg;
    dpost_rows(arg, lo, hi, thread);
    if (c->l == 0 && c->qlo == 1) {
        first_block_back(c, lo, hi);
        return;
    }
    dmid_rows(arg, lo, hi, thread);
    attn_rows(arg, lo, hi, thread);
}

/* dst[r] = sum of src rows (position pos) of the inputs listed for token r, in input
 * order, for tokens [lo, hi) */
static void gather_tokens(float *dst, const float *src, int pos, const int *start, const int *by,
                          int n, int D, int lo, int hi)
{
    for (int tok = lo; tok < hi; tok++) {
        float *out = dst + (size_t)tok * D;
        memset(out, 0, (size_t)D * sizeof(float));
        for (int j = start[tok]; j < start[tok + 1]; j++) {
            const float *x = src + gs_deep_row(n, pos, by[j]) * D;
            for (int col = 0; col < D; col++)
                out[col] += x[col];
        }
    }
}

/* the chain's keys and values of block l: position 0's dk, dv summed per token a
 * (from the second block on) */
static void tokens_a(void *arg, int lo, int hi, int thread)
{
    (void)thread;
    const gs_deep_ctx *c = arg;
    const gs_deep_tab *t = &c->t;
    const int D = c->m->d.d_model;
    gather_tokens(t->dk[c->l], c->m->dk, 0, t->start_a, t->by_a, c->n, D, lo, hi);
    gather_tokens(t->dv[c->l], c->m->dv, 0, t->start_a, t->by_a, c->n, D, lo, hi);
}

/* dst[h][c] = sum over inputs i of a_i[h][2][2] x_i[c] for columns [lo, hi) (x: the
 * inputs' position-2 rows of width w; dst: H rows of width w), in input order */
static void equals_weighted(const gs_deep_ctx *c, float *dst, const float *x, int w, int lo, int hi)
{
    gs_model *m = c->m;
    const int H = m->d.n_heads, n = c->n;
    for (int h = 0; h < H; h++)
        memset(dst + (size_t)h * w + lo, 0, (size_t)(hi - lo) * sizeof(float));
    for (int i = 0; i < n; i++)
        for (int h = 0; h < H; h++) {
            const float a = m->blk_att[0][((size_t)i * H + h) * 9 + 8];
            float *out = dst + (size_t)h * w;
            const float *xi = x + (size_t)i * w;
            for (int col = lo; col < hi; col++)
                out[col] += a * xi[col];
        }
}

/* The first block's table rows of tokens [lo, hi) as the key at position tk (0: a, 1:
 * b), summed over the inputs listed for each token in input order: dOV[r][h] and
 * dVOW[r][h] get a[h][s][tk] dX_s and a[h][s][tk] dpost_s for the query positions s
 * that see the key; as position 1 (tk = 1) the row also gets the residual's dX_1, the
 * MLP input's dpost_1, and dq, dk; as position 0, dk (its query has no gradient). The
 * rows' dv comes from the tables' backward (dv is zeroed here). */
static void gather_first(const gs_deep_ctx *c, int tk, int lo, int hi)
{
    gs_model *m = c->m;
    const gs_deep_tab *t = &c->t;
    const gs_dims *d = &m->d;
    const int p = d->p, D = d->d_model, H = d->n_heads, M = d->d_mlp, n = c->n;
    const int *start = tk ? t->start_b : t->start_a, *by = tk ? t->by_b : t->by_a;
    float *ovs[H], *vows[H];
    float w[H];
    for (int tok = lo; tok < hi; tok++) {
        const size_t r = (size_t)tk * p + tok;
        memset(t->dOV + r * H * D, 0, (size_t)H * D * sizeof(float));
        memset(t->dVOW + r * H * M, 0, (size_t)H * M * sizeof(float));
        memset(t->dv[0] + r * D, 0, (size_t)D * sizeof(float));
        for (int h = 0; h < H; h++) {
            ovs[h] = t->dOV + (r * H + h) * D;
            vows[h] = t->dVOW + (r * H + h) * M;
        }
        for (int j = start[tok]; j < start[tok + 1]; j++) {
            const int i = by[j];
            for (int s = 1; s < 3; s++) {
                for (int h = 0; h < H; h++)
                    w[h] = m->blk_att[0][((size_t)i * H + h) * 9 + s * 3 + tk];
                gs_k_axpys(ovs, w, H, c->dX + gs_deep_row(n, s, i) * D, D);
                gs_k_axpys(vows, w, H, m->dpost + gs_deep_row(n, s, i) * M, M);
            }
        }
    }
    gather_tokens(t->dk[0] + (size_t)tk * p * D, m->dk, tk, start, by, n, D, lo, hi);
    if (tk == 0) {
        memset(t->dq + (size_t)lo * D, 0, (size_t)(hi - lo) * D * sizeof(float));
        memset(t->dXWb + (size_t)lo * M, 0, (size_t)(hi - lo) * M * sizeof(float));
        return;
    }
    const size_t o = (size_t)p * D;
    gather_tokens(t->dq + o, m->dq, 1, start, by, n, D, lo, hi);
    gather_tokens(t->dres[0] + o, c->dX, 1, start, by, n, D, lo, hi);
    gather_tokens(t->dXWb + (size_t)p * M, m->dpost, 1, start, by, n, M, lo, hi);
}

static void tokens_a0(void *arg, int lo, int hi, int thread)
{
    (void)thread;
    gather_first(arg, 0, lo, hi);
}

static void tokens_b0(void *arg, int lo, int hi, int thread)
{
    (void)thread;
    gather_first(arg, 1, lo, hi);
}

/* The first block's "=" row (key and query at position 2), summed over every input,
 * columns [lo, hi) of the width-D parts: dq, dk, the residual's dX_2 and dOV; dv is
 * zeroed (the tables' backward fills it) */
static void equals_cols(void *arg, int lo, int hi, int thread)
{
    (void)thread;
    const gs_deep_ctx *c = arg;
    const gs_deep_tab *t = &c->t;
    gs_model *m = c->m;
    const int D = m->d.d_model, H = m->d.n_heads, n = c->n;
    const size_t r = (size_t)2 * m->d.p, o = r * D, src = gs_deep_row(n, 2, 0) * D;
    float *dst[3] = {t->dq + o, t->dk[0] + o, t->dres[0] + o};
    const float *from[3] = {m->dq + src, m->dk + src, c->dX + src};
    for (int w = 0; w < 3; w++) {
        memset(dst[w] + lo, 0, (size_t)(hi - lo) * sizeof(float));
        col_sums(dst[w], from[w], n, D, lo, hi);
    }
    memset(t->dv[0] + o + lo, 0, (size_t)(hi - lo) * sizeof(float));
    equals_weighted(c, t->dOV + r * H * D, c->dX + src, D, lo, hi);
}

/* the same for the width-M parts: dXWb (dpost_2) and dVOW */
static void equals_cols_m(void *arg, int lo, int hi, int thread)
{
    (void)thread;
    const gs_deep_ctx *c = arg;
    const gs_deep_tab *t = &c->t;
    gs_model *m = c->m;
    const int M = m->d.d_mlp, H = m->d.n_heads, n = c->n;
    const size_t r = (size_t)2 * m->d.p, src = gs_deep_row(n, 2, 0) * M;
    memset(t->dXWb + r * M + lo, 0, (size_t)(hi - lo) * sizeof(float));
    col_sums(t->dXWb + r * M, m->dpost + src, n, M, lo, hi);
    equals_weighted(c, t->dVOW + r * H * M, m->dpost + src, M, lo, hi);
}

/* dx[rows] += dout W^T per head, W [H, D, E] */
static void heads_dx(float *dx, const float *dout, const float *W, int rows, const gs_dims *d)
{
    const int D = d->d_model, E = d->d_head;
    for (int h = 0; h < d->n_heads; h++)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, rows, D, E, 1.0f, dout + h * E, D,
                    W + (size_t)h * D * E, E, 1.0f, dx, D);
}

/* table rows [lo, hi), top block down: the chain's backward (its MLP, W_O, and the
 * value it attends to) and the gradient g[l] at every block's input row */
static void tab_backward_rows(void *arg, int lo, int hi, int thread)
{
    (void)thread;
    const gs_deep_ctx *c = arg;
    const gs_model *m = c->m;
    const gs_deep_tab *t = &c->t;
    const gs_dims *d = &m->d;
    const int p = d->p, D = d->d_model, H = d->n_heads, E = d->d_head, M = d->d_mlp, L = d->n_layers;
    const int chain_hi = gs_deep_imin(hi, p);
    for (int l = L - 1; l >= 0; l--) {
        const int end = l == 0 ? hi : chain_hi;
        if (end <= lo)
            continue;
        const size_t o = (size_t)lo * D, oM = (size_t)lo * M;
        if (chain_hi > lo) {
            const int rows = chain_hi - lo;
            float *dres = t->dres[l] + o;
            if (l == L - 1) {
                memset(dres, 0, (size_t)rows * D * sizeof(float));
            } else {
                const float *gout = t->g[l + 1] + o, *pre = t->pre[l] + oM;
                float *dpost = t->dpost[l] + oM;
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, rows, M, D, 1.0f, gout, D,
                            WB(m, GS_W_OUT, l), D, 0.0f, dpost, M);
                gs_k_relu_mask(dpost, pre, (size_t)rows * M);
                memcpy(dres, gout, (size_t)rows * D * sizeof(float));
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, rows, D, M, 1.0f, dpost, M,
                            WB(m, GS_W_IN, l), M, 1.0f, dres, D);
                /* z = v: the value gets dz = dres W_O^T on top of the inputs' share */
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, rows, H * E, D, 1.0f, dres, D,
                            WB(m, GS_W_O, l), D, 1.0f, t->dv[l] + o, D);
            }
        }
        const int rows = end - lo;
        float *g = t->g[l] + o;
        if (l == 0) {
            /* the inputs' use of the rows through OV = v W_O and VOW = v W_O W_in */
            const int H = d->n_heads;
            for (int h = 0; h < H; h++) {
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, rows, E, D, 1.0f,
                            t->dOV + ((size_t)lo * H + h) * D, H * D, WB(m, GS_W_O, 0) + (size_t)h * E * D,
                            D, 1.0f, t->dv[0] + o + h * E, D);
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, rows, E, M, 1.0f,
                            t->dVOW + ((size_t)lo * H + h) * M, H * M, t->OWin + (size_t)h * E * M, M,
                            1.0f, t->dv[0] + o + h * E, D);
            }
        }
        memcpy(g, t->dres[l] + o, (size_t)rows * D * sizeof(float));
        if (l == 0) /* and through XWb = b_in + x W_in */
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, rows, D, M, 1.0f, t->dXWb + (size_t)lo * M, M,
                        WB(m, GS_W_IN, 0), M, 1.0f, g, D);
        heads_dx(g, t->dk[l] + o, WB(m, GS_W_K, l), rows, d);
        heads_dx(g, t->dv[l] + o, WB(m, GS_W_V, l), rows, d);
        if (l == 0)
            heads_dx(g, t->dq + o, WB(m, GS_W_Q, 0), rows, d);
    }
}

/* the tables' embedding rows: W_E and W_pos get every row's g[0] (one job: token
 * rows of positions 0 and 1 share W_E rows) */
static void tab_embed(void *arg, int unused0, int unused1, int thread)
{
    (void)unused0, (void)unused1, (void)thread;
    const gs_deep_ctx *c = arg;
    gs_model *m = c->m;
    const int p = m->d.p, D = m->d.d_model;
    float *gW_E = G(m, GS_W_E), *gW_pos = G(m, GS_W_POS);
    for (int r = 0; r < 2 * p + 1; r++) {
        const int pos = r < p ? 0 : r < 2 * p ? 1 : 2, tok = pos == 2 ? p : r - pos * p;
        const float *g = c->t.g[0] + (size_t)r * D;
        for (int col = 0; col < D; col++) {
            gW_E[(size_t)tok * D + col] += g[col];
            gW_pos[pos * D + col] += g[col];
        }
    }
}

/* the chain's bias gradients; the job's range is l * width + [lo, hi) */
static void tab_b_out_cols(void *arg, int a, int b, int thread)
{
    (void)thread;
    const gs_deep_ctx *c = arg;
    const int D = c->m->d.d_model, l = a / D;
    col_sums(GB(c->m, GS_B_OUT, l), c->t.g[l + 1], c->m->d.p, D, a - l * D, b - l * D);
}

static void tab_b_in_cols(void *arg, int a, int b, int thread)
{
    (void)thread;
    const gs_deep_ctx *c = arg;
    const int M = c->m->d.d_mlp, l = a / M;
    col_sums(GB(c->m, GS_B_IN, l), c->t.dpost[l], c->m->d.p, M, a - l * M, b - l * M);
}

/* gW[h] += x^T dout_h over rows rows, per head, W [H, D, E] */
static void add_heads_grad(gs_jobs *js, float *gW, const float *x, const float *dout, int rows,
                           const gs_dims *d)
{
    const int D = d->d_model, E = d->d_head;
    for (int h = 0; h < d->n_heads; h++)
        gs_jobs_add_gemm(js, CblasTrans, CblasNoTrans, D, E, rows, x, D, dout + h * E, D, 1.0f,
                         gW + (size_t)h * D * E, E, COL_BLOCK);
}

/* the tables' weight gradients, block l: the chain's MLP and W_O (rows below p), the
 * projections (every row of the first block, the chain's after) */
static void tab_weight_grads(gs_jobs *js, gs_deep_ctx *c, int l)
{
    gs_model *m = c->m;
    const gs_deep_tab *t = &c->t;
    const gs_dims *d = &m->d;
    const int p = d->p, D = d->d_model, E = d->d_head, M = d->d_mlp;
    const int rows = l == 0 ? 2 * p + 1 : p;
    if (l < d->n_layers - 1) {
        for (int lo = 0; lo < D; lo += COL_BLOCK)
            gs_jobs_add(js, tab_b_out_cols, l * D + lo, l * D + gs_deep_imin(lo + COL_BLOCK, D));
        gs_jobs_add_gemm(js, CblasTrans, CblasNoTrans, M, D, p, t->post[l], M, t->g[l + 1], D, 1.0f,
                         GB(m, GS_W_OUT, l), D, COL_BLOCK);
        for (int lo = 0; lo < M; lo += COL_BLOCK)
            gs_jobs_add(js, tab_b_in_cols, l * M + lo, l * M + gs_deep_imin(lo + COL_BLOCK, M));
        gs_jobs_add_gemm(js, CblasTrans, CblasNoTrans, D, M, p, t->mid[l], D, t->dpost[l], M, 1.0f,
                         GB(m, GS_W_IN, l), M, COL_BLOCK);
        gs_jobs_add_gemm(js, CblasTrans, CblasNoTrans, d->n_heads * E, D, p, t->v[l], D, t->dres[l], D,
                         1.0f, GB(m, GS_W_O, l), D, COL_BLOCK);
    }
    add_heads_grad(js, GB(m, GS_W_K, l), t->x[l], t->dk[l], rows, d);
    add_heads_grad(js, GB(m, GS_W_V, l), t->x[l], t->dv[l], rows, d);
    if (l == 0)
        add_heads_grad(js, GB(m, GS_W_Q, 0), t->x[0], t->dq, rows, d);
}

void gs_deep_fast_backward(gs_model *m, const int32_t *idx, const int32_t *target, int n)
{
    assert(n >= 1 && n <= m->max_batch && m->deep_fast);
    const gs_dims *d = &m->d;
    const int p = d->p, D = d->d_model, H = d->n_heads, E = d->d_head, M = d->d_mlp, V = d->n_out,
              L = d->n_layers;
    gs_deep_ctx c = {.m = m, .idx = idx, .target = target, .n = n, .block = gs_deep_fast_row_block(n)};
    gs_deep_tab *t = &c.t;
    gs_deep_tab_views(m, t);
    gs_fast_tables groups = {.by_a = t->by_a, .by_b = t->by_b, .start_a = t->start_a, .start_b = t->start_b};
    gs_fast_group_by_token(&groups, idx, n, p);
    gs_jobs js = {.pool = m->pool, .ctx = &c};
    c.dX = m->dx0;
    c.dXn = t->dXb;
    gs_jobs_add_blocks(&js, head_rows, n, c.block);
    gs_jobs_run(&js);
    const int token_block = (p + 15) / 16;
    for (int l = L - 1; l >= 0; l--) {
        c.l = l;
        c.qlo = gs_deep_first_query(d, l);
        const size_t r0 = gs_deep_row(n, c.qlo, 0);
        const int nq = (3 - c.qlo) * n;
        /* per input: out = mid + relu(mid W_in + b_in) W_out + b_out, mid = x + z W_O, the
         * attention and (from the second block on) the projections' input gradient */
        gs_jobs_add_blocks(&js, back_rows, n, c.block);
        gs_jobs_run(&js);
        /* the weights' sums over the inputs (at the positions the forward ran) */
        if (l == L - 1) /* the unembedding reads position 2 of the last block's output */
            gs_jobs_add_gemm(&js, CblasTrans, CblasNoTrans, D, V, n, m->blk_x[L] + gs_deep_row(n, 2, 0) * D, D,
                             m->dlogits, V, 1.0f, G(m, gs_tf_unembed(d)), V, COL_BLOCK);
        gs_jobs_add_blocks(&js, b_out_cols, D, COL_BLOCK);
        gs_jobs_add_gemm(&js, CblasTrans, CblasNoTrans, M, D, nq, m->blk_post[l] + r0 * M, M,
                         c.dX + r0 * D, D, 1.0f, GB(m, GS_W_OUT, l), D, COL_BLOCK);
        gs_jobs_add_blocks(&js, b_in_cols, M, COL_BLOCK);
        if (l > 0) {
            gs_jobs_add_gemm(&js, CblasTrans, CblasNoTrans, D, M, nq, m->blk_mid[l] + r0 * D, D,
                             m->dpost + r0 * M, M, 1.0f, GB(m, GS_W_IN, l), M, COL_BLOCK);
            gs_jobs_add_gemm(&js, CblasTrans, CblasNoTrans, H * E, D, nq, m->blk_z[l] + r0 * D, D,
                             m->dx1 + r0 * D, D, 1.0f, GB(m, GS_W_O, l), D, COL_BLOCK);
            /* the projections per input; position 0's keys and values into the chain's */
            const size_t r1 = gs_deep_row(n, 1, 0) * D;
            add_heads_grad(&js, GB(m, GS_W_Q, l), m->blk_x[l] + r0 * D, m->dq + r0 * D, nq, d);
            add_heads_grad(&js, GB(m, GS_W_K, l), m->blk_x[l] + r1, m->dk + r1, 2 * n, d);
            add_heads_grad(&js, GB(m, GS_W_V, l), m->blk_x[l] + r1, m->dv + r1, 2 * n, d);
            gs_jobs_add_blocks(&js, tokens_a, p, token_block);
        } else {
            /* the first block: W_in, W_O and the projections through its tables */
            gs_jobs_add_blocks(&js, tokens_a0, p, token_block);
            gs_jobs_add_blocks(&js, tokens_b0, p, token_block);
            gs_jobs_add_blocks(&js, equals_cols, D, COL_BLOCK);
            gs_jobs_add_blocks(&js, equals_cols_m, M, COL_BLOCK);
        }
        gs_jobs_run(&js);
        float *swap = c.dX;
        c.dX = c.dXn;
        c.dXn = swap;
    }
    /* the tables: every row's gradient, then the weights' sums over rows */
    gs_jobs_add_blocks(&js, tab_backward_rows, 2 * p + 1, TAB_BLOCK);
    gs_jobs_run(&js);
    for (int l = L - 1; l >= 0; l--)
        tab_weight_grads(&js, &c, l);
    gs_jobs_add(&js, tab_embed, 0, 0);
    /* the first block's W_O and W_in through OV = v W_O, VOW = v OWin (OWin = W_O W_in)
     * and XWb = b_in + x W_in, over the 2p + 1 rows: gOWin here, the rest below (each
     * of these sums into a tensor another job of the same list writes) */
    const int T = 2 * p + 1;
    for (int h = 0; h < H; h++)
        gs_jobs_add_gemm(&js, CblasTrans, CblasNoTrans, E, M, T, t->v[0] + h * E, D, t->dVOW + (size_t)h * M,
                         H * M, 0.0f, t->gOWin + (size_t)h * E * M, M, COL_BLOCK);
    gs_jobs_run(&js);
    for (int h = 0; h < H; h++)
        gs_jobs_add_gemm(&js, CblasTrans, CblasNoTrans, E, D, T, t->v[0] + h * E, D, t->dOV + (size_t)h * D,
                         H * D, 1.0f, GB(m, GS_W_O, 0) + (size_t)h * E * D, D, COL_BLOCK);
    gs_jobs_add_gemm(&js, CblasTrans, CblasNoTrans, D, M, T, t->x[0], D, t->dXWb, M, 1.0f,
                     GB(m, GS_W_IN, 0), M, COL_BLOCK);
    gs_jobs_run(&js);
    gs_jobs_add_gemm(&js, CblasNoTrans, CblasTrans, H * E, D, M, t->gOWin, M, WB(m, GS_W_IN, 0), M, 1.0f,
                     GB(m, GS_W_O, 0), D, COL_BLOCK);
    gs_jobs_add_gemm(&js, CblasTrans, CblasNoTrans, D, M, H * E, WB(m, GS_W_O, 0), D, t->gOWin, M, 1.0f,
                     GB(m, GS_W_IN, 0), M, COL_BLOCK);
    gs_jobs_run(&js);
}
