/* grokscope sweep slurm: a Slurm job array over the points not done yet. Each array
 * task runs `grokscope sweep run DIR --only LIST`, so the cluster gets exactly the
 * local executor's resume semantics: submitting again continues what a preempted or
 * timed-out task left. The script is written in full before sbatch sees it, kept in
 * DIR/slurm/ (documented, so it can be read, edited and resubmitted by hand), and
 * removed again if sbatch refuses it. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cmd_sweep.h"
#include "commands.h"
#include "opts.h"

#define MAX_SBATCH_ARGS 32

typedef struct {
    const char *dir, *partition, *time;
    long cpus, per_task;
    int n_extra, dry_run;
    const char *extra[MAX_SBATCH_ARGS];
} slurm_opts;

static int parse_options(int argc, char **argv, slurm_opts *o, char *msg)
{
    *o = (slurm_opts){.cpus = 1, .per_task = 1};
    for (int i = 1; i < argc; i++) {
        const char *val;
        int r;
        if ((r = gs_opt_value(argv, argc, &i, "--partition", &val, msg)) != 0) {
            if (r < 0)
                return -1;
            o->partition = val;
        } else if ((r = gs_opt_value(argv, argc, &i, "--time", &val, msg)) != 0) {
            if (r < 0)
                return -1;
            o->time = val;
        } else if ((r = gs_opt_value(argv, argc, &i, "--cpus-per-task", &val, msg)) != 0) {
            if (r < 0 || gs_parse_long("--cpus-per-task", val, 1, 1024, &o->cpus, msg) != 0)
                return -1;
        } else if ((r = gs_opt_value(argv, argc, &i, "--points-per-task", &val, msg)) != 0) {
            if (r < 0 || gs_parse_long("--points-per-task", val, 1, GROKSCOPE_SWEEP_MAX_POINTS, &o->per_task, msg) != 0)
                return -1;
        } else if ((r = gs_opt_value(argv, argc, &i, "--sbatch-arg", &val, msg)) != 0) {
            if (r < 0)
                return -1;
            if (o->n_extra == MAX_SBATCH_ARGS)
                return gs_cli_set(msg, "slurm: more than %d --sbatch-arg", MAX_SBATCH_ARGS);
            if (val[0] != '-')
                return gs_cli_set(msg, "slurm: --sbatch-arg '%s' is not an sbatch option (e.g. --sbatch-arg=--mem=2G)",
                                  val);
            o->extra[o->n_extra++] = val;
        } else if (strcmp(argv[i], "--dry-run") == 0) {
            o->dry_run = 1;
        } else if (argv[i][0] != '-' && !o->dir) {
            o->dir = argv[i];
        } else {
            return gs_cli_set(msg, "slurm: unexpected argument '%s' (see grokscope sweep --help)", argv[i]);
        }
    }
    if (!o->dir)
        return gs_cli_set(msg, "slurm: expected a sweep directory (usage: grokscope sweep slurm DIR)");
    /* what goes on a #SBATCH line must be one plain word: no blank, quote or newline */
    const char *words[MAX_SBATCH_ARGS + 2] = {o->partition, o->time};
    const char *names[MAX_SBATCH_ARGS + 2] = {"--partition", "--time"};
    for (int k = 0; k < o->n_extra; k++) {
        words[2 + k] = o->extra[k];
        names[2 + k] = "--sbatch-arg";
    }
    for (int k = 0; k < 2 + o->n_extra; k++)
        if (words[k] && (!words[k][0] || strpbrk(words[k], " \t\n\r'\"\\#")))
            return gs_cli_set(msg, "slurm: %s '%s' must be one word without blanks, quotes or '#'", names[k], words[k]);
    return 0;
}

/* Looks name up in PATH as execvp would; 0 and its path in out, or -1. */
static int find_in_path(const char *name, char *out, size_t size)
{
    const char *path = getenv("PATH");
    if (!path)
        path = "/usr/bin:/bin";
    for (const char *at = path;;) {
        const char *end = strchr(at, ':');
        size_t len = end ? (size_t)(end - at) : strlen(at);
        int n = snprintf(out, size, "%.*s%s%s", (int)len, at, len ? "/" : "", name);
        struct stat st;
        if (n > 0 && (size_t)n < size && stat(out, &st) == 0 && S_ISREG(st.st_mode) && access(out, X_OK) == 0)
            return 0;
        if (!end)
            return -1;
        at = end + 1;
    }
}

