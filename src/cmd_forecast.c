/* grokscope forecast: which early-warning signals have fired on a run, and when they
 * predict test accuracy >= 99% (docs/early-warning.md). Reads only: works on a live
 * run (SWMR) and on one cut before grokking. */
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "grokscope.h"

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
    gs_cli_err err = {{0}};
    const char *path = NULL;
    for (int i = 1; i < argc; i++) {
        if (argv[i][0] != '-' && !path) {
            path = argv[i];
        } else {
            gs_cli_set(err.msg, "unexpected argument '%s' (see grokscope forecast --help)", argv[i]);
            return gs_fail("forecast", err.msg);
        }
    }
    if (!path) {
        gs_cli_set(err.msg, "expected a run file (usage: grokscope forecast RUN.h5)");
        return gs_fail("forecast", err.msg);
    }
    grokscope_run *run;
    if (grokscope_run_open(path, &run) != GROKSCOPE_OK) {
        gs_cli_set(err.msg, "%s", run ? grokscope_run_error(run) : "out of memory");
        grokscope_run_close(run);
        return gs_fail("forecast", err.msg);
    }
    if (grokscope_run_n_analyzed(run) <= 0) {
        gs_cli_set(err.msg, "%s: no analysed checkpoint yet; run grokscope analyze %s first "
                   "(or analyze --follow on a live run)", path, path);
        grokscope_run_close(run);
        return gs_fail("forecast", err.msg);
    }
    /* the table goes out only once the whole forecast is computed */
    const int code = grokscope_run_print_forecast(run, stdout);
    if (code != GROKSCOPE_OK)
        gs_cli_set(err.msg, "%s", grokscope_run_error(run));
    grokscope_run_close(run);
    return code == GROKSCOPE_OK ? 0 : gs_fail("forecast", err.msg);
}
