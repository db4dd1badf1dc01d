/* The transformer of several blocks, fast path: the reference path's model
 * (model_deep.c) with the work that cannot reach the loss left out and the work that
 * depends on one token done once per token instead of once per input. Three facts of
 * the algebra, all exact:
 *
 *  1. The logits read the last position (2, the "=" token) only, so the last block
 *     needs keys and values at every position but its query, attention, W_O and MLP at
 *     position 2 only.
 *  2. Position 0 attends to itself alone (causal), so its attention weight is 1 and
 *     its residual stream through every block is a function of token a: a table over
 *     the p tokens (the "chain"), built once per set of weights (gs_deep_fast_prepare).
 *     Its gradient is the sum, per token, of the gradients of the inputs that start
 *     with that token.
 *  3. The first block's input is the token embedding plus the position embedding, so
 *     its queries, keys and values are tables over (token, position): 2p + 1 rows,
 *     a at position 0, b at position 1, "=" at position 2. So are its values times W_O
 *     and times W_O W_in, and its input times W_in: an input's residual after the
 *     first block's attention, and its MLP input, are attention-weighted sums of rows,
 *     as in the one-block fast path (model_fast.h); the backward takes the weights'
 *     gradients as dot products with the same rows and gathers the rows' gradients per
 *     token.
 *
 * What remains per input is the first block's ReLU and W_out at positions 1 and 2, the
 * middle blocks at positions 1 and 2 (projections, attention, W_O, the MLP), the last
 * block's keys and values at positions 1 and 2, and its position 2.
 *
 * Per-input activations use the reference path's buffers (gs_deep_carve) in a
 * position-major order: row (t, i) of a batch of n inputs is t*n + i, so the rows of
 * one position, or of positions 1 and 2, are one contiguous matrix. Row 0 of q, k, v
 * holds copies of the chain's keys and values, so attention reads three rows as in the
 * reference path. Both passes run on the pool in blocks whose size depends on n (or
 * p) only; sums over inputs are split by output or gathered per token in input order,
 * so the bits do not depend on the thread count. */
#include "model.h"
#include "fast_kernels.h"
#include "model_fast.h"
#include "pool.h"

#include <assert.h>
#include <cblas.h>
#include <math.h>
#include <string.h>

#define P(m, id) ((m)->params + (m)->info[id].offset)
#define G(m, id) ((m)->grads + (m)->info[id].offset)
#define WB(m, id, l) P(m, gs_tf_block(id, l))
#define GB(m, id, l) G(m, gs_tf_block(id, l))

enum { TAB_BLOCK = 16, COL_BLOCK = 32, ROW_BLOCK = 64 };

/* The tables, carved from m->tab. Row r of a [T, D] table (T = 2p + 1) is token r at
 * position 0 (r < p), token r - p at position 1 (r < 2p), or "=" at position 2; from
 * the second block on only the p rows of position 0 are used. */
typedef struct {
    float *x[GS_MAX_LAYERS];    /* [T, D] block input */
    float *k[GS_MAX_LAYERS], *v[GS_MAX_LAYERS]; /* [T, D] */
    float *q;                   /* [T, D] first block's queries */
    /* the first block's attention output and MLP input, per key row and head: OV[r][h]
     * = v[r]_h W_O[h] [T, H, D], VOW[r][h] = OV[r][h] W_in [T, H, M] (through OWin[h] =
     * W_O[h] W_in [H, E, M]), and XWb[r] = b_in + x[r] W_in [T, M]; an input's residual
     * after attention is x + sum of attention-weighted OV rows, and its MLP input the
     * same sum of XWb and VOW rows (as the one-block fast path's tables) */
    float *OV, *VOW, *XWb, *OWin;
    /* W_Q, W_K, W_V of every block with the heads side by side, [D, H*E] (row d holds
     * W[h][d][.] for h = 0..H-1): one product per projection instead of one per head.
     * W_O [H, E, D] already is such a matrix, [H*E, D]. */
    float *Wc[GS_MAX_LAYERS][3];
    float *mid[GS_MAX_LAYERS];  /* [p, D] chain: after attention (z = v) */
    float *pre[GS_MAX_LAYERS], *post[GS_MAX_LAYERS]; /* [p, M] chain MLP */
    /* backward: gradients of q, k, v, of the residual after attention (dres), of the
     * block input (g), of the chain's MLP post-activation */
    float *dq, *dk[GS_MAX_LAYERS], *dv[GS_MAX_LAYERS], *dres[GS_MAX_LAYERS], *g[GS_MAX_LAYERS];
    float *dpost[GS_MAX_LAYERS];
    /* their gradients, summed per key row over the inputs, and OWin's [H, E, M] */
    float *dOV, *dVOW, *dXWb, *gOWin;
    float *dXb;                 /* [3 max_batch, D] the second of the backward's dX buffers */
    int *by_a, *by_b, *start_a, *start_b; /* inputs grouped by token (backward) */
} deep_tab;

