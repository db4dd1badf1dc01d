/* The table of a sweep's points: built once as columns, then written as HDF5
 * (DIR/sweep.h5, a group of equally long 1-D datasets, each with a description) or
 * as CSV. Both go through a temporary file renamed when complete. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <hdf5.h>

#include "gs_h5.h"
#include "sweep_result.h"

typedef enum { COL_INT, COL_FLOAT, COL_STRING } col_type;

typedef struct {
    char name[80];
    const char *description;
    col_type type;
    int64_t *i;
    double *f;
    char **s;          /* owned strings */
} column;

typedef struct {
    long n_rows;
    int n_cols;
    column cols[GS_SWEEP_MAX_AXES + 32];
} table;

static void table_free(table *t)
{
    for (int c = 0; c < t->n_cols; c++) {
        free(t->cols[c].i);
        free(t->cols[c].f);
        if (t->cols[c].s)
            for (long r = 0; r < t->n_rows; r++)
                free(t->cols[c].s[r]);
        free(t->cols[c].s);
    }
}

static column *add(table *t, const char *name, col_type type, const char *description)
{
    column *c = &t->cols[t->n_cols++];
    snprintf(c->name, sizeof c->name, "%s", name);
    c->description = description;
    c->type = type;
    if (type == COL_INT)
        c->i = calloc((size_t)t->n_rows, sizeof *c->i);
    else if (type == COL_FLOAT)
        c->f = calloc((size_t)t->n_rows, sizeof *c->f);
    else
        c->s = calloc((size_t)t->n_rows, sizeof *c->s);
    return c->i || c->f || c->s ? c : NULL;
}

static int is_number(const char *s, double *v)
{
    char *end;
    *v = strtod(s, &end);
    return end != s && *end == '\0' && isfinite(*v);
}

/* The fixed columns, in table order; axis columns go between "file" and "status". */
static const char *const fixed_names[] = {
    "index", "file", "status", "epochs", "epochs_done", "train_acc_50_epoch", "train_acc_99_epoch",
    "test_acc_50_epoch", "test_acc_99_epoch", "delay", "final_train_loss", "final_test_loss",
    "final_train_acc", "final_test_acc", "end_train_acc", "end_test_acc", "analysed", "memorization_end", "circuit_end", "cleanup_end",
    "key_freqs", "class", "wall_s"};

