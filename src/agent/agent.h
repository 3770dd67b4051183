/* agent.h: the agent runtime: a wallet, a local model, a table of skills and
 * the loop that makes an agent take part in the market through a node.
 *
 * Roles (any combination):
 *   worker     registers its card, watches open tasks of its skills whose
 *              bounty is at least its price, claims one, reads the spec blob,
 *              runs the skill's work function with its model, uploads the
 *              result blob and submits it; settles accepted slots (its pay);
 *              when rejected, re-runs its work: if the re-run reproduces what
 *              it submitted it disputes, else it concedes and settles.
 *   poster     verifies results submitted to tasks it posted (the skill's
 *              verify function: re-execution or a checker) and settles
 *              rejections once the dispute window has passed.
 *   evaluator  verifies results of tasks naming it as verifier (for the fee).
 *   validator  re-executes disputed work and votes on it, and votes on
 *              quorum tasks, both sealed (vote_commit in the commit window,
 *              vote_reveal after it; agent_seal.c); co-signs evaluation attestations
 *              (skill_eval.h; a panel's co-sign is its vote, sealed from ledger
 *              format 11 and sent with the reveal, eval_reveal); re-runs rejected work while the worker may still
 *              dispute, so its vote is ready the moment a dispute opens (the
 *              vote stays open only the network's vote window); needs stake.
 *   poster     also exports the datasets of its finished data jobs and
 *              publishes their Merkle roots (skill_generate.h), given a
 *              datasets directory.
 * Skills are plain C functions in a table (skills.c): adding one is adding a
 * gt_skill with work/verify (and optionally fits).
 *
 * Determinism is what makes verification by re-execution work: the work of
 * every skill is a pure function of (spec, model), so honest re-runs agree
 * with an honest result byte for byte.
 *
 * Threads: one gt_agent is driven by one thread (gt_agent_run or
 * gt_agent_step); gt_agent_stop, gt_agent_set_roles and gt_agent_stats may be
 * called from any thread. Several agents may share one gt_agent_model. */
#ifndef GT_AGENT_AGENT_H
#define GT_AGENT_AGENT_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "agent/client.h"
#include "base/buf.h"
#include "base/err.h"
#include "base/limits.h"
#include "crypto/key.h"

/* Limits on what specs and results from outside may ask of an agent. */
#define GT_AGENT_SPEC_MAX_BYTES (1024 * 1024)     /* a spec blob */
#define GT_AGENT_RESULT_MAX_BYTES GT_LIMIT_RESULT_BYTES /* a result blob: the node's own limit (base/limits.h) */
#define GT_AGENT_MAX_PROMPTS 64                   /* prompts in one `complete` spec */
#define GT_AGENT_PROMPT_MAX_BYTES 8192            /* one prompt */
#define GT_AGENT_MAX_PREDICT 512                  /* tokens generated per prompt */
#define GT_AGENT_CTX_POSITIONS 1024               /* KV cache of an agent's context */
#define GT_AGENT_REASON_MAX 512                   /* a verdict's reason text */
#define GT_AGENT_TASKS_PAGE 100                   /* tasks read per listing */
#define GT_AGENT_LIST_PAGES 10                    /* pages a listing reads a pass */
#define GT_AGENT_OWN_PAGES 10                     /* pages of 200 of its own actions it reads for its seals */
#define GT_AGENT_MEMO 256                         /* remembered (task, slot, attempt) decisions */
#define GT_AGENT_DEFAULT_POLL_MS 500
#define GT_AGENT_RETRY_MAX_MS 5000               /* longest wait between tries while the node cannot be reached */
#define GT_AGENT_SUB_WAIT_MS 120000               /* longest wait for a subcontracted result */

enum {
    GT_ROLE_WORKER = 1,
    GT_ROLE_POSTER = 2,
    GT_ROLE_EVALUATOR = 4,
    GT_ROLE_VALIDATOR = 8,
};

/* Deliberate misbehaviour, so the market's defences can be shown and tested
 * (`gotong demo`, `gotong agent --misbehave`); an honest agent has none. */
