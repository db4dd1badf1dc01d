/* The objects of the run file (docs/run-file.md) as one table, and the walks over it:
 * creating them all before SWMR writing starts (SWMR cannot add objects later),
 * opening them with their types, shapes and row counts checked against /config (so no
 * later read can leave its buffer), refreshing and closing them. */
#include "runfile_internal.h"

#include "../core/grokfast.h"

#include <assert.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define METRIC_CHUNK 1024 /* rows: ~8 KiB per chunk, one chunk per ~1000 epochs */
#define EPOCH_CHUNK 64
#define INDEX_CHUNK 65536
#define FLAT_CHUNK (1 << 20) /* floats per chunk of the flat optimizer state */
#define ANALYSIS_CHUNK_BYTES (1 << 20) /* cap for the [n, p] and [p, p] chunks */

static const int64_t no_epoch = GS_RUN_NO_EPOCH, no_keys = GS_RUN_NO_KEYS;

static const char *const group_names[GS_G_COUNT] = {
    [GS_G_CONFIG] = "config", [GS_G_DATA] = "data", [GS_G_METRICS] = "metrics",
    [GS_G_CHECKPOINTS] = "checkpoints", [GS_G_RESUME] = "resume", [GS_G_ANALYSIS] = "analysis",
    [GS_G_ROOT] = NULL};

#define EPOCHS "epochs (optimizer steps taken)"
#define M(f) (long)offsetof(gs_metrics_row, f)
#define A(f) (long)offsetof(gs_analysis_row, f)