size_t gs_deep_fast_tables_size(const gs_dims *d, int max_batch)
{
    const size_t p = (size_t)d->p, T = 2 * p + 1, D = (size_t)d->d_model, M = (size_t)d->d_mlp,
                 L = (size_t)d->n_layers;
    const size_t H = (size_t)d->n_heads, E = (size_t)d->d_head;
    /* per block, then q and dq, OV, VOW, XWb, OWin and their gradients, dXb, and the
     * int arrays, carved from the same floats (sizeof(int) == sizeof(float)) */
    return L * (7 * T * D + p * D + 3 * p * M + 3 * D * D) + 2 * T * D +
           2 * (T * H * D + T * H * M + T * M + H * E * M) + 3 * (size_t)max_batch * D +
           2 * (size_t)max_batch + 2 * (p + 1);
}

static void tab_views(const gs_model *m, deep_tab *t)
{
    static_assert(sizeof(int) == sizeof(float), "ints carved from floats");
    const gs_dims *d = &m->d;
    const size_t p = (size_t)d->p, T = 2 * p + 1, D = (size_t)d->d_model, M = (size_t)d->d_mlp,
                 H = (size_t)d->n_heads, E = (size_t)d->d_head;
    float *at = m->tab;
#define TAKE(ptr, n) ((ptr) = at, at += (n))
    for (int l = 0; l < d->n_layers; l++) {
        TAKE(t->x[l], T * D);
        TAKE(t->k[l], T * D);
        TAKE(t->v[l], T * D);
        TAKE(t->dk[l], T * D);
        TAKE(t->dv[l], T * D);
        TAKE(t->dres[l], T * D);
        TAKE(t->g[l], T * D);
        TAKE(t->mid[l], p * D);
        TAKE(t->pre[l], p * M);
        TAKE(t->post[l], p * M);
        TAKE(t->dpost[l], p * M);
        for (int w = 0; w < 3; w++)
            TAKE(t->Wc[l][w], D * D);
    }
    TAKE(t->q, T * D);
    TAKE(t->dq, T * D);
    TAKE(t->OV, T * H * D);
    TAKE(t->VOW, T * H * M);
    TAKE(t->XWb, T * M);
    TAKE(t->OWin, H * E * M);
    TAKE(t->dOV, T * H * D);
    TAKE(t->dVOW, T * H * M);
    TAKE(t->dXWb, T * M);
    TAKE(t->gOWin, H * E * M);
    TAKE(t->dXb, 3 * (size_t)m->max_batch * D);
    t->by_a = (int *)at;
    t->by_b = t->by_a + m->max_batch;
    t->start_a = t->by_b + m->max_batch;
    t->start_b = t->start_a + p + 1;
    at += 2 * (size_t)m->max_batch + 2 * (p + 1);
#undef TAKE
    assert((size_t)(at - m->tab) == m->n_tab);
}

typedef struct {
    gs_model *m;
    deep_tab t;
    const int32_t *idx, *target;
    int n, block;
    int l, qlo;     /* backward: the block, its first query position */
    float *dX, *dXn; /* backward: gradient at block l's output, and at its input */
} deep_ctx;

/* Inputs per pool task: larger blocks than the reference path's (the products of one
 * block are then larger and run nearer sgemm's rate), at most GS_MLP_MAX_PARTS of
 * them; a function of n only. */
static int row_block(int n)
{
    const int per = (n + GS_MLP_MAX_PARTS - 1) / GS_MLP_MAX_PARTS;
    return per > ROW_BLOCK ? per : ROW_BLOCK;
}

static inline size_t row(int n, int t, int i) { return (size_t)t * n + i; }
static inline int imin(int a, int b) { return a < b ? a : b; }

/* The first query position of block l: 2 in the last block (fact 1), else 1 (position
 * 0 is the chain's). */
