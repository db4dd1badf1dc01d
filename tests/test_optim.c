/* The interventions' optimizer stages against steps computed by hand in double from
 * the formulas of docs/interventions.md: Adam with coupled L2, SGD with momentum, the
 * decay toward init, Grokfast's EMA and MA filters on a two-step gradient sequence,
 * ⊥Grad, the fixed norm; and the default rule is still AdamW's bits. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "grokfast.h"
#include "optim.h"

static gs_config base(void)
{
    gs_config c;
    gs_config_default(&c);
    c.warmup = 1; /* step 0 has lr 0; step 1 the full lr */
    c.lr = 0.01;
    return c;
}

/* Adam (coupled L2): step 0 (lr 0) then step 1, two elements by hand */
static void check_adam(void)
{
    gs_config c = base();
    c.optimizer = GS_OPT_ADAM;
    c.wd = 0.1;
    float p[2] = {1.0f, -2.0f}, m[2] = {0}, v[2] = {0};
    const float g0[2] = {0.5f, 0.25f}, g1[2] = {-0.5f, 1.0f};
    double P[2] = {1.0, -2.0}, M[2] = {0}, V[2] = {0};
    for (long t = 0; t < 2; t++) {
        const float *g = t ? g1 : g0;
        gs_optim_scalars s = gs_optim_scalars_at(&c, t);
        gs_optim_update(p, g, m, v, NULL, 2, &s);
        const double lr = t ? 0.01 : 0.0;
        for (int i = 0; i < 2; i++) {
            const double gi = g[i] + 0.1 * P[i];
            M[i] = 0.9 * M[i] + 0.1 * gi;
            V[i] = 0.98 * V[i] + 0.02 * gi * gi;
            const double mh = M[i] / (1 - pow(0.9, t + 1)), vh = V[i] / (1 - pow(0.98, t + 1));
            P[i] -= lr * mh / (sqrt(vh) + 1e-8);
        }
    }
    for (int i = 0; i < 2; i++) {
        CHECK_NEAR(p[i], P[i], 1e-6);
        CHECK_NEAR(m[i], M[i], 1e-6);
    }
    CHECK(p[0] != 1.0f); /* it moved */
}

/* SGD with momentum 0.9 and coupled wd, two steps by hand */
static void check_sgd(void)
{
    gs_config c = base();
    c.optimizer = GS_OPT_SGD;
    c.momentum = 0.9;
    c.wd = 0.01;
    c.warmup = 1;
    float p[1] = {2.0f}, buf[1] = {0}, v[1] = {0};
    double P = 2.0, B = 0.0;
    const float g[3] = {1.0f, -3.0f, 0.5f};
    for (long t = 0; t < 3; t++) {
        gs_optim_scalars s = gs_optim_scalars_at(&c, t);
        gs_optim_update(p, &g[t], buf, v, NULL, 1, &s);
        const double d = g[t] + 0.01 * P;
        B = t == 0 ? d : 0.9 * B + d;
        P -= (t ? 0.01 : 0.0) * B;
    }
    CHECK_NEAR(p[0], P, 1e-6);
    CHECK_NEAR(buf[0], B, 1e-6);
    CHECK(v[0] == 0.0f);
}

/* AdamW with the decay toward init: p += (init - p) * lr * wd, then Adam; and Adam's
 * coupled term toward init */
static void check_to_init(void)
{
    gs_config c = base();
    c.wd = 0.5;
    c.wd_to_init = 1;
    float p[1] = {3.0f}, m[1] = {0}, v[1] = {0};
    const float init[1] = {1.0f}, g[1] = {0.0f};
    gs_optim_scalars s = gs_optim_scalars_at(&c, 1); /* m = v = 0, g = 0: only the decay */
    gs_optim_update(p, g, m, v, init, 1, &s);
    CHECK_NEAR(p[0], 3.0 + (1.0 - 3.0) * 0.01 * 0.5, 1e-6);
    c.optimizer = GS_OPT_ADAM;
    float q[1] = {3.0f}, m2[1] = {0}, v2[1] = {0};
    s = gs_optim_scalars_at(&c, 1);
    gs_optim_update(q, g, m2, v2, init, 1, &s);
    const double gi = 0.5 * (3.0 - 1.0), mh = 0.1 * gi / 0.19, vh = 0.02 * gi * gi / (1 - 0.98 * 0.98);
    CHECK_NEAR(q[0], 3.0 - 0.01 * mh / (sqrt(vh) + 1e-8), 1e-6);
    CHECK_NEAR(m2[0], 0.1 * gi, 1e-7);
}

