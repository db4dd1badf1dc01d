/* Lead times, catches and false alarms of the early-warning signals over many runs
 * (score.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "score.h"

static int cmp_double(const void *a, const void *b)
{
    const double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    if (n == 0)
        return NAN;
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

int gs_score_runs(const gs_forecast *f, int n, gs_score *out, double *shares, gs_err *err)
{
    memset(out, 0, sizeof *out);
    out->n_runs = n;
    double *l50 = malloc((size_t)(n > 0 ? n : 1) * sizeof *l50);
    double *l99 = malloc((size_t)(n > 0 ? n : 1) * sizeof *l99);
    double *sh = malloc((size_t)(n > 0 ? n : 1) * sizeof *sh);
    if (!l50 || !l99 || !sh) {
        free(l50);
        free(l99);
        free(sh);
        return gs_err_set(err, "out of memory");
    }
    for (int s = 0; s < GS_N_SIGNALS; s++) {
        gs_signal_score *sc = &out->sig[s];
        int n50 = 0, n99 = 0, nsh = 0;
        for (int r = 0; r < n; r++) {
            const gs_forecast *fr = &f[r];
            const gs_signal_state *st = &fr->sig[s];
            if (shares)
                shares[(size_t)s * n + r] = NAN;
            const int grok = fr->grokked >= 0 && fr->fitted >= 0 && fr->grokked >= fr->fitted;
            if (fr->grokked < 0) {
                sc->n_never++;
                sc->false_alarms += st->fired;
                continue;
            }
            if (!grok)
                continue; /* generalized before fitting: no delay to warn of */
            sc->n_grok++;
            if (!st->fired)
                continue;
            sc->fired_grok++;
            const long t = st->fire_epoch;
            sc->caught += fr->half >= 0 && t < fr->half;
            if (fr->half >= 0)
                l50[n50++] = (double)(fr->half - t);
            l99[n99++] = (double)(fr->grokked - t);
            const long delay = fr->grokked - fr->fitted;
            if (delay > 0) {
                const double share = (double)(fr->grokked - t) / (double)delay;
                sh[nsh++] = share;
                if (shares)
                    shares[(size_t)s * n + r] = share;
                if (st->predicted >= 0 && 4 * (t - fr->fitted) <= delay) {
                    sc->early_forecasts++;
                    sc->good_forecasts +=
                        fabs((double)(st->predicted - fr->grokked)) <= GS_SCORE_FORECAST_TOL * delay;
                }
            }
        }
        sc->lead50_median = median(l50, n50);
        sc->lead99_median = median(l99, n99);
        sc->share_median = median(sh, nsh);
        sc->share_min = nsh ? sh[0] : NAN; /* sorted by median() */
        sc->share_max = nsh ? sh[nsh - 1] : NAN;
    }
    free(l50);
    free(l99);
    free(sh);
    return 0;
}

void gs_score_print(const gs_score *s, FILE *out, int tsv)
{
    const gs_signal_score *a = &s->sig[0];
    if (tsv)
        fprintf(out, "signal\tgrokking_runs\tfired\tcaught_before_50\tnever_runs\tfalse_alarms\t"
                     "lead50_median\tlead99_median\tlead_share_median\tlead_share_min\t"
                     "lead_share_max\tearly_forecasts\tgood_forecasts\n");
    else
        fprintf(out, "%d runs: %d grokked after fitting, %d never generalized\n"
                     "%-16s %9s %9s %9s %9s %9s %10s %13s\n",
                s->n_runs, a->n_grok, a->n_never, "signal", "caught", "false", "lead50",
                "lead99", "lead/delay", "(min..max)", "forecast±25%");
    for (int k = 0; k < GS_N_SIGNALS; k++) {
        const gs_signal_score *c = &s->sig[k];
        if (tsv) {
            fprintf(out, "%s\t%d\t%d\t%d\t%d\t%d\t%.6g\t%.6g\t%.6g\t%.6g\t%.6g\t%d\t%d\n",
                    gs_signal_names[k], c->n_grok, c->fired_grok, c->caught, c->n_never,
                    c->false_alarms, c->lead50_median, c->lead99_median, c->share_median,
                    c->share_min, c->share_max, c->early_forecasts, c->good_forecasts);
            continue;
        }
        char caught[32], fa[32], l50[32] = "-", l99[32] = "-", sh[32] = "-", mm[40] = "", fc[32] = "-";
        snprintf(caught, sizeof caught, "%d/%d", c->caught, c->n_grok);
        snprintf(fa, sizeof fa, "%d/%d", c->false_alarms, c->n_never);
        if (isfinite(c->lead50_median))
            snprintf(l50, sizeof l50, "%.0f", c->lead50_median);
        if (isfinite(c->lead99_median))
            snprintf(l99, sizeof l99, "%.0f", c->lead99_median);
        if (isfinite(c->share_median)) {
            snprintf(sh, sizeof sh, "%.0f%%", 100 * c->share_median);
            snprintf(mm, sizeof mm, "%.0f..%.0f%%", 100 * c->share_min, 100 * c->share_max);
        }
        if (c->early_forecasts)
            snprintf(fc, sizeof fc, "%d/%d", c->good_forecasts, c->early_forecasts);
        fprintf(out, "%-16s %9s %9s %9s %9s %9s %10s %13s\n", gs_signal_names[k], caught, fa, l50,
                l99, sh, mm, fc);
    }
}
