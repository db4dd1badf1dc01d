/* What an analysis stored in a run file (checkpoints/runfile_analysis.h) and the
 * early-warning forecast computed from it (analysis/forecast.h), read through a
 * grokscope_run. */
#include "gsl_internal.h"

#include <math.h>

#include "forecast.h"
#include "runfile_analysis.h"

_Static_assert(GROKSCOPE_MAX_STORED_KEYS == GS_ANALYSIS_MAX_KEYS, "the public key limit is the file's");
_Static_assert(GS_N_SIGNALS <= GROKSCOPE_MAX_SIGNALS, "every signal fits grokscope_forecast");

long grokscope_run_n_analyzed(const grokscope_run *run)
{
    if (!run->run || !gs_run_has_analysis(run->run))
        return -1;
    return gs_run_n_analyzed(run->run);
}

int grokscope_run_read_analysis(grokscope_run *run, long first, long n,
                                grokscope_analysis_row *rows)
{
    if (!run->run)
        return GSL_SET(run, GROKSCOPE_ERR_INVALID, "the run file is not open");
    const long have = grokscope_run_n_analyzed(run);
    if (first < 0 || n < 0 || first + n > (have > 0 ? have : 0) || (n > 0 && !rows))
        return GSL_SET(run, GROKSCOPE_ERR_INVALID, "analysis rows %ld..%ld: the run has %ld",
                       first, first + n - 1, have > 0 ? have : 0);
    gs_err err = {0};
    int rc = 0;
    gsl_h5_lock();
    for (long i = 0; i < n && rc == 0; i++) {
        gs_analysis_row r = {0}; /* the per-frequency arrays are skipped (NULL) */
        rc = gs_run_read_analysis(run->run, first + i, &r, &err);
        rows[i] = (grokscope_analysis_row){
            .epoch = r.epoch, .train_loss = r.train_loss, .test_loss = r.test_loss,
            .train_acc = r.train_acc, .test_acc = r.test_acc,
            .restricted_loss = r.restricted_loss, .excluded_loss = r.excluded_loss,
            .gini_embed = r.gini_embed, .gini_neuron_logit = r.gini_neuron_logit,
            .weight_norm = r.weight_norm, .init_distance = r.init_distance,
            .cka_init = r.cka_init, .cka_label = r.cka_label, .llc = r.llc,
        };
    }
    gsl_h5_unlock();
    return rc == 0 ? GROKSCOPE_OK : GSL_FAIL(run, &err);
}

int grokscope_run_loss_spectrum(grokscope_run *run, long *window, double *statistic)
{
    if (!run->run)
        return GSL_SET(run, GROKSCOPE_ERR_INVALID, "the run file is not open");
    if (!window || !statistic)
        return GSL_SET(run, GROKSCOPE_ERR_INVALID, "no place for the loss spectrum");
    if (!gs_run_has_analysis(run->run)) {
        *window = 0;
        *statistic = NAN;
        return GROKSCOPE_OK;
    }
    gs_err err = {0};
    gsl_h5_lock();
    const int rc = gs_run_read_loss_spectrum(run->run, window, statistic, &err);
    gsl_h5_unlock();
    return rc == 0 ? GROKSCOPE_OK : GSL_FAIL(run, &err);
}

int grokscope_run_key_freqs(grokscope_run *run, int *freqs, int max, int *n, long *epoch)
{
    if (!run->run)
        return GSL_SET(run, GROKSCOPE_ERR_INVALID, "the run file is not open");
    if (!n || max < 0 || (max > 0 && !freqs))
        return GSL_SET(run, GROKSCOPE_ERR_INVALID, "no place for the key frequencies");
    gs_analysis_keys keys = {0}; /* neuron arrays NULL: skipped */
    keys.n_key = -1;
    keys.epoch = -2;
    gs_err err = {0};
    int rc = 0;
    if (gs_run_has_analysis(run->run)) {
        gsl_h5_lock();
        rc = gs_run_read_keys(run->run, &keys, &err);
        gsl_h5_unlock();
    }
    if (rc != 0)
        return GSL_FAIL(run, &err);
    *n = keys.n_key;
    if (epoch)
        *epoch = keys.epoch;
    if (keys.n_key > max)
        return GSL_SET(run, GROKSCOPE_ERR_INVALID, "%d key frequencies do not fit in %d",
                       keys.n_key, max);
    for (int i = 0; i < keys.n_key; i++)
        freqs[i] = keys.key_freqs[i];
    return GROKSCOPE_OK;
}

/* The forecast of the open run's data (gs_forecast_load reads the run). */
static int compute(grokscope_run *run, gs_forecast *f)
{
    if (!run->run)
        return GSL_SET(run, GROKSCOPE_ERR_INVALID, "the run file is not open");
    if (grokscope_run_n_analyzed(run) <= 0)
        return GSL_SET(run, GROKSCOPE_ERR_INVALID, "no analysed checkpoint yet");
    gs_forecast_data fd;
    gs_err err = {0};
    gsl_h5_lock();
    const int rc = gs_forecast_load(run->run, &fd, &err);
    gsl_h5_unlock();
    if (rc != 0)
        return GSL_FAIL(run, &err);
    gs_forecast_compute(&fd.in, f);
    gs_forecast_data_free(&fd);
    return GROKSCOPE_OK;
}

int grokscope_run_forecast(grokscope_run *run, grokscope_forecast *out)
{
    gs_forecast f;
    const int rc = compute(run, &f);
    if (rc != GROKSCOPE_OK)
        return rc;
    *out = (grokscope_forecast){.fitted = f.fitted, .half = f.half, .grokked = f.grokked,
                                .through = f.through, .n_signals = GS_N_SIGNALS};
    for (int s = 0; s < GS_N_SIGNALS; s++) {
        const gs_signal_state *st = &f.sig[s];
        out->sig[s] = (grokscope_signal){
            .name = gs_signal_names[s], .available = st->available, .fired = st->fired,
            .fire_epoch = st->fire_epoch, .predicted = st->predicted, .lo = st->lo,
            .hi = st->hi, .last = st->last,
        };
    }
    return GROKSCOPE_OK;
}

int grokscope_run_print_forecast(grokscope_run *run, FILE *out)
{
    gs_forecast f;
    const int rc = compute(run, &f);
    if (rc == GROKSCOPE_OK)
        gs_forecast_print(&f, out);
    return rc;
}
