/* leaderboard.c: read-only views of the work tables for the CLI and the
 * node: models ranked by attested score with who attested and how many
 * re-executions agreed (only scores that drawn, bonded judges accepted are
 * ranked; the others are listed unranked with their status), one attestation with its co-signs, and a job's
 * published dataset. A score is ranked only against scores of the same
 * items: a board per (bench, items), fullest first. An eval spec's `limit`
 * takes the first N items and the poster chooses N, so a model's promoter
 * who ran it offline could post the prefix on which it scores best (one
 * right item: 100%) and, with an honest run the panel accepts, rank above a
 * better model's run of more items. Each entry also shows the spec's
 * `check` (items each validator re-executes, which the poster chooses and
 * may set to 1) and the items its backing judges re-executed, so a score
 * one re-executed item stands behind is not read as one many do; a score
 * judged under a check below min(items, GT_WORK_EVAL_CHECK_FLOOR) is listed
 * unranked, saying so (a made-up run passes one re-executed item with the
 * odds of its honest lines). Only
 * SELECTs: they run on a read-only connection beside the ledger's writer.
 * An attestation's standing comes from its eval task's slot in the market
 * (gt_market_slot_ref_get), so the leaderboard shows what the market
 * decided, not what the attester claims. */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/hex.h"
#include "base/vec.h"
#include "crypto/addr.h"
#include "ledger/row.h"
#include "market/market.h"
#include "work/work.h"
#include "work/work_impl.h"

static json_t *j_hex(const void *b, size_t n) {
    char s[2 + 64 + 1];
    s[0] = '0', s[1] = 'x';
    gt_hex_encode(b, n, s + 2);
    return json_string(s);
}
static json_t *j_sha(const void *b) {
    char s[7 + 64 + 1];
    memcpy(s, "sha256:", 7);
    gt_hex_encode(b, 32, s + 7);
    return json_string(s);
}
static json_t *j_addr(const void *b20) {
    gt_addr a;
    memcpy(a.b, b20, 20);
    char s[43];
    gt_addr_to_str(&a, s);
    return json_string(s);
}
static json_t *j_u64(uint64_t v) { return json_integer((json_int_t)v); }

/* "0.815000" from parts per million, without floating point. */
static json_t *j_ppm(uint64_t ppm) {
    char s[32];
    snprintf(s, sizeof s, "%llu.%06llu", (unsigned long long)(ppm / 1000000), (unsigned long long)(ppm % 1000000));
    return json_string(s);
}

enum { ST_ACCEPTED = 0, ST_PENDING = 1, ST_DISPUTED = 2, ST_UNVERIFIED = 3, ST_REJECTED = 4 };
static const char *const status_names[] = {"accepted", "pending", "disputed", "unverified", "rejected"};

/* The standing of an attestation of (task, slot, attempt, results) into
 * *status; *poster gets the task's poster and, when spec is not NULL, spec
 * the task's spec and *posted the block that posted it (all zero when the
 * task is gone). An
 * acceptance by a poster-verified task's own poster is "unverified": a
 * poster can be the attester's sybil, so only an evaluator, a quorum or a
 * dispute accepts. A task that is gone rejects; a damaged market row is an
 * error (GT_EDB), not a rejection that hides it. */
static int att_status(sqlite3 *db, const uint8_t task[32], uint64_t slot, uint64_t attempt, const uint8_t results[32],
                      gt_addr *poster, uint8_t *spec, uint64_t *posted, int *status, gt_err *err) {
    gt_market_slot_ref ref;
    memset(poster, 0, sizeof *poster);
    if (spec) memset(spec, 0, 32), *posted = 0;
    *status = ST_REJECTED;
    int rc = gt_market_slot_ref_get(db, task, slot, &ref, err);
    if (rc) return rc == GT_ENOTFOUND ? 0 : rc;
    *poster = ref.poster;
    if (spec) memcpy(spec, ref.spec, 32), *posted = ref.posted_height;
    if (ref.attempt != attempt || memcmp(ref.result, results, 32)) return 0; /* the slot moved on */
    int own = ref.policy == GT_POLICY_POSTER && gt_addr_eq(&ref.verdict_by, &ref.poster);
    switch (ref.state) {
    case GT_SLOT_SUBMITTED: *status = ST_PENDING; break;
    case GT_SLOT_ACCEPTED: *status = own ? ST_UNVERIFIED : ST_ACCEPTED; break;
    case GT_SLOT_DISPUTED: *status = ST_DISPUTED; break;
    case GT_SLOT_PAID:
        /* Paid with nobody's verdict (ledgers from before a verify timeout
         * refunded), or on the poster's own word. */
        if (own) *status = ST_UNVERIFIED;
        else *status = ref.accept || !gt_addr_is_zero(&ref.verdict_by) || ref.policy == GT_POLICY_QUORUM ? ST_ACCEPTED
                                                                                                      : ST_UNVERIFIED;
        break;
    default: break;
    }
    return 0;
}

