/* sweep_score: how early each early-warning signal fires, as a share of the delay from
 * fitting the training set to generalizing, over the grokking runs of a sweep: a bar at
 * the median, a point per run (docs/early-warning.md). */
#include <math.h>
#include <stdlib.h>

#include "plot_internal.h"
#include "score.h"

static int cmp_double(const void *a, const void *b)
{
    const double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int gs_plot_sweep_score(const gs_plot_env *env, const char *source, const double *shares,
                        int n_runs, const char *dir, gs_err *err)
{
    double *v = malloc((size_t)(n_runs > 0 ? n_runs : 1) * sizeof *v);
    if (!v)
        return gs_err_set(err, "out of memory");
    gs_plot_figure fig;
    if (gs_plot_figure_begin(&fig, env, dir, "sweep_score",
                             "lead time of each early-warning signal as a share of the delay", source,
                             "signal_index lead_share (index 0: one row per signal, the median; "
                             "index 1: one row per grokking run where it fired)", err) != 0) {
        free(v);
        return -1;
    }
    int any = 0;
    for (int s = 0; s < GS_N_SIGNALS; s++) {
        int n = 0;
        for (int r = 0; r < n_runs; r++)
            if (isfinite(shares[(size_t)s * n_runs + r]))
                v[n++] = shares[(size_t)s * n_runs + r];
        qsort(v, (size_t)n, sizeof *v, cmp_double);
        gs_plot_value(&fig.dat, s);
        gs_plot_value(&fig.dat, n ? (n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2])) : NAN);
        gs_plot_printf(&fig.dat, "\n");
        any |= n > 0;
    }
    gs_plot_printf(&fig.dat, "\n\n");
    for (int s = 0; s < GS_N_SIGNALS; s++)
        for (int r = 0; r < n_runs; r++)
            if (isfinite(shares[(size_t)s * n_runs + r])) {
                /* a small fixed spread per run so equal values stay visible */
                gs_plot_value(&fig.dat, s + 0.3 * ((r % 7) / 6.0 - 0.5));
                gs_plot_value(&fig.dat, shares[(size_t)s * n_runs + r]);
                gs_plot_printf(&fig.dat, "\n");
            }
    free(v);
    gs_plot_file *g = &fig.gp;
    gs_plot_printf(g, "# lead share = (grokked - fired) / (grokked - fitted) per grokking run: 1 = the\n"
                      "# signal fired when the training set was fitted, 0 = when test accuracy reached\n"
                      "# 99%%, below 0 = after it. Runs where a signal never fired have no point.\n");
    gs_plot_printf(g, "set title 'Early-warning signals: lead time as a share of the fit-to-grok delay'\n");
    gs_plot_printf(g, "set ylabel 'lead / delay'\nset xrange [-0.7:%d.7]\n", GS_N_SIGNALS - 1);
    gs_plot_printf(g, "set xtics (");
    for (int s = 0; s < GS_N_SIGNALS; s++)
        gs_plot_printf(g, "%s'%s' %d", s ? ", " : "", gs_signal_names[s], s);
    gs_plot_printf(g, ") rotate by -30 noenhanced\nset grid ytics\nset style fill solid 0.35 noborder\n"
                      "set boxwidth 0.6\nset key below center horizontal\n");
    if (!any)
        gs_plot_printf(g, "set yrange [0:1]\nset label 1 'no signal fired on a grokking run' at graph 0.5, "
                          "graph 0.5 center\nplot NaN notitle\n");
    else
        gs_plot_printf(g, "plot data index 0 using 1:2 with boxes lc rgb '#0072B2' title 'median', \\\n"
                          "     data index 1 using 1:2 with points pt 7 ps 0.8 lc rgb '#D55E00' title 'one run', \\\n"
                          "     0 with lines lc rgb '#000000' dt 2 notitle\n");
    return gs_plot_figure_end(&fig, err);
}
