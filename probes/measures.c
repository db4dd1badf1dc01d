/* gs_probe: the context (one arena), the all-inputs forward that mirrors the trainer,
 * and the per-checkpoint bundle. Restricted/excluded loss, norms and clusters live in
 * measures_*.c. */
#include "measures.h"

#include <assert.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fpenv.h"
#include "pool.h"

#define ALIGN_BYTES 64

static size_t round_up(size_t bytes) { return (bytes + ALIGN_BYTES - 1) & ~(size_t)(ALIGN_BYTES - 1); }

/* The arena, carved by one table of sizes per element type. With base NULL it only
 * returns the total size in bytes. */
static size_t carve(gs_probe *pr, char *base, int n_rest)
{
    const size_t p = (size_t)pr->p, pp = p * p, D = (size_t)(pr->embed_d > 0 ? pr->embed_d : 1),
                 M = (size_t)pr->d.d_mlp, nf = (size_t)pr->fourier.n_freq;
    size_t at = 0;
    double **dv[] = {&pr->logits, &pr->sums, &pr->coef, &pr->proj, &pr->rlogits, &pr->row,
                     &pr->partial, &pr->w_e, &pr->w_out, &pr->w_u, &pr->w_l, &pr->embed_norm,
                     &pr->neuron_logit_norm, &pr->sort, &pr->g_in, &pr->g_out, &pr->frac};
    const size_t dn[] = {pp * p, pp, 2 * nf * p, pp, pp, p,
                         (size_t)pr->n_train / 256 + 1, p * D, M * D, D * p, M * p, p,
                         p, p > M ? p : M, pp, pp, M};
    static_assert(sizeof dv / sizeof *dv == sizeof dn / sizeof *dn, "double table");
    for (size_t i = 0; i < sizeof dn / sizeof *dn; i++) {
        if (base)
            *dv[i] = (double *)(base + at);
        at += round_up(dn[i] * sizeof(double));
    }
    if (base)
        pr->grid = (float *)(base + at);
    at += round_up(M * pp * sizeof(float));
    int32_t **iv[] = {&pr->train_idx, &pr->test_idx, &pr->rest_idx, &pr->train_tgt,
                      &pr->test_tgt, &pr->rest_tgt, &pr->target, &pr->circuit};
    const size_t in[] = {(size_t)pr->n_train, (size_t)pr->n_test, (size_t)n_rest,
                         (size_t)pr->n_train, (size_t)pr->n_test, (size_t)n_rest, pp, pp};
    static_assert(sizeof iv / sizeof *iv == sizeof in / sizeof *in, "int32 table");
    for (size_t i = 0; i < sizeof in / sizeof *in; i++) {
        if (base)
            *iv[i] = (int32_t *)(base + at);
        at += round_up(in[i] * sizeof(int32_t));
    }
    int **nv[] = {&pr->neuron_freq, &pr->best_freq, &pr->cluster_size, &pr->key_freqs,
                  &pr->key_seen};
    const size_t nn[] = {M, M, nf + 1, nf + 1, nf + 1};
    static_assert(sizeof nv / sizeof *nv == sizeof nn / sizeof *nn, "int table");
    for (size_t i = 0; i < sizeof nn / sizeof *nn; i++) {
        if (base)
            *nv[i] = (int *)(base + at);
        at += round_up(nn[i] * sizeof(int));
    }
    return at;
}

void gs_probe_set_flush_subnormals(gs_probe *pr, int flush)
{
    pr->flush_subnormals = flush != 0;
    gs_pool_set_flush_subnormals(pr->pool, flush);
}

