/* The public API (include/grokscope.h) as a program sees it: configs by key, errors per
 * handle, a callback that stops a run and a resume that continues it to the bits of an
 * uninterrupted run, parameters by key, measures, and the config keys in step with
 * the /config attributes a run file holds (a new attribute without a key fails here).
 * Argument: a scratch directory. */
#include <hdf5.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "grokscope.h"

static char dir[2048];

static const char *path_in(char *buf, const char *name)
{
    snprintf(buf, 4096, "%s/%s", dir, name);
    return buf;
}

static grokscope_config *small_config(void)
{
    grokscope_config *c = grokscope_config_new();
    CHECK(c != NULL);
    CHECK(grokscope_config_set(c, "p", "11") == GROKSCOPE_OK);
    CHECK(grokscope_config_set(c, "d_model", "16") == GROKSCOPE_OK);
    CHECK(grokscope_config_set(c, "d_mlp", "32") == GROKSCOPE_OK);
    CHECK(grokscope_config_set(c, "epochs", "30") == GROKSCOPE_OK);
    CHECK(grokscope_config_set(c, "every", "7") == GROKSCOPE_OK);
    return c;
}

static void test_version(void)
{
    char want[64];
    snprintf(want, sizeof want, "%d.%d.%d", GROKSCOPE_VERSION_MAJOR, GROKSCOPE_VERSION_MINOR,
             GROKSCOPE_VERSION_PATCH);
    CHECK(strcmp(grokscope_version(), want) == 0);
    CHECK(strcmp(GROKSCOPE_VERSION, want) == 0);
    CHECK(grokscope_version_number() == GROKSCOPE_VERSION_NUMBER);
}

