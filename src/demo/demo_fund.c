/* demo_fund.c: the demo's funding and feedback act (fund/fund.h,
 * fund/label.h), played once the market rounds are over and the agents
 * have stopped, on the same node:
 *   - proof of human: the faucet stakes and registers as an issuer (its
 *     stake moves into the issuer's bond) and attests three scripted humans
 *     (sari, tono, wati);
 *   - a funding round (the pairwise rule, weighted by proof of human) over
 *     the datasets and evaluations the agents published, entered by their
 *     owners, funded by the humans, finalized after its window;
 *   - a preference task posted by ayu with a hidden gold item, labelled by
 *     the three humans (commit, then reveal); wati answers carelessly, misses
 *     the gold and loses her bond; the export (DPO, HH-RLHF, dataset card) is
 *     written to HOME/feedback, its roots being on the ledger;
 *   - points for every paid slot recorded by its worker, and today's epoch's
 *     airdrop funded.
 * An epoch is a day of block time, closed a day after its end, so today's
 * cannot close during the demo: after the node stops, demo_fund_airdrop
 * closes it and claims with a Merkle proof on a COPY of the ledger whose
 * clock is set to the day after the next
 * (HOME/airdrop-preview), and replays that copy. The demo's own ledger keeps
 * real block times. Salts are derived from fixed tags (the demo is
 * deterministic and its keys are public anyway). What each part ended with
 * goes into the --json summary's "fund" object (round, feedback, points,
 * airdrop). The demo trains no model, so its round has none. */
#include <assert.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "base/amount.h"
#include "base/hex.h"
#include "crypto/addr.h"
#include "crypto/keccak.h"
#include "demo/demo_fund.h"
#include "fund/fund.h"
#include "fund/label.h"
#include "ledger/ledger.h"
#include "market/market.h"
#include "work/work.h"

#define DF_TOKEN 1000000u
#define DF_WINDOW_S 3 /* the round's contribution window: the demo waits it out */
#define DF_MAX_PROJECTS 4

static const char *const human_names[DF_HUMANS] = {"sari", "tono", "wati"};

/* Sets the fields of a (its kind's, by name) from the JSON object arg. */
static int fill_json(void *arg, gt_action *a, gt_err *err) {
    const json_t *j = arg;
    for (int i = 0; i < a->kind->n_fields; i++) {
        const gt_field_def *fd = &a->kind->fields[i];
        const json_t *v = json_object_get(j, fd->name);
        const char *s = json_string_value(v);
        if (!v) continue;
        if (fd->type == GT_F_U64) a->f[i].u64 = (uint64_t)json_integer_value(v);
        if (fd->type == GT_F_ADDRESS && (!s || gt_addr_parse(s, &a->f[i].addr, err))) return GT_EINVAL;
        if (fd->type == GT_F_BYTES32 && (!s || gt_hex_decode(s, a->f[i].b32, 32, fd->name, err))) return GT_EINVAL;
        if (fd->type == GT_F_STRING && (!s || gt_action_set_str(a, fd->name, s, strlen(s), err))) return GT_ELIMIT;
    }
    return 0;
}

