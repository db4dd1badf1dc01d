/* Root attributes (format, version, provenance) and /config: the run's definition. */
#include "runfile_internal.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef GS_VERSION
#define GS_VERSION "unknown"
#endif

/* The circuit note of the run's task: op's, or why images have none. */
static void circuit_note_of(gs_run *run)
{
    if (run->cfg.task == GS_TASK_MNIST)
        snprintf(run->circuit_note, sizeof run->circuit_note,
                 "none: image classification has no group operation on tokens, so "
                 "restricted_loss, excluded_loss, the Fourier norms and the Gini coefficients "
                 "have no meaning, and there are no neuron clusters or key frequencies");
    else
        gs_circuit_describe(run->cfg.op, run->cfg.p, run->circuit_note, sizeof run->circuit_note);
}

int gs_run_basis_order(const gs_run *run)
{
    return run->cfg.task == GS_TASK_MNIST ? 0 : gs_circuit_order(run->cfg.op, run->cfg.p);
}

/* /analysis attribute circuit_measures (format 1.2): written with the file, since
 * attributes cannot be added once SWMR writing starts; a function of op and p. */
static int write_circuit_note(gs_run *run, gs_err *err)
{
    char where[GS_WHERE_MAX];
    circuit_note_of(run);
    gs_config_model_note(&run->cfg, run->model_note, sizeof run->model_note);
    gs_run_where(where, run->path, "/analysis");
    hid_t g = H5Gopen2(run->file, "analysis", H5P_DEFAULT);
    if (g < 0)
        return gs_h5_fail(err, "%s: cannot open", where);
    int rc = gs_h5_attr_write_str(g, "circuit_measures", run->circuit_note, where, err);
    if (rc == 0)
        rc = gs_h5_attr_write_str(g, "model_measures", run->model_note, where, err);
    if (H5Gclose(g) < 0 && rc == 0)
        rc = gs_h5_fail(err, "%s: cannot close", where);
    return rc < 0 ? -1 : 0;
}

/* The same on reading; files without it get what this grokscope says. */
static int read_circuit_note(gs_run *run, gs_err *err)
{
    char where[GS_WHERE_MAX];
    circuit_note_of(run);
    gs_config_model_note(&run->cfg, run->model_note, sizeof run->model_note);
    gs_run_where(where, run->path, "/analysis");
    htri_t has = H5Lexists(run->file, "analysis", H5P_DEFAULT);
    if (has <= 0)
        return has < 0 ? gs_h5_fail(err, "%s: cannot look it up", where) : 0;
    hid_t g = H5Gopen2(run->file, "analysis", H5P_DEFAULT);
    if (g < 0)
        return gs_h5_fail(err, "%s: cannot open", where);
    char *note = NULL;
    int rc = gs_h5_attr_exists(g, "circuit_measures", where, err);
    if (rc > 0 && (rc = gs_h5_attr_read_str(g, "circuit_measures", &note, where, err)) >= 0)
        snprintf(run->circuit_note, sizeof run->circuit_note, "%s", note);
    free(note);
    note = NULL;
    if (rc >= 0 && (rc = gs_h5_attr_exists(g, "model_measures", where, err)) > 0 &&
        (rc = gs_h5_attr_read_str(g, "model_measures", &note, where, err)) >= 0)
        snprintf(run->model_note, sizeof run->model_note, "%s", note);
    free(note);
    H5Gclose(g);
    return rc < 0 ? -1 : 0;
}

/* The interventions (format 1.3, docs/interventions.md): always written; a file
 * without them reads as the paper's run (gs_config_default's values). */
