/* Early-warning signals and their predictions (forecast.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "circuit.h"
#include "forecast.h"
#include "fourier_freqs.h"
#include "phases.h"

const char *const gs_signal_names[GS_N_SIGNALS] = {
    "restricted_loss", "excluded_loss", "gini_embed", "weight_norm", "key_energy", "llc",
    "cka_label", "spectral"};

/* The thresholds and shares: docs/early-warning.md says how they were chosen (the
 * deltas by eye on one run, then the LLC's and the spectral threshold and every q from
 * the small benchmark). */
const gs_signal_rule gs_signal_rules[GS_N_SIGNALS] = {
    [GS_SIG_RESTRICTED] = {.log = 1, .rises = 0, .delta = 0.6931471805599453, .q = 0.16}, /* halved */
    [GS_SIG_EXCLUDED] = {.log = 1, .rises = 1, .delta = 1.0986122886681098, .q = 0.40},   /* x3 */
    [GS_SIG_GINI] = {.log = 0, .rises = 1, .delta = 0.05, .q = 0.17},
    [GS_SIG_WEIGHT_NORM] = {.log = 1, .rises = 0, .delta = 0.2231435513142097, .q = 0.48}, /* -20% */
    [GS_SIG_KEY_ENERGY] = {.log = 0, .rises = 1, .delta = 0.1, .q = 0.29},
    [GS_SIG_LLC] = {.log = 1, .rises = 0, .delta = 1.0986122886681098, .q = 0.94},         /* /3 */
    [GS_SIG_CKA_LABEL] = {.log = 1, .rises = 1, .delta = 0.6931471805599453, .q = 0.30},   /* x2 */
    [GS_SIG_SPECTRAL] = {.log = 0, .rises = 1, .delta = GS_FC_SPECTRAL_MIN, .q = 0},
};

static long first_epoch(const gs_metrics_row *rows, long n, int test, double level)
{
    for (long e = 0; e < n; e++) {
        const double a = test ? rows[e].test_acc : rows[e].train_acc;
        if (!isfinite(rows[e].train_loss))
            return -1; /* a diverged run: nothing after it counts */
        if (a >= level)
            return e;
    }
    return -1;
}

static void predict(gs_signal_state *s, double q, long fitted)
{
    const double gone = (double)(s->fire_epoch - fitted);
    const double q_hi = q * GS_FC_SPREAD < 1.0 ? q * GS_FC_SPREAD : 1.0;
    s->predicted = fitted + lround(gone / q);
    s->lo = fitted + lround(gone / q_hi);
    s->hi = fitted + lround(gone / (q / GS_FC_SPREAD));
}

static void one_signal(const gs_forecast_input *in, int sig, long fitted, gs_signal_state *s)
{
    const gs_signal_rule *r = &gs_signal_rules[sig];
    const double *x = in->series[sig];
    double ext = NAN;
    int pending = 0; /* the previous available checkpoint met the threshold */
    for (long k = 0; x && k < in->m; k++) {
        if (in->epoch[k] < fitted || !isfinite(x[k]) || (r->log && !(x[k] > 0.0)))
            continue;
        const double v = r->log ? log(x[k]) : x[k];
        s->available = 1;
        s->last = x[k];
        if (s->fired)
            continue;
        if (isnan(ext) || (r->rises ? v < ext : v > ext))
            ext = v;
        const int met = (r->rises ? v - ext : ext - v) >= r->delta;
        if (met && pending) {
            s->fired = 1;
            s->fire_epoch = in->epoch[k];
        }
        pending = met;
    }
}

void gs_forecast_compute(const gs_forecast_input *in, gs_forecast *out)
{
    memset(out, 0, sizeof *out);
    out->fitted = first_epoch(in->rows, in->n, 0, GS_PHASE_ACC);
    out->half = first_epoch(in->rows, in->n, 1, 0.5);
    out->grokked = first_epoch(in->rows, in->n, 1, GS_PHASE_ACC);
    out->through = in->n - 1;
    for (int s = 0; s < GS_N_SIGNALS; s++)
        out->sig[s] = (gs_signal_state){.fire_epoch = -1, .predicted = -1, .lo = -1, .hi = -1,
                                        .last = NAN};
    if (in->spectral_window > 0 && isfinite(in->spectral)) {
        gs_signal_state *s = &out->sig[GS_SIG_SPECTRAL];
        s->available = 1;
        s->last = in->spectral;
        if (in->spectral >= gs_signal_rules[GS_SIG_SPECTRAL].delta) {
            s->fired = 1;
            s->fire_epoch = in->spectral_window - 1;
        }
    }
    if (out->fitted < 0)
        return;
    for (int s = 0; s < GS_N_SIGNALS; s++) {
        if (s == GS_SIG_SPECTRAL)
            continue;
        one_signal(in, s, out->fitted, &out->sig[s]);
        if (out->sig[s].fired)
            predict(&out->sig[s], gs_signal_rules[s].q, out->fitted);
    }
}

double gs_key_energy(const double *embed_norm, int n)
{
    const int n_freq = gs_fourier_n_freq(n);
    if (n_freq < 1)
        return NAN;
    double e[n_freq], total = 0.0;
    for (int w = 1; w <= n_freq; w++) {
        const int c = gs_fourier_cos_row(w), sn = gs_fourier_sin_row(n, w);
        e[w - 1] = embed_norm[c] * embed_norm[c] + (sn >= 0 ? embed_norm[sn] * embed_norm[sn] : 0.0);
        total += e[w - 1];
    }
    if (!(total > 0.0))
        return NAN;
    const int top = (n_freq + 9) / 10;
    double got = 0.0;
    for (int t = 0; t < top; t++) { /* the top frequencies by selection: n_freq is small */
        int best = 0;
        for (int w = 1; w < n_freq; w++)
            if (e[w] > e[best])
                best = w;
        got += e[best];
        e[best] = -1.0;
    }
    return got / total;
}

