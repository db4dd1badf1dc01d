/* gs_run opening: validation, what counts as committed, trimming for resume, and
 * following a live run (SWMR refresh). */
#include "runfile_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Reads /checkpoints/epoch and keeps the committed prefix: rows still holding the fill
 * value (-1) were extended but not yet written when the writer stopped. */
static int scan_checkpoints(gs_run *run, gs_err *err)
{
    char where[GS_WHERE_MAX];
    gs_run_ds_where(where, run, GS_O_CK_EPOCH);
    hsize_t n;
    int64_t *e;
    if (gs_run_read_commits(run, GS_O_CK_EPOCH, &e, &n, err) < 0)
        return -1;
    for (hsize_t i = 0; i < n; i++) {
        if (i == 0 ? e[0] != 0 : e[i] <= e[i - 1]) {
            gs_err_set(err, "%s: damaged (checkpoint %llu has epoch %lld)", where,
                       (unsigned long long)i, (long long)e[i]);
            free(e);
            return -1;
        }
    }
    /* A checkpoint counts only once every parameter dataset holds its row (a SWMR
     * reader may see the datasets at slightly different moments). */
    for (int t = 0; t < run->n_tensors; t++) {
        hsize_t len;
        if (gs_run_ds_len(run, GS_O_PARAM + t, &len, err) < 0) {
            free(e);
            return -1;
        }
        if (len < n)
            n = len;
    }
    if ((hsize_t)run->ck_cap < n) {
        long *ce = realloc(run->ck_epochs, n * sizeof *ce);
        if (!ce) {
            free(e);
            return gs_err_set(err, "%s: out of memory", where);
        }
        run->ck_epochs = ce;
        run->ck_cap = (int)n;
    }
    for (hsize_t i = 0; i < n; i++)
        run->ck_epochs[i] = (long)e[i];
    run->n_ckpt = (int)n;
    free(e);
    return 0;
}

/* Metric rows count up to the last committed checkpoint's epoch: later rows belong
 * to a checkpoint that was never committed. */
static int scan_metrics(gs_run *run, gs_err *err)
{
    char where[GS_WHERE_MAX];
    long n = run->n_ckpt ? run->ck_epochs[run->n_ckpt - 1] + 1 : 0;
    for (int id = GS_O_METRICS_FIRST; id < GS_O_METRICS_END; id++) {
        hsize_t len;
        if (run->ds[id] < 0)
            continue;
        if (gs_run_ds_len(run, id, &len, err) < 0)
            return -1;
        if (len < (hsize_t)n)
            n = (long)len;
    }
    if (n > 0) {
        int64_t last;
        if (gs_run_ds_read(run, GS_O_M_EPOCH, (hsize_t)n - 1, 1, &last, err) < 0)
            return -1;
        if (last != n - 1)
            return gs_err_set(err, "%s: damaged (row %ld holds epoch %lld)",
                              gs_run_ds_where(where, run, GS_O_M_EPOCH), n - 1,
                              (long long)last);
    }
    run->n_metrics = n;
    return 0;
}

/* The valid optimizer-state slot is the one saved with the last checkpoint. */
static int scan_resume_and_status(gs_run *run, gs_err *err)
{
    int64_t ep[GS_RUN_SLOTS], st[2];
    if (gs_run_ds_read(run, GS_O_RS_EPOCH, 0, GS_RUN_SLOTS, ep, err) < 0 ||
        gs_run_ds_read(run, GS_O_STATUS, 0, 2, st, err) < 0)
        return -1;
    run->slot = -1;
    if (run->n_ckpt > 0)
        for (int s = 0; s < GS_RUN_SLOTS; s++)
            if (ep[s] == run->ck_epochs[run->n_ckpt - 1])
                run->slot = s;
    if (st[0] < GS_RUN_RUNNING || st[0] > GS_RUN_DIVERGED)
        return gs_err_set(err, "%s: /status holds an unknown status %lld", run->path,
                          (long long)st[0]);
    run->status = (gs_run_status)st[0];
    run->status_epoch = (long)st[1];
    return 0;
}

int gs_run_scan(gs_run *run, gs_err *err)
{
    if (scan_checkpoints(run, err) < 0 || scan_metrics(run, err) < 0 ||
        scan_resume_and_status(run, err) < 0 || gs_run_scan_analysis(run, err) < 0)
        return -1;
    return 0;
}

/* Opens for writing (a trainer's resume or an analysis). A writer killed in SWMR mode
 * leaves flags that make HDF5 refuse the file; they are cleared only while we hold the
 * writer lock, i.e. when no other grokscope process is writing it. */
