/* gs_task: the operations (docs/science.md §1, §7; the table of docs/tasks.md). */
#include "task.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* Power et al.'s own names (openai/grok data.py) are in docs/tasks.md. */
static const gs_op_info op_table[GS_OP_COUNT] = {
    [GS_OP_ADD] = {"add", "x+y mod p", "all p^2", NULL, 0, 0},
    [GS_OP_SUB] = {"sub", "x-y mod p", "all p^2", NULL, 0, 0},
    [GS_OP_MUL] = {"mul", "x*y mod p", "all p^2", NULL, 0, 0},
    [GS_OP_DIV] = {"div", "x/y = x*y^-1 mod p", "p(p-1): y != 0",
                   "y = 0 has no inverse mod p", 1, 0},
    [GS_OP_X2Y2] = {"x2y2", "x^2+y^2 mod p", "all p^2", NULL, 0, 0},
    [GS_OP_X2XYY2] = {"x2xyy2", "x^2+xy+y^2 mod p", "all p^2", NULL, 0, 0},
    [GS_OP_X2XYY2X] = {"x2xyy2x", "x^2+xy+y^2+x mod p", "all p^2", NULL, 0, 0},
    [GS_OP_X3XY] = {"x3xy", "x^3+xy mod p", "all p^2", NULL, 0, 0},
    [GS_OP_X3XY2Y] = {"x3xy2y", "x^3+xy^2+y mod p", "all p^2", NULL, 0, 0},
    [GS_OP_X2Y] = {"x2y", "x^2+y mod p", "all p^2", NULL, 0, 0},
    [GS_OP_X3Y] = {"x3y", "x^3+y mod p", "all p^2", NULL, 0, 0},
    /* y odd is never 0, so with p prime every pair has an answer */
    [GS_OP_DIV_OR_SUB] = {"div-or-sub", "x/y mod p if y is odd, else x-y mod p",
                          "all p^2 (an odd y is never 0)", "an odd y has no inverse mod p", 1, 0},
    [GS_OP_ADD_OR_MUL] = {"add-or-mul", "x+y mod p if x is even, else x*y mod p", "all p^2",
                          NULL, 0, 0},
    [GS_OP_ADD_OR_SUB] = {"add-or-sub", "x+y mod p if x is even, else x-y mod p", "all p^2",
                          NULL, 0, 0},
    [GS_OP_S5_COMPOSE] = {"s5-compose", "x.y in S5 (apply x, then y)", "all 120^2", NULL, 0,
                          GS_S5_ORDER},
    [GS_OP_S5_CONJUGATE] = {"s5-conjugate", "x.y.x^-1 in S5", "all 120^2", NULL, 0,
                            GS_S5_ORDER},
    [GS_OP_S5_XYX] = {"s5-xyx", "x.y.x in S5", "all 120^2", NULL, 0, GS_S5_ORDER},
};

const gs_op_info *gs_op_get(gs_op op)
{
    if ((int)op < 0 || op >= GS_OP_COUNT)
        return NULL;
    return &op_table[op];
}

const char *gs_op_name(gs_op op)
{
    const gs_op_info *o = gs_op_get(op);
    return o ? o->name : "unknown";
}

int gs_op_parse(const char *name, gs_op *out)
{
    if (!name)
        return -1;
    for (int i = 0; i < GS_OP_COUNT; i++) {
        if (strcmp(name, op_table[i].name) == 0) {
            if (out)
                *out = (gs_op)i;
            return 0;
        }
    }
    return -1;
}

int gs_p_check(int p, gs_err *err)
{
    if (p < GS_P_MIN || p > GS_P_MAX)
        return gs_err_set(err, "p = %d is out of range %d..%d", p, GS_P_MIN, GS_P_MAX);
    return 0;
}

