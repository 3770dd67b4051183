/* cli_train_data.h: the rows of a dataset that a data job exported
 * (work/data/export.h: data.jsonl, one compact JSON object per line), read
 * for `gotong train --dataset FILE --root 0x...` only when the file's Merkle
 * root -- keccak256 of each line without its newline, in file order, in the
 * sorted-pair tree of crypto/merkle.h -- is the root the caller expects. */
#ifndef GT_CLI_TRAIN_DATA_H
#define GT_CLI_TRAIN_DATA_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

#define GT_TRAIN_DATASET_MAX_BYTES (256u << 20) /* data.jsonl */
#define GT_TRAIN_DATASET_MAX_FIELD (1u << 20)   /* a prompt or a completion */

/* Row i's training text is text[start[i] .. start[i] + len[i]): its prompt
 * followed by its completion. */
typedef struct gt_train_rows {
    uint8_t *text;
    size_t *start, *len;
    size_t n;
} gt_train_rows;

/* Reads path (a data.jsonl, or a dataset directory holding one), computes
 * its Merkle root over the very bytes it then parses and refuses the file
 * unless it equals root_hex (0x and 64 hex digits); every line must be an
 * object with string fields "prompt" and "completion". Caller frees with
 * gt_train_rows_free. */
int gt_train_rows_read(const char *path, const char *root_hex, gt_train_rows *out, gt_err *err);
void gt_train_rows_free(gt_train_rows *r); /* accepts NULL and a zeroed struct */

#endif
