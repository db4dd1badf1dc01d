/* The outcome classes of Liu et al. 2022 (comprehension, grokking, memorization,
 * confusion), decided from when train and test accuracy first reach 99%.
 *
 * Why accuracies and not the phases of the analysis: the class must exist for every
 * point, including runs that diverged or never fit their training set, and must not
 * move when the phase rules are refined. Why a ratio: "generalizes long after fitting"
 * should not depend on p, the training fraction or the learning rate, which all
 * rescale how many epochs fitting takes. Why the end of the run too: a run that
 * generalizes and then collapses (a learning rate too high for the end of training)
 * ends with nothing; the diagram shows where runs end up. The class is relative to the
 * run's length: a point classed memorization may still grok with more epochs. */
#include <math.h>

#include "sweep_result.h"

const char *gs_sweep_status_name(gs_sweep_status s)
{
    switch (s) {
    case GS_SWEEP_PENDING: return "pending";
    case GS_SWEEP_UNFINISHED: return "unfinished";
    case GS_SWEEP_FINISHED: return "finished";
    case GS_SWEEP_STOPPED_EARLY: return "stopped-early";
    case GS_SWEEP_DIVERGED: return "diverged";
    default: return "unreadable";
    }
}

const char *gs_sweep_class_name(gs_sweep_class c)
{
    switch (c) {
    case GS_SWEEP_COMPREHENSION: return "comprehension";
    case GS_SWEEP_GROKKING: return "grokking";
    case GS_SWEEP_MEMORIZATION: return "memorization";
    case GS_SWEEP_CONFUSION: return "confusion";
    default: return "";
    }
}

void gs_sweep_first_passages(const gs_metrics_row *rows, long n, gs_sweep_passages *out)
{
    *out = (gs_sweep_passages){-1, -1, -1, -1, NAN, NAN};
    for (long i = 0; i < n; i++) {
        const gs_metrics_row *r = &rows[i];
        if (out->train_50 < 0 && r->train_acc >= GS_SWEEP_ACC_HALF)
            out->train_50 = r->epoch;
        if (out->train_99 < 0 && r->train_acc >= GS_SWEEP_ACC)
            out->train_99 = r->epoch;
        if (out->test_50 < 0 && r->test_acc >= GS_SWEEP_ACC_HALF)
            out->test_50 = r->epoch;
        if (out->test_99 < 0 && r->test_acc >= GS_SWEEP_ACC)
            out->test_99 = r->epoch;
    }
    /* the end of the run: its last tenth (at least its last row) */
    long k = (long)(GS_SWEEP_END_FRAC * (double)n);
    k = k < 1 ? 1 : k;
    if (n > 0) {
        double train = 0, test = 0;
        for (long i = n - k; i < n; i++) {
            train += rows[i].train_acc;
            test += rows[i].test_acc;
        }
        out->train_end = train / (double)k;
        out->test_end = test / (double)k;
    }
}

gs_sweep_class gs_sweep_classify(gs_sweep_status st, const gs_sweep_passages *fp)
{
    if (st != GS_SWEEP_FINISHED && st != GS_SWEEP_STOPPED_EARLY && st != GS_SWEEP_DIVERGED)
        return GS_SWEEP_NO_CLASS;
    /* a run whose optimizer blew up ends having learned nothing it can use; one that
     * fitted its training set but lost it again ends not fitting it */
    if (st == GS_SWEEP_DIVERGED || fp->train_99 < 0 || !(fp->train_end >= GS_SWEEP_KEEP))
        return GS_SWEEP_CONFUSION;
    if (fp->test_99 < 0 || !(fp->test_end >= GS_SWEEP_KEEP))
        return GS_SWEEP_MEMORIZATION;
    return (double)fp->test_99 <= GS_SWEEP_GROK_RATIO * (double)fp->train_99 ? GS_SWEEP_COMPREHENSION
                                                                              : GS_SWEEP_GROKKING;
}
