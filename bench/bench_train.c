/* bench_train: ms per epoch of the paper's run (p=113, frac 0.3, 128/4/512), reference
 * path against the fast path, with FLOP counts, the OpenBLAS sgemm rate measured in the
 * same run as the floor, peak RSS, and a PyTorch implementation of the same model and
 * schedule when /usr/bin/python3 has torch; then the epoch from the init against the epoch
 * after grokking, with and without flushing subnormals (bench_late.c).
 *
 * The machine may be shared: every figure is taken in rounds that interleave the
 * variants, and the best round (and the median) is reported, so ratios are measured
 * under the same load.
 *
 *   bench_train [--threads N] [--rounds R] [--epochs E] [--ref-epochs E] [--no-torch]
 *               [--phases] [--no-late] [--late-only] [--late-epochs E] [--models-only]
 *
 * Then the other models (docs/models.md): the MLP in Prieto et al.'s configuration
 * against the same MLP in PyTorch (--models-only: that part alone). */
#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "adamw.h"
#include "bench_late.h"
#include "config.h"
#include "fast_kernels.h"
#include "model.h"
#include "pool.h"
#include "trainer.h"

#ifndef GS_BENCH_DIR
#define GS_BENCH_DIR "bench"
#endif

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + 1e-9 * t.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
    const double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double best_of(const double *v, int n)
{
    double b = v[0];
    for (int i = 1; i < n; i++)
        b = v[i] < b ? v[i] : b;
    return b;
}

static double median_of(const double *v, int n)
{
    double s[256];
    memcpy(s, v, (size_t)n * sizeof *s);
    qsort(s, (size_t)n, sizeof *s, cmp_double);
    return n % 2 ? s[n / 2] : 0.5 * (s[n / 2 - 1] + s[n / 2]);
}

/* ---- FLOP counts (2 per multiply-add, matrix products and the fast path's row
 * kernels; elementwise work, exp and AdamW are not counted) ---- */

typedef struct {
    double train, test; /* per epoch */
} flops;

static flops reference_flops(const gs_dims *d, double n_train, double n_test)
{
    const double D = d->d_model, M = d->d_mlp, V = d->n_out, E = d->d_head, H = d->n_heads;
    /* per input: Q, K, V and output projections at 3 positions; attention (6 causal
     * pairs, scores and values); MLP and unembedding at the last position */
    const double attn = 6 * H * E * 2 * 2;
    const double fwd = 3 * 3 * 2 * D * D + 3 * 2 * D * D + attn + 2 * D * M + 2 * M * D + 2 * D * V;
    /* backward: two products per forward product (W_O: dW_O and dz; Q/K/V: dW and dx) */
    const double bwd = 2 * (3 * 3 * 2 * D * D + 3 * 2 * D * D) + 2 * attn +
                       2 * (2 * D * M + 2 * M * D + 2 * D * V);
    return (flops){n_train * (fwd + bwd), n_test * fwd};
}

static flops fast_flops(const gs_dims *d, double n_train, double n_test)
{
    const double p = d->p, D = d->d_model, M = d->d_mlp, V = d->n_out, H = d->n_heads,
                 E = d->d_head, R = 2 * p + 1, W = M + V;
    /* tables (model_fast.h): K, Vt (R x D x E per head), q, scores; OWin = W_O W_in,
     * OU = W_O W_U, WoU = W_out W_U; VOWd, VOUd (2p rows, width M and V, K = E per
     * head); the constants c_pre, c_log */
    const double tables = 2 * (2 * R * D * E * H) + 2 * D * E * H + 2 * R * E * H +
                          2 * H * E * D * W + 2 * M * D * V + 2 * (2 * p) * E * H * W +
                          2 * D * W + 2 * H * E * W;
    /* per input: 2H table rows of each width, one [M] x [M, V] product */
    const double row_fwd = 2 * (2 * H) * W + 2 * M * V;
    /* per training input: dpre = dlogits WoU^T, 2H dots of each width, its share of
     * dWoU = post^T dlogits, the token-grouped sums (2H + 1 outputs by a, H by b) */
    const double row_bwd = 2 * M * V + 2 * (2 * H) * W + 2 * M * V + 2 * (3 * H + 1) * W;
    /* table backward: dOWin, dOU, dVt (two products each, K = R); dW_O; the scores'
     * dK and dq; dW_K, dW_V and de (two); dW_in, dW_U (from OU and WoU), dW_out; the
     * "=" rows' sums over tokens; rank-one terms of the constants */
    const double tables_bwd = 2 * (2 * E * R * H * W) + 2 * E * D * H * W + 4 * R * E * H +
                              4 * (2 * R * D * E * H) + 2 * D * M * H * E + 2 * D * V * H * E +
                              2 * (2 * M * D * V) + 2 * p * (H + 1) * W + 4 * D * W;
    return (flops){tables + tables_bwd + n_train * (row_fwd + row_bwd), n_test * row_fwd};
}

