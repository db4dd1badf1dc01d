/* gs_optim: the optimizer step of every run, on a flat parameter array and its
 * gradient (model-agnostic: a model hands over its parameters as one array and the
 * tensors' boundaries). docs/interventions.md has every formula.
 *
 * A step, in order (each stage only when the run asks for it):
 *   1. Grokfast filter of the gradient (grokfast.h)
 *   2. ⊥Grad: per tensor, the gradient's component along the weights removed and the
 *      rest rescaled to the gradient's norm (gs_orthograd)
 *   3. the update: AdamW (the paper's, bit for bit gs_adamw_update_simd), Adam with
 *      coupled L2 (torch.optim.Adam) or SGD with momentum (torch.optim.SGD); weight
 *      decay toward 0 or toward the initial weights (openai/grok's "to_init")
 *   4. fixed norm: all parameters rescaled together to their initial global norm
 * Elementwise stages run in slices over the pool's threads; the slices are fixed (not
 * the thread count), so the bits do not depend on the threads. */
#ifndef GS_OPTIM_H
#define GS_OPTIM_H

#include <stddef.h>

#include "adamw.h"
#include "config.h"
#include "error.h"
#include "grokfast.h"

struct gs_pool;

/* One tensor of the flat array: [offset, offset + count). */
typedef struct {
    size_t offset, count;
} gs_tensor_span;

/* The float scalars of step t: the Adam family's (gs_adamw_scalars_at), and the plain
 * learning rate, coupled weight decay, momentum and lr * wd for the other rules. */
typedef struct {
    int kind;           /* gs_optimizer */
    int to_init;        /* decay toward init rather than 0 */
    gs_adamw_scalars a; /* Adam family; a.decay is 1 - lr*wd */
    float lr, wd, momentum, lr_wd;
} gs_optim_scalars;
gs_optim_scalars gs_optim_scalars_at(const gs_config *cfg, long t);

/* The update (stage 3) of n elements: params, grads, m (Adam's first moment, or SGD's
 * momentum buffer), v (Adam's second moment; unused by SGD), init (the initial weights,
 * read only with to_init; may be NULL otherwise). Elementwise. grads is not changed. */
void gs_optim_update(float *restrict params, const float *restrict grads, float *restrict m,
                     float *restrict v, const float *restrict init, size_t n,
                     const gs_optim_scalars *s);

/* Stage 2 on one tensor: g <- (g - (w.g / (w.w + 1e-30)) w) * |g| / (|g_orth| + 1e-30),
 * the dot products and norms in double (Prieto et al.'s orthograd.py, whose dots are
 * float32). A zero tensor (w.w = 0) keeps its gradient. */
void gs_orthograd(const float *w, float *g, size_t n);

/* Sums of the gradient and weights over the whole array, in double: g.g, g.w, w.w. */
typedef struct {
    double gg, gw, ww;
} gs_grad_sums;

/* The optimizer's state beyond the moments (which the caller owns and saves). */
typedef struct {
    gs_config cfg;
    size_t n;
    float *m, *v;        /* borrowed: the moments */
    float *init;         /* owned copy of the initial weights (wd_to_init), else NULL */
    double init_norm;    /* |theta_0| (fix_norm) */
    gs_grokfast_state gf;
    const gs_tensor_span *spans; /* borrowed: the tensors (orthograd) */
    int n_spans;
} gs_optim;

/* m and v hold n floats each (zeroed by the caller for a new run); spans describe the
 * tensors and must outlive the optimizer. */
int gs_optim_init(gs_optim *o, const gs_config *cfg, size_t n, float *m, float *v,
                  const gs_tensor_span *spans, int n_spans, gs_err *err);
void gs_optim_free(gs_optim *o);

/* The initial weights theta_0 (checkpoint 0 of the run): kept for wd_to_init, their
 * norm for fix_norm. Call once, before the first step (also on resume). */
void gs_optim_set_init(gs_optim *o, const float *theta0);

/* Stages 1-4 of step t (0-based). grads is overwritten by the filtered gradient. */
void gs_optim_step(gs_optim *o, float *params, float *grads, long t, struct gs_pool *pool);

/* g.g, g.w, w.w over all n elements, summed in fixed slices (pool may be NULL). */
gs_grad_sums gs_grad_sums_of(const float *params, const float *grads, size_t n,
                             struct gs_pool *pool);

#endif
