/* gs_llc: the local learning coefficient of a loss at a point w*, estimated by SGLD
 * around w* as devinterp does (slt/llc.py, optim/sgld.py; docs/early-warning.md):
 *
 *     w <- w - (eps/2) (nbeta grad L_batch(w) + gamma (w - w*)) + N(0, eps)   per step,
 *     llc = nbeta (E[L_batch(w)] - L_n(w*)),
 *
 * E over the draws after burn-in of every chain (the loss of each step's batch, at the
 * weights the step starts from, as devinterp records it), L_n(w*) the loss at w* over
 * all n examples. nbeta is one number, the inverse temperature times the sample size
 * (devinterp's nbeta; its default is batch / ln(batch)). Batches are drawn without
 * replacement, a fresh shuffle of the n examples whenever one is used up.
 *
 * The loss is a callback, so the estimator knows nothing of the model: it sees a flat
 * vector of float weights. Reproducible: the same seed gives the same bits (one
 * xoshiro256** stream per chain, seeded through splitmix64 from seed and chain; its
 * Gaussian draws by the ziggurat method). */
#ifndef GS_PROBE_LLC_H
#define GS_PROBE_LLC_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

typedef struct {
    double epsilon; /* step size; also the variance of the Gaussian noise */
    double nbeta;   /* n * beta */
    double gamma;   /* localization strength */
    int chains, draws, burnin, batch;
    uint64_t seed;
} gs_llc_opts;

/* Mean loss over the n examples batch[0..n) at weights w (n_params floats, which the
 * callback may not change); when grad is not NULL, also writes the gradient of that
 * mean into grad (overwriting). n may exceed the batch size only when grad is NULL. */
typedef double (*gs_llc_loss_fn)(void *ctx, const float *w, const int32_t *batch, int n,
                                 float *grad);

typedef struct {
    double llc;        /* mean over chains */
    double llc_sd;     /* standard deviation over chains (0 with one chain) */
    double loss_star;  /* L_n(w*) */
    double mean_loss;  /* E[L_batch(w)] over all draws */
} gs_llc_result;

/* Checks the options (positive step, nbeta, draws, chains, batch 1..n; gamma >= 0). */
int gs_llc_check(const gs_llc_opts *o, int n_data, gs_err *err);

/* Runs the chains from w_star over the examples 0..n_data-1. 0, or -1 with err (bad
 * options, out of memory); out->llc is NaN when a chain's loss was not finite. */
int gs_llc_estimate(const gs_llc_opts *o, const float *w_star, size_t n_params, int n_data,
                    gs_llc_loss_fn loss, void *ctx, gs_llc_result *out, gs_err *err);

/* The estimator's Gaussian generator on its own, for tests: n draws from stream seed;
 * returns their mean, with their variance and the share beyond |x| > 3. */
double gs_llc_normal_check(uint64_t seed, long n, double *var, double *tail3);

#endif
