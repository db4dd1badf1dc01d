/* The MNIST / Fashion-MNIST reader (core/idx.h, core/images.h) against Debian's
 * dataset-fashion-mnist files and against broken copies.
 *
 * usage: test_idx ORACLE.py [DATA_DIR]
 *   DATA_DIR (default /usr/share/datasets/fashion-mnist) holds the four .gz files; the
 *   test exits 77 (skip) without them. ORACLE.py (tests/idx_oracle.py) is an
 *   independent reader in plain CPython, run with $GS_TEST_PYTHON (default
 *   /usr/bin/python3): counts, label histograms, the sum of every pixel byte and a few
 *   whole images must agree with it exactly.
 * The broken copies are written to a temporary directory from the real data: truncated
 * images and labels (plain and gzipped), a cut download, wrong magic, swapped files,
 * label 10, counts that disagree, corrupt gzip streams, missing file and directory...
 * each must fail with one line that names the file and what is wrong. */
#define _XOPEN_SOURCE 700
#include <ftw.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

#include "check.h"
#include "images.h"

#define DEFAULT_DATA "/usr/share/datasets/fashion-mnist"
#define SMALL_TRAIN 100
#define SMALL_TEST 50

/* ---- the real files against the oracle ---- */

typedef struct {
    int count, rows, cols;
    long hist[GS_IMAGES_CLASSES];
    long long byte_sum;
    int n_images, label[4];
    unsigned char pixels[4][GS_IMAGES_PIXELS];
} oracle_out;

/* Runs the oracle on one split; 0 on success. */
static int run_oracle(const char *python, const char *script, const char *dir, const char *split, int n,
                      const int *idx, int n_idx, oracle_out *o)
{
    char cmd[8192];
    int len = snprintf(cmd, sizeof cmd, "'%s' '%s' '%s' %s %d", python, script, dir, split, n);
    for (int i = 0; i < n_idx; i++)
        len += snprintf(cmd + len, sizeof cmd - (size_t)len, " %d", idx[i]);
    FILE *p = popen(cmd, "r");
    if (!p)
        return -1;
    int ok = fscanf(p, "%d %d %d", &o->count, &o->rows, &o->cols) == 3;
    for (int k = 0; k < GS_IMAGES_CLASSES; k++)
        ok = ok && fscanf(p, "%ld", &o->hist[k]) == 1;
    ok = ok && fscanf(p, "%lld", &o->byte_sum) == 1;
    for (int i = 0; i < n_idx && ok; i++) {
        ok = fscanf(p, "%d", &o->label[i]) == 1;
        for (int j = 0; j < GS_IMAGES_PIXELS && ok; j++) {
            int b;
            ok = fscanf(p, "%d", &b) == 1;
            o->pixels[i][j] = (unsigned char)b;
        }
    }
    o->n_images = n_idx;
    int status = pclose(p);
    return ok && status == 0 ? 0 : -1;
}

/* The loaded split (base: its first image; n: its images) against the oracle. */
static void compare_split(const float *base, const int32_t *labels, int n, const oracle_out *o,
                          const int *idx)
{
    CHECK(o->rows == GS_IMAGES_SIDE && o->cols == GS_IMAGES_SIDE);
    long hist[GS_IMAGES_CLASSES] = {0};
    for (int i = 0; i < n; i++)
        if (labels[i] >= 0 && labels[i] < GS_IMAGES_CLASSES)
            hist[labels[i]]++;
    for (int k = 0; k < GS_IMAGES_CLASSES; k++)
        CHECK(hist[k] == o->hist[k]);
    /* every pixel: in [0, 1] and an exact byte / 255 whose bytes sum as the oracle's */
    long long sum = 0;
    long off_grid = 0;
    for (size_t j = 0; j < (size_t)n * GS_IMAGES_PIXELS; j++) {
        long b = lrintf(base[j] * 255.0f);
        off_grid += !(b >= 0 && b <= 255 && base[j] == (float)((double)b / 255.0));
        sum += b;
    }
    CHECK(off_grid == 0);
    CHECK(sum == o->byte_sum);
    for (int i = 0; i < o->n_images; i++) {
        CHECK(labels[idx[i]] == o->label[i]);
        int same = 1;
        for (int j = 0; j < GS_IMAGES_PIXELS; j++)
            same &= base[(size_t)idx[i] * GS_IMAGES_PIXELS + j] == (float)(o->pixels[i][j] / 255.0);
        CHECK(same);
    }
}

