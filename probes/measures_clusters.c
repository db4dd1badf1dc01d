/* Neuron clusters and key frequencies (docs/science.md §4), in the circuit basis (measures.h).
 *
 * For each neuron, G = F A F^T of its n x n activation grid A[i, j] over the group's
 * tokens in element order (for add the p x p grid itself; for mul on a prime p the
 * (p-1) x (p-1) grid of the pairs without 0, in discrete-log order). Without the
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
    const int n = pr->basis.n, nn = n * n;
    const int32_t *tok = pr->basis.token;
    if (!pr->have_grid)
        return gs_err_set(err, "neuron clusters: no activation grid (gs_probe_forward with want_grid first)");
    if (rule == GS_CLUSTER_THRESHOLD && !(threshold >= 0.0 && threshold <= 1.0))
        return gs_err_set(err, "neuron clusters: threshold %g is not a fraction in [0, 1]", threshold);
    if (rule != GS_CLUSTER_THRESHOLD && rule != GS_CLUSTER_BEST)
        return gs_err_set(err, "neuron clusters: unknown rule %d", (int)rule);
    memset(pr->cluster_size, 0, (size_t)(nf + 1) * sizeof(int));
    if (n == 0) { /* no basis: nothing to cluster by */
        for (int j = 0; j < M; j++) {
            pr->neuron_freq[j] = pr->best_freq[j] = -1;
            pr->frac[j] = NAN;
        }
        pr->cluster_size[0] = M;
        *out = (gs_cluster_result){.neuron_freq = pr->neuron_freq, .best_freq = pr->best_freq,
                                   .frac = pr->frac, .cluster_size = pr->cluster_size,
                                   .key_freqs = pr->key_freqs, .n_key = 0};
        return 0;
    }
    for (int nr = 0; nr < M; nr++) {
        const float *a = pr->grid + (size_t)nr * pp;
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
                pr->g_in[i * n + j] = a[tok[i] * p + tok[j]];
        double *G = pr->g_out;
        gs_fourier_grid(&pr->fourier, G, pr->g_in);
        double total = 0.0;
        for (int i = 0; i < nn; i++)
            total += G[i] * G[i];
        const double var = total - G[0] * G[0];
        int best = -1;
        double best_frac = 0.0;
        if (var > NO_VARIANCE * total) {
            for (int w = 1; w <= nf; w++) {
                const int r[2] = {gs_fourier_cos_row(w), gs_fourier_sin_row(n, w)};
                const int n_rows = r[1] < 0 ? 1 : 2;
                double e = 0.0;
                for (int x = 0; x < n_rows; x++) {
                    const double g_a = G[(size_t)r[x] * n], g_b = G[r[x]];
                    e += g_a * g_a + g_b * g_b;
                    for (int y = 0; y < n_rows; y++) {
                        const double g = G[(size_t)r[x] * n + r[y]];
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
        pr->best_freq[nr] = best;
        pr->frac[nr] = best_frac;
        pr->neuron_freq[nr] = rule == GS_CLUSTER_BEST || best_frac >= threshold ? best : -1;
        pr->cluster_size[pr->neuron_freq[nr] < 0 ? 0 : pr->neuron_freq[nr]]++;
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
