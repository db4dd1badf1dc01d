/* grokscope train: option parsing onto the public API's configuration (each --name
 * option is the key name, '-' for '_', of grokscope_config_set); the work is in
 * train_run.c. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "grokscope.h"
#include "opts.h"
#include "train_run.h"

static const char train_usage[] =
    "usage: grokscope train --out RUN.h5 [options]\n"
    "       grokscope train --resume RUN.h5 [--epochs N] [--threads N] [--quiet]\n"
    "       grokscope train --list-ops\n"
    "\n"
    "Trains the one-layer transformer of Nanda et al. 2023 (or another model) on\n"
    "(a op b) mod p, full batch (or minibatches), AdamW, and writes checkpoints of all\n"
    "weights to an HDF5 run file.\n"
    "\n"
    "task:\n"
    "  --p N               modulus (default 113; the S5 ops fix it to 120)\n"
    "  --op OP             the operation (default add); --list-ops lists them all:\n"
    "                      Power et al.'s polynomials, mixed and S5 tasks too\n"
    "  --frac F            fraction of the p*p pairs that train (default 0.3)\n"
    "  --seed S            split (CPython random.shuffle) and init seed (default 0)\n"
    "  --task T            modular (default: the tasks of --op) or mnist: Omnigrok's\n"
    "                      image classification on MNIST or Fashion-MNIST (--model mlp)\n"
    "  --data DIR          mnist: the directory of the four IDX files, e.g. Debian's\n"
    "                      /usr/share/datasets/fashion-mnist\n"
    "  --train-size N      mnist: the first N training images train (default 1000)\n"
    "  --test-size N       mnist: the first N test images test (default 10000)\n"
    "model:\n"
    "  --d-model N         residual width (default 128)\n"
    "  --n-heads N         attention heads, dividing d-model (default 4)\n"
    "  --d-mlp N           MLP width (default 512)\n"
    "  --model M           transformer (default: the paper's) or mlp (docs/models.md)\n"
    "  --layers N          transformer blocks, 1 to 8 (default 1; Power et al.'s model\n"
    "                      has 2)\n"
    "  --embed E           mlp input: learned (default; two rows of one embedding table,\n"
    "                      concatenated) or onehot (two concatenated one-hots)\n"
    "  --d-embed N         mlp: learned embedding width (default 128)\n"
    "  --hidden W,W,...    mlp: hidden layer widths (default 200,200)\n"
    "  --act A             mlp: relu (default), gelu or quad (x^2)\n"
    "  --bias, --no-bias   mlp: biases on every linear layer (default --bias)\n"
    "  --batch N           training pairs per optimizer step (default: all of them);\n"
    "                      an epoch is still one step (docs/models.md)\n"
    "optimizer (AdamW unless --optimizer says otherwise; PyTorch semantics):\n"
    "  --lr X              learning rate (default 1e-3)\n"
    "  --wd X              weight decay (default 1.0): decoupled in adamw, an L2 term\n"
    "                      of the gradient in adam and sgd\n"
    "  --beta1 X           (default 0.9)\n"
    "  --beta2 X           (default 0.98)\n"
    "  --eps X             Adam's epsilon (default 1e-8)\n"
    "  --warmup N          linear warm-up steps, lr_t = lr * min(t/N, 1) (default 10)\n"
    "interventions (docs/interventions.md; defaults: the paper's run):\n"
    "  --optimizer K       adamw (default), adam (torch.optim.Adam: wd is a coupled L2\n"
    "                      term, Grokfast's baseline) or sgd (torch.optim.SGD)\n"
    "  --momentum X        SGD momentum (default 0; sgd only)\n"
    "  --wd-to-init        weight decay pulls toward the initial weights, not 0\n"
    "                      (openai/grok's to_init)\n"
    "  --grokfast K        none (default), ema or ma: Grokfast's gradient filter\n"
    "  --gf-alpha X        EMA factor (default 0.98; ema only)\n"
    "  --gf-window N       MA window in steps (default 100; ma only; at most --epochs)\n"
    "  --gf-lambda X       amplification of the filtered gradient (default 2 for ema,\n"
    "                      5 for ma, as grokfast.py)\n"
    "  --loss K            ce (default), stablemax (Prieto et al.) or mse (on one-hot\n"
    "                      targets, as Omnigrok)\n"
    "  --loss-precision B  64 (default: the loss in float64, the paper's) or 32\n"
    "  --orthograd         the optimizer gets the gradient made orthogonal to each\n"
    "                      weight tensor and rescaled to its norm (Prieto et al.)\n"
    "  --init-scale A      every initial weight times A (Omnigrok's alpha; default 1)\n"
    "  --fix-norm          after every step rescale all weights to their initial norm\n"
    "                      (needs --wd 0)\n"
    "  --output-scale A    logits times A and lr divided by A^2 (lazy vs rich; default 1)\n"
    "schedule and output:\n"
    "  --epochs N          optimizer steps (default 40000); with --resume, the new total\n"
    "  --every N           checkpoint interval in epochs (default 100)\n"
    "  --stop-test-loss X  stop once the test loss is below X (default: never)\n"
    "  --init FILE         start from another run's last checkpoint, or from an HDF5 file\n"
    "                      holding the parameters under their TransformerLens keys\n"
    "  --out FILE          the run file to create\n"
    "  --force             overwrite FILE if it exists (never done without this)\n"
    "  --resume FILE       continue FILE from its last checkpoint, bit-exactly\n"
    "  --threads N         threads (default: all CPUs); same count => same bits\n"
    "  --ieee-subnormals   keep IEEE subnormal floats (default: flush them to zero, so\n"
    "                      late epochs cost what early ones do; docs/numerics.md)\n"
    "  --quiet             no progress line\n";

/* --list-ops: every operation, its answer, its pairs and its Fourier measures. */
static void list_ops(void)
{
    printf("Operations for --op: the answer to the pair (x, y) of tokens x, y in 0..p-1\n"
           "(docs/tasks.md has the details).\n\n");
    for (int i = 0; grokscope_op_name(i); i++) {
        const char *op = grokscope_op_name(i);
        char p[32] = "";
        if (grokscope_op_needs_prime(op))
            snprintf(p, sizeof p, "; p prime");
        else if (grokscope_op_fixed_p(op))
            snprintf(p, sizeof p, "; p = %d", grokscope_op_fixed_p(op));
        printf("  %-13s %s%s\n", op, grokscope_op_formula(op), p);
        printf("      pairs: %s\n", grokscope_op_pairs(op));
        printf("      Fourier measures: %s\n", grokscope_op_circuit(op));
    }
}

