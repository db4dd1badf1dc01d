/* gs_run reading: checkpoints, metrics, split, optimizer state; and --init FILE. */
#include "runfile_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int gs_run_checkpoint_epochs(gs_run *run, long *epochs, gs_err *err)
{
    if (!run || (!epochs && run->n_ckpt > 0))
        return gs_err_set(err, "internal error: gs_run_checkpoint_epochs without arguments");
    if (run->n_ckpt > 0)
        memcpy(epochs, run->ck_epochs, (size_t)run->n_ckpt * sizeof *epochs);
    return 0;
}

int gs_run_find_checkpoint(const gs_run *run, long epoch, gs_err *err)
{
    if (!run)
        return gs_err_set(err, "internal error: gs_run_find_checkpoint without a run");
    if (run->n_ckpt == 0)
        return gs_err_set(err, "%s: the run has no checkpoint yet", run->path);
    if (epoch < 0)
        return run->n_ckpt - 1;
    for (int i = 0; i < run->n_ckpt; i++)
        if (run->ck_epochs[i] == epoch)
            return i;
    return gs_err_set(err, "%s: no checkpoint at epoch %ld (checkpoints run from %ld to %ld)",
                      run->path, epoch, run->ck_epochs[0], run->ck_epochs[run->n_ckpt - 1]);
}

int gs_run_read_checkpoint(gs_run *run, int index, float *params, gs_err *err)
{
    if (!run || !params)
        return gs_err_set(err, "internal error: gs_run_read_checkpoint without arguments");
    if (index < 0 || index >= run->n_ckpt)
        return gs_err_set(err, "%s: no checkpoint %d (the run has %d)", run->path, index,
                          run->n_ckpt);
    for (int t = 0; t < run->n_tensors; t++)
        if (gs_run_ds_read(run, GS_O_PARAM + t, (hsize_t)index, 1, params + run->info[t].offset,
                           err) < 0)
            return -1;
    return 0;
}

int gs_run_read_metrics(gs_run *run, long first, long n, gs_metrics_row *rows, gs_err *err)
{
    if (!run || (n > 0 && !rows))
        return gs_err_set(err, "internal error: gs_run_read_metrics without arguments");
    if (first < 0 || n < 0 || first > run->n_metrics || n > run->n_metrics - first)
        return gs_err_set(err, "%s: metrics rows %ld..%ld are outside the %ld stored",
                          run->path, first, first + n - 1, run->n_metrics);
    if (n == 0)
        return 0;
    int64_t *ep = malloc((size_t)n * sizeof *ep);
    double *col = malloc((size_t)n * sizeof *col);
    int rc = ep && col ? 0 : gs_err_set(err, "%s: out of memory reading metrics", run->path);
    /* Each column into its field of the rows (the epoch a long, the rest doubles). */
    for (int id = GS_O_METRICS_FIRST; id < GS_O_METRICS_END && rc == 0; id++) {
        const gs_run_obj *o = &gs_run_objects[id];
        const int is_int = o->type == GS_RUN_I64;
        if (run->ds[id] < 0) /* older file: the measure was not recorded */
            for (long i = 0; i < n; i++)
                col[i] = NAN;
        else
            rc = gs_run_ds_read(run, id, (hsize_t)first, (hsize_t)n,
                                is_int ? (void *)ep : (void *)col, err);
        for (long i = 0; i < n && rc == 0; i++) {
            char *field = (char *)&rows[i] + o->field;
            if (is_int)
                *(long *)field = (long)ep[i];
            else
                *(double *)field = col[i];
        }
    }
    free(ep);
    free(col);
    return rc;
}

int gs_run_read_split(gs_run *run, gs_split *out, gs_err *err)
{
    if (!run || !out)
        return gs_err_set(err, "internal error: gs_run_read_split without arguments");
    memset(out, 0, sizeof *out);
    const int n = run->n_train + run->n_test;
    /* One block, as gs_split_free expects. */
    int32_t *block = malloc((size_t)n * sizeof *block);
    if (!block)
        return gs_err_set(err, "%s: out of memory reading the split", run->path);
    char where[GS_WHERE_MAX];
    if (gs_run_ds_read(run, GS_O_TRAIN_IDX, 0, (hsize_t)run->n_train, block, err) < 0 ||
        gs_run_ds_read(run, GS_O_TEST_IDX, 0, (hsize_t)run->n_test, block + run->n_train,
                       err) < 0) {
        free(block);
        return -1;
    }
    for (int i = 0; i < n; i++) {
        /* p*p pairs, or the images of each set (gs_config_index_bound) */
        const int64_t bound = gs_config_index_bound(&run->cfg, i >= run->n_train);
        if (block[i] < 0 || block[i] >= bound) {
            char range[32] = "p*p-1";
            if (run->cfg.task == GS_TASK_MNIST)
                snprintf(range, sizeof range, "%lld", (long long)bound - 1);
            gs_err_set(err, "%s: holds index %d, outside 0..%s",
                       gs_run_ds_where(where, run, i < run->n_train ? GS_O_TRAIN_IDX
                                                                    : GS_O_TEST_IDX),
                       (int)block[i], range);
            free(block);
            return -1;
        }
    }
    out->n_train = run->n_train;
    out->n_test = run->n_test;
    out->train_idx = block;
    out->test_idx = block + run->n_train;
    return 0;
}