/* ---- the sgemm floor: best rate of OpenBLAS at the same thread count ---- */

static double sgemm_rate(int M, int N, int K, int reps)
{
    float *A = malloc(sizeof(float) * (size_t)M * K), *B = malloc(sizeof(float) * (size_t)K * N),
          *C = calloc((size_t)M * N, sizeof(float));
    for (size_t i = 0; i < (size_t)M * K; i++)
        A[i] = (float)((i * 7919 % 1000) / 1000.0 - 0.5);
    for (size_t i = 0; i < (size_t)K * N; i++)
        B[i] = (float)((i * 104729 % 1000) / 1000.0 - 0.5);
    double best = 1e30;
    for (int r = 0; r < reps; r++) {
        const double t = now();
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, M, N, K, 1.0f, A, K, B, N, 0.0f, C, N);
        const double dt = now() - t;
        best = dt < best ? dt : best;
    }
    free(A);
    free(B);
    free(C);
    return 2.0 * M * N * K / best / 1e9;
}

/* ---- the variants ---- */

typedef struct {
    gs_config cfg;
    gs_trainer tr;
    gs_model ref;
    float *ref_m, *ref_v;
    long ref_step;
} bench;

static void reference_epoch(bench *b, int with_test)
{
    gs_model *m = &b->ref;
    const gs_split *s = &b->tr.split;
    if (with_test)
        gs_model_evaluate(m, s->test_idx, b->tr.test_tgt, s->n_test);
    gs_model_forward(m, s->train_idx, b->tr.train_tgt, s->n_train);
    memset(m->grads, 0, m->n_params * sizeof(float));
    gs_model_backward(m, s->train_idx, b->tr.train_tgt, s->n_train);
    gs_adamw_step(m->params, m->grads, b->ref_m, b->ref_v, m->n_params, &b->cfg, b->ref_step++);
}

static double time_reference(bench *b, int epochs, int with_test)
{
    const double t = now();
    for (int e = 0; e < epochs; e++)
        reference_epoch(b, with_test);
    return (now() - t) / epochs * 1e3;
}

static double time_fast(bench *b, int epochs, int with_test)
{
    gs_epoch_metrics m;
    const double t = now();
    for (int e = 0; e < epochs; e++) {
        if (with_test)
            gs_trainer_measure(&b->tr, &m);
        else
            gs_trainer_measure_train(&b->tr, &m);
        gs_trainer_update(&b->tr);
    }
    return (now() - t) / epochs * 1e3;
}

