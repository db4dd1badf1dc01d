/* The house style shared by the figures: titles naming the run, the epoch axis, and the
 * three phases of SPEC §6 as shaded, labelled bands. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "plot_internal.h"

void gs_plot_run_label(const gs_plot_data *d, char *out, size_t size)
{
    snprintf(out, size, "%s:  p = %d,  op = %s,  frac = %g,  seed = %lld", d->name, d->cfg.p,
             gs_op_name(d->cfg.op), d->cfg.frac, (long long)d->cfg.seed);
}

void gs_plot_title(gs_plot_file *gp, const char *what, const gs_plot_data *d)
{
    char label[600], title[800];
    gs_plot_run_label(d, label, sizeof label);
    snprintf(title, sizeof title, "%s\n%s", what, label);
    gs_plot_printf(gp, "set title ");
    gs_plot_quoted(gp, title);
    gs_plot_printf(gp, " noenhanced\n");
}

void gs_plot_epoch_axis(gs_plot_file *gp, long last_epoch)
{
    gs_plot_printf(gp, "set xlabel 'epoch (optimizer steps)'\n"
                       "set xrange [0:%ld]\n"
                       "set format x '%%.0f'\n",
                   last_epoch > 0 ? last_epoch : 1);
}

int gs_plot_rows_finite(const gs_plot_data *d, size_t field)
{
    for (long i = 0; i < d->n_rows; i++) {
        double v;
        memcpy(&v, (const char *)&d->rows[i] + field, sizeof v);
        if (isfinite(v))
            return 1;
    }
    return 0;
}

/* A band's name above the plot, if it fits over the band (a rough width per character
 * as a fraction of the plot's width); the legend names every band anyway. */
static void band_label(gs_plot_file *gp, int tag, const char *text, const char *from,
                       const char *to, double width_frac, const char *ink)
{
    if (width_frac < 0.012 * (double)strlen(text))
        return;
    gs_plot_printf(gp, "set label %d \"{/*0.85 %s}\" at (%s + %s) / 2.0, graph 1 center offset 0, 0.7 "
                       "front textcolor rgb '%s'\n",
                   tag, text, from, to, ink);
}

static const struct {
    const char *label, *from, *to, *fill, *ink;
} bands[3] = {
    {"memorization", "0", "mem_end", "#dfeaf6", "#2c5d8a"},
    {"circuit formation", "mem_end", "circuit_end", "#e0f2e6", "#2b6a3d"},
    {"cleanup", "circuit_end", "cleanup_end", "#fbecd6", "#8a560f"},
};

static void band_epochs(const gs_analysis_phases *ph, long *a, long *b)
{
    a[0] = 0;
    b[0] = ph->memorization_end;
    a[1] = ph->memorization_end;
    b[1] = ph->circuit_end;
    a[2] = ph->circuit_end;
    b[2] = ph->cleanup_end;
}

void gs_plot_phases(gs_plot_file *gp, const gs_plot_data *d, double x_lo, double x_hi)
{
    const gs_analysis_phases *ph = &d->phases;
    const double span = x_hi > x_lo ? x_hi - x_lo : 1.0;
    long a[3], b[3];
    band_epochs(ph, a, b);
    gs_plot_printf(gp, "# The phases of Nanda et al. (epochs, from /analysis/phase_epochs; -1 = not\n"
                       "# reached): memorization ends when train accuracy reaches 99%%, cleanup ends\n"
                       "# when test accuracy does, circuit formation ends where the test loss starts\n"
                       "# its final fall (see docs/plots.md). Shaded bands, named above the plot\n"
                       "# where the name fits and in the legend.\n");
    gs_plot_printf(gp, "mem_end = %ld\ncircuit_end = %ld\ncleanup_end = %ld\n",
                   ph->memorization_end, ph->circuit_end, ph->cleanup_end);
    gs_plot_printf(gp, "set tmargin 5\n");
    for (int k = 0; k < 3; k++) {
        if (a[k] < 0 || b[k] < 0)
            continue;
        gs_plot_printf(gp, "set object %d rect from %s, graph 0 to %s, graph 1 behind "
                           "fillcolor rgb '%s' fillstyle solid 1.0 noborder\n",
                       101 + k, bands[k].from, bands[k].to, bands[k].fill);
        band_label(gp, 101 + k, bands[k].label, bands[k].from, bands[k].to,
                   (double)(b[k] - a[k]) / span, bands[k].ink);
    }
    gs_plot_printf(gp, "\n");
}

void gs_plot_phase_keys(gs_plot_file *gp, const gs_plot_data *d)
{
    const gs_analysis_phases *ph = &d->phases;
    long a[3], b[3];
    band_epochs(ph, a, b);
    for (int k = 0; k < 3; k++)
        if (a[k] >= 0 && b[k] >= 0)
            gs_plot_printf(gp, ", \\\n     NaN with boxes fillcolor rgb '%s' title sprintf('%s %%d–%%d', %s, %s)",
                           bands[k].fill, bands[k].label, bands[k].from, bands[k].to);
    /* a legend entry without a sample: a white line on the white background */
    if (ph->memorization_end < 0)
        gs_plot_printf(gp, ", \\\n     NaN with lines lc rgb 'white' title 'not memorized (train acc. < 99%%)'");
    else if (ph->cleanup_end < 0)
        gs_plot_printf(gp, ", \\\n     NaN with lines lc rgb 'white' title 'not grokked (test acc. < 99%%)'");
}
