/* gs_model: the network a run trains, forward and backward: the one-layer transformer
 * of docs/science.md §2 (its kind GS_MODEL_TRANSFORMER) or an MLP (GS_MODEL_MLP,
 * mlp.c; docs/models.md). The trainer, the run file and the probes reach every model
 * through gs_model_create, gs_model_forward/backward and gs_model_evaluate_chunks,
 * and its parameters through the table info[0 .. n_tensors).
 *
 * Parameters, gradients and activations each live in one allocation. Only the last
 * position's residual stream reaches the logits in a one-layer model, so the MLP and
 * unembedding run at the last position only; attention runs over all three positions
 * (its keys and values come from positions 0..2). This is exact, not an approximation:
 * the paper's model computes positions 0 and 1 of the MLP too, but they never touch
 * the loss. */
#ifndef GS_MODEL_H
#define GS_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "loss.h"
#include "params.h"

/* Summary of a batch: mean float64 cross-entropy over the n_out classes and the
 * number of inputs whose argmax logit is the target. */
typedef struct {
    double loss_sum; /* sum, not mean, so chunks can be added */
    long n_correct;
    long n;
    long n_collapsed; /* inputs whose softmax has collapsed (loss.h) */
} gs_eval;

/* Adds a part's summary to a total. Callers add parts in a fixed order (blocks, then
 * chunks), so a set's loss has the same bits however it was split. */
static inline void gs_eval_add(gs_eval *total, const gs_eval *part)
{
    total->loss_sum += part->loss_sum;
    total->n_correct += part->n_correct;
    total->n += part->n;
    total->n_collapsed += part->n_collapsed;
}

#define GS_MLP_MAX_PARTS 128 /* row blocks of one MLP forward */

typedef struct {
    gs_dims d;
    int n_tensors;
    gs_param_info info[GS_MAX_TENSORS];
    size_t n_params;
    float *params; /* n_params floats; grads follow in the same allocation */
    float *grads;
    int max_batch;
    float *acts; /* all activations, carved below */
    size_t n_acts;
    /* activation views, sized for max_batch (N) */
    float *x0;     /* [N, 3, D] token + position embedding */
    float *q, *k, *v; /* [N, 3, H, E] */
    float *att;    /* [N, H, 3, 3] softmax probabilities (causal; upper triangle 0) */
    float *z;      /* [N, 3, H, E] attention-weighted values */
    float *x1;     /* [N, 3, D] residual after attention */
    float *pre;    /* [N, M] MLP pre-activation, last position */
    float *post;   /* [N, M] relu(pre) */
    float *x2;     /* [N, D] residual after the MLP, last position */
    float *logits; /* [N, V_out] */
    /* backward scratch */
    float *dlogits, *dx2, *dpost, *dx1, *dz, *dq, *dk, *dv, *dx0;
    /* fast path (model_fast*.c): per-token tables, last position only. Its forward fills
     * post, logits, dlogits and alpha (row i = input i); pre, x2, xl and the reference's
     * backward buffers stay untouched (and, never written, cost no memory). */
    int fast;
    float *tab;    /* all tables, carved in model_fast_mem.c */
    size_t n_tab;
    float *alpha;  /* [N, H, 3] attention of the last position */
    float *xl;     /* [N, D] residual after attention, last position (reference only) */
    struct gs_pool *pool; /* borrowed worker threads for the fast path (scratch of at least
                           * gs_model_fast_scratch_size each); NULL = the caller only */
    int fast_stage;       /* what gs_model_fast_rows left for the backward (model_fast.h) */
    gs_loss loss;         /* the loss (loss.h); zero: the paper's float64 cross-entropy */
    /* MLP (mlp.c), sized for max_batch: its input rows (learned embeddings only; the
     * one-hot input is never formed), each hidden layer's pre- and post-activation,
     * and two backward buffers as wide as the widest layer. logits, dlogits above. */
    float *mlp_in;
    float *mlp_pre[GS_MLP_MAX_HIDDEN], *mlp_post[GS_MLP_MAX_HIDDEN];
    float *mlp_d[2];
    gs_eval mlp_parts[GS_MLP_MAX_PARTS]; /* the forward's per-block summaries (mlp.c) */
    /* the MLP on images (d.n_pixels > 0): input idx is row idx of this table of
     * d.n_pixels floats per row; borrowed (the trainer's gs_images) */
    const float *pixels;
    /* several transformer blocks (model_deep.c), every position: block l's input
     * residual blk_x[l] (blk_x[n_layers] the output), its q, k, v, attention, z, the
     * residual after attention (mid) and its MLP's pre- and post-activation */
    float *blk_x[GS_MAX_LAYERS + 1], *blk_q[GS_MAX_LAYERS], *blk_k[GS_MAX_LAYERS],
        *blk_v[GS_MAX_LAYERS], *blk_att[GS_MAX_LAYERS], *blk_z[GS_MAX_LAYERS],
        *blk_mid[GS_MAX_LAYERS], *blk_pre[GS_MAX_LAYERS], *blk_post[GS_MAX_LAYERS];
    /* several blocks on the fast path (model_deep_fast.c): the same buffers in another
     * row order, and its per-token tables in tab (n_tab floats) */
    int deep_fast;
} gs_model;

