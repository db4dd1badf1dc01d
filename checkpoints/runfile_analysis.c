/* gs_run /analysis: the measures per checkpoint (rows committed by /analysis/epoch, as
 * checkpoints are by /checkpoints/epoch), the key frequencies and neuron clusters
 * (committed by key_freqs_epoch), the phases and the Fourier basis. The objects are
 * created and validated in runfile_layout.c, opened for writing in runfile_open.c. */
#include "runfile_internal.h"

#include "../core/fourier_freqs.h"

#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Where series id's values live in a gs_analysis_row: a double field, or the p
 * doubles an array field points to (NULL: skip it when reading). */
static double *series_field(char *row, int id)
{
    const gs_run_obj *o = &gs_run_objects[id];
    char *field = row + o->field;
    return o->shape == GS_SHAPE_PER_CKPT_P ? *(double **)field : (double *)field;
}

int gs_run_scan_analysis(gs_run *run, gs_err *err)
{
    run->n_analyzed = 0;
    if (!run->has_analysis)
        return 0;
    char where[GS_WHERE_MAX];
    gs_run_ds_where(where, run, GS_O_AN_EPOCH);
    hsize_t n;
    int64_t *e;
    if (gs_run_read_commits(run, GS_O_AN_EPOCH, &e, &n, err) < 0)
        return -1;
    /* A row counts once every series holds it too (a SWMR reader may see them at
     * slightly different moments), and only for a committed checkpoint. */
    GS_RUN_FOR_SERIES(id) {
        hsize_t len;
        if (n == 0)
            break;
        if (run->ds[id] < 0)
            continue; /* a 1.3 series an older file lacks: its rows read as NaN */
        if (gs_run_ds_len(run, id, &len, err) < 0) {
            free(e);
            return -1;
        }
        if (len < n)
            n = len;
    }
    if (n > (hsize_t)run->n_ckpt)
        n = (hsize_t)run->n_ckpt;
    for (hsize_t i = 0; i < n; i++) {
        if (e[i] != run->ck_epochs[i]) {
            gs_err_set(err, "%s: damaged (row %llu holds epoch %lld, checkpoint %llu is epoch "
                       "%ld)", where, (unsigned long long)i, (long long)e[i],
                       (unsigned long long)i, run->ck_epochs[i]);
            free(e);
            return -1;
        }
    }
    free(e);
    run->n_analyzed = (long)n;
    return 0;
}

int gs_run_has_analysis(const gs_run *run) { return run->has_analysis; }
long gs_run_n_analyzed(const gs_run *run) { return run->n_analyzed; }

static int no_analysis(const gs_run *run, gs_err *err)
{
    return gs_err_set(err, "%s: has no /analysis group (written by an older grokscope)",
                      run->path);
}

/* A handle that may write /analysis now. */
static int check_writer(const gs_run *run, gs_err *err)
{
    if (!run->writable)
        return gs_err_set(err, "%s: opened read-only, cannot write the analysis", run->path);
    if (!run->has_analysis)
        return no_analysis(run, err);
    if (run->failed)
        return gs_err_set(err, "%s: an earlier write failed; open the file again to continue",
                          run->path);
    return 0;
}

/* ---- per-checkpoint rows ---- */

int gs_run_read_analysis(gs_run *run, long i, gs_analysis_row *row, gs_err *err)
{
    if (!run || !row)
        return gs_err_set(err, "internal error: gs_run_read_analysis without arguments");
    if (!run->has_analysis)
        return no_analysis(run, err);
    if (i < 0 || i >= run->n_analyzed)
        return gs_err_set(err, "%s: no analysis row %ld (%ld are stored)", run->path, i,
                          run->n_analyzed);
    const hsize_t r = (hsize_t)i;
    int64_t ep;
    if (gs_run_ds_read(run, GS_O_AN_EPOCH, r, 1, &ep, err) < 0)
        return -1;
    GS_RUN_FOR_SERIES(id) {
        double *dst = series_field((char *)row, id);
        if (dst && run->ds[id] < 0)
            *dst = NAN; /* only the 1.3 scalars may be missing */
        else if (dst && gs_run_ds_read(run, id, r, 1, dst, err) < 0)
            return -1;
    }
    row->epoch = (long)ep;
    return 0;
}