static void test_config(void)
{
    grokscope_config *c = grokscope_config_new();
    char buf[64];
    int64_t i;
    double d;
    /* the paper's defaults */
    CHECK(grokscope_config_get_int(c, "p", &i) == GROKSCOPE_OK && i == 113);
    CHECK(grokscope_config_get(c, "op", buf, sizeof buf) == GROKSCOPE_OK && strcmp(buf, "add") == 0);
    CHECK(grokscope_config_get_double(c, "lr", &d) == GROKSCOPE_OK && d == 1e-3);
    CHECK(grokscope_config_get_int(c, "flush_subnormals", &i) == GROKSCOPE_OK && i == 1);
    /* text round trip, exactly */
    CHECK(grokscope_config_set(c, "lr", "0.1") == GROKSCOPE_OK);
    CHECK(grokscope_config_get(c, "lr", buf, sizeof buf) == GROKSCOPE_OK && strtod(buf, NULL) == 0.1);
    CHECK(grokscope_config_set(c, "seed", "-9223372036854775807") == GROKSCOPE_OK);
    CHECK(grokscope_config_get(c, "seed", buf, sizeof buf) == GROKSCOPE_OK &&
          strcmp(buf, "-9223372036854775807") == 0);
    /* bad keys and values: an error in this handle, the value unchanged */
    CHECK(grokscope_config_set(c, "learning_rate", "1") == GROKSCOPE_ERR_INVALID);
    CHECK(strstr(grokscope_config_error(c), "learning_rate") != NULL);
    CHECK(grokscope_config_set(c, "lr", "fast") == GROKSCOPE_ERR_INVALID);
    CHECK(strstr(grokscope_config_error(c), "not a number") != NULL);
    CHECK(grokscope_config_set(c, "d_model", "12x") == GROKSCOPE_ERR_INVALID);
    CHECK(grokscope_config_set(c, "p", "99999") == GROKSCOPE_ERR_INVALID);
    CHECK(grokscope_config_get_int(c, "p", &i) == GROKSCOPE_OK && i == 113);
    CHECK(grokscope_config_get_int(c, "lr", &i) == GROKSCOPE_ERR_INVALID);
    CHECK(grokscope_config_get(c, "p", buf, 2) == GROKSCOPE_ERR_INVALID); /* "113" does not fit */
    /* an S5 op fixes p; validation catches what no single key can */
    CHECK(grokscope_config_set(c, "op", "s5-compose") == GROKSCOPE_OK);
    CHECK(grokscope_config_get_int(c, "p", &i) == GROKSCOPE_OK && i == 120);
    CHECK(grokscope_config_set(c, "op", "add") == GROKSCOPE_OK);
    CHECK(grokscope_config_set(c, "n_heads", "3") == GROKSCOPE_OK);
    CHECK(grokscope_config_validate(c) == GROKSCOPE_ERR_INVALID);
    CHECK(strstr(grokscope_config_error(c), "n_heads") != NULL);
    /* a second config keeps its own error */
    grokscope_config *other = grokscope_config_copy(c);
    grokscope_config_reset(other);
    CHECK(grokscope_config_validate(other) == GROKSCOPE_OK);
    CHECK(strstr(grokscope_config_error(c), "n_heads") != NULL);
    CHECK(grokscope_config_key_type("op") == 's' && grokscope_config_key_type("lr") == 'd' &&
          grokscope_config_key_type("p") == 'i' && grokscope_config_key_type("nope") == 0);
    /* what differs between two configs: the first key, both values, "" for none */
    char diff[128];
    grokscope_config *a = grokscope_config_new(), *b = grokscope_config_copy(a);
    CHECK(grokscope_config_diff(a, b, diff, sizeof diff) == GROKSCOPE_OK && diff[0] == '\0');
    CHECK(grokscope_config_set(b, "lr", "0.01") == GROKSCOPE_OK);
    CHECK(grokscope_config_diff(a, b, diff, sizeof diff) == GROKSCOPE_OK &&
          strcmp(diff, "lr 0.001, not 0.01") == 0);
    CHECK(grokscope_config_set(a, "op", "sub") == GROKSCOPE_OK);
    CHECK(grokscope_config_diff(a, b, diff, sizeof diff) == GROKSCOPE_OK &&
          strcmp(diff, "op sub, not add") == 0);
    CHECK(grokscope_config_diff(a, b, diff, 4) == GROKSCOPE_ERR_INVALID);
    grokscope_config_free(a);
    grokscope_config_free(b);
    grokscope_config_free(other);
    grokscope_config_free(c);

    /* the interventions' keys: choices as text (typed: their index), ranges, and the
     * contradictions validation refuses */
    c = grokscope_config_new();
    CHECK(grokscope_config_get(c, "optimizer", buf, sizeof buf) == GROKSCOPE_OK && strcmp(buf, "adamw") == 0);
    CHECK(grokscope_config_get(c, "grokfast", buf, sizeof buf) == GROKSCOPE_OK && strcmp(buf, "none") == 0);
    CHECK(grokscope_config_get(c, "loss", buf, sizeof buf) == GROKSCOPE_OK && strcmp(buf, "ce") == 0);
    CHECK(grokscope_config_key_type("grokfast") == 's' && grokscope_config_key_type("gf_window") == 'i' &&
          grokscope_config_key_type("init_scale") == 'd');
    CHECK(grokscope_config_set(c, "optimizer", "sgd") == GROKSCOPE_OK);
    CHECK(grokscope_config_get(c, "optimizer", buf, sizeof buf) == GROKSCOPE_OK && strcmp(buf, "sgd") == 0);
    CHECK(grokscope_config_get_int(c, "optimizer", &i) == GROKSCOPE_OK && i == 2);
    CHECK(grokscope_config_set(c, "optimizer", "lion") == GROKSCOPE_ERR_INVALID);
    CHECK(strstr(grokscope_config_error(c), "optimizer: unknown choice 'lion'") != NULL);
    CHECK(grokscope_config_get(c, "optimizer", buf, sizeof buf) == GROKSCOPE_OK && strcmp(buf, "sgd") == 0);
    CHECK(grokscope_config_set(c, "loss", "stablemax") == GROKSCOPE_OK);
    CHECK(grokscope_config_get_double(c, "gf_lambda", &d) == GROKSCOPE_OK && d == 2.0);
    CHECK(grokscope_config_set(c, "gf_window", "0") == GROKSCOPE_ERR_INVALID);
    CHECK(grokscope_config_set(c, "loss_precision", "16") == GROKSCOPE_ERR_INVALID);
    CHECK(grokscope_config_set(c, "momentum", "0.9") == GROKSCOPE_OK);
    CHECK(grokscope_config_validate(c) == GROKSCOPE_OK);
    CHECK(grokscope_config_set(c, "optimizer", "adam") == GROKSCOPE_OK);
    CHECK(grokscope_config_validate(c) == GROKSCOPE_ERR_INVALID); /* momentum needs sgd */
    CHECK(strstr(grokscope_config_error(c), "momentum") != NULL);
    CHECK(grokscope_config_set(c, "momentum", "0") == GROKSCOPE_OK);
    CHECK(grokscope_config_set(c, "fix_norm", "1") == GROKSCOPE_OK);
    CHECK(grokscope_config_validate(c) == GROKSCOPE_ERR_INVALID); /* fix_norm needs wd 0 */
    CHECK(grokscope_config_set(c, "wd", "0") == GROKSCOPE_OK);
    CHECK(grokscope_config_validate(c) == GROKSCOPE_OK);
    grokscope_config_free(c);
}

