/* gs_task: the binary operations (docs/science.md §1, §7; docs/tasks.md) and the paper's
 * train/test split. */
#ifndef GS_TASK_H
#define GS_TASK_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

/* The operations of Nanda et al. (add, sub, mul, div) and of Power et al. 2022: the
 * polynomials, the mixed "if even/odd" operations and the three S5 tasks. Run files
 * store the name, never the number, so the order here is free. */
typedef enum {
    GS_OP_ADD, GS_OP_SUB, GS_OP_MUL, GS_OP_DIV,
    GS_OP_X2Y2, GS_OP_X2XYY2, GS_OP_X2XYY2X, GS_OP_X3XY, GS_OP_X3XY2Y, GS_OP_X2Y, GS_OP_X3Y,
    GS_OP_DIV_OR_SUB, GS_OP_ADD_OR_MUL, GS_OP_ADD_OR_SUB,
    GS_OP_S5_COMPOSE, GS_OP_S5_CONJUGATE, GS_OP_S5_XYX,
    GS_OP_COUNT
} gs_op;

/* What `grokscope train --list-ops` and docs/tasks.md show of an operation. */
typedef struct {
    const char *name;      /* the --op name and the run file's /config op */
    const char *formula;   /* the answer, e.g. "x^2+y^2 mod p" */
    const char *pairs;     /* which pairs (x, y) have an answer */
    const char *undefined; /* why the others have none; NULL when every pair has one */
    int needs_prime;       /* p must be prime (every y != 0 has an inverse) */
    int fixed_p;           /* the token count the task fixes (S5: 120); 0 = any p */
} gs_op_info;

/* The table row of op; NULL for a value outside 0..GS_OP_COUNT-1. */
const gs_op_info *gs_op_get(gs_op op);
const char *gs_op_name(gs_op op);                 /* "add", ...; "unknown" if invalid */
int gs_op_parse(const char *name, gs_op *out);    /* 0 or -1 if unknown */
int gs_is_prime(int n);

/* The moduli grokscope supports. At least 3: below it the split leaves no test pair
 * worth the name. At most 4096: every size product (p*p inputs times a layer's width,
 * p*p*p logits of the analysis) stays far inside int32/size_t and a machine's memory. */
#define GS_P_MIN 3
#define GS_P_MAX 4096

/* S5: 5! permutations of 0..4 as tokens (core/task_s5.c). */
#define GS_S5_ORDER 120

/* 0 if p is in GS_P_MIN..GS_P_MAX, else -1 with "p = 5000 is out of range 3..4096". */
int gs_p_check(int p, gs_err *err);

/* Checks a task: p (gs_p_check), a known op, a prime p where the op divides, p = 120
 * for S5, 0 < frac < 1. Messages name the values, not command-line flags. */
int gs_task_check(int p, gs_op op, double frac, gs_err *err);

/* The answer of the pair (a, b), a token in 0..p-1; -1 where undefined (division by a
 * y without an inverse mod p) and for invalid arguments (a or b outside 0..p-1, an S5
 * op with p != 120, unknown op). All intermediates are 64-bit, so any int p is safe. */
int gs_task_answer(gs_op op, int p, int a, int b);

/* Pairs whose answer is defined (p*p minus those left out); -1 for invalid arguments.
 * Where pairs are left out, *why (if non-NULL) gets one line saying how many and why,
 * e.g. "113 of the 12769 pairs are left out: y = 0 has no inverse mod 113"; else "". */
long gs_task_n_defined(gs_op op, int p, char *why, size_t why_size);

/* S5 (core/task_s5.c). Token t is the t-th permutation of (0,1,2,3,4) in lexicographic
 * order of its one-line form (sigma(0), ..., sigma(4)), as Python's
 * itertools.permutations(range(5)) lists them: 0 is the identity, 119 is (4,3,2,1,0).
 * Products read left to right, as in openai/grok (numpy's y[x], sympy's x*y):
 * (x.y)(i) = y(x(i)), "apply x, then y". */
void gs_s5_unrank(int t, int perm[5]);      /* t in 0..119 */
int gs_s5_rank(const int perm[5]);          /* a permutation of 0..4 -> its token */
int gs_s5_answer(gs_op op, int a, int b);   /* the S5 ops; -1 otherwise */

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
