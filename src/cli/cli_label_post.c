/* cli_label_post.c: the poster's side of `gotong label` -- post a task from
 * an items file (the gold kept in HOME/labels/<task>.gold.json until close,
 * saved before the post is sent), add the items a post cut short lacks,
 * close it (opening the gold) -- and `export`, which rebuilds a closed task's
 * DPO / HH-RLHF lines from the node's items and refuses them unless their
 * Merkle root is the one the ledger recorded. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/file.h"
#include "base/hex.h"
#include "base/json.h"
#include "cli/cli.h"
#include "cli/cli_label.h"
#include "crypto/keystore.h"
#include "crypto/sha256.h"
#include "work/label/rank.h"

#define LABEL_ITEMS_FILE_MAX (4u << 20) /* an items file (64 items of up to 20 KiB of text) */

/* The items of a post (borrowed from the file's JSON). */
typedef struct post_items {
    const char *name;
    size_t n;
    const json_t *item[GT_LABEL_MAX_ITEMS];
    char gold[GT_LABEL_GOLD_MAX + 1];
    size_t gold_len;
    char items_hex[65]; /* sha256 of the items' JSON (keys sorted, compact): which file a saved gold is for */
} post_items;

/* Appends item i's gold to p->gold: '-' without one, the answer's digit, or
 * on a ranking task the order's digits ("gold": "201"); the whole string is
 * checked by gt_fund_label_gold_parse once every item is read. */
static int item_gold(const json_t *g, size_t i, size_t na, int ranking, post_items *p, gt_err *err) {
    const char *text = ranking ? json_string_value(g) : NULL;
    size_t len = !g ? 1 : ranking ? json_string_length(g) : 1;
    if (g && ranking && (!text || len != na))
        return gt_err_set(err, GT_EINVAL,
                          "items[%zu].gold: expected the right order as a string of its %zu answers' indexes, best"
                          " first (e.g. \"%.*s\")",
                          i, na, (int)na, "1032");
    if (g && !ranking && (!json_is_integer(g) || json_integer_value(g) < 0 || (size_t)json_integer_value(g) >= na))
        return gt_err_set(err, GT_EINVAL, "items[%zu].gold: expected the right answer's index, 0 to %zu", i, na - 1);
    if (p->gold_len + len > GT_LABEL_GOLD_MAX) return gt_err_set(err, GT_ELIMIT, "items[%zu].gold: too long", i);
    if (!g) p->gold[p->gold_len] = '-';
    else if (ranking) memcpy(p->gold + p->gold_len, text, len);
    else p->gold[p->gold_len] = (char)('0' + json_integer_value(g));
    p->gold_len += len;
    p->gold[p->gold_len] = 0;
    return 0;
}

/* Checks one item of the file: a prompt, 2-4 answers, an optional gold. */
static int check_item(const json_t *it, size_t i, int ranking, post_items *p, gt_err *err) {
    const json_t *ans = json_object_get(it, "answers"), *g = json_object_get(it, "gold");
    size_t na = json_array_size(ans);
    if (!json_is_string(json_object_get(it, "prompt")))
        return gt_err_set(err, GT_EINVAL, "items[%zu]: expected \"prompt\": a string", i);
    if (json_string_length(json_object_get(it, "prompt")) > GT_LABEL_PROMPT_MAX) /* told before anything is sent */
        return gt_err_set(err, GT_ELIMIT, "items[%zu].prompt: %zu bytes, at most %d", i,
                          json_string_length(json_object_get(it, "prompt")), GT_LABEL_PROMPT_MAX);
    if (!json_is_array(ans) || na < 2 || na > GT_PREF_MAX_ANSWERS)
        return gt_err_set(err, GT_EINVAL, "items[%zu]: expected \"answers\": 2 to %d strings", i, GT_PREF_MAX_ANSWERS);
    for (size_t k = 0; k < na; k++)
        if (!json_is_string(json_array_get(ans, k)) || !json_string_length(json_array_get(ans, k)) ||
            json_string_length(json_array_get(ans, k)) > GT_LABEL_ANSWER_MAX)
            return gt_err_set(err, GT_EINVAL, "items[%zu].answers[%zu]: expected a non-empty string, up to %d bytes",
                              i, k, GT_LABEL_ANSWER_MAX);
    return item_gold(g, i, na, ranking, p, err);
}

