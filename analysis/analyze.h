/* gs_analyze: the progress measures of docs/science.md §4 over every checkpoint of a run, written
 * into the run's /analysis group; incremental (only checkpoints not yet analysed are
 * computed, unless the key frequencies changed), streaming (one checkpoint in memory at
 * a time), and able to follow a run while it trains. */
#ifndef GS_ANALYZE_H
#define GS_ANALYZE_H

#include <stdio.h>

#include "measures.h"
#include "runfile_analysis.h"
#include "signals.h"

typedef struct {
    const char *path;
    int n_user_keys;               /* -1: find them from the neuron clusters */
    int user_keys[GS_ANALYSIS_MAX_KEYS];
    long cluster_epoch;            /* checkpoint for the clusters; -1 = the last */
    gs_cluster_rule rule;
    double threshold;
    int follow;                    /* wait for new checkpoints until training ends */
    /* Progress report (may be NULL): done of total checkpoints, a detail string, and
     * force = 1 for a line that must be shown (the last one, or a live-run line). */
    void (*progress)(void *ctx, long done, long total, const char *detail, int force);
    void *progress_ctx;
    FILE *log;                     /* where follow mode prints its live lines; NULL = none */
    /* format 1.3, docs/early-warning.md: distance from init, kernel alignment, LLC (on
     * every sig.llc_every-th checkpoint; follow mode's live lines skip it) and the
     * loss spectrum over the first spectral_window epochs */
    gs_signal_opts sig;
    long spectral_window;
} gs_analyze_opts;

void gs_analyze_opts_default(gs_analyze_opts *o);

/* Parses "14,35,41" into keys (distinct, 1..n_freq); 0 or -1 with err. */
int gs_parse_key_freqs(const char *s, int n_freq, int *keys, int *n, gs_err *err);

/* Runs the analysis; 0 or -1 with one line in err. */
int gs_analyze_run(const gs_analyze_opts *o, gs_err *err);

/* Prints the analysis summary of an open run (key frequencies, final measures,
 * crossings, phases), or nothing if it has none. */
int gs_analysis_print_summary(gs_run *run, FILE *out, gs_err *err);

#endif
