/* Unit test for the operations (core/task.c, core/task_s5.c) and their circuit bases
 * (core/circuit.c): every op's table against brute-force C loops written here and
 * (argv[1], optional) against split_oracle.py's plain-Python tables; the S5 tables as
 * openai/grok computes them (numpy and sympy, when /usr/bin/python3 has them); S5 is a
 * group; the discrete log; mul and div re-indexed by it are the addition and
 * subtraction tables of Z_(p-1); the notes that say why a measure is absent. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "check.h"
#include "circuit.h"
#include "task.h"

/* ---- brute force: no modular inverse, no factorial base ---- */

static int brute_answer(gs_op op, int p, int x, int y)
{
    long c;
    int div = -1; /* x / y: the z with z y = x, by search */
    for (int z = 0; z < p && div < 0; z++)
        if ((long)z * y % p == x % p && y != 0)
            div = z;
    switch (op) {
    case GS_OP_ADD: c = x + y; break;
    case GS_OP_SUB: c = x - y; break;
    case GS_OP_MUL: c = (long)x * y; break;
    case GS_OP_DIV: return div;
    case GS_OP_X2Y2: c = (long)x * x + (long)y * y; break;
    case GS_OP_X2XYY2: c = (long)x * x + (long)x * y + (long)y * y; break;
    case GS_OP_X2XYY2X: c = (long)x * x + (long)x * y + (long)y * y + x; break;
    case GS_OP_X3XY: c = (long)x * x * x + (long)x * y; break;
    case GS_OP_X3XY2Y: c = (long)x * x * x + (long)x * y * y + y; break;
    case GS_OP_X2Y: c = (long)x * x + y; break;
    case GS_OP_X3Y: c = (long)x * x * x + y; break;
    case GS_OP_DIV_OR_SUB:
        if (y % 2)
            return div;
        c = x - y;
        break;
    case GS_OP_ADD_OR_MUL: c = x % 2 == 0 ? x + y : (long)x * y; break;
    case GS_OP_ADD_OR_SUB: c = x % 2 == 0 ? x + y : x - y; break;
    default: return -2;
    }
    return (int)(((c % p) + p) % p);
}

static void test_modular_tables(void)
{
    static const int ps[] = {3, 5, 7, 10, 11, 13, 16, 23, 97};
    for (int o = 0; o < GS_OP_COUNT; o++) {
        const gs_op_info *info = gs_op_get((gs_op)o);
        if (info->fixed_p)
            continue;
        for (size_t k = 0; k < sizeof ps / sizeof *ps; k++) {
            const int p = ps[k];
            if (info->needs_prime && !gs_is_prime(p))
                continue;
            int bad = 0, undefined = 0;
            for (int x = 0; x < p; x++)
                for (int y = 0; y < p; y++) {
                    const int c = gs_task_answer((gs_op)o, p, x, y);
                    bad += c != brute_answer((gs_op)o, p, x, y);
                    undefined += c < 0;
                }
            CHECK(bad == 0);
            if (bad)
                printf("  %s p=%d: %d wrong answers\n", info->name, p, bad);
            /* div alone leaves out pairs: y = 0 */
            CHECK(undefined == (o == GS_OP_DIV ? p : 0));
            char why[256];
            CHECK(gs_task_n_defined((gs_op)o, p, why, sizeof why) == (long)p * p - undefined);
            CHECK((why[0] != 0) == (undefined > 0));
        }
    }
    char why[256];
    CHECK(gs_task_n_defined(GS_OP_DIV, 113, why, sizeof why) == 113 * 112);
    CHECK(strcmp(why, "113 of the 12769 pairs are left out: y = 0 has no inverse mod p = 113") == 0);
    /* large p: every product is reduced before it could overflow */
    const int P = 2147483647;
    CHECK(gs_task_answer(GS_OP_X3XY2Y, P, P - 1, P - 1) == P - 3); /* -1 - 1 - 1 */
    CHECK(gs_task_answer(GS_OP_X2XYY2X, P, P - 1, P - 2) == 6);    /* 1 + 2 + 4 - 1 */
    CHECK(gs_task_answer(GS_OP_X2Y2, 7, 7, 0) == -1 && gs_task_answer(GS_OP_X2Y2, 7, 0, -1) == -1);
    CHECK(gs_task_answer(GS_OP_COUNT, 7, 1, 1) == -1);
}

/* ---- S5 ---- */

