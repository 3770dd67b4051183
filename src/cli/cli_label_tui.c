/* cli_label_tui.c: labelling a task's items by hand (`gotong label 0xTASK`)
 * and revealing the labels (`gotong label reveal 0xTASK`).
 *
 * On a terminal the screen shows one item at a time and reads single keys in
 * raw mode (termios; restored on every way out, Ctrl-C included, since the
 * terminal's own signal keys are off and read as keys); when stdin is not a
 * terminal it reads one line per item, "N [reason]" or "q", which is what
 * scripts and the tests drive. Each label is committed as a hash
 * (label.h) signed by the wallet; the choice, the reason and the salt are
 * saved (mode 0600) before the commit is sent, so an interrupted run never
 * loses the opening of a committed label. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "base/hex.h"
#include "cli/cli.h"
#include "cli/cli_label.h"
#include "crypto/addr.h"
#include "crypto/keystore.h"
#include "work/label/rank.h"

#define LABEL_LINE_MAX 1024 /* one line of the plain mode */

enum { PICK_OK = 0, PICK_QUIT = 1 };

/* Reads one key in raw mode (no echo, no line buffering, no signals). */
static int read_key(void) {
    struct termios saved, raw;
    if (tcgetattr(STDIN_FILENO, &saved)) return -1;
    raw = saved;
    raw.c_lflag &= ~(tcflag_t)(ICANON | ECHO | ISIG | IEXTEN);
    raw.c_iflag &= ~(tcflag_t)(IXON | ICRNL);
    raw.c_cc[VMIN] = 1, raw.c_cc[VTIME] = 0;
    if (tcsetattr(STDIN_FILENO, TCSAFLUSH, &raw)) return -1;
    unsigned char ch = 0;
    ssize_t n = read(STDIN_FILENO, &ch, 1);
    tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved);
    return n == 1 ? ch : -1;
}

/* Shows item (the node's JSON) on the screen or as plain lines. */
static void show_item(const json_t *item, long long items, int tty, int ranking) {
    const json_t *ans = json_object_get(item, "answers");
    if (tty) printf("\x1b[2J\x1b[H");
    printf("item %lld of %lld\n\n%s\n\n", (long long)json_integer_value(json_object_get(item, "index")) + 1, items,
           json_string_value(json_object_get(item, "prompt")));
    for (size_t k = 0; k < json_array_size(ans); k++)
        printf("  [%zu] %s\n\n", k + 1, json_string_value(json_array_get(ans, k)));
    size_t n = json_array_size(ans);
    if (ranking && tty)
        printf("keys: the answers 1-%zu from best to worst (the last is implied), q quit\n", n);
    else if (ranking)
        printf("the answers from best to worst (each of 1-%zu once, e.g. %.*s), then an optional reason; q to"
               " quit:\n", n, (int)n, "3142");
    else if (tty)
        printf("keys: 1-%zu choose the best answer, q quit\n", n);
    else
        printf("best answer (1-%zu), then an optional reason; q to quit:\n", n);
    fflush(stdout);
}

/* The rank code of an order typed as answer numbers 1..n, best first: n
 * digits each once, or n-1 (the last answer implied); -1 otherwise. */
static int typed_order(const char *keys, size_t len, int n) {
    int order[GT_PREF_MAX_ANSWERS], seen = 0;
    if (len + 1 < (size_t)n || len > (size_t)n) return -1;
    for (size_t p = 0; p < len; p++) {
        int a = keys[p] - '1';
        if (a < 0 || a >= n || (seen & (1 << a))) return -1;
        seen |= 1 << a, order[p] = a;
    }
    for (int a = 0; len < (size_t)n && a < n; a++)
        if (!(seen & (1 << a))) order[len] = a; /* the one left */
    return (int)gt_rank_encode(order, n);
}

