#include "phases.h"

#include <math.h>
#include <stdlib.h>

const char *const gs_phases_level_names[GS_N_LEVELS] = {"test loss", "weight norm", "Gini W_E",
                                                        "Gini W_L"};

long gs_phases_first_acc(const gs_metrics_row *rows, long n, int test)
{
    for (long i = 0; i < n; i++)
        if ((test ? rows[i].test_acc : rows[i].train_acc) >= GS_PHASE_ACC)
            return rows[i].epoch;
    return -1;
}

/* ---- per-epoch: memorization and circuit formation ---- */

static int metrics_finite(const gs_metrics_row *r)
{
    return isfinite(r->train_loss) && isfinite(r->test_loss) && isfinite(r->train_acc) &&
           isfinite(r->test_acc);
}

/* The log of a loss; a loss of 0 (never seen) counts as the smallest double. */
static double log_loss(double loss) { return log(fmax(loss, 1e-300)); }

static long index_of(const gs_metrics_row *rows, long n, long epoch)
{
    for (long i = 0; i < n; i++)
        if (rows[i].epoch == epoch)
            return i;
    return -1;
}

/* ---- per-checkpoint: cleanup ---- */

static double measure(const gs_analysis_row *r, int k)
{
    switch (k) {
    case GS_LEVEL_TEST_LOSS: return log_loss(r->test_loss);
    case GS_LEVEL_WEIGHT_NORM: return r->weight_norm;
    case GS_LEVEL_GINI_EMBED: return r->gini_embed;
    default: return r->gini_neuron_logit;
    }
}

/* Measure k at checkpoint i, smoothed: the median of the checkpoints within
 * GS_PHASE_SMOOTH of i (fewer at the ends; the mean of the middle two when even). */
static double smoothed(const gs_analysis_row *ck, long m, long i, int k)
{
    double w[2 * GS_PHASE_SMOOTH + 1];
    int n = 0;
    for (long j = i - GS_PHASE_SMOOTH; j <= i + GS_PHASE_SMOOTH; j++) {
        if (j < 0 || j >= m)
            continue;
        double v = measure(&ck[j], k);
        int at = n++;
        for (; at > 0 && w[at - 1] > v; at--)
            w[at] = w[at - 1];
        w[at] = v;
    }
    return n % 2 ? w[n / 2] : 0.5 * (w[n / 2 - 1] + w[n / 2]);
}

