/* The early-warning measures (docs/early-warning.md): the LLC estimator on a quadratic
 * loss with a known learning coefficient, the loss spectrum on curves with a known
 * spectrum, linear CKA against properties and (argv[1]) the numpy oracle
 * cka_oracle.py, the forecast rules on planted series, and the scoring of a synthetic
 * sweep with planted signals. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "forecast.h"
#include "kernel.h"
#include "llc.h"
#include "score.h"
#include "spectral.h"

/* ---- LLC ---- */

/* L(w) = 1/2 sum_i c_i w_i^2 whatever the batch: a non-degenerate quadratic minimum, whose
 * learning coefficient is d/2. Under SGLD with gamma = 0 each coordinate is Gaussian with
 * variance 1/(nbeta c_i), so nbeta E[L] = d/2 exactly (up to the step's discretization,
 * variance 1/(a (1 - eps a / 4)), a = nbeta c_i). */
typedef struct {
    int d;
    const double *c;
} quad;

static double quad_loss(void *ctx, const float *w, const int32_t *batch, int n, float *grad)
{
    (void)batch;
    (void)n;
    const quad *q = ctx;
    double l = 0.0;
    for (int i = 0; i < q->d; i++) {
        l += 0.5 * q->c[i] * (double)w[i] * w[i];
        if (grad)
            grad[i] = (float)(q->c[i] * w[i]);
    }
    return l;
}

static void test_normals(void)
{
    double var, tail;
    const double mean = gs_llc_normal_check(3, 4000000, &var, &tail);
    CHECK_NEAR(mean, 0.0, 0.002);            /* 4 sd of the mean of 4e6 draws */
    CHECK_NEAR(var, 1.0, 0.003);
    CHECK_NEAR(tail, 0.0026998, 0.0002);     /* P(|x| > 3) of N(0, 1) */
}

static void test_llc_quadratic(void)
{
    const double c[] = {1.0, 2.0, 0.5, 1.5, 1.0, 3.0, 0.8, 1.2, 2.5, 1.0};
    quad q = {.d = 10, .c = c};
    float w0[10] = {0};
    gs_llc_opts o = {.epsilon = 1e-4, .nbeta = 100.0, .gamma = 0.0, .chains = 8, .draws = 20000,
                     .burnin = 2000, .batch = 8, .seed = 7};
    gs_llc_result r;
    gs_err err = {0};
    CHECK(gs_llc_estimate(&o, w0, 10, 64, quad_loss, &q, &r, &err) == 0);
    /* d/2 = 5 within the Monte Carlo error (sd ~1.5% for these draws; 0.3-0.8% bias of the
     * step) */
    printf("LLC of a 10-parameter quadratic: %.3f (d/2 = 5)\n", r.llc);
    CHECK_NEAR(r.llc, 5.0, 0.25);
    CHECK_NEAR(r.loss_star, 0.0, 0.0);
    /* the same seed gives the same bits; another seed another estimate */
    gs_llc_result r2;
    CHECK(gs_llc_estimate(&o, w0, 10, 64, quad_loss, &q, &r2, &err) == 0);
    CHECK(memcmp(&r.llc, &r2.llc, sizeof r.llc) == 0);
    o.seed = 8;
    CHECK(gs_llc_estimate(&o, w0, 10, 64, quad_loss, &q, &r2, &err) == 0 && r2.llc != r.llc);
    /* d = 4 of the coordinates: 2 */
    q.d = 4;
    CHECK(gs_llc_estimate(&o, w0, 4, 64, quad_loss, &q, &r2, &err) == 0);
    CHECK_NEAR(r2.llc, 2.0, 0.12);
    /* localization pulls the chain in: nbeta/(nbeta + gamma c^-1) of d/2 for c = 1 */
    const double one[] = {1, 1, 1, 1};
    q.c = one;
    o.gamma = 100.0;
    CHECK(gs_llc_estimate(&o, w0, 4, 64, quad_loss, &q, &r2, &err) == 0);
    CHECK_NEAR(r2.llc, 2.0 * 100.0 / 200.0, 0.06);
    /* a step far too large: the chain leaves the finite numbers; NaN, not an error */
    o.gamma = 0.0;
    o.epsilon = 1.0;
    o.nbeta = 1e6;
    CHECK(gs_llc_estimate(&o, w0, 4, 64, quad_loss, &q, &r2, &err) == 0 && isnan(r2.llc));
    o.epsilon = 1e-4;
    o.nbeta = 100.0;
    /* bad options: one clear line */
    o.batch = 65;
    CHECK(gs_llc_estimate(&o, w0, 4, 64, quad_loss, &q, &r2, &err) != 0 && strstr(err.msg, "batch size 65"));
    o.batch = 8;
    o.epsilon = 0;
    CHECK(gs_llc_check(&o, 64, &err) != 0 && strstr(err.msg, "step size"));
}

