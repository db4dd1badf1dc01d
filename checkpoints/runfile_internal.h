/* The gs_run handle and the helpers shared by the runfile_*.c files. Not public: the
 * layout is documented in docs/run-file.md and reached through runfile.h. */
#ifndef GS_RUNFILE_INTERNAL_H
#define GS_RUNFILE_INTERNAL_H

#include <hdf5.h>

#include "../core/circuit.h"
#include "gs_h5.h"
#include "runfile.h"
#include "runfile_analysis.h"

/* Every dataset of the run file, by id. gs_run_objects (runfile_layout.c) describes
 * each one, indexed by these ids. Groups are created in GS_G_* order and the datasets
 * of a group in id order, so this order fixes the bytes of a new file. Adding a
 * dataset: an id here, a row in the table, and the code that reads or writes it. */
enum {
    GS_O_TRAIN_IDX, GS_O_TEST_IDX,
    GS_O_M_EPOCH, GS_O_M_TRAIN_LOSS, GS_O_M_TEST_LOSS, GS_O_M_TRAIN_ACC, GS_O_M_TEST_ACC,
    GS_O_M_COLLAPSE, GS_O_M_GRAD_NORM, GS_O_M_GRAD_COS, /* format 1.3 */
    GS_O_CK_EPOCH,
    GS_O_PARAM, /* GS_MAX_TENSORS ids, in parameter-table order; the model's first
                 * n_tensors are its datasets, the rest unused (gs_run_obj_used) */
    GS_O_ADAM_M = GS_O_PARAM + GS_MAX_TENSORS, GS_O_ADAM_V, GS_O_RS_STEP, GS_O_RS_EPOCH,
    GS_O_RS_GROKFAST, /* format 1.3, only in runs with a Grokfast filter */
    GS_O_AN_EPOCH,
    /* the per-checkpoint series: the GS_ANALYSIS_N_SCALARS measures in
     * gs_analysis_row's order, then the two [n, p] Fourier norms */
    GS_O_AN_TRAIN_LOSS, GS_O_AN_TEST_LOSS, GS_O_AN_TRAIN_ACC, GS_O_AN_TEST_ACC,
    GS_O_AN_RESTRICTED, GS_O_AN_EXCLUDED, GS_O_AN_GINI_EMBED, GS_O_AN_GINI_LOGIT,
    GS_O_AN_WEIGHT_NORM, GS_O_AN_EMBED_NORM, GS_O_AN_LOGIT_NORM,
    GS_O_AN_BASIS, GS_O_AN_KEYS, GS_O_AN_KEYS_EPOCH, GS_O_AN_NEURON_FREQ,
    GS_O_AN_NEURON_FRAC, GS_O_AN_PHASES,
    /* format 1.3: the lazy-vs-rich and early-warning series (gs_analysis_row's
     * init_distance .. llc), the LLC settings and the loss spectrum. Optional: files
     * of earlier versions lack them until an analysis adds them (GS_OBJ_OPTIONAL). */
    GS_O_AN_INIT_DIST, GS_O_AN_CKA_INIT, GS_O_AN_CKA_LABEL, GS_O_AN_LLC,
    GS_O_AN_LLC_SETTINGS, GS_O_AN_LOSS_SPECTRUM,
    GS_O_STATUS,
    GS_RUN_N_OBJ
};

/* Id ranges the code walks: [first, end). */
#define GS_O_METRICS_FIRST GS_O_M_EPOCH
#define GS_O_METRICS_END (GS_O_M_GRAD_COS + 1)
#define GS_O_SERIES_FIRST GS_O_AN_TRAIN_LOSS
#define GS_O_SERIES_END (GS_O_AN_LOGIT_NORM + 1)
#define GS_O_SIGNALS_FIRST GS_O_AN_INIT_DIST
#define GS_O_SIGNALS_END (GS_O_AN_LLC + 1)

/* Every per-checkpoint /analysis series, in gs_analysis_row's order: the 1.0 ones, then
 * the 1.3 signals. The latter may be missing from an older file (run->ds[id] < 0). */
