/* The fast path: exact, not approximate (the reference's sums, grouped differently).
 * With one layer and the readout at the last position, only the "=" query matters;
 * keys and values at positions 0 and 1 depend on one token each, and the "=" position
 * is the same for every input. So attention becomes lookups in per-token tables, and
 * every product of fixed matrices is folded once per step:
 *
 *   row r of the tables: r = a (token at position 0), p + b (position 1), 2p ("=")
 *   e[r]        = W_E[tok] + W_pos[pos]                [R, D]     R = 2p + 1
 *   K, Vt       = e @ W_K[h], e @ W_V[h]               [R, H*E]
 *   S[r, h]     = q_h . K[r, h] / sqrt(E)              q = e[2p] @ W_Q
 *   OWin, OU    = W_O[h] @ W_in, W_O[h] @ W_U          [H, E, M], [H, E, V]
 *   WoU         = W_out @ W_U                          [M, V]
 *
 * For an input (a, b), alpha_hj = softmax_j S[r_j, h] with r = (a, p + b, 2p), and
 * x_last = e[2p] + sum_hj alpha_hj Vt_h[r_j] W_O[h]. As sum_j alpha_hj = 1, the "="
 * term folds into a constant once every row is taken relative to the "=" row:
 *
 *   VOWd[r, h]  = (Vt_h[r] - Vt_h[2p]) @ OWin[h],  VOUd alike with OU    (r < 2p)
 *   c_pre       = b_in + e[2p] @ W_in + sum_h Vt_h[2p] @ OWin[h]
 *   c_log       = (e[2p] + b_out) @ W_U + sum_h Vt_h[2p] @ OU[h]
 *   pre         = c_pre + sum_h (alpha_h0 VOWd[a, h] + alpha_h1 VOWd[p + b, h])
 *   logits      = c_log + sum_h (alpha_h0 VOUd[a, h] + alpha_h1 VOUd[p + b, h])
 *                       + relu(pre) @ WoU
 *
 * which is the reference's (x_last + b_out + relu(x_last W_in + b_in) W_out) W_U. Per
 * input that is 2H table rows of each width and one [M] x [M, V] product. The backward
 * runs the algebra in reverse: per-input gradients are summed by token (a table row's
 * gradient is the alpha-weighted sum over the inputs holding that token; the "=" row's
 * directly with alpha_h2, not as a difference), then one product per table.
 *
 * Per-input products (post @ WoU, dlogits @ WoU^T, dlogits^T post) go through the row
 * kernels of fast_kernels.c, which never mix rows: an input's numbers do not depend on
 * the batch it is in or the tile it lands in, so evaluation, training and the probes'
 * recomputation (gs_model_forward in chunks) give the same bits.
 *
 * Threads: every piece of work is a task of a gs_pool whose result does not depend on
 * which thread runs it; sums over inputs are split by output (token, neuron, column),
 * or over a fixed partition of the inputs (the segments of tile_rows) whose shares are
 * added in a fixed order. So the bits are the same at any thread count. FLOP counts and
 * measured times: docs/performance.md. */
#include <assert.h>
#include <cblas.h>
#include <math.h>
#include <string.h>

#include "fast_kernels.h"
#include "model.h"
#include "pool.h"

#define P(m, id) ((m)->params + (m)->info[id].offset)
#define G(m, id) ((m)->grads + (m)->info[id].offset)

enum { TILE = 128, NEURON_BLOCK = 256, TABLE_BLOCK = 128, TOKEN_TASKS = 64, SEGMENTS = 8 };

/* what gs_model_fast_rows left behind, for gs_model_fast_backward */
enum { STAGE_NONE = 0, STAGE_FORWARD = 1, STAGE_ROWS_BACKWARD = 2 };

typedef struct {
    /* forward tables */
    float *e, *e2b, *K, *Vt, *q, *S, *OWin, *OU, *Vtd, *VOWd, *VOUd, *c_pre, *c_log;
    float *WoU, *WoUT;        /* [M, Vp], [V, Mp]: W_out W_U and its transpose, rows padded */
    /* transposed copies for the backward's products (rows padded to 16): OWin[h]^T,
     * OU[h]^T [M or V, Ep]; W_in^T, W_U^T [M or V, Dp]; W_K[h]^T, W_V[h]^T [E, Dp] */
    float *OWinT, *OUT, *W_inT, *W_UT, *W_KT, *W_VT;
    double *Sexp;             /* [R, H] exp(S - max over r of S[., h]) */
    /* backward tables */
    float *gM, *gV;           /* [R, H, M], [R, H, V]: per-token sums of alpha * dpre, dlogits */
    float *dS, *dc_pre, *dc_log, *de2, *dOWin, *dOU, *dVt, *dK, *dq, *de_h;
    float *dWoUT;             /* [V, M] d(loss)/d(WoU), transposed */
    float *dWoUT_part;        /* [SEGMENTS, V, M] each segment's share (GS_ROWS_TRAIN) */
    float *part;              /* [p] per-token shares of the "=" rows (see token_a) */
    /* per input (p*p of them at most) */
    float *dscore;            /* [n, H, 3] d(loss)/d(score) */
    double *loss;             /* [n] */
    int *ok;                  /* [n] */
    int *by_a, *by_b;         /* [n] slots ordered by token a, by token b */
    int *start_a, *start_b;   /* [p + 1] */
    int *order;               /* [n] the input in each slot (see gs_model_fast_rows) */
    int32_t *slot_idx;        /* [n] the pair index of the input in each slot */
    int *order_eval;          /* the same for GS_ROWS_EVAL, which keeps the others */
    int32_t *slot_idx_eval;
    int *key_count;           /* [SEGMENTS * p + 1] */
    int *seg_start;           /* [SEGMENTS + 1] first slot of each segment */
    float *scratch0;          /* thread 0's scratch */
} tables;

