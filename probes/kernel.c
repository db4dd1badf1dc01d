/* Linear CKA through the a x b cross-products of the centred features (kernel.h). */
#include <cblas.h>
#include <math.h>
#include <string.h>

#include "kernel.h"

void gs_cka_center(const float *X, int a, int n, const int32_t *rows, int n_rows, double *out)
{
    for (int f = 0; f < a; f++) {
        const float *x = X + (size_t)f * n;
        double *o = out + (size_t)f * n_rows;
        double sum = 0.0;
        for (int i = 0; i < n_rows; i++) {
            o[i] = x[rows ? rows[i] : i];
            sum += o[i];
        }
        const double mean = sum / n_rows;
        for (int i = 0; i < n_rows; i++)
            o[i] -= mean;
    }
}

double gs_cka_cross(const double *Xc, int a, const double *Yc, int b, int n, double *scratch)
{
    double s = 0.0;
    if (Xc == Yc && a == b) {
        /* the Gram matrix is symmetric: the upper triangle, off-diagonal counted twice */
        cblas_dsyrk(CblasRowMajor, CblasUpper, CblasNoTrans, a, n, 1.0, Xc, n, 0.0, scratch, a);
        for (int r = 0; r < a; r++) {
            s += scratch[(size_t)r * a + r] * scratch[(size_t)r * a + r];
            for (int c = r + 1; c < a; c++)
                s += 2.0 * scratch[(size_t)r * a + c] * scratch[(size_t)r * a + c];
        }
        return s;
    }
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, a, b, n, 1.0, Xc, n, Yc, n, 0.0,
                scratch, b);
    for (size_t k = 0; k < (size_t)a * b; k++)
        s += scratch[k] * scratch[k];
    return s;
}

double gs_cka_from(double xy, double xx, double yy)
{
    if (!(xx > 0.0) || !(yy > 0.0))
        return NAN;
    return xy / sqrt(xx * yy);
}

void gs_cka_labels(const int32_t *label, int n, int n_class, double *out)
{
    memset(out, 0, (size_t)n_class * n * sizeof *out);
    for (int c = 0; c < n_class; c++) {
        long count = 0;
        for (int i = 0; i < n; i++)
            count += label[i] == c;
        const double share = (double)count / n;
        double *o = out + (size_t)c * n;
        for (int i = 0; i < n; i++)
            o[i] = (label[i] == c) - share;
    }
}
