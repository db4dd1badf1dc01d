/* The subcommands of the grokscope binary; each returns the process exit status. */
#ifndef GS_COMMANDS_H
#define GS_COMMANDS_H

#include "error.h"

int gs_cmd_train(int argc, char **argv);
int gs_cmd_info(int argc, char **argv);
int gs_cmd_demo(int argc, char **argv);
int gs_cmd_analyze(int argc, char **argv);
int gs_cmd_freqs(int argc, char **argv);
int gs_cmd_plot(int argc, char **argv);

/* Prints "grokscope CMD: message" on stderr and returns GS_EXIT_USAGE. */
int gs_fail(const char *cmd, const gs_err *err);
/* True if -h or --help is among the arguments. */
int gs_wants_help(int argc, char **argv);

#endif
