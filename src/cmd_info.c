/* grokscope info: what a run file is and how far it got. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "analyze.h"
#include "phases.h"
#include "runfile.h"

static const char info_usage[] =
    "usage: grokscope info RUN.h5\n"
    "\n"
    "Prints a run's configuration, epochs done, checkpoints, status, the last train/test\n"
    "loss and accuracy, the first epochs at which train accuracy (fitted) and test\n"
    "accuracy (grokked) reached 99%, and, once the run is analysed, the key frequencies,\n"
    "the final measures and the phases.\n";

static const char *status_name(gs_run_status s)
{
    switch (s) {
    case GS_RUN_FINISHED: return "finished";
    case GS_RUN_STOPPED_EARLY: return "stopped early (test loss threshold)";
    case GS_RUN_DIVERGED: return "diverged";
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

/* The optimizer line (the paper's run reads as it always has), then one line of the
 * interventions that differ from the paper's run (docs/interventions.md). */
static void print_optimizer(const gs_config *c)
{
    static const char *const names[] = {"AdamW", "Adam (coupled L2)", "SGD"};
    printf("optimizer  %s lr %g, wd %g%s", names[c->optimizer], c->lr, c->wd,
           c->wd_to_init ? " toward the initial weights" : "");
    if (c->optimizer == GS_OPT_SGD)
        printf(", momentum %g", c->momentum);
    else
        printf(", betas (%g, %g)", c->beta1, c->beta2);
    if (c->eps != 1e-8 && c->optimizer != GS_OPT_SGD)
        printf(", eps %g", c->eps);
    printf(", warm-up %d\n", c->warmup);
    char line[512] = "";
    size_t n = 0;
#define ADD(...) n += (size_t)snprintf(line + n, n < sizeof line ? sizeof line - n : 0, __VA_ARGS__)
    if (c->grokfast == GS_GF_EMA)
        ADD(", Grokfast EMA alpha %g lambda %g", c->gf_alpha, c->gf_lambda);
    if (c->grokfast == GS_GF_MA)
        ADD(", Grokfast MA window %d lambda %g", c->gf_window, c->gf_lambda);
    if (c->loss != GS_LOSS_CE || c->loss_precision != 64)
        ADD(", loss %s in float%d", gs_loss_name(c->loss), c->loss_precision);
    if (c->orthograd)
        ADD(", orthograd");
    if (c->init_scale != 1.0)
        ADD(", init scale %g", c->init_scale);
    if (c->fix_norm)
        ADD(", weight norm fixed");
    if (c->output_scale != 1.0)
        ADD(", output scale %g (lr / %g)", c->output_scale, c->output_scale * c->output_scale);
#undef ADD
    if (n > 0)
        print_wrapped("interv.", line + 2);
}

static int print_info(gs_run *run, gs_err *err)
{
    const gs_config *c = gs_run_config(run);
    const char *path = gs_run_path(run);
    const int n_ck = gs_run_n_checkpoints(run);
    const long n_rows = gs_run_n_metrics(run);
    long status_epoch = 0;
    const gs_run_status st = gs_run_get_status(run, &status_epoch);
    printf("run        %s\n", path);
    printf("created by %s\n", gs_run_created_by(run));
    printf("command    %s\n", gs_run_command_line(run));
    const gs_op_info *o = gs_op_get(c->op);
    char why[256];
    if (c->task == GS_TASK_MNIST) {
        printf("task       mnist: the first %d training and %d test images of %s, %d classes, "
               "seed %lld\n", c->train_size, c->test_size, c->data_dir, c->p, (long long)c->seed);
    } else {
        printf("task       %s: %s, %s%d%s, train fraction %g, seed %lld\n", o->name, o->formula,
               o->fixed_p ? "" : "p = ", c->p, o->fixed_p ? " tokens" : "", c->frac,
               (long long)c->seed);
        if (gs_task_n_defined(c->op, c->p, why, sizeof why) < (long)c->p * c->p)
            printf("pairs      %s\n", why);
    }
    print_wrapped("measures", gs_run_circuit_note(run));
    if (c->model != GS_MODEL_TRANSFORMER || c->n_layers > 1)
        print_wrapped("", gs_run_model_note(run));
    char model[256];
    gs_config_describe_model(c, model, sizeof model);
    print_wrapped("model", model);
    print_optimizer(c);
    printf("numerics   float32, %s\n", c->flush_subnormals ? "subnormals flushed to zero"
                                                               : "IEEE subnormals");
    printf("schedule   %ld epochs, checkpoint every %ld", c->epochs, c->every);
    if (c->stop_test_loss > 0)
        printf(", stop when test loss < %g", c->stop_test_loss);
    printf("\nstatus     %s", status_name(st));
    if (st == GS_RUN_DIVERGED || st == GS_RUN_STOPPED_EARLY)
        printf(" at epoch %ld", status_epoch);
    printf("\n");
    if (n_ck == 0 || n_rows == 0) {
        printf("progress   no checkpoint yet\n");
        return 0;
    }
    long *epochs = malloc((size_t)n_ck * sizeof *epochs);
    gs_metrics_row *rows = malloc((size_t)n_rows * sizeof *rows);
    int rc = -1;
    if (!epochs || !rows) {
        gs_err_set(err, "out of memory");
        goto out;
    }
    if (gs_run_checkpoint_epochs(run, epochs, err) != 0 || gs_run_read_metrics(run, 0, n_rows, rows, err) != 0)
        goto out;
    printf("progress   %ld of %ld epochs, %d checkpoints (epochs %ld .. %ld)\n", rows[n_rows - 1].epoch,
           c->epochs, n_ck, epochs[0], epochs[n_ck - 1]);
    const gs_metrics_row *l = &rows[n_rows - 1];
    printf("last       epoch %ld: train loss %.4g, test loss %.4g, train acc %.2f%%, test acc %.2f%%\n",
           l->epoch, l->train_loss, l->test_loss, 100 * l->train_acc, 100 * l->test_acc);
    if (!isnan(l->collapse_frac) || !isnan(l->grad_norm))
        printf("gradient   epoch %ld: softmax collapsed on %.2f%% of the training set, gradient "
               "norm %.4g, cos(gradient, weights) %.4f\n", l->epoch, 100 * l->collapse_frac,
               l->grad_norm, l->grad_cos);
    /* The events of analysis/phases.h, from the same definitions as the phases. */
    const long fitted = gs_phases_first_acc(rows, n_rows, 0);
    const long grokked = gs_phases_first_acc(rows, n_rows, 1);
    const double acc = 100 * GS_PHASE_ACC;
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
    free(epochs);
    free(rows);
    return rc;
}

int gs_cmd_info(int argc, char **argv)
{
    if (gs_wants_help(argc, argv)) {
        fputs(info_usage, stdout);
        return 0;
    }
    gs_err err;
    if (argc != 2 || argv[1][0] == '-') {
        gs_err_set(&err, "expected one run file (usage: grokscope info RUN.h5)");
        return gs_fail("info", &err);
    }
    gs_run *run;
    if (gs_run_open(&run, argv[1], GS_RUN_READ, 0, &err) != 0)
        return gs_fail("info", &err);
    int rc = print_info(run, &err);
    if (rc == 0)
        rc = gs_analysis_print_summary(run, stdout, &err);
    gs_err cerr;
    gs_run_close(run, &cerr);
    return rc == 0 ? 0 : gs_fail("info", &err);
}
