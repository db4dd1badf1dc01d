/* The figures of a sweep: which axis is drawn where, the grid of cells the points fall
 * into, and the style shared by the four figures. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gs_plot_sweep.h"

#define MAX_PANELS 36

static int named_axis(const gs_sweep_plan *plan, const char *opt, const char *name, gs_err *err)
{
    const int a = gs_sweep_axis_index(plan, name);
    if (a >= 0)
        return a;
    char list[1200] = "";
    size_t at = 0;
    for (int k = 0; k < plan->n_axes && at < sizeof list; k++)
        at += (size_t)snprintf(list + at, sizeof list - at, "%s%s", k ? ", " : "", plan->axes[k].name);
    gs_err_set(err, "%s: the sweep has no axis '%s' (its axes: %s)", opt, name, list);
    return -1;
}

int gs_plot_sweep_axes(gs_plot_sweep *sw, const char *x, const char *y, const char *facet, gs_err *err)
{
    const gs_sweep_plan *plan = sw->plan;
    int used[GS_SWEEP_MAX_AXES] = {0}, pick[3] = {-1, -1, -1};
    const char *names[3] = {x, y, facet}, *opts[3] = {"--x", "--y", "--facet"};
    for (int k = 0; k < 3; k++)
        if (names[k]) {
            if ((pick[k] = named_axis(plan, opts[k], names[k], err)) < 0)
                return -1;
            if (used[pick[k]])
                return gs_err_set(err, "%s: axis '%s' is already drawn another way", opts[k], names[k]);
            used[pick[k]] = 1;
        }
    /* the seeds are replicates, averaged over, unless named */
    const int seed = gs_sweep_axis_index(plan, GS_SWEEP_SEED_AXIS);
    sw->replicate = seed >= 0 && !used[seed] ? seed : -1;
    if (sw->replicate >= 0)
        used[seed] = 1;
    for (int k = 0; k < 3; k++)
        for (int a = 0; a < plan->n_axes && pick[k] < 0; a++)
            if (!used[a]) {
                pick[k] = a;
                used[a] = 1;
            }
    /* one axis besides the seeds: show the seeds as rows rather than as strips */
    if (pick[1] < 0 && sw->replicate >= 0 && pick[0] >= 0 && plan->axes[sw->replicate].n_values > 1 && !y) {
        pick[1] = sw->replicate;
        sw->replicate = -1;
    }
    sw->x = pick[0];
    sw->y = pick[1];
    sw->n_panel_axes = 0;
    if (pick[2] >= 0)
        sw->panel_axes[sw->n_panel_axes++] = pick[2];
    /* the axes left over are panels too: merging them would average different runs */
    long panels = pick[2] >= 0 ? plan->axes[pick[2]].n_values : 1;
    for (int a = 0; a < plan->n_axes; a++)
        if (!used[a]) {
            sw->panel_axes[sw->n_panel_axes++] = a;
            panels *= plan->axes[a].n_values;
        }
    if (panels > MAX_PANELS)
        return gs_err_set(err, "the sweep's figures would need %ld panels (at most %d); choose --x, --y and "
                               "--facet so that fewer values are left for the panels", panels, MAX_PANELS);
    return 0;
}

int gs_plot_grid_make(gs_plot_grid *g, const gs_plot_sweep *sw, gs_err *err)
{
    const gs_sweep_plan *plan = sw->plan;
    memset(g, 0, sizeof *g);
    g->nx = sw->x >= 0 ? plan->axes[sw->x].n_values : 1;
    g->ny = sw->y >= 0 ? plan->axes[sw->y].n_values : 1;
    g->nr = sw->replicate >= 0 ? plan->axes[sw->replicate].n_values : 1;
    g->n_panels = 1;
    for (int k = 0; k < sw->n_panel_axes; k++)
        g->n_panels *= plan->axes[sw->panel_axes[k]].n_values;
    const size_t n = (size_t)g->n_panels * (size_t)g->ny * (size_t)g->nx * (size_t)g->nr;
    g->point = malloc(n * sizeof *g->point);
    g->panel_label = calloc((size_t)g->n_panels, sizeof *g->panel_label);
    if (!g->point || !g->panel_label) {
        gs_plot_grid_free(g);
        return gs_err_set(err, "out of memory");
    }
    for (size_t k = 0; k < n; k++)
        g->point[k] = -1;
    for (long p = 0; p < plan->n_points; p++) {
        const int *vi = plan->value_index + p * plan->n_axes;
        long panel = 0;
        for (int k = 0; k < sw->n_panel_axes; k++)
            panel = panel * plan->axes[sw->panel_axes[k]].n_values + vi[sw->panel_axes[k]];
        const int i = sw->x >= 0 ? vi[sw->x] : 0, j = sw->y >= 0 ? vi[sw->y] : 0;
        const int r = sw->replicate >= 0 ? vi[sw->replicate] : 0;
        g->point[(((size_t)panel * g->ny + j) * g->nx + i) * g->nr + r] = p;
        char *label = g->panel_label[panel];
        if (!label[0] && sw->n_panel_axes > 0) {
            size_t at = 0;
            for (int k = 0; k < sw->n_panel_axes; k++) {
                const int a = sw->panel_axes[k];
                at += (size_t)snprintf(label + at, sizeof g->panel_label[0] - at, "%s%s = %s", k ? ",  " : "",
                                       plan->axes[a].name, gs_sweep_value(plan, p, a));
                if (at >= sizeof g->panel_label[0])
                    break;
            }
        }
    }
    return 0;
}

