/* gs_plot: the figures of a run (and of several runs side by side), drawn by gnuplot.
 *
 * Every figure NAME is three files in one directory: NAME.dat (whitespace columns under
 * one "# name name ..." header line), NAME.gp (a standalone gnuplot script that reads
 * NAME.dat from its own directory) and the image NAME.png|svg|pdf. The .dat and .gp are
 * written under temporary names and renamed when complete, and gnuplot draws into a
 * temporary image that is renamed only if gnuplot succeeds, so a full disk or a
 * failing gnuplot never leaves a half-written file under a final name.
 *
 * Functions return 0, or -1 with one line in err naming the file. */
#ifndef GS_PLOT_H
#define GS_PLOT_H

#include <stddef.h>

#include "circuit.h"
#include "runfile_analysis.h"
#include "sweep_result.h"

typedef enum { GS_PLOT_PNG, GS_PLOT_SVG, GS_PLOT_PDF } gs_plot_format;

/* "png", "svg", "pdf" */
int gs_plot_format_parse(const char *s, gs_plot_format *out);
const char *gs_plot_format_ext(gs_plot_format f);

/* Where and how figures are drawn. */
typedef struct {
    gs_plot_format format;
    const char *gnuplot;     /* absolute path of the gnuplot binary */
    /* Called with each image's path once it is in place (may be NULL). */
    void (*written)(void *ctx, const char *image_path);
    /* Called with a line gnuplot printed although it succeeded (a warning); may be NULL. */
    void (*note)(void *ctx, const char *line);
    void *ctx;
} gs_plot_env;

/* Looks gnuplot up in PATH as execvp would; writes its absolute path into out.
 * 0 if found, -1 if not. */
int gs_plot_find_gnuplot(char *out, size_t size);

/* Everything the figures show of one run, read once from its file. The run's analysis
 * must be complete (one /analysis row per checkpoint): gs_plot_data_load refuses
 * anything less rather than plot part of a run. */
typedef struct {
    char path[4096];         /* the run file as given */
    char name[256];          /* its file name, for titles */
    gs_config cfg;
    int p, d_mlp;
    int n_basis;             /* order n of the circuit basis Z_n (core/circuit.h); 0: none */
    int n_freq;              /* its frequencies 1..n / 2 */
    int have_circuit;        /* restricted and excluded loss exist for the op */
    char circuit_note[GS_CIRCUIT_NOTE_MAX]; /* why not, if not (gs_run_circuit_note) */
    int have_embed;          /* the model has an embedding matrix (gs_run_model_note) */
    int have_neuron_logit;   /* ... and a neuron-logit map W_out W_U */
    char model_note[GS_MODEL_NOTE_MAX];
    long n_metrics;          /* per-epoch rows */
    gs_metrics_row *metrics;
    long n_rows;             /* analysed checkpoints (= all checkpoints) */
    gs_analysis_row *rows;   /* their Fourier norm arrays point into norms */
    double *norms;           /* [n_rows][2 p] */
    gs_analysis_keys keys;   /* neuron_freq and neuron_frac point into owned buffers */
    gs_analysis_phases phases;
} gs_plot_data;

int gs_plot_data_load(gs_plot_data *d, const char *path, gs_err *err);
void gs_plot_data_free(gs_plot_data *d);

/* Figures 1-6 of one run into dir (which must exist). */
int gs_plot_run_figures(const gs_plot_env *env, const gs_plot_data *d, const char *dir,
                        gs_err *err);

/* Figure 7: the losses of 2..GS_PLOT_MAX_RUNS runs overlaid, labelled by what differs
 * in their configs, into dir. */
#define GS_PLOT_MAX_RUNS 32
int gs_plot_compare_figure(const gs_plot_env *env, const gs_plot_data *runs, int n_runs,
                           const char *dir, gs_err *err);

/* ---- a sweep (gs_plot_sweep*.c, docs/sweeps.md) ---- */

/* What the figures of a sweep show: its plan, every point's result, and which axes
 * are drawn how. Each panel is one combination of the values of the panel axes (every
 * axis other than x, y and the replicate axis). */
typedef struct {
    const char *dir;              /* the sweep directory; run files are dir/plan->file[i] */
    const gs_sweep_plan *plan;
    const gs_sweep_result *res;   /* [plan->n_points] */
    int x, y;                     /* axis drawn along x and y; -1 = none */
    int replicate;                /* axis averaged over (the seeds); -1 = none */
    int n_panel_axes;
    int panel_axes[GS_SWEEP_MAX_AXES];
} gs_plot_sweep;

/* Chooses the axes of sw->plan: x, y and facet (the first panel axis) as named (NULL =
 * the plan's first unused axes other than the seed); the seed axis is the replicate
 * axis unless named. Sets x, y, replicate and the panel axes. */
int gs_plot_sweep_axes(gs_plot_sweep *sw, const char *x, const char *y, const char *facet, gs_err *err);
/* The figures of a sweep into dir: sweep_phase_diagram (outcome class per cell, a
 * strip per seed), sweep_grok_epoch (epoch test accuracy reached 99%, log colour
 * scale), sweep_delay (delay against x, a line per y value, seeds as error bars) and
 * sweep_test_acc (every run's test accuracy, coloured by class). */
int gs_plot_sweep_figures(const gs_plot_env *env, const gs_plot_sweep *sw, const char *dir, gs_err *err);

/* mkdir -p; 0 or -1 with err. */
int gs_plot_mkdirs(const char *dir, gs_err *err);

/* sweep_score (docs/early-warning.md): per early-warning signal, the lead time as a
 * share of the fit-to-grok delay on every grokking run where it fired (points) and
 * their median (bar), from gs_score_runs' shares [GS_N_SIGNALS * n_runs]; source names
 * the sweep in the script's header. */
int gs_plot_sweep_score(const gs_plot_env *env, const char *source, const double *shares,
                        int n_runs, const char *dir, gs_err *err);

#endif