/* What a label says, for messages: "answer 2" or "order 3 1 2". */
static const char *label_text(int ranking, int n, int choice, char out[32]) {
    int order[GT_PREF_MAX_ANSWERS];
    if (!ranking || gt_rank_decode((uint64_t)choice, n, order, &(gt_err){0})) {
        snprintf(out, 32, "answer %d", choice + 1);
        return out;
    }
    int at = snprintf(out, 32, "order");
    for (int p = 0; p < n; p++) at += snprintf(out + at, 32 - (size_t)at, " %d", order[p] + 1);
    return out;
}

/* Reads a line from stdin into buf without its newline; 0, or -1 at EOF. */
static int read_line(char *buf, size_t cap) {
    if (!fgets(buf, (int)cap, stdin)) return -1;
    size_t n = strlen(buf);
    if (n && buf[n - 1] != '\n' && !feof(stdin)) { /* over the line limit: drop the rest */
        int ch;
        while ((ch = getchar()) != EOF && ch != '\n') {}
        buf[0] = 0;
        return 0;
    }
    while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r')) buf[--n] = 0;
    return 0;
}

/* The plain mode: "N [reason]" (on a ranking task "ORDER [reason]") or
 * "q"; asks again on anything else. */
static int pick_line(int n, int ranking, int *choice, char *reason, size_t cap) {
    char line[LABEL_LINE_MAX];
    for (;;) {
        if (read_line(line, sizeof line)) return PICK_QUIT;
        char *p = line;
        while (isspace((unsigned char)*p)) p++;
        if (!strcmp(p, "q")) return PICK_QUIT;
        size_t word = strcspn(p, " \t");
        int code = ranking ? typed_order(p, word, n) : word == 1 && *p >= '1' && *p < '1' + n ? *p - '1' : -1;
        if (code >= 0) {
            *choice = code;
            p += word;
            while (isspace((unsigned char)*p)) p++;
            if (strlen(p) < cap) {
                snprintf(reason, cap, "%s", p);
                return PICK_OK;
            }
            printf("the reason is over %zu bytes; shorten it:\n", cap - 1);
        } else if (ranking) {
            printf("expected the answers 1-%d from best to worst, each once (e.g. %.*s), then an optional reason,"
                   " or q; got \"%.40s\"\n", n, n, "3142", p);
        } else {
            printf("expected the number of the best answer (1-%d), then an optional reason, or q; got \"%.40s\"\n",
                   n, p);
        }
        fflush(stdout);
    }
}

/* The terminal mode: a key 1-n (on a ranking task the answers best first,
 * each once, until one is left) or q, then the reason as a line. */
static int pick_tty(int n, int ranking, int *choice, char *reason, size_t cap) {
    char keys[GT_PREF_MAX_ANSWERS];
    size_t got = 0, want = ranking ? (size_t)n - 1 : 1;
    while (got < want) {
        int k = read_key();
        if (k < 0 || k == 'q' || k == 3 || k == 4) return PICK_QUIT; /* EOF, q, Ctrl-C, Ctrl-D */
        if (k >= '1' && k < '1' + n && !memchr(keys, k, got)) {
            keys[got++] = (char)k;
            if (ranking) printf("%c ", k);
        } else {
            printf("\a");
        }
        fflush(stdout);
    }
    *choice = ranking ? typed_order(keys, got, n) : keys[0] - '1';
    char said[32];
    printf("%s%s. reason (optional, Enter to skip): ", ranking ? "\n" : "", label_text(ranking, n, *choice, said));
    fflush(stdout);
    char line[LABEL_LINE_MAX];
    if (read_line(line, sizeof line)) line[0] = 0;
    if (strlen(line) >= cap) line[cap - 1] = 0; /* a terminal user is told below */
    snprintf(reason, cap, "%s", line);
    return PICK_OK;
}

/* The node's next item for who in the task (a new reference), or NULL. */
static json_t *next_item(gt_client *c, const gt_label_opts *o, const gt_addr *who, gt_err *err) {
    char path[200], a[43];
    gt_addr_to_str(who, a);
    snprintf(path, sizeof path, "/v1/label/tasks/%s/next?address=%s", o->pos, a);
    json_t *j = NULL;
    return gt_client_get_json(c, path, &j, err) ? NULL : j;
}

