/* The grid syntax of sweep create: an axis's values as a list, integer ranges and
 * evenly spaced (lin or log) ranges; seeds; point selections for --only. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sweep_plan.h"

void gs_sweep_axis_free(gs_sweep_axis *axis)
{
    if (axis->values)
        for (int i = 0; i < axis->n_values; i++)
            free(axis->values[i]);
    free(axis->values);
    free(axis->name);
    *axis = (gs_sweep_axis){0};
}

/* The whole of s is a finite number. */
static int as_number(const char *s, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || *end != '\0' || !isfinite(v) || isspace((unsigned char)s[0]))
        return 0;
    *out = v;
    return 1;
}

/* The whole of s is a (long) integer. */
static int as_integer(const char *s, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (end == s || *end != '\0' || errno == ERANGE || isspace((unsigned char)s[0]))
        return 0;
    *out = v;
    return 1;
}

int gs_sweep_same_value(const char *a, const char *b)
{
    double x, y;
    if (strcmp(a, b) == 0)
        return 1;
    return as_number(a, &x) && as_number(b, &y) && x == y;
}

static int push(gs_sweep_axis *axis, const char *value, gs_err *err)
{
    if (axis->n_values >= GS_SWEEP_MAX_VALUES)
        return gs_err_set(err, "axis '%s' has more than %d values", axis->name, GS_SWEEP_MAX_VALUES);
    for (int i = 0; i < axis->n_values; i++)
        if (gs_sweep_same_value(axis->values[i], value)) {
            if (strcmp(axis->values[i], value) == 0)
                return gs_err_set(err, "axis '%s' lists %s twice", axis->name, value);
            return gs_err_set(err, "axis '%s' lists the same value twice ('%s' and '%s')", axis->name,
                              axis->values[i], value);
        }
    char **grown = realloc(axis->values, (size_t)(axis->n_values + 1) * sizeof *grown);
    char *copy = strdup(value);
    if (!grown || !copy) {
        free(copy);
        if (grown)
            axis->values = grown;
        return gs_err_set(err, "out of memory");
    }
    axis->values = grown;
    axis->values[axis->n_values++] = copy;
    return 0;
}

/* "A..B", "A..B:lin:N", "A..B:log:N" (item contains ".."). */
static int push_range(gs_sweep_axis *axis, const char *item, gs_err *err)
{
    char buf[256];
    if (strlen(item) >= sizeof buf)
        return gs_err_set(err, "axis '%s': range '%s' is too long", axis->name, item);
    strcpy(buf, item);
    char *dots = strstr(buf, "..");
    *dots = '\0';
    char *lo = buf, *hi = dots + 2, *how = strchr(hi, ':'), *count = NULL;
    if (how) {
        *how++ = '\0';
        count = strchr(how, ':');
        if (!count)
            return gs_err_set(err, "axis '%s': range '%s' needs a count: A..B:lin:N or A..B:log:N", axis->name,
                              item);
        *count++ = '\0';
    }
    if (!how) {
        long a, b;
        if (!as_integer(lo, &a) || !as_integer(hi, &b))
            return gs_err_set(err, "axis '%s': range '%s' without a count must run between integers "
                                   "(else write A..B:lin:N or A..B:log:N)", axis->name, item);
        if (a > b)
            return gs_err_set(err, "axis '%s': range '%s' is empty (%ld > %ld)", axis->name, item, a, b);
        if (b - a >= GS_SWEEP_MAX_VALUES)
            return gs_err_set(err, "axis '%s': range '%s' has more than %d values", axis->name, item,
                              GS_SWEEP_MAX_VALUES);
        for (long v = a; v <= b; v++) {
            char s[32];
            snprintf(s, sizeof s, "%ld", v);
            if (push(axis, s, err) != 0)
                return -1;
        }
        return 0;
    }
    double a, b;
    long n;
    const int lg = strcmp(how, "log") == 0;
    if (!lg && strcmp(how, "lin") != 0)
        return gs_err_set(err, "axis '%s': range '%s': spacing '%s' is not lin or log", axis->name, item, how);
    if (!as_number(lo, &a) || !as_number(hi, &b))
        return gs_err_set(err, "axis '%s': range '%s' needs numbers at both ends", axis->name, item);
    if (!as_integer(count, &n) || n < 2 || n > GS_SWEEP_MAX_VALUES)
        return gs_err_set(err, "axis '%s': range '%s': the count must be an integer from 2 to %d", axis->name,
                          item, GS_SWEEP_MAX_VALUES);
    if (lg && !(a > 0 && b > 0))
        return gs_err_set(err, "axis '%s': range '%s': a log range needs positive ends", axis->name, item);
    for (long i = 0; i < n; i++) {
        const double t = (double)i / (double)(n - 1);
        /* ends exactly as given, so that 1e-4..1e-2:log:3 includes 1e-4 and 0.01 */
        double v = i == 0 ? a : i == n - 1 ? b : lg ? exp(log(a) + t * (log(b) - log(a))) : a + t * (b - a);
        char s[64];
        snprintf(s, sizeof s, "%.6g", v);
        if (push(axis, s, err) != 0)
            return -1;
    }
    return 0;
}