static int build(table *t, const gs_sweep_plan *plan, const gs_sweep_result *res)
{
    memset(t, 0, sizeof *t);
    const long n = t->n_rows = plan->n_points;
    int ok = 1;
    column *c;
#define INT_COL(name, desc, expr)                                                                  \
    if (ok && (ok = (c = add(t, name, COL_INT, desc)) != NULL))                                    \
        for (long r = 0; r < n; r++)                                                               \
            c->i[r] = (int64_t)(expr);
#define FLOAT_COL(name, desc, expr)                                                                \
    if (ok && (ok = (c = add(t, name, COL_FLOAT, desc)) != NULL))                                  \
        for (long r = 0; r < n; r++)                                                               \
            c->f[r] = (expr);
#define STRING_COL(name, desc, expr)                                                               \
    if (ok && (ok = (c = add(t, name, COL_STRING, desc)) != NULL))                                 \
        for (long r = 0; r < n && ok; r++)                                                         \
            ok = (c->s[r] = strdup(expr)) != NULL;

    INT_COL("index", "the point's number in sweep.plan", r)
    STRING_COL("file", "its run file, in the sweep directory", plan->file[r])
    for (int a = 0; a < plan->n_axes; a++) {
        char name[80];
        snprintf(name, sizeof name, "%s", plan->axes[a].name);
        for (size_t k = 0; k < sizeof fixed_names / sizeof *fixed_names; k++)
            if (strcmp(name, fixed_names[k]) == 0) /* e.g. an axis over --epochs */
                snprintf(name, sizeof name, "axis_%s", plan->axes[a].name);
        int numeric = 1;
        double v;
        for (int k = 0; k < plan->axes[a].n_values; k++)
            numeric &= is_number(plan->axes[a].values[k], &v);
        if (numeric) {
            FLOAT_COL(name, "an axis of the sweep: the value of this train option at the point",
                      strtod(gs_sweep_value(plan, r, a), NULL))
        } else {
            STRING_COL(name, "an axis of the sweep: the value of this train option at the point",
                       gs_sweep_value(plan, r, a))
        }
    }
    STRING_COL("status", "pending (no run file), unfinished, finished, stopped-early, diverged or unreadable",
               gs_sweep_status_name(res[r].status))
    INT_COL("epochs", "epochs the run is configured for", res[r].epochs)
    INT_COL("epochs_done", "epoch of the last per-epoch metrics row; -1 if none", res[r].epochs_done)
    INT_COL("train_acc_50_epoch", "first epoch with train accuracy >= 50%; -1 if never", res[r].fp.train_50)
    INT_COL("train_acc_99_epoch", "first epoch with train accuracy >= 99%; -1 if never", res[r].fp.train_99)
    INT_COL("test_acc_50_epoch", "first epoch with test accuracy >= 50%; -1 if never", res[r].fp.test_50)
    INT_COL("test_acc_99_epoch", "first epoch with test accuracy >= 99% (the grok epoch); -1 if never",
            res[r].fp.test_99)
    FLOAT_COL("delay", "test_acc_99_epoch - train_acc_99_epoch, in epochs; NaN unless both were reached",
              res[r].delay)
    FLOAT_COL("final_train_loss", "train loss at the last epoch; NaN if none", res[r].final_train_loss)
    FLOAT_COL("final_test_loss", "test loss at the last epoch; NaN if none", res[r].final_test_loss)
    FLOAT_COL("final_train_acc", "train accuracy at the last epoch (a fraction); NaN if none",
              res[r].final_train_acc)
    FLOAT_COL("final_test_acc", "test accuracy at the last epoch (a fraction); NaN if none", res[r].final_test_acc)
    FLOAT_COL("end_train_acc", "mean train accuracy over the last tenth of the epochs (what the run kept); NaN if none",
              res[r].fp.train_end)
    FLOAT_COL("end_test_acc", "mean test accuracy over the last tenth of the epochs; NaN if none", res[r].fp.test_end)
    INT_COL("analysed", "1 if the run's /analysis covers every checkpoint (then the phases and key "
                        "frequencies below are filled in)", res[r].analysed)
    INT_COL("memorization_end", "end of memorization (epoch) from the run's /analysis phases; -1 if not "
                                "reached or not analysed", res[r].memorization_end)
    INT_COL("circuit_end", "end of circuit formation (epoch) from /analysis; -1 if not reached or not analysed",
            res[r].circuit_end)
    INT_COL("cleanup_end", "end of cleanup (epoch) from /analysis; -1 if not reached or not analysed",
            res[r].cleanup_end)
    if (ok && (ok = (c = add(t, "key_freqs", COL_STRING, "the key frequencies from /analysis, space-separated; "
                                                          "empty if none or not analysed")) != NULL))
        for (long r = 0; r < n && ok; r++) {
            char s[GS_ANALYSIS_MAX_KEYS * 6 + 1] = "";
            size_t at = 0;
            for (int k = 0; k < res[r].n_key; k++)
                at += (size_t)snprintf(s + at, sizeof s - at, "%s%d", k ? " " : "", res[r].key_freqs[k]);
            ok = (c->s[r] = strdup(s)) != NULL;
        }
    STRING_COL("class", "comprehension, grokking, memorization or confusion (docs/sweeps.md); empty until "
                        "the run has ended", gs_sweep_class_name(res[r].cls))
    FLOAT_COL("wall_s", "seconds spent training and analysing the point, from its log; NaN if unknown",
              res[r].wall_s)
#undef INT_COL
#undef FLOAT_COL
#undef STRING_COL
    if (!ok)
        table_free(t);
    return ok ? 0 : -1;
}

/* ---- HDF5 ---- */

/* Attributes through the run file's writers (checkpoints/gs_h5.h: fixed-length UTF-8
 * strings, little-endian numbers); this table reports a failure as one line of its own,
 * so their message is not kept. */
static int attr_string(hid_t obj, const char *name, const char *value)
{
    gs_err unused;
    return gs_h5_attr_write_str(obj, name, value, name, &unused);
}

static int attr_i64(hid_t obj, const char *name, int64_t value)
{
    gs_err unused;
    return gs_h5_attr_write_i64(obj, name, value, name, &unused);
}

static int attr_f64(hid_t obj, const char *name, double value)
{
    gs_err unused;
    return gs_h5_attr_write_f64(obj, name, value, name, &unused);
}

