/* The analysis summary printed by analyze, info and demo. */
#include <math.h>
#include <stdlib.h>

#include "analyze.h"
#include "circuit.h"
#include "phases.h"

/* First analysed checkpoint (at or after `from`) where value crosses level
 * (below = 1: falls below it; 0: rises above it); -1 if never. */
static long crossing(const long *epoch, const double *v, long n, long from, double level, int below)
{
    for (long i = 0; i < n; i++)
        if (epoch[i] >= from && (below ? v[i] < level : v[i] > level))
            return epoch[i];
    return -1;
}

static void print_crossing(FILE *out, const char *what, long epoch)
{
    if (epoch >= 0)
        fprintf(out, "           %-44s epoch %ld\n", what, epoch);
    else
        fprintf(out, "           %-44s never\n", what);
}

/* The phases in words: each that ended with its epochs, the one still going on with
 * where it began and how far the data go, and when the measures of cleanup levelled. */
static void print_phases(gs_run *run, const gs_analysis_phases *ph, const gs_analysis_row *first,
                         FILE *out)
{
    const char *path = gs_run_path(run);
    if (ph->outdated) {
        fprintf(out, "phases     found by an earlier grokscope under other rules; run grokscope "
                     "analyze %s to find them again\n", path);
        return;
    }
    if (ph->through < 0) {
        fprintf(out, "phases     not found yet (run: grokscope analyze %s)\n", path);
        return;
    }
    const double acc = 100 * GS_PHASE_ACC;
    fprintf(out, "phases     ");
    if (ph->memorization_end < 0 && ph->fitted < 0)
        fprintf(out, "memorization, not finished by epoch %ld: the training set is not fitted "
                     "(train accuracy < %.0f%%)\n", ph->through, acc);
    else if (ph->memorization_end < 0)
        fprintf(out, "memorization, not finished by epoch %ld: the test loss is still rising\n",
                ph->through);
    else if (ph->circuit_end < 0)
        fprintf(out, "memorization 0-%ld, circuit formation from %ld, not finished by epoch %ld: "
                     "the run has not generalized (test accuracy < %.0f%%)\n",
                ph->memorization_end, ph->memorization_end, ph->through, acc);
    else if (ph->cleanup_end < 0)
        fprintf(out, "memorization 0-%ld, circuit formation %ld-%ld, cleanup from %ld, not "
                     "finished by epoch %ld\n",
                ph->memorization_end, ph->memorization_end, ph->circuit_end, ph->circuit_end,
                ph->through);
    else
        fprintf(out, "memorization 0-%ld, circuit formation %ld-%ld, cleanup %ld-%ld\n",
                ph->memorization_end, ph->memorization_end, ph->circuit_end, ph->circuit_end,
                ph->cleanup_end);
    if (ph->circuit_end >= 0) {
        fprintf(out, "levelled  ");
        for (int k = 0, shown = 0; k < GS_N_LEVELS; k++) {
            if (!gs_phases_level_defined(first, k))
                continue; /* no such measure for this model (the measures line says why) */
            fprintf(out, "%s %s ", shown++ ? "," : "", gs_phases_level_names[k]);
            if (ph->levelled[k] >= 0)
                fprintf(out, "at %ld", ph->levelled[k]);
            else
                fprintf(out, "not yet");
        }
        fprintf(out, "  (%.0f%% of its change in cleanup made, and held)\n", 100 * GS_PHASE_SHARE);
    }
    if (gs_run_n_analyzed(run) < gs_run_n_checkpoints(run))
        fprintf(out, "           (found from epochs 0-%ld, before the run grew: run grokscope "
                     "analyze %s)\n", ph->through, path);
}

