/* gs_sweep_plan: the points of a sweep and how each one is trained, kept in
 * DIR/sweep.plan (a text file, docs/sweeps.md).
 *
 * A sweep is a set of train option lists: the base options shared by every point,
 * plus one value per axis, where an axis is any train option that takes a value
 * ("lr" stands for --lr). The points are every combination of the axes' values, the
 * first axis varying slowest; point i trains into DIR/<file i>.
 *
 * This module knows the file format and the grid syntax, not the train options:
 * checking that an axis names a real option and that every point's options are
 * valid is done by the command line with train's own parser (src/cmd_sweep.c).
 *
 * Functions return 0, or -1 with one line in err. */
#ifndef GS_SWEEP_PLAN_H
#define GS_SWEEP_PLAN_H

#include <stddef.h>

#include "error.h"

#define GS_SWEEP_PLAN_FILE "sweep.plan"
#define GS_SWEEP_PLAN_FORMAT "grokscope-sweep"
#define GS_SWEEP_PLAN_VERSION 1
#define GS_SWEEP_MAX_AXES 16
#define GS_SWEEP_MAX_VALUES 10000
#define GS_SWEEP_MAX_POINTS 100000L
#define GS_SWEEP_MAX_BASE 256
/* the axis that holds the seeds: replicates, averaged over in the figures */
#define GS_SWEEP_SEED_AXIS "seed"

typedef struct {
    char *name;         /* the train option without its leading "--": "lr", "d-mlp" */
    int n_values;
    char **values;      /* each exactly as it is passed to train */
} gs_sweep_axis;

typedef struct {
    int n_base;
    char **base;        /* train options shared by every point */
    int n_axes;
    gs_sweep_axis axes[GS_SWEEP_MAX_AXES];
    long n_points;
    int *value_index;   /* [n_points][n_axes]: the value of each axis at each point */
    char **file;        /* [n_points]: the run file's name inside the sweep directory */
} gs_sweep_plan;

/* ---- the grid syntax (gs_sweep_grid.c) ---- */

/* "NAME=ITEM,ITEM,..." where an ITEM is a value (kept as written), "A..B" (the
 * integers A to B), "A..B:lin:N" or "A..B:log:N" (N values evenly spaced from A to B,
 * linearly or logarithmically, printed with 6 significant digits). Refuses an empty
 * list, a bad range and a value listed twice ("1" and "1.0" are the same number). */
int gs_sweep_axis_parse(const char *spec, gs_sweep_axis *axis, gs_err *err);
/* --seeds LIST: "0-2", "0,3,7", "0..4" or a mix; the axis "seed". */
int gs_sweep_seeds_parse(const char *spec, gs_sweep_axis *axis, gs_err *err);
void gs_sweep_axis_free(gs_sweep_axis *axis);
/* 1 if a and b are the same value: equal strings, or equal numbers. */
int gs_sweep_same_value(const char *a, const char *b);

/* --only LIST ("0-3,7"): selected[i] = 1 for the listed points, all < n_points. */
int gs_sweep_parse_only(const char *spec, long n_points, unsigned char *selected, gs_err *err);

/* ---- the plan (gs_sweep_plan.c) ---- */

/* Lays out every combination of the axes' values and names the run files. Copies
 * base and the axes (the caller keeps and frees its own). */
int gs_sweep_plan_build(gs_sweep_plan *plan, int n_base, char *const *base, int n_axes,
                        const gs_sweep_axis *axes, gs_err *err);
void gs_sweep_plan_free(gs_sweep_plan *plan);

/* The plan as the text of DIR/sweep.plan (malloc'd, NUL-terminated). */
char *gs_sweep_plan_format(const gs_sweep_plan *plan);
/* 1 if two plan texts describe the same sweep (they may differ in comments and in the
 * version of grokscope that wrote them). */
int gs_sweep_plan_text_same(const char *a, const char *b);
/* Parses the text of a plan; `where` names it in error messages. */
int gs_sweep_plan_parse(gs_sweep_plan *plan, const char *text, const char *where, gs_err *err);
/* DIR/sweep.plan; a missing file is "DIR is not a sweep directory". */
int gs_sweep_plan_read(gs_sweep_plan *plan, const char *dir, gs_err *err);

/* The value of `axis` at `point`. */
const char *gs_sweep_value(const gs_sweep_plan *plan, long point, int axis);
/* Index of the axis called name, or -1. */
int gs_sweep_axis_index(const gs_sweep_plan *plan, const char *name);
/* "lr=0.001 wd=1 seed=0" */
void gs_sweep_point_label(const gs_sweep_plan *plan, long point, char *out, size_t size);

/* The train arguments of a point: argv[0] = "train", the base options, then
 * "--NAME" "VALUE" for each axis, then room for `extra` more arguments before the
 * terminating NULL. The strings belong to the plan and to args. */
typedef struct {
    int argc;
    char **argv;
    char *flags;        /* storage of the "--NAME" strings */
} gs_sweep_args;
int gs_sweep_point_args(const gs_sweep_plan *plan, long point, int extra, gs_sweep_args *args);
void gs_sweep_args_free(gs_sweep_args *args);

/* ---- small file helpers shared by the sweep files ---- */

/* Reads a whole file (NUL-terminated, at most max bytes); -1 with err, errno kept. */
int gs_sweep_read_text(const char *path, size_t max, char **text, gs_err *err);
/* Writes path through a temporary file in the same directory, synced and renamed, so
 * that path is either its old content or the complete new one. */
int gs_sweep_write_text(const char *path, const char *text, size_t len, gs_err *err);

#endif
