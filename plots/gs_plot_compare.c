/* Figure 7 (compare_loss): the train and test loss of several runs overlaid, each run
 * labelled by the config values that differ between them (e.g. "frac=0.3"); and
 * compare_measures: their test accuracy, softmax collapse, gradient norm and the
 * gradient's cosine with the weights (docs/interventions.md), when every run has them. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "plot_internal.h"

#define N_FIELDS 28
#define LABEL_SIZE 400

/* "name=value" of config field f; the fields that define a run's curves (every, the
 * checkpoint interval, does not change them and is left out). An intervention's
 * parameter that the run does not use (SGD's momentum in an Adam run, the filter's in a
 * run without one) is "". */
static void field(const gs_config *c, int f, char *out, size_t size)
{
    out[0] = '\0';
    switch (f) {
    case 0: snprintf(out, size, "p=%d", c->p); break;
    case 1: snprintf(out, size, "op=%s", gs_op_name(c->op)); break;
    case 2: snprintf(out, size, "frac=%g", c->frac); break;
    case 3: snprintf(out, size, "seed=%lld", (long long)c->seed); break;
    case 4: snprintf(out, size, "d_model=%d", c->d_model); break;
    case 5: snprintf(out, size, "n_heads=%d", c->n_heads); break;
    case 6: snprintf(out, size, "d_mlp=%d", c->d_mlp); break;
    case 7: snprintf(out, size, "lr=%g", c->lr); break;
    case 8: snprintf(out, size, "wd=%g", c->wd); break;
    case 9: snprintf(out, size, "beta1=%g", c->beta1); break;
    case 10: snprintf(out, size, "beta2=%g", c->beta2); break;
    case 11: snprintf(out, size, "eps=%g", c->eps); break;
    case 12: snprintf(out, size, "warmup=%d", c->warmup); break;
    case 13: snprintf(out, size, "epochs=%ld", c->epochs); break;
    case 14: snprintf(out, size, "stop_test_loss=%g", c->stop_test_loss); break;
    /* the interventions (docs/interventions.md) */
    case 15: snprintf(out, size, "optimizer=%s", gs_optimizer_name(c->optimizer)); break;
    case 16: if (c->optimizer == GS_OPT_SGD) snprintf(out, size, "momentum=%g", c->momentum); break;
    case 17: snprintf(out, size, "wd_to_init=%d", c->wd_to_init); break;
    case 18: snprintf(out, size, "grokfast=%s", gs_grokfast_name(c->grokfast)); break;
    case 19: if (c->grokfast == GS_GF_EMA) snprintf(out, size, "gf_alpha=%g", c->gf_alpha); break;
    case 20: if (c->grokfast) snprintf(out, size, "gf_lambda=%g", c->gf_lambda); break;
    case 21: if (c->grokfast == GS_GF_MA) snprintf(out, size, "gf_window=%d", c->gf_window); break;
    case 22: snprintf(out, size, "loss=%s", gs_loss_name(c->loss)); break;
    case 23: snprintf(out, size, "loss_precision=%d", c->loss_precision); break;
    case 24: snprintf(out, size, "orthograd=%d", c->orthograd); break;
    case 25: snprintf(out, size, "init_scale=%g", c->init_scale); break;
    case 26: snprintf(out, size, "fix_norm=%d", c->fix_norm); break;
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
    int distinct = 1;
    for (int i = 0; i < n && distinct; i++)
        for (int j = i + 1; j < n && distinct; j++)
            distinct = strcmp(labels[i], labels[j]) != 0;
    if (!distinct || labels[0][0] == '\0')
        for (int i = 0; i < n; i++) {
            char v[LABEL_SIZE];
            memcpy(v, labels[i], LABEL_SIZE);
            snprintf(labels[i], LABEL_SIZE, "%s%s%.*s", runs[i].name, v[0] ? ": " : "",
                     (int)(LABEL_SIZE / 2), v);
        }
    common[0] = '\0';
    static const char *const spaced[4] = {"p = ", "op = ", "frac = ", "seed = "};
    for (int f = 0; f < 4; f++)
        if (!differs[f]) {
            char v[100];
            field(&runs[0].cfg, f, v, sizeof v);
            size_t len = strlen(common);
            snprintf(common + len, common_size - len, "%s%s%s", len ? ",  " : "", spaced[f],
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

/* compare_measures: four stacked panels, one colour per run (the loss figure's) */
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
    if (gs_plot_figure_begin_tall(&fig, env, dir, "compare_measures",
                                  "test accuracy, softmax collapse, gradient norm and cos(gradient, "
                                  "weights) of several runs overlaid", source, columns, 2.2, err) != 0)
        return -1;
    const long last = write_merged(&fig.dat, runs, n, measures_columns, 4);
    gs_plot_file *g = &fig.gp;
    char title[900];
    snprintf(title, sizeof title, "Per-epoch measures of %d runs\n%s", n, common[0] ? common : "runs of different tasks");
    gs_plot_printf(g, "set multiplot layout 4,1 title ");
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
        gs_plot_printf(g, panel ? "set key off\n" : "set key inside bottom right\n");
        for (int i = 0; i < n; i++) {
            gs_plot_printf(g, "%s data using 1:%d with lines lw 2 lc rgb '%s' title ", i ? ", \\\n    " : "plot",
                           2 + 4 * i + panel, colours[i % 8]);
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
    if (gs_plot_figure_begin(&fig, env, dir, "compare_loss", "train and test loss of several runs overlaid",
                             source, columns, err) != 0)
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
                      "set format y '10^{%%L}'\n\n");
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