/* Every /config attribute of a run file is a key, except the ones derived from others. */
static herr_t each_attr(hid_t loc, const char *name, const H5A_info_t *info, void *data)
{
    (void)loc, (void)info;
    int *missing = data;
    static const char *derived[] = {"d_head", "n_train", "n_test"};
    for (size_t k = 0; k < sizeof derived / sizeof *derived; k++)
        if (strcmp(name, derived[k]) == 0)
            return 0;
    for (int k = 0; grokscope_config_key(k); k++)
        if (strcmp(grokscope_config_key(k), name) == 0)
            return 0;
    fprintf(stderr, "/config attribute '%s' has no grokscope_config key (lib/gsl_config.c)\n", name);
    ++*missing;
    return 0;
}

/* And every key is an attribute, except the other model's (a transformer's file has no
 * MLP fields, an MLP's no n_layers) and the image task's (these files are modular). */
static void test_keys_match_file(const char *path, int mlp)
{
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    CHECK(f >= 0);
    hid_t g = H5Gopen2(f, "config", H5P_DEFAULT);
    CHECK(g >= 0);
    int missing = 0;
    CHECK(H5Aiterate2(g, H5_INDEX_NAME, H5_ITER_INC, NULL, each_attr, &missing) >= 0);
    CHECK(missing == 0);
    static const char *mlp_only[] = {"d_embed", "hidden", "act", "bias"};
    static const char *mnist_only[] = {"data_dir", "train_size", "test_size"};
    for (int k = 0; grokscope_config_key(k); k++) {
        const char *key = grokscope_config_key(k);
        int others = strcmp(key, "n_layers") == 0 ? mlp : 0;
        for (size_t j = 0; j < sizeof mlp_only / sizeof *mlp_only; j++)
            others |= strcmp(key, mlp_only[j]) == 0 && !mlp;
        for (size_t j = 0; j < sizeof mnist_only / sizeof *mnist_only; j++)
            others |= strcmp(key, mnist_only[j]) == 0;
        const htri_t has = H5Aexists(g, key);
        if (has != (others ? 0 : 1))
            fprintf(stderr, "key '%s' %s an attribute of %s\n", key, has > 0 ? "is" : "is not", path);
        CHECK(has == (others ? 0 : 1));
    }
    H5Gclose(g);
    H5Fclose(f);
}

typedef struct {
    long stop_at, calls, last_epoch;
    int finals;
    grokscope_epoch seen[64]; /* what the callback got, by epoch */
} stopper;

static int stop_cb(void *ctx, const grokscope_epoch *e, int final)
{
    stopper *s = ctx;
    s->calls++;
    s->last_epoch = e->epoch;
    s->finals += final;
    if (e->epoch >= 0 && e->epoch < 64)
        s->seen[e->epoch] = *e;
    return s->stop_at >= 0 && e->epoch == s->stop_at;
}

