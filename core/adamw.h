/* gs_adamw: AdamW with PyTorch semantics (torch.optim.AdamW, single-tensor path) and
 * the paper's linear warm-up (LambdaLR, lr_t = lr * min(t / warmup, 1)). */
#ifndef GS_ADAMW_H
#define GS_ADAMW_H

#include <stddef.h>

#include "config.h"

/* Learning rate of optimizer step t = 0, 1, 2, ... (step 0 has lr 0). */
double gs_adamw_lr(const gs_config *cfg, long t);

/* Optimizer step t (0-based; bias correction uses t + 1): decoupled weight decay
 * theta *= 1 - lr_t*wd, then the Adam update. Moments m, v are updated even at lr 0,
 * as PyTorch does. Elementwise, so any slice of the parameter array may be stepped. */
void gs_adamw_step(float *params, const float *grads, float *m, float *v, size_t n,
                   const gs_config *cfg, long t);

#endif
