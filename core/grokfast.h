/* gs_grokfast: Grokfast's gradient filters (Lee et al. 2024), exactly as ironjr/grokfast
 * grokfast.py computes them in float32, on a flat gradient array:
 *
 *   EMA: mu <- mu * alpha + g * (1 - alpha)  (mu starts as the first gradient),
 *        g  <- g + mu * lambda
 *   MA:  the last w gradients kept; once w of them are there,
 *        g  <- g + (sum of the window, oldest first, from 0) / w * lambda
 *        and before that the gradient is left alone.
 *
 * The filter runs once per optimizer step, so the number of gradients it has seen is
 * the step count t: the state is its buffer alone (EMA: mu; MA: the window as a ring,
 * step t's gradient in row t mod w), which /resume keeps. */
#ifndef GS_GROKFAST_H
#define GS_GROKFAST_H

#include <stddef.h>

#include "config.h"
#include "error.h"

typedef struct {
    int kind;              /* gs_grokfast */
    float alpha, one_minus_alpha, lambda, window_f;
    long window;
    size_t n;              /* elements of the gradient */
    size_t rows;           /* rows of n floats in buf: 0 (none), 1 (EMA), window (MA) */
    float *buf;
} gs_grokfast_state;

/* Rows of n floats the filter of cfg keeps (0, 1 or gf_window). */
size_t gs_grokfast_rows(const gs_config *cfg);

int gs_grokfast_init(gs_grokfast_state *g, const gs_config *cfg, size_t n, gs_err *err);
void gs_grokfast_free(gs_grokfast_state *g);

/* Filters grads[at, at + len) of step t (t gradients filtered before it). Elementwise:
 * slices may run in any order or in parallel. */
void gs_grokfast_apply(gs_grokfast_state *g, float *grads, size_t at, size_t len, long t);

#endif