static void test_train_stop_resume(void)
{
    char whole[4096], part[4096];
    path_in(whole, "whole.h5");
    path_in(part, "part.h5");
    grokscope_config *c = small_config();

    stopper s = {-1, 0, 0, 0, {{0}}};
    grokscope_train *t = grokscope_train_new();
    CHECK(grokscope_train_set_threads(t, 1) == GROKSCOPE_OK);
    CHECK(grokscope_train_set_force(t, 1) == GROKSCOPE_OK);
    CHECK(grokscope_train_set_callback(t, stop_cb, &s) == GROKSCOPE_OK);
    CHECK(grokscope_train_create(t, whole, c) == GROKSCOPE_OK);
    CHECK(grokscope_train_set_threads(t, 2) == GROKSCOPE_ERR_INVALID); /* started */
    CHECK(grokscope_train_run(t) == GROKSCOPE_OK);
    CHECK(grokscope_train_outcome(t) == GROKSCOPE_RUN_FINISHED);
    CHECK(s.calls == 31 && s.last_epoch == 30 && s.finals == 1);
    CHECK(grokscope_train_run(t) == GROKSCOPE_ERR_INVALID); /* closed */
    grokscope_train_free(t);

    /* the existing file is refused without force, and left alone */
    t = grokscope_train_new();
    CHECK(grokscope_train_create(t, whole, c) == GROKSCOPE_ERR_EXISTS);
    CHECK(strstr(grokscope_train_error(t), "exists") != NULL);
    grokscope_train_free(t);

    /* stopped by the callback at epoch 10 (between checkpoints), then resumed */
    stopper s2 = {10, 0, 0, 0, {{0}}};
    t = grokscope_train_new();
    CHECK(grokscope_train_set_force(t, 1) == GROKSCOPE_OK);
    CHECK(grokscope_train_set_threads(t, 2) == GROKSCOPE_OK);
    CHECK(grokscope_train_set_callback(t, stop_cb, &s2) == GROKSCOPE_OK);
    CHECK(grokscope_train_create(t, part, c) == GROKSCOPE_OK);
    CHECK(grokscope_train_run(t) == GROKSCOPE_STOPPED);
    CHECK(grokscope_train_epoch(t) == 10 && s2.calls == 11);
    grokscope_train_free(t);
    grokscope_run *r;
    CHECK(grokscope_run_open(part, &r) == GROKSCOPE_OK);
    long e;
    CHECK(grokscope_run_get_status(r, &e) == GROKSCOPE_RUN_RUNNING);
    CHECK(grokscope_run_find_checkpoint(r, -1) == 2); /* epochs 0, 7, 10 */
    CHECK(grokscope_run_find_checkpoint(r, 5) == -1 && strstr(grokscope_run_error(r), "epoch 5"));
    grokscope_run_close(r);

    t = grokscope_train_new();
    CHECK(grokscope_train_resume(t, part, 0) == GROKSCOPE_OK);
    CHECK(grokscope_train_epoch(t) == 10);
    CHECK(grokscope_train_run(t) == GROKSCOPE_OK);
    grokscope_train_free(t);
    /* the uninterrupted run checkpoints at 0, 7, 14, ...; the resumed one at 10 too */
    grokscope_run *a, *b;
    CHECK(grokscope_run_open(whole, &a) == GROKSCOPE_OK && grokscope_run_open(part, &b) == GROKSCOPE_OK);
    CHECK(grokscope_run_n_checkpoints(a) + 1 == grokscope_run_n_checkpoints(b));
    long ea, eb;
    CHECK(grokscope_run_checkpoint_epoch(a, grokscope_run_n_checkpoints(a) - 1, &ea) == GROKSCOPE_OK);
    CHECK(grokscope_run_checkpoint_epoch(b, grokscope_run_n_checkpoints(b) - 1, &eb) == GROKSCOPE_OK);
    CHECK(ea == 30 && eb == 30);
    const size_t cnt = grokscope_run_param_count(a, "unembed.W_U");
    CHECK(cnt == 16 * 12);
    float *x = malloc(cnt * sizeof *x), *y = malloc(cnt * sizeof *y);
    CHECK(grokscope_run_read_param(a, grokscope_run_n_checkpoints(a) - 1, "unembed.W_U", x, cnt) == GROKSCOPE_OK);
    CHECK(grokscope_run_read_param(b, grokscope_run_n_checkpoints(b) - 1, "unembed.W_U", y, cnt) == GROKSCOPE_OK);
    CHECK(memcmp(x, y, cnt * sizeof *x) == 0);
    CHECK(grokscope_run_read_param(a, 0, "unembed.W_U", x, cnt - 1) == GROKSCOPE_ERR_INVALID);
    CHECK(grokscope_run_read_param(a, 0, "no.such.key", x, cnt) == GROKSCOPE_ERR_INVALID);
    CHECK(grokscope_run_read_param(a, 99, "unembed.W_U", x, cnt) == GROKSCOPE_ERR_INVALID);
    free(x);
    free(y);
    grokscope_epoch ra[31], rb[31];
    CHECK(grokscope_run_read_epochs(a, 0, 31, ra) == GROKSCOPE_OK);
    CHECK(grokscope_run_read_epochs(b, 0, 31, rb) == GROKSCOPE_OK);
    CHECK(memcmp(ra, rb, sizeof ra) == 0);
    /* the callback saw the rows the file holds, gradient measures included */
    CHECK(memcmp(ra, s.seen, sizeof ra) == 0);
    for (int k = 0; k < 31; k++)
        CHECK(ra[k].grad_norm > 0 && ra[k].collapse_frac >= 0 && ra[k].collapse_frac <= 1 &&
              fabs(ra[k].grad_cos) <= 1);
    CHECK(grokscope_run_read_epochs(a, 0, 32, ra) == GROKSCOPE_ERR_INVALID);
    int64_t shape[4];
    CHECK(grokscope_run_param_shape(a, "blocks.0.attn.W_Q", shape) == 3 && shape[0] == 4 &&
          shape[1] == 16 && shape[2] == 4);
    char buf[32];
    CHECK(grokscope_config_get(grokscope_run_config(a), "every", buf, sizeof buf) == GROKSCOPE_OK &&
          strcmp(buf, "7") == 0);

    /* the probe's metrics equal the recorded ones */
    grokscope_probe *pr;
    CHECK(grokscope_probe_open(a, 2, &pr) == GROKSCOPE_OK);
    grokscope_measures m;
    CHECK(grokscope_probe_measure(pr, 1, NULL, 0, &m) == GROKSCOPE_OK);
    CHECK(m.epoch == 7 && m.train_loss == ra[7].train_loss && m.test_loss == ra[7].test_loss);
    int keys[8], n_key = -1;
    CHECK(grokscope_probe_key_freqs(pr, 1, 0, keys, 8, &n_key) == GROKSCOPE_OK && n_key >= 0);
    const int bad_key = 6; /* p = 11 has frequencies 1..5 */
    CHECK(grokscope_probe_measure(pr, 1, &bad_key, 1, &m) == GROKSCOPE_ERR_INVALID);
    CHECK(grokscope_probe_error(pr)[0] != '\0');
    grokscope_probe_close(pr);
    grokscope_run_close(a);
    grokscope_run_close(b);

    /* resuming a finished run is refused */
    t = grokscope_train_new();
    CHECK(grokscope_train_resume(t, part, 0) == GROKSCOPE_ERR_INVALID);
    CHECK(strstr(grokscope_train_error(t), "already has 30 epochs") != NULL);
    grokscope_train_free(t);

    test_keys_match_file(whole, 0);
    grokscope_config_free(c);
}


