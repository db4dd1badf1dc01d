/* The MLP of docs/models.md, forward and backward over OpenBLAS sgemm on the pool.
 *
 * Input of pair (a, b): the concatenation [W_E[a], W_E[b]] of one learned embedding
 * table (d_embed > 0), or of the two one-hots [e_a, e_b] (d_embed = 0). The one-hot
 * input is never formed: its first layer is the sum of rows a and p + b of the weight
 * (exactly the product, as every other term is 0 * w). Then hidden layers
 * h_k = act(h_{k-1} W_k + b_k) and logits = h_last W_U + b_U over the p answers.
 * Weights are [in, out], rows = inputs.
 *
 * On images (d->n_pixels > 0, task mnist) the input of idx i is row i of the borrowed
 * pixel table m->pixels, copied into mlp_in (the first layer's weight gradient needs
 * it); nothing flows back into the pixels. */
#include "fast_kernels.h"
#include "model.h"
#include "pool.h"
#include "task.h"

#include <assert.h>
#include <cblas.h>
#include <math.h>
#include <string.h>

#define P(m, id) ((m)->params + (m)->info[id].offset)
#define G(m, id) ((m)->grads + (m)->info[id].offset)

static int in_width(const gs_dims *d)
{
    return d->n_pixels > 0 ? d->n_pixels : d->d_embed > 0 ? 2 * d->d_embed : 2 * d->p;
}

/* the input rows are formed in mlp_in (learned embeddings, pixels) */
static int formed_input(const gs_dims *d) { return d->d_embed > 0 || d->n_pixels > 0; }

static int widest(const gs_dims *d)
{
    /* the scratch holds gradients at layer inputs; none flows back into pixels */
    const int in = d->n_pixels > 0 ? 0 : in_width(d);
    int w = in > d->n_out ? in : d->n_out;
    for (int k = 0; k < d->n_hidden; k++)
        w = d->hidden[k] > w ? d->hidden[k] : w;
    return w;
}

size_t gs_mlp_acts_size(const gs_dims *d, int max_batch)
{
    const size_t N = (size_t)max_batch;
    size_t n = N * (size_t)(formed_input(d) ? in_width(d) : 0); /* mlp_in */
    for (int k = 0; k < d->n_hidden; k++)
        n += 2 * N * (size_t)d->hidden[k];                      /* pre, post */
    n += 2 * N * (size_t)d->n_out;                              /* logits, dlogits */
    n += 2 * N * (size_t)widest(d);                             /* backward scratch */
    return n;
}

void gs_mlp_carve(gs_model *m, float *at)
{
    const gs_dims *d = &m->d;
    const size_t N = (size_t)m->max_batch;
    m->mlp_in = at;
    at += N * (size_t)(formed_input(d) ? in_width(d) : 0);
    for (int k = 0; k < d->n_hidden; k++) {
        m->mlp_pre[k] = at;
        m->mlp_post[k] = at + N * (size_t)d->hidden[k];
        at += 2 * N * (size_t)d->hidden[k];
    }
    m->logits = at;
    m->dlogits = at + N * (size_t)d->n_out;
    at += 2 * N * (size_t)d->n_out;
    m->mlp_d[0] = at;
    m->mlp_d[1] = at + N * (size_t)widest(d);
}

/* ---- the nonlinearity and its derivative ----
 * One branch-free loop per kind, so the compiler vectorizes them: a per-element switch
 * and relu's unpredictable branch cost more than the layer's sgemm. */

/* Blocks of 8 with a fixed inner count are what -O2's cheap vectorizer takes. */
#define BLOCKS_OF_8(len, body)                                                           \
    do {                                                                                 \
        size_t j_ = 0;                                                                   \
        for (; j_ + 8 <= (len); j_ += 8)                                                 \
            for (size_t j = j_; j < j_ + 8; j++)                                         \
                body;                                                                    \
        for (size_t j = j_; j < (len); j++)                                              \
            body;                                                                        \
    } while (0)

