/* The objects of the run file (docs/run-file.md): creating them all before SWMR
 * writing starts (SWMR cannot add objects later), and opening them with their types
 * and shapes checked against /config, so no later read can leave its buffer. */
#include "runfile_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const gs_run_metric_names[GS_N_METRICS] = {"epoch", "train_loss", "test_loss",
                                                       "train_acc", "test_acc"};

static const char *const metric_units[GS_N_METRICS] = {
    "epochs (optimizer steps taken)", "nats", "nats", "fraction", "fraction"};
static const char *const metric_desc[GS_N_METRICS] = {
    "row e holds the metrics of the weights after e optimizer steps (equals the row index)",
    "mean cross-entropy over the p+1 outputs on the training pairs, in float64",
    "mean cross-entropy over the p+1 outputs on the test pairs, in float64",
    "share of training pairs whose largest logit (of p+1) is the answer",
    "share of test pairs whose largest logit (of p+1) is the answer"};

/* The per-checkpoint measures of SPEC §4 (runfile_analysis.h). */
const char *const gs_analysis_scalar_names[GS_ANALYSIS_N_SCALARS] = {
    "train_loss", "test_loss", "train_acc", "test_acc", "restricted_loss", "excluded_loss",
    "gini_embed", "gini_neuron_logit", "weight_norm"};
/* The same, then the two [n, p] norms (kept in step with the list above). */
const char *const gs_run_analysis_series_names[GS_A_N_SERIES] = {
    "train_loss", "test_loss", "train_acc", "test_acc", "restricted_loss", "excluded_loss",
    "gini_embed", "gini_neuron_logit", "weight_norm", "embed_fourier_norm",
    "neuron_logit_fourier_norm"};

static const char *const series_units[GS_A_N_SERIES] = {
    "nats", "nats", "fraction", "fraction", "nats", "nats", "dimensionless (0..1)",
    "dimensionless (0..1)", "squared weight units", "weight units (L2 norm)",
    "weight units (L2 norm)"};
static const char *const series_desc[GS_A_N_SERIES] = {
    "row k: mean cross-entropy over the p+1 outputs on the training pairs, recomputed in "
    "float64 from checkpoint k (equals /metrics/train_loss[/analysis/epoch[k]])",
    "row k: mean cross-entropy over the p+1 outputs on the test pairs, recomputed from "
    "checkpoint k",
    "row k: share of training pairs whose largest logit (of p+1) is the answer, checkpoint k",
    "row k: share of test pairs whose largest logit (of p+1) is the answer, checkpoint k",
    "row k: mean cross-entropy over the p number outputs on all p*p pairs of the logits "
    "restricted to their mean plus the directions cos(w(a+b)), sin(w(a+b)) of the key "
    "frequencies w (SPEC 4)",
    "row k: mean cross-entropy over the p number outputs on the training pairs of the "
    "logits with the key frequencies' directions cos(w(a+b)), sin(w(a+b)) removed (SPEC 4)",
    "row k: Gini coefficient (Hurley & Rickard) of embed_fourier_norm[k]; 1 = sparse",
    "row k: Gini coefficient (Hurley & Rickard) of neuron_logit_fourier_norm[k]; 1 = sparse",
    "row k: sum of the squares of all parameters of checkpoint k",
    "[k, j]: L2 norm of row j of F W_E[:p] (F = fourier_basis, j = const, cos 1, sin 1, "
    "...), checkpoint k",
    "[k, j]: L2 norm of column j of (W_out W_U[:, :p]) F^T (F = fourier_basis), "
    "checkpoint k"};

#define METRIC_CHUNK 1024 /* rows: ~8 KiB per chunk, one chunk per ~1000 epochs */
#define EPOCH_CHUNK 64
#define INDEX_CHUNK 65536
#define FLAT_CHUNK (1 << 20) /* floats per chunk of the flat optimizer state */
#define ANALYSIS_CHUNK_BYTES (1 << 20) /* cap for the [n, p] and [p, p] chunks */

static hsize_t min_chunk(hsize_t n, hsize_t cap) { return n < 1 ? 1 : n < cap ? n : cap; }

