/* test_scenarios.c: runs every tests/scenarios/ *.json file against a real ledger
 * with the market's rules (the format is described in tests/scenarios/README.md;
 * the EVM contracts of a later issue run the same files).
 *
 * For each file: a fresh ledger in a temp dir; the named accounts get keys
 * (deterministic: keccak256 of the name, or the key given) and their mints
 * in block 1; then each step: actions signed by the named account and
 * submitted (each step one block; a "batch" several actions in one block),
 * outcomes compared with "expect", balances, tasks, agents and reputation
 * compared with what the step expects. After every step the books are
 * checked: supply equals what was minted and what all accounts hold, and the
 * market's escrow agrees with the ledger's locks (gt_market_audit). At the end
 * the ledger is replayed from its log (gt_ledger_verify).
 *
 * usage: test_scenarios [FILE.json ...]   (default: every file in the folder) */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../test.h"
#include "base/amount.h"
#include "base/hex.h"
#include "base/json.h"
#include "crypto/addr.h"
#include "crypto/keccak.h"
#include "crypto/sha256.h"
#include "ledger/ledger.h"
#include "ledger/rules.h"
#include "market/market.h"

#define MAX_ACCOUNTS 128
#define MAX_TAGS 64
#define MAX_BATCH 16

typedef struct account { char name[32]; gt_key key; gt_addr addr; uint64_t mint; } account;
typedef struct tag { char name[32]; uint8_t id[32]; } tag;

typedef struct scen {
    const char *file;
    account acc[MAX_ACCOUNTS];
    int n_acc;
    tag tags[MAX_TAGS];
    int n_tags;
    gt_ledger *l;
    uint64_t chain_id, minted;
    gt_domain dom; /* the ledger's signing domain */
    int step;
    int failed; /* this scenario had a failure: stop it (later steps would only cascade) */
    int64_t time_offset; /* block h has time GENESIS_TIME + h + time_offset */
    uint64_t val_stake;  /* genesis "validators": what each stakes in block 2 */
    char lpath[128];     /* the ledger file (a grind step copies it) */
} scen;

#define GENESIS_TIME 1700000000

/* Sets the time of the next block: one second after the last one, plus
 * extra_s (negative: fewer; a block never goes back in time). */
static void next_block_time(scen *sc, int64_t extra_s) {
    gt_block head;
    if (gt_ledger_head(sc->l, &head, NULL)) return;
    sc->time_offset += extra_s;
    int64_t t = GENESIS_TIME + (int64_t)head.height + 1 + sc->time_offset;
    if (t < (int64_t)head.time_s) t = (int64_t)head.time_s, sc->time_offset = t - GENESIS_TIME - (int64_t)head.height - 1;
    gt_ledger_set_time(sc->l, (uint64_t)t);
}

#define FAIL(sc, ...)                                                                     \
    do {                                                                                  \
        gt_test_checks++;                                                                 \
        gt_test_failures++;                                                               \
        fprintf(stderr, "%s: step %d: ", (sc)->file, (sc)->step);                         \
        fprintf(stderr, __VA_ARGS__);                                                     \
        fputc('\n', stderr);                                                              \
        (sc)->failed = 1;                                                                 \
    } while (0)
#define PASS() (gt_test_checks++)

static account *find_acc(scen *sc, const char *name) {
    for (int i = 0; i < sc->n_acc; i++)
        if (!strcmp(sc->acc[i].name, name)) return &sc->acc[i];
    return NULL;
}

static int is_amount_field(const char *f) {
    return !strcmp(f, "bounty") || !strcmp(f, "stake") || !strcmp(f, "fee") || !strcmp(f, "price") ||
           !strcmp(f, "amount");
}

/* Resolves a scenario string: "@name" -> address, "$tag" -> 0x id,
 * "blob:TEXT" -> sha256 of TEXT (0x form in actions, sha256: form in
 * expectations). Writes into out; returns 0 or -1 (unknown name). */
static int resolve_str(scen *sc, const char *s, int for_action, char *out, size_t cap) {
    if (s[0] == '@') {
        account *a = find_acc(sc, s + 1);
        if (!a) return -1;
        gt_addr_to_str(&a->addr, out);
        return 0;
    }
    if (s[0] == '$') {
        for (int i = 0; i < sc->n_tags; i++)
            if (!strcmp(sc->tags[i].name, s + 1)) {
                out[0] = '0', out[1] = 'x';
                gt_hex_encode(sc->tags[i].id, 32, out + 2);
                return 0;
            }
        return -1;
    }
    if (!strncmp(s, "blob:", 5)) {
        uint8_t h[32];
        gt_sha256(s + 5, strlen(s + 5), h);
        if (for_action) {
            out[0] = '0', out[1] = 'x';
            gt_hex_encode(h, 32, out + 2);
        } else {
            memcpy(out, "sha256:", 7);
            gt_hex_encode(h, 32, out + 7);
        }
        return 0;
    }
    snprintf(out, cap, "%s", s);
    return 0;
}

/* A vote_commit's "commitment" written "commit:NAME:ACCEPT:ATTEMPT:SALT"
 * (ACCEPT 0/1, SALT a text whose sha256 is the salt, as "blob:SALT" gives it
 * to vote_reveal): the commitment of NAME's vote on the action's task and slot
 * (fields 0 and 1, already parsed) in a dispute; "vcommit:..." the same in a
 * quorum task's verify round. Returns 0 or -1. */
