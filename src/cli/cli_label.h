/* cli_label.h: what the parts of `gotong label` share (cli_label.c: options
 * and sending; cli_label_tui.c: labelling and revealing; cli_label_post.c:
 * the poster's post and close, and the export). */
#ifndef GT_CLI_LABEL_H
#define GT_CLI_LABEL_H

#include <jansson.h>
#include <stdint.h>

#include "agent/client.h"
#include "fund/label.h"

typedef struct gt_label_opts {
    const char *home, *node, *from, *password_file, *file, *format, *out, *pos;
    uint64_t labellers, pay, bond, gold_bar, min_gold, min_labels, commit_window_s, reveal_window_s;
    uint64_t min_window_s, max_bond; /* join: the shortest windows and the largest bond a labeller accepts */
    int json, have_task, ranking;
    uint8_t task[32];
} gt_label_opts;

/* The fields of the label action being sent (each set when the kind has it). */
typedef struct gt_label_fields {
    uint8_t task[32], commitment[32], salt[32], gold_commit[32];
    uint64_t items, labellers, pay, bond, gold_bar, min_gold, min_labels, commit_end, reveal_end, answers, item,
        choice;
    const char *name, *prompt, *reason, *gold, *answer[GT_PREF_MAX_ANSWERS];
    gt_client_keep_fn keep; /* called with the signed action before each send (may be NULL) */
    void *keep_arg;
} gt_label_fields;

/* Signs f as kind with key and submits it; prints "kind 0x.. applied in
 * block N" unless quiet; the action's id into id_out (may be NULL). */
int gt_label_send(gt_client *c, const gt_key *key, const gt_action_kind *kind, gt_label_fields *f, int quiet,
                  uint8_t id_out[32], gt_err *err);
int gt_label_random32(uint8_t out[32], gt_err *err);
/* The time the node's next block will carry, as near as the CLI can tell:
 * the later of this machine's clock and the head block's time. A node
 * stamps a block with the later of its clock and the head's time
 * (ledger.h), and an idle network's head can be hours old: a deadline
 * counted from the head had passed when the post landed, and a window
 * left counted from it looked longer than it was. */
int gt_label_now_s(gt_client *c, uint64_t *now_s, gt_err *err);
/* HOME/labels/<task hex>-<who>.json (a labeller's saved labels) or, with
 * who NULL, HOME/labels/<task hex><what>.json (".gold": the poster's gold);
 * creates HOME/labels (0700). */
int gt_label_path(const gt_label_opts *o, const char *what, const gt_addr *who, char *out, size_t cap, gt_err *err);
/* The saved JSON object at path (an empty one when there is no file). */
json_t *gt_label_load_saved(const char *path, gt_err *err);
/* Writes j to path atomically, mode 0600 (salts are secrets until revealed). */
int gt_label_save(const char *path, const json_t *j, gt_err *err);

/* The subcommands (exit codes). */
int gt_label_tui(gt_client *c, const gt_label_opts *o);
int gt_label_reveal(gt_client *c, const gt_label_opts *o);
int gt_label_post(gt_client *c, const gt_label_opts *o);
int gt_label_close(gt_client *c, const gt_label_opts *o);
int gt_label_export(gt_client *c, const gt_label_opts *o);

#endif
