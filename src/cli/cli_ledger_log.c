/* cli_ledger_log.c: `gotong ledger log|verify|head|submit|backup`: reading
 * and checking the signed action log, applying actions signed elsewhere, and
 * a consistent copy of the ledger taken while a node runs. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/alloc.h"
#include "base/buf.h"
#include "base/file.h"
#include "base/hex.h"
#include "base/json.h"
#include "base/limits.h"
#include "base/progress.h"
#include "cli/cli.h"
#include "ledger/ledger.h"

static const char ledger_usage[] =
    "usage: gotong ledger SUBCOMMAND [--home DIR] [--json]\n"
    "  log [--from H] [--to H]   blocks and their signed actions (JSON, one per line with --json)\n"
    "  head                      the latest block: height, time, hash, state root, and the draw\n"
    "                            seed it reveals with its seed anchor (keccak256 of a block's seed\n"
    "                            is the seed of the block before it, or the anchor at a segment's\n"
    "                            first block)\n"
    "  verify                    replay the whole log from genesis; check every signature,\n"
    "                            nonce, rule, root and hash, and the stored state\n"
    "  submit FILE|-             apply signed actions (JSON objects, one per line or an array),\n"
    "                            e.g. made by `gotong wallet sign --typed-data` or any EIP-712 wallet\n"
    "  backup OUT [--no-secret]  a consistent copy of HOME/ledger.db in the new file OUT, safe while\n"
    "                            the node runs (a cp of ledger.db and its WAL is not); checked as a\n"
    "                            node checks a ledger it opens. It holds the draw seed secret: mode\n"
    "                            0600, keep it private. To restore: stop the node, move ledger.db,\n"
    "                            ledger.db-wal and ledger.db-shm aside, copy OUT to HOME/ledger.db,\n"
    "                            start the node; what was applied after the backup is gone. OUT may\n"
    "                            not end -wal, -shm or -journal (SQLite's side files of a database).\n"
    "                            --no-secret: a copy to give someone who verifies, without the\n"
    "                            secret (whoever reads it knows every future draw); `ledger verify`\n"
    "                            reads it, no node will write on it\n";

static void hex32(const uint8_t *b, char out[67]) {
    out[0] = '0', out[1] = 'x';
    gt_hex_encode(b, 32, out + 2);
}

/* A block as the CLI's JSON: the header's fields, with the draw seed and
 * its anchor under the names GET /v1/head uses ("seed", "seedAnchor"). */
static json_t *block_json(const gt_block *b) {
    char h[67], p[67], ar[67], sr[67], seed[67], anchor[67];
    hex32(b->hash, h), hex32(b->prev, p), hex32(b->actions_root, ar), hex32(b->state_root, sr);
    hex32(b->seed, seed), hex32(b->seed_anchor, anchor);
    return json_pack("{s:I,s:I,s:i,s:s,s:s,s:s,s:s,s:s,s:s}", "height", (json_int_t)b->height, "time",
                     (json_int_t)b->time_s, "actions", (int)b->n_actions, "hash", h, "prev", p,
                     "actionsRoot", ar, "stateRoot", sr, "seed", seed, "seedAnchor", anchor);
}

/* Prints a block header: JSON (block_json), or for people its height,
 * time, hash, state root, draw seed and seed anchor, one per line. */
static void print_block(const gt_block *b, int json) {
    if (json) {
        gt_cli_json_out(json_pack("{s:o*}", "block", block_json(b)));
        return;
    }
    char h[67], sr[67], seed[67], anchor[67];
    hex32(b->hash, h), hex32(b->state_root, sr), hex32(b->seed, seed), hex32(b->seed_anchor, anchor);
    printf("block %llu  time %llu  %u actions\n  hash   %s\n  state  %s\n  seed   %s\n  anchor %s\n",
           (unsigned long long)b->height, (unsigned long long)b->time_s, b->n_actions, h, sr, seed, anchor);
}

typedef struct log_arg {
    int json;
} log_arg;

