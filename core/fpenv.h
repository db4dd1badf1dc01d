/* gs_fpenv: how the threads that compute treat subnormal floats.
 *
 * Late in a run the losses sit near 1e-7 and many float32 values (gradients, Adam's
 * second moments, attention weights far from the max) fall below FLT_MIN into the
 * subnormal range. On many CPUs every instruction that reads or writes a subnormal takes
 * a slow microcode path, so epochs after grokking cost several times more than epochs
 * from the init (docs/performance.md). Flushing subnormal results to zero (FTZ) and
 * reading subnormal inputs as zero (DAZ) keeps every epoch at the same cost; the values
 * lost are below 1.2e-38 and change no printed loss (docs/numerics.md has the measured
 * effect on a run). The mode is part of a run's definition (/config flush_subnormals), so
 * a run and its resume, and the analysis of its checkpoints, compute with the same one.
 *
 * The mode is per thread (the MXCSR register on x86, FPCR on AArch64): the trainer and
 * the probes enter it on the calling thread, and the pool sets it on its workers for
 * every task list (core/pool.h). OpenBLAS's own threads never compute (the pool runs
 * OpenBLAS single-threaded), so no thread computes in the wrong mode. */
#ifndef GS_FPENV_H
#define GS_FPENV_H

typedef struct {
    unsigned long saved; /* the control register as it was */
} gs_fpenv;

/* Saves the calling thread's mode into env and sets it: flush != 0 turns FTZ and DAZ on,
 * flush == 0 turns them off (IEEE subnormals). */
void gs_fpenv_enter(gs_fpenv *env, int flush);

/* Restores the mode saved by gs_fpenv_enter. */
void gs_fpenv_leave(const gs_fpenv *env);

/* 1 if flush-to-zero is in effect on the calling thread now. */
int gs_fpenv_flushing(void);

/* 1 where this CPU architecture can flush (x86-64, AArch64); elsewhere the mode is
 * always IEEE and flush requests are ignored. */
int gs_fpenv_supported(void);

#endif
