/* registry.c: the agent registry (after ERC-8004's identity registry). An
 * agent's card is the signed action itself: its wallet signs name, skills
 * (the task kinds it accepts), model id (SHA-256 of its GGUF file; zero for an
 * agent that runs no model, such as a human reviewer), endpoint URL and price
 * per task. Register, update, retire. A card is what a task's claim checks:
 * only an active agent listing the task's kind may claim it, so a hirer
 * choosing by skill and reputation gets what the card says.
 *
 * Why these rules:
 *  - One card per address, replaced only by its own signature: nobody can
 *    impersonate or overwrite another agent's card.
 *  - Retiring stops new claims but not the work in flight: retiring cannot be
 *    used to escape a stake already locked (timeouts still slash it).
 *  - A name shows what it is: no bidirectional control, invisible or odd
 *    space character, and none that looks like another agent's name (UTS
 *    #39 confusables skeleton, case folded: "PaypaI" cannot sit beside
 *    "Paypal", nor "ALICE" beside "Alice"). The check is a lookup in each of
 *    the indexes of cards by those keys (market.c's mk_agents_name_key and
 *    mk_agents_name_case_key): registering is free, so a check that read
 *    every card let anyone make each block cost the writer O(agents).
 *  - Skills are a closed, short alphabet ([a-z0-9._:-], at most 16 of 64
 *    bytes): lookups by skill are exact, no homoglyph or case games. */
#include <assert.h>
#include <stdio.h>
#include <string.h>

#include "base/buf.h"
#include "base/unicode_norm.h"
#include "market/market_impl.h"

static const gt_field_def card_fields[] = {
    {"name", GT_F_STRING, GT_MARKET_NAME_MAX},
    {"skills", GT_F_STRING, GT_MARKET_SKILLS_BYTES},
    {"model", GT_F_BYTES32, 0},
    {"endpoint", GT_F_STRING, GT_MARKET_ENDPOINT_MAX},
    {"price", GT_F_U64, 0},
};
enum { F_NAME, F_SKILLS, F_MODEL, F_ENDPOINT, F_PRICE };

static int skill_char(char ch) {
    return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' || ch == ':' || ch == '-';
}

int mk_skill_check(const char *s, size_t len, const char *what, gt_err *err) {
    if (len == 0 || len > GT_MARKET_SKILL_MAX)
        return gt_err_set(err, GT_EINVAL, "%s must be 1 to %d bytes, got %zu", what, GT_MARKET_SKILL_MAX, len);
    if (!((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= '0' && s[0] <= '9')))
        return gt_err_set(err, GT_EINVAL, "%s \"%.*s\" must start with a lowercase letter or digit", what, (int)len, s);
    for (size_t i = 0; i < len; i++)
        if (!skill_char(s[i]))
            return gt_err_set(err, GT_EINVAL,
                              "%s \"%.*s\" has the character '%c' at %zu; allowed: a-z 0-9 . _ : -", what,
                              (int)len, s, (s[i] >= 32 && s[i] < 127) ? s[i] : '?', i);
    return 0;
}

/* Checks the comma-separated skills list: 1..16 valid, distinct skills. */
static int skills_check(const char *s, gt_err *err) {
    const char *items[GT_MARKET_SKILLS_MAX];
    size_t lens[GT_MARKET_SKILLS_MAX];
    int n = 0;
    if (!*s) return gt_err_set(err, GT_EINVAL, "skills: expected a comma-separated list of task kinds, got nothing");
    for (const char *p = s;;) {
        const char *e = strchr(p, ',');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (n == GT_MARKET_SKILLS_MAX)
            return gt_err_set(err, GT_ELIMIT, "skills: at most %d skills on one card", GT_MARKET_SKILLS_MAX);
        int rc = mk_skill_check(p, len, "skill", err);
        if (rc) return gt_err_wrap(err, "skills");
        for (int i = 0; i < n; i++)
            if (lens[i] == len && !memcmp(items[i], p, len))
                return gt_err_set(err, GT_EINVAL, "skills: \"%.*s\" is listed twice", (int)len, p);
        items[n] = p, lens[n] = len, n++;
        if (!e) break;
        p = e + 1;
    }
    return 0;
}

/* Why a code point may not be in a name (NULL: it may): it would let the
 * name look like another one without being it. Bidirectional controls
 * (embeddings, overrides, isolates, marks: "alice\u202Eexe.gnp" displays
 * reversed), Unicode's Default_Ignorable code points (zero-width characters,
 * soft hyphen, variation selectors, fillers, tags: invisible, so "al\u200Bice"
 * shows as "alice"), controls, and every space but ' ' (White_Space). The
 * interlinear annotation characters are invisible format characters too. */