static int real_data(const char *dir, const char *python, const char *script)
{
    gs_images all, some;
    gs_err err = {0};
    CHECK(gs_images_load(&all, dir, 0, 0, &err) == 0);
    if (!all.pixels) {
        fprintf(stderr, "load %s: %s\n", dir, err.msg);
        return 0;
    }
    CHECK(all.n_train == 60000 && all.n_test == 10000);
    CHECK(all.n_train_file == 60000 && all.n_test_file == 10000);
    CHECK(strstr(all.train_images, "/train-images-idx3-ubyte.gz") != NULL);
    CHECK(strstr(all.test_labels, "/t10k-labels-idx1-ubyte.gz") != NULL);
    /* the first N are a prefix of the whole set, for both splits */
    CHECK(gs_images_load(&some, dir, 1000, 500, &err) == 0);
    CHECK(some.n_train == 1000 && some.n_test == 500);
    CHECK(some.pixels && memcmp(some.pixels, all.pixels, 1000 * GS_IMAGES_PIXELS * sizeof(float)) == 0);
    CHECK(some.pixels && memcmp(gs_images_test(&some, 0), gs_images_test(&all, 0),
                                500 * GS_IMAGES_PIXELS * sizeof(float)) == 0);
    CHECK(some.pixels && memcmp(some.labels, all.labels, 1000 * sizeof(int32_t)) == 0);
    CHECK(some.pixels && memcmp(some.labels + 1000, all.labels + 60000, 500 * sizeof(int32_t)) == 0);
    gs_images_free(&some);
    CHECK(some.pixels == NULL);

    /* with a working python, the oracle must run; without one, the test skips */
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "'%s' -c 'import gzip, struct' 2>/dev/null", python);
    if (system(cmd) != 0) {
        gs_images_free(&all);
        return 0;
    }
    int ran = 0;
    oracle_out o;
    const int train_idx[4] = {0, 1, 999, 59999}, test_idx[3] = {0, 4321, 9999};
    if (run_oracle(python, script, dir, "train", 60000, train_idx, 4, &o) == 0) {
        CHECK(o.count == 60000);
        compare_split(all.pixels, all.labels, 60000, &o, train_idx);
        ran++;
    } else {
        CHECK(!"the oracle failed on the training files");
    }
    if (run_oracle(python, script, dir, "t10k", 10000, test_idx, 3, &o) == 0) {
        CHECK(o.count == 10000);
        compare_split(gs_images_test(&all, 0), all.labels + 60000, 10000, &o, test_idx);
        ran++;
    } else {
        CHECK(!"the oracle failed on the test files");
    }
    gs_images_free(&all);
    return ran == 2;
}

/* ---- broken copies ---- */

static char tmp_root[1024];
/* the first images and labels of the real data, as bytes: the source of every copy */
static unsigned char train_px[SMALL_TRAIN * GS_IMAGES_PIXELS], test_px[SMALL_TEST * GS_IMAGES_PIXELS];
static unsigned char train_lb[SMALL_TRAIN], test_lb[SMALL_TEST];

static void put_be32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24), p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8), p[3] = (unsigned char)v;
}

/* An IDX file in memory: header (images if rows > 0, else labels) then data. */
static size_t make_idx(unsigned char *out, uint32_t magic, uint32_t count, uint32_t rows, uint32_t cols,
                       const unsigned char *data, size_t n_data)
{
    size_t h = 0;
    put_be32(out + h, magic), h += 4;
    put_be32(out + h, count), h += 4;
    if (rows) {
        put_be32(out + h, rows), h += 4;
        put_be32(out + h, cols), h += 4;
    }
    memcpy(out + h, data, n_data);
    return h + n_data;
}

static void write_plain(const char *path, const void *buf, size_t n)
{
    FILE *f = fopen(path, "wb");
    CHECK(f != NULL);
    if (f) {
        CHECK(fwrite(buf, 1, n, f) == n);
        CHECK(fclose(f) == 0);
    }
}

static void write_gz(const char *path, const void *buf, size_t n)
{
    gzFile g = gzopen(path, "wb");
    CHECK(g != NULL);
    if (g) {
        CHECK(n == 0 || gzwrite(g, buf, (unsigned)n) == (int)n);
        CHECK(gzclose(g) == Z_OK);
    }
}