static inline int first_query(const gs_dims *d, int l) { return l == d->n_layers - 1 ? 2 : 1; }

/* The ReLU and its backward, branch-free in blocks of 8 (what -O2's cheap vectorizer
 * takes; a branch per neuron mispredicts half the time): the reference path's
 * expressions, so the same bits. */
static void relu_rows(float *restrict post, const float *restrict pre, size_t len)
{
    size_t j0 = 0;
    for (; j0 + 8 <= len; j0 += 8)
        for (size_t j = j0; j < j0 + 8; j++)
            post[j] = pre[j] > 0.0f ? pre[j] : 0.0f;
    for (size_t j = j0; j < len; j++)
        post[j] = pre[j] > 0.0f ? pre[j] : 0.0f;
}

static void relu_mask(float *restrict dpost, const float *restrict pre, size_t len)
{
    size_t j0 = 0;
    for (; j0 + 8 <= len; j0 += 8)
        for (size_t j = j0; j < j0 + 8; j++)
            dpost[j] = pre[j] > 0.0f ? dpost[j] : 0.0f;
    for (size_t j = j0; j < len; j++)
        dpost[j] = pre[j] > 0.0f ? dpost[j] : 0.0f;
}

/* the MLP's output half: post = relu(pre), out = mid + b_out + post W_out, for rows
 * contiguous rows (row stride D, or M for pre and post) */
static void mlp_out(const gs_model *m, int l, const float *mid, const float *pre, float *post,
                    float *out, int rows)
{
    const int D = m->d.d_model, M = m->d.d_mlp;
    const float *b_out = WB(m, GS_B_OUT, l);
    relu_rows(post, pre, (size_t)rows * M);
    for (int r = 0; r < rows; r++)
        for (int c = 0; c < D; c++)
            out[(size_t)r * D + c] = mid[(size_t)r * D + c] + b_out[c];
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, rows, D, M, 1.0f, post, M,
                WB(m, GS_W_OUT, l), D, 1.0f, out, D);
}

/* mid = x + sum_h z_h W_O[h], then the MLP: out = mid + b_out + relu(mid W_in + b_in) W_out */
static void block_out(const gs_model *m, int l, const float *x, const float *z, float *mid,
                      float *pre, float *post, float *out, int rows)
{
    const gs_dims *d = &m->d;
    const int D = d->d_model, H = d->n_heads, E = d->d_head, M = d->d_mlp;
    memcpy(mid, x, (size_t)rows * D * sizeof(float));
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, rows, D, H * E, 1.0f, z, D, WB(m, GS_W_O, l), D,
                1.0f, mid, D);
    const float *b_in = WB(m, GS_B_IN, l);
    for (int r = 0; r < rows; r++)
        memcpy(pre + (size_t)r * M, b_in, (size_t)M * sizeof(float));
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, rows, M, D, 1.0f, mid, D,
                WB(m, GS_W_IN, l), M, 1.0f, pre, M);
    mlp_out(m, l, mid, pre, post, out, rows);
}

/* ---- forward ---- */

static const int qkv_ids[3] = {GS_W_Q, GS_W_K, GS_W_V};

/* job j < H: OWin[h = j] = W_O[h] W_in of the first block; then block l's W_Q, W_K, W_V
 * with the heads side by side, l = j - H + 1 */
static void prep_job(void *arg, int j, int unused, int thread)
{
    (void)unused, (void)thread;
    const deep_ctx *c = arg;
    const gs_model *m = c->m;
    const int D = m->d.d_model, H = m->d.n_heads, E = m->d.d_head, M = m->d.d_mlp, h = j;
    if (j >= H) {
        const int l = j - H + 1;
        for (int w = 0; w < 3; w++) {
            const float *W = WB(m, qkv_ids[w], l);
            float *Wc = c->t.Wc[l][w];
            for (int hh = 0; hh < H; hh++)
                for (int r = 0; r < D; r++)
                    memcpy(Wc + (size_t)r * D + hh * E, W + ((size_t)hh * D + r) * E, (size_t)E * sizeof(float));
        }
        return;
    }
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, E, M, D, 1.0f, WB(m, GS_W_O, 0) + (size_t)h * E * D,
                D, WB(m, GS_W_IN, 0), M, 0.0f, c->t.OWin + (size_t)h * E * M, M);
}