/* the default rule is gs_adamw_update_simd's, bit for bit */
static void check_default_bits(void)
{
    gs_config c;
    gs_config_default(&c);
    enum { N = 100 };
    float p1[N], p2[N], g[N], m1[N] = {0}, v1[N] = {0}, m2[N] = {0}, v2[N] = {0};
    for (int i = 0; i < N; i++) {
        p1[i] = p2[i] = (float)sin(i);
        g[i] = (float)cos(3 * i);
    }
    for (long t = 0; t < 15; t++) {
        gs_optim_scalars s = gs_optim_scalars_at(&c, t);
        gs_optim_update(p1, g, m1, v1, NULL, N, &s);
        gs_adamw_step(p2, g, m2, v2, N, &c, t);
    }
    CHECK(!memcmp(p1, p2, sizeof p1) && !memcmp(m1, m2, sizeof m1));
    CHECK(p1[1] != (float)sin(1));
}

/* Grokfast on the gradient sequence g1 = 1, g2 = 3 (and a second element -2, 4) */
static void check_grokfast(void)
{
    gs_config c;
    gs_config_default(&c);
    c.grokfast = GS_GF_EMA;
    c.gf_alpha = 0.5;
    c.gf_lambda = 2.0;
    gs_grokfast_state gf;
    gs_err err = {0};
    CHECK(gs_grokfast_init(&gf, &c, 2, &err) == 0);
    float g[2] = {1.0f, -2.0f};
    gs_grokfast_apply(&gf, g, 0, 2, 0);
    /* mu = g1 (start), mu = 0.5 g1 + 0.5 g1 = g1; g = g1 + 2 mu = 3 g1 */
    CHECK(g[0] == 3.0f && g[1] == -6.0f);
    float h[2] = {3.0f, 4.0f};
    gs_grokfast_apply(&gf, h, 0, 2, 1);
    /* mu = 0.5 * 1 + 0.5 * 3 = 2, g = 3 + 4 = 7; second: mu = -1 + 2 = 1, g = 4 + 2 = 6 */
    CHECK(h[0] == 7.0f && h[1] == 6.0f);
    gs_grokfast_free(&gf);

    c.grokfast = GS_GF_MA;
    c.gf_window = 2;
    c.gf_lambda = 5.0;
    CHECK(gs_grokfast_init(&gf, &c, 2, &err) == 0);
    float a[2] = {1.0f, -2.0f}, b[2] = {3.0f, 4.0f}, d[2] = {5.0f, 0.0f};
    gs_grokfast_apply(&gf, a, 0, 2, 0);
    CHECK(a[0] == 1.0f && a[1] == -2.0f); /* window not full: untouched */
    gs_grokfast_apply(&gf, b, 0, 2, 1);
    /* mean of (1, 3) = 2, g = 3 + 5 * 2 = 13; (-2, 4): mean 1, g = 4 + 5 = 9 */
    CHECK(b[0] == 13.0f && b[1] == 9.0f);
    gs_grokfast_apply(&gf, d, 0, 2, 2);
    /* the window holds the raw gradients 3 and 5: mean 4, g = 5 + 20 = 25; (4, 0): 2, 10 */
    CHECK(d[0] == 25.0f && d[1] == 10.0f);
    /* slices give the same bits as the whole */
    gs_grokfast_free(&gf);
}

static void check_orthograd(void)
{
    enum { N = 37 };
    float w[N], g[N];
    double gg0 = 0.0;
    for (int i = 0; i < N; i++) {
        w[i] = (float)sin(0.3 * i + 1);
        g[i] = (float)(0.7 * w[i] + 0.2 * cos(1.7 * i));
        gg0 += (double)g[i] * g[i];
    }
    gs_orthograd(w, g, N);
    double wg = 0.0, gg = 0.0, ww = 0.0;
    for (int i = 0; i < N; i++) {
        wg += (double)w[i] * g[i];
        gg += (double)g[i] * g[i];
        ww += (double)w[i] * w[i];
    }
    CHECK(fabs(wg) / sqrt(gg * ww) < 1e-6);
    CHECK_NEAR(sqrt(gg), sqrt(gg0), 1e-6 * sqrt(gg0));
    /* a zero tensor (biases at init) keeps its gradient */
    float z[3] = {0}, gz[3] = {1.0f, 2.0f, -3.0f};
    gs_orthograd(z, gz, 3);
    CHECK(gz[0] == 1.0f && gz[1] == 2.0f && gz[2] == -3.0f);
}

