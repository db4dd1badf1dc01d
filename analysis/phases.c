#include "phases.h"

#include <math.h>

void gs_phases_find(const gs_metrics_row *rows, long n, gs_analysis_phases *out)
{
    out->memorization_end = out->circuit_end = out->cleanup_end = -1;
    long fit = -1, clean = -1;
    for (long i = 0; i < n && fit < 0; i++)
        if (rows[i].train_acc >= GS_PHASE_ACC)
            fit = i;
    if (fit < 0)
        return;
    for (long i = fit; i < n && clean < 0; i++)
        if (rows[i].test_acc >= GS_PHASE_ACC)
            clean = i;
    /* memorization lasts while the test loss still rises: up to its peak */
    const long last = clean >= 0 ? clean : n - 1;
    long peak = fit;
    for (long i = fit; i <= last; i++)
        if (rows[i].test_loss > rows[peak].test_loss)
            peak = i;
    out->memorization_end = rows[peak].epoch;
    if (clean < 0)
        return;
    out->cleanup_end = rows[clean].epoch;
    const double lo = log(rows[clean].test_loss), hi = log(rows[peak].test_loss);
    const double level = hi - GS_PHASE_DROP * (hi - lo);
    for (long i = peak; i <= clean; i++)
        if (log(rows[i].test_loss) <= level) {
            out->circuit_end = rows[i].epoch;
            break;
        }
}
