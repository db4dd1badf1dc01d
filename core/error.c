#include "error.h"

#include <stdarg.h>
#include <stdio.h>

static void err_format(gs_err *err, gs_err_code code, const char *fmt, va_list ap)
{
    if (err) {
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        err->code = code;
    }
}

int gs_err_set(gs_err *err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    err_format(err, GS_ERR_OTHER, fmt, ap);
    va_end(ap);
    return -1;
}

int gs_err_set_code(gs_err *err, gs_err_code code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    err_format(err, code, fmt, ap);
    va_end(ap);
    return -1;
}
