/* One figure: NAME.dat and NAME.gp written completely under temporary names, renamed,
 * then gnuplot draws a temporary image that is renamed only if gnuplot succeeded. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "plot_internal.h"

int gs_plot_format_parse(const char *s, gs_plot_format *out)
{
    static const char *const names[] = {"png", "svg", "pdf"};
    for (int i = 0; i < 3; i++)
        if (strcmp(s, names[i]) == 0) {
            *out = (gs_plot_format)i;
            return 0;
        }
    return -1;
}

const char *gs_plot_format_ext(gs_plot_format f)
{
    return f == GS_PLOT_SVG ? "svg" : f == GS_PLOT_PDF ? "pdf" : "png";
}

/* The same layout in every format: 16:10 (taller by `tall` for stacked panels), fonts
 * sized to stay readable when the figure is shrunk to a column's width. */
static void terminal(gs_plot_file *g, gs_plot_format f, double tall)
{
    switch (f) {
    case GS_PLOT_SVG:
        gs_plot_printf(g, "set terminal svg size 1200,%d dynamic enhanced font 'DejaVu Sans,18' "
                          "linewidth 1.5 rounded background rgb 'white'\n", (int)(750 * tall + 0.5));
        break;
    case GS_PLOT_PDF:
        /* pdfcairo scales fonts by 0.5 unless told otherwise */
        gs_plot_printf(g, "set terminal pdfcairo size 8in,%.2fin enhanced font 'DejaVu Sans,9' "
                          "fontscale 1.0 linewidth 1 rounded\n", 5 * tall);
        break;
    default:
        gs_plot_printf(g, "set terminal pngcairo size 1200,%d enhanced font 'DejaVu Sans,18' "
                          "linewidth 1.5 rounded\n", (int)(750 * tall + 0.5));
    }
}

int gs_plot_figure_begin(gs_plot_figure *fig, const gs_plot_env *env, const char *dir,
                         const char *name, const char *what, const char *source,
                         const char *columns, gs_err *err)
{
    return gs_plot_figure_begin_tall(fig, env, dir, name, what, source, columns, 1.0, err);
}

int gs_plot_figure_begin_tall(gs_plot_figure *fig, const gs_plot_env *env, const char *dir,
                              const char *name, const char *what, const char *source,
                              const char *columns, double tall, gs_err *err)
{
    memset(fig, 0, sizeof *fig);
    fig->env = env;
    fig->dir = dir;
    fig->name = name;
    char dat[300], gp[300];
    snprintf(dat, sizeof dat, "%s.dat", name);
    snprintf(gp, sizeof gp, "%s.gp", name);
    if (gs_plot_file_open(&fig->dat, dir, dat, err) != 0)
        return -1;
    if (gs_plot_file_open(&fig->gp, dir, gp, err) != 0) {
        gs_plot_file_discard(&fig->dat);
        return -1;
    }
    gs_plot_printf(&fig->dat, "# %s\n", columns);
    gs_plot_file *g = &fig->gp;
    /* a file name with a line break must not end the comment and become a command */
    char src[8192];
    size_t n = 0;
    for (; source[n] && n + 1 < sizeof src; n++)
        src[n] = (unsigned char)source[n] < 0x20 || source[n] == 0x7f ? '?' : source[n];
    src[n] = '\0';
    gs_plot_printf(g, "# %s: %s\n", gp, what);
    gs_plot_printf(g, "# Written by grokscope plot from %s. To restyle, edit this script and\n"
                      "# run it again:  cd into its directory; gnuplot %s\n"
                      "# (or gnuplot path/to/%s from anywhere). Its data: %s, columns\n"
                      "#   %s\n\n",
                   src, gp, gp, dat, columns);
    gs_plot_printf(g, "# the script's own directory, so that it finds %s from anywhere\n", dat);
    gs_plot_printf(g, "here = ''\n"
                      "if (exists('ARG0')) { do for [i = strlen(ARG0):1:-1] { "
                      "if (here eq '' && ARG0[i:i] eq '/') { here = ARG0[1:i] } } }\n");
    gs_plot_printf(g, "data = here.'%s'\n", dat);
    gs_plot_printf(g, "if (!exists('outfile')) { outfile = here.'%s.%s' }\n\n", name,
                   gs_plot_format_ext(env->format));
    terminal(g, env->format, tall);
    gs_plot_printf(g, "set output outfile\nset encoding utf8\n");
    gs_plot_printf(g, "set border lw 1.2\n"
                      "set tics out nomirror\n"
                      "set grid xtics ytics lc rgb '#dddddd' lw 1 dt 1\n"
                      "# the legend below the plot, where it never hides data\n"
                      "set key below center horizontal samplen 2.5 spacing 1.1 width 1\n"
                      "set style fill solid 1.0 noborder\n\n");
    return 0;
}

void gs_plot_figure_discard(gs_plot_figure *fig)
{
    gs_plot_file_discard(&fig->dat);
    gs_plot_file_discard(&fig->gp);
}

int gs_plot_figure_end(gs_plot_figure *fig, gs_err *err)
{
    const char *ext = gs_plot_format_ext(fig->env->format);
    if (gs_plot_file_close(&fig->dat, err) != 0 || gs_plot_file_close(&fig->gp, err) != 0 ||
        gs_plot_file_commit(&fig->dat, err) != 0 || gs_plot_file_commit(&fig->gp, err) != 0) {
        gs_plot_figure_discard(fig);
        return -1;
    }
    char tmp_name[400], tmp_path[4800], image[4800], script[300], warning[600];
    snprintf(tmp_name, sizeof tmp_name, ".%s.%s.tmp-%ld", fig->name, ext, (long)getpid());
    snprintf(tmp_path, sizeof tmp_path, "%s/%s", fig->dir, tmp_name);
    snprintf(image, sizeof image, "%s/%s.%s", fig->dir, fig->name, ext);
    snprintf(script, sizeof script, "%s.gp", fig->name);
    unlink(tmp_path);
    if (gs_plot_gnuplot_run(fig->env->gnuplot, fig->dir, script, tmp_name, warning, sizeof warning,
                            err) != 0) {
        unlink(tmp_path);
        return -1;
    }
    struct stat st;
    if (stat(tmp_path, &st) != 0 || st.st_size == 0) {
        unlink(tmp_path);
        return gs_err_set(err, "gnuplot wrote no image for %s/%s%s%s", fig->dir, script,
                          warning[0] ? ": " : "", warning);
    }
    if (rename(tmp_path, image) != 0) {
        int e = errno;
        unlink(tmp_path);
        return gs_err_set(err, "cannot rename %s to %s: %s", tmp_path, image, strerror(e));
    }
    if (warning[0] && fig->env->note) {
        char line[1200];
        snprintf(line, sizeof line, "gnuplot on %s/%s: %s", fig->dir, script, warning);
        fig->env->note(fig->env->ctx, line);
    }
    if (fig->env->written)
        fig->env->written(fig->env->ctx, image);
    return 0;
}
