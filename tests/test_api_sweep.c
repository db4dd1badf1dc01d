/* The public API's sweep (grokscope_sweep, include/grokscope.h) as a program linked to
 * the shared library sees it: a sweep laid out from a spec and written, opened again,
 * its points trained and analysed through the API, each point's result against the
 * run file's own metrics (read through grokscope_run) and the documented class rule
 * written here independently, the tables against what was read, the score, the
 * figures, the logs, and the errors on bad input; and what `grokscope sweep status` and
 * `sweep score` print for the same sweep against what the API gives. Arguments: a
 * scratch directory and the grokscope binary. */
#include <errno.h>
#include <fcntl.h>
#include <hdf5.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "grokscope.h"

static char dir[2048];

static char *base[] = {"--p", "11", "--d-model", "16", "--d-mlp", "32", "--frac", "0.5", "--epochs", "60",
                       "--every", "20"};
#define N_BASE ((int)(sizeof base / sizeof *base))

/* Point i's configuration as train's options make it: the base and the axes' values. */
static grokscope_config *point_config(const grokscope_sweep *sw, long i)
{
    grokscope_config *c = grokscope_config_new();
    for (int k = 0; k < N_BASE; k += 2) {
        char key[32];
        snprintf(key, sizeof key, "%s", base[k] + 2);
        for (char *s = key; *s; s++)
            *s = *s == '-' ? '_' : *s;
        CHECK(grokscope_config_set(c, key, base[k + 1]) == GROKSCOPE_OK);
    }
    for (int a = 0; a < grokscope_sweep_n_axes(sw); a++)
        CHECK(grokscope_config_set(c, grokscope_sweep_axis_name(sw, a), grokscope_sweep_value(sw, i, a)) ==
              GROKSCOPE_OK);
    return c;
}

static void train(const char *path, const grokscope_config *c)
{
    grokscope_train *t = grokscope_train_new();
    CHECK(grokscope_train_set_threads(t, 2) == GROKSCOPE_OK);
    CHECK(grokscope_train_create(t, path, c) == GROKSCOPE_OK);
    CHECK(grokscope_train_run(t) == GROKSCOPE_OK);
    grokscope_train_free(t);
}

static void analyse(const char *path)
{
    grokscope_analysis *an = grokscope_analysis_new();
    CHECK(grokscope_analysis_set_threads(an, 2) == GROKSCOPE_OK);
    CHECK(grokscope_analysis_set_option(an, "llc_every", "0") == GROKSCOPE_OK);
    CHECK(grokscope_analysis_run(an, path) == GROKSCOPE_OK);
    grokscope_analysis_free(an);
}

/* A whole stream or file as text (malloc'd). */
static char *slurp(FILE *f)
{
    size_t cap = 4096, n = 0;
    char *text = malloc(cap);
    for (size_t r; text && (r = fread(text + n, 1, cap - n - 1, f)) > 0;) {
        n += r;
        if (n + 1 == cap)
            text = realloc(text, cap *= 2);
    }
    if (text)
        text[n] = '\0';
    return text;
}

/* The command's standard output (malloc'd), or NULL if it failed. */
static char *run_command(const char *cmd)
{
    FILE *p = popen(cmd, "r");
    if (!p)
        return NULL;
    char *out = slurp(p);
    if (pclose(p) != 0) {
        fprintf(stderr, "command failed: %s\n", cmd);
        free(out);
        return NULL;
    }
    return out;
}

/* What the API prints into a temporary file, as text. */
static char *printed(grokscope_sweep *sw, int tsv)
{
    FILE *t = tmpfile();
    CHECK(t && grokscope_sweep_print_score(sw, t, tsv) == GROKSCOPE_OK);
    if (!t)
        return NULL;
    rewind(t);
    char *text = slurp(t);
    fclose(t);
    return text;
}

