/* grokscope_sweep: a sweep directory's plan (sweep/sweep_plan.h): laid out from a
 * spec and written to DIR/sweep.plan, or read back; its axes, points, labels, run
 * files and train arguments. What the train options mean is the caller's (the command
 * line checks them with train's own parser): the library gets each point's
 * configuration from it (grokscope_sweep_set_config). */
#include "gsl_sweep.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

_Static_assert(GROKSCOPE_SWEEP_MAX_AXES == GS_SWEEP_MAX_AXES, "the public axis limit is the plan's");
_Static_assert(GROKSCOPE_SWEEP_MAX_POINTS == GS_SWEEP_MAX_POINTS, "the public point limit is the plan's");

static grokscope_sweep *sweep_alloc(void)
{
    return calloc(1, sizeof(grokscope_sweep));
}

int grokscope_sweep_new(grokscope_sweep **out)
{
    return (*out = sweep_alloc()) ? GROKSCOPE_OK : GROKSCOPE_ERR_NOMEM;
}

const char *grokscope_sweep_error(const grokscope_sweep *sw)
{
    return sw->err;
}

void grokscope_sweep_free(grokscope_sweep *sw)
{
    if (!sw)
        return;
    for (int a = 0; a < sw->n_new; a++)
        gs_sweep_axis_free(&sw->new_axes[a]);
    for (long i = 0; sw->cfg && i < sw->plan.n_points; i++)
        grokscope_config_free(sw->cfg[i]);
    free(sw->cfg);
    free(sw->res);
    free(sw->have_res);
    free(sw->shares);
    gs_sweep_plan_free(&sw->plan);
    free(sw->dir);
    free(sw);
}

int gsl_sweep_alloc_points(grokscope_sweep *sw)
{
    const size_t n = (size_t)(sw->plan.n_points > 0 ? sw->plan.n_points : 1);
    sw->cfg = calloc(n, sizeof *sw->cfg);
    sw->res = calloc(n, sizeof *sw->res);
    sw->have_res = calloc(n, 1);
    if (!sw->cfg || !sw->res || !sw->have_res)
        return GSL_SET(sw, GROKSCOPE_ERR_NOMEM, "out of memory");
    return GROKSCOPE_OK;
}

static int add(grokscope_sweep *sw, const char *spec, int seeds)
{
    if (sw->built)
        return GSL_SET(sw, GROKSCOPE_ERR_INVALID, "the sweep is laid out already: axes come first");
    if (!spec)
        return GSL_SET(sw, GROKSCOPE_ERR_INVALID, "no axis given");
    if (sw->n_new == GS_SWEEP_MAX_AXES)
        return GSL_SET(sw, GROKSCOPE_ERR_INVALID, "more than %d axes", GS_SWEEP_MAX_AXES);
    gs_err err = {0};
    gs_sweep_axis *axis = &sw->new_axes[sw->n_new];
    if ((seeds ? gs_sweep_seeds_parse(spec, axis, &err) : gs_sweep_axis_parse(spec, axis, &err)) != 0)
        return GSL_SET(sw, GROKSCOPE_ERR_INVALID, "%s", err.msg);
    sw->n_new++;
    return GROKSCOPE_OK;
}

int grokscope_sweep_add_axis(grokscope_sweep *sw, const char *spec)
{
    return add(sw, spec, 0);
}

int grokscope_sweep_add_seeds(grokscope_sweep *sw, const char *spec)
{
    return add(sw, spec, 1);
}

int grokscope_sweep_build(grokscope_sweep *sw, int n_base, char *const *base)
{
    if (sw->built)
        return GSL_SET(sw, GROKSCOPE_ERR_INVALID, "the sweep is laid out already");
    if (n_base < 0 || (n_base > 0 && !base))
        return GSL_SET(sw, GROKSCOPE_ERR_INVALID, "no base options given");
    gs_err err = {0};
    if (gs_sweep_plan_build(&sw->plan, n_base, base, sw->n_new, sw->new_axes, &err) != 0)
        return GSL_SET(sw, GROKSCOPE_ERR_INVALID, "%s", err.msg);
    for (int a = 0; a < sw->n_new; a++)
        gs_sweep_axis_free(&sw->new_axes[a]);
    sw->n_new = 0;
    sw->built = 1;
    return gsl_sweep_alloc_points(sw);
}