enum {
    GT_FAULT_GARBAGE = 1,    /* work: submit a made-up result without running the model */
    GT_FAULT_REJECT_ALL = 2, /* verify: reject every result without looking */
    GT_FAULT_FORGE_SCORE = 4, /* eval: attest a perfect score whatever the results say */
};

/* A model shared by agents: the loaded weights, its tokenizer and its id
 * (sha256 of the GGUF file, what cards and specs name). */
typedef struct gt_agent_model gt_agent_model;
/* Loads path and hashes the file. Caller frees with gt_agent_model_free after
 * every agent using it is freed. */
int gt_agent_model_load(const char *path, gt_agent_model **out, gt_err *err);
void gt_agent_model_free(gt_agent_model *m); /* accepts NULL */
/* "sha256:<hex>" of the GGUF file, and the raw 32 bytes. */
const char *gt_agent_model_id(const gt_agent_model *m);
/* The id a model file would have ("sha256:<hex>" of its bytes), without loading it. */
int gt_agent_file_id(const char *path, char id[72], gt_err *err);
const uint8_t *gt_agent_model_hash(const gt_agent_model *m);

typedef struct gt_agent gt_agent;

/* A task as a skill sees it. */
typedef struct gt_job {
    uint8_t task_id[32];
    uint64_t slot;
    const json_t *task;   /* the task from the node (market.h's gt_market_task_get shape) */
    const json_t *spec;   /* the spec blob, parsed (every skill's spec is a JSON object) */
    char spec_id[72];     /* "sha256:<hex>" */
} gt_job;

typedef struct gt_skill_verdict {
    int accept;                      /* 1 accept, 0 reject */
    int score;                       /* 0..100 */
    char reason[GT_AGENT_REASON_MAX]; /* why, for the reason blob (required on reject) */
} gt_skill_verdict;

/* What a skill's judge or vote hook returns when it cannot decide yet (a
 * data batch waits for the batches before it): the agent asks again on a
 * later pass. Positive, so it never reads as a GT_E* error. */
#define GT_SKILL_LATER 1

typedef struct gt_skill {
    const char *name; /* the task kind it serves */
    /* 0 if this agent can do the job (model, size...); else an error saying why. May be NULL. */
    int (*fits)(gt_agent *a, const gt_job *job, gt_err *err);
    /* 0 if this agent would stake on a claim of the job, beyond fits (which
     * judging asks too); else an error saying why the task is skipped. May be
     * NULL. eval: a spec under the check floor, whose attestation the ledger
     * refuses from format 10 (a claimant would lose its stake); generate: a
     * job naming no model (its validators re-run with their own).
     * GT_SKILL_LATER (err saying why): not yet, asked again next pass (eval:
     * a held-out draw whose block is not on the ledger yet). */
    int (*claimable)(gt_agent *a, const gt_job *job, gt_err *err);
    /* Does the work; appends the result blob's bytes to out. */
    int (*work)(gt_agent *a, const gt_job *job, gt_buf *out, gt_err *err);
    /* Judges result[0..len): fills v. Returns an error only when it could not
     * judge at all (then no verdict is given). */
    int (*verify)(gt_agent *a, const gt_job *job, const uint8_t *result, size_t len, gt_skill_verdict *v,
                  gt_err *err);
    /* Optional hooks for work whose market actions are not the plain ones
     * (each NULL: the default in parentheses). */
    /* Does the work and submits it with the skill's own action; rid gets the
     * result blob's id, *len its size (default: work, upload, task_submit).
     * eval: the attestation is the submission; GT_SKILL_LATER (err saying
     * why) before a held-out draw's block: worked again next pass. */
    int (*submit)(gt_agent *a, const gt_job *job, char rid[72], size_t *len, gt_err *err);
    /* Judges the submitted result[0..len) of job->slot (blob id `result`) and
     * sends the verdict itself; v gets what to log (default: verify, then
     * task_verify). generate: per-sample task_verify_partial; eval: co-sign. */
    int (*judge)(gt_agent *a, const gt_job *job, const uint8_t result_id[32], const uint8_t *result, size_t len,
                 gt_skill_verdict *v, gt_err *err);
    /* A worker whose result was rejected: *stand = 1 when it still holds
     * that its whole result was right, so it disputes (default: work again
     * and compare the bytes). generate: the worker validates its own batch. */
    int (*stands_by)(gt_agent *a, const gt_job *job, const uint8_t *result, size_t len, int *stand, gt_err *err);
    /* A validator's vote on a dispute of job->slot: sends it itself, in the
     * clear (default: verify, then a sealed vote: vote_commit, later
     * vote_reveal). eval: co-sign (which is the vote), before ledger format
     * 11 only: from its height an eval panel's vote is sealed too, the
     * co-sign sent with the reveal (agent_verify.c, skill_eval.h). */
    int (*vote)(gt_agent *a, const gt_job *job, const uint8_t result_id[32], const uint8_t *result, size_t len,
                gt_skill_verdict *v, gt_err *err);
    /* 1 when each slot of a task asks for its own work (generate: slot b is
     * batch b, samples name their contributor); 0 (complete, eval, train)
     * when every slot asks for the same deterministic result, so honest
     * results of two slots are the same bytes and every one after the first
     * is rejected as a copy (agent_verify.c): the agent then claims no slot
     * of such a task of several slots unless its spec allows identical
     * results ("sameResults": true). */
    int own_slot_work;
    /* Milliseconds this agent's check of a result of the job would take,
     * estimated before it starts from what the agent knows (its measured
     * speeds, the spec's size), or 0 when it cannot tell (default: 0).
     * The reveal guard (agent_verify.c) takes the larger of it and the
     * agent's longest re-execution so far, so a first long re-run is
     * bounded too. train: from the speed cache (measured if absent);
     * complete: the spec's token bound at the measured per-token time; eval:
     * that, or the longest an eval item has taken the agent, per item checked;
     * generate: a batch's spot-checked samples at max_tokens each at the
     * measured per-token time, and for a judge stage every sample's judge
     * prompt (its bytes and max_tokens) at the measured prompt-token time. */
    uint64_t (*rerun_ms)(gt_agent *a, const gt_job *job);
} gt_skill;

