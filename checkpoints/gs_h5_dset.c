/* gs_h5 datasets: chunked, filtered, growing along axis 0, read and written in rows. */
#include "gs_h5.h"

#define GS_H5_MAX_RANK 8
#define GS_H5_DEFLATE_LEVEL 4

static int set_filters(hid_t dcpl, int rank, const hsize_t *chunk, unsigned flags)
{
    /* Order matters: shuffle helps deflate; fletcher32 last so it checks the bytes
     * actually stored. */
    if (H5Pset_chunk(dcpl, rank, chunk) < 0 || H5Pset_shuffle(dcpl) < 0 ||
        (!(flags & GS_H5_NO_DEFLATE) && H5Pset_deflate(dcpl, GS_H5_DEFLATE_LEVEL) < 0) ||
        H5Pset_fletcher32(dcpl) < 0)
        return -1;
    /* No modification times, so the same run writes the same bytes (docs/science.md §3). */
    return H5Pset_obj_track_times(dcpl, 0) < 0 ? -1 : 0;
}

hid_t gs_h5_dset_create(hid_t loc, const char *name, hid_t file_type, int rank,
                        const hsize_t *dims, const hsize_t *chunk, const void *fill,
                        const char *units, const char *description, unsigned flags,
                        const char *where, gs_err *err)
{
    hsize_t maxdims[GS_H5_MAX_RANK];
    if (rank < 1 || rank > GS_H5_MAX_RANK) {
        gs_err_set(err, "%s: internal error: rank %d", where, rank);
        return -1;
    }
    /* Every dataset may grow along axis 0: series by row, the rest never do, but one
     * rule keeps readers simple and costs nothing. */
    maxdims[0] = H5S_UNLIMITED;
    for (int i = 1; i < rank; i++)
        maxdims[i] = dims[i];
    hid_t space = -1, dcpl = -1, native = -1, dset = -1;
    if ((space = H5Screate_simple(rank, dims, maxdims)) < 0 ||
        (dcpl = H5Pcreate(H5P_DATASET_CREATE)) < 0 || set_filters(dcpl, rank, chunk, flags) < 0) {
        gs_h5_fail(err, "%s: cannot set up the dataset layout", where);
        goto done;
    }
    if (fill) {
        native = H5Tget_native_type(file_type, H5T_DIR_DEFAULT);
        if (native < 0 || H5Pset_fill_value(dcpl, native, fill) < 0) {
            gs_h5_fail(err, "%s: cannot set the fill value", where);
            goto done;
        }
    }
    dset = H5Dcreate2(loc, name, file_type, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    if (dset < 0) {
        gs_h5_fail(err, "%s: cannot create", where);
        goto done;
    }
    if (gs_h5_attr_write_str(dset, "units", units, where, err) < 0 ||
        gs_h5_attr_write_str(dset, "description", description, where, err) < 0)
        gs_h5_close(&dset);
done:
    gs_h5_close(&native);
    gs_h5_close(&dcpl);
    gs_h5_close(&space);
    return dset;
}

/* Rank and dims of a dataset (rank <= GS_H5_MAX_RANK), or -1. */
static int get_dims(hid_t dset, hsize_t *dims)
{
    hid_t space = H5Dget_space(dset);
    if (space < 0)
        return -1;
    int rank = H5Sget_simple_extent_ndims(space);
    if (rank >= 0 && rank <= GS_H5_MAX_RANK) {
        if (H5Sget_simple_extent_dims(space, dims, NULL) < 0)
            rank = -1;
    } else {
        rank = -2; /* more axes than any run-file dataset: caller reports the rank */
    }
    H5Sclose(space);
    return rank;
}

hid_t gs_h5_dset_open(hid_t loc, const char *name, H5T_class_t want_class, int rank,
                      const hsize_t *want_dims, hsize_t *n0, const char *where, gs_err *err)
{
    /* H5Lexists on each path component would be needed for nested names; ours are one
     * level below loc, so one check gives a clear "missing". */
    htri_t exists = H5Lexists(loc, name, H5P_DEFAULT);
    if (exists < 0) {
        gs_h5_fail(err, "%s: cannot look it up", where);
        return -1;
    }
    if (exists == 0) {
        gs_err_set(err, "%s: missing", where);
        return -1;
    }
    /* H5Oopen + H5Iget_type rather than H5Oget_info, whose signature changes between
     * HDF5 1.10 and 1.12. */
    hid_t dset = H5Oopen(loc, name, H5P_DEFAULT);
    if (dset < 0) {
        gs_h5_fail(err, "%s: cannot open", where);
        return -1;
    }
    if (H5Iget_type(dset) != H5I_DATASET) {
        gs_err_set(err, "%s: is not a dataset", where);
        gs_h5_close(&dset);
        return -1;
    }
    hid_t type = H5Dget_type(dset);
    H5T_class_t cls = type >= 0 ? H5Tget_class(type) : H5T_NO_CLASS;
    if (type >= 0)
        H5Tclose(type);
    if (cls != want_class) {
        gs_err_set(err, "%s: has the wrong type (expected %s)", where,
                   want_class == H5T_FLOAT ? "floating point" : "integer");
        H5Dclose(dset);
        return -1;
    }
    hsize_t dims[GS_H5_MAX_RANK];
    int got = get_dims(dset, dims);
    if (got == -1) {
        gs_h5_fail(err, "%s: cannot read its shape", where);
        H5Dclose(dset);
        return -1;
    }
    int ok = got == rank;
    for (int i = 1; ok && i < rank; i++)
        ok = dims[i] == want_dims[i];
    if (!ok) {
        char have[160] = "", want[160] = "";
        int h = 0, w = 0;
        for (int i = 0; i < got && h < 140; i++)
            h += snprintf(have + h, sizeof have - h, "%s%llu", i ? ", " : "",
                          (unsigned long long)dims[i]);
        for (int i = 0; i < rank && w < 140; i++) {
            if (i == 0)
                w += snprintf(want + w, sizeof want - w, "n");
            else
                w += snprintf(want + w, sizeof want - w, ", %llu",
                              (unsigned long long)want_dims[i]);
        }
        if (got < 0)
            gs_err_set(err, "%s: has too many axes, expected [%s]", where, want);
        else
            gs_err_set(err, "%s: has shape [%s], expected [%s]", where, have, want);
        H5Dclose(dset);
        return -1;
    }
    *n0 = dims[0];
    return dset;
}

int gs_h5_dset_len(hid_t dset, hsize_t *n0, const char *where, gs_err *err)
{
    hsize_t dims[GS_H5_MAX_RANK];
    if (get_dims(dset, dims) < 1)
        return gs_h5_fail(err, "%s: cannot read its shape", where);
    *n0 = dims[0];
    return 0;
}

/* Reads (wbuf NULL) or writes rows [first, first+n) of dset through one hyperslab
 * selection of the file space and a memory space of the same shape. */
static int rows_io(hid_t dset, hid_t mem_type, hsize_t first, hsize_t n, void *rbuf,
                   const void *wbuf, const char *where, gs_err *err)
{
    if (n == 0)
        return 0;
    hsize_t dims[GS_H5_MAX_RANK], start[GS_H5_MAX_RANK] = {0};
    hid_t fspace = H5Dget_space(dset), mspace = -1;
    int rank = fspace < 0 ? -1 : H5Sget_simple_extent_ndims(fspace);
    int ok = rank >= 1 && rank <= GS_H5_MAX_RANK &&
             H5Sget_simple_extent_dims(fspace, dims, NULL) >= 0 && first + n <= dims[0];
    if (ok) {
        start[0] = first;
        dims[0] = n;
        ok = H5Sselect_hyperslab(fspace, H5S_SELECT_SET, start, NULL, dims, NULL) >= 0 &&
             (mspace = H5Screate_simple(rank, dims, NULL)) >= 0;
    }
    int rc = 0;
    if (!ok)
        rc = gs_h5_fail(err, "%s: cannot select rows %llu..%llu", where,
                        (unsigned long long)first, (unsigned long long)(first + n - 1));
    else if (wbuf ? H5Dwrite(dset, mem_type, mspace, fspace, H5P_DEFAULT, wbuf) < 0
                  : H5Dread(dset, mem_type, mspace, fspace, H5P_DEFAULT, rbuf) < 0)
        rc = gs_h5_fail(err, "%s: cannot %s", where, wbuf ? "write" : "read (damaged file?)");
    gs_h5_close(&mspace);
    gs_h5_close(&fspace);
    return rc;
}

int gs_h5_write_rows(hid_t dset, hid_t mem_type, hsize_t first, hsize_t n, const void *buf,
                     const char *where, gs_err *err)
{
    if (n == 0)
        return 0;
    hsize_t dims[GS_H5_MAX_RANK];
    int rank = get_dims(dset, dims);
    if (rank < 1)
        return gs_h5_fail(err, "%s: cannot read its shape", where);
    if (dims[0] < first + n) {
        dims[0] = first + n;
        if (H5Dset_extent(dset, dims) < 0)
            return gs_h5_fail(err, "%s: cannot grow to %llu rows", where,
                              (unsigned long long)dims[0]);
    }
    return rows_io(dset, mem_type, first, n, NULL, buf, where, err);
}

int gs_h5_read_rows(hid_t dset, hid_t mem_type, hsize_t first, hsize_t n, void *buf,
                    const char *where, gs_err *err)
{
    return rows_io(dset, mem_type, first, n, buf, NULL, where, err);
}

int gs_h5_set_len(hid_t dset, hsize_t n0, const char *where, gs_err *err)
{
    hsize_t dims[GS_H5_MAX_RANK];
    if (get_dims(dset, dims) < 1)
        return gs_h5_fail(err, "%s: cannot read its shape", where);
    if (dims[0] == n0)
        return 0;
    dims[0] = n0;
    if (H5Dset_extent(dset, dims) < 0)
        return gs_h5_fail(err, "%s: cannot set its length to %llu", where,
                          (unsigned long long)n0);
    return 0;
}