void gs_forecast_data_free(gs_forecast_data *fd)
{
    free(fd->rows);
    free(fd->epoch);
    for (int s = 0; s < GS_N_SIGNALS; s++)
        free(fd->store[s]);
    memset(fd, 0, sizeof *fd);
}

int gs_forecast_load(gs_run *run, gs_forecast_data *fd, gs_err *err)
{
    memset(fd, 0, sizeof *fd);
    const long n = gs_run_n_metrics(run), m = gs_run_has_analysis(run) ? gs_run_n_analyzed(run) : 0;
    const int p = gs_run_dims(run)->p;
    const int order = gs_circuit_order(gs_run_config(run)->op, p);
    double *norms = malloc((size_t)p * sizeof *norms);
    fd->rows = malloc((size_t)(n > 0 ? n : 1) * sizeof *fd->rows);
    fd->epoch = malloc((size_t)(m > 0 ? m : 1) * sizeof *fd->epoch);
    int ok = norms && fd->rows && fd->epoch;
    for (int s = 0; s < GS_N_SIGNALS && ok; s++)
        if (s != GS_SIG_SPECTRAL)
            ok = (fd->store[s] = malloc((size_t)(m > 0 ? m : 1) * sizeof(double))) != NULL;
    if (!ok) {
        free(norms);
        gs_forecast_data_free(fd);
        return gs_err_set(err, "out of memory");
    }
    if (n > 0 && gs_run_read_metrics(run, 0, n, fd->rows, err) != 0)
        goto fail;
    for (long k = 0; k < m; k++) {
        gs_analysis_row r = {.embed_fourier_norm = norms};
        if (gs_run_read_analysis(run, k, &r, err) != 0)
            goto fail;
        fd->epoch[k] = r.epoch;
        fd->store[GS_SIG_RESTRICTED][k] = r.restricted_loss;
        fd->store[GS_SIG_EXCLUDED][k] = r.excluded_loss;
        fd->store[GS_SIG_GINI][k] = r.gini_embed;
        fd->store[GS_SIG_WEIGHT_NORM][k] = r.weight_norm;
        fd->store[GS_SIG_KEY_ENERGY][k] = order > 0 ? gs_key_energy(norms, order) : NAN;
        fd->store[GS_SIG_LLC][k] = r.llc;
        fd->store[GS_SIG_CKA_LABEL][k] = r.cka_label;
    }
    free(norms);
    norms = NULL;
    if (gs_run_read_loss_spectrum(run, &fd->in.spectral_window, &fd->in.spectral, err) != 0)
        goto fail;
    fd->in.rows = fd->rows;
    fd->in.n = n;
    fd->in.epoch = fd->epoch;
    fd->in.m = m;
    for (int s = 0; s < GS_N_SIGNALS; s++)
        fd->in.series[s] = fd->store[s];
    return 0;
fail:
    free(norms);
    gs_forecast_data_free(fd);
    return -1;
}

static void epoch_or(char *buf, size_t size, long e, const char *none)
{
    if (e >= 0)
        snprintf(buf, size, "%ld", e);
    else
        snprintf(buf, size, "%s", none);
}

void gs_forecast_print(const gs_forecast *f, FILE *out)
{
    char a[32], b[32], c[32];
    epoch_or(a, sizeof a, f->fitted, "not yet");
    epoch_or(b, sizeof b, f->half, "not yet");
    epoch_or(c, sizeof c, f->grokked, "not yet");
    fprintf(out, "data through epoch %ld; train acc >= 99%% at %s; test acc >= 50%% at %s, "
                 ">= 99%% at %s\n", f->through, a, b, c);
    fprintf(out, "%-16s %-6s %10s %12s  %s\n", "signal", "fired", "at epoch", "predicts 99%",
            "interval");
    for (int s = 0; s < GS_N_SIGNALS; s++) {
        const gs_signal_state *st = &f->sig[s];
        char at[32] = "-", pred[32] = "-", iv[64] = "-";
        if (st->fired)
            snprintf(at, sizeof at, "%ld", st->fire_epoch);
        if (st->predicted >= 0) {
            snprintf(pred, sizeof pred, "%ld", st->predicted);
            snprintf(iv, sizeof iv, "%ld..%ld", st->lo, st->hi);
        } else if (s == GS_SIG_SPECTRAL && st->fired) {
            snprintf(iv, sizeof iv, "(says whether, not when)");
        }
        const char *state = !st->available ? (f->fitted < 0 && s != GS_SIG_SPECTRAL ? "wait" : "n/a")
                            : st->fired ? "yes" : "no";
        fprintf(out, "%-16s %-6s %10s %12s  %s\n", gs_signal_names[s], state, at, pred, iv);
    }
}

void gs_forecast_print_line(const gs_forecast *f, FILE *out)
{
    fprintf(out, "forecast:");
    int any = 0;
    for (int s = 0; s < GS_N_SIGNALS; s++) {
        const gs_signal_state *st = &f->sig[s];
        if (!st->fired)
            continue;
        any = 1;
        if (st->predicted >= 0)
            fprintf(out, " %s@%ld->%ld", gs_signal_names[s], st->fire_epoch, st->predicted);
        else
            fprintf(out, " %s@%ld", gs_signal_names[s], st->fire_epoch);
    }
    if (!any)
        fprintf(out, f->fitted < 0 ? " waiting for the fit (train acc < 99%%)" : " no signal yet");
    if (f->grokked >= 0)
        fprintf(out, "  (grokked at %ld)", f->grokked);
    fprintf(out, "\n");
}
