/* The fast path's backward: per-input gradients summed by token, then one product per
 * table back to the parameters' gradients (gs_model_fast_backward). */
#include <assert.h>
#include <cblas.h>
#include <math.h>
#include <string.h>

#include "fast_kernels.h"
#include "model_fast.h"

/* dst[j * ld_dst + i] = src[i * ld_src + j] for i < rows, j < cols */
static void transpose(float *dst, size_t ld_dst, const float *src, size_t ld_src, int rows, int cols)
{
    for (int i0 = 0; i0 < rows; i0 += 16)
        for (int j = 0; j < cols; j++)
            for (int i = i0; i < i0 + 16 && i < rows; i++)
                dst[(size_t)j * ld_dst + i] = src[(size_t)i * ld_src + j];
}

/* job j: the transposed copies (one per head of OWin, OU, W_K, W_V; then W_in, W_U) */
static void transposes_task(void *arg, int j, int unused, int thread)
{
    gs_fast_ctx *c = arg;
    (void)unused, (void)thread;
    gs_model *m = c->m;
    const gs_fast_tables *t = &c->t;
    const int D = m->d.d_model, H = m->d.n_heads, E = m->d.d_head, M = m->d.d_mlp, V = m->d.n_out;
    const size_t Ep = round16(E), Dp = round16(D);
    if (j < H) {
        transpose(t->OWinT + (size_t)j * M * Ep, Ep, t->OWin + (size_t)j * E * M, M, E, M);
        transpose(t->OUT + (size_t)j * V * Ep, Ep, t->OU + (size_t)j * E * V, V, E, V);
        transpose(t->W_KT + (size_t)j * E * Dp, Dp, P(m, GS_W_K) + (size_t)j * D * E, E, D, E);
        transpose(t->W_VT + (size_t)j * E * Dp, Dp, P(m, GS_W_V) + (size_t)j * D * E, E, D, E);
    } else if (j == H) {
        transpose(t->W_inT, Dp, P(m, GS_W_IN), M, D, M);
    } else {
        transpose(t->W_UT, Dp, P(m, GS_W_U), V, D, V);
    }
}

static size_t part_size(const gs_dims *d)
{
    return (size_t)(d->n_heads + 1) * d->d_mlp + (size_t)(d->n_heads + 1) * d->n_out + d->n_heads;
}

/* Token a's rows of gM, gV (sums of alpha_h0 dpre, alpha_h0 dlogits over the inputs
 * with that a) and dS. The same pass collects this token's share of the "=" rows
 * (alpha_h2-weighted) and of dc_pre, dc_log (weight 1), so that those sums over all
 * inputs are split by token and added in token order afterwards (equals_task). */
static void token_a(gs_fast_ctx *c, int a, gs_fast_scratch *s)
{
    gs_model *m = c->m;
    gs_fast_tables *t = &c->t;
    const gs_dims *d = &m->d;
    const int p = d->p, H = d->n_heads, M = d->d_mlp, V = d->n_out, K3 = 3 * H, k = 2 * H + 1;
    float *pt = t->part + (size_t)a * part_size(d);
    float *outM[k], *outV[k];
    for (int h = 0; h < H; h++) {
        outM[h] = t->gM + ((size_t)a * H + h) * M;
        outM[H + h] = pt + (size_t)h * M;
        outV[h] = t->gV + ((size_t)a * H + h) * V;
        outV[H + h] = pt + (size_t)(H + 1) * M + (size_t)h * V;
    }
    outM[2 * H] = pt + (size_t)H * M;
    outV[2 * H] = pt + (size_t)(H + 1) * M + (size_t)H * V;
    float *dsE = pt + (size_t)(H + 1) * M + (size_t)(H + 1) * V;
    for (int h = 0; h < H; h++)
        t->dS[(size_t)a * H + h] = dsE[h] = 0.0f;
    /* in pieces of at most p inputs (the scratch's size; only a batch with repeated
     * inputs has more per token) */
    const int first = t->start_a[a], last = t->start_a[a + 1];
    int k0 = first;
    do {
        const int n_rows = last - k0 < p ? last - k0 : p;
        float *w = s->w;
        for (int r = 0; r < n_rows; r++) {
            const int i = t->by_a[k0 + r];
            const float *al = m->alpha + (size_t)i * K3, *ds = t->dscore + (size_t)i * K3;
            for (int h = 0; h < H; h++) {
                w[r * k + h] = al[h * 3];
                w[r * k + H + h] = al[h * 3 + 2];
                t->dS[(size_t)a * H + h] += ds[h * 3];
                dsE[h] += ds[h * 3 + 2];
            }
            w[r * k + 2 * H] = 1.0f;
            s->rows[r] = m->dpost + (size_t)i * M;
        }
        gs_k_wsum(outM, k, s->rows, w, n_rows, M, k0 > first);
        for (int r = 0; r < n_rows; r++)
            s->rows[r] = m->dlogits + (size_t)t->by_a[k0 + r] * V;
        gs_k_wsum(outV, k, s->rows, w, n_rows, V, k0 > first);
        k0 += n_rows;
    } while (k0 < last);
}

