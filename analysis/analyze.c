#include "analyze.h"
#include "analyze_images.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "circuit.h"
#include "forecast.h"
#include "phases.h"
#include "spectral.h"

void gs_analyze_opts_default(gs_analyze_opts *o)
{
    memset(o, 0, sizeof *o);
    o->n_user_keys = -1;
    o->cluster_epoch = -1;
    o->rule = GS_CLUSTER_THRESHOLD;
    o->threshold = GS_PROBE_CLUSTER_THRESHOLD;
    gs_signal_opts_default(&o->sig);
    o->spectral_window = GS_SPECTRAL_WINDOW;
}

int gs_parse_key_freqs(const char *s, int n_freq, int *keys, int *n, gs_err *err)
{
    *n = 0;
    const char *at = s;
    while (*at) {
        char *end;
        errno = 0;
        long w = strtol(at, &end, 10);
        if (end == at || (*end != ',' && *end != '\0'))
            return gs_err_set(err, "key frequencies: '%s' is not a comma-separated list of integers", s);
        if (errno || w < 1 || w > n_freq)
            return gs_err_set(err, "key frequencies: frequency %s is out of range 1..%d", at, n_freq);
        for (int i = 0; i < *n; i++)
            if (keys[i] == w)
                return gs_err_set(err, "key frequencies: frequency %ld is given twice", w);
        if (*n == GS_ANALYSIS_MAX_KEYS)
            return gs_err_set(err, "key frequencies: more than %d frequencies", GS_ANALYSIS_MAX_KEYS);
        keys[(*n)++] = (int)w;
        at = *end ? end + 1 : end;
    }
    if (*n == 0)
        return gs_err_set(err, "key frequencies: no frequency given");
    /* ascending, as stored */
    for (int i = 1; i < *n; i++)
        for (int j = i; j > 0 && keys[j] < keys[j - 1]; j--) {
            int t = keys[j];
            keys[j] = keys[j - 1];
            keys[j - 1] = t;
        }
    return 0;
}

/* Everything one analysis pass needs, allocated once. */
typedef struct {
    gs_run *run;
    gs_probe probe;
    int have_probe;
    long *epochs;      /* checkpoint epochs */
    float *params;
    double *norms;     /* two [p] arrays for a row */
    int *neuron_freq;
    double *neuron_frac;
    gs_signals sig;    /* the 1.3 measures, from checkpoint 0 */
    int have_sig;
} pass;

static void pass_free(pass *ps)
{
    if (ps->have_sig)
        gs_signals_free(&ps->sig);
    if (ps->have_probe)
        gs_probe_free(&ps->probe);
    free(ps->epochs);
    free(ps->params);
    free(ps->norms);
    free(ps->neuron_freq);
    free(ps->neuron_frac);
    if (ps->run)
        gs_run_close(ps->run, NULL);
    memset(ps, 0, sizeof *ps);
}

/* Allocates the buffers and the probe for an open run. */
static int pass_setup(pass *ps, gs_err *err)
{
    const gs_config *c = gs_run_config(ps->run);
    const gs_dims *d = gs_run_dims(ps->run);
    const int n_ck = gs_run_n_checkpoints(ps->run);
    if (n_ck == 0)
        return gs_err_set(err, "%s: the run has no checkpoint yet", gs_run_path(ps->run));
    if (c->task == GS_TASK_MNIST)
        return gs_err_set(err, "%s: --follow shows the Fourier measures of the modular tasks; "
                          "a run on images has none (analyze it without --follow)",
                          gs_run_path(ps->run));
    gs_param_info info[GS_MAX_TENSORS];
    const size_t n_params = gs_params_layout(d, info);
    ps->epochs = malloc((size_t)n_ck * sizeof *ps->epochs);
    ps->params = malloc(n_params * sizeof *ps->params);
    ps->norms = malloc(2 * (size_t)d->p * sizeof *ps->norms);
    ps->neuron_freq = malloc((size_t)d->d_mlp * sizeof *ps->neuron_freq);
    ps->neuron_frac = malloc((size_t)d->d_mlp * sizeof *ps->neuron_frac);
    if (!ps->epochs || !ps->params || !ps->norms || !ps->neuron_freq || !ps->neuron_frac)
        return gs_err_set(err, "out of memory");
    if (gs_run_checkpoint_epochs(ps->run, ps->epochs, err) != 0)
        return -1;
    gs_split split;
    if (gs_run_read_split(ps->run, &split, err) != 0)
        return -1;
    int rc = gs_probe_create(&ps->probe, d, c->op, split.train_idx, split.n_train, split.test_idx,
                             split.n_test, err);
    gs_split_free(&split);
    if (rc != 0)
        return -1;
    gs_probe_set_flush_subnormals(&ps->probe, c->flush_subnormals);
    ps->have_probe = 1;
    return 0;
}

