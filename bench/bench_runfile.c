/* bench_runfile: does anything in the run file cost more as the run grows?
 *
 * Writes a run file the size of the paper's run (p = 113: 401 checkpoints of 226,816
 * float32 parameters, 100 metric rows before each, 40,001 rows in all) through the same
 * gs_run_append the trainer calls, and times every append; then opens it as `info` and
 * `analyze` do and times reading the metrics, the checkpoint list and checkpoints near
 * the start against ones near the end. The weights are a fixed pseudo-random pattern
 * scaled like trained weights (compression sees realistic bits). Ratios late/early are
 * the figures to read: a ratio near 1 means that cost does not grow with the run.
 *
 *   bench_runfile [DIR] [--checkpoints N] [--rows-per-checkpoint R] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "params.h"
#include "runfile.h"
#include "task.h"

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + 1e-9 * t.tv_nsec;
}

static double mean(const double *v, int n)
{
    double s = 0;
    for (int i = 0; i < n; i++)
        s += v[i];
    return n ? s / n : 0;
}

/* xorshift: a deterministic fill, cheap next to the I/O being timed */
static unsigned long long rng = 0x9e3779b97f4a7c15ull;
static float uniform(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (float)((rng >> 11) * (1.0 / 9007199254740992.0)) - 0.5f;
}

int main(int argc, char **argv)
{
    const char *dir = "/tmp";
    int n_ck = 401, rows_per = 100;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--checkpoints") && i + 1 < argc)
            n_ck = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--rows-per-checkpoint") && i + 1 < argc)
            rows_per = atoi(argv[++i]);
        else if (argv[i][0] != '-')
            dir = argv[i];
        else {
            fprintf(stderr, "usage: bench_runfile [DIR] [--checkpoints N] [--rows-per-checkpoint R]\n");
            return 2;
        }
    }
    if (n_ck < 40 || rows_per < 1) {
        fprintf(stderr, "bench_runfile: needs at least 40 checkpoints and 1 row per checkpoint\n");
        return 2;
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/bench_runfile_%d.h5", dir, (int)getpid());

    gs_config cfg;
    gs_config_default(&cfg);
    cfg.epochs = (long)(n_ck - 1) * rows_per;
    cfg.every = rows_per;
    gs_split split;
    gs_err err;
    gs_run *run = NULL;
    if (gs_split_make(&split, cfg.p, cfg.op, cfg.frac, cfg.seed, &err) != 0 ||
        gs_run_create(&run, path, &cfg, &split, "bench_runfile", 1, &err) != 0) {
        fprintf(stderr, "bench_runfile: %s\n", err.msg);
        return 1;
    }
    gs_dims d;
    gs_param_info info[GS_MAX_TENSORS];
    gs_dims_make(&d, cfg.p, cfg.d_model, cfg.n_heads, cfg.d_mlp);
    const size_t n = gs_params_layout(&d, info);
    float *params = malloc(3 * n * sizeof(float));
    gs_metrics_row *rows = malloc((size_t)rows_per * sizeof *rows);
    double *t_append = malloc((size_t)n_ck * sizeof *t_append);
    if (!params || !rows || !t_append) {
        fprintf(stderr, "bench_runfile: out of memory\n");
        return 1;
    }
    float *m = params + n, *v = params + 2 * n;
    printf("bench_runfile: %s, %d checkpoints of %zu parameters, %d metric rows each\n", path,
           n_ck, n, rows_per);
    long epoch = 0;
    for (int c = 0; c < n_ck; c++) {
        /* weights drift a little between checkpoints, as in training */
        for (size_t i = 0; i < n; i++) {
            params[i] = c == 0 ? 0.1f * uniform() : params[i] * 0.999f + 1e-4f * uniform();
            m[i] = 1e-4f * uniform();
            v[i] = 1e-8f * (0.5f + uniform());
        }
        int nr = 0;
        if (c > 0)
            for (; nr < rows_per; nr++, epoch++)
                rows[nr] = (gs_metrics_row){epoch, 1.0 / (epoch + 1), 2.0 / (epoch + 1), 1.0, 0.5, 0.0, 1.0, -0.5};
        else
            rows[nr++] = (gs_metrics_row){epoch++, 1.0, 2.0, 0.0, 0.0, 0.0, 1.0, -0.5};
        const double t = now();
        if (gs_run_append(run, rows, nr, epoch - 1, params, m, v, epoch - 1, &err) != 0) {
            fprintf(stderr, "bench_runfile: %s\n", err.msg);
            return 1;
        }
        t_append[c] = now() - t;
        if ((c + 1) % 100 == 0)
            fprintf(stderr, "  %d checkpoints written\n", c + 1);
    }
    if (gs_run_set_status(run, GS_RUN_FINISHED, epoch - 1, &err) != 0 || gs_run_close(run, &err) != 0) {
        fprintf(stderr, "bench_runfile: %s\n", err.msg);
        return 1;
    }
    struct stat st;
    stat(path, &st);
    const int k = 20;
    const double early = mean(t_append + 1, k), late = mean(t_append + n_ck - k, k);
    printf("append (metric rows + checkpoint + optimizer state + flush), mean ms:\n");
    printf("  checkpoints 1..%d: %.2f   last %d: %.2f   late/early %.2f\n", k, early * 1e3, k,
           late * 1e3, late / early);
    printf("  per metric row (amortized over a checkpoint interval of %d): %.4f ms late\n", rows_per,
           late * 1e3 / rows_per);
    printf("file size: %.1f MB (%.2f MB per checkpoint)\n", st.st_size / 1e6, st.st_size / 1e6 / n_ck);

    /* reading, as info and analyze do */
    double t = now();
    if (gs_run_open(&run, path, GS_RUN_READ, 0, &err) != 0) {
        fprintf(stderr, "bench_runfile: %s\n", err.msg);
        return 1;
    }
    const double t_open = now() - t;
    const long n_rows = gs_run_n_metrics(run);
    gs_metrics_row *all = malloc((size_t)n_rows * sizeof *all);
    long *epochs = malloc((size_t)n_ck * sizeof *epochs);
    t = now();
    if (!all || !epochs || gs_run_read_metrics(run, 0, n_rows, all, &err) != 0 ||
        gs_run_checkpoint_epochs(run, epochs, &err) != 0) {
        fprintf(stderr, "bench_runfile: %s\n", err.msg);
        return 1;
    }
    const double t_meta = now() - t;
    /* each checkpoint read once (a second read would come from HDF5's chunk cache) */
    double t_first = 0, t_last = 0;
    for (int r = 0; r < 10; r++) {
        t = now();
        if (gs_run_read_checkpoint(run, 1 + r, params, &err) != 0)
            break;
        t_first += now() - t;
        t = now();
        if (gs_run_read_checkpoint(run, n_ck - 10 + r, params, &err) != 0)
            break;
        t_last += now() - t;
    }
    t_first /= 10;
    t_last /= 10;
    printf("open and validate: %.1f ms; read %ld metric rows + %d checkpoint epochs: %.1f ms\n",
           t_open * 1e3, n_rows, n_ck, t_meta * 1e3);
    printf("read one checkpoint (mean of 10): early %.2f ms, late %.2f ms, late/early %.2f\n",
           t_first * 1e3, t_last * 1e3, t_last / t_first);
    gs_run_close(run, &err);
    remove(path);
    free(all);
    free(epochs);
    free(params);
    free(rows);
    free(t_append);
    gs_split_free(&split);
    return 0;
}
