/* The phase finder (analysis/phases.h) on synthetic runs whose boundaries are worked out
 * by hand below: a clean grokking curve, the same with noise and spikes, a run cut short
 * in the middle of cleanup, a diverged run, runs that never fit, never stop memorizing,
 * never generalize. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "phases.h"

#define N_EPOCHS 1001 /* epochs 0..1000 */
#define EVERY 10      /* a checkpoint every 10 epochs */

/* The clean run, epoch by epoch:
 *   train accuracy 0 before epoch 100, 1 from it             -> fitted 100
 *   log test loss 1 + e/150 up to e = 150 (peak 2.0), then 2 - (e-150)/1500 down to 1.9
 *   at e = 300, then the sharp fall 1.9 - 16.9 (e-300)/200 to -15 at e = 500, then -15
 *   test accuracy 0.5 before epoch 400, 1 from it            -> grokked 400
 *   weight norm 3000 up to e = 300, then 1000 + 2000 exp(-(e-300)/100)
 *   Gini W_E 0.2 up to e = 300, rising linearly to 0.7 at e = 700, then 0.7
 *   Gini W_L 0.5 throughout (it does not move). */
static double log_test(long e)
{
    if (e <= 150)
        return 1.0 + e / 150.0;
    if (e <= 300)
        return 2.0 - (e - 150) / 1500.0;
    if (e <= 500)
        return 1.9 - 16.9 * (e - 300) / 200.0;
    return -15.0;
}
static double weight_norm(long e) { return e <= 300 ? 3000.0 : 1000.0 + 2000.0 * exp(-(e - 300) / 100.0); }
static double gini_embed(long e) { return 0.2 + 0.5 * fmin(1.0, fmax(0.0, (e - 300) / 400.0)); }

typedef struct {
    gs_metrics_row rows[N_EPOCHS];
    gs_analysis_row ck[N_EPOCHS / EVERY + 1];
    long n, m;
} run;

/* The clean run up to epoch `last`; `grok` 0: test accuracy never reaches 99%. */
static void make_run(run *r, long last, int grok)
{
    memset(r, 0, sizeof *r);
    r->n = last + 1;
    for (long e = 0; e <= last; e++) {
        gs_metrics_row *w = &r->rows[e];
        w->epoch = e;
        w->train_acc = e >= 100 ? 1.0 : 0.0;
        w->test_acc = grok && e >= 400 ? 1.0 : 0.5;
        w->train_loss = e >= 100 ? 1e-6 : 1.0;
        w->test_loss = exp(log_test(e));
        if (e % EVERY == 0) {
            gs_analysis_row *c = &r->ck[r->m++];
            c->epoch = e;
            c->test_loss = w->test_loss;
            c->weight_norm = weight_norm(e);
            c->gini_embed = gini_embed(e);
            c->gini_neuron_logit = 0.5;
            c->restricted_loss = c->excluded_loss = NAN; /* not used */
        }
    }
}

static void check_levelled(const gs_analysis_phases *ph, long t, long w, long ge, long gl)
{
    CHECK(ph->levelled[GS_LEVEL_TEST_LOSS] == t);
    CHECK(ph->levelled[GS_LEVEL_WEIGHT_NORM] == w);
    CHECK(ph->levelled[GS_LEVEL_GINI_EMBED] == ge);
    CHECK(ph->levelled[GS_LEVEL_GINI_NEURON_LOGIT] == gl);
}

