/* cli_fund.c: `gotong fund`: funding rounds, proof of human and airdrops on
 * a node (--node URL, default http://127.0.0.1:8645), signing with a key from
 * the --home keystore, reading through the node's /v1/fund routes
 * (src/api/h_fund.c). The rules are src/fund's (fund.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/client.h"
#include "base/amount.h"
#include "base/hex.h"
#include "base/json.h"
#include "cli/cli.h"
#include "crypto/addr.h"
#include "crypto/keccak.h"
#include "crypto/keystore.h"
#include "fund/airdrop.h"
#include "fund/fund.h"
#include "fund/qf.h"

/* Every option of every subcommand; each checks what it needs. */
typedef struct fopts {
    const char *home, *node, *from, *password_file, *name, *rule, *dataset, *eval, *model, *person, *pos;
    uint64_t pool, pairwise_m, window_s, start_in_s, project, amount, weight_ppm, expires_in_s, slot, epoch, limit;
    int json, have_project, have_amount, have_epoch, have_slot, have_pool;
} fopts;

static const char *usage_text =
    "usage: gotong fund COMMAND [options]      (talks to a node: --node URL, default " GT_CLIENT_DEFAULT_URL ")\n\n"
    "funding rounds (quadratic funding of published datasets, evaluations and trained models):\n"
    "  round-create   --pool AMT --window S --name NAME [--start-in S] [--rule qf|pairwise --pairwise-m AMT]\n"
    "                 escrows the matching pool; prints the round's id\n"
    "  round-enter    0xROUND (--dataset 0xJOB | --eval 0xATTESTATION | --model 0xTRAIN_TASK)\n"
    "                 as the work's owner (a model: the poster of the train task that trained it)\n"
    "  contribute     0xROUND --project N --amount AMT                   inside the window\n"
    "  round-finalize 0xROUND                                            once the window is over\n"
    "  round-show     0xROUND                                            projects, contributions, matches\n"
    "  rounds         [--limit N]\n"
    "proof of human:\n"
    "  issuer-register --name NAME                  bonds 10 staked tokens (gotong wallet stake); again\n"
    "                                               after a slash: tops the bond up\n"
    "  issuer-leave                                 stop vouching now (a round whose window already ended\n"
    "                                               keeps your word); the bond stays slashable for the\n"
    "                                               ledger's unbonding period\n"
    "  issuer-withdraw                              after that period, and once every pairwise round whose\n"
    "                                               window ended before your leave is finalized: the bond back\n"
    "  attest         0xADDR --person TEXT [--weight-ppm N (1000000)] [--expires-in S (30 days)]\n"
    "  revoke         0xADDR                        not undone: you cannot attest 0xADDR again for the ledger's\n"
    "                                               unbonding period; a round past its window keeps its weight\n"
    "  human          0xADDR                        attestations and the weight a round would use now; an\n"
    "                                               issuer's slashes\n"
    "  same           0xADDR                        say you are the same human as 0xADDR: once it says so too,\n"
    "                                               each issuer that attested you as two persons is slashed\n"
    "points and airdrops (an epoch is one day of block time):\n"
    "  points-record  0xTASK --slot N               as the worker of a paid slot: its points go to the epoch\n"
    "                                               it was paid in, recorded before that epoch is closed (a\n"
    "                                               slot paid before ledger format 15: the current epoch)\n"
    "  epoch          [--epoch N (the current one)]\n"
    "  airdrop-fund   --amount AMT [--epoch N]      escrows (adds to) an epoch's pool before it ends: several\n"
    "                                               funders, 0.01 at least; what is not paid goes back pro rata\n"
    "  airdrop-close  --epoch N                     a day after it ends (the late paid slots' grace; the\n"
    "                                               epoch's closeFromS): the Merkle root of its points\n"
    "  claim          --epoch N                     fetches your proof from the node and claims\n\n"
    "common options: --home DIR (keystore), --from ADDR (when it holds several keys),\n"
    "  --password-file FILE, --node URL, --json\n"
    "amounts are tokens (\"1.5\"); times are seconds of block time.\n";

