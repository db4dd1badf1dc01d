/* gs_score: how early and how reliably each early-warning signal (forecast.h) fires,
 * over the runs of a sweep (docs/early-warning.md, "Scoring").
 *
 * A run counts as grokking if its test accuracy reached 99% after its training set was
 * fitted (grokked >= fitted >= 0), as never generalizing if its test accuracy never
 * reached 99%; others (test 99% before the fit, or no fit and no 99%: see below) count
 * as never generalizing too when they never reach 99%.
 * For a grokking run where signal s fired at t_f:
 *     lead50 = half - t_f, lead99 = grokked - t_f,
 *     share  = lead99 / (grokked - fitted)  (of the memorization-to-generalization delay),
 *     caught = t_f < half (fired before test accuracy passed 50%),
 *     good forecast = |predicted - grokked| <= GS_SCORE_FORECAST_TOL (grokked - fitted)
 *                     for a prediction made by t_f <= fitted + (grokked - fitted) / 4.
 * A false alarm: the signal fired on a run that never generalized. */
#ifndef GS_SCORE_H
#define GS_SCORE_H

#include <stdio.h>

#include "forecast.h"

#define GS_SCORE_FORECAST_TOL 0.25

typedef struct {
    int n_grok, n_never;     /* runs of each kind (the same for every signal) */
    int fired_grok;          /* grokking runs where it fired at all */
    int caught;              /* ... fired before test accuracy 50% */
    int false_alarms;        /* never-generalizing runs where it fired */
    int early_forecasts;     /* grokking runs it fired on within the first quarter of the delay */
    int good_forecasts;      /* ... whose prediction lands within 25% of the delay */
    double lead50_median, lead99_median, share_median, share_min, share_max; /* NaN: none */
} gs_signal_score;

typedef struct {
    int n_runs;
    gs_signal_score sig[GS_N_SIGNALS];
} gs_score;

/* Scores n forecasts (one per ended run). shares (may be NULL) receives, per signal, the
 * share of each grokking run where it fired, [s * n + r], NaN elsewhere. 0 or -1 (out
 * of memory). */
int gs_score_runs(const gs_forecast *f, int n, gs_score *out, double *shares, gs_err *err);

/* The table: one line per signal; tsv = 1 for the tab-separated file form. */
void gs_score_print(const gs_score *s, FILE *out, int tsv);

#endif
