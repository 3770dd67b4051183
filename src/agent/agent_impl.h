/* agent_impl.h: what agent.c, agent_model.c and the skills share and nobody
 * else sees: the agent and model structs. */
#ifndef GT_AGENT_IMPL_H
#define GT_AGENT_IMPL_H

#include <pthread.h>
#include <stdatomic.h>

#include "agent/agent.h"
#include "agent/oai.h"
#include "agent/pay.h"
#include "base/buf.h"
#include "infer/model.h"
#include "infer/tokenizer.h"
#include "market/market.h"
#include "work/llm.h"

struct gt_agent_model {
    gt_model *model;
    gt_tokenizer *tok;
    uint8_t hash[32];
    char id[72];
};

/* A remembered decision about one attempt of one slot, so a step does not
 * redo expensive work (a re-run) or retry a refused action forever. */
typedef struct gt_agent_memo {
    uint8_t task[32];
    uint64_t slot, attempt;
    int what;     /* MEMO_* below */
    uint64_t until_height; /* retry once the head reaches this (0: never) */
    int value;    /* what was decided (MEMO_COSIGNED: 1 agree, 0 disagree; MEMO_PRECHECK: 2 accept,
                     1 reject, 0 none yet; MEMO_SUBMITTED: 1 when the skill's own work made it;
                     MEMO_SEALED: itemsChecked * 2 + agree of a sealed eval vote's co-sign) */
    uint8_t ref[32]; /* what it refers to (MEMO_ATTEST: the attestation's id; MEMO_PRECHECK and
                        MEMO_SUBMITTED: the result; MEMO_SEALED: the co-sign's evidence blob) */
} gt_agent_memo;

/* What training one base checkpoint's model takes on this machine, measured
 * once (skill_train.c train_speed) and kept: a claim of a train task is
 * judged against its submit window and the agent's blob quota before any
 * stake is locked. Times in microseconds. */
typedef struct ag_train_speed {
    uint8_t base[32];   /* the base checkpoint's blob hash: its shapes, seq and batch */
    uint64_t load_us;   /* fetching the inputs and starting the run */
    uint64_t micro_us;  /* one micro-batch, forward and backward, plus the optimizer's step */
    uint64_t ckpt_us;   /* writing one checkpoint, and moving its bytes once over the node's API */
    uint64_t ckpt_bytes; /* one checkpoint's size (the base's: the same shapes) */
    int set;
} ag_train_speed;
#define GT_AGENT_TRAIN_SPEEDS 8

/* The result the worker made for a claimed slot, kept until it is submitted
 * (agent_worker.c): a submit (or its upload) that failed for a passing
 * reason is sent again on a later pass without the work run again. One:
 * the worker holds one job in flight. */
typedef struct ag_kept_result {
    uint8_t task[32];
    uint64_t slot, attempt;
    gt_buf bytes;
    char rid[72]; /* its blob id once uploaded ("" before) */
    int set;
} ag_kept_result;