const gs_run_obj gs_run_objects[GS_RUN_N_OBJ] = {
    /* id: group, name, type, shape, rows, flags, fill, field, units, description */
    [GS_O_TRAIN_IDX] = {GS_G_DATA, "train_idx", GS_RUN_I32, GS_SHAPE_TRAIN_PAIRS, 0, 0, NULL, -1,
        "pair index a*p + b",
        "training pairs, i = a*p + b, in the shuffled order of CPython's random.shuffle"},
    [GS_O_TEST_IDX] = {GS_G_DATA, "test_idx", GS_RUN_I32, GS_SHAPE_TEST_PAIRS, 0, 0, NULL, -1,
        "pair index a*p + b",
        "test pairs, i = a*p + b, in the shuffled order of CPython's random.shuffle"},

    [GS_O_M_EPOCH] = {GS_G_METRICS, "epoch", GS_RUN_I64, GS_SHAPE_PER_EPOCH, 0, 0, NULL,
        M(epoch), EPOCHS,
        "row e holds the metrics of the weights after e optimizer steps (equals the row index)"},
    [GS_O_M_TRAIN_LOSS] = {GS_G_METRICS, "train_loss", GS_RUN_F64, GS_SHAPE_PER_EPOCH, 0, 0,
        NULL, M(train_loss), "nats",
        "mean cross-entropy over the p+1 outputs on the training pairs, in float64"},
    [GS_O_M_TEST_LOSS] = {GS_G_METRICS, "test_loss", GS_RUN_F64, GS_SHAPE_PER_EPOCH, 0, 0,
        NULL, M(test_loss), "nats",
        "mean cross-entropy over the p+1 outputs on the test pairs, in float64"},
    [GS_O_M_TRAIN_ACC] = {GS_G_METRICS, "train_acc", GS_RUN_F64, GS_SHAPE_PER_EPOCH, 0, 0,
        NULL, M(train_acc), "fraction",
        "share of training pairs whose largest logit (of p+1) is the answer"},
    [GS_O_M_TEST_ACC] = {GS_G_METRICS, "test_acc", GS_RUN_F64, GS_SHAPE_PER_EPOCH, 0, 0, NULL,
        M(test_acc), "fraction",
        "share of test pairs whose largest logit (of p+1) is the answer"},
    [GS_O_M_COLLAPSE] = {GS_G_METRICS, "collapse_frac", GS_RUN_F64, GS_SHAPE_PER_EPOCH, 0,
        GS_OBJ_SINCE_1_3, NULL, M(collapse_frac), "fraction",
        "share of training pairs whose softmax has collapsed: the sum over the outputs of "
        "exp(logit - largest logit), rounded once to float32, is exactly 1 "
        "(docs/interventions.md)"},
    [GS_O_M_GRAD_NORM] = {GS_G_METRICS, "grad_norm", GS_RUN_F64, GS_SHAPE_PER_EPOCH, 0,
        GS_OBJ_SINCE_1_3, NULL, M(grad_norm), "loss per weight unit",
        "Euclidean norm over all parameters of the gradient of the training loss at the "
        "weights of this row (before any filter or weight decay); NaN when not computed"},
    [GS_O_M_GRAD_COS] = {GS_G_METRICS, "grad_cos", GS_RUN_F64, GS_SHAPE_PER_EPOCH, 0,
        GS_OBJ_SINCE_1_3, NULL, M(grad_cos), "cosine",
        "cosine between that gradient and the weights, over all parameters (-1: the "
        "gradient points along -w, growing the weights lowers the loss)"},

    [GS_O_CK_EPOCH] = {GS_G_CHECKPOINTS, "epoch", GS_RUN_I64, GS_SHAPE_PER_CKPT, 0, 0,
        &no_epoch, -1, EPOCHS,
        "checkpoint k holds the weights after epoch[k] optimizer steps, aligned with "
        "/metrics row epoch[k]; this row is written last and commits the checkpoint"},
    [GS_O_PARAM ... GS_O_PARAM + GS_MAX_TENSORS - 1] = {GS_G_CHECKPOINTS, NULL, GS_RUN_F32,
        GS_SHAPE_PARAM, 0, 0, NULL, -1, "model weight",
        "%s parameter %s, one row per checkpoint (see /checkpoints/epoch)"},

    [GS_O_ADAM_M] = {GS_G_RESUME, "adam_m", GS_RUN_F32, GS_SHAPE_SLOTS_FLAT, 0,
        GS_OBJ_REWRITTEN | GS_OBJ_KEYS_ATTR, NULL, -1, "same as the weights",
        "AdamW first moments (PyTorch exp_avg), flat in the parameter order of attribute "
        "keys; row s belongs to checkpoint epoch /resume/epoch[s]"},
    [GS_O_ADAM_V] = {GS_G_RESUME, "adam_v", GS_RUN_F32, GS_SHAPE_SLOTS_FLAT, 0,
        GS_OBJ_REWRITTEN | GS_OBJ_KEYS_ATTR, NULL, -1, "square of the gradient's units",
        "AdamW second moments (PyTorch exp_avg_sq), flat in the parameter order of "
        "attribute keys; row s belongs to checkpoint epoch /resume/epoch[s]"},
    [GS_O_RS_STEP] = {GS_G_RESUME, "step", GS_RUN_I64, GS_SHAPE_FIXED, GS_RUN_SLOTS,
        GS_OBJ_INIT | GS_OBJ_REWRITTEN, NULL, -1, "optimizer steps taken",
        "step[s]: optimizer steps taken when slot s was saved (Adam's bias correction "
        "continues from it)"},
    [GS_O_RS_EPOCH] = {GS_G_RESUME, "epoch", GS_RUN_I64, GS_SHAPE_FIXED, GS_RUN_SLOTS,
        GS_OBJ_INIT | GS_OBJ_REWRITTEN, &no_epoch, -1, EPOCHS,
        "epoch[s]: the checkpoint slot s belongs to; the slot whose epoch equals the last "
        "/checkpoints/epoch is the valid one; -1: empty or being written"},
    [GS_O_RS_GROKFAST] = {GS_G_RESUME, "grokfast", GS_RUN_F32, GS_SHAPE_SLOTS_FILTER, 0,
        GS_OBJ_REWRITTEN | GS_OBJ_KEYS_ATTR | GS_OBJ_SINCE_1_3 | GS_OBJ_GROKFAST, NULL, -1,
        "same as the gradient",
        "Grokfast filter state, flat in the parameter order of attribute keys: [s, 0] the "
        "EMA mu (ema), or [s, k] the gradient of step t with t mod window = k (ma); row s "
        "belongs to checkpoint epoch /resume/epoch[s]"},

    /* /analysis: every dataset empty (the fixed-size ones hold only their fill value),
     * so the analysis later writes under SWMR without creating anything. */
    [GS_O_AN_EPOCH] = {GS_G_ANALYSIS, "epoch", GS_RUN_I64, GS_SHAPE_PER_CKPT, 0, 0, &no_epoch,
        -1, EPOCHS,
        "row k analyses checkpoint k and holds its epoch /checkpoints/epoch[k]; this row is "
        "written last and commits the row of every /analysis series; -1: not yet written"},
    [GS_O_AN_TRAIN_LOSS] = {GS_G_ANALYSIS, "train_loss", GS_RUN_F64, GS_SHAPE_PER_CKPT, 0, 0,
        NULL, A(train_loss), "nats",
        "row k: mean cross-entropy over the p+1 outputs on the training pairs, recomputed in "
        "float64 from checkpoint k (equals /metrics/train_loss[/analysis/epoch[k]])"},
    [GS_O_AN_TEST_LOSS] = {GS_G_ANALYSIS, "test_loss", GS_RUN_F64, GS_SHAPE_PER_CKPT, 0, 0,
        NULL, A(test_loss), "nats",
        "row k: mean cross-entropy over the p+1 outputs on the test pairs, recomputed from "
        "checkpoint k"},
    [GS_O_AN_TRAIN_ACC] = {GS_G_ANALYSIS, "train_acc", GS_RUN_F64, GS_SHAPE_PER_CKPT, 0, 0,
        NULL, A(train_acc), "fraction",
        "row k: share of training pairs whose largest logit (of p+1) is the answer, "
        "checkpoint k"},
    [GS_O_AN_TEST_ACC] = {GS_G_ANALYSIS, "test_acc", GS_RUN_F64, GS_SHAPE_PER_CKPT, 0, 0,
        NULL, A(test_acc), "fraction",
        "row k: share of test pairs whose largest logit (of p+1) is the answer, checkpoint k"},
    [GS_O_AN_RESTRICTED] = {GS_G_ANALYSIS, "restricted_loss", GS_RUN_F64, GS_SHAPE_PER_CKPT,
        0, 0, NULL, A(restricted_loss), "nats",
        "row k: mean cross-entropy over the p number outputs on all p*p pairs of the logits "
        "restricted to their mean plus the directions cos(w(a+b)), sin(w(a+b)) of the key "
        "frequencies w (docs/science.md §4)"},
    [GS_O_AN_EXCLUDED] = {GS_G_ANALYSIS, "excluded_loss", GS_RUN_F64, GS_SHAPE_PER_CKPT, 0,
        0, NULL, A(excluded_loss), "nats",
        "row k: mean cross-entropy over the p number outputs on the training pairs of the "
        "logits with the key frequencies' directions cos(w(a+b)), sin(w(a+b)) removed "
        "(docs/science.md §4)"},
    [GS_O_AN_GINI_EMBED] = {GS_G_ANALYSIS, "gini_embed", GS_RUN_F64, GS_SHAPE_PER_CKPT, 0, 0,
        NULL, A(gini_embed), "dimensionless (0..1)",
        "row k: Gini coefficient (Hurley & Rickard) of embed_fourier_norm[k]; 1 = sparse"},
    [GS_O_AN_GINI_LOGIT] = {GS_G_ANALYSIS, "gini_neuron_logit", GS_RUN_F64, GS_SHAPE_PER_CKPT,
        0, 0, NULL, A(gini_neuron_logit), "dimensionless (0..1)",
        "row k: Gini coefficient (Hurley & Rickard) of neuron_logit_fourier_norm[k]; 1 = "
        "sparse"},
    [GS_O_AN_WEIGHT_NORM] = {GS_G_ANALYSIS, "weight_norm", GS_RUN_F64, GS_SHAPE_PER_CKPT, 0,
        0, NULL, A(weight_norm), "squared weight units",
        "row k: sum of the squares of all parameters of checkpoint k"},
    [GS_O_AN_EMBED_NORM] = {GS_G_ANALYSIS, "embed_fourier_norm", GS_RUN_F64,
        GS_SHAPE_PER_CKPT_P, 0, 0, NULL, A(embed_fourier_norm), "weight units (L2 norm)",
        "[k, j]: L2 norm of row j of F W_E[:p] (F = fourier_basis, j = const, cos 1, sin 1, "
        "...), checkpoint k"},
    [GS_O_AN_LOGIT_NORM] = {GS_G_ANALYSIS, "neuron_logit_fourier_norm", GS_RUN_F64,
        GS_SHAPE_PER_CKPT_P, 0, 0, NULL, A(neuron_logit_fourier_norm),
        "weight units (L2 norm)",
        "[k, j]: L2 norm of column j of (W_out W_U[:, :p]) F^T (F = fourier_basis), "
        "checkpoint k"},
    [GS_O_AN_BASIS] = {GS_G_ANALYSIS, "fourier_basis", GS_RUN_F64, GS_SHAPE_P_BY_P, 0, 0,
        NULL, -1, "dimensionless (orthonormal rows)",
        "F[j, x], x = 0..p-1: rows const, cos 1, sin 1, ..., cos (p-1)/2, sin (p-1)/2 of "
        "cos(2 pi w x / p), sin(2 pi w x / p), each of unit norm (mul, div: by discrete log, "
        "see circuit_measures); 0 rows until the analysis writes it"},
    [GS_O_AN_KEYS] = {GS_G_ANALYSIS, "key_freqs", GS_RUN_I32, GS_SHAPE_KEYS, 0, 0, NULL, -1,
        "frequency w of cos(2 pi w x / p)",
        "the key frequencies, ascending in 1..(p-1)/2, that restricted_loss and "
        "excluded_loss use; valid while key_freqs_epoch is not -2"},
    [GS_O_AN_KEYS_EPOCH] = {GS_G_ANALYSIS, "key_freqs_epoch", GS_RUN_I64, GS_SHAPE_FIXED, 1, 0,
        &no_keys, -1, EPOCHS,
        "[0]: checkpoint epoch the key frequencies and neuron clusters were found at; -1: "
        "key frequencies given by the user; -2: none stored (or being rewritten). Written "
        "last: commits key_freqs, neuron_freq, neuron_frac_explained"},
    [GS_O_AN_NEURON_FREQ] = {GS_G_ANALYSIS, "neuron_freq", GS_RUN_I32, GS_SHAPE_PER_NEURON, 0,
        0, NULL, -1, "frequency w",
        "[i]: the frequency whose cluster MLP neuron i belongs to, -1 for none; 0 rows until "
        "written"},
    [GS_O_AN_NEURON_FRAC] = {GS_G_ANALYSIS, "neuron_frac_explained", GS_RUN_F64,
        GS_SHAPE_PER_NEURON, 0, 0, NULL, -1, "fraction",
        "[i]: share of neuron i's activation variance over the p x p grid (constant term "
        "dropped) in the terms of its best frequency; 0 rows until written"},
    /* files analysed before 1.1's phases hold 3 rows (GS_PHASE_ROWS_OLD): shape_of */
    [GS_O_AN_PHASES] = {GS_G_ANALYSIS, "phase_epochs", GS_RUN_I64, GS_SHAPE_FIXED, GS_PHASE_ROWS, 0,
        &no_epoch, -1, EPOCHS,
        "[end of memorization = start of circuit formation, end of circuit formation = "
        "start of cleanup, end of cleanup, fitted (train accuracy first >= 0.99), grokked "
        "(test accuracy first >= 0.99), epochs at which log test loss, weight_norm, "
        "gini_embed, gini_neuron_logit levelled off, last epoch of the data the phases were "
        "found from (written last; -1: no phases)]; -1: not reached; see docs/analysis.md"},

    /* format 1.3 (docs/early-warning.md); GS_OBJ_OPTIONAL: older files lack them */
    [GS_O_AN_INIT_DIST] = {GS_G_ANALYSIS, "init_distance", GS_RUN_F64, GS_SHAPE_PER_CKPT, 0,
        GS_OBJ_OPTIONAL, NULL, A(init_distance), "fraction",
        "row k: ||w_k - w_0|| / ||w_0|| over all parameters, w_0 the weights of epoch 0"},
    [GS_O_AN_CKA_INIT] = {GS_G_ANALYSIS, "cka_init", GS_RUN_F64, GS_SHAPE_PER_CKPT, 0,
        GS_OBJ_OPTIONAL, NULL, A(cka_init), "dimensionless (0..1)",
        "row k: linear CKA of the MLP post-activations at the last position over the inputs "
        "with an answer, checkpoint k against epoch 0"},
    [GS_O_AN_CKA_LABEL] = {GS_G_ANALYSIS, "cka_label", GS_RUN_F64, GS_SHAPE_PER_CKPT, 0,
        GS_OBJ_OPTIONAL, NULL, A(cka_label), "dimensionless (0..1)",
        "row k: linear CKA of the MLP post-activations at the last position with the one-hot "
        "answers, over the inputs with an answer"},
    [GS_O_AN_LLC] = {GS_G_ANALYSIS, "llc", GS_RUN_F64, GS_SHAPE_PER_CKPT, 0, GS_OBJ_OPTIONAL,
        NULL, A(llc), "dimensionless",
        "row k: local learning coefficient n*beta*(E[L(w)] - L(w_k)) from SGLD around "
        "checkpoint k (settings in llc_settings); NaN where not estimated"},
    [GS_O_AN_LLC_SETTINGS] = {GS_G_ANALYSIS, "llc_settings", GS_RUN_F64, GS_SHAPE_FIXED,
        GS_LLC_SETTINGS_ROWS, GS_OBJ_OPTIONAL, NULL, -1, "mixed (see description)",
        "[epsilon, n*beta, gamma, chains, draws, burn-in steps, batch size, every k-th "
        "checkpoint (0: not estimated), seed] of the llc series; all 0 until written"},
    [GS_O_AN_LOSS_SPECTRUM] = {GS_G_ANALYSIS, "loss_spectrum", GS_RUN_F64, GS_SHAPE_FIXED, 2,
        GS_OBJ_OPTIONAL, NULL, -1, "[epochs, squared nats]",
        "[window K, spectral energy of /metrics/train_loss over epochs 0..K-1 with its mean "
        "removed, sum_k |X_k|^2 / K^2]; K = 0: not computed"},

    /* A dataset, since attributes cannot change under SWMR; created holding zeros,
     * i.e. {GS_RUN_RUNNING, 0}. */
    [GS_O_STATUS] = {GS_G_ROOT, "status", GS_RUN_I64, GS_SHAPE_FIXED, 2,
        GS_OBJ_INIT | GS_OBJ_REWRITTEN, NULL, -1, "code, epochs",
        "[status, epoch]: 0 running (or killed while running), 1 finished, 2 stopped early "
        "(test loss below stop_test_loss), 3 diverged (NaN/Inf loss); epoch: the epoch it "
        "refers to"},
};

