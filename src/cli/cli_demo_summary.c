/* cli_demo_summary.c: the end of `gotong demo`: what happened, read back
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
#include "cli/cli_demo.h"
#include "crypto/addr.h"
#include "ledger/ledger.h"
#include "market/market.h"

typedef struct outcome {
    uint64_t tasks, complete, subtasks, accepted, rejected, missed, disputes_won, disputes_lost, slashed_units;
} outcome;

/* A token amount as a JSON string ("1.5"). */
static json_t *j_amt(uint64_t units) {
    char s[GT_AMOUNT_STR_MAX];
    return json_string(gt_amount_format(units, s));
}

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

int demo_summary(const demo_report *r, int as_json) {
    char db_path[4200];
    snprintf(db_path, sizeof db_path, "%s/ledger.db", r->home);
    gt_err err = {0};
    gt_ledger *l = NULL;
    sqlite3 *db = NULL;
    json_t *out = json_object(), *agents = json_array();
    outcome oc = {0};
    int ok = 1;
    if (gt_ledger_open(db_path, GT_LEDGER_READONLY, &l, &err) ||
        sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
        if (!err.msg[0]) gt_err_set(&err, GT_EDB, "cannot open %s", db_path);
        fprintf(stderr, "error: summary: %s\n", err.msg);
        json_decref(out);
        json_decref(agents);
        gt_ledger_close(l);
        sqlite3_close(db);
        return 1;
    }
    FILE *f = stdout;
    if (!as_json) fprintf(f, "\n== summary ==\n\n%-6s %14s %14s %10s   %8s %8s %6s %6s %6s %10s\n", "agent", "before",
                          "after", "change", "accepted", "rejected", "missed", "d.won", "d.lost", "slashed");
    uint64_t held_total = 0;
    for (int i = 0; i < r->n_parties; i++) {
        const demo_party *p = &r->parties[i];
        gt_account acc;
        json_t *rep = NULL, *total = NULL;
        if (gt_ledger_account(l, &p->addr, &acc, &err) || !(rep = gt_market_reputation(db, &p->addr, NULL, &err))) {
            fprintf(stderr, "error: summary: %s\n", err.msg);
            ok = 0;
            break;
        }
        total = json_object_get(rep, "total");
        uint64_t before = p->before_balance + p->before_staked + p->before_locked;
        uint64_t after = acc.balance + acc.staked + acc.locked + acc.unbonding;
        held_total += after;
        uint64_t slashed = 0;
        gt_amount_parse(json_string_value(json_object_get(total, "slashed")), &slashed, NULL);
        oc.accepted += rep_u(total, "accepted");
        oc.rejected += rep_u(total, "rejected");
        oc.missed += rep_u(total, "missed");
        oc.disputes_won += rep_u(total, "disputesWon");
        oc.disputes_lost += rep_u(total, "disputesLost");
        oc.slashed_units += slashed;
        char as[43], a1[GT_AMOUNT_STR_MAX], a2[GT_AMOUNT_STR_MAX], a3[GT_AMOUNT_STR_MAX], a4[GT_AMOUNT_STR_MAX];
        gt_addr_to_str(&p->addr, as);
        if (as_json) {
            json_t *a = json_pack("{s:s,s:s,s:s,s:{s:o,s:o,s:o},s:{s:o,s:o,s:o,s:o},s:O}", "name", p->name, "role",
                                  p->role, "address", as, "before", "balance", j_amt(p->before_balance), "staked",
                                  j_amt(p->before_staked), "locked", j_amt(p->before_locked), "after", "balance",
                                  j_amt(acc.balance), "staked", j_amt(acc.staked), "locked", j_amt(acc.locked),
                                  "unbonding", j_amt(acc.unbonding), "reputation", total);
            json_array_append_new(agents, a);
        } else {
            int gain = after >= before;
            char change[GT_AMOUNT_STR_MAX + 1];
            snprintf(change, sizeof change, "%s%s", gain ? "+" : "-",
                     gt_amount_format(gain ? after - before : before - after, a3));
            fprintf(f, "%-6s %14s %14s %10s   %8llu %8llu %6llu %6llu %6llu %10s\n", p->name,
                    gt_amount_format(before, a1), gt_amount_format(after, a2), change,
                    (unsigned long long)rep_u(total, "accepted"), (unsigned long long)rep_u(total, "rejected"),
                    (unsigned long long)rep_u(total, "missed"), (unsigned long long)rep_u(total, "disputesWon"),
                    (unsigned long long)rep_u(total, "disputesLost"), gt_amount_format(slashed, a4));
        }
        json_decref(rep);
    }
    if (ok && count_tasks(db, &oc, &err)) {
        fprintf(stderr, "error: summary: %s\n", err.msg);
        ok = 0;
    }
    /* The data jobs and evaluations (human text kept for after the totals). */
    json_t *work = NULL;
    char *work_text = NULL;
    size_t work_len = 0;
    FILE *wf = as_json ? NULL : open_memstream(&work_text, &work_len);
    int work_ok = 1;
    if (ok && demo_work_summary(db, r, wf, &work, &work_ok, &err)) {
        fprintf(stderr, "error: summary: %s\n", err.msg);
        ok = 0;
    }
    if (wf) fclose(wf);
    ok = ok && work_ok;
    /* The books: escrow locks match the market's records; supply = minted. */
    uint64_t market_locked = 0;
    gt_err audit_err = {0};
    int audit_ok = gt_market_audit(db, &market_locked, &audit_err) == 0;
    uint64_t supply = gt_ledger_supply(l);
    int conserved = supply == r->minted_units && held_total == r->minted_units;
    gt_block head;
    memset(&head, 0, sizeof head);
    gt_ledger_head(l, &head, NULL);
    sqlite3_close(db);
    gt_ledger_close(l);
    gt_verify_report vr;
    memset(&vr, 0, sizeof vr);
    gt_err verr = {0};
    int verify_ok = gt_ledger_verify(db_path, &vr, NULL, NULL, &verr) == 0;
    char head_hex[67] = "0x", vr_hex[67] = "0x";
    gt_hex_encode(head.hash, 32, head_hex + 2);
    gt_hex_encode(vr.head_hash, 32, vr_hex + 2);
    if (verify_ok && strcmp(head_hex, vr_hex)) {
        verify_ok = 0;
        snprintf(verr.msg, sizeof verr.msg, "replayed head %s differs from the stored head %s", vr_hex, head_hex);
    }
    ok = ok && audit_ok && conserved && verify_ok;
    char a1[GT_AMOUNT_STR_MAX], a2[GT_AMOUNT_STR_MAX], a3[GT_AMOUNT_STR_MAX];
    if (as_json) {
        json_object_set_new(out, "home", json_string(r->home));
        json_object_set_new(out, "model", json_pack("{s:s,s:s,s:b}", "path", r->model_path, "id", r->model_id,
                                                    "randomWeights", r->random_model));
        json_object_set_new(out, "rounds", json_integer(r->rounds));
        json_object_set_new(out, "seconds", json_real(r->seconds));
        json_object_set_new(out, "agents", agents);
        agents = NULL;
        json_object_set_new(out, "tasks",
                            json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:o}", "total", (json_int_t)oc.tasks, "complete",
                                      (json_int_t)oc.complete, "subcontracts", (json_int_t)oc.subtasks, "accepted",
                                      (json_int_t)oc.accepted, "rejected", (json_int_t)oc.rejected, "missed",
                                      (json_int_t)oc.missed, "disputesWon", (json_int_t)oc.disputes_won,
                                      "disputesLost", (json_int_t)oc.disputes_lost, "slashed", j_amt(oc.slashed_units)));
        if (work) {
            json_object_set(out, "data", json_object_get(work, "data"));
            json_object_set(out, "eval", json_object_get(work, "eval"));
        }
        json_object_set_new(out, "supply", json_pack("{s:o,s:o,s:o,s:b}", "minted", j_amt(r->minted_units), "ledger",
                                                     j_amt(supply), "heldByAgents", j_amt(held_total), "conserved",
                                                     conserved));
        json_object_set_new(out, "audit", json_pack("{s:b,s:o,s:s}", "ok", audit_ok, "marketLocked",
                                                    j_amt(market_locked), "message", audit_ok ? "" : audit_err.msg));
        json_object_set_new(out, "head", json_pack("{s:I,s:s}", "height", (json_int_t)head.height, "hash", head_hex));
        json_object_set_new(out, "verify", json_pack("{s:b,s:I,s:I,s:s}", "ok", verify_ok, "blocks",
                                                     (json_int_t)vr.blocks, "actions", (json_int_t)vr.actions,
                                                     "message", verify_ok ? "" : verr.msg));
        json_object_set_new(out, "ok", json_boolean(ok));
        char *s = json_dumps(out, JSON_COMPACT);
        if (s) printf("%s\n", s);
        else fprintf(stderr, "error: cannot serialise the demo's JSON summary\n"), ok = 0;
        free(s);
    } else {
        fprintf(f,
                "\ntasks           %llu posted (%llu of them sub-tasks: subcontracts), %llu complete\n"
                "outcomes        %llu accepted, %llu rejected, %llu missed submissions; disputes: %llu won, %llu lost\n"
                "                (a decided dispute counts once for its winner and once for its loser)\n"
                "slashed         %s in all (stakes of rejected work, bonds of wrong rejections)\n"
                "supply          minted %s, on the ledger %s, held by the agents %s: %s\n"
                "market books    %s%s\n"
                "ledger head     block %llu %s\n"
                "verify          %s: replayed %llu blocks, %llu signed actions from genesis%s%s\n"
                "time            %.1f s\n",
                (unsigned long long)oc.tasks, (unsigned long long)oc.subtasks, (unsigned long long)oc.complete,
                (unsigned long long)oc.accepted, (unsigned long long)oc.rejected, (unsigned long long)oc.missed,
                (unsigned long long)oc.disputes_won, (unsigned long long)oc.disputes_lost,
                gt_amount_format(oc.slashed_units, a1), gt_amount_format(r->minted_units, a2),
                gt_amount_format(supply, a3), gt_amount_format(held_total, (char[GT_AMOUNT_STR_MAX]){0}),
                conserved ? "conserved" : "NOT CONSERVED", audit_ok ? "escrow locks match every task and slot" : "MISMATCH: ",
                audit_ok ? "" : audit_err.msg, (unsigned long long)head.height, head_hex,
                verify_ok ? "ok" : "FAILED", (unsigned long long)vr.blocks, (unsigned long long)vr.actions,
                verify_ok ? "" : ": ", verify_ok ? "" : verr.msg, r->seconds);
        if (work_text) fputs(work_text, f);
        if (r->random_model)
            fprintf(f, "model           random weights (%s): the completions are noise, but verified noise:\n"
                       "                every honest re-run reproduced them byte for byte; the data job's verdicts\n"
                       "                come from dedup of repeated topics, not from what the samples say, and the\n"
                       "                benchmark score is what random weights get on 2-choice questions\n", r->model_id);
        fprintf(f,
                "\ndata directory  %s  (password for every wallet in %s/password.txt)\n"
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
    json_decref(agents);
    json_decref(out);
    json_decref(work);
    free(work_text);
    return ok ? 0 : 1;
}
