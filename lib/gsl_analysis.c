/* grokscope_analysis: the whole-run analysis pass (analysis/analyze.h) behind the API. */
#include "gsl_internal.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyze.h"
#include "circuit.h"
#include "fourier.h"
#include "pool.h"

struct grokscope_analysis {
    gs_analyze_opts o;
    char *keys, *keys_name;
    int threads;
    char err[sizeof ((gs_err *)0)->msg];
};

grokscope_analysis *grokscope_analysis_new(void)
{
    grokscope_analysis *a = calloc(1, sizeof *a);
    if (a)
        gs_analyze_opts_default(&a->o);
    return a;
}

void grokscope_analysis_free(grokscope_analysis *a)
{
    if (!a)
        return;
    free(a->keys);
    free(a->keys_name);
    free(a);
}

const char *grokscope_analysis_error(const grokscope_analysis *a)
{
    return a->err;
}

int grokscope_analysis_set_key_freqs(grokscope_analysis *a, const char *list, const char *name)
{
    char *k = list ? strdup(list) : NULL, *n = name ? strdup(name) : NULL;
    if ((list && !k) || (name && !n)) {
        free(k);
        free(n);
        return GSL_SET(a, GROKSCOPE_ERR_NOMEM, "out of memory");
    }
    free(a->keys);
    free(a->keys_name);
    a->keys = k;
    a->keys_name = n;
    return GROKSCOPE_OK;
}

int grokscope_analysis_set_cluster_epoch(grokscope_analysis *a, long epoch)
{
    a->o.cluster_epoch = epoch < 0 ? -1 : epoch;
    return GROKSCOPE_OK;
}

int grokscope_analysis_set_threshold(grokscope_analysis *a, double threshold)
{
    if (!(threshold >= 0.0 && threshold <= 1.0))
        return GSL_SET(a, GROKSCOPE_ERR_INVALID, "threshold %g is out of range (0..1)", threshold);
    a->o.threshold = threshold;
    return GROKSCOPE_OK;
}

int grokscope_analysis_set_best_freq(grokscope_analysis *a, int best)
{
    a->o.rule = best ? GS_CLUSTER_BEST : GS_CLUSTER_THRESHOLD;
    return GROKSCOPE_OK;
}

int grokscope_analysis_set_follow(grokscope_analysis *a, int follow)
{
    a->o.follow = follow != 0;
    return GROKSCOPE_OK;
}

int grokscope_analysis_set_threads(grokscope_analysis *a, int threads)
{
    if (threads < 0 || threads > 256)
        return GSL_SET(a, GROKSCOPE_ERR_INVALID, "threads: %d is out of range (0..256)", threads);
    a->threads = threads;
    return GROKSCOPE_OK;
}

int grokscope_analysis_set_progress(grokscope_analysis *a, grokscope_progress_fn fn, void *ctx)
{
    a->o.progress = fn;
    a->o.progress_ctx = ctx;
    return GROKSCOPE_OK;
}

int grokscope_analysis_set_log(grokscope_analysis *a, FILE *log)
{
    a->o.log = log;
    return GROKSCOPE_OK;
}

/* The early-warning settings by key: integer keys (lo..hi) and number keys. */
typedef struct {
    const char *key;
    double lo, hi;
    int integer;
} signal_key;

static const signal_key signal_keys[] = {
    {"llc_every", 0, 100000000, 1},   {"llc_chains", 1, 100000000, 1},
    {"llc_draws", 1, 100000000, 1},   {"llc_burnin", 0, 100000000, 1},
    {"llc_batch", 1, 100000000, 1},   {"llc_seed", 0, 1000000000, 1},
    {"spectral_window", 2, 100000000, 1},
    {"llc_eps", 1e-300, 1e12, 0},     {"llc_nbeta", 1e-300, 1e12, 0},
    {"llc_gamma", 0.0, 1e12, 0},
};