struct gt_agent {
    int list_pages;  /* pages a task listing reads (gt_agent_config.list_pages) */
    int list_capped; /* a listing of this pass stopped at list_pages with tasks left */
    char name[GT_MARKET_NAME_MAX + 1];
    char skills[GT_MARKET_SKILLS_BYTES + 1];
    char endpoint[GT_MARKET_ENDPOINT_MAX + 1];
    const gt_skill *skill_tab[GT_MARKET_SKILLS_MAX];
    int n_skills;
    uint64_t price_units, poll_ms, max_tasks;
    int faults, n_threads, max_prompts;
    gt_agent_log_fn log;
    void *log_arg;
    gt_key key;
    gt_addr addr;
    char addr_s[43];
    gt_client *client;
    gt_agent_model *model; /* borrowed */
    gt_ctx *ctx;           /* made on first use */
    gt_oai *oai;           /* inference over HTTP (every skill's model calls), or NULL: in-process */
    gt_agent_payer payer;  /* pays oai's 402s within model_budget_units (key: this agent's; ledger: client) */
    int oai_checked;       /* the server's model was checked against ours */
    gt_llm_remote llm_remote; /* the work layer's calls (generate, eval) through oai */
    struct gt_llm *llm;    /* the work layer's view of model, made on first use (gt_agent_llm) */
    char datasets_dir[1024];
    char kept_dir[1024]; /* gt_agent_config.kept_dir ("": memory only) */
    _Atomic int roles, stop;
    /* This key's sealed votes to reveal: those the last full pass saw unrevealed on the ledger plus those sent
     * since; from 1 at the start (a restarted agent may hold commitments of its run before: the first pass
     * looks). While above 0 the reveals run whatever the roles: an unrevealed commitment is slashed. */
    _Atomic int seals_open;
    int seals_seen; /* this pass's count of them (the agent's thread only) */
    /* The block time by which the earliest of them must be revealed, as the last full pass saw (0: none);
     * seals_sent counts commitments sent, so a pass knows one landed whose deadline it has not read. */
    uint64_t reveal_by_s, reveal_by_seen;
    uint64_t seals_sent;
    int reveal_unknown; /* a commitment sent since the last full pass read the deadlines */
    int claim_held;     /* the last claim pass was held back for a reveal (said once) */
    int seals_known;    /* a full judging pass has counted them (the first step runs one before it claims) */
    uint64_t job_ms_max; /* longest job so far, from its start to its submission: the claim policy's measure */
    uint64_t rerun_ms_max; /* longest re-execution so far (a verifier's or a judge's): the reveal guard's measure */
    /* Time spent in this agent's own model calls (gt_agent_complete, rented generation) and the tokens they
     * generated: with llm's local_us/local_tokens (the work layer's generations run here), ag_token_us, the
     * per-token time skills estimate a re-run with (prompt time folded in). */
    uint64_t gen_us, gen_tokens;
    uint64_t eval_item_us; /* the longest an eval item has taken this agent (a run's or a check's mean) */
    pthread_mutex_t stats_mu;
    gt_agent_stats stats;
    gt_agent_memo memo[GT_AGENT_MEMO];
    unsigned memo_next;
    ag_train_speed train_speeds[GT_AGENT_TRAIN_SPEEDS]; /* a ring (the worker's thread only) */
    ag_kept_result kept; /* the worker's thread only */
    unsigned train_speed_next;
};


/* Microseconds a generated token has taken this agent so far (its prompt's
 * evaluation counted with it), at least 1; 0 before any was measured. */
uint64_t ag_token_us(const gt_agent *a);
/* Microseconds a prompt token has taken this agent's model (the judge
 * stage's reading), at least 1: measured when the model runs here, else
 * ag_token_us (a generated token's, more); 0 before either was measured. */
uint64_t ag_prompt_us(const gt_agent *a);
/* Counts n tokens generated by a model call started at t0 (gt_now_s). */
void ag_token_took(gt_agent *a, double t0, size_t n);
/* Times one short greedy generation (at most n tokens after prompt[0..len))
 * on this agent's model when it has timed no token yet (ag_token_us 0): a
 * claim's estimate of a job's size needs a measure, and a fresh agent had
 * none. The model's calls count their own time (work/llm.c). */
int ag_token_probe(gt_agent *a, const char *prompt, size_t len, int n, gt_err *err);

/* Frees what gt_agent_llm made (not the shared weights). Accepts NULL. */
void ag_llm_free(struct gt_llm *l);

/* ---- Shared by agent.c and agent_verify.c. */
enum { MEMO_SKIP = 1, MEMO_VERIFY, MEMO_VOTE, MEMO_REACT, MEMO_SETTLE, MEMO_WORK, MEMO_CHECK, MEMO_PUBLISH,
       MEMO_ATTEST, MEMO_COSIGNED, MEMO_PRECHECK, MEMO_SUBMITTED, MEMO_SEALED, MEMO_WAIT, MEMO_HELD };

/* The fields of every slot action: each is set when the kind has it. */
typedef struct slot_args {
    const uint8_t *task;
    uint64_t slot;
    const uint8_t *result, *reason;
    int accept;
    uint64_t score;
} slot_args;

int ag_fill_slot(void *arg, gt_action *a, gt_err *err);
/* "0x1234abcd…" of an id, for log lines. */
const char *ag_short_id(const uint8_t id[32], char out[16]);
/* 1 if the JSON address string is this agent. */
int ag_is_me(const gt_agent *a, const json_t *s);
gt_agent_memo *ag_memo_find(gt_agent *a, const uint8_t task[32], uint64_t slot, uint64_t attempt, int what);
/* Returns the entry written (valid until the next put: the ring may reuse it). */
gt_agent_memo *ag_memo_put(gt_agent *a, const uint8_t task[32], uint64_t slot, uint64_t attempt, int what,
                           uint64_t until);