static int compare_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* 0 if dir holds no *.h5 file other than the plan's run files (plan NULL: any run
 * file is in the way) and sweep.h5. */
static int check_files(const char *dir, const gs_sweep_plan *plan, gs_err *err)
{
    const long n = plan ? plan->n_points : 0;
    char **sorted = malloc((size_t)(n ? n : 1) * sizeof *sorted);
    if (!sorted)
        return gs_err_set(err, "out of memory");
    if (n)
        memcpy(sorted, plan->file, (size_t)n * sizeof *sorted);
    qsort(sorted, (size_t)n, sizeof *sorted, compare_names);
    DIR *d = opendir(dir);
    if (!d) {
        free(sorted);
        return gs_err_set(err, "cannot read the directory %s: %s", dir, strerror(errno));
    }
    int rc = 0;
    for (struct dirent *e; rc == 0 && (e = readdir(d));) {
        const char *name = e->d_name;
        const size_t len = strlen(name);
        if (name[0] == '.' || len < 4 || strcmp(name + len - 3, ".h5") != 0 || strcmp(name, "sweep.h5") == 0)
            continue;
        if (bsearch(&name, sorted, (size_t)n, sizeof *sorted, compare_names))
            continue;
        if (plan)
            rc = gs_err_set(err, "%s/%s belongs to no point of the sweep (sweep.plan names %ld run files); "
                                 "move it out of %s", dir, name, n, dir);
        else
            rc = gs_err_set(err, "%s/%s is in the way: a sweep directory holds only its own run files; "
                                 "choose an empty or new directory", dir, name);
    }
    closedir(d);
    free(sorted);
    return rc;
}

int grokscope_sweep_check_files(grokscope_sweep *sw)
{
    if (!sw->built || !sw->dir)
        return GSL_SET(sw, GROKSCOPE_ERR_INVALID, "the sweep has no directory yet");
    gs_err err = {0};
    if (check_files(sw->dir, &sw->plan, &err) != 0)
        return GSL_SET(sw, GROKSCOPE_ERR_INVALID, "%s", err.msg);
    return GROKSCOPE_OK;
}

/* mkdir -p */
static int mkdirs(const char *dir, gs_err *err)
{
    char path[PATH_MAX];
    if (snprintf(path, sizeof path, "%s", dir) >= (int)sizeof path)
        return gs_err_set(err, "%s: path too long", dir);
    for (char *s = path + 1;; s++) {
        const int end = *s == '\0';
        if (*s == '/' || end) {
            *s = '\0';
            if (mkdir(path, 0777) != 0 && errno != EEXIST)
                return gs_err_set(err, "cannot create the directory %s: %s", path, strerror(errno));
            if (end)
                break;
            *s = '/';
        }
    }
    return 0;
}

/* The checks and the writing of grokscope_sweep_write_plan: 0, 1 if dir holds this
 * very sweep, or -1 with err. */
static int write_plan(const gs_sweep_plan *plan, const char *dir, gs_err *err)
{
    char *text = gs_sweep_plan_format(plan), *old = NULL;
    if (!text)
        return gs_err_set(err, "out of memory");
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/%s", dir, GS_SWEEP_PLAN_FILE);
    int rc = 0;
    struct stat st;
    if (stat(dir, &st) == 0 && !S_ISDIR(st.st_mode)) {
        rc = gs_err_set(err, "%s exists and is not a directory", dir);
    } else if (stat(path, &st) == 0) {
        if ((rc = gs_sweep_read_text(path, (size_t)1 << 30, &old, err)) == 0) {
            if (gs_sweep_plan_text_same(old, text))
                rc = 1;
            else
                rc = gs_err_set(err, "%s already holds another sweep (%s); choose another directory, or "
                                     "continue that one with grokscope sweep run %s", dir, path, dir);
        }
    } else if ((stat(dir, &st) == 0 && check_files(dir, NULL, err) != 0) || mkdirs(dir, err) != 0 ||
               gs_sweep_write_text(path, text, strlen(text), err) != 0) {
        rc = -1;
    }
    free(text);
    free(old);
    return rc;
}

