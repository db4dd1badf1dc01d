#include "phases.h"

#include <math.h>

void gs_phases_find(const gs_metrics_row *rows, long n, gs_analysis_phases *out)
{
    out->memorization_end = out->circuit_end = out->cleanup_end = -1;
    long mem = -1, clean = -1;
    for (long i = 0; i < n && mem < 0; i++)
        if (rows[i].train_acc >= GS_PHASE_ACC)
            mem = i;
    if (mem < 0)
        return;
    out->memorization_end = rows[mem].epoch;
    for (long i = mem; i < n && clean < 0; i++)
        if (rows[i].test_acc >= GS_PHASE_ACC)
            clean = i;
    if (clean < 0)
        return;
    out->cleanup_end = rows[clean].epoch;
    long peak = mem;
    for (long i = mem; i <= clean; i++)
        if (rows[i].test_loss > rows[peak].test_loss)
            peak = i;
    const double lo = log(rows[clean].test_loss), hi = log(rows[peak].test_loss);
    const double level = hi - GS_PHASE_DROP * (hi - lo);
    for (long i = peak; i <= clean; i++)
        if (log(rows[i].test_loss) <= level) {
            out->circuit_end = rows[i].epoch;
            break;
        }
}