/* per-stage wall times of the fast path's epoch (ms, best over epochs) */
static void fast_phases(bench *b, int epochs)
{
    gs_trainer *tr = &b->tr;
    gs_model *m = &tr->model;
    enum { NS = 5 };
    double best[NS];
    for (int i = 0; i < NS; i++)
        best[i] = 1e30;
    const char *names[NS] = {"tables", "test rows", "train rows", "backward", "AdamW"};
    for (int e = 0; e < epochs; e++) {
        double t[NS + 1];
        t[0] = now();
        gs_model_fast_prepare(m);
        t[1] = now();
        for (int at = 0; at < tr->split.n_test; at += m->max_batch) {
            const int len = tr->split.n_test - at < m->max_batch ? tr->split.n_test - at : m->max_batch;
            gs_model_fast_rows(m, tr->split.test_idx + at, tr->test_tgt + at, len, GS_ROWS_EVAL);
        }
        t[2] = now();
        gs_model_fast_rows(m, tr->split.train_idx, tr->train_tgt, tr->split.n_train, GS_ROWS_TRAIN);
        t[3] = now();
        memset(m->grads, 0, m->n_params * sizeof(float));
        gs_model_backward(m, tr->split.train_idx, tr->train_tgt, tr->split.n_train);
        t[4] = now();
        const gs_adamw_scalars sc = gs_adamw_scalars_at(&tr->cfg, tr->step++);
        gs_adamw_update_simd(m->params, m->grads, tr->adam_m, tr->adam_v, m->n_params, &sc);
        t[5] = now();
        for (int i = 0; i < NS; i++)
            best[i] = fmin(best[i], (t[i + 1] - t[i]) * 1e3);
    }
    printf("fast path stages, wall ms, best of %d epochs (AdamW here on the calling thread only):\n",
           epochs);
    double sum = 0;
    for (int i = 0; i < NS; i++) {
        printf("  %-12s %8.3f\n", names[i], best[i]);
        sum += best[i];
    }
    printf("  %-12s %8.3f\n", "sum", sum);
}

/* --rss-child: train on the fast path only (with test metrics every epoch), as a run
 * does, and print the peak RSS. Run as a fresh process (not a fork, which would count
 * this benchmark's own pages). */
static int rss_child(const gs_config *cfg, int epochs)
{
    gs_split split;
    gs_err err;
    gs_trainer tr;
    if (gs_split_make(&split, cfg->p, cfg->op, cfg->frac, cfg->seed, &err) != 0 ||
        gs_trainer_init(&tr, cfg, &split, &err) != 0) {
        fprintf(stderr, "bench_train: %s\n", err.msg);
        return 1;
    }
    gs_params_init(tr.model.params, &tr.dims, cfg->seed);
    gs_epoch_metrics m;
    for (int e = 0; e < epochs; e++) {
        gs_trainer_measure(&tr, &m);
        gs_trainer_update(&tr);
    }
    gs_trainer_free(&tr);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("rss_kb %ld\n", ru.ru_maxrss);
    return 0;
}

static long fast_training_rss_kb(int threads, int epochs)
{
    char cmd[256];
    snprintf(cmd, sizeof cmd, "/proc/%d/exe --rss-child %d --threads %d", (int)getpid(), epochs, threads);
    FILE *f = popen(cmd, "r");
    long kb = -1;
    if (f) {
        char line[128];
        while (fgets(line, sizeof line, f))
            sscanf(line, "rss_kb %ld", &kb);
        if (pclose(f) != 0)
            kb = -1;
    }
    return kb;
}

/* ms/epoch of bench/torch_baseline.py (extra: more of its options), or < 0 (with the
 * reason in why) */
static double torch_ms(int threads, int epochs, int rounds, const char *extra, char *why, size_t why_len)
{
    if (system("/usr/bin/python3 -c 'import torch' >/dev/null 2>&1") != 0) {
        snprintf(why, why_len, "/usr/bin/python3 cannot import torch");
        return -1;
    }
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "/usr/bin/python3 %s/torch_baseline.py --threads %d --epochs %d --rounds %d %s",
             GS_BENCH_DIR, threads, epochs, rounds, extra);
    FILE *f = popen(cmd, "r");
    if (!f) {
        snprintf(why, why_len, "cannot run bench/torch_baseline.py");
        return -1;
    }
    char line[512];
    double ms = -1;
    while (fgets(line, sizeof line, f)) {
        double v;
        if (sscanf(line, "ms_per_epoch %lf", &v) == 1)
            ms = v;
        else
            fputs(line, stdout);
    }
    if (pclose(f) != 0 || ms < 0) {
        snprintf(why, why_len, "bench/torch_baseline.py failed");
        return -1;
    }
    return ms;
}