static int resolve_commitment(scen *sc, const char *s, gt_action *a, uint8_t out[32]) {
    char name[64];
    int accept = 0, used = 0, round = GT_MARKET_ROUND_DISPUTE;
    unsigned long long attempt = 0;
    if (!strncmp(s, "vcommit:", 8)) s++, round = GT_MARKET_ROUND_VERIFY;
    if (sscanf(s, "commit:%63[^:]:%d:%llu:%n", name, &accept, &attempt, &used) != 3 || !used) return -1;
    account *v = find_acc(sc, name);
    if (!v || (accept != 0 && accept != 1)) return -1;
    uint8_t salt[32];
    gt_sha256(s + used, strlen(s + used), salt);
    gt_market_vote_commitment(accept, salt, &v->addr, a->f[0].b32, a->f[1].u64, attempt, round, out);
    return 0;
}

/* Builds and signs the action of a step. */
static int build_action(scen *sc, const char *as, json_t *spec, gt_action *a, uint64_t nonce) {
    account *acc = find_acc(sc, as);
    if (!acc) { FAIL(sc, "unknown account \"%s\"", as); return -1; }
    const char *type = json_string_value(json_object_get(spec, "type"));
    const gt_action_kind *k = type ? gt_action_kind_by_name(type) : NULL;
    if (!k) { FAIL(sc, "unknown action type \"%s\"", type ? type : "(none)"); return -1; }
    const char *key;
    json_t *v;
    json_object_foreach(spec, key, v) {
        if (strcmp(key, "type") && gt_action_field(k, key) < 0) {
            FAIL(sc, "%s has no field \"%s\" (%s)", type, key, k->encode_type);
            return -1;
        }
    }
    gt_action_init(a, k, &sc->dom, &acc->addr, nonce);
    gt_err err = {0};
    for (int i = 0; i < k->n_fields; i++) {
        const gt_field_def *fd = &k->fields[i];
        v = json_object_get(spec, fd->name);
        if (!v) continue; /* absent fields are zero / empty / false */
        char buf[GT_ACTION_TEXT_BYTES];
        const char *s = NULL;
        if (json_is_string(v) && fd->type == GT_F_BYTES32 &&
            (!strncmp(json_string_value(v), "commit:", 7) || !strncmp(json_string_value(v), "vcommit:", 8))) {
            if (resolve_commitment(sc, json_string_value(v), a, a->f[i].b32)) {
                FAIL(sc, "%s.%s: bad commitment \"%s\" (commit:NAME:0|1:ATTEMPT:SALT)", type, fd->name,
                     json_string_value(v));
                return -1;
            }
            continue;
        }
        if (json_is_string(v)) {
            if (resolve_str(sc, json_string_value(v), 1, buf, sizeof buf)) {
                FAIL(sc, "%s.%s: unknown name in \"%s\"", type, fd->name, json_string_value(v));
                return -1;
            }
            s = buf;
        }
        int rc = 0;
        switch (fd->type) {
        case GT_F_ADDRESS:
            rc = s ? gt_addr_parse(s, &a->f[i].addr, &err) : -1;
            break;
        case GT_F_BYTES32:
            rc = s ? gt_hex_decode(s, a->f[i].b32, 32, fd->name, &err) : -1;
            break;
        case GT_F_STRING:
            rc = s ? gt_action_set_str(a, fd->name, s, strlen(s), &err) : -1;
            break;
        case GT_F_BOOL:
            if (json_is_boolean(v)) a->f[i].u64 = json_is_true(v); else rc = -1;
            break;
        case GT_F_U64:
            if (json_is_integer(v) && json_integer_value(v) >= 0) a->f[i].u64 = (uint64_t)json_integer_value(v);
            else if (s && is_amount_field(fd->name)) rc = gt_amount_parse(s, &a->f[i].u64, &err);
            else rc = -1;
            break;
        }
        if (rc) { FAIL(sc, "%s.%s: bad value (%s)", type, fd->name, err.msg); return -1; }
    }
    if (gt_action_sign(a, &acc->key, &err)) { FAIL(sc, "signing: %s", err.msg); return -1; }
    /* Every action also goes through the JSON codec: the API's path. */
    json_t *j = gt_action_to_json(a, 1);
    char *text = json_dumps(j, JSON_COMPACT);
    gt_action b;
    int rc = gt_action_from_json_text(text, strlen(text), &b, &err);
    if (rc || memcmp(a->id, b.id, 32)) FAIL(sc, "JSON round trip of %s failed: %s", type, err.msg);
    free(text);
    json_decref(j);
    return sc->failed ? -1 : 0;
}