/* The 1.3 measures' context from checkpoint 0 (the init). */
static int signals_setup(pass *ps, const gs_signal_opts *o, gs_err *err)
{
    if (gs_run_read_checkpoint(ps->run, 0, ps->params, err) != 0 ||
        gs_signals_create(&ps->sig, &ps->probe, ps->params, o, err) != 0)
        return -1;
    ps->have_sig = 1;
    return 0;
}

/* Refreshes the checkpoint epoch list after the run grew (follow mode). */
static int pass_grow(pass *ps, gs_err *err)
{
    const int n_ck = gs_run_n_checkpoints(ps->run);
    long *e = realloc(ps->epochs, (size_t)n_ck * sizeof *e);
    if (!e)
        return gs_err_set(err, "out of memory");
    ps->epochs = e;
    return gs_run_checkpoint_epochs(ps->run, ps->epochs, err);
}

/* Clusters and key frequencies at checkpoint index ck. */
static int find_keys(pass *ps, int ck, const gs_analyze_opts *o, gs_analysis_keys *keys, gs_err *err)
{
    const gs_dims *d = gs_run_dims(ps->run);
    if (gs_run_read_checkpoint(ps->run, ck, ps->params, err) != 0)
        return -1;
    gs_probe_forward(&ps->probe, ps->params, 1, NULL);
    gs_cluster_result cl;
    if (gs_probe_clusters(&ps->probe, o->rule, o->threshold, &cl, err) != 0)
        return -1;
    memcpy(ps->neuron_freq, cl.neuron_freq, (size_t)d->d_mlp * sizeof *ps->neuron_freq);
    memcpy(ps->neuron_frac, cl.frac, (size_t)d->d_mlp * sizeof *ps->neuron_frac);
    keys->neuron_freq = ps->neuron_freq;
    keys->neuron_frac = ps->neuron_frac;
    if (o->n_user_keys >= 0) {
        keys->epoch = -1;
        keys->n_key = o->n_user_keys;
        memcpy(keys->key_freqs, o->user_keys, (size_t)o->n_user_keys * sizeof(int));
    } else {
        keys->epoch = ps->epochs[ck];
        keys->n_key = cl.n_key < GS_ANALYSIS_MAX_KEYS ? cl.n_key : GS_ANALYSIS_MAX_KEYS;
        memcpy(keys->key_freqs, cl.key_freqs, (size_t)keys->n_key * sizeof(int));
    }
    return 0;
}

static int measure_row(pass *ps, int ck, const gs_analysis_keys *keys, gs_analysis_row *row,
                       int with_llc, gs_err *err)
{
    const int p = gs_run_dims(ps->run)->p;
    gs_probe_measures me;
    if (gs_run_read_checkpoint(ps->run, ck, ps->params, err) != 0 ||
        gs_probe_measure_grid(&ps->probe, ps->params, keys->key_freqs, keys->n_key, ps->have_sig, &me,
                              err) != 0)
        return -1;
    *row = (gs_analysis_row){
        .epoch = ps->epochs[ck],
        .train_loss = me.metrics.train_loss, .test_loss = me.metrics.test_loss,
        .train_acc = me.metrics.train_acc, .test_acc = me.metrics.test_acc,
        .restricted_loss = me.restricted_loss, .excluded_loss = me.excluded_loss,
        .gini_embed = me.gini_embed, .gini_neuron_logit = me.gini_neuron_logit,
        .weight_norm = me.weight_norm,
        .embed_fourier_norm = ps->norms, .neuron_logit_fourier_norm = ps->norms + p,
    };
    memcpy(ps->norms, me.embed_fourier_norm, (size_t)p * sizeof(double));
    memcpy(ps->norms + p, me.neuron_logit_norm, (size_t)p * sizeof(double));
    row->init_distance = row->cka_init = row->cka_label = row->llc = NAN;
    return ps->have_sig ? gs_signals_measure(&ps->sig, ps->params, ck, with_llc, row, err) : 0;
}

