#include "adamw.h"

#include <math.h>

double gs_adamw_lr(const gs_config *cfg, long t)
{
    const double ramp = (double)t / cfg->warmup;
    return cfg->lr * (ramp < 1.0 ? ramp : 1.0);
}

void gs_adamw_step(float *params, const float *grads, float *m, float *v, size_t n,
                   const gs_config *cfg, long t)
{
    const double lr = gs_adamw_lr(cfg, t);
    const double step = (double)(t + 1);
    /* Scalars are formed in double and cast to float once, as PyTorch passes Python
     * floats into float32 tensor kernels. */
    const float decay = (float)(1.0 - lr * cfg->wd);
    const float one_minus_b1 = (float)(1.0 - cfg->beta1);
    const float b2 = (float)cfg->beta2, one_minus_b2 = (float)(1.0 - cfg->beta2);
    const float step_size = (float)(lr / (1.0 - pow(cfg->beta1, step)));
    const float bc2_sqrt = (float)sqrt(1.0 - pow(cfg->beta2, step));
    const float eps = (float)cfg->eps;
    for (size_t i = 0; i < n; i++) {
        const float g = grads[i];
        params[i] *= decay;
        m[i] += one_minus_b1 * (g - m[i]); /* torch's lerp_(grad, 1 - beta1) */
        v[i] = v[i] * b2 + one_minus_b2 * g * g;
        const float denom = sqrtf(v[i]) / bc2_sqrt + eps;
        params[i] -= step_size * (m[i] / denom);
    }
}
