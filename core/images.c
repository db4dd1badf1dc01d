/* gs_images: the four IDX files of MNIST / Fashion-MNIST into one allocation of pixels
 * in [0, 1] and int32 labels. All four headers are checked before anything is read, so
 * a missing or swapped file is reported at once, not after a 47 MB read. */
#include "images.h"

#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "idx.h"

/* images converted per read: 256 x 784 bytes of scratch */
#define IMAGES_BLOCK 256

typedef struct {
    gs_idx images, labels;
} split_files;

static void split_close(split_files *s)
{
    gs_idx_close(&s->images);
    gs_idx_close(&s->labels);
}

/* Opens one split's images and labels and checks that they belong together. */
static int split_open(split_files *s, const char *dir, const char *images_name, const char *labels_name,
                      gs_err *err)
{
    memset(s, 0, sizeof *s);
    if (gs_idx_open(&s->images, dir, images_name, GS_IDX_IMAGES, err) != 0)
        return -1;
    const gs_idx *im = &s->images, *lb = &s->labels;
    if (im->rows != GS_IMAGES_SIDE || im->cols != GS_IMAGES_SIDE)
        gs_err_set(err, "%s: images of %" PRIu32 "x%" PRIu32 " pixels, expected %dx%d (MNIST and "
                   "Fashion-MNIST)", im->path, im->rows, im->cols, GS_IMAGES_SIDE, GS_IMAGES_SIDE);
    else if (im->count == 0)
        gs_err_set(err, "%s: holds no images (its header says 0)", im->path);
    else if (im->count > INT_MAX)
        gs_err_set(err, "%s: its header announces %" PRIu32 " images, more than the %d grokscope "
                   "reads", im->path, im->count, INT_MAX);
    else if (gs_idx_open(&s->labels, dir, labels_name, GS_IDX_LABELS, err) != 0)
        ;
    else if (lb->count != im->count)
        gs_err_set(err, "%s holds %" PRIu32 " images but %s holds %" PRIu32 " labels: the files do "
                   "not belong together", im->path, im->count, lb->path, lb->count);
    else
        return 0;
    split_close(s);
    return -1;
}

/* Reads the first n images of a split as floats and all its labels, keeping the first
 * n; then reads both files to their end (gs_idx_finish). */
static int split_read(split_files *s, int n, float *pixels, int32_t *labels, gs_err *err)
{
    assert(n >= 0 && (uint32_t)n <= s->images.count);
    unsigned char *buf = malloc((size_t)IMAGES_BLOCK * GS_IMAGES_PIXELS);
    unsigned char *all_labels = malloc(s->labels.count);
    int rc = -1;
    if (!buf || !all_labels) {
        gs_err_set(err, "out of memory reading %s", s->images.path);
        goto out;
    }
    /* byte / 255, correctly rounded: torchvision's ToTensor() (its float64 result
     * rounds to this same float, since x/255 is never near a float's midpoint) */
    for (int i = 0; i < n; i += IMAGES_BLOCK) {
        int k = n - i < IMAGES_BLOCK ? n - i : IMAGES_BLOCK;
        if (gs_idx_read(&s->images, buf, (size_t)k, err) != 0)
            goto out;
        float *dst = pixels + (size_t)i * GS_IMAGES_PIXELS;
        for (size_t j = 0; j < (size_t)k * GS_IMAGES_PIXELS; j++)
            dst[j] = (float)buf[j] / 255.0f;
    }
    if (gs_idx_finish(&s->images, err) != 0)
        goto out;
    if (gs_idx_read(&s->labels, all_labels, s->labels.count, err) != 0 ||
        gs_idx_finish(&s->labels, err) != 0)
        goto out;
    for (uint32_t i = 0; i < s->labels.count; i++)
        if (all_labels[i] >= GS_IMAGES_CLASSES) {
            gs_err_set(err, "%s: label %d at position %" PRIu32 " (counting from 0); labels are 0..%d",
                       s->labels.path, all_labels[i], i, GS_IMAGES_CLASSES - 1);
            goto out;
        }
    for (int i = 0; i < n; i++)
        labels[i] = all_labels[i];
    rc = 0;
out:
    free(buf);
    free(all_labels);
    return rc;
}

