/* Restricted and excluded loss (docs/science.md §4), in the circuit basis Z_n (measures.h).
 *
 * For key frequency w the directions over inputs are built from the basis rows,
 *   u_cos(a,b) = (cos_a cos_b - sin_a sin_b)/sqrt(2),  u_sin = (sin_a cos_b + cos_a sin_b)/sqrt(2)
 * (for sub and div, with b's sine negated: cos/sin of w(i-j)), where cos_a is row cos w
 * of F_n at a's element i. By the angle-addition identity these equal F_n[cos w, s] /
 * sqrt(n) and F_n[sin w, s] / sqrt(n) with s the element the circuit combines (a,b)
 * into ((a+b) mod p for add, n = p), and 0 on the pairs with a token outside the group
 * (mul and div: token 0), which therefore take no part. This is how they are evaluated
 * here: every projection depends on the input only through s, so
 *   u^T L          = sum_s u(s) S[s, :],  S[s, :] = sum of the rows L[i, :] with s_i = s,
 *   L_restricted_i = mean + P[s_i, :],    P[s, :] = sum_u u(s) (u^T L),
 *   L_excluded_i   = L[i, :] - P[s_i, :],
 * and the restricted loss needs only n log-sum-exps. The mean is over the circuit
 * inputs (all p*p for add); CE is float64 over the p number classes. For add and sub,
 * tests/probes_oracle.py checks this against the literal formula (u built as the
 * products above, dense projections); tests/test_probes.c does so for mul and div. */
#include <math.h>
#include <string.h>

#include "measures.h"
#include "pool.h"

/* log sum_c exp(x[c]), shifted by the max */
static double log_sum_exp(const double *x, int n)
{
    double mx = x[0];
    for (int c = 1; c < n; c++)
        mx = x[c] > mx ? x[c] : mx;
    double s = 0.0;
    for (int c = 0; c < n; c++)
        s += exp(x[c] - mx);
    return mx + log(s);
}

enum { EXCLUDED_CHUNK = 256 };

typedef struct {
    const gs_probe *pr;
    const double *P;
    double *partial;
} excluded_job;

/* Sum of CE(L[i] - P[s_i]) over training inputs chunk*EXCLUDED_CHUNK..; the row is
 * formed twice on the fly (for the max, then the sum) instead of stored. */
static void excluded_task(void *arg, int chunk, int thread)
{
    (void)thread;
    const excluded_job *j = arg;
    const gs_probe *pr = j->pr;
    const int p = pr->p, k0 = chunk * EXCLUDED_CHUNK;
    const int k1 = k0 + EXCLUDED_CHUNK < pr->n_train ? k0 + EXCLUDED_CHUNK : pr->n_train;
    double sum = 0.0;
    for (int k = k0; k < k1; k++) {
        const int i = pr->train_idx[k], t = pr->train_tgt[k];
        if (pr->circuit[i] < 0)
            continue; /* outside the group: not a circuit input */
        const double *L = pr->logits + (size_t)i * p, *Ps = j->P + (size_t)pr->circuit[i] * p;
        double mx = L[0] - Ps[0];
        for (int c = 1; c < p; c++)
            mx = L[c] - Ps[c] > mx ? L[c] - Ps[c] : mx;
        double s = 0.0;
        for (int c = 0; c < p; c++)
            s += exp(L[c] - Ps[c] - mx);
        sum += mx + log(s) - (L[t] - Ps[t]);
    }
    j->partial[chunk] = sum;
}

