/* One point of a sweep as its run file tells it: status, epochs, first passages, final
 * metrics, the analysis's phases and key frequencies, the class. Read-only. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "sweep_result.h"

static void reset(gs_sweep_result *r)
{
    *r = (gs_sweep_result){0};
    r->status = GS_SWEEP_PENDING;
    r->epochs_done = r->epochs = -1;
    r->fp = (gs_sweep_passages){-1, -1, -1, -1, NAN, NAN};
    r->delay = r->wall_s = NAN;
    r->final_train_loss = r->final_test_loss = r->final_train_acc = r->final_test_acc = NAN;
    r->memorization_end = r->circuit_end = r->cleanup_end = -1;
    r->n_key = -1;
    r->cls = GS_SWEEP_NO_CLASS;
}

/* The analysis's view of the run. This is the one place the sweep reads /analysis: the
 * phases and the key frequencies, when the analysis covers every checkpoint. */
static int read_analysis(gs_run *run, gs_sweep_result *r, gs_err *err)
{
    if (!gs_run_has_analysis(run) || r->n_checkpoints == 0 || gs_run_n_analyzed(run) != r->n_checkpoints)
        return 0;
    gs_analysis_phases ph;
    gs_analysis_keys keys = {0}; /* NULL neuron buffers: the clusters are not needed */
    if (gs_run_read_phases(run, &ph, err) != 0 || gs_run_read_keys(run, &keys, err) != 0)
        return -1;
    r->analysed = 1;
    r->memorization_end = ph.memorization_end;
    r->circuit_end = ph.circuit_end;
    r->cleanup_end = ph.cleanup_end;
    r->n_key = keys.n_key;
    for (int k = 0; k < keys.n_key && k < GS_ANALYSIS_MAX_KEYS; k++)
        r->key_freqs[k] = keys.key_freqs[k];
    return 0;
}

static int read_open(gs_run *run, gs_sweep_result *r, gs_metrics_row **rows_out, long *n_out, gs_err *err)
{
    const gs_config *cfg = gs_run_config(run);
    long status_epoch;
    const gs_run_status st = gs_run_get_status(run, &status_epoch);
    const long n = gs_run_n_metrics(run);
    r->n_checkpoints = gs_run_n_checkpoints(run);
    r->epochs = cfg->epochs;
    gs_metrics_row *rows = NULL;
    if (n > 0) {
        rows = malloc((size_t)n * sizeof *rows);
        if (!rows)
            return gs_err_set(err, "out of memory");
        if (gs_run_read_metrics(run, 0, n, rows, err) != 0) {
            free(rows);
            return -2; /* the file's fault, not ours */
        }
        const gs_metrics_row *last = &rows[n - 1];
        r->epochs_done = last->epoch;
        r->final_train_loss = last->train_loss;
        r->final_test_loss = last->test_loss;
        r->final_train_acc = last->train_acc;
        r->final_test_acc = last->test_acc;
    }
    switch (st) {
    case GS_RUN_FINISHED: r->status = GS_SWEEP_FINISHED; break;
    case GS_RUN_STOPPED_EARLY: r->status = GS_SWEEP_STOPPED_EARLY; break;
    case GS_RUN_DIVERGED: r->status = GS_SWEEP_DIVERGED; break;
    default:
        /* killed after its last checkpoint but before the status was written: every
         * epoch is there, so it is finished */
        r->status = r->n_checkpoints > 0 && r->epochs_done == cfg->epochs ? GS_SWEEP_FINISHED : GS_SWEEP_UNFINISHED;
    }
    gs_sweep_first_passages(rows, n, &r->fp);
    if (r->fp.train_99 >= 0 && r->fp.test_99 >= 0)
        r->delay = (double)(r->fp.test_99 - r->fp.train_99);
    r->cls = gs_sweep_classify(r->status, &r->fp);
    if (read_analysis(run, r, err) != 0) {
        free(rows);
        return -2;
    }
    if (rows_out) {
        *rows_out = rows;
        *n_out = n;
    } else {
        free(rows);
    }
    return 0;
}

