#include "train_run.h"

#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "opts.h"
#include "progress.h"
#include "runfile.h"
#include "trainer.h"

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
    (void)sig;
    interrupted = 1;
}

/* Opens or creates the run file and brings the trainer to the state it continues from.
 * On return *first is the first epoch to compute. */
static int setup(const gs_train_job *job, gs_trainer *tr, gs_run **run, long *first, gs_err *err)
{
    gs_split split = {0};
    if (job->resume) {
        /* Look before touching: a refused resume must leave the file as it was. */
        if (gs_run_open(run, job->out, GS_RUN_READ, 0, err) != 0)
            return -1;
        const long target = job->resume_epochs > 0 ? job->resume_epochs : gs_run_config(*run)->epochs;
        const long done = gs_run_n_metrics(*run) - 1;
        const gs_config seen = *gs_run_config(*run); /* its data, if any, must be there */
        gs_run_close(*run, NULL);
        *run = NULL;
        if (gs_config_check_data(&seen, err) != 0)
            return -1;
        if (done >= target)
            return gs_err_set(err, "%s: the run already has %ld epochs; pass --epochs N with N > %ld to continue it",
                              job->out, done, done);
        if (gs_run_open(run, job->out, GS_RUN_RESUME, job->resume_epochs, err) != 0)
            return -1;
        const gs_config *cfg = gs_run_config(*run);
        const int n_ck = gs_run_n_checkpoints(*run);
        long *epochs = malloc((size_t)n_ck * sizeof *epochs);
        if (!epochs)
            return gs_err_set(err, "out of memory");
        if (gs_run_checkpoint_epochs(*run, epochs, err) != 0) {
            free(epochs);
            return -1;
        }
        *first = epochs[n_ck - 1];
        free(epochs);
        if (*first >= cfg->epochs)
            return gs_err_set(err, "%s: the run already has %ld epochs; pass --epochs N with N > %ld to continue it",
                              job->out, *first, *first);
        if (gs_run_read_split(*run, &split, err) != 0 || gs_trainer_init(tr, cfg, &split, err) != 0) {
            gs_split_free(&split);
            return -1;
        }
        long step;
        /* theta_0 (checkpoint 0) for the decay toward init and the fixed norm; the
         * params buffer holds it until the last checkpoint is read over it */
        if (gs_run_read_checkpoint(*run, 0, tr->model.params, err) != 0)
            return -1;
        gs_trainer_set_init(tr, tr->model.params);
        if (gs_run_read_checkpoint(*run, n_ck - 1, tr->model.params, err) != 0 ||
            gs_run_read_resume(*run, tr->adam_m, tr->adam_v, &step, err) != 0 ||
            (tr->optim.gf.buf && gs_run_read_filter(*run, tr->optim.gf.buf, err) != 0))
            return -1;
        gs_run_attach_filter(*run, tr->optim.gf.buf);
        if (step != *first)
            return gs_err_set(err, "%s: optimizer state is for step %ld but the last checkpoint is epoch %ld",
                              job->out, step, *first);
        tr->step = step;
        return 0;
    }
    const gs_config *cfg = &job->cfg;
    if (gs_config_validate(cfg, err) != 0)
        return -1;
    if (gs_config_split(cfg, &split, err) != 0)
        return -1;
    if (gs_trainer_init(tr, cfg, &split, err) != 0)
        return -1;
    if (job->init) {
        if (gs_params_load_file(job->init, &tr->dims, tr->model.params, err) != 0)
            return -1;
    } else {
        gs_params_init(tr->model.params, &tr->dims, cfg->seed);
    }
    gs_trainer_begin(tr); /* --init-scale, and theta_0 */
    *first = 0;
    /* Created last, so that no bad option or --init file leaves a file behind. */
    if (gs_run_create(run, job->out, cfg, &tr->split, job->command_line, job->force, err) == 0) {
        gs_run_attach_filter(*run, tr->optim.gf.buf);
        return 0;
    }
    /* the run-file layer refuses; the command line knows the flag that allows it */
    if (err->code == GS_ERR_EXISTS) {
        const size_t n = strlen(err->msg);
        snprintf(err->msg + n, sizeof err->msg - n, " (use --force to overwrite)");
    }
    return -1;
}

/* A checkpoint written into a full disk can leave the HDF5 file claiming more bytes
 * than it has, which makes it unreadable; so look for room first (free space, and the
 * file-size limit) and stop cleanly while everything written is still intact. The
 * bound is generous: parameters plus two optimizer slots, twice, plus 1 MiB. */
