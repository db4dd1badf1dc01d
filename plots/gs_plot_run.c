/* The figures of one run, in order, and the directory they go to. */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "plot_internal.h"

int gs_plot_run_figures(const gs_plot_env *env, const gs_plot_data *d, const char *dir, gs_err *err)
{
    typedef int (*figure_fn)(const gs_plot_env *, const gs_plot_data *, const char *, gs_err *);
    static const figure_fn figures[] = {
        gs_plot_fig_loss,        gs_plot_fig_progress,    gs_plot_fig_gini,
        gs_plot_fig_weight_norm, gs_plot_fig_embed_freqs, gs_plot_fig_clusters,
    };
    for (size_t i = 0; i < sizeof figures / sizeof figures[0]; i++)
        if (figures[i](env, d, dir, err) != 0)
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