#undef EPOCHS
#undef M
#undef A

static_assert(GS_RUN_RUNNING == 0, "/status is created holding zeros");
static_assert(GS_O_SERIES_END - GS_O_SERIES_FIRST == GS_ANALYSIS_N_SERIES &&
                  GS_O_AN_EMBED_NORM - GS_O_SERIES_FIRST == GS_ANALYSIS_N_SCALARS,
              "the /analysis series ids follow gs_analysis_row");

static_assert(GS_O_SIGNALS_END - GS_O_SIGNALS_FIRST == GS_ANALYSIS_N_SIGNALS,
              "the 1.3 series follow gs_analysis_row");

const char *gs_analysis_signal_name(int s)
{
    assert(s >= 0 && s < GS_ANALYSIS_N_SIGNALS);
    return gs_run_objects[GS_O_SIGNALS_FIRST + s].name;
}

const char *gs_analysis_series_name(int s)
{
    assert(s >= 0 && s < GS_ANALYSIS_N_SERIES);
    return gs_run_objects[GS_O_SERIES_FIRST + s].name;
}

/* ---- an object's name, type and shape for this run ---- */

static const char *obj_name(const gs_run *run, int id)
{
    const gs_run_obj *o = &gs_run_objects[id];
    return o->name ? o->name : run->info[id - GS_O_PARAM].key;
}