static hid_t make_group(hid_t file, const char *name, const char *path, gs_err *err)
{
    char where[GS_WHERE_MAX];
    hid_t gcpl = H5Pcreate(H5P_GROUP_CREATE);
    hid_t g = -1;
    /* No time stamps: the same run gives the same bytes. */
    if (gcpl < 0 || H5Pset_obj_track_times(gcpl, 0) < 0 ||
        (g = H5Gcreate2(file, name, H5P_DEFAULT, gcpl, H5P_DEFAULT)) < 0)
        gs_h5_fail(err, "%s: cannot create", gs_run_where(where, path, name));
    gs_h5_close(&gcpl);
    return g;
}

/* Creates a dataset, optionally writes n0 initial rows of buf, closes it. */
static int make_dset(hid_t group, const char *gname, const char *name, hid_t ftype,
                     hid_t mtype, int rank, const hsize_t *dims, const hsize_t *chunk,
                     const void *fill, const char *units, const char *desc, const void *buf,
                     const char *path, gs_err *err)
{
    char obj[300], where[GS_WHERE_MAX];
    snprintf(obj, sizeof obj, "/%s/%s", gname, name);
    gs_run_where(where, path, obj);
    /* /resume is rewritten at every checkpoint: keep its chunks a fixed size. */
    const unsigned flags = strcmp(gname, "resume") == 0 ? GS_H5_NO_DEFLATE : 0;
    hid_t d = gs_h5_dset_create(group, name, ftype, rank, dims, chunk, fill, units, desc,
                                flags, where, err);
    if (d < 0)
        return -1;
    int rc = 0;
    if (buf && gs_h5_write_rows(d, mtype, 0, dims[0], buf, where, err) < 0)
        rc = -1;
    if (gs_h5_close(&d) < 0 && rc == 0)
        rc = gs_h5_fail(err, "%s: cannot close", where);
    return rc;
}

static int create_data(hid_t g, const gs_run *run, const gs_split *s, gs_err *err)
{
    hsize_t n[2] = {(hsize_t)s->n_train, (hsize_t)s->n_test};
    hsize_t c[2] = {min_chunk(n[0], INDEX_CHUNK), min_chunk(n[1], INDEX_CHUNK)};
    const char *desc[2] = {
        "training pairs, i = a*p + b, in the shuffled order of CPython's random.shuffle",
        "test pairs, i = a*p + b, in the shuffled order of CPython's random.shuffle"};
    return make_dset(g, "data", "train_idx", H5T_STD_I32LE, H5T_NATIVE_INT32, 1, &n[0],
                     &c[0], NULL, "pair index a*p + b", desc[0], s->train_idx, run->path,
                     err) < 0 ||
                   make_dset(g, "data", "test_idx", H5T_STD_I32LE, H5T_NATIVE_INT32, 1,
                             &n[1], &c[1], NULL, "pair index a*p + b", desc[1], s->test_idx,
                             run->path, err) < 0
               ? -1
               : 0;
}

static int create_metrics(hid_t g, const gs_run *run, gs_err *err)
{
    hsize_t zero = 0, chunk = METRIC_CHUNK;
    for (int m = 0; m < GS_N_METRICS; m++) {
        hid_t ft = m == GS_M_EPOCH ? H5T_STD_I64LE : H5T_IEEE_F64LE;
        if (make_dset(g, "metrics", gs_run_metric_names[m], ft, -1, 1, &zero, &chunk, NULL,
                      metric_units[m], metric_desc[m], NULL, run->path, err) < 0)
            return -1;
    }
    return 0;
}

static int create_checkpoints(hid_t g, const gs_run *run, gs_err *err)
{
    hsize_t zero = 0, chunk = EPOCH_CHUNK;
    const int64_t none = GS_RUN_NO_EPOCH;
    if (make_dset(g, "checkpoints", "epoch", H5T_STD_I64LE, -1, 1, &zero, &chunk, &none,
                  "epochs (optimizer steps taken)",
                  "checkpoint k holds the weights after epoch[k] optimizer steps, aligned "
                  "with /metrics row epoch[k]; this row is written last and commits the "
                  "checkpoint",
                  NULL, run->path, err) < 0)
        return -1;
    for (int t = 0; t < GS_N_PARAMS; t++) {
        const gs_param_info *pi = &run->info[t];
        hsize_t dims[GS_MAX_RANK + 1] = {0}, chunks[GS_MAX_RANK + 1] = {1};
        for (int i = 0; i < pi->rank; i++)
            dims[i + 1] = chunks[i + 1] = (hsize_t)pi->shape[i];
        if (pi->count * sizeof(float) >= ((size_t)1 << 32))
            return gs_err_set(err, "%s: %s has %zu values, more than one HDF5 chunk holds",
                              run->path, pi->key, pi->count);
        char desc[200];
        snprintf(desc, sizeof desc,
                 "TransformerLens parameter %s, one row per checkpoint (see /checkpoints/epoch)",
                 pi->key);
        if (make_dset(g, "checkpoints", pi->key, H5T_IEEE_F32LE, -1, pi->rank + 1, dims,
                      chunks, NULL, "model weight", desc, NULL, run->path, err) < 0)
            return -1;
    }
    return 0;
}

