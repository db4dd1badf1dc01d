/* grokscope sweep score DIR: the early-warning signals scored over every ended run of a
 * sweep (analysis/score.h, docs/early-warning.md): a table on stdout and in
 * DIR/score.tsv, and the figure DIR/plots/sweep_score. */
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd_sweep.h"
#include "commands.h"
#include "opts.h"
#include "plot.h"
#include "score.h"

/* The forecast of one analysed run from its file. */
static int run_forecast(const char *path, gs_forecast *f, gs_err *err)
{
    gs_run *run;
    if (gs_run_open(&run, path, GS_RUN_READ, 0, err) != 0)
        return -1;
    gs_forecast_data fd;
    int rc = gs_forecast_load(run, &fd, err);
    gs_run_close(run, NULL);
    if (rc != 0)
        return -1;
    gs_forecast_compute(&fd.in, f);
    gs_forecast_data_free(&fd);
    return 0;
}

static int write_tsv(const char *path, const gs_score *sc, gs_err *err)
{
    char tmp[PATH_MAX + 8];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f)
        return gs_err_set(err, "%s: cannot write", tmp);
    gs_score_print(sc, f, 1);
    /* write a new file and rename it: an old table is never left half-written */
    if (fclose(f) != 0 || rename(tmp, path) != 0) {
        remove(tmp);
        return gs_err_set(err, "%s: cannot write", path);
    }
    return 0;
}

int gs_sweep_cmd_score(int argc, char **argv)
{
    gs_err err = {0};
    gs_sweep_dir_opts o;
    if (gs_sweep_parse_dir_opts(argc, argv, "score", "--no-plot", "grokscope sweep score DIR", &o, &err) != 0)
        return gs_sweep_fail(&err);
    const char *dir = o.dir;
    const int quiet = o.quiet, plot = !o.flag;
    const long threads = o.threads;
    gs_sweep_dir s;
    if (gs_sweep_dir_open(&s, dir, &err) != 0)
        return gs_sweep_fail(&err);
    gs_sweep_result *res = NULL;
    const long n = s.plan.n_points;
    gs_forecast *f = calloc((size_t)(n > 0 ? n : 1), sizeof *f);
    double *shares = NULL;
    int rc = f ? gs_sweep_collect_results(&s, (int)threads, quiet, "sweep score", &res, &err)
               : gs_err_set(&err, "out of memory");
    int used = 0;
    for (long i = 0; i < n && rc == 0; i++) {
        if (res[i].cls < 0 || !res[i].analysed)
            continue; /* not ended, or its analysis failed (collect said why) */
        char path[PATH_MAX];
        gs_sweep_dir_run_path(&s, i, path, sizeof path);
        rc = run_forecast(path, &f[used], &err);
        used += rc == 0;
    }
    if (rc == 0 && used == 0)
        rc = gs_err_set(&err, "score: %s has no ended and analysed run to score", dir);
    gs_score sc;
    if (rc == 0 && !(shares = malloc((size_t)GS_N_SIGNALS * used * sizeof *shares)))
        rc = gs_err_set(&err, "out of memory");
    if (rc == 0)
        rc = gs_score_runs(f, used, &sc, shares, &err);
    char tsv[PATH_MAX];
    snprintf(tsv, sizeof tsv, "%s/score.tsv", dir);
    if (rc == 0)
        rc = write_tsv(tsv, &sc, &err);
    if (rc == 0) {
        gs_score_print(&sc, stdout, 0);
        printf("wrote %s\n", tsv);
    }
    if (rc == 0 && plot) {
        char gnuplot[4096], outdir[PATH_MAX], source[PATH_MAX + 64];
        if (gs_plot_find_gnuplot(gnuplot, sizeof gnuplot) != 0) {
            fprintf(stderr, "grokscope sweep score: note: gnuplot not found, no figure (apt-get install "
                            "gnuplot-nox)\n");
        } else {
            snprintf(outdir, sizeof outdir, "%s/plots", dir);
            snprintf(source, sizeof source, "sweep %s, %d scored runs", dir, used);
            gs_plot_env env = {.format = GS_PLOT_PNG, .gnuplot = gnuplot, .written = gs_plot_print_image,
                               .note = gs_plot_print_note};
            rc = gs_plot_mkdirs(outdir, &err);
            if (rc == 0)
                rc = gs_plot_sweep_score(&env, source, shares, used, outdir, &err);
        }
    }
    free(shares);
    free(f);
    free(res);
    gs_sweep_dir_close(&s);
    return rc == 0 ? 0 : gs_sweep_fail(&err);
}
