/* grokscope_images: the MNIST / Fashion-MNIST IDX files of a directory, read and
 * checked as training reads them (core/images.h); what `grokscope data check` reports. */
#include "gsl_internal.h"

#include <stdlib.h>

#include "images.h"

_Static_assert(GROKSCOPE_IMAGE_SIDE == GS_IMAGES_SIDE, "the public image side is the loader's");
_Static_assert(GROKSCOPE_IMAGE_CLASSES == GS_IMAGES_CLASSES, "the public class count is the loader's");

struct grokscope_images {
    gs_images im;
    int loaded;
    char err[sizeof ((gs_err *)0)->msg];
};

int grokscope_images_open(const char *dir, int train_size, int test_size, grokscope_images **out)
{
    grokscope_images *im = calloc(1, sizeof *im);
    *out = im;
    if (!im)
        return GROKSCOPE_ERR_NOMEM;
    if (!dir)
        return GSL_SET(im, GROKSCOPE_ERR_INVALID, "no directory");
    if (train_size < 0 || test_size < 0)
        return GSL_SET(im, GROKSCOPE_ERR_INVALID, "image counts %d, %d: negative", train_size,
                       test_size);
    gsl_init();
    gs_err err = {0};
    if (gs_images_load(&im->im, dir, train_size, test_size, &err) != 0)
        return GSL_SET(im, GROKSCOPE_ERR_FAILED, "%s", err.msg);
    im->loaded = 1;
    return GROKSCOPE_OK;
}

const char *grokscope_images_error(const grokscope_images *im)
{
    return im->err;
}

void grokscope_images_close(grokscope_images *im)
{
    if (!im)
        return;
    if (im->loaded)
        gs_images_free(&im->im);
    free(im);
}

int grokscope_images_count(const grokscope_images *im, int test, int *in_file)
{
    if (!im->loaded) {
        if (in_file)
            *in_file = 0;
        return 0;
    }
    if (in_file)
        *in_file = test ? im->im.n_test_file : im->im.n_train_file;
    return test ? im->im.n_test : im->im.n_train;
}

const char *grokscope_images_path(const grokscope_images *im, int test, int labels)
{
    if (!im->loaded)
        return "";
    if (test)
        return labels ? im->im.test_labels : im->im.test_images;
    return labels ? im->im.train_labels : im->im.train_images;
}

const float *grokscope_images_pixels(const grokscope_images *im, int test, int i)
{
    if (i < 0 || i >= grokscope_images_count(im, test, NULL))
        return NULL;
    return test ? gs_images_test(&im->im, i) : gs_images_train(&im->im, i);
}

int grokscope_images_label(const grokscope_images *im, int test, int i)
{
    if (i < 0 || i >= grokscope_images_count(im, test, NULL))
        return -1;
    return im->im.labels[(test ? im->im.n_train : 0) + i];
}
