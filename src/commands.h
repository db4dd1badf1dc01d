/* The subcommands of the grokscope binary; each returns the process exit status. */
#ifndef GS_COMMANDS_H
#define GS_COMMANDS_H

#include "opts.h"
#include "train_run.h"

int gs_cmd_train(int argc, char **argv);
int gs_cmd_info(int argc, char **argv);
int gs_cmd_demo(int argc, char **argv);
int gs_cmd_analyze(int argc, char **argv);
int gs_cmd_forecast(int argc, char **argv);
int gs_cmd_freqs(int argc, char **argv);
int gs_cmd_plot(int argc, char **argv);
int gs_cmd_data(int argc, char **argv);

int gs_cmd_sweep(int argc, char **argv);

/* train's option parser (argv[0] is skipped), shared so that a sweep checks each
 * point's options exactly as train will read them: job->cfg is a new configuration
 * (free it with gs_train_job_free, also after a failure) starting from the paper's
 * defaults, each --name option set as the key name with '-' for '_'
 * (grokscope_config_set). Trains nothing and touches no file; 0, or -1 with one line
 * in msg (GS_CLI_MSG characters). */
int gs_train_parse_options(int argc, char **argv, gs_train_job *job, char *msg);

/* plot's callbacks for the figures (gs_plot_env): each image's path on stdout, each
 * note on stderr; sweep collect draws with the same. */
void gs_plot_print_image(void *ctx, const char *path);
void gs_plot_print_note(void *ctx, const char *line);

/* Prints "grokscope CMD: message" on stderr and returns GS_EXIT_USAGE. */
int gs_fail(const char *cmd, const char *msg);
/* True if -h or --help is among the arguments. */
int gs_wants_help(int argc, char **argv);

#endif
