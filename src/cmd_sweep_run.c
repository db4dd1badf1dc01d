/* grokscope sweep run: the local executor. Each point is one or two child processes of
 * this same binary (train or train --resume, then analyze), N at a time, each with its
 * output appended to DIR/logs/NAME.log. The run files are the only state: what is
 * finished is skipped, what is unfinished resumes from its last checkpoint, so a
 * killed or preempted sweep is continued by running it again. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cmd_sweep.h"
#include "commands.h"
#include "opts.h"
#include "progress.h"

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
    (void)sig;
    interrupted = 1;
}

typedef enum { STEP_NONE, STEP_TRAIN, STEP_RESUME, STEP_ANALYZE } step_kind;
static const char *const step_names[] = {"none", "train", "resume", "analyze"};

typedef enum { PT_QUEUED, PT_RUNNING, PT_DONE, PT_FAILED, PT_STOPPED } point_state;

typedef struct {
    long point;
    step_kind next;          /* the step to run next (train, resume or analyze) */
    point_state state;
    long epochs_left;        /* epochs to train at the start of this sweep run */
    long epoch_from;         /* epoch the current train/resume step started from */
    long epochs_trained;     /* trained so far in this sweep run (for the ETA) */
    /* the running step */
    pid_t pid;
    step_kind step;
    double t0;
    int log_fd;
    off_t log_from;
} point_job;

typedef struct {
    grokscope_sweep *sw;
    int jobs, threads, quiet, tty;
    double t_start, t_line;
    long n_selected, n_before;  /* points selected; done before this run */
    long n_done, n_failed, n_running;
    long epochs_total;          /* epochs to train in this run */
    int line_shown;             /* a tty progress line is on screen */
} executor;

/* ---- output ---- */

static void clear_line(executor *x)
{
    if (x->tty && x->line_shown) {
        fputs("\r\033[K", stderr);
        x->line_shown = 0;
    }
}

static void format_duration(char *buf, size_t n, double s)
{
    if (!(s >= 0) || s > 1e8)
        snprintf(buf, n, "?");
    else if (s >= 3600)
        snprintf(buf, n, "%dh%02dm", (int)(s / 3600), (int)(s / 60) % 60);
    else
        snprintf(buf, n, "%dm%02ds", (int)(s / 60), (int)s % 60);
}

static long epochs_trained(const point_job *p, long n)
{
    long sum = 0;
    for (long k = 0; k < n; k++)
        sum += p[k].epochs_trained;
    return sum;
}

/* The one line for the whole sweep: on a terminal rewritten in place, otherwise a
 * plain line at most every 30 s (and the last one always). */
static void progress(executor *x, point_job *p, long n, int force)
{
    if (x->quiet)
        return;
    const double now = gs_now();
    if (!force && now - x->t_line < (x->tty ? 0.5 : 30.0))
        return;
    x->t_line = now;
    for (long k = 0; k < n; k++) {
        long d, t;
        if (p[k].state == PT_RUNNING && (p[k].step == STEP_TRAIN || p[k].step == STEP_RESUME)) {
            char log[PATH_MAX + 16];
            grokscope_sweep_log_path(x->sw, p[k].point, log, sizeof log);
            if (grokscope_sweep_log_progress(log, (int64_t)p[k].log_from, &d, &t) && d >= p[k].epoch_from)
                p[k].epochs_trained = d - p[k].epoch_from;
        }
    }
    const long trained = epochs_trained(p, n);
    const double el = now - x->t_start, rate = el > 0 ? (double)trained / el : 0;
    char eta[32], line[400];
    format_duration(eta, sizeof eta, rate > 0 ? (double)(x->epochs_total - trained) / rate : -1);
    const long waiting = x->n_selected - x->n_done - x->n_failed - x->n_running;
    int len = snprintf(line, sizeof line, "sweep %ld/%ld done  %ld running  %ld failed  %ld waiting", x->n_done,
                       x->n_selected, x->n_running, x->n_failed, waiting > 0 ? waiting : 0);
    if (x->epochs_total > 0)
        snprintf(line + len, sizeof line - (size_t)len, "  |  epochs %.0f%%  %.0f/s  ETA %s",
                 100.0 * (double)trained / (double)x->epochs_total, rate, eta);
    fprintf(stderr, "%s%s%s", x->tty ? "\r" : "", line, x->tty ? "\033[K" : "\n");
    x->line_shown = x->tty;
    fflush(stderr);
}