static int create_resume(hid_t g, const gs_run *run, gs_err *err)
{
    hsize_t flat[2] = {GS_RUN_SLOTS, (hsize_t)run->n_params};
    hsize_t flat_chunk[2] = {1, min_chunk(run->n_params, FLAT_CHUNK)};
    hsize_t two = GS_RUN_SLOTS;
    const int64_t none = GS_RUN_NO_EPOCH;
    const int64_t epochs[GS_RUN_SLOTS] = {GS_RUN_NO_EPOCH, GS_RUN_NO_EPOCH};
    const int64_t steps[GS_RUN_SLOTS] = {0, 0};
    const char *moment_desc[2] = {
        "AdamW first moments (PyTorch exp_avg), flat in the parameter order of attribute "
        "keys; row s belongs to checkpoint epoch /resume/epoch[s]",
        "AdamW second moments (PyTorch exp_avg_sq), flat in the parameter order of "
        "attribute keys; row s belongs to checkpoint epoch /resume/epoch[s]"};
    if (make_dset(g, "resume", "adam_m", H5T_IEEE_F32LE, -1, 2, flat, flat_chunk, NULL,
                  "same as the weights", moment_desc[0], NULL, run->path, err) < 0 ||
        make_dset(g, "resume", "adam_v", H5T_IEEE_F32LE, -1, 2, flat, flat_chunk, NULL,
                  "square of the gradient's units", moment_desc[1], NULL, run->path, err) < 0 ||
        make_dset(g, "resume", "step", H5T_STD_I64LE, H5T_NATIVE_INT64, 1, &two, &two, NULL,
                  "optimizer steps taken",
                  "step[s]: optimizer steps taken when slot s was saved (Adam's bias "
                  "correction continues from it)",
                  steps, run->path, err) < 0 ||
        make_dset(g, "resume", "epoch", H5T_STD_I64LE, H5T_NATIVE_INT64, 1, &two, &two, &none,
                  "epochs (optimizer steps taken)",
                  "epoch[s]: the checkpoint slot s belongs to; the slot whose epoch equals "
                  "the last /checkpoints/epoch is the valid one; -1: empty or being written",
                  epochs, run->path, err) < 0)
        return -1;

    /* Python readers slice the flat moments with this list and the checkpoint shapes. */
    char keys[600] = "";
    size_t len = 0;
    for (int t = 0; t < GS_N_PARAMS; t++)
        len += (size_t)snprintf(keys + len, sizeof keys - len, "%s%s", t ? " " : "",
                                run->info[t].key);
    char where[GS_WHERE_MAX];
    int rc = 0;
    for (int i = 0; i < 2 && rc == 0; i++) {
        const char *name = i ? "adam_v" : "adam_m";
        gs_run_where(where, run->path, i ? "/resume/adam_v" : "/resume/adam_m");
        hid_t d = H5Dopen2(g, name, H5P_DEFAULT);
        if (d < 0)
            return gs_h5_fail(err, "%s: cannot open", where);
        rc = gs_h5_attr_write_str(d, "keys", keys, where, err);
        H5Dclose(d);
    }
    return rc;
}

/* /analysis: every dataset empty (the fixed-size ones hold only their fill value), so
 * the analysis later writes under SWMR without creating anything. */
