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
    gs_run_where(where, run->path, "/checkpoints/epoch");
    hsize_t n;
    if (gs_h5_dset_len(run->ck_epoch, &n, where, err) < 0)
        return -1;
    if (n > (hsize_t)1 << 30)
        return gs_err_set(err, "%s: implausibly long (%llu rows)", where,
                          (unsigned long long)n);
    int64_t *e = malloc((n ? n : 1) * sizeof *e);
    if (!e)
        return gs_err_set(err, "%s: out of memory", where);
    if (gs_h5_read_rows(run->ck_epoch, H5T_NATIVE_INT64, 0, n, e, where, err) < 0) {
        free(e);
        return -1;
    }
    while (n > 0 && e[n - 1] == GS_RUN_NO_EPOCH)
        n--;
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
    for (int t = 0; t < GS_N_PARAMS; t++) {
        hsize_t len;
        if (gs_h5_dset_len(run->params[t], &len, where, err) < 0) {
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
    char where[GS_WHERE_MAX], obj[64];
    long n = run->n_ckpt ? run->ck_epochs[run->n_ckpt - 1] + 1 : 0;
    for (int m = 0; m < GS_N_METRICS; m++) {
        snprintf(obj, sizeof obj, "/metrics/%s", gs_run_metric_names[m]);
        hsize_t len;
        if (gs_h5_dset_len(run->metrics[m], &len, gs_run_where(where, run->path, obj), err) < 0)
            return -1;
        if (len < (hsize_t)n)
            n = (long)len;
    }
    if (n > 0) {
        int64_t last;
        gs_run_where(where, run->path, "/metrics/epoch");
        if (gs_h5_read_rows(run->metrics[GS_M_EPOCH], H5T_NATIVE_INT64, (hsize_t)n - 1, 1,
                            &last, where, err) < 0)
            return -1;
        if (last != n - 1)
            return gs_err_set(err, "%s: damaged (row %ld holds epoch %lld)", where, n - 1,
                              (long long)last);
    }
    run->n_metrics = n;
    return 0;
}

/* The valid optimizer-state slot is the one saved with the last checkpoint. */
static int scan_resume_and_status(gs_run *run, gs_err *err)
{
    char where[GS_WHERE_MAX];
    int64_t ep[GS_RUN_SLOTS], st[2];
    if (gs_h5_read_rows(run->rs_epoch, H5T_NATIVE_INT64, 0, GS_RUN_SLOTS, ep,
                        gs_run_where(where, run->path, "/resume/epoch"), err) < 0 ||
        gs_h5_read_rows(run->status_ds, H5T_NATIVE_INT64, 0, 2, st,
                        gs_run_where(where, run->path, "/status"), err) < 0)
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
    /* A live training run can still be analysed, by reading it. */
    if (kind == GS_H5_LOCK_ANALYZE && holder == GS_H5_LOCK_TRAIN)
        gs_err_set(err, "%s: is being trained right now; use grokscope analyze --follow %s",
                   run->path, run->path);
    return -1;
}

/* Cuts everything past the last committed checkpoint, so the file is again exactly
 * what check-run-file expects, then hands it to SWMR writing. */
static int prepare_resume(gs_run *run, long new_epochs, gs_err *err)
{
    char where[GS_WHERE_MAX], obj[128];
    if (run->n_ckpt == 0)
        return gs_err_set(err, "%s: has no complete checkpoint to resume from", run->path);
    long last = run->ck_epochs[run->n_ckpt - 1];
    if (run->slot < 0)
        return gs_err_set(err, "%s: the optimizer state of checkpoint epoch %ld is missing "
                          "(damaged file); cannot resume exactly", run->path, last);
    if (new_epochs > 0) {
        if (new_epochs < last)
            return gs_err_set(err, "%s: --epochs %ld is before the last checkpoint (epoch %ld)",
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
    for (int m = 0; m < GS_N_METRICS; m++) {
        snprintf(obj, sizeof obj, "/metrics/%s", gs_run_metric_names[m]);
        if (gs_h5_set_len(run->metrics[m], (hsize_t)run->n_metrics,
                          gs_run_where(where, run->path, obj), err) < 0)
            return -1;
    }
    for (int t = 0; t < GS_N_PARAMS; t++) {
        snprintf(obj, sizeof obj, "/checkpoints/%s", run->info[t].key);
        if (gs_h5_set_len(run->params[t], (hsize_t)run->n_ckpt,
                          gs_run_where(where, run->path, obj), err) < 0)
            return -1;
    }
    const int64_t none = GS_RUN_NO_EPOCH, status[2] = {GS_RUN_RUNNING, last};
    if (gs_h5_set_len(run->ck_epoch, (hsize_t)run->n_ckpt,
                      gs_run_where(where, run->path, "/checkpoints/epoch"), err) < 0 ||
        gs_h5_write_rows(run->rs_epoch, H5T_NATIVE_INT64, (hsize_t)(1 - run->slot), 1, &none,
                         gs_run_where(where, run->path, "/resume/epoch"), err) < 0 ||
        gs_h5_write_rows(run->status_ds, H5T_NATIVE_INT64, 0, 2, status,
                         gs_run_where(where, run->path, "/status"), err) < 0)
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

int gs_run_open(gs_run **out, const char *path, gs_run_mode mode, long new_epochs, gs_err *err)
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
    if (rc == 0 && mode == GS_RUN_RESUME)
        rc = prepare_resume(run, new_epochs, err);
    if (rc < 0) {
        gs_run_destroy(run, NULL);
        return -1;
    }
    *out = run;
    return 0;
}

int gs_run_refresh(gs_run *run, gs_err *err)
{
    if (!run)
        return gs_err_set(err, "internal error: gs_run_refresh without a run");
    /* A writer knows its sizes; a plain (non-SWMR) reader has a finished file. */
    if (!run->swmr_read)
        return 0;
    hid_t ids[GS_N_METRICS + GS_N_PARAMS + 5 + GS_A_N_SERIES + 7];
    int n = 0;
    for (int m = 0; m < GS_N_METRICS; m++)
        ids[n++] = run->metrics[m];
    for (int t = 0; t < GS_N_PARAMS; t++)
        ids[n++] = run->params[t];
    ids[n++] = run->ck_epoch;
    ids[n++] = run->adam_m;
    ids[n++] = run->adam_v;
    ids[n++] = run->rs_step;
    ids[n++] = run->rs_epoch;
    if (run->has_analysis) {
        for (int a = 0; a < GS_A_N_SERIES; a++)
            ids[n++] = run->an_series[a];
        ids[n++] = run->an_epoch;
        ids[n++] = run->an_basis;
        ids[n++] = run->an_keys;
        ids[n++] = run->an_neuron_freq;
        ids[n++] = run->an_neuron_frac;
        ids[n++] = run->an_phases;
        ids[n++] = run->an_keys_epoch;
    }
    for (int i = 0; i < n; i++)
        if (H5Drefresh(ids[i]) < 0)
            return gs_h5_fail(err, "%s: cannot refresh", run->path);
    if (H5Drefresh(run->status_ds) < 0)
        return gs_h5_fail(err, "%s: cannot refresh /status", run->path);
    return gs_run_scan(run, err);
}

/* Trims /analysis rows past the committed count (an analysis killed mid-append), so
 * the file again holds only committed rows, then hands it to SWMR writing. Nothing
 * else changes: the checkpoints, metrics and /status belong to the trainer. */
static int prepare_analyze(gs_run *run, gs_err *err)
{
    char where[GS_WHERE_MAX], obj[128];
    if (!run->has_analysis)
        return gs_err_set(err, "%s: has no /analysis group (written by an older grokscope), "
                          "so the analysis cannot be stored in it", run->path);
    if (gs_h5_set_len(run->an_epoch, (hsize_t)run->n_analyzed,
                      gs_run_where(where, run->path, "/analysis/epoch"), err) < 0)
        return -1;
    for (int s = 0; s < GS_A_N_SERIES; s++) {
        snprintf(obj, sizeof obj, "/analysis/%s", gs_run_analysis_series_names[s]);
        if (gs_h5_set_len(run->an_series[s], (hsize_t)run->n_analyzed,
                          gs_run_where(where, run->path, obj), err) < 0)
            return -1;
    }
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