static const char *name_cp_refused(uint32_t cp) {
    if (cp == 0x061C || cp == 0x200E || cp == 0x200F || (cp >= 0x202A && cp <= 0x202E) ||
        (cp >= 0x2066 && cp <= 0x2069))
        return "a bidirectional control: it reorders how the text around it is shown";
    if (gt_uni_is_ignorable(cp) || (cp >= 0xFFF9 && cp <= 0xFFFB))
        return "an invisible character (Unicode's Default_Ignorable): the name would show as one without it";
    if (cp < 0x20 || (cp >= 0x7F && cp <= 0x9F)) return "a control character";
    if (cp != ' ' && gt_uni_is_space(cp)) return "a space other than ' '";
    return NULL;
}

/* Bytes of the UTF-8 form of cp (GT_UNI_RAW: one byte), for byte offsets. */
static size_t utf8_bytes(uint32_t cp) {
    return cp < 0x80 || cp > 0x10FFFF ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
}

/* Checks an agent name: 1 to GT_MARKET_NAME_MAX bytes of valid UTF-8
 * (shortest forms, no surrogates) with no character name_cp_refused
 * refuses. The code points go to cps (for the impersonation check). */
static int name_check(const char *name, gt_ucps *cps, gt_err *err) {
    size_t n = strlen(name);
    if (!n) return gt_err_set(err, GT_EINVAL, "name: an agent needs a name (1 to %d bytes)", GT_MARKET_NAME_MAX);
    if (gt_uni_decode(name, n, cps)) return gt_err_set(err, GT_ENOMEM, "out of memory");
    size_t at = 0;
    for (size_t i = 0; i < cps->len; at += utf8_bytes(cps->cp[i]), i++) {
        uint32_t cp = cps->cp[i];
        if (cp > 0x10FFFF)
            return gt_err_set(err, GT_EINVAL, "name: byte %zu is not valid UTF-8; expected UTF-8 text", at);
        const char *why = name_cp_refused(cp);
        if (why)
            return gt_err_set(err, GT_EINVAL,
                              "name: U+%04X at byte %zu is %s, so the name could pass for another; expected visible "
                              "characters and ' '",
                              (unsigned)cp, at, why);
    }
    assert(at == n);
    return 0;
}

/* The impersonation keys of a name (code points in, UTF-8 bytes out). Both
 * are NFKC (full-width and compatibility forms fold), then UTS #39's
 * confusables skeleton ("PaypaI" -> "Paypal", Cyrillic а -> Latin a), case
 * folding and the skeleton again; the second folds case first too.
 *  - fold_first 0 (mk_name_key, format 8): what the name looks like. A
 *    capital I becomes l before its case is folded: "AI" keys as "al".
 *  - fold_first 1 (mk_name_case_key, format 9): what it reads as, case
 *    aside: "ALICE" keys as "alice", where the first key says "allce".
 * No one key can do both: "AI" looks like "al" and reads as "ai", and "al"
 * and "ai" must stay apart. So a name is refused when either of its keys is
 * that key of another agent's name (name_unique). Under the first key 309
 * code points (of U+0020..U+2FFFF) key apart from their case fold: I and its
 * accented forms, Greek Η Ι Ν Υ, Cyrillic І Н В Г and others; under the
 * second, none. Two names with one key look or read alike, so one agent
 * could pass for the other. 0 or GT_ENOMEM. */
static int name_key_of(const gt_ucps *cps, int fold_first, gt_buf *key) {
    gt_ucps a = GT_UCPS_INIT, b = GT_UCPS_INIT;
    int rc = gt_uni_normalize(GT_UNI_NFKC, cps->cp, cps->len, &a);
    if (!rc && fold_first) {
        rc = gt_uni_casefold(a.cp, a.len, &b);
        gt_ucps t = a; /* the folded text goes on as a */
        a = b, b = t;
    }
    rc = rc || gt_uni_skeleton(a.cp, a.len, &b) || gt_uni_casefold(b.cp, b.len, &a) ||
         gt_uni_skeleton(a.cp, a.len, &b) || gt_uni_encode(b.cp, b.len, key);
    gt_ucps_free(&a);
    gt_ucps_free(&b);
    return rc ? GT_ENOMEM : 0;
}