/* `grokscope sweep status` of the sweep against the API's results, line by line. */
static void compare_status(const char *gs, const char *sdir, const grokscope_sweep_point *res, long n)
{
    char cmd[8192];
    snprintf(cmd, sizeof cmd, "'%s' sweep status '%s'", gs, sdir);
    char *out = run_command(cmd);
    CHECK(out != NULL);
    long seen = 0;
    for (char *save = NULL, *line = out ? strtok_r(out, "\n", &save) : NULL; line; line = strtok_r(NULL, "\n", &save)) {
        long i;
        char wd[32], seed[32], status[32], epochs[48], cls[32], t99[32];
        /* a point's line: its index right-aligned in 5 columns (the totals start at column 0) */
        if (line[0] != ' ' || sscanf(line, "%ld %31s %31s %31s %47s %31s %31s", &i, wd, seed, status, epochs, cls, t99) != 7 ||
            i < 0 || i >= n)
            continue;
        const grokscope_sweep_point *r = &res[i];
        char want[48];
        snprintf(want, sizeof want, "%ld/%ld", r->epochs_done >= 0 ? r->epochs_done : 0, r->epochs);
        CHECK(strcmp(status, grokscope_sweep_status_name(r->status)) == 0);
        CHECK(strcmp(epochs, want) == 0);
        CHECK(strcmp(cls, r->cls >= 0 ? grokscope_sweep_class_name(r->cls) : "-") == 0);
        snprintf(want, sizeof want, "%ld", r->test_99);
        CHECK(strcmp(t99, r->test_99 >= 0 ? want : "-") == 0);
        seen++;
    }
    CHECK(seen == n);
    free(out);
}

static int exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

/* The first epoch whose accuracy is >= level, or -1. */
static long first_at(const grokscope_epoch *rows, long n, int test, double level)
{
    for (long k = 0; k < n; k++)
        if ((test ? rows[k].test_acc : rows[k].train_acc) >= level)
            return rows[k].epoch;
    return -1;
}

/* Point i's result against its run file: first passages, final metrics, the means
 * over the last tenth and the class by the rule of docs/sweeps.md. */
static void check_point(const grokscope_sweep_point *r, const char *path)
{
    grokscope_run *run;
    CHECK(grokscope_run_open(path, &run) == GROKSCOPE_OK);
    const long n = grokscope_run_n_epochs(run);
    grokscope_epoch *rows = calloc((size_t)n, sizeof *rows);
    CHECK(grokscope_run_read_epochs(run, 0, n, rows) == GROKSCOPE_OK);
    CHECK(r->status == GROKSCOPE_POINT_FINISHED);
    CHECK(r->epochs == 60 && r->epochs_done == rows[n - 1].epoch);
    CHECK(r->n_checkpoints == grokscope_run_n_checkpoints(run));
    CHECK(r->train_50 == first_at(rows, n, 0, 0.5) && r->train_99 == first_at(rows, n, 0, 0.99));
    CHECK(r->test_50 == first_at(rows, n, 1, 0.5) && r->test_99 == first_at(rows, n, 1, 0.99));
    CHECK(r->final_test_loss == rows[n - 1].test_loss && r->final_train_acc == rows[n - 1].train_acc);
    long k = n / 10 > 1 ? n / 10 : 1;
    double tr = 0, te = 0;
    for (long j = n - k; j < n; j++) {
        tr += rows[j].train_acc;
        te += rows[j].test_acc;
    }
    CHECK_NEAR(r->train_end, tr / (double)k, 1e-12);
    CHECK_NEAR(r->test_end, te / (double)k, 1e-12);
    const int cls = r->train_99 < 0 || r->train_end < 0.9   ? GROKSCOPE_CLASS_CONFUSION
                    : r->test_99 < 0 || r->test_end < 0.9   ? GROKSCOPE_CLASS_MEMORIZATION
                    : r->test_99 <= 2 * r->train_99         ? GROKSCOPE_CLASS_COMPREHENSION
                                                            : GROKSCOPE_CLASS_GROKKING;
    CHECK(r->cls == cls);
    CHECK(r->train_99 >= 0 && r->test_99 >= 0 ? r->delay == (double)(r->test_99 - r->train_99) : isnan(r->delay));
    if (r->analysed) {
        int freqs[GROKSCOPE_MAX_STORED_KEYS], nk = 0;
        long epoch;
        CHECK(grokscope_run_key_freqs(run, freqs, GROKSCOPE_MAX_STORED_KEYS, &nk, &epoch) == GROKSCOPE_OK);
        CHECK(r->n_key == nk);
        for (int j = 0; j < nk && j < r->n_key; j++)
            CHECK(r->key_freqs[j] == freqs[j]);
    } else {
        CHECK(r->n_key == -1 && r->memorization_end == -1);
    }
    free(rows);
    grokscope_run_close(run);
}