static int open_for_writing(gs_run *run, gs_h5_lock_kind kind, gs_err *err)
{
    gs_h5_lock_kind holder;
    hid_t fapl = gs_h5_fapl(0);
    if (fapl < 0)
        return gs_h5_fail(err, "%s: cannot set up file access", run->path);
    run->file = H5Fopen(run->path, H5F_ACC_RDWR, fapl);
    H5Pclose(fapl);
    if (run->file < 0) {
        H5Eclear2(H5E_DEFAULT);
        if ((run->lock_fd = gs_h5_lock_file(run->path, kind, &holder, err)) < 0)
            goto refused;
        if ((fapl = gs_h5_fapl(1)) < 0)
            return gs_h5_fail(err, "%s: cannot set up file access", run->path);
        run->file = H5Fopen(run->path, H5F_ACC_RDWR, fapl);
        H5Pclose(fapl);
        if (run->file < 0)
            return gs_h5_fail(err, "%s: cannot open for writing", run->path);
    }
    /* (Re)take the lock now that HDF5 has the file open: closing any descriptor of a
     * file drops a process's fcntl locks, and HDF5 may have done so while opening. */
    gs_h5_unlock_file(&run->lock_fd);
    if ((run->lock_fd = gs_h5_lock_file(run->path, kind, &holder, err)) >= 0)
        return 0;
refused:
    /* A live training run can still be analysed, by reading it: the code lets the
     * caller say how, or wait. */
    if (kind == GS_H5_LOCK_ANALYZE && holder == GS_H5_LOCK_TRAIN)
        gs_err_set_code(err, GS_ERR_BUSY_TRAINING, "%s: is being trained right now",
                        run->path);
    return -1;
}

/* Cuts everything past the last committed checkpoint, so the file is again exactly
 * what check-run-file expects, then hands it to SWMR writing. */
static int prepare_resume(gs_run *run, long new_epochs, gs_err *err)
{
    char where[GS_WHERE_MAX];
    if (run->n_ckpt == 0)
        return gs_err_set(err, "%s: has no complete checkpoint to resume from", run->path);
    long last = run->ck_epochs[run->n_ckpt - 1];
    if (run->slot < 0)
        return gs_err_set(err, "%s: the optimizer state of checkpoint epoch %ld is missing "
                          "(damaged file); cannot resume exactly", run->path, last);
    if (new_epochs > 0) {
        if (new_epochs < last)
            return gs_err_set(err, "%s: epochs = %ld is before the last checkpoint (epoch %ld)",
                              run->path, new_epochs, last);
        gs_config c = run->cfg;
        c.epochs = new_epochs;
        gs_err inner;
        if (gs_config_validate(&c, &inner) < 0)
            return gs_err_set(err, "%s: %s", run->path, inner.msg);
        /* Attributes cannot change once SWMR writing starts: now or never. */
        hid_t g = H5Gopen2(run->file, "config", H5P_DEFAULT);
        if (g < 0)
            return gs_h5_fail(err, "%s: /config: cannot open", run->path);
        int rc = gs_h5_attr_write_i64(g, "epochs", new_epochs,
                                      gs_run_where(where, run->path, "/config"), err);
        H5Gclose(g);
        if (rc < 0)
            return -1;
        run->cfg.epochs = new_epochs;
    }
    for (int id = GS_O_METRICS_FIRST; id < GS_O_METRICS_END; id++)
        if (run->ds[id] >= 0 && gs_run_ds_set_len(run, id, (hsize_t)run->n_metrics, err) < 0)
            return -1;
    for (int t = 0; t < run->n_tensors; t++)
        if (gs_run_ds_set_len(run, GS_O_PARAM + t, (hsize_t)run->n_ckpt, err) < 0)
            return -1;
    const int64_t none = GS_RUN_NO_EPOCH, status[2] = {GS_RUN_RUNNING, last};
    if (gs_run_ds_set_len(run, GS_O_CK_EPOCH, (hsize_t)run->n_ckpt, err) < 0 ||
        gs_run_ds_write(run, GS_O_RS_EPOCH, (hsize_t)(1 - run->slot), 1, &none, err) < 0 ||
        gs_run_ds_write(run, GS_O_STATUS, 0, 2, status, err) < 0)
        return -1;
    run->status = GS_RUN_RUNNING;
    run->status_epoch = last;
    if (H5Fflush(run->file, H5F_SCOPE_LOCAL) < 0)
        return gs_h5_fail(err, "%s: cannot flush to disk", run->path);
    if (gs_run_start_swmr(run, GS_H5_LOCK_TRAIN, err) < 0)
        return -1;
    run->writable = 1;
    return 0;
}

