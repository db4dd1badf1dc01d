/* Minimal test helpers: each failed check prints its place and expression; the test's
 * exit status is the number of failures (capped), so a test cannot pass silently. */
#ifndef GS_TEST_CHECK_H
#define GS_TEST_CHECK_H

#include <math.h>
#include <stdio.h>

static int check_failures, check_count;

#define CHECK(cond)                                                                      \
    do {                                                                                 \
        check_count++;                                                                   \
        if (!(cond)) {                                                                   \
            check_failures++;                                                            \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);     \
        }                                                                                \
    } while (0)

#define CHECK_NEAR(a, b, tol)                                                            \
    do {                                                                                 \
        check_count++;                                                                   \
        double check_a_ = (double)(a), check_b_ = (double)(b);                          \
        if (!(fabs(check_a_ - check_b_) <= (tol))) {                                     \
            check_failures++;                                                            \
            fprintf(stderr, "%s:%d: %s = %.10g, expected %s = %.10g (tol %g)\n",         \
                    __FILE__, __LINE__, #a, check_a_, #b, check_b_, (double)(tol));      \
        }                                                                                \
    } while (0)

static inline int check_report(const char *name)
{
    if (check_failures)
        printf("%s: %d of %d checks FAILED\n", name, check_failures, check_count);
    else
        printf("%s: %d checks passed\n", name, check_count);
    return check_failures ? 1 : 0;
}

#endif
