/* cli_label.c: `gotong label`: paid human feedback on a node (fund/label.h).
 * A person labels with `gotong label 0xTASK`: a keyboard-driven screen on a
 * terminal (cli_label_tui.c) or plain lines when stdin is not one; each
 * choice is committed signed by the wallet, its salt kept in
 * HOME/labels/ until `gotong label reveal` opens it. The poster's side: post
 * (items from a JSON file, the gold kept hidden in HOME/labels/), close (opens
 * the gold), export (DPO / HH-RLHF lines or the dataset card). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>

#include "agent/client.h"
#include "base/amount.h"
#include "base/file.h"
#include "base/hex.h"
#include "base/json.h"
#include "cli/cli.h"
#include "cli/cli_label.h"
#include "crypto/addr.h"
#include "crypto/keystore.h"

#define LABEL_FILE_MAX (4u * 1024u * 1024u) /* an items file or a saved-labels file */
/* The shortest window `label join` accepts by default, to label every item
 * and to reveal: five minutes, half of a person's window on a network
 * `gotong init` makes (ledger.h's GT_DEFAULT_PERSON_WINDOW_S), so a task
 * posted with those windows can be joined a while after it was posted. */
#define GT_LABEL_JOIN_MIN_WINDOW_S 300

static const char *usage_text =
    "usage: gotong label 0xTASK [options]        label a task's items (keys 1-4 choose or order; a reason optional)\n"
    "       gotong label COMMAND [options]       (talks to a node: --node URL, default " GT_CLIENT_DEFAULT_URL ")\n\n"
    "labellers (an attested human: gotong fund human 0xADDR):\n"
    "  join    0xTASK     take a seat, staking the task's bond; refused when the time left to label or the\n"
    "                     reveal window is under --min-window S (300), or the bond is over --max-bond AMT (twice\n"
    "                     the seat's pay), or when your proof of human expires before commitEndS: a seat that\n"
    "                     misses a label loses its bond\n"
    "  0xTASK             label the next items: on a terminal one screen per item (a key 1-4 chooses, then\n"
    "                     type a reason or Enter; q quits); else one line per item from stdin:\n"
    "                     \"N [reason]\" or \"q\". On a ranking task the keys give the answers best first\n"
    "                     (3, 1, 2: the last is implied), a line \"312 [reason]\"\n"
    "  reveal  0xTASK     open your committed labels once every seat has labelled (or the window ended)\n"
    "posters:\n"
    "  post    --file ITEMS.json [--labellers K (3)] [--pay AMT (0.01)] [--bond AMT (pay * items)]\n"
    "          [--gold-bar PCT (100)] [--min-gold N (1)] [--min-labels N (1)] [--commit-window S (3600)]\n"
    "          [--reveal-window S (3600)] (each window 300 s at least)\n"
    "          ITEMS.json: {\"name\": \"...\", \"items\": [{\"prompt\": \"...\",\n"
    "          \"answers\": [\"...\", \"...\"], \"gold\": 0}, ...]} (\"gold\" only on the hidden gold items)\n"
    "          [--ranking]  labellers order the answers; a gold is then the right order, \"gold\": \"201\"\n"
    "                       (answer indexes 0.., best first)\n"
    "          the gold is saved in DIR/labels before the post is sent; a post cut short after the task\n"
    "          landed is finished with: post --file ITEMS.json 0xTASK (adds the items it lacks); the\n"
    "          same items posted again without 0xTASK while that task lacks some are refused\n"
    "  close   0xTASK     open the gold, tally, pay; anyone may close by rule after the poster's grace period\n"
    "anyone:\n"
    "  tasks | show 0xTASK | export 0xTASK [--format dpo|hh|card] [--out FILE]\n\n"
    "common options: --home DIR (keystore; labels' salts in DIR/labels), --from ADDR, --password-file FILE,\n"
    "  --node URL, --json\n";

