/* agent_impl.h: what agent.c, agent_model.c and the skills share and nobody
 * else sees: the agent and model structs. */
#ifndef GT_AGENT_IMPL_H
#define GT_AGENT_IMPL_H

#include <pthread.h>
#include <stdatomic.h>

#include "agent/agent.h"
#include "infer/model.h"
#include "infer/tokenizer.h"
#include "market/market.h"

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
    int what;     /* MEMO_* in agent.c */
    uint64_t until_height; /* retry once the head reaches this (0: never) */
} gt_agent_memo;

struct gt_agent {
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
    _Atomic int roles, stop;
    pthread_mutex_t stats_mu;
    gt_agent_stats stats;
    gt_agent_memo memo[GT_AGENT_MEMO];
    unsigned memo_next;
};

#endif