/* The forward of the models that run in row blocks (the MLP, both transformer paths of
 * several blocks): fn(ctx, lo, hi, thread) on the model's pool for the blocks of `block`
 * rows of [0, n); each block stores its summary in mlp_parts[lo / block]. Returns their
 * sum in block order, so the bits do not depend on the thread count. */
gs_eval gs_model_run_blocks(gs_model *m, void (*fn)(void *, int, int, int), void *ctx, int n, int block);

typedef enum {
    GS_PATH_REFERENCE = 0, /* every position through every layer; the oracle */
    GS_PATH_FAST = 1       /* per-token tables, last position only (model_fast.h); for
                            * several blocks model_deep_fast.c */
} gs_path;

/* Allocates parameters, gradients and activations for batches of up to max_batch
 * inputs, for one computation path. Parameters are zero: load or gs_params_init them.
 * The MLP has one path (path is ignored, m->fast is 0). */
int gs_model_create(gs_model *m, const gs_dims *d, int max_batch, gs_path path, gs_err *err);
void gs_model_free(gs_model *m);

/* Inputs are pair indices i = a*p + b (tokens a, b, "="), targets in 0..p-1.
 * Forward fills the activations (for backward) and returns the loss summary.
 * Both dispatch on the path chosen at creation. */
gs_eval gs_model_forward(gs_model *m, const int32_t *idx, const int32_t *target, int n);

/* Gradient of the mean loss over the same batch as the last forward; accumulates
 * (+=) into m->grads. */
void gs_model_backward(gs_model *m, const int32_t *idx, const int32_t *target, int n);

/* Forward over any number of inputs in chunks of max_batch (evaluation only):
 * gs_model_evaluate_chunks on fresh tables, in GS_ROWS_FORWARD mode. */
gs_eval gs_model_evaluate(gs_model *m, const int32_t *idx, const int32_t *target, int n);

/* The fast path's halves (called through the two above). Batches hold at most p*p
 * inputs (every distinct input once). Results do not depend on the pool's thread count. */
gs_eval gs_model_fast_forward(gs_model *m, const int32_t *idx, const int32_t *target, int n);
void gs_model_fast_backward(gs_model *m, const int32_t *idx, const int32_t *target, int n);
size_t gs_model_fast_tables_size(const gs_dims *d);
/* Per-thread scratch (bytes) a pool given to a fast model must provide. */
size_t gs_model_fast_scratch_size(const gs_dims *d);

/* The fast path in stages, for callers that run several batches on the same weights
 * (the trainer: test set, then training set, one set of tables). gs_model_fast_forward
 * is prepare + rows(GS_ROWS_FORWARD); every mode computes each input's logits and loss
 * with the same operations, so the summaries agree bit for bit across modes. */
typedef enum {
    GS_ROWS_EVAL = 0,    /* loss and accuracy only; leaves every activation as it was */
    GS_ROWS_FORWARD = 1, /* also fills post, logits, alpha and dlogits for a backward */
    GS_ROWS_TRAIN = 2    /* the training step: also runs the per-input half of the
                          * backward, keeping what it needs in an internal order (post
                          * and logits are not filled); gs_model_fast_backward finishes */
} gs_rows_mode;
/* Builds the per-token tables from the current parameters. */
void gs_model_fast_prepare(gs_model *m);
/* Runs n inputs (n <= max_batch) through the tables of the last prepare. */
gs_eval gs_model_fast_rows(gs_model *m, const int32_t *idx, const int32_t *target, int n,
                           gs_rows_mode mode);

/* Called after each chunk of gs_model_evaluate_chunks, while the chunk's activations
 * are in place: idx holds the chunk's n inputs. */
typedef void (*gs_chunk_fn)(void *arg, const int32_t *idx, int n);

/* The one way a set of any number of inputs is evaluated: in chunks of max_batch (the
 * last one shorter), in order, the chunks' summaries added in that order. The trainer's
 * metrics, gs_model_evaluate and the probes all go through it, so a set's loss is the
 * same bits whoever computes it. On the fast path the chunks run through the tables of
 * the last gs_model_fast_prepare in the given mode (GS_ROWS_EVAL or GS_ROWS_FORWARD);
 * on the fast path of several blocks through those of the last gs_deep_fast_prepare
 * (gs_model_prepare builds either; mode is ignored); on the reference path through
 * gs_model_forward (mode is ignored). after(arg, ...) is
 * called after each chunk; it may be NULL. */
