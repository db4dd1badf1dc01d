#include "params.h"

#include <assert.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "rng.h"

void gs_dims_make(gs_dims *d, int p, int d_model, int n_heads, int d_mlp)
{
    assert(n_heads > 0 && d_model % n_heads == 0);
    *d = (gs_dims){.p = p, .n_vocab = p + 1, .n_out = p + 1, .n_ctx = 3,
                   .d_model = d_model, .n_heads = n_heads, .d_head = d_model / n_heads,
                   .d_mlp = d_mlp, .kind = GS_MODEL_TRANSFORMER, .n_layers = 1};
}

void gs_dims_make_mlp(gs_dims *d, int p, int d_embed, int n_hidden, const int *hidden,
                      gs_act act, int bias)
{
    assert(n_hidden >= 1 && n_hidden <= GS_MLP_MAX_HIDDEN && d_embed >= 0);
    *d = (gs_dims){.p = p, .n_vocab = p, .n_out = p, .n_ctx = 2, .d_mlp = hidden[0],
                   .kind = GS_MODEL_MLP, .d_embed = d_embed, .n_hidden = n_hidden,
                   .act = act, .bias = bias};
    for (int i = 0; i < n_hidden; i++)
        d->hidden[i] = hidden[i];
}

int gs_params_count(const gs_dims *d)
{
    if (d->kind == GS_MODEL_MLP)
        return gs_mlp_weight(d, d->n_hidden + 1);
    return gs_tf_unembed(d) + 1;
}

static void set(gs_param_info *pi, const char *key, int rank, int s0, int s1, int s2, double std)
{
    snprintf(pi->key, sizeof pi->key, "%s", key);
    pi->rank = rank;
    pi->shape[0] = s0;
    pi->shape[1] = s1;
    pi->shape[2] = s2;
    pi->count = 1;
    for (int i = 0; i < rank; i++)
        pi->count *= (size_t)pi->shape[i];
    for (int i = rank; i < GS_MAX_RANK; i++)
        pi->shape[i] = 1;
    pi->init_std = std;
    pi->init_bound = 0.0;
}

static void layout_transformer(const gs_dims *d, gs_param_info *info)
{
    const int D = d->d_model, H = d->n_heads, E = d->d_head, M = d->d_mlp;
    const double s = 1.0 / sqrt((double)D);
    set(&info[GS_W_E], "embed.W_E", 2, d->n_vocab, D, 0, s);
    set(&info[GS_W_POS], "pos_embed.W_pos", 2, d->n_ctx, D, 0, s);
    for (int l = 0; l < d->n_layers; l++) {
        char k[GS_KEY_MAX];
#define KEY(name) (snprintf(k, sizeof k, "blocks.%d." name, l), k)
        set(&info[gs_tf_block(GS_W_Q, l)], KEY("attn.W_Q"), 3, H, D, E, s);
        set(&info[gs_tf_block(GS_W_K, l)], KEY("attn.W_K"), 3, H, D, E, s);
        set(&info[gs_tf_block(GS_W_V, l)], KEY("attn.W_V"), 3, H, D, E, s);
        set(&info[gs_tf_block(GS_W_O, l)], KEY("attn.W_O"), 3, H, E, D, s);
        set(&info[gs_tf_block(GS_W_IN, l)], KEY("mlp.W_in"), 2, D, M, 0, s);
        set(&info[gs_tf_block(GS_B_IN, l)], KEY("mlp.b_in"), 1, M, 0, 0, 0.0);
        set(&info[gs_tf_block(GS_W_OUT, l)], KEY("mlp.W_out"), 2, M, D, 0, s);
        set(&info[gs_tf_block(GS_B_OUT, l)], KEY("mlp.b_out"), 1, D, 0, 0, 0.0);
#undef KEY
    }
    set(&info[gs_tf_unembed(d)], "unembed.W_U", 2, D, d->n_out, 0, 1.0 / sqrt((double)d->n_out));
}

/* PyTorch's defaults (docs/models.md): nn.Embedding N(0, 1); nn.Linear weight and bias
 * U(-1/sqrt(fan_in), 1/sqrt(fan_in)). Weights are stored [in, out] (x @ W). */