int gt_label_parse(int argc, char **argv, gt_label_opts *o) {
    memset(o, 0, sizeof *o);
    o->labellers = 3, o->pay = 10000, o->gold_bar = 100, o->min_gold = 1, o->min_labels = 1;
    o->commit_window_s = 3600, o->reveal_window_s = 3600, o->format = "dpo";
    o->min_window_s = GT_LABEL_JOIN_MIN_WINDOW_S;
    const gt_cli_opt opts[] = {
        {"--json", NULL, GT_CLI_OPT_FLAG, &o->json, 0, 0, NULL},
        {"--ranking", NULL, GT_CLI_OPT_FLAG, &o->ranking, 0, 0, NULL},
        {"--home", NULL, GT_CLI_OPT_STR, &o->home, 0, 0, NULL},
        {"--node", NULL, GT_CLI_OPT_STR, &o->node, 0, 0, NULL},
        {"--from", NULL, GT_CLI_OPT_STR, &o->from, 0, 0, NULL},
        {"--password-file", NULL, GT_CLI_OPT_STR, &o->password_file, 0, 0, NULL},
        {"--file", NULL, GT_CLI_OPT_STR, &o->file, 0, 0, NULL},
        {"--format", NULL, GT_CLI_OPT_STR, &o->format, 0, 0, NULL},
        {"--out", NULL, GT_CLI_OPT_STR, &o->out, 0, 0, NULL},
        {"--labellers", NULL, GT_CLI_OPT_U64, &o->labellers, 1, GT_AGREE_MAX_RATERS, NULL},
        {"--pay", NULL, GT_CLI_OPT_AMOUNT, &o->pay, 0, 0, NULL},
        {"--bond", NULL, GT_CLI_OPT_AMOUNT, &o->bond, 0, 0, NULL},
        {"--gold-bar", NULL, GT_CLI_OPT_U64, &o->gold_bar, 0, 100, NULL},
        {"--min-gold", NULL, GT_CLI_OPT_U64, &o->min_gold, 1, GT_LABEL_MAX_ITEMS, NULL},
        {"--min-labels", NULL, GT_CLI_OPT_U64, &o->min_labels, 1, GT_AGREE_MAX_RATERS, NULL},
        /* the ledger refuses a window under GT_LABEL_MIN_WINDOW_S (format 10) */
        {"--commit-window", NULL, GT_CLI_OPT_U64, &o->commit_window_s, GT_LABEL_MIN_WINDOW_S,
         GT_LABEL_MAX_WINDOW_S / 2, NULL},
        {"--reveal-window", NULL, GT_CLI_OPT_U64, &o->reveal_window_s, GT_LABEL_MIN_WINDOW_S,
         GT_LABEL_MAX_WINDOW_S / 2, NULL},
        {"--min-window", NULL, GT_CLI_OPT_U64, &o->min_window_s, 1, GT_LABEL_MAX_WINDOW_S, NULL},
        {"--max-bond", NULL, GT_CLI_OPT_AMOUNT, &o->max_bond, 0, 0, NULL},
        {NULL, NULL, 0, NULL, 0, 0, NULL}};
    int n_pos = 0;
    int rc = gt_cli_parse_text("label", argc, argv, 1, opts, &o->pos, 1, &n_pos, usage_text);
    if (rc >= 0) return rc;
    if (o->pos && (strncmp(o->pos, "0x", 2) || gt_hex_decode(o->pos, o->task, 32, "task id", NULL)))
        return gt_cli_usage_error("label", "task id: expected 0x and 64 hex digits, got \"%.80s\"", o->pos);
    o->have_task = o->pos != NULL;
    return -1;
}

