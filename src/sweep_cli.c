#define _GNU_SOURCE /* sched_getaffinity */
#include "sweep_cli.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"

_Static_assert(sizeof ((gs_err *)0)->msg == GS_CLI_MSG, "gs_err.msg is a command-line message");

/* Options a sweep sets itself for each point; never an axis or a base option. */
static const char *const reserved[] = {"out", "resume", "force", "threads", "quiet", "q"};

/* train's parser; job->cfg is freed unless cfg asks for it. */
static int parse_args(int argc, char **argv, gs_train_job *job, gs_err *err, grokscope_config **cfg)
{
    const int rc = gs_train_parse_options(argc, argv, job, err->msg);
    if (rc == 0 && cfg) {
        *cfg = job->cfg;
        job->cfg = NULL;
    }
    gs_train_job_free(job);
    return rc;
}

int gs_sweep_check_base(int n_base, char *const *base, gs_err *err)
{
    char **argv = calloc((size_t)n_base + 2, sizeof *argv);
    if (!argv)
        return gs_err_set(err, "out of memory");
    argv[0] = (char *)"train";
    for (int i = 0; i < n_base; i++)
        argv[i + 1] = base[i];
    gs_train_job job;
    gs_err e;
    int rc = parse_args(n_base + 1, argv, &job, &e, NULL);
    free(argv);
    if (rc != 0)
        return gs_err_set(err, "train options: %s", e.msg);
    if (job.out)
        return gs_err_set(err, "train options: %s: the sweep names each point's run file itself",
                          job.resume ? "--resume" : "--out");
    if (job.force)
        return gs_err_set(err, "train options: --force: a sweep never overwrites a run");
    if (job.threads)
        return gs_err_set(err, "train options: --threads: sweep run sets it (sweep run --threads N)");
    if (job.quiet)
        return gs_err_set(err, "train options: --quiet: sweep run keeps each point's progress in its log");
    return 0;
}

/* 1 if the base options set --NAME (as "--NAME" or "--NAME=..."). */
static int base_sets(int n_base, char *const *base, const char *name)
{
    const size_t n = strlen(name);
    for (int i = 0; i < n_base; i++)
        if (strncmp(base[i], "--", 2) == 0 && strncmp(base[i] + 2, name, n) == 0 &&
            (base[i][2 + n] == '\0' || base[i][2 + n] == '='))
            return 1;
    return 0;
}

int gs_sweep_check_axis(const gs_sweep_axis *axis, int n_base, char *const *base, gs_err *err)
{
    const char *name = axis->name;
    for (size_t k = 0; k < sizeof reserved / sizeof *reserved; k++)
        if (strcmp(name, reserved[k]) == 0)
            return gs_err_set(err, "axis '%s': the sweep sets --%s for each point itself", name, name);
    char flag[80];
    snprintf(flag, sizeof flag, "--%s", name);
    gs_train_job job;
    gs_err e;
    /* A switch parses alone; an option with a value does not. */
    char *alone[] = {(char *)"train", flag, NULL};
    if (parse_args(2, alone, &job, &e, NULL) == 0)
        return gs_err_set(err, "axis '%s': --%s is a switch without a value, so it cannot be an axis "
                               "(give it after -- to set it for every point)", name, name);
    char *probe[] = {(char *)"train", flag, axis->values[0], NULL};
    if (parse_args(3, probe, &job, &e, NULL) != 0) {
        /* train's parser says "unknown option '--NAME'" for a name it does not know */
        char unknown[120];
        snprintf(unknown, sizeof unknown, "unknown option '%s'", flag);
        if (strstr(e.msg, unknown))
            return gs_err_set(err, "unknown axis '%s': grokscope train has no option --%s (see grokscope train --help)",
                              name, name);
    }
    if (base_sets(n_base, base, name))
        return gs_err_set(err, "--%s is both an axis and a train option after --; give it in one place", name);
    char **argv = calloc((size_t)n_base + 4, sizeof *argv);
    if (!argv)
        return gs_err_set(err, "out of memory");
    argv[0] = (char *)"train";
    for (int i = 0; i < n_base; i++)
        argv[i + 1] = base[i];
    argv[n_base + 1] = flag;
    int rc = 0;
    for (int v = 0; v < axis->n_values && rc == 0; v++) {
        argv[n_base + 2] = axis->values[v];
        if (parse_args(n_base + 3, argv, &job, &e, NULL) != 0)
            rc = gs_err_set(err, "axis '%s': %s", name, e.msg);
    }
    free(argv);
    return rc;
}

int gs_sweep_check_points(const gs_sweep_plan *plan, grokscope_config **cfg, gs_err *err)
{
    for (long i = 0; i < plan->n_points; i++) {
        gs_sweep_args args;
        if (gs_sweep_point_args(plan, i, 0, &args) != 0)
            return gs_err_set(err, "out of memory");
        gs_train_job job;
        gs_err e;
        grokscope_config *c = NULL;
        int rc = parse_args(args.argc, args.argv, &job, &e, &c);
        gs_sweep_args_free(&args);
        if (rc == 0 && job.out)
            rc = gs_err_set(&e, "the train options name a run file (--out or --resume)");
        if (rc == 0 && grokscope_config_validate(c) != GROKSCOPE_OK)
            rc = gs_err_set(&e, "%s", grokscope_config_error(c));
        if (rc == 0 && cfg) {
            cfg[i] = c;
            c = NULL;
        }
        grokscope_config_free(c);
        if (rc != 0) {
            char label[600];
            gs_sweep_point_label(plan, i, label, sizeof label);
            return gs_err_set(err, "point %ld (%s): %s", i, label, e.msg);
        }
    }
    return 0;
}

