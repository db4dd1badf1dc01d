/* The figures of one run, in order, and the directory they go to. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "plot_internal.h"

int gs_plot_run_figures(const gs_plot_env *env, const gs_plot_data *d, const char *dir, gs_err *err)
{
    typedef int (*figure_fn)(const gs_plot_env *, const gs_plot_data *, const char *, gs_err *);
    static const struct {
        figure_fn draw;
        int needs_basis; /* shows only measures in a Fourier basis (circuit.h) */
        int needs;       /* 1: an embedding matrix; 2: an embedding or a neuron-logit map */
    } figures[] = {
        {gs_plot_fig_loss, 0, 0},        {gs_plot_fig_progress, 0, 0},    {gs_plot_fig_gini, 1, 2},
        {gs_plot_fig_weight_norm, 0, 0}, {gs_plot_fig_embed_freqs, 1, 1}, {gs_plot_fig_clusters, 1, 0},
    };
    /* what the model lacks (an MLP with one-hot inputs: an embedding): say so too */
    const int has[3] = {1, d->have_embed, d->have_embed || d->have_neuron_logit};
    if (d->n_basis > 0 && !d->have_embed && env->note) {
        char line[GS_MODEL_NOTE_MAX + 100];
        snprintf(line, sizeof line, "%s not drawn: %s",
                 has[2] ? "embed_freqs is" : "gini and embed_freqs are", d->model_note);
        env->note(env->ctx, line);
    }
    /* a task without a basis (S5) has none of those measures: say so, draw the rest;
     * images have no restricted or excluded loss either, so progress_measures would
     * repeat loss */
    const int images = d->cfg.task == GS_TASK_MNIST;
    if (d->n_basis == 0 && env->note) {
        char line[GS_CIRCUIT_NOTE_MAX + 100];
        snprintf(line, sizeof line, "%sgini, embed_freqs and neuron_clusters are not drawn: %s",
                 images ? "progress_measures, " : "", d->circuit_note);
        env->note(env->ctx, line);
    }
    for (size_t i = 0; i < sizeof figures / sizeof figures[0]; i++)
        if ((d->n_basis > 0 || !figures[i].needs_basis) && has[figures[i].needs] &&
            !(images && figures[i].draw == gs_plot_fig_progress) &&
            figures[i].draw(env, d, dir, err) != 0)
            return -1;
    return 0;
}

int gs_plot_mkdirs(const char *dir, gs_err *err)
{
    char path[4096];
    if ((size_t)snprintf(path, sizeof path, "%s", dir) >= sizeof path)
        return gs_err_set(err, "%s: path too long", dir);
    for (char *at = path + 1;; at++) {
        const int end = *at == '\0';
        if (*at == '/' || end) {
            *at = '\0';
            struct stat st;
            if (mkdir(path, 0777) != 0 && errno != EEXIST)
                return gs_err_set(err, "cannot create directory %s: %s", path, strerror(errno));
            if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode))
                return gs_err_set(err, "%s is not a directory", path);
            if (end)
                return 0;
            *at = '/';
        }
    }
}