void gs_fast_token_b(gs_fast_ctx *c, int b, gs_fast_scratch *s)
{
    gs_model *m = c->m;
    gs_fast_tables *t = &c->t;
    const gs_dims *d = &m->d;
    const int p = d->p, H = d->n_heads, M = d->d_mlp, V = d->n_out, K3 = 3 * H;
    const size_t r0 = (size_t)(p + b) * H;
    float *outM[H], *outV[H];
    for (int h = 0; h < H; h++) {
        outM[h] = t->gM + (r0 + h) * M;
        outV[h] = t->gV + (r0 + h) * V;
        t->dS[r0 + h] = 0.0f;
    }
    const int first = t->start_b[b], last = t->start_b[b + 1];
    int k0 = first;
    do {
        const int n_rows = last - k0 < p ? last - k0 : p;
        float *w = s->w;
        for (int r = 0; r < n_rows; r++) {
            const int i = t->by_b[k0 + r];
            const float *al = m->alpha + (size_t)i * K3, *ds = t->dscore + (size_t)i * K3;
            for (int h = 0; h < H; h++) {
                w[r * H + h] = al[h * 3 + 1];
                t->dS[r0 + h] += ds[h * 3 + 1];
            }
            s->rows[r] = m->dpost + (size_t)i * M;
        }
        gs_k_wsum(outM, H, s->rows, w, n_rows, M, k0 > first);
        for (int r = 0; r < n_rows; r++)
            s->rows[r] = m->dlogits + (size_t)t->by_b[k0 + r] * V;
        gs_k_wsum(outV, H, s->rows, w, n_rows, V, k0 > first);
        k0 += n_rows;
    } while (k0 < last);
}

/* The rows of a token are scattered over the batch: ask for the next token's while
 * this one's are summed (the hardware prefetcher does not follow such a pattern). */
static void prefetch_rows(const gs_fast_ctx *c, const int *by, const int *start, int tok)
{
    const gs_model *m = c->m;
    const int M = m->d.d_mlp, V = m->d.n_out;
    for (int k = start[tok]; k < start[tok + 1]; k++) {
        const char *x = (const char *)(m->dpost + (size_t)by[k] * M);
        for (size_t at = 0; at < (size_t)M * sizeof(float); at += 64)
            __builtin_prefetch(x + at);
        const char *g = (const char *)(m->dlogits + (size_t)by[k] * V);
        for (size_t at = 0; at < (size_t)V * sizeof(float); at += 64)
            __builtin_prefetch(g + at);
    }
}

/* tokens lo..hi of one side (0: a, 1: b), each token's rows fetched while the one
 * before is summed */
static void token_range(gs_fast_ctx *c, int side, int lo, int hi, int thread)
{
    const int *by = side ? c->t.by_b : c->t.by_a, *start = side ? c->t.start_b : c->t.start_a;
    gs_fast_scratch s;
    gs_fast_thread_scratch(c, thread, &s);
    prefetch_rows(c, by, start, lo);
    for (int tok = lo; tok < hi; tok++) {
        if (tok + 1 < hi)
            prefetch_rows(c, by, start, tok + 1);
        if (side)
            gs_fast_token_b(c, tok, &s);
        else
            token_a(c, tok, &s);
    }
}

