/* The public API's readers (include/grokscope.h) that the command line's freqs,
 * forecast, plot and data check are built on, as a program linked to the shared library
 * sees them: each result against the run file's own datasets (read here with HDF5
 * directly) or against another API path to the same number, and the errors on bad
 * input. Argument: a scratch directory. */
#include <hdf5.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "check.h"
#include "grokscope.h"

static char dir[2048];

static const char *path_in(char *buf, const char *name)
{
    snprintf(buf, 4096, "%s/%s", dir, name);
    return buf;
}

/* Trains a small run (p 11 unless the keys say otherwise) into path; key/value pairs
 * end with NULL. */
static void train(const char *path, ...)
{
    grokscope_config *c = grokscope_config_new();
    CHECK(grokscope_config_set(c, "p", "11") == GROKSCOPE_OK);
    CHECK(grokscope_config_set(c, "d_model", "16") == GROKSCOPE_OK);
    CHECK(grokscope_config_set(c, "d_mlp", "32") == GROKSCOPE_OK);
    CHECK(grokscope_config_set(c, "frac", "0.5") == GROKSCOPE_OK);
    CHECK(grokscope_config_set(c, "epochs", "60") == GROKSCOPE_OK);
    CHECK(grokscope_config_set(c, "every", "20") == GROKSCOPE_OK);
    va_list ap;
    va_start(ap, path);
    for (const char *k; (k = va_arg(ap, const char *));) {
        const char *v = va_arg(ap, const char *);
        CHECK(grokscope_config_set(c, k, v) == GROKSCOPE_OK);
    }
    va_end(ap);
    grokscope_train *t = grokscope_train_new();
    CHECK(grokscope_train_set_force(t, 1) == GROKSCOPE_OK);
    CHECK(grokscope_train_set_threads(t, 2) == GROKSCOPE_OK);
    CHECK(grokscope_train_create(t, path, c) == GROKSCOPE_OK);
    CHECK(grokscope_train_run(t) == GROKSCOPE_OK);
    grokscope_train_free(t);
    grokscope_config_free(c);
}

static void analyse(const char *path)
{
    grokscope_analysis *an = grokscope_analysis_new();
    CHECK(grokscope_analysis_set_threads(an, 2) == GROKSCOPE_OK);
    CHECK(grokscope_analysis_set_option(an, "llc_every", "2") == GROKSCOPE_OK);
    CHECK(grokscope_analysis_set_option(an, "llc_draws", "5") == GROKSCOPE_OK);
    CHECK(grokscope_analysis_run(an, path) == GROKSCOPE_OK);
    grokscope_analysis_free(an);
}

/* A whole dataset of doubles (or int32 / int64 as double) from the file; its length. */
static long read_ds(const char *path, const char *name, double *out, long max)
{
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    CHECK(f >= 0);
    hid_t ds = H5Dopen2(f, name, H5P_DEFAULT);
    CHECK(ds >= 0);
    hid_t sp = H5Dget_space(ds);
    hsize_t dims[2] = {0, 0};
    const int rank = H5Sget_simple_extent_dims(sp, dims, NULL);
    long n = rank == 2 ? (long)(dims[0] * dims[1]) : rank == 1 ? (long)dims[0] : 1;
    CHECK(n <= max);
    if (n > max)
        n = max;
    if (n > 0)
        CHECK(H5Dread(ds, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, out) >= 0);
    H5Sclose(sp);
    H5Dclose(ds);
    H5Fclose(f);
    return n;
}

static int same(double a, double b)
{
    return (isnan(a) && isnan(b)) || a == b;
}

static void test_ops(void)
{
    int n = 0;
    for (; grokscope_op_name(n); n++) {
        const char *op = grokscope_op_name(n);
        CHECK(grokscope_op_formula(op) != NULL && grokscope_op_pairs(op) != NULL);
        CHECK(grokscope_op_circuit(op) != NULL);
        CHECK(grokscope_op_needs_prime(op) == 0 || grokscope_op_needs_prime(op) == 1);
    }
    CHECK(n > 10 && strcmp(grokscope_op_name(0), "add") == 0);
    CHECK(grokscope_op_name(-1) == NULL);
    CHECK(grokscope_op_needs_prime("div") == 1 && grokscope_op_needs_prime("add") == 0);
    CHECK(strcmp(grokscope_op_pairs("add"), "all p^2") == 0);
    CHECK(strstr(grokscope_op_circuit("x2y2"), "no circuit") != NULL);
    CHECK(grokscope_op_pairs("pow") == NULL && grokscope_op_needs_prime("pow") == -1);
    CHECK(grokscope_op_circuit(NULL) == NULL);
}

