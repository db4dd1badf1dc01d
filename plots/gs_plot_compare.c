/* Figure 7 (compare_loss): the train and test loss of several runs overlaid, each run
 * labelled by the config values that differ between them (e.g. "frac=0.3"); and
 * compare_measures: their test accuracy, softmax collapse, gradient norm and the
 * gradient's cosine with the weights (docs/interventions.md), when every run has them. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "plot_internal.h"

#define LABEL_SIZE 400

/* The fields of a run's label, in the order a label reads: what was trained, on what,
 * then how. */
enum {
    F_TASK, F_MODEL, F_LAYERS, F_HIDDEN, F_EMBED, F_ACT, F_BIAS, F_P, F_OP, F_FRAC, F_TRAIN_SIZE,
    F_SEED, F_D_MODEL, F_N_HEADS, F_D_MLP, F_BATCH, F_LR, F_WD, F_BETA1, F_BETA2, F_EPS, F_WARMUP,
    F_EPOCHS, F_STOP, F_OPTIMIZER, F_MOMENTUM, F_WD_TO_INIT, F_GROKFAST, F_GF_ALPHA, F_GF_LAMBDA,
    F_GF_WINDOW, F_LOSS, F_LOSS_PRECISION, F_ORTHOGRAD, F_INIT_SCALE, F_FIX_NORM, F_OUTPUT_SCALE,
    N_FIELDS
};

/* "name=value" of config field f; the fields that define a run's curves (every, the
 * checkpoint interval, does not change them and is left out). A field the run does not
 * use is "": an intervention's parameter the run does not use (SGD's momentum in an
 * Adam run, the filter's in a run without one), the other model's shape, and p, op and
 * frac for images (train_size for modular runs). */
static void field(const gs_config *c, int f, char *out, size_t size)
{
    const int images = c->task == GS_TASK_MNIST, mlp = c->model == GS_MODEL_MLP;
    out[0] = '\0';
    switch (f) {
    case F_TASK: snprintf(out, size, "task=%s", images ? "mnist" : "modular"); break;
    case F_MODEL: snprintf(out, size, "model=%s", gs_model_kind_name(c->model)); break;
    case F_LAYERS: if (!mlp) snprintf(out, size, "layers=%d", c->n_layers); break;
    case F_HIDDEN:
        if (mlp) {
            size_t len = (size_t)snprintf(out, size, "hidden=");
            for (int i = 0; i < c->n_hidden && len < size; i++)
                len += (size_t)snprintf(out + len, size - len, "%s%d", i ? "," : "", c->hidden[i]);
        }
        break;
    case F_EMBED:
        if (mlp && !images) {
            if (c->d_embed)
                snprintf(out, size, "d_embed=%d", c->d_embed);
            else
                snprintf(out, size, "embed=onehot");
        }
        break;
    case F_ACT: if (mlp) snprintf(out, size, "act=%s", gs_act_name(c->act)); break;
    case F_BIAS: if (mlp) snprintf(out, size, "bias=%d", c->bias); break;
    case F_P: if (!images) snprintf(out, size, "p=%d", c->p); break;
    case F_OP: if (!images) snprintf(out, size, "op=%s", gs_op_name(c->op)); break;
    case F_FRAC: if (!images) snprintf(out, size, "frac=%g", c->frac); break;
    case F_TRAIN_SIZE: if (images) snprintf(out, size, "train_size=%d", c->train_size); break;
    case F_SEED: snprintf(out, size, "seed=%lld", (long long)c->seed); break;
    case F_D_MODEL: if (!mlp) snprintf(out, size, "d_model=%d", c->d_model); break;
    case F_N_HEADS: if (!mlp) snprintf(out, size, "n_heads=%d", c->n_heads); break;
    case F_D_MLP: if (!mlp) snprintf(out, size, "d_mlp=%d", c->d_mlp); break;
    case F_BATCH:
        if (c->batch)
            snprintf(out, size, "batch=%d", c->batch);
        else
            snprintf(out, size, "batch=full");
        break;
    case F_LR: snprintf(out, size, "lr=%g", c->lr); break;
    case F_WD: snprintf(out, size, "wd=%g", c->wd); break;
    case F_BETA1: snprintf(out, size, "beta1=%g", c->beta1); break;
    case F_BETA2: snprintf(out, size, "beta2=%g", c->beta2); break;
    case F_EPS: snprintf(out, size, "eps=%g", c->eps); break;
    case F_WARMUP: snprintf(out, size, "warmup=%d", c->warmup); break;
    case F_EPOCHS: snprintf(out, size, "epochs=%ld", c->epochs); break;
    case F_STOP: snprintf(out, size, "stop_test_loss=%g", c->stop_test_loss); break;
    /* the interventions (docs/interventions.md) */
    case F_OPTIMIZER: snprintf(out, size, "optimizer=%s", gs_optimizer_name(c->optimizer)); break;
    case F_MOMENTUM: if (c->optimizer == GS_OPT_SGD) snprintf(out, size, "momentum=%g", c->momentum); break;
    case F_WD_TO_INIT: snprintf(out, size, "wd_to_init=%d", c->wd_to_init); break;
    case F_GROKFAST: snprintf(out, size, "grokfast=%s", gs_grokfast_name(c->grokfast)); break;
    case F_GF_ALPHA: if (c->grokfast == GS_GF_EMA) snprintf(out, size, "gf_alpha=%g", c->gf_alpha); break;
    case F_GF_LAMBDA: if (c->grokfast) snprintf(out, size, "gf_lambda=%g", c->gf_lambda); break;
    case F_GF_WINDOW: if (c->grokfast == GS_GF_MA) snprintf(out, size, "gf_window=%d", c->gf_window); break;
    case F_LOSS: snprintf(out, size, "loss=%s", gs_loss_name(c->loss)); break;
    case F_LOSS_PRECISION: snprintf(out, size, "loss_precision=%d", c->loss_precision); break;
    case F_ORTHOGRAD: snprintf(out, size, "orthograd=%d", c->orthograd); break;
    case F_INIT_SCALE: snprintf(out, size, "init_scale=%g", c->init_scale); break;
    case F_FIX_NORM: snprintf(out, size, "fix_norm=%d", c->fix_norm); break;
    default: snprintf(out, size, "output_scale=%g", c->output_scale); break;
    }
}

