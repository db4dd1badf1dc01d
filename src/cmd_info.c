/* grokscope info: what a run file is and how far it got. */
#include <assert.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "grokscope.h"

static const char info_usage[] =
    "usage: grokscope info RUN.h5\n"
    "\n"
    "Prints a run's configuration, epochs done, checkpoints, status, the last train/test\n"
    "loss and accuracy, the first epochs at which train accuracy (fitted) and test\n"
    "accuracy (grokked) reached 99%, and, once the run is analysed, the key frequencies,\n"
    "the final measures and the phases.\n";

static const char *status_name(grokscope_run_status s)
{
    switch (s) {
    case GROKSCOPE_RUN_FINISHED: return "finished";
    case GROKSCOPE_RUN_STOPPED_EARLY: return "stopped early (test loss threshold)";
    case GROKSCOPE_RUN_DIVERGED: return "diverged";
    default: return "incomplete (training, or stopped before its last epoch; --resume continues it)";
    }
}

/* "label      text", the text wrapped at spaces to lines of about 100 columns. */
static void print_wrapped(const char *label, const char *text)
{
    int col = printf("%-10s", label);
    while (*text) {
        size_t word = strcspn(text, " ");
        if (col > 11 && col + 1 + (int)word > 100)
            col = printf("\n%10s", "") - 1;
        col += printf(" %.*s", (int)word, text);
        text += word;
        text += strspn(text, " ");
    }
    printf("\n");
}

/* A config key the file is known to have (grokscope_run_open validated them all). */
static int64_t key_int(const grokscope_config *c, const char *key)
{
    int64_t v = 0;
    const int rc = grokscope_config_get_int(c, key, &v);
    assert(rc == GROKSCOPE_OK);
    (void)rc;
    return v;
}

static double key_double(const grokscope_config *c, const char *key)
{
    double v = 0;
    const int rc = grokscope_config_get_double(c, key, &v);
    assert(rc == GROKSCOPE_OK);
    (void)rc;
    return v;
}

/* A text key (op, optimizer, grokfast, loss) into buf. */
static const char *key_text(const grokscope_config *c, const char *key, char *buf, size_t size)
{
    const int rc = grokscope_config_get(c, key, buf, size);
    assert(rc == GROKSCOPE_OK);
    (void)rc;
    return buf;
}

/* The optimizer line (the paper's run reads as it always has), then one line of the
 * interventions that differ from the paper's run (docs/interventions.md). */
static void print_optimizer(const grokscope_config *c)
{
    char opt[16], gf[16], loss[16];
    key_text(c, "optimizer", opt, sizeof opt);
    key_text(c, "grokfast", gf, sizeof gf);
    key_text(c, "loss", loss, sizeof loss);
    const int sgd = strcmp(opt, "sgd") == 0;
    const double eps = key_double(c, "eps");
    printf("optimizer  %s lr %g, wd %g%s",
           sgd ? "SGD" : strcmp(opt, "adam") == 0 ? "Adam (coupled L2)" : "AdamW",
           key_double(c, "lr"), key_double(c, "wd"),
           key_int(c, "wd_to_init") ? " toward the initial weights" : "");
    if (sgd)
        printf(", momentum %g", key_double(c, "momentum"));
    else
        printf(", betas (%g, %g)", key_double(c, "beta1"), key_double(c, "beta2"));
    if (eps != 1e-8 && !sgd)
        printf(", eps %g", eps);
    printf(", warm-up %d\n", (int)key_int(c, "warmup"));
    char line[512] = "";
    size_t n = 0;
#define ADD(...) n += (size_t)snprintf(line + n, n < sizeof line ? sizeof line - n : 0, __VA_ARGS__)
    if (strcmp(gf, "ema") == 0)
        ADD(", Grokfast EMA alpha %g lambda %g", key_double(c, "gf_alpha"), key_double(c, "gf_lambda"));
    if (strcmp(gf, "ma") == 0)
        ADD(", Grokfast MA window %d lambda %g", (int)key_int(c, "gf_window"),
            key_double(c, "gf_lambda"));
    const int precision = (int)key_int(c, "loss_precision");
    if (strcmp(loss, "ce") != 0 || precision != 64)
        ADD(", loss %s in float%d", loss, precision);
    if (key_int(c, "orthograd"))
        ADD(", orthograd");
    const double init_scale = key_double(c, "init_scale"), out_scale = key_double(c, "output_scale");
    if (init_scale != 1.0)
        ADD(", init scale %g", init_scale);
    if (key_int(c, "fix_norm"))
        ADD(", weight norm fixed");
    if (out_scale != 1.0)
        ADD(", output scale %g (lr / %g)", out_scale, out_scale * out_scale);
#undef ADD
    if (n > 0)
        print_wrapped("interv.", line + 2);
}

