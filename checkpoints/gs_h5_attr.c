/* gs_h5 attributes: scalar numbers and variable-length UTF-8 strings (what h5py reads
 * back as int, float and str). */
#include "gs_h5.h"

#include <stdlib.h>
#include <string.h>

/* Longest fixed-length string attribute we accept from a foreign file. */
#define GS_H5_MAX_STR (1 << 20)

static int attr_write(hid_t obj, const char *name, hid_t file_type, hid_t mem_type,
                      const void *buf, const char *where, gs_err *err)
{
    /* Rewriting (e.g. /config epochs on resume) replaces the old attribute. */
    htri_t exists = H5Aexists(obj, name);
    if (exists < 0)
        return gs_h5_fail(err, "%s: cannot look up attribute %s", where, name);
    if (exists > 0 && H5Adelete(obj, name) < 0)
        return gs_h5_fail(err, "%s: cannot replace attribute %s", where, name);
    hid_t space = H5Screate(H5S_SCALAR);
    if (space < 0)
        return gs_h5_fail(err, "%s: cannot create a dataspace", where);
    hid_t attr = H5Acreate2(obj, name, file_type, space, H5P_DEFAULT, H5P_DEFAULT);
    if (attr < 0) {
        gs_h5_fail(err, "%s: cannot create attribute %s", where, name);
        H5Sclose(space);
        return -1;
    }
    int rc = 0;
    if (H5Awrite(attr, mem_type, buf) < 0)
        rc = gs_h5_fail(err, "%s: cannot write attribute %s", where, name);
    if (H5Aclose(attr) < 0 && rc == 0)
        rc = gs_h5_fail(err, "%s: cannot close attribute %s", where, name);
    H5Sclose(space);
    return rc;
}

static hid_t vlen_utf8(void)
{
    hid_t t = H5Tcopy(H5T_C_S1);
    if (t < 0)
        return -1;
    if (H5Tset_size(t, H5T_VARIABLE) < 0 || H5Tset_cset(t, H5T_CSET_UTF8) < 0) {
        H5Tclose(t);
        return -1;
    }
    return t;
}

int gs_h5_attr_write_str(hid_t obj, const char *name, const char *value, const char *where,
                         gs_err *err)
{
    /* Fixed-length, not variable-length: a vlen string lives in the global heap, and
     * HDF5 1.10.8 reads a corrupted heap object past its buffer (found by the fuzz
     * test under ASan); a fixed-length one sits inside the checksummed header. */
    hid_t t = H5Tcopy(H5T_C_S1);
    if (t < 0 || H5Tset_size(t, strlen(value) + 1) < 0 || H5Tset_strpad(t, H5T_STR_NULLTERM) < 0 ||
        H5Tset_cset(t, H5T_CSET_UTF8) < 0) {
        if (t >= 0)
            H5Tclose(t);
        return gs_h5_fail(err, "%s: cannot create a string type", where);
    }
    int rc = attr_write(obj, name, t, t, value, where, err);
    H5Tclose(t);
    return rc;
}

int gs_h5_attr_write_i64(hid_t obj, const char *name, int64_t value, const char *where,
                         gs_err *err)
{
    return attr_write(obj, name, H5T_STD_I64LE, H5T_NATIVE_INT64, &value, where, err);
}

int gs_h5_attr_write_f64(hid_t obj, const char *name, double value, const char *where,
                         gs_err *err)
{
    return attr_write(obj, name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, &value, where, err);
}

int gs_h5_attr_exists(hid_t obj, const char *name, const char *where, gs_err *err)
{
    htri_t exists = H5Aexists(obj, name);
    if (exists < 0)
        return gs_h5_fail(err, "%s: cannot look up attribute %s", where, name);
    return exists > 0;
}

