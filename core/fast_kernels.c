/* 64-byte vectors pass only between inlined helpers here: no ABI is involved. */
#pragma GCC diagnostic ignored "-Wpsabi"

#include "fast_kernels.h"

#include <math.h>
#include <string.h>

#include "model.h"

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && defined(__has_attribute)
#if __has_attribute(target_clones)
#define GS_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#endif
#endif
#ifndef GS_CLONES
#define GS_CLONES
#endif

typedef float vf __attribute__((vector_size(64)));  /* 16 floats */
typedef int vi __attribute__((vector_size(64)));
typedef float vf8 __attribute__((vector_size(32)));  /* 8 floats */
typedef double vd __attribute__((vector_size(64))); /* 8 doubles */
typedef long long vl __attribute__((vector_size(64)));

enum { LF = 16, LD = 8 };

static inline __attribute__((always_inline)) vf ldf(const float *p)
{
    vf v;
    memcpy(&v, p, sizeof v);
    return v;
}

static inline __attribute__((always_inline)) void stf(float *p, vf v)
{
    memcpy(p, &v, sizeof v);
}

static inline __attribute__((always_inline)) float hsumf(vf v)
{
    /* a fixed tree, so the result does not depend on how the compiler splits v */
    float s8[8], s4[4];
    for (int i = 0; i < 8; i++)
        s8[i] = v[i] + v[i + 8];
    for (int i = 0; i < 4; i++)
        s4[i] = s8[i] + s8[i + 4];
    return (s4[0] + s4[2]) + (s4[1] + s4[3]);
}

static inline __attribute__((always_inline)) double hsumd(vd v)
{
    const double a = (v[0] + v[4]) + (v[2] + v[6]), b = (v[1] + v[5]) + (v[3] + v[7]);
    return a + b;
}

GS_CLONES
void gs_k_combine(float *out, int n, const float *base, const float *const *rows,
                  const float *w, int k, int relu)
{
    int c = 0;
    /* four chunks at a time: four independent FMA chains instead of one */
    for (; c + 4 * LF <= n; c += 4 * LF) {
        vf a0 = ldf(base + c), a1 = ldf(base + c + LF), a2 = ldf(base + c + 2 * LF),
           a3 = ldf(base + c + 3 * LF);
        for (int j = 0; j < k; j++) {
            const float *r = rows[j] + c;
            const float wj = w[j];
            a0 += wj * ldf(r);
            a1 += wj * ldf(r + LF);
            a2 += wj * ldf(r + 2 * LF);
            a3 += wj * ldf(r + 3 * LF);
        }
        if (relu) {
            a0 = (vf)((vi)a0 & (a0 > 0.0f));
            a1 = (vf)((vi)a1 & (a1 > 0.0f));
            a2 = (vf)((vi)a2 & (a2 > 0.0f));
            a3 = (vf)((vi)a3 & (a3 > 0.0f));
        }
        stf(out + c, a0);
        stf(out + c + LF, a1);
        stf(out + c + 2 * LF, a2);
        stf(out + c + 3 * LF, a3);
    }
    for (; c + LF <= n; c += LF) {
        vf acc = ldf(base + c);
        for (int j = 0; j < k; j++)
            acc += w[j] * ldf(rows[j] + c);
        if (relu)
            acc = (vf)((vi)acc & (acc > 0.0f));
        stf(out + c, acc);
    }
    for (; c < n; c++) {
        float acc = base[c];
        for (int j = 0; j < k; j++)
            acc += w[j] * rows[j][c];
        out[c] = relu ? (acc > 0.0f ? acc : 0.0f) : acc;
    }
}

/* In blocks of 8: what -O2's cheap vectorizer takes (it leaves a loop of unknown length
 * with a select scalar). */
GS_CLONES
void gs_k_relu(float *restrict post, const float *restrict pre, size_t len)
{
    size_t j0 = 0;
    for (; j0 + 8 <= len; j0 += 8)
        for (size_t j = j0; j < j0 + 8; j++)
            post[j] = pre[j] > 0.0f ? pre[j] : 0.0f;
    for (size_t j = j0; j < len; j++)
        post[j] = pre[j] > 0.0f ? pre[j] : 0.0f;
}

GS_CLONES
void gs_k_relu_mask(float *restrict d, const float *restrict pre, size_t len)
{
    size_t j0 = 0;
    for (; j0 + 8 <= len; j0 += 8)
        for (size_t j = j0; j < j0 + 8; j++)
            d[j] = pre[j] > 0.0f ? d[j] : 0.0f;
    for (size_t j = j0; j < len; j++)
        d[j] = pre[j] > 0.0f ? d[j] : 0.0f;
}