/* A run with interventions whose resume needs their state (the MA filter's window of
 * gradients, theta_0 for the decay toward init): stopped by the callback and resumed, it
 * ends with the bits of the uninterrupted run. */
static void test_interventions_resume(void)
{
    char whole[4096], part[4096];
    path_in(whole, "gf_whole.h5");
    path_in(part, "gf_part.h5");
    grokscope_config *c = small_config();
    CHECK(grokscope_config_set(c, "grokfast", "ma") == GROKSCOPE_OK);
    CHECK(grokscope_config_set(c, "gf_window", "5") == GROKSCOPE_OK);
    CHECK(grokscope_config_set(c, "gf_lambda", "5") == GROKSCOPE_OK);
    CHECK(grokscope_config_set(c, "wd_to_init", "1") == GROKSCOPE_OK);
    CHECK(grokscope_config_set(c, "init_scale", "1.5") == GROKSCOPE_OK);
    const long stops[2] = {-1, 12};
    const char *paths[2] = {whole, part};
    for (int k = 0; k < 2; k++) {
        stopper s = {stops[k], 0, 0, 0, {{0}}};
        grokscope_train *t = grokscope_train_new();
        CHECK(grokscope_train_set_force(t, 1) == GROKSCOPE_OK);
        CHECK(grokscope_train_set_threads(t, 1) == GROKSCOPE_OK);
        CHECK(grokscope_train_set_callback(t, stop_cb, &s) == GROKSCOPE_OK);
        CHECK(grokscope_train_create(t, paths[k], c) == GROKSCOPE_OK);
        CHECK(grokscope_train_run(t) == (k ? GROKSCOPE_STOPPED : GROKSCOPE_OK));
        grokscope_train_free(t);
    }
    grokscope_train *t = grokscope_train_new();
    CHECK(grokscope_train_resume(t, part, 0) == GROKSCOPE_OK);
    char buf[16];
    CHECK(grokscope_config_get(grokscope_train_config(t), "grokfast", buf, sizeof buf) == GROKSCOPE_OK &&
          strcmp(buf, "ma") == 0);
    CHECK(grokscope_train_run(t) == GROKSCOPE_OK);
    grokscope_train_free(t);
    grokscope_run *a, *b;
    CHECK(grokscope_run_open(whole, &a) == GROKSCOPE_OK && grokscope_run_open(part, &b) == GROKSCOPE_OK);
    grokscope_epoch ra[31], rb[31];
    CHECK(grokscope_run_read_epochs(a, 0, 31, ra) == GROKSCOPE_OK);
    CHECK(grokscope_run_read_epochs(b, 0, 31, rb) == GROKSCOPE_OK);
    CHECK(memcmp(ra, rb, sizeof ra) == 0);
    const size_t cnt = grokscope_run_param_count(a, "embed.W_E");
    float *x = malloc(cnt * sizeof *x), *y = malloc(cnt * sizeof *y);
    CHECK(x && y);
    CHECK(grokscope_run_read_param(a, grokscope_run_n_checkpoints(a) - 1, "embed.W_E", x, cnt) == GROKSCOPE_OK);
    CHECK(grokscope_run_read_param(b, grokscope_run_n_checkpoints(b) - 1, "embed.W_E", y, cnt) == GROKSCOPE_OK);
    CHECK(memcmp(x, y, cnt * sizeof *x) == 0);
    /* init_scale: checkpoint 0 is the default init times 1.5 */
    grokscope_config *plain = small_config();
    char ref[4096];
    path_in(ref, "plain.h5");
    t = grokscope_train_new();
    CHECK(grokscope_train_set_force(t, 1) == GROKSCOPE_OK);
    CHECK(grokscope_config_set(plain, "epochs", "1") == GROKSCOPE_OK);
    CHECK(grokscope_train_create(t, ref, plain) == GROKSCOPE_OK && grokscope_train_run(t) == GROKSCOPE_OK);
    grokscope_train_free(t);
    grokscope_run *r;
    CHECK(grokscope_run_open(ref, &r) == GROKSCOPE_OK);
    CHECK(grokscope_run_read_param(a, 0, "embed.W_E", x, cnt) == GROKSCOPE_OK);
    CHECK(grokscope_run_read_param(r, 0, "embed.W_E", y, cnt) == GROKSCOPE_OK);
    int scaled = 1;
    for (size_t k = 0; k < cnt; k++)
        scaled &= x[k] == y[k] * 1.5f;
    CHECK(scaled);
    grokscope_run_close(r);
    grokscope_config_free(plain);
    free(x);
    free(y);
    grokscope_run_close(a);
    grokscope_run_close(b);
    test_keys_match_file(whole, 0);
    grokscope_config_free(c);
}