/* ---- loss spectrum ---- */

static void test_spectrum(void)
{
    enum { K = 400 };
    double x[K], power[K / 2 + 1], S;
    gs_err err = {0};
    /* 3 + 0.5 cos(2 pi 7 t / K) + 0.2 sin(2 pi 31 t / K): S = 0.5^2/2 + 0.2^2/2 */
    for (int t = 0; t < K; t++)
        x[t] = 3.0 + 0.5 * cos(2 * M_PI * 7 * t / K) + 0.2 * sin(2 * M_PI * 31 * t / K);
    CHECK(gs_loss_spectrum(x, K, &S, power, &err) == 0);
    CHECK_NEAR(S, 0.125 + 0.02, 1e-12);
    CHECK_NEAR(power[7], 0.125, 1e-12);
    CHECK_NEAR(power[31], 0.02, 1e-12);
    CHECK_NEAR(power[0], 0.0, 1e-20);
    double rest = 0;
    for (int k = 0; k <= K / 2; k++)
        rest += (k == 7 || k == 31) ? 0 : power[k];
    CHECK_NEAR(rest, 0.0, 1e-20);
    /* the Nyquist term counts once: alternating +-a gives a^2 */
    for (int t = 0; t < K; t++)
        x[t] = (t % 2 ? 0.3 : -0.3);
    CHECK(gs_loss_spectrum(x, K, &S, power, &err) == 0);
    CHECK_NEAR(S, 0.09, 1e-12);
    CHECK_NEAR(power[K / 2], 0.09, 1e-12);
    /* Parseval against the variance on an arbitrary curve (odd length) */
    double v = 0, m = 0;
    for (int t = 0; t < 101; t++)
        m += (x[t] = exp(-t / 20.0) + 0.1 * sin(t * t * 0.01)) / 101;
    for (int t = 0; t < 101; t++)
        v += (x[t] - m) * (x[t] - m) / 101;
    CHECK(gs_loss_spectrum(x, 101, &S, NULL, &err) == 0);
    CHECK_NEAR(S, v, 1e-13);
    CHECK(gs_loss_spectrum(x, 1, &S, NULL, &err) != 0 && strstr(err.msg, "at least 2"));
}

/* ---- CKA ---- */

static double cka_of(const float *X, int a, const float *Y, int b, int n)
{
    float *xc = malloc((size_t)a * n * sizeof *xc), *yc = malloc((size_t)b * n * sizeof *yc);
    const int big = a > b ? a : b;
    float *s = malloc((size_t)big * big * sizeof *s);
    gs_cka_center(X, a, n, NULL, n, xc);
    gs_cka_center(Y, b, n, NULL, n, yc);
    const double r = gs_cka_from(gs_cka_cross(xc, a, yc, b, n, s), gs_cka_cross(xc, a, xc, a, n, s),
                                 gs_cka_cross(yc, b, yc, b, n, s));
    free(xc);
    free(yc);
    free(s);
    return r;
}