/* Sends kind signed by key with the fields of the JSON text fmt. */
static int act(demo_fund *f, const gt_key *key, const char *kind, uint8_t id[32], gt_err *err, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));
static int act(demo_fund *f, const gt_key *key, const char *kind, uint8_t id[32], gt_err *err, const char *fmt, ...) {
    char text[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    const gt_action_kind *k = gt_action_kind_by_name(kind);
    json_error_t je;
    json_t *j = json_loads(text, 0, &je);
    assert(k && j); /* the demo's own text */
    int rc = gt_client_act(f->d->dir, key, k, fill_json, j, id, NULL, err);
    json_decref(j);
    return rc;
}

static const char *hex32(const uint8_t b[32], char out[67]) {
    out[0] = '0', out[1] = 'x';
    gt_hex_encode(b, 32, out + 2);
    return out;
}
static const char *addr_of(const gt_key *k, char out[43]) {
    gt_addr a;
    gt_key_address(k, &a);
    gt_addr_to_str(&a, out);
    return out;
}

/* The cast member (or faucet) whose key signs for address a, or NULL. */
static const gt_key *key_of(const demo_fund *f, const gt_addr *a) {
    for (int i = 0; i < N_PERSONAS; i++) {
        gt_addr k;
        gt_key_address(&f->keys[i], &k);
        if (gt_addr_eq(&k, a)) return &f->keys[i];
    }
    return NULL;
}

/* Adds a party to the summary (its account now is its "before"). */
static int add_party(demo_fund *f, const char *name, const char *role, const gt_key *k, gt_err *err) {
    if (f->rep->n_parties >= DEMO_MAX_AGENTS) return 0;
    demo_party *p = &f->rep->parties[f->rep->n_parties++];
    gt_client_acct acc;
    p->name = name, p->role = role;
    gt_key_address(k, &p->addr);
    int rc = gt_client_account(f->d->dir, &p->addr, &acc, err);
    p->before_balance = acc.balance_units, p->before_staked = acc.staked_units, p->before_locked = acc.locked_units;
    return rc;
}

/* The humans' keys and money, the faucet as a staked issuer attesting them. */
static int humans(demo_fund *f, gt_err *err) {
    char a[43], person[67];
    uint64_t h, now;
    int rc = gt_client_head(f->d->dir, &h, &now, err);
    for (int i = 0; !rc && i < DF_HUMANS; i++) {
        uint8_t priv[32], pid[32];
        char tag[48];
        snprintf(tag, sizeof tag, "gotong demo human %s", human_names[i]);
        gt_keccak256(tag, strlen(tag), priv);
        if ((rc = gt_key_from_bytes(&f->human[i], priv, err))) break;
        gt_keccak256(human_names[i], strlen(human_names[i]), pid); /* the issuer's own id of the person */
        rc = act(f, f->faucet, "mint", NULL, err, "{\"to\":\"%s\",\"amount\":%u}", addr_of(&f->human[i], a),
                 5 * DF_TOKEN);
        if (!rc && i == 0) /* the issuer: 20 tokens, 10 staked (the minimum), registered */
            rc = act(f, f->faucet, "mint", NULL, err, "{\"to\":\"%s\",\"amount\":%u}", addr_of(f->faucet, a),
                     20 * DF_TOKEN);
        if (!rc && i == 0) rc = act(f, f->faucet, "stake", NULL, err, "{\"amount\":%u}", 10 * DF_TOKEN);
        if (!rc && i == 0)
            rc = act(f, f->faucet, "human_issuer_register", NULL, err, "{\"name\":\"demo human registry\"}");
        if (!rc)
            rc = act(f, f->faucet, "human_attest", NULL, err,
                     "{\"subject\":\"%s\",\"person\":\"%s\",\"weightPpm\":1000000,\"expiresS\":%llu}",
                     addr_of(&f->human[i], a), hex32(pid, person), (unsigned long long)now + 30 * 86400);
    }
    if (rc) return rc;
    f->rep->minted_units += DF_HUMANS * 5 * DF_TOKEN + 20 * DF_TOKEN;
    for (int i = 0; !rc && i < DF_HUMANS; i++)
        rc = add_party(f, human_names[i], i == 2 ? "human (attested), labels carelessly" : "human (attested)",
                       &f->human[i], err);
    if (!rc) rc = add_party(f, "faucet", "faucet; proof-of-human issuer; airdrop funder", f->faucet, err);
    demo_say("\n  proof of human: the faucet staked 10 tokens and bonded them as an issuer (slashable until an\n"
             "  unbonding period after it leaves), and attested sari, tono, wati");
    return rc;
}

/* Up to DF_MAX_PROJECTS published works (two datasets, then two evaluations
 * a drawn, bonded panel accepted, as fund_round_enter requires: a forged
 * evaluation, one only the task's evaluator accepted, and a dataset whose
 * batches the evaluator the poster named judged, are not put forward) and
 * their owners, from the ledger. */
typedef struct df_projects {
    int n;
    int kind[DF_MAX_PROJECTS];
    uint8_t ref[DF_MAX_PROJECTS][32];
    gt_addr owner[DF_MAX_PROJECTS];
} df_projects;

static int find_projects(const demo_fund *f, df_projects *p, gt_err *err) {
    static const char *const sql[2] = {"SELECT job, publisher FROM wk_datasets ORDER BY height, job",
                                       "SELECT id, attester, task, slot FROM wk_attestations ORDER BY id"};
    char path[PATH_MAX + 16];
    sqlite3 *db = NULL;
    snprintf(path, sizeof path, "%s/ledger.db", f->home);
    memset(p, 0, sizeof *p);
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
        sqlite3_close(db);
        return gt_err_set(err, GT_EDB, "cannot read %s", path);
    }
    for (int k = 0; k < 2; k++) {
        sqlite3_stmt *q;
        if (sqlite3_prepare_v2(db, sql[k], -1, &q, NULL) != SQLITE_OK) continue;
        int of_kind = 0;
        while (sqlite3_step(q) == SQLITE_ROW && p->n < DF_MAX_PROJECTS && of_kind < 2) {
            if (sqlite3_column_bytes(q, 0) != 32 || sqlite3_column_bytes(q, 1) != 20) continue;
            const char *status = NULL;
            gt_err ignored = {0};
            int panel = 0;
            if (!k && gt_fund_dataset_panel_accepted(db, sqlite3_column_blob(q, 0), &ignored)) continue;
            if (k && (gt_work_attestation_status(db, sqlite3_column_blob(q, 0), &status, &ignored) ||
                      strcmp(status, "accepted") || sqlite3_column_bytes(q, 2) != 32 ||
                      gt_market_slot_panel_accepted(db, sqlite3_column_blob(q, 2), (uint64_t)sqlite3_column_int64(q, 3),
                                                    &panel, &ignored) ||
                      !panel))
                continue;
            memcpy(p->ref[p->n], sqlite3_column_blob(q, 0), 32);
            memcpy(p->owner[p->n].b, sqlite3_column_blob(q, 1), 20);
            p->kind[p->n] = k ? GT_FUND_PROJECT_EVAL : GT_FUND_PROJECT_DATASET;
            if (key_of(f, &p->owner[p->n])) p->n++, of_kind++;
        }
        sqlite3_finalize(q);
    }
    sqlite3_close(db);
    return 0;
}