/* The bonded backing of an attestation: its agreeing co-signers who also
 * cast an accepting vote of a drawn judging panel on its slot and attempt
 * (the quorum's verify panel, where the co-sign is the vote, or a dispute
 * panel, where the co-sign is the vote or, as agents do, a plain co-sign is
 * followed by a dispute_vote), counted (*n), weighed by the panel weight
 * each vote bonded (*stake, base units), and the items their co-signs say
 * they re-executed, summed (*items: what stands behind the score; one
 * judge's one item is a check a forged run passes with the odds of its
 * honest lines). Such a vote locked
 * GT_MARKET_JUDGE_SLASH_PCT percent of its weight as a judge bond while the
 * judgement was open and lost it if the panel decided the other way
 * (panel.c); its weight was fixed from stake when the panel opened, one seat
 * per address, so a token passed from address to address after the panel
 * opened adds nothing. Other co-signs (anyone staked, after the fact) and an
 * evaluator's verdict (chosen by the poster, not drawn, not bonded) are shown
 * but back nothing. 0, or GT_EDB: a read that fails is an error, so nothing
 * ranks on it. */
static int att_backed(sqlite3 *db, const uint8_t id[32], uint64_t *n, uint64_t *stake, uint64_t *items, gt_err *err) {
    sqlite3_stmt *q;
    *n = *stake = *items = 0;
    /* One co-sign per (attestation, cosigner): max() only names its count. */
    int rc = wk_prepare(db,
                        "SELECT count(*), coalesce(sum(w),0), coalesce(sum(k),0) FROM (SELECT max(v.weight) AS w, "
                        "max(c.items_checked) AS k FROM wk_cosigns c "
                        "JOIN wk_attestations a ON a.id=c.attestation JOIN mk_votes v ON v.task=a.task AND v.slot=a.slot "
                        "AND v.attempt=a.attempt AND v.voter=c.cosigner AND v.accept=1 "
                        "WHERE c.attestation=? AND c.agree=1 GROUP BY c.cosigner)",
                        &q, err);
    if (rc) return rc;
    sqlite3_bind_blob(q, 1, id, 32, SQLITE_STATIC);
    if ((rc = sqlite3_step(q)) != SQLITE_ROW) rc = gt_err_set(err, GT_EDB, "reading co-signs: %s", sqlite3_errmsg(db));
    else if (!(rc = gt_row_amount(q, 0, n, "wk_cosigns", err)) && !(rc = gt_row_amount(q, 1, stake, "mk_votes", err)))
        rc = gt_row_amount(q, 2, items, "wk_cosigns", err);
    sqlite3_finalize(q);
    return rc;
}

typedef struct entry {
    json_t *obj;
    char bench[GT_WORK_BENCH_NAME_MAX + 1];
    uint8_t model[32], bench_hash[32], spec[32]; /* spec: the task's (zero when it is gone) */
    uint64_t score, items, agreed, backed, backed_stake, backed_items, height;
    uint64_t posted; /* the block that posted the task (0 when it is gone) */
    uint64_t check; /* the spec's check, 0 when unknown; found only when check_done */
    int status, check_done;
    json_t *others; /* the other attestations of the same (bench, items, model) */
} entry;

/* min(items, GT_WORK_EVAL_CHECK_FLOOR), at least 1 (a spec's check is). */
uint64_t gt_work_eval_check_floor(uint64_t items) {
    return items < 1 ? 1 : items < GT_WORK_EVAL_CHECK_FLOOR ? items : GT_WORK_EVAL_CHECK_FLOOR;
}

/* Accepted and backed by the bonded stake of drawn judges that re-executed
 * and agreed: what ranks if its check is at the floor. An evaluator's or the
 * poster's own acceptance, a pending or unverified slot back nothing a bonded
 * verifier accepted (issue 12). */
