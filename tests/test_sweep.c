/* The sweep's pure parts: the grid syntax (lists, integer and spaced ranges, seeds,
 * duplicates), --only lists, the plan's layout and its text round trip (including
 * %XX escapes and refused files), the first passages and outcome classes against
 * hand-made metric series, the config comparison and the log's wall time. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "sweep_plan.h"
#include "sweep_result.h"

static void *xmalloc(size_t n) __attribute__((returns_nonnull));
static void *xmalloc(size_t n)
{
    void *p = malloc(n);
    if (!p) {
        fprintf(stderr, "out of memory\n");
        exit(1);
    }
    return p;
}

static int values_are(const gs_sweep_axis *a, int n, const char *const *want)
{
    if (a->n_values != n)
        return 0;
    for (int i = 0; i < n; i++)
        if (strcmp(a->values[i], want[i]) != 0)
            return 0;
    return 1;
}

static int refused(const char *spec, const char *needle)
{
    gs_sweep_axis a;
    gs_err err = {0};
    int rc = gs_sweep_axis_parse(spec, &a, &err);
    if (rc == 0) {
        gs_sweep_axis_free(&a);
        return 0;
    }
    if (!strstr(err.msg, needle)) {
        fprintf(stderr, "'%s': message '%s' lacks '%s'\n", spec, err.msg, needle);
        return 0;
    }
    return 1;
}

static void test_grid(void)
{
    gs_sweep_axis a;
    gs_err err;
    CHECK(gs_sweep_axis_parse("lr=3e-4,1e-3,3e-3", &a, &err) == 0);
    CHECK(strcmp(a.name, "lr") == 0);
    CHECK(values_are(&a, 3, (const char *[]){"3e-4", "1e-3", "3e-3"}));
    gs_sweep_axis_free(&a);
    /* log range: ends exactly as given, the middle as 10^-3 */
    CHECK(gs_sweep_axis_parse("lr=1e-4..1e-2:log:3", &a, &err) == 0);
    CHECK(values_are(&a, 3, (const char *[]){"0.0001", "0.001", "0.01"}));
    gs_sweep_axis_free(&a);
    CHECK(gs_sweep_axis_parse("lr=1e-4..1e-2:log:7", &a, &err) == 0 && a.n_values == 7);
    for (int i = 0; i < 7; i++)
        CHECK_NEAR(log10(strtod(a.values[i], NULL)), -4 + i / 3.0, 1e-5);
    gs_sweep_axis_free(&a);
    CHECK(gs_sweep_axis_parse("frac=0.2..0.8:lin:4", &a, &err) == 0);
    CHECK(values_are(&a, 4, (const char *[]){"0.2", "0.4", "0.6", "0.8"}));
    gs_sweep_axis_free(&a);
    /* integer range mixed with a list, and a name given with its dashes */
    CHECK(gs_sweep_axis_parse("--d-mlp=64,100..102", &a, &err) == 0);
    CHECK(strcmp(a.name, "d-mlp") == 0);
    CHECK(values_are(&a, 4, (const char *[]){"64", "100", "101", "102"}));
    gs_sweep_axis_free(&a);
    CHECK(gs_sweep_axis_parse("op=add,mul", &a, &err) == 0 && values_are(&a, 2, (const char *[]){"add", "mul"}));
    gs_sweep_axis_free(&a);
    /* refusals, each with a message that says what is wrong */
    CHECK(refused("lr", "expected NAME=VALUES"));
    CHECK(refused("lr=", "has no values"));
    CHECK(refused("lr=1e-3,,3e-3", "empty value"));
    CHECK(refused("wd=1,1.0", "same value twice"));
    CHECK(refused("wd=1,2,1", "lists 1 twice"));
    CHECK(refused("LR=1", "not an option name"));
    CHECK(refused("=1", "expected NAME=VALUES"));
    CHECK(refused("p=5..3", "is empty"));
    CHECK(refused("lr=0..1:log:3", "positive ends"));
    CHECK(refused("lr=1..2:lin:1", "count must be"));
    CHECK(refused("lr=1..2:cubic:3", "not lin or log"));
    CHECK(refused("lr=1.5..3", "between integers"));
    CHECK(refused("lr=1..2:log", "needs a count"));
    CHECK(refused("lr=a..2:lin:3", "numbers at both ends"));
    CHECK(refused("seed=1..3,2", "lists 2 twice"));

    CHECK(gs_sweep_seeds_parse("0-2", &a, &err) == 0 && strcmp(a.name, "seed") == 0);
    CHECK(values_are(&a, 3, (const char *[]){"0", "1", "2"}));
    gs_sweep_axis_free(&a);
    CHECK(gs_sweep_seeds_parse("5,-1,7..8", &a, &err) == 0);
    CHECK(values_are(&a, 4, (const char *[]){"5", "-1", "7", "8"}));
    gs_sweep_axis_free(&a);
    CHECK(gs_sweep_seeds_parse("2-1", &a, &err) != 0);
    CHECK(gs_sweep_seeds_parse("x", &a, &err) != 0 && strstr(err.msg, "not an integer"));
    CHECK(gs_sweep_seeds_parse("", &a, &err) != 0);
    CHECK(gs_sweep_seeds_parse("1,1", &a, &err) != 0);

    CHECK(gs_sweep_same_value("1", "1.0") && gs_sweep_same_value("add", "add"));
    CHECK(!gs_sweep_same_value("1e-3", "0.0011") && !gs_sweep_same_value("add", "1"));

    unsigned char sel[10];
    CHECK(gs_sweep_parse_only("0-2,7", 10, sel, &err) == 0);
    CHECK(sel[0] && sel[1] && sel[2] && !sel[3] && !sel[6] && sel[7] && !sel[9]);
    CHECK(gs_sweep_parse_only("10", 10, sel, &err) != 0 && strstr(err.msg, "does not exist"));
    CHECK(gs_sweep_parse_only("3-1", 10, sel, &err) != 0);
    CHECK(gs_sweep_parse_only("1,", 10, sel, &err) != 0);
    CHECK(gs_sweep_parse_only("-1", 10, sel, &err) != 0);
    CHECK(gs_sweep_parse_only("a", 10, sel, &err) != 0);
}

