/* The gs_run handle and the helpers shared by the runfile_*.c files. Not public: the
 * layout is documented in docs/run-file.md and reached through runfile.h. */
#ifndef GS_RUNFILE_INTERNAL_H
#define GS_RUNFILE_INTERNAL_H

#include <hdf5.h>

#include "gs_h5.h"
#include "runfile.h"
#include "runfile_analysis.h"

enum { GS_M_EPOCH, GS_M_TRAIN_LOSS, GS_M_TEST_LOSS, GS_M_TRAIN_ACC, GS_M_TEST_ACC,
       GS_N_METRICS };

/* Names of the /metrics datasets, in the enum's order. */
extern const char *const gs_run_metric_names[GS_N_METRICS];

/* The per-checkpoint /analysis datasets besides the commit record /analysis/epoch: the
 * GS_ANALYSIS_N_SCALARS measures (in gs_analysis_scalar_names' order), then the two
 * [n, p] Fourier norms. */
enum { GS_A_EMBED_NORM = GS_ANALYSIS_N_SCALARS, GS_A_LOGIT_NORM, GS_A_N_SERIES };
extern const char *const gs_run_analysis_series_names[GS_A_N_SERIES];

/* /analysis/key_freqs_epoch when no key frequencies are stored (or being rewritten). */
#define GS_RUN_NO_KEYS (-2L)

/* The optimizer state has two slots so the one belonging to the last committed
 * checkpoint is never overwritten in place (see docs/run-file.md, crash safety). */
#define GS_RUN_SLOTS 2

/* Marks a /resume slot or a /checkpoints/epoch row that holds nothing committed. */
#define GS_RUN_NO_EPOCH (-1L)

/* "FILE: /group/name" for messages. */
#define GS_WHERE_MAX 1200

struct gs_run {
    char *path, *command_line, *created_by;
    hid_t file;
    int writable;  /* created or opened for resume: SWMR writer */
    int swmr_read; /* opened as a SWMR reader: gs_run_refresh re-reads */
    int lock_fd;   /* fcntl writer lock, -1 when not writing */
    int failed;    /* an append failed: the handle no longer knows what is on disk */
    int analyzing; /* opened by gs_run_open_analyze: writes /analysis only */

    gs_config cfg;
    gs_dims dims;
    int n_train, n_test;
    gs_param_info info[GS_N_PARAMS];
    size_t n_params;

    hid_t metrics[GS_N_METRICS], ck_epoch, params[GS_N_PARAMS];
    hid_t adam_m, adam_v, rs_step, rs_epoch, status_ds, train_idx, test_idx;

    /* Committed state: checkpoints whose /checkpoints/epoch row exists, and the
     * metric rows up to the last of them. */
    int n_ckpt, ck_cap;
    long *ck_epochs;
    long n_metrics;
    int slot;      /* /resume slot holding the last checkpoint's state, -1 if none */
    gs_run_status status;
    long status_epoch;

    /* /analysis (absent in files of older versions: has_analysis 0, ids -1). */
    int has_analysis;
    hid_t an_epoch, an_series[GS_A_N_SERIES], an_basis, an_keys, an_keys_epoch;
    hid_t an_neuron_freq, an_neuron_frac, an_phases;
    long n_analyzed; /* committed rows: /analysis/epoch rows that match the checkpoints */
};

const char *gs_run_where(char buf[GS_WHERE_MAX], const char *path, const char *obj);

/* Allocates a handle with every id at -1; NULL when out of memory (err set). */
gs_run *gs_run_new(const char *path, gs_err *err);
/* Closes whatever is open, releases the lock, frees. Returns -1 (err set) if an HDF5
 * close failed, which for a writer can mean data did not reach the disk. */
int gs_run_destroy(gs_run *run, gs_err *err);

/* Root attributes and /config (runfile_config.c). */
int gs_run_write_attrs(gs_run *run, gs_err *err);
int gs_run_read_attrs(gs_run *run, gs_err *err);

/* Creates every group and dataset of a new file, /analysis empty (runfile_layout.c). */
int gs_run_create_objects(gs_run *run, const gs_split *split, gs_err *err);
/* Opens every dataset, checking types and shapes against run->dims; /analysis only if
 * the file has it (sets has_analysis). */
int gs_run_open_objects(gs_run *run, gs_err *err);
int gs_run_close_objects(gs_run *run, gs_err *err);

/* Reads lengths, checkpoint epochs, the resume slot and the status into the handle
 * (runfile_open.c). */
int gs_run_scan(gs_run *run, gs_err *err);
/* Counts the committed /analysis rows (runfile_analysis.c); needs the checkpoints
 * scanned first. */
int gs_run_scan_analysis(gs_run *run, gs_err *err);

/* H5Fflush with the usual message. */
int gs_run_flush(gs_run *run, gs_err *err);

/* Closes every object and switches the file to SWMR writing. */
int gs_run_start_swmr(gs_run *run, gs_h5_lock_kind kind, gs_err *err);

#endif