static int is_backed(const entry *e) { return e->status == ST_ACCEPTED && e->backed_stake > 0; }

/* Ranked: backed (is_backed) under a spec whose check is at least
 * gt_work_eval_check_floor(items); assumes att_entry found the check of a
 * backed entry. Any other is listed with its status, unranked. */
static int is_ranked(const entry *e) {
    return is_backed(e) && e->check_done && e->check >= gt_work_eval_check_floor(e->items);
}

/* Better standing first: ranked, then status, then the bonded stake of the drawn judges
 * that re-executed and agreed, then their number; on a tie the one already
 * standing stays: a later attestation replaces an entry only by being better
 * backed, never by coming later, nor by gathering more plain co-signs (which
 * bond nothing). */
static int better(const entry *a, const entry *b) {
    if (is_ranked(a) != is_ranked(b)) return is_ranked(a);
    if (a->status != b->status) return a->status < b->status;
    if (a->backed_stake != b->backed_stake) return a->backed_stake > b->backed_stake;
    if (a->backed != b->backed) return a->backed > b->backed;
    return a->height < b->height;
}

/* A short line on an attestation that does not stand for its (bench, model). */
static json_t *other_json(const entry *e) {
    return json_pack("{s:O,s:O,s:I,s:s,s:I,s:I}", "attestation", json_object_get(e->obj, "attestation"), "attester",
                     json_object_get(e->obj, "attester"), "scorePpm", (json_int_t)e->score, "status",
                     status_names[e->status], "backed", (json_int_t)e->backed, "backedStake", (json_int_t)e->backed_stake);
}

/* Board order: by bench, then its boards by items (the fullest run
 * first), then ranked entries by score. */
static int by_rank(const void *pa, const void *pb) {
    const entry *a = pa, *b = pb;
    int c = strcmp(a->bench, b->bench);
    if (c) return c;
    if (a->items != b->items) return a->items > b->items ? -1 : 1;
    if (is_ranked(a) != is_ranked(b)) return is_ranked(a) ? -1 : 1;
    if (a->score != b->score) return a->score > b->score ? -1 : 1;
    if (a->status != b->status) return a->status - b->status;
    return memcmp(a->model, b->model, 32);
}

#define ATT_COLS "id,attester,task,slot,attempt,model,bench,bench_hash,results_root,score_ppm,items,results,height,agreed,disagreed,checked"

/* An attestation row as stored (ATT_COLS). */
typedef struct att_view {
    uint8_t id[32], task[32], model[32], bench_hash[32], results_root[32], results[32];
    gt_addr attester;
    char bench[GT_WORK_BENCH_NAME_MAX + 1];
    uint64_t slot, attempt, score, items, height, agreed, disagreed, checked;
} att_view;

/* Reads the current row of q (SELECT ATT_COLS) strictly: 0, or GT_EDB
 * naming the damaged column. */
static int att_read(sqlite3_stmt *q, att_view *r, gt_err *err) {
    static const char *const t = "wk_attestations";
    int rc = gt_row_blob(q, 0, r->id, 32, t, err);
    if (!rc) rc = gt_row_blob(q, 1, r->attester.b, 20, t, err);
    if (!rc) rc = gt_row_blob(q, 2, r->task, 32, t, err);
    if (!rc) rc = gt_row_amount(q, 3, &r->slot, t, err);
    if (!rc) rc = gt_row_amount(q, 4, &r->attempt, t, err);
    if (!rc) rc = gt_row_blob(q, 5, r->model, 32, t, err);
    if (!rc) rc = gt_row_text(q, 6, r->bench, sizeof r->bench, t, err);
    if (!rc) rc = gt_row_blob(q, 7, r->bench_hash, 32, t, err);
    if (!rc) rc = gt_row_blob(q, 8, r->results_root, 32, t, err);
    if (!rc) rc = gt_row_amount(q, 9, &r->score, t, err);
    if (!rc && r->score > GT_WORK_SCORE_PPM_MAX) rc = gt_row_damaged(q, 9, t, "a score of at most 1000000 ppm", err);
    if (!rc) rc = gt_row_amount(q, 10, &r->items, t, err);
    if (!rc) rc = gt_row_blob(q, 11, r->results, 32, t, err);
    if (!rc) rc = gt_row_amount(q, 12, &r->height, t, err);
    if (!rc) rc = gt_row_amount(q, 13, &r->agreed, t, err);
    if (!rc) rc = gt_row_amount(q, 14, &r->disagreed, t, err);
    if (!rc) rc = gt_row_amount(q, 15, &r->checked, t, err);
    return rc;
}