static void test_s5(void)
{
    /* lexicographic order: 0 the identity, 1 = (0,1,2,4,3), 119 = (4,3,2,1,0); rank and
     * unrank are inverse, and each token's permutation is a permutation */
    int perm[5], prev[5] = {-1, 0, 0, 0, 0}, ok = 1;
    for (int t = 0; t < GS_S5_ORDER; t++) {
        gs_s5_unrank(t, perm);
        int seen = 0;
        for (int i = 0; i < 5; i++)
            seen |= 1 << perm[i];
        ok &= seen == 31 && gs_s5_rank(perm) == t;
        int cmp = 0; /* strictly increasing in lexicographic order */
        for (int i = 0; i < 5 && !cmp; i++)
            cmp = (perm[i] > prev[i]) - (perm[i] < prev[i]);
        ok &= cmp > 0;
        memcpy(prev, perm, sizeof perm);
    }
    CHECK(ok);
    gs_s5_unrank(1, perm);
    CHECK(perm[0] == 0 && perm[1] == 1 && perm[2] == 2 && perm[3] == 4 && perm[4] == 3);
    gs_s5_unrank(119, perm);
    CHECK(perm[0] == 4 && perm[4] == 0);

    /* s5-compose is a group: closure, identity 0, inverses, associativity, not abelian */
    const gs_op C = GS_OP_S5_COMPOSE;
    int closed = 1, identity = 1, inverses = 1, assoc = 1, commute = 1;
    for (int x = 0; x < GS_S5_ORDER; x++) {
        int n_inv = 0;
        for (int y = 0; y < GS_S5_ORDER; y++) {
            const int c = gs_task_answer(C, 120, x, y);
            closed &= c >= 0 && c < GS_S5_ORDER;
            n_inv += c == 0 && gs_task_answer(C, 120, y, x) == 0;
            commute &= c == gs_task_answer(C, 120, y, x);
            for (int z = 0; z < GS_S5_ORDER; z += 7)
                assoc &= gs_task_answer(C, 120, c, z) == gs_task_answer(C, 120, x, gs_task_answer(C, 120, y, z));
        }
        identity &= gs_task_answer(C, 120, 0, x) == x && gs_task_answer(C, 120, x, 0) == x;
        inverses &= n_inv == 1;
    }
    CHECK(closed && identity && inverses && assoc && !commute);
    /* "apply x, then y": x = (1,0,2,3,4) swaps 0 and 1, y = (0,2,1,3,4) swaps 1 and 2;
     * 0 -> 1 -> 2, 1 -> 0 -> 0, 2 -> 2 -> 1: (2,0,1,3,4) */
    const int x[5] = {1, 0, 2, 3, 4}, y[5] = {0, 2, 1, 3, 4}, xy[5] = {2, 0, 1, 3, 4};
    CHECK(gs_task_answer(C, 120, gs_s5_rank(x), gs_s5_rank(y)) == gs_s5_rank(xy));

    /* conjugation and x.y.x from the group law: x.y.x^-1 and x.y.x */
    int bad = 0;
    for (int a = 0; a < GS_S5_ORDER; a++) {
        int a_inv = -1;
        for (int b = 0; b < GS_S5_ORDER && a_inv < 0; b++)
            if (gs_task_answer(C, 120, a, b) == 0)
                a_inv = b;
        for (int b = 0; b < GS_S5_ORDER; b++) {
            const int ab = gs_task_answer(C, 120, a, b);
            bad += gs_task_answer(GS_OP_S5_CONJUGATE, 120, a, b) != gs_task_answer(C, 120, ab, a_inv);
            bad += gs_task_answer(GS_OP_S5_XYX, 120, a, b) != gs_task_answer(C, 120, ab, a);
        }
        /* conjugation fixes the identity and maps x to itself */
        bad += gs_task_answer(GS_OP_S5_CONJUGATE, 120, a, 0) != 0;
        bad += gs_task_answer(GS_OP_S5_CONJUGATE, 120, a, a) != a;
    }
    CHECK(bad == 0);
    CHECK(gs_task_answer(C, 113, 0, 0) == -1 && gs_task_answer(C, 120, 120, 0) == -1);
}

/* ---- the discrete-log circuit basis ---- */

static int brute_order(int g, int p)
{
    int k = 1;
    for (long v = g % p; v != 1; v = v * g % p)
        k++;
    return k;
}