/* Reads and checks the items file into p (borrowing from *root). */
static int read_items(const gt_label_opts *o, json_t **root, post_items *p, gt_err *err) {
    uint8_t *data = NULL;
    size_t len = 0;
    if (gt_file_read(o->file, LABEL_ITEMS_FILE_MAX, &data, &len, err)) return err->code;
    json_error_t je;
    *root = json_loadb((const char *)data, len, 0, &je);
    free(data);
    if (!*root) return gt_err_set(err, GT_EINVAL, "%s: not JSON: %s (line %d)", o->file, je.text, je.line);
    const json_t *items = json_object_get(*root, "items");
    p->name = json_string_value(json_object_get(*root, "name"));
    p->n = json_array_size(items);
    if (!p->name || !*p->name) return gt_err_set(err, GT_EINVAL, "%s: expected \"name\": a string", o->file);
    if (p->n < 2 || p->n > GT_LABEL_MAX_ITEMS)
        return gt_err_set(err, GT_EINVAL, "%s: expected \"items\": 2 to %d items", o->file, GT_LABEL_MAX_ITEMS);
    size_t gold = 0;
    int answers[GT_LABEL_MAX_ITEMS], parsed[GT_LABEL_MAX_ITEMS];
    for (size_t i = 0; i < p->n; i++) {
        p->item[i] = json_array_get(items, i);
        if (check_item(p->item[i], i, o->ranking, p, err)) return err->code;
        answers[i] = (int)json_array_size(json_object_get(p->item[i], "answers"));
    }
    char *canon = json_dumps(items, JSON_COMPACT | JSON_SORT_KEYS);
    if (!canon) return gt_err_set(err, GT_ENOMEM, "out of memory");
    uint8_t h[32];
    gt_sha256(canon, strlen(canon), h);
    free(canon);
    gt_hex_encode(h, 32, p->items_hex);
    if (gt_fund_label_gold_parse(p->gold, p->gold_len, o->ranking, answers, p->n, parsed, &gold, err))
        return gt_err_wrap(err, "%s", o->file);
    if (gold < o->min_gold || gold == p->n)
        return gt_err_set(err, GT_EINVAL, "%s: %zu gold items: expected at least --min-gold %llu and one plain item",
                          o->file, gold, (unsigned long long)o->min_gold);
    return 0;
}

/* The task's JSON from the node (a new reference) or NULL. */
static json_t *task_get(gt_client *c, const gt_label_opts *o, gt_err *err) {
    char path[160];
    snprintf(path, sizeof path, "/v1/label/tasks/%s", o->pos);
    json_t *j = NULL;
    return gt_client_get_json(c, path, &j, err) ? NULL : j;
}

/* What keep_gold saves before the post is sent, and where it put it. */
typedef struct gold_keep {
    const gt_label_opts *o;
    const char *gold, *items_hex;
    char salt_hex[67], path[640];
    uint8_t task[32];
} gold_keep;

/* The post's keep hook: saves the gold's opening (HOME/labels/<task>.gold.json,
 * atomically) under the signed post's id, the task's, before it is sent.
 * Saved after the answer, an answer lost once the node had applied the post
 * lost the gold: the poster could not open it at close, and the seats were
 * judged with none. A post signed again for its nonce leaves its first
 * file: one file too many costs nothing. */
static int keep_gold(void *arg, const gt_action *a, gt_err *err) {
    gold_keep *k = arg;
    gt_label_opts at = *k->o;
    memcpy(at.task, a->id, 32);
    memcpy(k->task, a->id, 32);
    json_t *g = json_pack("{s:s,s:s,s:s}", "gold", k->gold, "salt", k->salt_hex, "items", k->items_hex);
    int rc = !g ? gt_err_set(err, GT_ENOMEM, "out of memory")
             : gt_label_path(&at, ".gold", NULL, k->path, sizeof k->path, err) || gt_label_save(k->path, g, err)
                 ? err->code
                 : 0;
    json_decref(g);
    return rc ? gt_err_wrap(err, "not posted: its gold must be saved first") : 0;
}

