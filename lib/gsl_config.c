/* grokscope_config: the run definition (core/config.h) set and read by key.
 *
 * One table row per gs_config field, keyed by its /config attribute name; a new field
 * needs one row here (tests/test_api.c fails naming any /config attribute without
 * one). Ranges are the command line's. */
#include "gsl_internal.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sweep_result.h"

/* A text key: set from text (0, or -1 with one line in err), written as text, and for
 * a choice among names its index (-1: not a choice, e.g. the hidden widths). */
typedef struct {
    int (*set)(gs_config *c, const char *s, gs_err *err);
    void (*get)(const gs_config *c, char *buf, size_t size);
    int (*index)(const gs_config *c);
} gsl_text;

typedef struct {
    const char *key;
    char type;       /* 'i' integer, 'd' number, 's' text */
    size_t offset, size;
    double lo, hi;   /* inclusive; integers are checked exactly below */
    const gsl_text *text; /* 's' keys */
} gsl_key;

/* A choice stored as an enum field, with the internal name and parse functions. */
#define GSL_CHOICE(field, type, name_fn, parse_fn)                                          \
    static int set_##field(gs_config *c, const char *s, gs_err *err)                      \
    {                                                                                     \
        type k;                                                                           \
        if (parse_fn(s, &k) != 0)                                                         \
            return gs_err_set(err, #field ": unknown choice '%s'", s);                    \
        c->field = k;                                                                     \
        return 0;                                                                         \
    }                                                                                     \
    static void get_##field(const gs_config *c, char *buf, size_t size)                   \
    {                                                                                     \
        snprintf(buf, size, "%s", name_fn(c->field));                                     \
    }                                                                                     \
    static int index_##field(const gs_config *c) { return (int)c->field; }                \
    static const gsl_text text_##field = {set_##field, get_##field, index_##field};

GSL_CHOICE(optimizer, int, gs_optimizer_name, gs_optimizer_parse)
GSL_CHOICE(grokfast, int, gs_grokfast_name, gs_grokfast_parse)
GSL_CHOICE(loss, int, gs_loss_name, gs_loss_parse)
GSL_CHOICE(model, gs_model_kind, gs_model_kind_name, gs_model_kind_parse)
GSL_CHOICE(act, gs_act, gs_act_name, gs_act_parse)
GSL_CHOICE(task, int, gs_task_kind_name, gs_task_kind_parse)

/* data_dir: the IDX files' directory (mnist), as given; train resolves it */
static int set_data_dir(gs_config *c, const char *s, gs_err *err)
{
    if (strlen(s) >= sizeof c->data_dir)
        return gs_err_set(err, "data_dir: longer than %zu characters", sizeof c->data_dir - 1);
    snprintf(c->data_dir, sizeof c->data_dir, "%s", s);
    return 0;
}
static void get_data_dir(const gs_config *c, char *buf, size_t size)
{
    snprintf(buf, size, "%s", c->data_dir);
}
static int index_data_dir(const gs_config *c) { (void)c; return -1; }
static const gsl_text text_data_dir = {set_data_dir, get_data_dir, index_data_dir};

/* op: an S5 task fixes the token count, as the command line's --op does */
static int set_op(gs_config *c, const char *s, gs_err *err)
{
    gs_op op;
    if (gs_op_parse(s, &op) != 0)
        return gs_err_set(err, "op: unknown operation '%s'", s);
    c->op = op;
    if (gs_op_get(op)->fixed_p)
        c->p = gs_op_get(op)->fixed_p;
    return 0;
}
static void get_op(const gs_config *c, char *buf, size_t size)
{
    snprintf(buf, size, "%s", gs_op_name(c->op));
}
static int index_op(const gs_config *c) { return (int)c->op; }
static const gsl_text text_op = {set_op, get_op, index_op};

/* hidden: the MLP's widths as the command line's list, "200,200" */
static int set_hidden(gs_config *c, const char *s, gs_err *err)
{
    int n, w[GS_MLP_MAX_HIDDEN];
    if (gs_hidden_parse("hidden", s, &n, w, err) != 0)
        return -1;
    c->n_hidden = n;
    memcpy(c->hidden, w, sizeof w);
    return 0;
}
static void get_hidden(const gs_config *c, char *buf, size_t size)
{
    gs_hidden_format(buf, size, c->n_hidden, c->hidden);
}
static int index_hidden(const gs_config *c) { (void)c; return -1; }
static const gsl_text text_hidden = {set_hidden, get_hidden, index_hidden};

#define FIELD(name) offsetof(gs_config, name), sizeof(((gs_config *)0)->name)
#define TEXT(name) FIELD(name), 0, 0, &text_##name
#define I64_MAX 9223372036854775807.0

static const gsl_key keys[] = {
    /* the task: modular (op, p, frac) or mnist (data_dir, train_size, test_size;
     * docs/tasks.md "Images") */
    {"task", 's', TEXT(task)},
    {"data_dir", 's', TEXT(data_dir)},
    {"train_size", 'i', FIELD(train_size), 0, 100000000, NULL},
    {"test_size", 'i', FIELD(test_size), 0, 100000000, NULL},
    {"p", 'i', FIELD(p), GS_P_MIN, GS_P_MAX, NULL},
    {"op", 's', TEXT(op)},
    {"frac", 'd', FIELD(frac), 0.0, 1.0, NULL},
    {"seed", 'i', FIELD(seed), -I64_MAX, I64_MAX, NULL},
    {"d_model", 'i', FIELD(d_model), 1, 8192, NULL},
    {"n_heads", 'i', FIELD(n_heads), 1, 8192, NULL},
    {"d_mlp", 'i', FIELD(d_mlp), 1, 8192, NULL},
    /* the network and the batch (docs/models.md): n_layers is the transformer's,
     * d_embed (0: one-hot inputs), hidden, act and bias the MLP's; a run file holds
     * only its model's, and the other model's keys read as their defaults */
    {"model", 's', TEXT(model)},
    {"n_layers", 'i', FIELD(n_layers), 1, GS_MAX_LAYERS, NULL},
    {"d_embed", 'i', FIELD(d_embed), 0, 8192, NULL},
    {"hidden", 's', TEXT(hidden)},
    {"act", 's', TEXT(act)},
    {"bias", 'i', FIELD(bias), 0, 1, NULL},
    {"batch", 'i', FIELD(batch), 0, 100000000, NULL},
    {"lr", 'd', FIELD(lr), 0.0, 1e6, NULL},
    {"wd", 'd', FIELD(wd), 0.0, 1e6, NULL},
    {"beta1", 'd', FIELD(beta1), 0.0, 1.0, NULL},
    {"beta2", 'd', FIELD(beta2), 0.0, 1.0, NULL},
    {"eps", 'd', FIELD(eps), 0.0, 1.0, NULL},
    {"warmup", 'i', FIELD(warmup), 1, 100000000, NULL},
    {"epochs", 'i', FIELD(epochs), 1, 100000000, NULL},
    {"every", 'i', FIELD(every), 1, 100000000, NULL},
    {"stop_test_loss", 'd', FIELD(stop_test_loss), 0.0, 1e6, NULL},
    {"flush_subnormals", 'i', FIELD(flush_subnormals), 0, 1, NULL},
    /* the interventions (docs/interventions.md); validation refuses the combinations
     * that contradict each other. Unlike train's --grokfast ma, setting grokfast does
     * not change gf_lambda (its default 2 is the EMA filter's; grokfast.py's MA uses 5) */
    {"optimizer", 's', TEXT(optimizer)},
    {"momentum", 'd', FIELD(momentum), 0.0, 1.0, NULL},
    {"wd_to_init", 'i', FIELD(wd_to_init), 0, 1, NULL},
    {"grokfast", 's', TEXT(grokfast)},
    {"gf_alpha", 'd', FIELD(gf_alpha), 0.0, 1.0, NULL},
    {"gf_lambda", 'd', FIELD(gf_lambda), 0.0, 1e6, NULL},
    {"gf_window", 'i', FIELD(gf_window), 1, 100000, NULL},
    {"loss", 's', TEXT(loss)},
    {"loss_precision", 'i', FIELD(loss_precision), 32, 64, NULL},
    {"orthograd", 'i', FIELD(orthograd), 0, 1, NULL},
    {"init_scale", 'd', FIELD(init_scale), 0.0, 1e6, NULL},
    {"fix_norm", 'i', FIELD(fix_norm), 0, 1, NULL},
    {"output_scale", 'd', FIELD(output_scale), 0.0, 1e6, NULL},
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
    if (k->type == 's') {
        gs_err err = {0};
        if (k->text->set(&cfg->cfg, value, &err) != 0)
            return GSL_SET(cfg, GROKSCOPE_ERR_INVALID, "%s", err.msg);
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
    if (k->type == 's') {
        char text[256]; /* every text value fits; buf may not */
        k->text->get(&cfg->cfg, text, sizeof text);
        n = snprintf(buf, size, "%s", text);
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
    if (!k || k->type == 'd' || (k->type == 's' && k->text->index(&cfg->cfg) < 0))
        return GROKSCOPE_ERR_INVALID;
    *out = k->type == 's' ? k->text->index(&cfg->cfg) : load_int(&cfg->cfg, k);
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

int grokscope_config_diff(const grokscope_config *a, const grokscope_config *b, char *buf,
                          size_t size)
{
    char text[512]; /* the longest difference (two op names, two hidden lists) fits */
    gs_sweep_config_diff(&a->cfg, &b->cfg, text, sizeof text);
    const int n = buf && size ? snprintf(buf, size, "%s", text) : -1;
    return n >= 0 && (size_t)n < size ? GROKSCOPE_OK : GROKSCOPE_ERR_INVALID;
}