/* Compares an outcome with "expect" ("ok" when absent). */
static void check_outcome(scen *sc, json_t *expect, const gt_result *r, const char *type) {
    if (!expect || (json_is_string(expect) && !strcmp(json_string_value(expect), "ok"))) {
        if (r->code) FAIL(sc, "%s refused (%s): %s", type, gt_err_name(r->code), r->msg);
        else PASS();
        return;
    }
    const char *code = json_string_value(json_object_get(expect, "error"));
    const char *msg = json_string_value(json_object_get(expect, "message"));
    if (!code) { FAIL(sc, "expect must be \"ok\" or {\"error\":..}"); return; }
    if (!r->code) { FAIL(sc, "%s was applied, expected %s", type, code); return; }
    if (strcmp(gt_err_name(r->code), code)) { FAIL(sc, "%s refused with %s (%s), expected %s", type, gt_err_name(r->code), r->msg, code); return; }
    if (msg && !strstr(r->msg, msg)) { FAIL(sc, "%s message \"%s\" lacks \"%s\"", type, r->msg, msg); return; }
    PASS();
}

/* Submits one or more {as, action, expect, save} items as one block, whose
 * time is the last block's + 1 + extra_s (extra_s -1: the same second). */
static void run_actions(scen *sc, json_t *items, int64_t extra_s) {
    size_t n = json_array_size(items);
    if (n == 0 || n > MAX_BATCH) { FAIL(sc, "a batch holds 1 to %d actions", MAX_BATCH); return; }
    static gt_action acts[MAX_BATCH];
    gt_result res[MAX_BATCH];
    uint64_t next_nonce[MAX_ACCOUNTS];
    for (int i = 0; i < sc->n_acc; i++) {
        gt_account acc;
        gt_ledger_account(sc->l, &sc->acc[i].addr, &acc, NULL);
        next_nonce[i] = acc.nonce;
    }
    for (size_t i = 0; i < n; i++) {
        json_t *it = json_array_get(items, i);
        const char *as = json_string_value(json_object_get(it, "as"));
        account *acc = as ? find_acc(sc, as) : NULL;
        if (!acc) { FAIL(sc, "action without a known \"as\""); return; }
        uint64_t nonce = json_is_integer(json_object_get(it, "nonce")) ? (uint64_t)json_integer_value(json_object_get(it, "nonce"))
                                                                        : next_nonce[acc - sc->acc]++;
        if (build_action(sc, as, json_object_get(it, "action"), &acts[i], nonce)) return;
    }
    next_block_time(sc, extra_s);
    gt_ledger_submit(sc->l, acts, n, res);
    for (size_t i = 0; i < n; i++) {
        json_t *it = json_array_get(items, i);
        check_outcome(sc, json_object_get(it, "expect"), &res[i], acts[i].kind->name);
        const char *save = json_string_value(json_object_get(it, "save"));
        if (save && sc->n_tags < MAX_TAGS) {
            snprintf(sc->tags[sc->n_tags].name, sizeof sc->tags[0].name, "%s", save);
            memcpy(sc->tags[sc->n_tags].id, acts[i].id, 32);
            sc->n_tags++;
        }
    }
}

/* The attacker's traffic: n self-transfers of one base unit by `as`, one
 * block each, all in the second of the last block (blocks made by sending
 * actions, as fast as the node takes them). Each must be accepted. */
static void flood(scen *sc, const char *as, json_int_t n) {
    if (!as || !find_acc(sc, as) || n < 1 || n > 100000) { FAIL(sc, "flood: needs \"as\" and 1 to 100000"); return; }
    char to[64];
    snprintf(to, sizeof to, "@%s", as);
    json_t *one = json_pack("[{s:s, s:{s:s, s:s, s:i}}]", "as", as, "action", "type", "transfer", "to", to, "amount", 1);
    for (json_int_t k = 0; k < n && !sc->failed; k++) run_actions(sc, one, -1);
    json_decref(one);
}

/* Is every key of `want` in `got` with an equal value (recursively)? Strings
 * in want are resolved first. Writes the first mismatch's path into where. */
static int subset(scen *sc, json_t *want, json_t *got, char *where, size_t cap) {
    if (json_is_object(want)) {
        if (!json_is_object(got)) return 0;
        const char *k;
        json_t *v;
        json_object_foreach(want, k, v) {
            size_t len = strlen(where);
            snprintf(where + len, cap - len, ".%s", k);
            if (!subset(sc, v, json_object_get(got, k), where, cap)) return 0;
            where[len] = 0;
        }
        return 1;
    }
    if (json_is_array(want)) {
        if (!json_is_array(got) || json_array_size(got) != json_array_size(want)) return 0;
        for (size_t i = 0; i < json_array_size(want); i++) {
            size_t len = strlen(where);
            snprintf(where + len, cap - len, "[%zu]", i);
            if (!subset(sc, json_array_get(want, i), json_array_get(got, i), where, cap)) return 0;
            where[len] = 0;
        }
        return 1;
    }
    if (json_is_string(want)) {
        char buf[256];
        if (resolve_str(sc, json_string_value(want), 0, buf, sizeof buf)) return 0;
        return json_is_string(got) && !strcasecmp(buf, json_string_value(got));
    }
    return json_equal(want, got);
}

typedef struct query_arg { scen *sc; json_t *spec; const char *what; json_t *out; gt_err err; } query_arg;