/* Adds items from.. of p to the task; a failure says how to add the rest. */
static int add_items(gt_client *c, const gt_label_opts *o, const gt_key *key, const uint8_t task[32],
                     const post_items *p, size_t from, gt_err *err) {
    char hex[67] = "0x";
    gt_hex_encode(task, 32, hex + 2);
    for (size_t i = from; i < p->n; i++) {
        gt_label_fields it = {0};
        const json_t *ans = json_object_get(p->item[i], "answers");
        memcpy(it.task, task, 32);
        it.prompt = json_string_value(json_object_get(p->item[i], "prompt"));
        it.answers = json_array_size(ans);
        for (size_t k = 0; k < it.answers; k++) it.answer[k] = json_string_value(json_array_get(ans, k));
        if (gt_label_send(c, key, &gt_kind_label_item_add, &it, 1, NULL, err)) {
            fprintf(stderr, "task %s is posted with %zu of its %zu items; add the rest with:\n  gotong label post"
                    " --file %s %s\n", hex, i, p->n, o->file, hex);
            return err->code;
        }
    }
    printf("task %s: %zu items added%s, %llu seats; labellers join with: gotong label join %s\n", hex, p->n - from,
           o->ranking ? " (a ranking task)" : "", (unsigned long long)o->labellers, hex);
    return 0;
}

/* After a post that failed: a refusal (the node did not apply it) takes the
 * saved gold back; a lost answer the ledger could not be asked about (the
 * node gone: GT_EIO), or the node's own failure, keeps it and says how to
 * go on. */
static int post_failed(const gold_keep *k, gt_err *err) {
    if (!k->path[0]) return err->code; /* never sent */
    if (err->code != GT_EIO && err->code != GT_EDB && err->code != GT_ENOMEM) {
        remove(k->path);
        return err->code;
    }
    char hex[67] = "0x";
    gt_hex_encode(k->task, 32, hex + 2);
    fprintf(stderr, "the post's answer was lost and the node could not be asked whether it holds task %s; its gold"
            " is kept in %s.\nOnce `gotong label show %s` finds the task, add its items with:\n  gotong label post"
            " --file %s %s\n", hex, k->path, hex, k->o->file, hex);
    return err->code;
}

/* Whether the task whose gold is saved in `name` (HOME/labels/<task>.gold.json)
 * was posted with these items and lacks some of them: then GT_EEXIST, and
 * err names the command that adds them. A task the node does not hold (a
 * post never applied) or holds whole is no reason to refuse. */
static int saved_cut_short(gt_client *c, const gt_label_opts *o, const post_items *p, const char *dir, const char *name,
                           gt_err *err) {
    char path[1024], pos[67] = "0x";
    if (strlen(name) != 64 + strlen(".gold.json") || strcmp(name + 64, ".gold.json")) return 0;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    gt_err ignored;
    json_t *g = gt_label_load_saved(path, &ignored);
    const char *items = json_string_value(json_object_get(g, "items")); /* NULL: another file, or saved before */
    int same = items && !strcmp(items, p->items_hex);
    json_decref(g);
    if (!same) return 0;
    memcpy(pos + 2, name, 64);
    pos[66] = 0;
    gt_label_opts at = *o;
    at.pos = pos;
    json_t *t = task_get(c, &at, &ignored);
    json_int_t added = json_integer_value(json_object_get(t, "itemsAdded"));
    int cut = t && added < json_integer_value(json_object_get(t, "items"));
    json_decref(t);
    if (!cut) return 0;
    return gt_err_set(err, GT_EEXIST, "%s: these items were posted as task %s, which holds %lld of its %zu items (its "
                      "post was cut short); add the rest with:\n  gotong label post --file %s %s\n(or, to post them "
                      "as a new task all the same, remove %s first)", o->file, pos, (long long)added, p->n, o->file,
                      pos, path);
}

