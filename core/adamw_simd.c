/* gs_adamw_update's loop with explicit vector intrinsics (GCC does not vectorize sqrtf
 * under math-errno): the same float operations in the same order, fp-contract=off so
 * that no a * b + c becomes a fused multiply-add; the tail goes through the plain loop.
 * One body serves both vector widths: OP(name) spells the width's intrinsic. */
#include "adamw.h"

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#include <immintrin.h>

#define GS_ADAMW_VECTOR_UPDATE(NAME, TARGET, VEC, LANES, OP)                                       \
    __attribute__((target(TARGET), optimize("fp-contract=off")))                                  \
    static void NAME(float *restrict params, const float *restrict grads, float *restrict m,      \
                     float *restrict v, size_t n, const gs_adamw_scalars *s)                      \
    {                                                                                             \
        const VEC decay = OP(set1_ps)(s->decay), omb1 = OP(set1_ps)(s->one_minus_b1),             \
                  b2 = OP(set1_ps)(s->b2), omb2 = OP(set1_ps)(s->one_minus_b2),                   \
                  step = OP(set1_ps)(s->step_size), bc2 = OP(set1_ps)(s->bc2_sqrt),               \
                  eps = OP(set1_ps)(s->eps);                                                      \
        size_t i = 0;                                                                             \
        for (; i + LANES <= n; i += LANES) {                                                      \
            const VEC g = OP(loadu_ps)(grads + i);                                                \
            VEC p = OP(mul_ps)(OP(loadu_ps)(params + i), decay);                                  \
            VEC mi = OP(loadu_ps)(m + i);                                                         \
            mi = OP(add_ps)(mi, OP(mul_ps)(omb1, OP(sub_ps)(g, mi)));                             \
            VEC vi = OP(loadu_ps)(v + i);                                                         \
            vi = OP(add_ps)(OP(mul_ps)(vi, b2), OP(mul_ps)(OP(mul_ps)(omb2, g), g));              \
            const VEC denom = OP(add_ps)(OP(div_ps)(OP(sqrt_ps)(vi), bc2), eps);                  \
            p = OP(sub_ps)(p, OP(mul_ps)(step, OP(div_ps)(mi, denom)));                           \
            OP(storeu_ps)(params + i, p);                                                         \
            OP(storeu_ps)(m + i, mi);                                                             \
            OP(storeu_ps)(v + i, vi);                                                             \
        }                                                                                         \
        gs_adamw_update(params + i, grads + i, m + i, v + i, n - i, s);                           \
    }

#define GS_OP512(name) _mm512_##name
#define GS_OP256(name) _mm256_##name
GS_ADAMW_VECTOR_UPDATE(update_avx512, "avx512f", __m512, 16, GS_OP512)
GS_ADAMW_VECTOR_UPDATE(update_avx, "avx", __m256, 8, GS_OP256)
#endif

void gs_adamw_update_simd(float *restrict params, const float *restrict grads, float *restrict m,
                          float *restrict v, size_t n, const gs_adamw_scalars *s)
{
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
    if (__builtin_cpu_supports("avx512f"))
        update_avx512(params, grads, m, v, n, s);
    else if (__builtin_cpu_supports("avx"))
        update_avx(params, grads, m, v, n, s);
    else
#endif
        gs_adamw_update(params, grads, m, v, n, s);
}
