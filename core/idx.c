/* gs_idx: checked reading of one IDX file through zlib's gz* functions, which read a
 * plain file as it is and a gzip stream decompressed, so both take one code path. */
#include "idx.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

/* gzread takes an unsigned length and returns an int: read in pieces of at most 1 GiB */
#define IDX_READ_PIECE (1u << 30)
/* zlib's input buffer: 128 KiB, fewer read calls than its 8 KiB default (the time is
 * inflate's: 8 KiB and 1 MiB measured the same, docs/performance.md) */
#define IDX_GZ_BUFFER (1u << 17)

const char *gs_idx_kind_name(gs_idx_kind kind)
{
    return kind == GS_IDX_IMAGES ? "images" : "labels";
}

static uint32_t idx_magic(gs_idx_kind kind)
{
    return kind == GS_IDX_IMAGES ? GS_IDX_MAGIC_IMAGES : GS_IDX_MAGIC_LABELS;
}

static uint32_t be32(const unsigned char *b)
{
    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | (uint32_t)b[3];
}

static uint64_t header_bytes(const gs_idx *f)
{
    return f->kind == GS_IDX_IMAGES ? 16 : 8; /* magic + one uint32 per dimension */
}

static uint64_t total_bytes(const gs_idx *f)
{
    return header_bytes(f) + (uint64_t)f->count * f->item_size;
}

/* "60000 images of 28x28" or "60000 labels" */
static void describe_items(const gs_idx *f, char *out, size_t size)
{
    if (f->kind == GS_IDX_IMAGES)
        snprintf(out, size, "%" PRIu32 " images of %" PRIu32 "x%" PRIu32, f->count, f->rows, f->cols);
    else
        snprintf(out, size, "%" PRIu32 " labels", f->count);
}

/* A read stopped short after `got` bytes of the file (header included): says why. */
static int short_read(const gs_idx *f, uint64_t got, const char *what, gs_err *err)
{
    int errnum = Z_OK;
    const char *msg = gzerror(f->gz, &errnum);
    /* zlib prefixes its message with the name it knows the file by, "<fd:3>: " after
     * gzdopen; our message names the file itself */
    const char *colon = strncmp(msg, "<fd:", 4) == 0 ? strstr(msg, ">: ") : NULL;
    if (colon)
        msg = colon + 3;
    if (errnum == Z_ERRNO)
        return gs_err_set(err, "%s: read error: %s", f->path, msg);
    if (errnum == Z_MEM_ERROR)
        return gs_err_set(err, "%s: out of memory while decompressing", f->path);
    if (errnum != Z_OK && errnum != Z_BUF_ERROR)
        return gs_err_set(err, "%s: corrupt gzip stream (zlib: %s)", f->path, msg);
    /* Z_BUF_ERROR is zlib's "unexpected end of file": the gzip stream itself is cut */
    const char *unit = f->compressed ? " uncompressed" : "";
    const char *ends = f->compressed ? "the gzip stream ends" : "the file ends";
    if (!what)
        return gs_err_set(err, "%s: truncated: %s after %" PRIu64 " bytes, inside the %" PRIu64
                          "-byte IDX header", f->path, ends, got, header_bytes(f));
    return gs_err_set(err, "%s: truncated: the header announces %s (%" PRIu64 " bytes%s), %s after %"
                      PRIu64, f->path, what, total_bytes(f), unit, ends, got);
}

/* Reads exactly n bytes; *pos counts the bytes read from the file so far. */
static int read_bytes(gs_idx *f, void *buf, size_t n, uint64_t *pos, const char *what, gs_err *err)
{
    unsigned char *p = buf;
    size_t done = 0;
    while (done < n) {
        size_t piece = n - done < IDX_READ_PIECE ? n - done : IDX_READ_PIECE;
        int r = gzread(f->gz, p + done, (unsigned)piece);
        if (r <= 0)
            break;
        done += (size_t)r;
    }
    *pos += done;
    return done == n ? 0 : short_read(f, *pos, what, err);
}

/* Opens DIR/NAME, else DIR/NAME.gz; the path opened goes into f->path. */
static int open_file(gs_idx *f, const char *dir, const char *name, gs_err *err)
{
    char plain[sizeof f->path], gz[sizeof f->path];
    int n1 = snprintf(plain, sizeof plain, "%s/%s", dir, name);
    int n2 = snprintf(gz, sizeof gz, "%s/%s.gz", dir, name);
    if (n1 < 0 || n2 < 0 || (size_t)n2 >= sizeof gz)
        return gs_err_set(err, "%s: directory name too long", dir);
    const char *path = plain;
    int fd = open(plain, O_RDONLY | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT) {
        path = gz;
        fd = open(gz, O_RDONLY | O_CLOEXEC);
        if (fd < 0 && errno == ENOENT)
            return gs_err_set(err, "%s: no %s or %s.gz in this directory (MNIST and Fashion-MNIST "
                              "come as four IDX files, each plain or .gz)", dir, name, name);
    }
    if (fd < 0)
        return gs_err_set(err, "%s: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int e = errno;
        close(fd);
        return gs_err_set(err, "%s: %s", path, strerror(e));
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return gs_err_set(err, "%s: %s", path, S_ISDIR(st.st_mode) ? "a directory, not an IDX file"
                                                                   : "not a regular file");
    }
    if (st.st_size == 0) {
        close(fd);
        return gs_err_set(err, "%s: empty file", path);
    }
    snprintf(f->path, sizeof f->path, "%s", path);
    f->gz = gzdopen(fd, "rb");
    if (!f->gz) {
        close(fd);
        return gs_err_set(err, "%s: out of memory opening it", path);
    }
    if (gzbuffer(f->gz, IDX_GZ_BUFFER) != 0) {
        gs_idx_close(f);
        return gs_err_set(err, "%s: could not size zlib's buffer", path);
    }
    /* gzdirect looks at the first bytes: a gzip stream is decompressed, anything else
     * read as it is; a .gz name on a file that is not gzip means a damaged download */
    f->compressed = !gzdirect(f->gz);
    if (path == gz && !f->compressed) {
        gs_idx_close(f);
        return gs_err_set(err, "%s: not a gzip stream, although its name ends in .gz", gz);
    }
    return 0;
}