static inline int gs_run_next_series(int id)
{
    return id + 1 == GS_O_SERIES_END ? GS_O_SIGNALS_FIRST : id + 1;
}
#define GS_RUN_FOR_SERIES(id) \
    for (int id = GS_O_SERIES_FIRST; id != GS_O_SIGNALS_END; id = gs_run_next_series(id))

/* The groups, in creation order; the root's datasets come last. */
enum { GS_G_CONFIG, GS_G_DATA, GS_G_METRICS, GS_G_CHECKPOINTS, GS_G_RESUME, GS_G_ANALYSIS,
       GS_G_ROOT, GS_G_COUNT };

typedef enum { GS_RUN_I32, GS_RUN_I64, GS_RUN_F32, GS_RUN_F64 } gs_run_type;

/* How a dataset's shape follows from /config, and how many rows a valid file holds. */
typedef enum {
    GS_SHAPE_TRAIN_PAIRS, /* [n_train], the split, written at creation */
    GS_SHAPE_TEST_PAIRS,  /* [n_test], likewise */
    GS_SHAPE_PER_EPOCH,   /* [n], a row per epoch */
    GS_SHAPE_PER_CKPT,    /* [n], a row per checkpoint */
    GS_SHAPE_PER_CKPT_P,  /* [n, p], a row per checkpoint */
    GS_SHAPE_PARAM,       /* [n, the parameter's shape], a row per checkpoint */
    GS_SHAPE_SLOTS_FLAT,  /* [GS_RUN_SLOTS, all parameters flat] */
    GS_SHAPE_SLOTS_FILTER,/* [GS_RUN_SLOTS, the filter's rows, all parameters flat] */
    GS_SHAPE_FIXED,       /* [rows of the table row], at least that many */
    GS_SHAPE_P_BY_P,      /* [p, p], 0 rows until written whole */
    GS_SHAPE_PER_NEURON,  /* [d_mlp], 0 rows until written whole */
    GS_SHAPE_KEYS         /* [n_key], at most GS_ANALYSIS_MAX_KEYS */
} gs_run_shape_rule;

/* Flags of a table row. */
#define GS_OBJ_INIT 1u      /* created holding its rows of the fill value (0 if none) */
#define GS_OBJ_REWRITTEN 2u /* rewritten in place: no deflate (see GS_H5_NO_DEFLATE) */
#define GS_OBJ_KEYS_ATTR 4u /* carries attribute "keys", the parameter keys in order */
#define GS_OBJ_SINCE_1_3 8u /* absent in files of format < 1.3: opened if there (id -1 if not) */
#define GS_OBJ_GROKFAST 16u /* exists exactly when /config grokfast is not "none" */
#define GS_OBJ_OPTIONAL 32u /* added by format 1.3: may be missing (run->ds[id] < 0) */

typedef struct {
    int group;              /* GS_G_* */
    const char *name;       /* NULL for the parameters: their gs_param_info key */
    gs_run_type type;
    gs_run_shape_rule shape;
    int rows;               /* GS_SHAPE_FIXED: its row count */
    unsigned flags;         /* GS_OBJ_* */
    const int64_t *fill;    /* fill value (int64 datasets only), NULL for none */
    long field;             /* offset of the value in gs_metrics_row (/metrics) or
                             * gs_analysis_row (/analysis series), -1 if none */
    const char *units;
    const char *desc;       /* for the parameters a format taking the key */
} gs_run_obj;

