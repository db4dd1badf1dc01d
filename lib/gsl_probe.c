/* grokscope_probe: the measures and key frequencies of one checkpoint (probes/measures.h). */
#include "gsl_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "pool.h"

int grokscope_probe_open(grokscope_run *run, int threads, grokscope_probe **out)
{
    grokscope_probe *pr = calloc(1, sizeof *pr);
    *out = pr;
    if (!pr)
        return GROKSCOPE_ERR_NOMEM;
    pr->run = run;
    if (!run || !run->run)
        return GSL_SET(pr, GROKSCOPE_ERR_INVALID, "no open run file");
    if (threads < 0 || threads > 256)
        return GSL_SET(pr, GROKSCOPE_ERR_INVALID, "threads: %d is out of range (0..256)", threads);
    gs_err err = {0};
    gs_split split = {0};
    gsl_h5_lock();
    int rc = gs_run_read_split(run->run, &split, &err);
    gsl_h5_unlock();
    if (rc != 0)
        return GSL_FAIL(pr, &err);
    const gs_config *c = gs_run_config(run->run);
    /* this handle's threads (pool.h: the count is per calling thread) */
    gs_pool_set_default_threads(gsl_threads(threads));
    rc = gs_probe_create(&pr->probe, gs_run_dims(run->run), c->op, split.train_idx, split.n_train,
                         split.test_idx, split.n_test, &err);
    gs_split_free(&split);
    if (rc != 0)
        return GSL_FAIL(pr, &err);
    gs_probe_set_flush_subnormals(&pr->probe, c->flush_subnormals);
    pr->have_probe = 1;
    return GROKSCOPE_OK;
}

const char *grokscope_probe_error(const grokscope_probe *pr)
{
    return pr->err;
}

void grokscope_probe_close(grokscope_probe *pr)
{
    if (!pr)
        return;
    if (pr->have_probe)
        gs_probe_free(&pr->probe);
    free(pr);
}

/* Loads checkpoint index from the run; copies the run's error on failure. */
static int load(grokscope_probe *pr, int index)
{
    if (!pr->have_probe)
        return GSL_SET(pr, GROKSCOPE_ERR_INVALID, "the probe was not created");
    const int rc = gsl_run_load(pr->run, index);
    if (rc != GROKSCOPE_OK)
        GSL_SET(pr, rc, "%s", pr->run->err);
    return rc;
}

int grokscope_probe_key_freqs(grokscope_probe *pr, int index, double threshold, int *freqs,
                              int max, int *n)
{
    int rc = load(pr, index);
    if (rc != GROKSCOPE_OK)
        return rc;
    if (threshold > 1.0)
        return GSL_SET(pr, GROKSCOPE_ERR_INVALID, "threshold %g is above 1", threshold);
    gs_probe_forward(&pr->probe, pr->run->params, 1, NULL);
    gs_cluster_result cl;
    gs_err err = {0};
    if (gs_probe_clusters(&pr->probe, GS_CLUSTER_THRESHOLD,
                          threshold > 0 ? threshold : GS_PROBE_CLUSTER_THRESHOLD, &cl, &err) != 0)
        return GSL_FAIL(pr, &err);
    *n = cl.n_key;
    if (cl.n_key > max)
        return GSL_SET(pr, GROKSCOPE_ERR_INVALID, "%d key frequencies do not fit in %d", cl.n_key, max);
    memcpy(freqs, cl.key_freqs, (size_t)cl.n_key * sizeof *freqs);
    return GROKSCOPE_OK;
}

int grokscope_probe_measure(grokscope_probe *pr, int index, const int *key_freqs, int n_key,
                            grokscope_measures *out)
{
    int rc = load(pr, index);
    if (rc != GROKSCOPE_OK)
        return rc;
    long epoch;
    if ((rc = grokscope_run_checkpoint_epoch(pr->run, index, &epoch)) != GROKSCOPE_OK)
        return GSL_SET(pr, rc, "%s", pr->run->err);
    gs_probe_measures me;
    gs_err err = {0};
    if (n_key < 0 || (n_key > 0 && !key_freqs))
        return GSL_SET(pr, GROKSCOPE_ERR_INVALID, "bad key frequency list (%d)", n_key);
    if (gs_probe_measure(&pr->probe, pr->run->params, key_freqs, n_key, &me, &err) != 0) {
        GSL_FAIL(pr, &err);
        return GROKSCOPE_ERR_INVALID;
    }
    *out = (grokscope_measures){
        .epoch = epoch,
        .train_loss = me.metrics.train_loss, .test_loss = me.metrics.test_loss,
        .train_acc = me.metrics.train_acc, .test_acc = me.metrics.test_acc,
        .restricted_loss = me.restricted_loss, .excluded_loss = me.excluded_loss,
        .gini_embed = me.gini_embed, .gini_neuron_logit = me.gini_neuron_logit,
        .weight_norm = me.weight_norm,
    };
    return GROKSCOPE_OK;
}

