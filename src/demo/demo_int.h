/* demo_int.h: what the parts of the demo's runner share (not for other
 * layers; they use demo.h): demo.c sets up the network and the cast,
 * demo_rounds.c runs the market rounds and paces the blocks, demo_work.c the
 * data-job and evaluation rounds, demo_summary.c reads the ledger afterwards
 * and prints what happened. */
#ifndef GT_DEMO_INT_H
#define GT_DEMO_INT_H

#include <jansson.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>

#include "agent/agent.h"
#include "api/api.h"
#include "base/err.h"
#include "crypto/key.h"

#define DEMO_MAX_AGENTS 16
#define DEMO_WAIT_S 180 /* longest wait for one step of a round */
#define DEMO_POLL_MS 100
#define DEMO_N_PREDICT 16
#define DEMO_WORKER_N_PREDICT 160 /* a worked solution, then its "Answer:" line */
#define DEMO_STEP_LINE_MAX 256 /* a --step answer; the rest of a longer line is skipped */

/* The cast, in demo_cast's order. */
enum { P_AYU, P_DEWI, P_ANA, P_BUDI, P_CITRA, P_EKO, P_FAJAR, P_GITA, P_V1, P_V2, P_V3, N_PERSONAS };

/* One member of the cast. Amounts in base units. */
typedef struct demo_persona {
    const char *name, *role, *skills;
    int roles, faults, max_prompts;
    uint64_t price_units, fund_units, stake_units;
} demo_persona;

extern const demo_persona demo_cast[N_PERSONAS]; /* demo.c */

/* The running demo: the agents (threads of the agent runtime) and the
 * director's own client, which only reads. */
typedef struct demo {
    gt_agent *ag[N_PERSONAS];
    pthread_t th[N_PERSONAS];
    int started[N_PERSONAS];
    gt_client *dir;
    const char *model_id;
    const uint8_t *model_hash;
    int worker_model; /* the recipe's worker model: tasks ask the task families' questions */
} demo;

/* A progress line (stdout, or stderr with --json), and seconds since the start
 * (demo.c; demo_output_begin chooses the stream, starts the clock and, with
 * step, makes demo_say wait for a line on stdin after each event). */
void demo_output_begin(int json, int step);
void demo_say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
double demo_elapsed(void); /* less the time spent at --step prompts */
double demo_paused_s(void); /* the time spent at --step prompts so far */

/* An amount as a JSON string of token decimals ("1.5"): what the demo's
 * --json summary has always carried. */
json_t *demo_json_tokens(uint64_t units);

/* The market rounds (demo_rounds.c). While they run the director may write
 * the blocks a deadline waits for itself (node: the in-process node);
 * *ticks gets the number of blocks it wrote. */
int demo_run_rounds(demo *d, gt_node *node, int rounds, uint64_t *ticks, gt_err *err);
/* Writes one block on the demo's block clock (demo_rounds.c), the clock a
 * second on first unless that would pass the host's clock. */
int demo_clock_tick(gt_node *n, gt_err *err);
/* Brings an agent's worker role on or off line (its other roles stay). */
void demo_online(demo *d, int who, int on);

/* Polls task `id` until pred says it is done (1), went another way (-1),
 * or DEMO_WAIT_S passes (an error quoting the task). */
typedef int (*demo_task_pred)(const json_t *task, const void *arg);
int demo_wait_task(gt_client *c, const uint8_t id[32], demo_task_pred pred, const void *arg, const char *what,
                   gt_err *err);
int demo_pred_complete(const json_t *t, const void *arg);      /* the task is complete */
int demo_pred_submitted_by(const json_t *t, const void *arg);  /* slot 0 submitted by arg (a gt_addr) */
int demo_pred_claimed_by(const json_t *t, const void *arg);    /* slot 0 held by arg */
int demo_pred_reopened(const json_t *t, const void *arg);      /* slot 0 open again after a rejection */

/* The data-job round and the evaluation round of round `round` (demo_work.c). */
int demo_data_round(demo *d, int round, gt_err *err);
int demo_eval_round(demo *d, int round, gt_err *err);

/* One participant: its name, role in the story and address, and its
 * account right after funding (the "before" of the summary). */
typedef struct demo_party {
    const char *name, *role;
    gt_addr addr;
    uint64_t before_balance, before_staked, before_locked;
} demo_party;

typedef struct demo_report {
    const char *home;
    const char *model_path, *model_id;
    int random_model;
    double seconds;
    int rounds;
    uint64_t minted_units; /* everything the faucet created */
    uint64_t burned_units; /* what rules burned (a careless labeller's bond and pay, demo_fund.c) */
    json_t *fund;          /* the funding act's outcome for --json (demo_fund.c; owned, freed by the runner) */
    demo_party parties[DEMO_MAX_AGENTS];
    int n_parties;
} demo_report;

/* The data jobs and evaluations, read back from the ledger (db: a
 * read-only connection to HOME/ledger.db) and checked: every published
 * dataset's exported files against the root on the ledger. *out gets
 * {"data": ..., "eval": ...} (caller json_decref's; attesters named by
 * r's parties); the human form goes to
 * f when f is not NULL. *ok becomes 0 when a check fails. (demo_work.c) */
int demo_work_summary(sqlite3 *db, const demo_report *r, FILE *f, json_t **out, int *ok, gt_err *err);

/* Reads HOME/ledger.db (the node must be stopped) and prints the summary
 * (demo_summary.c):
 * human-readable on stdout, or one JSON object when json is set. Also checks
 * the market's books and replays the whole log (gt_ledger_verify).
 * Returns 0 when every check passed, else 1 (after printing why). */
int demo_summary(const demo_report *r, int json);

#endif