/* The options that set one key. lo < hi (integers): the command line's range, checked
 * here first so that the message names the option and this range (narrower than the
 * key's, or, for the seed, the key's own printed exactly); lo == hi: the key's range and
 * message, with the option's name for the key's. why: for a choice, what the message
 * about an unknown one adds. */
typedef struct {
    const char *flag, *key; /* key NULL: the flag without "--", '-' for '_' */
    char type;              /* 'i' integer, 'd' number, 's' text, 'c' choice */
    long lo, hi;
    const char *why;
} train_opt;

static const train_opt train_opts[] = {
    {"--p", NULL, 'i', 0, 0, NULL},
    {"--seed", NULL, 'i', -9223372036854775807L, 9223372036854775807L, NULL},
    {"--d-model", NULL, 'i', 0, 0, NULL},
    {"--n-heads", NULL, 'i', 0, 0, NULL},
    {"--d-mlp", NULL, 'i', 0, 0, NULL},
    {"--epochs", NULL, 'i', 0, 0, NULL},
    {"--every", NULL, 'i', 0, 0, NULL},
    {"--layers", "n_layers", 'i', 0, 0, NULL},
    {"--d-embed", NULL, 'i', 1, 8192, NULL}, /* 0 is --embed onehot */
    {"--batch", NULL, 'i', 1, 100000000, NULL}, /* 0 is the default, the full batch */
    {"--train-size", NULL, 'i', 1, 1000000, NULL},
    {"--test-size", NULL, 'i', 1, 1000000, NULL},
    {"--frac", NULL, 'd', 0, 0, NULL},
    {"--lr", NULL, 'd', 0, 0, NULL},
    {"--wd", NULL, 'd', 0, 0, NULL},
    {"--beta1", NULL, 'd', 0, 0, NULL},
    {"--beta2", NULL, 'd', 0, 0, NULL},
    {"--stop-test-loss", NULL, 'd', 0, 0, NULL},
    {"--eps", NULL, 'd', 0, 0, NULL},
    {"--warmup", NULL, 'i', 0, 0, NULL},
    {"--momentum", NULL, 'd', 0, 0, NULL},
    {"--init-scale", NULL, 'd', 0, 0, NULL},
    {"--output-scale", NULL, 'd', 0, 0, NULL},
    {"--loss-precision", NULL, 'i', 0, 0, NULL},
    {"--gf-alpha", NULL, 'd', 0, 0, NULL},
    {"--gf-lambda", NULL, 'd', 0, 0, NULL},
    {"--gf-window", NULL, 'i', 0, 0, NULL},
    {"--hidden", NULL, 's', 0, 0, NULL},
    {"--optimizer", NULL, 'c', 0, 0, "unknown choice '%s' (one of adamw, adam, sgd)"},
    {"--grokfast", NULL, 'c', 0, 0, "unknown choice '%s' (one of none, ema, ma)"},
    {"--loss", NULL, 'c', 0, 0, "unknown choice '%s' (one of ce, stablemax, mse)"},
    {"--task", NULL, 'c', 0, 0, "unknown choice '%s' (one of modular, mnist)"},
    {"--op", NULL, 'c', 0, 0, "unknown operation '%s' (grokscope train --list-ops lists them)"},
    {"--model", NULL, 'c', 0, 0, "unknown model '%s' (transformer or mlp)"},
    {"--act", NULL, 'c', 0, 0, "unknown activation '%s' (relu, gelu or quad)"},
};