/* labels[i]: the differing fields of run i, or its file name when that does not tell
 * the runs apart. common: the shared values of p, op, frac and seed. */
static void make_labels(const gs_plot_data *runs, int n, char (*labels)[LABEL_SIZE], char *common,
                        size_t common_size)
{
    int differs[N_FIELDS] = {0};
    for (int f = 0; f < N_FIELDS; f++) {
        char a[100], b[100];
        field(&runs[0].cfg, f, a, sizeof a);
        for (int i = 1; i < n && !differs[f]; i++) {
            field(&runs[i].cfg, f, b, sizeof b);
            differs[f] = strcmp(a, b) != 0;
        }
    }
    for (int i = 0; i < n; i++) {
        labels[i][0] = '\0';
        for (int f = 0; f < N_FIELDS; f++)
            if (differs[f]) {
                char v[100];
                field(&runs[i].cfg, f, v, sizeof v);
                if (!v[0])
                    continue;
                size_t len = strlen(labels[i]);
                snprintf(labels[i] + len, LABEL_SIZE - len, "%s%s", len ? ", " : "", v);
            }
    }
    /* Runs that differ in much (another task, another model) would get labels longer
     * than a key entry can be (gnuplot then draws no key): the file name and what was
     * trained then, as much as fits, "..." for the rest (`info` has the whole config). */
    enum { KEY_CHARS = 72 };
    int long_labels = 0;
    for (int i = 0; i < n; i++)
        long_labels |= strlen(labels[i]) > KEY_CHARS;
    /* what was trained, most telling first (a modular run's op says its task), then the
     * other differing fields in their order, as many as fit */
    static const int telling[] = {F_OP, F_TASK, F_MODEL, F_LAYERS, F_HIDDEN, F_EMBED, F_P, F_FRAC,
                                  F_TRAIN_SIZE};
    int order[N_FIELDS], placed[N_FIELDS] = {0}, n_order = 0;
    for (size_t k = 0; k < sizeof telling / sizeof *telling; k++) {
        order[n_order++] = telling[k];
        placed[telling[k]] = 1;
    }
    for (int f = 0; f < N_FIELDS; f++)
        if (!placed[f])
            order[n_order++] = f;
    if (long_labels)
        for (int i = 0; i < n; i++) {
            size_t len = (size_t)snprintf(labels[i], LABEL_SIZE, "%s:", runs[i].name);
            int shown = 0, dropped = 0;
            for (int k = 0; k < N_FIELDS; k++) {
                const int f = order[k];
                if (!differs[f] || (f == F_TASK && runs[i].cfg.task != GS_TASK_MNIST))
                    continue;
                char v[100];
                field(&runs[i].cfg, f, v, sizeof v);
                if (!v[0])
                    continue;
                if (len + strlen(v) + 2 > KEY_CHARS - 5)
                    dropped = 1;
                else
                    len += (size_t)snprintf(labels[i] + len, LABEL_SIZE - len, "%s %s", shown++ ? "," : "", v);
            }
            if (dropped && len < LABEL_SIZE)
                snprintf(labels[i] + len, LABEL_SIZE - len, shown ? ", ..." : " ...");
        }
    int distinct = 1;
    for (int i = 0; i < n && distinct; i++)
        for (int j = i + 1; j < n && distinct; j++)
            distinct = strcmp(labels[i], labels[j]) != 0;
    if (long_labels && !distinct) /* the same file name in two directories */
        for (int i = 0; i < n; i++) {
            char v[LABEL_SIZE];
            memcpy(v, labels[i], LABEL_SIZE);
            snprintf(labels[i], LABEL_SIZE, "%d. %.*s", i + 1, LABEL_SIZE - 8, v);
        }
    if (!long_labels && (!distinct || labels[0][0] == '\0'))
        for (int i = 0; i < n; i++) {
            char v[LABEL_SIZE];
            memcpy(v, labels[i], LABEL_SIZE);
            snprintf(labels[i], LABEL_SIZE, "%s%s%.*s", runs[i].name, v[0] ? ": " : "",
                     (int)(LABEL_SIZE / 2), v);
        }
    common[0] = '\0';
    static const int shared[4] = {F_P, F_OP, F_FRAC, F_SEED};
    static const char *const spaced[4] = {"p = ", "op = ", "frac = ", "seed = "};
    for (int k = 0; k < 4; k++)
        if (!differs[shared[k]]) {
            const int f = shared[k];
            char v[100];
            field(&runs[0].cfg, f, v, sizeof v);
            if (!v[0])
                continue;
            size_t len = strlen(common);
            snprintf(common + len, common_size - len, "%s%s%s", len ? ",  " : "", spaced[k],
                     strchr(v, '=') + 1);
        }
}

