/* grokscope_probe: the measures and key frequencies of one checkpoint (probes/measures.h). */
#include "gsl_internal.h"

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