/* The neuron clusters and the embedding's norms of a probe against the analysis's own
 * record of the last checkpoint. */
static void test_clusters(const char *path)
{
    grokscope_run *r;
    CHECK(grokscope_run_open(path, &r) == GROKSCOPE_OK);
    grokscope_probe *pr;
    CHECK(grokscope_probe_open(r, 2, &pr) == GROKSCOPE_OK);
    CHECK(grokscope_probe_n_freq(pr) == 5 && grokscope_probe_n_neurons(pr) == 32);
    CHECK(grokscope_probe_has_embed(pr) == 1);
    const int last = grokscope_run_n_checkpoints(r) - 1;
    int nf[32], keys[8], n_key = -1, keys2[8], n_key2 = -1;
    double frac[32];
    CHECK(grokscope_probe_clusters(pr, last, -1, 0, nf, frac, 32, keys, 8, &n_key) == GROKSCOPE_OK);
    /* the key frequencies are grokscope_probe_key_freqs's and the analysis's */
    CHECK(grokscope_probe_key_freqs(pr, last, 0, keys2, 8, &n_key2) == GROKSCOPE_OK);
    CHECK(n_key == n_key2 && memcmp(keys, keys2, (size_t)n_key * sizeof *keys) == 0);
    int stored[GROKSCOPE_MAX_STORED_KEYS], n_stored = -2;
    long at = -3;
    CHECK(grokscope_run_key_freqs(r, stored, GROKSCOPE_MAX_STORED_KEYS, &n_stored, &at) == GROKSCOPE_OK);
    CHECK(n_stored == n_key && memcmp(stored, keys, (size_t)n_key * sizeof *keys) == 0);
    long last_epoch = -1;
    CHECK(grokscope_run_checkpoint_epoch(r, last, &last_epoch) == GROKSCOPE_OK && at == last_epoch);
    double file_nf[32], file_frac[32], file_keys[64];
    CHECK(read_ds(path, "/analysis/neuron_freq", file_nf, 32) == 32);
    CHECK(read_ds(path, "/analysis/neuron_frac_explained", file_frac, 32) == 32);
    CHECK(read_ds(path, "/analysis/key_freqs", file_keys, 64) == n_key);
    int sizes[6] = {0};
    for (int j = 0; j < 32; j++) {
        CHECK(nf[j] == (int)file_nf[j] && same(frac[j], file_frac[j]));
        CHECK(nf[j] == -1 || (nf[j] >= 1 && nf[j] <= 5 && frac[j] >= 0.85));
        sizes[nf[j] > 0 ? nf[j] : 0]++;
    }
    for (int k = 0; k < n_key; k++)
        CHECK(keys[k] == (int)file_keys[k] && sizes[keys[k]] >= 1);
    /* the notebook's rule: every neuron with variance joins its best frequency */
    int nb[32], kb[8], n_kb;
    double fb[32];
    CHECK(grokscope_probe_clusters(pr, last, -1, 1, nb, fb, 32, kb, 8, &n_kb) == GROKSCOPE_OK);
    for (int j = 0; j < 32; j++)
        CHECK(fb[j] == frac[j] && (nf[j] < 0 || nb[j] == nf[j]) && (fb[j] == 0 || nb[j] >= 1));
    /* a threshold of 0 is a threshold, not the default */
    CHECK(grokscope_probe_clusters(pr, last, 0, 0, nb, NULL, 32, kb, 8, &n_kb) == GROKSCOPE_OK);
    for (int j = 0; j < 32; j++)
        CHECK(fb[j] == 0 || nb[j] >= 1);
    /* bad input */
    CHECK(grokscope_probe_clusters(pr, last, 1.5, 0, nf, frac, 32, keys, 8, &n_key) == GROKSCOPE_ERR_INVALID);
    CHECK(strstr(grokscope_probe_error(pr), "threshold") != NULL);
    CHECK(grokscope_probe_clusters(pr, last, -1, 0, nf, frac, 31, keys, 8, &n_key) == GROKSCOPE_ERR_INVALID);
    CHECK(grokscope_probe_clusters(pr, last, -1, 0, NULL, NULL, 0, keys, 8, NULL) == GROKSCOPE_ERR_INVALID);
    CHECK(grokscope_probe_clusters(pr, 99, -1, 0, nf, frac, 32, keys, 8, &n_key) != GROKSCOPE_OK);

    /* the embedding's norm per frequency: its constant is the stored row's, and the
     * squares add up to the stored row's (add: the basis is all of Z_p) */
    double norm[6], row[11 * 4];
    CHECK(grokscope_probe_embed_norms(pr, last, norm, 6) == GROKSCOPE_OK);
    CHECK(read_ds(path, "/analysis/embed_fourier_norm", row, 44) == 44);
    const double *r_last = row + (long)last * 11;
    double s_api = 0, s_file = 0;
    for (int w = 0; w <= 5; w++)
        s_api += norm[w] * norm[w];
    for (int j = 0; j < 11; j++)
        s_file += r_last[j] * r_last[j];
    CHECK(norm[0] == r_last[0]);
    CHECK_NEAR(s_api, s_file, 1e-12 * s_file);
    CHECK(grokscope_probe_embed_norms(pr, last, norm, 5) == GROKSCOPE_ERR_INVALID);
    CHECK(grokscope_probe_embed_norms(pr, last, NULL, 6) == GROKSCOPE_ERR_INVALID);
    grokscope_probe_close(pr);
    grokscope_run_close(r);
}