/* "/group/name" */
static const char *obj_path(char *buf, size_t size, const gs_run *run, int id)
{
    const char *g = group_names[gs_run_objects[id].group];
    snprintf(buf, size, "%s%s/%s", g ? "/" : "", g ? g : "", obj_name(run, id));
    return buf;
}

const char *gs_run_ds_where(char buf[GS_WHERE_MAX], const gs_run *run, int id)
{
    char obj[300];
    return gs_run_where(buf, run->path, obj_path(obj, sizeof obj, run, id));
}

static hid_t file_type(gs_run_type t)
{
    switch (t) {
    case GS_RUN_I32: return H5T_STD_I32LE;
    case GS_RUN_I64: return H5T_STD_I64LE;
    case GS_RUN_F32: return H5T_IEEE_F32LE;
    default: return H5T_IEEE_F64LE;
    }
}

static hid_t mem_type(gs_run_type t)
{
    switch (t) {
    case GS_RUN_I32: return H5T_NATIVE_INT32;
    case GS_RUN_I64: return H5T_NATIVE_INT64;
    case GS_RUN_F32: return H5T_NATIVE_FLOAT;
    default: return H5T_NATIVE_DOUBLE;
    }
}

static hsize_t min_chunk(hsize_t n, hsize_t cap) { return n < 1 ? 1 : n < cap ? n : cap; }