/* Reads argv (argv[0] is the subcommand) into o. -1 to go on, else the exit code. */
static int parse(int argc, char **argv, fopts *o) {
    memset(o, 0, sizeof *o);
    o->weight_ppm = GT_FUND_WEIGHT_ONE;
    o->expires_in_s = 30 * 86400;
    o->limit = 20;
    const gt_cli_opt opts[] = {
        {"--json", NULL, GT_CLI_OPT_FLAG, &o->json, 0, 0, NULL},
        {"--home", NULL, GT_CLI_OPT_STR, &o->home, 0, 0, NULL},
        {"--node", NULL, GT_CLI_OPT_STR, &o->node, 0, 0, NULL},
        {"--from", NULL, GT_CLI_OPT_STR, &o->from, 0, 0, NULL},
        {"--password-file", NULL, GT_CLI_OPT_STR, &o->password_file, 0, 0, NULL},
        {"--name", NULL, GT_CLI_OPT_STR, &o->name, 1, 0, NULL},
        {"--rule", NULL, GT_CLI_OPT_STR, &o->rule, 0, 0, NULL},
        {"--dataset", NULL, GT_CLI_OPT_STR, &o->dataset, 0, 0, NULL},
        {"--eval", NULL, GT_CLI_OPT_STR, &o->eval, 0, 0, NULL},
        {"--model", NULL, GT_CLI_OPT_STR, &o->model, 0, 0, NULL},
        {"--person", NULL, GT_CLI_OPT_STR, &o->person, 1, 0, NULL},
        {"--pool", NULL, GT_CLI_OPT_AMOUNT, &o->pool, 0, 0, &o->have_pool},
        {"--pairwise-m", NULL, GT_CLI_OPT_AMOUNT, &o->pairwise_m, 0, 0, NULL},
        {"--window", NULL, GT_CLI_OPT_U64, &o->window_s, 1, GT_FUND_MAX_WINDOW_S, NULL},
        {"--start-in", NULL, GT_CLI_OPT_U64, &o->start_in_s, 0, GT_FUND_MAX_LEAD_S, NULL},
        {"--project", NULL, GT_CLI_OPT_U64, &o->project, 0, GT_FUND_ROUND_MAX_PROJECTS - 1, &o->have_project},
        {"--amount", NULL, GT_CLI_OPT_AMOUNT, &o->amount, 0, 0, &o->have_amount},
        {"--weight-ppm", NULL, GT_CLI_OPT_U64, &o->weight_ppm, 1, GT_FUND_WEIGHT_ONE, NULL},
        {"--expires-in", NULL, GT_CLI_OPT_U64, &o->expires_in_s, 1, GT_FUND_ATTEST_MAX_S, NULL},
        {"--slot", NULL, GT_CLI_OPT_U64, &o->slot, 0, 1u << 20, &o->have_slot},
        {"--epoch", NULL, GT_CLI_OPT_U64, &o->epoch, 0, UINT32_MAX, &o->have_epoch},
        {"--limit", NULL, GT_CLI_OPT_U64, &o->limit, 1, 100, NULL},
        {NULL, NULL, 0, NULL, 0, 0, NULL}};
    int n_pos = 0;
    return gt_cli_parse_text("fund", argc, argv, 1, opts, &o->pos, 1, &n_pos, usage_text);
}

/* The fields of the action being sent (each set when the kind has it). */
typedef struct ffields {
    uint8_t round[32], ref[32], person[32], task[32];
    gt_addr subject;
    uint64_t pool, start_s, end_s, rule, m, kind, project, amount, weight, expires, slot, epoch, index;
    const char *name, *proof;
} ffields;