static int do_query(void *arg, gt_tx *tx, gt_err *err) {
    query_arg *q = arg;
    char buf[256];
    (void)err;
    if (!strcmp(q->what, "task")) {
        const char *id = json_string_value(json_object_get(q->spec, "task"));
        uint8_t b[32];
        if (!id || resolve_str(q->sc, id, 1, buf, sizeof buf) || gt_hex_decode(buf, b, 32, "task", &q->err)) return -1;
        q->out = gt_market_task_get(tx->db, b, &q->err);
    } else {
        const char *who = json_string_value(json_object_get(q->spec, q->what[0] == 'a' ? "agent" : "address"));
        gt_addr a;
        if (!who || resolve_str(q->sc, who, 1, buf, sizeof buf) || gt_addr_parse(buf, &a, &q->err)) return -1;
        if (q->what[0] == 'a') {
            q->out = gt_market_agent_get(tx->db, &a, &q->err);
        } else {
            const char *skill = json_string_value(json_object_get(q->spec, "skill"));
            json_t *r = gt_market_reputation(tx->db, &a, skill, &q->err);
            /* Compare against the skill's row (zeros when it has none yet). */
            json_t *rows = r ? json_object_get(r, skill ? "skills" : "total") : NULL;
            json_t *row = skill ? json_array_get(rows, 0) : rows;
            q->out = row ? json_incref(row) : json_pack("{s:i,s:i,s:i,s:i,s:i,s:s}", "accepted", 0, "rejected", 0,
                                                         "missed", 0, "disputesWon", 0, "disputesLost", 0, "slashed", "0");
            json_decref(r);
        }
    }
    return q->out ? 0 : -1;
}

static void check_view(scen *sc, json_t *spec, const char *what, const char *id_key) {
    query_arg q = {sc, spec, what, NULL, {0}};
    gt_ledger_read(sc->l, do_query, &q, NULL);
    if (!q.out) { FAIL(sc, "expect %s: cannot read it: %s", what, q.err.msg); return; }
    json_t *want = json_deep_copy(spec);
    json_object_del(want, id_key);
    if (!strcmp(what, "reputation")) json_object_del(want, "skill");
    char where[256] = "";
    if (!subset(sc, want, q.out, where, sizeof where)) {
        char *g = json_dumps(q.out, JSON_COMPACT | JSON_SORT_KEYS), *w = json_dumps(want, JSON_COMPACT | JSON_SORT_KEYS);
        FAIL(sc, "expect %s: mismatch at %s\n  want %s\n  got  %s", what, where, w, g);
        free(g);
        free(w);
    } else {
        PASS();
    }
    json_decref(want);
    json_decref(q.out);
}

/* Copies the file src to dst whole: 0, or -1. */
static int copy_file(const char *src, const char *dst) {
    FILE *in = fopen(src, "rb"), *out = in ? fopen(dst, "wb") : NULL;
    char buf[1 << 16];
    size_t n;
    int rc = in && out ? 0 : -1;
    while (!rc && (n = fread(buf, 1, sizeof buf, in)) > 0)
        if (fwrite(buf, 1, n, out) != n) rc = -1;
    if (in && ferror(in)) rc = -1;
    if (in) fclose(in);
    if (out && fclose(out)) rc = -1;
    return rc;
}

/* Closes the scenario's ledger and opens it again as the snapshot snap has
 * it (the ledger was closed when the snapshot was taken: no WAL to carry). */
static int restore(scen *sc, const char *snap) {
    gt_ledger_close(sc->l);
    sc->l = NULL;
    char side[160];
    snprintf(side, sizeof side, "%s-wal", sc->lpath);
    unlink(side);
    snprintf(side, sizeof side, "%s-shm", sc->lpath);
    unlink(side);
    gt_err err = {0};
    if (copy_file(snap, sc->lpath)) { FAIL(sc, "grind: cannot copy the snapshot back"); return -1; }
    if (gt_ledger_open(sc->lpath, 0, &sc->l, &err)) { FAIL(sc, "grind: reopening: %s", err.msg); return -1; }
    return 0;
}

/* The panel of the judgement spec names ({task, slot, round: verify|dispute})
 * as compact JSON, or NULL when there is none (yet). */
static char *panel_of(scen *sc, json_t *spec) {
    query_arg q = {sc, spec, "task", NULL, {0}};
    gt_ledger_read(sc->l, do_query, &q, NULL);
    if (!q.out) return NULL;
    const char *round = json_string_value(json_object_get(spec, "round"));
    json_t *slot = json_array_get(json_object_get(q.out, "slotList"), (size_t)json_integer_value(json_object_get(spec, "slot")));
    json_t *panel = round && !strcmp(round, "dispute") ? json_object_get(json_object_get(slot, "dispute"), "panel")
                                                       : json_object_get(slot, "panel");
    char *text = json_array_size(panel) ? json_dumps(panel, JSON_COMPACT) : NULL;
    json_decref(q.out);
    return text;
}

/* One way to make block open + 1: empty (k == 0), or holding k self-transfers
 * by `as`; then the blocks up to the draw. */
static void grind_try(scen *sc, const char *as, int k, json_int_t blocks) {
    gt_err err = {0};
    if (k == 0) {
        next_block_time(sc, 0);
        if (gt_ledger_tick(sc->l, &err)) FAIL(sc, "grind: block: %s", err.msg);
    } else {
        char to[64];
        snprintf(to, sizeof to, "@%s", as);
        json_t *batch = json_array();
        for (int i = 0; i < k; i++)
            json_array_append_new(batch, json_pack("{s:s, s:{s:s, s:s, s:i}}", "as", as, "action", "type", "transfer",
                                                   "to", to, "amount", 1 + i));
        run_actions(sc, batch, 0);
        json_decref(batch);
    }
    for (json_int_t b = 1; b < blocks && !sc->failed; b++) {
        next_block_time(sc, 0);
        if (gt_ledger_tick(sc->l, &err)) FAIL(sc, "grind: block: %s", err.msg);
    }
}