static void test_spec_errors(void)
{
    grokscope_sweep *sw;
    CHECK(grokscope_sweep_new(&sw) == GROKSCOPE_OK);
    CHECK(grokscope_sweep_add_axis(sw, "lr") == GROKSCOPE_ERR_INVALID);
    CHECK(strstr(grokscope_sweep_error(sw), "expected NAME=VALUES") != NULL);
    CHECK(grokscope_sweep_add_axis(sw, "lr=1..") == GROKSCOPE_ERR_INVALID);
    CHECK(grokscope_sweep_add_seeds(sw, "x") == GROKSCOPE_ERR_INVALID);
    CHECK(grokscope_sweep_n_axes(sw) == 0);
    /* no axes: nothing to lay out, and nothing to write */
    CHECK(grokscope_sweep_build(sw, N_BASE, base) == GROKSCOPE_ERR_INVALID);
    CHECK(strstr(grokscope_sweep_error(sw), "no axes") != NULL);
    CHECK(grokscope_sweep_write_plan(sw, dir, NULL) == GROKSCOPE_ERR_INVALID);
    CHECK(grokscope_sweep_add_axis(sw, "wd=1,1.0") == GROKSCOPE_ERR_INVALID); /* a value twice */
    for (int a = 0; a < GROKSCOPE_SWEEP_MAX_AXES; a++) {
        char spec[32];
        snprintf(spec, sizeof spec, "a%d=1", a);
        CHECK(grokscope_sweep_add_axis(sw, spec) == GROKSCOPE_OK);
    }
    CHECK(grokscope_sweep_add_axis(sw, "b=1") == GROKSCOPE_ERR_INVALID);
    CHECK(strstr(grokscope_sweep_error(sw), "more than 16 axes") != NULL);
    grokscope_sweep_free(sw);

    /* not a sweep directory, a file, a directory without a plan */
    char path[4096];
    CHECK(grokscope_sweep_open("/nonexistent/sweep", &sw) == GROKSCOPE_ERR_INVALID);
    CHECK(strstr(grokscope_sweep_error(sw), "No such file") != NULL);
    grokscope_sweep_free(sw);
    CHECK(grokscope_sweep_open(dir, &sw) == GROKSCOPE_ERR_INVALID);
    CHECK(strstr(grokscope_sweep_error(sw), "is not a sweep directory") != NULL);
    CHECK(grokscope_sweep_n_points(sw) == 0 && grokscope_sweep_file(sw, 0) == NULL);
    grokscope_sweep_free(sw);
    CHECK(grokscope_sweep_is_dir(dir) == 0);
    snprintf(path, sizeof path, "%s/bad.plan.d", dir);
    CHECK(mkdir(path, 0777) == 0);
    char plan[4200];
    snprintf(plan, sizeof plan, "%s/%s", path, GROKSCOPE_SWEEP_PLAN_FILE);
    FILE *f = fopen(plan, "w");
    CHECK(f != NULL);
    fputs("not a plan\n", f);
    fclose(f);
    CHECK(grokscope_sweep_is_dir(path) == 1);
    CHECK(grokscope_sweep_open(path, &sw) == GROKSCOPE_ERR_INVALID);
    CHECK(grokscope_sweep_error(sw)[0] != '\0');
    grokscope_sweep_free(sw);
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: test_api_sweep SCRATCH-DIR GROKSCOPE\n");
        return 2;
    }
    snprintf(dir, sizeof dir, "%s/api-sweep", argv[1]);
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    CHECK(system(cmd) == 0);
    CHECK(mkdir(dir, 0777) == 0);
    test_spec_errors();

    /* ---- a new sweep from a spec ---- */
    char sdir[2100], path[2200], buf[4400];
    snprintf(sdir, sizeof sdir, "%s/S", dir);
    grokscope_sweep *sw;
    CHECK(grokscope_sweep_new(&sw) == GROKSCOPE_OK);
    CHECK(grokscope_sweep_add_axis(sw, "wd=1,5") == GROKSCOPE_OK);
    CHECK(grokscope_sweep_add_seeds(sw, "0-1") == GROKSCOPE_OK);
    CHECK(grokscope_sweep_n_axes(sw) == 2 && strcmp(grokscope_sweep_axis_name(sw, 1), "seed") == 0);
    CHECK(grokscope_sweep_axis_n_values(sw, 0) == 2 && strcmp(grokscope_sweep_axis_value(sw, 0, 1), "5") == 0);
    CHECK(grokscope_sweep_axis_value(sw, 0, 2) == NULL && grokscope_sweep_axis_name(sw, 2) == NULL);
    CHECK(grokscope_sweep_n_points(sw) == 0 && grokscope_sweep_dir(sw) == NULL);
    CHECK(grokscope_sweep_build(sw, N_BASE, base) == GROKSCOPE_OK);
    CHECK(grokscope_sweep_add_axis(sw, "lr=1") == GROKSCOPE_ERR_INVALID); /* axes come first */
    CHECK(grokscope_sweep_n_points(sw) == 4);
    /* the first axis varies slowest */
    CHECK(strcmp(grokscope_sweep_value(sw, 1, 0), "1") == 0 && strcmp(grokscope_sweep_value(sw, 1, 1), "1") == 0);
    CHECK(strcmp(grokscope_sweep_value(sw, 2, 0), "5") == 0 && strcmp(grokscope_sweep_value(sw, 2, 1), "0") == 0);
    CHECK(grokscope_sweep_value(sw, 4, 0) == NULL && grokscope_sweep_value(sw, 0, 2) == NULL);
    CHECK(grokscope_sweep_label(sw, 3, buf, sizeof buf) == GROKSCOPE_OK && strcmp(buf, "wd=5 seed=1") == 0);
    CHECK(grokscope_sweep_label(sw, -1, buf, sizeof buf) == GROKSCOPE_ERR_INVALID);
    CHECK(strcmp(grokscope_sweep_file(sw, 3), "0003-wd5-seed1.h5") == 0);
    CHECK(grokscope_sweep_run_path(sw, 0, buf, sizeof buf) == GROKSCOPE_ERR_INVALID); /* no directory yet */
    int ac;
    char **av;
    CHECK(grokscope_sweep_point_argv(sw, 3, 2, &ac, &av) == GROKSCOPE_OK);
    CHECK(ac == 1 + N_BASE + 4 && strcmp(av[0], "train") == 0 && strcmp(av[1], "--p") == 0);
    CHECK(strcmp(av[N_BASE + 1], "--wd") == 0 && strcmp(av[N_BASE + 2], "5") == 0);
    CHECK(strcmp(av[N_BASE + 3], "--seed") == 0 && strcmp(av[N_BASE + 4], "1") == 0);
    CHECK(av[ac] == NULL && av[ac + 1] == NULL && av[ac + 2] == NULL);
    grokscope_sweep_argv_free(av);
    CHECK(grokscope_sweep_point_argv(sw, 4, 0, &ac, &av) == GROKSCOPE_ERR_INVALID && av == NULL);
    unsigned char sel[4];
    CHECK(grokscope_sweep_parse_only(sw, "0,2-3", sel) == GROKSCOPE_OK);
    CHECK(sel[0] == 1 && sel[1] == 0 && sel[2] == 1 && sel[3] == 1);
    CHECK(grokscope_sweep_parse_only(sw, "4", sel) == GROKSCOPE_ERR_INVALID);
    CHECK(grokscope_sweep_error(sw)[0] != '\0');

    int existed = -1;
    CHECK(grokscope_sweep_write_plan(sw, sdir, &existed) == GROKSCOPE_OK && existed == 0);
    CHECK(grokscope_sweep_is_dir(sdir) == 1 && strcmp(grokscope_sweep_dir(sw), sdir) == 0);
    CHECK(grokscope_sweep_write_plan(sw, sdir, &existed) == GROKSCOPE_OK && existed == 1);
    grokscope_sweep_free(sw);
    /* another sweep in the same directory, a plan over a file: refused */
    CHECK(grokscope_sweep_new(&sw) == GROKSCOPE_OK);
    CHECK(grokscope_sweep_add_axis(sw, "wd=1,3") == GROKSCOPE_OK);
    CHECK(grokscope_sweep_build(sw, N_BASE, base) == GROKSCOPE_OK);
    CHECK(grokscope_sweep_write_plan(sw, sdir, &existed) == GROKSCOPE_ERR_INVALID);
    CHECK(strstr(grokscope_sweep_error(sw), "already holds another sweep") != NULL);
    snprintf(path, sizeof path, "%s/sweep.plan", sdir);
    CHECK(grokscope_sweep_write_plan(sw, path, &existed) == GROKSCOPE_ERR_INVALID);
    CHECK(strstr(grokscope_sweep_error(sw), "is not a directory") != NULL);
    grokscope_sweep_free(sw);

    /* ---- opened again ---- */
    CHECK(grokscope_sweep_open(sdir, &sw) == GROKSCOPE_OK);
    CHECK(grokscope_sweep_n_points(sw) == 4 && grokscope_sweep_n_axes(sw) == 2);
    CHECK(grokscope_sweep_n_base(sw) == N_BASE && strcmp(grokscope_sweep_base(sw, 1), "11") == 0);
    CHECK(grokscope_sweep_base(sw, N_BASE) == NULL);
    CHECK(grokscope_sweep_check_files(sw) == GROKSCOPE_OK);
    grokscope_sweep_point r;
    CHECK(grokscope_sweep_read_point(sw, 0, &r) == GROKSCOPE_ERR_INVALID); /* no configuration yet */
    CHECK(strstr(grokscope_sweep_error(sw), "no configuration") != NULL);
    CHECK(grokscope_sweep_config(sw, 0) == NULL);
    for (long i = 0; i < 4; i++) {
        grokscope_config *c = point_config(sw, i);
        CHECK(grokscope_sweep_set_config(sw, i, c) == GROKSCOPE_OK);
        grokscope_config_free(c);
    }
    CHECK(grokscope_sweep_set_config(sw, 4, grokscope_sweep_config(sw, 0)) == GROKSCOPE_ERR_INVALID);
    CHECK(grokscope_sweep_read_point(sw, 0, &r) == GROKSCOPE_OK);
    CHECK(r.status == GROKSCOPE_POINT_PENDING && r.epochs == 60 && r.epochs_done == -1 && r.cls == GROKSCOPE_CLASS_NONE);
    CHECK(isnan(r.wall_s) && isnan(r.final_test_loss));
    CHECK(grokscope_sweep_read_point(sw, 4, &r) == GROKSCOPE_ERR_INVALID);
    /* the tables, the score and the figures need every point read */
    snprintf(path, sizeof path, "%s/sweep.h5", sdir);
    CHECK(grokscope_sweep_write_table(sw, path, 0) == GROKSCOPE_ERR_INVALID);
    CHECK(strstr(grokscope_sweep_error(sw), "point 1") != NULL && !exists(path));
    CHECK(grokscope_sweep_score(sw, NULL) == GROKSCOPE_ERR_INVALID);

    /* ---- trained through the API: points 0 and 2 analysed, 1 not, 3 pending ---- */
    for (long i = 0; i < 3; i++) {
        CHECK(grokscope_sweep_run_path(sw, i, path, sizeof path) == GROKSCOPE_OK);
        train(path, grokscope_sweep_config(sw, i));
        if (i != 1)
            analyse(path);
    }
    /* a log as the command line's executor writes it: the wall time read back */
    CHECK(grokscope_sweep_log_path(sw, 0, buf, sizeof buf) == GROKSCOPE_OK);
    snprintf(path, sizeof path, "%s/logs", sdir);
    CHECK(mkdir(path, 0777) == 0);
    CHECK(strstr(buf, "/logs/0000-wd1-seed0.log") != NULL);
    int fd = open(buf, O_WRONLY | O_CREAT | O_APPEND, 0666);
    CHECK(fd >= 0);
    char *step_argv[] = {"train", "--p", "11", NULL};
    CHECK(grokscope_sweep_log_start(fd, "train", 2, step_argv) == GROKSCOPE_OK);
    const char *lines = "epoch 40/60  train 0.1\ngrokscope train: something went wrong\n";
    CHECK(write(fd, lines, strlen(lines)) == (ssize_t)strlen(lines));
    CHECK(grokscope_sweep_log_end(fd, "train", "exit 0", 1.25) == GROKSCOPE_OK);
    CHECK(grokscope_sweep_log_start(fd, "analyze", 2, step_argv) == GROKSCOPE_OK);
    CHECK(grokscope_sweep_log_end(fd, "analyze", "exit 0", 0.5) == GROKSCOPE_OK);
    close(fd);
    long done = 0, total = 0;
    CHECK(grokscope_sweep_log_progress(buf, 0, &done, &total) == 1 && done == 40 && total == 60);
    char why[256];
    CHECK(grokscope_sweep_log_error(buf, 0, why, sizeof why) == 0 &&
          strcmp(why, "grokscope train: something went wrong") == 0);
    CHECK(grokscope_sweep_log_error("/nonexistent.log", 0, why, sizeof why) == -1);

    grokscope_sweep_point res[4];
    for (long i = 0; i < 4; i++)
        CHECK(grokscope_sweep_read_point(sw, i, &res[i]) == GROKSCOPE_OK);
    for (long i = 0; i < 3; i++) {
        CHECK(grokscope_sweep_run_path(sw, i, path, sizeof path) == GROKSCOPE_OK);
        check_point(&res[i], path);
        CHECK(res[i].analysed == (i != 1));
    }
    CHECK_NEAR(res[0].wall_s, 1.75, 1e-12);
    CHECK(isnan(res[2].wall_s));
    CHECK(res[3].status == GROKSCOPE_POINT_PENDING);
    CHECK(strcmp(grokscope_sweep_status_name(res[0].status), "finished") == 0);
    CHECK(strcmp(grokscope_sweep_status_name(GROKSCOPE_POINT_PENDING), "pending") == 0);
    CHECK(strcmp(grokscope_sweep_class_name(GROKSCOPE_CLASS_GROKKING), "grokking") == 0);
    CHECK(strcmp(grokscope_sweep_class_name(GROKSCOPE_CLASS_NONE), "") == 0);
    CHECK(strcmp(grokscope_sweep_class_name(res[0].cls), "") != 0);

    /* ---- the tables ---- */
    snprintf(path, sizeof path, "%s/sweep.h5", sdir);
    CHECK(grokscope_sweep_write_table(sw, path, 0) == GROKSCOPE_OK);
    hid_t h = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    CHECK(h >= 0);
    long long n_points = 0;
    hid_t at = H5Aopen(h, "n_points", H5P_DEFAULT);
    CHECK(at >= 0 && H5Aread(at, H5T_NATIVE_LLONG, &n_points) >= 0 && n_points == 4);
    H5Aclose(at);
    long long test99[4];
    hid_t ds = H5Dopen(h, "points/test_acc_99_epoch", H5P_DEFAULT);
    CHECK(ds >= 0 && H5Dread(ds, H5T_NATIVE_LLONG, H5S_ALL, H5S_ALL, H5P_DEFAULT, test99) >= 0);
    for (int i = 0; i < 4; i++)
        CHECK(test99[i] == res[i].test_99);
    H5Dclose(ds);
    double loss[4];
    ds = H5Dopen(h, "points/final_test_loss", H5P_DEFAULT);
    CHECK(ds >= 0 && H5Dread(ds, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, loss) >= 0);
    for (int i = 0; i < 3; i++)
        CHECK(loss[i] == res[i].final_test_loss);
    CHECK(isnan(loss[3]));
    H5Dclose(ds);
    H5Fclose(h);
    snprintf(path, sizeof path, "%s/sweep.csv", sdir);
    CHECK(grokscope_sweep_write_table(sw, path, 1) == GROKSCOPE_OK);
    FILE *f = fopen(path, "r");
    int n_lines = 0, pending = 0;
    while (f && fgets(buf, sizeof buf, f)) {
        n_lines++;
        pending += strstr(buf, ",pending,") != NULL;
    }
    if (f)
        fclose(f);
    CHECK(n_lines == 5 && pending == 1);
    CHECK(grokscope_sweep_write_table(sw, "/nonexistent/dir/sweep.csv", 1) != GROKSCOPE_OK);
    CHECK(grokscope_sweep_error(sw)[0] != '\0');

    /* ---- the score: the ended and analysed points ---- */
    CHECK(grokscope_sweep_print_score(sw, stdout, 0) == GROKSCOPE_ERR_INVALID); /* not scored yet */
    int n_scored = -1;
    CHECK(grokscope_sweep_score(sw, &n_scored) == GROKSCOPE_OK && n_scored == 2);
    FILE *t = tmpfile();
    CHECK(t && grokscope_sweep_print_score(sw, t, 1) == GROKSCOPE_OK);
    rewind(t);
    int rows = 0, signals = 0;
    while (t && fgets(buf, sizeof buf, t)) {
        rows++;
        signals += strncmp(buf, "restricted_loss\t", 16) == 0 || strncmp(buf, "spectral\t", 9) == 0;
    }
    if (t)
        fclose(t);
    CHECK(rows == 9 && signals == 2); /* a header and 8 signals */

    /* ---- the figures ---- */
    CHECK(grokscope_sweep_set_plot_axes(sw, "nope", NULL, NULL) == GROKSCOPE_ERR_INVALID);
    CHECK(strstr(grokscope_sweep_error(sw), "no axis 'nope'") != NULL);
    CHECK(grokscope_sweep_set_plot_axes(sw, "wd", "wd", NULL) == GROKSCOPE_ERR_INVALID);
    grokscope_plot *pl = grokscope_plot_new();
    if (grokscope_plot_gnuplot(pl)) {
        CHECK(grokscope_sweep_set_plot_axes(sw, "seed", "wd", NULL) == GROKSCOPE_OK);
        snprintf(path, sizeof path, "%s/plots", sdir);
        CHECK(grokscope_plot_draw_sweep(pl, sw, path) == GROKSCOPE_OK);
        CHECK(grokscope_plot_draw_sweep_score(pl, sw, "test sweep", path) == GROKSCOPE_OK);
        static const char *const figs[] = {"sweep_phase_diagram", "sweep_grok_epoch", "sweep_delay",
                                           "sweep_test_acc", "sweep_score"};
        for (size_t k = 0; k < sizeof figs / sizeof *figs; k++)
            for (int e = 0; e < 3; e++) {
                snprintf(buf, sizeof buf, "%s/%s.%s", path, figs[k], (const char *[]){"png", "gp", "dat"}[e]);
                CHECK(exists(buf));
            }
    } else {
        printf("note: gnuplot not found; the figures are not drawn\n");
    }

    /* ---- what the command line shows of the same sweep ---- */
    compare_status(argv[2], sdir, res, 4);
    /* sweep score analyses point 1 on the way; the API, reading it again, agrees */
    char cmd2[8192];
    snprintf(cmd2, sizeof cmd2, "'%s' sweep score '%s' --no-plot --threads 2 --quiet 2>/dev/null", argv[2], sdir);
    char *cli = run_command(cmd2);
    CHECK(cli != NULL);
    for (long i = 0; i < 4; i++)
        CHECK(grokscope_sweep_read_point(sw, i, &res[i]) == GROKSCOPE_OK);
    CHECK(res[1].analysed == 1);
    CHECK(grokscope_sweep_score(sw, &n_scored) == GROKSCOPE_OK && n_scored == 3);
    char *api = printed(sw, 0), *api_tsv = printed(sw, 1);
    snprintf(path, sizeof path, "%s/score.tsv", sdir);
    f = fopen(path, "r");
    char *cli_tsv = f ? slurp(f) : NULL;
    if (f)
        fclose(f);
    snprintf(buf, sizeof buf, "%swrote %s\n", api ? api : "", path);
    CHECK(cli && api && strcmp(cli, buf) == 0);
    CHECK(cli_tsv && api_tsv && strcmp(cli_tsv, api_tsv) == 0);
    free(cli);
    free(api);
    free(api_tsv);
    free(cli_tsv);
    grokscope_sweep_free(sw);

    /* ---- a run file that belongs to no point, a stray run file ---- */
    CHECK(grokscope_sweep_open(sdir, &sw) == GROKSCOPE_OK);
    for (long i = 0; i < 4; i++) {
        grokscope_config *c = point_config(sw, i);
        CHECK(grokscope_sweep_set_config(sw, i, c) == GROKSCOPE_OK);
        grokscope_config_free(c);
    }
    /* the draw functions refuse a sweep not read yet */
    CHECK(grokscope_plot_draw_sweep(pl, sw, dir) == GROKSCOPE_ERR_INVALID);
    CHECK(grokscope_plot_draw_sweep_score(pl, sw, "x", dir) == GROKSCOPE_ERR_INVALID);
    grokscope_plot_free(pl);
    grokscope_config *other = point_config(sw, 3);
    CHECK(grokscope_config_set(other, "d_mlp", "24") == GROKSCOPE_OK);
    CHECK(grokscope_sweep_run_path(sw, 3, path, sizeof path) == GROKSCOPE_OK);
    train(path, other);
    grokscope_config_free(other);
    CHECK(grokscope_sweep_read_point(sw, 3, &r) == GROKSCOPE_ERR_INVALID);
    CHECK(strstr(grokscope_sweep_error(sw), "belongs to no point of the sweep: it holds a run with d_mlp 24, not 32") !=
          NULL);
    CHECK(unlink(path) == 0);
    CHECK(grokscope_sweep_read_point(sw, 3, &r) == GROKSCOPE_OK && r.status == GROKSCOPE_POINT_PENDING);
    snprintf(path, sizeof path, "%s/stray.h5", sdir);
    f = fopen(path, "w");
    if (f)
        fclose(f);
    CHECK(grokscope_sweep_check_files(sw) == GROKSCOPE_ERR_INVALID);
    CHECK(strstr(grokscope_sweep_error(sw), "stray.h5 belongs to no point") != NULL);
    /* an unreadable run file is a state, not an error */
    CHECK(grokscope_sweep_run_path(sw, 3, buf, sizeof buf) == GROKSCOPE_OK);
    CHECK(rename(path, buf) == 0);
    CHECK(grokscope_sweep_read_point(sw, 3, &r) == GROKSCOPE_OK && r.status == GROKSCOPE_POINT_UNREADABLE);
    CHECK(r.message[0] != '\0');
    grokscope_sweep_free(sw);
    grokscope_sweep_free(NULL);
    return check_report("api-sweep");
}
