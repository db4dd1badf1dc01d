/* grokscope_train: trainer + run file, one epoch at a time, checkpointing every
 * `every` epochs and at the end (what `grokscope train` does; src/train_run.c adds the
 * progress line and the signals). HDF5 calls go through gsl_h5_lock. */
#include "gsl_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#include "gs_h5.h"
#include "pool.h"

struct grokscope_train {
    int threads, force;
    char *init, *command_line;
    grokscope_epoch_fn fn;
    void *ctx;
    /* set by _create / _resume */
    char *path;
    int resume, started;
    gs_trainer tr;
    gs_run *run;
    long first;
    grokscope_config config;
    grokscope_run_status outcome;
    char err[sizeof ((gs_err *)0)->msg];
};

grokscope_train *grokscope_train_new(void)
{
    grokscope_train *t = calloc(1, sizeof *t);
    if (t)
        gs_config_default(&t->config.cfg);
    return t;
}

static int set_string(grokscope_train *t, char **dst, const char *s)
{
    char *copy = NULL;
    if (s && !(copy = strdup(s)))
        return GSL_SET(t, GROKSCOPE_ERR_NOMEM, "out of memory");
    free(*dst);
    *dst = copy;
    return GROKSCOPE_OK;
}

static int before_start(grokscope_train *t, const char *what)
{
    if (t->started)
        return GSL_SET(t, GROKSCOPE_ERR_INVALID, "%s: the training has already started", what);
    return GROKSCOPE_OK;
}

int grokscope_train_set_threads(grokscope_train *t, int threads)
{
    if (threads < 0 || threads > 256)
        return GSL_SET(t, GROKSCOPE_ERR_INVALID, "threads: %d is out of range (0..256)", threads);
    int rc = before_start(t, "threads");
    if (rc == GROKSCOPE_OK)
        t->threads = threads;
    return rc;
}

int grokscope_train_set_force(grokscope_train *t, int force)
{
    int rc = before_start(t, "force");
    if (rc == GROKSCOPE_OK)
        t->force = force != 0;
    return rc;
}

int grokscope_train_set_init(grokscope_train *t, const char *path)
{
    int rc = before_start(t, "init");
    return rc == GROKSCOPE_OK ? set_string(t, &t->init, path) : rc;
}

int grokscope_train_set_command_line(grokscope_train *t, const char *text)
{
    int rc = before_start(t, "command line");
    return rc == GROKSCOPE_OK ? set_string(t, &t->command_line, text) : rc;
}

int grokscope_train_set_callback(grokscope_train *t, grokscope_epoch_fn fn, void *ctx)
{
    t->fn = fn;
    t->ctx = ctx;
    return GROKSCOPE_OK;
}

long grokscope_train_epoch(const grokscope_train *t)
{
    return t->tr.step;
}

const grokscope_config *grokscope_train_config(const grokscope_train *t)
{
    return &t->config;
}

grokscope_run_status grokscope_train_outcome(const grokscope_train *t)
{
    return t->outcome;
}

const char *grokscope_train_error(const grokscope_train *t)
{
    return t->err;
}

static void close_run(grokscope_train *t, gs_err *err)
{
    if (!t->run)
        return;
    gsl_h5_lock();
    const int rc = gs_run_close(t->run, err);
    gsl_h5_unlock();
    t->run = NULL;
    (void)rc; /* err says it when asked for */
}

void grokscope_train_free(grokscope_train *t)
{
    if (!t)
        return;
    close_run(t, NULL);
    gs_trainer_free(&t->tr);
    free(t->init);
    free(t->command_line);
    free(t->path);
    free(t);
}

/* Trainer with this handle's worker threads (pool.h: the count is per calling thread). */
static int trainer_init(grokscope_train *t, const gs_config *cfg, gs_split *split, gs_err *err)
{
    gs_pool_set_default_threads(gsl_threads(t->threads));
    return gs_trainer_init(&t->tr, cfg, split, err);
}

static int start(grokscope_train *t, const char *path, int resume)
{
    gsl_init();
    if (!path)
        return GSL_SET(t, GROKSCOPE_ERR_INVALID, "no run file path");
    int rc = before_start(t, "start");
    if (rc != GROKSCOPE_OK)
        return rc;
    t->started = 1;
    t->resume = resume;
    t->err[0] = '\0';
    return set_string(t, &t->path, path);
}

