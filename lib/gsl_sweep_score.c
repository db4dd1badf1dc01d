/* grokscope_sweep: the early-warning signals scored over the ended and analysed points
 * of a sweep (analysis/score.h, docs/early-warning.md "Scoring"), each point's
 * forecast recomputed from its run file. */
#include "gsl_sweep.h"

#include <limits.h>
#include <stdlib.h>

#include "runfile.h"

/* The forecast of one analysed run from its file. */
static int run_forecast(const char *path, gs_forecast *f, gs_err *err)
{
    gs_run *run;
    gsl_h5_lock();
    int rc = gs_run_open(&run, path, GS_RUN_READ, 0, err);
    gs_forecast_data fd;
    if (rc == 0) {
        rc = gs_forecast_load(run, &fd, err);
        gs_run_close(run, NULL);
    }
    gsl_h5_unlock();
    if (rc != 0)
        return -1;
    gs_forecast_compute(&fd.in, f);
    gs_forecast_data_free(&fd);
    return 0;
}

int grokscope_sweep_score(grokscope_sweep *sw, int *n_scored)
{
    int rc = gsl_sweep_need_results(sw, "the score");
    if (rc != GROKSCOPE_OK)
        return rc;
    sw->have_score = 0;
    sw->n_scored = 0;
    free(sw->shares);
    sw->shares = NULL;
    const long n = sw->plan.n_points;
    gs_forecast *f = calloc((size_t)(n > 0 ? n : 1), sizeof *f);
    if (!f)
        return GSL_SET(sw, GROKSCOPE_ERR_NOMEM, "out of memory");
    gs_err err = {0};
    int used = 0;
    for (long i = 0; i < n && rc == GROKSCOPE_OK; i++) {
        if (sw->res[i].cls < 0 || !sw->res[i].analysed)
            continue; /* not ended, or its analysis failed */
        char path[PATH_MAX];
        snprintf(path, sizeof path, "%s/%s", sw->dir, sw->plan.file[i]);
        if (run_forecast(path, &f[used], &err) != 0)
            rc = GSL_FAIL(sw, &err);
        else
            used++;
    }
    if (rc == GROKSCOPE_OK && used > 0) {
        if (!(sw->shares = malloc((size_t)GS_N_SIGNALS * (size_t)used * sizeof *sw->shares)))
            rc = GSL_SET(sw, GROKSCOPE_ERR_NOMEM, "out of memory");
        else if (gs_score_runs(f, used, &sw->score, sw->shares, &err) != 0)
            rc = GSL_SET(sw, GROKSCOPE_ERR_NOMEM, "%s", err.msg);
    }
    free(f);
    if (rc == GROKSCOPE_OK) {
        sw->n_scored = used;
        sw->have_score = used > 0;
    }
    if (n_scored)
        *n_scored = rc == GROKSCOPE_OK ? used : 0;
    return rc;
}

int grokscope_sweep_print_score(grokscope_sweep *sw, FILE *out, int tsv)
{
    if (!sw->have_score)
        return GSL_SET(sw, GROKSCOPE_ERR_INVALID, "no score yet (grokscope_sweep_score scored no run)");
    if (!out)
        return GSL_SET(sw, GROKSCOPE_ERR_INVALID, "no output given");
    gs_score_print(&sw->score, out, tsv ? 1 : 0);
    return ferror(out) ? GSL_SET(sw, GROKSCOPE_ERR_FAILED, "cannot write the score") : GROKSCOPE_OK;
}
