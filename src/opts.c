#include "opts.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdarg.h>

int gs_cli_set(char *msg, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, GS_CLI_MSG, fmt, ap);
    va_end(ap);
    return -1;
}

int gs_parse_long(const char *opt, const char *s, long lo, long hi, long *out, char *msg)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (end == s || *end != '\0')
        return gs_cli_set(msg, "%s: '%s' is not an integer", opt, s);
    if (errno == ERANGE || v < lo || v > hi)
        return gs_cli_set(msg, "%s: %s is out of range (%ld..%ld)", opt, s, lo, hi);
    *out = v;
    return 0;
}

int gs_parse_double(const char *opt, const char *s, double lo, double hi, double *out, char *msg)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || *end != '\0' || isnan(v))
        return gs_cli_set(msg, "%s: '%s' is not a number", opt, s);
    if (errno == ERANGE || !isfinite(v) || v < lo || v > hi)
        return gs_cli_set(msg, "%s: %s is out of range (%g..%g)", opt, s, lo, hi);
    *out = v;
    return 0;
}

int gs_opt_value(char **argv, int argc, int *i, const char *name, const char **value, char *msg)
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
        return gs_cli_set(msg, "%s needs a value", name);
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