int grokscope_train_create(grokscope_train *t, const char *path, const grokscope_config *config)
{
    int rc = start(t, path, 0);
    if (rc != GROKSCOPE_OK)
        return rc;
    const gs_config *cfg = &config->cfg;
    gs_err err = {0};
    gs_split split = {0};
    if (gs_config_validate(cfg, &err) != 0)
        return GSL_SET(t, GROKSCOPE_ERR_INVALID, "%s", err.msg);
    if (gs_config_split(cfg, &split, &err) != 0 ||
        trainer_init(t, cfg, &split, &err) != 0) {
        gs_split_free(&split);
        return GSL_FAIL(t, &err);
    }
    t->config.cfg = *cfg;
    if (t->init) {
        gsl_h5_lock();
        rc = gs_params_load_file(t->init, &t->tr.dims, t->tr.model.params, &err);
        gsl_h5_unlock();
        if (rc != 0)
            return GSL_FAIL(t, &err);
    } else {
        gs_params_init(t->tr.model.params, &t->tr.dims, cfg->seed);
    }
    gs_trainer_begin(&t->tr); /* init_scale, and theta_0 */
    t->first = 0;
    /* Created last, so that no bad config or init file leaves a file behind. */
    gsl_h5_lock();
    rc = gs_run_create(&t->run, path, cfg, &t->tr.split, t->command_line ? t->command_line : "",
                       t->force, &err);
    if (rc == 0)
        gs_run_attach_filter(t->run, t->tr.optim.gf.buf);
    gsl_h5_unlock();
    return rc == 0 ? GROKSCOPE_OK : GSL_FAIL(t, &err);
}

/* The resume's reading, under the lock, through `from` (opened read-only): the split,
 * the data, the initial weights (checkpoint 0), the last checkpoint, the optimizer state
 * and the Grokfast filter state, into a trainer for cfg (the file's, with the new epoch
 * count). */
static int resume_read_locked(grokscope_train *t, gs_run *from, const gs_config *cfg, long *step,
                              gs_err *err)
{
    const int n_ck = gs_run_n_checkpoints(from);
    if (n_ck < 1)
        return gs_err_set(err, "%s: has no complete checkpoint to resume from", t->path);
    long *epochs = malloc((size_t)n_ck * sizeof *epochs);
    if (!epochs)
        return gs_err_set(err, "out of memory");
    if (gs_run_checkpoint_epochs(from, epochs, err) != 0) {
        free(epochs);
        return -1;
    }
    t->first = epochs[n_ck - 1];
    free(epochs);
    if (t->first >= cfg->epochs)
        return gs_err_set(err, "%s: the run already has %ld epochs; pass --epochs N with N > %ld to continue it",
                          t->path, t->first, t->first);
    gs_split split = {0};
    if (gs_run_read_split(from, &split, err) != 0 || trainer_init(t, cfg, &split, err) != 0) {
        gs_split_free(&split);
        return -1;
    }
    /* theta_0 (checkpoint 0) for the decay toward init and the fixed norm; the params
     * buffer holds it until the last checkpoint is read over it */
    if (gs_run_read_checkpoint(from, 0, t->tr.model.params, err) != 0)
        return -1;
    gs_trainer_set_init(&t->tr, t->tr.model.params);
    if (gs_run_read_checkpoint(from, n_ck - 1, t->tr.model.params, err) != 0 ||
        gs_run_read_resume(from, t->tr.adam_m, t->tr.adam_v, step, err) != 0 ||
        (t->tr.optim.gf.buf && gs_run_read_filter(from, t->tr.optim.gf.buf, err) != 0))
        return -1;
    return 0;
}

