/* grokscope freqs: the Fourier picture of one checkpoint, as a readable report. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyze.h"
#include "circuit.h"
#include "commands.h"
#include "opts.h"

static const char freqs_usage[] =
    "usage: grokscope freqs RUN.h5 [--epoch N] [--best-freq] [--threshold X]\n"
    "\n"
    "For one checkpoint (default: the last): the neuron clusters by frequency, the key\n"
    "frequencies, the fraction of each cluster's activation variance its frequency\n"
    "explains, and the embedding's norm per frequency. Reads only; writes nothing.\n";

static int report(gs_run *run, long epoch, gs_cluster_rule rule, double threshold, gs_err *err)
{
    const gs_dims *d = gs_run_dims(run);
    const gs_op op = gs_run_config(run)->op;
    /* the circuit basis Z_n (core/circuit.h): Z_p, or Z_(p-1) by discrete log */
    const int p = d->p, n = gs_circuit_order(op, p), n_freq = gs_fourier_n_freq(n);
    if (n == 0)
        return gs_err_set(err, "%s: op %s has no Fourier basis, so no frequencies to report (%s)",
                          gs_run_path(run), gs_op_name(op), gs_run_circuit_note(run));
    const int ck = gs_run_find_checkpoint(run, epoch, err);
    if (ck < 0)
        return -1;
    gs_param_info info[GS_MAX_TENSORS];
    long *epochs = malloc((size_t)gs_run_n_checkpoints(run) * sizeof *epochs);
    float *params = malloc(gs_params_layout(d, info) * sizeof *params);
    double *embed = malloc((size_t)p * sizeof *embed);
    gs_probe pr;
    int have_probe = 0, rc = -1;
    gs_split split = {0};
    if (!epochs || !params || !embed) {
        gs_err_set(err, "out of memory");
        goto out;
    }
    if (gs_run_checkpoint_epochs(run, epochs, err) != 0)
        goto out;
    if (gs_run_read_split(run, &split, err) != 0 ||
        gs_probe_create(&pr, d, gs_run_config(run)->op, split.train_idx, split.n_train,
                        split.test_idx, split.n_test, err) != 0)
        goto out;
    have_probe = 1;
    gs_probe_set_flush_subnormals(&pr, gs_run_config(run)->flush_subnormals);
    if (gs_run_read_checkpoint(run, ck, params, err) != 0)
        goto out;
    gs_epoch_metrics m;
    gs_probe_forward(&pr, params, 1, &m);
    gs_cluster_result cl;
    if (gs_probe_clusters(&pr, rule, threshold, &cl, err) != 0)
        goto out;
    gs_probe_fourier_norms(&pr, embed, NULL);
    printf("checkpoint epoch %ld of %s: train loss %.3g, test loss %.3g, test acc %.1f%%\n",
           epochs[ck], gs_run_path(run), m.train_loss, m.test_loss, 100 * m.test_acc);
    printf("key frequencies:");
    for (int k = 0; k < cl.n_key; k++)
        printf(" %d", cl.key_freqs[k]);
    printf("%s\n", cl.n_key ? "" : " none (no frequency holds 1% of the neurons)");
    printf("rule: %s\n", rule == GS_CLUSTER_BEST ? "best frequency, no threshold (notebook)"
                                                 : "best frequency if it explains >= threshold of the variance");
    printf("basis: %s\n\n", gs_run_circuit_note(run));
    printf("  freq  neurons  mean fraction of variance explained\n");
    for (int w = 1; w <= n_freq; w++) {
        if (cl.cluster_size[w] == 0)
            continue;
        double s = 0;
        for (int j = 0; j < d->d_mlp; j++)
            if (cl.neuron_freq[j] == w)
                s += cl.frac[j];
        printf("  %4d  %7d  %.3f\n", w, cl.cluster_size[w], s / cl.cluster_size[w]);
    }
    printf("  none  %7d\n\n", cl.cluster_size[0]);
    /* embedding spectrum: norm per frequency over its cos and sin components; a model
     * without an embedding matrix (the one-hot MLP) says why instead */
    if (!pr.has_embed) {
        printf("embedding norm per frequency: none (%s)\n", gs_run_model_note(run));
        rc = 0;
        goto out;
    }
    double total = 0, mx = 0;
    for (int j = 0; j < n; j++)
        total += embed[j] * embed[j];
    printf("embedding norm per frequency (sqrt(cos^2 + sin^2) of F W_E; * = key frequency)\n");
    double *fn = malloc((size_t)(n_freq + 1) * sizeof *fn);
    if (!fn) {
        gs_err_set(err, "out of memory");
        goto out;
    }
    for (int w = 1; w <= n_freq; w++) {
        int s = gs_fourier_sin_row(n, w);
        double c2 = embed[gs_fourier_cos_row(w)] * embed[gs_fourier_cos_row(w)];
        fn[w] = sqrt(c2 + (s >= 0 ? embed[s] * embed[s] : 0));
        mx = fn[w] > mx ? fn[w] : mx;
    }
    for (int w = 1; w <= n_freq; w++) {
        int key = 0;
        for (int k = 0; k < cl.n_key; k++)
            key |= cl.key_freqs[k] == w;
        char bar[41];
        int len = mx > 0 ? (int)lround(40 * fn[w] / mx) : 0;
        memset(bar, '#', (size_t)len);
        bar[len] = '\0';
        printf("  %4d%c %8.3f  %s\n", w, key ? '*' : ' ', fn[w], bar);
    }
    printf("  const %8.3f   (share of the squared norm: %.1f%%)\n", embed[0],
           total > 0 ? 100 * embed[0] * embed[0] / total : 0.0);
    free(fn);
    rc = 0;