/* The skills this build knows (skills.c), and lookup by name (NULL if none). */
const gt_skill *gt_skill_find(const char *name);
/* Comma-separated names of every known skill, for help texts (static storage). */
const char *gt_skill_names(void);

/* One line of progress: "name: what happened". */
typedef void (*gt_agent_log_fn)(void *arg, const char *agent_name, const char *line);

typedef struct gt_agent_config {
    const char *name;          /* card name (1..GT_MARKET_NAME_MAX bytes) */
    const char *skills;        /* comma-separated task kinds, each a known skill */
    uint64_t price_units;      /* least bounty worth claiming */
    const char *endpoint;      /* card endpoint; NULL: "" */
    int roles;                 /* GT_ROLE_* */
    int faults;                /* GT_FAULT_*; 0 for an honest agent */
    gt_agent_model *model;     /* shared, not owned; NULL: an agent without a model (no work, no verify) */
    int n_threads;             /* inference threads (0: 1) */
    int max_prompts;           /* `complete`: do at most this many prompts, subcontract the rest (0: all) */
    uint64_t poll_ms;          /* sleep between idle steps (0: GT_AGENT_DEFAULT_POLL_MS) */
    uint64_t max_tasks;        /* gt_agent_run stops after this many submitted results (0: no limit) */
    gt_agent_log_fn log;       /* progress lines; NULL: GT_INFO */
    void *log_arg;
    const char *datasets_dir;  /* poster: exports the datasets of its data jobs under it and publishes
                                  their roots (NULL: it does not) */
    /* Inference over an OpenAI-compatible server (agent/oai.h) instead of in-process: the model
     * calls of `complete`, `generate` (data, judge, spot checks) and `eval` (answers, log-likelihood
     * scores), work and re-runs alike, go to model_url's /completions, with the same bytes. `train`
     * runs here (training is not inference: its gradient steps are re-executed on the weights).
     * model stays required (its sha256 is what the server must run; its tokenizer makes the ids). */
    const char *model_url;     /* "http://HOST:PORT/v1"; NULL: in-process */
    const char *model_name;    /* the server's name of the model; NULL: the entry whose sha256 is model's */
    uint64_t model_timeout_ms; /* per request (0: GT_OAI_DEFAULT_TIMEOUT_MS) */
    /* Rented inference paid per request: a model_url that answers 402 (x402) is paid from the
     * agent's account on its own node's ledger, at most this many base units in all (agent/pay.h);
     * 0: nothing is paid, a priced server's 402 is an error and the work fails. */
    uint64_t model_budget_units;
    /* Where the worker keeps a result made for a claimed slot until it is submitted or refused for good
     * (agent_kept.c: one file, agent-ADDR.kept-TASK-SLOT-ATTEMPT), so a restarted agent sends it instead of
     * working the slot again; one process per key may use it (gotong agent: its home, under the key's lock).
     * NULL: memory only. */
    const char *kept_dir;
    int list_pages;            /* for tests: pages of GT_AGENT_TASKS_PAGE each task listing reads a pass
                                  (0: GT_AGENT_LIST_PAGES) */
} gt_agent_config;

