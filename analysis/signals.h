/* gs_signals: the lazy-vs-rich and early-warning measures of one checkpoint
 * (docs/early-warning.md): the relative distance of the weights from their init, the
 * linear CKA of the hidden features with their value at init and with the label
 * kernel, and the local learning coefficient by SGLD around the checkpoint.
 *
 * The hidden features are the MLP post-activations at the last position (the probe's
 * activation grid), over every input with an answer (all p*p for add; div leaves out
 * b = 0). One context per run, made from the first checkpoint (the init: epoch 0 in
 * every run grokscope trains), reused for every checkpoint. The LLC runs the model
 * through gs_model_forward / gs_model_backward only (core/model.h). */
#ifndef GS_SIGNALS_H
#define GS_SIGNALS_H

#include "llc.h"
#include "measures.h"
#include "runfile_analysis.h"

/* Defaults (docs/early-warning.md explains them): devinterp's grokking example's
 * step and localization, nbeta from the batch as devinterp's default does. */
#define GS_LLC_EPS 1e-4
#define GS_LLC_GAMMA 5.0
#define GS_LLC_CHAINS 1
#define GS_LLC_DRAWS 100
#define GS_LLC_BURNIN 0
#define GS_LLC_BATCH 512
#define GS_LLC_EVERY 10       /* the LLC on every 10th checkpoint (0, 10, 20, ...) */
#define GS_SPECTRAL_WINDOW 400 /* Notsawo et al.'s first 400 steps */

typedef struct {
    int llc_every;     /* LLC on checkpoints k with k % llc_every == 0; 0 = never */
    gs_llc_opts llc;   /* nbeta <= 0: batch / ln(batch), devinterp's default */
} gs_signal_opts;

void gs_signal_opts_default(gs_signal_opts *o);
/* nbeta as used: o->llc.nbeta if set, else batch / ln(batch). */
double gs_signal_nbeta(const gs_signal_opts *o);

typedef struct {
    gs_probe *probe;   /* borrowed */
    size_t n_params;
    float *w0;
    double w0_norm;
    int n_rows;        /* inputs with an answer */
    int32_t *rows, *labels;
    float *x0c, *xc, *yc; /* centred features: init [M, n], current [M, n], labels [p, n] */
    float *scratch;    /* [max(M, p), max(M, p)] */
    double x0x0, yy;   /* ||X0c X0c^T||_F^2, ||Yc Yc^T||_F^2 */
    /* the LLC's model and data */
    gs_model model;
    int have_model;
    int32_t *train_idx, *train_tgt, *bidx, *btgt;
    int n_train;
    gs_signal_opts opts;
} gs_signals;

/* Builds the context from the init weights w0 for a probe of the run, whose split is
 * the training data of the LLC. 0 or -1 with err. */
int gs_signals_create(gs_signals *s, gs_probe *pr, const float *w0, const gs_signal_opts *o,
                      gs_err *err);
void gs_signals_free(gs_signals *s);

/* Measures checkpoint params (ck: its index, for llc_every) into row->init_distance,
 * cka_init, cka_label, llc (NaN when not estimated at ck or with_llc = 0). The CKA reads
 * the probe's activation grid, which must be that of params: the caller's last
 * gs_probe_forward or gs_probe_measure_grid on params had want_grid = 1. */
int gs_signals_measure(gs_signals *s, const float *params, int ck, int with_llc,
                       gs_analysis_row *row, gs_err *err);

#endif