/* Waits (writing blocks) until the head's time reaches t. */
static int wait_block_time(demo_fund *f, uint64_t t, gt_err *err) {
    for (int tries = 0; tries < 200; tries++) {
        uint64_t h, now;
        int rc = gt_client_head(f->d->dir, &h, &now, err);
        if (rc || now >= t) return rc;
        struct timespec ts = {0, 100000000}; /* the window is block time: the demo's clock moves a second a block */
        nanosleep(&ts, NULL);
        if ((rc = demo_clock_tick(f->node, err))) return rc;
    }
    return gt_err_set(err, GT_ESTATE, "the block time did not reach %llu", (unsigned long long)t);
}

/* The base units in o's decimal-string field key (0 when absent). */
static uint64_t units_at(const json_t *o, const char *key) {
    const char *s = json_string_value(json_object_get(o, key));
    return s ? strtoull(s, NULL, 10) : 0;
}

/* Sets key of the --json summary's "fund" object to v (stolen). */
static void report(const demo_fund *f, const char *key, json_t *v) {
    if (f->rep->fund && v) json_object_set_new(f->rep->fund, key, v);
    else json_decref(v);
}

/* Prints a finalized round's matches, and puts them in the --json summary:
 * {id, rule, pool, matched, remainder, projects: [{kind, owner, contributed,
 * contributors, match}]}, amounts in tokens. */
static int show_round(demo_fund *f, const uint8_t id[32], const df_projects *p, gt_err *err) {
    char path[128], h[67], a1[GT_AMOUNT_STR_MAX], a2[GT_AMOUNT_STR_MAX];
    json_t *r = NULL, *pr, *projects = json_array();
    size_t i;
    snprintf(path, sizeof path, "/v1/fund/rounds/%s", hex32(id, h));
    if (gt_client_get_json(f->d->dir, path, &r, err)) return json_decref(projects), err->code;
    json_array_foreach(json_object_get(r, "projects"), i, pr) {
        const gt_key *k = i < (size_t)p->n ? key_of(f, &p->owner[i]) : NULL;
        int who = k ? (int)(k - f->keys) : -1;
        const char *owner = who >= 0 ? demo_cast[who].name : "?";
        const char *kind = json_string_value(json_object_get(pr, "kind"));
        demo_say("    project %zu  %-10s of %-6s contributed %s, matched %s", i, kind, owner,
                 gt_amount_format(units_at(pr, "contributed"), a1), gt_amount_format(units_at(pr, "match"), a2));
        json_array_append_new(projects, json_pack("{s:s?,s:s,s:o,s:O,s:o}", "kind", kind, "owner", owner,
                                                  "contributed", demo_json_tokens(units_at(pr, "contributed")),
                                                  "contributors", json_object_get(pr, "contributors"), "match",
                                                  demo_json_tokens(units_at(pr, "match"))));
    }
    report(f, "round",
           json_pack("{s:s,s:O,s:o,s:o,s:o,s:o}", "id", h, "rule", json_object_get(r, "rule"), "pool",
                     demo_json_tokens(units_at(r, "pool")), "matched", demo_json_tokens(units_at(r, "matched")),
                     "remainder", demo_json_tokens(units_at(r, "remainder")), "projects", projects));
    json_decref(r);
    return 0;
}

