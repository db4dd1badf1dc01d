/* The cost of an epoch through the whole run: from the init and from a state after
 * grokking, with subnormal floats flushed to zero (grokscope's default) and as IEEE
 * subnormals (--ieee-subnormals), plus the share of subnormal values in the state after
 * grokking, a figure that does not depend on the CPU.
 *
 * Why: late in a run the losses sit near 1e-7 and float32 gradients, Adam moments and
 * attention weights underflow into subnormals; on CPUs whose subnormal arithmetic is slow
 * (many Intel cores) the epochs after grokking cost several times more than the first
 * ones. A benchmark of the first epochs alone never sees it.
 *
 * The late state is made here, by training the demo configuration (p = 113, frac 0.5,
 * which groks near epoch 1,000) for late_epochs epochs in each mode, so the benchmark needs
 * no file. The same weights also time what `analyze` computes per checkpoint. Timed rounds then interleave (mode x {init, late}), restoring the state before
 * each timing, so every ratio is measured under the same machine load. */
#include "bench_late.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "fpenv.h"
#include "measures.h"
#include "model.h"
#include "params.h"
#include "pool.h"
#include "trainer.h"

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + 1e-9 * t.tv_nsec;
}

/* what the trainer holds between epochs */
typedef struct {
    float *params, *moments; /* n_params, 2 n_params (m then v) */
    long step;
} state;

static int state_alloc(state *s, size_t n)
{
    s->params = malloc(n * sizeof(float));
    s->moments = malloc(2 * n * sizeof(float));
    return s->params && s->moments ? 0 : -1;
}

static void state_free(state *s)
{
    free(s->params);
    free(s->moments);
}

static void save(const gs_trainer *tr, state *s)
{
    const size_t n = tr->model.n_params;
    memcpy(s->params, tr->model.params, n * sizeof(float));
    memcpy(s->moments, tr->adam_m, 2 * n * sizeof(float));
    s->step = tr->step;
}

static void load(gs_trainer *tr, const state *s)
{
    const size_t n = tr->model.n_params;
    memcpy(tr->model.params, s->params, n * sizeof(float));
    memcpy(tr->adam_m, s->moments, 2 * n * sizeof(float));
    tr->step = s->step;
}

/* one epoch as `grokscope train` runs it: test and train metrics, then the update */
static void epoch(gs_trainer *tr, gs_epoch_metrics *m)
{
    gs_trainer_measure(tr, m);
    gs_trainer_update(tr);
}

static double time_epochs(gs_trainer *tr, const state *from, int epochs)
{
    gs_epoch_metrics m;
    load(tr, from);
    epoch(tr, &m); /* not timed: the first epoch after a load touches every page */
    const double t = now();
    for (int e = 0; e < epochs; e++)
        epoch(tr, &m);
    return (now() - t) / epochs * 1e3;
}

/* share of subnormal values (nonzero, |x| < FLT_MIN) among n floats */
static double subnormal_share(const float *x, size_t n)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        k += fpclassify(x[i]) == FP_SUBNORMAL;
    return n ? (double)k / (double)n : 0.0;
}

enum { N_SHARES = 7 };
static const char *share_names[N_SHARES] = {"MLP activations", "logits", "d loss / d logits",
                                            "attention weights", "gradients",
                                            "Adam first moments", "Adam second moments"};

typedef struct {
    const char *name;
    int flush;
    gs_trainer tr;
    state init, late;
    long grok_epoch;           /* first epoch with test accuracy >= 99%, or -1 */
    double late_train_loss, late_test_loss;
    double share[N_SHARES];
    double t_init[64], t_late[64];
    gs_probe probe;            /* analyze's per-checkpoint work, in the same mode */
    int have_probe;
    double a_init[64], a_late[64];
} mode;

static int make_mode(mode *md, int late_epochs, gs_err *err)
{
    gs_config cfg;
    gs_config_default(&cfg);
    cfg.frac = 0.5;
    cfg.flush_subnormals = md->flush;
    gs_split split;
    if (gs_split_make(&split, cfg.p, cfg.op, cfg.frac, cfg.seed, err) != 0 ||
        gs_trainer_init(&md->tr, &cfg, &split, err) != 0)
        return -1;
    const size_t n = md->tr.model.n_params;
    if (state_alloc(&md->init, n) != 0 || state_alloc(&md->late, n) != 0)
        return gs_err_set(err, "out of memory");
    gs_params_init(md->tr.model.params, &md->tr.dims, cfg.seed);
    save(&md->tr, &md->init);
    gs_epoch_metrics m = {0};
    md->grok_epoch = -1;
    const double t0 = now();
    for (int e = 0; e < late_epochs; e++) {
        epoch(&md->tr, &m);
        if (md->grok_epoch < 0 && m.test_acc >= 0.99)
            md->grok_epoch = e;
    }
    save(&md->tr, &md->late);
    fprintf(stderr, "late state (%s): %d epochs in %.1f s, test accuracy >= 99%% from epoch %ld\n",
            md->name, late_epochs, now() - t0, md->grok_epoch);
    /* the shares in the state after one more epoch from the late state: gradients and
     * moments as that epoch left them; the activations of the whole training set from a
     * forward pass of the same weights in the mode (the float32 views the backward reads:
     * MLP activations, logits, d(loss)/d(logits), attention weights) */
    load(&md->tr, &md->late);
    epoch(&md->tr, &m);
    md->late_train_loss = m.train_loss;
    md->late_test_loss = m.test_loss;
    gs_model *mo = &md->tr.model;
    const gs_split *sp = &md->tr.split;
    gs_fpenv env;
    gs_fpenv_enter(&env, md->flush);
    gs_model_fast_prepare(mo);
    gs_model_fast_rows(mo, sp->train_idx, md->tr.train_tgt, sp->n_train, GS_ROWS_FORWARD);
    gs_fpenv_leave(&env);
    const size_t rows = (size_t)sp->n_train, M = (size_t)mo->d.d_mlp, V = (size_t)mo->d.n_out,
                 H = (size_t)mo->d.n_heads;
    md->share[0] = subnormal_share(mo->post, rows * M);
    md->share[1] = subnormal_share(mo->logits, rows * V);
    md->share[2] = subnormal_share(mo->dlogits, rows * V);
    md->share[3] = subnormal_share(mo->alpha, rows * H * 3);
    md->share[4] = subnormal_share(mo->grads, n);
    md->share[5] = subnormal_share(md->tr.adam_m, n);
    md->share[6] = subnormal_share(md->tr.adam_v, n);
    if (gs_probe_create(&md->probe, &md->tr.dims, cfg.op, sp->train_idx, sp->n_train, sp->test_idx,
                        sp->n_test, err) != 0)
        return -1;
    md->have_probe = 1;
    gs_probe_set_flush_subnormals(&md->probe, md->flush);
    return 0;
}