/* s in single quotes for bash */
static void put_quoted(FILE *f, const char *s)
{
    fputc('\'', f);
    for (; *s; s++)
        *s == '\'' ? (void)fputs("'\\''", f) : (void)fputc(*s, f);
    fputc('\'', f);
}

/* The points k[0..n) as an --only list: "0-3,7,9-10". */
static void only_list(const long *k, long n, char *out, size_t size)
{
    size_t at = 0;
    out[0] = '\0';
    for (long i = 0; i < n && at < size;) {
        long j = i;
        while (j + 1 < n && k[j + 1] == k[j] + 1)
            j++;
        at += (size_t)(j > i ? snprintf(out + at, size - at, "%s%ld-%ld", i ? "," : "", k[i], k[j])
                             : snprintf(out + at, size - at, "%s%ld", i ? "," : "", k[i]));
        i = j + 1;
    }
}

static int write_script(FILE *f, const slurm_opts *o, const char *absdir, const char *exe, const char *out_pattern,
                        const grokscope_sweep *sw, const long *todo, long n_todo, long n_tasks, const char *name)
{
    const long jobs = o->per_task < o->cpus ? o->per_task : o->cpus;
    const long threads = o->cpus / jobs > 1 ? o->cpus / jobs : 1;
    char when[64];
    time_t now = time(NULL);
    struct tm tm;
    if (!localtime_r(&now, &tm) || !strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", &tm))
        snprintf(when, sizeof when, "?");
    fprintf(f, "#!/bin/bash\n"
               "# A Slurm job array written by `grokscope sweep slurm` (grokscope %s) on %s\n"
               "# for the sweep %s (%ld points, %ld of them not done then).\n"
               "# Submit it with `sbatch %s` (sweep slurm already did, unless --dry-run).\n"
               "#\n"
               "# Each array task trains its share of those points with `grokscope sweep run DIR\n"
               "# --only LIST`: a finished point is skipped, an unfinished one resumes from its last\n"
               "# checkpoint, each is analysed once trained. On a time limit or preemption Slurm sends\n"
               "# SIGTERM and every run writes a checkpoint before it stops, so a task is continued by\n"
               "# submitting again: `grokscope sweep slurm DIR` writes a new array for what is left\n"
               "# (wait until this one has left squeue, so that no two tasks train the same point).\n"
               "# The nodes need only the grokscope binary (GROKSCOPE below; set GROKSCOPE in the\n"
               "# environment to use another path) and DIR on a filesystem they share.\n"
               "# Progress: grokscope sweep status DIR. Each point's output: DIR/logs/NAME.log; each\n"
               "# task's: the --output file below. Results: grokscope sweep collect DIR.\n",
            GS_VERSION, when, absdir, grokscope_sweep_n_points(sw), n_todo, name);
    fprintf(f, "#SBATCH --job-name=grokscope-sweep\n"
               "#SBATCH --array=0-%ld\n"
               "#SBATCH --ntasks=1\n"
               "#SBATCH --cpus-per-task=%ld\n"
               "#SBATCH --output=%s\n",
            n_tasks - 1, o->cpus, out_pattern);
    if (o->partition)
        fprintf(f, "#SBATCH --partition=%s\n", o->partition);
    if (o->time)
        fprintf(f, "#SBATCH --time=%s\n", o->time);
    for (int k = 0; k < o->n_extra; k++)
        fprintf(f, "#SBATCH %s\n", o->extra[k]);
    fprintf(f, "set -eu\nGROKSCOPE=${GROKSCOPE:-");
    put_quoted(f, exe);
    fprintf(f, "}\n# the points of each array task (sweep run --only lists), %ld per task\nPOINTS=(\n", o->per_task);
    char list[65536];
    for (long t = 0; t < n_tasks; t++) {
        const long first = t * o->per_task, n = n_todo - first < o->per_task ? n_todo - first : o->per_task;
        only_list(todo + first, n, list, sizeof list);
        fprintf(f, "  %s\n", list);
    }
    fprintf(f, ")\nexec \"$GROKSCOPE\" sweep run ");
    put_quoted(f, absdir);
    fprintf(f, " --only \"${POINTS[$SLURM_ARRAY_TASK_ID]}\" --jobs %ld --threads %ld\n", jobs, threads);
    return ferror(f) ? -1 : 0;
}

/* Runs sbatch --parsable SCRIPT; 0 with the job id, or -1 with its first line. */
static int submit(const char *sbatch, const char *script, char *jobid, size_t size, char *msg)
{
    int pfd[2];
    if (pipe(pfd) != 0)
        return gs_cli_set(msg, "cannot run sbatch: pipe: %s", strerror(errno));
    pid_t pid = fork();
    if (pid < 0) {
        int e = errno;
        close(pfd[0]);
        close(pfd[1]);
        return gs_cli_set(msg, "cannot run sbatch: fork: %s", strerror(e));
    }
    if (pid == 0) {
        static const char no_exec[] = "cannot execute sbatch\n";
        int devnull = open("/dev/null", O_RDONLY);
        if (devnull >= 0)
            dup2(devnull, 0);
        dup2(pfd[1], 1);
        dup2(pfd[1], 2);
        close(pfd[0]);
        char *const argv[] = {(char *)"sbatch", (char *)"--parsable", (char *)script, NULL};
        execv(sbatch, argv);
        ssize_t w = write(2, no_exec, sizeof no_exec - 1);
        (void)w;
        _exit(127);
    }
    close(pfd[1]);
    char text[8192];
    size_t have = 0;
    for (;;) {
        ssize_t r = read(pfd[0], text + have, sizeof text - 1 - have);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0 || (have += (size_t)r) >= sizeof text - 1)
            break;
    }
    text[have] = '\0';
    close(pfd[0]);
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return gs_cli_set(msg, "sbatch: waitpid: %s", strerror(errno));
    /* --parsable prints "JOBID" or "JOBID;CLUSTER" on its last line */
    char *line = text, *last = NULL;
    for (char *save = NULL, *l = strtok_r(line, "\n", &save); l; l = strtok_r(NULL, "\n", &save))
        last = l;
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0 && last && last[0] >= '0' && last[0] <= '9') {
        snprintf(jobid, size, "%.*s", (int)strcspn(last, ";\r "), last);
        return 0;
    }
    const char *first = have ? text : "(no message)";
    if (WIFEXITED(status))
        return gs_cli_set(msg, "sbatch refused the job (exit status %d): %s", WEXITSTATUS(status), first);
    return gs_cli_set(msg, "sbatch was killed by signal %d: %s", WIFSIGNALED(status) ? WTERMSIG(status) : 0, first);
}