int gs_run_append_analysis(gs_run *run, const gs_analysis_row *row, gs_err *err)
{
    if (!run)
        return gs_err_set(err, "internal error: gs_run_append_analysis without a run");
    if (check_writer(run, err) < 0)
        return -1;
    if (!row || !row->embed_fourier_norm || !row->neuron_logit_fourier_norm)
        return gs_err_set(err, "%s: internal error: bad arguments to gs_run_append_analysis",
                          run->path);
    /* Row k is checkpoint k: the analysis goes through the checkpoints in order. */
    const long k = run->n_analyzed;
    if (k >= run->n_ckpt)
        return gs_err_set(err, "%s: analysis row for epoch %ld, but all %d checkpoints are "
                          "analysed", run->path, row->epoch, run->n_ckpt);
    if (row->epoch != run->ck_epochs[k])
        return gs_err_set(err, "%s: analysis row for epoch %ld where checkpoint %ld (epoch %ld) "
                          "was expected", run->path, row->epoch, k, run->ck_epochs[k]);
    /* As for checkpoints: every series reaches the disk (flush) before the
     * /analysis/epoch row that commits them. */
    const int64_t ep = row->epoch;
    GS_RUN_FOR_SERIES(id)
        if (run->ds[id] < 0 ? gs_err_set(err, "%s: internal error: /analysis lacks the 1.3 series",
                                         run->path) < 0
                            : gs_run_ds_write(run, id, (hsize_t)k, 1,
                                              series_field((char *)row, id), err) < 0)
            goto failed;
    if (gs_run_flush(run, err) < 0 ||
        gs_run_ds_write(run, GS_O_AN_EPOCH, (hsize_t)k, 1, &ep, err) < 0 ||
        gs_run_flush(run, err) < 0)
        goto failed;
    run->n_analyzed = k + 1;
    return 0;
failed:
    /* The file is still valid up to the last committed row; the next open trims. */
    run->failed = 1;
    return -1;
}

/* The struct as the rows of /analysis/phase_epochs, and back. */
static void phases_to_rows(const gs_analysis_phases *ph, int64_t v[GS_PHASE_ROWS])
{
    v[0] = ph->memorization_end;
    v[1] = ph->circuit_end;
    v[2] = ph->cleanup_end;
    v[3] = ph->fitted;
    v[4] = ph->grokked;
    for (int k = 0; k < GS_N_LEVELS; k++)
        v[5 + k] = ph->levelled[k];
    v[GS_PHASE_ROWS - 1] = ph->through;
}

static void phases_from_rows(const int64_t v[GS_PHASE_ROWS], gs_analysis_phases *ph)
{
    ph->memorization_end = (long)v[0];
    ph->circuit_end = (long)v[1];
    ph->cleanup_end = (long)v[2];
    ph->fitted = (long)v[3];
    ph->grokked = (long)v[4];
    for (int k = 0; k < GS_N_LEVELS; k++)
        ph->levelled[k] = (long)v[5 + k];
    ph->through = (long)v[GS_PHASE_ROWS - 1];
    ph->outdated = 0;
}

/* Every row -1, whatever the dataset's length (an earlier version's three rows too). */
static int clear_phases(gs_run *run, gs_err *err)
{
    hsize_t n;
    if (gs_run_ds_len(run, GS_O_AN_PHASES, &n, err) < 0)
        return -1;
    int64_t none[GS_PHASE_ROWS];
    for (int i = 0; i < GS_PHASE_ROWS; i++)
        none[i] = GS_RUN_NO_EPOCH;
    for (hsize_t at = 0; at < n; at += GS_PHASE_ROWS) {
        const hsize_t len = n - at < GS_PHASE_ROWS ? n - at : GS_PHASE_ROWS;
        if (gs_run_ds_write(run, GS_O_AN_PHASES, at, len, none, err) < 0)
            return -1;
    }
    return 0;
}