/* The round: created by the faucet, entered by the owners, funded by the humans. */
static int play_round(demo_fund *f, gt_err *err) {
    df_projects p;
    uint8_t id[32];
    char h[67], ref[67];
    uint64_t height, now;
    int rc = find_projects(f, &p, err);
    if (rc || (rc = gt_client_head(f->d->dir, &height, &now, err))) return rc;
    if (p.n < 2) {
        demo_say("\n  funding round: skipped (fewer than two published works on the ledger)");
        return 0;
    }
    demo_say("\n  funding round (quadratic, pairwise rule weighted by proof of human): pool 4, window %d s, "
             "%d projects", DF_WINDOW_S, p.n);
    rc = act(f, f->faucet, "fund_round_create", id, err,
             "{\"pool\":%u,\"startS\":%llu,\"endS\":%llu,\"rule\":2,\"pairwiseM\":%u,\"name\":\"demo round\"}",
             4 * DF_TOKEN, (unsigned long long)now, (unsigned long long)now + DF_WINDOW_S, DF_TOKEN);
    for (int i = 0; !rc && i < p.n; i++)
        rc = act(f, key_of(f, &p.owner[i]), "fund_round_enter", NULL, err,
                 "{\"round\":\"%s\",\"projectKind\":%d,\"ref\":\"%s\"}", hex32(id, h), p.kind[i], hex32(p.ref[i], ref));
    /* sari and tono back project 0, wati project 1; sari also a little to the last one */
    static const struct { int human, project; uint64_t amount; } gifts[] = {
        {0, 0, DF_TOKEN}, {1, 0, DF_TOKEN}, {2, 1, DF_TOKEN / 2}, {0, -1, DF_TOKEN / 4}};
    for (size_t g = 0; !rc && g < sizeof gifts / sizeof gifts[0]; g++)
        rc = act(f, &f->human[gifts[g].human], "fund_contribute", NULL, err,
                 "{\"round\":\"%s\",\"project\":%d,\"amount\":%llu}", hex32(id, h),
                 gifts[g].project < 0 ? p.n - 1 : gifts[g].project, (unsigned long long)gifts[g].amount);
    if (rc || (rc = wait_block_time(f, now + DF_WINDOW_S, err))) return rc;
    if ((rc = act(f, f->faucet, "fund_round_finalize", NULL, err, "{\"round\":\"%s\"}", hex32(id, h)))) return rc;
    demo_say("  round %.18s… finalized: contributions went to the owners at once, matches come from the pool\n"
             "  (one backer alone earns no match, (sqrt c)^2 - c = 0; two attested humans funding the same\n"
             "  projects are discounted as a pair; the rest of the pool goes back to the faucet):", h);
    return show_round(f, id, &p, err);
}

/* The preference task's items: item 1 is the hidden gold (7 * 6 = 42). */
static const struct {
    const char *prompt;
    int answers;
    const char *answer[3];
} df_items[] = {
    {"What does a Merkle proof contain?", 2,
     {"The sibling hashes from a leaf up to the root.", "A promise that the tree is large.", ""}},
    {"What is 7 * 6?", 2, {"42", "36", ""}},
    {"Reply to: thanks for the dataset!", 3, {"You're welcome, glad it helps.", "ok", "Whatever."}},
    {"Summarise: agents are paid when their work is verified by re-execution.", 2,
     {"Agents are paid.", "Agents are paid only for work others re-run and check.", ""}},
};
#define DF_ITEMS 4
static const char df_gold[] = "-0--";
/* Each human's choice per item: sari and tono careful (they differ on item
 * 2, a tie left unlabelled), wati careless (she misses the gold). By hand:
 * alpha over (0,0) (0,1) (1,1) = 1 - 5 * 2 / 18 = 0.444444; kappa (6 - 4) /
 * (9 - 4) = 0.4; DPO lines: items 0 and 3, one each. */
static const int df_choice[DF_HUMANS][DF_ITEMS] = {{0, 0, 0, 1}, {0, 0, 1, 1}, {1, 1, 2, 0}};

/* The deterministic secret of one label (see the file comment). */
static void df_secret(int human, int item, uint8_t out[32]) {
    char tag[64];
    snprintf(tag, sizeof tag, "gotong demo label %s %d", human_names[human], item);
    gt_keccak256(tag, strlen(tag), out);
}

/* ayu posts the task and adds its items; the humans join. */
static int task_post(demo_fund *f, uint8_t task[32], gt_err *err) {
    uint8_t salt[32], gc[32];
    char h[67], g[67];
    uint64_t height, now;
    gt_keccak256("gotong demo gold", 16, salt);
    gt_fund_label_gold_commit(salt, df_gold, DF_ITEMS, gc);
    int rc = gt_client_head(f->d->dir, &height, &now, err);
    if (!rc)
        rc = act(f, &f->keys[P_AYU], "label_task_post", task, err,
                 "{\"name\":\"demo preferences\",\"items\":%d,\"labellers\":%d,\"payPerLabel\":%u,\"bond\":%u,"
                 "\"goldBarPct\":100,\"minGold\":1,\"minLabels\":1,\"commitEndS\":%llu,\"revealEndS\":%llu,"
                 "\"goldCommit\":\"%s\"}",
                 DF_ITEMS, DF_HUMANS, DF_TOKEN / 100, DF_ITEMS * DF_TOKEN / 100, (unsigned long long)now + 600,
                 (unsigned long long)now + 1200, hex32(gc, g));
    for (int i = 0; !rc && i < DF_ITEMS; i++) {
        json_t *j = json_pack("{s:s,s:s,s:i,s:s,s:s,s:s}", "task", hex32(task, h), "prompt", df_items[i].prompt,
                              "answers", df_items[i].answers, "answer0", df_items[i].answer[0], "answer1",
                              df_items[i].answer[1], "answer2", df_items[i].answer[2]);
        rc = j ? gt_client_act(f->d->dir, &f->keys[P_AYU], &gt_kind_label_item_add, fill_json, j, NULL, NULL, err)
               : gt_err_set(err, GT_ENOMEM, "out of memory");
        json_decref(j);
    }
    for (int i = 0; !rc && i < DF_HUMANS; i++)
        rc = act(f, &f->human[i], "label_join", NULL, err, "{\"task\":\"%s\"}", hex32(task, h));
    return rc;
}

