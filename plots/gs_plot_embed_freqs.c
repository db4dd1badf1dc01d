/* Figure 5 (embed_freqs): a heatmap of the embedding's norm per frequency over the
 * checkpoints. Frequency k combines the cos k and sin k rows of F W_E as
 * sqrt(cos^2 + sin^2); the key frequencies show as bright rows and are marked on the
 * right axis. */
#include <math.h>

#include "plot_internal.h"

/* The norm of frequency w (1..n_freq) from the per-component norms, whose first n are
 * the Fourier components of the circuit basis Z_n (for add n = p). For even n the
 * Nyquist frequency n/2 has a cos row only. */
static double freq_norm(const double *comp, int n, int w)
{
    double c = comp[2 * w - 1], s = 2 * w < n ? comp[2 * w] : 0.0;
    return sqrt(c * c + s * s);
}

int gs_plot_fig_embed_freqs(const gs_plot_env *env, const gs_plot_data *d, const char *dir, gs_err *err)
{
    gs_plot_figure fig;
    if (gs_plot_figure_begin(&fig, env, dir, "embed_freqs",
                             "norm of the embedding W_E per frequency per checkpoint (heatmap)", d->path,
                             "epoch freq norm epoch_lo epoch_hi", err) != 0)
        return -1;
    /* Each checkpoint's cell spans half-way to its neighbours, so uneven checkpoint
     * spacing (a last checkpoint off the grid) is drawn truthfully. */
    for (long i = 0; i < d->n_rows; i++) {
        const double e = (double)d->rows[i].epoch;
        double lo = e - 0.5, hi = e + 0.5;
        if (d->n_rows > 1) {
            const double prev = i > 0 ? (double)d->rows[i - 1].epoch : 2 * e - (double)d->rows[i + 1].epoch;
            const double next = i + 1 < d->n_rows ? (double)d->rows[i + 1].epoch : 2 * e - prev;
            lo = 0.5 * (prev + e);
            hi = 0.5 * (e + next);
        }
        for (int w = 1; w <= d->n_freq; w++) {
            gs_plot_printf(&fig.dat, "%ld %d", d->rows[i].epoch, w);
            gs_plot_value(&fig.dat, freq_norm(d->rows[i].embed_fourier_norm, d->n_basis, w));
            gs_plot_value(&fig.dat, lo);
            gs_plot_value(&fig.dat, hi);
            gs_plot_printf(&fig.dat, "\n");
        }
        gs_plot_printf(&fig.dat, "\n"); /* one block per checkpoint (gnuplot grid layout) */
    }
    const long first = d->rows[0].epoch, last = d->rows[d->n_rows - 1].epoch;
    gs_plot_file *g = &fig.gp;
    gs_plot_title(g, "Embedding norm per frequency", d);
    gs_plot_printf(g, "set xlabel 'epoch (optimizer steps)'\n"
                      "set format x '%%.0f'\n"
                      "set xrange [%ld:%ld]\n"
                      "set ylabel 'frequency k'\n"
                      "set yrange [0.5:%d.5]\n"
                      "set ytics %s\n"
                      "set cblabel '‖W_E‖ in frequency k = sqrt(‖cos k‖^2 + ‖sin k‖^2)'\n"
                      "set cbrange [0:*]\n"
                      "set cbtics\n"
                      "# viridis: dark = small norm, bright = large\n"
                      "set palette defined (0 '#440154', 1 '#3b528b', 2 '#21918c', 3 '#5ec962', 4 '#fde725')\n"
                      "unset grid\n"
                      "set tics front\n"
                      "unset key\n"
                      "set lmargin at screen 0.09\n"
                      "set rmargin at screen 0.80\n"
                      "set colorbox user origin screen 0.88, screen 0.14 size screen 0.022, screen 0.68\n",
                   first, last > first ? last : first + 1, d->n_freq,
                   d->n_freq <= 20 ? "1" : d->n_freq <= 60 ? "5" : "10");
    if (d->keys.n_key > 0) {
        gs_plot_printf(g, "# the key frequencies (/analysis/key_freqs), labelled on the right\n"
                          "set y2range [0.5:%d.5]\n"
                          "set y2label 'key frequencies' textcolor rgb '#b2182b'\n"
                          "set y2tics out textcolor rgb '#b2182b' (",
                       d->n_freq);
        /* runs of adjacent keys share one label, so that "41 42" does not overprint */
        for (int k = 0; k < d->keys.n_key;) {
            int j = k;
            while (j + 1 < d->keys.n_key && d->keys.key_freqs[j + 1] == d->keys.key_freqs[j] + 1)
                j++;
            if (j == k)
                gs_plot_printf(g, "%s'%d' %d", k ? ", " : "", d->keys.key_freqs[k], d->keys.key_freqs[k]);
            else
                gs_plot_printf(g, "%s'%d-%d' %.1f", k ? ", " : "", d->keys.key_freqs[k], d->keys.key_freqs[j],
                               0.5 * (d->keys.key_freqs[k] + d->keys.key_freqs[j]));
            k = j + 1;
        }
        gs_plot_printf(g, ")\n");
    }
    /* cells overlap by a hair so that antialiasing leaves no seams between them */
    gs_plot_printf(g, "\n# columns 4 and 5 are each cell's epoch range, half-way to its neighbours\n"
                      "dx = %g\n"
                      "plot data using 1:2:($4 - dx):($5 + dx):($2 - 0.52):($2 + 0.52):3 with boxxyerror "
                      "fillstyle solid 1.0 noborder fillcolor palette\n",
                   0.002 * (double)(last > first ? last - first : 1));
    return gs_plot_figure_end(&fig, err);
}
