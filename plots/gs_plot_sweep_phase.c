/* The phase diagram of a sweep, as Liu et al. 2022 draw it: a heatmap over two axes
 * (categorical: one cell per value, whatever its spacing), a panel per value of the
 * other axes. sweep_phase_diagram colours each cell by outcome class, one vertical
 * strip per seed; sweep_grok_epoch colours it by the epoch test accuracy reached 99%
 * (geometric mean over the seeds that got there), on a log scale. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gs_plot_sweep.h"

static const gs_sweep_class classes[] = {GS_SWEEP_COMPREHENSION, GS_SWEEP_GROKKING, GS_SWEEP_MEMORIZATION,
                                         GS_SWEEP_CONFUSION};

/* The panels' frame: the title on top, the panels in a grid below it, and a strip at
 * the bottom for the legend, which gets a plot of its own spanning the page (a key
 * inside one narrow panel would not fit). */
#define LEGEND_H 0.09
#define TITLE_H 0.11

static void begin_panels(gs_plot_file *g, const gs_plot_sweep *sw, const char *what)
{
    gs_plot_printf(g, "unset grid\nset tics out nomirror front\nset border lw 1.2\nunset key\n");
    gs_plot_category_axis(g, sw, sw->x, "x");
    gs_plot_category_axis(g, sw, sw->y, "y");
    gs_plot_sweep_title(g, sw, what);
    gs_plot_printf(g, "\n");
}

/* Panel p's place on the page (a row-major grid), then its title. */
static void panel(gs_plot_file *g, const gs_plot_grid *grid, int p)
{
    int rows, cols;
    gs_plot_panel_layout(grid->n_panels, &rows, &cols);
    const double tall = 1.0 + 0.75 * (rows - 1); /* the page grows with the rows */
    const double legend = LEGEND_H / tall, title = TITLE_H / tall;
    const double w = 1.0 / cols, h = (1.0 - legend - title) / rows;
    gs_plot_printf(g, "set origin %.4f, %.4f\nset size %.4f, %.4f\nset title ", (p % cols) * w,
                   legend + (rows - 1 - p / cols) * h, w, h);
    gs_plot_quoted(g, grid->panel_label[p]);
    gs_plot_printf(g, " noenhanced\n");
}

/* The legend strip: a plot with nothing but its key. */
static void begin_legend(gs_plot_file *g, const gs_plot_grid *grid)
{
    int rows, cols;
    gs_plot_panel_layout(grid->n_panels, &rows, &cols);
    const double tall = 1.0 + 0.75 * (rows - 1);
    gs_plot_printf(g, "\n# the legend, a plot of its own along the bottom of the page\n"
                      "set origin 0, 0\nset size 1, %.4f\nunset title\nunset border\nunset tics\nunset xlabel\n"
                      "unset ylabel\nunset colorbox\nunset object\nunset logscale\nset xrange [0:1]\n"
                      "set yrange [0:1]\nset lmargin 0\nset rmargin 0\nset tmargin 0\nset bmargin 0\n"
                      "set key center center horizontal maxrows 2 samplen 1.5 width 1\n"
                      "plot NaN notitle", LEGEND_H / tall);
}

static double tall_for(const gs_plot_grid *grid)
{
    int rows, cols;
    gs_plot_panel_layout(grid->n_panels, &rows, &cols);
    return 1.0 + 0.75 * (rows - 1);
}