static int fill(void *arg, gt_action *a, gt_err *err) {
    const ffields *f = arg;
    const gt_action_kind *k = a->kind;
    static const char *const u64s[] = {"pool",   "startS",    "endS",     "rule", "pairwiseM", "projectKind", "project",
                                       "amount", "weightPpm", "expiresS", "slot", "epoch",     "index",       NULL};
    const uint64_t vals[] = {f->pool,   f->start_s, f->end_s,   f->rule, f->m,     f->kind, f->project,
                             f->amount, f->weight,  f->expires, f->slot, f->epoch, f->index};
    for (int i = 0; u64s[i]; i++)
        if (gt_action_field(k, u64s[i]) >= 0) gt_action_set_u64(a, u64s[i], vals[i]);
    if (gt_action_field(k, "round") >= 0) gt_action_set_b32(a, "round", f->round);
    if (gt_action_field(k, "ref") >= 0) gt_action_set_b32(a, "ref", f->ref);
    if (gt_action_field(k, "person") >= 0) gt_action_set_b32(a, "person", f->person);
    if (gt_action_field(k, "task") >= 0) gt_action_set_b32(a, "task", f->task);
    if (gt_action_field(k, "subject") >= 0) gt_action_set_addr(a, "subject", &f->subject);
    if (gt_action_field(k, "other") >= 0) gt_action_set_addr(a, "other", &f->subject);
    if (gt_action_field(k, "name") >= 0 && gt_action_set_str(a, "name", f->name, strlen(f->name), err))
        return GT_ELIMIT;
    if (gt_action_field(k, "proof") >= 0 && gt_action_set_str(a, "proof", f->proof, strlen(f->proof), err))
        return GT_ELIMIT;
    return 0;
}

/* Signs one action with key (wiped after) and sends it; prints its id and block. */
static int send_key(gt_client *c, const fopts *o, gt_key *key, const gt_action_kind *kind, ffields *f) {
    gt_err err = {0};
    uint8_t id[32];
    uint64_t height = 0;
    int rc = gt_client_act(c, key, kind, fill, f, id, &height, &err);
    gt_key_wipe(key);
    if (rc) return gt_cli_fail(&err);
    char hex[67] = "0x";
    gt_hex_encode(id, 32, hex + 2);
    if (o->json)
        printf("{\"id\":\"%s\",\"ok\":true,\"height\":%llu}\n", hex, (unsigned long long)height);
    else
        printf("%s %s applied in block %llu\n", kind->name, hex, (unsigned long long)height);
    return 0;
}

/* Loads the sender's key and sends one action (send_key). */
static int send(gt_client *c, const fopts *o, const gt_action_kind *kind, ffields *f) {
    gt_err err = {0};
    gt_key key;
    if (gt_cli_load_key(o->home, o->from, o->password_file, &key, NULL, &err)) return gt_cli_fail(&err);
    return send_key(c, o, &key, kind, f);
}

/* The positional 0x id (what names it) into out; a usage error otherwise. */
static int need_id(const fopts *o, const char *sub, const char *what, uint8_t out[32]) {
    if (!o->pos) return gt_cli_usage_error("fund", "%s: give the %s (0x and 64 hex digits)", sub, what);
    if (strncmp(o->pos, "0x", 2) || gt_hex_decode(o->pos, out, 32, what, NULL))
        return gt_cli_usage_error("fund", "%s: %s: expected 0x and 64 hex digits, got \"%.80s\"", sub, what, o->pos);
    return -1;
}

static int need_addr(const fopts *o, const char *sub, gt_addr *out) {
    gt_err err = {0};
    if (!o->pos) return gt_cli_usage_error("fund", "%s: give the address (0x and 40 hex digits)", sub);
    if (gt_addr_parse(o->pos, out, &err)) return gt_cli_usage_error("fund", "%s: %s", sub, err.msg);
    return -1;
}

/* GETs path and prints it (JSON with --json, else indented JSON too: the
 * shapes are docs/api.md's). */
static int show(gt_client *c, const char *path) {
    gt_err err = {0};
    json_t *j = NULL;
    if (gt_client_get_json(c, path, &j, &err)) return gt_cli_fail(&err);
    return gt_cli_json_out(j);
}

static const char *js(const json_t *o, const char *k) {
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : "-";
}

/* A base-unit decimal string as tokens ("1500000" -> "1.5"). */
static const char *tok(const char *units, char out[32]) {
    uint64_t v = strtoull(units, NULL, 10);
    gt_amount_format(v, out);
    return out;
}

