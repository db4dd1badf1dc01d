/* gs_run writing: create, append (the crash-safe commit protocol), status, close. */
#include "runfile_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef GS_VERSION
#define GS_VERSION "unknown"
#endif

void gs_run_set_layout(gs_run *run)
{
    gs_config_dims(&run->cfg, &run->dims);
    run->n_tensors = gs_params_count(&run->dims);
    run->n_params = gs_params_layout(&run->dims, run->info);
}

const char *gs_run_where(char buf[GS_WHERE_MAX], const char *path, const char *obj)
{
    snprintf(buf, GS_WHERE_MAX, "%s: %s", path, obj);
    return buf;
}

gs_run *gs_run_new(const char *path, gs_err *err)
{
    gs_run *run = calloc(1, sizeof *run);
    if (!run || !(run->path = strdup(path))) {
        free(run);
        gs_err_set(err, "%s: out of memory", path);
        return NULL;
    }
    run->file = -1;
    for (int id = 0; id < GS_RUN_N_OBJ; id++)
        run->ds[id] = -1;
    run->lock_fd = -1;
    run->slot = -1;
    return run;
}

int gs_run_destroy(gs_run *run, gs_err *err)
{
    if (!run)
        return 0;
    int rc = gs_run_close_objects(run, err);
    if (run->file >= 0 && H5Fclose(run->file) < 0 && rc == 0)
        rc = gs_h5_fail(err, "%s: cannot close (data may not have reached the disk)",
                        run->path);
    run->file = -1;
    gs_h5_unlock_file(&run->lock_fd);
    free(run->ck_epochs);
    free(run->command_line);
    free(run->created_by);
    free(run->path);
    free(run);
    return rc;
}

/* The split must be one of the pairs of cfg before it becomes part of the file. */
static int check_split(const char *path, const gs_config *cfg, const gs_split *s, gs_err *err)
{
    /* the modular tasks: p*p pairs shared by both sets; images: each set its own */
    const int64_t n_train = gs_config_index_bound(cfg, 0), n_test = gs_config_index_bound(cfg, 1);
    if (s->n_train < 1 || s->n_test < 1 || !s->train_idx || !s->test_idx ||
        (cfg->task == GS_TASK_MNIST ? s->n_train > n_train || s->n_test > n_test
                                    : (int64_t)s->n_train + s->n_test > n_train))
        return gs_err_set(err, "cannot create %s: the split is empty or larger than its inputs", path);
    for (int i = 0; i < s->n_train + s->n_test; i++) {
        int32_t v = i < s->n_train ? s->train_idx[i] : s->test_idx[i - s->n_train];
        const int64_t bound = i < s->n_train ? n_train : n_test;
        if (v >= 0 && v < bound)
            continue;
        if (cfg->task != GS_TASK_MNIST)
            return gs_err_set(err, "cannot create %s: split index %d is outside 0..p*p-1",
                              path, (int)v);
        return gs_err_set(err, "cannot create %s: split index %d is outside 0..%lld",
                          path, (int)v, (long long)bound - 1);
    }
    return 0;
}

int gs_run_create(gs_run **out, const char *path, const gs_config *cfg, const gs_split *split,
                  const char *command_line, int force, gs_err *err)
{
    gs_h5_init();
    if (!out || !path || !cfg || !split)
        return gs_err_set(err, "internal error: gs_run_create called without arguments");
    *out = NULL;
    gs_err inner;
    if (gs_config_validate(cfg, &inner) < 0)
        return gs_err_set(err, "cannot create %s: %s", path, inner.msg);
    if (check_split(path, cfg, split, err) < 0)
        return -1;
    if (H5Zfilter_avail(H5Z_FILTER_DEFLATE) <= 0)
        return gs_err_set(err, "cannot create %s: this HDF5 library has no deflate filter",
                          path);

    /* Check first, then create exclusively: an existing run is never truncated by
     * accident, and never while another process is still writing it. */
    struct stat st;
    int exists = stat(path, &st) == 0;
    if (exists && S_ISDIR(st.st_mode))
        return gs_err_set(err, "%s: is a directory", path);
    if (exists && !force)
        return gs_err_set_code(err, GS_ERR_EXISTS, "%s: already exists", path);
    if (exists) {
        int probe = gs_h5_lock_file(path, GS_H5_LOCK_TRAIN, NULL, err);
        if (probe < 0)
            return -1;
        gs_h5_unlock_file(&probe);
    }

    gs_run *run = gs_run_new(path, err);
    if (!run)
        return -1;
    run->cfg = *cfg;
    run->minor = GS_RUN_FORMAT_MINOR;
    run->n_train = split->n_train;
    run->n_test = split->n_test;
    gs_run_set_layout(run);
    run->command_line = strdup(command_line ? command_line : "");
    run->created_by = strdup("grokscope " GS_VERSION);
    if (!run->command_line || !run->created_by) {
        gs_run_destroy(run, NULL);
        return gs_err_set(err, "%s: out of memory", path);
    }

    /* The root group takes its time stamps setting from the file-creation list: off,
     * so the same run gives the same bytes. */
    hid_t fapl = gs_h5_fapl(0), fcpl = H5Pcreate(H5P_FILE_CREATE);
    if (fapl < 0 || fcpl < 0 || H5Pset_obj_track_times(fcpl, 0) < 0) {
        gs_h5_fail(err, "%s: cannot set up file access", path);
        gs_h5_close(&fapl);
        gs_h5_close(&fcpl);
        gs_run_destroy(run, NULL);
        return -1;
    }
    run->file = H5Fcreate(path, exists ? H5F_ACC_TRUNC : H5F_ACC_EXCL, fcpl, fapl);
    H5Pclose(fapl);
    H5Pclose(fcpl);
    if (run->file < 0) {
        if (!exists && access(path, F_OK) == 0) /* lost a race with another creator */
            gs_err_set_code(err, GS_ERR_EXISTS, "%s: already exists", path);
        else
            gs_h5_fail(err, "%s: cannot create", path);
        gs_run_destroy(run, NULL);
        return -1;
    }
    /* From here on a failure removes the file: never leave a half-written run. */
    run->lock_fd = gs_h5_lock_file(path, GS_H5_LOCK_TRAIN, NULL, err);
    if (run->lock_fd < 0 || gs_run_create_objects(run, split, err) < 0 ||
        gs_run_write_attrs(run, err) < 0 || gs_run_start_swmr(run, GS_H5_LOCK_TRAIN, err) < 0) {
        gs_run_destroy(run, NULL);
        unlink(path);
        return -1;
    }
    run->writable = 1;
    run->status = GS_RUN_RUNNING;
    *out = run;
    return 0;
}

