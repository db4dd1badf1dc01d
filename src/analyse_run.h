/* Analysing a run on the way to something else (plot, sweep collect): as `grokscope
 * analyze RUN` would, keeping key frequencies a user gave with analyze --key-freqs. */
#ifndef GS_ANALYSE_RUN_H
#define GS_ANALYSE_RUN_H

#include "grokscope.h"

/* Room for the text of the most key frequencies a run stores ("14,35,41,...") */
#define GS_KEYS_TEXT (GROKSCOPE_MAX_STORED_KEYS * 6)

/* The key frequencies a user gave (analyze --key-freqs) as text into keys
 * (GS_KEYS_TEXT characters), "" when the run uses its clusters'; 0, or -1 with msg. */
int gs_user_keys(grokscope_run *run, char *keys, char *msg);
/* Runs the analysis of path with these key frequencies ("" or NULL: the stored user
 * keys are looked up first) and the threads (0: all CPUs), with a progress line unless
 * quiet; 0, or -1 with msg. */
int gs_analyse_run(const char *path, const char *keys, int quiet, int threads, char *msg);

#endif
