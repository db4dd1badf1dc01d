/* What the sweep commands share: a sweep directory opened and checked, with every
 * point's options read by train's own parser, so that any train option (today's and
 * future ones) works as an axis and a bad point is refused before anything runs. */
#ifndef GS_SWEEP_CLI_H
#define GS_SWEEP_CLI_H

#include "grokscope.h"
#include "sweep_plan.h"
#include "sweep_result.h"

typedef struct {
    const char *dir;
    gs_sweep_plan plan;
    grokscope_config **cfg; /* [n_points]: each point's run as train would configure it */
} gs_sweep_dir;

/* Checks the train options shared by every point: train must accept them, and they
 * must not name the run file or the threads (the sweep sets those). */
int gs_sweep_check_base(int n_base, char *const *base, gs_err *err);
/* Checks that NAME is a train option that takes a value and that each value is one
 * train accepts after the base options; refuses an axis the base options also set. */
int gs_sweep_check_axis(const gs_sweep_axis *axis, int n_base, char *const *base, gs_err *err);
/* Parses every point's options with train's parser and validates its config, into
 * cfg[n_points] (may be NULL; the configs are the caller's to free). */
int gs_sweep_check_points(const gs_sweep_plan *plan, grokscope_config **cfg, gs_err *err);

/* Reads DIR/sweep.plan and checks it as above; refuses a *.h5 file in DIR that
 * belongs to no point. */
int gs_sweep_dir_open(gs_sweep_dir *s, const char *dir, gs_err *err);
void gs_sweep_dir_close(gs_sweep_dir *s);
/* 0 if DIR holds no *.h5 file other than the plan's run files (plan may be NULL: then
 * any run file is in the way) and sweep.h5. */
int gs_sweep_dir_check_files(const char *dir, const gs_sweep_plan *plan, gs_err *err);

void gs_sweep_dir_run_path(const gs_sweep_dir *s, long point, char *out, size_t size);
/* Reads point i's run file (gs_sweep_read_point) and its log's wall time; an existing
 * run file that holds another run than point i's is an error ("belongs to no point"). */
int gs_sweep_dir_read_point(const gs_sweep_dir *s, long point, gs_sweep_result *r, gs_metrics_row **rows,
                            long *n_rows, gs_err *err);

/* Online CPUs this process may run on (its affinity mask, e.g. a Slurm allocation). */
int gs_sweep_cpus(void);

#endif