static int print_action(void *arg, uint64_t height, uint32_t index, const char *json) {
    log_arg *la = arg;
    if (la->json) printf("{\"height\":%llu,\"index\":%u,\"action\":%s}\n", (unsigned long long)height, index, json);
    else printf("  [%u] %s\n", index, json);
    return 0;
}

static void verify_progress(void *arg, uint64_t done, uint64_t total) {
    gt_progress *p = arg;
    p->total = total;
    gt_progress_update(p, done);
}

/* Reads actions from a file (or stdin): a JSON array, or one object per line. */
static int read_actions(const char *file, gt_action **out, size_t *n_out, gt_err *err) {
    uint8_t *data = NULL;
    size_t len = 0;
    int rc;
    if (!strcmp(file, "-")) {
        gt_buf b = GT_BUF_INIT;
        char chunk[4096];
        size_t r;
        while ((r = fread(chunk, 1, sizeof chunk, stdin)) > 0) {
            if (b.len + r > GT_LIMIT_BLOB_BYTES) { gt_buf_free(&b); return gt_err_set(err, GT_ELIMIT, "input over %d bytes", GT_LIMIT_BLOB_BYTES); }
            if (gt_buf_append(&b, chunk, r)) { gt_buf_free(&b); return gt_err_set(err, GT_ENOMEM, "out of memory"); }
        }
        data = gt_buf_take(&b, &len);
        if (!data) return gt_err_set(err, GT_EINVAL, "no input on stdin");
    } else if ((rc = gt_file_read(file, GT_LIMIT_BLOB_BYTES, &data, &len, err))) {
        return rc;
    }
    json_t *arr = NULL;
    json_error_t je;
    /* An array, or a stream of objects separated by whitespace. */
    size_t i = 0;
    while (i < len && (data[i] == ' ' || data[i] == '\n' || data[i] == '\t' || data[i] == '\r')) i++;
    if (i < len && data[i] == '[') {
        if ((rc = gt_json_parse((const char *)data, len, GT_LIMIT_BLOB_BYTES, &arr, err))) { gt_free(data); return rc; }
    } else {
        arr = json_array();
        size_t off = 0;
        while (off < len) {
            while (off < len && (data[off] == ' ' || data[off] == '\n' || data[off] == '\t' || data[off] == '\r')) off++;
            if (off >= len) break;
            json_t *v = json_loadb((const char *)data + off, len - off, JSON_DISABLE_EOF_CHECK | JSON_REJECT_DUPLICATES, &je);
            if (!v) {
                rc = gt_err_set(err, GT_EINVAL, "malformed JSON in action %zu (line %d column %d): %s", json_array_size(arr) + 1, je.line, je.column, je.text);
                json_decref(arr);
                gt_free(data);
                return rc;
            }
            json_array_append_new(arr, v);
            off += je.position;
        }
    }
    gt_free(data);
    size_t n = json_array_size(arr);
    if (!json_is_array(arr) || n == 0) { json_decref(arr); return gt_err_set(err, GT_EINVAL, "no actions in %s", file); }
    gt_action *acts = gt_calloc(n, sizeof *acts);
    if (!acts) { json_decref(arr); return gt_err_set(err, GT_ENOMEM, "out of memory"); }
    for (size_t k = 0; k < n; k++) {
        if ((rc = gt_action_from_json(json_array_get(arr, k), &acts[k], err))) {
            gt_err_wrap(err, "action %zu", k + 1);
            gt_free(acts);
            json_decref(arr);
            return rc;
        }
    }
    json_decref(arr);
    *out = acts;
    *n_out = n;
    return 0;
}

/* What the ledger subcommands take. */
typedef struct ledger_opts {
    const char *home, *file; /* file: submit's FILE or - */
    int json, no_secret; /* no_secret: backup's --no-secret */
    uint64_t from, to;
    char db[4200];
} ledger_opts;

