/* Model forward against a naive double-precision transcription of SPEC §2, and a
 * finite-difference gradient check of every parameter tensor. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "model.h"

/* SPEC §2 written out loop by loop in double, for one input, all positions. */
static void naive_logits(double *out, const gs_model *m, int a, int b)
{
    const gs_dims *d = &m->d;
    const int D = d->d_model, H = d->n_heads, E = d->d_head, M = d->d_mlp, V = d->n_out;
    const float *W_E = m->params + m->info[GS_W_E].offset, *W_pos = m->params + m->info[GS_W_POS].offset;
    const float *W_Q = m->params + m->info[GS_W_Q].offset, *W_K = m->params + m->info[GS_W_K].offset;
    const float *W_V = m->params + m->info[GS_W_V].offset, *W_O = m->params + m->info[GS_W_O].offset;
    const float *W_in = m->params + m->info[GS_W_IN].offset, *b_in = m->params + m->info[GS_B_IN].offset;
    const float *W_out = m->params + m->info[GS_W_OUT].offset, *b_out = m->params + m->info[GS_B_OUT].offset;
    const float *W_U = m->params + m->info[GS_W_U].offset;
    int tok[3] = {a, b, d->p};
    double x0[3][64], x1[3][64], q[3][64], k[3][64], v[3][64];
    for (int t = 0; t < 3; t++)
        for (int c = 0; c < D; c++)
            x0[t][c] = W_E[tok[t] * D + c] + W_pos[t * D + c];
    memcpy(x1, x0, sizeof x0);
    for (int h = 0; h < H; h++) {
        for (int t = 0; t < 3; t++)
            for (int e = 0; e < E; e++) {
                q[t][e] = k[t][e] = v[t][e] = 0;
                for (int c = 0; c < D; c++) {
                    q[t][e] += x0[t][c] * W_Q[(h * D + c) * E + e];
                    k[t][e] += x0[t][c] * W_K[(h * D + c) * E + e];
                    v[t][e] += x0[t][c] * W_V[(h * D + c) * E + e];
                }
            }
        for (int s = 0; s < 3; s++) {
            double sc[3], mx = -1e300, sum = 0;
            for (int t = 0; t <= s; t++) {
                sc[t] = 0;
                for (int e = 0; e < E; e++)
                    sc[t] += q[s][e] * k[t][e];
                sc[t] /= sqrt((double)E);
                mx = fmax(mx, sc[t]);
            }
            for (int t = 0; t <= s; t++)
                sum += (sc[t] = exp(sc[t] - mx));
            for (int c = 0; c < D; c++) {
                double acc = 0;
                for (int e = 0; e < E; e++) {
                    double z = 0;
                    for (int t = 0; t <= s; t++)
                        z += sc[t] / sum * v[t][e];
                    acc += z * W_O[(h * E + e) * D + c];
                }
                x1[s][c] += acc;
            }
        }
    }
    double x2[64];
    for (int c = 0; c < D; c++)
        x2[c] = x1[2][c] + b_out[c];
    for (int j = 0; j < M; j++) {
        double pre = b_in[j];
        for (int c = 0; c < D; c++)
            pre += x1[2][c] * W_in[c * M + j];
        if (pre > 0)
            for (int c = 0; c < D; c++)
                x2[c] += pre * W_out[j * D + c];
    }
    for (int o = 0; o < V; o++) {
        out[o] = 0;
        for (int c = 0; c < D; c++)
            out[o] += x2[c] * W_U[c * V + o];
    }
}

static double batch_loss(gs_model *m, const int32_t *idx, const int32_t *tgt, int n)
{
    gs_eval e = gs_model_forward(m, idx, tgt, n);
    return e.loss_sum / n;
}

/* Forward against the naive transcription and the gradient check, for one path. */
static void check_path(gs_path path, gs_model *m, const int32_t *idx, const int32_t *tgt, int N)
{
    const gs_dims d = m->d;
    printf("%s path\n", path == GS_PATH_FAST ? "fast" : "reference");
    gs_eval ev = gs_model_forward(m, idx, tgt, N);
    double loss_naive = 0;
    for (int i = 0; i < N; i++) {
        double ref[16];
        naive_logits(ref, m, idx[i] / d.p, idx[i] % d.p);
        for (int o = 0; o < d.n_out; o++)
            CHECK_NEAR(m->logits[i * d.n_out + o], ref[o], 1e-4 * (1 + fabs(ref[o])));
        double mx = ref[0], s = 0;
        for (int o = 1; o < d.n_out; o++)
            mx = fmax(mx, ref[o]);
        for (int o = 0; o < d.n_out; o++)
            s += exp(ref[o] - mx);
        loss_naive += log(s) + mx - ref[tgt[i]];
    }
    CHECK_NEAR(ev.loss_sum, loss_naive, 1e-4 * loss_naive);

    /* gradient check: per tensor, a random +-1 direction (whole-tensor directional
     * derivative) and the 3 entries with the largest gradient, by central differences */
    memset(m->grads, 0, m->n_params * sizeof(float));
    gs_model_forward(m, idx, tgt, N);
    gs_model_backward(m, idx, tgt, N);
    float *g = malloc(m->n_params * sizeof *g);
    memcpy(g, m->grads, m->n_params * sizeof *g);
    /* small steps: a larger one moves pre-activations across ReLU kinks */
    const float h = 2e-4f;
    for (int t = 0; t < GS_N_PARAMS; t++) {
        const gs_param_info *pi = &m->info[t];
        float *w = m->params + pi->offset;
        const float *gt = g + pi->offset;
        double dot = 0;
        signed char *u = malloc(pi->count);
        for (size_t i = 0; i < pi->count; i++) {
            u[i] = (rand() & 1) ? 1 : -1;
            dot += u[i] * gt[i];
        }
        float *saved = malloc(pi->count * sizeof *saved);
        memcpy(saved, w, pi->count * sizeof *saved);
        for (size_t i = 0; i < pi->count; i++)
            w[i] = saved[i] + h * u[i];
        double lp = batch_loss(m, idx, tgt, N);
        for (size_t i = 0; i < pi->count; i++)
            w[i] = saved[i] - h * u[i];
        double lm = batch_loss(m, idx, tgt, N);
        memcpy(w, saved, pi->count * sizeof *saved);
        double fd = (lp - lm) / (2 * h);
        printf("  %-20s directional: analytic %+.6e  numeric %+.6e\n", pi->key, dot, fd);
        /* float32 logits put ~1e-3 of rounding noise into a difference quotient at this h */
        CHECK_NEAR(dot, fd, 2e-3 * fabs(fd) + 1.5e-3);
        CHECK(fabs(dot) > 2e-2); /* a dead tensor would pass trivially */
        for (int rep = 0; rep < 3; rep++) {
            size_t best = 0;
            for (size_t i = 0; i < pi->count; i++)
                if (fabs(gt[i]) > fabs(gt[best]) && u[i] != 0)
                    best = i;
            u[best] = 0;
            float w0 = w[best];
            w[best] = w0 + h;
            lp = batch_loss(m, idx, tgt, N);
            w[best] = w0 - h;
            lm = batch_loss(m, idx, tgt, N);
            w[best] = w0;
            fd = (lp - lm) / (2 * h);
            CHECK_NEAR(gt[best], fd, 3e-3 * fabs(fd) + 2e-4);
        }
        free(saved);
        free(u);
    }
    /* backward accumulates: a second backward doubles the gradient */
    gs_model_forward(m, idx, tgt, N);
    gs_model_backward(m, idx, tgt, N);
    for (int t = 0; t < GS_N_PARAMS; t++) {
        size_t at = m->info[t].offset;
        CHECK_NEAR(m->grads[at], 2 * g[at], 1e-6 * (1 + fabs(g[at])));
    }
    free(g);
}