GS_CLONES
void gs_k_dots(float *out, const float *x, int n, const float *const *rows, int k)
{
    int j = 0;
    /* four rows at a time: independent accumulators hide the FMA latency */
    for (; j + 4 <= k; j += 4) {
        const float *r0 = rows[j], *r1 = rows[j + 1], *r2 = rows[j + 2], *r3 = rows[j + 3];
        vf a0 = {0}, a1 = {0}, a2 = {0}, a3 = {0};
        int c = 0;
        for (; c + LF <= n; c += LF) {
            const vf xv = ldf(x + c);
            a0 += xv * ldf(r0 + c);
            a1 += xv * ldf(r1 + c);
            a2 += xv * ldf(r2 + c);
            a3 += xv * ldf(r3 + c);
        }
        float s0 = hsumf(a0), s1 = hsumf(a1), s2 = hsumf(a2), s3 = hsumf(a3);
        for (; c < n; c++) {
            s0 += x[c] * r0[c];
            s1 += x[c] * r1[c];
            s2 += x[c] * r2[c];
            s3 += x[c] * r3[c];
        }
        out[j] = s0;
        out[j + 1] = s1;
        out[j + 2] = s2;
        out[j + 3] = s3;
    }
    for (; j < k; j++) {
        const float *r = rows[j];
        vf a = {0};
        int c = 0;
        for (; c + LF <= n; c += LF)
            a += ldf(x + c) * ldf(r + c);
        float s = hsumf(a);
        for (; c < n; c++)
            s += x[c] * r[c];
        out[j] = s;
    }
}

GS_CLONES
void gs_k_axpys(float *const *acc, const float *w, int k, const float *x, int n)
{
    int c = 0;
    for (; c + LF <= n; c += LF) {
        const vf xv = ldf(x + c);
        for (int j = 0; j < k; j++)
            stf(acc[j] + c, ldf(acc[j] + c) + w[j] * xv);
    }
    for (; c < n; c++)
        for (int j = 0; j < k; j++)
            acc[j][c] += w[j] * x[c];
}

/* KB outputs times CB chunks of 16 columns at once; both are constants after inlining,
 * so acc[][] lives in registers (24 zmm at most) and each row's chunk is loaded once
 * per block while its KB weights are broadcast from memory. */
static inline __attribute__((always_inline)) void wsum_block(float *const *out, int k, int KB, int CB,
                                                             const float *const *xs,
                                                             const float *w, int n_rows, int c,
                                                             int accumulate)
{
    vf acc[12][4];
#pragma GCC unroll 12
    for (int j = 0; j < KB; j++)
#pragma GCC unroll 4
        for (int q = 0; q < CB; q++)
            acc[j][q] = accumulate ? ldf(out[j] + c + q * LF) : (vf){0};
    for (int i = 0; i < n_rows; i++) {
        /* the rows are scattered: fetch a few ahead, the hardware prefetcher cannot guess */
        if (i + 4 < n_rows)
#pragma GCC unroll 4
            for (int q = 0; q < CB; q++)
                __builtin_prefetch(xs[i + 4] + c + q * LF);
        vf x[4];
#pragma GCC unroll 4
        for (int q = 0; q < CB; q++)
            x[q] = ldf(xs[i] + c + q * LF);
        const float *wi = w + (size_t)i * k;
#pragma GCC unroll 12
        for (int j = 0; j < KB; j++)
#pragma GCC unroll 4
            for (int q = 0; q < CB; q++)
                acc[j][q] += wi[j] * x[q];
    }
#pragma GCC unroll 12
    for (int j = 0; j < KB; j++)
#pragma GCC unroll 4
        for (int q = 0; q < CB; q++)
            stf(out[j] + c + q * LF, acc[j][q]);
}

#define GS_WSUM_KB(KB, CB) wsum_block(out + j0, k, KB, CB, xs, w + j0, n_rows, c, accumulate)

