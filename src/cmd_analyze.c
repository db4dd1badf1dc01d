/* grokscope analyze: the Fourier-basis progress measures of every checkpoint. */
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "grokscope.h"
#include "opts.h"
#include "progress.h"

static const char analyze_usage[] =
    "usage: grokscope analyze RUN.h5 [options]\n"
    "\n"
    "Computes, for every checkpoint of a run, the progress measures of Nanda et al. 2023:\n"
    "train/test loss and accuracy recomputed from the weights, restricted and excluded\n"
    "loss, Gini coefficients of W_E and W_L in the Fourier basis, the sum of squared\n"
    "weights and the embedding's norm per frequency; the neuron clusters and key\n"
    "frequencies; and the phases (memorization, circuit formation, cleanup). Results go\n"
    "into /analysis of the run file. Running it again computes only new checkpoints.\n"
    "\n"
    "  --key-freqs LIST    use these key frequencies (e.g. 14,35,41,42,52) instead of\n"
    "                      the neuron clusters' (recomputes what depends on them)\n"
    "  --epoch N           find the clusters at checkpoint N (default: the last)\n"
    "  --best-freq         the paper notebook's cluster rule: every neuron joins its best\n"
    "                      frequency, without the 0.85 variance threshold\n"
    "  --threshold X       fraction of variance a neuron needs to join a cluster (0.85)\n"
    "  --follow            analyse a run while it trains: print each new checkpoint's\n"
    "                      measures, then write the analysis when training ends\n"
    "  --threads N         threads (default: all CPUs)\n"
    "  --quiet             no progress line\n";

/* The library says a trainer holds the file; the command line knows the flag that reads
 * a live run. */
static int fail(grokscope_analysis *an, int code, const char *path)
{
    gs_err err = {0};
    gs_err_set(&err, "%s", grokscope_analysis_error(an));
    if (code == GROKSCOPE_ERR_BUSY) {
        const size_t len = strlen(err.msg);
        snprintf(err.msg + len, sizeof err.msg - len, "; use grokscope analyze --follow %s", path);
    }
    grokscope_analysis_free(an);
    return gs_fail("analyze", &err);
}

int gs_cmd_analyze(int argc, char **argv)
{
    if (gs_wants_help(argc, argv)) {
        fputs(analyze_usage, stdout);
        return 0;
    }
    gs_err err;
    const char *keys = NULL, *path = NULL;
    long threads = 0, cluster_epoch = -1;
    double threshold = -1;
    int quiet = 0, best = 0, follow = 0;
    for (int i = 1; i < argc; i++) {
        const char *val;
        int r;
        if ((r = gs_opt_value(argv, argc, &i, "--key-freqs", &val, &err)) != 0) {
            if (r < 0)
                return gs_fail("analyze", &err);
            keys = val;
        } else if ((r = gs_opt_value(argv, argc, &i, "--epoch", &val, &err)) != 0) {
            if (r < 0 || gs_parse_long("--epoch", val, 0, 1000000000L, &cluster_epoch, &err) != 0)
                return gs_fail("analyze", &err);
        } else if ((r = gs_opt_value(argv, argc, &i, "--threshold", &val, &err)) != 0) {
            if (r < 0 || gs_parse_double("--threshold", val, 0.0, 1.0, &threshold, &err) != 0)
                return gs_fail("analyze", &err);
        } else if ((r = gs_opt_value(argv, argc, &i, "--threads", &val, &err)) != 0) {
            if (r < 0 || gs_parse_long("--threads", val, 1, 256, &threads, &err) != 0)
                return gs_fail("analyze", &err);
        } else if (strcmp(argv[i], "--best-freq") == 0) {
            best = 1;
        } else if (strcmp(argv[i], "--follow") == 0) {
            follow = 1;
        } else if (strcmp(argv[i], "--quiet") == 0 || strcmp(argv[i], "-q") == 0) {
            quiet = 1;
        } else if (argv[i][0] != '-' && !path) {
            path = argv[i];
        } else {
            gs_err_set(&err, "unexpected argument '%s' (see grokscope analyze --help)", argv[i]);
            return gs_fail("analyze", &err);
        }
    }
    if (!path) {
        gs_err_set(&err, "expected a run file (usage: grokscope analyze RUN.h5)");
        return gs_fail("analyze", &err);
    }
    grokscope_analysis *an = grokscope_analysis_new();
    if (!an) {
        gs_err_set(&err, "out of memory");
        return gs_fail("analyze", &err);
    }
    gs_progress pr;
    gs_progress_start(&pr, "checkpoint", 0, 0, quiet);
    int code = grokscope_analysis_set_key_freqs(an, keys, "--key-freqs");
    if (code == GROKSCOPE_OK)
        code = grokscope_analysis_set_cluster_epoch(an, cluster_epoch);
    if (code == GROKSCOPE_OK && threshold >= 0)
        code = grokscope_analysis_set_threshold(an, threshold);
    if (code == GROKSCOPE_OK)
        code = grokscope_analysis_set_best_freq(an, best);
    if (code == GROKSCOPE_OK)
        code = grokscope_analysis_set_follow(an, follow);
    if (code == GROKSCOPE_OK)
        code = grokscope_analysis_set_threads(an, (int)threads);
    if (code == GROKSCOPE_OK)
        code = grokscope_analysis_set_progress(an, gs_progress_callback, &pr);
    if (code == GROKSCOPE_OK)
        code = grokscope_analysis_set_log(an, quiet ? NULL : stderr);
    /* the request is checked against the run, read-only, before anything writes */
    if (code == GROKSCOPE_OK)
        code = grokscope_analysis_run(an, path);
    gs_progress_end(&pr);
    if (code != GROKSCOPE_OK)
        return fail(an, code, path);
    grokscope_analysis_free(an);
    grokscope_run *run;
    if (grokscope_run_open(path, &run) != GROKSCOPE_OK ||
        grokscope_run_print_summary(run, stdout) != GROKSCOPE_OK) {
        gs_err_set(&err, "%s", run ? grokscope_run_error(run) : "out of memory");
        grokscope_run_close(run);
        return gs_fail("analyze", &err);
    }
    grokscope_run_close(run);
    return 0;
}
