/* gs_probe: what is measured on one checkpoint (docs/science.md §4): the model on all p*p inputs,
 * train/test loss and accuracy as the trainer computes them, restricted and excluded
 * loss, Fourier norms of the embedding and of the neuron-logit map with their Gini
 * coefficients, the total sum of squared weights, and the neuron clusters that define
 * the key frequencies.
 *
 * One context per run, created once and reused for every checkpoint: everything is
 * allocated in gs_probe_create (the model workspace, the FFTW plans, and one arena for
 * the rest), nothing per call, so memory does not grow with the number of checkpoints.
 * A context runs the model on its own worker threads (core/pool.h, as many as OpenBLAS
 * uses) and is not itself thread-safe; see fourier.h on creating several.
 *
 * Inputs are the pairs i = a*p + b, all p*p of them. Pairs without an answer (div by
 * b = 0) have target -1: the model still runs on them but they are left out of every
 * loss and accuracy.
 *
 * The Fourier measures are taken in the operation's circuit basis (core/circuit.h): the
 * Fourier basis of Z_n, n = basis.n, over the tokens that are group elements, in
 * element order (for mul and div on a prime p, the discrete-log order). Clusters
 * transform each neuron's n x n grid of those tokens; restricted and excluded loss
 * use the directions cos/sin w s over the pairs whose elements combine into s (the
 * "circuit inputs"; for mul and div, the pairs without token 0). Over tokens, the basis
 * is gs_probe_basis's p x p matrix: the n Fourier rows, then one indicator row per
 * token outside the group. For add and sub everything is as docs/science.md §4 says, on Z_p. */
#ifndef GS_PROBE_MEASURES_H
#define GS_PROBE_MEASURES_H

#include <stdint.h>

#include "circuit.h"
#include "error.h"
#include "fourier.h"
#include "model.h"
#include "task.h"
#include "trainer.h"

#define GS_PROBE_CLUSTER_THRESHOLD 0.85 /* docs/science.md §4 */

typedef struct {
    gs_dims d;
    gs_op op;
    int p, n_inputs;   /* n_inputs = p*p */
    gs_circuit basis;  /* the circuit basis of op; basis.n = 0: no Fourier measures */
    gs_fourier fourier; /* over Z_n, n = basis.n (unset, n_freq 0, when n = 0) */
    gs_model model;    /* GS_PATH_FAST, max_batch = n_train (as the trainer's) */
    /* what the model has to measure (docs/models.md): an embedding matrix W_E (the
     * transformer's, the MLP's with learned embeddings) of width embed_d, and a linear
     * neuron-logit map W_L = W_out W_U (the transformer's only; of its last block); the
     * neurons are d.d_mlp (the MLP's first hidden layer; the transformer's last block) */
    int has_embed, has_neuron_logit, embed_d;
    struct gs_pool *pool; /* the model's worker threads (gs_pool_default_threads) */
    int flush_subnormals; /* the run's numerics (gs_config): the forward uses them */
    int n_train, n_test;
    int n_rest;        /* inputs in neither set: for div the b = 0 pairs, else none */
    int n_defined;     /* inputs whose answer is defined */
    int n_circuit_defined; /* circuit inputs whose answer is defined (restricted loss) */
    int n_train_circuit;   /* training inputs that are circuit inputs (excluded loss) */
    int32_t *train_idx, *test_idx, *rest_idx;  /* copies of the split; the rest */
    int32_t *train_tgt, *test_tgt, *rest_tgt;  /* answers; rest_tgt dummy 0s */
    int32_t *target;   /* [p*p] answer of each input, -1 where undefined */
    int32_t *circuit;  /* [p*p] the element s the circuit combines input i into
                        * (gs_circuit_combine: (a+b) mod p for add), -1 if none */
    int n_circuit;     /* inputs with circuit[i] >= 0 */
    /* filled by gs_probe_forward */
    double *logits;    /* L [p*p, p]: "=" column dropped, promoted to double */
    float *grid;       /* [d_mlp, p*p]: post-ReLU activation of neuron n on input i */
    int have_logits, have_grid;
    /* scratch and results, carved from one arena */
    double *sums;      /* [n, p] sum of L rows per circuit element s */
    double *coef;      /* [2 n_freq, p] u^T L for each key direction */
    double *proj;      /* [n, p] sum_u u(s) (u^T L) per element s */
    double *rlogits;   /* [n, p] L_restricted per element s (plus the mean) */
    double *row;       /* [p] */
    double *partial;   /* [n_train / 256 + 1] per-chunk sums of the excluded loss */
    double *w_e;       /* [p, d_model] B W_E[:p] (B = gs_probe_basis) */
    double *w_out;     /* [d_mlp, d_model] */
    double *w_u;       /* [d_model, p] W_U[:, :p], columns in basis token order */
    double *w_l;       /* [d_mlp, p] W_out W_U[:, :p], then W_L B^T */
    double *embed_norm, *neuron_logit_norm; /* [p] each */
    double *sort;      /* [max(p, d_mlp)] */
    double *g_in, *g_out; /* [n, n] one neuron's grid and its 2D transform */
    int *neuron_freq, *best_freq; /* [d_mlp] */
    double *frac;      /* [d_mlp] */
    int *cluster_size; /* [n_freq + 1] */
    int *key_freqs;    /* [n_freq] */
    int *key_seen;     /* [n_freq + 1] */
    void *arena;
} gs_probe;

/* Creates the context for a run of dimensions d and operation op with the given split
 * (indices a*p + b, as in /data/train_idx and /data/test_idx; copied). Checks the split
 * (indices in range, no repeats, answers defined): a corrupt file gives an error. */
