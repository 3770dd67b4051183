/* cli_task.c: the market for people: `gotong task post|list|show|claim|
 * submit|verify|settle|dispute|vote` and `gotong agents`, each talking to a
 * node over HTTP (--node, default http://127.0.0.1:8645) through the same
 * client the agents use (src/agent/client.h), signing with a key from the
 * --home keystore. A person can stand in for any agent: post a task and
 * verify it by hand, or work a slot and submit a file. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agent/agent.h"
#include "agent/skill_complete.h"
#include "base/alloc.h"
#include "base/amount.h"
#include "base/json.h"
#include "base/file.h"
#include "base/hex.h"
#include "base/limits.h"
#include "cli/cli.h"
#include "cli/cli_task.h"
#include "crypto/addr.h"
#include "crypto/keystore.h"
#include "store/blob.h"
#include "market/market.h"
#include "work/eval/bench.h"
#include "work/eval/check.h"
#include "work/train_task.h"

#define TASK_MAX_PROMPTS 64

/* Every option any task subcommand takes; each subcommand checks what it needs. */
typedef struct topts {
    const char *home, *node, *from, *password_file;
    const char *kind, *spec_file, *model, *result_file, *result_text, *reason, *verifier, *parent;
    const char *status, *poster, *worker, *skill, *bench;
    const char *prompts[TASK_MAX_PROMPTS];
    int n_prompts, json, accept, reject, commit, reveal;
    uint64_t bounty, stake, fee, slots, quorum, claim_s, submit_s, verify_s, slot, score, limit;
    uint64_t n_predict, check;
    int have_bounty, have_stake, have_slot, have_limit;
    gt_task_train_opts train; /* post --kind train's spec from options */
    const char *id; /* the positional task id */
} topts;

static const char *usage_text =
    "usage: gotong task COMMAND [options]      (talks to a node: --node URL, default " GT_CLIENT_DEFAULT_URL ")\n\n"
    "  post    --bounty AMT --stake AMT (--spec FILE | --prompt TEXT... --model M.gguf [--n-predict N])\n"
    "          [--kind K (complete)] [--slots N] [--verifier ADDR --fee AMT | --quorum K]\n"
    "          [--claim-seconds S] [--submit-seconds S] [--verify-seconds S] [--parent 0xTASK]\n"
    "  post    --kind eval --bench NAME --model M.gguf [--limit N (all)] [--check C (min(items,16))]\n"
    "          --bounty AMT --stake AMT [...]       a score of M.gguf on a built-in benchmark (gotong eval\n"
    "                                                  benches), attested and re-executed by judges\n"
    GT_TASK_TRAIN_USAGE
    "  list    [--status open|expired|cancelled|complete] [--kind K] [--poster ADDR] [--worker ADDR] [--limit N]\n"
    "  show    0xTASK\n"
    "  claim   0xTASK                                  takes the lowest open slot, locking the stake\n"
    "  submit  0xTASK --slot N (--result FILE | --result-text TEXT)\n"
    "  verify  0xTASK --slot N (--accept | --reject --reason TEXT) [--score 0..100]\n"
    "  settle  0xTASK --slot N\n"
    "  dispute 0xTASK --slot N                         appeal a rejection (locks a bond of the stake)\n"
    "  vote    0xTASK --slot N (--accept | --reject) [--commit | --reveal]\n"
    "                                                  as a staked validator, on a dispute: in the clear, or\n"
    "                                                  sealed (--commit in the vote window, then the same\n"
    "                                                  vote with --reveal once it closes; the salt comes\n"
    "                                                  from your key, nothing to keep in between); sealed\n"
    "                                                  also on a quorum task's submitted result (its panel)\n\n"
    "common options: --home DIR (keystore), --from ADDR (when it holds several keys),\n"
    "  --password-file FILE, --node URL, --json\n"
    "amounts are tokens (\"1.5\"); a spec/result/reason is uploaded as a blob and cited by its sha256.\n";

/* Reads argv[1..] (argv[0] is the subcommand) into o with the CLI's one
 * option parser: at most one positional argument (the task id). Returns -1
 * to go on, else the exit code (0 after --help, 2 after a usage error). */
