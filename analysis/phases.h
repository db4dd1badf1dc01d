/* gs_phases: the three phases of SPEC §6 found from a run's per-epoch metrics.
 *
 *   memorization ends   at the test loss's peak after train accuracy first reaches 99%
 *                       (the training set is fitted, and the test loss stops rising);
 *   cleanup ends        at the first epoch with test accuracy >= 99% (the run grokked);
 *   circuit formation ends (cleanup begins) at the first epoch after that peak where
 *                       log(test loss) has fallen 10% of the way from the peak to its
 *                       value at the end of cleanup.
 *
 * Why these: the paper's memorization phase is where train loss falls while test loss
 * rises, so it ends at the test-loss peak once the training set is fitted;
 * generalization is defined by test accuracy, which needs no tuning; the start of
 * cleanup is where the test loss begins its sharp descent, and measuring that descent
 * in log scale relative to its full depth makes the rule independent of p, of the
 * training fraction and of how low the loss finally goes.
 * Boundaries not reached are -1 (a run that never groks has only the first, or none). */
#ifndef GS_PHASES_H
#define GS_PHASES_H

#include "runfile_analysis.h"

#define GS_PHASE_ACC 0.99
#define GS_PHASE_DROP 0.10

void gs_phases_find(const gs_metrics_row *rows, long n, gs_analysis_phases *out);

#endif