static int write_interventions(hid_t g, const gs_config *c, const char *where, gs_err *err)
{
    if (gs_h5_attr_write_str(g, "optimizer", gs_optimizer_name(c->optimizer), where, err) < 0 ||
        gs_h5_attr_write_f64(g, "momentum", c->momentum, where, err) < 0 ||
        gs_h5_attr_write_i64(g, "wd_to_init", c->wd_to_init, where, err) < 0 ||
        gs_h5_attr_write_str(g, "grokfast", gs_grokfast_name(c->grokfast), where, err) < 0 ||
        gs_h5_attr_write_f64(g, "gf_alpha", c->gf_alpha, where, err) < 0 ||
        gs_h5_attr_write_f64(g, "gf_lambda", c->gf_lambda, where, err) < 0 ||
        gs_h5_attr_write_i64(g, "gf_window", c->gf_window, where, err) < 0 ||
        gs_h5_attr_write_str(g, "loss", gs_loss_name(c->loss), where, err) < 0 ||
        gs_h5_attr_write_i64(g, "loss_precision", c->loss_precision, where, err) < 0 ||
        gs_h5_attr_write_i64(g, "orthograd", c->orthograd, where, err) < 0 ||
        gs_h5_attr_write_f64(g, "init_scale", c->init_scale, where, err) < 0 ||
        gs_h5_attr_write_i64(g, "fix_norm", c->fix_norm, where, err) < 0 ||
        gs_h5_attr_write_f64(g, "output_scale", c->output_scale, where, err) < 0)
        return -1;
    return 0;
}

static int read_opt_f64(hid_t g, const char *name, double *v, const char *where, gs_err *err)
{
    int has = gs_h5_attr_exists(g, name, where, err);
    return has < 0 ? -1 : has ? gs_h5_attr_read_f64(g, name, v, where, err) : 0;
}

static int read_opt_name(hid_t g, const char *name, int (*parse)(const char *, int *), int *v,
                         const char *where, gs_err *err)
{
    int has = gs_h5_attr_exists(g, name, where, err);
    if (has <= 0)
        return has;
    char *s = NULL;
    if (gs_h5_attr_read_str(g, name, &s, where, err) < 0)
        return -1;
    int bad = parse(s, v) != 0;
    if (bad)
        gs_err_set(err, "%s: attribute %s = '%.60s' is unknown to this grokscope", where, name, s);
    free(s);
    return bad ? -1 : 0;
}

/* ---- the model and batch fields (format 1.3; docs/run-file.md) ---- */

/* model always; the transformer's n_layers, or the MLP's fields; batch. */
static int write_model(hid_t g, const gs_config *c, const char *where, gs_err *err)
{
    if (gs_h5_attr_write_str(g, "model", gs_model_kind_name(c->model), where, err) < 0)
        return -1;
    if (c->model == GS_MODEL_TRANSFORMER) {
        if (gs_h5_attr_write_i64(g, "n_layers", c->n_layers, where, err) < 0)
            return -1;
    } else {
        char hidden[GS_MLP_MAX_HIDDEN * 8];
        gs_hidden_format(hidden, sizeof hidden, c->n_hidden, c->hidden);
        if (gs_h5_attr_write_i64(g, "d_embed", c->d_embed, where, err) < 0 ||
            gs_h5_attr_write_str(g, "hidden", hidden, where, err) < 0 ||
            gs_h5_attr_write_str(g, "act", gs_act_name(c->act), where, err) < 0 ||
            gs_h5_attr_write_i64(g, "bias", c->bias, where, err) < 0)
            return -1;
    }
    return gs_h5_attr_write_i64(g, "batch", c->batch, where, err);
}

/* Absent attributes are what files before 1.3 were: the one-layer transformer, full
 * batch. */
static int read_opt_int(hid_t g, const char *name, int64_t lo, int64_t hi, int *out,
                        const char *where, gs_err *err);

static int read_opt_str(hid_t g, const char *name, char **out, const char *where, gs_err *err)
{
    *out = NULL;
    int has = gs_h5_attr_exists(g, name, where, err);
    if (has <= 0)
        return has;
    return gs_h5_attr_read_str(g, name, out, where, err) < 0 ? -1 : 1;
}

/* read_opt_name's parsers for the two enum-typed choices */
static int parse_model(const char *s, int *k)
{
    gs_model_kind m;
    if (gs_model_kind_parse(s, &m) != 0)
        return -1;
    *k = (int)m;
    return 0;
}

static int parse_act(const char *s, int *k)
{
    gs_act a;
    if (gs_act_parse(s, &a) != 0)
        return -1;
    *k = (int)a;
    return 0;
}

