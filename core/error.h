/* gs_err: one human-readable error line carried up to the command line.
 * Every failure a user can cause ends as exactly one such line and exit status 2. */
#ifndef GS_ERROR_H
#define GS_ERROR_H

#include <stddef.h>

/* What a caller may act on; the message says the rest. Callers branch on the code,
 * never on the text. */
typedef enum {
    GS_ERR_OTHER = 0,
    GS_ERR_BUSY_TRAINING, /* a trainer is writing the run file right now */
    GS_ERR_EXISTS         /* the file to create exists (and overwriting was not asked) */
} gs_err_code;

typedef struct {
    char msg[1024];
    gs_err_code code;
} gs_err;

/* Formats into err->msg (if err is non-NULL) and sets code GS_ERR_OTHER. Always
 * returns -1 so callers can write `return gs_err_set(err, "...")`. */
int gs_err_set(gs_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The same with a code. */
int gs_err_set_code(gs_err *err, gs_err_code code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Exit status for errors caused by the user (bad options, bad files). */
#define GS_EXIT_USAGE 2

#endif