int grokscope_probe_n_freq(const grokscope_probe *pr)
{
    return pr->have_probe && pr->probe.basis.n > 0 ? gs_fourier_n_freq(pr->probe.basis.n) : 0;
}

int grokscope_probe_n_neurons(const grokscope_probe *pr)
{
    return pr->have_probe ? pr->probe.d.d_mlp : 0;
}

int grokscope_probe_has_embed(const grokscope_probe *pr)
{
    return pr->have_probe && pr->probe.has_embed;
}

int grokscope_probe_clusters(grokscope_probe *pr, int index, double threshold, int best,
                             int *neuron_freq, double *frac, int n, int *key_freqs, int max_key,
                             int *n_key)
{
    int rc = load(pr, index);
    if (rc != GROKSCOPE_OK)
        return rc;
    const int d_mlp = pr->probe.d.d_mlp;
    if (threshold > 1.0)
        return GSL_SET(pr, GROKSCOPE_ERR_INVALID, "threshold %g is above 1", threshold);
    if ((neuron_freq || frac) && n < d_mlp)
        return GSL_SET(pr, GROKSCOPE_ERR_INVALID, "%d neurons do not fit in %d", d_mlp, n);
    if (!n_key || max_key < 0 || (max_key > 0 && !key_freqs))
        return GSL_SET(pr, GROKSCOPE_ERR_INVALID, "no place for the key frequencies");
    gs_probe_forward(&pr->probe, pr->run->params, 1, NULL);
    gs_cluster_result cl;
    gs_err err = {0};
    if (gs_probe_clusters(&pr->probe, best ? GS_CLUSTER_BEST : GS_CLUSTER_THRESHOLD,
                          threshold >= 0 ? threshold : GS_PROBE_CLUSTER_THRESHOLD, &cl, &err) != 0)
        return GSL_FAIL(pr, &err);
    if (neuron_freq)
        memcpy(neuron_freq, cl.neuron_freq, (size_t)d_mlp * sizeof *neuron_freq);
    if (frac)
        memcpy(frac, cl.frac, (size_t)d_mlp * sizeof *frac);
    *n_key = cl.n_key;
    if (cl.n_key > max_key)
        return GSL_SET(pr, GROKSCOPE_ERR_INVALID, "%d key frequencies do not fit in %d", cl.n_key,
                       max_key);
    memcpy(key_freqs, cl.key_freqs, (size_t)cl.n_key * sizeof *key_freqs);
    return GROKSCOPE_OK;
}

int grokscope_probe_embed_norms(grokscope_probe *pr, int index, double *norm, int n)
{
    int rc = load(pr, index);
    if (rc != GROKSCOPE_OK)
        return rc;
    const int order = pr->probe.basis.n, n_freq = grokscope_probe_n_freq(pr);
    if (order == 0)
        return GSL_SET(pr, GROKSCOPE_ERR_INVALID, "%s", gs_run_circuit_note(pr->run->run));
    if (!pr->probe.has_embed)
        return GSL_SET(pr, GROKSCOPE_ERR_INVALID, "no embedding matrix (%s)",
                       gs_run_model_note(pr->run->run));
    if (!norm || n < n_freq + 1)
        return GSL_SET(pr, GROKSCOPE_ERR_INVALID, "%d frequency norms do not fit in %d",
                       n_freq + 1, n);
    const int p = pr->probe.d.p;
    double *embed = malloc((size_t)p * sizeof *embed);
    if (!embed)
        return GSL_SET(pr, GROKSCOPE_ERR_NOMEM, "out of memory");
    gs_probe_forward(&pr->probe, pr->run->params, 0, NULL);
    gs_probe_fourier_norms(&pr->probe, embed, NULL);
    /* norm per frequency over its cos and sin rows (an even order's last frequency
     * has no sin row) */
    norm[0] = embed[0];
    for (int w = 1; w <= n_freq; w++) {
        const int s = gs_fourier_sin_row(order, w);
        const double c2 = embed[gs_fourier_cos_row(w)] * embed[gs_fourier_cos_row(w)];
        norm[w] = sqrt(c2 + (s >= 0 ? embed[s] * embed[s] : 0));
    }
    free(embed);
    return GROKSCOPE_OK;
}
