/* Model forward against a naive double-precision transcription of docs/science.md §2, and a
 * finite-difference gradient check of every parameter tensor. The fast path against
 * the reference (several tiles, token blocks, repeated inputs), its stages and thread
 * counts against each other bit for bit, its kernels against plain code, and the
 * trainer's metrics against a recomputation from the weights. */
#include <cblas.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "fast_kernels.h"
#include "model.h"
#include "pool.h"
#include "trainer.h"

/* docs/science.md §2 written out loop by loop in double, for one input, all positions. */
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


/* ---- the fast path beyond one tile, and its variants ---- */

static void random_params(gs_model *m, int64_t seed, float scale)
{
    gs_params_init(m->params, &m->d, seed);
    srand((unsigned)seed);
    for (size_t i = 0; i < m->n_params; i++)
        m->params[i] = scale * m->params[i] + 0.1f * ((float)rand() / RAND_MAX - 0.5f);
}

static double rel_err(const float *a, const float *b, size_t n)
{
    double num = 0, den = 0;
    for (size_t i = 0; i < n; i++) {
        num += (a[i] - b[i]) * (double)(a[i] - b[i]);
        den += (double)a[i] * a[i];
    }
    return den > 0 ? sqrt(num / den) : sqrt(num);
}

/* forward + backward of the batch on both paths; logits and every gradient agree */
static void fast_matches_reference(const gs_dims *d, const int32_t *idx, const int32_t *tgt, int n,
                                   gs_pool *pool, const char *what)
{
    gs_model r, f;
    gs_err err;
    CHECK(gs_model_create(&r, d, n, GS_PATH_REFERENCE, &err) == 0);
    CHECK(gs_model_create(&f, d, n, GS_PATH_FAST, &err) == 0);
    random_params(&r, 11, 1.5f);
    memcpy(f.params, r.params, r.n_params * sizeof(float));
    f.pool = pool;
    const gs_eval er = gs_model_forward(&r, idx, tgt, n), ef = gs_model_forward(&f, idx, tgt, n);
    CHECK_NEAR(ef.loss_sum, er.loss_sum, 1e-5 * fabs(er.loss_sum));
    CHECK(labs(ef.n_correct - er.n_correct) <= 1);
    double worst = 0;
    for (size_t i = 0; i < (size_t)n * d->n_out; i++) {
        /* the reference's logits come from x1 at the last position */
        worst = fmax(worst, fabs(r.logits[i] - f.logits[i]) / (1 + fabs(r.logits[i])));
    }
    printf("  %s: %d inputs, logits max relative difference %.2e\n", what, n, worst);
    CHECK(worst < 1e-5);
    gs_model_backward(&r, idx, tgt, n);
    gs_model_backward(&f, idx, tgt, n);
    for (int t = 0; t < GS_N_PARAMS; t++) {
        const double e = rel_err(r.grads + r.info[t].offset, f.grads + f.info[t].offset, r.info[t].count);
        if (!(e < 1e-5))
            printf("  %s: %s relative gradient error %.2e\n", what, r.info[t].key, e);
        CHECK(e < 1e-5);
    }
    gs_model_free(&r);
    gs_model_free(&f);
}

/* One model's results for a batch: loss sums of the three row modes, logits, grads. */
typedef struct {
    gs_eval eval, fwd, train;
    float *logits, *grads_fwd, *grads_train;
} fast_run;