int gs_plot_sweep_phase(const gs_plot_env *env, const gs_plot_sweep *sw, const gs_plot_grid *grid, const char *dir,
                        gs_err *err)
{
    char source[1200];
    gs_plot_sweep_source(sw, source, sizeof source);
    gs_plot_figure fig;
    if (gs_plot_figure_begin_tall(&fig, env, dir, "sweep_phase_diagram",
                                  "phase diagram: the outcome class of every run of a sweep", source,
                                  "panel x y seed x_lo x_hi y_lo y_hi rgb class point", tall_for(grid), err) != 0)
        return -1;
    long count[GS_SWEEP_N_CLASSES + 1] = {0}; /* the last: not ended */
    for (int p = 0; p < grid->n_panels; p++) {
        for (int j = 0; j < grid->ny; j++)
            for (int i = 0; i < grid->nx; i++)
                for (int r = 0; r < grid->nr; r++) {
                    const long k = gs_plot_grid_point(grid, p, j, i, r);
                    if (k < 0)
                        continue;
                    const gs_sweep_class c = sw->res[k].cls;
                    count[c >= 0 ? c : GS_SWEEP_N_CLASSES]++;
                    const double w = 1.0 / grid->nr;
                    gs_plot_printf(&fig.dat, "%d %d %d %d", p, i, j, r);
                    gs_plot_value(&fig.dat, i - 0.5 + r * w);
                    gs_plot_value(&fig.dat, i - 0.5 + (r + 1) * w);
                    gs_plot_value(&fig.dat, j - 0.5);
                    gs_plot_value(&fig.dat, j + 0.5);
                    gs_plot_printf(&fig.dat, " %d %s %ld\n", gs_plot_class_rgb(c), c >= 0 ? gs_sweep_class_name(c)
                                                                                           : "not-ended", k);
                }
        gs_plot_printf(&fig.dat, "\n\n"); /* one data set per panel (plot ... index p) */
    }
    gs_plot_file *g = &fig.gp;
    gs_plot_printf(g, "# Each cell is one combination of the x and y values; its colour is the outcome\n"
                      "# class of the run (docs/sweeps.md: from the first epochs at which train and test\n"
                      "# accuracy reached 99%%). With several seeds the cell is split into one vertical\n"
                      "# strip per seed, in seed order. Grey: the run has not ended yet.\n");
    char what[300];
    if (sw->replicate >= 0)
        snprintf(what, sizeof what, "Outcome of each run (a strip per %s: %d)", sw->plan->axes[sw->replicate].name,
                 grid->nr);
    else
        snprintf(what, sizeof what, "Outcome of each run");
    begin_panels(g, sw, what);
    for (int p = 0; p < grid->n_panels; p++) {
        panel(g, grid, p);
        gs_plot_printf(g, "plot data index %d using (($5 + $6) / 2):(($7 + $8) / 2):5:6:7:8:9 with boxxyerror "
                          "fc rgb variable fs solid 1.0 border lc rgb 'white' notitle\n", p);
    }
    begin_legend(g, grid);
    for (size_t c = 0; c < sizeof classes / sizeof *classes; c++)
        gs_plot_printf(g, ", \\\n     NaN with boxes fc rgb '%s' title '%s (%ld)'", gs_plot_class_colour(classes[c]),
                       gs_sweep_class_name(classes[c]), count[classes[c]]);
    if (count[GS_SWEEP_N_CLASSES])
        gs_plot_printf(g, ", \\\n     NaN with boxes fc rgb '%s' title 'not ended (%ld)'", GS_PLOT_NOT_ENDED,
                       count[GS_SWEEP_N_CLASSES]);
    gs_plot_printf(g, "\nunset multiplot\n");
    return gs_plot_figure_end(&fig, err);
}

/* "850", "12.5k" */
static void short_epoch(double e, char *out, size_t size)
{
    if (e < 10000)
        snprintf(out, size, "%.0f", e);
    else
        snprintf(out, size, "%.3gk", e / 1000);
}