/* Finds e's check (once): the items each validator re-executes under the
 * eval task's spec (the poster chose it, 1 to GT_WORK_EVAL_MAX_CHECK), as
 * the attest rule found it; 0 when it cannot be (the task is gone, or the
 * ledger predates the rule that bound attestations to specs). Up to
 * GT_WORK_EVAL_MAX_CHECK hashes, so only for a backed or shown entry. */
static void entry_check_find(entry *e) {
    if (e->check_done) return;
    const gt_bench_ref *reg = gt_bench_registry_find(e->bench);
    e->check = reg && !wk_is_zero32(e->spec)
                   ? wk_eval_spec_check(e->model, e->bench, e->bench_hash, e->items, reg, e->spec)
                   : 0;
    e->check_done = 1;
}

/* An attestation's standing and backing into e (its sort keys too, the
 * check of a backed one: whether it ranks turns on it). 0 or the error of
 * a damaged row. */
static int att_entry(sqlite3 *db, const att_view *r, entry *e, gt_err *err) {
    memset(e, 0, sizeof *e);
    memcpy(e->bench, r->bench, sizeof e->bench);
    memcpy(e->model, r->model, 32);
    memcpy(e->bench_hash, r->bench_hash, 32);
    e->score = r->score, e->items = r->items, e->height = r->height, e->agreed = r->agreed;
    gt_addr poster;
    int rc = att_status(db, r->task, r->slot, r->attempt, r->results, &poster, e->spec, &e->posted, &e->status, err);
    if (!rc) rc = att_backed(db, r->id, &e->backed, &e->backed_stake, &e->backed_items, err);
    if (!rc && is_backed(e)) entry_check_find(e);
    return rc;
}

/* Sets "check" on e's object (null when unknown, entry_check_find). */
static void entry_check_set(entry *e) {
    entry_check_find(e);
    json_object_set_new(e->obj, "check", e->check ? j_u64(e->check) : json_null());
}

/* Sets "unranked" on e's object: null when it ranks, else the first reason
 * it does not (its status, no bonded backing, or its check under the floor),
 * so a score listed without a rank says why. Assumes entry_check_set ran. */
static void entry_unranked_set(const entry *e) {
    char why[128];
    unsigned long long floor_n = (unsigned long long)gt_work_eval_check_floor(e->items);
    if (is_ranked(e)) {
        json_object_set_new(e->obj, "unranked", json_null());
        return;
    }
    if (e->status != ST_ACCEPTED) snprintf(why, sizeof why, "status %s", status_names[e->status]);
    else if (!e->backed_stake) snprintf(why, sizeof why, "no drawn, bonded judge's vote backs it");
    else if (!e->check)
        snprintf(why, sizeof why, "check unknown (the task's spec is not found), the floor is min(items,%d)=%llu",
                 GT_WORK_EVAL_CHECK_FLOOR, floor_n);
    else
        snprintf(why, sizeof why, "check %llu is below the floor min(items,%d)=%llu", (unsigned long long)e->check,
                 GT_WORK_EVAL_CHECK_FLOOR, floor_n);
    json_object_set_new(e->obj, "unranked", json_string(why));
}

/* One attestation row (ATT_COLS) as JSON; fills e's sort keys. NULL (err
 * set, GT_EDB) when a row it reads is damaged: nothing is skipped, so a
 * damaged attestation cannot leave the board showing another one. */