static int room_for_checkpoint(const char *path, size_t n_params, int n_rows, gs_err *err)
{
    const double need = 2.0 * (3.0 * (double)n_params * sizeof(float) + 48.0 * n_rows) + 1048576.0;
    double room = INFINITY;
    struct statvfs vfs;
    if (statvfs(path, &vfs) == 0)
        room = (double)vfs.f_bavail * (double)vfs.f_frsize;
    struct rlimit lim;
    struct stat st;
    if (getrlimit(RLIMIT_FSIZE, &lim) == 0 && lim.rlim_cur != RLIM_INFINITY && stat(path, &st) == 0) {
        const double left = (double)lim.rlim_cur - (double)st.st_size;
        room = left < room ? left : room;
    }
    if (room >= need)
        return 0;
    return gs_err_set(err, "%s: not enough disk space for the next checkpoint (%.1f MB left, "
                           "%.1f MB needed); the run is intact up to its last checkpoint: free "
                           "space, then continue with grokscope train --resume %s",
                      path, room / 1e6, need / 1e6, path);
}

static int finite_metrics(const gs_epoch_metrics *m)
{
    return isfinite(m->train_loss) && isfinite(m->test_loss);
}

int gs_train_run(const gs_train_job *job, gs_err *err)
{
    gs_trainer tr = {0};
    gs_run *run = NULL;
    gs_metrics_row *rows = NULL;
    long first = 0;
    int status = GS_EXIT_USAGE;
    gs_set_threads(job->threads);
    if (setup(job, &tr, &run, &first, err) != 0)
        goto done;
    const gs_config *cfg = &tr.cfg;
    if (job->resume)
        tr.cfg = *gs_run_config(run); /* --epochs may have grown */
    /* Rows since the last checkpoint wait here; at most `every` of them. */
    rows = malloc((size_t)(cfg->every + 1) * sizeof *rows);
    if (!rows) {
        gs_err_set(err, "out of memory");
        goto done;
    }
    int n_rows = 0;
    struct sigaction sa = {0};
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    /* a model other than the paper's says what it is and which path computes it */
    if (!job->quiet && (cfg->model != GS_MODEL_TRANSFORMER || cfg->n_layers != 1 || cfg->batch > 0)) {
        char model[256];
        gs_config_describe_model(cfg, model, sizeof model);
        fprintf(stderr, "model: %s\n", model);
    }
    gs_progress pr;
    gs_progress_start(&pr, job->resume ? "resume" : "epoch", first, cfg->epochs, job->quiet);
    for (long e = first;; e++) {
        gs_epoch_metrics m;
        gs_trainer_measure(&tr, &m);
        if (!finite_metrics(&m)) {
            gs_err tmp;
            gs_progress_end(&pr);
            gs_run_set_status(run, GS_RUN_DIVERGED, e, &tmp);
            gs_err_set(err, "%s: training diverged at epoch %ld (train loss %g, test loss %g); "
                            "kept everything up to the last checkpoint and marked the run diverged",
                       job->out, e, m.train_loss, m.test_loss);
            status = GS_EXIT_DIVERGED;
            goto done;
        }
        const int resumed_row = job->resume && e == first; /* already stored */
        /* the gradient at these weights, before the row is stored (its measures are in
         * the row); the step that uses it follows the checkpoint */
        gs_trainer_backward(&tr, &m);
        const int stop_early = cfg->stop_test_loss > 0 && m.test_loss < cfg->stop_test_loss && !resumed_row;
        const int last = e == cfg->epochs || stop_early || interrupted;
        if (!resumed_row) {
            rows[n_rows++] = (gs_metrics_row){e, m.train_loss, m.test_loss, m.train_acc, m.test_acc,
                                              m.collapse_frac, m.grad_norm, m.grad_cos};
            if (e % cfg->every == 0 || last) {
                if (room_for_checkpoint(job->out, tr.model.n_params, n_rows, err) != 0) {
                    gs_progress_end(&pr);
                    status = GS_EXIT_NO_SPACE;
                    goto done;
                }
                if (gs_run_append(run, rows, n_rows, e, tr.model.params, tr.adam_m, tr.adam_v, tr.step, err) != 0)
                    goto done;
                n_rows = 0;
            }
        }
        char detail[160];
        snprintf(detail, sizeof detail, "train %.4g  test %.4g  test acc %.1f%%", m.train_loss,
                 m.test_loss, 100.0 * m.test_acc);
        gs_progress_update(&pr, e, detail, last);
        if (last) {
            gs_progress_end(&pr);
            if (interrupted && e != cfg->epochs && !stop_early) {
                gs_err_set(err, "%s: interrupted at epoch %ld (checkpoint written); continue with: grokscope train --resume %s",
                           job->out, e, job->out);
                status = GS_EXIT_INTERRUPTED;
                goto done;
            }
            if (gs_run_set_status(run, stop_early ? GS_RUN_STOPPED_EARLY : GS_RUN_FINISHED, e, err) != 0)
                goto done;
            if (stop_early && !job->quiet)
                fprintf(stderr, "stopped early at epoch %ld: test loss %.4g < %g\n", e, m.test_loss,
                        cfg->stop_test_loss);
            break;
        }
        gs_trainer_step(&tr);
    }
    status = 0;
done:
    free(rows);
    if (run) {
        gs_err cerr;
        if (gs_run_close(run, &cerr) != 0 && status == 0) {
            *err = cerr;
            status = GS_EXIT_USAGE;
        }
    }
    gs_trainer_free(&tr);
    return status;
}
