/* The plan of a sweep: its points laid out from the axes, and DIR/sweep.plan, a text
 * file a person can read (format in docs/sweeps.md). */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sweep_plan.h"

void gs_sweep_plan_free(gs_sweep_plan *plan)
{
    for (int i = 0; i < plan->n_base; i++)
        free(plan->base[i]);
    free(plan->base);
    for (int a = 0; a < plan->n_axes; a++)
        gs_sweep_axis_free(&plan->axes[a]);
    if (plan->file)
        for (long i = 0; i < plan->n_points; i++)
            free(plan->file[i]);
    free(plan->file);
    free(plan->value_index);
    *plan = (gs_sweep_plan){0};
}

const char *gs_sweep_value(const gs_sweep_plan *plan, long point, int axis)
{
    return plan->axes[axis].values[plan->value_index[point * plan->n_axes + axis]];
}

int gs_sweep_axis_index(const gs_sweep_plan *plan, const char *name)
{
    for (int a = 0; a < plan->n_axes; a++)
        if (strcmp(plan->axes[a].name, name) == 0)
            return a;
    return -1;
}

void gs_sweep_point_label(const gs_sweep_plan *plan, long point, char *out, size_t size)
{
    size_t at = 0;
    out[0] = '\0';
    for (int a = 0; a < plan->n_axes && at < size; a++) {
        int w = snprintf(out + at, size - at, "%s%s=%s", a ? " " : "", plan->axes[a].name,
                         gs_sweep_value(plan, point, a));
        if (w < 0)
            break;
        at += (size_t)w;
    }
}

/* A run file name that says what the point is: "0007-lr0.001-wd1-seed0.h5"; only
 * characters that need no quoting in a shell. The number alone keeps it unique. */
static char *run_name(const gs_sweep_plan *plan, long point, int width)
{
    char name[200];
    int n = snprintf(name, sizeof name, "%0*ld", width, point);
    for (int a = 0; a < plan->n_axes && n < 150; a++) {
        n += snprintf(name + n, sizeof name - (size_t)n, "-%s", plan->axes[a].name);
        for (const char *v = gs_sweep_value(plan, point, a); *v && n < 150; v++)
            name[n++] = isalnum((unsigned char)*v) || *v == '.' || *v == '+' || *v == '-' ? *v : '_';
        name[n] = '\0';
    }
    snprintf(name + n, sizeof name - (size_t)n, ".h5");
    return strdup(name);
}

int gs_sweep_plan_build(gs_sweep_plan *plan, int n_base, char *const *base, int n_axes,
                        const gs_sweep_axis *axes, gs_err *err)
{
    *plan = (gs_sweep_plan){0};
    if (n_axes < 1)
        return gs_err_set(err, "no axes: give at least one --grid NAME=VALUES or --seeds LIST");
    if (n_axes > GS_SWEEP_MAX_AXES)
        return gs_err_set(err, "more than %d axes", GS_SWEEP_MAX_AXES);
    if (n_base > GS_SWEEP_MAX_BASE)
        return gs_err_set(err, "more than %d train options", GS_SWEEP_MAX_BASE);
    long n = 1;
    for (int a = 0; a < n_axes; a++) {
        for (int b = 0; b < a; b++)
            if (strcmp(axes[a].name, axes[b].name) == 0)
                return gs_err_set(err, "axis '%s' is given twice", axes[a].name);
        if (axes[a].n_values < 1)
            return gs_err_set(err, "axis '%s' has no values", axes[a].name);
        n *= axes[a].n_values;
        if (n > GS_SWEEP_MAX_POINTS)
            return gs_err_set(err, "the grid has more than %ld points", GS_SWEEP_MAX_POINTS);
    }
    plan->n_base = n_base;
    plan->base = calloc((size_t)n_base + 1, sizeof *plan->base);
    plan->n_axes = n_axes;
    plan->n_points = n;
    plan->value_index = malloc((size_t)n * (size_t)n_axes * sizeof *plan->value_index);
    plan->file = calloc((size_t)n, sizeof *plan->file);
    int ok = plan->base && plan->value_index && plan->file;
    for (int i = 0; ok && i < n_base; i++)
        ok = (plan->base[i] = strdup(base[i])) != NULL;
    for (int a = 0; ok && a < n_axes; a++) {
        gs_sweep_axis *ax = &plan->axes[a];
        ax->n_values = axes[a].n_values;
        ok = (ax->name = strdup(axes[a].name)) && (ax->values = calloc((size_t)ax->n_values, sizeof(char *)));
        for (int v = 0; ok && v < ax->n_values; v++)
            ok = (ax->values[v] = strdup(axes[a].values[v])) != NULL;
    }
    /* the first axis varies slowest, as in nested loops written in the order given */
    for (long i = 0; ok && i < n; i++) {
        long rest = i;
        for (int a = n_axes - 1; a >= 0; a--) {
            plan->value_index[i * n_axes + a] = (int)(rest % axes[a].n_values);
            rest /= axes[a].n_values;
        }
    }
    int width = 4;
    for (long m = n - 1; m >= 10000; m /= 10)
        width++;
    for (long i = 0; ok && i < n; i++)
        ok = (plan->file[i] = run_name(plan, i, width)) != NULL;
    if (!ok) {
        gs_sweep_plan_free(plan);
        return gs_err_set(err, "out of memory");
    }
    return 0;
}

