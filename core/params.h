/* gs_params: the parameter table. All parameters live in one float array carved by
 * this table (so do gradients and Adam moments, with the same layout); the keys and
 * shapes are TransformerLens state-dict keys, used verbatim in the run file. */
#ifndef GS_PARAMS_H
#define GS_PARAMS_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    int p;         /* modulus */
    int n_vocab;   /* p + 1 input tokens ("=" is token p) */
    int n_out;     /* p + 1 logits, as in the paper's code */
    int n_ctx;     /* 3: a, b, = */
    int d_model, n_heads, d_head, d_mlp;
} gs_dims;

typedef enum {
    GS_W_E, GS_W_POS, GS_W_Q, GS_W_K, GS_W_V, GS_W_O,
    GS_W_IN, GS_B_IN, GS_W_OUT, GS_B_OUT, GS_W_U,
    GS_N_PARAMS
} gs_param_id;

#define GS_MAX_RANK 3

typedef struct {
    const char *key;           /* e.g. "blocks.0.attn.W_Q" */
    int rank;
    int shape[GS_MAX_RANK];    /* row-major (C order), as stored on disk */
    size_t offset;             /* in floats, into the single parameter array */
    size_t count;              /* product of shape */
    double init_std;           /* N(0, init_std^2); 0 means zeros */
} gs_param_info;

void gs_dims_make(gs_dims *d, int p, int d_model, int n_heads, int d_mlp);

/* Fills info[GS_N_PARAMS] and returns the total number of floats. */
size_t gs_params_layout(const gs_dims *d, gs_param_info info[GS_N_PARAMS]);

/* docs/science.md §2 init. Generator: xoshiro256** seeded through splitmix64 from (seed,
 * parameter id), normals by Box-Muller in double, so each tensor's values do not
 * depend on the others' sizes. */
void gs_params_init(float *params, const gs_dims *d, int64_t seed);

/* Sum of squares of all parameters, in double. */
double gs_params_sumsq(const float *params, size_t n);

#endif
