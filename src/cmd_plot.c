/* grokscope plot: the figures of one or more runs, drawn by gnuplot, each with its data
 * and a script kept beside the image for restyling. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyze.h"
#include "cmd_sweep.h"
#include "commands.h"
#include "opts.h"
#include "plot.h"
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
static int ensure_analysis(const char *path, int quiet, gs_err *err)
{
    gs_run *run;
    if (gs_run_open(&run, path, GS_RUN_READ, 0, err) != 0)
        return -1;
    const int n_ck = gs_run_n_checkpoints(run);
    const long n_done = gs_run_has_analysis(run) ? gs_run_n_analyzed(run) : 0;
    gs_analyze_opts o;
    gs_analyze_opts_default(&o);
    o.path = path;
    int rc = 0;
    if (n_ck == 0) {
        rc = gs_err_set(err, "%s: the run has no checkpoint yet, so it cannot be analysed or plotted", path);
    } else if (!gs_run_has_analysis(run)) {
        rc = gs_err_set(err, "%s: the file has no /analysis group (written by another program?)", path);
    } else if (n_done < n_ck) {
        const int d_mlp = gs_run_dims(run)->d_mlp;
        int *nf = malloc((size_t)d_mlp * sizeof *nf);
        double *frac = malloc((size_t)d_mlp * sizeof *frac);
        gs_analysis_keys keys = {.neuron_freq = nf, .neuron_frac = frac};
        if (!nf || !frac)
            rc = gs_err_set(err, "out of memory");
        else if ((rc = gs_run_read_keys(run, &keys, err)) == 0 && keys.n_key >= 0 && keys.epoch < 0) {
            o.n_user_keys = keys.n_key;
            memcpy(o.user_keys, keys.key_freqs, (size_t)keys.n_key * sizeof(int));
        }
        free(nf);
        free(frac);
    }
    gs_run_close(run, NULL);
    if (rc != 0 || n_done >= n_ck)
        return rc;
    if (n_done == 0)
        fprintf(stderr, "grokscope plot: %s has no analysis yet; analysing its %d checkpoints first\n", path, n_ck);
    else
        fprintf(stderr, "grokscope plot: the analysis of %s covers %ld of %d checkpoints; analysing the rest first\n",
                path, n_done, n_ck);
    gs_progress pr;
    gs_progress_start(&pr, "checkpoint", 0, 0, quiet);
    o.progress = gs_progress_callback;
    o.progress_ctx = &pr;
    rc = gs_analyze_run(&o, err);
    gs_progress_end(&pr);
    return rc;
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

int gs_cmd_plot(int argc, char **argv)
{
    if (gs_wants_help(argc, argv)) {
        fputs(plot_usage, stdout);
        return 0;
    }
    if (gs_sweep_plot_wanted(argc, argv))
        return gs_cmd_plot_sweep(argc, argv);
    gs_err err;
    const char *out = NULL, *paths[GS_PLOT_MAX_RUNS];
    int n_runs = 0, quiet = 0;
    long threads = 0;
    gs_plot_format format = GS_PLOT_PNG;
    for (int i = 1; i < argc; i++) {
        const char *val;
        int r;
        if ((r = gs_opt_value(argv, argc, &i, "--out", &val, &err)) != 0) {
            if (r < 0)
                return gs_fail("plot", &err);
            if (!val[0]) {
                gs_err_set(&err, "--out: empty directory name");
                return gs_fail("plot", &err);
            }
            out = val;
        } else if ((r = gs_opt_value(argv, argc, &i, "--format", &val, &err)) != 0) {
            if (r < 0)
                return gs_fail("plot", &err);
            if (gs_plot_format_parse(val, &format) != 0) {
                gs_err_set(&err, "--format: '%s' is not png, svg or pdf", val);
                return gs_fail("plot", &err);
            }
        } else if ((r = gs_opt_value(argv, argc, &i, "--threads", &val, &err)) != 0) {
            if (r < 0 || gs_parse_long("--threads", val, 1, 256, &threads, &err) != 0)
                return gs_fail("plot", &err);
        } else if (strcmp(argv[i], "--quiet") == 0 || strcmp(argv[i], "-q") == 0) {
            quiet = 1;
        } else if (argv[i][0] != '-') {
            if (n_runs == GS_PLOT_MAX_RUNS) {
                gs_err_set(&err, "more than %d runs given", GS_PLOT_MAX_RUNS);
                return gs_fail("plot", &err);
            }
            paths[n_runs++] = argv[i];
        } else {
            gs_err_set(&err, "unexpected argument '%s' (see grokscope plot --help)", argv[i]);
            return gs_fail("plot", &err);
        }
    }
    if (n_runs == 0) {
        gs_err_set(&err, "expected a run file (usage: grokscope plot RUN.h5 [MORE.h5 ...])");
        return gs_fail("plot", &err);
    }
    char gnuplot[4096];
    if (gs_plot_find_gnuplot(gnuplot, sizeof gnuplot) != 0) {
        gs_err_set(&err, "gnuplot not found; install it with: apt-get install gnuplot-nox");
        return gs_fail("plot", &err);
    }
    /* where each run's figures go; two runs must not share a directory */
    char (*dirs)[4200] = calloc((size_t)n_runs + 1, sizeof *dirs);
    gs_plot_data *data = calloc((size_t)n_runs, sizeof *data);
    int rc = GS_EXIT_USAGE, loaded = 0;
    if (!dirs || !data) {
        gs_err_set(&err, "out of memory");
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
                gs_err_set(&err, "%s and %s would both be plotted into %s; rename one", paths[j], paths[i],
                           dirs[i]);
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
    gs_set_threads((int)threads);
    for (int i = 0; i < n_runs; i++) {
        if (ensure_analysis(paths[i], quiet, &err) != 0 || gs_plot_data_load(&data[i], paths[i], &err) != 0)
            goto fail;
        loaded = i + 1;
    }
    gs_plot_env env = {.format = format, .gnuplot = gnuplot, .written = gs_plot_print_image, .note = gs_plot_print_note};
    for (int i = 0; i < n_runs; i++)
        if (gs_plot_mkdirs(dirs[i], &err) != 0 || gs_plot_run_figures(&env, &data[i], dirs[i], &err) != 0)
            goto fail;
    if (n_runs > 1 && (gs_plot_mkdirs(dirs[n_runs], &err) != 0 ||
                       gs_plot_compare_figure(&env, data, n_runs, dirs[n_runs], &err) != 0))
        goto fail;
    rc = 0;
fail:
    for (int i = 0; i < loaded; i++)
        gs_plot_data_free(&data[i]);
    free(data);
    free(dirs);
    return rc == 0 ? 0 : gs_fail("plot", &err);
}
