/* gs_split: the paper's train/test split, bit-identical to CPython's
 * random.seed(seed); random.shuffle(pairs) (docs/science.md §1). */
#include "task.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#define MT_N 624
#define MT_M 397
#define MT_MATRIX_A 0x9908b0dfU
#define MT_UPPER 0x80000000U
#define MT_LOWER 0x7fffffffU

static void mt_init_genrand(gs_mt19937 *r, uint32_t s)
{
    uint32_t *mt = r->mt;
    mt[0] = s;
    for (int i = 1; i < MT_N; i++)
        mt[i] = 1812433253U * (mt[i - 1] ^ (mt[i - 1] >> 30)) + (uint32_t)i;
    r->mti = MT_N;
}

/* CPython's init_by_array (Modules/_randommodule.c). */
static void mt_init_by_array(gs_mt19937 *r, const uint32_t *key, int key_length)
{
    uint32_t *mt = r->mt;
    mt_init_genrand(r, 19650218U);
    int i = 1, j = 0;
    int k = MT_N > key_length ? MT_N : key_length;
    for (; k; k--) {
        mt[i] = (mt[i] ^ ((mt[i - 1] ^ (mt[i - 1] >> 30)) * 1664525U)) + key[j] + (uint32_t)j;
        i++;
        j++;
        if (i >= MT_N) {
            mt[0] = mt[MT_N - 1];
            i = 1;
        }
        if (j >= key_length)
            j = 0;
    }
    for (k = MT_N - 1; k; k--) {
        mt[i] = (mt[i] ^ ((mt[i - 1] ^ (mt[i - 1] >> 30)) * 1566083941U)) - (uint32_t)i;
        i++;
        if (i >= MT_N) {
            mt[0] = mt[MT_N - 1];
            i = 1;
        }
    }
    mt[0] = 0x80000000U;
}

/* random.seed(int): CPython's random_seed takes abs() of an int and feeds its 32-bit
 * little-endian words (at least one, so 0 -> [0]) to init_by_array. */
void gs_mt_seed_int(gs_mt19937 *r, int64_t seed)
{
    uint64_t n = seed < 0 ? (uint64_t)0 - (uint64_t)seed : (uint64_t)seed;
    uint32_t key[2] = {(uint32_t)(n & 0xffffffffU), (uint32_t)(n >> 32)};
    mt_init_by_array(r, key, key[1] ? 2 : 1);
}

uint32_t gs_mt_next(gs_mt19937 *r)
{
    static const uint32_t mag01[2] = {0U, MT_MATRIX_A};
    uint32_t *mt = r->mt;
    uint32_t y;
    if (r->mti >= MT_N) {
        int kk;
        for (kk = 0; kk < MT_N - MT_M; kk++) {
            y = (mt[kk] & MT_UPPER) | (mt[kk + 1] & MT_LOWER);
            mt[kk] = mt[kk + MT_M] ^ (y >> 1) ^ mag01[y & 1U];
        }
        for (; kk < MT_N - 1; kk++) {
            y = (mt[kk] & MT_UPPER) | (mt[kk + 1] & MT_LOWER);
            mt[kk] = mt[kk + (MT_M - MT_N)] ^ (y >> 1) ^ mag01[y & 1U];
        }
        y = (mt[MT_N - 1] & MT_UPPER) | (mt[0] & MT_LOWER);
        mt[MT_N - 1] = mt[MT_M - 1] ^ (y >> 1) ^ mag01[y & 1U];
        r->mti = 0;
    }
    y = mt[r->mti++];
    y ^= (y >> 11);
    y ^= (y << 7) & 0x9d2c5680U;
    y ^= (y << 15) & 0xefc60000U;
    y ^= (y >> 18);
    return y;
}

/* random._randbelow_with_getrandbits(n): k = n.bit_length(), draw getrandbits(k)
 * = genrand_uint32() >> (32 - k) until it is < n. */
uint32_t gs_mt_randbelow(gs_mt19937 *r, uint32_t n)
{
    if (n == 0)
        return 0; /* outside the contract (CPython would loop forever) */
    int k = 0;
    for (uint32_t t = n; t; t >>= 1)
        k++;
    uint32_t v;
    do
        v = gs_mt_next(r) >> (32 - k);
    while (v >= n);
    return v;
}

int gs_split_make(gs_split *out, int p, gs_op op, double frac, int64_t seed, gs_err *err)
{
    if (out)
        memset(out, 0, sizeof *out);
    if (!out)
        return gs_err_set(err, "internal error: gs_split_make called without output");
    if (gs_task_check(p, op, frac, err) < 0)
        return -1;

    /* the defined pairs, as the lexicographic list the shuffle permutes */
    const int n_pairs = (int)gs_task_n_defined(op, p, NULL, 0);
    /* Python: int(frac * len(pairs)); the int converts exactly to double first. */
    double prod = frac * (double)n_pairs;
    int n_train = (int)prod; /* truncation == floor, prod > 0 */
    int n_test = n_pairs - n_train;
    if (n_train <= 0)
        return gs_err_set(err, "frac %g leaves no training pairs for p=%d", frac, p);
    if (n_test <= 0) /* unreachable for frac < 1, kept as a guard */
        return gs_err_set(err, "frac %g leaves no test pairs for p=%d", frac, p);

    int32_t *block = malloc((size_t)n_pairs * sizeof *block);
    if (!block)
        return gs_err_set(err, "out of memory allocating the split for p=%d", p);

    int n = 0;
    for (int a = 0; a < p; a++)
        for (int b = 0; b < p; b++)
            if (gs_task_answer(op, p, a, b) >= 0)
                block[n++] = (int32_t)(a * p + b);
    assert(n == n_pairs);

    gs_mt19937 rng;
    gs_mt_seed_int(&rng, seed);
    for (int i = n - 1; i >= 1; i--) {
        uint32_t j = gs_mt_randbelow(&rng, (uint32_t)i + 1);
        int32_t t = block[i];
        block[i] = block[j];
        block[j] = t;
    }

    out->n_train = n_train;
    out->n_test = n_test;
    out->train_idx = block;
    out->test_idx = block + n_train;
    return 0;
}

void gs_split_free(gs_split *s)
{
    if (!s)
        return;
    free(s->train_idx);
    memset(s, 0, sizeof *s);
}