static double oracle_cka(const char *script, const float *X, int a, const float *Y, int b, int n)
{
    char path[] = "/tmp/gs_cka_oracle_XXXXXX";
    const int fd = mkstemp(path);
    if (fd < 0)
        return NAN;
    FILE *f = fdopen(fd, "wb");
    const int32_t head[3] = {a, b, n};
    int ok = f && fwrite(head, sizeof head, 1, f) == 1;
    for (int i = 0; ok && i < a * n; i++) {
        const double v = X[i];
        ok = fwrite(&v, sizeof v, 1, f) == 1;
    }
    for (int i = 0; ok && i < b * n; i++) {
        const double v = Y[i];
        ok = fwrite(&v, sizeof v, 1, f) == 1;
    }
    if (f)
        ok &= fclose(f) == 0;
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "/usr/bin/python3 '%s' '%s'", script, path);
    double r = NAN;
    FILE *o = ok ? popen(cmd, "r") : NULL;
    if (!o || fscanf(o, "%lf", &r) != 1)
        r = NAN;
    if (o && pclose(o) != 0)
        r = NAN;
    unlink(path);
    return r;
}

static int oracle_skipped;

static void test_cka(const char *oracle)
{
    enum { A = 7, B = 5, N = 60 };
    float X[A * N], Y[B * N], Z[A * N];
    uint64_t s = 12345;
    for (int i = 0; i < A * N; i++) {
        s = s * 6364136223846793005ULL + 1442695040888963407ULL;
        X[i] = (float)((double)(s >> 11) / 9007199254740992.0 - 0.5);
    }
    for (int i = 0; i < B * N; i++) {
        s = s * 6364136223846793005ULL + 1442695040888963407ULL;
        /* partly a function of X, so the alignment is neither 0 nor 1 */
        Y[i] = (float)((double)(s >> 11) / 9007199254740992.0 - 0.5 + X[i % (A * N)]);
    }
    /* itself: 1; invariant to scale and to an offset per feature */
    for (int i = 0; i < A * N; i++)
        Z[i] = 3.0f * X[i] + (float)(i / N);
    CHECK_NEAR(cka_of(X, A, X, A, N), 1.0, 1e-6);
    CHECK_NEAR(cka_of(X, A, Z, A, N), 1.0, 1e-6);
    const double xy = cka_of(X, A, Y, B, N);
    CHECK(xy > 0.05 && xy < 0.95);
    CHECK_NEAR(cka_of(Y, B, X, A, N), xy, 1e-6);
    /* the label kernel: gs_cka_labels equals one-hot features centred */
    int32_t lab[N];
    float onehot[4 * N];
    for (int i = 0; i < N; i++) {
        lab[i] = (i * 7) % 4;
        for (int c = 0; c < 4; c++)
            onehot[c * N + i] = (float)(lab[i] == c);
    }
    float yl[4 * N], yo[4 * N];
    gs_cka_labels(lab, N, 4, yl);
    gs_cka_center(onehot, 4, N, NULL, N, yo);
    for (int i = 0; i < 4 * N; i++)
        CHECK_NEAR(yl[i], yo[i], 1e-7);
    /* a subset of the inputs (rows) equals the same inputs taken alone */
    int32_t rows[N / 2];
    float Xs[A * (N / 2)];
    for (int i = 0; i < N / 2; i++)
        rows[i] = 2 * i + 1;
    for (int f = 0; f < A; f++)
        for (int i = 0; i < N / 2; i++)
            Xs[f * (N / 2) + i] = X[f * N + rows[i]];
    float c1[A * (N / 2)], c2[A * (N / 2)];
    gs_cka_center(X, A, N, rows, N / 2, c1);
    gs_cka_center(Xs, A, N / 2, NULL, N / 2, c2);
    for (int i = 0; i < A * (N / 2); i++)
        CHECK_NEAR(c1[i], c2[i], 0.0);
    CHECK(isnan(gs_cka_from(1.0, 0.0, 1.0)));
    if (!oracle || access("/usr/bin/python3", X_OK) != 0) {
        oracle_skipped = 1;
        return;
    }
    const double o1 = oracle_cka(oracle, X, A, Y, B, N), o2 = oracle_cka(oracle, X, A, onehot, 4, N);
    if (isnan(o1) || isnan(o2)) {
        printf("note: the numpy oracle did not run\n");
        oracle_skipped = 1;
        return;
    }
    /* single-precision products: ~1e-6 relative */
    CHECK_NEAR(xy, o1, 1e-5);
    CHECK_NEAR(cka_of(X, A, onehot, 4, N), o2, 1e-5);
}

