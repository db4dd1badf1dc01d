#include "optim.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "pool.h"

gs_optim_scalars gs_optim_scalars_at(const gs_config *cfg, long t)
{
    const double lr = gs_adamw_lr(cfg, t);
    /* the Adam family's scalars; Adam's weight decay is coupled, so it has no decay of
     * the weights (and the decay toward init replaces AdamW's decay toward 0) */
    gs_adamw_scalars a = gs_adamw_scalars_at(cfg, t);
    if (cfg->optimizer != GS_OPT_ADAMW || cfg->wd_to_init)
        a.decay = 1.0f;
    return (gs_optim_scalars){
        .kind = cfg->optimizer, .to_init = cfg->wd_to_init, .a = a, .lr = (float)lr,
        .wd = (float)cfg->wd, .momentum = (float)cfg->momentum, .lr_wd = (float)(lr * cfg->wd),
    };
}

/* fp-contract=off throughout: torch's float32 kernels round after every operation
 * (tests/test_optim.c compares with torch) */
__attribute__((optimize("fp-contract=off")))
static void adam_family(float *restrict params, const float *restrict grads, float *restrict m,
                        float *restrict v, const float *restrict init, size_t n, const gs_optim_scalars *s)
{
    const gs_adamw_scalars *a = &s->a;
    const int coupled = s->kind == GS_OPT_ADAM, to_init = s->to_init;
    for (size_t i = 0; i < n; i++) {
        float g = grads[i];
        if (coupled) /* torch.optim.Adam: grad = grad + wd * param (toward init: param - init) */
            g = g + s->wd * (to_init ? params[i] - init[i] : params[i]);
        else if (to_init) /* openai/grok: p += (init - p) * (lr * wd) */
            params[i] = params[i] + (init[i] - params[i]) * s->lr_wd;
        m[i] += a->one_minus_b1 * (g - m[i]);
        v[i] = v[i] * a->b2 + a->one_minus_b2 * g * g;
        const float denom = sqrtf(v[i]) / a->bc2_sqrt + a->eps;
        params[i] -= a->step_size * (m[i] / denom);
    }
}

/* torch.optim.SGD (dampening 0, no Nesterov): d = g + wd * p; with momentum
 * buf = momentum * buf + d (the first step's buf = d, which a zero buf gives too);
 * p = p - lr * buf */
__attribute__((optimize("fp-contract=off")))
static void sgd(float *restrict params, const float *restrict grads, float *restrict buf,
                const float *restrict init, size_t n, const gs_optim_scalars *s)
{
    const float lr = s->lr, wd = s->wd, mom = s->momentum;
    for (size_t i = 0; i < n; i++) {
        float d = grads[i];
        if (wd != 0.0f)
            d = d + wd * (s->to_init ? params[i] - init[i] : params[i]);
        if (mom != 0.0f)
            d = buf[i] = buf[i] * mom + d;
        params[i] = params[i] + -lr * d;
    }
}

static void adamw(float *restrict params, const float *restrict grads, float *restrict m,
                  float *restrict v, const float *restrict init, size_t n, const gs_optim_scalars *s)
{
    if (s->to_init)
        adam_family(params, grads, m, v, init, n, s);
    else
        gs_adamw_update_simd(params, grads, m, v, n, &s->a); /* the paper's, unchanged */
}

static void sgd_rule(float *restrict params, const float *restrict grads, float *restrict m,
                     float *restrict v, const float *restrict init, size_t n, const gs_optim_scalars *s)
{
    (void)v; /* SGD keeps one buffer, in m */
    sgd(params, grads, m, init, n, s);
}

/* The update rules by gs_optimizer. */
typedef void (*update_fn)(float *restrict params, const float *restrict grads, float *restrict m,
                          float *restrict v, const float *restrict init, size_t n,
                          const gs_optim_scalars *s);
static const update_fn rules[GS_OPT_COUNT] = {
    [GS_OPT_ADAMW] = adamw, [GS_OPT_ADAM] = adam_family, [GS_OPT_SGD] = sgd_rule,
};

void gs_optim_update(float *restrict params, const float *restrict grads, float *restrict m,
                     float *restrict v, const float *restrict init, size_t n,
                     const gs_optim_scalars *s)
{
    rules[s->kind](params, grads, m, v, init, n, s);
}

void gs_orthograd(const float *w, float *g, size_t n)
{
    double wg = 0.0, ww = 0.0, gg = 0.0;
    for (size_t i = 0; i < n; i++) {
        wg += (double)w[i] * g[i];
        ww += (double)w[i] * w[i];
        gg += (double)g[i] * g[i];
    }
    const double proj = wg / (ww + 1e-30);
    double oo = 0.0;
    for (size_t i = 0; i < n; i++) {
        const float o = (float)(g[i] - proj * w[i]);
        g[i] = o;
        oo += (double)o * o;
    }
    const double scale = sqrt(gg) / (sqrt(oo) + 1e-30);
    for (size_t i = 0; i < n; i++)
        g[i] = (float)(g[i] * scale);
}