/* Refuses to post items whose earlier post from this home was cut short
 * (HOME/labels holds its gold, the node the task without all its items):
 * posting again would escrow a second task's pay for the same items. */
static int refuse_cut_short(gt_client *c, const gt_label_opts *o, const post_items *p, gt_err *err) {
    char home[512], dir[600];
    if (gt_cli_home(o->home, home, sizeof home, err)) return err->code;
    snprintf(dir, sizeof dir, "%s/labels", home);
    DIR *d = opendir(dir);
    if (!d) return 0; /* nothing saved */
    int rc = 0;
    for (struct dirent *e; !rc && (e = readdir(d));) rc = saved_cut_short(c, o, p, dir, e->d_name, err);
    closedir(d);
    return rc;
}

/* Sends the task, its gold saved first, and its items. */
static int post_send(gt_client *c, const gt_label_opts *o, const gt_key *key, const post_items *p, gt_err *err) {
    gt_label_fields f = {0};
    gold_keep k = {.o = o, .gold = p->gold, .items_hex = p->items_hex, .salt_hex = "0x"};
    if (refuse_cut_short(c, o, p, err)) return err->code;
    uint64_t now;
    if (gt_label_now_s(c, &now, err) || gt_label_random32(f.salt, err)) return err->code;
    gt_hex_encode(f.salt, 32, k.salt_hex + 2);
    gt_fund_label_gold_commit(f.salt, p->gold, p->gold_len, f.gold_commit);
    f.name = p->name, f.items = p->n, f.labellers = o->labellers, f.pay = o->pay;
    f.bond = o->bond ? o->bond : o->pay * p->n;
    f.gold_bar = o->gold_bar, f.min_gold = o->min_gold, f.min_labels = o->min_labels;
    f.commit_end = now + o->commit_window_s, f.reveal_end = f.commit_end + o->reveal_window_s;
    f.keep = keep_gold, f.keep_arg = &k;
    if (gt_label_send(c, key, o->ranking ? &gt_kind_label_rank_post : &gt_kind_label_task_post, &f, 0, NULL, err))
        return post_failed(&k, err);
    return add_items(c, o, key, k.task, p, 0, err);
}

/* `label post --file ITEMS.json 0xTASK`: adds the items that a task this
 * home posted lacks (a post cut short after the task landed). The gold
 * saved for it must be this file's: it shows this home made the post, and
 * another file's items would not be the ones its gold describes. */
static int post_resume(gt_client *c, const gt_label_opts *o, const gt_key *key, const post_items *p, gt_err *err) {
    char path[640];
    if (gt_label_path(o, ".gold", NULL, path, sizeof path, err)) return err->code;
    json_t *g = gt_label_load_saved(path, err), *t = g ? task_get(c, o, err) : NULL;
    const char *gold = json_string_value(json_object_get(g, "gold"));
    json_int_t added = json_integer_value(json_object_get(t, "itemsAdded"));
    int rc = !t      ? err->code
             : !gold ? gt_err_set(err, GT_ENOTFOUND, "no gold saved for this task in %s: it was not posted from this"
                                  " home", path)
             : strcmp(gold, p->gold) || json_integer_value(json_object_get(t, "items")) != (json_int_t)p->n ||
                     added < 0 || (size_t)added > p->n
                 ? gt_err_set(err, GT_EINVAL, "%s: not the items this task was posted with (its gold or its"
                              " number of items differ)", o->file)
                 : 0;
    json_decref(g);
    json_decref(t);
    return rc ? rc : add_items(c, o, key, o->task, p, (size_t)added, err);
}