int gs_task_check(int p, gs_op op, double frac, gs_err *err)
{
    const gs_op_info *o = gs_op_get(op);
    if (!o)
        return gs_err_set(err, "unknown operation %d", (int)op);
    if (o->fixed_p && p != o->fixed_p)
        return gs_err_set(err, "op %s has %d tokens (the permutations of S5), so p is %d, "
                          "not %d", o->name, o->fixed_p, o->fixed_p, p);
    if (gs_p_check(p, err) < 0)
        return -1;
    if (o->needs_prime && !gs_is_prime(p))
        return gs_err_set(err, "op %s needs a prime p (y^-1 mod %d does not exist for every "
                          "y != 0)", o->name, p);
    if (!(frac > 0.0 && frac < 1.0))
        return gs_err_set(err, "frac = %g must lie strictly between 0 and 1", frac);
    return 0;
}

int gs_is_prime(int n)
{
    if (n < 2)
        return 0;
    if (n < 4)
        return 1;
    if (n % 2 == 0)
        return 0;
    for (int64_t d = 3; d * d <= n; d += 2)
        if (n % d == 0)
            return 0;
    return 1;
}

/* Inverse of b modulo p by the extended Euclidean algorithm; -1 if gcd(b,p) != 1. */
static int64_t mod_inverse(int64_t b, int64_t p)
{
    int64_t r0 = p, r1 = b, t0 = 0, t1 = 1;
    while (r1 != 0) {
        int64_t q = r0 / r1, tmp;
        tmp = r0 - q * r1; r0 = r1; r1 = tmp;
        tmp = t0 - q * t1; t0 = t1; t1 = tmp;
    }
    if (r0 != 1)
        return -1;
    return t0 < 0 ? t0 + p : t0;
}

/* x / y mod P, or -1 where y has no inverse */
static int64_t mod_div(int64_t x, int64_t y, int64_t P)
{
    const int64_t inv = mod_inverse(y, P);
    return inv < 0 ? -1 : x * inv % P;
}

int gs_task_answer(gs_op op, int p, int a, int b)
{
    const gs_op_info *o = gs_op_get(op);
    if (!o || p < 2 || a < 0 || a >= p || b < 0 || b >= p)
        return -1;
    if (o->fixed_p)
        return p == o->fixed_p ? gs_s5_answer(op, a, b) : -1;
    /* every product is of two values below P < 2^31 before it is reduced: < 2^62 */
    const int64_t P = p, x = a, y = b, x2 = x * x % P, y2 = y * y % P, xy = x * y % P;
    int64_t c;
    switch (op) {
    case GS_OP_ADD: c = x + y; break;
    case GS_OP_SUB: c = x - y + P; break;
    case GS_OP_MUL: c = xy; break;
    case GS_OP_DIV: c = mod_div(x, y, P); break;
    case GS_OP_X2Y2: c = x2 + y2; break;
    case GS_OP_X2XYY2: c = x2 + xy + y2; break;
    case GS_OP_X2XYY2X: c = x2 + xy + y2 + x; break;
    case GS_OP_X3XY: c = x2 * x % P + xy; break;
    case GS_OP_X3XY2Y: c = x2 * x % P + xy * y % P + y; break;
    case GS_OP_X2Y: c = x2 + y; break;
    case GS_OP_X3Y: c = x2 * x % P + y; break;
    case GS_OP_DIV_OR_SUB: c = y % 2 ? mod_div(x, y, P) : x - y + P; break;
    case GS_OP_ADD_OR_MUL: c = x % 2 == 0 ? x + y : xy; break;
    case GS_OP_ADD_OR_SUB: c = x % 2 == 0 ? x + y : x - y + P; break;
    default: return -1;
    }
    return c < 0 ? -1 : (int)(c % P);
}

long gs_task_n_defined(gs_op op, int p, char *why, size_t why_size)
{
    const gs_op_info *o = gs_op_get(op);
    if (why && why_size)
        why[0] = '\0';
    if (!o || p < 2 || p > GS_P_MAX)
        return -1;
    long n = 0;
    for (int a = 0; a < p; a++)
        for (int b = 0; b < p; b++)
            n += gs_task_answer(op, p, a, b) >= 0;
    const long all = (long)p * p;
    if (n < all && why && why_size)
        snprintf(why, why_size, "%ld of the %ld pairs are left out: %s = %d", all - n, all,
                 o->undefined ? o->undefined : "their answer is undefined mod p", p);
    return n;
}