/* ms per checkpoint of what `analyze` computes for each checkpoint (forward over all
 * p*p inputs, restricted and excluded loss, Fourier norms, Ginis, weight norm) */
static double time_measure(mode *md, const state *at, int reps)
{
    static const int key_freqs[] = {4, 11, 14, 26, 35};
    gs_probe_measures out;
    gs_err err;
    gs_probe_measure(&md->probe, at->params, key_freqs, 5, &out, &err); /* warm */
    const double t = now();
    for (int r = 0; r < reps; r++)
        if (gs_probe_measure(&md->probe, at->params, key_freqs, 5, &out, &err) != 0)
            fprintf(stderr, "bench_train: %s\n", err.msg);
    return (now() - t) / reps * 1e3;
}

static double best(const double *v, int n)
{
    double b = v[0];
    for (int i = 1; i < n; i++)
        b = v[i] < b ? v[i] : b;
    return b;
}

int bench_late(int rounds, int epochs, int late_epochs)
{
    if (rounds < 1 || rounds > 64)
        rounds = rounds < 1 ? 1 : 64;
    mode modes[2] = {{.name = "flush to zero", .flush = 1}, {.name = "IEEE subnormals", .flush = 0}};
    gs_err err;
    int rc = 1;
    printf("\nthrough the whole run (demo configuration: p=113, frac 0.5, seed 0; a late state "
           "after %d epochs; %d pool threads; flush supported on this CPU: %s)\n",
           late_epochs, gs_pool_default_threads(), gs_fpenv_supported() ? "yes" : "no");
    for (int k = 0; k < 2; k++)
        if (make_mode(&modes[k], late_epochs, &err) != 0) {
            fprintf(stderr, "bench_train: %s\n", err.msg);
            goto out;
        }
    for (int r = 0; r < rounds; r++) {
        for (int k = 0; k < 2; k++) {
            modes[k].t_init[r] = time_epochs(&modes[k].tr, &modes[k].init, epochs);
            modes[k].t_late[r] = time_epochs(&modes[k].tr, &modes[k].late, epochs);
            modes[k].a_init[r] = time_measure(&modes[k], &modes[k].init, 3);
            modes[k].a_late[r] = time_measure(&modes[k], &modes[k].late, 3);
        }
        fprintf(stderr, "late round %d/%d: flush %.2f / %.2f ms, IEEE %.2f / %.2f ms (init / late)\n",
                r + 1, rounds, modes[0].t_init[r], modes[0].t_late[r], modes[1].t_init[r],
                modes[1].t_late[r]);
    }
    printf("ms per epoch with test metrics, best of %d rounds of %d epochs:\n", rounds, epochs);
    printf("%-18s %12s %14s %12s %10s %14s %14s\n", "mode", "from init", "after grokking",
           "late/init", "grokked at", "train loss", "test loss");
    for (int k = 0; k < 2; k++) {
        const mode *md = &modes[k];
        const double ti = best(md->t_init, rounds), tl = best(md->t_late, rounds);
        printf("%-18s %12.2f %14.2f %12.2f %10ld %14.4e %14.4e\n", md->name, ti, tl, tl / ti,
               md->grok_epoch, md->late_train_loss, md->late_test_loss);
    }
    printf("IEEE / flush after grokking: %.2fx\n", best(modes[1].t_late, rounds) / best(modes[0].t_late, rounds));
    printf("analyze: ms per checkpoint (all measures), best of %d rounds of 3:\n", rounds);
    printf("%-18s %12s %14s %12s\n", "mode", "init weights", "after grokking", "late/init");
    for (int k = 0; k < 2; k++) {
        const double ti = best(modes[k].a_init, rounds), tl = best(modes[k].a_late, rounds);
        printf("%-18s %12.2f %14.2f %12.2f\n", modes[k].name, ti, tl, tl / ti);
    }
    printf("share of subnormal float32 values in the state after grokking:\n");
    printf("%-26s %16s %16s\n", "", modes[0].name, modes[1].name);
    for (int i = 0; i < N_SHARES; i++)
        printf("%-26s %15.4f%% %15.4f%%\n", share_names[i], 100 * modes[0].share[i], 100 * modes[1].share[i]);
    rc = 0;
out:
    for (int k = 0; k < 2; k++) {
        gs_trainer_free(&modes[k].tr);
        if (modes[k].have_probe)
            gs_probe_free(&modes[k].probe);
        state_free(&modes[k].init);
        state_free(&modes[k].late);
    }
    return rc;
}
