/* gs_fourier frequencies: which frequencies the Fourier basis over Z_p has, hence which
 * a key frequency or a neuron's cluster may be (docs/analysis.md). The basis itself is
 * probes/fourier.h; this part lives in core/ because the run file (checkpoints/) checks
 * stored frequencies against it too, and checkpoints/ cannot see probes/.
 *
 * The basis has a constant row, then a cos and a sin row for each w = 1..p/2 (integer
 * division), in the order const, cos 1, sin 1, cos 2, sin 2, ... For odd p these are
 * the (p-1)/2 frequencies of the paper. For even p the last, w = p/2, is the Nyquist
 * frequency: cos(pi x) = (-1)^x, whose sine is zero everywhere and has no row. It is a
 * frequency like the others (a neuron may cluster on it, a user may name it as a key
 * frequency), with one direction instead of two. */
#ifndef GS_FOURIER_FREQS_H
#define GS_FOURIER_FREQS_H

/* The frequencies are w = 1..gs_fourier_n_freq(p). */
static inline int gs_fourier_n_freq(int p) { return p / 2; }

static inline int gs_fourier_freq_valid(int p, int w)
{
    return w >= 1 && w <= gs_fourier_n_freq(p);
}

/* Rows of the basis for frequency w; gs_fourier_sin_row is -1 for the even-p Nyquist
 * frequency, which has no sine. */
static inline int gs_fourier_cos_row(int w) { return 2 * w - 1; }
static inline int gs_fourier_sin_row(int p, int w) { return 2 * w < p ? 2 * w : -1; }

#endif