static int fill(void *arg, gt_action *a, gt_err *err) {
    const gt_label_fields *f = arg;
    const gt_action_kind *k = a->kind;
    static const char *const u64s[] = {"items",   "labellers",  "payPerLabel", "bond",   "goldBarPct",
                                       "minGold", "minLabels",  "commitEndS",  "revealEndS", "answers",
                                       "item",    "choice",     NULL};
    const uint64_t vals[] = {f->items,    f->labellers,  f->pay,     f->bond, f->gold_bar, f->min_gold, f->min_labels,
                             f->commit_end, f->reveal_end, f->answers, f->item, f->choice};
    for (int i = 0; u64s[i]; i++)
        if (gt_action_field(k, u64s[i]) >= 0) gt_action_set_u64(a, u64s[i], vals[i]);
    static const char *const b32s[] = {"task", "commitment", "secret", "goldCommit", "goldSalt", NULL};
    const uint8_t *bv[] = {f->task, f->commitment, f->salt, f->gold_commit, f->salt};
    for (int i = 0; b32s[i]; i++)
        if (gt_action_field(k, b32s[i]) >= 0) gt_action_set_b32(a, b32s[i], bv[i]);
    static const char *const strs[] = {"name", "prompt", "reason", "gold", "answer0", "answer1", "answer2", "answer3",
                                       NULL};
    const char *sv[] = {f->name, f->prompt, f->reason, f->gold, f->answer[0], f->answer[1], f->answer[2], f->answer[3]};
    for (int i = 0; strs[i]; i++) {
        const char *s = sv[i] ? sv[i] : "";
        if (gt_action_field(k, strs[i]) >= 0 && gt_action_set_str(a, strs[i], s, strlen(s), err)) return GT_ELIMIT;
    }
    return 0;
}

int gt_label_send(gt_client *c, const gt_key *key, const gt_action_kind *kind, gt_label_fields *f, int quiet,
                  uint8_t id_out[32], gt_err *err) {
    uint8_t id[32];
    uint64_t height = 0;
    int rc = gt_client_act_keep(c, key, kind, fill, f, f->keep, f->keep_arg, id, &height, err);
    if (rc) return rc;
    if (id_out) memcpy(id_out, id, 32);
    char hex[67] = "0x";
    gt_hex_encode(id, 32, hex + 2);
    if (!quiet) printf("%s %s applied in block %llu\n", kind->name, hex, (unsigned long long)height);
    return 0;
}

int gt_label_random32(uint8_t out[32], gt_err *err) {
    if (getrandom(out, 32, 0) != 32) return gt_err_set(err, GT_EIO, "no randomness from the system (getrandom)");
    return 0;
}

int gt_label_path(const gt_label_opts *o, const char *what, const gt_addr *who, char *out, size_t cap, gt_err *err) {
    char home[512], hex[65], a[43] = "";
    if (gt_cli_home(o->home, home, sizeof home, err)) return err->code;
    gt_hex_encode(o->task, 32, hex);
    if (who) gt_addr_to_str(who, a);
    snprintf(out, cap, "%s/labels", home);
    if (mkdir(out, 0700) && errno != EEXIST)
        return gt_err_set(err, GT_EIO, "cannot create %s: %s", out, strerror(errno));
    int n = snprintf(out, cap, "%s/labels/%s%s%s.json", home, hex, who ? "-" : "", who ? a : what);
    return n > 0 && (size_t)n < cap ? 0 : gt_err_set(err, GT_ELIMIT, "the home path is too long");
}

json_t *gt_label_load_saved(const char *path, gt_err *err) {
    uint8_t *data = NULL;
    size_t len = 0;
    struct stat st;
    if (stat(path, &st) != 0) return json_object(); /* nothing saved yet */
    if (gt_file_read(path, LABEL_FILE_MAX, &data, &len, err)) return NULL;
    json_error_t je;
    json_t *j = json_loadb((const char *)data, len, 0, &je);
    free(data);
    if (!j || !json_is_object(j)) {
        json_decref(j);
        gt_err_set(err, GT_EINVAL, "%s: not the JSON object gotong label saves (%s)", path, je.text);
        return NULL;
    }
    return j;
}

int gt_label_save(const char *path, const json_t *j, gt_err *err) {
    char *text = gt_json_dump(j);
    if (!text) return gt_err_set(err, GT_ENOMEM, "out of memory");
    int rc = gt_file_write_atomic(path, text, strlen(text), 0600, err);
    free(text);
    return rc;
}

int gt_label_now_s(gt_client *c, uint64_t *now_s, gt_err *err) {
    uint64_t height, head_s, clock_s = (uint64_t)time(NULL);
    if (gt_client_head(c, &height, &head_s, err)) return err->code;
    *now_s = head_s > clock_s ? head_s : clock_s;
    return 0;
}