/* ---- the text format ---- */

typedef struct {
    char *s;
    size_t len, cap;
    int failed;
} text_buf;

static void put(text_buf *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(text_buf *t, const char *fmt, ...)
{
    if (t->failed)
        return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(t->s ? t->s + t->len : NULL, t->s ? t->cap - t->len : 0, fmt, ap);
        va_end(ap);
        if (n < 0) {
            t->failed = 1;
            return;
        }
        if (t->s && t->len + (size_t)n < t->cap) {
            t->len += (size_t)n;
            return;
        }
        size_t cap = (t->cap ? 2 * t->cap : 4096) + (size_t)n;
        char *s = realloc(t->s, cap);
        if (!s) {
            t->failed = 1;
            return;
        }
        t->s = s;
        t->cap = cap;
    }
}

/* " token", with a space, '%', or a control byte written %XX */
static void put_token(text_buf *t, const char *tok)
{
    put(t, " ");
    for (const unsigned char *c = (const unsigned char *)tok; *c; c++) {
        if (*c <= 0x20 || *c == 0x7f || *c == '%')
            put(t, "%%%02X", *c);
        else
            put(t, "%c", *c);
    }
}

char *gs_sweep_plan_format(const gs_sweep_plan *plan)
{
    text_buf t = {0};
    put(&t, "# grokscope sweep plan (docs/sweeps.md). The train options shared by every point,\n"
            "# the axes with their values, then one line per point: its number, its run file\n"
            "# and the index (from 0) of its value on each axis. A space, '%%' or a control\n"
            "# character inside a token is written %%XX (hex).\n");
    put(&t, "%s %d\n", GS_SWEEP_PLAN_FORMAT, GS_SWEEP_PLAN_VERSION);
    put(&t, "created-by grokscope %s\n", GS_VERSION);
    put(&t, "train");
    for (int i = 0; i < plan->n_base; i++)
        put_token(&t, plan->base[i]);
    put(&t, "\n");
    for (int a = 0; a < plan->n_axes; a++) {
        put(&t, "axis");
        put_token(&t, plan->axes[a].name);
        for (int v = 0; v < plan->axes[a].n_values; v++)
            put_token(&t, plan->axes[a].values[v]);
        put(&t, "\n");
    }
    put(&t, "points %ld\n", plan->n_points);
    for (long i = 0; i < plan->n_points; i++) {
        put(&t, "point %ld", i);
        put_token(&t, plan->file[i]);
        for (int a = 0; a < plan->n_axes; a++)
            put(&t, " %d", plan->value_index[i * plan->n_axes + a]);
        put(&t, "\n");
    }
    if (t.failed) {
        free(t.s);
        return NULL;
    }
    return t.s;
}

/* The next line that is neither a comment nor the created-by line. */
static const char *significant_line(const char *s, size_t *len)
{
    while (*s) {
        const char *e = strchr(s, '\n');
        size_t n = e ? (size_t)(e - s) : strlen(s);
        if (n > 0 && s[0] != '#' && strncmp(s, "created-by ", 11) != 0) {
            *len = n;
            return s;
        }
        s += n + (e ? 1 : 0);
    }
    return NULL;
}

