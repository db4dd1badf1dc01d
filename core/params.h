/* gs_params: the parameter table. All parameters live in one float array carved by
 * this table (so do gradients and Adam moments, with the same layout). Each model kind
 * has its own list of tensors (keys and shapes); the keys are used verbatim in the run
 * file. The transformer's are TransformerLens state-dict keys; the MLP's are listed in
 * docs/run-file.md. */
#ifndef GS_PARAMS_H
#define GS_PARAMS_H

#include <stddef.h>
#include <stdint.h>

/* Which network (docs/models.md). */
typedef enum { GS_MODEL_TRANSFORMER = 0, GS_MODEL_MLP = 1, GS_MODEL_COUNT } gs_model_kind;

/* The MLP's hidden nonlinearity: relu; gelu in its exact erf form x*Phi(x) (PyTorch's
 * nn.GELU() default); quad = x^2. */
typedef enum { GS_ACT_RELU = 0, GS_ACT_GELU = 1, GS_ACT_QUAD = 2, GS_ACT_COUNT } gs_act;

#define GS_MLP_MAX_HIDDEN 8 /* hidden layers of the MLP */
#define GS_MAX_LAYERS 8     /* transformer blocks */

typedef struct {
    int p;         /* modulus */
    int n_vocab;   /* input tokens: p + 1 for the transformer ("=" is token p), p for the MLP */
    int n_out;     /* logits: p + 1 for the transformer (as in the paper's code), p for the MLP */
    int n_ctx;     /* 3: a, b, = (the transformer) */
    int d_model, n_heads, d_head, d_mlp; /* transformer; for the MLP d_mlp is the first
                                          * hidden width (the neurons the probes read) */
    gs_model_kind kind;
    int n_layers;  /* transformer blocks */
    /* MLP: learned embedding width (0 = two concatenated one-hots), hidden widths,
     * nonlinearity, biases on every linear layer or none */
    int d_embed;
    int n_hidden, hidden[GS_MLP_MAX_HIDDEN];
    gs_act act;
    int bias;
    /* MLP on images (task mnist, docs/models.md): the input is n_pixels floats, row idx
     * of the model's pixel table (gs_model.pixels); 0 = token inputs as above */
    int n_pixels;
} gs_dims;

/* The transformer's tensors: embeddings, then 8 per block (block l's tensor X is
 * GS_W_X + 8*l), then the unembedding. GS_W_U is its index for one block only;
 * gs_tf_unembed gives it for any depth. */
typedef enum {
    GS_W_E, GS_W_POS, GS_W_Q, GS_W_K, GS_W_V, GS_W_O,
    GS_W_IN, GS_B_IN, GS_W_OUT, GS_B_OUT, GS_W_U,
    GS_N_PARAMS /* tensors of the one-layer transformer */
} gs_param_id;
#define GS_TF_PER_BLOCK 8
static inline int gs_tf_block(int id, int layer) { return id + GS_TF_PER_BLOCK * layer; }
static inline int gs_tf_unembed(const gs_dims *d) { return 2 + GS_TF_PER_BLOCK * d->n_layers; }

/* The MLP's tensors: [embed.W_E if d_embed > 0], then per linear layer k (hidden
 * layers 0..n_hidden-1, then the output layer) its weight and, with biases, its bias. */
static inline int gs_mlp_first_linear(const gs_dims *d) { return d->d_embed > 0 ? 1 : 0; }
static inline int gs_mlp_weight(const gs_dims *d, int k) { return gs_mlp_first_linear(d) + k * (d->bias ? 2 : 1); }

/* Enough for either model at its largest (transformer of GS_MAX_LAYERS blocks). */
#define GS_MAX_TENSORS (3 + GS_TF_PER_BLOCK * GS_MAX_LAYERS)
#define GS_MAX_RANK 3
#define GS_KEY_MAX 32

typedef struct {
    char key[GS_KEY_MAX];      /* e.g. "blocks.0.attn.W_Q" */
    int rank;
    int shape[GS_MAX_RANK];    /* row-major (C order), as stored on disk */
    size_t offset;             /* in floats, into the single parameter array */
    size_t count;              /* product of shape */
    double init_std;           /* N(0, init_std^2); 0 (with init_bound 0) means zeros */
    double init_bound;         /* > 0: U(-init_bound, init_bound) instead */
} gs_param_info;

/* The transformer's dims (one block). */
void gs_dims_make(gs_dims *d, int p, int d_model, int n_heads, int d_mlp);
/* The MLP's dims: d_embed 0 = one-hot inputs. */
void gs_dims_make_mlp(gs_dims *d, int p, int d_embed, int n_hidden, const int *hidden,
                      gs_act act, int bias);

/* Number of tensors of the model (at most GS_MAX_TENSORS). */
int gs_params_count(const gs_dims *d);

/* Fills info[0 .. gs_params_count(d)) and returns the total number of floats. */
size_t gs_params_layout(const gs_dims *d, gs_param_info info[GS_MAX_TENSORS]);

/* Init (docs/science.md §2 for the transformer, docs/models.md for the MLP).
 * Generator: xoshiro256** seeded through splitmix64 from (seed, tensor index), normals
 * by Box-Muller in double, uniforms from 53 random bits, so each tensor's values do
 * not depend on the others' sizes. */
void gs_params_init(float *params, const gs_dims *d, int64_t seed);

/* Sum of squares of all parameters, in double. */
double gs_params_sumsq(const float *params, size_t n);

/* Names for the run file and the command line. */
const char *gs_model_kind_name(gs_model_kind k);
int gs_model_kind_parse(const char *s, gs_model_kind *k);
const char *gs_act_name(gs_act a);
int gs_act_parse(const char *s, gs_act *a);

#endif
