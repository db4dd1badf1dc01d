/* grokscope demo: a small run that really groks, trained and summarised in one go. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "grokscope.h"
#include "commands.h"
#include "opts.h"
#include "plot.h"
#include "progress.h"
#include "train_run.h"

static const char demo_usage[] =
    "usage: grokscope demo [DIR] [--threads N] [--quiet]\n"
    "\n"
    "Trains the paper's model on (a + b) mod 113 with half of the pairs for training\n"
    "(frac 0.5, seed 0), which groks in about 1,000-1,200 epochs, writes DIR/demo.h5\n"
    "(default DIR: grokscope-demo), analyses its checkpoints, prints a summary and\n"
    "draws the figures into DIR/plots (needs gnuplot).\n"
    "Re-running overwrites it.\n";

/* The demo configuration: the paper's model and optimizer on the easier split
 * (frac 0.5 instead of 0.3), which groks in about 1,000-1,200 epochs. */
static void demo_config(gs_config *c)
{
    gs_config_default(c);
    c->frac = 0.5;
    c->epochs = 1500;
    c->every = 50;
}

static void print_image(void *ctx, const char *image)
{
    (void)ctx;
    printf("  %s\n", image);
}

/* The demo ends with its figures; without gnuplot it says how to get them. */
static int demo_plots(const char *dir, const char *path)
{
    char gnuplot[4096], plots[4096];
    gs_err err;
    if (gs_plot_find_gnuplot(gnuplot, sizeof gnuplot) != 0) {
        printf("figures: gnuplot not found; install it with: apt-get install gnuplot-nox, "
               "then run: grokscope plot %s\n", path);
        return 0;
    }
    snprintf(plots, sizeof plots, "%s/plots", dir);
    gs_plot_data data;
    gs_plot_env env = {.format = GS_PLOT_PNG, .gnuplot = gnuplot, .written = print_image};
    if (gs_plot_mkdirs(plots, &err) != 0 || gs_plot_data_load(&data, path, &err) != 0) {
        fprintf(stderr, "grokscope demo: %s\n", err.msg);
        return GS_EXIT_USAGE;
    }
    printf("figures (data and gnuplot script beside each image):\n");
    int rc = gs_plot_run_figures(&env, &data, plots, &err);
    gs_plot_data_free(&data);
    if (rc != 0) {
        fprintf(stderr, "grokscope demo: %s\n", err.msg);
        return GS_EXIT_USAGE;
    }
    return 0;
}

int gs_cmd_demo(int argc, char **argv)
{
    if (gs_wants_help(argc, argv)) {
        fputs(demo_usage, stdout);
        return 0;
    }
    gs_err err;
    const char *dir = "grokscope-demo";
    gs_train_job job = {0};
    demo_config(&job.cfg);
    int have_dir = 0;
    for (int i = 1; i < argc; i++) {
        const char *val;
        long v;
        int r = gs_opt_value(argv, argc, &i, "--threads", &val, &err);
        if (r < 0)
            return gs_fail("demo", &err);
        if (r) {
            if (gs_parse_long("--threads", val, 1, 256, &v, &err) != 0)
                return gs_fail("demo", &err);
            job.threads = (int)v;
        } else if (strcmp(argv[i], "--quiet") == 0) {
            job.quiet = 1;
        } else if (argv[i][0] != '-' && !have_dir) {
            dir = argv[i];
            have_dir = 1;
        } else {
            gs_err_set(&err, "unexpected argument '%s' (see grokscope demo --help)", argv[i]);
            return gs_fail("demo", &err);
        }
    }
    if (mkdir(dir, 0777) != 0 && errno != EEXIST) {
        gs_err_set(&err, "cannot create directory %s: %s", dir, strerror(errno));
        return gs_fail("demo", &err);
    }
    char path[4096], cmdline[4096];
    snprintf(path, sizeof path, "%s/demo.h5", dir);
    gs_join_args(cmdline, sizeof cmdline, argc, argv);
    job.out = path;
    job.force = 1;
    job.command_line = cmdline;
    printf("grokscope demo: training (a + b) mod %d, frac %g, %ld epochs -> %s\n", job.cfg.p,
           job.cfg.frac, job.cfg.epochs, path);
    fflush(stdout);
    int status = gs_train_run(&job, &err);
    if (status != 0) {
        fprintf(stderr, "grokscope demo: %s\n", err.msg);
        return status;
    }
    printf("grokscope demo: analysing the checkpoints (Fourier-basis progress measures)\n");
    fflush(stdout);
    grokscope_analysis *an = grokscope_analysis_new();
    gs_progress pr;
    gs_progress_start(&pr, "checkpoint", 0, 0, job.quiet);
    int code = an ? grokscope_analysis_set_progress(an, gs_progress_callback, &pr) : GROKSCOPE_ERR_NOMEM;
    if (code == GROKSCOPE_OK)
        code = grokscope_analysis_set_threads(an, job.threads);
    if (code == GROKSCOPE_OK)
        code = grokscope_analysis_run(an, path);
    gs_progress_end(&pr);
    if (code != GROKSCOPE_OK) {
        fprintf(stderr, "grokscope demo: %s\n", an ? grokscope_analysis_error(an) : "out of memory");
        grokscope_analysis_free(an);
        return GS_EXIT_USAGE;
    }
    grokscope_analysis_free(an);
    char *info_argv[] = {"info", path, NULL};
    status = gs_cmd_info(2, info_argv);
    if (status != 0)
        return status;
    printf("\nrun file: %s  (inspect with: grokscope info %s)\n", path, path);
    return demo_plots(dir, path);
}
