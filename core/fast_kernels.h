/* gs_k: the fast path's row kernels (weighted sums of table rows, dot products, the
 * float64 cross-entropy of one row of logits). Written with GCC vector extensions and
 * compiled for AVX-512, AVX2+FMA and plain x86-64 (picked at load time), so the build
 * needs no -march flags. Each output element is computed by the same sequence of
 * operations whatever the vector width, so results depend only on the machine. */
#ifndef GS_FAST_KERNELS_H
#define GS_FAST_KERNELS_H

#include <stddef.h>

/* out[c] = base[c] + sum_j w[j] * rows[j][c] for c < n, j = 0..k-1 in order; with relu,
 * out[c] = out[c] > 0 ? out[c] : 0 (so NaN becomes 0, as the reference's ReLU does). */
void gs_k_combine(float *out, int n, const float *base, const float *const *rows,
                  const float *w, int k, int relu);

/* The ReLU of every model and path: post[j] = pre[j] > 0 ? pre[j] : 0 (NaN becomes 0),
 * and its backward: d[j] = pre[j] > 0 ? d[j] : 0. Branch-free (a branch per neuron
 * mispredicts half the time); the same expression everywhere, so the same bits. */
void gs_k_relu(float *post, const float *pre, size_t len);
void gs_k_relu_mask(float *d, const float *pre, size_t len);

/* out[j] = sum_c x[c] * rows[j][c] for j < k. */
void gs_k_dots(float *out, const float *x, int n, const float *const *rows, int k);

/* acc[j][c] += w[j] * x[c] for j < k, c < n. */
void gs_k_axpys(float *const *acc, const float *w, int k, const float *x, int n);

/* out[j][c] = (accumulate ? out[j][c] : 0) + sum_i w[i * k + j] * xs[i][c] for j < k,
 * c < n, i = 0..n_rows-1 in order. The outputs stay in registers while the rows stream
 * past. */
void gs_k_wsum(float *const *out, int k, const float *const *xs, const float *w, int n_rows,
               int n, int accumulate);

/* C[r][j] = (add ? C[r][j] : 0) + sum_k A[r][k] B[k][j] for r < rows, j < cols, k in
 * order (row strides lda, ldb, ldc). With mask, C[r][j] = 0 where mask[r][j] <= 0 (the
 * ReLU's backward; mask row stride ldm). B's rows must be readable up to cols rounded up
 * to 16 (pad them): whole 16-column panels are computed, the extra columns dropped. For
 * the fast path's per-tile products: B stays as it is, nothing is packed. */
void gs_k_gemm(float *C, int ldc, const float *A, int lda, const float *B, int ldb, int rows,
               int cols, int K, int add, const float *mask, int ldm);

/* The same with A transposed: C[r][j] = (add ? C[r][j] : 0) + sum_k A[k][r] B[k][j]. */
void gs_k_gemm_at(float *C, int ldc, const float *A, int lda, const float *B, int ldb, int rows,
                  int cols, int K, int add);

/* Float64 cross-entropy of one row of float32 logits against target, as
 * gs_cross_entropy_row computes it (max subtracted, sum of exp in double), with a
 * vectorized exp accurate to about 1 ulp; *correct is argmax == target (first maximum).
 * With grad non-NULL also writes grad[c] = (float)((softmax_c - [c == target]) / n_batch).
 * Rows holding Inf or NaN go through gs_cross_entropy_row itself, so divergence reads
 * as it does on the reference path. exp_buf holds n_classes doubles (scratch). */
double gs_k_xent_row(const float *logits, int n_classes, int target, int *correct,
                     float *grad, int n_batch, double *exp_buf);

/* exp(x) for x <= 0 as the kernel above computes it (exposed for tests); x < -708
 * gives exp(-708). */
double gs_k_exp_neg(double x);

#endif
