/* Strict command-line parsing: a value is accepted only if the whole string is a
 * number in range; otherwise one error line names the option and the value. The
 * command line's own error line (gs_cli_err) is a buffer of GS_CLI_MSG characters, as
 * long as the library's messages (one line naming the file and object), so a handle's
 * message always fits. */
#ifndef GS_OPTS_H
#define GS_OPTS_H

#include <stddef.h>

#define GS_CLI_MSG 1024

/* Exit status for errors caused by the user (bad options, bad files). */
#ifndef GS_EXIT_USAGE
#define GS_EXIT_USAGE 2
#endif

typedef struct {
    char msg[GS_CLI_MSG];
} gs_cli_err;

/* Formats one line into msg (GS_CLI_MSG characters); always returns -1, so callers can
 * write `return gs_cli_set(err, "...")`. */
int gs_cli_set(char *msg, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

int gs_parse_long(const char *opt, const char *s, long lo, long hi, long *out, char *msg);
int gs_parse_double(const char *opt, const char *s, double lo, double hi, double *out, char *msg);

/* Walks argv: returns 1 and sets *value if argv[*i] is `name` (value in the next
 * argument) or `name=value`; advances *i past what it used. 0 if it is another
 * option; -1 (with msg) if the value is missing. */
int gs_opt_value(char **argv, int argc, int *i, const char *name, const char **value, char *msg);

/* Joins argv into one string for the run file's command_line attribute. */
void gs_join_args(char *out, size_t size, int argc, char **argv);

#endif