static int same_settings(const gs_llc_settings *a, const gs_llc_settings *b)
{
    return a->epsilon == b->epsilon && a->nbeta == b->nbeta && a->gamma == b->gamma &&
           a->chains == b->chains && a->draws == b->draws && a->burnin == b->burnin &&
           a->batch == b->batch && a->every == b->every && a->seed == b->seed;
}

static gs_llc_settings settings_of(const gs_signal_opts *o)
{
    return (gs_llc_settings){.epsilon = o->llc.epsilon, .nbeta = gs_signal_nbeta(o),
                             .gamma = o->llc.gamma, .chains = o->llc.chains,
                             .draws = o->llc.draws, .burnin = o->llc.burnin,
                             .batch = o->llc.batch, .every = o->llc_every,
                             .seed = (long)o->llc.seed};
}

/* The spectral statistic over the first `window` epochs, once the run has them. */
static int write_spectrum(gs_run *run, long window, gs_err *err)
{
    if (window < 2 || gs_run_n_metrics(run) < window)
        return 0;
    gs_metrics_row *rows = malloc((size_t)window * sizeof *rows);
    double *x = malloc((size_t)window * sizeof *x);
    int rc = (!rows || !x) ? gs_err_set(err, "out of memory") : gs_run_read_metrics(run, 0, window, rows, err);
    double S = NAN;
    for (long t = 0; t < window && rc == 0; t++)
        x[t] = rows[t].train_loss;
    if (rc == 0)
        rc = gs_loss_spectrum(x, (int)window, &S, NULL, err);
    if (rc == 0)
        rc = gs_run_write_loss_spectrum(run, window, S, err);
    free(rows);
    free(x);
    return rc;
}

static int same_keys(const gs_analysis_keys *a, const gs_analysis_keys *b)
{
    if (a->n_key != b->n_key)
        return 0;
    for (int i = 0; i < a->n_key; i++)
        if (a->key_freqs[i] != b->key_freqs[i])
            return 0;
    return 1;
}

/* The circuit basis over the tokens (gs_probe_basis) in *B, a [p, p] allocation the
 * caller frees; *B stays NULL when the op has none. *stale = 1 when analysis rows exist
 * that were computed in another basis: a run analysed before its op had a circuit
 * basis (mul and div were measured in Z_p), which must be analysed again. */
static int circuit_basis(pass *ps, double **B, int *stale, gs_err *err)
{
    const int p = gs_run_dims(ps->run)->p;
    *B = NULL;
    *stale = 0;
    if (ps->probe.basis.n == 0)
        return 0;
    double *stored = NULL;
    *B = malloc((size_t)p * p * sizeof **B);
    if (!*B)
        return gs_err_set(err, "out of memory");
    gs_probe_basis(&ps->probe, *B);
    if (gs_run_n_analyzed(ps->run) == 0)
        return 0;
    if (!(stored = malloc((size_t)p * p * sizeof *stored)))
        return gs_err_set(err, "out of memory");
    const int have = gs_run_read_fourier_basis(ps->run, stored, err);
    if (have < 0) {
        free(stored);
        return -1;
    }
    /* a tolerance, not bits: another machine's libm may round cos and sin otherwise */
    for (size_t i = 0; have && i < (size_t)p * p && !*stale; i++)
        *stale = fabs(stored[i] - (*B)[i]) > 1e-9;
    *stale |= !have;
    free(stored);
    return 0;
}