typedef struct gt_agent_stats {
    uint64_t claimed, submitted, settled, verified, accepted_given, rejected_given;
    uint64_t disputes_opened, conceded, votes, subcontracts, errors;
    uint64_t cosigns, datasets_published;
    uint64_t reveals; /* sealed votes opened (votes counts the commitments and plain votes) */
    uint64_t work_runs; /* times a skill's work ran for a claimed slot (a submit tried again does not run it) */
} gt_agent_stats;

/* Makes an agent signing with key (copied) and talking to the node at
 * node_url. Checks the config (known skills, name) but sends nothing. Caller
 * frees with gt_agent_free. */
int gt_agent_new(const gt_agent_config *cfg, const gt_key *key, const char *node_url, gt_agent **out, gt_err *err);
void gt_agent_free(gt_agent *a); /* accepts NULL; wipes the key */

const gt_addr *gt_agent_address(const gt_agent *a);
const char *gt_agent_name(const gt_agent *a);
gt_client *gt_agent_client(gt_agent *a);
const gt_agent_model *gt_agent_get_model(const gt_agent *a);
int gt_agent_faults(const gt_agent *a);
int gt_agent_max_prompts(const gt_agent *a);
/* Base units the agent has paid for rented inference so far (config model_budget_units at most). */
uint64_t gt_agent_model_spent(const gt_agent *a);

/* Sends agent_register, or agent_update when the card on the ledger differs;
 * nothing when it is already current. */
int gt_agent_register(gt_agent *a, gt_err *err);

/* One pass over the market for every role: acts on everything actionable
 * once. *acted (may be NULL) gets the number of actions sent. Errors of
 * single actions are logged and counted, not returned; only a failure to
 * reach the node is. */
int gt_agent_step(gt_agent *a, int *acted, gt_err *err);
/* Registers, then steps until gt_agent_stop, max_tasks, or *stop_flag (may be
 * NULL; for signal handlers) becomes non-zero; sleeps poll_ms between passes
 * that did nothing. A node it cannot reach (at the start or later) is waited
 * out, however long, trying again every GT_AGENT_RETRY_MAX_MS at most; other
 * failures end it after 20 passes in a row. Returns 0, or the error that ended it. */
int gt_agent_run(gt_agent *a, const volatile int *stop_flag, gt_err *err);
void gt_agent_stop(gt_agent *a);
int gt_agent_stopping(const gt_agent *a);
/* Changes the roles (the demo brings workers on and off line). */
void gt_agent_set_roles(gt_agent *a, int roles);
void gt_agent_stats_get(const gt_agent *a, gt_agent_stats *out);

/* Terms of a task to post (amounts in base units, windows in blocks; zero
 * windows take the defaults below). */