static void report(executor *x, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void report(executor *x, const char *fmt, ...)
{
    clear_line(x);
    va_list ap;
    va_start(ap, fmt);
    fputs("grokscope sweep: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    fflush(stderr);
}

/* ---- the steps ---- */

static int start_step(executor *x, point_job *p, char *msg)
{
    char path[PATH_MAX], log[PATH_MAX + 16], threads[16];
    grokscope_sweep_run_path(x->sw, p->point, path, sizeof path);
    grokscope_sweep_log_path(x->sw, p->point, log, sizeof log);
    snprintf(threads, sizeof threads, "%d", x->threads);
    char **args = NULL;
    char *fixed[8];
    char **av;
    int ac;
    if (p->next == STEP_TRAIN) {
        if (grokscope_sweep_point_argv(x->sw, p->point, 4, &ac, &args) != GROKSCOPE_OK)
            return gs_cli_set(msg, "%s", grokscope_sweep_error(x->sw));
        av = args;
        av[ac++] = (char *)"--out";
        av[ac++] = path;
        av[ac++] = (char *)"--threads";
        av[ac++] = threads;
    } else if (p->next == STEP_RESUME) {
        char *r[] = {(char *)"train", (char *)"--resume", path, (char *)"--threads", threads};
        memcpy(fixed, r, sizeof r);
        av = fixed;
        ac = 5;
    } else {
        char *r[] = {(char *)"analyze", path, (char *)"--threads", threads, (char *)"--quiet"};
        memcpy(fixed, r, sizeof r);
        av = fixed;
        ac = 5;
    }
    char **exec_argv = calloc((size_t)ac + 2, sizeof *exec_argv);
    if (!exec_argv) {
        grokscope_sweep_argv_free(args);
        return gs_cli_set(msg, "out of memory");
    }
    exec_argv[0] = (char *)"grokscope";
    memcpy(exec_argv + 1, av, (size_t)ac * sizeof *av);
    int fd = open(log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0666);
    int devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
    int rc = 0;
    if (fd < 0) {
        rc = gs_cli_set(msg, "cannot write %s: %s", log, strerror(errno));
        goto out;
    }
    p->log_from = lseek(fd, 0, SEEK_END);
    if (grokscope_sweep_log_start(fd, step_names[p->next], x->threads, exec_argv + 1) != GROKSCOPE_OK) {
        rc = gs_cli_set(msg, "cannot write %s: %s", log, strerror(errno));
        goto out;
    }
    pid_t pid = fork();
    if (pid < 0) {
        rc = gs_cli_set(msg, "cannot start a child process: fork: %s", strerror(errno));
        goto out;
    }
    if (pid == 0) {
        /* child: only async-signal-safe calls from here */
        static const char no_exec[] = "grokscope sweep: cannot execute /proc/self/exe\n";
        if (devnull >= 0)
            dup2(devnull, 0);
        dup2(fd, 1);
        dup2(fd, 2);
        execv("/proc/self/exe", exec_argv);
        ssize_t w = write(2, no_exec, sizeof no_exec - 1);
        (void)w;
        _exit(127);
    }
    p->pid = pid;
    p->step = p->next;
    p->t0 = gs_now();
    p->log_fd = fd;
    fd = -1;
    p->state = PT_RUNNING;
    x->n_running++;
out:
    if (fd >= 0)
        close(fd);
    if (devnull >= 0)
        close(devnull);
    free(exec_argv);
    grokscope_sweep_argv_free(args);
    return rc;
}

static void describe_exit(int status, char *out, size_t size)
{
    if (WIFEXITED(status))
        snprintf(out, size, "exit %d", WEXITSTATUS(status));
    else if (WIFSIGNALED(status))
        snprintf(out, size, "killed by signal %d (%s)", WTERMSIG(status), strsignal(WTERMSIG(status)));
    else
        snprintf(out, size, "status %d", status);
}

static void fail_point(executor *x, point_job *p, const char *why)
{
    char label[600], log[PATH_MAX + 16];
    grokscope_sweep_label(x->sw, p->point, label, sizeof label);
    grokscope_sweep_log_path(x->sw, p->point, log, sizeof log);
    report(x, "point %ld (%s) failed: %s (log: %s)", p->point, label, why, log);
    p->state = PT_FAILED;
    x->n_failed++;
}

/* A child of point p ended with `status`: log it, then decide what comes next. */
static void step_ended(executor *x, point_job *p, int status)
{
    const double seconds = gs_now() - p->t0;
    char outcome[160], log[PATH_MAX + 16], why[1200];
    describe_exit(status, outcome, sizeof outcome);
    grokscope_sweep_log_end(p->log_fd, step_names[p->step], outcome, seconds);
    close(p->log_fd);
    p->log_fd = -1;
    p->pid = 0;
    x->n_running--;
    const step_kind step = p->step;
    p->step = STEP_NONE;
    grokscope_sweep_log_path(x->sw, p->point, log, sizeof log);
    const int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    if (step != STEP_ANALYZE && (code == 0 || code == GS_EXIT_DIVERGED))
        p->epochs_trained = p->epochs_left;
    if (step != STEP_ANALYZE && code == 0) {
        /* trained to the end (or stopped early): analyse it next, unless stopping */
        p->next = STEP_ANALYZE;
        p->state = interrupted ? PT_STOPPED : PT_QUEUED;
        return;
    }
    if ((step == STEP_ANALYZE && code == 0) || (step != STEP_ANALYZE && code == GS_EXIT_DIVERGED)) {
        /* a diverged run is an outcome (confusion), not a failure; it has nothing to analyse */
        p->state = PT_DONE;
        x->n_done++;
        return;
    }
    if (interrupted && (code == GS_EXIT_INTERRUPTED || (WIFSIGNALED(status) && (WTERMSIG(status) == SIGTERM ||
                                                                              WTERMSIG(status) == SIGINT)))) {
        p->state = PT_STOPPED;
        return;
    }
    if (grokscope_sweep_log_error(log, (int64_t)p->log_from, why, sizeof why) != 0)
        snprintf(why, sizeof why, "%s %s", step_names[step], outcome);
    fail_point(x, p, why);
}

/* What a point needs, from its run file. */
static int plan_point(executor *x, point_job *p, char *msg)
{
    grokscope_sweep_point r;
    if (gs_sweep_dir_read_point(x->sw, p->point, &r, msg) != 0)
        return -1;
    int64_t total = 0;
    grokscope_config_get_int(grokscope_sweep_config(x->sw, p->point), "epochs", &total);
    const long epochs = (long)total;
    p->state = PT_QUEUED;
    switch (r.status) {
    case GROKSCOPE_POINT_PENDING:
        p->next = STEP_TRAIN;
        p->epoch_from = 0;
        p->epochs_left = epochs;
        break;
    case GROKSCOPE_POINT_UNFINISHED:
        if (r.n_checkpoints == 0) {
            char path[PATH_MAX], why[PATH_MAX + 120];
            grokscope_sweep_run_path(x->sw, p->point, path, sizeof path);
            snprintf(why, sizeof why, "%s has no checkpoint (killed while it was being created?); "
                                      "delete it to train the point again", path);
            fail_point(x, p, why);
            return 0;
        }
        p->next = STEP_RESUME;
        p->epoch_from = r.epochs_done;
        p->epochs_left = epochs - r.epochs_done;
        break;
    case GROKSCOPE_POINT_FINISHED:
    case GROKSCOPE_POINT_STOPPED_EARLY:
        if (r.analysed) {
            p->state = PT_DONE;
            x->n_before++;
            x->n_done++;
        } else {
            p->next = STEP_ANALYZE;
        }
        break;
    case GROKSCOPE_POINT_DIVERGED:
        p->state = PT_DONE;
        x->n_before++;
        x->n_done++;
        break;
    default: {
        char why[1300];
        snprintf(why, sizeof why, "%s; move it away to train the point again", r.message);
        fail_point(x, p, why);
    }
    }
    x->epochs_total += p->state == PT_QUEUED ? p->epochs_left : 0;
    return 0;
}

static int parse_options(int argc, char **argv, const char **dir, long *jobs, long *threads, const char **only,
                         int *quiet, char *msg)
{
    *dir = NULL;
    for (int i = 1; i < argc; i++) {
        const char *val;
        int r;
        if ((r = gs_opt_value(argv, argc, &i, "--jobs", &val, msg)) != 0) {
            if (r < 0 || gs_parse_long("--jobs", val, 1, 1024, jobs, msg) != 0)
                return -1;
        } else if ((r = gs_opt_value(argv, argc, &i, "--threads", &val, msg)) != 0) {
            if (r < 0 || gs_parse_long("--threads", val, 1, 256, threads, msg) != 0)
                return -1;
        } else if ((r = gs_opt_value(argv, argc, &i, "--only", &val, msg)) != 0) {
            if (r < 0)
                return -1;
            *only = val;
        } else if (strcmp(argv[i], "--quiet") == 0 || strcmp(argv[i], "-q") == 0) {
            *quiet = 1;
        } else if (argv[i][0] != '-' && !*dir) {
            *dir = argv[i];
        } else {
            return gs_cli_set(msg, "run: unexpected argument '%s' (see grokscope sweep --help)", argv[i]);
        }
    }
    if (!*dir)
        return gs_cli_set(msg, "run: expected a sweep directory (usage: grokscope sweep run DIR [--jobs N])");
    return 0;
}

static void reap(executor *x, point_job *p, long n)
{
    for (;;) {
        int status;
        pid_t pid = waitpid(-1, &status, WNOHANG);
        if (pid <= 0)
            return;
        for (long k = 0; k < n; k++)
            if (p[k].state == PT_RUNNING && p[k].pid == pid) {
                step_ended(x, &p[k], status);
                break;
            }
    }
}

static int loop(executor *x, point_job *p, long n, char *msg)
{
    int forwarded = 0;
    for (;;) {
        /* In point order; a point whose training just ended is queued for its
         * analysis and, lying before the points not started yet, goes first. */
        long queued = 0;
        for (long k = 0; k < n; k++)
            if (p[k].state == PT_QUEUED) {
                if (!interrupted && x->n_running < x->jobs) {
                    if (start_step(x, &p[k], msg) != 0)
                        return -1;
                } else {
                    queued++;
                }
            }
        if (x->n_running == 0 && (interrupted || queued == 0))
            return 0;
        if (interrupted && !forwarded) {
            /* Ctrl-C reached the children too; SIGTERM (Slurm, kill) may not have:
             * either way each writes a checkpoint at its current epoch and exits */
            for (long k = 0; k < n; k++)
                if (p[k].state == PT_RUNNING)
                    kill(p[k].pid, SIGTERM);
            forwarded = 1;
        }
        struct timespec ts = {0, 100 * 1000 * 1000};
        nanosleep(&ts, NULL);
        reap(x, p, n);
        progress(x, p, n, 0);
    }
}

int gs_sweep_cmd_run(int argc, char **argv)
{
    gs_cli_err err;
    const char *dir, *only = NULL;
    long jobs = 0, threads = 0;
    int quiet = 0;
    if (parse_options(argc, argv, &dir, &jobs, &threads, &only, &quiet, err.msg) != 0)
        return gs_sweep_fail(err.msg);
    grokscope_sweep *sw;
    if (gs_sweep_dir_open(dir, &sw, err.msg) != 0)
        return gs_sweep_fail(err.msg);
    const long n_points = grokscope_sweep_n_points(sw);
    unsigned char *selected = malloc((size_t)n_points);
    point_job *p = calloc((size_t)n_points, sizeof *p);
    int rc = GS_EXIT_USAGE;
    if (!selected || !p) {
        gs_cli_set(err.msg, "out of memory");
        goto out;
    }
    if (only) {
        if (grokscope_sweep_parse_only(sw, only, selected) != GROKSCOPE_OK) {
            gs_cli_set(err.msg, "%s", grokscope_sweep_error(sw));
            goto out;
        }
    } else {
        memset(selected, 1, (size_t)n_points);
    }
    const int cpus = gs_sweep_cpus();
    executor x = {.sw = sw, .quiet = quiet, .tty = isatty(STDERR_FILENO)};
    long n = 0;
    for (long i = 0; i < n_points; i++)
        if (selected[i])
            p[n++] = (point_job){.point = i, .log_fd = -1};
    x.n_selected = n;
    /* every run file is read (and checked to be its point's) before anything starts */
    for (long k = 0; k < n; k++)
        if (plan_point(&x, &p[k], err.msg) != 0)
            goto out;
    long todo = 0;
    for (long k = 0; k < n; k++)
        todo += p[k].state == PT_QUEUED;
    x.jobs = (int)(jobs > 0 ? jobs : cpus);
    if (x.jobs > todo && todo > 0)
        x.jobs = (int)todo;
    x.threads = (int)(threads > 0 ? threads : (cpus / x.jobs > 1 ? cpus / x.jobs : 1));
    char logs[PATH_MAX];
    snprintf(logs, sizeof logs, "%s/logs", dir);
    if (todo > 0 && mkdir(logs, 0777) != 0 && errno != EEXIST) {
        gs_cli_set(err.msg, "cannot create the directory %s: %s", logs, strerror(errno));
        goto out;
    }
    if (!quiet)
        fprintf(stderr, "sweep %s: %ld point%s selected, %ld done before, %ld to run (%d at a time, %d thread%s "
                        "each), %ld failed\n", dir, n, n == 1 ? "" : "s", x.n_before, todo, todo ? x.jobs : 0,
                x.threads, x.threads == 1 ? "" : "s", x.n_failed);
    struct sigaction sa = {0};
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    x.t_start = x.t_line = gs_now();
    int lrc = todo > 0 ? loop(&x, p, n, err.msg) : 0;
    if (lrc != 0) {
        /* we could not start a child (no fork, no log): stop the others cleanly */
        interrupted = 1;
        for (long k = 0; k < n; k++)
            if (p[k].state == PT_RUNNING)
                kill(p[k].pid, SIGTERM);
        while (x.n_running > 0) {
            int status;
            pid_t pid = waitpid(-1, &status, 0);
            if (pid < 0 && errno != EINTR)
                break;
            for (long k = 0; pid > 0 && k < n; k++)
                if (p[k].state == PT_RUNNING && p[k].pid == pid)
                    step_ended(&x, &p[k], status);
        }
        clear_line(&x);
        goto out;
    }
    progress(&x, p, n, 1);
    clear_line(&x);
    const double wall = gs_now() - x.t_start;
    struct rusage ru;
    double cpu = 0;
    if (getrusage(RUSAGE_CHILDREN, &ru) == 0)
        cpu = (double)ru.ru_utime.tv_sec + 1e-6 * (double)ru.ru_utime.tv_usec + (double)ru.ru_stime.tv_sec +
              1e-6 * (double)ru.ru_stime.tv_usec;
    char took[32];
    format_duration(took, sizeof took, wall);
    long stopped = 0;
    for (long k = 0; k < n; k++)
        stopped += p[k].state == PT_STOPPED || (interrupted && p[k].state == PT_QUEUED);
    if (!quiet || x.n_failed || interrupted) {
        fprintf(stderr, "sweep %s: %ld of %ld points done (%ld before this run), %ld failed", dir, x.n_done, n,
                x.n_before, x.n_failed);
        if (interrupted)
            fprintf(stderr, ", %ld interrupted", stopped);
        if (todo > 0)
            fprintf(stderr, "; %s wall, CPU busy %.0f%% of %d CPU%s (children's user+sys time / (wall x CPUs))",
                    took, wall > 0 ? 100.0 * cpu / (wall * cpus) : 0.0, cpus, cpus == 1 ? "" : "s");
        fputc('\n', stderr);
    }
    if (interrupted) {
        fprintf(stderr, "grokscope sweep: interrupted; run grokscope sweep run %s again to resume\n", dir);
        rc = GS_EXIT_INTERRUPTED;
    } else if (x.n_failed) {
        fprintf(stderr, "grokscope sweep: %ld point%s failed (see above); the others are done; run the sweep "
                        "again to retry them\n", x.n_failed, x.n_failed == 1 ? "" : "s");
        rc = 1;
    } else {
        rc = 0;
    }
    free(selected);
    free(p);
    grokscope_sweep_free(sw);
    return rc;
out:
    free(selected);
    free(p);
    grokscope_sweep_free(sw);
    return gs_sweep_fail(err.msg);
}
