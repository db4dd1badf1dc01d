/* bench_late: ms per epoch from the init and after grokking, with subnormals flushed and
 * as IEEE subnormals, and the share of subnormal values in the late state (bench_late.c). */
#ifndef GS_BENCH_LATE_H
#define GS_BENCH_LATE_H

/* Prints the table; returns 0, or 1 with a message on stderr. */
int bench_late(int rounds, int epochs, int late_epochs);

#endif
