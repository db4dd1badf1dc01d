/* gs_task: the modular-arithmetic operations (docs/science.md §1). */
#include "task.h"

#include <stdint.h>
#include <string.h>

static const char *const op_names[GS_OP_COUNT] = {"add", "sub", "mul", "div"};

const char *gs_op_name(gs_op op)
{
    if ((int)op < 0 || op >= GS_OP_COUNT)
        return "unknown";
    return op_names[op];
}

int gs_op_parse(const char *name, gs_op *out)
{
    if (!name)
        return -1;
    for (int i = 0; i < GS_OP_COUNT; i++) {
        if (strcmp(name, op_names[i]) == 0) {
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
    if (gs_p_check(p, err) < 0)
        return -1;
    if ((int)op < 0 || op >= GS_OP_COUNT)
        return gs_err_set(err, "unknown operation %d", (int)op);
    if (op == GS_OP_DIV && !gs_is_prime(p))
        return gs_err_set(err, "op div needs a prime p (b^-1 mod %d does not exist for every "
                          "b)", p);
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

/* Returns -1 where the answer is undefined: division by b with no inverse mod p
 * (b = 0 for prime p), and also for invalid arguments (p < 2, a or b outside 0..p-1,
 * unknown op). All intermediates are 64-bit, so any int p is safe. */
int gs_task_answer(gs_op op, int p, int a, int b)
{
    if (p < 2 || a < 0 || a >= p || b < 0 || b >= p)
        return -1;
    int64_t P = p, A = a, B = b;
    switch (op) {
    case GS_OP_ADD:
        return (int)((A + B) % P);
    case GS_OP_SUB:
        return (int)(((A - B) % P + P) % P);
    case GS_OP_MUL:
        return (int)(A * B % P);
    case GS_OP_DIV: {
        int64_t inv = mod_inverse(B, P);
        if (inv < 0)
            return -1;
        return (int)(A * inv % P);
    }
    default:
        return -1;
    }
}
