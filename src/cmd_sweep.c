/* grokscope sweep: a grid of training runs on this machine or a Slurm cluster.
 * This file: the usage, the subcommand dispatch, `create` and `status`; `run` is in
 * cmd_sweep_run.c, `slurm` in cmd_sweep_slurm.c, `collect` in cmd_sweep_collect.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd_sweep.h"
#include "commands.h"
#include "opts.h"

static const char sweep_usage[] =
    "usage: grokscope sweep COMMAND DIR [options]\n"
    "\n"
    "A sweep is a grid of training runs: one `grokscope train` run per combination of\n"
    "the values of its axes, each written to a run file in DIR.\n"
    "\n"
    "  create DIR [--grid NAME=VALUES]... [--seeds LIST] [-- TRAIN-OPTIONS...]\n"
    "        lay the sweep out in DIR (DIR/sweep.plan). NAME is any train option that\n"
    "        takes a value: lr, wd, frac, p, op, d-mlp, ... VALUES: a list (1e-3,3e-3),\n"
    "        integers (1..5), or evenly spaced values (1e-4..1e-2:log:7, 0.2..0.8:lin:4).\n"
    "        --seeds 0-2 adds the axis seed=0,1,2. TRAIN-OPTIONS are given to every point\n"
    "        (e.g. -- --p 59 --frac 0.5 --epochs 5000).\n"
    "  run DIR [--jobs N] [--threads N] [--only LIST] [--quiet]\n"
    "        train the points here, N at a time (default: one per CPU), each with\n"
    "        --threads threads (default: CPUs / N), then analyse each run. Finished\n"
    "        points are skipped; unfinished ones resume from their last checkpoint.\n"
    "        --only 0-3,7 runs those points only. Exit status 1 if a point failed (the\n"
    "        others still run), 130 if interrupted (run it again to resume).\n"
    "  slurm DIR [--partition P] [--time T] [--cpus-per-task C] [--points-per-task K]\n"
    "            [--sbatch-arg ARG]... [--dry-run]\n"
    "        write a Slurm job array over the points not done yet, DIR/slurm/submit-N.sbatch\n"
    "        (each array task runs K points with sweep run --only), and submit it with\n"
    "        sbatch unless --dry-run. DIR must be on a filesystem the nodes share.\n"
    "  status DIR\n"
    "        each point's status, epochs and outcome class, and the counts\n"
    "  collect DIR [--csv] [--threads N] [--quiet]\n"
    "        analyse the ended runs not analysed yet, then write DIR/sweep.h5: one row per\n"
    "        point (axis values, status, first epochs at 50%/99% accuracy, delay, final\n"
    "        losses, phases, key frequencies, class, wall time); --csv: DIR/sweep.csv too\n"
    "  score DIR [--threads N] [--quiet] [--no-plot]\n"
    "        score the early-warning signals over the ended runs (analysing those not\n"
    "        analysed yet): per signal the lead before test accuracy 50% and 99%, also\n"
    "        as a share of the fit-to-grok delay, the grokking runs caught and the false\n"
    "        alarms; the table on stdout and in DIR/score.tsv, the figure\n"
    "        DIR/plots/sweep_score (docs/early-warning.md)\n"
    "\n"
    "Outcome classes (first epochs at which train and test accuracy reach 99%; what is\n"
    "reached counts if the mean accuracy over the last tenth of the run is still >= 90%):\n"
    "  comprehension  both reached, test within 2x the epochs train took\n"
    "  grokking       both reached, test later than that\n"
    "  memorization   train reached, test not\n"
    "  confusion      train not reached, or the run diverged\n"
    "\n"
    "Draw it with: grokscope plot DIR (phase diagram, delays, test-accuracy curves).\n"
    "Details: docs/sweeps.md.\n";

static int fail_line(const char *msg)
{
    fprintf(stderr, "grokscope sweep: %s\n", msg);
    return GS_EXIT_USAGE;
}

int gs_sweep_fail(const char *msg)
{
    return fail_line(msg);
}

/* "lr (3 values) x wd (4 values)" */
static void describe_axes(const grokscope_sweep *sw, char *out, size_t size)
{
    size_t at = 0;
    out[0] = '\0';
    for (int a = 0; a < grokscope_sweep_n_axes(sw) && at < size; a++) {
        const int n = grokscope_sweep_axis_n_values(sw, a);
        at += (size_t)snprintf(out + at, size - at, "%s%s (%d value%s)", a ? " x " : "",
                               grokscope_sweep_axis_name(sw, a), n, n == 1 ? "" : "s");
    }
}