/* `fund round-show`: a round, its projects and matches. */
static int f_round_show(gt_client *c, const fopts *o) {
    uint8_t id[32];
    int rc = need_id(o, "round-show", "round id", id);
    if (rc >= 0) return rc;
    char path[128];
    snprintf(path, sizeof path, "/v1/fund/rounds/%s", o->pos);
    if (o->json) return show(c, path);
    gt_err err = {0};
    json_t *r = NULL;
    if (gt_client_get_json(c, path, &r, &err)) return gt_cli_fail(&err);
    char a[32], b[32], d[32], e[32];
    printf("round %s \"%s\" (%s), %s\n", js(r, "id"), js(r, "name"), js(r, "rule"), js(r, "status"));
    printf("pool %s, window [%lld, %lld), contributed %s, matched %s, back to the creator %s\n", tok(js(r, "pool"), a),
           (long long)json_integer_value(json_object_get(r, "startS")),
           (long long)json_integer_value(json_object_get(r, "endS")), tok(js(r, "contributed"), b),
           tok(js(r, "matched"), d), tok(js(r, "remainder"), e));
    size_t i;
    json_t *p;
    json_array_foreach(json_object_get(r, "projects"), i, p) {
        printf("  project %zu  %-10s %.18s…  payee %s  contributed %s by %lld, match %s\n", i, js(p, "kind"),
               js(p, "ref"), js(p, "payee"), tok(js(p, "contributed"), a),
               (long long)json_integer_value(json_object_get(p, "contributors")), tok(js(p, "match"), b));
    }
    json_decref(r);
    return 0;
}

/* `fund round-create`: the window starts at the head's time + --start-in. */
static int f_round_create(gt_client *c, const fopts *o) {
    if (!o->have_pool || !o->window_s || !o->name)
        return gt_cli_usage_error("fund", "round-create: give --pool AMT, --window S and --name NAME");
    ffields f = {0};
    f.rule = !o->rule || !strcmp(o->rule, "qf") ? GT_FUND_QF : !strcmp(o->rule, "pairwise") ? GT_FUND_PAIRWISE : 0;
    if (!f.rule)
        return gt_cli_usage_error("fund", "round-create: --rule: expected qf or pairwise, got \"%s\"", o->rule);
    if (f.rule == GT_FUND_PAIRWISE && !o->pairwise_m)
        return gt_cli_usage_error("fund", "round-create: the pairwise rule needs --pairwise-m AMT (its bound)");
    gt_err err = {0};
    uint64_t height, now;
    if (gt_client_head(c, &height, &now, &err)) return gt_cli_fail(&err);
    f.pool = o->pool, f.m = f.rule == GT_FUND_PAIRWISE ? o->pairwise_m : 0, f.name = o->name;
    f.start_s = now + o->start_in_s;
    f.end_s = f.start_s + o->window_s;
    return send(c, o, &gt_kind_fund_round_create, &f);
}

static int f_round_enter(gt_client *c, const fopts *o) {
    ffields f = {0};
    int rc = need_id(o, "round-enter", "round id", f.round);
    if (rc >= 0) return rc;
    if (!!o->dataset + !!o->eval + !!o->model != 1)
        return gt_cli_usage_error("fund", "round-enter: give one of --dataset 0xJOB, --eval 0xID, --model 0xTASK");
    const char *ref = o->dataset ? o->dataset : o->eval ? o->eval : o->model;
    if (strncmp(ref, "0x", 2) || gt_hex_decode(ref, f.ref, 32, "ref", NULL))
        return gt_cli_usage_error("fund", "round-enter: expected 0x and 64 hex digits, got \"%.80s\"", ref);
    f.kind = o->dataset ? GT_FUND_PROJECT_DATASET : o->eval ? GT_FUND_PROJECT_EVAL : GT_FUND_PROJECT_MODEL;
    return send(c, o, &gt_kind_fund_round_enter, &f);
}

/* Warns (stderr) before a contribution the matching will not weigh: in a
 * pairwise round an address with no valid proof of human now adds nothing to
 * any match, and from ledger format 14 an attestation it gets later does not
 * count in this round (the weight goes through the nullifiers recorded when
 * it gives: fund_finalize.c). The contribution is still sent: it is paid to
 * the project either way. A failed lookup says nothing (send reports). */