static void test_plan(void)
{
    gs_sweep_axis axes[3];
    gs_err err;
    CHECK(gs_sweep_axis_parse("wd=0.1,1", &axes[0], &err) == 0);
    CHECK(gs_sweep_axis_parse("init=a b.h5,100%.h5,c/d.h5", &axes[1], &err) == 0);
    CHECK(gs_sweep_seeds_parse("0-1", &axes[2], &err) == 0);
    char *base[] = {"--p", "23", "--frac", "0.5"};
    gs_sweep_plan plan, back;
    CHECK(gs_sweep_plan_build(&plan, 4, base, 3, axes, &err) == 0);
    CHECK(plan.n_points == 12);
    /* the first axis varies slowest, the last fastest */
    CHECK(strcmp(gs_sweep_value(&plan, 0, 0), "0.1") == 0 && strcmp(gs_sweep_value(&plan, 11, 0), "1") == 0);
    CHECK(strcmp(gs_sweep_value(&plan, 1, 2), "1") == 0 && strcmp(gs_sweep_value(&plan, 2, 1), "100%.h5") == 0);
    CHECK(strcmp(plan.file[0], "0000-wd0.1-inita_b.h5-seed0.h5") == 0);
    CHECK(strcmp(plan.file[5], "0005-wd0.1-initc_d.h5-seed1.h5") == 0);
    char label[300];
    gs_sweep_point_label(&plan, 3, label, sizeof label);
    CHECK(strcmp(label, "wd=0.1 init=100%.h5 seed=1") == 0);
    gs_sweep_args args;
    CHECK(gs_sweep_point_args(&plan, 7, 2, &args) == 0);
    CHECK(args.argc == 11 && strcmp(args.argv[0], "train") == 0 && strcmp(args.argv[5], "--wd") == 0 &&
          strcmp(args.argv[6], "1") == 0 && strcmp(args.argv[8], "a b.h5") == 0 &&
          strcmp(args.argv[9], "--seed") == 0 && args.argv[11] == NULL && args.argv[12] == NULL);
    gs_sweep_args_free(&args);

    /* the text round trip keeps blanks and '%' through %XX escapes */
    char *text = gs_sweep_plan_format(&plan);
    if (!text) {
        fprintf(stderr, "gs_sweep_plan_format failed\n");
        exit(1);
    }
    CHECK(strstr(text, "axis init a%20b.h5 100%25.h5 c/d.h5\n") != NULL);
    CHECK(gs_sweep_plan_parse(&back, text, "t", &err) == 0);
    char *again = gs_sweep_plan_format(&back);
    CHECK(again && strcmp(text, again) == 0);
    CHECK(back.n_points == 12 && back.n_base == 4 && strcmp(back.axes[1].values[0], "a b.h5") == 0);
    CHECK(gs_sweep_plan_text_same(text, again));
    /* comments and the writer's version do not make another sweep; a value does */
    const size_t other_size = strlen(text) + 64;
    char *other = xmalloc(other_size);
    snprintf(other, other_size, "# hello\n%s", text);
    char *v = strstr(other, "created-by grokscope ");
    CHECK(v != NULL);
    if (v)
        v[strlen("created-by grokscope ")] = '9';
    CHECK(gs_sweep_plan_text_same(text, other));
    char *w = strstr(other, "axis wd 0.1 1");
    CHECK(w != NULL);
    if (w)
        w[strlen("axis wd 0.")] = '2';
    CHECK(!gs_sweep_plan_text_same(text, other));
    free(other);
    gs_sweep_plan_free(&back);

    /* damaged plans: each refused with the line named */
    const struct {
        const char *from, *to, *msg;
    } bad[] = {
        {"grokscope-sweep 1", "grokscope-sweep 2", "format version 2"},
        {"grokscope-sweep 1", "something 1", "not a grokscope sweep plan"},
        {"points 12", "points 13", "of 13 points listed"},
        {"point 3 0003", "point 4 0003", "expected point 3"},
        {"0000-wd0.1-inita_b.h5-seed0.h5", "../x.h5", "not a run file name"},
        {"0001-wd0.1-inita_b.h5-seed1.h5", "0000-wd0.1-inita_b.h5-seed0.h5", "share the run file"},
        {"seed0.h5 0 0 0", "seed0.h5 0 0 2", "out of range"},
        {"a%20b", "a%2", "bad %XX escape"},
        {"axis seed 0 1", "axis seed 0 1\nbogus 1", "unknown line"},
    };
    for (size_t k = 0; k < sizeof bad / sizeof *bad; k++) {
        const size_t t_size = strlen(text) + 64;
        char *t = xmalloc(t_size);
        const char *at = strstr(text, bad[k].from);
        CHECK(at != NULL);
        if (!at) {
            free(t);
            continue;
        }
        snprintf(t, t_size, "%.*s%s%s", (int)(at - text), text, bad[k].to, at + strlen(bad[k].from));
        int rc = gs_sweep_plan_parse(&back, t, "P", &err);
        CHECK(rc != 0 && strstr(err.msg, bad[k].msg) && strncmp(err.msg, "P line ", 7) == 0);
        if (rc == 0)
            gs_sweep_plan_free(&back);
        else if (!strstr(err.msg, bad[k].msg))
            fprintf(stderr, "damaged plan %zu: '%s'\n", k, err.msg);
        free(t);
    }
    CHECK(gs_sweep_plan_parse(&back, "", "P", &err) != 0);
    free(text);
    free(again);

    /* a duplicate axis and an empty grid */
    CHECK(gs_sweep_plan_build(&back, 0, NULL, 0, axes, &err) != 0 && strstr(err.msg, "no axes"));
    gs_sweep_axis twice[2] = {axes[0], axes[0]};
    CHECK(gs_sweep_plan_build(&back, 0, NULL, 2, twice, &err) != 0 && strstr(err.msg, "given twice"));
    gs_sweep_plan_free(&plan);
    for (int a = 0; a < 3; a++)
        gs_sweep_axis_free(&axes[a]);
}