/* Absent attributes keep c's values, which read_config set to the defaults. */
static int read_model(hid_t g, gs_config *c, const char *where, gs_err *err)
{
    int model = (int)c->model, act = (int)c->act;
    if (read_opt_name(g, "model", parse_model, &model, where, err) < 0 ||
        read_opt_int(g, "n_layers", 1, GS_MAX_LAYERS, &c->n_layers, where, err) < 0 ||
        read_opt_int(g, "d_embed", 0, INT_MAX, &c->d_embed, where, err) < 0 ||
        read_opt_int(g, "bias", 0, 1, &c->bias, where, err) < 0 ||
        read_opt_int(g, "batch", 0, INT_MAX, &c->batch, where, err) < 0 ||
        read_opt_name(g, "act", parse_act, &act, where, err) < 0)
        return -1;
    c->model = (gs_model_kind)model;
    c->act = (gs_act)act;
    char *s = NULL;
    const int has = read_opt_str(g, "hidden", &s, where, err);
    if (has < 0)
        return -1;
    gs_err inner;
    const int bad = has && gs_hidden_parse("hidden", s, &c->n_hidden, c->hidden, &inner) != 0;
    if (bad)
        gs_err_set(err, "%s: %s", where, inner.msg);
    free(s);
    return bad ? -1 : 0;
}

/* Absent attributes keep c's values, which the caller set to the defaults. */
static int read_interventions(hid_t g, gs_config *c, const char *where, gs_err *err)
{
    if (read_opt_name(g, "optimizer", gs_optimizer_parse, &c->optimizer, where, err) < 0 ||
        read_opt_f64(g, "momentum", &c->momentum, where, err) < 0 ||
        read_opt_int(g, "wd_to_init", 0, 1, &c->wd_to_init, where, err) < 0 ||
        read_opt_name(g, "grokfast", gs_grokfast_parse, &c->grokfast, where, err) < 0 ||
        read_opt_f64(g, "gf_alpha", &c->gf_alpha, where, err) < 0 ||
        read_opt_f64(g, "gf_lambda", &c->gf_lambda, where, err) < 0 ||
        read_opt_int(g, "gf_window", 1, INT_MAX, &c->gf_window, where, err) < 0 ||
        read_opt_name(g, "loss", gs_loss_parse, &c->loss, where, err) < 0 ||
        read_opt_int(g, "loss_precision", 0, INT_MAX, &c->loss_precision, where, err) < 0 ||
        read_opt_int(g, "orthograd", 0, 1, &c->orthograd, where, err) < 0 ||
        read_opt_f64(g, "init_scale", &c->init_scale, where, err) < 0 ||
        read_opt_int(g, "fix_norm", 0, 1, &c->fix_norm, where, err) < 0 ||
        read_opt_f64(g, "output_scale", &c->output_scale, where, err) < 0)
        return -1;
    return 0;
}

/* ---- the task kind (format 1.3; docs/run-file.md) ---- */

/* task always; the image task's data_dir, train_size, test_size. */
static int write_task(hid_t g, const gs_config *c, const char *where, gs_err *err)
{
    if (gs_h5_attr_write_str(g, "task", gs_task_kind_name(c->task), where, err) < 0)
        return -1;
    if (c->task != GS_TASK_MNIST)
        return 0;
    if (gs_h5_attr_write_str(g, "data_dir", c->data_dir, where, err) < 0 ||
        gs_h5_attr_write_i64(g, "train_size", c->train_size, where, err) < 0 ||
        gs_h5_attr_write_i64(g, "test_size", c->test_size, where, err) < 0)
        return -1;
    return 0;
}

/* Absent: a modular run (every file before 1.3). */
static int read_task(hid_t g, gs_config *c, const char *where, gs_err *err)
{
    if (read_opt_name(g, "task", gs_task_kind_parse, &c->task, where, err) < 0)
        return -1;
    if (c->task != GS_TASK_MNIST)
        return 0;
    char *dir = NULL;
    int has = read_opt_str(g, "data_dir", &dir, where, err);
    if (has < 0)
        return -1;
    if (!has)
        return gs_err_set(err, "%s: task mnist without data_dir", where);
    const int fits = strlen(dir) < sizeof c->data_dir;
    if (fits)
        snprintf(c->data_dir, sizeof c->data_dir, "%s", dir);
    free(dir);
    if (!fits)
        return gs_err_set(err, "%s: data_dir is longer than %zu bytes", where, sizeof c->data_dir - 1);
    if (read_opt_int(g, "train_size", 1, INT_MAX, &c->train_size, where, err) < 0 ||
        read_opt_int(g, "test_size", 1, INT_MAX, &c->test_size, where, err) < 0)
        return -1;
    return 0;
}