/* `ledger verify`: replays the whole log and prints the report. */
static int ledger_verify(ledger_opts *o) {
    gt_err err = {0};
    gt_verify_report rep;
    gt_progress p;
    gt_progress_start(&p, "verify", 0);
    int rc = gt_ledger_verify(o->db, &rep, verify_progress, &p, &err);
    gt_progress_finish(&p);
    if (rc) {
        if (o->json) printf("{\"ok\":false,\"error\":\"%s\"}\n", gt_err_name(rc));
        return gt_cli_fail(&err);
    }
    char h[67];
    hex32(rep.head_hash, h);
    if (o->json)
        printf("{\"ok\":true,\"blocks\":%llu,\"actions\":%llu,\"head\":\"%s\",\"supply\":%llu,\"seedSecret\":%s}\n",
               (unsigned long long)rep.blocks, (unsigned long long)rep.actions, h, (unsigned long long)rep.supply,
               rep.secret_absent ? "false" : "true");
    else
        printf("ok: replayed %llu blocks and %llu actions from genesis; every signature, root and hash checks;\n"
               "stored state equals the replay. head %s\n%s",
               (unsigned long long)rep.blocks, (unsigned long long)rep.actions, h,
               rep.secret_absent ? "This copy holds no draw seed secret (made with `ledger backup --no-secret`): each "
                                   "block's seed is checked against the next, not against the secret; no node will "
                                   "write on it.\n"
                                 : "");
    return 0;
}

/* Prints the result of submitted action i. */
static void print_submitted(const ledger_opts *o, size_t i, const gt_action *a, const gt_result *r) {
    char id[67];
    hex32(a->id, id);
    if (o->json) {
        json_t *j = r->code ? json_pack("{s:s,s:b,s:s,s:s}", "id", id, "ok", 0, "error", gt_err_name(r->code),
                                        "message", r->msg)
                            : json_pack("{s:s,s:b,s:I}", "id", id, "ok", 1, "height", (json_int_t)r->height);
        gt_cli_json_out(j);
    } else if (r->code) {
        fprintf(stderr, "action %zu %s refused: %s\n", i + 1, id, r->msg);
    } else {
        printf("action %zu %s applied in block %llu\n", i + 1, id, (unsigned long long)r->height);
    }
}

/* `ledger submit FILE|-`: applies the signed actions in FILE; 1 unless
 * every one applied. */
static int ledger_submit(ledger_opts *o) {
    if (!o->file) return gt_cli_usage_error("ledger", "submit needs a FILE (or - for stdin)");
    gt_err err = {0};
    gt_action *acts = NULL;
    size_t n = 0;
    if (read_actions(o->file, &acts, &n, &err)) return gt_cli_fail(&err);
    gt_ledger *l;
    if (gt_ledger_open(o->db, 0, &l, &err)) {
        gt_free(acts);
        return gt_cli_fail(&err);
    }
    gt_result *res = gt_calloc(n, sizeof *res);
    size_t ok = res ? gt_ledger_submit(l, acts, n, res) : 0;
    for (size_t i = 0; res && i < n; i++) print_submitted(o, i, &acts[i], &res[i]);
    gt_free(res);
    gt_free(acts);
    gt_ledger_close(l);
    return ok == n ? 0 : 1;
}

/* `ledger head` (log: 0) and `ledger log` (1): the latest block, or the
 * blocks --from..--to with their actions. */
static int ledger_read(ledger_opts *o, int log) {
    gt_err err = {0};
    gt_ledger *l;
    if (gt_ledger_open(o->db, GT_LEDGER_READONLY, &l, &err)) return gt_cli_fail(&err);
    int rc = 0;
    gt_block head;
    if (gt_ledger_head(l, &head, &err)) rc = gt_cli_fail(&err);
    else if (!log) print_block(&head, o->json);
    log_arg la = {o->json};
    for (uint64_t h = o->from; !rc && log && h <= (o->to < head.height ? o->to : head.height); h++) {
        gt_block b;
        if (gt_ledger_block(l, h, &b, &err)) {
            rc = gt_cli_fail(&err);
            break;
        }
        print_block(&b, o->json);
        if (b.n_actions && gt_ledger_each_action(l, h, h, print_action, &la, &err)) rc = gt_cli_fail(&err);
    }
    gt_ledger_close(l);
    return rc;
}

