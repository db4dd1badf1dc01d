#include "fpenv.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
/* MXCSR bit 15 flushes subnormal results to zero, bit 6 reads subnormal inputs as zero. */
#define GS_FP_BITS 0x8040u
static unsigned long read_mode(void) { return _mm_getcsr(); }
static void write_mode(unsigned long m) { _mm_setcsr((unsigned)m); }
#define GS_FP_SUPPORTED 1
#elif defined(__aarch64__)
/* FPCR bit 24 (FZ) flushes subnormal inputs and results of float32/float64 to zero. */
#define GS_FP_BITS (1ul << 24)
static unsigned long read_mode(void)
{
    unsigned long m;
    __asm__ __volatile__("mrs %0, fpcr" : "=r"(m));
    return m;
}
static void write_mode(unsigned long m) { __asm__ __volatile__("msr fpcr, %0" : : "r"(m)); }
#define GS_FP_SUPPORTED 1
#else
#define GS_FP_BITS 0ul
static unsigned long read_mode(void) { return 0; }
static void write_mode(unsigned long m) { (void)m; }
#define GS_FP_SUPPORTED 0
#endif

void gs_fpenv_enter(gs_fpenv *env, int flush)
{
    env->saved = read_mode();
    const unsigned long want = flush ? env->saved | GS_FP_BITS : env->saved & ~(unsigned long)GS_FP_BITS;
    if (want != env->saved)
        write_mode(want);
}

void gs_fpenv_leave(const gs_fpenv *env)
{
    if (read_mode() != env->saved)
        write_mode(env->saved);
}

int gs_fpenv_flushing(void)
{
    return GS_FP_SUPPORTED && (read_mode() & GS_FP_BITS) == GS_FP_BITS;
}

int gs_fpenv_supported(void)
{
    return GS_FP_SUPPORTED;
}
