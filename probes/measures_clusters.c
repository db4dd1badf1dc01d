/* Neuron clusters and key frequencies (docs/science.md §4).
 *
 * For each neuron, G = F A F^T of its p x p activation grid A[a, b]. Without the
 * const-const term G[0,0] the variance is V = sum G^2 - G[0,0]^2 (sum of squares, by
 * Parseval the variance of A over the grid times p^2). Frequency w owns the 8 terms
 * {cos w, sin w on a} x {const}, {const} x {cos w, sin w on b} and the 4 products; for
 * the even-p Nyquist frequency, which has no sine, the 3 such terms. */
#include <math.h>
#include <string.h>

#include "measures.h"

/* Below this share of the neuron's total sum of squares, the non-constant part is FFT
 * rounding (around 1e-30 for a constant grid; a float32 grid that varies at all is
 * above 1e-18), so the neuron counts as having no variance. */
#define NO_VARIANCE 1e-24

int gs_probe_clusters(gs_probe *pr, gs_cluster_rule rule, double threshold,
                      gs_cluster_result *out, gs_err *err)
{
    const int p = pr->p, pp = pr->n_inputs, M = pr->d.d_mlp, nf = pr->fourier.n_freq;
    if (!pr->have_grid)
        return gs_err_set(err, "neuron clusters: no activation grid (gs_probe_forward with want_grid first)");
    if (rule == GS_CLUSTER_THRESHOLD && !(threshold >= 0.0 && threshold <= 1.0))
        return gs_err_set(err, "neuron clusters: threshold %g is not a fraction in [0, 1]", threshold);
    if (rule != GS_CLUSTER_THRESHOLD && rule != GS_CLUSTER_BEST)
        return gs_err_set(err, "neuron clusters: unknown rule %d", (int)rule);
    memset(pr->cluster_size, 0, (size_t)(nf + 1) * sizeof(int));
    for (int n = 0; n < M; n++) {
        const float *a = pr->grid + (size_t)n * pp;
        for (int i = 0; i < pp; i++)
            pr->g_in[i] = a[i];
        double *G = pr->g_out;
        gs_fourier_grid(&pr->fourier, G, pr->g_in);
        double total = 0.0;
        for (int i = 0; i < pp; i++)
            total += G[i] * G[i];
        const double var = total - G[0] * G[0];
        int best = -1;
        double best_frac = 0.0;
        if (var > NO_VARIANCE * total) {
            for (int w = 1; w <= nf; w++) {
                const int r[2] = {gs_fourier_cos_row(w), gs_fourier_sin_row(p, w)};
                const int nr = r[1] < 0 ? 1 : 2;
                double e = 0.0;
                for (int x = 0; x < nr; x++) {
                    const double g_a = G[(size_t)r[x] * p], g_b = G[r[x]];
                    e += g_a * g_a + g_b * g_b;
                    for (int y = 0; y < nr; y++) {
                        const double g = G[(size_t)r[x] * p + r[y]];
                        e += g * g;
                    }
                }
                const double frac = e / var;
                if (frac > best_frac) {
                    best_frac = frac;
                    best = w;
                }
            }
        }
        pr->best_freq[n] = best;
        pr->frac[n] = best_frac;
        pr->neuron_freq[n] = rule == GS_CLUSTER_BEST || best_frac >= threshold ? best : -1;
        pr->cluster_size[pr->neuron_freq[n] < 0 ? 0 : pr->neuron_freq[n]]++;
    }
    /* key frequencies: clusters of at least 1% of the neurons, i.e. 100 * size >= d_mlp
     * (for d_mlp = 512: 6 neurons or more) */
    int n_key = 0;
    for (int w = 1; w <= nf; w++)
        if (pr->cluster_size[w] > 0 && 100L * pr->cluster_size[w] >= M)
            pr->key_freqs[n_key++] = w;
    *out = (gs_cluster_result){.neuron_freq = pr->neuron_freq, .best_freq = pr->best_freq,
                               .frac = pr->frac, .cluster_size = pr->cluster_size,
                               .key_freqs = pr->key_freqs, .n_key = n_key};
    return 0;
}
