/* The /analysis group of a run file: progress measures per analysed checkpoint
 * (docs/science.md §4), the neuron clusters and key frequencies, and the phase boundaries (docs/science.md §6).
 *
 * /analysis and all its datasets are created empty with the run (gs_run_create), so
 * that writing them later needs no new objects and happens under SWMR like training:
 * a crash during analysis leaves the checkpoints untouched and the analysis rows
 * committed so far readable. /analysis/epoch is the commit record, written last.
 * Files without /analysis (none written by this version) are refused for writing
 * with a clear message; reading reports "no analysis" (no rows, no keys, no phases).
 * The layout is documented in docs/run-file.md. */
#ifndef GS_RUNFILE_ANALYSIS_H
#define GS_RUNFILE_ANALYSIS_H

#include "runfile.h"

/* One analysed checkpoint. The two arrays have p entries each. */
typedef struct {
    long epoch;
    double train_loss, test_loss, train_acc, test_acc; /* recomputed, p+1 classes */
    double restricted_loss, excluded_loss;             /* p classes, docs/science.md §4 */
    double gini_embed, gini_neuron_logit;
    double weight_norm;                                /* total sum of squared weights */
    double *embed_fourier_norm;                        /* [p] ||(F W_E[:p])[j, :]|| */
    double *neuron_logit_fourier_norm;                 /* [p] ||(W_L F^T)[:, j]|| */
    /* format 1.3 (docs/early-warning.md); NaN where not computed, and when read from a
     * file analysed before they existed */
    double init_distance;   /* ||w - w0|| / ||w0||, w0 the weights at epoch 0 */
    double cka_init;        /* linear CKA of the MLP features with their value at init */
    double cka_label;       /* linear CKA of the MLP features with the one-hot answers */
    double llc;             /* local learning coefficient (SGLD), NaN on skipped checkpoints */
} gs_analysis_row;

/* Number of measures per row, in the order of the scalar fields above; with the two
 * arrays, the series of /analysis. */
#define GS_ANALYSIS_N_SCALARS 9
#define GS_ANALYSIS_N_SERIES (GS_ANALYSIS_N_SCALARS + 2)

/* The dataset name in /analysis of series s (0..GS_ANALYSIS_N_SERIES-1: the scalars in
 * the order above, then embed_fourier_norm, neuron_logit_fourier_norm). */
const char *gs_analysis_series_name(int s);

/* The 1.3 series (init_distance, cka_init, cka_label, llc), in that order. */
#define GS_ANALYSIS_N_SIGNALS 4
const char *gs_analysis_signal_name(int s);
/* 1 if the file holds the 1.3 series (an analysis adds them to older files). */
int gs_run_has_signals(const gs_run *run);

/* How the LLC column was estimated (docs/early-warning.md), stored as
 * /analysis/llc_settings; `every` 0 = LLC not computed. */
typedef struct {
    double epsilon, nbeta, gamma;
    long chains, draws, burnin, batch, every;
    long seed;
} gs_llc_settings;
#define GS_LLC_SETTINGS_ROWS 9
/* Reading returns 0 with *have = 0 when none are stored. */
int gs_run_write_llc_settings(gs_run *run, const gs_llc_settings *s, gs_err *err);
int gs_run_read_llc_settings(gs_run *run, gs_llc_settings *s, int *have, gs_err *err);

/* /analysis/loss_spectrum [window epochs, statistic] (docs/early-warning.md): the
 * spectral energy of the training loss over epochs 0..window-1. Reading gives
 * window 0 and NaN when none is stored. */
int gs_run_write_loss_spectrum(gs_run *run, long window, double statistic, gs_err *err);
int gs_run_read_loss_spectrum(gs_run *run, long *window, double *statistic, gs_err *err);

#define GS_ANALYSIS_MAX_KEYS 64

/* The key frequencies and neuron clusters at one checkpoint. */
typedef struct {
    long epoch;              /* checkpoint they were found at; -1 if given by the user;
                              * -2 when reading finds none stored */
    int n_key;               /* -1 when reading finds none stored */
    int key_freqs[GS_ANALYSIS_MAX_KEYS]; /* ascending, 1..(p-1)/2 */
    int *neuron_freq;        /* [d_mlp], -1 = no cluster (caller's buffer) */
    double *neuron_frac;     /* [d_mlp] fraction of variance in the neuron's best frequency */
} gs_analysis_keys;

/* The phases and the events around them (analysis/phases.h defines them), all epochs,
 * -1 where not reached. A phase whose end is -1 (after one that ended) was still going
 * on at `through`, the last epoch of the data they were found from. */