/* The block maker's grind: from the state right after a judgement opened,
 * block open + 1 is made `tries` ways -- empty, or with 1, 2, ... actions
 * the block maker adds (self-transfers by `as`) -- followed by the blocks up
 * to the draw, and the drawn panel is read each time. Every try must draw
 * the same panel: what a block holds must not choose who judges. The
 * scenario then goes on from the state before the grind. */
static void grind(scen *sc, json_t *spec) {
    const char *as = json_string_value(json_object_get(spec, "as"));
    json_int_t tries = json_integer_value(json_object_get(spec, "tries"));
    json_t *bv = json_object_get(spec, "blocks");
    json_int_t blocks = bv ? json_integer_value(bv) : 2;
    if (!as || !find_acc(sc, as) || tries < 2 || tries > MAX_BATCH + 1 || blocks < 1 || blocks > 16) {
        FAIL(sc, "grind: needs \"as\", \"task\", 2 to %d tries and 1 to 16 blocks", MAX_BATCH + 1);
        return;
    }
    char snap[160];
    snprintf(snap, sizeof snap, "%s.snap", sc->lpath);
    gt_ledger_close(sc->l);
    sc->l = NULL;
    if (copy_file(sc->lpath, snap)) { FAIL(sc, "grind: cannot snapshot the ledger"); return; }
    int64_t offset = sc->time_offset;
    char *first = NULL;
    for (int k = 0; k < tries && !sc->failed; k++) {
        if (restore(sc, snap)) break;
        sc->time_offset = offset;
        grind_try(sc, as, k, blocks);
        char *p = sc->failed ? NULL : panel_of(sc, spec);
        if (!sc->failed && !p) FAIL(sc, "grind: no panel drawn %lld blocks after the opening", (long long)blocks);
        else if (p && !first) first = p;
        else if (p && strcmp(p, first))
            FAIL(sc, "grind: the block maker chose the panel: with %d more action%s in the block after the opening "
                 "it drew\n  %s\n  instead of\n  %s", k, k == 1 ? "" : "s", p, first);
        if (p != first) free(p);
    }
    if (!sc->failed) PASS();
    free(first);
    if (sc->l || !sc->failed) restore(sc, snap);
    sc->time_offset = offset;
    unlink(snap);
}

static void check_balances(scen *sc, json_t *spec) {
    const char *name;
    json_t *want;
    json_object_foreach(spec, name, want) {
        account *a = find_acc(sc, name);
        if (!a) { FAIL(sc, "expectBalances: unknown account %s", name); return; }
        gt_account acc;
        gt_ledger_account(sc->l, &a->addr, &acc, NULL);
        static const char *const buckets[] = {"balance", "staked", "locked", "unbonding"};
        uint64_t have[4] = {acc.balance, acc.staked, acc.locked, acc.unbonding};
        for (int i = 0; i < 4; i++) {
            const char *s = json_string_value(json_object_get(want, buckets[i]));
            if (!s) continue;
            uint64_t units;
            if (gt_amount_parse(s, &units, NULL)) { FAIL(sc, "expectBalances: %s.%s: bad amount", name, buckets[i]); continue; }
            char h[32];
            if (units != have[i]) FAIL(sc, "%s.%s is %s, expected %s", name, buckets[i], gt_amount_format(have[i], h), s);
            else PASS();
        }
    }
}

/* The books after every step: supply = minted = sum of every account's
 * buckets; the market's escrow agrees with the locks. */
typedef struct books { uint64_t sum, locks, market; gt_err err; int audit_rc; } books;
static int read_books(void *arg, gt_tx *tx, gt_err *err) {
    books *b = arg;
    (void)err;
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(tx->db, "SELECT coalesce(sum(balance+staked+locked+unbonding),0) FROM accounts", -1, &q, NULL) == SQLITE_OK &&
        sqlite3_step(q) == SQLITE_ROW)
        b->sum = (uint64_t)sqlite3_column_int64(q, 0);
    sqlite3_finalize(q);
    if (sqlite3_prepare_v2(tx->db, "SELECT coalesce(sum(amount),0) FROM locks", -1, &q, NULL) == SQLITE_OK &&
        sqlite3_step(q) == SQLITE_ROW)
        b->locks = (uint64_t)sqlite3_column_int64(q, 0);
    sqlite3_finalize(q);
    b->audit_rc = gt_market_audit(tx->db, &b->market, &b->err);
    return 0;
}

static void check_books(scen *sc) {
    books b = {0};
    gt_ledger_read(sc->l, read_books, &b, NULL);
    uint64_t supply = gt_ledger_supply(sc->l);
    if (supply != sc->minted || b.sum != supply)
        FAIL(sc, "supply not conserved: supply %llu, minted %llu, accounts hold %llu", (unsigned long long)supply,
             (unsigned long long)sc->minted, (unsigned long long)b.sum);
    else if (b.audit_rc)
        FAIL(sc, "%s", b.err.msg);
    else if (b.market != b.locks)
        FAIL(sc, "locks hold %llu units, the market accounts for %llu", (unsigned long long)b.locks, (unsigned long long)b.market);
    else
        PASS();
}

