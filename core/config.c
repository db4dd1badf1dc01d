#include "config.h"
#include "idx.h"
#include "images.h"

#include <math.h>
#include <string.h>
#include <stdio.h>
#include <stdlib.h>

void gs_config_default(gs_config *cfg)
{
    *cfg = (gs_config){
        .p = 113, .op = GS_OP_ADD, .frac = 0.3, .seed = 0,
        .d_model = 128, .n_heads = 4, .d_mlp = 512,
        .model = GS_MODEL_TRANSFORMER, .n_layers = 1, .d_embed = 128, .n_hidden = 2,
        .hidden = {200, 200}, .act = GS_ACT_RELU, .bias = 1, .batch = 0,
        .lr = 1e-3, .wd = 1.0, .beta1 = 0.9, .beta2 = 0.98, .eps = 1e-8, .warmup = 10,
        .optimizer = GS_OPT_ADAMW, .momentum = 0.0, .wd_to_init = 0,
        .grokfast = GS_GF_NONE, .gf_alpha = 0.98, .gf_lambda = 2.0, .gf_window = 100,
        .loss = GS_LOSS_CE, .loss_precision = 64, .orthograd = 0, .init_scale = 1.0,
        .fix_norm = 0, .output_scale = 1.0,
        .epochs = 40000, .every = 100, .stop_test_loss = 0.0, .flush_subnormals = 1,
        .task = GS_TASK_MODULAR, .data_dir = "", .train_size = 1000,
        .test_size = 10000, /* the whole test set of MNIST and Fashion-MNIST */
    };
}

/* Upper bounds keep every size product far inside int32/size_t and the training
 * workspace within a machine's memory (p's own bound is GS_P_MAX, task.h). Messages
 * name the /config field, which is also what a run file stores: the command line
 * owns its flag names. */
#define GS_MAX_WIDTH 8192
#define GS_MAX_EPOCHS 100000000L
#define GS_MAX_ACT_FLOATS (2UL << 30) /* 8 GiB of float activations */
#define GS_MAX_IMAGES 1000000 /* MNIST has 60,000; keeps pixel counts inside size_t math */

static const char *const optimizer_names[GS_OPT_COUNT] = {"adamw", "adam", "sgd"};
static const char *const grokfast_names[GS_GF_COUNT] = {"none", "ema", "ma"};
static const char *const loss_names[GS_LOSS_COUNT] = {"ce", "stablemax", "mse"};

static const char *const task_names[GS_TASK_COUNT] = {"modular", "mnist"};
const char *gs_task_kind_name(int k) { return k >= 0 && k < GS_TASK_COUNT ? task_names[k] : "?"; }

int64_t gs_config_index_bound(const gs_config *c, int test)
{
    if (c->task == GS_TASK_MNIST)
        return test ? c->test_size : c->train_size;
    return (int64_t)c->p * c->p;
}

int gs_config_split(const gs_config *c, gs_split *out, gs_err *err)
{
    if (c->task != GS_TASK_MNIST)
        return gs_split_make(out, c->p, c->op, c->frac, c->seed, err);
    memset(out, 0, sizeof *out);
    const int n = c->train_size + c->test_size;
    int32_t *block = malloc((size_t)n * sizeof *block);
    if (!block)
        return gs_err_set(err, "out of memory allocating the split");
    for (int i = 0; i < c->train_size; i++)
        block[i] = i;
    for (int i = 0; i < c->test_size; i++)
        block[c->train_size + i] = i;
    *out = (gs_split){.n_train = c->train_size, .n_test = c->test_size, .train_idx = block,
                      .test_idx = block + c->train_size};
    return 0;
}

