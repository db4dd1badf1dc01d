/* grokscope analyze: the Fourier-basis progress measures of every checkpoint. */
#include <stdint.h>
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
    "early-warning and lazy-vs-rich measures (docs/early-warning.md):\n"
    "  --no-llc            skip the local learning coefficient (the costly measure)\n"
    "  --llc-every K       LLC on every K-th checkpoint: 0, K, 2K, ... (default 10)\n"
    "  --llc-eps X         SGLD step size epsilon, also the noise variance (1e-4)\n"
    "  --llc-nbeta X       n*beta (default: batch / ln(batch), devinterp's default)\n"
    "  --llc-gamma X       localization strength gamma (5)\n"
    "  --llc-chains N      SGLD chains (1)\n"
    "  --llc-draws N       draws per chain (100)\n"
    "  --llc-burnin N      steps per chain before the draws count (0)\n"
    "  --llc-batch N       examples per SGLD step (512, at most the training set)\n"
    "  --llc-seed N        seed of the SGLD noise and batches (0)\n"
    "  --spectral-window N epochs of training loss the spectral statistic reads (400)\n"
    "  --threads N         threads (default: all CPUs)\n"
    "  --quiet             no progress line\n";

/* The library says a trainer holds the file; the command line knows the flag that reads
 * a live run. */
static int fail(grokscope_analysis *an, int code, const char *path)
{
    gs_cli_err err;
    gs_cli_set(err.msg, "%s", grokscope_analysis_error(an));
    if (code == GROKSCOPE_ERR_BUSY) {
        const size_t len = strlen(err.msg);
        snprintf(err.msg + len, sizeof err.msg - len, "; use grokscope analyze --follow %s", path);
    }
    grokscope_analysis_free(an);
    return gs_fail("analyze", err.msg);
}

/* The LLC and spectral options (--llc-every is the API's key llc_every): 1 if argv[*i]
 * was one (consumed into an), 0 if not, -1 on a bad value with err naming the option. */
static int llc_option(char **argv, int argc, int *i, grokscope_analysis *an, char *msg)
{
    if (strcmp(argv[*i], "--no-llc") == 0)
        return grokscope_analysis_set_option(an, "llc_every", "0") == GROKSCOPE_OK ? 1 : -1;
    static const char *const flags[] = {"--llc-every", "--llc-chains", "--llc-draws",
                                        "--llc-burnin", "--llc-batch", "--llc-seed",
                                        "--spectral-window", "--llc-eps", "--llc-nbeta",
                                        "--llc-gamma"};
    for (size_t k = 0; k < sizeof flags / sizeof *flags; k++) {
        const char *val;
        const int r = gs_opt_value(argv, argc, i, flags[k], &val, msg);
        if (r == 0)
            continue;
        if (r < 0)
            return -1;
        char key[32];
        snprintf(key, sizeof key, "%s", flags[k] + 2);
        for (char *c = key; *c; c++)
            *c = *c == '-' ? '_' : *c;
        if (grokscope_analysis_set_option(an, key, val) == GROKSCOPE_OK)
            return 1;
        /* the library's message begins with the key; the command line names its flag */
        const char *lib = grokscope_analysis_error(an);
        const size_t n = strlen(key);
        gs_cli_set(msg, "%s%s", flags[k], strncmp(lib, key, n) == 0 ? lib + n : lib);
        return -1;
    }
    return 0;
}

int gs_cmd_analyze(int argc, char **argv)
{
    if (gs_wants_help(argc, argv)) {
        fputs(analyze_usage, stdout);
        return 0;
    }
    gs_cli_err err;
    const char *keys = NULL, *path = NULL;
    long threads = 0, cluster_epoch = -1;
    double threshold = -1;
    int quiet = 0, best = 0, follow = 0;
    grokscope_analysis *an = grokscope_analysis_new();
    if (!an) {
        gs_cli_set(err.msg, "out of memory");
        return gs_fail("analyze", err.msg);
    }
    for (int i = 1; i < argc; i++) {
        const char *val;
        int r;
        if ((r = gs_opt_value(argv, argc, &i, "--key-freqs", &val, err.msg)) != 0) {
            if (r < 0)
                goto bad_usage;
            keys = val;
        } else if ((r = gs_opt_value(argv, argc, &i, "--epoch", &val, err.msg)) != 0) {
            if (r < 0 || gs_parse_long("--epoch", val, 0, 1000000000L, &cluster_epoch, err.msg) != 0)
                goto bad_usage;
        } else if ((r = gs_opt_value(argv, argc, &i, "--threshold", &val, err.msg)) != 0) {
            if (r < 0 || gs_parse_double("--threshold", val, 0.0, 1.0, &threshold, err.msg) != 0)
                goto bad_usage;
        } else if ((r = gs_opt_value(argv, argc, &i, "--threads", &val, err.msg)) != 0) {
            if (r < 0 || gs_parse_long("--threads", val, 1, 256, &threads, err.msg) != 0)
                goto bad_usage;
        } else if ((r = llc_option(argv, argc, &i, an, err.msg)) != 0) {
            if (r < 0)
                goto bad_usage;
        } else if (strcmp(argv[i], "--best-freq") == 0) {
            best = 1;
        } else if (strcmp(argv[i], "--follow") == 0) {
            follow = 1;
        } else if (strcmp(argv[i], "--quiet") == 0 || strcmp(argv[i], "-q") == 0) {
            quiet = 1;
        } else if (argv[i][0] != '-' && !path) {
            path = argv[i];
        } else {
            gs_cli_set(err.msg, "unexpected argument '%s' (see grokscope analyze --help)", argv[i]);
            goto bad_usage;
        }
    }
    if (!path) {
        gs_cli_set(err.msg, "expected a run file (usage: grokscope analyze RUN.h5)");
        goto bad_usage;
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
        gs_cli_set(err.msg, "%s", run ? grokscope_run_error(run) : "out of memory");
        grokscope_run_close(run);
        return gs_fail("analyze", err.msg);
    }
    grokscope_run_close(run);
    return 0;
bad_usage:
    grokscope_analysis_free(an);
    return gs_fail("analyze", err.msg);
}