typedef struct {
    float *post, *logits, *dlogits, *alpha, *w;
    double *exps;
    const float **rows;
} scratch;

/* Carving: regions of the given sizes (in floats), each 64-byte aligned relative to
 * the base; pointers are set by typed assignments. */
static size_t round16(size_t n)
{
    return (n + 15) & ~(size_t)15;
}

static size_t layout(size_t *offset, const size_t *sizes, size_t n)
{
    size_t at = 0;
    for (size_t i = 0; i < n; i++) {
        offset[i] = at;
        at += round16(sizes[i]);
    }
    return at;
}

static size_t scratch_floats(const gs_dims *d, float *base, scratch *s)
{
    const size_t p = (size_t)d->p, H = (size_t)d->n_heads;
    const size_t sizes[] = {(size_t)TILE * d->d_mlp, (size_t)TILE * d->n_out, (size_t)TILE * d->n_out,
                            (size_t)TILE * H * 3, p * (2 * H + 1), 2 * (size_t)d->n_out,
                            (p > 6 * H ? p : 6 * H) * sizeof(void *) / sizeof(float)};
    size_t o[sizeof sizes / sizeof *sizes];
    const size_t total = layout(o, sizes, sizeof sizes / sizeof *sizes);
    if (base) {
        s->post = base + o[0];
        s->logits = base + o[1];
        s->dlogits = base + o[2];
        s->alpha = base + o[3];
        s->w = base + o[4];
        s->exps = (double *)(void *)(base + o[5]);
        s->rows = (const float **)(void *)(base + o[6]);
    }
    return total;
}

size_t gs_model_fast_scratch_size(const gs_dims *d)
{
    scratch s;
    return scratch_floats(d, NULL, &s) * sizeof(float);
}

static size_t carve(const gs_dims *d, float *base, tables *t)
{
    const size_t p = (size_t)d->p, R = 2 * p + 1, D = (size_t)d->d_model, H = (size_t)d->n_heads,
                 E = (size_t)d->d_head, M = (size_t)d->d_mlp, V = (size_t)d->n_out, P2 = p * p;
    const size_t part = (H + 1) * M + (H + 1) * V + H;
    scratch s;
    float **fviews[] = {&t->e, &t->e2b, &t->K, &t->Vt, &t->q, &t->S, &t->OWin, &t->OU, &t->Vtd,
                        &t->VOWd, &t->VOUd, &t->WoU, &t->WoUT, &t->OWinT, &t->OUT, &t->W_inT,
                        &t->W_UT, &t->W_KT, &t->W_VT, &t->c_pre, &t->c_log,
                        &t->gM, &t->gV, &t->dS, &t->dWoUT, &t->dWoUT_part, &t->dc_pre, &t->dc_log, &t->de2,
                        &t->dOWin, &t->dOU, &t->dVt, &t->dK, &t->dq, &t->de_h, &t->part,
                        &t->dscore, &t->scratch0};
    int **iviews[] = {&t->ok, &t->by_a, &t->by_b, &t->start_a, &t->start_b, &t->order,
                      &t->slot_idx, &t->order_eval, &t->slot_idx_eval, &t->key_count,
                      &t->seg_start};
    enum { NF = sizeof fviews / sizeof *fviews, NI = sizeof iviews / sizeof *iviews };
    const size_t sizes[NF + NI + 2] = {
        R * D, D, R * D, R * D, D, R * H, H * E * M, H * E * V, 2 * p * D,
        2 * p * H * M, 2 * p * H * V, M * round16(V), V * round16(M), H * M * round16(E),
        H * V * round16(E), M * round16(D), V * round16(D), H * E * round16(D), H * E * round16(D), M, V,
        R * H * M, R * H * V, R * H, M * V, SEGMENTS * M * V, M, V, D,
        H * E * M, H * E * V, R * D, R * D, D, H * R * D, p * part,
        P2 * H * 3, scratch_floats(d, NULL, &s),
        P2, P2, P2, p + 1, p + 1, P2, P2, P2, P2, SEGMENTS * p + 1, SEGMENTS + 1, /* ints */
        2 * P2, 2 * R * H};       /* doubles */
    size_t o[NF + NI + 2];
    const size_t total = layout(o, sizes, NF + NI + 2);
    if (base) {
        for (size_t i = 0; i < NF; i++)
            *fviews[i] = base + o[i];
        for (size_t i = 0; i < NI; i++)
            *iviews[i] = (int *)(void *)(base + o[NF + i]);
        t->loss = (double *)(void *)(base + o[NF + NI]);
        t->Sexp = (double *)(void *)(base + o[NF + NI + 1]);
    }
    return total + 16; /* room to align the base */
}

