/* grokscope forecast: which early-warning signals have fired on a run, and when they
 * predict test accuracy >= 99% (docs/early-warning.md). Reads only: works on a live
 * run (SWMR) and on one cut before grokking. */
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "forecast.h"

static const char forecast_usage[] =
    "usage: grokscope forecast RUN.h5\n"
    "\n"
    "For each early-warning signal (restricted and excluded loss, Gini of W_E, weight\n"
    "norm, key-frequency energy, local learning coefficient, kernel alignment with the\n"
    "labels, spectral energy of the early training loss): whether it has fired, at which\n"
    "epoch, and the epoch it predicts for test accuracy >= 99%, with an interval, from\n"
    "the data so far. Reads the measures `grokscope analyze` stored (run it first; on a\n"
    "live run, `analyze --follow` prints a forecast line per checkpoint). The rules are\n"
    "in docs/early-warning.md.\n";

int gs_cmd_forecast(int argc, char **argv)
{
    if (gs_wants_help(argc, argv)) {
        fputs(forecast_usage, stdout);
        return 0;
    }
    gs_err err = {0};
    const char *path = NULL;
    for (int i = 1; i < argc; i++) {
        if (argv[i][0] != '-' && !path) {
            path = argv[i];
        } else {
            gs_err_set(&err, "unexpected argument '%s' (see grokscope forecast --help)", argv[i]);
            return gs_fail("forecast", &err);
        }
    }
    if (!path) {
        gs_err_set(&err, "expected a run file (usage: grokscope forecast RUN.h5)");
        return gs_fail("forecast", &err);
    }
    gs_run *run;
    if (gs_run_open(&run, path, GS_RUN_READ, 0, &err) != 0)
        return gs_fail("forecast", &err);
    if (!gs_run_has_analysis(run) || gs_run_n_analyzed(run) == 0) {
        gs_err_set(&err, "%s: no analysed checkpoint yet; run grokscope analyze %s first "
                   "(or analyze --follow on a live run)", path, path);
        gs_run_close(run, NULL);
        return gs_fail("forecast", &err);
    }
    gs_forecast_data fd;
    int rc = gs_forecast_load(run, &fd, &err);
    gs_run_close(run, NULL);
    if (rc != 0)
        return gs_fail("forecast", &err);
    gs_forecast f;
    gs_forecast_compute(&fd.in, &f);
    gs_forecast_print(&f, stdout);
    gs_forecast_data_free(&fd);
    return 0;
}
