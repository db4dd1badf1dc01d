/* The Fourier basis over Z_p and its FFTW (R2HC) and direct transforms; see fourier.h. */
#include "fourier.h"

#include <assert.h>
#include <cblas.h>
#include <math.h>
#include <string.h>

#include "task.h"

#define GS_FOURIER_BATCH 64

void gs_fourier_basis(double *F, int p)
{
    const double scale_const = 1.0 / sqrt((double)p), scale = sqrt(2.0 / p);
    for (int x = 0; x < p; x++)
        F[x] = scale_const;
    for (int w = 1; w <= gs_fourier_n_freq(p); w++) {
        const int rc = gs_fourier_cos_row(w), rs = gs_fourier_sin_row(p, w);
        const double sc = rs < 0 ? scale_const : scale; /* the even-p Nyquist cos */
        for (int x = 0; x < p; x++) {
            /* w*x mod p first: the angle stays in [0, 2 pi), so no precision is lost */
            const double t = 2.0 * M_PI * (double)(((long)w * x) % p) / p;
            F[(size_t)rc * p + x] = sc * cos(t);
            if (rs >= 0)
                F[(size_t)rs * p + x] = scale * sin(t);
        }
    }
}

/* One allocation, carved by a table of sizes (in doubles, each view at a multiple of
 * 64 bytes from the SIMD-aligned base); the int table hc_index comes last. Returns the
 * size in bytes. */
static size_t carve(gs_fourier *f, char *base)
{
    const size_t p = (size_t)f->p, B = (size_t)f->batch;
    double **views[] = {&f->basis, &f->hc_scale, &f->vin, &f->vout, &f->gin, &f->gout, &f->tmp};
    const size_t sizes[] = {p * p, p, B * p, B * p, p * p, p * p, p * p};
    static_assert(sizeof views / sizeof *views == sizeof sizes / sizeof *sizes, "table");
    size_t at = 0;
    for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) {
        if (base)
            *views[i] = (double *)(base + at);
        at += ((sizes[i] + 7) & ~(size_t)7) * sizeof(double);
    }
    if (base)
        f->hc_index = (int *)(base + at);
    return at + p * sizeof(int);
}

int gs_fourier_create(gs_fourier *f, int p, gs_err *err)
{
    memset(f, 0, sizeof *f);
    /* The basis exists from p = 2 on; no task has a p above GS_P_MAX. */
    if (p < 2 || p > GS_P_MAX)
        return gs_err_set(err, "Fourier basis: p = %d is out of range 2..%d", p, GS_P_MAX);
    f->p = p;
    f->n_freq = gs_fourier_n_freq(p);
    f->batch = GS_FOURIER_BATCH;
    const size_t n = carve(f, NULL);
    f->mem = fftw_malloc(n);
    if (!f->mem)
        return gs_err_set(err, "out of memory allocating the Fourier basis for p = %d", p);
    memset(f->mem, 0, n);
    carve(f, f->mem);
    gs_fourier_basis(f->basis, p);
    /* F row j as a halfcomplex entry: r_w at index w, i_w = -(sin sum) at index p - w */
    f->hc_index[0] = 0;
    f->hc_scale[0] = 1.0 / sqrt((double)p);
    for (int w = 1; w <= f->n_freq; w++) {
        const int rc = gs_fourier_cos_row(w), rs = gs_fourier_sin_row(p, w);
        f->hc_index[rc] = w;
        f->hc_scale[rc] = rs < 0 ? 1.0 / sqrt((double)p) : sqrt(2.0 / p);
        if (rs >= 0) {
            f->hc_index[rs] = p - w;
            f->hc_scale[rs] = -sqrt(2.0 / p);
        }
    }
    const fftw_r2r_kind kind = FFTW_R2HC;
    f->plan_vec = fftw_plan_many_r2r(1, &p, f->batch, f->vin, NULL, 1, p, f->vout, NULL, 1, p,
                                     &kind, FFTW_ESTIMATE);
    f->plan_grid = fftw_plan_r2r_2d(p, p, f->gin, f->gout, FFTW_R2HC, FFTW_R2HC, FFTW_ESTIMATE);
    if (!f->plan_vec || !f->plan_grid) {
        gs_fourier_free(f);
        return gs_err_set(err, "FFTW could not plan the p = %d transforms", p);
    }
    return 0;
}

void gs_fourier_free(gs_fourier *f)
{
    if (f->plan_vec)
        fftw_destroy_plan(f->plan_vec);
    if (f->plan_grid)
        fftw_destroy_plan(f->plan_grid);
    fftw_free(f->mem);
    memset(f, 0, sizeof *f);
}

void gs_fourier_vectors(gs_fourier *f, double *out, const double *in, int n,
                        ptrdiff_t estride, ptrdiff_t vstride)
{
    const int p = f->p;
    for (int v0 = 0; v0 < n; v0 += f->batch) {
        const int nb = n - v0 < f->batch ? n - v0 : f->batch;
        /* all of a batch is read before any of it is written, so out may equal in */
        for (int b = 0; b < nb; b++) {
            const double *x = in + (ptrdiff_t)(v0 + b) * vstride;
            double *dst = f->vin + (size_t)b * p;
            for (int k = 0; k < p; k++)
                dst[k] = x[k * estride];
        }
        fftw_execute(f->plan_vec); /* rows nb.. hold stale data; their output is unused */
        for (int b = 0; b < nb; b++) {
            const double *hc = f->vout + (size_t)b * p;
            double *y = out + (ptrdiff_t)(v0 + b) * vstride;
            for (int j = 0; j < p; j++)
                y[j * estride] = f->hc_scale[j] * hc[f->hc_index[j]];
        }
    }
}

void gs_fourier_vectors_direct(const gs_fourier *f, double *out, const double *in, int n,
                               ptrdiff_t estride, ptrdiff_t vstride)
{
    const int p = f->p;
    for (int v = 0; v < n; v++) {
        const double *x = in + (ptrdiff_t)v * vstride;
        double *y = out + (ptrdiff_t)v * vstride;
        for (int j = 0; j < p; j++) {
            const double *row = f->basis + (size_t)j * p;
            double acc = 0.0;
            for (int k = 0; k < p; k++)
                acc += row[k] * x[k * estride];
            y[j * estride] = acc;
        }
    }
}

void gs_fourier_grid(gs_fourier *f, double *out, const double *A)
{
    const int p = f->p;
    memcpy(f->gin, A, (size_t)p * p * sizeof(double));
    fftw_execute(f->plan_grid);
    for (int j = 0; j < p; j++) {
        const double sj = f->hc_scale[j];
        const double *hc = f->gout + (size_t)f->hc_index[j] * p;
        double *y = out + (size_t)j * p;
        for (int k = 0; k < p; k++)
            y[k] = sj * f->hc_scale[k] * hc[f->hc_index[k]];
    }
}

void gs_fourier_grid_direct(gs_fourier *f, double *out, const double *A)
{
    const int p = f->p;
    assert(out != A);
    /* tmp = F A, out = tmp F^T */
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, p, p, p, 1.0, f->basis, p, A, p,
                0.0, f->tmp, p);
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, p, p, p, 1.0, f->tmp, p, f->basis, p,
                0.0, out, p);
}