/* What the ledger holds for who's label of item (GET .../labels): 1 the
 * commitment mine, 0 none, -1 another one or no answer. */
static int ledger_holds(gt_client *c, const gt_label_opts *o, const gt_addr *who, uint64_t item,
                        const uint8_t mine[32]) {
    char path[200];
    json_t *j = NULL, *l;
    size_t i;
    int held = 0;
    gt_err ignored = {0};
    snprintf(path, sizeof path, "/v1/label/tasks/%s/labels", o->pos);
    if (gt_client_get_json(c, path, &j, &ignored)) return -1;
    json_array_foreach(json_object_get(j, "labels"), i, l) {
        gt_addr a;
        uint8_t h[32];
        const char *addr = json_string_value(json_object_get(l, "labeller"));
        const char *hex = json_string_value(json_object_get(l, "commitment"));
        if (json_integer_value(json_object_get(l, "item")) != (json_int_t)item || !addr ||
            gt_addr_parse(addr, &a, &ignored) || !gt_addr_eq(&a, who))
            continue;
        held = hex && !strncmp(hex, "0x", 2) && !gt_hex_decode(hex, h, 32, "commitment", &ignored) &&
                       !memcmp(h, mine, 32)
                   ? 1
                   : -1;
    }
    json_decref(j);
    return held;
}

/* Commits one label: saves its opening under the item's index, then sends
 * the commitment. When sending fails the ledger is asked what it holds: an
 * answer lost after the node applied the commit (a dropped connection, a
 * timeout; libcurl's resend on a fresh connection then reads "already
 * labelled") must not throw the opening away -- it is the only way to
 * reveal that item, and a seat that cannot reveal one loses its bond. The
 * saved entry is taken back only when the ledger holds no label there. */
static int commit_one(gt_client *c, const gt_label_opts *o, const gt_key *key, const gt_addr *who, json_t *saved,
                      const char *path, uint64_t item, int choice, const char *reason, gt_err *err) {
    gt_label_fields f = {0};
    char idx[24], salt_hex[67] = "0x";
    memcpy(f.task, o->task, 32);
    f.item = item;
    if (gt_label_random32(f.salt, err)) return err->code;
    gt_fund_label_commitment(o->task, item, who, (uint64_t)choice, reason, strlen(reason), f.salt, f.commitment);
    gt_hex_encode(f.salt, 32, salt_hex + 2);
    snprintf(idx, sizeof idx, "%llu", (unsigned long long)item);
    json_object_set_new(saved, idx, json_pack("{s:i,s:s,s:s}", "choice", choice, "reason", reason, "salt", salt_hex));
    int rc = gt_label_save(path, saved, err);
    if (rc || !(rc = gt_label_send(c, key, &gt_kind_label_commit, &f, 1, NULL, err))) return rc;
    int held = ledger_holds(c, o, who, item, f.commitment);
    if (held == 1) return 0; /* committed: only the answer was lost */
    if (held == 0) {
        gt_err ignored = {0};
        json_object_del(saved, idx);
        gt_label_save(path, saved, &ignored);
        return rc;
    }
    return gt_err_wrap(err, "item %llu: the label may be committed; its opening stays in %s",
                       (unsigned long long)item + 1, path);
}

/* The labelling loop: the node's next item, a choice, a commit; until the
 * node has nothing more for this address or the person quits. */