/* `label show` / `label tasks`: the node's JSON. */
static int l_show(gt_client *c, const gt_label_opts *o) {
    char path[160];
    if (o->have_task) snprintf(path, sizeof path, "/v1/label/tasks/%s", o->pos);
    else snprintf(path, sizeof path, "/v1/label/tasks");
    gt_err err = {0};
    json_t *j = NULL;
    if (gt_client_get_json(c, path, &j, &err)) return gt_cli_fail(&err);
    return gt_cli_json_out(j);
}

/* Refuses a command that needs a task when none was given. */
static int need_task(const gt_label_opts *o, const char *sub) {
    if (!o->have_task) return gt_cli_usage_error("label", "%s: give the task's id (0x and 64 hex digits)", sub);
    return -1;
}

/* A task's amount field (base units as a decimal string) into *v; 0 or GT_EIO. */
static int task_amount(const json_t *t, const char *key, uint64_t *v, gt_err *err) {
    const char *s = json_string_value(json_object_get(t, key));
    char *end = NULL;
    errno = 0;
    *v = s ? strtoull(s, &end, 10) : 0;
    if (!s || !*s || *end || errno) return gt_err_set(err, GT_EIO, "the node sent no %s for the task", key);
    return 0;
}

/* Refuses a seat whose labeller's proof of human ends before commitEndS:
 * before ledger format 10 every commit checks it again, so a labeller whose
 * attestations all expire (or are revoked) mid-task cannot label the rest,
 * and the seat is incomplete. From format 10 only the join checks it, but
 * the node does not say which rule its ledger is under, so the check stays
 * (renewing first costs the labeller nothing). Without an unrevoked
 * attestation the node refuses the join itself, saying why. */
static int attest_check(gt_client *c, const gt_addr *who, uint64_t commit_end_s, gt_err *err) {
    char path[96], a[43];
    json_t *j = NULL, *at;
    size_t i;
    uint64_t until = 0;
    gt_addr_to_str(who, a);
    snprintf(path, sizeof path, "/v1/fund/humans/%s", a);
    if (gt_client_get_json(c, path, &j, err)) return err->code;
    json_array_foreach(json_object_get(j, "attestations"), i, at) {
        json_int_t exp = json_integer_value(json_object_get(at, "expiresS"));
        if (!json_is_true(json_object_get(at, "revoked")) && exp > 0 && (uint64_t)exp > until) until = (uint64_t)exp;
    }
    json_decref(j);
    if (until && until < commit_end_s)
        return gt_err_set(err, GT_ESTATE, "not joined: this address's proof of human expires at %llu, before the task"
                          " takes its last label (commitEndS %llu): each label is committed only while it is valid,"
                          " and a seat that misses one loses its bond; renew it first", (unsigned long long)until,
                          (unsigned long long)commit_end_s);
    return 0;
}

/* The terms of a seat, checked before its bond is staked. The rules before
 * ledger format 10 let a poster choose windows of a second (from format 10
 * each is GT_LABEL_MIN_WINDOW_S at least; a labeller may want more): a seat
 * that cannot label every item before commitEndS, or reveal them in the
 * window after it (unless every seat labels early, reveals open only at
 * commitEndS), is incomplete -- its bond burned, its pay back to the poster
 * (before format 10), and whatever it revealed public -- so a poster gains
 * by windows a person cannot meet. A bond far over the
 * seat's pay is what a false gold burns. Refused unless the labeller lowers
 * --min-window or raises --max-bond. */
