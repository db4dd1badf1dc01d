/* The training driver: trainer + run file + progress line + signals. Shared by
 * `grokscope train` and `grokscope demo`. */
#ifndef GS_TRAIN_RUN_H
#define GS_TRAIN_RUN_H

#include "grokscope.h"

typedef struct {
    grokscope_config *cfg;  /* owned; ignored when resuming (taken from the file) */
    const char *out;        /* run file */
    int resume;             /* continue `out` from its last checkpoint */
    long resume_epochs;     /* new total epochs when resuming (0 = keep) */
    const char *init;       /* --init FILE or NULL */
    int force, quiet, threads;
    const char *command_line;
} gs_train_job;

/* Exit statuses beyond 0 and GS_EXIT_USAGE (2). */
#define GS_EXIT_DIVERGED 3
#define GS_EXIT_NO_SPACE 4
#define GS_EXIT_INTERRUPTED 130

/* Returns an exit status; on failure msg (GS_CLI_MSG characters) holds the one line
 * to print. */
int gs_train_run(const gs_train_job *job, char *msg);
/* Frees job->cfg (NULL is fine). */
void gs_train_job_free(gs_train_job *job);

#endif