static void run_fast(fast_run *out, const gs_dims *d, const int32_t *idx, const int32_t *tgt, int n,
                     gs_pool *pool)
{
    gs_model f;
    gs_err err;
    CHECK(gs_model_create(&f, d, n, GS_PATH_FAST, &err) == 0);
    random_params(&f, 5, 1.5f);
    f.pool = pool;
    gs_model_fast_prepare(&f);
    out->eval = gs_model_fast_rows(&f, idx, tgt, n, GS_ROWS_EVAL);
    out->fwd = gs_model_fast_rows(&f, idx, tgt, n, GS_ROWS_FORWARD);
    out->logits = malloc((size_t)n * d->n_out * sizeof(float));
    memcpy(out->logits, f.logits, (size_t)n * d->n_out * sizeof(float));
    gs_model_backward(&f, idx, tgt, n);
    out->grads_fwd = malloc(f.n_params * sizeof(float));
    memcpy(out->grads_fwd, f.grads, f.n_params * sizeof(float));
    memset(f.grads, 0, f.n_params * sizeof(float));
    out->train = gs_model_fast_rows(&f, idx, tgt, n, GS_ROWS_TRAIN);
    gs_model_backward(&f, idx, tgt, n);
    out->grads_train = malloc(f.n_params * sizeof(float));
    memcpy(out->grads_train, f.grads, f.n_params * sizeof(float));
    /* an evaluation between the training forward and its backward changes nothing */
    gs_model_fast_rows(&f, idx, tgt, n > 7 ? 7 : n, GS_ROWS_EVAL);
    memset(f.grads, 0, f.n_params * sizeof(float));
    gs_model_backward(&f, idx, tgt, n);
    CHECK(memcmp(f.grads, out->grads_train, f.n_params * sizeof(float)) == 0);
    gs_model_free(&f);
}

static void free_run(fast_run *r)
{
    free(r->logits);
    free(r->grads_fwd);
    free(r->grads_train);
}

static int same_eval(gs_eval a, gs_eval b)
{
    return memcmp(&a.loss_sum, &b.loss_sum, sizeof a.loss_sum) == 0 && a.n_correct == b.n_correct && a.n == b.n;
}

/* The modes agree bit for bit on the loss; thread counts agree bit for bit on
 * everything. */
static void fast_modes_and_threads(const gs_dims *d, const int32_t *idx, const int32_t *tgt, int n)
{
    gs_model probe;
    gs_err err;
    CHECK(gs_model_create(&probe, d, n, GS_PATH_FAST, &err) == 0);
    const size_t n_params = probe.n_params, n_logits = (size_t)n * d->n_out;
    gs_model_free(&probe);
    fast_run base;
    run_fast(&base, d, idx, tgt, n, NULL);
    CHECK(same_eval(base.eval, base.fwd));
    CHECK(same_eval(base.eval, base.train));
    CHECK(rel_err(base.grads_fwd, base.grads_train, n_params) < 1e-6);
    for (int threads = 1; threads <= 3; threads++) {
        gs_pool *pool;
        CHECK(gs_pool_create(&pool, threads, gs_model_fast_scratch_size(d), &err) == 0);
        fast_run r;
        run_fast(&r, d, idx, tgt, n, pool);
        CHECK(same_eval(r.eval, base.eval) && same_eval(r.fwd, base.fwd) && same_eval(r.train, base.train));
        CHECK(memcmp(r.logits, base.logits, n_logits * sizeof(float)) == 0);
        CHECK(memcmp(r.grads_fwd, base.grads_fwd, n_params * sizeof(float)) == 0);
        CHECK(memcmp(r.grads_train, base.grads_train, n_params * sizeof(float)) == 0);
        free_run(&r);
        gs_pool_free(pool);
    }
    free_run(&base);
}

/* ---- kernels ---- */

static double ulps(double a, double b)
{
    int64_t x, y;
    memcpy(&x, &a, sizeof x);
    memcpy(&y, &b, sizeof y);
    return fabs((double)(x - y));
}