/* What each SQL function's user data points at: its fold_first. */
static const int key_looks = 0, key_reads = 1;

/* mk_name_key(name) and mk_name_case_key(name): the SQL functions of the
 * indexes mk_agents_name_key and mk_agents_name_case_key (market.c):
 * name_key_of the text's code points (fold_first from the user data), as a
 * blob. Deterministic (SQLite keeps an index on it only so): the same bytes
 * give the same key on every node and in every open, as long as
 * name_key_of and the Unicode tables it reads stay as they are. Changing
 * either changes which names the rules refuse (consensus) and the keys
 * stored in that index, so it needs a new ledger format whose upgrade runs
 * REINDEX on it, and a height from which the new rule applies (format 9
 * added a key and left this one as it was). Any text is accepted (bytes
 * that are not UTF-8 decode as GT_UNI_RAW); NULL gives NULL. */
static void name_key_sql(sqlite3_context *ctx, int argc, sqlite3_value **argv) {
    assert(argc == 1);
    const char *s = (const char *)sqlite3_value_text(argv[0]);
    if (!s) {
        if (sqlite3_value_type(argv[0]) == SQLITE_NULL) sqlite3_result_null(ctx);
        else sqlite3_result_error_nomem(ctx);
        return;
    }
    int fold_first = *(const int *)sqlite3_user_data(ctx);
    gt_ucps cps = GT_UCPS_INIT;
    gt_buf key = GT_BUF_INIT;
    if (gt_uni_decode(s, (size_t)sqlite3_value_bytes(argv[0]), &cps) || name_key_of(&cps, fold_first, &key) ||
        key.len > INT32_MAX)
        sqlite3_result_error_nomem(ctx);
    else
        sqlite3_result_blob(ctx, key.len ? (const void *)key.data : (const void *)"", (int)key.len, SQLITE_TRANSIENT);
    gt_ucps_free(&cps);
    gt_buf_free(&key);
}

int mk_connect(sqlite3 *db, gt_err *err) {
    /* INNOCUOUS: allowed in the schema even where trusted_schema is off. */
    const int flags = SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS;
    if (sqlite3_create_function_v2(db, "mk_name_key", 1, flags, (void *)&key_looks, name_key_sql, NULL, NULL,
                                   NULL) != SQLITE_OK ||
        sqlite3_create_function_v2(db, "mk_name_case_key", 1, flags, (void *)&key_reads, name_key_sql, NULL, NULL,
                                   NULL) != SQLITE_OK)
        return gt_err_set(err, GT_EDB, "market store: registering mk_name_key and mk_name_case_key: %s",
                          sqlite3_errmsg(db));
    return 0;
}

/* Checks that no agent but self has a name whose key (fold_first: which
 * one) is the key of cps: one search of that key's index (sql:
 * MK_SQL_NAME_TAKEN or MK_SQL_NAME_CASE_TAKEN); the first such agent by
 * address is named. 0, GT_EEXIST naming the agent it looks like, GT_EDB or
 * GT_ENOMEM. */
static int name_taken(gt_tx *tx, const gt_addr *self, const gt_ucps *cps, int fold_first, const char *sql,
                      gt_err *err) {
    gt_buf key = GT_BUF_INIT;
    sqlite3_stmt *q;
    int rc = name_key_of(cps, fold_first, &key) ? gt_err_set(err, GT_ENOMEM, "out of memory") : 0;
    if (!rc) rc = gt_tx_stmt(tx, sql, &q, err);
    if (rc) {
        gt_buf_free(&key);
        return rc;
    }
    sqlite3_bind_blob(q, 1, key.len ? (const void *)key.data : (const void *)"", (int)key.len, SQLITE_STATIC);
    sqlite3_bind_blob(q, 2, self->b, 20, SQLITE_STATIC);
    int step = sqlite3_step(q);
    if (step == SQLITE_ROW) {
        gt_addr addr;
        char name[GT_MARKET_NAME_MAX + 1], as[43];
        if (!(rc = gt_row_blob(q, 0, addr.b, 20, "mk_agents", err)) &&
            !(rc = gt_row_text(q, 1, name, sizeof name, "mk_agents", err)))
            rc = gt_err_set(err, GT_EEXIST,
                            "name: looks like the name \"%s\" of agent %s (the same letters once look-alikes such as "
                            "I and l, or Cyrillic а and Latin a, and case are folded: UTS #39 confusables; a capital "
                            "I counts as l and as i), so one could pass for the other; choose a name that looks "
                            "different",
                            name, mk_addr(&addr, as));
    } else if (step != SQLITE_DONE) {
        rc = gt_err_set(err, GT_EDB, "reading agents: %s", sqlite3_errmsg(tx->db));
    }
    gt_tx_stmt_done(tx, q);
    gt_buf_free(&key);
    return rc;
}