static int compare_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int gs_sweep_dir_check_files(const char *dir, const gs_sweep_plan *plan, gs_err *err)
{
    const long n = plan ? plan->n_points : 0;
    char **sorted = malloc((size_t)(n ? n : 1) * sizeof *sorted);
    if (!sorted)
        return gs_err_set(err, "out of memory");
    if (n)
        memcpy(sorted, plan->file, (size_t)n * sizeof *sorted);
    qsort(sorted, (size_t)n, sizeof *sorted, compare_names);
    DIR *d = opendir(dir);
    if (!d) {
        free(sorted);
        return gs_err_set(err, "cannot read the directory %s: %s", dir, strerror(errno));
    }
    int rc = 0;
    for (struct dirent *e; rc == 0 && (e = readdir(d));) {
        const char *name = e->d_name;
        const size_t len = strlen(name);
        if (name[0] == '.' || len < 4 || strcmp(name + len - 3, ".h5") != 0 || strcmp(name, "sweep.h5") == 0)
            continue;
        if (bsearch(&name, sorted, (size_t)n, sizeof *sorted, compare_names))
            continue;
        if (plan)
            rc = gs_err_set(err, "%s/%s belongs to no point of the sweep (sweep.plan names %ld run files); "
                                 "move it out of %s", dir, name, n, dir);
        else
            rc = gs_err_set(err, "%s/%s is in the way: a sweep directory holds only its own run files; "
                                 "choose an empty or new directory", dir, name);
    }
    closedir(d);
    free(sorted);
    return rc;
}

int gs_sweep_dir_open(gs_sweep_dir *s, const char *dir, gs_err *err)
{
    *s = (gs_sweep_dir){.dir = dir};
    if (gs_sweep_plan_read(&s->plan, dir, err) != 0)
        return -1;
    char plan_path[PATH_MAX];
    snprintf(plan_path, sizeof plan_path, "%s/%s", dir, GS_SWEEP_PLAN_FILE);
    gs_err e;
    s->cfg = calloc((size_t)s->plan.n_points, sizeof *s->cfg);
    if (!s->cfg) {
        gs_sweep_dir_close(s);
        return gs_err_set(err, "out of memory");
    }
    if (gs_sweep_check_base(s->plan.n_base, s->plan.base, &e) != 0 ||
        gs_sweep_check_points(&s->plan, s->cfg, &e) != 0) {
        gs_sweep_dir_close(s);
        return gs_err_set(err, "%s: %s", plan_path, e.msg);
    }
    if (gs_sweep_dir_check_files(dir, &s->plan, err) != 0) {
        gs_sweep_dir_close(s);
        return -1;
    }
    return 0;
}

void gs_sweep_dir_close(gs_sweep_dir *s)
{
    for (long i = 0; s->cfg && i < s->plan.n_points; i++)
        grokscope_config_free(s->cfg[i]);
    gs_sweep_plan_free(&s->plan);
    free(s->cfg);
    s->cfg = NULL;
}

void gs_sweep_dir_run_path(const gs_sweep_dir *s, long point, char *out, size_t size)
{
    snprintf(out, size, "%s/%s", s->dir, s->plan.file[point]);
}

int gs_sweep_dir_read_point(const gs_sweep_dir *s, long i, gs_sweep_result *r, gs_metrics_row **rows,
                            long *n_rows, gs_err *err)
{
    char path[PATH_MAX], log[PATH_MAX + 16];
    gs_sweep_dir_run_path(s, i, path, sizeof path);
    if (gs_sweep_read_point(path, r, NULL, rows, n_rows, err) != 0)
        return -1;
    if (r->status == GS_SWEEP_PENDING) {
        int64_t epochs = 0;
        grokscope_config_get_int(s->cfg[i], "epochs", &epochs);
        r->epochs = (long)epochs;
    } else if (r->status != GS_SWEEP_UNREADABLE) {
        /* the file was read just now: its configuration against the point's */
        char diff[512] = "";
        grokscope_run *run;
        const int code = grokscope_run_open(path, &run);
        if (code == GROKSCOPE_OK)
            grokscope_config_diff(grokscope_run_config(run), s->cfg[i], diff, sizeof diff);
        else
            gs_err_set(err, "%s", run ? grokscope_run_error(run) : "out of memory");
        grokscope_run_close(run);
        if (code != GROKSCOPE_OK || diff[0]) {
            if (rows) {
                free(*rows);
                *rows = NULL;
            }
            if (code != GROKSCOPE_OK)
                return -1;
            char label[600];
            gs_sweep_point_label(&s->plan, i, label, sizeof label);
            return gs_err_set(err, "%s belongs to no point of the sweep: it holds a run with %s (point %ld is %s); "
                                   "move it out of %s", path, diff, i, label, s->dir);
        }
    }
    gs_sweep_log_path(s->dir, s->plan.file[i], log, sizeof log);
    r->wall_s = gs_sweep_log_wall(log);
    return 0;
}

int gs_sweep_cpus(void)
{
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 0)
        return CPU_COUNT(&set);
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}
