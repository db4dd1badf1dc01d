/* Parameter table and init statistics (docs/science.md §2). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "params.h"

int main(void)
{
    gs_dims d;
    gs_dims_make(&d, 113, 128, 4, 512);
    gs_param_info info[GS_MAX_TENSORS];
    size_t n = gs_params_layout(&d, info);
    CHECK(n == 226816); /* docs/science.md §2 */
    CHECK(strcmp(info[GS_W_Q].key, "blocks.0.attn.W_Q") == 0);
    CHECK(info[GS_W_O].shape[0] == 4 && info[GS_W_O].shape[1] == 32 && info[GS_W_O].shape[2] == 128);
    CHECK(info[GS_W_U].shape[0] == 128 && info[GS_W_U].shape[1] == 114);
    CHECK(info[GS_W_U].offset + info[GS_W_U].count == n);

    float *w = malloc(n * sizeof *w), *w2 = malloc(n * sizeof *w2);
    gs_params_init(w, &d, 0);
    /* Expected sum of squares: count * std^2 per tensor, about 1781 for p = 113. */
    double expect = 0.0;
    for (int t = 0; t < GS_N_PARAMS; t++)
        expect += info[t].count * info[t].init_std * info[t].init_std;
    CHECK_NEAR(expect, 1781.0, 1.0);
    double ss = gs_params_sumsq(w, n);
    /* sd of a sum of ~2e5 chi-square terms is about sqrt(2/N) relative: ~0.3% */
    CHECK_NEAR(ss / expect, 1.0, 0.015);
    /* each tensor: mean near 0, std near init_std; biases exactly 0 */
    for (int t = 0; t < GS_N_PARAMS; t++) {
        double s = 0, s2 = 0;
        for (size_t i = 0; i < info[t].count; i++) {
            s += w[info[t].offset + i];
            s2 += (double)w[info[t].offset + i] * w[info[t].offset + i];
        }
        double mean = s / info[t].count, sd = sqrt(s2 / info[t].count - mean * mean);
        if (info[t].init_std == 0.0) {
            CHECK(s2 == 0.0);
        } else {
            CHECK_NEAR(mean / info[t].init_std, 0.0, 6.0 / sqrt((double)info[t].count) + 1e-3);
            CHECK_NEAR(sd / info[t].init_std, 1.0, 0.1);
        }
    }
    /* deterministic in the seed, different across seeds */
    gs_params_init(w2, &d, 0);
    CHECK(memcmp(w, w2, n * sizeof *w) == 0);
    gs_params_init(w2, &d, 1);
    CHECK(memcmp(w, w2, n * sizeof *w) != 0);
    free(w);
    free(w2);
    return check_report("params");
}
