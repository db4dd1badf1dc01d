/* grokscope_run: a run file opened for reading; parameters by key. */
#include "gsl_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int grokscope_run_open(const char *path, grokscope_run **out)
{
    grokscope_run *r = calloc(1, sizeof *r);
    *out = r;
    if (!r)
        return GROKSCOPE_ERR_NOMEM;
    r->params_index = -1;
    if (!path)
        return GSL_SET(r, GROKSCOPE_ERR_INVALID, "no run file path");
    gs_err err = {0};
    if (gsl_run_open_locked(&r->run, path, GS_RUN_READ, 0, &err) != 0)
        return GSL_FAIL(r, &err);
    r->config.cfg = *gs_run_config(r->run);
    r->n_tensors = gs_params_count(gs_run_dims(r->run));
    r->n_params = gs_params_layout(gs_run_dims(r->run), r->info);
    return GROKSCOPE_OK;
}

const char *grokscope_run_error(const grokscope_run *run)
{
    return run->err;
}

void grokscope_run_close(grokscope_run *run)
{
    if (!run)
        return;
    if (run->run) {
        gsl_h5_lock();
        gs_run_close(run->run, NULL); /* read-only: nothing to lose */
        gsl_h5_unlock();
    }
    free(run->params);
    free(run);
}

/* Every accessor below needs an open file. */
static int need_file(grokscope_run *run)
{
    return run->run ? GROKSCOPE_OK : GSL_SET(run, GROKSCOPE_ERR_INVALID, "the run file is not open");
}

/* An open file and a checkpoint index it holds. */
static int need_checkpoint(grokscope_run *run, int index)
{
    int rc = need_file(run);
    if (rc != GROKSCOPE_OK)
        return rc;
    const int n = gs_run_n_checkpoints(run->run);
    if (index < 0 || index >= n)
        return GSL_SET(run, GROKSCOPE_ERR_INVALID, "checkpoint %d: the run has checkpoints 0..%d",
                       index, n - 1);
    return GROKSCOPE_OK;
}

const grokscope_config *grokscope_run_config(const grokscope_run *run)
{
    return &run->config;
}

const char *grokscope_run_command_line(const grokscope_run *run)
{
    return run->run ? gs_run_command_line(run->run) : "";
}

const char *grokscope_run_created_by(const grokscope_run *run)
{
    return run->run ? gs_run_created_by(run->run) : "";
}

grokscope_run_status grokscope_run_get_status(const grokscope_run *run, long *epoch)
{
    long e = 0;
    const gs_run_status s = run->run ? gs_run_get_status(run->run, &e) : GS_RUN_RUNNING;
    if (epoch)
        *epoch = e;
    return (grokscope_run_status)s;
}

int grokscope_run_refresh(grokscope_run *run)
{
    int rc = need_file(run);
    if (rc != GROKSCOPE_OK)
        return rc;
    gs_err err = {0};
    gsl_h5_lock();
    rc = gs_run_refresh(run->run, &err);
    gsl_h5_unlock();
    return rc == 0 ? GROKSCOPE_OK : GSL_FAIL(run, &err);
}

long grokscope_run_n_epochs(const grokscope_run *run)
{
    return run->run ? gs_run_n_metrics(run->run) : 0;
}

int grokscope_run_read_epochs(grokscope_run *run, long first, long n, grokscope_epoch *rows)
{
    int rc = need_file(run);
    if (rc != GROKSCOPE_OK)
        return rc;
    const long have = gs_run_n_metrics(run->run);
    if (first < 0 || n < 0 || first > have || n > have - first)
        return GSL_SET(run, GROKSCOPE_ERR_INVALID, "epochs %ld..%ld: the run has rows 0..%ld",
                       first, first + n - 1, have - 1);
    if (n == 0)
        return GROKSCOPE_OK;
    gs_metrics_row *tmp = malloc((size_t)n * sizeof *tmp);
    if (!tmp)
        return GSL_SET(run, GROKSCOPE_ERR_NOMEM, "out of memory");
    gs_err err = {0};
    gsl_h5_lock();
    rc = gs_run_read_metrics(run->run, first, n, tmp, &err);
    gsl_h5_unlock();
    for (long i = 0; rc == 0 && i < n; i++)
        rows[i] = (grokscope_epoch){tmp[i].epoch, tmp[i].train_loss, tmp[i].test_loss,
                                    tmp[i].train_acc, tmp[i].test_acc, tmp[i].collapse_frac,
                                    tmp[i].grad_norm, tmp[i].grad_cos};
    free(tmp);
    return rc == 0 ? GROKSCOPE_OK : GSL_FAIL(run, &err);
}

