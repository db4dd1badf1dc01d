#include "batch.h"

#include <assert.h>

#include "rng.h"

void gs_batch_perm(int32_t *perm, int n, int64_t seed, long pass)
{
    assert(n >= 1 && pass >= 0);
    /* A stream apart from the init's (params.c mixes seed with a small tensor index):
     * the pass goes through its own splitmix step first. */
    uint64_t x = (uint64_t)pass ^ 0x5851f42d4c957f2dULL;
    x = gs_splitmix64(&x) ^ (uint64_t)seed;
    for (int i = 0; i < n; i++)
        perm[i] = i;
    for (int i = n - 1; i > 0; i--) {
        /* j uniform in 0..i by the multiply-shift map of 64 random bits (bias < 2^-32) */
        const int j = (int)(((unsigned __int128)gs_splitmix64(&x) * (uint64_t)(i + 1)) >> 64);
        const int32_t t = perm[i];
        perm[i] = perm[j];
        perm[j] = t;
    }
}