size_t gs_model_fast_tables_size(const gs_dims *d)
{
    tables t;
    return carve(d, NULL, &t);
}

typedef struct {
    gs_model *m;
    tables t;
    const int32_t *idx, *target;
    int n;
    gs_rows_mode mode;
    const int *order;         /* the slots of this pass (t.order, or t.order_eval) */
    const int32_t *slot_idx;
} ctx;

static void ctx_init(ctx *c, gs_model *m)
{
    memset(c, 0, sizeof *c);
    c->m = m;
    float *base = m->tab;
    while ((uintptr_t)base % 64)
        base++;
    carve(&m->d, base, &c->t);
}

static void thread_scratch(ctx *c, int thread, scratch *s)
{
    void *mem = thread == 0 ? (void *)c->t.scratch0 : gs_pool_scratch(c->m->pool, thread);
    assert(mem && (thread == 0 || gs_pool_scratch_size(c->m->pool) >= gs_model_fast_scratch_size(&c->m->d)));
    scratch_floats(&c->m->d, mem, s);
}

/* ---- task lists: products cut into blocks of rows of C, and plain functions ---- */

typedef void (*job_fn)(ctx *c, int a, int b, int thread);

typedef struct {
    job_fn fn; /* NULL: the sgemm below */
    int a, b;
    enum CBLAS_TRANSPOSE ta, tb;
    int M, N, K;
    const float *A, *B;
    int lda, ldb;
    float beta;
    float *C;
    int ldc;
} job;

typedef struct {
    ctx *c;
    job list[256];
    int n;
} jobs;

static void run_job(void *arg, int i, int thread)
{
    jobs *js = arg;
    const job *j = &js->list[i];
    if (j->fn)
        j->fn(js->c, j->a, j->b, thread);
    else
        cblas_sgemm(CblasRowMajor, j->ta, j->tb, j->M, j->N, j->K, 1.0f, j->A, j->lda, j->B,
                    j->ldb, j->beta, j->C, j->ldc);
}

static void run_jobs(jobs *js)
{
    gs_pool_run(js->c->m->pool, js->n, run_job, js);
    js->n = 0;
}

/* Jobs added between two run_jobs are independent, so a full list may run early. */
static job *new_job(jobs *js)
{
    if (js->n == (int)(sizeof js->list / sizeof *js->list))
        run_jobs(js);
    return &js->list[js->n++];
}

static void add_fn(jobs *js, job_fn fn, int a, int b)
{
    *new_job(js) = (job){.fn = fn, .a = a, .b = b};
}

/* fn(c, lo, hi) over [0, n) in pieces of at most `block` */
static void add_fn_blocks(jobs *js, job_fn fn, int n, int block)
{
    for (int i0 = 0; i0 < n; i0 += block)
        add_fn(js, fn, i0, n - i0 < block ? n : i0 + block);
}

/* C[M, N] (+)= op(A) op(B), cut into blocks of at most `block` rows of C; a block is
 * the same sums in the same order as the whole product. */
static void add_gemm(jobs *js, enum CBLAS_TRANSPOSE ta, enum CBLAS_TRANSPOSE tb, int M, int N,
                     int K, const float *A, int lda, const float *B, int ldb, float beta,
                     float *C, int ldc, int block)
{
    for (int i0 = 0; i0 < M; i0 += block)
        *new_job(js) = (job){.ta = ta, .tb = tb, .M = M - i0 < block ? M - i0 : block, .N = N, .K = K,
                             .A = ta == CblasNoTrans ? A + (size_t)i0 * lda : A + i0, .lda = lda,
                             .B = B, .ldb = ldb, .beta = beta, .C = C + (size_t)i0 * ldc, .ldc = ldc};
}

/* ---- forward tables ---- */

/* Products here and in the backward go through gs_k_gemm: B operands are rows of the
 * parameters (followed by the gradients in one allocation) or of these tables (regions
 * padded to 16 floats), so reading a row up to a multiple of 16 stays in bounds. */