int gs_optim_init(gs_optim *o, const gs_config *cfg, size_t n, float *m, float *v,
                  const gs_tensor_span *spans, int n_spans, gs_err *err)
{
    memset(o, 0, sizeof *o);
    o->cfg = *cfg;
    o->n = n;
    o->m = m;
    o->v = v;
    o->spans = spans;
    o->n_spans = n_spans;
    if (cfg->wd_to_init && !(o->init = malloc(n * sizeof(float))))
        return gs_err_set(err, "out of memory for the initial weights (%zu floats)", n);
    if (gs_grokfast_init(&o->gf, cfg, n, err) < 0) {
        gs_optim_free(o);
        return -1;
    }
    return 0;
}

void gs_optim_free(gs_optim *o)
{
    free(o->init);
    gs_grokfast_free(&o->gf);
    memset(o, 0, sizeof *o);
}

static double sumsq(const float *x, size_t n)
{
    double s = 0.0;
    for (size_t i = 0; i < n; i++)
        s += (double)x[i] * x[i];
    return s;
}

void gs_optim_set_init(gs_optim *o, const float *theta0)
{
    if (o->init)
        memcpy(o->init, theta0, o->n * sizeof(float));
    o->init_norm = sqrt(sumsq(theta0, o->n));
}

/* The elementwise stages in fixed slices (a multiple of 16 floats, so every slice of
 * the SIMD update starts aligned as one call's would) */
enum { SLICES = 8 };

typedef struct {
    gs_optim *o;
    float *params, *grads;
    long t;
    size_t slice;
    int stage;
    gs_optim_scalars s;
    double part[SLICES]; /* fix_norm: each slice's sum of squares */
    gs_grad_sums sums[SLICES];
} step_job;

enum { STAGE_FILTER, STAGE_UPDATE, STAGE_SUMSQ, STAGE_SCALE, STAGE_GRAD_SUMS };

static void slice_task(void *arg, int i, int thread)
{
    (void)thread;
    step_job *j = arg;
    gs_optim *o = j->o;
    const size_t at = (size_t)i * j->slice;
    if (at >= o->n)
        return;
    const size_t len = o->n - at < j->slice ? o->n - at : j->slice;
    float *p = j->params + at, *g = j->grads + at;
    switch (j->stage) {
    case STAGE_FILTER:
        gs_grokfast_apply(&o->gf, j->grads, at, len, j->t);
        break;
    case STAGE_UPDATE:
        gs_optim_update(p, g, o->m + at, o->v + at, o->init ? o->init + at : NULL, len, &j->s);
        break;
    case STAGE_SUMSQ:
        j->part[i] = sumsq(p, len);
        break;
    case STAGE_SCALE: {
        const float f = (float)j->part[0];
        for (size_t k = 0; k < len; k++)
            p[k] *= f;
        break;
    }
    case STAGE_GRAD_SUMS: {
        gs_grad_sums s = {0};
        for (size_t k = 0; k < len; k++) {
            s.gg += (double)g[k] * g[k];
            s.gw += (double)g[k] * p[k];
            s.ww += (double)p[k] * p[k];
        }
        j->sums[i] = s;
        break;
    }
    }
}

static void run_stage(step_job *j, int stage, struct gs_pool *pool)
{
    j->stage = stage;
    if (pool)
        gs_pool_run(pool, SLICES, slice_task, j);
    else
        for (int i = 0; i < SLICES; i++)
            slice_task(j, i, 0);
}

static size_t slice_of(size_t n)
{
    return ((n + SLICES - 1) / SLICES + 15) & ~(size_t)15;
}

void gs_optim_step(gs_optim *o, float *params, float *grads, long t, struct gs_pool *pool)
{
    step_job j = {.o = o, .params = params, .grads = grads, .t = t, .slice = slice_of(o->n),
                  .s = gs_optim_scalars_at(&o->cfg, t)};
    if (o->gf.kind != GS_GF_NONE)
        run_stage(&j, STAGE_FILTER, pool);
    if (o->cfg.orthograd)
        for (int k = 0; k < o->n_spans; k++)
            gs_orthograd(params + o->spans[k].offset, grads + o->spans[k].offset, o->spans[k].count);
    run_stage(&j, STAGE_UPDATE, pool);
    if (o->cfg.fix_norm) {
        run_stage(&j, STAGE_SUMSQ, pool);
        double ss = 0.0;
        for (int i = 0; i < SLICES; i++)
            ss += j.part[i];
        /* one factor for all parameters: the direction is the optimizer's, the norm the
         * initial one */
        j.part[0] = ss > 0.0 ? o->init_norm / sqrt(ss) : 1.0;
        run_stage(&j, STAGE_SCALE, pool);
    }
}

gs_grad_sums gs_grad_sums_of(const float *params, const float *grads, size_t n, struct gs_pool *pool)
{
    gs_optim o = {.n = n};
    step_job j = {.o = &o, .params = (float *)params, .grads = (float *)grads, .slice = slice_of(n)};
    run_stage(&j, STAGE_GRAD_SUMS, pool);
    gs_grad_sums s = {0};
    for (int i = 0; i < SLICES; i++) {
        s.gg += j.sums[i].gg;
        s.gw += j.sums[i].gw;
        s.ww += j.sums[i].ww;
    }
    return s;
}
