/* gs_config: every option that defines a run (docs/science.md §1-3). Written to /config of the
 * run file as attributes, so a run file alone says how to reproduce it. */
#ifndef GS_CONFIG_H
#define GS_CONFIG_H

#include <stdint.h>

#include "error.h"
#include "params.h"
#include "task.h"

typedef enum { GS_OPT_ADAMW = 0, GS_OPT_ADAM = 1, GS_OPT_SGD = 2, GS_OPT_COUNT } gs_optimizer;
typedef enum { GS_GF_NONE = 0, GS_GF_EMA = 1, GS_GF_MA = 2, GS_GF_COUNT } gs_grokfast;
typedef enum { GS_LOSS_CE = 0, GS_LOSS_STABLEMAX = 1, GS_LOSS_MSE = 2, GS_LOSS_COUNT } gs_loss_kind;

/* The task kind (docs/tasks.md): the modular/group tasks of op, or image
 * classification (Omnigrok's MNIST experiment, on MNIST or Fashion-MNIST). */
typedef enum { GS_TASK_MODULAR = 0, GS_TASK_MNIST = 1, GS_TASK_COUNT } gs_task_kind;
#define GS_DATA_DIR_MAX 1024

typedef struct {
    /* task */
    int p;            /* modulus; tokens 0..p-1 and p meaning "=" */
    gs_op op;
    double frac;      /* fraction of the pairs that train */
    int64_t seed;     /* drives the split (CPython shuffle) and the init */
    /* model */
    int d_model, n_heads, d_mlp; /* d_head = d_model / n_heads */
    /* the network and the batch (format 1.3, docs/models.md); files without them are
     * the one-layer transformer trained full batch */
    gs_model_kind model;
    int n_layers;     /* transformer blocks */
    int d_embed;      /* mlp: learned embedding width; 0 = two concatenated one-hots */
    int n_hidden, hidden[GS_MLP_MAX_HIDDEN]; /* mlp: hidden layer widths */
    gs_act act;       /* mlp: hidden nonlinearity */
    int bias;         /* mlp: 1 = every linear layer has a bias */
    int batch;        /* training examples per optimizer step; 0 = the whole training set */
    /* optimizer (AdamW, PyTorch semantics) */
    double lr, wd, beta1, beta2, eps;
    int warmup;       /* lr_t = lr * min(t / warmup, 1) */
    /* interventions (docs/interventions.md); their defaults are the paper's run, and a
     * run file without them (format < 1.3) reads as these defaults */
    int optimizer;        /* gs_optimizer: AdamW, Adam (coupled L2) or SGD */
    double momentum;      /* SGD only (torch.optim.SGD momentum, no dampening) */
    int wd_to_init;       /* 1: weight decay pulls toward the initial weights, not 0 */
    int grokfast;         /* gs_grokfast: none, EMA or MA gradient filter */
    double gf_alpha, gf_lambda; /* EMA factor; amplification of the filtered gradient */
    int gf_window;        /* MA window in steps */
    int loss;             /* gs_loss_kind: cross-entropy, StableMax or MSE */
    int loss_precision;   /* 64: the loss in float64 (the paper's); 32: in float32 */
    int orthograd;        /* 1: the optimizer gets the gradient orthogonal to each tensor */
    double init_scale;    /* every parameter times this after the init (Omnigrok's alpha) */
    int fix_norm;         /* 1: rescale all weights to the initial norm after every step */
    double output_scale;  /* logits times this, lr divided by its square (lazy vs rich) */
    /* schedule */
    long epochs;      /* total optimizer steps; checkpoints 0..epochs */
    long every;       /* checkpoint interval */
    double stop_test_loss; /* stop once test loss < this; 0 = never */
    /* numerics: 1 = subnormal floats flushed to zero on every computing thread (the
     * default: every epoch costs the same, core/fpenv.h); 0 = IEEE subnormals. Runs
     * written before this option existed computed with IEEE subnormals. */
    int flush_subnormals;
    /* image classification (format 1.3, docs/tasks.md "Images"); a file without task
     * is modular. With GS_TASK_MNIST, p is the class count (10) and op, frac are
     * unused; the model is the MLP on pixels. */
    int task;          /* gs_task_kind */
    char data_dir[GS_DATA_DIR_MAX]; /* the IDX files' directory (absolute); "" if modular */
    int train_size;    /* the first train_size training images train */
    int test_size;     /* the first test_size test images test */
} gs_config;

/* The paper's defaults: p=113 add frac 0.3 seed 0, 128/4/512, lr 1e-3 wd 1 betas
 * (0.9, 0.98), 10 warm-up steps, 40,000 epochs, checkpoint every 100. */
void gs_config_default(gs_config *cfg);

/* Checks ranges and consistency (p >= 3, 0 < frac < 1, div needs prime p, memory
 * bounds...). Returns 0 or -1 with one line in err. */
int gs_config_validate(const gs_config *cfg, gs_err *err);

/* Names of the interventions' choices, as the command line and /config spell them
 * ("adamw", "ema", "stablemax"...); parse returns 0 or -1 for an unknown name. */
const char *gs_task_kind_name(int kind); /* "modular", "mnist" */
int gs_task_kind_parse(const char *s, int *kind);
/* Where the split's indices lie: p*p pairs for modular (both sets); image indices below
 * train_size and test_size for mnist (test: whether the bound is the test set's). */
int64_t gs_config_index_bound(const gs_config *cfg, int test);
/* A new run's split: the paper's (gs_split_make) for modular; for mnist the first
 * train_size training and test_size test images, 0..N-1 and 0..M-1. */
int gs_config_split(const gs_config *cfg, gs_split *out, gs_err *err);
/* Task mnist: the headers of the four IDX files in data_dir announce at least
 * train_size and test_size images (cheap: nothing else is read), so a resume whose
 * images are gone is refused before the run file is opened for writing. 0 for modular.
 * The message names the directory as /config data_dir. */
int gs_config_check_data(const gs_config *cfg, gs_err *err);
const char *gs_optimizer_name(int kind);
const char *gs_grokfast_name(int kind);
const char *gs_loss_name(int kind);
int gs_optimizer_parse(const char *s, int *kind);
int gs_grokfast_parse(const char *s, int *kind);
int gs_loss_parse(const char *s, int *kind);

/* The model's dims for this config. */
void gs_config_dims(const gs_config *cfg, gs_dims *d);

/* "200,200" <-> widths; parse returns -1 with a message naming opt on a bad list. */
int gs_hidden_parse(const char *opt, const char *s, int *n, int hidden[GS_MLP_MAX_HIDDEN],
                    gs_err *err);
void gs_hidden_format(char *out, size_t size, int n, const int *hidden);

/* One line for people: the model, its sizes, the computation path the trainer takes
 * (the per-token "fast path" exists for the one-block transformer only) and the
 * batch, e.g. "transformer, 1 block, d_model 128, 4 heads, d_mlp 512; fast path; full
 * batch". */
void gs_config_describe_model(const gs_config *cfg, char *out, size_t size);

/* Which of the probes' measures the model has (the run file's /analysis attribute
 * model_measures, docs/models.md): "all" for the transformer; for the MLP, which
 * neurons are clustered and which measures are NaN and why. */
#define GS_MODEL_NOTE_MAX 480
void gs_config_model_note(const gs_config *cfg, char *out, size_t size);

#endif
