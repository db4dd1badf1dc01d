#include "grokfast.h"

#include <stdlib.h>
#include <string.h>

size_t gs_grokfast_rows(const gs_config *cfg)
{
    switch (cfg->grokfast) {
    case GS_GF_EMA: return 1;
    case GS_GF_MA: return (size_t)cfg->gf_window;
    default: return 0;
    }
}

int gs_grokfast_init(gs_grokfast_state *g, const gs_config *cfg, size_t n, gs_err *err)
{
    memset(g, 0, sizeof *g);
    g->kind = cfg->grokfast;
    /* Python floats reach the float32 tensor ops cast to float; 1 - alpha is formed in
     * double first, as grokfast.py writes it */
    g->alpha = (float)cfg->gf_alpha;
    g->one_minus_alpha = (float)(1.0 - cfg->gf_alpha);
    g->lambda = (float)cfg->gf_lambda;
    g->window = cfg->gf_window;
    g->window_f = (float)cfg->gf_window;
    g->n = n;
    g->rows = gs_grokfast_rows(cfg);
    if (g->rows == 0)
        return 0;
    g->buf = calloc(g->rows * n, sizeof(float));
    if (!g->buf)
        return gs_err_set(err, "out of memory for the Grokfast filter (%zu x %zu floats)", g->rows, n);
    return 0;
}

void gs_grokfast_free(gs_grokfast_state *g)
{
    free(g->buf);
    memset(g, 0, sizeof *g);
}

/* fp-contract=off: torch's float32 ops round after every multiply and add */
__attribute__((optimize("fp-contract=off")))
static void ema(gs_grokfast_state *g, float *restrict grads, size_t at, size_t len, long t)
{
    float *restrict mu = g->buf + at;
    const float a = g->alpha, oma = g->one_minus_alpha, lam = g->lambda;
    if (t == 0)
        memcpy(mu, grads + at, len * sizeof(float));
    for (size_t i = 0; i < len; i++) {
        const float x = grads[at + i];
        mu[i] = mu[i] * a + x * oma;
        grads[at + i] = x + mu[i] * lam;
    }
}

__attribute__((optimize("fp-contract=off")))
static void ma(gs_grokfast_state *g, float *restrict grads, size_t at, size_t len, long t)
{
    const long w = g->window;
    memcpy(g->buf + (size_t)(t % w) * g->n + at, grads + at, len * sizeof(float));
    if (t + 1 < w)
        return; /* grokfast.py's warmup: nothing until the window is full */
    enum { BLOCK = 512 };
    float acc[BLOCK];
    for (size_t b = 0; b < len; b += BLOCK) {
        const size_t nb = len - b < BLOCK ? len - b : BLOCK;
        for (size_t i = 0; i < nb; i++)
            acc[i] = 0.0f;
        /* Python's sum(deque): 0 + oldest + ... + newest; the oldest is row (t+1) mod w */
        for (long k = 0; k < w; k++) {
            const float *row = g->buf + (size_t)((t + 1 + k) % w) * g->n + at + b;
            for (size_t i = 0; i < nb; i++)
                acc[i] += row[i];
        }
        for (size_t i = 0; i < nb; i++)
            grads[at + b + i] += acc[i] / g->window_f * g->lambda;
    }
}

void gs_grokfast_apply(gs_grokfast_state *g, float *grads, size_t at, size_t len, long t)
{
    if (g->kind == GS_GF_EMA)
        ema(g, grads, at, len, t);
    else if (g->kind == GS_GF_MA)
        ma(g, grads, at, len, t);
}