int grokscope_train_resume(grokscope_train *t, const char *path, long new_epochs)
{
    int rc = start(t, path, 1);
    if (rc != GROKSCOPE_OK)
        return rc;
    if (new_epochs < 0)
        return GSL_SET(t, GROKSCOPE_ERR_INVALID, "new_epochs %ld is negative", new_epochs);
    gs_err err = {0};
    gs_run *look;
    /* Everything the resume needs is read and checked through a read-only handle first:
     * a refused resume (a damaged checkpoint, data gone or changed, a bad epoch count)
     * must leave the file as it was, its epoch count and status included. Only then is
     * the file opened for writing. */
    if (gs_h5_lock_check(path, GS_H5_LOCK_TRAIN, &err) != 0) /* busy, not "damaged" */
        return GSL_FAIL(t, &err);
    if (gsl_run_open_locked(&look, path, GS_RUN_READ, 0, &err) != 0)
        return GSL_FAIL(t, &err);
    gs_config cfg = *gs_run_config(look);
    const long done = gs_run_n_metrics(look) - 1;
    if (new_epochs > 0)
        cfg.epochs = new_epochs;
    long step = 0;
    gs_err inner = {0};
    int invalid = 1; /* a wrong request, not a failure of the file or the data */
    if (done >= cfg.epochs)
        rc = gs_err_set(&err, "%s: the run already has %ld epochs; pass --epochs N with N > %ld to continue it",
                        path, done, done);
    else if (gs_config_validate(&cfg, &inner) != 0)
        rc = gs_err_set(&err, "%s: %s", path, inner.msg);
    else {
        invalid = 0;
        rc = gs_config_check_data(&cfg, &err);
        if (rc == 0) {
            gsl_h5_lock();
            rc = resume_read_locked(t, look, &cfg, &step, &err);
            gsl_h5_unlock();
        }
    }
    gsl_h5_lock();
    gs_run_close(look, NULL);
    gsl_h5_unlock();
    if (rc != 0)
        return invalid ? GSL_SET(t, GROKSCOPE_ERR_INVALID, "%s", err.msg) : GSL_FAIL(t, &err);
    if (step != t->first)
        return GSL_SET(t, GROKSCOPE_ERR_FAILED,
                       "%s: optimizer state is for step %ld but the last checkpoint is epoch %ld",
                       path, step, t->first);
    /* Another process could have written between the look and the lock: the file is
     * checked again under the lock, before anything is written. */
    gsl_h5_lock();
    rc = gs_run_open_resume(&t->run, path, new_epochs, done + 1, t->first, &err);
    gsl_h5_unlock();
    if (rc != 0)
        return GSL_FAIL(t, &err);
    gs_run_attach_filter(t->run, t->tr.optim.gf.buf);
    t->tr.step = step;
    t->config.cfg = *gs_run_config(t->run); /* new_epochs may have grown it */
    return GROKSCOPE_OK;
}

/* A checkpoint written into a full disk can leave the HDF5 file claiming more bytes
 * than it has, which makes it unreadable; so look for room first (free space, and the
 * file-size limit) and stop cleanly while everything written is still intact. The
 * bound is generous: parameters plus two optimizer slots, twice, plus 1 MiB. */
static int room_for_checkpoint(const char *path, size_t n_params, int n_rows, gs_err *err)
{
    const double need = 2.0 * (3.0 * (double)n_params * sizeof(float) + 48.0 * n_rows) + 1048576.0;
    double room = INFINITY;
    struct statvfs vfs;
    if (statvfs(path, &vfs) == 0)
        room = (double)vfs.f_bavail * (double)vfs.f_frsize;
    struct rlimit lim;
    struct stat st;
    if (getrlimit(RLIMIT_FSIZE, &lim) == 0 && lim.rlim_cur != RLIM_INFINITY && stat(path, &st) == 0) {
        const double left = (double)lim.rlim_cur - (double)st.st_size;
        room = left < room ? left : room;
    }
    if (room >= need)
        return 0;
    return gs_err_set(err, "%s: not enough disk space for the next checkpoint (%.1f MB left, "
                           "%.1f MB needed); the run is intact up to its last checkpoint: free "
                           "space, then continue with grokscope train --resume %s",
                      path, room / 1e6, need / 1e6, path);
}

static int append(grokscope_train *t, const gs_metrics_row *rows, int n_rows, long e, gs_err *err)
{
    if (room_for_checkpoint(t->path, t->tr.model.n_params, n_rows, err) != 0)
        return GROKSCOPE_ERR_NO_SPACE;
    gsl_h5_lock();
    const int rc = gs_run_append(t->run, rows, n_rows, e, t->tr.model.params, t->tr.adam_m,
                                 t->tr.adam_v, t->tr.step, err);
    gsl_h5_unlock();
    return rc == 0 ? GROKSCOPE_OK : GROKSCOPE_ERR_FAILED;
}