int gs_sweep_cmd_slurm(int argc, char **argv)
{
    gs_cli_err err;
    slurm_opts o;
    if (parse_options(argc, argv, &o, err.msg) != 0)
        return gs_sweep_fail(err.msg);
    char sbatch[PATH_MAX] = "";
    /* before anything is read or written */
    if (!o.dry_run && find_in_path("sbatch", sbatch, sizeof sbatch) != 0) {
        gs_cli_set(err.msg, "slurm: sbatch not found in PATH (is this a Slurm login node?); --dry-run writes the "
                         "script without submitting it");
        return gs_sweep_fail(err.msg);
    }
    grokscope_sweep *sw;
    if (gs_sweep_dir_open(o.dir, &sw, err.msg) != 0)
        return gs_sweep_fail(err.msg);
    const long n_points = grokscope_sweep_n_points(sw);
    long *todo = malloc((size_t)(n_points > 0 ? n_points : 1) * sizeof *todo), n_todo = 0, n_done = 0;
    char absdir[PATH_MAX], exe[PATH_MAX], slurmdir[PATH_MAX + 8], script[PATH_MAX + 64], pattern[PATH_MAX + 64];
    char name[64] = "";
    FILE *f = NULL;
    int rc = -1, made = 0, made_dir = 0;
    if (!todo) {
        gs_cli_set(err.msg, "out of memory");
        goto out;
    }
    for (long i = 0; i < n_points; i++) {
        grokscope_sweep_point r;
        if (gs_sweep_dir_read_point(sw, i, &r, err.msg) != 0)
            goto out;
        const int ended = r.status == GROKSCOPE_POINT_FINISHED || r.status == GROKSCOPE_POINT_STOPPED_EARLY;
        if ((ended && r.analysed) || r.status == GROKSCOPE_POINT_DIVERGED) {
            n_done++;
        } else if (r.status == GROKSCOPE_POINT_UNREADABLE ||
                   (r.status == GROKSCOPE_POINT_UNFINISHED && r.n_checkpoints == 0)) {
            char label[600];
            grokscope_sweep_label(sw, i, label, sizeof label);
            fprintf(stderr, "grokscope sweep: point %ld (%s) is not submitted: %s\n", i, label,
                    r.status == GROKSCOPE_POINT_UNREADABLE ? r.message : "its run file has no checkpoint; delete it to "
                                                                  "train the point again");
        } else {
            todo[n_todo++] = i;
        }
    }
    if (n_todo == 0) {
        printf("sweep %s: %ld of %ld points done; nothing to submit\n", o.dir, n_done, n_points);
        rc = 0;
        goto out;
    }
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0 || !realpath(o.dir, absdir)) {
        gs_cli_set(err.msg, "slurm: cannot find the absolute path of %s: %s", n <= 0 ? "this program" : o.dir,
                   strerror(errno));
        goto out;
    }
    exe[n] = '\0';
    if (strpbrk(absdir, " \t\n\r'\"\\%#")) {
        gs_cli_set(err.msg, "slurm: the path %s holds a blank, quote, '%%' or '#', which a #SBATCH line cannot hold; "
                         "use a directory whose path has none", absdir);
        goto out;
    }
    snprintf(slurmdir, sizeof slurmdir, "%s/slurm", absdir);
    if (mkdir(slurmdir, 0777) == 0) {
        made_dir = 1;
    } else if (errno != EEXIST) {
        gs_cli_set(err.msg, "cannot create the directory %s: %s", slurmdir, strerror(errno));
        goto out;
    }
    /* a new script per submission: earlier ones stay as the record of what was sent */
    int fd = -1;
    for (int k = 1; k < 100000 && fd < 0; k++) {
        snprintf(name, sizeof name, "submit-%d", k);
        snprintf(script, sizeof script, "%s/%s.sbatch", slurmdir, name);
        fd = open(script, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0755);
        if (fd < 0 && errno != EEXIST) {
            gs_cli_set(err.msg, "cannot create %s: %s", script, strerror(errno));
            goto out;
        }
    }
    if (fd < 0 || !(f = fdopen(fd, "w"))) {
        if (fd >= 0)
            close(fd);
        gs_cli_set(err.msg, "cannot create a script in %s", slurmdir);
        goto out;
    }
    made = 1;
    snprintf(pattern, sizeof pattern, "%s/%s-%%A_%%a.out", slurmdir, name);
    const long n_tasks = (n_todo + o.per_task - 1) / o.per_task;
    char script_name[PATH_MAX + 64];
    snprintf(script_name, sizeof script_name, "%s", script);
    int bad = write_script(f, &o, absdir, exe, pattern, sw, todo, n_todo, n_tasks, script_name) != 0;
    bad |= fflush(f) != 0 || (fsync(fileno(f)) != 0 && errno != EINVAL);
    bad |= fclose(f) != 0;
    f = NULL;
    if (bad) {
        gs_cli_set(err.msg, "cannot write %s: %s", script, strerror(errno));
        goto out;
    }
    if (o.dry_run) {
        printf("wrote %s: a job array of %ld task%s (%ld point%s each) over the %ld points not done\n", script,
               n_tasks, n_tasks == 1 ? "" : "s", o.per_task, o.per_task == 1 ? "" : "s", n_todo);
        printf("submit it with: sbatch %s\n", script);
        made = 0;
        rc = 0;
        goto out;
    }
    char jobid[64];
    if (submit(sbatch, script, jobid, sizeof jobid, err.msg) != 0)
        goto out;
    made = 0;
    printf("submitted Slurm job array %s: %ld task%s of up to %ld point%s (%ld points to train); script %s\n",
           jobid, n_tasks, n_tasks == 1 ? "" : "s", o.per_task, o.per_task == 1 ? "" : "s", n_todo, script);
    printf("follow it with: squeue -j %s; grokscope sweep status %s\n", jobid, o.dir);
    rc = 0;
out:
    if (f)
        fclose(f);
    if (made)
        unlink(script); /* refused or half-written: leave nothing behind */
    if (rc != 0 && made_dir)
        rmdir(slurmdir);
    free(todo);
    grokscope_sweep_free(sw);
    return rc == 0 ? 0 : gs_sweep_fail(err.msg);
}