static int parse(int argc, char **argv, const char *cmd, topts *o) {
    memset(o, 0, sizeof *o);
    o->limit = 20;
    o->n_predict = 16;
    const uint64_t W = GT_MARKET_MAX_WINDOW_S;
    gt_task_train_opts *tr = &o->train;
    const gt_cli_opt opts[] = {
        {"--json", NULL, GT_CLI_OPT_FLAG, &o->json, 0, 0, NULL},
        {"--accept", NULL, GT_CLI_OPT_FLAG, &o->accept, 0, 0, NULL},
        {"--reject", NULL, GT_CLI_OPT_FLAG, &o->reject, 0, 0, NULL},
        {"--commit", NULL, GT_CLI_OPT_FLAG, &o->commit, 0, 0, NULL},
        {"--reveal", NULL, GT_CLI_OPT_FLAG, &o->reveal, 0, 0, NULL},
        {"--home", NULL, GT_CLI_OPT_STR, &o->home, 0, 0, NULL},
        {"--node", NULL, GT_CLI_OPT_STR, &o->node, 0, 0, NULL},
        {"--from", NULL, GT_CLI_OPT_STR, &o->from, 0, 0, NULL},
        {"--password-file", NULL, GT_CLI_OPT_STR, &o->password_file, 0, 0, NULL},
        {"--kind", NULL, GT_CLI_OPT_STR, &o->kind, 0, 0, NULL},
        {"--spec", NULL, GT_CLI_OPT_STR, &o->spec_file, 0, 0, NULL},
        {"--model", NULL, GT_CLI_OPT_STR, &o->model, 0, 0, NULL},
        {"--prompt", NULL, GT_CLI_OPT_LIST, o->prompts, 0, TASK_MAX_PROMPTS, &o->n_prompts},
        {"--result", NULL, GT_CLI_OPT_STR, &o->result_file, 0, 0, NULL},
        {"--result-text", NULL, GT_CLI_OPT_STR, &o->result_text, 0, 0, NULL},
        {"--reason", NULL, GT_CLI_OPT_STR, &o->reason, 0, 0, NULL},
        {"--verifier", NULL, GT_CLI_OPT_STR, &o->verifier, 0, 0, NULL},
        {"--parent", NULL, GT_CLI_OPT_STR, &o->parent, 0, 0, NULL},
        {"--status", NULL, GT_CLI_OPT_STR, &o->status, 0, 0, NULL},
        {"--poster", NULL, GT_CLI_OPT_STR, &o->poster, 0, 0, NULL},
        {"--worker", NULL, GT_CLI_OPT_STR, &o->worker, 0, 0, NULL},
        {"--bounty", NULL, GT_CLI_OPT_AMOUNT, &o->bounty, 0, 0, &o->have_bounty},
        {"--stake", NULL, GT_CLI_OPT_AMOUNT, &o->stake, 0, 0, &o->have_stake},
        {"--fee", NULL, GT_CLI_OPT_AMOUNT, &o->fee, 0, 0, NULL},
        {"--slots", NULL, GT_CLI_OPT_U64, &o->slots, 0, GT_MARKET_MAX_SLOTS, NULL},
        {"--quorum", NULL, GT_CLI_OPT_U64, &o->quorum, 0, GT_MARKET_MAX_QUORUM, NULL},
        {"--claim-seconds", NULL, GT_CLI_OPT_U64, &o->claim_s, 0, W, NULL},
        {"--submit-seconds", NULL, GT_CLI_OPT_U64, &o->submit_s, 0, W, NULL},
        {"--verify-seconds", NULL, GT_CLI_OPT_U64, &o->verify_s, 0, W, NULL},
        {"--slot", NULL, GT_CLI_OPT_U64, &o->slot, 0, GT_MARKET_MAX_SLOTS - 1, &o->have_slot},
        {"--score", NULL, GT_CLI_OPT_U64, &o->score, 0, GT_MARKET_SCORE_MAX, NULL},
        {"--limit", NULL, GT_CLI_OPT_U64, &o->limit, 0, GT_MARKET_PAGE_MAX, &o->have_limit},
        {"--bench", NULL, GT_CLI_OPT_STR, &o->bench, 1, 0, NULL},
        {"--check", NULL, GT_CLI_OPT_U64, &o->check, 1, GT_WORK_EVAL_MAX_CHECK, NULL},
        {"--n-predict", NULL, GT_CLI_OPT_U64, &o->n_predict, 0, GT_AGENT_MAX_PREDICT, NULL},
        {"--base", NULL, GT_CLI_OPT_STR, &tr->base, 1, 0, NULL},
        {"--vocab", NULL, GT_CLI_OPT_STR, &tr->vocab, 1, 0, NULL},
        {"--dataset", NULL, GT_CLI_OPT_STR, &tr->dataset, 1, 0, NULL},
        {"--root", NULL, GT_CLI_OPT_STR, &tr->root, 1, 0, NULL},
        {"--steps", NULL, GT_CLI_OPT_U64, &tr->steps, 1, GT_TRAIN_TASK_MAX_STEPS, NULL},
        {"--every", NULL, GT_CLI_OPT_U64, &tr->every, 1, GT_TRAIN_TASK_MAX_STEPS, NULL},
        {"--checks", NULL, GT_CLI_OPT_U64, &tr->checks, 1, GT_TRAIN_TASK_MAX_CHECKS, NULL},
        {"--accum", NULL, GT_CLI_OPT_U64, &tr->accum, 1, GT_TRAIN_TASK_MAX_ACCUM, NULL},
        {"--warmup", NULL, GT_CLI_OPT_U64, &tr->warmup, 0, GT_TRAIN_TASK_MAX_STEPS, &tr->have_warmup},
        {"--total-steps", NULL, GT_CLI_OPT_U64, &tr->total_steps, 1, 1u << 30, &tr->have_total_steps},
        {"--lr", NULL, GT_CLI_OPT_FLOAT, &tr->lr, 0, 0, &tr->have_lr},
        {"--min-lr", NULL, GT_CLI_OPT_FLOAT, &tr->min_lr, 0, 0, &tr->have_min_lr},
        {"--wd", NULL, GT_CLI_OPT_FLOAT, &tr->wd, 0, 0, &tr->have_wd},
        {"--clip", NULL, GT_CLI_OPT_FLOAT, &tr->clip, 0, 0, &tr->have_clip},
        {NULL, NULL, 0, NULL, 0, 0, NULL}};
    int n_pos = 0;
    return gt_cli_parse_text(cmd, argc, argv, 1, opts, &o->id, 1, &n_pos, usage_text);
}