int gs_sweep_read_point(const char *path, gs_sweep_result *r, gs_config *cfg, gs_metrics_row **rows,
                        long *n_rows, gs_err *err)
{
    reset(r);
    if (rows) {
        *rows = NULL;
        *n_rows = 0;
    }
    struct stat st;
    if (stat(path, &st) != 0) {
        if (errno == ENOENT)
            return 0;
        r->status = GS_SWEEP_UNREADABLE;
        snprintf(r->message, sizeof r->message, "%s: %s", path, strerror(errno));
        return 0;
    }
    gs_run *run;
    gs_err e;
    if (gs_run_open(&run, path, GS_RUN_READ, 0, &e) != 0) {
        r->status = GS_SWEEP_UNREADABLE;
        snprintf(r->message, sizeof r->message, "%s", e.msg);
        return 0;
    }
    if (cfg)
        *cfg = *gs_run_config(run);
    int rc = read_open(run, r, rows, n_rows, &e);
    gs_run_close(run, NULL);
    if (rc == -1) {
        *err = e;
        return -1;
    }
    if (rc == -2) {
        const long epochs = r->epochs;
        reset(r);
        r->epochs = epochs;
        r->status = GS_SWEEP_UNREADABLE;
        snprintf(r->message, sizeof r->message, "%s", e.msg);
    }
    return 0;
}

void gs_sweep_config_diff(const gs_config *f, const gs_config *p, char *out, size_t size)
{
    out[0] = '\0';
#define LONG_FIELD(name, field)                                                                    \
    if ((long long)f->field != (long long)p->field) {                                              \
        snprintf(out, size, "%s %lld, not %lld", name, (long long)f->field, (long long)p->field);  \
        return;                                                                                    \
    }
#define DOUBLE_FIELD(name, field)                                                                  \
    if (f->field != p->field) {                                                                    \
        snprintf(out, size, "%s %g, not %g", name, f->field, p->field);                            \
        return;                                                                                    \
    }
    /* every field of gs_config: a new one belongs here too */
    LONG_FIELD("p", p)
    if (f->op != p->op) {
        snprintf(out, size, "op %s, not %s", gs_op_name(f->op), gs_op_name(p->op));
        return;
    }
    DOUBLE_FIELD("frac", frac)
    LONG_FIELD("seed", seed)
    LONG_FIELD("d_model", d_model)
    LONG_FIELD("n_heads", n_heads)
    LONG_FIELD("d_mlp", d_mlp)
    /* the network and the batch (models) */
    if (f->model != p->model) {
        snprintf(out, size, "model %s, not %s", gs_model_kind_name(f->model),
                 gs_model_kind_name(p->model));
        return;
    }
    LONG_FIELD("n_layers", n_layers)
    LONG_FIELD("d_embed", d_embed)
    LONG_FIELD("hidden layers", n_hidden)
    for (int i = 0; i < f->n_hidden; i++)
        LONG_FIELD("hidden width", hidden[i])
    if (f->act != p->act) {
        snprintf(out, size, "act %s, not %s", gs_act_name(f->act), gs_act_name(p->act));
        return;
    }
    LONG_FIELD("bias", bias)
    LONG_FIELD("batch", batch)
    DOUBLE_FIELD("lr", lr)
    DOUBLE_FIELD("wd", wd)
    DOUBLE_FIELD("beta1", beta1)
    DOUBLE_FIELD("beta2", beta2)
    DOUBLE_FIELD("eps", eps)
    LONG_FIELD("warmup", warmup)
    LONG_FIELD("epochs", epochs)
    LONG_FIELD("every", every)
    DOUBLE_FIELD("stop_test_loss", stop_test_loss)
    LONG_FIELD("flush_subnormals", flush_subnormals)
    /* interventions (docs/interventions.md) */
#define NAME_FIELD(name, field, namer)                                                             \
    if (f->field != p->field) {                                                                    \
        snprintf(out, size, "%s %s, not %s", name, namer(f->field), namer(p->field));              \
        return;                                                                                    \
    }
    NAME_FIELD("optimizer", optimizer, gs_optimizer_name)
    DOUBLE_FIELD("momentum", momentum)
    LONG_FIELD("wd_to_init", wd_to_init)
    NAME_FIELD("grokfast", grokfast, gs_grokfast_name)
    DOUBLE_FIELD("gf_alpha", gf_alpha)
    DOUBLE_FIELD("gf_lambda", gf_lambda)
    LONG_FIELD("gf_window", gf_window)
    NAME_FIELD("loss", loss, gs_loss_name)
    LONG_FIELD("loss_precision", loss_precision)
    LONG_FIELD("orthograd", orthograd)
    DOUBLE_FIELD("init_scale", init_scale)
    LONG_FIELD("fix_norm", fix_norm)
    DOUBLE_FIELD("output_scale", output_scale)
    /* the task kind (mnist) */
    NAME_FIELD("task", task, gs_task_kind_name)
    if (strcmp(f->data_dir, p->data_dir) != 0) {
        snprintf(out, size, "data_dir %.200s, not %.200s", f->data_dir, p->data_dir);
        return;
    }
    LONG_FIELD("train_size", train_size)
    LONG_FIELD("test_size", test_size)
#undef LONG_FIELD
#undef DOUBLE_FIELD
#undef NAME_FIELD
}