int gs_run_write_attrs(gs_run *run, gs_err *err)
{
    char where[GS_WHERE_MAX], version[32];
    const gs_config *c = &run->cfg;
    gs_run_where(where, run->path, "/");
    snprintf(version, sizeof version, "%d.%d", GS_RUN_FORMAT_MAJOR, GS_RUN_FORMAT_MINOR);
    hid_t f = run->file;
    /* The version twice: a string for people and h5dump, integers for programs. */
    if (gs_h5_attr_write_str(f, "format", GS_RUN_FORMAT, where, err) < 0 ||
        gs_h5_attr_write_str(f, "format_version", version, where, err) < 0 ||
        gs_h5_attr_write_i64(f, "format_version_major", GS_RUN_FORMAT_MAJOR, where, err) < 0 ||
        gs_h5_attr_write_i64(f, "format_version_minor", GS_RUN_FORMAT_MINOR, where, err) < 0 ||
        gs_h5_attr_write_str(f, "created_by", run->created_by, where, err) < 0 ||
        gs_h5_attr_write_str(f, "command_line", run->command_line, where, err) < 0)
        return -1;

    gs_run_where(where, run->path, "/config");
    hid_t g = H5Gopen2(f, "config", H5P_DEFAULT);
    if (g < 0)
        return gs_h5_fail(err, "%s: cannot open", where);
    int rc = -1;
    if (gs_h5_attr_write_i64(g, "p", c->p, where, err) < 0 ||
        gs_h5_attr_write_str(g, "op", gs_op_name(c->op), where, err) < 0 ||
        gs_h5_attr_write_f64(g, "frac", c->frac, where, err) < 0 ||
        gs_h5_attr_write_i64(g, "seed", c->seed, where, err) < 0 ||
        gs_h5_attr_write_i64(g, "d_model", c->d_model, where, err) < 0 ||
        gs_h5_attr_write_i64(g, "n_heads", c->n_heads, where, err) < 0 ||
        gs_h5_attr_write_i64(g, "d_head", c->d_model / c->n_heads, where, err) < 0 ||
        gs_h5_attr_write_i64(g, "d_mlp", c->d_mlp, where, err) < 0 ||
        write_model(g, c, where, err) < 0 ||
        gs_h5_attr_write_f64(g, "lr", c->lr, where, err) < 0 ||
        gs_h5_attr_write_f64(g, "wd", c->wd, where, err) < 0 ||
        gs_h5_attr_write_f64(g, "beta1", c->beta1, where, err) < 0 ||
        gs_h5_attr_write_f64(g, "beta2", c->beta2, where, err) < 0 ||
        gs_h5_attr_write_f64(g, "eps", c->eps, where, err) < 0 ||
        gs_h5_attr_write_i64(g, "warmup", c->warmup, where, err) < 0 ||
        gs_h5_attr_write_i64(g, "epochs", c->epochs, where, err) < 0 ||
        gs_h5_attr_write_i64(g, "every", c->every, where, err) < 0 ||
        gs_h5_attr_write_f64(g, "stop_test_loss", c->stop_test_loss, where, err) < 0 ||
        gs_h5_attr_write_i64(g, "flush_subnormals", c->flush_subnormals, where, err) < 0 ||
        gs_h5_attr_write_i64(g, "n_train", run->n_train, where, err) < 0 ||
        gs_h5_attr_write_i64(g, "n_test", run->n_test, where, err) < 0 ||
        write_interventions(g, c, where, err) < 0 || write_task(g, c, where, err) < 0)
        goto done;
    rc = 0;
done:
    if (H5Gclose(g) < 0 && rc == 0)
        rc = gs_h5_fail(err, "%s: cannot close", where);
    return rc < 0 ? -1 : write_circuit_note(run, err);
}