static int create(int argc, char **argv)
{
    gs_cli_err err;
    const char *dir = NULL;
    int n_base = 0, rc = GS_EXIT_USAGE;
    char **base = NULL;
    grokscope_sweep *sw;
    if (grokscope_sweep_new(&sw) != GROKSCOPE_OK)
        return fail_line("out of memory");
    for (int i = 1; i < argc; i++) {
        const char *val;
        int r;
        if (strcmp(argv[i], "--") == 0) {
            base = argv + i + 1;
            n_base = argc - i - 1;
            break;
        }
        const int grid = (r = gs_opt_value(argv, argc, &i, "--grid", &val, err.msg)) != 0;
        if (!grid)
            r = gs_opt_value(argv, argc, &i, "--seeds", &val, err.msg);
        if (r < 0)
            goto out;
        if (r > 0) {
            if ((grid ? grokscope_sweep_add_axis(sw, val) : grokscope_sweep_add_seeds(sw, val)) != GROKSCOPE_OK)
                goto fail;
        } else if (argv[i][0] != '-' && !dir) {
            dir = argv[i];
        } else {
            gs_cli_set(err.msg, "create: unexpected argument '%s' (train options go after --; see grokscope sweep "
                                "--help)", argv[i]);
            goto out;
        }
    }
    if (!dir || !dir[0]) {
        gs_cli_set(err.msg, "create: expected a directory (usage: grokscope sweep create DIR --grid NAME=VALUES ... "
                            "-- TRAIN-OPTIONS)");
        goto out;
    }
    if (gs_sweep_check_base(n_base, base, err.msg) != 0)
        goto out;
    for (int a = 0; a < grokscope_sweep_n_axes(sw); a++)
        if (gs_sweep_check_axis(sw, a, n_base, base, err.msg) != 0)
            goto out;
    if (grokscope_sweep_build(sw, n_base, base) != GROKSCOPE_OK)
        goto fail;
    if (gs_sweep_check_points(sw, 0, err.msg) != 0)
        goto out;
    char axes_text[1200];
    describe_axes(sw, axes_text, sizeof axes_text);
    int existed = 0;
    if (grokscope_sweep_write_plan(sw, dir, &existed) != GROKSCOPE_OK)
        goto fail;
    const long n_points = grokscope_sweep_n_points(sw);
    if (existed) {
        printf("%s already holds this sweep: %ld points, %s; nothing changed\n", dir, n_points, axes_text);
    } else {
        printf("sweep %s: %ld points, %s\n", dir, n_points, axes_text);
        printf("plan   %s/%s\n", dir, GROKSCOPE_SWEEP_PLAN_FILE);
        printf("next   grokscope sweep run %s   (or: grokscope sweep slurm %s)\n", dir, dir);
    }
    rc = 0;
    goto out;
fail:
    gs_cli_set(err.msg, "%s", grokscope_sweep_error(sw));
out:
    grokscope_sweep_free(sw);
    return rc == 0 ? 0 : gs_sweep_fail(err.msg);
}

int gs_sweep_one_dir(int argc, char **argv, const char *what, const char **dir, char *msg)
{
    *dir = NULL;
    for (int i = 1; i < argc; i++)
        if (argv[i][0] != '-' && !*dir)
            *dir = argv[i];
    if (!*dir)
        return gs_cli_set(msg, "%s: expected a sweep directory (usage: grokscope sweep %s DIR)", what, what);
    return 0;
}

int gs_sweep_parse_dir_opts(int argc, char **argv, const char *what, const char *flag, const char *usage,
                            gs_sweep_dir_opts *o, char *msg)
{
    *o = (gs_sweep_dir_opts){0};
    for (int i = 1; i < argc; i++) {
        const char *val;
        int r;
        if ((r = gs_opt_value(argv, argc, &i, "--threads", &val, msg)) != 0) {
            if (r < 0 || gs_parse_long("--threads", val, 1, 256, &o->threads, msg) != 0)
                return -1;
        } else if (strcmp(argv[i], "--quiet") == 0 || strcmp(argv[i], "-q") == 0) {
            o->quiet = 1;
        } else if (strcmp(argv[i], flag) == 0) {
            o->flag = 1;
        } else if (argv[i][0] != '-' && !o->dir) {
            o->dir = argv[i];
        } else {
            return gs_cli_set(msg, "%s: unexpected argument '%s' (see grokscope sweep --help)", what, argv[i]);
        }
    }
    if (!o->dir)
        return gs_cli_set(msg, "%s: expected a sweep directory (usage: %s)", what, usage);
    return 0;
}

