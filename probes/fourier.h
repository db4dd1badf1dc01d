/* gs_fourier: the orthonormal Fourier basis over Z_p (docs/science.md §4) and fast transforms onto
 * it.
 *
 * F is p x p, row-major, rows in the order const, cos 1, sin 1, cos 2, sin 2, ...,
 * row "cos w" = cos(2 pi w x / p), row "sin w" = sin(2 pi w x / p), x = 0..p-1, each
 * scaled to unit norm (1/sqrt(p) for const, sqrt(2/p) for the others). Which
 * frequencies there are (w = 1..p/2, the even-p Nyquist one p/2 with a cos row only,
 * scaled by 1/sqrt(p)) is defined in core/fourier_freqs.h, with the row of each.
 *
 * The transforms run through FFTW's real-to-halfcomplex (R2HC) r2r transform: for real
 * x, R2HC gives r_k = sum_x x_x cos(2 pi k x / p) and i_k = -sum_x x_x sin(...), so
 * each row of F is one halfcomplex entry times a constant (hc_index, hc_scale). A 2D
 * R2HC is by FFTW's definition the separable product of 1D R2HCs, so F A F^T is the
 * same permutation and scaling applied on both axes. Plans are made once, with
 * FFTW_ESTIMATE (deterministic, no timing), on buffers owned by the struct.
 *
 * The direct matrix products (*_direct) are the reference the FFTW path is tested
 * against. FFTW's planner is not thread-safe: create and free gs_fourier objects (and
 * so gs_probe objects) from one thread at a time; executing them in parallel, one
 * object per thread, is safe. */
#ifndef GS_FOURIER_H
#define GS_FOURIER_H

#include <stddef.h>

#include <fftw3.h>

#include "error.h"
#include "fourier_freqs.h"

typedef struct {
    int p;
    int n_freq;        /* frequencies 1..n_freq; n_freq = gs_fourier_n_freq(p) */
    int batch;         /* vectors per FFTW call in gs_fourier_vectors */
    double *basis;     /* F [p, p], row j is basis vector j */
    int *hc_index;     /* F x = hc_scale[j] * R2HC(x)[hc_index[j]] */
    double *hc_scale;
    double *vin, *vout;  /* [batch, p] */
    double *gin, *gout;  /* [p, p] */
    double *tmp;         /* [p, p] scratch of the direct path */
    fftw_plan plan_vec;  /* batch R2HCs of length p, vectors contiguous */
    fftw_plan plan_grid; /* 2D R2HC x R2HC of the p x p grid */
    void *mem;           /* the one allocation all the arrays above live in */
} gs_fourier;

/* Fills F [p, p] directly from the definition (cos/sin evaluated in double, the angle
 * reduced mod p first so large w*x stays exact). */
void gs_fourier_basis(double *F, int p);

/* p >= 2. Builds F and the plans; 0 or -1 with one line in err. */
int gs_fourier_create(gs_fourier *f, int p, gs_err *err);
void gs_fourier_free(gs_fourier *f);

/* out = F x for n vectors x of length p. Element k of vector v is at
 * in[v * vstride + k * estride]; out uses the same layout and may equal in. The D
 * columns of a row-major [p, D] matrix are (n = D, estride D, vstride 1); the rows of an
 * [n, p] matrix are (estride 1, vstride p). */
void gs_fourier_vectors(gs_fourier *f, double *out, const double *in, int n,
                        ptrdiff_t estride, ptrdiff_t vstride);
/* The same by the matrix product with F (reference). out must not overlap in. */
void gs_fourier_vectors_direct(const gs_fourier *f, double *out, const double *in, int n,
                               ptrdiff_t estride, ptrdiff_t vstride);

/* out = F A F^T for a row-major p x p grid A (A[a, b]: a along rows). out may equal A.
 * Entry [j, k] is basis function j on a times basis function k on b. */
void gs_fourier_grid(gs_fourier *f, double *out, const double *A);
/* The same by two matrix products (reference). out must not overlap A. */
void gs_fourier_grid_direct(gs_fourier *f, double *out, const double *A);

#endif