static int create_analysis(hid_t g, const gs_run *run, gs_err *err)
{
    const hsize_t p = (hsize_t)run->dims.p, d_mlp = (hsize_t)run->dims.d_mlp;
    const hsize_t row_cap = ANALYSIS_CHUNK_BYTES / (p * sizeof(double));
    hsize_t zero = 0, chunk = EPOCH_CHUNK, one = 1, phase_rows = GS_PHASE_ROWS;
    hsize_t rows[2] = {0, p}, row_chunk[2] = {min_chunk(row_cap, EPOCH_CHUNK), p};
    hsize_t basis_chunk[2] = {min_chunk(row_cap, p), p}, neuron_chunk = d_mlp;
    const int64_t none = GS_RUN_NO_EPOCH, no_keys = GS_RUN_NO_KEYS;
    const char *path = run->path;
    if (make_dset(g, "analysis", "epoch", H5T_STD_I64LE, -1, 1, &zero, &chunk, &none,
                  "epochs (optimizer steps taken)",
                  "row k analyses checkpoint k and holds its epoch /checkpoints/epoch[k]; "
                  "this row is written last and commits the row of every /analysis series; "
                  "-1: not yet written",
                  NULL, path, err) < 0)
        return -1;
    for (int s = 0; s < GS_A_N_SERIES; s++) {
        int arr = s >= GS_ANALYSIS_N_SCALARS;
        if (make_dset(g, "analysis", gs_run_analysis_series_names[s], H5T_IEEE_F64LE, -1,
                      arr ? 2 : 1, arr ? rows : &zero, arr ? row_chunk : &chunk, NULL,
                      series_units[s], series_desc[s], NULL, path, err) < 0)
            return -1;
    }
    if (make_dset(g, "analysis", "fourier_basis", H5T_IEEE_F64LE, -1, 2, rows, basis_chunk,
                  NULL, "dimensionless (orthonormal rows)",
                  "F[j, x], x = 0..p-1: rows const, cos 1, sin 1, ..., cos (p-1)/2, sin "
                  "(p-1)/2 of cos(2 pi w x / p), sin(2 pi w x / p), each of unit norm; 0 rows "
                  "until the analysis writes it",
                  NULL, path, err) < 0 ||
        make_dset(g, "analysis", "key_freqs", H5T_STD_I32LE, -1, 1, &zero, &chunk, NULL,
                  "frequency w of cos(2 pi w x / p)",
                  "the key frequencies, ascending in 1..(p-1)/2, that restricted_loss and "
                  "excluded_loss use; valid while key_freqs_epoch is not -2",
                  NULL, path, err) < 0 ||
        make_dset(g, "analysis", "key_freqs_epoch", H5T_STD_I64LE, -1, 1, &one, &one, &no_keys,
                  "epochs (optimizer steps taken)",
                  "[0]: checkpoint epoch the key frequencies and neuron clusters were found "
                  "at; -1: key frequencies given by the user; -2: none stored (or being "
                  "rewritten). Written last: commits key_freqs, neuron_freq, "
                  "neuron_frac_explained",
                  NULL, path, err) < 0 ||
        make_dset(g, "analysis", "neuron_freq", H5T_STD_I32LE, -1, 1, &zero, &neuron_chunk,
                  NULL, "frequency w",
                  "[i]: the frequency whose cluster MLP neuron i belongs to, -1 for none; 0 "
                  "rows until written",
                  NULL, path, err) < 0 ||
        make_dset(g, "analysis", "neuron_frac_explained", H5T_IEEE_F64LE, -1, 1, &zero,
                  &neuron_chunk, NULL, "fraction",
                  "[i]: share of neuron i's activation variance over the p x p grid (constant "
                  "term dropped) in the terms of its best frequency; 0 rows until written",
                  NULL, path, err) < 0)
        return -1;
    return make_dset(g, "analysis", "phase_epochs", H5T_STD_I64LE, -1, 1, &phase_rows,
                     &phase_rows, &none, "epochs (optimizer steps taken)",
                     "[end of memorization = start of circuit formation, end of circuit "
                     "formation = start of cleanup, end of cleanup, fitted (train accuracy "
                     "first >= 0.99), grokked (test accuracy first >= 0.99), epochs at which "
                     "log test loss, weight_norm, gini_embed, gini_neuron_logit levelled off, "
                     "last epoch of the data the phases were found from (written last; -1: "
                     "no phases)]; -1: not reached; see docs/analysis.md",
                     NULL, path, err);
}

