/* export.h: a data job's accepted samples as a dataset directory anyone can
 * check:
 *   data.jsonl        one row per accepted sample, compact JSON, keys sorted:
 *                     id, prompt, completion, contributor, model (+ family,
 *                     question, reference for procedural jobs)
 *   README.md         dataset card with the YAML header the Hugging Face hub
 *                     reads (license, pretty_name, size_categories,
 *                     task_categories, configs/data_files, dataset_info
 *                     features and splits)
 *   provenance.json   the job, the Merkle root, and per sample: contributor,
 *                     model id, seed, validators' verdicts, the row's leaf
 *                     hash and its Merkle proof
 * The Merkle root is over keccak256 of each data.jsonl line (without its
 * newline), in file order, as crypto/merkle.h builds it (OpenZeppelin
 * compatible), so a copy is checked by recomputing it (gt_dataset_verify)
 * and comparing with the root recorded on the ledger.
 *
 * No row is GT_DATASET_NODE_BYTES long. The tree hashes a leaf from the
 * line's bytes and an inner node from the 64 bytes of its two children,
 * with no prefix to tell them apart, so a 64-byte line holding the sorted
 * hashes of two nodes has the hash of their parent: a data.jsonl of that
 * one line (or of such lines in place of any subtrees) has the same root as
 * the rows it replaces, fewer rows and none of their data (a second
 * preimage). With no 64-byte line, leaves and inner nodes are hashed from
 * inputs of different lengths and the root commits to the rows and their
 * number (a row names a 42-character address, so an export's rows are far
 * longer; OpenZeppelin's MerkleProof documents the same rule for leaves).
 * The tree is kept as it is: roots already on ledgers stay valid, and the
 * airdrop trees that share it stay OpenZeppelin's (their leaves are 84
 * bytes). Sorted pairs also let sibling rows swap under the same root, so
 * gt_dataset_verify pins each row to the leaf hash provenance.json lists at
 * its place. */
#ifndef GT_WORK_EXPORT_H
#define GT_WORK_EXPORT_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "work/data/job.h"
#include "work/data/pipeline.h"

#define GT_DATASET_MAX_ROWS (1u << 24) /* the Merkle tree's leaf limit */
#define GT_DATASET_NODE_BYTES 64       /* the length no row may have: an inner node's preimage (above) */
/* gt_dataset_verify reads data.jsonl in pieces of this many bytes, hashing
 * each line as its pieces come: no bound on a line's length, and memory is
 * 32 bytes a row plus one piece, whatever the file's size. */
#define GT_DATASET_READ_BYTES (64 * 1024)

/* The dataset row of an accepted sample (compact, sorted keys); caller frees
 * with free(). NULL when out of memory, or when the sample's family item
 * cannot be drawn (gt_job_item; never so for a sample validation accepted). */
char *gt_dataset_row(const gt_job_spec *spec, const gt_sample *s);

/* A stored record of a validated sample: its JSON line plus "verdicts"
 * ({stage: "pass"|"fail"|"skipped"}), "judge_score" and "accepted". */
json_t *gt_sample_record(const gt_sample *s);
/* Reads back the verdicts of a record into s (s's text fields are set by
 * the caller from the same object through gt_batch_parse of its line). */
int gt_sample_record_verdicts(const json_t *rec, gt_sample *s, gt_err *err);

/* Writes the three files into dir (created) for samples[0..n) (all
 * accepted) and returns the Merkle root. */
int gt_dataset_export(const gt_job_spec *spec, const gt_sample *samples, size_t n, const char *dir,
                      uint8_t root[32], gt_err *err);

/* Re-reads dir/data.jsonl (in pieces of GT_DATASET_READ_BYTES, never held
 * whole; provenance.json is read whole), recomputes the root and compares
 * it with provenance.json's (and with `expect` when not NULL); refuses a line of
 * GT_DATASET_NODE_BYTES, a row count other than provenance.json's, and a
 * row whose leaf is not the hash provenance.json lists at its place. *rows
 * gets the count. `manifest`, when not NULL, is the sha256 the ledger
 * records for provenance.json (dataset_publish's manifest), and a
 * provenance.json of other bytes is refused: without it the order check
 * and every row's provenance are only what the copy's own provenance.json
 * says, which whoever made the copy can rewrite (rows swapped under the
 * same root, hashes listed to match). A copy checked against a ledger
 * passes both its root and its manifest. */
int gt_dataset_verify(const char *dir, const uint8_t *expect, const uint8_t *manifest, uint8_t root[32], size_t *rows,
                      gt_err *err);

#endif
