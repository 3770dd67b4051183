/* demo_summary.c: the end of `gotong demo`: what happened, read back
 * from the ledger itself (not from the agents' own accounts of it): balances
 * before and after, tasks by outcome, slashes, reputation, the market's
 * books audited against the escrow locks, supply conservation, and a replay
 * of the whole signed log from genesis. */
#define _GNU_SOURCE /* open_memstream */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/amount.h"
#include "base/hex.h"
#include "demo/demo_int.h"
#include "crypto/addr.h"
#include "ledger/ledger.h"
#include "market/market.h"

typedef struct outcome {
    uint64_t tasks, complete, subtasks, accepted, rejected, missed, disputes_won, disputes_lost, slashed_units;
} outcome;

static uint64_t rep_u(const json_t *total, const char *k) { return (uint64_t)json_integer_value(json_object_get(total, k)); }

/* Counts the tasks: all of them, complete ones, and sub-tasks. */
static int count_tasks(sqlite3 *db, outcome *o, gt_err *err) {
    for (uint64_t off = 0;;) {
        gt_market_task_filter f = {.status = -1};
        json_t *page = gt_market_tasks_list(db, &f, off, GT_MARKET_PAGE_MAX, err);
        if (!page) return err->code;
        size_t i;
        json_t *t;
        json_array_foreach(json_object_get(page, "tasks"), i, t) {
            o->tasks++;
            const char *st = json_string_value(json_object_get(t, "status"));
            if (st && !strcmp(st, "complete")) o->complete++;
            if (!json_is_null(json_object_get(t, "parent"))) o->subtasks++;
        }
        json_t *next = json_object_get(page, "next");
        int more = json_is_integer(next);
        off = more ? (uint64_t)json_integer_value(next) : 0;
        json_decref(page);
        if (!more) return 0;
    }
}

/* What the summary found, gathered before anything is printed. */
typedef struct findings {
    outcome oc;
    uint64_t held_total;   /* everything the agents hold, after */
    json_t *agents;        /* with --json: one object per party */
    json_t *work;          /* {"data": ..., "eval": ...} (demo_work.c) */
    char *work_text;       /* without --json: the work's human text */
    size_t work_len;
    int ok;                /* every check so far passed */
    uint64_t market_locked, supply;
    int audit_ok, conserved, verify_ok;
    gt_err audit_err, verr;
    gt_block head;
    gt_verify_report vr;
    char head_hex[67];
} findings;

/* One party's row: before, after, change and its reputation's counts (or,
 * with --json, its object in fd->agents). Adds to the totals. */
