/* grokscope train: option parsing; the work is in train_run.c. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "circuit.h"
#include "commands.h"
#include "images.h"
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
    "  --layers N          transformer blocks (default 1; more than 1 run the reference\n"
    "                      path, which info and the progress output name)\n"
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
    for (int i = 0; i < GS_OP_COUNT; i++) {
        const gs_op_info *o = gs_op_get((gs_op)i);
        printf("  %-13s %s%s\n", o->name, o->formula,
               o->needs_prime ? "; p prime" : o->fixed_p ? "; p = 120" : "");
        printf("      pairs: %s\n", o->pairs);
        printf("      Fourier measures: %s\n", gs_circuit_summary((gs_op)i));
    }
}

/* Choices named on the command line. */
static int name_opt(const char *flag, const char *val, int (*parse)(const char *, int *), int *dst,
                    const char *choices, gs_err *err)
{
    if (parse(val, dst) != 0)
        return gs_err_set(err, "%s: unknown choice '%s' (one of %s)", flag, val, choices);
    return 0;
}

/* Options of one intervention given without it (or with another) would be ignored
 * silently: refuse them. */
static int check_intervention_options(gs_config *c, const int *given, gs_err *err)
{
    enum { G_ALPHA, G_WINDOW, G_LAMBDA };
    if ((given[G_ALPHA] || given[G_WINDOW] || given[G_LAMBDA]) && c->grokfast == GS_GF_NONE)
        return gs_err_set(err, "--gf-alpha, --gf-window and --gf-lambda need --grokfast ema or ma");
    if (given[G_ALPHA] && c->grokfast != GS_GF_EMA)
        return gs_err_set(err, "--gf-alpha is the EMA filter's: it needs --grokfast ema");
    if (given[G_WINDOW] && c->grokfast != GS_GF_MA)
        return gs_err_set(err, "--gf-window is the MA filter's: it needs --grokfast ma");
    if (c->grokfast == GS_GF_MA && !given[G_LAMBDA])
        c->gf_lambda = 5.0; /* grokfast.py's MA default (its EMA default is 2) */
    return 0;
}

/* --task mnist: the options of the modular tasks and of the transformer do not apply;
 * the MLP reads pixels; the data directory is stored absolute, so resume and analyze
 * find it from anywhere. */
static int check_task_options(int argc, char **argv, gs_config *c, const char *data, gs_err *err)
{
    static const char *const mnist_only[] = {"--data", "--train-size", "--test-size"};
    static const char *const modular_only[] = {"--op", "--p", "--frac", "--embed", "--d-embed"};
    const int mnist = c->task == GS_TASK_MNIST;
    const char *const *other = mnist ? modular_only : mnist_only;
    const size_t n = mnist ? sizeof modular_only / sizeof *other : sizeof mnist_only / sizeof *other;
    for (int i = 1; i < argc; i++)
        for (size_t k = 0; k < n; k++) {
            const size_t len = strlen(other[k]);
            if (strncmp(argv[i], other[k], len) == 0 && (argv[i][len] == '\0' || argv[i][len] == '='))
                return gs_err_set(err, "%s does not apply to --task %s", other[k],
                                  gs_task_kind_name(c->task));
        }
    if (!mnist)
        return 0;
    if (c->model != GS_MODEL_MLP)
        return gs_err_set(err, "--task mnist needs --model mlp (the transformer reads tokens, not images)");
    if (!data)
        return gs_err_set(err, "--task mnist needs --data DIR, the directory of the MNIST or "
                          "Fashion-MNIST IDX files (e.g. /usr/share/datasets/fashion-mnist)");
    char *abs = realpath(data, NULL);
    if (!abs)
        return gs_err_set(err, "--data %s: %s", data, strerror(errno));
    const int fits = strlen(abs) < sizeof c->data_dir;
    if (fits)
        snprintf(c->data_dir, sizeof c->data_dir, "%s", abs);
    free(abs);
    if (!fits)
        return gs_err_set(err, "--data %s: the path is longer than %zu bytes", data,
                          sizeof c->data_dir - 1);
    c->p = GS_IMAGES_CLASSES;
    c->d_embed = 0;
    return 0;
}