static unsigned char *read_whole(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    unsigned char *buf = NULL;
    *n = 0;
    if (f && fseek(f, 0, SEEK_END) == 0) {
        long len = ftell(f);
        buf = len > 0 ? malloc((size_t)len) : NULL;
        if (buf && (fseek(f, 0, SEEK_SET) != 0 || fread(buf, 1, (size_t)len, f) != (size_t)len)) {
            free(buf);
            buf = NULL;
        }
        *n = buf ? (size_t)len : 0;
    }
    if (f)
        fclose(f);
    CHECK(buf != NULL);
    return buf;
}

/* A fresh directory tmp_root/NAME with the four small valid files, gzipped or not. */
static const char *make_set(const char *name, int gz, char *dir, size_t size)
{
    static unsigned char buf[16 + SMALL_TRAIN * GS_IMAGES_PIXELS];
    snprintf(dir, size, "%s/%s", tmp_root, name);
    CHECK(mkdir(dir, 0755) == 0);
    void (*put)(const char *, const void *, size_t) = gz ? write_gz : write_plain;
    const char *ext = gz ? ".gz" : "";
    char path[4200];
    snprintf(path, sizeof path, "%s/" GS_IMAGES_TRAIN_IMAGES "%s", dir, ext);
    put(path, buf, make_idx(buf, 0x803, SMALL_TRAIN, 28, 28, train_px, sizeof train_px));
    snprintf(path, sizeof path, "%s/" GS_IMAGES_TRAIN_LABELS "%s", dir, ext);
    put(path, buf, make_idx(buf, 0x801, SMALL_TRAIN, 0, 0, train_lb, sizeof train_lb));
    snprintf(path, sizeof path, "%s/" GS_IMAGES_TEST_IMAGES "%s", dir, ext);
    put(path, buf, make_idx(buf, 0x803, SMALL_TEST, 28, 28, test_px, sizeof test_px));
    snprintf(path, sizeof path, "%s/" GS_IMAGES_TEST_LABELS "%s", dir, ext);
    put(path, buf, make_idx(buf, 0x801, SMALL_TEST, 0, 0, test_lb, sizeof test_lb));
    return dir;
}

/* Loading dir must fail with one line that contains `file` (a path under dir, or
 * dir itself when file is "") and every one of the words. */