/* Every human commits every label, then reveals them. */
static int task_label(demo_fund *f, const uint8_t task[32], gt_err *err) {
    char h[67], c[67], s[67];
    int rc = 0;
    for (int pass = 0; pass < 2; pass++)
        for (int i = 0; !rc && i < DF_HUMANS; i++)
            for (int it = 0; !rc && it < DF_ITEMS; it++) {
                uint8_t secret[32], commitment[32];
                gt_addr who;
                gt_key_address(&f->human[i], &who);
                df_secret(i, it, secret);
                gt_fund_label_commitment(task, (uint64_t)it, &who, (uint64_t)df_choice[i][it], "", 0, secret,
                                         commitment);
                rc = pass == 0 ? act(f, &f->human[i], "label_commit", NULL, err,
                                     "{\"task\":\"%s\",\"item\":%d,\"commitment\":\"%s\"}", hex32(task, h), it,
                                     hex32(commitment, c))
                               : act(f, &f->human[i], "label_reveal", NULL, err,
                                     "{\"task\":\"%s\",\"item\":%d,\"choice\":%d,\"reason\":\"\",\"secret\":\"%s\"}",
                                     hex32(task, h), it, df_choice[i][it], hex32(secret, s));
            }
    return rc;
}

/* Writes HOME/feedback/NAME from the closed task's rows (checked against its roots). */
static int write_export(sqlite3 *db, const demo_fund *f, const uint8_t task[32], int what, const char *name,
                        gt_err *err) {
    gt_buf b = GT_BUF_INIT;
    char path[PATH_MAX + 64];
    int rc = what == 2 ? gt_fund_label_card(db, task, &b, err)
                       : gt_fund_label_export(db, task, what ? GT_PREF_HH : GT_PREF_DPO, &b, err);
    snprintf(path, sizeof path, "%s/feedback/%s", f->home, name);
    if (!rc) {
        FILE *o = fopen(path, "w");
        rc = !o || fwrite(b.data ? (const void *)b.data : "", 1, b.len, o) != b.len
                 ? gt_err_set(err, GT_EIO, "cannot write %s", path)
                 : 0;
        if (o) fclose(o);
    }
    gt_buf_free(&b);
    return rc;
}

/* Prints the outcome and writes the export and the card. */
static int task_outcome(demo_fund *f, const uint8_t task[32], gt_err *err) {
    char path[PATH_MAX + 16], h[67];
    json_t *t = NULL;
    snprintf(path, sizeof path, "/v1/label/tasks/%s", hex32(task, h));
    if (gt_client_get_json(f->d->dir, path, &t, err)) return err->code;
    const json_t *seats = json_object_get(t, "seats");
    for (int i = 0; i < DF_HUMANS; i++) {
        const json_t *st = json_array_get(seats, (size_t)i);
        demo_say("    %-5s gold %lld/%lld right: %s", human_names[i],
                 (long long)json_integer_value(json_object_get(st, "goldRight")),
                 (long long)json_integer_value(json_object_get(st, "goldSeen")),
                 json_string_value(json_object_get(st, "outcome")));
    }
    f->rep->burned_units += units_at(t, "burned");
    json_t *seat_list = json_array();
    for (int i = 0; i < DF_HUMANS; i++) {
        const json_t *st = json_array_get(seats, (size_t)i);
        json_array_append_new(seat_list, json_pack("{s:s,s:O,s:O,s:O,s:o}", "name", human_names[i], "goldRight",
                                                   json_object_get(st, "goldRight"), "goldSeen",
                                                   json_object_get(st, "goldSeen"), "outcome",
                                                   json_object_get(st, "outcome"), "paid",
                                                   demo_json_tokens(units_at(st, "paid"))));
    }
    report(f, "feedback",
           json_pack("{s:s,s:O,s:O,s:i,s:O,s:O,s:O,s:O,s:o,s:o,s:o}", "task", h, "status", json_object_get(t, "status"),
                     "labelled", json_object_get(t, "labelled"), "items", DF_ITEMS, "alphaPpm",
                     json_object_get(t, "alphaPpm"), "kappaPpm", json_object_get(t, "kappaPpm"), "exportLines",
                     json_object_get(t, "exportLines"), "dpoRoot", json_object_get(t, "dpoRoot"), "paid",
                     demo_json_tokens(units_at(t, "paid")), "burned", demo_json_tokens(units_at(t, "burned")),
                     "seats", seat_list));
    demo_say("    %lld of %d items labelled; alpha %lld ppm, kappa %lld ppm; %lld DPO lines, root %.18s…",
             (long long)json_integer_value(json_object_get(t, "labelled")), DF_ITEMS,
             (long long)json_integer_value(json_object_get(t, "alphaPpm")),
             (long long)json_integer_value(json_object_get(t, "kappaPpm")),
             (long long)json_integer_value(json_object_get(t, "exportLines")),
             json_string_value(json_object_get(t, "dpoRoot")));
    json_decref(t);
    sqlite3 *db = NULL;
    snprintf(path, sizeof path, "%s/feedback", f->home);
    mkdir(path, 0755);
    snprintf(path, sizeof path, "%s/ledger.db", f->home);
    int rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK
                 ? 0
                 : gt_err_set(err, GT_EDB, "cannot read %s", path);
    if (!rc) rc = write_export(db, f, task, 0, "dpo.jsonl", err);
    if (!rc) rc = write_export(db, f, task, 1, "hh.jsonl", err);
    if (!rc) rc = write_export(db, f, task, 2, "README.md", err);
    sqlite3_close(db);
    if (!rc) demo_say("    export: %s/feedback/dpo.jsonl, hh.jsonl and the dataset card README.md", f->home);
    return rc;
}

