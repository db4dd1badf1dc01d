/* gs_task: the modular-arithmetic tasks and the paper's train/test split. */
#ifndef GS_TASK_H
#define GS_TASK_H

#include <stdint.h>

#include "error.h"

typedef enum { GS_OP_ADD, GS_OP_SUB, GS_OP_MUL, GS_OP_DIV, GS_OP_COUNT } gs_op;

const char *gs_op_name(gs_op op);                 /* "add", "sub", "mul", "div" */
int gs_op_parse(const char *name, gs_op *out);    /* 0 or -1 if unknown */
int gs_is_prime(int n);

/* The moduli grokscope supports. At least 3: below it the split leaves no test pair
 * worth the name. At most 4096: every size product (p*p inputs times a layer's width,
 * p*p*p logits of the analysis) stays far inside int32/size_t and a machine's memory. */
#define GS_P_MIN 3
#define GS_P_MAX 4096

/* 0 if p is in GS_P_MIN..GS_P_MAX, else -1 with "p = 5000 is out of range 3..4096". */
int gs_p_check(int p, gs_err *err);

/* Checks a task: p (gs_p_check), a known op, a prime p for div (b^-1 must exist for
 * every b != 0), 0 < frac < 1. Messages name the values, not command-line flags. */
int gs_task_check(int p, gs_op op, double frac, gs_err *err);

/* c = (a op b) mod p, in 0..p-1; -1 where undefined (div by b = 0). For div, p must
 * be prime. */
int gs_task_answer(gs_op op, int p, int a, int b);

/* The split of docs/science.md §1: the pairs (a,b) where the answer is defined, in order
 * (0,0),(0,1),..., shuffled exactly as CPython's random.seed(seed);
 * random.shuffle(pairs); the first floor(frac * n_pairs) train. Indices are
 * i = a*p + b. */
typedef struct {
    int n_train, n_test;
    int32_t *train_idx; /* one allocation holds both; free with gs_split_free */
    int32_t *test_idx;
} gs_split;

int gs_split_make(gs_split *out, int p, gs_op op, double frac, int64_t seed, gs_err *err);
void gs_split_free(gs_split *s);

/* CPython-compatible MT19937, exposed for tests. */
typedef struct {
    uint32_t mt[624];
    int mti;
} gs_mt19937;

void gs_mt_seed_int(gs_mt19937 *r, int64_t seed); /* random.seed(int) */
uint32_t gs_mt_next(gs_mt19937 *r);               /* genrand_uint32 */
uint32_t gs_mt_randbelow(gs_mt19937 *r, uint32_t n); /* random._randbelow(n), n >= 1 */

#endif