static int read_version(gs_run *run, const char *where, gs_err *err)
{
    hid_t f = run->file;
    char *format = NULL;
    int has = gs_h5_attr_exists(f, "format", where, err);
    if (has <= 0)
        return has < 0 ? -1
                       : gs_err_set(err, "%s: not a grokscope run file (no 'format' attribute "
                                    "at the root)", run->path);
    if (gs_h5_attr_read_str(f, "format", &format, where, err) < 0)
        return -1;
    int same = strcmp(format, GS_RUN_FORMAT) == 0;
    if (!same)
        gs_err_set(err, "%s: not a grokscope run file (format is '%.100s')", run->path, format);
    free(format);
    if (!same)
        return -1;

    /* Programs read the integers; a file that only has the string is parsed. */
    int64_t major = -1, minor = 0;
    if ((has = gs_h5_attr_exists(f, "format_version_major", where, err)) < 0)
        return -1;
    if (has) {
        if (gs_h5_attr_read_i64(f, "format_version_major", &major, where, err) < 0)
            return -1;
        if ((has = gs_h5_attr_exists(f, "format_version_minor", where, err)) < 0 ||
            (has && gs_h5_attr_read_i64(f, "format_version_minor", &minor, where, err) < 0))
            return -1;
    } else {
        char *v = NULL;
        if (gs_h5_attr_read_str(f, "format_version", &v, where, err) < 0)
            return -1;
        long long a, b;
        if (sscanf(v, "%lld.%lld", &a, &b) == 2) {
            major = a;
            minor = b;
        }
        free(v);
    }
    if (major < 1)
        return gs_err_set(err, "%s: run-file format version is unreadable", run->path);
    run->minor = major > 1 ? 0 : (long)minor;
    if (major > GS_RUN_FORMAT_MAJOR)
        return gs_err_set(err, "%s: run-file format version %lld.%lld is newer than this "
                          "grokscope understands (%d.%d)", run->path, (long long)major,
                          (long long)minor, GS_RUN_FORMAT_MAJOR, GS_RUN_FORMAT_MINOR);
    return 0;
}

static int read_int(hid_t g, const char *name, int64_t lo, int64_t hi, int64_t *out,
                    const char *where, gs_err *err)
{
    if (gs_h5_attr_read_i64(g, name, out, where, err) < 0)
        return -1;
    if (*out < lo || *out > hi)
        return gs_err_set(err, "%s: attribute %s = %lld is out of range", where, name,
                          (long long)*out);
    return 0;
}

static int read_opt_int(hid_t g, const char *name, int64_t lo, int64_t hi, int *out,
                        const char *where, gs_err *err)
{
    int64_t v;
    int has = gs_h5_attr_exists(g, name, where, err);
    if (has <= 0)
        return has;
    if (read_int(g, name, lo, hi, &v, where, err) < 0)
        return -1;
    *out = (int)v;
    return 0;
}