int gs_config_check_data(const gs_config *c, gs_err *err)
{
    if (c->task != GS_TASK_MNIST)
        return 0;
    static const char *const names[4] = {GS_IMAGES_TRAIN_IMAGES, GS_IMAGES_TRAIN_LABELS,
                                         GS_IMAGES_TEST_IMAGES, GS_IMAGES_TEST_LABELS};
    for (int k = 0; k < 4; k++) {
        gs_idx f;
        gs_err inner;
        if (gs_idx_open(&f, c->data_dir, names[k], k % 2 ? GS_IDX_LABELS : GS_IDX_IMAGES, &inner) != 0)
            return gs_err_set(err, "the run's images (data_dir %s): %s", c->data_dir, inner.msg);
        const int want = k < 2 ? c->train_size : c->test_size;
        const int short_by = f.count < (uint32_t)want;
        if (short_by)
            gs_err_set(err, "the run's images (data_dir %s): %s holds %u items, the run uses %d",
                       c->data_dir, f.path, (unsigned)f.count, want);
        gs_idx_close(&f);
        if (short_by)
            return -1;
    }
    return 0;
}

const char *gs_optimizer_name(int k) { return k >= 0 && k < GS_OPT_COUNT ? optimizer_names[k] : "?"; }
const char *gs_grokfast_name(int k) { return k >= 0 && k < GS_GF_COUNT ? grokfast_names[k] : "?"; }
const char *gs_loss_name(int k) { return k >= 0 && k < GS_LOSS_COUNT ? loss_names[k] : "?"; }

static int parse_name(const char *s, const char *const *names, int n, int *kind)
{
    for (int i = 0; i < n; i++)
        if (strcmp(s, names[i]) == 0) {
            *kind = i;
            return 0;
        }
    return -1;
}

int gs_optimizer_parse(const char *s, int *k) { return parse_name(s, optimizer_names, GS_OPT_COUNT, k); }
int gs_grokfast_parse(const char *s, int *k) { return parse_name(s, grokfast_names, GS_GF_COUNT, k); }
int gs_loss_parse(const char *s, int *k) { return parse_name(s, loss_names, GS_LOSS_COUNT, k); }
int gs_task_kind_parse(const char *s, int *k) { return parse_name(s, task_names, GS_TASK_COUNT, k); }

/* The interventions' ranges, and the combinations that contradict each other. */
static int gs_config_validate_interventions(const gs_config *c, gs_err *err)
{
    if (c->optimizer < 0 || c->optimizer >= GS_OPT_COUNT)
        return gs_err_set(err, "optimizer = %d is unknown", c->optimizer);
    if (!(c->momentum >= 0.0 && c->momentum < 1.0))
        return gs_err_set(err, "momentum = %g must lie in [0, 1)", c->momentum);
    if (c->momentum != 0.0 && c->optimizer != GS_OPT_SGD)
        return gs_err_set(err, "momentum = %g needs optimizer sgd (adam and adamw have beta1)",
                          c->momentum);
    if (c->wd_to_init != 0 && c->wd_to_init != 1)
        return gs_err_set(err, "wd_to_init = %d must be 0 or 1", c->wd_to_init);
    if (c->wd_to_init && c->wd == 0.0)
        return gs_err_set(err, "wd_to_init needs a weight decay wd > 0");
    if (c->grokfast < 0 || c->grokfast >= GS_GF_COUNT)
        return gs_err_set(err, "grokfast = %d is unknown", c->grokfast);
    if (!(c->gf_alpha >= 0.0 && c->gf_alpha < 1.0))
        return gs_err_set(err, "gf_alpha = %g must lie in [0, 1)", c->gf_alpha);
    if (!(c->gf_lambda >= 0.0 && isfinite(c->gf_lambda)))
        return gs_err_set(err, "gf_lambda = %g must be a number >= 0", c->gf_lambda);
    if (c->gf_window < 1 || c->gf_window > 100000)
        return gs_err_set(err, "gf_window = %d is out of range 1..100000", c->gf_window);
    /* the MA filter does nothing until its window is full: a run shorter than the
     * window would silently be the baseline */
    if (c->grokfast == GS_GF_MA && c->gf_window > c->epochs)
        return gs_err_set(err, "gf_window = %d is longer than the run (epochs = %ld): the MA "
                          "filter would never act", c->gf_window, c->epochs);
    if (c->loss < 0 || c->loss >= GS_LOSS_COUNT)
        return gs_err_set(err, "loss = %d is unknown", c->loss);
    if (c->loss_precision != 32 && c->loss_precision != 64)
        return gs_err_set(err, "loss_precision = %d must be 32 or 64", c->loss_precision);
    if (c->orthograd != 0 && c->orthograd != 1)
        return gs_err_set(err, "orthograd = %d must be 0 or 1", c->orthograd);
    if (!(c->init_scale > 0.0 && c->init_scale <= 1e6))
        return gs_err_set(err, "init_scale = %g must lie in (0, 1e6]", c->init_scale);
    if (c->fix_norm != 0 && c->fix_norm != 1)
        return gs_err_set(err, "fix_norm = %d must be 0 or 1", c->fix_norm);
    /* Omnigrok holds the norm fixed with no weight decay: a decay would fight the
     * rescaling every step */
    if (c->fix_norm && c->wd != 0.0)
        return gs_err_set(err, "fix_norm holds the weight norm fixed, which contradicts weight "
                          "decay wd = %g (use wd 0)", c->wd);
    if (!(c->output_scale > 0.0 && c->output_scale <= 1e6))
        return gs_err_set(err, "output_scale = %g must lie in (0, 1e6]", c->output_scale);
    return 0;
}