static int cmp_double(const void *a, const void *b)
{
    const double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The epoch at which measure k levelled off after checkpoint s, or -1 if it had not
 * by the last checkpoint (m - 1). scratch: m - s doubles. */
static long levelled(const gs_analysis_row *ck, long m, long s, int k, double *scratch)
{
    const long min_tail = 2 * GS_PHASE_SMOOTH + 1;
    if (m - 1 - s < min_tail)
        return -1;
    double lo = INFINITY, hi = -INFINITY;
    for (long i = 0; i < m; i++) {
        double v = smoothed(ck, m, i, k);
        lo = fmin(lo, v);
        hi = fmax(hi, v);
    }
    /* Its noise: the median distance of the raw values in cleanup from the smoothed. */
    long n_dev = 0;
    for (long i = s; i < m; i++)
        scratch[n_dev++] = fabs(measure(&ck[i], k) - smoothed(ck, m, i, k));
    qsort(scratch, (size_t)n_dev, sizeof *scratch, cmp_double);
    const double noise = scratch[n_dev / 2];
    /* Where it ends: the median of the last 2 * GS_PHASE_SMOOTH + 1 checkpoints. */
    const double start = smoothed(ck, m, s, k), end = smoothed(ck, m, m - 1 - GS_PHASE_SMOOTH, k);
    const double change = end - start;
    if (fabs(change) <= fmax(GS_PHASE_FLAT * (hi - lo), GS_PHASE_NOISE * noise))
        return ck[s].epoch; /* it does not move in cleanup, so it does not hold it up */
    const double level = start + GS_PHASE_SHARE * change;
    long at = s;
    while (at < m - 1 && (smoothed(ck, m, at, k) - level) * change < 0)
        at++;
    const double move = (double)(ck[at].epoch - ck[s].epoch);
    const double tail = (double)(ck[m - 1].epoch - ck[at].epoch);
    if (m - 1 - at < min_tail || tail < GS_PHASE_TAIL * move)
        return -1; /* still moving when the data end */
    return ck[at].epoch;
}

/* A measure that has no meaning for the model (the MLP has no neuron-logit map W_L, the
 * one-hot MLP no embedding either) is NaN from the first checkpoint on; it takes no part
 * in cleanup's rule. */
static int defined(const gs_analysis_row *ck, long m, int k)
{
    return m > 0 && gs_phases_level_defined(&ck[0], k);
}

int gs_phases_level_defined(const gs_analysis_row *first, int k)
{
    return isfinite(measure(first, k));
}

static int checkpoint_finite(const gs_analysis_row *ck, long m, long i)
{
    for (int k = 0; k < GS_N_LEVELS; k++)
        if (defined(ck, m, k) && !isfinite(measure(&ck[i], k)))
            return 0;
    return 1;
}

int gs_phases_find(const gs_metrics_row *rows, long n, const gs_analysis_row *ck, long m,
                   gs_analysis_phases *out, gs_err *err)
{
    *out = (gs_analysis_phases){.memorization_end = -1, .circuit_end = -1, .cleanup_end = -1,
                                .fitted = -1, .grokked = -1, .through = 0};
    for (int k = 0; k < GS_N_LEVELS; k++)
        out->levelled[k] = -1;
    long n_ok = 0, m_ok = 0;
    while (n_ok < n && metrics_finite(&rows[n_ok]))
        n_ok++;
    if (n_ok == 0)
        return 0;
    out->through = rows[n_ok - 1].epoch;
    while (m_ok < m && checkpoint_finite(ck, m, m_ok) && ck[m_ok].epoch <= out->through)
        m_ok++;
    out->fitted = gs_phases_first_acc(rows, n_ok, 0);
    out->grokked = gs_phases_first_acc(rows, n_ok, 1);
    if (out->fitted < 0)
        return 0; /* memorization goes on */

    /* Memorization lasts while the test loss still rises once the training set is
     * fitted: to its peak before the run generalizes. (Test accuracy cannot in practice
     * reach 99% before train accuracy does; if it did, the window ends at fitted.) */
    const long fit = index_of(rows, n_ok, out->fitted);
    const long grok = out->grokked < 0 ? -1 : index_of(rows, n_ok, out->grokked);
    const long last = grok < 0 ? n_ok - 1 : grok > fit ? grok : fit;
    long peak = fit;
    for (long i = fit; i <= last; i++)
        if (rows[i].test_loss > rows[peak].test_loss)
            peak = i;
    if (grok < 0 && peak == n_ok - 1)
        return 0; /* the test loss is still rising */
    out->memorization_end = rows[peak].epoch;
    if (grok < 0)
        return 0; /* circuit formation goes on: the run has not generalized */

    /* The sharp fall has begun once log(test loss) is GS_PHASE_START of the way down
     * from the peak to where it is when the run has generalized (a depth that does not
     * depend on how long the run goes on afterwards). */
    const double top = log_loss(rows[peak].test_loss);
    const double level = top - GS_PHASE_START * (top - log_loss(rows[last].test_loss));
    long fall = peak;
    while (fall < last && log_loss(rows[fall].test_loss) > level)
        fall++;
    out->circuit_end = rows[fall].epoch;

    /* Cleanup ends when every measure of it has levelled off. */
    long s = 0;
    while (s < m_ok && ck[s].epoch < out->circuit_end)
        s++;
    if (s == m_ok)
        return 0;
    double *scratch = malloc((size_t)(m_ok - s) * sizeof *scratch);
    if (!scratch)
        return gs_err_set(err, "out of memory finding the phases");
    long end = out->circuit_end;
    for (int k = 0; k < GS_N_LEVELS; k++) {
        if (!defined(ck, m_ok, k))
            continue; /* levelled[k] stays -1 */
        out->levelled[k] = levelled(ck, m_ok, s, k, scratch);
        if (out->levelled[k] < 0 || end < 0)
            end = -1;
        else if (out->levelled[k] > end)
            end = out->levelled[k];
    }
    free(scratch);
    out->cleanup_end = end;
    return 0;
}
