/* gs_spectral: the spectral energy of an early stretch of a loss curve, the per-run
 * early-warning statistic after Notsawo et al. 2023 (docs/early-warning.md).
 *
 * For x_t, t = 0..K-1 (the training loss of epochs 0..K-1) with its mean removed and
 * X_k = sum_t x_t exp(-2 pi i k t / K) its discrete Fourier transform (FFTW, real
 * input), the statistic is
 *
 *     S = sum_{k=0}^{K-1} |X_k|^2 / K^2,
 *
 * the energy of the spectrum per sample; by Parseval it equals the variance of x over
 * the window (the Hjorth activity of the curve). A sinusoid of amplitude a at an
 * integer frequency contributes a^2 / 2. */
#ifndef GS_PROBE_SPECTRAL_H
#define GS_PROBE_SPECTRAL_H

#include "error.h"

/* S of x[0..K) (K >= 2); power[0..K/2] (may be NULL) receives |X_k|^2 / K^2 for the
 * non-negative frequencies, each k in 1..(K-1)/2 counted for itself and its mirror
 * -k (so the power sums to S). NaN if x holds a non-finite value. */
int gs_loss_spectrum(const double *x, int K, double *S, double *power, gs_err *err);

#endif
