#include "adamw.h"

#include <math.h>

double gs_adamw_lr(const gs_config *cfg, long t)
{
    const double ramp = (double)t / cfg->warmup;
    /* --output-scale A divides the learning rate by A^2 (docs/interventions.md); A = 1
     * leaves the paper's lr untouched, bit for bit */
    const double A = cfg->output_scale, lr = A == 1.0 ? cfg->lr : cfg->lr / (A * A);
    return lr * (ramp < 1.0 ? ramp : 1.0);
}

gs_adamw_scalars gs_adamw_scalars_at(const gs_config *cfg, long t)
{
    const double lr = gs_adamw_lr(cfg, t), step = (double)(t + 1);
    /* Scalars are formed in double and cast to float once, as PyTorch passes Python
     * floats into float32 tensor kernels. */
    return (gs_adamw_scalars){
        .decay = (float)(1.0 - lr * cfg->wd),
        .one_minus_b1 = (float)(1.0 - cfg->beta1),
        .b2 = (float)cfg->beta2,
        .one_minus_b2 = (float)(1.0 - cfg->beta2),
        .step_size = (float)(lr / (1.0 - pow(cfg->beta1, step))),
        .bc2_sqrt = (float)sqrt(1.0 - pow(cfg->beta2, step)),
        .eps = (float)cfg->eps,
    };
}

/* fp-contract=off: no a * b + c becomes a fused multiply-add, on any target, so that
 * the vectorized twin (which never fuses) has these bits. */
__attribute__((optimize("fp-contract=off")))
void gs_adamw_update(float *restrict params, const float *restrict grads, float *restrict m,
                     float *restrict v, size_t n, const gs_adamw_scalars *s)
{
    const float decay = s->decay, omb1 = s->one_minus_b1, b2 = s->b2, omb2 = s->one_minus_b2,
                step = s->step_size, bc2 = s->bc2_sqrt, eps = s->eps;
    for (size_t i = 0; i < n; i++) {
        const float g = grads[i];
        params[i] *= decay;
        m[i] += omb1 * (g - m[i]); /* torch's lerp_(grad, 1 - beta1) */
        v[i] = v[i] * b2 + omb2 * g * g;
        const float denom = sqrtf(v[i]) / bc2 + eps;
        params[i] -= step * (m[i] / denom);
    }
}

void gs_adamw_step(float *params, const float *grads, float *m, float *v, size_t n,
                   const gs_config *cfg, long t)
{
    const gs_adamw_scalars s = gs_adamw_scalars_at(cfg, t);
    gs_adamw_update(params, grads, m, v, n, &s);
}
