/* grokscope sweep collect, and grokscope plot DIR: every point's result, analysed first
 * where a run has ended without a complete analysis, into DIR/sweep.h5 (and .csv) or
 * into the sweep's figures. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyse_run.h"
#include "cmd_sweep.h"
#include "commands.h"
#include "opts.h"
#include "progress.h"

int gs_sweep_collect_results(grokscope_sweep *sw, int threads, int quiet, const char *who,
                             grokscope_sweep_point **out, char *msg)
{
    const long n = grokscope_sweep_n_points(sw);
    grokscope_sweep_point *res = calloc((size_t)(n > 0 ? n : 1), sizeof *res);
    if (!res)
        return gs_cli_set(msg, "out of memory");
    /* read (and check) every point before analysing any */
    for (long i = 0; i < n; i++)
        if (gs_sweep_dir_read_point(sw, i, &res[i], msg) != 0) {
            free(res);
            return -1;
        }
    for (long i = 0; i < n; i++) {
        const grokscope_point_status st = res[i].status;
        if ((st != GROKSCOPE_POINT_FINISHED && st != GROKSCOPE_POINT_STOPPED_EARLY) || res[i].analysed)
            continue;
        char path[PATH_MAX];
        gs_cli_err e;
        grokscope_sweep_run_path(sw, i, path, sizeof path);
        fprintf(stderr, "grokscope %s: analysing %s (point %ld), which has ended but is not analysed yet\n", who,
                path, i);
        if (gs_analyse_run(path, NULL, quiet, threads, e.msg) != 0) {
            fprintf(stderr, "grokscope %s: note: point %ld stays unanalysed: %s\n", who, i, e.msg);
            continue;
        }
        if (gs_sweep_dir_read_point(sw, i, &res[i], msg) != 0) {
            free(res);
            return -1;
        }
    }
    *out = res;
    return 0;
}

int gs_sweep_cmd_collect(int argc, char **argv)
{
    gs_cli_err err;
    gs_sweep_dir_opts o;
    if (gs_sweep_parse_dir_opts(argc, argv, "collect", "--csv", "grokscope sweep collect DIR [--csv]", &o, err.msg) != 0)
        return gs_sweep_fail(err.msg);
    const char *dir = o.dir;
    const int csv = o.flag, quiet = o.quiet;
    const long threads = o.threads;
    grokscope_sweep *sw;
    if (gs_sweep_dir_open(dir, &sw, err.msg) != 0)
        return gs_sweep_fail(err.msg);
    const long n_points = grokscope_sweep_n_points(sw);
    grokscope_sweep_point *res = NULL;
    char h5[PATH_MAX], csv_path[PATH_MAX];
    snprintf(h5, sizeof h5, "%s/sweep.h5", dir);
    snprintf(csv_path, sizeof csv_path, "%s/sweep.csv", dir);
    int rc = gs_sweep_collect_results(sw, (int)threads, quiet, "sweep collect", &res, err.msg);
    if (rc == 0 && (grokscope_sweep_write_table(sw, h5, 0) != GROKSCOPE_OK ||
                    (csv && grokscope_sweep_write_table(sw, csv_path, 1) != GROKSCOPE_OK)))
        rc = gs_cli_set(err.msg, "%s", grokscope_sweep_error(sw));
    if (rc == 0) {
        long ended = 0, classes[GROKSCOPE_N_CLASSES] = {0};
        for (long i = 0; i < n_points; i++) {
            ended += res[i].cls >= 0;
            if (res[i].cls >= 0)
                classes[res[i].cls]++;
        }
        printf("wrote %s%s%s: %ld points, %ld ended (%ld comprehension, %ld grokking, %ld memorization, "
               "%ld confusion)\n", h5, csv ? " and " : "", csv ? csv_path : "", n_points, ended,
               classes[GROKSCOPE_CLASS_COMPREHENSION], classes[GROKSCOPE_CLASS_GROKKING],
               classes[GROKSCOPE_CLASS_MEMORIZATION], classes[GROKSCOPE_CLASS_CONFUSION]);
        if (ended < n_points)
            printf("note: %ld points have not ended; their rows say pending, unfinished or unreadable and have "
                   "no class\n", n_points - ended);
    }
    free(res);
    grokscope_sweep_free(sw);
    return rc == 0 ? 0 : gs_sweep_fail(err.msg);
}

/* ---- grokscope plot DIR ---- */