/* who: the file (writing) or the dataset (reading) the message names. */
static int check_phases(const char *who, const int64_t v[GS_PHASE_ROWS], gs_err *err)
{
    const int64_t through = v[GS_PHASE_ROWS - 1];
    if (through < 0)
        return gs_err_set(err, "%s: phases found through epoch %lld; an epoch >= 0 was expected",
                          who, (long long)through);
    for (int i = 0; i < GS_PHASE_ROWS - 1; i++)
        if (v[i] < -1 || v[i] > through)
            return gs_err_set(err, "%s: phase epoch %lld (row %d) is neither -1 nor an epoch in "
                              "0..%lld (the data they were found from)", who,
                              (long long)v[i], i, (long long)through);
    int64_t last = -1;
    for (int i = 0; i < 3; i++) {
        /* Phases follow each other, so the boundaries found cannot go back in time. */
        if (v[i] >= 0 && v[i] < last)
            return gs_err_set(err, "%s: phase boundaries %lld, %lld, %lld: each must be -1 "
                              "(not found) or an epoch not before the ones found before it",
                              who, (long long)v[0], (long long)v[1], (long long)v[2]);
        if (v[i] >= 0)
            last = v[i];
    }
    return 0;
}

int gs_run_clear_analysis(gs_run *run, gs_err *err)
{
    if (!run)
        return gs_err_set(err, "internal error: gs_run_clear_analysis without a run");
    if (check_writer(run, err) < 0)
        return -1;
    /* The commit record first: from then on no row counts, whatever else reaches the
     * disk. */
    if (gs_run_ds_set_len(run, GS_O_AN_EPOCH, 0, err) < 0)
        goto failed;
    GS_RUN_FOR_SERIES(id)
        if (run->ds[id] >= 0 && gs_run_ds_set_len(run, id, 0, err) < 0)
            goto failed;
    if (clear_phases(run, err) < 0 || gs_run_flush(run, err) < 0)
        goto failed;
    run->n_analyzed = 0;
    return 0;
failed:
    run->failed = 1;
    return -1;
}

/* ---- key frequencies and neuron clusters ---- */

/* Position of the first key frequency that is not a frequency of the basis or does not
 * ascend, or -1 if all are fine. */
static int first_bad_key(int p, const int *freqs, int n)
{
    for (int i = 0; i < n; i++)
        if (!gs_fourier_freq_valid(p, freqs[i]) || (i > 0 && freqs[i] <= freqs[i - 1]))
            return i;
    return -1;
}

static int read_keys_epoch(gs_run *run, int64_t *epoch, gs_err *err)
{
    char where[GS_WHERE_MAX];
    if (gs_run_ds_read(run, GS_O_AN_KEYS_EPOCH, 0, 1, epoch, err) < 0)
        return -1;
    if (*epoch < GS_RUN_NO_KEYS)
        return gs_err_set(err, "%s: holds %lld (damaged file?)",
                          gs_run_ds_where(where, run, GS_O_AN_KEYS_EPOCH), (long long)*epoch);
    return 0;
}

/* The stored key frequencies, checked, and their epoch: n_key -1 if none. */
static int read_key_list(gs_run *run, int64_t *epoch, int *n_key, int *freqs, gs_err *err)
{
    char where[GS_WHERE_MAX];
    *n_key = -1;
    if (read_keys_epoch(run, epoch, err) < 0)
        return -1;
    if (*epoch == GS_RUN_NO_KEYS)
        return 0;
    gs_run_ds_where(where, run, GS_O_AN_KEYS);
    hsize_t n;
    if (gs_run_ds_len(run, GS_O_AN_KEYS, &n, err) < 0)
        return -1;
    if (n > GS_ANALYSIS_MAX_KEYS)
        return gs_err_set(err, "%s: has %llu rows, at most %d allowed", where,
                          (unsigned long long)n, GS_ANALYSIS_MAX_KEYS);
    int32_t buf[GS_ANALYSIS_MAX_KEYS];
    if (gs_run_ds_read(run, GS_O_AN_KEYS, 0, n, buf, err) < 0)
        return -1;
    for (hsize_t i = 0; i < n; i++)
        freqs[i] = buf[i];
    const int bad = first_bad_key(run->dims.p, freqs, (int)n);
    if (bad >= 0)
        return gs_err_set(err, "%s: damaged (key frequency %d at row %d; expected ascending "
                          "values in 1..%d)", where, freqs[bad], bad,
                          gs_fourier_n_freq(run->dims.p));
    *n_key = (int)n;
    return 0;
}

