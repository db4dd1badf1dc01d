/* The fast path of the transformer of several blocks (core/model_deep_fast.c) against
 * its reference path (core/model_deep.c): losses, accuracy, logits, the probes'
 * neurons and every tensor's gradient, for 2 and 3 blocks, several p and batch sizes
 * (a batch smaller than the model's maximum, as --batch runs, and batches with repeated
 * inputs); and the fast path gives the same bits on 1, 2 and 3 threads. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "model.h"
#include "pool.h"

/* largest |a - b| over n floats, relative to the largest |b| (the tensor's scale) */
static double max_rel(const float *a, const float *b, size_t n)
{
    double diff = 0, scale = 0;
    for (size_t j = 0; j < n; j++) {
        const double e = fabs((double)a[j] - b[j]);
        diff = e > diff ? e : diff;
        scale = fabs(b[j]) > scale ? fabs(b[j]) : scale;
    }
    return scale > 0 ? diff / scale : diff;
}

static double worst_logits, worst_grad, worst_loss;

/* The float32 rounding noise of the reference path's gradients: the largest
 * difference, relative to its tensor's scale, between the gradients of the batch and
 * of the same batch in reverse order (the sums over inputs in another order). The key
 * gradients, a difference of nearly equal terms, carry the most (1e-4 at 3 blocks). */
static double noise_floor(gs_model *ref, const int32_t *idx, const int32_t *tgt, int n)
{
    int32_t *ri = malloc((size_t)n * sizeof *ri), *rt = malloc((size_t)n * sizeof *rt);
    float *g = malloc(ref->n_params * sizeof(float));
    for (int i = 0; i < n; i++) {
        ri[i] = idx[n - 1 - i];
        rt[i] = tgt[n - 1 - i];
    }
    double worst = 0;
    for (int pass = 0; pass < 2; pass++) {
        memset(ref->grads, 0, ref->n_params * sizeof(float));
        gs_model_forward(ref, pass ? ri : idx, pass ? rt : tgt, n);
        gs_model_backward(ref, pass ? ri : idx, pass ? rt : tgt, n);
        if (pass == 0)
            memcpy(g, ref->grads, ref->n_params * sizeof(float));
    }
    for (int t = 0; t < ref->n_tensors; t++) {
        const double e = max_rel(ref->grads + ref->info[t].offset, g + ref->info[t].offset, ref->info[t].count);
        worst = e > worst ? e : worst;
    }
    free(ri);
    free(rt);
    free(g);
    return worst;
}

/* one forward + backward of n inputs on both paths, compared */
static void compare(gs_model *ref, gs_model *fast, const int32_t *idx, const int32_t *tgt, int n,
                    const char *what)
{
    const double floor = noise_floor(ref, idx, tgt, n), tol = floor > 3.3e-5 ? 3 * floor : 1e-4;
    memset(ref->grads, 0, ref->n_params * sizeof(float));
    memset(fast->grads, 0, fast->n_params * sizeof(float));
    const gs_eval er = gs_model_forward(ref, idx, tgt, n), ef = gs_model_forward(fast, idx, tgt, n);
    const double dl = fabs(er.loss_sum - ef.loss_sum) / er.loss_sum;
    CHECK(dl < 1e-5);
    CHECK(er.n == ef.n && er.n_correct == ef.n_correct && er.n_collapsed == ef.n_collapsed);
    const int V = ref->d.n_out, M = ref->d.d_mlp;
    /* the logits are differences of large residual components at 3 blocks of scaled
     * random weights: float32 noise reaches a few 1e-5 of the largest logit */
    const double lg = max_rel(fast->logits, ref->logits, (size_t)n * V);
    CHECK(lg < 1e-4);
    CHECK(max_rel(fast->post, ref->post, (size_t)n * M) < 1e-4);
    gs_model_backward(ref, idx, tgt, n);
    gs_model_backward(fast, idx, tgt, n);
    double worst = 0;
    int worst_t = 0;
    for (int t = 0; t < ref->n_tensors; t++) {
        const size_t o = ref->info[t].offset, cnt = ref->info[t].count;
        const double e = max_rel(fast->grads + o, ref->grads + o, cnt);
        if (e > worst) {
            worst = e;
            worst_t = t;
        }
        if (!(e < tol))
            fprintf(stderr, "%s: gradient of %s differs by %.2e of its largest entry\n", what,
                    ref->info[t].key, e);
        CHECK(e < tol);
    }
    printf("%-34s loss %.1e, logits %.1e, gradients %.1e (%s; reference reversed %.1e)\n", what,
           dl, lg, worst, ref->info[worst_t].key, floor);
    worst_loss = dl > worst_loss ? dl : worst_loss;
    worst_logits = lg > worst_logits ? lg : worst_logits;
    worst_grad = worst > worst_grad ? worst : worst_grad;
}