static void act_rows(gs_act a, float *restrict post, const float *restrict pre, size_t len)
{
    switch (a) {
    case GS_ACT_RELU:
        gs_k_relu(post, pre, len);
        break;
    case GS_ACT_GELU:
        for (size_t j = 0; j < len; j++)
            post[j] = 0.5f * pre[j] * (1.0f + erff(pre[j] * (float)M_SQRT1_2));
        break;
    default:
        BLOCKS_OF_8(len, post[j] = pre[j] * pre[j]);
    }
}

/* dh *= act'(pre) */
static void act_grad_rows(gs_act a, float *restrict dh, const float *restrict pre, size_t len)
{
    switch (a) {
    case GS_ACT_RELU:
        gs_k_relu_mask(dh, pre, len);
        break;
    case GS_ACT_GELU:
        for (size_t j = 0; j < len; j++) {
            const float x = pre[j];
            dh[j] *= 0.5f * (1.0f + erff(x * (float)M_SQRT1_2)) +
                     x * expf(-0.5f * x * x) * (float)(0.5 * M_2_SQRTPI * M_SQRT1_2);
        }
        break;
    default:
        BLOCKS_OF_8(len, dh[j] *= 2.0f * pre[j]);
    }
}

/* out[n, w] = bias rows (or 0) */
static void fill_bias(float *out, const float *bias, int n, int w)
{
    for (int i = 0; i < n; i++) {
        if (bias)
            memcpy(out + (size_t)i * w, bias, (size_t)w * sizeof(float));
        else
            memset(out + (size_t)i * w, 0, (size_t)w * sizeof(float));
    }
}

/* ---- splitting over the pool (core/pool.h) ----
 * Rows go in blocks whose size depends on n only (at most GS_MLP_MAX_PARTS of them),
 * weight gradients in blocks of their rows or columns: every output has one writer and
 * every sum the same order at any thread count, so the bits do not depend on it. */

#define ROW_ALIGN 32
#define COL_BLOCK 16

static int row_block(int n)
{
    const int per = (n + GS_MLP_MAX_PARTS - 1) / GS_MLP_MAX_PARTS;
    const int b = (per + ROW_ALIGN - 1) / ROW_ALIGN * ROW_ALIGN;
    return b > 64 ? b : 64;
}

typedef struct {
    gs_model *m;
    const int32_t *idx, *target;
    int n, block, k;  /* rows, row block, the layer being differentiated */
    const float *dout; /* [n, out of layer k] */
    float *din;        /* [n, in of layer k] */
} mlp_ctx;