/* A scalar string dataset (the plan can outgrow an attribute's 64 KiB). */
static int dataset_string(hid_t obj, const char *name, const char *value)
{
    hid_t type = H5Tcopy(H5T_C_S1), space = H5Screate(H5S_SCALAR), d = -1;
    int rc = -1;
    if (type >= 0 && space >= 0 && H5Tset_size(type, strlen(value) + 1) >= 0 &&
        H5Tset_cset(type, H5T_CSET_UTF8) >= 0 &&
        (d = H5Dcreate2(obj, name, type, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT)) >= 0 &&
        H5Dwrite(d, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, value) >= 0 &&
        attr_string(d, "description", "the text of sweep.plan the table was collected from") >= 0)
        rc = 0;
    if (d >= 0)
        H5Dclose(d);
    if (space >= 0)
        H5Sclose(space);
    if (type >= 0)
        H5Tclose(type);
    return rc;
}

static int write_column(hid_t group, const column *c, long n)
{
    hsize_t dims[1] = {(hsize_t)n};
    hid_t space = H5Screate_simple(1, dims, NULL), type = -1, d = -1;
    char *packed = NULL;
    int rc = -1;
    if (space < 0)
        goto out;
    const void *buf;
    if (c->type == COL_INT) {
        type = H5Tcopy(H5T_NATIVE_INT64);
        buf = c->i;
    } else if (c->type == COL_FLOAT) {
        type = H5Tcopy(H5T_NATIVE_DOUBLE);
        buf = c->f;
    } else {
        /* fixed-length UTF-8 strings, as the run files' attributes (h5py: .asstr()) */
        size_t w = 1;
        for (long r = 0; r < n; r++)
            w = strlen(c->s[r]) + 1 > w ? strlen(c->s[r]) + 1 : w;
        packed = calloc((size_t)(n ? n : 1), w);
        type = H5Tcopy(H5T_C_S1);
        if (!packed || type < 0 || H5Tset_size(type, w) < 0 || H5Tset_cset(type, H5T_CSET_UTF8) < 0 ||
            H5Tset_strpad(type, H5T_STR_NULLPAD) < 0)
            goto out;
        for (long r = 0; r < n; r++)
            memcpy(packed + (size_t)r * w, c->s[r], strlen(c->s[r]));
        buf = packed;
    }
    if (type < 0 || (d = H5Dcreate2(group, c->name, type, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT)) < 0 ||
        H5Dwrite(d, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) < 0 || attr_string(d, "description", c->description) < 0)
        goto out;
    rc = 0;
out:
    free(packed);
    if (d >= 0)
        H5Dclose(d);
    if (type >= 0)
        H5Tclose(type);
    if (space >= 0)
        H5Sclose(space);
    return rc;
}

static int write_h5(const char *tmp, const table *t, const gs_sweep_plan *plan)
{
    hid_t gcpl = -1, f = -1, g = -1;
    int rc = -1;
    char *plan_text = gs_sweep_plan_format(plan);
    char names[GS_SWEEP_MAX_AXES * 70 + 1] = "", cols[8192] = "";
    size_t at = 0;
    for (int a = 0; a < plan->n_axes; a++)
        at += (size_t)snprintf(names + at, sizeof names - at, "%s%s", a ? " " : "", plan->axes[a].name);
    at = 0;
    for (int c = 0; c < t->n_cols && at < sizeof cols; c++)
        at += (size_t)snprintf(cols + at, sizeof cols - at, "%s%s", c ? " " : "", t->cols[c].name);
    const double acc = GS_SWEEP_ACC, half = GS_SWEEP_ACC_HALF, ratio = GS_SWEEP_GROK_RATIO, keep = GS_SWEEP_KEEP;
    const int64_t n = t->n_rows, version = 1;
    if (!plan_text)
        goto out;
    /* columns listed in the order written, for readers that iterate the group */
    if ((gcpl = H5Pcreate(H5P_GROUP_CREATE)) < 0 ||
        H5Pset_link_creation_order(gcpl, H5P_CRT_ORDER_TRACKED | H5P_CRT_ORDER_INDEXED) < 0)
        goto out;
    if ((f = H5Fcreate(tmp, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT)) < 0)
        goto out;
    if (attr_string(f, "format", "grokscope-sweep-table") < 0 ||
        attr_i64(f, "format_version", version) < 0 ||
        attr_string(f, "created_by", "grokscope " GS_VERSION) < 0 || attr_string(f, "axes", names) < 0 ||
        attr_string(f, "columns", cols) < 0 || attr_i64(f, "n_points", n) < 0 ||
        attr_f64(f, "acc_threshold", acc) < 0 ||
        attr_f64(f, "acc_half_threshold", half) < 0 ||
        attr_f64(f, "grok_ratio", ratio) < 0 ||
        attr_f64(f, "keep_threshold", keep) < 0 ||
        attr_string(f, "classes", "comprehension: train and test accuracy reach acc_threshold and keep "
                                  "keep_threshold at the end (end_*_acc), test within grok_ratio times the "
                                  "epochs train took; grokking: test later than that; memorization: train "
                                  "reaches and keeps it, test does not; confusion: train does not, or the run "
                                  "diverged") < 0 ||
        dataset_string(f, "plan", plan_text) < 0)
        goto out;
    if ((g = H5Gcreate2(f, "points", H5P_DEFAULT, gcpl, H5P_DEFAULT)) < 0)
        goto out;
    for (int c = 0; c < t->n_cols; c++)
        if (write_column(g, &t->cols[c], t->n_rows) < 0)
            goto out;
    rc = 0;
out:
    free(plan_text);
    if (g >= 0 && H5Gclose(g) < 0)
        rc = -1;
    if (f >= 0 && H5Fclose(f) < 0)
        rc = -1;
    if (gcpl >= 0)
        H5Pclose(gcpl);
    return rc;
}

