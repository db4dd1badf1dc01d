/* grokscope analyze: the Fourier-basis progress measures of every checkpoint. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "analyze.h"
#include "commands.h"
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

static int check_request(gs_run *run, gs_analyze_opts *o, const char *keys, gs_err *err)
{
    const int n_freq = gs_fourier_n_freq(gs_run_dims(run)->p);
    if (keys && gs_parse_key_freqs(keys, n_freq, o->user_keys, &o->n_user_keys, err) != 0) {
        char msg[sizeof err->msg]; /* the flag is the command line's to name */
        snprintf(msg, sizeof msg, "--key-freqs%s", err->msg + strlen("key frequencies"));
        snprintf(err->msg, sizeof err->msg, "%s", msg);
        return -1;
    }
    /* A live run (--follow) may not have the checkpoint yet. */
    if (!o->follow && gs_run_find_checkpoint(run, o->cluster_epoch, err) < 0)
        return -1;
    return 0;
}

/* The run file layer says a trainer holds the file; the command line knows the flag
 * that reads a live run. */
static int fail(gs_err *err, const char *path)
{
    if (err->code == GS_ERR_BUSY_TRAINING) {
        const size_t len = strlen(err->msg);
        snprintf(err->msg + len, sizeof err->msg - len, "; use grokscope analyze --follow %s",
                 path);
    }
    return gs_fail("analyze", err);
}

/* The LLC and spectral options: 1 if argv[*i] was one (consumed), 0 if not, -1 on a
 * bad value. */
static int llc_option(char **argv, int argc, int *i, gs_analyze_opts *o, gs_err *err)
{
    const char *val;
    int r;
    long v;
    gs_llc_opts *l = &o->sig.llc;
    if (strcmp(argv[*i], "--no-llc") == 0) {
        o->sig.llc_every = 0;
        return 1;
    }
    static const char *const longs[] = {"--llc-every", "--llc-chains", "--llc-draws",
                                        "--llc-burnin", "--llc-batch", "--llc-seed",
                                        "--spectral-window"};
    for (size_t k = 0; k < sizeof longs / sizeof *longs; k++) {
        if ((r = gs_opt_value(argv, argc, i, longs[k], &val, err)) == 0)
            continue;
        const long lo = (k == 0 || k == 3 || k == 5) ? 0 : k == 6 ? 2 : 1;
        if (r < 0 || gs_parse_long(longs[k], val, lo, k == 5 ? 1000000000L : 100000000L, &v, err) != 0)
            return -1;
        switch (k) {
        case 0: o->sig.llc_every = (int)v; break;
        case 1: l->chains = (int)v; break;
        case 2: l->draws = (int)v; break;
        case 3: l->burnin = (int)v; break;
        case 4: l->batch = (int)v; break;
        case 5: l->seed = (uint64_t)v; break;
        default: o->spectral_window = v; break;
        }
        return 1;
    }
    static const char *const dbls[] = {"--llc-eps", "--llc-nbeta", "--llc-gamma"};
    double *dst[] = {&l->epsilon, &l->nbeta, &l->gamma};
    for (size_t k = 0; k < 3; k++) {
        if ((r = gs_opt_value(argv, argc, i, dbls[k], &val, err)) == 0)
            continue;
        if (r < 0 || gs_parse_double(dbls[k], val, k == 2 ? 0.0 : 1e-300, 1e12, dst[k], err) != 0)
            return -1;
        return 1;
    }
    return 0;
}

int gs_cmd_analyze(int argc, char **argv)
{
    if (gs_wants_help(argc, argv)) {
        fputs(analyze_usage, stdout);
        return 0;
    }
    gs_analyze_opts o;
    gs_analyze_opts_default(&o);
    gs_err err;
    const char *keys = NULL;
    long threads = 0;
    int quiet = 0;
    for (int i = 1; i < argc; i++) {
        const char *val;
        int r;
        if ((r = gs_opt_value(argv, argc, &i, "--key-freqs", &val, &err)) != 0) {
            if (r < 0)
                return gs_fail("analyze", &err);
            keys = val;
        } else if ((r = gs_opt_value(argv, argc, &i, "--epoch", &val, &err)) != 0) {
            if (r < 0 || gs_parse_long("--epoch", val, 0, 1000000000L, &o.cluster_epoch, &err) != 0)
                return gs_fail("analyze", &err);
        } else if ((r = gs_opt_value(argv, argc, &i, "--threshold", &val, &err)) != 0) {
            if (r < 0 || gs_parse_double("--threshold", val, 0.0, 1.0, &o.threshold, &err) != 0)
                return gs_fail("analyze", &err);
        } else if ((r = gs_opt_value(argv, argc, &i, "--threads", &val, &err)) != 0) {
            if (r < 0 || gs_parse_long("--threads", val, 1, 256, &threads, &err) != 0)
                return gs_fail("analyze", &err);
        } else if ((r = llc_option(argv, argc, &i, &o, &err)) != 0) {
            if (r < 0)
                return gs_fail("analyze", &err);
        } else if (strcmp(argv[i], "--best-freq") == 0) {
            o.rule = GS_CLUSTER_BEST;
        } else if (strcmp(argv[i], "--follow") == 0) {
            o.follow = 1;
        } else if (strcmp(argv[i], "--quiet") == 0 || strcmp(argv[i], "-q") == 0) {
            quiet = 1;
        } else if (argv[i][0] != '-' && !o.path) {
            o.path = argv[i];
        } else {
            gs_err_set(&err, "unexpected argument '%s' (see grokscope analyze --help)", argv[i]);
            return gs_fail("analyze", &err);
        }
    }
    if (!o.path) {
        gs_err_set(&err, "expected a run file (usage: grokscope analyze RUN.h5)");
        return gs_fail("analyze", &err);
    }
    gs_set_threads((int)threads);
    gs_run *run;
    /* Validate the file, the key frequencies and --epoch read-only, before anything
     * opens the file for writing. */
    if (gs_run_open(&run, o.path, GS_RUN_READ, 0, &err) != 0)
        return gs_fail("analyze", &err);
    int bad = check_request(run, &o, keys, &err);
    gs_run_close(run, NULL);
    if (bad)
        return gs_fail("analyze", &err);
    gs_progress pr;
    gs_progress_start(&pr, "checkpoint", 0, 0, quiet);
    o.progress = gs_progress_callback;
    o.progress_ctx = &pr;
    o.log = quiet ? NULL : stderr;
    if (gs_analyze_run(&o, &err) != 0) {
        gs_progress_end(&pr);
        return fail(&err, o.path);
    }
    gs_progress_end(&pr);
    if (gs_run_open(&run, o.path, GS_RUN_READ, 0, &err) != 0)
        return gs_fail("analyze", &err);
    int rc = gs_analysis_print_summary(run, stdout, &err);
    gs_run_close(run, NULL);
    return rc == 0 ? 0 : gs_fail("analyze", &err);
}