/* ---- forecast and score on planted runs ---- */

enum { M = 100, EVERY = 10 };

/* A planted run: fitted at `fit`, 50% at `half`, 99% at `grok` (-1: never); signal s
 * steps by 2 delta (in its units) at fire[s] (-1: never moves). */
typedef struct {
    gs_metrics_row rows[M * EVERY + 1];
    long epoch[M];
    double series[GS_N_SIGNALS][M];
} planted;

static void plant(planted *pl, long fit, long half, long grok, const long fire[GS_N_SIGNALS],
                  gs_forecast_input *in)
{
    const long n = M * EVERY;
    for (long e = 0; e < n; e++)
        pl->rows[e] = (gs_metrics_row){.epoch = e, .train_loss = 1.0, .test_loss = 1.0,
                                        .train_acc = e >= fit ? 1.0 : 0.5,
                                        .test_acc = grok >= 0 && e >= grok ? 1.0
                                                    : half >= 0 && e >= half ? 0.6 : 0.1};
    memset(in, 0, sizeof *in);
    in->rows = pl->rows;
    in->n = n;
    in->m = M;
    in->epoch = pl->epoch;
    in->spectral = NAN;
    for (int k = 0; k < M; k++)
        pl->epoch[k] = (long)k * EVERY;
    for (int s = 0; s < GS_N_SIGNALS; s++) {
        if (s == GS_SIG_SPECTRAL)
            continue;
        const gs_signal_rule *r = &gs_signal_rules[s];
        for (int k = 0; k < M; k++) {
            /* base level, then a step of 2 delta in the signal's direction */
            double v = 1.0;
            if (fire[s] >= 0 && pl->epoch[k] >= fire[s])
                v += (r->rises ? 2 : -2) * r->delta;
            pl->series[s][k] = r->log ? exp(v) : v;
        }
        in->series[s] = pl->series[s];
    }
}

