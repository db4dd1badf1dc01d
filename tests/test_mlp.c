/* The MLP (core/mlp.c, docs/models.md) against a naive double-precision transcription,
 * a finite-difference gradient check of every tensor for each input, activation and
 * bias variant, its parameter table and init, and the minibatch sampler (batch.h). */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "batch.h"
#include "check.h"
#include "gradcheck.h"
#include "config.h"
#include "model.h"

static double act_d(gs_act a, double x)
{
    switch (a) {
    case GS_ACT_RELU: return x > 0 ? x : 0;
    case GS_ACT_GELU: return 0.5 * x * (1 + erf(x / sqrt(2.0)));
    default: return x * x;
    }
}

/* docs/models.md written out in double for one pair: the explicit input vector (the
 * one-hots formed for real), then each layer's x @ W + b. */
static void naive_logits(double *out, const gs_model *m, int a, int b)
{
    const gs_dims *d = &m->d;
    const int p = d->p;
    double x[1024], y[1024];
    int in = d->d_embed > 0 ? 2 * d->d_embed : 2 * p;
    if (d->d_embed > 0) {
        const float *E = m->params + m->info[0].offset;
        for (int c = 0; c < d->d_embed; c++) {
            x[c] = E[a * d->d_embed + c];
            x[d->d_embed + c] = E[b * d->d_embed + c];
        }
    } else {
        for (int c = 0; c < 2 * p; c++)
            x[c] = c == a || c == p + b;
    }
    for (int k = 0; k <= d->n_hidden; k++) {
        const int w = gs_mlp_weight(d, k), out_w = k < d->n_hidden ? d->hidden[k] : d->n_out;
        const float *W = m->params + m->info[w].offset;
        const float *B = d->bias ? m->params + m->info[w + 1].offset : NULL;
        for (int j = 0; j < out_w; j++) {
            double s = B ? B[j] : 0;
            for (int i = 0; i < in; i++)
                s += x[i] * W[(size_t)i * out_w + j];
            y[j] = k < d->n_hidden ? act_d(d->act, s) : s;
        }
        memcpy(x, y, (size_t)out_w * sizeof *x);
        in = out_w;
    }
    memcpy(out, x, (size_t)d->n_out * sizeof *out);
}

static void check_variant(const char *what, int p, int d_embed, int n_hidden, const int *hidden,
                          gs_act act, int bias)
{
    gs_dims d;
    gs_dims_make_mlp(&d, p, d_embed, n_hidden, hidden, act, bias);
    enum { N = 40 };
    gs_model m;
    gs_err err;
    CHECK(gs_model_create(&m, &d, N, GS_PATH_FAST, &err) == 0);
    CHECK(!m.fast && m.n_tensors == gs_params_count(&d));
    gs_params_init(m.params, &d, 5);
    /* non-zero biases even where the init has small ones, and larger weights so the
     * nonlinearity is far from linear */
    srand(11);
    for (size_t i = 0; i < m.n_params; i++)
        m.params[i] = 1.5f * m.params[i] + 0.05f * ((float)rand() / RAND_MAX - 0.5f);
    int32_t idx[N], tgt[N];
    for (int i = 0; i < N; i++) {
        idx[i] = (i * 13 + 5) % (p * p);
        tgt[i] = (idx[i] / p + idx[i] % p) % p;
    }
    printf("%s\n", what);

    /* forward against the naive transcription */
    const gs_eval ev = gs_model_forward(&m, idx, tgt, N);
    double loss = 0, worst = 0;
    for (int i = 0; i < N; i++) {
        double l[256], mx = -INFINITY, s = 0;
        naive_logits(l, &m, idx[i] / p, idx[i] % p);
        for (int c = 0; c < p; c++) {
            mx = l[c] > mx ? l[c] : mx;
            const double diff = fabs(l[c] - m.logits[(size_t)i * p + c]) / (1 + fabs(l[c]));
            worst = diff > worst ? diff : worst;
        }
        for (int c = 0; c < p; c++)
            s += exp(l[c] - mx);
        loss += log(s) + mx - l[tgt[i]];
    }
    printf("  logits max relative difference %.2e\n", worst);
    CHECK(worst < 1e-4);
    CHECK_NEAR(ev.loss_sum, loss, 1e-4 * loss);
    CHECK(ev.n == N);

    gs_gradcheck(&m, idx, tgt, N, act == GS_ACT_RELU ? 5e-5f : 1e-3f, 3e-3); /* relu: off the kinks */
    gs_model_free(&m);
}