/* genesis "validators": {"count": N, "mint": M, "stake": S}: accounts val0 ..
 * val<N-1>, each minted M in block 1 and staking S in block 2 (enough of them
 * that panels are drawn, not seated whole). */
static void setup_validators(scen *sc, json_t *spec) {
    if (!spec) return;
    json_int_t n = json_integer_value(json_object_get(spec, "count"));
    const char *mint = json_string_value(json_object_get(spec, "mint"));
    const char *stake = json_string_value(json_object_get(spec, "stake"));
    uint64_t m = 0;
    if (n < 1 || sc->n_acc + n >= MAX_ACCOUNTS || !mint || !stake || gt_amount_parse(mint, &m, NULL) ||
        gt_amount_parse(stake, &sc->val_stake, NULL) || !sc->val_stake || sc->val_stake > m) {
        FAIL(sc, "genesis validators: needs count (1 to %d in all), mint and a stake of at most the mint",
             MAX_ACCOUNTS - 1);
        return;
    }
    for (json_int_t i = 0; i < n; i++) {
        account *a = &sc->acc[sc->n_acc++];
        snprintf(a->name, sizeof a->name, "val%d", (int)i);
        uint8_t priv[32];
        gt_keccak256(a->name, strlen(a->name), priv);
        if (gt_key_from_bytes(&a->key, priv, NULL)) { FAIL(sc, "bad key for %s", a->name); return; }
        gt_key_address(&a->key, &a->addr);
        a->mint = m;
    }
}

/* Block 2 when the genesis names validators: each stakes what it was told. */
static void stake_validators(scen *sc) {
    static gt_action acts[MAX_ACCOUNTS];
    gt_result res[MAX_ACCOUNTS];
    size_t n = 0;
    for (int i = 0; i < sc->n_acc; i++) {
        if (strncmp(sc->acc[i].name, "val", 3)) continue;
        gt_action_init(&acts[n], &gt_kind_stake, &sc->dom, &sc->acc[i].addr, 0);
        gt_action_set_u64(&acts[n], "amount", sc->val_stake);
        gt_action_sign(&acts[n], &sc->acc[i].key, NULL);
        n++;
    }
    next_block_time(sc, 0);
    if (n && gt_ledger_submit(sc->l, acts, n, res) != n) FAIL(sc, "validator stakes refused: %s", res[0].msg);
}

static void setup_accounts(scen *sc, json_t *genesis) {
    json_t *accs = json_object_get(genesis, "accounts");
    const char *name;
    json_t *v;
    json_object_foreach(accs, name, v) {
        if (sc->n_acc == MAX_ACCOUNTS) { FAIL(sc, "too many accounts"); return; }
        account *a = &sc->acc[sc->n_acc++];
        snprintf(a->name, sizeof a->name, "%s", name);
        const char *key = json_string_value(json_object_get(v, "key"));
        uint8_t priv[32];
        if (key && gt_hex_decode(key, priv, 32, "key", NULL) == 0) {
        } else {
            const char *seed = key ? key : name;
            gt_keccak256(seed, strlen(seed), priv);
        }
        if (gt_key_from_bytes(&a->key, priv, NULL)) { FAIL(sc, "bad key for %s", name); return; }
        gt_key_address(&a->key, &a->addr);
        const char *mint = json_string_value(json_object_get(v, "mint"));
        if (mint && gt_amount_parse(mint, &a->mint, NULL)) FAIL(sc, "bad mint for %s", name);
    }
    setup_validators(sc, json_object_get(genesis, "validators"));
}

/* One hand edit of the stored file's market tables (SQL on a connection of
 * its own, as an editor would): the writer's open check must refuse the
 * file, naming the head and pointing to `ledger verify`, and the replay must
 * refuse it too (`verify_says` in its message), when `replay` is set. */
static int tamper_one(scen *sc, const char *lpath, const char *sql, const char *verify_says, int replay) {
    sqlite3 *db;
    if (sqlite3_open(lpath, &db) != SQLITE_OK) { FAIL(sc, "tamper: cannot open %s", lpath); return 0; }
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) { /* a stale edit must not pass silently */
        FAIL(sc, "tamper: the edit %s failed: %s", sql, msg ? msg : "?");
        sqlite3_free(msg);
        sqlite3_close(db);
        return 0;
    }
    int changed = sqlite3_changes(db) > 0;
    sqlite3_close(db);
    if (!changed) return 0; /* this scenario has no such row */
    gt_err err = {0};
    gt_ledger *l = NULL;
    if (gt_ledger_open(lpath, 0, &l, &err) == 0) FAIL(sc, "the open check took a ledger edited by: %s", sql);
    else if (!strstr(err.msg, "(the head): the state on disk is not the state it commits to") ||
             !strstr(err.msg, "gotong ledger verify"))
        FAIL(sc, "tamper (%s): unexpected open message %s", sql, err.msg);
    else PASS();
    gt_ledger_close(l);
    gt_verify_report rep;
    if (!replay) return 1;
    if (gt_ledger_verify(lpath, &rep, NULL, NULL, &err) == 0) FAIL(sc, "replay did not notice: %s", sql);
    else if (!strstr(err.msg, verify_says)) FAIL(sc, "tamper (%s): unexpected verify message %s", sql, err.msg);
    else PASS();
    return 1;
}

