/* gs_h5: the small HDF5 vocabulary the run file is written in.
 *
 * Every helper checks each HDF5 return value and turns a failure into one line in err
 * that starts with `where` (the file, usually followed by the object), e.g.
 * "run.h5: /config attribute p is missing". HDF5's own stack printing is switched
 * off; the innermost HDF5 message is appended where it helps ("No space left..."). */
#ifndef GS_H5_H
#define GS_H5_H

#include <stdint.h>

#include <hdf5.h>

#include "../core/error.h"

/* Switches off HDF5's automatic error printing (once per process). */
void gs_h5_init(void);

/* Formats "<message> (HDF5: <innermost error>)" into err, clears HDF5's error stack,
 * returns -1. Call it right after the failing call, before any cleanup call. */
int gs_h5_fail(gs_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Closes any HDF5 id (file, group, dataset, dataspace, type, property list,
 * attribute) if it is valid and sets it to -1. Returns 0 or -1. */
int gs_h5_close(hid_t *id);

/* One clear line for the usual user mistakes before HDF5 sees the path: missing,
 * a directory, unreadable, not HDF5. */
int gs_h5_check_path(const char *path, gs_err *err);

/* A file-access property list with the version bounds the run file needs (superblock
 * v3, required by SWMR; readable by HDF5 >= 1.10). */
hid_t gs_h5_fapl(int clear_status_flags);

/* Opens path read-only, as a SWMR reader if the file allows it (so a live run can be
 * read), else plainly. *swmr tells which. */
hid_t gs_h5_open_read(const char *path, int *swmr, gs_err *err);

/* Who holds a run's writer lock: a trainer or an analysis. */
typedef enum { GS_H5_LOCK_NONE = -1, GS_H5_LOCK_TRAIN = 0, GS_H5_LOCK_ANALYZE = 1 } gs_h5_lock_kind;

/* Advisory write lock (fcntl, independent of HDF5's flock) held by the one process
 * writing a run: HDF5 drops its own lock once SWMR writing starts, so this is what
 * keeps a second writer out. A trainer locks the whole file, an analysis a range that
 * overlaps it (so each excludes the other) but that a refused process can tell apart:
 * *holder (may be NULL) says who holds it, GS_H5_LOCK_NONE if nobody or unknown.
 * Returns an fd (>= 0) or -1 if another process holds it or the file cannot be
 * opened. */
int gs_h5_lock_file(const char *path, gs_h5_lock_kind kind, gs_h5_lock_kind *holder,
                    gs_err *err);
void gs_h5_unlock_file(int *fd);
/* Whether another process holds the writer lock, without taking it: 0 if nobody does,
 * else -1 with gs_h5_lock_file's message (or why the file could not be opened). Lets a
 * process that reads before it writes say "busy" rather than fail on a file in motion. */
int gs_h5_lock_check(const char *path, gs_h5_lock_kind kind, gs_err *err);

/* ---- attributes (scalar) ---- */
int gs_h5_attr_write_str(hid_t obj, const char *name, const char *value, const char *where,
                         gs_err *err);
int gs_h5_attr_write_i64(hid_t obj, const char *name, int64_t value, const char *where,
                         gs_err *err);
int gs_h5_attr_write_f64(hid_t obj, const char *name, double value, const char *where,
                         gs_err *err);
/* 1 if obj has the attribute, 0 if not, -1 on error. */
int gs_h5_attr_exists(hid_t obj, const char *name, const char *where, gs_err *err);
/* Read with type checks (integer class for i64, integer or float for f64, string for
 * str); a missing or mistyped attribute is an error naming it. *value of read_str is
 * malloc'd. */
int gs_h5_attr_read_i64(hid_t obj, const char *name, int64_t *value, const char *where,
                        gs_err *err);
int gs_h5_attr_read_f64(hid_t obj, const char *name, double *value, const char *where,
                        gs_err *err);
int gs_h5_attr_read_str(hid_t obj, const char *name, char **value, const char *where,
                        gs_err *err);

/* ---- datasets ---- */

/* Flags of gs_h5_dset_create. GS_H5_NO_DEFLATE: for data rewritten in place (the
 * optimizer slots): a deflated chunk changes size on every rewrite, so HDF5 moves it
 * and never reclaims the old space; without deflate its size is fixed and it stays. */
#define GS_H5_NO_DEFLATE 1u

/* Creates a chunked dataset with shuffle + deflate(4) + fletcher32, no time stamps (so
 * the same run gives the same bytes), the given fill value (may be NULL) and the
 * attributes "units" and "description". Axis 0 is unlimited (maxshape None). */
hid_t gs_h5_dset_create(hid_t loc, const char *name, hid_t file_type, int rank,
                        const hsize_t *dims, const hsize_t *chunk, const void *fill,
                        const char *units, const char *description, unsigned flags, const char *where,
                        gs_err *err);

/* Opens name under loc and checks its type class (H5T_INTEGER or H5T_FLOAT), rank, and
 * dims 1.. (dims[0], the growing axis, is returned in *n0 and not checked).
 * want_dims may be NULL for rank 1. */
hid_t gs_h5_dset_open(hid_t loc, const char *name, H5T_class_t want_class, int rank,
                      const hsize_t *want_dims, hsize_t *n0, const char *where, gs_err *err);

/* Current length along axis 0. */
int gs_h5_dset_len(hid_t dset, hsize_t *n0, const char *where, gs_err *err);

/* Writes rows [first, first+n) (each row = everything after axis 0), growing the
 * dataset first if it is shorter. */
int gs_h5_write_rows(hid_t dset, hid_t mem_type, hsize_t first, hsize_t n, const void *buf,
                     const char *where, gs_err *err);
/* Reads rows [first, first+n); the caller has checked first+n against the length. */
int gs_h5_read_rows(hid_t dset, hid_t mem_type, hsize_t first, hsize_t n, void *buf,
                    const char *where, gs_err *err);
/* Sets the length along axis 0 (grows or trims). */
int gs_h5_set_len(hid_t dset, hsize_t n0, const char *where, gs_err *err);

#endif
