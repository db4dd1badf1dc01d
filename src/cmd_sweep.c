/* grokscope sweep: a grid of training runs on this machine or a Slurm cluster.
 * This file: the usage, the subcommand dispatch, `create` and `status`; `run` is in
 * cmd_sweep_run.c, `slurm` in cmd_sweep_slurm.c, `collect` in cmd_sweep_collect.c. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

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

int gs_sweep_fail(const gs_err *err)
{
    return fail_line(err->msg);
}

/* "lr (3 values) x wd (4 values)" */
static void describe_axes(const gs_sweep_plan *plan, char *out, size_t size)
{
    size_t at = 0;
    out[0] = '\0';
    for (int a = 0; a < plan->n_axes && at < size; a++)
        at += (size_t)snprintf(out + at, size - at, "%s%s (%d value%s)", a ? " x " : "", plan->axes[a].name,
                               plan->axes[a].n_values, plan->axes[a].n_values == 1 ? "" : "s");
}

static int mkdirs(const char *dir, gs_err *err)
{
    char path[PATH_MAX];
    if (snprintf(path, sizeof path, "%s", dir) >= (int)sizeof path)
        return gs_err_set(err, "%s: path too long", dir);
    for (char *s = path + 1;; s++) {
        const int end = *s == '\0';
        if (*s == '/' || end) {
            *s = '\0';
            if (mkdir(path, 0777) != 0 && errno != EEXIST)
                return gs_err_set(err, "cannot create the directory %s: %s", path, strerror(errno));
            if (end)
                break;
            *s = '/';
        }
    }
    return 0;
}

static int create(int argc, char **argv)
{
    gs_err err;
    const char *dir = NULL;
    gs_sweep_axis axes[GS_SWEEP_MAX_AXES];
    int n_axes = 0, n_base = 0, rc = GS_EXIT_USAGE;
    char **base = NULL;
    gs_sweep_plan plan = {0};
    char *text = NULL, *old = NULL;
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
            if (n_axes == GS_SWEEP_MAX_AXES) {
                gs_err_set(&err, "more than %d axes", GS_SWEEP_MAX_AXES);
                goto out;
            }
            if ((grid ? gs_sweep_axis_parse(val, &axes[n_axes], &err)
                      : gs_sweep_seeds_parse(val, &axes[n_axes], &err)) != 0)
                goto out;
            n_axes++;
        } else if (argv[i][0] != '-' && !dir) {
            dir = argv[i];
        } else {
            gs_err_set(&err, "create: unexpected argument '%s' (train options go after --; see grokscope sweep --help)",
                       argv[i]);
            goto out;
        }
    }
    if (!dir || !dir[0]) {
        gs_err_set(&err, "create: expected a directory (usage: grokscope sweep create DIR --grid NAME=VALUES ... "
                         "-- TRAIN-OPTIONS)");
        goto out;
    }
    if (gs_sweep_check_base(n_base, base, &err) != 0)
        goto out;
    for (int a = 0; a < n_axes; a++)
        if (gs_sweep_check_axis(&axes[a], n_base, base, &err) != 0)
            goto out;
    if (gs_sweep_plan_build(&plan, n_base, base, n_axes, axes, &err) != 0 ||
        gs_sweep_check_points(&plan, NULL, &err) != 0)
        goto out;
    if (!(text = gs_sweep_plan_format(&plan))) {
        gs_err_set(&err, "out of memory");
        goto out;
    }
    char path[PATH_MAX], axes_text[1200];
    snprintf(path, sizeof path, "%s/%s", dir, GS_SWEEP_PLAN_FILE);
    describe_axes(&plan, axes_text, sizeof axes_text);
    struct stat st;
    if (stat(dir, &st) == 0 && !S_ISDIR(st.st_mode)) {
        gs_err_set(&err, "%s exists and is not a directory", dir);
        goto out;
    }
    if (stat(path, &st) == 0) {
        if (gs_sweep_read_text(path, (size_t)1 << 30, &old, &err) != 0)
            goto out;
        if (!gs_sweep_plan_text_same(old, text)) {
            gs_err_set(&err, "%s already holds another sweep (%s); choose another directory, or continue that "
                             "one with grokscope sweep run %s", dir, path, dir);
            goto out;
        }
        printf("%s already holds this sweep: %ld points, %s; nothing changed\n", dir, plan.n_points, axes_text);
        rc = 0;
        goto out;
    }
    if (stat(dir, &st) == 0 && gs_sweep_dir_check_files(dir, NULL, &err) != 0)
        goto out;
    if (mkdirs(dir, &err) != 0 || gs_sweep_write_text(path, text, strlen(text), &err) != 0)
        goto out;
    printf("sweep %s: %ld points, %s\n", dir, plan.n_points, axes_text);
    printf("plan   %s\n", path);
    printf("next   grokscope sweep run %s   (or: grokscope sweep slurm %s)\n", dir, dir);
    rc = 0;
out:
    for (int a = 0; a < n_axes; a++)
        gs_sweep_axis_free(&axes[a]);
    gs_sweep_plan_free(&plan);
    free(text);
    free(old);
    return rc == 0 ? 0 : gs_sweep_fail(&err);
}

int gs_sweep_one_dir(int argc, char **argv, const char *what, const char **dir, gs_err *err)
{
    *dir = NULL;
    for (int i = 1; i < argc; i++)
        if (argv[i][0] != '-' && !*dir)
            *dir = argv[i];
    if (!*dir)
        return gs_err_set(err, "%s: expected a sweep directory (usage: grokscope sweep %s DIR)", what, what);
    return 0;
}