/* An object's shape in this run: dims at creation, chunk, and the row counts a valid
 * file may hold (rows_min..rows_max, or 0 when empty_ok). */
typedef struct {
    int rank;
    hsize_t dims[GS_MAX_RANK + 1], chunk[GS_MAX_RANK + 1];
    hsize_t rows_min, rows_max;
    int empty_ok;
} obj_shape;

static void shape_of(const gs_run *run, int id, obj_shape *s)
{
    const gs_run_obj *o = &gs_run_objects[id];
    assert(o->units && o->desc); /* every id has its row in the table */
    const hsize_t p = (hsize_t)run->dims.p, d_mlp = (hsize_t)run->dims.d_mlp;
    const hsize_t row_cap = ANALYSIS_CHUNK_BYTES / (p * sizeof(double));
    const hsize_t n_split = o->shape == GS_SHAPE_TRAIN_PAIRS ? (hsize_t)run->n_train
                                                              : (hsize_t)run->n_test;
    memset(s, 0, sizeof *s);
    s->rank = 1;
    s->rows_max = (hsize_t)-1; /* no limit */
    switch (o->shape) {
    case GS_SHAPE_TRAIN_PAIRS:
    case GS_SHAPE_TEST_PAIRS:
        s->dims[0] = s->rows_min = s->rows_max = n_split;
        s->chunk[0] = min_chunk(n_split, INDEX_CHUNK);
        break;
    case GS_SHAPE_PER_EPOCH: s->chunk[0] = METRIC_CHUNK; break;
    case GS_SHAPE_PER_CKPT: s->chunk[0] = EPOCH_CHUNK; break;
    case GS_SHAPE_PER_CKPT_P:
        s->rank = 2;
        s->dims[1] = s->chunk[1] = p;
        s->chunk[0] = min_chunk(row_cap, EPOCH_CHUNK);
        break;
    case GS_SHAPE_PARAM: {
        const gs_param_info *pi = &run->info[id - GS_O_PARAM];
        s->rank = pi->rank + 1;
        s->chunk[0] = 1;
        for (int i = 0; i < pi->rank; i++)
            s->dims[i + 1] = s->chunk[i + 1] = (hsize_t)pi->shape[i];
        break;
    }
    case GS_SHAPE_SLOTS_FLAT:
        s->rank = 2;
        s->dims[0] = s->rows_min = GS_RUN_SLOTS;
        s->dims[1] = (hsize_t)run->n_params;
        s->chunk[0] = 1;
        s->chunk[1] = min_chunk(run->n_params, FLAT_CHUNK);
        break;
    case GS_SHAPE_SLOTS_FILTER:
        s->rank = 3;
        s->dims[0] = s->rows_min = GS_RUN_SLOTS;
        s->dims[1] = gs_grokfast_rows(&run->cfg) ? gs_grokfast_rows(&run->cfg) : 1;
        s->dims[2] = (hsize_t)run->n_params;
        s->chunk[0] = s->chunk[1] = 1;
        s->chunk[2] = min_chunk(run->n_params, FLAT_CHUNK);
        break;
    case GS_SHAPE_FIXED:
        s->dims[0] = s->chunk[0] = s->rows_min = (hsize_t)o->rows;
        if (id == GS_O_AN_PHASES) /* an earlier version's three phase ends */
            s->rows_min = GS_PHASE_ROWS_OLD;
        break;
    case GS_SHAPE_P_BY_P:
        s->rank = 2;
        s->dims[1] = s->chunk[1] = s->rows_min = s->rows_max = p;
        s->chunk[0] = min_chunk(row_cap, p);
        s->empty_ok = 1;
        break;
    case GS_SHAPE_PER_NEURON:
        s->chunk[0] = s->rows_min = s->rows_max = d_mlp;
        s->empty_ok = 1;
        break;
    case GS_SHAPE_KEYS:
        s->chunk[0] = EPOCH_CHUNK;
        s->rows_max = GS_ANALYSIS_MAX_KEYS;
        break;
    }
}