int gs_run_read_resume(gs_run *run, float *adam_m, float *adam_v, long *step, gs_err *err)
{
    if (!run || !adam_m || !adam_v || !step)
        return gs_err_set(err, "internal error: gs_run_read_resume without arguments");
    if (run->n_ckpt == 0)
        return gs_err_set(err, "%s: has no checkpoint", run->path);
    if (run->slot < 0)
        return gs_err_set(err, "%s: the optimizer state of checkpoint epoch %ld is missing",
                          run->path, run->ck_epochs[run->n_ckpt - 1]);
    char where[GS_WHERE_MAX];
    const hsize_t s = (hsize_t)run->slot;
    int64_t st;
    if (gs_run_ds_read(run, GS_O_ADAM_M, s, 1, adam_m, err) < 0 ||
        gs_run_ds_read(run, GS_O_ADAM_V, s, 1, adam_v, err) < 0 ||
        gs_run_ds_read(run, GS_O_RS_STEP, s, 1, &st, err) < 0)
        return -1;
    if (st < 0)
        return gs_err_set(err, "%s: holds %lld", gs_run_ds_where(where, run, GS_O_RS_STEP),
                          (long long)st);
    *step = (long)st;
    return 0;
}

int gs_run_read_filter(gs_run *run, float *state, gs_err *err)
{
    if (!run || !state)
        return gs_err_set(err, "internal error: gs_run_read_filter without arguments");
    if (run->ds[GS_O_RS_GROKFAST] < 0)
        return gs_err_set(err, "%s: has no Grokfast filter state", run->path);
    if (run->slot < 0)
        return gs_err_set(err, "%s: the optimizer state of the last checkpoint is missing", run->path);
    return gs_run_ds_read(run, GS_O_RS_GROKFAST, (hsize_t)run->slot, 1, state, err);
}

/* ---- --init FILE ---- */

/* Same tensors, keys and shapes: a checkpoint of one is a valid start for the other. */
static int same_layout(const gs_dims *a, const gs_dims *b)
{
    gs_param_info ia[GS_MAX_TENSORS], ib[GS_MAX_TENSORS];
    const int n = gs_params_count(a);
    if (n != gs_params_count(b))
        return 0;
    gs_params_layout(a, ia);
    gs_params_layout(b, ib);
    for (int t = 0; t < n; t++) {
        if (strcmp(ia[t].key, ib[t].key) != 0 || ia[t].rank != ib[t].rank)
            return 0;
        for (int i = 0; i < ia[t].rank; i++)
            if (ia[t].shape[i] != ib[t].shape[i])
                return 0;
    }
    return 1;
}

static int load_from_run(const char *path, const gs_dims *d, float *params, gs_err *err)
{
    gs_run *run;
    if (gs_run_open(&run, path, GS_RUN_READ, 0, err) < 0)
        return -1;
    const gs_dims *rd = &run->dims;
    int rc = 0;
    if (rd->kind == GS_MODEL_TRANSFORMER && d->kind == GS_MODEL_TRANSFORMER &&
        (rd->p != d->p || rd->d_model != d->d_model || rd->n_heads != d->n_heads ||
         rd->d_mlp != d->d_mlp))
        rc = gs_err_set(err, "%s: run has p=%d d_model=%d n_heads=%d d_mlp=%d, expected "
                        "p=%d d_model=%d n_heads=%d d_mlp=%d", path, rd->p, rd->d_model,
                        rd->n_heads, rd->d_mlp, d->p, d->d_model, d->n_heads, d->d_mlp);
    else if (!same_layout(rd, d))
        rc = gs_err_set(err, "%s: run's %s has other parameters (keys or shapes) than this "
                        "run's %s", path, gs_model_kind_name(rd->kind), gs_model_kind_name(d->kind));
    else if (run->n_ckpt == 0)
        rc = gs_err_set(err, "%s: run has no checkpoint yet", path);
    else
        rc = gs_run_read_checkpoint(run, run->n_ckpt - 1, params, err);
    gs_err ignore;
    gs_run_destroy(run, &ignore);
    return rc;
}

