/* grokscope freqs: the Fourier picture of one checkpoint, as a readable report. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "grokscope.h"
#include "opts.h"

static const char freqs_usage[] =
    "usage: grokscope freqs RUN.h5 [--epoch N] [--best-freq] [--threshold X]\n"
    "\n"
    "For one checkpoint (default: the last): the neuron clusters by frequency, the key\n"
    "frequencies, the fraction of each cluster's activation variance its frequency\n"
    "explains, and the embedding's norm per frequency. Reads only; writes nothing.\n";

/* The embedding's norm per frequency as bars; * marks a key frequency. */
static void print_embed(const double *fn, int n_freq, const int *keys, int n_key)
{
    double total = 0, mx = 0;
    for (int w = 0; w <= n_freq; w++)
        total += fn[w] * fn[w];
    for (int w = 1; w <= n_freq; w++)
        mx = fn[w] > mx ? fn[w] : mx;
    printf("embedding norm per frequency (sqrt(cos^2 + sin^2) of F W_E; * = key frequency)\n");
    for (int w = 1; w <= n_freq; w++) {
        int key = 0;
        for (int k = 0; k < n_key; k++)
            key |= keys[k] == w;
        char bar[41];
        int len = mx > 0 ? (int)lround(40 * fn[w] / mx) : 0;
        memset(bar, '#', (size_t)len);
        bar[len] = '\0';
        printf("  %4d%c %8.3f  %s\n", w, key ? '*' : ' ', fn[w], bar);
    }
    printf("  const %8.3f   (share of the squared norm: %.1f%%)\n", fn[0],
           total > 0 ? 100 * fn[0] * fn[0] / total : 0.0);
}

static int report(grokscope_run *run, const char *path, long epoch, int best, double threshold,
                  char *msg)
{
    char task[16];
    if (grokscope_config_get(grokscope_run_config(run), "task", task, sizeof task) == GROKSCOPE_OK &&
        strcmp(task, "mnist") == 0) {
        gs_cli_set(msg, "%s: the image task has no Fourier basis, so no frequencies to report", path);
        return -1;
    }
    grokscope_probe *pr;
    if (grokscope_probe_open(run, 0, &pr) != GROKSCOPE_OK) {
        gs_cli_set(msg, "%s", pr ? grokscope_probe_error(pr) : "out of memory");
        grokscope_probe_close(pr);
        return -1;
    }
    const int n_freq = grokscope_probe_n_freq(pr), d_mlp = grokscope_probe_n_neurons(pr);
    char op[32];
    if (grokscope_config_get(grokscope_run_config(run), "op", op, sizeof op) != GROKSCOPE_OK)
        op[0] = '\0';
    int rc = -1, ck = -1, n_key = 0;
    long ck_epoch = 0;
    int *nf = malloc((size_t)d_mlp * sizeof *nf), *size = calloc((size_t)n_freq + 1, sizeof *size);
    int *keys = malloc((size_t)(n_freq + 1) * sizeof *keys);
    double *frac = malloc((size_t)d_mlp * sizeof *frac), *fn = malloc((size_t)(n_freq + 1) * sizeof *fn);
    grokscope_measures m;
    if (n_freq == 0) {
        gs_cli_set(msg, "%s: op %s has no Fourier basis, so no frequencies to report (%s)", path, op,
                   grokscope_run_circuit_note(run));
        goto out;
    }
    if ((ck = grokscope_run_find_checkpoint(run, epoch)) < 0) {
        gs_cli_set(msg, "%s", grokscope_run_error(run));
        goto out;
    }
    if (!nf || !size || !keys || !frac || !fn) {
        gs_cli_set(msg, "out of memory");
        goto out;
    }
    if (grokscope_run_checkpoint_epoch(run, ck, &ck_epoch) != GROKSCOPE_OK) {
        gs_cli_set(msg, "%s", grokscope_run_error(run));
        goto out;
    }
    if (grokscope_probe_measure(pr, ck, NULL, 0, &m) != GROKSCOPE_OK ||
        grokscope_probe_clusters(pr, ck, threshold, best, nf, frac, d_mlp, keys, n_freq,
                                 &n_key) != GROKSCOPE_OK) {
        gs_cli_set(msg, "%s", grokscope_probe_error(pr));
        goto out;
    }
    printf("checkpoint epoch %ld of %s: train loss %.3g, test loss %.3g, test acc %.1f%%\n",
           ck_epoch, path, m.train_loss, m.test_loss, 100 * m.test_acc);
    printf("key frequencies:");
    for (int k = 0; k < n_key; k++)
        printf(" %d", keys[k]);
    printf("%s\n", n_key ? "" : " none (no frequency holds 1% of the neurons)");
    printf("rule: %s\n", best ? "best frequency, no threshold (notebook)"
                              : "best frequency if it explains >= threshold of the variance");
    printf("basis: %s\n\n", grokscope_run_circuit_note(run));
    printf("  freq  neurons  mean fraction of variance explained\n");
    for (int j = 0; j < d_mlp; j++)
        size[nf[j] > 0 ? nf[j] : 0]++;
    for (int w = 1; w <= n_freq; w++) {
        if (size[w] == 0)
            continue;
        double s = 0;
        for (int j = 0; j < d_mlp; j++)
            if (nf[j] == w)
                s += frac[j];
        printf("  %4d  %7d  %.3f\n", w, size[w], s / size[w]);
    }
    printf("  none  %7d\n\n", size[0]);
    /* embedding spectrum; a model without an embedding matrix (the one-hot MLP) says
     * why instead */
    if (!grokscope_probe_has_embed(pr)) {
        printf("embedding norm per frequency: none (%s)\n", grokscope_run_model_note(run));
        rc = 0;
        goto out;
    }
    if (grokscope_probe_embed_norms(pr, ck, fn, n_freq + 1) != GROKSCOPE_OK) {
        gs_cli_set(msg, "%s", grokscope_probe_error(pr));
        goto out;
    }
    print_embed(fn, n_freq, keys, n_key);
    rc = 0;
out:
    grokscope_probe_close(pr);
    free(nf);
    free(keys);
    free(size);
    free(frac);
    free(fn);
    return rc;
}

