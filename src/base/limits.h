/* limits.h: every limit on what comes from outside, in one place, with why.
 * Layers add their own limits here so a reviewer sees them all together. */
#ifndef GT_BASE_LIMITS_H
#define GT_BASE_LIMITS_H

/* JSON bodies: an action is a few hundred bytes; 64 KiB leaves room for agent
 * cards and task specs inlined by reference, not blobs themselves. */
#define GT_LIMIT_JSON_BYTES (64 * 1024)
/* Any single string field of an action (names, URLs, reasons by hash). */
#define GT_LIMIT_FIELD_BYTES 1024
/* Keystore files are ~500 bytes; anything over 16 KiB is not one. */
#define GT_LIMIT_KEYSTORE_BYTES (16 * 1024)
/* Password files and prompts. */
#define GT_LIMIT_PASSWORD_BYTES 1024
/* Blobs (task specs, results): 16 MiB keeps one request in memory comfortably. */
#define GT_LIMIT_BLOB_BYTES (16 * 1024 * 1024)
/* A task's result blob, as the node stores it and every agent fetches it to
 * verify: one number, so a result the node accepted can always be judged
 * (a smaller download limit on the verifier was a way to leave a result
 * with no verdict). */
#define GT_LIMIT_RESULT_BYTES GT_LIMIT_BLOB_BYTES
/* Actions per block: bounds a block's memory and its apply time. */
#define GT_LIMIT_BLOCK_ACTIONS 4096

#endif
