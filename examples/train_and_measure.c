/* train_and_measure: the grokscope C API end to end (docs/api.md).
 *
 *   cc train_and_measure.c $(pkg-config --cflags --libs grokscope) -o train_and_measure
 *   ./train_and_measure run.h5
 *
 * Trains a small run of (a + b) mod 23 that groks within 1,500 epochs (seconds), with
 * a per-epoch callback; reads a parameter tensor of its last checkpoint by its
 * TransformerLens key; then finds the key frequencies and computes the progress
 * measures of that checkpoint. */
#include <grokscope.h>
#include <stdio.h>
#include <stdlib.h>

/* Called after every epoch; returning non-zero would stop the run (with a checkpoint). */
static int on_epoch(void *ctx, const grokscope_epoch *e, int final)
{
    long *every = ctx;
    if (e->epoch % *every == 0 || final)
        printf("epoch %4ld  train loss %.4f  test loss %.4f  test acc %5.1f%%\n", e->epoch,
               e->train_loss, e->test_loss, 100.0 * e->test_acc);
    return 0;
}

/* Prints what failed and exits: every handle carries its own error message. */
static void die(const char *what, int code, const char *msg)
{
    fprintf(stderr, "train_and_measure: %s: %s (%s)\n", what, msg, grokscope_code_name(code));
    exit(1);
}

int main(int argc, char **argv)
{
    const char *path = argc > 1 ? argv[1] : "example.h5";
    if (grokscope_version_number() != GROKSCOPE_VERSION_NUMBER)
        fprintf(stderr, "note: built with grokscope %s, running with %s\n", GROKSCOPE_VERSION,
                grokscope_version());

    /* 1. A configuration: the paper's defaults, changed by key (the /config names). */
    grokscope_config *cfg = grokscope_config_new();
    if (!cfg)
        return 1;
    const char *settings[][2] = {
        {"p", "23"}, {"frac", "0.6"}, {"d_model", "32"}, {"n_heads", "4"}, {"d_mlp", "64"},
        {"lr", "1e-2"}, {"epochs", "1500"}, {"every", "100"},
    };
    int code;
    for (size_t i = 0; i < sizeof settings / sizeof *settings; i++)
        if ((code = grokscope_config_set(cfg, settings[i][0], settings[i][1])) != GROKSCOPE_OK)
            die("config", code, grokscope_config_error(cfg));
    if ((code = grokscope_config_validate(cfg)) != GROKSCOPE_OK)
        die("config", code, grokscope_config_error(cfg));

    /* 2. Train into a new run file on one worker thread (the model is tiny), printing a
     * line every 250 epochs. */
    long every = 250;
    grokscope_train *t = grokscope_train_new();
    if (!t)
        return 1;
    grokscope_train_set_threads(t, 1);
    grokscope_train_set_force(t, 1);
    grokscope_train_set_command_line(t, "examples/train_and_measure");
    grokscope_train_set_callback(t, on_epoch, &every);
    if ((code = grokscope_train_create(t, path, cfg)) != GROKSCOPE_OK ||
        (code = grokscope_train_run(t)) != GROKSCOPE_OK)
        die("train", code, grokscope_train_error(t));
    grokscope_train_free(t);
    grokscope_config_free(cfg);

    /* 3. Open the run file and read a parameter of its last checkpoint by key. */
    grokscope_run *run;
    if ((code = grokscope_run_open(path, &run)) != GROKSCOPE_OK)
        die("open", code, grokscope_run_error(run));
    const int last = grokscope_run_n_checkpoints(run) - 1;
    long epoch;
    if ((code = grokscope_run_checkpoint_epoch(run, last, &epoch)) != GROKSCOPE_OK)
        die("checkpoint", code, grokscope_run_error(run));
    int64_t shape[4];
    const int rank = grokscope_run_param_shape(run, "embed.W_E", shape);
    const size_t n = grokscope_run_param_count(run, "embed.W_E");
    float *w_e = malloc(n * sizeof *w_e);
    if (!w_e || rank != 2)
        return 1;
    if ((code = grokscope_run_read_param(run, last, "embed.W_E", w_e, n)) != GROKSCOPE_OK)
        die("read", code, grokscope_run_error(run));
    double sumsq = 0;
    for (size_t i = 0; i < n; i++)
        sumsq += (double)w_e[i] * w_e[i];
    printf("checkpoint %d (epoch %ld): embed.W_E is %lld x %lld, sum of squares %.6f\n", last,
           epoch, (long long)shape[0], (long long)shape[1], sumsq);
    free(w_e);

    /* 4. Key frequencies and progress measures of that checkpoint. */
    grokscope_probe *pr;
    if ((code = grokscope_probe_open(run, 1, &pr)) != GROKSCOPE_OK)
        die("probe", code, grokscope_probe_error(pr));
    int keys[16], n_key;
    if ((code = grokscope_probe_key_freqs(pr, last, 0, keys, 16, &n_key)) != GROKSCOPE_OK)
        die("key frequencies", code, grokscope_probe_error(pr));
    printf("key frequencies:");
    for (int i = 0; i < n_key; i++)
        printf(" %d", keys[i]);
    printf("%s\n", n_key ? "" : " none");
    grokscope_measures m;
    if ((code = grokscope_probe_measure(pr, last, keys, n_key, &m)) != GROKSCOPE_OK)
        die("measures", code, grokscope_probe_error(pr));
    printf("measures: test loss %.6f  restricted %.6f  excluded %.6f  gini(W_E) %.4f  "
           "weight norm %.3f\n", m.test_loss, m.restricted_loss, m.excluded_loss, m.gini_embed,
           m.weight_norm);

    /* The probe's recomputed loss equals the one recorded while training. */
    grokscope_epoch row;
    if ((code = grokscope_run_read_epochs(run, epoch, 1, &row)) != GROKSCOPE_OK)
        die("metrics", code, grokscope_run_error(run));
    const int same = row.test_loss == m.test_loss && row.train_loss == m.train_loss;
    printf("recorded test loss %.6f: %s\n", row.test_loss, same ? "equal" : "DIFFERENT");
    grokscope_probe_close(pr);
    grokscope_run_close(run);
    return same ? 0 : 1;
}
