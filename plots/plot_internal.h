/* Shared by the figure writers of plots/: the all-or-nothing text file, the figure
 * frame (data + script + gnuplot run), and the house style of the scripts. */
#ifndef GS_PLOT_INTERNAL_H
#define GS_PLOT_INTERNAL_H

#include <stdio.h>

#include "plot.h"

/* ---- gs_plot_file.c: a text file written under a temporary name ---- */

typedef struct {
    FILE *fp;
    char tmp[4352], final[4352];
    int err_no;              /* errno of the first failed write; 0 while all is well */
} gs_plot_file;

/* Creates dir/.NAME.tmp-PID for writing; the final name is dir/NAME. */
int gs_plot_file_open(gs_plot_file *f, const char *dir, const char *name, gs_err *err);
/* fprintf whose failure is remembered (and reported by close). */
void gs_plot_printf(gs_plot_file *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* " value": %.17g (exact round trip), NaN and Inf spelled as gnuplot reads them. */
void gs_plot_value(gs_plot_file *f, double v);
/* A gnuplot double-quoted string holding s ('\n' in s stays a line break). */
void gs_plot_quoted(gs_plot_file *f, const char *s);
/* Flushes, syncs and closes; reports the first failed write. The temp file stays. */
int gs_plot_file_close(gs_plot_file *f, gs_err *err);
/* Renames the closed temp file to its final name. */
int gs_plot_file_commit(gs_plot_file *f, gs_err *err);
/* Closes (if open) and removes the temp file; safe to call twice. */
void gs_plot_file_discard(gs_plot_file *f);

/* ---- gs_plot_gnuplot.c: running gnuplot on a script ---- */

/* Runs `gnuplot -e "outfile='OUTFILE'" SCRIPT` with cwd = dir, stdin and stdout on
 * /dev/null, stderr captured. Returns 0 if gnuplot exited with status 0, -1 otherwise
 * with err naming the script and quoting gnuplot's message. *warning receives the first
 * line gnuplot printed on success (empty if none). */
int gs_plot_gnuplot_run(const char *gnuplot, const char *dir, const char *script,
                        const char *outfile, char *warning, size_t warning_size, gs_err *err);

/* ---- gs_plot_figure.c: one figure = NAME.dat + NAME.gp + image ---- */

typedef struct {
    const gs_plot_env *env;
    const char *dir, *name;
    gs_plot_file dat, gp;
} gs_plot_figure;

/* Opens NAME.dat (writes the "# columns" header line) and NAME.gp (writes the preamble:
 * what it draws and from which run, the script-directory lookup, `data` and `outfile`
 * variables, the terminal for env->format and the house style). */
int gs_plot_figure_begin(gs_plot_figure *fig, const gs_plot_env *env, const char *dir,
                         const char *name, const char *what, const char *source,
                         const char *columns, gs_err *err);
/* The same for a figure `tall` times the usual height (stacked panels). */
int gs_plot_figure_begin_tall(gs_plot_figure *fig, const gs_plot_env *env, const char *dir,
                              const char *name, const char *what, const char *source,
                              const char *columns, double tall, gs_err *err);
/* Closes and commits both files, runs gnuplot, puts the image in place and reports
 * it; discards everything on failure. */
int gs_plot_figure_end(gs_plot_figure *fig, gs_err *err);
void gs_plot_figure_discard(gs_plot_figure *fig);

/* ---- gs_plot_style.c: titles, labels and phases in the house style ---- */

/* Colours (Okabe-Ito, safe for colour-blind readers). */
#define GS_PLOT_TRAIN "#0072B2"
#define GS_PLOT_TEST "#D55E00"
#define GS_PLOT_RESTRICTED "#009E73"
#define GS_PLOT_EXCLUDED "#CC79A7"
#define GS_PLOT_ACC "#E69F00"
#define GS_PLOT_GREY "#7f7f7f"

/* "R.h5:  p = 113,  op = add,  frac = 0.3,  seed = 0" */
void gs_plot_run_label(const gs_plot_data *d, char *out, size_t size);
/* `set title "WHAT\nRUN LABEL" noenhanced` */
void gs_plot_title(gs_plot_file *gp, const char *what, const gs_plot_data *d);
/* Shades the phases of /analysis/phase_epochs (variables mem_end, circuit_end,
 * cleanup_end, grokked, data_end in the script) over the x range [x_lo, x_hi], named
 * above the plot where the name fits; a phase not finished by the end of the data is
 * shaded to x_hi; grokked is a dashed vertical line. Before the plot command. */
void gs_plot_phases(gs_plot_file *gp, const gs_plot_data *d, double x_lo, double x_hi);
/* Appends the phases' legend entries (", NaN with boxes ...": epochs, or "from N,
 * unfinished") and the grokked line's (or "not grokked") to a plot command. */
void gs_plot_phase_keys(gs_plot_file *gp, const gs_plot_data *d);
/* The y label of a per-epoch (/metrics) loss axis: the loss the run trained on. */
const char *gs_plot_loss_label(const gs_config *cfg);
/* `set xrange [0:last]` and the epoch axis label. */
void gs_plot_epoch_axis(gs_plot_file *gp, long last_epoch);
/* The frame of a per-checkpoint (/analysis) figure: its title, the epoch axis up to the
 * last analysed checkpoint, and the phases shaded over it. */
void gs_plot_checkpoint_frame(gs_plot_file *gp, const char *what, const gs_plot_data *d);
/* 1 if the double at byte offset `field` of any analysis row is finite. */
int gs_plot_rows_finite(const gs_plot_data *d, size_t field);

/* ---- one file per figure ---- */

int gs_plot_fig_loss(const gs_plot_env *env, const gs_plot_data *d, const char *dir, gs_err *err);
int gs_plot_fig_progress(const gs_plot_env *env, const gs_plot_data *d, const char *dir, gs_err *err);
int gs_plot_fig_gini(const gs_plot_env *env, const gs_plot_data *d, const char *dir, gs_err *err);
int gs_plot_fig_weight_norm(const gs_plot_env *env, const gs_plot_data *d, const char *dir, gs_err *err);
int gs_plot_fig_embed_freqs(const gs_plot_env *env, const gs_plot_data *d, const char *dir, gs_err *err);
int gs_plot_fig_clusters(const gs_plot_env *env, const gs_plot_data *d, const char *dir, gs_err *err);

#endif