int gs_cmd_freqs(int argc, char **argv)
{
    if (gs_wants_help(argc, argv)) {
        fputs(freqs_usage, stdout);
        return 0;
    }
    gs_cli_err err;
    const char *path = NULL;
    long epoch = -1;
    double threshold = -1; /* the library's default, 0.85 */
    int best = 0;
    for (int i = 1; i < argc; i++) {
        const char *val;
        int r;
        if ((r = gs_opt_value(argv, argc, &i, "--epoch", &val, err.msg)) != 0) {
            if (r < 0 || gs_parse_long("--epoch", val, 0, 1000000000L, &epoch, err.msg) != 0)
                return gs_fail("freqs", err.msg);
        } else if ((r = gs_opt_value(argv, argc, &i, "--threshold", &val, err.msg)) != 0) {
            if (r < 0 || gs_parse_double("--threshold", val, 0.0, 1.0, &threshold, err.msg) != 0)
                return gs_fail("freqs", err.msg);
        } else if (strcmp(argv[i], "--best-freq") == 0) {
            best = 1;
        } else if (argv[i][0] != '-' && !path) {
            path = argv[i];
        } else {
            gs_cli_set(err.msg, "unexpected argument '%s' (see grokscope freqs --help)", argv[i]);
            return gs_fail("freqs", err.msg);
        }
    }
    if (!path) {
        gs_cli_set(err.msg, "expected a run file (usage: grokscope freqs RUN.h5)");
        return gs_fail("freqs", err.msg);
    }
    grokscope_run *run;
    if (grokscope_run_open(path, &run) != GROKSCOPE_OK) {
        gs_cli_set(err.msg, "%s", run ? grokscope_run_error(run) : "out of memory");
        grokscope_run_close(run);
        return gs_fail("freqs", err.msg);
    }
    int rc = report(run, path, epoch, best, threshold, err.msg);
    grokscope_run_close(run);
    return rc == 0 ? 0 : gs_fail("freqs", err.msg);
}