/* The switches that set a key to a fixed value. */
static const struct {
    const char *flag, *key, *value;
} train_switches[] = {
    {"--bias", "bias", "1"},
    {"--no-bias", "bias", "0"},
    {"--ieee-subnormals", "flush_subnormals", "0"},
    {"--wd-to-init", "wd_to_init", "1"},
    {"--orthograd", "orthograd", "1"},
    {"--fix-norm", "fix_norm", "1"},
};

static void opt_key(const train_opt *o, char *key, size_t size)
{
    snprintf(key, size, "%s", o->key ? o->key : o->flag + 2);
    for (char *c = key; *c; c++)
        if (*c == '-')
            *c = '_';
}

/* Sets a key the parser computed itself (a value the key always accepts). */
static int set_key(grokscope_config *c, const char *key, const char *value, char *msg)
{
    if (grokscope_config_set(c, key, value) != GROKSCOPE_OK)
        return gs_cli_set(msg, "%s", grokscope_config_error(c));
    return 0;
}

/* One option's value into its key; the message names the option, not the key. */
static int set_opt(grokscope_config *c, const train_opt *o, const char *val, char *msg)
{
    char key[64];
    opt_key(o, key, sizeof key);
    long l;
    if (o->lo < o->hi && gs_parse_long(o->flag, val, o->lo, o->hi, &l, msg) != 0)
        return -1;
    if (grokscope_config_set(c, key, val) == GROKSCOPE_OK)
        return 0;
    if (o->type == 'c') {
        char why[256];
        snprintf(why, sizeof why, o->why, val);
        return gs_cli_set(msg, "%s: %s", o->flag, why);
    }
    /* the library's message begins with the key: name the option instead */
    const char *e = grokscope_config_error(c);
    const size_t n = strlen(key);
    if (strncmp(e, key, n) == 0 && e[n] == ':')
        return gs_cli_set(msg, "%s%s", o->flag, e + n);
    return gs_cli_set(msg, "%s: %s", o->flag, e);
}

/* 1 if argv[i] is the option flag, alone or as flag=value. */
static int is_flag(const char *arg, const char *flag)
{
    const size_t len = strlen(flag);
    return strncmp(arg, flag, len) == 0 && (arg[len] == '\0' || arg[len] == '=');
}

/* A choice key's value as text ("" if it cannot be read). */
static const char *choice(const grokscope_config *c, const char *key, char *buf, size_t size)
{
    if (grokscope_config_get(c, key, buf, size) != GROKSCOPE_OK)
        buf[0] = '\0';
    return buf;
}