/* Fetches and parses the task's spec blob into job (caller json_decref's *spec). */
int ag_load_job(gt_agent *a, const json_t *task, uint64_t slot, gt_job *job, json_t **spec, gt_err *err);
/* 1 when a failure may pass by itself (the node unreachable or restarting, an answer lost, a nonce race,
 * the node's store busy): what failed is tried again on a later pass, never given up or conceded. */
int ag_transient(int rc);
/* Logs and counts a failed action on a slot. */
void ag_action_failed(gt_agent *a, const char *what, const uint8_t task[32], uint64_t slot, const gt_err *e);
void ag_count(gt_agent *a, uint64_t *field);
/* Calls fn for every task of the listing `query` (details when detail is set). */
typedef int (*ag_task_fn)(gt_agent *a, const json_t *task, void *arg, int *acted, gt_err *err);
int ag_each_task(gt_agent *a, const char *query, int detail, ag_task_fn fn, void *arg, int *acted, gt_err *err);
/* The newest block as the poster pass sees it (deadlines are block times). */
typedef struct ag_head {
    uint64_t height, time_s;
    int reveal_only; /* the validator pass only opens this key's sealed votes (agent.c judge_pass) */
} ag_head;
/* The roles' per-task passes (agent_verify.c); poster_task's arg is an ag_head. */
int ag_poster_task(gt_agent *a, const json_t *task, void *arg, int *acted, gt_err *err);
int ag_evaluator_task(gt_agent *a, const json_t *summary, void *arg, int *acted, gt_err *err);
int ag_validator_task(gt_agent *a, const json_t *task, void *arg, int *acted, gt_err *err);
/* The worker role's pass (agent_worker.c): the slots it holds, then, with the
 * role on and nothing in flight, one claim. */
int ag_worker_step(gt_agent *a, int *acted, gt_err *err);
/* Sealed votes (agent_seal.c). Sends vote_commit of `accept` on the round
 * (GT_MARKET_ROUND_VERIFY: a quorum slot; _DISPUTE: a dispute). */
int ag_seal_commit(gt_agent *a, const uint8_t task[32], uint64_t slot, uint64_t attempt, int round,
                   const uint8_t result[32], int accept, gt_err *err);
/* 1 if the round's object (a quorum slot, or a slot's dispute) lists a
 * commitment of this agent's. */
int ag_seal_has(const gt_agent *a, const json_t *round_obj);
/* Reveals this agent's commitment in the round when it is unrevealed and the
 * reveal window is open at the head; 1 if a reveal landed, else 0 (a failure
 * is logged and tried again on a later pass). */
int ag_seal_reveal(gt_agent *a, const json_t *task, const json_t *sl, const json_t *round_obj, int round,
                   const ag_head *head, int *acted);
/* The reveal guard (agent_verify.c): 1 when a re-execution of slot sl of
 * task started now could run past a reveal of this agent's sealed votes, at
 * twice the larger of the skill's estimate (gt_skill.rerun_ms) and the
 * longest re-execution so far: the caller puts it off to a later pass.
 * ag_rerun_took notes one that started at t0 (gt_now_s) and has ended. */
int ag_rerun_held(gt_agent *a, const json_t *task, const json_t *sl);
void ag_rerun_took(gt_agent *a, double t0);
/* The kept result on disk (agent_kept.c), with a kept_dir. ag_kept_save
 * writes a->kept, made for job's slot at attempt (0, or the write's error:
 * the result is still kept in memory); ag_kept_load fills a->kept from the
 * file of job's slot at attempt when it is there and matches (1), else 0
 * (a file that does not match is removed); ag_kept_drop forgets a->kept and
 * removes its file. */
int ag_kept_save(gt_agent *a, const gt_job *job, uint64_t attempt, gt_err *err);
int ag_kept_load(gt_agent *a, const gt_job *job, uint64_t attempt);
void ag_kept_drop(gt_agent *a);
/* The poster's pass over its complete tasks (datasets to publish). */
int ag_poster_done_task(gt_agent *a, const json_t *task, void *arg, int *acted, gt_err *err);
/* The slot object of job->slot in the job's task, or NULL. */
const json_t *ag_job_slot(const gt_job *job);
/* The skill that does the work of a task kind for this agent (one with a
 * work function on its card), or NULL. */
const gt_skill *ag_my_skill(const gt_agent *a, const char *kind);

/* The inference client of cfg's model URL (none without one), paying a priced server within
 * cfg's budget (agent_model.c). */
int ag_remote_model(gt_agent *a, const gt_agent_config *cfg, gt_err *err);

#endif
