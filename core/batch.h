/* gs_batch: the minibatch sampler (docs/models.md, "Minibatches"). Stateless: the
 * batch of optimizer step t is a function of (seed, t, n_train, B) alone, so a resumed
 * run draws exactly the batches it would have drawn, with nothing saved.
 *
 * The training set is walked in passes of K = floor(n_train / B) steps; pass q =
 * t / K uses its own permutation of the training rows (Fisher-Yates driven by
 * splitmix64 seeded from (seed, q)), and step t takes rows [j*B, (j+1)*B) of it for
 * j = t mod K. The n_train mod B rows at the end of each permutation sit out that
 * pass (PyTorch's drop_last=True). */
#ifndef GS_BATCH_H
#define GS_BATCH_H

#include <stdint.h>

/* Pass q's permutation of 0..n-1 into perm[n]. */
void gs_batch_perm(int32_t *perm, int n, int64_t seed, long pass);

/* Pass and first row (into that pass's permutation) of step t. */
static inline long gs_batch_pass(long step, int n, int b) { return step / (n / b); }
static inline int gs_batch_start(long step, int n, int b) { return (int)(step % (n / b)) * b; }

#endif