/* The signing key: --from, else the only key in HOME/keystore. Decrypted
 * (and its password asked) once per command: `task submit` and `verify`
 * sign an upload permit, then the action. The copy lives until exit. */
static int load_key(const topts *o, gt_key *key, gt_err *err) {
    static gt_key once;
    static int loaded;
    if (!loaded) {
        int rc = gt_cli_load_key(o->home, o->from, o->password_file, &once, NULL, err);
        if (rc) return rc;
        loaded = 1;
    }
    *key = once;
    return 0;
}

/* The fields of a slot action (each set when the kind has it). */
typedef struct slot_fields {
    uint8_t task[32], result[32], reason[32], salt[32], commitment[32];
    uint64_t slot, score, attempt;
    int round; /* of a sealed vote: GT_MARKET_ROUND_VERIFY or _DISPUTE */
    int accept;
} slot_fields;

static int fill_slot(void *arg, gt_action *a, gt_err *err) {
    const slot_fields *s = arg;
    if (gt_action_field(a->kind, "task") >= 0) gt_action_set_b32(a, "task", s->task);
    if (gt_action_field(a->kind, "slot") >= 0) gt_action_set_u64(a, "slot", s->slot);
    if (gt_action_field(a->kind, "result") >= 0) gt_action_set_b32(a, "result", s->result);
    if (gt_action_field(a->kind, "accept") >= 0) gt_action_set_u64(a, "accept", (uint64_t)s->accept);
    if (gt_action_field(a->kind, "score") >= 0) gt_action_set_u64(a, "score", s->score);
    if (gt_action_field(a->kind, "reason") >= 0) gt_action_set_b32(a, "reason", s->reason);
    if (gt_action_field(a->kind, "voteSalt") >= 0) gt_action_set_b32(a, "voteSalt", s->salt);
    if (gt_action_field(a->kind, "commitment") >= 0) gt_action_set_b32(a, "commitment", s->commitment);
    return 0;
}

/* Signs and sends one action; prints what happened. */
static int send(gt_client *c, const topts *o, const gt_action_kind *kind, gt_client_fill_fn fill, void *arg) {
    gt_err err = {0};
    gt_key key;
    uint8_t id[32];
    uint64_t height = 0;
    if (load_key(o, &key, &err)) return gt_cli_fail(&err);
    int rc = gt_client_act(c, &key, kind, fill, arg, id, &height, &err);
    gt_key_wipe(&key);
    if (rc) return gt_cli_fail(&err);
    char hex[67] = "0x";
    gt_hex_encode(id, 32, hex + 2);
    if (o->json) printf("{\"id\":\"%s\",\"ok\":true,\"height\":%llu}\n", hex, (unsigned long long)height);
    else printf("%s %s applied in block %llu\n", kind->name, hex, (unsigned long long)height);
    return 0;
}

/* Prints j (not consumed) as --json output; 1 when it cannot be printed. */
static int print_json(const json_t *j) { return gt_cli_json_out(json_incref((json_t *)j)); }

static const char *js(const json_t *o, const char *k) {
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : "-";
}

/* An eval task's spec that would not rank: refused (GT_EINVAL, err says
 * the check expected) before anything is posted. The ledger would take it,
 * but the leaderboard ranks no score judged under a check below
 * min(items, GT_WORK_EVAL_CHECK_FLOOR), so posting it pays for a score
 * nobody can rank. 0 for any other kind, whose spec is not read here. */