static void weight_note(gt_client *c, const char *round_hex, const gt_addr *me) {
    char path[128], a[43];
    json_t *r = NULL, *h = NULL;
    gt_err err = {0};
    snprintf(path, sizeof path, "/v1/fund/rounds/%s", round_hex);
    if (gt_client_get_json(c, path, &r, &err) || strcmp(js(r, "rule"), "pairwise")) goto done;
    gt_addr_to_str(me, a);
    snprintf(path, sizeof path, "/v1/fund/humans/%s", a);
    if (gt_client_get_json(c, path, &h, &err) || json_integer_value(json_object_get(h, "weightPpm")) != 0) goto done;
    fprintf(stderr,
            "note: %s has no valid proof of human now: in this pairwise round its contribution adds nothing to"
            " any match, and an attestation it gets later does not count in this round (ledger format 14)\n",
            a);
done:
    json_decref(r);
    json_decref(h);
}

static int f_contribute(gt_client *c, const fopts *o) {
    ffields f = {0};
    gt_err err = {0};
    gt_key key;
    gt_addr me;
    int rc = need_id(o, "contribute", "round id", f.round);
    if (rc >= 0) return rc;
    if (!o->have_project || !o->have_amount)
        return gt_cli_usage_error("fund", "contribute: give --project N --amount AMT");
    f.project = o->project, f.amount = o->amount;
    if (gt_cli_load_key(o->home, o->from, o->password_file, &key, NULL, &err)) return gt_cli_fail(&err);
    gt_key_address(&key, &me);
    weight_note(c, o->pos, &me);
    return send_key(c, o, &key, &gt_kind_fund_contribute, &f);
}

static int f_round_finalize(gt_client *c, const fopts *o) {
    ffields f = {0};
    int rc = need_id(o, "round-finalize", "round id", f.round);
    return rc >= 0 ? rc : send(c, o, &gt_kind_fund_round_finalize, &f);
}

static int f_rounds(gt_client *c, const fopts *o) {
    char path[64];
    snprintf(path, sizeof path, "/v1/fund/rounds?limit=%llu", (unsigned long long)o->limit);
    if (o->json) return show(c, path);
    gt_err err = {0};
    json_t *j = NULL;
    if (gt_client_get_json(c, path, &j, &err)) return gt_cli_fail(&err);
    size_t i;
    json_t *r;
    char a[32];
    if (!json_array_size(json_object_get(j, "rounds"))) printf("no funding rounds on this node\n");
    json_array_foreach(json_object_get(j, "rounds"), i, r)
        printf("%s  %-9s %-8s pool %-10s \"%s\"\n", js(r, "id"), js(r, "status"), js(r, "rule"), tok(js(r, "pool"), a),
               js(r, "name"));
    json_decref(j);
    return 0;
}

static int f_issuer_register(gt_client *c, const fopts *o) {
    if (!o->name) return gt_cli_usage_error("fund", "issuer-register: give --name NAME");
    ffields f = {0};
    f.name = o->name;
    return send(c, o, &gt_kind_human_issuer_register, &f);
}

static int f_issuer_leave(gt_client *c, const fopts *o) {
    ffields f = {0};
    return send(c, o, &gt_kind_human_issuer_leave, &f);
}

static int f_issuer_withdraw(gt_client *c, const fopts *o) {
    ffields f = {0};
    return send(c, o, &gt_kind_human_issuer_withdraw, &f);
}

/* `fund attest`: person is the issuer's own id of the human: 0x and 64 hex
 * digits as is, any other text hashed (keccak256) so no personal data goes
 * on the ledger. */
