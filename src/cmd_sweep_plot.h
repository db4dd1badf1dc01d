/* grokscope plot DIR: what plot needs from the sweep commands (cmd_sweep_collect.c). */
#ifndef GS_CMD_SWEEP_PLOT_H
#define GS_CMD_SWEEP_PLOT_H

/* 1 if path is a sweep directory (holds sweep.plan); 1 if the first thing plot's
 * arguments name to plot is one. */
int gs_sweep_is_dir(const char *path);
int gs_sweep_plot_wanted(int argc, char **argv);
/* The sweep's figures: plot's whole command for a sweep directory. */
int gs_cmd_plot_sweep(int argc, char **argv);

#endif
