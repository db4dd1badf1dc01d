/* gs_cka: linear centered kernel alignment (Kornblith et al. 2019) between two sets of
 * features of the same inputs, the lazy-vs-rich measure of docs/early-warning.md.
 *
 * Features are stored feature-major, as the probe's activation grid is: X [a, n] holds
 * feature f of input i at X[f * n + i]. With Xc, Yc the features centred over the n
 * inputs (each feature's mean over the inputs removed),
 *
 *     CKA(X, Y) = ||Xc Yc^T||_F^2 / (||Xc Xc^T||_F ||Yc Yc^T||_F),
 *
 * which equals HSIC(K, L) / sqrt(HSIC(K, K) HSIC(L, L)) for the linear kernels
 * K = X^T X, L = Y^T Y over the inputs (the n x n kernels never need to be formed: the
 * a x b cross-products carry the same Frobenius norms). 0..1; 1 when the kernels are
 * equal up to scale; NaN when either set of features is constant over the inputs. */
#ifndef GS_PROBE_KERNEL_H
#define GS_PROBE_KERNEL_H

#include <stdint.h>

/* out [a, n_rows] = the features of rows[] (input indices into X's n columns; NULL:
 * all n, in order) centred over those rows (means in double). The centred features are
 * float: the products below run in single precision (sgemm, twice as fast as double;
 * their sums of squares are accumulated in double), good to ~1e-6 relative. */
void gs_cka_center(const float *X, int a, int n, const int32_t *rows, int n_rows, float *out);

/* ||Xc Yc^T||_F^2 for centred Xc [a, n], Yc [b, n]; scratch holds a * b floats. When
 * Yc == Xc (same pointer, b == a) only the symmetric half is computed. */
double gs_cka_cross(const float *Xc, int a, const float *Yc, int b, int n, float *scratch);

/* CKA from the three cross terms: xy / sqrt(xx yy); NaN when xx or yy is 0. */
double gs_cka_from(double xy, double xx, double yy);

/* One-hot label features of n inputs: out [n_class, n] centred, out[c, i] =
 * [label[i] == c] - share of class c. */
void gs_cka_labels(const int32_t *label, int n, int n_class, float *out);

#endif
