/* grokscope: train, inspect and analyse grokking runs. */
#include <stdio.h>
#include <string.h>

#include "commands.h"

static const char usage[] =
    "usage: grokscope COMMAND [options]   (grokscope COMMAND --help for details)\n"
    "\n"
    "  train   train the one-layer transformer of Nanda et al. 2023 on modular\n"
    "          arithmetic, checkpointing all weights to an HDF5 run file\n"
    "  info    print what a run file holds: config, progress, final metrics\n"
    "  analyze compute the Fourier-basis progress measures of every checkpoint\n"
    "  forecast early-warning signals of grokking and the epoch they predict\n"
    "  freqs   the neuron clusters and key frequencies of one checkpoint\n"
    "  plot    draw a run's figures (loss, progress measures, phases...) with gnuplot\n"
    "  demo    train a small run that groks in about a minute, then summarise it\n"
    "  sweep   a grid of runs (create, run, slurm, status, collect); plot DIR draws\n"
    "          its phase diagram\n"
    "  data    check an MNIST / Fashion-MNIST download: data check DIR\n";

int gs_fail(const char *cmd, const char *msg)
{
    fprintf(stderr, "grokscope %s: %s\n", cmd, msg);
    return GS_EXIT_USAGE;
}

int gs_wants_help(int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0)
            return 1;
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fputs(usage, stderr);
        return GS_EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "train") == 0)
        return gs_cmd_train(argc - 1, argv + 1);
    if (strcmp(cmd, "info") == 0)
        return gs_cmd_info(argc - 1, argv + 1);
    if (strcmp(cmd, "analyze") == 0)
        return gs_cmd_analyze(argc - 1, argv + 1);
    if (strcmp(cmd, "forecast") == 0)
        return gs_cmd_forecast(argc - 1, argv + 1);
    if (strcmp(cmd, "freqs") == 0)
        return gs_cmd_freqs(argc - 1, argv + 1);
    if (strcmp(cmd, "plot") == 0)
        return gs_cmd_plot(argc - 1, argv + 1);
    if (strcmp(cmd, "demo") == 0)
        return gs_cmd_demo(argc - 1, argv + 1);
    if (strcmp(cmd, "sweep") == 0)
        return gs_cmd_sweep(argc - 1, argv + 1);
    if (strcmp(cmd, "data") == 0)
        return gs_cmd_data(argc - 1, argv + 1);
    if (strcmp(cmd, "-h") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "help") == 0) {
        fputs(usage, stdout);
        return 0;
    }
    if (strcmp(cmd, "--version") == 0) {
        printf("grokscope %s\n", GS_VERSION);
        return 0;
    }
    fprintf(stderr, "grokscope: unknown command '%s' (see grokscope --help)\n", cmd);
    return GS_EXIT_USAGE;
}