static json_t *att_json(sqlite3 *db, sqlite3_stmt *q, entry *e, gt_err *err) {
    att_view r;
    if (att_read(q, &r, err) || att_entry(db, &r, e, err)) return NULL;
    json_t *o = json_object();
    json_object_set_new(o, "bench", json_string(e->bench));
    json_object_set_new(o, "benchHash", j_sha(r.bench_hash));
    json_object_set_new(o, "model", j_sha(e->model));
    json_object_set_new(o, "scorePpm", j_u64(e->score));
    json_object_set_new(o, "score", j_ppm(e->score));
    json_object_set_new(o, "items", j_u64(r.items));
    json_object_set_new(o, "attester", j_addr(r.attester.b));
    json_object_set_new(o, "attestation", j_hex(r.id, 32));
    json_object_set_new(o, "task", j_hex(r.task, 32));
    json_object_set_new(o, "slot", j_u64(r.slot));
    json_object_set_new(o, "attempt", j_u64(r.attempt));
    json_object_set_new(o, "height", j_u64(e->height));
    json_object_set_new(o, "status", json_string(status_names[e->status]));
    json_object_set_new(o, "results", j_sha(r.results));
    json_object_set_new(o, "resultsRoot", j_hex(r.results_root, 32));
    /* A held-out score: the block whose draw seed drew its items (every
     * drawn built-in draws GT_BENCH_DRAW_DELAY after the task's post). */
    json_object_set_new(o, "drawBlock", gt_bench_builtin_drawn(e->bench) && e->posted
                                            ? j_u64(e->posted + GT_BENCH_DRAW_DELAY) : json_null());
    json_t *cs = json_object();
    json_object_set_new(cs, "agreed", j_u64(e->agreed));
    json_object_set_new(cs, "backed", j_u64(e->backed));
    json_object_set_new(cs, "backedStake", j_u64(e->backed_stake));
    json_object_set_new(cs, "backedItemsChecked", j_u64(e->backed_items));
    json_object_set_new(cs, "disagreed", j_u64(r.disagreed));
    json_object_set_new(cs, "itemsChecked", j_u64(r.checked));
    json_object_set_new(o, "cosigns", cs);
    return o;
}

/* Sets what e's object says of its place: rank (null when 0, unranked),
 * ranked, check and unranked (the reason, entry_unranked_set). */
static void entry_rank_set(entry *e, uint64_t rank) {
    json_object_set_new(e->obj, "rank", rank ? j_u64(rank) : json_null());
    json_object_set_new(e->obj, "ranked", json_boolean(rank != 0));
    entry_check_set(e);
    entry_unranked_set(e);
}

json_t *gt_work_leaderboard(sqlite3 *db, const char *bench, int all, gt_err *err) {
    sqlite3_stmt *q;
    if (wk_prepare(db, "SELECT " ATT_COLS " FROM wk_attestations WHERE (?1 IS NULL OR bench=?1) ORDER BY height, id", &q, err))
        return NULL;
    if (bench) sqlite3_bind_text(q, 1, bench, -1, SQLITE_STATIC);
    else sqlite3_bind_null(q, 1);
    gt_vec ents; /* entry */
    gt_vec_init(&ents, sizeof(entry));
    entry *v = NULL;
    size_t n = 0;
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        entry e;
        json_t *o = att_json(db, q, &e, err);
        if (!o) { /* a damaged row (err set): an error, not a board without it */
            rc = GT_EDB;
            break;
        }
        e.obj = o;
        size_t k = n;
        if (!all)
            for (k = 0; k < n; k++)
                if (!strcmp(v[k].bench, e.bench) && v[k].items == e.items && !memcmp(v[k].model, e.model, 32)) break;
        if (k < n) { /* the same (bench, items, model): the better-standing one stands, the other is listed */
            if (better(&e, &v[k])) {
                e.others = v[k].others;
                json_array_append_new(e.others, other_json(&v[k]));
                json_decref(v[k].obj);
                v[k] = e;
            } else {
                json_array_append_new(v[k].others, other_json(&e));
                json_decref(o);
            }
            continue;
        }
        e.others = json_array();
        if (gt_vec_push(&ents, &e)) { json_decref(o); json_decref(e.others); rc = SQLITE_NOMEM; break; }
        v = ents.data;
        n = ents.n;
    }
    sqlite3_finalize(q);
    json_t *out = NULL;
    if (rc == GT_EDB) {
        /* the message is set */
    } else if (rc != SQLITE_DONE) {
        gt_err_set(err, rc == SQLITE_NOMEM ? GT_ENOMEM : GT_EDB, "reading attestations: %s",
                   rc == SQLITE_NOMEM ? "out of memory" : sqlite3_errmsg(db));
    } else {
        if (n) qsort(v, n, sizeof *v, by_rank);
        json_t *arr = json_array();
        uint64_t rank = 0;
        const entry *prev = NULL;
        for (size_t i = 0; i < n; i++) {
            /* A rejected attestation is never ranked; without `all` it is
             * seen only in the others of its (bench, items, model). One no bonded
             * verifier accepted is listed after the ranked ones, rank null. */
            if (!all && v[i].status == ST_REJECTED) continue;
            if (json_array_size(arr) >= GT_WORK_LEADERBOARD_MAX) break;
            int ranked = is_ranked(&v[i]);
            if (ranked) {
                rank = prev && !strcmp(v[i].bench, prev->bench) && v[i].items == prev->items ? rank + 1 : 1;
                prev = &v[i];
            }
            entry_rank_set(&v[i], ranked ? rank : 0);
            if (!all) json_object_set(v[i].obj, "others", v[i].others);
            json_array_append(arr, v[i].obj);
        }
        out = json_object();
        json_object_set_new(out, "bench", bench ? json_string(bench) : json_null());
        json_object_set_new(out, "entries", arr);
    }
    for (size_t i = 0; i < n; i++) {
        json_decref(v[i].obj);
        json_decref(v[i].others);
    }
    gt_free(v);
    return out;
}