/* The image task: the MLP on 784 pixels, 10 classes, image counts in range. */
static int gs_config_validate_images(const gs_config *c, gs_err *err)
{
    if (c->model != GS_MODEL_MLP)
        return gs_err_set(err, "task mnist needs model mlp (the transformer reads tokens, not images)");
    if (c->p != GS_IMAGES_CLASSES)
        return gs_err_set(err, "task mnist has p = %d classes, not %d", GS_IMAGES_CLASSES, c->p);
    if (c->d_embed != 0)
        return gs_err_set(err, "task mnist takes pixels as input: d_embed = %d must be 0", c->d_embed);
    if (c->data_dir[0] == '\0')
        return gs_err_set(err, "task mnist needs data_dir, the directory of the IDX files");
    if (c->train_size < 1 || c->train_size > GS_MAX_IMAGES)
        return gs_err_set(err, "train_size = %d is out of range 1..%d", c->train_size, GS_MAX_IMAGES);
    if (c->test_size < 1 || c->test_size > GS_MAX_IMAGES)
        return gs_err_set(err, "test_size = %d is out of range 1..%d", c->test_size, GS_MAX_IMAGES);
    return 0;
}

int gs_config_validate(const gs_config *c, gs_err *err)
{
    if (c->task != GS_TASK_MODULAR && c->task != GS_TASK_MNIST)
        return gs_err_set(err, "task = %d is unknown", c->task);
    if (c->task == GS_TASK_MNIST ? gs_config_validate_images(c, err) < 0
                                 : gs_task_check(c->p, c->op, c->frac, err) < 0)
        return -1;
    if (c->d_model < 1 || c->d_model > GS_MAX_WIDTH)
        return gs_err_set(err, "d_model = %d is out of range 1..%d", c->d_model, GS_MAX_WIDTH);
    if (c->n_heads < 1 || c->n_heads > c->d_model || c->d_model % c->n_heads != 0)
        return gs_err_set(err, "n_heads = %d must divide d_model = %d", c->n_heads, c->d_model);
    if (c->d_mlp < 1 || c->d_mlp > GS_MAX_WIDTH)
        return gs_err_set(err, "d_mlp = %d is out of range 1..%d", c->d_mlp, GS_MAX_WIDTH);
    if (c->model < 0 || c->model >= GS_MODEL_COUNT)
        return gs_err_set(err, "model = %d is unknown", (int)c->model);
    if (c->n_layers < 1 || c->n_layers > GS_MAX_LAYERS)
        return gs_err_set(err, "n_layers = %d is out of range 1..%d", c->n_layers, GS_MAX_LAYERS);
    if (c->d_embed < 0 || c->d_embed > GS_MAX_WIDTH)
        return gs_err_set(err, "d_embed = %d is out of range 0..%d", c->d_embed, GS_MAX_WIDTH);
    if (c->n_hidden < 1 || c->n_hidden > GS_MLP_MAX_HIDDEN)
        return gs_err_set(err, "hidden has %d layers, expected 1..%d", c->n_hidden,
                          GS_MLP_MAX_HIDDEN);
    for (int i = 0; i < c->n_hidden; i++)
        if (c->hidden[i] < 1 || c->hidden[i] > GS_MAX_WIDTH)
            return gs_err_set(err, "hidden width %d is out of range 1..%d", c->hidden[i],
                              GS_MAX_WIDTH);
    if (c->act < 0 || c->act >= GS_ACT_COUNT)
        return gs_err_set(err, "act = %d is unknown", (int)c->act);
    if (c->bias != 0 && c->bias != 1)
        return gs_err_set(err, "bias = %d must be 0 or 1", c->bias);
    if (c->batch < 0)
        return gs_err_set(err, "batch = %d must be >= 0 (0: full batch)", c->batch);
    if (!(c->lr > 0.0 && isfinite(c->lr)))
        return gs_err_set(err, "lr = %g must be a positive number", c->lr);
    if (!(c->wd >= 0.0 && isfinite(c->wd)))
        return gs_err_set(err, "wd = %g must be a number >= 0", c->wd);
    if (!(c->beta1 >= 0.0 && c->beta1 < 1.0))
        return gs_err_set(err, "beta1 = %g must lie in [0, 1)", c->beta1);
    if (!(c->beta2 >= 0.0 && c->beta2 < 1.0))
        return gs_err_set(err, "beta2 = %g must lie in [0, 1)", c->beta2);
    if (!(c->eps > 0.0 && isfinite(c->eps)))
        return gs_err_set(err, "eps = %g must be positive", c->eps);
    if (c->warmup < 1)
        return gs_err_set(err, "warmup = %d must be >= 1", c->warmup);
    if (gs_config_validate_interventions(c, err) < 0)
        return -1;
    if (c->epochs < 1 || c->epochs > GS_MAX_EPOCHS)
        return gs_err_set(err, "epochs = %ld is out of range 1..%ld", c->epochs, GS_MAX_EPOCHS);
    if (c->every < 1 || c->every > GS_MAX_EPOCHS)
        return gs_err_set(err, "every = %ld is out of range 1..%ld", c->every, GS_MAX_EPOCHS);
    if (!(c->stop_test_loss >= 0.0 && isfinite(c->stop_test_loss)))
        return gs_err_set(err, "stop_test_loss = %g must be a number >= 0", c->stop_test_loss);
    /* The largest activation buffer is the p*p analysis grid times the widest layer. */
    double grid = (double)c->p * c->p;
    double widest = c->d_mlp > 3 * c->d_model ? c->d_mlp : 3 * c->d_model;
    if (c->model == GS_MODEL_MLP) {
        widest = c->d_embed > 0 ? 2.0 * c->d_embed : 0.0;
        for (int i = 0; i < c->n_hidden; i++)
            widest = widest > 2.0 * c->hidden[i] ? widest : 2.0 * c->hidden[i];
    } else {
        widest *= c->n_layers;
    }
    if (c->task == GS_TASK_MODULAR && grid * widest * 4.0 > (double)GS_MAX_ACT_FLOATS)
        return gs_err_set(err, "p = %d with these widths needs %.1f GiB of activations; too "
                          "large", c->p, grid * widest * 4.0 * 4.0 / 1073741824.0);
    return 0;
}

