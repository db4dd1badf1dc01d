/* grokscope data check: reads an MNIST / Fashion-MNIST directory as training would
 * (grokscope_images) and reports what it holds, so a user can check a download before
 * a run. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "grokscope.h"
#include "opts.h"

static const char data_usage[] =
    "usage: grokscope data check DIR [--train-size N] [--test-size M] [--show I]\n"
    "\n"
    "Reads the four IDX files of MNIST or Fashion-MNIST in DIR (train-images-idx3-ubyte,\n"
    "train-labels-idx1-ubyte, t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte, each plain\n"
    "or .gz) as `train --task mnist --data DIR` will, checks every byte (headers, 28x28,\n"
    "counts, labels 0..9, file lengths, gzip checksums) and prints, for the training and\n"
    "the test images, the files read, the count, the mean pixel and the label histogram.\n"
    "A broken file is one error line naming it, and exit status 2.\n"
    "\n"
    "  --train-size N  report the first N training images only, as --train-size of a run\n"
    "                  takes them (default: all); the files are still checked in full\n"
    "  --test-size M   the same for the test images\n"
    "  --show I        also draw training image I (from 0) in characters, with its label\n"
    "\n"
    "Debian's dataset-fashion-mnist package puts Fashion-MNIST in\n"
    "/usr/share/datasets/fashion-mnist.\n";

/* Mean pixel of n images, in [0, 1]: tells MNIST (about 0.13) from Fashion-MNIST (0.29). */
static double mean_pixel(const float *pixels, int n)
{
    double s = 0;
    for (size_t j = 0; j < (size_t)n * GROKSCOPE_IMAGE_PIXELS; j++)
        s += pixels[j];
    return n > 0 ? s / ((double)n * GROKSCOPE_IMAGE_PIXELS) : 0;
}

/* The training (test = 0) or test images kept: count, files, mean pixel, labels. */
static void report_split(const char *name, const grokscope_images *im, int test)
{
    int n_file;
    const int n = grokscope_images_count(im, test, &n_file);
    long hist[GROKSCOPE_IMAGE_CLASSES] = {0};
    for (int i = 0; i < n; i++)
        hist[grokscope_images_label(im, test, i)]++;
    printf("%-10s %d images of %dx%d", name, n, GROKSCOPE_IMAGE_SIDE, GROKSCOPE_IMAGE_SIDE);
    if (n < n_file)
        printf(" (the first %d of the %d in the file)", n, n_file);
    /* the images are contiguous: image 0's pixels start them all */
    printf(", mean pixel %.4f\n", mean_pixel(grokscope_images_pixels(im, test, 0), n));
    printf("%-10s %s\n%-10s %s\n", "", grokscope_images_path(im, test, 0), "",
           grokscope_images_path(im, test, 1));
    printf("%-10s label", "");
    for (int k = 0; k < GROKSCOPE_IMAGE_CLASSES; k++)
        printf(" %6d", k);
    printf("\n%-10s count", "");
    for (int k = 0; k < GROKSCOPE_IMAGE_CLASSES; k++)
        printf(" %6ld", hist[k]);
    printf("\n");
}

/* The image as text, darkest to brightest: " .:-=+*#%@". */
static void show_image(const float *px, int index, int label)
{
    static const char ramp[] = " .:-=+*#%@";
    printf("training image %d, label %d:\n", index, label);
    for (int r = 0; r < GROKSCOPE_IMAGE_SIDE; r++) {
        char line[2 * GROKSCOPE_IMAGE_SIDE + 1];
        for (int c = 0; c < GROKSCOPE_IMAGE_SIDE; c++) {
            int level = (int)lrintf(px[r * GROKSCOPE_IMAGE_SIDE + c] * (float)(sizeof ramp - 2));
            line[2 * c] = line[2 * c + 1] = ramp[level]; /* two characters: a square-ish pixel */
        }
        line[2 * GROKSCOPE_IMAGE_SIDE] = '\0';
        printf("  |%s|\n", line);
    }
}

static int any_gzip(const grokscope_images *im)
{
    for (int i = 0; i < 4; i++) {
        const char *path = grokscope_images_path(im, i / 2, i % 2);
        size_t n = strlen(path);
        if (n > 3 && strcmp(path + n - 3, ".gz") == 0)
            return 1;
    }
    return 0;
}

static int data_check(int argc, char **argv)
{
    gs_cli_err err;
    const char *dir = NULL;
    long train_size = 0, test_size = 0, show = -1;
    for (int i = 1; i < argc; i++) {
        const char *val;
        int r;
        if ((r = gs_opt_value(argv, argc, &i, "--train-size", &val, err.msg)) != 0) {
            if (r < 0 || gs_parse_long("--train-size", val, 1, 1000000000L, &train_size, err.msg) != 0)
                return gs_fail("data check", err.msg);
        } else if ((r = gs_opt_value(argv, argc, &i, "--test-size", &val, err.msg)) != 0) {
            if (r < 0 || gs_parse_long("--test-size", val, 1, 1000000000L, &test_size, err.msg) != 0)
                return gs_fail("data check", err.msg);
        } else if ((r = gs_opt_value(argv, argc, &i, "--show", &val, err.msg)) != 0) {
            if (r < 0 || gs_parse_long("--show", val, 0, 1000000000L, &show, err.msg) != 0)
                return gs_fail("data check", err.msg);
        } else if (argv[i][0] != '-' && !dir) {
            dir = argv[i];
        } else {
            gs_cli_set(err.msg, "unexpected argument '%s' (see grokscope data --help)", argv[i]);
            return gs_fail("data check", err.msg);
        }
    }
    if (!dir) {
        gs_cli_set(err.msg, "expected a directory (usage: grokscope data check DIR)");
        return gs_fail("data check", err.msg);
    }
    grokscope_images *im;
    if (grokscope_images_open(dir, (int)train_size, (int)test_size, &im) != GROKSCOPE_OK) {
        gs_cli_set(err.msg, "%s", im ? grokscope_images_error(im) : "out of memory");
        grokscope_images_close(im);
        return gs_fail("data check", err.msg);
    }
    const int n_train = grokscope_images_count(im, 0, NULL);
    if (show >= n_train) {
        gs_cli_set(err.msg, "--show %ld: there are %d training images (0..%d)", show, n_train,
                   n_train - 1);
        grokscope_images_close(im);
        return gs_fail("data check", err.msg);
    }
    printf("%-10s %s\n", "data", dir);
    report_split("train", im, 0);
    report_split("test", im, 1);
    printf("%-10s all four files to their end: headers, 28x28, counts, labels 0..9, lengths%s\n",
           "checked", any_gzip(im) ? ", gzip checksums" : "");
    printf("%-10s mean pixel of the training images: MNIST 0.1307, Fashion-MNIST 0.2860\n", "hint");
    if (show >= 0)
        show_image(grokscope_images_pixels(im, 0, (int)show), (int)show,
                   grokscope_images_label(im, 0, (int)show));
    grokscope_images_close(im);
    return 0;
}

int gs_cmd_data(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
        fputs(data_usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? GS_EXIT_USAGE : 0;
    }
    if (strcmp(argv[1], "check") != 0) {
        gs_cli_err err;
        gs_cli_set(err.msg, "unknown subcommand '%s' (the one there is: check)", argv[1]);
        return gs_fail("data", err.msg);
    }
    if (gs_wants_help(argc - 1, argv + 1)) {
        fputs(data_usage, stdout);
        return 0;
    }
    return data_check(argc - 1, argv + 1);
}