static int party_row(gt_ledger *l, sqlite3 *db, const demo_party *p, int as_json, findings *fd, gt_err *err) {
    gt_account acc;
    json_t *rep = NULL, *total = NULL;
    if (gt_ledger_account(l, &p->addr, &acc, err) || !(rep = gt_market_reputation(db, &p->addr, NULL, err)))
        return err->code ? err->code : GT_EDB;
    total = json_object_get(rep, "total");
    uint64_t before = p->before_balance + p->before_staked + p->before_locked;
    uint64_t after = acc.balance + acc.staked + acc.locked + acc.unbonding;
    fd->held_total += after;
    uint64_t slashed = 0;
    gt_amount_parse(json_string_value(json_object_get(total, "slashed")), &slashed, NULL);
    outcome *oc = &fd->oc;
    oc->accepted += rep_u(total, "accepted");
    oc->rejected += rep_u(total, "rejected");
    oc->missed += rep_u(total, "missed");
    oc->disputes_won += rep_u(total, "disputesWon");
    oc->disputes_lost += rep_u(total, "disputesLost");
    oc->slashed_units += slashed;
    char as[43], a1[GT_AMOUNT_STR_MAX], a2[GT_AMOUNT_STR_MAX], a3[GT_AMOUNT_STR_MAX], a4[GT_AMOUNT_STR_MAX];
    gt_addr_to_str(&p->addr, as);
    if (as_json) {
        json_t *a = json_pack("{s:s,s:s,s:s,s:{s:o,s:o,s:o},s:{s:o,s:o,s:o,s:o},s:O}", "name", p->name, "role",
                              p->role, "address", as, "before", "balance", demo_json_tokens(p->before_balance),
                              "staked", demo_json_tokens(p->before_staked), "locked",
                              demo_json_tokens(p->before_locked), "after", "balance", demo_json_tokens(acc.balance),
                              "staked", demo_json_tokens(acc.staked), "locked", demo_json_tokens(acc.locked),
                              "unbonding", demo_json_tokens(acc.unbonding), "reputation", total);
        json_array_append_new(fd->agents, a);
    } else {
        int gain = after >= before;
        char change[GT_AMOUNT_STR_MAX + 1];
        snprintf(change, sizeof change, "%s%s", gain ? "+" : "-",
                 gt_amount_format(gain ? after - before : before - after, a3));
        printf("%-6s %14s %14s %10s   %8llu %8llu %6llu %6llu %6llu %10s\n", p->name, gt_amount_format(before, a1),
               gt_amount_format(after, a2), change, (unsigned long long)rep_u(total, "accepted"),
               (unsigned long long)rep_u(total, "rejected"), (unsigned long long)rep_u(total, "missed"),
               (unsigned long long)rep_u(total, "disputesWon"), (unsigned long long)rep_u(total, "disputesLost"),
               gt_amount_format(slashed, a4));
    }
    json_decref(rep);
    return 0;
}

/* The table of parties, the task counts and the data jobs and evaluations
 * (whose human text is kept for after the totals). A failure is told on
 * stderr and clears fd->ok. */
static void read_activity(gt_ledger *l, sqlite3 *db, const demo_report *r, int as_json, findings *fd) {
    gt_err err = {0};
    if (!as_json)
        printf("\n== summary ==\n\n%-6s %14s %14s %10s   %8s %8s %6s %6s %6s %10s\n", "agent", "before", "after",
               "change", "accepted", "rejected", "missed", "d.won", "d.lost", "slashed");
    for (int i = 0; i < r->n_parties && fd->ok; i++) {
        if (party_row(l, db, &r->parties[i], as_json, fd, &err)) {
            fprintf(stderr, "error: summary: %s\n", err.msg);
            fd->ok = 0;
        }
    }
    if (fd->ok && count_tasks(db, &fd->oc, &err)) {
        fprintf(stderr, "error: summary: %s\n", err.msg);
        fd->ok = 0;
    }
    FILE *wf = as_json ? NULL : open_memstream(&fd->work_text, &fd->work_len);
    int work_ok = 1;
    if (fd->ok && demo_work_summary(db, r, wf, &fd->work, &work_ok, &err)) {
        fprintf(stderr, "error: summary: %s\n", err.msg);
        fd->ok = 0;
    }
    if (wf) fclose(wf);
    fd->ok = fd->ok && work_ok;
}

/* The books: escrow locks match the market's records; supply = minted =
 * what the agents hold. Then closes l and db and replays the whole log
 * (gt_ledger_verify), which must end on the stored head. */
static void check_books(gt_ledger *l, sqlite3 *db, const char *db_path, const demo_report *r, findings *fd) {
    fd->audit_ok = gt_market_audit(db, &fd->market_locked, &fd->audit_err) == 0;
    fd->supply = gt_ledger_supply(l);
    fd->conserved = fd->supply + r->burned_units == r->minted_units && fd->held_total == fd->supply;
    gt_ledger_head(l, &fd->head, NULL);
    sqlite3_close(db);
    gt_ledger_close(l);
    fd->verify_ok = gt_ledger_verify(db_path, &fd->vr, NULL, NULL, &fd->verr) == 0;
    char vr_hex[67] = "0x";
    snprintf(fd->head_hex, sizeof fd->head_hex, "0x");
    gt_hex_encode(fd->head.hash, 32, fd->head_hex + 2);
    gt_hex_encode(fd->vr.head_hash, 32, vr_hex + 2);
    if (fd->verify_ok && strcmp(fd->head_hex, vr_hex)) {
        fd->verify_ok = 0;
        snprintf(fd->verr.msg, sizeof fd->verr.msg, "replayed head %s differs from the stored head %s", vr_hex,
                 fd->head_hex);
    }
    fd->ok = fd->ok && fd->audit_ok && fd->conserved && fd->verify_ok;
}

