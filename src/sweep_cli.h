/* What the sweep commands share: a sweep directory opened (grokscope_sweep) and
 * checked, with every point's options read by train's own parser, so that any train
 * option (today's and future ones) works as an axis and a bad point is refused before
 * anything runs. The library knows the plan and the run files, not train's options:
 * the configurations train's parser makes are handed to it here
 * (grokscope_sweep_set_config). Messages are GS_CLI_MSG characters (opts.h). */
#ifndef GS_SWEEP_CLI_H
#define GS_SWEEP_CLI_H

#include "grokscope.h"
#include "opts.h"

/* Checks the train options shared by every point: train must accept them, and they
 * must not name the run file or the threads (the sweep sets those). */
int gs_sweep_check_base(int n_base, char *const *base, char *msg);
/* Checks that axis a of sw (added, not necessarily laid out) names a train option
 * that takes a value and that each value is one train accepts after the base options;
 * refuses an axis the base options also set. */
int gs_sweep_check_axis(const grokscope_sweep *sw, int a, int n_base, char *const *base, char *msg);
/* Parses every point's options with train's parser and validates its config; with
 * set = 1, gives each point's config to sw. */
int gs_sweep_check_points(grokscope_sweep *sw, int set, char *msg);

/* Opens DIR/sweep.plan and checks it as above; refuses a *.h5 file in DIR that
 * belongs to no point. 0 with *out (free it with grokscope_sweep_free), or -1 with
 * msg and *out NULL. */
int gs_sweep_dir_open(const char *dir, grokscope_sweep **out, char *msg);
/* Reads point i (grokscope_sweep_read_point) into r (may be NULL); 0, or -1 with msg. */
int gs_sweep_dir_read_point(grokscope_sweep *sw, long point, grokscope_sweep_point *r, char *msg);

/* Online CPUs this process may run on (its affinity mask, e.g. a Slurm allocation). */
int gs_sweep_cpus(void);

#endif