/* 1 when self's card (any status) already has exactly this name, 0 when not,
 * or GT_EDB. */
static int name_is_own(gt_tx *tx, const gt_addr *self, const char *name, gt_err *err) {
    sqlite3_stmt *q;
    int rc = gt_tx_stmt(tx, "SELECT 1 FROM mk_agents WHERE addr=?1 AND name=?2", &q, err);
    if (rc) return rc;
    sqlite3_bind_blob(q, 1, self->b, 20, SQLITE_STATIC);
    sqlite3_bind_text(q, 2, name, -1, SQLITE_STATIC);
    int step = sqlite3_step(q);
    gt_tx_stmt_done(tx, q);
    if (step != SQLITE_ROW && step != SQLITE_DONE)
        return gt_err_set(err, GT_EDB, "reading agent: %s", sqlite3_errmsg(tx->db));
    return step == SQLITE_ROW;
}

/* Checks that name (its code points cps) does not look like the name of
 * another agent, active or retired (a retired card's history stays): neither
 * of its keys (name_key_of) is that key of theirs. The second key only from
 * format 9's height (gt_tx.format9_height), so a replay accepts the names
 * registered before, and only for a name the sender's card does not have
 * already: two agents whose names collide under it only, both registered
 * before it applied, keep their names and may update their cards (a rename
 * is checked). 0, GT_EEXIST naming the agent it looks like, GT_EDB or
 * GT_ENOMEM. */
static int name_unique(gt_tx *tx, const gt_addr *self, const char *name, const gt_ucps *cps, gt_err *err) {
    int rc = name_taken(tx, self, cps, 0, MK_SQL_NAME_TAKEN, err);
    if (rc || tx->height < tx->format9_height) return rc;
    int own = name_is_own(tx, self, name, err);
    if (own) return own < 0 ? own : 0;
    return name_taken(tx, self, cps, 1, MK_SQL_NAME_CASE_TAKEN, err);
}

/* Checks a card's fields (name visible and not looking like another
 * agent's, skills, endpoint http(s) URL). */
static int card_check(gt_tx *tx, const gt_action *a, gt_err *err) {
    const char *name = gt_action_str(a, F_NAME), *ep = gt_action_str(a, F_ENDPOINT);
    gt_ucps cps = GT_UCPS_INIT;
    int rc = name_check(name, &cps, err);
    if (!rc) rc = name_unique(tx, &a->from, name, &cps, err);
    gt_ucps_free(&cps);
    if (rc) return rc;
    rc = skills_check(gt_action_str(a, F_SKILLS), err);
    if (rc) return rc;
    if (*ep) {
        if (strncmp(ep, "http://", 7) && strncmp(ep, "https://", 8))
            return gt_err_set(err, GT_EINVAL, "endpoint \"%.64s\": expected an http:// or https:// URL (or empty)", ep);
        for (const unsigned char *p = (const unsigned char *)ep; *p; p++)
            if (*p <= 32 || *p >= 127)
                return gt_err_set(err, GT_EINVAL, "endpoint: spaces and non-ASCII characters are not allowed");
    }
    return 0;
}

/* Reads an agent's status: 0 active, 1 retired, or -1 when it has no card. */
static int agent_status(gt_tx *tx, const gt_addr *addr, uint64_t *registered_height, gt_err *err) {
    sqlite3_stmt *q;
    int rc = gt_tx_stmt(tx, "SELECT status,registered_height FROM mk_agents WHERE addr=?", &q, err);
    if (rc) return rc;
    sqlite3_bind_blob(q, 1, addr->b, 20, SQLITE_STATIC);
    rc = sqlite3_step(q);
    int st = -1;
    if (rc == SQLITE_ROW) {
        st = sqlite3_column_int(q, 0);
        if (registered_height) *registered_height = (uint64_t)sqlite3_column_int64(q, 1);
    }
    gt_tx_stmt_done(tx, q);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) return gt_err_set(err, GT_EDB, "reading agent: %s", sqlite3_errmsg(tx->db));
    return st == -1 ? 2 : st; /* 2: none (kept positive so errors stay negative) */
}