/* Opens a one-element attribute and returns its type class in *cls. */
static hid_t attr_open(hid_t obj, const char *name, H5T_class_t *cls, hid_t *type,
                       const char *where, gs_err *err)
{
    htri_t exists = H5Aexists(obj, name);
    if (exists < 0) {
        gs_h5_fail(err, "%s: cannot look up attribute %s", where, name);
        return -1;
    }
    if (exists == 0) {
        gs_err_set(err, "%s: attribute %s is missing", where, name);
        return -1;
    }
    hid_t attr = H5Aopen(obj, name, H5P_DEFAULT);
    if (attr < 0) {
        gs_h5_fail(err, "%s: cannot open attribute %s", where, name);
        return -1;
    }
    hid_t space = H5Aget_space(attr);
    hssize_t npoints = space >= 0 ? H5Sget_simple_extent_npoints(space) : -1;
    if (space >= 0)
        H5Sclose(space);
    *type = H5Aget_type(attr);
    *cls = *type >= 0 ? H5Tget_class(*type) : H5T_NO_CLASS;
    if (npoints != 1 || *type < 0) {
        gs_err_set(err, "%s: attribute %s is not a single value", where, name);
        if (*type >= 0)
            H5Tclose(*type);
        H5Aclose(attr);
        return -1;
    }
    return attr;
}

static int attr_read_number(hid_t obj, const char *name, hid_t mem_type, int allow_float,
                            void *value, const char *where, gs_err *err)
{
    H5T_class_t cls;
    hid_t type;
    hid_t attr = attr_open(obj, name, &cls, &type, where, err);
    if (attr < 0)
        return -1;
    int rc = 0;
    if (!(cls == H5T_INTEGER || (allow_float && cls == H5T_FLOAT)))
        rc = gs_err_set(err, "%s: attribute %s is not %s", where, name,
                        allow_float ? "a number" : "an integer");
    else if (H5Aread(attr, mem_type, value) < 0)
        rc = gs_h5_fail(err, "%s: cannot read attribute %s", where, name);
    H5Tclose(type);
    H5Aclose(attr);
    return rc;
}

int gs_h5_attr_read_i64(hid_t obj, const char *name, int64_t *value, const char *where,
                        gs_err *err)
{
    return attr_read_number(obj, name, H5T_NATIVE_INT64, 0, value, where, err);
}

int gs_h5_attr_read_f64(hid_t obj, const char *name, double *value, const char *where,
                        gs_err *err)
{
    return attr_read_number(obj, name, H5T_NATIVE_DOUBLE, 1, value, where, err);
}

int gs_h5_attr_read_str(hid_t obj, const char *name, char **value, const char *where,
                        gs_err *err)
{
    *value = NULL;
    H5T_class_t cls;
    hid_t type;
    hid_t attr = attr_open(obj, name, &cls, &type, where, err);
    if (attr < 0)
        return -1;
    int rc = 0;
    hid_t mem = -1;
    htri_t vl = cls == H5T_STRING ? H5Tis_variable_str(type) : -1;
    if (cls != H5T_STRING || vl < 0) {
        rc = gs_err_set(err, "%s: attribute %s is not a string", where, name);
    } else if (vl > 0) {
        char *s = NULL;
        mem = vlen_utf8();
        /* HDF5 does not convert between character sets: read in the file's. */
        if (mem < 0 || H5Tset_cset(mem, H5Tget_cset(type)) < 0 || H5Aread(attr, mem, &s) < 0) {
            rc = gs_h5_fail(err, "%s: cannot read attribute %s", where, name);
        } else {
            *value = strdup(s ? s : "");
            if (!*value)
                rc = gs_err_set(err, "%s: out of memory reading attribute %s", where, name);
        }
        if (s)
            H5free_memory(s);
    } else {
        size_t size = H5Tget_size(type);
        if (size == 0 || size > GS_H5_MAX_STR) {
            rc = gs_err_set(err, "%s: attribute %s has an unreasonable size", where, name);
        } else if (!(*value = calloc(size + 1, 1))) {
            rc = gs_err_set(err, "%s: out of memory reading attribute %s", where, name);
        } else {
            mem = H5Tcopy(H5T_C_S1);
            if (mem < 0 || H5Tset_size(mem, size + 1) < 0 ||
                H5Tset_cset(mem, H5Tget_cset(type)) < 0 ||
                H5Tset_strpad(mem, H5T_STR_NULLTERM) < 0 || H5Aread(attr, mem, *value) < 0)
                rc = gs_h5_fail(err, "%s: cannot read attribute %s", where, name);
        }
    }
    if (rc != 0) {
        free(*value);
        *value = NULL;
    }
    if (mem >= 0)
        H5Tclose(mem);
    H5Tclose(type);
    H5Aclose(attr);
    return rc;
}