typedef struct gt_task_terms {
    const char *kind;
    uint64_t slots, bounty_units, stake_units, fee_units, quorum;
    gt_addr verifier;               /* zero: the poster verifies */
    uint8_t parent[32];             /* zero: not a sub-task */
    uint64_t claim_s, submit_s, verify_s; /* windows, seconds of block time */
    uint64_t batch_items, last_batch_items; /* units a slot holds (per-unit verdicts); 0: none */
} gt_task_terms;
#define GT_AGENT_DEFAULT_CLAIM_S 600
#define GT_AGENT_DEFAULT_SUBMIT_S 300
#define GT_AGENT_DEFAULT_VERIFY_S 300
/* Claim policy: a worker claims only a task whose submit window is sure to
 * last (submitSeconds of block time) at least this long, and at least twice its
 * longest job so far plus GT_AGENT_SUBMIT_MARGIN_MS. */
#define GT_AGENT_CLAIM_MIN_MS 3000
#define GT_AGENT_SUBMIT_MARGIN_MS 1000
/* A node's blob upload quota per account when the node does not report it
 * (an older node): api.h's GT_API_BLOB_QUOTA_BYTES, its default. */
#define GT_AGENT_BLOB_QUOTA_DEFAULT (256ull * 1024 * 1024)

/* Uploads the spec blob and posts the task from this agent's wallet;
 * task_id gets its id. May be called from any thread (it uses a client of
 * its own), e.g. by a script directing a running agent. A `generate` task
 * (a data job) whose job's first task another address posted is refused
 * before anything is uploaded or paid (GT_EEXIST, naming that address): the
 * job and its dataset are that address's (work.c's dataset_publish). */
int gt_agent_post(gt_agent *a, const gt_task_terms *t, const void *spec, size_t spec_len, uint8_t task_id[32],
                  gt_err *err);

/* ---- For skills (agent.c). */

/* The agent's model as the work layer takes it (work/llm.h): a view of the
 * shared weights with a context of this agent's own, made on first use and
 * freed with the agent. GT_EUNSUPPORTED when the agent runs no model. */
struct gt_llm *gt_agent_llm(gt_agent *a, gt_err *err);
/* A seed only this agent can compute, for choices that must be made after
 * a commitment and not be predictable by whoever committed (which items or
 * samples to re-execute): keccak256(private key || what), first 8 bytes. */
uint64_t gt_agent_secret_seed(const gt_agent *a, const uint8_t what[32]);
/* The spec blob of a task, raw (for specs whose id is the hash of their
 * bytes). Caller frees *bytes with gt_free. */
int gt_agent_spec_bytes(gt_agent *a, const json_t *task, uint8_t **bytes, size_t *len, gt_err *err);
/* Where this poster exports datasets, or NULL. */
const char *gt_agent_datasets_dir(const gt_agent *a);
/* Logs a progress line for this agent (printf-style). */
void gt_agent_logf(gt_agent *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Greedy completion of prompt (BOS as the vocabulary asks) for n_predict
 * tokens with this agent's model and context: appends the generated token ids
 * to tokens (int32 each) and the text to text. Deterministic. */
int gt_agent_complete(gt_agent *a, const char *prompt, size_t prompt_len, int n_predict, gt_buf *tokens,
                      gt_buf *text, gt_err *err);
/* Signs and submits one action of kind; fill sets its fields (client.h). */
int gt_agent_act(gt_agent *a, const gt_action_kind *kind, gt_client_fill_fn fill, void *arg, uint8_t id_out[32],
                 gt_err *err);
/* Verdict for a slot: task_verify(task, slot, result, accept, score, reason
 * blob). Uploads the reason text first. */
int gt_agent_send_verdict(gt_agent *a, const uint8_t task_id[32], uint64_t slot, const uint8_t result[32],
                          const gt_skill_verdict *v, gt_err *err);
/* task_settle(task, slot). */
int gt_agent_settle(gt_agent *a, const uint8_t task_id[32], uint64_t slot, gt_err *err);
/* Counts a subcontract in the stats. */
void gt_agent_count_subcontract(gt_agent *a);

/* JSON helpers for the node's shapes: a "0x"+64 hex or "sha256:" hash field
 * into out (0, or GT_EINVAL naming the field); an amount field ("1.5") into
 * base units. */
int gt_agent_json_hash(const json_t *o, const char *field, uint8_t out[32], gt_err *err);
int gt_agent_json_units(const json_t *o, const char *field, uint64_t *out, gt_err *err);

#endif
