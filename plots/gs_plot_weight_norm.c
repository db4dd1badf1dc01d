/* Figure 4 (weight_norm): the total sum of squared weights per checkpoint, phases
 * shaded (weight decay shrinks it during cleanup). */
#include "plot_internal.h"

int gs_plot_fig_weight_norm(const gs_plot_env *env, const gs_plot_data *d, const char *dir, gs_err *err)
{
    gs_plot_figure fig;
    if (gs_plot_figure_begin(&fig, env, dir, "weight_norm",
                             "total sum of squared weights (all parameters) per checkpoint", d->path,
                             "epoch weight_norm", err) != 0)
        return -1;
    for (long i = 0; i < d->n_rows; i++) {
        gs_plot_printf(&fig.dat, "%ld", d->rows[i].epoch);
        gs_plot_value(&fig.dat, d->rows[i].weight_norm);
        gs_plot_printf(&fig.dat, "\n");
    }
    gs_plot_file *g = &fig.gp;
    gs_plot_checkpoint_frame(g, "Total sum of squared weights", d);
    gs_plot_printf(g, "set ylabel 'sum of squared weights, all parameters'\n"
                      "\n"
                      "plot data using 1:2 with %s lc rgb '%s' "
                      "title 'sum of squared weights'",
                   d->n_rows <= 60 ? "linespoints lw 2 pt 7 ps 0.7" : "lines lw 2", GS_PLOT_TRAIN);
    gs_plot_phase_keys(g, d);
    gs_plot_printf(g, "\n");
    return gs_plot_figure_end(&fig, err);
}