/* The boundaries of the clean run, by hand:
 *   memorization ends at the test-loss peak between fitted (100) and grokked (400): 150.
 *   circuit formation: log loss at the peak 2.0, at grokked 1.9 - 16.9 * 100/200 = -6.55;
 *     level 2.0 - 0.1 * 8.55 = 1.145; in the fall 1.9 - 0.0845 (e-300) <= 1.145 from
 *     e - 300 >= 8.93, so epoch 309 (1.1395; epoch 308 has 1.224).
 *   cleanup starts at the first checkpoint >= 309: 310. On monotone stretches a running
 *     median is the middle value, so the smoothed series equal the raw ones there.
 *   test loss: from 1.9 - 0.845 = 1.055 to -15 (the median of the last five), level
 *     1.055 - 0.9 * 16.055 = -13.3945, reached at e - 300 >= 181.0: checkpoint 490
 *     (-14.155; 480 has -13.31); it stays there 510 epochs >= 0.5 * 180.
 *   weight norm: from 1000 + 2000 e^-0.1 = 2809.67 to the median of the last five,
 *     W(980) = 1002.23, level 2809.67 - 0.9 * 1807.44 = 1182.97, reached where
 *     2000 exp(-(e-300)/100) <= 182.97, e >= 539.2: checkpoint 540.
 *   Gini W_E: from 0.2125 to 0.7, level 0.65125, reached at e >= 661: checkpoint 670
 *     (660 has 0.65); it stays there 330 epochs >= 0.5 * 360.
 *   Gini W_L does not move: it levelled where cleanup starts, 310.
 *   cleanup ends at the latest: 670. */
static void test_clean(void)
{
    static run r;
    gs_analysis_phases ph;
    gs_err err;
    make_run(&r, 1000, 1);
    CHECK(gs_phases_find(r.rows, r.n, r.ck, r.m, &ph, &err) == 0);
    CHECK(ph.fitted == 100 && ph.grokked == 400 && ph.through == 1000);
    CHECK(ph.memorization_end == 150);
    CHECK(ph.circuit_end == 309);
    check_levelled(&ph, 490, 540, 670, 310);
    CHECK(ph.cleanup_end == 670);
    CHECK(ph.outdated == 0);
    CHECK(gs_phases_first_acc(r.rows, r.n, 0) == 100 && gs_phases_first_acc(r.rows, r.n, 1) == 400);
}

/* Noise the running median must see through: every checkpoint of the flat stretches
 * jitters, and single checkpoints spike (the test loss 10^4 times higher, the weight
 * norm +500, the Gini of W_E down by 0.3, even at the last checkpoint); the per-epoch
 * test loss spikes after the run has grokked. A median of five ignores a lone outlier
 * where its neighbours are flat, so every boundary is that of the clean run. Where the
 * series move, a jitter of +-0.2% of the weight norm and +-0.002 of the Gini may move
 * a crossing by at most a checkpoint; the test loss's +-0.05 in log moves its level by
 * less than 0.05, far from the nearest checkpoints' -13.31 and -14.155. The Gini of
 * W_L is noise alone (+-0.01): its change in cleanup is within three times its noise,
 * so it does not move, and levelled where cleanup starts. */
static void test_noisy(void)
{
    static run r;
    gs_analysis_phases ph;
    gs_err err;
    make_run(&r, 1000, 1);
    unsigned s = 12345;
    for (long i = 0; i < r.m; i++) {
        gs_analysis_row *c = &r.ck[i];
        s = s * 1103515245u + 12345u;
        const double u = ((s >> 8) & 0xffff) / 65535.0 - 0.5; /* in [-0.5, 0.5] */
        c->weight_norm *= 1.0 + 0.004 * u;
        c->gini_embed += 0.004 * u;
        c->gini_neuron_logit += 0.02 * u;
        if (c->epoch >= 600)
            c->test_loss *= exp(0.1 * u);
    }
    static const long spikes[] = {800, 870, 1000};
    for (size_t k = 0; k < sizeof spikes / sizeof spikes[0]; k++) {
        gs_analysis_row *c = &r.ck[spikes[k] / EVERY];
        c->test_loss *= 1e4;
        c->weight_norm += 500;
        c->gini_embed -= 0.3;
    }
    r.rows[800].test_loss *= 1e4;
    r.rows[801].test_loss *= 1e4;
    CHECK(gs_phases_find(r.rows, r.n, r.ck, r.m, &ph, &err) == 0);
    CHECK(ph.fitted == 100 && ph.grokked == 400 && ph.through == 1000);
    CHECK(ph.memorization_end == 150 && ph.circuit_end == 309);
    CHECK(ph.levelled[GS_LEVEL_TEST_LOSS] == 490);
    CHECK(labs(ph.levelled[GS_LEVEL_WEIGHT_NORM] - 540) <= EVERY);
    CHECK(labs(ph.levelled[GS_LEVEL_GINI_EMBED] - 670) <= EVERY);
    CHECK(ph.levelled[GS_LEVEL_GINI_NEURON_LOGIT] == 310);
    CHECK(labs(ph.cleanup_end - 670) <= EVERY);
}

