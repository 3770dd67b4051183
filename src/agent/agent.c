/* agent.c: the agent runtime loop (see agent.h for the roles).
 *
 * Everything goes through the node's HTTP API with this agent's own client
 * (client.h), exactly as a remote agent would: listings to find work, task
 * details for slot states, blobs for specs and results, signed actions for
 * every move. The loop is a sequence of idempotent passes: each pass reads
 * the current state and does what that state calls for, so an agent that
 * crashed or lost a race simply does the right thing on its next pass. A
 * small memo of (task, slot, attempt, decision) keeps a pass from redoing an
 * expensive re-run or retrying an action the rules refused. */
#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "agent/agent_impl.h"
#include "base/alloc.h"
#include "base/amount.h"
#include "base/hex.h"
#include "base/json.h"
#include "base/log.h"
#include "base/progress.h"
#include "crypto/addr.h"
#include "crypto/sha256.h"
#include "ledger/ledger.h"
#include "store/blob.h"
#include "market/market.h"
#include "work/data/job.h"
#include "work/work.h"


/* ---- small helpers ---- */

/* "0x1234abcd…" of a 32-byte id, for log lines. */
const char *ag_short_id(const uint8_t id[32], char out[16]) {
    out[0] = '0', out[1] = 'x';
    gt_hex_encode(id, 4, out + 2);
    memcpy(out + 10, "\xe2\x80\xa6", 4); /* "…" */
    return out;
}