/* p, widths, blocks; inputs: n_max of them, a pseudo-random draw with repeats */
static void check_case(int p, int D, int H, int M, int L, int n_max, int n_small, unsigned seed)
{
    gs_dims d;
    gs_dims_make(&d, p, D, H, M);
    d.n_layers = L;
    gs_model ref, fast;
    gs_err err = {0};
    if (gs_model_create(&ref, &d, n_max, GS_PATH_REFERENCE, &err) != 0 ||
        gs_model_create(&fast, &d, n_max, GS_PATH_FAST, &err) != 0) {
        fprintf(stderr, "%s\n", err.msg);
        CHECK(0);
        return;
    }
    CHECK(!ref.deep_fast && fast.deep_fast && !fast.fast);
    gs_params_init(ref.params, &d, seed);
    srand(seed);
    /* biases and the second block's weights away from their zero or small init, so
     * every path of the gradient carries weight */
    for (size_t i = 0; i < ref.n_params; i++)
        ref.params[i] = 1.5f * ref.params[i] + 0.1f * ((float)rand() / RAND_MAX - 0.5f);
    memcpy(fast.params, ref.params, ref.n_params * sizeof(float));
    int32_t *idx = malloc((size_t)n_max * sizeof *idx), *tgt = malloc((size_t)n_max * sizeof *tgt);
    for (int i = 0; i < n_max; i++) {
        idx[i] = rand() % (p * p);
        tgt[i] = (idx[i] / p + idx[i] % p) % p;
    }
    char what[96];
    snprintf(what, sizeof what, "p %d, %d blocks, batch %d", p, L, n_max);
    compare(&ref, &fast, idx, tgt, n_max, what);
    /* a minibatch: fewer inputs than the model was made for (the row order of the
     * fast path's buffers depends on n) */
    snprintf(what, sizeof what, "p %d, %d blocks, batch %d of %d", p, L, n_small, n_max);
    compare(&ref, &fast, idx + 3, tgt + 3, n_small, what);

    /* the trainer's and the probes' way: tables once (gs_model_prepare), then rows and
     * chunks through them; the same bits as a forward that builds its own */
    {
        const gs_eval e1 = gs_model_forward(&fast, idx, tgt, n_max);
        float *lg = malloc((size_t)n_max * d.n_out * sizeof(float));
        memcpy(lg, fast.logits, (size_t)n_max * d.n_out * sizeof(float));
        gs_model_prepare(&fast);
        const gs_eval e2 = gs_model_rows(&fast, idx, tgt, n_max, GS_ROWS_TRAIN);
        CHECK(e1.loss_sum == e2.loss_sum && e1.n_correct == e2.n_correct);
        CHECK(memcmp(lg, fast.logits, (size_t)n_max * d.n_out * sizeof(float)) == 0);
        const gs_eval e3 = gs_model_evaluate_chunks(&fast, idx, tgt, n_small, GS_ROWS_EVAL, NULL, NULL),
                      e4 = gs_model_forward(&fast, idx, tgt, n_small);
        CHECK(e3.loss_sum == e4.loss_sum && e3.n_correct == e4.n_correct);
        free(lg);
    }

    /* the same bits on any number of threads */
    float *g1 = malloc(fast.n_params * sizeof(float)), *lg1 = malloc((size_t)n_max * d.n_out * sizeof(float));
    for (int threads = 1; threads <= 3; threads++) {
        gs_pool *pool = NULL;
        CHECK(gs_pool_create(&pool, threads, 0, &err) == 0);
        fast.pool = pool;
        memset(fast.grads, 0, fast.n_params * sizeof(float));
        const gs_eval e = gs_model_forward(&fast, idx, tgt, n_max);
        gs_model_backward(&fast, idx, tgt, n_max);
        static double loss1;
        if (threads == 1) {
            memcpy(g1, fast.grads, fast.n_params * sizeof(float));
            memcpy(lg1, fast.logits, (size_t)n_max * d.n_out * sizeof(float));
            loss1 = e.loss_sum;
        } else {
            CHECK(memcmp(g1, fast.grads, fast.n_params * sizeof(float)) == 0);
            CHECK(memcmp(lg1, fast.logits, (size_t)n_max * d.n_out * sizeof(float)) == 0);
            CHECK(e.loss_sum == loss1);
        }
        fast.pool = NULL;
        gs_pool_free(pool);
    }
    free(g1);
    free(lg1);
    free(idx);
    free(tgt);
    gs_model_free(&ref);
    gs_model_free(&fast);
}

int main(void)
{
    check_case(7, 16, 2, 24, 2, 30, 11, 3);
    check_case(7, 16, 2, 24, 2, 200, 49, 4); /* every input about four times */
    check_case(11, 24, 3, 32, 3, 60, 17, 5);
    check_case(13, 16, 4, 20, 2, 96, 1, 6);
    check_case(23, 32, 4, 64, 3, 300, 33, 7);
    printf("worst over all cases: loss %.1e, logits %.1e, gradients %.1e\n", worst_loss,
           worst_logits, worst_grad);
    return check_report("deep_fast");
}