/* up to 6 outputs with 4 chunks, or up to 12 with 2 (24 accumulators either way) */
static inline __attribute__((always_inline)) void wsum_cols(float *const *out, int k, int j0, int kb,
                                                            const float *const *xs, const float *w,
                                                            int n_rows, int n, int accumulate)
{
    int c = 0;
    if (kb <= 6) {
        for (; c + 4 * LF <= n; c += 4 * LF)
            switch (kb) {
            case 1: GS_WSUM_KB(1, 4); break;
            case 2: GS_WSUM_KB(2, 4); break;
            case 3: GS_WSUM_KB(3, 4); break;
            case 4: GS_WSUM_KB(4, 4); break;
            case 5: GS_WSUM_KB(5, 4); break;
            default: GS_WSUM_KB(6, 4); break;
            }
    } else {
        for (; c + 2 * LF <= n; c += 2 * LF)
            switch (kb) {
            case 7: GS_WSUM_KB(7, 2); break;
            case 8: GS_WSUM_KB(8, 2); break;
            case 9: GS_WSUM_KB(9, 2); break;
            case 10: GS_WSUM_KB(10, 2); break;
            case 11: GS_WSUM_KB(11, 2); break;
            default: GS_WSUM_KB(12, 2); break;
            }
    }
    for (; c + LF <= n; c += LF)
        switch (kb) {
        case 1: GS_WSUM_KB(1, 1); break;
        case 2: GS_WSUM_KB(2, 1); break;
        case 3: GS_WSUM_KB(3, 1); break;
        case 4: GS_WSUM_KB(4, 1); break;
        case 5: GS_WSUM_KB(5, 1); break;
        case 6: GS_WSUM_KB(6, 1); break;
        case 7: GS_WSUM_KB(7, 1); break;
        case 8: GS_WSUM_KB(8, 1); break;
        case 9: GS_WSUM_KB(9, 1); break;
        case 10: GS_WSUM_KB(10, 1); break;
        case 11: GS_WSUM_KB(11, 1); break;
        default: GS_WSUM_KB(12, 1); break;
        }
    for (; c < n; c++)
        for (int j = j0; j < j0 + kb; j++) {
            float acc = accumulate ? out[j][c] : 0.0f;
            for (int i = 0; i < n_rows; i++)
                acc += w[(size_t)i * k + j] * xs[i][c];
            out[j][c] = acc;
        }
}

GS_CLONES
void gs_k_wsum(float *const *out, int k, const float *const *xs, const float *w, int n_rows, int n,
               int accumulate)
{
    /* blocks of at most 12 outputs, as even as possible */
    const int blocks = (k + 11) / 12;
    for (int b = 0, j0 = 0; b < blocks; b++) {
        const int kb = (k - j0) / (blocks - b);
        wsum_cols(out, k, j0, kb, xs, w, n_rows, n, accumulate);
        j0 += kb;
    }
}

#undef GS_WSUM_KB

/* RB rows x PB panels of 16 columns: RB * PB accumulators (24 zmm at most) over all k;
 * per k, PB vector loads of B and RB broadcasts of A. */
static inline __attribute__((always_inline)) void gemm_block(float *C, int ldc, const float *A,
                                                             size_t sa, size_t sk, const float *B,
                                                             int ldb, int K, int RB, int PB,
                                                             int last_cols, int add,
                                                             const float *mask, int ldm)
{
    vf acc[6][4];
#pragma GCC unroll 6
    for (int r = 0; r < RB; r++)
#pragma GCC unroll 4
        for (int q = 0; q < PB; q++)
            acc[r][q] = (vf){0};
    for (int k = 0; k < K; k++) {
        const float *bk = B + (size_t)k * ldb;
        vf b[4];
#pragma GCC unroll 4
        for (int q = 0; q < PB; q++)
            b[q] = ldf(bk + q * LF);
#pragma GCC unroll 6
        for (int r = 0; r < RB; r++) {
            const float a = A[r * sa + k * sk];
#pragma GCC unroll 4
            for (int q = 0; q < PB; q++)
                acc[r][q] += a * b[q];
        }
    }
#pragma GCC unroll 6
    for (int r = 0; r < RB; r++)
#pragma GCC unroll 4
        for (int q = 0; q < PB; q++) {
            float *c = C + (size_t)r * ldc + q * LF;
            const int n = q == PB - 1 ? last_cols : LF;
            vf v = acc[r][q];
            if (n == LF) {
                if (add)
                    v = ldf(c) + v;
                if (mask)
                    v = (vf)((vi)v & (ldf(mask + (size_t)r * ldm + q * LF) > 0.0f));
                stf(c, v);
            } else {
                for (int j = 0; j < n; j++) {
                    float x = add ? c[j] + v[j] : v[j];
                    if (mask && !(mask[(size_t)r * ldm + q * LF + j] > 0.0f))
                        x = 0.0f;
                    c[j] = x;
                }
            }
        }
}

