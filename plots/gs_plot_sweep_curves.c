/* sweep_test_acc: every run's test accuracy per epoch overlaid, coloured by outcome
 * class, epochs on a log scale: the shapes behind the phase diagram (a late jump is
 * grokking, an early one comprehension, a flat line memorization or confusion). */
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "gs_plot_sweep.h"

/* Total rows kept over all runs; a run keeps at least MIN_ROWS. Thinning keeps every
 * k-th epoch, the last one, and the epochs where the run first reached 50% and 99%. */
#define MAX_TOTAL_ROWS 400000L
#define MIN_ROWS 200L

int gs_plot_sweep_curves(const gs_plot_env *env, const gs_plot_sweep *sw, const char *dir, gs_err *err)
{
    const gs_sweep_plan *plan = sw->plan;
    long count[GS_SWEEP_N_CLASSES + 1] = {0}, n_runs = 0, last = 1;
    for (long k = 0; k < plan->n_points; k++)
        if (sw->res[k].epochs_done >= 1) {
            n_runs++;
            count[sw->res[k].cls >= 0 ? sw->res[k].cls : GS_SWEEP_N_CLASSES]++;
            last = sw->res[k].epochs_done > last ? sw->res[k].epochs_done : last;
        }
    const long per_run = n_runs ? (MAX_TOTAL_ROWS / n_runs > MIN_ROWS ? MAX_TOTAL_ROWS / n_runs : MIN_ROWS) : 0;
    char source[1200];
    gs_plot_sweep_source(sw, source, sizeof source);
    gs_plot_figure fig;
    if (gs_plot_figure_begin(&fig, env, dir, "sweep_test_acc", "the test accuracy of every run, by outcome class",
                             source, "epoch test_acc rgb point", err) != 0)
        return -1;
    for (long k = 0; k < plan->n_points; k++) {
        if (sw->res[k].epochs_done < 1)
            continue;
        char path[PATH_MAX];
        snprintf(path, sizeof path, "%s/%s", sw->dir, plan->file[k]);
        gs_run *run;
        if (gs_run_open(&run, path, GS_RUN_READ, 0, err) != 0) {
            gs_plot_figure_discard(&fig);
            return -1;
        }
        const long n = gs_run_n_metrics(run);
        gs_metrics_row *rows = malloc((size_t)(n > 0 ? n : 1) * sizeof *rows);
        int rc = rows ? gs_run_read_metrics(run, 0, n, rows, err) : gs_err_set(err, "out of memory");
        gs_run_close(run, NULL);
        if (rc != 0) {
            free(rows);
            gs_plot_figure_discard(&fig);
            return -1;
        }
        const long stride = (n + per_run - 1) / per_run > 1 ? (n + per_run - 1) / per_run : 1;
        const int rgb = gs_plot_class_rgb(sw->res[k].cls);
        const gs_sweep_passages *fp = &sw->res[k].fp;
        for (long i = 0; i < n; i++) {
            const long e = rows[i].epoch;
            if (e < 1 || (i % stride && i != n - 1 && e != fp->test_50 && e != fp->test_99))
                continue;
            gs_plot_printf(&fig.dat, "%ld", e);
            gs_plot_value(&fig.dat, 100.0 * rows[i].test_acc);
            gs_plot_printf(&fig.dat, " %d %ld\n", rgb, k);
        }
        gs_plot_printf(&fig.dat, "\n"); /* a blank line ends one run's line */
        free(rows);
    }
    gs_plot_file *g = &fig.gp;
    gs_plot_printf(g, "# One line per run, coloured by its outcome class; rows are thinned to at most\n"
                      "# %ld per run (every k-th epoch, plus the last and the epochs test accuracy first\n"
                      "# reached 50%% and 99%%). Epoch 0 is left out for the log scale.\n", per_run);
    char what[200];
    snprintf(what, sizeof what, "Test accuracy of the %ld runs, coloured by outcome", n_runs);
    gs_plot_sweep_title(g, sw, what);
    gs_plot_printf(g, "\n"
                      "set logscale x\n"
                      "set xrange [1:%ld]\n"
                      "set format x '10^{%%L}'\n"
                      "set xlabel 'epoch (optimizer steps, log scale)'\n"
                      "set yrange [0:100]\n"
                      "set ylabel 'test accuracy (%%)'\n"
                      "set tmargin 5\n"
                      "set key below center horizontal samplen 2 width 1\n",
                   last > 1 ? last : 2);
    if (n_runs == 0) {
        gs_plot_printf(g, "set label 1 'no run has trained yet' at graph 0.5, graph 0.5 center\nplot NaN notitle\n");
    } else {
        gs_plot_printf(g, "plot data using 1:2:3 with lines lw 1.2 lc rgb variable notitle");
        static const gs_sweep_class order[] = {GS_SWEEP_COMPREHENSION, GS_SWEEP_GROKKING, GS_SWEEP_MEMORIZATION,
                                               GS_SWEEP_CONFUSION};
        for (int c = 0; c < 4; c++)
            gs_plot_printf(g, ", \\\n     NaN with lines lw 3 lc rgb '%s' title '%s (%ld)'", gs_plot_class_colour(order[c]),
                           gs_sweep_class_name(order[c]), count[order[c]]);
        if (count[GS_SWEEP_N_CLASSES])
            gs_plot_printf(g, ", \\\n     NaN with lines lw 3 lc rgb '%s' title 'not ended (%ld)'", GS_PLOT_NOT_ENDED,
                           count[GS_SWEEP_N_CLASSES]);
        gs_plot_printf(g, "\n");
    }
    gs_plot_printf(g, "unset multiplot\n");
    return gs_plot_figure_end(&fig, err);
}