static void token_a_task(void *arg, int a0, int a1, int thread)
{
    token_range(arg, 0, a0, a1, thread);
}

static void token_b_task(void *arg, int b0, int b1, int thread)
{
    token_range(arg, 1, b0, b1, thread);
}

/* The "=" rows and the constants: the per-token shares added in token order. Job
 * j < H sums the "=" row of head j of gM, j == H the dc_pre, j == H + 1 everything of
 * width V and the scores. */
static void equals_task(void *arg, int j, int unused, int thread)
{
    gs_fast_ctx *c = arg;
    (void)unused, (void)thread;
    gs_model *m = c->m;
    gs_fast_tables *t = &c->t;
    const gs_dims *d = &m->d;
    const int p = d->p, H = d->n_heads, M = d->d_mlp, V = d->n_out;
    const size_t part = part_size(d);
    const float one = 1.0f;
    if (j <= H) {
        float *out = j < H ? t->gM + ((size_t)2 * p * H + j) * M : t->dc_pre;
        memset(out, 0, (size_t)M * sizeof(float));
        for (int a = 0; a < p; a++)
            gs_k_axpys(&out, &one, 1, t->part + (size_t)a * part + (size_t)j * M, M);
        return;
    }
    for (int k = 0; k <= H; k++) {
        float *out = k < H ? t->gV + ((size_t)2 * p * H + k) * V : t->dc_log;
        memset(out, 0, (size_t)V * sizeof(float));
        for (int a = 0; a < p; a++)
            gs_k_axpys(&out, &one, 1, t->part + (size_t)a * part + (size_t)(H + 1) * M + (size_t)k * V, V);
    }
    for (int h = 0; h < H; h++) {
        float sum = 0.0f;
        for (int a = 0; a < p; a++)
            sum += t->part[(size_t)a * part + (size_t)(H + 1) * M + (size_t)(H + 1) * V + h];
        t->dS[(size_t)2 * p * H + h] = sum;
    }
}