extern const gs_run_obj gs_run_objects[GS_RUN_N_OBJ];

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
    char circuit_note[GS_CIRCUIT_NOTE_MAX]; /* /analysis attribute circuit_measures */
    char model_note[GS_MODEL_NOTE_MAX];     /* /analysis attribute model_measures (1.3) */
    hid_t file;
    int writable;  /* created or opened for resume: SWMR writer */
    int swmr_read; /* opened as a SWMR reader: gs_run_refresh re-reads */
    int lock_fd;   /* fcntl writer lock, -1 when not writing */
    int failed;    /* an append failed: the handle no longer knows what is on disk */
    int analyzing; /* opened by gs_run_open_analyze: writes /analysis only */
    long minor;    /* the file's format minor version (this grokscope's for a new file) */

    gs_config cfg;
    gs_dims dims;
    int n_train, n_test;
    int n_tensors;
    gs_param_info info[GS_MAX_TENSORS];
    size_t n_params;

    hid_t ds[GS_RUN_N_OBJ]; /* every dataset, by id; -1 while not open */

    /* Committed state: checkpoints whose /checkpoints/epoch row exists, and the
     * metric rows up to the last of them. */
    int n_ckpt, ck_cap;
    long *ck_epochs;
    long n_metrics;
    int slot;      /* /resume slot holding the last checkpoint's state, -1 if none */
    const float *gf_state; /* gs_run_attach_filter's, written with each append */
    gs_run_status status;
    long status_epoch;

    /* /analysis is absent in files of older versions: has_analysis 0, its ids -1. */
    int has_analysis;
    long n_analyzed; /* committed rows: /analysis/epoch rows that match the checkpoints */
};

const char *gs_run_where(char buf[GS_WHERE_MAX], const char *path, const char *obj);

/* run->dims, n_tensors, info and n_params from run->cfg. */
void gs_run_set_layout(gs_run *run);

/* 0 for the parameter ids beyond this model's tensors, 1 for every other id. */
static inline int gs_run_obj_used(const gs_run *run, int id)
{
    return id < GS_O_PARAM + run->n_tensors || id >= GS_O_PARAM + GS_MAX_TENSORS;
}

/* Allocates a handle with every id at -1; NULL when out of memory (err set). */
gs_run *gs_run_new(const char *path, gs_err *err);
/* Closes whatever is open, releases the lock, frees. Returns -1 (err set) if an HDF5
 * close failed, which for a writer can mean data did not reach the disk. */
int gs_run_destroy(gs_run *run, gs_err *err);

/* Root attributes and /config (runfile_config.c). */
int gs_run_write_attrs(gs_run *run, gs_err *err);
int gs_run_read_attrs(gs_run *run, gs_err *err);

/* ---- the objects of gs_run_objects (runfile_layout.c) ---- */

/* Creates every group and dataset of a new file, /analysis empty. */
int gs_run_create_objects(gs_run *run, const gs_split *split, gs_err *err);
/* Opens every dataset, checking types, shapes and row counts against /config;
 * /analysis only if the file has it (sets has_analysis). */
int gs_run_open_objects(gs_run *run, gs_err *err);
/* Creates the GS_OBJ_OPTIONAL datasets an older file lacks (empty), before SWMR. */
int gs_run_add_optional(gs_run *run, gs_err *err);
int gs_run_close_objects(gs_run *run, gs_err *err);
/* H5Drefresh of every open dataset (a SWMR reader following a live run). */
int gs_run_refresh_objects(gs_run *run, gs_err *err);

/* "FILE: /group/name" of dataset id, for messages. */
const char *gs_run_ds_where(char buf[GS_WHERE_MAX], const gs_run *run, int id);
/* Rows [first, first + n) of dataset id, in the native type of its stored type
 * (int32_t, int64_t, float, double); writing grows the dataset if it is shorter. */
int gs_run_ds_read(gs_run *run, int id, hsize_t first, hsize_t n, void *buf, gs_err *err);
int gs_run_ds_write(gs_run *run, int id, hsize_t first, hsize_t n, const void *buf,
                    gs_err *err);
/* Length along axis 0, and setting it (grows or trims). */
int gs_run_ds_len(gs_run *run, int id, hsize_t *n, gs_err *err);
int gs_run_ds_set_len(gs_run *run, int id, hsize_t n, gs_err *err);

/* Reads a commit record (/checkpoints/epoch or /analysis/epoch) whole into a malloc'd
 * *epochs and drops its trailing rows that still hold the fill value (extended but
 * never written); *n is what remains. */
int gs_run_read_commits(gs_run *run, int id, int64_t **epochs, hsize_t *n, gs_err *err);

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