static int write_phases(gs_run *run, gs_err *err)
{
    const long n = gs_run_n_metrics(run), m = gs_run_n_analyzed(run);
    gs_metrics_row *rows = malloc((size_t)(n > 0 ? n : 1) * sizeof *rows);
    gs_analysis_row *ck = calloc((size_t)(m > 0 ? m : 1), sizeof *ck); /* NULL arrays: scalars only */
    gs_analysis_phases ph;
    int rc = (!rows || !ck) ? gs_err_set(err, "out of memory") : gs_run_read_metrics(run, 0, n, rows, err);
    for (long i = 0; i < m && rc == 0; i++)
        rc = gs_run_read_analysis(run, i, &ck[i], err);
    if (rc == 0)
        rc = gs_phases_find(rows, n, ck, m, &ph, err);
    if (rc == 0)
        rc = gs_run_write_phases(run, &ph, err);
    free(rows);
    free(ck);
    return rc;
}

/* The writing pass over a run nobody is training. */
static int analyze_pass(const gs_analyze_opts *o, gs_err *err)
{
    pass ps = {0};
    double *basis = NULL;
    int rc = -1;
    if (gs_run_open_analyze(&ps.run, o->path, err) != 0)
        return -1;
    if (!gs_run_has_analysis(ps.run)) {
        gs_err_set(err, "%s: the file has no /analysis group (written by another program?)", o->path);
        goto out;
    }
    if (gs_run_config(ps.run)->task == GS_TASK_MNIST) {
        /* images: the model-agnostic measures only (analyze_images.c) */
        const gs_llc_settings none = {0}; /* every 0: no LLC */
        if (gs_run_write_llc_settings(ps.run, &none, err) != 0 ||
            gs_analyze_images(ps.run, o, err) != 0 || write_phases(ps.run, err) != 0 ||
            write_spectrum(ps.run, o->spectral_window, err) != 0)
            goto out;
        rc = 0;
        goto out;
    }
    if (pass_setup(&ps, err) != 0)
        goto out;
    const int n_ck = gs_run_n_checkpoints(ps.run);
    const gs_dims *d = gs_run_dims(ps.run);
    int ck = gs_run_find_checkpoint(ps.run, o->cluster_epoch, err);
    if (ck < 0)
        goto out;
    gs_analysis_keys keys = {0}, stored = {0};
    int *sfreq = malloc((size_t)d->d_mlp * sizeof *sfreq);
    double *sfrac = malloc((size_t)d->d_mlp * sizeof *sfrac);
    stored.neuron_freq = sfreq;
    stored.neuron_frac = sfrac;
    int krc = (!sfreq || !sfrac) ? gs_err_set(err, "out of memory") : gs_run_read_keys(ps.run, &stored, err);
    free(sfreq);
    free(sfrac);
    int stale;
    if (krc != 0 || find_keys(&ps, ck, o, &keys, err) != 0 ||
        circuit_basis(&ps, &basis, &stale, err) != 0)
        goto out;
    if ((stale || (stored.n_key >= 0 && !same_keys(&stored, &keys))) && gs_run_n_analyzed(ps.run) > 0) {
        /* every measure depends on the basis, restricted and excluded loss also on the
         * key frequencies: start over */
        if (gs_run_clear_analysis(ps.run, err) != 0)
            goto out;
    }
    {
        /* LLC rows made with other settings are not comparable: start over */
        gs_signal_opts so = o->sig; /* a batch larger than the training set: all of it */
        if (so.llc.batch > ps.probe.n_train)
            so.llc.batch = ps.probe.n_train;
        gs_llc_settings want = settings_of(&so), have_s;
        int have;
        if (gs_run_read_llc_settings(ps.run, &have_s, &have, err) != 0)
            goto out;
        if (have && !same_settings(&want, &have_s) && gs_run_n_analyzed(ps.run) > 0 &&
            gs_run_clear_analysis(ps.run, err) != 0)
            goto out;
        if (gs_run_write_llc_settings(ps.run, &want, err) != 0 || signals_setup(&ps, &so, err) != 0)
            goto out;
    }
    if (gs_run_write_keys(ps.run, &keys, err) != 0)
        goto out;
    if (gs_run_n_analyzed(ps.run) == 0 && basis && gs_run_write_fourier_basis(ps.run, basis, err) != 0)
        goto out;
    const long first = gs_run_n_analyzed(ps.run);
    for (long i = first; i < n_ck; i++) {
        gs_analysis_row row;
        if (measure_row(&ps, (int)i, &keys, &row, 1, err) != 0 || gs_run_append_analysis(ps.run, &row, err) != 0)
            goto out;
        if (o->progress) {
            char detail[200];
            if (isnan(row.restricted_loss)) /* no circuit: nothing to show (info says why) */
                snprintf(detail, sizeof detail, "epoch %ld  test %.3g", row.epoch, row.test_loss);
            else
                snprintf(detail, sizeof detail, "epoch %ld  test %.3g  restricted %.3g  excluded %.3g",
                         row.epoch, row.test_loss, row.restricted_loss, row.excluded_loss);
            o->progress(o->progress_ctx, i + 1, n_ck, detail, i + 1 == n_ck);
        }
    }
    if (first == n_ck && o->progress)
        o->progress(o->progress_ctx, n_ck, n_ck, "all checkpoints already analysed", 1);
    if (write_phases(ps.run, err) != 0 || write_spectrum(ps.run, o->spectral_window, err) != 0)
        goto out;
    rc = 0;
out:
    {
        gs_err cerr;
        gs_run *run = ps.run;
        ps.run = NULL;
        if (run && gs_run_close(run, &cerr) != 0 && rc == 0) {
            *err = cerr;
            rc = -1;
        }
    }
    pass_free(&ps);
    free(basis);
    return rc;
}

