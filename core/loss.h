/* gs_loss: the loss of one row of logits and its gradient (dlogits), the one home of
 * every loss both computation paths use (docs/interventions.md):
 *
 *   ce         -log softmax(z)_y                           (the paper's)
 *   stablemax  -log s(z_y) / sum_j s(z_j),  s(x) = x + 1 for x >= 0, 1/(1 - x + 1e-30)
 *              for x < 0 (Prieto et al., utils.py)
 *   mse        (1/V) sum_j (z_j - [j = y])^2 on the one-hot target (torch's MSELoss,
 *              mean over the V outputs; Omnigrok)
 *
 * in float64 (the paper's, from float32 logits) or in float32 (reproducing the float32
 * loss of other codes). With an output scale A the loss sees z = A * logits, and the
 * gradient is A * dL/dz. The batch loss is the mean of the rows: grad is divided by the
 * batch size n. The default (ce, float64, A = 1) is exactly the kernels of before:
 * gs_k_xent_row on the fast path, gs_cross_entropy_row and its float64 backward on the
 * reference path.
 *
 * Each row also says whether its softmax has collapsed: sum_{j != argmax} exp(z_j -
 * max z) <= 2^-24, i.e. the sum of exp(z - max z), rounded once to float32, is exactly
 * 1 (computed in float64; for the default loss straight from the row's float64 loss). */
#ifndef GS_LOSS_H
#define GS_LOSS_H

#include <stdint.h>

#include "config.h"

typedef struct {
    int kind;     /* gs_loss_kind */
    int single;   /* 1: float32 */
    int scaled;   /* 1: logits times scale */
    float scale;
} gs_loss; /* all zero: the paper's float64 cross-entropy */

gs_loss gs_loss_of(const gs_config *cfg);

/* Flags of a row. */
#define GS_ROW_CORRECT 1   /* argmax (first maximum) of the logits is the target */
#define GS_ROW_COLLAPSED 2 /* its softmax has collapsed (above) */

/* The fast path's row: returns the row's loss, sets *flags; with grad non-NULL writes
 * dlogits / n_batch. scratch: V doubles. */
double gs_loss_row(const gs_loss *L, const float *logits, int V, int target, int *flags,
                   float *grad, int n_batch, double *scratch);

/* The reference path's: the loss and flags (forward), and the gradient alone
 * (backward, from the same logits). */
double gs_loss_row_ref(const gs_loss *L, const float *logits, int V, int target, int *flags);
void gs_loss_grad_ref(const gs_loss *L, const float *logits, int V, int target, float *grad,
                      int n_batch);

/* The collapse test on its own (z as given, no scale). */
int gs_softmax_collapsed(const float *z, int V);

#endif