int gt_label_post(gt_client *c, const gt_label_opts *o) {
    if (!o->file) return gt_cli_usage_error("label", "post: give --file ITEMS.json");
    gt_err err = {0};
    json_t *root = NULL;
    post_items p;
    memset(&p, 0, sizeof p);
    gt_key key;
    if (read_items(o, &root, &p, &err) || gt_cli_load_key(o->home, o->from, o->password_file, &key, NULL, &err)) {
        json_decref(root);
        return gt_cli_fail(&err);
    }
    int rc = o->have_task ? post_resume(c, o, &key, &p, &err) : post_send(c, o, &key, &p, &err);
    gt_key_wipe(&key);
    json_decref(root);
    return rc ? gt_cli_fail(&err) : 0;
}

/* Prints a closed task's outcome. */
static void print_outcome(const json_t *t) {
    const json_t *a = json_object_get(t, "alphaPpm"), *k = json_object_get(t, "kappaPpm");
#define N(key) (long long)json_integer_value(json_object_get(t, key))
    printf("%s: %lld accepted, %lld careless, %lld incomplete; %lld of %lld items labelled, %lld DPO lines\n",
           json_string_value(json_object_get(t, "status")), N("accepted"), N("careless"), N("incomplete"),
           N("labelled"), N("items"), N("exportLines"));
    printf("alpha %s%lld ppm, kappa %s%lld ppm; DPO root %s\n", json_is_integer(a) ? "" : "(none) ",
           (long long)json_integer_value(a), json_is_integer(k) ? "" : "(none) ", (long long)json_integer_value(k),
           json_string_value(json_object_get(t, "dpoRoot")));
#undef N
}

int gt_label_close(gt_client *c, const gt_label_opts *o) {
    if (!o->have_task) return gt_cli_usage_error("label", "close: give the task's id (0x and 64 hex digits)");
    gt_err err = {0};
    gt_key key;
    char path[640];
    gt_label_fields f = {0};
    memcpy(f.task, o->task, 32);
    f.gold = "";
    if (gt_label_path(o, ".gold", NULL, path, sizeof path, &err)) return gt_cli_fail(&err);
    json_t *g = gt_label_load_saved(path, &err);
    if (!g) return gt_cli_fail(&err);
    const char *salt = json_string_value(json_object_get(g, "salt"));
    if (json_is_string(json_object_get(g, "gold")) && salt && !strncmp(salt, "0x", 2) &&
        !gt_hex_decode(salt, f.salt, 32, "salt", NULL))
        f.gold = json_string_value(json_object_get(g, "gold"));
    else
        printf("no saved gold for this task in %s: closing by rule (gold \"\")\n", path);
    int rc = gt_cli_load_key(o->home, o->from, o->password_file, &key, NULL, &err);
    if (!rc) rc = gt_label_send(c, &key, &gt_kind_label_task_close, &f, 0, NULL, &err), gt_key_wipe(&key);
    json_decref(g);
    json_t *t = rc ? NULL : task_get(c, o, &err);
    if (!t) return gt_cli_fail(&err);
    print_outcome(t);
    json_decref(t);
    return 0;
}

/* A gold or label of the node's JSON: null (none), an answer's index, or on
 * a ranking task the order's digits ("021") read as a rank code; -2 when it
 * is none of these for an item of na answers. */
static int label_of(const json_t *v, int ranking, int na) {
    if (json_is_null(v) || !v) return GT_AGREE_MISSING;
    if (!ranking) return json_is_integer(v) && json_integer_value(v) >= 0 && json_integer_value(v) < na
                             ? (int)json_integer_value(v)
                             : -2;
    const char *s = json_string_value(v);
    int order[GT_PREF_MAX_ANSWERS], code = 0;
    if (!s || json_string_length(v) != (size_t)na) return -2;
    for (int p = 0; p < na; p++) {
        if (s[p] < '0' || s[p] > '9') return -2;
        code = code * 10 + (s[p] - '0');
    }
    return gt_rank_decode((uint64_t)code, na, order, &(gt_err){0}) ? -2 : code;
}

/* Rebuilds format's lines from the task's items into out and checks their
 * root against the one the ledger recorded (root_key of t). */