static int create_status(hid_t file, const gs_run *run, gs_err *err)
{
    char where[GS_WHERE_MAX];
    gs_run_where(where, run->path, "/status");
    hsize_t two = 2;
    const int64_t init[2] = {GS_RUN_RUNNING, 0};
    hid_t d = gs_h5_dset_create(file, "status", H5T_STD_I64LE, 1, &two, &two, NULL,
                                "code, epochs",
                                "[status, epoch]: 0 running (or killed while running), 1 "
                                "finished, 2 stopped early (test loss below "
                                "stop_test_loss), 3 diverged (NaN/Inf loss); epoch: the "
                                "epoch it refers to",
                                GS_H5_NO_DEFLATE, where, err);
    if (d < 0)
        return -1;
    int rc = gs_h5_write_rows(d, H5T_NATIVE_INT64, 0, 2, init, where, err);
    if (H5Dclose(d) < 0 && rc == 0)
        rc = gs_h5_fail(err, "%s: cannot close", where);
    return rc;
}

int gs_run_create_objects(gs_run *run, const gs_split *split, gs_err *err)
{
    static const char *const groups[] = {"config", "data", "metrics", "checkpoints",
                                         "resume", "analysis"};
    int rc = 0;
    for (int i = 0; i < 6 && rc == 0; i++) {
        hid_t g = make_group(run->file, groups[i], run->path, err);
        if (g < 0)
            return -1;
        switch (i) {
        case 1: rc = create_data(g, run, split, err); break;
        case 2: rc = create_metrics(g, run, err); break;
        case 3: rc = create_checkpoints(g, run, err); break;
        case 4: rc = create_resume(g, run, err); break;
        case 5: rc = create_analysis(g, run, err); break;
        default: break;
        }
        if (H5Gclose(g) < 0 && rc == 0)
            rc = gs_h5_fail(err, "%s: cannot close /%s", run->path, groups[i]);
    }
    return rc < 0 ? -1 : create_status(run->file, run, err);
}

/* ---- opening ---- */

static hid_t open_in(gs_run *run, const char *group, const char *name, H5T_class_t cls,
                     int rank, const hsize_t *dims, hsize_t *n0, gs_err *err)
{
    char obj[300], where[GS_WHERE_MAX];
    hid_t loc = run->file, g = -1;
    if (group) {
        snprintf(obj, sizeof obj, "/%s", group);
        gs_run_where(where, run->path, obj);
        htri_t has = H5Lexists(run->file, group, H5P_DEFAULT);
        if (has <= 0) {
            if (has < 0)
                gs_h5_fail(err, "%s: cannot look it up", where);
            else
                gs_err_set(err, "%s: missing", where);
            return -1;
        }
        if ((g = H5Gopen2(run->file, group, H5P_DEFAULT)) < 0) {
            gs_h5_fail(err, "%s: cannot open", where);
            return -1;
        }
        loc = g;
    }
    snprintf(obj, sizeof obj, "%s%s/%s", group ? "/" : "", group ? group : "", name);
    hsize_t len;
    hid_t d = gs_h5_dset_open(loc, name, cls, rank, dims, n0 ? n0 : &len,
                              gs_run_where(where, run->path, obj), err);
    gs_h5_close(&g);
    return d;
}

/* Fixed-length datasets must hold at least `need` rows. */
static int need_rows(gs_run *run, const char *obj, hsize_t have, hsize_t need, gs_err *err)
{
    if (have >= need)
        return 0;
    return gs_err_set(err, "%s: %s has %llu rows, expected %llu", run->path, obj,
                      (unsigned long long)have, (unsigned long long)need);
}

/* Fixed-size datasets written whole: 0 rows (not written yet) or exactly `want`. */
static int none_or_rows(gs_run *run, const char *obj, hsize_t have, hsize_t want, gs_err *err)
{
    if (have == 0 || have == want)
        return 0;
    return gs_err_set(err, "%s: %s has %llu rows, expected 0 or %llu (damaged file?)",
                      run->path, obj, (unsigned long long)have, (unsigned long long)want);
}

