/* gs_circuit: which cyclic group's Fourier basis each operation is measured in; see
 * circuit.h. */
#include "circuit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int64_t pow_mod(int64_t b, int64_t e, int64_t m)
{
    int64_t r = 1 % m;
    b %= m;
    for (; e > 0; e >>= 1) {
        if (e & 1)
            r = r * b % m;
        b = b * b % m;
    }
    return r;
}

int gs_primitive_root(int p)
{
    if (!gs_is_prime(p))
        return -1;
    if (p == 2)
        return 1;
    /* g generates Z_p* iff g^((p-1)/q) != 1 for every prime q dividing p-1 */
    int q[32], n_q = 0, m = p - 1;
    for (int d = 2; (int64_t)d * d <= m; d++)
        if (m % d == 0) {
            q[n_q++] = d;
            while (m % d == 0)
                m /= d;
        }
    if (m > 1)
        q[n_q++] = m;
    for (int g = 2; g < p; g++) {
        int ok = 1;
        for (int k = 0; k < n_q && ok; k++)
            ok = pow_mod(g, (p - 1) / q[k], p) != 1;
        if (ok)
            return g;
    }
    return -1; /* unreachable: every prime has a primitive root */
}

/* The basis and rule of op; *g the generator of a discrete-log basis. */
static void choose(gs_op op, int p, int *n, int *g, gs_circuit_rule *rule)
{
    const gs_op_info *o = gs_op_get(op);
    *g = 0;
    *rule = GS_CIRCUIT_NONE;
    *n = o && o->fixed_p ? 0 : p; /* S5: no cyclic group */
    switch (op) {
    case GS_OP_ADD: *rule = GS_CIRCUIT_SUM; break;
    case GS_OP_SUB: *rule = GS_CIRCUIT_DIFF; break;
    case GS_OP_MUL:
    case GS_OP_DIV:
        if (gs_is_prime(p)) {
            *n = p - 1;
            *g = gs_primitive_root(p);
            *rule = op == GS_OP_MUL ? GS_CIRCUIT_SUM : GS_CIRCUIT_DIFF;
        }
        break;
    default: break;
    }
}

int gs_circuit_order(gs_op op, int p)
{
    int n, g;
    gs_circuit_rule rule;
    choose(op, p, &n, &g, &rule);
    return n;
}

int gs_circuit_exists(gs_op op, int p)
{
    int n, g;
    gs_circuit_rule rule;
    choose(op, p, &n, &g, &rule);
    return rule != GS_CIRCUIT_NONE;
}

const char *gs_circuit_summary(gs_op op)
{
    switch (op) { /* what choose() gives, in words */
    case GS_OP_ADD: return "Z_p, along cos/sin w(x+y)";
    case GS_OP_SUB: return "Z_p, along cos/sin w(x-y)";
    case GS_OP_MUL: return "Z_(p-1) by discrete log, p prime (0 outside the group)";
    case GS_OP_DIV: return "Z_(p-1) by discrete log (0 outside the group)";
    case GS_OP_S5_COMPOSE:
    case GS_OP_S5_CONJUGATE:
    case GS_OP_S5_XYX: return "none (S5 is not cyclic: no Fourier basis)";
    default: return "no circuit; only norms, Gini and clusters, in Z_p";
    }
}

void gs_circuit_describe(gs_op op, int p, char *out, size_t size)
{
    int n, g;
    gs_circuit_rule rule;
    choose(op, p, &n, &g, &rule);
    const gs_op_info *o = gs_op_get(op);
    const char *formula = o ? o->formula : "unknown";
    const char *sign = rule == GS_CIRCUIT_DIFF ? "-" : "+";
    if (n == 0)
        snprintf(out, size, "none: S5 is not a cyclic group, so its %d permutation tokens have "
                 "no Fourier basis: restricted_loss, excluded_loss, the Fourier norms and the "
                 "Gini coefficients are NaN, and there are no neuron clusters or key frequencies",
                 p);
    else if (rule == GS_CIRCUIT_NONE)
        snprintf(out, size, "none: %s has no Fourier circuit in this basis%s, so "
                 "restricted_loss and excluded_loss are NaN; the Fourier norms, Gini "
                 "coefficients and neuron clusters use the Fourier basis of Z_%d",
                 formula, op == GS_OP_MUL ? " (no discrete-log basis: p is not prime)" : "", p);
    else if (g == 0)
        snprintf(out, size, "Fourier basis of Z_%d (each token is itself); restricted and "
                 "excluded loss along cos/sin w(a%sb)", p, sign);
    else
        snprintf(out, size, "Fourier basis of Z_%d by discrete log base %d, the smallest "
                 "primitive root of %d (token %d^k is element k); restricted and excluded "
                 "loss along cos/sin w(log a %s log b) over the pairs without token 0, which "
                 "lies outside the group", n, g, p, g, sign);
}

int gs_circuit_create(gs_circuit *c, gs_op op, int p, gs_err *err)
{
    memset(c, 0, sizeof *c);
    if (!gs_op_get(op) || p < 2 || p > GS_P_MAX)
        return gs_err_set(err, "circuit basis: no operation %d on p = %d", (int)op, p);
    c->op = op;
    c->p = p;
    choose(op, p, &c->n, &c->generator, &c->rule);
    gs_circuit_describe(op, p, c->note, sizeof c->note);
    if (c->n == 0)
        return 0;
    c->index = malloc(2 * (size_t)p * sizeof *c->index);
    if (!c->index)
        return gs_err_set(err, "out of memory for the circuit basis of p = %d", p);
    c->token = c->index + p;
    if (c->generator == 0) {
        for (int x = 0; x < p; x++)
            c->index[x] = c->token[x] = x;
        return 0;
    }
    /* token g^k is element k, for k = 0..p-2; 0 is the one token left, last */
    for (int x = 0; x < p; x++)
        c->index[x] = -1;
    int64_t power = 1;
    for (int k = 0; k < c->n; k++) {
        c->index[power] = k;
        c->token[k] = (int32_t)power;
        power = power * c->generator % p;
    }
    c->token[c->n] = 0;
    return 0;
}

void gs_circuit_free(gs_circuit *c)
{
    free(c->index);
    memset(c, 0, sizeof *c);
}