void gs_config_dims(const gs_config *c, gs_dims *d)
{
    if (c->model == GS_MODEL_MLP) {
        gs_dims_make_mlp(d, c->p, c->d_embed, c->n_hidden, c->hidden, c->act, c->bias);
        if (c->task == GS_TASK_MNIST)
            d->n_pixels = GS_IMAGES_PIXELS;
        return;
    }
    gs_dims_make(d, c->p, c->d_model, c->n_heads, c->d_mlp);
    d->n_layers = c->n_layers;
}

int gs_hidden_parse(const char *opt, const char *s, int *n, int hidden[GS_MLP_MAX_HIDDEN],
                    gs_err *err)
{
    int k = 0;
    const char *at = s;
    for (;;) {
        char *end = (char *)at;
        long v = *at >= '0' && *at <= '9' ? strtol(at, &end, 10) : 0;
        if (end == at || v < 1 || v > GS_MAX_WIDTH || (*end != ',' && *end != '\0'))
            return gs_err_set(err, "%s: '%s' is not a list of widths 1..%d like 200,200", opt,
                              s, GS_MAX_WIDTH);
        if (k == GS_MLP_MAX_HIDDEN)
            return gs_err_set(err, "%s: '%s' has more than %d layers", opt, s,
                              GS_MLP_MAX_HIDDEN);
        hidden[k++] = (int)v;
        if (*end == '\0')
            break;
        at = end + 1;
    }
    *n = k;
    return 0;
}

