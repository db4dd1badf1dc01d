/* grokscope_config: the run definition (core/config.h) set and read by key.
 *
 * One table row per gs_config field, keyed by its /config attribute name; a new field
 * needs one row here (tests/test_api.c fails naming any /config attribute without
 * one). Ranges are the command line's. */
#include "gsl_internal.h"
#include "gsl_cli.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const char *key;
    char type;       /* 'i' integer, 'd' number, 's' text (a name of a choice) */
    size_t offset, size;
    double lo, hi;   /* inclusive; integers are checked exactly below */
    /* 's' keys other than op: an int field holding a choice, and its names */
    const char *(*name)(int kind);
    int (*parse)(const char *s, int *kind);
} gsl_key;

#define FIELD(name) offsetof(gs_config, name), sizeof(((gs_config *)0)->name)
#define CHOICE(name, fn) FIELD(name), 0, 0, gs_##fn##_name, gs_##fn##_parse
#define I64_MAX 9223372036854775807.0

static const gsl_key keys[] = {
    {"p", 'i', FIELD(p), GS_P_MIN, GS_P_MAX, NULL, NULL},
    {"op", 's', FIELD(op), 0, 0, NULL, NULL},
    {"frac", 'd', FIELD(frac), 0.0, 1.0, NULL, NULL},
    {"seed", 'i', FIELD(seed), -I64_MAX, I64_MAX, NULL, NULL},
    {"d_model", 'i', FIELD(d_model), 1, 8192, NULL, NULL},
    {"n_heads", 'i', FIELD(n_heads), 1, 8192, NULL, NULL},
    {"d_mlp", 'i', FIELD(d_mlp), 1, 8192, NULL, NULL},
    {"lr", 'd', FIELD(lr), 0.0, 1e6, NULL, NULL},
    {"wd", 'd', FIELD(wd), 0.0, 1e6, NULL, NULL},
    {"beta1", 'd', FIELD(beta1), 0.0, 1.0, NULL, NULL},
    {"beta2", 'd', FIELD(beta2), 0.0, 1.0, NULL, NULL},
    {"eps", 'd', FIELD(eps), 0.0, 1.0, NULL, NULL},
    {"warmup", 'i', FIELD(warmup), 1, 100000000, NULL, NULL},
    {"epochs", 'i', FIELD(epochs), 1, 100000000, NULL, NULL},
    {"every", 'i', FIELD(every), 1, 100000000, NULL, NULL},
    {"stop_test_loss", 'd', FIELD(stop_test_loss), 0.0, 1e6, NULL, NULL},
    {"flush_subnormals", 'i', FIELD(flush_subnormals), 0, 1, NULL, NULL},
    /* the interventions (docs/interventions.md); validation refuses the combinations
     * that contradict each other. Unlike train's --grokfast ma, setting grokfast does
     * not change gf_lambda (its default 2 is the EMA filter's; grokfast.py's MA uses 5) */
    {"optimizer", 's', CHOICE(optimizer, optimizer)},
    {"momentum", 'd', FIELD(momentum), 0.0, 1.0, NULL, NULL},
    {"wd_to_init", 'i', FIELD(wd_to_init), 0, 1, NULL, NULL},
    {"grokfast", 's', CHOICE(grokfast, grokfast)},
    {"gf_alpha", 'd', FIELD(gf_alpha), 0.0, 1.0, NULL, NULL},
    {"gf_lambda", 'd', FIELD(gf_lambda), 0.0, 1e6, NULL, NULL},
    {"gf_window", 'i', FIELD(gf_window), 1, 100000, NULL, NULL},
    {"loss", 's', CHOICE(loss, loss)},
    {"loss_precision", 'i', FIELD(loss_precision), 32, 64, NULL, NULL},
    {"orthograd", 'i', FIELD(orthograd), 0, 1, NULL, NULL},
    {"init_scale", 'd', FIELD(init_scale), 0.0, 1e6, NULL, NULL},
    {"fix_norm", 'i', FIELD(fix_norm), 0, 1, NULL, NULL},
    {"output_scale", 'd', FIELD(output_scale), 0.0, 1e6, NULL, NULL},
};
#define N_KEYS ((int)(sizeof keys / sizeof *keys))

static const gsl_key *find(const char *key)
{
    for (int i = 0; key && i < N_KEYS; i++)
        if (strcmp(keys[i].key, key) == 0)
            return &keys[i];
    return NULL;
}

static int64_t load_int(const gs_config *c, const gsl_key *k)
{
    const char *at = (const char *)c + k->offset;
    if (k->size == sizeof(int)) {
        int v;
        memcpy(&v, at, sizeof v);
        return v;
    }
    int64_t v;
    _Static_assert(sizeof(long) == sizeof(int64_t), "long fields are 64-bit");
    memcpy(&v, at, sizeof v);
    return v;
}

static void store_int(gs_config *c, const gsl_key *k, int64_t v)
{
    char *at = (char *)c + k->offset;
    if (k->size == sizeof(int)) {
        const int i = (int)v;
        memcpy(at, &i, sizeof i);
    } else {
        memcpy(at, &v, sizeof v);
    }
}

grokscope_config *grokscope_config_new(void)
{
    grokscope_config *cfg = calloc(1, sizeof *cfg);
    if (cfg)
        gs_config_default(&cfg->cfg);
    return cfg;
}

grokscope_config *grokscope_config_copy(const grokscope_config *cfg)
{
    grokscope_config *c = malloc(sizeof *c);
    if (c)
        *c = *cfg;
    return c;
}