/* One co-sign row (cosigner, items_checked, agree, evidence, height, role)
 * as JSON; NULL (err set, GT_EDB) when it is damaged. */
static json_t *cosign_json(sqlite3_stmt *q, gt_err *err) {
    static const char *const t = "wk_cosigns", *const roles[] = {"cosign", "verdict", "dispute-vote"};
    gt_addr who;
    uint8_t ev[32];
    uint64_t items, height;
    int agree, role;
    int rc = gt_row_blob(q, 0, who.b, 20, t, err);
    if (!rc) rc = gt_row_amount(q, 1, &items, t, err);
    if (!rc) rc = gt_row_int(q, 2, &agree, t, err);
    if (!rc && agree != 0 && agree != 1) rc = gt_row_damaged(q, 2, t, "0 or 1", err);
    if (!rc) rc = gt_row_blob(q, 3, ev, 32, t, err);
    if (!rc) rc = gt_row_amount(q, 4, &height, t, err);
    if (!rc) rc = gt_row_int(q, 5, &role, t, err);
    if (!rc && (role < 0 || role > 2)) rc = gt_row_damaged(q, 5, t, "a role 0..2", err);
    if (rc) return NULL;
    json_t *c = json_object();
    json_object_set_new(c, "cosigner", j_addr(who.b));
    json_object_set_new(c, "itemsChecked", j_u64(items));
    json_object_set_new(c, "agree", json_boolean(agree));
    json_object_set_new(c, "evidence", wk_is_zero32(ev) ? json_null() : j_sha(ev));
    json_object_set_new(c, "height", j_u64(height));
    json_object_set_new(c, "role", json_string(roles[role]));
    return c;
}

/* The co-signs of attestation id, oldest first, as a JSON array; NULL (err
 * set) when a row is damaged or the read fails. */
static json_t *cosigns_json(sqlite3 *db, const uint8_t id[32], gt_err *err) {
    sqlite3_stmt *q;
    if (wk_prepare(db, "SELECT cosigner,items_checked,agree,evidence,height,role FROM wk_cosigns WHERE attestation=? "
                       "ORDER BY height, cosigner", &q, err))
        return NULL;
    sqlite3_bind_blob(q, 1, id, 32, SQLITE_STATIC);
    json_t *arr = json_array();
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        json_t *c = cosign_json(q, err);
        if (!c) break;
        json_array_append_new(arr, c);
    }
    if (rc == SQLITE_ROW) rc = GT_EDB; /* damaged: the message is set */
    else if (rc != SQLITE_DONE) rc = gt_err_set(err, GT_EDB, "reading co-signs: %s", sqlite3_errmsg(db));
    else rc = 0;
    sqlite3_finalize(q);
    if (rc) {
        json_decref(arr);
        return NULL;
    }
    return arr;
}