/* ---- the other models (docs/models.md): the trainer's epoch as the command line runs
 * it (the pool computes, OpenBLAS single-threaded inside it), with test metrics, against
 * the same model in PyTorch in the same run ---- */

/* One model: its epoch (with test metrics) in rounds, then PyTorch's (torch_args).
 * path: the trainer's model on that path (the trainer itself runs GS_PATH_FAST). */
static int bench_model(const gs_config *cfg_in, const char *name, int threads, int rounds, int epochs,
                       int use_torch, const char *torch_args, double gflop_per_epoch, gs_path path)
{
    const gs_config cfg = *cfg_in;
    bench b;
    memset(&b, 0, sizeof b);
    b.cfg = cfg;
    gs_split split;
    gs_err err;
    if (gs_split_make(&split, cfg.p, cfg.op, cfg.frac, cfg.seed, &err) != 0 ||
        gs_trainer_init(&b.tr, &cfg, &split, &err) != 0) {
        fprintf(stderr, "bench_train: %s\n", err.msg);
        return 1;
    }
    if (path != GS_PATH_FAST) {
        gs_model ref;
        if (gs_model_create(&ref, &b.tr.dims, b.tr.model.max_batch, path, &err) != 0) {
            fprintf(stderr, "bench_train: %s\n", err.msg);
            return 1;
        }
        ref.pool = b.tr.model.pool;
        ref.loss = b.tr.model.loss;
        gs_model_free(&b.tr.model);
        b.tr.model = ref;
    }
    gs_params_init(b.tr.model.params, &b.tr.dims, cfg.seed);
    char model[256];
    gs_config_describe_model(&cfg, model, sizeof model);
    time_fast(&b, 1, 1); /* warm up */
    double t[256];
    for (int r = 0; r < rounds; r++) {
        t[r] = time_fast(&b, epochs, 1);
        fprintf(stderr, "round %d/%d: %s %.2f ms\n", r + 1, rounds, name, t[r]);
    }
    const double best = best_of(t, rounds);
    printf("%-44s %10.2f %10.2f %9.3f %9.1f\n", name, best, median_of(t, rounds), gflop_per_epoch,
           gflop_per_epoch / best * 1e3);
    if (path == GS_PATH_FAST)
        printf("  (%s)\n", model);
    else
        printf("  (the same model on its reference path)\n");
    gs_trainer_free(&b.tr);
    if (use_torch) {
        char why[512] = "";
        const double tt = torch_ms(threads, epochs / 2 > 2 ? epochs / 2 : 2, rounds < 3 ? rounds : 3,
                                   torch_args, why, sizeof why);
        if (tt > 0)
            printf("  PyTorch (bench/torch_baseline.py %s, same model and schedule, float64 loss): "
                   "%.2f ms/epoch; grokscope %.1fx faster\n", torch_args, tt, tt / best);
        else
            printf("  PyTorch: not measured (%s)\n", why);
    }
    return 0;
}

