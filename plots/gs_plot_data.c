/* Reading what the figures show from a run file: per-epoch metrics, the analysis rows,
 * neuron clusters and phases. Refuses a run whose analysis does not cover every
 * checkpoint, so no figure ever shows part of a run as if it were all of it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plot_internal.h"

void gs_plot_data_free(gs_plot_data *d)
{
    free(d->metrics);
    free(d->rows);
    free(d->norms);
    free(d->keys.neuron_freq);
    free(d->keys.neuron_frac);
    memset(d, 0, sizeof *d);
}

/* Runs of mul and div analysed before their discrete-log basis existed hold measures
 * in Z_p. The stored basis tells: its constant row is 1/sqrt(p) at token 0 in Z_p and 0
 * in a discrete-log basis, where token 0 lies outside the group. */
static int check_basis(gs_run *run, const gs_plot_data *d, gs_err *err)
{
    if (d->n_basis == 0 || d->n_basis == d->p)
        return 0;
    double *B = malloc((size_t)d->p * d->p * sizeof *B);
    if (!B)
        return gs_err_set(err, "out of memory");
    const int have = gs_run_read_fourier_basis(run, B, err);
    const int stale = have > 0 && B[0] != 0.0;
    free(B);
    if (have < 0)
        return -1;
    if (stale)
        return gs_err_set(err, "%s: analysed in the Fourier basis of Z_%d by an older grokscope; "
                          "op %s is now measured by discrete log (run: grokscope analyze %s)",
                          d->path, d->p, gs_op_name(d->cfg.op), d->path);
    return 0;
}

static int read_all(gs_run *run, gs_plot_data *d, gs_err *err)
{
    const gs_dims *dims = gs_run_dims(run);
    const char *path = gs_run_path(run);
    const int n_ck = gs_run_n_checkpoints(run);
    d->cfg = *gs_run_config(run);
    d->p = dims->p;
    d->d_mlp = dims->d_mlp;
    /* images have no Fourier basis (the run file's circuit_measures says why) */
    const int images = d->cfg.task == GS_TASK_MNIST;
    d->n_basis = gs_run_basis_order(run);
    d->n_freq = d->n_basis / 2;
    d->have_circuit = !images && gs_circuit_exists(d->cfg.op, d->p);
    snprintf(d->circuit_note, sizeof d->circuit_note, "%s", gs_run_circuit_note(run));
    d->have_embed = d->cfg.model == GS_MODEL_TRANSFORMER || d->cfg.d_embed > 0;
    d->have_neuron_logit = d->cfg.model == GS_MODEL_TRANSFORMER;
    snprintf(d->model_note, sizeof d->model_note, "%s", gs_run_model_note(run));
    if (n_ck == 0)
        return gs_err_set(err, "%s: the run has no checkpoint yet, so there is nothing to plot", path);
    if (!gs_run_has_analysis(run))
        return gs_err_set(err, "%s: the file has no /analysis group (written by another program?)", path);
    d->n_rows = gs_run_n_analyzed(run);
    if (d->n_rows != n_ck)
        return gs_err_set(err, "%s: the analysis covers %ld of %d checkpoints (run: grokscope analyze %s)",
                          path, d->n_rows, n_ck, path);
    d->n_metrics = gs_run_n_metrics(run);
    if (d->n_metrics < 1)
        return gs_err_set(err, "%s: the run has no metrics", path);
    long *epochs = malloc((size_t)n_ck * sizeof *epochs);
    d->metrics = malloc((size_t)d->n_metrics * sizeof *d->metrics);
    d->rows = calloc((size_t)n_ck, sizeof *d->rows);
    d->norms = malloc((size_t)n_ck * 2 * (size_t)d->p * sizeof *d->norms);
    d->keys.neuron_freq = malloc((size_t)d->d_mlp * sizeof *d->keys.neuron_freq);
    d->keys.neuron_frac = malloc((size_t)d->d_mlp * sizeof *d->keys.neuron_frac);
    int rc = -1;
    if (!epochs || !d->metrics || !d->rows || !d->norms || !d->keys.neuron_freq || !d->keys.neuron_frac) {
        gs_err_set(err, "%s: out of memory", path);
        goto out;
    }
    if (gs_run_checkpoint_epochs(run, epochs, err) != 0 ||
        gs_run_read_metrics(run, 0, d->n_metrics, d->metrics, err) != 0)
        goto out;
    for (long i = 0; i < d->n_rows; i++) {
        gs_analysis_row *r = &d->rows[i];
        r->embed_fourier_norm = d->norms + (size_t)i * 2 * (size_t)d->p;
        r->neuron_logit_fourier_norm = r->embed_fourier_norm + d->p;
        if (gs_run_read_analysis(run, i, r, err) != 0)
            goto out;
        if (r->epoch != epochs[i]) {
            gs_err_set(err, "%s: analysis row %ld is for epoch %ld but checkpoint %ld is epoch %ld "
                            "(re-run grokscope analyze %s)", path, i, r->epoch, i, epochs[i], path);
            goto out;
        }
    }
    if (gs_run_read_keys(run, &d->keys, err) != 0 || gs_run_read_phases(run, &d->phases, err) != 0 ||
        check_basis(run, d, err) != 0)
        goto out;
    if (d->keys.n_key < 0) {
        gs_err_set(err, "%s: the analysis has no neuron clusters (re-run grokscope analyze %s)", path, path);
        goto out;
    }
    rc = 0;
out:
    free(epochs);
    return rc;
}

int gs_plot_data_load(gs_plot_data *d, const char *path, gs_err *err)
{
    memset(d, 0, sizeof *d);
    snprintf(d->path, sizeof d->path, "%s", path);
    const char *slash = strrchr(path, '/');
    snprintf(d->name, sizeof d->name, "%s", slash ? slash + 1 : path);
    for (char *c = d->name; *c; c++) /* titles show the name, never obey it */
        if ((unsigned char)*c < 0x20 || *c == 0x7f)
            *c = '?';
    gs_run *run;
    if (gs_run_open(&run, path, GS_RUN_READ, 0, err) != 0)
        return -1;
    int rc = read_all(run, d, err);
    gs_run_close(run, NULL);
    if (rc != 0)
        gs_plot_data_free(d);
    return rc;
}
