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

/* A string attribute into a malloc'd *value: variable-length (h5py's default) or
 * fixed-length (ours), in the file's character set. */
static int read_string(hid_t attr, hid_t type, char **value, const char *name,
                       const char *where, gs_err *err)
{
    int rc = 0;
    hid_t mem = -1;
    htri_t vl = H5Tis_variable_str(type);
    if (vl < 0) {
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
    if (mem >= 0)
        H5Tclose(mem);
    return rc;
}

/* What an attribute reader accepts. */
typedef enum { ATTR_INT, ATTR_NUMBER, ATTR_STRING } attr_kind;

/* Reads the single-value attribute name of obj: an integer (into int64_t), a number
 * (integer or float, into double) or a string (a malloc'd char *, NULL on failure).
 * A missing, non-scalar or mistyped attribute is an error naming it. */
static int attr_read(hid_t obj, const char *name, attr_kind kind, void *value,
                     const char *where, gs_err *err)
{
    static const char *const wanted[] = {"an integer", "a number", "a string"};
    if (kind == ATTR_STRING)
        *(char **)value = NULL;
    htri_t exists = H5Aexists(obj, name);
    if (exists < 0)
        return gs_h5_fail(err, "%s: cannot look up attribute %s", where, name);
    if (exists == 0)
        return gs_err_set(err, "%s: attribute %s is missing", where, name);
    hid_t attr = H5Aopen(obj, name, H5P_DEFAULT);
    if (attr < 0)
        return gs_h5_fail(err, "%s: cannot open attribute %s", where, name);
    hid_t space = H5Aget_space(attr), type = H5Aget_type(attr);
    hssize_t npoints = space >= 0 ? H5Sget_simple_extent_npoints(space) : -1;
    H5T_class_t cls = type >= 0 ? H5Tget_class(type) : H5T_NO_CLASS;
    int rc = 0;
    if (npoints != 1 || type < 0)
        rc = gs_err_set(err, "%s: attribute %s is not a single value", where, name);
    else if (!(cls == H5T_INTEGER && kind != ATTR_STRING) &&
             !(cls == H5T_FLOAT && kind == ATTR_NUMBER) &&
             !(cls == H5T_STRING && kind == ATTR_STRING))
        rc = gs_err_set(err, "%s: attribute %s is not %s", where, name, wanted[kind]);
    else if (kind == ATTR_STRING)
        rc = read_string(attr, type, (char **)value, name, where, err);
    else if (H5Aread(attr, kind == ATTR_INT ? H5T_NATIVE_INT64 : H5T_NATIVE_DOUBLE, value) < 0)
        rc = gs_h5_fail(err, "%s: cannot read attribute %s", where, name);
    if (rc != 0 && kind == ATTR_STRING) {
        free(*(char **)value);
        *(char **)value = NULL;
    }
    gs_h5_close(&type);
    gs_h5_close(&space);
    H5Aclose(attr);
    return rc;
}

int gs_h5_attr_read_i64(hid_t obj, const char *name, int64_t *value, const char *where,
                        gs_err *err)
{
    return attr_read(obj, name, ATTR_INT, value, where, err);
}

int gs_h5_attr_read_f64(hid_t obj, const char *name, double *value, const char *where,
                        gs_err *err)
{
    return attr_read(obj, name, ATTR_NUMBER, value, where, err);
}

int gs_h5_attr_read_str(hid_t obj, const char *name, char **value, const char *where,
                        gs_err *err)
{
    return attr_read(obj, name, ATTR_STRING, value, where, err);
}