/* Cut short at epoch 600, in the middle of the Gini's rise. Memorization and circuit
 * formation are as in the full run (they need data only up to grokked). Cleanup, by
 * hand, from checkpoint 310:
 *   test loss: flat at -15 since 500; level -13.3945 at 490, held 110 >= 0.5 * 180.
 *   weight norm: to W(580) = 1121.62 (median of 560..600), level 2809.67 - 0.9 * 1688.05
 *     = 1290.43, reached where 2000 exp(-(e-300)/100) <= 290.43, e >= 493.0: checkpoint
 *     500, held 100 >= 0.5 * 190: levelled (94.5% of an exponential's fall is done).
 *   Gini W_E: still rising at the end, to G(580) = 0.55, level 0.2125 + 0.9 * 0.3375 =
 *     0.51625 reached at e >= 553: 560, held 40 < 0.5 * 250 and only 4 checkpoints:
 *     not levelled.
 *   So cleanup has not ended by epoch 600. */
static void test_cut_short(void)
{
    static run r;
    gs_analysis_phases ph;
    gs_err err;
    make_run(&r, 600, 1);
    CHECK(gs_phases_find(r.rows, r.n, r.ck, r.m, &ph, &err) == 0);
    CHECK(ph.fitted == 100 && ph.grokked == 400 && ph.through == 600);
    CHECK(ph.memorization_end == 150 && ph.circuit_end == 309);
    check_levelled(&ph, 490, 500, -1, 310);
    CHECK(ph.cleanup_end == -1);

    /* Checkpoints every 50 epochs, cut at 500: cleanup starts at checkpoint 350, and
     * the three after it are too few to judge anything, even that the Gini of W_L does
     * not move. */
    make_run(&r, 500, 1);
    for (long i = 0; i * 5 < r.m; i++)
        r.ck[i] = r.ck[i * 5];
    r.m = (r.m + 4) / 5;
    CHECK(r.m == 11 && r.ck[10].epoch == 500);
    CHECK(gs_phases_find(r.rows, r.n, r.ck, r.m, &ph, &err) == 0);
    CHECK(ph.memorization_end == 150 && ph.circuit_end == 309 && ph.through == 500);
    check_levelled(&ph, -1, -1, -1, -1);
    CHECK(ph.cleanup_end == -1);

    /* Cut at 400, the epoch it grokked: the ten checkpoints of cleanup all fall. */
    make_run(&r, 400, 1);
    CHECK(gs_phases_find(r.rows, r.n, r.ck, r.m, &ph, &err) == 0);
    CHECK(ph.grokked == 400 && ph.circuit_end == 309 && ph.cleanup_end == -1);
    CHECK(ph.levelled[GS_LEVEL_TEST_LOSS] == -1 && ph.levelled[GS_LEVEL_WEIGHT_NORM] == -1);
}

/* A run that diverges at epoch 700 (NaN from there): the data end at 699, and
 * checkpoints from 700 on are not used. Cleanup by hand, checkpoints 310..690:
 *   test loss levelled at 490 (held 200 >= 90);
 *   weight norm to W(670) = 1049.45 (median of 650..690), level 2809.67 - 0.9 *
 *     1760.22 = 1225.47, reached where 2000 exp(-(e-300)/100) <= 225.47, e >= 518.3:
 *     520 (held 170 >= 0.5 * 210);
 *   Gini W_E to G(670) = 0.6625, level 0.6175 at e >= 634: 640, held 50 < 165: no. */
