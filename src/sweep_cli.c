#define _GNU_SOURCE /* sched_getaffinity */
#include "sweep_cli.h"

#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"

/* Options a sweep sets itself for each point; never an axis or a base option. */
static const char *const reserved[] = {"out", "resume", "force", "threads", "quiet", "q"};

/* train's parser; job->cfg is freed unless cfg asks for it. */
static int parse_args(int argc, char **argv, gs_train_job *job, char *msg, grokscope_config **cfg)
{
    const int rc = gs_train_parse_options(argc, argv, job, msg);
    if (rc == 0 && cfg) {
        *cfg = job->cfg;
        job->cfg = NULL;
    }
    gs_train_job_free(job);
    return rc;
}

int gs_sweep_check_base(int n_base, char *const *base, char *msg)
{
    char **argv = calloc((size_t)n_base + 2, sizeof *argv);
    if (!argv)
        return gs_cli_set(msg, "out of memory");
    argv[0] = (char *)"train";
    for (int i = 0; i < n_base; i++)
        argv[i + 1] = base[i];
    gs_train_job job;
    gs_cli_err e;
    int rc = parse_args(n_base + 1, argv, &job, e.msg, NULL);
    free(argv);
    if (rc != 0)
        return gs_cli_set(msg, "train options: %s", e.msg);
    if (job.out)
        return gs_cli_set(msg, "train options: %s: the sweep names each point's run file itself",
                          job.resume ? "--resume" : "--out");
    if (job.force)
        return gs_cli_set(msg, "train options: --force: a sweep never overwrites a run");
    if (job.threads)
        return gs_cli_set(msg, "train options: --threads: sweep run sets it (sweep run --threads N)");
    if (job.quiet)
        return gs_cli_set(msg, "train options: --quiet: sweep run keeps each point's progress in its log");
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

int gs_sweep_check_axis(const grokscope_sweep *sw, int a, int n_base, char *const *base, char *msg)
{
    const char *name = grokscope_sweep_axis_name(sw, a);
    const int n_values = grokscope_sweep_axis_n_values(sw, a);
    for (size_t k = 0; k < sizeof reserved / sizeof *reserved; k++)
        if (strcmp(name, reserved[k]) == 0)
            return gs_cli_set(msg, "axis '%s': the sweep sets --%s for each point itself", name, name);
    char flag[80];
    snprintf(flag, sizeof flag, "--%s", name);
    gs_train_job job;
    gs_cli_err e;
    /* A switch parses alone; an option with a value does not. */
    char *alone[] = {(char *)"train", flag, NULL};
    if (parse_args(2, alone, &job, e.msg, NULL) == 0)
        return gs_cli_set(msg, "axis '%s': --%s is a switch without a value, so it cannot be an axis "
                               "(give it after -- to set it for every point)", name, name);
    char *probe[] = {(char *)"train", flag, (char *)grokscope_sweep_axis_value(sw, a, 0), NULL};
    if (parse_args(3, probe, &job, e.msg, NULL) != 0) {
        /* train's parser says "unknown option '--NAME'" for a name it does not know */
        char unknown[120];
        snprintf(unknown, sizeof unknown, "unknown option '%s'", flag);
        if (strstr(e.msg, unknown))
            return gs_cli_set(msg, "unknown axis '%s': grokscope train has no option --%s (see grokscope train --help)",
                              name, name);
    }
    if (base_sets(n_base, base, name))
        return gs_cli_set(msg, "--%s is both an axis and a train option after --; give it in one place", name);
    char **argv = calloc((size_t)n_base + 4, sizeof *argv);
    if (!argv)
        return gs_cli_set(msg, "out of memory");
    argv[0] = (char *)"train";
    for (int i = 0; i < n_base; i++)
        argv[i + 1] = base[i];
    argv[n_base + 1] = flag;
    int rc = 0;
    for (int v = 0; v < n_values && rc == 0; v++) {
        argv[n_base + 2] = (char *)grokscope_sweep_axis_value(sw, a, v);
        if (parse_args(n_base + 3, argv, &job, e.msg, NULL) != 0)
            rc = gs_cli_set(msg, "axis '%s': %s", name, e.msg);
    }
    free(argv);
    return rc;
}

int gs_sweep_check_points(grokscope_sweep *sw, int set, char *msg)
{
    const long n = grokscope_sweep_n_points(sw);
    for (long i = 0; i < n; i++) {
        int argc;
        char **argv;
        if (grokscope_sweep_point_argv(sw, i, 0, &argc, &argv) != GROKSCOPE_OK)
            return gs_cli_set(msg, "%s", grokscope_sweep_error(sw));
        gs_train_job job;
        gs_cli_err e;
        grokscope_config *c = NULL;
        int rc = parse_args(argc, argv, &job, e.msg, &c);
        grokscope_sweep_argv_free(argv);
        if (rc == 0 && job.out)
            rc = gs_cli_set(e.msg, "the train options name a run file (--out or --resume)");
        if (rc == 0 && grokscope_config_validate(c) != GROKSCOPE_OK)
            rc = gs_cli_set(e.msg, "%s", grokscope_config_error(c));
        if (rc == 0 && set && grokscope_sweep_set_config(sw, i, c) != GROKSCOPE_OK)
            rc = gs_cli_set(e.msg, "%s", grokscope_sweep_error(sw));
        grokscope_config_free(c);
        if (rc != 0) {
            char label[600];
            grokscope_sweep_label(sw, i, label, sizeof label);
            return gs_cli_set(msg, "point %ld (%s): %s", i, label, e.msg);
        }
    }
    return 0;
}

int gs_sweep_dir_open(const char *dir, grokscope_sweep **out, char *msg)
{
    grokscope_sweep *sw;
    *out = NULL;
    if (grokscope_sweep_open(dir, &sw) != GROKSCOPE_OK) {
        gs_cli_set(msg, "%s", sw ? grokscope_sweep_error(sw) : "out of memory");
        grokscope_sweep_free(sw);
        return -1;
    }
    const int n_base = grokscope_sweep_n_base(sw);
    char **base = calloc((size_t)n_base + 1, sizeof *base);
    gs_cli_err e;
    int rc = base ? 0 : gs_cli_set(msg, "out of memory");
    for (int i = 0; rc == 0 && i < n_base; i++)
        base[i] = (char *)grokscope_sweep_base(sw, i);
    if (rc == 0 && (gs_sweep_check_base(n_base, base, e.msg) != 0 || gs_sweep_check_points(sw, 1, e.msg) != 0))
        rc = gs_cli_set(msg, "%s/%s: %s", dir, GROKSCOPE_SWEEP_PLAN_FILE, e.msg);
    if (rc == 0 && grokscope_sweep_check_files(sw) != GROKSCOPE_OK)
        rc = gs_cli_set(msg, "%s", grokscope_sweep_error(sw));
    free(base);
    if (rc != 0) {
        grokscope_sweep_free(sw);
        return -1;
    }
    *out = sw;
    return 0;
}

int gs_sweep_dir_read_point(grokscope_sweep *sw, long point, grokscope_sweep_point *r, char *msg)
{
    if (grokscope_sweep_read_point(sw, point, r) != GROKSCOPE_OK)
        return gs_cli_set(msg, "%s", grokscope_sweep_error(sw));
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