int gs_analysis_print_summary(gs_run *run, FILE *out, gs_err *err)
{
    if (!gs_run_has_analysis(run))
        return 0;
    const long n = gs_run_n_analyzed(run);
    const int n_ck = gs_run_n_checkpoints(run);
    const gs_dims *d = gs_run_dims(run);
    if (n == 0) {
        fprintf(out, "analysis   none yet (run: grokscope analyze %s)\n", gs_run_path(run));
        return 0;
    }
    int rc = -1;
    long *epoch = malloc((size_t)n * sizeof *epoch);
    double *restricted = malloc((size_t)n * sizeof *restricted);
    double *excluded = malloc((size_t)n * sizeof *excluded);
    double *test = malloc((size_t)n * sizeof *test);
    double *norms = malloc(2 * (size_t)d->p * sizeof *norms);
    int *nf = malloc((size_t)d->d_mlp * sizeof *nf);
    double *nfrac = malloc((size_t)d->d_mlp * sizeof *nfrac);
    gs_analysis_row row = {0}, first = {0};
    if (!epoch || !restricted || !excluded || !test || !norms || !nf || !nfrac) {
        gs_err_set(err, "out of memory");
        goto out;
    }
    row.embed_fourier_norm = norms;
    row.neuron_logit_fourier_norm = norms + d->p;
    for (long i = 0; i < n; i++) {
        if (gs_run_read_analysis(run, i, &row, err) != 0)
            goto out;
        if (i == 0)
            first = row;
        epoch[i] = row.epoch;
        restricted[i] = row.restricted_loss;
        excluded[i] = row.excluded_loss;
        test[i] = row.test_loss;
    }
    gs_analysis_keys keys = {.neuron_freq = nf, .neuron_frac = nfrac};
    gs_analysis_phases ph;
    if (gs_run_read_keys(run, &keys, err) != 0 || gs_run_read_phases(run, &ph, err) != 0)
        goto out;
    fprintf(out, "analysis   %ld of %d checkpoints analysed\n", n, n_ck);
    fprintf(out, "key freqs ");
    const int no_basis = gs_run_basis_order(run) == 0;
    if (keys.n_key <= 0)
        fprintf(out, no_basis ? " none (the task has no Fourier basis)"
                              : " none (no frequency holds 1%% of the neurons)");
    for (int k = 0; k < keys.n_key; k++)
        fprintf(out, " %d", keys.key_freqs[k]);
    if (no_basis) {
        fprintf(out, "\n");
    } else if (keys.epoch >= 0) {
        int clustered = 0;
        for (int j = 0; j < d->d_mlp; j++)
            clustered += nf[j] >= 0;
        fprintf(out, "  (neuron clusters at epoch %ld: %d of %d neurons clustered)\n", keys.epoch,
                clustered, d->d_mlp);
    } else {
        fprintf(out, "  (given by the user)\n");
    }
    /* the measures without meaning for this op are NaN: left out (info says why) */
    fprintf(out, "final      epoch %ld: ", row.epoch);
    if (!isnan(row.restricted_loss))
        fprintf(out, "restricted loss %.3g, excluded loss %.3g, ", row.restricted_loss,
                row.excluded_loss);
    if (!isnan(row.gini_embed))
        fprintf(out, "Gini W_E %.3f, ", row.gini_embed);
    if (!isnan(row.gini_neuron_logit))
        fprintf(out, "Gini W_L %.3f, ", row.gini_neuron_logit);
    fprintf(out, "sum sq. weights %.1f (from %.1f)\n", row.weight_norm, first.weight_norm);
    if (!isnan(row.restricted_loss) && ph.memorization_end >= 0) {
        /* At init every loss is near log p, so crossings count from memorization on. */
        const long from = ph.memorization_end;
        const double chance = log((double)d->p);
        long below_test = -1;
        for (long i = 0; i < n && below_test < 0; i++)
            if (epoch[i] >= from && restricted[i] < test[i])
                below_test = epoch[i];
        fprintf(out, "crossings  (after memorization, at checkpoint resolution)\n");
        /* (the test loss's peak is the end of memorization, under phases below) */
        print_crossing(out, "restricted loss below test loss", below_test);
        print_crossing(out, "restricted loss < 1", crossing(epoch, restricted, n, from, 1.0, 1));
        print_crossing(out, "excluded loss > log p (worse than chance)", crossing(epoch, excluded, n, from, chance, 0));
        print_crossing(out, "test loss < 0.1", crossing(epoch, test, n, from, 0.1, 1));
    }
    print_phases(run, &ph, &first, out);
    rc = 0;
out:
    free(epoch);
    free(restricted);
    free(excluded);
    free(test);
    free(norms);
    free(nf);
    free(nfrac);
    return rc;
}