int grokscope_sweep_write_plan(grokscope_sweep *sw, const char *dir, int *existed)
{
    if (!sw->built)
        return GSL_SET(sw, GROKSCOPE_ERR_INVALID, "the sweep is not laid out yet (grokscope_sweep_build)");
    if (!dir || !dir[0])
        return GSL_SET(sw, GROKSCOPE_ERR_INVALID, "no directory given");
    gs_err err = {0};
    const int rc = write_plan(&sw->plan, dir, &err);
    if (rc < 0)
        return GSL_SET(sw, GROKSCOPE_ERR_INVALID, "%s", err.msg);
    if (existed)
        *existed = rc == 1;
    char *copy = strdup(dir);
    if (!copy)
        return GSL_SET(sw, GROKSCOPE_ERR_NOMEM, "out of memory");
    free(sw->dir);
    sw->dir = copy;
    return GROKSCOPE_OK;
}

int grokscope_sweep_is_dir(const char *path)
{
    char plan[PATH_MAX];
    struct stat st;
    if (!path || stat(path, &st) != 0 || !S_ISDIR(st.st_mode))
        return 0;
    snprintf(plan, sizeof plan, "%s/%s", path, GS_SWEEP_PLAN_FILE);
    return stat(plan, &st) == 0;
}

int grokscope_sweep_open(const char *dir, grokscope_sweep **out)
{
    grokscope_sweep *sw = *out = sweep_alloc();
    if (!sw)
        return GROKSCOPE_ERR_NOMEM;
    if (!dir)
        return GSL_SET(sw, GROKSCOPE_ERR_INVALID, "no sweep directory given");
    if (!(sw->dir = strdup(dir)))
        return GSL_SET(sw, GROKSCOPE_ERR_NOMEM, "out of memory");
    gs_err err = {0};
    if (gs_sweep_plan_read(&sw->plan, dir, &err) != 0)
        return GSL_SET(sw, GROKSCOPE_ERR_INVALID, "%s", err.msg);
    sw->built = 1;
    return gsl_sweep_alloc_points(sw);
}

/* ---- the plan ---- */

const char *grokscope_sweep_dir(const grokscope_sweep *sw)
{
    return sw->dir;
}

long grokscope_sweep_n_points(const grokscope_sweep *sw)
{
    return sw->built ? sw->plan.n_points : 0;
}

static const gs_sweep_axis *axis_at(const grokscope_sweep *sw, int a)
{
    const int n = sw->built ? sw->plan.n_axes : sw->n_new;
    if (a < 0 || a >= n)
        return NULL;
    return sw->built ? &sw->plan.axes[a] : &sw->new_axes[a];
}

int grokscope_sweep_n_axes(const grokscope_sweep *sw)
{
    return sw->built ? sw->plan.n_axes : sw->n_new;
}

const char *grokscope_sweep_axis_name(const grokscope_sweep *sw, int axis)
{
    const gs_sweep_axis *a = axis_at(sw, axis);
    return a ? a->name : NULL;
}

int grokscope_sweep_axis_n_values(const grokscope_sweep *sw, int axis)
{
    const gs_sweep_axis *a = axis_at(sw, axis);
    return a ? a->n_values : 0;
}

const char *grokscope_sweep_axis_value(const grokscope_sweep *sw, int axis, int v)
{
    const gs_sweep_axis *a = axis_at(sw, axis);
    return a && v >= 0 && v < a->n_values ? a->values[v] : NULL;
}

int grokscope_sweep_n_base(const grokscope_sweep *sw)
{
    return sw->built ? sw->plan.n_base : 0;
}

const char *grokscope_sweep_base(const grokscope_sweep *sw, int i)
{
    return sw->built && i >= 0 && i < sw->plan.n_base ? sw->plan.base[i] : NULL;
}

static int has_point(const grokscope_sweep *sw, long point)
{
    return sw->built && point >= 0 && point < sw->plan.n_points;
}

const char *grokscope_sweep_value(const grokscope_sweep *sw, long point, int axis)
{
    if (!has_point(sw, point) || axis < 0 || axis >= sw->plan.n_axes)
        return NULL;
    return gs_sweep_value(&sw->plan, point, axis);
}