/* Options of one intervention given without it (or with another) would be ignored
 * silently: refuse them. */
static int check_intervention_options(grokscope_config *c, const int *given, char *msg)
{
    enum { G_ALPHA, G_WINDOW, G_LAMBDA };
    char gf[16];
    choice(c, "grokfast", gf, sizeof gf);
    if ((given[G_ALPHA] || given[G_WINDOW] || given[G_LAMBDA]) && strcmp(gf, "none") == 0)
        return gs_cli_set(msg, "--gf-alpha, --gf-window and --gf-lambda need --grokfast ema or ma");
    if (given[G_ALPHA] && strcmp(gf, "ema") != 0)
        return gs_cli_set(msg, "--gf-alpha is the EMA filter's: it needs --grokfast ema");
    if (given[G_WINDOW] && strcmp(gf, "ma") != 0)
        return gs_cli_set(msg, "--gf-window is the MA filter's: it needs --grokfast ma");
    if (strcmp(gf, "ma") == 0 && !given[G_LAMBDA])
        return set_key(c, "gf_lambda", "5", msg); /* grokfast.py's MA default (its EMA default is 2) */
    return 0;
}

/* --task mnist: the options of the modular tasks and of the transformer do not apply;
 * the MLP reads pixels; the data directory is stored absolute, so resume and analyze
 * find it from anywhere. */
static int check_task_options(int argc, char **argv, grokscope_config *c, const char *data, char *msg)
{
    static const char *const mnist_only[] = {"--data", "--train-size", "--test-size"};
    static const char *const modular_only[] = {"--op", "--p", "--frac", "--embed", "--d-embed"};
    char task[16], model[16];
    choice(c, "task", task, sizeof task);
    const int mnist = strcmp(task, "mnist") == 0;
    const char *const *other = mnist ? modular_only : mnist_only;
    const size_t n = mnist ? sizeof modular_only / sizeof *other : sizeof mnist_only / sizeof *other;
    for (int i = 1; i < argc; i++)
        for (size_t k = 0; k < n; k++)
            if (is_flag(argv[i], other[k]))
                return gs_cli_set(msg, "%s does not apply to --task %s", other[k], task);
    if (!mnist)
        return 0;
    if (strcmp(choice(c, "model", model, sizeof model), "mlp") != 0)
        return gs_cli_set(msg, "--task mnist needs --model mlp (the transformer reads tokens, not images)");
    if (!data)
        return gs_cli_set(msg, "--task mnist needs --data DIR, the directory of the MNIST or "
                          "Fashion-MNIST IDX files (e.g. /usr/share/datasets/fashion-mnist)");
    char *abs = realpath(data, NULL);
    if (!abs)
        return gs_cli_set(msg, "--data %s: %s", data, errno == ENOENT ? "no such directory" : strerror(errno));
    const int rc = grokscope_config_set(c, "data_dir", abs);
    free(abs);
    if (rc != GROKSCOPE_OK)
        return gs_cli_set(msg, "--data %s: %s", data, grokscope_config_error(c));
    char classes[16];
    snprintf(classes, sizeof classes, "%d", GROKSCOPE_IMAGE_CLASSES);
    if (set_key(c, "p", classes, msg) != 0)
        return -1;
    return set_key(c, "d_embed", "0", msg);
}

/* Each setting once: a repeated option, or two switches of one setting (--bias and
 * --no-bias), is refused rather than letting the last one win unseen. `what` names the
 * setting (a config key, or the option itself). */
typedef struct {
    const char *what[96], *by[96];
    int n;
} given_set;

static int given_once(given_set *g, const char *what, const char *flag, char *msg)
{
    for (int i = 0; i < g->n; i++)
        if (strcmp(g->what[i], what) == 0)
            return strcmp(g->by[i], flag) == 0
                       ? gs_cli_set(msg, "%s is given twice (give each option once)", flag)
                       : gs_cli_set(msg, "%s and %s contradict each other (give one)", g->by[i], flag);
    if (g->n < (int)(sizeof g->what / sizeof *g->what)) {
        g->what[g->n] = what;
        g->by[g->n++] = flag;
    }
    return 0;
}