static int eval_floor_ok(const char *kind, const uint8_t *spec, size_t len, gt_err *err) {
    if (strcmp(kind, GT_WORK_KIND_EVAL)) return 0;
    gt_work_eval_spec s;
    int rc = gt_work_eval_spec_parse((const char *)spec, len, &s, err);
    return rc ? rc : gt_work_eval_spec_floor_ok(&s, err);
}

/* A train spec from options (cli_task_train.c): made and checked first,
 * then its inputs uploaded with a permit signed by the --from key. */
static int train_spec(gt_client *c, const topts *o, uint8_t **spec, size_t *len, gt_err *err) {
    gt_task_train_prep p;
    int rc = gt_task_train_prepare(&o->train, &p, err);
    gt_key key;
    if (!rc) rc = load_key(o, &key, err);
    if (!rc) {
        gt_client_set_signer(c, &key);
        gt_key_wipe(&key);
        rc = gt_task_train_upload(c, &p, err);
        gt_client_set_signer(c, NULL);
    }
    if (!rc) *spec = p.spec, *len = p.spec_len, p.spec = NULL;
    gt_task_train_free(&p);
    return rc;
}

/* An eval spec from options: --bench (a registered benchmark: the ledger
 * attests no other), the sha256 of --model's file, --limit items (0: all)
 * and --check (default the leaderboard's floor for those items). Returns -1
 * when *spec holds its canonical JSON, else the exit code. */
static int eval_spec(const topts *o, uint8_t **spec, size_t *len) {
    gt_err err = {0};
    const gt_bench_ref *r = gt_bench_registry_find(o->bench);
    if (!r) return gt_cli_usage_error("task post", "--bench %s is not a built-in benchmark (see gotong eval benches)",
                                      o->bench);
    if (!o->model) return gt_cli_usage_error("task post", "--bench needs --model M.gguf, the model to score");
    gt_work_eval_spec s = {.limit = o->have_limit ? o->limit : 0};
    if (s.limit > r->items)
        return gt_cli_usage_error("task post", "--limit %llu: %s has %llu items", (unsigned long long)s.limit,
                                  r->name, (unsigned long long)r->items);
    s.check = o->check ? o->check : gt_work_eval_check_floor(s.limit ? s.limit : r->items);
    snprintf(s.bench, sizeof s.bench, "%s", r->name);
    char id[72];
    int rc = gt_hex_decode(r->hash_hex, s.bench_hash, 32, "bench hash", &err);
    if (!rc) rc = gt_agent_file_id(o->model, id, &err);
    if (!rc) rc = gt_blob_id_parse(id, s.model, &err);
    char *j = rc ? NULL : gt_work_eval_spec_json(&s);
    if (!rc && !j) rc = gt_err_set(&err, GT_ENOMEM, "out of memory");
    if (!rc && !(*spec = (uint8_t *)gt_strdup(j))) rc = gt_err_set(&err, GT_ENOMEM, "out of memory");
    free(j);
    if (rc) return gt_cli_fail(&err);
    *len = strlen((char *)*spec);
    return -1;
}

/* The spec being posted: --spec's file, a complete spec of --prompt and
 * --model, an eval spec of --bench and --model, or a train spec of its
 * options. Returns -1 when *spec holds it, else the exit code (a usage
 * error, or a failure told). */
static int post_spec(gt_client *c, const topts *o, uint8_t **spec, size_t *len) {
    gt_err err = {0};
    int train = gt_task_train_given(&o->train), rc;
    if (!!o->spec_file + !!o->n_prompts + train + !!o->bench != 1)
        return gt_cli_usage_error("task post", "give the spec as --spec FILE, as --prompt TEXT (with --model), for "
                                  "--kind eval as --bench NAME (with --model), or for --kind train as --base, --vocab, "
                                  "--dataset, --root and --steps");
    if ((o->check || o->have_limit) && !o->bench)
        return gt_cli_usage_error("task post", "--check and --limit go with --bench (a --spec file sets its own)");
    if (o->bench) {
        if (o->kind && strcmp(o->kind, GT_WORK_KIND_EVAL))
            return gt_cli_usage_error("task post", "--bench makes an eval spec: --kind is eval, not %s", o->kind);
        return eval_spec(o, spec, len);
    }
    if (train) {
        if (o->kind && strcmp(o->kind, GT_WORK_KIND_TRAIN))
            return gt_cli_usage_error("task post", "--base, --vocab, --dataset ... make a train spec: --kind is "
                                      "train, not %s", o->kind);
        if ((rc = gt_task_train_check(&o->train)) >= 0) return rc;
        return train_spec(c, o, spec, len, &err) ? gt_cli_fail(&err) : -1;
    }
    if (o->spec_file)
        return gt_file_read(o->spec_file, GT_AGENT_SPEC_MAX_BYTES, spec, len, &err) ? gt_cli_fail(&err) : -1;
    if (!o->model) return gt_cli_usage_error("task post", "--prompt needs --model M.gguf (the spec names its id)");
    char id[72];
    if (gt_agent_file_id(o->model, id, &err)) return gt_cli_fail(&err);
    char *s = gt_complete_spec(id, o->prompts, o->n_prompts, (int)o->n_predict);
    *spec = s ? (uint8_t *)gt_strdup(s) : NULL;
    free(s);
    if (!*spec) return gt_cli_fail(NULL);
    *len = strlen((char *)*spec);
    return -1;
}

