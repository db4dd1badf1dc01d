/* gs_idx: one IDX file (the format of LeCun's MNIST and of Fashion-MNIST), plain or
 * gzip-compressed, read as a checked stream of fixed-size items.
 *
 * An IDX file is a big-endian header, then the items, one unsigned byte per value:
 *   images: magic 0x00000803, count, rows, cols, then count * rows * cols pixels
 *   labels: magic 0x00000801, count, then count labels
 * Every read is checked: the magic, the header's length, that the data ends exactly
 * where the header says, and (for .gz) zlib's stream and checksum. Each failure is one
 * gs_err line that names the file and what is wrong with it. */
#ifndef GS_IDX_H
#define GS_IDX_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

#define GS_IDX_MAGIC_IMAGES 0x00000803u /* type 0x08 (unsigned byte), 3 dimensions */
#define GS_IDX_MAGIC_LABELS 0x00000801u /* type 0x08 (unsigned byte), 1 dimension */

typedef enum { GS_IDX_IMAGES, GS_IDX_LABELS } gs_idx_kind;

struct gzFile_s; /* zlib's gzFile, so that callers need not include zlib.h */

typedef struct {
    struct gzFile_s *gz;
    char path[4096];     /* the file actually opened: DIR/NAME or DIR/NAME.gz */
    int compressed;      /* the file is a gzip stream */
    gs_idx_kind kind;
    uint32_t count;      /* items the header announces */
    uint32_t rows, cols; /* an image's size; 1 x 1 for labels */
    size_t item_size;    /* bytes per item: rows * cols */
    uint64_t items_read; /* items handed out so far */
} gs_idx;

/* Opens DIR/NAME, or DIR/NAME.gz if there is no DIR/NAME (the plain file is preferred:
 * it reads without decompressing), and reads and checks its header for `kind`. A file
 * of the other kind (labels where images were expected, or the reverse) is named as
 * such. 0, or -1 with one line in err and nothing left open. */
int gs_idx_open(gs_idx *f, const char *dir, const char *name, gs_idx_kind kind, gs_err *err);

/* Reads the next n items (n * item_size bytes) into dst. n must not pass the count. */
int gs_idx_read(gs_idx *f, unsigned char *dst, size_t n, gs_err *err);

/* Reads the items not read yet (and discards them), then checks that the file ends
 * right after the last one and, for a gzip stream, that zlib found its checksum
 * right. After it, every byte of the file has been checked. */
int gs_idx_finish(gs_idx *f, gs_err *err);

/* Closes the file; safe on a gs_idx that failed to open or was closed already. */
void gs_idx_close(gs_idx *f);

/* "images" or "labels", for messages. */
const char *gs_idx_kind_name(gs_idx_kind kind);

#endif