json_t *gt_work_attestation_get(sqlite3 *db, const uint8_t id[32], gt_err *err) {
    sqlite3_stmt *q;
    if (wk_prepare(db, "SELECT " ATT_COLS " FROM wk_attestations WHERE id=?", &q, err)) return NULL;
    sqlite3_bind_blob(q, 1, id, 32, SQLITE_STATIC);
    entry e;
    json_t *o = NULL;
    int rc = sqlite3_step(q);
    if (rc == SQLITE_ROW) o = att_json(db, q, &e, err); /* NULL: damaged, err set */
    sqlite3_finalize(q);
    char h[19];
    if (rc == SQLITE_DONE) gt_err_set(err, GT_ENOTFOUND, "no attestation %s… on this ledger", wk_short(id, h));
    else if (rc != SQLITE_ROW) gt_err_set(err, GT_EDB, "reading attestation: %s", sqlite3_errmsg(db));
    if (!o) return NULL;
    e.obj = o;
    entry_check_set(&e);
    json_t *arr = cosigns_json(db, id, err);
    if (!arr) {
        json_decref(o);
        return NULL;
    }
    json_object_set_new(o, "cosignList", arr);
    return o;
}

int gt_work_attestation_status(sqlite3 *db, const uint8_t id[32], const char **status, gt_err *err) {
    sqlite3_stmt *q;
    *status = NULL;
    if (wk_prepare(db, "SELECT " ATT_COLS " FROM wk_attestations WHERE id=?", &q, err)) return GT_EDB;
    sqlite3_bind_blob(q, 1, id, 32, SQLITE_STATIC);
    att_view r;
    gt_addr poster;
    int st = ST_REJECTED, rc = sqlite3_step(q);
    char h[19];
    if (rc == SQLITE_ROW) {
        rc = att_read(q, &r, err);
        if (!rc) rc = att_status(db, r.task, r.slot, r.attempt, r.results, &poster, NULL, NULL, &st, err);
    } else if (rc == SQLITE_DONE) {
        rc = gt_err_set(err, GT_ENOTFOUND, "no attestation %s… on this ledger", wk_short(id, h));
    } else {
        rc = gt_err_set(err, GT_EDB, "reading attestation: %s", sqlite3_errmsg(db));
    }
    sqlite3_finalize(q);
    assert(st >= ST_ACCEPTED && st <= ST_REJECTED);
    if (!rc) *status = status_names[st];
    return rc;
}

/* The current row of q (task, publisher, root, rows, manifest, height of
 * wk_datasets) as JSON for job; NULL (err set, GT_EDB) when damaged. */
static json_t *dataset_json(sqlite3_stmt *q, const uint8_t job[32], gt_err *err) {
    static const char *const t = "wk_datasets";
    uint8_t task[32], root[32], manifest[32];
    gt_addr publisher;
    uint64_t rows, height;
    int rc = gt_row_blob(q, 0, task, 32, t, err);
    if (!rc) rc = gt_row_blob(q, 1, publisher.b, 20, t, err);
    if (!rc) rc = gt_row_blob(q, 2, root, 32, t, err);
    if (!rc) rc = gt_row_amount(q, 3, &rows, t, err);
    if (!rc) rc = gt_row_blob(q, 4, manifest, 32, t, err);
    if (!rc) rc = gt_row_amount(q, 5, &height, t, err);
    if (rc) return NULL;
    json_t *o = json_object();
    json_object_set_new(o, "job", j_sha(job));
    json_object_set_new(o, "task", j_hex(task, 32));
    json_object_set_new(o, "publisher", j_addr(publisher.b));
    json_object_set_new(o, "root", j_hex(root, 32));
    json_object_set_new(o, "rows", j_u64(rows));
    json_object_set_new(o, "manifest", j_sha(manifest));
    json_object_set_new(o, "height", j_u64(height));
    return o;
}

json_t *gt_work_dataset_get(sqlite3 *db, const uint8_t job[32], gt_err *err) {
    sqlite3_stmt *q;
    if (wk_prepare(db, "SELECT task,publisher,root,rows,manifest,height FROM wk_datasets WHERE job=?", &q, err)) return NULL;
    sqlite3_bind_blob(q, 1, job, 32, SQLITE_STATIC);
    json_t *o = NULL;
    int rc = sqlite3_step(q);
    if (rc == SQLITE_ROW) o = dataset_json(q, job, err); /* NULL: damaged, err set */
    sqlite3_finalize(q);
    char h[19];
    if (rc == SQLITE_DONE) gt_err_set(err, GT_ENOTFOUND, "no dataset published for job %s…", wk_short(job, h));
    else if (rc != SQLITE_ROW) gt_err_set(err, GT_EDB, "reading dataset: %s", sqlite3_errmsg(db));
    return o;
}