/* The terms of `task post` from o: kind, slots, amounts, windows, the
 * named verifier and the parent (the last two checked here, before any
 * upload). */
static int post_terms(const topts *o, gt_task_terms *t, gt_err *err) {
    const char *kind = o->kind                              ? o->kind
                       : gt_task_train_given(&o->train) ? GT_WORK_KIND_TRAIN
                       : o->bench                       ? GT_WORK_KIND_EVAL
                                                        : "complete";
    *t = (gt_task_terms){.kind = kind, .slots = o->slots ? o->slots : 1, .bounty_units = o->bounty,
                         .stake_units = o->stake, .fee_units = o->fee, .quorum = o->quorum, .claim_s = o->claim_s,
                         .submit_s = o->submit_s, .verify_s = o->verify_s};
    if (o->verifier && gt_addr_parse(o->verifier, &t->verifier, err)) return gt_err_wrap(err, "--verifier");
    if (o->parent && gt_hex_decode(o->parent, t->parent, 32, "--parent", err)) return GT_EINVAL;
    return 0;
}

/* `task post` */
static int t_post(gt_client *c, const topts *o) {
    gt_err err = {0};
    if (!o->have_bounty || !o->have_stake) return gt_cli_usage_error("task post", "--bounty and --stake are required");
    gt_task_terms t;
    if (post_terms(o, &t, &err)) return gt_cli_fail(&err);
    uint8_t *spec = NULL;
    size_t len = 0;
    int got = post_spec(c, o, &spec, &len);
    if (got >= 0) return got;
    int rc = eval_floor_ok(t.kind, spec, len, &err);
    gt_key key;
    if (!rc) rc = load_key(o, &key, &err);
    gt_agent *a = NULL;
    uint8_t id[32];
    if (!rc) {
        /* A one-off agent: the same posting code the agents use. */
        gt_agent_config ac = {.name = "cli"};
        rc = gt_agent_new(&ac, &key, gt_client_url(c), &a, &err);
        gt_key_wipe(&key);
    }
    if (!rc) rc = gt_agent_post(a, &t, spec, len, id, &err);
    gt_agent_free(a);
    gt_free(spec);
    if (rc) return gt_cli_fail(&err);
    char hex[67] = "0x";
    gt_hex_encode(id, 32, hex + 2);
    if (o->json) printf("{\"task\":\"%s\",\"ok\":true}\n", hex);
    else printf("posted task %s\n", hex);
    return 0;
}

/* `task list` */
static int t_list(gt_client *c, const topts *o) {
    char q[512] = "";
    size_t n = 0;
    const char *keys[] = {"status", "kind", "poster", "worker", "parent"};
    const char *vals[] = {o->status, o->kind, o->poster, o->worker, o->parent};
    for (int i = 0; i < 5; i++)
        if (vals[i]) n += (size_t)snprintf(q + n, sizeof q - n, "%s=%s&", keys[i], vals[i]);
    snprintf(q + n, sizeof q - n, "limit=%llu", (unsigned long long)o->limit);
    json_t *j = NULL;
    gt_err err = {0};
    if (gt_client_tasks(c, q, &j, &err)) return gt_cli_fail(&err);
    if (o->json) {
        print_json(j);
    } else {
        json_t *tasks = json_object_get(j, "tasks"), *t;
        size_t i;
        printf("%-66s %-10s %-9s %12s %12s %5s %s\n", "task", "kind", "status", "bounty", "stake", "slots", "poster");
        json_array_foreach(tasks, i, t)
            printf("%-66s %-10s %-9s %12s %12s %5lld %s\n", js(t, "id"), js(t, "kind"), js(t, "status"),
                   gt_json_tokens(t, "bounty", (char[GT_AMOUNT_TOKENS_MAX]){0}),
                   gt_json_tokens(t, "stake", (char[GT_AMOUNT_TOKENS_MAX]){0}),
                   (long long)json_integer_value(json_object_get(t, "slots")), js(t, "poster"));
        if (!json_array_size(tasks)) printf("(no tasks)\n");
    }
    json_decref(j);
    return 0;
}