enum {
    GS_LEVEL_TEST_LOSS,          /* log test loss */
    GS_LEVEL_WEIGHT_NORM,
    GS_LEVEL_GINI_EMBED,
    GS_LEVEL_GINI_NEURON_LOGIT,
    GS_N_LEVELS
};
typedef struct {
    long memorization_end;       /* = start of circuit formation */
    long circuit_end;            /* = start of cleanup */
    long cleanup_end;
    long fitted;                 /* train accuracy first >= 99% */
    long grokked;                /* test accuracy first >= 99% */
    long levelled[GS_N_LEVELS];  /* when each cleanup measure levelled off */
    long through;                /* -1: no phases stored */
    int outdated;                /* reading: the file holds phases found by an earlier
                                  * grokscope under other rules; all fields are -1 */
} gs_analysis_phases;

/* Rows of /analysis/phase_epochs: the three ends, fitted, grokked, the GS_N_LEVELS
 * levelling epochs, then `through`, which is written last and commits the rest.
 * Files analysed by earlier versions hold only the three ends (GS_PHASE_ROWS_OLD). */
#define GS_PHASE_ROWS (5 + GS_N_LEVELS + 1)
#define GS_PHASE_ROWS_OLD 3

/* GS_RUN_ANALYZE-mode open: read-write, SWMR writer, the writer lock held. Refused
 * while a trainer writes the run ("FILE: is being trained right now", err->code
 * GS_ERR_BUSY_TRAINING: such a run can still be read) or another analysis does, and
 * for files without /analysis.
 * Like a resume it clears the flags a killed writer left (under the lock only), but
 * it changes nothing outside /analysis: analysis rows past the committed count are
 * trimmed, the checkpoints, metrics and /status stay as they are. gs_run_append and
 * gs_run_set_status refuse such a handle. */
int gs_run_open_analyze(gs_run **out, const char *path, gs_err *err);

/* 1 if the file has an /analysis group (any reader), 0 if not. */
int gs_run_has_analysis(const gs_run *run);

/* Committed analysed checkpoints: rows of /analysis/epoch (trailing unwritten rows and
 * rows beyond any series' length do not count). Row k is checkpoint k. */
long gs_run_n_analyzed(const gs_run *run);

/* Row i (0-based, < gs_run_n_analyzed); row->embed_fourier_norm etc. must point to
 * caller buffers of p doubles, or be NULL to skip that array. */
int gs_run_read_analysis(gs_run *run, long i, gs_analysis_row *row, gs_err *err);

/* Appends one row (its epoch must be the next checkpoint epoch not yet analysed, i.e.
 * that of checkpoint gs_run_n_analyzed) and flushes: the series first, then, after a
 * flush, the commit record /analysis/epoch. */
int gs_run_append_analysis(gs_run *run, const gs_analysis_row *row, gs_err *err);

/* Drops every analysis row (when the key frequencies change) and the phases, which
 * were derived from them; flushes. The key frequencies stay. */
int gs_run_clear_analysis(gs_run *run, gs_err *err);

/* /analysis/key_freqs, key_freqs_epoch, neuron_freq, neuron_frac_explained. Reading
 * returns 0 with keys->n_key = -1 when none are stored; its neuron buffers may be NULL
 * to skip them. Writing needs both neuron arrays and commits with key_freqs_epoch
 * (written last); it refuses to change the key frequencies while analysis rows
 * computed with them exist (gs_run_clear_analysis first). */
int gs_run_write_keys(gs_run *run, const gs_analysis_keys *keys, gs_err *err);
int gs_run_read_keys(gs_run *run, gs_analysis_keys *keys, gs_err *err);

/* /analysis/phase_epochs [GS_PHASE_ROWS]; reading gives all -1 when none are stored
 * (and sets `outdated` for a file whose phases an earlier version found). Writing
 * checks that `through` is an epoch, every other field -1 or an epoch up to it, and
 * that the three ends found do not decrease; it commits with `through`, written last. */
int gs_run_write_phases(gs_run *run, const gs_analysis_phases *ph, gs_err *err);
int gs_run_read_phases(gs_run *run, gs_analysis_phases *ph, gs_err *err);

/* /analysis/fourier_basis [p, p] (double), written once by the analysis (writing it
 * again overwrites it). Reading returns 1 and fills F[p * p] if it is stored, 0 if
 * not, -1 on error. */
int gs_run_write_fourier_basis(gs_run *run, const double *F, gs_err *err);
int gs_run_read_fourier_basis(gs_run *run, double *F, gs_err *err);

#endif
