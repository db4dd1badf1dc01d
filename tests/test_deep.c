/* The transformer of several blocks (core/model_deep.c, the reference path, and
 * core/model_deep_fast.c, the fast path): with the second block's weights zero it is
 * the identity, so the logits equal the one-block reference path's; and a
 * finite-difference gradient check of every tensor of a 2-block model, on both paths. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "gradcheck.h"
#include "model.h"

int main(void)
{
    gs_dims d1, d2;
    gs_dims_make(&d1, 7, 16, 2, 24);
    d2 = d1;
    d2.n_layers = 2;
    enum { N = 30 };
    gs_model one, two;
    gs_err err;
    if (gs_model_create(&one, &d1, N, GS_PATH_REFERENCE, &err) != 0 ||
        gs_model_create(&two, &d2, N, GS_PATH_FAST, &err) != 0) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    CHECK(!two.fast && two.n_tensors == 2 + 8 * 2 + 1);
    CHECK(strcmp(two.info[gs_tf_block(GS_W_Q, 1)].key, "blocks.1.attn.W_Q") == 0);
    CHECK(strcmp(two.info[gs_tf_unembed(&d2)].key, "unembed.W_U") == 0);
    gs_params_init(one.params, &d1, 3);
    srand(5);
    for (size_t i = 0; i < one.n_params; i++)
        one.params[i] = 1.5f * one.params[i] + 0.1f * ((float)rand() / RAND_MAX - 0.5f);
    int32_t idx[N], tgt[N];
    for (int i = 0; i < N; i++) {
        idx[i] = (i * 11 + 3) % (d1.p * d1.p);
        tgt[i] = (idx[i] / d1.p + idx[i] % d1.p) % d1.p;
    }
    /* block 1 zero: embeddings, block 0 and the unembedding copied tensor by tensor */
    memset(two.params, 0, two.n_params * sizeof(float));
    for (int t = 0; t < one.n_tensors; t++) {
        const int to = t == GS_W_U ? gs_tf_unembed(&d2) : t;
        CHECK(one.info[t].count == two.info[to].count);
        memcpy(two.params + two.info[to].offset, one.params + one.info[t].offset,
               one.info[t].count * sizeof(float));
    }
    const gs_eval e1 = gs_model_forward(&one, idx, tgt, N), e2 = gs_model_forward(&two, idx, tgt, N);
    double worst = 0;
    for (size_t j = 0; j < (size_t)N * d1.n_out; j++) {
        const double diff = fabs(one.logits[j] - two.logits[j]) / (1 + fabs(one.logits[j]));
        worst = diff > worst ? diff : worst;
    }
    printf("2 blocks, the second zero, against 1 block: logits max relative difference %.2e\n", worst);
    CHECK(worst < 1e-5);
    CHECK_NEAR(e1.loss_sum, e2.loss_sum, 1e-5 * e1.loss_sum);
    CHECK(e1.n_correct == e2.n_correct);

    /* every tensor of 2 random blocks, both paths */
    gs_params_init(two.params, &d2, 9);
    for (size_t i = 0; i < two.n_params; i++)
        two.params[i] = 1.0f * two.params[i] + 0.1f * ((float)rand() / RAND_MAX - 0.5f);
    gs_model ref;
    if (gs_model_create(&ref, &d2, N, GS_PATH_REFERENCE, &err) != 0) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    CHECK(two.deep_fast && !ref.deep_fast);
    memcpy(ref.params, two.params, two.n_params * sizeof(float));
    printf("gradients of 2 blocks, fast path\n");
    gs_gradcheck(&two, idx, tgt, N, 2e-4f, 1.5e-2);
    printf("gradients of 2 blocks, reference path\n");
    gs_gradcheck(&ref, idx, tgt, N, 2e-4f, 1.5e-2);
    gs_model_free(&ref);
    gs_model_free(&one);
    gs_model_free(&two);
    return check_report("deep");
}
