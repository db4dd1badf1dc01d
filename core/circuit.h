/* gs_circuit: the cyclic group in whose Fourier basis an operation's progress measures
 * are taken (docs/science.md §4 and §7, docs/tasks.md).
 *
 * Nanda et al.'s measures read the model in the Fourier basis of a cyclic group Z_n
 * and follow the circuit that combines the operands' group elements. A circuit basis
 * says three things: the group order n, which element of Z_n each token is (or that it
 * lies outside the group), and the combination rule:
 *   - add, sub: Z_p, every token is itself, s = i + j (sub: i - j) mod p;
 *   - mul, div on a prime p: Z_(p-1) by the discrete log base g, the smallest primitive
 *     root of p: token g^k is element k, token 0 lies outside the group, and since
 *     g^i g^j = g^(i+j) the rule is s = i + j (div: i - j) mod p-1;
 *   - every other operation on numbers mod p: the basis of Z_p with no rule (the Fourier
 *     norms, Gini coefficients and neuron clusters exist; restricted and excluded loss
 *     do not);
 *   - S5: no cyclic group, no basis (n = 0), none of the Fourier measures.
 * Why a measure is absent is said in `note`, which the run file stores as the /analysis
 * attribute circuit_measures (docs/run-file.md). */
#ifndef GS_CIRCUIT_H
#define GS_CIRCUIT_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "task.h"

typedef enum { GS_CIRCUIT_NONE, GS_CIRCUIT_SUM, GS_CIRCUIT_DIFF } gs_circuit_rule;

#define GS_CIRCUIT_NOTE_MAX 480

typedef struct {
    gs_op op;
    int p;                 /* tokens 0..p-1 */
    int n;                 /* the group Z_n of the basis; 0 = no Fourier basis */
    int generator;         /* discrete-log bases: g (token g^k is element k); else 0 */
    gs_circuit_rule rule;  /* how a pair's elements combine; NONE = no circuit */
    int32_t *index;        /* [p] token -> element 0..n-1, or -1 outside the group */
    int32_t *token;        /* [p] the tokens in basis order: element k's token for
                            * k < n, then the tokens outside the group, ascending */
    char note[GS_CIRCUIT_NOTE_MAX];
} gs_circuit;

/* The basis of op on tokens 0..p-1 (p valid for op, gs_task_check). 0 or -1 with err. */
int gs_circuit_create(gs_circuit *c, gs_op op, int p, gs_err *err);
void gs_circuit_free(gs_circuit *c);

/* The note alone, as gs_circuit_create writes it (no allocation): it begins "none:"
 * exactly when the operation has no circuit (rule NONE). */
void gs_circuit_describe(gs_op op, int p, char *out, size_t size);

/* The group order n of op's basis on p tokens (0: no Fourier basis) and whether it has a
 * circuit (restricted and excluded loss), as gs_circuit_create would set them. */
int gs_circuit_order(gs_op op, int p);
int gs_circuit_exists(gs_op op, int p);

/* One line for `grokscope train --list-ops`: which basis op's measures use, for any p
 * (e.g. "Z_(p-1) by discrete log for a prime p; none otherwise"). */
const char *gs_circuit_summary(gs_op op);

/* The element the circuit combines pair (a, b) into, s = index[a] +- index[b] mod n;
 * -1 when a or b lies outside the group or there is no circuit. */
static inline int gs_circuit_combine(const gs_circuit *c, int a, int b)
{
    if (c->rule == GS_CIRCUIT_NONE)
        return -1;
    const int i = c->index[a], j = c->index[b];
    if (i < 0 || j < 0)
        return -1;
    return c->rule == GS_CIRCUIT_SUM ? (i + j) % c->n : (i - j + c->n) % c->n;
}

/* The smallest primitive root of a prime p (the generator of the discrete-log bases);
 * -1 if p is not a prime. */
int gs_primitive_root(int p);

#endif