static void test_diverged(void)
{
    static run r;
    gs_analysis_phases ph;
    gs_err err;
    make_run(&r, 1000, 1);
    for (long e = 700; e < r.n; e++)
        r.rows[e].train_loss = r.rows[e].test_loss = NAN;
    for (long i = 70; i < r.m; i++)
        r.ck[i].test_loss = NAN;
    CHECK(gs_phases_find(r.rows, r.n, r.ck, r.m, &ph, &err) == 0);
    CHECK(ph.through == 699 && ph.memorization_end == 150 && ph.circuit_end == 309);
    check_levelled(&ph, 490, 520, -1, 310);
    CHECK(ph.cleanup_end == -1);
}

/* A model without some measures (the MLP has no W_L; with one-hot inputs no learned
 * embedding either): NaN at every checkpoint, they take no part in cleanup's rule, which
 * then ends where the others have levelled: the clean run's boundaries, with W_L's
 * levelled epoch -1 (and W_E's too for the one-hot case, ending at the weight norm's
 * 540). A measure that turns NaN later (the diverged run above) still stops the rule. */
static void test_undefined_measures(void)
{
    static run r;
    gs_analysis_phases ph;
    gs_err err;
    make_run(&r, 1000, 1);
    for (long i = 0; i < r.m; i++)
        r.ck[i].gini_neuron_logit = NAN;
    CHECK(gs_phases_find(r.rows, r.n, r.ck, r.m, &ph, &err) == 0);
    check_levelled(&ph, 490, 540, 670, -1);
    CHECK(ph.cleanup_end == 670);
    CHECK(gs_phases_level_defined(&r.ck[0], GS_LEVEL_GINI_EMBED) &&
          !gs_phases_level_defined(&r.ck[0], GS_LEVEL_GINI_NEURON_LOGIT));
    for (long i = 0; i < r.m; i++)
        r.ck[i].gini_embed = NAN;
    CHECK(gs_phases_find(r.rows, r.n, r.ck, r.m, &ph, &err) == 0);
    check_levelled(&ph, 490, 540, -1, -1);
    CHECK(ph.cleanup_end == 540);
}

/* Runs that stop earlier in the story. */
static void test_unfinished(void)
{
    static run r;
    gs_analysis_phases ph;
    gs_err err;

    /* never generalizes: memorization ends at the peak (150) within all the data, and
     * circuit formation never ends */
    make_run(&r, 1000, 0);
    CHECK(gs_phases_find(r.rows, r.n, r.ck, r.m, &ph, &err) == 0);
    CHECK(ph.fitted == 100 && ph.grokked == -1 && ph.through == 1000);
    CHECK(ph.memorization_end == 150 && ph.circuit_end == -1 && ph.cleanup_end == -1);
    check_levelled(&ph, -1, -1, -1, -1);

    /* never fits the training set: nothing ends */
    make_run(&r, 1000, 1);
    for (long e = 0; e < r.n; e++)
        r.rows[e].train_acc = 0.98;
    CHECK(gs_phases_find(r.rows, r.n, r.ck, r.m, &ph, &err) == 0);
    CHECK(ph.fitted == -1 && ph.grokked == 400 && ph.through == 1000);
    CHECK(ph.memorization_end == -1 && ph.circuit_end == -1 && ph.cleanup_end == -1);

    /* fitted at 100, cut at 140 while the test loss still rises: memorization goes on */
    make_run(&r, 140, 0);
    CHECK(gs_phases_find(r.rows, r.n, r.ck, r.m, &ph, &err) == 0);
    CHECK(ph.fitted == 100 && ph.through == 140 && ph.memorization_end == -1);

    /* cut at 200: the peak (150) is behind, circuit formation goes on */
    make_run(&r, 200, 0);
    CHECK(gs_phases_find(r.rows, r.n, r.ck, r.m, &ph, &err) == 0);
    CHECK(ph.memorization_end == 150 && ph.circuit_end == -1 && ph.through == 200);

    /* no data at all */
    CHECK(gs_phases_find(r.rows, 0, r.ck, 0, &ph, &err) == 0);
    CHECK(ph.through == 0 && ph.fitted == -1 && ph.memorization_end == -1);
}

int main(void)
{
    test_clean();
    test_noisy();
    test_cut_short();
    test_diverged();
    test_undefined_measures();
    test_unfinished();
    return check_report("phases");
}
