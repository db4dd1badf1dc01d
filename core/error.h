/* gs_err: one human-readable error line carried up to the command line.
 * Every failure a user can cause ends as exactly one such line and exit status 2. */
#ifndef GS_ERROR_H
#define GS_ERROR_H

#include <stddef.h>

typedef struct {
    char msg[1024];
} gs_err;

/* Formats into err->msg (if err is non-NULL). Always returns -1 so callers can
 * write `return gs_err_set(err, "...")`. */
int gs_err_set(gs_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Exit status for errors caused by the user (bad options, bad files). */
#define GS_EXIT_USAGE 2

#endif
