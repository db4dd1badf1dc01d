/* grokscope sweep collect, and grokscope plot DIR: every point's result, analysed first
 * where a run has ended without a complete analysis, into DIR/sweep.h5 (and .csv) or
 * into the sweep's figures. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "analyse_run.h"
#include "cmd_sweep.h"
#include "commands.h"
#include "opts.h"
#include "plot.h"
#include "progress.h"

int gs_sweep_collect_results(const gs_sweep_dir *s, int threads, int quiet, const char *who, gs_sweep_result **out,
                             gs_err *err)
{
    const long n = s->plan.n_points;
    gs_sweep_result *res = calloc((size_t)n, sizeof *res);
    if (!res)
        return gs_err_set(err, "out of memory");
    /* read (and check) every point before analysing any */
    for (long i = 0; i < n; i++)
        if (gs_sweep_dir_read_point(s, i, &res[i], NULL, NULL, err) != 0) {
            free(res);
            return -1;
        }
    for (long i = 0; i < n; i++) {
        const gs_sweep_status st = res[i].status;
        if ((st != GS_SWEEP_FINISHED && st != GS_SWEEP_STOPPED_EARLY) || res[i].analysed)
            continue;
        char path[PATH_MAX];
        gs_err e;
        gs_sweep_dir_run_path(s, i, path, sizeof path);
        fprintf(stderr, "grokscope %s: analysing %s (point %ld), which has ended but is not analysed yet\n", who,
                path, i);
        if (gs_analyse_run(path, NULL, quiet, threads, e.msg) != 0) {
            fprintf(stderr, "grokscope %s: note: point %ld stays unanalysed: %s\n", who, i, e.msg);
            continue;
        }
        if (gs_sweep_dir_read_point(s, i, &res[i], NULL, NULL, err) != 0) {
            free(res);
            return -1;
        }
    }
    *out = res;
    return 0;
}

int gs_sweep_cmd_collect(int argc, char **argv)
{
    gs_err err;
    gs_sweep_dir_opts o;
    if (gs_sweep_parse_dir_opts(argc, argv, "collect", "--csv", "grokscope sweep collect DIR [--csv]", &o, &err) != 0)
        return gs_sweep_fail(&err);
    const char *dir = o.dir;
    const int csv = o.flag, quiet = o.quiet;
    const long threads = o.threads;
    gs_sweep_dir s;
    if (gs_sweep_dir_open(&s, dir, &err) != 0)
        return gs_sweep_fail(&err);
    gs_sweep_result *res = NULL;
    char h5[PATH_MAX], csv_path[PATH_MAX];
    snprintf(h5, sizeof h5, "%s/sweep.h5", dir);
    snprintf(csv_path, sizeof csv_path, "%s/sweep.csv", dir);
    int rc = gs_sweep_collect_results(&s, (int)threads, quiet, "sweep collect", &res, &err);
    if (rc == 0)
        rc = gs_sweep_table_write_h5(h5, &s.plan, res, &err);
    if (rc == 0 && csv)
        rc = gs_sweep_table_write_csv(csv_path, &s.plan, res, &err);
    if (rc == 0) {
        long ended = 0, classes[GS_SWEEP_N_CLASSES] = {0};
        for (long i = 0; i < s.plan.n_points; i++) {
            ended += res[i].cls >= 0;
            if (res[i].cls >= 0)
                classes[res[i].cls]++;
        }
        printf("wrote %s%s%s: %ld points, %ld ended (%ld comprehension, %ld grokking, %ld memorization, "
               "%ld confusion)\n", h5, csv ? " and " : "", csv ? csv_path : "", s.plan.n_points, ended,
               classes[GS_SWEEP_COMPREHENSION], classes[GS_SWEEP_GROKKING], classes[GS_SWEEP_MEMORIZATION],
               classes[GS_SWEEP_CONFUSION]);
        if (ended < s.plan.n_points)
            printf("note: %ld points have not ended; their rows say pending, unfinished or unreadable and have "
                   "no class\n", s.plan.n_points - ended);
    }
    free(res);
    gs_sweep_dir_close(&s);
    return rc == 0 ? 0 : gs_sweep_fail(&err);
}