static int check_keys(const gs_run *run, const gs_analysis_keys *k, gs_err *err)
{
    const int p = run->dims.p, top = gs_fourier_n_freq(p);
    if (k->n_key < 0 || k->n_key > GS_ANALYSIS_MAX_KEYS)
        return gs_err_set(err, "%s: %d key frequencies; 0..%d can be stored", run->path,
                          k->n_key, GS_ANALYSIS_MAX_KEYS);
    const int bad = first_bad_key(p, k->key_freqs, k->n_key);
    if (bad >= 0)
        return gs_err_set(err, "%s: key frequencies must ascend within 1..%d (got %d at "
                          "position %d)", run->path, top, k->key_freqs[bad], bad);
    for (int i = 0; i < run->dims.d_mlp; i++)
        if (k->neuron_freq[i] != -1 && !gs_fourier_freq_valid(p, k->neuron_freq[i]))
            return gs_err_set(err, "%s: neuron %d is in cluster %d, outside 1..%d (or -1 for "
                              "none)", run->path, i, k->neuron_freq[i], top);
    if (k->epoch == -1)
        return 0;
    for (int c = 0; c < run->n_ckpt; c++)
        if (run->ck_epochs[c] == k->epoch)
            return 0;
    return gs_err_set(err, "%s: key frequencies found at epoch %ld, which is not a checkpoint "
                      "(nor -1, given by the user)", run->path, k->epoch);
}

int gs_run_write_keys(gs_run *run, const gs_analysis_keys *keys, gs_err *err)
{
    if (!run)
        return gs_err_set(err, "internal error: gs_run_write_keys without a run");
    if (check_writer(run, err) < 0)
        return -1;
    if (!keys || !keys->neuron_freq || !keys->neuron_frac)
        return gs_err_set(err, "%s: internal error: bad arguments to gs_run_write_keys",
                          run->path);
    if (check_keys(run, keys, err) < 0)
        return -1;
    /* Rows computed with other key frequencies would no longer match them. */
    if (run->n_analyzed > 0) {
        int n_old, old[GS_ANALYSIS_MAX_KEYS];
        int64_t old_epoch;
        if (read_key_list(run, &old_epoch, &n_old, old, err) < 0)
            return -1;
        if (n_old >= 0 && (n_old != keys->n_key ||
                           memcmp(old, keys->key_freqs, (size_t)n_old * sizeof *old) != 0))
            return gs_err_set(err, "%s: the key frequencies would change under %ld analysis "
                              "rows computed with the old ones; clear the analysis first",
                              run->path, run->n_analyzed);
    }
    /* Invalidate, write, then commit with key_freqs_epoch, each step flushed: a crash
     * leaves either the old set, or none, never a mix. */
    const int64_t none = GS_RUN_NO_KEYS, epoch = keys->epoch;
    const hsize_t n = (hsize_t)keys->n_key, d_mlp = (hsize_t)run->dims.d_mlp;
    int32_t freqs[GS_ANALYSIS_MAX_KEYS];
    for (int i = 0; i < keys->n_key; i++)
        freqs[i] = keys->key_freqs[i];
    int32_t *nf = malloc(d_mlp * sizeof *nf);
    if (!nf)
        return gs_err_set(err, "%s: out of memory writing the neuron clusters", run->path);
    for (hsize_t i = 0; i < d_mlp; i++)
        nf[i] = keys->neuron_freq[i];
    int rc = 0;
    if (gs_run_ds_write(run, GS_O_AN_KEYS_EPOCH, 0, 1, &none, err) < 0 ||
        gs_run_flush(run, err) < 0 || gs_run_ds_set_len(run, GS_O_AN_KEYS, n, err) < 0 ||
        gs_run_ds_write(run, GS_O_AN_KEYS, 0, n, freqs, err) < 0 ||
        gs_run_ds_write(run, GS_O_AN_NEURON_FREQ, 0, d_mlp, nf, err) < 0 ||
        gs_run_ds_write(run, GS_O_AN_NEURON_FRAC, 0, d_mlp, keys->neuron_frac, err) < 0 ||
        gs_run_flush(run, err) < 0 ||
        gs_run_ds_write(run, GS_O_AN_KEYS_EPOCH, 0, 1, &epoch, err) < 0 ||
        gs_run_flush(run, err) < 0) {
        run->failed = 1;
        rc = -1;
    }
    free(nf);
    return rc;
}