/* table rows [lo, hi): the embedding, the first block's q, k, v, and the chain (rows
 * below p) through every block, with its keys and values */
static void tab_forward_rows(void *arg, int lo, int hi, int thread)
{
    (void)thread;
    const deep_ctx *c = arg;
    const gs_model *m = c->m;
    const deep_tab *t = &c->t;
    const gs_dims *d = &m->d;
    const int p = d->p, D = d->d_model, M = d->d_mlp, L = d->n_layers;
    const float *W_E = P(m, GS_W_E), *W_pos = P(m, GS_W_POS);
    for (int r = lo; r < hi; r++) {
        const int pos = r < p ? 0 : r < 2 * p ? 1 : 2, tok = pos == 2 ? p : r - pos * p;
        for (int col = 0; col < D; col++)
            t->x[0][(size_t)r * D + col] = W_E[(size_t)tok * D + col] + W_pos[pos * D + col];
    }
    gs_heads_project(t->q + (size_t)lo * D, t->x[0] + (size_t)lo * D, WB(m, GS_W_Q, 0), hi - lo, d);
    const int chain_hi = imin(hi, p);
    for (int l = 0; l < L; l++) {
        const int end = l == 0 ? hi : chain_hi;
        if (end <= lo)
            break;
        const size_t o = (size_t)lo * D;
        gs_heads_project(t->k[l] + o, t->x[l] + o, WB(m, GS_W_K, l), end - lo, d);
        gs_heads_project(t->v[l] + o, t->x[l] + o, WB(m, GS_W_V, l), end - lo, d);
        if (l == 0) {
            const int H = d->n_heads, E = d->d_head, rows = hi - lo;
            for (int h = 0; h < H; h++) {
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, rows, D, E, 1.0f, t->v[0] + o + h * E,
                            D, WB(m, GS_W_O, 0) + (size_t)h * E * D, D, 0.0f,
                            t->OV + ((size_t)lo * H + h) * D, H * D);
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, rows, M, E, 1.0f, t->v[0] + o + h * E,
                            D, t->OWin + (size_t)h * E * M, M, 0.0f, t->VOW + ((size_t)lo * H + h) * M, H * M);
            }
            const float *b_in = WB(m, GS_B_IN, 0);
            for (int r = lo; r < hi; r++)
                memcpy(t->XWb + (size_t)r * M, b_in, (size_t)M * sizeof(float));
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, rows, M, D, 1.0f, t->x[0] + o, D,
                        WB(m, GS_W_IN, 0), M, 1.0f, t->XWb + (size_t)lo * M, M);
        }
        if (l == L - 1 || chain_hi <= lo)
            break;
        /* position 0's attention weight on itself is 1: z = v */
        block_out(m, l, t->x[l] + o, t->v[l] + o, t->mid[l] + o, t->pre[l] + (size_t)lo * M,
                  t->post[l] + (size_t)lo * M, t->x[l + 1] + o, chain_hi - lo);
    }
}

/* causal attention of inputs [lo, hi) for query positions qlo..2, as
 * gs_attention_forward computes it, on position-major rows; z NULL: the weights only */
static void attn_forward(float *z, float *att, const float *q, const float *k, const float *v,
                         int n, int lo, int hi, int qlo, const gs_dims *d)
{
    const int D = d->d_model, H = d->n_heads, E = d->d_head;
    const float scale = 1.0f / sqrtf((float)E);
    for (int i = lo; i < hi; i++)
        for (int h = 0; h < H; h++) {
            float *a = att + ((size_t)i * H + h) * 9;
            for (int s = qlo; s < 3; s++) {
                const float *qs = q + row(n, s, i) * D + h * E;
                float mx = -INFINITY;
                for (int t = 0; t <= s; t++) {
                    const float *kt = k + row(n, t, i) * D + h * E;
                    float sc = 0.0f;
                    for (int e = 0; e < E; e++)
                        sc += qs[e] * kt[e];
                    sc *= scale;
                    mx = sc > mx ? sc : mx;
                    a[s * 3 + t] = sc;
                }
                float sum = 0.0f;
                for (int t = 0; t <= s; t++) {
                    a[s * 3 + t] = expf(a[s * 3 + t] - mx);
                    sum += a[s * 3 + t];
                }
                for (int t = 0; t <= s; t++)
                    a[s * 3 + t] /= sum;
                if (!z)
                    continue;
                float *zs = z + row(n, s, i) * D + h * E;
                for (int e = 0; e < E; e++)
                    zs[e] = 0.0f;
                for (int t = 0; t <= s; t++) {
                    const float *vt = v + row(n, t, i) * D + h * E;
                    for (int e = 0; e < E; e++)
                        zs[e] += a[s * 3 + t] * vt[e];
                }
            }
        }
}

