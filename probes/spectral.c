/* The spectral energy of a loss curve through FFTW's real-input transform (spectral.h). */
#include <fftw3.h>
#include <math.h>

#include "spectral.h"

int gs_loss_spectrum(const double *x, int K, double *S, double *power, gs_err *err)
{
    if (K < 2)
        return gs_err_set(err, "loss spectrum: the window needs at least 2 epochs (got %d)", K);
    double mean = 0.0;
    for (int t = 0; t < K; t++)
        mean += x[t] / K;
    if (!isfinite(mean)) {
        *S = NAN;
        return 0;
    }
    double *in = fftw_malloc((size_t)K * sizeof *in);
    fftw_complex *out = fftw_malloc(((size_t)K / 2 + 1) * sizeof *out);
    if (!in || !out) {
        fftw_free(in);
        fftw_free(out);
        return gs_err_set(err, "loss spectrum: out of memory");
    }
    /* FFTW_ESTIMATE: no timing, the same plan (and bits) on every call */
    fftw_plan plan = fftw_plan_dft_r2c_1d(K, in, out, FFTW_ESTIMATE);
    if (!plan) {
        fftw_free(in);
        fftw_free(out);
        return gs_err_set(err, "loss spectrum: FFTW cannot plan a transform of length %d", K);
    }
    for (int t = 0; t < K; t++)
        in[t] = x[t] - mean;
    fftw_execute(plan);
    double s = 0.0;
    const double k2 = (double)K * K;
    for (int k = 0; k <= K / 2; k++) {
        /* k and K-k are mirror images, except 0 and (K even) K/2 */
        const double mult = (k == 0 || 2 * k == K) ? 1.0 : 2.0;
        const double pw = mult * (out[k][0] * out[k][0] + out[k][1] * out[k][1]) / k2;
        if (power)
            power[k] = pw;
        s += pw;
    }
    fftw_destroy_plan(plan);
    fftw_free(in);
    fftw_free(out);
    *S = s;
    return 0;
}