/* expect: {n_metrics, last checkpoint epoch} the resume was read with, or NULL */
static int open_run(gs_run **out, const char *path, gs_run_mode mode, long new_epochs,
                    const long *expect, gs_err *err)
{
    gs_h5_init();
    if (!out || !path)
        return gs_err_set(err, "internal error: gs_run_open called without arguments");
    *out = NULL;
    if (mode != GS_RUN_READ && mode != GS_RUN_RESUME)
        return gs_err_set(err, "internal error: gs_run_open mode %d", (int)mode);
    if (gs_h5_check_path(path, err) < 0)
        return -1;
    gs_run *run = gs_run_new(path, err);
    if (!run)
        return -1;
    int rc;
    if (mode == GS_RUN_READ) {
        run->file = gs_h5_open_read(path, &run->swmr_read, err);
        rc = run->file < 0 ? -1 : 0;
    } else {
        rc = open_for_writing(run, GS_H5_LOCK_TRAIN, err);
    }
    if (rc == 0)
        rc = gs_run_read_attrs(run, err);
    if (rc == 0)
        rc = gs_run_open_objects(run, err);
    if (rc == 0)
        rc = gs_run_scan(run, err);
    if (rc == 0 && expect &&
        (run->n_metrics != expect[0] || run->n_ckpt < 1 || run->ck_epochs[run->n_ckpt - 1] != expect[1]))
        rc = gs_err_set(err, "%s: changed while it was being read for the resume; try again", path);
    if (rc == 0 && mode == GS_RUN_RESUME)
        rc = prepare_resume(run, new_epochs, err);
    if (rc < 0) {
        gs_run_destroy(run, NULL);
        return -1;
    }
    *out = run;
    return 0;
}

int gs_run_open(gs_run **out, const char *path, gs_run_mode mode, long new_epochs, gs_err *err)
{
    return open_run(out, path, mode, new_epochs, NULL, err);
}

int gs_run_open_resume(gs_run **out, const char *path, long new_epochs, long n_metrics, long last_epoch,
                       gs_err *err)
{
    const long expect[2] = {n_metrics, last_epoch};
    return open_run(out, path, GS_RUN_RESUME, new_epochs, expect, err);
}

int gs_run_refresh(gs_run *run, gs_err *err)
{
    if (!run)
        return gs_err_set(err, "internal error: gs_run_refresh without a run");
    /* A writer knows its sizes; a plain (non-SWMR) reader has a finished file. */
    if (!run->swmr_read)
        return 0;
    if (gs_run_refresh_objects(run, err) < 0)
        return -1;
    return gs_run_scan(run, err);
}

/* Trims /analysis rows past the committed count (an analysis killed mid-append), so
 * the file again holds only committed rows, then hands it to SWMR writing. Nothing
 * else changes: the checkpoints, metrics and /status belong to the trainer. */
static int prepare_analyze(gs_run *run, gs_err *err)
{
    if (!run->has_analysis)
        return gs_err_set(err, "%s: has no /analysis group (written by an older grokscope), "
                          "so the analysis cannot be stored in it", run->path);
    /* An older file gets the 1.3 series now (SWMR cannot add them later); empty, they
     * make every checkpoint count as not analysed, so all get the new measures. */
    if (gs_run_add_optional(run, err) < 0 || gs_run_scan_analysis(run, err) < 0)
        return -1;
    if (gs_run_ds_set_len(run, GS_O_AN_EPOCH, (hsize_t)run->n_analyzed, err) < 0)
        return -1;
    GS_RUN_FOR_SERIES(id)
        if (gs_run_ds_set_len(run, id, (hsize_t)run->n_analyzed, err) < 0)
            return -1;
    if (H5Fflush(run->file, H5F_SCOPE_LOCAL) < 0)
        return gs_h5_fail(err, "%s: cannot flush to disk", run->path);
    if (gs_run_start_swmr(run, GS_H5_LOCK_ANALYZE, err) < 0)
        return -1;
    run->writable = 1;
    run->analyzing = 1;
    return 0;
}

int gs_run_open_analyze(gs_run **out, const char *path, gs_err *err)
{
    gs_h5_init();
    if (!out || !path)
        return gs_err_set(err, "internal error: gs_run_open_analyze called without arguments");
    *out = NULL;
    if (gs_h5_check_path(path, err) < 0)
        return -1;
    gs_run *run = gs_run_new(path, err);
    if (!run)
        return -1;
    if (open_for_writing(run, GS_H5_LOCK_ANALYZE, err) < 0 || gs_run_read_attrs(run, err) < 0 ||
        gs_run_open_objects(run, err) < 0 || gs_run_scan(run, err) < 0 ||
        prepare_analyze(run, err) < 0) {
        gs_run_destroy(run, NULL);
        return -1;
    }
    *out = run;
    return 0;
}