int gs_probe_restricted(gs_probe *pr, const int *key_freqs, int n_key, double *restricted,
                        double *excluded, gs_err *err)
{
    const int p = pr->p, pp = pr->n_inputs, nf = pr->fourier.n_freq, n = pr->basis.n;
    if (!gs_probe_has_circuit(pr))
        return gs_err_set(err, "restricted/excluded loss: op %s (p = %d) has no Fourier circuit "
                          "(%s)", gs_op_name(pr->op), p, pr->basis.note);
    if (!pr->have_logits)
        return gs_err_set(err, "restricted/excluded loss: no checkpoint loaded (gs_probe_forward first)");
    if (n_key < 0 || n_key > nf)
        return gs_err_set(err, "restricted/excluded loss: %d key frequencies for p = %d (at most %d)",
                          n_key, p, nf);
    memset(pr->key_seen, 0, (size_t)(nf + 1) * sizeof(int));
    for (int k = 0; k < n_key; k++) {
        const int w = key_freqs[k];
        if (!gs_fourier_freq_valid(n, w) && n == p)
            return gs_err_set(err, "key frequency %d is out of range 1..%d for p = %d", w, nf, p);
        if (!gs_fourier_freq_valid(n, w))
            return gs_err_set(err, "key frequency %d is out of range 1..%d for the basis Z_%d "
                              "of p = %d", w, nf, n, p);
        if (pr->key_seen[w]++)
            return gs_err_set(err, "key frequency %d is given twice", w);
    }

    /* S[s, :] over the circuit inputs */
    double *S = pr->sums;
    memset(S, 0, (size_t)n * p * sizeof(double));
    for (int i = 0; i < pp; i++) {
        if (pr->circuit[i] < 0)
            continue;
        const double *L = pr->logits + (size_t)i * p;
        double *Ss = S + (size_t)pr->circuit[i] * p;
        for (int c = 0; c < p; c++)
            Ss[c] += L[c];
    }
    double *mean = pr->row;
    for (int c = 0; c < p; c++)
        mean[c] = 0.0;
    for (int s = 0; s < n; s++)
        for (int c = 0; c < p; c++)
            mean[c] += S[(size_t)s * p + c];
    for (int c = 0; c < p; c++)
        mean[c] /= pr->n_circuit;

    /* the directions' F_n rows, then u^T L and P */
    const double inv_sqrt_n = 1.0 / sqrt((double)n);
    int rows[GS_P_MAX], n_dir = 0; /* n_key <= n_freq = n/2 keys, two directions each */
    for (int k = 0; k < n_key; k++) {
        rows[n_dir++] = gs_fourier_cos_row(key_freqs[k]);
        const int rs = gs_fourier_sin_row(n, key_freqs[k]);
        if (rs >= 0) /* the even-p Nyquist frequency has no sine direction */
            rows[n_dir++] = rs;
    }
    const double *F = pr->fourier.basis;
    for (int k = 0; k < n_dir; k++) {
        const double *u = F + (size_t)rows[k] * n;
        double *ck = pr->coef + (size_t)k * p;
        for (int c = 0; c < p; c++)
            ck[c] = 0.0;
        for (int s = 0; s < n; s++) {
            const double us = u[s] * inv_sqrt_n;
            const double *Ss = S + (size_t)s * p;
            for (int c = 0; c < p; c++)
                ck[c] += us * Ss[c];
        }
    }
    double *P = pr->proj, *R = pr->rlogits;
    memset(P, 0, (size_t)n * p * sizeof(double));
    for (int s = 0; s < n; s++) {
        double *Ps = P + (size_t)s * p;
        for (int k = 0; k < n_dir; k++) {
            const double us = F[(size_t)rows[k] * n + s] * inv_sqrt_n;
            const double *ck = pr->coef + (size_t)k * p;
            for (int c = 0; c < p; c++)
                Ps[c] += us * ck[c];
        }
        double *Rs = R + (size_t)s * p;
        for (int c = 0; c < p; c++)
            Rs[c] = mean[c] + Ps[c];
    }

    /* restricted: over the circuit inputs with a defined answer; one log-sum-exp per
     * element */
    double *lse = pr->sort; /* p >= n doubles of scratch */
    for (int s = 0; s < n; s++)
        lse[s] = log_sum_exp(R + (size_t)s * p, p);
    double sum = 0.0;
    for (int i = 0; i < pp; i++) {
        const int t = pr->target[i], s = pr->circuit[i];
        if (t < 0 || s < 0)
            continue;
        sum += lse[s] - R[(size_t)s * p + t];
    }
    *restricted = sum / pr->n_circuit_defined;

    /* excluded: over the training inputs, in fixed chunks on the pool's threads; the
     * chunks' sums are added in order, so the result does not depend on the threads */
    excluded_job job = {pr, P, pr->partial};
    const int n_chunks = (pr->n_train + EXCLUDED_CHUNK - 1) / EXCLUDED_CHUNK;
    gs_pool_run(pr->pool, n_chunks, excluded_task, &job);
    sum = 0.0;
    for (int k = 0; k < n_chunks; k++)
        sum += pr->partial[k];
    *excluded = sum / pr->n_train_circuit;
    return 0;
}