/* /analysis is optional for readers: files of older versions do not have it. */
static int open_analysis(gs_run *run, gs_err *err)
{
    htri_t has = H5Lexists(run->file, "analysis", H5P_DEFAULT);
    if (has < 0)
        return gs_h5_fail(err, "%s: /analysis: cannot look it up", run->path);
    run->has_analysis = has > 0;
    if (!has)
        return 0;
    const hsize_t p = (hsize_t)run->dims.p, d_mlp = (hsize_t)run->dims.d_mlp;
    const hsize_t rows[2] = {0, p};
    hsize_t n;
    if ((run->an_epoch = open_in(run, "analysis", "epoch", H5T_INTEGER, 1, NULL, NULL, err)) < 0)
        return -1;
    for (int s = 0; s < GS_A_N_SERIES; s++) {
        int arr = s >= GS_ANALYSIS_N_SCALARS;
        if ((run->an_series[s] = open_in(run, "analysis", gs_run_analysis_series_names[s],
                                         H5T_FLOAT, arr ? 2 : 1, arr ? rows : NULL, NULL,
                                         err)) < 0)
            return -1;
    }
    if ((run->an_basis = open_in(run, "analysis", "fourier_basis", H5T_FLOAT, 2, rows, &n,
                                 err)) < 0 ||
        none_or_rows(run, "/analysis/fourier_basis", n, p, err) < 0 ||
        (run->an_keys = open_in(run, "analysis", "key_freqs", H5T_INTEGER, 1, NULL, &n, err)) < 0)
        return -1;
    if (n > GS_ANALYSIS_MAX_KEYS)
        return gs_err_set(err, "%s: /analysis/key_freqs has %llu rows, at most %d allowed",
                          run->path, (unsigned long long)n, GS_ANALYSIS_MAX_KEYS);
    if ((run->an_keys_epoch = open_in(run, "analysis", "key_freqs_epoch", H5T_INTEGER, 1, NULL,
                                      &n, err)) < 0 ||
        need_rows(run, "/analysis/key_freqs_epoch", n, 1, err) < 0 ||
        (run->an_neuron_freq = open_in(run, "analysis", "neuron_freq", H5T_INTEGER, 1, NULL, &n,
                                       err)) < 0 ||
        none_or_rows(run, "/analysis/neuron_freq", n, d_mlp, err) < 0 ||
        (run->an_neuron_frac = open_in(run, "analysis", "neuron_frac_explained", H5T_FLOAT, 1,
                                       NULL, &n, err)) < 0 ||
        none_or_rows(run, "/analysis/neuron_frac_explained", n, d_mlp, err) < 0 ||
        (run->an_phases = open_in(run, "analysis", "phase_epochs", H5T_INTEGER, 1, NULL, &n,
                                  err)) < 0 ||
        need_rows(run, "/analysis/phase_epochs", n, 3, err) < 0)
        return -1;
    return 0;
}