/* A per-neuron dataset, which holds all d_mlp rows once keys are stored, into buf
 * (NULL: only checked). */
static int read_per_neuron(gs_run *run, int id, void *buf, gs_err *err)
{
    char where[GS_WHERE_MAX];
    const hsize_t d_mlp = (hsize_t)run->dims.d_mlp;
    hsize_t len;
    if (gs_run_ds_len(run, id, &len, err) < 0)
        return -1;
    if (len != d_mlp)
        return gs_err_set(err, "%s: has %llu rows, d_mlp is %llu (damaged file?)",
                          gs_run_ds_where(where, run, id), (unsigned long long)len,
                          (unsigned long long)d_mlp);
    return buf ? gs_run_ds_read(run, id, 0, d_mlp, buf, err) : 0;
}

int gs_run_read_keys(gs_run *run, gs_analysis_keys *keys, gs_err *err)
{
    if (!run || !keys)
        return gs_err_set(err, "internal error: gs_run_read_keys without arguments");
    keys->n_key = -1;
    keys->epoch = GS_RUN_NO_KEYS;
    if (!run->has_analysis)
        return 0;
    int64_t epoch;
    int n_key, freqs[GS_ANALYSIS_MAX_KEYS];
    if (read_key_list(run, &epoch, &n_key, freqs, err) < 0)
        return -1;
    if (n_key < 0)
        return 0;
    const int d_mlp = run->dims.d_mlp;
    int32_t *nf = keys->neuron_freq ? malloc((size_t)d_mlp * sizeof *nf) : NULL;
    if (keys->neuron_freq && !nf)
        return gs_err_set(err, "%s: out of memory", run->path);
    int rc = read_per_neuron(run, GS_O_AN_NEURON_FREQ, nf, err);
    for (int i = 0; i < d_mlp && nf && rc == 0; i++)
        keys->neuron_freq[i] = nf[i];
    free(nf);
    if (rc < 0 || read_per_neuron(run, GS_O_AN_NEURON_FRAC, keys->neuron_frac, err) < 0)
        return -1;
    keys->epoch = (long)epoch;
    keys->n_key = n_key;
    memcpy(keys->key_freqs, freqs, (size_t)n_key * sizeof *freqs);
    return 0;
}

/* ---- phases and the Fourier basis ---- */