/* the first block's positions 1 and 2 of inputs [lo, hi) after their attention: the
 * residual and the MLP's input as attention-weighted sums of table rows (the
 * products z W_O and mid W_in of the other blocks, done once per token) */
static void first_block_rows(const deep_ctx *c, int lo, int hi)
{
    gs_model *m = c->m;
    const deep_tab *t = &c->t;
    const gs_dims *d = &m->d;
    const int p = d->p, D = d->d_model, H = d->n_heads, M = d->d_mlp, n = c->n;
    const float *ov[3 * H], *vow[3 * H]; /* the keys' rows, every head */
    float w[3 * H];
    for (int i = lo; i < hi; i++) {
        const int rows[3] = {c->idx[i] / p, p + c->idx[i] % p, 2 * p};
        for (int s = 1; s < 3; s++) {
            const float *a = m->blk_att[0] + (size_t)i * H * 9 + s * 3;
            int k = 0;
            for (int h = 0; h < H; h++)
                for (int tk = 0; tk <= s; tk++, k++) {
                    w[k] = a[(size_t)h * 9 + tk];
                    ov[k] = t->OV + ((size_t)rows[tk] * H + h) * D;
                    vow[k] = t->VOW + ((size_t)rows[tk] * H + h) * M;
                }
            const size_t r = row(n, s, i);
            gs_k_combine(m->blk_mid[0] + r * D, D, t->x[0] + (size_t)rows[s] * D, ov, w, k, 0);
            gs_k_combine(m->blk_pre[0] + r * M, M, t->XWb + (size_t)rows[s] * M, vow, w, k, 0);
        }
    }
    for (int s = 1; s < 3; s++) {
        const size_t o = row(n, s, lo);
        mlp_out(m, 0, m->blk_mid[0] + o * D, m->blk_pre[0] + o * M, m->blk_post[0] + o * M,
                m->blk_x[1] + o * D, hi - lo);
    }
}

/* inputs [lo, hi) through every block, their logits and losses */
static void forward_rows(void *arg, int lo, int hi, int thread)
{
    (void)thread;
    const deep_ctx *c = arg;
    gs_model *m = c->m;
    const deep_tab *t = &c->t;
    const gs_dims *d = &m->d;
    const int p = d->p, D = d->d_model, M = d->d_mlp, V = d->n_out, L = d->n_layers, n = c->n;
    const int cnt = hi - lo;
    const size_t rowD = (size_t)D * sizeof(float);
    for (int l = 0; l < L; l++) {
        const int qlo = first_query(d, l);
        float *x = m->blk_x[l], *q = m->blk_q[l], *k = m->blk_k[l], *v = m->blk_v[l];
        for (int i = lo; i < hi; i++) {
            const int a = c->idx[i] / p;
            memcpy(k + row(n, 0, i) * D, t->k[l] + (size_t)a * D, rowD);
            if (l > 0) /* the first block's values enter through its tables */
                memcpy(v + row(n, 0, i) * D, t->v[l] + (size_t)a * D, rowD);
        }
        if (l == 0) {
            for (int i = lo; i < hi; i++)
                for (int s = 1; s < 3; s++) {
                    const size_t r = s == 1 ? (size_t)(p + c->idx[i] % p) : (size_t)2 * p;
                    memcpy(k + row(n, s, i) * D, t->k[0] + r * D, rowD);
                    if (s >= qlo)
                        memcpy(q + row(n, s, i) * D, t->q + r * D, rowD);
                }
        } else {
            float *outs[3] = {q, k, v};
            for (int s = 1; s < 3; s++)
                for (int w = s >= qlo ? 0 : 1; w < 3; w++) {
                    const size_t o = row(n, s, lo) * D;
                    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, cnt, D, D, 1.0f, x + o, D,
                                t->Wc[l][w], D, 0.0f, outs[w] + o, D);
                }
        }
        attn_forward(l == 0 && qlo == 1 ? NULL : m->blk_z[l], m->blk_att[l], q, k, v, n, lo, hi, qlo, d);
        if (l == 0 && qlo == 1) {
            first_block_rows(c, lo, hi);
            continue;
        }
        for (int s = qlo; s < 3; s++) {
            const size_t o = row(n, s, lo);
            block_out(m, l, x + o * D, m->blk_z[l] + o * D, m->blk_mid[l] + o * D,
                      m->blk_pre[l] + o * M, m->blk_post[l] + o * M, m->blk_x[l + 1] + o * D, cnt);
        }
    }
    float *logits = m->logits + (size_t)lo * V;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, cnt, V, D, 1.0f,
                m->blk_x[L] + row(n, 2, lo) * D, D, P(m, gs_tf_unembed(d)), V, 0.0f, logits, V);
    memcpy(m->post + (size_t)lo * M, m->blk_post[L - 1] + row(n, 2, lo) * M,
           (size_t)cnt * M * sizeof(float));
    gs_eval ev = {.n = cnt};
    for (int i = 0; i < cnt; i++) {
        int flags;
        ev.loss_sum += gs_loss_row_ref(&m->loss, logits + (size_t)i * V, V, c->target[lo + i], &flags);
        ev.n_correct += flags & GS_ROW_CORRECT;
        ev.n_collapsed += (flags & GS_ROW_COLLAPSED) != 0;
    }
    m->mlp_parts[lo / c->block] = ev;
}