static void sleep_ms(uint64_t ms) {
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

void gt_agent_logf(gt_agent *a, const char *fmt, ...) {
    char line[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (a->log) a->log(a->log_arg, a->name, line);
    else GT_INFO("%s: %s", a->name, line);
}

void ag_count(gt_agent *a, uint64_t *field) {
    pthread_mutex_lock(&a->stats_mu);
    (*field)++;
    pthread_mutex_unlock(&a->stats_mu);
}

void gt_agent_count_subcontract(gt_agent *a) { ag_count(a, &a->stats.subcontracts); }

int gt_agent_json_hash(const json_t *o, const char *field, uint8_t out[32], gt_err *err) {
    const char *s = json_string_value(json_object_get(o, field));
    if (!s) return gt_err_set(err, GT_EINVAL, "field \"%s\": expected a hash", field);
    if (gt_blob_id_parse(s, out, err)) return gt_err_wrap(err, "field \"%s\"", field);
    return 0;
}

int gt_agent_json_units(const json_t *o, const char *field, uint64_t *out, gt_err *err) {
    /* The API writes every amount in base units as a decimal string. */
    if (!json_is_string(json_object_get(o, field)))
        return gt_err_set(err, GT_EINVAL, "field \"%s\": expected an amount (base units, a decimal string)", field);
    return gt_json_get_u64(o, field, out, err);
}

/* 1 if the JSON address string s is this agent. */
int ag_is_me(const gt_agent *a, const json_t *s) {
    gt_addr x;
    const char *v = json_string_value(s);
    return v && !gt_addr_parse(v, &x, NULL) && gt_addr_eq(&x, &a->addr);
}

gt_agent_memo *ag_memo_find(gt_agent *a, const uint8_t task[32], uint64_t slot, uint64_t attempt, int what) {
    for (int i = 0; i < GT_AGENT_MEMO; i++) {
        gt_agent_memo *m = &a->memo[i];
        if (m->what == what && m->slot == slot && m->attempt == attempt && !memcmp(m->task, task, 32)) return m;
    }
    return NULL;
}

/* Remembers a decision (a ring: the oldest is forgotten first) and returns
 * its entry. Callers use the entry returned, never a find after other work:
 * any put in between may have reused the entry (the ring forgets), and a
 * find would then return NULL. */
gt_agent_memo *ag_memo_put(gt_agent *a, const uint8_t task[32], uint64_t slot, uint64_t attempt, int what,
                           uint64_t until) {
    assert(what != 0);
    gt_agent_memo *m = ag_memo_find(a, task, slot, attempt, what);
    if (!m) {
        m = &a->memo[a->memo_next++ % GT_AGENT_MEMO];
        memset(m, 0, sizeof *m); /* no value or ref left from the decision it replaces */
    }
    memcpy(m->task, task, 32);
    m->slot = slot, m->attempt = attempt, m->what = what, m->until_height = until;
    return m;
}

/* ---- lifecycle ---- */

/* Copies the config's directory path `dir` (NULL: "") into out[0..cap);
 * GT_ELIMIT naming `what` when it does not fit. */
static int dir_copy(char *out, size_t cap, const char *dir, const char *what, gt_err *err) {
    if (dir && strlen(dir) >= cap) return gt_err_set(err, GT_ELIMIT, "%s directory path over %zu bytes", what, cap - 1);
    snprintf(out, cap, "%s", dir ? dir : "");
    return 0;
}

int gt_agent_new(const gt_agent_config *cfg, const gt_key *key, const char *node_url, gt_agent **out, gt_err *err) {
    *out = NULL;
    const char *name = cfg->name ? cfg->name : "";
    const char *skills = cfg->skills ? cfg->skills : "";
    const char *endpoint = cfg->endpoint ? cfg->endpoint : "";
    if (!*name || strlen(name) > GT_MARKET_NAME_MAX)
        return gt_err_set(err, GT_EINVAL, "agent name must be 1 to %d bytes", GT_MARKET_NAME_MAX);
    if (strlen(skills) > GT_MARKET_SKILLS_BYTES)
        return gt_err_set(err, GT_ELIMIT, "skills list over %d bytes", GT_MARKET_SKILLS_BYTES);
    if (strlen(endpoint) > GT_MARKET_ENDPOINT_MAX)
        return gt_err_set(err, GT_ELIMIT, "endpoint over %d bytes", GT_MARKET_ENDPOINT_MAX);
    gt_agent *a = gt_calloc(1, sizeof *a);
    if (!a) return gt_err_set(err, GT_ENOMEM, "out of memory");
    pthread_mutex_init(&a->stats_mu, NULL);
    atomic_store(&a->seals_open, 1); /* unknown until a pass has looked (agent_impl.h) */
    snprintf(a->name, sizeof a->name, "%s", name);
    snprintf(a->skills, sizeof a->skills, "%s", skills);
    snprintf(a->endpoint, sizeof a->endpoint, "%s", endpoint);
    int rc = 0;
    for (const char *p = skills; *p;) {
        const char *e = strchr(p, ',');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        char one[GT_MARKET_SKILL_MAX + 1];
        if (len == 0 || len > GT_MARKET_SKILL_MAX) {
            rc = gt_err_set(err, GT_EINVAL, "skills \"%.80s\": expected comma-separated names of 1 to %d bytes", skills,
                            GT_MARKET_SKILL_MAX);
            goto fail;
        }
        memcpy(one, p, len);
        one[len] = 0;
        const gt_skill *s = gt_skill_find(one);
        if (!s) {
            rc = gt_err_set(err, GT_EINVAL, "unknown skill \"%s\"; this build knows: %s", one, gt_skill_names());
            goto fail;
        }
        if (a->n_skills == GT_MARKET_SKILLS_MAX) {
            rc = gt_err_set(err, GT_ELIMIT, "at most %d skills", GT_MARKET_SKILLS_MAX);
            goto fail;
        }
        a->skill_tab[a->n_skills++] = s;
        if (!e) break;
        p = e + 1;
    }
    if ((cfg->roles & GT_ROLE_WORKER) && a->n_skills == 0) {
        rc = gt_err_set(err, GT_EINVAL, "a worker needs at least one skill (--skills)");
        goto fail;
    }
    a->price_units = cfg->price_units;
    a->poll_ms = cfg->poll_ms ? cfg->poll_ms : GT_AGENT_DEFAULT_POLL_MS;
    a->list_pages = cfg->list_pages > 0 ? cfg->list_pages : GT_AGENT_LIST_PAGES;
    a->max_tasks = cfg->max_tasks;
    a->faults = cfg->faults;
    a->n_threads = cfg->n_threads > 0 ? cfg->n_threads : 1;
    a->max_prompts = cfg->max_prompts;
    a->log = cfg->log;
    a->log_arg = cfg->log_arg;
    a->model = cfg->model;
    if ((rc = dir_copy(a->datasets_dir, sizeof a->datasets_dir, cfg->datasets_dir, "datasets", err)) ||
        (rc = dir_copy(a->kept_dir, sizeof a->kept_dir, cfg->kept_dir, "kept results", err)))
        goto fail;
    atomic_store(&a->roles, cfg->roles);
    a->key = *key;
    if (gt_key_address(&a->key, &a->addr)) {
        rc = gt_err_set(err, GT_EINVAL, "invalid signing key");
        goto fail;
    }
    gt_addr_to_str(&a->addr, a->addr_s);
    if ((rc = gt_client_new(node_url, &a->client, err))) goto fail;
    gt_client_set_signer(a->client, &a->key); /* the agent's uploads carry its permit */
    if ((rc = ag_remote_model(a, cfg, err))) goto fail;
    *out = a;
    return 0;
fail:
    gt_agent_free(a);
    return rc;
}

void gt_agent_free(gt_agent *a) {
    if (!a) return;
    gt_ctx_free(a->ctx);
    ag_llm_free(a->llm);
    gt_client_free(a->client);
    gt_oai_free(a->oai);
    gt_key_wipe(&a->key);
    gt_buf_free(&a->kept.bytes);
    pthread_mutex_destroy(&a->stats_mu);
    gt_free(a);
}

const gt_addr *gt_agent_address(const gt_agent *a) { return &a->addr; }
const char *gt_agent_name(const gt_agent *a) { return a->name; }
gt_client *gt_agent_client(gt_agent *a) { return a->client; }
const gt_agent_model *gt_agent_get_model(const gt_agent *a) { return a->model; }
const char *gt_agent_datasets_dir(const gt_agent *a) { return a->datasets_dir[0] ? a->datasets_dir : NULL; }
int gt_agent_faults(const gt_agent *a) { return a->faults; }
int gt_agent_max_prompts(const gt_agent *a) { return a->max_prompts; }
void gt_agent_stop(gt_agent *a) { atomic_store(&a->stop, 1); }
int gt_agent_stopping(const gt_agent *a) { return atomic_load(&((gt_agent *)a)->stop); }
void gt_agent_set_roles(gt_agent *a, int roles) { atomic_store(&a->roles, roles); }

void gt_agent_stats_get(const gt_agent *a, gt_agent_stats *out) {
    gt_agent *m = (gt_agent *)a; /* the mutex is not part of the agent's logical state */
    pthread_mutex_lock(&m->stats_mu);
    *out = m->stats;
    pthread_mutex_unlock(&m->stats_mu);
}

/* ---- actions ---- */

int gt_agent_act(gt_agent *a, const gt_action_kind *kind, gt_client_fill_fn fill, void *arg, uint8_t id_out[32],
                 gt_err *err) {
    return gt_client_act(a->client, &a->key, kind, fill, arg, id_out, NULL, err);
}

int ag_fill_slot(void *arg, gt_action *a, gt_err *err) {
    const slot_args *s = arg;
    const gt_action_kind *k = a->kind;
    if (gt_action_field(k, "task") >= 0) gt_action_set_b32(a, "task", s->task);
    if (gt_action_field(k, "slot") >= 0) gt_action_set_u64(a, "slot", s->slot);
    if (gt_action_field(k, "result") >= 0 && s->result) gt_action_set_b32(a, "result", s->result);
    if (gt_action_field(k, "accept") >= 0) gt_action_set_u64(a, "accept", (uint64_t)s->accept);
    if (gt_action_field(k, "score") >= 0) gt_action_set_u64(a, "score", s->score);
    if (gt_action_field(k, "reason") >= 0 && s->reason) gt_action_set_b32(a, "reason", s->reason);
    return 0;
}

int gt_agent_send_verdict(gt_agent *a, const uint8_t task_id[32], uint64_t slot, const uint8_t result[32],
                          const gt_skill_verdict *v, gt_err *err) {
    char rid[72];
    uint8_t reason[32];
    int rc = gt_client_blob_put(a->client, v->reason, strlen(v->reason), rid, err);
    if (rc || (rc = gt_blob_id_parse(rid, reason, err))) return rc;
    slot_args s = {task_id, slot, result, reason, v->accept, (uint64_t)(v->score < 0 ? 0 : v->score)};
    return gt_agent_act(a, &gt_kind_task_verify, ag_fill_slot, &s, NULL, err);
}

int gt_agent_settle(gt_agent *a, const uint8_t task_id[32], uint64_t slot, gt_err *err) {
    slot_args s = {task_id, slot, NULL, NULL, 0, 0};
    return gt_agent_act(a, &gt_kind_task_settle, ag_fill_slot, &s, NULL, err);
}

/* The card's fields. */
static int fill_card(void *arg, gt_action *act, gt_err *err) {
    gt_agent *a = arg;
    uint8_t zero[32] = {0};
    int rc;
    if ((rc = gt_action_set_str(act, "name", a->name, strlen(a->name), err)) ||
        (rc = gt_action_set_str(act, "skills", a->skills, strlen(a->skills), err)) ||
        (rc = gt_action_set_str(act, "endpoint", a->endpoint, strlen(a->endpoint), err)))
        return rc;
    gt_action_set_b32(act, "model", a->model ? a->model->hash : zero);
    gt_action_set_u64(act, "price", a->price_units);
    return 0;
}

int gt_agent_register(gt_agent *a, gt_err *err) {
    char path[96];
    snprintf(path, sizeof path, "/v1/agents/%s", a->addr_s);
    json_t *card = NULL;
    int rc = gt_client_get_json(a->client, path, &card, err);
    if (rc && rc != GT_ENOTFOUND) return rc;
    if (rc == GT_ENOTFOUND) {
        if ((rc = gt_agent_act(a, &gt_kind_agent_register, fill_card, a, NULL, err))) return rc;
        gt_agent_logf(a, "registered card %s (skills %s, price %s, model %s)", a->addr_s, a->skills[0] ? a->skills : "-",
                      gt_amount_format(a->price_units, (char[GT_AMOUNT_STR_MAX]){0}), a->model ? a->model->id : "none");
        return 0;
    }
    /* Compare with what is on the ledger; update only when something changed. */
    uint64_t price = 0;
    const char *name = json_string_value(json_object_get(card, "name"));
    const char *ep = json_string_value(json_object_get(card, "endpoint"));
    const char *model = json_string_value(json_object_get(card, "model"));
    const char *status = json_string_value(json_object_get(card, "status"));
    char skills[GT_MARKET_SKILLS_BYTES + 1] = "";
    size_t i;
    json_t *s;
    json_array_foreach(json_object_get(card, "skills"), i, s) {
        size_t n = strlen(skills);
        snprintf(skills + n, sizeof skills - n, "%s%s", i ? "," : "", json_string_value(s) ? json_string_value(s) : "");
    }
    int same = name && !strcmp(name, a->name) && ep && !strcmp(ep, a->endpoint) && !strcmp(skills, a->skills) &&
               !gt_agent_json_units(card, "price", &price, NULL) && price == a->price_units &&
               (a->model ? model && !strcmp(model, a->model->id) : !model) && status && !strcmp(status, "active");
    json_decref(card);
    if (same) return 0;
    if ((rc = gt_agent_act(a, &gt_kind_agent_update, fill_card, a, NULL, err))) return rc;
    gt_agent_logf(a, "updated its card (skills %s)", a->skills);
    return 0;
}

/* ---- posting ---- */

typedef struct post_args {
    const gt_task_terms *t;
    uint8_t spec[32];
} post_args;

static int fill_post(void *arg, gt_action *a, gt_err *err) {
    const post_args *p = arg;
    const gt_task_terms *t = p->t;
    int rc = gt_action_set_str(a, "kind", t->kind, strlen(t->kind), err);
    if (rc) return rc;
    gt_action_set_b32(a, "spec", p->spec);
    gt_action_set_b32(a, "parent", t->parent);
    gt_action_set_u64(a, "slots", t->slots ? t->slots : 1);
    gt_action_set_u64(a, "bounty", t->bounty_units);
    gt_action_set_u64(a, "stake", t->stake_units);
    gt_action_set_addr(a, "verifier", &t->verifier);
    gt_action_set_u64(a, "fee", t->fee_units);
    gt_action_set_u64(a, "quorum", t->quorum);
    gt_action_set_u64(a, "claimSeconds", t->claim_s ? t->claim_s : GT_AGENT_DEFAULT_CLAIM_S);
    gt_action_set_u64(a, "submitSeconds", t->submit_s ? t->submit_s : GT_AGENT_DEFAULT_SUBMIT_S);
    gt_action_set_u64(a, "verifySeconds", t->verify_s ? t->verify_s : GT_AGENT_DEFAULT_VERIFY_S);
    gt_action_set_u64(a, "batchItems", t->batch_items);
    gt_action_set_u64(a, "lastBatchItems", t->last_batch_items);
    return 0;
}

/* The first of a page of a spec's generate tasks, by (postedHeight, id),
 * folded into *first (height) and first_id / owner; 0 or GT_EINVAL. */
static int first_of_page(const json_t *tasks, uint64_t *first, char first_id[67], gt_addr *owner, gt_err *err) {
    size_t i;
    json_t *o;
    json_array_foreach(tasks, i, o) {
        const char *id = json_string_value(json_object_get(o, "id"));
        const char *who = json_string_value(json_object_get(o, "poster"));
        json_t *hj = json_object_get(o, "postedHeight");
        if (!id || strlen(id) != 66 || !who || !json_is_integer(hj) || json_integer_value(hj) < 0)
            return gt_err_set(err, GT_EINVAL, "the node's task list has a task without id, poster or height");
        uint64_t h = (uint64_t)json_integer_value(hj);
        if (h > *first || (h == *first && first_id[0] && strcmp(id, first_id) >= 0)) continue;
        if (gt_addr_parse(who, owner, err)) return gt_err_wrap(err, "the node's task list");
        *first = h;
        memcpy(first_id, id, 67);
    }
    return 0;
}

/* A data job belongs to the poster of its first generate task (work.c's
 * dataset_publish rule: lowest posted height, then id). Refuses (GT_EEXIST,
 * naming the owner) to post a generate task of a job whose first task is
 * someone else's: its dataset would be theirs alone to publish, and the
 * work paid here could never be published by this poster. A spec copied from
 * a README or a shared file may have been posted by anyone before (by a
 * squatter on purpose: a post and an expiry cost it a fee); better to learn
 * it before paying. Reads every page of GET /v1/tasks?kind=generate&spec=. */
static int job_free_or_mine(gt_client *c, const gt_addr *me, const uint8_t spec_id[32], gt_err *err) {
    char q[160] = "kind=" GT_WORK_KIND_GENERATE "&limit=200&spec=0x", first_id[67] = "";
    size_t base = strlen(q);
    gt_hex_encode(spec_id, 32, q + base);
    base += 64;
    uint64_t first = UINT64_MAX, cursor = 0;
    gt_addr owner;
    for (;;) {
        json_t *page = NULL;
        snprintf(q + base, sizeof q - base, "&cursor=%llu", (unsigned long long)cursor);
        int rc = gt_client_tasks(c, q, &page, err);
        if (!rc) rc = first_of_page(json_object_get(page, "tasks"), &first, first_id, &owner, err);
        json_t *next = json_object_get(page, "next");
        int more = json_is_integer(next) && (uint64_t)json_integer_value(next) > cursor;
        if (more) cursor = (uint64_t)json_integer_value(next);
        json_decref(page);
        if (rc) return gt_err_wrap(err, "looking up the job's first task");
        if (!more) break;
    }
    if (!first_id[0] || gt_addr_eq(&owner, me)) return 0;
    char who[43];
    gt_addr_to_str(&owner, who);
    return gt_err_set(err, GT_EEXIST,
                      "job sha256:%.16s… is %s's: it posted the job's first task %.18s… at height %llu, so only it may "
                      "publish the job's dataset; change the spec's name or seed for a job of your own",
                      q + base - 64, who, first_id, (unsigned long long)first);
}

/* A data job's spec as workers and validators read it (gt_job_spec_parse):
 * the ledger stores any blob, so a spec they refuse (a version-1 spec with a
 * family, a malformed one) would lock the bounty in a task nobody claims
 * until it expires. Refused here instead, saying why. */
static int spec_workable(const void *spec, size_t spec_len, gt_err *err) {
    gt_job_spec js;
    if (gt_job_spec_parse(spec, spec_len, &js, err))
        return gt_err_wrap(err, "not posted: workers and validators would refuse this data job's spec");
    gt_job_spec_free(&js);
    return 0;
}

int gt_agent_post(gt_agent *a, const gt_task_terms *t, const void *spec, size_t spec_len, uint8_t task_id[32],
                  gt_err *err) {
    if (!t->kind) return gt_err_set(err, GT_EINVAL, "a task needs a kind");
    char sid[72];
    post_args p = {t, {0}};
    /* A client of its own: the agent's thread may be using a->client. */
    gt_client *c = NULL;
    int rc = gt_client_new(gt_client_url(a->client), &c, err);
    if (!rc) gt_client_set_signer(c, &a->key);
    if (!rc && !strcmp(t->kind, GT_WORK_KIND_GENERATE)) {
        uint8_t job[32];
        gt_sha256(spec, spec_len, job);
        rc = spec_workable(spec, spec_len, err);
        if (!rc) rc = job_free_or_mine(c, &a->addr, job, err);
    }
    if (!rc) rc = gt_client_blob_put(c, spec, spec_len, sid, err);
    if (!rc) rc = gt_blob_id_parse(sid, p.spec, err);
    if (!rc) rc = gt_client_act(c, &a->key, &gt_kind_task_post, fill_post, &p, task_id, NULL, err);
    gt_client_free(c);
    return rc;
}

/* ---- reading the market ---- */

/* Fetches the task's spec blob and parses it into job (caller frees *spec
 * with json_decref). */
int ag_load_job(gt_agent *a, const json_t *task, uint64_t slot, gt_job *job, json_t **spec, gt_err *err) {
    memset(job, 0, sizeof *job);
    *spec = NULL;
    int rc = gt_agent_json_hash(task, "id", job->task_id, err);
    if (rc) return rc;
    const char *sid = json_string_value(json_object_get(task, "spec"));
    if (!sid) return gt_err_set(err, GT_EINVAL, "task has no spec");
    uint8_t *bytes;
    size_t len;
    if ((rc = gt_client_blob_get(a->client, sid, GT_AGENT_SPEC_MAX_BYTES, &bytes, &len, err)))
        return gt_err_wrap(err, "spec");
    rc = gt_json_parse((const char *)bytes, len, GT_AGENT_SPEC_MAX_BYTES, spec, err);
    gt_free(bytes);
    if (rc) return gt_err_wrap(err, "spec %.24s… is not JSON", sid);
    if (!json_is_object(*spec)) {
        json_decref(*spec);
        *spec = NULL;
        return gt_err_set(err, GT_EINVAL, "spec: expected a JSON object");
    }
    job->slot = slot;
    job->task = task;
    job->spec = *spec;
    snprintf(job->spec_id, sizeof job->spec_id, "%s", sid);
    return 0;
}

int gt_agent_spec_bytes(gt_agent *a, const json_t *task, uint8_t **bytes, size_t *len, gt_err *err) {
    *bytes = NULL, *len = 0;
    const char *sid = json_string_value(json_object_get(task, "spec"));
    if (!sid) return gt_err_set(err, GT_EINVAL, "task has no spec");
    if (gt_client_blob_get(a->client, sid, GT_AGENT_SPEC_MAX_BYTES, bytes, len, err)) return gt_err_wrap(err, "spec");
    return 0;
}

const json_t *ag_job_slot(const gt_job *job) {
    size_t i;
    json_t *sl;
    json_array_foreach(json_object_get(job->task, "slotList"), i, sl) {
        if ((uint64_t)json_integer_value(json_object_get(sl, "slot")) == job->slot) return sl;
    }
    return NULL;
}

/* Only skills with a work function take tasks: `validate` names a verifier's
 * trade on a card, and a task posted with that kind is nobody's work. */
const gt_skill *ag_my_skill(const gt_agent *a, const char *kind) {
    for (int i = 0; i < a->n_skills; i++)
        if (kind && a->skill_tab[i]->work && !strcmp(a->skill_tab[i]->name, kind)) return a->skill_tab[i];
    return NULL;
}

/* Calls fn for every task in the listing `query` (following pages), with the
 * task's details when detail is set, else the summary. */
int ag_each_task(gt_agent *a, const char *query, int detail, ag_task_fn fn, void *arg, int *acted, gt_err *err) {
    uint64_t cursor = 0;
    for (int page = 0; !gt_agent_stopping(a); page++) {
        if (page == a->list_pages) {
            a->list_capped = 1; /* tasks left unread: judge_pass looks up its own seals instead */
            break;
        }
        char q[512];
        snprintf(q, sizeof q, "%s&limit=%d&cursor=%llu", query, GT_AGENT_TASKS_PAGE, (unsigned long long)cursor);
        json_t *list;
        int rc = gt_client_tasks(a->client, q, &list, err);
        if (rc) return rc;
        size_t i;
        json_t *t;
        json_array_foreach(json_object_get(list, "tasks"), i, t) {
            if (gt_agent_stopping(a)) break;
            json_t *full = NULL;
            uint8_t id[32];
            if (detail) {
                if (gt_agent_json_hash(t, "id", id, err) || gt_client_task(a->client, id, &full, err)) {
                    json_decref(list);
                    return err ? err->code : GT_EIO;
                }
            }
            rc = fn(a, detail ? full : t, arg, acted, err);
            json_decref(full);
            if (rc) {
                json_decref(list);
                return rc;
            }
        }
        json_t *next = json_object_get(list, "next");
        int more = json_is_integer(next);
        if (more) cursor = (uint64_t)json_integer_value(next);
        json_decref(list);
        if (!more) break;
    }
    return 0;
}

/* A transport failure (GT_EIO: no answer, or a 5xx), a nonce lost to a race
 * (GT_ENONCE), the node's store failing (GT_EDB) or memory short (GT_ENOMEM)
 * says nothing about the action itself: the same action may land later. */
int ag_transient(int rc) { return rc == GT_EIO || rc == GT_ENONCE || rc == GT_EDB || rc == GT_ENOMEM; }

/* Reports a failed action on a slot: logged and counted, not fatal. */
void ag_action_failed(gt_agent *a, const char *what, const uint8_t task[32], uint64_t slot, const gt_err *e) {
    char h[16];
    ag_count(a, &a->stats.errors);
    gt_agent_logf(a, "%s on task %s slot %llu failed: %s", what, ag_short_id(task, h), (unsigned long long)slot,
                  e->msg[0] ? e->msg : gt_err_name(e->code));
}

/* ---- the loop ---- */

/* Opens the sealed votes this key committed on tasks the listings did not
 * reach: its own vote_commit actions, from the node's index of its
 * actions (newest first, GT_AGENT_OWN_PAGES pages of 200, back to two
 * windows' worth of block time), each task looked at for reveals only. Why:
 * a listing reads list_pages pages, so in a market with more open or
 * expired tasks than that a commitment past them was never revealed and
 * its stake was slashed. A node without the index says so: the listings
 * are then all there is, as before. */
static int own_seals(gt_agent *a, const ag_head *head, int *acted, gt_err *err) {
    char addr[43], path[256], cursor[48] = "";
    gt_addr_to_str(gt_agent_address(a), addr);
    ag_head ro = *head;
    ro.reveal_only = 1;
    uint8_t last[32] = {0}; /* a task's commits come together: looked at once */
    int rc = 0, done = 0;
    for (int page = 0; page < GT_AGENT_OWN_PAGES && !done && !rc && !gt_agent_stopping(a); page++) {
        snprintf(path, sizeof path, "/v1/actions?address=%s&order=desc&limit=200%s%s", addr,
                 cursor[0] ? "&cursor=" : "", cursor);
        json_t *r = NULL, *e;
        if ((rc = gt_client_get_json(a->client, path, &r, err))) break;
        size_t i;
        json_array_foreach(json_object_get(r, "actions"), i, e) {
            json_t *act = json_object_get(e, "action"), *task = NULL;
            uint64_t t = (uint64_t)json_integer_value(json_object_get(e, "time"));
            uint8_t id[32];
            if ((done = t + 2 * GT_LEDGER_WINDOW_MAX_S < head->time_s)) break; /* older than any open vote */
            if (strcmp(json_string_value(json_object_get(act, "type")) ?: "", "vote_commit") ||
                !ag_is_me(a, json_object_get(act, "from")) || gt_agent_json_hash(act, "task", id, NULL) ||
                !memcmp(id, last, 32))
                continue;
            memcpy(last, id, 32);
            if ((rc = gt_client_task(a->client, id, &task, err))) break;
            rc = ag_validator_task(a, task, &ro, acted, err);
            json_decref(task);
            if (rc) break;
        }
        const char *next = json_string_value(json_object_get(r, "next"));
        if (next) snprintf(cursor, sizeof cursor, "%s", next);
        done = done || !next;
        json_decref(r);
    }
    return rc;
}

/* The validator's pass, or with the role off the reveals of this key's
 * sealed votes while any may be open (seals_open): a judge restarted off
 * duty still opens what its run before committed (it used to look only for
 * the commitments of its own run, and lost the vote's stake,
 * tests/agent/test_agent_seal.c). A full pass counts them again. */
static int judge_pass(gt_agent *a, int roles, int *acted, gt_err *err) {
    /* Validators also see finished eval tasks: an attestation is worth
     * co-signing (the leaderboard counts agreeing checks) after it was paid.
     * Commitments are only in open and expired tasks. */
    static const char *const vq[] = {"status=open", "status=expired", "status=complete&kind=" GT_WORK_KIND_EVAL};
    int on = (roles & GT_ROLE_VALIDATOR) != 0;
    if (!on && atomic_load(&a->seals_open) <= 0) return 0;
    ag_head head = {0, 0, !on};
    int rc = gt_client_head(a->client, &head.height, &head.time_s, err);
    uint64_t sent = a->seals_sent;
    a->seals_seen = 0, a->reveal_by_seen = 0;
    a->list_capped = 0;
    for (int k = 0; k < (on ? 3 : 2) && !rc; k++) rc = ag_each_task(a, vq[k], 1, ag_validator_task, &head, acted, err);
    if (!rc && a->list_capped) rc = own_seals(a, &head, acted, err);
    if (!rc && !gt_agent_stopping(a)) {
        atomic_store(&a->seals_open, a->seals_seen);
        a->reveal_by_s = a->reveal_by_seen;
        a->reveal_unknown = a->seals_sent != sent; /* sent during the pass: after its reveal check */
        a->seals_known = 1;
    }
    return rc;
}

int gt_agent_step(gt_agent *a, int *acted_out, gt_err *err) {
    int acted = 0, rc = 0;
    int roles = atomic_load(&a->roles);
    char q[160];
    /* A new agent first reveals what a run before it may have left sealed,
     * and learns the deadlines, so its first claim knows what to wait for. */
    if (!a->seals_known) rc = judge_pass(a, 0, &acted, err); /* roles 0: reveals only */
    /* Slots already held are seen to even when the worker role is off, so
     * going off line never strands a claimed slot (and its stake). */
    if (!rc) rc = ag_worker_step(a, &acted, err);
    if (!rc && (roles & GT_ROLE_POSTER)) {
        ag_head head = {0, 0, 0};
        rc = gt_client_head(a->client, &head.height, &head.time_s, err);
        for (int k = 0; k < 2 && !rc; k++) {
            snprintf(q, sizeof q, "poster=%s&status=%s", a->addr_s, k ? "expired" : "open");
            rc = ag_each_task(a, q, 1, ag_poster_task, &head, &acted, err);
        }
        if (!rc && a->datasets_dir[0]) {
            snprintf(q, sizeof q, "poster=%s&status=complete&kind=%s", a->addr_s, "generate");
            rc = ag_each_task(a, q, 0, ag_poster_done_task, NULL, &acted, err);
        }
    }
    for (int k = 0; k < 2 && !rc && (roles & GT_ROLE_EVALUATOR); k++)
        rc = ag_each_task(a, k ? "status=expired" : "status=open", 0, ag_evaluator_task, NULL, &acted, err);
    if (!rc) rc = judge_pass(a, roles, &acted, err);
    if (acted_out) *acted_out = acted;
    return rc;
}

/* Sleeps ms in small pieces so a stop (gt_agent_stop or *stop_flag) is noticed quickly. */
static void nap(gt_agent *a, uint64_t ms, const volatile int *stop_flag) {
    for (uint64_t t = 0; t < ms && !gt_agent_stopping(a) && !(stop_flag && *stop_flag); t += 20)
        sleep_ms(ms - t < 20 ? ms - t : 20);
}

/* After the failures-th failure in a row (rc, e) of a pass or of the
 * registration: says so once, then waits poll_ms doubled per failure up to
 * GT_AGENT_RETRY_MAX_MS. 1 to try again, 0 to give up. A transient failure
 * never gives up: the node restarting or unreachable for a while is what a
 * deployment meets, and an agent that left held claimed slots and sealed
 * votes to be slashed (it used to leave after 20 failed passes, 10 s at the
 * default poll). Any other failure gives up after 20 in a row. */
static int retry_after(gt_agent *a, int rc, const gt_err *e, int failures, const volatile int *stop_flag) {
    assert(failures >= 1);
    if (failures == 1) gt_agent_logf(a, "cannot reach the node: %s (retrying)", e->msg);
    if (!ag_transient(rc) && failures > 20) return 0;
    uint64_t ms = a->poll_ms;
    for (int i = 1; i < failures && ms < GT_AGENT_RETRY_MAX_MS; i++) ms *= 2;
    nap(a, ms < GT_AGENT_RETRY_MAX_MS ? ms : GT_AGENT_RETRY_MAX_MS, stop_flag);
    return 1;
}

/* Registers the card, waiting out a node that cannot be reached yet (an
 * agent restarted before its node). 0 or the error that ended it. */
static int register_waiting(gt_agent *a, const volatile int *stop_flag, gt_err *err) {
    gt_err e = {0};
    int rc, failures = 0;
    while ((rc = gt_agent_register(a, &e)) && ag_transient(rc) && !gt_agent_stopping(a) &&
           !(stop_flag && *stop_flag) && retry_after(a, rc, &e, ++failures, stop_flag))
        e = (gt_err){0};
    if (rc && err) *err = e;
    return rc;
}

int gt_agent_run(gt_agent *a, const volatile int *stop_flag, gt_err *err) {
    int rc = register_waiting(a, stop_flag, err);
    if (rc) return rc;
    int failures = 0;
    while (!gt_agent_stopping(a) && !(stop_flag && *stop_flag)) {
        int acted = 0;
        gt_err e = {0};
        rc = gt_agent_step(a, &acted, &e);
        if (rc) {
            if (retry_after(a, rc, &e, ++failures, stop_flag)) continue;
            if (err) *err = e;
            return rc;
        }
        if (failures) gt_agent_logf(a, "reached the node again after %d failed passes", failures);
        failures = 0;
        gt_agent_stats st;
        gt_agent_stats_get(a, &st);
        if (a->max_tasks && st.submitted >= a->max_tasks && !acted) break;
        if (!acted) nap(a, a->poll_ms, stop_flag);
    }
    return 0;
}
