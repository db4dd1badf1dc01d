/* The fast path's memory: one region of the model's activations (m->tab) carved into
 * the tables, and each thread's scratch, by tables of sizes. */
#include <assert.h>
#include <string.h>

#include "model_fast.h"

/* Carving: regions of the given sizes (in floats), each 64-byte aligned relative to
 * the base; pointers are set by typed assignments. */
static size_t layout(size_t *offset, const size_t *sizes, size_t n)
{
    size_t at = 0;
    for (size_t i = 0; i < n; i++) {
        offset[i] = at;
        at += round16(sizes[i]);
    }
    return at;
}

static size_t scratch_floats(const gs_dims *d, float *base, gs_fast_scratch *s)
{
    const size_t p = (size_t)d->p, H = (size_t)d->n_heads;
    const size_t sizes[] = {(size_t)TILE * d->d_mlp, (size_t)TILE * d->n_out, (size_t)TILE * d->n_out,
                            (size_t)TILE * H * 3, p * (2 * H + 1), 2 * (size_t)d->n_out,
                            (p > 6 * H ? p : 6 * H) * sizeof(void *) / sizeof(float)};
    size_t o[sizeof sizes / sizeof *sizes];
    const size_t total = layout(o, sizes, sizeof sizes / sizeof *sizes);
    if (base) {
        s->post = base + o[0];
        s->logits = base + o[1];
        s->dlogits = base + o[2];
        s->alpha = base + o[3];
        s->w = base + o[4];
        s->exps = (double *)(void *)(base + o[5]);
        s->rows = (const float **)(void *)(base + o[6]);
    }
    return total;
}

size_t gs_model_fast_scratch_size(const gs_dims *d)
{
    gs_fast_scratch s;
    return scratch_floats(d, NULL, &s) * sizeof(float);
}

static size_t carve(const gs_dims *d, float *base, gs_fast_tables *t)
{
    const size_t p = (size_t)d->p, R = 2 * p + 1, D = (size_t)d->d_model, H = (size_t)d->n_heads,
                 E = (size_t)d->d_head, M = (size_t)d->d_mlp, V = (size_t)d->n_out, P2 = p * p;
    const size_t part = (H + 1) * M + (H + 1) * V + H;
    gs_fast_scratch s;
    float **fviews[] = {&t->e, &t->e2b, &t->K, &t->Vt, &t->q, &t->S, &t->OWin, &t->OU, &t->Vtd,
                        &t->VOWd, &t->VOUd, &t->WoU, &t->WoUT, &t->OWinT, &t->OUT, &t->W_inT,
                        &t->W_UT, &t->W_KT, &t->W_VT, &t->c_pre, &t->c_log,
                        &t->gM, &t->gV, &t->dS, &t->dWoUT, &t->dWoUT_part, &t->dc_pre, &t->dc_log, &t->de2,
                        &t->dOWin, &t->dOU, &t->dVt, &t->dK, &t->dq, &t->de_h, &t->part,
                        &t->dscore, &t->scratch0};
    int **iviews[] = {&t->ok, &t->by_a, &t->by_b, &t->start_a, &t->start_b, &t->order,
                      &t->slot_idx, &t->order_eval, &t->slot_idx_eval, &t->key_count,
                      &t->seg_start};
    enum { NF = sizeof fviews / sizeof *fviews, NI = sizeof iviews / sizeof *iviews };
    const size_t sizes[NF + NI + 2] = {
        R * D, D, R * D, R * D, D, R * H, H * E * M, H * E * V, 2 * p * D,
        2 * p * H * M, 2 * p * H * V, M * round16(V), V * round16(M), H * M * round16(E),
        H * V * round16(E), M * round16(D), V * round16(D), H * E * round16(D), H * E * round16(D), M, V,
        R * H * M, R * H * V, R * H, M * V, SEGMENTS * M * V, M, V, D,
        H * E * M, H * E * V, R * D, R * D, D, H * R * D, p * part,
        P2 * H * 3, scratch_floats(d, NULL, &s),
        P2, P2, P2, p + 1, p + 1, P2, P2, P2, P2, SEGMENTS * p + 1, SEGMENTS + 1, /* ints */
        2 * P2, 2 * R * H};       /* doubles */
    size_t o[NF + NI + 2];
    const size_t total = layout(o, sizes, NF + NI + 2);
    if (base) {
        for (size_t i = 0; i < NF; i++)
            *fviews[i] = base + o[i];
        for (size_t i = 0; i < NI; i++)
            *iviews[i] = (int *)(void *)(base + o[NF + i]);
        t->loss = (double *)(void *)(base + o[NF + NI]);
        t->Sexp = (double *)(void *)(base + o[NF + NI + 1]);
    }
    return total + 16; /* room to align the base */
}

size_t gs_model_fast_tables_size(const gs_dims *d)
{
    gs_fast_tables t;
    return carve(d, NULL, &t);
}

void gs_fast_ctx_init(gs_fast_ctx *c, gs_model *m)
{
    memset(c, 0, sizeof *c);
    c->m = m;
    float *base = m->tab;
    while ((uintptr_t)base % 64)
        base++;
    carve(&m->d, base, &c->t);
}

void gs_fast_thread_scratch(gs_fast_ctx *c, int thread, gs_fast_scratch *s)
{
    void *mem = thread == 0 ? (void *)c->t.scratch0 : gs_pool_scratch(c->m->pool, thread);
    assert(mem && (thread == 0 || gs_pool_scratch_size(c->m->pool) >= gs_model_fast_scratch_size(&c->m->d)));
    scratch_floats(&c->m->d, mem, s);
}