static void check_kernels(void)
{
    /* exp against libm over the range the cross-entropy uses */
    double worst = 0;
    for (int i = 0; i <= 400000; i++) {
        const double x = i < 200000 ? -10.0 * i / 200000 : -10.0 - 697.0 * (i - 200000) / 200000;
        worst = fmax(worst, ulps(gs_k_exp_neg(x), exp(x)));
    }
    printf("  exp: at most %.0f ulp from libm on [-707, 0]\n", worst);
    CHECK(worst <= 2);
    CHECK(gs_k_exp_neg(0.0) == 1.0);
    CHECK(isnan(gs_k_exp_neg(NAN)));
    CHECK(gs_k_exp_neg(-INFINITY) >= 0 && gs_k_exp_neg(-INFINITY) < 1e-300);

    /* cross-entropy rows against gs_cross_entropy_row, widths with and without tails */
    srand(3);
    const int widths[] = {1, 2, 7, 8, 15, 16, 17, 31, 114, 131};
    double eb[256];
    for (size_t wi = 0; wi < sizeof widths / sizeof *widths; wi++) {
        const int V = widths[wi];
        for (int rep = 0; rep < 50; rep++) {
            float l[256], g[256];
            const float spread = rep % 3 == 0 ? 1.0f : rep % 3 == 1 ? 30.0f : 3000.0f;
            for (int c = 0; c < V; c++)
                l[c] = spread * ((float)rand() / RAND_MAX - 0.5f);
            if (rep % 5 == 0 && V > 3)
                l[V / 2] = l[V - 1] = l[0] + 1; /* ties: the first maximum wins */
            const int t = rep % V;
            int ok_ref, ok = -1;
            const double ref = gs_cross_entropy_row(l, V, t, &ok_ref);
            const double loss = gs_k_xent_row(l, V, t, &ok, g, 7, eb);
            CHECK_NEAR(loss, ref, 1e-13 * (1 + fabs(ref)));
            CHECK(ok == ok_ref);
            double mx = l[0], sum = 0;
            for (int c = 1; c < V; c++)
                mx = fmax(mx, l[c]);
            for (int c = 0; c < V; c++)
                sum += exp(l[c] - mx);
            for (int c = 0; c < V; c++) {
                const float want = (float)((exp(l[c] - mx) / sum - (c == t)) / 7);
                CHECK_NEAR(g[c], want, 1e-6 * fabs(want) + 1e-30);
            }
            CHECK(gs_k_xent_row(l, V, t, &ok, NULL, 7, eb) == loss);
        }
    }
    /* a small loss keeps float64 precision (in float32, 1 + 2.3e-7 would be off by 3%) */
    {
        float l[114];
        for (int c = 0; c < 114; c++)
            l[c] = c == 5 ? 20.0f : 0.0f;
        int ok;
        const double loss = gs_k_xent_row(l, 114, 5, &ok, NULL, 1, eb), want = log1p(113 * exp(-20.0));
        CHECK(ok == 1 && fabs(loss - want) < 1e-6 * want);
    }
    /* divergence reads as on the reference path */
    {
        float l[20];
        for (int c = 0; c < 20; c++)
            l[c] = (float)c;
        int ok;
        l[7] = NAN;
        CHECK(isnan(gs_k_xent_row(l, 20, 3, &ok, NULL, 1, eb)));
        l[7] = INFINITY;
        CHECK(!isfinite(gs_k_xent_row(l, 20, 3, &ok, NULL, 1, eb)));
        l[7] = 7.0f;
        l[3] = -INFINITY;
        const double ref = gs_cross_entropy_row(l, 20, 3, &ok);
        CHECK(isinf(ref) && gs_k_xent_row(l, 20, 3, &ok, NULL, 1, eb) == ref);
    }

    /* the row products against plain loops: partial panels and row blocks, add, the
     * ReLU mask, A transposed (B's rows padded to a multiple of 16, as the kernel asks) */
    {
        const int rows_[] = {1, 5, 6, 7, 13}, cols_[] = {1, 15, 16, 17, 64, 65, 114}, ks[] = {1, 3, 32};
        static float A[13 * 32], At[32 * 13], B[32 * 128 + 16], C[13 * 114], mask[13 * 114];
        for (size_t i = 0; i < sizeof B / sizeof *B; i++)
            B[i] = (float)rand() / RAND_MAX - 0.5f;
        int bad = 0;
        for (size_t ri = 0; ri < 5; ri++)
            for (size_t ci = 0; ci < 7; ci++)
                for (size_t ki = 0; ki < 3; ki++)
                    for (int variant = 0; variant < 4; variant++) {
                        const int R = rows_[ri], Cn = cols_[ci], K = ks[ki], add = variant & 1;
                        const int use_mask = variant == 2, trans = variant == 3;
                        for (int i = 0; i < R * K; i++)
                            A[i] = (float)rand() / RAND_MAX - 0.5f;
                        for (int r = 0; r < R; r++)
                            for (int k = 0; k < K; k++)
                                At[k * R + r] = A[r * K + k];
                        for (int i = 0; i < R * Cn; i++) {
                            C[i] = (float)rand() / RAND_MAX;
                            mask[i] = (float)(rand() % 3) - 1.0f;
                        }
                        double want[13 * 114];
                        for (int r = 0; r < R; r++)
                            for (int j = 0; j < Cn; j++) {
                                double acc = add ? C[r * Cn + j] : 0;
                                for (int k = 0; k < K; k++)
                                    acc += (double)A[r * K + k] * B[k * 128 + j];
                                want[r * Cn + j] = use_mask && !(mask[r * Cn + j] > 0) ? 0 : acc;
                            }
                        if (trans)
                            gs_k_gemm_at(C, Cn, At, R, B, 128, R, Cn, K, add);
                        else
                            gs_k_gemm(C, Cn, A, K, B, 128, R, Cn, K, add, use_mask ? mask : NULL, Cn);
                        for (int i = 0; i < R * Cn; i++)
                            bad += !(fabs(C[i] - want[i]) <= 1e-5 * (1 + fabs(want[i])));
                    }
        CHECK(bad == 0);
    }

    /* weighted sums of rows against plain loops, every output and row count */
    for (int k = 1; k <= 13; k++)
        for (int n = 1; n <= 70; n += 23)
            for (int rows = 0; rows <= 9; rows += 3) {
                float x[9][70], w[9 * 13], out[13][70], want[13][70];
                const float *xs[9];
                float *outs[13];
                for (int i = 0; i < rows; i++) {
                    xs[i] = x[i];
                    for (int c = 0; c < n; c++)
                        x[i][c] = (float)rand() / RAND_MAX - 0.5f;
                }
                for (int i = 0; i < rows * k; i++)
                    w[i] = (float)rand() / RAND_MAX;
                for (int acc = 0; acc < 2; acc++) {
                    for (int j = 0; j < k; j++) {
                        outs[j] = out[j];
                        for (int c = 0; c < n; c++) {
                            out[j][c] = acc ? (float)j : -1.0f;
                            double s = acc ? j : 0;
                            for (int i = 0; i < rows; i++)
                                s += (double)w[i * k + j] * x[i][c];
                            want[j][c] = (float)s;
                        }
                    }
                    gs_k_wsum(outs, k, xs, w, rows, n, acc);
                    for (int j = 0; j < k; j++)
                        for (int c = 0; c < n; c++)
                            CHECK_NEAR(out[j][c], want[j][c], 1e-5 * (1 + fabs(want[j][c])));
                }
            }
}

