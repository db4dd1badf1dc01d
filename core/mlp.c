/* The MLP of docs/models.md, forward and backward over OpenBLAS sgemm.
 *
 * Input of pair (a, b): the concatenation [W_E[a], W_E[b]] of one learned embedding
 * table (d_embed > 0), or of the two one-hots [e_a, e_b] (d_embed = 0). The one-hot
 * input is never formed: its first layer is the sum of rows a and p + b of the weight
 * (exactly the product, as every other term is 0 * w). Then hidden layers
 * h_k = act(h_{k-1} W_k + b_k) and logits = h_last W_U + b_U over the p answers.
 * Weights are [in, out], rows = inputs. */
#include "model.h"

#include <assert.h>
#include <cblas.h>
#include <math.h>
#include <string.h>

#define P(m, id) ((m)->params + (m)->info[id].offset)
#define G(m, id) ((m)->grads + (m)->info[id].offset)

static int in_width(const gs_dims *d) { return d->d_embed > 0 ? 2 * d->d_embed : 2 * d->p; }

static int widest(const gs_dims *d)
{
    int w = in_width(d) > d->n_out ? in_width(d) : d->n_out;
    for (int k = 0; k < d->n_hidden; k++)
        w = d->hidden[k] > w ? d->hidden[k] : w;
    return w;
}