static int parse(int argc, char **argv, gs_train_job *job, gs_err *err)
{
    const char *data = NULL;
    gs_config *c = &job->cfg;
    long v;
    int p_given = 0, onehot = 0, gf_given[3] = {0};
    static const char *const mlp_only[] = {"--embed", "--d-embed", "--hidden", "--act",
                                           "--bias", "--no-bias"};
    static const char *const transformer_only[] = {"--layers", "--d-model", "--n-heads", "--d-mlp"};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *val = NULL;
        int r;
#define OPT(name) ((r = gs_opt_value(argv, argc, &i, name, &val, err)) < 0 ? -1 : r)
#define LONG_OPT(name, lo, hi, dst)                                                       \
    if ((r = OPT(name)) != 0) {                                                           \
        if (r < 0 || gs_parse_long(name, val, lo, hi, &v, err) != 0)                      \
            return -1;                                                                    \
        dst = v;                                                                          \
        continue;                                                                         \
    }
#define DOUBLE_OPT(name, lo, hi, dst)                                                     \
    if ((r = OPT(name)) != 0) {                                                           \
        if (r < 0 || gs_parse_double(name, val, lo, hi, &dst, err) != 0)                  \
            return -1;                                                                    \
        continue;                                                                         \
    }
        if (strcmp(a, "--p") == 0 || strncmp(a, "--p=", 4) == 0)
            p_given = 1;
        LONG_OPT("--p", GS_P_MIN, GS_P_MAX, c->p)
        LONG_OPT("--seed", -9223372036854775807L, 9223372036854775807L, c->seed)
        LONG_OPT("--d-model", 1, 8192, c->d_model)
        LONG_OPT("--n-heads", 1, 8192, c->n_heads)
        LONG_OPT("--d-mlp", 1, 8192, c->d_mlp)
        LONG_OPT("--epochs", 1, 100000000L, c->epochs)
        LONG_OPT("--every", 1, 100000000L, c->every)
        LONG_OPT("--threads", 1, 256, job->threads)
        LONG_OPT("--layers", 1, GS_MAX_LAYERS, c->n_layers)
        LONG_OPT("--d-embed", 1, 8192, c->d_embed)
        LONG_OPT("--batch", 1, 100000000L, c->batch)
        LONG_OPT("--train-size", 1, 1000000, c->train_size)
        LONG_OPT("--test-size", 1, 1000000, c->test_size)
        DOUBLE_OPT("--frac", 0.0, 1.0, c->frac)
        DOUBLE_OPT("--lr", 0.0, 1e6, c->lr)
        DOUBLE_OPT("--wd", 0.0, 1e6, c->wd)
        DOUBLE_OPT("--beta1", 0.0, 1.0, c->beta1)
        DOUBLE_OPT("--beta2", 0.0, 1.0, c->beta2)
        DOUBLE_OPT("--stop-test-loss", 0.0, 1e6, c->stop_test_loss)
        DOUBLE_OPT("--eps", 0.0, 1.0, c->eps)
        LONG_OPT("--warmup", 1, 100000000L, c->warmup)
        DOUBLE_OPT("--momentum", 0.0, 1.0, c->momentum)
        DOUBLE_OPT("--init-scale", 0.0, 1e6, c->init_scale)
        DOUBLE_OPT("--output-scale", 0.0, 1e6, c->output_scale)
        LONG_OPT("--loss-precision", 32, 64, c->loss_precision)
        if (strncmp(a, "--gf-", 5) == 0)
            gf_given[strncmp(a, "--gf-alpha", 10) == 0 ? 0 : strncmp(a, "--gf-window", 11) == 0 ? 1 : 2] = 1;
        DOUBLE_OPT("--gf-alpha", 0.0, 1.0, c->gf_alpha)
        DOUBLE_OPT("--gf-lambda", 0.0, 1e6, c->gf_lambda)
        LONG_OPT("--gf-window", 1, 100000, c->gf_window)
        if ((r = OPT("--optimizer")) != 0) {
            if (r < 0 || name_opt("--optimizer", val, gs_optimizer_parse, &c->optimizer, "adamw, adam, sgd", err) < 0)
                return -1;
            continue;
        }
        if ((r = OPT("--grokfast")) != 0) {
            if (r < 0 || name_opt("--grokfast", val, gs_grokfast_parse, &c->grokfast, "none, ema, ma", err) < 0)
                return -1;
            continue;
        }
        if ((r = OPT("--loss")) != 0) {
            if (r < 0 || name_opt("--loss", val, gs_loss_parse, &c->loss, "ce, stablemax, mse", err) < 0)
                return -1;
            continue;
        }
        if ((r = OPT("--op")) != 0) {
            if (r < 0)
                return -1;
            if (gs_op_parse(val, &c->op) != 0)
                return gs_err_set(err, "--op: unknown operation '%s' (grokscope train --list-ops "
                                  "lists them)", val);
            continue;
        }
        if ((r = OPT("--task")) != 0) {
            if (r < 0 || name_opt("--task", val, gs_task_kind_parse, &c->task, "modular, mnist", err) < 0)
                return -1;
            continue;
        }
        if ((r = OPT("--data")) != 0) {
            if (r < 0)
                return -1;
            data = val;
            continue;
        }
        if ((r = OPT("--model")) != 0) {
            if (r < 0)
                return -1;
            if (gs_model_kind_parse(val, &c->model) != 0)
                return gs_err_set(err, "--model: unknown model '%s' (transformer or mlp)", val);
            continue;
        }
        if ((r = OPT("--embed")) != 0) {
            if (r < 0)
                return -1;
            if (strcmp(val, "onehot") != 0 && strcmp(val, "learned") != 0)
                return gs_err_set(err, "--embed: '%s' is neither learned nor onehot", val);
            onehot = strcmp(val, "onehot") == 0;
            continue;
        }
        if ((r = OPT("--hidden")) != 0) {
            if (r < 0 || gs_hidden_parse("--hidden", val, &c->n_hidden, c->hidden, err) != 0)
                return -1;
            continue;
        }
        if ((r = OPT("--act")) != 0) {
            if (r < 0)
                return -1;
            if (gs_act_parse(val, &c->act) != 0)
                return gs_err_set(err, "--act: unknown activation '%s' (relu, gelu or quad)", val);
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
#undef LONG_OPT
#undef DOUBLE_OPT
        if (strcmp(a, "--force") == 0)
            job->force = 1;
        else if (strcmp(a, "--bias") == 0)
            c->bias = 1;
        else if (strcmp(a, "--no-bias") == 0)
            c->bias = 0;
        else if (strcmp(a, "--ieee-subnormals") == 0)
            c->flush_subnormals = 0;
        else if (strcmp(a, "--wd-to-init") == 0)
            c->wd_to_init = 1;
        else if (strcmp(a, "--orthograd") == 0)
            c->orthograd = 1;
        else if (strcmp(a, "--fix-norm") == 0)
            c->fix_norm = 1;
        else if (strcmp(a, "--quiet") == 0 || strcmp(a, "-q") == 0)
            job->quiet = 1;
        else if (strcmp(a, "--list-ops") == 0)
            return gs_err_set(err, "--list-ops takes no other option (grokscope train --list-ops)");
        else
            return gs_err_set(err, "unknown option '%s' (see grokscope train --help)", a);
    }
    if (onehot)
        c->d_embed = 0;
    /* an option of the other model would be silently ignored: refuse it */
    for (int i = 1; i < argc; i++) {
        const char *const *own = c->model == GS_MODEL_MLP ? transformer_only : mlp_only;
        const size_t n = c->model == GS_MODEL_MLP ? sizeof transformer_only / sizeof *own
                                                  : sizeof mlp_only / sizeof *own;
        for (size_t k = 0; k < n; k++) {
            const size_t len = strlen(own[k]);
            if (strncmp(argv[i], own[k], len) == 0 && (argv[i][len] == '\0' || argv[i][len] == '='))
                return gs_err_set(err, "%s does not apply to --model %s", own[k],
                                  gs_model_kind_name(c->model));
        }
        if (onehot && strncmp(argv[i], "--d-embed", 9) == 0)
            return gs_err_set(err, "--d-embed does not apply to --embed onehot");
    }
    /* the S5 tasks fix the token count; an explicit other --p is refused by validation */
    if (gs_op_get(c->op)->fixed_p && !p_given)
        c->p = gs_op_get(c->op)->fixed_p;
    if (check_task_options(argc, argv, c, data, err) != 0)
        return -1;
    return check_intervention_options(c, gf_given, err);
}