void gs_deep_fast_prepare(gs_model *m)
{
    assert(m->deep_fast && m->d.n_ctx == 3 && m->d.n_layers >= 2);
    deep_ctx c = {.m = m};
    tab_views(m, &c.t);
    gs_jobs js = {.pool = m->pool, .ctx = &c};
    for (int j = 0; j < m->d.n_heads + m->d.n_layers - 1; j++)
        gs_jobs_add(&js, prep_job, j, 0);
    gs_jobs_run(&js);
    gs_jobs_add_blocks(&js, tab_forward_rows, 2 * m->d.p + 1, TAB_BLOCK);
    gs_jobs_run(&js);
}

gs_eval gs_deep_fast_forward(gs_model *m, const int32_t *idx, const int32_t *target, int n)
{
    gs_deep_fast_prepare(m);
    return gs_deep_fast_rows(m, idx, target, n);
}

gs_eval gs_deep_fast_rows(gs_model *m, const int32_t *idx, const int32_t *target, int n)
{
    assert(n >= 1 && n <= m->max_batch && m->deep_fast);
    deep_ctx c = {.m = m, .idx = idx, .target = target, .n = n, .block = row_block(n)};
    tab_views(m, &c.t);
    gs_jobs js = {.pool = m->pool, .ctx = &c};
    gs_jobs_add_blocks(&js, forward_rows, n, c.block);
    gs_jobs_run(&js);
    gs_eval ev = {0};
    for (int b = 0; b * c.block < n; b++)
        gs_eval_add(&ev, &m->mlp_parts[b]);
    return ev;
}