/* The MLP trained in minibatches through the API: its keys in the file, its parameter
 * table, its model line and note, the probe's recomputed losses, and a stop and resume
 * that continues the batch sequence bit-exactly. */
static void test_mlp(void)
{
    char whole[4096], part[4096];
    path_in(whole, "mlp_whole.h5");
    path_in(part, "mlp_part.h5");
    grokscope_config *c = small_config();
    CHECK(grokscope_config_set(c, "model", "mlp") == GROKSCOPE_OK);
    CHECK(grokscope_config_set(c, "hidden", "24,16") == GROKSCOPE_OK);
    CHECK(grokscope_config_set(c, "d_embed", "8") == GROKSCOPE_OK);
    CHECK(grokscope_config_set(c, "act", "gelu") == GROKSCOPE_OK);
    CHECK(grokscope_config_set(c, "batch", "20") == GROKSCOPE_OK);
    CHECK(grokscope_config_set(c, "hidden", "24,,16") == GROKSCOPE_ERR_INVALID);
    CHECK(strstr(grokscope_config_error(c), "hidden") != NULL);
    CHECK(grokscope_config_set(c, "act", "tanh") == GROKSCOPE_ERR_INVALID);
    char buf[256];
    CHECK(grokscope_config_get(c, "hidden", buf, sizeof buf) == GROKSCOPE_OK && strcmp(buf, "24,16") == 0);
    CHECK(grokscope_config_get(c, "hidden", buf, 5) == GROKSCOPE_ERR_INVALID); /* "24,16" does not fit */
    int64_t i;
    CHECK(grokscope_config_get_int(c, "hidden", &i) == GROKSCOPE_ERR_INVALID); /* not a choice */
    CHECK(grokscope_config_get_int(c, "model", &i) == GROKSCOPE_OK && i == 1);
    CHECK(grokscope_config_describe_model(c, buf, sizeof buf) == GROKSCOPE_OK &&
          strcmp(buf, "mlp, learned embeddings d_embed 8, hidden 24,16, gelu, biases; batch 20") == 0);
    CHECK(grokscope_config_describe_model(c, buf, 10) == GROKSCOPE_ERR_INVALID);
    const long stops[2] = {-1, 9};
    const char *paths[2] = {whole, part};
    for (int k = 0; k < 2; k++) {
        stopper s = {stops[k], 0, 0, 0, {{0}}};
        grokscope_train *t = grokscope_train_new();
        CHECK(grokscope_train_set_force(t, 1) == GROKSCOPE_OK);
        CHECK(grokscope_train_set_threads(t, 2) == GROKSCOPE_OK);
        CHECK(grokscope_train_set_callback(t, stop_cb, &s) == GROKSCOPE_OK);
        CHECK(grokscope_train_create(t, paths[k], c) == GROKSCOPE_OK);
        CHECK(grokscope_train_run(t) == (k ? GROKSCOPE_STOPPED : GROKSCOPE_OK));
        grokscope_train_free(t);
    }
    grokscope_train *t = grokscope_train_new();
    CHECK(grokscope_train_resume(t, part, 0) == GROKSCOPE_OK && grokscope_train_run(t) == GROKSCOPE_OK);
    grokscope_train_free(t);
    test_keys_match_file(whole, 1);

    grokscope_run *a, *b;
    CHECK(grokscope_run_open(whole, &a) == GROKSCOPE_OK && grokscope_run_open(part, &b) == GROKSCOPE_OK);
    CHECK(grokscope_config_get(grokscope_run_config(a), "hidden", buf, sizeof buf) == GROKSCOPE_OK &&
          strcmp(buf, "24,16") == 0);
    CHECK(strncmp(grokscope_run_model_note(a), "mlp: ", 5) == 0);
    /* embed.W_E, layers.0.W/b, layers.1.W/b, unembed.W_U/b_U */
    static const char *want[] = {"embed.W_E", "layers.0.W", "layers.0.b", "layers.1.W",
                                 "layers.1.b", "unembed.W_U", "unembed.b_U"};
    for (int k = 0; k < 7; k++)
        CHECK(grokscope_run_param_key(a, k) && strcmp(grokscope_run_param_key(a, k), want[k]) == 0);
    CHECK(grokscope_run_param_key(a, 7) == NULL);
    int64_t shape[4];
    CHECK(grokscope_run_param_shape(a, "layers.0.W", shape) == 2 && shape[0] == 16 && shape[1] == 24);
    CHECK(grokscope_run_param_count(a, "blocks.0.attn.W_Q") == 0);
    grokscope_epoch ra[31], rb[31];
    CHECK(grokscope_run_read_epochs(a, 0, 31, ra) == GROKSCOPE_OK);
    CHECK(grokscope_run_read_epochs(b, 0, 31, rb) == GROKSCOPE_OK);
    CHECK(memcmp(ra, rb, sizeof ra) == 0);
    const int last = grokscope_run_n_checkpoints(a) - 1;
    const size_t cnt = grokscope_run_param_count(a, "unembed.W_U");
    float *x = malloc(cnt * sizeof *x), *y = malloc(cnt * sizeof *y);
    CHECK(x && y && cnt == 16 * 11);
    CHECK(grokscope_run_read_param(a, last, "unembed.W_U", x, cnt) == GROKSCOPE_OK);
    CHECK(grokscope_run_read_param(b, grokscope_run_n_checkpoints(b) - 1, "unembed.W_U", y, cnt) == GROKSCOPE_OK);
    CHECK(memcmp(x, y, cnt * sizeof *x) == 0);
    free(x);
    free(y);
    grokscope_probe *pr;
    CHECK(grokscope_probe_open(a, 1, &pr) == GROKSCOPE_OK);
    grokscope_measures m;
    CHECK(grokscope_probe_measure(pr, last, NULL, 0, &m) == GROKSCOPE_OK);
    CHECK(m.epoch == 30 && m.train_loss == ra[30].train_loss && m.test_loss == ra[30].test_loss);
    grokscope_probe_close(pr);
    grokscope_run_close(a);
    grokscope_run_close(b);
    grokscope_config_free(c);
}