/* Head h: OWin, OU, the values, the scores, K and q, back to e (its share de_h). */
static void head_backward_task(void *arg, int h, int unused, int thread)
{
    gs_fast_ctx *c = arg;
    (void)unused, (void)thread;
    gs_model *m = c->m;
    gs_fast_tables *t = &c->t;
    const gs_dims *d = &m->d;
    const int p = d->p, D = d->d_model, H = d->n_heads, E = d->d_head, M = d->d_mlp, V = d->n_out,
              R = 2 * p + 1;
    const float *W_Q = P(m, GS_W_Q) + (size_t)h * D * E;
    float *dOWin = t->dOWin + (size_t)h * E * M, *dOU = t->dOU + (size_t)h * E * V;
    float *dVt = t->dVt + h * E, *gW_O = G(m, GS_W_O) + (size_t)h * E * D;
    const int Ep = (int)round16(E), Dp = (int)round16(D);
    /* per-token contributions Vt_h[r] OWin[h] (and OU[h]) with weights gM, gV */
    gs_k_gemm_at(dOWin, M, t->Vt + h * E, D, t->gM + (size_t)h * M, H * M, E, M, R, 0);
    gs_k_gemm_at(dOU, V, t->Vt + h * E, D, t->gV + (size_t)h * V, H * V, E, V, R, 0);
    gs_k_gemm(dVt, D, t->gM + (size_t)h * M, H * M, t->OWinT + (size_t)h * M * Ep, Ep, R, E, M, 0, NULL, 0);
    gs_k_gemm(dVt, D, t->gV + (size_t)h * V, H * V, t->OUT + (size_t)h * V * Ep, Ep, R, E, V, 1, NULL, 0);
    /* OWin = W_O[h] W_in, OU = W_O[h] W_U (dW_in, dW_U: all heads at once, later) */
    gs_k_gemm(gW_O, D, dOWin, M, t->W_inT, Dp, E, D, M, 1, NULL, 0);
    gs_k_gemm(gW_O, D, dOU, V, t->W_UT, Dp, E, D, V, 1, NULL, 0);
    /* S[r, h] = q_h . K[r, h] / sqrt(E) */
    const float scale = 1.0f / sqrtf((float)E);
    float *dq = t->dq + h * E;
    for (int k = 0; k < E; k++)
        dq[k] = 0.0f;
    for (int r = 0; r < R; r++) {
        const float g = t->dS[(size_t)r * H + h] * scale;
        for (int k = 0; k < E; k++) {
            t->dK[(size_t)r * D + h * E + k] = g * t->q[h * E + k];
            dq[k] += g * t->K[(size_t)r * D + h * E + k];
        }
    }
    /* K, Vt = e W_K[h], e W_V[h]; q = e[2p] W_Q[h] */
    gs_k_gemm_at(G(m, GS_W_K) + (size_t)h * D * E, E, t->e, D, t->dK + h * E, D, D, E, R, 1);
    gs_k_gemm_at(G(m, GS_W_V) + (size_t)h * D * E, E, t->e, D, dVt, D, D, E, R, 1);
    const float *e2 = t->e + (size_t)2 * p * D;
    float *gW_Q = G(m, GS_W_Q) + (size_t)h * D * E;
    for (int k = 0; k < D; k++)
        for (int j = 0; j < E; j++)
            gW_Q[(size_t)k * E + j] += e2[k] * dq[j];
    float *de = t->de_h + (size_t)h * R * D;
    gs_k_gemm(de, D, t->dK + h * E, D, t->W_KT + (size_t)h * E * Dp, Dp, R, D, E, 0, NULL, 0);
    gs_k_gemm(de, D, dVt, D, t->W_VT + (size_t)h * E * Dp, Dp, R, D, E, 1, NULL, 0);
    float *de2 = de + (size_t)2 * p * D;
    for (int k = 0; k < D; k++) {
        float acc = 0.0f;
        for (int j = 0; j < E; j++)
            acc += W_Q[(size_t)k * E + j] * dq[j];
        de2[k] += acc;
    }
}

/* columns j0..j1 of dW_in += W_O^T dOWin (all heads: W_O is [H*E, D]) + e2^T dc_pre */
static void w_in_task(void *arg, int j0, int j1, int thread)
{
    gs_fast_ctx *c = arg;
    (void)thread;
    gs_model *m = c->m;
    const gs_fast_tables *t = &c->t;
    const int p = m->d.p, D = m->d.d_model, M = m->d.d_mlp, HE = m->d.n_heads * m->d.d_head;
    const float *e2 = t->e + (size_t)2 * p * D;
    float *gW_in = G(m, GS_W_IN);
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, D, j1 - j0, HE, 1.0f, P(m, GS_W_O), D,
                t->dOWin + j0, M, 1.0f, gW_in + j0, M);
    for (int k = 0; k < D; k++)
        for (int j = j0; j < j1; j++)
            gW_in[(size_t)k * M + j] += e2[k] * t->dc_pre[j];
}

/* dW_U += W_out^T dWoU + e2b^T dc_log (the part that needs no head) */
static void w_u_out_task(void *arg, int unused_a, int unused_b, int thread)
{
    gs_fast_ctx *c = arg;
    (void)unused_a, (void)unused_b, (void)thread;
    gs_model *m = c->m;
    const gs_fast_tables *t = &c->t;
    const gs_dims *d = &m->d;
    const int D = d->d_model, M = d->d_mlp, V = d->n_out;
    float *gW_U = G(m, GS_W_U);
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasTrans, D, V, M, 1.0f, P(m, GS_W_OUT), D, t->dWoUT, M,
                1.0f, gW_U, V);
    for (int k = 0; k < D; k++)
        for (int v = 0; v < V; v++)
            gW_U[(size_t)k * V + v] += t->e2b[k] * t->dc_log[v];
}