static int set_status(grokscope_train *t, gs_run_status status, long e, gs_err *err)
{
    gsl_h5_lock();
    const int rc = gs_run_set_status(t->run, status, e, err);
    gsl_h5_unlock();
    return rc;
}

/* The epoch loop; returns a code with err set on failure. */
static int train(grokscope_train *t, gs_metrics_row *rows, gs_err *err)
{
    const gs_config *cfg = &t->config.cfg;
    int n_rows = 0, stop = 0;
    for (long e = t->first;; e++) {
        gs_epoch_metrics m;
        gs_trainer_measure(&t->tr, &m);
        if (!isfinite(m.train_loss) || !isfinite(m.test_loss)) {
            gs_err tmp;
            set_status(t, GS_RUN_DIVERGED, e, &tmp);
            t->outcome = GROKSCOPE_RUN_DIVERGED;
            gs_err_set(err, "%s: training diverged at epoch %ld (train loss %g, test loss %g); "
                            "kept everything up to the last checkpoint and marked the run diverged",
                       t->path, e, m.train_loss, m.test_loss);
            return GROKSCOPE_ERR_DIVERGED;
        }
        const int resumed_row = t->resume && e == t->first; /* already stored */
        /* the gradient at these weights, before the row is stored and the callback sees
         * it (its measures are in the row); the step that uses it follows the checkpoint */
        gs_trainer_backward(&t->tr, &m);
        const int stop_early = cfg->stop_test_loss > 0 && m.test_loss < cfg->stop_test_loss && !resumed_row;
        const int final = e == cfg->epochs || stop_early;
        if (t->fn && !stop) {
            const grokscope_epoch ep = {e, m.train_loss, m.test_loss, m.train_acc, m.test_acc,
                                        m.collapse_frac, m.grad_norm, m.grad_cos};
            stop = t->fn(t->ctx, &ep, final) != 0;
        }
        const int last = final || stop;
        if (!resumed_row) {
            rows[n_rows++] = (gs_metrics_row){e, m.train_loss, m.test_loss, m.train_acc, m.test_acc,
                                              m.collapse_frac, m.grad_norm, m.grad_cos};
            if (e % cfg->every == 0 || last) {
                const int rc = append(t, rows, n_rows, e, err);
                if (rc != GROKSCOPE_OK)
                    return rc;
                n_rows = 0;
            }
        }
        if (last) {
            if (stop && !final) {
                gs_err_set(err, "%s: stopped at epoch %ld by the epoch callback (checkpoint written)",
                           t->path, e);
                return GROKSCOPE_STOPPED;
            }
            if (set_status(t, stop_early ? GS_RUN_STOPPED_EARLY : GS_RUN_FINISHED, e, err) != 0)
                return GROKSCOPE_ERR_FAILED;
            t->outcome = stop_early ? GROKSCOPE_RUN_STOPPED_EARLY : GROKSCOPE_RUN_FINISHED;
            return GROKSCOPE_OK;
        }
        gs_trainer_step(&t->tr);
    }
}

int grokscope_train_run(grokscope_train *t)
{
    if (!t->run)
        return GSL_SET(t, GROKSCOPE_ERR_INVALID, "no run file open (call grokscope_train_create or "
                                                 "grokscope_train_resume first, once)");
    gs_err err = {0};
    /* Rows since the last checkpoint wait here; at most `every` of them. */
    gs_metrics_row *rows = malloc((size_t)(t->config.cfg.every + 1) * sizeof *rows);
    int rc = GROKSCOPE_ERR_NOMEM;
    if (rows)
        rc = train(t, rows, &err);
    else
        gs_err_set(&err, "out of memory");
    free(rows);
    gs_err cerr = {0};
    gsl_h5_lock();
    const int closed = gs_run_close(t->run, &cerr);
    gsl_h5_unlock();
    t->run = NULL;
    if (rc == GROKSCOPE_OK && closed != 0)
        return GSL_FAIL(t, &cerr);
    if (rc != GROKSCOPE_OK) {
        snprintf(t->err, sizeof t->err, "%s", err.msg);
        return rc;
    }
    return GROKSCOPE_OK;
}
