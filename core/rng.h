/* gs_rng: the one home of grokscope's random bits. xoshiro256** (Blackman & Vigna),
 * seeded through splitmix64. Every stream — the init (params.c), the minibatch order
 * (batch.c), the SGLD noise and batches of the LLC (probes/llc.c) — is built from these
 * two functions, so they are written once; each caller mixes its own seed so the
 * streams stay apart. Header-only: both are a few instructions and sit in hot loops. */
#ifndef GS_RNG_H
#define GS_RNG_H

#include <stdint.h>

/* splitmix64: advances *x and returns 64 well-mixed bits (also a seeder). */
static inline uint64_t gs_splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static inline uint64_t gs_rotl64(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

/* xoshiro256**: the next 64 bits of state s. */
static inline uint64_t gs_xoshiro_next(uint64_t s[4])
{
    const uint64_t result = gs_rotl64(s[1] * 5, 7) * 9;
    const uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = gs_rotl64(s[3], 45);
    return result;
}

#endif
