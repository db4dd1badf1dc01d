/* The house style shared by the figures: titles naming the run, the epoch axis, and the
 * three phases (analysis/phases.h) as shaded, labelled bands with the grokked event. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "phases.h"
#include "plot_internal.h"

void gs_plot_run_label(const gs_plot_data *d, char *out, size_t size)
{
    if (d->cfg.task == GS_TASK_MNIST) {
        snprintf(out, size, "%s:  mnist,  train %d,  test %d,  seed = %lld", d->name,
                 d->cfg.train_size, d->cfg.test_size, (long long)d->cfg.seed);
        return;
    }
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

const char *gs_plot_loss_label(const gs_config *cfg)
{
    /* /metrics holds the loss the run trained on (docs/interventions.md): naming it keeps an
     * MSE run's 10^-3 from reading as a cross-entropy near perfect. /analysis recomputes the
     * plain cross-entropy whatever the run trained on, so the checkpoint figures keep that. */
    switch (cfg->loss) {
    case GS_LOSS_STABLEMAX:
        return "StableMax cross-entropy loss (nats, log scale)";
    case GS_LOSS_MSE:
        return "mean squared error on one-hot targets (log scale)";
    default:
        return "cross-entropy loss (nats, log scale)";
    }
}

void gs_plot_epoch_axis(gs_plot_file *gp, long last_epoch)
{
    gs_plot_printf(gp, "set xlabel 'epoch (optimizer steps)'\n"
                       "set xrange [0:%ld]\n"
                       "set format x '%%.0f'\n",
                   last_epoch > 0 ? last_epoch : 1);
}

void gs_plot_checkpoint_frame(gs_plot_file *gp, const char *what, const gs_plot_data *d)
{
    const long last = d->rows[d->n_rows - 1].epoch;
    gs_plot_title(gp, what, d);
    gs_plot_epoch_axis(gp, last);
    gs_plot_phases(gp, d, 0, (double)(last > 0 ? last : 1));
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

#define GROKKED_INK "#555555"

/* Band k runs from a[k] to b[k]; open[k] = 1 for the phase still going on when the
 * data end (b[k] = -1; it is shaded to the end of the data). a[k] = -1: not begun. */
static void band_epochs(const gs_analysis_phases *ph, long *a, long *b, int *open)
{
    a[0] = ph->through >= 0 ? 0 : -1;
    b[0] = ph->memorization_end;
    a[1] = ph->memorization_end;
    b[1] = ph->circuit_end;
    a[2] = ph->circuit_end;
    b[2] = ph->cleanup_end;
    for (int k = 0; k < 3; k++)
        open[k] = a[k] >= 0 && b[k] < 0;
}

void gs_plot_phases(gs_plot_file *gp, const gs_plot_data *d, double x_lo, double x_hi)
{
    const gs_analysis_phases *ph = &d->phases;
    const double span = x_hi > x_lo ? x_hi - x_lo : 1.0;
    long a[3], b[3];
    int open[3];
    band_epochs(ph, a, b, open);
    gs_plot_printf(gp, "# The phases of Nanda et al. (docs/analysis.md), epochs from\n"
                       "# /analysis/phase_epochs, -1 = not reached: memorization ends at the\n"
                       "# test loss's peak once the training set is fitted (train accuracy >= %.0f%%);\n"
                       "# circuit formation ends when the test loss starts its sharp fall; cleanup\n"
                       "# ends when the test loss, the weight norm and the Gini coefficients have\n"
                       "# levelled off. A phase not finished by the end of the data (data_end) is\n"
                       "# shaded to the end of the plot and its legend says so. grokked (test\n"
                       "# accuracy first >= %.0f%%) is an event, not a boundary: the dashed line at\n"
                       "# epoch grokked.\n"
                       "# Shaded bands, named above the plot where the name fits and in the legend.\n",
                   100 * GS_PHASE_ACC, 100 * GS_PHASE_ACC);
    gs_plot_printf(gp, "mem_end = %ld\ncircuit_end = %ld\ncleanup_end = %ld\ngrokked = %ld\n"
                       "data_end = %ld\n",
                   ph->memorization_end, ph->circuit_end, ph->cleanup_end, ph->grokked,
                   ph->through);
    gs_plot_printf(gp, "set tmargin 5\n");
    for (int k = 0; k < 3; k++) {
        if (a[k] < 0 || (b[k] < 0 && !open[k]))
            continue;
        char to[32]; /* an open band reaches the end of the plot */
        if (open[k])
            snprintf(to, sizeof to, "%.0f", x_hi);
        else
            snprintf(to, sizeof to, "%s", bands[k].to);
        gs_plot_printf(gp, "set object %d rect from %s, graph 0 to %s, graph 1 behind "
                           "fillcolor rgb '%s' fillstyle solid 1.0 noborder\n",
                       101 + k, bands[k].from, to, bands[k].fill);
        band_label(gp, 101 + k, bands[k].label, bands[k].from, to,
                   ((open[k] ? x_hi : (double)b[k]) - (double)a[k]) / span, bands[k].ink);
    }
    if (ph->grokked >= 0)
        gs_plot_printf(gp, "set arrow 110 from grokked, graph 0 to grokked, graph 1 nohead front "
                           "dashtype (6, 4) lw 1.5 lc rgb '%s'\n",
                       GROKKED_INK);
    gs_plot_printf(gp, "\n");
}

void gs_plot_phase_keys(gs_plot_file *gp, const gs_plot_data *d)
{
    const gs_analysis_phases *ph = &d->phases;
    long a[3], b[3];
    int open[3];
    band_epochs(ph, a, b, open);
    for (int k = 0; k < 3; k++) {
        if (a[k] >= 0 && b[k] >= 0)
            gs_plot_printf(gp, ", \\\n     NaN with boxes fillcolor rgb '%s' title sprintf('%s %%d–%%d', %s, %s)",
                           bands[k].fill, bands[k].label, bands[k].from, bands[k].to);
        else if (open[k]) /* short enough for two legend columns */
            gs_plot_printf(gp, ", \\\n     NaN with boxes fillcolor rgb '%s' title sprintf('%s from %%d, "
                               "unfinished', %s)",
                           bands[k].fill, bands[k].label, bands[k].from);
    }
    if (ph->grokked >= 0)
        gs_plot_printf(gp, ", \\\n     NaN with lines dashtype (6, 4) lw 1.5 lc rgb '%s' "
                           "title 'grokked (test acc. ≥ %.0f%%)'",
                       GROKKED_INK, 100 * GS_PHASE_ACC);
    /* legend entries without a sample: a white line on the white background */
    else if (ph->through >= 0)
        gs_plot_printf(gp, ", \\\n     NaN with lines lc rgb 'white' title 'not grokked (test acc. < %.0f%%)'",
                       100 * GS_PHASE_ACC);
    if (ph->outdated || ph->through < 0)
        gs_plot_printf(gp, ", \\\n     NaN with lines lc rgb 'white' title 'phases not found "
                           "(run grokscope analyze)'");
}