static int parse(int argc, char **argv, gs_train_job *job, char *msg)
{
    given_set given = {.n = 0};
    const char *data = NULL, *p_text = NULL;
    grokscope_config *c = job->cfg;
    int onehot = 0, gf_given[3] = {0};
    static const char *const mlp_only[] = {"--embed", "--d-embed", "--hidden", "--act",
                                           "--bias", "--no-bias"};
    static const char *const transformer_only[] = {"--layers", "--d-model", "--n-heads", "--d-mlp"};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *val = NULL;
        int r, matched = 0;
        if (strncmp(a, "--gf-", 5) == 0)
            gf_given[strncmp(a, "--gf-alpha", 10) == 0 ? 0 : strncmp(a, "--gf-window", 11) == 0 ? 1 : 2] = 1;
        for (size_t k = 0; k < sizeof train_opts / sizeof *train_opts && !matched; k++) {
            const train_opt *o = &train_opts[k];
            if ((r = gs_opt_value(argv, argc, &i, o->flag, &val, msg)) == 0)
                continue;
            if (r < 0 || given_once(&given, o->flag, o->flag, msg) != 0 || set_opt(c, o, val, msg) != 0)
                return -1;
            if (strcmp(o->flag, "--p") == 0)
                p_text = val;
            matched = 1;
        }
        for (size_t k = 0; k < sizeof train_switches / sizeof *train_switches && !matched; k++)
            if (strcmp(a, train_switches[k].flag) == 0) {
                if (given_once(&given, train_switches[k].key, train_switches[k].flag, msg) != 0 ||
                    set_key(c, train_switches[k].key, train_switches[k].value, msg) != 0)
                    return -1;
                matched = 1;
            }
        if (matched)
            continue;
#define OPT(name)                                                                          \
    ((r = gs_opt_value(argv, argc, &i, name, &val, msg)) < 0 ? -1                          \
     : r && given_once(&given, name, name, msg) != 0          ? -1                          \
                                                               : r)
        if ((r = OPT("--threads")) != 0) {
            long v;
            if (r < 0 || gs_parse_long("--threads", val, 1, 256, &v, msg) != 0)
                return -1;
            job->threads = (int)v;
            continue;
        }
        if ((r = OPT("--data")) != 0) {
            if (r < 0)
                return -1;
            data = val;
            continue;
        }
        if ((r = OPT("--embed")) != 0) {
            if (r < 0)
                return -1;
            if (strcmp(val, "onehot") != 0 && strcmp(val, "learned") != 0)
                return gs_cli_set(msg, "--embed: '%s' is neither learned nor onehot", val);
            onehot = strcmp(val, "onehot") == 0;
            continue;
        }
        if ((r = OPT("--out")) != 0) {
            if (r < 0)
                return -1;
            job->out = val;
            continue;
        }
        if ((r = OPT("--init")) != 0) {
            if (r < 0)
                return -1;
            job->init = val;
            continue;
        }
        if ((r = OPT("--resume")) != 0) {
            if (r < 0)
                return -1;
            job->out = val;
            job->resume = 1;
            continue;
        }
#undef OPT
        if (strcmp(a, "--force") == 0)
            job->force = 1;
        else if (strcmp(a, "--quiet") == 0 || strcmp(a, "-q") == 0)
            job->quiet = 1;
        else if (strcmp(a, "--list-ops") == 0)
            return gs_cli_set(msg, "--list-ops takes no other option (grokscope train --list-ops)");
        else
            return gs_cli_set(msg, "unknown option '%s' (see grokscope train --help)", a);
    }
    if (onehot && set_key(c, "d_embed", "0", msg) != 0)
        return -1;
    /* an option of the other model would be silently ignored: refuse it */
    char model[16];
    const int mlp = strcmp(choice(c, "model", model, sizeof model), "mlp") == 0;
    for (int i = 1; i < argc; i++) {
        const char *const *own = mlp ? transformer_only : mlp_only;
        const size_t n = mlp ? sizeof transformer_only / sizeof *own : sizeof mlp_only / sizeof *own;
        for (size_t k = 0; k < n; k++)
            if (is_flag(argv[i], own[k]))
                return gs_cli_set(msg, "%s does not apply to --model %s", own[k], model);
        if (onehot && strncmp(argv[i], "--d-embed", 9) == 0)
            return gs_cli_set(msg, "--d-embed does not apply to --embed onehot");
    }
    /* p: the --p given (an S5 task's own p is then refused by validation), else the
     * token count --op fixes, else the default */
    char op[32], p_buf[32];
    choice(c, "op", op, sizeof op);
    if (!p_text && grokscope_op_fixed_p(op)) {
        snprintf(p_buf, sizeof p_buf, "%d", grokscope_op_fixed_p(op));
        p_text = p_buf;
    } else if (!p_text) {
        grokscope_config *def = grokscope_config_new();
        if (!def || grokscope_config_get(def, "p", p_buf, sizeof p_buf) != GROKSCOPE_OK) {
            grokscope_config_free(def);
            return gs_cli_set(msg, "out of memory");
        }
        grokscope_config_free(def);
        p_text = p_buf;
    }
    if (set_key(c, "p", p_text, msg) != 0)
        return -1;
    if (check_task_options(argc, argv, c, data, msg) != 0)
        return -1;
    return check_intervention_options(c, gf_given, msg);
}

