/* grokscope_sweep: what each point came to (sweep/sweep_result.h), read from its run
 * file against the point's configuration, the table of every point, and the per-point
 * logs the caller's executor writes and the results read back. */
#include "gsl_sweep.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

_Static_assert(GROKSCOPE_POINT_PENDING == (int)GS_SWEEP_PENDING && GROKSCOPE_POINT_UNFINISHED == (int)GS_SWEEP_UNFINISHED &&
               GROKSCOPE_POINT_FINISHED == (int)GS_SWEEP_FINISHED &&
               GROKSCOPE_POINT_STOPPED_EARLY == (int)GS_SWEEP_STOPPED_EARLY &&
               GROKSCOPE_POINT_DIVERGED == (int)GS_SWEEP_DIVERGED &&
               GROKSCOPE_POINT_UNREADABLE == (int)GS_SWEEP_UNREADABLE, "the public states are the sweep's");
_Static_assert(GROKSCOPE_CLASS_NONE == (int)GS_SWEEP_NO_CLASS && GROKSCOPE_CLASS_COMPREHENSION == (int)GS_SWEEP_COMPREHENSION &&
               GROKSCOPE_CLASS_GROKKING == (int)GS_SWEEP_GROKKING &&
               GROKSCOPE_CLASS_MEMORIZATION == (int)GS_SWEEP_MEMORIZATION &&
               GROKSCOPE_CLASS_CONFUSION == (int)GS_SWEEP_CONFUSION &&
               GROKSCOPE_N_CLASSES == (int)GS_SWEEP_N_CLASSES, "the public classes are the sweep's");
_Static_assert(GROKSCOPE_MAX_STORED_KEYS == GS_ANALYSIS_MAX_KEYS, "a point holds every stored key frequency");
_Static_assert(sizeof ((grokscope_sweep_point *)0)->message == sizeof ((gs_sweep_result *)0)->message,
               "a point's message is the result's");

const char *grokscope_sweep_status_name(int status)
{
    if (status < GROKSCOPE_POINT_PENDING || status > GROKSCOPE_POINT_UNREADABLE)
        return "unknown";
    return gs_sweep_status_name((gs_sweep_status)status);
}

const char *grokscope_sweep_class_name(int cls)
{
    if (cls < GROKSCOPE_CLASS_NONE || cls >= GROKSCOPE_N_CLASSES)
        return "";
    return gs_sweep_class_name((gs_sweep_class)cls);
}

static void to_public(const gs_sweep_result *r, grokscope_sweep_point *p)
{
    p->status = (grokscope_point_status)r->status;
    memcpy(p->message, r->message, sizeof p->message);
    p->n_checkpoints = r->n_checkpoints;
    p->epochs_done = r->epochs_done;
    p->epochs = r->epochs;
    p->train_50 = r->fp.train_50;
    p->train_99 = r->fp.train_99;
    p->test_50 = r->fp.test_50;
    p->test_99 = r->fp.test_99;
    p->train_end = r->fp.train_end;
    p->test_end = r->fp.test_end;
    p->delay = r->delay;
    p->final_train_loss = r->final_train_loss;
    p->final_test_loss = r->final_test_loss;
    p->final_train_acc = r->final_train_acc;
    p->final_test_acc = r->final_test_acc;
    p->analysed = r->analysed;
    p->memorization_end = r->memorization_end;
    p->circuit_end = r->circuit_end;
    p->cleanup_end = r->cleanup_end;
    p->n_key = r->n_key;
    memcpy(p->key_freqs, r->key_freqs, sizeof p->key_freqs);
    p->cls = (grokscope_point_class)r->cls;
    p->wall_s = r->wall_s;
}