int gs_run_write_phases(gs_run *run, const gs_analysis_phases *ph, gs_err *err)
{
    if (!run || !ph)
        return gs_err_set(err, "internal error: gs_run_write_phases without arguments");
    if (check_writer(run, err) < 0)
        return -1;
    int64_t v[GS_PHASE_ROWS];
    phases_to_rows(ph, v);
    if (check_phases(run->path, v, err) < 0)
        return -1;
    /* Invalidate (through = -1), write, then commit with `through`, each step flushed:
     * a crash leaves the old phases, none, or the new ones, never a mix. A file an
     * earlier version analysed has three rows: it grows to the full set. */
    const int64_t through = v[GS_PHASE_ROWS - 1];
    v[GS_PHASE_ROWS - 1] = GS_RUN_NO_EPOCH;
    if (clear_phases(run, err) < 0 || gs_run_flush(run, err) < 0 ||
        gs_run_ds_set_len(run, GS_O_AN_PHASES, GS_PHASE_ROWS, err) < 0 ||
        gs_run_ds_write(run, GS_O_AN_PHASES, 0, GS_PHASE_ROWS, v, err) < 0 ||
        gs_run_flush(run, err) < 0 ||
        gs_run_ds_write(run, GS_O_AN_PHASES, GS_PHASE_ROWS - 1, 1, &through, err) < 0 ||
        gs_run_flush(run, err) < 0) {
        run->failed = 1;
        return -1;
    }
    return 0;
}

int gs_run_read_phases(gs_run *run, gs_analysis_phases *ph, gs_err *err)
{
    if (!run || !ph)
        return gs_err_set(err, "internal error: gs_run_read_phases without arguments");
    int64_t v[GS_PHASE_ROWS];
    for (int i = 0; i < GS_PHASE_ROWS; i++)
        v[i] = GS_RUN_NO_EPOCH;
    phases_from_rows(v, ph);
    if (!run->has_analysis)
        return 0;
    char where[GS_WHERE_MAX];
    gs_run_ds_where(where, run, GS_O_AN_PHASES);
    hsize_t n;
    if (gs_run_ds_len(run, GS_O_AN_PHASES, &n, err) < 0)
        return -1;
    if (n != GS_PHASE_ROWS_OLD && n < GS_PHASE_ROWS)
        return gs_err_set(err, "%s: has %llu rows, expected %d (or %d in a file analysed by an "
                          "earlier grokscope; damaged file?)", where, (unsigned long long)n,
                          GS_PHASE_ROWS, GS_PHASE_ROWS_OLD);
    const hsize_t len = n < GS_PHASE_ROWS ? n : GS_PHASE_ROWS;
    if (gs_run_ds_read(run, GS_O_AN_PHASES, 0, len, v, err) < 0)
        return -1;
    for (hsize_t i = 0; i < len; i++)
        if (v[i] < -1)
            return gs_err_set(err, "%s: holds %lld (damaged file?)", where, (long long)v[i]);
    if (len == GS_PHASE_ROWS_OLD) {
        /* An earlier version's boundaries, under other rules: shown nowhere, and
         * replaced by the next analysis. */
        ph->outdated = v[0] >= 0 || v[1] >= 0 || v[2] >= 0;
        return 0;
    }
    if (v[GS_PHASE_ROWS - 1] == GS_RUN_NO_EPOCH)
        return 0; /* not computed yet, or being rewritten */
    if (check_phases(where, v, err) < 0)
        return -1;
    phases_from_rows(v, ph);
    return 0;
}

int gs_run_write_fourier_basis(gs_run *run, const double *F, gs_err *err)
{
    if (!run || !F)
        return gs_err_set(err, "internal error: gs_run_write_fourier_basis without arguments");
    if (check_writer(run, err) < 0)
        return -1;
    if (gs_run_ds_write(run, GS_O_AN_BASIS, 0, (hsize_t)run->dims.p, F, err) < 0 ||
        gs_run_flush(run, err) < 0) {
        run->failed = 1;
        return -1;
    }
    return 0;
}

int gs_run_read_fourier_basis(gs_run *run, double *F, gs_err *err)
{
    if (!run || !F)
        return gs_err_set(err, "internal error: gs_run_read_fourier_basis without arguments");
    if (!run->has_analysis)
        return 0;
    char where[GS_WHERE_MAX];
    const hsize_t p = (hsize_t)run->dims.p;
    hsize_t n;
    if (gs_run_ds_len(run, GS_O_AN_BASIS, &n, err) < 0)
        return -1;
    if (n == 0)
        return 0;
    /* Checked at open, but a SWMR reader may have refreshed since. */
    if (n != p)
        return gs_err_set(err, "%s: has %llu rows, expected 0 or %llu (damaged file?)",
                          gs_run_ds_where(where, run, GS_O_AN_BASIS), (unsigned long long)n,
                          (unsigned long long)p);
    return gs_run_ds_read(run, GS_O_AN_BASIS, 0, p, F, err) < 0 ? -1 : 1;
}