/* `ledger backup OUT`: a checked copy of the ledger (gt_ledger_backup). */
static int ledger_backup(ledger_opts *o) {
    if (!o->file) return gt_cli_usage_error("ledger", "backup needs OUT, the new file to write");
    gt_err err = {0};
    gt_block head;
    if (gt_ledger_backup(o->db, o->file, o->no_secret ? GT_BACKUP_NO_SECRET : 0, &head, &err))
        return gt_cli_fail(&err);
    /* Said from the copy itself: a backup of a copy made --no-secret holds none either. */
    gt_ledger *c = NULL;
    int secret = gt_ledger_open(o->file, GT_LEDGER_READONLY, &c, &err) ? -1 : gt_ledger_has_secret(c);
    gt_ledger_close(c);
    if (secret < 0) secret = !o->no_secret; /* what was asked: the backup itself checked the copy */
    char h[67];
    hex32(head.hash, h);
    if (o->json)
        return gt_cli_json_out(json_pack("{s:b,s:s,s:I,s:s,s:b}", "ok", 1, "file", o->file, "height",
                                         (json_int_t)head.height, "hash", h, "secret", secret));
    printf("backup %s: block %llu, hash %s; its block hashes, actions, state and supply check.\n%s\n", o->file,
           (unsigned long long)head.height, h,
           !secret ? "It holds no draw seed secret: a copy for `gotong ledger verify`, which no node will extend."
                   : "It holds the node's draw seed secret (mode 0600): keep it private.");
    return 0;
}

static int ledger_head(ledger_opts *o) { return ledger_read(o, 0); }
static int ledger_log(ledger_opts *o) { return ledger_read(o, 1); }

static int cmd_ledger(int argc, char **argv) {
    static const char *const subs[] = {"log", "head", "verify", "submit", "backup", NULL};
    static int (*const fns[])(ledger_opts *) = {ledger_log, ledger_head, ledger_verify, ledger_submit,
                                                ledger_backup};
    int which, rc = gt_cli_subcommand_text("ledger", argc, argv, subs, ledger_usage, &which);
    if (rc >= 0) return rc;
    ledger_opts o = {.to = UINT64_MAX};
    const gt_cli_opt opts[] = {
        {"--home", NULL, GT_CLI_OPT_STR, &o.home, 0, 0, NULL},
        {"--json", NULL, GT_CLI_OPT_FLAG, &o.json, 0, 0, NULL},
        {"--from", NULL, GT_CLI_OPT_U64, &o.from, 0, INT64_MAX, NULL}, /* block heights */
        {"--to", NULL, GT_CLI_OPT_U64, &o.to, 0, INT64_MAX, NULL},
        {"--no-secret", NULL, GT_CLI_OPT_FLAG, &o.no_secret, 0, 0, NULL},
        {NULL, NULL, 0, NULL, 0, 0, NULL}};
    int n_pos = 0;
    rc = gt_cli_parse_text("ledger", argc - 1, argv + 1, 1, opts, &o.file, which >= 3, &n_pos, ledger_usage);
    if (rc >= 0) return rc;
    if (o.no_secret && fns[which] != ledger_backup)
        return gt_cli_usage_error("ledger", "--no-secret is an option of backup only");
    gt_err err = {0};
    char home_path[4096];
    if (gt_cli_home(o.home, home_path, sizeof home_path, &err)) return gt_cli_fail(&err);
    snprintf(o.db, sizeof o.db, "%s/ledger.db", home_path);
    return fns[which](&o);
}
GT_CLI_COMMAND(cli_ledger, "ledger", "read and verify the signed action log; submit signed actions", cmd_ledger)