static void test_circuit_basis(void)
{
    gs_err err;
    /* the smallest primitive root, by the order of every candidate */
    int ok = 1;
    for (int p = 3; p < 600; p++) {
        if (!gs_is_prime(p))
            continue;
        int g = 2;
        while (brute_order(g, p) != p - 1)
            g++;
        ok &= gs_primitive_root(p) == g;
    }
    CHECK(ok);
    CHECK(gs_primitive_root(113) == 3 && gs_primitive_root(97) == 5 && gs_primitive_root(21) == -1);

    static const int ps[] = {3, 5, 23, 59, 97, 113};
    for (size_t k = 0; k < sizeof ps / sizeof *ps; k++) {
        const int p = ps[k], n = p - 1;
        gs_circuit mul, div;
        CHECK(gs_circuit_create(&mul, GS_OP_MUL, p, &err) == 0);
        CHECK(gs_circuit_create(&div, GS_OP_DIV, p, &err) == 0);
        CHECK(mul.n == n && mul.generator == gs_primitive_root(p) && mul.rule == GS_CIRCUIT_SUM);
        CHECK(div.n == n && div.rule == GS_CIRCUIT_DIFF);
        /* the map: element k is g^k, 0 outside, the tokens a permutation in basis order */
        int bad = 0, seen[113 + 1] = {0};
        long power = 1;
        for (int e = 0; e < n; e++, power = power * mul.generator % p)
            bad += mul.token[e] != power || mul.index[power] != e;
        bad += mul.index[0] != -1 || mul.token[n] != 0;
        for (int j = 0; j < p; j++)
            seen[mul.token[j]]++;
        for (int x = 0; x < p; x++)
            bad += seen[x] != 1;
        CHECK(bad == 0);
        /* mul's table re-indexed is the addition table of Z_(p-1), div's the subtraction
         * table; and the combination rule says so too */
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++) {
                const int a = mul.token[i], b = mul.token[j];
                bad += gs_task_answer(GS_OP_MUL, p, a, b) != mul.token[(i + j) % n];
                bad += gs_task_answer(GS_OP_DIV, p, a, b) != mul.token[(i - j + n) % n];
                bad += mul.index[gs_task_answer(GS_OP_MUL, p, a, b)] != gs_circuit_combine(&mul, a, b);
                bad += div.index[gs_task_answer(GS_OP_DIV, p, a, b)] != gs_circuit_combine(&div, a, b);
            }
        for (int x = 0; x < p; x++)
            bad += gs_circuit_combine(&mul, 0, x) != -1 || gs_circuit_combine(&div, x, 0) != -1;
        CHECK(bad == 0);
        CHECK(strstr(mul.note, "discrete log") && strncmp(mul.note, "none", 4) != 0);
        gs_circuit_free(&mul);
        gs_circuit_free(&div);
    }

    /* add and sub: Z_p, each token itself; the others: Z_p without a rule, or nothing */
    gs_circuit c;
    CHECK(gs_circuit_create(&c, GS_OP_SUB, 12, &err) == 0);
    CHECK(c.n == 12 && c.generator == 0 && c.index[5] == 5 && c.token[11] == 11 &&
          gs_circuit_combine(&c, 3, 5) == 10);
    gs_circuit_free(&c);
    for (int o = 0; o < GS_OP_COUNT; o++) {
        const int p = gs_op_get((gs_op)o)->fixed_p ? 120 : 21; /* composite: no discrete log */
        const int want_n = gs_op_get((gs_op)o)->fixed_p ? 0 : p;
        const int want_rule = o == GS_OP_ADD || o == GS_OP_SUB;
        CHECK(gs_circuit_create(&c, (gs_op)o, p, &err) == 0);
        CHECK(c.n == want_n && (c.rule != GS_CIRCUIT_NONE) == want_rule);
        CHECK(gs_circuit_order((gs_op)o, p) == c.n && gs_circuit_exists((gs_op)o, p) == want_rule);
        /* the note begins "none:" exactly when there is no circuit, and says why */
        CHECK((strncmp(c.note, "none:", 5) == 0) == !want_rule);
        char note[GS_CIRCUIT_NOTE_MAX];
        gs_circuit_describe((gs_op)o, p, note, sizeof note);
        CHECK(strcmp(note, c.note) == 0);
        gs_circuit_free(&c);
    }
    gs_circuit_describe(GS_OP_X2Y2, 97, c.note, sizeof c.note);
    CHECK(strncmp(c.note, "none: x^2+y^2 mod p has no Fourier circuit in this basis", 56) == 0);
    gs_circuit_describe(GS_OP_MUL, 21, c.note, sizeof c.note);
    CHECK(strstr(c.note, "not prime") != NULL);
    gs_circuit_describe(GS_OP_S5_XYX, 120, c.note, sizeof c.note);
    CHECK(strstr(c.note, "S5") && strstr(c.note, "no Fourier basis"));
}

/* ---- checks of a task definition ---- */