int gs_probe_create(gs_probe *pr, const gs_dims *d, gs_op op, const int32_t *train_idx,
                    int n_train, const int32_t *test_idx, int n_test, gs_err *err)
{
    memset(pr, 0, sizeof *pr);
    const int p = d->p;
    if (gs_p_check(p, err) < 0)
        return -1;
    if (!gs_op_get(op))
        return gs_err_set(err, "probe: unknown operation %d", (int)op);
    const int pp = p * p;
    if (n_train < 1 || n_test < 0 || n_train > pp || n_test > pp - n_train)
        return gs_err_set(err, "probe: split sizes %d train / %d test do not fit %d pairs",
                          n_train, n_test, pp);
    pr->d = *d;
    pr->op = op;
    pr->p = p;
    pr->n_inputs = pp;
    pr->n_train = n_train;
    pr->n_test = n_test;
    pr->has_embed = d->kind == GS_MODEL_TRANSFORMER || d->d_embed > 0;
    pr->has_neuron_logit = d->kind == GS_MODEL_TRANSFORMER;
    pr->embed_d = d->kind == GS_MODEL_TRANSFORMER ? d->d_model : d->d_embed;
    const int n_rest = pp - n_train - n_test;
    if (gs_circuit_create(&pr->basis, op, p, err) != 0 ||
        (pr->basis.n > 0 && gs_fourier_create(&pr->fourier, pr->basis.n, err) != 0))
        goto fail;
    /* the trainer's batch size and threads, so the forward matches its metrics bit for
     * bit (the fast path's results do not depend on the thread count) */
    if (gs_model_create(&pr->model, d, n_train, GS_PATH_FAST, err) != 0 ||
        gs_pool_create(&pr->pool, gs_pool_default_threads(), gs_model_scratch_size(d), err) != 0)
        goto fail;
    pr->model.pool = pr->pool;
    const size_t bytes = carve(pr, NULL, n_rest);
    pr->arena = aligned_alloc(ALIGN_BYTES, bytes);
    if (!pr->arena) {
        gs_err_set(err, "out of memory allocating the probe (%zu MB)", bytes >> 20);
        goto fail;
    }
    memset(pr->arena, 0, bytes);
    carve(pr, pr->arena, n_rest);
    pr->n_rest = n_rest;

    for (int a = 0; a < p; a++)
        for (int b = 0; b < p; b++) {
            pr->target[a * p + b] = gs_task_answer(op, p, a, b);
            pr->circuit[a * p + b] = gs_circuit_combine(&pr->basis, a, b);
        }
    /* the split: in range, answers defined, no pair twice; the rest is every other pair */
    char *seen = (char *)pr->g_in; /* pp bytes of scratch, cleared again below */
    memset(seen, 0, (size_t)pp);
    const int32_t *sets[2] = {train_idx, test_idx};
    const int sizes[2] = {n_train, n_test};
    int32_t *tgts[2] = {pr->train_tgt, pr->test_tgt};
    for (int s = 0; s < 2; s++)
        for (int k = 0; k < sizes[s]; k++) {
            const int32_t i = sets[s][k];
            if (i < 0 || i >= pp || seen[i] || pr->target[i] < 0) {
                gs_err_set(err, "probe: %s index %d (entry %d) is %s", s ? "test" : "train", (int)i, k,
                           i < 0 || i >= pp ? "out of range"
                           : seen[i]        ? "repeated"
                                            : "a pair whose answer is undefined");
                goto fail;
            }
            seen[i] = 1;
            tgts[s][k] = pr->target[i];
        }
    memcpy(pr->train_idx, train_idx, (size_t)n_train * sizeof(int32_t));
    memcpy(pr->test_idx, test_idx, (size_t)n_test * sizeof(int32_t));
    int r = 0;
    for (int i = 0; i < pp; i++)
        if (!seen[i]) {
            pr->rest_idx[r] = i;
            pr->rest_tgt[r++] = 0; /* a dummy: these rows' losses are not used */
        }
    assert(r == n_rest);
    memset(seen, 0, (size_t)pp);
    pr->n_defined = pr->n_circuit = pr->n_circuit_defined = pr->n_train_circuit = 0;
    for (int i = 0; i < pp; i++) {
        pr->n_defined += pr->target[i] >= 0;
        pr->n_circuit += pr->circuit[i] >= 0;
        pr->n_circuit_defined += pr->circuit[i] >= 0 && pr->target[i] >= 0;
    }
    for (int k = 0; k < n_train; k++)
        pr->n_train_circuit += pr->circuit[pr->train_idx[k]] >= 0;
    return 0;
fail:
    gs_probe_free(pr);
    return -1;
}

void gs_probe_free(gs_probe *pr)
{
    gs_circuit_free(&pr->basis);
    gs_fourier_free(&pr->fourier);
    gs_model_free(&pr->model);
    gs_pool_free(pr->pool);
    free(pr->arena);
    memset(pr, 0, sizeof *pr);
}