/* forward of rows [lo, hi): every layer, then the loss of each row */
static void forward_rows(void *arg, int lo, int hi, int thread)
{
    (void)thread;
    const mlp_ctx *c = arg;
    gs_model *m = c->m;
    const gs_dims *d = &m->d;
    const int p = d->p, H0 = d->hidden[0], V = d->n_out, n = hi - lo;
    const int32_t *idx = c->idx + lo;
    const int w0 = gs_mlp_weight(d, 0);
    const float *W0 = P(m, w0), *b0 = d->bias ? P(m, w0 + 1) : NULL;
    float *pre0 = m->mlp_pre[0] + (size_t)lo * H0;
    fill_bias(pre0, b0, n, H0);
    if (d->n_pixels > 0) {
        const int X = d->n_pixels;
        float *in = m->mlp_in + (size_t)lo * X;
        for (int i = 0; i < n; i++)
            memcpy(in + (size_t)i * X, m->pixels + (size_t)idx[i] * X, (size_t)X * sizeof(float));
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, H0, X, 1.0f, in, X, W0, H0,
                    d->bias ? 1.0f : 0.0f, pre0, H0);
    } else if (d->d_embed > 0) {
        const int De = d->d_embed;
        const float *W_E = P(m, 0);
        float *in = m->mlp_in + (size_t)lo * 2 * De;
        for (int i = 0; i < n; i++) {
            float *x = in + (size_t)i * 2 * De;
            memcpy(x, W_E + (size_t)(idx[i] / p) * De, (size_t)De * sizeof(float));
            memcpy(x + De, W_E + (size_t)(idx[i] % p) * De, (size_t)De * sizeof(float));
        }
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, H0, 2 * De, 1.0f, in, 2 * De,
                    W0, H0, 1.0f, pre0, H0);
    } else {
        for (int i = 0; i < n; i++) {
            float *h = pre0 + (size_t)i * H0;
            const float *ra = W0 + (size_t)(idx[i] / p) * H0, *rb = W0 + (size_t)(p + idx[i] % p) * H0;
            for (int j = 0; j < H0; j++)
                h[j] += ra[j] + rb[j];
        }
    }
    for (int k = 0; k <= d->n_hidden; k++) {
        if (k > 0) {
            const int in = d->hidden[k - 1], w = gs_mlp_weight(d, k);
            const int out = k < d->n_hidden ? d->hidden[k] : V;
            float *dst = (k < d->n_hidden ? m->mlp_pre[k] : m->logits) + (size_t)lo * out;
            if (d->bias)
                fill_bias(dst, P(m, w + 1), n, out);
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, out, in, 1.0f,
                        m->mlp_post[k - 1] + (size_t)lo * in, in, P(m, w), out,
                        d->bias ? 1.0f : 0.0f, dst, out);
        }
        if (k < d->n_hidden)
            act_rows(d->act, m->mlp_post[k] + (size_t)lo * d->hidden[k],
                     m->mlp_pre[k] + (size_t)lo * d->hidden[k], (size_t)n * d->hidden[k]);
    }
    /* the run's loss through the fast path's row kernel (loss.h; its vectorized exp) */
    double exps[GS_P_MAX + 1];
    gs_eval ev = {.n = n};
    for (int i = 0; i < n; i++) {
        int flags;
        ev.loss_sum += gs_loss_row(&m->loss, m->logits + (size_t)(lo + i) * V, V, c->target[lo + i],
                                   &flags, NULL, 0, exps);
        ev.n_correct += flags & GS_ROW_CORRECT;
        ev.n_collapsed += (flags & GS_ROW_COLLAPSED) != 0;
    }
    m->mlp_parts[lo / c->block] = ev;
}

gs_eval gs_mlp_forward(gs_model *m, const int32_t *idx, const int32_t *target, int n)
{
    assert(n >= 1 && n <= m->max_batch);
    mlp_ctx c = {.m = m, .idx = idx, .target = target, .n = n, .block = row_block(n)};
    return gs_model_run_blocks(m, forward_rows, &c, n, c.block);
}

/* ---- backward jobs ---- */

static void ce_rows(void *arg, int lo, int hi, int thread)
{
    (void)thread;
    const mlp_ctx *c = arg;
    const int V = c->m->d.n_out;
    double exps[GS_P_MAX + 1];
    for (int i = lo; i < hi; i++) {
        int flags;
        gs_loss_row(&c->m->loss, c->m->logits + (size_t)i * V, V, c->target[i], &flags,
                    c->m->dlogits + (size_t)i * V, c->n, exps);
    }
}

static int layer_in(const gs_dims *d, int k) { return k > 0 ? d->hidden[k - 1] : in_width(d); }
static int layer_out(const gs_dims *d, int k) { return k < d->n_hidden ? d->hidden[k] : d->n_out; }

/* bias gradient of layer k, columns [lo, hi) */
static void bias_cols(void *arg, int lo, int hi, int thread)
{
    (void)thread;
    const mlp_ctx *c = arg;
    const int out = layer_out(&c->m->d, c->k);
    float *gb = G(c->m, gs_mlp_weight(&c->m->d, c->k) + 1);
    for (int i = 0; i < c->n; i++)
        for (int j = lo; j < hi; j++)
            gb[j] += c->dout[(size_t)i * out + j];
}

/* the one-hot first layer's weight gradient, columns [lo, hi): rows a and p + b of
 * each input */
