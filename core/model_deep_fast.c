/* The transformer of several blocks, fast path: its tables and the forward (the
 * algebra: model_deep_fast.h). */
#include "model_deep_fast.h"
#include "fast_kernels.h"
#include "pool.h"

#include <assert.h>
#include <cblas.h>
#include <math.h>
#include <string.h>

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

void gs_deep_tab_views(const gs_model *m, gs_deep_tab *t)
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

int gs_deep_fast_row_block(int n)
{
    const int per = (n + GS_MLP_MAX_PARTS - 1) / GS_MLP_MAX_PARTS;
    return per > ROW_BLOCK ? per : ROW_BLOCK;
}

/* the MLP's output half: post = relu(pre), out = mid + b_out + post W_out, for rows
 * contiguous rows (row stride D, or M for pre and post) */
static void mlp_out(const gs_model *m, int l, const float *mid, const float *pre, float *post,
                    float *out, int rows)
{
    const int D = m->d.d_model, M = m->d.d_mlp;
    const float *b_out = WB(m, GS_B_OUT, l);
    gs_k_relu(post, pre, (size_t)rows * M);
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
    const gs_deep_ctx *c = arg;
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
    const gs_deep_ctx *c = arg;
    const gs_model *m = c->m;
    const gs_deep_tab *t = &c->t;
    const gs_dims *d = &m->d;
    const int p = d->p, D = d->d_model, M = d->d_mlp, L = d->n_layers;
    const float *W_E = P(m, GS_W_E), *W_pos = P(m, GS_W_POS);
    for (int r = lo; r < hi; r++) {
        const int pos = r < p ? 0 : r < 2 * p ? 1 : 2, tok = pos == 2 ? p : r - pos * p;
        for (int col = 0; col < D; col++)
            t->x[0][(size_t)r * D + col] = W_E[(size_t)tok * D + col] + W_pos[pos * D + col];
    }
    gs_heads_project(t->q + (size_t)lo * D, t->x[0] + (size_t)lo * D, WB(m, GS_W_Q, 0), hi - lo, d);
    const int chain_hi = gs_deep_imin(hi, p);
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
                const float *qs = q + gs_deep_row(n, s, i) * D + h * E;
                float mx = -INFINITY;
                for (int t = 0; t <= s; t++) {
                    const float *kt = k + gs_deep_row(n, t, i) * D + h * E;
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
                float *zs = z + gs_deep_row(n, s, i) * D + h * E;
                for (int e = 0; e < E; e++)
                    zs[e] = 0.0f;
                for (int t = 0; t <= s; t++) {
                    const float *vt = v + gs_deep_row(n, t, i) * D + h * E;
                    for (int e = 0; e < E; e++)
                        zs[e] += a[s * 3 + t] * vt[e];
                }
            }
        }
}

/* the first block's positions 1 and 2 of inputs [lo, hi) after their attention: the
 * residual and the MLP's input as attention-weighted sums of table rows (the
 * products z W_O and mid W_in of the other blocks, done once per token) */
static void first_block_rows(const gs_deep_ctx *c, int lo, int hi)
{
    gs_model *m = c->m;
    const gs_deep_tab *t = &c->t;
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
            const size_t r = gs_deep_row(n, s, i);
            gs_k_combine(m->blk_mid[0] + r * D, D, t->x[0] + (size_t)rows[s] * D, ov, w, k, 0);
            gs_k_combine(m->blk_pre[0] + r * M, M, t->XWb + (size_t)rows[s] * M, vow, w, k, 0);
        }
    }
    for (int s = 1; s < 3; s++) {
        const size_t o = gs_deep_row(n, s, lo);
        mlp_out(m, 0, m->blk_mid[0] + o * D, m->blk_pre[0] + o * M, m->blk_post[0] + o * M,
                m->blk_x[1] + o * D, hi - lo);
    }
}

/* inputs [lo, hi) through every block, their logits and losses */
static void forward_rows(void *arg, int lo, int hi, int thread)
{
    (void)thread;
    const gs_deep_ctx *c = arg;
    gs_model *m = c->m;
    const gs_deep_tab *t = &c->t;
    const gs_dims *d = &m->d;
    const int p = d->p, D = d->d_model, M = d->d_mlp, V = d->n_out, L = d->n_layers, n = c->n;
    const int cnt = hi - lo;
    const size_t rowD = (size_t)D * sizeof(float);
    for (int l = 0; l < L; l++) {
        const int qlo = gs_deep_first_query(d, l);
        float *x = m->blk_x[l], *q = m->blk_q[l], *k = m->blk_k[l], *v = m->blk_v[l];
        for (int i = lo; i < hi; i++) {
            const int a = c->idx[i] / p;
            memcpy(k + gs_deep_row(n, 0, i) * D, t->k[l] + (size_t)a * D, rowD);
            if (l > 0) /* the first block's values enter through its tables */
                memcpy(v + gs_deep_row(n, 0, i) * D, t->v[l] + (size_t)a * D, rowD);
        }
        if (l == 0) {
            for (int i = lo; i < hi; i++)
                for (int s = 1; s < 3; s++) {
                    const size_t r = s == 1 ? (size_t)(p + c->idx[i] % p) : (size_t)2 * p;
                    memcpy(k + gs_deep_row(n, s, i) * D, t->k[0] + r * D, rowD);
                    if (s >= qlo)
                        memcpy(q + gs_deep_row(n, s, i) * D, t->q + r * D, rowD);
                }
        } else {
            float *outs[3] = {q, k, v};
            for (int s = 1; s < 3; s++)
                for (int w = s >= qlo ? 0 : 1; w < 3; w++) {
                    const size_t o = gs_deep_row(n, s, lo) * D;
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
            const size_t o = gs_deep_row(n, s, lo);
            block_out(m, l, x + o * D, m->blk_z[l] + o * D, m->blk_mid[l] + o * D,
                      m->blk_pre[l] + o * M, m->blk_post[l] + o * M, m->blk_x[l + 1] + o * D, cnt);
        }
    }
    float *logits = m->logits + (size_t)lo * V;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, cnt, V, D, 1.0f,
                m->blk_x[L] + gs_deep_row(n, 2, lo) * D, D, P(m, gs_tf_unembed(d)), V, 0.0f, logits, V);
    memcpy(m->post + (size_t)lo * M, m->blk_post[L - 1] + gs_deep_row(n, 2, lo) * M,
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
    gs_deep_ctx c = {.m = m};
    gs_deep_tab_views(m, &c.t);
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
    gs_deep_ctx c = {.m = m, .idx = idx, .target = target, .n = n, .block = gs_deep_fast_row_block(n)};
    gs_deep_tab_views(m, &c.t);
    return gs_model_run_blocks(m, forward_rows, &c, n, c.block);
}