/* The MLP on images (task mnist): input idx is a row of the pixel table. Forward
 * against the naive transcription on the explicit pixel vector, then (smooth
 * activations) the gradient check, with cross-entropy and with Omnigrok's MSE. */
static void check_pixels(const char *what, int loss_kind, gs_act act, int bias)
{
    enum { N = 40, ROWS = 60, X = 784, K = 10 };
    const int hidden[2] = {20, 16};
    gs_dims d;
    gs_dims_make_mlp(&d, K, 0, 2, hidden, act, bias);
    d.n_pixels = X;
    gs_model m;
    gs_err err;
    CHECK(gs_model_create(&m, &d, N, GS_PATH_FAST, &err) == 0);
    gs_param_info info[GS_MAX_TENSORS];
    gs_params_layout(&d, info);
    CHECK(info[0].shape[0] == X && info[0].shape[1] == 20);
    CHECK(info[0].init_bound == 1 / sqrt((double)X));
    gs_params_init(m.params, &d, 9);
    srand(13);
    for (size_t i = 0; i < m.n_params; i++)
        m.params[i] = 2.0f * m.params[i] + 0.05f * ((float)rand() / RAND_MAX - 0.5f);
    /* images: bytes / 255, a third of them 0 (the background) */
    float *pixels = malloc((size_t)ROWS * X * sizeof *pixels);
    for (int i = 0; i < ROWS * X; i++)
        pixels[i] = rand() % 3 == 0 ? 0.0f : (float)(rand() % 256) / 255.0f;
    m.pixels = pixels;
    gs_config cfg;
    gs_config_default(&cfg);
    cfg.loss = loss_kind;
    m.loss = gs_loss_of(&cfg);
    int32_t idx[N], tgt[N];
    for (int i = 0; i < N; i++) {
        idx[i] = (i * 7 + 3) % ROWS; /* out of order, as a minibatch draws them */
        tgt[i] = (i * 3) % K;
    }
    printf("%s\n", what);
    gs_model_forward(&m, idx, tgt, N);
    double worst = 0;
    for (int i = 0; i < N; i++) {
        /* naive: the explicit pixel vector through each layer, in double */
        double x[X], y[32];
        int in = X;
        for (int c = 0; c < X; c++)
            x[c] = pixels[(size_t)idx[i] * X + c];
        for (int k = 0; k <= d.n_hidden; k++) {
            const int w = gs_mlp_weight(&d, k), out_w = k < d.n_hidden ? d.hidden[k] : K;
            const float *W = m.params + m.info[w].offset;
            const float *B = bias ? m.params + m.info[w + 1].offset : NULL;
            for (int j = 0; j < out_w; j++) {
                double s = B ? B[j] : 0;
                for (int r = 0; r < in; r++)
                    s += x[r] * W[(size_t)r * out_w + j];
                y[j] = k < d.n_hidden ? act_d(act, s) : s;
            }
            memcpy(x, y, (size_t)out_w * sizeof *x);
            in = out_w;
        }
        for (int c = 0; c < K; c++) {
            const double diff = fabs(x[c] - m.logits[(size_t)i * K + c]) / (1 + fabs(x[c]));
            worst = diff > worst ? diff : worst;
        }
    }
    printf("  logits max relative difference %.2e\n", worst);
    CHECK(worst < 1e-4);
    /* The gradient check needs a smooth activation: a step along a +-1 direction over
     * all 784 pixels moves every pre-activation at once, and with relu some cross the
     * kink at any usable step. The pixel path (the gathered input, the first layer's
     * weight gradient, no gradient into the pixels) does not depend on the activation,
     * and relu's derivative is checked by the token variants above. */
    if (act != GS_ACT_RELU)
        gs_gradcheck(&m, idx, tgt, N, 1e-3f, 3e-3);
    gs_model_free(&m);
    free(pixels);
}

/* keys, shapes, and the PyTorch-default init: U(-1/sqrt(fan_in), ..) for linear layers,
 * N(0, 1) for the embedding */
