/* Linear CKA through the a x b cross-products of the centred features (kernel.h). */
#include <cblas.h>
#include <math.h>
#include <string.h>

#include "kernel.h"

void gs_cka_center(const float *X, int a, int n, const int32_t *rows, int n_rows, float *out)
{
    for (int f = 0; f < a; f++) {
        const float *x = X + (size_t)f * n;
        float *o = out + (size_t)f * n_rows;
        double sum = 0.0;
        for (int i = 0; i < n_rows; i++)
            sum += x[rows ? rows[i] : i];
        const double mean = sum / n_rows;
        for (int i = 0; i < n_rows; i++)
            o[i] = (float)((double)x[rows ? rows[i] : i] - mean);
    }
}

double gs_cka_cross(const float *Xc, int a, const float *Yc, int b, int n, float *scratch)
{
    double s = 0.0;
    if (Xc == Yc && a == b) {
        /* the Gram matrix is symmetric: the upper triangle, off-diagonal counted twice */
        cblas_ssyrk(CblasRowMajor, CblasUpper, CblasNoTrans, a, n, 1.0f, Xc, n, 0.0f, scratch, a);
        for (int r = 0; r < a; r++) {
            const double d = scratch[(size_t)r * a + r];
            s += d * d;
            for (int c = r + 1; c < a; c++) {
                const double o = scratch[(size_t)r * a + c];
                s += 2.0 * o * o;
            }
        }
        return s;
    }
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, a, b, n, 1.0f, Xc, n, Yc, n, 0.0f,
                scratch, b);
    for (size_t k = 0; k < (size_t)a * b; k++)
        s += (double)scratch[k] * scratch[k];
    return s;
}

double gs_cka_from(double xy, double xx, double yy)
{
    if (!(xx > 0.0) || !(yy > 0.0))
        return NAN;
    return xy / sqrt(xx * yy);
}

void gs_cka_labels(const int32_t *label, int n, int n_class, float *out)
{
    memset(out, 0, (size_t)n_class * n * sizeof *out);
    for (int c = 0; c < n_class; c++) {
        long count = 0;
        for (int i = 0; i < n; i++)
            count += label[i] == c;
        const double share = (double)count / n;
        float *o = out + (size_t)c * n;
        for (int i = 0; i < n; i++)
            o[i] = (float)((label[i] == c) - share);
    }
}