/* What the analysis stored, read back through the API, equals the datasets. */
static void test_stored(const char *path, const char *unanalysed)
{
    grokscope_run *r;
    CHECK(grokscope_run_open(path, &r) == GROKSCOPE_OK);
    const long n = grokscope_run_n_analyzed(r);
    CHECK(n == 4 && n == grokscope_run_n_checkpoints(r));
    grokscope_analysis_row rows[4];
    CHECK(grokscope_run_read_analysis(r, 0, 4, rows) == GROKSCOPE_OK);
    double epoch[4], test_loss[4], llc[4], init_distance[4], cka_label[4], gini[4];
    CHECK(read_ds(path, "/analysis/epoch", epoch, 4) == 4);
    CHECK(read_ds(path, "/analysis/test_loss", test_loss, 4) == 4);
    CHECK(read_ds(path, "/analysis/llc", llc, 4) == 4);
    CHECK(read_ds(path, "/analysis/init_distance", init_distance, 4) == 4);
    CHECK(read_ds(path, "/analysis/cka_label", cka_label, 4) == 4);
    CHECK(read_ds(path, "/analysis/gini_embed", gini, 4) == 4);
    for (int k = 0; k < 4; k++) {
        CHECK(rows[k].epoch == (long)epoch[k] && rows[k].epoch == 20L * k);
        CHECK(same(rows[k].test_loss, test_loss[k]) && same(rows[k].llc, llc[k]));
        CHECK(same(rows[k].init_distance, init_distance[k]) && same(rows[k].cka_label, cka_label[k]));
        CHECK(same(rows[k].gini_embed, gini[k]));
    }
    CHECK(rows[0].init_distance == 0 && rows[3].init_distance > 0 && isfinite(rows[3].cka_init));
    grokscope_analysis_row one;
    CHECK(grokscope_run_read_analysis(r, 2, 1, &one) == GROKSCOPE_OK && one.epoch == 40);
    CHECK(grokscope_run_read_analysis(r, 3, 2, rows) == GROKSCOPE_ERR_INVALID);
    CHECK(strstr(grokscope_run_error(r), "the run has 4") != NULL);
    CHECK(grokscope_run_read_analysis(r, -1, 1, rows) == GROKSCOPE_ERR_INVALID);

    long window = -1;
    double stat = 0, spectrum[2];
    CHECK(grokscope_run_loss_spectrum(r, &window, &stat) == GROKSCOPE_OK);
    CHECK(read_ds(path, "/analysis/loss_spectrum", spectrum, 2) == 2);
    /* a window of 0 (the run was shorter than the spectrum's window) reads as none */
    CHECK(window == (long)spectrum[0] && (window == 0 ? isnan(stat) : same(stat, spectrum[1])));
    CHECK(grokscope_run_loss_spectrum(r, NULL, &stat) == GROKSCOPE_ERR_INVALID);
    int keys[1], n_key = 0;
    long at;
    double file_keys[64];
    const long n_file = read_ds(path, "/analysis/key_freqs", file_keys, 64);
    if (n_file > 1) { /* too many for one place */
        CHECK(grokscope_run_key_freqs(r, keys, 1, &n_key, &at) == GROKSCOPE_ERR_INVALID);
        CHECK(n_key == n_file);
    }

    /* the forecast, as a struct and as `grokscope forecast`'s table */
    grokscope_forecast f;
    CHECK(grokscope_run_forecast(r, &f) == GROKSCOPE_OK);
    CHECK(f.n_signals == 8 && f.through == 60 && strcmp(f.sig[0].name, "restricted_loss") == 0);
    CHECK(strcmp(f.sig[7].name, "spectral") == 0);
    FILE *out = tmpfile();
    char text[8192];
    CHECK(out && grokscope_run_print_forecast(r, out) == GROKSCOPE_OK);
    rewind(out);
    text[fread(text, 1, sizeof text - 1, out)] = '\0';
    fclose(out);
    char want[128];
    snprintf(want, sizeof want, "data through epoch %ld;", f.through);
    CHECK(strncmp(text, want, strlen(want)) == 0);
    for (int s = 0; s < f.n_signals; s++) {
        const grokscope_signal *g = &f.sig[s];
        char line[128];
        snprintf(line, sizeof line, "\n%-16s %-6s", g->name,
                 !g->available ? (f.fitted < 0 && s != 7 ? "wait" : "n/a") : g->fired ? "yes" : "no");
        CHECK(strstr(text, line) != NULL);
        CHECK(g->fired ? g->fire_epoch >= 0 : g->fire_epoch == -1);
        CHECK(g->predicted < 0 || (g->lo <= g->predicted && g->predicted <= g->hi));
    }
    grokscope_run_close(r);

    /* a run not analysed: no rows, no keys, no forecast */
    CHECK(grokscope_run_open(unanalysed, &r) == GROKSCOPE_OK);
    CHECK(grokscope_run_n_analyzed(r) == 0);
    CHECK(grokscope_run_key_freqs(r, keys, 1, &n_key, &at) == GROKSCOPE_OK && n_key == -1 && at == -2);
    CHECK(grokscope_run_forecast(r, &f) == GROKSCOPE_ERR_INVALID);
    CHECK(strstr(grokscope_run_error(r), "no analysed checkpoint") != NULL);
    CHECK(grokscope_run_read_analysis(r, 0, 1, rows) == GROKSCOPE_ERR_INVALID);
    CHECK(grokscope_run_loss_spectrum(r, &window, &stat) == GROKSCOPE_OK && window == 0 && isnan(stat));
    grokscope_run_close(r);
}

