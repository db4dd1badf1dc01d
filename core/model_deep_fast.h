/* The transformer of several blocks, fast path (model_deep_fast.c: the tables and the
 * forward; model_deep_fast_backward.c): the reference path's model
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
 * one position, or of positions 1 and 2, are one contiguous matrix. Row 0 of k and v
 * holds copies of the chain's keys and values (the first block's values enter through
 * its tables instead), so attention reads three rows as in the reference path. Both
 * passes run on the pool in blocks whose size depends on n (or p) only; sums over
 * inputs are split by output or gathered per token in input order, so the bits do not
 * depend on the thread count. */
#ifndef GS_MODEL_DEEP_FAST_H
#define GS_MODEL_DEEP_FAST_H

#include "model.h"

#include <stddef.h>

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
} gs_deep_tab;

typedef struct {
    gs_model *m;
    gs_deep_tab t;
    const int32_t *idx, *target;
    int n, block;
    int l, qlo;     /* backward: the block, its first query position */
    float *dX, *dXn; /* backward: gradient at block l's output, and at its input */
} gs_deep_ctx;

/* the tables' views of m->tab */
void gs_deep_tab_views(const gs_model *m, gs_deep_tab *t);
/* Inputs per pool task: larger blocks than the reference path's (the products of one
 * block are then larger and run nearer sgemm's rate), at most GS_MLP_MAX_PARTS of
 * them; a function of n only. */
int gs_deep_fast_row_block(int n);

static inline size_t gs_deep_row(int n, int t, int i) { return (size_t)t * n + i; }
static inline int gs_deep_imin(int a, int b) { return a < b ? a : b; }

/* The first query position of block l: 2 in the last block (fact 1), else 1 (position
 * 0 is the chain's). */
static inline int gs_deep_first_query(const gs_dims *d, int l) { return l == d->n_layers - 1 ? 2 : 1; }

#endif