int gs_sweep_plan_text_same(const char *a, const char *b)
{
    for (;;) {
        size_t na, nb;
        const char *la = significant_line(a, &na), *lb = significant_line(b, &nb);
        if (!la || !lb)
            return !la && !lb;
        if (na != nb || memcmp(la, lb, na) != 0)
            return 0;
        a = la + na;
        b = lb + nb;
    }
}

/* Decodes %XX in place; 0, or -1 on a bad escape. */
static int decode(char *tok)
{
    char *w = tok;
    for (const char *r = tok; *r; r++) {
        if (*r != '%') {
            *w++ = *r;
            continue;
        }
        if (!isxdigit((unsigned char)r[1]) || !isxdigit((unsigned char)r[2]))
            return -1;
        char hex[3] = {r[1], r[2], 0};
        *w++ = (char)strtol(hex, NULL, 16);
        r += 2;
    }
    *w = '\0';
    return 0;
}

#define MAX_TOKENS (GS_SWEEP_MAX_VALUES + 8)

/* Splits line (modified) at spaces into decoded tokens; -1 on a bad escape. */
static int tokens(char *line, char **tok, int max, int *n)
{
    *n = 0;
    for (char *save = NULL, *t = strtok_r(line, " \t\r", &save); t; t = strtok_r(NULL, " \t\r", &save)) {
        if (*n >= max || decode(t) != 0)
            return -1;
        tok[(*n)++] = t;
    }
    return 0;
}

static int parse_long(const char *s, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (end == s || *end || errno || v < lo || v > hi || !isdigit((unsigned char)s[s[0] == '-']))
        return -1;
    *out = v;
    return 0;
}

/* A run file name the sweep may write: a plain name in DIR ending in .h5. */
static int safe_file_name(const char *f)
{
    size_t n = strlen(f);
    return n > 3 && n < 256 && f[0] != '.' && !strchr(f, '/') && strcmp(f + n - 3, ".h5") == 0 &&
           strcmp(f, "sweep.h5") != 0;
}

static int store(char **dst, const char *s)
{
    return (*dst = strdup(s)) ? 0 : -1;
}