/* The summary as one JSON object on stdout. Clears fd->ok when it cannot be
 * serialised. */
static void print_json(const demo_report *r, findings *fd) {
    const outcome *oc = &fd->oc;
    json_t *out = json_object();
    json_object_set_new(out, "home", json_string(r->home));
    json_object_set_new(out, "model", json_pack("{s:s,s:s,s:b}", "path", r->model_path, "id", r->model_id,
                                                "randomWeights", r->random_model));
    json_object_set_new(out, "rounds", json_integer(r->rounds));
    json_object_set_new(out, "seconds", json_real(r->seconds));
    json_object_set_new(out, "agents", fd->agents);
    fd->agents = NULL;
    json_object_set_new(out, "tasks",
                        json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:o}", "total", (json_int_t)oc->tasks, "complete",
                                  (json_int_t)oc->complete, "subcontracts", (json_int_t)oc->subtasks, "accepted",
                                  (json_int_t)oc->accepted, "rejected", (json_int_t)oc->rejected, "missed",
                                  (json_int_t)oc->missed, "disputesWon", (json_int_t)oc->disputes_won,
                                  "disputesLost", (json_int_t)oc->disputes_lost, "slashed",
                                  demo_json_tokens(oc->slashed_units)));
    if (fd->work) {
        json_object_set(out, "data", json_object_get(fd->work, "data"));
        json_object_set(out, "eval", json_object_get(fd->work, "eval"));
    }
    if (r->fund) json_object_set(out, "fund", r->fund);
    json_object_set_new(out, "supply", json_pack("{s:o,s:o,s:o,s:o,s:b}", "minted",
                                                 demo_json_tokens(r->minted_units), "burned",
                                                 demo_json_tokens(r->burned_units), "ledger",
                                                 demo_json_tokens(fd->supply), "heldByAgents",
                                                 demo_json_tokens(fd->held_total), "conserved", fd->conserved));
    json_object_set_new(out, "audit", json_pack("{s:b,s:o,s:s}", "ok", fd->audit_ok, "marketLocked",
                                                demo_json_tokens(fd->market_locked), "message",
                                                fd->audit_ok ? "" : fd->audit_err.msg));
    json_object_set_new(out, "head",
                        json_pack("{s:I,s:s}", "height", (json_int_t)fd->head.height, "hash", fd->head_hex));
    json_object_set_new(out, "verify", json_pack("{s:b,s:I,s:I,s:s}", "ok", fd->verify_ok, "blocks",
                                                 (json_int_t)fd->vr.blocks, "actions", (json_int_t)fd->vr.actions,
                                                 "message", fd->verify_ok ? "" : fd->verr.msg));
    json_object_set_new(out, "ok", json_boolean(fd->ok));
    char *s = json_dumps(out, JSON_COMPACT);
    if (s) printf("%s\n", s);
    else fprintf(stderr, "error: cannot serialise the demo's JSON summary\n"), fd->ok = 0;
    free(s);
    json_decref(out);
}

/* The totals and checks as people read them, the work's text, and where to
 * look around next. */