out:
    if (have_probe)
        gs_probe_free(&pr);
    gs_split_free(&split);
    free(epochs);
    free(params);
    free(embed);
    return rc;
}

int gs_cmd_freqs(int argc, char **argv)
{
    if (gs_wants_help(argc, argv)) {
        fputs(freqs_usage, stdout);
        return 0;
    }
    gs_err err;
    const char *path = NULL;
    long epoch = -1;
    double threshold = GS_PROBE_CLUSTER_THRESHOLD;
    gs_cluster_rule rule = GS_CLUSTER_THRESHOLD;
    for (int i = 1; i < argc; i++) {
        const char *val;
        int r;
        if ((r = gs_opt_value(argv, argc, &i, "--epoch", &val, &err)) != 0) {
            if (r < 0 || gs_parse_long("--epoch", val, 0, 1000000000L, &epoch, &err) != 0)
                return gs_fail("freqs", &err);
        } else if ((r = gs_opt_value(argv, argc, &i, "--threshold", &val, &err)) != 0) {
            if (r < 0 || gs_parse_double("--threshold", val, 0.0, 1.0, &threshold, &err) != 0)
                return gs_fail("freqs", &err);
        } else if (strcmp(argv[i], "--best-freq") == 0) {
            rule = GS_CLUSTER_BEST;
        } else if (argv[i][0] != '-' && !path) {
            path = argv[i];
        } else {
            gs_err_set(&err, "unexpected argument '%s' (see grokscope freqs --help)", argv[i]);
            return gs_fail("freqs", &err);
        }
    }
    if (!path) {
        gs_err_set(&err, "expected a run file (usage: grokscope freqs RUN.h5)");
        return gs_fail("freqs", &err);
    }
    gs_set_threads(0);
    gs_run *run;
    if (gs_run_open(&run, path, GS_RUN_READ, 0, &err) != 0)
        return gs_fail("freqs", &err);
    int rc = report(run, epoch, rule, threshold, &err);
    gs_run_close(run, NULL);
    return rc == 0 ? 0 : gs_fail("freqs", &err);
}