void grokscope_config_free(grokscope_config *cfg)
{
    free(cfg);
}

void grokscope_config_reset(grokscope_config *cfg)
{
    gs_config_default(&cfg->cfg);
    cfg->err[0] = '\0';
}

const char *grokscope_config_key(int i)
{
    return i >= 0 && i < N_KEYS ? keys[i].key : NULL;
}

int grokscope_config_key_type(const char *key)
{
    const gsl_key *k = find(key);
    return k ? k->type : 0;
}

const char *grokscope_config_error(const grokscope_config *cfg)
{
    return cfg->err;
}

static int unknown(grokscope_config *cfg, const char *key)
{
    return GSL_SET(cfg, GROKSCOPE_ERR_INVALID, "unknown config key '%s'", key ? key : "(null)");
}

int grokscope_config_set(grokscope_config *cfg, const char *key, const char *value)
{
    const gsl_key *k = find(key);
    if (!k)
        return unknown((grokscope_config *)cfg, key);
    if (!value)
        return GSL_SET(cfg, GROKSCOPE_ERR_INVALID, "%s: no value", key);
    char *end;
    errno = 0;
    if (k->type == 's' && k->parse) {
        int kind;
        if (k->parse(value, &kind) != 0)
            return GSL_SET(cfg, GROKSCOPE_ERR_INVALID, "%s: unknown choice '%s'", key, value);
        memcpy((char *)&cfg->cfg + k->offset, &kind, sizeof kind);
        return GROKSCOPE_OK;
    }
    if (k->type == 's') {
        gs_op op;
        if (gs_op_parse(value, &op) != 0)
            return GSL_SET(cfg, GROKSCOPE_ERR_INVALID, "op: unknown operation '%s'", value);
        cfg->cfg.op = op;
        /* the S5 tasks fix the token count, as the command line's --op does */
        if (gs_op_get(op)->fixed_p)
            cfg->cfg.p = gs_op_get(op)->fixed_p;
        return GROKSCOPE_OK;
    }
    if (k->type == 'i') {
        const long long v = strtoll(value, &end, 10);
        if (end == value || *end != '\0')
            return GSL_SET(cfg, GROKSCOPE_ERR_INVALID, "%s: '%s' is not an integer", key, value);
        if (errno == ERANGE || (double)v < k->lo || (double)v > k->hi)
            return GSL_SET(cfg, GROKSCOPE_ERR_INVALID, "%s: %s is out of range (%.0f..%.0f)", key,
                           value, k->lo, k->hi);
        store_int(&cfg->cfg, k, v);
        return GROKSCOPE_OK;
    }
    const double v = strtod(value, &end);
    if (end == value || *end != '\0' || isnan(v))
        return GSL_SET(cfg, GROKSCOPE_ERR_INVALID, "%s: '%s' is not a number", key, value);
    if (errno == ERANGE || !isfinite(v) || v < k->lo || v > k->hi)
        return GSL_SET(cfg, GROKSCOPE_ERR_INVALID, "%s: %s is out of range (%g..%g)", key, value,
                       k->lo, k->hi);
    memcpy((char *)&cfg->cfg + k->offset, &v, sizeof v);
    return GROKSCOPE_OK;
}

int grokscope_config_get(const grokscope_config *cfg, const char *key, char *buf, size_t size)
{
    const gsl_key *k = find(key);
    if (!k || !buf || size == 0)
        return GROKSCOPE_ERR_INVALID;
    int n;
    if (k->type == 's' && k->name) {
        n = snprintf(buf, size, "%s", k->name((int)load_int(&cfg->cfg, k)));
    } else if (k->type == 's') {
        n = snprintf(buf, size, "%s", gs_op_name(cfg->cfg.op));
    } else if (k->type == 'i') {
        n = snprintf(buf, size, "%" PRId64, load_int(&cfg->cfg, k));
    } else {
        double v;
        memcpy(&v, (const char *)&cfg->cfg + k->offset, sizeof v);
        n = snprintf(buf, size, "%.17g", v);
    }
    return n >= 0 && (size_t)n < size ? GROKSCOPE_OK : GROKSCOPE_ERR_INVALID;
}

int grokscope_config_get_int(const grokscope_config *cfg, const char *key, int64_t *out)
{
    const gsl_key *k = find(key);
    if (!k || k->type == 'd')
        return GROKSCOPE_ERR_INVALID;
    *out = k->type == 's' && !k->name ? (int64_t)cfg->cfg.op : load_int(&cfg->cfg, k);
    return GROKSCOPE_OK;
}

int grokscope_config_get_double(const grokscope_config *cfg, const char *key, double *out)
{
    const gsl_key *k = find(key);
    if (!k || k->type == 's')
        return GROKSCOPE_ERR_INVALID;
    if (k->type == 'i')
        *out = (double)load_int(&cfg->cfg, k);
    else
        memcpy(out, (const char *)&cfg->cfg + k->offset, sizeof *out);
    return GROKSCOPE_OK;
}

int grokscope_config_validate(grokscope_config *cfg)
{
    gs_err err = {0};
    if (gs_config_validate(&cfg->cfg, &err) != 0)
        return GSL_SET(cfg, GROKSCOPE_ERR_INVALID, "%s", err.msg);
    return GROKSCOPE_OK;
}

grokscope_config *gsl_config_from(const gs_config *cfg)
{
    grokscope_config *c = calloc(1, sizeof *c);
    if (c)
        c->cfg = *cfg;
    return c;
}