/* ---- backward ---- */

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
            memset(dk + row(n, t, i) * D, 0, (size_t)D * sizeof(float));
            memset(dv + row(n, t, i) * D, 0, (size_t)D * sizeof(float));
            if (t >= qlo)
                memset(dq + row(n, t, i) * D, 0, (size_t)D * sizeof(float));
        }
        for (int h = 0; h < H; h++) {
            const float *a = att + ((size_t)i * H + h) * 9;
            for (int s = qlo; s < 3; s++) {
                const size_t rs = row(n, s, i) * D + h * E;
                float datt[3], dot = 0.0f;
                for (int t = 0; t <= s; t++) {
                    const size_t rt = row(n, t, i) * D + h * E;
                    float g = 0.0f;
                    for (int e = 0; e < E; e++) {
                        g += dz[rs + e] * v[rt + e];
                        dv[rt + e] += a[s * 3 + t] * dz[rs + e];
                    }
                    datt[t] = g;
                    dot += a[s * 3 + t] * g;
                }
                for (int t = 0; t <= s; t++) {
                    const size_t rt = row(n, t, i) * D + h * E;
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
    const deep_ctx *c = arg;
    gs_model *m = c->m;
    const int D = m->d.d_model, V = m->d.n_out;
    for (int i = lo; i < hi; i++)
        gs_loss_grad_ref(&m->loss, m->logits + (size_t)i * V, V, c->target[i],
                         m->dlogits + (size_t)i * V, c->n);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, hi - lo, D, V, 1.0f, m->dlogits + (size_t)lo * V,
                V, P(m, gs_tf_unembed(&m->d)), V, 0.0f, c->dX + row(c->n, 2, lo) * D, D);
}

static void b_out_cols(void *arg, int lo, int hi, int thread)
{
    (void)thread;
    const deep_ctx *c = arg;
    const int D = c->m->d.d_model;
    col_sums(GB(c->m, GS_B_OUT, c->l), c->dX + row(c->n, c->qlo, 0) * D, (3 - c->qlo) * c->n, D, lo, hi);
}

static void b_in_cols(void *arg, int lo, int hi, int thread)
{
    (void)thread;
    const deep_ctx *c = arg;
    const int M = c->m->d.d_mlp;
    col_sums(GB(c->m, GS_B_IN, c->l), c->m->dpost + row(c->n, c->qlo, 0) * M, (3 - c->qlo) * c->n, M, lo, hi);
}

/* dpost = dX W_out^T through the ReLU, inputs [lo, hi), query positions */
static void dpost_rows(void *arg, int lo, int hi, int thread)
{
    (void)thread;
    const deep_ctx *c = arg;
    gs_model *m = c->m;
    const int D = m->d.d_model, M = m->d.d_mlp;
    for (int s = c->qlo; s < 3; s++) {
        const size_t o = row(c->n, s, lo);
        float *dpost = m->dpost + o * M;
        const float *pre = m->blk_pre[c->l] + o * M;
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, hi - lo, M, D, 1.0f, c->dX + o * D, D,
                    WB(m, GS_W_OUT, c->l), D, 0.0f, dpost, M);
        relu_mask(dpost, pre, (size_t)(hi - lo) * M);
    }
}