/* Models and operations without what a reader needs say so. */
static void test_without(const char *onehot, const char *no_basis)
{
    grokscope_run *r;
    grokscope_probe *pr;
    double norm[8];
    CHECK(grokscope_run_open(onehot, &r) == GROKSCOPE_OK);
    CHECK(grokscope_probe_open(r, 1, &pr) == GROKSCOPE_OK);
    CHECK(grokscope_probe_has_embed(pr) == 0 && grokscope_probe_n_freq(pr) == 5);
    CHECK(grokscope_probe_embed_norms(pr, 0, norm, 8) == GROKSCOPE_ERR_INVALID);
    CHECK(strstr(grokscope_probe_error(pr), "no embedding matrix") != NULL);
    grokscope_probe_close(pr);
    grokscope_run_close(r);
    CHECK(grokscope_run_open(no_basis, &r) == GROKSCOPE_OK);
    CHECK(grokscope_probe_open(r, 1, &pr) == GROKSCOPE_OK);
    CHECK(grokscope_probe_n_freq(pr) == 0);
    CHECK(grokscope_probe_embed_norms(pr, 0, norm, 8) == GROKSCOPE_ERR_INVALID);
    grokscope_probe_close(pr);
    grokscope_run_close(r);
}

typedef struct {
    int images;
    char last[4096];
} drawn;

