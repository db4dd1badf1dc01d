/* The sweep handle's insides, shared by lib/gsl_sweep*.c and the sweep figures in
 * lib/gsl_plot.c. Not installed. */
#ifndef GSL_SWEEP_H
#define GSL_SWEEP_H

#include "gsl_internal.h"

#include "plot.h"
#include "score.h"
#include "sweep_plan.h"
#include "sweep_result.h"

struct grokscope_sweep {
    char *dir;                    /* as given; NULL for a new sweep not yet written */
    int n_new;                    /* axes added to a new sweep, before _build */
    gs_sweep_axis new_axes[GS_SWEEP_MAX_AXES];
    int built;                    /* plan is laid out (built or read) */
    gs_sweep_plan plan;
    grokscope_config **cfg;       /* [n_points]: each point's configuration, or NULL */
    gs_sweep_result *res;         /* [n_points]: what was read of each point */
    unsigned char *have_res;      /* [n_points] */
    gs_plot_sweep fig;            /* the figures' axes, once chosen */
    int have_axes;
    gs_score score;               /* after grokscope_sweep_score */
    double *shares;               /* [GS_N_SIGNALS * n_scored] */
    int n_scored, have_score;
    char err[sizeof ((gs_err *)0)->msg];
};

/* GROKSCOPE_OK if the plan is laid out and every point has been read; else the error
 * (what = what needs them). */
int gsl_sweep_need_results(grokscope_sweep *sw, const char *what);
/* Lays out the per-point arrays of a plan just built or read. */
int gsl_sweep_alloc_points(grokscope_sweep *sw);

#endif
