/* gs_images: the MNIST or Fashion-MNIST image classification data, as Omnigrok's MNIST
 * experiment uses it (docs/tasks.md, "Images: MNIST and Fashion-MNIST").
 *
 * A directory holds the four standard IDX files, each plain or gzipped (core/idx.h):
 *   train-images-idx3-ubyte  train-labels-idx1-ubyte  t10k-images-idx3-ubyte
 *   t10k-labels-idx1-ubyte
 * The loader takes the first train_size training images and the first test_size test
 * images, in file order (Omnigrok: torch.utils.data.Subset(train, range(1000))). A pixel
 * is its byte divided by 255, in [0, 1], with no mean/std normalization: that is
 * torchvision's ToTensor(), which Omnigrok's notebook uses alone. Every file is read to
 * its end and checked, even when only its first images are kept. */
#ifndef GS_IMAGES_H
#define GS_IMAGES_H

#include <stdint.h>

#include "error.h"

#define GS_IMAGES_SIDE 28     /* MNIST and Fashion-MNIST images are 28 x 28 */
#define GS_IMAGES_PIXELS (GS_IMAGES_SIDE * GS_IMAGES_SIDE)
#define GS_IMAGES_CLASSES 10  /* labels 0..9 */

/* The IDX file names, without ".gz" */
#define GS_IMAGES_TRAIN_IMAGES "train-images-idx3-ubyte"
#define GS_IMAGES_TRAIN_LABELS "train-labels-idx1-ubyte"
#define GS_IMAGES_TEST_IMAGES "t10k-images-idx3-ubyte"
#define GS_IMAGES_TEST_LABELS "t10k-labels-idx1-ubyte"

typedef struct {
    int n_train, n_test;           /* images loaded */
    int n_train_file, n_test_file; /* images the files hold (60000 and 10000 for MNIST) */
    /* One allocation: pixels[(n_train + n_test) * GS_IMAGES_PIXELS], the training images
     * first, then the test images, each row-major (pixel (r, c) at r * 28 + c, the order
     * of torch's Flatten), then labels[n_train + n_test] in the same order. */
    float *pixels;
    int32_t *labels;
    /* the files read, as opened (".gz" or not) */
    char train_images[4096], train_labels[4096], test_images[4096], test_labels[4096];
} gs_images;

/* Loads the first train_size training and test_size test images of DIR (0: all the
 * file holds). A count larger than the file holds is an error. 0, or -1 with one line
 * in err naming the file and what is wrong, and nothing allocated. */
int gs_images_load(gs_images *im, const char *dir, int train_size, int test_size, gs_err *err);
void gs_images_free(gs_images *im);

/* Image i of the training set, i of the test set (GS_IMAGES_PIXELS floats each). */
static inline const float *gs_images_train(const gs_images *im, int i)
{
    return im->pixels + (int64_t)i * GS_IMAGES_PIXELS;
}
static inline const float *gs_images_test(const gs_images *im, int i)
{
    return im->pixels + (int64_t)(im->n_train + i) * GS_IMAGES_PIXELS;
}

#endif