static void temp_name(const char *path, char *tmp, size_t size)
{
    const char *slash = strrchr(path, '/');
    snprintf(tmp, size, "%.*s.%s.tmp-%ld", slash ? (int)(slash - path + 1) : 0, path, slash ? slash + 1 : path,
             (long)getpid());
}

/* fsync the closed temp file, then rename it into place */
static int commit(const char *tmp, const char *path, gs_err *err)
{
    int fd = open(tmp, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || (fsync(fd) != 0 && errno != EINVAL)) {
        int e = errno;
        if (fd >= 0)
            close(fd);
        unlink(tmp);
        return gs_err_set(err, "cannot write %s: %s", path, strerror(e));
    }
    close(fd);
    if (rename(tmp, path) != 0) {
        int e = errno;
        unlink(tmp);
        return gs_err_set(err, "cannot rename %s to %s: %s", tmp, path, strerror(e));
    }
    return 0;
}

int gs_sweep_table_write_h5(const char *path, const gs_sweep_plan *plan, const gs_sweep_result *results,
                            gs_err *err)
{
    table t;
    if (build(&t, plan, results) != 0)
        return gs_err_set(err, "out of memory");
    char tmp[PATH_MAX + 64];
    temp_name(path, tmp, sizeof tmp);
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    int rc = write_h5(tmp, &t, plan);
    table_free(&t);
    if (rc != 0) {
        unlink(tmp);
        return gs_err_set(err, "cannot write %s (HDF5 error; is the disk full?)", path);
    }
    return commit(tmp, path, err);
}

/* ---- CSV ---- */

static void csv_string(FILE *f, const char *s)
{
    if (!strpbrk(s, ",\"\n\r")) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

/* The shortest of %.15g..%.17g that reads back as the same double ("0.3", not
 * "0.29999999999999999"); NaN as "nan", which pandas and numpy read. */
static void put_double(FILE *f, double v)
{
    if (isnan(v)) {
        fputs("nan", f);
        return;
    }
    char s[40];
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(s, sizeof s, "%.*g", prec, v);
        if (strtod(s, NULL) == v)
            break;
    }
    fputs(s, f);
}

int gs_sweep_table_write_csv(const char *path, const gs_sweep_plan *plan, const gs_sweep_result *results,
                             gs_err *err)
{
    table t;
    if (build(&t, plan, results) != 0)
        return gs_err_set(err, "out of memory");
    char tmp[PATH_MAX + 64];
    temp_name(path, tmp, sizeof tmp);
    FILE *f = fopen(tmp, "w");
    if (!f) {
        int e = errno;
        table_free(&t);
        return gs_err_set(err, "cannot create %s: %s", tmp, strerror(e));
    }
    for (int c = 0; c < t.n_cols; c++) {
        if (c)
            fputc(',', f);
        csv_string(f, t.cols[c].name);
    }
    fputc('\n', f);
    for (long r = 0; r < t.n_rows; r++) {
        for (int c = 0; c < t.n_cols; c++) {
            const column *col = &t.cols[c];
            if (c)
                fputc(',', f);
            if (col->type == COL_INT)
                fprintf(f, "%lld", (long long)col->i[r]);
            else if (col->type == COL_FLOAT)
                put_double(f, col->f[r]);
            else
                csv_string(f, col->s[r]);
        }
        fputc('\n', f);
    }
    table_free(&t);
    int bad = ferror(f);
    if (fclose(f) != 0 || bad) {
        int e = errno ? errno : EIO;
        unlink(tmp);
        return gs_err_set(err, "cannot write %s: %s", path, strerror(e));
    }
    return commit(tmp, path, err);
}