int grokscope_sweep_label(const grokscope_sweep *sw, long point, char *buf, size_t size)
{
    if (!has_point(sw, point) || !buf || size == 0)
        return GROKSCOPE_ERR_INVALID;
    gs_sweep_point_label(&sw->plan, point, buf, size);
    return GROKSCOPE_OK;
}

const char *grokscope_sweep_file(const grokscope_sweep *sw, long point)
{
    return has_point(sw, point) ? sw->plan.file[point] : NULL;
}

int grokscope_sweep_run_path(const grokscope_sweep *sw, long point, char *buf, size_t size)
{
    if (!has_point(sw, point) || !sw->dir || !buf || size == 0)
        return GROKSCOPE_ERR_INVALID;
    return snprintf(buf, size, "%s/%s", sw->dir, sw->plan.file[point]) < (int)size ? GROKSCOPE_OK
                                                                                      : GROKSCOPE_ERR_INVALID;
}

int grokscope_sweep_log_path(const grokscope_sweep *sw, long point, char *buf, size_t size)
{
    if (!has_point(sw, point) || !sw->dir || !buf || size == 0)
        return GROKSCOPE_ERR_INVALID;
    gs_sweep_log_path(sw->dir, sw->plan.file[point], buf, size);
    return GROKSCOPE_OK;
}

int grokscope_sweep_point_argv(grokscope_sweep *sw, long point, int extra, int *argc, char ***argv)
{
    *argv = NULL;
    if (!has_point(sw, point) || extra < 0)
        return GSL_SET(sw, GROKSCOPE_ERR_INVALID, "point %ld: the sweep has %ld points", point,
                       grokscope_sweep_n_points(sw));
    gs_sweep_args args;
    if (gs_sweep_point_args(&sw->plan, point, extra, &args) != 0)
        return GSL_SET(sw, GROKSCOPE_ERR_NOMEM, "out of memory");
    /* one block: the pointers (and the room), then the strings, so one free releases it */
    const size_t n_ptr = (size_t)args.argc + (size_t)extra + 1;
    size_t bytes = n_ptr * sizeof(char *);
    for (int i = 0; i < args.argc; i++)
        bytes += strlen(args.argv[i]) + 1;
    char **v = calloc(1, bytes);
    if (!v) {
        gs_sweep_args_free(&args);
        return GSL_SET(sw, GROKSCOPE_ERR_NOMEM, "out of memory");
    }
    char *at = (char *)(v + n_ptr);
    for (int i = 0; i < args.argc; i++) {
        const size_t len = strlen(args.argv[i]) + 1;
        memcpy(at, args.argv[i], len);
        v[i] = at;
        at += len;
    }
    *argc = args.argc;
    *argv = v;
    gs_sweep_args_free(&args);
    return GROKSCOPE_OK;
}

void grokscope_sweep_argv_free(char **argv)
{
    free(argv);
}

int grokscope_sweep_parse_only(grokscope_sweep *sw, const char *list, unsigned char *selected)
{
    if (!sw->built || !list || !selected)
        return GSL_SET(sw, GROKSCOPE_ERR_INVALID, "no list of points given");
    gs_err err = {0};
    if (gs_sweep_parse_only(list, sw->plan.n_points, selected, &err) != 0)
        return GSL_SET(sw, GROKSCOPE_ERR_INVALID, "%s", err.msg);
    return GROKSCOPE_OK;
}

int grokscope_sweep_set_config(grokscope_sweep *sw, long point, const grokscope_config *cfg)
{
    if (!has_point(sw, point) || !cfg)
        return GSL_SET(sw, GROKSCOPE_ERR_INVALID, "point %ld: the sweep has %ld points", point,
                       grokscope_sweep_n_points(sw));
    grokscope_config *copy = grokscope_config_copy(cfg);
    if (!copy)
        return GSL_SET(sw, GROKSCOPE_ERR_NOMEM, "out of memory");
    grokscope_config_free(sw->cfg[point]);
    sw->cfg[point] = copy;
    return GROKSCOPE_OK;
}

const grokscope_config *grokscope_sweep_config(const grokscope_sweep *sw, long point)
{
    return has_point(sw, point) ? sw->cfg[point] : NULL;
}
