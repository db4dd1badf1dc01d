#include "loss.h"

#include <math.h>
#include <string.h>

#include "fast_kernels.h"
#include "model.h"

gs_loss gs_loss_of(const gs_config *cfg)
{
    return (gs_loss){.kind = cfg->loss, .single = cfg->loss_precision == 32,
                     .scaled = cfg->output_scale != 1.0, .scale = (float)cfg->output_scale};
}

#define COLLAPSE_OTHERS 0x1p-24 /* half an ulp of 1.0f: 1 + x rounds to 1 iff x <= it */

static int argmax_of(const float *z, int V)
{
    int arg = 0;
    for (int c = 1; c < V; c++)
        if (z[c] > z[arg])
            arg = c;
    return arg;
}

int gs_softmax_collapsed(const float *z, int V)
{
    const int arg = argmax_of(z, V);
    const double mx = z[arg];
    if (!isfinite(mx))
        return 0;
    double others = 0.0;
    for (int c = 0; c < V; c++)
        if (c != arg && (others += exp((double)z[c] - mx)) > COLLAPSE_OTHERS)
            return 0; /* most rows stop at their first term */
    return 1;
}

/* The default loss's collapse from its own result: a correct row's loss is
 * log(1 + others); a wrong row can only have collapsed if its target's term, one of the
 * others, is <= 2^-24, i.e. its loss is >= 24 ln 2 (16 leaves room for rounding). */
static int collapsed_from_ce(double loss, int correct, const float *z, int V)
{
    static double limit; /* log1p(2^-24), once */
    if (limit == 0.0)
        limit = log1p(COLLAPSE_OTHERS);
    if (correct)
        return loss <= limit;
    return loss >= 16.0 && gs_softmax_collapsed(z, V);
}

/* ---- the other losses, on the (scaled) logits z; grad = dL/dz / n ---- */

__attribute__((optimize("fp-contract=off")))
static double ce32(const float *z, int V, int y, float *grad, int n)
{
    /* torch's float32 log_softmax and its backward: logp = (z - max) - log(sum exp) */
    float mx = z[0];
    for (int c = 1; c < V; c++)
        mx = z[c] > mx ? z[c] : mx;
    float s = 0.0f;
    for (int c = 0; c < V; c++)
        s += expf(z[c] - mx);
    const float lse = logf(s);
    if (grad)
        for (int c = 0; c < V; c++)
            grad[c] = (expf((z[c] - mx) - lse) - (c == y ? 1.0f : 0.0f)) / (float)n;
    return (double)-((z[y] - mx) - lse);
}

static inline double s_of(double x) { return x < 0.0 ? 1.0 / (1.0 - x + 1e-30) : x + 1.0; }
static inline double ds_of(double x)
{
    const double u = 1.0 - x + 1e-30;
    return x < 0.0 ? 1.0 / (u * u) : 1.0;
}
static inline float s_of_f(float x) { return x < 0.0f ? 1.0f / (1.0f - x + 1e-30f) : x + 1.0f; }
static inline float ds_of_f(float x)
{
    const float u = 1.0f - x + 1e-30f;
    return x < 0.0f ? 1.0f / (u * u) : 1.0f;
}

/* L = -log(s(z_y) / S), S = sum_j s(z_j); dL/dz_j = s'(z_j) / S - [j = y] s'(z_y) / s(z_y) */
static double stablemax64(const float *z, int V, int y, float *grad, int n)
{
    double S = 0.0;
    for (int c = 0; c < V; c++)
        S += s_of(z[c]);
    const double sy = s_of(z[y]);
    if (grad)
        for (int c = 0; c < V; c++)
            grad[c] = (float)((ds_of(z[c]) / S - (c == y ? ds_of(z[y]) / sy : 0.0)) / n);
    return -log(sy / S);
}

__attribute__((optimize("fp-contract=off")))
static double stablemax32(const float *z, int V, int y, float *grad, int n)
{
    float S = 0.0f;
    for (int c = 0; c < V; c++)
        S += s_of_f(z[c]);
    const float sy = s_of_f(z[y]);
    if (grad)
        for (int c = 0; c < V; c++)
            grad[c] = (ds_of_f(z[c]) / S - (c == y ? ds_of_f(z[y]) / sy : 0.0f)) / (float)n;
    return (double)-logf(sy / S);
}

/* torch.nn.MSELoss (mean) on one-hot targets: (1/V) sum (z - t)^2 per row, the batch's
 * mean of rows; dL/dz = 2 (z - t) / V, over n rows */
static double mse64(const float *z, int V, int y, float *grad, int n)
{
    double sum = 0.0;
    for (int c = 0; c < V; c++) {
        const double d = (double)z[c] - (c == y);
        sum += d * d;
        if (grad)
            grad[c] = (float)(2.0 * d / V / n);
    }
    return sum / V;
}