static int read_config(gs_run *run, hid_t g, const char *where, gs_err *err)
{
    gs_config *c = &run->cfg;
    gs_config_default(c); /* what a file of an older format leaves out */
    int64_t p, d_model, n_heads, d_head, d_mlp, warmup, epochs, every, n_train, n_test;
    char *op = NULL;
    if (read_int(g, "p", 1, INT_MAX, &p, where, err) < 0 ||
        gs_h5_attr_read_str(g, "op", &op, where, err) < 0)
        return -1;
    int bad_op = gs_op_parse(op, &c->op) != 0;
    if (bad_op)
        gs_err_set(err, "%s: unknown operation '%.100s'", where, op);
    free(op);
    if (bad_op)
        return -1;
    if (gs_h5_attr_read_f64(g, "frac", &c->frac, where, err) < 0 ||
        gs_h5_attr_read_i64(g, "seed", &c->seed, where, err) < 0 ||
        read_int(g, "d_model", 1, INT_MAX, &d_model, where, err) < 0 ||
        read_int(g, "n_heads", 1, INT_MAX, &n_heads, where, err) < 0 ||
        read_int(g, "d_head", 1, INT_MAX, &d_head, where, err) < 0 ||
        read_int(g, "d_mlp", 1, INT_MAX, &d_mlp, where, err) < 0 ||
        gs_h5_attr_read_f64(g, "lr", &c->lr, where, err) < 0 ||
        gs_h5_attr_read_f64(g, "wd", &c->wd, where, err) < 0 ||
        gs_h5_attr_read_f64(g, "beta1", &c->beta1, where, err) < 0 ||
        gs_h5_attr_read_f64(g, "beta2", &c->beta2, where, err) < 0 ||
        gs_h5_attr_read_f64(g, "eps", &c->eps, where, err) < 0 ||
        read_int(g, "warmup", 0, INT_MAX, &warmup, where, err) < 0 ||
        read_int(g, "epochs", 0, LONG_MAX, &epochs, where, err) < 0 ||
        read_int(g, "every", 0, LONG_MAX, &every, where, err) < 0 ||
        gs_h5_attr_read_f64(g, "stop_test_loss", &c->stop_test_loss, where, err) < 0 ||
        read_int(g, "n_train", 1, INT_MAX, &n_train, where, err) < 0 ||
        read_int(g, "n_test", 1, INT_MAX, &n_test, where, err) < 0 ||
        read_interventions(g, c, where, err) < 0)
        return -1;
    /* absent in files written before the option existed: those computed with IEEE
     * subnormals, and must resume and be analysed the same way */
    int64_t flush = 0;
    int has_flush = gs_h5_attr_exists(g, "flush_subnormals", where, err);
    if (has_flush < 0 || (has_flush && read_int(g, "flush_subnormals", 0, 1, &flush, where, err) < 0))
        return -1;
    c->flush_subnormals = (int)flush;
    if (read_model(g, c, where, err) < 0 || read_task(g, c, where, err) < 0)
        return -1;
    c->p = (int)p;
    c->d_model = (int)d_model;
    c->n_heads = (int)n_heads;
    c->d_mlp = (int)d_mlp;
    c->warmup = (int)warmup;
    c->epochs = (long)epochs;
    c->every = (long)every;
    gs_err inner;
    if (gs_config_validate(c, &inner) < 0)
        return gs_err_set(err, "%s: invalid run definition: %s", where, inner.msg);
    if (d_head * n_heads != d_model)
        return gs_err_set(err, "%s: d_head %lld is not d_model / n_heads", where,
                          (long long)d_head);
    /* validate bounds p, so p*p cannot overflow */
    if (c->task == GS_TASK_MNIST ? n_train > c->train_size || n_test > c->test_size
                                 : n_train + n_test > p * p)
        return gs_err_set(err, "%s: n_train + n_test = %lld exceeds the %lld inputs", where,
                          (long long)(n_train + n_test),
                          (long long)(gs_config_index_bound(c, 0) +
                                      (c->task == GS_TASK_MNIST ? c->test_size : 0)));
    run->n_train = (int)n_train;
    run->n_test = (int)n_test;
    gs_run_set_layout(run);
    return 0;
}

/* Provenance attributes are informational: a file without them still reads. */
static int read_optional_str(hid_t f, const char *name, char **out, const char *where,
                             gs_err *err)
{
    int has = gs_h5_attr_exists(f, name, where, err);
    if (has < 0)
        return -1;
    if (has)
        return gs_h5_attr_read_str(f, name, out, where, err);
    *out = strdup("");
    return *out ? 0 : gs_err_set(err, "%s: out of memory", where);
}

int gs_run_read_attrs(gs_run *run, gs_err *err)
{
    char where[GS_WHERE_MAX];
    gs_run_where(where, run->path, "/");
    if (read_version(run, where, err) < 0 ||
        read_optional_str(run->file, "created_by", &run->created_by, where, err) < 0 ||
        read_optional_str(run->file, "command_line", &run->command_line, where, err) < 0)
        return -1;
    gs_run_where(where, run->path, "/config");
    htri_t has = H5Lexists(run->file, "config", H5P_DEFAULT);
    if (has <= 0)
        return has < 0 ? gs_h5_fail(err, "%s: cannot look it up", where)
                       : gs_err_set(err, "%s: missing", where);
    hid_t g = H5Gopen2(run->file, "config", H5P_DEFAULT);
    if (g < 0)
        return gs_h5_fail(err, "%s: cannot open", where);
    int rc = read_config(run, g, where, err);
    H5Gclose(g);
    return rc < 0 ? -1 : read_circuit_note(run, err);
}