/* ---- grokscope plot DIR ---- */

int gs_sweep_is_dir(const char *path)
{
    char plan[PATH_MAX];
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode))
        return 0;
    snprintf(plan, sizeof plan, "%s/%s", path, GS_SWEEP_PLAN_FILE);
    return stat(plan, &st) == 0;
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

static int plot_fail(const gs_err *err)
{
    fprintf(stderr, "grokscope plot: %s\n", err->msg);
    return GS_EXIT_USAGE;
}

int gs_cmd_plot_sweep(int argc, char **argv)
{
    gs_err err;
    const char *dir = NULL, *out = NULL, *axis_name[3] = {NULL, NULL, NULL};
    static const char *const axis_opt[3] = {"--x", "--y", "--facet"};
    gs_plot_format format = GS_PLOT_PNG;
    long threads = 0;
    int quiet = 0;
    for (int i = 1; i < argc; i++) {
        const char *val;
        int r, matched = 0;
        for (int k = 0; k < 3 && !matched; k++)
            if ((r = gs_opt_value(argv, argc, &i, axis_opt[k], &val, err.msg)) != 0) {
                if (r < 0)
                    return plot_fail(&err);
                axis_name[k] = val;
                matched = 1;
            }
        if (matched)
            continue;
        if ((r = gs_opt_value(argv, argc, &i, "--out", &val, err.msg)) != 0) {
            if (r < 0)
                return plot_fail(&err);
            if (!val[0]) {
                gs_err_set(&err, "--out: empty directory name");
                return plot_fail(&err);
            }
            out = val;
        } else if ((r = gs_opt_value(argv, argc, &i, "--format", &val, err.msg)) != 0) {
            if (r < 0)
                return plot_fail(&err);
            if (gs_plot_format_parse(val, &format) != 0) {
                gs_err_set(&err, "--format: '%s' is not png, svg or pdf", val);
                return plot_fail(&err);
            }
        } else if ((r = gs_opt_value(argv, argc, &i, "--threads", &val, err.msg)) != 0) {
            if (r < 0 || gs_parse_long("--threads", val, 1, 256, &threads, err.msg) != 0)
                return plot_fail(&err);
        } else if (strcmp(argv[i], "--quiet") == 0 || strcmp(argv[i], "-q") == 0) {
            quiet = 1;
        } else if (argv[i][0] != '-' && !dir) {
            dir = argv[i];
        } else {
            gs_err_set(&err, "unexpected argument '%s' with a sweep directory (see grokscope plot --help)", argv[i]);
            return plot_fail(&err);
        }
    }
    char gnuplot[4096];
    if (gs_plot_find_gnuplot(gnuplot, sizeof gnuplot) != 0) {
        gs_err_set(&err, "gnuplot not found; install it with: apt-get install gnuplot-nox");
        return plot_fail(&err);
    }
    gs_sweep_dir s;
    if (gs_sweep_dir_open(&s, dir, &err) != 0)
        return plot_fail(&err);
    gs_plot_sweep sw = {.dir = dir, .plan = &s.plan};
    gs_sweep_result *res = NULL;
    char outdir[PATH_MAX];
    snprintf(outdir, sizeof outdir, "%s", out ? out : dir);
    if (!out)
        snprintf(outdir, sizeof outdir, "%s/plots", dir);
    int rc = gs_plot_sweep_axes(&sw, axis_name[0], axis_name[1], axis_name[2], &err);
    if (rc == 0)
        rc = gs_sweep_collect_results(&s, (int)threads, quiet, "plot", &res, &err);
    if (rc == 0) {
        sw.res = res;
        gs_plot_env env = {.format = format, .gnuplot = gnuplot, .written = gs_plot_print_image, .note = gs_plot_print_note};
        rc = gs_plot_mkdirs(outdir, &err);
        if (rc == 0)
            rc = gs_plot_sweep_figures(&env, &sw, outdir, &err);
    }
    free(res);
    gs_sweep_dir_close(&s);
    return rc == 0 ? 0 : plot_fail(&err);
}
