/* gs_h5: error handling, file checks and locking (attributes and datasets live in
 * gs_h5_attr.c and gs_h5_dset.c). */
#include "gs_h5.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* No library shutdown at exit: after a failed close (a full disk) HDF5 1.10's exit
 * handler retries it on a half-torn file and crashes. Every handle is closed explicitly
 * anyway. Must precede any other HDF5 call. */
static void dont_atexit(void)
{
    H5dont_atexit();
}

void gs_h5_init(void)
{
    /* Once per process; the error-printing switch once per thread, since a thread-safe
     * HDF5 keeps one error stack, and its auto-print setting, per thread (libgrokscope
     * trains runs on several threads). */
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    static _Thread_local int quiet;
    pthread_once(&once, dont_atexit);
    if (!quiet) {
        /* Our messages replace HDF5's multi-line stack dumps on stderr. */
        H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
        quiet = 1;
    }
}

typedef struct {
    char desc[256];
} innermost;

static herr_t take_innermost(unsigned n, const H5E_error2_t *e, void *data)
{
    innermost *in = data;
    if (n == 0 && e->desc)
        snprintf(in->desc, sizeof in->desc, "%s", e->desc);
    return 0;
}

int gs_h5_fail(gs_err *err, const char *fmt, ...)
{
    innermost in = {{0}};
    /* Upward walk starts at the most specific frame: "No space left on device" etc. */
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, take_innermost, &in);
    H5Eclear2(H5E_DEFAULT);
    if (!err)
        return -1;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    err->code = GS_ERR_OTHER;
    if (in.desc[0]) {
        for (char *c = in.desc; *c; c++)
            if (*c == '\n' || *c == '\r')
                *c = ' '; /* keep the promise of one line */
        size_t len = strlen(err->msg);
        snprintf(err->msg + len, sizeof err->msg - len, " (HDF5: %s)", in.desc);
    }
    return -1;
}

int gs_h5_close(hid_t *id)
{
    if (*id < 0)
        return 0;
    herr_t r;
    switch (H5Iget_type(*id)) {
    case H5I_FILE: r = H5Fclose(*id); break;
    case H5I_GROUP: r = H5Gclose(*id); break;
    case H5I_DATATYPE: r = H5Tclose(*id); break;
    case H5I_DATASPACE: r = H5Sclose(*id); break;
    case H5I_DATASET: r = H5Dclose(*id); break;
    case H5I_ATTR: r = H5Aclose(*id); break;
    case H5I_GENPROP_LST: r = H5Pclose(*id); break;
    default: r = -1; break;
    }
    *id = -1;
    return r < 0 ? -1 : 0;
}

int gs_h5_check_path(const char *path, gs_err *err)
{
    gs_h5_init();
    struct stat st;
    if (stat(path, &st) != 0)
        return errno == ENOENT ? gs_err_set(err, "%s: no such file", path)
                               : gs_err_set(err, "%s: cannot access: %s", path, strerror(errno));
    if (S_ISDIR(st.st_mode))
        return gs_err_set(err, "%s: is a directory, not a run file", path);
    if (!S_ISREG(st.st_mode))
        return gs_err_set(err, "%s: not a regular file", path);
    if (access(path, R_OK) != 0)
        return gs_err_set(err, "%s: cannot read: %s", path, strerror(errno));
#if H5_VERSION_GE(1, 12, 0)
    htri_t is = H5Fis_accessible(path, H5P_DEFAULT);
#else
    htri_t is = H5Fis_hdf5(path);
#endif
    if (is < 0)
        return gs_h5_fail(err, "%s: cannot read as HDF5", path);
    if (is == 0)
        return gs_err_set(err, "%s: not an HDF5 file", path);
    return 0;
}

hid_t gs_h5_fapl(int clear_status_flags)
{
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    if (fapl < 0)
        return -1;
    /* v110 objects and superblock 3: what SWMR needs, and what every HDF5 >= 1.10
     * (h5py included) reads. Pinned rather than LATEST so a newer HDF5 does not
     * silently write files older readers cannot open. */
    if (H5Pset_libver_bounds(fapl, H5F_LIBVER_V110, H5F_LIBVER_V110) < 0) {
        H5Pclose(fapl);
        return -1;
    }
    /* A checksum failure on metadata read as a SWMR reader is retried, since it may be
     * a torn read of what the writer is flushing; HDF5 1.10 doubles its sleep at each
     * of 100 default attempts, so a really corrupt file would hang for ages. 25
     * attempts bound the wait to about 70 ms. */
    if (H5Pset_metadata_read_attempts(fapl, 25) < 0) {
        H5Pclose(fapl);
        return -1;
    }
    if (clear_status_flags) {
        /* What h5clear does: a writer killed in SWMR mode leaves "open for writing"
         * flags in the superblock; only set once we hold the writer lock. */
        hbool_t yes = 1;
        if (H5Pset(fapl, "clear_status_flags", &yes) < 0) {
            H5Pclose(fapl);
            return -1;
        }
    }
    return fapl;
}

