/* Figure 1 (loss): train and test loss per epoch on a log scale, test accuracy on a
 * second axis; from /metrics. */
#include "plot_internal.h"

int gs_plot_fig_loss(const gs_plot_env *env, const gs_plot_data *d, const char *dir, gs_err *err)
{
    gs_plot_figure fig;
    if (gs_plot_figure_begin(&fig, env, dir, "loss", "train and test loss, test accuracy per epoch",
                             d->path, "epoch train_loss test_loss train_acc test_acc", err) != 0)
        return -1;
    for (long i = 0; i < d->n_metrics; i++) {
        const gs_metrics_row *m = &d->metrics[i];
        gs_plot_printf(&fig.dat, "%ld", m->epoch);
        gs_plot_value(&fig.dat, m->train_loss);
        gs_plot_value(&fig.dat, m->test_loss);
        gs_plot_value(&fig.dat, m->train_acc);
        gs_plot_value(&fig.dat, m->test_acc);
        gs_plot_printf(&fig.dat, "\n");
    }
    gs_plot_file *g = &fig.gp;
    gs_plot_title(g, "Train and test loss", d);
    gs_plot_epoch_axis(g, d->metrics[d->n_metrics - 1].epoch);
    gs_plot_printf(g, "set ylabel '%s'\n", gs_plot_loss_label(&d->cfg));
    gs_plot_printf(g,
                   "set logscale y\n"
                   "set format y '10^{%%L}'\n"
                   "set y2label 'test accuracy (%%)'\n"
                   "set y2range [0:100]\n"
                   "set y2tics 0, 20, 100\n\n"
                   "plot data using 1:2 with lines lw 2 lc rgb '%s' title 'train loss', \\\n"
                   "     data using 1:3 with lines lw 2 lc rgb '%s' title 'test loss', \\\n"
                   "     data using 1:(100 * $5) axes x1y2 with lines lw 2 dt (12, 6) lc rgb '%s' "
                   "title 'test accuracy (right axis)'\n",
                   GS_PLOT_TRAIN, GS_PLOT_TEST, GS_PLOT_ACC);
    return gs_plot_figure_end(&fig, err);
}
