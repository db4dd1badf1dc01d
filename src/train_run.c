/* The training driver on the public API (include/grokscope.h): a grokscope_train plus
 * the progress line, the signals and the exit statuses. */
#include "train_run.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "grokscope.h"
#include "opts.h"
#include "progress.h"

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
    (void)sig;
    interrupted = 1;
}

typedef struct {
    gs_progress progress;
    grokscope_epoch last;
} train_view;

/* Each epoch: the progress line; a signal stops the run with a checkpoint. */
static int on_epoch(void *ctx, const grokscope_epoch *e, int final)
{
    train_view *v = ctx;
    v->last = *e;
    const int stop = interrupted;
    char detail[160];
    snprintf(detail, sizeof detail, "train %.4g  test %.4g  test acc %.1f%%", e->train_loss,
             e->test_loss, 100.0 * e->test_acc);
    gs_progress_update(&v->progress, e->epoch, detail, final || stop);
    return stop;
}

/* The library's message, with what the command line adds. */
static int fail(grokscope_train *t, int code, const gs_train_job *job, char *msg)
{
    gs_cli_set(msg, "%s", grokscope_train_error(t));
    switch (code) {
    case GROKSCOPE_ERR_EXISTS: {
        /* the library refuses; the command line knows the flag that allows it */
        const size_t n = strlen(msg);
        snprintf(msg + n, GS_CLI_MSG - n, " (use --force to overwrite)");
        return GS_EXIT_USAGE;
    }
    case GROKSCOPE_STOPPED:
        gs_cli_set(msg, "%s: interrupted at epoch %ld (checkpoint written); continue with: grokscope train --resume %s",
                   job->out, grokscope_train_epoch(t), job->out);
        return GS_EXIT_INTERRUPTED;
    case GROKSCOPE_ERR_DIVERGED: return GS_EXIT_DIVERGED;
    case GROKSCOPE_ERR_NO_SPACE: return GS_EXIT_NO_SPACE;
    default: return GS_EXIT_USAGE;
    }
}

int gs_train_run(const gs_train_job *job, char *msg)
{
    grokscope_train *t = grokscope_train_new();
    if (!t)
        return gs_cli_set(msg, "out of memory"), GS_EXIT_USAGE;
    train_view view = {0};
    int code = grokscope_train_set_threads(t, job->threads);
    if (code == GROKSCOPE_OK)
        code = grokscope_train_set_force(t, job->force);
    if (code == GROKSCOPE_OK)
        code = grokscope_train_set_init(t, job->init);
    if (code == GROKSCOPE_OK)
        code = grokscope_train_set_command_line(t, job->command_line ? job->command_line : "");
    if (code == GROKSCOPE_OK)
        code = grokscope_train_set_callback(t, on_epoch, &view);
    if (code == GROKSCOPE_OK)
        code = job->resume ? grokscope_train_resume(t, job->out, job->resume_epochs)
                           : grokscope_train_create(t, job->out, job->cfg);
    int status = 0;
    if (code != GROKSCOPE_OK) {
        status = fail(t, code, job, msg);
        grokscope_train_free(t);
        return status;
    }
    int64_t epochs = 0;
    grokscope_config_get_int(grokscope_train_config(t), "epochs", &epochs);
    struct sigaction sa = {0};
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    /* a model other than the paper's says what it is and which path computes it */
    const grokscope_config *tc = grokscope_train_config(t);
    char kind[32] = "", model[256];
    int64_t layers = 1, batch = 0;
    if (!job->quiet && grokscope_config_get(tc, "model", kind, sizeof kind) == GROKSCOPE_OK &&
        grokscope_config_get_int(tc, "n_layers", &layers) == GROKSCOPE_OK &&
        grokscope_config_get_int(tc, "batch", &batch) == GROKSCOPE_OK &&
        (strcmp(kind, "transformer") != 0 || layers != 1 || batch > 0) &&
        grokscope_config_describe_model(tc, model, sizeof model) == GROKSCOPE_OK)
        fprintf(stderr, "model: %s\n", model);
    gs_progress_start(&view.progress, job->resume ? "resume" : "epoch", grokscope_train_epoch(t),
                      (long)epochs, job->quiet);
    code = grokscope_train_run(t);
    gs_progress_end(&view.progress);
    if (code != GROKSCOPE_OK) {
        status = fail(t, code, job, msg);
    } else if (grokscope_train_outcome(t) == GROKSCOPE_RUN_STOPPED_EARLY && !job->quiet) {
        double stop_loss = 0;
        grokscope_config_get_double(grokscope_train_config(t), "stop_test_loss", &stop_loss);
        fprintf(stderr, "stopped early at epoch %ld: test loss %.4g < %g\n", view.last.epoch,
                view.last.test_loss, stop_loss);
    }
    grokscope_train_free(t);
    return status;
}

void gs_train_job_free(gs_train_job *job)
{
    grokscope_config_free(job->cfg);
    job->cfg = NULL;
}