static void expect_error(const char *what, const char *dir, const char *file, const char *word1,
                         const char *word2)
{
    gs_images im;
    gs_err err = {0};
    char path[4300];
    snprintf(path, sizeof path, "%s%s%s", dir, *file ? "/" : "", file);
    int rc = gs_images_load(&im, dir, 0, 0, &err);
    int ok = rc == -1 && im.pixels == NULL && strchr(err.msg, '\n') == NULL && strstr(err.msg, path) &&
             strstr(err.msg, word1) && (!word2 || strstr(err.msg, word2));
    CHECK(ok);
    if (!ok)
        fprintf(stderr, "  %s: rc %d, message \"%s\"; wanted \"%s\", \"%s\", \"%s\"\n", what, rc,
                rc ? err.msg : "(none)", path, word1, word2 ? word2 : "");
    else
        printf("  %-28s %s\n", what, err.msg);
    if (rc == 0)
        gs_images_free(&im);
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

static void broken_copies(const char *real_dir)
{
    gs_images src;
    gs_err err = {0};
    CHECK(gs_images_load(&src, real_dir, SMALL_TRAIN, SMALL_TEST, &err) == 0);
    if (!src.pixels)
        return;
    for (int j = 0; j < SMALL_TRAIN * GS_IMAGES_PIXELS; j++)
        train_px[j] = (unsigned char)lrintf(src.pixels[j] * 255.0f);
    for (int j = 0; j < SMALL_TEST * GS_IMAGES_PIXELS; j++)
        test_px[j] = (unsigned char)lrintf(gs_images_test(&src, 0)[j] * 255.0f);
    for (int i = 0; i < SMALL_TRAIN; i++)
        train_lb[i] = (unsigned char)src.labels[i];
    for (int i = 0; i < SMALL_TEST; i++)
        test_lb[i] = (unsigned char)src.labels[SMALL_TRAIN + i];
    gs_images_free(&src);

    char dir[4096], path[4200];
    static unsigned char buf[16 + SMALL_TRAIN * GS_IMAGES_PIXELS + 64];
    /* the valid copies load, plain and gzipped, with the same numbers */
    for (int gz = 0; gz <= 1; gz++) {
        gs_images im;
        make_set(gz ? "valid-gz" : "valid", gz, dir, sizeof dir);
        CHECK(gs_images_load(&im, dir, 0, 0, &err) == 0);
        CHECK(im.n_train == SMALL_TRAIN && im.n_test == SMALL_TEST);
        CHECK(im.pixels && im.pixels[500] == (float)(train_px[500] / 255.0) &&
              gs_images_test(&im, 1)[400] == (float)(test_px[GS_IMAGES_PIXELS + 400] / 255.0) &&
              im.labels[SMALL_TRAIN - 1] == train_lb[SMALL_TRAIN - 1] &&
              im.labels[SMALL_TRAIN + 3] == test_lb[3]);
        CHECK(strstr(im.test_images, gz ? "idx3-ubyte.gz" : "idx3-ubyte") != NULL);
        gs_images_free(&im);
    }

    make_set("trunc-images", 0, dir, sizeof dir);
    snprintf(path, sizeof path, "%s/" GS_IMAGES_TRAIN_IMAGES, dir);
    write_plain(path, buf, make_idx(buf, 0x803, SMALL_TRAIN, 28, 28, train_px, sizeof train_px) - 1000);
    expect_error("truncated images", dir, GS_IMAGES_TRAIN_IMAGES, "truncated", "100 images of 28x28");

    make_set("trunc-images-gz", 1, dir, sizeof dir);
    snprintf(path, sizeof path, "%s/" GS_IMAGES_TEST_IMAGES ".gz", dir);
    write_gz(path, buf, make_idx(buf, 0x803, SMALL_TEST, 28, 28, test_px, sizeof test_px) - 784);
    expect_error("truncated images (gz)", dir, GS_IMAGES_TEST_IMAGES ".gz", "truncated", "uncompressed");

    make_set("trunc-labels", 0, dir, sizeof dir);
    snprintf(path, sizeof path, "%s/" GS_IMAGES_TRAIN_LABELS, dir);
    write_plain(path, buf, make_idx(buf, 0x801, SMALL_TRAIN, 0, 0, train_lb, sizeof train_lb) - 1);
    expect_error("truncated labels", dir, GS_IMAGES_TRAIN_LABELS, "truncated", "100 labels");

    make_set("trunc-header", 0, dir, sizeof dir);
    snprintf(path, sizeof path, "%s/" GS_IMAGES_TEST_LABELS, dir);
    write_plain(path, buf, make_idx(buf, 0x801, SMALL_TEST, 0, 0, test_lb, 0) - 2);
    expect_error("truncated header", dir, GS_IMAGES_TEST_LABELS, "truncated", "8-byte IDX header");

    make_set("empty", 0, dir, sizeof dir);
    snprintf(path, sizeof path, "%s/" GS_IMAGES_TRAIN_IMAGES, dir);
    write_plain(path, buf, 0);
    expect_error("empty file", dir, GS_IMAGES_TRAIN_IMAGES, "empty file", NULL);
    make_set("empty-gz", 1, dir, sizeof dir);
    snprintf(path, sizeof path, "%s/" GS_IMAGES_TRAIN_LABELS ".gz", dir);
    write_plain(path, buf, 0);
    expect_error("empty .gz file", dir, GS_IMAGES_TRAIN_LABELS ".gz", "empty file", NULL);

    make_set("longer", 0, dir, sizeof dir);
    snprintf(path, sizeof path, "%s/" GS_IMAGES_TRAIN_LABELS, dir);
    unsigned char long_lb[SMALL_TRAIN + 5] = {0};
    memcpy(long_lb, train_lb, sizeof train_lb);
    write_plain(path, buf, make_idx(buf, 0x801, SMALL_TRAIN, 0, 0, long_lb, sizeof long_lb));
    expect_error("data after the end", dir, GS_IMAGES_TRAIN_LABELS, "longer than its header", NULL);

    make_set("wrong-magic", 0, dir, sizeof dir);
    snprintf(path, sizeof path, "%s/" GS_IMAGES_TRAIN_IMAGES, dir);
    write_plain(path, buf, make_idx(buf, 0x80b03, SMALL_TRAIN, 28, 28, train_px, sizeof train_px));
    expect_error("wrong magic", dir, GS_IMAGES_TRAIN_IMAGES, "not an IDX file", "magic 0x00080b03");

    make_set("float-idx", 0, dir, sizeof dir);
    snprintf(path, sizeof path, "%s/" GS_IMAGES_TRAIN_IMAGES, dir);
    write_plain(path, buf, make_idx(buf, 0xd03, SMALL_TRAIN, 28, 28, train_px, sizeof train_px));
    expect_error("IDX of floats", dir, GS_IMAGES_TRAIN_IMAGES, "type 0x0d", "magic 0x00000d03");

    make_set("text", 0, dir, sizeof dir);
    snprintf(path, sizeof path, "%s/" GS_IMAGES_TEST_IMAGES, dir);
    write_plain(path, "<html>404 Not Found</html>\n", 27);
    expect_error("an HTML page", dir, GS_IMAGES_TEST_IMAGES, "not an IDX file", NULL);

    /* swapped: the labels under the images' name (and the reverse) */
    make_set("swapped", 1, dir, sizeof dir);
    snprintf(path, sizeof path, "%s/" GS_IMAGES_TRAIN_IMAGES ".gz", dir);
    write_gz(path, buf, make_idx(buf, 0x801, SMALL_TRAIN, 0, 0, train_lb, sizeof train_lb));
    snprintf(path, sizeof path, "%s/" GS_IMAGES_TRAIN_LABELS ".gz", dir);
    write_gz(path, buf, make_idx(buf, 0x803, SMALL_TRAIN, 28, 28, train_px, sizeof train_px));
    expect_error("swapped files", dir, GS_IMAGES_TRAIN_IMAGES ".gz", "an IDX labels file where the images",
                 "swapped");
    make_set("swapped-labels", 0, dir, sizeof dir);
    snprintf(path, sizeof path, "%s/" GS_IMAGES_TEST_LABELS, dir);
    write_plain(path, buf, make_idx(buf, 0x803, SMALL_TEST, 28, 28, test_px, sizeof test_px));
    expect_error("images as labels", dir, GS_IMAGES_TEST_LABELS, "an IDX images file where the labels",
                 "swapped");

    make_set("label-10", 1, dir, sizeof dir);
    unsigned char bad_lb[SMALL_TRAIN];
    memcpy(bad_lb, train_lb, sizeof bad_lb);
    bad_lb[7] = 10;
    snprintf(path, sizeof path, "%s/" GS_IMAGES_TRAIN_LABELS ".gz", dir);
    write_gz(path, buf, make_idx(buf, 0x801, SMALL_TRAIN, 0, 0, bad_lb, sizeof bad_lb));
    expect_error("label 10", dir, GS_IMAGES_TRAIN_LABELS ".gz", "label 10 at position 7", "0..9");

    make_set("counts", 0, dir, sizeof dir);
    snprintf(path, sizeof path, "%s/" GS_IMAGES_TRAIN_LABELS, dir);
    write_plain(path, buf, make_idx(buf, 0x801, SMALL_TRAIN - 1, 0, 0, train_lb, SMALL_TRAIN - 1));
    expect_error("counts disagree", dir, GS_IMAGES_TRAIN_LABELS, "holds 99 labels", "holds 100 images");

    make_set("size-32", 0, dir, sizeof dir);
    snprintf(path, sizeof path, "%s/" GS_IMAGES_TEST_IMAGES, dir);
    write_plain(path, buf, make_idx(buf, 0x803, 12, 32, 32, test_px, 12 * 32 * 32));
    expect_error("32x32 images", dir, GS_IMAGES_TEST_IMAGES, "images of 32x32 pixels", "expected 28x28");

    /* corrupt gzip streams: bytes changed inside the deflate data, and only the CRC */
    size_t n = 0;
    make_set("corrupt-gz", 1, dir, sizeof dir);
    snprintf(path, sizeof path, "%s/" GS_IMAGES_TRAIN_IMAGES ".gz", dir);
    unsigned char *gzbytes = read_whole(path, &n);
    if (gzbytes) {
        for (size_t k = n / 3; k < n / 3 + 16; k++)
            gzbytes[k] ^= 0x5a;
        write_plain(path, gzbytes, n);
        expect_error("corrupt gzip data", dir, GS_IMAGES_TRAIN_IMAGES ".gz", "corrupt gzip stream", NULL);
        for (size_t k = n / 3; k < n / 3 + 16; k++)
            gzbytes[k] ^= 0x5a;
        gzbytes[n - 8] ^= 1; /* the trailer: CRC-32, then the length */
        write_plain(path, gzbytes, n);
        expect_error("corrupt gzip CRC", dir, GS_IMAGES_TRAIN_IMAGES ".gz", "corrupt gzip stream",
                     "incorrect data check");
        gzbytes[n - 8] ^= 1;
        write_plain(path, gzbytes, n - 3);
        expect_error("gzip trailer cut", dir, GS_IMAGES_TRAIN_IMAGES ".gz", "truncated", "trailer");
        free(gzbytes);
    }
    /* a real interrupted download: the test images' .gz cut in half, beside the real
     * test labels */
    make_set("cut-download", 1, dir, sizeof dir);
    snprintf(path, sizeof path, "%s/" GS_IMAGES_TEST_LABELS ".gz", real_dir);
    gzbytes = read_whole(path, &n);
    if (gzbytes) {
        snprintf(path, sizeof path, "%s/" GS_IMAGES_TEST_LABELS ".gz", dir);
        write_plain(path, gzbytes, n);
        free(gzbytes);
    }
    snprintf(path, sizeof path, "%s/" GS_IMAGES_TEST_IMAGES ".gz", real_dir);
    gzbytes = read_whole(path, &n);
    if (gzbytes) {
        snprintf(path, sizeof path, "%s/" GS_IMAGES_TEST_IMAGES ".gz", dir);
        write_plain(path, gzbytes, n / 2);
        expect_error("cut download (real .gz)", dir, GS_IMAGES_TEST_IMAGES ".gz", "truncated",
                     "10000 images of 28x28 (7840016 bytes uncompressed)");
        free(gzbytes);
    }
    make_set("not-gz", 0, dir, sizeof dir);
    snprintf(path, sizeof path, "%s/" GS_IMAGES_TEST_LABELS, dir);
    char path_gz[4300];
    snprintf(path_gz, sizeof path_gz, "%s.gz", path);
    CHECK(rename(path, path_gz) == 0);
    expect_error(".gz name, plain file", dir, GS_IMAGES_TEST_LABELS ".gz", "not a gzip stream", NULL);

    make_set("missing-file", 1, dir, sizeof dir);
    snprintf(path, sizeof path, "%s/" GS_IMAGES_TEST_LABELS ".gz", dir);
    CHECK(remove(path) == 0);
    expect_error("missing file", dir, "", "no " GS_IMAGES_TEST_LABELS " or " GS_IMAGES_TEST_LABELS ".gz",
                 NULL);
    snprintf(dir, sizeof dir, "%s/no-such-dir", tmp_root);
    expect_error("missing directory", dir, "", "no such directory", NULL);
    make_set("a-file", 0, dir, sizeof dir);
    snprintf(path, sizeof path, "%s/" GS_IMAGES_TRAIN_IMAGES, dir);
    expect_error("a file as the directory", path, "", "not a directory", NULL);

    /* more images asked for than the file holds; negative counts */
    gs_images im;
    make_set("too-many", 0, dir, sizeof dir);
    CHECK(gs_images_load(&im, dir, SMALL_TRAIN + 1, 0, &err) == -1 && im.pixels == NULL &&
          strstr(err.msg, "asked for the first 101 training images") && strstr(err.msg, "holds only 100"));
    CHECK(gs_images_load(&im, dir, 0, SMALL_TEST + 1, &err) == -1 && strstr(err.msg, "51 test images"));
    CHECK(gs_images_load(&im, dir, -1, 0, &err) == -1 && strstr(err.msg, "not -1"));
    CHECK(gs_images_load(&im, dir, SMALL_TRAIN, SMALL_TEST, &err) == 0 && im.n_train == SMALL_TRAIN);
    gs_images_free(&im);
}

int main(int argc, char **argv)
{
    const char *script = argc > 1 ? argv[1] : NULL;
    const char *dir = argc > 2 ? argv[2] : DEFAULT_DATA;
    const char *python = getenv("GS_TEST_PYTHON") ? getenv("GS_TEST_PYTHON") : "/usr/bin/python3";
    char probe[4200];
    snprintf(probe, sizeof probe, "%s/" GS_IMAGES_TRAIN_IMAGES ".gz", dir);
    struct stat st;
    if (stat(probe, &st) != 0) {
        printf("SKIP: %s not found (Debian's dataset-fashion-mnist package; setup.sh installs it)\n", probe);
        return 77;
    }
    const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    snprintf(tmp_root, sizeof tmp_root, "%s/gs-test-idx-XXXXXX", tmp);
    if (!mkdtemp(tmp_root)) {
        perror("mkdtemp");
        return 1;
    }
    int oracle_ran = script && real_data(dir, python, script);
    broken_copies(dir);
    CHECK(nftw(tmp_root, rm_entry, 16, FTW_DEPTH | FTW_PHYS) == 0);
    int rc = check_report("idx");
    if (rc == 0 && !oracle_ran) {
        printf("SKIP: the oracle (%s %s) did not run\n", python, script ? script : "(none given)");
        return 77;
    }
    return rc;
}