/* dW_U += W_O^T dOU (all heads: W_O is [H*E, D]), after w_u_out_task */
static void w_u_heads_task(void *arg, int unused_a, int unused_b, int thread)
{
    gs_fast_ctx *c = arg;
    (void)unused_a, (void)unused_b, (void)thread;
    gs_model *m = c->m;
    const gs_dims *d = &m->d;
    const int D = d->d_model, V = d->n_out, HE = d->n_heads * d->d_head;
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, D, V, HE, 1.0f, P(m, GS_W_O), D, c->t.dOU, V,
                1.0f, G(m, GS_W_U), V);
}

/* e[r] = W_E[tok] + W_pos[pos]: the heads' shares de_h (and de2) added in head order.
 * Job 0 does W_E's rows of a and b tokens, job 1 the "=" token and W_pos. */
static void embed_task(void *arg, int job, int unused, int thread)
{
    gs_fast_ctx *c = arg;
    (void)unused, (void)thread;
    gs_model *m = c->m;
    const gs_fast_tables *t = &c->t;
    const int p = m->d.p, D = m->d.d_model, H = m->d.n_heads, R = 2 * p + 1;
    float *gW_E = G(m, GS_W_E), *gW_pos = G(m, GS_W_POS);
    if (job == 0) {
        /* token x appears as a (row x) and as b (row p + x): both add to W_E[x] */
        for (int x = 0; x < p; x++)
            for (int side = 0; side < 2; side++) {
                const int r = side * p + x;
                for (int k = 0; k < D; k++) {
                    float g = 0.0f;
                    for (int h = 0; h < H; h++)
                        g += t->de_h[((size_t)h * R + r) * D + k];
                    gW_E[(size_t)x * D + k] += g;
                }
            }
        return;
    }
    for (int r = 0; r < R; r++) {
        const int pos = r < p ? 0 : r < 2 * p ? 1 : 2;
        for (int k = 0; k < D; k++) {
            float g = r == 2 * p ? t->de2[k] : 0.0f;
            for (int h = 0; h < H; h++)
                g += t->de_h[((size_t)h * R + r) * D + k];
            if (r == 2 * p)
                gW_E[(size_t)p * D + k] += g;
            gW_pos[pos * D + k] += g;
        }
    }
}

/* biases, and the gradient reaching e[2p] through c_pre and c_log */
static void bias_task(void *arg, int unused_a, int unused_b, int thread)
{
    gs_fast_ctx *c = arg;
    (void)unused_a, (void)unused_b, (void)thread;
    gs_model *m = c->m;
    const gs_fast_tables *t = &c->t;
    const int D = m->d.d_model, M = m->d.d_mlp, V = m->d.n_out;
    const float *W_in = P(m, GS_W_IN), *W_U = P(m, GS_W_U);
    float *gb_in = G(m, GS_B_IN), *gb_out = G(m, GS_B_OUT);
    for (int j = 0; j < M; j++)
        gb_in[j] += t->dc_pre[j];
    for (int k = 0; k < D; k++) {
        float u = 0.0f, w = 0.0f;
        for (int v = 0; v < V; v++)
            u += W_U[(size_t)k * V + v] * t->dc_log[v];
        for (int j = 0; j < M; j++)
            w += W_in[(size_t)k * M + j] * t->dc_pre[j];
        gb_out[k] += u;
        t->de2[k] = u + w;
    }
}

/* rows v0..v1 of dWoU^T: the segments' shares, added in segment order */
static void dwou_sum_task(void *arg, int v0, int v1, int thread)
{
    gs_fast_ctx *c = arg;
    (void)thread;
    const int M = c->m->d.d_mlp, V = c->m->d.n_out;
    const size_t len = (size_t)(v1 - v0) * M;
    float *out = c->t.dWoUT + (size_t)v0 * M;
    const float one = 1.0f;
    memcpy(out, c->t.dWoUT_part + (size_t)v0 * M, len * sizeof(float));
    for (int g = 1; g < SEGMENTS; g++)
        gs_k_axpys(&out, &one, 1, c->t.dWoUT_part + (size_t)g * M * V + (size_t)v0 * M, (int)len);
}