/* The count to load: want, or all the file holds when want is 0. */
static int count_to_load(const split_files *s, int want, const char *which, gs_err *err, int *n)
{
    if (want < 0)
        return gs_err_set(err, "the %s size must be 0 (all) or positive, not %d", which, want);
    if ((uint32_t)want > s->images.count)
        return gs_err_set(err, "asked for the first %d %s images, but %s holds only %" PRIu32, want,
                          which, s->images.path, s->images.count);
    *n = want ? want : (int)s->images.count;
    return 0;
}

int gs_images_load(gs_images *im, const char *dir, int train_size, int test_size, gs_err *err)
{
    memset(im, 0, sizeof *im);
    struct stat st;
    if (stat(dir, &st) != 0)
        return gs_err_set(err, "%s: %s", dir, errno == ENOENT ? "no such directory" : strerror(errno));
    if (!S_ISDIR(st.st_mode))
        return gs_err_set(err, "%s: not a directory (give the directory that holds the IDX files)", dir);
    split_files train, test;
    if (split_open(&train, dir, GS_IMAGES_TRAIN_IMAGES, GS_IMAGES_TRAIN_LABELS, err) != 0)
        return -1;
    if (split_open(&test, dir, GS_IMAGES_TEST_IMAGES, GS_IMAGES_TEST_LABELS, err) != 0) {
        split_close(&train);
        return -1;
    }
    int rc = -1;
    if (count_to_load(&train, train_size, "training", err, &im->n_train) != 0 ||
        count_to_load(&test, test_size, "test", err, &im->n_test) != 0)
        goto out;
    im->n_train_file = (int)train.images.count;
    im->n_test_file = (int)test.images.count;
    const size_t n = (size_t)im->n_train + (size_t)im->n_test;
    /* one block: the pixels, then the labels (both 4-byte items, so no padding). In
     * 2 MiB huge pages where the kernel offers them: page faults on 4 KiB pages were
     * two thirds of loading plain files (docs/performance.md). madvise is only a hint,
     * so its failure changes the speed, never the data. */
    const size_t huge = (size_t)2 << 20;
    size_t bytes = n * GS_IMAGES_PIXELS * sizeof(float) + n * sizeof(int32_t);
    bytes = (bytes + huge - 1) / huge * huge;
    im->pixels = aligned_alloc(huge, bytes);
    if (im->pixels)
        (void)madvise(im->pixels, bytes, MADV_HUGEPAGE);
    if (!im->pixels) {
        gs_err_set(err, "out of memory for %zu images of %s", n, dir);
        goto out;
    }
    im->labels = (int32_t *)(im->pixels + n * GS_IMAGES_PIXELS);
    if (split_read(&train, im->n_train, im->pixels, im->labels, err) != 0 ||
        split_read(&test, im->n_test, im->pixels + (size_t)im->n_train * GS_IMAGES_PIXELS,
                   im->labels + im->n_train, err) != 0)
        goto out;
    snprintf(im->train_images, sizeof im->train_images, "%s", train.images.path);
    snprintf(im->train_labels, sizeof im->train_labels, "%s", train.labels.path);
    snprintf(im->test_images, sizeof im->test_images, "%s", test.images.path);
    snprintf(im->test_labels, sizeof im->test_labels, "%s", test.labels.path);
    rc = 0;
out:
    split_close(&train);
    split_close(&test);
    if (rc != 0)
        gs_images_free(im);
    return rc;
}

void gs_images_free(gs_images *im)
{
    free(im->pixels);
    memset(im, 0, sizeof *im);
}
