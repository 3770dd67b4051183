/* market_plan.h: the market benchmarks' shared setup (bench_market.c,
 * bench_market_pages.c): THREADS poster/worker pairs on a fresh ledger with
 * the same genesis (funded posters, registered workers), and each thread's
 * L lifecycles signed in advance: post, claim, submit, verify, settle, and
 * the same senders and nonces as 5 transfers (the raw ledger's work). Static
 * functions: each benchmark is one translation unit. */
#ifndef GT_BENCH_MARKET_PLAN_H
#define GT_BENCH_MARKET_PLAN_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../tests/api/api_util.h"

#define THREADS 2
#define WORKER_SKILL "echo"

/* Lifecycles per thread; main sets it before make_plans. */
static int L = 100;

/* Key numbers: poster of thread t is 10 + 2t, worker 11 + 2t. */
static int poster_key(int t) { return 10 + 2 * t; }
static int worker_key(int t) { return 11 + 2 * t; }

typedef struct plan {
    gt_action *acts;   /* 5 per lifecycle, in submission order */
    char **json;       /* the same as JSON text (http run) */
    size_t n;
} plan;

static plan market_plan[THREADS], transfer_plan[THREADS];

/* Signs thread t's lifecycles: post, claim, submit, verify, settle. */
static void make_plans(int t) {
    int pk = poster_key(t), wk = worker_key(t);
    plan *m = &market_plan[t], *x = &transfer_plan[t];
    m->n = x->n = (size_t)L * 5;
    m->acts = gt_malloc(m->n * sizeof *m->acts);
    x->acts = gt_malloc(x->n * sizeof *x->acts);
    m->json = gt_calloc(m->n, sizeof *m->json);
    gt_addr pa, wa;
    gt_key k;
    tkey(pk, &k, &pa);
    tkey(wk, &k, &wa);
    for (int i = 0; i < L; i++) {
        gt_action *a = &m->acts[5 * i];
        uint8_t result[32];
        uint64_t pn = 3 * (uint64_t)i, wn = 1 + 2 * (uint64_t)i; /* worker nonce 0: agent_register */
        ttask_post(&a[0], pk, pn, WORKER_SKILL, (uint64_t)t * 1000000 + (uint64_t)i);
        const uint8_t *task = a[0].id;
        memset(result, 0, 32);
        memcpy(result, &i, sizeof i);
        result[30] = 0xaa; /* never all zero: the rules refuse an empty result */
        result[31] = (uint8_t)t;
        ttask_ref(&a[1], &gt_kind_task_claim, wk, wn, task, -1);
        ttask_submit(&a[2], wk, wn + 1, task, result);
        ttask_verify(&a[3], pk, pn + 1, task, result);
        ttask_ref(&a[4], &gt_kind_task_settle, pk, pn + 2, task, 0);
        for (int j = 0; j < 5; j++) m->json[5 * i + j] = tjson(&a[j]);
        /* the same senders and nonces, as transfers */
        gt_action *b = &x->acts[5 * i];
        tcore(&b[0], &gt_kind_transfer, pk, pn, &wa, 1);
        tcore(&b[1], &gt_kind_transfer, wk, wn, &pa, 1);
        tcore(&b[2], &gt_kind_transfer, wk, wn + 1, &pa, 1);
        tcore(&b[3], &gt_kind_transfer, pk, pn + 1, &wa, 1);
        tcore(&b[4], &gt_kind_transfer, pk, pn + 2, &wa, 1);
    }
}

/* A fresh home with funded posters and registered workers. */
static void setup_home(char dir[64]) {
    thome(dir);
    char path[128];
    snprintf(path, sizeof path, "%s/ledger.db", dir);
    gt_ledger *l = NULL;
    gt_err err = {0};
    if (gt_ledger_open(path, 0, &l, &err)) {
        fprintf(stderr, "bench: %s\n", err.msg);
        exit(1);
    }
    gt_action a[4 * THREADS];
    gt_result r[4 * THREADS];
    int n = 0;
    for (int t = 0; t < THREADS; t++) {
        gt_addr pa, wa;
        gt_key k;
        tkey(poster_key(t), &k, &pa);
        tkey(worker_key(t), &k, &wa);
        tcore(&a[n++], &gt_kind_mint, 0, (uint64_t)(2 * t), &pa, (uint64_t)L * 2000 + 1000000);
        tcore(&a[n++], &gt_kind_mint, 0, (uint64_t)(2 * t + 1), &wa, 1000000);
    }
    for (int t = 0; t < THREADS; t++) tagent_register(&a[n++], worker_key(t), 0, WORKER_SKILL);
    if (gt_ledger_submit(l, a, (size_t)n, r) != (size_t)n) {
        for (int i = 0; i < n; i++)
            if (r[i].code) fprintf(stderr, "bench: setup action %d: %s\n", i, r[i].msg);
        exit(1);
    }
    gt_ledger_close(l);
}

#endif