/* Reads the task named on the command line. */
static int get_task(gt_client *c, const topts *o, const char *cmd, uint8_t id[32], json_t **task, gt_err *err) {
    if (!o->id) return gt_err_set(err, GT_EINVAL, "which task? give its id (0x + 64 hex) after `%s`", cmd);
    if (gt_hex_decode(o->id, id, 32, "task id", err)) return GT_EINVAL;
    return task ? gt_client_task(c, id, task, err) : 0;
}

/* `task show` */
static int t_show(gt_client *c, const topts *o) {
    gt_err err = {0};
    uint8_t id[32];
    json_t *t = NULL;
    if (get_task(c, o, "task show", id, NULL, &err)) return gt_cli_usage_error("task show", "%s", err.msg);
    if (gt_client_task(c, id, &t, &err)) return gt_cli_fail(&err);
    if (o->json) {
        print_json(t);
        json_decref(t);
        return 0;
    }
    printf("task     %s\nkind     %s    status %s    policy %s\nposter   %s\nspec     %s\n", js(t, "id"), js(t, "kind"),
           js(t, "status"), js(t, "policy"), js(t, "poster"), js(t, "spec"));
    char tb[GT_AMOUNT_TOKENS_MAX], ts[GT_AMOUNT_TOKENS_MAX], tf[GT_AMOUNT_TOKENS_MAX], te[GT_AMOUNT_TOKENS_MAX];
    printf("terms    bounty %s, stake %s, fee %s per slot; escrow %s; claims close at block time %lld\n",
           gt_json_tokens(t, "bounty", tb), gt_json_tokens(t, "stake", ts), gt_json_tokens(t, "fee", tf),
           gt_json_tokens(t, "escrow", te), (long long)json_integer_value(json_object_get(t, "expiryTime")));
    if (json_is_string(json_object_get(t, "verifier"))) printf("verifier %s\n", js(t, "verifier"));
    if (json_is_string(json_object_get(t, "parent"))) printf("parent   %s (a subcontract)\n", js(t, "parent"));
    size_t i;
    json_t *sl;
    json_array_foreach(json_object_get(t, "slotList"), i, sl) {
        printf("slot %lld  %-9s attempt %lld  worker %s\n", (long long)json_integer_value(json_object_get(sl, "slot")),
               js(sl, "state"), (long long)json_integer_value(json_object_get(sl, "attempt")), js(sl, "worker"));
        if (json_is_string(json_object_get(sl, "result"))) printf("         result  %s\n", js(sl, "result"));
        if (json_object_get(sl, "accept"))
            printf("         verdict %s, score %lld, by %s, reason %s\n",
                   json_is_true(json_object_get(sl, "accept")) ? "accept" : "reject",
                   (long long)json_integer_value(json_object_get(sl, "score")), js(sl, "verdictBy"), js(sl, "reason"));
        json_t *d = json_object_get(sl, "dispute");
        if (d)
            printf("         dispute %s: for the worker %s, against %s (stake-weighted), %zu votes\n", js(d, "outcome"),
                   gt_json_tokens(d, "acceptWeight", tb), gt_json_tokens(d, "rejectWeight", ts),
                   json_array_size(json_object_get(d, "votes")));
    }
    json_t *subs = json_object_get(t, "subtasks");
    json_array_foreach(subs, i, sl) printf("sub-task %s\n", json_string_value(sl));
    json_decref(t);
    return 0;
}

/* Uploads a text or file as a blob, with a permit signed by the --from key;
 * hash gets its sha256. */
static int put_blob(gt_client *c, const topts *o, const char *file, const char *text, uint8_t hash[32], gt_err *err) {
    uint8_t *data = NULL;
    size_t len = 0;
    gt_key key;
    if (load_key(o, &key, err)) return err->code;
    gt_client_set_signer(c, &key);
    gt_key_wipe(&key);
    if (file) {
        if (gt_file_read(file, GT_LIMIT_BLOB_BYTES, &data, &len, err)) return err->code;
    }
    char id[72];
    int rc = gt_client_blob_put(c, file ? data : (const uint8_t *)text, file ? len : strlen(text), id, err);
    gt_client_set_signer(c, NULL);
    gt_free(data);
    return rc ? rc : gt_blob_id_parse(id, hash, err);
}

/* The current result of a slot (verify, dispute and vote name it). */
static int slot_result(gt_client *c, const uint8_t id[32], uint64_t slot, uint8_t out[32], uint64_t *attempt,
                       int *round, gt_err *err) {
    json_t *t;
    int rc = gt_client_task(c, id, &t, err);
    if (rc) return rc;
    json_t *sl = json_array_get(json_object_get(t, "slotList"), (size_t)slot);
    if (!sl) rc = gt_err_set(err, GT_ENOTFOUND, "the task has no slot %llu", (unsigned long long)slot);
    else if (gt_agent_json_hash(sl, "result", out, err))
        rc = gt_err_set(err, GT_ESTATE, "slot %llu has no result (it is %s)", (unsigned long long)slot, js(sl, "state"));
    else *attempt = (uint64_t)json_integer_value(json_object_get(sl, "attempt"));
    /* A submitted slot's sealed vote is a quorum panel's (round 0), else a dispute's. */
    if (!rc && round) *round = strcmp(js(sl, "state"), "submitted") ? GT_MARKET_ROUND_DISPUTE : GT_MARKET_ROUND_VERIFY;
    json_decref(t);
    return rc;
}

