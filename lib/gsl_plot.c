/* grokscope_plot: the figures of runs, drawn by gnuplot (plots/plot.h), each with its
 * data and script kept beside the image. */
#include "gsl_sweep.h"

#include <stdlib.h>

#include "plot.h"

_Static_assert(GROKSCOPE_PLOT_MAX_RUNS == GS_PLOT_MAX_RUNS, "the public run limit is the overlay's");

struct grokscope_plot {
    gs_plot_env env;
    char gnuplot[4096]; /* "" when not found */
    gs_plot_data *data; /* [GS_PLOT_MAX_RUNS] */
    int n_runs;
    char err[sizeof ((gs_err *)0)->msg];
};

grokscope_plot *grokscope_plot_new(void)
{
    grokscope_plot *pl = calloc(1, sizeof *pl);
    if (!pl)
        return NULL;
    pl->data = calloc(GS_PLOT_MAX_RUNS, sizeof *pl->data);
    if (!pl->data) {
        free(pl);
        return NULL;
    }
    if (gs_plot_find_gnuplot(pl->gnuplot, sizeof pl->gnuplot) != 0)
        pl->gnuplot[0] = '\0';
    pl->env = (gs_plot_env){.format = GS_PLOT_PNG, .gnuplot = pl->gnuplot};
    return pl;
}

const char *grokscope_plot_error(const grokscope_plot *pl)
{
    return pl->err;
}

void grokscope_plot_free(grokscope_plot *pl)
{
    if (!pl)
        return;
    for (int i = 0; i < pl->n_runs; i++)
        gs_plot_data_free(&pl->data[i]);
    free(pl->data);
    free(pl);
}

const char *grokscope_plot_gnuplot(const grokscope_plot *pl)
{
    return pl->gnuplot[0] ? pl->gnuplot : NULL;
}

int grokscope_plot_set_format(grokscope_plot *pl, const char *format)
{
    gs_plot_format f;
    if (!format || gs_plot_format_parse(format, &f) != 0)
        return GSL_SET(pl, GROKSCOPE_ERR_INVALID, "format: '%s' is not png, svg or pdf",
                       format ? format : "(null)");
    pl->env.format = f;
    return GROKSCOPE_OK;
}

int grokscope_plot_set_callbacks(grokscope_plot *pl, void (*image)(void *ctx, const char *path),
                                 void (*note)(void *ctx, const char *line), void *ctx)
{
    pl->env.written = image;
    pl->env.note = note;
    pl->env.ctx = ctx;
    return GROKSCOPE_OK;
}

int grokscope_plot_load(grokscope_plot *pl, const char *path)
{
    if (!path)
        return GSL_SET(pl, GROKSCOPE_ERR_INVALID, "no run file path");
    if (pl->n_runs == GS_PLOT_MAX_RUNS)
        return GSL_SET(pl, GROKSCOPE_ERR_INVALID, "more than %d runs given", GS_PLOT_MAX_RUNS);
    gs_err err = {0};
    gsl_h5_lock();
    const int rc = gs_plot_data_load(&pl->data[pl->n_runs], path, &err);
    gsl_h5_unlock();
    if (rc != 0)
        return GSL_FAIL(pl, &err);
    pl->n_runs++;
    return GROKSCOPE_OK;
}

static int need_gnuplot(grokscope_plot *pl)
{
    if (!pl->gnuplot[0])
        return GSL_SET(pl, GROKSCOPE_ERR_FAILED,
                       "gnuplot not found; install it with: apt-get install gnuplot-nox");
    return GROKSCOPE_OK;
}

int grokscope_plot_draw_run(grokscope_plot *pl, int i, const char *dir)
{
    if (i < 0 || i >= pl->n_runs || !dir)
        return GSL_SET(pl, GROKSCOPE_ERR_INVALID, "run %d: %d runs are loaded", i, pl->n_runs);
    int rc = need_gnuplot(pl);
    if (rc != GROKSCOPE_OK)
        return rc;
    gs_err err = {0};
    if (gs_plot_mkdirs(dir, &err) != 0 || gs_plot_run_figures(&pl->env, &pl->data[i], dir, &err) != 0)
        return GSL_FAIL(pl, &err);
    return GROKSCOPE_OK;
}

int grokscope_plot_draw_compare(grokscope_plot *pl, const char *dir)
{
    if (pl->n_runs < 2 || !dir)
        return GSL_SET(pl, GROKSCOPE_ERR_INVALID, "an overlay needs 2 or more runs (%d loaded)",
                       pl->n_runs);
    int rc = need_gnuplot(pl);
    if (rc != GROKSCOPE_OK)
        return rc;
    gs_err err = {0};
    if (gs_plot_mkdirs(dir, &err) != 0 ||
        gs_plot_compare_figure(&pl->env, pl->data, pl->n_runs, dir, &err) != 0)
        return GSL_FAIL(pl, &err);
    return GROKSCOPE_OK;
}

/* ---- a sweep's figures ---- */

int grokscope_sweep_set_plot_axes(grokscope_sweep *sw, const char *x, const char *y, const char *facet)
{
    if (!sw->built || !sw->dir)
        return GSL_SET(sw, GROKSCOPE_ERR_INVALID, "the sweep has no directory yet");
    gs_plot_sweep fig = {.dir = sw->dir, .plan = &sw->plan};
    gs_err err = {0};
    if (gs_plot_sweep_axes(&fig, x, y, facet, &err) != 0)
        return GSL_SET(sw, GROKSCOPE_ERR_INVALID, "%s", err.msg);
    sw->fig = fig;
    sw->have_axes = 1;
    return GROKSCOPE_OK;
}

int grokscope_plot_draw_sweep(grokscope_plot *pl, grokscope_sweep *sw, const char *dir)
{
    if (!sw || !dir)
        return GSL_SET(pl, GROKSCOPE_ERR_INVALID, "no sweep or no directory given");
    if (gsl_sweep_need_results(sw, "the sweep's figures") != GROKSCOPE_OK ||
        (!sw->have_axes && grokscope_sweep_set_plot_axes(sw, NULL, NULL, NULL) != GROKSCOPE_OK))
        return GSL_SET(pl, GROKSCOPE_ERR_INVALID, "%s", sw->err);
    int rc = need_gnuplot(pl);
    if (rc != GROKSCOPE_OK)
        return rc;
    gs_plot_sweep fig = sw->fig;
    fig.res = sw->res;
    gs_err err = {0};
    if (gs_plot_mkdirs(dir, &err) != 0 || gs_plot_sweep_figures(&pl->env, &fig, dir, &err) != 0)
        return GSL_FAIL(pl, &err);
    return GROKSCOPE_OK;
}

int grokscope_plot_draw_sweep_score(grokscope_plot *pl, grokscope_sweep *sw, const char *source,
                                    const char *dir)
{
    if (!sw || !dir)
        return GSL_SET(pl, GROKSCOPE_ERR_INVALID, "no sweep or no directory given");
    if (!sw->have_score)
        return GSL_SET(pl, GROKSCOPE_ERR_INVALID, "no score yet (grokscope_sweep_score scored no run)");
    int rc = need_gnuplot(pl);
    if (rc != GROKSCOPE_OK)
        return rc;
    gs_err err = {0};
    if (gs_plot_mkdirs(dir, &err) != 0 ||
        gs_plot_sweep_score(&pl->env, source ? source : "", sw->shares, sw->n_scored, dir, &err) != 0)
        return GSL_FAIL(pl, &err);
    return GROKSCOPE_OK;
}