static int feedback(demo_fund *f, gt_err *err) {
    uint8_t task[32], salt[32];
    char h[67], s[67];
    demo_say("\n  paid human feedback: ayu pays 0.01 a label for %d items (one a hidden gold), %d attested humans,"
             " labels committed then revealed", DF_ITEMS, DF_HUMANS);
    int rc = task_post(f, task, err);
    if (rc || (rc = task_label(f, task, err))) return rc;
    gt_keccak256("gotong demo gold", 16, salt);
    if ((rc = act(f, &f->keys[P_AYU], "label_task_close", NULL, err,
                  "{\"task\":\"%s\",\"gold\":\"%s\",\"goldSalt\":\"%s\"}", hex32(task, h), df_gold, hex32(salt, s))))
        return rc;
    demo_say("  task %.18s… closed by ayu with the gold opened:", h);
    return task_outcome(f, task, err);
}

/* The faucet, as the demo's issuer, attests the human behind the posting
 * agent `poster` (its operator; a person id of its own), once: points come
 * only from work a human-attested poster paid for (fund_points.c). */
static int attest_poster(demo_fund *f, const gt_addr *poster, gt_err *err) {
    for (int i = 0; i < f->n_payers; i++)
        if (gt_addr_eq(&f->payer[i], poster)) return 0;
    if (f->n_payers == DF_MAX_PAYERS) return 0; /* the demo posts from a handful of agents */
    char a[43], person[67], tag[80];
    uint8_t pid[32];
    uint64_t h, now;
    gt_addr_to_str(poster, a);
    snprintf(tag, sizeof tag, "gotong demo operator of %s", a);
    gt_keccak256(tag, strlen(tag), pid);
    int rc = gt_client_head(f->d->dir, &h, &now, err);
    if (!rc)
        rc = act(f, f->faucet, "human_attest", NULL, err,
                 "{\"subject\":\"%s\",\"person\":\"%s\",\"weightPpm\":1000000,\"expiresS\":%llu}", a,
                 hex32(pid, person), (unsigned long long)now + 30 * 86400);
    if (!rc) f->payer[f->n_payers++] = *poster;
    return rc;
}

/* Every paid slot's worker records its points (its poster's operator
 * attested first); the faucet funds today's epoch. */