static int status(int argc, char **argv)
{
    gs_cli_err err;
    const char *dir;
    if (gs_sweep_one_dir(argc, argv, "status", &dir, err.msg) != 0)
        return gs_sweep_fail(err.msg);
    for (int i = 1; i < argc; i++)
        if (argv[i] != dir) {
            gs_cli_set(err.msg, "status: unexpected argument '%s'", argv[i]);
            return gs_sweep_fail(err.msg);
        }
    grokscope_sweep *sw;
    if (gs_sweep_dir_open(dir, &sw, err.msg) != 0)
        return gs_sweep_fail(err.msg);
    const long n_points = grokscope_sweep_n_points(sw);
    const int n_axes = grokscope_sweep_n_axes(sw);
    grokscope_sweep_point *res = calloc((size_t)(n_points > 0 ? n_points : 1), sizeof *res);
    if (!res) {
        grokscope_sweep_free(sw);
        return gs_sweep_fail("out of memory");
    }
    for (long i = 0; i < n_points; i++)
        if (gs_sweep_dir_read_point(sw, i, &res[i], err.msg) != 0) {
            free(res);
            grokscope_sweep_free(sw);
            return gs_sweep_fail(err.msg);
        }
    char axes_text[1200];
    describe_axes(sw, axes_text, sizeof axes_text);
    printf("sweep %s: %ld points, %s\n", dir, n_points, axes_text);
    printf("train");
    for (int i = 0; i < grokscope_sweep_n_base(sw); i++)
        printf(" %s", grokscope_sweep_base(sw, i));
    printf("\n\n%5s", "point");
    int width[GROKSCOPE_SWEEP_MAX_AXES];
    for (int a = 0; a < n_axes; a++) {
        width[a] = (int)strlen(grokscope_sweep_axis_name(sw, a));
        for (int v = 0; v < grokscope_sweep_axis_n_values(sw, a); v++) {
            int w = (int)strlen(grokscope_sweep_axis_value(sw, a, v));
            width[a] = w > width[a] ? w : width[a];
        }
        width[a] = width[a] > 24 ? 24 : width[a];
        printf("  %-*s", width[a], grokscope_sweep_axis_name(sw, a));
    }
    printf("  %-13s %17s  %-13s %s\n", "status", "epochs", "class", "test 99% at");
    long count[GROKSCOPE_POINT_UNREADABLE + 1] = {0}, classes[GROKSCOPE_N_CLASSES] = {0};
    for (long i = 0; i < n_points; i++) {
        const grokscope_sweep_point *r = &res[i];
        count[r->status]++;
        if (r->cls >= 0)
            classes[r->cls]++;
        printf("%5ld", i);
        for (int a = 0; a < n_axes; a++)
            printf("  %-*.*s", width[a], width[a], grokscope_sweep_value(sw, i, a));
        char epochs[48] = "-", grok[32] = "-";
        if (r->epochs_done >= 0)
            snprintf(epochs, sizeof epochs, "%ld/%ld", r->epochs_done, r->epochs);
        else if (r->epochs >= 0)
            snprintf(epochs, sizeof epochs, "0/%ld", r->epochs);
        if (r->test_99 >= 0)
            snprintf(grok, sizeof grok, "%ld", r->test_99);
        printf("  %-13s %17s  %-13s %s\n", grokscope_sweep_status_name(r->status), epochs,
               r->cls >= 0 ? grokscope_sweep_class_name(r->cls) : "-", grok);
        if (r->status == GROKSCOPE_POINT_UNREADABLE)
            printf("       %s\n", r->message);
    }
    const long done = count[GROKSCOPE_POINT_FINISHED] + count[GROKSCOPE_POINT_STOPPED_EARLY] +
                      count[GROKSCOPE_POINT_DIVERGED];
    printf("\n%ld of %ld points ended (%ld finished, %ld stopped early, %ld diverged); %ld unfinished, "
           "%ld pending, %ld unreadable\n",
           done, n_points, count[GROKSCOPE_POINT_FINISHED], count[GROKSCOPE_POINT_STOPPED_EARLY],
           count[GROKSCOPE_POINT_DIVERGED], count[GROKSCOPE_POINT_UNFINISHED], count[GROKSCOPE_POINT_PENDING],
           count[GROKSCOPE_POINT_UNREADABLE]);
    printf("classes: %ld comprehension, %ld grokking, %ld memorization, %ld confusion\n",
           classes[GROKSCOPE_CLASS_COMPREHENSION], classes[GROKSCOPE_CLASS_GROKKING],
           classes[GROKSCOPE_CLASS_MEMORIZATION], classes[GROKSCOPE_CLASS_CONFUSION]);
    free(res);
    grokscope_sweep_free(sw);
    return 0;
}

int gs_cmd_sweep(int argc, char **argv)
{
    if (argc < 2 || gs_wants_help(argc, argv)) {
        fputs(sweep_usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? GS_EXIT_USAGE : 0;
    }
    const char *sub = argv[1];
    if (strcmp(sub, "create") == 0)
        return create(argc - 1, argv + 1);
    if (strcmp(sub, "run") == 0)
        return gs_sweep_cmd_run(argc - 1, argv + 1);
    if (strcmp(sub, "slurm") == 0)
        return gs_sweep_cmd_slurm(argc - 1, argv + 1);
    if (strcmp(sub, "status") == 0)
        return status(argc - 1, argv + 1);
    if (strcmp(sub, "collect") == 0)
        return gs_sweep_cmd_collect(argc - 1, argv + 1);
    if (strcmp(sub, "score") == 0)
        return gs_sweep_cmd_score(argc - 1, argv + 1);
    char msg[300];
    snprintf(msg, sizeof msg, "unknown subcommand '%.200s' (create, run, slurm, status, collect, score; see grokscope sweep --help)",
             sub);
    return fail_line(msg);
}