int grokscope_run_n_checkpoints(const grokscope_run *run)
{
    return run->run ? gs_run_n_checkpoints(run->run) : 0;
}

int grokscope_run_checkpoint_epoch(grokscope_run *run, int index, long *epoch)
{
    int rc = need_checkpoint(run, index);
    if (rc != GROKSCOPE_OK)
        return rc;
    long *epochs = malloc((size_t)gs_run_n_checkpoints(run->run) * sizeof *epochs);
    if (!epochs)
        return GSL_SET(run, GROKSCOPE_ERR_NOMEM, "out of memory");
    gs_err err = {0};
    gsl_h5_lock();
    rc = gs_run_checkpoint_epochs(run->run, epochs, &err);
    gsl_h5_unlock();
    if (rc == 0)
        *epoch = epochs[index];
    free(epochs);
    return rc == 0 ? GROKSCOPE_OK : GSL_FAIL(run, &err);
}

int grokscope_run_find_checkpoint(grokscope_run *run, long epoch)
{
    if (need_file(run) != GROKSCOPE_OK)
        return -1;
    gs_err err = {0};
    gsl_h5_lock();
    const int i = gs_run_find_checkpoint(run->run, epoch, &err);
    gsl_h5_unlock();
    if (i < 0)
        GSL_FAIL(run, &err);
    return i;
}

static const gs_param_info *param(const grokscope_run *run, const char *key)
{
    for (int i = 0; run->run && key && i < run->n_tensors; i++)
        if (strcmp(run->info[i].key, key) == 0)
            return &run->info[i];
    return NULL;
}

const char *grokscope_run_param_key(const grokscope_run *run, int i)
{
    return run->run && i >= 0 && i < run->n_tensors ? run->info[i].key : NULL;
}

int grokscope_run_param_shape(const grokscope_run *run, const char *key, int64_t shape[4])
{
    const gs_param_info *p = param(run, key);
    if (!p)
        return 0;
    for (int k = 0; k < p->rank; k++)
        shape[k] = p->shape[k];
    return p->rank;
}

size_t grokscope_run_param_count(const grokscope_run *run, const char *key)
{
    const gs_param_info *p = param(run, key);
    return p ? p->count : 0;
}

/* The whole checkpoint `index` in run->params (cached: reading every key of one
 * checkpoint reads the file once). */
int gsl_run_load(grokscope_run *run, int index)
{
    int rc = need_checkpoint(run, index);
    if (rc != GROKSCOPE_OK)
        return rc;
    if (run->params_index == index)
        return GROKSCOPE_OK;
    if (!run->params && !(run->params = malloc(run->n_params * sizeof *run->params)))
        return GSL_SET(run, GROKSCOPE_ERR_NOMEM, "out of memory");
    gs_err err = {0};
    gsl_h5_lock();
    rc = gs_run_read_checkpoint(run->run, index, run->params, &err);
    gsl_h5_unlock();
    run->params_index = rc == 0 ? index : -1;
    return rc == 0 ? GROKSCOPE_OK : GSL_FAIL(run, &err);
}

int grokscope_run_read_param(grokscope_run *run, int index, const char *key, float *out, size_t n)
{
    const gs_param_info *p = param(run, key);
    if (!p)
        return GSL_SET(run, GROKSCOPE_ERR_INVALID, "unknown parameter key '%s'", key ? key : "(null)");
    if (n < p->count)
        return GSL_SET(run, GROKSCOPE_ERR_INVALID, "%s: needs %zu floats, the buffer holds %zu",
                       key, p->count, n);
    const int rc = gsl_run_load(run, index);
    if (rc == GROKSCOPE_OK)
        memcpy(out, run->params + p->offset, p->count * sizeof *out);
    return rc;
}