/* Options that define a run cannot change on resume: the file already holds them. */
static int check_resume_options(int argc, char **argv, gs_err *err)
{
    static const char *allowed[] = {"--resume", "--epochs", "--threads", "--quiet", "-q"};
    for (int i = 1; i < argc; i++) {
        if (strncmp(argv[i], "--", 2) != 0 && argv[i][0] != '-')
            continue;
        int ok = 0;
        for (size_t k = 0; k < sizeof allowed / sizeof *allowed; k++) {
            size_t n = strlen(allowed[k]);
            if (strncmp(argv[i], allowed[k], n) == 0 && (argv[i][n] == '\0' || argv[i][n] == '='))
                ok = 1;
        }
        if (!ok)
            return gs_err_set(err, "%s cannot be combined with --resume: the run file fixes it", argv[i]);
    }
    return 0;
}

int gs_train_parse_options(int argc, char **argv, gs_train_job *job, gs_err *err)
{
    *job = (gs_train_job){0};
    gs_config_default(&job->cfg);
    return parse(argc, argv, job, err);
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
    gs_err err;
    char cmdline[4096];
    if (gs_train_parse_options(argc, argv, &job, &err) != 0)
        return gs_fail("train", &err);
    if (!job.out) {
        gs_err_set(&err, "missing --out FILE (or --resume FILE)");
        return gs_fail("train", &err);
    }
    if (job.resume) {
        if (check_resume_options(argc, argv, &err) != 0)
            return gs_fail("train", &err);
        for (int i = 1; i < argc; i++)
            if (strncmp(argv[i], "--epochs", 8) == 0)
                job.resume_epochs = job.cfg.epochs;
    } else if (gs_config_validate(&job.cfg, &err) != 0) {
        return gs_fail("train", &err);
    } else if (!job.quiet && job.cfg.task == GS_TASK_MODULAR) {
        char why[256];
        if (gs_task_n_defined(job.cfg.op, job.cfg.p, why, sizeof why) < (long)job.cfg.p * job.cfg.p)
            fprintf(stderr, "grokscope train: op %s: %s\n", gs_op_name(job.cfg.op), why);
    }
    gs_join_args(cmdline, sizeof cmdline, argc, argv);
    job.command_line = cmdline;
    int status = gs_train_run(&job, &err);
    if (status != 0)
        fprintf(stderr, "grokscope train: %s\n", err.msg);
    else if (!job.quiet)
        fprintf(stderr, "wrote %s\n", job.out);
    return status;
}