/* metrics rows where train accuracy reaches 99% at epoch t_train and test at t_test
 * (-1: never), with 50% ten epochs earlier */
static gs_metrics_row *series(long n, long t_train, long t_test)
{
    gs_metrics_row *r = xmalloc((size_t)n * sizeof *r);
    for (long e = 0; e < n; e++) {
        r[e].epoch = e;
        r[e].train_acc = t_train >= 0 && e >= t_train ? 1.0 : t_train >= 0 && e >= t_train - 10 ? 0.6 : 0.01;
        r[e].test_acc = t_test >= 0 && e >= t_test ? 0.995 : t_test >= 0 && e >= t_test - 10 ? 0.5 : 0.02;
    }
    return r;
}

static void test_outcome(void)
{
    gs_sweep_passages fp;
    gs_metrics_row *r = series(1000, 100, 700);
    gs_sweep_first_passages(r, 1000, &fp);
    CHECK(fp.train_99 == 100 && fp.train_50 == 90 && fp.test_99 == 700 && fp.test_50 == 690);
    CHECK(gs_sweep_classify(GS_SWEEP_FINISHED, &fp) == GS_SWEEP_GROKKING);
    CHECK(gs_sweep_classify(GS_SWEEP_STOPPED_EARLY, &fp) == GS_SWEEP_GROKKING);
    CHECK(gs_sweep_classify(GS_SWEEP_UNFINISHED, &fp) == GS_SWEEP_NO_CLASS);
    CHECK(gs_sweep_classify(GS_SWEEP_DIVERGED, &fp) == GS_SWEEP_CONFUSION);
    free(r);
    /* the boundary: test at exactly twice the train epoch is still comprehension */
    r = series(1000, 100, 200);
    gs_sweep_first_passages(r, 1000, &fp);
    CHECK(gs_sweep_classify(GS_SWEEP_FINISHED, &fp) == GS_SWEEP_COMPREHENSION);
    free(r);
    r = series(1000, 100, 201);
    gs_sweep_first_passages(r, 1000, &fp);
    CHECK(gs_sweep_classify(GS_SWEEP_FINISHED, &fp) == GS_SWEEP_GROKKING);
    free(r);
    r = series(1000, 100, -1);
    gs_sweep_first_passages(r, 1000, &fp);
    CHECK(fp.test_99 == -1 && fp.test_50 == -1 && gs_sweep_classify(GS_SWEEP_FINISHED, &fp) == GS_SWEEP_MEMORIZATION);
    free(r);
    r = series(1000, -1, -1);
    gs_sweep_first_passages(r, 1000, &fp);
    CHECK(fp.train_99 == -1 && gs_sweep_classify(GS_SWEEP_FINISHED, &fp) == GS_SWEEP_CONFUSION);
    free(r);
    /* a run that only passes 99% at its very last epoch counts */
    r = series(500, 499, -1);
    gs_sweep_first_passages(r, 500, &fp);
    CHECK(fp.train_99 == 499);
    free(r);
    /* what a run kept: the mean accuracy over its last tenth */
    r = series(1000, 100, 150);
    gs_sweep_first_passages(r, 1000, &fp);
    CHECK(fp.train_end == 1.0);
    CHECK_NEAR(fp.test_end, 0.995, 1e-12);
    CHECK(gs_sweep_classify(GS_SWEEP_FINISHED, &fp) == GS_SWEEP_COMPREHENSION);
    for (long e = 950; e < 955; e++) /* a dip at the end does not undo it */
        r[e].train_acc = r[e].test_acc = 0.5;
    gs_sweep_first_passages(r, 1000, &fp);
    CHECK_NEAR(fp.train_end, 0.975, 1e-12);
    CHECK(gs_sweep_classify(GS_SWEEP_FINISHED, &fp) == GS_SWEEP_COMPREHENSION);
    for (long e = 800; e < 1000; e++) /* generalized, then lost it: memorization */
        r[e].test_acc = 0.3;
    gs_sweep_first_passages(r, 1000, &fp);
    CHECK(fp.test_99 == 150 && gs_sweep_classify(GS_SWEEP_FINISHED, &fp) == GS_SWEEP_MEMORIZATION);
    for (long e = 950; e < 1000; e++) /* fitted, then collapsed: confusion */
        r[e].train_acc = 0.02;
    gs_sweep_first_passages(r, 1000, &fp);
    CHECK_NEAR(fp.train_end, (50 * 1.0 + 50 * 0.02) / 100, 1e-12);
    CHECK(fp.train_99 == 100 && gs_sweep_classify(GS_SWEEP_FINISHED, &fp) == GS_SWEEP_CONFUSION);
    free(r);
    r = series(5, 1, -1); /* a short run: its end is its last row */
    gs_sweep_first_passages(r, 5, &fp);
    CHECK(fp.train_end == 1.0 && fp.test_end == 0.02);
    free(r);
    gs_sweep_first_passages(NULL, 0, &fp);
    CHECK(fp.train_50 == -1 && fp.test_99 == -1 && isnan(fp.train_end));
    CHECK(gs_sweep_classify(GS_SWEEP_FINISHED, &fp) == GS_SWEEP_CONFUSION);
    CHECK(strcmp(gs_sweep_class_name(GS_SWEEP_CONFUSION), "confusion") == 0 &&
          strcmp(gs_sweep_class_name(GS_SWEEP_NO_CLASS), "") == 0);
    CHECK(strcmp(gs_sweep_status_name(GS_SWEEP_STOPPED_EARLY), "stopped-early") == 0);

    gs_config a, b;
    gs_config_default(&a);
    b = a;
    char diff[200];
    gs_sweep_config_diff(&a, &b, diff, sizeof diff);
    CHECK(diff[0] == '\0');
    b.lr = 3e-3;
    gs_sweep_config_diff(&a, &b, diff, sizeof diff);
    CHECK(strcmp(diff, "lr 0.001, not 0.003") == 0);
    b = a;
    b.flush_subnormals = 0;
    gs_sweep_config_diff(&a, &b, diff, sizeof diff);
    CHECK(strstr(diff, "flush_subnormals") != NULL);
    /* the interventions: named choices by name */
    b = a;
    b.grokfast = GS_GF_EMA;
    gs_sweep_config_diff(&a, &b, diff, sizeof diff);
    CHECK(strcmp(diff, "grokfast none, not ema") == 0);
    b = a;
    b.init_scale = 2.0;
    gs_sweep_config_diff(&a, &b, diff, sizeof diff);
    CHECK(strcmp(diff, "init_scale 1, not 2") == 0);
}