static void shape_str(char *buf, size_t size, int rank, const hsize_t *dims)
{
    size_t len = (size_t)snprintf(buf, size, "[");
    for (int i = 0; i < rank && len < size; i++)
        len += (size_t)snprintf(buf + len, size - len, "%s%llu", i ? ", " : "",
                                (unsigned long long)dims[i]);
    if (len < size)
        snprintf(buf + len, size - len, "]");
}

/* One root dataset named by the key: float32 or float64, exactly the expected shape. */
static int load_plain_key(hid_t file, const char *path, const gs_param_info *pi, float *dst,
                          gs_err *err)
{
    htri_t has = H5Lexists(file, pi->key, H5P_DEFAULT);
    if (has < 0)
        return gs_h5_fail(err, "%s: cannot look up %s", path, pi->key);
    if (has == 0)
        return gs_err_set(err, "%s: has no dataset %s at the root (expected a grokscope run "
                          "file or datasets named by the parameter keys)", path, pi->key);
    hid_t d = H5Dopen2(file, pi->key, H5P_DEFAULT);
    if (d < 0)
        return gs_h5_fail(err, "%s: cannot open %s as a dataset", path, pi->key);
    hid_t type = H5Dget_type(d), space = H5Dget_space(d);
    int rc = 0;
    hsize_t dims[8], want[GS_MAX_RANK];
    int rank = space >= 0 ? H5Sget_simple_extent_ndims(space) : -1;
    size_t size = type >= 0 ? H5Tget_size(type) : 0;
    if (type < 0 || space < 0 || rank < 0)
        rc = gs_h5_fail(err, "%s: cannot inspect %s", path, pi->key);
    else if (H5Tget_class(type) != H5T_FLOAT || (size != 4 && size != 8))
        rc = gs_err_set(err, "%s: %s is not float32 or float64", path, pi->key);
    else if (rank > 8 || H5Sget_simple_extent_dims(space, dims, NULL) < 0)
        rc = gs_err_set(err, "%s: %s has %d axes, expected %d", path, pi->key, rank, pi->rank);
    if (rc == 0) {
        int same = rank == pi->rank;
        for (int i = 0; i < pi->rank; i++) {
            want[i] = (hsize_t)pi->shape[i];
            same = same && dims[i] == want[i];
        }
        if (!same) {
            char have_s[200], want_s[200];
            shape_str(have_s, sizeof have_s, rank, dims);
            shape_str(want_s, sizeof want_s, pi->rank, want);
            rc = gs_err_set(err, "%s: %s has shape %s, expected %s", path, pi->key, have_s,
                            want_s);
        }
    }
    if (rc == 0 && size == 4) {
        if (H5Dread(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, dst) < 0)
            rc = gs_h5_fail(err, "%s: cannot read %s", path, pi->key);
    } else if (rc == 0) {
        /* Our own rounding (nearest, like torch's .float()), not HDF5's conversion
         * with its overflow handling. */
        double *tmp = malloc(pi->count * sizeof *tmp);
        if (!tmp)
            rc = gs_err_set(err, "%s: out of memory reading %s", path, pi->key);
        else if (H5Dread(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, tmp) < 0)
            rc = gs_h5_fail(err, "%s: cannot read %s", path, pi->key);
        else
            for (size_t i = 0; i < pi->count; i++)
                dst[i] = (float)tmp[i];
        free(tmp);
    }
    gs_h5_close(&space);
    gs_h5_close(&type);
    H5Dclose(d);
    return rc;
}

int gs_params_load_file(const char *path, const gs_dims *d, float *params, gs_err *err)
{
    if (!path || !d || !params)
        return gs_err_set(err, "internal error: gs_params_load_file without arguments");
    if (gs_h5_check_path(path, err) < 0)
        return -1;
    int swmr;
    hid_t file = gs_h5_open_read(path, &swmr, err);
    if (file < 0)
        return -1;
    /* format = "grokscope-run" at the root makes it a run file, with all its checks. */
    gs_err ignore;
    char *format = NULL;
    int is_run = gs_h5_attr_read_str(file, "format", &format, path, &ignore) == 0 &&
                 strcmp(format, GS_RUN_FORMAT) == 0;
    free(format);
    if (is_run) {
        H5Fclose(file);
        return load_from_run(path, d, params, err);
    }
    gs_param_info info[GS_MAX_TENSORS];
    gs_params_layout(d, info);
    int rc = 0;
    for (int t = 0; t < gs_params_count(d) && rc == 0; t++)
        rc = load_plain_key(file, path, &info[t], params + info[t].offset, err);
    if (H5Fclose(file) < 0 && rc == 0)
        rc = gs_h5_fail(err, "%s: cannot close", path);
    return rc;
}