static void test_describe(void)
{
    CHECK(strcmp(grokscope_op_formula("add"), "x+y mod p") == 0);
    CHECK(grokscope_op_formula("nope") == NULL && grokscope_op_formula(NULL) == NULL);
    CHECK(grokscope_op_fixed_p("s5-compose") == 120 && grokscope_op_fixed_p("add") == 0);
    char why[256];
    CHECK(grokscope_task_n_defined("add", 11, why, sizeof why) == 121 && why[0] == '\0');
    CHECK(grokscope_task_n_defined("div", 11, why, sizeof why) == 110 && strstr(why, "11 of the 121") != NULL);
    CHECK(grokscope_task_n_defined("div", 2, why, sizeof why) == -1);
    grokscope_epoch rows[4] = {{0, 1, 1, 0.5, 0.1, NAN, NAN, NAN}, {1, 1, 1, 0.995, 0.2, NAN, NAN, NAN},
                               {2, 1, 1, 1, 0.99, NAN, NAN, NAN}, {3, 1, 1, 1, 1, NAN, NAN, NAN}};
    double level = 0;
    CHECK(grokscope_epochs_first_accuracy(rows, 4, 0, &level) == 1 && level == 0.99);
    CHECK(grokscope_epochs_first_accuracy(rows, 4, 1, NULL) == 2);
    CHECK(grokscope_epochs_first_accuracy(rows, 2, 1, NULL) == -1);
}

/* The whole-run analysis: errors first (nothing written), then a pass whose key
 * frequencies and recomputed losses are the probe's. */