static int points(demo_fund *f, gt_err *err) {
    char path[PATH_MAX + 16], h[67];
    sqlite3 *db = NULL;
    sqlite3_stmt *q = NULL;
    int rc = 0, n = 0, refused = 0;
    snprintf(path, sizeof path, "%s/ledger.db", f->home);
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db,
                           "SELECT s.task, s.slot, s.worker, t.poster FROM mk_slots s JOIN mk_tasks t ON t.id=s.task"
                           " WHERE s.state=6 AND s.worker<>t.poster ORDER BY s.task, s.slot",
                           -1, &q, NULL) != SQLITE_OK)
        rc = gt_err_set(err, GT_EDB, "reading paid slots: %s", sqlite3_errmsg(db));
    while (!rc && sqlite3_step(q) == SQLITE_ROW) {
        gt_addr w, poster;
        if (sqlite3_column_bytes(q, 0) != 32 || sqlite3_column_bytes(q, 2) != 20 || sqlite3_column_bytes(q, 3) != 20)
            continue;
        memcpy(w.b, sqlite3_column_blob(q, 2), 20);
        memcpy(poster.b, sqlite3_column_blob(q, 3), 20);
        const gt_key *k = key_of(f, &w);
        if (!k || (rc = attest_poster(f, &poster, err))) continue;
        gt_err one = {0};
        if (!act(f, k, "points_record", NULL, &one, "{\"task\":\"%s\",\"slot\":%lld}",
                 hex32(sqlite3_column_blob(q, 0), h), (long long)sqlite3_column_int64(q, 1)))
            n++;
        else
            refused++, demo_say("    (points of a slot refused: %s)", one.msg);
    }
    sqlite3_finalize(q);
    sqlite3_close(db);
    uint64_t height, now;
    if (rc || (rc = gt_client_head(f->d->dir, &height, &now, err))) return rc;
    f->epoch = gt_fund_epoch_of(now);
    rc = act(f, f->faucet, "airdrop_fund", NULL, err, "{\"epoch\":%llu,\"amount\":%u}", (unsigned long long)f->epoch,
             3 * DF_TOKEN);
    if (!rc) f->have_epoch = n > 0;
    if (!rc)
        report(f, "points",
               json_pack("{s:I,s:i,s:i,s:i,s:o}", "epoch", (json_int_t)f->epoch, "slotsRecorded", n, "slotsRefused",
                         refused, "payersAttested", f->n_payers, "airdropPool", demo_json_tokens(3 * DF_TOKEN)));
    demo_say("\n  points: the faucet attested the humans behind the %d posting agents (points come only from work\n"
             "  a human-attested poster paid for, at most 100 tokens' worth a person a day); %d paid slots recorded\n"
             "  by their workers in epoch %llu; the faucet funds its airdrop with 3",
             f->n_payers, n, (unsigned long long)f->epoch);
    return rc;
}

void demo_fund_stop_agents(demo *d) {
    for (int i = 0; i < N_PERSONAS; i++)
        if (d->ag[i]) gt_agent_stop(d->ag[i]);
    for (int i = 0; i < N_PERSONAS; i++)
        if (d->started[i]) pthread_join(d->th[i], NULL), d->started[i] = 0;
}

void demo_fund_done(demo_fund *f) {
    for (int i = 0; i < DF_HUMANS; i++) gt_key_wipe(&f->human[i]);
    gt_key_wipe(&f->faucet_key);
    gt_key_wipe(&f->claimer_key);
}

int demo_fund_play(demo_fund *f, gt_err *err) {
    f->faucet_key = *f->faucet, f->claimer_key = f->keys[P_ANA];
    if (!f->rep->fund) f->rep->fund = json_pack("{s:n,s:n,s:n,s:n}", "round", "feedback", "points", "airdrop");
    int rc = humans(f, err);
    if (!rc) rc = play_round(f, err);
    if (!rc) rc = feedback(f, err);
    if (!rc) rc = points(f, err);
    return rc;
}

/* ---- the airdrop, on a copy of the ledger a day ahead ---- */

/* Copies HOME/ledger.db (and its WAL files, if any) into dir. */
static int copy_ledger(const char *home, const char *dir, gt_err *err) {
    static const char *const ext[] = {"", "-wal", "-shm"};
    mkdir(dir, 0755);
    for (int i = 0; i < 3; i++) {
        char from[PATH_MAX + 32], to[PATH_MAX + 32], buf[65536];
        if ((size_t)snprintf(from, sizeof from, "%s/ledger.db%s", home, ext[i]) >= sizeof from ||
            (size_t)snprintf(to, sizeof to, "%s/ledger.db%s", dir, ext[i]) >= sizeof to)
            return gt_err_set(err, GT_ELIMIT, "the ledger's path under %s is too long", dir);
        remove(to);
        FILE *a = fopen(from, "rb");
        if (!a) {
            if (i == 0) return gt_err_set(err, GT_EIO, "cannot read %s", from);
            continue;
        }
        FILE *b = fopen(to, "wb");
        size_t n;
        int bad = !b;
        while (!bad && (n = fread(buf, 1, sizeof buf, a)) > 0) bad = fwrite(buf, 1, n, b) != n;
        fclose(a);
        if (b && fclose(b)) bad = 1;
        if (bad) return gt_err_set(err, GT_EIO, "cannot write %s", to);
    }
    return 0;
}

/* Signs kind with key's next nonce on l and submits it as its own block. */
static int act_local(gt_ledger *l, const gt_key *key, const char *kind, json_t *fields, gt_err *err) {
    static gt_action a; /* large; one at a time */
    gt_addr from;
    gt_account acc;
    gt_result res;
    gt_key_address(key, &from);
    int rc = gt_ledger_account(l, &from, &acc, err);
    if (rc) return rc;
    gt_action_init(&a, gt_action_kind_by_name(kind), gt_ledger_domain(l), &from, acc.nonce);
    if ((rc = fill_json(fields, &a, err)) || (rc = gt_action_sign(&a, key, err))) return rc;
    gt_ledger_submit(l, &a, 1, &res);
    return res.code ? gt_err_set(err, res.code, "%s: %s", kind, res.msg) : 0;
}

