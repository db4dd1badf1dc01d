#include "progress.h"

#include <stdio.h>
#include <time.h>
#include <unistd.h>

double gs_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

void gs_progress_start(gs_progress *pr, const char *label, long first, long total, int quiet)
{
    pr->quiet = quiet;
    pr->tty = isatty(STDERR_FILENO);
    pr->t_start = pr->t_last = gs_now();
    pr->first = first;
    pr->total = total;
    pr->label = label;
}

static void format_eta(char *buf, size_t n, double s)
{
    if (s < 0 || s > 1e8)
        snprintf(buf, n, "?");
    else if (s >= 3600)
        snprintf(buf, n, "%dh%02dm", (int)(s / 3600), (int)(s / 60) % 60);
    else
        snprintf(buf, n, "%dm%02ds", (int)(s / 60), (int)s % 60);
}

void gs_progress_update(gs_progress *pr, long done, const char *detail, int force)
{
    if (pr->quiet)
        return;
    double now = gs_now();
    if (!force && now - pr->t_last < (pr->tty ? 0.25 : 10.0))
        return;
    pr->t_last = now;
    double el = now - pr->t_start, rate = el > 0 ? (double)(done - pr->first) / el : 0;
    char eta[32];
    format_eta(eta, sizeof eta, rate > 0 ? (double)(pr->total - done) / rate : -1);
    fprintf(stderr, "%s%s %ld/%ld  %s  %.1f/s  ETA %s%s", pr->tty ? "\r" : "", pr->label, done,
            pr->total, detail, rate, eta, pr->tty ? "\033[K" : "\n");
    fflush(stderr);
}

void gs_progress_end(gs_progress *pr)
{
    if (!pr->quiet && pr->tty)
        fputc('\n', stderr);
}

void gs_progress_callback(void *ctx, long done, long total, const char *detail, int force)
{
    gs_progress *pr = ctx;
    pr->total = total;
    gs_progress_update(pr, done, detail, force);
}
