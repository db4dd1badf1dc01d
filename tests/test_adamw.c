/* AdamW + warm-up against steps computed by hand in double from the PyTorch formulas;
 * the vectorized update against the plain one, bit for bit. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adamw.h"
#include "check.h"

/* gs_adamw_update_simd (the trainer's) gives gs_adamw_step's bits, during the warm-up
 * and after, on lengths that leave a tail for every vector width, and in slices as the
 * trainer cuts the parameters */
static void check_simd(void)
{
    gs_config cfg;
    gs_config_default(&cfg);
    enum { N = 1000 + 13 };
    static float p0[N], p1[N], g[N], m1[N], v1[N], p2[N], m2[N], v2[N];
    srand(9);
    for (int i = 0; i < N; i++) {
        p0[i] = p1[i] = p2[i] = (float)rand() / RAND_MAX - 0.5f;
        m1[i] = m2[i] = v1[i] = v2[i] = 0.0f;
    }
    int same = 1;
    for (long t = 0; t < 25; t++) {
        for (int i = 0; i < N; i++)
            g[i] = ((float)rand() / RAND_MAX - 0.5f) * (i % 7 == 0 ? 1e-6f : 1.0f);
        gs_adamw_step(p1, g, m1, v1, N, &cfg, t);
        const gs_adamw_scalars sc = gs_adamw_scalars_at(&cfg, t);
        gs_adamw_update_simd(p2, g, m2, v2, 500, &sc);
        gs_adamw_update_simd(p2 + 500, g + 500, m2 + 500, v2 + 500, N - 500, &sc);
        same &= !memcmp(p1, p2, sizeof p1) && !memcmp(m1, m2, sizeof m1) && !memcmp(v1, v2, sizeof v1);
    }
    CHECK(same);
    /* the steps did move the weights (equal because both ran, not because neither did) */
    CHECK(memcmp(p0, p1, sizeof p0) != 0 && m1[1] != 0.0f);
}

int main(void)
{
    gs_config cfg;
    gs_config_default(&cfg);
    CHECK(gs_adamw_lr(&cfg, 0) == 0.0);
    CHECK_NEAR(gs_adamw_lr(&cfg, 3), 3e-4, 1e-15);
    CHECK(gs_adamw_lr(&cfg, 10) == 1e-3 && gs_adamw_lr(&cfg, 12345) == 1e-3);

    /* Two parameters with gradients that change sign; 25 steps spanning the warm-up. */
    float p[2] = {0.5f, -1.25f}, m[2] = {0, 0}, v[2] = {0, 0};
    double rp[2] = {0.5, -1.25}, rm[2] = {0, 0}, rv[2] = {0, 0};
    for (long t = 0; t < 25; t++) {
        float g[2] = {(float)(0.3 * cos(0.7 * t)), (float)(-0.02 + 0.01 * t)};
        float before0 = p[0];
        gs_adamw_step(p, g, m, v, 2, &cfg, t);
        if (t == 0)
            CHECK(p[0] == before0); /* step 0: lr 0 leaves the weights unchanged */
        double lr = 1e-3 * fmin(t / 10.0, 1.0), k = t + 1.0;
        for (int i = 0; i < 2; i++) {
            rp[i] *= 1.0 - lr * 1.0;
            rm[i] = 0.9 * rm[i] + 0.1 * g[i];
            rv[i] = 0.98 * rv[i] + 0.02 * (double)g[i] * g[i];
            double mhat = rm[i] / (1.0 - pow(0.9, k));
            double denom = sqrt(rv[i]) / sqrt(1.0 - pow(0.98, k)) + 1e-8;
            rp[i] -= lr * mhat / denom;
        }
        CHECK_NEAR(m[0], rm[0], 1e-6);
        CHECK_NEAR(v[1], rv[1], 1e-8);
    }
    CHECK_NEAR(p[0], rp[0], 2e-6);
    CHECK_NEAR(p[1], rp[1], 2e-6);
    /* after warm-up each Adam step moves a parameter by about lr */
    CHECK(fabs(p[1] - -1.25 * pow(1 - 1e-3, 15)) > 5e-3);

    /* Moments after step 0 equal one Adam step's moments even though lr = 0. */
    float q = 1.0f, mq = 0, vq = 0, gq = 2.0f;
    gs_adamw_step(&q, &gq, &mq, &vq, 1, &cfg, 0);
    CHECK(q == 1.0f);
    CHECK_NEAR(mq, 0.2, 1e-7);
    CHECK_NEAR(vq, 0.08, 1e-7);
    check_simd();
    return check_report("adamw");
}