static void check_table(void)
{
    const int hidden[2] = {200, 200};
    gs_dims d;
    gs_dims_make_mlp(&d, 113, 0, 2, hidden, GS_ACT_RELU, 0);
    gs_param_info info[GS_MAX_TENSORS];
    size_t n = gs_params_layout(&d, info);
    CHECK(gs_params_count(&d) == 3);
    CHECK(strcmp(info[0].key, "layers.0.W") == 0 && info[0].shape[0] == 226 && info[0].shape[1] == 200);
    CHECK(strcmp(info[1].key, "layers.1.W") == 0);
    CHECK(strcmp(info[2].key, "unembed.W_U") == 0 && info[2].shape[0] == 200 && info[2].shape[1] == 113);
    CHECK(n == 226 * 200 + 200 * 200 + 200 * 113);
    float *w = malloc(n * sizeof *w);
    gs_params_init(w, &d, 0);
    const double bound = 1 / sqrt(226.0);
    double mx = 0, s2 = 0;
    for (size_t i = 0; i < info[0].count; i++) {
        mx = fabs(w[i]) > mx ? fabs(w[i]) : mx;
        s2 += (double)w[i] * w[i];
    }
    CHECK(mx <= bound && mx > 0.99 * bound);
    CHECK_NEAR(s2 / info[0].count, bound * bound / 3, 0.03 * bound * bound / 3);
    free(w);

    gs_dims_make_mlp(&d, 7, 5, 1, hidden, GS_ACT_GELU, 1);
    n = gs_params_layout(&d, info);
    CHECK(gs_params_count(&d) == 5);
    const char *keys[5] = {"embed.W_E", "layers.0.W", "layers.0.b", "unembed.W_U", "unembed.b_U"};
    for (int t = 0; t < 5; t++)
        CHECK(strcmp(info[t].key, keys[t]) == 0);
    CHECK(info[0].init_std == 1.0 && info[1].shape[0] == 10 && info[2].init_bound == 1 / sqrt(10.0));
    CHECK(info[4].shape[0] == 7 && info[4].offset + info[4].count == n);
}

/* the sampler: every pass a permutation, passes differ, the same (seed, pass) gives the
 * same permutation (so a resumed run draws the same batches) */
static void check_sampler(void)
{
    enum { n = 1000 };
    static int32_t a[n], b[n], seen[n];
    gs_batch_perm(a, n, 3, 0);
    memset(seen, 0, sizeof seen);
    for (int i = 0; i < n; i++)
        if (a[i] >= 0 && a[i] < n)
            seen[a[i]]++;
    int all_once = 1, fixed = 0;
    for (int i = 0; i < n; i++) {
        all_once &= seen[i] == 1;
        fixed += a[i] == i;
    }
    CHECK(all_once);
    CHECK(fixed < 10);
    gs_batch_perm(b, n, 3, 0);
    CHECK(memcmp(a, b, sizeof a) == 0);
    gs_batch_perm(b, n, 3, 1);
    CHECK(memcmp(a, b, sizeof a) != 0);
    gs_batch_perm(b, n, 4, 0);
    CHECK(memcmp(a, b, sizeof a) != 0);
    /* steps: 1000 rows in batches of 300 make passes of 3 steps (100 rows sit out) */
    CHECK(gs_batch_pass(0, n, 300) == 0 && gs_batch_start(0, n, 300) == 0);
    CHECK(gs_batch_pass(2, n, 300) == 0 && gs_batch_start(2, n, 300) == 600);
    CHECK(gs_batch_pass(3, n, 300) == 1 && gs_batch_start(3, n, 300) == 0);
}

int main(void)
{
    const int h1[1] = {24}, h2[2] = {20, 16}, h3[3] = {12, 10, 9};
    check_variant("one-hot, relu, no bias (Prieto et al.)", 7, 0, 2, h2, GS_ACT_RELU, 0);
    check_variant("learned embeddings, gelu, biases", 7, 6, 2, h2, GS_ACT_GELU, 1);
    check_variant("learned embeddings, quad, no bias, one layer", 5, 4, 1, h1, GS_ACT_QUAD, 0);
    check_variant("one-hot, gelu, biases, three layers", 5, 0, 3, h3, GS_ACT_GELU, 1);
    check_pixels("pixels, relu, biases, mse (Omnigrok; forward only)", GS_LOSS_MSE, GS_ACT_RELU, 1);
    check_pixels("pixels, gelu, biases, cross-entropy", GS_LOSS_CE, GS_ACT_GELU, 1);
    check_pixels("pixels, gelu, biases, mse", GS_LOSS_MSE, GS_ACT_GELU, 1);
    check_pixels("pixels, quad, no bias, mse", GS_LOSS_MSE, GS_ACT_QUAD, 0);
    check_table();
    check_sampler();
    return check_report("mlp");
}