/* dmid = dX + dpost W_in^T, inputs [lo, hi), query positions */
static void dmid_rows(void *arg, int lo, int hi, int thread)
{
    (void)thread;
    const deep_ctx *c = arg;
    gs_model *m = c->m;
    const int D = m->d.d_model, M = m->d.d_mlp;
    for (int s = c->qlo; s < 3; s++) {
        const size_t o = row(c->n, s, lo);
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
    const deep_ctx *c = arg;
    gs_model *m = c->m;
    const gs_dims *d = &m->d;
    const int D = d->d_model, H = d->n_heads, E = d->d_head, l = c->l, n = c->n, cnt = hi - lo;
    for (int s = c->qlo; s < 3; s++) {
        const size_t o = row(n, s, lo) * D;
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, cnt, H * E, D, 1.0f, m->dx1 + o, D,
                    WB(m, GS_W_O, l), D, 0.0f, m->dz + o, D);
    }
    attn_backward(m->dq, m->dk, m->dv, m->dz, m->blk_att[l], m->blk_q[l], m->blk_k[l], m->blk_v[l],
                  n, lo, hi, c->qlo, d);
    if (l == 0)
        return; /* the first block's gradients go to its tables */
    const float *douts[3] = {m->dq, m->dk, m->dv};
    for (int s = 1; s < 3; s++) {
        const size_t o = row(n, s, lo) * D;
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
static void first_block_back(const deep_ctx *c, int lo, int hi)
{
    gs_model *m = c->m;
    const deep_tab *t = &c->t;
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
            memset(dk + row(n, tk, i) * D, 0, (size_t)D * sizeof(float));
            if (tk > 0)
                memset(dq + row(n, tk, i) * D, 0, (size_t)D * sizeof(float));
        }
        for (int s = 1; s < 3; s++) {
            /* the keys' rows, key-major within each head: j = h * (s + 1) + t */
            int kk = 0;
            for (int h = 0; h < H; h++)
                for (int tk = 0; tk <= s; tk++, kk++) {
                    ov[kk] = t->OV + ((size_t)rows[tk] * H + h) * D;
                    vow[kk] = t->VOW + ((size_t)rows[tk] * H + h) * M;
                }
            const size_t rs = row(n, s, i);
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
                    const size_t qo = rs * D + h * E, ko = row(n, tk, i) * D + h * E;
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
    const deep_ctx *c = arg;
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
            const float *x = src + row(n, pos, by[j]) * D;
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
    const deep_ctx *c = arg;
    const deep_tab *t = &c->t;
    const int D = c->m->d.d_model;
    gather_tokens(t->dk[c->l], c->m->dk, 0, t->start_a, t->by_a, c->n, D, lo, hi);
    gather_tokens(t->dv[c->l], c->m->dv, 0, t->start_a, t->by_a, c->n, D, lo, hi);
}

/* dst[h][c] = sum over inputs i of a_i[h][2][2] x_i[c] for columns [lo, hi) (x: the
 * inputs' position-2 rows of width w; dst: H rows of width w), in input order */
static void equals_weighted(const deep_ctx *c, float *dst, const float *x, int w, int lo, int hi)
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
static void gather_first(const deep_ctx *c, int tk, int lo, int hi)
{
    gs_model *m = c->m;
    const deep_tab *t = &c->t;
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
                gs_k_axpys(ovs, w, H, c->dX + row(n, s, i) * D, D);
                gs_k_axpys(vows, w, H, m->dpost + row(n, s, i) * M, M);
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
    const deep_ctx *c = arg;
    const deep_tab *t = &c->t;
    gs_model *m = c->m;
    const int D = m->d.d_model, H = m->d.n_heads, n = c->n;
    const size_t r = (size_t)2 * m->d.p, o = r * D, src = row(n, 2, 0) * D;
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
    const deep_ctx *c = arg;
    const deep_tab *t = &c->t;
    gs_model *m = c->m;
    const int M = m->d.d_mlp, H = m->d.n_heads, n = c->n;
    const size_t r = (size_t)2 * m->d.p, src = row(n, 2, 0) * M;
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
    const deep_ctx *c = arg;
    const gs_model *m = c->m;
    const deep_tab *t = &c->t;
    const gs_dims *d = &m->d;
    const int p = d->p, D = d->d_model, H = d->n_heads, E = d->d_head, M = d->d_mlp, L = d->n_layers;
    const int chain_hi = imin(hi, p);
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
                relu_mask(dpost, pre, (size_t)rows * M);
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
    const deep_ctx *c = arg;
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
    const deep_ctx *c = arg;
    const int D = c->m->d.d_model, l = a / D;
    col_sums(GB(c->m, GS_B_OUT, l), c->t.g[l + 1], c->m->d.p, D, a - l * D, b - l * D);
}

static void tab_b_in_cols(void *arg, int a, int b, int thread)
{
    (void)thread;
    const deep_ctx *c = arg;
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
static void tab_weight_grads(gs_jobs *js, deep_ctx *c, int l)
{
    gs_model *m = c->m;
    const deep_tab *t = &c->t;
    const gs_dims *d = &m->d;
    const int p = d->p, D = d->d_model, E = d->d_head, M = d->d_mlp;
    const int rows = l == 0 ? 2 * p + 1 : p;
    if (l < d->n_layers - 1) {
        for (int lo = 0; lo < D; lo += COL_BLOCK)
            gs_jobs_add(js, tab_b_out_cols, l * D + lo, l * D + imin(lo + COL_BLOCK, D));
        gs_jobs_add_gemm(js, CblasTrans, CblasNoTrans, M, D, p, t->post[l], M, t->g[l + 1], D, 1.0f,
                         GB(m, GS_W_OUT, l), D, COL_BLOCK);
        for (int lo = 0; lo < M; lo += COL_BLOCK)
            gs_jobs_add(js, tab_b_in_cols, l * M + lo, l * M + imin(lo + COL_BLOCK, M));
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
    deep_ctx c = {.m = m, .idx = idx, .target = target, .n = n, .block = row_block(n)};
    deep_tab *t = &c.t;
    tab_views(m, t);
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
        c.qlo = first_query(d, l);
        const size_t r0 = row(n, c.qlo, 0);
        const int nq = (3 - c.qlo) * n;
        /* per input: out = mid + relu(mid W_in + b_in) W_out + b_out, mid = x + z W_O, the
         * attention and (from the second block on) the projections' input gradient */
        gs_jobs_add_blocks(&js, back_rows, n, c.block);
        gs_jobs_run(&js);
        /* the weights' sums over the inputs (at the positions the forward ran) */
        if (l == L - 1) /* the unembedding reads position 2 of the last block's output */
            gs_jobs_add_gemm(&js, CblasTrans, CblasNoTrans, D, V, n, m->blk_x[L] + row(n, 2, 0) * D, D,
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
            const size_t r1 = row(n, 1, 0) * D;
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
