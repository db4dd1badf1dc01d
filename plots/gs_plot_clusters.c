/* Figure 6 (neuron_clusters): the MLP neurons' clusters (docs/science.md §4) from
 * /analysis/neuron_freq and neuron_frac_explained. Top: neurons per frequency, key
 * frequencies highlighted; bottom: each neuron's fraction of activation variance in its
 * best frequency, at its cluster's frequency. */
#include <stdlib.h>

#include "measures.h"
#include "plot_internal.h"

#define KEY_COLOUR GS_PLOT_TRAIN
#define OTHER_COLOUR "#56B4E9"
#define NONE_COLOUR "#9a9a9a"

static int is_key(const gs_analysis_keys *k, int w)
{
    for (int i = 0; i < k->n_key; i++)
        if (k->key_freqs[i] == w)
            return 1;
    return 0;
}

int gs_plot_fig_clusters(const gs_plot_env *env, const gs_plot_data *d, const char *dir, gs_err *err)
{
    const gs_analysis_keys *k = &d->keys;
    int *size = calloc((size_t)d->n_freq + 1, sizeof *size); /* [0]: no cluster */
    if (!size)
        return gs_err_set(err, "out of memory");
    int n_key_neurons = 0, n_other = 0;
    for (int j = 0; j < d->d_mlp; j++) {
        const int w = k->neuron_freq[j];
        size[w >= 1 && w <= d->n_freq ? w : 0]++;
        if (w >= 1 && is_key(k, w))
            n_key_neurons++;
        else if (w >= 1)
            n_other++;
    }
    gs_plot_figure fig;
    if (gs_plot_figure_begin_tall(&fig, env, dir, "neuron_clusters",
                                  "MLP neuron clusters by frequency and the variance their frequency explains",
                                  d->path, "neuron freq frac_explained", 1.3, err) != 0) {
        free(size);
        return -1;
    }
    for (int j = 0; j < d->d_mlp; j++) {
        gs_plot_printf(&fig.dat, "%d %d", j, k->neuron_freq[j]);
        gs_plot_value(&fig.dat, k->neuron_frac[j]);
        gs_plot_printf(&fig.dat, "\n");
    }
    const long last = d->rows[d->n_rows - 1].epoch;
    char what[200];
    if (k->epoch >= 0)
        snprintf(what, sizeof what, "MLP neuron clusters at epoch %ld%s", k->epoch,
                 k->epoch == last ? " (final checkpoint)" : "");
    else
        snprintf(what, sizeof what, "MLP neuron clusters (key frequencies given by the user)");
    gs_plot_file *g = &fig.gp;
    const int step = d->n_freq <= 20 ? 1 : d->n_freq <= 60 ? 5 : 10;
    gs_plot_printf(g, "# neuron_freq is -1 for a neuron in no cluster: drawn at x = none_x, 'none'\n"
                      "none_x = %d\n"
                      "is_key(w) = ", step == 1 ? -1 : -step);
    for (int i = 0; i < k->n_key; i++)
        gs_plot_printf(g, "%s(w == %d)", i ? " || " : "", k->key_freqs[i]);
    gs_plot_printf(g, "%s\n", k->n_key > 0 ? "" : "0");
    /* two panels at fixed places on the page, the legend below both */
    gs_plot_printf(g, "set multiplot title ");
    {
        char label[600], title[900];
        gs_plot_run_label(d, label, sizeof label);
        snprintf(title, sizeof title, "%s\n%s", what, label);
        gs_plot_quoted(g, title);
    }
    gs_plot_printf(g, " noenhanced\n"
                      "set lmargin at screen 0.10\n"
                      "set rmargin at screen 0.97\n"
                      "set xrange [none_x - 1:%d]\n"
                      "set xtics %d, %d, %d\n"
                      "set xtics add ('none' none_x)\n"
                      "set grid noxtics ytics\n\n",
                   d->n_freq + 1, step, step, d->n_freq);
    /* top panel: counts per frequency; key frequencies labelled over their bars */
    gs_plot_printf(g, "# top: neurons per frequency, counted by gnuplot from the freq column (a weight\n"
                      "# of 0 or 1 per neuron and category, so every category covers every x)\n"
                      "cluster(w) = w < 0 ? none_x : w\n"
                      "set title '{/*0.9 neurons per cluster}'\n"
                      "set ylabel 'neurons'\n"
                      "set yrange [0:*]\n"
                      "set offsets 0, 0, graph 0.15, 0\n"
                      "set boxwidth 0.8\n"
                      "set tmargin at screen 0.86\n"
                      "set bmargin at screen 0.60\n"
                      "unset key\n");
    int tag = 1;
    for (int w = 1; w <= d->n_freq; w++)
        if (size[w] > 0 && is_key(k, w))
            gs_plot_printf(g, "set label %d '%d' at %d, %d center offset 0, 0.7 textcolor rgb '%s'\n",
                           tag++, w, w, size[w], KEY_COLOUR);
    /* only categories that have neurons: gnuplot warns about an all-zero histogram */
    const struct {
        int n;
        const char *select, *colour, *title;
    } cat[3] = {
        {n_key_neurons, "$2 >= 1 && is_key($2)", KEY_COLOUR, "key frequency"},
        {n_other, "$2 >= 1 && !is_key($2)", OTHER_COLOUR, "other frequency"},
        {size[0], "$2 < 0", NONE_COLOUR, "no cluster"},
    };
    const char *sep = "plot ";
    for (int c = 0; c < 3; c++)
        if (cat[c].n > 0) {
            gs_plot_printf(g, "%sdata using (cluster($2)):(%s ? 1 : 0) smooth frequency with boxes lc rgb '%s'",
                           sep, cat[c].select, cat[c].colour);
            sep = ", \\\n     ";
        }
    gs_plot_printf(g, "\n\n");
    /* bottom panel: every neuron at its cluster's frequency, spread sideways */
    gs_plot_printf(g, "# bottom: every neuron at its cluster's frequency, spread sideways\n"
                      "unset label\n"
                      "set offsets 0, 0, 0, 0\n"
                      "set title '{/*0.9 fraction of each neuron''s activation variance in its best frequency}'\n"
                      "set xlabel 'frequency k of the neuron''s cluster'\n"
                      "set ylabel 'variance explained'\n"
                      "set yrange [0:1.05]\n"
                      "set ytics 0, 0.2, 1\n"
                      "# each neuron moved sideways at random (reproducibly) within its column\n"
                      "spread(x) = x + 0.6 * (rand(0) - 0.5)\n"
                      "set arrow 1 from graph 0, first %g to graph 1, first %g nohead dt (6, 4) lc rgb '#555555'\n"
                      "set tmargin at screen 0.47\n"
                      "set bmargin at screen 0.21\n"
                      "set key at screen 0.5, screen 0.005 center bottom horizontal maxrows 2 samplen 1.5\n",
                   GS_PROBE_CLUSTER_THRESHOLD, GS_PROBE_CLUSTER_THRESHOLD);
    /* the legend names the colours of both panels */
    sep = "plot ";
    for (int c = 0; c < 3; c++)
        if (cat[c].n > 0) {
            gs_plot_printf(g, "%sdata using (%s ? spread(cluster($2)) : NaN):3 with points pt 7 ps 0.5 lc rgb '%s' notitle",
                           sep, cat[c].select, cat[c].colour);
            sep = ", \\\n     ";
        }
    for (int c = 0; c < 3; c++)
        if (cat[c].n > 0)
            gs_plot_printf(g, ", \\\n     NaN with boxes lc rgb '%s' title '%s (%d neuron%s)'", cat[c].colour,
                           cat[c].title, cat[c].n, cat[c].n == 1 ? "" : "s");
    gs_plot_printf(g, ", \\\n     NaN with lines dt (6, 4) lc rgb '#555555' title 'threshold %g'\n"
                      "unset multiplot\n",
                   GS_PROBE_CLUSTER_THRESHOLD);
    free(size);
    return gs_plot_figure_end(&fig, err);
}