/* inputs grouped by token (counting sort, stable) */
void gs_fast_group_by_token(gs_fast_tables *t, const int32_t *idx, int n, int p)
{
    for (int side = 0; side < 2; side++) {
        int *start = side ? t->start_b : t->start_a, *by = side ? t->by_b : t->by_a;
        memset(start, 0, (size_t)(p + 1) * sizeof *start);
        for (int i = 0; i < n; i++)
            start[(side ? idx[i] % p : idx[i] / p) + 1]++;
        for (int k = 0; k < p; k++)
            start[k + 1] += start[k];
        for (int i = 0; i < n; i++) {
            const int tok = side ? idx[i] % p : idx[i] / p;
            by[start[tok]++] = i;
        }
        for (int k = p; k > 0; k--)
            start[k] = start[k - 1];
        start[0] = 0;
    }
}

void gs_model_fast_backward(gs_model *m, const int32_t *idx, const int32_t *target, int n)
{
    (void)idx, (void)target; /* the slots of the forward know their inputs */
    assert(m->fast_stage != STAGE_NONE);
    const gs_dims *d = &m->d;
    const int p = d->p, D = d->d_model, H = d->n_heads, M = d->d_mlp, V = d->n_out;
    gs_fast_ctx c;
    gs_fast_ctx_init(&c, m);
    c.n = n;
    gs_fast_tables *t = &c.t;
    if (m->fast_stage == STAGE_FORWARD) {
        gs_pool_run(m->pool, (n + TILE - 1) / TILE, gs_fast_rows_backward_task, &c);
        gs_fast_group_by_token(t, t->slot_idx, n, p);
    }
    gs_jobs js = {.pool = m->pool, .ctx = &c};
    /* 1. sums over the inputs: dWoU = post^T dlogits by blocks of neurons; the tables'
     * gradients by token */
    if (m->fast_stage == STAGE_FORWARD)
        gs_jobs_add_gemm(&js, CblasTrans, CblasNoTrans, V, M, n, m->dlogits, V, m->post, M, 0.0f,
                         t->dWoUT, M, NEURON_BLOCK);
    else
        gs_jobs_add_blocks(&js, dwou_sum_task, V, 16);
    const int per_task = (p + TOKEN_TASKS - 1) / TOKEN_TASKS;
    gs_jobs_add_blocks(&js, token_a_task, p, per_task);
    if (m->fast_stage == STAGE_FORWARD) /* else done by the segments */
        gs_jobs_add_blocks(&js, token_b_task, p, per_task);
    for (int j = 0; j < H + 2; j++) /* transposed copies for the heads' products */
        gs_jobs_add(&js, transposes_task, j, 0);
    gs_jobs_run(&js);
    for (int j = 0; j < H + 2; j++)
        gs_jobs_add(&js, equals_task, j, 0);
    gs_jobs_run(&js);
    /* 2. per head: OWin, OU, values, scores, keys, query; WoU = W_out W_U; biases */
    for (int h = 0; h < H; h++)
        gs_jobs_add(&js, head_backward_task, h, 0);
    gs_jobs_add_gemm(&js, CblasTrans, CblasTrans, M, D, V, t->dWoUT, M, P(m, GS_W_U), V, 1.0f,
                     G(m, GS_W_OUT), D, 2 * TABLE_BLOCK);
    gs_jobs_add(&js, w_u_out_task, 0, 0);
    gs_jobs_add(&js, bias_task, 0, 0);
    gs_jobs_run(&js);
    /* 3. W_in and W_U, all heads at once; e[r] = W_E[tok] + W_pos[pos] */
    gs_jobs_add_blocks(&js, w_in_task, M, TABLE_BLOCK);
    gs_jobs_add(&js, w_u_heads_task, 0, 0);
    gs_jobs_add(&js, embed_task, 0, 0);
    gs_jobs_add(&js, embed_task, 1, 0);
    gs_jobs_run(&js);
}
