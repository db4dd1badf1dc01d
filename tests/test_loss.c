/* gs_loss: every loss's gradient against central finite differences of its own loss,
 * StableMax against its definition, the default against the kernels of before (bit for
 * bit), and the softmax-collapse test on rows built to sit on either side of it. */
#include <math.h>
#include <string.h>

#include "check.h"
#include "fast_kernels.h"
#include "loss.h"
#include "model.h"

enum { V = 19 };

static void logits_row(float *z, double spread)
{
    for (int c = 0; c < V; c++)
        z[c] = (float)(spread * sin(1.3 * c + 0.4));
}

/* d(loss)/dz_c by central differences in double on the float64 losses (the row's loss
 * is computed from float32 logits, so the step is one a float holds exactly) */
static void check_fd(gs_loss L, double spread, int ref)
{
    float z[V], g[V];
    double scratch[V];
    logits_row(z, spread);
    const int y = 5, n = 3;
    int flags;
    if (ref)
        gs_loss_grad_ref(&L, z, V, y, g, n);
    else
        gs_loss_row(&L, z, V, y, &flags, g, n, scratch);
    double worst = 0.0, norm = 0.0;
    for (int c = 0; c < V; c++) {
        const float keep = z[c], h = 1.0f / 1024;
        z[c] = keep + h;
        const double up = ref ? gs_loss_row_ref(&L, z, V, y, &flags) : gs_loss_row(&L, z, V, y, &flags, NULL, n, scratch);
        z[c] = keep - h;
        const double down = ref ? gs_loss_row_ref(&L, z, V, y, &flags) : gs_loss_row(&L, z, V, y, &flags, NULL, n, scratch);
        z[c] = keep;
        const double fd = (up - down) / (2.0 * h) / n;
        worst = fmax(worst, fabs(fd - g[c]));
        norm = fmax(norm, fabs(fd));
    }
    CHECK(norm > 0.0);
    CHECK(worst <= 1e-4 * norm);
    if (!(worst <= 1e-4 * norm))
        fprintf(stderr, "  kind %d scaled %d spread %g ref %d: worst %g of %g\n", L.kind, L.scaled,
                spread, ref, worst, norm);
}

static void check_stablemax_value(void)
{
    const float z[4] = {-2.0f, 0.0f, 1.5f, -0.25f};
    gs_loss L = {.kind = GS_LOSS_STABLEMAX};
    int flags;
    double scratch[4];
    /* s = 1/3, 1, 2.5, 1/1.25: S = 4.6333...; target 2 */
    const double S = 1.0 / 3.0 + 1.0 + 2.5 + 0.8;
    CHECK_NEAR(gs_loss_row(&L, z, 4, 2, &flags, NULL, 1, scratch), -log(2.5 / S), 1e-12);
    CHECK(flags & GS_ROW_CORRECT);
    /* equals the cross-entropy of the transformed logits sign(x) log(1 + |x|) */
    float t[4];
    for (int c = 0; c < 4; c++)
        t[c] = (float)(z[c] < 0 ? -log1p(-z[c]) : log1p(z[c]));
    CHECK_NEAR(gs_loss_row(&L, z, 4, 0, &flags, NULL, 1, scratch), gs_cross_entropy_row(t, 4, 0, &flags),
               1e-6);
    /* MSE: (1/V) sum (z - onehot)^2 */
    gs_loss M = {.kind = GS_LOSS_MSE};
    const double want = (4.0 + 0.0 + 0.25 + 0.0625) / 4.0; /* (1.5 - 1)^2 = 0.25 */
    CHECK_NEAR(gs_loss_row(&M, z, 4, 2, &flags, NULL, 1, scratch), want, 1e-12);
}

/* the default is gs_k_xent_row's bits (fast) and gs_cross_entropy_row's (reference) */
static void check_default_bits(void)
{
    float z[V], g1[V], g2[V];
    double scratch[V];
    logits_row(z, 7.0);
    gs_loss L = {0};
    int flags, ok;
    const double a = gs_loss_row(&L, z, V, 3, &flags, g1, 5, scratch);
    const double b = gs_k_xent_row(z, V, 3, &ok, g2, 5, scratch);
    CHECK(a == b && !memcmp(g1, g2, sizeof g1) && (flags & GS_ROW_CORRECT) == ok);
    CHECK(gs_loss_row_ref(&L, z, V, 3, &flags) == gs_cross_entropy_row(z, V, 3, &ok));
}

static void check_collapse(void)
{
    float z[V];
    for (int c = 0; c < V; c++)
        z[c] = 0.0f;
    z[4] = 30.0f; /* others: 18 e^-30 = 1.7e-12: collapsed */
    CHECK(gs_softmax_collapsed(z, V));
    z[4] = 15.0f; /* 18 e^-15 = 5.5e-6 > 2^-24 */
    CHECK(!gs_softmax_collapsed(z, V));
    /* one term just below and just above 2^-24 = e^-16.6355 */
    for (int c = 0; c < V; c++)
        z[c] = -100.0f;
    z[0] = 0.0f;
    z[1] = -16.70f;
    CHECK(gs_softmax_collapsed(z, V));
    z[1] = -16.55f;
    CHECK(!gs_softmax_collapsed(z, V));
    /* the default loss's shortcut agrees with the direct test, right and wrong rows */
    gs_loss L = {0};
    double scratch[V];
    int flags;
    const float tops[] = {5.0f, 16.5f, 16.7f, 40.0f};
    for (int k = 0; k < 4; k++)
        for (int y = 0; y < 2; y++) {
            for (int c = 0; c < V; c++)
                z[c] = 0.0f;
            z[0] = tops[k];
            gs_loss_row(&L, z, V, y, &flags, NULL, 1, scratch);
            CHECK(((flags & GS_ROW_COLLAPSED) != 0) == gs_softmax_collapsed(z, V));
            CHECK(((flags & GS_ROW_CORRECT) != 0) == (y == 0));
        }
    /* float32 cross-entropy of a collapsed row: loss 0 exactly, no gradient for the target */
    gs_loss L32 = {.kind = GS_LOSS_CE, .single = 1};
    float g[V];
    for (int c = 0; c < V; c++)
        z[c] = 0.0f;
    z[2] = 20.0f; /* others 18 e^-20 = 3.7e-8 <= 2^-24 */
    CHECK(gs_loss_row(&L32, z, V, 2, &flags, g, 1, scratch) == 0.0 && g[2] == 0.0f);
    CHECK(flags == (GS_ROW_CORRECT | GS_ROW_COLLAPSED));
    CHECK(gs_loss_row(&L, z, V, 2, &flags, g, 1, scratch) > 0.0); /* float64 still sees it */
}

int main(void)
{
    const gs_loss kinds[] = {
        {.kind = GS_LOSS_STABLEMAX}, {.kind = GS_LOSS_MSE},
        {.kind = GS_LOSS_CE, .scaled = 1, .scale = 3.0f},
        {.kind = GS_LOSS_STABLEMAX, .scaled = 1, .scale = 0.5f},
        {.kind = GS_LOSS_MSE, .scaled = 1, .scale = 2.0f},
        {0},
    };
    for (size_t k = 0; k < sizeof kinds / sizeof *kinds; k++)
        for (int ref = 0; ref < 2; ref++) {
            check_fd(kinds[k], 1.0, ref);
            check_fd(kinds[k], 6.0, ref);
        }
    check_stablemax_value();
    check_default_bits();
    check_collapse();
    printf("test_loss: %d checks, %d failed\n", check_count, check_failures);
    return check_failures > 100 ? 100 : check_failures;
}
