/* Finding gnuplot and running it on a script, in the script's directory, with its
 * stderr captured so a failure becomes one line naming the script. */
#define _GNU_SOURCE /* pipe2, memmem */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "plot_internal.h"

int gs_plot_find_gnuplot(char *out, size_t size)
{
    const char *path = getenv("PATH");
    char def[1024];
    if (!path) {
        size_t n = confstr(_CS_PATH, def, sizeof def);
        path = n > 0 && n <= sizeof def ? def : "/usr/bin:/bin";
    }
    for (const char *at = path;;) {
        const char *end = strchr(at, ':');
        size_t len = end ? (size_t)(end - at) : strlen(at);
        char cand[4096];
        /* an empty PATH entry means the current directory, as for execvp */
        int n = len ? snprintf(cand, sizeof cand, "%.*s/gnuplot", (int)len, at)
                    : snprintf(cand, sizeof cand, "./gnuplot");
        struct stat st;
        if (n > 0 && (size_t)n < sizeof cand && stat(cand, &st) == 0 && S_ISREG(st.st_mode) &&
            access(cand, X_OK) == 0) {
            /* absolute, since gnuplot runs with another working directory */
            char cwd[4096];
            if (cand[0] == '/')
                n = snprintf(out, size, "%s", cand);
            else if (getcwd(cwd, sizeof cwd))
                n = snprintf(out, size, "%s/%s", cwd, cand);
            else
                n = -1;
            if (n > 0 && (size_t)n < size)
                return 0;
        }
        if (!end)
            return -1;
        at = end + 1;
    }
}

/* The most telling line of gnuplot's stderr: its own 'file line N: message' line if
 * there is one (it follows an echo of the offending command and a caret line), else
 * the first non-blank line. */
static void pick_line(const char *text, char *out, size_t size)
{
    const char *best = NULL;
    for (const char *l = text; *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : l + strlen(l)) {
        const char *e = strchr(l, '\n');
        size_t len = e ? (size_t)(e - l) : strlen(l);
        if (l[0] == '"' && memmem(l, len, " line ", 6)) {
            best = l;
            break;
        }
        if (!best && strspn(l, " \t\r^") < len)
            best = l;
    }
    out[0] = '\0';
    if (!best)
        return;
    size_t len = strcspn(best, "\n");
    while (len > 0 && (best[len - 1] == ' ' || best[len - 1] == '\r' || best[len - 1] == '\t'))
        len--;
    snprintf(out, size, "%.*s", (int)len, best);
}

int gs_plot_gnuplot_run(const char *gnuplot, const char *dir, const char *script,
                        const char *outfile, char *warning, size_t warning_size, gs_err *err)
{
    char setout[4400];
    snprintf(setout, sizeof setout, "outfile='%s'", outfile);
    char *const argv[] = {(char *)"gnuplot", (char *)"-e", setout, (char *)script, NULL};
    int pfd[2];
    if (pipe2(pfd, O_CLOEXEC) != 0)
        return gs_err_set(err, "cannot run gnuplot: pipe: %s", strerror(errno));
    int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
    pid_t pid = fork();
    if (pid < 0) {
        int e = errno;
        close(pfd[0]);
        close(pfd[1]);
        if (devnull >= 0)
            close(devnull);
        return gs_err_set(err, "cannot run gnuplot: fork: %s", strerror(e));
    }
    if (pid == 0) {
        /* child: only async-signal-safe calls from here */
        static const char no_dir[] = "cannot enter the plot directory\n";
        static const char no_exec[] = "cannot execute gnuplot\n";
        if (devnull >= 0) {
            dup2(devnull, 0);
            dup2(devnull, 1);
        }
        dup2(pfd[1], 2);
        if (chdir(dir) != 0) {
            ssize_t r = write(2, no_dir, sizeof no_dir - 1);
            (void)r;
            _exit(127);
        }
        execv(gnuplot, argv);
        ssize_t r = write(2, no_exec, sizeof no_exec - 1);
        (void)r;
        _exit(127);
    }
    close(pfd[1]);
    if (devnull >= 0)
        close(devnull);
    char text[8192];
    size_t have = 0;
    for (;;) {
        char chunk[4096];
        ssize_t r = read(pfd[0], chunk, sizeof chunk);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        size_t take = (size_t)r < sizeof text - 1 - have ? (size_t)r : sizeof text - 1 - have;
        memcpy(text + have, chunk, take); /* keep the beginning, drain the rest */
        have += take;
    }
    text[have] = '\0';
    close(pfd[0]);
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return gs_err_set(err, "gnuplot on %s/%s: waitpid: %s", dir, script, strerror(errno));
    char line[600];
    pick_line(text, line, sizeof line);
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
        if (warning && warning_size)
            snprintf(warning, warning_size, "%s", line);
        return 0;
    }
    if (WIFSIGNALED(status))
        return gs_err_set(err, "gnuplot was killed by signal %d on %s/%s%s%s", WTERMSIG(status), dir,
                          script, line[0] ? ": " : "", line);
    return gs_err_set(err, "gnuplot failed on %s/%s (exit status %d)%s%s", dir, script,
                      WEXITSTATUS(status), line[0] ? ": " : "", line);
}
