#include "opts.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cblas.h>

#include "pool.h"

int gs_parse_long(const char *opt, const char *s, long lo, long hi, long *out, gs_err *err)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (end == s || *end != '\0')
        return gs_err_set(err, "%s: '%s' is not an integer", opt, s);
    if (errno == ERANGE || v < lo || v > hi)
        return gs_err_set(err, "%s: %s is out of range (%ld..%ld)", opt, s, lo, hi);
    *out = v;
    return 0;
}

int gs_parse_double(const char *opt, const char *s, double lo, double hi, double *out, gs_err *err)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || *end != '\0' || isnan(v))
        return gs_err_set(err, "%s: '%s' is not a number", opt, s);
    if (errno == ERANGE || !isfinite(v) || v < lo || v > hi)
        return gs_err_set(err, "%s: %s is out of range (%g..%g)", opt, s, lo, hi);
    *out = v;
    return 0;
}

int gs_opt_value(char **argv, int argc, int *i, const char *name, const char **value, gs_err *err)
{
    const char *a = argv[*i];
    size_t n = strlen(name);
    if (strncmp(a, name, n) != 0)
        return 0;
    if (a[n] == '=') {
        *value = a + n + 1;
        return 1;
    }
    if (a[n] != '\0')
        return 0;
    if (*i + 1 >= argc)
        return gs_err_set(err, "%s needs a value", name);
    *value = argv[++*i];
    return 1;
}

void gs_join_args(char *out, size_t size, int argc, char **argv)
{
    size_t at = 0;
    out[0] = '\0';
    for (int i = 0; i < argc && at + 1 < size; i++) {
        int w = snprintf(out + at, size - at, "%s%s", i ? " " : "", argv[i]);
        if (w < 0)
            break;
        at += (size_t)w;
    }
}

int gs_set_threads(int threads)
{
    if (threads <= 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        threads = n > 0 ? (int)n : 1;
    }
    /* The pool runs every product, OpenBLAS single-threaded inside each task: OpenBLAS's
     * own threads, started before main with the default floating-point mode, would not
     * follow a run's subnormal mode (core/fpenv.h), so they never compute. */
    gs_pool_set_default_threads(threads);
    openblas_set_num_threads(1);
    return threads;
}