/* Edits of the market's rows after the fact, each on a fresh copy of the
 * good file: a changed amount, a flipped byte in a blob column, a deleted
 * row. The replay runs for ledgers of up to 200 blocks (the open check,
 * a scan, for every scenario). */
#define TAMPER_EDITS 4
/* How many scenarios each edit of tamper_market applied to: every edit must
 * have been tried on some ledger, or the check proves nothing. */
static int tamper_applied[TAMPER_EDITS];

static void tamper_market(scen *sc, const char *lpath, uint64_t blocks) {
    static const struct { const char *sql, *verify_says; } edits[TAMPER_EDITS] = {
        {"UPDATE mk_tasks SET bounty=bounty+1", "mk_tasks"},
        {"UPDATE mk_slots SET worker=substr(worker,1,5)||x'ee'||substr(worker,7) "
         "WHERE (task,slot) IN (SELECT task,slot FROM mk_slots WHERE length(worker)=20 LIMIT 1)", "mk_slots"},
        {"DELETE FROM mk_slots WHERE (task,slot) IN (SELECT task,slot FROM mk_slots LIMIT 1)", "mk_slots"},
        {"DELETE FROM mk_task_workers WHERE (task,worker) IN (SELECT task,worker FROM mk_task_workers LIMIT 1)",
         "mk_task_workers"},
    };
    char good[160];
    snprintf(good, sizeof good, "%s.good", lpath);
    if (copy_file(lpath, good)) { FAIL(sc, "tamper: cannot copy %s", lpath); return; }
    gt_err err = {0};
    gt_ledger *l = NULL;
    if (gt_ledger_open(lpath, 0, &l, &err)) FAIL(sc, "the open check refused the untouched ledger: %s", err.msg);
    else PASS();
    gt_ledger_close(l);
    for (size_t i = 0; i < sizeof edits / sizeof edits[0] && !sc->failed; i++) {
        tamper_applied[i] += tamper_one(sc, lpath, edits[i].sql, edits[i].verify_says, blocks <= 200);
        if (copy_file(good, lpath)) FAIL(sc, "tamper: cannot restore %s", lpath);
    }
    unlink(good);
}