static void test_forecast_and_score(void)
{
    /* run 0 groks: fit 100, half 600, grok 800; signals step at 300, 500, ... The rule
     * confirms at the next checkpoint, so each fires EVERY epochs after its step. */
    static planted pl[3];
    gs_forecast f[3];
    gs_forecast_input in;
    long fire0[GS_N_SIGNALS], fire1[GS_N_SIGNALS], fire2[GS_N_SIGNALS];
    for (int s = 0; s < GS_N_SIGNALS; s++) {
        fire0[s] = 300 + 50 * s;  /* 300 .. 650: the last two after half = 600 */
        fire1[s] = s == GS_SIG_LLC ? 200 : -1; /* the never-generalizing run: one false alarm */
        fire2[s] = 150 + 10 * s;
    }
    plant(&pl[0], 100, 600, 800, fire0, &in);
    in.spectral = GS_FC_SPECTRAL_MIN + 0.1;
    in.spectral_window = 400;
    gs_forecast_compute(&in, &f[0]);
    CHECK(f[0].fitted == 100 && f[0].half == 600 && f[0].grokked == 800);
    for (int s = 0; s < GS_N_SIGNALS; s++) {
        if (s == GS_SIG_SPECTRAL) {
            CHECK(f[0].sig[s].fired && f[0].sig[s].fire_epoch == 399 && f[0].sig[s].predicted == -1);
            continue;
        }
        CHECK(f[0].sig[s].fired && f[0].sig[s].fire_epoch == fire0[s] + EVERY);
        const long gone = fire0[s] + EVERY - 100;
        const double q = gs_signal_rules[s].q, q_hi = fmin(1.0, q * GS_FC_SPREAD);
        CHECK(f[0].sig[s].predicted == 100 + lround(gone / q));
        CHECK(f[0].sig[s].lo == 100 + lround(gone / q_hi) && f[0].sig[s].lo >= fire0[s] + EVERY);
        CHECK(f[0].sig[s].hi == 100 + lround(gone / (q / GS_FC_SPREAD)));
        CHECK(f[0].sig[s].lo <= f[0].sig[s].predicted && f[0].sig[s].predicted <= f[0].sig[s].hi);
    }
    /* a step before the fit is not a warning: the extreme starts at the fit */
    long early[GS_N_SIGNALS];
    for (int s = 0; s < GS_N_SIGNALS; s++)
        early[s] = 50;
    gs_forecast g;
    plant(&pl[1], 100, 600, 800, early, &in);
    gs_forecast_compute(&in, &g);
    for (int s = 0; s < GS_N_SIGNALS; s++)
        CHECK(!g.sig[s].fired);
    /* one noisy checkpoint does not fire it */
    pl[1].series[GS_SIG_GINI][40] = 5.0;
    gs_forecast_compute(&in, &g);
    CHECK(!g.sig[GS_SIG_GINI].fired);

    plant(&pl[1], 100, -1, -1, fire1, &in);
    in.spectral = 0.0;
    in.spectral_window = 400;
    gs_forecast_compute(&in, &f[1]);
    CHECK(f[1].grokked == -1 && f[1].sig[GS_SIG_LLC].fired && !f[1].sig[GS_SIG_GINI].fired);
    CHECK(f[1].sig[GS_SIG_SPECTRAL].available && !f[1].sig[GS_SIG_SPECTRAL].fired);
    plant(&pl[2], 100, 300, 500, fire2, &in);
    gs_forecast_compute(&in, &f[2]);

    gs_score sc;
    double shares[GS_N_SIGNALS * 3];
    gs_err err = {0};
    CHECK(gs_score_runs(f, 3, &sc, shares, &err) == 0);
    for (int s = 0; s < GS_N_SIGNALS; s++) {
        const gs_signal_score *c = &sc.sig[s];
        CHECK(c->n_grok == 2 && c->n_never == 1);
        CHECK(c->false_alarms == (s == GS_SIG_LLC));
        if (s == GS_SIG_SPECTRAL) {
            CHECK(c->fired_grok == 1 && c->caught == 1); /* run 0 only, at 399 < 600 */
            CHECK_NEAR(c->lead50_median, 600 - 399, 0);
            continue;
        }
        const long t0 = fire0[s] + EVERY, t2 = fire2[s] + EVERY;
        CHECK(c->fired_grok == 2);
        CHECK(c->caught == (t0 < 600) + (t2 < 300));
        /* the planted lead times: medians of two runs */
        CHECK_NEAR(c->lead50_median, 0.5 * ((600 - t0) + (300 - t2)), 1e-9);
        CHECK_NEAR(c->lead99_median, 0.5 * ((800 - t0) + (500 - t2)), 1e-9);
        CHECK_NEAR(c->share_median, 0.5 * ((800.0 - t0) / 700 + (500.0 - t2) / 400), 1e-12);
        CHECK_NEAR(shares[s * 3 + 0], (800.0 - t0) / 700, 1e-12);
        CHECK(isnan(shares[s * 3 + 1]));
        /* forecasts counted only when made in the first quarter of the delay */
        const int early0 = 4 * (t0 - 100) <= 700, early2 = 4 * (t2 - 100) <= 400;
        CHECK(c->early_forecasts == early0 + early2);
    }
}

int main(int argc, char **argv)
{
    test_normals();
    test_llc_quadratic();
    test_spectrum();
    test_cka(argc > 1 ? argv[1] : NULL);
    test_forecast_and_score();
    const int rc = check_report("signals");
    if (rc == 0 && oracle_skipped) {
        printf("signals: SKIP (the numpy CKA oracle did not run)\n");
        return 77;
    }
    return rc;
}