int gs_sweep_plan_parse(gs_sweep_plan *plan, const char *text, const char *where, gs_err *err)
{
    *plan = (gs_sweep_plan){0};
    char *copy = strdup(text);
    char **tok = malloc(MAX_TOKENS * sizeof *tok);
    int rc = -1, lineno = 0, have_header = 0, have_train = 0;
    long next_point = 0;
    if (!copy || !tok) {
        gs_err_set(err, "out of memory");
        goto out;
    }
#define BAD(...)                                                                                   \
    do {                                                                                           \
        char what_[600];                                                                           \
        snprintf(what_, sizeof what_, __VA_ARGS__);                                                \
        gs_err_set(err, "%s line %d: %s", where, lineno, what_);                                   \
        goto out;                                                                                  \
    } while (0)
    for (char *save = NULL, *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        lineno++;
        /* strtok_r skips empty lines, so count the ones it skipped */
        for (const char *c = line - 1; c > copy && *c == '\n' && c[-1] == '\n'; c--)
            lineno++;
        if (line[0] == '#')
            continue;
        int n;
        if (tokens(line, tok, MAX_TOKENS, &n) != 0)
            BAD("a bad %%XX escape or too many values");
        if (n == 0)
            continue;
        if (!have_header) {
            long v;
            if (n != 2 || strcmp(tok[0], GS_SWEEP_PLAN_FORMAT) != 0)
                BAD("not a grokscope sweep plan (it should start with '%s %d')", GS_SWEEP_PLAN_FORMAT,
                    GS_SWEEP_PLAN_VERSION);
            if (parse_long(tok[1], 1, 1000000, &v) != 0 || v > GS_SWEEP_PLAN_VERSION)
                BAD("plan format version %s; this grokscope reads version %d (a newer grokscope wrote it?)",
                    tok[1], GS_SWEEP_PLAN_VERSION);
            have_header = 1;
        } else if (strcmp(tok[0], "created-by") == 0) {
            continue;
        } else if (strcmp(tok[0], "train") == 0) {
            if (have_train || plan->n_axes)
                BAD("a second 'train' line, or one after the axes");
            if (n - 1 > GS_SWEEP_MAX_BASE)
                BAD("more than %d train options", GS_SWEEP_MAX_BASE);
            have_train = 1;
            plan->base = calloc((size_t)n, sizeof *plan->base);
            if (!plan->base)
                BAD("out of memory");
            for (int i = 1; i < n; i++) {
                if (store(&plan->base[i - 1], tok[i]) != 0)
                    BAD("out of memory");
                plan->n_base = i;
            }
        } else if (strcmp(tok[0], "axis") == 0) {
            if (!have_train || plan->value_index)
                BAD("an axis before the 'train' line or after 'points'");
            if (plan->n_axes >= GS_SWEEP_MAX_AXES)
                BAD("more than %d axes", GS_SWEEP_MAX_AXES);
            if (n < 3)
                BAD("an axis needs a name and at least one value");
            gs_sweep_axis *ax = &plan->axes[plan->n_axes++];
            if (store(&ax->name, tok[1]) != 0 || !(ax->values = calloc((size_t)n - 2, sizeof(char *))))
                BAD("out of memory");
            for (int a = 0; a < plan->n_axes - 1; a++)
                if (strcmp(plan->axes[a].name, ax->name) == 0)
                    BAD("axis '%s' twice", ax->name);
            for (int i = 2; i < n; i++) {
                if (store(&ax->values[i - 2], tok[i]) != 0)
                    BAD("out of memory");
                ax->n_values = i - 1;
            }
        } else if (strcmp(tok[0], "points") == 0) {
            long v;
            if (plan->value_index || n != 2 || parse_long(tok[1], 1, GS_SWEEP_MAX_POINTS, &v) != 0)
                BAD("expected 'points N' once, with 1 <= N <= %ld", GS_SWEEP_MAX_POINTS);
            if (plan->n_axes == 0)
                BAD("'points' before any axis");
            plan->n_points = v;
            plan->value_index = malloc((size_t)v * (size_t)plan->n_axes * sizeof *plan->value_index);
            plan->file = calloc((size_t)v, sizeof *plan->file);
            if (!plan->value_index || !plan->file)
                BAD("out of memory");
        } else if (strcmp(tok[0], "point") == 0) {
            long idx, vi;
            if (!plan->value_index)
                BAD("a point before the 'points N' line");
            if (n != 3 + plan->n_axes)
                BAD("a point needs its number, its file and %d value indices", plan->n_axes);
            if (parse_long(tok[1], 0, plan->n_points - 1, &idx) != 0 || idx != next_point)
                BAD("expected point %ld", next_point);
            if (!safe_file_name(tok[2]))
                BAD("'%s' is not a run file name the sweep may use (NAME.h5 inside the directory)", tok[2]);
            for (long j = 0; j < idx; j++)
                if (strcmp(plan->file[j], tok[2]) == 0)
                    BAD("points %ld and %ld share the run file %s", j, idx, tok[2]);
            for (int a = 0; a < plan->n_axes; a++) {
                if (parse_long(tok[3 + a], 0, plan->axes[a].n_values - 1, &vi) != 0)
                    BAD("value index %s of axis '%s' is out of range", tok[3 + a], plan->axes[a].name);
                plan->value_index[idx * plan->n_axes + a] = (int)vi;
            }
            if (store(&plan->file[idx], tok[2]) != 0)
                BAD("out of memory");
            next_point++;
        } else {
            BAD("unknown line '%s'", tok[0]);
        }
    }
    if (!have_header)
        BAD("empty, not a grokscope sweep plan");
    if (!have_train || !plan->value_index)
        BAD("incomplete: it needs a 'train' line, the axes and 'points N'");
    if (next_point != plan->n_points)
        BAD("%ld of %ld points listed", next_point, plan->n_points);
#undef BAD
    rc = 0;
out:
    free(copy);
    free(tok);
    if (rc != 0)
        gs_sweep_plan_free(plan); /* what was stored so far; the rest is NULL or zero */
    return rc;
}

int gs_sweep_read_text(const char *path, size_t max, char **text, gs_err *err)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return gs_err_set(err, "cannot read %s: %s", path, strerror(errno));
    size_t cap = 65536, len = 0;
    char *s = malloc(cap);
    for (;;) {
        if (!s) {
            fclose(f);
            return gs_err_set(err, "out of memory");
        }
        len += fread(s + len, 1, cap - 1 - len, f);
        if (len < cap - 1 || len >= max)
            break;
        char *t = realloc(s, 2 * cap);
        if (!t)
            free(s);
        s = t;
        cap *= 2;
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        free(s);
        return gs_err_set(err, "cannot read %s", path);
    }
    if (len >= max) {
        free(s);
        return gs_err_set(err, "%s is larger than %zu bytes", path, max);
    }
    s[len] = '\0';
    if (strlen(s) != len) {
        free(s);
        return gs_err_set(err, "%s is not a text file", path);
    }
    *text = s;
    return 0;
}