int gs_run_open_objects(gs_run *run, gs_err *err)
{
    hsize_t n, flat[2] = {GS_RUN_SLOTS, (hsize_t)run->n_params};
    if ((run->train_idx = open_in(run, "data", "train_idx", H5T_INTEGER, 1, NULL, &n, err)) < 0 ||
        n != (hsize_t)run->n_train)
        return run->train_idx < 0 ? -1
                                  : gs_err_set(err, "%s: /data/train_idx has %llu rows, "
                                               "/config n_train is %d", run->path,
                                               (unsigned long long)n, run->n_train);
    if ((run->test_idx = open_in(run, "data", "test_idx", H5T_INTEGER, 1, NULL, &n, err)) < 0 ||
        n != (hsize_t)run->n_test)
        return run->test_idx < 0 ? -1
                                 : gs_err_set(err, "%s: /data/test_idx has %llu rows, "
                                              "/config n_test is %d", run->path,
                                              (unsigned long long)n, run->n_test);
    for (int m = 0; m < GS_N_METRICS; m++)
        if ((run->metrics[m] = open_in(run, "metrics", gs_run_metric_names[m],
                                       m == GS_M_EPOCH ? H5T_INTEGER : H5T_FLOAT, 1, NULL,
                                       NULL, err)) < 0)
            return -1;
    if ((run->ck_epoch = open_in(run, "checkpoints", "epoch", H5T_INTEGER, 1, NULL, NULL,
                                 err)) < 0)
        return -1;
    for (int t = 0; t < GS_N_PARAMS; t++) {
        const gs_param_info *pi = &run->info[t];
        hsize_t dims[GS_MAX_RANK + 1] = {0};
        for (int i = 0; i < pi->rank; i++)
            dims[i + 1] = (hsize_t)pi->shape[i];
        if ((run->params[t] = open_in(run, "checkpoints", pi->key, H5T_FLOAT, pi->rank + 1,
                                      dims, NULL, err)) < 0)
            return -1;
    }
    if ((run->adam_m = open_in(run, "resume", "adam_m", H5T_FLOAT, 2, flat, &n, err)) < 0 ||
        need_rows(run, "/resume/adam_m", n, GS_RUN_SLOTS, err) < 0 ||
        (run->adam_v = open_in(run, "resume", "adam_v", H5T_FLOAT, 2, flat, &n, err)) < 0 ||
        need_rows(run, "/resume/adam_v", n, GS_RUN_SLOTS, err) < 0 ||
        (run->rs_step = open_in(run, "resume", "step", H5T_INTEGER, 1, NULL, &n, err)) < 0 ||
        need_rows(run, "/resume/step", n, GS_RUN_SLOTS, err) < 0 ||
        (run->rs_epoch = open_in(run, "resume", "epoch", H5T_INTEGER, 1, NULL, &n, err)) < 0 ||
        need_rows(run, "/resume/epoch", n, GS_RUN_SLOTS, err) < 0 ||
        (run->status_ds = open_in(run, NULL, "status", H5T_INTEGER, 1, NULL, &n, err)) < 0 ||
        need_rows(run, "/status", n, 2, err) < 0)
        return -1;
    return open_analysis(run, err);
}

int gs_run_close_objects(gs_run *run, gs_err *err)
{
    hid_t *ids[] = {&run->ck_epoch, &run->adam_m, &run->adam_v, &run->rs_step,
                    &run->rs_epoch, &run->status_ds, &run->train_idx, &run->test_idx};
    int rc = 0;
    for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++)
        rc |= gs_h5_close(ids[i]);
    for (int m = 0; m < GS_N_METRICS; m++)
        rc |= gs_h5_close(&run->metrics[m]);
    for (int t = 0; t < GS_N_PARAMS; t++)
        rc |= gs_h5_close(&run->params[t]);
    hid_t *an[] = {&run->an_epoch, &run->an_basis, &run->an_keys, &run->an_keys_epoch,
                   &run->an_neuron_freq, &run->an_neuron_frac, &run->an_phases};
    for (size_t i = 0; i < sizeof an / sizeof an[0]; i++)
        rc |= gs_h5_close(an[i]);
    for (int s = 0; s < GS_A_N_SERIES; s++)
        rc |= gs_h5_close(&run->an_series[s]);
    return rc ? gs_h5_fail(err, "%s: cannot close a dataset (data may not have reached the "
                           "disk)", run->path)
              : 0;
}

int gs_run_start_swmr(gs_run *run, gs_h5_lock_kind kind, gs_err *err)
{
    /* Reopen with H5F_ACC_SWMR_WRITE rather than call H5Fstart_swmr_write: the latter
     * forces HDF5's default 100 metadata read attempts with a doubling sleep, so one
     * corrupt metadata block in an existing file would hang the writer for ages, while
     * an open honours the bounded count of gs_h5_fapl. */
    if (gs_run_close_objects(run, err) < 0)
        return -1;
    if (H5Fclose(run->file) < 0) {
        run->file = -1;
        return gs_h5_fail(err, "%s: cannot close before SWMR writing", run->path);
    }
    hid_t fapl = gs_h5_fapl(0);
    if (fapl < 0)
        return gs_h5_fail(err, "%s: cannot set up file access", run->path);
    run->file = H5Fopen(run->path, H5F_ACC_RDWR | H5F_ACC_SWMR_WRITE, fapl);
    H5Pclose(fapl);
    if (run->file < 0)
        return gs_h5_fail(err, "%s: cannot open for SWMR writing", run->path);
    /* Closing HDF5's descriptor dropped this process's fcntl lock: take it again. */
    gs_h5_unlock_file(&run->lock_fd);
    if ((run->lock_fd = gs_h5_lock_file(run->path, kind, NULL, err)) < 0)
        return -1;
    return gs_run_open_objects(run, err);
}
