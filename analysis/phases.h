/* gs_phases: the three phases of Nanda et al. 2023 and two events, found from a run's
 * per-epoch metrics and its per-checkpoint measures (docs/analysis.md, "Phases", gives
 * the reasons; every rule below is the one place it is defined).
 *
 * Events (per epoch):
 *   fitted    the first epoch with train accuracy >= 99%;
 *   grokked   the first epoch with test accuracy >= 99%. An event, not a boundary.
 * Phases:
 *   memorization      0 .. the test loss's peak between fitted and grokked (the training
 *                     set is fitted and the test loss stops rising);
 *   circuit formation .. the first epoch after that peak where log(test loss) has fallen
 *                     GS_PHASE_START of the way from the peak to its value at grokked
 *                     (the test loss starts its sharp fall);
 *   cleanup           .. the epoch by which the memorization is gone: the latest of the
 *                     epochs at which log(test loss), the weight norm, the Gini
 *                     coefficient of W_E and that of W_L have each levelled off.
 * A measure has levelled off at the first checkpoint by which its smoothed series (a
 * running median over 2 * GS_PHASE_SMOOTH + 1 checkpoints) has made GS_PHASE_SHARE of
 * its change from the start of cleanup to the end of the data (the median of the last
 * 2 * GS_PHASE_SMOOTH + 1 checkpoints), provided it then stays
 * near that level: the data go on after that checkpoint for at least GS_PHASE_TAIL
 * times as long as the move took, and for at least 2 * GS_PHASE_SMOOTH + 1
 * checkpoints. A measure that changes during cleanup by no more than GS_PHASE_FLAT of
 * its whole-run range, or than GS_PHASE_NOISE times its noise (the median distance of
 * its raw values in cleanup from the smoothed ones), has levelled off where cleanup
 * starts: it does not move, so it does not hold cleanup up.
 *
 * A phase that has not ended by the end of the data has its end -1 (and so have the
 * later ones): the run has not fitted, has not generalized, or was cut short before
 * cleanup ended. `through` says how far the data went. */
#ifndef GS_PHASES_H
#define GS_PHASES_H

#include "runfile_analysis.h"

#define GS_PHASE_ACC 0.99
#define GS_PHASE_START 0.10
#define GS_PHASE_SHARE 0.90
#define GS_PHASE_TAIL 0.5
#define GS_PHASE_SMOOTH 2
#define GS_PHASE_FLAT 0.05
#define GS_PHASE_NOISE 5.0

/* The first epoch whose train (test = 0) or test (test = 1) accuracy is >= 99%; -1 if
 * none. `fitted` and `grokked` everywhere (info, analyze, plots) come from here. */
long gs_phases_first_acc(const gs_metrics_row *rows, long n, int test);

/* The phases from n per-epoch metrics rows (epochs 0, 1, ...) and m analysed
 * checkpoints (their epoch, test_loss, weight_norm, gini_embed, gini_neuron_logit; the
 * Fourier-norm arrays are not read). Rows after the first non-finite value are not
 * used (a diverged run). 0, or -1 with err (out of memory). */
int gs_phases_find(const gs_metrics_row *rows, long n, const gs_analysis_row *ck, long m,
                   gs_analysis_phases *out, gs_err *err);

/* 1 if cleanup measure k (GS_LEVEL_*) is defined for the run whose first analysed
 * checkpoint is `first`: a measure without meaning for the model (Gini W_L of an MLP) is
 * NaN there, takes no part in the rule, and keeps levelled[k] at -1. */
int gs_phases_level_defined(const gs_analysis_row *first, int k);

/* Names of the measures of gs_analysis_phases.levelled, for messages. */
extern const char *const gs_phases_level_names[GS_N_LEVELS];

#endif
