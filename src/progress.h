/* A live progress line on stderr: rewritten in place on a terminal, plain lines at
 * most every 10 seconds otherwise, nothing with --quiet. */
#ifndef GS_PROGRESS_H
#define GS_PROGRESS_H

typedef struct {
    int quiet, tty;
    double t_start, t_last;
    long first, total; /* units done at start (resume) and the target */
    const char *label;
} gs_progress;

double gs_now(void); /* monotonic seconds */
void gs_progress_start(gs_progress *pr, const char *label, long first, long total, int quiet);
/* `force` prints regardless of the rate limit (final line). `detail` is appended. */
void gs_progress_update(gs_progress *pr, long done, const char *detail, int force);
void gs_progress_end(gs_progress *pr);

/* Adapter for library progress callbacks: ctx is a gs_progress; sets its total. */
void gs_progress_callback(void *ctx, long done, long total, const char *detail, int force);

#endif