static int check_magic(const gs_idx *f, uint32_t magic, gs_err *err)
{
    const uint32_t want = idx_magic(f->kind);
    if (magic == want)
        return 0;
    const gs_idx_kind other = f->kind == GS_IDX_IMAGES ? GS_IDX_LABELS : GS_IDX_IMAGES;
    if (magic == idx_magic(other))
        return gs_err_set(err, "%s: an IDX %s file where the %s were expected (magic 0x%08" PRIx32
                          ", not 0x%08" PRIx32 "): are the files swapped?", f->path,
                          gs_idx_kind_name(other), gs_idx_kind_name(f->kind), magic, want);
    if ((magic >> 16) == 0)
        return gs_err_set(err, "%s: an IDX file of type 0x%02" PRIx32 " with %" PRIu32
                          " dimensions, not MNIST %s (magic 0x%08" PRIx32 ", not 0x%08" PRIx32 ")",
                          f->path, (magic >> 8) & 0xff, magic & 0xff, gs_idx_kind_name(f->kind),
                          magic, want);
    return gs_err_set(err, "%s: not an IDX file (magic 0x%08" PRIx32 ", expected 0x%08" PRIx32 " for %s)",
                      f->path, magic, want, gs_idx_kind_name(f->kind));
}

int gs_idx_open(gs_idx *f, const char *dir, const char *name, gs_idx_kind kind, gs_err *err)
{
    memset(f, 0, sizeof *f);
    f->kind = kind;
    if (open_file(f, dir, name, err) != 0)
        return -1;
    unsigned char h[16];
    uint64_t pos = 0;
    const size_t n_header = (size_t)header_bytes(f);
    /* the magic alone first: a file of the other kind has a header of the other length */
    if (read_bytes(f, h, 4, &pos, NULL, err) != 0 || check_magic(f, be32(h), err) != 0 ||
        read_bytes(f, h + 4, n_header - 4, &pos, NULL, err) != 0) {
        gs_idx_close(f);
        return -1;
    }
    f->count = be32(h + 4);
    f->rows = kind == GS_IDX_IMAGES ? be32(h + 8) : 1;
    f->cols = kind == GS_IDX_IMAGES ? be32(h + 12) : 1;
    if (f->rows == 0 || f->cols == 0 || (uint64_t)f->rows * f->cols > (1u << 24)) {
        gs_err_set(err, "%s: images of %" PRIu32 "x%" PRIu32 " pixels in the header", f->path, f->rows,
                   f->cols);
        gs_idx_close(f);
        return -1;
    }
    f->item_size = (size_t)f->rows * f->cols;
    return 0;
}

int gs_idx_read(gs_idx *f, unsigned char *dst, size_t n, gs_err *err)
{
    assert(f->gz && f->items_read + n <= f->count);
    char what[96];
    describe_items(f, what, sizeof what);
    uint64_t pos = header_bytes(f) + f->items_read * f->item_size;
    if (read_bytes(f, dst, n * f->item_size, &pos, what, err) != 0)
        return -1;
    f->items_read += n;
    return 0;
}

int gs_idx_finish(gs_idx *f, gs_err *err)
{
    assert(f->gz);
    unsigned char buf[1 << 16];
    char what[96];
    describe_items(f, what, sizeof what);
    uint64_t pos = header_bytes(f) + f->items_read * f->item_size;
    uint64_t left = (uint64_t)(f->count - f->items_read) * f->item_size;
    while (left > 0) {
        size_t piece = left < sizeof buf ? (size_t)left : sizeof buf;
        if (read_bytes(f, buf, piece, &pos, what, err) != 0)
            return -1;
        left -= piece;
    }
    f->items_read = f->count;
    /* one byte more must be the end; for gzip, reaching the end checks the CRC-32 and
     * the length in the stream's trailer, and a mismatch is an error here */
    int r = gzread(f->gz, buf, 1);
    if (r > 0)
        return gs_err_set(err, "%s: longer than its header says: data goes on after the %s "
                          "(%" PRIu64 " bytes%s) it announces", f->path, what, total_bytes(f),
                          f->compressed ? " uncompressed" : "");
    int errnum = Z_OK;
    gzerror(f->gz, &errnum);
    if (r < 0 || (errnum != Z_OK && errnum != Z_BUF_ERROR))
        return short_read(f, pos, what, err);
    if (errnum == Z_BUF_ERROR) /* all the data came, but the stream's trailer is cut */
        return gs_err_set(err, "%s: truncated: the gzip stream ends inside its trailer, after all "
                          "the data", f->path);
    return 0;
}

void gs_idx_close(gs_idx *f)
{
    if (f->gz)
        gzclose_r(f->gz);
    f->gz = NULL;
}
