/* Tasks and runs in words: what `grokscope info` prints, behind the API. */
#include "gsl_internal.h"

#include <stdio.h>
#include <stdlib.h>

#include "circuit.h"
#include "phases.h"

const char *grokscope_op_formula(const char *op)
{
    gs_op o;
    return op && gs_op_parse(op, &o) == 0 ? gs_op_get(o)->formula : NULL;
}

int grokscope_op_fixed_p(const char *op)
{
    gs_op o;
    return op && gs_op_parse(op, &o) == 0 ? gs_op_get(o)->fixed_p : 0;
}

const char *grokscope_op_name(int i)
{
    return i >= 0 && i < GS_OP_COUNT ? gs_op_get((gs_op)i)->name : NULL;
}

const char *grokscope_op_pairs(const char *op)
{
    gs_op o;
    return op && gs_op_parse(op, &o) == 0 ? gs_op_get(o)->pairs : NULL;
}

int grokscope_op_needs_prime(const char *op)
{
    gs_op o;
    return op && gs_op_parse(op, &o) == 0 ? gs_op_get(o)->needs_prime != 0 : -1;
}

const char *grokscope_op_circuit(const char *op)
{
    gs_op o;
    return op && gs_op_parse(op, &o) == 0 ? gs_circuit_summary(o) : NULL;
}

long grokscope_task_n_defined(const char *op, int p, char *why, size_t size)
{
    gs_op o;
    if (!op || gs_op_parse(op, &o) != 0 || p < GS_P_MIN || p > GS_P_MAX)
        return -1;
    return gs_task_n_defined(o, p, why, size);
}

const char *grokscope_run_circuit_note(const grokscope_run *run)
{
    return run->run ? gs_run_circuit_note(run->run) : "";
}

const char *grokscope_run_model_note(const grokscope_run *run)
{
    return run->run ? gs_run_model_note(run->run) : "";
}

int grokscope_config_describe_model(const grokscope_config *cfg, char *buf, size_t size)
{
    char text[512]; /* gs_config_describe_model's longest line fits */
    gs_config_describe_model(&cfg->cfg, text, sizeof text);
    const int n = buf && size ? snprintf(buf, size, "%s", text) : -1;
    return n >= 0 && (size_t)n < size ? GROKSCOPE_OK : GROKSCOPE_ERR_INVALID;
}

long grokscope_epochs_first_accuracy(const grokscope_epoch *rows, long n, int test, double *level)
{
    if (level)
        *level = GS_PHASE_ACC;
    if (n <= 0)
        return -1;
    gs_metrics_row *tmp = malloc((size_t)n * sizeof *tmp);
    if (!tmp)
        return -1;
    for (long i = 0; i < n; i++)
        tmp[i] = (gs_metrics_row){rows[i].epoch, rows[i].train_loss, rows[i].test_loss,
                                  rows[i].train_acc, rows[i].test_acc, rows[i].collapse_frac,
                                  rows[i].grad_norm, rows[i].grad_cos};
    const long e = gs_phases_first_acc(tmp, n, test);
    free(tmp);
    return e;
}