#define GS_GEMM_RB(RB)                                                                   \
    switch (pb) {                                                                        \
    case 1: gemm_block(Cb, ldc, Ab, sa, sk, Bb, ldb, K, RB, 1, last, add, mb, ldm); break; \
    case 2: gemm_block(Cb, ldc, Ab, sa, sk, Bb, ldb, K, RB, 2, last, add, mb, ldm); break; \
    case 3: gemm_block(Cb, ldc, Ab, sa, sk, Bb, ldb, K, RB, 3, last, add, mb, ldm); break; \
    default: gemm_block(Cb, ldc, Ab, sa, sk, Bb, ldb, K, RB, 4, last, add, mb, ldm); break; \
    }

/* A's element (r, k) at A[r * sa + k * sk]: sa, sk are constants after inlining */
static inline __attribute__((always_inline)) void gemm_any(float *C, int ldc, const float *A,
                                                           size_t sa, size_t sk, const float *B,
                                                           int ldb, int rows, int cols, int K,
                                                           int add, const float *mask, int ldm)
{
    for (int j0 = 0; j0 < cols; j0 += 4 * LF) {
        const int width = cols - j0 < 4 * LF ? cols - j0 : 4 * LF;
        const int pb = (width + LF - 1) / LF, last = width - (pb - 1) * LF;
        const float *Bb = B + j0;
        for (int r0 = 0; r0 < rows; r0 += 6) {
            float *Cb = C + (size_t)r0 * ldc + j0;
            const float *Ab = A + (size_t)r0 * sa, *mb = mask ? mask + (size_t)r0 * ldm + j0 : NULL;
            switch (rows - r0 < 6 ? rows - r0 : 6) {
            case 1: GS_GEMM_RB(1) break;
            case 2: GS_GEMM_RB(2) break;
            case 3: GS_GEMM_RB(3) break;
            case 4: GS_GEMM_RB(4) break;
            case 5: GS_GEMM_RB(5) break;
            default: GS_GEMM_RB(6) break;
            }
        }
    }
}

#undef GS_GEMM_RB

GS_CLONES
void gs_k_gemm(float *C, int ldc, const float *A, int lda, const float *B, int ldb, int rows,
               int cols, int K, int add, const float *mask, int ldm)
{
    gemm_any(C, ldc, A, (size_t)lda, 1, B, ldb, rows, cols, K, add, mask, ldm);
}

GS_CLONES
void gs_k_gemm_at(float *C, int ldc, const float *A, int lda, const float *B, int ldb, int rows,
                  int cols, int K, int add)
{
    gemm_any(C, ldc, A, 1, (size_t)lda, B, ldb, rows, cols, K, add, NULL, 0);
}

/* exp(x) for x <= 0 (or NaN, which stays NaN): x = k ln2 + r, |r| <= ln2/2, and
 * exp(r) by its Taylor series to degree 13 (truncation < 5e-18), so the error is the
 * rounding of the evaluation, about 1 ulp (tests/test_model.c checks it against libm). Below -708 the result is exp(-708); in a
 * sum with the maximum's exp(0) = 1 that is exactly nothing. */
static inline __attribute__((always_inline)) vd exp_neg(vd x)
{
    const vd lo = {-708.0, -708.0, -708.0, -708.0, -708.0, -708.0, -708.0, -708.0};
    const vl below = (vl)(x < lo);
    x = (vd)(((vl)x & ~below) | ((vl)lo & below));
    const double shifter = 0x1.8p52;
    const vd t = x * 0x1.71547652b82fep0 + shifter;
    const vd kf = t - shifter;
    vd r = x - kf * 0x1.62e42fefa3800p-1; /* ln2 high part: kf * it is exact */
    r = r - kf * 0x1.ef35793c7673p-45;    /* ln2 low part */
    /* Estrin's scheme: a dependency chain of 5 operations instead of Horner's 13 */
    const vd r2 = r * r, r4 = r2 * r2, r8 = r4 * r4;
    const vd p01 = 1.0 + r, p23 = 0.5 + r * (1.0 / 6.0), p45 = (1.0 / 24.0) + r * (1.0 / 120.0),
             p67 = (1.0 / 720.0) + r * (1.0 / 5040.0), p89 = (1.0 / 40320.0) + r * (1.0 / 362880.0),
             p1011 = (1.0 / 3628800.0) + r * (1.0 / 39916800.0),
             p1213 = (1.0 / 479001600.0) + r * (1.0 / 6227020800.0);
    const vd q0 = p01 + r2 * p23, q1 = p45 + r2 * p67, q2 = p89 + r2 * p1011;
    const vd s0 = q0 + r4 * q1, s1 = q2 + r4 * p1213;
    const vd p = s0 + r8 * s1;
    /* 2^k from t's low mantissa bits, which hold k + 2^51 */
    const vd scale = (vd)(((vl)t + 1023) << 52);
    return p * scale;
}

