/* The S5 tasks of Power et al. 2022: tokens are the 120 permutations of 0..4 (task.h
 * says in which order, and how products read). */
#include "task.h"

static const int factorial[5] = {1, 1, 2, 6, 24};

/* The t-th permutation in lexicographic order: the factorial-base digits of t pick,
 * left to right, which of the values not yet used comes next. */
void gs_s5_unrank(int t, int perm[5])
{
    int left[5] = {0, 1, 2, 3, 4};
    for (int i = 0; i < 5; i++) {
        const int f = factorial[4 - i], k = t / f;
        t %= f;
        perm[i] = left[k];
        for (int j = k; j < 4 - i; j++)
            left[j] = left[j + 1];
    }
}

int gs_s5_rank(const int perm[5])
{
    int t = 0;
    for (int i = 0; i < 5; i++) {
        int smaller_later = 0; /* values after position i that are below perm[i] */
        for (int j = i + 1; j < 5; j++)
            smaller_later += perm[j] < perm[i];
        t += smaller_later * factorial[4 - i];
    }
    return t;
}

int gs_s5_answer(gs_op op, int a, int b)
{
    if (a < 0 || a >= GS_S5_ORDER || b < 0 || b >= GS_S5_ORDER)
        return -1;
    int x[5], y[5], x_inv[5], c[5];
    gs_s5_unrank(a, x);
    gs_s5_unrank(b, y);
    for (int i = 0; i < 5; i++)
        x_inv[x[i]] = i;
    for (int i = 0; i < 5; i++) {
        switch (op) {
        case GS_OP_S5_COMPOSE: c[i] = y[x[i]]; break;            /* x, then y */
        case GS_OP_S5_CONJUGATE: c[i] = x_inv[y[x[i]]]; break;   /* x, y, then x^-1 */
        case GS_OP_S5_XYX: c[i] = x[y[x[i]]]; break;             /* x, y, then x */
        default: return -1;
        }
    }
    return gs_s5_rank(c);
}