static void print_text(const demo_report *r, const findings *fd) {
    const outcome *oc = &fd->oc;
    char a1[GT_AMOUNT_STR_MAX], a2[GT_AMOUNT_STR_MAX], a3[GT_AMOUNT_STR_MAX], a4[GT_AMOUNT_STR_MAX];
    char a5[GT_AMOUNT_STR_MAX];
    printf("\ntasks           %llu posted (%llu of them sub-tasks: subcontracts), %llu complete\n"
           "outcomes        %llu accepted, %llu rejected, %llu missed submissions; disputes: %llu won, %llu lost\n"
           "                (a decided dispute counts once for its winner and once for its loser)\n"
           "slashed         %s in all (stakes of rejected work, bonds of wrong rejections)\n"
           "supply          minted %s, burned %s, on the ledger %s, held by the agents %s: %s\n"
           "market books    %s%s\n"
           "ledger head     block %llu %s\n"
           "verify          %s: replayed %llu blocks, %llu signed actions from genesis%s%s\n"
           "time            %.1f s\n",
           (unsigned long long)oc->tasks, (unsigned long long)oc->subtasks, (unsigned long long)oc->complete,
           (unsigned long long)oc->accepted, (unsigned long long)oc->rejected, (unsigned long long)oc->missed,
           (unsigned long long)oc->disputes_won, (unsigned long long)oc->disputes_lost,
           gt_amount_format(oc->slashed_units, a1), gt_amount_format(r->minted_units, a2),
           gt_amount_format(r->burned_units, a5), gt_amount_format(fd->supply, a3),
           gt_amount_format(fd->held_total, a4),
           fd->conserved ? "conserved" : "NOT CONSERVED",
           fd->audit_ok ? "escrow locks match every task and slot" : "MISMATCH: ", fd->audit_ok ? "" : fd->audit_err.msg,
           (unsigned long long)fd->head.height, fd->head_hex, fd->verify_ok ? "ok" : "FAILED",
           (unsigned long long)fd->vr.blocks, (unsigned long long)fd->vr.actions, fd->verify_ok ? "" : ": ",
           fd->verify_ok ? "" : fd->verr.msg, r->seconds);
    if (fd->work_text) fputs(fd->work_text, stdout);
    if (r->random_model)
        printf("model           random weights (%s): the completions are noise, but verified noise:\n"
               "                every honest re-run reproduced them byte for byte; the data job's verdicts\n"
               "                come from dedup of repeated topics, not from what the samples say, and the\n"
               "                benchmark score is what random weights get on 2-choice questions\n", r->model_id);
    printf("\ndata directory  %s  (password for every wallet in %s/password.txt)\n"
           "look around:\n"
           "  every signed action, block by block   gotong ledger log --home %s\n"
           "  replay it all from genesis            gotong ledger verify --home %s\n"
           "  serve it over HTTP, then ...          gotong node --home %s &\n"
           "  ... the tasks (--json for all)        gotong task list\n"
           "  ... one task: slots, verdicts         gotong task show 0xTASK\n"
           "  ... the agents and their reputation   gotong agents\n"
           "  the leaderboard (--all: rejected too) gotong eval leaderboard --home %s\n"
           "  the exported datasets                 ls %s/datasets\n",
           r->home, r->home, r->home, r->home, r->home, r->home, r->home);
}

int demo_summary(const demo_report *r, int as_json) {
    char db_path[4200];
    snprintf(db_path, sizeof db_path, "%s/ledger.db", r->home);
    gt_err err = {0};
    gt_ledger *l = NULL;
    sqlite3 *db = NULL;
    if (gt_ledger_open(db_path, GT_LEDGER_READONLY, &l, &err) ||
        sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
        if (!err.msg[0]) gt_err_set(&err, GT_EDB, "cannot open %s", db_path);
        fprintf(stderr, "error: summary: %s\n", err.msg);
        gt_ledger_close(l);
        sqlite3_close(db);
        return 1;
    }
    static findings fd; /* large (two reports, two errors); one summary per process */
    memset(&fd, 0, sizeof fd);
    fd.ok = 1;
    fd.agents = json_array();
    read_activity(l, db, r, as_json, &fd);
    check_books(l, db, db_path, r, &fd); /* closes l and db */
    if (as_json) print_json(r, &fd);
    else print_text(r, &fd);
    json_decref(fd.agents);
    json_decref(fd.work);
    free(fd.work_text);
    return fd.ok ? 0 : 1;
}