static void run_file(const char *path) {
    scen *sc = calloc(1, sizeof *sc);
    sc->file = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
    json_t *doc = NULL;
    uint8_t *text = NULL;
    size_t len = 0;
    FILE *f = fopen(path, "rb");
    if (f) {
        text = malloc(1 << 20);
        len = fread(text, 1, (1 << 20) - 1, f);
        fclose(f);
    }
    gt_err err = {0};
    if (!text || gt_json_parse((const char *)text, len, 1 << 20, &doc, &err)) {
        FAIL(sc, "cannot read %s: %s", path, err.msg);
        free(text);
        free(sc);
        return;
    }
    free(text);
    json_t *genesis = json_object_get(doc, "genesis");
    sc->chain_id = json_integer_value(json_object_get(genesis, "chainId"));
    if (!sc->chain_id) sc->chain_id = GT_DEFAULT_CHAIN_ID;
    json_t *ub = json_object_get(genesis, "unbondingBlocks");
    setup_accounts(sc, genesis);
    /* The authority mints; it is an account of its own. */
    account *auth = &sc->acc[sc->n_acc++];
    snprintf(auth->name, sizeof auth->name, "genesis-authority");
    uint8_t priv[32];
    gt_keccak256("gotong-scenario-authority", 25, priv);
    gt_key_from_bytes(&auth->key, priv, NULL);
    gt_key_address(&auth->key, &auth->addr);

    char dir[] = "/tmp/gt_scenarioXXXXXX", *lpath = sc->lpath;
    if (!mkdtemp(dir)) abort();
    snprintf(sc->lpath, sizeof sc->lpath, "%s/ledger.db", dir);
    gt_genesis g = {.chain_id = sc->chain_id, .authority = auth->addr,
                    .unbonding_blocks = ub ? (uint64_t)json_integer_value(ub) : GT_DEFAULT_UNBONDING_BLOCKS,
                    .time_s = GENESIS_TIME};
    /* genesis "windows": {"disputeS", "voteS", "revealS"}; absent: the short 5 s */
    json_t *win = json_object_get(genesis, "windows");
    g.windows.dispute_s = (uint64_t)json_integer_value(json_object_get(win, "disputeS"));
    g.windows.vote_s = (uint64_t)json_integer_value(json_object_get(win, "voteS"));
    g.windows.reveal_s = (uint64_t)json_integer_value(json_object_get(win, "revealS"));
    if (gt_ledger_create(lpath, &g, &err) || gt_ledger_open(lpath, 0, &sc->l, &err)) {
        FAIL(sc, "ledger: %s", err.msg);
        goto done;
    }
    sc->dom = *gt_ledger_domain(sc->l);
    /* Block 1: the mints. */
    next_block_time(sc, 0);
    {
        static gt_action mints[MAX_ACCOUNTS];
        gt_result res[MAX_ACCOUNTS];
        size_t n = 0;
        for (int i = 0; i < sc->n_acc; i++) {
            if (!sc->acc[i].mint) continue;
            gt_action_init(&mints[n], &gt_kind_mint, &sc->dom, &auth->addr, n);
            gt_action_set_addr(&mints[n], "to", &sc->acc[i].addr);
            gt_action_set_u64(&mints[n], "amount", sc->acc[i].mint);
            gt_action_sign(&mints[n], &auth->key, NULL);
            sc->minted += sc->acc[i].mint;
            n++;
        }
        if (n && gt_ledger_submit(sc->l, mints, n, res) != n) FAIL(sc, "mints refused: %s", res[0].msg);
    }
    if (sc->val_stake) stake_validators(sc);
    json_t *steps = json_object_get(doc, "steps");
    for (size_t i = 0; i < json_array_size(steps) && !sc->failed; i++) {
        json_t *st = json_array_get(steps, i);
        sc->step = (int)i + 1;
        json_t *v;
        if ((v = json_object_get(st, "action"))) {
            json_t *one = json_array();
            json_array_append(one, st);
            run_actions(sc, one, 0);
            json_decref(one);
        } else if ((v = json_object_get(st, "batch"))) {
            run_actions(sc, v, 0);
        } else if ((v = json_object_get(st, "grind"))) {
            grind(sc, v);
        } else if ((v = json_object_get(st, "flood"))) {
            flood(sc, json_string_value(json_object_get(st, "as")), json_integer_value(v));
        } else if ((v = json_object_get(st, "tick"))) {
            /* secondsPerBlock (default 1): 0 makes a flood of blocks in one second. */
            json_t *spb = json_object_get(st, "secondsPerBlock");
            int64_t extra = spb ? (int64_t)json_integer_value(spb) - 1 : 0;
            for (json_int_t k = 0; k < json_integer_value(v); k++) {
                next_block_time(sc, extra);
                if (gt_ledger_tick(sc->l, &err)) FAIL(sc, "tick: %s", err.msg);
            }
        } else if ((v = json_object_get(st, "block"))) {
            next_block_time(sc, 0);
            if (gt_ledger_tick(sc->l, &err)) FAIL(sc, "block: %s", err.msg);
        } else if ((v = json_object_get(st, "expectBalances"))) {
            check_balances(sc, v);
        } else if ((v = json_object_get(st, "expectTask"))) {
            check_view(sc, v, "task", "task");
        } else if ((v = json_object_get(st, "expectAgent"))) {
            check_view(sc, v, "agent", "agent");
        } else if ((v = json_object_get(st, "expectReputation"))) {
            check_view(sc, v, "reputation", "address");
        } else if ((v = json_object_get(st, "expectHeight"))) {
            gt_block head;
            gt_ledger_head(sc->l, &head, NULL);
            if ((json_int_t)head.height != json_integer_value(v))
                FAIL(sc, "height is %llu, expected %lld", (unsigned long long)head.height, (long long)json_integer_value(v));
            else PASS();
        } else {
            FAIL(sc, "unknown step kind");
        }
        check_books(sc);
    }
    gt_ledger_close(sc->l);
    sc->l = NULL;
    if (!sc->failed) {
        gt_verify_report rep;
        if (gt_ledger_verify(lpath, &rep, NULL, NULL, &err)) FAIL(sc, "replay verification: %s", err.msg);
        else if (rep.supply != sc->minted) FAIL(sc, "replayed supply %llu != minted", (unsigned long long)rep.supply);
        else PASS();
        if (!sc->failed) tamper_market(sc, lpath, rep.blocks);
    }
    fprintf(stderr, "%s %s (%d steps)\n", sc->failed ? "FAIL" : "ok  ", sc->file, sc->step);
done:
    gt_ledger_close(sc->l);
    char cmd[160];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0) abort();
    json_decref(doc);
    free(sc);
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Runs the files named on the command line, else every *.json in dirpath
 * (sorted). The kinds the scenarios use must be registered first. */
static int scenarios_main(int argc, char **argv, const char *dirpath) {
    if (argc > 1) {
        for (int i = 1; i < argc; i++) run_file(argv[i]);
        return gt_test_finish();
    }
    DIR *d = opendir(dirpath);
    if (!d) { fprintf(stderr, "cannot open %s\n", dirpath); return 1; }
    char *names[256];
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) && n < 256) {
        size_t len = strlen(e->d_name);
        if (len > 5 && !strcmp(e->d_name + len - 5, ".json")) names[n++] = strdup(e->d_name);
    }
    closedir(d);
    qsort(names, (size_t)n, sizeof names[0], cmp_str);
    CHECK(n > 0);
    for (int i = 0; i < n; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dirpath, names[i]);
        run_file(path);
        free(names[i]);
    }
    for (int i = 0; i < TAMPER_EDITS; i++) CHECK_MSG(tamper_applied[i] > 0, "tamper edit %d never applied", i);
    return gt_test_finish();
}

int main(int argc, char **argv) {
    gt_err err = {0};
    if (gt_market_register(&err)) { fprintf(stderr, "%s\n", err.msg); return 1; }
    return scenarios_main(argc, argv, GT_SOURCE_DIR "/tests/scenarios");
}
