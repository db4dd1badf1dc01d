/* Strict command-line parsing: a value is accepted only if the whole string is a
 * number in range; otherwise one error line names the option and the value. */
#ifndef GS_OPTS_H
#define GS_OPTS_H

#include "error.h"

int gs_parse_long(const char *opt, const char *s, long lo, long hi, long *out, gs_err *err);
int gs_parse_double(const char *opt, const char *s, double lo, double hi, double *out, gs_err *err);

/* Walks argv: returns 1 and sets *value if argv[*i] is `name` (value in the next
 * argument) or `name=value`; advances *i past what it used. 0 if it is another
 * option; -1 (with err) if the value is missing. */
int gs_opt_value(char **argv, int argc, int *i, const char *name, const char **value, gs_err *err);

/* Joins argv into one string for the run file's command_line attribute. */
void gs_join_args(char *out, size_t size, int argc, char **argv);

/* Sets OpenBLAS's thread count (0 = all online CPUs); returns the count used. */
int gs_set_threads(int threads);

#endif
