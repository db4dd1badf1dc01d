/* gs_forecast: early-warning signals of grokking and the epoch each one predicts for
 * test accuracy >= 99%, from a run's data so far (docs/early-warning.md gives every rule
 * and its reason; this file is the one place each is defined).
 *
 * Events (per epoch, /metrics): fitted = train accuracy first >= 99%; half = test
 * accuracy first >= 50%; grokked = test accuracy first >= 99%.
 *
 * Per-checkpoint signals are looked at from `fitted` on (before it nothing has been
 * memorized, so nothing can be waiting to generalize). Each has a direction and a
 * threshold delta in its own units (after a log for the losses and the weight norm):
 * it fires at the second of two consecutive available checkpoints at which it has
 * moved by at least delta in its direction from its extreme since `fitted` (the
 * largest value for a falling signal, the smallest for a rising one); the second
 * checkpoint confirms the first, so one noisy checkpoint does not fire it.
 *
 * Prediction: a signal fired at epoch t_f predicts grokked at
 * t_fit + (t_f - t_fit) / q, where q (gs_signal_rule.q) is the share of the fit-to-grok
 * delay gone when it fires, as measured by `grokscope sweep score` on the small
 * benchmark of docs/early-warning.md; the interval takes q from min(1, q * GS_FC_SPREAD)
 * (earliest) to q / GS_FC_SPREAD (latest).
 *
 * The spectral signal is per run: the loss spectrum's energy over the first window
 * epochs (gs_loss_spectrum); it fires at the end of the window if the energy is at
 * least GS_FC_SPECTRAL_MIN. It says whether, not when: no predicted epoch. */
#ifndef GS_FORECAST_H
#define GS_FORECAST_H

#include <stdio.h>

#include "runfile_analysis.h"

#define GS_FC_SPREAD 1.5
#define GS_FC_SPECTRAL_MIN 1.15 /* squared nats */

typedef enum {
    GS_SIG_RESTRICTED, /* restricted loss falls */
    GS_SIG_EXCLUDED,   /* excluded loss rises */
    GS_SIG_GINI,       /* Gini coefficient of W_E in the Fourier basis rises */
    GS_SIG_WEIGHT_NORM,/* sum of squared weights falls */
    GS_SIG_KEY_ENERGY, /* share of the embedding's Fourier energy in its top frequencies rises */
    GS_SIG_LLC,        /* local learning coefficient falls */
    GS_SIG_CKA_LABEL,  /* CKA of the hidden features with the label kernel rises */
    GS_SIG_SPECTRAL,   /* per run: early loss-curve spectral energy */
    GS_N_SIGNALS
} gs_signal_id;

extern const char *const gs_signal_names[GS_N_SIGNALS];

typedef struct {
    int log;         /* compare log(value) */
    int rises;       /* 1: fires on a rise, 0: on a fall */
    double delta;    /* the move that fires it, in (log) units */
    double q;        /* share of the fit-to-grok delay gone when it fires (prediction) */
} gs_signal_rule;

extern const gs_signal_rule gs_signal_rules[GS_N_SIGNALS];

/* What a forecast is computed from. series[s][k] is signal s at checkpoint k (NaN where
 * not measured; NULL for the spectral signal or a series the file lacks). */
typedef struct {
    const gs_metrics_row *rows;
    long n;                        /* per-epoch rows, epochs 0..n-1 */
    const long *epoch;             /* [m] checkpoint epochs */
    long m;
    const double *series[GS_N_SIGNALS];
    double spectral;               /* NaN: not computed */
    long spectral_window;
} gs_forecast_input;

typedef struct {
    int available;   /* the series has any data after fitted (spectral: computed) */
    int fired;
    long fire_epoch; /* -1 if not fired */
    long predicted, lo, hi; /* predicted grokked epoch and interval; -1 if none */
    double last;     /* the last available value */
} gs_signal_state;

typedef struct {
    long fitted, half, grokked; /* -1 if not reached */
    long through;               /* last epoch of the data */
    gs_signal_state sig[GS_N_SIGNALS];
} gs_forecast;

void gs_forecast_compute(const gs_forecast_input *in, gs_forecast *out);

/* Share of the embedding's Fourier energy (squared norms, constant row left out) in
 * its ceil(n_freq / 10) strongest frequencies, from one row of embed_fourier_norm in
 * the basis of a group of order n (n <= p; rows n.. are tokens outside the group). */
double gs_key_energy(const double *embed_norm, int n);

/* A run's data for a forecast, read from an open run (any mode, live or not). */
typedef struct {
    gs_forecast_input in;
    gs_metrics_row *rows;
    long *epoch;
    double *store[GS_N_SIGNALS];
} gs_forecast_data;

int gs_forecast_load(gs_run *run, gs_forecast_data *fd, gs_err *err);
void gs_forecast_data_free(gs_forecast_data *fd);

/* The table of `grokscope forecast`; one_line: the compact line of `analyze --follow`. */
void gs_forecast_print(const gs_forecast *f, FILE *out);
void gs_forecast_print_line(const gs_forecast *f, FILE *out);

#endif