/* Copies one forward chunk's logits (without "=") and activations to their inputs' rows. */
static void scatter(gs_probe *pr, const int32_t *idx, int n, int want_grid)
{
    const int p = pr->p, V = pr->d.n_out, M = pr->d.d_mlp;
    const gs_model *m = &pr->model;
    /* the neurons: the transformer's MLP, the MLP's first hidden layer */
    const float *post = pr->d.kind == GS_MODEL_MLP ? m->mlp_post[0] : m->post;
    for (int r = 0; r < n; r++) {
        const float *lg = m->logits + (size_t)r * V;
        double *L = pr->logits + (size_t)idx[r] * p;
        for (int c = 0; c < p; c++)
            L[c] = lg[c];
    }
    if (!want_grid)
        return;
    /* transpose in blocks of 16 inputs so both sides stay in cache lines */
    const size_t pp = (size_t)pr->n_inputs;
    for (int r0 = 0; r0 < n; r0 += 16) {
        const int r1 = r0 + 16 < n ? r0 + 16 : n;
        for (int j = 0; j < M; j++) {
            float *g = pr->grid + (size_t)j * pp;
            for (int r = r0; r < r1; r++)
                g[idx[r]] = post[(size_t)r * M + j];
        }
    }
}

typedef struct {
    gs_probe *pr;
    int want_grid;
} scatter_arg;

static void scatter_chunk(void *arg, const int32_t *idx, int n)
{
    const scatter_arg *sa = arg;
    scatter(sa->pr, idx, n, sa->want_grid);
}

void gs_probe_forward(gs_probe *pr, const float *params, int want_grid,
                      gs_epoch_metrics *metrics)
{
    gs_model *m = &pr->model;
    gs_fpenv env; /* the run's subnormal mode, as its trainer computed */
    gs_fpenv_enter(&env, pr->flush_subnormals);
    memcpy(m->params, params, m->n_params * sizeof(float));
    /* gs_trainer_measure: the tables once, the test set in chunks of the batch size,
     * then the whole training set in one batch (max_batch is n_train); the same batches
     * summed by the same helper, so the same bits */
    gs_model_prepare(m);
    scatter_arg sa = {pr, want_grid};
    const gs_eval te = gs_model_evaluate_chunks(m, pr->test_idx, pr->test_tgt, pr->n_test,
                                                GS_ROWS_FORWARD, scatter_chunk, &sa);
    const gs_eval tr = gs_model_evaluate_chunks(m, pr->train_idx, pr->train_tgt, pr->n_train,
                                                GS_ROWS_FORWARD, scatter_chunk, &sa);
    gs_model_evaluate_chunks(m, pr->rest_idx, pr->rest_tgt, pr->n_rest, GS_ROWS_FORWARD,
                             scatter_chunk, &sa);
    if (metrics) {
        metrics->train_loss = tr.loss_sum / tr.n;
        metrics->train_acc = (double)tr.n_correct / tr.n;
        metrics->test_loss = te.loss_sum / te.n;
        metrics->test_acc = (double)te.n_correct / te.n;
    }
    pr->have_logits = 1;
    pr->have_grid = want_grid != 0;
    gs_fpenv_leave(&env);
}

int gs_probe_measure(gs_probe *pr, const float *params, const int *key_freqs, int n_key,
                     gs_probe_measures *out, gs_err *err)
{
    return gs_probe_measure_grid(pr, params, key_freqs, n_key, 0, out, err);
}

int gs_probe_measure_grid(gs_probe *pr, const float *params, const int *key_freqs, int n_key,
                          int want_grid, gs_probe_measures *out, gs_err *err)
{
    gs_probe_forward(pr, params, want_grid, &out->metrics);
    out->restricted_loss = out->excluded_loss = NAN;
    if (gs_probe_has_circuit(pr) &&
        gs_probe_restricted(pr, key_freqs, n_key, &out->restricted_loss, &out->excluded_loss, err) != 0)
        return -1;
    gs_probe_fourier_norms(pr, NULL, NULL);
    out->embed_fourier_norm = pr->embed_norm;
    out->neuron_logit_norm = pr->neuron_logit_norm;
    /* sparsity among the n Fourier components (for mul and div without the indicator
     * of token 0, which lies outside the group); NaN without a basis */
    const int n = pr->basis.n;
    out->gini_embed = n > 0 ? gs_gini(pr->embed_norm, n, pr->sort) : NAN;
    out->gini_neuron_logit = n > 0 ? gs_gini(pr->neuron_logit_norm, n, pr->sort) : NAN;
    out->weight_norm = gs_params_sumsq(pr->model.params, pr->model.n_params);
    return 0;
}