int grokscope_analysis_set_option(grokscope_analysis *a, const char *key, const char *value)
{
    const signal_key *k = NULL;
    for (size_t i = 0; key && i < sizeof signal_keys / sizeof *signal_keys; i++)
        if (strcmp(signal_keys[i].key, key) == 0)
            k = &signal_keys[i];
    if (!k)
        return GSL_SET(a, GROKSCOPE_ERR_INVALID, "%s: unknown analysis option", key ? key : "(null)");
    if (!value)
        return GSL_SET(a, GROKSCOPE_ERR_INVALID, "%s: no value", key);
    char *end;
    errno = 0;
    gs_signal_opts *so = &a->o.sig;
    if (k->integer) {
        const long long v = strtoll(value, &end, 10);
        if (end == value || *end != '\0')
            return GSL_SET(a, GROKSCOPE_ERR_INVALID, "%s: '%s' is not an integer", key, value);
        if (errno == ERANGE || (double)v < k->lo || (double)v > k->hi)
            return GSL_SET(a, GROKSCOPE_ERR_INVALID, "%s: %s is out of range (%.0f..%.0f)", key,
                           value, k->lo, k->hi);
        if (strcmp(key, "llc_every") == 0)
            so->llc_every = (int)v;
        else if (strcmp(key, "llc_chains") == 0)
            so->llc.chains = (int)v;
        else if (strcmp(key, "llc_draws") == 0)
            so->llc.draws = (int)v;
        else if (strcmp(key, "llc_burnin") == 0)
            so->llc.burnin = (int)v;
        else if (strcmp(key, "llc_batch") == 0)
            so->llc.batch = (int)v;
        else if (strcmp(key, "llc_seed") == 0)
            so->llc.seed = (uint64_t)v;
        else
            a->o.spectral_window = (long)v;
        return GROKSCOPE_OK;
    }
    const double v = strtod(value, &end);
    if (end == value || *end != '\0' || isnan(v))
        return GSL_SET(a, GROKSCOPE_ERR_INVALID, "%s: '%s' is not a number", key, value);
    if (errno == ERANGE || !isfinite(v) || v < k->lo || v > k->hi)
        return GSL_SET(a, GROKSCOPE_ERR_INVALID, "%s: %s is out of range (%g..%g)", key, value,
                       k->lo, k->hi);
    if (strcmp(key, "llc_eps") == 0)
        so->llc.epsilon = v;
    else if (strcmp(key, "llc_nbeta") == 0)
        so->llc.nbeta = v;
    else
        so->llc.gamma = v;
    return GROKSCOPE_OK;
}

/* The requested key frequencies and cluster checkpoint against the run, read-only,
 * before anything opens the file for writing. */
static int check_request(grokscope_analysis *a, gs_run *run, gs_err *err)
{
    const int n_freq = gs_fourier_n_freq(gs_run_dims(run)->p);
    a->o.n_user_keys = -1;
    const gs_config *cfg = gs_run_config(run);
    if (a->keys && gs_run_basis_order(run) == 0)
        return gs_err_set(err, "%s: %s has no Fourier basis, so %s does not apply", gs_run_path(run),
                          cfg->task == GS_TASK_MNIST ? "the image task" : gs_op_name(cfg->op),
                          a->keys_name ? a->keys_name : "key frequencies");
    if (a->keys && gs_parse_key_freqs(a->keys, n_freq, a->o.user_keys, &a->o.n_user_keys, err) != 0) {
        static const char prefix[] = "key frequencies";
        if (a->keys_name && strncmp(err->msg, prefix, sizeof prefix - 1) == 0) {
            char msg[sizeof err->msg];
            snprintf(msg, sizeof msg, "%s%s", a->keys_name, err->msg + sizeof prefix - 1);
            snprintf(err->msg, sizeof err->msg, "%s", msg);
        }
        return -1;
    }
    /* A live run (follow) may not have the checkpoint yet. */
    if (!a->o.follow && gs_run_find_checkpoint(run, a->o.cluster_epoch, err) < 0)
        return -1;
    return 0;
}

int grokscope_analysis_run(grokscope_analysis *a, const char *path)
{
    if (!path)
        return GSL_SET(a, GROKSCOPE_ERR_INVALID, "no run file path");
    gs_err err = {0};
    gs_run *run;
    if (gsl_run_open_locked(&run, path, GS_RUN_READ, 0, &err) != 0)
        return GSL_FAIL(a, &err);
    gsl_h5_lock();
    const int bad = check_request(a, run, &err);
    gs_run_close(run, NULL);
    gsl_h5_unlock();
    if (bad)
        return GSL_SET(a, GROKSCOPE_ERR_INVALID, "%s", err.msg);
    a->o.path = path;
    gs_pool_set_default_threads(gsl_threads(a->threads)); /* the probe's, on this thread */
    gsl_h5_lock(); /* a no-op with a thread-safe HDF5; else the whole pass */
    const int rc = gs_analyze_run(&a->o, &err);
    gsl_h5_unlock();
    a->o.path = NULL;
    return rc == 0 ? GROKSCOPE_OK : GSL_FAIL(a, &err);
}

int grokscope_run_print_summary(grokscope_run *run, FILE *out)
{
    if (!run->run)
        return GSL_SET(run, GROKSCOPE_ERR_INVALID, "the run file is not open");
    gs_err err = {0};
    gsl_h5_lock();
    const int rc = gs_analysis_print_summary(run->run, out, &err);
    gsl_h5_unlock();
    return rc == 0 ? GROKSCOPE_OK : GSL_FAIL(run, &err);
}
