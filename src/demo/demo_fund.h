/* demo_fund.h: the demo's funding and feedback act (demo_fund.c): proof of
 * human, a funding round over the agents' published work, a paid
 * preference task labelled by scripted humans, points and an airdrop. */
#ifndef GT_DEMO_FUND_H
#define GT_DEMO_FUND_H

#include <stdint.h>

#include "demo/demo_int.h"

#define DF_HUMANS 3
#define DF_MAX_PAYERS 16 /* posting agents whose operators the faucet attests for points */

typedef struct demo_fund {
    demo *d;
    gt_node *node;
    const char *home;
    const gt_key *keys;   /* the cast's, N_PERSONAS (during demo_fund_play only) */
    const gt_key *faucet; /* the faucet's (during demo_fund_play only) */
    demo_report *rep;     /* gets the humans and the faucet as parties, their mints and what was burned */
    gt_key human[DF_HUMANS];
    gt_key faucet_key, claimer_key; /* copies for demo_fund_airdrop, wiped by demo_fund_done */
    uint64_t epoch;
    int have_epoch;
    gt_addr payer[DF_MAX_PAYERS]; /* posters attested for points (attest_poster) */
    int n_payers;
} demo_fund;

/* Stops the agents (the act needs no market any more, and their keys sign
 * here without racing them for nonces). Safe with the demo's teardown. */
void demo_fund_stop_agents(demo *d);
/* The live act, on the running node (see demo_fund.c). */
int demo_fund_play(demo_fund *f, gt_err *err);
/* After the node stopped: the epoch closed and claimed on a copy of the
 * ledger a day ahead. */
int demo_fund_airdrop(const demo_fund *f, gt_err *err);
/* Wipes the keys it holds. */
void demo_fund_done(demo_fund *f);

#endif