__attribute__((optimize("fp-contract=off")))
static double mse32(const float *z, int V, int y, float *grad, int n)
{
    float sum = 0.0f;
    for (int c = 0; c < V; c++) {
        const float d = z[c] - (c == y ? 1.0f : 0.0f);
        sum += d * d;
        if (grad)
            grad[c] = 2.0f * d / (float)V / (float)n;
    }
    return (double)(sum / (float)V);
}

/* Every row that is not the default's fast kernel: the scaled logits, the loss, the
 * gradient times the scale, the flags. */
/* A loss of one row of logits z: returns it, and with grad non-NULL writes dL/dz / n. */
typedef double (*loss_fn)(const float *z, int V, int y, float *grad, int n);

/* The losses by gs_loss_kind, in float64 and in float32. The float64 cross-entropy is
 * each path's own kernel (below), so its slot is empty. */
static const struct {
    loss_fn f64, f32;
} loss_table[GS_LOSS_COUNT] = {
    [GS_LOSS_CE] = {NULL, ce32},
    [GS_LOSS_STABLEMAX] = {stablemax64, stablemax32},
    [GS_LOSS_MSE] = {mse64, mse32},
};

/* (softmax(z) - onehot(y)) / n in double: the reference path's cross-entropy backward */
static void ce64_grad_ref(const float *l, int V, int y, float *g, int n)
{
    double mx = l[0], s = 0.0;
    for (int c = 1; c < V; c++)
        mx = l[c] > mx ? l[c] : mx;
    for (int c = 0; c < V; c++)
        s += exp((double)l[c] - mx);
    for (int c = 0; c < V; c++)
        g[c] = (float)((exp((double)l[c] - mx) / s - (c == y)) / n);
}

static double generic_row(const gs_loss *L, const float *logits, int V, int y, int *flags,
                          float *grad, int n, double *scratch, int ref)
{
    float zs[V];
    const float *z = logits;
    if (L->scaled) {
        for (int c = 0; c < V; c++)
            zs[c] = L->scale * logits[c];
        z = zs;
    }
    double loss;
    int correct = argmax_of(z, V) == y;
    if (L->kind == GS_LOSS_CE && !L->single && ref) {
        /* each path's float64 cross-entropy, as for the unscaled logits */
        loss = gs_cross_entropy_row(z, V, y, &correct);
        if (grad)
            ce64_grad_ref(z, V, y, grad, n);
    } else if (L->kind == GS_LOSS_CE && !L->single) {
        loss = gs_k_xent_row(z, V, y, &correct, grad, n, scratch);
    } else {
        const loss_fn f = L->single ? loss_table[L->kind].f32 : loss_table[L->kind].f64;
        loss = f(z, V, y, grad, n);
    }
    if (grad && L->scaled)
        for (int c = 0; c < V; c++)
            grad[c] *= L->scale;
    *flags = (correct ? GS_ROW_CORRECT : 0) | (gs_softmax_collapsed(z, V) ? GS_ROW_COLLAPSED : 0);
    return loss;
}

static int is_default(const gs_loss *L)
{
    return L->kind == GS_LOSS_CE && !L->single && !L->scaled;
}

double gs_loss_row(const gs_loss *L, const float *logits, int V, int target, int *flags,
                   float *grad, int n_batch, double *scratch)
{
    if (!is_default(L))
        return generic_row(L, logits, V, target, flags, grad, n_batch, scratch, 0);
    int correct = 0;
    const double loss = gs_k_xent_row(logits, V, target, &correct, grad, n_batch, scratch);
    *flags = (correct ? GS_ROW_CORRECT : 0) |
             (collapsed_from_ce(loss, correct, logits, V) ? GS_ROW_COLLAPSED : 0);
    return loss;
}

double gs_loss_row_ref(const gs_loss *L, const float *logits, int V, int target, int *flags)
{
    if (!is_default(L))
        return generic_row(L, logits, V, target, flags, NULL, 1, NULL, 1);
    int correct = 0;
    const double loss = gs_cross_entropy_row(logits, V, target, &correct);
    *flags = (correct ? GS_ROW_CORRECT : 0) |
             (collapsed_from_ce(loss, correct, logits, V) ? GS_ROW_COLLAPSED : 0);
    return loss;
}

void gs_loss_grad_ref(const gs_loss *L, const float *l, int V, int target, float *g, int n)
{
    int flags;
    if (!is_default(L))
        generic_row(L, l, V, target, &flags, g, n, NULL, 1);
    else
        ce64_grad_ref(l, V, target, g, n);
}
