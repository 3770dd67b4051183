/* dataset.h: the rows of a dataset that a data job exported
 * (work/data/export.h: data.jsonl, one compact JSON object per line), read
 * for `gotong train --dataset FILE --root 0x...` only when the file's Merkle
 * root -- keccak256 of each line without its newline, in file order, in the
 * sorted-pair tree of crypto/merkle.h -- is the root the caller expects.
 * Unlike gt_dataset_verify (work/data/export.h) this takes a 64-byte line:
 * a line that stands for a subtree (the 64 bytes of two node hashes) must
 * also parse as an object with "prompt" and "completion" strings, which
 * fixes at least 29 of its 64 bytes (the rest valid UTF-8 text), past any
 * search of keccak's outputs; and a
 * market `train` task names its dataset's bytes by sha256 beside the root.
 * Sibling rows swapped keep the root (sorted pairs): the same rows. */
#ifndef GT_TRAIN_DATASET_H
#define GT_TRAIN_DATASET_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "infer/tokenizer.h"

#define GT_TRAIN_DATASET_MAX_BYTES (256u << 20) /* data.jsonl */
#define GT_TRAIN_DATASET_MAX_FIELD (1u << 20)   /* a prompt or a completion */
#define GT_TRAIN_DATASET_MAX_ROWS (1u << 24)    /* = GT_DATASET_MAX_ROWS (work/data/export.h) */

/* Row i's training text is text[start[i] .. start[i] + len[i]): its prompt
 * (the first plen[i] bytes) followed by its completion. */
typedef struct gt_train_rows {
    uint8_t *text;
    size_t *start, *len, *plen;
    size_t n;
} gt_train_rows;

/* Reads path (a data.jsonl, or a dataset directory holding one), computes
 * its Merkle root over the very bytes it then parses and refuses the file
 * unless it equals root_hex (0x and 64 hex digits); every line must be an
 * object with string fields "prompt" and "completion". Caller frees with
 * gt_train_rows_free. */
int gt_train_rows_read(const char *path, const char *root_hex, gt_train_rows *out, gt_err *err);
/* The same check and parse over data[0..len) already in memory (a blob of
 * the store: a market `train` task's dataset), against the raw root; what
 * names the bytes and root_what the root in messages. */
int gt_train_rows_parse(const uint8_t *data, size_t len, const uint8_t root[32], const char *what,
                        const char *root_what, gt_train_rows *out, gt_err *err);
void gt_train_rows_free(gt_train_rows *r); /* accepts NULL and a zeroed struct */

/* The training tokens of the rows: each row's prompt and completion with BOS
 * and EOS as the vocabulary asks, and an EOS after it when the vocabulary
 * has one and does not add it itself (so the model learns where an answer
 * ends). *ids (caller frees with gt_free) gets *n tokens; what names the
 * rows in messages. */
int gt_train_rows_tokenize(const gt_train_rows *rows, const gt_tokenizer *tok, const char *what, int32_t **ids,
                           size_t *n, gt_err *err);

/* The same, but only the completions are trained on: each row is its
 * prompt (BOS first) and its completion tokenized apart, then EOS, and the
 * prompt's tokens are stored as ~id (negative, GT_TRAIN_MASKED): they are
 * read as inputs but never predicted (gt_train_fill_batch gives them the
 * target -1), so the loss and its gradient are the answers' alone. Refuses
 * a vocabulary that adds EOS by itself (the prompt would end in one). */
int gt_train_rows_tokenize_masked(const gt_train_rows *rows, const gt_tokenizer *tok, const char *what,
                                  int32_t **ids, size_t *n, gt_err *err);
/* A token of a masked stream: id, or ~id when it is never a target. */
#define GT_TRAIN_MASKED(id) (~(int32_t)(id))

/* The tokens of a text file's bytes, line by line (each line with its
 * newline, a BOS first when the vocabulary asks): what `gotong train --data`
 * trains on. */
int gt_train_text_tokenize(const uint8_t *text, size_t len, const gt_tokenizer *tok, const char *what,
                           int32_t **ids, size_t *n, gt_err *err);

#endif