/* the fixed norm holds to 1e-6 over 100 AdamW steps (wd 0) with orthograd and a filter */
static void check_fix_norm(void)
{
    gs_config c;
    gs_config_default(&c);
    c.wd = 0.0;
    c.fix_norm = 1;
    c.lr = 0.05;
    enum { N = 1000 };
    float *p = malloc(N * sizeof *p), *g = malloc(N * sizeof *g), *mv = calloc(2 * N, sizeof(float));
    for (int i = 0; i < N; i++)
        p[i] = (float)sin(0.01 * i * i);
    gs_tensor_span spans[2] = {{0, 400}, {400, 600}};
    gs_optim o;
    gs_err err = {0};
    CHECK(gs_optim_init(&o, &c, N, mv, mv + N, spans, 2, &err) == 0);
    gs_optim_set_init(&o, p);
    const double n0 = o.init_norm;
    double worst = 0.0, moved = 0.0;
    for (long t = 0; t < 100; t++) {
        for (int i = 0; i < N; i++)
            g[i] = (float)(p[i] * (1.0 + 0.1 * t) - cos(i + t)); /* pulls the norm around */
        gs_optim_step(&o, p, g, t, NULL);
        double ss = 0.0;
        for (int i = 0; i < N; i++)
            ss += (double)p[i] * p[i];
        worst = fmax(worst, fabs(sqrt(ss) - n0) / n0);
        moved += fabs(p[3] - (float)sin(0.09));
    }
    CHECK(worst < 1e-6);
    CHECK(moved > 0.0);
    gs_optim_free(&o);
    free(p);
    free(g);
    free(mv);
}

/* contradictions and ranges give one clear line */
static void check_validate(void)
{
    gs_config c;
    gs_err err = {0};
    gs_config_default(&c);
    c.fix_norm = 1;
    CHECK(gs_config_validate(&c, &err) < 0 && strstr(err.msg, "fix_norm"));
    gs_config_default(&c);
    c.momentum = 0.9;
    CHECK(gs_config_validate(&c, &err) < 0 && strstr(err.msg, "sgd"));
    gs_config_default(&c);
    c.grokfast = GS_GF_MA;
    c.epochs = 50;
    CHECK(gs_config_validate(&c, &err) < 0 && strstr(err.msg, "gf_window"));
    c.gf_window = 50;
    CHECK(gs_config_validate(&c, &err) == 0);
}

/* --dump RULE: the weights (or, for the filters, the filtered gradients) after 6 steps
 * on a fixed sequence, for tests/test_optim_torch.py to compare with PyTorch. */
static int dump(const char *rule)
{
    enum { N = 50, STEPS = 6 };
    gs_config c;
    gs_config_default(&c);
    c.warmup = 1;
    c.lr = 0.01;
    c.wd = 0.1;
    float p[N], g[N], m[N] = {0}, v[N] = {0};
    for (int i = 0; i < N; i++)
        p[i] = (float)sin(0.37 * i + 0.1);
    gs_grokfast_state gf = {0};
    gs_err err = {0};
    if (!strcmp(rule, "adam")) {
        c.optimizer = GS_OPT_ADAM;
    } else if (!strcmp(rule, "sgd")) {
        c.optimizer = GS_OPT_SGD;
        c.momentum = 0.9;
    } else if (!strcmp(rule, "ema") || !strcmp(rule, "ma")) {
        c.grokfast = rule[0] == 'e' ? GS_GF_EMA : GS_GF_MA;
        c.gf_window = 3;
        c.gf_alpha = 0.8;
        c.gf_lambda = rule[0] == 'e' ? 2.0 : 5.0;
        if (gs_grokfast_init(&gf, &c, N, &err) < 0)
            return 1;
    } else if (strcmp(rule, "adamw")) {
        return 2;
    }
    for (long t = 0; t < STEPS; t++) {
        for (int i = 0; i < N; i++)
            g[i] = (float)cos(0.91 * i + 1.3 * t);
        if (gf.kind) {
            gs_grokfast_apply(&gf, g, 0, N, t);
            for (int i = 0; i < N; i++)
                printf("%.9g%c", g[i], i + 1 < N ? ' ' : '\n');
            continue;
        }
        gs_optim_scalars s = gs_optim_scalars_at(&c, t);
        gs_optim_update(p, g, m, v, NULL, N, &s);
    }
    if (!gf.kind)
        for (int i = 0; i < N; i++)
            printf("%.9g%c", p[i], i + 1 < N ? ' ' : '\n');
    gs_grokfast_free(&gf);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 3 && !strcmp(argv[1], "--dump"))
        return dump(argv[2]);
    check_adam();
    check_sgd();
    check_to_init();
    check_default_bits();
    check_grokfast();
    check_orthograd();
    check_fix_norm();
    check_validate();
    printf("test_optim: %d checks, %d failed\n", check_count, check_failures);
    return check_failures > 100 ? 100 : check_failures;
}