static void on_image(void *ctx, const char *path)
{
    drawn *d = ctx;
    d->images++;
    snprintf(d->last, sizeof d->last, "%s", path);
}

static void test_plot(const char *path, const char *other)
{
    grokscope_plot *pl = grokscope_plot_new();
    CHECK(pl != NULL);
    CHECK(grokscope_plot_set_format(pl, "gif") == GROKSCOPE_ERR_INVALID);
    CHECK(strstr(grokscope_plot_error(pl), "'gif' is not png, svg or pdf") != NULL);
    CHECK(grokscope_plot_set_format(pl, "svg") == GROKSCOPE_OK);
    char plots[4096], missing[4096];
    CHECK(grokscope_plot_draw_run(pl, 0, path_in(plots, "rd_plots")) == GROKSCOPE_ERR_INVALID);
    CHECK(grokscope_plot_load(pl, path_in(missing, "rd_missing.h5")) == GROKSCOPE_ERR_FAILED);
    CHECK(strstr(grokscope_plot_error(pl), "rd_missing.h5") != NULL);
    CHECK(grokscope_plot_load(pl, path) == GROKSCOPE_OK);
    CHECK(grokscope_plot_draw_compare(pl, plots) == GROKSCOPE_ERR_INVALID); /* one run */
    drawn d = {0, ""};
    CHECK(grokscope_plot_set_callbacks(pl, on_image, NULL, &d) == GROKSCOPE_OK);
    if (!grokscope_plot_gnuplot(pl)) {
        /* without gnuplot nothing is drawn, and drawing says why */
        CHECK(grokscope_plot_draw_run(pl, 0, plots) == GROKSCOPE_ERR_FAILED);
        CHECK(strstr(grokscope_plot_error(pl), "gnuplot not found") != NULL);
        fprintf(stderr, "note: gnuplot not found; the figures themselves are not checked\n");
        grokscope_plot_free(pl);
        return;
    }
    CHECK(grokscope_plot_draw_run(pl, 0, plots) == GROKSCOPE_OK);
    CHECK(d.images == 6);
    char want[4096 + 16];
    snprintf(want, sizeof want, "%s/loss.svg", plots);
    struct stat st;
    CHECK(stat(want, &st) == 0 && st.st_size > 0);
    snprintf(want, sizeof want, "%s/loss.gp", plots);
    CHECK(stat(want, &st) == 0 && st.st_size > 0);
    analyse(other);
    CHECK(grokscope_plot_load(pl, other) == GROKSCOPE_OK);
    char cmp[4096];
    CHECK(grokscope_plot_draw_compare(pl, path_in(cmp, "rd_compare")) == GROKSCOPE_OK);
    CHECK(d.images > 6 && strstr(d.last, "rd_compare/compare_") != NULL);
    grokscope_plot_free(pl);
}

/* An IDX file: the big-endian header (magic, counts, sizes), then the bytes. */
static void write_idx(const char *path, int images, int n, const unsigned char *bytes)
{
    FILE *f = fopen(path, "wb");
    CHECK(f != NULL);
    if (!f)
        return;
    const uint32_t head[4] = {images ? 0x803u : 0x801u, (uint32_t)n, 28, 28};
    for (int i = 0; i < (images ? 4 : 2); i++) {
        const unsigned char be[4] = {head[i] >> 24, (head[i] >> 16) & 255, (head[i] >> 8) & 255,
                                     head[i] & 255};
        CHECK(fwrite(be, 1, 4, f) == 4);
    }
    const size_t len = (size_t)n * (images ? 784 : 1);
    CHECK(fwrite(bytes, 1, len, f) == len);
    CHECK(fclose(f) == 0);
}

