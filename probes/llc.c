/* SGLD around a point and the local learning coefficient from its draws (llc.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "llc.h"
#include "rng.h"

/* xoshiro256** seeded through splitmix64 (core/rng.h) */
typedef struct {
    uint64_t s[4];
} rng;

static uint64_t next_u64(rng *r) { return gs_xoshiro_next(r->s); }

static void rng_seed(rng *r, uint64_t seed, uint64_t chain)
{
    uint64_t x = seed ^ (chain * 0xd1342543de82ef95ULL);
    for (int i = 0; i < 4; i++)
        r->s[i] = gs_splitmix64(&x);
}

/* uniform in (0, 1): 53 bits, never 0 */
static double uniform(rng *r) { return ((next_u64(r) >> 11) + 0.5) * 0x1.0p-53; }

/* Standard normal draws by the ziggurat method (Marsaglia & Tsang 2000, 128 layers): the
 * noise of a step, one draw per parameter, would otherwise be most of the estimator's
 * cost. Exact: the layers cover the density, and draws outside them (about 1 in 100)
 * are settled against the density itself or the tail's exponential bound. */
#define ZIG_R 3.442619855899
#define ZIG_V 9.91256303526217e-3
static struct {
    uint32_t k[128];
    double w[128], f[128];
} zig;

static void zig_setup(void)
{
    const double m1 = 2147483648.0;
    double dn = ZIG_R, tn = dn;
    const double q = ZIG_V / exp(-0.5 * dn * dn);
    zig.k[0] = (uint32_t)(dn / q * m1);
    zig.k[1] = 0;
    zig.w[0] = q / m1;
    zig.w[127] = dn / m1;
    zig.f[0] = 1.0;
    zig.f[127] = exp(-0.5 * dn * dn);
    for (int i = 126; i >= 1; i--) {
        dn = sqrt(-2.0 * log(ZIG_V / dn + exp(-0.5 * dn * dn)));
        zig.k[i + 1] = (uint32_t)(dn / tn * m1);
        tn = dn;
        zig.f[i] = exp(-0.5 * dn * dn);
        zig.w[i] = dn / m1;
    }
}

static double normal(rng *r)
{
    for (;;) {
        const uint64_t bits = next_u64(r);
        const int32_t hz = (int32_t)(uint32_t)bits;
        const int iz = (int)((bits >> 32) & 127);
        const uint32_t mag = hz < 0 ? (uint32_t)(-(int64_t)hz) : (uint32_t)hz;
        const double x = hz * zig.w[iz];
        if (mag < zig.k[iz])
            return x; /* inside the layer's rectangle: the common case */
        if (iz == 0) { /* the tail beyond ZIG_R */
            double t, y;
            do {
                t = -log(uniform(r)) / ZIG_R;
                y = -log(uniform(r));
            } while (y + y < t * t);
            return hz > 0 ? ZIG_R + t : -ZIG_R - t;
        }
        if (zig.f[iz] + uniform(r) * (zig.f[iz - 1] - zig.f[iz]) < exp(-0.5 * x * x))
            return x;
    }
}

double gs_llc_normal_check(uint64_t seed, long n, double *var, double *tail3)
{
    rng r;
    zig_setup();
    rng_seed(&r, seed, 0);
    double m = 0.0, v = 0.0;
    long t3 = 0;
    for (long i = 0; i < n; i++) {
        const double x = normal(&r);
        m += x;
        v += x * x;
        t3 += fabs(x) > 3.0;
    }
    *var = v / n - (m / n) * (m / n);
    *tail3 = (double)t3 / n;
    return m / n;
}

/* Fisher-Yates over 0..n-1 */
static void shuffle(rng *r, int32_t *a, int n)
{
    for (int i = n - 1; i > 0; i--) {
        const int j = (int)(next_u64(r) % (uint64_t)(i + 1));
        const int32_t t = a[i];
        a[i] = a[j];
        a[j] = t;
    }
}