/* Point i's run file into r, checked against the point's configuration. */
static int read_point(grokscope_sweep *sw, long i, gs_sweep_result *r)
{
    char path[PATH_MAX], log[PATH_MAX + 16];
    snprintf(path, sizeof path, "%s/%s", sw->dir, sw->plan.file[i]);
    gs_err err = {0};
    gsl_h5_lock();
    const int rc = gs_sweep_read_point(path, r, NULL, NULL, NULL, &err);
    gsl_h5_unlock();
    if (rc != 0)
        return GSL_SET(sw, GROKSCOPE_ERR_NOMEM, "%s", err.msg);
    if (r->status == GS_SWEEP_PENDING) {
        int64_t epochs = 0;
        grokscope_config_get_int(sw->cfg[i], "epochs", &epochs);
        r->epochs = (long)epochs;
    } else if (r->status != GS_SWEEP_UNREADABLE) {
        /* the file was read just now: its configuration against the point's */
        char diff[512] = "";
        grokscope_run *run;
        const int code = grokscope_run_open(path, &run);
        if (code == GROKSCOPE_OK)
            grokscope_config_diff(grokscope_run_config(run), sw->cfg[i], diff, sizeof diff);
        else
            GSL_SET(sw, code, "%s", run ? grokscope_run_error(run) : "out of memory");
        grokscope_run_close(run);
        if (code != GROKSCOPE_OK)
            return code;
        if (diff[0]) {
            char label[600];
            gs_sweep_point_label(&sw->plan, i, label, sizeof label);
            return GSL_SET(sw, GROKSCOPE_ERR_INVALID,
                           "%s belongs to no point of the sweep: it holds a run with %s (point %ld is %s); "
                           "move it out of %s", path, diff, i, label, sw->dir);
        }
    }
    gs_sweep_log_path(sw->dir, sw->plan.file[i], log, sizeof log);
    r->wall_s = gs_sweep_log_wall(log);
    return GROKSCOPE_OK;
}

int grokscope_sweep_read_point(grokscope_sweep *sw, long point, grokscope_sweep_point *out)
{
    if (!sw->built || !sw->dir || point < 0 || point >= sw->plan.n_points)
        return GSL_SET(sw, GROKSCOPE_ERR_INVALID, "point %ld: the sweep has %ld points", point,
                       grokscope_sweep_n_points(sw));
    if (!sw->cfg[point])
        return GSL_SET(sw, GROKSCOPE_ERR_INVALID,
                       "point %ld has no configuration yet (grokscope_sweep_set_config)", point);
    gs_sweep_result r;
    const int rc = read_point(sw, point, &r);
    if (rc != GROKSCOPE_OK)
        return rc;
    sw->res[point] = r;
    sw->have_res[point] = 1;
    sw->have_score = 0; /* a score is of the results it was computed from */
    if (out)
        to_public(&r, out);
    return GROKSCOPE_OK;
}

int gsl_sweep_need_results(grokscope_sweep *sw, const char *what)
{
    if (!sw->built || !sw->dir)
        return GSL_SET(sw, GROKSCOPE_ERR_INVALID, "%s: the sweep has no directory yet", what);
    for (long i = 0; i < sw->plan.n_points; i++)
        if (!sw->have_res[i])
            return GSL_SET(sw, GROKSCOPE_ERR_INVALID, "%s needs every point read (point %ld is not)", what, i);
    return GROKSCOPE_OK;
}

int grokscope_sweep_write_table(grokscope_sweep *sw, const char *path, int csv)
{
    int rc = gsl_sweep_need_results(sw, "the table");
    if (rc != GROKSCOPE_OK)
        return rc;
    if (!path)
        return GSL_SET(sw, GROKSCOPE_ERR_INVALID, "no table path given");
    gs_err err = {0};
    if (csv) {
        rc = gs_sweep_table_write_csv(path, &sw->plan, sw->res, &err);
    } else {
        gsl_h5_lock();
        rc = gs_sweep_table_write_h5(path, &sw->plan, sw->res, &err);
        gsl_h5_unlock();
    }
    return rc == 0 ? GROKSCOPE_OK : GSL_FAIL(sw, &err);
}

/* ---- the logs ---- */

int grokscope_sweep_log_start(int fd, const char *step, int threads, char *const *argv)
{
    if (!step || !argv)
        return GROKSCOPE_ERR_INVALID;
    return gs_sweep_log_start(fd, step, threads, argv) == 0 ? GROKSCOPE_OK : GROKSCOPE_ERR_FAILED;
}

int grokscope_sweep_log_end(int fd, const char *step, const char *outcome, double seconds)
{
    if (!step || !outcome)
        return GROKSCOPE_ERR_INVALID;
    return gs_sweep_log_end(fd, step, outcome, seconds) == 0 ? GROKSCOPE_OK : GROKSCOPE_ERR_FAILED;
}

int grokscope_sweep_log_progress(const char *path, int64_t from, long *done, long *total)
{
    return path ? gs_sweep_log_progress(path, (off_t)from, done, total) : 0;
}

int grokscope_sweep_log_error(const char *path, int64_t from, char *out, size_t size)
{
    return path && out && size ? gs_sweep_log_error(path, (off_t)from, out, size) : -1;
}