static void test_images(void)
{
    char d[4096], p[4200];
    path_in(d, "rd_idx");
    mkdir(d, 0777);
    static unsigned char px[3 * 784];
    for (int i = 0; i < 3 * 784; i++)
        px[i] = (unsigned char)(i % 256);
    const unsigned char train_labels[3] = {7, 0, 9}, test_labels[2] = {3, 3};
    snprintf(p, sizeof p, "%s/train-images-idx3-ubyte", d);
    write_idx(p, 1, 3, px);
    snprintf(p, sizeof p, "%s/train-labels-idx1-ubyte", d);
    write_idx(p, 0, 3, train_labels);
    snprintf(p, sizeof p, "%s/t10k-images-idx3-ubyte", d);
    write_idx(p, 1, 2, px + 784);
    snprintf(p, sizeof p, "%s/t10k-labels-idx1-ubyte", d);
    write_idx(p, 0, 2, test_labels);

    grokscope_images *im;
    CHECK(grokscope_images_open(d, 0, 0, &im) == GROKSCOPE_OK);
    int in_file = 0;
    CHECK(grokscope_images_count(im, 0, &in_file) == 3 && in_file == 3);
    CHECK(grokscope_images_count(im, 1, &in_file) == 2 && in_file == 2);
    CHECK(grokscope_images_label(im, 0, 2) == 9 && grokscope_images_label(im, 1, 0) == 3);
    CHECK(grokscope_images_label(im, 0, 3) == -1 && grokscope_images_pixels(im, 1, 2) == NULL);
    const float *x = grokscope_images_pixels(im, 0, 1), *y = grokscope_images_pixels(im, 1, 0);
    CHECK(x && y && x[5] == (float)px[784 + 5] / 255.0f && y[100] == x[100]);
    CHECK(grokscope_images_pixels(im, 0, 2) == x + GROKSCOPE_IMAGE_PIXELS); /* contiguous */
    snprintf(p, sizeof p, "%s/t10k-labels-idx1-ubyte", d);
    CHECK(strcmp(grokscope_images_path(im, 1, 1), p) == 0);
    grokscope_images_close(im);
    CHECK(grokscope_images_open(d, 2, 1, &im) == GROKSCOPE_OK);
    CHECK(grokscope_images_count(im, 0, &in_file) == 2 && in_file == 3);
    grokscope_images_close(im);
    /* more than the file holds, a bad label, a missing file: one line naming it */
    CHECK(grokscope_images_open(d, 4, 0, &im) == GROKSCOPE_ERR_FAILED);
    CHECK(grokscope_images_count(im, 0, NULL) == 0);
    grokscope_images_close(im);
    const unsigned char bad[2] = {3, 10};
    snprintf(p, sizeof p, "%s/t10k-labels-idx1-ubyte", d);
    write_idx(p, 0, 2, bad);
    CHECK(grokscope_images_open(d, 0, 0, &im) == GROKSCOPE_ERR_FAILED);
    CHECK(strstr(grokscope_images_error(im), "t10k-labels-idx1-ubyte") != NULL);
    CHECK(strchr(grokscope_images_error(im), '\n') == NULL);
    grokscope_images_close(im);
    remove(p);
    CHECK(grokscope_images_open(d, 0, 0, &im) == GROKSCOPE_ERR_FAILED);
    CHECK(strstr(grokscope_images_error(im), "t10k-labels") != NULL);
    grokscope_images_close(im);
    CHECK(grokscope_images_open(d, -1, 0, &im) == GROKSCOPE_ERR_INVALID);
    grokscope_images_close(im);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: test_api_readers SCRATCH_DIR\n");
        return 2;
    }
    snprintf(dir, sizeof dir, "%s", argv[1]);
    char run[4096], plain[4096], onehot[4096], no_basis[4096];
    train(path_in(run, "rd_run.h5"), NULL);
    train(path_in(plain, "rd_plain.h5"), "seed", "1", NULL);
    train(path_in(onehot, "rd_onehot.h5"), "model", "mlp", "d_embed", "0", "hidden", "32", "epochs", "3",
          NULL);
    train(path_in(no_basis, "rd_s5.h5"), "op", "s5-compose", "epochs", "2", "every", "1", NULL);
    analyse(run);
    test_ops();
    test_clusters(run);
    test_stored(run, plain);
    test_without(onehot, no_basis);
    test_plot(run, plain);
    test_images();
    return check_report("api-readers");
}