int gs_probe_create(gs_probe *pr, const gs_dims *d, gs_op op, const int32_t *train_idx,
                    int n_train, const int32_t *test_idx, int n_test, gs_err *err);
void gs_probe_free(gs_probe *pr);

/* The forward pass computes in the run's subnormal mode (gs_config.flush_subnormals),
 * so recomputed metrics equal the trainer's bit for bit. IEEE (0) until set. */
void gs_probe_set_flush_subnormals(gs_probe *pr, int flush);

/* Loads the parameters (copied into the model) and runs the model on all p*p inputs:
 * fills pr->logits, and pr->grid if want_grid. The batches are gs_trainer_measure's
 * (the test set in chunks of n_train, then the training set in one batch, in split
 * order; then the rest), so *metrics (over the p+1 classes; may be NULL) equal the
 * trainer's per-epoch metrics of the same weights bit for bit. */
void gs_probe_forward(gs_probe *pr, const float *params, int want_grid,
                      gs_epoch_metrics *metrics);

/* Restricted loss (CE over the circuit inputs with a defined answer: all of them for
 * add) and excluded loss (CE over the training inputs among the circuit inputs) of docs/science.md
 * §4 for the key frequencies (distinct, each in 1..n_freq; n_key may be 0), from the
 * logits of the last gs_probe_forward. Float64, p classes; the mean the restricted
 * logits keep is over the circuit inputs. Defined where the op has a circuit (u = cos/sin
 * w s: w(a+b) for add, w(a-b) for sub, w(log a +- log b) for mul and div on a prime p);
 * otherwise an error naming the op. */
int gs_probe_restricted(gs_probe *pr, const int *key_freqs, int n_key, double *restricted,
                        double *excluded, gs_err *err);
static inline int gs_probe_has_circuit(const gs_probe *pr) { return pr->basis.rule != GS_CIRCUIT_NONE; }

/* Fourier norms of the parameters loaded by the last gs_probe_forward, in the basis B of
 * gs_probe_basis: embed_norm[j] = ||(B W_E[:p])[j, :]||, neuron_logit_norm[j] =
 * ||(W_L B^T)[:, j]|| with W_L = W_out W_U[:, :p]; j = 0..p-1 in B's row order (for add,
 * B = F of docs/science.md §4). All NaN when the op has no basis. Either pointer may be NULL. */
void gs_probe_fourier_norms(gs_probe *pr, double *embed_norm, double *neuron_logit_norm);

/* The circuit basis over the tokens, B [p, p] (as /analysis/fourier_basis stores it):
 * row j < n is Fourier row j of Z_n read at each token's element, B[j, x] =
 * F_n[j, index[x]] (0 for a token outside the group); rows n..p-1 are the indicators of
 * the tokens outside the group, ascending. Orthonormal. For add and sub B = F. Not
 * defined when the op has no basis (n = 0): returns -1 and leaves B alone. */
int gs_probe_basis(const gs_probe *pr, double *B);

/* Gini coefficient of a non-negative vector (Hurley & Rickard, docs/science.md §4); scratch holds
 * n doubles. One-hot gives 1 - 1/n, constant 0; all-zero, negative, NaN or empty
 * input gives NaN. */
double gs_gini(const double *c, int n, double *scratch);

/* Everything measured on one checkpoint. The arrays point into the context and stay
 * valid until its next call. */
typedef struct {
    gs_epoch_metrics metrics;         /* train/test loss and accuracy, p+1 classes */
    double restricted_loss, excluded_loss; /* NaN when the op has no circuit */
    double gini_embed, gini_neuron_logit;  /* over the n Fourier components; NaN: no basis */
    double weight_norm;               /* sum of squares of all parameters, in double */
    const double *embed_fourier_norm; /* [p] */
    const double *neuron_logit_norm;  /* [p] */
} gs_probe_measures;

/* Forward (without the activation grid), restricted/excluded loss for key_freqs, norms,
 * Ginis and weight norm. Errors only on bad key frequencies. */
int gs_probe_measure(gs_probe *pr, const float *params, const int *key_freqs, int n_key,
                     gs_probe_measures *out, gs_err *err);
/* The same, with the activation grid filled by the same forward when want_grid (for a
 * caller that needs it next, e.g. the early-warning CKA: one forward, not two). */
int gs_probe_measure_grid(gs_probe *pr, const float *params, const int *key_freqs, int n_key,
                          int want_grid, gs_probe_measures *out, gs_err *err);

/* Neuron clusters (docs/science.md §4) from the activation grid of the last
 * gs_probe_forward(..., want_grid = 1), in the circuit basis. When the op has no basis,
 * no neuron has a cluster or a best frequency (frac NaN) and there are no key
 * frequencies. */
typedef enum {
    GS_CLUSTER_THRESHOLD, /* best frequency if its fraction >= threshold (docs/science.md §4.3) */
    GS_CLUSTER_BEST       /* the paper's notebook: best frequency, no threshold */
} gs_cluster_rule;

typedef struct {
    const int *neuron_freq;  /* [d_mlp] cluster 1..n_freq, or -1 (none / no variance) */
    const int *best_freq;    /* [d_mlp] best frequency whatever its fraction; -1 if no variance */
    const double *frac;      /* [d_mlp] fraction of the non-constant variance in best_freq; 0 if none */
    const int *cluster_size; /* [n_freq + 1]: [w] neurons in cluster w, [0] in none */
    const int *key_freqs;    /* ascending: clusters with at least 1% of the neurons */
    int n_key;
} gs_cluster_result;

int gs_probe_clusters(gs_probe *pr, gs_cluster_rule rule, double threshold,
                      gs_cluster_result *out, gs_err *err);

#endif