static void test_analysis(const char *path)
{
    grokscope_analysis *an = grokscope_analysis_new();
    CHECK(grokscope_analysis_set_threshold(an, 1.5) == GROKSCOPE_ERR_INVALID);
    CHECK(grokscope_analysis_set_key_freqs(an, "1,9", "--keys") == GROKSCOPE_OK);
    CHECK(grokscope_analysis_run(an, path) == GROKSCOPE_ERR_INVALID);
    CHECK(strncmp(grokscope_analysis_error(an), "--keys: frequency 9 is out of range 1..5", 40) == 0);
    CHECK(grokscope_analysis_set_key_freqs(an, NULL, NULL) == GROKSCOPE_OK);
    CHECK(grokscope_analysis_set_cluster_epoch(an, 5) == GROKSCOPE_OK); /* no checkpoint there */
    CHECK(grokscope_analysis_run(an, path) == GROKSCOPE_ERR_INVALID);
    CHECK(strstr(grokscope_analysis_error(an), "no checkpoint at epoch 5") != NULL);
    grokscope_run *r;
    CHECK(grokscope_run_open(path, &r) == GROKSCOPE_OK);
    FILE *none = tmpfile();
    char text[8192] = "";
    CHECK(none && grokscope_run_print_summary(r, none) == GROKSCOPE_OK);
    rewind(none);
    text[fread(text, 1, sizeof text - 1, none)] = '\0';
    CHECK(strncmp(text, "analysis   none yet", 19) == 0);
    grokscope_run_close(r);

    CHECK(grokscope_analysis_set_cluster_epoch(an, -1) == GROKSCOPE_OK);
    CHECK(grokscope_analysis_set_threads(an, 2) == GROKSCOPE_OK);
    /* the early-warning settings by key; a bad one names its key */
    CHECK(grokscope_analysis_set_option(an, "llc_steps", "3") == GROKSCOPE_ERR_INVALID);
    CHECK(strstr(grokscope_analysis_error(an), "llc_steps") != NULL);
    CHECK(grokscope_analysis_set_option(an, "llc_batch", "0") == GROKSCOPE_ERR_INVALID);
    CHECK(strncmp(grokscope_analysis_error(an), "llc_batch: 0 is out of range", 28) == 0);
    CHECK(grokscope_analysis_set_option(an, "llc_eps", "fast") == GROKSCOPE_ERR_INVALID);
    CHECK(grokscope_analysis_set_option(an, "llc_every", "2") == GROKSCOPE_OK);
    CHECK(grokscope_analysis_set_option(an, "llc_draws", "5") == GROKSCOPE_OK);
    CHECK(grokscope_analysis_set_option(an, "llc_gamma", "10") == GROKSCOPE_OK);
    CHECK(grokscope_analysis_run(an, path) == GROKSCOPE_OK);
    grokscope_analysis_free(an);
    /* the LLC on checkpoints 0, 2, 4 only (llc_every 2) */
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    CHECK(f >= 0);
    hid_t ds = H5Dopen2(f, "/analysis/llc", H5P_DEFAULT);
    CHECK(ds >= 0);
    double llc[6];
    CHECK(H5Dread(ds, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, llc) >= 0);
    for (int k = 0; k < 6; k++)
        CHECK(k % 2 == 0 ? isfinite(llc[k]) : isnan(llc[k]));
    H5Dclose(ds);
    H5Fclose(f);
    CHECK(grokscope_run_open(path, &r) == GROKSCOPE_OK);
    FILE *out = tmpfile();
    CHECK(out && grokscope_run_print_summary(r, out) == GROKSCOPE_OK && ftell(out) > 0);
    /* the summary names the probe's key frequencies of the last checkpoint */
    grokscope_probe *pr;
    CHECK(grokscope_probe_open(r, 1, &pr) == GROKSCOPE_OK);
    int keys[8], n_key = 0;
    const int last = grokscope_run_n_checkpoints(r) - 1;
    CHECK(grokscope_probe_key_freqs(pr, last, 0, keys, 8, &n_key) == GROKSCOPE_OK);
    rewind(out);
    text[fread(text, 1, sizeof text - 1, out)] = '\0';
    CHECK(strstr(text, "analysis   6 of 6 checkpoints analysed") != NULL);
    const char *line = strstr(text, "key freqs  ");
    CHECK(line != NULL);
    if (line && n_key == 0) {
        CHECK(strncmp(line, "key freqs  none", 15) == 0);
    } else if (line) {
        char first[16];
        snprintf(first, sizeof first, "%d", keys[0]);
        CHECK(strncmp(line + 11, first, strlen(first)) == 0);
    }
    grokscope_probe_close(pr);
    grokscope_run_close(r);
    fclose(out);
    fclose(none);
}

static void test_open_errors(void)
{
    char missing[4096];
    path_in(missing, "missing.h5");
    grokscope_run *r;
    CHECK(grokscope_run_open(missing, &r) == GROKSCOPE_ERR_FAILED);
    CHECK(r != NULL && strstr(grokscope_run_error(r), "missing.h5") != NULL);
    CHECK(grokscope_run_n_checkpoints(r) == 0 && grokscope_run_param_key(r, 0) == NULL);
    grokscope_probe *pr;
    CHECK(grokscope_probe_open(r, 0, &pr) == GROKSCOPE_ERR_INVALID);
    grokscope_probe_close(pr);
    grokscope_run_close(r);
    grokscope_train *t = grokscope_train_new();
    CHECK(grokscope_train_resume(t, missing, 0) == GROKSCOPE_ERR_FAILED);
    CHECK(strstr(grokscope_train_error(t), "missing.h5") != NULL);
    grokscope_train_free(t);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: test_api SCRATCH_DIR\n");
        return 2;
    }
    snprintf(dir, sizeof dir, "%s", argv[1]);
    test_version();
    test_config();
    test_describe();
    test_open_errors();
    test_train_stop_resume();
    test_interventions_resume();
    test_mlp();
    char whole[4096];
    test_analysis(path_in(whole, "whole.h5"));
    return check_report("api");
}
