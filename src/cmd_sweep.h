/* The sweep subcommands (cmd_sweep*.c) and what they share with `plot DIR`. */
#ifndef GS_CMD_SWEEP_H
#define GS_CMD_SWEEP_H

#include "cmd_sweep_plot.h"
#include "sweep_cli.h"

int gs_sweep_cmd_run(int argc, char **argv);
int gs_sweep_cmd_slurm(int argc, char **argv);
int gs_sweep_cmd_collect(int argc, char **argv);
int gs_sweep_cmd_score(int argc, char **argv);

/* Prints "grokscope sweep: message" and returns GS_EXIT_USAGE. */
int gs_sweep_fail(const char *msg);
/* The first non-option argument (the sweep directory) of a subcommand. */
int gs_sweep_one_dir(int argc, char **argv, const char *what, const char **dir, char *msg);

/* The options of a subcommand over a finished sweep directory (collect, score):
 * DIR, --threads N, --quiet and one switch of its own (collect's --csv, score's
 * --no-plot). */
typedef struct {
    const char *dir;
    long threads; /* 0: all CPUs */
    int quiet;
    int flag;     /* the switch was given */
} gs_sweep_dir_opts;
/* Parses them for subcommand `what`; usage is its usage line for a missing DIR. */
int gs_sweep_parse_dir_opts(int argc, char **argv, const char *what, const char *flag, const char *usage,
                            gs_sweep_dir_opts *o, char *msg);

/* Reads every point (kept in sw for its tables, score and figures, and copied into
 * res[n_points], malloc'd), analysing first the runs that ended but are not analysed
 * (as grokscope analyze would), saying so on stderr as `who`. */
int gs_sweep_collect_results(grokscope_sweep *sw, int threads, int quiet, const char *who,
                             grokscope_sweep_point **res, char *msg);

#endif