void gs_hidden_format(char *out, size_t size, int n, const int *hidden)
{
    size_t len = 0;
    out[0] = '\0';
    for (int i = 0; i < n && len < size; i++)
        len += (size_t)snprintf(out + len, size - len, "%s%d", i ? "," : "", hidden[i]);
}

void gs_config_describe_model(const gs_config *c, char *out, size_t size)
{
    char batch[64];
    if (c->batch > 0)
        snprintf(batch, sizeof batch, "batch %d", c->batch);
    else
        snprintf(batch, sizeof batch, "full batch");
    if (c->model == GS_MODEL_MLP) {
        char hidden[GS_MLP_MAX_HIDDEN * 8], input[64];
        gs_hidden_format(hidden, sizeof hidden, c->n_hidden, c->hidden);
        if (c->task == GS_TASK_MNIST)
            snprintf(input, sizeof input, "%d pixel inputs", GS_IMAGES_PIXELS);
        else if (c->d_embed > 0)
            snprintf(input, sizeof input, "learned embeddings d_embed %d", c->d_embed);
        else
            snprintf(input, sizeof input, "one-hot inputs");
        snprintf(out, size, "mlp, %s, hidden %s, %s, %s; %s", input, hidden, gs_act_name(c->act),
                 c->bias ? "biases" : "no biases", batch);
        return;
    }
    /* the trainer runs every transformer on its fast path (one block or several) */
    snprintf(out, size, "transformer, %d block%s, d_model %d, %d heads, d_mlp %d; fast path; %s",
             c->n_layers, c->n_layers == 1 ? "" : "s", c->d_model, c->n_heads, c->d_mlp, batch);
}

void gs_config_model_note(const gs_config *c, char *out, size_t size)
{
    if (c->model == GS_MODEL_TRANSFORMER) {
        if (c->n_layers == 1)
            snprintf(out, size, "all: the transformer has the embedding W_E, the neurons of its "
                     "MLP and the neuron-logit map W_out W_U");
        else
            snprintf(out, size, "all: the embedding W_E; the neurons (at the last position) and "
                     "the neuron-logit map W_out W_U are those of the last of the %d blocks, "
                     "whose MLP feeds the logits linearly", c->n_layers);
        return;
    }
    if (c->task == GS_TASK_MNIST) {
        snprintf(out, size, "mnist: images have no tokens and no group, so the MLP on pixels "
                 "has no embedding matrix, no neuron clusters and no key frequencies; only the "
                 "model-agnostic measures apply (train/test loss and accuracy, weight norm, "
                 "distance from the init)");
        return;
    }
    snprintf(out, size, "mlp: neuron clusters and key frequencies from the first hidden layer's "
             "%d neurons; restricted and excluded loss from the logits; %s; no linear "
             "neuron-logit map (W_out W_U is the transformer's), so neuron_logit_fourier_norm "
             "and gini_neuron_logit are NaN", c->hidden[0],
             c->d_embed > 0 ? "embedding norms and gini_embed from embed.W_E"
                            : "one-hot inputs have no embedding matrix, so embed_fourier_norm "
                              "and gini_embed are NaN");
}
