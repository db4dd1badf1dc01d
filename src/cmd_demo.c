/* grokscope demo: a small run that really groks, trained and summarised in one go. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "commands.h"
#include "grokscope.h"
#include "opts.h"
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
static grokscope_config *demo_config(void)
{
    grokscope_config *c = grokscope_config_new();
    if (c && (grokscope_config_set(c, "frac", "0.5") != GROKSCOPE_OK ||
              grokscope_config_set(c, "epochs", "1500") != GROKSCOPE_OK ||
              grokscope_config_set(c, "every", "50") != GROKSCOPE_OK)) {
        grokscope_config_free(c);
        return NULL;
    }
    return c;
}

static void print_image(void *ctx, const char *image)
{
    (void)ctx;
    printf("  %s\n", image);
}

/* The demo ends with its figures; without gnuplot it says how to get them. */
static int demo_plots(const char *dir, const char *path)
{
    char plots[4096];
    grokscope_plot *pl = grokscope_plot_new();
    if (!pl) {
        fprintf(stderr, "grokscope demo: out of memory\n");
        return GS_EXIT_USAGE;
    }
    if (!grokscope_plot_gnuplot(pl)) {
        printf("figures: gnuplot not found; install it with: apt-get install gnuplot-nox, "
               "then run: grokscope plot %s\n", path);
        grokscope_plot_free(pl);
        return 0;
    }
    snprintf(plots, sizeof plots, "%s/plots", dir);
    grokscope_plot_set_callbacks(pl, print_image, NULL, NULL);
    int rc = grokscope_plot_load(pl, path);
    if (rc == GROKSCOPE_OK) {
        printf("figures (data and gnuplot script beside each image):\n");
        rc = grokscope_plot_draw_run(pl, 0, plots);
    }
    if (rc != GROKSCOPE_OK)
        fprintf(stderr, "grokscope demo: %s\n", grokscope_plot_error(pl));
    grokscope_plot_free(pl);
    return rc == GROKSCOPE_OK ? 0 : GS_EXIT_USAGE;
}

int gs_cmd_demo(int argc, char **argv)
{
    if (gs_wants_help(argc, argv)) {
        fputs(demo_usage, stdout);
        return 0;
    }
    gs_cli_err err;
    const char *dir = "grokscope-demo";
    gs_train_job job = {0};
    int have_dir = 0;
    for (int i = 1; i < argc; i++) {
        const char *val;
        long v;
        int r = gs_opt_value(argv, argc, &i, "--threads", &val, err.msg);
        if (r < 0)
            return gs_fail("demo", err.msg);
        if (r) {
            if (gs_parse_long("--threads", val, 1, 256, &v, err.msg) != 0)
                return gs_fail("demo", err.msg);
            job.threads = (int)v;
        } else if (strcmp(argv[i], "--quiet") == 0) {
            job.quiet = 1;
        } else if (argv[i][0] != '-' && !have_dir) {
            dir = argv[i];
            have_dir = 1;
        } else {
            gs_cli_set(err.msg, "unexpected argument '%s' (see grokscope demo --help)", argv[i]);
            return gs_fail("demo", err.msg);
        }
    }
    if (mkdir(dir, 0777) != 0 && errno != EEXIST) {
        gs_cli_set(err.msg, "cannot create directory %s: %s", dir, strerror(errno));
        return gs_fail("demo", err.msg);
    }
    job.cfg = demo_config();
    if (!job.cfg) {
        gs_cli_set(err.msg, "out of memory");
        return gs_fail("demo", err.msg);
    }
    char path[4096], cmdline[4096];
    snprintf(path, sizeof path, "%s/demo.h5", dir);
    gs_join_args(cmdline, sizeof cmdline, argc, argv);
    job.out = path;
    job.force = 1;
    job.command_line = cmdline;
    int64_t p = 0, epochs = 0;
    double frac = 0;
    grokscope_config_get_int(job.cfg, "p", &p);
    grokscope_config_get_int(job.cfg, "epochs", &epochs);
    grokscope_config_get_double(job.cfg, "frac", &frac);
    printf("grokscope demo: training (a + b) mod %d, frac %g, %ld epochs -> %s\n", (int)p, frac,
           (long)epochs, path);
    fflush(stdout);
    int status = gs_train_run(&job, err.msg);
    gs_train_job_free(&job);
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