static int bench_models(int threads, int rounds, int epochs, int use_torch)
{
    gs_pool_set_default_threads(threads);
    openblas_set_num_threads(1);
    printf("\nmodels: p=113 frac 0.30, %d threads (the pool, as the command line runs), "
           "+ test metrics; best (median) of %d rounds\n", threads, rounds);
    printf("%-44s %10s %10s %9s %9s\n", "", "ms/epoch", "(median)", "GFLOP", "GFLOP/s");
    gs_config cfg;
    gs_config_default(&cfg);
    const double n_train = (int)(cfg.frac * cfg.p * cfg.p), n_all = (double)cfg.p * cfg.p;
    /* Prieto et al.'s MLP: two concatenated one-hots, 200, 200, ReLU, no bias. FLOPs:
     * the one-hot first layer is a gather (not counted); the other layers' products,
     * forward on every pair, backward (two products each) on the training set */
    cfg.model = GS_MODEL_MLP;
    cfg.d_embed = 0;
    cfg.bias = 0;
    const double h = 200, V = cfg.p, fwd = 2 * h * h + 2 * h * V;
    if (bench_model(&cfg, "mlp 2x200 one-hot, no bias", threads, rounds, epochs, use_torch,
                    "--model mlp", (fwd * n_all + 2 * fwd * n_train) / 1e9, GS_PATH_FAST) != 0)
        return 1;
    /* Power et al.'s 2-layer transformer (the paper's block twice). FLOPs per input
     * (forward; the backward twice that), counting attention as 4 FLOPs per key and
     * width. Reference path: every position through both blocks. */
    gs_config_default(&cfg);
    cfg.n_layers = 2;
    const double D = cfg.d_model, M = cfg.d_mlp, Vt = cfg.p + 1, p = cfg.p;
    const double proj = 2 * D * D, mlp = 2 * 2 * D * M, head = 2 * D * Vt;
    const double ref_fwd = 2 * (3 * (4 * proj + mlp) + 6 * 4 * D) + head;
    /* Fast path (core/model_deep_fast.c). Forward: the first block at positions 1 and 2
     * as sums of table rows (4 + 6 rows per head, of widths D and M) and its W_out; the
     * last block's keys and values at positions 1 and 2, the rest at position 2.
     * Backward (training inputs): the first block's W_out at positions 1 and 2 (W_in and
     * W_O through the tables: a dot product and a weighted sum per key, head and width),
     * the last block's products at the positions the forward ran. Once an epoch (the
     * test set and the training set go through the same tables) the tables: 2p + 1 rows
     * of the first block's q, k, v, OV, VOW and x W_in, W_O W_in, p rows of position 0
     * through the first block and of the last block's k, v; their backward counted as
     * twice that */
    const double H = cfg.n_heads;
    const double fast_fwd = 10 * H * (D + M) + 2 * (mlp / 2) + 5 * 4 * D /* first block */
                            + 2 * 2 * proj + proj + proj + mlp + 3 * 4 * D /* last block */ + head;
    const double fast_bwd = 2 * head + (2 * mlp + 2 * proj + 2 * proj + 8 * proj + 3 * 8 * D) +
                            2 * mlp + 20 * H * (D + M) + 5 * 8 * D;
    const double tables = (2 * p + 1) * (3 * proj + 2 * proj + H * (D / H) * M * 2 + mlp / 2) +
                          H * (D / H) * M * D * 2 + p * (proj + mlp) + p * 2 * proj;
    const int tf_epochs = epochs / 10 > 2 ? epochs / 10 : 2;
    if (bench_model(&cfg, "transformer, 2 blocks (fast path)", threads, rounds, tf_epochs, use_torch,
                    "--layers 2", (fast_fwd * n_all + fast_bwd * n_train + 3 * tables) / 1e9,
                    GS_PATH_FAST) != 0)
        return 1;
    return bench_model(&cfg, "transformer, 2 blocks (reference path)", threads, rounds, tf_epochs, 0,
                       "--layers 2", (ref_fwd * n_all + 2 * ref_fwd * n_train) / 1e9, GS_PATH_REFERENCE);
}