int gs_run_flush(gs_run *run, gs_err *err)
{
    if (H5Fflush(run->file, H5F_SCOPE_LOCAL) < 0)
        return gs_h5_fail(err, "%s: cannot flush to disk", run->path);
    return 0;
}

static int check_append(const gs_run *run, const gs_metrics_row *rows, int n_rows, long epoch,
                        const float *params, const float *adam_m, const float *adam_v,
                        long step, gs_err *err)
{
    if (!run->writable)
        return gs_err_set(err, "%s: opened read-only, cannot append", run->path);
    if (run->analyzing)
        return gs_err_set(err, "%s: opened for analysis, cannot append checkpoints", run->path);
    if (run->failed)
        return gs_err_set(err, "%s: an earlier write failed; resume from the file to "
                          "continue", run->path);
    if (n_rows < 0 || (n_rows > 0 && !rows) || !params || !adam_m || !adam_v || step < 0)
        return gs_err_set(err, "%s: internal error: bad arguments to gs_run_append", run->path);
    long last = run->n_ckpt ? run->ck_epochs[run->n_ckpt - 1] : -1;
    if (run->n_ckpt == 0 ? epoch != 0 : epoch <= last)
        return gs_err_set(err, "%s: checkpoint epoch %ld does not follow %ld (the first "
                          "must be 0)", run->path, epoch, last);
    for (int i = 0; i < n_rows; i++)
        if (rows[i].epoch != run->n_metrics + i)
            return gs_err_set(err, "%s: metrics row for epoch %ld where epoch %ld was expected",
                              run->path, rows[i].epoch, run->n_metrics + i);
    if (n_rows > 0 && rows[n_rows - 1].epoch > epoch)
        return gs_err_set(err, "%s: metrics row for epoch %ld is past checkpoint epoch %ld",
                          run->path, rows[n_rows - 1].epoch, epoch);
    return 0;
}

/* Each /metrics dataset takes its column of rows: the epoch (a long) or a double,
 * at the field the table names. */
static int write_metrics(gs_run *run, const gs_metrics_row *rows, int n_rows, gs_err *err)
{
    if (n_rows == 0)
        return 0;
    int64_t *ep = malloc((size_t)n_rows * sizeof *ep);
    double *col = malloc((size_t)n_rows * sizeof *col);
    int rc = 0;
    if (!ep || !col)
        rc = gs_err_set(err, "%s: out of memory writing metrics", run->path);
    for (int id = GS_O_METRICS_FIRST; id < GS_O_METRICS_END && rc == 0; id++) {
        const gs_run_obj *o = &gs_run_objects[id];
        if (run->ds[id] < 0)
            continue; /* a measure of format 1.3 that this older file does not have */
        const int is_int = o->type == GS_RUN_I64;
        for (int i = 0; i < n_rows; i++) {
            const char *field = (const char *)&rows[i] + o->field;
            if (is_int)
                ep[i] = *(const long *)field;
            else
                col[i] = *(const double *)field;
        }
        rc = gs_run_ds_write(run, id, (hsize_t)run->n_metrics, (hsize_t)n_rows,
                             is_int ? (const void *)ep : (const void *)col, err);
    }
    free(ep);
    free(col);
    return rc;
}

static int write_checkpoint(gs_run *run, const float *params, gs_err *err)
{
    for (int t = 0; t < run->n_tensors; t++)
        if (gs_run_ds_write(run, GS_O_PARAM + t, (hsize_t)run->n_ckpt, 1,
                            params + run->info[t].offset, err) < 0)
            return -1;
    return 0;
}