/* Options that define a run cannot change on resume: the file already holds them. */
static int check_resume_options(int argc, char **argv, char *msg)
{
    static const char *allowed[] = {"--resume", "--epochs", "--threads", "--quiet", "-q"};
    for (int i = 1; i < argc; i++) {
        if (strncmp(argv[i], "--", 2) != 0 && argv[i][0] != '-')
            continue;
        int ok = 0;
        for (size_t k = 0; k < sizeof allowed / sizeof *allowed; k++)
            ok |= is_flag(argv[i], allowed[k]);
        if (!ok)
            return gs_cli_set(msg, "%s cannot be combined with --resume: the run file fixes it", argv[i]);
    }
    return 0;
}

int gs_train_parse_options(int argc, char **argv, gs_train_job *job, char *msg)
{
    *job = (gs_train_job){0};
    job->cfg = grokscope_config_new();
    if (!job->cfg)
        return gs_cli_set(msg, "out of memory");
    return parse(argc, argv, job, msg);
}

int gs_cmd_train(int argc, char **argv)
{
    if (gs_wants_help(argc, argv)) {
        fputs(train_usage, stdout);
        return 0;
    }
    if (argc == 2 && strcmp(argv[1], "--list-ops") == 0) {
        list_ops();
        return 0;
    }
    gs_train_job job;
    gs_cli_err err;
    char cmdline[4096];
    int status = GS_EXIT_USAGE;
    if (gs_train_parse_options(argc, argv, &job, err.msg) != 0)
        goto fail;
    if (!job.out) {
        gs_cli_set(err.msg, "missing --out FILE (or --resume FILE)");
        goto fail;
    }
    if (job.resume) {
        if (check_resume_options(argc, argv, err.msg) != 0)
            goto fail;
        for (int i = 1; i < argc; i++)
            if (strncmp(argv[i], "--epochs", 8) == 0) {
                int64_t epochs = 0;
                grokscope_config_get_int(job.cfg, "epochs", &epochs);
                job.resume_epochs = (long)epochs;
            }
    } else if (grokscope_config_validate(job.cfg) != GROKSCOPE_OK) {
        gs_cli_set(err.msg, "%s", grokscope_config_error(job.cfg));
        goto fail;
    } else if (!job.quiet) {
        char task[16], op[32], why[256];
        int64_t p = 0;
        choice(job.cfg, "task", task, sizeof task);
        choice(job.cfg, "op", op, sizeof op);
        grokscope_config_get_int(job.cfg, "p", &p);
        if (strcmp(task, "modular") == 0 &&
            grokscope_task_n_defined(op, (int)p, why, sizeof why) < (long)(p * p))
            fprintf(stderr, "grokscope train: op %s: %s\n", op, why);
    }
    gs_join_args(cmdline, sizeof cmdline, argc, argv);
    job.command_line = cmdline;
    status = gs_train_run(&job, err.msg);
    if (status != 0)
        fprintf(stderr, "grokscope train: %s\n", err.msg);
    else if (!job.quiet)
        fprintf(stderr, "wrote %s\n", job.out);
    gs_train_job_free(&job);
    return status;
fail:
    gs_train_job_free(&job);
    return gs_fail("train", err.msg);
}