static void head_tables(ctx *c, int h, int unused, int thread)
{
    (void)unused, (void)thread;
    gs_model *m = c->m;
    const tables *t = &c->t;
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

/* dst[j * ld_dst + i] = src[i * ld_src + j] for i < rows, j < cols */
static void transpose(float *dst, size_t ld_dst, const float *src, size_t ld_src, int rows, int cols)
{
    for (int i0 = 0; i0 < rows; i0 += 16)
        for (int j = 0; j < cols; j++)
            for (int i = i0; i < i0 + 16 && i < rows; i++)
                dst[(size_t)j * ld_dst + i] = src[(size_t)i * ld_src + j];
}

/* job j: the transposed copies (one per head of OWin, OU, W_K, W_V; then W_in, W_U) */
static void transposes_task(ctx *c, int j, int unused, int thread)
{
    (void)unused, (void)thread;
    gs_model *m = c->m;
    const tables *t = &c->t;
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

/* rows r0..r1 (< 2p) of VOWd and VOUd, all heads */
static void vo_rows_task(ctx *c, int r0, int r1, int thread)
{
    (void)thread;
    gs_model *m = c->m;
    const tables *t = &c->t;
    const int D = m->d.d_model, H = m->d.n_heads, E = m->d.d_head, M = m->d.d_mlp, V = m->d.n_out;
    for (int h = 0; h < H; h++) {
        gs_k_gemm(t->VOWd + ((size_t)r0 * H + h) * M, H * M, t->Vtd + (size_t)r0 * D + h * E, D,
                  t->OWin + (size_t)h * E * M, M, r1 - r0, M, E, 0, NULL, 0);
        gs_k_gemm(t->VOUd + ((size_t)r0 * H + h) * V, H * V, t->Vtd + (size_t)r0 * D + h * E, D,
                  t->OU + (size_t)h * E * V, V, r1 - r0, V, E, 0, NULL, 0);
    }
}

/* rows v0..v1 of WoUT = WoU^T */
static void transpose_task(ctx *c, int v0, int v1, int thread)
{
    (void)thread;
    const tables *t = &c->t;
    const int M = c->m->d.d_mlp, Vp = (int)round16(c->m->d.n_out), Mp = (int)round16(M);
    for (int v = v0; v < v1; v++)
        for (int j = 0; j < M; j++)
            t->WoUT[(size_t)v * Mp + j] = t->WoU[(size_t)j * Vp + v];
}

static void const_tables(ctx *c, int unused_a, int unused_b, int thread)
{
    (void)unused_a, (void)unused_b, (void)thread;
    gs_model *m = c->m;
    const tables *t = &c->t;
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
    ctx c;
    ctx_init(&c, m);
    tables *t = &c.t;
    const float *W_E = P(m, GS_W_E), *W_pos = P(m, GS_W_POS), *b_out = P(m, GS_B_OUT);
    for (int r = 0; r < R; r++) {
        const int tok = r < p ? r : r < 2 * p ? r - p : p, pos = r < p ? 0 : r < 2 * p ? 1 : 2;
        for (int k = 0; k < D; k++)
            t->e[(size_t)r * D + k] = W_E[(size_t)tok * D + k] + W_pos[pos * D + k];
    }
    for (int k = 0; k < D; k++)
        t->e2b[k] = t->e[(size_t)2 * p * D + k] + b_out[k];
    jobs js = {.c = &c};
    for (int h = 0; h < H; h++)
        add_fn(&js, head_tables, h, 0);
    add_gemm(&js, CblasNoTrans, CblasNoTrans, M, V, D, P(m, GS_W_OUT), D, P(m, GS_W_U), V, 0.0f,
             t->WoU, (int)round16(V), 2 * TABLE_BLOCK);
    run_jobs(&js);
    add_fn_blocks(&js, vo_rows_task, 2 * p, 64);
    add_fn_blocks(&js, transpose_task, V, 32);
    add_fn(&js, const_tables, 0, 0);
    run_jobs(&js);
    m->fast_stage = STAGE_NONE;
}

/* ---- per input: forward, and the per-input half of the backward ---- */

/* alpha [n, H, 3] for inputs idx[0..n), from the per-token exp(S - max_h S) of the
 * tables (in double: the same softmax, with a shift common to all inputs instead of each
 * input's own); should the three underflow together, the input's own shift is used. */
static void attention_rows(float *alpha, const tables *t, const int32_t *idx, int n, const gs_dims *d)
{
    const int p = d->p, H = d->n_heads;
    const double *e2 = t->Sexp + (size_t)2 * p * H;
    for (int i = 0; i < n; i++) {
        const double *ea = t->Sexp + (size_t)(idx[i] / p) * H, *eb = t->Sexp + (size_t)(p + idx[i] % p) * H;
        float *al = alpha + (size_t)i * H * 3;
        for (int h = 0; h < H; h++) {
            const double sum = ea[h] + eb[h] + e2[h];
            if (sum > 0.0 && sum < INFINITY) {
                const double inv = 1.0 / sum;
                al[3 * h] = (float)(ea[h] * inv);
                al[3 * h + 1] = (float)(eb[h] * inv);
                al[3 * h + 2] = (float)(e2[h] * inv);
                continue;
            }
            const size_t r[3] = {(size_t)(idx[i] / p), (size_t)(p + idx[i] % p), (size_t)2 * p};
            double sc[3], mx = -INFINITY, s = 0.0;
            for (int j = 0; j < 3; j++) {
                sc[j] = t->S[r[j] * H + h];
                mx = sc[j] > mx ? sc[j] : mx;
            }
            for (int j = 0; j < 3; j++)
                s += (sc[j] = exp(sc[j] - mx));
            for (int j = 0; j < 3; j++)
                al[3 * h + j] = (float)(sc[j] / s);
        }
    }
}

/* the table rows (a and b of each head, in the order the sums run) of input i, and
 * their weights alpha_h0, alpha_h1 */
static void table_rows(const float **rows, float *w, const float *table, int width, int32_t i,
                       const float *al, const gs_dims *d)
{
    const int p = d->p, H = d->n_heads;
    const size_t ra = (size_t)(i / p) * H, rb = (size_t)(p + i % p) * H;
    for (int h = 0; h < H; h++) {
        rows[2 * h] = table + (ra + h) * width;
        rows[2 * h + 1] = table + (rb + h) * width;
        if (w) {
            w[2 * h] = al[3 * h];
            w[2 * h + 1] = al[3 * h + 1];
        }
    }
}

static void rows_backward(ctx *c, int t0, int t1, const float *post, scratch *s);

/* Inputs go through in slots: slot k holds input order[k]. The order splits the b
 * tokens into SEGMENTS blocks of nearly equal size and sorts by a inside a block, so a
 * tile's table rows are few and stay in cache, and all inputs of a b token lie in one
 * segment. Each row's numbers depend only on the row (the row kernels never mix rows),
 * so the tiling may differ between modes: evaluation tiles run over all slots,
 * training tiles over one segment at a time.
 *
 * GS_ROWS_TRAIN keeps what the backward needs (dlogits, dpre, alpha, dscore) by slot; a
 * segment's task also adds its tiles' post^T dlogits into its own share of dWoU and
 * sums the gradients of its b tokens, while they are in cache. GS_ROWS_FORWARD copies
 * each row back to its input's position, as gs_model_forward promises. */
static int segment_of(int b, int p)
{
    const int n_seg = p < SEGMENTS ? p : SEGMENTS;
    return (int)((long)b * n_seg / p);
}

static void tile_rows(ctx *c, int t0, int t1, scratch *s)
{
    gs_model *m = c->m;
    const tables *t = &c->t;
    const gs_dims *d = &m->d;
    const int H = d->n_heads, M = d->d_mlp, V = d->n_out, K3 = 3 * H, nt = t1 - t0;
    float *post = s->post, *logits = s->logits, *alpha = s->alpha, *dlogits = NULL;
    if (c->mode == GS_ROWS_TRAIN) {
        alpha = m->alpha + (size_t)t0 * K3;
        dlogits = m->dlogits + (size_t)t0 * V;
    } else if (c->mode == GS_ROWS_FORWARD) {
        dlogits = s->dlogits;
    }
    const int32_t *idx = c->slot_idx + t0;
    attention_rows(alpha, t, idx, nt, d);
    float w[2 * H];
    for (int i = 0; i < nt; i++) {
        table_rows(s->rows, w, t->VOWd, M, idx[i], alpha + (size_t)i * K3, d);
        gs_k_combine(post + (size_t)i * M, M, t->c_pre, s->rows, w, 2 * H, 1);
        table_rows(s->rows, NULL, t->VOUd, V, idx[i], NULL, d);
        gs_k_combine(logits + (size_t)i * V, V, t->c_log, s->rows, w, 2 * H, 0);
    }
    /* logits += post WoU: whole panels of 16 columns, and a last few columns as dot
     * products with the rows of WoU^T rather than a mostly empty panel */
    const int rem = V % 16 <= 4 ? V % 16 : 0, Mp = (int)round16(M);
    gs_k_gemm(logits, V, post, M, t->WoU, (int)round16(V), nt, V - rem, M, 1, NULL, 0);
    if (rem) {
        const float *wt[16];
        float dots[16];
        for (int j = 0; j < rem; j++)
            wt[j] = t->WoUT + (size_t)(V - rem + j) * Mp;
        for (int i = 0; i < nt; i++) {
            gs_k_dots(dots, post + (size_t)i * M, M, wt, rem);
            for (int j = 0; j < rem; j++)
                logits[(size_t)i * V + V - rem + j] += dots[j];
        }
    }
    for (int i = 0; i < nt; i++) {
        const int in = c->order[t0 + i];
        t->loss[in] = gs_k_xent_row(logits + (size_t)i * V, V, c->target[in], &t->ok[in],
                                    dlogits ? dlogits + (size_t)i * V : NULL, c->n, s->exps);
    }
    if (c->mode == GS_ROWS_TRAIN)
        rows_backward(c, t0, t1, post, s);
    if (c->mode == GS_ROWS_FORWARD)
        for (int i = 0; i < nt; i++) {
            const size_t in = (size_t)c->order[t0 + i];
            memcpy(m->post + in * M, post + (size_t)i * M, (size_t)M * sizeof(float));
            memcpy(m->logits + in * V, logits + (size_t)i * V, (size_t)V * sizeof(float));
            memcpy(m->dlogits + in * V, dlogits + (size_t)i * V, (size_t)V * sizeof(float));
            memcpy(m->alpha + in * K3, alpha + (size_t)i * K3, (size_t)K3 * sizeof(float));
        }
}

static void rows_task(void *arg, int tile, int thread)
{
    ctx *c = arg;
    scratch s;
    thread_scratch(c, thread, &s);
    const int t0 = tile * TILE;
    tile_rows(c, t0, t0 + TILE < c->n ? t0 + TILE : c->n, &s);
}

static void token_b(ctx *c, int b, scratch *s);

static void train_segment_task(void *arg, int seg, int thread)
{
    ctx *c = arg;
    gs_model *m = c->m;
    const tables *t = &c->t;
    const int p = m->d.p, M = m->d.d_mlp, V = m->d.n_out;
    const int first = t->seg_start[seg], last = t->seg_start[seg + 1];
    float *part = t->dWoUT_part + (size_t)seg * M * V;
    scratch s;
    thread_scratch(c, thread, &s);
    if (first == last)
        memset(part, 0, (size_t)M * V * sizeof(float));
    for (int t0 = first; t0 < last; t0 += TILE) {
        const int t1 = t0 + TILE < last ? t0 + TILE : last;
        tile_rows(c, t0, t1, &s);
        /* dWoU^T += dlogits^T post: 6 of V rows by 16 of M columns per block, no waste */
        gs_k_gemm_at(part, M, m->dlogits + (size_t)t0 * V, V, s.post, M, V, M, t1 - t0, t0 != first);
    }
    for (int b = 0; b < p; b++)
        if (segment_of(b, p) == seg)
            token_b(c, b, &s);
}

/* dpre = relu'(pre) * (dlogits @ WoU^T), and d(loss)/d(score) of every input's
 * attention, for slots t0..t1 (after their forward; post holds their post-activations).
 * The gradient of alpha_h2 is 0 in the relative tables; softmax's backward does not
 * change when the same constant is added to every d(alpha), so this is the reference's
 * dscore. */
static void rows_backward(ctx *c, int t0, int t1, const float *post, scratch *s)
{
    gs_model *m = c->m;
    const tables *t = &c->t;
    const gs_dims *d = &m->d;
    const int H = d->n_heads, M = d->d_mlp, V = d->n_out, K3 = 3 * H;
    gs_k_gemm(m->dpost + (size_t)t0 * M, M, m->dlogits + (size_t)t0 * V, V, t->WoUT, (int)round16(M),
              t1 - t0, M, V, 0, post, M);
    float dal_pre[2 * H], dal_log[2 * H];
    for (int i = t0; i < t1; i++) {
        float *dp = m->dpost + (size_t)i * M;
        const float *al = m->alpha + (size_t)i * K3;
        table_rows(s->rows, NULL, t->VOWd, M, t->slot_idx[i], NULL, d);
        gs_k_dots(dal_pre, dp, M, s->rows, 2 * H);
        table_rows(s->rows, NULL, t->VOUd, V, t->slot_idx[i], NULL, d);
        gs_k_dots(dal_log, m->dlogits + (size_t)i * V, V, s->rows, 2 * H);
        float *ds = t->dscore + (size_t)i * K3;
        for (int h = 0; h < H; h++) {
            const float dal[3] = {dal_pre[2 * h] + dal_log[2 * h], dal_pre[2 * h + 1] + dal_log[2 * h + 1], 0.0f};
            float dot = 0.0f;
            for (int j = 0; j < 3; j++)
                dot += al[h * 3 + j] * dal[j];
            for (int j = 0; j < 3; j++)
                ds[h * 3 + j] = al[h * 3 + j] * (dal[j] - dot);
        }
    }
}

static void rows_backward_task(void *arg, int tile, int thread)
{
    ctx *c = arg;
    scratch s;
    thread_scratch(c, thread, &s);
    const int t0 = tile * TILE;
    rows_backward(c, t0, t0 + TILE < c->n ? t0 + TILE : c->n, c->m->post + (size_t)t0 * c->m->d.d_mlp, &s);
}

/* slots in the order described at tile_rows (a stable counting sort); seg_start gets
 * the first slot of each segment */
static void order_inputs(int *order, int32_t *slot_idx, int *count, int *seg_start,
                         const int32_t *idx, int n, int p)
{
    const int n_seg = p < SEGMENTS ? p : SEGMENTS, n_keys = n_seg * p;
    memset(count, 0, (size_t)(n_keys + 1) * sizeof *count);
    for (int i = 0; i < n; i++)
        count[segment_of(idx[i] % p, p) * p + idx[i] / p + 1]++;
    for (int k = 0; k < n_keys; k++)
        count[k + 1] += count[k];
    for (int g = 0; g <= SEGMENTS; g++)
        seg_start[g] = g < n_seg ? count[g * p] : n;
    for (int i = 0; i < n; i++)
        order[count[segment_of(idx[i] % p, p) * p + idx[i] / p]++] = i;
    for (int k = 0; k < n; k++)
        slot_idx[k] = idx[order[k]];
}

static void group_by_token(tables *t, const int32_t *idx, int n, int p);

gs_eval gs_model_fast_rows(gs_model *m, const int32_t *idx, const int32_t *target, int n,
                           gs_rows_mode mode)
{
    assert(n >= 1 && n <= m->max_batch && n <= m->d.p * m->d.p);
    ctx c;
    ctx_init(&c, m);
    c.idx = idx;
    c.target = target;
    c.n = n;
    c.mode = mode;
    int *order = mode == GS_ROWS_EVAL ? c.t.order_eval : c.t.order;
    int32_t *slot_idx = mode == GS_ROWS_EVAL ? c.t.slot_idx_eval : c.t.slot_idx;
    int seg_eval[SEGMENTS + 1];
    order_inputs(order, slot_idx, c.t.key_count, mode == GS_ROWS_EVAL ? seg_eval : c.t.seg_start,
                 idx, n, m->d.p);
    c.order = order;
    c.slot_idx = slot_idx;
    if (mode == GS_ROWS_TRAIN) {
        group_by_token(&c.t, slot_idx, n, m->d.p);
        gs_pool_run(m->pool, SEGMENTS, train_segment_task, &c);
    } else {
        gs_pool_run(m->pool, (n + TILE - 1) / TILE, rows_task, &c);
    }
    gs_eval ev = {0.0, 0, n};
    for (int i = 0; i < n; i++) {
        ev.loss_sum += c.t.loss[i];
        ev.n_correct += c.t.ok[i];
    }
    if (mode == GS_ROWS_FORWARD) {
        /* the activations are by input again: slot i holds input i */
        for (int i = 0; i < n; i++)
            c.t.slot_idx[i] = idx[i];
        m->fast_stage = STAGE_FORWARD;
    } else if (mode == GS_ROWS_TRAIN) {
        m->fast_stage = STAGE_ROWS_BACKWARD;
    }
    return ev;
}

gs_eval gs_model_fast_forward(gs_model *m, const int32_t *idx, const int32_t *target, int n)
{
    gs_model_fast_prepare(m);
    return gs_model_fast_rows(m, idx, target, n, GS_ROWS_FORWARD);
}

/* ---- backward: per-input gradients summed by token, then the tables ---- */

static size_t part_size(const gs_dims *d)
{
    return (size_t)(d->n_heads + 1) * d->d_mlp + (size_t)(d->n_heads + 1) * d->n_out + d->n_heads;
}

/* Token a's rows of gM, gV (sums of alpha_h0 dpre, alpha_h0 dlogits over the inputs
 * with that a) and dS. The same pass collects this token's share of the "=" rows
 * (alpha_h2-weighted) and of dc_pre, dc_log (weight 1), so that those sums over all
 * inputs are split by token and added in token order afterwards (equals_task). */
static void token_a(ctx *c, int a, scratch *s)
{
    gs_model *m = c->m;
    tables *t = &c->t;
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

static void token_b(ctx *c, int b, scratch *s)
{
    gs_model *m = c->m;
    tables *t = &c->t;
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
static void prefetch_rows(const ctx *c, const int *by, const int *start, int tok)
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

static void token_a_task(ctx *c, int a0, int a1, int thread)
{
    scratch s;
    thread_scratch(c, thread, &s);
    prefetch_rows(c, c->t.by_a, c->t.start_a, a0);
    for (int a = a0; a < a1; a++) {
        if (a + 1 < a1)
            prefetch_rows(c, c->t.by_a, c->t.start_a, a + 1);
        token_a(c, a, &s);
    }
}

static void token_b_task(ctx *c, int b0, int b1, int thread)
{
    scratch s;
    thread_scratch(c, thread, &s);
    prefetch_rows(c, c->t.by_b, c->t.start_b, b0);
    for (int b = b0; b < b1; b++) {
        if (b + 1 < b1)
            prefetch_rows(c, c->t.by_b, c->t.start_b, b + 1);
        token_b(c, b, &s);
    }
}

/* The "=" rows and the constants: the per-token shares added in token order. Job
 * j < H sums the "=" row of head j of gM, j == H the dc_pre, j == H + 1 everything of
 * width V and the scores. */
static void equals_task(ctx *c, int j, int unused, int thread)
{
    (void)unused, (void)thread;
    gs_model *m = c->m;
    tables *t = &c->t;
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
static void head_backward_task(ctx *c, int h, int unused, int thread)
{
    (void)unused, (void)thread;
    gs_model *m = c->m;
    tables *t = &c->t;
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
static void w_in_task(ctx *c, int j0, int j1, int thread)
{
    (void)thread;
    gs_model *m = c->m;
    const tables *t = &c->t;
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
static void w_u_out_task(ctx *c, int unused_a, int unused_b, int thread)
{
    (void)unused_a, (void)unused_b, (void)thread;
    gs_model *m = c->m;
    const tables *t = &c->t;
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
static void w_u_heads_task(ctx *c, int unused_a, int unused_b, int thread)
{
    (void)unused_a, (void)unused_b, (void)thread;
    gs_model *m = c->m;
    const gs_dims *d = &m->d;
    const int D = d->d_model, V = d->n_out, HE = d->n_heads * d->d_head;
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, D, V, HE, 1.0f, P(m, GS_W_O), D, c->t.dOU, V,
                1.0f, G(m, GS_W_U), V);
}

/* e[r] = W_E[tok] + W_pos[pos]: the heads' shares de_h (and de2) added in head order.
 * Job 0 does W_E's rows of a and b tokens, job 1 the "=" token and W_pos. */
static void embed_task(ctx *c, int job, int unused, int thread)
{
    (void)unused, (void)thread;
    gs_model *m = c->m;
    const tables *t = &c->t;
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
static void bias_task(ctx *c, int unused_a, int unused_b, int thread)
{
    (void)unused_a, (void)unused_b, (void)thread;
    gs_model *m = c->m;
    const tables *t = &c->t;
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
static void dwou_sum_task(ctx *c, int v0, int v1, int thread)
{
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
static void group_by_token(tables *t, const int32_t *idx, int n, int p)
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
    ctx c;
    ctx_init(&c, m);
    c.n = n;
    tables *t = &c.t;
    if (m->fast_stage == STAGE_FORWARD) {
        gs_pool_run(m->pool, (n + TILE - 1) / TILE, rows_backward_task, &c);
        group_by_token(t, t->slot_idx, n, p);
    }
    jobs js = {.c = &c};
    /* 1. sums over the inputs: dWoU = post^T dlogits by blocks of neurons; the tables'
     * gradients by token */
    if (m->fast_stage == STAGE_FORWARD)
        add_gemm(&js, CblasTrans, CblasNoTrans, V, M, n, m->dlogits, V, m->post, M, 0.0f, t->dWoUT, M,
                 NEURON_BLOCK);
    else
        add_fn_blocks(&js, dwou_sum_task, V, 16);
    const int per_task = (p + TOKEN_TASKS - 1) / TOKEN_TASKS;
    add_fn_blocks(&js, token_a_task, p, per_task);
    if (m->fast_stage == STAGE_FORWARD) /* else done by the segments */
        add_fn_blocks(&js, token_b_task, p, per_task);
    for (int j = 0; j < H + 2; j++) /* transposed copies for the heads' products */
        add_fn(&js, transposes_task, j, 0);
    run_jobs(&js);
    for (int j = 0; j < H + 2; j++)
        add_fn(&js, equals_task, j, 0);
    run_jobs(&js);
    /* 2. per head: OWin, OU, values, scores, keys, query; WoU = W_out W_U; biases */
    for (int h = 0; h < H; h++)
        add_fn(&js, head_backward_task, h, 0);
    add_gemm(&js, CblasTrans, CblasTrans, M, D, V, t->dWoUT, M, P(m, GS_W_U), V, 1.0f, G(m, GS_W_OUT),
             D, 2 * TABLE_BLOCK);
    add_fn(&js, w_u_out_task, 0, 0);
    add_fn(&js, bias_task, 0, 0);
    run_jobs(&js);
    /* 3. W_in and W_U, all heads at once; e[r] = W_E[tok] + W_pos[pos] */
    add_fn_blocks(&js, w_in_task, M, TABLE_BLOCK);
    add_fn(&js, w_u_heads_task, 0, 0);
    add_fn(&js, embed_task, 0, 0);
    add_fn(&js, embed_task, 1, 0);
    run_jobs(&js);
}