/* After a rejection, tells the poster until when the worker may dispute it
 * (the slot's deadline, in block seconds, and as a local time) and that the
 * slot can be settled after that. Only informative: a failure to read the
 * task back changes nothing (the rejection is already on the ledger). */
static void print_dispute_window(gt_client *c, const uint8_t task[32], uint64_t slot) {
    json_t *t = NULL;
    gt_err err = {0};
    if (gt_client_task(c, task, &t, &err)) return;
    json_t *sl = json_array_get(json_object_get(t, "slotList"), (size_t)slot);
    json_int_t until_s = json_integer_value(json_object_get(sl, "deadline"));
    if (sl && !strcmp(js(sl, "state"), "rejected") && until_s > 0) {
        time_t at = (time_t)until_s;
        struct tm tm;
        char when[64] = "?";
        if (localtime_r(&at, &tm)) strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S %Z", &tm);
        printf("the worker may dispute until block time %lld (%s); settle the slot after that\n", (long long)until_s,
               when);
    }
    json_decref(t);
}

/* `task vote`: in the clear, or sealed (--commit, later --reveal) with a
 * salt derived from the wallet's key and the judgement. */
static int t_vote(gt_client *c, const topts *o, slot_fields *f) {
    if (o->commit && o->reveal) return gt_cli_usage_error("task vote", "say --commit or --reveal, not both");
    if (!o->commit && !o->reveal) return send(c, o, &gt_kind_dispute_vote, fill_slot, f);
    gt_err err = {0};
    gt_key key;
    if (load_key(o, &key, &err)) return gt_cli_fail(&err);
    gt_addr me;
    if (gt_key_address(&key, &me)) {
        gt_key_wipe(&key);
        return gt_cli_fail(&(gt_err){GT_EINVAL, "the wallet's key has no address"});
    }
    gt_market_vote_salt(&key, f->task, f->slot, f->attempt, f->round, f->salt);
    gt_key_wipe(&key);
    gt_market_vote_commitment(f->accept, f->salt, &me, f->task, f->slot, f->attempt, f->round, f->commitment);
    return send(c, o, o->commit ? &gt_kind_vote_commit : &gt_kind_vote_reveal, fill_slot, f);
}

static int t_slot_action(gt_client *c, const topts *o, const char *sub) {
    char cmd[32];
    snprintf(cmd, sizeof cmd, "task %s", sub);
    gt_err err = {0};
    slot_fields f = {0};
    if (get_task(c, o, cmd, f.task, NULL, &err)) return gt_cli_usage_error(cmd, "%s", err.msg);
    f.slot = o->slot;
    f.score = o->score;
    if (!strcmp(sub, "claim")) return send(c, o, &gt_kind_task_claim, fill_slot, &f);
    if (!o->have_slot) return gt_cli_usage_error(cmd, "--slot N is required");
    if (!strcmp(sub, "settle")) return send(c, o, &gt_kind_task_settle, fill_slot, &f);
    if (!strcmp(sub, "submit")) {
        if (!o->result_file == !o->result_text)
            return gt_cli_usage_error(cmd, "give the result as --result FILE or --result-text TEXT");
        if (put_blob(c, o, o->result_file, o->result_text, f.result, &err)) return gt_cli_fail(&err);
        return send(c, o, &gt_kind_task_submit, fill_slot, &f);
    }
    if (slot_result(c, f.task, f.slot, f.result, &f.attempt, &f.round, &err)) return gt_cli_fail(&err);
    if (!strcmp(sub, "dispute")) return send(c, o, &gt_kind_task_dispute, fill_slot, &f);
    if (o->accept == o->reject) return gt_cli_usage_error(cmd, "say --accept or --reject");
    f.accept = o->accept;
    if (!strcmp(sub, "vote")) return t_vote(c, o, &f);
    /* verify */
    if (o->reject && !o->reason) return gt_cli_usage_error(cmd, "a rejection needs --reason TEXT (it is published as a blob)");
    if (!o->accept || o->score) f.score = o->score;
    else f.score = GT_MARKET_SCORE_MAX;
    if (o->reason && put_blob(c, o, NULL, o->reason, f.reason, &err)) return gt_cli_fail(&err);
    int rc = send(c, o, &gt_kind_task_verify, fill_slot, &f);
    if (!rc && o->reject && !o->json) print_dispute_window(c, f.task, f.slot);
    return rc;
}