static int label_loop(gt_client *c, const gt_label_opts *o, const gt_key *key, const gt_addr *who, json_t *saved,
                      const char *path, int *labelled, gt_err *err) {
    int tty = isatty(STDIN_FILENO) && isatty(STDOUT_FILENO);
    for (;;) {
        json_t *n = next_item(c, o, who, err);
        if (!n) return err->code;
        if (json_is_true(json_object_get(n, "done"))) {
            printf("nothing (more) to label here: %s\n", json_string_value(json_object_get(n, "why")));
            json_decref(n);
            return 0;
        }
        const json_t *item = json_object_get(n, "item");
        int n_ans = (int)json_array_size(json_object_get(item, "answers")), choice = 0;
        int ranking = json_is_true(json_object_get(n, "ranking"));
        uint64_t idx = (uint64_t)json_integer_value(json_object_get(item, "index"));
        char reason[GT_LABEL_REASON_MAX + 1];
        show_item(item, (long long)json_integer_value(json_object_get(n, "items")), tty, ranking);
        json_decref(n);
        if (n_ans < 2 || n_ans > GT_PREF_MAX_ANSWERS) return gt_err_set(err, GT_EIO, "the node sent a bad item");
        int pick = tty ? pick_tty(n_ans, ranking, &choice, reason, sizeof reason)
                       : pick_line(n_ans, ranking, &choice, reason, sizeof reason);
        if (pick == PICK_QUIT) {
            printf("stopped; %d labelled in this run\n", *labelled);
            return 0;
        }
        int rc = commit_one(c, o, key, who, saved, path, idx, choice, reason, err);
        if (rc) return rc;
        (*labelled)++;
        char said[32];
        printf("item %llu: %s committed (it stays secret until you reveal it)\n", (unsigned long long)idx + 1,
               label_text(ranking, n_ans, choice, said));
    }
}

int gt_label_tui(gt_client *c, const gt_label_opts *o) {
    gt_err err = {0};
    gt_key key;
    gt_addr who;
    char path[640];
    if (gt_cli_load_key(o->home, o->from, o->password_file, &key, &who, &err) ||
        gt_label_path(o, NULL, &who, path, sizeof path, &err))
        return gt_cli_fail(&err);
    json_t *saved = gt_label_load_saved(path, &err);
    int labelled = 0;
    int rc = saved ? label_loop(c, o, &key, &who, saved, path, &labelled, &err) : err.code;
    gt_key_wipe(&key);
    json_decref(saved);
    if (rc) return gt_cli_fail(&err);
    if (labelled) printf("saved in %s; reveal with: gotong label reveal %s\n", path, o->pos);
    return 0;
}

/* Reveals one saved label (its entry in the saved object). */
static int reveal_one(gt_client *c, const gt_label_opts *o, const gt_key *key, const char *idx, const json_t *e,
                      gt_err *err) {
    gt_label_fields f = {0};
    const char *salt = json_string_value(json_object_get(e, "salt"));
    memcpy(f.task, o->task, 32);
    f.item = strtoull(idx, NULL, 10);
    f.choice = (uint64_t)json_integer_value(json_object_get(e, "choice"));
    f.reason = json_string_value(json_object_get(e, "reason"));
    if (!salt || !f.reason || strncmp(salt, "0x", 2) || gt_hex_decode(salt, f.salt, 32, "salt", err))
        return gt_err_set(err, GT_EINVAL, "the saved label of item %s is damaged", idx);
    return gt_label_send(c, key, &gt_kind_label_reveal, &f, 1, NULL, err);
}

int gt_label_reveal(gt_client *c, const gt_label_opts *o) {
    if (!o->have_task) return gt_cli_usage_error("label", "reveal: give the task's id (0x and 64 hex digits)");
    gt_err err = {0};
    gt_key key;
    gt_addr who;
    char path[640];
    if (gt_cli_load_key(o->home, o->from, o->password_file, &key, &who, &err) ||
        gt_label_path(o, NULL, &who, path, sizeof path, &err))
        return gt_cli_fail(&err);
    json_t *saved = gt_label_load_saved(path, &err), *e;
    const char *idx;
    int done = 0, failed = 0;
    if (saved)
        json_object_foreach(saved, idx, e) {
            gt_err one = {0};
            if (!reveal_one(c, o, &key, idx, e, &one) || strstr(one.msg, "already revealed")) {
                done++;
                continue;
            }
            failed++;
            fprintf(stderr, "item %s: %s\n", idx, one.msg);
        }
    gt_key_wipe(&key);
    json_decref(saved);
    if (!saved) return gt_cli_fail(&err);
    printf("%d label(s) revealed, %d refused\n", done, failed);
    return failed ? 1 : 0;
}
