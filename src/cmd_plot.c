/* grokscope plot: the figures of one or more runs, drawn by gnuplot, each with its data
 * and a script kept beside the image for restyling. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyse_run.h"
#include "cmd_sweep_plot.h"
#include "commands.h"
#include "grokscope.h"
#include "opts.h"
#include "progress.h"

static const char plot_usage[] =
    "usage: grokscope plot RUN.h5 [MORE.h5 ...] [--out DIR] [--format png|svg|pdf]\n"
    "       grokscope plot SWEEP-DIR [--x AXIS] [--y AXIS] [--facet AXIS] [--out DIR] [--format F]\n"
    "\n"
    "Draws the figures of a run with gnuplot: train/test loss and test accuracy per epoch\n"
    "(loss), the paper's main figure with train, test, restricted and excluded loss and\n"
    "the three phases shaded (progress_measures), the Gini coefficients of W_E and W_L\n"
    "(gini), the sum of squared weights (weight_norm), the embedding's norm per frequency\n"
    "over training (embed_freqs) and the neuron clusters of the final checkpoint\n"
    "(neuron_clusters). With several runs, also their losses overlaid, labelled by what\n"
    "differs in their configs (compare_loss). Each figure NAME is NAME.dat (the data),\n"
    "NAME.gp (the gnuplot script: edit it and run `gnuplot NAME.gp` to restyle) and the\n"
    "image. A run not analysed yet is analysed first (as grokscope analyze would).\n"
    "\n"
    "  --out DIR        where the figures go; default RUN-plots beside RUN.h5. With several\n"
    "                   runs: DIR/RUN/ for each run's figures and DIR for the overlay; by\n"
    "                   default RUN-plots beside each run and FIRST-compare-plots for the\n"
    "                   overlay, beside the first run\n"
    "  --format F       png (default), svg or pdf\n"
    "  --threads N      OpenBLAS threads for an analysis it has to run (default: all CPUs)\n"
    "  --quiet          no progress line while analysing\n"
    "\n"
    "A sweep directory (grokscope sweep create) gets the sweep's figures, into SWEEP-DIR/plots\n"
    "by default: the phase diagram (sweep_phase_diagram: the outcome class of each run over\n"
    "two axes, a panel per value of the others, a strip per seed), the epoch test accuracy\n"
    "reached 99% (sweep_grok_epoch), the delay against the x axis with the seeds as error\n"
    "bars (sweep_delay) and every run's test accuracy coloured by class (sweep_test_acc).\n"
    "--x, --y, --facet choose the axes (default: the sweep's first axes other than seed).\n";

/* path without a trailing ".h5" */
static void stem(const char *path, char *out, size_t size)
{
    size_t n = strlen(path);
    if (n > 3 && strcmp(path + n - 3, ".h5") == 0)
        n -= 3;
    snprintf(out, size, "%.*s", (int)n, path);
}