/* ---- the trainer: thread counts give the same run; its metrics are what the
 * weights give when evaluated again (gs_model_evaluate / gs_model_forward) ---- */

static void check_trainer(void)
{
    gs_config cfg;
    gs_config_default(&cfg);
    cfg.p = 23;
    cfg.frac = 0.5;
    cfg.d_model = 32;
    cfg.n_heads = 4;
    cfg.d_mlp = 48;
    gs_err err;
    const int saved = openblas_get_num_threads();
    float *after[3] = {0};
    gs_epoch_metrics first[3];
    size_t n_params = 0;
    for (int threads = 1; threads <= 3; threads++) {
        openblas_set_num_threads(threads);
        gs_split split;
        gs_trainer tr;
        CHECK(gs_split_make(&split, cfg.p, cfg.op, cfg.frac, cfg.seed, &err) == 0);
        CHECK(gs_trainer_init(&tr, &cfg, &split, &err) == 0);
        gs_params_init(tr.model.params, &tr.dims, cfg.seed);
        n_params = tr.model.n_params;
        gs_epoch_metrics m;
        for (int e = 0; e < 30; e++) {
            gs_trainer_measure(&tr, &m);
            if (e == 0)
                first[threads - 1] = m;
            gs_trainer_update(&tr);
        }
        gs_trainer_measure(&tr, &m);
        /* recompute as the probes do, on a model of its own without threads */
        gs_model f;
        CHECK(gs_model_create(&f, &tr.dims, tr.split.n_train, GS_PATH_FAST, &err) == 0);
        memcpy(f.params, tr.model.params, n_params * sizeof(float));
        const gs_eval te = gs_model_evaluate(&f, tr.split.test_idx, tr.test_tgt, tr.split.n_test);
        const gs_eval tn = gs_model_forward(&f, tr.split.train_idx, tr.train_tgt, tr.split.n_train);
        CHECK(m.test_loss == te.loss_sum / te.n && m.test_acc == (double)te.n_correct / te.n);
        CHECK(m.train_loss == tn.loss_sum / tn.n && m.train_acc == (double)tn.n_correct / tn.n);
        /* the training-set-only measurement gives the same training numbers */
        gs_epoch_metrics mt;
        gs_trainer_measure_train(&tr, &mt);
        CHECK(mt.train_loss == m.train_loss && isnan(mt.test_loss));
        after[threads - 1] = malloc(n_params * sizeof(float));
        memcpy(after[threads - 1], tr.model.params, n_params * sizeof(float));
        if (threads == 1)
            printf("  trainer: 30 epochs, train loss %.4f -> %.4f, test loss %.4f -> %.4f\n",
                   first[0].train_loss, m.train_loss, first[0].test_loss, m.test_loss);
        CHECK(m.train_loss < first[threads - 1].train_loss);
        gs_model_free(&f);
        gs_trainer_free(&tr);
    }
    for (int i = 1; i < 3; i++) {
        CHECK(memcmp(after[i], after[0], n_params * sizeof(float)) == 0);
        CHECK(first[i].test_loss == first[0].test_loss && first[i].train_loss == first[0].train_loss);
    }
    for (int i = 0; i < 3; i++)
        free(after[i]);
    openblas_set_num_threads(saved);
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

    /* several tiles, two blocks of b tokens, 4 heads; then repeated inputs (more rows
     * per token than p); with and without worker threads */
    printf("fast path, larger batches\n");
    gs_dims d2;
    gs_dims_make(&d2, 19, 32, 4, 40);
    enum { N2 = 300 };
    int32_t idx2[N2], tgt2[N2];
    for (int i = 0; i < N2; i++) {
        idx2[i] = (i * 97 + 5) % (d2.p * d2.p);
        tgt2[i] = (idx2[i] / d2.p + idx2[i] % d2.p) % d2.p;
    }
    gs_pool *pool;
    CHECK(gs_pool_create(&pool, 2, gs_model_fast_scratch_size(&d2), &err) == 0);
    fast_matches_reference(&d2, idx2, tgt2, N2, NULL, "300 distinct inputs");
    fast_matches_reference(&d2, idx2, tgt2, N2, pool, "300 distinct inputs, 2 threads");
    gs_pool_free(pool);
    gs_dims d3;
    gs_dims_make(&d3, 5, 16, 2, 24);
    enum { N3 = 25 };
    int32_t idx3[N3], tgt3[N3];
    for (int i = 0; i < N3; i++) {
        idx3[i] = (i * 7) % 10; /* a is 0 or 1 only: up to 13 rows per token, p = 5 */
        tgt3[i] = (idx3[i] / d3.p + idx3[i] % d3.p) % d3.p;
    }
    fast_matches_reference(&d3, idx3, tgt3, N3, NULL, "repeated inputs");
    /* widths that are no multiple of the kernels' 16 lanes, 3 heads of 4 */
    gs_dims d4;
    gs_dims_make(&d4, 11, 12, 3, 20);
    enum { N4 = 100 };
    int32_t idx4[N4], tgt4[N4];
    for (int i = 0; i < N4; i++) {
        idx4[i] = (i * 13 + 2) % (d4.p * d4.p);
        tgt4[i] = (idx4[i] / d4.p + idx4[i] % d4.p) % d4.p;
    }
    fast_matches_reference(&d4, idx4, tgt4, N4, NULL, "odd widths");

    printf("fast path, modes and thread counts\n");
    fast_modes_and_threads(&d2, idx2, tgt2, N2);
    fast_modes_and_threads(&d, idx, tgt, N);
    fast_modes_and_threads(&d4, idx4, tgt4, N4);

    printf("kernels\n");
    check_kernels();
    printf("trainer\n");
    check_trainer();
    return check_report("model");
}