static void test_log(void)
{
    char path[] = "/tmp/gs-test-sweep-log-XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    if (fd < 0)
        return;
    char *argv[] = {"train", "--p", "23", NULL};
    CHECK(gs_sweep_log_start(fd, "train", 2, argv) == 0);
    dprintf(fd, "epoch 120/300  train 0.1  test 3  test acc 5%%  80/s  ETA 0m02s\n");
    dprintf(fd, "epoch 250/300  train 0.1  test 3  test acc 5%%  80/s  ETA 0m01s\n");
    dprintf(fd, "grokscope train: something after the job, not the executor's\n");
    CHECK(gs_sweep_log_end(fd, "train", "exit 2", 1.25) == 0);
    const off_t mid = lseek(fd, 0, SEEK_END);
    CHECK(gs_sweep_log_start(fd, "resume", 2, argv) == 0);
    dprintf(fd, "resume 260/300  x\n");
    CHECK(gs_sweep_log_end(fd, "resume", "exit 0 after all", 2.5) == 0);
    close(fd);
    long d = 0, t = 0;
    CHECK(gs_sweep_log_progress(path, 0, &d, &t) == 1 && d == 260 && t == 300);
    char line[200];
    CHECK(gs_sweep_log_error(path, 0, line, sizeof line) == 0 && strstr(line, "something after"));
    CHECK(gs_sweep_log_error(path, mid, line, sizeof line) == -1); /* nothing since `mid` */
    CHECK_NEAR(gs_sweep_log_wall(path), 3.75, 1e-12);
    unlink(path);
    CHECK(isnan(gs_sweep_log_wall(path)));
    char lp[200];
    gs_sweep_log_path("D", "0001-lr1.h5", lp, sizeof lp);
    CHECK(strcmp(lp, "D/logs/0001-lr1.log") == 0);
}

int main(void)
{
    test_grid();
    test_plan();
    test_outcome();
    test_log();
    return check_report("sweep");
}
