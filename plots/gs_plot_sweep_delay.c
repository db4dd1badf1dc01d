/* sweep_delay: the delay between fitting the training set and generalizing against
 * the x axis, one line per value of the y axis (and per panel), the seeds as error
 * bars: Power et al. 2022's figure of steps to generalization against the training
 * fraction, for any axis. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gs_plot_sweep.h"

static int cmp_double(const void *a, const void *b)
{
    const double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int gs_plot_sweep_delay(const gs_plot_env *env, const gs_plot_sweep *sw, const gs_plot_grid *grid, const char *dir,
                        gs_err *err)
{
    static const char *const colours[] = {"#0072B2", "#D55E00", "#009E73", "#CC79A7",
                                          "#E69F00", "#56B4E9", "#000000", "#F0E442"};
    const gs_sweep_plan *plan = sw->plan;
    double lo = 0, hi = 0;
    const int numeric = sw->x >= 0 && gs_plot_axis_numeric(&plan->axes[sw->x], &lo, &hi);
    const int log_x = numeric && lo > 0 && hi >= 10 * lo;
    double *d = malloc((size_t)grid->nr * sizeof *d);
    if (!d)
        return gs_err_set(err, "out of memory");
    /* first pass: can the delays go on a log scale (all positive), and are there any */
    int n_finite = 0, all_positive = 1;
    for (long k = 0; k < plan->n_points; k++)
        if (isfinite(sw->res[k].delay)) {
            n_finite++;
            all_positive &= sw->res[k].delay > 0;
        }
    char source[1200];
    gs_plot_sweep_source(sw, source, sizeof source);
    gs_plot_figure fig;
    if (gs_plot_figure_begin(&fig, env, dir, "sweep_delay",
                             "delay from fitting the training set to generalizing, against one axis", source,
                             "x delay_median delay_min delay_max n_generalized n_runs", err) != 0) {
        free(d);
        return -1;
    }
    /* one data set (index) per line: each y value in each panel */
    const int n_series = grid->n_panels * grid->ny;
    for (int p = 0; p < grid->n_panels; p++)
        for (int j = 0; j < grid->ny; j++) {
            for (int i = 0; i < grid->nx; i++) {
                int n = 0, runs = 0;
                for (int r = 0; r < grid->nr; r++) {
                    const long k = gs_plot_grid_point(grid, p, j, i, r);
                    if (k < 0)
                        continue;
                    runs++;
                    if (isfinite(sw->res[k].delay))
                        d[n++] = sw->res[k].delay;
                }
                if (runs == 0)
                    continue;
                const long k0 = gs_plot_grid_point(grid, p, j, i, 0);
                const double x = numeric ? strtod(gs_sweep_value(plan, k0 >= 0 ? k0 : 0, sw->x), NULL) : i;
                qsort(d, (size_t)n, sizeof *d, cmp_double);
                gs_plot_value(&fig.dat, x);
                gs_plot_value(&fig.dat, n ? (n % 2 ? d[n / 2] : 0.5 * (d[n / 2 - 1] + d[n / 2])) : NAN);
                gs_plot_value(&fig.dat, n ? d[0] : NAN);
                gs_plot_value(&fig.dat, n ? d[n - 1] : NAN);
                gs_plot_printf(&fig.dat, " %d %d\n", n, runs);
            }
            gs_plot_printf(&fig.dat, "\n\n");
        }
    free(d);
    gs_plot_file *g = &fig.gp;
    gs_plot_printf(g, "# delay = (first epoch with test accuracy >= 99%%) - (first epoch with train accuracy\n"
                      "# >= 99%%), per run. Each point: the median over the runs (seeds) of that x value that\n"
                      "# generalized; error bars: their smallest and largest delay. Runs that never reached\n"
                      "# 99%% test accuracy are left out (columns 5-6 count them).\n");
    gs_plot_sweep_title(g, sw, "Delay from fitting the training set to generalizing");
    gs_plot_printf(g, "\n");
    if (sw->x >= 0 && numeric) {
        gs_plot_printf(g, "set xlabel ");
        gs_plot_quoted(g, plan->axes[sw->x].name);
        gs_plot_printf(g, " noenhanced\n");
        if (log_x)
            gs_plot_printf(g, "set logscale x\nset xrange [%g:%g]\n", lo / 1.3, hi * 1.3);
        else
            gs_plot_printf(g, "set xrange [%g:%g]\n", lo - 0.05 * (hi - lo + 1e-300) - (hi == lo),
                           hi + 0.05 * (hi - lo) + (hi == lo));
    } else {
        gs_plot_category_axis(g, sw, sw->x, "x");
    }
    gs_plot_printf(g, "set ylabel 'delay: epochs from train acc. 99%% to test acc. 99%%'\n");
    if (n_finite && all_positive)
        gs_plot_printf(g, "set logscale y\nset format y '10^{%%L}'\n");
    gs_plot_printf(g, "set tmargin 5\nset key below center horizontal samplen 2.5 spacing 1.1 width 1\n");
    if (n_finite == 0) {
        /* gnuplot refuses a plot with no point: an empty frame that says why */
        gs_plot_printf(g, "set yrange [0:1]\nset label 1 'no run generalized (test accuracy never reached 99%%)' "
                          "at graph 0.5, graph 0.5 center\nplot NaN notitle\n");
    } else {
        const char *sep = "plot ";
        for (int s = 0; s < n_series; s++) {
            const int p = s / grid->ny, j = s % grid->ny;
            int has = 0;
            for (int i = 0; i < grid->nx && !has; i++)
                for (int r = 0; r < grid->nr && !has; r++) {
                    const long k = gs_plot_grid_point(grid, p, j, i, r);
                    has = k >= 0 && isfinite(sw->res[k].delay);
                }
            if (!has) /* a line with no point would make gnuplot warn */
                continue;
            char title[600] = "";
            size_t at = 0;
            const long k0 = gs_plot_grid_point(grid, p, j, 0, 0);
            if (sw->y >= 0 && k0 >= 0)
                at += (size_t)snprintf(title, sizeof title, "%s = %s", plan->axes[sw->y].name,
                                       gs_sweep_value(plan, k0, sw->y));
            if (grid->panel_label[p][0] && at < sizeof title)
                snprintf(title + at, sizeof title - at, "%s%s", at ? ",  " : "", grid->panel_label[p]);
            gs_plot_printf(g, "%sdata index %d using 1:2:3:4 with yerrorlines lw 2 pt %d ps 1.2 lc rgb '%s' title ",
                           sep, s, 5 + 2 * (s / 8 % 4), colours[s % 8]);
            gs_plot_quoted(g, title[0] ? title : "delay");
            gs_plot_printf(g, " noenhanced");
            sep = ", \\\n     ";
        }
        gs_plot_printf(g, "\n");
    }
    gs_plot_printf(g, "unset multiplot\n");
    return gs_plot_figure_end(&fig, err);
}