typedef struct claim_arg {
    uint64_t epoch;
    gt_addr who;
    json_t *out;
} claim_arg;
static int read_claim(void *arg, gt_tx *tx, gt_err *err) {
    claim_arg *c = arg;
    return (c->out = gt_fund_claim_get(tx->db, c->epoch, &c->who, err)) ? 0 : err->code;
}

/* Closes the epoch and has ana (a worker with points) claim with her proof. */
static int close_and_claim(const demo_fund *f, gt_ledger *l, gt_err *err) {
    json_t *j = json_pack("{s:I}", "epoch", (json_int_t)f->epoch);
    int rc = act_local(l, &f->faucet_key, "airdrop_close", j, err);
    json_decref(j);
    if (rc) return rc;
    claim_arg c = {f->epoch, {{0}}, NULL};
    gt_key_address(&f->claimer_key, &c.who);
    if ((rc = gt_ledger_read(l, read_claim, &c, err))) return rc;
    gt_account before, after;
    gt_ledger_account(l, &c.who, &before, NULL);
    j = json_pack("{s:I,s:O,s:O,s:O}", "epoch", (json_int_t)f->epoch, "index", json_object_get(c.out, "index"),
                  "amount", json_object_get(c.out, "amount"), "proof", json_object_get(c.out, "proofHex"));
    /* amount comes as a decimal string: the action wants an integer */
    const char *amount = json_string_value(json_object_get(c.out, "amount"));
    json_object_set_new(j, "amount", json_integer((json_int_t)strtoull(amount ? amount : "0", NULL, 10)));
    rc = act_local(l, &f->claimer_key, "airdrop_claim", j, err);
    gt_ledger_account(l, &c.who, &after, NULL);
    gt_err again = {0};
    if (!rc && !act_local(l, &f->claimer_key, "airdrop_claim", j, &again))
        rc = gt_err_set(err, GT_ESTATE, "a second claim of the same leaf was paid");
    json_decref(j);
    char a1[GT_AMOUNT_STR_MAX];
    if (!rc)
        demo_say("  ana claims %s with a proof of %zu hashes against root %.18s…; a second claim: %s",
                 gt_amount_format(after.balance - before.balance, a1), json_array_size(json_object_get(c.out, "proof")),
                 json_string_value(json_object_get(c.out, "root")), again.msg);
    if (!rc)
        report(f, "airdrop",
               json_pack("{s:I,s:s,s:o,s:I,s:O,s:b,s:s}", "epoch", (json_int_t)f->epoch, "claimer", "ana", "claimed",
                         demo_json_tokens(after.balance - before.balance), "proofHashes",
                         (json_int_t)json_array_size(json_object_get(c.out, "proof")), "root",
                         json_object_get(c.out, "root"), "secondClaimRefused", again.code != 0, "secondClaim",
                         again.msg));
    json_decref(c.out);
    return rc;
}

int demo_fund_airdrop(const demo_fund *f, gt_err *err) {
    if (!f->have_epoch) return 0;
    char dir[PATH_MAX + 32], path[PATH_MAX + 48];
    snprintf(dir, sizeof dir, "%s/airdrop-preview", f->home);
    snprintf(path, sizeof path, "%s/ledger.db", dir);
    int rc = copy_ledger(f->home, dir, err);
    if (rc) return rc;
    gt_ledger *l = NULL;
    if ((rc = gt_ledger_open(path, 0, &l, err))) return rc;
    /* from ledger format 16 an epoch closes only a grace after its end */
    uint64_t close_from = (f->epoch + 1) * GT_FUND_EPOCH_S + GT_AIRDROP_CLOSE_GRACE_S + 1;
    gt_ledger_set_time(l, close_from);
    demo_say("\n  airdrop: epoch %llu ends at midnight UTC of block time and closes a day later (the grace for"
             " workers paid late in it), so on a copy of the ledger (%s) whose clock is moved to then:",
             (unsigned long long)f->epoch, dir);
    rc = close_and_claim(f, l, err);
    gt_ledger_close(l);
    gt_verify_report vr;
    if (!rc && !(rc = gt_ledger_verify(path, &vr, NULL, NULL, err))) {
        demo_say("  the copy replays from genesis (gotong ledger verify): %llu blocks", (unsigned long long)vr.blocks);
        json_t *a = f->rep->fund ? json_object_get(f->rep->fund, "airdrop") : NULL;
        if (json_is_object(a)) json_object_set_new(a, "copyReplayedBlocks", json_integer((json_int_t)vr.blocks));
    }
    return rc;
}