static int f_attest(gt_client *c, const fopts *o) {
    ffields f = {0};
    int rc = need_addr(o, "attest", &f.subject);
    if (rc >= 0) return rc;
    if (!o->person) return gt_cli_usage_error("fund", "attest: give --person TEXT (your id of this human)");
    if (strncmp(o->person, "0x", 2) || strlen(o->person) != 66 ||
        gt_hex_decode(o->person, f.person, 32, "person", NULL))
        gt_keccak256(o->person, strlen(o->person), f.person);
    gt_err err = {0};
    uint64_t height, now;
    if (gt_client_head(c, &height, &now, &err)) return gt_cli_fail(&err);
    f.weight = o->weight_ppm, f.expires = now + o->expires_in_s;
    return send(c, o, &gt_kind_human_attest, &f);
}

static int f_revoke(gt_client *c, const fopts *o) {
    ffields f = {0};
    int rc = need_addr(o, "revoke", &f.subject);
    return rc >= 0 ? rc : send(c, o, &gt_kind_human_revoke, &f);
}

static int f_same(gt_client *c, const fopts *o) {
    ffields f = {0};
    int rc = need_addr(o, "same", &f.subject);
    return rc >= 0 ? rc : send(c, o, &gt_kind_human_same, &f);
}

static int f_human(gt_client *c, const fopts *o) {
    gt_addr who;
    int rc = need_addr(o, "human", &who);
    if (rc >= 0) return rc;
    char path[96];
    snprintf(path, sizeof path, "/v1/fund/humans/%s", o->pos);
    if (o->json) return show(c, path);
    gt_err err = {0};
    json_t *j = NULL;
    if (gt_client_get_json(c, path, &j, &err)) return gt_cli_fail(&err);
    printf("%s: weight %lld ppm now\n", js(j, "address"),
           (long long)json_integer_value(json_object_get(j, "weightPpm")));
    size_t i;
    json_t *a;
    json_array_foreach(json_object_get(j, "attestations"), i, a) {
        printf("  by %s  weight %lld ppm  expires %lld%s\n", js(a, "issuer"),
               (long long)json_integer_value(json_object_get(a, "weightPpm")),
               (long long)json_integer_value(json_object_get(a, "expiresS")),
               json_is_true(json_object_get(a, "revoked")) ? "  revoked" : "");
    }
    const json_t *is = json_object_get(j, "issuer");
    if (json_is_object(is)) {
        char rel[48] = "";
        if (json_is_integer(json_object_get(is, "releaseHeight")))
            snprintf(rel, sizeof rel, ", free from block %lld",
                     (long long)json_integer_value(json_object_get(is, "releaseHeight")));
        printf("  as an issuer: %s, bond %s base units%s\n", js(is, "status"), js(is, "bond"), rel);
    }
    json_array_foreach(json_object_get(j, "slashes"), i, a) {
        printf("  as an issuer: slashed %s base units at block %lld, for attesting %s and %s (one human) as two\n",
               js(a, "burned"), (long long)json_integer_value(json_object_get(a, "height")), js(a, "first"),
               js(a, "second"));
    }
    json_decref(j);
    return 0;
}

static int f_points_record(gt_client *c, const fopts *o) {
    ffields f = {0};
    int rc = need_id(o, "points-record", "task id", f.task);
    if (rc >= 0) return rc;
    if (!o->have_slot) return gt_cli_usage_error("fund", "points-record: give --slot N");
    f.slot = o->slot;
    return send(c, o, &gt_kind_points_record, &f);
}

/* --epoch, else the epoch of the head block. */
static int which_epoch(gt_client *c, const fopts *o, uint64_t *epoch) {
    if (o->have_epoch) return *epoch = o->epoch, 0;
    gt_err err = {0};
    uint64_t height, now;
    if (gt_client_head(c, &height, &now, &err)) return gt_cli_fail(&err);
    *epoch = gt_fund_epoch_of(now);
    return 0;
}

static int f_epoch(gt_client *c, const fopts *o) {
    uint64_t e = 0;
    if (which_epoch(c, o, &e)) return 1;
    char path[64];
    snprintf(path, sizeof path, "/v1/fund/epochs/%llu", (unsigned long long)e);
    return show(c, path);
}