void gs_plot_grid_free(gs_plot_grid *g)
{
    free(g->point);
    free(g->panel_label);
    memset(g, 0, sizeof *g);
}

long gs_plot_grid_point(const gs_plot_grid *g, int panel, int j, int i, int r)
{
    return g->point[(((size_t)panel * g->ny + j) * g->nx + i) * g->nr + r];
}

const char *gs_plot_class_colour(gs_sweep_class c)
{
    switch (c) {
    case GS_SWEEP_COMPREHENSION: return GS_PLOT_COMPREHENSION;
    case GS_SWEEP_GROKKING: return GS_PLOT_GROKKING;
    case GS_SWEEP_MEMORIZATION: return GS_PLOT_MEMORIZATION;
    case GS_SWEEP_CONFUSION: return GS_PLOT_CONFUSION;
    default: return GS_PLOT_NOT_ENDED;
    }
}

int gs_plot_class_rgb(gs_sweep_class c)
{
    return (int)strtol(gs_plot_class_colour(c) + 1, NULL, 16);
}

static int as_number(const char *s, double *v)
{
    char *end;
    *v = strtod(s, &end);
    return end != s && *end == '\0' && isfinite(*v);
}

void gs_plot_value_label(const char *value, char *out, size_t size)
{
    double v;
    if (as_number(value, &v))
        snprintf(out, size, "%.2g", v);
    else
        snprintf(out, size, "%s", value);
}

int gs_plot_axis_numeric(const gs_sweep_axis *a, double *lo, double *hi)
{
    for (int k = 0; k < a->n_values; k++) {
        double v;
        if (!as_number(a->values[k], &v))
            return 0;
        *lo = k == 0 || v < *lo ? v : *lo;
        *hi = k == 0 || v > *hi ? v : *hi;
    }
    return a->n_values > 0;
}

void gs_plot_category_axis(gs_plot_file *gp, const gs_plot_sweep *sw, int a, const char *which)
{
    if (a < 0) {
        gs_plot_printf(gp, "set %srange [-0.5:0.5]\nunset %stics\nset %slabel ''\n", which, which, which);
        return;
    }
    const gs_sweep_axis *ax = &sw->plan->axes[a];
    gs_plot_printf(gp, "set %srange [-0.5:%d.5]\nset %stics (", which, ax->n_values - 1, which);
    for (int k = 0; k < ax->n_values; k++) {
        char label[100];
        gs_plot_value_label(ax->values[k], label, sizeof label);
        gs_plot_printf(gp, "%s", k ? ", " : "");
        gs_plot_quoted(gp, label);
        gs_plot_printf(gp, " %d", k);
    }
    gs_plot_printf(gp, ") noenhanced\n");
    if (which[0] == 'x' && ax->n_values > 8)
        gs_plot_printf(gp, "set xtics rotate by 45 right\n");
    gs_plot_printf(gp, "set %slabel ", which);
    gs_plot_quoted(gp, ax->name);
    gs_plot_printf(gp, " noenhanced\n");
}

void gs_plot_sweep_title(gs_plot_file *gp, const gs_plot_sweep *sw, const char *what)
{
    char title[1400];
    size_t at = (size_t)snprintf(title, sizeof title, "%s\ntrain", what);
    for (int i = 0; i < sw->plan->n_base && at < sizeof title; i++)
        at += (size_t)snprintf(title + at, sizeof title - at, " %s", sw->plan->base[i]);
    if (sw->plan->n_base == 0 && at < sizeof title)
        snprintf(title + at, sizeof title - at, " (the paper's defaults)");
    gs_plot_printf(gp, "set multiplot title ");
    gs_plot_quoted(gp, title);
    gs_plot_printf(gp, " noenhanced");
}

void gs_plot_panel_layout(int n, int *rows, int *cols)
{
    *cols = n <= 3 ? n : n == 4 ? 2 : 3;
    *rows = (n + *cols - 1) / *cols;
}

void gs_plot_sweep_source(const gs_plot_sweep *sw, char *out, size_t size)
{
    snprintf(out, size, "the sweep %s (%ld points; table: grokscope sweep collect)", sw->dir, sw->plan->n_points);
}

int gs_plot_sweep_figures(const gs_plot_env *env, const gs_plot_sweep *sw, const char *dir, gs_err *err)
{
    gs_plot_grid g;
    if (gs_plot_grid_make(&g, sw, err) != 0)
        return -1;
    int rc = gs_plot_sweep_phase(env, sw, &g, dir, err);
    if (rc == 0)
        rc = gs_plot_sweep_grok(env, sw, &g, dir, err);
    if (rc == 0)
        rc = gs_plot_sweep_delay(env, sw, &g, dir, err);
    gs_plot_grid_free(&g);
    if (rc == 0)
        rc = gs_plot_sweep_curves(env, sw, dir, err);
    return rc;
}