/* ---- creating ---- */

static hid_t make_group(gs_run *run, int g, gs_err *err)
{
    char where[GS_WHERE_MAX];
    hid_t gcpl = H5Pcreate(H5P_GROUP_CREATE);
    hid_t h = -1;
    /* No time stamps: the same run gives the same bytes. */
    if (gcpl < 0 || H5Pset_obj_track_times(gcpl, 0) < 0 ||
        (h = H5Gcreate2(run->file, group_names[g], H5P_DEFAULT, gcpl, H5P_DEFAULT)) < 0)
        gs_h5_fail(err, "%s: cannot create", gs_run_where(where, run->path, group_names[g]));
    gs_h5_close(&gcpl);
    return h;
}

/* Creates dataset id under loc, writes its initial rows, closes it. */
static int make_dset(gs_run *run, hid_t loc, int id, const gs_split *split, gs_err *err)
{
    const gs_run_obj *o = &gs_run_objects[id];
    char where[GS_WHERE_MAX], desc[640];
    gs_run_ds_where(where, run, id);
    obj_shape s;
    shape_of(run, id, &s);
    const void *init = NULL;
    int64_t fixed[8] = {0};
    if (o->shape == GS_SHAPE_PARAM) {
        const gs_param_info *pi = &run->info[id - GS_O_PARAM];
        if (pi->count * sizeof(float) >= ((size_t)1 << 32))
            return gs_err_set(err, "%s: %s has %zu values, more than one HDF5 chunk holds",
                              run->path, pi->key, pi->count);
        /* the transformer's keys are TransformerLens's (and its description says so,
         * as it always has) */
        snprintf(desc, sizeof desc, o->desc,
                 run->dims.kind == GS_MODEL_TRANSFORMER ? "TransformerLens" : "MLP", pi->key);
    } else {
        snprintf(desc, sizeof desc, "%s", o->desc);
    }
    if (o->shape == GS_SHAPE_TRAIN_PAIRS || o->shape == GS_SHAPE_TEST_PAIRS) {
        init = o->shape == GS_SHAPE_TRAIN_PAIRS ? split->train_idx : split->test_idx;
    } else if (o->flags & GS_OBJ_INIT) {
        assert(o->type == GS_RUN_I64 && o->shape == GS_SHAPE_FIXED &&
               (size_t)o->rows <= sizeof fixed / sizeof *fixed);
        for (int i = 0; i < o->rows; i++)
            fixed[i] = o->fill ? *o->fill : 0;
        init = fixed;
    }
    hid_t d = gs_h5_dset_create(loc, obj_name(run, id), file_type(o->type), s.rank, s.dims,
                                s.chunk, o->fill, o->units, desc,
                                o->flags & GS_OBJ_REWRITTEN ? GS_H5_NO_DEFLATE : 0, where, err);
    if (d < 0)
        return -1;
    int rc = 0;
    if (init && gs_h5_write_rows(d, mem_type(o->type), 0, s.dims[0], init, where, err) < 0)
        rc = -1;
    if (gs_h5_close(&d) < 0 && rc == 0)
        rc = gs_h5_fail(err, "%s: cannot close", where);
    return rc;
}

/* Attribute "keys" of the flat optimizer state: Python readers slice the flat moments
 * with this list and the checkpoint shapes. */
static int write_keys_attr(gs_run *run, hid_t loc, int id, gs_err *err)
{
    char keys[GS_MAX_TENSORS * GS_KEY_MAX] = "", where[GS_WHERE_MAX];
    size_t len = 0;
    for (int t = 0; t < run->n_tensors; t++)
        len += (size_t)snprintf(keys + len, sizeof keys - len, "%s%s", t ? " " : "",
                                run->info[t].key);
    gs_run_ds_where(where, run, id);
    hid_t d = H5Dopen2(loc, obj_name(run, id), H5P_DEFAULT);
    if (d < 0)
        return gs_h5_fail(err, "%s: cannot open", where);
    int rc = gs_h5_attr_write_str(d, "keys", keys, where, err);
    H5Dclose(d);
    return rc;
}

/* Whether this run has object id: only its model's parameter tensors, and the Grokfast
 * state only in runs with a filter. */
static int wanted(const gs_run *run, int id)
{
    return gs_run_obj_used(run, id) &&
           (!(gs_run_objects[id].flags & GS_OBJ_GROKFAST) || run->cfg.grokfast != GS_GF_NONE);
}

int gs_run_create_objects(gs_run *run, const gs_split *split, gs_err *err)
{
    int rc = 0;
    for (int g = 0; g < GS_G_COUNT && rc == 0; g++) {
        hid_t loc = g == GS_G_ROOT ? run->file : make_group(run, g, err);
        if (loc < 0)
            return -1;
        for (int id = 0; id < GS_RUN_N_OBJ && rc == 0; id++)
            if (gs_run_objects[id].group == g && wanted(run, id))
                rc = make_dset(run, loc, id, split, err);
        /* After the group's datasets, as the layout has always been written. */
        for (int id = 0; id < GS_RUN_N_OBJ && rc == 0; id++)
            if (gs_run_objects[id].group == g && (gs_run_objects[id].flags & GS_OBJ_KEYS_ATTR) &&
                wanted(run, id))
                rc = write_keys_attr(run, loc, id, err);
        if (g != GS_G_ROOT && H5Gclose(loc) < 0 && rc == 0)
            rc = gs_h5_fail(err, "%s: cannot close /%s", run->path, group_names[g]);
    }
    return rc;
}