int main(void)
{
    gs_dims d;
    gs_dims_make(&d, 7, 16, 2, 24);
    gs_model m, f;
    gs_err err;
    enum { N = 30 };
    if (gs_model_create(&m, &d, N, GS_PATH_REFERENCE, &err) != 0 ||
        gs_model_create(&f, &d, N, GS_PATH_FAST, &err) != 0) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    gs_params_init(m.params, &d, 42);
    /* non-zero biases, and a larger scale so attention and ReLU are far from trivial */
    srand(7);
    for (size_t i = 0; i < m.n_params; i++)
        m.params[i] = 1.5f * m.params[i] + 0.1f * ((float)rand() / RAND_MAX - 0.5f);
    memcpy(f.params, m.params, m.n_params * sizeof(float));
    int32_t idx[N], tgt[N];
    for (int i = 0; i < N; i++) {
        idx[i] = (i * 11 + 3) % (d.p * d.p);
        tgt[i] = (idx[i] / d.p + idx[i] % d.p) % d.p;
    }
    check_path(GS_PATH_REFERENCE, &m, idx, tgt, N);
    check_path(GS_PATH_FAST, &f, idx, tgt, N);

    /* the causal mask: position s attends to t <= s only, rows sum to 1 */
    gs_model_forward(&m, idx, tgt, N);
    for (int i = 0; i < N; i++)
        for (int h = 0; h < d.n_heads; h++) {
            const float *a = m.att + ((size_t)i * d.n_heads + h) * 9;
            CHECK(a[1] == 0.0f && a[2] == 0.0f && a[5] == 0.0f);
            CHECK(a[0] == 1.0f);
            CHECK_NEAR(a[3] + a[4], 1.0, 1e-6);
            CHECK_NEAR(a[6] + a[7] + a[8], 1.0, 1e-6);
        }

    /* fast path == reference path, logits and every gradient (float tolerance) */
    memset(m.grads, 0, m.n_params * sizeof(float));
    memset(f.grads, 0, f.n_params * sizeof(float));
    gs_model_forward(&m, idx, tgt, N);
    gs_model_backward(&m, idx, tgt, N);
    gs_model_forward(&f, idx, tgt, N);
    gs_model_backward(&f, idx, tgt, N);
    double worst = 0;
    for (int i = 0; i < N * d.n_out; i++)
        worst = fmax(worst, fabs(m.logits[i] - f.logits[i]) / (1 + fabs(m.logits[i])));
    CHECK(worst < 1e-5);
    for (int t = 0; t < GS_N_PARAMS; t++) {
        double num = 0, den = 0;
        for (size_t i = m.info[t].offset; i < m.info[t].offset + m.info[t].count; i++) {
            num += (m.grads[i] - f.grads[i]) * (double)(m.grads[i] - f.grads[i]);
            den += (double)m.grads[i] * m.grads[i];
        }
        printf("  fast vs reference %-20s relative gradient error %.2e\n", m.info[t].key, sqrt(num / den));
        CHECK(sqrt(num / den) < 1e-5);
    }

    /* chunked evaluation equals one forward */
    gs_model m2;
    CHECK(gs_model_create(&m2, &d, 7, GS_PATH_FAST, &err) == 0);
    memcpy(m2.params, m.params, m.n_params * sizeof(float));
    gs_eval e1 = gs_model_forward(&f, idx, tgt, N), e2 = gs_model_evaluate(&m2, idx, tgt, N);
    CHECK_NEAR(e1.loss_sum, e2.loss_sum, 1e-9);
    CHECK(e1.n_correct == e2.n_correct && e2.n == N);
    gs_model_free(&m2);
    gs_model_free(&m);
    gs_model_free(&f);
    return check_report("model");
}