hid_t gs_h5_open_read(const char *path, int *swmr, gs_err *err)
{
    gs_h5_init();
    hid_t fapl = gs_h5_fapl(0);
    if (fapl < 0)
        return gs_h5_fail(err, "%s: cannot make a file access property list", path);
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY | H5F_ACC_SWMR_READ, fapl);
    H5Pclose(fapl);
    if (f >= 0) {
        *swmr = 1;
        return f;
    }
    /* Files written by other tools (superblock < 3) cannot be SWMR-read. */
    H5Eclear2(H5E_DEFAULT);
    *swmr = 0;
    f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (f < 0)
        gs_h5_fail(err, "%s: cannot open", path);
    return f;
}

/* The range an analysis locks: from byte 0 to far past any real file (a lock may cover
 * bytes that do not exist), so it conflicts with a trainer's whole-file lock (length
 * 0 = to the end, however far) yet reports a different length to F_GETLK. */
#define GS_H5_ANALYZE_LOCK_LEN ((off_t)1 << (8 * sizeof(off_t) - 2))

static void lock_range(struct flock *fl, short type, gs_h5_lock_kind kind)
{
    memset(fl, 0, sizeof *fl);
    fl->l_type = type;
    fl->l_whence = SEEK_SET;
    fl->l_start = 0;
    fl->l_len = kind == GS_H5_LOCK_ANALYZE ? GS_H5_ANALYZE_LOCK_LEN : 0;
}

/* Who holds the conflicting lock: its length tells a trainer from an analysis. */
static gs_h5_lock_kind lock_holder(int fd)
{
    struct flock fl;
    lock_range(&fl, F_WRLCK, GS_H5_LOCK_TRAIN);
    if (fcntl(fd, F_GETLK, &fl) == 0 && fl.l_type != F_UNLCK && fl.l_len != 0)
        return GS_H5_LOCK_ANALYZE;
    return GS_H5_LOCK_TRAIN;
}

static int busy(const char *path, gs_h5_lock_kind who, gs_err *err)
{
    if (who == GS_H5_LOCK_ANALYZE)
        return gs_err_set(err, "%s: is being written by another process (grokscope analyze is "
                          "storing its results in it)", path);
    return gs_err_set(err, "%s: is being written by another process (is a training run "
                      "still going on it?)", path);
}

int gs_h5_lock_file(const char *path, gs_h5_lock_kind kind, gs_h5_lock_kind *holder,
                    gs_err *err)
{
    if (holder)
        *holder = GS_H5_LOCK_NONE;
    int fd = open(path, O_RDWR | O_CLOEXEC);
    if (fd < 0) {
        gs_err_set(err, "%s: cannot open for writing: %s", path, strerror(errno));
        return -1;
    }
    struct flock fl;
    lock_range(&fl, F_WRLCK, kind);
    if (fcntl(fd, F_SETLK, &fl) != 0) {
        int e = errno;
        if (e != EACCES && e != EAGAIN) {
            close(fd);
            gs_err_set(err, "%s: cannot lock: %s", path, strerror(e));
            return -1;
        }
        const gs_h5_lock_kind who = lock_holder(fd);
        close(fd);
        if (holder)
            *holder = who;
        return busy(path, who, err);
    }
    return fd;
}

int gs_h5_lock_check(const char *path, gs_h5_lock_kind kind, gs_err *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return gs_err_set(err, "%s: cannot open: %s", path, strerror(errno));
    struct flock fl;
    lock_range(&fl, F_WRLCK, kind);
    const int held = fcntl(fd, F_GETLK, &fl) == 0 && fl.l_type != F_UNLCK;
    close(fd); /* this process holds no lock on the file here, so closing drops none */
    /* F_GETLK described the lock held: its length tells who (lock_holder) */
    return held ? busy(path, fl.l_len != 0 ? GS_H5_LOCK_ANALYZE : GS_H5_LOCK_TRAIN, err) : 0;
}

void gs_h5_unlock_file(int *fd)
{
    if (*fd >= 0)
        close(*fd); /* closing releases the fcntl lock */
    *fd = -1;
}