/* Writes the card of a->from from the action's fields with status. */
static int card_store(mk_ctx *c, const gt_action *a, int status, uint64_t registered_height, gt_err *err) {
    gt_tx *tx = c->tx;
    sqlite3_stmt *q;
    int rc = gt_tx_stmt(tx, "INSERT OR REPLACE INTO mk_agents VALUES(?,?,?,?,?,?,?,?,?,?)", &q, err);
    if (rc) return rc;
    const char *name = gt_action_str(a, F_NAME), *skills = gt_action_str(a, F_SKILLS);
    const char *ep = gt_action_str(a, F_ENDPOINT);
    sqlite3_bind_blob(q, 1, a->from.b, 20, SQLITE_STATIC);
    sqlite3_bind_text(q, 2, name, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 3, skills, -1, SQLITE_STATIC);
    sqlite3_bind_blob(q, 4, a->f[F_MODEL].b32, 32, SQLITE_STATIC);
    sqlite3_bind_text(q, 5, ep, -1, SQLITE_STATIC);
    sqlite3_bind_int64(q, 6, (int64_t)a->f[F_PRICE].u64);
    sqlite3_bind_int64(q, 7, status);
    sqlite3_bind_blob(q, 8, a->id, 32, SQLITE_STATIC);
    sqlite3_bind_int64(q, 9, (int64_t)registered_height);
    sqlite3_bind_int64(q, 10, (int64_t)tx->height);
    rc = sqlite3_step(q);
    gt_tx_stmt_done(tx, q);
    /* The write computes the name's key for its index (mk_name_key), which
     * allocates: out of memory there is ours, not the store's. */
    if (rc == SQLITE_NOMEM) return gt_err_set(err, GT_ENOMEM, "out of memory");
    if (rc != SQLITE_DONE) return gt_err_set(err, GT_EDB, "writing agent: %s", sqlite3_errmsg(tx->db));
    /* The skills rows: derived from the card, so only the card goes into the
     * action's record (the rows reach the state digest through its triggers). */
    if ((rc = gt_tx_stmt(tx, MK_SQL_SKILLS_DELETE, &q, err))) return rc;
    sqlite3_bind_blob(q, 1, a->from.b, 20, SQLITE_STATIC);
    rc = sqlite3_step(q);
    gt_tx_stmt_done(tx, q);
    if (rc != SQLITE_DONE) return gt_err_set(err, GT_EDB, "writing agent skills: %s", sqlite3_errmsg(tx->db));
    for (const char *p = skills; *p;) {
        const char *e = strchr(p, ',');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if ((rc = gt_tx_stmt(tx, "INSERT INTO mk_agent_skills VALUES(?,?)", &q, err))) return rc;
        sqlite3_bind_text(q, 1, p, (int)len, SQLITE_STATIC);
        sqlite3_bind_blob(q, 2, a->from.b, 20, SQLITE_STATIC);
        rc = sqlite3_step(q);
        gt_tx_stmt_done(tx, q);
        if (rc != SQLITE_DONE) return gt_err_set(err, GT_EDB, "writing agent skills: %s", sqlite3_errmsg(tx->db));
        if (!e) break;
        p = e + 1;
    }
    c->changes++;
    if (mk_rec_tag(c, MK_REC_AGENT) || mk_rec_bytes(c, a->from.b, 20) || mk_rec_text(c, name) ||
        mk_rec_text(c, skills) || mk_rec_bytes(c, a->f[F_MODEL].b32, 32) || mk_rec_text(c, ep) ||
        mk_rec_u64(c, a->f[F_PRICE].u64) || mk_rec_u64(c, (uint64_t)status) || mk_rec_bytes(c, a->id, 32) ||
        mk_rec_u64(c, registered_height) || mk_rec_u64(c, tx->height))
        return gt_err_set(err, GT_ENOMEM, "out of memory");
    return 0;
}

MK_APPLY(apply_register)
static int apply_register_rule(mk_ctx *c, const gt_action *a, gt_err *err) {
    /* The status first: a refusal that costs the sender nothing should cost
     * the writer as little (card_check decodes and folds the name). */
    int st = agent_status(c->tx, &a->from, NULL, err);
    if (st < 0) return st;
    char s[43];
    if (st == GT_AGENT_ACTIVE)
        return gt_err_set(err, GT_EEXIST, "agent %s is already registered; send agent_update to change its card",
                          mk_addr(&a->from, s));
    int rc = card_check(c->tx, a, err);
    if (rc) return rc;
    /* A retired agent may come back with a new card (same address, same history). */
    return card_store(c, a, GT_AGENT_ACTIVE, c->tx->height, err);
}

