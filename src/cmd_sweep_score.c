/* grokscope sweep score DIR: the early-warning signals scored over every ended run of a
 * sweep (grokscope_sweep_score, docs/early-warning.md): a table on stdout and in
 * DIR/score.tsv, and the figure DIR/plots/sweep_score. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd_sweep.h"
#include "commands.h"
#include "opts.h"

static int write_tsv(grokscope_sweep *sw, const char *path, char *msg)
{
    char tmp[PATH_MAX + 8];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f)
        return gs_cli_set(msg, "%s: cannot write", tmp);
    grokscope_sweep_print_score(sw, f, 1);
    /* write a new file and rename it: an old table is never left half-written */
    if (fclose(f) != 0 || rename(tmp, path) != 0) {
        remove(tmp);
        return gs_cli_set(msg, "%s: cannot write", path);
    }
    return 0;
}

int gs_sweep_cmd_score(int argc, char **argv)
{
    gs_cli_err err = {{0}};
    gs_sweep_dir_opts o;
    if (gs_sweep_parse_dir_opts(argc, argv, "score", "--no-plot", "grokscope sweep score DIR", &o, err.msg) != 0)
        return gs_sweep_fail(err.msg);
    const char *dir = o.dir;
    const int quiet = o.quiet, plot = !o.flag;
    const long threads = o.threads;
    grokscope_sweep *sw;
    if (gs_sweep_dir_open(dir, &sw, err.msg) != 0)
        return gs_sweep_fail(err.msg);
    grokscope_sweep_point *res = NULL;
    int used = 0;
    int rc = gs_sweep_collect_results(sw, (int)threads, quiet, "sweep score", &res, err.msg);
    if (rc == 0 && grokscope_sweep_score(sw, &used) != GROKSCOPE_OK)
        rc = gs_cli_set(err.msg, "%s", grokscope_sweep_error(sw));
    if (rc == 0 && used == 0)
        rc = gs_cli_set(err.msg, "score: %s has no ended and analysed run to score", dir);
    char tsv[PATH_MAX];
    snprintf(tsv, sizeof tsv, "%s/score.tsv", dir);
    if (rc == 0)
        rc = write_tsv(sw, tsv, err.msg);
    if (rc == 0) {
        grokscope_sweep_print_score(sw, stdout, 0);
        printf("wrote %s\n", tsv);
    }
    if (rc == 0 && plot) {
        grokscope_plot *pl = grokscope_plot_new();
        char outdir[PATH_MAX], source[PATH_MAX + 64];
        if (!pl) {
            rc = gs_cli_set(err.msg, "out of memory");
        } else if (!grokscope_plot_gnuplot(pl)) {
            fprintf(stderr, "grokscope sweep score: note: gnuplot not found, no figure (apt-get install "
                            "gnuplot-nox)\n");
        } else {
            snprintf(outdir, sizeof outdir, "%s/plots", dir);
            snprintf(source, sizeof source, "sweep %s, %d scored runs", dir, used);
            grokscope_plot_set_callbacks(pl, gs_plot_print_image, gs_plot_print_note, NULL);
            if (grokscope_plot_draw_sweep_score(pl, sw, source, outdir) != GROKSCOPE_OK)
                rc = gs_cli_set(err.msg, "%s", grokscope_plot_error(pl));
        }
        grokscope_plot_free(pl);
    }
    free(res);
    grokscope_sweep_free(sw);
    return rc == 0 ? 0 : gs_sweep_fail(err.msg);
}
