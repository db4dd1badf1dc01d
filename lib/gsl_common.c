/* libgrokscope: version, result codes, process-wide setup, threads and the HDF5 lock. */
#include "gsl_internal.h"

#include <cblas.h>
#include <hdf5.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

#include "gs_h5.h"

const char *grokscope_version(void)
{
    return GROKSCOPE_VERSION;
}

int grokscope_version_number(void)
{
    return GROKSCOPE_VERSION_NUMBER;
}

const char *grokscope_code_name(int code)
{
    switch (code) {
    case GROKSCOPE_OK: return "ok";
    case GROKSCOPE_STOPPED: return "stopped";
    case GROKSCOPE_ERR_FAILED: return "failed";
    case GROKSCOPE_ERR_INVALID: return "invalid";
    case GROKSCOPE_ERR_NOMEM: return "out of memory";
    case GROKSCOPE_ERR_EXISTS: return "exists";
    case GROKSCOPE_ERR_BUSY: return "busy";
    case GROKSCOPE_ERR_DIVERGED: return "diverged";
    case GROKSCOPE_ERR_NO_SPACE: return "no space";
    default: return "unknown";
    }
}

int gsl_set(char *dst, size_t size, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(dst, size, fmt, ap);
    va_end(ap);
    return code;
}

int gsl_fail(char *dst, size_t size, const gs_err *err)
{
    snprintf(dst, size, "%s", err->msg);
    switch (err->code) {
    case GS_ERR_BUSY_TRAINING: return GROKSCOPE_ERR_BUSY;
    case GS_ERR_EXISTS: return GROKSCOPE_ERR_EXISTS;
    default: return GROKSCOPE_ERR_FAILED;
    }
}

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static int h5_serialize; /* written once under init_once, read-only afterwards */
static pthread_mutex_t h5_mutex = PTHREAD_MUTEX_INITIALIZER;

static void init(void)
{
    /* The pools run every product, OpenBLAS single-threaded inside each task: OpenBLAS's
     * own threads would not follow a run's subnormal mode (core/fpenv.h). Set once here
     * rather than toggled per run, so two runs never race on it. */
    openblas_set_num_threads(1);
    gs_h5_init();
    hbool_t safe = 0;
    h5_serialize = H5is_library_threadsafe(&safe) < 0 || !safe;
}

void gsl_init(void)
{
    pthread_once(&init_once, init);
}

int gsl_threads(int n)
{
    if (n > 0)
        return n;
    const long online = sysconf(_SC_NPROCESSORS_ONLN);
    return online > 0 ? (int)online : 1;
}

void gsl_h5_lock(void)
{
    gsl_init();
    gs_h5_init(); /* HDF5's stack printing off on this thread too (gs_h5.c) */
    if (h5_serialize)
        pthread_mutex_lock(&h5_mutex);
}

void gsl_h5_unlock(void)
{
    if (h5_serialize)
        pthread_mutex_unlock(&h5_mutex);
}

int gsl_run_open_locked(gs_run **out, const char *path, gs_run_mode mode, long new_epochs,
                        gs_err *err)
{
    gsl_h5_lock();
    const int rc = gs_run_open(out, path, mode, new_epochs, err);
    gsl_h5_unlock();
    return rc;
}