size_t gs_mlp_acts_size(const gs_dims *d, int max_batch)
{
    const size_t N = (size_t)max_batch;
    size_t n = N * (size_t)(d->d_embed > 0 ? in_width(d) : 0); /* mlp_in */
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
    at += N * (size_t)(d->d_embed > 0 ? in_width(d) : 0);
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

/* ---- the nonlinearity and its derivative ---- */

static float act(gs_act a, float x)
{
    switch (a) {
    case GS_ACT_RELU: return x > 0.0f ? x : 0.0f;
    case GS_ACT_GELU: return 0.5f * x * (1.0f + erff(x * (float)M_SQRT1_2));
    default: return x * x;
    }
}

static float act_grad(gs_act a, float x)
{
    switch (a) {
    case GS_ACT_RELU: return x > 0.0f ? 1.0f : 0.0f;
    case GS_ACT_GELU:
        return 0.5f * (1.0f + erff(x * (float)M_SQRT1_2)) +
               x * expf(-0.5f * x * x) * (float)(0.5 * M_2_SQRTPI * M_SQRT1_2);
    default: return 2.0f * x;
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

static void bias_grad(float *gb, const float *d, int n, int w)
{
    for (int i = 0; i < n; i++)
        for (int j = 0; j < w; j++)
            gb[j] += d[(size_t)i * w + j];
}

gs_eval gs_mlp_forward(gs_model *m, const int32_t *idx, const int32_t *target, int n)
{
    assert(n >= 1 && n <= m->max_batch);
    const gs_dims *d = &m->d;
    const int p = d->p, H0 = d->hidden[0], V = d->n_out;
    const int w0 = gs_mlp_weight(d, 0);
    const float *W0 = P(m, w0), *b0 = d->bias ? P(m, w0 + 1) : NULL;
    fill_bias(m->mlp_pre[0], b0, n, H0);
    if (d->d_embed > 0) {
        const int De = d->d_embed;
        const float *W_E = P(m, 0);
        for (int i = 0; i < n; i++) {
            float *x = m->mlp_in + (size_t)i * 2 * De;
            memcpy(x, W_E + (size_t)(idx[i] / p) * De, (size_t)De * sizeof(float));
            memcpy(x + De, W_E + (size_t)(idx[i] % p) * De, (size_t)De * sizeof(float));
        }
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, H0, 2 * De, 1.0f, m->mlp_in,
                    2 * De, W0, H0, 1.0f, m->mlp_pre[0], H0);
    } else {
        for (int i = 0; i < n; i++) {
            float *h = m->mlp_pre[0] + (size_t)i * H0;
            const float *ra = W0 + (size_t)(idx[i] / p) * H0, *rb = W0 + (size_t)(p + idx[i] % p) * H0;
            for (int j = 0; j < H0; j++)
                h[j] += ra[j] + rb[j];
        }
    }
    for (int k = 0; k <= d->n_hidden; k++) {
        if (k > 0) {
            const int in = d->hidden[k - 1], w = gs_mlp_weight(d, k);
            const int out = k < d->n_hidden ? d->hidden[k] : V;
            float *dst = k < d->n_hidden ? m->mlp_pre[k] : m->logits;
            fill_bias(dst, d->bias ? P(m, w + 1) : NULL, n, out);
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, out, in, 1.0f,
                        m->mlp_post[k - 1], in, P(m, w), out, 1.0f, dst, out);
        }
        if (k < d->n_hidden) {
            const size_t len = (size_t)n * d->hidden[k];
            for (size_t j = 0; j < len; j++)
                m->mlp_post[k][j] = act(d->act, m->mlp_pre[k][j]);
        }
    }
    gs_eval ev = {0.0, 0, n};
    for (int i = 0; i < n; i++) {
        int ok;
        ev.loss_sum += gs_cross_entropy_row(m->logits + (size_t)i * V, V, target[i], &ok);
        ev.n_correct += ok;
    }
    return ev;
}

void gs_mlp_backward(gs_model *m, const int32_t *idx, const int32_t *target, int n)
{
    assert(n >= 1 && n <= m->max_batch);
    const gs_dims *d = &m->d;
    const int p = d->p, V = d->n_out;
    gs_cross_entropy_backward(m->dlogits, m->logits, target, n, V);
    /* dout: gradient at the current layer's output; k runs from the output layer down */
    const float *dout = m->dlogits;
    int cur = 0; /* which of mlp_d holds the next gradient */
    for (int k = d->n_hidden; k >= 0; k--) {
        const int w = gs_mlp_weight(d, k), out = k < d->n_hidden ? d->hidden[k] : V;
        if (k < d->n_hidden) { /* through the nonlinearity, in place */
            float *dh = (float *)dout;
            const size_t len = (size_t)n * out;
            for (size_t j = 0; j < len; j++)
                dh[j] *= act_grad(d->act, m->mlp_pre[k][j]);
        }
        if (d->bias)
            bias_grad(G(m, w + 1), dout, n, out);
        if (k > 0) {
            const int in = d->hidden[k - 1];
            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, in, out, n, 1.0f,
                        m->mlp_post[k - 1], in, dout, out, 1.0f, G(m, w), out);
            float *din = m->mlp_d[cur];
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, in, out, 1.0f, dout, out,
                        P(m, w), out, 0.0f, din, in);
            dout = din;
            cur ^= 1;
            continue;
        }
        /* the first layer: its input is the embedding rows or the one-hots */
        if (d->d_embed > 0) {
            const int De = d->d_embed;
            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, 2 * De, out, n, 1.0f,
                        m->mlp_in, 2 * De, dout, out, 1.0f, G(m, w), out);
            float *din = m->mlp_d[cur];
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, 2 * De, out, 1.0f, dout,
                        out, P(m, w), out, 0.0f, din, 2 * De);
            float *gW_E = G(m, 0);
            for (int i = 0; i < n; i++) {
                const float *g = din + (size_t)i * 2 * De;
                float *ga = gW_E + (size_t)(idx[i] / p) * De, *gb = gW_E + (size_t)(idx[i] % p) * De;
                for (int c = 0; c < De; c++)
                    ga[c] += g[c];
                for (int c = 0; c < De; c++)
                    gb[c] += g[De + c];
            }
        } else {
            float *gW = G(m, w);
            for (int i = 0; i < n; i++) {
                const float *g = dout + (size_t)i * out;
                float *ga = gW + (size_t)(idx[i] / p) * out, *gb = gW + (size_t)(p + idx[i] % p) * out;
                for (int j = 0; j < out; j++)
                    ga[j] += g[j];
                for (int j = 0; j < out; j++)
                    gb[j] += g[j];
            }
        }
    }
}