/* ---- opening ---- */

static int check_rows(const gs_run *run, int id, const obj_shape *s, hsize_t n, gs_err *err)
{
    if ((n >= s->rows_min && n <= s->rows_max) || (s->empty_ok && n == 0))
        return 0;
    char where[GS_WHERE_MAX];
    gs_run_ds_where(where, run, id);
    if (s->rows_min == s->rows_max)
        return gs_err_set(err, "%s: has %llu rows, expected %s%llu (damaged file?)", where,
                          (unsigned long long)n, s->empty_ok ? "0 or " : "",
                          (unsigned long long)s->rows_min);
    return gs_err_set(err, "%s: has %llu rows, expected at %s %llu (damaged file?)", where,
                      (unsigned long long)n, n < s->rows_min ? "least" : "most",
                      (unsigned long long)(n < s->rows_min ? s->rows_min : s->rows_max));
}

static int open_dset(gs_run *run, hid_t loc, int id, gs_err *err)
{
    const gs_run_obj *o = &gs_run_objects[id];
    char where[GS_WHERE_MAX];
    if (o->flags & (GS_OBJ_SINCE_1_3 | GS_OBJ_GROKFAST)) {
        /* objects of format 1.3 may be absent from older files; the Grokfast state
         * must be there exactly when the run has a filter */
        htri_t has = H5Lexists(loc, obj_name(run, id), H5P_DEFAULT);
        if (has < 0)
            return gs_h5_fail(err, "%s: cannot look it up", gs_run_ds_where(where, run, id));
        const int need = (o->flags & GS_OBJ_GROKFAST) ? wanted(run, id) : run->minor >= 3;
        if (!has && need)
            return gs_err_set(err, "%s: missing", gs_run_ds_where(where, run, id));
        if (!has)
            return 0;
        if ((o->flags & GS_OBJ_GROKFAST) && !wanted(run, id))
            return gs_err_set(err, "%s: present, but /config grokfast is none (damaged file?)",
                              gs_run_ds_where(where, run, id));
    }
    if (o->flags & GS_OBJ_OPTIONAL) {
        htri_t has = H5Lexists(loc, obj_name(run, id), H5P_DEFAULT);
        if (has < 0)
            return gs_h5_fail(err, "%s: cannot look it up", gs_run_ds_where(where, run, id));
        if (has == 0)
            return 0; /* an older file: run->ds[id] stays -1 */
    }
    obj_shape s;
    shape_of(run, id, &s);
    hsize_t n;
    const H5T_class_t cls = o->type == GS_RUN_F32 || o->type == GS_RUN_F64 ? H5T_FLOAT
                                                                           : H5T_INTEGER;
    run->ds[id] = gs_h5_dset_open(loc, obj_name(run, id), cls, s.rank, s.dims, &n,
                                  gs_run_ds_where(where, run, id), err);
    return run->ds[id] < 0 ? -1 : check_rows(run, id, &s, n, err);
}

/* Opens group g (the root: the file); 0 with *loc -1 if an optional group (/analysis,
 * which files of older versions lack) is missing. */
static int open_group(gs_run *run, int g, hid_t *loc, gs_err *err)
{
    char where[GS_WHERE_MAX], obj[64];
    *loc = -1;
    if (g == GS_G_ROOT) {
        *loc = run->file;
        return 0;
    }
    snprintf(obj, sizeof obj, "/%s", group_names[g]);
    gs_run_where(where, run->path, obj);
    htri_t has = H5Lexists(run->file, group_names[g], H5P_DEFAULT);
    if (has < 0)
        return gs_h5_fail(err, "%s: cannot look it up", where);
    if (has == 0)
        return g == GS_G_ANALYSIS ? 0 : gs_err_set(err, "%s: missing", where);
    if ((*loc = H5Gopen2(run->file, group_names[g], H5P_DEFAULT)) < 0)
        return gs_h5_fail(err, "%s: cannot open", where);
    return 0;
}

int gs_run_open_objects(gs_run *run, gs_err *err)
{
    run->has_analysis = 0;
    for (int g = 0; g < GS_G_COUNT; g++) {
        hid_t loc;
        if (open_group(run, g, &loc, err) < 0)
            return -1;
        if (loc < 0)
            continue;
        if (g == GS_G_ANALYSIS)
            run->has_analysis = 1;
        int rc = 0;
        for (int id = 0; id < GS_RUN_N_OBJ && rc == 0; id++)
            if (gs_run_objects[id].group == g && gs_run_obj_used(run, id))
                rc = open_dset(run, loc, id, err);
        if (g != GS_G_ROOT)
            H5Gclose(loc);
        if (rc < 0)
            return -1;
    }
    return 0;
}