static const char *const colours[] = {"#0072B2", "#D55E00", "#009E73", "#CC79A7",
                                      "#E69F00", "#56B4E9", "#000000", "#F0E442"};

/* A run's columns of one .dat row. */
typedef void (*row_columns)(gs_plot_file *dat, const gs_metrics_row *r);

static void loss_columns(gs_plot_file *dat, const gs_metrics_row *r)
{
    gs_plot_value(dat, r->train_loss);
    gs_plot_value(dat, r->test_loss);
}

static void measures_columns(gs_plot_file *dat, const gs_metrics_row *r)
{
    gs_plot_value(dat, r->test_acc);
    gs_plot_value(dat, r->collapse_frac);
    gs_plot_value(dat, r->grad_norm > 0 ? r->grad_norm : NAN);
    gs_plot_value(dat, r->grad_cos);
}

/* The runs' /metrics merged by epoch (ascending in each run): one row per epoch any run
 * has, each run's n_columns columns from `columns`, NaN where a run has no row there (a
 * shorter run, another --every). Returns the last epoch of any run. */
static long write_merged(gs_plot_file *dat, const gs_plot_data *runs, int n, row_columns columns,
                         int n_columns)
{
    long at[GS_PLOT_MAX_RUNS], last = 0;
    for (int i = 0; i < n; i++) {
        at[i] = 0;
        const long e = runs[i].metrics[runs[i].n_metrics - 1].epoch;
        last = e > last ? e : last;
    }
    for (;;) {
        long e = -1;
        for (int i = 0; i < n; i++)
            if (at[i] < runs[i].n_metrics && (e < 0 || runs[i].metrics[at[i]].epoch < e))
                e = runs[i].metrics[at[i]].epoch;
        if (e < 0)
            break;
        gs_plot_printf(dat, "%ld", e);
        for (int i = 0; i < n; i++) {
            if (at[i] < runs[i].n_metrics && runs[i].metrics[at[i]].epoch == e)
                columns(dat, &runs[i].metrics[at[i]++]);
            else
                for (int c = 0; c < n_columns; c++)
                    gs_plot_printf(dat, " NaN");
        }
        gs_plot_printf(dat, "\n");
    }
    return last;
}