MK_APPLY(apply_update)
static int apply_update_rule(mk_ctx *c, const gt_action *a, gt_err *err) {
    uint64_t reg = 0;
    int st = agent_status(c->tx, &a->from, &reg, err); /* first: as in apply_register_rule */
    if (st < 0) return st;
    char s[43];
    if (st != GT_AGENT_ACTIVE)
        return gt_err_set(err, GT_ESTATE, "agent %s is %s; send agent_register first", mk_addr(&a->from, s),
                          st == GT_AGENT_RETIRED ? "retired" : "not registered");
    int rc = card_check(c->tx, a, err);
    if (rc) return rc;
    return card_store(c, a, GT_AGENT_ACTIVE, reg, err);
}

MK_APPLY(apply_retire)
static int apply_retire_rule(mk_ctx *c, const gt_action *a, gt_err *err) {
    gt_tx *tx = c->tx;
    int st = agent_status(tx, &a->from, NULL, err);
    if (st < 0) return st;
    char s[43];
    if (st != GT_AGENT_ACTIVE)
        return gt_err_set(err, GT_ESTATE, "agent %s is %s", mk_addr(&a->from, s),
                          st == GT_AGENT_RETIRED ? "already retired" : "not registered");
    sqlite3_stmt *q;
    int rc = gt_tx_stmt(tx, "UPDATE mk_agents SET status=1, updated_height=? WHERE addr=?", &q, err);
    if (rc) return rc;
    sqlite3_bind_int64(q, 1, (int64_t)tx->height);
    sqlite3_bind_blob(q, 2, a->from.b, 20, SQLITE_STATIC);
    rc = sqlite3_step(q);
    gt_tx_stmt_done(tx, q);
    if (rc != SQLITE_DONE) return gt_err_set(err, GT_EDB, "writing agent: %s", sqlite3_errmsg(tx->db));
    c->changes++;
    if (mk_rec_tag(c, MK_REC_AGENT) || mk_rec_bytes(c, a->from.b, 20) || mk_rec_u64(c, GT_AGENT_RETIRED) ||
        mk_rec_u64(c, tx->height))
        return gt_err_set(err, GT_ENOMEM, "out of memory");
    return 0;
}

int mk_agent_can_work(gt_tx *tx, const gt_addr *addr, const char *skill, gt_err *err) {
    sqlite3_stmt *q;
    int rc = gt_tx_stmt(tx,
                        "SELECT a.status, a.skills, s.addr IS NOT NULL FROM mk_agents a LEFT JOIN mk_agent_skills s "
                        "ON s.addr=a.addr AND s.skill=? WHERE a.addr=?",
                        &q, err);
    if (rc) return rc;
    sqlite3_bind_text(q, 1, skill, -1, SQLITE_STATIC);
    sqlite3_bind_blob(q, 2, addr->b, 20, SQLITE_STATIC);
    rc = sqlite3_step(q);
    char s[43];
    int ok;
    if (rc == SQLITE_DONE) {
        ok = gt_err_set(err, GT_EPERM, "%s is not a registered agent (send agent_register with skill \"%s\" first)",
                   mk_addr(addr, s), skill);
    } else if (rc != SQLITE_ROW) {
        ok = gt_err_set(err, GT_EDB, "reading agent: %s", sqlite3_errmsg(tx->db));
    } else if (sqlite3_column_int(q, 0) != GT_AGENT_ACTIVE) {
        ok = gt_err_set(err, GT_EPERM, "agent %s is retired and takes no new work", mk_addr(addr, s));
    } else if (!sqlite3_column_int(q, 2)) {
        ok = gt_err_set(err, GT_EPERM, "agent %s does not list skill \"%s\" (its skills: %.200s)", mk_addr(addr, s), skill,
                   (const char *)sqlite3_column_text(q, 1));
    } else {
        ok = 0;
    }
    gt_tx_stmt_done(tx, q);
    return ok;
}

gt_action_kind gt_kind_agent_register = {"agent_register", "AgentRegister", card_fields, 5, apply_register, 1, {0}, {0}, 0};
gt_action_kind gt_kind_agent_update = {"agent_update", "AgentUpdate", card_fields, 5, apply_update, 1, {0}, {0}, 0};
gt_action_kind gt_kind_agent_retire = {"agent_retire", "AgentRetire", NULL, 0, apply_retire, 1, {0}, {0}, 0};