static void layout_mlp(const gs_dims *d, gs_param_info *info)
{
    if (d->d_embed > 0)
        set(&info[0], "embed.W_E", 2, d->p, d->d_embed, 0, 1.0);
    int in = d->n_pixels > 0 ? d->n_pixels : d->d_embed > 0 ? 2 * d->d_embed : 2 * d->p;
    for (int k = 0; k <= d->n_hidden; k++) {
        const int out = k < d->n_hidden ? d->hidden[k] : d->n_out, w = gs_mlp_weight(d, k);
        char key[GS_KEY_MAX];
        if (k < d->n_hidden)
            snprintf(key, sizeof key, "layers.%d.W", k);
        else
            snprintf(key, sizeof key, "unembed.W_U");
        set(&info[w], key, 2, in, out, 0, 0.0);
        info[w].init_bound = 1.0 / sqrt((double)in);
        if (d->bias) {
            if (k < d->n_hidden)
                snprintf(key, sizeof key, "layers.%d.b", k);
            else
                snprintf(key, sizeof key, "unembed.b_U");
            set(&info[w + 1], key, 1, out, 0, 0, 0.0);
            info[w + 1].init_bound = 1.0 / sqrt((double)in);
        }
        in = out;
    }
}

size_t gs_params_layout(const gs_dims *d, gs_param_info info[GS_MAX_TENSORS])
{
    const int n = gs_params_count(d);
    assert(n <= GS_MAX_TENSORS);
    if (d->kind == GS_MODEL_MLP)
        layout_mlp(d, info);
    else
        layout_transformer(d, info);
    size_t off = 0;
    for (int i = 0; i < n; i++) {
        info[i].offset = off;
        off += info[i].count;
    }
    return off;
}

static const char *const kind_names[GS_MODEL_COUNT] = {"transformer", "mlp"};
static const char *const act_names[GS_ACT_COUNT] = {"relu", "gelu", "quad"};

const char *gs_model_kind_name(gs_model_kind k)
{
    assert(k >= 0 && k < GS_MODEL_COUNT);
    return kind_names[k];
}

int gs_model_kind_parse(const char *s, gs_model_kind *k)
{
    for (int i = 0; i < GS_MODEL_COUNT; i++)
        if (strcmp(s, kind_names[i]) == 0) {
            *k = (gs_model_kind)i;
            return 0;
        }
    return -1;
}

const char *gs_act_name(gs_act a)
{
    assert(a >= 0 && a < GS_ACT_COUNT);
    return act_names[a];
}

int gs_act_parse(const char *s, gs_act *a)
{
    for (int i = 0; i < GS_ACT_COUNT; i++)
        if (strcmp(s, act_names[i]) == 0) {
            *a = (gs_act)i;
            return 0;
        }
    return -1;
}

/* ---- random numbers: core/rng.h ---- */

static double uniform01(uint64_t s[4]) { return ((gs_xoshiro_next(s) >> 11) + 1) * 0x1.0p-53; }

void gs_params_init(float *params, const gs_dims *d, int64_t seed)
{
    gs_param_info info[GS_MAX_TENSORS];
    gs_params_layout(d, info);
    const int n_tensors = gs_params_count(d);
    for (int t = 0; t < n_tensors; t++) {
        float *w = params + info[t].offset;
        if (info[t].init_std == 0.0 && info[t].init_bound == 0.0) {
            for (size_t i = 0; i < info[t].count; i++)
                w[i] = 0.0f;
            continue;
        }
        /* One stream per tensor: changing one tensor's size leaves the others alone. */
        uint64_t x = (uint64_t)seed * 0x100000001b3ULL + (uint64_t)t, s[4];
        for (int k = 0; k < 4; k++)
            s[k] = gs_splitmix64(&x);
        if (info[t].init_bound > 0.0) {
            for (size_t i = 0; i < info[t].count; i++)
                w[i] = (float)(info[t].init_bound * (2.0 * uniform01(s) - 1.0));
            continue;
        }
        for (size_t i = 0; i < info[t].count; i += 2) {
            double r = sqrt(-2.0 * log(uniform01(s))), th = 2.0 * M_PI * uniform01(s);
            w[i] = (float)(info[t].init_std * r * cos(th));
            if (i + 1 < info[t].count)
                w[i + 1] = (float)(info[t].init_std * r * sin(th));
        }
    }
}

double gs_params_sumsq(const float *params, size_t n)
{
    double s = 0.0;
    for (size_t i = 0; i < n; i++)
        s += (double)params[i] * params[i];
    return s;
}