int gs_sweep_is_dir(const char *path)
{
    return grokscope_sweep_is_dir(path);
}

int gs_sweep_plot_wanted(int argc, char **argv)
{
    static const char *const with_value[] = {"--out", "--format", "--threads", "--x", "--y", "--facet"};
    for (int i = 1; i < argc; i++) {
        int value_next = 0;
        for (size_t k = 0; k < sizeof with_value / sizeof *with_value; k++)
            value_next |= strcmp(argv[i], with_value[k]) == 0;
        if (value_next)
            i++; /* the option's value (e.g. --out DIR) is not what is plotted */
        else if (argv[i][0] != '-')
            return gs_sweep_is_dir(argv[i]);
    }
    return 0;
}

static int plot_fail(const char *msg)
{
    fprintf(stderr, "grokscope plot: %s\n", msg);
    return GS_EXIT_USAGE;
}

int gs_cmd_plot_sweep(int argc, char **argv)
{
    gs_cli_err err;
    const char *dir = NULL, *out = NULL, *axis_name[3] = {NULL, NULL, NULL};
    static const char *const axis_opt[3] = {"--x", "--y", "--facet"};
    long threads = 0;
    int quiet = 0, rc = GS_EXIT_USAGE;
    grokscope_plot *pl = grokscope_plot_new();
    grokscope_sweep *sw = NULL;
    grokscope_sweep_point *res = NULL;
    if (!pl)
        return plot_fail("out of memory");
    for (int i = 1; i < argc; i++) {
        const char *val;
        int r, matched = 0;
        for (int k = 0; k < 3 && !matched; k++)
            if ((r = gs_opt_value(argv, argc, &i, axis_opt[k], &val, err.msg)) != 0) {
                if (r < 0)
                    goto out;
                axis_name[k] = val;
                matched = 1;
            }
        if (matched)
            continue;
        if ((r = gs_opt_value(argv, argc, &i, "--out", &val, err.msg)) != 0) {
            if (r < 0)
                goto out;
            if (!val[0]) {
                gs_cli_set(err.msg, "--out: empty directory name");
                goto out;
            }
            out = val;
        } else if ((r = gs_opt_value(argv, argc, &i, "--format", &val, err.msg)) != 0) {
            if (r < 0)
                goto out;
            if (grokscope_plot_set_format(pl, val) != GROKSCOPE_OK) {
                gs_cli_set(err.msg, "--format: '%s' is not png, svg or pdf", val);
                goto out;
            }
        } else if ((r = gs_opt_value(argv, argc, &i, "--threads", &val, err.msg)) != 0) {
            if (r < 0 || gs_parse_long("--threads", val, 1, 256, &threads, err.msg) != 0)
                goto out;
        } else if (strcmp(argv[i], "--quiet") == 0 || strcmp(argv[i], "-q") == 0) {
            quiet = 1;
        } else if (argv[i][0] != '-' && !dir) {
            dir = argv[i];
        } else {
            gs_cli_set(err.msg, "unexpected argument '%s' with a sweep directory (see grokscope plot --help)", argv[i]);
            goto out;
        }
    }
    if (!grokscope_plot_gnuplot(pl)) {
        gs_cli_set(err.msg, "gnuplot not found; install it with: apt-get install gnuplot-nox");
        goto out;
    }
    grokscope_plot_set_callbacks(pl, gs_plot_print_image, gs_plot_print_note, NULL);
    if (gs_sweep_dir_open(dir, &sw, err.msg) != 0)
        goto out;
    char outdir[PATH_MAX];
    snprintf(outdir, sizeof outdir, "%s", out ? out : dir);
    if (!out)
        snprintf(outdir, sizeof outdir, "%s/plots", dir);
    rc = 0;
    if (grokscope_sweep_set_plot_axes(sw, axis_name[0], axis_name[1], axis_name[2]) != GROKSCOPE_OK)
        rc = gs_cli_set(err.msg, "%s", grokscope_sweep_error(sw));
    if (rc == 0)
        rc = gs_sweep_collect_results(sw, (int)threads, quiet, "plot", &res, err.msg);
    if (rc == 0 && grokscope_plot_draw_sweep(pl, sw, outdir) != GROKSCOPE_OK)
        rc = gs_cli_set(err.msg, "%s", grokscope_plot_error(pl));
out:
    free(res);
    grokscope_sweep_free(sw);
    grokscope_plot_free(pl);
    return rc == 0 ? 0 : plot_fail(err.msg);
}