/* Splits list at commas into items, each a value or a range. */
static int push_items(gs_sweep_axis *axis, const char *list, gs_err *err)
{
    if (!list[0])
        return gs_err_set(err, "axis '%s' has no values", axis->name);
    const char *at = list;
    for (;;) {
        const char *end = strchr(at, ',');
        size_t len = end ? (size_t)(end - at) : strlen(at);
        char item[256];
        if (len == 0)
            return gs_err_set(err, "axis '%s': empty value in '%s'", axis->name, list);
        if (len >= sizeof item)
            return gs_err_set(err, "axis '%s': value '%.*s...' is too long", axis->name, 40, at);
        memcpy(item, at, len);
        item[len] = '\0';
        if ((strstr(item, "..") ? push_range(axis, item, err) : push(axis, item, err)) != 0)
            return -1;
        if (!end)
            return 0;
        at = end + 1;
    }
}

int gs_sweep_axis_parse(const char *spec, gs_sweep_axis *axis, gs_err *err)
{
    *axis = (gs_sweep_axis){0};
    const char *eq = strchr(spec, '=');
    if (!eq)
        return gs_err_set(err, "--grid '%s': expected NAME=VALUES, e.g. lr=1e-3,3e-3 or wd=0.1..10:log:5", spec);
    const char *name = spec;
    size_t n = (size_t)(eq - spec);
    if (n >= 2 && name[0] == '-' && name[1] == '-') { /* "--lr=..." means lr too */
        name += 2;
        n -= 2;
    }
    if (n == 0 || n > 64)
        return gs_err_set(err, "--grid '%s': expected NAME=VALUES with the name of a train option", spec);
    for (size_t i = 0; i < n; i++)
        if (!(islower((unsigned char)name[i]) || isdigit((unsigned char)name[i]) || name[i] == '-' || name[i] == '_'))
            return gs_err_set(err, "--grid '%s': '%.*s' is not an option name (lower-case letters, digits, '-')",
                              spec, (int)n, name);
    axis->name = strndup(name, n);
    if (!axis->name)
        return gs_err_set(err, "out of memory");
    if (push_items(axis, eq + 1, err) != 0) {
        gs_sweep_axis_free(axis);
        return -1;
    }
    return 0;
}

int gs_sweep_seeds_parse(const char *spec, gs_sweep_axis *axis, gs_err *err)
{
    *axis = (gs_sweep_axis){0};
    axis->name = strdup(GS_SWEEP_SEED_AXIS);
    if (!axis->name)
        return gs_err_set(err, "out of memory");
    char *list = strdup(spec);
    if (!list) {
        gs_sweep_axis_free(axis);
        return gs_err_set(err, "out of memory");
    }
    /* "0-2" is the seeds 0, 1, 2 (the spelling); as a range it is "0..2" */
    int rc = list[0] ? 0 : gs_err_set(err, "--seeds: no seeds given");
    for (char *item = list; rc == 0 && item;) {
        char *next = strchr(item, ',');
        if (next)
            *next++ = '\0';
        char *dash = item[0] ? strchr(item + 1, '-') : NULL;
        long a, b;
        if (dash && !strstr(item, "..")) {
            *dash = '\0';
            if (!as_integer(item, &a) || !as_integer(dash + 1, &b) || a > b)
                rc = gs_err_set(err, "--seeds: '%s-%s' is not a range of integers like 0-4", item, dash + 1);
            else if (b - a >= GS_SWEEP_MAX_VALUES)
                rc = gs_err_set(err, "--seeds: more than %d seeds", GS_SWEEP_MAX_VALUES);
            for (long v = a; rc == 0 && v <= b; v++) {
                char s[32];
                snprintf(s, sizeof s, "%ld", v);
                rc = push(axis, s, err);
            }
        } else if (strstr(item, "..")) {
            rc = push_range(axis, item, err);
        } else if (!as_integer(item, &a)) {
            rc = gs_err_set(err, "--seeds: '%s' is not an integer", item);
        } else {
            rc = push(axis, item, err);
        }
        item = next;
    }
    free(list);
    if (rc != 0)
        gs_sweep_axis_free(axis);
    return rc;
}

int gs_sweep_parse_only(const char *spec, long n_points, unsigned char *selected, gs_err *err)
{
    memset(selected, 0, (size_t)n_points);
    if (!spec[0])
        return gs_err_set(err, "--only: no points given");
    for (const char *at = spec;;) {
        char *end;
        errno = 0;
        long a = strtol(at, &end, 10), b = a;
        if (end == at || errno || a < 0 || !isdigit((unsigned char)at[0]))
            return gs_err_set(err, "--only '%s': expected point numbers like 0-3,7", spec);
        if (*end == '-') {
            const char *hi = end + 1;
            b = strtol(hi, &end, 10);
            if (end == hi || errno || !isdigit((unsigned char)hi[0]) || b < a)
                return gs_err_set(err, "--only '%s': expected point numbers like 0-3,7", spec);
        }
        if (*end != ',' && *end != '\0')
            return gs_err_set(err, "--only '%s': expected point numbers like 0-3,7", spec);
        if (b >= n_points)
            return gs_err_set(err, "--only: point %ld does not exist (the sweep has %ld points, 0-%ld)", b,
                              n_points, n_points - 1);
        for (long i = a; i <= b; i++)
            selected[i] = 1;
        if (*end == '\0')
            return 0;
        at = end + 1;
    }
}
