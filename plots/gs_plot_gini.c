/* Figure 3 (gini): Gini coefficients of the Fourier-component norms of W_E and W_L per
 * checkpoint, phases shaded. */
#include <stddef.h>

#include "plot_internal.h"

int gs_plot_fig_gini(const gs_plot_env *env, const gs_plot_data *d, const char *dir, gs_err *err)
{
    gs_plot_figure fig;
    if (gs_plot_figure_begin(&fig, env, dir, "gini",
                             "Gini coefficients of W_E and W_L in the Fourier basis per checkpoint",
                             d->path, "epoch gini_embed gini_neuron_logit", err) != 0)
        return -1;
    for (long i = 0; i < d->n_rows; i++) {
        const gs_analysis_row *r = &d->rows[i];
        gs_plot_printf(&fig.dat, "%ld", r->epoch);
        gs_plot_value(&fig.dat, r->gini_embed);
        gs_plot_value(&fig.dat, r->gini_neuron_logit);
        gs_plot_printf(&fig.dat, "\n");
    }
    gs_plot_file *g = &fig.gp;
    const int have_e = gs_plot_rows_finite(d, offsetof(gs_analysis_row, gini_embed));
    const int have_l = gs_plot_rows_finite(d, offsetof(gs_analysis_row, gini_neuron_logit));
    if (!have_e && !have_l) {
        gs_plot_figure_discard(&fig);
        return gs_err_set(err, "%s: the Gini coefficients are undefined at every checkpoint", d->path);
    }
    /* the title names what is drawn, and why a curve is missing (the MLP has no
     * neuron-logit map; `info` has the run file's full reason) */
    gs_plot_checkpoint_frame(g,
                             have_e && have_l ? "Sparsity in the Fourier basis: Gini coefficients of W_E and W_L = W_out W_U"
                             : have_e ? "Sparsity in the Fourier basis: Gini coefficient of W_E\n(this model has no neuron-logit map W_L)"
                                      : "Sparsity in the Fourier basis: Gini coefficient of W_L = W_out W_U\n(this model has no learned embedding W_E)",
                             d);
    gs_plot_printf(g, "set ylabel 'Gini coefficient (1 = one component)'\n"
                      "set yrange [0:1]\n\n");
    /* points mark the checkpoints while they are few enough to see */
    const int few = d->n_rows <= 60;
    gs_plot_printf(g, "plot ");
    if (have_e)
        gs_plot_printf(g, "data using 1:2 with %s lc rgb '%s' "
                          "title 'W_E (embedding)'%s",
                       few ? "linespoints lw 2 pt 7 ps 0.7" : "lines lw 2", GS_PLOT_TRAIN,
                       have_l ? ", \\\n     " : "");
    if (have_l)
        gs_plot_printf(g, "data using 1:3 with %s lc rgb '%s' "
                          "title 'W_L (neuron-logit map)'",
                       few ? "linespoints lw 2 pt 5 ps 0.7" : "lines lw 2", GS_PLOT_TEST);
    gs_plot_phase_keys(g, d);
    gs_plot_printf(g, "\n");
    return gs_plot_figure_end(&fig, err);
}