gs_eval gs_model_evaluate_chunks(gs_model *m, const int32_t *idx, const int32_t *target, int n,
                                 gs_rows_mode mode, gs_chunk_fn after, void *arg);

/* Shared by both paths: MLP, unembedding and loss from the last position's residual
 * xl [n, D] (row stride ld); backward returns dxl in m->dx2's sibling buffer. */
gs_eval gs_model_head_forward(gs_model *m, const float *xl, int ld, const int32_t *target, int n);
/* Accumulates head gradients; writes d(loss)/d(xl) into dxl [n, D] (row stride ld). */
void gs_model_head_backward(gs_model *m, float *dxl, int ld, const float *xl, const int32_t *target, int n);

/* Per-head projections shared by both paths: out[rows, H*E] (head h in columns h*E..,
 * row stride D) = x[rows, D] @ W[h] for W of shape [H, D, E]; the backward
 * accumulates gW[h] += x^T dout_h and dx += dout_h W[h]^T. */
void gs_heads_project(float *out, const float *x, const float *W, int rows, const gs_dims *d);
void gs_heads_project_backward(float *dx, float *gW, const float *dout, const float *x,
                               const float *W, int rows, const gs_dims *d);

/* float64 cross-entropy of one row of logits against target; also argmax check. */
double gs_cross_entropy_row(const float *logits, int n_classes, int target, int *correct);

/* The one way a batch is run for its loss before a backward, on any model: the fast
 * paths' tables (gs_model_prepare builds them from the current weights; a no-op on
 * other paths) and rows in the given mode, or a plain forward. */
void gs_model_prepare(gs_model *m);
gs_eval gs_model_rows(gs_model *m, const int32_t *idx, const int32_t *target, int n,
                      gs_rows_mode mode);

/* Bytes of per-thread scratch a pool given to this model must provide. */
size_t gs_model_scratch_size(const gs_dims *d);

/* Reference-path pieces shared with model_deep.c: x0 [n, 3, D] = W_E[tok] + W_pos and
 * its backward (accumulates into the W_E and W_pos gradients); causal softmax attention
 * of each input's 3 positions (dq, dk, dv overwritten by the backward). */
void gs_embed_forward(float *x0, const int32_t *idx, int n, const gs_model *m);
void gs_embed_backward(gs_model *m, const float *dx0, const int32_t *idx, int n);
void gs_attention_forward(float *z, float *att, const float *q, const float *k,
                          const float *v, int n, const gs_dims *d);
void gs_attention_backward(float *dq, float *dk, float *dv, const float *dz,
                           const float *att, const float *q, const float *k,
                           const float *v, int n, const gs_dims *d);

/* The transformer of several blocks: the reference path (model_deep.c) and the fast
 * path (model_deep_fast.c, m->deep_fast), through gs_model_forward/backward. Activation
 * floats for max_batch inputs (both paths), carving them, the fast path's tables, and
 * the passes. Both forwards also leave the last block's MLP activations at the last
 * position in m->post [n, d_mlp] (the neurons the probes read) and the logits in
 * m->logits; the fast path's results do not depend on the pool's thread count either. */
size_t gs_deep_acts_size(const gs_dims *d, int max_batch);
void gs_deep_carve(gs_model *m);
size_t gs_deep_fast_tables_size(const gs_dims *d, int max_batch);
/* inputs per pool task of both paths: depends on n only */
int gs_deep_row_block(int n);
gs_eval gs_deep_forward(gs_model *m, const int32_t *idx, const int32_t *target, int n);
void gs_deep_backward(gs_model *m, const int32_t *idx, const int32_t *target, int n);
/* The fast path's forward is prepare (its tables, from the current parameters) + rows
 * (n inputs through the tables of the last prepare); gs_model_prepare, gs_model_rows
 * and gs_model_evaluate_chunks call the two halves, as on the one-block fast path. */
gs_eval gs_deep_fast_forward(gs_model *m, const int32_t *idx, const int32_t *target, int n);
void gs_deep_fast_prepare(gs_model *m);
gs_eval gs_deep_fast_rows(gs_model *m, const int32_t *idx, const int32_t *target, int n);
void gs_deep_fast_backward(gs_model *m, const int32_t *idx, const int32_t *target, int n);

/* The MLP (mlp.c): activation floats for max_batch inputs, carving them, and the
 * passes (called through gs_model_forward/backward). */
size_t gs_mlp_acts_size(const gs_dims *d, int max_batch);
void gs_mlp_carve(gs_model *m, float *acts);
gs_eval gs_mlp_forward(gs_model *m, const int32_t *idx, const int32_t *target, int n);
void gs_mlp_backward(gs_model *m, const int32_t *idx, const int32_t *target, int n);

#endif