int gs_sweep_parse_dir_opts(int argc, char **argv, const char *what, const char *flag, const char *usage,
                            gs_sweep_dir_opts *o, gs_err *err)
{
    *o = (gs_sweep_dir_opts){0};
    for (int i = 1; i < argc; i++) {
        const char *val;
        int r;
        if ((r = gs_opt_value(argv, argc, &i, "--threads", &val, err->msg)) != 0) {
            if (r < 0 || gs_parse_long("--threads", val, 1, 256, &o->threads, err->msg) != 0)
                return -1;
        } else if (strcmp(argv[i], "--quiet") == 0 || strcmp(argv[i], "-q") == 0) {
            o->quiet = 1;
        } else if (strcmp(argv[i], flag) == 0) {
            o->flag = 1;
        } else if (argv[i][0] != '-' && !o->dir) {
            o->dir = argv[i];
        } else {
            return gs_err_set(err, "%s: unexpected argument '%s' (see grokscope sweep --help)", what, argv[i]);
        }
    }
    if (!o->dir)
        return gs_err_set(err, "%s: expected a sweep directory (usage: %s)", what, usage);
    return 0;
}

static int status(int argc, char **argv)
{
    gs_err err;
    const char *dir;
    if (gs_sweep_one_dir(argc, argv, "status", &dir, &err) != 0)
        return gs_sweep_fail(&err);
    for (int i = 1; i < argc; i++)
        if (argv[i] != dir) {
            gs_err_set(&err, "status: unexpected argument '%s'", argv[i]);
            return gs_sweep_fail(&err);
        }
    gs_sweep_dir s;
    if (gs_sweep_dir_open(&s, dir, &err) != 0)
        return gs_sweep_fail(&err);
    const gs_sweep_plan *plan = &s.plan;
    gs_sweep_result *res = calloc((size_t)plan->n_points, sizeof *res);
    if (!res) {
        gs_sweep_dir_close(&s);
        gs_err_set(&err, "out of memory");
        return gs_sweep_fail(&err);
    }
    for (long i = 0; i < plan->n_points; i++)
        if (gs_sweep_dir_read_point(&s, i, &res[i], NULL, NULL, &err) != 0) {
            free(res);
            gs_sweep_dir_close(&s);
            return gs_sweep_fail(&err);
        }
    char axes_text[1200];
    describe_axes(plan, axes_text, sizeof axes_text);
    printf("sweep %s: %ld points, %s\n", dir, plan->n_points, axes_text);
    printf("train");
    for (int i = 0; i < plan->n_base; i++)
        printf(" %s", plan->base[i]);
    printf("\n\n%5s", "point");
    int width[GS_SWEEP_MAX_AXES];
    for (int a = 0; a < plan->n_axes; a++) {
        width[a] = (int)strlen(plan->axes[a].name);
        for (int v = 0; v < plan->axes[a].n_values; v++) {
            int w = (int)strlen(plan->axes[a].values[v]);
            width[a] = w > width[a] ? w : width[a];
        }
        width[a] = width[a] > 24 ? 24 : width[a];
        printf("  %-*s", width[a], plan->axes[a].name);
    }
    printf("  %-13s %17s  %-13s %s\n", "status", "epochs", "class", "test 99% at");
    long count[GS_SWEEP_UNREADABLE + 1] = {0}, classes[GS_SWEEP_N_CLASSES] = {0};
    for (long i = 0; i < plan->n_points; i++) {
        const gs_sweep_result *r = &res[i];
        count[r->status]++;
        if (r->cls >= 0)
            classes[r->cls]++;
        printf("%5ld", i);
        for (int a = 0; a < plan->n_axes; a++)
            printf("  %-*.*s", width[a], width[a], gs_sweep_value(plan, i, a));
        char epochs[48] = "-", grok[32] = "-";
        if (r->epochs_done >= 0)
            snprintf(epochs, sizeof epochs, "%ld/%ld", r->epochs_done, r->epochs);
        else if (r->epochs >= 0)
            snprintf(epochs, sizeof epochs, "0/%ld", r->epochs);
        if (r->fp.test_99 >= 0)
            snprintf(grok, sizeof grok, "%ld", r->fp.test_99);
        printf("  %-13s %17s  %-13s %s\n", gs_sweep_status_name(r->status), epochs,
               r->cls >= 0 ? gs_sweep_class_name(r->cls) : "-", grok);
        if (r->status == GS_SWEEP_UNREADABLE)
            printf("       %s\n", r->message);
    }
    const long done = count[GS_SWEEP_FINISHED] + count[GS_SWEEP_STOPPED_EARLY] + count[GS_SWEEP_DIVERGED];
    printf("\n%ld of %ld points ended (%ld finished, %ld stopped early, %ld diverged); %ld unfinished, "
           "%ld pending, %ld unreadable\n",
           done, plan->n_points, count[GS_SWEEP_FINISHED], count[GS_SWEEP_STOPPED_EARLY], count[GS_SWEEP_DIVERGED],
           count[GS_SWEEP_UNFINISHED], count[GS_SWEEP_PENDING], count[GS_SWEEP_UNREADABLE]);
    printf("classes: %ld comprehension, %ld grokking, %ld memorization, %ld confusion\n",
           classes[GS_SWEEP_COMPREHENSION], classes[GS_SWEEP_GROKKING], classes[GS_SWEEP_MEMORIZATION],
           classes[GS_SWEEP_CONFUSION]);
    free(res);
    gs_sweep_dir_close(&s);
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
