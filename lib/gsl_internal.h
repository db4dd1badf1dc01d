/* libgrokscope internals: the structs behind the public handles (include/grokscope.h)
 * and the helpers the lib/ sources share. Not installed. */
#ifndef GSL_INTERNAL_H
#define GSL_INTERNAL_H

#include "grokscope.h"

#include "config.h"
#include "error.h"
#include "measures.h"
#include "runfile.h"
#include "trainer.h"

struct grokscope_config {
    gs_config cfg;
    char err[sizeof ((gs_err *)0)->msg];
};

struct grokscope_run {
    gs_run *run;
    grokscope_config config; /* a copy of the file's, for grokscope_run_config */
    int n_tensors;           /* the model's tensors: info[0 .. n_tensors) */
    gs_param_info info[GS_MAX_TENSORS];
    size_t n_params;         /* floats in one checkpoint */
    float *params;           /* one checkpoint, read on demand */
    int params_index;        /* the checkpoint in params, -1 = none */
    char err[sizeof ((gs_err *)0)->msg];
};

struct grokscope_probe {
    grokscope_run *run;
    gs_probe probe;
    int have_probe;
    char err[sizeof ((gs_err *)0)->msg];
};

/* Copies an internal error into a handle's message buffer and maps its code. */
int gsl_fail(char *dst, size_t size, const gs_err *err);
/* Formats a message into dst and returns code. */
int gsl_set(char *dst, size_t size, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
#define GSL_FAIL(h, e) gsl_fail((h)->err, sizeof (h)->err, (e))
#define GSL_SET(h, code, ...) gsl_set((h)->err, sizeof (h)->err, (code), __VA_ARGS__)

/* Once per process, before anything computes or touches HDF5: OpenBLAS single-threaded
 * (the library's pools do the threading), HDF5 set up. */
void gsl_init(void);

/* The thread count a handle asked for: n >= 1, or the online CPUs for n <= 0. */
int gsl_threads(int n);

/* HDF5 calls are serialized behind one mutex when the HDF5 in use is not built
 * thread-safe (H5is_library_threadsafe); with a thread-safe HDF5 (Debian's is) these
 * do nothing and HDF5's own lock serializes its calls. */
void gsl_h5_lock(void);
void gsl_h5_unlock(void);

/* The whole checkpoint `index` into run->params (cached): GROKSCOPE_OK or a code with
 * run's error set. */
int gsl_run_load(grokscope_run *run, int index);

/* The library's run-file handle opens under the lock. */
int gsl_run_open_locked(gs_run **out, const char *path, gs_run_mode mode, long new_epochs,
                        gs_err *err);

#endif