/* The series follow mode has seen, for its forecast line. */
typedef struct {
    long m, cap;
    long *epoch;
    double *series[GS_N_SIGNALS];
} live_series;

static void live_free(live_series *L)
{
    free(L->epoch);
    for (int s = 0; s < GS_N_SIGNALS; s++)
        free(L->series[s]);
}

static int live_push(live_series *L, const gs_analysis_row *row, const double *embed_norm, int order,
                     gs_err *err)
{
    if (L->m == L->cap) {
        L->cap = L->cap ? 2 * L->cap : 64;
        long *e = realloc(L->epoch, (size_t)L->cap * sizeof *e);
        if (!e)
            return gs_err_set(err, "out of memory");
        L->epoch = e;
        for (int s = 0; s < GS_N_SIGNALS; s++) {
            double *v = realloc(L->series[s], (size_t)L->cap * sizeof *v);
            if (!v)
                return gs_err_set(err, "out of memory");
            L->series[s] = v;
        }
    }
    const long k = L->m++;
    L->epoch[k] = row->epoch;
    L->series[GS_SIG_RESTRICTED][k] = row->restricted_loss;
    L->series[GS_SIG_EXCLUDED][k] = row->excluded_loss;
    L->series[GS_SIG_GINI][k] = row->gini_embed;
    L->series[GS_SIG_WEIGHT_NORM][k] = row->weight_norm;
    L->series[GS_SIG_KEY_ENERGY][k] = order > 0 ? gs_key_energy(embed_norm, order) : NAN;
    L->series[GS_SIG_LLC][k] = row->llc;
    L->series[GS_SIG_CKA_LABEL][k] = row->cka_label;
    L->series[GS_SIG_SPECTRAL][k] = NAN;
    return 0;
}

/* One forecast line from the metrics so far and the series seen. */
static int live_forecast(pass *ps, const live_series *L, long window, FILE *log, gs_err *err)
{
    const long n = gs_run_n_metrics(ps->run);
    gs_metrics_row *rows = malloc((size_t)(n > 0 ? n : 1) * sizeof *rows);
    if (!rows)
        return gs_err_set(err, "out of memory");
    if (n > 0 && gs_run_read_metrics(ps->run, 0, n, rows, err) != 0) {
        free(rows);
        return -1;
    }
    gs_forecast_input in = {.rows = rows, .n = n, .epoch = L->epoch, .m = L->m,
                            .spectral = NAN};
    for (int s = 0; s < GS_N_SIGNALS; s++)
        in.series[s] = s == GS_SIG_SPECTRAL ? NULL : L->series[s];
    int rc = 0;
    if (window >= 2 && n >= window) {
        double *x = malloc((size_t)window * sizeof *x);
        rc = x ? 0 : gs_err_set(err, "out of memory");
        for (long t = 0; t < window && rc == 0; t++)
            x[t] = rows[t].train_loss;
        if (rc == 0 && (rc = gs_loss_spectrum(x, (int)window, &in.spectral, NULL, err)) == 0)
            in.spectral_window = window;
        free(x);
    }
    if (rc == 0) {
        gs_forecast f;
        gs_forecast_compute(&in, &f);
        fprintf(log, "        ");
        gs_forecast_print_line(&f, log);
    }
    free(rows);
    return rc;
}