GS_CLONES
double gs_k_exp_neg(double x)
{
    vd v = {x, x, x, x, x, x, x, x};
    return exp_neg(v)[0];
}

GS_CLONES
double gs_k_xent_row(const float *l, int V, int target, int *correct, float *grad,
                     int n_batch, double *eb)
{
    /* maximum and its first index: each lane keeps its own first maximum, the row's is
     * the smallest index among the lanes holding the largest value (a NaN makes the sum
     * NaN below, and the row takes the reference path) */
    float mx = l[0];
    int arg = 0, c = 0;
    if (V >= LF) {
        vf m = ldf(l);
        vi at = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}, now = at;
        for (c = LF; c + LF <= V; c += LF) {
            const vf v = ldf(l + c);
            now += LF;
            const vi gt = v > m;
            m = (vf)(((vi)v & gt) | ((vi)m & ~gt));
            at = (now & gt) | (at & ~gt);
        }
        /* branch-free: the largest lane value, then the smallest index holding it */
        float t8[8], t4[4];
        for (int i = 0; i < 8; i++)
            t8[i] = m[i] > m[i + 8] ? m[i] : m[i + 8];
        for (int i = 0; i < 4; i++)
            t4[i] = t8[i] > t8[i + 4] ? t8[i] : t8[i + 4];
        const float t2a = t4[0] > t4[2] ? t4[0] : t4[2], t2b = t4[1] > t4[3] ? t4[1] : t4[3];
        mx = t2a > t2b ? t2a : t2b;
        const vi hit = m == mx;
        const vi cand = (at & hit) | (((vi){0} + 0x7fffffff) & ~hit);
        int i8[8], i4[4];
        for (int i = 0; i < 8; i++)
            i8[i] = cand[i] < cand[i + 8] ? cand[i] : cand[i + 8];
        for (int i = 0; i < 4; i++)
            i4[i] = i8[i] < i8[i + 4] ? i8[i] : i8[i + 4];
        const int i2a = i4[0] < i4[2] ? i4[0] : i4[2], i2b = i4[1] < i4[3] ? i4[1] : i4[3];
        arg = i2a < i2b ? i2a : i2b;
    }
    for (; c < V; c++)
        if (l[c] > mx) {
            mx = l[c];
            arg = c;
        }
    const double mxd = mx;
    vd s = {0};
    for (c = 0; c + LD <= V; c += LD) {
        vf8 f;
        memcpy(&f, l + c, sizeof f);
        const vd e = exp_neg(__builtin_convertvector(f, vd) - mxd);
        if (grad)
            memcpy(eb + c, &e, sizeof e);
        s += e;
    }
    if (c < V) {
        float pad[LD];
        vl keep;
        for (int i = 0; i < LD; i++) {
            pad[i] = c + i < V ? l[c + i] : mx;
            keep[i] = c + i < V ? -1 : 0;
        }
        vf8 f;
        memcpy(&f, pad, sizeof f);
        const vd e = (vd)((vl)exp_neg(__builtin_convertvector(f, vd) - mxd) & keep);
        if (grad)
            memcpy(eb + c, &e, (size_t)(V - c) * sizeof(double));
        s += e;
    }
    const double sum = hsumd(s);
    const double loss = log(sum) + mxd - (double)l[target];
    if (!isfinite(sum) || !isfinite(loss)) {
        /* Inf or NaN logits: exactly the reference's answer (NaN or Inf, so the trainer
         * reports divergence) */
        const double ref = gs_cross_entropy_row(l, V, target, correct);
        if (grad)
            for (c = 0; c < V; c++)
                grad[c] = (float)((exp((double)l[c] - mxd) / sum - (c == target)) / n_batch);
        return ref;
    }
    *correct = arg == target;
    if (grad) {
        /* (softmax - onehot) / n, by reciprocals (a few ulp of double; the result is
         * rounded to float) */
        const double inv_sum = 1.0 / sum, inv_n = 1.0 / n_batch;
        for (c = 0; c + LD <= V; c += LD) {
            vd e;
            memcpy(&e, eb + c, sizeof e);
            const vf8 gf = __builtin_convertvector(e * inv_sum * inv_n, vf8);
            memcpy(grad + c, &gf, sizeof gf);
        }
        for (; c < V; c++)
            grad[c] = (float)(eb[c] * inv_sum * inv_n);
        grad[target] = (float)((eb[target] * inv_sum - 1.0) * inv_n);
    }
    return loss;
}
