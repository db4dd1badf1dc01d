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
 * recomputation (gs_model_evaluate_chunks) give the same bits.
 *
 * Threads: every piece of work is a task of a gs_pool whose result does not depend on
 * which thread runs it; sums over inputs are split by output (token, neuron, column),
 * or over a fixed partition of the inputs (the segments of tile_rows) whose shares are
 * added in a fixed order. So the bits are the same at any thread count. FLOP counts and
 * measured times: docs/performance.md.
 *
 * This header is private to the fast path's files, one job each:
 *   model_fast_mem.c       carving the tables' memory and the threads' scratch
 *   model_fast_tables.c    the per-token tables from the parameters (gs_model_fast_prepare)
 *   model_fast_rows.c      the inputs through the tables, and the per-input half of the
 *                          backward (gs_model_fast_rows)
 *   model_fast_backward.c  per-input gradients summed by token, then the tables'
 *                          backward into the parameters' gradients (gs_model_fast_backward) */
#ifndef GS_MODEL_FAST_H
#define GS_MODEL_FAST_H

#include <stddef.h>
#include <stdint.h>

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
} gs_fast_tables;

typedef struct {
    float *post, *logits, *dlogits, *alpha, *w;
    double *exps;
    const float **rows;
} gs_fast_scratch;

typedef struct {
    gs_model *m;
    gs_fast_tables t;
    const int32_t *idx, *target;
    int n;
    gs_rows_mode mode;
    const int *order;         /* the slots of this pass (t.order, or t.order_eval) */
    const int32_t *slot_idx;
} gs_fast_ctx;

/* n rounded up to a multiple of 16 (a padded row, or a 64-byte aligned region) */
static inline size_t round16(size_t n)
{
    return (n + 15) & ~(size_t)15;
}

/* model_fast_mem.c: the context of one call, its tables carved from m->tab; a thread's
 * scratch (thread 0's in the tables, the others' from the pool) */
void gs_fast_ctx_init(gs_fast_ctx *c, gs_model *m);
void gs_fast_thread_scratch(gs_fast_ctx *c, int thread, gs_fast_scratch *s);

/* model_fast_rows.c: pool task `tile` of the per-input backward after a
 * GS_ROWS_FORWARD pass (GS_ROWS_TRAIN does it inside the forward) */
void gs_fast_rows_backward_task(void *arg, int tile, int thread);

/* model_fast_backward.c: token b's rows of gM, gV and dS (the training segments call
 * it while their rows are in cache); the inputs grouped by token a and by token b */
void gs_fast_token_b(gs_fast_ctx *c, int b, gs_fast_scratch *s);
void gs_fast_group_by_token(gs_fast_tables *t, const int32_t *idx, int n, int p);

#endif