static void test_checks(void)
{
    gs_err err;
    CHECK(gs_task_check(120, GS_OP_S5_CONJUGATE, 0.5, &err) == 0);
    CHECK(gs_task_check(113, GS_OP_S5_CONJUGATE, 0.5, &err) == -1 &&
          strstr(err.msg, "s5-conjugate has 120 tokens") && strstr(err.msg, "not 113"));
    CHECK(gs_task_check(21, GS_OP_DIV_OR_SUB, 0.5, &err) == -1 && strstr(err.msg, "prime"));
    CHECK(gs_task_check(21, GS_OP_ADD_OR_MUL, 0.5, &err) == 0);
    CHECK(gs_task_check(7, (gs_op)-1, 0.5, &err) == -1 && strstr(err.msg, "unknown"));
    for (int o = 0; o < GS_OP_COUNT; o++) {
        gs_op back = GS_OP_COUNT;
        CHECK(gs_op_parse(gs_op_get((gs_op)o)->name, &back) == 0 && back == (gs_op)o);
        CHECK(gs_op_get((gs_op)o)->formula && gs_op_get((gs_op)o)->pairs);
    }
    CHECK(gs_op_get(GS_OP_COUNT) == NULL && strcmp(gs_op_name(GS_OP_COUNT), "unknown") == 0);
}

/* ---- against the Python oracles ---- */

static int oracle_ran; /* 0: skipped */

/* Compares gs_task_answer with the output of cmd: the tables of (ops[k], ps[k]) one
 * after the other, one answer per line. Returns 1 if cmd ran. */
static int compare_tables(const char *cmd, const gs_op *ops, const int *ps, int n)
{
    FILE *f = popen(cmd, "r");
    if (!f)
        return 0;
    int bad = 0, short_read = 0;
    for (int k = 0; k < n; k++)
        for (int i = 0; i < ps[k] * ps[k]; i++) {
            int v;
            if (fscanf(f, "%d", &v) != 1) {
                short_read = 1;
                break;
            }
            if (v != gs_task_answer(ops[k], ps[k], i / ps[k], i % ps[k])) {
                if (!bad)
                    printf("  %s p=%d: pair (%d, %d): oracle %d, grokscope %d\n", gs_op_name(ops[k]),
                           ps[k], i / ps[k], i % ps[k], v, gs_task_answer(ops[k], ps[k], i / ps[k], i % ps[k]));
                bad++;
            }
        }
    int extra;
    const int trailing = !short_read && fscanf(f, "%d", &extra) == 1;
    const int st = pclose(f);
    if (WIFEXITED(st) && WEXITSTATUS(st) == 77)
        return 0;
    CHECK(st == 0 && !short_read && !trailing && bad == 0);
    if (st != 0 || short_read || trailing)
        printf("  %s: exit status %d%s%s\n", cmd, st, short_read ? ", too few answers" : "",
               trailing ? ", too many answers" : "");
    return st == 0;
}

static void test_oracle(const char *script)
{
    /* every table in one run of the oracle: python3 may start slowly */
    static const int moduli[] = {7, 12, 23};
    gs_op ops[GS_OP_COUNT * 3];
    int ps[GS_OP_COUNT * 3], n = 0;
    char cmd[8192];
    int at = snprintf(cmd, sizeof cmd, "python3 '%s' --table", script);
    for (int o = 0; o < GS_OP_COUNT; o++) {
        const gs_op_info *info = gs_op_get((gs_op)o);
        for (size_t k = 0; k < (info->fixed_p ? 1 : sizeof moduli / sizeof *moduli); k++) {
            const int p = info->fixed_p ? info->fixed_p : moduli[k];
            if (info->needs_prime && !gs_is_prime(p))
                continue;
            ops[n] = (gs_op)o;
            ps[n++] = p;
            at += snprintf(cmd + at, sizeof cmd - (size_t)at, " %d %s", p, info->name);
        }
    }
    oracle_ran = compare_tables(cmd, ops, ps, n);
    /* S5 exactly as openai/grok builds it, where Debian's python3 has numpy and sympy */
    int grok = 0;
    for (gs_op o = GS_OP_S5_COMPOSE; o <= GS_OP_S5_XYX; o++) {
        const int p120 = 120;
        snprintf(cmd, sizeof cmd, "/usr/bin/python3 '%s' --grok-table %s 2>/dev/null", script, gs_op_name(o));
        grok += compare_tables(cmd, &o, &p120, 1);
    }
    printf("oracle: %d tables against plain Python%s\n", n,
           grok == 3 ? "; the S5 tables against openai/grok's numpy/sympy code" : "");
}

int main(int argc, char **argv)
{
    test_modular_tables();
    test_s5();
    test_circuit_basis();
    test_checks();
    const char *script = argc > 1 ? argv[1] : NULL;
    if (script && !strchr(script, '\''))
        test_oracle(script);
    if (!oracle_ran)
        printf("note: the Python oracle did not run (no script, or no python3)\n");
    const int rc = check_report("tasks");
    return rc == 0 && !oracle_ran ? 77 : rc;
}
