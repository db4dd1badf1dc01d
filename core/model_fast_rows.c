/* The fast path per input: inputs through the tables in tiles (forward), and the
 * per-input half of the backward (gs_model_fast_rows). */
#include <assert.h>
#include <math.h>
#include <string.h>

#include "fast_kernels.h"
#include "model_fast.h"

/* alpha [n, H, 3] for inputs idx[0..n), from the per-token exp(S - max_h S) of the
 * tables (in double: the same softmax, with a shift common to all inputs instead of each
 * input's own); should the three underflow together, the input's own shift is used. */
static void attention_rows(float *alpha, const gs_fast_tables *t, const int32_t *idx, int n, const gs_dims *d)
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

static void rows_backward(gs_fast_ctx *c, int t0, int t1, const float *post, gs_fast_scratch *s);

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

static void tile_rows(gs_fast_ctx *c, int t0, int t1, gs_fast_scratch *s)
{
    gs_model *m = c->m;
    const gs_fast_tables *t = &c->t;
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
        t->loss[in] = gs_loss_row(&m->loss, logits + (size_t)i * V, V, c->target[in], &t->ok[in],
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
    gs_fast_ctx *c = arg;
    gs_fast_scratch s;
    gs_fast_thread_scratch(c, thread, &s);
    const int t0 = tile * TILE;
    tile_rows(c, t0, t0 + TILE < c->n ? t0 + TILE : c->n, &s);
}


static void train_segment_task(void *arg, int seg, int thread)
{
    gs_fast_ctx *c = arg;
    gs_model *m = c->m;
    const gs_fast_tables *t = &c->t;
    const int p = m->d.p, M = m->d.d_mlp, V = m->d.n_out;
    const int first = t->seg_start[seg], last = t->seg_start[seg + 1];
    float *part = t->dWoUT_part + (size_t)seg * M * V;
    gs_fast_scratch s;
    gs_fast_thread_scratch(c, thread, &s);
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
            gs_fast_token_b(c, b, &s);
}

/* dpre = relu'(pre) * (dlogits @ WoU^T), and d(loss)/d(score) of every input's
 * attention, for slots t0..t1 (after their forward; post holds their post-activations).
 * The gradient of alpha_h2 is 0 in the relative tables; softmax's backward does not
 * change when the same constant is added to every d(alpha), so this is the reference's
 * dscore. */
static void rows_backward(gs_fast_ctx *c, int t0, int t1, const float *post, gs_fast_scratch *s)
{
    gs_model *m = c->m;
    const gs_fast_tables *t = &c->t;
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

void gs_fast_rows_backward_task(void *arg, int tile, int thread)
{
    gs_fast_ctx *c = arg;
    gs_fast_scratch s;
    gs_fast_thread_scratch(c, thread, &s);
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


gs_eval gs_model_fast_rows(gs_model *m, const int32_t *idx, const int32_t *target, int n,
                           gs_rows_mode mode)
{
    assert(n >= 1 && n <= m->max_batch && n <= m->d.p * m->d.p);
    gs_fast_ctx c;
    gs_fast_ctx_init(&c, m);
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
        gs_fast_group_by_token(&c.t, slot_idx, n, m->d.p);
        gs_pool_run(m->pool, SEGMENTS, train_segment_task, &c);
    } else {
        gs_pool_run(m->pool, (n + TILE - 1) / TILE, rows_task, &c);
    }
    gs_eval ev = {.n = n};
    for (int i = 0; i < n; i++) { /* ok: the row's GS_ROW_* flags */
        ev.loss_sum += c.t.loss[i];
        ev.n_correct += c.t.ok[i] & GS_ROW_CORRECT;
        ev.n_collapsed += (c.t.ok[i] & GS_ROW_COLLAPSED) != 0;
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