int gs_llc_check(const gs_llc_opts *o, int n_data, gs_err *err)
{
    if (!(o->epsilon > 0.0) || !isfinite(o->epsilon))
        return gs_err_set(err, "LLC: the SGLD step size must be positive (got %g)", o->epsilon);
    if (!(o->nbeta > 0.0) || !isfinite(o->nbeta))
        return gs_err_set(err, "LLC: n*beta must be positive (got %g)", o->nbeta);
    if (!(o->gamma >= 0.0) || !isfinite(o->gamma))
        return gs_err_set(err, "LLC: the localization gamma must be >= 0 (got %g)", o->gamma);
    if (o->chains < 1 || o->draws < 1 || o->burnin < 0)
        return gs_err_set(err, "LLC: needs at least one chain and one draw (got %d chains, %d "
                          "draws, %d burn-in)", o->chains, o->draws, o->burnin);
    if (o->batch < 1 || o->batch > n_data)
        return gs_err_set(err, "LLC: batch size %d outside 1..%d (the training examples)",
                          o->batch, n_data);
    return 0;
}

int gs_llc_estimate(const gs_llc_opts *o, const float *w_star, size_t n_params, int n_data,
                    gs_llc_loss_fn loss, void *ctx, gs_llc_result *out, gs_err *err)
{
    if (gs_llc_check(o, n_data, err) != 0)
        return -1;
    float *w = malloc(n_params * sizeof *w), *g = malloc(n_params * sizeof *g);
    int32_t *order = malloc((size_t)n_data * sizeof *order);
    double *per_chain = malloc((size_t)o->chains * sizeof *per_chain);
    if (!w || !g || !order || !per_chain) {
        free(w);
        free(g);
        free(order);
        free(per_chain);
        return gs_err_set(err, "LLC: out of memory");
    }
    zig_setup(); /* the same tables every call: a pure function of two constants */
    for (int i = 0; i < n_data; i++)
        order[i] = i;
    const double loss_star = loss(ctx, w_star, order, n_data, NULL);
    const double half = 0.5 * o->epsilon, noise = sqrt(o->epsilon);
    double total = 0.0;
    for (int c = 0; c < o->chains; c++) {
        rng r;
        rng_seed(&r, o->seed, (uint64_t)c);
        memcpy(w, w_star, n_params * sizeof *w);
        for (int i = 0; i < n_data; i++)
            order[i] = i;
        int at = n_data; /* next unused position of the shuffle */
        double sum = 0.0;
        for (int t = 0; t < o->burnin + o->draws; t++) {
            if (at + o->batch > n_data) {
                shuffle(&r, order, n_data);
                at = 0;
            }
            const double l = loss(ctx, w, order + at, o->batch, g);
            at += o->batch;
            if (t >= o->burnin)
                sum += l;
            for (size_t k = 0; k < n_params; k++) {
                const double drift = o->nbeta * g[k] + o->gamma * ((double)w[k] - w_star[k]);
                w[k] = (float)((double)w[k] - half * drift + noise * normal(&r));
            }
        }
        const double mean = sum / o->draws;
        per_chain[c] = o->nbeta * (mean - loss_star);
        total += mean;
    }
    double m = 0.0, v = 0.0;
    for (int c = 0; c < o->chains; c++)
        m += per_chain[c] / o->chains;
    for (int c = 0; c < o->chains; c++)
        v += (per_chain[c] - m) * (per_chain[c] - m);
    *out = (gs_llc_result){.llc = m, .llc_sd = o->chains > 1 ? sqrt(v / (o->chains - 1)) : 0.0,
                           .loss_star = loss_star, .mean_loss = total / o->chains};
    free(w);
    free(g);
    free(order);
    free(per_chain);
    /* A chain that left the finite numbers (a step too large for this checkpoint, or a
     * diverged run) gives no estimate: NaN, not an error, so the other measures of a
     * run still get written. */
    if (!isfinite(out->llc))
        out->llc = out->llc_sd = NAN;
    return 0;
}