static int rebuild(const json_t *t, gt_pref_format format, const char *root_key, gt_buf *out, gt_err *err) {
    const json_t *list = json_object_get(t, "itemList");
    size_t n = json_array_size(list);
    int ranking = json_is_true(json_object_get(t, "ranking"));
    gt_pref_item items[GT_LABEL_MAX_ITEMS];
    int label[GT_LABEL_MAX_ITEMS];
    if (n > GT_LABEL_MAX_ITEMS) return gt_err_set(err, GT_EIO, "the node sent %zu items", n);
    for (size_t i = 0; i < n; i++) {
        const json_t *it = json_array_get(list, i), *ans = json_object_get(it, "answers");
        const json_t *g = json_object_get(it, "gold"), *l = json_object_get(it, "label");
        memset(&items[i], 0, sizeof items[i]);
        items[i].prompt = json_string_value(json_object_get(it, "prompt"));
        items[i].n_answers = (int)json_array_size(ans);
        if (!items[i].prompt || items[i].n_answers < 2 || items[i].n_answers > GT_PREF_MAX_ANSWERS)
            return gt_err_set(err, GT_EIO, "the node sent a bad item %zu", i);
        items[i].gold = label_of(g, ranking, items[i].n_answers);
        label[i] = label_of(l, ranking, items[i].n_answers);
        if (items[i].gold == -2 || label[i] == -2)
            return gt_err_set(err, GT_EIO, "the node sent a bad gold or label for item %zu", i);
        for (int k = 0; k < items[i].n_answers; k++) items[i].answer[k] = json_string_value(json_array_get(ans, k));
        for (int k = 0; k < items[i].n_answers; k++)
            if (!items[i].answer[k]) return gt_err_set(err, GT_EIO, "the node sent a bad item %zu", i);
    }
    gt_pref_tally tl;
    memset(&tl, 0, sizeof tl);
    tl.label = label;
    uint8_t got[32], want[32];
    uint64_t lines;
    const char *w = json_string_value(json_object_get(t, root_key));
    if (!w || strncmp(w, "0x", 2) || gt_hex_decode(w, want, 32, root_key, err))
        return gt_err_set(err, GT_EIO, "the node sent no %s", root_key);
    if ((ranking ? gt_rank_export : gt_pref_export)(items, n, &tl, format, out, err) ||
        gt_fund_label_lines_root(out, got, &lines, err))
        return err->code;
    if (memcmp(got, want, 32))
        return gt_err_set(err, GT_EIO, "the node's items do not give the %s recorded on the ledger: refused",
                          root_key);
    return 0;
}

int gt_label_export(gt_client *c, const gt_label_opts *o) {
    if (!o->have_task) return gt_cli_usage_error("label", "export: give the task's id (0x and 64 hex digits)");
    int card = !strcmp(o->format, "card"), hh = !strcmp(o->format, "hh");
    if (!card && !hh && strcmp(o->format, "dpo"))
        return gt_cli_usage_error("label", "--format: expected dpo, hh or card, got \"%.32s\"", o->format);
    gt_err err = {0};
    gt_buf b = GT_BUF_INIT;
    json_t *t = task_get(c, o, &err);
    int rc = !t ? err.code
             : !json_is_string(json_object_get(t, "dpoRoot"))
                 ? gt_err_set(&err, GT_ESTATE, "the task is %s: its export exists once it is closed",
                              json_string_value(json_object_get(t, "status")))
             : card ? gt_fund_label_card_json(t, &b, &err)
                    : rebuild(t, hh ? GT_PREF_HH : GT_PREF_DPO, hh ? "hhRoot" : "dpoRoot", &b, &err);
    json_decref(t);
    if (!rc && o->out) rc = gt_file_write_atomic(o->out, b.data ? (const void *)b.data : "", b.len, 0644, &err);
    if (!rc && !o->out && b.len && fwrite(b.data, 1, b.len, stdout) != b.len)
        rc = gt_err_set(&err, GT_EIO, "writing the export to stdout");
    if (!rc && o->out) fprintf(stderr, "wrote %zu bytes to %s\n", b.len, o->out);
    gt_buf_free(&b);
    return rc ? gt_cli_fail(&err) : 0;
}
