/* gs_adamw: AdamW with PyTorch semantics (torch.optim.AdamW, single-tensor path) and
 * the paper's linear warm-up (LambdaLR, lr_t = lr * min(t / warmup, 1)).
 *
 * The one home of the optimizer: the step's scalars are formed once
 * (gs_adamw_scalars_at), and the update exists as a plain loop (gs_adamw_update, the
 * reference) and as its vectorized twin (gs_adamw_update_simd, adamw_simd.c) with the
 * same float operations in the same order, so both give the same bits
 * (tests/test_adamw.c checks it). */
#ifndef GS_ADAMW_H
#define GS_ADAMW_H

#include <stddef.h>

#include "config.h"

/* Learning rate of optimizer step t = 0, 1, 2, ... (step 0 has lr 0), divided by
 * output_scale^2. */
double gs_adamw_lr(const gs_config *cfg, long t);

/* The float scalars of step t (0-based; bias correction uses t + 1): decay = 1 - lr*wd,
 * 1 - beta1, beta2, 1 - beta2, the step size lr / (1 - beta1^(t+1)), the square root of
 * the second bias correction, and eps. */
typedef struct {
    float decay, one_minus_b1, b2, one_minus_b2, step_size, bc2_sqrt, eps;
} gs_adamw_scalars;
gs_adamw_scalars gs_adamw_scalars_at(const gs_config *cfg, long t);

/* One update of n elements with the scalars s: decoupled weight decay theta *= decay,
 * then the Adam update. Moments m, v are updated even at lr 0, as PyTorch does.
 * Elementwise, so any slice of the parameter array may be updated on its own. */
void gs_adamw_update(float *restrict params, const float *restrict grads, float *restrict m,
                     float *restrict v, size_t n, const gs_adamw_scalars *s);

/* The same, vectorized for the machine (AVX-512, AVX or the plain loop, picked at run
 * time); the bits are gs_adamw_update's. */
void gs_adamw_update_simd(float *restrict params, const float *restrict grads, float *restrict m,
                          float *restrict v, size_t n, const gs_adamw_scalars *s);

/* Optimizer step t on n elements: gs_adamw_update with the scalars of step t. */
void gs_adamw_step(float *params, const float *grads, float *m, float *v, size_t n,
                   const gs_config *cfg, long t);

#endif
