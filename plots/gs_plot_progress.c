/* Figure 2 (progress_measures): the paper's main figure. Train, test, restricted and
 * excluded loss at every checkpoint on a log scale, the three phases shaded. */
#include <stddef.h>

#include "plot_internal.h"

int gs_plot_fig_progress(const gs_plot_env *env, const gs_plot_data *d, const char *dir, gs_err *err)
{
    gs_plot_figure fig;
    if (gs_plot_figure_begin(&fig, env, dir, "progress_measures",
                             "train, test, restricted and excluded loss per checkpoint, phases shaded",
                             d->path, "epoch train_loss test_loss restricted_loss excluded_loss", err) != 0)
        return -1;
    for (long i = 0; i < d->n_rows; i++) {
        const gs_analysis_row *r = &d->rows[i];
        gs_plot_printf(&fig.dat, "%ld", r->epoch);
        gs_plot_value(&fig.dat, r->train_loss);
        gs_plot_value(&fig.dat, r->test_loss);
        gs_plot_value(&fig.dat, r->restricted_loss);
        gs_plot_value(&fig.dat, r->excluded_loss);
        gs_plot_printf(&fig.dat, "\n");
    }
    /* restricted and excluded loss are NaN where the op has no Fourier circuit */
    const int have_circuit = d->have_circuit &&
                             (gs_plot_rows_finite(d, offsetof(gs_analysis_row, restricted_loss)) ||
                              gs_plot_rows_finite(d, offsetof(gs_analysis_row, excluded_loss)));
    gs_plot_file *g = &fig.gp;
    gs_plot_checkpoint_frame(g, "Progress measures: train, test, restricted and excluded loss", d);
    gs_plot_printf(g,
                   "set ylabel 'cross-entropy loss (nats, log scale)'\n"
                   "set logscale y\n"
                   "set format y '10^{%%L}'\n\n");
    if (!have_circuit)
        gs_plot_printf(g, "set label 110 \"{/*0.85 no restricted or excluded loss: op %s has no "
                          "Fourier circuit (grokscope info says more)}\" "
                          "at graph 0.5, graph 0.5 center front\n",
                       gs_op_name(d->cfg.op));
    gs_plot_printf(g,
                   "plot data using 1:2 with lines lw 2 lc rgb '%s' title 'train', \\\n"
                   "     data using 1:3 with lines lw 2 lc rgb '%s' title 'test'",
                   GS_PLOT_TRAIN, GS_PLOT_TEST);
    /* excluded loss is dashed: before the circuit forms it lies on the train loss */
    if (have_circuit)
        gs_plot_printf(g,
                       ", \\\n     data using 1:4 with lines lw 2 lc rgb '%s' title 'restricted', \\\n"
                       "     data using 1:5 with lines lw 2.5 dt (8, 5) lc rgb '%s' title 'excluded'",
                       GS_PLOT_RESTRICTED, GS_PLOT_EXCLUDED);
    gs_plot_phase_keys(g, d);
    gs_plot_printf(g, "\n");
    return gs_plot_figure_end(&fig, err);
}