static int join_terms_check(gt_client *c, const gt_label_opts *o, const gt_addr *who, gt_err *err) {
    char path[160], bond_s[GT_AMOUNT_TOKENS_MAX], max_s[GT_AMOUNT_TOKENS_MAX];
    json_t *t = NULL;
    uint64_t now, bond, pay;
    snprintf(path, sizeof path, "/v1/label/tasks/%s", o->pos);
    int rc = gt_client_get_json(c, path, &t, err) || gt_label_now_s(c, &now, err) ||
             task_amount(t, "bond", &bond, err) || task_amount(t, "payPerLabel", &pay, err);
    json_int_t items = json_integer_value(json_object_get(t, "items"));
    json_int_t ce = json_integer_value(json_object_get(t, "commitEndS"));
    json_int_t re = json_integer_value(json_object_get(t, "revealEndS"));
    json_decref(t);
    if (rc) return err->code;
    if (items < 1 || ce < 1 || re <= ce) return gt_err_set(err, GT_EIO, "the node sent a task without its terms");
    uint64_t seat_pay = pay * (uint64_t)items, max_bond = o->max_bond ? o->max_bond : 2 * seat_pay;
    if (now < (uint64_t)ce && (uint64_t)ce - now < o->min_window_s)
        return gt_err_set(err, GT_ESTATE, "not joined: %llu s are left to label the task's %lld items (commitEndS"
                          " %lld), under --min-window %llu; a seat that misses an item loses its bond",
                          (unsigned long long)((uint64_t)ce - now), (long long)items, (long long)ce,
                          (unsigned long long)o->min_window_s);
    if ((uint64_t)(re - ce) < o->min_window_s)
        return gt_err_set(err, GT_ESTATE, "not joined: the reveal window is %lld s (commitEndS %lld to revealEndS"
                          " %lld), under --min-window %llu; unless every seat labels early, labels are revealed only"
                          " in it, and a seat that misses it loses its bond", (long long)(re - ce), (long long)ce,
                          (long long)re, (unsigned long long)o->min_window_s);
    if (bond > max_bond)
        return gt_err_set(err, GT_ESTATE, "not joined: the task's bond is %s, over --max-bond %s (by default"
                          " twice the seat's pay of %lld items)", gt_amount_tokens(bond, bond_s),
                          gt_amount_tokens(max_bond, max_s), (long long)items);
    return attest_check(c, who, (uint64_t)ce, err);
}

/* `label join`. */
static int l_join(gt_client *c, const gt_label_opts *o) {
    int rc = need_task(o, "join");
    if (rc >= 0) return rc;
    gt_err err = {0};
    gt_key key;
    gt_addr who;
    gt_label_fields f = {0};
    memcpy(f.task, o->task, 32);
    if (gt_cli_load_key(o->home, o->from, o->password_file, &key, &who, &err)) return gt_cli_fail(&err);
    if (join_terms_check(c, o, &who, &err)) {
        gt_key_wipe(&key);
        return gt_cli_fail(&err);
    }
    rc = gt_label_send(c, &key, &gt_kind_label_join, &f, 0, NULL, &err);
    gt_key_wipe(&key);
    return rc ? gt_cli_fail(&err) : 0;
}

static int cmd_label(int argc, char **argv) {
    static const char *const subs[] = {"join", "reveal", "post", "close", "tasks", "show", "export", NULL};
    static int (*const fns[])(gt_client *, const gt_label_opts *) = {l_join, gt_label_reveal, gt_label_post,
                                                                     gt_label_close, l_show, l_show, gt_label_export};
    int which = -1, rc;
    gt_label_opts o;
    if (argc > 1 && !strncmp(argv[1], "0x", 2)) { /* gotong label 0xTASK: labelling */
        if ((rc = gt_label_parse(argc, argv, &o)) >= 0) return rc;
    } else {
        if ((rc = gt_cli_subcommand_text("label", argc, argv, subs, usage_text, &which)) >= 0) return rc;
        if ((rc = gt_label_parse(argc - 1, argv + 1, &o)) >= 0) return rc;
        if (which == 4 && o.have_task) return gt_cli_usage_error("label", "tasks: takes no task id (show 0xTASK)");
    }
    gt_client *c = NULL;
    gt_err err = {0};
    if (gt_client_new(gt_cli_node(o.node), &c, &err)) return gt_cli_fail(&err);
    rc = which < 0 ? gt_label_tui(c, &o) : fns[which](c, &o);
    gt_client_free(c);
    return rc;
}

GT_CLI_COMMAND(label_cmd, "label", "label preference items for pay as an attested human; post and export tasks",
               cmd_label)
