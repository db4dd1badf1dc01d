/* Shared by the figures of a sweep (gs_plot_sweep*.c): the grid of cells the points
 * fall into (panel, row, column, replicate) and the house style for classes and axis
 * values. */
#ifndef GS_PLOT_SWEEP_H
#define GS_PLOT_SWEEP_H

#include "plot_internal.h"

/* The cells: point[((panel * ny + j) * nx + i) * nr + r], -1 where no point lies. */
typedef struct {
    int n_panels, nx, ny, nr;
    long *point;
    char (*panel_label)[400]; /* [n_panels] "frac=0.3, p=59"; "" with one panel */
} gs_plot_grid;

int gs_plot_grid_make(gs_plot_grid *g, const gs_plot_sweep *sw, gs_err *err);
void gs_plot_grid_free(gs_plot_grid *g);
long gs_plot_grid_point(const gs_plot_grid *g, int panel, int j, int i, int r);

/* Colours of the classes (Okabe-Ito), and of points that have not ended. */
#define GS_PLOT_COMPREHENSION "#009E73"
#define GS_PLOT_GROKKING "#E69F00"
#define GS_PLOT_MEMORIZATION "#0072B2"
#define GS_PLOT_CONFUSION "#D55E00"
#define GS_PLOT_NOT_ENDED "#CCCCCC"
const char *gs_plot_class_colour(gs_sweep_class c);
int gs_plot_class_rgb(gs_sweep_class c); /* as an integer 0xRRGGBB */

/* A value as a short tick label: numbers with 2 significant digits, others as given. */
void gs_plot_value_label(const char *value, char *out, size_t size);
/* 1 if every value of the axis is a number (then *lo, *hi: smallest, largest). */
int gs_plot_axis_numeric(const gs_sweep_axis *a, double *lo, double *hi);

/* Writes `set xtics (...)` (or ytics) labelling positions 0..n-1 with the axis's
 * values, and the axis label, for a categorical axis; nothing useful for a = -1. */
void gs_plot_category_axis(gs_plot_file *gp, const gs_plot_sweep *sw, int a, const char *which);
/* `set multiplot title "WHAT\ntrain --p 59 ..." noenhanced`, without the line's end:
 * the caller adds the layout, if any, and the newline. */
void gs_plot_sweep_title(gs_plot_file *gp, const gs_plot_sweep *sw, const char *what);
/* The multiplot layout of n panels; *rows receives the number of rows. */
void gs_plot_panel_layout(int n, int *rows, int *cols);
/* "lr=0.001 wd=1" for the plan's point (source comment lines). */
void gs_plot_sweep_source(const gs_plot_sweep *sw, char *out, size_t size);

int gs_plot_sweep_phase(const gs_plot_env *env, const gs_plot_sweep *sw, const gs_plot_grid *g, const char *dir,
                        gs_err *err);
int gs_plot_sweep_grok(const gs_plot_env *env, const gs_plot_sweep *sw, const gs_plot_grid *g, const char *dir,
                       gs_err *err);
int gs_plot_sweep_delay(const gs_plot_env *env, const gs_plot_sweep *sw, const gs_plot_grid *g, const char *dir,
                        gs_err *err);
int gs_plot_sweep_curves(const gs_plot_env *env, const gs_plot_sweep *sw, const char *dir, gs_err *err);

#endif
