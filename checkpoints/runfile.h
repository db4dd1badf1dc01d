/* gs_run: the HDF5 run file (docs/science.md §5), the one place that knows its layout.
 *
 * Writing: gs_run_create() writes the root attributes, /config, /data and creates every
 * extendible dataset, then switches the file to SWMR writing. Each gs_run_append()
 * adds the metric rows since the previous call plus one checkpoint and the optimizer
 * state, then flushes: a crash loses at most the work since the last append, and a
 * SWMR reader may follow the file while it grows.
 *
 * Every function returns 0 on success or -1 with one line in err naming the file and
 * the object. HDF5's own error stack printing is switched off. */
#ifndef GS_RUNFILE_H
#define GS_RUNFILE_H

#include <stddef.h>

#include "../core/config.h"
#include "../core/error.h"
#include "../core/params.h"
#include "../core/task.h"

#define GS_RUN_FORMAT "grokscope-run"
#define GS_RUN_FORMAT_MAJOR 1
#define GS_RUN_FORMAT_MINOR 3

typedef struct gs_run gs_run;

typedef struct {
    long epoch;
    double train_loss, test_loss, train_acc, test_acc;
    /* format 1.3 (NaN in older files, and where not computed): softmax-collapse
     * fraction of the training set, gradient norm, cosine(gradient, weights) */
    double collapse_frac, grad_norm, grad_cos;
} gs_metrics_row;

typedef enum {
    GS_RUN_RUNNING = 0,      /* being written, or killed while being written */
    GS_RUN_FINISHED = 1,     /* reached cfg.epochs */
    GS_RUN_STOPPED_EARLY = 2,/* test loss fell below --stop-test-loss */
    GS_RUN_DIVERGED = 3      /* loss became NaN/Inf */
} gs_run_status;

typedef enum {
    GS_RUN_READ,        /* read-only, SWMR read: safe on a file being trained */
    GS_RUN_RESUME       /* read-write: for gs_run_append after the last checkpoint */
} gs_run_mode;

/* ---- writing ---- */

/* Creates path. Refuses an existing path unless force. command_line is stored as
 * an attribute (and created_by = "grokscope VERSION"). */
int gs_run_create(gs_run **out, const char *path, const gs_config *cfg, const gs_split *split,
                  const char *command_line, int force, gs_err *err);

/* Appends n_rows metric rows (epochs must continue the stored ones), then checkpoint
 * `epoch` holding params (the model's tensors, layout of gs_params_layout), then
 * the optimizer state (adam_m, adam_v, step = number of optimizer steps taken), then
 * flushes. rows may be empty (n_rows 0). */
int gs_run_append(gs_run *run, const gs_metrics_row *rows, int n_rows, long epoch,
                  const float *params, const float *adam_m, const float *adam_v, long step,
                  gs_err *err);

/* Runs with a Grokfast filter: every later gs_run_append also saves the filter's state
 * (gs_grokfast_rows(cfg) x n_params floats at state, read then) into the slot of its
 * checkpoint. */
void gs_run_attach_filter(gs_run *run, const float *state);
/* The filter state saved with the last checkpoint (same size). */
int gs_run_read_filter(gs_run *run, float *state, gs_err *err);

/* Records the run status (a dataset, since attributes cannot change under SWMR) and
 * the epoch it refers to (e.g. the epoch that diverged). Flushes. */
int gs_run_set_status(gs_run *run, gs_run_status status, long epoch, gs_err *err);

/* ---- reading ---- */

/* Opens and validates: format attribute, major version (refuses newer majors with a
 * clear message), config attributes, dataset presence, shapes and types. In
 * GS_RUN_RESUME mode any partial data past the last complete checkpoint (metrics rows
 * beyond it, a checkpoint without its optimizer state) is trimmed, new_epochs (if > 0)
 * replaces /config epochs, /status becomes {RUNNING, last checkpoint epoch}, and the
 * file is switched to SWMR writing. A second writer on the same file is refused. */
int gs_run_open(gs_run **out, const char *path, gs_run_mode mode, long new_epochs, gs_err *err);

/* gs_run_open in GS_RUN_RESUME mode for a caller that has read the file before: under
 * the writer lock and before anything is written, the file must still hold n_metrics
 * rows of metrics and its last complete checkpoint must be at last_epoch, else it is
 * refused ("changed while it was being read") and left as it was. */
int gs_run_open_resume(gs_run **out, const char *path, long new_epochs, long n_metrics, long last_epoch,
                       gs_err *err);

const char *gs_run_path(const gs_run *run);
const gs_config *gs_run_config(const gs_run *run);
const gs_dims *gs_run_dims(const gs_run *run);
const char *gs_run_command_line(const gs_run *run);
const char *gs_run_created_by(const gs_run *run);
/* What the run's Fourier measures are taken in, or why some have no meaning: the
 * /analysis attribute circuit_measures (core/circuit.h; it begins "none:" when the op
 * has no Fourier circuit). Files written before it existed (format < 1.2) get what this
 * grokscope says for their op and p. */
const char *gs_run_circuit_note(const gs_run *run);
/* The group order of the run's Fourier basis (core/circuit.h): 0 when it has none, for
 * an image task or an op without one (S5). */
int gs_run_basis_order(const gs_run *run);
/* /analysis attribute model_measures (format 1.3; core/config.h gs_config_model_note):
 * which measures the model has; files without it are the transformer's ("all: ..."). */
const char *gs_run_model_note(const gs_run *run);

/* Re-reads the sizes (for a SWMR reader following a live run). */
int gs_run_refresh(gs_run *run, gs_err *err);

/* Committed counts: checkpoints whose /checkpoints/epoch row exists, and metric rows up
 * to the last checkpoint's epoch (rows past it belong to an uncommitted checkpoint). */
int gs_run_n_checkpoints(const gs_run *run);
long gs_run_n_metrics(const gs_run *run);
gs_run_status gs_run_get_status(const gs_run *run, long *status_epoch);

/* epochs[n_checkpoints] */
int gs_run_checkpoint_epochs(gs_run *run, long *epochs, gs_err *err);
/* Index of the checkpoint of `epoch`, or of the last one if epoch < 0; -1 with err
 * ("FILE: no checkpoint at epoch E (checkpoints run from A to B)") if there is none. */
int gs_run_find_checkpoint(const gs_run *run, long epoch, gs_err *err);
/* params: gs_params_layout total floats */
int gs_run_read_checkpoint(gs_run *run, int index, float *params, gs_err *err);
/* rows [first, first + n) */
int gs_run_read_metrics(gs_run *run, long first, long n, gs_metrics_row *rows, gs_err *err);
int gs_run_read_split(gs_run *run, gs_split *out, gs_err *err);
/* The optimizer state stored with the last checkpoint. */
int gs_run_read_resume(gs_run *run, float *adam_m, float *adam_v, long *step, gs_err *err);

int gs_run_close(gs_run *run, gs_err *err);

/* --init FILE: loads weights from another run file's last checkpoint, or from a plain
 * HDF5 file holding datasets named by the parameter keys at its root (float32 or
 * float64, shapes must match d exactly). */
int gs_params_load_file(const char *path, const gs_dims *d, float *params, gs_err *err);

#endif