static int f_airdrop_fund(gt_client *c, const fopts *o) {
    ffields f = {0};
    if (!o->have_amount) return gt_cli_usage_error("fund", "airdrop-fund: give --amount AMT");
    if (which_epoch(c, o, &f.epoch)) return 1;
    f.amount = o->amount;
    return send(c, o, &gt_kind_airdrop_fund, &f);
}

static int f_airdrop_close(gt_client *c, const fopts *o) {
    ffields f = {0};
    if (!o->have_epoch) return gt_cli_usage_error("fund", "airdrop-close: give --epoch N");
    f.epoch = o->epoch;
    return send(c, o, &gt_kind_airdrop_close, &f);
}

/* `fund claim`: reads the sender's leaf and proof from the node, checks the
 * proof against the root itself, then signs the claim. */
static int f_claim(gt_client *c, const fopts *o) {
    if (!o->have_epoch) return gt_cli_usage_error("fund", "claim: give --epoch N");
    gt_err err = {0};
    gt_key key;
    gt_addr me;
    if (gt_cli_load_key(o->home, o->from, o->password_file, &key, NULL, &err)) return gt_cli_fail(&err);
    gt_key_address(&key, &me);
    gt_key_wipe(&key);
    char path[128], a[43];
    gt_addr_to_str(&me, a);
    snprintf(path, sizeof path, "/v1/fund/epochs/%llu/claims/%s", (unsigned long long)o->epoch, a);
    json_t *j = NULL;
    if (gt_client_get_json(c, path, &j, &err)) return gt_cli_fail(&err);
    ffields f = {0};
    f.epoch = o->epoch;
    f.index = (uint64_t)json_integer_value(json_object_get(j, "index"));
    f.amount = strtoull(js(j, "amount"), NULL, 10);
    f.proof = js(j, "proofHex");
    uint8_t root[32], proof[GT_FUND_PROOF_MAX][32];
    size_t n = strlen(f.proof) / 64;
    int ok = !gt_hex_decode(js(j, "root"), root, 32, "root", NULL) && n <= GT_FUND_PROOF_MAX;
    for (size_t i = 0; ok && i < n; i++) {
        char h[65];
        memcpy(h, f.proof + 64 * i, 64);
        h[64] = 0;
        ok = !gt_hex_decode(h, proof[i], 32, "proof", NULL);
    }
    if (!ok || !gt_fund_airdrop_verify(f.index, &me, f.amount, (const uint8_t(*)[32])proof, n, root)) {
        json_decref(j);
        gt_err_set(&err, GT_EINVAL, "the node's proof for %s does not fold to the epoch's root: not claiming", a);
        return gt_cli_fail(&err);
    }
    int rc = send(c, o, &gt_kind_airdrop_claim, &f);
    json_decref(j);
    return rc;
}

static int cmd_fund(int argc, char **argv) {
    static const char *const subs[] = {"round-create", "round-enter",   "contribute",      "round-finalize",
                                       "round-show",   "rounds",        "issuer-register", "attest",
                                       "revoke",       "human",         "points-record",   "epoch",
                                       "airdrop-fund", "airdrop-close", "claim",           "same",
                                       "issuer-leave", "issuer-withdraw", NULL};
    static int (*const fns[])(gt_client *, const fopts *) = {
        f_round_create,  f_round_enter,     f_contribute,   f_round_finalize, f_round_show,
        f_rounds,        f_issuer_register, f_attest,       f_revoke,         f_human,
        f_points_record, f_epoch,           f_airdrop_fund, f_airdrop_close,  f_claim,
        f_same,          f_issuer_leave,    f_issuer_withdraw};
    int which;
    int rc = gt_cli_subcommand_text("fund", argc, argv, subs, usage_text, &which);
    if (rc >= 0) return rc;
    fopts o;
    if ((rc = parse(argc - 1, argv + 1, &o)) >= 0) return rc;
    gt_client *c = NULL;
    gt_err err = {0};
    if (gt_client_new(gt_cli_node(o.node), &c, &err)) return gt_cli_fail(&err);
    rc = fns[which](c, &o);
    gt_client_free(c);
    return rc;
}

GT_CLI_COMMAND(fund_cmd, "fund", "funding rounds, proof of human, points and airdrops on a node", cmd_fund)