/* Follow mode: show each new checkpoint's measures as training writes it (provisional
 * key frequencies from that checkpoint's own clusters), until the trainer finishes or
 * disappears; the caller then runs the writing pass. */
static int follow(const gs_analyze_opts *o, gs_err *err)
{
    pass ps = {0};
    live_series L = {0};
    int rc = -1, next = 0, idle = 0;
    gs_signal_opts live_sig = o->sig;
    live_sig.llc_every = 0; /* the LLC is too slow to keep up with a live run */
    if (gs_run_open(&ps.run, o->path, GS_RUN_READ, 0, err) != 0)
        return -1;
    while (gs_run_n_checkpoints(ps.run) == 0) {
        if (gs_run_get_status(ps.run, NULL) != GS_RUN_RUNNING)
            break;
        sleep(1);
        if (gs_run_refresh(ps.run, err) != 0)
            goto out;
    }
    if (pass_setup(&ps, err) != 0 || signals_setup(&ps, &live_sig, err) != 0)
        goto out;
    const int order = gs_circuit_order(gs_run_config(ps.run)->op, gs_run_dims(ps.run)->p);
    for (;;) {
        if (gs_run_refresh(ps.run, err) != 0 || pass_grow(&ps, err) != 0)
            goto out;
        const int n_ck = gs_run_n_checkpoints(ps.run);
        for (; next < n_ck; next++, idle = 0) {
            gs_analysis_keys keys = {0};
            gs_analysis_row row;
            if (find_keys(&ps, next, o, &keys, err) != 0 ||
                measure_row(&ps, next, &keys, &row, 0, err) != 0 ||
                live_push(&L, &row, ps.norms, order, err) != 0)
                goto out;
            if (o->log) {
                fprintf(o->log, "epoch %6ld  train %.3g  test %.3g  restricted %.3g  excluded %.3g  "
                                "gini W_E %.3f  weights %.1f  key freqs",
                        row.epoch, row.train_loss, row.test_loss, row.restricted_loss,
                        row.excluded_loss, row.gini_embed, row.weight_norm);
                for (int k = 0; k < keys.n_key; k++)
                    fprintf(o->log, "%s%d", k ? "," : " ", keys.key_freqs[k]);
                fprintf(o->log, "%s\n", keys.n_key ? "" : " none yet");
                if (live_forecast(&ps, &L, o->spectral_window, o->log, err) != 0)
                    goto out;
                fflush(o->log);
            }
        }
        if (gs_run_get_status(ps.run, NULL) != GS_RUN_RUNNING)
            break;
        /* A trainer killed without a word leaves the status RUNNING: after a quiet
         * spell, see whether anyone still holds the file for writing. */
        if (++idle % 10 == 0) {
            gs_err probe_err;
            gs_run *w;
            gs_run_close(ps.run, NULL);
            ps.run = NULL;
            if (gs_run_open_analyze(&w, o->path, &probe_err) == 0) {
                gs_run_close(w, NULL);
                if (o->log)
                    fprintf(o->log, "nobody is writing %s any more (trainer stopped?)\n", o->path);
                break;
            }
            if (gs_run_open(&ps.run, o->path, GS_RUN_READ, 0, err) != 0)
                goto out;
        }
        sleep(1);
    }
    rc = 0;
out:
    live_free(&L);
    pass_free(&ps);
    return rc;
}

int gs_analyze_run(const gs_analyze_opts *o, gs_err *err)
{
    if (o->follow) {
        if (follow(o, err) != 0)
            return -1;
        /* The trainer closes the file right after its final status; give it a moment. */
        for (int tries = 0;; tries++) {
            gs_err e2 = {0};
            gs_analyze_opts o2 = *o;
            o2.follow = 0;
            if (analyze_pass(&o2, &e2) == 0)
                return 0;
            if (tries == 30 || e2.code != GS_ERR_BUSY_TRAINING) {
                *err = e2;
                return -1;
            }
            sleep(1);
        }
    }
    return analyze_pass(o, err);
}
