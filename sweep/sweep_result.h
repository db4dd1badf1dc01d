/* gs_sweep_result: what one point of a sweep came to, read from its run file (and its
 * analysis and log), the outcome class of Liu et al. 2022's phase diagrams, and the
 * table of every point that `sweep collect` writes (DIR/sweep.h5, DIR/sweep.csv).
 *
 * Reading never writes: a point that has no run file yet is pending, one that cannot
 * be read is unreadable (with the reason), and neither is an error. */
#ifndef GS_SWEEP_RESULT_H
#define GS_SWEEP_RESULT_H

#include <stdio.h>
#include <sys/types.h>

#include "runfile_analysis.h"
#include "sweep_plan.h"

/* ---- outcome classes (gs_sweep_outcome.c); docs/sweeps.md explains the choice ---- */

/* A run "reaches" an accuracy at the first epoch whose accuracy is >= the level. */
#define GS_SWEEP_ACC 0.99
#define GS_SWEEP_ACC_HALF 0.50
/* Comprehension or grokking: the run generalized, and test accuracy reached 99% within
 * (comprehension) or after (grokking) GS_SWEEP_GROK_RATIO times the epochs train
 * accuracy took to reach 99%. */
#define GS_SWEEP_GROK_RATIO 2.0
/* What a run kept: its mean accuracy over the end of the run (the last tenth of its
 * epochs) must still be >= GS_SWEEP_KEEP, or what it reached does not count (a run that
 * fitted, or generalized, and then collapsed ends without it). */
#define GS_SWEEP_END_FRAC 0.10
#define GS_SWEEP_KEEP 0.90

typedef enum {
    GS_SWEEP_PENDING,       /* no run file yet */
    GS_SWEEP_UNFINISHED,    /* a run file that has not reached its last epoch */
    GS_SWEEP_FINISHED,
    GS_SWEEP_STOPPED_EARLY, /* --stop-test-loss */
    GS_SWEEP_DIVERGED,      /* the loss became NaN/Inf; training stopped */
    GS_SWEEP_UNREADABLE     /* a file that grokscope cannot read (see message) */
} gs_sweep_status;

typedef enum {
    GS_SWEEP_NO_CLASS = -1, /* not trained to the end yet */
    GS_SWEEP_COMPREHENSION, /* fits the training set and generalizes about as fast */
    GS_SWEEP_GROKKING,      /* generalizes, long after fitting the training set */
    GS_SWEEP_MEMORIZATION,  /* fits the training set, never generalizes */
    GS_SWEEP_CONFUSION,     /* never fits the training set (or diverges) */
    GS_SWEEP_N_CLASSES
} gs_sweep_class;

const char *gs_sweep_status_name(gs_sweep_status s); /* "finished", "pending", ... */
const char *gs_sweep_class_name(gs_sweep_class c);   /* "grokking", ..., "" for none */

/* First epochs at which train/test accuracy reached 50% and 99% (-1 = never), and
 * the mean accuracies over the end of the run (NaN without rows). */
typedef struct {
    long train_50, train_99, test_50, test_99;
    double train_end, test_end;
} gs_sweep_passages;

void gs_sweep_first_passages(const gs_metrics_row *rows, long n, gs_sweep_passages *out);
/* The class of a run that ended with status st (no class unless finished, stopped
 * early or diverged). */
gs_sweep_class gs_sweep_classify(gs_sweep_status st, const gs_sweep_passages *fp);

/* ---- one point (gs_sweep_point.c) ---- */

typedef struct {
    gs_sweep_status status;
    char message[1100];       /* why an unreadable file is unreadable */
    int n_checkpoints;
    long epochs_done;         /* epoch of the last metrics row; -1 if none */
    long epochs;              /* the epochs the run is configured for */
    gs_sweep_passages fp;     /* with the mean accuracies over the run's end */
    double delay;             /* test_99 - train_99 (epochs); NaN unless both reached */
    double final_train_loss, final_test_loss, final_train_acc, final_test_acc; /* NaN if none */
    int analysed;             /* 1 if /analysis covers every checkpoint */
    /* From the run's /analysis, when analysed (else -1 and n_key = -1). */
    long memorization_end, circuit_end, cleanup_end;
    int n_key;
    int key_freqs[GS_ANALYSIS_MAX_KEYS];
    gs_sweep_class cls;
    double wall_s;            /* seconds spent training and analysing it; NaN if unknown */
} gs_sweep_result;

/* Reads the run file at path into r and its config into *cfg (when it exists and can
 * be read). With rows non-NULL, *rows receives the per-epoch metrics (malloc'd, *n_rows
 * of them; NULL and 0 if none). Returns -1 only when out of memory. */
int gs_sweep_read_point(const char *path, gs_sweep_result *r, gs_config *cfg,
                        gs_metrics_row **rows, long *n_rows, gs_err *err);

/* Empty string if a and b define the same run, else what differs ("lr 0.01, not
 * 0.001"); every field of gs_config is compared. */
void gs_sweep_config_diff(const gs_config *file, const gs_config *point, char *out, size_t size);

/* ---- the per-point log: DIR/logs/NAME.log (gs_sweep_log.c) ---- */

/* Every step the executor runs for a point (train, resume, analyze) appends its
 * output to the point's log between two lines of its own:
 *   == grokscope sweep: STEP started DATE (threads N): COMMAND
 *   == grokscope sweep: STEP ended: OUTCOME after SECONDS s                          */
void gs_sweep_log_path(const char *dir, const char *run_file, char *out, size_t size);
int gs_sweep_log_start(int fd, const char *step, int threads, char *const *argv);
int gs_sweep_log_end(int fd, const char *step, const char *outcome, double seconds);
/* Sum of SECONDS over the ended steps of a log; NaN when there is none (or no log). */
double gs_sweep_log_wall(const char *path);
/* The last training progress line ("epoch N/M ..." or "resume N/M ...") written at or
 * after byte `from`: 1 with *done and *total set, 0 if none. */
int gs_sweep_log_progress(const char *path, off_t from, long *done, long *total);
/* The last line at or after `from` that starts with "grokscope " (the one-line error of
 * a failed command), into out; 0 if found, -1 if none. */
int gs_sweep_log_error(const char *path, off_t from, char *out, size_t size);

/* ---- the table (gs_sweep_table.c) ---- */

/* DIR/sweep.h5: one row per point, a group /points of equally long columns (index,
 * file, one per axis, status, epochs, first-passage epochs, delay, final metrics,
 * phases, key frequencies, class, wall time) and the thresholds as attributes. Written
 * under a temporary name and renamed. docs/sweeps.md lists the columns. */
int gs_sweep_table_write_h5(const char *path, const gs_sweep_plan *plan, const gs_sweep_result *results,
                            gs_err *err);
/* The same columns as CSV (RFC 4180 quoting). */
int gs_sweep_table_write_csv(const char *path, const gs_sweep_plan *plan, const gs_sweep_result *results,
                             gs_err *err);

#endif