static int print_info(grokscope_run *run, const char *path, char *msg)
{
    const grokscope_config *c = grokscope_run_config(run);
    const int n_ck = grokscope_run_n_checkpoints(run);
    const long n_rows = grokscope_run_n_epochs(run);
    long status_epoch = 0;
    const grokscope_run_status st = grokscope_run_get_status(run, &status_epoch);
    printf("run        %s\n", path);
    printf("created by %s\n", grokscope_run_created_by(run));
    printf("command    %s\n", grokscope_run_command_line(run));
    char task[32];
    key_text(c, "task", task, sizeof task);
    if (strcmp(task, "mnist") == 0) {
        char dir[4096];
        key_text(c, "data_dir", dir, sizeof dir);
        printf("task       mnist: the first %d training and %d test images of %s, %d classes, "
               "seed %lld\n", (int)key_int(c, "train_size"), (int)key_int(c, "test_size"), dir,
               (int)key_int(c, "p"), (long long)key_int(c, "seed"));
    } else {
        char op[64];
        key_text(c, "op", op, sizeof op);
        const int p = (int)key_int(c, "p"), fixed_p = grokscope_op_fixed_p(op);
        printf("task       %s: %s, %s%d%s, train fraction %g, seed %lld\n", op, grokscope_op_formula(op),
               fixed_p ? "" : "p = ", p, fixed_p ? " tokens" : "", key_double(c, "frac"),
               (long long)key_int(c, "seed"));
        char why[256];
        if (grokscope_task_n_defined(op, p, why, sizeof why) < (long)p * p)
            printf("pairs      %s\n", why);
    }
    print_wrapped("measures", grokscope_run_circuit_note(run));
    char kind[32];
    key_text(c, "model", kind, sizeof kind);
    if (strcmp(kind, "transformer") != 0 || key_int(c, "n_layers") > 1)
        print_wrapped("", grokscope_run_model_note(run));
    char model[256];
    const int described = grokscope_config_describe_model(c, model, sizeof model);
    assert(described == GROKSCOPE_OK);
    (void)described;
    print_wrapped("model", model);
    print_optimizer(c);
    printf("numerics   float32, %s\n", key_int(c, "flush_subnormals") ? "subnormals flushed to zero"
                                                                      : "IEEE subnormals");
    const long epochs = (long)key_int(c, "epochs");
    printf("schedule   %ld epochs, checkpoint every %ld", epochs, (long)key_int(c, "every"));
    const double stop = key_double(c, "stop_test_loss");
    if (stop > 0)
        printf(", stop when test loss < %g", stop);
    printf("\nstatus     %s", status_name(st));
    if (st == GROKSCOPE_RUN_DIVERGED || st == GROKSCOPE_RUN_STOPPED_EARLY)
        printf(" at epoch %ld", status_epoch);
    printf("\n");
    if (n_ck == 0 || n_rows == 0) {
        printf("progress   no checkpoint yet\n");
        return 0;
    }
    grokscope_epoch *rows = malloc((size_t)n_rows * sizeof *rows);
    long first_ck, last_ck;
    int rc = -1;
    if (!rows) {
        gs_cli_set(msg, "out of memory");
        goto out;
    }
    if (grokscope_run_checkpoint_epoch(run, 0, &first_ck) != GROKSCOPE_OK ||
        grokscope_run_checkpoint_epoch(run, n_ck - 1, &last_ck) != GROKSCOPE_OK ||
        grokscope_run_read_epochs(run, 0, n_rows, rows) != GROKSCOPE_OK) {
        gs_cli_set(msg, "%s", grokscope_run_error(run));
        goto out;
    }
    printf("progress   %ld of %ld epochs, %d checkpoints (epochs %ld .. %ld)\n", rows[n_rows - 1].epoch,
           epochs, n_ck, first_ck, last_ck);
    const grokscope_epoch *l = &rows[n_rows - 1];
    printf("last       epoch %ld: train loss %.4g, test loss %.4g, train acc %.2f%%, test acc %.2f%%\n",
           l->epoch, l->train_loss, l->test_loss, 100 * l->train_acc, 100 * l->test_acc);
    if (!isnan(l->collapse_frac) || !isnan(l->grad_norm))
        printf("gradient   epoch %ld: softmax collapsed on %.2f%% of the training set, gradient "
               "norm %.4g, cos(gradient, weights) %.4f\n", l->epoch, 100 * l->collapse_frac,
               l->grad_norm, l->grad_cos);
    /* The events of the phases, from the same definitions. */
    double level;
    const long fitted = grokscope_epochs_first_accuracy(rows, n_rows, 0, &level);
    const long grokked = grokscope_epochs_first_accuracy(rows, n_rows, 1, &level);
    const double acc = 100 * level;
    if (fitted >= 0)
        printf("fitted     train accuracy first >= %.0f%% at epoch %ld\n", acc, fitted);
    else
        printf("fitted     not yet (train accuracy never reached %.0f%%)\n", acc);
    if (grokked >= 0)
        printf("grokked    test accuracy first >= %.0f%% at epoch %ld\n", acc, grokked);
    else
        printf("grokked    not yet (test accuracy never reached %.0f%%)\n", acc);
    rc = 0;
out:
    free(rows);
    return rc;
}

int gs_cmd_info(int argc, char **argv)
{
    if (gs_wants_help(argc, argv)) {
        fputs(info_usage, stdout);
        return 0;
    }
    gs_cli_err err;
    if (argc != 2 || argv[1][0] == '-') {
        gs_cli_set(err.msg, "expected one run file (usage: grokscope info RUN.h5)");
        return gs_fail("info", err.msg);
    }
    grokscope_run *run;
    if (grokscope_run_open(argv[1], &run) != GROKSCOPE_OK) {
        gs_cli_set(err.msg, "%s", run ? grokscope_run_error(run) : "out of memory");
        grokscope_run_close(run);
        return gs_fail("info", err.msg);
    }
    int rc = print_info(run, argv[1], err.msg);
    if (rc == 0 && grokscope_run_print_summary(run, stdout) != GROKSCOPE_OK) {
        gs_cli_set(err.msg, "%s", grokscope_run_error(run));
        rc = -1;
    }
    grokscope_run_close(run);
    return rc == 0 ? 0 : gs_fail("info", err.msg);
}