static int cmd_task(int argc, char **argv) {
    static const char *const subs[] = {"post",   "list",   "show",    "claim", "submit",
                                       "verify", "settle", "dispute", "vote",  NULL};
    int which;
    int rc = gt_cli_subcommand_text("task", argc, argv, subs, usage_text, &which);
    if (rc >= 0) return rc;
    const char *sub = subs[which];
    topts o;
    if ((rc = parse(argc - 1, argv + 1, "task", &o)) >= 0) return rc;
    if (gt_market_register(NULL)) return 1; /* the action kinds we sign */
    gt_client *c = NULL;
    gt_err err = {0};
    if (gt_client_new(gt_cli_node(o.node), &c, &err)) return gt_cli_fail(&err);
    if (!strcmp(sub, "post")) rc = t_post(c, &o);
    else if (!strcmp(sub, "list")) rc = t_list(c, &o);
    else if (!strcmp(sub, "show")) rc = t_show(c, &o);
    else rc = t_slot_action(c, &o, sub);
    gt_client_free(c);
    return rc;
}

GT_CLI_COMMAND(task_cmd, "task", "post, list, show, claim, submit, verify, settle, dispute tasks on a node", cmd_task)

/* `gotong agents`: the registered agents, with their reputation totals. */
static const char *agents_usage =
    "usage: gotong agents [--skill S] [--node URL] [--json]\n\n"
    "Lists the agents registered on the node: card (name, skills, price, model)\n"
    "and reputation (accepted, rejected, disputes, slashed).\n";

static int cmd_agents(int argc, char **argv) {
    topts o = {0};
    const gt_cli_opt opts[] = {
        {"--skill", NULL, GT_CLI_OPT_STR, &o.skill, 0, 0, NULL},
        {"--node", NULL, GT_CLI_OPT_STR, &o.node, 0, 0, NULL},
        {"--json", NULL, GT_CLI_OPT_FLAG, &o.json, 0, 0, NULL},
        {NULL, NULL, 0, NULL, 0, 0, NULL}};
    int rc = gt_cli_parse_text("agents", argc, argv, 1, opts, NULL, 0, NULL, agents_usage);
    if (rc >= 0) return rc;
    gt_client *c = NULL;
    gt_err err = {0};
    char q[160];
    snprintf(q, sizeof q, "%s%s%slimit=%d", o.skill ? "skill=" : "", o.skill ? o.skill : "", o.skill ? "&" : "",
             GT_MARKET_PAGE_MAX);
    json_t *j = NULL;
    if (gt_client_new(gt_cli_node(o.node), &c, &err) || gt_client_agents(c, q, &j, &err)) {
        gt_client_free(c);
        return gt_cli_fail(&err);
    }
    json_t *list = json_object_get(j, "agents"), *a;
    size_t i;
    if (!o.json)
        printf("%-12s %-42s %-16s %12s %8s %8s %5s %5s %12s\n", "name", "address", "skills", "price", "accepted",
               "rejected", "d.won", "d.lost", "slashed");
    json_array_foreach(list, i, a) {
        gt_addr addr;
        json_t *rep = NULL;
        if (gt_addr_parse(js(a, "address"), &addr, NULL) || gt_client_reputation(c, &addr, &rep, &err)) continue;
        json_t *tot = json_object_get(rep, "total");
        if (o.json) {
            json_object_set(a, "reputation", tot);
        } else {
            char skills[128] = "";
            size_t k;
            json_t *s;
            json_array_foreach(json_object_get(a, "skills"), k, s) {
                size_t n = strlen(skills);
                snprintf(skills + n, sizeof skills - n, "%s%s", k ? "," : "", json_string_value(s));
            }
            printf("%-12s %-42s %-16s %12s %8lld %8lld %5lld %5lld %12s\n", js(a, "name"), js(a, "address"), skills,
                   gt_json_tokens(a, "price", (char[GT_AMOUNT_TOKENS_MAX]){0}),
                   (long long)json_integer_value(json_object_get(tot, "accepted")),
                   (long long)json_integer_value(json_object_get(tot, "rejected")),
                   (long long)json_integer_value(json_object_get(tot, "disputesWon")),
                   (long long)json_integer_value(json_object_get(tot, "disputesLost")),
                   gt_json_tokens(tot, "slashed", (char[GT_AMOUNT_TOKENS_MAX]){0}));
        }
        json_decref(rep);
    }
    if (o.json) print_json(j);
    else if (!json_array_size(list)) printf("(no agents)\n");
    json_decref(j);
    gt_client_free(c);
    return 0;
}

GT_CLI_COMMAND(agents_cmd, "agents", "list the agents registered on a node, with reputation", cmd_agents)