/* A run has the per-epoch measures of format 1.3 if any of its gradient norms is. */
static int has_measures(const gs_plot_data *d)
{
    for (long i = 0; i < d->n_metrics; i++)
        if (isfinite(d->metrics[i].grad_norm))
            return 1;
    return 0;
}

/* Long or many labels do not fit a key inside the plot (gnuplot then draws none): they
 * go below it, one run per line. */
static int key_below(char (*labels)[LABEL_SIZE], int n)
{
    if (n > 3)
        return 1;
    for (int i = 0; i < n; i++)
        if (strlen(labels[i]) > 36)
            return 1;
    return 0;
}

/* compare_measures: four stacked panels, one colour per run (the loss figure's); with
 * a key too big for a panel, a fifth row holds the key alone */
static int compare_measures(const gs_plot_env *env, const gs_plot_data *runs, int n, const char *dir,
                            char (*labels)[LABEL_SIZE], const char *common, const char *source,
                            gs_err *err)
{
    char columns[GS_PLOT_MAX_RUNS * 80];
    size_t len = (size_t)snprintf(columns, sizeof columns, "epoch");
    for (int i = 0; i < n && len < sizeof columns; i++)
        len += (size_t)snprintf(columns + len, sizeof columns - len,
                                " test_acc_%d collapse_frac_%d grad_norm_%d grad_cos_%d", i + 1, i + 1,
                                i + 1, i + 1);
    gs_plot_figure fig;
    const int below = key_below(labels, n);
    if (gs_plot_figure_begin_tall(&fig, env, dir, "compare_measures",
                                  "test accuracy, softmax collapse, gradient norm and cos(gradient, "
                                  "weights) of several runs overlaid", source, columns,
                                  below ? 2.2 * 5 / 4 : 2.2, err) != 0)
        return -1;
    const long last = write_merged(&fig.dat, runs, n, measures_columns, 4);
    gs_plot_file *g = &fig.gp;
    char title[900];
    snprintf(title, sizeof title, "Per-epoch measures of %d runs\n%s", n, common[0] ? common : "runs of different tasks");
    gs_plot_printf(g, "set multiplot layout %d,1 title ", below ? 5 : 4);
    gs_plot_quoted(g, title);
    gs_plot_printf(g, " noenhanced\n");
    gs_plot_epoch_axis(g, last);
    static const char *const ylabel[4] = {"test accuracy", "softmax collapsed (share of train)",
                                          "gradient norm (log)", "cos(gradient, weights)"};
    for (int panel = 0; panel < 4; panel++) {
        gs_plot_printf(g, "set ylabel '%s'\n", ylabel[panel]);
        if (panel == 2)
            gs_plot_printf(g, "set logscale y\nset format y '10^{%%L}'\nset yrange [*:*]\n");
        else
            gs_plot_printf(g, "unset logscale y\nset format y '%%g'\nset yrange [%s]\n",
                           panel == 3 ? "-1:1" : "0:1");
        gs_plot_printf(g, panel || below ? "set key off\n" : "set key inside bottom right\n");
        for (int i = 0; i < n; i++) {
            gs_plot_printf(g, "%s data using 1:%d with lines lw 2 lc rgb '%s' title ", i ? ", \\\n    " : "plot",
                           2 + 4 * i + panel, colours[i % 8]);
            gs_plot_quoted(g, labels[i]);
            gs_plot_printf(g, " noenhanced");
        }
        gs_plot_printf(g, "\n");
    }
    if (below) {
        gs_plot_printf(g, "\n# the key alone\n"
                          "unset border\nunset tics\nunset xlabel\nunset ylabel\nunset grid\n"
                          "unset logscale y\nset yrange [0:1]\n"
                          "set key inside center center vertical Left reverse maxcols 1\n");
        for (int i = 0; i < n; i++) {
            gs_plot_printf(g, "%s NaN with lines lw 2 lc rgb '%s' title ", i ? ", \\\n    " : "plot",
                           colours[i % 8]);
            gs_plot_quoted(g, labels[i]);
            gs_plot_printf(g, " noenhanced");
        }
        gs_plot_printf(g, "\n");
    }
    gs_plot_printf(g, "unset multiplot\n");
    return gs_plot_figure_end(&fig, err);
}

