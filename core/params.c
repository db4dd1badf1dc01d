#include "params.h"

#include <assert.h>
#include <math.h>

void gs_dims_make(gs_dims *d, int p, int d_model, int n_heads, int d_mlp)
{
    assert(n_heads > 0 && d_model % n_heads == 0);
    *d = (gs_dims){.p = p, .n_vocab = p + 1, .n_out = p + 1, .n_ctx = 3,
                   .d_model = d_model, .n_heads = n_heads, .d_head = d_model / n_heads,
                   .d_mlp = d_mlp};
}

static void set(gs_param_info *pi, const char *key, int rank, int s0, int s1, int s2, double std)
{
    pi->key = key;
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
}

size_t gs_params_layout(const gs_dims *d, gs_param_info info[GS_N_PARAMS])
{
    const int D = d->d_model, H = d->n_heads, E = d->d_head, M = d->d_mlp;
    const double s = 1.0 / sqrt((double)D);
    set(&info[GS_W_E], "embed.W_E", 2, d->n_vocab, D, 0, s);
    set(&info[GS_W_POS], "pos_embed.W_pos", 2, d->n_ctx, D, 0, s);
    set(&info[GS_W_Q], "blocks.0.attn.W_Q", 3, H, D, E, s);
    set(&info[GS_W_K], "blocks.0.attn.W_K", 3, H, D, E, s);
    set(&info[GS_W_V], "blocks.0.attn.W_V", 3, H, D, E, s);
    set(&info[GS_W_O], "blocks.0.attn.W_O", 3, H, E, D, s);
    set(&info[GS_W_IN], "blocks.0.mlp.W_in", 2, D, M, 0, s);
    set(&info[GS_B_IN], "blocks.0.mlp.b_in", 1, M, 0, 0, 0.0);
    set(&info[GS_W_OUT], "blocks.0.mlp.W_out", 2, M, D, 0, s);
    set(&info[GS_B_OUT], "blocks.0.mlp.b_out", 1, D, 0, 0, 0.0);
    set(&info[GS_W_U], "unembed.W_U", 2, D, d->n_out, 0, 1.0 / sqrt((double)d->n_out));
    size_t off = 0;
    for (int i = 0; i < GS_N_PARAMS; i++) {
        info[i].offset = off;
        off += info[i].count;
    }
    return off;
}

/* ---- xoshiro256** (Blackman & Vigna), seeded through splitmix64 ---- */

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

static uint64_t xoshiro_next(uint64_t s[4])
{
    const uint64_t result = rotl(s[1] * 5, 7) * 9;
    const uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

/* Uniform in (0, 1]: 53 random bits, never 0 so log() is finite. */
static double uniform01(uint64_t s[4]) { return ((xoshiro_next(s) >> 11) + 1) * 0x1.0p-53; }

void gs_params_init(float *params, const gs_dims *d, int64_t seed)
{
    gs_param_info info[GS_N_PARAMS];
    gs_params_layout(d, info);
    for (int t = 0; t < GS_N_PARAMS; t++) {
        float *w = params + info[t].offset;
        if (info[t].init_std == 0.0) {
            for (size_t i = 0; i < info[t].count; i++)
                w[i] = 0.0f;
            continue;
        }
        /* One stream per tensor: changing one tensor's size leaves the others alone. */
        uint64_t x = (uint64_t)seed * 0x100000001b3ULL + (uint64_t)t, s[4];
        for (int k = 0; k < 4; k++)
            s[k] = splitmix64(&x);
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