static const char *base_name(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

/* Brings the run's analysis up to date if it does not cover every checkpoint, saying
 * so on stderr. Key frequencies the user gave (analyze --key-freqs) are kept. */
static int ensure_analysis(const char *path, int quiet, int threads, char *msg)
{
    grokscope_run *run;
    if (grokscope_run_open(path, &run) != GROKSCOPE_OK) {
        gs_cli_set(msg, "%s", run ? grokscope_run_error(run) : "out of memory");
        grokscope_run_close(run);
        return -1;
    }
    const int n_ck = grokscope_run_n_checkpoints(run);
    const long analyzed = grokscope_run_n_analyzed(run), n_done = analyzed > 0 ? analyzed : 0;
    char keys[GS_KEYS_TEXT];
    int rc = 0;
    keys[0] = '\0';
    if (n_ck == 0)
        rc = gs_cli_set(msg, "%s: the run has no checkpoint yet, so it cannot be analysed or plotted", path);
    else if (analyzed < 0)
        rc = gs_cli_set(msg, "%s: the file has no /analysis group (written by another program?)", path);
    else if (n_done < n_ck)
        rc = gs_user_keys(run, keys, msg);
    grokscope_run_close(run);
    if (rc != 0 || n_done >= n_ck)
        return rc;
    if (n_done == 0)
        fprintf(stderr, "grokscope plot: %s has no analysis yet; analysing its %d checkpoints first\n", path, n_ck);
    else
        fprintf(stderr, "grokscope plot: the analysis of %s covers %ld of %d checkpoints; analysing the rest first\n",
                path, n_done, n_ck);
    return gs_analyse_run(path, keys, quiet, threads, msg);
}

void gs_plot_print_image(void *ctx, const char *path)
{
    (void)ctx;
    printf("%s\n", path);
    fflush(stdout);
}

void gs_plot_print_note(void *ctx, const char *line)
{
    (void)ctx;
    fprintf(stderr, "grokscope plot: note: %s\n", line);
}

static int plot_fail(grokscope_plot *pl, const char *msg)
{
    grokscope_plot_free(pl);
    return gs_fail("plot", msg);
}

int gs_cmd_plot(int argc, char **argv)
{
    if (gs_wants_help(argc, argv)) {
        fputs(plot_usage, stdout);
        return 0;
    }
    if (gs_sweep_plot_wanted(argc, argv))
        return gs_cmd_plot_sweep(argc, argv);
    gs_cli_err err;
    const char *out = NULL, *paths[GROKSCOPE_PLOT_MAX_RUNS];
    int n_runs = 0, quiet = 0;
    long threads = 0;
    grokscope_plot *pl = grokscope_plot_new();
    if (!pl)
        return gs_fail("plot", "out of memory");
    for (int i = 1; i < argc; i++) {
        const char *val;
        int r;
        if ((r = gs_opt_value(argv, argc, &i, "--out", &val, err.msg)) != 0) {
            if (r < 0)
                return plot_fail(pl, err.msg);
            if (!val[0])
                return plot_fail(pl, "--out: empty directory name");
            out = val;
        } else if ((r = gs_opt_value(argv, argc, &i, "--format", &val, err.msg)) != 0) {
            if (r < 0)
                return plot_fail(pl, err.msg);
            if (grokscope_plot_set_format(pl, val) != GROKSCOPE_OK) {
                gs_cli_set(err.msg, "--format: '%s' is not png, svg or pdf", val);
                return plot_fail(pl, err.msg);
            }
        } else if ((r = gs_opt_value(argv, argc, &i, "--threads", &val, err.msg)) != 0) {
            if (r < 0 || gs_parse_long("--threads", val, 1, 256, &threads, err.msg) != 0)
                return plot_fail(pl, err.msg);
        } else if (strcmp(argv[i], "--quiet") == 0 || strcmp(argv[i], "-q") == 0) {
            quiet = 1;
        } else if (argv[i][0] != '-') {
            if (n_runs == GROKSCOPE_PLOT_MAX_RUNS) {
                gs_cli_set(err.msg, "more than %d runs given", GROKSCOPE_PLOT_MAX_RUNS);
                return plot_fail(pl, err.msg);
            }
            paths[n_runs++] = argv[i];
        } else {
            gs_cli_set(err.msg, "unexpected argument '%s' (see grokscope plot --help)", argv[i]);
            return plot_fail(pl, err.msg);
        }
    }
    if (n_runs == 0)
        return plot_fail(pl, "expected a run file (usage: grokscope plot RUN.h5 [MORE.h5 ...])");
    if (!grokscope_plot_gnuplot(pl))
        return plot_fail(pl, "gnuplot not found; install it with: apt-get install gnuplot-nox");
    grokscope_plot_set_callbacks(pl, gs_plot_print_image, gs_plot_print_note, NULL);
    /* where each run's figures go; two runs must not share a directory */
    char (*dirs)[4200] = calloc((size_t)n_runs + 1, sizeof *dirs);
    int rc = -1;
    if (!dirs) {
        gs_cli_set(err.msg, "out of memory");
        goto fail;
    }
    for (int i = 0; i < n_runs; i++) {
        char s[4096];
        if (out && n_runs > 1) {
            stem(base_name(paths[i]), s, sizeof s);
            snprintf(dirs[i], sizeof dirs[i], "%s/%s", out, s);
        } else if (out) {
            snprintf(dirs[i], sizeof dirs[i], "%s", out);
        } else {
            stem(paths[i], s, sizeof s);
            snprintf(dirs[i], sizeof dirs[i], "%s-plots", s);
        }
        for (int j = 0; j < i; j++)
            if (strcmp(dirs[i], dirs[j]) == 0) {
                gs_cli_set(err.msg, "%s and %s would both be plotted into %s; rename one", paths[j],
                           paths[i], dirs[i]);
                goto fail;
            }
    }
    if (n_runs > 1) {
        char s[4096];
        stem(paths[0], s, sizeof s);
        if (out)
            snprintf(dirs[n_runs], sizeof dirs[n_runs], "%s", out);
        else
            snprintf(dirs[n_runs], sizeof dirs[n_runs], "%s-compare-plots", s);
    }
    for (int i = 0; i < n_runs; i++) {
        if (ensure_analysis(paths[i], quiet, (int)threads, err.msg) != 0)
            goto fail;
        if (grokscope_plot_load(pl, paths[i]) != GROKSCOPE_OK)
            goto fail_lib;
    }
    for (int i = 0; i < n_runs; i++)
        if (grokscope_plot_draw_run(pl, i, dirs[i]) != GROKSCOPE_OK)
            goto fail_lib;
    if (n_runs > 1 && grokscope_plot_draw_compare(pl, dirs[n_runs]) != GROKSCOPE_OK)
        goto fail_lib;
    rc = 0;
    goto fail;
fail_lib:
    gs_cli_set(err.msg, "%s", grokscope_plot_error(pl));
fail:
    free(dirs);
    grokscope_plot_free(pl);
    return rc == 0 ? 0 : gs_fail("plot", err.msg);
}