static void onehot_cols(void *arg, int lo, int hi, int thread)
{
    (void)thread;
    const mlp_ctx *c = arg;
    const int p = c->m->d.p, out = layer_out(&c->m->d, 0);
    float *gW = G(c->m, gs_mlp_weight(&c->m->d, 0));
    for (int i = 0; i < c->n; i++) {
        const float *g = c->dout + (size_t)i * out;
        float *ga = gW + (size_t)(c->idx[i] / p) * out, *gb = gW + (size_t)(p + c->idx[i] % p) * out;
        for (int j = lo; j < hi; j++)
            ga[j] += g[j];
        for (int j = lo; j < hi; j++)
            gb[j] += g[j];
    }
}

/* the embedding's gradient from din [n, 2 De], columns [lo, hi) of W_E */
static void embed_cols(void *arg, int lo, int hi, int thread)
{
    (void)thread;
    const mlp_ctx *c = arg;
    const int p = c->m->d.p, De = c->m->d.d_embed;
    float *gW_E = G(c->m, 0);
    for (int i = 0; i < c->n; i++) {
        const float *g = c->din + (size_t)i * 2 * De;
        float *ga = gW_E + (size_t)(c->idx[i] / p) * De, *gb = gW_E + (size_t)(c->idx[i] % p) * De;
        for (int j = lo; j < hi; j++)
            ga[j] += g[j];
        for (int j = lo; j < hi; j++)
            gb[j] += g[De + j];
    }
}

/* din = dout W_k^T for rows [lo, hi), then (below the first layer) through the
 * nonlinearity of layer k - 1 */
static void din_rows(void *arg, int lo, int hi, int thread)
{
    (void)thread;
    const mlp_ctx *c = arg;
    const gs_dims *d = &c->m->d;
    const int in = layer_in(d, c->k), out = layer_out(d, c->k);
    float *din = c->din + (size_t)lo * in;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, hi - lo, in, out, 1.0f,
                c->dout + (size_t)lo * out, out, P(c->m, gs_mlp_weight(d, c->k)), out, 0.0f, din, in);
    if (c->k > 0)
        act_grad_rows(d->act, din, c->m->mlp_pre[c->k - 1] + (size_t)lo * in, (size_t)(hi - lo) * in);
}

void gs_mlp_backward(gs_model *m, const int32_t *idx, const int32_t *target, int n)
{
    assert(n >= 1 && n <= m->max_batch);
    const gs_dims *d = &m->d;
    mlp_ctx c = {.m = m, .idx = idx, .target = target, .n = n, .block = row_block(n)};
    gs_jobs js = {.pool = m->pool, .ctx = &c};
    gs_jobs_add_blocks(&js, ce_rows, n, c.block);
    gs_jobs_run(&js);
    /* k runs from the output layer down; dout is the gradient at layer k's
     * pre-activation (its output for the last layer) */
    c.dout = m->dlogits;
    int cur = 0; /* which of mlp_d takes the next gradient */
    for (int k = d->n_hidden; k >= 0; k--) {
        const int w = gs_mlp_weight(d, k), in = layer_in(d, k), out = layer_out(d, k);
        c.k = k;
        c.din = m->mlp_d[cur];
        if (d->bias)
            gs_jobs_add_blocks(&js, bias_cols, out, COL_BLOCK);
        if (k > 0 || formed_input(d)) {
            const float *x = k > 0 ? m->mlp_post[k - 1] : m->mlp_in;
            gs_jobs_add_gemm(&js, CblasTrans, CblasNoTrans, in, out, n, x, in, c.dout, out, 1.0f,
                             G(m, w), out, COL_BLOCK);
            if (k > 0 || d->d_embed > 0) /* no gradient into the pixels */
                gs_jobs_add_blocks(&js, din_rows, n, c.block);
        } else {
            gs_jobs_add_blocks(&js, onehot_cols, out, COL_BLOCK);
        }
        gs_jobs_run(&js);
        if (k == 0 && d->d_embed > 0) {
            gs_jobs_add_blocks(&js, embed_cols, d->d_embed, COL_BLOCK);
            gs_jobs_run(&js);
        }
        c.dout = c.din;
        cur ^= 1;
    }
}