/* ---- format 1.3: LLC settings and the loss spectrum ---- */

int gs_run_has_signals(const gs_run *run)
{
    int all = run->has_analysis;
    for (int id = GS_O_AN_INIT_DIST; id <= GS_O_AN_LOSS_SPECTRUM; id++)
        all &= run->ds[id] >= 0;
    return all;
}

static void settings_to_rows(const gs_llc_settings *s, double v[GS_LLC_SETTINGS_ROWS])
{
    v[0] = s->epsilon;
    v[1] = s->nbeta;
    v[2] = s->gamma;
    v[3] = (double)s->chains;
    v[4] = (double)s->draws;
    v[5] = (double)s->burnin;
    v[6] = (double)s->batch;
    v[7] = (double)s->every;
    v[8] = (double)s->seed;
}

int gs_run_write_llc_settings(gs_run *run, const gs_llc_settings *s, gs_err *err)
{
    if (check_writer(run, err) < 0)
        return -1;
    if (run->ds[GS_O_AN_LLC_SETTINGS] < 0)
        return gs_err_set(err, "%s: internal error: /analysis lacks llc_settings", run->path);
    double v[GS_LLC_SETTINGS_ROWS];
    settings_to_rows(s, v);
    if (gs_run_ds_write(run, GS_O_AN_LLC_SETTINGS, 0, GS_LLC_SETTINGS_ROWS, v, err) < 0 ||
        gs_run_flush(run, err) < 0) {
        run->failed = 1;
        return -1;
    }
    return 0;
}

int gs_run_read_llc_settings(gs_run *run, gs_llc_settings *s, int *have, gs_err *err)
{
    *have = 0;
    memset(s, 0, sizeof *s);
    if (!run->has_analysis || run->ds[GS_O_AN_LLC_SETTINGS] < 0)
        return 0;
    double v[GS_LLC_SETTINGS_ROWS];
    if (gs_run_ds_read(run, GS_O_AN_LLC_SETTINGS, 0, GS_LLC_SETTINGS_ROWS, v, err) < 0)
        return -1;
    for (int i = 0; i < GS_LLC_SETTINGS_ROWS; i++)
        *have |= v[i] != 0.0;
    *s = (gs_llc_settings){.epsilon = v[0], .nbeta = v[1], .gamma = v[2], .chains = (long)v[3],
                           .draws = (long)v[4], .burnin = (long)v[5], .batch = (long)v[6],
                           .every = (long)v[7], .seed = (long)v[8]};
    return 0;
}

int gs_run_write_loss_spectrum(gs_run *run, long window, double statistic, gs_err *err)
{
    if (check_writer(run, err) < 0)
        return -1;
    if (run->ds[GS_O_AN_LOSS_SPECTRUM] < 0)
        return gs_err_set(err, "%s: internal error: /analysis lacks loss_spectrum", run->path);
    const double v[2] = {(double)window, statistic};
    if (gs_run_ds_write(run, GS_O_AN_LOSS_SPECTRUM, 0, 2, v, err) < 0 || gs_run_flush(run, err) < 0) {
        run->failed = 1;
        return -1;
    }
    return 0;
}

int gs_run_read_loss_spectrum(gs_run *run, long *window, double *statistic, gs_err *err)
{
    *window = 0;
    *statistic = NAN;
    if (!run->has_analysis || run->ds[GS_O_AN_LOSS_SPECTRUM] < 0)
        return 0;
    double v[2];
    if (gs_run_ds_read(run, GS_O_AN_LOSS_SPECTRUM, 0, 2, v, err) < 0)
        return -1;
    if (v[0] >= 1.0) {
        *window = (long)v[0];
        *statistic = v[1];
    }
    return 0;
}