int gs_plot_compare_figure(const gs_plot_env *env, const gs_plot_data *runs, int n, const char *dir,
                           gs_err *err)
{
    if (n < 2 || n > GS_PLOT_MAX_RUNS)
        return gs_err_set(err, "compare: %d runs given; overlaying needs 2 to %d", n, GS_PLOT_MAX_RUNS);
    char labels[GS_PLOT_MAX_RUNS][LABEL_SIZE], common[600], columns[GS_PLOT_MAX_RUNS * 40], source[8192];
    make_labels(runs, n, labels, common, sizeof common);
    size_t len = (size_t)snprintf(columns, sizeof columns, "epoch");
    size_t slen = 0;
    source[0] = '\0';
    for (int i = 0; i < n && len < sizeof columns; i++)
        len += (size_t)snprintf(columns + len, sizeof columns - len, " train_loss_%d test_loss_%d", i + 1, i + 1);
    for (int i = 0; i < n && slen < sizeof source; i++)
        slen += (size_t)snprintf(source + slen, sizeof source - slen, "%s%s (run %d)", i ? ", " : "",
                                 runs[i].path, i + 1);
    gs_plot_figure fig;
    const int below = key_below(labels, n);
    if (gs_plot_figure_begin_tall(&fig, env, dir, "compare_loss", "train and test loss of several runs overlaid",
                                  source, columns, below ? 1.05 + 0.07 * n : 1.0, err) != 0)
        return -1;
    const long last = write_merged(&fig.dat, runs, n, loss_columns, 2);
    gs_plot_file *g = &fig.gp;
    char title[900];
    snprintf(title, sizeof title, "Train (dashed) and test (solid) loss of %d runs\n%s", n,
             common[0] ? common : "runs of different tasks");
    gs_plot_printf(g, "set title ");
    gs_plot_quoted(g, title);
    gs_plot_printf(g, " noenhanced\n");
    gs_plot_epoch_axis(g, last);
    /* runs that trained on different losses share the axis under a neutral name */
    const char *ylabel = gs_plot_loss_label(&runs[0].cfg);
    for (int i = 1; i < n; i++)
        if (runs[i].cfg.loss != runs[0].cfg.loss)
            ylabel = "training loss of each run (log scale)";
    gs_plot_printf(g, "set ylabel '%s'\n", ylabel);
    gs_plot_printf(g, "set logscale y\n"
                      "set format y '10^{%%L}'\n");
    if (below)
        gs_plot_printf(g, "set key outside bottom center vertical Left reverse maxcols 1\n");
    gs_plot_printf(g, "\n");
    for (int i = 0; i < n; i++) {
        const char *c = colours[i % 8];
        gs_plot_printf(g, "%s data using 1:%d with lines lw 2 lc rgb '%s' title ", i ? ", \\\n    " : "plot",
                       3 + 2 * i, c);
        gs_plot_quoted(g, labels[i]);
        gs_plot_printf(g, " noenhanced, \\\n     data using 1:%d with lines lw 2 dt (12, 6) lc rgb '%s' notitle",
                       2 + 2 * i, c);
    }
    gs_plot_printf(g, "\n");
    if (gs_plot_figure_end(&fig, err) != 0)
        return -1;
    for (int i = 0; i < n; i++)
        if (!has_measures(&runs[i]))
            return 0; /* runs written before the measures existed (format < 1.3) */
    return compare_measures(env, runs, n, dir, labels, common, source, err);
}