static void usage(void)
{
    fprintf(stderr, "usage: bench_train [--threads N] [--rounds R] [--epochs E] [--ref-epochs E] "
                    "[--no-torch] [--phases] [--no-late] [--late-only] [--late-epochs E] [--models-only]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    int threads = 2, rounds = 7, epochs = 20, ref_epochs = 2, use_torch = 1, phases = 0, rss_epochs = 0;
    int late = 1, late_only = 0, late_epochs = 1500, models_only = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--threads") && i + 1 < argc)
            threads = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--rounds") && i + 1 < argc)
            rounds = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--epochs") && i + 1 < argc)
            epochs = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--ref-epochs") && i + 1 < argc)
            ref_epochs = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--no-torch"))
            use_torch = 0;
        else if (!strcmp(argv[i], "--phases"))
            phases = 1;
        else if (!strcmp(argv[i], "--no-late"))
            late = 0;
        else if (!strcmp(argv[i], "--late-only"))
            late_only = 1;
        else if (!strcmp(argv[i], "--models-only"))
            models_only = 1;
        else if (!strcmp(argv[i], "--late-epochs") && i + 1 < argc)
            late_epochs = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--rss-child") && i + 1 < argc)
            rss_epochs = atoi(argv[++i]);
        else
            usage();
    }
    if (threads < 1 || rounds < 0 || rounds > 256 || epochs < 1 || ref_epochs < 1 || late_epochs < 1)
        usage();
    openblas_set_num_threads(threads);
    if (late_only) {
        /* as the command line runs: the pool computes, OpenBLAS single-threaded */
        gs_pool_set_default_threads(threads);
        openblas_set_num_threads(1);
        return bench_late(rounds > 0 ? rounds : 1, epochs, late_epochs);
    }
    if (models_only)
        return bench_models(threads, rounds > 0 ? rounds : 1, epochs, use_torch);
    if (rss_epochs > 0) {
        gs_config cfg;
        gs_config_default(&cfg);
        return rss_child(&cfg, rss_epochs);
    }

    bench b;
    memset(&b, 0, sizeof b);
    gs_config_default(&b.cfg);
    gs_split split;
    gs_err err;
    if (gs_split_make(&split, b.cfg.p, b.cfg.op, b.cfg.frac, b.cfg.seed, &err) != 0 ||
        gs_trainer_init(&b.tr, &b.cfg, &split, &err) != 0 ||
        gs_model_create(&b.ref, &b.tr.dims, b.tr.split.n_train, GS_PATH_REFERENCE, &err) != 0) {
        fprintf(stderr, "bench_train: %s\n", err.msg);
        return 1;
    }
    gs_params_init(b.tr.model.params, &b.tr.dims, b.cfg.seed);
    memcpy(b.ref.params, b.tr.model.params, b.ref.n_params * sizeof(float));
    b.ref_m = calloc(2 * b.ref.n_params, sizeof(float));
    b.ref_v = b.ref_m + b.ref.n_params;
    const gs_dims *d = &b.tr.dims;
    const int n_train = b.tr.split.n_train, n_test = b.tr.split.n_test;
    printf("grokscope bench_train: p=%d frac %.2f (%d train, %d test), d_model %d, %d heads, d_mlp %d; "
           "%d threads; OpenBLAS %s\n",
           d->p, b.cfg.frac, n_train, n_test, d->d_model, d->n_heads, d->d_mlp, threads,
           openblas_get_config());

    /* warm up (first-touch of memory, OpenBLAS buffers, the pool) */
    time_fast(&b, 3, 1);
    if (phases)
        fast_phases(&b, 3 * epochs);
    if (rounds == 0)
        return 0; /* --rounds 0 --phases: the stages only */
    time_reference(&b, 1, 1);

    enum { N_PEAK = 2 };
    double ref_step[256], ref_full[256], fast_step[256], fast_full[256], peak[N_PEAK][256];
    for (int r = 0; r < rounds; r++) {
        /* the floor: the same BLAS at the same thread count, a training-sized product
         * and a large square one */
        peak[0][r] = sgemm_rate(n_train, d->d_mlp, d->d_model, 5);
        peak[1][r] = sgemm_rate(2048, 2048, 2048, 1);
        ref_step[r] = time_reference(&b, ref_epochs, 0);
        ref_full[r] = time_reference(&b, ref_epochs, 1);
        /* OpenBLAS's idle threads spin (with sched_yield) for a while after its last
         * threaded call; let them park before timing the fast path, which keeps
         * OpenBLAS single-threaded inside its own pool */
        usleep(200000);
        fast_step[r] = time_fast(&b, epochs, 0);
        fast_full[r] = time_fast(&b, epochs, 1);
        fprintf(stderr, "round %d/%d: fast %.2f / %.2f ms, reference %.1f / %.1f ms, sgemm %.1f / %.1f GFLOP/s\n",
                r + 1, rounds, fast_step[r], fast_full[r], ref_step[r], ref_full[r], peak[0][r], peak[1][r]);
    }
    double pk[N_PEAK];
    for (int i = 0; i < N_PEAK; i++) {
        double mx = peak[i][0];
        for (int r = 1; r < rounds; r++)
            mx = peak[i][r] > mx ? peak[i][r] : mx;
        pk[i] = mx;
    }
    const double floor_rate = fmax(pk[0], pk[1]);
    const flops fr = reference_flops(d, n_train, n_test), ff = fast_flops(d, n_train, n_test);

    printf("\nsgemm (OpenBLAS, %d threads, best of %d rounds): %dx%dx%d %.1f GFLOP/s, 2048^3 %.1f GFLOP/s; "
           "floor rate %.1f GFLOP/s\n",
           threads, rounds, n_train, d->d_mlp, d->d_model, pk[0], pk[1], floor_rate);
    printf("times: best (median) of %d rounds; reference %d epochs/round, fast %d epochs/round\n\n",
           rounds, ref_epochs, epochs);
    printf("%-34s %10s %10s %9s %9s %9s %8s\n", "", "ms/epoch", "(median)", "GFLOP", "GFLOP/s",
           "floor ms", "x floor");
    struct {
        const char *name;
        double *t;
        double gflop;
    } rows[] = {
        {"reference, training step", ref_step, fr.train / 1e9},
        {"reference, + test metrics", ref_full, (fr.train + fr.test) / 1e9},
        {"fast, training step", fast_step, ff.train / 1e9},
        {"fast, + test metrics", fast_full, (ff.train + ff.test) / 1e9},
    };
    for (size_t i = 0; i < sizeof rows / sizeof *rows; i++) {
        const double t = best_of(rows[i].t, rounds), floor_ms = rows[i].gflop / floor_rate * 1e3;
        printf("%-34s %10.2f %10.2f %9.3f %9.1f %9.2f %8.2f\n", rows[i].name, t,
               median_of(rows[i].t, rounds), rows[i].gflop, rows[i].gflop / t * 1e3, floor_ms, t / floor_ms);
    }
    const double speedup = best_of(ref_full, rounds) / best_of(fast_full, rounds);
    printf("\nfast vs reference (with test metrics): %.1fx\n", speedup);

    const long rss = fast_training_rss_kb(threads, 20);
    printf("peak RSS of a process training on the fast path (20 epochs, with test metrics): %.1f MB\n",
           rss / 1024.0);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("peak RSS of this benchmark (reference model included): %.1f MB\n", ru.ru_maxrss / 1024.0);

    if (use_torch) {
        char why[512] = "";
        /* the PyTorch loop is slow: fewer epochs per round */
        const double t = torch_ms(threads, epochs / 4 > 2 ? epochs / 4 : 2, rounds < 3 ? rounds : 3, "", why, sizeof why);
        if (t > 0)
            printf("PyTorch (bench/torch_baseline.py, same model and schedule, float64 loss): %.2f ms/epoch; "
                   "fast path %.1fx faster\n",
                   t, t / best_of(fast_full, rounds));
        else
            printf("PyTorch: not measured (%s)\n", why);
    }
    gs_model_free(&b.ref);
    free(b.ref_m);
    gs_trainer_free(&b.tr);
    if (bench_models(threads, rounds, epochs, use_torch) != 0)
        return 1;
    if (late) {
        gs_pool_set_default_threads(threads);
        openblas_set_num_threads(1);
        return bench_late(rounds, epochs, late_epochs);
    }
    return 0;
}