/* Writes the slot the last checkpoint does not use: its state stays intact until the
 * new checkpoint is committed. */
static int write_resume(gs_run *run, int slot, long epoch, const float *adam_m,
                        const float *adam_v, long step, gs_err *err)
{
    const int64_t none = GS_RUN_NO_EPOCH, ep = epoch, st = step;
    const hsize_t s = (hsize_t)slot;
    if (gs_run_ds_write(run, GS_O_RS_EPOCH, s, 1, &none, err) < 0 ||
        gs_run_ds_write(run, GS_O_ADAM_M, s, 1, adam_m, err) < 0 ||
        gs_run_ds_write(run, GS_O_ADAM_V, s, 1, adam_v, err) < 0 ||
        (run->gf_state && gs_run_ds_write(run, GS_O_RS_GROKFAST, s, 1, run->gf_state, err) < 0) ||
        gs_run_ds_write(run, GS_O_RS_STEP, s, 1, &st, err) < 0 ||
        gs_run_ds_write(run, GS_O_RS_EPOCH, s, 1, &ep, err) < 0)
        return -1;
    return 0;
}

int gs_run_append(gs_run *run, const gs_metrics_row *rows, int n_rows, long epoch,
                  const float *params, const float *adam_m, const float *adam_v, long step,
                  gs_err *err)
{
    if (!run)
        return gs_err_set(err, "internal error: gs_run_append without a run");
    if (check_append(run, rows, n_rows, epoch, params, adam_m, adam_v, step, err) < 0)
        return -1;
    if (run->n_ckpt == run->ck_cap) {
        int cap = run->ck_cap ? 2 * run->ck_cap : 64;
        long *e = realloc(run->ck_epochs, (size_t)cap * sizeof *e);
        if (!e)
            return gs_err_set(err, "%s: out of memory", run->path);
        run->ck_epochs = e;
        run->ck_cap = cap;
    }
    /* Everything a checkpoint needs reaches the disk (flush) before its
     * /checkpoints/epoch row, which commits it; see docs/run-file.md. */
    int slot = run->slot < 0 ? 0 : 1 - run->slot;
    const int64_t ep = epoch;
    if (write_metrics(run, rows, n_rows, err) < 0 || write_checkpoint(run, params, err) < 0 ||
        write_resume(run, slot, epoch, adam_m, adam_v, step, err) < 0 ||
        gs_run_flush(run, err) < 0 ||
        gs_run_ds_write(run, GS_O_CK_EPOCH, (hsize_t)run->n_ckpt, 1, &ep, err) < 0 ||
        gs_run_flush(run, err) < 0) {
        /* The handle no longer knows what is on disk; the file itself is still valid
         * up to the last commit, and resuming trims the rest. */
        run->failed = 1;
        return -1;
    }
    run->n_metrics += n_rows;
    run->ck_epochs[run->n_ckpt++] = epoch;
    run->slot = slot;
    return 0;
}

void gs_run_attach_filter(gs_run *run, const float *state)
{
    run->gf_state = state;
}

int gs_run_set_status(gs_run *run, gs_run_status status, long epoch, gs_err *err)
{
    if (!run)
        return gs_err_set(err, "internal error: gs_run_set_status without a run");
    if (!run->writable)
        return gs_err_set(err, "%s: opened read-only, cannot set the status", run->path);
    if (run->analyzing)
        return gs_err_set(err, "%s: opened for analysis, cannot set the status", run->path);
    if ((int)status < GS_RUN_RUNNING || status > GS_RUN_DIVERGED)
        return gs_err_set(err, "%s: internal error: status %d", run->path, (int)status);
    const int64_t v[2] = {status, epoch};
    if (gs_run_ds_write(run, GS_O_STATUS, 0, 2, v, err) < 0 ||
        gs_run_flush(run, err) < 0)
        return -1;
    run->status = status;
    run->status_epoch = epoch;
    return 0;
}

int gs_run_close(gs_run *run, gs_err *err)
{
    return gs_run_destroy(run, err);
}

const char *gs_run_path(const gs_run *run) { return run->path; }
const gs_config *gs_run_config(const gs_run *run) { return &run->cfg; }
const gs_dims *gs_run_dims(const gs_run *run) { return &run->dims; }
const char *gs_run_command_line(const gs_run *run) { return run->command_line; }
const char *gs_run_created_by(const gs_run *run) { return run->created_by; }
const char *gs_run_circuit_note(const gs_run *run) { return run->circuit_note; }
const char *gs_run_model_note(const gs_run *run) { return run->model_note; }

int gs_run_n_checkpoints(const gs_run *run) { return run->n_ckpt; }
long gs_run_n_metrics(const gs_run *run) { return run->n_metrics; }

gs_run_status gs_run_get_status(const gs_run *run, long *status_epoch)
{
    if (status_epoch)
        *status_epoch = run->status_epoch;
    return run->status;
}