int gs_plot_sweep_grok(const gs_plot_env *env, const gs_plot_sweep *sw, const gs_plot_grid *grid, const char *dir,
                       gs_err *err)
{
    /* the colour range first: the smallest and largest cell values */
    double lo = INFINITY, hi = -INFINITY;
    for (int p = 0; p < grid->n_panels; p++)
        for (int j = 0; j < grid->ny; j++)
            for (int i = 0; i < grid->nx; i++)
                for (int r = 0; r < grid->nr; r++) {
                    const long k = gs_plot_grid_point(grid, p, j, i, r);
                    if (k >= 0 && sw->res[k].fp.test_99 >= 0) {
                        const double e = sw->res[k].fp.test_99 > 1 ? (double)sw->res[k].fp.test_99 : 1.0;
                        lo = e < lo ? e : lo;
                        hi = e > hi ? e : hi;
                    }
                }
    if (!isfinite(lo)) { /* nothing generalized: any range will do */
        lo = 1;
        hi = 10;
    }
    if (hi < lo * 1.5) { /* a colour scale needs some range */
        lo /= 1.25;
        hi *= 1.25;
    }
    char source[1200];
    gs_plot_sweep_source(sw, source, sizeof source);
    gs_plot_figure fig;
    if (gs_plot_figure_begin_tall(&fig, env, dir, "sweep_grok_epoch",
                                  "the epoch each cell's runs reached 99% test accuracy (log colour scale)", source,
                                  "panel x y grok_epoch n_generalized n_ended n_runs label label_rgb",
                                  tall_for(grid), err) != 0)
        return -1;
    /* per panel: has cells with a value, has cells without (each gets its own plot
     * clause, and gnuplot warns about a clause that has no point) */
    unsigned char *valued = calloc((size_t)grid->n_panels, 2);
    if (!valued) {
        gs_plot_figure_discard(&fig);
        return gs_err_set(err, "out of memory");
    }
    for (int p = 0; p < grid->n_panels; p++) {
        for (int j = 0; j < grid->ny; j++)
            for (int i = 0; i < grid->nx; i++) {
                double sum = 0;
                int n_gen = 0, n_ended = 0, n_runs = 0;
                for (int r = 0; r < grid->nr; r++) {
                    const long k = gs_plot_grid_point(grid, p, j, i, r);
                    if (k < 0)
                        continue;
                    n_runs++;
                    n_ended += sw->res[k].cls >= 0;
                    if (sw->res[k].fp.test_99 >= 0) {
                        sum += log(sw->res[k].fp.test_99 > 1 ? (double)sw->res[k].fp.test_99 : 1.0);
                        n_gen++;
                    }
                }
                if (n_runs == 0)
                    continue;
                const double e = n_gen ? exp(sum / n_gen) : NAN;
                valued[2 * p + (n_gen ? 0 : 1)] = 1;
                char label[64] = "-";
                if (n_gen) {
                    short_epoch(e, label, sizeof label);
                    if (n_gen < n_runs) {
                        const size_t at = strlen(label);
                        snprintf(label + at, sizeof label - at, "(%d/%d)", n_gen, n_runs);
                    }
                } else if (n_ended < n_runs) {
                    snprintf(label, sizeof label, "...");
                }
                /* dark text on the bright end of viridis, white on the dark end */
                const double t = n_gen ? (log(e) - log(lo)) / (log(hi) - log(lo)) : 1.0;
                gs_plot_printf(&fig.dat, "%d %d %d", p, i, j);
                gs_plot_value(&fig.dat, e);
                gs_plot_printf(&fig.dat, " %d %d %d %s %d\n", n_gen, n_ended, n_runs, label,
                               t > 0.6 ? 0x000000 : 0xffffff);
            }
        gs_plot_printf(&fig.dat, "\n\n");
    }
    gs_plot_file *g = &fig.gp;
    gs_plot_printf(g, "# Each cell: the epoch at which test accuracy first reached 99%%, the geometric mean\n"
                      "# over the runs (seeds) of the cell that got there; the label says how many did when\n"
                      "# not all did (e.g. 2/3). Grey with '-': no run of the cell generalized ('...': some\n"
                      "# have not ended yet).\n");
    char what[300];
    snprintf(what, sizeof what, "Epoch test accuracy reached 99%%%s",
             sw->replicate >= 0 ? " (geometric mean over the seeds)" : "");
    gs_plot_printf(g, "set logscale cb\nset cbrange [%g:%g]\n"
                      "set cblabel 'epoch (log scale)'\n"
                      "# viridis: dark = early, bright = late\n"
                      "set palette defined (0 '#440154', 1 '#3b528b', 2 '#21918c', 3 '#5ec962', 4 '#fde725')\n",
                   lo, hi);
    /* tics at 1, 2, 5 x 10^k inside the range (gnuplot's own leave a short log range bare) */
    gs_plot_printf(g, "set cbtics (");
    int n_tics = 0;
    for (double decade = pow(10, floor(log10(lo))); decade <= hi; decade *= 10)
        for (int m = 0; m < 3; m++) {
            const double t = decade * (m == 0 ? 1 : m == 1 ? 2 : 5);
            if (t >= lo && t <= hi)
                gs_plot_printf(g, "%s\"%g\" %g", n_tics++ ? ", " : "", t, t);
        }
    if (n_tics < 2)
        gs_plot_printf(g, "%s\"%.0f\" %.17g, \"%.0f\" %.17g", n_tics ? ", " : "", lo, lo, hi, hi);
    gs_plot_printf(g, ")\n");
    begin_panels(g, sw, what);
    for (int p = 0; p < grid->n_panels; p++) {
        panel(g, grid, p);
        const char *sep = "plot ";
        if (valued[2 * p]) { /* cells with an epoch: coloured by it */
            gs_plot_printf(g, "%sdata index %d using ($5 > 0 ? $2 : NaN):3:($2 - 0.5):($2 + 0.5):($3 - 0.5):($3 + 0.5):4 "
                              "with boxxyerror fc palette fs solid 1.0 border lc rgb 'white' notitle", sep, p);
            sep = ", \\\n     ";
        }
        if (valued[2 * p + 1]) { /* cells where no run generalized: grey (a NaN in a used column would drop the row) */
            gs_plot_printf(g, "%sdata index %d using ($5 == 0 ? $2 : NaN):3:($2 - 0.5):($2 + 0.5):($3 - 0.5):($3 + 0.5) "
                              "with boxxyerror fc rgb '#e6e6e6' fs solid 1.0 border lc rgb 'white' notitle", sep, p);
            sep = ", \\\n     ";
        }
        gs_plot_printf(g, "%sdata index %d using 2:3:8:9 with labels tc rgb variable notitle\n", sep, p);
    }
    free(valued);
    begin_legend(g, grid);
    gs_plot_printf(g, ", \\\n     NaN with boxes fc rgb '#e6e6e6' title 'no run of the cell reached 99%% "
                      "test accuracy'\nunset multiplot\n");
    return gs_plot_figure_end(&fig, err);
}