int gs_sweep_write_text(const char *path, const char *text, size_t len, gs_err *err)
{
    char tmp[PATH_MAX + 64];
    const char *slash = strrchr(path, '/');
    if (snprintf(tmp, sizeof tmp, "%.*s.%s.tmp-%ld", slash ? (int)(slash - path + 1) : 0, path,
                 slash ? slash + 1 : path, (long)getpid()) >= (int)sizeof tmp)
        return gs_err_set(err, "%s: path too long", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    if (fd < 0)
        return gs_err_set(err, "cannot create %s: %s", tmp, strerror(errno));
    for (size_t at = 0; at < len;) {
        ssize_t w = write(fd, text + at, len - at);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            int e = w < 0 ? errno : EIO;
            close(fd);
            unlink(tmp);
            return gs_err_set(err, "cannot write %s: %s", path, strerror(e));
        }
        at += (size_t)w;
    }
    if (fsync(fd) != 0 && errno != EINVAL) {
        int e = errno;
        close(fd);
        unlink(tmp);
        return gs_err_set(err, "cannot write %s: %s", path, strerror(e));
    }
    if (close(fd) != 0) {
        int e = errno;
        unlink(tmp);
        return gs_err_set(err, "cannot write %s: %s", path, strerror(e));
    }
    if (rename(tmp, path) != 0) {
        int e = errno;
        unlink(tmp);
        return gs_err_set(err, "cannot rename %s to %s: %s", tmp, path, strerror(e));
    }
    return 0;
}

int gs_sweep_plan_read(gs_sweep_plan *plan, const char *dir, gs_err *err)
{
    char path[PATH_MAX];
    if (snprintf(path, sizeof path, "%s/%s", dir, GS_SWEEP_PLAN_FILE) >= (int)sizeof path)
        return gs_err_set(err, "%s: path too long", dir);
    struct stat st;
    if (stat(dir, &st) != 0)
        return gs_err_set(err, "%s: %s", dir, strerror(errno));
    if (!S_ISDIR(st.st_mode))
        return gs_err_set(err, "%s is not a directory (a sweep is a directory made by grokscope sweep create)", dir);
    if (stat(path, &st) != 0 && errno == ENOENT)
        return gs_err_set(err, "%s is not a sweep directory: it has no %s (make one with grokscope sweep create)",
                          dir, GS_SWEEP_PLAN_FILE);
    char *text;
    if (gs_sweep_read_text(path, (size_t)1 << 30, &text, err) != 0)
        return -1;
    int rc = gs_sweep_plan_parse(plan, text, path, err);
    free(text);
    return rc;
}

int gs_sweep_point_args(const gs_sweep_plan *plan, long point, int extra, gs_sweep_args *out)
{
    const int n = 1 + plan->n_base + 2 * plan->n_axes;
    *out = (gs_sweep_args){0};
    out->argv = calloc((size_t)(n + extra + 1), sizeof *out->argv);
    out->flags = malloc((size_t)plan->n_axes * 72);
    if (!out->argv || !out->flags) {
        gs_sweep_args_free(out);
        return -1;
    }
    int k = 0;
    out->argv[k++] = (char *)"train";
    for (int i = 0; i < plan->n_base; i++)
        out->argv[k++] = plan->base[i];
    /* "--NAME" and the value as two arguments, the way a person types them (and the
     * way the run file's command_line then reads) */
    for (int a = 0; a < plan->n_axes; a++) {
        char *f = out->flags + 72 * a;
        snprintf(f, 72, "--%s", plan->axes[a].name);
        out->argv[k++] = f;
        out->argv[k++] = (char *)gs_sweep_value(plan, point, a);
    }
    out->argc = k;
    return 0;
}

void gs_sweep_args_free(gs_sweep_args *args)
{
    free(args->argv);
    free(args->flags);
    *args = (gs_sweep_args){0};
}