int gs_run_add_optional(gs_run *run, gs_err *err)
{
    if (!run->has_analysis)
        return 0;
    hid_t loc = -1;
    int rc = 0;
    for (int id = 0; id < GS_RUN_N_OBJ && rc == 0; id++) {
        if (!(gs_run_objects[id].flags & GS_OBJ_OPTIONAL) || run->ds[id] >= 0)
            continue;
        assert(gs_run_objects[id].group == GS_G_ANALYSIS);
        if (loc < 0 && (rc = open_group(run, GS_G_ANALYSIS, &loc, err)) < 0)
            break;
        rc = make_dset(run, loc, id, NULL, err);
        if (rc == 0)
            rc = open_dset(run, loc, id, err);
    }
    if (loc >= 0)
        H5Gclose(loc);
    return rc;
}

int gs_run_close_objects(gs_run *run, gs_err *err)
{
    int rc = 0;
    for (int id = 0; id < GS_RUN_N_OBJ; id++)
        rc |= gs_h5_close(&run->ds[id]);
    return rc ? gs_h5_fail(err, "%s: cannot close a dataset (data may not have reached the "
                           "disk)", run->path)
              : 0;
}

int gs_run_refresh_objects(gs_run *run, gs_err *err)
{
    char where[GS_WHERE_MAX];
    for (int id = 0; id < GS_RUN_N_OBJ; id++)
        if (run->ds[id] >= 0 && H5Drefresh(run->ds[id]) < 0)
            return gs_h5_fail(err, "%s: cannot refresh", gs_run_ds_where(where, run, id));
    return 0;
}

/* ---- rows ---- */

int gs_run_ds_read(gs_run *run, int id, hsize_t first, hsize_t n, void *buf, gs_err *err)
{
    char where[GS_WHERE_MAX];
    return gs_h5_read_rows(run->ds[id], mem_type(gs_run_objects[id].type), first, n, buf,
                           gs_run_ds_where(where, run, id), err);
}

int gs_run_ds_write(gs_run *run, int id, hsize_t first, hsize_t n, const void *buf,
                    gs_err *err)
{
    char where[GS_WHERE_MAX];
    return gs_h5_write_rows(run->ds[id], mem_type(gs_run_objects[id].type), first, n, buf,
                            gs_run_ds_where(where, run, id), err);
}

int gs_run_ds_len(gs_run *run, int id, hsize_t *n, gs_err *err)
{
    char where[GS_WHERE_MAX];
    return gs_h5_dset_len(run->ds[id], n, gs_run_ds_where(where, run, id), err);
}

int gs_run_ds_set_len(gs_run *run, int id, hsize_t n, gs_err *err)
{
    char where[GS_WHERE_MAX];
    return gs_h5_set_len(run->ds[id], n, gs_run_ds_where(where, run, id), err);
}

int gs_run_read_commits(gs_run *run, int id, int64_t **epochs, hsize_t *n, gs_err *err)
{
    char where[GS_WHERE_MAX];
    gs_run_ds_where(where, run, id);
    *epochs = NULL;
    if (gs_run_ds_len(run, id, n, err) < 0)
        return -1;
    if (*n > (hsize_t)1 << 30)
        return gs_err_set(err, "%s: implausibly long (%llu rows)", where,
                          (unsigned long long)*n);
    int64_t *e = malloc((*n ? *n : 1) * sizeof *e);
    if (!e)
        return gs_err_set(err, "%s: out of memory", where);
    if (gs_run_ds_read(run, id, 0, *n, e, err) < 0) {
        free(e);
        return -1;
    }
    while (*n > 0 && e[*n - 1] == GS_RUN_NO_EPOCH)
        (*n)--;
    *epochs = e;
    return 0;
}

int gs_run_start_swmr(gs_run *run, gs_h5_lock_kind kind, gs_err *err)
{
    /* Reopen with H5F_ACC_SWMR_WRITE rather than call H5Fstart_swmr_write: the latter
     * forces HDF5's default 100 metadata read attempts with a doubling sleep, so one
     * corrupt metadata block in an existing file would hang the writer for ages, while
     * an open honours the bounded count of gs_h5_fapl. */
    if (gs_run_close_objects(run, err) < 0)
        return -1;
    if (H5Fclose(run->file) < 0) {
        run->file = -1;
        return gs_h5_fail(err, "%s: cannot close before SWMR writing", run->path);
    }
    hid_t fapl = gs_h5_fapl(0);
    if (fapl < 0)
        return gs_h5_fail(err, "%s: cannot set up file access", run->path);
    run->file = H5Fopen(run->path, H5F_ACC_RDWR | H5F_ACC_SWMR_WRITE, fapl);
    H5Pclose(fapl);
    if (run->file < 0)
        return gs_h5_fail(err, "%s: cannot open for SWMR writing", run->path);
    /* Closing HDF5's descriptor dropped this process's fcntl lock: take it again. */
    gs_h5_unlock_file(&run->lock_fd);
    if ((run->lock_fd = gs_h5_lock_file(run->path, kind, NULL, err)) < 0)
        return -1;
    return gs_run_open_objects(run, err);
}
