/* The per-point log of a sweep: what each step printed, framed by the executor's own
 * start and end lines, which give the wall time a point took. The executor keeps no
 * other state: everything else is in the run files. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "sweep_result.h"

#define LOG_PREFIX "== grokscope sweep: "
#define TAIL_BYTES 16384

void gs_sweep_log_path(const char *dir, const char *run_file, char *out, size_t size)
{
    size_t n = strlen(run_file);
    if (n > 3 && strcmp(run_file + n - 3, ".h5") == 0)
        n -= 3;
    snprintf(out, size, "%s/logs/%.*s.log", dir, (int)n, run_file);
}

static int write_all(int fd, const char *s, size_t len)
{
    while (len > 0) {
        ssize_t w = write(fd, s, len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        s += w;
        len -= (size_t)w;
    }
    return 0;
}

int gs_sweep_log_start(int fd, const char *step, int threads, char *const *argv)
{
    char line[8192], when[64];
    time_t now = time(NULL);
    struct tm tm;
    if (!localtime_r(&now, &tm) || !strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", &tm))
        snprintf(when, sizeof when, "?");
    size_t n = (size_t)snprintf(line, sizeof line, LOG_PREFIX "%s started %s (threads %d):", step, when, threads);
    for (int i = 0; argv[i] && n < sizeof line; i++)
        n += (size_t)snprintf(line + n, sizeof line - n, " %s", argv[i]);
    if (n >= sizeof line - 1)
        n = sizeof line - 2;
    line[n++] = '\n';
    return write_all(fd, line, n);
}

int gs_sweep_log_end(int fd, const char *step, const char *outcome, double seconds)
{
    char line[512];
    int n = snprintf(line, sizeof line, LOG_PREFIX "%s ended: %s after %.2f s\n", step, outcome, seconds);
    return write_all(fd, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
}

/* The text of path from byte max(from, size - TAIL_BYTES) on; NULL if unreadable. */
static char *tail(const char *path, off_t from)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    off_t end = lseek(fd, 0, SEEK_END);
    off_t at = end - TAIL_BYTES > from ? end - TAIL_BYTES : from;
    char *buf = malloc(TAIL_BYTES + 1);
    ssize_t got = 0;
    if (buf && end >= at && lseek(fd, at, SEEK_SET) == at) {
        for (;;) {
            ssize_t r = read(fd, buf + got, (size_t)(TAIL_BYTES - got));
            if (r < 0 && errno == EINTR)
                continue;
            if (r <= 0)
                break;
            got += r;
        }
    }
    close(fd);
    if (!buf)
        return NULL;
    buf[got] = '\0';
    /* NUL bytes (a crash mid-write) must not hide the rest */
    for (ssize_t i = 0; i < got; i++)
        if (buf[i] == '\0')
            buf[i] = '?';
    return buf;
}

int gs_sweep_log_progress(const char *path, off_t from, long *done, long *total)
{
    char *text = tail(path, from);
    if (!text)
        return 0;
    int found = 0;
    for (char *save = NULL, *l = strtok_r(text, "\n\r", &save); l; l = strtok_r(NULL, "\n\r", &save)) {
        long d, t;
        char label[16];
        /* train's progress line: "epoch 2300/5000  train ..." or "resume 2300/5000 ..." */
        if (sscanf(l, "%15s %ld/%ld", label, &d, &t) == 3 &&
            (strcmp(label, "epoch") == 0 || strcmp(label, "resume") == 0)) {
            *done = d;
            *total = t;
            found = 1;
        }
    }
    free(text);
    return found;
}

int gs_sweep_log_error(const char *path, off_t from, char *out, size_t size)
{
    char *text = tail(path, from);
    if (!text)
        return -1;
    int found = -1;
    for (char *save = NULL, *l = strtok_r(text, "\n\r", &save); l; l = strtok_r(NULL, "\n\r", &save))
        if (strncmp(l, "grokscope ", 10) == 0) {
            snprintf(out, size, "%s", l);
            found = 0;
        }
    free(text);
    return found;
}

double gs_sweep_log_wall(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return NAN;
    double sum = 0;
    int any = 0;
    char line[8192];
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, LOG_PREFIX, strlen(LOG_PREFIX)) != 0 || !strstr(line, " ended: "))
            continue;
        const char *after = strstr(line, " after ");
        double s;
        /* the last " after " is the executor's; an outcome message may contain one */
        for (const char *a = after; a; a = strstr(a + 1, " after "))
            after = a;
        if (after && sscanf(after, " after %lf s", &s) == 1 && isfinite(s) && s >= 0) {
            sum += s;
            any = 1;
        }
    }
    fclose(f);
    return any ? sum : NAN;
}
